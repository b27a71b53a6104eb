/* tcpframe core: framers.
 *
 * All framings share one shape: tf_framer_advance() only records how many
 * bytes arrived, and tf_framer_poll() does every decision.  That way a
 * caller can poll as often as it likes, and each byte is looked at once.
 */
#include "tf-framer.h"

#include <string.h>

G_DEFINE_QUARK (tf-framer-error-quark, tf_framer_error);

/* What the jpeg framer offers per read: large enough that a camera stream
 * costs few syscalls, small enough that the slack over max_frame_size stays
 * modest. */
#define JPEG_READ_SIZE (64 * 1024)

typedef enum
{
  /* length / header / raw */
  ST_PREFIX,                    /* length prefix or fixed header into scratch */
  ST_CAPS,                      /* header: caps string */
  ST_NEED_BUFFER,
  ST_PAYLOAD,                   /* into the caller's storage */

  /* jpeg, in order of appearance in an image */
  ST_JPEG_SEEK,                 /* outside an image, looking for SOI */
  ST_JPEG_MARKER,               /* an FF must come next */
  ST_JPEG_MARKER_CODE,          /* after an FF: marker code or fill */
  ST_JPEG_LENGTH_HI,
  ST_JPEG_LENGTH_LO,
  ST_JPEG_SEGMENT,              /* skipping a segment's body */
  ST_JPEG_ENTROPY,              /* entropy-coded data after SOS */
  ST_JPEG_ENTROPY_FF,           /* an FF inside entropy-coded data */

  ST_READY,
} State;

struct _TfFramer
{
  TfFramerConfig config;
  State state;
  GError *error;                /* set once; the state is left as it was
                                 * so that in_frame() still tells the truth */
  TfFrameInfo info;
  TfFramerCounters counters;

  /* len of the last WANT_BYTES, so advance() can refuse a count the caller
   * was never offered; 0 once used. */
  gsize offered;

  /* length prefix or fixed header */
  guint8 scratch[TF_HEADER_SIZE];
  guint scratch_need;
  guint scratch_have;

  /* header: caps string of the frame in progress, NUL-terminated once
   * complete */
  gchar *caps;
  gsize caps_alloc;
  gsize caps_len;
  gsize caps_have;
  gboolean have_prev_sequence;
  guint32 prev_sequence;

  /* caller storage for the payload: mem[0, capacity) of info.size */
  guint8 *mem;
  guint64 capacity;
  guint64 have;

  /* jpeg: buf[0, len) holds received bytes.  Inside an image the SOI is
   * always at buf[0] and buf[0, pos) has been parsed. */
  guint8 *buf;
  gsize alloc;
  gsize len;
  gsize pos;
  gsize buf_limit;              /* max_frame_size plus one read */
  gsize seg_left;
  guint8 marker;                /* code of the segment being skipped */
};

static void framer_fail (TfFramer * f, TfFramerErrorCode code,
    const gchar * format, ...) G_GNUC_PRINTF (3, 4);

static void
framer_fail (TfFramer * f, TfFramerErrorCode code, const gchar * format, ...)
{
  va_list args;

  if (f->error)
    return;

  va_start (args, format);
  f->error = g_error_new_valist (TF_FRAMER_ERROR, code, format, args);
  va_end (args);
}

static gsize
add_saturated (gsize a, gsize b)
{
  return a > G_MAXSIZE - b ? G_MAXSIZE : a + b;
}

static guint64
read_be (const guint8 * p, guint width)
{
  guint64 v = 0;
  guint i;

  for (i = 0; i < width; i++)
    v = (v << 8) | p[i];
  return v;
}

static guint64
read_le (const guint8 * p, guint width)
{
  guint64 v = 0;
  guint i;

  for (i = 0; i < width; i++)
    v |= (guint64) p[i] << (8 * i);
  return v;
}

static void
write_be (guint8 * p, guint width, guint64 v)
{
  guint i;

  for (i = width; i > 0; i--) {
    p[i - 1] = v & 0xff;
    v >>= 8;
  }
}

static gboolean
length_format_is_le (TfLengthFormat fmt)
{
  return fmt == TF_LENGTH_FORMAT_U16LE || fmt == TF_LENGTH_FORMAT_U32LE
      || fmt == TF_LENGTH_FORMAT_U64LE;
}

guint
tf_length_format_width (TfLengthFormat fmt)
{
  switch (fmt) {
    case TF_LENGTH_FORMAT_U16BE:
    case TF_LENGTH_FORMAT_U16LE:
      return 2;
    case TF_LENGTH_FORMAT_U32BE:
    case TF_LENGTH_FORMAT_U32LE:
      return 4;
    case TF_LENGTH_FORMAT_U64BE:
    case TF_LENGTH_FORMAT_U64LE:
      return 8;
  }
  g_return_val_if_reached (0);
}

void
tf_length_write (TfLengthFormat fmt, guint64 value, guint8 * out)
{
  guint width = tf_length_format_width (fmt);
  guint i;

  g_return_if_fail (width > 0);
  g_return_if_fail (out != NULL);
  /* Truncating would put a wrong but plausible length on the wire. */
  g_return_if_fail (width == 8 || value >> (8 * width) == 0);

  if (length_format_is_le (fmt)) {
    for (i = 0; i < width; i++)
      out[i] = (value >> (8 * i)) & 0xff;
  } else {
    write_be (out, width, value);
  }
}

void
tf_header_write (guint8 out[TF_HEADER_SIZE], guint16 caps_len,
    guint32 payload_len, guint32 sequence, guint64 timestamp)
{
  g_return_if_fail (out != NULL);

  memcpy (out, TF_HEADER_MAGIC, 4);
  out[4] = TF_HEADER_VERSION;
  out[5] = caps_len > 0 ? TF_HEADER_FLAG_CAPS : 0;
  write_be (out + 6, 2, caps_len);
  write_be (out + 8, 4, payload_len);
  write_be (out + 12, 4, sequence);
  write_be (out + 16, 8, timestamp);
}

static void
reset_info (TfFramer * f)
{
  f->info.size = 0;
  f->info.caps = NULL;
  f->info.has_sequence = FALSE;
  f->info.sequence = 0;
  f->info.timestamp = TF_TIMESTAMP_NONE;
}

/* Readies the framer for its next frame. */
static void
start_frame (TfFramer * f)
{
  reset_info (f);
  f->mem = NULL;
  f->capacity = 0;
  f->have = 0;
  f->scratch_have = 0;
  f->caps_len = 0;
  f->caps_have = 0;

  switch (f->config.framing) {
    case TF_FRAMING_RAW:
      f->info.size = f->config.frame_size;
      f->state = ST_NEED_BUFFER;
      break;
    case TF_FRAMING_LENGTH:
      f->scratch_need = tf_length_format_width (f->config.length_format);
      f->state = ST_PREFIX;
      break;
    case TF_FRAMING_HEADER:
      f->scratch_need = TF_HEADER_SIZE;
      f->state = ST_PREFIX;
      break;
    case TF_FRAMING_JPEG:
      f->state = ST_JPEG_SEEK;
      break;
  }
}

TfFramer *
tf_framer_new (const TfFramerConfig * config)
{
  TfFramer *f;

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (config->framing >= TF_FRAMING_HEADER
      && config->framing <= TF_FRAMING_JPEG, NULL);
  g_return_val_if_fail (config->framing != TF_FRAMING_LENGTH
      || tf_length_format_width (config->length_format) > 0, NULL);

  f = g_new0 (TfFramer, 1);
  f->config = *config;
  f->buf_limit = (gsize) MIN (config->max_frame_size, (guint64) G_MAXSIZE);
  f->buf_limit = add_saturated (f->buf_limit, JPEG_READ_SIZE);
  start_frame (f);

  return f;
}

void
tf_framer_free (TfFramer * f)
{
  if (f == NULL)
    return;

  g_clear_error (&f->error);
  g_free (f->caps);
  g_free (f->buf);
  g_free (f);
}

/* Checks a declared payload size before anyone allocates for it. */
static gboolean
check_size (TfFramer * f, guint64 size, const gchar * what)
{
  if (size == 0) {
    framer_fail (f, TF_FRAMER_ERROR_EMPTY,
        "%s 0: empty frames are not allowed", what);
    return FALSE;
  }
  if (size > f->config.max_frame_size) {
    framer_fail (f, TF_FRAMER_ERROR_TOO_LARGE,
        "%s %" G_GUINT64_FORMAT " exceeds max-frame-size %" G_GUINT64_FORMAT,
        what, size, f->config.max_frame_size);
    return FALSE;
  }
  return TRUE;
}

static void
parse_length (TfFramer * f)
{
  guint64 size;

  if (length_format_is_le (f->config.length_format))
    size = read_le (f->scratch, f->scratch_need);
  else
    size = read_be (f->scratch, f->scratch_need);

  if (!check_size (f, size, "frame length"))
    return;

  f->info.size = size;
  f->state = ST_NEED_BUFFER;
}

/* The caps string, if any, is complete: validate it and finish the
 * header. */
static void
finish_header (TfFramer * f)
{
  const gchar *end;

  if (f->caps_len > 0) {
    const gchar *nul = memchr (f->caps, '\0', f->caps_len);

    if (nul) {
      framer_fail (f, TF_FRAMER_ERROR_BAD_CAPS,
          "caps string contains a NUL byte at offset %" G_GSIZE_FORMAT,
          (gsize) (nul - f->caps));
      return;
    }
    if (!g_utf8_validate_len (f->caps, f->caps_len, &end)) {
      framer_fail (f, TF_FRAMER_ERROR_BAD_CAPS,
          "caps string is not valid UTF-8 (at offset %" G_GSIZE_FORMAT ")",
          (gsize) (end - f->caps));
      return;
    }
    f->caps[f->caps_len] = '\0';
    f->info.caps = f->caps;
  }

  if (f->have_prev_sequence
      && f->info.sequence != (guint32) (f->prev_sequence + 1))
    f->counters.sequence_gaps++;
  f->have_prev_sequence = TRUE;
  f->prev_sequence = f->info.sequence;

  f->state = ST_NEED_BUFFER;
}

static void
parse_header (TfFramer * f)
{
  const guint8 *h = f->scratch;
  guint version = h[4];
  guint flags = h[5];
  guint caps_len = read_be (h + 6, 2);
  guint64 payload_len = read_be (h + 8, 4);

  if (memcmp (h, TF_HEADER_MAGIC, 4) != 0) {
    framer_fail (f, TF_FRAMER_ERROR_BAD_MAGIC,
        "bad magic 0x%08" G_GINT64_MODIFIER "x, expected \"%s\"",
        read_be (h, 4), TF_HEADER_MAGIC);
    return;
  }
  if (version != TF_HEADER_VERSION) {
    framer_fail (f, TF_FRAMER_ERROR_BAD_VERSION,
        "unknown header version %u", version);
    return;
  }
  if (flags & ~TF_HEADER_FLAG_CAPS) {
    framer_fail (f, TF_FRAMER_ERROR_BAD_FLAGS,
        "reserved header flags 0x%02x set", flags & ~TF_HEADER_FLAG_CAPS);
    return;
  }
  if (caps_len > 0 && !(flags & TF_HEADER_FLAG_CAPS)) {
    framer_fail (f, TF_FRAMER_ERROR_BAD_FLAGS,
        "caps length %u without the caps flag", caps_len);
    return;
  }
  /* The flag is fine here; it is the caps string that is missing, which
   * the header documents as BAD_CAPS ("caps string empty"). */
  if (caps_len == 0 && (flags & TF_HEADER_FLAG_CAPS)) {
    framer_fail (f, TF_FRAMER_ERROR_BAD_CAPS,
        "caps flag set but the caps string is empty");
    return;
  }
  if (!check_size (f, payload_len, "payload length"))
    return;

  f->info.size = payload_len;
  f->info.has_sequence = TRUE;
  f->info.sequence = read_be (h + 12, 4);
  /* All ones on the wire is the same value as TF_TIMESTAMP_NONE. */
  f->info.timestamp = read_be (h + 16, 8);

  if (caps_len > 0) {
    if (f->caps_alloc < caps_len + 1) {
      g_free (f->caps);
      f->caps = g_malloc (caps_len + 1);
      f->caps_alloc = caps_len + 1;
    }
    f->caps_len = caps_len;
    f->caps_have = 0;
    f->state = ST_CAPS;
  } else {
    finish_header (f);
  }
}

/* Outside an image: drops garbage and leaves the buffer starting with the
 * SOI if one was found.  A lone trailing FF is kept, since it may be the
 * first half of an SOI. */
static gboolean
jpeg_seek_soi (TfFramer * f)
{
  gsize i = 0;

  while (i < f->len) {
    const guint8 *ff = memchr (f->buf + i, 0xff, f->len - i);
    gsize at;

    if (ff == NULL)
      break;
    at = ff - f->buf;
    if (at + 1 == f->len) {
      f->counters.skipped_bytes += at;
      f->buf[0] = 0xff;
      f->len = 1;
      return FALSE;
    }
    if (f->buf[at + 1] == 0xd8) {
      f->counters.skipped_bytes += at;
      /* Only bytes of the last read follow the SOI, so this stays cheap,
       * and it keeps garbage from counting against the image's memory. */
      if (at > 0)
        memmove (f->buf, f->buf + at, f->len - at);
      f->len -= at;
      f->pos = 2;
      f->state = ST_JPEG_MARKER;
      return TRUE;
    }
    i = at + 1;
  }

  f->counters.skipped_bytes += f->len;
  f->len = 0;
  return FALSE;
}

static gboolean
jpeg_is_standalone (guint8 code)
{
  return code == 0xd8 || code == 0x01 || (code >= 0xd0 && code <= 0xd7);
}

static void
jpeg_segment_done (TfFramer * f)
{
  f->state = f->marker == 0xda ? ST_JPEG_ENTROPY : ST_JPEG_MARKER;
}

/* Walks the image from pos as far as the received bytes go, never past
 * max_frame_size bytes from the SOI. */
static void
jpeg_parse (TfFramer * f)
{
  gsize limit;

  if (f->state == ST_JPEG_SEEK && !jpeg_seek_soi (f))
    return;

  limit = (gsize) MIN ((guint64) f->len, f->config.max_frame_size);

  while (f->pos < limit) {
    guint8 c = f->buf[f->pos];

    switch (f->state) {
      case ST_JPEG_MARKER:
        if (c != 0xff) {
          framer_fail (f, TF_FRAMER_ERROR_BAD_JPEG,
              "expected a JPEG marker at image offset %" G_GSIZE_FORMAT
              ", found byte 0x%02x", f->pos, c);
          return;
        }
        f->pos++;
        f->state = ST_JPEG_MARKER_CODE;
        break;

      case ST_JPEG_MARKER_CODE:
        f->pos++;
        if (c == 0xff)
          break;
        if (c == 0xd9) {
          f->info.size = f->pos;
          f->state = ST_READY;
          return;
        }
        if (jpeg_is_standalone (c)) {
          f->state = ST_JPEG_MARKER;
          break;
        }
        f->marker = c;
        f->state = ST_JPEG_LENGTH_HI;
        break;

      case ST_JPEG_LENGTH_HI:
        f->seg_left = (gsize) c << 8;
        f->pos++;
        f->state = ST_JPEG_LENGTH_LO;
        break;

      case ST_JPEG_LENGTH_LO:
        f->seg_left |= c;
        if (f->seg_left < 2) {
          framer_fail (f, TF_FRAMER_ERROR_BAD_JPEG,
              "JPEG marker 0xff%02x at image offset %" G_GSIZE_FORMAT
              " has segment length %" G_GSIZE_FORMAT ", less than 2",
              f->marker, f->pos - 3, f->seg_left);
          return;
        }
        f->pos++;
        f->seg_left -= 2;
        if (f->seg_left > 0)
          f->state = ST_JPEG_SEGMENT;
        else
          jpeg_segment_done (f);
        break;

      case ST_JPEG_SEGMENT:{
        gsize n = MIN (f->seg_left, limit - f->pos);

        f->pos += n;
        f->seg_left -= n;
        if (f->seg_left == 0)
          jpeg_segment_done (f);
        break;
      }

      case ST_JPEG_ENTROPY:{
        const guint8 *ff = memchr (f->buf + f->pos, 0xff, limit - f->pos);

        if (ff == NULL) {
          f->pos = limit;
        } else {
          f->pos = ff - f->buf + 1;
          f->state = ST_JPEG_ENTROPY_FF;
        }
        break;
      }

      case ST_JPEG_ENTROPY_FF:
        if (c == 0x00 || (c >= 0xd0 && c <= 0xd7)) {
          f->pos++;
          f->state = ST_JPEG_ENTROPY;
        } else if (c == 0xff) {
          f->pos++;
        } else {
          /* A real marker: its code is read by the marker state. */
          f->state = ST_JPEG_MARKER_CODE;
        }
        break;

      default:
        g_assert_not_reached ();
    }
  }

  /* Every byte up to the limit belongs to this image and none was its EOI,
   * so a byte beyond the limit makes it too large. */
  if (f->len > f->config.max_frame_size)
    framer_fail (f, TF_FRAMER_ERROR_TOO_LARGE,
        "JPEG image exceeds max-frame-size %" G_GUINT64_FORMAT
        " without an EOI", f->config.max_frame_size);
}

/* Grows the buffer so a read gets at least JPEG_READ_SIZE bytes of room.
 * Between polls len never exceeds max_frame_size (else the image failed as
 * too large), so buf_limit always leaves that much room. */
static gboolean
jpeg_ensure_room (TfFramer * f)
{
  gsize size;

  if (f->alloc - f->len >= JPEG_READ_SIZE)
    return TRUE;

  if (f->len >= f->buf_limit) {
    /* Only reachable with a max_frame_size near the address space. */
    framer_fail (f, TF_FRAMER_ERROR_TOO_LARGE,
        "JPEG image exceeds the addressable buffer size");
    return FALSE;
  }

  size = f->alloc > f->buf_limit / 2 ? f->buf_limit : f->alloc * 2;
  size = MAX (size, add_saturated (f->len, JPEG_READ_SIZE));
  size = MIN (size, f->buf_limit);

  f->buf = g_realloc (f->buf, size);
  f->alloc = size;
  return TRUE;
}

static TfFramerStatus
poll_jpeg (TfFramer * f, guint8 ** dst, gsize * len)
{
  if (f->state != ST_READY)
    jpeg_parse (f);

  if (f->error)
    return TF_FRAMER_FAILED;
  if (f->state == ST_READY)
    return TF_FRAMER_FRAME_READY;
  if (!jpeg_ensure_room (f))
    return TF_FRAMER_FAILED;

  *dst = f->buf + f->len;
  *len = f->alloc - f->len;
  return TF_FRAMER_WANT_BYTES;
}

static TfFramerStatus
poll_caller_storage (TfFramer * f, guint8 ** dst, gsize * len)
{
  for (;;) {
    if (f->error)
      return TF_FRAMER_FAILED;

    switch (f->state) {
      case ST_PREFIX:
        if (f->scratch_have < f->scratch_need) {
          *dst = f->scratch + f->scratch_have;
          *len = f->scratch_need - f->scratch_have;
          return TF_FRAMER_WANT_BYTES;
        }
        if (f->config.framing == TF_FRAMING_LENGTH)
          parse_length (f);
        else
          parse_header (f);
        break;

      case ST_CAPS:
        if (f->caps_have < f->caps_len) {
          *dst = (guint8 *) f->caps + f->caps_have;
          *len = f->caps_len - f->caps_have;
          return TF_FRAMER_WANT_BYTES;
        }
        finish_header (f);
        break;

      case ST_NEED_BUFFER:
        /* raw checks its fixed size here, so that the failure is reported
         * through poll like every other. */
        if (f->config.framing == TF_FRAMING_RAW
            && !check_size (f, f->info.size, "frame-size"))
          break;
        return TF_FRAMER_WANT_BUFFER;

      case ST_PAYLOAD:
        if (f->have == f->capacity && f->have < f->info.size) {
          /* Partial storage is full: the caller grows it. */
          f->state = ST_NEED_BUFFER;
          return TF_FRAMER_WANT_BUFFER;
        }
        if (f->have < f->info.size) {
          *dst = f->mem + f->have;
          *len = (gsize) MIN (f->capacity - f->have, (guint64) G_MAXSIZE);
          return TF_FRAMER_WANT_BYTES;
        }
        f->state = ST_READY;
        break;

      case ST_READY:
        return TF_FRAMER_FRAME_READY;

      default:
        g_assert_not_reached ();
    }
  }
}

TfFramerStatus
tf_framer_poll (TfFramer * f, guint8 ** dst, gsize * len)
{
  guint8 *dummy_dst;
  gsize dummy_len;
  TfFramerStatus status;

  g_return_val_if_fail (f != NULL, TF_FRAMER_FAILED);

  if (dst == NULL)
    dst = &dummy_dst;
  if (len == NULL)
    len = &dummy_len;
  *dst = NULL;
  *len = 0;

  if (f->config.framing == TF_FRAMING_JPEG)
    status = poll_jpeg (f, dst, len);
  else
    status = poll_caller_storage (f, dst, len);

  f->offered = status == TF_FRAMER_WANT_BYTES ? *len : 0;
  return status;
}

void
tf_framer_advance (TfFramer * f, gsize n)
{
  g_return_if_fail (f != NULL);
  g_return_if_fail (n > 0 && n <= f->offered);

  f->offered = 0;

  switch (f->state) {
    case ST_PREFIX:
      f->scratch_have += n;
      break;
    case ST_CAPS:
      f->caps_have += n;
      break;
    case ST_PAYLOAD:
      f->have += n;
      break;
    default:
      /* jpeg: bytes are parsed at the next poll */
      f->len += n;
      break;
  }
}

gsize
tf_framer_feed (TfFramer * f, const guint8 * bytes, gsize n)
{
  gsize taken = 0;

  g_return_val_if_fail (f != NULL, 0);
  g_return_val_if_fail (bytes != NULL || n == 0, 0);

  while (taken < n) {
    guint8 *dst;
    gsize len;

    if (tf_framer_poll (f, &dst, &len) != TF_FRAMER_WANT_BYTES)
      break;
    len = MIN (len, n - taken);
    if (dst != bytes + taken)
      memmove (dst, bytes + taken, len);
    tf_framer_advance (f, len);
    taken += len;
  }
  return taken;
}

gint
tf_framer_prefix_size (TfFramer * f)
{
  g_return_val_if_fail (f != NULL, -1);

  switch (f->config.framing) {
    case TF_FRAMING_RAW:
      return 0;
    case TF_FRAMING_LENGTH:
      return tf_length_format_width (f->config.length_format);
    case TF_FRAMING_HEADER:
      return TF_HEADER_SIZE;
    default:
      return -1;
  }
}

const TfFrameInfo *
tf_framer_frame_info (TfFramer * f)
{
  g_return_val_if_fail (f != NULL, NULL);

  return &f->info;
}

void
tf_framer_set_buffer (TfFramer * f, guint8 * mem)
{
  g_return_if_fail (f != NULL);

  tf_framer_set_buffer_partial (f, mem, f->info.size);
}

void
tf_framer_set_buffer_partial (TfFramer * f, guint8 * mem, guint64 capacity)
{
  g_return_if_fail (f != NULL);
  g_return_if_fail (mem != NULL);
  g_return_if_fail (f->error == NULL && f->state == ST_NEED_BUFFER);
  g_return_if_fail (capacity > f->have && capacity <= f->info.size);

  f->mem = mem;
  f->capacity = capacity;
  f->state = ST_PAYLOAD;
}

guint64
tf_framer_payload_received (TfFramer * f)
{
  g_return_val_if_fail (f != NULL, 0);

  return f->state == ST_PAYLOAD || f->state == ST_NEED_BUFFER
      || f->state == ST_READY ? f->have : 0;
}

static gpointer
release_jpeg (TfFramer * f, gsize * offset, gsize * alloc_size)
{
  guint8 *block = f->buf;
  gsize size = f->info.size;
  gsize tail = f->len - size;
  gsize hint;

  *offset = 0;
  *alloc_size = f->alloc;

  /* Size the fresh block for an image like the last one, so a steady
   * stream does not regrow (and copy) every image from scratch. */
  hint = add_saturated (MAX (tail, add_saturated (size, size / 4)),
      JPEG_READ_SIZE);
  hint = MIN (hint, f->buf_limit);
  hint = MAX (hint, tail);

  f->buf = g_malloc (hint);
  f->alloc = hint;
  if (tail > 0)
    memcpy (f->buf, block + size, tail);
  f->len = tail;
  f->pos = 0;

  return block;
}

gpointer
tf_framer_release_frame (TfFramer * f, gsize * offset, gsize * alloc_size)
{
  gsize dummy_offset, dummy_alloc;
  gpointer block = NULL;

  if (offset == NULL)
    offset = &dummy_offset;
  if (alloc_size == NULL)
    alloc_size = &dummy_alloc;
  *offset = 0;
  *alloc_size = 0;

  g_return_val_if_fail (f != NULL, NULL);
  g_return_val_if_fail (f->error == NULL && f->state == ST_READY, NULL);

  if (f->config.framing == TF_FRAMING_JPEG)
    block = release_jpeg (f, offset, alloc_size);

  f->counters.frames++;
  start_frame (f);

  return block;
}

const GError *
tf_framer_get_error (TfFramer * f)
{
  g_return_val_if_fail (f != NULL, NULL);

  return f->error;
}

gboolean
tf_framer_in_frame (TfFramer * f)
{
  g_return_val_if_fail (f != NULL, FALSE);

  switch (f->state) {
    case ST_PREFIX:
      return f->scratch_have > 0;
    case ST_CAPS:
      return TRUE;
    case ST_NEED_BUFFER:
    case ST_PAYLOAD:
      /* raw has no prefix: nothing is held until payload bytes arrive */
      return f->config.framing != TF_FRAMING_RAW || f->have > 0;
    case ST_JPEG_SEEK:
      return FALSE;
    case ST_READY:
      /* The held frame is complete.  For jpeg, bytes of a next image may
       * follow it; they are looked at once this one is released. */
      return FALSE;
    default:
      return TRUE;
  }
}

const TfFramerCounters *
tf_framer_get_counters (TfFramer * f)
{
  g_return_val_if_fail (f != NULL, NULL);

  return &f->counters;
}
