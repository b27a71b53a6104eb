/* tf-bench: tfbnullsrc, the GStreamer floor.
 *
 * A live GstPushSrc that does per frame what tcpframesrc does around its
 * socket reads, and nothing else: take a buffer from its own pool, map it
 * for writing, unmap it, set a duration and push it (timestamped at
 * arrival, do-timestamp).  Its CPU per frame is what GstBaseSrc, the pool,
 * the pad and fakesink cost; added to the bare loop's, it is the least
 * any source that pushes one buffer per frame can spend.
 *
 * With list-size > 1 it pushes that many frames per GstBufferList instead,
 * which shows how much of the floor a source could save by handing over
 * the frames already queued in its socket together.
 */
#include "bench.h"

#include <gst/gst.h>
#include <gst/base/gstpushsrc.h>

typedef struct
{
  GstPushSrc parent;
  GstCaps *caps;                /* fixed caps of the frames */
  guint list_size;
} TfbNullSrc;

typedef struct
{
  GstPushSrcClass parent_class;
} TfbNullSrcClass;

enum
{
  PROP_0,
  PROP_CAPS,
  PROP_LIST_SIZE,
};

GType tfb_null_src_get_type (void);
G_DEFINE_TYPE (TfbNullSrc, tfb_null_src, GST_TYPE_PUSH_SRC);

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

static void
tfb_null_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  TfbNullSrc *self = (TfbNullSrc *) object;

  if (prop_id == PROP_CAPS) {
    gst_caps_replace (&self->caps, (GstCaps *) gst_value_get_caps (value));
    return;
  }
  if (prop_id == PROP_LIST_SIZE) {
    self->list_size = g_value_get_uint (value);
    return;
  }
  G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
tfb_null_src_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  TfbNullSrc *self = (TfbNullSrc *) object;

  if (prop_id == PROP_CAPS) {
    gst_value_set_caps (value, self->caps);
    return;
  }
  if (prop_id == PROP_LIST_SIZE) {
    g_value_set_uint (value, self->list_size);
    return;
  }
  G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
tfb_null_src_finalize (GObject * object)
{
  TfbNullSrc *self = (TfbNullSrc *) object;

  gst_clear_caps (&self->caps);
  G_OBJECT_CLASS (tfb_null_src_parent_class)->finalize (object);
}

static GstCaps *
tfb_null_src_get_caps (GstBaseSrc * bsrc, GstCaps * filter)
{
  TfbNullSrc *self = (TfbNullSrc *) bsrc;
  GstCaps *caps = self->caps ? gst_caps_ref (self->caps) : gst_caps_new_any ();

  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full (filter, caps,
        GST_CAPS_INTERSECT_FIRST);

    gst_caps_unref (caps);
    caps = tmp;
  }
  return caps;
}

/* The same pool setup as tcpframesrc's: one pool of frame-sized buffers,
 * unbounded. */
static gboolean
tfb_null_src_decide_allocation (GstBaseSrc * bsrc, GstQuery * query)
{
  gsize size = gst_base_src_get_blocksize (bsrc);
  GstBufferPool *pool = NULL;
  guint psize = 0, min = 0, max = 0;

  if (gst_query_get_n_allocation_pools (query) > 0) {
    gst_query_parse_nth_allocation_pool (query, 0, &pool, &psize, &min, &max);
    gst_query_set_nth_allocation_pool (query, 0, pool, size, min, 0);
  } else {
    pool = gst_buffer_pool_new ();
    gst_query_add_allocation_pool (query, pool, size, 0, 0);
  }
  if (pool)
    gst_object_unref (pool);
  return GST_BASE_SRC_CLASS (tfb_null_src_parent_class)->decide_allocation
      (bsrc, query);
}

static GstBuffer *
next_frame (GstBufferPool * pool)
{
  GstBuffer *buf = NULL;
  GstMapInfo map;

  if (gst_buffer_pool_acquire_buffer (pool, &buf, NULL) != GST_FLOW_OK)
    return NULL;
  /* Where a receiver would read the frame in. */
  if (gst_buffer_map (buf, &map, GST_MAP_WRITE))
    gst_buffer_unmap (buf, &map);
  GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
  return buf;
}

static GstFlowReturn
tfb_null_src_create (GstPushSrc * psrc, GstBuffer ** outbuf)
{
  TfbNullSrc *self = (TfbNullSrc *) psrc;
  GstBaseSrc *bsrc = GST_BASE_SRC (psrc);
  GstBufferPool *pool = gst_base_src_get_buffer_pool (bsrc);
  GstFlowReturn ret = GST_FLOW_OK;

  if (!pool)
    return GST_FLOW_NOT_NEGOTIATED;
  if (self->list_size <= 1) {
    *outbuf = next_frame (pool);
    if (!*outbuf)
      ret = GST_FLOW_FLUSHING;
  } else {
    GstBufferList *list = gst_buffer_list_new_sized (self->list_size);
    guint i;

    for (i = 0; i < self->list_size && ret == GST_FLOW_OK; i++) {
      GstBuffer *buf = next_frame (pool);

      /* Braces: gst_buffer_list_add() is a macro with its own ';'. */
      if (buf) {
        gst_buffer_list_add (list, buf);
      } else {
        ret = GST_FLOW_FLUSHING;
      }
    }
    /* Only a whole list goes out: basesrc does not expect a submitted
     * list along with an error. */
    if (ret == GST_FLOW_OK)
      gst_base_src_submit_buffer_list (bsrc, list);
    else
      gst_buffer_list_unref (list);
    *outbuf = NULL;
  }
  gst_object_unref (pool);
  return ret;
}

static void
tfb_null_src_class_init (TfbNullSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS (klass);

  gobject_class->set_property = tfb_null_src_set_property;
  gobject_class->get_property = tfb_null_src_get_property;
  gobject_class->finalize = tfb_null_src_finalize;
  g_object_class_install_property (gobject_class, PROP_CAPS,
      g_param_spec_boxed ("caps", "Caps", "Caps of the frames",
          GST_TYPE_CAPS, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_LIST_SIZE,
      g_param_spec_uint ("list-size", "List size", "Frames per push "
          "(1: single buffers, more: a GstBufferList)", 1, 1024, 1,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "tf-bench null "
      "source", "Source", "Pushes pooled frame buffers without any I/O",
      "tcpframe developers");
  basesrc_class->get_caps = tfb_null_src_get_caps;
  basesrc_class->decide_allocation = tfb_null_src_decide_allocation;
  pushsrc_class->create = tfb_null_src_create;
}

static void
tfb_null_src_init (TfbNullSrc * self)
{
  self->list_size = 1;
  /* As tcpframesrc: live, in time, stamped at arrival. */
  gst_base_src_set_live (GST_BASE_SRC (self), TRUE);
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
  gst_base_src_set_do_timestamp (GST_BASE_SRC (self), TRUE);
}

void
tfb_nullsrc_register (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once)) {
    gst_element_register (NULL, "tfbnullsrc", GST_RANK_NONE,
        tfb_null_src_get_type ());
    g_once_init_leave (&once, 1);
  }
}
