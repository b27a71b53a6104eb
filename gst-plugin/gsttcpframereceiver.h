/* tcpframe: the receiving side's connection object.
 *
 * Owns the listening sockets, the current and pending peers, their framers
 * and the one GCancellable that every blocking call waits on.  It reports
 * what happens to peers through a callback and fatal problems as GError;
 * only the element turns those into bus messages.
 */
#ifndef GST_TCP_FRAME_RECEIVER_H
#define GST_TCP_FRAME_RECEIVER_H

#include <gst/gst.h>
#include <gio/gio.h>
#include "tf-framer.h"
#include "tf-arbiter.h"
#include "tf-allowlist.h"

G_BEGIN_DECLS

typedef struct _GstTcpFrameReceiver GstTcpFrameReceiver;

typedef struct {
  TfMode mode;
  gchar *host;                      /* server: bind; client: connect to */
  gint port;
  guint64 timeout_ns;
  TfPeerPolicy policy;
  guint max_pending;
  TfFramerConfig framer;
  /* Caps of frames that do not carry their own: all frames for raw, length
   * and jpeg; frames before the first caps string for header.  May be NULL
   * for header. */
  GstCaps *caps;
  /* client mode */
  guint64 connect_timeout_ns;
  guint64 retry_delay_ns;
  guint64 max_retry_delay_ns;
  gint max_retries;                 /* -1: forever */
  /* dead links noticed by the kernel, even with timeout 0 */
  gboolean keepalive;
  guint keepalive_idle_s;
  guint keepalive_interval_s;
  guint keepalive_count;
  /* server: who may connect; NULL or empty allows everyone.  Owned. */
  TfAllowList *allow;
} GstTcpFrameReceiverConfig;

typedef enum {
  GST_TCP_FRAME_PEER_CONNECTED,     /* became the current peer */
  GST_TCP_FRAME_PEER_DISCONNECTED,  /* stopped being the current peer */
  GST_TCP_FRAME_PEER_REJECTED,      /* dropped without ever being current */
} GstTcpFramePeerEventType;

typedef struct {
  GstTcpFramePeerEventType type;
  const gchar *address;
  guint16 port;
  TfReason reason;
  guint64 frames;                   /* frames pushed from this peer */
  const GError *error;              /* what was wrong, for protocol errors */
} GstTcpFramePeerEvent;

typedef void (*GstTcpFramePeerEventFunc) (const GstTcpFramePeerEvent * event,
    gpointer user_data);

/* Whether downstream can take frames of these caps; asked once per caps
 * change of a peer, before its frame is read. */
typedef gboolean (*GstTcpFrameAcceptCapsFunc) (GstCaps * caps,
    gpointer user_data);

/* Storage for one frame of `size` bytes, ideally from a buffer pool. */
typedef GstBuffer *(*GstTcpFrameAllocFunc) (gsize size, gpointer user_data);

typedef enum {
  GST_TCP_FRAME_RECEIVE_OK,
  GST_TCP_FRAME_RECEIVE_FLUSHING,
  GST_TCP_FRAME_RECEIVE_ERROR,
} GstTcpFrameReceiveResult;

typedef struct {
  guint64 frames;
  guint64 bytes;
  guint64 connections;
  guint64 replacements;
  guint64 timeouts;
  guint64 protocol_errors;
  guint64 rejected;
  guint64 sequence_gaps;
  guint64 skipped_bytes;
  guint64 connect_attempts;
  gchar *peer_address;              /* NULL when no peer is current */
  guint16 peer_port;
} GstTcpFrameReceiverStats;

GstTcpFrameReceiver *gst_tcp_frame_receiver_new (GstObject * owner,
    GstTcpFramePeerEventFunc on_event, GstTcpFrameAcceptCapsFunc accept_caps,
    GstTcpFrameAllocFunc alloc, gpointer user_data);
void gst_tcp_frame_receiver_free (GstTcpFrameReceiver * r);

/* Server: binds and listens.  Client: gets ready to connect (the first
 * attempt is made by the first receive).  The config is copied. */
gboolean gst_tcp_frame_receiver_start (GstTcpFrameReceiver * r,
    const GstTcpFrameReceiverConfig * config, GError ** error);
/* Closes every socket; the peers get an RST. */
void gst_tcp_frame_receiver_stop (GstTcpFrameReceiver * r);

guint16 gst_tcp_frame_receiver_get_port (GstTcpFrameReceiver * r);

/* Blocks until the current peer delivers a whole frame.  On OK, *buffer is
 * the frame (DISCONT on a peer's first) and *caps its caps, borrowed until
 * the next call.  ERROR is fatal: in client mode, max-retries ran out. */
GstTcpFrameReceiveResult gst_tcp_frame_receiver_receive (GstTcpFrameReceiver * r,
    GstBuffer ** buffer, GstCaps ** caps, GError ** error);

/* Drops the current peer, for a problem only the element can see (caps
 * that downstream refuses). */
void gst_tcp_frame_receiver_drop_current (GstTcpFrameReceiver * r,
    TfReason reason, const GError * why);

/* unlock / unlock_stop */
void gst_tcp_frame_receiver_cancel (GstTcpFrameReceiver * r);
void gst_tcp_frame_receiver_renew (GstTcpFrameReceiver * r);

/* Thread-safe snapshot; free with gst_tcp_frame_receiver_stats_clear(). */
void gst_tcp_frame_receiver_get_stats (GstTcpFrameReceiver * r,
    GstTcpFrameReceiverStats * stats);
void gst_tcp_frame_receiver_stats_clear (GstTcpFrameReceiverStats * stats);

TfStatus gst_tcp_frame_receiver_get_status (GstTcpFrameReceiver * r);

void gst_tcp_frame_receiver_config_clear (GstTcpFrameReceiverConfig * config);

G_END_DECLS

#endif /* GST_TCP_FRAME_RECEIVER_H */
