/* Unit tests for reading several frames per syscall (tf-readahead.h).
 *
 * The receiver's read loop, without a socket: a stream arrives in reads of
 * at most read_max bytes, scattered over what the framer asked for and the
 * storage laid out ahead; frames must come out whole and in order however
 * the guesses turn out, and memory guessed right is used as it is. */
#include <gst/check/gstcheck.h>
#include <string.h>

#include "tf-framer.h"
#include "tf-readahead.h"
#include "tf-testdata.h"

#define MAX_FRAME (1024 * 1024)
#define CAPS_A "video/x-raw,format=GRAY8,width=10,height=10,framerate=30/1"
#define CAPS_B "video/x-raw,format=GRAY8,width=10,height=10,framerate=5/1"

typedef struct
{
  GByteArray *data;
  gboolean guessed;             /* read into memory laid out ahead */
} OutFrame;

typedef struct
{
  GArray *frames;               /* OutFrame */
  guint reads;
  guint guesses;                /* frame memory laid out ahead */
} Run;

static void
run_free (Run * run)
{
  guint i;

  for (i = 0; i < run->frames->len; i++)
    g_byte_array_unref (g_array_index (run->frames, OutFrame, i).data);
  g_array_unref (run->frames);
}

/* Copies n bytes of the stream into the scatter list, in order. */
static void
scatter (const guint8 * src, gsize n, guint8 * dst, gsize len,
    const TfReadAhead * ra, guint n_regions)
{
  gsize part = MIN (n, len);
  guint i;

  memcpy (dst, src, part);
  src += part;
  n -= part;
  for (i = 0; i < n_regions && n > 0; i++) {
    part = MIN (n, ra->regions[i].len);
    memcpy (ra->regions[i].ptr, src, part);
    src += part;
    n -= part;
  }
  fail_unless_equals_uint64 (n, 0);
}

static Run
run_reads (const TfFramerConfig * config, const guint8 * stream, gsize size,
    gsize read_max)
{
  TfFramer *f = tf_framer_new (config);
  TfReadAhead ra = { 0, };
  guint8 *spare[TF_READ_AHEAD_FRAMES] = { NULL, };
  gsize spare_size = 0, pos = 0;
  guint64 last_size = 0;
  guint8 *mem = NULL;
  gboolean guessed = FALSE, proven = FALSE;
  Run run = { g_array_new (FALSE, FALSE, sizeof (OutFrame)), 0, 0 };
  guint i, steps = 0;

  for (;;) {
    guint8 *dst;
    gsize len;
    TfFramerStatus st = tf_framer_poll (f, &dst, &len);
    const TfFrameInfo *info = tf_framer_frame_info (f);

    fail_unless (++steps < 100000, "the loop does not progress");
    if (st == TF_FRAMER_WANT_BYTES) {
      guint n_regions = 0;
      gsize offered = len, n;

      if (tf_read_ahead_pending (&ra)) {
        tf_read_ahead_feed (&ra, f);
        continue;
      }
      if (pos == size)
        break;
      /* As tcpframesrc: only a proven peer, only while a payload is read
       * into its own storage. */
      if (mem && proven) {
        gint prefix = tf_framer_prefix_size (f);
        guint k = tf_read_ahead_frames (info->size, last_size, prefix);

        if (spare_size != info->size) {
          for (i = 0; i < TF_READ_AHEAD_FRAMES; i++)
            g_clear_pointer (&spare[i], g_free);
          spare_size = info->size;
        }
        for (i = 0; i < k; i++) {
          if (!spare[i]) {
            spare[i] = g_malloc0 (spare_size);
            run.guesses++;
          }
        }
        n_regions = tf_read_ahead_plan (&ra, prefix, spare, spare_size, k);
        for (i = 0; i < n_regions; i++)
          offered += ra.regions[i].len;
      }
      n = MIN (MIN (read_max, size - pos), offered);
      scatter (stream + pos, n, dst, len, &ra, n_regions);
      tf_framer_advance (f, MIN (n, len));
      tf_read_ahead_filled (&ra, n - MIN (n, len));
      pos += n;
      run.reads++;
    } else if (st == TF_FRAMER_WANT_BUFFER) {
      gint tag = tf_read_ahead_next_tag (&ra);

      fail_unless (mem == NULL);
      guessed = tag >= 0 && spare_size == info->size;
      if (guessed) {
        mem = spare[tag];
        spare[tag] = NULL;
      } else {
        mem = g_malloc0 (info->size);
      }
      tf_framer_set_buffer (f, mem);
    } else if (st == TF_FRAMER_FRAME_READY) {
      OutFrame out = { g_byte_array_new_take (mem, info->size), guessed };

      g_array_append_val (run.frames, out);
      last_size = info->size;
      tf_framer_release_frame (f, NULL, NULL);
      mem = NULL;
      proven = TRUE;
    } else {
      fail ("the framer failed: %s", tf_framer_get_error (f)->message);
    }
  }
  fail_if (tf_read_ahead_pending (&ra));
  fail_if (tf_framer_in_frame (f), "input left mid-frame");
  /* raw asks for the next frame's storage before any of its bytes */
  g_free (mem);
  for (i = 0; i < TF_READ_AHEAD_FRAMES; i++)
    g_free (spare[i]);
  tf_framer_free (f);
  return run;
}

static void
assert_frame (Run * run, guint i, gsize size, guint seed)
{
  guint8 *expect = tf_test_pattern (size, seed);
  OutFrame *out;

  fail_unless (i < run->frames->len, "frame %u did not come out", i);
  out = &g_array_index (run->frames, OutFrame, i);
  fail_unless_equals_uint64 (out->data->len, size);
  fail_unless (memcmp (out->data->data, expect, size) == 0,
      "frame %u has the wrong bytes", i);
  g_free (expect);
}

static void
append_header_frame (GByteArray * ba, const gchar * caps, gsize size,
    guint seq)
{
  guint8 h[TF_HEADER_SIZE];
  guint8 *p = tf_test_pattern (size, seq);
  gsize caps_len = caps ? strlen (caps) : 0;

  tf_header_write (h, caps_len, size, seq, TF_TIMESTAMP_NONE);
  g_byte_array_append (ba, h, sizeof (h));
  g_byte_array_append (ba, (const guint8 *) caps, caps_len);
  g_byte_array_append (ba, p, size);
  g_free (p);
}

GST_START_TEST (test_readahead_frames_policy)
{
  fail_unless_equals_int (tf_read_ahead_frames (4096, 4096, TF_HEADER_SIZE),
      16);
  /* 256 KiB / (16 KiB + 4) */
  fail_unless_equals_int (tf_read_ahead_frames (16384, 16384, 4), 15);
  fail_unless_equals_int (tf_read_ahead_frames (65536, 65536, 0), 4);
  fail_unless_equals_int (tf_read_ahead_frames (65537, 65537, 0), 0);
  fail_unless_equals_int (tf_read_ahead_frames (100, 100, -1), 0);
  fail_unless_equals_int (tf_read_ahead_frames (0, 0, 0), 0);
  /* a size that just changed, or a first frame: no guess */
  fail_unless_equals_int (tf_read_ahead_frames (4096, 4095, 0), 0);
  fail_unless_equals_int (tf_read_ahead_frames (4096, 0, 0), 0);
}

GST_END_TEST;

/* Same-size frames, new caps of the same size, then a new size: every
 * frame exact and in order; the steady stretches are guessed right and
 * read 17 frames per read. */
GST_START_TEST (test_readahead_header_changes)
{
  TfFramerConfig config = { TF_FRAMING_HEADER, 0, 0, MAX_FRAME };
  GByteArray *ba = g_byte_array_new ();
  guint n = 120, i, guessed = 0;
  Run run;

  for (i = 0; i < n; i++) {
    const gchar *caps = i == 0 ? CAPS_A : i == 40 ? CAPS_B : NULL;
    append_header_frame (ba, caps, i < 80 ? 100 : 200, i);
  }
  run = run_reads (&config, ba->data, ba->len, 1 << 20);

  fail_unless_equals_int (run.frames->len, n);
  for (i = 0; i < n; i++) {
    assert_frame (&run, i, i < 80 ? 100 : 200, i);
    guessed += g_array_index (run.frames, OutFrame, i).guessed;
  }
  /* No guess for the first frames, nor for one whose caps string landed
   * where its payload was expected, nor for the first of a new size. */
  fail_if (g_array_index (run.frames, OutFrame, 0).guessed);
  fail_if (g_array_index (run.frames, OutFrame, 1).guessed);
  fail_unless (g_array_index (run.frames, OutFrame, 2).guessed);
  /* the first of a new size is read without guesses, the next guesses */
  fail_if (g_array_index (run.frames, OutFrame, 81).guessed);
  fail_if (g_array_index (run.frames, OutFrame, 82).guessed);
  fail_unless (g_array_index (run.frames, OutFrame, 83).guessed);
  fail_if (g_array_index (run.frames, OutFrame, 40).guessed);
  fail_if (g_array_index (run.frames, OutFrame, 80).guessed);
  /* Otherwise one frame in 17 starts a read (not guessed), and after a
   * change the rest of that read is copied: 22 here. */
  fail_unless (guessed >= 95, "only %u of %u frames read into guessed "
      "memory", guessed, n);
  fail_unless (run.reads <= 15, "%u reads for %u frames", run.reads, n);
  run_free (&run);
  g_byte_array_unref (ba);
}

GST_END_TEST;

/* Reads that end anywhere, inside a guessed frame or a prefix. */
GST_START_TEST (test_readahead_short_reads)
{
  static const gsize read_max[] = { 1, 7, 24, 25, 777, 4120 };
  TfFramerConfig header = { TF_FRAMING_HEADER, 0, 0, MAX_FRAME };
  TfFramerConfig raw = { TF_FRAMING_RAW, 1000, 0, MAX_FRAME };
  GByteArray *hs = g_byte_array_new ();
  GByteArray *rs = g_byte_array_new ();
  guint n = 60, i, r;

  for (i = 0; i < n; i++) {
    guint8 *p = tf_test_pattern (1000, i);

    append_header_frame (hs, i == 0 ? CAPS_A : NULL, 1000, i);
    g_byte_array_append (rs, p, 1000);
    g_free (p);
  }
  for (r = 0; r < G_N_ELEMENTS (read_max); r++) {
    Run h = run_reads (&header, hs->data, hs->len, read_max[r]);
    Run w = run_reads (&raw, rs->data, rs->len, read_max[r]);

    fail_unless_equals_int (h.frames->len, n);
    fail_unless_equals_int (w.frames->len, n);
    for (i = 0; i < n; i++) {
      assert_frame (&h, i, 1000, i);
      assert_frame (&w, i, 1000, i);
    }
    run_free (&h);
    run_free (&w);
  }
  g_byte_array_unref (hs);
  g_byte_array_unref (rs);
}

GST_END_TEST;

/* Frames too large to guess: the next header still comes with the end of
 * each payload, one read per frame instead of two. */
GST_START_TEST (test_readahead_large_frames_prefix_only)
{
  TfFramerConfig config = { TF_FRAMING_HEADER, 0, 0, MAX_FRAME };
  GByteArray *ba = g_byte_array_new ();
  guint n = 10, i;
  Run run;

  for (i = 0; i < n; i++)
    append_header_frame (ba, i == 0 ? CAPS_A : NULL, 100000, i);
  run = run_reads (&config, ba->data, ba->len, 1 << 20);
  fail_unless_equals_int (run.frames->len, n);
  for (i = 0; i < n; i++) {
    assert_frame (&run, i, 100000, i);
    fail_if (g_array_index (run.frames, OutFrame, i).guessed);
  }
  /* header, caps and payload of the first frame, its header alone, then
   * one read per frame */
  fail_unless_equals_int (run.reads, 3 + 1 + (n - 1));
  run_free (&run);
  g_byte_array_unref (ba);
}

GST_END_TEST;

/* Frames whose size varies (compressed video) get no guessed memory at
 * all: every guess would be wrong, and cost memory on every read.  The
 * next prefix still comes with each payload. */
GST_START_TEST (test_readahead_varying_sizes_no_guesses)
{
  TfFramerConfig config = { TF_FRAMING_LENGTH, 0, TF_LENGTH_FORMAT_U32LE,
    MAX_FRAME
  };
  GByteArray *ba = g_byte_array_new ();
  guint n = 200, i;
  Run run;

  for (i = 0; i < n; i++) {
    gsize size = 500 + (i * 37) % 300;
    guint8 *p = tf_test_pattern (size, i);
    guint8 prefix[4];

    tf_length_write (TF_LENGTH_FORMAT_U32LE, size, prefix);
    g_byte_array_append (ba, prefix, 4);
    g_byte_array_append (ba, p, size);
    g_free (p);
  }
  run = run_reads (&config, ba->data, ba->len, 1 << 20);
  fail_unless_equals_int (run.frames->len, n);
  for (i = 0; i < n; i++)
    assert_frame (&run, i, 500 + (i * 37) % 300, i);
  fail_unless_equals_int (run.guesses, 0);
  /* the first frame's prefix and payload, the second's prefix alone, then
   * one read per frame */
  fail_unless_equals_int (run.reads, 3 + (n - 1));
  run_free (&run);
  g_byte_array_unref (ba);
}

GST_END_TEST;

static Suite *
readahead_suite (void)
{
  Suite *s = suite_create ("readahead");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_readahead_frames_policy);
  tcase_add_test (tc, test_readahead_header_changes);
  tcase_add_test (tc, test_readahead_short_reads);
  tcase_add_test (tc, test_readahead_large_frames_prefix_only);
  tcase_add_test (tc, test_readahead_varying_sizes_no_guesses);
  return s;
}

GST_CHECK_MAIN (readahead);
