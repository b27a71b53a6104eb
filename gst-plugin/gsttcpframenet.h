/* tcpframe: socket chores shared by the source's receiver and the sink's
 * sender: name resolution, listening on every address of a name, and the
 * abortive close both sides use on a peer they give up on. */
#ifndef GST_TCP_FRAME_NET_H
#define GST_TCP_FRAME_NET_H

#include <gio/gio.h>

G_BEGIN_DECLS

/* IP literals ("::1" or "[::1]" alike) without a lookup; names through the
 * default resolver, cancellable.  Free with g_resolver_free_addresses(). */
GList *gst_tcp_frame_resolve (const gchar * host, GCancellable * cancellable,
    GError ** error);

/* Listens, non-blocking, on every address `host` resolves to, all on one
 * port (`port`, or the one the kernel picks for the first when 0), adding
 * the sockets to `listeners`.  Fails only if no address could be used. */
gboolean gst_tcp_frame_listen (GObject * owner, const gchar * host,
    guint16 port, GCancellable * cancellable, GPtrArray * listeners,
    guint16 * bound_port, GError ** error);

void gst_tcp_frame_close_listeners (GPtrArray * listeners);

/* Closes with an RST (SO_LINGER 0): no FIN_WAIT or TIME_WAIT keeps the
 * 4-tuple busy, so a camera that reconnects from the same source port is
 * not refused, and the other side learns at once that it was dropped. */
void gst_tcp_frame_close_with_reset (GSocket * socket);

G_END_DECLS

#endif /* GST_TCP_FRAME_NET_H */
