/* Test helpers: a scriptable camera peer, and a tcpframesrc under a harness. */
#include "tf-testpeer.h"

#include <gst/check/gstcheck.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <stdlib.h>
#include "tf-framer.h"

static GSocket *
peer_socket_new (guint16 local_port, GError ** error)
{
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, error);

  if (socket && local_port) {
    GInetAddress *any = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
    GSocketAddress *sa = g_inet_socket_address_new (any, local_port);
    gboolean ok = g_socket_bind (socket, sa, TRUE, error);

    g_object_unref (sa);
    g_object_unref (any);
    if (!ok)
      g_clear_object (&socket);
  }
  return socket;
}

TfTestPeer *
tf_test_peer_try_connect_from (guint16 port, guint16 local_port)
{
  GError *err = NULL;
  GSocket *socket = peer_socket_new (local_port, &err);
  GInetAddress *lo;
  GSocketAddress *sa, *local;
  TfTestPeer *peer;

  if (!socket) {
    GST_INFO ("socket/bind failed: %s", err->message);
    g_error_free (err);
    return NULL;
  }
  lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  sa = g_inet_socket_address_new (lo, port);
  g_object_unref (lo);
  /* Bounded: a connect to loopback either completes or is refused. */
  g_socket_set_timeout (socket, 5);
  if (!g_socket_connect (socket, sa, NULL, &err)) {
    GST_INFO ("connect failed: %s", err->message);
    g_error_free (err);
    g_object_unref (sa);
    g_object_unref (socket);
    return NULL;
  }
  g_object_unref (sa);

  peer = g_new0 (TfTestPeer, 1);
  peer->socket = socket;
  local = g_socket_get_local_address (socket, NULL);
  peer->local_port =
      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  g_object_unref (local);
  return peer;
}

TfTestPeer *
tf_test_peer_connect_from (guint16 port, guint16 local_port)
{
  TfTestPeer *peer = tf_test_peer_try_connect_from (port, local_port);

  fail_unless (peer != NULL, "could not connect to 127.0.0.1:%u from port %u",
      port, local_port);
  return peer;
}

TfTestPeer *
tf_test_peer_connect (guint16 port)
{
  return tf_test_peer_connect_from (port, 0);
}

void
tf_test_peer_send (TfTestPeer * peer, const void *data, gsize len)
{
  GError *err = NULL;
  gsize done = 0;

  while (done < len) {
    gssize n = g_socket_send (peer->socket, (const gchar *) data + done,
        len - done, NULL, &err);
    fail_unless (n > 0, "send failed: %s", err ? err->message : "?");
    done += n;
  }
}

void
tf_test_peer_send_header_frame (TfTestPeer * peer, const gchar * caps,
    const guint8 * payload, gsize len, guint32 sequence)
{
  gsize caps_len = caps ? strlen (caps) : 0;
  gsize total = TF_HEADER_SIZE + caps_len + len;
  guint8 *msg = g_malloc (total);

  tf_header_write (msg, caps_len, len, sequence, TF_TIMESTAMP_NONE);
  if (caps_len)
    memcpy (msg + TF_HEADER_SIZE, caps, caps_len);
  memcpy (msg + TF_HEADER_SIZE + caps_len, payload, len);
  /* One send, so a frame never straddles a test's later action. */
  tf_test_peer_send (peer, msg, total);
  g_free (msg);
}

TfTestPeerEnd
tf_test_peer_wait_end (TfTestPeer * peer, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * G_GINT64_CONSTANT (1000);
  TfTestPeerEnd end = TF_TEST_PEER_STILL_OPEN;

  for (;;) {
    gint64 left = deadline - g_get_monotonic_time ();
    GError *err = NULL;
    gchar buf[256];
    gssize n;

    if (left <= 0)
      break;
    if (!g_socket_condition_timed_wait (peer->socket, G_IO_IN, left, NULL,
            &err)) {
      g_clear_error (&err);
      break;
    }
    n = g_socket_receive_with_blocking (peer->socket, buf, sizeof (buf), FALSE,
        NULL, &err);
    if (n == 0) {
      end = TF_TEST_PEER_GOT_FIN;
      break;
    }
    if (n < 0) {
      gboolean reset = g_error_matches (err, G_IO_ERROR,
          G_IO_ERROR_CONNECTION_CLOSED);
      gboolean would_block = g_error_matches (err, G_IO_ERROR,
          G_IO_ERROR_WOULD_BLOCK);
      GST_INFO ("peer recv: %s", err->message);
      g_error_free (err);
      if (would_block)
        continue;
      end = reset ? TF_TEST_PEER_GOT_RESET : TF_TEST_PEER_GOT_FIN;
      break;
    }
    /* The element never sends data; ignore anything else. */
  }
  return end;
}

void
tf_test_peer_free (TfTestPeer * peer)
{
  if (!peer)
    return;
  g_socket_close (peer->socket, NULL);
  g_object_unref (peer->socket);
  g_free (peer);
}

void
tf_test_peer_close (TfTestPeer * peer)
{
  g_socket_shutdown (peer->socket, FALSE, TRUE, NULL);
  tf_test_peer_free (peer);
}

void
tf_test_peer_reset (TfTestPeer * peer)
{
  struct linger lg = { 1, 0 };

  setsockopt (g_socket_get_fd (peer->socket), SOL_SOCKET, SO_LINGER, &lg,
      sizeof (lg));
  tf_test_peer_free (peer);
}

guint8 *
tf_test_payload (guint32 sequence, gsize size)
{
  guint8 *p = g_malloc (size);
  gsize i;

  for (i = 0; i < size; i++)
    p[i] = (guint8) ((i * 31u) ^ (sequence * 97u) ^ (i >> 8));
  return p;
}

/* ---- the element side ---- */

static gboolean
sock_port (gint fd, gboolean remote, guint16 * port)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof (ss);
  gint ret = remote ? getpeername (fd, (struct sockaddr *) &ss, &len) :
      getsockname (fd, (struct sockaddr *) &ss, &len);

  if (ret < 0 || ss.ss_family != AF_INET)
    return FALSE;
  *port = ntohs (((struct sockaddr_in *) &ss)->sin_port);
  return TRUE;
}

/* The element's end of `peer`'s connection: the element runs in this
 * process, so it is one of our own file descriptors.  -1 until accepted. */
gint
tf_test_element_fd (guint16 src_port, TfTestPeer * peer)
{
  GDir *dir = g_dir_open ("/proc/self/fd", 0, NULL);
  const gchar *name;
  gint found = -1;

  fail_unless (dir != NULL);
  while (found < 0 && (name = g_dir_read_name (dir))) {
    gint fd = atoi (name);
    guint16 local, remote;

    if (sock_port (fd, FALSE, &local) && local == src_port
        && sock_port (fd, TRUE, &remote) && remote == peer->local_port)
      found = fd;
  }
  g_dir_close (dir);
  return found;
}


TfTestPeer *
tf_test_peer_connect_from_fixed_port (guint16 port)
{
  gchar *range = NULL;
  guint lo = 32768, attempt;

  if (g_file_get_contents ("/proc/sys/net/ipv4/ip_local_port_range", &range,
          NULL, NULL))
    lo = (guint) g_ascii_strtoull (range, NULL, 10);
  g_free (range);
  fail_unless (lo > 2048, "no room below the ephemeral port range");

  for (attempt = 0; attempt < 20; attempt++) {
    guint16 p = g_random_int_range (MAX (1024, (gint) lo - 8192), lo);
    TfTestPeer *peer = tf_test_peer_try_connect_from (port, p);

    if (peer)
      return peer;
  }
  fail ("no free source port below %u", lo);
  return NULL;
}

guint8 *
tf_test_jpeg (guint8 tag, gsize * len)
{
  static const guint8 head[] = {
    0xff, 0xd8,
    0xff, 0xe1, 0x00, 0x0a, 'E', 'x', 'i', 'f', 0xff, 0xd8, 0xff, 0xd9,
    0xff, 0xdb, 0x00, 0x06, 0x00, 0xff, 0xd9, 0x10,
    0xff, 0xda, 0x00, 0x04, 0x01, 0x00,
  };
  static const guint8 tail[] = { 0xff, 0x00, 0x12, 0xff, 0xd0, 0x34, 0xff,
    0xd9
  };
  guint8 *img = g_malloc (sizeof (head) + 3 + sizeof (tail));

  memcpy (img, head, sizeof (head));
  img[sizeof (head)] = tag;
  img[sizeof (head) + 1] = 0x55;
  img[sizeof (head) + 2] = tag ^ 0xaa;
  memcpy (img + sizeof (head) + 3, tail, sizeof (tail));
  *len = sizeof (head) + 3 + sizeof (tail);
  return img;
}

void
tf_test_set_props (GstElement * element, const gchar * props)
{
  gchar **tokens = g_strsplit (props ? props : "", " ", -1);
  guint i;

  for (i = 0; tokens[i]; i++) {
    gchar **kv;
    if (!*tokens[i])
      continue;
    kv = g_strsplit (tokens[i], "=", 2);
    fail_unless (kv[1] != NULL, "bad property token '%s'", tokens[i]);
    gst_util_set_object_arg (G_OBJECT (element), kv[0], kv[1]);
    g_strfreev (kv);
  }
  g_strfreev (tokens);
}

const gchar *
tf_test_message_string (GstMessage * msg, const gchar * field)
{
  return gst_structure_get_string (gst_message_get_structure (msg), field);
}

gint
tf_test_message_int (GstMessage * msg, const gchar * field)
{
  gint v = -1;

  fail_unless (gst_structure_get_int (gst_message_get_structure (msg), field,
          &v), "message has no int %s", field);
  return v;
}

GstHarness *
tf_test_src_new (const gchar * props)
{
  GstHarness *h = gst_harness_new_with_padnames ("tcpframesrc", NULL, "src");
  GstBus *bus = gst_bus_new ();

  gst_element_set_bus (h->element, bus);
  gst_object_unref (bus);
  /* Frames are timestamped at arrival on the pipeline clock. */
  gst_harness_use_systemclock (h);

  g_object_set (h->element, "host", "127.0.0.1", "port", 0, NULL);
  tf_test_set_props (h->element, props);

  gst_harness_play (h);
  fail_unless (tf_test_src_port (h) != 0, "tcpframesrc did not bind a port");
  return h;
}

guint16
tf_test_src_port (GstHarness * h)
{
  gint port = 0;

  g_object_get (h->element, "current-port", &port, NULL);
  return port;
}

GstBus *
tf_test_src_bus (GstHarness * h)
{
  return GST_ELEMENT_BUS (h->element);
}

GstBuffer *
tf_test_pull (GstHarness * h, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * G_GINT64_CONSTANT (1000);

  /* The harness offers no timed pull; poll with a deadline. */
  for (;;) {
    GstBuffer *buf = gst_harness_try_pull (h);
    if (buf)
      return buf;
    if (g_get_monotonic_time () >= deadline)
      return NULL;
    g_usleep (500);
  }
}

/* Messages read from the bus but not yet asked for, oldest first: waiting
 * for one kind of message must not lose the others. */
static GQueue *
stash_of (GstHarness * h)
{
  GQueue *q = g_object_get_data (G_OBJECT (h->element), "tf-test-stash");

  if (!q) {
    q = g_queue_new ();
    g_object_set_data_full (G_OBJECT (h->element), "tf-test-stash", q,
        (GDestroyNotify) tf_test_stash_free);
  }
  return q;
}

static gboolean
message_matches (GstMessage * msg, GstMessageType type, const gchar * name)
{
  if (GST_MESSAGE_TYPE (msg) != type)
    return FALSE;
  return name == NULL || gst_message_has_name (msg, name);
}

static GstMessage *
wait_for (GstHarness * h, GstMessageType type, const gchar * name,
    guint timeout_ms)
{
  GQueue *stash = stash_of (h);
  gint64 deadline = g_get_monotonic_time () + timeout_ms * G_GINT64_CONSTANT (1000);
  GList *l;

  for (l = stash->head; l; l = l->next) {
    if (message_matches (l->data, type, name)) {
      GstMessage *msg = l->data;
      g_queue_delete_link (stash, l);
      return msg;
    }
  }
  for (;;) {
    gint64 left = deadline - g_get_monotonic_time ();
    GstMessage *msg;

    if (left <= 0)
      return NULL;
    msg = gst_bus_timed_pop (tf_test_src_bus (h), left * GST_USECOND);
    if (!msg)
      return NULL;
    if (message_matches (msg, type, name))
      return msg;
    g_queue_push_tail (stash, msg);
  }
}

void
tf_test_stash_free (GQueue * q)
{
  g_queue_free_full (q, (GDestroyNotify) gst_message_unref);
}

GstMessage *
tf_test_wait_message (GstHarness * h, const gchar * name, guint timeout_ms)
{
  return wait_for (h, GST_MESSAGE_ELEMENT, name, timeout_ms);
}

GstMessage *
tf_test_wait_warning (GstHarness * h, guint timeout_ms)
{
  return wait_for (h, GST_MESSAGE_WARNING, NULL, timeout_ms);
}

guint64
tf_test_stat (GstHarness * h, const gchar * field)
{
  GstStructure *s = NULL;
  guint64 v = 0;

  g_object_get (h->element, "stats", &s, NULL);
  fail_unless (s != NULL);
  fail_unless (gst_structure_get_uint64 (s, field, &v),
      "stats has no guint64 field %s", field);
  gst_structure_free (s);
  return v;
}

void
tf_test_assert_buffer_equals (GstBuffer * buf, const guint8 * data, gsize len)
{
  GstMapInfo map;

  fail_unless (buf != NULL, "expected a buffer of %" G_GSIZE_FORMAT " bytes",
      len);
  fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
  fail_unless_equals_uint64 (map.size, len);
  fail_unless (memcmp (map.data, data, len) == 0, "frame bytes differ");
  gst_buffer_unmap (buf, &map);
}

void
tf_test_src_free (GstHarness * h)
{
  GstBus *bus = gst_element_get_bus (h->element);

  /* Queued messages hold references to the element: let them go first, or
   * the element outlives the test.  The streaming thread stops first: a
   * message it posts while the bus starts flushing can still slip into
   * the queue (gst_bus_post() checks the flag before its sync handler). */
  gst_element_set_state (h->element, GST_STATE_NULL);
  g_object_set_data (G_OBJECT (h->element), "tf-test-stash", NULL);
  if (bus)
    gst_bus_set_flushing (bus, TRUE);
  gst_harness_teardown (h);
  if (bus)
    gst_object_unref (bus);
}

/* ---- the element tests' common frames and waits ---- */

void
tf_test_send_frame (TfTestPeer * peer, guint32 seq, gboolean with_caps)
{
  guint8 *payload = tf_test_payload (seq, TF_TEST_FRAME_LEN);

  tf_test_peer_send_header_frame (peer, with_caps ? TF_TEST_GRAY8_4x2 : NULL,
      payload, TF_TEST_FRAME_LEN, seq);
  g_free (payload);
}

void
tf_test_pull_frame (GstHarness * h, guint32 seq, gboolean discont)
{
  GstBuffer *buf = tf_test_pull (h, TF_TEST_WAIT_MS);
  guint8 *payload = tf_test_payload (seq, TF_TEST_FRAME_LEN);

  fail_unless (buf != NULL, "frame %u never arrived", seq);
  tf_test_assert_buffer_equals (buf, payload, TF_TEST_FRAME_LEN);
  fail_unless_equals_int (!!GST_BUFFER_FLAG_IS_SET (buf,
          GST_BUFFER_FLAG_DISCONT), discont);
  g_free (payload);
  gst_buffer_unref (buf);
}

gint64
tf_test_ms_since (gint64 t)
{
  return (g_get_monotonic_time () - t) / 1000;
}

typedef struct
{
  GstElement *element;
  GstStateChangeReturn ret;
  gint64 took_us;
  gint done;
} StopJob;

static gpointer
stop_in_thread (gpointer data)
{
  StopJob *job = data;
  gint64 start = g_get_monotonic_time ();

  job->ret = gst_element_set_state (job->element, GST_STATE_NULL);
  job->took_us = g_get_monotonic_time () - start;
  g_atomic_int_set (&job->done, 1);
  return NULL;
}

void
tf_test_stop_promptly (GstElement * element)
{
  StopJob job = { element, GST_STATE_CHANGE_FAILURE, 0, 0 };
  gint64 start = g_get_monotonic_time ();
  GThread *thread = g_thread_new ("stop", stop_in_thread, &job);

  while (!g_atomic_int_get (&job.done)
      && tf_test_ms_since (start) < TF_TEST_WAIT_MS)
    g_usleep (500);
  fail_unless (g_atomic_int_get (&job.done), "going to NULL was still "
      "blocked after %u ms", TF_TEST_WAIT_MS);
  g_thread_join (thread);

  fail_unless_equals_int (job.ret, GST_STATE_CHANGE_SUCCESS);
  fail_unless (job.took_us < TF_TEST_STOP_MS * 1000, "going to NULL took %"
      G_GINT64_FORMAT " ms", job.took_us / 1000);
}

gint
tf_test_stat_peer_port (GstHarness * h)
{
  GstStructure *s = NULL;
  gint port = -1;

  g_object_get (h->element, "stats", &s, NULL);
  fail_unless (gst_structure_get_int (s, "peer-port", &port));
  gst_structure_free (s);
  return port;
}

gboolean
tf_test_wait_stat (GstHarness * h, const gchar * field, guint64 expected,
    guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * (gint64) 1000;

  while (tf_test_stat (h, field) != expected) {
    if (g_get_monotonic_time () >= deadline)
      return FALSE;
    g_usleep (1000);
  }
  return TRUE;
}

gint
tf_test_get_status (GstHarness * h)
{
  gint status = -1;

  g_object_get (h->element, "status", &status, NULL);
  return status;
}

void
tf_test_wait_status (GstHarness * h, gint expected)
{
  gint64 deadline = g_get_monotonic_time () + TF_TEST_WAIT_MS * 1000;

  while (tf_test_get_status (h) != expected
      && g_get_monotonic_time () < deadline)
    g_usleep (1000);
  fail_unless_equals_int (tf_test_get_status (h), expected);
}

/* ---- timing ---- */

guint
tf_test_scale_ms (guint ms)
{
  static gsize scale = 0;

  if (g_once_init_enter (&scale)) {
    const gchar *env = g_getenv ("TF_TEST_TIME_SCALE");
    guint64 v = env ? g_ascii_strtoull (env, NULL, 10) : 1;

    /* 0, garbage or something absurd: unscaled. */
    g_once_init_leave (&scale, v >= 1 && v <= 1000 ? (gsize) v : 1);
  }
  return (guint) MIN ((guint64) ms * scale, (guint64) G_MAXUINT);
}

gint
tf_test_message_port (GstMessage * msg)
{
  gint port = -1;

  fail_unless (gst_structure_get_int (gst_message_get_structure (msg), "port",
          &port), "message has no port");
  return port;
}

const gchar *
tf_test_message_reason (GstMessage * msg)
{
  return gst_structure_get_string (gst_message_get_structure (msg), "reason");
}

guint64
tf_test_message_frames (GstMessage * msg)
{
  guint64 frames = G_MAXUINT64;

  fail_unless (gst_structure_get_uint64 (gst_message_get_structure (msg),
          "frames", &frames), "message has no frames");
  return frames;
}

GstMessage *
tf_test_expect_message (GstHarness * h, const gchar * name, guint16 port,
    const gchar * reason, guint timeout_ms)
{
  /* At least 1 ms: a wait of 0 only looks at messages already read off the
   * bus, not at those still queued on it. */
  GstMessage *msg = tf_test_wait_message (h, name, MAX (timeout_ms, 1));

  fail_unless (msg != NULL, "no %s message for port %u within %u ms", name,
      port, timeout_ms);
  fail_unless_equals_string (gst_structure_get_string
      (gst_message_get_structure (msg), "address"), "127.0.0.1");
  fail_unless_equals_int (tf_test_message_port (msg), port);
  if (reason)
    fail_unless_equals_string (tf_test_message_reason (msg), reason);
  return msg;
}

void
tf_test_assert_no_message (GstHarness * h, const gchar * name,
    guint timeout_ms)
{
  GstMessage *msg = tf_test_wait_message (h, name, MAX (timeout_ms, 1));

  if (msg) {
    gchar *s = gst_structure_to_string (gst_message_get_structure (msg));
    fail ("unexpected message %s", s);
    g_free (s);
    gst_message_unref (msg);
  }
}

void
tf_test_assert_no_buffer (GstHarness * h, guint quiet_ms)
{
  GstBuffer *buf = tf_test_pull (h, quiet_ms);

  fail_unless (buf == NULL, "unexpected buffer of %" G_GSIZE_FORMAT " bytes",
      buf ? gst_buffer_get_size (buf) : 0);
}
