/* tcpframesrc peer handling: which camera is current, who is dropped, when
 * and how, and how the source stops and restarts around its peers.
 *
 * Every wait is bounded: for a message, a buffer, or a polled condition
 * with a deadline.  The element's timeout is kept short (300 ms) so the
 * suite stays fast; the bounds around it leave room for a loaded machine.
 *
 * Frames are GRAY8 4x2 (8 bytes) in the header framing unless a test says
 * otherwise; camera A uses sequences from 0, camera B from 1000, so every
 * pulled buffer can be matched byte for byte to the frame that made it. */
#include <gst/check/gstcheck.h>
#include <string.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/sockios.h>

#include "tf-testpeer.h"
#include "tf-framer.h"

#define WAIT_MS tf_test_scale_ms (3000)
#define GRAY8_4x2 TF_TEST_GRAY8_4x2
#define FRAME_LEN TF_TEST_FRAME_LEN

#define TIMEOUT_MS 300
#define TIMEOUT_PROP "timeout=300000000"
/* Long enough that nobody times out while a test that is not about
 * timeouts runs. */
#define NO_TIMEOUT_PROP "timeout=5000000000"
/* How late a timeout may be reported on a busy machine.  Slack on an upper
 * bound, so it scales under memcheck (tf_test_scale_ms). */
#define LATE_MS tf_test_scale_ms (150)
/* A streaming camera's frame interval. */
#define FRAME_INTERVAL_MS 20
/* How long to watch for something that must not happen. */
#define QUIET_MS 50

#define A_SEQ 0
#define B_SEQ 1000

#define CONNECTED "tcpframesrc-connected"
#define DISCONNECTED "tcpframesrc-disconnected"
#define REJECTED "tcpframesrc-rejected"

/* ---- helpers ---- */

static void
wait_stat (GstHarness * h, const gchar * field, guint64 expected)
{
  tf_test_wait_stat (h, field, expected, WAIT_MS);
  fail_unless_equals_uint64 (tf_test_stat (h, field), expected);
}

/* Waits until the element has read every byte `peer` sent: nothing left in
 * our send queue nor in the element's receive queue.  The element's
 * streaming thread finishes with whatever a read completes before it looks
 * at any other socket, so after this a frame sent by `peer` has been dealt
 * with (pushed, or discarded if the peer was pending). */
static void
wait_element_read_all (GstHarness * h, TfTestPeer * peer)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;
  gint fd = -1;

  for (;;) {
    gint outq = -1, inq = -1;

    if (fd < 0)
      fd = tf_test_element_fd (tf_test_src_port (h), peer);
    if (fd >= 0
        && ioctl (g_socket_get_fd (peer->socket), SIOCOUTQ, &outq) == 0
        && ioctl (fd, SIOCINQ, &inq) == 0 && outq == 0 && inq == 0)
      return;
    fail_unless (g_get_monotonic_time () < deadline,
        "the element did not read what port %u sent (fd %d, unsent %d, "
        "unread %d)", peer->local_port, fd, outq, inq);
    g_usleep (500);
  }
}

/* ---- 1. a stale peer is replaced, under each policy ---- */

#define N_A 3
#define N_B 3

/* Camera A streams N_A frames, each pulled, and then goes silent with its
 * socket open.  *last_send is taken before its last frame was sent,
 * *last_pull after it was pulled. */
static TfTestPeer *
camera_a_streams_then_stalls (GstHarness * h, gint64 * last_send,
    gint64 * last_pull)
{
  TfTestPeer *a = tf_test_peer_connect (tf_test_src_port (h));
  GstMessage *msg;
  guint i;

  for (i = 0; i < N_A; i++) {
    *last_send = g_get_monotonic_time ();
    tf_test_send_frame (a, A_SEQ + i, i == 0);
    tf_test_pull_frame (h, A_SEQ + i, i == 0);
  }
  *last_pull = g_get_monotonic_time ();

  msg = tf_test_expect_message (h, CONNECTED, a->local_port, NULL, WAIT_MS);
  gst_message_unref (msg);
  fail_unless_equals_int (tf_test_get_status (h), TF_STATUS_STREAMING);
  return a;
}

/* B streams frames first..first+N_B-1 as the current peer; they come out
 * exactly, DISCONT on the first only, and nothing else follows. */
static void
camera_b_streams (GstHarness * h, TfTestPeer * b, guint32 first,
    gboolean caps_on_first)
{
  guint i;

  for (i = 0; i < N_B; i++)
    tf_test_send_frame (b, first + i, i == 0 && caps_on_first);
  for (i = 0; i < N_B; i++)
    tf_test_pull_frame (h, first + i, i == 0);
  tf_test_assert_no_buffer (h, QUIET_MS);
}

static void
assert_replaced_disconnect (GstHarness * h, TfTestPeer * a, const gchar * why)
{
  GstMessage *msg = tf_test_expect_message (h, DISCONNECTED, a->local_port, why,
      WAIT_MS);

  fail_unless_equals_uint64 (tf_test_message_frames (msg), N_A);
  gst_message_unref (msg);
}

GST_START_TEST (test_peers_stale_replaced_policy_replace)
{
  /* No timeout may interfere: A must be replaced, not expire. */
  GstHarness *h = tf_test_src_new ("peer-policy=replace " NO_TIMEOUT_PROP);
  gint64 last_send, last_pull;
  TfTestPeer *a = camera_a_streams_then_stalls (h, &last_send, &last_pull);
  TfTestPeer *b = tf_test_peer_connect (tf_test_src_port (h));
  GstMessage *msg;

  /* B's connection alone replaces A: B has sent nothing yet. */
  assert_replaced_disconnect (h, a, "replaced");
  msg = tf_test_expect_message (h, CONNECTED, b->local_port, NULL, WAIT_MS);
  gst_message_unref (msg);
  fail_unless_equals_int (tf_test_peer_wait_end (a, WAIT_MS),
      TF_TEST_PEER_GOT_RESET);
  fail_unless_equals_int (tf_test_stat_peer_port (h), b->local_port);

  camera_b_streams (h, b, B_SEQ, TRUE);

  fail_unless_equals_uint64 (tf_test_stat (h, "replacements"), 1);
  fail_unless_equals_uint64 (tf_test_stat (h, "timeouts"), 0);
  fail_unless_equals_uint64 (tf_test_stat (h, "rejected"), 0);
  fail_unless_equals_uint64 (tf_test_stat (h, "connections"), 2);
  fail_unless_equals_uint64 (tf_test_stat (h, "frames"), N_A + N_B);
  tf_test_assert_no_message (h, DISCONNECTED, 0);

  tf_test_peer_free (a);
  tf_test_peer_close (b);
  tf_test_src_free (h);
}

GST_END_TEST;

GST_START_TEST (test_peers_stale_replaced_policy_replace_on_frame)
{
  GstHarness *h = tf_test_src_new ("peer-policy=replace-on-frame "
      NO_TIMEOUT_PROP);
  gint64 last_send, last_pull;
  TfTestPeer *a = camera_a_streams_then_stalls (h, &last_send, &last_pull);
  TfTestPeer *b = tf_test_peer_connect (tf_test_src_port (h));
  GstMessage *msg;

  /* Accepted but silent, B is only pending: A stays current. */
  wait_stat (h, "connections", 2);
  tf_test_assert_no_message (h, DISCONNECTED, QUIET_MS);
  fail_unless_equals_int (tf_test_stat_peer_port (h), a->local_port);
  fail_unless_equals_int (tf_test_get_status (h), TF_STATUS_STREAMING);

  /* B's first whole frame makes it current. */
  camera_b_streams (h, b, B_SEQ, TRUE);
  assert_replaced_disconnect (h, a, "replaced");
  msg = tf_test_expect_message (h, CONNECTED, b->local_port, NULL, WAIT_MS);
  gst_message_unref (msg);
  fail_unless_equals_int (tf_test_peer_wait_end (a, WAIT_MS),
      TF_TEST_PEER_GOT_RESET);
  fail_unless_equals_int (tf_test_stat_peer_port (h), b->local_port);

  fail_unless_equals_uint64 (tf_test_stat (h, "replacements"), 1);
  fail_unless_equals_uint64 (tf_test_stat (h, "timeouts"), 0);
  fail_unless_equals_uint64 (tf_test_stat (h, "rejected"), 0);
  fail_unless_equals_uint64 (tf_test_stat (h, "frames"), N_A + N_B);

  tf_test_peer_free (a);
  tf_test_peer_close (b);
  tf_test_src_free (h);
}

GST_END_TEST;

GST_START_TEST (test_peers_stale_replaced_policy_keep)
{
  GstHarness *h = tf_test_src_new ("peer-policy=keep " TIMEOUT_PROP);
  gint64 last_send, last_pull, waited;
  TfTestPeer *a = camera_a_streams_then_stalls (h, &last_send, &last_pull);
  TfTestPeer *b;
  GstMessage *msg;

  /* A keeps its place for the whole timeout.  B arrives half-way through
   * it, so that once A expires B still has half a timeout of its own to
   * start streaming in. */
  waited = tf_test_ms_since (last_pull);
  if (waited < TIMEOUT_MS / 2)
    tf_test_assert_no_message (h, DISCONNECTED, TIMEOUT_MS / 2 - waited);
  b = tf_test_peer_connect (tf_test_src_port (h));
  /* Pending under keep, B's frame is read and thrown away; it only proves
   * B is alive.  Its caps still describe B's later frames. */
  tf_test_send_frame (b, B_SEQ, TRUE);
  wait_element_read_all (h, b);

  msg = tf_test_expect_message (h, DISCONNECTED, a->local_port, "timeout",
      TIMEOUT_MS + WAIT_MS);
  fail_unless (tf_test_ms_since (last_send) >= TIMEOUT_MS,
      "A dropped %" G_GINT64_FORMAT " ms after its last frame, before the "
      "timeout", tf_test_ms_since (last_send));
  fail_unless (tf_test_ms_since (last_pull) <= TIMEOUT_MS + LATE_MS,
      "A dropped %" G_GINT64_FORMAT " ms after its last frame",
      tf_test_ms_since (last_pull));
  fail_unless_equals_uint64 (tf_test_message_frames (msg), N_A);
  gst_message_unref (msg);

  msg = tf_test_expect_message (h, CONNECTED, b->local_port, NULL, WAIT_MS);
  gst_message_unref (msg);
  fail_unless_equals_int (tf_test_peer_wait_end (a, WAIT_MS),
      TF_TEST_PEER_GOT_RESET);

  camera_b_streams (h, b, B_SEQ + 1, FALSE);

  fail_unless_equals_uint64 (tf_test_stat (h, "replacements"), 0);
  fail_unless_equals_uint64 (tf_test_stat (h, "timeouts"), 1);
  fail_unless_equals_uint64 (tf_test_stat (h, "rejected"), 0);
  fail_unless_equals_uint64 (tf_test_stat (h, "frames"), N_A + N_B);

  tf_test_peer_free (a);
  tf_test_peer_close (b);
  tf_test_src_free (h);
}

GST_END_TEST;

/* ---- 2. a port scanner does not interrupt the current camera ---- */

GST_START_TEST (test_peers_idle_connection_does_not_interrupt)
{
  GstHarness *h = tf_test_src_new ("peer-policy=replace-on-frame "
      TIMEOUT_PROP);
  guint16 port = tf_test_src_port (h);
  TfTestPeer *a = tf_test_peer_connect (port), *c = NULL;
  guint16 d_port = 0;
  gint64 c_before = 0, c_after = 0;
  gboolean c_rejected = FALSE, d_rejected = FALSE;
  guint32 seq, more = 5;
  GstMessage *msg;

  /* A streams at its frame rate; the waits for rejections pace it.  It
   * goes on for a few frames after both newcomers are gone. */
  for (seq = 0; more > 0; seq++) {
    fail_unless (seq < 200, "C and D were not both rejected");
    tf_test_send_frame (a, A_SEQ + seq, seq == 0);
    tf_test_pull_frame (h, A_SEQ + seq, seq == 0);

    if (seq == 2) {
      c_before = g_get_monotonic_time ();
      c = tf_test_peer_connect (port);
      c_after = g_get_monotonic_time ();
    } else if (seq == 3) {
      TfTestPeer *d = tf_test_peer_connect (port);
      d_port = d->local_port;
      tf_test_peer_close (d);
    }

    msg = tf_test_wait_message (h, REJECTED, FRAME_INTERVAL_MS);
    if (msg && c && tf_test_message_port (msg) == c->local_port) {
      fail_if (c_rejected);
      c_rejected = TRUE;
      fail_unless_equals_string (tf_test_message_reason (msg), "timeout");
      fail_unless (tf_test_ms_since (c_before) >= TIMEOUT_MS,
          "idle peer dropped after %" G_GINT64_FORMAT " ms",
          tf_test_ms_since (c_before));
      fail_unless (tf_test_ms_since (c_after) <= TIMEOUT_MS + LATE_MS,
          "idle peer dropped after %" G_GINT64_FORMAT " ms",
          tf_test_ms_since (c_after));
    } else if (msg) {
      fail_unless_equals_int (tf_test_message_port (msg), d_port);
      fail_if (d_rejected);
      d_rejected = TRUE;
      fail_unless_equals_string (tf_test_message_reason (msg), "closed");
    }
    gst_clear_message (&msg);
    if (c_rejected && d_rejected)
      more--;
  }

  fail_unless_equals_int (tf_test_peer_wait_end (c, WAIT_MS),
      TF_TEST_PEER_GOT_RESET);
  tf_test_assert_no_buffer (h, QUIET_MS);
  /* A was never interrupted: connected once, never disconnected. */
  msg = tf_test_expect_message (h, CONNECTED, a->local_port, NULL, 0);
  gst_message_unref (msg);
  tf_test_assert_no_message (h, CONNECTED, 0);
  tf_test_assert_no_message (h, DISCONNECTED, QUIET_MS);
  tf_test_assert_no_message (h, REJECTED, 0);
  fail_unless_equals_int (tf_test_stat_peer_port (h), a->local_port);

  fail_unless_equals_uint64 (tf_test_stat (h, "frames"), seq);
  fail_unless_equals_uint64 (tf_test_stat (h, "sequence-gaps"), 0);
  fail_unless_equals_uint64 (tf_test_stat (h, "connections"), 3);
  fail_unless_equals_uint64 (tf_test_stat (h, "rejected"), 2);
  fail_unless_equals_uint64 (tf_test_stat (h, "timeouts"), 1);
  fail_unless_equals_uint64 (tf_test_stat (h, "replacements"), 0);

  tf_test_peer_free (c);
  tf_test_peer_close (a);
  tf_test_src_free (h);
}

GST_END_TEST;

/* ---- 2b. newcomers while the current camera has a backlog ---- */

/* Camera A sends faster than downstream takes frames, from its own thread,
 * so its socket always holds a waiting frame: what happens whenever the
 * pipeline, not the camera, sets the pace. */
typedef struct
{
  GstHarness *h;
  TfTestPeer *peer;
  gint stop;
  guint32 sent;
  guint32 pulled;
  GThread *thread;
} Backlog;

#define BACKLOG_BURST 4
/* Far past any bound these tests assert, short enough to fail fast. */
#define BACKLOG_WAIT_MS tf_test_scale_ms (1000)

static gpointer
backlog_camera (gpointer data)
{
  Backlog *b = data;

  while (!g_atomic_int_get (&b->stop)) {
    guint i;

    for (i = 0; i < BACKLOG_BURST; i++) {
      guint8 msg[TF_HEADER_SIZE + sizeof (GRAY8_4x2) + FRAME_LEN];
      guint8 *payload = tf_test_payload (A_SEQ + b->sent, FRAME_LEN);
      gsize caps_len = b->sent == 0 ? strlen (GRAY8_4x2) : 0;
      gsize len = TF_HEADER_SIZE + caps_len + FRAME_LEN;
      gssize n;

      tf_header_write (msg, caps_len, FRAME_LEN, A_SEQ + b->sent,
          TF_TIMESTAMP_NONE);
      memcpy (msg + TF_HEADER_SIZE, GRAY8_4x2, caps_len);
      memcpy (msg + TF_HEADER_SIZE + caps_len, payload, FRAME_LEN);
      g_free (payload);
      /* No check macros off the test's main thread: a failed send (A was
       * dropped) just ends the stream. */
      n = g_socket_send (b->peer->socket, (const gchar *) msg, len, NULL, NULL);
      if (n != (gssize) len)
        return NULL;
      b->sent++;
    }
    /* The camera's frame clock: BACKLOG_BURST frames a millisecond. */
    g_usleep (1000);
  }
  return NULL;
}

/* Downstream that needs 1 ms per frame: slower than camera A. */
static GstPadProbeReturn
slow_downstream (GstPad * pad G_GNUC_UNUSED, GstPadProbeInfo * info
    G_GNUC_UNUSED, gpointer user_data G_GNUC_UNUSED)
{
  g_usleep (1000);
  return GST_PAD_PROBE_OK;
}

static void
backlog_start (Backlog * b, const gchar * props)
{
  GstPad *srcpad;

  memset (b, 0, sizeof (*b));
  b->h = tf_test_src_new (props);
  srcpad = gst_element_get_static_pad (b->h->element, "src");
  gst_pad_add_probe (srcpad, GST_PAD_PROBE_TYPE_BUFFER, slow_downstream,
      NULL, NULL);
  gst_object_unref (srcpad);
  b->peer = tf_test_peer_connect (tf_test_src_port (b->h));
  b->thread = g_thread_new ("camera-a", backlog_camera, b);
  tf_test_pull_frame (b->h, A_SEQ, TRUE);
  b->pulled = 1;
}

/* Pulls what is there: A's frames, in order, never DISCONT after the
 * first; stops at the first buffer that is not A's next frame and returns
 * it. */
static GstBuffer *
backlog_drain (Backlog * b)
{
  GstBuffer *buf;

  while ((buf = gst_harness_try_pull (b->h))) {
    guint8 *payload = tf_test_payload (A_SEQ + b->pulled, FRAME_LEN);
    GstMapInfo map;
    gboolean is_a;

    fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
    is_a = map.size == FRAME_LEN && memcmp (map.data, payload, FRAME_LEN) == 0;
    gst_buffer_unmap (buf, &map);
    g_free (payload);
    if (!is_a)
      return buf;
    fail_if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT));
    gst_buffer_unref (buf);
    b->pulled++;
  }
  return NULL;
}

static void
backlog_stop (Backlog * b)
{
  g_atomic_int_set (&b->stop, 1);
  g_thread_join (b->thread);
}

/* Waits for message `name` while A's frames keep flowing; NULL if none
 * came within timeout_ms.  With `after`, the first frame that is not A's
 * next one may come out too, and is handed back there: the element posts
 * what a frame caused before it pushes the frame, but the drain can take
 * that frame before the loop next reads the bus. */
static GstMessage *
backlog_wait_message (Backlog * b, const gchar * name, guint timeout_ms,
    GstBuffer ** after)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;
  GstMessage *msg = NULL;

  while (!msg && g_get_monotonic_time () < deadline) {
    GstBuffer *other = backlog_drain (b);

    if (other && after) {
      gint64 left_ms = (deadline - g_get_monotonic_time ()) / 1000;

      *after = other;
      return tf_test_wait_message (b->h, name, MAX (left_ms, 1));
    }
    fail_unless (other == NULL, "a frame that is not A's next one came out "
        "after %u of A's", b->pulled);
    msg = tf_test_wait_message (b->h, name, 5);
  }
  return msg;
}

/* An idle connection times out on time even while the current camera
 * always has a frame waiting. */
GST_START_TEST (test_peers_idle_connection_times_out_under_backlog)
{
  Backlog b;
  TfTestPeer *c;
  GstMessage *msg;
  gint64 c_before, c_after;

  backlog_start (&b, "peer-policy=replace-on-frame " TIMEOUT_PROP);
  c_before = g_get_monotonic_time ();
  c = tf_test_peer_connect (tf_test_src_port (b.h));
  c_after = g_get_monotonic_time ();

  msg = backlog_wait_message (&b, REJECTED, TIMEOUT_MS + BACKLOG_WAIT_MS,
      NULL);
  fail_unless (msg != NULL, "the idle peer was not dropped within %u ms of "
      "the %u ms timeout (accepted connections: %" G_GUINT64_FORMAT ", A's "
      "frames pulled: %u)", BACKLOG_WAIT_MS, TIMEOUT_MS,
      tf_test_stat (b.h, "connections"), b.pulled);
  fail_unless_equals_int (tf_test_message_port (msg), c->local_port);
  fail_unless_equals_string (tf_test_message_reason (msg), "timeout");
  fail_unless (tf_test_ms_since (c_before) >= TIMEOUT_MS);
  fail_unless (tf_test_ms_since (c_after) <= TIMEOUT_MS + LATE_MS,
      "the idle peer was dropped %" G_GINT64_FORMAT " ms after it connected",
      tf_test_ms_since (c_after));
  gst_message_unref (msg);
  backlog_stop (&b);

  fail_unless (b.pulled > 10, "A did not stream meanwhile");
  fail_unless_equals_int (tf_test_peer_wait_end (c, WAIT_MS),
      TF_TEST_PEER_GOT_RESET);
  tf_test_assert_no_message (b.h, DISCONNECTED, 0);
  fail_unless_equals_int (tf_test_stat_peer_port (b.h), b.peer->local_port);

  tf_test_peer_free (c);
  tf_test_peer_free (b.peer);
  tf_test_src_free (b.h);
}

GST_END_TEST;

/* Camera B connects and streams while A has a backlog: under
 * replace-on-frame B's first frame makes it current, within a bound, and
 * only B's frames follow. */
GST_START_TEST (test_peers_new_camera_replaces_under_backlog)
{
  Backlog b;
  TfTestPeer *cam_b;
  GstMessage *msg;
  GstBuffer *buf = NULL;
  gint64 b_connected;
  guint16 a_port;
  guint i;

  backlog_start (&b, "peer-policy=replace-on-frame " NO_TIMEOUT_PROP);
  a_port = b.peer->local_port;
  cam_b = tf_test_peer_connect (tf_test_src_port (b.h));
  b_connected = g_get_monotonic_time ();
  for (i = 0; i < N_B; i++)
    tf_test_send_frame (cam_b, B_SEQ + i, i == 0);

  msg = backlog_wait_message (&b, DISCONNECTED, BACKLOG_WAIT_MS, &buf);
  fail_unless (msg != NULL, "B did not replace A within %u ms (accepted "
      "connections: %" G_GUINT64_FORMAT ", A's frames pulled: %u)",
      BACKLOG_WAIT_MS, tf_test_stat (b.h, "connections"), b.pulled);
  fail_unless (tf_test_ms_since (b_connected) <= LATE_MS, "B replaced A only %"
      G_GINT64_FORMAT " ms after it connected", tf_test_ms_since (b_connected));
  fail_unless_equals_int (tf_test_message_port (msg), a_port);
  fail_unless_equals_string (tf_test_message_reason (msg), "replaced");
  gst_message_unref (msg);
  msg = tf_test_expect_message (b.h, CONNECTED, a_port, NULL, 0);
  gst_message_unref (msg);
  msg = tf_test_expect_message (b.h, CONNECTED, cam_b->local_port, NULL, WAIT_MS);
  gst_message_unref (msg);
  backlog_stop (&b);

  /* What A had queued before it was dropped, then exactly B's frames. */
  if (!buf)
    buf = backlog_drain (&b);
  if (!buf)
    buf = tf_test_pull (b.h, WAIT_MS);
  for (i = 0; i < N_B; i++) {
    guint8 *payload = tf_test_payload (B_SEQ + i, FRAME_LEN);

    if (!buf)
      buf = tf_test_pull (b.h, WAIT_MS);
    tf_test_assert_buffer_equals (buf, payload, FRAME_LEN);
    fail_unless_equals_int (!!GST_BUFFER_FLAG_IS_SET (buf,
            GST_BUFFER_FLAG_DISCONT), i == 0);
    g_free (payload);
    gst_clear_buffer (&buf);
  }
  tf_test_assert_no_buffer (b.h, QUIET_MS);
  /* A's camera thread may have sent into the reset and consumed it, so
   * only check that A's connection is gone. */
  fail_if (tf_test_peer_wait_end (b.peer, WAIT_MS) == TF_TEST_PEER_STILL_OPEN);
  fail_unless_equals_uint64 (tf_test_stat (b.h, "replacements"), 1);

  tf_test_peer_free (b.peer);
  tf_test_peer_close (cam_b);
  tf_test_src_free (b.h);
}

GST_END_TEST;

/* Under keep, a standby camera's frames are read and discarded, which keeps
 * it alive past the timeout, even while the current camera has a
 * backlog. */
GST_START_TEST (test_peers_keep_standby_alive_under_backlog)
{
  Backlog b;
  TfTestPeer *cam_b;
  GstMessage *msg;
  gint64 b_connected;
  guint32 seq = B_SEQ;

  backlog_start (&b, "peer-policy=keep " TIMEOUT_PROP);
  cam_b = tf_test_peer_connect (tf_test_src_port (b.h));
  b_connected = g_get_monotonic_time ();

  /* B streams at 50 frames/s for longer than the timeout; none of its
   * frames comes out (backlog_wait_message checks that). */
  while (tf_test_ms_since (b_connected) < TIMEOUT_MS + LATE_MS) {
    tf_test_send_frame (cam_b, seq, seq == B_SEQ);
    seq++;
    msg = backlog_wait_message (&b, REJECTED, FRAME_INTERVAL_MS, NULL);
    fail_unless (msg == NULL, "the streaming standby was dropped as %s after "
        "%" G_GINT64_FORMAT " ms (accepted connections: %" G_GUINT64_FORMAT
        ")", tf_test_message_reason (msg), tf_test_ms_since (b_connected),
        tf_test_stat (b.h, "connections"));
  }
  backlog_stop (&b);

  fail_unless_equals_uint64 (tf_test_stat (b.h, "connections"), 2);
  fail_unless_equals_uint64 (tf_test_stat (b.h, "rejected"), 0);
  fail_unless_equals_uint64 (tf_test_stat (b.h, "timeouts"), 0);
  fail_unless_equals_int (tf_test_stat_peer_port (b.h), b.peer->local_port);
  fail_unless_equals_int (tf_test_peer_wait_end (cam_b, QUIET_MS),
      TF_TEST_PEER_STILL_OPEN);

  tf_test_peer_free (b.peer);
  tf_test_peer_close (cam_b);
  tf_test_src_free (b.h);
}

GST_END_TEST;

/* ---- 3. timeouts ---- */

GST_START_TEST (test_peers_timeout_after_last_frame)
{
  GstHarness *h = tf_test_src_new (TIMEOUT_PROP);
  TfTestPeer *cam = tf_test_peer_connect (tf_test_src_port (h));
  gint64 sent, pulled;
  GstMessage *msg;

  sent = g_get_monotonic_time ();
  tf_test_send_frame (cam, A_SEQ, TRUE);
  tf_test_pull_frame (h, A_SEQ, TRUE);
  pulled = g_get_monotonic_time ();
  msg = tf_test_expect_message (h, CONNECTED, cam->local_port, NULL, WAIT_MS);
  gst_message_unref (msg);

  /* The element timed the frame when it read it: after we sent it, before
   * we pulled it.  So the lower bound counts from the send. */
  msg = tf_test_expect_message (h, DISCONNECTED, cam->local_port, "timeout",
      TIMEOUT_MS + WAIT_MS);
  fail_unless (tf_test_ms_since (sent) >= TIMEOUT_MS, "dropped after %"
      G_GINT64_FORMAT " ms, before the timeout", tf_test_ms_since (sent));
  fail_unless (tf_test_ms_since (pulled) <= TIMEOUT_MS + LATE_MS, "dropped %"
      G_GINT64_FORMAT " ms after the frame", tf_test_ms_since (pulled));
  fail_unless_equals_uint64 (tf_test_message_frames (msg), 1);
  gst_message_unref (msg);

  fail_unless_equals_int (tf_test_peer_wait_end (cam, WAIT_MS),
      TF_TEST_PEER_GOT_RESET);
  fail_unless_equals_uint64 (tf_test_stat (h, "timeouts"), 1);
  fail_unless_equals_uint64 (tf_test_stat (h, "rejected"), 0);
  tf_test_wait_status (h, TF_STATUS_WAITING);
  tf_test_assert_no_buffer (h, QUIET_MS);

  tf_test_peer_free (cam);
  tf_test_src_free (h);
}

GST_END_TEST;

/* A peer trickling one byte every 50 ms never completes a frame: it must go
 * at the timeout just like a silent one.  Under keep it is current from its
 * arrival; under replace-on-frame it stays pending. */
static void
check_slowloris (const gchar * policy)
{
  gchar *props = g_strdup_printf ("peer-policy=%s " TIMEOUT_PROP, policy);
  GstHarness *h = tf_test_src_new (props);
  gboolean current = g_str_equal (policy, "keep");
  const gchar *name = current ? DISCONNECTED : REJECTED;
  guint8 *payload = tf_test_payload (0, FRAME_LEN);
  gsize caps_len = strlen (GRAY8_4x2);
  gsize len = TF_HEADER_SIZE + caps_len + FRAME_LEN, i;
  guint8 *frame = g_malloc (len);
  gint64 before, after;
  gboolean send_failed = FALSE;
  TfTestPeer *s;
  GstMessage *msg = NULL;

  tf_header_write (frame, caps_len, FRAME_LEN, 0, TF_TIMESTAMP_NONE);
  memcpy (frame + TF_HEADER_SIZE, GRAY8_4x2, caps_len);
  memcpy (frame + TF_HEADER_SIZE + caps_len, payload, FRAME_LEN);

  before = g_get_monotonic_time ();
  s = tf_test_peer_connect (tf_test_src_port (h));
  after = g_get_monotonic_time ();

  /* Never the frame's last byte, so it never completes. */
  for (i = 0; i + 1 < len && !msg && !send_failed; i++) {
    GError *err = NULL;

    if (g_socket_send (s->socket, (const gchar *) frame + i, 1, NULL,
            &err) != 1) {
      /* The RST came between our last look at the bus and this send. */
      GST_INFO ("send: %s", err ? err->message : "?");
      g_clear_error (&err);
      send_failed = TRUE;
      break;
    }
    msg = tf_test_wait_message (h, name, 50);
  }
  if (!msg)
    msg = tf_test_wait_message (h, name, WAIT_MS);
  fail_unless (msg != NULL, "%s: the slow peer was never dropped", policy);
  fail_unless_equals_int (tf_test_message_port (msg), s->local_port);
  fail_unless_equals_string (tf_test_message_reason (msg), "timeout");
  fail_unless (tf_test_ms_since (before) >= TIMEOUT_MS, "%s: dropped after %"
      G_GINT64_FORMAT " ms, before the timeout", policy, tf_test_ms_since (before));
  fail_unless (tf_test_ms_since (after) <= TIMEOUT_MS + LATE_MS, "%s: dropped after %"
      G_GINT64_FORMAT " ms: bytes kept it alive", policy, tf_test_ms_since (after));
  if (current)
    fail_unless_equals_uint64 (tf_test_message_frames (msg), 0);
  gst_message_unref (msg);

  /* A failed send already consumed the reset; otherwise it is still there
   * to be read. */
  if (!send_failed)
    fail_unless_equals_int (tf_test_peer_wait_end (s, WAIT_MS),
        TF_TEST_PEER_GOT_RESET);
  if (current) {
    msg = tf_test_expect_message (h, CONNECTED, s->local_port, NULL, 0);
    gst_message_unref (msg);
  } else {
    tf_test_assert_no_message (h, CONNECTED, 0);
  }
  fail_unless_equals_uint64 (tf_test_stat (h, "timeouts"), 1);
  fail_unless_equals_uint64 (tf_test_stat (h, "rejected"), current ? 0 : 1);
  fail_unless_equals_uint64 (tf_test_stat (h, "frames"), 0);
  tf_test_wait_status (h, TF_STATUS_WAITING);
  tf_test_assert_no_buffer (h, QUIET_MS);

  tf_test_peer_free (s);
  tf_test_src_free (h);
  g_free (frame);
  g_free (payload);
  g_free (props);
}

GST_START_TEST (test_peers_timeout_counts_frames_not_bytes)
{
  check_slowloris ("replace-on-frame");
  check_slowloris ("keep");
}

GST_END_TEST;

/* ---- 4. a camera reconnects from its old source port ---- */

GST_START_TEST (test_peers_reconnect_from_same_port)
{
  GstHarness *h = tf_test_src_new (TIMEOUT_PROP);
  guint16 port = tf_test_src_port (h), p;
  TfTestPeer *cam = tf_test_peer_connect_from_fixed_port (port);
  gint64 silent;
  GstMessage *msg;
  guint i;

  p = cam->local_port;
  for (i = 0; i < 3; i++) {
    tf_test_send_frame (cam, A_SEQ + i, i == 0);
    tf_test_pull_frame (h, A_SEQ + i, i == 0);
  }
  silent = g_get_monotonic_time ();
  msg = tf_test_expect_message (h, CONNECTED, p, NULL, WAIT_MS);
  gst_message_unref (msg);
  msg = tf_test_expect_message (h, DISCONNECTED, p, "timeout", TIMEOUT_MS + WAIT_MS);
  gst_message_unref (msg);
  fail_unless_equals_int (tf_test_peer_wait_end (cam, WAIT_MS),
      TF_TEST_PEER_GOT_RESET);
  tf_test_peer_free (cam);

  /* The reset left no TIME_WAIT on either side, so the same 4-tuple is
   * free again at once. */
  cam = tf_test_peer_connect_from (port, p);
  fail_unless_equals_int (cam->local_port, p);
  for (i = 0; i < 3; i++) {
    tf_test_send_frame (cam, B_SEQ + i, i == 0);
    tf_test_pull_frame (h, B_SEQ + i, i == 0);
    if (i == 0)
      fail_unless (tf_test_ms_since (silent) <= TIMEOUT_MS + 2 * LATE_MS,
          "the camera streamed again only %" G_GINT64_FORMAT " ms after it "
          "went silent", tf_test_ms_since (silent));
  }
  msg = tf_test_expect_message (h, CONNECTED, p, NULL, WAIT_MS);
  gst_message_unref (msg);
  fail_unless_equals_int (tf_test_stat_peer_port (h), p);
  fail_unless_equals_uint64 (tf_test_stat (h, "connections"), 2);
  fail_unless_equals_uint64 (tf_test_stat (h, "timeouts"), 1);
  fail_unless_equals_uint64 (tf_test_stat (h, "frames"), 6);

  tf_test_peer_close (cam);
  tf_test_src_free (h);
}

GST_END_TEST;

/* ---- 5. a peer leaving mid-frame ---- */

#define BIG_LENGTH_FRAME (1024 * 1024)

typedef struct
{
  const gchar *props;
  GByteArray *whole;            /* a whole frame on the wire */
  GByteArray *partial;          /* the start of the next one */
  guint8 *payload;              /* what the whole frame must come out as */
  gsize payload_len;
} MidFrameCase;

static void
mid_frame_case_clear (MidFrameCase * c)
{
  g_byte_array_unref (c->whole);
  g_byte_array_unref (c->partial);
  g_free (c->payload);
}

static void
mid_frame_case_init (MidFrameCase * c, guint framing)
{
  guint8 hdr[TF_HEADER_SIZE], prefix[4];
  guint8 *next;
  gsize caps_len = strlen (GRAY8_4x2);

  c->whole = g_byte_array_new ();
  c->partial = g_byte_array_new ();
  switch (framing) {
    case 0:
      c->props = "framing=header";
      c->payload_len = FRAME_LEN;
      c->payload = tf_test_payload (0, FRAME_LEN);
      tf_header_write (hdr, caps_len, FRAME_LEN, 0, TF_TIMESTAMP_NONE);
      g_byte_array_append (c->whole, hdr, TF_HEADER_SIZE);
      g_byte_array_append (c->whole, (const guint8 *) GRAY8_4x2, caps_len);
      g_byte_array_append (c->whole, c->payload, FRAME_LEN);
      /* The next header, and half its payload: the element has allocated
       * the frame's buffer and is filling it. */
      next = tf_test_payload (1, FRAME_LEN);
      tf_header_write (hdr, 0, FRAME_LEN, 1, TF_TIMESTAMP_NONE);
      g_byte_array_append (c->partial, hdr, TF_HEADER_SIZE);
      g_byte_array_append (c->partial, next, FRAME_LEN / 2);
      g_free (next);
      break;
    case 1:
      c->props = "framing=raw frame-size=16";
      c->payload_len = 16;
      c->payload = tf_test_payload (0, 16);
      g_byte_array_append (c->whole, c->payload, 16);
      next = tf_test_payload (1, 16);
      g_byte_array_append (c->partial, next, 9);
      g_free (next);
      break;
    case 2:
      c->props = "framing=length length-format=u32be";
      c->payload_len = 20;
      c->payload = tf_test_payload (0, 20);
      tf_length_write (TF_LENGTH_FORMAT_U32BE, 20, prefix);
      g_byte_array_append (c->whole, prefix, 4);
      g_byte_array_append (c->whole, c->payload, 20);
      next = tf_test_payload (1, 20);
      g_byte_array_append (c->partial, prefix, 4);
      g_byte_array_append (c->partial, next, 7);
      g_free (next);
      break;
    case 3:{
      gsize len;
      c->props = "framing=jpeg";
      c->payload = tf_test_jpeg (1, &c->payload_len);
      g_byte_array_append (c->whole, c->payload, c->payload_len);
      /* A second image cut inside its entropy-coded data. */
      next = tf_test_jpeg (2, &len);
      g_byte_array_append (c->partial, next, len - 5);
      g_free (next);
      break;
    }
    case 4:
      /* Frames larger than the element trusts a new peer with: the first
       * one grows its storage as the bytes arrive, the partial one is read
       * straight into a frame buffer. */
      c->props = "framing=length length-format=u32be";
      c->payload_len = BIG_LENGTH_FRAME;
      c->payload = tf_test_payload (0, BIG_LENGTH_FRAME);
      tf_length_write (TF_LENGTH_FORMAT_U32BE, BIG_LENGTH_FRAME, prefix);
      g_byte_array_append (c->whole, prefix, 4);
      g_byte_array_append (c->whole, c->payload, BIG_LENGTH_FRAME);
      next = tf_test_payload (1, BIG_LENGTH_FRAME);
      g_byte_array_append (c->partial, prefix, 4);
      g_byte_array_append (c->partial, next, BIG_LENGTH_FRAME / 3);
      g_free (next);
      break;
    default:
      g_assert_not_reached ();
  }
}

#define N_FRAMINGS 5

/* Sends a whole frame and part of the next, then leaves with a FIN or an
 * RST: the whole frame comes out, the partial one never does. */
static void
check_leave_mid_frame (guint framing, gboolean reset)
{
  MidFrameCase c;
  GstHarness *h;
  TfTestPeer *cam;
  guint16 cam_port;
  GstBuffer *buf;
  GstMessage *msg;

  mid_frame_case_init (&c, framing);
  GST_INFO ("%s, leaving with %s", c.props, reset ? "RST" : "FIN");
  h = tf_test_src_new (c.props);
  cam = tf_test_peer_connect (tf_test_src_port (h));
  cam_port = cam->local_port;

  tf_test_peer_send (cam, c.whole->data, c.whole->len);
  if (reset) {
    /* Data still unread when an RST lands may be thrown away by the
     * kernel; make sure the element holds the partial frame first. */
    buf = tf_test_pull (h, WAIT_MS);
    tf_test_peer_send (cam, c.partial->data, c.partial->len);
    wait_element_read_all (h, cam);
    tf_test_peer_reset (cam);
  } else {
    tf_test_peer_send (cam, c.partial->data, c.partial->len);
    tf_test_peer_close (cam);
    buf = tf_test_pull (h, WAIT_MS);
  }
  fail_unless (buf != NULL, "%s: the whole frame never arrived", c.props);
  tf_test_assert_buffer_equals (buf, c.payload, c.payload_len);
  gst_buffer_unref (buf);

  msg = tf_test_expect_message (h, DISCONNECTED, cam_port, reset ? "reset" : "closed",
      WAIT_MS);
  fail_unless_equals_uint64 (tf_test_message_frames (msg), 1);
  gst_message_unref (msg);
  fail_unless (gst_harness_try_pull (h) == NULL, "%s: a partial frame came "
      "out", c.props);
  tf_test_assert_no_buffer (h, QUIET_MS);
  fail_unless_equals_uint64 (tf_test_stat (h, "frames"), 1);
  fail_unless_equals_uint64 (tf_test_stat (h, "bytes"), c.payload_len);
  fail_unless_equals_uint64 (tf_test_stat (h, "protocol-errors"), 0);
  tf_test_wait_status (h, TF_STATUS_WAITING);

  tf_test_src_free (h);
  mid_frame_case_clear (&c);
}

GST_START_TEST (test_peers_leave_mid_frame_fin)
{
  guint framing;

  for (framing = 0; framing < N_FRAMINGS; framing++)
    check_leave_mid_frame (framing, FALSE);
}

GST_END_TEST;

GST_START_TEST (test_peers_leave_mid_frame_rst)
{
  guint framing;

  for (framing = 0; framing < N_FRAMINGS; framing++)
    check_leave_mid_frame (framing, TRUE);
}

GST_END_TEST;

/* ---- 6. max-pending ---- */

#define N_IDLE 5
#define MAX_PENDING 2

GST_START_TEST (test_peers_max_pending_drops_oldest)
{
  GstHarness *h = tf_test_src_new ("peer-policy=replace-on-frame "
      "max-pending=2 " NO_TIMEOUT_PROP);
  guint16 port = tf_test_src_port (h);
  TfTestPeer *a = tf_test_peer_connect (port);
  TfTestPeer *idle[N_IDLE] = { NULL, };
  guint n_rejected = 0, i, more = 5;
  guint32 seq;
  GstMessage *msg;

  for (seq = 0; more > 0; seq++) {
    fail_unless (seq < 200, "only %u of %u idle peers were rejected",
        n_rejected, N_IDLE - MAX_PENDING);
    tf_test_send_frame (a, A_SEQ + seq, seq == 0);
    tf_test_pull_frame (h, A_SEQ + seq, seq == 0);

    /* One after the other, so they arrive in this order. */
    if (seq == 2)
      for (i = 0; i < N_IDLE; i++)
        idle[i] = tf_test_peer_connect (port);

    msg = tf_test_wait_message (h, REJECTED, FRAME_INTERVAL_MS);
    if (msg) {
      /* The oldest pending peer makes room for the newest. */
      fail_unless (n_rejected < N_IDLE - MAX_PENDING);
      fail_unless_equals_int (tf_test_message_port (msg), idle[n_rejected]->local_port);
      fail_unless_equals_string (tf_test_message_reason (msg), "too-many-pending");
      n_rejected++;
      gst_message_unref (msg);
    }
    if (n_rejected == N_IDLE - MAX_PENDING)
      more--;
  }

  for (i = 0; i < N_IDLE - MAX_PENDING; i++)
    fail_unless_equals_int (tf_test_peer_wait_end (idle[i], WAIT_MS),
        TF_TEST_PEER_GOT_RESET);
  /* The newest ones are still held. */
  for (; i < N_IDLE; i++)
    fail_unless_equals_int (tf_test_peer_wait_end (idle[i], QUIET_MS),
        TF_TEST_PEER_STILL_OPEN);

  tf_test_assert_no_buffer (h, QUIET_MS);
  tf_test_assert_no_message (h, DISCONNECTED, 0);
  tf_test_assert_no_message (h, REJECTED, QUIET_MS);
  fail_unless_equals_int (tf_test_stat_peer_port (h), a->local_port);
  fail_unless_equals_uint64 (tf_test_stat (h, "rejected"), N_IDLE -
      MAX_PENDING);
  fail_unless_equals_uint64 (tf_test_stat (h, "connections"), N_IDLE + 1);
  fail_unless_equals_uint64 (tf_test_stat (h, "frames"), seq);
  fail_unless_equals_uint64 (tf_test_stat (h, "sequence-gaps"), 0);
  fail_unless_equals_uint64 (tf_test_stat (h, "replacements"), 0);

  for (i = 0; i < N_IDLE; i++)
    tf_test_peer_free (idle[i]);
  tf_test_peer_close (a);
  tf_test_src_free (h);
}

GST_END_TEST;

/* ---- 7. stopping from each blocking point ---- */

static void
assert_peer_closed (TfTestPeer * peer)
{
  TfTestPeerEnd end = tf_test_peer_wait_end (peer, WAIT_MS);

  fail_if (end == TF_TEST_PEER_STILL_OPEN, "the peer's connection was left "
      "open after the source stopped");
}

GST_START_TEST (test_peers_stop_while_waiting)
{
  GstHarness *h = tf_test_src_new (NULL);
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;
  gboolean started = FALSE;

  /* basesrc sends stream-start from the streaming thread just before its
   * first create(): after it, the thread is waiting for a peer. */
  while (!started && g_get_monotonic_time () < deadline) {
    GstEvent *ev = gst_harness_try_pull_event (h);
    if (ev) {
      started = GST_EVENT_TYPE (ev) == GST_EVENT_STREAM_START;
      gst_event_unref (ev);
    } else {
      g_usleep (500);
    }
  }
  fail_unless (started, "the streaming thread never started");

  tf_test_stop_promptly (h->element);
  fail_unless_equals_int (tf_test_src_port (h), 0);
  tf_test_src_free (h);
}

GST_END_TEST;

GST_START_TEST (test_peers_stop_with_silent_peer)
{
  /* timeout=0: no deadline wakes the thread, only the stop can. */
  GstHarness *h = tf_test_src_new ("timeout=0");
  TfTestPeer *cam = tf_test_peer_connect (tf_test_src_port (h));
  GstMessage *msg;

  tf_test_send_frame (cam, A_SEQ, TRUE);
  tf_test_pull_frame (h, A_SEQ, TRUE);
  msg = tf_test_expect_message (h, CONNECTED, cam->local_port, NULL, WAIT_MS);
  gst_message_unref (msg);

  tf_test_stop_promptly (h->element);
  assert_peer_closed (cam);

  tf_test_peer_free (cam);
  tf_test_src_free (h);
}

GST_END_TEST;

#define BIG_FRAME (16 * 1024 * 1024)

GST_START_TEST (test_peers_stop_mid_frame)
{
  GstHarness *h = tf_test_src_new ("timeout=0 framing=length "
      "length-format=u32be");
  TfTestPeer *cam = tf_test_peer_connect (tf_test_src_port (h));
  guint8 prefix[4];
  guint8 *half = tf_test_payload (0, BIG_FRAME / 2);

  /* Half of a 16 MiB frame: the element is filling a frame buffer when it
   * is told to stop. */
  tf_length_write (TF_LENGTH_FORMAT_U32BE, BIG_FRAME, prefix);
  tf_test_peer_send (cam, prefix, sizeof (prefix));
  tf_test_peer_send (cam, half, BIG_FRAME / 2);
  wait_element_read_all (h, cam);
  fail_unless (gst_harness_try_pull (h) == NULL);

  tf_test_stop_promptly (h->element);
  assert_peer_closed (cam);

  g_free (half);
  tf_test_peer_free (cam);
  tf_test_src_free (h);
}

GST_END_TEST;

/* ---- 8. restart ---- */

GST_START_TEST (test_peers_restart)
{
  GstHarness *h = tf_test_src_new (NULL);
  TfTestPeer *cam = tf_test_peer_connect (tf_test_src_port (h));
  GstMessage *msg;
  guint16 port;
  guint i;

  tf_test_send_frame (cam, A_SEQ, TRUE);
  tf_test_pull_frame (h, A_SEQ, TRUE);
  msg = tf_test_expect_message (h, CONNECTED, cam->local_port, NULL, WAIT_MS);
  gst_message_unref (msg);

  fail_unless_equals_int (gst_element_set_state (h->element, GST_STATE_READY),
      GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (tf_test_src_port (h), 0);
  fail_unless_equals_int (tf_test_get_status (h), TF_STATUS_STOPPED);
  assert_peer_closed (cam);
  tf_test_peer_free (cam);

  fail_if (gst_element_set_state (h->element, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  /* Port 0 again: the new listening port may differ from the old one. */
  port = tf_test_src_port (h);
  fail_unless (port != 0, "no port after the restart");
  fail_unless_equals_int (tf_test_get_status (h), TF_STATUS_WAITING);

  cam = tf_test_peer_connect (port);
  for (i = 0; i < 3; i++)
    tf_test_send_frame (cam, B_SEQ + i, i == 0);
  for (i = 0; i < 3; i++)
    tf_test_pull_frame (h, B_SEQ + i, i == 0);
  msg = tf_test_expect_message (h, CONNECTED, cam->local_port, NULL, WAIT_MS);
  gst_message_unref (msg);
  fail_unless_equals_int (tf_test_get_status (h), TF_STATUS_STREAMING);
  tf_test_assert_no_buffer (h, QUIET_MS);
  /* stats count since the last start, not since the element was made */
  fail_unless_equals_uint64 (tf_test_stat (h, "connections"), 1);
  fail_unless_equals_uint64 (tf_test_stat (h, "frames"), 3);

  tf_test_peer_close (cam);
  tf_test_src_free (h);
}

GST_END_TEST;

/* ---- 9. keep: a standby camera takes over when the current one leaves ---- */

#define C_SEQ 3000

GST_START_TEST (test_peers_keep_standby_takes_over)
{
  GstHarness *h = tf_test_src_new ("peer-policy=keep " TIMEOUT_PROP);
  guint16 port = tf_test_src_port (h);
  TfTestPeer *a = tf_test_peer_connect (port), *b = NULL, *c = NULL;
  guint16 a_port = a->local_port;
  gint64 b_arrived = 0;
  guint32 seq, b_seq = B_SEQ, c_seq = C_SEQ, i;
  GstMessage *msg;

  /* A streams; B connects at A's third frame and C at its fifth, and both
   * stream too, as standbys, for longer than the timeout: their frames are
   * read and discarded, and they keep them from being dropped as stale. */
  for (seq = 0; !c || tf_test_ms_since (b_arrived) < TIMEOUT_MS + LATE_MS; seq++) {
    fail_unless (seq < 200);
    tf_test_send_frame (a, A_SEQ + seq, seq == 0);
    if (b) {
      tf_test_send_frame (b, b_seq, b_seq == B_SEQ);
      b_seq++;
    }
    if (c) {
      tf_test_send_frame (c, c_seq, c_seq == C_SEQ);
      c_seq++;
    }
    /* Only A's frames come out, in order. */
    tf_test_pull_frame (h, A_SEQ + seq, seq == 0);
    if (seq == 2) {
      b_arrived = g_get_monotonic_time ();
      b = tf_test_peer_connect (port);
    } else if (seq == 4) {
      c = tf_test_peer_connect (port);
    }
    tf_test_assert_no_message (h, REJECTED, FRAME_INTERVAL_MS);
  }
  fail_unless (b_seq > B_SEQ + 5);
  /* Whatever the standbys sent so far has been thrown away: none of it
   * may come out once one of them is current. */
  wait_element_read_all (h, b);
  wait_element_read_all (h, c);
  tf_test_assert_no_buffer (h, QUIET_MS);

  msg = tf_test_expect_message (h, CONNECTED, a_port, NULL, 0);
  gst_message_unref (msg);
  tf_test_assert_no_message (h, CONNECTED, 0);

  /* A leaves: the standby that has waited longest, B, becomes current, and
   * only what it sends from now on comes out; C stays a standby. */
  tf_test_peer_close (a);
  msg = tf_test_expect_message (h, DISCONNECTED, a_port, "closed", WAIT_MS);
  fail_unless_equals_uint64 (tf_test_message_frames (msg), seq);
  gst_message_unref (msg);
  msg = tf_test_expect_message (h, CONNECTED, b->local_port, NULL, WAIT_MS);
  gst_message_unref (msg);
  fail_unless_equals_int (tf_test_stat_peer_port (h), b->local_port);

  for (i = 0; i < N_B; i++) {
    tf_test_send_frame (b, B_SEQ + 100 + i, FALSE);
    tf_test_send_frame (c, c_seq++, FALSE);
  }
  for (i = 0; i < N_B; i++)
    tf_test_pull_frame (h, B_SEQ + 100 + i, i == 0);
  tf_test_assert_no_buffer (h, QUIET_MS);

  fail_unless_equals_uint64 (tf_test_stat (h, "frames"), seq + N_B);
  fail_unless_equals_uint64 (tf_test_stat (h, "rejected"), 0);
  fail_unless_equals_uint64 (tf_test_stat (h, "timeouts"), 0);
  fail_unless_equals_uint64 (tf_test_stat (h, "replacements"), 0);
  tf_test_assert_no_message (h, REJECTED, 0);
  tf_test_assert_no_message (h, CONNECTED, 0);
  fail_unless_equals_int (tf_test_peer_wait_end (c, 0),
      TF_TEST_PEER_STILL_OPEN);

  tf_test_peer_close (c);
  tf_test_peer_close (b);
  tf_test_src_free (h);
}

GST_END_TEST;

static Suite *
peers_suite (void)
{
  Suite *s = suite_create ("peers");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_peers_stale_replaced_policy_replace);
  tcase_add_test (tc, test_peers_stale_replaced_policy_replace_on_frame);
  tcase_add_test (tc, test_peers_stale_replaced_policy_keep);
  tcase_add_test (tc, test_peers_idle_connection_does_not_interrupt);
  tcase_add_test (tc, test_peers_idle_connection_times_out_under_backlog);
  tcase_add_test (tc, test_peers_new_camera_replaces_under_backlog);
  tcase_add_test (tc, test_peers_keep_standby_alive_under_backlog);
  tcase_add_test (tc, test_peers_timeout_after_last_frame);
  tcase_add_test (tc, test_peers_timeout_counts_frames_not_bytes);
  tcase_add_test (tc, test_peers_reconnect_from_same_port);
  tcase_add_test (tc, test_peers_leave_mid_frame_fin);
  tcase_add_test (tc, test_peers_leave_mid_frame_rst);
  tcase_add_test (tc, test_peers_max_pending_drops_oldest);
  tcase_add_test (tc, test_peers_stop_while_waiting);
  tcase_add_test (tc, test_peers_stop_with_silent_peer);
  tcase_add_test (tc, test_peers_stop_mid_frame);
  tcase_add_test (tc, test_peers_restart);
  tcase_add_test (tc, test_peers_keep_standby_takes_over);
  return s;
}

GST_CHECK_MAIN (peers);
