/* tcpframe: tcpframesink, which lets any pipeline act as a TCP camera. */
#ifndef GST_TCP_FRAME_SINK_H
#define GST_TCP_FRAME_SINK_H

#include <gst/gst.h>
#include <gst/base/gstbasesink.h>
#include "gsttcpframesender.h"

G_BEGIN_DECLS

#define GST_TYPE_TCP_FRAME_SINK (gst_tcp_frame_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstTcpFrameSink, gst_tcp_frame_sink, GST, TCP_FRAME_SINK,
    GstBaseSink)

GST_ELEMENT_REGISTER_DECLARE (tcpframesink);

G_END_DECLS

#endif /* GST_TCP_FRAME_SINK_H */
