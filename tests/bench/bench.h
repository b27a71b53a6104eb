/* tf-bench: receiver benchmark for tcpframesrc.
 *
 * Shared declarations of the benchmark's parts: frame sizes and wire
 * formats, the C sender (used both by the tf-bench-send process and by
 * in-process camera loops), the receivers under test, and the counters
 * that show where the payload bytes and allocations go.
 */
#ifndef TF_BENCH_H
#define TF_BENCH_H

#include <glib.h>

G_BEGIN_DECLS

/* ---- frame sizes ---- */

typedef struct {
  const gchar *name;            /* short name used on the command line */
  const gchar *label;           /* for tables */
  const gchar *format;          /* GstVideoFormat name */
  const gchar *parse_format;    /* rawvideoparse's nick for it */
  guint width;
  guint height;
  guint bpp;                    /* bytes per pixel */
} TfbSize;

extern const TfbSize tfb_sizes[];
extern const guint tfb_n_sizes;

const TfbSize *tfb_size_lookup (const gchar * name);
gsize tfb_size_bytes (const TfbSize * s);
/* video/x-raw caps of one frame, 30 fps */
gchar *tfb_size_caps (const TfbSize * s);

/* ---- wire formats ---- */

typedef enum {
  TFB_WIRE_RAW,                 /* the payload only */
  TFB_WIRE_HEADER,              /* tcpframe's header; caps on the first frame */
  TFB_WIRE_LENGTH,              /* u32 big-endian length, payload */
} TfbWire;

const gchar *tfb_wire_name (TfbWire wire);
gboolean tfb_wire_parse (const gchar * str, TfbWire * wire);

/* CLOCK_MONOTONIC in ns: the one clock every timestamp of the benchmark
 * is taken on, so times from the sender and the receiver compare. */
gint64 tfb_now_ns (void);
void tfb_sleep_until (gint64 deadline_ns);

/* Every payload starts with its sequence number (8 bytes, little endian),
 * so a receiver can tell which frame reached it without the header. */
guint64 tfb_payload_seq (const guint8 * payload);

/* ---- the sender ---- */

typedef struct _TfbFrames TfbFrames;

/* Pre-built frames: a batch of about batch_bytes (at least one frame) laid
 * out back to back, so small frames go out in large writes. */
TfbFrames *tfb_frames_new (TfbWire wire, const TfbSize * size,
    gsize batch_bytes);
void tfb_frames_free (TfbFrames * fr);

/* A blocking TCP connection to 127.0.0.1:port with TCP_NODELAY, or -1. */
gint tfb_connect (guint16 port, GError ** error);

/* One frame in one send (the first of a header connection carries the
 * caps).  FALSE with error when the receiver went away. */
gboolean tfb_send_frame (gint fd, TfbFrames * fr, guint64 seq,
    gboolean first, GError ** error);

/* Frames as fast as the socket takes them until deadline_ns (or forever
 * when 0) or until the receiver goes away, which is the normal end.
 * Returns the frames written. */
guint64 tfb_send_flat (gint fd, TfbFrames * fr, gint64 deadline_ns);

/* ---- I/O and allocation counters (bench-interpose.c) ---- */

typedef struct {
  guint64 recv_calls;
  guint64 recv_bytes;
  guint64 recv_would_block;
  guint64 poll_calls;
  guint64 mallocs;              /* malloc(), calloc(), realloc() */
  guint64 slices;               /* g_slice_alloc(), g_slice_alloc0() */
} TfbIoCounts;

/* While enabled, every recv(), poll() and heap allocation in the process
 * is counted, and each thread logs where its recv()s wrote. */
void tfb_io_enable (gboolean enable);
void tfb_io_counts (TfbIoCounts * out);
/* Bytes the calling thread received straight into [mem, mem + size)
 * since its previous call; the log is emptied either way. */
guint64 tfb_io_take_direct (const guint8 * mem, gsize size);

/* Makes a counting allocator GStreamer's default (or restores sysmem), so
 * every GstMemory allocated without an explicit allocator is counted. */
void tfb_alloc_count_install (gboolean install);
guint64 tfb_alloc_count (void);

/* ---- receivers (bench-recv.c) ---- */

typedef enum {
  TFB_RX_BARE,
  TFB_RX_TCPSERVERSRC,
  TFB_RX_TF_RAW,
  TFB_RX_TF_HEADER,
  TFB_RX_TF_LENGTH,
  TFB_RX_FLOOR,                 /* tfbnullsrc: no socket at all */
  TFB_RX_FLOOR_LIST,            /* the same, 16 frames per GstBufferList */
  TFB_N_RX
} TfbRxKind;

const gchar *tfb_rx_name (TfbRxKind kind);
const gchar *tfb_rx_label (TfbRxKind kind);
gboolean tfb_rx_parse (const gchar * str, TfbRxKind * kind);
TfbWire tfb_rx_wire (TfbRxKind kind);

typedef struct {
  TfbRxKind kind;
  const TfbSize *size;
  guint n_streams;              /* cameras, each on its own port */
  guint64 timeout_ns;           /* tcpframesrc timeout, 0: its default */
  guint max_seq;                /* > 0: record arrivals by sequence */
  gboolean check;               /* copy and pool checks at the sink */
  /* bare loop: read one frame per connection, then take the next one, as
   * tcpframesrc does when a camera reconnects */
  gboolean frame_per_connection;
} TfbRxConfig;

typedef struct {
  guint64 frames;
  guint64 bytes;
  guint64 min_stream_frames;    /* frames of the stream that has the fewest */
  /* check only */
  guint64 checked_frames;
  /* payload bytes recv()ed straight into the buffer that was pushed */
  guint64 direct_bytes;
  guint64 pooled_frames;        /* buffers that came from a buffer pool */
  guint distinct_memories;      /* distinct payload addresses seen */
} TfbRxCounts;

typedef struct _TfbRx TfbRx;

/* Registers tfbnullsrc (bench-nullsrc.c), the GStreamer floor. */
void tfb_nullsrc_register (void);

TfbRx *tfb_rx_start (const TfbRxConfig * cfg, GError ** error);
guint16 tfb_rx_port (TfbRx * rx, guint stream);
void tfb_rx_counts (TfbRx * rx, TfbRxCounts * out);
/* Arrival time (ns) of frame seq at the sink of stream 0, waiting until
 * deadline_ns; 0 if it did not arrive. */
gint64 tfb_rx_wait_seq (TfbRx * rx, guint64 seq, gint64 deadline_ns);
/* When the next tcpframesrc-disconnected message was posted, waiting until
 * deadline_ns; 0 if none.  *reason is its reason field. */
gint64 tfb_rx_wait_disconnect (TfbRx * rx, gint64 deadline_ns,
    gchar ** reason);
/* A field of tcpframesrc's stats, stream 0; 0 for other receivers. */
guint64 tfb_rx_stat (TfbRx * rx, const gchar * field);
/* The first error a pipeline posted, or NULL; free it. */
gchar *tfb_rx_take_error (TfbRx * rx);
void tfb_rx_stop (TfbRx * rx);

G_END_DECLS

#endif /* TF_BENCH_H */
