/* tcpframe: socket chores shared by the receiver and the sender. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsttcpframenet.h"

#include <gst/gst.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

GST_DEBUG_CATEGORY_EXTERN (gst_tcp_frame_debug);
#define GST_CAT_DEFAULT gst_tcp_frame_debug

/* Pending peers are capped after accept (max-pending), so the kernel's
 * queue only has to absorb bursts: a port scan must not make a rebooted
 * camera's SYN wait for a retransmission. */
#define LISTEN_BACKLOG 128

GList *
gst_tcp_frame_resolve (const gchar * host, GCancellable * cancellable,
    GError ** error)
{
  gsize len = strlen (host);
  /* users write the brackets of "[::1]" out of habit */
  gchar *bare = (len >= 2 && host[0] == '[' && host[len - 1] == ']') ?
      g_strndup (host + 1, len - 2) : g_strdup (host);
  GInetAddress *addr = g_inet_address_new_from_string (bare);
  GResolver *resolver;
  GList *addrs;

  if (addr) {
    g_free (bare);
    return g_list_prepend (NULL, addr);
  }
  resolver = g_resolver_get_default ();
  addrs = g_resolver_lookup_by_name (resolver, bare, cancellable, error);
  g_object_unref (resolver);
  g_free (bare);
  return addrs;
}

static GSocket *
listen_on (GInetAddress * addr, guint16 port, GError ** error)
{
  GSocketAddress *sa = g_inet_socket_address_new (addr, port);
  GSocket *socket = g_socket_new (g_inet_address_get_family (addr),
      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);

  if (socket) {
    g_socket_set_blocking (socket, FALSE);
    g_socket_set_listen_backlog (socket, LISTEN_BACKLOG);
    if (!g_socket_bind (socket, sa, TRUE, error)
        || !g_socket_listen (socket, error))
      g_clear_object (&socket);
  }
  g_object_unref (sa);
  return socket;
}

gboolean
gst_tcp_frame_listen (GObject * owner, const gchar * host, guint16 port,
    GCancellable * cancellable, GPtrArray * listeners, guint16 * bound_port,
    GError ** error)
{
  GError *first_error = NULL;
  GList *addrs, *l;
  guint before = listeners->len;

  addrs = gst_tcp_frame_resolve (host, cancellable, error);
  if (!addrs)
    return FALSE;

  /* A name like "localhost" means both 127.0.0.1 and ::1 to the peers that
   * use it, so listen on every address it resolves to, on one port. */
  *bound_port = port;
  for (l = addrs; l; l = l->next) {
    GError *err = NULL;
    GSocket *socket = listen_on (l->data, *bound_port, &err);

    if (!socket) {
      gchar *name = g_inet_address_to_string (l->data);
      GST_DEBUG_OBJECT (owner, "not listening on %s: %s", name, err->message);
      g_free (name);
      if (!first_error)
        first_error = err;
      else
        g_error_free (err);
      continue;
    }
    if (*bound_port == 0) {
      GSocketAddress *local = g_socket_get_local_address (socket, NULL);
      *bound_port =
          g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
      g_object_unref (local);
    }
    g_ptr_array_add (listeners, socket);
  }
  g_resolver_free_addresses (addrs);

  if (listeners->len == before) {
    g_propagate_error (error, first_error);
    return FALSE;
  }
  g_clear_error (&first_error);
  GST_INFO_OBJECT (owner, "listening on %s port %u", host, *bound_port);
  return TRUE;
}

void
gst_tcp_frame_close_listeners (GPtrArray * listeners)
{
  guint i;

  for (i = 0; i < listeners->len; i++) {
    GSocket *socket = g_ptr_array_index (listeners, i);
    g_socket_close (socket, NULL);
    g_object_unref (socket);
  }
  g_ptr_array_set_size (listeners, 0);
}

void
gst_tcp_frame_close_with_reset (GSocket * socket)
{
  struct linger lg = { 1, 0 };

  if (setsockopt (g_socket_get_fd (socket), SOL_SOCKET, SO_LINGER, &lg,
          sizeof (lg)) < 0)
    GST_WARNING ("SO_LINGER failed: %s", g_strerror (errno));
  g_socket_close (socket, NULL);
}
