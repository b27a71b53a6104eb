/* tcpframe core: framers.
 *
 * A framer turns the byte stream of one TCP connection into whole frames.
 * It never touches a socket: the caller asks it where the next bytes should
 * go, reads them from wherever it likes, and tells it how many arrived.
 * That keeps the framers testable byte by byte, and lets the element read
 * a frame's payload straight into the memory of the buffer it will push.
 *
 * The loop a caller runs:
 *
 *   for (;;) {
 *     switch (tf_framer_poll (f, &dst, &len)) {
 *       case TF_FRAMER_WANT_BYTES:  n = recv (fd, dst, len); tf_framer_advance (f, n); break;
 *       case TF_FRAMER_WANT_BUFFER: mem = allocate (tf_framer_frame_info (f)->size);
 *                                   tf_framer_set_buffer (f, mem); break;
 *       case TF_FRAMER_FRAME_READY: block = tf_framer_release_frame (f, &off, &alloc);
 *                                   push it; break;
 *       case TF_FRAMER_FAILED:      report tf_framer_get_error (f); drop the peer;
 *     }
 *   }
 *
 * Memory grows only with the bytes a peer actually sent, except for the
 * single WANT_BUFFER allocation of a declared frame size, which is checked
 * against max_frame_size before it is requested.
 */
#ifndef TF_FRAMER_H
#define TF_FRAMER_H

#include <glib.h>
#include "tf-types.h"

G_BEGIN_DECLS

/* The `header` framing's fixed part, big-endian. */
#define TF_HEADER_MAGIC "TFRM"
#define TF_HEADER_SIZE 24
#define TF_HEADER_VERSION 1
#define TF_HEADER_FLAG_CAPS 0x01
#define TF_TIMESTAMP_NONE G_MAXUINT64

#define TF_FRAMER_ERROR (tf_framer_error_quark ())
GQuark tf_framer_error_quark (void);

typedef enum {
  TF_FRAMER_ERROR_TOO_LARGE,      /* declared or accumulated size over max_frame_size */
  TF_FRAMER_ERROR_EMPTY,          /* a frame of zero bytes */
  TF_FRAMER_ERROR_BAD_MAGIC,
  TF_FRAMER_ERROR_BAD_VERSION,
  TF_FRAMER_ERROR_BAD_FLAGS,      /* reserved flag bits set, or caps length without the caps flag */
  TF_FRAMER_ERROR_BAD_CAPS,       /* caps string empty, not UTF-8 or with a NUL */
  TF_FRAMER_ERROR_BAD_JPEG,       /* a marker segment that cannot be walked */
} TfFramerErrorCode;

typedef struct {
  TfFraming framing;
  guint64 frame_size;             /* raw: bytes per frame, > 0 */
  TfLengthFormat length_format;   /* length */
  guint64 max_frame_size;         /* > 0 */
} TfFramerConfig;

typedef enum {
  TF_FRAMER_WANT_BYTES,
  TF_FRAMER_WANT_BUFFER,
  TF_FRAMER_FRAME_READY,
  TF_FRAMER_FAILED,
} TfFramerStatus;

/* What is known about the frame in progress.  Valid from WANT_BUFFER (or,
 * for jpeg, FRAME_READY) until the frame is released. */
typedef struct {
  guint64 size;                   /* payload bytes */
  /* header framing only: */
  const gchar *caps;              /* NUL-terminated caps string if this frame carries one, else NULL */
  gboolean has_sequence;
  guint32 sequence;
  guint64 timestamp;              /* capture time in ns, TF_TIMESTAMP_NONE if unknown */
} TfFrameInfo;

typedef struct _TfFramer TfFramer;

TfFramer *tf_framer_new (const TfFramerConfig * config);
void tf_framer_free (TfFramer * f);

/* What the framer needs next.  For WANT_BYTES, *dst and *len say where up
 * to *len bytes go (len > 0); fewer is fine.  dst/len may be NULL for the
 * other statuses. */
TfFramerStatus tf_framer_poll (TfFramer * f, guint8 ** dst, gsize * len);

/* n bytes (0 < n <= len from the last poll) were written at dst. */
void tf_framer_advance (TfFramer * f, gsize n);

const TfFrameInfo *tf_framer_frame_info (TfFramer * f);

/* Storage for the frame announced by WANT_BUFFER: info->size writable
 * bytes, which must stay valid until FRAME_READY.  The framer does not
 * own it. */
void tf_framer_set_buffer (TfFramer * f, guint8 * mem);

/* Like tf_framer_set_buffer(), but only mem[0, capacity) is there yet, for
 * callers that grow a frame's storage as its bytes arrive rather than
 * trusting a peer's declared size.  When those bytes are filled, poll says
 * WANT_BUFFER again: copy the tf_framer_payload_received() bytes already
 * read into larger storage (or grow it in place) and call this again with
 * a larger capacity.  The new mem replaces the old one. */
void tf_framer_set_buffer_partial (TfFramer * f, guint8 * mem,
    guint64 capacity);

/* Bytes that were read before the framer asked for them: a caller that
 * reads ahead (the end of one frame and the next ones in one syscall)
 * hands them over here, in stream order.  Takes up to n of them and stops
 * early where the framer needs a buffer, has a frame ready or failed;
 * returns how many it took.  Bytes that already sit exactly where the
 * framer wants them (the caller guessed the next frame's storage right)
 * are not copied. */
gsize tf_framer_feed (TfFramer * f, const guint8 * bytes, gsize n);

/* How many bytes open every frame before its payload, for a caller that
 * lays out reads ahead of time: raw 0, length the prefix width, header
 * TF_HEADER_SIZE (a frame that carries caps has more, which
 * tf_framer_feed() sorts out).  -1 for jpeg, whose frames cannot be laid
 * out in advance. */
gint tf_framer_prefix_size (TfFramer * f);

/* Payload bytes of the frame in progress written so far. */
guint64 tf_framer_payload_received (TfFramer * f);

/* Ends the FRAME_READY frame and readies the framer for the next one.
 * For framings that read into caller storage this returns NULL: the frame
 * is in that storage.  Framings that must buffer internally (jpeg) return
 * a g_malloc()ed block the caller now owns, of *alloc_size bytes, with the
 * frame at [*offset, *offset + info->size).  The info pointer is invalid
 * after this call. */
gpointer tf_framer_release_frame (TfFramer * f, gsize * offset, gsize * alloc_size);

/* After FAILED: why.  The framer stays failed. */
const GError *tf_framer_get_error (TfFramer * f);

/* TRUE while bytes of an unfinished frame are held: a peer that leaves now
 * leaves mid-frame. */
gboolean tf_framer_in_frame (TfFramer * f);

/* Running counts for this connection. */
typedef struct {
  guint64 frames;
  guint64 skipped_bytes;          /* jpeg: bytes outside SOI..EOI */
  guint64 sequence_gaps;          /* header: frames whose sequence was not previous + 1 */
} TfFramerCounters;

const TfFramerCounters *tf_framer_get_counters (TfFramer * f);

/* Helpers shared with the sink side and the tests. */
guint tf_length_format_width (TfLengthFormat fmt);
void tf_length_write (TfLengthFormat fmt, guint64 value, guint8 * out);

/* Writes the 24-byte header of the `header` framing. */
void tf_header_write (guint8 out[TF_HEADER_SIZE], guint16 caps_len,
    guint32 payload_len, guint32 sequence, guint64 timestamp);

G_END_DECLS

#endif /* TF_FRAMER_H */
