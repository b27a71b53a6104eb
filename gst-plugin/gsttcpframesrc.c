/* tcpframe: tcpframesrc, a TCP camera source that survives reboots.
 *
 * SECTION:element-tcpframesrc
 *
 * Listens for cameras that stream frames over plain TCP and pushes whole
 * frames downstream.  Unlike tcpserversrc it keeps listening for the
 * element's whole life, replaces a stale peer with a new one, drops a peer
 * that delivers no complete frame for #GstTcpFrameSrc:timeout (with an RST,
 * so a camera reconnecting from the same source port gets in), and never
 * sends EOS or an error because a peer left.
 *
 * |[
 * gst-launch-1.0 tcpframesrc host=0.0.0.0 port=5000 ! videoconvert ! autovideosink
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsttcpframesrc.h"
#include "gsttcpframereconnect.h"
#include "tcpframe-enumtypes.h"

#include <gst/video/video.h>

GST_DEBUG_CATEGORY_EXTERN (gst_tcp_frame_debug);
#define GST_CAT_DEFAULT gst_tcp_frame_debug

#define DEFAULT_HOST "localhost"
#define DEFAULT_PORT 4953
#define DEFAULT_TIMEOUT GST_SECOND
#define DEFAULT_FRAMING TF_FRAMING_HEADER
#define DEFAULT_FRAME_SIZE 0
#define DEFAULT_LENGTH_FORMAT TF_LENGTH_FORMAT_U32BE
#define DEFAULT_MAX_FRAME_SIZE (64 * 1024 * 1024)
#define DEFAULT_PEER_POLICY TF_PEER_POLICY_REPLACE_ON_FRAME
#define DEFAULT_MAX_PENDING 4
#define DEFAULT_MODE TF_MODE_SERVER
/* The receiver has no unlimited connect: with 0 every attempt would time
 * out at once. */
#define MIN_CONNECT_TIMEOUT 1
#define DEFAULT_KEEPALIVE TRUE
#define DEFAULT_KEEPALIVE_IDLE 5
#define DEFAULT_KEEPALIVE_INTERVAL 1
#define DEFAULT_KEEPALIVE_COUNT 5
#define MAX_PORT 65535

enum
{
  PROP_0,
  PROP_HOST,
  PROP_PORT,
  PROP_CURRENT_PORT,
  PROP_TIMEOUT,
  PROP_FRAMING,
  PROP_FRAME_SIZE,
  PROP_LENGTH_FORMAT,
  PROP_MAX_FRAME_SIZE,
  PROP_CAPS,
  PROP_PEER_POLICY,
  PROP_MAX_PENDING,
  PROP_STATUS,
  PROP_STATS,
  PROP_MODE,
  PROP_CONNECT_TIMEOUT,
  PROP_RETRY_DELAY,
  PROP_MAX_RETRY_DELAY,
  PROP_MAX_RETRIES,
  PROP_KEEPALIVE,
  PROP_KEEPALIVE_IDLE,
  PROP_KEEPALIVE_INTERVAL,
  PROP_KEEPALIVE_COUNT,
  PROP_ALLOW,
  N_PROPS
};

G_STATIC_ASSERT (PROP_MAX_RETRIES - PROP_CONNECT_TIMEOUT + 1 ==
    GST_TCP_FRAME_RECONNECT_N_PROPS);

static GParamSpec *properties[N_PROPS];

struct _GstTcpFrameSrc
{
  GstPushSrc parent;

  /* properties, under the object lock */
  gchar *host;
  gint port;
  guint64 timeout;
  TfFraming framing;
  guint frame_size;
  TfLengthFormat length_format;
  guint64 max_frame_size;
  GstCaps *caps;
  TfPeerPolicy peer_policy;
  guint max_pending;
  gint current_port;
  TfStatus status;
  TfMode mode;
  GstTcpFrameReconnect reconnect;
  gboolean keepalive;
  guint keepalive_idle;
  guint keepalive_interval;
  guint keepalive_count;
  gchar *allow;

  GstTcpFrameReceiver *receiver;

  /* streaming thread only */
  GstCaps *fixed_caps;          /* caps known before any frame, or NULL */
  GstCaps *out_caps;            /* last caps pushed downstream */
  GstCaps *next_caps;           /* caps our negotiate() should set */
  gsize pool_size;              /* frame size the pool's buffers have */
};

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS_ANY);

#define gst_tcp_frame_src_parent_class parent_class
G_DEFINE_TYPE (GstTcpFrameSrc, gst_tcp_frame_src, GST_TYPE_PUSH_SRC);
GST_ELEMENT_REGISTER_DEFINE (tcpframesrc, "tcpframesrc", GST_RANK_NONE,
    GST_TYPE_TCP_FRAME_SRC);

static const gchar *
reason_nick (TfReason reason)
{
  GEnumValue *v = g_enum_get_value (g_type_class_peek (TF_TYPE_REASON), reason);
  return v ? v->value_nick : "unknown";
}

static void
update_status (GstTcpFrameSrc * self, TfStatus status)
{
  gboolean changed;

  GST_OBJECT_LOCK (self);
  changed = (self->status != status);
  self->status = status;
  GST_OBJECT_UNLOCK (self);
  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS]);
}

static void
on_peer_event (const GstTcpFramePeerEvent * ev, gpointer user_data)
{
  GstTcpFrameSrc *self = user_data;
  GstStructure *s = NULL;

  switch (ev->type) {
    case GST_TCP_FRAME_PEER_CONNECTED:
      s = gst_structure_new ("tcpframesrc-connected",
          "address", G_TYPE_STRING, ev->address,
          "port", G_TYPE_INT, (gint) ev->port, NULL);
      break;
    case GST_TCP_FRAME_PEER_DISCONNECTED:
      s = gst_structure_new ("tcpframesrc-disconnected",
          "address", G_TYPE_STRING, ev->address,
          "port", G_TYPE_INT, (gint) ev->port,
          "reason", G_TYPE_STRING, reason_nick (ev->reason),
          "frames", G_TYPE_UINT64, ev->frames, NULL);
      break;
    case GST_TCP_FRAME_PEER_REJECTED:
      s = gst_structure_new ("tcpframesrc-rejected",
          "address", G_TYPE_STRING, ev->address,
          "port", G_TYPE_INT, (gint) ev->port,
          "reason", G_TYPE_STRING, reason_nick (ev->reason), NULL);
      break;
  }
  if (ev->error)
    gst_structure_set (s, "error", G_TYPE_STRING, ev->error->message, NULL);

  if (ev->reason == TF_REASON_PROTOCOL_ERROR) {
    GST_ELEMENT_WARNING (self, STREAM, DECODE,
        ("Dropped peer %s:%u: %s", ev->address, ev->port,
            ev->error ? ev->error->message : "protocol error"), (NULL));
  }

  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
  update_status (self, gst_tcp_frame_receiver_get_status (self->receiver));
}

static gboolean
accept_caps (GstCaps * caps, gpointer user_data)
{
  GstPad *pad = GST_BASE_SRC_PAD (user_data);

  return !gst_pad_is_linked (pad) || gst_pad_peer_query_accept_caps (pad, caps);
}

static GstBuffer *
alloc_frame (gsize size, gpointer user_data)
{
  GstTcpFrameSrc *self = user_data;
  GstBaseSrc *bsrc = GST_BASE_SRC (self);
  GstBufferPool *pool;
  GstAllocator *allocator = NULL;
  GstAllocationParams params;
  GstBuffer *buf = NULL;

  if (size == self->pool_size && (pool = gst_base_src_get_buffer_pool (bsrc))) {
    if (gst_buffer_pool_acquire_buffer (pool, &buf, NULL) != GST_FLOW_OK)
      buf = NULL;
    gst_object_unref (pool);
    if (buf)
      return buf;
  }

  gst_base_src_get_allocator (bsrc, &allocator, &params);
  buf = gst_buffer_new_allocate (allocator, size, &params);
  if (allocator)
    gst_object_unref (allocator);
  return buf;
}

static void
gst_tcp_frame_src_init (GstTcpFrameSrc * self)
{
  self->host = g_strdup (DEFAULT_HOST);
  self->port = DEFAULT_PORT;
  self->timeout = DEFAULT_TIMEOUT;
  self->framing = DEFAULT_FRAMING;
  self->frame_size = DEFAULT_FRAME_SIZE;
  self->length_format = DEFAULT_LENGTH_FORMAT;
  self->max_frame_size = DEFAULT_MAX_FRAME_SIZE;
  self->peer_policy = DEFAULT_PEER_POLICY;
  self->max_pending = DEFAULT_MAX_PENDING;
  self->status = TF_STATUS_STOPPED;
  self->mode = DEFAULT_MODE;
  gst_tcp_frame_reconnect_init (&self->reconnect);
  self->keepalive = DEFAULT_KEEPALIVE;
  self->keepalive_idle = DEFAULT_KEEPALIVE_IDLE;
  self->keepalive_interval = DEFAULT_KEEPALIVE_INTERVAL;
  self->keepalive_count = DEFAULT_KEEPALIVE_COUNT;

  self->receiver = gst_tcp_frame_receiver_new (GST_OBJECT (self),
      on_peer_event, accept_caps, alloc_frame, self);

  gst_base_src_set_live (GST_BASE_SRC (self), TRUE);
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
  gst_base_src_set_do_timestamp (GST_BASE_SRC (self), TRUE);
}

static void
gst_tcp_frame_src_finalize (GObject * object)
{
  GstTcpFrameSrc *self = GST_TCP_FRAME_SRC (object);

  gst_tcp_frame_receiver_free (self->receiver);
  g_free (self->host);
  g_free (self->allow);
  gst_clear_caps (&self->caps);
  gst_clear_caps (&self->fixed_caps);
  gst_clear_caps (&self->out_caps);
  gst_clear_caps (&self->next_caps);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static GstStructure *
build_stats (GstTcpFrameSrc * self)
{
  GstTcpFrameReceiverStats st;
  GstStructure *s;

  gst_tcp_frame_receiver_get_stats (self->receiver, &st);
  s = gst_structure_new ("tcpframesrc-stats",
      "frames", G_TYPE_UINT64, st.frames,
      "bytes", G_TYPE_UINT64, st.bytes,
      "connections", G_TYPE_UINT64, st.connections,
      "replacements", G_TYPE_UINT64, st.replacements,
      "timeouts", G_TYPE_UINT64, st.timeouts,
      "protocol-errors", G_TYPE_UINT64, st.protocol_errors,
      "rejected", G_TYPE_UINT64, st.rejected,
      "sequence-gaps", G_TYPE_UINT64, st.sequence_gaps,
      "skipped-bytes", G_TYPE_UINT64, st.skipped_bytes,
      "connect-attempts", G_TYPE_UINT64, st.connect_attempts,
      "peer-address", G_TYPE_STRING, st.peer_address ? st.peer_address : "",
      "peer-port", G_TYPE_INT, (gint) st.peer_port, NULL);
  gst_tcp_frame_receiver_stats_clear (&st);
  return s;
}

static void
gst_tcp_frame_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstTcpFrameSrc *self = GST_TCP_FRAME_SRC (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_HOST:
      g_free (self->host);
      self->host = g_value_dup_string (value);
      if (!self->host)
        self->host = g_strdup (DEFAULT_HOST);
      break;
    case PROP_PORT:
      self->port = g_value_get_int (value);
      break;
    case PROP_TIMEOUT:
      self->timeout = g_value_get_uint64 (value);
      break;
    case PROP_FRAMING:
      self->framing = g_value_get_enum (value);
      break;
    case PROP_FRAME_SIZE:
      self->frame_size = g_value_get_uint (value);
      break;
    case PROP_LENGTH_FORMAT:
      self->length_format = g_value_get_enum (value);
      break;
    case PROP_MAX_FRAME_SIZE:
      self->max_frame_size = g_value_get_uint64 (value);
      break;
    case PROP_CAPS:{
      const GstCaps *caps = gst_value_get_caps (value);
      gst_clear_caps (&self->caps);
      if (caps && !gst_caps_is_any (caps) && !gst_caps_is_empty (caps))
        self->caps = gst_caps_copy (caps);
      break;
    }
    case PROP_PEER_POLICY:
      self->peer_policy = g_value_get_enum (value);
      break;
    case PROP_MAX_PENDING:
      self->max_pending = g_value_get_uint (value);
      break;
    case PROP_MODE:
      self->mode = g_value_get_enum (value);
      break;
    case PROP_CONNECT_TIMEOUT:
    case PROP_RETRY_DELAY:
    case PROP_MAX_RETRY_DELAY:
    case PROP_MAX_RETRIES:
      gst_tcp_frame_reconnect_set_property (&self->reconnect,
          prop_id - PROP_CONNECT_TIMEOUT, value);
      break;
    case PROP_KEEPALIVE:
      self->keepalive = g_value_get_boolean (value);
      break;
    case PROP_KEEPALIVE_IDLE:
      self->keepalive_idle = g_value_get_uint (value);
      break;
    case PROP_KEEPALIVE_INTERVAL:
      self->keepalive_interval = g_value_get_uint (value);
      break;
    case PROP_KEEPALIVE_COUNT:
      self->keepalive_count = g_value_get_uint (value);
      break;
    case PROP_ALLOW:
      g_free (self->allow);
      self->allow = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_tcp_frame_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstTcpFrameSrc *self = GST_TCP_FRAME_SRC (object);

  if (prop_id == PROP_STATS) {
    g_value_take_boxed (value, build_stats (self));
    return;
  }

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_HOST:
      g_value_set_string (value, self->host);
      break;
    case PROP_PORT:
      g_value_set_int (value, self->port);
      break;
    case PROP_CURRENT_PORT:
      g_value_set_int (value, self->current_port);
      break;
    case PROP_TIMEOUT:
      g_value_set_uint64 (value, self->timeout);
      break;
    case PROP_FRAMING:
      g_value_set_enum (value, self->framing);
      break;
    case PROP_FRAME_SIZE:
      g_value_set_uint (value, self->frame_size);
      break;
    case PROP_LENGTH_FORMAT:
      g_value_set_enum (value, self->length_format);
      break;
    case PROP_MAX_FRAME_SIZE:
      g_value_set_uint64 (value, self->max_frame_size);
      break;
    case PROP_CAPS:
      gst_value_set_caps (value, self->caps);
      break;
    case PROP_PEER_POLICY:
      g_value_set_enum (value, self->peer_policy);
      break;
    case PROP_MAX_PENDING:
      g_value_set_uint (value, self->max_pending);
      break;
    case PROP_STATUS:
      g_value_set_enum (value, self->status);
      break;
    case PROP_MODE:
      g_value_set_enum (value, self->mode);
      break;
    case PROP_CONNECT_TIMEOUT:
    case PROP_RETRY_DELAY:
    case PROP_MAX_RETRY_DELAY:
    case PROP_MAX_RETRIES:
      gst_tcp_frame_reconnect_get_property (&self->reconnect,
          prop_id - PROP_CONNECT_TIMEOUT, value);
      break;
    case PROP_KEEPALIVE:
      g_value_set_boolean (value, self->keepalive);
      break;
    case PROP_KEEPALIVE_IDLE:
      g_value_set_uint (value, self->keepalive_idle);
      break;
    case PROP_KEEPALIVE_INTERVAL:
      g_value_set_uint (value, self->keepalive_interval);
      break;
    case PROP_KEEPALIVE_COUNT:
      g_value_set_uint (value, self->keepalive_count);
      break;
    case PROP_ALLOW:
      g_value_set_string (value, self->allow);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* Turns the properties into a receiver config, or explains what is wrong
 * with them.  Runs once per start, so the streaming thread never looks at
 * properties. */
static gboolean
make_config (GstTcpFrameSrc * self, GstTcpFrameReceiverConfig * cfg,
    GError ** error)
{
  GstCaps *caps;
  guint64 frame_size;
  gchar *allow;

  GST_OBJECT_LOCK (self);
  cfg->mode = self->mode;
  cfg->connect_timeout_ns = self->reconnect.connect_timeout;
  cfg->retry_delay_ns = self->reconnect.retry_delay;
  cfg->max_retry_delay_ns = self->reconnect.max_retry_delay;
  cfg->max_retries = self->reconnect.max_retries;
  cfg->keepalive = self->keepalive;
  cfg->keepalive_idle_s = self->keepalive_idle;
  cfg->keepalive_interval_s = self->keepalive_interval;
  cfg->keepalive_count = self->keepalive_count;
  cfg->host = g_strdup (self->host);
  cfg->port = self->port;
  cfg->timeout_ns = self->timeout;
  cfg->policy = self->peer_policy;
  cfg->max_pending = self->max_pending;
  cfg->framer.framing = self->framing;
  cfg->framer.length_format = self->length_format;
  cfg->framer.max_frame_size = self->max_frame_size;
  frame_size = self->frame_size;
  caps = self->caps ? gst_caps_ref (self->caps) : NULL;
  allow = g_strdup (self->allow);
  GST_OBJECT_UNLOCK (self);

  cfg->allow = tf_allowlist_parse (allow, error);
  g_free (allow);
  if (!cfg->allow) {
    gst_clear_caps (&caps);
    gst_tcp_frame_receiver_config_clear (cfg);
    return FALSE;
  }

  if (cfg->mode == TF_MODE_CLIENT && cfg->port == 0) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "mode=client needs the camera's port");
    goto fail;
  }
  if (caps && !gst_caps_is_fixed (caps)) {
    gchar *str = gst_caps_to_string (caps);
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "the caps property must be fixed caps, got %s", str);
    g_free (str);
    goto fail;
  }

  switch (cfg->framer.framing) {
    case TF_FRAMING_RAW:{
      GstVideoInfo info;
      gboolean have_info = caps && gst_video_info_from_caps (&info, caps);

      if (frame_size == 0 && have_info)
        frame_size = GST_VIDEO_INFO_SIZE (&info);
      if (frame_size == 0) {
        g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
            "framing=raw needs frame-size, or video/x-raw caps to derive it "
            "from");
        goto fail;
      }
      if (have_info && frame_size != GST_VIDEO_INFO_SIZE (&info)) {
        g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
            "frame-size %" G_GUINT64_FORMAT " does not match the %"
            G_GSIZE_FORMAT " bytes a frame of the caps has", frame_size,
            GST_VIDEO_INFO_SIZE (&info));
        goto fail;
      }
      if (frame_size > cfg->framer.max_frame_size) {
        g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
            "frame-size %" G_GUINT64_FORMAT " is over max-frame-size %"
            G_GUINT64_FORMAT, frame_size, cfg->framer.max_frame_size);
        goto fail;
      }
      cfg->framer.frame_size = frame_size;
      if (!caps)
        caps = gst_caps_new_empty_simple ("application/octet-stream");
      break;
    }
    case TF_FRAMING_LENGTH:
      if (!caps)
        caps = gst_caps_new_empty_simple ("application/octet-stream");
      break;
    case TF_FRAMING_JPEG:
      if (!caps)
        caps = gst_caps_new_empty_simple ("image/jpeg");
      break;
    case TF_FRAMING_HEADER:
      break;
  }
  cfg->caps = caps;
  return TRUE;

fail:
  gst_clear_caps (&caps);
  gst_tcp_frame_receiver_config_clear (cfg);
  return FALSE;
}

/* Listening starts in change_state rather than in GstBaseSrc::start: a
 * failing start() makes basesrc post a second, vague "failed to start"
 * error after ours, and users should see only the one that says why. */
static gboolean
gst_tcp_frame_src_open (GstTcpFrameSrc * self)
{
  GstTcpFrameReceiverConfig cfg = { 0, };
  GError *err = NULL;

  if (!make_config (self, &cfg, &err)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", err->message), (NULL));
    g_error_free (err);
    return FALSE;
  }

  if (!gst_tcp_frame_receiver_start (self->receiver, &cfg, &err)) {
    if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      GST_DEBUG_OBJECT (self, "cancelled while starting");
    } else {
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
          ("Could not listen on %s port %d: %s", cfg.host, cfg.port,
              err->message), (NULL));
    }
    g_error_free (err);
    gst_tcp_frame_receiver_config_clear (&cfg);
    return FALSE;
  }

  gst_caps_replace (&self->fixed_caps, cfg.caps);
  gst_clear_caps (&self->out_caps);
  gst_clear_caps (&self->next_caps);
  self->pool_size = 0;
  gst_tcp_frame_receiver_config_clear (&cfg);

  GST_OBJECT_LOCK (self);
  self->current_port = gst_tcp_frame_receiver_get_port (self->receiver);
  GST_OBJECT_UNLOCK (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CURRENT_PORT]);
  update_status (self, gst_tcp_frame_receiver_get_status (self->receiver));
  return TRUE;
}

static void
gst_tcp_frame_src_close (GstTcpFrameSrc * self)
{
  gst_tcp_frame_receiver_stop (self->receiver);
  GST_OBJECT_LOCK (self);
  self->current_port = 0;
  GST_OBJECT_UNLOCK (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CURRENT_PORT]);
  update_status (self, TF_STATUS_STOPPED);
}

static GstStateChangeReturn
gst_tcp_frame_src_change_state (GstElement * element,
    GstStateChange transition)
{
  GstTcpFrameSrc *self = GST_TCP_FRAME_SRC (element);
  GstStateChangeReturn ret;

  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED
      && !gst_tcp_frame_src_open (self))
    return GST_STATE_CHANGE_FAILURE;

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);

  if ((transition == GST_STATE_CHANGE_READY_TO_PAUSED
          && ret == GST_STATE_CHANGE_FAILURE)
      || transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    gst_tcp_frame_src_close (self);
  return ret;
}

static gboolean
gst_tcp_frame_src_unlock (GstBaseSrc * bsrc)
{
  GstTcpFrameSrc *self = GST_TCP_FRAME_SRC (bsrc);

  GST_DEBUG_OBJECT (self, "unlock");
  gst_tcp_frame_receiver_cancel (self->receiver);
  return TRUE;
}

static gboolean
gst_tcp_frame_src_unlock_stop (GstBaseSrc * bsrc)
{
  GstTcpFrameSrc *self = GST_TCP_FRAME_SRC (bsrc);

  GST_DEBUG_OBJECT (self, "unlock_stop");
  gst_tcp_frame_receiver_renew (self->receiver);
  return TRUE;
}

static GstCaps *
gst_tcp_frame_src_get_caps (GstBaseSrc * bsrc, GstCaps * filter)
{
  GstTcpFrameSrc *self = GST_TCP_FRAME_SRC (bsrc);
  GstCaps *caps = NULL;

  GST_OBJECT_LOCK (self);
  if (self->out_caps)
    caps = gst_caps_ref (self->out_caps);
  else if (self->fixed_caps)
    caps = gst_caps_ref (self->fixed_caps);
  GST_OBJECT_UNLOCK (self);

  if (!caps)
    caps = gst_pad_get_pad_template_caps (GST_BASE_SRC_PAD (bsrc));
  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full (filter, caps,
        GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref (caps);
    caps = tmp;
  }
  return caps;
}

/* Sets the caps of the next frame, or those known up front; with header
 * framing and no caps property there is nothing to set until the first
 * frame arrives. */
static gboolean
gst_tcp_frame_src_negotiate (GstBaseSrc * bsrc)
{
  GstTcpFrameSrc *self = GST_TCP_FRAME_SRC (bsrc);
  GstCaps *caps;
  gboolean ok;

  caps = self->next_caps ? self->next_caps : self->fixed_caps;
  if (!caps)
    return TRUE;

  gst_caps_ref (caps);
  /* set_caps() alone would store refused caps on the pad and report
   * success; the frame push would then fail with not-negotiated. */
  ok = accept_caps (caps, self) && gst_base_src_set_caps (bsrc, caps);
  GST_OBJECT_LOCK (self);
  gst_caps_replace (&self->out_caps, ok ? caps : NULL);
  GST_OBJECT_UNLOCK (self);
  gst_caps_unref (caps);
  return ok;
}

static gsize
frame_size_for_caps (GstTcpFrameSrc * self, GstCaps * caps)
{
  GstVideoInfo info;
  guint frame_size;
  TfFraming framing;

  GST_OBJECT_LOCK (self);
  frame_size = self->frame_size;
  framing = self->framing;
  GST_OBJECT_UNLOCK (self);

  if (framing == TF_FRAMING_JPEG)
    return 0;
  if (framing == TF_FRAMING_RAW && frame_size)
    return frame_size;
  if (caps && gst_caps_is_fixed (caps) && gst_video_info_from_caps (&info,
          caps))
    return GST_VIDEO_INFO_SIZE (&info);
  return 0;
}

/* When every frame has the same size, a pool recycles their memory, so the
 * steady state allocates nothing per frame. */
static gboolean
gst_tcp_frame_src_decide_allocation (GstBaseSrc * bsrc, GstQuery * query)
{
  GstTcpFrameSrc *self = GST_TCP_FRAME_SRC (bsrc);
  GstCaps *caps = NULL;
  gsize size;

  gst_query_parse_allocation (query, &caps, NULL);
  size = frame_size_for_caps (self, caps);

  if (size > 0) {
    GstBufferPool *pool = NULL;
    guint psize = 0, min = 0, max = 0;

    if (gst_query_get_n_allocation_pools (query) > 0) {
      gst_query_parse_nth_allocation_pool (query, 0, &pool, &psize, &min,
          &max);
      /* A bounded pool would make a slow consumer block our reads; the
       * socket buffer is where backpressure belongs. */
      gst_query_set_nth_allocation_pool (query, 0, pool, size, min, 0);
    } else {
      pool = gst_buffer_pool_new ();
      gst_query_add_allocation_pool (query, pool, size, 0, 0);
    }
    if (pool)
      gst_object_unref (pool);
  }

  if (!GST_BASE_SRC_CLASS (parent_class)->decide_allocation (bsrc, query))
    return FALSE;

  self->pool_size = size;
  GST_DEBUG_OBJECT (self, "frame pool size %" G_GSIZE_FORMAT, size);
  return TRUE;
}

static GstFlowReturn
gst_tcp_frame_src_create (GstPushSrc * psrc, GstBuffer ** outbuf)
{
  GstTcpFrameSrc *self = GST_TCP_FRAME_SRC (psrc);

  for (;;) {
    GstBuffer *buf = NULL;
    GstCaps *caps = NULL;
    GError *err = NULL;

    switch (gst_tcp_frame_receiver_receive (self->receiver, &buf, &caps,
            &err)) {
      case GST_TCP_FRAME_RECEIVE_FLUSHING:
        return GST_FLOW_FLUSHING;
      case GST_TCP_FRAME_RECEIVE_ERROR:
        if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE))
          GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
              ("Could not reach the camera: %s", err->message), (NULL));
        else
          GST_ELEMENT_ERROR (self, RESOURCE, READ, ("%s", err->message),
              (NULL));
        g_error_free (err);
        return GST_FLOW_ERROR;
      case GST_TCP_FRAME_RECEIVE_OK:
        break;
    }

    if (caps != self->out_caps
        && (!self->out_caps || !gst_caps_is_equal (caps, self->out_caps))) {
      gboolean ok;

      GST_INFO_OBJECT (self, "caps now %" GST_PTR_FORMAT, caps);
      gst_caps_replace (&self->next_caps, caps);
      ok = gst_base_src_negotiate (GST_BASE_SRC (self));
      gst_clear_caps (&self->next_caps);
      if (!ok) {
        gchar *str = gst_caps_to_string (caps);
        GError *why = g_error_new (GST_STREAM_ERROR,
            GST_STREAM_ERROR_FORMAT, "downstream refused the peer's caps %s",
            str);

        g_free (str);
        gst_buffer_unref (buf);
        gst_tcp_frame_receiver_drop_current (self->receiver,
            TF_REASON_PROTOCOL_ERROR, why);
        g_error_free (why);
        continue;
      }
    } else if (caps != self->out_caps) {
      GST_OBJECT_LOCK (self);
      gst_caps_replace (&self->out_caps, caps);
      GST_OBJECT_UNLOCK (self);
    }

    *outbuf = buf;
    return GST_FLOW_OK;
  }
}

static void
gst_tcp_frame_src_class_init (GstTcpFrameSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;
  const GstTcpFrameReconnectBlurbs reconnect_blurbs = {
    .connect_timeout = "Client mode: give up on a connect attempt after "
        "this long (ns)",
    .retry_delay = "Client mode: bound of the first reconnect delay (ns); "
        "doubles per failed attempt, delays are random below the bound",
    .max_retry_delay = "Client mode: largest bound of the reconnect delay "
        "(ns)",
    .max_retries = "Client mode: failed attempts in a row before giving up "
        "with an error (-1 = never give up)",
  };

  gobject_class->set_property = gst_tcp_frame_src_set_property;
  gobject_class->get_property = gst_tcp_frame_src_get_property;
  gobject_class->finalize = gst_tcp_frame_src_finalize;

  properties[PROP_HOST] = g_param_spec_string ("host", "Host",
      "Address or name to listen on (every address a name resolves to); "
      "0.0.0.0 or :: for all interfaces", DEFAULT_HOST, rw);
  properties[PROP_PORT] = g_param_spec_int ("port", "Port",
      "TCP port to listen on (0 = pick a free one, see current-port)",
      0, MAX_PORT, DEFAULT_PORT, rw);
  properties[PROP_CURRENT_PORT] = g_param_spec_int ("current-port",
      "Current port", "The port actually listened on, 0 when stopped "
      "(notifies when bound)", 0, MAX_PORT, 0, ro);
  properties[PROP_TIMEOUT] = g_param_spec_uint64 ("timeout", "Timeout",
      "A peer that delivers no complete frame for this long (ns) is stale "
      "and is dropped with an RST (0 = never)", 0, G_MAXUINT64,
      DEFAULT_TIMEOUT, rw);
  properties[PROP_FRAMING] = g_param_spec_enum ("framing", "Framing",
      "How frames are delimited on the wire", TF_TYPE_FRAMING,
      DEFAULT_FRAMING, rw);
  properties[PROP_FRAME_SIZE] = g_param_spec_uint ("frame-size", "Frame size",
      "Bytes per frame for framing=raw (0 = derive from video/x-raw caps)",
      0, G_MAXUINT, DEFAULT_FRAME_SIZE, rw);
  properties[PROP_LENGTH_FORMAT] = g_param_spec_enum ("length-format",
      "Length format", "Width and byte order of the length prefix for "
      "framing=length", TF_TYPE_LENGTH_FORMAT, DEFAULT_LENGTH_FORMAT, rw);
  properties[PROP_MAX_FRAME_SIZE] = g_param_spec_uint64 ("max-frame-size",
      "Max frame size", "Largest frame accepted, in bytes; a peer declaring "
      "or sending more is dropped as a protocol error", 1, G_MAXUINT64,
      DEFAULT_MAX_FRAME_SIZE, rw);
  properties[PROP_CAPS] = g_param_spec_boxed ("caps", "Caps",
      "Caps of the frames: required for framing=raw/length unless "
      "application/octet-stream will do; image/jpeg by default for jpeg; "
      "for header, used until a frame carries caps", GST_TYPE_CAPS, rw);
  properties[PROP_PEER_POLICY] = g_param_spec_enum ("peer-policy",
      "Peer policy", "What a new connection does to the current peer",
      TF_TYPE_PEER_POLICY, DEFAULT_PEER_POLICY, rw);
  properties[PROP_MAX_PENDING] = g_param_spec_uint ("max-pending",
      "Max pending", "Connections held while another peer is current; "
      "past this the oldest pending one is dropped", 0, 1024,
      DEFAULT_MAX_PENDING, rw);
  properties[PROP_STATUS] = g_param_spec_enum ("status", "Status",
      "Whether a peer is streaming, or what we wait for (notifies on change)",
      TF_TYPE_STATUS, TF_STATUS_STOPPED, ro);
  properties[PROP_MODE] = g_param_spec_enum ("mode", "Mode",
      "server: listen for cameras on host:port; client: connect to the "
      "camera at host:port and reconnect with backoff", TF_TYPE_MODE,
      DEFAULT_MODE, rw);
  gst_tcp_frame_reconnect_make_pspecs (&properties[PROP_CONNECT_TIMEOUT],
      MIN_CONNECT_TIMEOUT, &reconnect_blurbs);
  properties[PROP_STATS] = g_param_spec_boxed ("stats", "Statistics",
      "Counters since start: frames, bytes, connections, replacements, "
      "timeouts, protocol-errors, rejected, sequence-gaps, skipped-bytes, "
      "connect-attempts; and the current peer-address and peer-port",
      GST_TYPE_STRUCTURE, ro);
  properties[PROP_KEEPALIVE] = g_param_spec_boolean ("keepalive", "Keepalive",
      "TCP keepalive on peers, so the kernel notices a dead link even with "
      "timeout=0", DEFAULT_KEEPALIVE, rw);
  properties[PROP_KEEPALIVE_IDLE] = g_param_spec_uint ("keepalive-idle",
      "Keepalive idle", "Seconds of silence before the first keepalive probe "
      "(TCP_KEEPIDLE)", 1, 32767, DEFAULT_KEEPALIVE_IDLE, rw);
  properties[PROP_KEEPALIVE_INTERVAL] = g_param_spec_uint
      ("keepalive-interval", "Keepalive interval",
      "Seconds between keepalive probes (TCP_KEEPINTVL)", 1, 32767,
      DEFAULT_KEEPALIVE_INTERVAL, rw);
  properties[PROP_KEEPALIVE_COUNT] = g_param_spec_uint ("keepalive-count",
      "Keepalive count", "Unanswered probes before the link is declared dead "
      "(TCP_KEEPCNT)", 1, 127, DEFAULT_KEEPALIVE_COUNT, rw);
  properties[PROP_ALLOW] = g_param_spec_string ("allow", "Allow",
      "Server mode: comma-separated IPv4/IPv6 addresses and CIDR networks "
      "that may connect, e.g. \"192.168.10.0/24,::1\"; others are reset at "
      "once (rejected, reason not-allowed).  Empty allows everyone", NULL,
      rw);
  g_object_class_install_properties (gobject_class, N_PROPS, properties);

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "TCP frame source", "Source/Network",
      "Receives whole frames from cameras over TCP, replacing stale peers "
      "and surviving reconnects", "tcpframe developers");

  element_class->change_state = gst_tcp_frame_src_change_state;
  basesrc_class->unlock = gst_tcp_frame_src_unlock;
  basesrc_class->unlock_stop = gst_tcp_frame_src_unlock_stop;
  basesrc_class->get_caps = gst_tcp_frame_src_get_caps;
  basesrc_class->negotiate = gst_tcp_frame_src_negotiate;
  basesrc_class->decide_allocation = gst_tcp_frame_src_decide_allocation;
  pushsrc_class->create = gst_tcp_frame_src_create;

  gst_type_mark_as_plugin_api (TF_TYPE_FRAMING, 0);
  gst_type_mark_as_plugin_api (TF_TYPE_LENGTH_FORMAT, 0);
  gst_type_mark_as_plugin_api (TF_TYPE_PEER_POLICY, 0);
  gst_type_mark_as_plugin_api (TF_TYPE_STATUS, 0);
  gst_type_mark_as_plugin_api (TF_TYPE_MODE, 0);
  /* reason_nick() peeks the class; keep it alive for the plugin's life. */
  g_type_class_ref (TF_TYPE_REASON);
}
