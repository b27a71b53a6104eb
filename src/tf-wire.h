/* tcpframe core: what the sending side puts on the wire.
 *
 * A frame goes out as up to three pieces: a prefix (the 24-byte header of
 * the `header` framing, or the length of the `length` framing), the caps
 * string when the header announces one, and the payload.  The pieces stay
 * where they are: the payload is never copied behind its prefix.  A send
 * cursor walks them as the socket accepts bytes, so a frame written in
 * many partial sends still comes out as one unit.
 *
 * Nothing here touches a socket, so the exact bytes are testable on their
 * own, against what the framers in tf-framer.h parse.
 */
#ifndef TF_WIRE_H
#define TF_WIRE_H

#include <glib.h>
#include "tf-types.h"

G_BEGIN_DECLS

/* The longest prefix any framing writes. */
#define TF_WIRE_PREFIX_MAX 24

/* Whether a frame of payload_len bytes, with a caps string of caps_len
 * bytes (header framing; 0 = none), can be put on the wire at all.  A
 * receiver treats an empty frame, or one whose length does not fit the
 * length field, as a protocol error, so such frames must not be sent.
 * Errors are in TF_FRAMER_ERROR (tf-framer.h). */
gboolean tf_wire_check (TfFraming framing, TfLengthFormat length_format,
    guint64 payload_len, gsize caps_len, GError ** error);

/* Writes the prefix of a frame that passed tf_wire_check() and returns its
 * size: 24 for header, the length width for length, 0 for raw and jpeg.
 * `timestamp` is the capture time in ns since the Unix epoch, or
 * TF_TIMESTAMP_NONE. */
gsize tf_wire_prefix (TfFraming framing, TfLengthFormat length_format,
    guint64 payload_len, gsize caps_len, guint32 sequence, guint64 timestamp,
    guint8 out[TF_WIRE_PREFIX_MAX]);

/* One contiguous piece of a frame. */
typedef struct {
  const guint8 *data;
  gsize size;
} TfWireChunk;

/* The unsent rest of a frame.  The chunks belong to the caller and must
 * stay valid while the cursor is used. */
typedef struct {
  const TfWireChunk *chunks;
  guint n_chunks;
  guint index;                  /* first chunk not completely sent */
  gsize offset;                 /* bytes of it already sent */
  guint64 total;
  guint64 sent;
} TfWireCursor;

void tf_wire_cursor_init (TfWireCursor * c, const TfWireChunk * chunks,
    guint n_chunks);

/* Fills out[0, max) with the unsent bytes, in order, and returns how many
 * chunks it used (0 when the frame is complete).  Empty chunks are
 * skipped. */
guint tf_wire_cursor_pending (const TfWireCursor * c, TfWireChunk * out,
    guint max);

/* The socket accepted n more bytes (at most what is pending). */
void tf_wire_cursor_advance (TfWireCursor * c, gsize n);

static inline gboolean
tf_wire_cursor_done (const TfWireCursor * c)
{
  return c->sent == c->total;
}

/* TRUE once part, but not all, of the frame is out: closing the
 * connection now leaves the receiver with half a frame. */
static inline gboolean
tf_wire_cursor_mid_frame (const TfWireCursor * c)
{
  return c->sent > 0 && c->sent < c->total;
}

G_END_DECLS

#endif /* TF_WIRE_H */
