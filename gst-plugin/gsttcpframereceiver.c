/* tcpframe: the receiving side's connection object.
 *
 * One streaming thread does everything: a single poll over the cancellable,
 * the listeners, the current peer and the pending peers, with the nearest
 * frame timeout as its deadline.  Peers are non-blocking sockets; each has
 * its own framer, so a pending camera's half-read frame never mixes with
 * the current one's.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsttcpframereceiver.h"
#include "tcpframe-enumtypes.h"
#include "tf-backoff.h"
#include "tf-readahead.h"
#include "gsttcpframenet.h"

#include <gst/video/video.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

GST_DEBUG_CATEGORY_EXTERN (gst_tcp_frame_debug);
#define GST_CAT_DEFAULT gst_tcp_frame_debug

#define ACCEPT_RETRY_MS 100

/* A connection that has not yet completed a frame has proven nothing, so
 * its declared frame size is not trusted with memory: frames larger than
 * this grow their storage as bytes arrive (doubling, from the first chunk
 * size), at the price of a copy per doubling on that first frame only.
 * Later frames are read straight into whole buffers. */
#define UNPROVEN_DIRECT_MAX (256 * 1024)
#define UNPROVEN_FIRST_CHUNK (64 * 1024)

/* While the current peer streams flat out its socket is always readable;
 * re-polling every frame would cost a syscall per frame, never polling
 * would starve the listener.  A new camera waits at most this long. */
#define HOT_PEER_POLL_INTERVAL_NS (1 * GST_MSECOND)

typedef struct {
  guint id;
  GSocket *socket;
  gchar *address;
  guint16 port;
  TfFramer *framer;

  /* The frame being read, when the framing reads into caller storage:
   * either a whole buffer, or growing storage while the peer is unproven. */
  GstBuffer *buffer;
  GstMapInfo map;
  guint8 *staging;
  gsize staging_size;
  gboolean proven;              /* it completed a frame */
  guint64 last_size;            /* of the frame it completed last */

  /* Several frames per read (tf-readahead.h): mapped pool buffers of
   * spare_size bytes guessed to be the next frames' storage, and what the
   * last read put where. */
  GstBuffer *spare[TF_READ_AHEAD_FRAMES];
  GstMapInfo spare_map[TF_READ_AHEAD_FRAMES];
  guint n_spare;
  gsize spare_size;
  TfReadAhead ahead;

  /* Caps of this peer's frames and what follows from them, worked out
   * once per caps change rather than per frame. */
  GstCaps *caps;
  gchar *caps_string;
  gsize expected_size;          /* 0: any size */
  GstClockTime duration;

  guint64 frames_pushed;
  /* framer counters already added to the element's stats */
  guint64 counted_gaps;
  guint64 counted_skipped;
} TfPeer;

struct _GstTcpFrameReceiver {
  GstObject *owner;             /* for logging only */
  GstTcpFramePeerEventFunc on_event;
  GstTcpFrameAcceptCapsFunc accept_caps;
  GstTcpFrameAllocFunc alloc;
  gpointer user_data;

  GstTcpFrameReceiverConfig config;

  GCancellable *cancellable;
  GPollFD cancel_pollfd;
  gboolean have_cancel_pollfd;

  GPtrArray *listeners;         /* GSocket */
  guint16 bound_port;

  GPtrArray *peers;             /* TfPeer, in arrival order */
  guint next_id;
  TfArbiter *arbiter;
  GArray *decisions;
  GArray *pollfds;              /* GPollFD, rebuilt each poll */
  GArray *polled_ids;           /* guint: the peer behind each peer pollfd */
  gint64 accept_paused_until;   /* after accept() failed, e.g. out of fds */

  TfPeer *hot_peer;
  gint64 last_poll;

  /* client mode: at most one connection, made by us */
  GSocket *connecting;          /* a connect in progress */
  gchar *connecting_to;         /* its address, for messages */
  GList *connect_addrs;         /* GInetAddress still to try this attempt */
  gint64 connect_deadline;
  gint64 retry_at;              /* next attempt, when no connection */
  TfBackoff backoff;
  gchar *last_failure;
  GError *fatal_error;          /* retries used up */

  GMutex stats_lock;
  GstTcpFrameReceiverStats stats;
};

static void client_schedule_retry (GstTcpFrameReceiver * r,
    const gchar * failure, gboolean streamed);

static gint64
now_ns (void)
{
  return g_get_monotonic_time () * 1000;
}

/* ---- peers ---- */

static TfPeer *
find_peer (GstTcpFrameReceiver * r, guint id)
{
  guint i;

  for (i = 0; i < r->peers->len; i++) {
    TfPeer *p = g_ptr_array_index (r->peers, i);
    if (p->id == id)
      return p;
  }
  return NULL;
}

static void
peer_discard_frame (TfPeer * p)
{
  if (p->buffer) {
    gst_buffer_unmap (p->buffer, &p->map);
    gst_buffer_unref (p->buffer);
    p->buffer = NULL;
  }
  g_clear_pointer (&p->staging, g_free);
}

static void
peer_release_spares (TfPeer * p)
{
  guint i;

  for (i = 0; i < p->n_spare; i++) {
    if (p->spare[i]) {
      gst_buffer_unmap (p->spare[i], &p->spare_map[i]);
      gst_buffer_unref (p->spare[i]);
      p->spare[i] = NULL;
    }
  }
  p->n_spare = 0;
  tf_read_ahead_clear (&p->ahead);
}

static void
peer_free (TfPeer * p, gboolean reset)
{
  peer_discard_frame (p);
  peer_release_spares (p);
  if (p->socket) {
    if (reset)
      gst_tcp_frame_close_with_reset (p->socket);
    else
      g_socket_close (p->socket, NULL);
    g_object_unref (p->socket);
  }
  tf_framer_free (p->framer);
  gst_clear_caps (&p->caps);
  g_free (p->caps_string);
  g_free (p->address);
  g_free (p);
}

static void
emit (GstTcpFrameReceiver * r, GstTcpFramePeerEventType type, TfPeer * p,
    TfReason reason, const GError * error)
{
  GstTcpFramePeerEvent ev = {
    .type = type,
    .address = p->address,
    .port = p->port,
    .reason = reason,
    .frames = p->frames_pushed,
    .error = error,
  };

  r->on_event (&ev, r->user_data);
}

static void
set_current_peer_stats (GstTcpFrameReceiver * r, TfPeer * p)
{
  g_mutex_lock (&r->stats_lock);
  g_free (r->stats.peer_address);
  r->stats.peer_address = p ? g_strdup (p->address) : NULL;
  r->stats.peer_port = p ? p->port : 0;
  g_mutex_unlock (&r->stats_lock);
}

/* Takes the peer out of the set and closes it; reports it as leaving the
 * current slot or as rejected, whichever it was. */
static void
peer_finish (GstTcpFrameReceiver * r, TfPeer * p, gboolean was_current,
    TfReason reason, const GError * error)
{
  gboolean reset = (reason != TF_REASON_CLOSED);

  if (r->hot_peer == p)
    r->hot_peer = NULL;
  g_ptr_array_remove (r->peers, p);

  if (tf_read_ahead_pending (&p->ahead))
    GST_INFO_OBJECT (r->owner, "peer %s:%u left with bytes already read but "
        "not yet pushed as frames; they are discarded", p->address, p->port);
  else if (tf_framer_in_frame (p->framer))
    GST_INFO_OBJECT (r->owner, "peer %s:%u left mid-frame; the partial frame "
        "is discarded", p->address, p->port);

  g_mutex_lock (&r->stats_lock);
  switch (reason) {
    case TF_REASON_REPLACED:
      r->stats.replacements++;
      break;
    case TF_REASON_TIMEOUT:
      r->stats.timeouts++;
      break;
    case TF_REASON_PROTOCOL_ERROR:
      r->stats.protocol_errors++;
      break;
    default:
      break;
  }
  if (!was_current)
    r->stats.rejected++;
  g_mutex_unlock (&r->stats_lock);

  if (was_current)
    set_current_peer_stats (r, NULL);

  /* Close before reporting, so whoever reacts to the message already sees
   * the peer's socket reset. */
  {
    GSocket *socket = p->socket;
    if (reset)
      gst_tcp_frame_close_with_reset (socket);
    else
      g_socket_close (socket, NULL);
    g_object_unref (socket);
    p->socket = NULL;
  }

  emit (r, was_current ? GST_TCP_FRAME_PEER_DISCONNECTED :
      GST_TCP_FRAME_PEER_REJECTED, p, reason, error);

  if (r->config.mode == TF_MODE_CLIENT) {
    gchar *failure = g_strdup_printf ("%s:%u: connection ended (%s)",
        p->address, p->port, g_enum_get_value (g_type_class_peek
            (TF_TYPE_REASON), reason)->value_nick);
    client_schedule_retry (r, failure, p->frames_pushed > 0);
    g_free (failure);
  }
  peer_free (p, FALSE);
}

static void
apply_decisions (GstTcpFrameReceiver * r)
{
  guint i;

  /* Handlers may add decisions (none do today), so walk by index. */
  for (i = 0; i < r->decisions->len; i++) {
    TfDecision d = g_array_index (r->decisions, TfDecision, i);
    TfPeer *p = find_peer (r, d.peer);

    if (!p)
      continue;
    switch (d.verdict) {
      case TF_VERDICT_DROP:
        GST_INFO_OBJECT (r->owner, "dropping %s peer %s:%u (%s)",
            d.was_current ? "current" : "pending", p->address, p->port,
            g_enum_get_value (g_type_class_peek (TF_TYPE_REASON),
                d.reason)->value_nick);
        peer_finish (r, p, d.was_current, d.reason, NULL);
        break;
      case TF_VERDICT_REPLACE:
        GST_INFO_OBJECT (r->owner, "peer %s:%u is now current", p->address,
            p->port);
        set_current_peer_stats (r, p);
        emit (r, GST_TCP_FRAME_PEER_CONNECTED, p, TF_REASON_NONE, NULL);
        break;
      case TF_VERDICT_KEEP:
        break;
    }
  }
  g_array_set_size (r->decisions, 0);
}

/* The peer ended on its own (closed, reset, protocol error). */
static void
peer_gone (GstTcpFrameReceiver * r, TfPeer * p, TfReason reason,
    const GError * error)
{
  gboolean was_current = (tf_arbiter_current (r->arbiter) == p->id);

  tf_arbiter_remove (r->arbiter, p->id, now_ns (), r->decisions);
  peer_finish (r, p, was_current, reason, error);
  apply_decisions (r);
}

static void
peer_protocol_error (GstTcpFrameReceiver * r, TfPeer * p, const gchar * format,
    ...) G_GNUC_PRINTF (3, 4);

static void
peer_protocol_error (GstTcpFrameReceiver * r, TfPeer * p, const gchar * format,
    ...)
{
  GError *error;
  va_list args;

  va_start (args, format);
  error = g_error_new_valist (TF_FRAMER_ERROR, TF_FRAMER_ERROR_BAD_CAPS, format,
      args);
  va_end (args);
  peer_gone (r, p, TF_REASON_PROTOCOL_ERROR, error);
  g_error_free (error);
}

/* Caps and their consequences change rarely: work them out here, once. */
static void
peer_set_caps (TfPeer * p, GstCaps * caps)
{
  GstVideoInfo info;
  GstStructure *s;
  gint fps_n = 0, fps_d = 1;

  gst_caps_replace (&p->caps, caps);
  p->expected_size = 0;
  p->duration = GST_CLOCK_TIME_NONE;
  if (!caps)
    return;

  if (gst_caps_is_fixed (caps) && gst_video_info_from_caps (&info, caps))
    p->expected_size = GST_VIDEO_INFO_SIZE (&info);
  s = gst_caps_get_structure (caps, 0);
  if (gst_structure_get_fraction (s, "framerate", &fps_n, &fps_d)
      && fps_n > 0 && fps_d > 0)
    p->duration = gst_util_uint64_scale_int (GST_SECOND, fps_d, fps_n);
}

/* At most 200 characters of a peer's caps string, for messages: cut on a
 * character boundary, since it ends up in UTF-8-only places (message
 * structures, logs). */
static gchar *
quote_caps (const gchar * str)
{
  return g_utf8_substring (str, 0, MIN (g_utf8_strlen (str, -1), 200));
}

/* The header framing's caps string arrived; FALSE after a protocol error. */
static gboolean
peer_update_caps (GstTcpFrameReceiver * r, TfPeer * p, const gchar * str)
{
  GstCaps *caps;

  if (p->caps_string && strcmp (p->caps_string, str) == 0)
    return TRUE;

  caps = gst_caps_from_string (str);
  if (!caps || !gst_caps_is_fixed (caps)) {
    gchar *shown = quote_caps (str);
    gst_clear_caps (&caps);
    peer_protocol_error (r, p, "unparsable caps \"%s\"", shown);
    g_free (shown);
    return FALSE;
  }
  GST_DEBUG_OBJECT (r->owner, "peer %s:%u caps %" GST_PTR_FORMAT, p->address,
      p->port, caps);
  if (!r->accept_caps (caps, r->user_data)) {
    gchar *shown = quote_caps (str);
    gst_caps_unref (caps);
    peer_protocol_error (r, p, "downstream does not accept the caps \"%s\"",
        shown);
    g_free (shown);
    return FALSE;
  }
  peer_set_caps (p, caps);
  gst_caps_unref (caps);
  g_free (p->caps_string);
  p->caps_string = g_strdup (str);
  return TRUE;
}

/* When the bytes read ahead for this frame went into a spare buffer of the
 * right size, that buffer becomes the frame's: they are already in place. */
static gboolean
peer_adopt_spare (TfPeer * p, guint64 size)
{
  gint i = tf_read_ahead_next_tag (&p->ahead);

  if (i < 0 || size != p->spare_size)
    return FALSE;
  p->buffer = p->spare[i];
  p->map = p->spare_map[i];
  p->spare[i] = NULL;
  return TRUE;
}

/* The framer knows the next frame's size: check it against the caps, then
 * give it memory to read the payload into. */
static gboolean
peer_prepare_frame (GstTcpFrameReceiver * r, TfPeer * p)
{
  const TfFrameInfo *info = tf_framer_frame_info (p->framer);

  if (p->staging) {
    /* An unproven peer's frame outgrew its storage. */
    p->staging_size = MIN (info->size, (guint64) p->staging_size * 2);
    p->staging = g_realloc (p->staging, p->staging_size);
    tf_framer_set_buffer_partial (p->framer, p->staging, p->staging_size);
    return TRUE;
  }

  if (info->caps && !peer_update_caps (r, p, info->caps))
    return FALSE;
  if (!p->caps) {
    peer_protocol_error (r, p, "the first frame carries no caps and the "
        "caps property is not set");
    return FALSE;
  }
  if (p->expected_size && info->size != p->expected_size) {
    peer_protocol_error (r, p, "frame of %" G_GUINT64_FORMAT " bytes, but "
        "the caps need %" G_GSIZE_FORMAT, info->size, p->expected_size);
    return FALSE;
  }

  if (!p->proven && info->size > UNPROVEN_DIRECT_MAX) {
    p->staging_size = UNPROVEN_FIRST_CHUNK;
    p->staging = g_malloc (p->staging_size);
    tf_framer_set_buffer_partial (p->framer, p->staging, p->staging_size);
    return TRUE;
  }

  if (peer_adopt_spare (p, info->size)) {
    tf_framer_set_buffer (p->framer, p->map.data);
    return TRUE;
  }
  p->buffer = r->alloc (info->size, r->user_data);
  if (!p->buffer || !gst_buffer_map (p->buffer, &p->map, GST_MAP_WRITE)) {
    gst_clear_buffer (&p->buffer);
    peer_protocol_error (r, p, "could not allocate a frame of %"
        G_GUINT64_FORMAT " bytes", info->size);
    return FALSE;
  }
  tf_framer_set_buffer (p->framer, p->map.data);
  return TRUE;
}

/* The capture time the peer sent, as a timestamp/x-unix reference meta.
 * On a pooled buffer the meta is flagged POOLED and stays with the buffer,
 * so a steady stream does not allocate one per frame; a frame without a
 * capture time must then lose the one its buffer carried before. */
static void
set_capture_time (GstBuffer * buf, guint64 timestamp)
{
  static GstCaps *unix_caps = NULL;
  GstReferenceTimestampMeta *m = NULL;
  gpointer state = NULL;
  GstMeta *meta;

  if (g_once_init_enter (&unix_caps)) {
    GstCaps *c = gst_caps_new_empty_simple ("timestamp/x-unix");
    GST_MINI_OBJECT_FLAG_SET (c, GST_MINI_OBJECT_FLAG_MAY_BE_LEAKED);
    g_once_init_leave (&unix_caps, c);
  }

  while ((meta = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_REFERENCE_TIMESTAMP_META_API_TYPE))) {
    if (((GstReferenceTimestampMeta *) meta)->reference == unix_caps) {
      m = (GstReferenceTimestampMeta *) meta;
      break;
    }
  }

  if (timestamp == TF_TIMESTAMP_NONE) {
    if (m)
      gst_buffer_remove_meta (buf, (GstMeta *) m);
    return;
  }
  if (m) {
    m->timestamp = timestamp;
    return;
  }
  m = gst_buffer_add_reference_timestamp_meta (buf, unix_caps, timestamp,
      GST_CLOCK_TIME_NONE);
  if (buf->pool)
    GST_META_FLAG_SET (m, GST_META_FLAG_POOLED);
}

static GstBuffer *
peer_take_frame (GstTcpFrameReceiver * r, TfPeer * p)
{
  const TfFrameInfo *info = tf_framer_frame_info (p->framer);
  guint64 size = info->size;
  guint64 timestamp = info->timestamp;
  GstBuffer *buf;
  gpointer block;
  gsize offset = 0, alloc_size = 0;

  p->proven = TRUE;
  p->last_size = size;
  block = tf_framer_release_frame (p->framer, &offset, &alloc_size);
  if (block) {
    /* jpeg: the framer's own block becomes the buffer's memory. */
    buf = gst_buffer_new_wrapped_full (0, block, alloc_size, offset, size,
        block, g_free);
  } else if (p->staging) {
    buf = gst_buffer_new_wrapped (p->staging, size);
    p->staging = NULL;
  } else {
    buf = p->buffer;
    gst_buffer_unmap (buf, &p->map);
    p->buffer = NULL;
  }

  set_capture_time (buf, timestamp);
  return buf;
}

typedef enum {
  SERVICE_IDLE,                 /* nothing more to read now */
  SERVICE_FRAME,                /* a frame for downstream */
  SERVICE_GONE,                 /* the peer was dropped */
  SERVICE_CANCELLED,
} ServiceResult;

/* Lays out the read-ahead storage after the payload being read and
 * describes it in iov; returns how many pieces. */
static guint
peer_plan_read_ahead (GstTcpFrameReceiver * r, TfPeer * p, struct iovec *iov)
{
  gint prefix = tf_framer_prefix_size (p->framer);
  guint8 *frames[TF_READ_AHEAD_FRAMES];
  gsize size;
  guint i, k, kept = 0, n;

  /* Only a proven peer, and only while its payload goes into a whole
   * buffer: a frame's header is read before its storage exists. */
  if (prefix < 0 || !p->proven || !p->buffer)
    return 0;
  size = tf_framer_frame_info (p->framer)->size;

  /* Spares the frames before took are gone; the rest are still guesses. */
  for (i = 0; i < p->n_spare; i++) {
    if (!p->spare[i])
      continue;
    p->spare[kept] = p->spare[i];
    p->spare_map[kept] = p->spare_map[i];
    if (kept != i)
      p->spare[i] = NULL;
    kept++;
  }
  p->n_spare = kept;
  if (p->spare_size != size)
    peer_release_spares (p);
  p->spare_size = size;

  k = tf_read_ahead_frames (size, p->last_size, prefix);
  while (p->n_spare < k) {
    GstBuffer *buf = r->alloc (size, r->user_data);

    if (!buf)
      break;
    if (!gst_buffer_map (buf, &p->spare_map[p->n_spare], GST_MAP_WRITE)) {
      gst_buffer_unref (buf);
      break;
    }
    p->spare[p->n_spare++] = buf;
  }
  k = MIN (k, p->n_spare);
  for (i = 0; i < k; i++)
    frames[i] = p->spare_map[i].data;

  n = tf_read_ahead_plan (&p->ahead, prefix, frames, size, k);
  for (i = 0; i < n; i++) {
    iov[i].iov_base = p->ahead.regions[i].ptr;
    iov[i].iov_len = p->ahead.regions[i].len;
  }
  return n;
}

/* One read: what the framer asked for, plus read-ahead storage.  Returns
 * recvmsg()'s result. */
static gssize
peer_read (GstTcpFrameReceiver * r, TfPeer * p, guint8 * dst, gsize len)
{
  struct iovec iov[1 + TF_READ_AHEAD_REGIONS];
  struct msghdr msg = { 0 };
  gssize n;

  iov[0].iov_base = dst;
  iov[0].iov_len = len;
  msg.msg_iov = iov;
  msg.msg_iovlen = 1 + peer_plan_read_ahead (r, p, iov + 1);

  do {
    n = recvmsg (g_socket_get_fd (p->socket), &msg, MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n <= 0)
    return n;

  tf_framer_advance (p->framer, MIN ((gsize) n, len));
  tf_read_ahead_filled (&p->ahead, (gsize) n - MIN ((gsize) n, len));
  return n;
}

/* Reads from one peer until it would block, leaves, or completes a frame
 * that goes downstream.  With buffered_only, only bytes already read are
 * used: whoever calls it so must not be kept from poll() by a peer that
 * always has more. */
static ServiceResult
peer_service (GstTcpFrameReceiver * r, TfPeer * p, gboolean buffered_only,
    GstBuffer ** out)
{
  /* A short read is not taken to mean an empty socket: a camera streaming
   * flat out refills it meanwhile, and measured, asking again costs less
   * than going back to poll() first (tests/bench). */
  for (;;) {
    guint8 *dst = NULL;
    gsize len = 0;
    gssize n;

    switch (tf_framer_poll (p->framer, &dst, &len)) {
      case TF_FRAMER_WANT_BYTES:
        if (tf_read_ahead_pending (&p->ahead)) {
          tf_read_ahead_feed (&p->ahead, p->framer);
          break;
        }
        if (buffered_only)
          return SERVICE_IDLE;
        if (g_cancellable_is_cancelled (r->cancellable))
          return SERVICE_CANCELLED;
        n = peer_read (r, p, dst, len);
        if (n > 0)
          break;
        if (n == 0) {
          GST_DEBUG_OBJECT (r->owner, "peer %s:%u closed", p->address,
              p->port);
          peer_gone (r, p, TF_REASON_CLOSED, NULL);
          return SERVICE_GONE;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK)
          return SERVICE_IDLE;
        GST_DEBUG_OBJECT (r->owner, "peer %s:%u: %s", p->address, p->port,
            g_strerror (errno));
        peer_gone (r, p, TF_REASON_RESET, NULL);
        return SERVICE_GONE;

      case TF_FRAMER_WANT_BUFFER:
        if (!peer_prepare_frame (r, p))
          return SERVICE_GONE;
        break;

      case TF_FRAMER_FRAME_READY:{
        GstBuffer *buf = peer_take_frame (r, p);
        gboolean push = tf_arbiter_frame (r->arbiter, p->id, now_ns (),
            r->decisions);

        apply_decisions (r);
        if (!push) {
          /* A standby peer under peer-policy=keep: alive, not wanted.  One
           * frame per turn, so a fast standby cannot hold the thread. */
          gst_buffer_unref (buf);
          return SERVICE_IDLE;
        }
        if (p->frames_pushed == 0)
          GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
        GST_BUFFER_DURATION (buf) = p->duration;
        p->frames_pushed++;
        {
          const TfFramerCounters *c = tf_framer_get_counters (p->framer);
          g_mutex_lock (&r->stats_lock);
          r->stats.frames++;
          r->stats.bytes += gst_buffer_get_size (buf);
          r->stats.sequence_gaps += c->sequence_gaps - p->counted_gaps;
          r->stats.skipped_bytes += c->skipped_bytes - p->counted_skipped;
          g_mutex_unlock (&r->stats_lock);
          p->counted_gaps = c->sequence_gaps;
          p->counted_skipped = c->skipped_bytes;
        }
        *out = buf;
        return SERVICE_FRAME;
      }

      case TF_FRAMER_FAILED:{
        const GError *why = tf_framer_get_error (p->framer);
        peer_gone (r, p, TF_REASON_PROTOCOL_ERROR, why);
        return SERVICE_GONE;
      }
    }
  }
}

static void
set_tcp_option (GstTcpFrameReceiver * r, GSocket * socket, gint option,
    const gchar * name, gint value)
{
  GError *err = NULL;

  if (!g_socket_set_option (socket, IPPROTO_TCP, option, value, &err)) {
    GST_WARNING_OBJECT (r->owner, "could not set %s=%d: %s", name, value,
        err->message);
    g_error_free (err);
  }
}

/* A camera that lost power never answers keepalive probes: the kernel then
 * resets the connection even when `timeout` is 0.  TCP_USER_TIMEOUT bounds
 * how long probes (and any unacknowledged data) may go unanswered. */
static void
configure_peer_socket (GstTcpFrameReceiver * r, GSocket * socket)
{
  const GstTcpFrameReceiverConfig *c = &r->config;

  g_socket_set_blocking (socket, FALSE);
  g_socket_set_keepalive (socket, c->keepalive);
  if (c->keepalive) {
    set_tcp_option (r, socket, TCP_KEEPIDLE, "TCP_KEEPIDLE",
        c->keepalive_idle_s);
    set_tcp_option (r, socket, TCP_KEEPINTVL, "TCP_KEEPINTVL",
        c->keepalive_interval_s);
    set_tcp_option (r, socket, TCP_KEEPCNT, "TCP_KEEPCNT", c->keepalive_count);
  }
  if (c->timeout_ns > 0)
    set_tcp_option (r, socket, TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT",
        (gint) MIN (c->timeout_ns / GST_MSECOND, (guint64) G_MAXINT));
}

/* A connected socket, accepted or connected by us, becomes a peer. */
static TfPeer *
peer_add (GstTcpFrameReceiver * r, GSocket * socket)
{
  TfPeer *p = g_new0 (TfPeer, 1);
  GSocketAddress *sa;

  configure_peer_socket (r, socket);
  p->id = ++r->next_id;
  if (p->id == 0)
    p->id = ++r->next_id;
  p->socket = socket;
  p->framer = tf_framer_new (&r->config.framer);
  peer_set_caps (p, r->config.caps);
  sa = g_socket_get_remote_address (socket, NULL);
  if (G_IS_INET_SOCKET_ADDRESS (sa)) {
    GInetSocketAddress *isa = G_INET_SOCKET_ADDRESS (sa);
    p->address =
        g_inet_address_to_string (g_inet_socket_address_get_address (isa));
    p->port = g_inet_socket_address_get_port (isa);
  } else {
    p->address = g_strdup ("unknown");
  }
  g_clear_object (&sa);
  g_ptr_array_add (r->peers, p);

  g_mutex_lock (&r->stats_lock);
  r->stats.connections++;
  g_mutex_unlock (&r->stats_lock);
  return p;
}

/* A stranger is turned away at once, with an RST, before it costs a
 * framer or a pending slot. */
static gboolean
peer_allowed (GstTcpFrameReceiver * r, GSocket * socket)
{
  GSocketAddress *sa;
  GInetAddress *addr;
  TfPeer stranger = { 0, };

  if (tf_allowlist_is_empty (r->config.allow))
    return TRUE;
  sa = g_socket_get_remote_address (socket, NULL);
  if (G_IS_INET_SOCKET_ADDRESS (sa)) {
    addr = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (sa));
    if (tf_allowlist_allows_inet (r->config.allow, addr)) {
      g_object_unref (sa);
      return TRUE;
    }
    stranger.address = g_inet_address_to_string (addr);
    stranger.port =
        g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (sa));
  } else {
    stranger.address = g_strdup ("unknown");
  }
  g_clear_object (&sa);

  GST_INFO_OBJECT (r->owner, "%s:%u is not allowed", stranger.address,
      stranger.port);
  gst_tcp_frame_close_with_reset (socket);
  g_object_unref (socket);
  g_mutex_lock (&r->stats_lock);
  r->stats.rejected++;
  g_mutex_unlock (&r->stats_lock);
  emit (r, GST_TCP_FRAME_PEER_REJECTED, &stranger, TF_REASON_NOT_ALLOWED, NULL);
  g_free (stranger.address);
  return FALSE;
}

static gboolean
accept_peers (GstTcpFrameReceiver * r, GSocket * listener)
{
  for (;;) {
    GError *err = NULL;
    GSocket *socket = g_socket_accept (listener, r->cancellable, &err);
    TfPeer *p;

    if (!socket) {
      gboolean cancelled = g_error_matches (err, G_IO_ERROR,
          G_IO_ERROR_CANCELLED);
      if (!g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)
          && !cancelled) {
        /* Out of file descriptors, say: the listener stays readable, so
         * retrying at once would spin.  Streaming peers are unaffected. */
        GST_WARNING_OBJECT (r->owner, "accept failed, pausing new "
            "connections for %d ms: %s", ACCEPT_RETRY_MS, err->message);
        r->accept_paused_until = now_ns () + ACCEPT_RETRY_MS * GST_MSECOND;
      }
      g_error_free (err);
      return !cancelled;
    }

    if (!peer_allowed (r, socket))
      continue;
    p = peer_add (r, socket);
    GST_INFO_OBJECT (r->owner, "accepted %s:%u", p->address, p->port);
    tf_arbiter_add (r->arbiter, p->id, now_ns (), r->decisions);
    apply_decisions (r);
  }
}

/* ---- client mode ---- */



static void
client_forget_attempt (GstTcpFrameReceiver * r)
{
  if (r->connecting) {
    g_socket_close (r->connecting, NULL);
    g_clear_object (&r->connecting);
  }
  g_list_free_full (r->connect_addrs, g_object_unref);
  r->connect_addrs = NULL;
  g_clear_pointer (&r->connecting_to, g_free);
}

/* No connection now: wait (with backoff) before the next attempt, unless
 * the retries are used up.  A connection that streamed frames proves the
 * camera is back, so the backoff and the retry count start over. */
static void
client_schedule_retry (GstTcpFrameReceiver * r, const gchar * failure,
    gboolean streamed)
{
  client_forget_attempt (r);
  if (failure) {
    g_free (r->last_failure);
    r->last_failure = g_strdup (failure);
  }
  if (streamed) {
    tf_backoff_reset (&r->backoff);
  } else if (!tf_backoff_failed (&r->backoff)) {
    if (!r->fatal_error)
      r->fatal_error = g_error_new (G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE,
          "gave up on %s port %d after %u failed attempts; last failure: %s",
          r->config.host, r->config.port, r->backoff.failures,
          r->last_failure ? r->last_failure : "unknown");
    return;
  }
  r->retry_at = now_ns () + tf_backoff_next (&r->backoff);
  GST_DEBUG_OBJECT (r->owner, "next connect attempt in %" GST_TIME_FORMAT,
      GST_TIME_ARGS (r->retry_at - now_ns ()));
}

static void
client_connected (GstTcpFrameReceiver * r, GSocket * socket)
{
  TfPeer *p;

  client_forget_attempt (r);
  p = peer_add (r, socket);
  GST_INFO_OBJECT (r->owner, "connected to %s:%u", p->address, p->port);
  tf_arbiter_add (r->arbiter, p->id, now_ns (), r->decisions);
  apply_decisions (r);
}

/* Tries the attempt's addresses in turn until one connects at once, one
 * is in progress, or none is left. */
static void
client_try_next_address (GstTcpFrameReceiver * r)
{
  while (r->connect_addrs) {
    GInetAddress *addr = r->connect_addrs->data;
    GSocketAddress *sa = g_inet_socket_address_new (addr, r->config.port);
    gchar *name = g_inet_address_to_string (addr);
    GError *err = NULL;
    GSocket *socket;

    r->connect_addrs = g_list_delete_link (r->connect_addrs, r->connect_addrs);
    socket = g_socket_new (g_inet_address_get_family (addr),
        G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &err);
    if (socket) {
      g_socket_set_blocking (socket, FALSE);
      if (g_socket_connect (socket, sa, r->cancellable, &err)) {
        client_connected (r, socket);
      } else if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_PENDING)) {
        g_clear_error (&err);
        r->connecting = socket;
        g_free (r->connecting_to);
        r->connecting_to = g_strdup (name);
        /* Per address: a silent ::1 must not use up the time that
         * 127.0.0.1, next in line, would have answered in. */
        r->connect_deadline = now_ns () + r->config.connect_timeout_ns;
      } else {
        g_clear_object (&socket);
      }
    }
    if (err) {
      gchar *failure = g_strdup_printf ("%s port %d: %s", name,
          r->config.port, err->message);
      GST_DEBUG_OBJECT (r->owner, "connect failed: %s", failure);
      g_free (r->last_failure);
      r->last_failure = failure;
      g_error_free (err);
    }
    g_free (name);
    g_object_unref (sa);
    g_object_unref (addr);
    if (r->connecting || r->peers->len)
      return;
  }
  client_schedule_retry (r, NULL, FALSE);
}

/* Returns FALSE when cancelled. */
static gboolean
client_start_attempt (GstTcpFrameReceiver * r)
{
  GError *err = NULL;
  GList *addrs;

  r->retry_at = G_MAXINT64;
  g_mutex_lock (&r->stats_lock);
  r->stats.connect_attempts++;
  g_mutex_unlock (&r->stats_lock);

  /* Names are resolved again at every attempt: a camera's DHCP address may
   * have changed while it was away. */
  addrs = gst_tcp_frame_resolve (r->config.host, r->cancellable, &err);
  if (!addrs) {
    gboolean cancelled = g_error_matches (err, G_IO_ERROR,
        G_IO_ERROR_CANCELLED);
    if (!cancelled) {
      gchar *failure = g_strdup_printf ("cannot resolve %s: %s",
          r->config.host, err->message);
      client_schedule_retry (r, failure, FALSE);
      g_free (failure);
    } else {
      r->retry_at = now_ns ();
    }
    g_error_free (err);
    return !cancelled;
  }
  r->connect_addrs = addrs;
  client_try_next_address (r);
  return TRUE;
}

static void
client_finish_connect (GstTcpFrameReceiver * r)
{
  GError *err = NULL;
  GSocket *socket = r->connecting;

  r->connecting = NULL;
  if (g_socket_check_connect_result (socket, &err)) {
    client_connected (r, socket);
    return;
  }
  g_free (r->last_failure);
  r->last_failure = g_strdup_printf ("%s port %d: %s", r->connecting_to,
      r->config.port, err->message);
  GST_DEBUG_OBJECT (r->owner, "connect failed: %s", r->last_failure);
  g_error_free (err);
  g_socket_close (socket, NULL);
  g_object_unref (socket);
  client_try_next_address (r);
}

/* ---- public API ---- */

GstTcpFrameReceiver *
gst_tcp_frame_receiver_new (GstObject * owner,
    GstTcpFramePeerEventFunc on_event, GstTcpFrameAcceptCapsFunc accept_caps,
    GstTcpFrameAllocFunc alloc, gpointer user_data)
{
  GstTcpFrameReceiver *r = g_new0 (GstTcpFrameReceiver, 1);

  r->owner = owner;
  r->on_event = on_event;
  r->accept_caps = accept_caps;
  r->alloc = alloc;
  r->user_data = user_data;
  r->listeners = g_ptr_array_new ();
  r->peers = g_ptr_array_new ();
  r->decisions = g_array_new (FALSE, FALSE, sizeof (TfDecision));
  r->pollfds = g_array_new (FALSE, FALSE, sizeof (GPollFD));
  r->polled_ids = g_array_new (FALSE, FALSE, sizeof (guint));
  g_mutex_init (&r->stats_lock);
  gst_tcp_frame_receiver_renew (r);
  return r;
}

void
gst_tcp_frame_receiver_free (GstTcpFrameReceiver * r)
{
  gst_tcp_frame_receiver_stop (r);
  if (r->have_cancel_pollfd)
    g_cancellable_release_fd (r->cancellable);
  g_object_unref (r->cancellable);
  g_ptr_array_free (r->listeners, TRUE);
  g_ptr_array_free (r->peers, TRUE);
  g_array_free (r->decisions, TRUE);
  g_array_free (r->pollfds, TRUE);
  g_array_free (r->polled_ids, TRUE);
  gst_tcp_frame_receiver_stats_clear (&r->stats);
  g_mutex_clear (&r->stats_lock);
  gst_tcp_frame_receiver_config_clear (&r->config);
  g_free (r);
}

void
gst_tcp_frame_receiver_config_clear (GstTcpFrameReceiverConfig * config)
{
  g_clear_pointer (&config->host, g_free);
  gst_clear_caps (&config->caps);
  g_clear_pointer (&config->allow, tf_allowlist_free);
}

gboolean
gst_tcp_frame_receiver_start (GstTcpFrameReceiver * r,
    const GstTcpFrameReceiverConfig * config, GError ** error)
{
  gst_tcp_frame_receiver_stop (r);
  /* A previous run's stop left it cancelled. */
  if (g_cancellable_is_cancelled (r->cancellable))
    gst_tcp_frame_receiver_renew (r);
  /* "since start": every start counts afresh. */
  g_mutex_lock (&r->stats_lock);
  gst_tcp_frame_receiver_stats_clear (&r->stats);
  memset (&r->stats, 0, sizeof (r->stats));
  g_mutex_unlock (&r->stats_lock);
  gst_tcp_frame_receiver_config_clear (&r->config);
  r->config = *config;
  r->config.host = g_strdup (config->host);
  r->config.caps = config->caps ? gst_caps_ref (config->caps) : NULL;
  /* The list is immutable; the receiver takes it over. */
  r->config.allow = config->allow;
  ((GstTcpFrameReceiverConfig *) config)->allow = NULL;

  if (config->mode == TF_MODE_CLIENT) {
    /* One connection at a time, ours: it is current as soon as it is up. */
    r->arbiter = tf_arbiter_new (TF_PEER_POLICY_REPLACE, 0,
        config->timeout_ns);
    tf_backoff_init (&r->backoff, config->retry_delay_ns,
        config->max_retry_delay_ns, config->max_retries, 0);
    r->retry_at = 0;
    r->bound_port = 0;
    GST_INFO_OBJECT (r->owner, "will connect to %s port %d", config->host,
        config->port);
    return TRUE;
  }

  if (!gst_tcp_frame_listen (G_OBJECT (r->owner), config->host, config->port,
          r->cancellable, r->listeners, &r->bound_port, error))
    return FALSE;

  r->arbiter = tf_arbiter_new (config->policy, config->max_pending,
      config->timeout_ns);
  return TRUE;
}

void
gst_tcp_frame_receiver_stop (GstTcpFrameReceiver * r)
{
  guint i;

  for (i = 0; i < r->peers->len; i++)
    peer_free (g_ptr_array_index (r->peers, i), TRUE);
  g_ptr_array_set_size (r->peers, 0);
  r->hot_peer = NULL;
  r->accept_paused_until = 0;
  gst_tcp_frame_close_listeners (r->listeners);
  client_forget_attempt (r);
  tf_backoff_clear (&r->backoff);
  g_clear_pointer (&r->last_failure, g_free);
  g_clear_error (&r->fatal_error);
  g_clear_pointer (&r->arbiter, tf_arbiter_free);
  g_array_set_size (r->decisions, 0);
  set_current_peer_stats (r, NULL);
}

guint16
gst_tcp_frame_receiver_get_port (GstTcpFrameReceiver * r)
{
  return r->bound_port;
}

void
gst_tcp_frame_receiver_cancel (GstTcpFrameReceiver * r)
{
  g_cancellable_cancel (r->cancellable);
}

void
gst_tcp_frame_receiver_renew (GstTcpFrameReceiver * r)
{
  if (r->cancellable) {
    if (r->have_cancel_pollfd)
      g_cancellable_release_fd (r->cancellable);
    g_object_unref (r->cancellable);
  }
  r->cancellable = g_cancellable_new ();
  r->have_cancel_pollfd =
      g_cancellable_make_pollfd (r->cancellable, &r->cancel_pollfd);
}

static void
add_pollfd (GstTcpFrameReceiver * r, GSocket * socket)
{
  GPollFD pfd = { g_socket_get_fd (socket), G_IO_IN | G_IO_ERR | G_IO_HUP, 0 };
  g_array_append_val (r->pollfds, pfd);
}

/* Builds the poll set: cancellable, listeners (unless accepting is paused),
 * then every peer; r->polled_ids remembers which peer each slot was, since
 * peers may leave while the results are serviced. */
static void
build_pollfds (GstTcpFrameReceiver * r, gboolean with_listeners)
{
  guint i;

  g_array_set_size (r->pollfds, 0);
  g_array_set_size (r->polled_ids, 0);
  if (r->have_cancel_pollfd)
    g_array_append_val (r->pollfds, r->cancel_pollfd);
  if (with_listeners) {
    for (i = 0; i < r->listeners->len; i++)
      add_pollfd (r, g_ptr_array_index (r->listeners, i));
  }
  if (r->connecting) {
    GPollFD pfd = { g_socket_get_fd (r->connecting),
      G_IO_OUT | G_IO_ERR | G_IO_HUP, 0
    };
    g_array_append_val (r->pollfds, pfd);
  }
  for (i = 0; i < r->peers->len; i++) {
    TfPeer *p = g_ptr_array_index (r->peers, i);
    add_pollfd (r, p->socket);
    g_array_append_val (r->polled_ids, p->id);
  }
}

static gint64
earlier (gint64 deadline, gint64 other)
{
  return deadline < 0 || other < deadline ? other : deadline;
}

static gint
poll_timeout_ms (GstTcpFrameReceiver * r, gint64 now, gboolean accept_paused)
{
  gint64 deadline = tf_arbiter_next_deadline (r->arbiter);

  if (accept_paused)
    deadline = earlier (deadline, r->accept_paused_until);
  if (r->connecting)
    deadline = earlier (deadline, r->connect_deadline);
  else if (r->config.mode == TF_MODE_CLIENT && r->peers->len == 0
      && !r->fatal_error)
    deadline = earlier (deadline, r->retry_at);
  if (deadline < 0)
    return -1;
  if (deadline <= now)
    return 0;
  return (gint) MIN ((deadline - now + GST_MSECOND - 1) / GST_MSECOND,
      G_MAXINT);
}

GstTcpFrameReceiveResult
gst_tcp_frame_receiver_receive (GstTcpFrameReceiver * r, GstBuffer ** buffer,
    GstCaps ** caps, GError ** error)
{
  g_return_val_if_fail (r->arbiter != NULL, GST_TCP_FRAME_RECEIVE_ERROR);

  for (;;) {
    GPollFD *fds;
    gint64 now;
    gint n;
    guint i, base, n_listeners;
    gboolean accept_paused, connecting;

    if (g_cancellable_is_cancelled (r->cancellable))
      return GST_TCP_FRAME_RECEIVE_FLUSHING;
    if (r->fatal_error) {
      g_propagate_error (error, r->fatal_error);
      r->fatal_error = NULL;
      return GST_TCP_FRAME_RECEIVE_ERROR;
    }

    now = now_ns ();
    if (r->config.mode == TF_MODE_CLIENT && !r->connecting
        && r->peers->len == 0 && now >= r->retry_at) {
      if (!client_start_attempt (r))
        return GST_TCP_FRAME_RECEIVE_FLUSHING;
      continue;
    }
    if (r->hot_peer && now - r->last_poll < HOT_PEER_POLL_INTERVAL_NS) {
      TfPeer *p = r->hot_peer;
      switch (peer_service (r, p, FALSE, buffer)) {
        case SERVICE_FRAME:
          *caps = p->caps;
          return GST_TCP_FRAME_RECEIVE_OK;
        case SERVICE_CANCELLED:
          return GST_TCP_FRAME_RECEIVE_FLUSHING;
        default:
          r->hot_peer = NULL;
          break;
      }
    }

    /* Bytes already read may hold a whole next frame (read ahead, or
     * buffered by the jpeg framer): the socket has nothing new to say
     * about them, so do not wait on it. */
    for (i = 0; i < r->peers->len;) {
      TfPeer *p = g_ptr_array_index (r->peers, i);

      if (!tf_read_ahead_pending (&p->ahead)
          && tf_framer_poll (p->framer, NULL, NULL) != TF_FRAMER_FRAME_READY) {
        i++;
        continue;
      }
      switch (peer_service (r, p, TRUE, buffer)) {
        case SERVICE_FRAME:
          r->hot_peer = p;
          *caps = p->caps;
          return GST_TCP_FRAME_RECEIVE_OK;
        case SERVICE_CANCELLED:
          return GST_TCP_FRAME_RECEIVE_FLUSHING;
        case SERVICE_GONE:
          /* the set changed under us: look at all of it again */
          i = 0;
          break;
        case SERVICE_IDLE:
          /* A standby's frame was dropped and more may be buffered: this
           * peer again, until its buffered bytes are used up. */
          break;
      }
    }

    accept_paused = now < r->accept_paused_until;
    n_listeners = accept_paused ? 0 : r->listeners->len;
    connecting = r->connecting != NULL;
    build_pollfds (r, !accept_paused);
    n = g_poll ((GPollFD *) r->pollfds->data, r->pollfds->len,
        poll_timeout_ms (r, now, accept_paused));
    r->last_poll = now_ns ();
    if (n < 0) {
      int e = errno;
      if (e == EINTR)
        continue;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
          "poll failed: %s", g_strerror (e));
      return GST_TCP_FRAME_RECEIVE_ERROR;
    }

    fds = (GPollFD *) r->pollfds->data;
    base = r->have_cancel_pollfd ? 1 : 0;
    if (base && fds[0].revents)
      return GST_TCP_FRAME_RECEIVE_FLUSHING;

    /* Newcomers and connect results first: they cost little, and a camera
     * that always has a frame waiting must not starve them. */
    for (i = 0; n > 0 && i < n_listeners; i++) {
      if (fds[base + i].revents
          && !accept_peers (r, g_ptr_array_index (r->listeners, i)))
        return GST_TCP_FRAME_RECEIVE_FLUSHING;
    }
    if (connecting && r->connecting) {
      if (fds[base + n_listeners].revents)
        client_finish_connect (r);
      else if (now_ns () >= r->connect_deadline) {
        g_free (r->last_failure);
        r->last_failure = g_strdup_printf ("%s port %d: no answer within %"
            GST_TIME_FORMAT, r->connecting_to, r->config.port,
            GST_TIME_ARGS (r->config.connect_timeout_ns));
        g_socket_close (r->connecting, NULL);
        g_clear_object (&r->connecting);
        client_try_next_address (r);
      }
    }

    /* Then every ready peer gets one turn, the current one last, so a
     * pending camera's first frame is seen even while the current one has
     * a backlog.  Reading comes before judging staleness: after a stall
     * downstream (or a pause) a live camera's frames are waiting in its
     * socket, and it must not be timed out for our delay. */
    {
      guint current = tf_arbiter_current (r->arbiter);
      guint current_slot = G_MAXUINT;
      GstBuffer *frame = NULL;
      TfPeer *from = NULL;

      for (i = 0; n > 0 && i < r->polled_ids->len && !frame; i++) {
        guint id = g_array_index (r->polled_ids, guint, i);
        TfPeer *p;

        if (!fds[base + n_listeners + connecting + i].revents)
          continue;
        if (id == current) {
          current_slot = i;
          continue;
        }
        if (!(p = find_peer (r, id)))
          continue;
        switch (peer_service (r, p, FALSE, &frame)) {
          case SERVICE_FRAME:
            from = p;
            break;
          case SERVICE_CANCELLED:
            return GST_TCP_FRAME_RECEIVE_FLUSHING;
          default:
            break;
        }
      }
      if (!frame && current_slot != G_MAXUINT) {
        TfPeer *p = find_peer (r, current);
        if (p) {
          switch (peer_service (r, p, FALSE, &frame)) {
            case SERVICE_FRAME:
              from = p;
              break;
            case SERVICE_CANCELLED:
              return GST_TCP_FRAME_RECEIVE_FLUSHING;
            default:
              break;
          }
        }
      }

      tf_arbiter_expire (r->arbiter, now_ns (), r->decisions);
      apply_decisions (r);

      if (frame) {
        r->hot_peer = from;
        *buffer = frame;
        *caps = from->caps;
        return GST_TCP_FRAME_RECEIVE_OK;
      }
    }
  }
}

void
gst_tcp_frame_receiver_drop_current (GstTcpFrameReceiver * r, TfReason reason,
    const GError * why)
{
  TfPeer *p;

  if (!r->arbiter)
    return;
  p = find_peer (r, tf_arbiter_current (r->arbiter));
  if (p)
    peer_gone (r, p, reason, why);
}

void
gst_tcp_frame_receiver_get_stats (GstTcpFrameReceiver * r,
    GstTcpFrameReceiverStats * stats)
{
  g_mutex_lock (&r->stats_lock);
  *stats = r->stats;
  stats->peer_address = g_strdup (r->stats.peer_address);
  g_mutex_unlock (&r->stats_lock);
}

void
gst_tcp_frame_receiver_stats_clear (GstTcpFrameReceiverStats * stats)
{
  g_clear_pointer (&stats->peer_address, g_free);
}

TfStatus
gst_tcp_frame_receiver_get_status (GstTcpFrameReceiver * r)
{
  TfStatus status;

  g_mutex_lock (&r->stats_lock);
  if (r->stats.peer_address)
    status = TF_STATUS_STREAMING;
  else if (r->config.mode == TF_MODE_CLIENT)
    status = TF_STATUS_CONNECTING;
  else
    status = TF_STATUS_WAITING;
  g_mutex_unlock (&r->stats_lock);
  return status;
}
