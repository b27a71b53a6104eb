/* tf-watch: tcpframesrc embedded in an application.
 *
 *   tf-watch [--host HOST] [--port N] [--timeout-ms MS] [--seconds N]
 *
 * Runs "tcpframesrc ! fakesink" (swap in your own processing), watches the
 * bus and prints one line per event:
 *
 *   listening on 127.0.0.1:5000
 *   connected 127.0.0.1:40112
 *   disconnected 127.0.0.1:40112 reason=timeout frames=10
 *   rejected 127.0.0.1:40114 reason=not-allowed
 *   stopping (SIGINT)
 *
 * With --port 0 the element picks a free port; the first line says which.
 * It runs until SIGINT or SIGTERM, or for --seconds N, and then stops
 * cleanly (exit 0).  Errors on the bus end it with exit 1, bad options
 * with exit 2.  pipelines/embed/tf-watch.py is the same in Python.
 */
#include <gst/gst.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

typedef struct
{
  GMainLoop *loop;
  GstElement *pipeline;
  gint seconds;
  gboolean stopping;
  int status;
} Watch;

static void
stop (Watch * w, const gchar * why)
{
  /* The handlers stay installed, so a second Ctrl-C cannot kill us
   * half-way through stopping; it is only not reported again. */
  if (w->stopping)
    return;
  w->stopping = TRUE;
  g_print ("stopping (%s)\n", why);
  g_main_loop_quit (w->loop);
}

static gboolean
on_sigint (gpointer data)
{
  stop (data, "SIGINT");
  return G_SOURCE_CONTINUE;
}

static gboolean
on_sigterm (gpointer data)
{
  stop (data, "SIGTERM");
  return G_SOURCE_CONTINUE;
}

static gboolean
on_deadline (gpointer data)
{
  Watch *w = data;
  gchar *why = g_strdup_printf ("after %d s", w->seconds);

  stop (w, why);
  g_free (why);
  return G_SOURCE_REMOVE;
}

/* "ADDRESS:PORT", with IPv6 addresses in brackets so the port stays
 * readable. */
static gchar *
address_port (const gchar * address, gint port)
{
  if (address && strchr (address, ':'))
    return g_strdup_printf ("[%s]:%d", address, port);
  return g_strdup_printf ("%s:%d", address ? address : "?", port);
}

static gchar *
peer_string (const GstStructure * s)
{
  gint port = 0;

  gst_structure_get_int (s, "port", &port);
  return address_port (gst_structure_get_string (s, "address"), port);
}

static void
print_peer_event (const GstStructure * s)
{
  const gchar *name = gst_structure_get_name (s);
  const gchar *reason = gst_structure_get_string (s, "reason");
  const gchar *error = gst_structure_get_string (s, "error");
  gchar *peer;
  guint64 frames = 0;

  if (!g_str_has_prefix (name, "tcpframesrc-"))
    return;
  peer = peer_string (s);
  if (gst_structure_has_name (s, "tcpframesrc-connected")) {
    g_print ("connected %s\n", peer);
  } else if (gst_structure_has_name (s, "tcpframesrc-disconnected")) {
    gst_structure_get_uint64 (s, "frames", &frames);
    g_print ("disconnected %s reason=%s frames=%" G_GUINT64_FORMAT "%s%s%s\n",
        peer, reason, frames, error ? " error=\"" : "", error ? error : "",
        error ? "\"" : "");
  } else if (gst_structure_has_name (s, "tcpframesrc-rejected")) {
    g_print ("rejected %s reason=%s%s%s%s\n", peer, reason,
        error ? " error=\"" : "", error ? error : "", error ? "\"" : "");
  }
  g_free (peer);
}

static gboolean
on_bus_message (GstBus * bus, GstMessage * msg, gpointer data)
{
  Watch *w = data;
  GError *err = NULL;
  gchar *debug = NULL;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ELEMENT:
      print_peer_event (gst_message_get_structure (msg));
      break;
    case GST_MESSAGE_WARNING:
      /* A protocol error names the peer here; the stream goes on. */
      gst_message_parse_warning (msg, &err, &debug);
      g_printerr ("tf-watch: warning: %s\n", err->message);
      break;
    case GST_MESSAGE_ERROR:
      gst_message_parse_error (msg, &err, &debug);
      g_printerr ("tf-watch: error: %s\n%s\n", err->message,
          debug ? debug : "");
      w->status = 1;
      g_main_loop_quit (w->loop);
      break;
    case GST_MESSAGE_EOS:
      /* tcpframesrc never ends on its own; only a changed pipeline can. */
      g_main_loop_quit (w->loop);
      break;
    default:
      break;
  }
  g_clear_error (&err);
  g_free (debug);
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  gchar *host = NULL;
  gint port = 5000, timeout_ms = 1000, seconds = 0;
  GOptionEntry entries[] = {
    {"host", 0, 0, G_OPTION_ARG_STRING, &host,
        "Address to listen on (default 127.0.0.1; 0.0.0.0 for all)", "HOST"},
    {"port", 0, 0, G_OPTION_ARG_INT, &port,
        "Port to listen on, 0 for any free one (default 5000)", "N"},
    {"timeout-ms", 0, 0, G_OPTION_ARG_INT, &timeout_ms,
        "Drop a camera silent for this long (default 1000)", "MS"},
    {"seconds", 0, 0, G_OPTION_ARG_INT, &seconds,
        "Stop after N seconds (default 0: at SIGINT or SIGTERM)", "N"},
    {NULL}
  };
  GOptionContext *ctx;
  GError *err = NULL;
  Watch w = { NULL, };
  GstElement *src, *sink;
  GstBus *bus;
  gint bound = 0;
  gchar *where;

  /* The lines are for whoever reads our output, often through a pipe. */
  setvbuf (stdout, NULL, _IOLBF, 0);

  ctx = g_option_context_new ("- print tcpframesrc's connects and disconnects");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("tf-watch: %s\n", err->message);
    g_error_free (err);
    g_option_context_free (ctx);
    return 2;
  }
  g_option_context_free (ctx);
  if (port < 0 || port > 65535 || timeout_ms < 0 || seconds < 0) {
    g_printerr ("tf-watch: --port must be 0..65535, --timeout-ms and "
        "--seconds at least 0\n");
    return 2;
  }

  /* Built element by element rather than parsed, to show the API. */
  w.pipeline = gst_pipeline_new ("tf-watch");
  src = gst_element_factory_make ("tcpframesrc", "src");
  sink = gst_element_factory_make ("fakesink", "sink");
  if (!src || !sink) {
    g_printerr ("tf-watch: no %s element; is GST_PLUGIN_PATH set to the "
        "folder holding libgsttcpframe.so?\n", src ? "fakesink" :
        "tcpframesrc");
    gst_clear_object (&src);
    gst_clear_object (&sink);
    gst_object_unref (w.pipeline);
    return 1;
  }
  g_object_set (src, "host", host ? host : "127.0.0.1", "port", port,
      "timeout", (guint64) timeout_ms * GST_MSECOND, NULL);
  /* Frames arrive in real time already; sync would only add latency. */
  g_object_set (sink, "sync", FALSE, NULL);
  gst_bin_add_many (GST_BIN (w.pipeline), src, sink, NULL);
  gst_element_link (src, sink);

  w.loop = g_main_loop_new (NULL, FALSE);
  bus = gst_element_get_bus (w.pipeline);
  gst_bus_add_watch (bus, on_bus_message, &w);
  g_unix_signal_add (SIGINT, on_sigint, &w);
  g_unix_signal_add (SIGTERM, on_sigterm, &w);
  w.seconds = seconds;
  if (seconds > 0)
    g_timeout_add_seconds (seconds, on_deadline, &w);

  /* The port is bound on the way to PAUSED, so current-port is known as
   * soon as this returns. */
  if (gst_element_set_state (w.pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);

    if (msg) {
      gst_message_parse_error (msg, &err, NULL);
      g_printerr ("tf-watch: %s\n", err->message);
      g_clear_error (&err);
      gst_message_unref (msg);
    } else {
      g_printerr ("tf-watch: the pipeline did not start\n");
    }
    w.status = 1;
  } else {
    g_object_get (src, "current-port", &bound, NULL);
    where = address_port (host ? host : "127.0.0.1", bound);
    g_print ("listening on %s\n", where);
    g_free (where);
    g_main_loop_run (w.loop);
  }

  gst_element_set_state (w.pipeline, GST_STATE_NULL);
  gst_bus_remove_watch (bus);
  gst_object_unref (bus);
  gst_object_unref (w.pipeline);
  g_main_loop_unref (w.loop);
  g_free (host);
  return w.status;
}
