/* The example pipelines (the scripts in pipelines/) and the embedding
 * examples (pipelines/embed/tf-watch and tf-watch.py), run the way a user
 * runs them, as child processes, and checked from the outside: their
 * output lines, their exit status, and what they produced.
 *
 * Cameras are tf-camsim ($TF_CAMSIM), whose every frame follows from
 * (x, y, sequence), so a recording can be compared with what was sent,
 * and camera-sim.sh itself.  Everything is on 127.0.0.1.  Scripts need a
 * fixed port (gst-launch cannot report the one it got), so a free one is
 * picked by binding port 0 and closing it again; the embedding examples
 * take port 0 and print the port they got.
 *
 * Every wait is bounded, and every case stays well under its 15 s.  A
 * missing element, ffmpeg or PyGObject fails the case with what to
 * install: tests/run.sh installs them all (the test package set). */
#include <gst/check/gstcheck.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

/* The longest any single step may take: a script starting (the first
 * one may have to rebuild the registry), a camera script, a recording
 * being finalized. */
#define STEP_MS 8000
#define CASE_TIMEOUT_S 15

/* The recording tests' camera: 320x240 GRAY8, recorded at that size. */
#define REC_W 320
#define REC_H 240
/* Mean absolute difference, in grey levels, a decoded frame may have from
 * the frame that was sent.  The recordings measure about 0.1; the frame
 * next to the right one is about 8 away, a corrupted one far more. */
#define MAX_MEAN_ERROR 2.0

/* ---- child processes ---- */

typedef struct
{
  gchar *name;                  /* for the log */
  GPid pid;
  gint out_fd;                  /* stdout, -1 once at EOF */
  GString *partial;             /* a line not yet ended */
  GPtrArray *lines;             /* every complete line so far */
  guint next;                   /* first line child_expect() looks at */
  gboolean reaped;
  gint status;
} Child;

static const gchar *
source_root (void)
{
  const gchar *root = g_getenv ("TF_SOURCE_ROOT");

  fail_unless (root != NULL, "TF_SOURCE_ROOT is not set (run through meson)");
  return root;
}

static gchar *
script_path (const gchar * name)
{
  return g_build_filename (source_root (), "pipelines", name, NULL);
}

/* The children never open windows, whatever the machine has. */
static gchar **
child_environ (void)
{
  gchar **env = g_get_environ ();

  env = g_environ_unsetenv (env, "DISPLAY");
  env = g_environ_unsetenv (env, "WAYLAND_DISPLAY");
  return env;
}

static Child *
child_spawn (const gchar * name, const gchar * const *argv)
{
  Child *c = g_new0 (Child, 1);
  gchar **env = child_environ ();
  GError *err = NULL;
  gchar *cmd = g_strjoinv (" ", (gchar **) argv);

  g_printerr ("[%s] $ %s\n", name, cmd);
  g_free (cmd);
  c->name = g_strdup (name);
  c->partial = g_string_new (NULL);
  c->lines = g_ptr_array_new_with_free_func (g_free);
  fail_unless (g_spawn_async_with_pipes (NULL, (gchar **) argv, env,
          G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
          &c->pid, NULL, &c->out_fd, NULL, &err), "cannot run %s: %s",
      argv[0], err ? err->message : "?");
  g_strfreev (env);
  return c;
}

static void
child_add_line (Child * c, const gchar * line)
{
  /* Everything a child says goes to the test log, for whoever has to
   * find out why a case failed. */
  g_printerr ("[%s] %s\n", c->name, line);
  g_ptr_array_add (c->lines, g_strdup (line));
}

/* Reads what the child wrote, waiting at most timeout_ms for something.
 * Returns FALSE when nothing came (timeout or EOF). */
static gboolean
child_read (Child * c, gint timeout_ms)
{
  struct pollfd pfd = { c->out_fd, POLLIN, 0 };
  gchar buf[4096];
  gssize n;
  gchar *nl;

  if (c->out_fd < 0)
    return FALSE;
  if (poll (&pfd, 1, MAX (timeout_ms, 0)) <= 0)
    return FALSE;
  n = read (c->out_fd, buf, sizeof (buf));
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return TRUE;
  if (n <= 0) {
    close (c->out_fd);
    c->out_fd = -1;
    if (c->partial->len > 0)
      child_add_line (c, c->partial->str);
    g_string_truncate (c->partial, 0);
    return FALSE;
  }
  g_string_append_len (c->partial, buf, n);
  while ((nl = strchr (c->partial->str, '\n')) != NULL) {
    *nl = '\0';
    child_add_line (c, c->partial->str);
    g_string_erase (c->partial, 0, nl - c->partial->str + 1);
  }
  return TRUE;
}

/* Waits at most timeout_ms for a line, after the last one expected,
 * matching the regular expression; returns it (owned by the child). */
static const gchar *
child_expect (Child * c, const gchar * pattern, gint timeout_ms)
{
  GRegex *re = g_regex_new (pattern, 0, 0, NULL);
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;
  const gchar *found = NULL;

  fail_unless (re != NULL, "bad pattern %s", pattern);
  for (;;) {
    for (; c->next < c->lines->len && !found; c->next++) {
      const gchar *line = g_ptr_array_index (c->lines, c->next);

      if (g_regex_match (re, line, 0, NULL))
        found = line;
    }
    if (found)
      break;
    if (c->out_fd < 0 || g_get_monotonic_time () >= deadline)
      break;
    child_read (c, (deadline - g_get_monotonic_time ()) / 1000);
  }
  g_regex_unref (re);
  fail_unless (found != NULL, "%s: no line matching '%s' within %d ms%s",
      c->name, pattern, timeout_ms, c->out_fd < 0 ? " (it ended)" : "");
  return found;
}

/* Whether any line so far matches. */
static gboolean
child_said (Child * c, const gchar * pattern)
{
  guint i;

  for (i = 0; i < c->lines->len; i++) {
    if (g_regex_match_simple (pattern, g_ptr_array_index (c->lines, i), 0, 0))
      return TRUE;
  }
  return FALSE;
}

/* Reads the child's output to the end and waits for it to exit, at most
 * timeout_ms in all; returns its exit code.  A child that does not end in
 * time is killed and fails the test. */
static gint
child_finish (Child * c, gint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;

  while (!c->reaped) {
    gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
    pid_t r;

    if (c->out_fd >= 0) {
      child_read (c, MIN (left, 50));
    } else {
      g_usleep (10 * 1000);
    }
    r = waitpid (c->pid, &c->status, WNOHANG);
    if (r == c->pid) {
      c->reaped = TRUE;
    } else if (left <= 0) {
      kill (c->pid, SIGKILL);
      waitpid (c->pid, &c->status, 0);
      c->reaped = TRUE;
      fail ("%s did not end within %d ms", c->name, timeout_ms);
    }
  }
  /* What it wrote just before exiting, and what its own children still
   * write (gst-launch's message filter ends after the script). */
  while (c->out_fd >= 0 && g_get_monotonic_time () < deadline)
    child_read (c, 100);
  fail_if (WIFSIGNALED (c->status), "%s was killed by signal %d", c->name,
      WTERMSIG (c->status));
  return WEXITSTATUS (c->status);
}

static void
child_free (Child * c)
{
  if (!c->reaped) {
    kill (c->pid, SIGKILL);
    waitpid (c->pid, NULL, 0);
  }
  if (c->out_fd >= 0)
    close (c->out_fd);
  g_spawn_close_pid (c->pid);
  g_string_free (c->partial, TRUE);
  g_ptr_array_unref (c->lines);
  g_free (c->name);
  g_free (c);
}

static void
child_signal (Child * c, gint sig)
{
  g_printerr ("[%s] sending signal %d\n", c->name, sig);
  fail_unless (kill (c->pid, sig) == 0);
}

/* ---- what the cases need ---- */

static const gchar *
package_of (const gchar * element)
{
  static const gchar *const packages[][2] = {
    {"x264enc", "gstreamer1.0-plugins-ugly"},
    {"h264parse", "gstreamer1.0-plugins-bad"},
    {"avdec_h264", "gstreamer1.0-libav"},
    {"videotestsrc", "gstreamer1.0-plugins-base"},
    {"videoconvert", "gstreamer1.0-plugins-base"},
    {"videoscale", "gstreamer1.0-plugins-base"},
    {"appsink", "gstreamer1.0-plugins-base"},
    {"tcpframesrc", "this project's plugin: is GST_PLUGIN_PATH set?"},
    {"tcpframesink", "this project's plugin: is GST_PLUGIN_PATH set?"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (packages); i++) {
    if (strcmp (packages[i][0], element) == 0)
      return packages[i][1];
  }
  return "gstreamer1.0-plugins-good";
}

/* Fails, naming them and their packages, unless all these elements exist.
 * A case that cannot run must not pass. */
static void
need_elements (const gchar * first, ...)
{
  GString *missing = g_string_new (NULL);
  const gchar *name;
  va_list ap;

  va_start (ap, first);
  name = first;
  while (name) {
    GstElementFactory *f = gst_element_factory_find (name);

    if (f)
      gst_object_unref (f);
    else
      g_string_append_printf (missing, " %s (%s)", name, package_of (name));
    name = va_arg (ap, const gchar *);
  }
  va_end (ap);
  fail_unless (missing->len == 0, "missing GStreamer elements:%s; "
      "tests/run.sh installs them (the test package set)", missing->str);
  g_string_free (missing, TRUE);
}

static void
need_program (const gchar * program, const gchar * package)
{
  gchar *path = g_find_program_in_path (program);

  fail_unless (path != NULL, "%s is not installed (Debian package %s; "
      "tests/run.sh installs it)", program, package);
  g_free (path);
}

/* A port nobody listens on: the kernel picks it for a socket bound to port
 * 0, which is closed again.  Something else could take it before the
 * script binds it, but only another process asking for that very port. */
static guint16
free_port (void)
{
  GSocket *sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (lo, 0);
  GSocketAddress *bound;
  guint16 port;

  fail_unless (sock != NULL);
  fail_unless (g_socket_bind (sock, addr, FALSE, NULL));
  bound = g_socket_get_local_address (sock, NULL);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_close (sock, NULL);
  g_object_unref (bound);
  g_object_unref (addr);
  g_object_unref (lo);
  g_object_unref (sock);
  return port;
}

/* Whether something accepts connections on 127.0.0.1:port. */
static gboolean
port_open (guint16 port)
{
  GSocketClient *client = g_socket_client_new ();
  GSocketConnection *conn;

  g_socket_client_set_timeout (client, 2);
  conn = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL,
      NULL);
  if (conn) {
    g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
    g_object_unref (conn);
  }
  g_object_unref (client);
  return conn != NULL;
}

static Child *
camsim_spawn (guint16 port, gint width, gint height, gint fps,
    const gchar * script)
{
  const gchar *camsim = g_getenv ("TF_CAMSIM");
  gchar *port_s = g_strdup_printf ("%u", port);
  gchar *w = g_strdup_printf ("%d", width);
  gchar *h = g_strdup_printf ("%d", height);
  gchar *f = g_strdup_printf ("%d", fps);
  const gchar *argv[] = { camsim, "--port", port_s, "--width", w, "--height",
    h, "--fps", f, "--script", script, NULL
  };
  Child *c;

  fail_unless (camsim != NULL, "TF_CAMSIM is not set (run through meson)");
  c = child_spawn ("camsim", argv);
  g_free (port_s);
  g_free (w);
  g_free (h);
  g_free (f);
  return c;
}

/* Runs a camera script to its end; returns the frames it sent, and the
 * source address:port of each connection in `peers`. */
static guint
camsim_run (guint16 port, gint width, gint height, gint fps,
    const gchar * script, GPtrArray * peers)
{
  Child *c = camsim_spawn (port, width, height, fps, script);
  GRegex *connected = g_regex_new ("^camsim: connected from (\\S+) to", 0, 0,
      NULL);
  GRegex *sent = g_regex_new ("^camsim: sent ([0-9]+) frames", 0, 0, NULL);
  guint frames = 0, i;

  fail_unless_equals_int (child_finish (c, STEP_MS), 0);
  for (i = 0; i < c->lines->len; i++) {
    const gchar *line = g_ptr_array_index (c->lines, i);
    GMatchInfo *m = NULL;

    if (g_regex_match (connected, line, 0, &m) && peers)
      g_ptr_array_add (peers, g_match_info_fetch (m, 1));
    g_match_info_free (m);
    if (g_regex_match (sent, line, 0, &m)) {
      gchar *n = g_match_info_fetch (m, 1);
      frames += atoi (n);
      g_free (n);
    }
    g_match_info_free (m);
  }
  g_regex_unref (connected);
  g_regex_unref (sent);
  child_free (c);
  return frames;
}

/* The grey level tf-camsim sends at (x, y) of its frame `seq`. */
static guint8
camsim_pixel (guint x, guint y, guint seq)
{
  return (x + y + 4 * seq) & 0xff;
}

/* What a decoded MP4 held. */
typedef struct
{
  guint frames;
  gboolean sizes_ok;            /* every frame width x height */
  gdouble worst_error;          /* over the frames compared pixel by pixel */
  guint worst_frame;
  gdouble worst_mean_error;     /* over the scaled frames */
  guint worst_mean_frame;
  GString *bus_problems;        /* warnings and errors on the bus */
} Mp4Result;

/* The frames a recording should hold, in order: `n` frames of tf-camsim
 * at width x height, from sequence number `first` on. */
typedef struct
{
  guint n;
  gint width, height;
  guint first;
} Part;

/* The mean grey level of tf-camsim's frame seq at width x height. */
static gdouble
camsim_mean (gint width, gint height, guint seq)
{
  guint64 sum = 0;
  gint x, y;

  for (y = 0; y < height; y++) {
    for (x = 0; x < width; x++)
      sum += (x + y + 4 * seq) & 0xff;
  }
  return (gdouble) sum / (width * height);
}

static gdouble
frame_error (GstVideoFrame * frame, guint seq)
{
  const guint8 *data = GST_VIDEO_FRAME_PLANE_DATA (frame, 0);
  gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (frame, 0);
  guint64 sum = 0;
  guint x, y, w = GST_VIDEO_FRAME_WIDTH (frame),
      h = GST_VIDEO_FRAME_HEIGHT (frame);

  for (y = 0; y < h; y++) {
    for (x = 0; x < w; x++)
      sum += ABS ((gint) data[y * stride + x] - camsim_pixel (x, y, seq));
  }
  return (gdouble) sum / (w * h);
}

static gdouble
frame_mean (GstVideoFrame * frame)
{
  const guint8 *data = GST_VIDEO_FRAME_PLANE_DATA (frame, 0);
  gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (frame, 0);
  guint64 sum = 0;
  guint x, y, w = GST_VIDEO_FRAME_WIDTH (frame),
      h = GST_VIDEO_FRAME_HEIGHT (frame);

  for (y = 0; y < h; y++) {
    for (x = 0; x < w; x++)
      sum += data[y * stride + x];
  }
  return (gdouble) sum / (w * h);
}

/* Decodes the whole file with GStreamer (qtdemux, h264parse, avdec_h264)
 * and looks at every frame, expecting the parts in order.  A frame sent
 * at the recording's size is compared pixel by pixel with what tf-camsim
 * sent; a scaled one only by its mean grey level, which scaling keeps and
 * which black or garbage would not have. */
static Mp4Result
decode_mp4 (const gchar * path, gint width, gint height, const Part * parts,
    guint n_parts)
{
  Mp4Result r = { 0, TRUE, 0.0, 0, 0.0, 0, g_string_new (NULL) };
  GstElement *pipeline = gst_parse_launch ("filesrc name=src ! qtdemux "
      "! h264parse ! avdec_h264 ! videoconvert ! video/x-raw,format=GRAY8 "
      "! appsink name=sink sync=false", NULL);
  GstElement *src, *sink;
  GstBus *bus;
  GstMessage *msg;
  GstSample *sample;
  gboolean eos = FALSE;
  guint part = 0, in_part = 0;

  fail_unless (pipeline != NULL);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  g_object_set (src, "location", path, NULL);
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE, "cannot decode %s", path);

  while ((sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
              STEP_MS * GST_MSECOND)) != NULL) {
    GstVideoInfo info;
    GstVideoFrame frame;

    fail_unless (gst_video_info_from_caps (&info,
            gst_sample_get_caps (sample)));
    if (GST_VIDEO_INFO_WIDTH (&info) != width
        || GST_VIDEO_INFO_HEIGHT (&info) != height) {
      g_printerr ("frame %u is %dx%d\n", r.frames,
          GST_VIDEO_INFO_WIDTH (&info), GST_VIDEO_INFO_HEIGHT (&info));
      r.sizes_ok = FALSE;
    }
    while (part < n_parts && in_part == parts[part].n) {
      part++;
      in_part = 0;
    }
    fail_unless (gst_video_frame_map (&frame, &info,
            gst_sample_get_buffer (sample), GST_MAP_READ));
    if (part < n_parts && r.sizes_ok) {
      const Part *p = &parts[part];
      guint seq = p->first + in_part;
      gdouble e;

      if (p->width == width && p->height == height) {
        e = frame_error (&frame, seq);
        if (e > r.worst_error) {
          r.worst_error = e;
          r.worst_frame = r.frames;
        }
      } else {
        e = ABS (frame_mean (&frame) - camsim_mean (p->width, p->height, seq));
        if (e > r.worst_mean_error) {
          r.worst_mean_error = e;
          r.worst_mean_frame = r.frames;
        }
      }
    }
    gst_video_frame_unmap (&frame);
    gst_sample_unref (sample);
    in_part++;
    r.frames++;
  }

  /* appsink reports EOS before the pipeline posts it: wait for that, and
   * collect what else came on the way. */
  bus = gst_element_get_bus (pipeline);
  while (!eos && (msg = gst_bus_timed_pop (bus, STEP_MS * GST_MSECOND))) {
    GError *err = NULL;

    switch (GST_MESSAGE_TYPE (msg)) {
      case GST_MESSAGE_EOS:
        eos = TRUE;
        break;
      case GST_MESSAGE_WARNING:
        gst_message_parse_warning (msg, &err, NULL);
        g_string_append_printf (r.bus_problems, " warning: %s;", err->message);
        break;
      case GST_MESSAGE_ERROR:
        gst_message_parse_error (msg, &err, NULL);
        g_string_append_printf (r.bus_problems, " error: %s;", err->message);
        break;
      default:
        break;
    }
    g_clear_error (&err);
    gst_message_unref (msg);
  }
  if (!eos && r.bus_problems->len == 0)
    g_string_append (r.bus_problems, " decoding stopped before EOS");
  gst_object_unref (bus);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  g_printerr ("decoded %s: %u frames, worst error %.2f (frame %u), worst "
      "mean error of scaled frames %.2f (frame %u)\n", path, r.frames,
      r.worst_error, r.worst_frame, r.worst_mean_error, r.worst_mean_frame);
  return r;
}

/* A second opinion on the file: ffmpeg's demuxer and decoder, which are
 * what most players use, must read every frame without an error.  They
 * are stricter than GStreamer's in one way that matters here: they
 * decode with the parameter sets of the MP4 header. */
static void
check_mp4_with_ffprobe (const gchar * path, guint frames, gint width,
    gint height)
{
  const gchar *argv[] = { "ffprobe", "-v", "error", "-count_frames",
    "-select_streams", "v", "-show_entries",
    "stream=nb_read_frames,width,height", "-of", "default=noprint_wrappers=1",
    path, NULL
  };
  gchar *out = NULL, *err = NULL, *expected;
  gint status = 0;
  GError *error = NULL;

  need_program ("ffprobe", "ffmpeg");
  fail_unless (g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_SEARCH_PATH,
          NULL, NULL, &out, &err, &status, &error), "cannot run ffprobe: %s",
      error ? error->message : "?");
  g_printerr ("ffprobe %s:\n%s%s", path, out, err);
  fail_unless (g_spawn_check_wait_status (status, NULL), "ffprobe failed");
  fail_unless_equals_string (err, "");
  expected = g_strdup_printf ("width=%d\nheight=%d\nnb_read_frames=%u\n",
      width, height, frames);
  fail_unless_equals_string (out, expected);
  g_free (expected);
  g_free (out);
  g_free (err);
}

static gchar *
make_tmpdir (void)
{
  GError *err = NULL;
  gchar *dir = g_dir_make_tmp ("tf-pipelines-XXXXXX", &err);

  fail_unless (dir != NULL, "no temporary folder: %s",
      err ? err->message : "?");
  return dir;
}

static void
remove_tmpdir (gchar * dir, const gchar * file)
{
  gchar *path = g_build_filename (dir, file, NULL);

  g_unlink (path);
  g_rmdir (dir);
  g_free (path);
  g_free (dir);
}

/* ---- camera-sim.sh ---- */

/* camera-sim.sh sends its ball to a tcpframesrc in this process; every
 * frame it got through arrives whole, with the caps it announced. */
static void
run_camera_sim (const gchar * framing, const gchar * decode)
{
  gchar *desc = g_strdup_printf ("tcpframesrc name=src host=127.0.0.1 "
      "port=0 framing=%s %s ! appsink name=sink sync=false", framing, decode);
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  GstElement *src, *sink;
  GstBus *bus;
  GstMessage *msg;
  gint port = 0;
  gchar *port_s, *script = script_path ("camera-sim.sh");
  guint samples = 0;
  guint64 frames = 0;
  GstSample *sample;
  GstStructure *s;
  const gchar *reason;
  gint w = 0, h = 0;

  fail_unless (pipeline != NULL, "bad pipeline %s", desc);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  g_object_get (src, "current-port", &port, NULL);
  fail_unless (port > 0);
  port_s = g_strdup_printf ("%d", port);

  {
    const gchar *argv[] = { script, "--host", "127.0.0.1", "--port", port_s,
      "--framing", framing, "--size", "160x120", "--fps", "30", "--frames",
      "30", NULL
    };
    Child *cam = child_spawn ("camera-sim", argv);

    child_expect (cam, "^tcpframesink: connected 127\\.0\\.0\\.1:", STEP_MS);
    /* --frames 30: it ends by itself, after sending what it holds. */
    fail_unless_equals_int (child_finish (cam, STEP_MS), 0);
    child_free (cam);
  }

  /* The camera closed after its last frame: the element says how many
   * frames it pushed from it, and each is in the appsink. */
  bus = gst_element_get_bus (pipeline);
  for (;;) {
    msg = gst_bus_timed_pop_filtered (bus, STEP_MS * GST_MSECOND,
        GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR);
    fail_unless (msg != NULL, "no disconnect after camera-sim ended");
    fail_if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR, "pipeline error");
    if (gst_message_has_name (msg, "tcpframesrc-disconnected"))
      break;
    gst_message_unref (msg);
  }
  s = (GstStructure *) gst_message_get_structure (msg);
  reason = gst_structure_get_string (s, "reason");
  fail_unless_equals_string (reason, "closed");
  fail_unless (gst_structure_get_uint64 (s, "frames", &frames));
  gst_message_unref (msg);
  gst_object_unref (bus);

  /* tcpframesink drops the frames it cannot send yet while it connects,
   * so "most of the 30" is all that can be said about the count. */
  fail_unless (frames > 0 && frames <= 30, "%" G_GUINT64_FORMAT " frames",
      frames);
  while ((sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
              100 * GST_MSECOND)) != NULL) {
    GstStructure *caps_s = gst_caps_get_structure (gst_sample_get_caps
        (sample), 0);

    fail_unless (gst_structure_get_int (caps_s, "width", &w));
    fail_unless (gst_structure_get_int (caps_s, "height", &h));
    fail_unless_equals_int (w, 160);
    fail_unless_equals_int (h, 120);
    if (strcmp (framing, "header") == 0) {
      gint n = 0, d = 0;

      /* The caps travelled with the frames, untouched. */
      fail_unless_equals_string (gst_structure_get_string (caps_s, "format"),
          "GRAY8");
      fail_unless (gst_structure_get_fraction (caps_s, "framerate", &n, &d));
      fail_unless (n == 30 && d == 1);
      fail_unless_equals_uint64 (gst_buffer_get_size (gst_sample_get_buffer
              (sample)), 160 * 120);
    }
    gst_sample_unref (sample);
    samples++;
  }
  fail_unless_equals_uint64 (samples, frames);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  g_free (port_s);
  g_free (script);
  g_free (desc);
}

GST_START_TEST (test_pipelines_camera_sim_header)
{
  need_elements ("tcpframesrc", "tcpframesink", "videotestsrc", "appsink",
      NULL);
  run_camera_sim ("header", "");
}

GST_END_TEST;

GST_START_TEST (test_pipelines_camera_sim_jpeg)
{
  need_elements ("tcpframesrc", "tcpframesink", "videotestsrc", "jpegenc",
      "jpegdec", "appsink", NULL);
  /* jpegdec proves every image arrived whole. */
  run_camera_sim ("jpeg", "! jpegdec");
}

GST_END_TEST;

/* ---- client-mode.sh ---- */

GST_START_TEST (test_pipelines_client_mode)
{
  guint16 port = free_port ();
  gchar *port_s = g_strdup_printf ("%u", port);
  gchar *script = script_path ("client-mode.sh");
  gchar *pattern;
  const gchar *argv[] = { script, "--host", "127.0.0.1", "--port", port_s,
    "--size", "160x120", "--frames", "20", NULL
  };
  Child *c;

  need_elements ("tcpframesrc", "tcpframesink", "videotestsrc", NULL);
  c = child_spawn ("client-mode", argv);
  /* The camera simulator listens, the receiver connects to it. */
  pattern = g_strdup_printf ("^tcpframesrc: connected 127\\.0\\.0\\.1:%u$",
      port);
  child_expect (c, pattern, STEP_MS);
  /* --frames 20: the receiver ends after 20 frames, then the script
   * stops the simulator. */
  fail_unless_equals_int (child_finish (c, STEP_MS), 0);
  fail_unless (child_said (c, "^tcpframesink: connected 127\\.0\\.0\\.1:"));
  fail_unless (child_said (c, "^Got EOS from element"));
  fail_unless (child_said (c, "^camera-sim: stopping"));
  fail_if (port_open (port), "the camera simulator still listens");
  child_free (c);
  g_free (pattern);
  g_free (script);
  g_free (port_s);
}

GST_END_TEST;

/* ---- from-ffmpeg.sh ---- */

static void
run_from_ffmpeg (const gchar * format)
{
  guint16 port = free_port ();
  gchar *port_s = g_strdup_printf ("%u", port);
  gchar *script = script_path ("from-ffmpeg.sh");
  const gchar *argv[] = { script, format, "--port", port_s, "--size", "64x48",
    "--fps", "25", "--frames", "10", NULL
  };
  Child *c;

  need_program ("ffmpeg", "ffmpeg");
  c = child_spawn ("from-ffmpeg", argv);
  child_expect (c, "^tcpframesrc: connected 127\\.0\\.0\\.1:", STEP_MS);
  /* ffmpeg sends 10 frames, the receiver stops after 10: an EOS that
   * only whole frames can reach. */
  fail_unless_equals_int (child_finish (c, STEP_MS), 0);
  fail_unless (child_said (c, "^Got EOS from element"));
  fail_if (child_said (c, "^(ERROR|WARNING)"));
  child_free (c);
  g_free (script);
  g_free (port_s);
}

GST_START_TEST (test_pipelines_from_ffmpeg_rawvideo)
{
  need_elements ("tcpframesrc", NULL);
  run_from_ffmpeg ("rawvideo");
}

GST_END_TEST;

GST_START_TEST (test_pipelines_from_ffmpeg_mjpeg)
{
  need_elements ("tcpframesrc", "jpegdec", NULL);
  run_from_ffmpeg ("mjpeg");
}

GST_END_TEST;

/* ---- receive-display.sh ---- */

GST_START_TEST (test_pipelines_display_fallback)
{
  guint16 port = free_port ();
  gchar *port_s = g_strdup_printf ("%u", port);
  gchar *script = script_path ("receive-display.sh");
  const gchar *argv[] = { script, "--port", port_s, "--frames", "12", NULL };
  Child *c, *cam;

  need_elements ("tcpframesrc", NULL);
  /* child_spawn() leaves out DISPLAY and WAYLAND_DISPLAY. */
  c = child_spawn ("receive-display", argv);
  child_expect (c, "^receive-display: no DISPLAY or WAYLAND_DISPLAY: "
      "not showing the video, frames go to fakesink$", STEP_MS);
  /* tcpframesrc listens from PAUSED on. */
  child_expect (c, "^Setting pipeline to PLAYING", STEP_MS);
  cam = camsim_spawn (port, 64, 48, 30, "connect,stream:30,close");
  child_expect (c, "^tcpframesrc: connected 127\\.0\\.0\\.1:", STEP_MS);
  /* --frames 12 ends it while the camera still streams. */
  fail_unless_equals_int (child_finish (c, STEP_MS), 0);
  fail_unless (child_said (c, "^Got EOS from element"));
  child_finish (cam, STEP_MS);
  child_free (cam);
  child_free (c);
  g_free (script);
  g_free (port_s);
}

GST_END_TEST;

/* ---- receive-record.sh ---- */

/* Starts receive-record.sh; `extra` is one more option and its value,
 * or NULL. */
static Child *
start_recorder (const gchar * out, guint16 port, const gchar * extra,
    const gchar * extra_value)
{
  gchar *script = script_path ("receive-record.sh");
  gchar *port_s = g_strdup_printf ("%u", port);
  gchar *size = g_strdup_printf ("%dx%d", REC_W, REC_H);
  const gchar *argv[] = { script, "--port", port_s, "--out", out, "--size",
    size, "--preset", "ultrafast", extra, extra_value, NULL
  };
  Child *c;

  need_elements ("tcpframesrc", "videoconvert", "videoscale", "capssetter",
      "x264enc", "h264parse", "mp4mux", "qtdemux", "avdec_h264", "appsink",
      NULL);
  c = child_spawn ("receive-record", argv);
  child_expect (c, "^Setting pipeline to PLAYING", STEP_MS);
  g_free (script);
  g_free (port_s);
  g_free (size);
  return c;
}

/* Stops the recorder as a user would and checks it finalized the file. */
static void
stop_recorder (Child * c, gint sig, const gchar * out)
{
  gchar *pattern = g_strdup_printf ("^receive-record: wrote %s "
      "\\([0-9]+ bytes\\)$", out);

  child_signal (c, sig);
  fail_unless_equals_int (child_finish (c, STEP_MS), 0);
  fail_unless (child_said (c, "^Got EOS from element"));
  fail_if (child_said (c, "^(ERROR|WARNING)"));
  fail_unless (child_said (c, pattern));
  g_free (pattern);
}

/* A camera streams 45 frames, reboots (its connection is left open and
 * silent, as after a power cut) and streams 45 more from a new
 * connection, which replaces the stale one.  The recorder is stopped
 * with SIGTERM.  The file must hold exactly the 90 frames, each the frame
 * that was sent, decodable by GStreamer and ffmpeg without a complaint. */
GST_START_TEST (test_pipelines_record_reboot)
{
  gchar *dir = make_tmpdir ();
  gchar *out = g_build_filename (dir, "reboot.mp4", NULL);
  guint16 port = free_port ();
  Child *rec = start_recorder (out, port, NULL, NULL);
  GPtrArray *peers = g_ptr_array_new_with_free_func (g_free);
  /* Each connection counts its frames from 0. */
  const Part parts[] = { {45, REC_W, REC_H, 0}, {45, REC_W, REC_H, 0} };
  guint sent;
  gchar *line;
  Mp4Result r;

  sent = camsim_run (port, REC_W, REC_H, 30,
      "connect,stream:45,silent:300,connect,stream:45,close", peers);
  fail_unless_equals_int (sent, 90);
  fail_unless_equals_int (peers->len, 2);

  /* The element's account of it, through the script's message lines; the
   * last one also means every frame went downstream before the stop. */
  line = g_strdup_printf ("^tcpframesrc: connected %s$",
      (gchar *) g_ptr_array_index (peers, 0));
  child_expect (rec, line, STEP_MS);
  g_free (line);
  line = g_strdup_printf ("^tcpframesrc: disconnected %s reason=replaced "
      "frames=45$", (gchar *) g_ptr_array_index (peers, 0));
  child_expect (rec, line, STEP_MS);
  g_free (line);
  line = g_strdup_printf ("^tcpframesrc: disconnected %s reason=closed "
      "frames=45$", (gchar *) g_ptr_array_index (peers, 1));
  child_expect (rec, line, STEP_MS);
  g_free (line);
  stop_recorder (rec, SIGTERM, out);

  r = decode_mp4 (out, REC_W, REC_H, parts, G_N_ELEMENTS (parts));
  fail_unless (r.bus_problems->len == 0, "decoding %s:%s", out,
      r.bus_problems->str);
  fail_unless_equals_int (r.frames, sent);
  fail_unless (r.sizes_ok);
  fail_unless (r.worst_error < MAX_MEAN_ERROR, "frame %u is %.2f grey "
      "levels away from what was sent", r.worst_frame, r.worst_error);
  check_mp4_with_ffprobe (out, sent, REC_W, REC_H);

  g_string_free (r.bus_problems, TRUE);
  g_ptr_array_unref (peers);
  child_free (rec);
  g_free (out);
  remove_tmpdir (dir, "reboot.mp4");
}

GST_END_TEST;

/* The camera resets its connection after 30 frames and comes back at
 * another resolution and frame rate (160x120 at 15 fps) for 20 more.  The
 * recording goes on in the same file at 320x240: the new frames are
 * scaled, the encoder never restarts, and ffmpeg (which decodes with the
 * MP4 header's parameter sets) reads all 50.  Stopped with SIGINT, as
 * Ctrl-C would. */
GST_START_TEST (test_pipelines_record_resolution_change)
{
  gchar *dir = make_tmpdir ();
  gchar *out = g_build_filename (dir, "resize.mp4", NULL);
  guint16 port = free_port ();
  Child *rec = start_recorder (out, port, NULL, NULL);
  const Part parts[] = { {30, REC_W, REC_H, 0}, {20, 160, 120, 0} };
  guint sent;
  Mp4Result r;

  /* A reset discards what the receiver has not read yet: give the last
   * frame time to be read, so the count below is exact. */
  sent = camsim_run (port, REC_W, REC_H, 30,
      "connect,stream:30,silent:300,reset", NULL);
  sent += camsim_run (port, 160, 120, 15, "connect,stream:20,close", NULL);
  fail_unless_equals_int (sent, 50);
  child_expect (rec, "^tcpframesrc: disconnected .* reason=reset frames=30$",
      STEP_MS);
  child_expect (rec, "^tcpframesrc: disconnected .* reason=closed frames=20$",
      STEP_MS);
  stop_recorder (rec, SIGINT, out);

  r = decode_mp4 (out, REC_W, REC_H, parts, G_N_ELEMENTS (parts));
  fail_unless (r.bus_problems->len == 0, "decoding %s:%s", out,
      r.bus_problems->str);
  fail_unless_equals_int (r.frames, sent);
  fail_unless (r.sizes_ok, "the frame size changed within the file");
  fail_unless (r.worst_error < MAX_MEAN_ERROR, "frame %u is %.2f grey "
      "levels away from what was sent", r.worst_frame, r.worst_error);
  fail_unless (r.worst_mean_error < MAX_MEAN_ERROR, "scaled frame %u's mean "
      "is %.2f grey levels away from the one sent", r.worst_mean_frame,
      r.worst_mean_error);
  check_mp4_with_ffprobe (out, sent, REC_W, REC_H);

  g_string_free (r.bus_problems, TRUE);
  child_free (rec);
  g_free (out);
  remove_tmpdir (dir, "resize.mp4");
}

GST_END_TEST;

/* --fragment-ms: a fragmented MP4 (which would survive a crash up to its
 * last fragment) holds every frame too once stopped, here with SIGHUP,
 * as when the terminal goes away. */
GST_START_TEST (test_pipelines_record_fragmented)
{
  gchar *dir = make_tmpdir ();
  gchar *out = g_build_filename (dir, "fragmented.mp4", NULL);
  guint16 port = free_port ();
  Child *rec = start_recorder (out, port, "--fragment-ms", "300");
  const Part parts[] = { {30, REC_W, REC_H, 0} };
  guint sent;
  Mp4Result r;

  sent = camsim_run (port, REC_W, REC_H, 30, "connect,stream:30,close", NULL);
  fail_unless_equals_int (sent, 30);
  child_expect (rec, "^tcpframesrc: disconnected .* reason=closed frames=30$",
      STEP_MS);
  stop_recorder (rec, SIGHUP, out);

  r = decode_mp4 (out, REC_W, REC_H, parts, G_N_ELEMENTS (parts));
  fail_unless (r.bus_problems->len == 0, "decoding %s:%s", out,
      r.bus_problems->str);
  fail_unless_equals_int (r.frames, sent);
  fail_unless (r.sizes_ok);
  fail_unless (r.worst_error < MAX_MEAN_ERROR, "frame %u is %.2f grey "
      "levels away from what was sent", r.worst_frame, r.worst_error);
  check_mp4_with_ffprobe (out, sent, REC_W, REC_H);

  g_string_free (r.bus_problems, TRUE);
  child_free (rec);
  g_free (out);
  remove_tmpdir (dir, "fragmented.mp4");
}

GST_END_TEST;

/* ---- the embedding examples ---- */

/* The Python that has PyGObject with GStreamer: the one on PATH may be
 * another (a virtualenv, pyenv) than the system's, which has python3-gi. */
static gchar *
find_python (void)
{
  const gchar *candidates[] = { g_getenv ("TF_PYTHON"), "python3",
    "/usr/bin/python3"
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (candidates); i++) {
    const gchar *argv[] = { candidates[i], "-c",
      "import gi; gi.require_version('Gst', '1.0'); "
          "from gi.repository import Gst", NULL
    };
    gint status = 0;

    if (candidates[i] == NULL)
      continue;
    if (g_spawn_sync (NULL, (gchar **) argv, NULL,
            G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
            G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status,
            NULL) && g_spawn_check_wait_status (status, NULL))
      return g_strdup (candidates[i]);
  }
  fail ("no python3 with PyGObject and GStreamer's GIR: install python3-gi "
      "and gir1.2-gstreamer-1.0 (the test package set)");
  return NULL;
}

/* Starts a watcher with port 0 and a 300 ms timeout; returns the port it
 * printed on its first line. */
static guint16
start_watch (Child * w)
{
  GRegex *re = g_regex_new ("^listening on 127\\.0\\.0\\.1:([0-9]+)$", 0, 0,
      NULL);
  GMatchInfo *m = NULL;
  const gchar *line = child_expect (w, "^listening on ", STEP_MS);
  gchar *port_s;
  guint16 port;

  fail_unless (g_regex_match (re, line, 0, &m), "first line: %s", line);
  port_s = g_match_info_fetch (m, 1);
  port = atoi (port_s);
  fail_unless (port > 0);
  g_free (port_s);
  g_match_info_free (m);
  g_regex_unref (re);
  return port;
}

/* A camera streams 10 frames, falls silent (dropped after the 300 ms
 * timeout), reconnects, streams 5 and closes.  The watcher prints exactly
 * one line per event and, on the signal, one more and exits 0. */
static void
run_watch (const gchar * const *argv, gint sig, const gchar * sig_name)
{
  Child *w = child_spawn ("tf-watch", argv);
  GPtrArray *peers = g_ptr_array_new_with_free_func (g_free);
  guint16 port = start_watch (w);
  gchar *expected, *got;
  guint sent;

  sent = camsim_run (port, 64, 48, 30,
      "connect,stream:10,silent:800,wait-reset:2000,connect,stream:5,close",
      peers);
  fail_unless_equals_int (sent, 15);
  fail_unless_equals_int (peers->len, 2);
  /* The last event, before the signal. */
  child_expect (w, "^disconnected .* reason=closed", STEP_MS);
  child_signal (w, sig);
  fail_unless_equals_int (child_finish (w, STEP_MS), 0);

  expected = g_strdup_printf ("listening on 127.0.0.1:%u\n"
      "connected %s\n"
      "disconnected %s reason=timeout frames=10\n"
      "connected %s\n"
      "disconnected %s reason=closed frames=5\n"
      "stopping (%s)\n", port,
      (gchar *) g_ptr_array_index (peers, 0),
      (gchar *) g_ptr_array_index (peers, 0),
      (gchar *) g_ptr_array_index (peers, 1),
      (gchar *) g_ptr_array_index (peers, 1), sig_name);
  {
    GString *all = g_string_new (NULL);
    guint i;

    for (i = 0; i < w->lines->len; i++)
      g_string_append_printf (all, "%s\n",
          (gchar *) g_ptr_array_index (w->lines, i));
    got = g_string_free (all, FALSE);
  }
  fail_unless_equals_string (got, expected);

  g_free (got);
  g_free (expected);
  g_ptr_array_unref (peers);
  child_free (w);
}

GST_START_TEST (test_pipelines_tf_watch_c)
{
  const gchar *watch = g_getenv ("TF_WATCH");
  const gchar *argv[] = { watch, "--host", "127.0.0.1", "--port", "0",
    "--timeout-ms", "300", NULL
  };

  fail_unless (watch != NULL, "TF_WATCH is not set (run through meson)");
  need_elements ("tcpframesrc", NULL);
  run_watch (argv, SIGINT, "SIGINT");
}

GST_END_TEST;

GST_START_TEST (test_pipelines_tf_watch_python)
{
  gchar *python = find_python ();
  gchar *script = script_path ("embed/tf-watch.py");
  const gchar *argv[] = { python, script, "--host", "127.0.0.1", "--port",
    "0", "--timeout-ms", "300", NULL
  };

  need_elements ("tcpframesrc", NULL);
  run_watch (argv, SIGTERM, "SIGTERM");
  g_free (script);
  g_free (python);
}

GST_END_TEST;

/* --seconds: both stop by themselves, cleanly, on time. */
GST_START_TEST (test_pipelines_tf_watch_seconds)
{
  gchar *python = find_python ();
  gchar *script = script_path ("embed/tf-watch.py");
  const gchar *c_argv[] = { g_getenv ("TF_WATCH"), "--port", "0",
    "--seconds", "1", NULL
  };
  const gchar *py_argv[] = { python, script, "--port", "0", "--seconds", "1",
    NULL
  };
  const gchar *const *argvs[] = { c_argv, py_argv };
  guint i;

  fail_unless (c_argv[0] != NULL, "TF_WATCH is not set (run through meson)");
  need_elements ("tcpframesrc", NULL);
  for (i = 0; i < G_N_ELEMENTS (argvs); i++) {
    Child *w = child_spawn ("tf-watch", argvs[i]);
    gint64 start;

    start_watch (w);
    start = g_get_monotonic_time ();
    fail_unless_equals_int (child_finish (w, STEP_MS), 0);
    fail_unless (g_get_monotonic_time () - start < 3 * G_USEC_PER_SEC);
    fail_unless_equals_int (w->lines->len, 2);
    fail_unless_equals_string (g_ptr_array_index (w->lines, 1),
        "stopping (after 1 s)");
    child_free (w);
  }
  g_free (script);
  g_free (python);
}

GST_END_TEST;

static Suite *
pipelines_suite (void)
{
  Suite *s = suite_create ("pipelines");
  TCase *tc = tcase_create ("pipelines");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, CASE_TIMEOUT_S);
  tcase_add_test (tc, test_pipelines_camera_sim_header);
  tcase_add_test (tc, test_pipelines_camera_sim_jpeg);
  tcase_add_test (tc, test_pipelines_client_mode);
  tcase_add_test (tc, test_pipelines_from_ffmpeg_rawvideo);
  tcase_add_test (tc, test_pipelines_from_ffmpeg_mjpeg);
  tcase_add_test (tc, test_pipelines_display_fallback);
  tcase_add_test (tc, test_pipelines_record_reboot);
  tcase_add_test (tc, test_pipelines_record_resolution_change);
  tcase_add_test (tc, test_pipelines_record_fragmented);
  tcase_add_test (tc, test_pipelines_tf_watch_c);
  tcase_add_test (tc, test_pipelines_tf_watch_python);
  tcase_add_test (tc, test_pipelines_tf_watch_seconds);
  return s;
}

int
main (int argc, char **argv)
{
#if defined(__SANITIZE_ADDRESS__)
  /* The cases run gst-launch-1.0 and python3, which are not linked with
   * ASan and cannot load a plugin that is ("ASan runtime does not come
   * first"): nothing here could pass in such a build. */
  g_print ("SKIP: the pipelines suite needs an uninstrumented build\n");
  return 77;
#endif
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (pipelines_suite (), "pipelines", __FILE__);
}
