/* tcpframe: the reconnect properties shared by tcpframesrc and
 * tcpframesink. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsttcpframereconnect.h"

#define DEFAULT_CONNECT_TIMEOUT (5 * GST_SECOND)
#define DEFAULT_RETRY_DELAY (100 * GST_MSECOND)
#define MIN_RETRY_DELAY GST_MSECOND
#define DEFAULT_MAX_RETRY_DELAY (5 * GST_SECOND)
#define DEFAULT_MAX_RETRIES -1

void
gst_tcp_frame_reconnect_init (GstTcpFrameReconnect * reconnect)
{
  reconnect->connect_timeout = DEFAULT_CONNECT_TIMEOUT;
  reconnect->retry_delay = DEFAULT_RETRY_DELAY;
  reconnect->max_retry_delay = DEFAULT_MAX_RETRY_DELAY;
  reconnect->max_retries = DEFAULT_MAX_RETRIES;
}

void
gst_tcp_frame_reconnect_make_pspecs (GParamSpec ** pspecs,
    guint64 min_connect_timeout, const GstTcpFrameReconnectBlurbs * blurbs)
{
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  pspecs[GST_TCP_FRAME_RECONNECT_PROP_CONNECT_TIMEOUT] =
      g_param_spec_uint64 ("connect-timeout", "Connect timeout",
      blurbs->connect_timeout, min_connect_timeout, G_MAXUINT64,
      DEFAULT_CONNECT_TIMEOUT, rw);
  pspecs[GST_TCP_FRAME_RECONNECT_PROP_RETRY_DELAY] =
      g_param_spec_uint64 ("retry-delay", "Retry delay", blurbs->retry_delay,
      MIN_RETRY_DELAY, G_MAXUINT64, DEFAULT_RETRY_DELAY, rw);
  pspecs[GST_TCP_FRAME_RECONNECT_PROP_MAX_RETRY_DELAY] =
      g_param_spec_uint64 ("max-retry-delay", "Max retry delay",
      blurbs->max_retry_delay, MIN_RETRY_DELAY, G_MAXUINT64,
      DEFAULT_MAX_RETRY_DELAY, rw);
  pspecs[GST_TCP_FRAME_RECONNECT_PROP_MAX_RETRIES] =
      g_param_spec_int ("max-retries", "Max retries", blurbs->max_retries,
      -1, G_MAXINT, DEFAULT_MAX_RETRIES, rw);
}

void
gst_tcp_frame_reconnect_set_property (GstTcpFrameReconnect * reconnect,
    guint index, const GValue * value)
{
  switch (index) {
    case GST_TCP_FRAME_RECONNECT_PROP_CONNECT_TIMEOUT:
      reconnect->connect_timeout = g_value_get_uint64 (value);
      break;
    case GST_TCP_FRAME_RECONNECT_PROP_RETRY_DELAY:
      reconnect->retry_delay = g_value_get_uint64 (value);
      break;
    case GST_TCP_FRAME_RECONNECT_PROP_MAX_RETRY_DELAY:
      reconnect->max_retry_delay = g_value_get_uint64 (value);
      break;
    case GST_TCP_FRAME_RECONNECT_PROP_MAX_RETRIES:
      reconnect->max_retries = g_value_get_int (value);
      break;
    default:
      g_return_if_reached ();
  }
}

void
gst_tcp_frame_reconnect_get_property (const GstTcpFrameReconnect * reconnect,
    guint index, GValue * value)
{
  switch (index) {
    case GST_TCP_FRAME_RECONNECT_PROP_CONNECT_TIMEOUT:
      g_value_set_uint64 (value, reconnect->connect_timeout);
      break;
    case GST_TCP_FRAME_RECONNECT_PROP_RETRY_DELAY:
      g_value_set_uint64 (value, reconnect->retry_delay);
      break;
    case GST_TCP_FRAME_RECONNECT_PROP_MAX_RETRY_DELAY:
      g_value_set_uint64 (value, reconnect->max_retry_delay);
      break;
    case GST_TCP_FRAME_RECONNECT_PROP_MAX_RETRIES:
      g_value_set_int (value, reconnect->max_retries);
      break;
    default:
      g_return_if_reached ();
  }
}
