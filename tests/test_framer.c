/* Unit tests for the tcpframe framers.
 *
 * Every stream is fed under several chunkings (one byte at a time, an odd
 * chunk size, and as much as the framer asks for), because a framer that
 * only works when reads line up with frame boundaries fails on a real
 * network.
 */
#include <gst/check/gstcheck.h>
#include <string.h>

#include "tf-framer.h"
#include "tf-testdata.h"

#define MAX_FRAME (1024 * 1024)

static const gsize chunkings[] = { 1, 7, G_MAXSIZE };

/* For the per-byte loop: a passing fail_unless() records a mark point,
 * which in fork mode is a write to a pipe, and that dominates the run
 * time with one-byte chunks. */
#define hot_assert(expr) G_STMT_START {                 \
  if (G_UNLIKELY (!(expr)))                             \
    fail_unless (expr, "%s", #expr);                    \
} G_STMT_END

typedef struct
{
  guint8 *data;
  gsize size;
  gchar *caps;
  gboolean has_sequence;
  guint32 sequence;
  guint64 timestamp;
  gsize ready_at;               /* input bytes consumed when it was ready */
} Frame;

typedef struct
{
  GPtrArray *frames;
  TfFramerStatus status;        /* WANT_BYTES at the end of input, or FAILED */
  gint error_code;              /* -1 without an error */
  gchar *error_message;
  gboolean in_frame;
  TfFramerCounters counters;
  guint buffers_requested;
  gsize max_want;               /* largest WANT_BYTES len seen */
} Feed;

static void
frame_free (gpointer data)
{
  Frame *fr = data;

  g_free (fr->data);
  g_free (fr->caps);
  g_free (fr);
}

static void
feed_free (Feed * r)
{
  g_ptr_array_unref (r->frames);
  g_free (r->error_message);
  g_free (r);
}

/* Runs a whole stream through a new framer, reading at most `chunk` bytes
 * per WANT_BYTES, and collects what comes out. */
static Feed *
feed_stream (const TfFramerConfig * config, const guint8 * data, gsize size,
    gsize chunk)
{
  TfFramer *f = tf_framer_new (config);
  Feed *r = g_new0 (Feed, 1);
  guint8 *mem = NULL;
  gsize pos = 0;
  guint64 polls = 0;

  fail_unless (f != NULL);
  r->frames = g_ptr_array_new_with_free_func (frame_free);
  r->error_code = -1;

  for (;;) {
    guint8 *dst = NULL;
    gsize len = 0;
    TfFramerStatus status = tf_framer_poll (f, &dst, &len);
    const TfFrameInfo *info;

    /* Every poll must lead somewhere: a framer that spins is a hang. */
    polls++;
    hot_assert (polls < 4 * (guint64) size + 100);

    if (status == TF_FRAMER_WANT_BYTES) {
      gsize n;

      hot_assert (dst != NULL);
      hot_assert (len > 0);
      r->max_want = MAX (r->max_want, len);
      if (pos == size) {
        r->status = status;
        break;
      }
      n = MIN (MIN (len, chunk), size - pos);
      memcpy (dst, data + pos, n);
      pos += n;
      tf_framer_advance (f, n);
    } else if (status == TF_FRAMER_WANT_BUFFER) {
      info = tf_framer_frame_info (f);
      fail_unless (info->size > 0);
      fail_unless (info->size <= config->max_frame_size);
      fail_unless (mem == NULL);
      r->buffers_requested++;
      mem = g_malloc (info->size);
      /* Stale bytes would show if the framer skipped part of the payload. */
      memset (mem, 0xa5, info->size);
      tf_framer_set_buffer (f, mem);
    } else if (status == TF_FRAMER_FRAME_READY) {
      Frame *fr = g_new0 (Frame, 1);
      gsize offset = G_MAXSIZE, alloc_size = G_MAXSIZE;
      guint8 *block;

      info = tf_framer_frame_info (f);
      fr->size = info->size;
      fr->caps = g_strdup (info->caps);
      fr->has_sequence = info->has_sequence;
      fr->sequence = info->sequence;
      fr->timestamp = info->timestamp;
      fr->ready_at = pos;
      fail_unless (fr->size > 0);
      fail_unless (fr->size <= config->max_frame_size);

      block = tf_framer_release_frame (f, &offset, &alloc_size);
      if (config->framing == TF_FRAMING_JPEG) {
        fail_unless (block != NULL);
        fail_unless (mem == NULL);
        fail_unless (offset <= alloc_size);
        fail_unless (fr->size <= alloc_size - offset);
        fr->data = g_memdup2 (block + offset, fr->size);
        g_free (block);
      } else {
        fail_unless (block == NULL);
        fail_unless (mem != NULL);
        fr->data = mem;
        mem = NULL;
      }
      g_ptr_array_add (r->frames, fr);
      fail_unless_equals_uint64 (tf_framer_get_counters (f)->frames,
          r->frames->len);
    } else {
      const GError *err = tf_framer_get_error (f);

      fail_unless_equals_int (status, TF_FRAMER_FAILED);
      fail_unless (err != NULL);
      fail_unless (err->domain == TF_FRAMER_ERROR);
      fail_unless (err->message != NULL && err->message[0] != '\0');
      r->status = status;
      r->error_code = err->code;
      r->error_message = g_strdup (err->message);
      /* Failed is final. */
      fail_unless_equals_int (tf_framer_poll (f, NULL, NULL),
          TF_FRAMER_FAILED);
      fail_unless (tf_framer_get_error (f) == err);
      break;
    }
  }

  r->in_frame = tf_framer_in_frame (f);
  r->counters = *tf_framer_get_counters (f);
  g_free (mem);
  tf_framer_free (f);
  return r;
}

static void
assert_frame_data (Feed * r, guint idx, const guint8 * data, gsize size)
{
  Frame *fr;

  fail_unless (idx < r->frames->len, "frame %u missing (%u frames)", idx,
      r->frames->len);
  fr = g_ptr_array_index (r->frames, idx);
  fail_unless_equals_uint64 (fr->size, size);
  fail_unless (memcmp (fr->data, data, size) == 0, "frame %u differs", idx);
}

static void
assert_clean_end (Feed * r, guint n_frames)
{
  fail_unless_equals_int (r->status, TF_FRAMER_WANT_BYTES);
  fail_unless_equals_int (r->error_code, -1);
  fail_unless_equals_int (r->frames->len, n_frames);
  fail_unless_equals_uint64 (r->counters.frames, n_frames);
  fail_unless (!r->in_frame);
}

/* Feeds the stream under every chunking and expects the same failure each
 * time, before any frame or buffer request. */
static void
assert_fails (const TfFramerConfig * config, const guint8 * data, gsize size,
    TfFramerErrorCode code, const gchar * message)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (chunkings); i++) {
    Feed *r = feed_stream (config, data, size, chunkings[i]);

    fail_unless_equals_int (r->status, TF_FRAMER_FAILED);
    fail_unless_equals_int (r->error_code, code);
    if (message)
      fail_unless_equals_string (r->error_message, message);
    fail_unless_equals_int (r->frames->len, 0);
    fail_unless_equals_int (r->buffers_requested, 0);
    feed_free (r);
  }
}

static void
append_header_frame (GByteArray * ba, const gchar * caps,
    const guint8 * payload, guint32 payload_len, guint32 sequence,
    guint64 timestamp)
{
  guint8 h[TF_HEADER_SIZE];
  gsize caps_len = caps ? strlen (caps) : 0;

  tf_header_write (h, caps_len, payload_len, sequence, timestamp);
  g_byte_array_append (ba, h, sizeof (h));
  if (caps_len)
    g_byte_array_append (ba, (const guint8 *) caps, caps_len);
  g_byte_array_append (ba, payload, payload_len);
}

static TfFramerConfig
header_config (guint64 max)
{
  TfFramerConfig c = { TF_FRAMING_HEADER, 0, 0, max };
  return c;
}

static TfFramerConfig
jpeg_config (guint64 max)
{
  TfFramerConfig c = { TF_FRAMING_JPEG, 0, 0, max };
  return c;
}

/* --- synthetic JPEGs: valid marker structure, not decodable --- */

static void
jpeg_marker (GByteArray * ba, guint8 code)
{
  guint8 m[2] = { 0xff, code };

  g_byte_array_append (ba, m, 2);
}

static void
jpeg_segment (GByteArray * ba, guint8 code, const guint8 * body, gsize len)
{
  guint8 h[4] = { 0xff, code, (len + 2) >> 8, (len + 2) & 0xff };

  g_byte_array_append (ba, h, 4);
  g_byte_array_append (ba, body, len);
}

static void
jpeg_frame_header (GByteArray * ba, guint8 sof)
{
  static const guint8 app0[] = { 'J', 'F', 'I', 'F', 0, 1, 2, 0, 0, 1, 0, 1,
    0, 0
  };
  static const guint8 sof0[] = { 8, 0, 16, 0, 16, 1, 1, 0x11, 0 };
  static const guint8 dht[] = { 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0x05
  };

  jpeg_marker (ba, 0xd8);
  jpeg_segment (ba, 0xe0, app0, sizeof (app0));
  jpeg_segment (ba, sof, sof0, sizeof (sof0));
  jpeg_segment (ba, 0xc4, dht, sizeof (dht));
}

static void
jpeg_scan (GByteArray * ba, const guint8 * entropy, gsize len)
{
  static const guint8 sos[] = { 1, 1, 0x00, 0, 63, 0 };

  jpeg_segment (ba, 0xda, sos, sizeof (sos));
  g_byte_array_append (ba, entropy, len);
}

/* A small baseline image; `seed` varies its entropy bytes. */
static GByteArray *
jpeg_simple (guint seed)
{
  GByteArray *ba = g_byte_array_new ();
  guint8 entropy[40];
  guint i;

  for (i = 0; i < sizeof (entropy); i++)
    entropy[i] = (i * 13 + seed) % 0xfe;        /* no FF */
  jpeg_frame_header (ba, 0xc0);
  jpeg_scan (ba, entropy, sizeof (entropy));
  jpeg_marker (ba, 0xd9);
  return ba;
}

/* An image whose entropy data is `size` bytes without FF. */
static GByteArray *
jpeg_with_entropy_size (gsize size)
{
  GByteArray *ba = g_byte_array_new ();
  guint8 *entropy = g_malloc (size);
  gsize i;

  for (i = 0; i < size; i++)
    entropy[i] = (i * 7 + (i >> 9)) % 0xff;
  jpeg_frame_header (ba, 0xc0);
  jpeg_scan (ba, entropy, size);
  jpeg_marker (ba, 0xd9);
  g_free (entropy);
  return ba;
}

/* Feeds a jpeg stream under every chunking and expects exactly the given
 * images and skipped byte count. */
static void
assert_jpeg_stream (const guint8 * data, gsize size, GByteArray ** images,
    guint n_images, guint64 skipped, guint64 max)
{
  TfFramerConfig config = jpeg_config (max);
  guint i, k;

  for (i = 0; i < G_N_ELEMENTS (chunkings); i++) {
    Feed *r = feed_stream (&config, data, size, chunkings[i]);

    assert_clean_end (r, n_images);
    for (k = 0; k < n_images; k++) {
      Frame *fr;

      assert_frame_data (r, k, images[k]->data, images[k]->len);
      fr = g_ptr_array_index (r->frames, k);
      fail_unless (fr->caps == NULL);
      fail_unless (!fr->has_sequence);
      fail_unless_equals_uint64 (fr->timestamp, TF_TIMESTAMP_NONE);
    }
    fail_unless_equals_uint64 (r->counters.skipped_bytes, skipped);
    feed_free (r);
  }
}

static void
assert_single_jpeg (GByteArray * img)
{
  assert_jpeg_stream (img->data, img->len, &img, 1, 0, MAX_FRAME);
}

/* --- helpers --- */

GST_START_TEST (test_framer_helpers_length_write)
{
  guint8 out[8];
  static const guint8 u16be[] = { 0x01, 0x02 };
  static const guint8 u16le[] = { 0x02, 0x01 };
  static const guint8 u32be[] = { 0x01, 0x02, 0x03, 0x04 };
  static const guint8 u32le[] = { 0x04, 0x03, 0x02, 0x01 };
  static const guint8 u64be[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
  static const guint8 u64le[] = { 8, 7, 6, 5, 4, 3, 2, 1 };

  fail_unless_equals_int (tf_length_format_width (TF_LENGTH_FORMAT_U16BE), 2);
  fail_unless_equals_int (tf_length_format_width (TF_LENGTH_FORMAT_U16LE), 2);
  fail_unless_equals_int (tf_length_format_width (TF_LENGTH_FORMAT_U32BE), 4);
  fail_unless_equals_int (tf_length_format_width (TF_LENGTH_FORMAT_U32LE), 4);
  fail_unless_equals_int (tf_length_format_width (TF_LENGTH_FORMAT_U64BE), 8);
  fail_unless_equals_int (tf_length_format_width (TF_LENGTH_FORMAT_U64LE), 8);

  tf_length_write (TF_LENGTH_FORMAT_U16BE, 0x0102, out);
  fail_unless (memcmp (out, u16be, 2) == 0);
  tf_length_write (TF_LENGTH_FORMAT_U16LE, 0x0102, out);
  fail_unless (memcmp (out, u16le, 2) == 0);
  tf_length_write (TF_LENGTH_FORMAT_U32BE, 0x01020304, out);
  fail_unless (memcmp (out, u32be, 4) == 0);
  tf_length_write (TF_LENGTH_FORMAT_U32LE, 0x01020304, out);
  fail_unless (memcmp (out, u32le, 4) == 0);
  tf_length_write (TF_LENGTH_FORMAT_U64BE,
      G_GUINT64_CONSTANT (0x0102030405060708), out);
  fail_unless (memcmp (out, u64be, 8) == 0);
  tf_length_write (TF_LENGTH_FORMAT_U64LE,
      G_GUINT64_CONSTANT (0x0102030405060708), out);
  fail_unless (memcmp (out, u64le, 8) == 0);
}

GST_END_TEST;

GST_START_TEST (test_framer_helpers_header_write)
{
  guint8 h[TF_HEADER_SIZE];
  static const guint8 with_caps[TF_HEADER_SIZE] = {
    'T', 'F', 'R', 'M', 1, 0x01, 0x01, 0x02,
    0x0a, 0x0b, 0x0c, 0x0d, 0xde, 0xad, 0xbe, 0xef,
    0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06
  };
  static const guint8 without_caps[TF_HEADER_SIZE] = {
    'T', 'F', 'R', 'M', 1, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
  };

  tf_header_write (h, 0x0102, 0x0a0b0c0d, 0xdeadbeef,
      G_GUINT64_CONSTANT (0x010203040506));
  fail_unless (memcmp (h, with_caps, TF_HEADER_SIZE) == 0);
  tf_header_write (h, 0, 1, 0, TF_TIMESTAMP_NONE);
  fail_unless (memcmp (h, without_caps, TF_HEADER_SIZE) == 0);

  fail_unless_equals_string (g_quark_to_string (TF_FRAMER_ERROR),
      "tf-framer-error-quark");
}

GST_END_TEST;

/* --- raw --- */

GST_START_TEST (test_framer_raw_frames_chunked)
{
  TfFramerConfig config = { TF_FRAMING_RAW, 5, 0, 100 };
  guint8 *stream = tf_test_pattern (5 * 4 + 3, 1);
  guint i, k;

  for (i = 0; i < G_N_ELEMENTS (chunkings); i++) {
    Feed *r = feed_stream (&config, stream, 5 * 4 + 3, chunkings[i]);

    fail_unless_equals_int (r->status, TF_FRAMER_WANT_BYTES);
    fail_unless_equals_int (r->frames->len, 4);
    for (k = 0; k < 4; k++) {
      Frame *fr = g_ptr_array_index (r->frames, k);

      assert_frame_data (r, k, stream + 5 * k, 5);
      fail_unless (fr->caps == NULL);
      fail_unless (!fr->has_sequence);
      fail_unless_equals_uint64 (fr->timestamp, TF_TIMESTAMP_NONE);
    }
    /* three bytes of a fifth frame are held */
    fail_unless (r->in_frame);
    feed_free (r);
  }
  g_free (stream);
}

GST_END_TEST;

/* Storage that grows as bytes arrive: the framer asks again when it is
 * full, keeps its position, and only ever writes within what it was given. */
GST_START_TEST (test_framer_partial_storage_grows)
{
  TfFramerConfig config = { TF_FRAMING_RAW, 1000, 0, 2000 };
  TfFramer *f = tf_framer_new (&config);
  guint8 *stream = tf_test_pattern (1000, 3);
  guint8 *mem = NULL;
  gsize cap = 0, fed = 0, offset, alloc;
  guint asks = 0;

  for (;;) {
    guint8 *dst;
    gsize len;
    TfFramerStatus st = tf_framer_poll (f, &dst, &len);

    if (st == TF_FRAMER_FRAME_READY)
      break;
    if (st == TF_FRAMER_WANT_BUFFER) {
      fail_unless_equals_uint64 (tf_framer_payload_received (f), cap);
      cap = MIN (1000, cap ? cap * 2 : 100);
      mem = g_realloc (mem, cap);
      tf_framer_set_buffer_partial (f, mem, cap);
      asks++;
      continue;
    }
    fail_unless_equals_int (st, TF_FRAMER_WANT_BYTES);
    /* Never offered past the storage given so far. */
    fail_unless (dst >= mem && dst + len <= mem + cap);
    len = MIN (len, 37);
    memcpy (dst, stream + fed, len);
    fed += len;
    tf_framer_advance (f, len);
  }
  /* 100, 200, 400, 800, 1000 */
  fail_unless_equals_int (asks, 5);
  fail_unless_equals_uint64 (fed, 1000);
  fail_unless (memcmp (mem, stream, 1000) == 0);
  fail_unless (tf_framer_release_frame (f, &offset, &alloc) == NULL);
  g_free (mem);
  g_free (stream);
  tf_framer_free (f);
}

GST_END_TEST;

GST_START_TEST (test_framer_raw_too_large)
{
  TfFramerConfig config = { TF_FRAMING_RAW, 101, 0, 100 };
  TfFramer *f = tf_framer_new (&config);
  const GError *err;

  fail_unless_equals_int (tf_framer_poll (f, NULL, NULL), TF_FRAMER_FAILED);
  err = tf_framer_get_error (f);
  fail_unless (g_error_matches (err, TF_FRAMER_ERROR,
          TF_FRAMER_ERROR_TOO_LARGE));
  fail_unless_equals_string (err->message,
      "frame-size 101 exceeds max-frame-size 100");
  fail_unless (!tf_framer_in_frame (f));
  tf_framer_free (f);

  /* exactly max is fine */
  config.frame_size = 100;
  f = tf_framer_new (&config);
  fail_unless_equals_int (tf_framer_poll (f, NULL, NULL),
      TF_FRAMER_WANT_BUFFER);
  fail_unless_equals_uint64 (tf_framer_frame_info (f)->size, 100);
  tf_framer_free (f);
}

GST_END_TEST;

/* --- length --- */

GST_START_TEST (test_framer_length_all_formats)
{
  static const guint sizes[] = { 1, 3, 300, 255, 65535, 70000 };
  TfLengthFormat fmt;

  for (fmt = TF_LENGTH_FORMAT_U16BE; fmt <= TF_LENGTH_FORMAT_U64LE; fmt++) {
    TfFramerConfig config = { TF_FRAMING_LENGTH, 0, fmt, MAX_FRAME };
    guint width = tf_length_format_width (fmt);
    GByteArray *ba = g_byte_array_new ();
    GPtrArray *payloads = g_ptr_array_new_with_free_func (g_free);
    guint n = 0, i, k;

    for (k = 0; k < G_N_ELEMENTS (sizes); k++) {
      guint8 prefix[8];
      guint8 *p;

      if (width == 2 && sizes[k] > G_MAXUINT16)
        continue;
      p = tf_test_pattern (sizes[k], k);
      tf_length_write (fmt, sizes[k], prefix);
      g_byte_array_append (ba, prefix, width);
      g_byte_array_append (ba, p, sizes[k]);
      g_ptr_array_add (payloads, p);
      n++;
    }

    for (i = 0; i < G_N_ELEMENTS (chunkings); i++) {
      Feed *r = feed_stream (&config, ba->data, ba->len, chunkings[i]);
      guint idx = 0;

      assert_clean_end (r, n);
      for (k = 0; k < G_N_ELEMENTS (sizes); k++) {
        if (width == 2 && sizes[k] > G_MAXUINT16)
          continue;
        assert_frame_data (r, idx, g_ptr_array_index (payloads, idx),
            sizes[k]);
        idx++;
      }
      feed_free (r);
    }
    g_ptr_array_unref (payloads);
    g_byte_array_unref (ba);
  }
}

GST_END_TEST;

GST_START_TEST (test_framer_length_zero_is_empty)
{
  TfLengthFormat fmt;

  for (fmt = TF_LENGTH_FORMAT_U16BE; fmt <= TF_LENGTH_FORMAT_U64LE; fmt++) {
    TfFramerConfig config = { TF_FRAMING_LENGTH, 0, fmt, MAX_FRAME };
    guint8 stream[16] = { 0 };

    stream[8] = 0x42;
    assert_fails (&config, stream, sizeof (stream), TF_FRAMER_ERROR_EMPTY,
        "frame length 0: empty frames are not allowed");
  }
}

GST_END_TEST;

GST_START_TEST (test_framer_length_too_large)
{
  TfFramerConfig config = { TF_FRAMING_LENGTH, 0, TF_LENGTH_FORMAT_U64BE,
    67108864
  };
  guint8 stream[8 + 16] = { 0 };
  TfFramer *f;

  tf_length_write (TF_LENGTH_FORMAT_U64BE, G_GUINT64_CONSTANT (4294967296),
      stream);
  assert_fails (&config, stream, sizeof (stream), TF_FRAMER_ERROR_TOO_LARGE,
      "frame length 4294967296 exceeds max-frame-size 67108864");

  /* one over, in a 16-bit prefix */
  config.length_format = TF_LENGTH_FORMAT_U16LE;
  config.max_frame_size = 1000;
  tf_length_write (TF_LENGTH_FORMAT_U16LE, 1001, stream);
  assert_fails (&config, stream, sizeof (stream), TF_FRAMER_ERROR_TOO_LARGE,
      "frame length 1001 exceeds max-frame-size 1000");

  /* exactly max asks for a buffer */
  tf_length_write (TF_LENGTH_FORMAT_U16LE, 1000, stream);
  f = tf_framer_new (&config);
  {
    guint8 *dst;
    gsize len;

    fail_unless_equals_int (tf_framer_poll (f, &dst, &len),
        TF_FRAMER_WANT_BYTES);
    fail_unless_equals_uint64 (len, 2);
    memcpy (dst, stream, 2);
    tf_framer_advance (f, 2);
    fail_unless_equals_int (tf_framer_poll (f, &dst, &len),
        TF_FRAMER_WANT_BUFFER);
    fail_unless_equals_uint64 (tf_framer_frame_info (f)->size, 1000);
  }
  tf_framer_free (f);
}

GST_END_TEST;

GST_START_TEST (test_framer_length_max_u64)
{
  TfFramerConfig config = { TF_FRAMING_LENGTH, 0, TF_LENGTH_FORMAT_U64BE,
    MAX_FRAME
  };
  guint8 stream[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

  assert_fails (&config, stream, sizeof (stream), TF_FRAMER_ERROR_TOO_LARGE,
      "frame length 18446744073709551615 exceeds max-frame-size 1048576");
  config.length_format = TF_LENGTH_FORMAT_U64LE;
  assert_fails (&config, stream, sizeof (stream), TF_FRAMER_ERROR_TOO_LARGE,
      "frame length 18446744073709551615 exceeds max-frame-size 1048576");

  /* even a max just below it does not overflow anything */
  config.max_frame_size = G_MAXUINT64 - 1;
  assert_fails (&config, stream, sizeof (stream), TF_FRAMER_ERROR_TOO_LARGE,
      NULL);
}

GST_END_TEST;

/* The prefix must be read alone: an over-read would put payload bytes in
 * the framer's scratch instead of the caller's buffer. */
GST_START_TEST (test_framer_length_no_overread)
{
  TfFramerConfig config = { TF_FRAMING_LENGTH, 0, TF_LENGTH_FORMAT_U32BE,
    MAX_FRAME
  };
  TfFramer *f = tf_framer_new (&config);
  guint8 *dst, *mem;
  gsize len;

  fail_unless (!tf_framer_in_frame (f));
  fail_unless_equals_int (tf_framer_poll (f, &dst, &len),
      TF_FRAMER_WANT_BYTES);
  fail_unless_equals_uint64 (len, 4);
  dst[0] = 0;
  tf_framer_advance (f, 1);
  fail_unless (tf_framer_in_frame (f));
  fail_unless_equals_int (tf_framer_poll (f, &dst, &len),
      TF_FRAMER_WANT_BYTES);
  fail_unless_equals_uint64 (len, 3);
  dst[0] = 0;
  dst[1] = 0;
  dst[2] = 10;
  tf_framer_advance (f, 3);
  fail_unless_equals_int (tf_framer_poll (f, &dst, &len),
      TF_FRAMER_WANT_BUFFER);
  fail_unless_equals_uint64 (tf_framer_frame_info (f)->size, 10);
  fail_unless (tf_framer_in_frame (f));

  mem = g_malloc (10);
  tf_framer_set_buffer (f, mem);
  fail_unless_equals_int (tf_framer_poll (f, &dst, &len),
      TF_FRAMER_WANT_BYTES);
  fail_unless (dst == mem);
  fail_unless_equals_uint64 (len, 10);
  memset (dst, 1, 4);
  tf_framer_advance (f, 4);
  fail_unless_equals_int (tf_framer_poll (f, &dst, &len),
      TF_FRAMER_WANT_BYTES);
  fail_unless (dst == mem + 4);
  fail_unless_equals_uint64 (len, 6);
  memset (dst, 2, 6);
  tf_framer_advance (f, 6);
  fail_unless_equals_int (tf_framer_poll (f, NULL, NULL),
      TF_FRAMER_FRAME_READY);
  fail_unless (tf_framer_release_frame (f, NULL, NULL) == NULL);
  fail_unless (!tf_framer_in_frame (f));
  fail_unless_equals_uint64 (tf_framer_get_counters (f)->frames, 1);
  fail_unless_equals_int (tf_framer_poll (f, &dst, &len),
      TF_FRAMER_WANT_BYTES);
  fail_unless_equals_uint64 (len, 4);

  g_free (mem);
  tf_framer_free (f);
}

GST_END_TEST;

/* --- header --- */

#define CAPS_A "video/x-raw,format=GRAY8,width=4,height=2,framerate=0/1"
#define CAPS_B "video/x-raw,format=RGB,width=320,height=240,framerate=30/1," \
  "title=(string)\"caf\xc3\xa9\""
#define CAPS_C "image/jpeg"

GST_START_TEST (test_framer_header_caps_then_none)
{
  TfFramerConfig config = header_config (MAX_FRAME);
  GByteArray *ba = g_byte_array_new ();
  guint8 *p1 = tf_test_pattern (8, 1), *p2 = tf_test_pattern (300, 2);
  guint i;

  append_header_frame (ba, CAPS_A, p1, 8, 0, 1000);
  append_header_frame (ba, NULL, p2, 300, 1, 2000);

  for (i = 0; i < G_N_ELEMENTS (chunkings); i++) {
    Feed *r = feed_stream (&config, ba->data, ba->len, chunkings[i]);
    Frame *fr;

    assert_clean_end (r, 2);
    assert_frame_data (r, 0, p1, 8);
    assert_frame_data (r, 1, p2, 300);
    fr = g_ptr_array_index (r->frames, 0);
    fail_unless_equals_string (fr->caps, CAPS_A);
    fail_unless (fr->has_sequence);
    fail_unless_equals_int (fr->sequence, 0);
    fail_unless_equals_uint64 (fr->timestamp, 1000);
    fr = g_ptr_array_index (r->frames, 1);
    fail_unless (fr->caps == NULL);
    fail_unless (fr->has_sequence);
    fail_unless_equals_int (fr->sequence, 1);
    fail_unless_equals_uint64 (fr->timestamp, 2000);
    fail_unless_equals_uint64 (r->counters.sequence_gaps, 0);
    feed_free (r);
  }
  g_free (p1);
  g_free (p2);
  g_byte_array_unref (ba);
}

GST_END_TEST;

/* A shorter caps string after a longer one must not keep the old tail. */
GST_START_TEST (test_framer_header_caps_change)
{
  TfFramerConfig config = header_config (MAX_FRAME);
  GByteArray *ba = g_byte_array_new ();
  static const gchar *caps[] = { CAPS_A, NULL, CAPS_B, CAPS_C, CAPS_C };
  guint8 *p[G_N_ELEMENTS (caps)];
  guint i, k;

  for (k = 0; k < G_N_ELEMENTS (caps); k++) {
    p[k] = tf_test_pattern (10 + k, k);
    append_header_frame (ba, caps[k], p[k], 10 + k, k, k);
  }

  for (i = 0; i < G_N_ELEMENTS (chunkings); i++) {
    Feed *r = feed_stream (&config, ba->data, ba->len, chunkings[i]);

    assert_clean_end (r, G_N_ELEMENTS (caps));
    for (k = 0; k < G_N_ELEMENTS (caps); k++) {
      Frame *fr = g_ptr_array_index (r->frames, k);

      assert_frame_data (r, k, p[k], 10 + k);
      fail_unless_equals_string (fr->caps, caps[k]);
    }
    feed_free (r);
  }
  for (k = 0; k < G_N_ELEMENTS (caps); k++)
    g_free (p[k]);
  g_byte_array_unref (ba);
}

GST_END_TEST;

GST_START_TEST (test_framer_header_sequence_gaps)
{
  TfFramerConfig config = header_config (MAX_FRAME);
  /* gaps: 7->9, 10->20, 21->G_MAXUINT32; the wrap to 0 is not one */
  static const guint32 seqs[] = { 5, 6, 7, 9, 10, 20, 21, G_MAXUINT32, 0, 1 };
  GByteArray *ba = g_byte_array_new ();
  guint8 payload[3] = { 1, 2, 3 };
  guint i, k;

  for (k = 0; k < G_N_ELEMENTS (seqs); k++)
    append_header_frame (ba, NULL, payload, 3, seqs[k], TF_TIMESTAMP_NONE);

  for (i = 0; i < G_N_ELEMENTS (chunkings); i++) {
    Feed *r = feed_stream (&config, ba->data, ba->len, chunkings[i]);

    assert_clean_end (r, G_N_ELEMENTS (seqs));
    for (k = 0; k < G_N_ELEMENTS (seqs); k++) {
      Frame *fr = g_ptr_array_index (r->frames, k);

      fail_unless_equals_uint64 (fr->sequence, seqs[k]);
    }
    fail_unless_equals_uint64 (r->counters.sequence_gaps, 3);
    feed_free (r);
  }
  g_byte_array_unref (ba);

  /* the first frame of a framer is never a gap, whatever its number */
  ba = g_byte_array_new ();
  append_header_frame (ba, NULL, payload, 3, 12345, 0);
  {
    Feed *r = feed_stream (&config, ba->data, ba->len, G_MAXSIZE);

    assert_clean_end (r, 1);
    fail_unless_equals_uint64 (r->counters.sequence_gaps, 0);
    feed_free (r);
  }
  g_byte_array_unref (ba);
}

GST_END_TEST;

GST_START_TEST (test_framer_header_timestamp)
{
  TfFramerConfig config = header_config (MAX_FRAME);
  static const guint64 ts[] = { TF_TIMESTAMP_NONE, 0,
    G_GUINT64_CONSTANT (1234567890123456789), G_MAXUINT64 - 1
  };
  GByteArray *ba = g_byte_array_new ();
  guint8 payload[1] = { 9 };
  guint i, k;

  for (k = 0; k < G_N_ELEMENTS (ts); k++)
    append_header_frame (ba, NULL, payload, 1, k, ts[k]);

  for (i = 0; i < G_N_ELEMENTS (chunkings); i++) {
    Feed *r = feed_stream (&config, ba->data, ba->len, chunkings[i]);

    assert_clean_end (r, G_N_ELEMENTS (ts));
    for (k = 0; k < G_N_ELEMENTS (ts); k++) {
      Frame *fr = g_ptr_array_index (r->frames, k);

      fail_unless_equals_uint64 (fr->timestamp, ts[k]);
    }
    feed_free (r);
  }
  g_byte_array_unref (ba);
}

GST_END_TEST;

/* A valid frame with caps, for the error tests to corrupt. */
static GByteArray *
header_frame_to_corrupt (const gchar * caps, guint32 payload_len)
{
  GByteArray *ba = g_byte_array_new ();
  guint8 *p = tf_test_pattern (payload_len ? payload_len : 1, 3);

  append_header_frame (ba, caps, p, payload_len, 1, 0);
  /* so a framer that ignored the error would have bytes to go on with */
  g_byte_array_append (ba, p, payload_len ? payload_len : 1);
  g_free (p);
  return ba;
}

GST_START_TEST (test_framer_header_bad_magic)
{
  TfFramerConfig config = header_config (MAX_FRAME);
  GByteArray *ba = header_frame_to_corrupt (CAPS_A, 16);

  memcpy (ba->data, "ABCD", 4);
  assert_fails (&config, ba->data, ba->len, TF_FRAMER_ERROR_BAD_MAGIC,
      "bad magic 0x41424344, expected \"TFRM\"");
  ba->data[0] = 'T';
  ba->data[1] = 'F';
  ba->data[2] = 'R';
  ba->data[3] = 'm';
  assert_fails (&config, ba->data, ba->len, TF_FRAMER_ERROR_BAD_MAGIC,
      "bad magic 0x5446526d, expected \"TFRM\"");
  g_byte_array_unref (ba);
}

GST_END_TEST;

GST_START_TEST (test_framer_header_bad_version)
{
  TfFramerConfig config = header_config (MAX_FRAME);
  GByteArray *ba = header_frame_to_corrupt (CAPS_A, 16);

  ba->data[4] = 7;
  assert_fails (&config, ba->data, ba->len, TF_FRAMER_ERROR_BAD_VERSION,
      "unknown header version 7");
  ba->data[4] = 0;
  assert_fails (&config, ba->data, ba->len, TF_FRAMER_ERROR_BAD_VERSION,
      "unknown header version 0");
  g_byte_array_unref (ba);
}

GST_END_TEST;

GST_START_TEST (test_framer_header_bad_flags)
{
  TfFramerConfig config = header_config (MAX_FRAME);
  GByteArray *ba = header_frame_to_corrupt (CAPS_A, 16);
  GByteArray *no_caps = header_frame_to_corrupt (NULL, 16);
  guint bit;

  /* every reserved bit, with and without the caps flag */
  for (bit = 1; bit < 8; bit++) {
    ba->data[5] = TF_HEADER_FLAG_CAPS | (1 << bit);
    assert_fails (&config, ba->data, ba->len, TF_FRAMER_ERROR_BAD_FLAGS,
        NULL);
    no_caps->data[5] = 1 << bit;
    assert_fails (&config, no_caps->data, no_caps->len,
        TF_FRAMER_ERROR_BAD_FLAGS, NULL);
  }
  ba->data[5] = 0x80 | TF_HEADER_FLAG_CAPS;
  assert_fails (&config, ba->data, ba->len, TF_FRAMER_ERROR_BAD_FLAGS,
      "reserved header flags 0x80 set");

  /* caps length without the caps flag */
  ba->data[5] = 0;
  assert_fails (&config, ba->data, ba->len, TF_FRAMER_ERROR_BAD_FLAGS,
      "caps length 55 without the caps flag");

  g_byte_array_unref (ba);
  g_byte_array_unref (no_caps);
}

GST_END_TEST;

GST_START_TEST (test_framer_header_empty_caps)
{
  TfFramerConfig config = header_config (MAX_FRAME);
  GByteArray *ba = header_frame_to_corrupt (NULL, 16);

  ba->data[5] = TF_HEADER_FLAG_CAPS;
  assert_fails (&config, ba->data, ba->len, TF_FRAMER_ERROR_BAD_CAPS,
      "caps flag set but the caps string is empty");
  g_byte_array_unref (ba);
}

GST_END_TEST;

GST_START_TEST (test_framer_header_caps_with_nul)
{
  TfFramerConfig config = header_config (MAX_FRAME);
  GByteArray *ba = header_frame_to_corrupt (CAPS_C, 16);

  /* "image/jpeg" -> "image\0jpeg" */
  ba->data[TF_HEADER_SIZE + 5] = '\0';
  assert_fails (&config, ba->data, ba->len, TF_FRAMER_ERROR_BAD_CAPS,
      "caps string contains a NUL byte at offset 5");
  /* a trailing NUL, as a C sender might add, is refused too */
  ba->data[TF_HEADER_SIZE + 5] = '/';
  ba->data[TF_HEADER_SIZE + 9] = '\0';
  assert_fails (&config, ba->data, ba->len, TF_FRAMER_ERROR_BAD_CAPS,
      "caps string contains a NUL byte at offset 9");
  g_byte_array_unref (ba);
}

GST_END_TEST;

GST_START_TEST (test_framer_header_caps_bad_utf8)
{
  TfFramerConfig config = header_config (MAX_FRAME);
  GByteArray *ba = header_frame_to_corrupt ("image/jpeg,x=\xc3\xa9", 16);

  /* a truncated two-byte sequence */
  ba->data[TF_HEADER_SIZE + 14] = 'e';
  assert_fails (&config, ba->data, ba->len, TF_FRAMER_ERROR_BAD_CAPS,
      "caps string is not valid UTF-8 (at offset 13)");
  /* a byte that is never UTF-8 */
  ba->data[TF_HEADER_SIZE + 13] = 0xff;
  assert_fails (&config, ba->data, ba->len, TF_FRAMER_ERROR_BAD_CAPS, NULL);
  g_byte_array_unref (ba);
}

GST_END_TEST;

GST_START_TEST (test_framer_header_payload_empty)
{
  TfFramerConfig config = header_config (MAX_FRAME);
  GByteArray *ba = header_frame_to_corrupt (CAPS_A, 0);
  GByteArray *no_caps = header_frame_to_corrupt (NULL, 0);

  assert_fails (&config, ba->data, ba->len, TF_FRAMER_ERROR_EMPTY,
      "payload length 0: empty frames are not allowed");
  assert_fails (&config, no_caps->data, no_caps->len, TF_FRAMER_ERROR_EMPTY,
      "payload length 0: empty frames are not allowed");
  g_byte_array_unref (ba);
  g_byte_array_unref (no_caps);
}

GST_END_TEST;

GST_START_TEST (test_framer_header_payload_too_large)
{
  TfFramerConfig config = header_config (1000);
  GByteArray *ba = header_frame_to_corrupt (CAPS_A, 1001);
  guint8 max_len[TF_HEADER_SIZE];

  assert_fails (&config, ba->data, ba->len, TF_FRAMER_ERROR_TOO_LARGE,
      "payload length 1001 exceeds max-frame-size 1000");

  tf_header_write (max_len, 0, G_MAXUINT32, 0, 0);
  assert_fails (&config, max_len, sizeof (max_len),
      TF_FRAMER_ERROR_TOO_LARGE,
      "payload length 4294967295 exceeds max-frame-size 1000");
  g_byte_array_unref (ba);
}

GST_END_TEST;

/* The header, then the caps, must each be read without touching the bytes
 * after them, and a partial header already counts as being in a frame. */
GST_START_TEST (test_framer_header_no_overread)
{
  TfFramerConfig config = header_config (MAX_FRAME);
  GByteArray *ba = g_byte_array_new ();
  guint8 payload[5] = { 1, 2, 3, 4, 5 };
  guint8 *dst, *mem;
  gsize len, pos = 0;
  TfFramer *f = tf_framer_new (&config);
  const TfFrameInfo *info;

  append_header_frame (ba, CAPS_C, payload, 5, 42, 77);

  fail_unless (!tf_framer_in_frame (f));
  fail_unless_equals_int (tf_framer_poll (f, &dst, &len),
      TF_FRAMER_WANT_BYTES);
  fail_unless_equals_uint64 (len, TF_HEADER_SIZE);
  memcpy (dst, ba->data + pos, 10);
  pos += 10;
  tf_framer_advance (f, 10);
  fail_unless (tf_framer_in_frame (f));
  fail_unless_equals_int (tf_framer_poll (f, &dst, &len),
      TF_FRAMER_WANT_BYTES);
  fail_unless_equals_uint64 (len, TF_HEADER_SIZE - 10);
  memcpy (dst, ba->data + pos, len);
  pos += len;
  tf_framer_advance (f, len);

  /* the caps string, alone */
  fail_unless_equals_int (tf_framer_poll (f, &dst, &len),
      TF_FRAMER_WANT_BYTES);
  fail_unless_equals_uint64 (len, strlen (CAPS_C));
  memcpy (dst, ba->data + pos, 3);
  pos += 3;
  tf_framer_advance (f, 3);
  fail_unless (tf_framer_in_frame (f));
  fail_unless_equals_int (tf_framer_poll (f, &dst, &len),
      TF_FRAMER_WANT_BYTES);
  fail_unless_equals_uint64 (len, strlen (CAPS_C) - 3);
  memcpy (dst, ba->data + pos, len);
  pos += len;
  tf_framer_advance (f, len);

  fail_unless_equals_int (tf_framer_poll (f, &dst, &len),
      TF_FRAMER_WANT_BUFFER);
  info = tf_framer_frame_info (f);
  fail_unless_equals_uint64 (info->size, 5);
  fail_unless_equals_string (info->caps, CAPS_C);
  fail_unless_equals_int (info->sequence, 42);
  fail_unless_equals_uint64 (info->timestamp, 77);

  mem = g_malloc (5);
  tf_framer_set_buffer (f, mem);
  fail_unless_equals_int (tf_framer_poll (f, &dst, &len),
      TF_FRAMER_WANT_BYTES);
  fail_unless (dst == mem);
  fail_unless_equals_uint64 (len, 5);
  memcpy (dst, ba->data + pos, 5);
  tf_framer_advance (f, 5);
  fail_unless_equals_int (tf_framer_poll (f, NULL, NULL),
      TF_FRAMER_FRAME_READY);
  fail_unless (memcmp (mem, payload, 5) == 0);
  fail_unless (tf_framer_release_frame (f, NULL, NULL) == NULL);
  fail_unless (!tf_framer_in_frame (f));

  g_free (mem);
  tf_framer_free (f);
  g_byte_array_unref (ba);
}

GST_END_TEST;

/* --- jpeg --- */

GST_START_TEST (test_framer_jpeg_single_image)
{
  GByteArray *img = jpeg_simple (0);

  assert_single_jpeg (img);
  g_byte_array_unref (img);
}

GST_END_TEST;

GST_START_TEST (test_framer_jpeg_garbage_skipped)
{
  /* FFs, fake EOIs and fill, but never FF D8 */
  static const guint8 g1[] = { 0x00, 0xff, 0x00, 0xff, 0xd9, 0xff, 0xff,
    0xff, 0x12, 0xd8, 0xd8, 0xff
  };
  static const guint8 g2[] = { 'n', 'o', 'i', 's', 'e', 0xff, 0xd9, 0xff };
  static const guint8 g3[] = { 0xd8, 0xd9, 0xff, 0x01, 0x02 };
  GByteArray *img[2] = { jpeg_simple (1), jpeg_simple (2) };
  GByteArray *ba = g_byte_array_new ();

  g_byte_array_append (ba, g1, sizeof (g1));
  g_byte_array_append (ba, img[0]->data, img[0]->len);
  g_byte_array_append (ba, g2, sizeof (g2));
  g_byte_array_append (ba, img[1]->data, img[1]->len);
  g_byte_array_append (ba, g3, sizeof (g3));

  assert_jpeg_stream (ba->data, ba->len, img, 2,
      sizeof (g1) + sizeof (g2) + sizeof (g3), MAX_FRAME);

  /* back to back images skip nothing */
  g_byte_array_set_size (ba, 0);
  g_byte_array_append (ba, img[0]->data, img[0]->len);
  g_byte_array_append (ba, img[1]->data, img[1]->len);
  assert_jpeg_stream (ba->data, ba->len, img, 2, 0, MAX_FRAME);

  g_byte_array_unref (img[0]);
  g_byte_array_unref (img[1]);
  g_byte_array_unref (ba);
}

GST_END_TEST;

/* Garbage must not accumulate: the framer keeps offering the same room and
 * counts every byte. */
GST_START_TEST (test_framer_jpeg_garbage_bounded)
{
  TfFramerConfig config = jpeg_config (1000);
  TfFramer *f = tf_framer_new (&config);
  GByteArray *img = jpeg_simple (3);
  guint64 total = 0;
  guint round;

  for (round = 0; round < 200; round++) {
    guint8 *dst;
    gsize len;

    fail_unless_equals_int (tf_framer_poll (f, &dst, &len),
        TF_FRAMER_WANT_BYTES);
    fail_unless (len >= 64 * 1024);
    fail_unless (len <= 1000 + 64 * 1024);
    /* ending on FF leaves a possible half SOI pending */
    memset (dst, round % 2 ? 0xff : 0x00, len);
    tf_framer_advance (f, len);
    total += len;
    fail_unless (!tf_framer_in_frame (f));
  }
  {
    guint8 *dst;
    gsize len;

    fail_unless_equals_int (tf_framer_poll (f, &dst, &len),
        TF_FRAMER_WANT_BYTES);
    fail_unless (len >= img->len);
    memcpy (dst, img->data, img->len);
    tf_framer_advance (f, img->len);
    fail_unless_equals_int (tf_framer_poll (f, NULL, NULL),
        TF_FRAMER_FRAME_READY);
    fail_unless_equals_uint64 (tf_framer_frame_info (f)->size, img->len);
    g_free (tf_framer_release_frame (f, NULL, NULL));
  }
  fail_unless_equals_uint64 (tf_framer_get_counters (f)->skipped_bytes, total);
  fail_unless_equals_uint64 (tf_framer_get_counters (f)->frames, 1);

  tf_framer_free (f);
  g_byte_array_unref (img);
}

GST_END_TEST;

GST_START_TEST (test_framer_jpeg_app1_thumbnail)
{
  GByteArray *thumb = jpeg_simple (4);
  GByteArray *app1 = g_byte_array_new ();
  GByteArray *img = g_byte_array_new ();
  guint8 entropy[] = { 1, 2, 3, 0xff, 0x00, 4 };

  g_byte_array_append (app1, (const guint8 *) "Exif\0\0", 6);
  g_byte_array_append (app1, (const guint8 *) "MM\0*\0\0\0\x08", 8);
  g_byte_array_append (app1, thumb->data, thumb->len);
  g_byte_array_append (app1, (const guint8 *) "\0\0", 2);

  jpeg_marker (img, 0xd8);
  jpeg_segment (img, 0xe1, app1->data, app1->len);
  {
    GByteArray *rest = jpeg_simple (5);

    /* the rest of a normal image, minus its SOI */
    g_byte_array_append (img, rest->data + 2, rest->len - 2);
    g_byte_array_unref (rest);
  }
  assert_single_jpeg (img);

  /* the same with the thumbnail in a scan-less image */
  g_byte_array_set_size (img, 0);
  jpeg_marker (img, 0xd8);
  jpeg_segment (img, 0xe1, app1->data, app1->len);
  jpeg_scan (img, entropy, sizeof (entropy));
  jpeg_marker (img, 0xd9);
  assert_single_jpeg (img);

  g_byte_array_unref (thumb);
  g_byte_array_unref (app1);
  g_byte_array_unref (img);
}

GST_END_TEST;

GST_START_TEST (test_framer_jpeg_eoi_in_dqt_and_com)
{
  guint8 dqt[65];
  static const guint8 com[] = { 'x', 0xff, 0xd9, 'y', 0xff, 0xd8, 0xff,
    0xff, 0xd9
  };
  static const guint8 entropy[] = { 0x10, 0x20, 0x30 };
  GByteArray *img = g_byte_array_new ();
  guint i;

  dqt[0] = 0;
  for (i = 1; i < sizeof (dqt); i++)
    dqt[i] = i % 2 ? 0xff : 0xd9;

  jpeg_marker (img, 0xd8);
  jpeg_segment (img, 0xdb, dqt, sizeof (dqt));
  jpeg_segment (img, 0xfe, com, sizeof (com));
  jpeg_scan (img, entropy, sizeof (entropy));
  jpeg_marker (img, 0xd9);
  assert_single_jpeg (img);

  /* a segment that ends in FF D9 as its last two bytes */
  g_byte_array_set_size (img, 0);
  jpeg_marker (img, 0xd8);
  jpeg_segment (img, 0xfe, com + 4, 5);
  jpeg_scan (img, entropy, sizeof (entropy));
  jpeg_marker (img, 0xd9);
  assert_single_jpeg (img);

  g_byte_array_unref (img);
}

GST_END_TEST;

GST_START_TEST (test_framer_jpeg_entropy_stuffing_rst)
{
  static const guint8 entropy[] = {
    0x11, 0xff, 0x00, 0xd9,     /* stuffed FF, then a plain D9 byte */
    0xff, 0xd0, 0x22, 0xff, 0xd1, 0xff, 0xd2, 0xff, 0xd3,
    0xff, 0x00, 0xff, 0x00,
    0xff, 0xd4, 0xff, 0xd5, 0xff, 0xd6, 0xff, 0xd7, 0xd9, 0xd8,
    0xff, 0xff, 0xd0,           /* fill before a restart marker */
    0x33, 0xff, 0x00, 0xff, 0xff
  };
  GByteArray *img = g_byte_array_new ();

  jpeg_frame_header (img, 0xc0);
  jpeg_scan (img, entropy, sizeof (entropy));
  /* the entropy data ends with fill, so this EOI follows FF FF */
  jpeg_marker (img, 0xd9);
  assert_single_jpeg (img);
  g_byte_array_unref (img);
}

GST_END_TEST;

GST_START_TEST (test_framer_jpeg_progressive_two_sos)
{
  static const guint8 scan1[] = { 0x01, 0xff, 0x00, 0xd9, 0x02 };
  static const guint8 scan2[] = { 0xd9, 0xff, 0xd3, 0x03, 0xff, 0x00 };
  static const guint8 dht[] = { 0x10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0xd9
  };
  GByteArray *img = g_byte_array_new ();

  jpeg_frame_header (img, 0xc2);
  jpeg_scan (img, scan1, sizeof (scan1));
  /* between scans a progressive JPEG may carry tables */
  jpeg_segment (img, 0xc4, dht, sizeof (dht));
  jpeg_scan (img, scan2, sizeof (scan2));
  jpeg_scan (img, scan1, sizeof (scan1));
  jpeg_marker (img, 0xd9);
  assert_single_jpeg (img);
  g_byte_array_unref (img);
}

GST_END_TEST;

/* Larger than one read, so the internal buffer grows across reads. */
GST_START_TEST (test_framer_jpeg_large_images)
{
  GByteArray *img[3] = { jpeg_with_entropy_size (200 * 1024),
    jpeg_with_entropy_size (300 * 1024), jpeg_simple (6)
  };
  GByteArray *ba = g_byte_array_new ();
  guint k;

  for (k = 0; k < 3; k++)
    g_byte_array_append (ba, img[k]->data, img[k]->len);
  assert_jpeg_stream (ba->data, ba->len, img, 3, 0, MAX_FRAME);

  for (k = 0; k < 3; k++)
    g_byte_array_unref (img[k]);
  g_byte_array_unref (ba);
}

GST_END_TEST;

GST_START_TEST (test_framer_jpeg_too_large)
{
  GByteArray *img = jpeg_with_entropy_size (100 * 1024);
  GByteArray *ba = g_byte_array_new ();
  TfFramerConfig config = jpeg_config (img->len - 1);
  static const guint8 garbage[300] = { 0 };
  gchar *msg;

  msg = g_strdup_printf ("JPEG image exceeds max-frame-size %u without an EOI",
      img->len - 1);
  assert_fails (&config, img->data, img->len, TF_FRAMER_ERROR_TOO_LARGE, msg);
  g_free (msg);

  /* exactly max is fine, and garbage before it does not count */
  g_byte_array_append (ba, garbage, sizeof (garbage));
  g_byte_array_append (ba, img->data, img->len);
  assert_jpeg_stream (ba->data, ba->len, &img, 1, sizeof (garbage), img->len);

  /* an endless image fails once it passes max, memory bounded by it */
  config.max_frame_size = 4096;
  {
    TfFramer *f = tf_framer_new (&config);
    guint8 *dst;
    gsize len;
    TfFramerStatus status;
    guint64 fed = 0;

    while ((status = tf_framer_poll (f, &dst, &len)) == TF_FRAMER_WANT_BYTES) {
      fail_unless (len <= 4096 + 64 * 1024);
      /* the image's tables, then entropy data that never ends */
      len = MIN (len, 1000);
      if (fed == 0)
        memcpy (dst, img->data, len);
      else
        memset (dst, 0x42, len);
      tf_framer_advance (f, len);
      fed += len;
      fail_unless (fed < 1024 * 1024);
    }
    fail_unless_equals_int (status, TF_FRAMER_FAILED);
    fail_unless (g_error_matches (tf_framer_get_error (f), TF_FRAMER_ERROR,
            TF_FRAMER_ERROR_TOO_LARGE));
    fail_unless_equals_uint64 (fed, 5000);
    fail_unless (tf_framer_in_frame (f));
    tf_framer_free (f);
  }

  /* a max smaller than an SOI */
  config.max_frame_size = 1;
  assert_fails (&config, img->data, img->len, TF_FRAMER_ERROR_TOO_LARGE,
      NULL);

  g_byte_array_unref (ba);
  g_byte_array_unref (img);
}

GST_END_TEST;

GST_START_TEST (test_framer_jpeg_truncated)
{
  GByteArray *img = jpeg_simple (7);
  TfFramerConfig config = jpeg_config (MAX_FRAME);
  gsize cut;

  /* ending anywhere after the SOI leaves the peer mid-frame */
  for (cut = 2; cut < img->len; cut++) {
    guint i;

    for (i = 0; i < G_N_ELEMENTS (chunkings); i++) {
      Feed *r = feed_stream (&config, img->data, cut, chunkings[i]);

      fail_unless_equals_int (r->status, TF_FRAMER_WANT_BYTES);
      fail_unless_equals_int (r->frames->len, 0);
      fail_unless (r->in_frame);
      fail_unless_equals_uint64 (r->counters.skipped_bytes, 0);
      feed_free (r);
    }
  }

  /* half an SOI is not yet a frame */
  {
    Feed *r = feed_stream (&config, img->data, 1, 1);

    fail_unless (!r->in_frame);
    feed_free (r);
  }
  g_byte_array_unref (img);
}

GST_END_TEST;

GST_START_TEST (test_framer_jpeg_two_images_one_read)
{
  TfFramerConfig config = jpeg_config (MAX_FRAME);
  TfFramer *f = tf_framer_new (&config);
  GByteArray *img[2] = { jpeg_simple (8), jpeg_simple (9) };
  GByteArray *ba = g_byte_array_new ();
  guint8 *dst, *block;
  gsize len, offset, alloc_size;
  guint k;

  g_byte_array_append (ba, img[0]->data, img[0]->len);
  g_byte_array_append (ba, (const guint8 *) "xyz", 3);
  g_byte_array_append (ba, img[1]->data, img[1]->len);
  /* and the start of a third */
  g_byte_array_append (ba, img[0]->data, 10);

  fail_unless_equals_int (tf_framer_poll (f, &dst, &len),
      TF_FRAMER_WANT_BYTES);
  fail_unless (len >= ba->len);
  memcpy (dst, ba->data, ba->len);
  tf_framer_advance (f, ba->len);

  for (k = 0; k < 2; k++) {
    fail_unless_equals_int (tf_framer_poll (f, &dst, &len),
        TF_FRAMER_FRAME_READY);
    /* polling again without releasing changes nothing */
    fail_unless_equals_int (tf_framer_poll (f, NULL, NULL),
        TF_FRAMER_FRAME_READY);
    fail_unless (!tf_framer_in_frame (f));
    fail_unless_equals_uint64 (tf_framer_frame_info (f)->size, img[k]->len);
    block = tf_framer_release_frame (f, &offset, &alloc_size);
    fail_unless (block != NULL);
    fail_unless (offset + img[k]->len <= alloc_size);
    fail_unless (memcmp (block + offset, img[k]->data, img[k]->len) == 0);
    g_free (block);
    fail_unless_equals_uint64 (tf_framer_get_counters (f)->frames, k + 1);
  }

  fail_unless_equals_int (tf_framer_poll (f, &dst, &len),
      TF_FRAMER_WANT_BYTES);
  fail_unless (tf_framer_in_frame (f));
  fail_unless_equals_uint64 (tf_framer_get_counters (f)->skipped_bytes, 3);

  /* finishing the third image */
  memcpy (dst, img[0]->data + 10, img[0]->len - 10);
  tf_framer_advance (f, img[0]->len - 10);
  fail_unless_equals_int (tf_framer_poll (f, NULL, NULL),
      TF_FRAMER_FRAME_READY);
  block = tf_framer_release_frame (f, &offset, &alloc_size);
  fail_unless (memcmp (block + offset, img[0]->data, img[0]->len) == 0);
  g_free (block);
  fail_unless (!tf_framer_in_frame (f));

  tf_framer_free (f);
  g_byte_array_unref (img[0]);
  g_byte_array_unref (img[1]);
  g_byte_array_unref (ba);
}

GST_END_TEST;

GST_START_TEST (test_framer_jpeg_bad_marker)
{
  TfFramerConfig config = jpeg_config (MAX_FRAME);
  GByteArray *img = jpeg_simple (10);
  GByteArray *bad = g_byte_array_new ();

  /* right after the SOI */
  g_byte_array_append (bad, (const guint8 *) "\xff\xd8\x00\xff\xd9", 5);
  assert_fails (&config, bad->data, bad->len, TF_FRAMER_ERROR_BAD_JPEG,
      "expected a JPEG marker at image offset 2, found byte 0x00");

  /* right after a segment (APP0 ends at offset 20) */
  g_byte_array_set_size (bad, 0);
  g_byte_array_append (bad, img->data, img->len);
  bad->data[20] = 0x12;
  assert_fails (&config, bad->data, bad->len, TF_FRAMER_ERROR_BAD_JPEG,
      "expected a JPEG marker at image offset 20, found byte 0x12");

  g_byte_array_unref (img);
  g_byte_array_unref (bad);
}

GST_END_TEST;

GST_START_TEST (test_framer_jpeg_bad_segment_length)
{
  TfFramerConfig config = jpeg_config (MAX_FRAME);
  static const guint8 len0[] = { 0xff, 0xd8, 0xff, 0xe0, 0x00, 0x00, 0xff,
    0xd9
  };
  static const guint8 len1[] = { 0xff, 0xd8, 0xff, 0xff, 0xdb, 0x00, 0x01,
    0xff, 0xd9
  };

  assert_fails (&config, len0, sizeof (len0), TF_FRAMER_ERROR_BAD_JPEG,
      "JPEG marker 0xffe0 at image offset 2 has segment length 0, less than 2");
  /* with a fill byte before the marker code */
  assert_fails (&config, len1, sizeof (len1), TF_FRAMER_ERROR_BAD_JPEG,
      "JPEG marker 0xffdb at image offset 3 has segment length 1, less than 2");
}

GST_END_TEST;

/* Length 2 segments, fill bytes and standalone markers between segments. */
GST_START_TEST (test_framer_jpeg_fill_and_standalone)
{
  static const guint8 img_bytes[] = {
    0xff, 0xd8,
    0xff, 0xff, 0xff, 0xe0, 0x00, 0x02, /* fill, then an empty APP0 */
    0xff, 0x01,                 /* TEM */
    0xff, 0xd3,                 /* stray RST between segments */
    0xff, 0xfe, 0x00, 0x04, 0xff, 0xd9, /* COM holding an EOI */
    0xff, 0xda, 0x00, 0x02,     /* SOS with an empty header */
    0x01, 0x02, 0xff, 0x00,
    0xff, 0xff, 0xff, 0xd9
  };
  GByteArray *img = g_byte_array_new ();

  g_byte_array_append (img, img_bytes, sizeof (img_bytes));
  assert_single_jpeg (img);
  g_byte_array_unref (img);
}

GST_END_TEST;

/* --- common --- */

GST_START_TEST (test_framer_in_frame)
{
  TfFramerConfig raw = { TF_FRAMING_RAW, 4, 0, 100 };
  TfFramerConfig length = { TF_FRAMING_LENGTH, 0, TF_LENGTH_FORMAT_U16BE,
    100
  };
  TfFramerConfig jpeg = jpeg_config (100);
  TfFramer *f;
  guint8 *dst, mem[4];
  gsize len;

  f = tf_framer_new (&raw);
  fail_unless_equals_int (tf_framer_poll (f, &dst, &len),
      TF_FRAMER_WANT_BUFFER);
  fail_unless (!tf_framer_in_frame (f));
  tf_framer_set_buffer (f, mem);
  fail_unless_equals_int (tf_framer_poll (f, &dst, &len),
      TF_FRAMER_WANT_BYTES);
  fail_unless (!tf_framer_in_frame (f));
  dst[0] = 1;
  tf_framer_advance (f, 1);
  fail_unless (tf_framer_in_frame (f));
  tf_framer_free (f);

  f = tf_framer_new (&length);
  fail_unless_equals_int (tf_framer_poll (f, &dst, &len),
      TF_FRAMER_WANT_BYTES);
  fail_unless (!tf_framer_in_frame (f));
  dst[0] = 0;
  tf_framer_advance (f, 1);
  fail_unless (tf_framer_in_frame (f));
  tf_framer_free (f);

  f = tf_framer_new (&jpeg);
  fail_unless_equals_int (tf_framer_poll (f, &dst, &len),
      TF_FRAMER_WANT_BYTES);
  memcpy (dst, "ab\xff", 3);
  tf_framer_advance (f, 3);
  fail_unless_equals_int (tf_framer_poll (f, &dst, &len),
      TF_FRAMER_WANT_BYTES);
  fail_unless (!tf_framer_in_frame (f));
  dst[0] = 0xd8;
  tf_framer_advance (f, 1);
  fail_unless_equals_int (tf_framer_poll (f, &dst, &len),
      TF_FRAMER_WANT_BYTES);
  fail_unless (tf_framer_in_frame (f));
  fail_unless_equals_uint64 (tf_framer_get_counters (f)->skipped_bytes, 2);
  tf_framer_free (f);
}

GST_END_TEST;

/* A failed framer keeps its first error, whatever else arrives. */
GST_START_TEST (test_framer_failed_stays_failed)
{
  TfFramerConfig config = header_config (MAX_FRAME);
  TfFramer *f = tf_framer_new (&config);
  guint8 h[TF_HEADER_SIZE];
  guint8 *dst;
  gsize len;
  const GError *err;

  tf_header_write (h, 0, 10, 0, 0);
  h[4] = 2;
  fail_unless_equals_int (tf_framer_poll (f, &dst, &len),
      TF_FRAMER_WANT_BYTES);
  memcpy (dst, h, TF_HEADER_SIZE);
  tf_framer_advance (f, TF_HEADER_SIZE);
  fail_unless_equals_int (tf_framer_poll (f, &dst, &len), TF_FRAMER_FAILED);
  err = tf_framer_get_error (f);
  fail_unless (g_error_matches (err, TF_FRAMER_ERROR,
          TF_FRAMER_ERROR_BAD_VERSION));
  fail_unless_equals_int (tf_framer_poll (f, &dst, &len), TF_FRAMER_FAILED);
  fail_unless (tf_framer_get_error (f) == err);
  fail_unless_equals_uint64 (tf_framer_get_counters (f)->frames, 0);
  tf_framer_free (f);
}

GST_END_TEST;

/* A caller that reads ahead lays out the next frames' storage before it
 * knows their headers, then hands the bytes over with tf_framer_feed():
 * the framer must stop where it needs a buffer or has a frame, and accept
 * bytes that are either already in place or elsewhere. */
GST_START_TEST (test_framer_feed_read_ahead)
{
  TfFramerConfig config = header_config (MAX_FRAME);
  GByteArray *ba = g_byte_array_new ();
  guint8 *p1 = tf_test_pattern (64, 1), *p2 = tf_test_pattern (64, 2);
  guint8 *p3 = tf_test_pattern (100, 3);
  guint8 *mem;
  TfFramer *f = tf_framer_new (&config);
  gsize pos = 0, caps_len = strlen (CAPS_A), n;

  fail_unless_equals_int (tf_framer_prefix_size (f), TF_HEADER_SIZE);
  append_header_frame (ba, CAPS_A, p1, 64, 0, 0);
  append_header_frame (ba, NULL, p2, 64, 1, 0);
  append_header_frame (ba, NULL, p3, 100, 2, 0);

  /* Everything at once: taken up to where the first frame needs memory. */
  n = tf_framer_feed (f, ba->data, ba->len);
  fail_unless_equals_uint64 (n, TF_HEADER_SIZE + caps_len);
  pos += n;
  fail_unless_equals_int (tf_framer_poll (f, NULL, NULL),
      TF_FRAMER_WANT_BUFFER);
  fail_unless_equals_string (tf_framer_frame_info (f)->caps, CAPS_A);
  fail_unless_equals_int (tf_framer_feed (f, ba->data + pos, 1), 0);

  /* Bytes read elsewhere are copied in, up to the end of the frame. */
  mem = g_malloc0 (64);
  tf_framer_set_buffer (f, mem);
  n = tf_framer_feed (f, ba->data + pos, ba->len - pos);
  fail_unless_equals_uint64 (n, 64);
  pos += n;
  fail_unless_equals_int (tf_framer_poll (f, NULL, NULL),
      TF_FRAMER_FRAME_READY);
  fail_unless (memcmp (mem, p1, 64) == 0);
  fail_unless (tf_framer_release_frame (f, NULL, NULL) == NULL);

  /* Storage guessed right: the payload was read into it before the
   * header was parsed, and is fed from where it already is. */
  n = tf_framer_feed (f, ba->data + pos, TF_HEADER_SIZE);
  fail_unless_equals_uint64 (n, TF_HEADER_SIZE);
  pos += n;
  fail_unless_equals_int (tf_framer_poll (f, NULL, NULL),
      TF_FRAMER_WANT_BUFFER);
  fail_unless (tf_framer_frame_info (f)->caps == NULL);
  fail_unless_equals_uint64 (tf_framer_frame_info (f)->size, 64);
  memcpy (mem, ba->data + pos, 30);
  tf_framer_set_buffer (f, mem);
  fail_unless_equals_uint64 (tf_framer_feed (f, mem, 30), 30);
  fail_unless_equals_uint64 (tf_framer_payload_received (f), 30);
  pos += 30;
  /* the rest in small pieces, from elsewhere */
  while (tf_framer_poll (f, NULL, NULL) == TF_FRAMER_WANT_BYTES)
    pos += tf_framer_feed (f, ba->data + pos, 7);
  fail_unless_equals_int (tf_framer_poll (f, NULL, NULL),
      TF_FRAMER_FRAME_READY);
  fail_unless (memcmp (mem, p2, 64) == 0);
  tf_framer_release_frame (f, NULL, NULL);
  g_free (mem);

  /* Guessed wrong (100 bytes, not 64): still whole and exact. */
  n = tf_framer_feed (f, ba->data + pos, ba->len - pos);
  fail_unless_equals_uint64 (n, TF_HEADER_SIZE);
  pos += n;
  fail_unless_equals_uint64 (tf_framer_frame_info (f)->size, 100);
  mem = g_malloc0 (100);
  tf_framer_set_buffer (f, mem);
  fail_unless_equals_uint64 (tf_framer_feed (f, ba->data + pos,
          ba->len - pos), 100);
  fail_unless_equals_int (tf_framer_poll (f, NULL, NULL),
      TF_FRAMER_FRAME_READY);
  fail_unless (memcmp (mem, p3, 100) == 0);
  tf_framer_release_frame (f, NULL, NULL);
  fail_unless_equals_uint64 (tf_framer_get_counters (f)->frames, 3);
  fail_if (tf_framer_in_frame (f));

  g_free (mem);
  tf_framer_free (f);
  g_free (p1);
  g_free (p2);
  g_free (p3);
  g_byte_array_unref (ba);
}

GST_END_TEST;

GST_START_TEST (test_framer_prefix_sizes)
{
  TfFramerConfig raw = { TF_FRAMING_RAW, 16, 0, MAX_FRAME };
  TfFramerConfig len = { TF_FRAMING_LENGTH, 0, TF_LENGTH_FORMAT_U16LE,
    MAX_FRAME
  };
  TfFramerConfig jpeg = jpeg_config (MAX_FRAME);
  TfFramer *f;

  f = tf_framer_new (&raw);
  fail_unless_equals_int (tf_framer_prefix_size (f), 0);
  tf_framer_free (f);
  f = tf_framer_new (&len);
  fail_unless_equals_int (tf_framer_prefix_size (f), 2);
  tf_framer_free (f);
  f = tf_framer_new (&jpeg);
  fail_unless_equals_int (tf_framer_prefix_size (f), -1);
  tf_framer_free (f);
}

GST_END_TEST;

static Suite *
framer_suite (void)
{
  Suite *s = suite_create ("framer");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_framer_helpers_length_write);
  tcase_add_test (tc, test_framer_helpers_header_write);
  tcase_add_test (tc, test_framer_raw_frames_chunked);
  tcase_add_test (tc, test_framer_raw_too_large);
  tcase_add_test (tc, test_framer_partial_storage_grows);
  tcase_add_test (tc, test_framer_length_all_formats);
  tcase_add_test (tc, test_framer_length_zero_is_empty);
  tcase_add_test (tc, test_framer_length_too_large);
  tcase_add_test (tc, test_framer_length_max_u64);
  tcase_add_test (tc, test_framer_length_no_overread);
  tcase_add_test (tc, test_framer_header_caps_then_none);
  tcase_add_test (tc, test_framer_header_caps_change);
  tcase_add_test (tc, test_framer_header_sequence_gaps);
  tcase_add_test (tc, test_framer_header_timestamp);
  tcase_add_test (tc, test_framer_header_bad_magic);
  tcase_add_test (tc, test_framer_header_bad_version);
  tcase_add_test (tc, test_framer_header_bad_flags);
  tcase_add_test (tc, test_framer_header_empty_caps);
  tcase_add_test (tc, test_framer_header_caps_with_nul);
  tcase_add_test (tc, test_framer_header_caps_bad_utf8);
  tcase_add_test (tc, test_framer_header_payload_empty);
  tcase_add_test (tc, test_framer_header_payload_too_large);
  tcase_add_test (tc, test_framer_header_no_overread);
  tcase_add_test (tc, test_framer_jpeg_single_image);
  tcase_add_test (tc, test_framer_jpeg_garbage_skipped);
  tcase_add_test (tc, test_framer_jpeg_garbage_bounded);
  tcase_add_test (tc, test_framer_jpeg_app1_thumbnail);
  tcase_add_test (tc, test_framer_jpeg_eoi_in_dqt_and_com);
  tcase_add_test (tc, test_framer_jpeg_entropy_stuffing_rst);
  tcase_add_test (tc, test_framer_jpeg_progressive_two_sos);
  tcase_add_test (tc, test_framer_jpeg_large_images);
  tcase_add_test (tc, test_framer_jpeg_too_large);
  tcase_add_test (tc, test_framer_jpeg_truncated);
  tcase_add_test (tc, test_framer_jpeg_two_images_one_read);
  tcase_add_test (tc, test_framer_jpeg_bad_marker);
  tcase_add_test (tc, test_framer_jpeg_bad_segment_length);
  tcase_add_test (tc, test_framer_jpeg_fill_and_standalone);
  tcase_add_test (tc, test_framer_in_frame);
  tcase_add_test (tc, test_framer_failed_stays_failed);
  tcase_add_test (tc, test_framer_feed_read_ahead);
  tcase_add_test (tc, test_framer_prefix_sizes);

  return s;
}

GST_CHECK_MAIN (framer);
