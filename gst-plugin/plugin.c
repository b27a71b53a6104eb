/* tcpframe: plugin registration. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>
#include "gsttcpframesrc.h"
#include "gsttcpframesink.h"

GST_DEBUG_CATEGORY (gst_tcp_frame_debug);

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ok = FALSE;

  GST_DEBUG_CATEGORY_INIT (gst_tcp_frame_debug, "tcpframe", 0,
      "TCP frame transport for cameras");
  ok |= GST_ELEMENT_REGISTER (tcpframesrc, plugin);
  ok |= GST_ELEMENT_REGISTER (tcpframesink, plugin);
  return ok;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, tcpframe,
    "Frames over plain TCP from cameras that reboot, go silent or reconnect",
    plugin_init, VERSION, "LGPL", GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
