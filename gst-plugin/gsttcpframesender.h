/* tcpframe: the sending side's connection object.
 *
 * Owns the socket (and, in server mode, the listening sockets), the one
 * GCancellable every blocking call waits on, and the sending thread that
 * connects, reconnects and writes frames.  The element hands frames over
 * with gst_tcp_frame_sender_push(), which never waits for the network.  It
 * reports what happens to connections through a callback and fatal
 * problems as GError; only the element turns those into bus messages.
 */
#ifndef GST_TCP_FRAME_SENDER_H
#define GST_TCP_FRAME_SENDER_H

#include <gst/gst.h>
#include <gio/gio.h>
#include "tf-types.h"

G_BEGIN_DECLS

typedef struct _GstTcpFrameSender GstTcpFrameSender;

typedef struct {
  TfMode mode;
  gchar *host;
  gint port;
  TfFraming framing;
  TfLengthFormat length_format;
  guint64 connect_timeout_ns;       /* 0: the system's own */
  guint64 retry_delay_ns;
  guint64 max_retry_delay_ns;
  gint max_retries;                 /* -1: forever */
  guint64 send_timeout_ns;          /* 0: never */
  gboolean resend_last;
} GstTcpFrameSenderConfig;

/* One frame as the element hands it over. */
typedef struct {
  GstBuffer *buffer;
  /* header framing: the caps string of this frame (a GRefString), sent
   * whenever it differs from the last one sent on the connection */
  gchar *caps;
  guint32 sequence;
  guint64 timestamp;                /* ns since the epoch, or
                                     * TF_TIMESTAMP_NONE */
} GstTcpFrameSenderFrame;

typedef enum {
  GST_TCP_FRAME_SENDER_CONNECTED,
  GST_TCP_FRAME_SENDER_DISCONNECTED,
  /* client mode: more consecutive failed attempts than max-retries; the
   * sender stopped trying.  error says so, naming host:port and the last
   * failure, in words fit for the user. */
  GST_TCP_FRAME_SENDER_GAVE_UP,
} GstTcpFrameSenderEventType;

typedef struct {
  GstTcpFrameSenderEventType type;
  const gchar *address;             /* the peer; for GAVE_UP, the host */
  guint16 port;
  TfReason reason;                  /* DISCONNECTED */
  guint64 frames;                   /* DISCONNECTED: frames sent on it */
  const GError *error;              /* DISCONNECTED (when known), GAVE_UP */
} GstTcpFrameSenderEvent;

/* Called from the sending thread. */
typedef void (*GstTcpFrameSenderEventFunc) (const GstTcpFrameSenderEvent *
    event, gpointer user_data);

typedef enum {
  /* handed over, kept for after a reconnect, or dropped as stale: all
   * normal for a live stream, and all counted */
  GST_TCP_FRAME_SENDER_PUSH_OK,
  /* the framing cannot carry this frame (error says why); dropped */
  GST_TCP_FRAME_SENDER_PUSH_UNSENDABLE,
  /* the sender gave up connecting; error is the same as the GAVE_UP
   * event's */
  GST_TCP_FRAME_SENDER_PUSH_GAVE_UP,
} GstTcpFrameSenderPushResult;

typedef struct {
  guint64 frames;                   /* sent completely */
  guint64 bytes;                    /* payload bytes of those frames */
  guint64 dropped;                  /* handed over, never sent completely */
  guint64 connections;
  guint64 reconnects;               /* connections after the first */
  gchar *peer_address;              /* NULL when not connected */
  guint16 peer_port;
} GstTcpFrameSenderStats;

GstTcpFrameSender *gst_tcp_frame_sender_new (GstObject * owner,
    GstTcpFrameSenderEventFunc on_event, gpointer user_data);
void gst_tcp_frame_sender_free (GstTcpFrameSender * s);

/* Server mode binds and listens before returning, so bind errors come
 * from here; then the sending thread starts connecting or accepting.  The
 * config is copied. */
gboolean gst_tcp_frame_sender_start (GstTcpFrameSender * s,
    const GstTcpFrameSenderConfig * config, GError ** error);
/* Cancels whatever the thread waits on and joins it: prompt even
 * mid-connect or mid-send.  A frame cut short is ended with an RST. */
void gst_tcp_frame_sender_stop (GstTcpFrameSender * s);

/* Server mode: the bound port. */
guint16 gst_tcp_frame_sender_get_port (GstTcpFrameSender * s);

/* Takes the frame (its contents, which the caller must not free).
 * Returns at once: the newest frame waits for the sending thread in a
 * single slot, replacing (dropping) an older one that has not started
 * going out. */
GstTcpFrameSenderPushResult gst_tcp_frame_sender_push (GstTcpFrameSender * s,
    GstTcpFrameSenderFrame * frame, GError ** error);

/* Waits until every frame handed over has gone out, the connection is
 * lost, or gst_tcp_frame_sender_set_flushing() interrupts. */
void gst_tcp_frame_sender_drain (GstTcpFrameSender * s);

/* unlock / unlock_stop: while flushing, drain returns at once and the
 * waiting frame is dropped as stale. */
void gst_tcp_frame_sender_set_flushing (GstTcpFrameSender * s,
    gboolean flushing);

/* Thread-safe snapshot; free with gst_tcp_frame_sender_stats_clear(). */
void gst_tcp_frame_sender_get_stats (GstTcpFrameSender * s,
    GstTcpFrameSenderStats * stats);
void gst_tcp_frame_sender_stats_clear (GstTcpFrameSenderStats * stats);

void gst_tcp_frame_sender_frame_clear (GstTcpFrameSenderFrame * frame);
void gst_tcp_frame_sender_config_clear (GstTcpFrameSenderConfig * config);

G_END_DECLS

#endif /* GST_TCP_FRAME_SENDER_H */
