/* libFuzzer target for one framing, chosen at build time with
 * -DFUZZ_FRAMING=TF_FRAMING_RAW (or _LENGTH, _HEADER, _JPEG), so that each
 * framer gets its own corpus and coverage.
 *
 * The input is four option bytes, then the byte stream a peer sends:
 *
 *   byte 0  bits 0-1  chunking: 0 takes all the framer offers, 1 one byte
 *                     per read, 2 reads of 1 to (byte 3 + 1) bytes, 3 reads
 *                     of 1 to all offered bytes (sizes from a generator
 *                     seeded by bytes 2 and 3)
 *           bit 2     grow payload storage in steps with
 *                     tf_framer_set_buffer_partial() (not jpeg)
 *           bit 3     hand full storage through set_buffer_partial()
 *                     rather than set_buffer()
 *           bits 4-6  length format, modulo 6 (length framing)
 *   byte 1  bits 0-3  max_frame_size, from max_sizes[] below
 *           bit 4     read ahead: hand bytes over with tf_framer_feed()
 *                     from where they were read (the input itself), up
 *                     to 64 bytes more than the framer asked for, as
 *                     tcpframesrc does when it reads several frames at once
 *           bit 5     with bit 4: when a read fits, put it where the
 *                     framer wants it first, and feed it from there
 *   byte 2, 3         raw: frame_size, big-endian (0 is allowed: an error)
 *
 * Each input runs twice: once as above, once as a reference that takes all
 * the framer offers into full storage.  A framer's output must not depend
 * on how the network cut the stream, so both runs must produce the same
 * frames, the same end and the same counters.
 *
 * Every invariant that breaks aborts, so libFuzzer keeps the input:
 *   - WANT_BYTES offers len > 0 bytes of memory that is all writable (ASan's
 *     shadow says so), and for payloads starts at the first unfilled byte
 *     of the storage the harness gave and stays inside it;
 *   - no allocation by the framer exceeds max_frame_size plus 64 KiB (the
 *     slack of one jpeg read, or a header's caps string, whose length field
 *     is 16 bits), and no frame or WANT_BUFFER size exceeds max_frame_size;
 *   - frames are the stream's own bytes, in order, with nothing skipped or
 *     repeated except jpeg's counted skipped bytes; a released jpeg block is
 *     exactly as large as it says and holds SOI..EOI;
 *   - every step makes progress: at most a few polls pass without a byte
 *     consumed or a frame released.
 * ASan catches the rest: reads out of bounds, storage used after it was
 * replaced or released, leaks.
 *
 * TF_FUZZ_VERBOSE=1 in the environment prints what each run did, for
 * reading a crash's input or checking what a seed reaches.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sanitizer/allocator_interface.h>
#include <sanitizer/asan_interface.h>

#include "tf-framer.h"

#ifndef FUZZ_FRAMING
#error "build with -DFUZZ_FRAMING=TF_FRAMING_..."
#endif

#define OPTION_BYTES 4
#define SLACK (64 * 1024)

/* Small limits, so that inputs of a few KiB reach them; the largest keeps
 * the usual case of a limit far above the input. */
static const guint64 max_sizes[16] = {
  1, 2, 3, 4, 5, 8, 16, 23, 24, 25, 100, 1000, 4096, 65535, 65536,
  1024 * 1024,
};

#define CHECK(cond) G_STMT_START {                                      \
  if (G_UNLIKELY (!(cond)))                                             \
    invariant_broken (__LINE__, #cond);                                 \
} G_STMT_END

static void invariant_broken (int line, const char *what) G_GNUC_NORETURN;

static void
invariant_broken (int line, const char *what)
{
  fprintf (stderr, "fuzz_framer: invariant broken at line %d: %s\n", line,
      what);
  abort ();
}

/* --- allocation limit, checked by a sanitizer malloc hook --- */

static gboolean verbose;

static __thread gboolean tracking;
static __thread gsize alloc_limit;

static void
malloc_hook (const volatile void *ptr, size_t size)
{
  if (tracking && size > alloc_limit) {
    fprintf (stderr, "fuzz_framer: the framer allocated %zu bytes, over the "
        "limit of %zu (max_frame_size + 64 KiB)\n", size, alloc_limit);
    abort ();
  }
}

static void
free_hook (const volatile void *ptr)
{
}

/* The framer calls, with the allocation limit armed only around them: the
 * harness' own bookkeeping may allocate as it likes. */
static TfFramer *
framer_new (const TfFramerConfig * config)
{
  TfFramer *f;

  tracking = TRUE;
  f = tf_framer_new (config);
  tracking = FALSE;
  return f;
}

static TfFramerStatus
framer_poll (TfFramer * f, guint8 ** dst, gsize * len)
{
  TfFramerStatus st;

  tracking = TRUE;
  st = tf_framer_poll (f, dst, len);
  tracking = FALSE;
  return st;
}

static void
framer_advance (TfFramer * f, gsize n)
{
  tracking = TRUE;
  tf_framer_advance (f, n);
  tracking = FALSE;
}

static gsize
framer_feed (TfFramer * f, const guint8 * bytes, gsize n)
{
  gsize taken;

  tracking = TRUE;
  taken = tf_framer_feed (f, bytes, n);
  tracking = FALSE;
  return taken;
}

static void
framer_set_storage (TfFramer * f, guint8 * mem, guint64 capacity,
    gboolean via_partial)
{
  tracking = TRUE;
  if (via_partial)
    tf_framer_set_buffer_partial (f, mem, capacity);
  else
    tf_framer_set_buffer (f, mem);
  tracking = FALSE;
}

static gpointer
framer_release (TfFramer * f, gsize * offset, gsize * alloc_size)
{
  gpointer block;

  tracking = TRUE;
  block = tf_framer_release_frame (f, offset, alloc_size);
  tracking = FALSE;
  return block;
}

/* --- one run --- */

typedef struct
{
  const gchar *name;
  guint chunking;
  gboolean grow;
  gboolean via_partial;
  gboolean feed;
  gboolean feed_in_place;
  guint32 rng;
  guint chunk_cap;
} Options;

typedef struct
{
  guint64 size;
  guint64 hash;
  guint64 caps_hash;            /* 0 without caps */
  gboolean has_sequence;
  guint32 sequence;
  guint64 timestamp;
} FrameRecord;

typedef struct
{
  GArray *frames;               /* FrameRecord */
  TfFramerStatus end;           /* WANT_BYTES (input used up) or FAILED */
  gint error_code;
  TfFramerCounters counters;
  gboolean in_frame;
} RunResult;

static guint32
next_random (Options * o)
{
  /* xorshift32: any fixed generator will do, the input picks the seed. */
  o->rng ^= o->rng << 13;
  o->rng ^= o->rng >> 17;
  o->rng ^= o->rng << 5;
  return o->rng;
}

static guint64
hash_bytes (const guint8 * p, gsize n)
{
  guint64 h = G_GUINT64_CONSTANT (0xcbf29ce484222325);
  gsize i;

  for (i = 0; i < n; i++)
    h = (h ^ p[i]) * G_GUINT64_CONSTANT (0x100000001b3);
  return h;
}

static gsize
read_size (Options * o, gsize offered, gsize left)
{
  gsize n;

  switch (o->chunking) {
    case 0:
      n = offered;
      break;
    case 1:
      n = 1;
      break;
    case 2:
      n = 1 + next_random (o) % o->chunk_cap;
      break;
    default:
      n = 1 + next_random (o) % offered;
      break;
  }
  return MIN (MIN (n, offered), left);
}

/* Bytes a frame takes on the wire besides its payload. */
static gsize
frame_overhead (const TfFramerConfig * config, const TfFrameInfo * info)
{
  switch (config->framing) {
    case TF_FRAMING_LENGTH:
      return tf_length_format_width (config->length_format);
    case TF_FRAMING_HEADER:
      return TF_HEADER_SIZE + (info->caps ? strlen (info->caps) : 0);
    default:
      return 0;
  }
}

static void
run_stream (const TfFramerConfig * config, const guint8 * stream, gsize size,
    Options * o, RunResult * out)
{
  gboolean jpeg = config->framing == TF_FRAMING_JPEG;
  TfFramer *f = framer_new (config);
  guint8 *mem = NULL;           /* payload storage of the frame in progress */
  guint64 cap = 0;
  guint64 frame_size = 0;       /* info->size announced by WANT_BUFFER */
  gsize consumed = 0;
  gsize accounted = 0;          /* bytes of released frames, with overhead */
  guint idle = 0;

  CHECK (f != NULL);
  out->frames = g_array_new (FALSE, FALSE, sizeof (FrameRecord));
  out->error_code = -1;

  for (;;) {
    guint8 *dst = NULL;
    gsize len = 0;
    TfFramerStatus st = framer_poll (f, &dst, &len);
    const TfFrameInfo *info = tf_framer_frame_info (f);

    /* Between two consumed bytes or released frames the framer may ask
     * for storage once and then for bytes; anything more is a spin. */
    CHECK (++idle <= 3);

    if (st == TF_FRAMER_WANT_BYTES) {
      gsize n;

      CHECK (dst != NULL);
      CHECK (len > 0);
      CHECK (__asan_region_is_poisoned (dst, len) == NULL);
      if (mem != NULL) {
        /* Payload: the unfilled rest of the storage given, no more. */
        guint64 have = tf_framer_payload_received (f);

        CHECK (dst == mem + have);
        CHECK (have < cap && len <= cap - have);
      }
      if (consumed == size) {
        out->end = st;
        break;
      }
      if (o->feed) {
        gsize taken;

        n = read_size (o, len + next_random (o) % 65, size - consumed);
        if (o->feed_in_place && n <= len) {
          memcpy (dst, stream + consumed, n);
          taken = framer_feed (f, dst, n);
          CHECK (taken == n);
        } else {
          /* Never more than fits before the framer needs storage or has
           * a frame: the accounting at FRAME_READY catches an overrun. */
          taken = framer_feed (f, stream + consumed, n);
          CHECK (taken > 0 && taken <= n);
          if (n <= len)
            CHECK (taken == n);
        }
        consumed += taken;
      } else {
        n = read_size (o, len, size - consumed);
        memcpy (dst, stream + consumed, n);
        consumed += n;
        framer_advance (f, n);
      }
      idle = 0;
    } else if (st == TF_FRAMER_WANT_BUFFER) {
      guint64 have = tf_framer_payload_received (f);
      guint64 next;

      CHECK (!jpeg);
      CHECK (info->size > 0 && info->size <= config->max_frame_size);
      if (config->framing == TF_FRAMING_RAW)
        CHECK (info->size == config->frame_size);
      if (mem == NULL) {
        CHECK (have == 0);
        frame_size = info->size;
      } else {
        /* Growing: same frame, storage full. */
        CHECK (info->size == frame_size);
        CHECK (have == cap && cap < frame_size);
      }

      if (o->grow) {
        next = cap == 0 ? 1 + next_random (o) % 16
            : cap * 2 + next_random (o) % 8;
        next = MIN (next, frame_size);
        /* g_realloc() keeps the bytes received so far but may move them,
         * as a real caller's growth would: a framer still writing to the
         * old storage is caught by ASan. */
        mem = g_realloc (mem, next);
        framer_set_storage (f, mem, next, TRUE);
      } else {
        CHECK (mem == NULL);
        next = frame_size;
        mem = g_malloc (next);
        framer_set_storage (f, mem, next, o->via_partial);
      }
      cap = next;
    } else if (st == TF_FRAMER_FRAME_READY) {
      FrameRecord rec = { 0, };
      gsize offset = G_MAXSIZE, alloc_size = G_MAXSIZE, start;
      const guint8 *frame;
      guint8 *block;

      CHECK (info->size > 0 && info->size <= config->max_frame_size);
      /* A complete frame is not a peer leaving mid-frame. */
      CHECK (!tf_framer_in_frame (f));
      rec.size = info->size;
      rec.caps_hash = info->caps ? 1 + hash_bytes ((const guint8 *) info->caps,
          strlen (info->caps)) : 0;
      rec.has_sequence = info->has_sequence;
      rec.sequence = info->sequence;
      rec.timestamp = info->timestamp;

      if (jpeg) {
        /* Everything before this image's SOI went out in earlier frames
         * or was counted as skipped. */
        start = accounted + tf_framer_get_counters (f)->skipped_bytes;
        CHECK (start <= consumed && info->size <= consumed - start);
        accounted += info->size;
      } else {
        CHECK (mem != NULL && cap == info->size);
        CHECK (tf_framer_payload_received (f) == info->size);
        accounted += frame_overhead (config, info) + info->size;
        CHECK (accounted == consumed);
        start = consumed - info->size;
      }

      /* Callers that read into their own storage may pass NULLs. */
      block = jpeg ? framer_release (f, &offset, &alloc_size)
          : framer_release (f, NULL, NULL);
      if (jpeg) {
        CHECK (block != NULL);
        CHECK (alloc_size == __sanitizer_get_allocated_size (block));
        CHECK (offset <= alloc_size && rec.size <= alloc_size - offset);
        frame = block + offset;
        CHECK (frame[0] == 0xff && frame[1] == 0xd8);
        CHECK (frame[rec.size - 2] == 0xff && frame[rec.size - 1] == 0xd9);
      } else {
        CHECK (block == NULL);
        frame = mem;
      }
      CHECK (memcmp (frame, stream + start, rec.size) == 0);
      rec.hash = hash_bytes (frame, rec.size);
      g_array_append_val (out->frames, rec);
      CHECK (tf_framer_get_counters (f)->frames == out->frames->len);

      /* Freed right away, so a framer that still used it would be caught. */
      g_free (block);
      g_clear_pointer (&mem, g_free);
      cap = 0;
      idle = 0;
    } else {
      const GError *err = tf_framer_get_error (f);

      CHECK (st == TF_FRAMER_FAILED);
      CHECK (err != NULL && err->domain == TF_FRAMER_ERROR);
      CHECK (err->message != NULL && err->message[0] != '\0');
      /* Failed is final. */
      CHECK (framer_poll (f, NULL, NULL) == TF_FRAMER_FAILED);
      CHECK (tf_framer_get_error (f) == err);
      out->end = st;
      out->error_code = err->code;
      break;
    }
  }

  out->counters = *tf_framer_get_counters (f);
  out->in_frame = tf_framer_in_frame (f);
  if (verbose)
    fprintf (stderr, "%s run: %u frames, %s%s, %zu of %zu bytes consumed, "
        "%" G_GUINT64_FORMAT " skipped, %s\n",
        o->name,
        out->frames->len, out->end == TF_FRAMER_FAILED ? "failed: " :
        "input used up", out->end == TF_FRAMER_FAILED ?
        tf_framer_get_error (f)->message : "", consumed, size,
        out->counters.skipped_bytes, out->in_frame ? "in a frame" :
        "between frames");
  if (jpeg) {
    /* Outside an image the framer holds at most a lone FF, which may begin
     * the next SOI. */
    gsize held = consumed - accounted - out->counters.skipped_bytes;

    CHECK (accounted + out->counters.skipped_bytes <= consumed);
    CHECK (out->in_frame ? held > 0 : held <= 1);
  } else {
    CHECK (out->in_frame == (consumed > accounted));
  }

  g_free (mem);
  tf_framer_free (f);
}

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  __sanitizer_install_malloc_and_free_hooks (malloc_hook, free_hook);
  verbose = g_getenv ("TF_FUZZ_VERBOSE") != NULL;
  /* A g_return_if_fail() that trips is a bug too, of the framer or of this
   * harness: make it a crash, not a line in the log. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  TfFramerConfig config = { FUZZ_FRAMING, 0, 0, 0 };
  Options test = { "test", }, reference = { "reference", };
  RunResult a = { 0, }, b = { 0, };
  guint i;

  if (size < OPTION_BYTES)
    return 0;

  config.length_format = ((data[0] >> 4) & 7) % 6;
  config.max_frame_size = max_sizes[data[1] & 15];
  config.frame_size = (data[2] << 8) | data[3];
  alloc_limit = config.max_frame_size + SLACK;

  test.chunking = data[0] & 3;
  test.grow = config.framing != TF_FRAMING_JPEG && (data[0] & 4);
  test.via_partial = (data[0] & 8) != 0;
  test.feed = (data[1] & 16) != 0;
  test.feed_in_place = (data[1] & 32) != 0;
  test.chunk_cap = data[3] + 1;
  /* Never zero, or xorshift would stay at zero. */
  test.rng = 0x9e3779b9u ^ ((guint32) data[2] << 8 | data[3]);

  run_stream (&config, data + OPTION_BYTES, size - OPTION_BYTES, &test, &a);
  run_stream (&config, data + OPTION_BYTES, size - OPTION_BYTES, &reference,
      &b);

  CHECK (a.end == b.end);
  CHECK (a.error_code == b.error_code);
  CHECK (a.frames->len == b.frames->len);
  for (i = 0; i < a.frames->len; i++) {
    const FrameRecord *x = &g_array_index (a.frames, FrameRecord, i);
    const FrameRecord *y = &g_array_index (b.frames, FrameRecord, i);

    CHECK (x->size == y->size && x->hash == y->hash);
    CHECK (x->caps_hash == y->caps_hash);
    CHECK (x->has_sequence == y->has_sequence);
    CHECK (x->sequence == y->sequence && x->timestamp == y->timestamp);
  }
  CHECK (a.counters.frames == b.counters.frames);
  CHECK (a.counters.skipped_bytes == b.counters.skipped_bytes);
  CHECK (a.counters.sequence_gaps == b.counters.sequence_gaps);
  CHECK (a.in_frame == b.in_frame);

  g_array_unref (a.frames);
  g_array_unref (b.frames);
  return 0;
}
