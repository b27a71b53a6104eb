/* tcpframe: tcpframesrc, a TCP camera source that survives reboots. */
#ifndef GST_TCP_FRAME_SRC_H
#define GST_TCP_FRAME_SRC_H

#include <gst/gst.h>
#include <gst/base/gstpushsrc.h>
#include "gsttcpframereceiver.h"

G_BEGIN_DECLS

#define GST_TYPE_TCP_FRAME_SRC (gst_tcp_frame_src_get_type ())
G_DECLARE_FINAL_TYPE (GstTcpFrameSrc, gst_tcp_frame_src, GST, TCP_FRAME_SRC,
    GstPushSrc)

GST_ELEMENT_REGISTER_DECLARE (tcpframesrc);

G_END_DECLS

#endif /* GST_TCP_FRAME_SRC_H */
