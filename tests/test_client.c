/* tcpframesrc mode=client: connecting to a camera, reconnecting with
 * backoff, giving up after max-retries, and stopping promptly whatever the
 * connection is doing.
 *
 * The camera side is a plain GSocket listener on loopback, port 0, that the
 * test drives by hand: it accepts, streams header-framing frames, closes,
 * falls silent or sends garbage.  Three kinds of "camera that is not there"
 * are used, all on loopback only:
 *   - refusing: a socket bound to the port but not listening.  A SYN gets
 *     an RST (connection refused), and since the port stays bound to us
 *     no other test is handed it for a listener of its own.
 *   - dying: a listener that accepts and closes at once.  Each accept is a
 *     connect attempt whose time the test knows, which is how the backoff
 *     delays are measured.
 *   - silent: a listener with backlog 0 whose accept queue is already full
 *     (one connection that is never accepted).  Linux drops further SYNs,
 *     so a connect hangs until connect-timeout, like an unroutable address.
 *
 * Every wait is bounded.  Backoff delays are random (full jitter), so the
 * timing assertions either bound a delay from above (deterministic, up to
 * scheduling slack) or are statistical with a flake rate stated next to
 * them.  Times are taken where things happen, not when this test's thread
 * gets to see them, so a busy machine delaying the test does not fail it:
 * a connect's time is the kernel's (TCP_INFO on the accepted socket), a
 * message's is taken by a bus sync handler in the thread that posts it,
 * and a frame's arrival is its buffer timestamp. */
#include <gst/check/gstcheck.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "tf-testpeer.h"
#include "tf-framer.h"

#define WAIT_MS tf_test_scale_ms (3000)
#define GRAY8_4x2 TF_TEST_GRAY8_4x2
#define FRAME_LEN TF_TEST_FRAME_LEN

/* How late the element may act after the moment it should have.  Most
 * wakeups are within SLACK_MS; on a loaded machine (the suites run in
 * parallel, next to builds, on two CPUs) one now and then is later, but
 * not by more than LATE_MS.  A check on a single event allows LATE_MS; a
 * check over many allows SLACK_MS for most of them.  Both are slack on
 * upper bounds only, so they scale with tf_test_scale_ms() (memcheck);
 * the delays under them do not. */
#define SLACK_MS tf_test_scale_ms (30)
#define LATE_MS tf_test_scale_ms (150)
/* How long to watch for something that must not happen. */
#define QUIET_MS 50

/* The element's frame timeout where a test is about staleness. */
#define TIMEOUT_MS 300

#define CONNECTED "tcpframesrc-connected"
#define DISCONNECTED "tcpframesrc-disconnected"

#define MS_NS G_GUINT64_CONSTANT (1000000)

/* ---- small helpers ---- */

static gint64
now_ms (void)
{
  return g_get_monotonic_time () / 1000;
}

/* The bound of the k-th backoff delay (k from 1): r * 2^(k-1), capped. */
static gint64
backoff_bound_ms (gint64 r, gint64 m, guint k)
{
  gint64 b = r;

  while (--k > 0 && b < m)
    b *= 2;
  return MIN (b, m);
}

static guint64
message_frames (GstMessage * msg)
{
  guint64 frames = G_MAXUINT64;

  fail_unless (gst_structure_get_uint64 (gst_message_get_structure (msg),
          "frames", &frames), "message has no frames");
  return frames;
}

/* Waits for the next `name` message; it must be about address:port and,
 * unless `reason` is NULL, give that reason.  Returns it for more checks. */
static GstMessage *
expect_message (GstHarness * h, const gchar * name, const gchar * address,
    guint16 port, const gchar * reason, guint timeout_ms)
{
  GstMessage *msg = tf_test_wait_message (h, name, MAX (timeout_ms, 1));

  fail_unless (msg != NULL, "no %s message for %s port %u within %u ms", name,
      address, port, timeout_ms);
  fail_unless_equals_string (tf_test_message_string (msg, "address"), address);
  fail_unless_equals_int (tf_test_message_int (msg, "port"), port);
  if (reason)
    fail_unless_equals_string (tf_test_message_string (msg, "reason"), reason);
  return msg;
}

/* Waits until the stat reaches at least `min`; returns its value. */
static guint64
wait_stat_at_least (GstHarness * h, const gchar * field, guint64 min,
    guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;
  guint64 v;

  while ((v = tf_test_stat (h, field)) < min
      && g_get_monotonic_time () < deadline)
    g_usleep (1000);
  fail_unless (v >= min, "stats %s is %" G_GUINT64_FORMAT " after %u ms, "
      "expected at least %" G_GUINT64_FORMAT, field, v, timeout_ms, min);
  return v;
}

/* Waits for an ERROR on the bus.  Other messages read meanwhile are
 * dropped, so tests wait for the error last. */
static GstMessage *
wait_error (GstHarness * h, guint timeout_ms)
{
  return gst_bus_timed_pop_filtered (tf_test_src_bus (h),
      timeout_ms * GST_MSECOND, GST_MESSAGE_ERROR);
}

static void
assert_no_error (GstHarness * h)
{
  GstMessage *msg = gst_bus_pop_filtered (tf_test_src_bus (h),
      GST_MESSAGE_ERROR);

  if (msg) {
    GError *err = NULL;
    gst_message_parse_error (msg, &err, NULL);
    fail ("unexpected error: %s", err->message);
    g_error_free (err);
    gst_message_unref (msg);
  }
}

/* ---- the element ---- */

/* Stamps each message with the monotonic time it was posted at, in the
 * posting thread: timing checks then measure the source, not how late
 * this test's thread got round to reading the bus. */
static GstBusSyncReply
stamp_message (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  GST_MESSAGE_TIMESTAMP (msg) = g_get_monotonic_time () * GST_USECOND;
  return GST_BUS_PASS;
}

static gint64
posted_at_ms (GstMessage * msg)
{
  fail_unless (GST_CLOCK_TIME_IS_VALID (GST_MESSAGE_TIMESTAMP (msg)));
  return GST_MESSAGE_TIMESTAMP (msg) / GST_MSECOND;
}

/* A tcpframesrc in client mode connecting to host:port, under a harness
 * with a bus.  Extra properties come as "name=value name=value". */
static GstHarness *
client_new (const gchar * host, guint16 port, const gchar * props)
{
  GstHarness *h = gst_harness_new_with_padnames ("tcpframesrc", NULL, "src");
  GstBus *bus = gst_bus_new ();

  gst_bus_set_sync_handler (bus, stamp_message, NULL, NULL);
  gst_element_set_bus (h->element, bus);
  gst_object_unref (bus);
  gst_harness_use_systemclock (h);

  gst_util_set_object_arg (G_OBJECT (h->element), "mode", "client");
  g_object_set (h->element, "host", host, "port", (gint) port, NULL);
  tf_test_set_props (h->element, props);

  gst_harness_play (h);
  return h;
}

/* A stop must be prompt and leave the element stopped. */
static void
check_stop_is_prompt (GstHarness * h)
{
  tf_test_stop_promptly (h->element);
  fail_unless_equals_int (tf_test_get_status (h), TF_STATUS_STOPPED);
}

/* ---- the camera ---- */

typedef struct
{
  GSocket *socket;              /* listening, or only bound (refusing) */
  GSocketFamily family;
  guint16 port;
  /* Of the latest accept: when our accept returned, and when the kernel
   * completed the handshake, which is when the source connected,
   * whatever our own thread was doing. */
  gint64 accepted_at_ms;
  gint64 established_at_ms;
  GSocket *filler;              /* silent camera: the connection that fills
                                 * the accept queue */
} Camera;

/* Binds to the loopback address of `family`.  With `reuse`
 * (SO_REUSEADDR), which the accepted connections inherit, the port can be
 * bound again while they are open or in TIME_WAIT; port 0 never hands it
 * to anyone else meanwhile. */
static GSocket *
bind_loopback (GSocketFamily family, guint16 port, gboolean reuse,
    GError ** error)
{
  GSocket *socket = g_socket_new (family, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, error);
  GInetAddress *lo;
  GSocketAddress *sa;

  if (!socket)
    return NULL;
  lo = g_inet_address_new_loopback (family);
  sa = g_inet_socket_address_new (lo, port);
  if (!g_socket_bind (socket, sa, reuse, error))
    g_clear_object (&socket);
  g_object_unref (sa);
  g_object_unref (lo);
  return socket;
}

static guint16
socket_port (GSocket * socket)
{
  GSocketAddress *local = g_socket_get_local_address (socket, NULL);
  guint16 port;

  fail_unless (local != NULL);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  g_object_unref (local);
  return port;
}

static const gchar *
family_name (GSocketFamily family)
{
  return family == G_SOCKET_FAMILY_IPV6 ? "::1" : "127.0.0.1";
}

/* A camera on the loopback address of `family`, bound but not listening:
 * connects to it are refused until camera_listen(). */
static Camera *
camera_new_refusing (GSocketFamily family)
{
  Camera *cam = g_new0 (Camera, 1);
  GError *err = NULL;

  cam->family = family;
  cam->socket = bind_loopback (family, 0, TRUE, &err);
  /* Loopback IPv6 exists on the machines this suite runs on; a test that
   * needs it must not pass without it. */
  fail_unless (cam->socket != NULL, "cannot bind a TCP socket to %s: %s",
      family_name (family), err ? err->message : "?");
  cam->port = socket_port (cam->socket);
  return cam;
}

static void
camera_listen (Camera * cam, gint backlog)
{
  GError *err = NULL;

  g_socket_set_listen_backlog (cam->socket, backlog);
  fail_unless (g_socket_listen (cam->socket, &err), "listen on %s port %u: "
      "%s", family_name (cam->family), cam->port, err ? err->message : "?");
}

static Camera *
camera_new_family (GSocketFamily family)
{
  Camera *cam = camera_new_refusing (family);

  camera_listen (cam, 16);
  return cam;
}

static Camera *
camera_new (void)
{
  return camera_new_family (G_SOCKET_FAMILY_IPV4);
}

/* Starts a non-blocking connect to the loopback address of `family`. */
static GSocket *
connect_start (GSocketFamily family, guint16 port)
{
  GSocket *socket = g_socket_new (family, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);
  GInetAddress *lo = g_inet_address_new_loopback (family);
  GSocketAddress *sa = g_inet_socket_address_new (lo, port);
  GError *err = NULL;

  fail_unless (socket != NULL);
  g_socket_set_blocking (socket, FALSE);
  if (!g_socket_connect (socket, sa, NULL, &err)) {
    fail_unless (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_PENDING),
        "connect to %s port %u: %s", family_name (family), port, err->message);
    g_error_free (err);
  }
  g_object_unref (sa);
  g_object_unref (lo);
  return socket;
}

/* Whether the connect completed within timeout_ms. */
static gboolean
connect_finished (GSocket * socket, guint timeout_ms)
{
  GError *err = NULL;
  gboolean ok;

  if (!g_socket_condition_timed_wait (socket, G_IO_OUT,
          timeout_ms * G_GINT64_CONSTANT (1000), NULL, &err)) {
    g_error_free (err);
    return FALSE;
  }
  ok = g_socket_check_connect_result (socket, &err);
  fail_unless (ok, "connect failed: %s", err ? err->message : "?");
  return TRUE;
}

/* Makes the bound, not yet listening camera silent: SYNs to it are
 * dropped, so a connect neither succeeds nor fails until the connecting
 * side gives up.  Checks that this kernel behaves so before any test
 * relies on it. */
static void
camera_make_silent (Camera * cam)
{
  GSocket *probe;

  /* Backlog 0 still admits one connection to the accept queue; once it is
   * there, Linux drops new SYNs instead of answering them. */
  camera_listen (cam, 0);
  cam->filler = connect_start (cam->family, cam->port);
  fail_unless (connect_finished (cam->filler, WAIT_MS),
      "the connection filling the accept queue did not complete");

  probe = connect_start (cam->family, cam->port);
  fail_if (connect_finished (probe, QUIET_MS), "this kernel answered a SYN "
      "to a listener with a full accept queue; the silent-camera tests "
      "need it to drop them");
  g_object_unref (probe);
}

static Camera *
camera_new_silent (GSocketFamily family)
{
  Camera *cam = camera_new_refusing (family);

  camera_make_silent (cam);
  return cam;
}

/* When the connection was established, from the kernel: TCP_INFO's time
 * since the last ACK received is, before any data, the time since the
 * handshake's final ACK.  Jiffy resolution (4 ms at HZ=250). */
static gint64
established_at_ms (GSocket * socket)
{
  struct tcp_info info;
  socklen_t len = sizeof (info);

  memset (&info, 0, sizeof (info));
  fail_unless (getsockopt (g_socket_get_fd (socket), IPPROTO_TCP, TCP_INFO,
          &info, &len) == 0, "TCP_INFO: %s", g_strerror (errno));
  return now_ms () - info.tcpi_last_ack_recv;
}

/* Accepts the next connection within timeout_ms, or returns NULL.  The
 * accepted socket is wrapped as a TfTestPeer so the shared helpers can
 * send frames on it and watch how it ends; its local_port is the
 * camera's port. */
static TfTestPeer *
camera_try_accept (Camera * cam, guint timeout_ms)
{
  GError *err = NULL;
  GSocket *socket;
  TfTestPeer *peer;

  if (!g_socket_condition_timed_wait (cam->socket, G_IO_IN,
          timeout_ms * G_GINT64_CONSTANT (1000), NULL, &err)) {
    g_error_free (err);
    return NULL;
  }
  cam->accepted_at_ms = now_ms ();
  socket = g_socket_accept (cam->socket, NULL, &err);
  fail_unless (socket != NULL, "accept: %s", err ? err->message : "?");
  cam->established_at_ms = established_at_ms (socket);
  peer = g_new0 (TfTestPeer, 1);
  peer->socket = socket;
  peer->local_port = cam->port;
  return peer;
}

/* Like camera_try_accept(), but a connection must come.  If none does,
 * the source `h` may have given up: its error then explains why. */
static TfTestPeer *
camera_accept (Camera * cam, GstHarness * h, guint timeout_ms)
{
  TfTestPeer *peer = camera_try_accept (cam, timeout_ms);

  if (!peer) {
    GstMessage *msg = gst_bus_pop_filtered (tf_test_src_bus (h),
        GST_MESSAGE_ERROR);
    GError *err = NULL;

    if (msg)
      gst_message_parse_error (msg, &err, NULL);
    fail ("the source did not connect to %s port %u within %u ms%s%s",
        family_name (cam->family), cam->port, timeout_ms,
        err ? "; it gave up: " : "", err ? err->message : "");
  }
  return peer;
}

/* The "accepts and dies" camera: one attempt, over before any frame. */
static void
camera_accept_and_close (Camera * cam, GstHarness * h, guint timeout_ms)
{
  tf_test_peer_close (camera_accept (cam, h, timeout_ms));
}

/* Connects are refused from now on.  The port is bound again at once,
 * without listening, so that no other test's listener can take it over
 * and be connected to in our camera's place. */
static void
camera_stop_listening (Camera * cam)
{
  GError *err = NULL;

  g_socket_close (cam->socket, NULL);
  g_object_unref (cam->socket);
  cam->socket = bind_loopback (cam->family, cam->port, TRUE, &err);
  fail_unless (cam->socket != NULL, "cannot bind %s port %u again: %s",
      family_name (cam->family), cam->port, err ? err->message : "?");
}

static void
camera_free (Camera * cam)
{
  g_clear_object (&cam->filler);
  g_socket_close (cam->socket, NULL);
  g_object_unref (cam->socket);
  g_free (cam);
}

/* ---- 1. a camera that accepts and streams ---- */

GST_START_TEST (test_client_streams_from_camera)
{
  Camera *cam = camera_new ();
  GstHarness *h = client_new ("127.0.0.1", cam->port, NULL);
  TfTestPeer *peer = camera_accept (cam, h, WAIT_MS);
  GstMessage *msg;
  GstStructure *s = NULL;
  gint peer_port = 0;
  guint32 seq;

  msg = expect_message (h, CONNECTED, "127.0.0.1", cam->port, NULL, WAIT_MS);
  gst_message_unref (msg);

  for (seq = 0; seq < 5; seq++)
    tf_test_send_frame (peer, seq, seq == 0);
  for (seq = 0; seq < 5; seq++)
    tf_test_pull_frame (h, seq, seq == 0);

  fail_unless_equals_int (tf_test_get_status (h), TF_STATUS_STREAMING);
  fail_unless_equals_uint64 (tf_test_stat (h, "connect-attempts"), 1);
  fail_unless_equals_uint64 (tf_test_stat (h, "connections"), 1);
  fail_unless_equals_uint64 (tf_test_stat (h, "frames"), 5);
  fail_unless_equals_uint64 (tf_test_stat (h, "bytes"), 5 * FRAME_LEN);
  g_object_get (h->element, "stats", &s, NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "peer-address"),
      "127.0.0.1");
  fail_unless (gst_structure_get_int (s, "peer-port", &peer_port));
  fail_unless_equals_int (peer_port, cam->port);
  gst_structure_free (s);
  /* Client mode binds nothing. */
  {
    gint current_port = -1;
    g_object_get (h->element, "current-port", &current_port, NULL);
    fail_unless_equals_int (current_port, 0);
  }

  tf_test_peer_close (peer);
  msg = expect_message (h, DISCONNECTED, "127.0.0.1", cam->port, "closed",
      WAIT_MS);
  fail_unless_equals_uint64 (message_frames (msg), 5);
  gst_message_unref (msg);
  assert_no_error (h);

  tf_test_src_free (h);
  camera_free (cam);
}

GST_END_TEST;

/* ---- 2. backoff: bounds grow, are capped, and are respected ---- */

#define GROW_R_MS 10
#define GROW_M_MS 160
#define GROW_GAPS 14
/* A source whose bound never grew would wait at most GROW_R_MS per gap,
 * GROW_GAPS * GROW_R_MS = 140 ms in all (plus about a millisecond of
 * work per gap); this is well above that. */
#define GROW_MIN_TOTAL_MS 200
/* Gaps allowed to be later than SLACK_MS past their bound (never more
 * than LATE_MS): a busy machine's odd late wakeup, not the source's. */
#define GROW_LATE_GAPS 2

GST_START_TEST (test_client_backoff_bounds_grow_and_cap)
{
  Camera *cam = camera_new ();
  GstHarness *h = client_new ("127.0.0.1", cam->port,
      "retry-delay=10000000 max-retry-delay=160000000");
  gint64 accepted[GROW_GAPS + 1], established[GROW_GAPS + 1];
  gint64 closed[GROW_GAPS + 1];
  gint64 total = 0, spread = 0, bound_sum = 0;
  guint k, late = 0;

  /* Every attempt is accepted and closed before a frame: each is a
   * failure, so the k-th delay is uniform in [0, bound_k] with bound_k =
   * min(M, R * 2^(k-1)).  It starts when the source sees our close. */
  for (k = 0; k <= GROW_GAPS; k++) {
    TfTestPeer *peer = camera_try_accept (cam, WAIT_MS);

    fail_unless (peer != NULL, "attempt %u did not come within %u ms; the "
        "delay before it should have been at most %" G_GINT64_FORMAT " ms",
        k + 1, WAIT_MS, k ? backoff_bound_ms (GROW_R_MS, GROW_M_MS, k) : 0);
    accepted[k] = cam->accepted_at_ms;
    established[k] = cam->established_at_ms;
    if (k == GROW_GAPS) {
      /* Refused from now on, so the status below stays connecting. */
      camera_stop_listening (cam);
    }
    tf_test_peer_close (peer);
    closed[k] = now_ms ();
  }

  for (k = 1; k <= GROW_GAPS; k++) {
    /* From our close to the kernel's record of the next connect: how long
     * the source took, without our own thread's delays in it (closed[] is
     * taken after the close, so any delay of ours shortens this). */
    gint64 took = established[k] - closed[k - 1];
    gint64 bound = backoff_bound_ms (GROW_R_MS, GROW_M_MS, k);

    GST_INFO ("delay %u: %" G_GINT64_FORMAT " ms (bound %" G_GINT64_FORMAT
        " ms)", k, took, bound);
    fail_unless (took <= bound + LATE_MS, "delay %u took %" G_GINT64_FORMAT
        " ms, over its bound %" G_GINT64_FORMAT " ms", k, took, bound);
    if (took > bound + SLACK_MS)
      late++;
    total += took;
    bound_sum += bound;
    /* From accept to accept: never shorter than the random delay. */
    spread += accepted[k] - accepted[k - 1];
  }
  fail_unless (late <= GROW_LATE_GAPS, "%u of %u delays were over their "
      "bounds by more than %u ms", late, GROW_GAPS, SLACK_MS);
  /* The delays' sum is symmetric about half the bounds' sum (875 ms), so
   * coming within LATE_MS of the bounds' sum is as unlikely as staying
   * under LATE_MS: about 3e-9, and still 1.5e-5 if late wakeups add
   * another 150 ms in all. */
  fail_unless (total <= bound_sum + LATE_MS, "%u delays took %"
      G_GINT64_FORMAT " ms, over the sum of their bounds %" G_GINT64_FORMAT
      " ms", GROW_GAPS, total, bound_sum);

  /* The bounds grow.  The accept-to-accept times are each at least their
   * random delay, so this can only fail for a correct source if the 14
   * delays (bounds 10, 20, 40, 80, then 160 ms ten times) sum to under
   * 200 ms, whose probability, computed by convolving the uniform
   * densities, is about 1e-7. */
  fail_unless (spread >= GROW_MIN_TOTAL_MS, "%u delays took only %"
      G_GINT64_FORMAT " ms: the backoff bound does not seem to grow from "
      "retry-delay", GROW_GAPS, spread);
  GST_INFO ("delays %" G_GINT64_FORMAT " ms of at most %" G_GINT64_FORMAT
      " ms; accept to accept %" G_GINT64_FORMAT " ms", total, bound_sum,
      spread);

  wait_stat_at_least (h, "connect-attempts", GROW_GAPS + 1, WAIT_MS);
  tf_test_wait_status (h, TF_STATUS_CONNECTING);
  assert_no_error (h);

  tf_test_src_free (h);
  camera_free (cam);
}

GST_END_TEST;

/* ---- refused: retries forever, then connects when the camera is up ---- */

GST_START_TEST (test_client_refused_retries_until_camera_listens)
{
  Camera *cam = camera_new_refusing (G_SOCKET_FAMILY_IPV4);
  GstHarness *h = client_new ("127.0.0.1", cam->port,
      "retry-delay=10000000 max-retry-delay=40000000");
  gint64 start = now_ms ();
  gint64 budget = 0;
  TfTestPeer *peer;
  GstMessage *msg;
  guint k;

  /* Eight attempts take at most the sum of the first seven bounds (10,
   * 20, 40, 40, 40, 40, 40 ms) plus slack. */
  for (k = 1; k < 8; k++)
    budget += backoff_bound_ms (10, 40, k);
  wait_stat_at_least (h, "connect-attempts", 8, budget + LATE_MS);
  GST_INFO ("8 refused attempts in %" G_GINT64_FORMAT " ms (bounds sum %"
      G_GINT64_FORMAT " ms)", now_ms () - start, budget);

  fail_unless_equals_int (tf_test_get_status (h), TF_STATUS_CONNECTING);
  fail_unless_equals_uint64 (tf_test_stat (h, "connections"), 0);
  /* max-retries=-1: refusals are never fatal. */
  assert_no_error (h);

  /* The camera comes up: the next attempt, at most the capped bound away,
   * gets in. */
  camera_listen (cam, 16);
  peer = camera_accept (cam, h, 40 + LATE_MS + WAIT_MS);
  msg = expect_message (h, CONNECTED, "127.0.0.1", cam->port, NULL, WAIT_MS);
  gst_message_unref (msg);
  tf_test_send_frame (peer, 0, TRUE);
  tf_test_pull_frame (h, 0, TRUE);
  fail_unless_equals_int (tf_test_get_status (h), TF_STATUS_STREAMING);
  fail_unless_equals_uint64 (tf_test_stat (h, "connections"), 1);

  tf_test_peer_close (peer);
  tf_test_src_free (h);
  camera_free (cam);
}

GST_END_TEST;

/* ---- 3. a connection that delivered frames resets the backoff ---- */

#define RESET_R_MS 10
#define RESET_FAILURES 7
#define RESET_ROUNDS 3

GST_START_TEST (test_client_backoff_resets_after_frames)
{
  Camera *cam = camera_new ();
  GstHarness *h = client_new ("127.0.0.1", cam->port,
      "retry-delay=10000000 max-retry-delay=5000000000");
  TfTestPeer *peer;
  GstMessage *msg;
  guint k, round;
  guint64 attempts;

  /* Seven failures (bounds 10 to 640 ms): the next bound would be
   * 1280 ms. */
  for (k = 0; k < RESET_FAILURES; k++)
    camera_accept_and_close (cam, h, WAIT_MS);

  /* Three times, a connection streams frames and then closes; the
   * reconnect after it must use the initial bound again.  A correct
   * source reconnects within RESET_R_MS (plus a late wakeup at worst), so
   * this never fails it.  Were the bound not reset it would be 1280 ms,
   * then 2560, then 5000 (the cap), and reconnecting within 160 ms all
   * three times would have a chance of 1/8 * 1/16 * 1/31: the bug is
   * caught with probability 0.9997. */
  peer = camera_accept (cam, h, WAIT_MS);
  for (round = 0; round < RESET_ROUNDS; round++) {
    gint64 closed_at;

    tf_test_send_frame (peer, round * 10, TRUE);
    tf_test_send_frame (peer, round * 10 + 1, FALSE);
    tf_test_pull_frame (h, round * 10, TRUE);
    tf_test_pull_frame (h, round * 10 + 1, FALSE);

    tf_test_peer_close (peer);
    closed_at = now_ms ();
    peer = camera_try_accept (cam, WAIT_MS);
    fail_unless (peer != NULL, "round %u: no reconnect within %d ms of the "
        "end of a streaming connection; the backoff bound was not reset to "
        "retry-delay (%d ms)", round, WAIT_MS, RESET_R_MS);
    GST_INFO ("round %u: reconnected after %" G_GINT64_FORMAT " ms", round,
        cam->established_at_ms - closed_at);
    fail_unless (cam->established_at_ms - closed_at <= RESET_R_MS + LATE_MS,
        "round %u: reconnected %" G_GINT64_FORMAT " ms after the end of a "
        "streaming connection; the backoff bound was not reset to "
        "retry-delay (%d ms)", round, cam->established_at_ms - closed_at,
        RESET_R_MS);
  }

  /* The first messages are the dead connections' (0 frames). */
  for (k = 0; k < RESET_FAILURES; k++) {
    msg = expect_message (h, DISCONNECTED, "127.0.0.1", cam->port, "closed",
        WAIT_MS);
    fail_unless_equals_uint64 (message_frames (msg), 0);
    gst_message_unref (msg);
  }
  for (round = 0; round < RESET_ROUNDS; round++) {
    msg = expect_message (h, DISCONNECTED, "127.0.0.1", cam->port, "closed",
        WAIT_MS);
    fail_unless_equals_uint64 (message_frames (msg), 2);
    gst_message_unref (msg);
  }
  /* The dead ones, the streaming ones, and the one now open.  That one
   * counts as a connection once the source has seen its connect complete,
   * which may be a little after our accept. */
  attempts = tf_test_stat (h, "connect-attempts");
  fail_unless_equals_uint64 (attempts, RESET_FAILURES + RESET_ROUNDS + 1);
  wait_stat_at_least (h, "connections", attempts, WAIT_MS);
  fail_unless_equals_uint64 (tf_test_stat (h, "connections"), attempts);

  tf_test_peer_close (peer);
  tf_test_src_free (h);
  camera_free (cam);
}

GST_END_TEST;

/* ---- 4. max-retries ---- */

/* Checks the ERROR that ends the retries: RESOURCE/OPEN_READ, naming the
 * camera and the number of attempts, and containing `failure`. */
static void
check_give_up_error (GstMessage * msg, guint16 port, guint attempts,
    const gchar * failure)
{
  GError *err = NULL;
  gchar *debug = NULL;
  gchar *want;

  fail_unless (msg != NULL, "no error after the retries ran out");
  gst_message_parse_error (msg, &err, &debug);
  GST_INFO ("error: %s", err->message);
  fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_OPEN_READ), "error %s/%d is not "
      "RESOURCE/OPEN_READ", g_quark_to_string (err->domain), err->code);
  want = g_strdup_printf ("127.0.0.1 port %u", port);
  fail_unless (strstr (err->message, want) != NULL, "\"%s\" does not name "
      "%s", err->message, want);
  g_free (want);
  want = g_strdup_printf ("after %u failed attempts", attempts);
  fail_unless (strstr (err->message, want) != NULL, "\"%s\" does not say "
      "\"%s\"", err->message, want);
  g_free (want);
  fail_unless (strstr (err->message, failure) != NULL, "\"%s\" does not "
      "give the last failure (\"%s\")", err->message, failure);
  g_error_free (err);
  g_free (debug);
}

GST_START_TEST (test_client_max_retries_refused)
{
  Camera *cam = camera_new_refusing (G_SOCKET_FAMILY_IPV4);
  gint64 start = now_ms ();
  GstHarness *h = client_new ("127.0.0.1", cam->port,
      "max-retries=2 retry-delay=20000000 max-retry-delay=160000000");
  /* Three refusals with two delays between them, bounded by 20 + 40 ms. */
  gint64 budget = 20 + 40 + LATE_MS;
  GstMessage *msg = wait_error (h, WAIT_MS);
  gint64 took;

  check_give_up_error (msg, cam->port, 3, "refused");
  took = posted_at_ms (msg) - start;
  gst_message_unref (msg);
  fail_unless (took <= budget, "gave up after %" G_GINT64_FORMAT " ms, "
      "expected at most %" G_GINT64_FORMAT, took, budget);

  /* Exactly three attempts, and no more once given up. */
  fail_unless_equals_uint64 (tf_test_stat (h, "connect-attempts"), 3);
  g_usleep (QUIET_MS * 1000);
  fail_unless_equals_uint64 (tf_test_stat (h, "connect-attempts"), 3);
  fail_unless_equals_uint64 (tf_test_stat (h, "connections"), 0);

  tf_test_src_free (h);
  camera_free (cam);
}

GST_END_TEST;

GST_START_TEST (test_client_max_retries_counts_dead_connections)
{
  Camera *cam = camera_new ();
  GstHarness *h = client_new ("127.0.0.1", cam->port,
      "max-retries=2 retry-delay=20000000 max-retry-delay=160000000");
  GstMessage *msg;
  gchar *failure;

  /* Connections that are accepted and die before a frame are failed
   * attempts too: a camera whose software crashes at every connection
   * must not keep the source busy forever. */
  camera_accept_and_close (cam, h, WAIT_MS);
  camera_accept_and_close (cam, h, WAIT_MS);
  camera_accept_and_close (cam, h, WAIT_MS);

  msg = wait_error (h, WAIT_MS);
  failure = g_strdup_printf ("127.0.0.1:%u: connection ended (closed)",
      cam->port);
  check_give_up_error (msg, cam->port, 3, failure);
  g_free (failure);
  gst_message_unref (msg);

  fail_if (camera_try_accept (cam, QUIET_MS) != NULL, "the source connected "
      "again after giving up");
  fail_unless_equals_uint64 (tf_test_stat (h, "connect-attempts"), 3);

  tf_test_src_free (h);
  camera_free (cam);
}

GST_END_TEST;

GST_START_TEST (test_client_frames_reset_retry_count)
{
  Camera *cam = camera_new ();
  GstHarness *h = client_new ("127.0.0.1", cam->port,
      "max-retries=2 retry-delay=5000000 max-retry-delay=20000000");
  TfTestPeer *peer;
  GstMessage *msg;
  guint round;

  /* Two failures, then a connection with a frame, three times over: six
   * failures in all, but never more than two in a row, so no error. */
  for (round = 0; round < 3; round++) {
    camera_accept_and_close (cam, h, WAIT_MS);
    camera_accept_and_close (cam, h, WAIT_MS);
    peer = camera_accept (cam, h, WAIT_MS);
    tf_test_send_frame (peer, round, TRUE);
    tf_test_pull_frame (h, round, TRUE);
    tf_test_peer_close (peer);
  }
  assert_no_error (h);

  /* Now three in a row. */
  camera_accept_and_close (cam, h, WAIT_MS);
  camera_accept_and_close (cam, h, WAIT_MS);
  camera_accept_and_close (cam, h, WAIT_MS);
  msg = wait_error (h, WAIT_MS);
  check_give_up_error (msg, cam->port, 3, "connection ended (closed)");
  gst_message_unref (msg);
  fail_unless_equals_uint64 (tf_test_stat (h, "connect-attempts"), 12);

  tf_test_src_free (h);
  camera_free (cam);
}

GST_END_TEST;

/* ---- connect-timeout bounds a connect that gets no answer ---- */

#define CONNECT_TIMEOUT_MS 200

GST_START_TEST (test_client_connect_timeout)
{
  Camera *cam = camera_new_silent (G_SOCKET_FAMILY_IPV4);
  gint64 start = now_ms ();
  GstHarness *h = client_new ("127.0.0.1", cam->port,
      "connect-timeout=200000000 max-retries=1 retry-delay=20000000 "
      "max-retry-delay=20000000");
  GstMessage *msg = wait_error (h, WAIT_MS);
  gint64 took;

  /* Two attempts, each waiting the whole connect-timeout, one delay of at
   * most 20 ms between them. */
  check_give_up_error (msg, cam->port, 2, "no answer");
  took = posted_at_ms (msg) - start;
  gst_message_unref (msg);
  GST_INFO ("gave up after %" G_GINT64_FORMAT " ms", took);
  fail_unless (took >= 2 * CONNECT_TIMEOUT_MS, "gave up after %"
      G_GINT64_FORMAT " ms, before two connect timeouts", took);
  fail_unless (took <= 2 * CONNECT_TIMEOUT_MS + 20 + 2 * LATE_MS, "gave up "
      "after %" G_GINT64_FORMAT " ms", took);
  fail_unless_equals_uint64 (tf_test_stat (h, "connect-attempts"), 2);
  fail_unless_equals_uint64 (tf_test_stat (h, "connections"), 0);

  tf_test_src_free (h);
  camera_free (cam);
}

GST_END_TEST;

/* ---- 5. a camera that goes silent is dropped and reconnected ---- */

GST_START_TEST (test_client_silent_camera_times_out_and_reconnects)
{
  Camera *cam = camera_new ();
  GstHarness *h = client_new ("127.0.0.1", cam->port,
      "timeout=300000000 retry-delay=20000000 max-retry-delay=160000000");
  TfTestPeer *peer = camera_accept (cam, h, WAIT_MS), *again;
  guint8 *payload = tf_test_payload (0, FRAME_LEN);
  GstMessage *msg;
  GstBuffer *buf;
  gint64 sent_at, arrived_at, dropped_at;

  /* An embedded box that still believes the old connection is up: one
   * frame, then nothing, the socket left open.  Taken before the send,
   * sent_at is no later than the frame's completion, which starts the
   * timeout. */
  sent_at = now_ms ();
  tf_test_send_frame (peer, 0, TRUE);
  buf = tf_test_pull (h, WAIT_MS);
  tf_test_assert_buffer_equals (buf, payload, FRAME_LEN);
  /* The buffer's timestamp is the clock's time at arrival in the source
   * (the system clock is monotonic), less the base time. */
  arrived_at = (GST_BUFFER_PTS (buf) + gst_element_get_base_time
      (h->element)) / GST_MSECOND;
  gst_buffer_unref (buf);
  g_free (payload);

  msg = expect_message (h, DISCONNECTED, "127.0.0.1", cam->port, "timeout",
      TIMEOUT_MS + LATE_MS + WAIT_MS);
  dropped_at = posted_at_ms (msg);
  fail_unless_equals_uint64 (message_frames (msg), 1);
  gst_message_unref (msg);
  GST_INFO ("dropped %" G_GINT64_FORMAT " ms after the send, %"
      G_GINT64_FORMAT " ms after the frame's arrival", dropped_at - sent_at,
      dropped_at - arrived_at);
  fail_unless (dropped_at - sent_at >= TIMEOUT_MS, "dropped %"
      G_GINT64_FORMAT " ms after the frame, before the timeout",
      dropped_at - sent_at);
  fail_unless (dropped_at - arrived_at <= TIMEOUT_MS + LATE_MS, "dropped %"
      G_GINT64_FORMAT " ms after the frame", dropped_at - arrived_at);
  fail_unless_equals_uint64 (tf_test_stat (h, "timeouts"), 1);

  /* The box sees an RST: its next send fails, and it knows to start over. */
  fail_unless_equals_int (tf_test_peer_wait_end (peer, WAIT_MS),
      TF_TEST_PEER_GOT_RESET);
  tf_test_peer_free (peer);

  /* The connection had delivered a frame, so the reconnect comes within
   * the initial bound. */
  again = camera_accept (cam, h, WAIT_MS);
  fail_unless (cam->established_at_ms - dropped_at <= 20 + LATE_MS,
      "reconnected %" G_GINT64_FORMAT " ms after the drop",
      cam->established_at_ms - dropped_at);
  msg = expect_message (h, CONNECTED, "127.0.0.1", cam->port, NULL, WAIT_MS);
  gst_message_unref (msg);
  tf_test_send_frame (again, 1, TRUE);
  tf_test_send_frame (again, 2, FALSE);
  tf_test_pull_frame (h, 1, TRUE);
  tf_test_pull_frame (h, 2, FALSE);
  fail_unless_equals_uint64 (tf_test_stat (h, "connect-attempts"), 2);
  assert_no_error (h);

  tf_test_peer_close (again);
  tf_test_src_free (h);
  camera_free (cam);
}

GST_END_TEST;

/* ---- 6. a protocol error drops the connection, warns, reconnects ---- */

GST_START_TEST (test_client_protocol_error_reconnects)
{
  Camera *cam = camera_new ();
  GstHarness *h = client_new ("127.0.0.1", cam->port,
      "retry-delay=20000000 max-retry-delay=160000000");
  TfTestPeer *peer = camera_accept (cam, h, WAIT_MS), *again;
  guint8 header[TF_HEADER_SIZE];
  GstMessage *msg;
  GError *err = NULL;
  gchar *debug = NULL, *who;

  tf_header_write (header, 0, FRAME_LEN, 0, TF_TIMESTAMP_NONE);
  memcpy (header, "XFRM", 4);
  tf_test_peer_send (peer, header, sizeof (header));

  msg = expect_message (h, DISCONNECTED, "127.0.0.1", cam->port,
      "protocol-error", WAIT_MS);
  fail_unless (tf_test_message_string (msg, "error") != NULL, "no error field");
  fail_unless (strstr (tf_test_message_string (msg, "error"), "magic") != NULL,
      "error field: %s", tf_test_message_string (msg, "error"));
  fail_unless_equals_uint64 (message_frames (msg), 0);
  gst_message_unref (msg);

  msg = tf_test_wait_warning (h, WAIT_MS);
  fail_unless (msg != NULL, "no warning for the protocol error");
  gst_message_parse_warning (msg, &err, &debug);
  who = g_strdup_printf ("127.0.0.1:%u", cam->port);
  fail_unless (strstr (err->message, who) != NULL, "warning \"%s\" does not "
      "name the camera %s", err->message, who);
  fail_unless (strstr (err->message, "magic") != NULL, "warning \"%s\"",
      err->message);
  g_free (who);
  g_error_free (err);
  g_free (debug);
  gst_message_unref (msg);
  fail_unless_equals_uint64 (tf_test_stat (h, "protocol-errors"), 1);

  fail_unless_equals_int (tf_test_peer_wait_end (peer, WAIT_MS),
      TF_TEST_PEER_GOT_RESET);
  tf_test_peer_free (peer);

  /* One failed attempt: the reconnect comes within retry-delay. */
  again = camera_accept (cam, h, WAIT_MS);
  tf_test_send_frame (again, 5, TRUE);
  tf_test_pull_frame (h, 5, TRUE);
  fail_unless_equals_uint64 (tf_test_stat (h, "connect-attempts"), 2);
  assert_no_error (h);

  tf_test_peer_close (again);
  tf_test_src_free (h);
  camera_free (cam);
}

GST_END_TEST;

/* ---- 7. IPv6 and names ---- */

GST_START_TEST (test_client_ipv6_literal)
{
  Camera *cam = camera_new_family (G_SOCKET_FAMILY_IPV6);
  GstHarness *h = client_new ("::1", cam->port, NULL);
  TfTestPeer *peer = camera_accept (cam, h, WAIT_MS);
  GstMessage *msg;

  msg = expect_message (h, CONNECTED, "::1", cam->port, NULL, WAIT_MS);
  gst_message_unref (msg);
  tf_test_send_frame (peer, 0, TRUE);
  tf_test_send_frame (peer, 1, FALSE);
  tf_test_pull_frame (h, 0, TRUE);
  tf_test_pull_frame (h, 1, FALSE);
  fail_unless_equals_int (tf_test_get_status (h), TF_STATUS_STREAMING);

  tf_test_peer_close (peer);
  msg = expect_message (h, DISCONNECTED, "::1", cam->port, "closed", WAIT_MS);
  fail_unless_equals_uint64 (message_frames (msg), 2);
  gst_message_unref (msg);

  tf_test_src_free (h);
  camera_free (cam);
}

GST_END_TEST;

/* A camera on 127.0.0.1 whose port, on ::1, is held by `blocker`: GLib
 * resolves "localhost" to ::1 first, then 127.0.0.1, so the source meets
 * the blocker first.  Tries a few ports in case ::1's is taken. */
static Camera *
camera_new_behind_ipv6 (gboolean silent, Camera ** blocker)
{
  guint tries;

  for (tries = 0; tries < 20; tries++) {
    Camera *cam = camera_new ();
    GError *err = NULL;
    GSocket *socket = bind_loopback (G_SOCKET_FAMILY_IPV6, cam->port, FALSE,
        &err);

    if (socket) {
      Camera *b = g_new0 (Camera, 1);

      b->socket = socket;
      b->family = G_SOCKET_FAMILY_IPV6;
      b->port = cam->port;
      if (silent)
        camera_make_silent (b);
      *blocker = b;
      return cam;
    }
    /* Only a port taken on ::1 is worth another try; anything else means
     * IPv6 loopback is missing, and the test must say so, not pass. */
    fail_unless (g_error_matches (err, G_IO_ERROR,
            G_IO_ERROR_ADDRESS_IN_USE), "cannot bind a TCP socket to ::1: %s",
        err->message);
    g_error_free (err);
    camera_free (cam);
  }
  fail ("could not find a port free on both 127.0.0.1 and ::1");
  return NULL;
}

GST_START_TEST (test_client_localhost_falls_through_refused_ipv6)
{
  Camera *blocker = NULL;
  Camera *cam = camera_new_behind_ipv6 (FALSE, &blocker);
  GstHarness *h = client_new ("localhost", cam->port, NULL);
  TfTestPeer *peer = camera_accept (cam, h, WAIT_MS);
  GstMessage *msg;

  /* ::1 refused, 127.0.0.1 tried next within the same attempt. */
  msg = expect_message (h, CONNECTED, "127.0.0.1", cam->port, NULL, WAIT_MS);
  gst_message_unref (msg);
  fail_unless_equals_uint64 (tf_test_stat (h, "connect-attempts"), 1);
  tf_test_send_frame (peer, 0, TRUE);
  tf_test_pull_frame (h, 0, TRUE);

  tf_test_peer_close (peer);
  tf_test_src_free (h);
  camera_free (cam);
  camera_free (blocker);
}

GST_END_TEST;

/* A name whose first address is black-holed (SYNs dropped) must still
 * reach the camera at its next address: hosts whose IPv6 route is broken
 * are common.  Here ::1 answers nothing and 127.0.0.1 streams; each
 * address may take up to connect-timeout, so the camera should be reached
 * within one or two of them. */
GST_START_TEST (test_client_localhost_falls_through_silent_ipv6)
{
  Camera *blocker = NULL;
  Camera *cam = camera_new_behind_ipv6 (TRUE, &blocker);
  GstHarness *h = client_new ("localhost", cam->port,
      "connect-timeout=200000000 retry-delay=20000000 "
      "max-retry-delay=40000000");
  TfTestPeer *peer;

  /* One connect timeout on ::1, then 127.0.0.1; a few attempts' worth of
   * time, well below the test's limits. */
  peer = camera_try_accept (cam, 4 * (CONNECT_TIMEOUT_MS + 40) + LATE_MS);
  fail_unless (peer != NULL, "in %" G_GUINT64_FORMAT " attempts the source "
      "never reached 127.0.0.1, the second address of localhost, while the "
      "first, ::1, did not answer", tf_test_stat (h, "connect-attempts"));
  tf_test_send_frame (peer, 0, TRUE);
  tf_test_pull_frame (h, 0, TRUE);

  tf_test_peer_close (peer);
  tf_test_src_free (h);
  camera_free (cam);
  camera_free (blocker);
}

GST_END_TEST;

/* ---- 8. going to NULL is prompt ---- */

GST_START_TEST (test_client_stop_prompt_in_backoff)
{
  Camera *cam = camera_new_refusing (G_SOCKET_FAMILY_IPV4);
  GstHarness *h = client_new ("127.0.0.1", cam->port,
      "retry-delay=10000000000 max-retry-delay=10000000000");
  guint64 attempts = wait_stat_at_least (h, "connect-attempts", 1, WAIT_MS);
  gint64 deadline = now_ms () + WAIT_MS;

  /* A refusal on loopback is handled within a millisecond; then the next
   * attempt is up to 10 s away.  Watch for QUIET_MS with no new attempt
   * to be sure the source is waiting (a delay this short has a 0.5%
   * chance, and just means watching again). */
  for (;;) {
    guint64 later;

    g_usleep (QUIET_MS * 1000);
    later = tf_test_stat (h, "connect-attempts");
    if (later == attempts)
      break;
    attempts = later;
    fail_unless (now_ms () < deadline, "attempts keep coming");
  }
  fail_unless_equals_int (tf_test_get_status (h), TF_STATUS_CONNECTING);

  check_stop_is_prompt (h);
  tf_test_src_free (h);
  camera_free (cam);
}

GST_END_TEST;

GST_START_TEST (test_client_stop_prompt_while_connecting)
{
  Camera *cam = camera_new_silent (G_SOCKET_FAMILY_IPV4);
  GstHarness *h = client_new ("127.0.0.1", cam->port,
      "connect-timeout=10000000000");

  wait_stat_at_least (h, "connect-attempts", 1, WAIT_MS);
  /* The connect hangs: no connection, no failure, for as long as we
   * watch. */
  g_usleep (QUIET_MS * 1000);
  fail_unless_equals_uint64 (tf_test_stat (h, "connect-attempts"), 1);
  fail_unless_equals_uint64 (tf_test_stat (h, "connections"), 0);
  fail_unless_equals_int (tf_test_get_status (h), TF_STATUS_CONNECTING);

  check_stop_is_prompt (h);
  tf_test_src_free (h);
  camera_free (cam);
}

GST_END_TEST;

GST_START_TEST (test_client_stop_prompt_while_streaming_silent)
{
  Camera *cam = camera_new ();
  /* timeout=0: no deadline wakes the thread, only the stop can. */
  GstHarness *h = client_new ("127.0.0.1", cam->port, "timeout=0");
  TfTestPeer *peer = camera_accept (cam, h, WAIT_MS);
  GstMessage *msg;

  tf_test_send_frame (peer, 0, TRUE);
  tf_test_pull_frame (h, 0, TRUE);
  msg = expect_message (h, CONNECTED, "127.0.0.1", cam->port, NULL, WAIT_MS);
  gst_message_unref (msg);
  fail_unless_equals_int (tf_test_get_status (h), TF_STATUS_STREAMING);

  check_stop_is_prompt (h);
  /* The camera is told at once, with an RST. */
  fail_unless_equals_int (tf_test_peer_wait_end (peer, WAIT_MS),
      TF_TEST_PEER_GOT_RESET);

  tf_test_peer_free (peer);
  tf_test_src_free (h);
  camera_free (cam);
}

GST_END_TEST;

/* ---- 9. status ---- */

typedef struct
{
  GMutex lock;
  GArray *values;               /* TfStatus, in notification order */
} StatusLog;

static void
on_status (GObject * obj, GParamSpec * pspec, gpointer user_data)
{
  StatusLog *log = user_data;
  TfStatus status;

  /* Notified from the streaming thread as well as the application's. */
  g_object_get (obj, "status", &status, NULL);
  g_mutex_lock (&log->lock);
  g_array_append_val (log->values, status);
  g_mutex_unlock (&log->lock);
}

static gchar *
status_log_string (StatusLog * log)
{
  GString *s = g_string_new (NULL);
  guint i;

  g_mutex_lock (&log->lock);
  for (i = 0; i < log->values->len; i++)
    g_string_append_printf (s, "%s%d", i ? " " : "",
        g_array_index (log->values, TfStatus, i));
  g_mutex_unlock (&log->lock);
  return g_string_free (s, FALSE);
}

/* Waits until the notifications so far read `expected`.  Polling the
 * property instead could miss a state that lasts a millisecond, such as
 * connecting between a camera's close and the immediate reconnect. */
static void
wait_status_log (StatusLog * log, const gchar * expected)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;
  gchar *seen;

  for (;;) {
    seen = status_log_string (log);
    if (g_str_equal (seen, expected)
        || g_get_monotonic_time () >= deadline)
      break;
    g_free (seen);
    g_usleep (1000);
  }
  fail_unless_equals_string (seen, expected);
  g_free (seen);
}

GST_START_TEST (test_client_status_transitions)
{
  Camera *cam = camera_new ();
  GstHarness *h = gst_harness_new_with_padnames ("tcpframesrc", NULL, "src");
  StatusLog log;
  TfTestPeer *peer;
  GstBus *bus = gst_bus_new ();

  g_mutex_init (&log.lock);
  log.values = g_array_new (FALSE, FALSE, sizeof (TfStatus));
  gst_element_set_bus (h->element, bus);
  gst_object_unref (bus);
  gst_harness_use_systemclock (h);
  gst_util_set_object_arg (G_OBJECT (h->element), "mode", "client");
  /* No frame timeout: a connection waiting in our accept queue must not be
   * dropped, whatever the machine's load does to this thread. */
  g_object_set (h->element, "host", "127.0.0.1", "port", (gint) cam->port,
      "retry-delay", 20 * MS_NS, "timeout", G_GUINT64_CONSTANT (0), NULL);
  g_signal_connect (h->element, "notify::status", G_CALLBACK (on_status), &log);
  fail_unless_equals_int (tf_test_get_status (h), TF_STATUS_STOPPED);

  /* stopped(0) -> connecting(3) -> streaming(2) once connected. */
  gst_harness_play (h);
  peer = camera_accept (cam, h, WAIT_MS);
  wait_status_log (&log, "3 2");
  tf_test_send_frame (peer, 0, TRUE);
  tf_test_pull_frame (h, 0, TRUE);
  fail_unless_equals_int (tf_test_get_status (h), TF_STATUS_STREAMING);

  /* The camera closes: connecting, then streaming again once the source
   * has reconnected.  Client mode never "waits" (1) for peers. */
  tf_test_peer_close (peer);
  peer = camera_accept (cam, h, WAIT_MS);
  wait_status_log (&log, "3 2 3 2");

  /* The camera goes away for good: connecting, and it stays so. */
  camera_stop_listening (cam);
  tf_test_peer_close (peer);
  wait_status_log (&log, "3 2 3 2 3");
  fail_unless_equals_int (tf_test_get_status (h), TF_STATUS_CONNECTING);

  gst_element_set_state (h->element, GST_STATE_NULL);
  fail_unless_equals_int (tf_test_get_status (h), TF_STATUS_STOPPED);
  /* Each change notified once, none without a change. */
  wait_status_log (&log, "3 2 3 2 3 0");

  tf_test_src_free (h);
  g_array_unref (log.values);
  g_mutex_clear (&log.lock);
  camera_free (cam);
}

GST_END_TEST;

/* ---- restart: a stopped and restarted source starts its retries over ---- */

GST_START_TEST (test_client_restart_after_giving_up)
{
  Camera *cam = camera_new_refusing (G_SOCKET_FAMILY_IPV4);
  GstHarness *h = client_new ("127.0.0.1", cam->port,
      "max-retries=1 retry-delay=10000000 max-retry-delay=10000000");
  GstMessage *msg = wait_error (h, WAIT_MS);
  TfTestPeer *peer;

  check_give_up_error (msg, cam->port, 2, "refused");
  gst_message_unref (msg);
  fail_unless_equals_uint64 (tf_test_stat (h, "connect-attempts"), 2);

  /* Restarted with the camera still refusing: two attempts again, not an
   * error at once from the previous run's count. */
  fail_unless_equals_int (gst_element_set_state (h->element,
          GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
  /* basesrc follows our error with its own "internal data stream error";
   * drop it and anything else from the first run. */
  gst_bus_set_flushing (tf_test_src_bus (h), TRUE);
  gst_bus_set_flushing (tf_test_src_bus (h), FALSE);
  fail_if (gst_element_set_state (h->element, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  msg = wait_error (h, WAIT_MS);
  check_give_up_error (msg, cam->port, 2, "refused");
  gst_message_unref (msg);
  /* Stats count since start. */
  fail_unless_equals_uint64 (tf_test_stat (h, "connect-attempts"), 2);

  /* And once the camera is up, a restart connects and streams. */
  camera_listen (cam, 16);
  fail_unless_equals_int (gst_element_set_state (h->element,
          GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
  fail_if (gst_element_set_state (h->element, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  peer = camera_accept (cam, h, WAIT_MS);
  tf_test_send_frame (peer, 0, TRUE);
  tf_test_pull_frame (h, 0, TRUE);
  fail_unless_equals_int (tf_test_get_status (h), TF_STATUS_STREAMING);

  tf_test_peer_close (peer);
  tf_test_src_free (h);
  camera_free (cam);
}

GST_END_TEST;

static Suite *
client_suite (void)
{
  Suite *s = suite_create ("client");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_client_streams_from_camera);
  tcase_add_test (tc, test_client_backoff_bounds_grow_and_cap);
  tcase_add_test (tc, test_client_refused_retries_until_camera_listens);
  tcase_add_test (tc, test_client_backoff_resets_after_frames);
  tcase_add_test (tc, test_client_max_retries_refused);
  tcase_add_test (tc, test_client_max_retries_counts_dead_connections);
  tcase_add_test (tc, test_client_frames_reset_retry_count);
  tcase_add_test (tc, test_client_connect_timeout);
  tcase_add_test (tc, test_client_silent_camera_times_out_and_reconnects);
  tcase_add_test (tc, test_client_protocol_error_reconnects);
  tcase_add_test (tc, test_client_ipv6_literal);
  tcase_add_test (tc, test_client_localhost_falls_through_refused_ipv6);
  tcase_add_test (tc, test_client_localhost_falls_through_silent_ipv6);
  tcase_add_test (tc, test_client_stop_prompt_in_backoff);
  tcase_add_test (tc, test_client_stop_prompt_while_connecting);
  tcase_add_test (tc, test_client_stop_prompt_while_streaming_silent);
  tcase_add_test (tc, test_client_status_transitions);
  tcase_add_test (tc, test_client_restart_after_giving_up);
  return s;
}

GST_CHECK_MAIN (client);
