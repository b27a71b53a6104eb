/* tcpframesrc against real senders: ffmpeg's rawvideo and mjpeg over tcp://.
 *
 * tests/run.sh installs ffmpeg; where it is missing the suite reports
 * itself skipped (exit 77) with the reason, never passed. */
#include <gst/check/gstcheck.h>
#include <gst/app/gstappsink.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>

#define N_FRAMES 10
#define WAIT_MS 10000

static GstElement *
start_pipeline (const gchar * desc, guint16 * port)
{
  GError *err = NULL;
  GstElement *pipeline = gst_parse_launch (desc, &err);
  GstElement *src;
  gint p = 0;

  fail_unless (pipeline != NULL, "bad pipeline: %s", err ? err->message : "");
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  g_object_get (src, "current-port", &p, NULL);
  gst_object_unref (src);
  fail_unless (p > 0);
  *port = p;
  return pipeline;
}

static GPid
spawn_ffmpeg (guint16 port, const gchar * output_args)
{
  gchar *cmd = g_strdup_printf ("ffmpeg -nostdin -hide_banner -loglevel error "
      "-f lavfi -i testsrc2=size=64x48:rate=25 -frames:v %d %s "
      "tcp://127.0.0.1:%u", N_FRAMES, output_args, port);
  gchar **argv = NULL;
  GError *err = NULL;
  GPid pid = 0;

  fail_unless (g_shell_parse_argv (cmd, NULL, &argv, NULL));
  fail_unless (g_spawn_async (NULL, argv, NULL,
          G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid,
          &err), "could not run ffmpeg: %s", err ? err->message : "");
  g_strfreev (argv);
  g_free (cmd);
  return pid;
}

static void
reap (GPid pid)
{
  gint status = 0;
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;

  while (waitpid (pid, &status, WNOHANG) == 0) {
    if (g_get_monotonic_time () > deadline) {
      kill (pid, SIGKILL);
      waitpid (pid, &status, 0);
      fail ("ffmpeg did not finish");
    }
    g_usleep (1000);
  }
  fail_unless (WIFEXITED (status) && WEXITSTATUS (status) == 0,
      "ffmpeg failed (status %d)", status);
  g_spawn_close_pid (pid);
}

static void
expect_disconnect_closed (GstElement * pipeline, guint64 frames)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;

  for (;;) {
    gint64 left = deadline - g_get_monotonic_time ();
    GstMessage *msg = left > 0 ? gst_bus_timed_pop_filtered (bus,
        left * GST_USECOND, GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR) : NULL;
    const GstStructure *s;
    guint64 n = 0;

    fail_unless (msg != NULL, "no disconnect after ffmpeg finished");
    fail_if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR, "pipeline error");
    s = gst_message_get_structure (msg);
    if (gst_structure_has_name (s, "tcpframesrc-disconnected")) {
      fail_unless_equals_string (gst_structure_get_string (s, "reason"),
          "closed");
      fail_unless (gst_structure_get_uint64 (s, "frames", &n));
      fail_unless_equals_uint64 (n, frames);
      gst_message_unref (msg);
      break;
    }
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
}

GST_START_TEST (test_interop_ffmpeg_rawvideo)
{
  guint16 port;
  GstElement *pipeline = start_pipeline ("tcpframesrc name=src host=127.0.0.1 "
      "port=0 framing=raw caps=video/x-raw,format=GRAY8,width=64,height=48,"
      "framerate=25/1 ! appsink name=sink sync=false", &port);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  GPid pid = spawn_ffmpeg (port, "-pix_fmt gray -f rawvideo");
  guint i;

  for (i = 0; i < N_FRAMES; i++) {
    GstSample *sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
        WAIT_MS * GST_MSECOND);
    fail_unless (sample != NULL, "frame %u from ffmpeg did not arrive", i);
    fail_unless_equals_uint64 (gst_buffer_get_size (gst_sample_get_buffer
            (sample)), 64 * 48);
    gst_sample_unref (sample);
  }
  reap (pid);
  expect_disconnect_closed (pipeline, N_FRAMES);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
}

GST_END_TEST;

GST_START_TEST (test_interop_ffmpeg_mjpeg_decodes)
{
  guint16 port;
  /* jpegdec proves each pushed buffer is one whole, decodable image. */
  GstElement *pipeline = start_pipeline ("tcpframesrc name=src host=127.0.0.1 "
      "port=0 framing=jpeg ! jpegdec ! video/x-raw,width=64,height=48 ! "
      "appsink name=sink sync=false", &port);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  GPid pid = spawn_ffmpeg (port, "-c:v mjpeg -f mjpeg");
  guint i;

  for (i = 0; i < N_FRAMES; i++) {
    GstSample *sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
        WAIT_MS * GST_MSECOND);
    fail_unless (sample != NULL, "image %u from ffmpeg did not decode", i);
    gst_sample_unref (sample);
  }
  reap (pid);
  expect_disconnect_closed (pipeline, N_FRAMES);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
}

GST_END_TEST;

static Suite *
interop_suite (void)
{
  Suite *s = suite_create ("interop");
  TCase *tc = tcase_create ("ffmpeg");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_interop_ffmpeg_rawvideo);
  tcase_add_test (tc, test_interop_ffmpeg_mjpeg_decodes);
  return s;
}

int
main (int argc, char **argv)
{
  gchar *ffmpeg = g_find_program_in_path ("ffmpeg");

  if (!ffmpeg) {
    g_print ("SKIP: ffmpeg is not installed (tests/run.sh installs it)\n");
    return 77;
  }
  g_free (ffmpeg);
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (interop_suite (), "interop", __FILE__);
}
