/* tf-bench: frame sizes, wire formats and the C sender.
 *
 * The sender is shared by every receiver under test, so differences in the
 * results come from the receivers alone.  It writes pre-built frames, many
 * small frames per write, and touches only the few bytes that change per
 * frame (sequence, timestamp), so it is never the bottleneck: it runs in
 * its own process and has a core to itself on the 2-core machine.
 */
#include "bench.h"
#include "tf-framer.h"

#include <gio/gio.h>

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

/* 4 KiB is 64x64 GRAY8; the others are the cameras the issue names. */
const TfbSize tfb_sizes[] = {
  {"4k", "4 KiB", "GRAY8", "gray8", 64, 64, 1},
  {"300k", "300 KiB (VGA GRAY8)", "GRAY8", "gray8", 640, 480, 1},
  {"2m", "2 MiB (1080p GRAY8)", "GRAY8", "gray8", 1920, 1080, 1},
  {"6m", "6 MiB (1080p RGB)", "RGB", "rgb", 1920, 1080, 3},
};

const guint tfb_n_sizes = G_N_ELEMENTS (tfb_sizes);

const TfbSize *
tfb_size_lookup (const gchar * name)
{
  guint i;

  for (i = 0; i < tfb_n_sizes; i++) {
    if (g_strcmp0 (tfb_sizes[i].name, name) == 0)
      return &tfb_sizes[i];
  }
  return NULL;
}

gsize
tfb_size_bytes (const TfbSize * s)
{
  /* Every width used is a multiple of 4 bytes per row, so GStreamer's
   * default stride adds no padding and the frame is exactly w*h*bpp. */
  return (gsize) s->width * s->height * s->bpp;
}

gchar *
tfb_size_caps (const TfbSize * s)
{
  return g_strdup_printf ("video/x-raw,format=%s,width=%u,height=%u,"
      "framerate=30/1", s->format, s->width, s->height);
}

const gchar *
tfb_wire_name (TfbWire wire)
{
  switch (wire) {
    case TFB_WIRE_RAW:
      return "raw";
    case TFB_WIRE_HEADER:
      return "header";
    case TFB_WIRE_LENGTH:
      return "length";
  }
  return "?";
}

gboolean
tfb_wire_parse (const gchar * str, TfbWire * wire)
{
  TfbWire w;

  for (w = TFB_WIRE_RAW; w <= TFB_WIRE_LENGTH; w++) {
    if (g_strcmp0 (str, tfb_wire_name (w)) == 0) {
      *wire = w;
      return TRUE;
    }
  }
  return FALSE;
}

gint64
tfb_now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

void
tfb_sleep_until (gint64 deadline_ns)
{
  struct timespec ts;

  ts.tv_sec = deadline_ns / 1000000000;
  ts.tv_nsec = deadline_ns % 1000000000;
  while (clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR);
}

guint64
tfb_payload_seq (const guint8 * payload)
{
  guint64 seq = 0;
  guint i;

  for (i = 0; i < 8; i++)
    seq |= (guint64) payload[i] << (8 * i);
  return seq;
}

static void
write_payload_seq (guint8 * payload, guint64 seq)
{
  guint i;

  for (i = 0; i < 8; i++)
    payload[i] = (seq >> (8 * i)) & 0xff;
}

struct _TfbFrames
{
  TfbWire wire;
  gsize payload_size;
  gsize prefix;                 /* bytes before each payload of the batch */
  gsize frame_bytes;            /* prefix + payload */
  guint n;                      /* frames in the batch */
  guint8 *batch;

  /* header: a connection's first frame, which carries the caps */
  gchar *caps;
  gsize caps_len;
  guint8 *first;
  gsize first_bytes;
};

static void
fill_payload (guint8 * payload, gsize size)
{
  gsize i;

  /* Not zeros: nothing on the path may get away with less work for
   * uniform data. */
  for (i = 0; i < size; i++)
    payload[i] = (i * 7 + (i >> 8)) & 0xff;
}

TfbFrames *
tfb_frames_new (TfbWire wire, const TfbSize * size, gsize batch_bytes)
{
  TfbFrames *fr = g_new0 (TfbFrames, 1);
  guint i;

  fr->wire = wire;
  fr->payload_size = tfb_size_bytes (size);
  switch (wire) {
    case TFB_WIRE_RAW:
      fr->prefix = 0;
      break;
    case TFB_WIRE_HEADER:
      fr->prefix = TF_HEADER_SIZE;
      break;
    case TFB_WIRE_LENGTH:
      fr->prefix = tf_length_format_width (TF_LENGTH_FORMAT_U32BE);
      break;
  }
  fr->frame_bytes = fr->prefix + fr->payload_size;
  fr->n = MAX (1, batch_bytes / fr->frame_bytes);
  fr->batch = g_malloc (fr->frame_bytes * fr->n);
  for (i = 0; i < fr->n; i++) {
    guint8 *f = fr->batch + (gsize) i * fr->frame_bytes;

    fill_payload (f + fr->prefix, fr->payload_size);
    if (wire == TFB_WIRE_LENGTH)
      tf_length_write (TF_LENGTH_FORMAT_U32BE, fr->payload_size, f);
  }

  if (wire == TFB_WIRE_HEADER) {
    fr->caps = tfb_size_caps (size);
    fr->caps_len = strlen (fr->caps);
    fr->first_bytes = TF_HEADER_SIZE + fr->caps_len + fr->payload_size;
    fr->first = g_malloc (fr->first_bytes);
    memcpy (fr->first + TF_HEADER_SIZE, fr->caps, fr->caps_len);
    fill_payload (fr->first + TF_HEADER_SIZE + fr->caps_len, fr->payload_size);
  }
  return fr;
}

void
tfb_frames_free (TfbFrames * fr)
{
  if (!fr)
    return;
  g_free (fr->batch);
  g_free (fr->first);
  g_free (fr->caps);
  g_free (fr);
}

/* Stamps sequence (and, for header, the capture time a camera would
 * send) into one frame laid out at f. */
static void
stamp_frame (TfbFrames * fr, guint8 * f, gsize caps_len, guint64 seq,
    guint64 unix_ns)
{
  if (fr->wire == TFB_WIRE_HEADER)
    tf_header_write (f, caps_len, fr->payload_size, (guint32) seq, unix_ns);
  write_payload_seq (f + fr->prefix + caps_len, seq);
}

gint
tfb_connect (guint16 port, GError ** error)
{
  struct sockaddr_in sa = { 0, };
  gint fd, one = 1;

  fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
        "socket: %s", g_strerror (errno));
    return -1;
  }
  sa.sin_family = AF_INET;
  sa.sin_port = htons (port);
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (connect (fd, (struct sockaddr *) &sa, sizeof (sa)) < 0) {
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
        "connect to 127.0.0.1:%u: %s", port, g_strerror (errno));
    close (fd);
    return -1;
  }
  /* Frames go out whole in one send; Nagle would only hold a frame's tail
   * back until the previous one is acknowledged, which latency would
   * count. */
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof (one));
  return fd;
}

static gboolean
send_all (gint fd, const guint8 * data, gsize len, GError ** error)
{
  while (len > 0) {
    /* MSG_NOSIGNAL: a receiver that is stopped resets us, which ends the
     * sending; it must not kill the process. */
    gssize n = send (fd, data, len, MSG_NOSIGNAL);

    if (n < 0) {
      if (errno == EINTR)
        continue;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
          "send: %s", g_strerror (errno));
      return FALSE;
    }
    data += n;
    len -= n;
  }
  return TRUE;
}

gboolean
tfb_send_frame (gint fd, TfbFrames * fr, guint64 seq, gboolean first,
    GError ** error)
{
  guint64 unix_ns = (guint64) g_get_real_time () * 1000;

  if (first && fr->wire == TFB_WIRE_HEADER) {
    stamp_frame (fr, fr->first, fr->caps_len, seq, unix_ns);
    return send_all (fd, fr->first, fr->first_bytes, error);
  }
  stamp_frame (fr, fr->batch, 0, seq, unix_ns);
  return send_all (fd, fr->batch, fr->frame_bytes, error);
}

guint64
tfb_send_flat (gint fd, TfbFrames * fr, gint64 deadline_ns)
{
  guint64 seq = 0;

  if (!tfb_send_frame (fd, fr, seq++, TRUE, NULL))
    return 0;
  while (deadline_ns == 0 || tfb_now_ns () < deadline_ns) {
    guint64 unix_ns = (guint64) g_get_real_time () * 1000;
    guint i;

    for (i = 0; i < fr->n; i++)
      stamp_frame (fr, fr->batch + (gsize) i * fr->frame_bytes, 0, seq + i,
          unix_ns);
    if (!send_all (fd, fr->batch, fr->frame_bytes * fr->n, NULL))
      break;
    seq += fr->n;
  }
  return seq;
}
