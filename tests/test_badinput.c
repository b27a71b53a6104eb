/* tcpframesrc bad-input tests: a peer that sends something malformed loses
 * its connection, and nobody else notices beyond a warning.
 *
 * For each bad input: the peer is dropped with an RST and reported with
 * reason protocol-error and an error that says what was wrong, a WARNING
 * names it as address:port, nothing of the bad frame reaches downstream,
 * stats count it, the pipeline neither errors nor ends, and the next good
 * camera streams.  Every test listens on 127.0.0.1 port 0. */
#include <gst/check/gstcheck.h>
#include <gst/video/video.h>
#include <stdio.h>
#include <string.h>

#include "tf-testpeer.h"
#include "tf-framer.h"

#define WAIT_MS tf_test_scale_ms (2000)
#define GRAY8_4x2 "video/x-raw,format=GRAY8,width=4,height=2,framerate=25/1"
#define GRAY8_4x2_SIZE 8
#define MIB (1024 * 1024)

/* ---- bus bookkeeping ---- */

/* Counted in a sync handler rather than popped: the test helpers stash
 * messages they are not asked for, so an ERROR read while waiting for
 * something else would otherwise go unseen. */
typedef struct
{
  gint errors;
  gint eos;
  gint warnings;
} BusCounts;

static GstBusSyncReply
count_message (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  BusCounts *counts = user_data;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:{
      GError *err = NULL;
      gst_message_parse_error (msg, &err, NULL);
      GST_ERROR ("unexpected ERROR on the bus: %s", err->message);
      g_error_free (err);
      g_atomic_int_inc (&counts->errors);
      break;
    }
    case GST_MESSAGE_EOS:
      g_atomic_int_inc (&counts->eos);
      break;
    case GST_MESSAGE_WARNING:
      g_atomic_int_inc (&counts->warnings);
      break;
    default:
      break;
  }
  return GST_BUS_PASS;
}

/* The bus owns the counts (freed with it); read them before teardown. */
static BusCounts *
watch_bus (GstHarness * h)
{
  BusCounts *counts = g_new0 (BusCounts, 1);

  gst_bus_set_sync_handler (tf_test_src_bus (h), count_message, counts, g_free);
  return counts;
}

/* The pipeline kept running: no ERROR, no EOS message, no EOS event, and
 * exactly one WARNING per dropped peer. */
static void
assert_still_running (GstHarness * h, BusCounts * counts, gint warnings)
{
  GstEvent *ev;

  fail_unless_equals_int (g_atomic_int_get (&counts->errors), 0);
  fail_unless_equals_int (g_atomic_int_get (&counts->eos), 0);
  fail_unless_equals_int (g_atomic_int_get (&counts->warnings), warnings);
  while ((ev = gst_harness_try_pull_event (h))) {
    fail_if (GST_EVENT_TYPE (ev) == GST_EVENT_EOS, "EOS after a bad peer");
    gst_event_unref (ev);
  }
}

static void
assert_contains (const gchar * haystack, const gchar * needle,
    const gchar * what)
{
  fail_unless (haystack != NULL, "%s is missing", what);
  fail_unless (strstr (haystack, needle) != NULL,
      "%s \"%s\" does not mention \"%s\"", what, haystack, needle);
}

/* Checks everything that must follow when `cam` is dropped for a protocol
 * error: the rejected/disconnected message, the WARNING naming it, the RST
 * and the counter.  `keywords` (NULL-terminated) must all appear in the
 * error string and the warning, so the user learns what was wrong. */
static void
assert_dropped (GstHarness * h, TfTestPeer * cam, gboolean was_current,
    guint64 frames, const gchar * const *keywords)
{
  const gchar *name = was_current ? "tcpframesrc-disconnected" :
      "tcpframesrc-rejected";
  GstMessage *msg;
  const GstStructure *s;
  GError *err = NULL;
  gchar *peer_name;
  gint port = -1;
  guint64 n = G_MAXUINT64;
  guint i;

  msg = tf_test_wait_message (h, name, WAIT_MS);
  fail_unless (msg != NULL, "no %s message for the bad peer", name);
  s = gst_message_get_structure (msg);
  fail_unless_equals_string (gst_structure_get_string (s, "address"),
      "127.0.0.1");
  fail_unless (gst_structure_get_int (s, "port", &port));
  fail_unless_equals_int (port, cam->local_port);
  fail_unless_equals_string (gst_structure_get_string (s, "reason"),
      "protocol-error");
  for (i = 0; keywords[i]; i++)
    assert_contains (gst_structure_get_string (s, "error"), keywords[i],
        "the message's error");
  if (was_current) {
    fail_unless (gst_structure_get_uint64 (s, "frames", &n));
    fail_unless_equals_uint64 (n, frames);
  }
  gst_message_unref (msg);

  msg = tf_test_wait_warning (h, WAIT_MS);
  fail_unless (msg != NULL, "no WARNING for the bad peer");
  gst_message_parse_warning (msg, &err, NULL);
  peer_name = g_strdup_printf ("127.0.0.1:%u", cam->local_port);
  assert_contains (err->message, peer_name, "the warning");
  for (i = 0; keywords[i]; i++)
    assert_contains (err->message, keywords[i], "the warning");
  g_free (peer_name);
  g_error_free (err);
  gst_message_unref (msg);

  /* An RST, not a FIN: the camera may reconnect from the same port. */
  fail_unless_equals_int (tf_test_peer_wait_end (cam, WAIT_MS),
      TF_TEST_PEER_GOT_RESET);
  fail_unless_equals_uint64 (tf_test_stat (h, "protocol-errors"), 1);
}

/* ---- wire formats ---- */

static GByteArray *
bytes_append_payload (GByteArray * a, guint32 sequence, gsize len)
{
  guint8 *payload = tf_test_payload (sequence, len);

  g_byte_array_append (a, payload, len);
  g_free (payload);
  return a;
}

/* A header framing frame declaring `declared` payload bytes and carrying
 * `sent` of them; callers spoil the fixed header afterwards. */
static GByteArray *
header_bytes (const gchar * caps, guint32 declared, gsize sent)
{
  GByteArray *a = g_byte_array_new ();
  guint8 header[TF_HEADER_SIZE];
  gsize caps_len = caps ? strlen (caps) : 0;

  tf_header_write (header, caps_len, declared, 0, TF_TIMESTAMP_NONE);
  g_byte_array_append (a, header, sizeof (header));
  if (caps_len)
    g_byte_array_append (a, (const guint8 *) caps, caps_len);
  return bytes_append_payload (a, 0, sent);
}

static GByteArray *
length_bytes (TfLengthFormat fmt, guint64 declared, gsize sent)
{
  GByteArray *a = g_byte_array_new ();
  guint8 prefix[8];

  tf_length_write (fmt, declared, prefix);
  g_byte_array_append (a, prefix, tf_length_format_width (fmt));
  return bytes_append_payload (a, 0, sent);
}

/* SOI, one APPn segment of `segment_len` (its length field included), a
 * little entropy-coded data, EOI. */
static GByteArray *
jpeg_bytes (guint32 sequence, guint segment_len)
{
  static const guint8 soi[] = { 0xff, 0xd8 };
  static const guint8 sos[] = { 0xff, 0xda, 0x00, 0x02 };
  static const guint8 eoi[] = { 0xff, 0xd9 };
  GByteArray *a = g_byte_array_new ();
  guint8 app[4] = { 0xff, 0xe1, segment_len >> 8, segment_len & 0xff };
  guint8 entropy[32];
  guint i;

  g_assert (segment_len >= 2 && segment_len <= G_MAXUINT16);
  g_byte_array_append (a, soi, sizeof (soi));
  g_byte_array_append (a, app, sizeof (app));
  bytes_append_payload (a, sequence, segment_len - 2);
  g_byte_array_append (a, sos, sizeof (sos));
  /* No 0xff in the scan, so nothing in it reads as a marker. */
  for (i = 0; i < sizeof (entropy); i++)
    entropy[i] = (guint8) ((i * 13 + sequence) & 0x7f);
  g_byte_array_append (a, entropy, sizeof (entropy));
  g_byte_array_append (a, eoi, sizeof (eoi));
  return a;
}

/* ---- the bad inputs ---- */

static GByteArray *
bad_length_over_max (void)
{
  /* max-frame-size=1000 */
  return length_bytes (TF_LENGTH_FORMAT_U32BE, 1001, 1001);
}

static GByteArray *
bad_length_zero (void)
{
  return length_bytes (TF_LENGTH_FORMAT_U32BE, 0, 0);
}

static GByteArray *
bad_length_u64_max (void)
{
  /* Whatever arithmetic the element does on it must not wrap into a small
   * allocation. */
  return length_bytes (TF_LENGTH_FORMAT_U64BE, G_MAXUINT64, 16);
}

static GByteArray *
bad_header_magic (void)
{
  GByteArray *a = header_bytes (GRAY8_4x2, GRAY8_4x2_SIZE, GRAY8_4x2_SIZE);

  a->data[3] = 'X';
  return a;
}

static GByteArray *
bad_header_version (void)
{
  GByteArray *a = header_bytes (GRAY8_4x2, GRAY8_4x2_SIZE, GRAY8_4x2_SIZE);

  a->data[4] = 7;
  return a;
}

static GByteArray *
bad_header_caps_unparsable (void)
{
  return header_bytes ("not caps at all!!", GRAY8_4x2_SIZE, GRAY8_4x2_SIZE);
}

static GByteArray *
bad_header_caps_empty (void)
{
  GByteArray *a = header_bytes (NULL, GRAY8_4x2_SIZE, GRAY8_4x2_SIZE);

  a->data[5] |= TF_HEADER_FLAG_CAPS;
  return a;
}

static GByteArray *
bad_header_size_mismatch (void)
{
  /* GRAY8 4x2 is 8 bytes a frame. */
  return header_bytes (GRAY8_4x2, 7, 7);
}

static GByteArray *
bad_header_no_caps (void)
{
  return header_bytes (NULL, GRAY8_4x2_SIZE, GRAY8_4x2_SIZE);
}

static GByteArray *
bad_header_over_max (void)
{
  /* max-frame-size=1000; caps with no fixed frame size, so only the limit
   * can object. */
  return header_bytes ("application/x-tf-test", 1001, 1001);
}

static GByteArray *
bad_header_reserved_flags (void)
{
  GByteArray *a = header_bytes (GRAY8_4x2, GRAY8_4x2_SIZE, GRAY8_4x2_SIZE);

  a->data[5] |= 0x80;
  return a;
}

static GByteArray *
bad_jpeg_too_large (void)
{
  /* max-frame-size=4096; a well-formed image of about 10 KB. */
  return jpeg_bytes (0, 10000);
}

typedef struct
{
  const gchar *props;
  TfFraming framing;            /* of the good frames sent around it */
  TfLengthFormat length_format; /* for framing=length */
  GByteArray *(*build) (void);
  const gchar *keywords[3];     /* NULL-terminated */
} BadInput;

typedef enum
{
  LENGTH_OVER_MAX,
  LENGTH_ZERO,
  LENGTH_U64_MAX,
  HEADER_MAGIC,
  HEADER_VERSION,
  HEADER_CAPS_UNPARSABLE,
  HEADER_CAPS_EMPTY,
  HEADER_SIZE_MISMATCH,
  HEADER_NO_CAPS,
  HEADER_OVER_MAX,
  HEADER_RESERVED_FLAGS,
  JPEG_TOO_LARGE,
} BadInputId;

static const BadInput bad_inputs[] = {
  [LENGTH_OVER_MAX] = {"framing=length max-frame-size=1000",
        TF_FRAMING_LENGTH, TF_LENGTH_FORMAT_U32BE, bad_length_over_max,
      {"1001", "max-frame-size", NULL}},
  [LENGTH_ZERO] = {"framing=length", TF_FRAMING_LENGTH,
        TF_LENGTH_FORMAT_U32BE, bad_length_zero,
      {"empty", NULL}},
  [LENGTH_U64_MAX] = {"framing=length length-format=u64be",
        TF_FRAMING_LENGTH, TF_LENGTH_FORMAT_U64BE, bad_length_u64_max,
      {"18446744073709551615", "max-frame-size", NULL}},
  [HEADER_MAGIC] = {"", TF_FRAMING_HEADER, 0, bad_header_magic,
      {"magic", NULL}},
  [HEADER_VERSION] = {"", TF_FRAMING_HEADER, 0, bad_header_version,
      {"version", "7", NULL}},
  [HEADER_CAPS_UNPARSABLE] = {"", TF_FRAMING_HEADER, 0,
        bad_header_caps_unparsable,
      {"caps", "not caps at all!!", NULL}},
  [HEADER_CAPS_EMPTY] = {"", TF_FRAMING_HEADER, 0, bad_header_caps_empty,
      {"caps", "empty", NULL}},
  [HEADER_SIZE_MISMATCH] = {"", TF_FRAMING_HEADER, 0,
        bad_header_size_mismatch,
      {"7 bytes", "caps", NULL}},
  [HEADER_NO_CAPS] = {"", TF_FRAMING_HEADER, 0, bad_header_no_caps,
      {"caps", NULL}},
  [HEADER_OVER_MAX] = {"max-frame-size=1000", TF_FRAMING_HEADER, 0,
        bad_header_over_max,
      {"1001", "max-frame-size", NULL}},
  [HEADER_RESERVED_FLAGS] = {"", TF_FRAMING_HEADER, 0,
        bad_header_reserved_flags,
      {"reserved", "flags", NULL}},
  [JPEG_TOO_LARGE] = {"framing=jpeg max-frame-size=4096", TF_FRAMING_JPEG, 0,
        bad_jpeg_too_large,
      {"max-frame-size", NULL}},
};

/* A frame the element must accept under bad's settings; *payload_len bytes
 * at *payload are what downstream must get. */
static GByteArray *
good_frame (const BadInput * bad, guint32 sequence, guint8 ** payload,
    gsize * payload_len)
{
  GByteArray *a;

  switch (bad->framing) {
    case TF_FRAMING_LENGTH:
      a = length_bytes (bad->length_format, GRAY8_4x2_SIZE, 0);
      bytes_append_payload (a, sequence, GRAY8_4x2_SIZE);
      *payload = tf_test_payload (sequence, GRAY8_4x2_SIZE);
      *payload_len = GRAY8_4x2_SIZE;
      return a;
    case TF_FRAMING_HEADER:{
      guint8 header[TF_HEADER_SIZE];

      /* Caps on every good frame: the caps property is unset, and each
       * camera's first frame must say what it sends. */
      a = g_byte_array_new ();
      tf_header_write (header, strlen (GRAY8_4x2), GRAY8_4x2_SIZE, sequence,
          TF_TIMESTAMP_NONE);
      g_byte_array_append (a, header, sizeof (header));
      g_byte_array_append (a, (const guint8 *) GRAY8_4x2, strlen (GRAY8_4x2));
      bytes_append_payload (a, sequence, GRAY8_4x2_SIZE);
      *payload = tf_test_payload (sequence, GRAY8_4x2_SIZE);
      *payload_len = GRAY8_4x2_SIZE;
      return a;
    }
    case TF_FRAMING_JPEG:
      a = jpeg_bytes (sequence, 100);
      *payload = g_memdup2 (a->data, a->len);
      *payload_len = a->len;
      return a;
    default:
      g_assert_not_reached ();
  }
  return NULL;
}

/* Sends one good frame from `cam`, which must then be the current peer and
 * its frame the next buffer downstream, byte for byte. */
static void
stream_good_frame (GstHarness * h, const BadInput * bad, TfTestPeer * cam,
    guint32 sequence)
{
  guint8 *payload;
  gsize len;
  GByteArray *wire = good_frame (bad, sequence, &payload, &len);
  GstBuffer *buf;
  GstMessage *msg;
  gint port = -1;

  tf_test_peer_send (cam, wire->data, wire->len);
  buf = tf_test_pull (h, WAIT_MS);
  tf_test_assert_buffer_equals (buf, payload, len);
  gst_buffer_unref (buf);

  /* Connected messages come in order, so this also shows that no earlier
   * peer was ever made current. */
  msg = tf_test_wait_message (h, "tcpframesrc-connected", WAIT_MS);
  fail_unless (msg != NULL, "no connected message for the good peer");
  fail_unless (gst_structure_get_int (gst_message_get_structure (msg),
          "port", &port));
  fail_unless_equals_int (port, cam->local_port);
  gst_message_unref (msg);

  g_byte_array_unref (wire);
  g_free (payload);
}

/* The whole story for one bad input.  With after_good_frame the bad peer
 * first streams one good frame, so it is current when it goes wrong;
 * otherwise its first frame is the bad one and it is still pending. */
static void
check_bad_input (BadInputId id, gboolean after_good_frame)
{
  const BadInput *bad = &bad_inputs[id];
  GstHarness *h = tf_test_src_new (bad->props);
  BusCounts *counts = watch_bus (h);
  TfTestPeer *cam = tf_test_peer_connect (tf_test_src_port (h));
  TfTestPeer *good;
  GByteArray *wire;
  guint frames = 0;

  if (after_good_frame) {
    stream_good_frame (h, bad, cam, 0);
    frames = 1;
  }
  fail_unless_equals_uint64 (tf_test_stat (h, "protocol-errors"), 0);

  wire = bad->build ();
  tf_test_peer_send (cam, wire->data, wire->len);
  g_byte_array_unref (wire);

  assert_dropped (h, cam, after_good_frame, frames, bad->keywords);
  tf_test_peer_free (cam);

  /* The next camera streams; its frame is the next buffer, so nothing of
   * the bad frame went downstream before it. */
  good = tf_test_peer_connect (tf_test_src_port (h));
  stream_good_frame (h, bad, good, 1);
  fail_unless_equals_uint64 (gst_harness_buffers_received (h), frames + 1);
  fail_unless (gst_harness_try_pull (h) == NULL);
  fail_unless_equals_uint64 (tf_test_stat (h, "frames"), frames + 1);
  fail_unless_equals_uint64 (tf_test_stat (h, "protocol-errors"), 1);

  assert_still_running (h, counts, 1);
  tf_test_peer_close (good);
  tf_test_src_free (h);
}

/* ---- pending peers: the bad frame is their first ---- */

GST_START_TEST (test_badinput_length_over_max)
{
  check_bad_input (LENGTH_OVER_MAX, FALSE);
}

GST_END_TEST;

GST_START_TEST (test_badinput_length_zero)
{
  check_bad_input (LENGTH_ZERO, FALSE);
}

GST_END_TEST;

GST_START_TEST (test_badinput_length_u64_max)
{
  check_bad_input (LENGTH_U64_MAX, FALSE);
}

GST_END_TEST;

GST_START_TEST (test_badinput_header_magic)
{
  check_bad_input (HEADER_MAGIC, FALSE);
}

GST_END_TEST;

GST_START_TEST (test_badinput_header_version)
{
  check_bad_input (HEADER_VERSION, FALSE);
}

GST_END_TEST;

GST_START_TEST (test_badinput_header_caps_unparsable)
{
  check_bad_input (HEADER_CAPS_UNPARSABLE, FALSE);
}

GST_END_TEST;

GST_START_TEST (test_badinput_header_caps_empty)
{
  check_bad_input (HEADER_CAPS_EMPTY, FALSE);
}

GST_END_TEST;

GST_START_TEST (test_badinput_header_size_mismatch)
{
  check_bad_input (HEADER_SIZE_MISMATCH, FALSE);
}

GST_END_TEST;

GST_START_TEST (test_badinput_header_no_caps)
{
  check_bad_input (HEADER_NO_CAPS, FALSE);
}

GST_END_TEST;

GST_START_TEST (test_badinput_header_over_max)
{
  check_bad_input (HEADER_OVER_MAX, FALSE);
}

GST_END_TEST;

GST_START_TEST (test_badinput_header_reserved_flags)
{
  check_bad_input (HEADER_RESERVED_FLAGS, FALSE);
}

GST_END_TEST;

GST_START_TEST (test_badinput_jpeg_too_large)
{
  check_bad_input (JPEG_TOO_LARGE, FALSE);
}

GST_END_TEST;

/* ---- current peers: one good frame, then the bad one ---- */

GST_START_TEST (test_badinput_current_length_over_max)
{
  check_bad_input (LENGTH_OVER_MAX, TRUE);
}

GST_END_TEST;

GST_START_TEST (test_badinput_current_header_magic)
{
  check_bad_input (HEADER_MAGIC, TRUE);
}

GST_END_TEST;

GST_START_TEST (test_badinput_current_header_caps_unparsable)
{
  check_bad_input (HEADER_CAPS_UNPARSABLE, TRUE);
}

GST_END_TEST;

GST_START_TEST (test_badinput_current_header_size_mismatch)
{
  check_bad_input (HEADER_SIZE_MISMATCH, TRUE);
}

GST_END_TEST;

GST_START_TEST (test_badinput_current_jpeg_too_large)
{
  check_bad_input (JPEG_TOO_LARGE, TRUE);
}

GST_END_TEST;

/* ---- memory ---- */

/* A "Vm...:" line of /proc/self/status, in bytes. */
static guint64
proc_status_bytes (const gchar * field)
{
  gchar *status = NULL, *key = g_strdup_printf ("\n%s:", field);
  const gchar *line;
  guint64 kib = 0;

  fail_unless (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  line = strstr (status, key);
  fail_unless (line != NULL, "no %s in /proc/self/status", field);
  fail_unless (sscanf (line + strlen (key), " %" G_GUINT64_FORMAT " kB",
          &kib) == 1);
  g_free (key);
  g_free (status);
  return kib * 1024;
}

GST_START_TEST (test_badinput_memory_declared_frames)
{
  /* 7680 x 8192 GRAY8 is 60 MiB a frame, under the default 64 MiB limit,
   * so these frames are legal: the element must still not commit memory
   * for bytes that never came. */
  static const gchar *caps =
      "video/x-raw,format=GRAY8,width=7680,height=8192,framerate=25/1";
  const guint32 declared = 7680 * 8192;
  const guint n_peers = 4;
  /* Long enough that nobody goes stale while we measure. */
  GstHarness *h = tf_test_src_new ("timeout=30000000000 max-pending=4");
  BusCounts *counts = watch_bus (h);
  TfTestPeer *peers[4];
  GByteArray *wire;
  guint64 before, after, vm_before, vm_after;
  guint i;

  /* meson test sets MALLOC_PERTURB_, so malloc writes every byte it hands
   * out: RSS here counts what the element allocates, not only what it
   * touches.  That is the point: an unproven peer's storage must grow with
   * its bytes, not with its claims. */

  fail_unless_equals_int (declared, 60 * MIB);
  wire = header_bytes (caps, declared, 1024);
  before = proc_status_bytes ("VmRSS");
  vm_before = proc_status_bytes ("VmSize");

  for (i = 0; i < n_peers; i++) {
    peers[i] = tf_test_peer_connect (tf_test_src_port (h));
    tf_test_peer_send (peers[i], wire->data, wire->len);
  }
  fail_unless (tf_test_wait_stat (h, "connections", n_peers, WAIT_MS),
      "the element did not accept all %u peers", n_peers);
  /* The element sees no end to these frames, so it keeps the peers; by
   * the time each has sat 200 ms the few bytes sent have long been read. */
  for (i = 0; i < n_peers; i++)
    fail_unless_equals_int (tf_test_peer_wait_end (peers[i], 200),
        TF_TEST_PEER_STILL_OPEN);
  fail_unless_equals_uint64 (tf_test_stat (h, "rejected"), 0);

  after = proc_status_bytes ("VmRSS");
  vm_after = proc_status_bytes ("VmSize");
  /* Address space is logged, not asserted: thread arenas and stacks move it
   * for reasons of their own. */
  GST_INFO ("VmRSS %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT " KiB, "
      "VmSize %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT " KiB",
      before / 1024, after / 1024, vm_before / 1024, vm_after / 1024);
  fail_unless (after < before + 16 * MIB,
      "%u peers that sent 1 KiB each grew RSS by %" G_GUINT64_FORMAT " KiB",
      n_peers, (after - before) / 1024);

  fail_unless_equals_uint64 (tf_test_stat (h, "protocol-errors"), 0);
  assert_still_running (h, counts, 0);
  for (i = 0; i < n_peers; i++)
    tf_test_peer_free (peers[i]);
  g_byte_array_unref (wire);
  tf_test_src_free (h);
}

GST_END_TEST;

/* ---- downstream refuses the peer's caps ---- */

GST_START_TEST (test_badinput_caps_refused_downstream)
{
  static const gchar *i420 =
      "video/x-raw,format=I420,width=8,height=8,framerate=25/1";
  GstHarness *h = tf_test_src_new (NULL);
  BusCounts *counts = watch_bus (h);
  TfTestPeer *gray, *good;
  guint8 *payload;
  GstCaps *caps, *expected;
  GstVideoInfo info;
  GstBuffer *buf;
  GstMessage *msg;
  GError *err = NULL;
  gchar *peer_name;
  GString *problems = g_string_new (NULL);
  guint64 frames_stat;

  /* A consumer that takes I420 only; the harness answers caps and
   * accept-caps queries from this. */
  gst_harness_set_sink_caps_str (h, "video/x-raw,format=I420");

  gray = tf_test_peer_connect (tf_test_src_port (h));
  payload = tf_test_payload (0, GRAY8_4x2_SIZE);
  tf_test_peer_send_header_frame (gray, GRAY8_4x2, payload, GRAY8_4x2_SIZE, 0);
  g_free (payload);

  msg = tf_test_wait_warning (h, WAIT_MS);
  fail_unless (msg != NULL, "no WARNING for the peer with refused caps "
      "(%d ERROR messages on the bus)", g_atomic_int_get (&counts->errors));
  gst_message_parse_warning (msg, &err, NULL);
  peer_name = g_strdup_printf ("127.0.0.1:%u", gray->local_port);
  assert_contains (err->message, peer_name, "the warning");
  assert_contains (err->message, "caps", "the warning");
  g_free (peer_name);
  g_error_free (err);
  gst_message_unref (msg);
  fail_unless_equals_int (tf_test_peer_wait_end (gray, WAIT_MS),
      TF_TEST_PEER_GOT_RESET);
  fail_unless_equals_uint64 (tf_test_stat (h, "protocol-errors"), 1);
  tf_test_peer_free (gray);

  /* A camera whose caps downstream takes streams normally. */
  caps = gst_caps_from_string (i420);
  fail_unless (gst_video_info_from_caps (&info, caps));
  good = tf_test_peer_connect (tf_test_src_port (h));
  payload = tf_test_payload (1, GST_VIDEO_INFO_SIZE (&info));
  tf_test_peer_send_header_frame (good, i420, payload,
      GST_VIDEO_INFO_SIZE (&info), 0);
  buf = tf_test_pull (h, WAIT_MS);
  tf_test_assert_buffer_equals (buf, payload, GST_VIDEO_INFO_SIZE (&info));
  gst_buffer_unref (buf);
  g_free (payload);
  expected = gst_pad_get_current_caps (h->sinkpad);
  fail_unless (expected != NULL && gst_caps_is_equal (expected, caps));
  gst_caps_unref (expected);
  gst_caps_unref (caps);
  fail_unless_equals_uint64 (gst_harness_buffers_received (h), 1);
  assert_still_running (h, counts, 1);

  /* The refused frame was the peer's first, so it was never current: it is
   * rejected with protocol-error, and neither the message nor the stats
   * count a frame that downstream never got.  Collected, so a failure
   * shows everything that is off at once. */
  msg = tf_test_wait_message (h, "tcpframesrc-rejected", 100);
  if (msg) {
    const GstStructure *s = gst_message_get_structure (msg);
    if (g_strcmp0 (gst_structure_get_string (s, "reason"),
            "protocol-error") != 0)
      g_string_append_printf (problems, "rejected with reason %s; ",
          gst_structure_get_string (s, "reason"));
    if (!gst_structure_get_string (s, "error"))
      g_string_append (problems, "rejected message without an error; ");
    gst_message_unref (msg);
  } else {
    msg = tf_test_wait_message (h, "tcpframesrc-disconnected", 100);
    if (msg) {
      gchar *str = gst_structure_to_string (gst_message_get_structure (msg));
      g_string_append_printf (problems, "got %s instead of a rejected "
          "message; ", str);
      g_free (str);
      gst_message_unref (msg);
    } else {
      g_string_append (problems, "no rejected message; ");
    }
  }
  frames_stat = tf_test_stat (h, "frames");
  if (frames_stat != 1)
    g_string_append_printf (problems, "stats frames is %" G_GUINT64_FORMAT
        " but 1 frame went downstream; ", frames_stat);
  fail_unless (problems->len == 0, "%s", problems->str);
  g_string_free (problems, TRUE);

  tf_test_peer_close (good);
  tf_test_src_free (h);
}

GST_END_TEST;

static Suite *
badinput_suite (void)
{
  Suite *s = suite_create ("badinput");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_badinput_length_over_max);
  tcase_add_test (tc, test_badinput_length_zero);
  tcase_add_test (tc, test_badinput_length_u64_max);
  tcase_add_test (tc, test_badinput_header_magic);
  tcase_add_test (tc, test_badinput_header_version);
  tcase_add_test (tc, test_badinput_header_caps_unparsable);
  tcase_add_test (tc, test_badinput_header_caps_empty);
  tcase_add_test (tc, test_badinput_header_size_mismatch);
  tcase_add_test (tc, test_badinput_header_no_caps);
  tcase_add_test (tc, test_badinput_header_over_max);
  tcase_add_test (tc, test_badinput_header_reserved_flags);
  tcase_add_test (tc, test_badinput_jpeg_too_large);
  tcase_add_test (tc, test_badinput_current_length_over_max);
  tcase_add_test (tc, test_badinput_current_header_magic);
  tcase_add_test (tc, test_badinput_current_header_caps_unparsable);
  tcase_add_test (tc, test_badinput_current_header_size_mismatch);
  tcase_add_test (tc, test_badinput_current_jpeg_too_large);
  tcase_add_test (tc, test_badinput_memory_declared_frames);
  tcase_add_test (tc, test_badinput_caps_refused_downstream);
  return s;
}

GST_CHECK_MAIN (badinput);
