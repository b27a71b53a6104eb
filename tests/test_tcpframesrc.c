/* tcpframesrc element tests: framings, caps, timestamps, stats, messages.
 *
 * Every test listens on 127.0.0.1 port 0 and reads current-port back. */
#include <gst/check/gstcheck.h>
#include <gst/video/video.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "tf-testpeer.h"
#include "tf-framer.h"

#define WAIT_MS tf_test_scale_ms (3000)
#define GRAY8_4x2 "video/x-raw,format=GRAY8,width=4,height=2,framerate=25/1"

GST_START_TEST (test_src_header_frames_byte_exact)
{
  GstHarness *h = tf_test_src_new (NULL);
  TfTestPeer *cam = tf_test_peer_connect (tf_test_src_port (h));
  GstCaps *caps;
  GstMessage *msg;
  guint32 seq;

  for (seq = 0; seq < 5; seq++) {
    guint8 *payload = tf_test_payload (seq, 8);
    tf_test_peer_send_header_frame (cam, seq == 0 ? GRAY8_4x2 : NULL,
        payload, 8, seq);
    g_free (payload);
  }

  for (seq = 0; seq < 5; seq++) {
    GstBuffer *buf = tf_test_pull (h, WAIT_MS);
    guint8 *payload = tf_test_payload (seq, 8);

    tf_test_assert_buffer_equals (buf, payload, 8);
    /* Only the peer's first buffer is a discontinuity. */
    fail_unless_equals_int (GST_BUFFER_FLAG_IS_SET (buf,
            GST_BUFFER_FLAG_DISCONT), seq == 0);
    fail_unless (GST_BUFFER_PTS_IS_VALID (buf), "frame %u has no timestamp",
        seq);
    fail_unless_equals_uint64 (GST_BUFFER_DURATION (buf), GST_SECOND / 25);
    g_free (payload);
    gst_buffer_unref (buf);
  }

  caps = gst_pad_get_current_caps (h->sinkpad);
  fail_unless (caps != NULL);
  {
    GstCaps *expected = gst_caps_from_string (GRAY8_4x2);
    fail_unless (gst_caps_is_equal (caps, expected));
    gst_caps_unref (expected);
  }
  gst_caps_unref (caps);

  msg = tf_test_wait_message (h, "tcpframesrc-connected", WAIT_MS);
  fail_unless (msg != NULL);
  fail_unless_equals_string (tf_test_message_string (msg, "address"),
      "127.0.0.1");
  fail_unless_equals_int (tf_test_message_int (msg, "port"), cam->local_port);
  gst_message_unref (msg);

  fail_unless_equals_uint64 (tf_test_stat (h, "frames"), 5);
  fail_unless_equals_uint64 (tf_test_stat (h, "bytes"), 40);
  fail_unless_equals_uint64 (tf_test_stat (h, "connections"), 1);
  fail_unless_equals_uint64 (tf_test_stat (h, "sequence-gaps"), 0);
  {
    GstStructure *s = NULL;
    gint port = 0;
    g_object_get (h->element, "stats", &s, NULL);
    fail_unless_equals_string (gst_structure_get_string (s, "peer-address"),
        "127.0.0.1");
    fail_unless (gst_structure_get_int (s, "peer-port", &port));
    fail_unless_equals_int (port, cam->local_port);
    gst_structure_free (s);
  }

  tf_test_peer_close (cam);
  msg = tf_test_wait_message (h, "tcpframesrc-disconnected", WAIT_MS);
  fail_unless (msg != NULL);
  {
    guint64 frames = 0;
    fail_unless_equals_string (tf_test_message_string (msg, "reason"),
        "closed");
    fail_unless (gst_structure_get_uint64 (gst_message_get_structure (msg),
            "frames", &frames));
    fail_unless_equals_uint64 (frames, 5);
  }
  gst_message_unref (msg);

  /* No EOS, no error: the source just waits for the next camera. */
  fail_unless (gst_harness_try_pull (h) == NULL);
  fail_unless (gst_bus_pop_filtered (tf_test_src_bus (h),
          GST_MESSAGE_ERROR | GST_MESSAGE_EOS) == NULL);
  {
    GstEvent *ev;
    while ((ev = gst_harness_try_pull_event (h))) {
      fail_if (GST_EVENT_TYPE (ev) == GST_EVENT_EOS, "EOS after a peer left");
      gst_event_unref (ev);
    }
  }

  tf_test_src_free (h);
}

GST_END_TEST;

GST_START_TEST (test_src_header_sequence_gaps_and_capture_time)
{
  GstHarness *h = tf_test_src_new (NULL);
  TfTestPeer *cam = tf_test_peer_connect (tf_test_src_port (h));
  guint8 payload[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
  guint8 frame[TF_HEADER_SIZE + sizeof (GRAY8_4x2) - 1 + 8];
  guint32 seqs[] = { 10, 11, 13, 14, 20 };
  GstCaps *unix_caps = gst_caps_new_empty_simple ("timestamp/x-unix");
  guint i;

  for (i = 0; i < G_N_ELEMENTS (seqs); i++) {
    gsize caps_len = i == 0 ? strlen (GRAY8_4x2) : 0;
    tf_header_write (frame, caps_len, 8, seqs[i], 1000 + i);
    memcpy (frame + TF_HEADER_SIZE, GRAY8_4x2, caps_len);
    memcpy (frame + TF_HEADER_SIZE + caps_len, payload, 8);
    tf_test_peer_send (cam, frame, TF_HEADER_SIZE + caps_len + 8);
  }
  for (i = 0; i < G_N_ELEMENTS (seqs); i++) {
    GstBuffer *buf = tf_test_pull (h, WAIT_MS);
    GstReferenceTimestampMeta *meta;

    tf_test_assert_buffer_equals (buf, payload, 8);
    /* The camera's capture time travels with the frame. */
    meta = gst_buffer_get_reference_timestamp_meta (buf, unix_caps);
    fail_unless (meta != NULL, "frame %u lacks its capture time", i);
    fail_unless_equals_uint64 (meta->timestamp, 1000 + i);
    gst_buffer_unref (buf);
  }
  /* 11->13 and 14->20 are two gaps. */
  fail_unless_equals_uint64 (tf_test_stat (h, "sequence-gaps"), 2);

  gst_caps_unref (unix_caps);
  tf_test_peer_close (cam);
  tf_test_src_free (h);
}

GST_END_TEST;

GST_START_TEST (test_src_header_caps_renegotiation)
{
  GstHarness *h = tf_test_src_new (NULL);
  TfTestPeer *cam = tf_test_peer_connect (tf_test_src_port (h));
  const gchar *big = "video/x-raw,format=GRAY8,width=8,height=2,framerate=50/1";
  guint8 *small_frame = tf_test_payload (1, 8);
  guint8 *big_frame = tf_test_payload (2, 16);
  GstBuffer *buf;
  GstCaps *caps, *expected;

  tf_test_peer_send_header_frame (cam, GRAY8_4x2, small_frame, 8, 0);
  buf = tf_test_pull (h, WAIT_MS);
  tf_test_assert_buffer_equals (buf, small_frame, 8);
  gst_buffer_unref (buf);

  tf_test_peer_send_header_frame (cam, big, big_frame, 16, 1);
  buf = tf_test_pull (h, WAIT_MS);
  tf_test_assert_buffer_equals (buf, big_frame, 16);
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (buf), GST_SECOND / 50);
  gst_buffer_unref (buf);

  /* The new caps reached downstream before the frame that needs them. */
  caps = gst_pad_get_current_caps (h->sinkpad);
  expected = gst_caps_from_string (big);
  fail_unless (gst_caps_is_equal (caps, expected), "caps were not renegotiated");
  gst_caps_unref (caps);
  gst_caps_unref (expected);

  /* A frame without caps keeps the latest ones. */
  tf_test_peer_send_header_frame (cam, NULL, big_frame, 16, 2);
  buf = tf_test_pull (h, WAIT_MS);
  tf_test_assert_buffer_equals (buf, big_frame, 16);
  gst_buffer_unref (buf);

  g_free (small_frame);
  g_free (big_frame);
  tf_test_peer_close (cam);
  tf_test_src_free (h);
}

GST_END_TEST;

/* Once a camera has proven itself, small frames are read many per
 * syscall, into pooled buffers laid out before their headers are parsed.
 * Bursts that change size and caps midway, and drop the capture time,
 * must still come out whole, in order, with the right caps, and without a
 * stale capture time left on a recycled buffer. */
#define GRAY8_8x2 "video/x-raw,format=GRAY8,width=8,height=2,framerate=50/1"
#define GRAY8_4x2_SLOW "video/x-raw,format=GRAY8,width=4,height=2,framerate=10/1"

typedef struct
{
  guint count;
  const gchar *caps;            /* sent with the first frame; NULL: none */
  gsize size;
  GstClockTime duration;        /* what the caps in force say */
  gboolean timestamped;
} BurstPart;

static void
send_and_check_burst (GstHarness * h, TfTestPeer * cam, guint32 * seq,
    const BurstPart * parts, guint n_parts)
{
  GstCaps *unix_caps = gst_caps_new_empty_simple ("timestamp/x-unix");
  GByteArray *burst = g_byte_array_new ();
  guint32 seq0 = *seq;
  guint p, i;

  for (p = 0; p < n_parts; p++) {
    for (i = 0; i < parts[p].count; i++) {
      const gchar *caps = i == 0 ? parts[p].caps : NULL;
      gsize size = parts[p].size, caps_len = caps ? strlen (caps) : 0;
      guint8 *payload = tf_test_payload (*seq, size);
      guint8 header[TF_HEADER_SIZE];

      tf_header_write (header, caps_len, size, *seq,
          parts[p].timestamped ? 5000 + *seq : TF_TIMESTAMP_NONE);
      g_byte_array_append (burst, header, TF_HEADER_SIZE);
      g_byte_array_append (burst, (const guint8 *) caps, caps_len);
      g_byte_array_append (burst, payload, size);
      g_free (payload);
      (*seq)++;
    }
  }
  tf_test_peer_send (cam, burst->data, burst->len);

  *seq = seq0;
  for (p = 0; p < n_parts; p++) {
    for (i = 0; i < parts[p].count; i++) {
      gsize size = parts[p].size;
      guint8 *payload = tf_test_payload (*seq, size);
      GstReferenceTimestampMeta *meta;
      GstBuffer *buf = tf_test_pull (h, WAIT_MS);

      fail_unless (buf != NULL, "frame %u of the burst did not arrive", *seq);
      tf_test_assert_buffer_equals (buf, payload, size);
      /* the duration comes from the caps the frame went out with */
      fail_unless_equals_uint64 (GST_BUFFER_DURATION (buf),
          parts[p].duration);
      meta = gst_buffer_get_reference_timestamp_meta (buf, unix_caps);
      if (parts[p].timestamped) {
        fail_unless (meta != NULL, "frame %u lacks its capture time", *seq);
        fail_unless_equals_uint64 (meta->timestamp, 5000 + *seq);
      } else {
        fail_unless (meta == NULL, "frame %u has a capture time (%"
            G_GUINT64_FORMAT ") it was not sent with", *seq, meta->timestamp);
      }
      /* back to the pool, for the frames after it */
      gst_buffer_unref (buf);
      g_free (payload);
      (*seq)++;
    }
  }
  g_byte_array_unref (burst);
  gst_caps_unref (unix_caps);
}

GST_START_TEST (test_src_small_frame_bursts)
{
  GstHarness *h = tf_test_src_new (NULL);
  TfTestPeer *cam = tf_test_peer_connect (tf_test_src_port (h));
  const GstClockTime d25 = GST_SECOND / 25;
  const BurstPart opener[] = { {1, GRAY8_4x2, 8, d25, TRUE} };
  const BurstPart stamped[] = { {40, NULL, 8, d25, TRUE} };
  const BurstPart mixed[] = {
    /* the same pooled buffers again, without a capture time */
    {40, NULL, 8, d25, FALSE},
    /* new caps, same size: the caps string lands where a payload was
     * expected */
    {10, GRAY8_4x2_SLOW, 8, GST_SECOND / 10, FALSE},
    /* new size and caps */
    {10, GRAY8_8x2, 16, GST_SECOND / 50, FALSE},
    /* and back */
    {10, GRAY8_4x2, 8, d25, TRUE},
  };
  guint32 seq = 0;

  send_and_check_burst (h, cam, &seq, opener, G_N_ELEMENTS (opener));
  send_and_check_burst (h, cam, &seq, stamped, G_N_ELEMENTS (stamped));
  send_and_check_burst (h, cam, &seq, mixed, G_N_ELEMENTS (mixed));
  tf_test_assert_no_buffer (h, 100);
  fail_unless_equals_uint64 (tf_test_stat (h, "frames"), seq);
  fail_unless_equals_uint64 (tf_test_stat (h, "sequence-gaps"), 0);

  tf_test_peer_close (cam);
  tf_test_src_free (h);
}

GST_END_TEST;

GST_START_TEST (test_src_header_caps_from_property)
{
  /* A camera that never sends caps works when the caps property has them. */
  GstHarness *h = tf_test_src_new ("caps=" GRAY8_4x2);
  TfTestPeer *cam = tf_test_peer_connect (tf_test_src_port (h));
  guint8 *payload = tf_test_payload (3, 8);
  GstBuffer *buf;

  tf_test_peer_send_header_frame (cam, NULL, payload, 8, 0);
  buf = tf_test_pull (h, WAIT_MS);
  tf_test_assert_buffer_equals (buf, payload, 8);
  gst_buffer_unref (buf);
  g_free (payload);
  tf_test_peer_close (cam);
  tf_test_src_free (h);
}

GST_END_TEST;

static void
check_raw_frames (GstHarness * h, gsize frame_size, guint n_frames,
    gsize chunk)
{
  TfTestPeer *cam = tf_test_peer_connect (tf_test_src_port (h));
  gsize total = frame_size * n_frames, off;
  guint8 *stream = g_malloc (total);
  guint i;

  for (i = 0; i < n_frames; i++) {
    guint8 *p = tf_test_payload (i, frame_size);
    memcpy (stream + i * frame_size, p, frame_size);
    g_free (p);
  }
  /* Chunks that do not line up with frames: the element reassembles. */
  for (off = 0; off < total; off += chunk)
    tf_test_peer_send (cam, stream + off, MIN (chunk, total - off));

  for (i = 0; i < n_frames; i++) {
    GstBuffer *buf = tf_test_pull (h, WAIT_MS);
    tf_test_assert_buffer_equals (buf, stream + i * frame_size, frame_size);
    gst_buffer_unref (buf);
  }
  fail_unless (gst_harness_try_pull (h) == NULL);
  g_free (stream);
  tf_test_peer_close (cam);
}

GST_START_TEST (test_src_raw_frame_size)
{
  GstHarness *h = tf_test_src_new ("framing=raw frame-size=1000");
  check_raw_frames (h, 1000, 6, 777);
  tf_test_src_free (h);
}

GST_END_TEST;

GST_START_TEST (test_src_raw_size_from_caps)
{
  /* 16x4 RGB: GstVideoInfo rounds each 48-byte row to itself, 192 bytes. */
  GstHarness *h = tf_test_src_new ("framing=raw "
      "caps=video/x-raw,format=RGB,width=16,height=4,framerate=10/1");
  GstCaps *caps;
  check_raw_frames (h, 16 * 4 * 3, 4, 100);
  caps = gst_pad_get_current_caps (h->sinkpad);
  fail_unless (caps != NULL);
  fail_unless_equals_string (gst_structure_get_name (gst_caps_get_structure
          (caps, 0)), "video/x-raw");
  gst_caps_unref (caps);
  tf_test_src_free (h);
}

GST_END_TEST;

GST_START_TEST (test_src_raw_large_frames_use_pool)
{
  /* 1080p GRAY8: frames stream through recycled buffers. */
  GstHarness *h = tf_test_src_new ("framing=raw "
      "caps=video/x-raw,format=GRAY8,width=1920,height=1080,framerate=30/1");
  check_raw_frames (h, 1920 * 1080, 3, 65536);
  tf_test_src_free (h);
}

GST_END_TEST;

GST_START_TEST (test_src_length_formats)
{
  static const struct {
    const gchar *name;
    TfLengthFormat fmt;
  } formats[] = {
    {"u16be", TF_LENGTH_FORMAT_U16BE}, {"u16le", TF_LENGTH_FORMAT_U16LE},
    {"u32be", TF_LENGTH_FORMAT_U32BE}, {"u32le", TF_LENGTH_FORMAT_U32LE},
    {"u64be", TF_LENGTH_FORMAT_U64BE}, {"u64le", TF_LENGTH_FORMAT_U64LE},
  };
  guint f;

  for (f = 0; f < G_N_ELEMENTS (formats); f++) {
    gchar *props = g_strdup_printf ("framing=length length-format=%s",
        formats[f].name);
    GstHarness *h = tf_test_src_new (props);
    TfTestPeer *cam = tf_test_peer_connect (tf_test_src_port (h));
    guint width = tf_length_format_width (formats[f].fmt);
    gsize sizes[] = { 1, 300, 70000 % 65536 + 5 };
    guint i;

    for (i = 0; i < G_N_ELEMENTS (sizes); i++) {
      guint8 prefix[8];
      guint8 *payload = tf_test_payload (i, sizes[i]);
      tf_length_write (formats[f].fmt, sizes[i], prefix);
      tf_test_peer_send (cam, prefix, width);
      tf_test_peer_send (cam, payload, sizes[i]);
      g_free (payload);
    }
    for (i = 0; i < G_N_ELEMENTS (sizes); i++) {
      GstBuffer *buf = tf_test_pull (h, WAIT_MS);
      guint8 *payload = tf_test_payload (i, sizes[i]);
      tf_test_assert_buffer_equals (buf, payload, sizes[i]);
      g_free (payload);
      gst_buffer_unref (buf);
    }
    tf_test_peer_close (cam);
    tf_test_src_free (h);
    g_free (props);
  }
}

GST_END_TEST;

GST_START_TEST (test_src_jpeg_images_and_garbage)
{
  GstHarness *h = tf_test_src_new ("framing=jpeg");
  TfTestPeer *cam = tf_test_peer_connect (tf_test_src_port (h));
  static const guint8 garbage[] = { 0x00, 0x11, 0xff, 0x22, 0xd9 };
  gsize len1, len2;
  guint8 *img1 = tf_test_jpeg (1, &len1), *img2 = tf_test_jpeg (2, &len2);
  GstBuffer *buf;
  GstCaps *caps;

  tf_test_peer_send (cam, garbage, sizeof (garbage));
  tf_test_peer_send (cam, img1, len1);
  tf_test_peer_send (cam, garbage, 3);
  tf_test_peer_send (cam, img2, len2);

  buf = tf_test_pull (h, WAIT_MS);
  tf_test_assert_buffer_equals (buf, img1, len1);
  gst_buffer_unref (buf);
  buf = tf_test_pull (h, WAIT_MS);
  tf_test_assert_buffer_equals (buf, img2, len2);
  gst_buffer_unref (buf);

  caps = gst_pad_get_current_caps (h->sinkpad);
  fail_unless (gst_structure_has_name (gst_caps_get_structure (caps, 0),
          "image/jpeg"));
  gst_caps_unref (caps);
  fail_unless_equals_uint64 (tf_test_stat (h, "skipped-bytes"),
      sizeof (garbage) + 3);

  g_free (img1);
  g_free (img2);
  tf_test_peer_close (cam);
  tf_test_src_free (h);
}

GST_END_TEST;

static GstPadProbeReturn
slow_consumer (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  /* Downstream takes longer than the element's poll interval per frame. */
  g_usleep (10000);
  return GST_PAD_PROBE_OK;
}

/* Two images read in one go: the second is already whole inside the
 * framer, and must come out even when create() is called long after. */
GST_START_TEST (test_src_jpeg_buffered_image_with_slow_consumer)
{
  GstHarness *h = tf_test_src_new ("framing=jpeg");
  TfTestPeer *cam = tf_test_peer_connect (tf_test_src_port (h));
  gsize len1, len2;
  guint8 *img1 = tf_test_jpeg (1, &len1), *img2 = tf_test_jpeg (2, &len2);
  guint8 *both = g_malloc (len1 + len2);
  GstBuffer *buf;

  gst_pad_add_probe (h->sinkpad, GST_PAD_PROBE_TYPE_BUFFER, slow_consumer,
      NULL, NULL);
  memcpy (both, img1, len1);
  memcpy (both + len1, img2, len2);
  tf_test_peer_send (cam, both, len1 + len2);

  buf = tf_test_pull (h, WAIT_MS);
  tf_test_assert_buffer_equals (buf, img1, len1);
  gst_buffer_unref (buf);
  buf = tf_test_pull (h, WAIT_MS);
  tf_test_assert_buffer_equals (buf, img2, len2);
  gst_buffer_unref (buf);

  g_free (both);
  g_free (img1);
  g_free (img2);
  tf_test_peer_close (cam);
  tf_test_src_free (h);
}

GST_END_TEST;

GST_START_TEST (test_src_live_no_preroll)
{
  GstElement *src = gst_element_factory_make ("tcpframesrc", NULL);
  gint port = -1;
  TfStatus status;

  fail_unless (src != NULL);
  g_object_set (src, "host", "127.0.0.1", "port", 0, NULL);
  g_object_get (src, "status", &status, NULL);
  fail_unless_equals_int (status, 0);   /* stopped */
  /* A live source: reaching PAUSED does not wait for a camera. */
  fail_unless_equals_int (gst_element_set_state (src, GST_STATE_PAUSED),
      GST_STATE_CHANGE_NO_PREROLL);
  g_object_get (src, "current-port", &port, "status", &status, NULL);
  fail_unless (port > 0);
  fail_unless_equals_int (status, 1);   /* waiting */
  fail_unless_equals_int (gst_element_set_state (src, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  g_object_get (src, "current-port", &port, NULL);
  fail_unless_equals_int (port, 0);
  gst_object_unref (src);
}

GST_END_TEST;

static void
on_notify (GObject * obj, GParamSpec * pspec, gpointer user_data)
{
  GPtrArray *seen = user_data;
  gint v = 0;

  g_object_get (obj, pspec->name, &v, NULL);
  g_ptr_array_add (seen, g_strdup_printf ("%s=%d", pspec->name, v));
}

GST_START_TEST (test_src_status_and_port_notify)
{
  GstHarness *h = gst_harness_new_with_padnames ("tcpframesrc", NULL, "src");
  GPtrArray *seen = g_ptr_array_new_with_free_func (g_free);
  TfTestPeer *cam;
  guint8 *payload = tf_test_payload (0, 8);
  GstBuffer *buf;
  gint port;
  gint64 deadline;
  guint i;
  gboolean streaming_seen = FALSE, waiting_again = FALSE;

  g_object_set (h->element, "host", "127.0.0.1", "port", 0, NULL);
  g_signal_connect (h->element, "notify::status", G_CALLBACK (on_notify), seen);
  g_signal_connect (h->element, "notify::current-port", G_CALLBACK (on_notify),
      seen);
  gst_harness_play (h);
  g_object_get (h->element, "current-port", &port, NULL);

  cam = tf_test_peer_connect (port);
  tf_test_peer_send_header_frame (cam, GRAY8_4x2, payload, 8, 0);
  buf = tf_test_pull (h, WAIT_MS);
  fail_unless (buf != NULL);
  gst_buffer_unref (buf);
  tf_test_peer_close (cam);

  /* status returns to waiting once the peer is gone. */
  deadline = g_get_monotonic_time () + WAIT_MS * 1000;
  while (g_get_monotonic_time () < deadline) {
    TfStatus status;
    g_object_get (h->element, "status", &status, NULL);
    if (status == 1)
      break;
    g_usleep (1000);
  }

  for (i = 0; i < seen->len; i++) {
    const gchar *s = g_ptr_array_index (seen, i);
    if (g_str_equal (s, "status=2"))
      streaming_seen = TRUE;
    if (streaming_seen && g_str_equal (s, "status=1"))
      waiting_again = TRUE;
  }
  fail_unless (g_str_has_prefix (g_ptr_array_index (seen, 0), "current-port=")
      || g_str_has_prefix (g_ptr_array_index (seen, 1), "current-port="));
  fail_unless (streaming_seen, "status never notified streaming");
  fail_unless (waiting_again, "status never went back to waiting");

  g_free (payload);
  gst_harness_teardown (h);
  g_ptr_array_unref (seen);
}

GST_END_TEST;

GST_START_TEST (test_src_bad_config_fails_clearly)
{
  static const gchar *bad[][2] = {
    {"framing", "raw"},         /* no frame-size, no caps */
  };
  GstElement *src = gst_element_factory_make ("tcpframesrc", NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;

  gst_element_set_bus (src, bus);
  g_object_set (src, "host", "127.0.0.1", "port", 0, NULL);
  gst_util_set_object_arg (G_OBJECT (src), bad[0][0], bad[0][1]);
  fail_unless_equals_int (gst_element_set_state (src, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error message for framing=raw without size");
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (strstr (err->message, "frame-size") != NULL, "unclear: %s",
      err->message);
  g_error_free (err);
  gst_message_unref (msg);
  /* ...and only that one: no vague second error after it. */
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR) == NULL);
  gst_element_set_state (src, GST_STATE_NULL);

  /* frame-size that contradicts the caps */
  g_object_set (src, "frame-size", 10, NULL);
  gst_util_set_object_arg (G_OBJECT (src), "caps", GRAY8_4x2);
  fail_unless_equals_int (gst_element_set_state (src, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (strstr (err->message, "does not match") != NULL, "unclear: %s",
      err->message);
  g_error_free (err);
  gst_message_unref (msg);
  gst_element_set_state (src, GST_STATE_NULL);

  /* queued messages hold the element */
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
  gst_object_unref (src);
}

GST_END_TEST;

GST_START_TEST (test_src_port_in_use_fails_clearly)
{
  GstHarness *h = tf_test_src_new (NULL);
  GstElement *src = gst_element_factory_make ("tcpframesrc", NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;

  gst_element_set_bus (src, bus);
  g_object_set (src, "host", "127.0.0.1", "port", tf_test_src_port (h), NULL);
  fail_unless_equals_int (gst_element_set_state (src, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (strstr (err->message, "Could not listen") != NULL, "unclear: %s",
      err->message);
  g_error_free (err);
  gst_message_unref (msg);
  gst_element_set_state (src, GST_STATE_NULL);
  /* queued messages hold the element */
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
  gst_object_unref (src);
  tf_test_src_free (h);
}

GST_END_TEST;

/* The exact bytes of the README's hex dump: if the documented format and
 * the element ever disagree, this fails. */
GST_START_TEST (test_src_readme_example_bytes)
{
  static const guint8 wire[] = {
    0x54, 0x46, 0x52, 0x4d, 0x01, 0x01, 0x00, 0x29, 0x00, 0x00, 0x00, 0x08,
    0x00, 0x00, 0x00, 0x07, 0x18, 0x0a, 0xdf, 0x2f, 0x1d, 0x2f, 0x0d, 0x15,
    'v', 'i', 'd', 'e', 'o', '/', 'x', '-', 'r', 'a', 'w', ',', 'f', 'o', 'r',
    'm', 'a', 't', '=', 'G', 'R', 'A', 'Y', '8', ',', 'w', 'i', 'd', 't', 'h',
    '=', '4', ',', 'h', 'e', 'i', 'g', 'h', 't', '=', '2',
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
  };
  GstHarness *h = tf_test_src_new (NULL);
  TfTestPeer *cam = tf_test_peer_connect (tf_test_src_port (h));
  GstCaps *unix_caps = gst_caps_new_empty_simple ("timestamp/x-unix");
  GstReferenceTimestampMeta *meta;
  GstBuffer *buf;

  tf_test_peer_send (cam, wire, sizeof (wire));
  buf = tf_test_pull (h, WAIT_MS);
  tf_test_assert_buffer_equals (buf, wire + sizeof (wire) - 8, 8);
  meta = gst_buffer_get_reference_timestamp_meta (buf, unix_caps);
  fail_unless (meta != NULL);
  fail_unless_equals_uint64 (meta->timestamp,
      G_GUINT64_CONSTANT (1732442400123456789));
  gst_buffer_unref (buf);
  gst_caps_unref (unix_caps);
  tf_test_peer_close (cam);
  tf_test_src_free (h);
}

GST_END_TEST;

/* pipelines/tiny-camera.py is the README's "camera in twenty lines". */
GST_START_TEST (test_src_python_tiny_camera)
{
  GstHarness *h = tf_test_src_new (NULL);
  gchar *script = g_build_filename (g_getenv ("TF_SOURCE_ROOT"), "pipelines",
      "tiny-camera.py", NULL);
  gchar *port = g_strdup_printf ("%u", tf_test_src_port (h));
  gchar *argv[] = { (gchar *) "python3", script, (gchar *) "127.0.0.1", port,
    (gchar *) "3", NULL
  };
  GError *err = NULL;
  guint i;

  fail_unless (g_spawn_async (NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL,
          NULL, NULL, &err), "cannot run %s: %s", script,
      err ? err->message : "");
  for (i = 0; i < 3; i++) {
    GstBuffer *buf = tf_test_pull (h, 10000);
    GstMapInfo map;

    fail_unless (buf != NULL, "frame %u from tiny-camera.py missing", i);
    fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
    fail_unless_equals_uint64 (map.size, 320 * 240);
    /* pixel (x, y) = (x + y + 4 * seq) & 0xff */
    fail_unless_equals_int (map.data[0], (4 * i) & 0xff);
    fail_unless_equals_int (map.data[320 * 10 + 5], (15 + 4 * i) & 0xff);
    gst_buffer_unmap (buf, &map);
    gst_buffer_unref (buf);
  }
  g_free (script);
  g_free (port);
  tf_test_src_free (h);
}

GST_END_TEST;

static gint
element_fd_within (GstHarness * h, TfTestPeer * cam, guint ms)
{
  gint64 deadline = g_get_monotonic_time () + ms * 1000;
  gint fd;

  /* connections counts a peer once the element has set it up, options
   * included; the fd alone exists from accept() on. */
  while (((fd = tf_test_element_fd (tf_test_src_port (h), cam)) < 0
          || tf_test_stat (h, "connections") < 1)
      && g_get_monotonic_time () < deadline)
    g_usleep (500);
  fail_unless (fd >= 0, "the element never accepted port %u", cam->local_port);
  return fd;
}

static gint
sockopt (gint fd, gint level, gint name)
{
  gint v = -1;
  socklen_t len = sizeof (v);

  fail_unless (getsockopt (fd, level, name, &v, &len) == 0);
  return v;
}

/* The kernel notices dead links only if the options are really on the
 * accepted socket, so look at the socket itself. */
GST_START_TEST (test_src_keepalive_socket_options)
{
  GstHarness *h = tf_test_src_new ("timeout=1500000000 keepalive-idle=7 "
      "keepalive-interval=3 keepalive-count=4");
  TfTestPeer *cam = tf_test_peer_connect (tf_test_src_port (h));
  gint fd = element_fd_within (h, cam, WAIT_MS);

  fail_unless_equals_int (sockopt (fd, SOL_SOCKET, SO_KEEPALIVE), 1);
  fail_unless_equals_int (sockopt (fd, IPPROTO_TCP, TCP_KEEPIDLE), 7);
  fail_unless_equals_int (sockopt (fd, IPPROTO_TCP, TCP_KEEPINTVL), 3);
  fail_unless_equals_int (sockopt (fd, IPPROTO_TCP, TCP_KEEPCNT), 4);
  /* derived from timeout: 1.5 s */
  fail_unless_equals_int (sockopt (fd, IPPROTO_TCP, TCP_USER_TIMEOUT), 1500);
  tf_test_peer_close (cam);
  tf_test_src_free (h);

  h = tf_test_src_new ("timeout=0 keepalive=false");
  cam = tf_test_peer_connect (tf_test_src_port (h));
  fd = element_fd_within (h, cam, WAIT_MS);
  fail_unless_equals_int (sockopt (fd, SOL_SOCKET, SO_KEEPALIVE), 0);
  fail_unless_equals_int (sockopt (fd, IPPROTO_TCP, TCP_USER_TIMEOUT), 0);
  tf_test_peer_close (cam);
  tf_test_src_free (h);
}

GST_END_TEST;

GST_START_TEST (test_src_allow_list)
{
  GstHarness *h = tf_test_src_new ("allow=10.0.0.0/8,2001:db8::/32");
  /* The reset can beat our own connect() to its result: then connecting
   * itself fails, which is the same rejection seen from the camera. */
  TfTestPeer *cam = tf_test_peer_try_connect_from (tf_test_src_port (h), 0);
  guint8 *payload = tf_test_payload (0, 8);
  GstMessage *msg;
  GstBuffer *buf;

  /* A stranger is reset at once, before it can send anything useful. */
  msg = tf_test_wait_message (h, "tcpframesrc-rejected", WAIT_MS);
  fail_unless (msg != NULL, "a peer outside the allow list was not rejected");
  fail_unless_equals_string (tf_test_message_string (msg, "reason"),
      "not-allowed");
  if (cam)
    fail_unless_equals_int (tf_test_message_int (msg, "port"), cam->local_port);
  gst_message_unref (msg);
  if (cam)
    fail_unless_equals_int (tf_test_peer_wait_end (cam, WAIT_MS),
        TF_TEST_PEER_GOT_RESET);
  fail_unless_equals_uint64 (tf_test_stat (h, "rejected"), 1);
  fail_unless_equals_uint64 (tf_test_stat (h, "connections"), 0);
  fail_unless (gst_harness_try_pull (h) == NULL);
  tf_test_peer_free (cam);
  tf_test_src_free (h);

  /* Listed: streams as usual. */
  h = tf_test_src_new ("allow=10.0.0.0/8,127.0.0.1,::1");
  cam = tf_test_peer_connect (tf_test_src_port (h));
  tf_test_peer_send_header_frame (cam, GRAY8_4x2, payload, 8, 0);
  buf = tf_test_pull (h, WAIT_MS);
  tf_test_assert_buffer_equals (buf, payload, 8);
  gst_buffer_unref (buf);
  fail_unless_equals_uint64 (tf_test_stat (h, "rejected"), 0);
  tf_test_peer_close (cam);
  tf_test_src_free (h);
  g_free (payload);
}

GST_END_TEST;

GST_START_TEST (test_src_allow_list_malformed_fails_clearly)
{
  GstElement *src = gst_element_factory_make ("tcpframesrc", NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;

  gst_element_set_bus (src, bus);
  g_object_set (src, "host", "127.0.0.1", "port", 0, "allow",
      "192.168.10.0/24, 10.0.0.300/24", NULL);
  fail_unless_equals_int (gst_element_set_state (src, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (strstr (err->message, "\"10.0.0.300/24\"") != NULL,
      "the error does not name the bad entry: %s", err->message);
  g_error_free (err);
  gst_message_unref (msg);
  gst_element_set_state (src, GST_STATE_NULL);
  /* queued messages hold the element */
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
  gst_object_unref (src);
}

GST_END_TEST;

static Suite *
tcpframesrc_suite (void)
{
  Suite *s = suite_create ("tcpframesrc");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_src_header_frames_byte_exact);
  tcase_add_test (tc, test_src_header_sequence_gaps_and_capture_time);
  tcase_add_test (tc, test_src_header_caps_renegotiation);
  tcase_add_test (tc, test_src_header_caps_from_property);
  tcase_add_test (tc, test_src_small_frame_bursts);
  tcase_add_test (tc, test_src_raw_frame_size);
  tcase_add_test (tc, test_src_raw_size_from_caps);
  tcase_add_test (tc, test_src_raw_large_frames_use_pool);
  tcase_add_test (tc, test_src_length_formats);
  tcase_add_test (tc, test_src_jpeg_images_and_garbage);
  tcase_add_test (tc, test_src_jpeg_buffered_image_with_slow_consumer);
  tcase_add_test (tc, test_src_live_no_preroll);
  tcase_add_test (tc, test_src_status_and_port_notify);
  tcase_add_test (tc, test_src_bad_config_fails_clearly);
  tcase_add_test (tc, test_src_port_in_use_fails_clearly);
  tcase_add_test (tc, test_src_readme_example_bytes);
  tcase_add_test (tc, test_src_python_tiny_camera);
  tcase_add_test (tc, test_src_keepalive_socket_options);
  tcase_add_test (tc, test_src_allow_list);
  tcase_add_test (tc, test_src_allow_list_malformed_fails_clearly);
  return s;
}

GST_CHECK_MAIN (tcpframesrc);
