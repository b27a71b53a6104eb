/* tcpframe core: reading several frames per syscall.
 *
 * At 4 KiB a frame's syscall costs more than copying its bytes.  A caller
 * that has a frame's payload to read can offer, in the same scatter read,
 * storage for the frames after it: room for each one's prefix and memory
 * guessed to be each one's own (the current frame's size, which cameras
 * rarely change).  The bytes then go to the framer in stream order
 * (tf_framer_feed()); memory whose guess was right becomes a frame's
 * storage as it is, and a wrong guess (new size, new caps) costs a copy,
 * never a wrong frame.
 *
 * No sockets and no buffers here: the caller owns the memory, tags it,
 * does the read and tells how many bytes it got.
 */
#ifndef TF_READAHEAD_H
#define TF_READAHEAD_H

#include <glib.h>
#include "tf-framer.h"

G_BEGIN_DECLS

/* Only frames up to this size are read several at a time, at most this
 * many after the current one, in at most this many bytes: the syscall is
 * worth saving only for small frames, and each guess holds memory. */
#define TF_READ_AHEAD_FRAME_MAX (64 * 1024)
#define TF_READ_AHEAD_FRAMES 16
#define TF_READ_AHEAD_BYTES (256 * 1024)
#define TF_READ_AHEAD_REGIONS (2 * TF_READ_AHEAD_FRAMES + 1)

typedef struct {
  guint8 *ptr;
  gsize len;
  gsize filled;                 /* by the last read */
  gsize taken;                  /* by the framer */
  gint tag;                     /* the caller's frame memory index; -1: prefix room */
} TfReadAheadRegion;

typedef struct {
  TfReadAheadRegion regions[TF_READ_AHEAD_REGIONS];
  guint n_planned;              /* laid out for the next read */
  guint n_filled;               /* regions the last read reached */
  guint pos;                    /* first region not wholly taken */
  guint8 prefixes[TF_READ_AHEAD_FRAMES + 1][TF_HEADER_SIZE];
} TfReadAhead;

/* How many frames after the current one to guess memory for, for frames
 * of `size` bytes opened by `prefix` bytes (tf_framer_prefix_size()).
 * None unless the frame before had the same size: a stream whose frames
 * vary (compressed video, say) would only get guesses that are wrong, and
 * memory for them on every read. */
guint tf_read_ahead_frames (guint64 size, guint64 previous_size, gint prefix);

/* Lays out the storage after the current payload: before each of the k
 * frames, and after the last, room for a prefix; frames[i] (size bytes,
 * tagged i) for each frame.  With k = 0 only the next prefix is read
 * ahead.  Returns how many regions follow what the framer asked for;
 * their ptr and len describe the rest of the scatter read.  Only once the
 * bytes of the last read are all taken. */
guint tf_read_ahead_plan (TfReadAhead * ra, gint prefix,
    guint8 * const *frames, gsize size, guint k);

/* The read brought n bytes beyond what the framer asked for. */
void tf_read_ahead_filled (TfReadAhead * ra, gsize n);

/* Bytes read ahead that the framer has not taken. */
gboolean tf_read_ahead_pending (const TfReadAhead * ra);

/* Hands the framer, which wants bytes, the next ones read ahead. */
void tf_read_ahead_feed (TfReadAhead * ra, TfFramer * f);

/* When the framer wants storage for a frame: the tag of the memory the
 * next bytes went into, if nothing was taken from it yet, so it can be the
 * frame's storage as is; -1 otherwise. */
gint tf_read_ahead_next_tag (const TfReadAhead * ra);

/* Forgets what was read ahead (the connection is gone). */
void tf_read_ahead_clear (TfReadAhead * ra);

G_END_DECLS

#endif /* TF_READAHEAD_H */
