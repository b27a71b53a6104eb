/* Test helpers: a scriptable camera peer, and a tcpframesrc under a harness.
 *
 * Every wait here is bounded: a broken element fails the test instead of
 * hanging it. */
#ifndef TF_TESTPEER_H
#define TF_TESTPEER_H

#include <gst/gst.h>
#include <gst/check/gstharness.h>
#include <gio/gio.h>

G_BEGIN_DECLS

/* ---- the camera side ---- */

typedef struct {
  GSocket *socket;
  guint16 local_port;
} TfTestPeer;

typedef enum {
  TF_TEST_PEER_GOT_RESET,       /* our recv saw ECONNRESET: the element sent an RST */
  TF_TEST_PEER_GOT_FIN,         /* orderly close */
  TF_TEST_PEER_STILL_OPEN,      /* nothing within the bound */
} TfTestPeerEnd;

/* Connects to 127.0.0.1:port (blocking socket), optionally from a fixed
 * local port (0 = ephemeral).  Fails the test on error. */
TfTestPeer *tf_test_peer_connect (guint16 port);
TfTestPeer *tf_test_peer_connect_from (guint16 port, guint16 local_port);
/* As some cameras do: from one fixed source port, taken below the
 * kernel's ephemeral range, so that no other socket (a parallel test's) is
 * handed it while the camera is away and its reconnect cannot fail for a
 * reason that is not the element's. */
TfTestPeer *tf_test_peer_connect_from_fixed_port (guint16 port);
/* Like connect_from, but returns NULL instead of failing when the connect
 * is refused or the local port is busy. */
TfTestPeer *tf_test_peer_try_connect_from (guint16 port, guint16 local_port);

void tf_test_peer_send (TfTestPeer * peer, const void *data, gsize len);
/* One `header` framing frame; caps may be NULL. */
void tf_test_peer_send_header_frame (TfTestPeer * peer, const gchar * caps,
    const guint8 * payload, gsize len, guint32 sequence);

/* Waits up to timeout_ms for the element to end the connection. */
TfTestPeerEnd tf_test_peer_wait_end (TfTestPeer * peer, guint timeout_ms);

void tf_test_peer_close (TfTestPeer * peer);      /* FIN, then free */
void tf_test_peer_reset (TfTestPeer * peer);      /* RST, then free */
void tf_test_peer_free (TfTestPeer * peer);       /* just close quietly */

/* Deterministic frame content, different for every (sequence, i). */
guint8 *tf_test_payload (guint32 sequence, gsize size);

/* ---- the element side ---- */

/* The element's end of `peer`'s connection to a source listening on
 * src_port: the element runs in this process, so it is one of our own
 * file descriptors.  -1 until accepted. */
gint tf_test_element_fd (guint16 src_port, TfTestPeer * peer);

/* A harness around tcpframesrc listening on 127.0.0.1, port 0, with a bus
 * attached so its messages can be read.  Extra properties are set from a
 * gst-launch style string, e.g. "framing=raw frame-size=16". */
GstHarness *tf_test_src_new (const gchar * props);
guint16 tf_test_src_port (GstHarness * h);
GstBus *tf_test_src_bus (GstHarness * h);

/* Pulls one buffer, waiting at most timeout_ms; NULL if none came. */
GstBuffer *tf_test_pull (GstHarness * h, guint timeout_ms);

/* Waits at most timeout_ms for an element message named `name`; returns
 * it (unref it) or NULL.  Other messages stay queued for later waits, in
 * order. */
GstMessage *tf_test_wait_message (GstHarness * h, const gchar * name,
    guint timeout_ms);

/* Waits at most timeout_ms for a WARNING on the bus; NULL if none. */
GstMessage *tf_test_wait_warning (GstHarness * h, guint timeout_ms);

/* Reads a guint64 field of the stats property. */
guint64 tf_test_stat (GstHarness * h, const gchar * field);

/* Checks that `buf` holds exactly `len` bytes equal to `data`. */
void tf_test_assert_buffer_equals (GstBuffer * buf, const guint8 * data,
    gsize len);

/* Fields of the tcpframesrc-* messages. */
gint tf_test_message_port (GstMessage * msg);
const gchar *tf_test_message_reason (GstMessage * msg);
guint64 tf_test_message_frames (GstMessage * msg);

/* Waits for the next `name` message; it must be about 127.0.0.1:`port` and,
 * unless `reason` is NULL, give that reason.  Returns it for more checks. */
GstMessage *tf_test_expect_message (GstHarness * h, const gchar * name,
    guint16 port, const gchar * reason, guint timeout_ms);
void tf_test_assert_no_message (GstHarness * h, const gchar * name,
    guint timeout_ms);
/* No buffer arrives within quiet_ms. */
void tf_test_assert_no_buffer (GstHarness * h, guint quiet_ms);

void tf_test_src_free (GstHarness * h);

/* ---- the element tests' common frames and waits ---- */

/* Their camera sends 8-byte GRAY8 4x2 frames whose payload is
 * tf_test_payload (seq, TF_TEST_FRAME_LEN), caps on the first. */
#define TF_TEST_GRAY8_4x2 "video/x-raw,format=GRAY8,width=4,height=2,framerate=25/1"
#define TF_TEST_FRAME_LEN 8
#define TF_TEST_WAIT_MS tf_test_scale_ms (3000)

void tf_test_send_frame (TfTestPeer * peer, guint32 seq, gboolean with_caps);
/* The next buffer, within TF_TEST_WAIT_MS, must be frame `seq`, DISCONT
 * exactly when `discont`. */
void tf_test_pull_frame (GstHarness * h, guint32 seq, gboolean discont);
/* A small image with a real marker structure, different for every tag:
 * SOI, an APP1 segment that hides a thumbnail's FFD8..FFD9, a DQT segment
 * containing FF D9, SOS, entropy data with a stuffed FF and a restart
 * marker, EOI.  Its last 5 bytes are entropy data, RST and EOI. */
guint8 *tf_test_jpeg (guint8 tag, gsize * len);

gint64 tf_test_ms_since (gint64 t);
/* The stats' peer-port: who is current. */
gint tf_test_stat_peer_port (GstHarness * h);
/* The element updates stats and status from its own thread, just after
 * the message that goes with them: poll, with a bound.  FALSE if the
 * stat is not `expected` within timeout_ms. */
gboolean tf_test_wait_stat (GstHarness * h, const gchar * field,
    guint64 expected, guint timeout_ms);
gint tf_test_get_status (GstHarness * h);
/* Fails unless the status property is `expected` within TF_TEST_WAIT_MS. */
void tf_test_wait_status (GstHarness * h, gint expected);
void tf_test_stash_free (GQueue * q);

/* Sets "name=value name=value ..." as gst-launch would (enums by nick). */
void tf_test_set_props (GstElement * element, const gchar * props);
/* A field of an element message's structure: the string (NULL if none),
 * and the int (the test fails if there is none). */
const gchar *tf_test_message_string (GstMessage * msg, const gchar * field);
gint tf_test_message_int (GstMessage * msg, const gchar * field);

/* Going to NULL must take less than this, whatever the element waits on. */
#define TF_TEST_STOP_MS tf_test_scale_ms (100)
/* Takes the element to NULL from another thread, so that a stop that never
 * returns fails the test instead of hanging it: the change must succeed
 * within TF_TEST_STOP_MS. */
void tf_test_stop_promptly (GstElement * element);

/* ---- timing ---- */

/* `ms` times TF_TEST_TIME_SCALE (a whole number, default 1).  For the
 * slack of a timing check's upper bound and for waits only, never for a
 * lower bound: tests/valgrind.sh sets TF_TEST_TIME_SCALE because memcheck
 * runs the code 20 to 50 times slower, which no "within N ms" holds
 * through.  E.g. #define LATE_MS tf_test_scale_ms (150). */
guint tf_test_scale_ms (guint ms);

G_END_DECLS

#endif /* TF_TESTPEER_H */
