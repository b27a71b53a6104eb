/* tf-bench: the receivers under test.
 *
 * Every receiver lives in the tf-bench process and counts at the same
 * point, where a frame is handed to whatever consumes it: the bare loop
 * when its recv()s completed a frame, a pipeline in a pad probe on its
 * fakesink.  The senders are other processes (or, for the latency phases,
 * the main thread), so the process's CPU time during a measurement window
 * is the receiver's.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* accept4 */
#endif

#include "bench.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <gio/gio.h>
#include <gst/gst.h>

/* Distinct payload addresses remembered by the check; a pool shows a
 * handful, per-frame allocation shows them all, so a cap only has to be
 * far above a pool's size. */
#define MAX_TRACKED_MEMORIES 10000

typedef struct
{
  TfbRx *rx;
  guint index;
  guint16 port;

  atomic_uint_least64_t frames;
  atomic_uint_least64_t bytes;
  atomic_uint_least64_t checked_frames;
  atomic_uint_least64_t direct_bytes;
  atomic_uint_least64_t pooled_frames;
  atomic_uint distinct_memories;
  GHashTable *memories;         /* streaming thread only */

  /* bare loop */
  gint listen_fd;
  atomic_int conn_fd;
  GThread *thread;
  guint8 *buf;

  /* pipelines */
  GstElement *src;
} Stream;

typedef struct
{
  gint64 posted_ns;
  gchar *reason;
} Disconnect;

struct _TfbRx
{
  TfbRxConfig cfg;
  gsize frame_size;
  Stream *streams;
  GstElement *pipeline;
  atomic_bool stopping;

  GMutex lock;
  GCond cond;
  gint64 *arrival;              /* by payload sequence, under lock */
  GQueue disconnects;           /* Disconnect, under lock */
  gchar *error;                 /* under lock */
};

static const struct
{
  const gchar *name;
  const gchar *label;
  TfbWire wire;
} rx_kinds[TFB_N_RX] = {
  {"bare", "bare recv() loop", TFB_WIRE_RAW},
  {"tcpserversrc", "tcpserversrc+rawvideoparse", TFB_WIRE_RAW},
  {"tf-raw", "tcpframesrc framing=raw", TFB_WIRE_RAW},
  {"tf-header", "tcpframesrc framing=header", TFB_WIRE_HEADER},
  {"tf-length", "tcpframesrc framing=length", TFB_WIRE_LENGTH},
  {"floor", "GStreamer floor (no socket)", TFB_WIRE_RAW},
  {"floor-list", "GStreamer floor, lists of 16", TFB_WIRE_RAW},
};

const gchar *
tfb_rx_name (TfbRxKind kind)
{
  return rx_kinds[kind].name;
}

const gchar *
tfb_rx_label (TfbRxKind kind)
{
  return rx_kinds[kind].label;
}

TfbWire
tfb_rx_wire (TfbRxKind kind)
{
  return rx_kinds[kind].wire;
}

gboolean
tfb_rx_parse (const gchar * str, TfbRxKind * kind)
{
  guint i;

  for (i = 0; i < TFB_N_RX; i++) {
    if (g_strcmp0 (str, rx_kinds[i].name) == 0) {
      *kind = i;
      return TRUE;
    }
  }
  return FALSE;
}

/* Whatever the receiver, a whole frame of `size` bytes at `data` has just
 * reached its consumer.  data is NULL when nothing beyond counting was
 * asked for, so the throughput runs never map a buffer. */
static void
on_frame (Stream * s, const guint8 * data, gsize size, GstBuffer * buf)
{
  TfbRx *rx = s->rx;

  /* One writer per stream: relaxed atomics only keep the reader's 64-bit
   * loads whole. */
  atomic_fetch_add_explicit (&s->frames, 1, memory_order_relaxed);
  atomic_fetch_add_explicit (&s->bytes, size, memory_order_relaxed);
  if (!data)
    return;

  if (rx->arrival && s->index == 0 && size >= 8) {
    gint64 now = tfb_now_ns ();
    guint64 seq = tfb_payload_seq (data);

    if (seq < rx->cfg.max_seq) {
      g_mutex_lock (&rx->lock);
      if (rx->arrival[seq] == 0)
        rx->arrival[seq] = now;
      g_cond_broadcast (&rx->cond);
      g_mutex_unlock (&rx->lock);
    }
  }

  if (rx->cfg.check) {
    atomic_fetch_add_explicit (&s->checked_frames, 1, memory_order_relaxed);
    atomic_fetch_add_explicit (&s->direct_bytes,
        tfb_io_take_direct (data, size), memory_order_relaxed);
    if (buf && buf->pool)
      atomic_fetch_add_explicit (&s->pooled_frames, 1, memory_order_relaxed);
    if (g_hash_table_size (s->memories) < MAX_TRACKED_MEMORIES
        && g_hash_table_add (s->memories, (gpointer) data))
      atomic_fetch_add_explicit (&s->distinct_memories, 1,
          memory_order_relaxed);
  }
}

/* ---- the bare loop ---- */

/* What the issue calls the bare C recv() loop: blocking recv() of whole
 * frames into one reused buffer, nothing else.  It is the ceiling a
 * receiver of whole frames can reach on this machine. */
static gpointer
bare_thread (gpointer data)
{
  Stream *s = data;
  TfbRx *rx = s->rx;
  gsize size = rx->frame_size;
  gboolean want_data = rx->arrival != NULL || rx->cfg.check;
  gint fd = -1;

  for (;;) {
    gsize have = 0;

    if (fd < 0) {
      gint old;

      fd = accept4 (s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
      if (fd < 0)
        return NULL;
      /* The previous connection is the stale camera: let it go. */
      old = atomic_exchange (&s->conn_fd, fd);
      if (old >= 0)
        close (old);
      /* Stop may have looked before the store; then it is up to us. */
      if (atomic_load (&rx->stopping))
        return NULL;
    }
    while (have < size) {
      gssize n = recv (fd, s->buf + have, size - have, 0);

      if (n <= 0) {
        if (n < 0 && errno == EINTR)
          continue;
        return NULL;
      }
      have += n;
    }
    on_frame (s, want_data ? s->buf : NULL, size, NULL);
    if (rx->cfg.frame_per_connection)
      fd = -1;
  }
}

static gboolean
bare_listen (Stream * s, GError ** error)
{
  struct sockaddr_in sa = { 0, };
  socklen_t len = sizeof (sa);

  s->listen_fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (s->listen_fd < 0
      || bind (s->listen_fd, (struct sockaddr *) &sa, sizeof (sa)) < 0
      || listen (s->listen_fd, 16) < 0
      || getsockname (s->listen_fd, (struct sockaddr *) &sa, &len) < 0) {
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
        "bare loop: cannot listen: %s", g_strerror (errno));
    return FALSE;
  }
  s->port = ntohs (sa.sin_port);
  return TRUE;
}

static void
bare_stop (Stream * s)
{
  gint fd;

  /* shutdown() wakes a thread blocked in accept() or recv() on Linux;
   * close() alone would not. */
  if (s->listen_fd >= 0)
    shutdown (s->listen_fd, SHUT_RDWR);
  fd = atomic_load (&s->conn_fd);
  if (fd >= 0)
    shutdown (fd, SHUT_RDWR);
  if (s->thread)
    g_thread_join (s->thread);
  fd = atomic_load (&s->conn_fd);
  if (fd >= 0)
    close (fd);
  if (s->listen_fd >= 0)
    close (s->listen_fd);
  g_free (s->buf);
}

/* ---- pipelines ---- */

static void
probe_buffer (Stream * s, GstBuffer * buf)
{
  TfbRx *rx = s->rx;

  if (rx->arrival || rx->cfg.check) {
    GstMapInfo map;

    if (gst_buffer_map (buf, &map, GST_MAP_READ)) {
      on_frame (s, map.data, map.size, buf);
      gst_buffer_unmap (buf, &map);
    }
  } else {
    on_frame (s, NULL, gst_buffer_get_size (buf), buf);
  }
}

static gboolean
probe_list_item (GstBuffer ** buf, guint idx, gpointer user_data)
{
  probe_buffer (user_data, *buf);
  return TRUE;
}

static GstPadProbeReturn
sink_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST)
    gst_buffer_list_foreach (GST_PAD_PROBE_INFO_BUFFER_LIST (info),
        probe_list_item, user_data);
  else
    probe_buffer (user_data, GST_PAD_PROBE_INFO_BUFFER (info));
  return GST_PAD_PROBE_OK;
}

/* Runs in whichever thread posts; only what the phases wait for is kept,
 * everything else is dropped so nothing piles up on an unwatched bus. */
static GstBusSyncReply
bus_sync (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  TfbRx *rx = user_data;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:{
      GError *err = NULL;
      gchar *dbg = NULL;

      gst_message_parse_error (msg, &err, &dbg);
      g_mutex_lock (&rx->lock);
      if (!rx->error)
        rx->error = g_strdup_printf ("%s: %s (%s)",
            GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), err->message,
            dbg ? dbg : "");
      g_mutex_unlock (&rx->lock);
      g_error_free (err);
      g_free (dbg);
      break;
    }
    case GST_MESSAGE_ELEMENT:{
      const GstStructure *st = gst_message_get_structure (msg);

      if (gst_structure_has_name (st, "tcpframesrc-disconnected")) {
        Disconnect *d = g_new0 (Disconnect, 1);

        d->posted_ns = tfb_now_ns ();
        d->reason = g_strdup (gst_structure_get_string (st, "reason"));
        g_mutex_lock (&rx->lock);
        g_queue_push_tail (&rx->disconnects, d);
        g_cond_broadcast (&rx->cond);
        g_mutex_unlock (&rx->lock);
      }
      break;
    }
    default:
      break;
  }
  return GST_BUS_DROP;
}

static GstElement *
make (GstElement * bin, const gchar * factory, GError ** error)
{
  GstElement *e = gst_element_factory_make (factory, NULL);

  if (!e) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "no element %s (for tcpframesrc, GST_PLUGIN_PATH must include "
        "build/gst-plugin)", factory);
    return NULL;
  }
  gst_bin_add (GST_BIN (bin), e);
  return e;
}

static gboolean
build_stream (TfbRx * rx, Stream * s, GError ** error)
{
  const TfbRxConfig *cfg = &rx->cfg;
  GstElement *sink, *last;
  GstPad *pad;

  switch (cfg->kind) {
    case TFB_RX_TCPSERVERSRC:{
      GstElement *parse;

      /* blocksize = one frame: the most favourable setting it has. */
      if (!(s->src = make (rx->pipeline, "tcpserversrc", error))
          || !(parse = make (rx->pipeline, "rawvideoparse", error)))
        return FALSE;
      g_object_set (s->src, "host", "127.0.0.1", "port", 0,
          "blocksize", (guint) rx->frame_size, NULL);
      gst_util_set_object_arg (G_OBJECT (parse), "format",
          cfg->size->parse_format);
      g_object_set (parse, "width", cfg->size->width, "height",
          cfg->size->height, "framerate", 30, 1, NULL);
      if (!gst_element_link (s->src, parse))
        goto link_failed;
      last = parse;
      break;
    }
    case TFB_RX_TF_RAW:
    case TFB_RX_TF_HEADER:
    case TFB_RX_TF_LENGTH:{
      if (!(s->src = make (rx->pipeline, "tcpframesrc", error)))
        return FALSE;
      g_object_set (s->src, "host", "127.0.0.1", "port", 0, NULL);
      gst_util_set_object_arg (G_OBJECT (s->src), "framing",
          tfb_wire_name (tfb_rx_wire (cfg->kind)));
      /* header: the caps travel with the first frame, as from a camera */
      if (cfg->kind != TFB_RX_TF_HEADER) {
        gchar *str = tfb_size_caps (cfg->size);
        GstCaps *caps = gst_caps_from_string (str);

        g_object_set (s->src, "caps", caps, NULL);
        gst_caps_unref (caps);
        g_free (str);
      }
      if (cfg->timeout_ns)
        g_object_set (s->src, "timeout", cfg->timeout_ns, NULL);
      last = s->src;
      break;
    }
    case TFB_RX_FLOOR:
    case TFB_RX_FLOOR_LIST:{
      gchar *str = tfb_size_caps (cfg->size);
      GstCaps *caps = gst_caps_from_string (str);

      tfb_nullsrc_register ();
      if (!(s->src = make (rx->pipeline, "tfbnullsrc", error)))
        return FALSE;
      g_object_set (s->src, "caps", caps, "blocksize",
          (guint) rx->frame_size, "list-size",
          cfg->kind == TFB_RX_FLOOR_LIST ? 16 : 1, NULL);
      gst_caps_unref (caps);
      g_free (str);
      last = s->src;
      break;
    }
    default:
      g_assert_not_reached ();
  }

  /* A consumer that costs as little as possible: no clock sync, no
   * preroll wait, and no last-sample, which would keep a buffer out of
   * the pool and build a GstSample per buffer. */
  if (!(sink = make (rx->pipeline, "fakesink", error)))
    return FALSE;
  g_object_set (sink, "sync", FALSE, "async", FALSE, "silent", TRUE,
      "enable-last-sample", FALSE, NULL);
  if (!gst_element_link (last, sink))
    goto link_failed;
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST, sink_probe, s, NULL);
  gst_object_unref (pad);
  return TRUE;

link_failed:
  g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
      "cannot link the %s pipeline", tfb_rx_name (cfg->kind));
  return FALSE;
}

TfbRx *
tfb_rx_start (const TfbRxConfig * cfg, GError ** error)
{
  TfbRx *rx = g_new0 (TfbRx, 1);
  guint i;

  rx->cfg = *cfg;
  if (rx->cfg.n_streams == 0)
    rx->cfg.n_streams = 1;
  rx->frame_size = tfb_size_bytes (cfg->size);
  g_mutex_init (&rx->lock);
  g_cond_init (&rx->cond);
  g_queue_init (&rx->disconnects);
  if (cfg->max_seq)
    rx->arrival = g_new0 (gint64, cfg->max_seq);
  rx->streams = g_new0 (Stream, rx->cfg.n_streams);
  for (i = 0; i < rx->cfg.n_streams; i++) {
    Stream *s = &rx->streams[i];

    s->rx = rx;
    s->index = i;
    s->listen_fd = -1;
    atomic_init (&s->conn_fd, -1);
    s->memories = g_hash_table_new (g_direct_hash, g_direct_equal);
  }

  if (cfg->kind == TFB_RX_BARE) {
    for (i = 0; i < rx->cfg.n_streams; i++) {
      Stream *s = &rx->streams[i];

      if (!bare_listen (s, error))
        goto fail;
      s->buf = g_malloc (rx->frame_size);
      /* Touch it once, as a pool's buffers are after their first frame. */
      memset (s->buf, 0, rx->frame_size);
      s->thread = g_thread_new ("bare-recv", bare_thread, s);
    }
    return rx;
  }

  rx->pipeline = gst_pipeline_new (tfb_rx_name (cfg->kind));
  {
    GstBus *bus = gst_element_get_bus (rx->pipeline);

    gst_bus_set_sync_handler (bus, bus_sync, rx, NULL);
    gst_object_unref (bus);
  }
  for (i = 0; i < rx->cfg.n_streams; i++) {
    if (!build_stream (rx, &rx->streams[i], error))
      goto fail;
  }
  /* Both sources bind while going to PAUSED, inside this call. */
  if (gst_element_set_state (rx->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    gchar *why = tfb_rx_take_error (rx);

    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_STATE_CHANGE,
        "the %s pipeline does not start: %s", tfb_rx_name (cfg->kind),
        why ? why : "no error message");
    g_free (why);
    goto fail;
  }
  for (i = 0; i < rx->cfg.n_streams && cfg->kind != TFB_RX_FLOOR
      && cfg->kind != TFB_RX_FLOOR_LIST; i++) {
    gint port = 0;

    g_object_get (rx->streams[i].src, "current-port", &port, NULL);
    if (port <= 0) {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_STATE_CHANGE,
          "the %s pipeline has no current-port", tfb_rx_name (cfg->kind));
      goto fail;
    }
    rx->streams[i].port = port;
  }
  return rx;

fail:
  tfb_rx_stop (rx);
  return NULL;
}

guint16
tfb_rx_port (TfbRx * rx, guint stream)
{
  return rx->streams[stream].port;
}

void
tfb_rx_counts (TfbRx * rx, TfbRxCounts * out)
{
  guint i;

  memset (out, 0, sizeof (*out));
  out->min_stream_frames = G_MAXUINT64;
  for (i = 0; i < rx->cfg.n_streams; i++) {
    Stream *s = &rx->streams[i];
    guint64 frames = atomic_load (&s->frames);

    out->frames += frames;
    out->bytes += atomic_load (&s->bytes);
    out->min_stream_frames = MIN (out->min_stream_frames, frames);
    out->checked_frames += atomic_load (&s->checked_frames);
    out->direct_bytes += atomic_load (&s->direct_bytes);
    out->pooled_frames += atomic_load (&s->pooled_frames);
    out->distinct_memories += atomic_load (&s->distinct_memories);
  }
}

gint64
tfb_rx_wait_seq (TfbRx * rx, guint64 seq, gint64 deadline_ns)
{
  gint64 t;

  g_return_val_if_fail (rx->arrival && seq < rx->cfg.max_seq, 0);
  /* g_cond_wait_until() takes g_get_monotonic_time(), the same clock in
   * microseconds. */
  g_mutex_lock (&rx->lock);
  while (rx->arrival[seq] == 0
      && g_cond_wait_until (&rx->cond, &rx->lock, deadline_ns / 1000));
  t = rx->arrival[seq];
  g_mutex_unlock (&rx->lock);
  return t;
}

gint64
tfb_rx_wait_disconnect (TfbRx * rx, gint64 deadline_ns, gchar ** reason)
{
  Disconnect *d;
  gint64 t = 0;

  g_mutex_lock (&rx->lock);
  while (g_queue_is_empty (&rx->disconnects)
      && g_cond_wait_until (&rx->cond, &rx->lock, deadline_ns / 1000));
  d = g_queue_pop_head (&rx->disconnects);
  g_mutex_unlock (&rx->lock);
  if (d) {
    t = d->posted_ns;
    if (reason)
      *reason = g_steal_pointer (&d->reason);
    g_free (d->reason);
    g_free (d);
  }
  return t;
}

guint64
tfb_rx_stat (TfbRx * rx, const gchar * field)
{
  GstStructure *st = NULL;
  guint64 v = 0;

  if (!rx->pipeline || !(rx->cfg.kind == TFB_RX_TF_RAW
          || rx->cfg.kind == TFB_RX_TF_HEADER
          || rx->cfg.kind == TFB_RX_TF_LENGTH))
    return 0;
  g_object_get (rx->streams[0].src, "stats", &st, NULL);
  if (st) {
    gst_structure_get_uint64 (st, field, &v);
    gst_structure_free (st);
  }
  return v;
}

gchar *
tfb_rx_take_error (TfbRx * rx)
{
  gchar *e;

  g_mutex_lock (&rx->lock);
  e = g_steal_pointer (&rx->error);
  g_mutex_unlock (&rx->lock);
  return e;
}

static void
disconnect_free (gpointer data)
{
  Disconnect *d = data;

  g_free (d->reason);
  g_free (d);
}

void
tfb_rx_stop (TfbRx * rx)
{
  guint i;

  if (!rx)
    return;
  atomic_store (&rx->stopping, TRUE);
  if (rx->pipeline) {
    /* Through PAUSED: a live GstBaseSrc that pushes buffer lists (the
     * floor-list reference) and is shut down from PLAYING at once can hit
     * a critical inside GStreamer 1.22's basesrc. */
    gst_element_set_state (rx->pipeline, GST_STATE_PAUSED);
    gst_element_set_state (rx->pipeline, GST_STATE_NULL);
    gst_object_unref (rx->pipeline);
  }
  for (i = 0; i < rx->cfg.n_streams; i++) {
    Stream *s = &rx->streams[i];

    if (rx->cfg.kind == TFB_RX_BARE)
      bare_stop (s);
    g_hash_table_unref (s->memories);
  }
  g_free (rx->streams);
  g_free (rx->arrival);
  g_queue_clear_full (&rx->disconnects, disconnect_free);
  g_free (rx->error);
  g_mutex_clear (&rx->lock);
  g_cond_clear (&rx->cond);
  g_free (rx);
}
