/* tcpframe core: what the sending side puts on the wire. */
#include "tf-wire.h"
#include "tf-framer.h"

gboolean
tf_wire_check (TfFraming framing, TfLengthFormat length_format,
    guint64 payload_len, gsize caps_len, GError ** error)
{
  guint width;

  /* Every framing would turn an empty frame into nothing on the wire (raw,
   * jpeg) or into a protocol error at the receiver (header, length). */
  if (payload_len == 0) {
    g_set_error (error, TF_FRAMER_ERROR, TF_FRAMER_ERROR_EMPTY,
        "a frame of 0 bytes cannot be sent");
    return FALSE;
  }

  switch (framing) {
    case TF_FRAMING_HEADER:
      if (payload_len > G_MAXUINT32) {
        g_set_error (error, TF_FRAMER_ERROR, TF_FRAMER_ERROR_TOO_LARGE,
            "a frame of %" G_GUINT64_FORMAT " bytes does not fit the "
            "header's 32-bit length", payload_len);
        return FALSE;
      }
      if (caps_len > G_MAXUINT16) {
        g_set_error (error, TF_FRAMER_ERROR, TF_FRAMER_ERROR_BAD_CAPS,
            "a caps string of %" G_GSIZE_FORMAT " bytes does not fit the "
            "header's 16-bit caps length", caps_len);
        return FALSE;
      }
      break;
    case TF_FRAMING_LENGTH:
      width = tf_length_format_width (length_format);
      if (width < 8 && payload_len >> (8 * width) != 0) {
        g_set_error (error, TF_FRAMER_ERROR, TF_FRAMER_ERROR_TOO_LARGE,
            "a frame of %" G_GUINT64_FORMAT " bytes does not fit a %u-bit "
            "length prefix", payload_len, 8 * width);
        return FALSE;
      }
      break;
    case TF_FRAMING_RAW:
    case TF_FRAMING_JPEG:
      break;
  }
  return TRUE;
}

gsize
tf_wire_prefix (TfFraming framing, TfLengthFormat length_format,
    guint64 payload_len, gsize caps_len, guint32 sequence, guint64 timestamp,
    guint8 out[TF_WIRE_PREFIX_MAX])
{
  g_return_val_if_fail (tf_wire_check (framing, length_format, payload_len,
          caps_len, NULL), 0);

  switch (framing) {
    case TF_FRAMING_HEADER:
      tf_header_write (out, caps_len, payload_len, sequence, timestamp);
      return TF_HEADER_SIZE;
    case TF_FRAMING_LENGTH:
      tf_length_write (length_format, payload_len, out);
      return tf_length_format_width (length_format);
    case TF_FRAMING_RAW:
    case TF_FRAMING_JPEG:
      return 0;
  }
  g_return_val_if_reached (0);
}

void
tf_wire_cursor_init (TfWireCursor * c, const TfWireChunk * chunks,
    guint n_chunks)
{
  guint i;

  c->chunks = chunks;
  c->n_chunks = n_chunks;
  c->index = 0;
  c->offset = 0;
  c->sent = 0;
  c->total = 0;
  for (i = 0; i < n_chunks; i++)
    c->total += chunks[i].size;
}

guint
tf_wire_cursor_pending (const TfWireCursor * c, TfWireChunk * out, guint max)
{
  guint i, n = 0;
  gsize offset = c->offset;

  for (i = c->index; i < c->n_chunks && n < max; i++) {
    if (c->chunks[i].size > offset) {
      out[n].data = c->chunks[i].data + offset;
      out[n].size = c->chunks[i].size - offset;
      n++;
    }
    offset = 0;
  }
  return n;
}

void
tf_wire_cursor_advance (TfWireCursor * c, gsize n)
{
  g_return_if_fail (n <= c->total - c->sent);

  c->sent += n;
  while (c->index < c->n_chunks) {
    gsize left = c->chunks[c->index].size - c->offset;

    if (n < left) {
      c->offset += n;
      return;
    }
    n -= left;
    c->index++;
    c->offset = 0;
  }
}
