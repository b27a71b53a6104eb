/* tcpframesrc under real failure modes: cameras that lose power, reboot
 * onto their old source port, freeze, flood the port, send garbage, and
 * come and go ten thousand times.
 *
 * The binary moves itself into a private network namespace before
 * anything else (see main()), so every test has its own loopback and the
 * tests that lose packets can do so with nftables rules that nobody else
 * sees.  Where a namespace cannot be made those tests are reported as
 * skipped, with the reason; the others then run on the machine's own
 * loopback.  Where nft is missing the tests that need it fail and say so.
 *
 * The element runs with timeout=500 ms where a test is about timing.  Every
 * wait is bounded: for a message, a buffer, a counter or a process.
 *
 * Slowloris (a peer trickling bytes is dropped at the timeout) is
 * test_peers_timeout_counts_frames_not_bytes in test_peers.c, and a peer
 * that stops writing between frames is test_peers_timeout_after_last_frame:
 * they are not repeated here (a peer that stops mid-frame is). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <gst/check/gstcheck.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "tf-testpeer.h"
#include "tf-framer.h"
#include "faults-netns.h"

#define WAIT_MS tf_test_scale_ms (3000)
#define GRAY8_4x2 TF_TEST_GRAY8_4x2
#define FRAME_LEN TF_TEST_FRAME_LEN

#define TIMEOUT_MS 500
#define TIMEOUT_PROP "timeout=500000000"
/* How late a timeout may be reported on a loaded machine.  It and
 * RESUME_SLACK_MS are slack on upper bounds, scaled under memcheck. */
#define LATE_MS tf_test_scale_ms (250)
/* How early: the element times a frame when it completes, the test when it
 * leaves the element, a few instructions later (or, on a loaded machine,
 * after the thread was preempted in between). */
#define EARLY_MS 50
/* Linux retransmits an unanswered SYN after 1 s (then 3 s, 7 s...). */
#define SYN_RETRY_MS 1000
#define RESUME_SLACK_MS tf_test_scale_ms (400)

#define A_SEQ 0
#define B_SEQ 1000
#define N_FRAMES 3

#define CONNECTED "tcpframesrc-connected"
#define DISCONNECTED "tcpframesrc-disconnected"
#define REJECTED "tcpframesrc-rejected"

/* ---- helpers ---- */

static void
assert_contains (const gchar * haystack, const gchar * needle,
    const gchar * what)
{
  fail_unless (haystack != NULL, "%s is missing", what);
  fail_unless (strstr (haystack, needle) != NULL,
      "%s \"%.300s\" does not mention \"%s\"", what, haystack, needle);
}

/* ---- what the element does, seen from its own thread ---- */

/* A sync bus handler and a src pad probe run in the streaming thread, so
 * they time what the element did rather than when the test got round to
 * looking: when a frame left it, when it dropped a peer.  They also count
 * ERROR, EOS and WARNING messages, which the helpers above would otherwise
 * stash unseen, and can count the element's sockets at every frame. */
typedef struct
{
  GMutex lock;
  gint errors;
  gint eos;
  gint warnings;
  gint64 last_push_us;
  guint64 pushes;
  gint64 dropped_us;            /* last disconnected or rejected message */
  gint64 push_before_drop_us;   /* last_push_us when that was posted */

  /* sockets, counted at every frame when src_port is set */
  guint16 src_port;
  guint samples;
  guint max_peers;
  guint min_listeners;
  guint max_listeners;
} Watch;

static GstBusSyncReply
watch_message (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  Watch *w = user_data;
  gint64 now = g_get_monotonic_time ();

  g_mutex_lock (&w->lock);
  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:{
      GError *err = NULL;
      gst_message_parse_error (msg, &err, NULL);
      GST_ERROR ("unexpected ERROR on the bus: %s", err->message);
      g_error_free (err);
      w->errors++;
      break;
    }
    case GST_MESSAGE_EOS:
      w->eos++;
      break;
    case GST_MESSAGE_WARNING:
      w->warnings++;
      break;
    case GST_MESSAGE_ELEMENT:
      if (gst_message_has_name (msg, DISCONNECTED)
          || gst_message_has_name (msg, REJECTED)) {
        w->dropped_us = now;
        w->push_before_drop_us = w->last_push_us;
      }
      break;
    default:
      break;
  }
  g_mutex_unlock (&w->lock);
  return GST_BUS_PASS;
}

static GstPadProbeReturn
watch_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Watch *w = user_data;
  gint64 now = g_get_monotonic_time ();
  guint listeners = 0, peers = 0;

  /* Between two frames every decision the element took is carried out:
   * this is where its socket count is exact. */
  if (w->src_port)
    faults_element_sockets (w->src_port, &listeners, &peers);

  g_mutex_lock (&w->lock);
  w->last_push_us = now;
  w->pushes++;
  if (w->src_port) {
    w->samples++;
    w->max_peers = MAX (w->max_peers, peers);
    w->max_listeners = MAX (w->max_listeners, listeners);
    w->min_listeners = MIN (w->min_listeners, listeners);
  }
  g_mutex_unlock (&w->lock);
  return GST_PAD_PROBE_OK;
}

/* Free with watch_free() after tf_test_src_free(). */
static Watch *
watch_new (GstHarness * h, guint16 count_sockets_on)
{
  Watch *w = g_new0 (Watch, 1);
  GstPad *pad = gst_element_get_static_pad (h->element, "src");

  g_mutex_init (&w->lock);
  w->src_port = count_sockets_on;
  w->min_listeners = G_MAXUINT;
  gst_bus_set_sync_handler (tf_test_src_bus (h), watch_message, w, NULL);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, watch_buffer, w, NULL);
  gst_object_unref (pad);
  return w;
}

static void
watch_free (Watch * w)
{
  g_mutex_clear (&w->lock);
  g_free (w);
}

/* How long after its last frame the element dropped its peer. */
static gint64
watch_drop_delay_ms (Watch * w)
{
  gint64 d;

  g_mutex_lock (&w->lock);
  fail_unless (w->dropped_us != 0 && w->push_before_drop_us != 0);
  d = (w->dropped_us - w->push_before_drop_us) / 1000;
  g_mutex_unlock (&w->lock);
  return d;
}

/* The peer was dropped at its timeout: not before, and not much after. */
static void
assert_dropped_at_timeout (Watch * w, const gchar * what)
{
  gint64 d = watch_drop_delay_ms (w);

  fail_unless (d >= TIMEOUT_MS - EARLY_MS, "%s was dropped %" G_GINT64_FORMAT
      " ms after its last frame, before the %u ms timeout", what, d,
      TIMEOUT_MS);
  fail_unless (d <= TIMEOUT_MS + LATE_MS, "%s was dropped only %"
      G_GINT64_FORMAT " ms after its last frame (timeout %u ms)", what, d,
      TIMEOUT_MS);
}

/* No ERROR, no EOS, exactly `warnings` WARNINGs: the pipeline went on. */
static void
assert_still_running (GstHarness * h, Watch * w, gint warnings)
{
  GstEvent *ev;

  g_mutex_lock (&w->lock);
  fail_unless_equals_int (w->errors, 0);
  fail_unless_equals_int (w->eos, 0);
  fail_unless_equals_int (w->warnings, warnings);
  g_mutex_unlock (&w->lock);
  while ((ev = gst_harness_try_pull_event (h))) {
    fail_if (GST_EVENT_TYPE (ev) == GST_EVENT_EOS, "EOS downstream");
    gst_event_unref (ev);
  }
}

/* ---- nftables: losing a camera's packets ---- */

/* Counts, without dropping anything, what passes between the element
 * (port src) and the camera (port cam).  Priority -10: it sees packets
 * before the tables that drop them. */
static FaultsNftTable *
watch_table (guint16 src, guint16 cam)
{
  gchar *body = g_strdup_printf (
      "  counter cam_syn { }\n"
      "  counter cam_rst { }\n"
      "  counter elem_rst { }\n"
      "  counter elem_fin { }\n"
      "  chain input {\n"
      "    type filter hook input priority -10; policy accept;\n"
      "    tcp sport %u tcp dport %u tcp flags & (syn | ack) == syn"
      " counter name \"cam_syn\"\n"
      "    tcp sport %u tcp dport %u tcp flags & rst == rst"
      " counter name \"cam_rst\"\n"
      "    tcp sport %u tcp dport %u tcp flags & rst == rst"
      " counter name \"elem_rst\"\n"
      "    tcp sport %u tcp dport %u tcp flags & fin == fin"
      " counter name \"elem_fin\"\n"
      "  }", cam, src, cam, src, src, cam, src, cam);
  FaultsNftTable *t = faults_nft_table_new ("watch", body);

  g_free (body);
  return t;
}

/* The camera is gone from the network: nothing it sends arrives, nothing
 * sent to it is answered.  Delete the table and it is back. */
static FaultsNftTable *
down_table (guint16 src, guint16 cam)
{
  gchar *body = g_strdup_printf (
      "  chain input {\n"
      "    type filter hook input priority 0; policy accept;\n"
      "    tcp sport %u tcp dport %u drop\n"
      "    tcp sport %u tcp dport %u drop\n"
      "  }", cam, src, src, cam);
  FaultsNftTable *t = faults_nft_table_new ("down", body);

  g_free (body);
  return t;
}

/* Every RST the camera sends is lost. */
static FaultsNftTable *
lose_rst_table (guint16 src, guint16 cam)
{
  gchar *body = g_strdup_printf (
      "  chain input {\n"
      "    type filter hook input priority 0; policy accept;\n"
      "    tcp sport %u tcp dport %u tcp flags & rst == rst drop\n"
      "  }", cam, src);
  FaultsNftTable *t = faults_nft_table_new ("lose_rst", body);

  g_free (body);
  return t;
}

/* A camera that streams N_FRAMES frames from `seq` on, each pulled; the
 * time before its last frame was sent is *last_send. */
static void
stream_frames (GstHarness * h, TfTestPeer * cam, guint32 seq, gint64 * last_send)
{
  guint i;

  for (i = 0; i < N_FRAMES; i++) {
    if (last_send)
      *last_send = g_get_monotonic_time ();
    tf_test_send_frame (cam, seq + i, i == 0);
    tf_test_pull_frame (h, seq + i, i == 0);
  }
}

/* ---- 1. power loss: no FIN, no RST, the peer is just gone ---- */

GST_START_TEST (test_faults_power_loss)
{
  GstHarness *h;
  Watch *w;
  TfTestPeer *cam, *next;
  FaultsNftTable *watch, *down;
  guint16 port, cam_port;
  GstMessage *msg;

  faults_nft_require ();
  h = tf_test_src_new (TIMEOUT_PROP);
  w = watch_new (h, 0);
  port = tf_test_src_port (h);
  cam = tf_test_peer_connect (port);
  cam_port = cam->local_port;
  watch = watch_table (port, cam_port);

  stream_frames (h, cam, A_SEQ, NULL);
  msg = tf_test_expect_message (h, CONNECTED, cam_port, NULL, WAIT_MS);
  gst_message_unref (msg);

  /* Power loss: from now on none of the camera's packets arrive, and its
   * TCP state is thrown away.  The RST its abortive close sends is lost
   * like everything else. */
  down = down_table (port, cam_port);
  tf_test_peer_reset (cam);
  fail_unless (faults_nft_wait_counter (watch, "cam_rst", 1, WAIT_MS) >= 1,
      "the camera's abortive close sent no RST");
  /* So the element cannot know: its connection is still established. */
  fail_unless (faults_element_fd (port, cam_port) >= 0, "the element closed "
      "its socket although nothing reached it");
  fail_unless_equals_int (tf_test_stat_peer_port (h), cam_port);

  msg = tf_test_expect_message (h, DISCONNECTED, cam_port, "timeout",
      TIMEOUT_MS + WAIT_MS);
  fail_unless_equals_uint64 (tf_test_message_frames (msg), N_FRAMES);
  gst_message_unref (msg);
  assert_dropped_at_timeout (w, "the vanished camera");

  /* It closed its side with an RST (lost, like all traffic to the dead
   * camera, but it left), not with a FIN. */
  fail_unless (faults_nft_wait_counter (watch, "elem_rst", 1, WAIT_MS) >= 1,
      "the element did not send an RST when it dropped the dead peer");
  fail_unless_equals_uint64 (faults_nft_counter (watch, "elem_fin"), 0);
  fail_unless_equals_int (faults_element_fd (port, cam_port), -1);
  tf_test_wait_status (h, TF_STATUS_WAITING);
  fail_unless_equals_uint64 (tf_test_stat (h, "timeouts"), 1);

  /* The next camera streams. */
  next = tf_test_peer_connect (port);
  stream_frames (h, next, B_SEQ, NULL);
  msg = tf_test_expect_message (h, CONNECTED, next->local_port, NULL, WAIT_MS);
  gst_message_unref (msg);
  fail_unless_equals_int (tf_test_stat_peer_port (h), next->local_port);
  fail_unless_equals_uint64 (tf_test_stat (h, "connections"), 2);
  fail_unless_equals_uint64 (tf_test_stat (h, "frames"), 2 * N_FRAMES);
  tf_test_assert_no_buffer (h, 50);
  assert_still_running (h, w, 0);

  faults_nft_table_free (down);
  faults_nft_table_free (watch);
  tf_test_peer_close (next);
  tf_test_src_free (h);
  watch_free (w);
}

GST_END_TEST;

/* ---- 2. reboot onto the same source port ---- */

/* The camera streams from port P, loses power (its TCP state vanishes,
 * its RST is lost), boots and reconnects from P at once, while the
 * element still holds the old connection from P, ESTABLISHED.
 *
 * Its SYN reaches that old connection, not the listener.  Linux answers
 * with a challenge ACK (RFC 5961); the camera, in SYN-SENT, answers that
 * with an RST, which kills the old connection (reason "reset"), and sends
 * its SYN again at once (Linux rearms the SYN timer at its minimum after
 * such an ACK), which reaches the listener.  With rst_lost that RST never
 * arrives: only the element's timeout can free the 4-tuple (reason
 * "timeout"), and the SYN retried 1 s after the first gets in.  Either way
 * the stream must resume within timeout + one SYN retry of the camera's
 * last frame, and the camera must have needed more than one SYN (else its
 * reconnect never met the old connection and nothing was tested). */
static void
check_reboot_same_port (gboolean rst_lost)
{
  GstHarness *h;
  Watch *w;
  TfTestPeer *cam;
  FaultsNftTable *watch, *down, *lose_rst = NULL;
  guint16 port, p;
  gint64 last_send, reconnect, resumed;
  guint listeners, peers;
  guint64 syns, cam_rsts;
  GstMessage *msg;

  faults_nft_require ();
  h = tf_test_src_new (TIMEOUT_PROP);
  w = watch_new (h, 0);
  port = tf_test_src_port (h);
  cam = tf_test_peer_connect_from_fixed_port (port);
  p = cam->local_port;
  watch = watch_table (port, p);
  if (rst_lost)
    lose_rst = lose_rst_table (port, p);

  stream_frames (h, cam, A_SEQ, &last_send);
  msg = tf_test_expect_message (h, CONNECTED, p, NULL, WAIT_MS);
  gst_message_unref (msg);

  /* Power loss, then the camera is back on the network.  Its RST must
   * have been lost (counted) before the table goes. */
  down = down_table (port, p);
  tf_test_peer_reset (cam);
  fail_unless (faults_nft_wait_counter (watch, "cam_rst", 1, WAIT_MS) >= 1,
      "the camera's abortive close sent no RST");
  faults_nft_table_free (down);
  fail_unless (faults_element_fd (port, p) >= 0, "the element's old "
      "connection from port %u was gone %" G_GINT64_FORMAT " ms after the "
      "camera's last frame, before the camera came back: this machine was "
      "too slow to test the reconnect onto it", p, tf_test_ms_since (last_send));

  /* It reconnects from the same port: this blocks through the SYN
   * retries. */
  reconnect = g_get_monotonic_time ();
  cam = tf_test_peer_try_connect_from (port, p);
  fail_unless (cam != NULL, "the rebooted camera could not reconnect from "
      "port %u (tried for %" G_GINT64_FORMAT " ms)", p, tf_test_ms_since (reconnect));
  fail_unless_equals_int (cam->local_port, p);
  GST_INFO ("reconnected from %u after %" G_GINT64_FORMAT " ms", p,
      tf_test_ms_since (reconnect));

  tf_test_send_frame (cam, B_SEQ, TRUE);
  tf_test_pull_frame (h, B_SEQ, TRUE);
  resumed = tf_test_ms_since (last_send);
  fail_unless (resumed <= TIMEOUT_MS + SYN_RETRY_MS + RESUME_SLACK_MS,
      "the stream resumed %" G_GINT64_FORMAT " ms after the camera's last "
      "frame; timeout %u ms + one SYN retry (%u ms) allows %u", resumed,
      TIMEOUT_MS, SYN_RETRY_MS, TIMEOUT_MS + SYN_RETRY_MS + RESUME_SLACK_MS);
  tf_test_send_frame (cam, B_SEQ + 1, FALSE);
  tf_test_pull_frame (h, B_SEQ + 1, FALSE);

  /* The old connection left the way only this scenario explains. */
  msg = tf_test_expect_message (h, DISCONNECTED, p, rst_lost ? "timeout" : "reset",
      WAIT_MS);
  fail_unless_equals_uint64 (tf_test_message_frames (msg), N_FRAMES);
  gst_message_unref (msg);
  if (rst_lost)
    assert_dropped_at_timeout (w, "the rebooted camera's old connection");
  msg = tf_test_expect_message (h, CONNECTED, p, NULL, WAIT_MS);
  gst_message_unref (msg);

  syns = faults_nft_counter (watch, "cam_syn");
  cam_rsts = faults_nft_counter (watch, "cam_rst");
  g_print ("reboot onto the same port%s: resumed %" G_GINT64_FORMAT " ms "
      "after the last frame (reconnect took %" G_GINT64_FORMAT " ms, %"
      G_GUINT64_FORMAT " SYNs, %" G_GUINT64_FORMAT " RSTs from the camera)\n",
      rst_lost ? ", its RSTs lost" : "", resumed, tf_test_ms_since (reconnect), syns,
      cam_rsts);
  /* Proof that the reconnect really met the old connection: its first SYN
   * did not get in. */
  fail_unless (syns >= 2, "the reconnect needed no SYN retry: the old "
      "connection was not in its way, so this tested nothing");
  if (rst_lost)
    fail_unless (faults_nft_counter (watch, "elem_rst") >= 1,
        "the element did not reset the old connection");

  faults_element_sockets (port, &listeners, &peers);
  fail_unless_equals_int (peers, 1);
  fail_unless (faults_element_fd (port, p) >= 0);
  fail_unless_equals_int (tf_test_stat_peer_port (h), p);
  fail_unless_equals_uint64 (tf_test_stat (h, "connections"), 2);
  fail_unless_equals_uint64 (tf_test_stat (h, "frames"), N_FRAMES + 2);
  fail_unless_equals_uint64 (tf_test_stat (h, "timeouts"), rst_lost ? 1 : 0);
  tf_test_assert_no_buffer (h, 50);
  assert_still_running (h, w, 0);

  if (lose_rst)
    faults_nft_table_free (lose_rst);
  faults_nft_table_free (watch);
  tf_test_peer_close (cam);
  tf_test_src_free (h);
  watch_free (w);
}

GST_START_TEST (test_faults_reboot_same_port)
{
  check_reboot_same_port (FALSE);
}

GST_END_TEST;

GST_START_TEST (test_faults_reboot_same_port_rst_lost)
{
  check_reboot_same_port (TRUE);
}

GST_END_TEST;

/* ---- 3. a silent peer that stays connected ---- */

#define CAMSIM_W 16
#define CAMSIM_H 8
#define CAMSIM_FPS 100

typedef struct
{
  GPid pid;
  gint out_fd;
} CamSim;

/* The camera dies with the test, even stopped, whatever ends the test. */
static void
camsim_child_setup (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static CamSim *
camsim_spawn (guint16 port, const gchar * script)
{
  const gchar *exe = g_getenv ("TF_CAMSIM");
  gchar *port_s = g_strdup_printf ("%u", port);
  gchar *w_s = g_strdup_printf ("%u", CAMSIM_W);
  gchar *h_s = g_strdup_printf ("%u", CAMSIM_H);
  gchar *fps_s = g_strdup_printf ("%u", CAMSIM_FPS);
  gchar *argv[] = { (gchar *) exe, (gchar *) "--port", port_s,
    (gchar *) "--width", w_s, (gchar *) "--height", h_s, (gchar *) "--fps",
    fps_s, (gchar *) "--script", (gchar *) script, NULL
  };
  CamSim *cs = g_new0 (CamSim, 1);
  GError *err = NULL;

  fail_unless (exe != NULL, "TF_CAMSIM is not set (meson test sets it)");
  fail_unless (g_spawn_async_with_pipes (NULL, argv, NULL,
          G_SPAWN_DO_NOT_REAP_CHILD, camsim_child_setup, NULL, &cs->pid, NULL,
          &cs->out_fd, NULL, &err), "could not run %s: %s", exe,
      err ? err->message : "?");
  g_free (port_s);
  g_free (w_s);
  g_free (h_s);
  g_free (fps_s);
  return cs;
}

/* Waits for the camera to stop (SIGSTOP took effect). */
static void
camsim_wait_stopped (CamSim * cs)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;
  gint status = 0;
  pid_t r;

  while ((r = waitpid (cs->pid, &status, WNOHANG | WUNTRACED)) == 0
      && g_get_monotonic_time () < deadline)
    g_usleep (500);
  fail_unless (r == cs->pid && WIFSTOPPED (status), "tf-camsim did not stop");
}

/* Waits for the camera to exit, returns its output; it must succeed. */
static gchar *
camsim_finish (CamSim * cs)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;
  GString *out = g_string_new (NULL);
  gint status = 0;
  pid_t r;
  gchar buf[4096];
  gssize n;

  while ((r = waitpid (cs->pid, &status, WNOHANG)) == 0
      && g_get_monotonic_time () < deadline)
    g_usleep (1000);
  if (r != cs->pid) {
    kill (cs->pid, SIGKILL);
    waitpid (cs->pid, &status, 0);
    fail ("tf-camsim did not finish within %u ms", WAIT_MS);
  }
  while ((n = read (cs->out_fd, buf, sizeof (buf))) > 0)
    g_string_append_len (out, buf, n);
  close (cs->out_fd);
  g_spawn_close_pid (cs->pid);
  GST_INFO ("tf-camsim said:\n%s", out->str);
  fail_unless (WIFEXITED (status) && WEXITSTATUS (status) == 0,
      "tf-camsim failed (status 0x%x):\n%s", status, out->str);
  g_free (cs);
  return g_string_free (out, FALSE);
}

/* Frame `seq` of a tf-camsim stream: byte (x, y) is x + y + 4 seq. */
static void
assert_camsim_frame (GstBuffer * buf, guint32 seq)
{
  GstMapInfo map;
  guint x, y;

  fail_unless (buf != NULL, "tf-camsim frame %u never arrived", seq);
  fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
  fail_unless_equals_uint64 (map.size, CAMSIM_W * CAMSIM_H);
  for (y = 0; y < CAMSIM_H; y++)
    for (x = 0; x < CAMSIM_W; x++)
      fail_unless_equals_int (map.data[y * CAMSIM_W + x],
          (x + y + 4 * seq) & 0xff);
  gst_buffer_unmap (buf, &map);
}

/* tf-camsim's "... after N frames" or "(RST, N ms after ...)": N. */
static guint64
number_after (const gchar * text, const gchar * prefix)
{
  const gchar *p = strstr (text, prefix);

  fail_unless (p != NULL, "tf-camsim never said \"%s\":\n%s", prefix, text);
  return g_ascii_strtoull (p + strlen (prefix), NULL, 10);
}

/* A camera frozen by SIGSTOP: its kernel keeps the connection up and
 * acknowledges, but no frame comes.  It is dropped at the timeout with an
 * RST, which it finds when it thaws; the next camera streams. */
GST_START_TEST (test_faults_silent_sigstopped_sender)
{
  GstHarness *h = tf_test_src_new (TIMEOUT_PROP);
  Watch *w = watch_new (h, 0);
  guint16 port = tf_test_src_port (h);
  CamSim *cs = camsim_spawn (port, "connect,stream:100000,close");
  GstMessage *msg;
  GstBuffer *buf;
  guint16 cam_port;
  guint64 frames;
  guint32 seq;
  gchar *out;

  msg = tf_test_wait_message (h, CONNECTED, WAIT_MS);
  fail_unless (msg != NULL, "tf-camsim never became current");
  cam_port = tf_test_message_port (msg);
  gst_message_unref (msg);
  for (seq = 0; seq < 10; seq++) {
    buf = tf_test_pull (h, WAIT_MS);
    assert_camsim_frame (buf, seq);
    gst_buffer_unref (buf);
  }

  kill (cs->pid, SIGSTOP);
  camsim_wait_stopped (cs);
  msg = tf_test_expect_message (h, DISCONNECTED, cam_port, "timeout",
      TIMEOUT_MS + WAIT_MS);
  frames = tf_test_message_frames (msg);
  gst_message_unref (msg);
  assert_dropped_at_timeout (w, "the stopped camera");
  fail_unless_equals_int (faults_element_fd (port, cam_port), -1);

  /* Every frame it sent before it froze came out, in order. */
  for (; (buf = gst_harness_try_pull (h)); seq++) {
    assert_camsim_frame (buf, seq);
    gst_buffer_unref (buf);
  }
  fail_unless_equals_uint64 (seq, frames);

  /* Thawed, its next write meets the element's RST. */
  kill (cs->pid, SIGCONT);
  out = camsim_finish (cs);
  fail_unless_equals_uint64 (number_after (out, "write failed after "),
      frames);
  assert_contains (out, "reset by peer", "tf-camsim's output");
  g_free (out);

  /* The next camera streams. */
  cs = camsim_spawn (port, "connect,stream:5,close");
  for (seq = 0; seq < 5; seq++) {
    buf = tf_test_pull (h, WAIT_MS);
    assert_camsim_frame (buf, seq);
    fail_unless_equals_int (!!GST_BUFFER_FLAG_IS_SET (buf,
            GST_BUFFER_FLAG_DISCONT), seq == 0);
    gst_buffer_unref (buf);
  }
  out = camsim_finish (cs);
  g_free (out);
  msg = tf_test_wait_message (h, CONNECTED, WAIT_MS);
  fail_unless (msg != NULL);
  fail_unless (tf_test_message_port (msg) != cam_port);
  gst_message_unref (msg);
  msg = tf_test_wait_message (h, DISCONNECTED, WAIT_MS);
  fail_unless (msg != NULL);
  fail_unless_equals_string (tf_test_message_reason (msg), "closed");
  fail_unless_equals_uint64 (tf_test_message_frames (msg), 5);
  gst_message_unref (msg);

  fail_unless_equals_uint64 (tf_test_stat (h, "timeouts"), 1);
  fail_unless_equals_uint64 (tf_test_stat (h, "sequence-gaps"), 0);
  assert_still_running (h, w, 0);
  tf_test_src_free (h);
  watch_free (w);
}

GST_END_TEST;

/* A camera that stops writing in the middle of a frame and stays
 * connected: the partial frame never comes out, the camera is reset at
 * the timeout counted from its last whole frame, and it sees the RST. */
GST_START_TEST (test_faults_silent_mid_frame)
{
  GstHarness *h = tf_test_src_new (TIMEOUT_PROP);
  Watch *w = watch_new (h, 0);
  guint16 port = tf_test_src_port (h);
  CamSim *cs = camsim_spawn (port,
      "connect,stream:10,partial:40,silent:1500,close");
  TfTestPeer *next;
  GstMessage *msg;
  GstBuffer *buf;
  guint64 ended_ms;
  guint32 seq;
  gchar *out;

  msg = tf_test_wait_message (h, CONNECTED, WAIT_MS);
  fail_unless (msg != NULL, "tf-camsim never became current");
  gst_message_unref (msg);
  msg = tf_test_wait_message (h, DISCONNECTED, TIMEOUT_MS + WAIT_MS);
  fail_unless (msg != NULL, "the silent camera was never dropped");
  fail_unless_equals_string (tf_test_message_reason (msg), "timeout");
  fail_unless_equals_uint64 (tf_test_message_frames (msg), 10);
  gst_message_unref (msg);
  assert_dropped_at_timeout (w, "the camera silent mid-frame");

  for (seq = 0; seq < 10; seq++) {
    buf = tf_test_pull (h, WAIT_MS);
    assert_camsim_frame (buf, seq);
    gst_buffer_unref (buf);
  }
  tf_test_assert_no_buffer (h, 50);

  out = camsim_finish (cs);
  assert_contains (out, "the receiver ended the connection (RST",
      "tf-camsim's output");
  /* Counted from its partial write, which came after its last frame: no
   * later than the timeout.  (The element's side, checked above, is the
   * exact one.) */
  ended_ms = number_after (out, "(RST, ");
  fail_unless (ended_ms <= TIMEOUT_MS + LATE_MS, "tf-camsim saw the RST %"
      G_GUINT64_FORMAT " ms after its last write (timeout %u ms)", ended_ms,
      TIMEOUT_MS);
  g_free (out);

  next = tf_test_peer_connect (port);
  stream_frames (h, next, B_SEQ, NULL);
  msg = tf_test_expect_message (h, CONNECTED, next->local_port, NULL, WAIT_MS);
  gst_message_unref (msg);
  tf_test_peer_close (next);

  fail_unless_equals_uint64 (tf_test_stat (h, "frames"), 10 + N_FRAMES);
  assert_still_running (h, w, 0);
  tf_test_src_free (h);
  watch_free (w);
}

GST_END_TEST;

/* ---- 6. a connection flood while a camera streams ---- */

#define FLOOD_CONNECTS 1000
#define FLOOD_IDLE 100
#define MAX_PENDING 4           /* the default */
#define FLOOD_QUEUE_MAX 8
#define SEQ_CAPS "application/x-tf-seq"
#define SEQ_FRAME_LEN 16

/* A camera that streams numbered frames from its own thread, about one a
 * millisecond, until told to stop: payload bytes 0..3 are the sequence
 * number, big-endian, as in the header. */
typedef struct
{
  TfTestPeer *peer;
  gint stop;
  gint sent;
  gint failed;
  GThread *thread;
} SeqCamera;

static gpointer
seq_camera_run (gpointer data)
{
  SeqCamera *c = data;

  while (!g_atomic_int_get (&c->stop)) {
    guint8 msg[TF_HEADER_SIZE + sizeof (SEQ_CAPS) + SEQ_FRAME_LEN];
    guint32 seq = (guint32) c->sent;
    gsize caps_len = seq == 0 ? strlen (SEQ_CAPS) : 0;
    guint8 *payload = msg + TF_HEADER_SIZE + caps_len;
    gsize len = TF_HEADER_SIZE + caps_len + SEQ_FRAME_LEN;
    guint i;

    tf_header_write (msg, caps_len, SEQ_FRAME_LEN, seq, TF_TIMESTAMP_NONE);
    memcpy (msg + TF_HEADER_SIZE, SEQ_CAPS, caps_len);
    GST_WRITE_UINT32_BE (payload, seq);
    for (i = 4; i < SEQ_FRAME_LEN; i++)
      payload[i] = (guint8) (seq * 7 + i);
    /* No check macros off the test's thread. */
    if (g_socket_send (c->peer->socket, (const gchar *) msg, len, NULL,
            NULL) != (gssize) len) {
      g_atomic_int_set (&c->failed, 1);
      return NULL;
    }
    g_atomic_int_inc (&c->sent);
    g_usleep (1000);
  }
  return NULL;
}

GST_START_TEST (test_faults_connection_flood)
{
  /* The defaults: replace-on-frame, max-pending 4, timeout 1 s. */
  GstHarness *h = tf_test_src_new (NULL);
  guint16 port = tf_test_src_port (h);
  Watch *w = watch_new (h, port);
  SeqCamera cam = { 0, };
  TfTestPeer *idle[FLOOD_IDLE];
  guint n_idle = 0, i, listeners, peers, outside_max = 0;
  guint64 pushes_before, pushes_during;
  gint listener;
  gint64 start, slowest = 0, flood_ms;
  guint32 expect;
  GstBuffer *buf;
  GstMessage *msg;

  cam.peer = tf_test_peer_connect (port);
  cam.thread = g_thread_new ("seq-camera", seq_camera_run, &cam);
  buf = tf_test_pull (h, WAIT_MS);
  fail_unless (buf != NULL, "the camera never streamed");
  fail_unless (gst_buffer_memcmp (buf, 0, "\0\0\0\0", 4) == 0);
  fail_unless (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT));
  gst_buffer_unref (buf);
  msg = tf_test_expect_message (h, CONNECTED, cam.peer->local_port, NULL, WAIT_MS);
  gst_message_unref (msg);

  /* 1,000 connects closed at once and 100 that stay, idle, interleaved,
   * as fast as the element accepts them.  The flood keeps the listen queue
   * (16 deep) at most half full: past that the kernel drops SYNs, which
   * only costs the flooder a 1 s SYN retry and tests nothing of the
   * element. */
  listener = faults_element_listener_fd (port);
  fail_unless (listener >= 0, "no listening socket on port %u", port);
  g_mutex_lock (&w->lock);
  pushes_before = w->pushes;
  g_mutex_unlock (&w->lock);
  start = g_get_monotonic_time ();
  for (i = 0; i < FLOOD_CONNECTS; i++) {
    gint64 t, deadline = g_get_monotonic_time () + WAIT_MS * 1000;
    TfTestPeer *c;

    while (faults_accept_queue (listener) >= FLOOD_QUEUE_MAX) {
      fail_unless (g_get_monotonic_time () < deadline, "the element stopped "
          "accepting: %u connections queued", faults_accept_queue (listener));
      g_usleep (50);
    }
    t = g_get_monotonic_time ();
    c = tf_test_peer_connect (port);

    tf_test_peer_close (c);
    slowest = MAX (slowest, g_get_monotonic_time () - t);
    if (i % (FLOOD_CONNECTS / FLOOD_IDLE) == FLOOD_CONNECTS / FLOOD_IDLE / 2)
      idle[n_idle++] = tf_test_peer_connect (port);
    /* Seen from here the count is approximate (the element accepts and
     * drops while we read the directory); it is logged.  The exact count
     * is the one taken between frames, in the streaming thread. */
    if (i % 25 == 0) {
      faults_element_sockets (port, &listeners, &peers);
      outside_max = MAX (outside_max, peers);
    }
  }
  flood_ms = tf_test_ms_since (start);
  g_mutex_lock (&w->lock);
  pushes_during = w->pushes - pushes_before;
  g_mutex_unlock (&w->lock);
  fail_unless_equals_int (n_idle, FLOOD_IDLE);

  /* The flood is over; the camera streams on a little, then stops. */
  fail_unless (tf_test_wait_stat (h, "connections", 1 + FLOOD_CONNECTS + FLOOD_IDLE,
          WAIT_MS), "the element accepted only %" G_GUINT64_FORMAT " of %u "
      "connections", tf_test_stat (h, "connections"),
      1 + FLOOD_CONNECTS + FLOOD_IDLE);
  g_usleep (20 * 1000);
  g_atomic_int_set (&cam.stop, 1);
  g_thread_join (cam.thread);
  fail_if (g_atomic_int_get (&cam.failed), "the camera's connection broke "
      "after %d frames", g_atomic_int_get (&cam.sent));
  fail_unless (tf_test_wait_stat (h, "frames", cam.sent, WAIT_MS), "%"
      G_GUINT64_FORMAT " of the camera's %d frames came out",
      tf_test_stat (h, "frames"), cam.sent);

  /* The camera is done: the streaming thread has nothing left to push. */
  g_mutex_lock (&w->lock);
  g_print ("flood: %u connects+closes and %u idle in %" G_GINT64_FORMAT
      " ms (slowest connect %" G_GINT64_FORMAT " us), %" G_GUINT64_FORMAT
      " camera frames meanwhile, %d in all; element sockets counted between "
      "frames (%u times): at most %u peers, %u..%u listeners; counted from "
      "the flooding thread: at most %u peers\n", FLOOD_CONNECTS, FLOOD_IDLE,
      flood_ms, slowest, pushes_during, cam.sent, w->samples, w->max_peers,
      w->min_listeners, w->max_listeners, outside_max);
  fail_unless (w->max_peers <= MAX_PENDING + 1, "the element held %u peer "
      "sockets at once: more than max-pending %u + the current one",
      w->max_peers, MAX_PENDING);
  fail_unless_equals_int (w->min_listeners, 1);
  fail_unless_equals_int (w->max_listeners, 1);
  g_mutex_unlock (&w->lock);

  /* Not one of the camera's frames was missed.  The first was pulled
   * before the flood; the stats count a frame just before it is pushed, so
   * the last one may still be on its way into the harness. */
  for (expect = 1; expect < (guint32) cam.sent; expect++) {
    GstMapInfo map;

    buf = tf_test_pull (h, WAIT_MS);
    fail_unless (buf != NULL, "frame %u of %d did not come out", expect,
        cam.sent);
    fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
    fail_unless_equals_uint64 (map.size, SEQ_FRAME_LEN);
    fail_unless_equals_int (GST_READ_UINT32_BE (map.data), expect);
    gst_buffer_unmap (buf, &map);
    fail_if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT));
    gst_buffer_unref (buf);
  }
  fail_unless (gst_harness_try_pull (h) == NULL, "more frames came out than "
      "the camera's %d", cam.sent);
  fail_unless_equals_uint64 (tf_test_stat (h, "sequence-gaps"), 0);
  fail_unless_equals_uint64 (tf_test_stat (h, "replacements"), 0);
  fail_unless_equals_int (tf_test_stat_peer_port (h), cam.peer->local_port);

  /* The pending set stayed within max-pending (checked above, at every
   * frame), and so it is now. */
  fail_unless (pushes_during >= 5, "only %" G_GUINT64_FORMAT " camera "
      "frames during the flood", pushes_during);
  faults_element_sockets (port, &listeners, &peers);
  fail_unless (peers <= MAX_PENDING + 1, "%u peer sockets after the flood",
      peers);

  /* Everyone but the camera goes, one way or another. */
  for (i = 0; i < n_idle; i++)
    tf_test_peer_close (idle[i]);
  fail_unless (tf_test_wait_stat (h, "rejected", FLOOD_CONNECTS + FLOOD_IDLE,
          WAIT_MS), "%" G_GUINT64_FORMAT " rejected, expected %u",
      tf_test_stat (h, "rejected"), FLOOD_CONNECTS + FLOOD_IDLE);
  faults_element_sockets (port, &listeners, &peers);
  fail_unless_equals_int (peers, 1);
  fail_unless_equals_int (listeners, 1);
  tf_test_assert_no_message (h, DISCONNECTED, 1);
  tf_test_assert_no_message (h, CONNECTED, 1);
  assert_still_running (h, w, 0);

  tf_test_peer_close (cam.peer);
  tf_test_src_free (h);
  watch_free (w);
}

GST_END_TEST;

/* ---- 7. garbage ---- */

#define N_SEEDS 16

static guint8 *
random_bytes (guint32 seed, gsize len)
{
  GRand *r = g_rand_new_with_seed (seed);
  guint8 *b = g_malloc (len);
  gsize i;

  for (i = 0; i < len; i++)
    b[i] = g_rand_int_range (r, 0, 256);
  g_rand_free (r);
  return b;
}

/* Sends what it can; an element that drops us mid-send is what these
 * tests expect.  FALSE if the send met the reset. */
static gboolean
send_until_reset (TfTestPeer * peer, const guint8 * data, gsize len)
{
  gsize done = 0;

  while (done < len) {
    GError *err = NULL;
    gssize n = g_socket_send (peer->socket, (const gchar *) data + done,
        len - done, NULL, &err);

    if (n <= 0) {
      GST_INFO ("send stopped after %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT
          " bytes: %s", done, len, err ? err->message : "?");
      g_clear_error (&err);
      return FALSE;
    }
    done += n;
  }
  return TRUE;
}

/* Everything that follows a protocol error: the disconnected (if the
 * peer was current, after `frames` frames) or rejected message with reason
 * protocol-error and an error mentioning `keyword`, a WARNING naming the
 * peer, and an RST.  `sent_all`: whether our send completed (if not it
 * already met the RST). */
static void
expect_protocol_drop (GstHarness * h, TfTestPeer * cam, gboolean was_current,
    guint64 frames, const gchar * keyword, gboolean sent_all)
{
  const gchar *name = was_current ? DISCONNECTED : REJECTED;
  GstMessage *msg;
  const gchar *error;
  GError *err = NULL;
  gchar *peer_name;

  if (was_current) {
    msg = tf_test_expect_message (h, CONNECTED, cam->local_port, NULL, WAIT_MS);
    gst_message_unref (msg);
  }
  msg = tf_test_expect_message (h, name, cam->local_port, "protocol-error", WAIT_MS);
  error = gst_structure_get_string (gst_message_get_structure (msg), "error");

  if (keyword)
    assert_contains (error, keyword, "the message's error");
  if (was_current)
    fail_unless_equals_uint64 (tf_test_message_frames (msg), frames);
  gst_message_unref (msg);

  msg = tf_test_wait_warning (h, WAIT_MS);
  fail_unless (msg != NULL, "no WARNING for the bad peer");
  gst_message_parse_warning (msg, &err, NULL);
  peer_name = g_strdup_printf ("127.0.0.1:%u", cam->local_port);
  assert_contains (err->message, peer_name, "the warning");
  if (keyword)
    assert_contains (err->message, keyword, "the warning");
  g_free (peer_name);
  g_error_free (err);
  gst_message_unref (msg);

  if (sent_all)
    fail_unless_equals_int (tf_test_peer_wait_end (cam, WAIT_MS),
        TF_TEST_PEER_GOT_RESET);
}

/* After all the garbage, a good camera streams. */
static void
good_camera_streams (GstHarness * h, const guint8 * wire, gsize wire_len,
    const guint8 * payload, gsize payload_len)
{
  TfTestPeer *good = tf_test_peer_connect (tf_test_src_port (h));
  GstBuffer *buf;
  GstMessage *msg;

  tf_test_peer_send (good, wire, wire_len);
  buf = tf_test_pull (h, WAIT_MS);
  fail_unless (buf != NULL, "the good camera's frame never came");
  tf_test_assert_buffer_equals (buf, payload, payload_len);
  fail_unless (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT));
  gst_buffer_unref (buf);
  msg = tf_test_expect_message (h, CONNECTED, good->local_port, NULL, WAIT_MS);
  gst_message_unref (msg);
  tf_test_assert_no_buffer (h, 50);
  tf_test_peer_close (good);
}

static void
good_header_camera_streams (GstHarness * h)
{
  guint8 *payload = tf_test_payload (B_SEQ, FRAME_LEN);
  gsize caps_len = strlen (GRAY8_4x2);
  gsize len = TF_HEADER_SIZE + caps_len + FRAME_LEN;
  guint8 *wire = g_malloc (len);

  tf_header_write (wire, caps_len, FRAME_LEN, B_SEQ, TF_TIMESTAMP_NONE);
  memcpy (wire + TF_HEADER_SIZE, GRAY8_4x2, caps_len);
  memcpy (wire + TF_HEADER_SIZE + caps_len, payload, FRAME_LEN);
  good_camera_streams (h, wire, len, payload, FRAME_LEN);
  g_free (wire);
  g_free (payload);
}

/* header: seeded random bytes where a header belongs. */
GST_START_TEST (test_faults_garbage_random_header)
{
  GstHarness *h = tf_test_src_new (NULL);
  Watch *w = watch_new (h, 0);
  guint32 seed;

  for (seed = 1; seed <= N_SEEDS; seed++) {
    TfTestPeer *cam = tf_test_peer_connect (tf_test_src_port (h));
    guint8 *junk = random_bytes (seed, 256);
    gboolean sent;

    fail_if (memcmp (junk, TF_HEADER_MAGIC, 4) == 0, "seed %u starts with the "
        "magic: pick another", seed);
    sent = send_until_reset (cam, junk, 256);
    expect_protocol_drop (h, cam, FALSE, 0, "magic", sent);
    tf_test_peer_free (cam);
    g_free (junk);
  }
  good_header_camera_streams (h);

  fail_unless_equals_uint64 (tf_test_stat (h, "protocol-errors"), N_SEEDS);
  fail_unless_equals_uint64 (tf_test_stat (h, "rejected"), N_SEEDS);
  fail_unless_equals_uint64 (tf_test_stat (h, "frames"), 1);
  assert_still_running (h, w, N_SEEDS);
  tf_test_src_free (h);
  watch_free (w);
}

GST_END_TEST;

/* What the length framer makes of `junk`: the frames it completes before
 * it fails, and what the error must mention.  FALSE if it never fails
 * (it waits for more bytes). */
static gboolean
length_junk_outcome (TfLengthFormat fmt, guint64 max, const guint8 * junk,
    gsize len, guint * frames, const gchar ** keyword)
{
  gsize width = tf_length_format_width (fmt), pos = 0;
  gboolean le = fmt == TF_LENGTH_FORMAT_U16LE || fmt == TF_LENGTH_FORMAT_U32LE
      || fmt == TF_LENGTH_FORMAT_U64LE;

  *frames = 0;
  while (pos + width <= len) {
    guint64 v = 0;
    gsize i;

    for (i = 0; i < width; i++)
      v |= (guint64) junk[pos + (le ? i : width - 1 - i)] << (8 * i);
    if (v == 0) {
      *keyword = "empty";
      return TRUE;
    }
    if (v > max) {
      *keyword = "max-frame-size";
      return TRUE;
    }
    if (pos + width + v > len)
      return FALSE;
    pos += width + v;
    (*frames)++;
  }
  return FALSE;
}

/* length, in every length format: seeded random bytes. */
GST_START_TEST (test_faults_garbage_random_length)
{
  static const gchar *const formats[] = { "u16be", "u16le", "u32be", "u32le",
    "u64be", "u64le"
  };
  const guint64 max = 64;
  guint f;

  for (f = 0; f < G_N_ELEMENTS (formats); f++) {
    gchar *props = g_strdup_printf ("framing=length length-format=%s "
        "max-frame-size=%" G_GUINT64_FORMAT, formats[f], max);
    GstHarness *h = tf_test_src_new (props);
    Watch *w = watch_new (h, 0);
    guint64 pushed = 0;
    guint8 prefix[8], *payload;
    guint32 seed;
    GByteArray *wire;

    for (seed = 1; seed <= N_SEEDS; seed++) {
      TfTestPeer *cam = tf_test_peer_connect (tf_test_src_port (h));
      guint8 *junk = random_bytes (seed * 100 + f, 256);
      const gchar *keyword = NULL;
      guint frames = 0;
      gboolean sent;

      fail_unless (length_junk_outcome (f, max, junk, 256, &frames, &keyword),
          "%s seed %u would not fail: pick another", formats[f], seed);
      sent = send_until_reset (cam, junk, 256);
      /* Frames it completes first are frames like any other. */
      expect_protocol_drop (h, cam, frames > 0, frames, keyword, sent);
      pushed += frames;
      tf_test_peer_free (cam);
      g_free (junk);
    }
    for (; pushed > 0; pushed--) {
      GstBuffer *buf = tf_test_pull (h, WAIT_MS);
      fail_unless (buf != NULL);
      gst_buffer_unref (buf);
    }

    payload = tf_test_payload (B_SEQ, FRAME_LEN);
    tf_length_write (f, FRAME_LEN, prefix);
    wire = g_byte_array_new ();
    g_byte_array_append (wire, prefix, tf_length_format_width (f));
    g_byte_array_append (wire, payload, FRAME_LEN);
    good_camera_streams (h, wire->data, wire->len, payload, FRAME_LEN);
    g_byte_array_unref (wire);
    g_free (payload);

    fail_unless_equals_uint64 (tf_test_stat (h, "protocol-errors"), N_SEEDS);
    assert_still_running (h, w, N_SEEDS);
    tf_test_src_free (h);
    watch_free (w);
    g_free (props);
  }
}

GST_END_TEST;

/* jpeg: an SOI followed by seeded random bytes is a broken image; random
 * bytes outside an image are skipped, as between images, and the camera
 * that sent them streams its next JPEG. */
GST_START_TEST (test_faults_garbage_random_jpeg)
{
  GstHarness *h = tf_test_src_new ("framing=jpeg");
  Watch *w = watch_new (h, 0);
  TfTestPeer *cam;
  guint8 *jpeg;
  gsize jpeg_len;
  GstBuffer *buf;
  GstMessage *msg;
  guint16 cam_port;
  guint8 *junk;
  guint32 seed;
  gsize i;

  for (seed = 1; seed <= N_SEEDS; seed++) {
    gboolean sent;

    cam = tf_test_peer_connect (tf_test_src_port (h));
    junk = random_bytes (seed, 256);
    junk[0] = 0xff;
    junk[1] = 0xd8;
    fail_if (junk[2] == 0xff, "seed %u: the byte after the SOI is a marker; "
        "pick another seed", seed);
    sent = send_until_reset (cam, junk, 256);
    expect_protocol_drop (h, cam, FALSE, 0, "marker", sent);
    tf_test_peer_free (cam);
    g_free (junk);
  }

  /* Garbage with no SOI in it, then an image, on one connection. */
  cam = tf_test_peer_connect (tf_test_src_port (h));
  junk = random_bytes (N_SEEDS + 1, 4096);
  for (i = 0; i + 1 < 4096; i++)
    if (junk[i] == 0xff && junk[i + 1] == 0xd8)
      junk[i + 1] = 0;
  jpeg = tf_test_jpeg (7, &jpeg_len);
  tf_test_peer_send (cam, junk, 4096);
  tf_test_peer_send (cam, jpeg, jpeg_len);
  buf = tf_test_pull (h, WAIT_MS);
  tf_test_assert_buffer_equals (buf, jpeg, jpeg_len);
  gst_buffer_unref (buf);
  fail_unless_equals_uint64 (tf_test_stat (h, "skipped-bytes"), 4096);
  cam_port = cam->local_port;
  msg = tf_test_expect_message (h, CONNECTED, cam_port, NULL, WAIT_MS);
  gst_message_unref (msg);
  tf_test_peer_close (cam);
  msg = tf_test_expect_message (h, DISCONNECTED, cam_port, "closed", WAIT_MS);
  gst_message_unref (msg);
  g_free (jpeg);
  g_free (junk);

  jpeg = tf_test_jpeg (8, &jpeg_len);
  good_camera_streams (h, jpeg, jpeg_len, jpeg, jpeg_len);
  g_free (jpeg);

  fail_unless_equals_uint64 (tf_test_stat (h, "protocol-errors"), N_SEEDS);
  fail_unless_equals_uint64 (tf_test_stat (h, "frames"), 2);
  assert_still_running (h, w, N_SEEDS);
  tf_test_src_free (h);
  watch_free (w);
}

GST_END_TEST;

/* A valid header, then garbage: where its caps string should be, or after
 * a whole good frame where the next header should be. */
GST_START_TEST (test_faults_garbage_after_valid_header)
{
  GstHarness *h = tf_test_src_new (NULL);
  Watch *w = watch_new (h, 0);
  guint32 seed;
  guint64 frames = 0;

  for (seed = 1; seed <= N_SEEDS; seed++) {
    TfTestPeer *cam = tf_test_peer_connect (tf_test_src_port (h));
    guint8 *junk = random_bytes (seed, 64 + FRAME_LEN);
    guint8 header[TF_HEADER_SIZE];
    gboolean sent;

    /* 64 random bytes announced as the caps string. */
    tf_header_write (header, 64, FRAME_LEN, 0, TF_TIMESTAMP_NONE);
    tf_test_peer_send (cam, header, sizeof (header));
    sent = send_until_reset (cam, junk, 64 + FRAME_LEN);
    expect_protocol_drop (h, cam, FALSE, 0, "caps", sent);
    tf_test_peer_free (cam);
    g_free (junk);
  }

  for (seed = 1; seed <= N_SEEDS; seed++) {
    TfTestPeer *cam = tf_test_peer_connect (tf_test_src_port (h));
    guint8 *junk = random_bytes (seed + 1000, 256);
    gboolean sent;

    /* A whole good frame makes it current; then garbage. */
    fail_if (memcmp (junk, TF_HEADER_MAGIC, 4) == 0);
    tf_test_send_frame (cam, seed, TRUE);
    tf_test_pull_frame (h, seed, TRUE);
    frames++;
    sent = send_until_reset (cam, junk, 256);
    expect_protocol_drop (h, cam, TRUE, 1, "magic", sent);
    tf_test_peer_free (cam);
    g_free (junk);
  }
  good_header_camera_streams (h);

  fail_unless_equals_uint64 (tf_test_stat (h, "protocol-errors"),
      2 * N_SEEDS);
  fail_unless_equals_uint64 (tf_test_stat (h, "frames"), frames + 1);
  assert_still_running (h, w, 2 * N_SEEDS);
  tf_test_src_free (h);
  watch_free (w);
}

GST_END_TEST;

#define HUGE_CAPS 65535         /* the largest the header can announce */

/* One header frame carrying `caps` (caps_len bytes, not a C string). */
static GByteArray *
frame_with_caps (const guint8 * caps, gsize caps_len, guint32 seq)
{
  GByteArray *a = g_byte_array_new ();
  guint8 header[TF_HEADER_SIZE];
  guint8 *payload = tf_test_payload (seq, FRAME_LEN);

  tf_header_write (header, caps_len, FRAME_LEN, seq, TF_TIMESTAMP_NONE);
  g_byte_array_append (a, header, sizeof (header));
  g_byte_array_append (a, caps, caps_len);
  g_byte_array_append (a, payload, FRAME_LEN);
  g_free (payload);
  return a;
}

/* Seeded random printable ASCII that gst_caps_from_string() refuses. */
static guint8 *
unparsable_text (guint32 seed, gsize len)
{
  static const gchar alphabet[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
      " ,;=/()[]{}<>\"'-_.:!?*+";
  GRand *r = g_rand_new_with_seed (seed);
  gchar *s = g_malloc (len + 1);
  GstCaps *caps;
  gsize i;

  for (i = 0; i < len; i++)
    s[i] = alphabet[g_rand_int_range (r, 0, sizeof (alphabet) - 1)];
  s[len] = '\0';
  g_rand_free (r);
  caps = gst_caps_from_string (s);
  fail_if (caps != NULL && gst_caps_is_fixed (caps), "seed %u gives fixed "
      "caps: pick another", seed);
  gst_clear_caps (&caps);
  return (guint8 *) s;
}

/* 65535-byte caps strings: random bytes (not UTF-8), random text that
 * does not parse, from a new camera and from the current one; then the
 * next camera streams. */
GST_START_TEST (test_faults_garbage_huge_caps)
{
  GstHarness *h = tf_test_src_new (NULL);
  Watch *w = watch_new (h, 0);
  TfTestPeer *cam;
  GByteArray *wire;
  guint8 *caps;
  gboolean sent;

  /* GStreamer's caps parser warns with the whole 64 KiB string; the
   * element's own warning, checked below, is what users read. */
  gst_debug_set_threshold_for_name ("structure", GST_LEVEL_ERROR);

  /* Binary junk. */
  cam = tf_test_peer_connect (tf_test_src_port (h));
  caps = random_bytes (1, HUGE_CAPS);
  wire = frame_with_caps (caps, HUGE_CAPS, 0);
  sent = send_until_reset (cam, wire->data, wire->len);
  expect_protocol_drop (h, cam, FALSE, 0, "caps", sent);
  tf_test_peer_free (cam);
  g_byte_array_unref (wire);
  g_free (caps);

  /* Text that is no caps, from a new camera... */
  cam = tf_test_peer_connect (tf_test_src_port (h));
  caps = unparsable_text (2, HUGE_CAPS);
  wire = frame_with_caps (caps, HUGE_CAPS, 0);
  sent = send_until_reset (cam, wire->data, wire->len);
  expect_protocol_drop (h, cam, FALSE, 0, "unparsable caps", sent);
  tf_test_peer_free (cam);
  g_byte_array_unref (wire);
  g_free (caps);

  /* ...and from the current one, as a caps change. */
  cam = tf_test_peer_connect (tf_test_src_port (h));
  tf_test_send_frame (cam, A_SEQ, TRUE);
  tf_test_pull_frame (h, A_SEQ, TRUE);
  caps = unparsable_text (3, HUGE_CAPS);
  wire = frame_with_caps (caps, HUGE_CAPS, A_SEQ + 1);
  sent = send_until_reset (cam, wire->data, wire->len);
  expect_protocol_drop (h, cam, TRUE, 1, "unparsable caps", sent);
  tf_test_peer_free (cam);
  g_byte_array_unref (wire);
  g_free (caps);

  good_header_camera_streams (h);
  fail_unless_equals_uint64 (tf_test_stat (h, "protocol-errors"), 3);
  fail_unless_equals_uint64 (tf_test_stat (h, "frames"), 2);
  assert_still_running (h, w, 3);
  tf_test_src_free (h);
  watch_free (w);
}

GST_END_TEST;

/* The element quotes the start of caps it cannot use in its warning and
 * error.  Caps are UTF-8 (the framer checks), so what it quotes must be
 * too, wherever the quote ends: applications pass these strings on to
 * things that insist on UTF-8 (GVariant, D-Bus, JSON, GTK). */
GST_START_TEST (test_faults_garbage_caps_quote_is_utf8)
{
  GstHarness *h = tf_test_src_new (NULL);
  Watch *w = watch_new (h, 0);
  GString *str = g_string_new ("x");
  TfTestPeer *cam;
  GByteArray *wire;
  GstMessage *msg;
  GError *err = NULL;
  const gchar *error;
  gboolean sent;

  /* An ASCII byte, then two-byte characters: every even byte offset falls
   * inside one.  Not a structure name, so not caps. */
  while (str->len < 1000)
    g_string_append (str, "\xc3\xa9");
  fail_unless (g_utf8_validate (str->str, -1, NULL));
  gst_debug_set_threshold_for_name ("structure", GST_LEVEL_ERROR);

  cam = tf_test_peer_connect (tf_test_src_port (h));
  wire = frame_with_caps ((const guint8 *) str->str, str->len, 0);
  sent = send_until_reset (cam, wire->data, wire->len);

  msg = tf_test_expect_message (h, REJECTED, cam->local_port, "protocol-error",
      WAIT_MS);
  error = gst_structure_get_string (gst_message_get_structure (msg), "error");
  assert_contains (error, "unparsable caps", "the message's error");
  fail_unless (g_utf8_validate (error, -1, NULL), "the rejected message's "
      "error is not valid UTF-8: the quoted caps were cut inside a "
      "character: ...%s", error + MAX ((gssize) strlen (error) - 12, 0));
  gst_message_unref (msg);

  msg = tf_test_wait_warning (h, WAIT_MS);
  fail_unless (msg != NULL);
  gst_message_parse_warning (msg, &err, NULL);
  fail_unless (g_utf8_validate (err->message, -1, NULL), "the warning is not "
      "valid UTF-8: the quoted caps were cut inside a character");
  g_error_free (err);
  gst_message_unref (msg);
  if (sent)
    fail_unless_equals_int (tf_test_peer_wait_end (cam, WAIT_MS),
        TF_TEST_PEER_GOT_RESET);

  good_header_camera_streams (h);
  assert_still_running (h, w, 1);
  tf_test_peer_free (cam);
  g_byte_array_unref (wire);
  g_string_free (str, TRUE);
  tf_test_src_free (h);
  watch_free (w);
}

GST_END_TEST;

/* A 65535-byte caps string that is valid caps is legal on the wire (the
 * caps length is 16 bits, nothing else bounds it): it streams. */
GST_START_TEST (test_faults_huge_valid_caps_stream)
{
  GstHarness *h = tf_test_src_new (NULL);
  Watch *w = watch_new (h, 0);
  const gchar *head = GRAY8_4x2 ",x-pad=(string)";
  gchar *str = g_malloc (HUGE_CAPS + 1);
  TfTestPeer *cam;
  GByteArray *wire;
  GstCaps *expected, *current;
  guint8 *payload;

  memset (str, 'a', HUGE_CAPS);
  memcpy (str, head, strlen (head));
  str[HUGE_CAPS] = '\0';
  expected = gst_caps_from_string (str);
  fail_unless (expected != NULL && gst_caps_is_fixed (expected));

  cam = tf_test_peer_connect (tf_test_src_port (h));
  wire = frame_with_caps ((const guint8 *) str, HUGE_CAPS, 0);
  tf_test_peer_send (cam, wire->data, wire->len);
  payload = tf_test_payload (0, FRAME_LEN);
  {
    GstBuffer *buf = tf_test_pull (h, WAIT_MS);
    tf_test_assert_buffer_equals (buf, payload, FRAME_LEN);
    gst_buffer_unref (buf);
  }
  current = gst_pad_get_current_caps (h->sinkpad);
  fail_unless (current != NULL && gst_caps_is_equal (current, expected),
      "downstream did not get the peer's caps");
  tf_test_send_frame (cam, 1, FALSE);
  tf_test_pull_frame (h, 1, FALSE);
  fail_unless_equals_uint64 (tf_test_stat (h, "protocol-errors"), 0);
  assert_still_running (h, w, 0);

  gst_caps_unref (current);
  gst_caps_unref (expected);
  g_free (payload);
  g_byte_array_unref (wire);
  g_free (str);
  tf_test_peer_close (cam);
  tf_test_src_free (h);
  watch_free (w);
}

GST_END_TEST;

/* ---- 9. ten thousand cameras come and go ---- */

#define N_CYCLES 10000
#define BASELINE_CYCLES 1000
#define RSS_SLACK (2 * 1024 * 1024)

/* Reads the bus until the camera on `port` is disconnected; it must have
 * been connected, streamed one frame and closed. */
static void
cycle_wait_disconnected (GstBus * bus, guint16 port, guint cycle)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;
  gboolean connected = FALSE;

  for (;;) {
    gint64 left = deadline - g_get_monotonic_time ();
    GstMessage *msg = left > 0 ? gst_bus_timed_pop_filtered (bus,
        left * GST_USECOND, GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR |
        GST_MESSAGE_WARNING) : NULL;
    const GstStructure *s;
    gint p = -1;

    fail_unless (msg != NULL, "cycle %u: no disconnected message", cycle);
    s = gst_message_get_structure (msg);
    if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_ELEMENT
        || !gst_structure_get_int (s, "port", &p) || p != port
        || (!gst_structure_has_name (s, CONNECTED)
            && !gst_structure_has_name (s, DISCONNECTED))) {
      gchar *str = s ? gst_structure_to_string (s) : g_strdup ("(none)");
      fail ("cycle %u: unexpected %s message %s", cycle,
          GST_MESSAGE_TYPE_NAME (msg), str);
      g_free (str);
    }
    if (gst_structure_has_name (s, CONNECTED)) {
      connected = TRUE;
      gst_message_unref (msg);
      continue;
    }
    fail_unless (connected, "cycle %u: disconnected before connected", cycle);
    fail_unless_equals_string (gst_structure_get_string (s, "reason"),
        "closed");
    fail_unless_equals_uint64 (tf_test_message_frames (msg), 1);
    gst_message_unref (msg);
    return;
  }
}

GST_START_TEST (test_faults_connect_cycles_no_leaks)
{
  GstHarness *h = tf_test_src_new (NULL);
  GstBus *bus = tf_test_src_bus (h);
  guint16 port = tf_test_src_port (h);
  guint fds_base = 0, fds_end, listeners, peers, i;
  guint64 rss_base = 0, rss_end;
  gint64 start, t_base = 0;

  /* tcpframe's INFO lines (two a cycle) would only slow the loop down and
   * fill the log. */
  gst_debug_set_threshold_for_name ("tcpframe*", GST_LEVEL_WARNING);

  start = g_get_monotonic_time ();
  for (i = 0; i < N_CYCLES; i++) {
    TfTestPeer *cam = tf_test_peer_connect (port);
    guint16 p = cam->local_port;
    guint8 *payload = tf_test_payload (i, FRAME_LEN);
    GstBuffer *buf;

    tf_test_peer_send_header_frame (cam, GRAY8_4x2, payload, FRAME_LEN, i);
    tf_test_peer_close (cam);
    cycle_wait_disconnected (bus, p, i);
    /* Pushed before the element read the close. */
    buf = gst_harness_try_pull (h);
    fail_unless (buf != NULL, "cycle %u: no frame", i);
    tf_test_assert_buffer_equals (buf, payload, FRAME_LEN);
    fail_unless (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT));
    gst_buffer_unref (buf);
    g_free (payload);

    if (i + 1 == BASELINE_CYCLES) {
      t_base = g_get_monotonic_time ();
      fds_base = faults_count_fds ();
      rss_base = faults_rss_bytes ();
    }
  }
  fds_end = faults_count_fds ();
  rss_end = faults_rss_bytes ();

  g_print ("%u cycles in %" G_GINT64_FORMAT " ms (%" G_GINT64_FORMAT
      " us each after the first %u); fds %u -> %u; RSS %" G_GUINT64_FORMAT
      " -> %" G_GUINT64_FORMAT " KiB (%+" G_GINT64_FORMAT " KiB)\n", N_CYCLES,
      tf_test_ms_since (start), (g_get_monotonic_time () - t_base) / (N_CYCLES -
          BASELINE_CYCLES), BASELINE_CYCLES, fds_base, fds_end,
      rss_base / 1024, rss_end / 1024,
      ((gint64) rss_end - (gint64) rss_base) / 1024);

  fail_unless (fds_end <= fds_base, "%u open fds after %u cycles, %u after "
      "%u", fds_end, N_CYCLES, fds_base, BASELINE_CYCLES);
  fail_unless (rss_end <= rss_base + RSS_SLACK, "RSS grew by %"
      G_GUINT64_FORMAT " KiB between cycle %u and %u", (rss_end - rss_base)
      / 1024, BASELINE_CYCLES, N_CYCLES);
  faults_element_sockets (port, &listeners, &peers);
  fail_unless_equals_int (listeners, 1);
  fail_unless_equals_int (peers, 0);
  fail_unless_equals_uint64 (tf_test_stat (h, "connections"), N_CYCLES);
  fail_unless_equals_uint64 (tf_test_stat (h, "frames"), N_CYCLES);
  fail_unless_equals_uint64 (tf_test_stat (h, "rejected"), 0);
  fail_unless_equals_uint64 (tf_test_stat (h, "protocol-errors"), 0);

  tf_test_src_free (h);
}

GST_END_TEST;

/* ---- the suite, in its own network namespace ---- */

/* The tests that lose packets: they need the namespace (and nft). */
static const gchar *const netns_tests[] = {
  "test_faults_power_loss",
  "test_faults_reboot_same_port",
  "test_faults_reboot_same_port_rst_lost",
};

static gboolean have_netns;

static Suite *
faults_suite (void)
{
  Suite *s = suite_create ("faults");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  if (have_netns) {
    tcase_add_test (tc, test_faults_power_loss);
    tcase_add_test (tc, test_faults_reboot_same_port);
    tcase_add_test (tc, test_faults_reboot_same_port_rst_lost);
  }
  tcase_add_test (tc, test_faults_silent_sigstopped_sender);
  tcase_add_test (tc, test_faults_silent_mid_frame);
  tcase_add_test (tc, test_faults_connection_flood);
  tcase_add_test (tc, test_faults_garbage_random_header);
  tcase_add_test (tc, test_faults_garbage_random_length);
  tcase_add_test (tc, test_faults_garbage_random_jpeg);
  tcase_add_test (tc, test_faults_garbage_after_valid_header);
  tcase_add_test (tc, test_faults_garbage_huge_caps);
  tcase_add_test (tc, test_faults_garbage_caps_quote_is_utf8);
  tcase_add_test (tc, test_faults_huge_valid_caps_stream);
  tcase_add_test (tc, test_faults_connect_cycles_no_leaks);
  return s;
}

int
main (int argc, char **argv)
{
  gchar *why = NULL;
  guint i, skipped = 0, needed = 0;
  FaultsNetns netns;
  SRunner *sr;
  gint ran, failed;

  /* Before anything opens a socket or starts a thread: the element runs in
   * this process, so this process must be in the namespace. */
  netns = faults_netns_enter (&why);
  if (netns == FAULTS_NETNS_BROKEN) {
    g_print ("FAIL: in a new network namespace, but %s\n", why);
    return 1;
  }
  have_netns = netns == FAULTS_NETNS_OK;
  gst_check_init (&argc, &argv);

  if (!have_netns) {
    for (i = 0; i < G_N_ELEMENTS (netns_tests); i++)
      skipped += _gst_check_run_test_func (netns_tests[i]) ? 1 : 0;
    if (skipped) {
      g_print ("SKIP: cannot create a network namespace (%s); the fault "
          "tests need root or CAP_SYS_ADMIN\n", why);
      for (i = 0; i < G_N_ELEMENTS (netns_tests); i++)
        if (_gst_check_run_test_func (netns_tests[i]))
          g_print ("SKIP: %s\n", netns_tests[i]);
    }
  } else {
    gchar *nft_why = NULL;

    if (!faults_nft_probe (&nft_why)) {
      for (i = 0; i < G_N_ELEMENTS (netns_tests); i++)
        needed += _gst_check_run_test_func (netns_tests[i]) ? 1 : 0;
      if (needed)
        g_print ("FAIL: nft cannot be run (%s); the fault tests that lose "
            "packets need it.  tests/run.sh installs it: add nftables to "
            "the test package set (TF_TEST_PACKAGES) in "
            "pipelines/ensure-deps.sh\n", nft_why);
      faults_nft_set_problem (nft_why);
      g_free (nft_why);
    }
  }
  g_free (why);

  sr = srunner_create (faults_suite ());
  srunner_run_all (sr, CK_NORMAL);
  ran = srunner_ntests_run (sr);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  if (failed)
    return 1;
  /* Only tests that could not run were asked for: skipped, visibly
   * (meson counts 77 as a skip). */
  if (ran == 0 && skipped > 0)
    return 77;
  return 0;
}
