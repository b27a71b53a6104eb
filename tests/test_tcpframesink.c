/* tcpframesink tests: every framing end to end into tcpframesrc, server
 * mode, and the behaviour of a well-behaved camera: upstream never waits
 * for the network, a lost receiver is reconnected with backoff, a stalled
 * one is dropped with an RST, and going to NULL is prompt whatever the
 * connection is doing.
 *
 * The sink runs either under a harness, where the test pushes buffers of
 * known bytes (the harness turns sync and async off), or in a real
 * pipeline behind videotestsrc is-live=true where a live upstream is the
 * point; a pad probe on the sink pad then measures how regularly buffers
 * reach it, which is how "render never blocks" is checked.  Receivers are
 * tcpframesrc harnesses (tf-testpeer.h) or plain GSockets the test drives
 * by hand.  Everything runs on loopback with port 0, and every wait is
 * bounded. */
#include <gst/check/gstcheck.h>
#include <gst/video/video.h>
#include <string.h>
#include <sys/socket.h>

#include "tf-testpeer.h"
#include "tf-framer.h"
#include "tf-wire.h"

#define WAIT_MS tf_test_scale_ms (3000)
/* How late the element may act after the moment it should have, on a
 * loaded machine (the suite runs with several processes at once).  It,
 * PUSH_MS and GAP_SLACK_MS are slack on upper bounds only, so they scale
 * with tf_test_scale_ms() (memcheck); the delays under them do not. */
#define SLACK_MS tf_test_scale_ms (300)
/* How long to watch for something that must not happen. */
#define QUIET_MS 100
/* A push into the sink must return within this: render does no network
 * waits, so this only absorbs scheduling noise. */
#define PUSH_MS tf_test_scale_ms (50)
/* The longest gap allowed between two buffers reaching the sink of a live
 * pipeline, over its frame interval.  Well under the 200 ms send-timeout
 * the stalled-receiver test uses, so a render that waited for the network
 * would fail it at native speed; scaled under memcheck, it no longer
 * catches that there. */
#define GAP_SLACK_MS tf_test_scale_ms (80)

/* A frame that cannot fit in the socket buffers of a receiver that does
 * not read: Linux lets the send buffer grow to 4 MiB by default. */
#define STALL_FRAME_SIZE (16 * 1024 * 1024)

#define GRAY8_4x2 "video/x-raw,format=GRAY8,width=4,height=2,framerate=25/1"
#define GRAY8_8x2 "video/x-raw,format=GRAY8,width=8,height=2,framerate=50/1"
#define OCTETS "application/octet-stream"

#define CONNECTED "tcpframesink-connected"
#define DISCONNECTED "tcpframesink-disconnected"

#define MS_NS G_GUINT64_CONSTANT (1000000)

/* ---- small helpers ---- */

static gint64
now_ms (void)
{
  return g_get_monotonic_time () / 1000;
}

/* tcpframesink under a harness, with a bus, sending to 127.0.0.1:port
 * (props may override).  The bus is attached before the harness starts
 * the element, so no early message is lost. */
static GstHarness *
sink_new (guint16 port, const gchar * props, const gchar * caps)
{
  GstElement *sink = gst_element_factory_make ("tcpframesink", NULL);
  GstBus *bus = gst_bus_new ();
  GstHarness *h;

  fail_unless (sink != NULL, "tcpframesink is not registered");
  gst_element_set_bus (sink, bus);
  gst_object_unref (bus);
  g_object_set (sink, "host", "127.0.0.1", "port", (gint) port, NULL);
  tf_test_set_props (sink, props);
  h = gst_harness_new_with_element (sink, "sink", NULL);
  gst_object_unref (sink);
  if (caps)
    gst_harness_set_src_caps_str (h, caps);
  return h;
}

/* Messages read from an element's bus but not yet asked for, oldest
 * first, so that waiting for one kind never loses another.  Kept on the
 * element, and dropped before it is: the messages hold it. */
#define STASH_KEY "tf-sink-test-stash"

static void
stash_free (GQueue * q)
{
  g_queue_free_full (q, (GDestroyNotify) gst_message_unref);
}

static gboolean
message_matches (GstMessage * msg, GstMessageType type, const gchar * name)
{
  return GST_MESSAGE_TYPE (msg) == type
      && (name == NULL || gst_message_has_name (msg, name));
}

/* Waits at most timeout_ms for a message of `type` (and, when given,
 * structure `name`) on the bus of `element`, a pipeline or an element with
 * a bus of its own.  An unexpected ERROR fails the test at once. */
static GstMessage *
wait_message (GstElement * element, GstMessageType type, const gchar * name,
    guint timeout_ms)
{
  GQueue *stash = g_object_get_data (G_OBJECT (element), STASH_KEY);
  GstBus *bus = gst_element_get_bus (element);
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;
  GstMessage *found = NULL;
  GList *l;

  fail_unless (bus != NULL);
  if (!stash) {
    stash = g_queue_new ();
    g_object_set_data_full (G_OBJECT (element), STASH_KEY, stash,
        (GDestroyNotify) stash_free);
  }
  for (l = stash->head; l; l = l->next) {
    if (message_matches (l->data, type, name)) {
      found = l->data;
      g_queue_delete_link (stash, l);
      break;
    }
  }
  while (!found) {
    gint64 left = deadline - g_get_monotonic_time ();
    GstMessage *msg;

    if (left <= 0)
      break;
    msg = gst_bus_timed_pop (bus, left * GST_USECOND);
    if (!msg)
      break;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR
        && type != GST_MESSAGE_ERROR) {
      GError *err = NULL;
      gst_message_parse_error (msg, &err, NULL);
      fail ("unexpected error: %s", err->message);
    }
    if (message_matches (msg, type, name))
      found = msg;
    else
      g_queue_push_tail (stash, msg);
  }
  gst_object_unref (bus);
  return found;
}

static GstMessage *
sink_wait (GstHarness * h, const gchar * name, guint timeout_ms)
{
  return wait_message (h->element, GST_MESSAGE_ELEMENT, name, timeout_ms);
}

static void
sink_free (GstHarness * h)
{
  g_object_set_data (G_OBJECT (h->element), STASH_KEY, NULL);
  /* Messages still queued on the bus hold the element too. */
  gst_element_set_bus (h->element, NULL);
  gst_harness_teardown (h);
}

static void
expect_message (GstHarness * h, const gchar * name, guint timeout_ms)
{
  GstMessage *msg = sink_wait (h, name, timeout_ms);

  fail_unless (msg != NULL, "no %s within %u ms", name, timeout_ms);
  gst_message_unref (msg);
}

/* A sink connected to the tcpframesrc harness `src`. */
static GstHarness *
sink_connected_to (GstHarness * src, const gchar * props, const gchar * caps)
{
  GstHarness *h = sink_new (tf_test_src_port (src), props, caps);

  expect_message (h, CONNECTED, WAIT_MS);
  return h;
}

static guint64
stat_of (GstElement * element, const gchar * field)
{
  GstStructure *s = NULL;
  guint64 v = 0;

  g_object_get (element, "stats", &s, NULL);
  fail_unless (s != NULL);
  fail_unless (gst_structure_get_uint64 (s, field, &v),
      "stats has no guint64 field %s", field);
  gst_structure_free (s);
  return v;
}

/* For counters the sending thread updates just after the bytes went out:
 * the receiver can have the frame a moment before the count moves. */
static void
expect_stat (GstHarness * h, const gchar * field, guint64 expected)
{
  gint64 deadline = now_ms () + WAIT_MS;

  while (tf_test_stat (h, field) != expected && now_ms () < deadline)
    g_usleep (1000);
  fail_unless_equals_uint64 (tf_test_stat (h, field), expected);
}

static GstCaps *
unix_caps_new (void)
{
  return gst_caps_new_empty_simple ("timestamp/x-unix");
}

/* Frame `tag` of `size` bytes; with a capture time unless it is
 * TF_TIMESTAMP_NONE. */
static GstBuffer *
frame_new (guint32 tag, gsize size, guint64 capture_ns)
{
  GstBuffer *buf = gst_buffer_new_wrapped (tf_test_payload (tag, size), size);

  if (capture_ns != TF_TIMESTAMP_NONE) {
    GstCaps *ref = unix_caps_new ();
    gst_buffer_add_reference_timestamp_meta (buf, ref, capture_ns,
        GST_CLOCK_TIME_NONE);
    gst_caps_unref (ref);
  }
  return buf;
}

/* Pushes a frame; the push must return at once, with `expected`. */
static void
push_quick (GstHarness * h, GstBuffer * buf, GstFlowReturn expected)
{
  gint64 t0 = now_ms ();
  GstFlowReturn ret = gst_harness_push (h, buf);

  fail_unless_equals_int (ret, expected);
  fail_unless (now_ms () - t0 < PUSH_MS, "a push took %" G_GINT64_FORMAT
      " ms: render waited", now_ms () - t0);
}

/* Pushes frame `tag` into the sink and pulls it out of the source: it
 * must be byte for byte the same.  Returns what was pulled. */
static GstBuffer *
round_trip (GstHarness * sink, GstHarness * src, guint32 tag, gsize size,
    guint64 capture_ns)
{
  guint8 *expected = tf_test_payload (tag, size);
  GstBuffer *out;

  push_quick (sink, frame_new (tag, size, capture_ns), GST_FLOW_OK);
  out = tf_test_pull (src, WAIT_MS);
  fail_unless (out != NULL, "frame %u never arrived", tag);
  tf_test_assert_buffer_equals (out, expected, size);
  g_free (expected);
  return out;
}

static void
assert_current_caps (GstHarness * src, const gchar * expected_str)
{
  GstCaps *caps = gst_pad_get_current_caps (src->sinkpad);
  GstCaps *expected = gst_caps_from_string (expected_str);

  fail_unless (caps != NULL, "no caps downstream of the source");
  fail_unless (gst_caps_is_equal (caps, expected), "caps %" GST_PTR_FORMAT
      ", expected %" GST_PTR_FORMAT, caps, expected);
  gst_caps_unref (caps);
  gst_caps_unref (expected);
}

/* ---- plain sockets the test drives by hand ---- */

static GSocket *
listener_new (gint rcvbuf, gint backlog, guint16 * port)
{
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *sa = g_inet_socket_address_new (lo, 0), *local;
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);

  fail_unless (socket != NULL);
  /* Set on the listener, so the accepted socket has it from the start and
   * the window it advertises stays small. */
  if (rcvbuf > 0)
    fail_unless (g_socket_set_option (socket, SOL_SOCKET, SO_RCVBUF, rcvbuf,
            NULL));
  g_socket_set_listen_backlog (socket, backlog);
  fail_unless (g_socket_bind (socket, sa, TRUE, NULL));
  fail_unless (g_socket_listen (socket, NULL));
  local = g_socket_get_local_address (socket, NULL);
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  g_object_unref (local);
  g_object_unref (sa);
  g_object_unref (lo);
  return socket;
}

static TfTestPeer *
accept_peer (GSocket * listener)
{
  GSocket *socket;
  TfTestPeer *peer;

  fail_unless (g_socket_condition_timed_wait (listener, G_IO_IN,
          WAIT_MS * G_GINT64_CONSTANT (1000), NULL, NULL),
      "the sink never connected");
  socket = g_socket_accept (listener, NULL, NULL);
  fail_unless (socket != NULL);
  peer = g_new0 (TfTestPeer, 1);
  peer->socket = socket;
  return peer;
}

/* A port that refuses connections: bound, never listening.  It stays ours
 * while the socket lives, and since both use SO_REUSEADDR a tcpframesrc
 * can still listen on it later. */
static GSocket *
refusing_port (guint16 * port)
{
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *sa = g_inet_socket_address_new (lo, 0), *local;
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);

  fail_unless (g_socket_bind (socket, sa, TRUE, NULL));
  local = g_socket_get_local_address (socket, NULL);
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  g_object_unref (local);
  g_object_unref (sa);
  g_object_unref (lo);
  return socket;
}

static void
socket_free (GSocket * socket)
{
  g_socket_close (socket, NULL);
  g_object_unref (socket);
}

static void
read_exact (GSocket * socket, guint8 * buf, gsize len)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;
  gsize got = 0;

  while (got < len) {
    gint64 left = deadline - g_get_monotonic_time ();
    GError *err = NULL;
    gssize n;

    fail_unless (left > 0, "only %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT
        " bytes arrived", got, len);
    if (!g_socket_condition_timed_wait (socket, G_IO_IN, left, NULL, NULL))
      continue;
    n = g_socket_receive_with_blocking (socket, (gchar *) buf + got,
        len - got, FALSE, NULL, &err);
    if (n < 0 && g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
      g_error_free (err);
      continue;
    }
    fail_unless (n > 0, "connection ended after %" G_GSIZE_FORMAT " bytes: %s",
        got, err ? err->message : "closed");
    got += n;
  }
}

/* One header-framing frame as read off the wire. */
typedef struct
{
  gchar *caps;                  /* NULL when the header announced none */
  guint8 *payload;
  gsize size;
  guint32 sequence;
  guint64 timestamp;
} WireFrame;

static guint64
be (const guint8 * p, guint width)
{
  guint64 v = 0;
  guint i;

  for (i = 0; i < width; i++)
    v = (v << 8) | p[i];
  return v;
}

static void
read_wire_frame (GSocket * socket, WireFrame * f)
{
  guint8 hdr[TF_HEADER_SIZE];
  gsize caps_len;

  read_exact (socket, hdr, sizeof (hdr));
  fail_unless (memcmp (hdr, TF_HEADER_MAGIC, 4) == 0, "bad magic");
  fail_unless_equals_int (hdr[4], TF_HEADER_VERSION);
  caps_len = be (hdr + 6, 2);
  fail_unless_equals_int (hdr[5], caps_len ? TF_HEADER_FLAG_CAPS : 0);
  f->size = be (hdr + 8, 4);
  f->sequence = be (hdr + 12, 4);
  f->timestamp = be (hdr + 16, 8);
  f->caps = NULL;
  if (caps_len) {
    f->caps = g_malloc0 (caps_len + 1);
    read_exact (socket, (guint8 *) f->caps, caps_len);
  }
  f->payload = g_malloc (f->size);
  read_exact (socket, f->payload, f->size);
}

static void
wire_frame_clear (WireFrame * f)
{
  g_free (f->caps);
  g_free (f->payload);
}

/* The exact bytes the header framing must put on the wire. */
static GBytes *
expected_header_frame (const gchar * caps, guint32 tag, gsize size,
    guint32 sequence, guint64 timestamp)
{
  gsize caps_len = caps ? strlen (caps) : 0;
  gsize total = TF_HEADER_SIZE + caps_len + size;
  guint8 *bytes = g_malloc (total), *payload = tf_test_payload (tag, size);

  tf_header_write (bytes, caps_len, size, sequence, timestamp);
  if (caps_len)
    memcpy (bytes + TF_HEADER_SIZE, caps, caps_len);
  memcpy (bytes + TF_HEADER_SIZE + caps_len, payload, size);
  g_free (payload);
  return g_bytes_new_take (bytes, total);
}

static void
read_expected (GSocket * socket, GBytes * expected)
{
  gsize len;
  const guint8 *want = g_bytes_get_data (expected, &len);
  guint8 *got = g_malloc (len);

  read_exact (socket, got, len);
  fail_unless (memcmp (got, want, len) == 0, "wire bytes differ");
  g_free (got);
  g_bytes_unref (expected);
}

/* The caps string the sink sends for caps the harness set from `str`. */
static gchar *
caps_wire_string (const gchar * str)
{
  GstCaps *caps = gst_caps_from_string (str);
  gchar *s = gst_caps_to_string (caps);

  gst_caps_unref (caps);
  return s;
}

/* ---- live pipelines ---- */

/* How regularly buffers reach the sink. */
typedef struct
{
  GMutex lock;
  guint buffers;
  gint64 last_us;
  gint64 max_gap_us;
} FlowWatch;

static GstPadProbeReturn
on_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  FlowWatch *w = user_data;
  gint64 now = g_get_monotonic_time ();

  g_mutex_lock (&w->lock);
  if (w->buffers > 0)
    w->max_gap_us = MAX (w->max_gap_us, now - w->last_us);
  w->last_us = now;
  w->buffers++;
  g_mutex_unlock (&w->lock);
  return GST_PAD_PROBE_OK;
}

static guint
flow_buffers (FlowWatch * w)
{
  guint n;

  g_mutex_lock (&w->lock);
  n = w->buffers;
  g_mutex_unlock (&w->lock);
  return n;
}

static gint64
flow_max_gap_ms (FlowWatch * w)
{
  gint64 gap;

  g_mutex_lock (&w->lock);
  gap = w->max_gap_us / 1000;
  g_mutex_unlock (&w->lock);
  return gap;
}

/* Waits (bounded) until `n` more buffers than `from` reached the sink. */
static gboolean
flow_wait (FlowWatch * w, guint from, guint n, guint timeout_ms)
{
  gint64 deadline = now_ms () + timeout_ms;

  while (flow_buffers (w) < from + n) {
    if (now_ms () >= deadline)
      return FALSE;
    g_usleep (1000);
  }
  return TRUE;
}

/* Messages carry no time of their own: note, in the posting thread, when
 * each was posted. */
static GQuark
posted_quark (void)
{
  return g_quark_from_static_string ("tf-test-posted-us");
}

static GstBusSyncReply
note_post_time (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  gint64 *t = g_new (gint64, 1);

  *t = g_get_monotonic_time ();
  gst_mini_object_set_qdata (GST_MINI_OBJECT (msg), posted_quark (), t, g_free);
  return GST_BUS_PASS;
}

static gint64
posted_ms (GstMessage * msg)
{
  gint64 *t = gst_mini_object_get_qdata (GST_MINI_OBJECT (msg),
      posted_quark ());

  fail_unless (t != NULL);
  return *t / 1000;
}

/* videotestsrc is-live=true ! GRAY8 WxH at fps ! tcpframesink name=sink,
 * PLAYING, with `w` watching the sink pad. */
static GstElement *
live_pipeline (guint16 port, guint width, guint height, guint fps,
    const gchar * sink_props, FlowWatch * w)
{
  gchar *desc = g_strdup_printf ("videotestsrc is-live=true pattern=black "
      "! video/x-raw,format=GRAY8,width=%u,height=%u,framerate=%u/1 "
      "! tcpframesink name=sink host=127.0.0.1 port=%u %s", width, height,
      fps, port, sink_props);
  GError *err = NULL;
  GstElement *pipeline = gst_parse_launch (desc, &err);
  GstElement *sink;
  GstPad *pad;

  fail_unless (pipeline != NULL, "%s: %s", desc, err ? err->message : "");
  g_free (desc);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, w, NULL);
  gst_object_unref (pad);
  gst_object_unref (sink);
  {
    GstBus *bus = gst_element_get_bus (pipeline);
    gst_bus_set_sync_handler (bus, note_post_time, NULL, NULL);
    gst_object_unref (bus);
  }
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  return pipeline;
}

static GstElement *
pipeline_sink (GstElement * pipeline)
{
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");

  /* The pipeline keeps it alive; tests only borrow it. */
  gst_object_unref (sink);
  return sink;
}

static void
pipeline_free (GstElement * pipeline)
{
  g_object_set_data (G_OBJECT (pipeline), STASH_KEY, NULL);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

/* ---- the wire format, without sockets ---- */

GST_START_TEST (test_sink_wire_bytes)
{
  /* The README's example: 8-byte GRAY8 4x2 frame, caps of 41 bytes,
   * sequence 7, captured at 1732442400.123456789 s. */
  static const guint8 readme_header[TF_HEADER_SIZE] = {
    0x54, 0x46, 0x52, 0x4d, 0x01, 0x01, 0x00, 0x29, 0x00, 0x00, 0x00, 0x08,
    0x00, 0x00, 0x00, 0x07, 0x18, 0x0a, 0xdf, 0x2f, 0x1d, 0x2f, 0x0d, 0x15,
  };
  static const guint8 data[10] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
  guint8 out[TF_WIRE_PREFIX_MAX];
  TfWireChunk chunks[3], pending[3];
  TfWireCursor c;
  GError *err = NULL;

  fail_unless_equals_int (tf_wire_prefix (TF_FRAMING_HEADER, 0, 8, 41, 7,
          G_GUINT64_CONSTANT (1732442400123456789), out), TF_HEADER_SIZE);
  fail_unless (memcmp (out, readme_header, TF_HEADER_SIZE) == 0);
  /* No caps: flag and caps length both 0. */
  tf_wire_prefix (TF_FRAMING_HEADER, 0, 8, 0, 8, TF_TIMESTAMP_NONE, out);
  fail_unless_equals_int (out[5], 0);
  fail_unless_equals_int (out[6] | out[7], 0);
  fail_unless_equals_int (out[16] & out[23], 0xff);

  fail_unless_equals_int (tf_wire_prefix (TF_FRAMING_LENGTH,
          TF_LENGTH_FORMAT_U16LE, 300, 0, 0, 0, out), 2);
  fail_unless (out[0] == 0x2c && out[1] == 0x01);
  fail_unless_equals_int (tf_wire_prefix (TF_FRAMING_LENGTH,
          TF_LENGTH_FORMAT_U64BE, 300, 0, 0, 0, out), 8);
  fail_unless (out[6] == 0x01 && out[7] == 0x2c && out[0] == 0);
  fail_unless_equals_int (tf_wire_prefix (TF_FRAMING_RAW, 0, 300, 0, 0, 0,
          out), 0);
  fail_unless_equals_int (tf_wire_prefix (TF_FRAMING_JPEG, 0, 300, 0, 0, 0,
          out), 0);

  /* What a receiver would reject is never sent. */
  fail_if (tf_wire_check (TF_FRAMING_RAW, 0, 0, 0, &err));
  fail_unless (g_error_matches (err, TF_FRAMER_ERROR, TF_FRAMER_ERROR_EMPTY));
  g_clear_error (&err);
  fail_if (tf_wire_check (TF_FRAMING_LENGTH, TF_LENGTH_FORMAT_U16BE, 65536, 0,
          &err));
  fail_unless (g_error_matches (err, TF_FRAMER_ERROR,
          TF_FRAMER_ERROR_TOO_LARGE));
  g_clear_error (&err);
  fail_unless (tf_wire_check (TF_FRAMING_LENGTH, TF_LENGTH_FORMAT_U16BE,
          65535, 0, NULL));
  fail_if (tf_wire_check (TF_FRAMING_HEADER, 0, G_GUINT64_CONSTANT (1) << 32,
          0, NULL));
  fail_if (tf_wire_check (TF_FRAMING_HEADER, 0, 8, 65536, NULL));
  fail_unless (tf_wire_check (TF_FRAMING_LENGTH, TF_LENGTH_FORMAT_U64LE,
          G_GUINT64_CONSTANT (1) << 40, 0, NULL));

  /* A frame written in pieces comes out whole and in order. */
  chunks[0].data = readme_header;
  chunks[0].size = 4;
  chunks[1].data = NULL;
  chunks[1].size = 0;
  chunks[2].data = data;
  chunks[2].size = sizeof (data);
  tf_wire_cursor_init (&c, chunks, 3);
  fail_unless_equals_int (tf_wire_cursor_pending (&c, pending, 3), 2);
  fail_unless (pending[0].data == readme_header && pending[0].size == 4);
  fail_unless (pending[1].data == data && pending[1].size == 10);
  fail_if (tf_wire_cursor_mid_frame (&c));
  tf_wire_cursor_advance (&c, 3);
  fail_unless (tf_wire_cursor_mid_frame (&c));
  fail_unless_equals_int (tf_wire_cursor_pending (&c, pending, 1), 1);
  fail_unless (pending[0].data == readme_header + 3 && pending[0].size == 1);
  tf_wire_cursor_advance (&c, 5);
  fail_unless_equals_int (tf_wire_cursor_pending (&c, pending, 3), 1);
  fail_unless (pending[0].data == data + 4 && pending[0].size == 6);
  tf_wire_cursor_advance (&c, 6);
  fail_unless (tf_wire_cursor_done (&c));
  fail_if (tf_wire_cursor_mid_frame (&c));
  fail_unless_equals_int (tf_wire_cursor_pending (&c, pending, 3), 0);
}

GST_END_TEST;

/* ---- every framing, end to end ---- */

GST_START_TEST (test_sink_header_round_trip)
{
  GstHarness *src = tf_test_src_new (NULL);
  GstHarness *sink = sink_connected_to (src, NULL, GRAY8_4x2);
  GstCaps *ref = unix_caps_new ();
  const guint64 captured = G_GUINT64_CONSTANT (1732442400123456789);
  GstStructure *stats = NULL;
  GstMessage *msg;
  guint32 tag;
  gint port = 0;

  for (tag = 0; tag < 4; tag++) {
    guint64 before = (guint64) g_get_real_time () * 1000;
    GstBuffer *out = round_trip (sink, src, tag, 8,
        tag == 1 ? captured + tag : TF_TIMESTAMP_NONE);
    GstReferenceTimestampMeta *meta =
        gst_buffer_get_reference_timestamp_meta (out, ref);

    fail_unless (meta != NULL, "frame %u lost its capture time", tag);
    if (tag == 1) {
      /* The capture time the buffer carried crosses the wire unchanged. */
      fail_unless_equals_uint64 (meta->timestamp, captured + tag);
    } else {
      /* Without one, the sink stamps the time it got the frame. */
      fail_unless (meta->timestamp >= before
          && meta->timestamp <= (guint64) g_get_real_time () * 1000);
    }
    if (tag == 0)
      assert_current_caps (src, GRAY8_4x2);
    gst_buffer_unref (out);
  }

  /* New caps reach downstream of the receiver before the frame that needs
   * them, and again when they change back. */
  gst_harness_set_src_caps_str (sink, GRAY8_8x2);
  gst_buffer_unref (round_trip (sink, src, 10, 16, TF_TIMESTAMP_NONE));
  assert_current_caps (src, GRAY8_8x2);
  gst_buffer_unref (round_trip (sink, src, 11, 16, TF_TIMESTAMP_NONE));
  gst_harness_set_src_caps_str (sink, GRAY8_4x2);
  gst_buffer_unref (round_trip (sink, src, 12, 8, TF_TIMESTAMP_NONE));
  assert_current_caps (src, GRAY8_4x2);

  /* No frame was lost, so no sequence gap. */
  fail_unless_equals_uint64 (tf_test_stat (src, "frames"), 7);
  fail_unless_equals_uint64 (tf_test_stat (src, "sequence-gaps"), 0);
  expect_stat (sink, "frames", 7);
  fail_unless_equals_uint64 (tf_test_stat (sink, "bytes"),
      tf_test_stat (src, "bytes"));
  fail_unless_equals_uint64 (tf_test_stat (sink, "dropped"), 0);
  fail_unless_equals_uint64 (tf_test_stat (sink, "connections"), 1);
  fail_unless_equals_uint64 (tf_test_stat (sink, "reconnects"), 0);
  g_object_get (sink->element, "stats", &stats, NULL);
  fail_unless_equals_string (gst_structure_get_string (stats, "peer-address"),
      "127.0.0.1");
  fail_unless (gst_structure_get_int (stats, "peer-port", &port));
  fail_unless_equals_int (port, tf_test_src_port (src));
  gst_structure_free (stats);

  /* The receiver sees the sink connect from an ephemeral port. */
  msg = tf_test_wait_message (src, "tcpframesrc-connected", WAIT_MS);
  fail_unless (msg != NULL);
  fail_unless (tf_test_message_int (msg, "port") > 0);
  fail_unless (tf_test_message_int (msg, "port") != tf_test_src_port (src));
  gst_message_unref (msg);

  gst_caps_unref (ref);
  sink_free (sink);
  tf_test_src_free (src);
}

GST_END_TEST;

GST_START_TEST (test_sink_raw_round_trip)
{
  const gchar *caps =
      "video/x-raw,format=GRAY8,width=16,height=4,framerate=25/1";
  gchar *src_props = g_strdup_printf ("framing=raw caps=%s", caps);
  GstHarness *src = tf_test_src_new (src_props);
  GstHarness *sink = sink_connected_to (src, "framing=raw", caps);
  guint32 tag;

  for (tag = 0; tag < 5; tag++)
    gst_buffer_unref (round_trip (sink, src, tag, 64, TF_TIMESTAMP_NONE));
  fail_unless (gst_harness_try_pull (src) == NULL);
  expect_stat (sink, "frames", 5);
  fail_unless_equals_uint64 (tf_test_stat (sink, "bytes"), 5 * 64);

  g_free (src_props);
  sink_free (sink);
  tf_test_src_free (src);
}

GST_END_TEST;

GST_START_TEST (test_sink_length_formats)
{
  static const gchar *formats[] = {
    "u16be", "u16le", "u32be", "u32le", "u64be", "u64le",
  };
  guint f;

  for (f = 0; f < G_N_ELEMENTS (formats); f++) {
    gchar *props = g_strdup_printf ("framing=length length-format=%s",
        formats[f]);
    GstHarness *src = tf_test_src_new (props);
    GstHarness *sink = sink_connected_to (src, props, OCTETS);
    gboolean narrow = g_str_has_prefix (formats[f], "u16");
    gsize sizes[] = { 1, 300, 65535, 70000 };
    guint i;

    for (i = 0; i < G_N_ELEMENTS (sizes); i++) {
      GstMessage *msg;

      if (!(narrow && sizes[i] > 65535)) {
        gst_buffer_unref (round_trip (sink, src, i, sizes[i],
                TF_TIMESTAMP_NONE));
        continue;
      }
      /* Too large for a 16-bit length: dropped with one warning, and the
       * stream goes on unharmed. */
      push_quick (sink, frame_new (i, sizes[i], TF_TIMESTAMP_NONE),
          GST_FLOW_OK);
      msg = wait_message (sink->element, GST_MESSAGE_WARNING, NULL, WAIT_MS);
      fail_unless (msg != NULL, "no warning for an unsendable frame");
      gst_message_unref (msg);
      fail_unless_equals_uint64 (tf_test_stat (sink, "dropped"), 1);
      gst_buffer_unref (round_trip (sink, src, 100, 10, TF_TIMESTAMP_NONE));
    }
    fail_unless (gst_harness_try_pull (src) == NULL);
    fail_unless_equals_uint64 (tf_test_stat (src, "protocol-errors"), 0);

    sink_free (sink);
    tf_test_src_free (src);
    g_free (props);
  }
}

GST_END_TEST;

GST_START_TEST (test_sink_jpeg_round_trip)
{
  GstHarness *src = tf_test_src_new ("framing=jpeg");
  GstHarness *sink = sink_connected_to (src, "framing=jpeg", "image/jpeg");
  guint8 tag;

  for (tag = 1; tag <= 3; tag++) {
    gsize len;
    guint8 *data = tf_test_jpeg (tag, &len);
    GBytes *img = g_bytes_new_take (data, len);
    GstBuffer *out;

    push_quick (sink, gst_buffer_new_wrapped_bytes (img), GST_FLOW_OK);
    out = tf_test_pull (src, WAIT_MS);
    tf_test_assert_buffer_equals (out, data, len);
    gst_buffer_unref (out);
    g_bytes_unref (img);
  }
  assert_current_caps (src, "image/jpeg");
  /* Nothing but the images went out. */
  fail_unless_equals_uint64 (tf_test_stat (src, "skipped-bytes"), 0);

  sink_free (sink);
  tf_test_src_free (src);
}

GST_END_TEST;

GST_START_TEST (test_sink_ipv6_loopback)
{
  GSocket *probe = g_socket_new (G_SOCKET_FAMILY_IPV6, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);
  GInetAddress *lo6 = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
  GSocketAddress *sa = g_inet_socket_address_new (lo6, 0);
  gboolean have_ipv6 = probe && g_socket_bind (probe, sa, TRUE, NULL);
  GstHarness *src, *sink;
  GstMessage *msg;

  g_object_unref (sa);
  g_object_unref (lo6);
  g_clear_object (&probe);
  if (!have_ipv6) {
    GST_WARNING ("no IPv6 loopback here; skipping");
    return;
  }

  src = tf_test_src_new ("host=::1");
  /* Brackets as users write them in URLs work too. */
  sink = sink_new (tf_test_src_port (src), "host=[::1]", GRAY8_4x2);
  msg = sink_wait (sink, CONNECTED, WAIT_MS);
  fail_unless (msg != NULL);
  fail_unless_equals_string (tf_test_message_string (msg, "address"), "::1");
  gst_message_unref (msg);
  gst_buffer_unref (round_trip (sink, src, 0, 8, TF_TIMESTAMP_NONE));

  sink_free (sink);
  tf_test_src_free (src);
}

GST_END_TEST;

/* ---- server mode ---- */

GST_START_TEST (test_sink_server_mode_and_replacement)
{
  GstHarness *sink = sink_new (0, "mode=server", GRAY8_4x2);
  gchar *caps = caps_wire_string (GRAY8_4x2);
  TfTestPeer *a, *b;
  GstMessage *msg;
  gint port = 0;
  guint32 seq;

  g_object_get (sink->element, "current-port", &port, NULL);
  fail_unless (port > 0, "no port bound in server mode");

  /* Frames before anyone connected are dropped, but counted. */
  push_quick (sink, frame_new (99, 8, TF_TIMESTAMP_NONE), GST_FLOW_OK);
  fail_unless_equals_uint64 (tf_test_stat (sink, "dropped"), 1);

  a = tf_test_peer_connect (port);
  msg = sink_wait (sink, CONNECTED, WAIT_MS);
  fail_unless (msg != NULL);
  fail_unless_equals_string (tf_test_message_string (msg, "address"),
      "127.0.0.1");
  fail_unless_equals_int (tf_test_message_int (msg, "port"), a->local_port);
  gst_message_unref (msg);

  /* Byte for byte what the README specifies: caps on the first frame of a
   * connection only, the sequence counting every frame the sink got. */
  for (seq = 1; seq <= 3; seq++) {
    push_quick (sink, frame_new (seq, 8, 5000 + seq), GST_FLOW_OK);
    read_expected (a->socket, expected_header_frame (seq == 1 ? caps : NULL,
            seq, 8, seq, 5000 + seq));
  }

  /* A newer receiver replaces the current one, which gets an RST. */
  b = tf_test_peer_connect (port);
  msg = sink_wait (sink, DISCONNECTED, WAIT_MS);
  fail_unless (msg != NULL);
  fail_unless_equals_string (tf_test_message_string (msg, "reason"),
      "replaced");
  fail_unless_equals_int (tf_test_message_int (msg, "port"), a->local_port);
  gst_message_unref (msg);
  msg = sink_wait (sink, CONNECTED, WAIT_MS);
  fail_unless (msg != NULL);
  fail_unless_equals_int (tf_test_message_int (msg, "port"), b->local_port);
  gst_message_unref (msg);
  fail_unless_equals_int (tf_test_peer_wait_end (a, WAIT_MS),
      TF_TEST_PEER_GOT_RESET);

  /* The new connection starts with the caps again. */
  push_quick (sink, frame_new (4, 8, 5004), GST_FLOW_OK);
  read_expected (b->socket, expected_header_frame (caps, 4, 8, 4, 5004));

  expect_stat (sink, "frames", 4);
  fail_unless_equals_uint64 (tf_test_stat (sink, "connections"), 2);
  fail_unless_equals_uint64 (tf_test_stat (sink, "reconnects"), 1);

  /* A receiver that closes is noticed while the sink is idle. */
  tf_test_peer_close (b);
  msg = sink_wait (sink, DISCONNECTED, WAIT_MS);
  fail_unless (msg != NULL);
  fail_unless_equals_string (tf_test_message_string (msg, "reason"), "closed");
  gst_message_unref (msg);

  tf_test_peer_free (a);
  g_free (caps);
  sink_free (sink);
}

GST_END_TEST;

GST_START_TEST (test_sink_server_mode_to_tcpframesrc_client)
{
  GstElementFactory *factory = gst_element_factory_find ("tcpframesrc");
  GstElement *probe = gst_element_factory_create (factory, NULL);
  gboolean has_mode = g_object_class_find_property (G_OBJECT_GET_CLASS
      (probe), "mode") != NULL;
  GstHarness *sink, *src;
  GstBus *bus;
  gint port = 0;
  guint32 tag;

  gst_object_unref (probe);
  gst_object_unref (factory);
  if (!has_mode) {
    GST_WARNING ("tcpframesrc has no mode=client yet; skipping");
    return;
  }

  sink = sink_new (0, "mode=server", GRAY8_4x2);
  g_object_get (sink->element, "current-port", &port, NULL);

  src = gst_harness_new_with_padnames ("tcpframesrc", NULL, "src");
  bus = gst_bus_new ();
  gst_element_set_bus (src->element, bus);
  gst_object_unref (bus);
  gst_harness_use_systemclock (src);
  g_object_set (src->element, "host", "127.0.0.1", "port", port, NULL);
  gst_util_set_object_arg (G_OBJECT (src->element), "mode", "client");
  gst_harness_play (src);

  expect_message (sink, CONNECTED, WAIT_MS);
  for (tag = 0; tag < 3; tag++)
    gst_buffer_unref (round_trip (sink, src, tag, 8, TF_TIMESTAMP_NONE));
  assert_current_caps (src, GRAY8_4x2);

  tf_test_src_free (src);
  sink_free (sink);
}

GST_END_TEST;

/* ---- a camera that never holds up its pipeline ---- */

GST_START_TEST (test_sink_live_upstream_flows_while_receiver_vanishes)
{
  const guint fps = 50, frame_ms = 1000 / 50;
  const guint64 max_retry_ms = 200;
  /* The sink is at most one backoff delay away from its next attempt. */
  const guint bound_ms = max_retry_ms + SLACK_MS;
  gchar *props = g_strdup_printf ("retry-delay=%" G_GUINT64_FORMAT
      " max-retry-delay=%" G_GUINT64_FORMAT, 10 * MS_NS, max_retry_ms * MS_NS);
  FlowWatch w = { 0, };
  GstHarness *src = tf_test_src_new (NULL);
  guint16 port = tf_test_src_port (src);
  GstElement *pipeline = live_pipeline (port, 64, 48, fps, props, &w);
  GstElement *sink = pipeline_sink (pipeline);
  gchar *same_port;
  GstMessage *msg;
  guint64 dropped;
  guint i, seen;
  gint64 t0;

  msg = wait_message (pipeline, GST_MESSAGE_ELEMENT, CONNECTED, WAIT_MS);
  fail_unless (msg != NULL, "never connected");
  gst_message_unref (msg);
  for (i = 0; i < 3; i++) {
    GstBuffer *buf = tf_test_pull (src, WAIT_MS);
    fail_unless (buf != NULL, "frame %u never arrived", i);
    gst_buffer_unref (buf);
  }

  /* The receiver goes away (its connections get an RST). */
  tf_test_src_free (src);
  msg = wait_message (pipeline, GST_MESSAGE_ELEMENT, DISCONNECTED, WAIT_MS);
  fail_unless (msg != NULL, "the loss of the receiver went unnoticed");
  fail_unless (g_str_equal (tf_test_message_string (msg, "reason"), "reset")
      || g_str_equal (tf_test_message_string (msg, "reason"), "closed"),
      "reason %s", tf_test_message_string (msg, "reason"));
  gst_message_unref (msg);

  /* Upstream keeps going at the live rate; frames are dropped, not
   * queued, and counted. */
  seen = flow_buffers (&w);
  dropped = stat_of (sink, "dropped");
  fail_unless (flow_wait (&w, seen, 15, 15 * frame_ms + SLACK_MS * 2),
      "upstream stalled while the receiver was away");
  fail_unless (stat_of (sink, "dropped") >= dropped + 10,
      "dropped went from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT,
      dropped, stat_of (sink, "dropped"));

  /* A receiver on the same port again: reconnected within the largest
   * backoff delay, and frames flow. */
  same_port = g_strdup_printf ("port=%u", port);
  src = tf_test_src_new (same_port);
  fail_unless_equals_int (tf_test_src_port (src), port);
  t0 = now_ms ();
  msg = wait_message (pipeline, GST_MESSAGE_ELEMENT, CONNECTED, bound_ms);
  fail_unless (msg != NULL, "not reconnected within %u ms", bound_ms);
  gst_message_unref (msg);
  GST_INFO ("reconnected after %" G_GINT64_FORMAT " ms", now_ms () - t0);
  fail_unless (stat_of (sink, "reconnects") >= 1);
  fail_unless_equals_uint64 (stat_of (sink, "connections"),
      stat_of (sink, "reconnects") + 1);
  {
    GstBuffer *buf = tf_test_pull (src, frame_ms + SLACK_MS);
    fail_unless (buf != NULL, "no frame after the reconnect");
    gst_buffer_unref (buf);
  }

  /* Never a wait in the sink: buffers kept reaching it at the frame
   * interval throughout. */
  fail_unless (flow_max_gap_ms (&w) < frame_ms + GAP_SLACK_MS,
      "upstream was held up for %" G_GINT64_FORMAT " ms", flow_max_gap_ms (&w));

  pipeline_free (pipeline);
  tf_test_src_free (src);
  g_free (same_port);
  g_free (props);
}

GST_END_TEST;

GST_START_TEST (test_sink_send_timeout_drops_stalled_receiver)
{
  const guint fps = 25, frame_ms = 1000 / 25;
  const guint send_timeout_ms = 200;
  guint16 port;
  GSocket *listener = listener_new (4096, 16, &port);
  gchar *props = g_strdup_printf ("send-timeout=%" G_GUINT64_FORMAT
      " retry-delay=%" G_GUINT64_FORMAT " max-retry-delay=%" G_GUINT64_FORMAT,
      send_timeout_ms * MS_NS, 50 * MS_NS, 100 * MS_NS);
  FlowWatch w = { 0, };
  /* 1 MiB frames: far more than a small receive window takes. */
  GstElement *pipeline = live_pipeline (port, 1024, 1024, fps, props, &w);
  TfTestPeer *peer = accept_peer (listener);
  GstMessage *connected, *gone;
  gint64 stalled_ms;
  guint64 sent = 0;
  const gchar *err;

  /* The receiver accepted and never reads. */
  connected = wait_message (pipeline, GST_MESSAGE_ELEMENT, CONNECTED, WAIT_MS);
  fail_unless (connected != NULL);
  gone = wait_message (pipeline, GST_MESSAGE_ELEMENT, DISCONNECTED, WAIT_MS);
  fail_unless (gone != NULL, "a stalled receiver was never dropped");
  fail_unless_equals_string (tf_test_message_string (gone, "reason"),
      "send-timeout");
  err = tf_test_message_string (gone, "error");
  fail_unless (err && strstr (err, "send-timeout"), "error: %s", err);

  /* Measured between the posts.  The kernel's buffers take a few frames
   * before anything stalls (how many depends on its settings; the message
   * says how many went out whole).  The stalling frame was handed over
   * one frame interval after the last of them at most, made its progress
   * at once, and was then given exactly send-timeout. */
  fail_unless (gst_structure_get_uint64 (gst_message_get_structure (gone),
          "frames", &sent));
  stalled_ms = posted_ms (gone) - posted_ms (connected);
  GST_INFO ("dropped %" G_GINT64_FORMAT " ms after connecting, %"
      G_GUINT64_FORMAT " frames sent", stalled_ms, sent);
  fail_unless (stalled_ms >= send_timeout_ms, "dropped after %"
      G_GINT64_FORMAT " ms", stalled_ms);
  fail_unless (stalled_ms <= (gint64) (send_timeout_ms + (sent + 1) * frame_ms
          + SLACK_MS), "dropped only after %" G_GINT64_FORMAT " ms",
      stalled_ms);

  /* With an RST: what the receiver holds ends in a reset, not a FIN. */
  fail_unless_equals_int (tf_test_peer_wait_end (peer, WAIT_MS),
      TF_TEST_PEER_GOT_RESET);

  /* Upstream ran at its own pace all along. */
  fail_unless (flow_buffers (&w) > 0);
  fail_unless (flow_max_gap_ms (&w) < frame_ms + GAP_SLACK_MS,
      "upstream was held up for %" G_GINT64_FORMAT " ms", flow_max_gap_ms (&w));

  gst_message_unref (connected);
  gst_message_unref (gone);
  pipeline_free (pipeline);
  tf_test_peer_free (peer);
  socket_free (listener);
  g_free (props);
}

GST_END_TEST;

GST_START_TEST (test_sink_newest_frame_wins_while_sending)
{
  guint16 port;
  GSocket *listener = listener_new (4096, 16, &port);
  GstHarness *sink = sink_new (port, "send-timeout=10000000000", OCTETS);
  TfTestPeer *peer = accept_peer (listener);
  gchar *caps = caps_wire_string (OCTETS);
  /* Far more than the kernel buffers on both sides hold, so it stalls. */
  const gsize big = STALL_FRAME_SIZE;
  guint8 *big_payload = tf_test_payload (0, big);
  guint8 *small_payload = tf_test_payload (3, 8);
  WireFrame f;
  guint32 tag;

  expect_message (sink, CONNECTED, WAIT_MS);

  /* Frame 0 starts going out and stalls: the receiver does not read. */
  push_quick (sink, frame_new (0, big, TF_TIMESTAMP_NONE), GST_FLOW_OK);
  fail_unless (g_socket_condition_timed_wait (peer->socket, G_IO_IN,
          WAIT_MS * 1000, NULL, NULL), "frame 0 never started");

  /* Meanwhile frames keep coming; each replaces the one waiting. */
  for (tag = 1; tag <= 3; tag++)
    push_quick (sink, frame_new (tag, 8, TF_TIMESTAMP_NONE), GST_FLOW_OK);
  fail_unless_equals_uint64 (tf_test_stat (sink, "frames"), 0);
  fail_unless_equals_uint64 (tf_test_stat (sink, "dropped"), 2);

  /* The receiver reads again (with a normal window, to be quick): frame 0
   * whole, then only the newest, whose sequence shows the two dropped. */
  g_socket_set_option (peer->socket, SOL_SOCKET, SO_RCVBUF, 1024 * 1024, NULL);
  read_wire_frame (peer->socket, &f);
  fail_unless_equals_int (f.sequence, 0);
  fail_unless_equals_string (f.caps, caps);
  fail_unless_equals_uint64 (f.size, big);
  fail_unless (memcmp (f.payload, big_payload, big) == 0);
  wire_frame_clear (&f);
  read_wire_frame (peer->socket, &f);
  fail_unless_equals_int (f.sequence, 3);
  fail_unless (f.caps == NULL, "caps sent again unchanged");
  fail_unless_equals_uint64 (f.size, 8);
  fail_unless (memcmp (f.payload, small_payload, 8) == 0);
  wire_frame_clear (&f);
  fail_if (g_socket_condition_timed_wait (peer->socket, G_IO_IN,
          QUIET_MS * 1000, NULL, NULL), "more than the newest frame came");

  expect_stat (sink, "frames", 2);
  fail_unless_equals_uint64 (tf_test_stat (sink, "bytes"), big + 8);

  g_free (big_payload);
  g_free (small_payload);
  g_free (caps);
  sink_free (sink);
  tf_test_peer_free (peer);
  socket_free (listener);
}

GST_END_TEST;

/* ---- reconnecting, giving up ---- */

GST_START_TEST (test_sink_max_retries_posts_error)
{
  const guint64 retry_ms = 50;
  guint16 port;
  GSocket *refusing = refusing_port (&port);
  gchar *props = g_strdup_printf ("max-retries=2 retry-delay=%"
      G_GUINT64_FORMAT " max-retry-delay=%" G_GUINT64_FORMAT,
      retry_ms * MS_NS, 1000 * MS_NS);
  gchar *where = g_strdup_printf ("127.0.0.1:%u", port);
  gint64 t0 = now_ms (), elapsed;
  GstHarness *sink = sink_new (port, props, GRAY8_4x2);
  GstMessage *msg;
  GError *err = NULL;

  msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (sink->element),
      WAIT_MS * GST_MSECOND, GST_MESSAGE_ERROR);
  elapsed = now_ms () - t0;
  fail_unless (msg != NULL, "no error after max-retries");
  gst_message_parse_error (msg, &err, NULL);
  GST_INFO ("after %" G_GINT64_FORMAT " ms: %s", elapsed, err->message);
  fail_unless (strstr (err->message, where) != NULL, "does not name %s: %s",
      where, err->message);
  fail_unless (strstr (err->message, "3 attempts") != NULL, "%s", err->message);
  fail_unless (strstr (err->message, "refused") != NULL, "%s", err->message);
  /* One try and two retries, with the two delays bounded by 50 and 100 ms
   * (full jitter): nothing waits longer. */
  fail_unless (elapsed <= (gint64) (retry_ms + 2 * retry_ms) + SLACK_MS,
      "gave up only after %" G_GINT64_FORMAT " ms", elapsed);
  g_error_free (err);
  gst_message_unref (msg);

  /* The stream stops there. */
  push_quick (sink, frame_new (0, 8, TF_TIMESTAMP_NONE), GST_FLOW_ERROR);
  fail_unless_equals_uint64 (tf_test_stat (sink, "connections"), 0);

  sink_free (sink);
  socket_free (refusing);
  g_free (where);
  g_free (props);
}

GST_END_TEST;

GST_START_TEST (test_sink_max_retries_counts_dropped_connections)
{
  guint16 port;
  /* Like a port forwarder whose backend is down: it accepts, then closes. */
  GSocket *listener = listener_new (0, 16, &port);
  GstHarness *sink = sink_new (port, "max-retries=1 retry-delay=10000000 "
      "max-retry-delay=20000000", GRAY8_4x2);
  GstMessage *msg;
  GError *err = NULL;
  guint i;

  for (i = 0; i < 2; i++) {
    TfTestPeer *peer = accept_peer (listener);

    expect_message (sink, CONNECTED, WAIT_MS);
    tf_test_peer_close (peer);
    expect_message (sink, DISCONNECTED, WAIT_MS);
  }
  msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (sink->element),
      WAIT_MS * GST_MSECOND, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "connections that never carried a frame did "
      "not count as failed attempts");
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (strstr (err->message, "2 attempts") != NULL, "%s", err->message);
  fail_unless (strstr (err->message, "before a frame") != NULL, "%s",
      err->message);
  g_error_free (err);
  gst_message_unref (msg);
  fail_unless_equals_uint64 (tf_test_stat (sink, "connections"), 2);

  sink_free (sink);
  socket_free (listener);
}

GST_END_TEST;

/* Frames pushed while no receiver listens on `port`; then one appears.
 * Returns the source, connected to the sink. */
static GstHarness *
receiver_appears (GstHarness * sink, GSocket * refusing, guint16 port)
{
  gchar *same_port = g_strdup_printf ("port=%u", port);
  GstHarness *src = tf_test_src_new (same_port);

  fail_unless_equals_int (tf_test_src_port (src), port);
  socket_free (refusing);
  /* max-retry-delay is 50 ms in these tests */
  expect_message (sink, CONNECTED, 50 + SLACK_MS);
  g_free (same_port);
  return src;
}

GST_START_TEST (test_sink_resend_last_sends_newest_after_reconnect)
{
  guint16 port;
  GSocket *refusing = refusing_port (&port);
  GstHarness *sink = sink_new (port, "resend-last=true retry-delay=10000000 "
      "max-retry-delay=50000000", GRAY8_4x2);
  GstHarness *src;
  guint32 tag;

  for (tag = 0; tag < 5; tag++)
    push_quick (sink, frame_new (tag, 8, TF_TIMESTAMP_NONE), GST_FLOW_OK);
  /* Only the newest is kept. */
  fail_unless_equals_uint64 (tf_test_stat (sink, "dropped"), 4);

  src = receiver_appears (sink, refusing, port);
  {
    GstBuffer *buf = tf_test_pull (src, WAIT_MS);
    guint8 *newest = tf_test_payload (4, 8);

    tf_test_assert_buffer_equals (buf, newest, 8);
    gst_buffer_unref (buf);
    g_free (newest);
  }
  /* ...and only it. */
  fail_unless (tf_test_pull (src, QUIET_MS) == NULL);
  assert_current_caps (src, GRAY8_4x2);

  gst_buffer_unref (round_trip (sink, src, 5, 8, TF_TIMESTAMP_NONE));
  fail_unless_equals_uint64 (tf_test_stat (src, "sequence-gaps"), 0);
  expect_stat (sink, "frames", 2);
  fail_unless_equals_uint64 (tf_test_stat (sink, "dropped"), 4);

  sink_free (sink);
  tf_test_src_free (src);
}

GST_END_TEST;

GST_START_TEST (test_sink_drops_while_disconnected)
{
  guint16 port;
  GSocket *refusing = refusing_port (&port);
  GstHarness *sink = sink_new (port, "retry-delay=10000000 "
      "max-retry-delay=50000000", GRAY8_4x2);
  GstHarness *src;
  GstBuffer *buf;
  guint32 tag;

  for (tag = 0; tag < 5; tag++)
    push_quick (sink, frame_new (tag, 8, TF_TIMESTAMP_NONE), GST_FLOW_OK);
  fail_unless_equals_uint64 (tf_test_stat (sink, "dropped"), 5);

  /* Nothing stale is sent after the reconnect... */
  src = receiver_appears (sink, refusing, port);
  fail_unless (tf_test_pull (src, QUIET_MS) == NULL);

  /* ...the first frame is the next one pushed. */
  buf = round_trip (sink, src, 5, 8, TF_TIMESTAMP_NONE);
  gst_buffer_unref (buf);
  gst_buffer_unref (round_trip (sink, src, 6, 8, TF_TIMESTAMP_NONE));
  fail_unless_equals_uint64 (tf_test_stat (src, "sequence-gaps"), 0);
  expect_stat (sink, "frames", 2);

  sink_free (sink);
  tf_test_src_free (src);
}

GST_END_TEST;

/* ---- stopping promptly ---- */

GST_START_TEST (test_sink_stop_prompt_while_connecting)
{
  guint16 port;
  /* Backlog 0 and one connection never accepted: the queue is full and
   * Linux drops further SYNs, so a connect hangs like one to an unroutable
   * address. */
  GSocket *listener = listener_new (0, 0, &port);
  TfTestPeer *filler;
  GstHarness *sink;

  filler = tf_test_peer_connect (port);
  sink = sink_new (port, "connect-timeout=10000000000", GRAY8_4x2);
  fail_unless (sink_wait (sink, CONNECTED, QUIET_MS) == NULL,
      "connected to a full backlog");
  fail_unless_equals_uint64 (tf_test_stat (sink, "connections"), 0);

  tf_test_stop_promptly (sink->element);

  sink_free (sink);
  tf_test_peer_free (filler);
  socket_free (listener);
}

GST_END_TEST;

GST_START_TEST (test_sink_stop_prompt_while_send_stalled)
{
  guint16 port;
  GSocket *listener = listener_new (4096, 16, &port);
  GstHarness *sink = sink_new (port, "send-timeout=10000000000", OCTETS);
  TfTestPeer *peer = accept_peer (listener);

  expect_message (sink, CONNECTED, WAIT_MS);
  push_quick (sink, frame_new (0, STALL_FRAME_SIZE, TF_TIMESTAMP_NONE),
      GST_FLOW_OK);
  fail_unless (g_socket_condition_timed_wait (peer->socket, G_IO_IN,
          WAIT_MS * 1000, NULL, NULL), "the frame never started");
  /* Stalled, not lost: upstream still gets through at once. */
  push_quick (sink, frame_new (1, 8, TF_TIMESTAMP_NONE), GST_FLOW_OK);
  fail_unless_equals_uint64 (tf_test_stat (sink, "frames"), 0);

  tf_test_stop_promptly (sink->element);
  /* Half a frame ends with an RST. */
  fail_unless_equals_int (tf_test_peer_wait_end (peer, WAIT_MS),
      TF_TEST_PEER_GOT_RESET);

  sink_free (sink);
  tf_test_peer_free (peer);
  socket_free (listener);
}

GST_END_TEST;

GST_START_TEST (test_sink_stop_prompt_while_backing_off)
{
  guint16 port;
  GSocket *refusing = refusing_port (&port);
  /* After a refused first attempt the sink waits up to 10 s. */
  GstHarness *sink = sink_new (port, "retry-delay=10000000000", GRAY8_4x2);

  fail_unless (sink_wait (sink, CONNECTED, QUIET_MS) == NULL);
  tf_test_stop_promptly (sink->element);

  sink_free (sink);
  socket_free (refusing);
}

GST_END_TEST;

/* ---- end of stream, configuration ---- */

GST_START_TEST (test_sink_eos_lets_last_frame_out)
{
  const gchar *caps =
      "video/x-raw,format=GRAY8,width=4096,height=4096,framerate=1/1";
  const gsize size = 4096 * 4096;
  GstHarness *src = tf_test_src_new (NULL);
  GstHarness *sink = sink_connected_to (src, NULL, caps);
  guint8 *payload = tf_test_payload (7, size);
  GstMessage *msg;
  GstBuffer *out;

  push_quick (sink, frame_new (7, size, TF_TIMESTAMP_NONE), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (sink, gst_event_new_eos ()));
  /* EOS is through only once the frame is out... */
  fail_unless_equals_uint64 (tf_test_stat (sink, "frames"), 1);
  msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (sink->element),
      WAIT_MS * GST_MSECOND, GST_MESSAGE_EOS);
  fail_unless (msg != NULL);
  gst_message_unref (msg);
  /* ...so stopping right away loses nothing. */
  gst_element_set_state (sink->element, GST_STATE_NULL);

  out = tf_test_pull (src, WAIT_MS);
  tf_test_assert_buffer_equals (out, payload, size);
  gst_buffer_unref (out);

  g_free (payload);
  sink_free (sink);
  tf_test_src_free (src);
}

GST_END_TEST;

static void
assert_start_fails (GstElement * sink, const gchar * why)
{
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;

  gst_element_set_bus (sink, bus);
  fail_unless_equals_int (gst_element_set_state (sink, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error message");
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (strstr (err->message, why) != NULL, "unclear: %s", err->message);
  g_error_free (err);
  gst_message_unref (msg);
  /* ...and only that one. */
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR) == NULL);
  gst_element_set_state (sink, GST_STATE_NULL);
  /* queued messages hold the element, and the element holds the bus */
  gst_bus_set_flushing (bus, TRUE);
  gst_element_set_bus (sink, NULL);
  gst_object_unref (bus);
}

GST_START_TEST (test_sink_bad_config_fails_clearly)
{
  GstHarness *src = tf_test_src_new (NULL);
  GstElement *sink = gst_element_factory_make ("tcpframesink", NULL);

  /* A client must know where to connect. */
  g_object_set (sink, "host", "127.0.0.1", "port", 0, NULL);
  assert_start_fails (sink, "port");

  /* A server on a port someone else listens on. */
  gst_util_set_object_arg (G_OBJECT (sink), "mode", "server");
  g_object_set (sink, "port", (gint) tf_test_src_port (src), NULL);
  assert_start_fails (sink, "Could not listen");

  gst_object_unref (sink);
  tf_test_src_free (src);
}

GST_END_TEST;

GST_START_TEST (test_sink_properties)
{
  GstElement *sink = gst_element_factory_make ("tcpframesink", NULL);
  GstElementFactory *factory = gst_element_get_factory (sink);
  gchar *host = NULL, *mode = NULL;
  GstStructure *stats = NULL;
  guint64 connect_timeout, retry, max_retry, send_timeout;
  gint port, max_retries, current_port;
  gboolean resend_last;
  GParamSpec *pspec;

  fail_unless_equals_string (gst_element_factory_get_metadata (factory,
          GST_ELEMENT_METADATA_LONGNAME), "TCP frame sink");
  fail_unless_equals_string (gst_element_factory_get_metadata (factory,
          GST_ELEMENT_METADATA_KLASS), "Sink/Network");

  g_object_get (sink, "host", &host, "port", &port, "connect-timeout",
      &connect_timeout, "retry-delay", &retry, "max-retry-delay", &max_retry,
      "max-retries", &max_retries, "send-timeout", &send_timeout,
      "resend-last", &resend_last, "current-port", &current_port, "stats",
      &stats, NULL);
  fail_unless_equals_string (host, "localhost");
  fail_unless_equals_int (port, 4953);
  fail_unless_equals_uint64 (connect_timeout, 5 * GST_SECOND);
  fail_unless_equals_uint64 (retry, 100 * GST_MSECOND);
  fail_unless_equals_uint64 (max_retry, 5 * GST_SECOND);
  fail_unless_equals_int (max_retries, -1);
  fail_unless_equals_uint64 (send_timeout, GST_SECOND);
  fail_unless (!resend_last);
  fail_unless_equals_int (current_port, 0);
  fail_unless (gst_structure_has_name (stats, "tcpframesink-stats"));
  fail_unless_equals_string (gst_structure_get_string (stats, "peer-address"),
      "");
  gst_structure_free (stats);
  g_free (host);

  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (sink), "mode");
  mode = g_enum_to_string (pspec->value_type,
      G_PARAM_SPEC_ENUM (pspec)->default_value);
  fail_unless (strstr (mode, "CLIENT") != NULL, "default mode %s", mode);
  g_free (mode);
  /* The sink's basesink timing stays as GstBaseSink has it. */
  {
    gboolean sync = FALSE;
    g_object_get (sink, "sync", &sync, NULL);
    fail_unless (sync);
  }
  gst_object_unref (sink);
}

GST_END_TEST;

static void
count_notify (GObject * obj, GParamSpec * pspec, gpointer user_data)
{
  g_atomic_int_inc ((gint *) user_data);
}

GST_START_TEST (test_sink_server_current_port_notifies)
{
  GstElement *sink = gst_element_factory_make ("tcpframesink", NULL);
  gint notified = 0, port = -1;

  g_object_set (sink, "host", "127.0.0.1", "port", 0, NULL);
  gst_util_set_object_arg (G_OBJECT (sink), "mode", "server");
  g_signal_connect (sink, "notify::current-port", G_CALLBACK (count_notify),
      &notified);

  /* Bound by the time PAUSED is reached, before any buffer. */
  fail_if (gst_element_set_state (sink, GST_STATE_PAUSED) ==
      GST_STATE_CHANGE_FAILURE);
  g_object_get (sink, "current-port", &port, NULL);
  fail_unless (port > 0);
  fail_unless_equals_int (g_atomic_int_get (&notified), 1);

  fail_unless_equals_int (gst_element_set_state (sink, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  g_object_get (sink, "current-port", &port, NULL);
  fail_unless_equals_int (port, 0);
  fail_unless_equals_int (g_atomic_int_get (&notified), 2);
  gst_object_unref (sink);
}

GST_END_TEST;

static Suite *
tcpframesink_suite (void)
{
  Suite *s = suite_create ("tcpframesink");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_sink_wire_bytes);
  tcase_add_test (tc, test_sink_header_round_trip);
  tcase_add_test (tc, test_sink_raw_round_trip);
  tcase_add_test (tc, test_sink_length_formats);
  tcase_add_test (tc, test_sink_jpeg_round_trip);
  tcase_add_test (tc, test_sink_ipv6_loopback);
  tcase_add_test (tc, test_sink_server_mode_and_replacement);
  tcase_add_test (tc, test_sink_server_mode_to_tcpframesrc_client);
  tcase_add_test (tc, test_sink_live_upstream_flows_while_receiver_vanishes);
  tcase_add_test (tc, test_sink_send_timeout_drops_stalled_receiver);
  tcase_add_test (tc, test_sink_newest_frame_wins_while_sending);
  tcase_add_test (tc, test_sink_max_retries_posts_error);
  tcase_add_test (tc, test_sink_max_retries_counts_dropped_connections);
  tcase_add_test (tc, test_sink_resend_last_sends_newest_after_reconnect);
  tcase_add_test (tc, test_sink_drops_while_disconnected);
  tcase_add_test (tc, test_sink_stop_prompt_while_connecting);
  tcase_add_test (tc, test_sink_stop_prompt_while_send_stalled);
  tcase_add_test (tc, test_sink_stop_prompt_while_backing_off);
  tcase_add_test (tc, test_sink_eos_lets_last_frame_out);
  tcase_add_test (tc, test_sink_bad_config_fails_clearly);
  tcase_add_test (tc, test_sink_properties);
  tcase_add_test (tc, test_sink_server_current_port_notifies);
  return s;
}

GST_CHECK_MAIN (tcpframesink);
