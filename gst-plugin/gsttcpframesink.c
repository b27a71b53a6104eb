/* tcpframe: tcpframesink, which lets any pipeline act as a TCP camera.
 *
 * SECTION:element-tcpframesink
 *
 * Sends every buffer as one frame over a plain TCP connection, in the
 * framings tcpframesrc reads, and behaves like a well-behaved live camera:
 * it connects to the receiver (or, with mode=server, waits for it),
 * reconnects with backoff when the receiver goes away, drops a receiver
 * that stops reading after #GstTcpFrameSink:send-timeout with an RST, and
 * never holds up the pipeline while doing any of that: render() only hands
 * the frame to a sending thread.  A frame that cannot go out now is
 * dropped and counted: while disconnected (except the newest one, with
 * #GstTcpFrameSink:resend-last), and when a newer frame arrives before it
 * started going out.  With the header framing every frame carries a
 * sequence number counting all frames the sink got, so the receiver's
 * sequence-gaps shows these drops.
 *
 * Element messages: `tcpframesink-connected` (address, port) and
 * `tcpframesink-disconnected` (address, port, reason: closed, reset,
 * send-timeout or replaced; frames sent on the connection; error when
 * known).  When more than #GstTcpFrameSink:max-retries attempts in a row
 * fail, an error naming host:port and the last failure is posted and the
 * stream stops.
 *
 * |[
 * gst-launch-1.0 videotestsrc is-live=true ! video/x-raw,format=GRAY8 \
 *     ! tcpframesink host=192.168.1.10 port=5000
 * gst-launch-1.0 tcpframesrc host=0.0.0.0 port=5000 ! videoconvert ! autovideosink
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsttcpframesink.h"
#include "gsttcpframereconnect.h"
#include "tcpframe-enumtypes.h"
#include "tf-framer.h"

#include <string.h>

GST_DEBUG_CATEGORY_EXTERN (gst_tcp_frame_debug);
#define GST_CAT_DEFAULT gst_tcp_frame_debug

#define DEFAULT_MODE TF_MODE_CLIENT
#define DEFAULT_HOST "localhost"
#define DEFAULT_PORT 4953
#define DEFAULT_FRAMING TF_FRAMING_HEADER
#define DEFAULT_LENGTH_FORMAT TF_LENGTH_FORMAT_U32BE
/* 0 leaves the connect timeout to the system. */
#define MIN_CONNECT_TIMEOUT 0
#define DEFAULT_SEND_TIMEOUT GST_SECOND
#define DEFAULT_RESEND_LAST FALSE
#define MAX_PORT 65535

enum
{
  PROP_0,
  PROP_MODE,
  PROP_HOST,
  PROP_PORT,
  PROP_CURRENT_PORT,
  PROP_FRAMING,
  PROP_LENGTH_FORMAT,
  PROP_CONNECT_TIMEOUT,
  PROP_RETRY_DELAY,
  PROP_MAX_RETRY_DELAY,
  PROP_MAX_RETRIES,
  PROP_SEND_TIMEOUT,
  PROP_RESEND_LAST,
  PROP_STATS,
  N_PROPS
};

G_STATIC_ASSERT (PROP_MAX_RETRIES - PROP_CONNECT_TIMEOUT + 1 ==
    GST_TCP_FRAME_RECONNECT_N_PROPS);

static GParamSpec *properties[N_PROPS];

struct _GstTcpFrameSink
{
  GstBaseSink parent;

  /* properties, under the object lock */
  TfMode mode;
  gchar *host;
  gint port;
  TfFraming framing;
  TfLengthFormat length_format;
  GstTcpFrameReconnect reconnect;
  guint64 send_timeout;
  gboolean resend_last;
  gint current_port;

  GstTcpFrameSender *sender;

  /* streaming thread only, reset at start */
  TfFraming active_framing;
  gchar *caps_string;           /* GRefString of the current caps */
  guint32 sequence;             /* buffers received, dropped ones too */
  gboolean warned_unsendable;

  gint gave_up_posted;          /* atomic, reset at start */
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS_ANY);

/* The reference of the capture times tcpframesrc attaches. */
static GstCaps *unix_time_caps;

#define gst_tcp_frame_sink_parent_class parent_class
G_DEFINE_TYPE (GstTcpFrameSink, gst_tcp_frame_sink, GST_TYPE_BASE_SINK);
GST_ELEMENT_REGISTER_DEFINE (tcpframesink, "tcpframesink", GST_RANK_NONE,
    GST_TYPE_TCP_FRAME_SINK);

static const gchar *
reason_nick (TfReason reason)
{
  GEnumValue *v = g_enum_get_value (g_type_class_peek (TF_TYPE_REASON), reason);
  return v ? v->value_nick : "unknown";
}

/* The sending thread and render() can both learn that the sender gave up;
 * the first one says so on the bus, so the error message always comes
 * before render's flow error, and only once. */
static void
post_gave_up (GstTcpFrameSink * self, const GError * error)
{
  if (!g_atomic_int_compare_and_exchange (&self->gave_up_posted, FALSE, TRUE))
    return;
  GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE, ("%s", error->message),
      ("max-retries exceeded"));
}

static void
on_sender_event (const GstTcpFrameSenderEvent * ev, gpointer user_data)
{
  GstTcpFrameSink *self = user_data;
  GstStructure *s = NULL;

  switch (ev->type) {
    case GST_TCP_FRAME_SENDER_CONNECTED:
      s = gst_structure_new ("tcpframesink-connected",
          "address", G_TYPE_STRING, ev->address,
          "port", G_TYPE_INT, (gint) ev->port, NULL);
      break;
    case GST_TCP_FRAME_SENDER_DISCONNECTED:
      s = gst_structure_new ("tcpframesink-disconnected",
          "address", G_TYPE_STRING, ev->address,
          "port", G_TYPE_INT, (gint) ev->port,
          "reason", G_TYPE_STRING, reason_nick (ev->reason),
          "frames", G_TYPE_UINT64, ev->frames, NULL);
      if (ev->error)
        gst_structure_set (s, "error", G_TYPE_STRING, ev->error->message, NULL);
      break;
    case GST_TCP_FRAME_SENDER_GAVE_UP:
      post_gave_up (self, ev->error);
      return;
  }
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

static void
gst_tcp_frame_sink_init (GstTcpFrameSink * self)
{
  self->mode = DEFAULT_MODE;
  self->host = g_strdup (DEFAULT_HOST);
  self->port = DEFAULT_PORT;
  self->framing = DEFAULT_FRAMING;
  self->length_format = DEFAULT_LENGTH_FORMAT;
  gst_tcp_frame_reconnect_init (&self->reconnect);
  self->send_timeout = DEFAULT_SEND_TIMEOUT;
  self->resend_last = DEFAULT_RESEND_LAST;

  self->sender = gst_tcp_frame_sender_new (GST_OBJECT (self), on_sender_event,
      self);
}

static void
gst_tcp_frame_sink_finalize (GObject * object)
{
  GstTcpFrameSink *self = GST_TCP_FRAME_SINK (object);

  gst_tcp_frame_sender_free (self->sender);
  g_free (self->host);
  g_clear_pointer (&self->caps_string, g_ref_string_release);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static GstStructure *
build_stats (GstTcpFrameSink * self)
{
  GstTcpFrameSenderStats st;
  GstStructure *s;

  gst_tcp_frame_sender_get_stats (self->sender, &st);
  s = gst_structure_new ("tcpframesink-stats",
      "frames", G_TYPE_UINT64, st.frames,
      "bytes", G_TYPE_UINT64, st.bytes,
      "dropped", G_TYPE_UINT64, st.dropped,
      "connections", G_TYPE_UINT64, st.connections,
      "reconnects", G_TYPE_UINT64, st.reconnects,
      "peer-address", G_TYPE_STRING, st.peer_address ? st.peer_address : "",
      "peer-port", G_TYPE_INT, (gint) st.peer_port, NULL);
  gst_tcp_frame_sender_stats_clear (&st);
  return s;
}

static void
gst_tcp_frame_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstTcpFrameSink *self = GST_TCP_FRAME_SINK (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODE:
      self->mode = g_value_get_enum (value);
      break;
    case PROP_HOST:
      g_free (self->host);
      self->host = g_value_dup_string (value);
      if (!self->host)
        self->host = g_strdup (DEFAULT_HOST);
      break;
    case PROP_PORT:
      self->port = g_value_get_int (value);
      break;
    case PROP_FRAMING:
      self->framing = g_value_get_enum (value);
      break;
    case PROP_LENGTH_FORMAT:
      self->length_format = g_value_get_enum (value);
      break;
    case PROP_CONNECT_TIMEOUT:
    case PROP_RETRY_DELAY:
    case PROP_MAX_RETRY_DELAY:
    case PROP_MAX_RETRIES:
      gst_tcp_frame_reconnect_set_property (&self->reconnect,
          prop_id - PROP_CONNECT_TIMEOUT, value);
      break;
    case PROP_SEND_TIMEOUT:
      self->send_timeout = g_value_get_uint64 (value);
      break;
    case PROP_RESEND_LAST:
      self->resend_last = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_tcp_frame_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstTcpFrameSink *self = GST_TCP_FRAME_SINK (object);

  if (prop_id == PROP_STATS) {
    g_value_take_boxed (value, build_stats (self));
    return;
  }

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODE:
      g_value_set_enum (value, self->mode);
      break;
    case PROP_HOST:
      g_value_set_string (value, self->host);
      break;
    case PROP_PORT:
      g_value_set_int (value, self->port);
      break;
    case PROP_CURRENT_PORT:
      g_value_set_int (value, self->current_port);
      break;
    case PROP_FRAMING:
      g_value_set_enum (value, self->framing);
      break;
    case PROP_LENGTH_FORMAT:
      g_value_set_enum (value, self->length_format);
      break;
    case PROP_CONNECT_TIMEOUT:
    case PROP_RETRY_DELAY:
    case PROP_MAX_RETRY_DELAY:
    case PROP_MAX_RETRIES:
      gst_tcp_frame_reconnect_get_property (&self->reconnect,
          prop_id - PROP_CONNECT_TIMEOUT, value);
      break;
    case PROP_SEND_TIMEOUT:
      g_value_set_uint64 (value, self->send_timeout);
      break;
    case PROP_RESEND_LAST:
      g_value_set_boolean (value, self->resend_last);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* Turns the properties into a sender config, or explains what is wrong
 * with them.  Runs once per start, so the sending thread never looks at
 * properties. */
static gboolean
make_config (GstTcpFrameSink * self, GstTcpFrameSenderConfig * cfg,
    GError ** error)
{
  GST_OBJECT_LOCK (self);
  cfg->mode = self->mode;
  cfg->host = g_strdup (self->host);
  cfg->port = self->port;
  cfg->framing = self->framing;
  cfg->length_format = self->length_format;
  cfg->connect_timeout_ns = self->reconnect.connect_timeout;
  cfg->retry_delay_ns = self->reconnect.retry_delay;
  cfg->max_retry_delay_ns = MAX (self->reconnect.max_retry_delay,
      self->reconnect.retry_delay);
  cfg->max_retries = self->reconnect.max_retries;
  cfg->send_timeout_ns = self->send_timeout;
  cfg->resend_last = self->resend_last;
  GST_OBJECT_UNLOCK (self);

  if (cfg->mode == TF_MODE_CLIENT && cfg->port == 0) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "mode=client needs the port of the receiver to connect to; port=0 "
        "only makes sense with mode=server");
    gst_tcp_frame_sender_config_clear (cfg);
    return FALSE;
  }
  return TRUE;
}

/* Connecting starts in change_state rather than in GstBaseSink::start,
 * like tcpframesrc's listening, so that a failure is reported once, by
 * us, with the reason. */
static gboolean
gst_tcp_frame_sink_open (GstTcpFrameSink * self)
{
  GstTcpFrameSenderConfig cfg = { 0, };
  GError *err = NULL;

  if (!make_config (self, &cfg, &err)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", err->message), (NULL));
    g_error_free (err);
    return FALSE;
  }

  self->active_framing = cfg.framing;
  self->sequence = 0;
  self->warned_unsendable = FALSE;
  g_atomic_int_set (&self->gave_up_posted, FALSE);
  g_clear_pointer (&self->caps_string, g_ref_string_release);

  if (!gst_tcp_frame_sender_start (self->sender, &cfg, &err)) {
    if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      GST_DEBUG_OBJECT (self, "cancelled while starting");
    } else if (cfg.mode == TF_MODE_SERVER) {
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
          ("Could not listen on %s port %d: %s", cfg.host, cfg.port,
              err->message), (NULL));
    } else {
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
          ("Could not start sending: %s", err->message), (NULL));
    }
    g_error_free (err);
    gst_tcp_frame_sender_config_clear (&cfg);
    return FALSE;
  }

  if (cfg.mode == TF_MODE_SERVER) {
    GST_OBJECT_LOCK (self);
    self->current_port = gst_tcp_frame_sender_get_port (self->sender);
    GST_OBJECT_UNLOCK (self);
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CURRENT_PORT]);
  }
  gst_tcp_frame_sender_config_clear (&cfg);
  return TRUE;
}

static void
gst_tcp_frame_sink_close (GstTcpFrameSink * self)
{
  gboolean had_port;

  gst_tcp_frame_sender_stop (self->sender);
  GST_OBJECT_LOCK (self);
  had_port = (self->current_port != 0);
  self->current_port = 0;
  GST_OBJECT_UNLOCK (self);
  if (had_port)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CURRENT_PORT]);
}

static GstStateChangeReturn
gst_tcp_frame_sink_change_state (GstElement * element,
    GstStateChange transition)
{
  GstTcpFrameSink *self = GST_TCP_FRAME_SINK (element);
  GstStateChangeReturn ret;

  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED
      && !gst_tcp_frame_sink_open (self))
    return GST_STATE_CHANGE_FAILURE;

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);

  if ((transition == GST_STATE_CHANGE_READY_TO_PAUSED
          && ret == GST_STATE_CHANGE_FAILURE)
      || transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    gst_tcp_frame_sink_close (self);
  return ret;
}

static gboolean
gst_tcp_frame_sink_set_caps (GstBaseSink * bsink, GstCaps * caps)
{
  GstTcpFrameSink *self = GST_TCP_FRAME_SINK (bsink);
  GstCapsFeatures *features = gst_caps_get_features (caps, 0);
  gchar *str;

  /* The receiver gets bytes, not GPU or DMA memory: what it must be told
   * is the format, so caps features other than system memory go. */
  if (features && !gst_caps_features_is_equal (features,
          GST_CAPS_FEATURES_MEMORY_SYSTEM_MEMORY)) {
    GstCaps *plain = gst_caps_copy (caps);
    gst_caps_set_features (plain, 0, NULL);
    str = gst_caps_to_string (plain);
    gst_caps_unref (plain);
  } else {
    str = gst_caps_to_string (caps);
  }

  if (self->active_framing == TF_FRAMING_HEADER && strlen (str) > G_MAXUINT16) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("Caps of %" G_GSIZE_FORMAT " characters do not fit the header "
            "framing's 16-bit caps length", strlen (str)), ("%s", str));
    g_free (str);
    return FALSE;
  }

  GST_INFO_OBJECT (self, "caps now %s", str);
  g_clear_pointer (&self->caps_string, g_ref_string_release);
  self->caps_string = g_ref_string_new (str);
  g_free (str);
  return TRUE;
}

/* The capture time that travels in the header: what the buffer says, when
 * an upstream tcpframesrc (or a camera source) attached it, else now. */
static guint64
capture_time (GstBuffer * buf)
{
  GstReferenceTimestampMeta *meta =
      gst_buffer_get_reference_timestamp_meta (buf, unix_time_caps);

  if (meta)
    return meta->timestamp;
  return (guint64) g_get_real_time () * 1000;
}

/* Never waits for the network: the frame is handed to the sending thread,
 * or dropped when it cannot go out, and counted either way. */
static GstFlowReturn
gst_tcp_frame_sink_render (GstBaseSink * bsink, GstBuffer * buf)
{
  GstTcpFrameSink *self = GST_TCP_FRAME_SINK (bsink);
  GstTcpFrameSenderFrame frame = { 0, };
  GError *err = NULL;

  if (gst_buffer_get_size (buf) == 0) {
    /* Nothing to see: not a frame, so not counted in the sequence. */
    GST_LOG_OBJECT (self, "skipping an empty buffer");
    return GST_FLOW_OK;
  }

  frame.buffer = gst_buffer_ref (buf);
  frame.sequence = self->sequence++;
  frame.timestamp = TF_TIMESTAMP_NONE;
  if (self->active_framing == TF_FRAMING_HEADER) {
    frame.timestamp = capture_time (buf);
    if (self->caps_string)
      frame.caps = g_ref_string_acquire (self->caps_string);
  }

  switch (gst_tcp_frame_sender_push (self->sender, &frame, &err)) {
    case GST_TCP_FRAME_SENDER_PUSH_OK:
      return GST_FLOW_OK;
    case GST_TCP_FRAME_SENDER_PUSH_UNSENDABLE:
      /* One warning on the bus says what is wrong; a warning per frame
       * would bury it. */
      if (!self->warned_unsendable) {
        GST_ELEMENT_WARNING (self, STREAM, FORMAT,
            ("Dropping frames the %s framing cannot carry: %s",
                self->active_framing == TF_FRAMING_LENGTH ? "length" :
                "header", err->message), (NULL));
        self->warned_unsendable = TRUE;
      } else {
        GST_WARNING_OBJECT (self, "dropped frame %u: %s", frame.sequence,
            err->message);
      }
      g_error_free (err);
      return GST_FLOW_OK;
    case GST_TCP_FRAME_SENDER_PUSH_GAVE_UP:
      post_gave_up (self, err);
      g_error_free (err);
      return GST_FLOW_ERROR;
  }
  g_return_val_if_reached (GST_FLOW_ERROR);
}

static gboolean
gst_tcp_frame_sink_event (GstBaseSink * bsink, GstEvent * event)
{
  GstTcpFrameSink *self = GST_TCP_FRAME_SINK (bsink);

  /* A clip that ends must not lose its last frames to the pipeline
   * shutting down right after EOS.  The wait ends when they are out, the
   * connection is lost (a stalled one after send-timeout), or on a flush
   * or state change. */
  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS) {
    GST_DEBUG_OBJECT (self, "EOS: letting the last frames go out");
    gst_tcp_frame_sender_drain (self->sender);
  }
  return GST_BASE_SINK_CLASS (parent_class)->event (bsink, event);
}

static gboolean
gst_tcp_frame_sink_unlock (GstBaseSink * bsink)
{
  GstTcpFrameSink *self = GST_TCP_FRAME_SINK (bsink);

  GST_DEBUG_OBJECT (self, "unlock");
  gst_tcp_frame_sender_set_flushing (self->sender, TRUE);
  return TRUE;
}

static gboolean
gst_tcp_frame_sink_unlock_stop (GstBaseSink * bsink)
{
  GstTcpFrameSink *self = GST_TCP_FRAME_SINK (bsink);

  GST_DEBUG_OBJECT (self, "unlock_stop");
  gst_tcp_frame_sender_set_flushing (self->sender, FALSE);
  return TRUE;
}

static void
gst_tcp_frame_sink_class_init (GstTcpFrameSinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *basesink_class = GST_BASE_SINK_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;
  const GstTcpFrameReconnectBlurbs reconnect_blurbs = {
    .connect_timeout = "client: how long (ns) one connection attempt to "
        "each address may take before it counts as failed (0 = the system's "
        "own limit)",
    .retry_delay = "client: bound (ns) of the random wait before the first "
        "reconnect attempt; it doubles with every failed attempt up to "
        "max-retry-delay, and starts again here once a connection has sent "
        "a frame",
    .max_retry_delay = "client: the largest bound (ns) of the wait between "
        "attempts, however long the receiver stays away (at least "
        "retry-delay)",
    .max_retries = "client: how often to try again after a failed attempt.  "
        "When max-retries + 1 attempts in a row have failed, an error naming "
        "host:port and the last failure is posted and the stream stops.  A "
        "connection dropped before it sent a frame counts as failed; a sent "
        "frame starts the count afresh (-1 = try forever)",
  };

  gobject_class->set_property = gst_tcp_frame_sink_set_property;
  gobject_class->get_property = gst_tcp_frame_sink_get_property;
  gobject_class->finalize = gst_tcp_frame_sink_finalize;

  properties[PROP_MODE] = g_param_spec_enum ("mode", "Mode",
      "client: connect to a tcpframesrc listening at host:port, and "
      "reconnect whenever the connection is lost; server: listen on "
      "host:port for a tcpframesrc mode=client, a newer connection "
      "replacing the current one", TF_TYPE_MODE, DEFAULT_MODE, rw);
  properties[PROP_HOST] = g_param_spec_string ("host", "Host",
      "client: the receiver's address or name (resolved again for every "
      "attempt; IPv6 as ::1 or [::1]); server: address or name to listen on "
      "(every address it resolves to), 0.0.0.0 or :: for all interfaces",
      DEFAULT_HOST, rw);
  properties[PROP_PORT] = g_param_spec_int ("port", "Port",
      "client: the receiver's TCP port; server: the port to listen on "
      "(0 = pick a free one, see current-port)", 0, MAX_PORT, DEFAULT_PORT, rw);
  properties[PROP_CURRENT_PORT] = g_param_spec_int ("current-port",
      "Current port", "server: the port actually listened on, 0 when "
      "stopped or in client mode (notifies when bound)", 0, MAX_PORT, 0, ro);
  properties[PROP_FRAMING] = g_param_spec_enum ("framing", "Framing",
      "How frames are delimited on the wire: header (24-byte header with "
      "sequence, capture time and the caps on each connection's first frame "
      "and on every change), raw (payload only), length (length prefix), "
      "jpeg (the images as they are)", TF_TYPE_FRAMING, DEFAULT_FRAMING, rw);
  properties[PROP_LENGTH_FORMAT] = g_param_spec_enum ("length-format",
      "Length format", "Width and byte order of the length prefix for "
      "framing=length; frames too large for it are dropped with a warning",
      TF_TYPE_LENGTH_FORMAT, DEFAULT_LENGTH_FORMAT, rw);
  gst_tcp_frame_reconnect_make_pspecs (&properties[PROP_CONNECT_TIMEOUT],
      MIN_CONNECT_TIMEOUT, &reconnect_blurbs);
  properties[PROP_SEND_TIMEOUT] = g_param_spec_uint64 ("send-timeout",
      "Send timeout", "A receiver that takes no bytes of a frame for this "
      "long (ns) is stale: the connection is dropped with an RST and made "
      "again.  Progress restarts the clock (0 = never)", 0, G_MAXUINT64,
      DEFAULT_SEND_TIMEOUT, rw);
  properties[PROP_RESEND_LAST] = g_param_spec_boolean ("resend-last",
      "Resend last", "While disconnected, keep the newest frame and send it "
      "first once connected again, so the receiver starts from a recent "
      "picture rather than waiting for the next one", DEFAULT_RESEND_LAST, rw);
  properties[PROP_STATS] = g_param_spec_boxed ("stats", "Statistics",
      "Counters since start: frames (sent completely), bytes (their "
      "payload), dropped (never sent completely: stale, disconnected or "
      "unsendable), connections, reconnects; and the current peer-address "
      "and peer-port", GST_TYPE_STRUCTURE, ro);
  g_object_class_install_properties (gobject_class, N_PROPS, properties);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class,
      "TCP frame sink", "Sink/Network",
      "Sends whole frames over TCP like a live camera: reconnects with "
      "backoff, drops stale receivers, never blocks the pipeline",
      "tcpframe developers");

  element_class->change_state = gst_tcp_frame_sink_change_state;
  basesink_class->set_caps = gst_tcp_frame_sink_set_caps;
  basesink_class->render = gst_tcp_frame_sink_render;
  basesink_class->event = gst_tcp_frame_sink_event;
  basesink_class->unlock = gst_tcp_frame_sink_unlock;
  basesink_class->unlock_stop = gst_tcp_frame_sink_unlock_stop;

  unix_time_caps = gst_caps_new_empty_simple ("timestamp/x-unix");
  GST_MINI_OBJECT_FLAG_SET (unix_time_caps, GST_MINI_OBJECT_FLAG_MAY_BE_LEAKED);

  gst_type_mark_as_plugin_api (TF_TYPE_MODE, 0);
  gst_type_mark_as_plugin_api (TF_TYPE_FRAMING, 0);
  gst_type_mark_as_plugin_api (TF_TYPE_LENGTH_FORMAT, 0);
  /* reason_nick() peeks the class; keep it alive for the plugin's life. */
  g_type_class_ref (TF_TYPE_REASON);
}
