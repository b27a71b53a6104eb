/* tcpframe: the client-mode reconnect properties tcpframesrc and
 * tcpframesink both have (connect-timeout, retry-delay, max-retry-delay,
 * max-retries).  Their names, defaults, ranges and storage live here so the
 * two elements cannot drift apart; the blurbs stay with each element, as
 * each describes the backoff from its own side of the connection. */
#ifndef GST_TCP_FRAME_RECONNECT_H
#define GST_TCP_FRAME_RECONNECT_H

#include <gst/gst.h>

G_BEGIN_DECLS

/* An element declares its PROP_* ids for the four properties consecutively
 * in this order, so that prop_id - PROP_CONNECT_TIMEOUT is the index the
 * functions below take. */
typedef enum
{
  GST_TCP_FRAME_RECONNECT_PROP_CONNECT_TIMEOUT,
  GST_TCP_FRAME_RECONNECT_PROP_RETRY_DELAY,
  GST_TCP_FRAME_RECONNECT_PROP_MAX_RETRY_DELAY,
  GST_TCP_FRAME_RECONNECT_PROP_MAX_RETRIES,
  GST_TCP_FRAME_RECONNECT_N_PROPS
} GstTcpFrameReconnectProp;

/* Like the element's other properties, guarded by its object lock. */
typedef struct
{
  guint64 connect_timeout;
  guint64 retry_delay;
  guint64 max_retry_delay;
  gint max_retries;
} GstTcpFrameReconnect;

/* String literals only: the param specs keep the pointers
 * (G_PARAM_STATIC_STRINGS). */
typedef struct
{
  const gchar *connect_timeout;
  const gchar *retry_delay;
  const gchar *max_retry_delay;
  const gchar *max_retries;
} GstTcpFrameReconnectBlurbs;

void gst_tcp_frame_reconnect_init (GstTcpFrameReconnect * reconnect);

/* Fills pspecs[0 .. GST_TCP_FRAME_RECONNECT_N_PROPS - 1], for the element
 * to install with its others.  min_connect_timeout differs because only
 * the sender can leave the connect timeout to the system (0). */
void gst_tcp_frame_reconnect_make_pspecs (GParamSpec ** pspecs,
    guint64 min_connect_timeout, const GstTcpFrameReconnectBlurbs * blurbs);

void gst_tcp_frame_reconnect_set_property (GstTcpFrameReconnect * reconnect,
    guint index, const GValue * value);

void gst_tcp_frame_reconnect_get_property (const GstTcpFrameReconnect *
    reconnect, guint index, GValue * value);

G_END_DECLS

#endif /* GST_TCP_FRAME_RECONNECT_H */
