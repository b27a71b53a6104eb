/* tcpframe: the sending side's connection object.
 *
 * Two threads meet here.  The element's streaming thread calls push(),
 * which only swaps a frame into a single slot under a mutex: a live
 * upstream is never held up by the network.  The sending thread does
 * everything that can wait: resolving, connecting with backoff, accepting
 * (server mode), and writing frames on a non-blocking socket, each wait
 * being one poll over the cancellable, a wake-up pipe, the socket and the
 * listeners, with a deadline.  Stopping cancels the cancellable, which
 * every one of those polls watches, so stop is prompt wherever the thread
 * is.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsttcpframesender.h"
#include "gsttcpframenet.h"
#include "tcpframe-enumtypes.h"
#include "tf-backoff.h"
#include "tf-framer.h"
#include "tf-wire.h"

#include <glib-unix.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

GST_DEBUG_CATEGORY_EXTERN (gst_tcp_frame_debug);
#define GST_CAT_DEFAULT gst_tcp_frame_debug

#define ACCEPT_RETRY_MS 100
/* Reads per wake-up from a peer that talks back: a receiver has nothing
 * to say, but one that floods us must not keep the thread from sending. */
#define MAX_IDLE_READS 16

typedef enum
{
  WOKE_CANCELLED = 1 << 0,
  WOKE_FRAME = 1 << 1,          /* push() put a frame in the empty slot */
  WOKE_SOCKET = 1 << 2,
  WOKE_LISTENER = 1 << 3,
} Woke;                         /* 0: the deadline passed */

typedef enum
{
  SEND_DONE,
  SEND_LOST,                    /* the connection must go; reason says why */
  SEND_CANCELLED,
  SEND_REPLACED,                /* server: a newer peer connected meanwhile */
  SEND_SKIPPED,                 /* the frame could not be read; nothing sent */
} SendResult;

/* The current connection; sending thread only. */
typedef struct
{
  GSocket *socket;
  gchar *address;
  guint16 port;
  gchar *sent_caps;             /* GRefString: the caps last sent on it */
  guint64 frames;
} Connection;

struct _GstTcpFrameSender
{
  GstObject *owner;             /* for logging only */
  GstTcpFrameSenderEventFunc on_event;
  gpointer user_data;

  /* Set by start() before the thread exists; read-only while it runs. */
  GstTcpFrameSenderConfig config;

  GCancellable *cancellable;
  GPollFD cancel_pollfd;
  gboolean have_cancel_pollfd;
  gint wake_fds[2];             /* push() -> sending thread */
  GError *wake_error;           /* why there is no wake-up pipe */
  GThread *thread;

  GPtrArray *listeners;         /* GSocket, server mode */
  guint16 bound_port;

  /* sending thread only */
  TfBackoff backoff;
  GArray *pollfds;
  gint64 accept_paused_until;   /* after accept() failed, e.g. out of fds */

  GMutex lock;
  GCond cond;
  /* under lock */
  GstTcpFrameSenderFrame *slot; /* the newest frame not yet taken */
  gboolean in_flight;           /* the thread is writing a frame */
  gboolean connected;           /* frames handed over now will be sent */
  gboolean ever_connected;
  gboolean flushing;
  gboolean gave_up;
  GError *failure;
  GstTcpFrameSenderStats stats;
};

static gint64
now_us (void)
{
  return g_get_monotonic_time ();
}

static const gchar *
reason_nick (TfReason reason)
{
  GEnumValue *v = g_enum_get_value (g_type_class_peek (TF_TYPE_REASON), reason);
  return v ? v->value_nick : "unknown";
}

/* ---- frames and the slot ---- */

void
gst_tcp_frame_sender_frame_clear (GstTcpFrameSenderFrame * frame)
{
  gst_clear_buffer (&frame->buffer);
  g_clear_pointer (&frame->caps, g_ref_string_release);
}

static void
frame_free (GstTcpFrameSenderFrame * frame)
{
  if (frame) {
    gst_tcp_frame_sender_frame_clear (frame);
    g_free (frame);
  }
}

/* Under the lock: what was waiting is stale now. */
static GstTcpFrameSenderFrame *
slot_take_stale (GstTcpFrameSender * s)
{
  GstTcpFrameSenderFrame *stale = s->slot;

  if (stale)
    s->stats.dropped++;
  s->slot = NULL;
  return stale;
}

static void
wake_thread (GstTcpFrameSender * s)
{
  const guint8 b = 1;

  /* A full pipe already holds a wake-up: EAGAIN loses nothing. */
  if (write (s->wake_fds[1], &b, 1) < 0 && errno != EAGAIN && errno != EINTR)
    GST_WARNING_OBJECT (s->owner, "wake-up failed: %s", g_strerror (errno));
}

static void
drain_wake_pipe (GstTcpFrameSender * s)
{
  guint8 buf[64];
  gssize n;

  do {
    n = read (s->wake_fds[0], buf, sizeof (buf));
  } while (n > 0 || (n < 0 && errno == EINTR));
}

/* ---- events ---- */

static void
emit (GstTcpFrameSender * s, GstTcpFrameSenderEventType type,
    const gchar * address, guint16 port, TfReason reason, guint64 frames,
    const GError * error)
{
  GstTcpFrameSenderEvent ev = {
    .type = type,
    .address = address,
    .port = port,
    .reason = reason,
    .frames = frames,
    .error = error,
  };

  s->on_event (&ev, s->user_data);
}

/* ---- waiting ---- */

static void
add_pollfd (GstTcpFrameSender * s, gint fd, gushort events)
{
  GPollFD pfd = { fd, events, 0 };
  g_array_append_val (s->pollfds, pfd);
}

/* The one place the sending thread waits.  Watches the cancellable always,
 * the wake-up pipe when `frames`, `socket` for `socket_events`, and the
 * listeners when `listeners` (and accepting is not paused).  deadline is in
 * µs of the monotonic clock, -1 for none.  Returns what happened, 0 when
 * the deadline passed first. */
static guint
sender_wait (GstTcpFrameSender * s, GSocket * socket, gushort socket_events,
    gboolean frames, gboolean listeners, gint64 deadline, guint * listener)
{
  for (;;) {
    GPollFD *fds;
    gint64 now = now_us (), wake_at = deadline;
    gboolean with_listeners;
    guint i, idx = 0, woke = 0;
    gint timeout, n;

    if (g_cancellable_is_cancelled (s->cancellable))
      return WOKE_CANCELLED;
    if (deadline >= 0 && now >= deadline)
      return 0;

    with_listeners = listeners && s->listeners->len > 0
        && now >= s->accept_paused_until;
    if (listeners && !with_listeners
        && (wake_at < 0 || s->accept_paused_until < wake_at))
      wake_at = s->accept_paused_until;
    /* Without a cancellable fd, look at it now and then. */
    if (!s->have_cancel_pollfd && (wake_at < 0 || wake_at > now + 50000))
      wake_at = now + 50000;

    g_array_set_size (s->pollfds, 0);
    if (s->have_cancel_pollfd)
      g_array_append_val (s->pollfds, s->cancel_pollfd);
    if (frames)
      add_pollfd (s, s->wake_fds[0], G_IO_IN);
    if (socket)
      add_pollfd (s, g_socket_get_fd (socket), socket_events);
    if (with_listeners) {
      for (i = 0; i < s->listeners->len; i++)
        add_pollfd (s, g_socket_get_fd (g_ptr_array_index (s->listeners, i)),
            G_IO_IN);
    }

    if (wake_at < 0)
      timeout = -1;
    else
      timeout = (gint) MIN ((wake_at - now + 999) / 1000, G_MAXINT);

    n = g_poll ((GPollFD *) s->pollfds->data, s->pollfds->len, timeout);
    if (n < 0) {
      if (errno != EINTR) {
        GST_WARNING_OBJECT (s->owner, "poll failed: %s", g_strerror (errno));
        g_usleep (10000);
      }
      continue;
    }
    if (n == 0)
      continue;

    fds = (GPollFD *) s->pollfds->data;
    if (s->have_cancel_pollfd && fds[idx++].revents)
      woke |= WOKE_CANCELLED;
    if (frames && fds[idx++].revents)
      woke |= WOKE_FRAME;
    /* Errors and hang-ups count: the caller finds out which by using the
     * socket. */
    if (socket && fds[idx++].revents)
      woke |= WOKE_SOCKET;
    if (with_listeners) {
      for (i = 0; i < s->listeners->len; i++, idx++) {
        if (fds[idx].revents && !(woke & WOKE_LISTENER)) {
          woke |= WOKE_LISTENER;
          if (listener)
            *listener = i;
        }
      }
    }
    if (woke)
      return woke;
  }
}

/* Sleeps for the backoff delay; FALSE when cancelled meanwhile. */
static gboolean
sleep_backoff (GstTcpFrameSender * s)
{
  guint64 delay = tf_backoff_next (&s->backoff);

  GST_DEBUG_OBJECT (s->owner, "next attempt in %" G_GUINT64_FORMAT " ms",
      delay / GST_MSECOND);
  return !(sender_wait (s, NULL, 0, FALSE, FALSE,
          now_us () + (gint64) (delay / 1000), NULL) & WOKE_CANCELLED);
}

/* ---- sockets ---- */

/* A connection we drop gets an RST rather than a FIN: nothing half-sent
 * lingers in the kernel trying to reach a peer we gave up on, and the
 * receiver learns at once that the frame it was reading will not end. */
static void
close_socket (GSocket * socket, gboolean reset)
{
  if (reset)
    gst_tcp_frame_close_with_reset (socket);
  else
    g_socket_close (socket, NULL);
}

static void
prepare_socket (GSocket * socket)
{
  GError *err = NULL;

  g_socket_set_blocking (socket, FALSE);
  /* A frame is written in one go; Nagle would hold its last segment back
   * until the previous one is acknowledged, adding latency for nothing. */
  if (!g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, 1, &err)) {
    GST_DEBUG ("TCP_NODELAY: %s", err->message);
    g_error_free (err);
  }
}

static GSocket *
try_connect (GstTcpFrameSender * s, GInetAddress * addr, GError ** error)
{
  GSocketAddress *sa = g_inet_socket_address_new (addr, s->config.port);
  GSocket *socket;
  GError *err = NULL;

  socket = g_socket_new (g_inet_address_get_family (addr),
      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &err);
  if (!socket)
    goto fail;
  prepare_socket (socket);

  if (!g_socket_connect (socket, sa, s->cancellable, &err)) {
    gint64 deadline = -1;
    guint woke;

    if (!g_error_matches (err, G_IO_ERROR, G_IO_ERROR_PENDING))
      goto fail;
    g_clear_error (&err);

    if (s->config.connect_timeout_ns)
      deadline = now_us () + (gint64) (s->config.connect_timeout_ns / 1000);
    woke = sender_wait (s, socket, G_IO_OUT, FALSE, FALSE, deadline, NULL);
    if (woke & WOKE_CANCELLED) {
      g_set_error_literal (&err, G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled");
      goto fail;
    }
    if (!woke) {
      g_set_error (&err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
          "no answer within connect-timeout (%" G_GUINT64_FORMAT " ms)",
          s->config.connect_timeout_ns / GST_MSECOND);
      goto fail;
    }
    if (!g_socket_check_connect_result (socket, &err))
      goto fail;
  }
  g_object_unref (sa);
  return socket;

fail:
  if (socket) {
    g_socket_close (socket, NULL);
    g_object_unref (socket);
  }
  g_object_unref (sa);
  g_propagate_error (error, err);
  return NULL;
}

/* One attempt: every address the host resolves to, in order. */
static GSocket *
connect_once (GstTcpFrameSender * s, GError ** error)
{
  GError *last = NULL;
  GList *addrs, *l;

  addrs = gst_tcp_frame_resolve (s->config.host, s->cancellable, error);
  if (!addrs)
    return NULL;

  for (l = addrs; l; l = l->next) {
    GError *err = NULL;
    GSocket *socket = try_connect (s, l->data, &err);

    if (socket) {
      g_clear_error (&last);
      g_resolver_free_addresses (addrs);
      return socket;
    }
    if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      g_clear_error (&last);
      last = err;
      break;
    }
    if (gst_debug_category_get_threshold (GST_CAT_DEFAULT) >= GST_LEVEL_DEBUG) {
      gchar *addr = g_inet_address_to_string (l->data);
      GST_DEBUG_OBJECT (s->owner, "connecting to %s failed: %s", addr,
          err->message);
      g_free (addr);
    }
    g_clear_error (&last);
    last = err;
  }
  g_resolver_free_addresses (addrs);
  g_propagate_error (error, last);
  return NULL;
}

static GSocket *
accept_from (GstTcpFrameSender * s, guint listener)
{
  GError *err = NULL;
  GSocket *socket = g_socket_accept (g_ptr_array_index (s->listeners,
          listener), s->cancellable, &err);

  if (!socket) {
    if (!g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)
        && !g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      /* Out of file descriptors, say: the listener stays readable, so
       * trying again at once would spin.  The current peer is unaffected. */
      GST_WARNING_OBJECT (s->owner, "accept failed, pausing new connections "
          "for %d ms: %s", ACCEPT_RETRY_MS, err->message);
      s->accept_paused_until = now_us () + ACCEPT_RETRY_MS * 1000;
    }
    g_error_free (err);
    return NULL;
  }
  prepare_socket (socket);
  return socket;
}

/* ---- one connection ---- */

static void
connection_begin (GstTcpFrameSender * s, Connection * c, GSocket * socket)
{
  GSocketAddress *sa = g_socket_get_remote_address (socket, NULL);

  c->socket = socket;
  if (sa && G_IS_INET_SOCKET_ADDRESS (sa)) {
    GInetSocketAddress *isa = G_INET_SOCKET_ADDRESS (sa);
    c->address =
        g_inet_address_to_string (g_inet_socket_address_get_address (isa));
    c->port = g_inet_socket_address_get_port (isa);
  } else {
    c->address = g_strdup ("unknown");
  }
  g_clear_object (&sa);

  GST_INFO_OBJECT (s->owner, "connected to %s:%u", c->address, c->port);
  g_mutex_lock (&s->lock);
  s->connected = TRUE;
  s->stats.connections++;
  if (s->ever_connected)
    s->stats.reconnects++;
  s->ever_connected = TRUE;
  s->stats.peer_address = g_strdup (c->address);
  s->stats.peer_port = c->port;
  g_mutex_unlock (&s->lock);

  emit (s, GST_TCP_FRAME_SENDER_CONNECTED, c->address, c->port,
      TF_REASON_NONE, 0, NULL);
}

/* `report` is FALSE when stopping: the element is going away, nobody
 * disconnected. */
static void
connection_end (GstTcpFrameSender * s, Connection * c, TfReason reason,
    const GError * error, gboolean reset, gboolean report)
{
  GstTcpFrameSenderFrame *stale = NULL;

  g_mutex_lock (&s->lock);
  s->connected = FALSE;
  /* A replacement connects at once, so the waiting frame is still fresh;
   * otherwise it is stale unless resend-last keeps it. */
  if (!s->config.resend_last && reason != TF_REASON_REPLACED)
    stale = slot_take_stale (s);
  g_clear_pointer (&s->stats.peer_address, g_free);
  s->stats.peer_port = 0;
  g_cond_broadcast (&s->cond);
  g_mutex_unlock (&s->lock);
  frame_free (stale);

  /* Close before reporting, so whoever reacts to the message already sees
   * the socket gone. */
  close_socket (c->socket, reset);
  g_clear_object (&c->socket);

  if (report) {
    GST_INFO_OBJECT (s->owner, "disconnected from %s:%u (%s%s%s) after %"
        G_GUINT64_FORMAT " frames", c->address, c->port, reason_nick (reason),
        error ? ": " : "", error ? error->message : "", c->frames);
    emit (s, GST_TCP_FRAME_SENDER_DISCONNECTED, c->address, c->port, reason,
        c->frames, error);
  }
  g_clear_pointer (&c->address, g_free);
  g_clear_pointer (&c->sent_caps, g_ref_string_release);
}

static GstTcpFrameSenderFrame *
take_frame (GstTcpFrameSender * s)
{
  GstTcpFrameSenderFrame *frame;

  g_mutex_lock (&s->lock);
  frame = s->slot;
  s->slot = NULL;
  s->in_flight = (frame != NULL);
  g_mutex_unlock (&s->lock);
  return frame;
}

/* The frame taken by take_frame() is out, or will never be on this
 * connection.  resend-last puts an unsent one back, unless a newer frame
 * took its place meanwhile. */
static void
frame_done (GstTcpFrameSender * s, GstTcpFrameSenderFrame * frame,
    SendResult result)
{
  g_mutex_lock (&s->lock);
  s->in_flight = FALSE;
  if (result == SEND_DONE) {
    s->stats.frames++;
    s->stats.bytes += gst_buffer_get_size (frame->buffer);
  } else if (s->config.resend_last && !s->slot && !s->gave_up
      && (result == SEND_LOST || result == SEND_REPLACED)) {
    s->slot = frame;
    frame = NULL;
  } else {
    s->stats.dropped++;
  }
  g_cond_broadcast (&s->cond);
  g_mutex_unlock (&s->lock);
  frame_free (frame);
}

/* Writes one frame: prefix, caps string if the peer has not seen it, then
 * the payload straight from the buffer's memory.  Non-blocking, so that a
 * peer that stops reading is noticed: a send that makes no progress for
 * send-timeout loses the connection. */
static SendResult
send_frame (GstTcpFrameSender * s, Connection * c,
    GstTcpFrameSenderFrame * frame, TfReason * reason, GError ** error,
    GSocket ** incoming, gboolean * mid_frame)
{
  const GstTcpFrameSenderConfig *cfg = &s->config;
  guint n_mem = gst_buffer_n_memory (frame->buffer);
  GstMapInfo *maps = g_newa (GstMapInfo, n_mem);
  TfWireChunk *chunks = g_newa (TfWireChunk, n_mem + 2);
  TfWireChunk *pending = g_newa (TfWireChunk, n_mem + 2);
  GOutputVector *vectors = g_newa (GOutputVector, n_mem + 2);
  guint8 prefix[TF_WIRE_PREFIX_MAX];
  gsize prefix_len, caps_len = 0;
  gboolean with_caps = FALSE;
  TfWireCursor cursor;
  SendResult result = SEND_DONE;
  gint64 deadline = -1;
  guint i, n_mapped;

  for (n_mapped = 0; n_mapped < n_mem; n_mapped++) {
    GstMemory *mem = gst_buffer_peek_memory (frame->buffer, n_mapped);
    if (!gst_memory_map (mem, &maps[n_mapped], GST_MAP_READ)) {
      GST_WARNING_OBJECT (s->owner, "cannot read frame %u, dropping it",
          frame->sequence);
      result = SEND_SKIPPED;
      goto done;
    }
  }

  if (cfg->framing == TF_FRAMING_HEADER && frame->caps
      && (!c->sent_caps || strcmp (c->sent_caps, frame->caps) != 0)) {
    with_caps = TRUE;
    caps_len = g_ref_string_length (frame->caps);
  }
  prefix_len = tf_wire_prefix (cfg->framing, cfg->length_format,
      gst_buffer_get_size (frame->buffer), caps_len, frame->sequence,
      frame->timestamp, prefix);

  chunks[0].data = prefix;
  chunks[0].size = prefix_len;
  chunks[1].data = (const guint8 *) frame->caps;
  chunks[1].size = caps_len;
  for (i = 0; i < n_mem; i++) {
    chunks[2 + i].data = maps[i].data;
    chunks[2 + i].size = maps[i].size;
  }
  tf_wire_cursor_init (&cursor, chunks, n_mem + 2);

  if (cfg->send_timeout_ns)
    deadline = now_us () + (gint64) (cfg->send_timeout_ns / 1000);

  while (!tf_wire_cursor_done (&cursor)) {
    guint n = tf_wire_cursor_pending (&cursor, pending, n_mem + 2);
    GError *err = NULL;
    gssize sent;
    guint woke, listener = 0;

    for (i = 0; i < n; i++) {
      vectors[i].buffer = pending[i].data;
      vectors[i].size = pending[i].size;
    }
    sent = g_socket_send_message (c->socket, NULL, vectors, n, NULL, 0, 0,
        s->cancellable, &err);
    if (sent > 0) {
      tf_wire_cursor_advance (&cursor, sent);
      if (cfg->send_timeout_ns)
        deadline = now_us () + (gint64) (cfg->send_timeout_ns / 1000);
      continue;
    }
    if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      g_error_free (err);
      result = SEND_CANCELLED;
      break;
    }
    if (!g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
      /* EPIPE, ECONNRESET: the receiver is gone, or its host is. */
      *reason = TF_REASON_RESET;
      if (err)
        g_propagate_error (error, err);
      result = SEND_LOST;
      break;
    }
    g_error_free (err);

    woke = sender_wait (s, c->socket, G_IO_OUT, FALSE,
        cfg->mode == TF_MODE_SERVER, deadline, &listener);
    if (woke & WOKE_CANCELLED) {
      result = SEND_CANCELLED;
      break;
    }
    if ((woke & WOKE_LISTENER) && (*incoming = accept_from (s, listener))) {
      result = SEND_REPLACED;
      break;
    }
    if (!woke) {
      *reason = TF_REASON_SEND_TIMEOUT;
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
          "the peer took nothing for %" G_GUINT64_FORMAT " ms (send-timeout)"
          " with %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes of "
          "frame %u sent", cfg->send_timeout_ns / GST_MSECOND, cursor.sent,
          cursor.total, frame->sequence);
      result = SEND_LOST;
      break;
    }
  }
  *mid_frame = tf_wire_cursor_mid_frame (&cursor);

  if (result == SEND_DONE && with_caps) {
    g_clear_pointer (&c->sent_caps, g_ref_string_release);
    c->sent_caps = g_ref_string_acquire (frame->caps);
  }

done:
  for (i = 0; i < n_mapped; i++)
    gst_memory_unmap (gst_buffer_peek_memory (frame->buffer, i), &maps[i]);
  return result;
}

/* The connection is idle and its socket woke us: FALSE when the peer
 * closed or reset it. */
static gboolean
peer_still_there (GstTcpFrameSender * s, Connection * c, TfReason * reason,
    GError ** error)
{
  guint i;

  for (i = 0; i < MAX_IDLE_READS; i++) {
    gchar scratch[1024];
    GError *err = NULL;
    gssize n = g_socket_receive_with_blocking (c->socket, scratch,
        sizeof (scratch), FALSE, s->cancellable, &err);

    /* Whatever a receiver says is read and ignored, so it can never fill
     * our receive buffer. */
    if (n > 0)
      continue;
    if (n == 0) {
      *reason = TF_REASON_CLOSED;
      return FALSE;
    }
    if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)
        || g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      g_error_free (err);
      return TRUE;
    }
    *reason = TF_REASON_RESET;
    g_propagate_error (error, err);
    return FALSE;
  }
  return TRUE;
}

/* Streams to one peer until the connection ends.  In server mode, returns
 * the newer connection that replaced it, if that is why.  A connection
 * that ends before a whole frame went out proved nothing (think of a port
 * forwarder that accepts and closes while its backend is down): *dead then
 * says why, and the caller counts it as a failed attempt. */
static GSocket *
serve_connection (GstTcpFrameSender * s, GSocket * socket, GError ** dead)
{
  gboolean server = (s->config.mode == TF_MODE_SERVER);
  Connection c = { 0, };
  GSocket *incoming = NULL;
  TfReason reason = TF_REASON_NONE;
  GError *error = NULL;
  gboolean reset = TRUE, report = TRUE;

  connection_begin (s, &c, socket);
  for (;;) {
    GstTcpFrameSenderFrame *frame = take_frame (s);
    guint woke, listener = 0;

    if (frame) {
      gboolean mid_frame = FALSE;
      SendResult r = send_frame (s, &c, frame, &reason, &error, &incoming,
          &mid_frame);

      frame_done (s, frame, r);
      if (r == SEND_DONE) {
        /* This peer works: the next outage starts its backoff and its
         * retry count afresh. */
        if (c.frames++ == 0)
          tf_backoff_reset (&s->backoff);
        continue;
      }
      if (r == SEND_SKIPPED)
        continue;
      if (r == SEND_CANCELLED) {
        /* Only half a frame must not end in an orderly FIN. */
        reset = mid_frame;
        report = FALSE;
      } else if (r == SEND_REPLACED) {
        reason = TF_REASON_REPLACED;
      }
      break;
    }

    woke = sender_wait (s, c.socket, G_IO_IN, TRUE, server, -1, &listener);
    if (woke & WOKE_CANCELLED) {
      reset = FALSE;
      report = FALSE;
      break;
    }
    if ((woke & WOKE_SOCKET) && !peer_still_there (s, &c, &reason, &error)) {
      reset = (reason != TF_REASON_CLOSED);
      break;
    }
    if ((woke & WOKE_LISTENER) && (incoming = accept_from (s, listener))) {
      reason = TF_REASON_REPLACED;
      break;
    }
    if (woke & WOKE_FRAME)
      drain_wake_pipe (s);
  }
  if (report && c.frames == 0 && dead) {
    g_set_error (dead, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
        "the receiver accepted, then dropped the connection (%s) before a "
        "frame went out", reason_nick (reason));
  }
  connection_end (s, &c, reason, error, reset, report);
  g_clear_error (&error);
  return incoming;
}

/* ---- the sending thread ---- */

/* host:port as users write it, with brackets around IPv6 addresses. */
static gchar *
endpoint_string (const gchar * host, gint port)
{
  if (strchr (host, ':') && host[0] != '[')
    return g_strdup_printf ("[%s]:%d", host, port);
  return g_strdup_printf ("%s:%d", host, port);
}

static void
give_up (GstTcpFrameSender * s, guint attempts, const GError * why)
{
  GstTcpFrameSenderFrame *stale;
  gchar *where = endpoint_string (s->config.host, s->config.port);
  GError *failure = g_error_new (why->domain, why->code,
      "Could not connect to %s after %u attempts: %s", where, attempts,
      why->message);

  GST_WARNING_OBJECT (s->owner, "%s", failure->message);
  /* Failed before it is reported: whoever sees the report and pushes
   * finds the failure.  The element makes sure its error message is
   * posted before any flow error, whichever thread gets there first. */
  g_mutex_lock (&s->lock);
  s->gave_up = TRUE;
  s->failure = failure;
  stale = slot_take_stale (s);
  g_cond_broadcast (&s->cond);
  g_mutex_unlock (&s->lock);
  frame_free (stale);

  emit (s, GST_TCP_FRAME_SENDER_GAVE_UP, s->config.host, s->config.port,
      TF_REASON_NONE, 0, failure);
  g_free (where);
}

static void
run_client (GstTcpFrameSender * s)
{
  gboolean first = TRUE;

  while (!g_cancellable_is_cancelled (s->cancellable)) {
    GError *err = NULL;
    GSocket *socket;
    gboolean more;

    /* Between all attempts, also after a lost connection: a peer that
     * accepts and closes at once must not be hammered. */
    if (!first && !sleep_backoff (s))
      break;
    first = FALSE;

    socket = connect_once (s, &err);
    if (socket) {
      /* A connection that carried a frame reset the retry count. */
      serve_connection (s, socket, &err);
      if (!err)
        continue;
    } else if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      g_error_free (err);
      break;
    }

    more = tf_backoff_failed (&s->backoff);
    GST_INFO_OBJECT (s->owner, "attempt %u to connect to %s:%d failed: %s",
        s->backoff.failures, s->config.host, s->config.port, err->message);
    if (!more) {
      give_up (s, s->backoff.failures, err);
      g_error_free (err);
      break;
    }
    g_error_free (err);
  }
}

static void
run_server (GstTcpFrameSender * s)
{
  GSocket *incoming = NULL;

  while (!g_cancellable_is_cancelled (s->cancellable)) {
    guint woke, listener = 0;

    if (incoming) {
      GSocket *socket = incoming;
      incoming = serve_connection (s, socket, NULL);
      continue;
    }
    woke = sender_wait (s, NULL, 0, FALSE, TRUE, -1, &listener);
    if (woke & WOKE_CANCELLED)
      break;
    if (woke & WOKE_LISTENER)
      incoming = accept_from (s, listener);
  }
  if (incoming) {
    close_socket (incoming, TRUE);
    g_object_unref (incoming);
  }
}

static gpointer
sender_thread (gpointer data)
{
  GstTcpFrameSender *s = data;

  if (s->config.mode == TF_MODE_CLIENT)
    run_client (s);
  else
    run_server (s);
  GST_DEBUG_OBJECT (s->owner, "sending thread ends");
  return NULL;
}

/* ---- public API ---- */

GstTcpFrameSender *
gst_tcp_frame_sender_new (GstObject * owner,
    GstTcpFrameSenderEventFunc on_event, gpointer user_data)
{
  GstTcpFrameSender *s = g_new0 (GstTcpFrameSender, 1);
  GError *err = NULL;

  s->owner = owner;
  s->on_event = on_event;
  s->user_data = user_data;
  s->listeners = g_ptr_array_new ();
  s->pollfds = g_array_new (FALSE, FALSE, sizeof (GPollFD));
  g_mutex_init (&s->lock);
  g_cond_init (&s->cond);

  s->wake_fds[0] = s->wake_fds[1] = -1;
  if (!g_unix_open_pipe (s->wake_fds, FD_CLOEXEC, &err)
      || !g_unix_set_fd_nonblocking (s->wake_fds[0], TRUE, &err)
      || !g_unix_set_fd_nonblocking (s->wake_fds[1], TRUE, &err)) {
    /* start() reports it; nothing can be sent without it. */
    s->wake_error = err;
  }

  s->cancellable = g_cancellable_new ();
  s->have_cancel_pollfd =
      g_cancellable_make_pollfd (s->cancellable, &s->cancel_pollfd);
  /* reason_nick() peeks the class. */
  g_type_class_ref (TF_TYPE_REASON);
  return s;
}

void
gst_tcp_frame_sender_free (GstTcpFrameSender * s)
{
  gst_tcp_frame_sender_stop (s);
  if (s->have_cancel_pollfd)
    g_cancellable_release_fd (s->cancellable);
  g_object_unref (s->cancellable);
  if (s->wake_fds[0] >= 0)
    close (s->wake_fds[0]);
  if (s->wake_fds[1] >= 0)
    close (s->wake_fds[1]);
  g_clear_error (&s->wake_error);
  g_ptr_array_free (s->listeners, TRUE);
  g_array_free (s->pollfds, TRUE);
  gst_tcp_frame_sender_stats_clear (&s->stats);
  g_clear_error (&s->failure);
  gst_tcp_frame_sender_config_clear (&s->config);
  g_mutex_clear (&s->lock);
  g_cond_clear (&s->cond);
  g_type_class_unref (g_type_class_peek (TF_TYPE_REASON));
  g_free (s);
}

void
gst_tcp_frame_sender_config_clear (GstTcpFrameSenderConfig * config)
{
  g_clear_pointer (&config->host, g_free);
}

static gboolean
listen_all (GstTcpFrameSender * s, GError ** error)
{
  return gst_tcp_frame_listen (G_OBJECT (s->owner), s->config.host,
      s->config.port, s->cancellable, s->listeners, &s->bound_port, error);
}

static void
close_listeners (GstTcpFrameSender * s)
{
  gst_tcp_frame_close_listeners (s->listeners);
  s->bound_port = 0;
}

gboolean
gst_tcp_frame_sender_start (GstTcpFrameSender * s,
    const GstTcpFrameSenderConfig * config, GError ** error)
{
  gst_tcp_frame_sender_stop (s);

  if (s->wake_error) {
    g_propagate_error (error, g_error_copy (s->wake_error));
    return FALSE;
  }

  /* A previous stop left it cancelled. */
  if (g_cancellable_is_cancelled (s->cancellable)) {
    if (s->have_cancel_pollfd)
      g_cancellable_release_fd (s->cancellable);
    g_object_unref (s->cancellable);
    s->cancellable = g_cancellable_new ();
    s->have_cancel_pollfd =
        g_cancellable_make_pollfd (s->cancellable, &s->cancel_pollfd);
  }
  drain_wake_pipe (s);

  gst_tcp_frame_sender_config_clear (&s->config);
  s->config = *config;
  s->config.host = g_strdup (config->host);

  g_mutex_lock (&s->lock);
  gst_tcp_frame_sender_stats_clear (&s->stats);
  memset (&s->stats, 0, sizeof (s->stats));
  s->connected = FALSE;
  s->ever_connected = FALSE;
  s->in_flight = FALSE;
  s->flushing = FALSE;
  s->gave_up = FALSE;
  g_clear_error (&s->failure);
  g_mutex_unlock (&s->lock);

  tf_backoff_clear (&s->backoff);
  tf_backoff_init (&s->backoff, config->retry_delay_ns,
      config->max_retry_delay_ns, config->max_retries, 0);
  s->accept_paused_until = 0;

  if (config->mode == TF_MODE_SERVER && !listen_all (s, error))
    return FALSE;

  s->thread = g_thread_try_new ("tcpframesink", sender_thread, s, error);
  if (!s->thread) {
    close_listeners (s);
    return FALSE;
  }
  return TRUE;
}

void
gst_tcp_frame_sender_stop (GstTcpFrameSender * s)
{
  GstTcpFrameSenderFrame *stale;

  g_cancellable_cancel (s->cancellable);
  if (s->thread) {
    g_thread_join (s->thread);
    s->thread = NULL;
  }
  close_listeners (s);
  tf_backoff_clear (&s->backoff);

  g_mutex_lock (&s->lock);
  stale = slot_take_stale (s);
  s->connected = FALSE;
  g_cond_broadcast (&s->cond);
  g_mutex_unlock (&s->lock);
  frame_free (stale);
}

guint16
gst_tcp_frame_sender_get_port (GstTcpFrameSender * s)
{
  return s->bound_port;
}

GstTcpFrameSenderPushResult
gst_tcp_frame_sender_push (GstTcpFrameSender * s,
    GstTcpFrameSenderFrame * frame, GError ** error)
{
  GstTcpFrameSenderFrame *stale = NULL, *mine;
  GstTcpFrameSenderPushResult result = GST_TCP_FRAME_SENDER_PUSH_OK;
  gboolean wake = FALSE;

  if (!tf_wire_check (s->config.framing, s->config.length_format,
          gst_buffer_get_size (frame->buffer),
          frame->caps ? g_ref_string_length (frame->caps) : 0, error)) {
    g_mutex_lock (&s->lock);
    s->stats.dropped++;
    g_mutex_unlock (&s->lock);
    gst_tcp_frame_sender_frame_clear (frame);
    return GST_TCP_FRAME_SENDER_PUSH_UNSENDABLE;
  }

  mine = g_new (GstTcpFrameSenderFrame, 1);
  *mine = *frame;
  memset (frame, 0, sizeof (*frame));

  g_mutex_lock (&s->lock);
  if (s->gave_up) {
    s->stats.dropped++;
    g_set_error_literal (error, s->failure->domain, s->failure->code,
        s->failure->message);
    result = GST_TCP_FRAME_SENDER_PUSH_GAVE_UP;
    stale = mine;
  } else if (s->connected || s->config.resend_last) {
    /* Newest wins, like a live camera: an older frame that has not started
     * going out is worth less than this one. */
    stale = slot_take_stale (s);
    s->slot = mine;
    wake = s->connected && !stale;
  } else {
    /* Nobody to send to: frames are not saved up for later. */
    s->stats.dropped++;
    stale = mine;
  }
  g_mutex_unlock (&s->lock);

  if (wake)
    wake_thread (s);
  frame_free (stale);
  return result;
}

void
gst_tcp_frame_sender_drain (GstTcpFrameSender * s)
{
  g_mutex_lock (&s->lock);
  while (!s->flushing && s->connected && (s->slot || s->in_flight))
    g_cond_wait (&s->cond, &s->lock);
  g_mutex_unlock (&s->lock);
}

void
gst_tcp_frame_sender_set_flushing (GstTcpFrameSender * s, gboolean flushing)
{
  GstTcpFrameSenderFrame *stale = NULL;

  g_mutex_lock (&s->lock);
  s->flushing = flushing;
  if (flushing)
    stale = slot_take_stale (s);
  g_cond_broadcast (&s->cond);
  g_mutex_unlock (&s->lock);
  frame_free (stale);
}

void
gst_tcp_frame_sender_get_stats (GstTcpFrameSender * s,
    GstTcpFrameSenderStats * stats)
{
  g_mutex_lock (&s->lock);
  *stats = s->stats;
  stats->peer_address = g_strdup (s->stats.peer_address);
  g_mutex_unlock (&s->lock);
}

void
gst_tcp_frame_sender_stats_clear (GstTcpFrameSenderStats * stats)
{
  g_clear_pointer (&stats->peer_address, g_free);
}
