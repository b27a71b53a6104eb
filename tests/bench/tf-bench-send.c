/* tf-bench-send: the benchmark's sender process.
 *
 * tf-bench starts it for every measurement whose receiving process must
 * have its CPU time to itself.  One thread per port: flat out (--fps 0),
 * or paced like a camera.  It ends when every receiver has gone away or
 * after --duration, whichever comes first.
 */
#include "bench.h"

#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct
{
  guint16 port;
  TfbWire wire;
  const TfbSize *size;
  guint fps;
  gint64 start_ns;              /* first frame due */
  gint64 end_ns;
  gboolean failed;
} Stream;

static gpointer
stream_thread (gpointer data)
{
  Stream *s = data;
  GError *err = NULL;
  TfbFrames *fr;
  gint fd;

  fd = tfb_connect (s->port, &err);
  if (fd < 0) {
    g_printerr ("tf-bench-send: %s\n", err->message);
    g_error_free (err);
    s->failed = TRUE;
    return NULL;
  }

  if (s->fps == 0) {
    /* About 1 MiB per write: 4 KiB frames go out 250 at a time. */
    fr = tfb_frames_new (s->wire, s->size, 1024 * 1024);
    tfb_send_flat (fd, fr, s->end_ns);
  } else {
    guint64 i;

    fr = tfb_frames_new (s->wire, s->size, 0);
    for (i = 0;; i++) {
      /* Due at a fixed offset from the start, so a late frame does not
       * push the later ones back. */
      gint64 due = s->start_ns + (gint64) (i * G_GUINT64_CONSTANT (1000000000)
          / s->fps);

      if (due >= s->end_ns)
        break;
      tfb_sleep_until (due);
      if (!tfb_send_frame (fd, fr, i, i == 0, NULL))
        break;
    }
  }
  tfb_frames_free (fr);
  close (fd);
  return NULL;
}

int
main (int argc, char **argv)
{
  gchar *ports = NULL, *wire = NULL, *size = NULL;
  gint fps = 0;
  gdouble duration = 60;
  GOptionEntry entries[] = {
    {"port", 0, 0, G_OPTION_ARG_STRING, &ports,
          "Receiver port(s) on 127.0.0.1, comma-separated: one connection each",
        "P[,P...]"},
    {"wire", 0, 0, G_OPTION_ARG_STRING, &wire, "raw, header or length", "W"},
    {"size", 0, 0, G_OPTION_ARG_STRING, &size, "4k, 300k, 2m or 6m", "S"},
    {"fps", 0, 0, G_OPTION_ARG_INT, &fps,
        "Frames per second per connection, 0 = as fast as possible", "N"},
    {"duration", 0, 0, G_OPTION_ARG_DOUBLE, &duration,
        "Stop after this many seconds at the latest (default 60)", "S"},
    {NULL}
  };
  GOptionContext *ctx;
  GError *err = NULL;
  gchar **port_list;
  GPtrArray *threads;
  Stream *streams;
  TfbWire w = TFB_WIRE_RAW;
  const TfbSize *sz;
  guint i, n;
  gint64 now;
  gint ret = 0;

  setlocale (LC_ALL, "");
  signal (SIGPIPE, SIG_IGN);
  ctx = g_option_context_new ("- tf-bench's frame sender");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("tf-bench-send: %s\n", err->message);
    return 2;
  }
  g_option_context_free (ctx);
  sz = tfb_size_lookup (size);
  if (!ports || !sz || (wire && !tfb_wire_parse (wire, &w)) || fps < 0) {
    g_printerr ("tf-bench-send: need --port, --size 4k|300k|2m|6m, "
        "--wire raw|header|length and --fps >= 0\n");
    return 2;
  }

  port_list = g_strsplit (ports, ",", -1);
  n = g_strv_length (port_list);
  streams = g_new0 (Stream, n);
  threads = g_ptr_array_new ();
  now = tfb_now_ns ();
  for (i = 0; i < n; i++) {
    Stream *s = &streams[i];

    s->port = atoi (port_list[i]);
    s->wire = w;
    s->size = sz;
    s->fps = fps;
    /* Real cameras are not in lockstep: spread their frames over the
     * frame interval rather than bursting all at once. */
    s->start_ns = now + (fps ? (gint64) i * 1000000000 / fps / n : 0);
    s->end_ns = now + (gint64) (duration * 1e9);
    g_ptr_array_add (threads, g_thread_new ("send", stream_thread, s));
  }
  for (i = 0; i < n; i++) {
    g_thread_join (g_ptr_array_index (threads, i));
    if (streams[i].failed)
      ret = 1;
  }
  g_ptr_array_free (threads, TRUE);
  g_strfreev (port_list);
  g_free (streams);
  g_free (ports);
  g_free (wire);
  g_free (size);
  return ret;
}
