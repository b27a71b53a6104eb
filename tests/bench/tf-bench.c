/* tf-bench: how close tcpframesrc comes to a bare recv() loop.
 *
 * Phases, each printed as a markdown table and recorded as rows of
 * results.csv / results.json:
 *
 *   throughput  flat-out streams at 4 KiB, 300 KiB, 2 MiB and 6 MiB frames
 *               into each receiver, repetitions interleaved; GB/s, frames/s
 *               and CPU s/GB as ratios to the bare loop of the same
 *               repetition
 *               (plus the GStreamer floor: a GstPushSrc with no socket)
 *   check       the same streams with counters on: payload bytes recv()ed
 *               straight into the pushed buffer, syscalls, GstMemory and
 *               heap allocations per frame, buffers from a pool
 *   latency     paced frames, last byte sent to buffer at the sink
 *   replace     a new camera's first frame while the old one is stale
 *   timeout     how late after `timeout` a silent camera is dropped
 *   scale       1, 4 and 16 cameras at 1080p30 into one process
 *   memory      RSS over a long flat-out stream
 *
 * CPU accounting: the receivers run in this process and the senders in
 * tf-bench-send processes, so getrusage(RUSAGE_SELF) over a measurement
 * window is the receiver's CPU (all its threads; the main thread only
 * sleeps meanwhile).  The latency phases send from the main thread, and
 * measure no CPU.
 *
 * Pinning (default with 2 or more CPUs): the senders run on CPU 0 and the
 * receivers on the last CPU, the main thread moving to CPU 0 while it
 * sends.  On loopback much of TCP's work happens in softirq context on
 * whichever CPU is at hand, so without pinning it is charged to sender or
 * receiver by the accident of where the scheduler put them.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* sched_setaffinity */
#endif

#include "bench.h"
#include "bench-report.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <gst/gst.h>

#ifdef HAVE_VALGRIND_CALLGRIND_H
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS_AT(s)
#endif

#define NS 1000000000.0
#define FIRST_FRAME_TIMEOUT_NS (10 * (gint64) 1000000000)

/* Latency: the first frames of a connection include accept, caps
 * negotiation and pool setup, which is not the steady state. */
#define LATENCY_SKIP 3

typedef struct
{
  /* options */
  gboolean smoke;
  guint reps;
  gdouble warm;
  gdouble window;
  gdouble check_window;
  guint lat_reps;
  guint lat_frames;
  guint lat_fps;
  guint replace_n;
  guint timeout_n;
  guint64 timeout_ns;
  guint scale_reps;
  gdouble scale_warm;
  gdouble scale_window;
  gdouble memory_secs;
  gdouble memory_warm;
  gdouble memory_interval;
  gchar *out_dir;
  gchar *sender;

  GPtrArray *sizes;             /* const TfbSize* */
  GArray *rx;                   /* TfbRxKind */
  GHashTable *phases;           /* names to run */

  gint rx_cpu;                  /* -1: not pinned */
  gint tx_cpu;

  TfbReport *report;
  guint failures;
  gint64 phase_start;
} Bench;

/* ---- plumbing ---- */

/* Pins the calling thread; threads it creates later inherit it. */
static void
pin_thread (gint cpu)
{
  cpu_set_t set;

  if (cpu < 0)
    return;
  CPU_ZERO (&set);
  CPU_SET (cpu, &set);
  if (sched_setaffinity (0, sizeof (set), &set) < 0)
    g_printerr ("tf-bench: cannot pin to CPU %d: %s\n", cpu,
        g_strerror (errno));
}

/* Runs in the forked sender before exec. */
static void
pin_sender (gpointer user_data)
{
  pin_thread (GPOINTER_TO_INT (user_data));
}

static TfbSummary
one_value (gdouble v, guint n)
{
  TfbSummary s = { v, v, v, n };

  return s;
}

static TfbSummary
no_value (void)
{
  return one_value (NAN, 0);
}

static gdouble
cpu_seconds (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6
      + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static glong
minor_faults (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_minflt;
}

static void
sleep_s (gdouble s)
{
  tfb_sleep_until (tfb_now_ns () + (gint64) (s * NS));
}

static GPid
spawn_sender (Bench * b, const gchar * ports, TfbWire wire,
    const TfbSize * size, guint fps, gdouble duration, GError ** error)
{
  gchar *fps_s = g_strdup_printf ("%u", fps);
  gchar dur_s[G_ASCII_DTOSTR_BUF_SIZE];
  const gchar *argv[] = { b->sender, "--port", ports, "--wire",
    tfb_wire_name (wire), "--size", size->name, "--fps", fps_s,
    "--duration", g_ascii_dtostr (dur_s, sizeof (dur_s), duration), NULL
  };
  GPid pid = 0;

  /* Not reaped by GLib: reap_sender() waits for it. */
  if (!g_spawn_async (NULL, (gchar **) argv, NULL,
          G_SPAWN_DO_NOT_REAP_CHILD, pin_sender,
          GINT_TO_POINTER (b->tx_cpu), &pid, error))
    pid = 0;
  g_free (fps_s);
  return pid;
}

/* The sender ends when its receiver goes away; give it a moment, then
 * make sure. */
static void
reap_sender (GPid pid)
{
  gint64 deadline = tfb_now_ns () + 3 * (gint64) 1000000000;
  int status;

  if (pid <= 0)
    return;
  while (waitpid (pid, &status, WNOHANG) == 0) {
    if (tfb_now_ns () > deadline) {
      kill (pid, SIGKILL);
      waitpid (pid, &status, 0);
      break;
    }
    g_usleep (2000);
  }
  g_spawn_close_pid (pid);
}

static gboolean
wait_streaming (TfbRx * rx, guint64 frames, gint64 deadline)
{
  TfbRxCounts c;

  for (;;) {
    tfb_rx_counts (rx, &c);
    if (c.min_stream_frames >= frames)
      return TRUE;
    if (tfb_now_ns () > deadline)
      return FALSE;
    g_usleep (1000);
  }
}

static gchar *
ports_of (TfbRx * rx, guint n)
{
  GString *s = g_string_new (NULL);
  guint i;

  for (i = 0; i < n; i++)
    g_string_append_printf (s, "%s%u", i ? "," : "", tfb_rx_port (rx, i));
  return g_string_free (s, FALSE);
}

static void
fail (Bench * b, const gchar * what, const gchar * why)
{
  b->failures++;
  g_printerr ("tf-bench: %s: %s\n", what, why);
}

static gboolean
is_floor (TfbRxKind k)
{
  return k == TFB_RX_FLOOR || k == TFB_RX_FLOOR_LIST;
}

/* A stream from tf-bench-send into one receiver, measured over a window
 * after a warm-up. */
typedef struct
{
  gboolean ok;
  gdouble secs;
  gdouble frames;
  gdouble bytes;
  gdouble cpu;
  TfbRxCounts c0, c1;
  TfbIoCounts io0, io1;
  guint64 alloc0, alloc1;
} Window;

static gboolean
measure (Bench * b, const TfbRxConfig * cfg, guint fps, gdouble warm,
    gdouble window, Window * w)
{
  gchar *what = g_strdup_printf ("%s %s x%u", tfb_rx_name (cfg->kind),
      cfg->size->name, MAX (cfg->n_streams, 1));
  GError *err = NULL;
  TfbRx *rx;
  GPid pid;
  gchar *ports;
  gint64 t0, t1;
  gdouble cpu0;

  memset (w, 0, sizeof (*w));
  rx = tfb_rx_start (cfg, &err);
  if (!rx) {
    fail (b, what, err->message);
    g_error_free (err);
    g_free (what);
    return FALSE;
  }
  ports = ports_of (rx, MAX (cfg->n_streams, 1));
  /* The floor has no socket and needs no sender. */
  pid = is_floor (cfg->kind) ? -1 : spawn_sender (b, ports,
      tfb_rx_wire (cfg->kind), cfg->size, fps, warm + window + 30, &err);
  g_free (ports);
  if (!pid) {
    fail (b, what, err->message);
    g_error_free (err);
    goto out;
  }
  if (!wait_streaming (rx, 1, tfb_now_ns () + FIRST_FRAME_TIMEOUT_NS)) {
    gchar *why = tfb_rx_take_error (rx);

    fail (b, what, why ? why : "no frame arrived within 10 s");
    g_free (why);
    goto out;
  }
  sleep_s (warm);

  t0 = tfb_now_ns ();
  cpu0 = cpu_seconds ();
  tfb_rx_counts (rx, &w->c0);
  tfb_io_counts (&w->io0);
  w->alloc0 = tfb_alloc_count ();

  sleep_s (window);
  /* A machine busy elsewhere can stall a short window completely; a
   * longer one is still a valid measurement, an empty one is not. */
  while (tfb_now_ns () < t0 + 5 * (gint64) NS) {
    TfbRxCounts c;

    tfb_rx_counts (rx, &c);
    if (c.frames > w->c0.frames)
      break;
    sleep_s (0.01);
  }

  t1 = tfb_now_ns ();
  w->cpu = cpu_seconds () - cpu0;
  tfb_rx_counts (rx, &w->c1);
  tfb_io_counts (&w->io1);
  w->alloc1 = tfb_alloc_count ();

  w->secs = (t1 - t0) / NS;
  w->frames = w->c1.frames - w->c0.frames;
  w->bytes = w->c1.bytes - w->c0.bytes;
  w->ok = w->frames > 0;
  if (!w->ok)
    fail (b, what, "no frame in the measurement window");

out:
  tfb_rx_stop (rx);
  reap_sender (pid);
  g_free (what);
  return w->ok;
}

/* Progress on stderr, so a slow phase shows where a run's time went. */
static void
phase_done (Bench * b, const gchar * name)
{
  gint64 now = tfb_now_ns ();

  g_printerr ("tf-bench: %s took %.1f s\n", name, (now - b->phase_start) / NS);
  b->phase_start = now;
}

static gboolean
phase_on (Bench * b, const gchar * name)
{
  return g_hash_table_contains (b->phases, name);
}

static gboolean
rx_selected (Bench * b, TfbRxKind kind)
{
  guint i;

  for (i = 0; i < b->rx->len; i++) {
    if (g_array_index (b->rx, TfbRxKind, i) == kind)
      return TRUE;
  }
  return FALSE;
}

static gboolean
is_tf (TfbRxKind k)
{
  return k == TFB_RX_TF_RAW || k == TFB_RX_TF_HEADER || k == TFB_RX_TF_LENGTH;
}

/* ---- throughput ---- */

typedef struct
{
  gboolean ok;
  gdouble gbps;
  gdouble fps;
  gdouble cpu_per_gb;
  gdouble load;                 /* CPU seconds per second */
} Tput;

typedef struct
{
  /* [size][rx][rep] */
  Tput *t;
  guint n_sizes;
  guint reps;
} TputResults;

static Tput *
tput_at (TputResults * r, guint size, TfbRxKind rx, guint rep)
{
  return &r->t[(size * TFB_N_RX + rx) * r->reps + rep];
}

/* Per repetition: rx's figure over the baseline's of the same repetition,
 * so drift of the machine between repetitions cancels out. */
static TfbSummary
tput_ratio (TputResults * r, guint size, TfbRxKind rx, TfbRxKind base,
    gboolean cpu)
{
  gdouble *v = g_new (gdouble, r->reps);
  TfbSummary s;
  guint rep;

  for (rep = 0; rep < r->reps; rep++) {
    Tput *a = tput_at (r, size, rx, rep), *o = tput_at (r, size, base, rep);

    v[rep] = (a->ok && o->ok) ? (cpu ? a->cpu_per_gb / o->cpu_per_gb :
        a->gbps / o->gbps) : NAN;
  }
  s = tfb_summarize (v, r->reps);
  g_free (v);
  return s;
}

/* The least CPU per GB any GstPushSrc pushing one buffer per frame can
 * spend, relative to the bare loop: the bare loop's own plus the
 * GStreamer floor's, per repetition. */
static TfbSummary
tput_floor_bound (TputResults * r, guint size)
{
  gdouble *v = g_new (gdouble, r->reps);
  TfbSummary s;
  guint rep;

  for (rep = 0; rep < r->reps; rep++) {
    Tput *bare = tput_at (r, size, TFB_RX_BARE, rep);
    Tput *fl = tput_at (r, size, TFB_RX_FLOOR, rep);

    v[rep] = (bare->ok && fl->ok) ? 1 + fl->cpu_per_gb / bare->cpu_per_gb : NAN;
  }
  s = tfb_summarize (v, r->reps);
  g_free (v);
  return s;
}

static TfbSummary
tput_field (TputResults * r, guint size, TfbRxKind rx, gsize offset)
{
  gdouble *v = g_new (gdouble, r->reps);
  TfbSummary s;
  guint rep;

  for (rep = 0; rep < r->reps; rep++) {
    Tput *a = tput_at (r, size, rx, rep);

    v[rep] = a->ok ? G_STRUCT_MEMBER (gdouble, a, offset) : NAN;
  }
  s = tfb_summarize (v, r->reps);
  g_free (v);
  return s;
}

static void
phase_throughput (Bench * b, TputResults * res)
{
  GString *md = tfb_report_md (b->report);
  guint rep, si, i;

  res->n_sizes = b->sizes->len;
  res->reps = b->reps;
  res->t = g_new0 (Tput, res->n_sizes * TFB_N_RX * res->reps);

  g_printerr ("tf-bench: throughput, %u repetition(s) of %u receivers x %u "
      "sizes, %.2f s each\n", b->reps, b->rx->len, b->sizes->len, b->window);
  for (rep = 0; rep < b->reps; rep++) {
    for (si = 0; si < b->sizes->len; si++) {
      const TfbSize *size = g_ptr_array_index (b->sizes, si);

      /* The order rotates with the repetition, so no receiver always
       * runs first (or right after a given other one). */
      for (i = 0; i < b->rx->len; i++) {
        TfbRxKind kind = g_array_index (b->rx, TfbRxKind,
            (i + rep) % b->rx->len);
        TfbRxConfig cfg = { kind, size, 1, 0, 0, FALSE };
        Tput *t = tput_at (res, si, kind, rep);
        Window w;

        if (!measure (b, &cfg, 0, b->warm, b->window, &w))
          continue;
        t->ok = TRUE;
        t->gbps = w.bytes / w.secs / 1e9;
        t->fps = w.frames / w.secs;
        t->cpu_per_gb = w.cpu / (w.bytes / 1e9);
        t->load = w.cpu / w.secs;
      }
    }
    g_printerr ("tf-bench: throughput repetition %u/%u done\n", rep + 1,
        b->reps);
  }

  g_string_append_printf (md, "### Throughput\n\nFlat-out stream from "
      "tf-bench-send, one connection; median [min, max] of %u "
      "repetition(s) of %.1f s. Ratios are taken per repetition against the "
      "bare loop of the same repetition. CPU is the receiving process's "
      "(getrusage), per GB received; load is CPU seconds per second. The "
      "GStreamer floor is tfbnullsrc ! fakesink: a live GstPushSrc that only "
      "takes a pooled buffer, maps it and pushes it, as tcpframesrc does "
      "around its reads; no socket, no sender.\n\n"
      "| frame | receiver | GB/s | frames/s | GB/s and frames/s vs bare | "
      "CPU s/GB | CPU/GB vs bare | load |\n|---|---|---|---|---|---|---|---|\n",
      b->reps, b->window);
  for (si = 0; si < b->sizes->len; si++) {
    const TfbSize *size = g_ptr_array_index (b->sizes, si);

    for (i = 0; i < b->rx->len; i++) {
      TfbRxKind kind = g_array_index (b->rx, TfbRxKind, i);
      TfbSummary gbps = tput_field (res, si, kind, G_STRUCT_OFFSET (Tput,
              gbps));
      TfbSummary fps = tput_field (res, si, kind, G_STRUCT_OFFSET (Tput,
              fps));
      TfbSummary cpu = tput_field (res, si, kind, G_STRUCT_OFFSET (Tput,
              cpu_per_gb));
      TfbSummary load = tput_field (res, si, kind, G_STRUCT_OFFSET (Tput,
              load));
      TfbSummary rg = tput_ratio (res, si, kind, TFB_RX_BARE, FALSE);
      TfbSummary rc = tput_ratio (res, si, kind, TFB_RX_BARE, TRUE);
      gchar *s_rg = tfb_fmt_ratio (rg), *s_rc = tfb_fmt_ratio (rc);
      gchar *s_g = tfb_fmt_range (gbps, 2), *s_c = tfb_fmt_range (cpu, 3);
      const gchar *rxn = tfb_rx_name (kind);

      g_string_append_printf (md, "| %s | %s | %s | %.0f | %s | %s | %s | "
          "%.2f |\n", size->label, tfb_rx_label (kind), s_g, fps.median,
          s_rg, s_c, s_rc, load.median);
      tfb_report_row (b->report, "throughput", size->name, rxn, "gbps",
          "GB/s", gbps);
      tfb_report_row (b->report, "throughput", size->name, rxn, "fps",
          "frames/s", fps);
      tfb_report_row (b->report, "throughput", size->name, rxn,
          "cpu_per_gb", "s/GB", cpu);
      tfb_report_row (b->report, "throughput", size->name, rxn, "load",
          "cpu s/s", load);
      tfb_report_row (b->report, "throughput", size->name, rxn,
          "gbps_vs_bare", "ratio", rg);
      tfb_report_row (b->report, "throughput", size->name, rxn,
          "cpu_per_gb_vs_bare", "ratio", rc);
      if (kind == TFB_RX_FLOOR)
        tfb_report_row (b->report, "throughput", size->name, rxn,
            "bare_plus_floor_cpu_vs_bare", "ratio", tput_floor_bound (res, si));
      if (is_tf (kind)) {
        TfbSummary rt = tput_ratio (res, si, kind, TFB_RX_TCPSERVERSRC,
            FALSE);

        tfb_report_row (b->report, "throughput", size->name, rxn,
            "gbps_vs_tcpserversrc", "ratio", rt);
      }
      g_free (s_rg);
      g_free (s_rc);
      g_free (s_g);
      g_free (s_c);
    }
  }
  g_string_append_c (md, '\n');
}

/* ---- copy and allocation check ---- */

typedef struct
{
  gboolean ok;
  gdouble direct;               /* fraction of payload bytes */
  gdouble allocs_per_frame;     /* GstMemory */
  gdouble heap_per_frame;       /* malloc() family + g_slice */
  gdouble pooled;               /* fraction of frames */
} Check;

/* One stream with every counter on; fps 0 is flat out. */
static void
check_one (Bench * b, TfbRxKind kind, const TfbSize * size, guint fps,
    gdouble window, Check * c)
{
  TfbRxConfig cfg = { kind, size, 1, 0, 0, TRUE };
  const gchar *rxn = tfb_rx_name (kind);
  gchar *kase = fps ? g_strdup_printf ("%s@%u", size->name, fps) :
      g_strdup (size->name);
  gchar *label = fps ? g_strdup_printf ("%s at %u fps", size->label, fps) :
      g_strdup (size->label);
  gdouble frames, checked, recvs, eagain, polls, mallocs, slices, payload;
  Window w;

  memset (c, 0, sizeof (*c));
  if (!measure (b, &cfg, fps, fps ? (b->smoke ? 0.1 : 0.3) : b->warm, window,
          &w))
    goto out;
  frames = w.frames;
  checked = w.c1.checked_frames - w.c0.checked_frames;
  payload = checked * tfb_size_bytes (size);
  recvs = w.io1.recv_calls - w.io0.recv_calls;
  eagain = w.io1.recv_would_block - w.io0.recv_would_block;
  polls = w.io1.poll_calls - w.io0.poll_calls;
  mallocs = w.io1.mallocs - w.io0.mallocs;
  slices = w.io1.slices - w.io0.slices;
  c->ok = TRUE;
  c->direct = (w.c1.direct_bytes - w.c0.direct_bytes) / payload;
  c->allocs_per_frame = (w.alloc1 - w.alloc0) / frames;
  c->heap_per_frame = (mallocs + slices) / frames;
  c->pooled = (w.c1.pooled_frames - w.c0.pooled_frames) / checked;

  g_string_append_printf (tfb_report_md (b->report), "| %s | %s | %.1f%% | "
      "%.2f | %.2f | %.2f | %.3f | %.3f | %.3f | %s | %u / %" G_GUINT64_FORMAT
      " |\n", label, tfb_rx_label (kind), 100 * c->direct, recvs / frames,
      eagain / frames, polls / frames, c->allocs_per_frame, mallocs / frames,
      slices / frames, kind == TFB_RX_BARE ? "n/a (one buffer)" :
      (c->pooled > 0.999 ? "100%" : c->pooled < 0.001 ? "0%" : "partly"),
      w.c1.distinct_memories, w.c1.checked_frames);
  tfb_report_value (b->report, "check", kase, rxn, "direct", "fraction",
      c->direct);
  tfb_report_value (b->report, "check", kase, rxn, "recv_per_frame", "calls",
      recvs / frames);
  tfb_report_value (b->report, "check", kase, rxn, "eagain_per_frame",
      "calls", eagain / frames);
  tfb_report_value (b->report, "check", kase, rxn, "poll_per_frame", "calls",
      polls / frames);
  tfb_report_value (b->report, "check", kase, rxn, "gstmemory_per_frame",
      "allocations", c->allocs_per_frame);
  tfb_report_value (b->report, "check", kase, rxn, "malloc_per_frame",
      "allocations", mallocs / frames);
  tfb_report_value (b->report, "check", kase, rxn, "slice_per_frame",
      "allocations", slices / frames);
  tfb_report_value (b->report, "check", kase, rxn, "pooled", "fraction",
      c->pooled);
  tfb_report_value (b->report, "check", kase, rxn, "distinct_memories",
      "count", w.c1.distinct_memories);
out:
  g_free (kase);
  g_free (label);
}

/* checks: [size][kind] flat out, then [kind] at 30 fps, 2 MiB */
static void
phase_check (Bench * b, Check * checks, Check * paced)
{
  GString *md = tfb_report_md (b->report);
  const TfbSize *cam = tfb_size_lookup ("2m");
  guint si, i;

  g_printerr ("tf-bench: copy and allocation check\n");
  g_string_append_printf (md, "### Copies, syscalls and allocations\n\n"
      "The same streams with counters on (%.1f s each), flat out and at a "
      "camera's 30 fps. *Straight into the buffer*: payload bytes that "
      "recv() wrote directly into the memory of the buffer that reached the "
      "sink (tf-bench interposes recv(), recvmsg() and poll()); 100%% means "
      "no intermediate copy. Per frame in the steady state: *GstMemory* "
      "allocations (a counting default allocator), *malloc* (malloc, "
      "calloc, realloc) and *g_slice* allocations anywhere in the process "
      "(interposed too; g_slice only when called from outside GLib). "
      "*Pooled*: buffers at the sink that came from a buffer pool. "
      "*Memories*: distinct payload addresses over the whole run.\n\n"
      "| frame | receiver | straight into the buffer | recv/frame | "
      "EAGAIN/frame | poll/frame | GstMemory/frame | malloc/frame | "
      "g_slice/frame | pooled | memories / frames |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|\n", b->check_window);

  tfb_alloc_count_install (TRUE);
  tfb_io_enable (TRUE);
  for (si = 0; si < b->sizes->len; si++) {
    const TfbSize *size = g_ptr_array_index (b->sizes, si);

    for (i = 0; i < b->rx->len; i++) {
      TfbRxKind kind = g_array_index (b->rx, TfbRxKind, i);

      if (!is_floor (kind))
        check_one (b, kind, size, 0, b->check_window,
            &checks[si * TFB_N_RX + kind]);
    }
  }
  /* At camera rates the receiver is idle between frames: every frame
   * starts with a wait, which flat out hardly ever happens. */
  for (i = 0; i < b->rx->len; i++) {
    TfbRxKind kind = g_array_index (b->rx, TfbRxKind, i);

    if (!is_floor (kind) && kind != TFB_RX_TCPSERVERSRC)
      check_one (b, kind, cam, 30, b->smoke ? 0.2 : 2.0, &paced[kind]);
  }
  tfb_io_enable (FALSE);
  tfb_alloc_count_install (FALSE);
  g_string_append_c (md, '\n');
}

/* ---- latency ---- */

/* One connection, lat_frames paced frames; appends the latencies (us) of
 * all but the first LATENCY_SKIP to lat. */
static void
latency_run (Bench * b, TfbRxKind kind, const TfbSize * size, GArray * lat)
{
  TfbRxConfig cfg = { kind, size, 1, 0, b->lat_frames, FALSE };
  gchar *what = g_strdup_printf ("latency %s %s", tfb_rx_name (kind),
      size->name);
  GError *err = NULL;
  TfbRx *rx;
  TfbFrames *fr;
  gint64 *sent, t0;
  guint k, got = 0;
  gint fd;

  rx = tfb_rx_start (&cfg, &err);
  if (!rx) {
    fail (b, what, err->message);
    g_error_free (err);
    g_free (what);
    return;
  }
  fd = tfb_connect (tfb_rx_port (rx, 0), &err);
  if (fd < 0) {
    fail (b, what, err->message);
    g_error_free (err);
    tfb_rx_stop (rx);
    g_free (what);
    return;
  }
  fr = tfb_frames_new (tfb_rx_wire (kind), size, 0);
  sent = g_new0 (gint64, b->lat_frames);
  /* The receiver's threads exist now: send from the senders' CPU. */
  pin_thread (b->tx_cpu);
  t0 = tfb_now_ns () + 20 * 1000000;
  for (k = 0; k < b->lat_frames; k++) {
    tfb_sleep_until (t0 + (gint64) (k * NS / b->lat_fps));
    if (!tfb_send_frame (fd, fr, k, k == 0, &err)) {
      fail (b, what, err->message);
      g_clear_error (&err);
      break;
    }
    sent[k] = tfb_now_ns ();
  }
  if (k > 0)
    tfb_rx_wait_seq (rx, k - 1, tfb_now_ns () + 2 * (gint64) NS);
  for (k = LATENCY_SKIP; k < b->lat_frames; k++) {
    gint64 arr = sent[k] ? tfb_rx_wait_seq (rx, k, 0) : 0;

    if (arr) {
      gdouble us = (arr - sent[k]) / 1e3;

      g_array_append_val (lat, us);
      got++;
    }
  }
  close (fd);
  tfb_rx_stop (rx);
  pin_thread (b->rx_cpu);
  if (got == 0)
    fail (b, what, "no frame arrived");
  tfb_frames_free (fr);
  g_free (sent);
  g_free (what);
}

static void
phase_latency (Bench * b)
{
  GString *md = tfb_report_md (b->report);
  GArray **lat = g_new0 (GArray *, b->sizes->len * TFB_N_RX);
  guint si, i, rep;

  g_printerr ("tf-bench: latency, %u repetition(s) of %u frames at %u fps "
      "per case\n", b->lat_reps, b->lat_frames, b->lat_fps);
  for (i = 0; i < b->sizes->len * TFB_N_RX; i++)
    lat[i] = g_array_new (FALSE, FALSE, sizeof (gdouble));
  for (rep = 0; rep < b->lat_reps; rep++) {
    for (si = 0; si < b->sizes->len; si++) {
      for (i = 0; i < b->rx->len; i++) {
        TfbRxKind kind = g_array_index (b->rx, TfbRxKind,
            (i + rep) % b->rx->len);

        if (!is_floor (kind))
          latency_run (b, kind, g_ptr_array_index (b->sizes, si),
              lat[si * TFB_N_RX + kind]);
      }
    }
  }

  g_string_append_printf (md, "### Latency\n\n%u repetition(s) of %u "
      "frames at %u fps per case, interleaved (the first %u of each "
      "connection skipped), sent from tf-bench's main thread: from send() "
      "of a frame's last byte returning to the buffer reaching the sink "
      "(the bare loop: completing the frame), both on CLOCK_MONOTONIC. "
      "Sub-10 us differences are within the resolution: the receiver may "
      "finish before the sending thread is back from send().\n\n"
      "| frame | receiver | p50 us | p99 us | max us | frames |\n"
      "|---|---|---|---|---|---|\n", b->lat_reps, b->lat_frames, b->lat_fps,
      LATENCY_SKIP);
  for (si = 0; si < b->sizes->len; si++) {
    const TfbSize *size = g_ptr_array_index (b->sizes, si);

    for (i = 0; i < b->rx->len; i++) {
      TfbRxKind kind = g_array_index (b->rx, TfbRxKind, i);
      GArray *a = lat[si * TFB_N_RX + kind];
      const gchar *rxn = tfb_rx_name (kind);
      gdouble *v = (gdouble *) a->data, p50, p99, max;
      TfbSummary s50, s99;

      if (a->len == 0)
        continue;
      p50 = tfb_percentile (v, a->len, 0.5);
      p99 = tfb_percentile (v, a->len, 0.99);
      max = v[a->len - 1];
      s50 = one_value (p50, a->len);
      s99 = one_value (p99, a->len);
      g_string_append_printf (md, "| %s | %s | %.0f | %.0f | %.0f | %u |\n",
          size->label, tfb_rx_label (kind), p50, p99, max, a->len);
      tfb_report_row (b->report, "latency", size->name, rxn, "p50", "us", s50);
      tfb_report_row (b->report, "latency", size->name, rxn, "p99", "us", s99);
      tfb_report_value (b->report, "latency", size->name, rxn, "max", "us",
          max);
    }
  }
  g_string_append_c (md, '\n');
  for (i = 0; i < b->sizes->len * TFB_N_RX; i++)
    g_array_free (lat[i], TRUE);
  g_free (lat);
}

/* ---- replacement ---- */

typedef struct
{
  gboolean ok;
  gdouble p50, p99, max;        /* ms */
} Replace;

/* The camera "reboots": its old connection stays open and silent (stale,
 * well inside the 10 s timeout) and a new one sends a frame.  Measured:
 * send() of that frame's last byte returning to the frame at the sink.
 * The bare loop does the same with accept() and a blocking read of the
 * frame, which is what the machine allows. */
static void
run_replace (Bench * b, TfbRxKind kind, Replace * out)
{
  const TfbSize *size = tfb_size_lookup ("2m");
  TfbWire wire = tfb_rx_wire (kind);
  TfbRxConfig cfg = { kind, size, 1, 10 * (guint64) 1000000000,
    b->replace_n + 1, FALSE, TRUE
  };
  gchar *what = g_strdup_printf ("replace %s", tfb_rx_name (kind));
  GError *err = NULL;
  TfbRx *rx;
  TfbFrames *fr = NULL;
  gdouble *lat = g_new0 (gdouble, b->replace_n);
  guint n = 0, i;
  gint prev = -1, fd;
  glong faults = 0;

  memset (out, 0, sizeof (*out));
  rx = tfb_rx_start (&cfg, &err);
  if (!rx) {
    fail (b, what, err->message);
    g_error_free (err);
    goto done;
  }
  fr = tfb_frames_new (wire, size, 0);
  pin_thread (b->tx_cpu);
  prev = tfb_connect (tfb_rx_port (rx, 0), &err);
  if (prev < 0 || !tfb_send_frame (prev, fr, 0, TRUE, &err)
      || !tfb_rx_wait_seq (rx, 0, tfb_now_ns () + 3 * (gint64) NS)) {
    fail (b, what, err ? err->message : "the first camera's frame is lost");
    g_clear_error (&err);
    goto stop;
  }
  faults = minor_faults ();
  for (i = 1; i <= b->replace_n; i++) {
    gint64 sent, arr;

    /* Let the element settle into waiting on the silent peer. */
    sleep_s (0.02);
    fd = tfb_connect (tfb_rx_port (rx, 0), &err);
    if (fd < 0 || !tfb_send_frame (fd, fr, i, TRUE, &err)) {
      fail (b, what, err->message);
      g_clear_error (&err);
      if (fd >= 0)
        close (fd);
      break;
    }
    sent = tfb_now_ns ();
    arr = tfb_rx_wait_seq (rx, i, sent + 3 * (gint64) NS);
    if (arr)
      lat[n++] = (arr - sent) / 1e6;
    close (prev);
    prev = fd;
  }
  /* Page faults of the whole process per replacement: fresh memory for a
   * new peer's first frame shows here (the sending thread faults none). */
  faults = minor_faults () - faults;
  if (n > 0) {
    out->ok = TRUE;
    out->p50 = tfb_percentile (lat, n, 0.5);
    out->p99 = tfb_percentile (lat, n, 0.99);
    out->max = lat[n - 1];
    {
      TfbSummary s50 = one_value (out->p50, n);
      TfbSummary s99 = one_value (out->p99, n);
      gchar *repl = g_strdup_printf ("%" G_GUINT64_FORMAT,
          tfb_rx_stat (rx, "replacements"));

      tfb_report_row (b->report, "replace", "2m", tfb_rx_name (kind), "p50",
          "ms", s50);
      tfb_report_row (b->report, "replace", "2m", tfb_rx_name (kind), "p99",
          "ms", s99);
      tfb_report_value (b->report, "replace", "2m", tfb_rx_name (kind), "max",
          "ms", out->max);
      tfb_report_value (b->report, "replace", "2m", tfb_rx_name (kind),
          "minor_faults_per_replacement", "faults", (gdouble) faults / n);
      g_string_append_printf (tfb_report_md (b->report), "| %s | %.2f | "
          "%.2f | %.2f | %u of %u | %s | %.0f |\n", tfb_rx_label (kind),
          out->p50, out->p99, out->max, n, b->replace_n, repl,
          (gdouble) faults / n);
      g_free (repl);
    }
  } else {
    fail (b, what, "no replacement frame arrived");
  }
stop:
  if (prev >= 0)
    close (prev);
  tfb_rx_stop (rx);
  pin_thread (b->rx_cpu);
  tfb_frames_free (fr);
done:
  g_free (lat);
  g_free (what);
}

/* ---- timeout accuracy ---- */

typedef struct
{
  gboolean ok;
  gdouble min, p50, max;        /* ms after the timeout */
  guint n, wrong_reason;
} Timeout;

/* A camera sends three frames and falls silent.  Measured: when the
 * tcpframesrc-disconnected message is posted, minus (send() of the last
 * frame's last byte + timeout). */
static void
phase_timeout (Bench * b, Timeout * out)
{
  const TfbSize *size = tfb_size_lookup ("4k");
  TfbRxConfig cfg = { TFB_RX_TF_HEADER, size, 1, b->timeout_ns,
    3 * b->timeout_n, FALSE
  };
  GString *md = tfb_report_md (b->report);
  GError *err = NULL;
  TfbRx *rx;
  TfbFrames *fr;
  gdouble *late = g_new0 (gdouble, b->timeout_n);
  guint i, seq = 0;

  memset (out, 0, sizeof (*out));
  g_printerr ("tf-bench: timeout accuracy, %u trials\n", b->timeout_n);
  rx = tfb_rx_start (&cfg, &err);
  if (!rx) {
    fail (b, "timeout", err->message);
    g_error_free (err);
    g_free (late);
    return;
  }
  fr = tfb_frames_new (TFB_WIRE_HEADER, size, 0);
  pin_thread (b->tx_cpu);
  for (i = 0; i < b->timeout_n; i++) {
    gint64 last = 0, posted;
    gchar *reason = NULL;
    guint k;
    gint fd = tfb_connect (tfb_rx_port (rx, 0), &err);

    if (fd < 0) {
      fail (b, "timeout", err->message);
      g_clear_error (&err);
      break;
    }
    for (k = 0; k < 3; k++, seq++) {
      if (k)
        sleep_s (0.01);
      if (!tfb_send_frame (fd, fr, seq, k == 0, &err))
        break;
      last = tfb_now_ns ();
    }
    g_clear_error (&err);
    posted = tfb_rx_wait_disconnect (rx, last + b->timeout_ns +
        2 * (gint64) NS, &reason);
    if (posted) {
      late[out->n++] = (posted - last - (gint64) b->timeout_ns) / 1e6;
      if (g_strcmp0 (reason, "timeout") != 0)
        out->wrong_reason++;
    } else {
      fail (b, "timeout", "no disconnect within timeout + 2 s");
    }
    g_free (reason);
    close (fd);
  }
  tfb_rx_stop (rx);
  pin_thread (b->rx_cpu);
  tfb_frames_free (fr);

  if (out->n > 0) {
    TfbSummary s = tfb_summarize (late, out->n);

    out->ok = TRUE;
    out->min = s.min;
    out->p50 = s.median;
    out->max = s.max;
    tfb_report_row (b->report, "timeout", "250ms", "tf-header",
        "late_after_timeout", "ms", s);
    g_string_append_printf (md, "### Timeout accuracy\n\ntimeout=%.0f ms, "
        "a camera sends 3 frames and goes silent; %u trial(s). Time from "
        "send() of its last byte + timeout to the tcpframesrc-disconnected "
        "message being posted.\n\n| trials | min ms | median ms | max ms | "
        "reason |\n|---|---|---|---|---|\n| %u | %.2f | %.2f | %.2f | %s |\n\n",
        b->timeout_ns / 1e6, out->n, out->n, out->min, out->p50, out->max,
        out->wrong_reason ? "NOT always timeout" : "timeout");
  }
  g_free (late);
}

/* ---- scale ---- */

static const guint scale_cameras[] = { 1, 4, 16 };

static void
phase_scale (Bench * b, TfbSummary * tf_vs_bare)
{
  const TfbSize *size = tfb_size_lookup ("2m");
  const TfbRxKind kinds[] = { TFB_RX_BARE, TFB_RX_TF_HEADER };
  GString *md = tfb_report_md (b->report);
  guint nc = G_N_ELEMENTS (scale_cameras), nk = G_N_ELEMENTS (kinds);
  /* [camera count][kind][rep] */
  gdouble *load = g_new (gdouble, nc * nk * b->scale_reps);
  gdouble *fps = g_new (gdouble, nc * nk * b->scale_reps);
  gdouble *us = g_new (gdouble, nc * nk * b->scale_reps);
  guint rep, ci, ki;

#define AT(c, k, r) (((c) * nk + (k)) * b->scale_reps + (r))
  g_printerr ("tf-bench: scale, 1/4/16 cameras at 1080p30, %u "
      "repetition(s)\n", b->scale_reps);
  for (rep = 0; rep < b->scale_reps; rep++) {
    for (ci = 0; ci < nc; ci++) {
      for (ki = 0; ki < nk; ki++) {
        guint k = (ki + rep) % nk;
        TfbRxConfig cfg = { kinds[k], size, scale_cameras[ci], 0, 0, FALSE };
        Window w;
        guint idx = AT (ci, k, rep);

        load[idx] = fps[idx] = us[idx] = NAN;
        if (!measure (b, &cfg, 30, b->scale_warm, b->scale_window, &w))
          continue;
        load[idx] = w.cpu / w.secs / scale_cameras[ci];
        fps[idx] = w.frames / w.secs / scale_cameras[ci];
        us[idx] = w.cpu / w.frames * 1e6;
      }
    }
  }

  g_string_append_printf (md, "### Scale\n\n1080p GRAY8 cameras at 30 fps "
      "(tf-bench-send, one thread per camera, frames spread over the frame "
      "interval) into one process: one tcpframesrc framing=header ! fakesink "
      "per camera in one pipeline, or one bare-loop thread per camera. "
      "Median [min, max] of %u repetition(s) of %.1f s.\n\n"
      "| cameras | receiver | CPU per camera (%% of a core) | vs bare | "
      "fps per camera | CPU us per frame |\n|---|---|---|---|---|---|\n",
      b->scale_reps, b->scale_window);
  for (ci = 0; ci < nc; ci++) {
    gchar *kase = g_strdup_printf ("%u", scale_cameras[ci]);

    for (ki = 0; ki < nk; ki++) {
      gdouble *ratio = g_new (gdouble, b->scale_reps);
      gdouble *pct = g_new (gdouble, b->scale_reps);
      TfbSummary sl, sr, sf, su;
      gchar *s_l, *s_r;

      for (rep = 0; rep < b->scale_reps; rep++) {
        ratio[rep] = load[AT (ci, ki, rep)] / load[AT (ci, 0, rep)];
        pct[rep] = 100 * load[AT (ci, ki, rep)];
      }
      sl = tfb_summarize (pct, b->scale_reps);
      sr = tfb_summarize (ratio, b->scale_reps);
      sf = tfb_summarize (&fps[AT (ci, ki, 0)], b->scale_reps);
      su = tfb_summarize (&us[AT (ci, ki, 0)], b->scale_reps);
      s_l = tfb_fmt_range (sl, 2);
      s_r = tfb_fmt_ratio (sr);
      g_string_append_printf (md, "| %u | %s | %s | %s | %.1f | %.0f |\n",
          scale_cameras[ci], tfb_rx_label (kinds[ki]), s_l, s_r, sf.median,
          su.median);
      tfb_report_row (b->report, "scale", kase, tfb_rx_name (kinds[ki]),
          "cpu_per_camera", "% core", sl);
      tfb_report_row (b->report, "scale", kase, tfb_rx_name (kinds[ki]),
          "cpu_vs_bare", "ratio", sr);
      tfb_report_row (b->report, "scale", kase, tfb_rx_name (kinds[ki]),
          "fps_per_camera", "frames/s", sf);
      tfb_report_row (b->report, "scale", kase, tfb_rx_name (kinds[ki]),
          "cpu_per_frame", "us", su);
      if (ki == 1)
        tf_vs_bare[ci] = sr;
      g_free (s_l);
      g_free (s_r);
      g_free (ratio);
      g_free (pct);
    }
    g_free (kase);
  }
  g_string_append_c (md, '\n');
#undef AT
  g_free (load);
  g_free (fps);
  g_free (us);
}

/* ---- memory ---- */

static gdouble
rss_kib (void)
{
  gchar *status = NULL, *line;
  gdouble kib = NAN;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return NAN;
  line = strstr (status, "\nVmRSS:");
  if (line)
    kib = g_ascii_strtod (line + strlen ("\nVmRSS:"), NULL);
  g_free (status);
  return kib;
}

typedef struct
{
  gboolean ok;
  gdouble warm_kib, end_kib, max_kib, growth_kib, slope_kib_per_min;
  gdouble secs;
  guint64 frames;
} Memory;

static void
phase_memory (Bench * b, Memory * out)
{
  const TfbSize *size = tfb_size_lookup ("2m");
  TfbRxConfig cfg = { TFB_RX_TF_HEADER, size, 1, 0, 0, FALSE };
  GString *md = tfb_report_md (b->report);
  GString *json = g_string_new ("[");
  GArray *t = g_array_new (FALSE, FALSE, sizeof (gdouble));
  GArray *rss = g_array_new (FALSE, FALSE, sizeof (gdouble));
  GError *err = NULL;
  TfbRxCounts c;
  TfbRx *rx;
  GPid pid = 0;
  gchar *ports;
  gint64 start;
  guint i, first_after_warm = 0, n_tail;

  memset (out, 0, sizeof (*out));
  g_printerr ("tf-bench: memory, %.0f s flat-out stream\n", b->memory_secs);
  rx = tfb_rx_start (&cfg, &err);
  if (!rx) {
    fail (b, "memory", err->message);
    g_error_free (err);
    goto done;
  }
  ports = ports_of (rx, 1);
  pid = spawn_sender (b, ports, TFB_WIRE_HEADER, size, 0,
      b->memory_secs + 30, &err);
  g_free (ports);
  if (!pid || !wait_streaming (rx, 1, tfb_now_ns () + FIRST_FRAME_TIMEOUT_NS)) {
    fail (b, "memory", err ? err->message : "no frame within 10 s");
    g_clear_error (&err);
    goto stop;
  }
  start = tfb_now_ns ();
  for (i = 0;; i++) {
    gint64 due = start + (gint64) (i * b->memory_interval * NS);
    gdouble ts, kib;

    if (due > start + (gint64) (b->memory_secs * NS))
      break;
    tfb_sleep_until (due);
    ts = (tfb_now_ns () - start) / NS;
    kib = rss_kib ();
    g_array_append_val (t, ts);
    g_array_append_val (rss, kib);
    g_string_append_printf (json, "%s[%.3f, %.0f]", i ? ", " : "", ts, kib);
    if (ts < b->memory_warm)
      first_after_warm = i + 1;
  }
  tfb_rx_counts (rx, &c);
  out->frames = c.frames;

  /* Growth: the median of the last few samples against the first few
   * after warm-up (pools filled, socket buffers grown), so one sample's
   * noise does not count as growth. */
  n_tail = MIN (5, (rss->len - first_after_warm) / 2);
  if (rss->len > first_after_warm + 1 && n_tail > 0) {
    gdouble *v = (gdouble *) rss->data, *tv = (gdouble *) t->data;
    TfbSummary head = tfb_summarize (v + first_after_warm, n_tail);
    TfbSummary tail = tfb_summarize (v + rss->len - n_tail, n_tail);
    TfbSummary all = tfb_summarize (v + first_after_warm,
        rss->len - first_after_warm);
    gdouble sx = 0, sy = 0, sxx = 0, sxy = 0, m = rss->len - first_after_warm;

    for (i = first_after_warm; i < rss->len; i++) {
      sx += tv[i];
      sy += v[i];
      sxx += tv[i] * tv[i];
      sxy += tv[i] * v[i];
    }
    out->ok = TRUE;
    out->warm_kib = head.median;
    out->end_kib = tail.median;
    out->max_kib = all.max;
    out->growth_kib = tail.median - head.median;
    out->slope_kib_per_min = 60 * (m * sxy - sx * sy) / (m * sxx - sx * sx);
    out->secs = tv[rss->len - 1];
  } else {
    fail (b, "memory", "too few samples");
  }

stop:
  tfb_rx_stop (rx);
  reap_sender (pid);
done:
  g_string_append_c (json, ']');
  tfb_report_json_member (b->report, "memory_samples_s_kib", json->str);
  g_string_free (json, TRUE);
  if (out->ok) {
    tfb_report_value (b->report, "memory", "2m", "tf-header",
        "rss_after_warmup", "KiB", out->warm_kib);
    tfb_report_value (b->report, "memory", "2m", "tf-header", "rss_end", "KiB",
        out->end_kib);
    tfb_report_value (b->report, "memory", "2m", "tf-header", "rss_max", "KiB",
        out->max_kib);
    tfb_report_value (b->report, "memory", "2m", "tf-header", "growth", "KiB",
        out->growth_kib);
    tfb_report_value (b->report, "memory", "2m", "tf-header", "slope",
        "KiB/min", out->slope_kib_per_min);
    g_string_append_printf (md,
        "### Memory\n\ntcpframesrc framing=header, "
        "1080p GRAY8 flat out for %.0f s (%" G_GUINT64_FORMAT " frames); "
        "VmRSS of the process every %.2f s. Growth: median of the last "
        "samples minus median of the first samples after %.1f s of "
        "warm-up.\n\n| RSS after warm-up | RSS at end | max | growth | "
        "slope |\n|---|---|---|---|---|\n| %.1f MiB | %.1f MiB | %.1f MiB | "
        "%+.0f KiB | %+.1f KiB/min |\n\n", out->secs, out->frames,
        b->memory_interval, b->memory_warm, out->warm_kib / 1024,
        out->end_kib / 1024, out->max_kib / 1024, out->growth_kib,
        out->slope_kib_per_min);
  }
  g_array_free (t, TRUE);
  g_array_free (rss, TRUE);
}

/* ---- profile mode (for callgrind) ---- */

/* Streams into one receiver and brackets `frames` frames of the steady
 * state with callgrind client requests, so a profile (run with
 * --instr-atstart=no) holds exactly those frames.  Prints them as JSON. */
static gint
run_profile (Bench * b, const gchar * spec, guint frames)
{
  const gchar *at = strchr (spec, '@');
  guint fps = at ? atoi (at + 1) : 0;
  gchar *base = g_strndup (spec, at ? (gsize) (at - spec) : strlen (spec));
  gchar **parts = g_strsplit (base, ":", 2);
  TfbRxConfig cfg = { 0, NULL, 1, 0, 0, FALSE };
  GError *err = NULL;
  TfbRxCounts c0, c1;
  TfbRx *rx;
  GPid pid;
  gchar *ports;
  gint64 deadline;

  if (g_strv_length (parts) != 2 || !tfb_rx_parse (parts[0], &cfg.kind)
      || !(cfg.size = tfb_size_lookup (parts[1]))) {
    g_printerr ("tf-bench: --profile wants RECEIVER:SIZE[@FPS], e.g. "
        "tf-raw:2m or tf-raw:2m@30\n");
    g_strfreev (parts);
    g_free (base);
    return 2;
  }
  g_strfreev (parts);
  g_free (base);
  rx = tfb_rx_start (&cfg, &err);
  if (!rx) {
    g_printerr ("tf-bench: %s\n", err->message);
    return 1;
  }
  ports = ports_of (rx, 1);
  pid = is_floor (cfg.kind) ? -1 : spawn_sender (b, ports,
      tfb_rx_wire (cfg.kind), cfg.size, fps, 600, &err);
  g_free (ports);
  if (!pid || !wait_streaming (rx, MIN (20, frames),
          tfb_now_ns () + 60 * (gint64) NS)) {
    g_printerr ("tf-bench: profile: no frames\n");
    tfb_rx_stop (rx);
    reap_sender (pid);
    return 1;
  }
  tfb_rx_counts (rx, &c0);
  CALLGRIND_START_INSTRUMENTATION;
  CALLGRIND_ZERO_STATS;
  deadline = tfb_now_ns () + 120 * (gint64) NS;
  do {
    /* Rarely: this thread's instructions count in the profile too. */
    g_usleep (20000);
    tfb_rx_counts (rx, &c1);
  } while (c1.frames < c0.frames + frames && tfb_now_ns () < deadline);
  CALLGRIND_DUMP_STATS_AT ("window");
  tfb_rx_counts (rx, &c1);
  CALLGRIND_STOP_INSTRUMENTATION;
  tfb_rx_stop (rx);
  reap_sender (pid);
  /* The counts are taken right at the dump; frames that complete in
   * between can only make the per-frame figures slightly low. */
  g_print ("{\"receiver\": \"%s\", \"size\": \"%s\", \"fps\": %u, "
      "\"frames\": %" G_GUINT64_FORMAT ", \"bytes\": %" G_GUINT64_FORMAT
      "}\n", tfb_rx_name (cfg.kind), cfg.size->name, fps,
      c1.frames - c0.frames, c1.bytes - c0.bytes);
  return 0;
}

/* ---- targets ---- */

/* Takes the measured text, formatted by the caller. */
static void
add_target (Bench * b, gboolean measured, gboolean met, const gchar * target,
    gchar * m)
{
  tfb_report_target (b->report, target, m, measured ? (met ? 1 : 0) : -1);
  g_string_append_printf (tfb_report_md (b->report), "| %s | %s | %s |\n",
      target, m, !measured ? "not measured" : met ? "met" : "**missed**");
  g_free (m);
}

/* A figure shown with the targets that has none of its own. */
static void
add_info (Bench * b, const gchar * what, gchar * m)
{
  tfb_report_target (b->report, what, m, -1);
  g_string_append_printf (tfb_report_md (b->report), "| %s | %s | info |\n",
      what, m);
  g_free (m);
}

static gint
size_index (Bench * b, const gchar * name)
{
  guint i;

  for (i = 0; i < b->sizes->len; i++) {
    const TfbSize *s = g_ptr_array_index (b->sizes, i);

    if (g_strcmp0 (s->name, name) == 0)
      return i;
  }
  return -1;
}

static void
evaluate_targets (Bench * b, TputResults * tp, Check * checks,
    Check * paced, Replace * repl, Timeout * to, Memory * mem,
    TfbSummary * scale)
{
  const TfbRxKind fr[] = { TFB_RX_TF_RAW, TFB_RX_TF_HEADER };
  GString *md = tfb_report_md (b->report);
  guint i, si;

  g_string_append (md, "### Targets\n\nRatios are medians over the "
      "repetitions.\n\n| target | measured | |\n|---|---|---|\n");

  for (i = 0; i < G_N_ELEMENTS (fr); i++) {
    for (si = 0; tp->t && si < b->sizes->len; si++) {
      const TfbSize *size = g_ptr_array_index (b->sizes, si);
      gboolean small = g_strcmp0 (size->name, "4k") == 0;
      gdouble want = small ? 0.5 : 0.9;
      TfbSummary r = tput_ratio (tp, si, fr[i], TFB_RX_BARE, FALSE);
      TfbSummary c = tput_ratio (tp, si, fr[i], TFB_RX_BARE, TRUE);
      TfbSummary fl = tput_floor_bound (tp, si);
      gchar *t = g_strdup_printf ("%s, %s: throughput >= %.1fx bare",
          tfb_rx_label (fr[i]), size->label, want);
      gchar *tc = g_strdup_printf ("%s, %s: CPU per GB <= 1.2x bare",
          tfb_rx_label (fr[i]), size->label);

      add_target (b, r.n > 0, r.median >= want, t,
          g_strdup_printf ("%.2fx [%.2f, %.2f]", r.median, r.min, r.max));
      if (fl.n > 0)
        add_target (b, c.n > 0, c.median <= 1.2, tc,
            g_strdup_printf ("%.2fx [%.2f, %.2f]; bare + GStreamer floor: "
                "%.2fx", c.median, c.min, c.max, fl.median));
      else
        add_target (b, c.n > 0, c.median <= 1.2, tc,
            g_strdup_printf ("%.2fx [%.2f, %.2f]", c.median, c.min, c.max));
      g_free (t);
      g_free (tc);
    }
  }
  si = size_index (b, "2m");
  for (i = 0; i < G_N_ELEMENTS (fr); i++) {
    gboolean have = tp->t && (gint) si >= 0;
    TfbSummary r = have ? tput_ratio (tp, si, fr[i], TFB_RX_TCPSERVERSRC,
        FALSE) : no_value ();
    TfbSummary bound = have ? tput_ratio (tp, si, TFB_RX_BARE,
        TFB_RX_TCPSERVERSRC, FALSE) : no_value ();
    TfbSummary cpu = have ? tput_ratio (tp, si, TFB_RX_TCPSERVERSRC, fr[i],
        TRUE) : no_value ();
    gchar *t = g_strdup_printf ("%s, 1080p: >= 5x tcpserversrc+rawvideoparse",
        tfb_rx_label (fr[i]));

    /* The bare loop's own lead over tcpserversrc bounds what any receiver
     * can show here; tcpserversrc's CPU per GB over ours is the same
     * comparison without the sender's ceiling. */
    add_target (b, r.n > 0, r.median >= 5, t, r.n == 0 ? g_strdup ("n/a") :
        g_strdup_printf ("%.1fx [%.1f, %.1f]; the bare loop itself: %.1fx; "
            "tcpserversrc's CPU per GB is %.1fx ours", r.median, r.min, r.max,
            bound.median, cpu.median));
    g_free (t);
  }

  if (checks) {
    gdouble worst_direct = 1, worst_alloc = 0, worst_pool = 1, worst_heap = 0;
    gdouble worst_paced = 0;
    const gchar *heap_who = "", *paced_who = "";
    guint n = 0;

    for (si = 0; si < b->sizes->len; si++) {
      for (i = TFB_RX_TF_RAW; i <= TFB_RX_TF_LENGTH; i++) {
        Check *c = &checks[si * TFB_N_RX + i];

        if (!c->ok)
          continue;
        n++;
        worst_direct = MIN (worst_direct, c->direct);
        worst_alloc = MAX (worst_alloc, c->allocs_per_frame);
        worst_pool = MIN (worst_pool, c->pooled);
        if (c->heap_per_frame > worst_heap) {
          worst_heap = c->heap_per_frame;
          heap_who = tfb_rx_name (i);
        }
      }
    }
    for (i = TFB_RX_TF_RAW; paced && i <= TFB_RX_TF_LENGTH; i++) {
      if (paced[i].ok && paced[i].heap_per_frame > worst_paced) {
        worst_paced = paced[i].heap_per_frame;
        paced_who = tfb_rx_name (i);
      }
    }
    add_target (b, n > 0, worst_direct > 0.9999,
        "tcpframesrc: no intermediate copy (payload recv()ed into the "
        "pushed buffer)", g_strdup_printf ("worst case %.2f%% of payload "
            "bytes", 100 * worst_direct));
    add_target (b, n > 0, worst_alloc < 0.01 && worst_pool > 0.999,
        "tcpframesrc: frame memory from a buffer pool, no GstMemory "
        "allocated per frame", g_strdup_printf ("worst case %.3f GstMemory "
            "allocations per frame, %.1f%% pooled", worst_alloc,
            100 * worst_pool));
    add_target (b, n > 0, worst_heap < 0.01 && worst_paced < 0.01,
        "tcpframesrc: no heap allocation at all per frame (malloc, g_slice)",
        g_strdup_printf ("worst flat out %.3f/frame (%s), worst at 30 fps "
            "%.3f/frame (%s)", worst_heap, heap_who, worst_paced, paced_who));
  }
  if (repl) {
    for (i = 0; i < 2; i++) {
      gchar *t = g_strdup_printf ("%s, 1080p: replacement latency p99 < 5 ms",
          i == 0 ? "tcpframesrc framing=header" : "tcpframesrc framing=raw");

      add_target (b, repl[i].ok, repl[i].p99 < 5, t,
          g_strdup_printf ("p99 %.2f ms, max %.2f ms; bare loop p99 %.2f ms",
              repl[i].p99, repl[i].max, repl[2].p99));
      g_free (t);
    }
  }
  if (to)
    add_target (b, to->ok, to->ok && to->min >= 0 && to->max <= 20
        && to->wrong_reason == 0, "timeout accuracy within +20 ms",
        g_strdup_printf ("%.2f to %.2f ms after the timeout", to->min,
            to->max));
  if (mem)
    add_target (b, mem->ok, fabs (mem->growth_kib) < 1024,
        "memory: no growth while streaming", g_strdup_printf ("%+.0f KiB "
            "over %.0f s (%+.1f KiB/min)", mem->growth_kib, mem->secs,
            mem->slope_kib_per_min));
  if (scale) {
    for (i = 0; i < G_N_ELEMENTS (scale_cameras); i++) {
      gchar *t = g_strdup_printf ("%u camera(s) at 1080p30: CPU per camera "
          "vs the bare loop", scale_cameras[i]);

      add_info (b, t, g_strdup_printf ("%.2fx [%.2f, %.2f]", scale[i].median,
              scale[i].min, scale[i].max));
      g_free (t);
    }
  }
  g_string_append_c (md, '\n');
}

/* ---- machine ---- */

/* The value of the first "name : value" line of /proc/cpuinfo, or NULL. */
static gchar *
cpuinfo_field (const gchar * cpuinfo, const gchar * name)
{
  const gchar *line = strstr (cpuinfo, name);
  const gchar *colon = line ? strchr (line, ':') : NULL;

  if (!colon)
    return NULL;
  return g_strstrip (g_strndup (colon + 1, strcspn (colon + 1, "\n")));
}

static void
describe_machine (Bench * b)
{
  GString *md = tfb_report_md (b->report);
  gchar *cpuinfo = NULL, *model = NULL, *mhz = NULL, *cache = NULL;
  gchar *load = NULL, *nproc, *gst;
  GDateTime *now = g_date_time_new_now_utc ();
  gchar *date = g_date_time_format (now, "%Y-%m-%d %H:%M UTC");
  struct utsname u;

  if (g_file_get_contents ("/proc/cpuinfo", &cpuinfo, NULL, NULL)) {
    model = cpuinfo_field (cpuinfo, "model name");
    mhz = cpuinfo_field (cpuinfo, "cpu MHz");
    cache = cpuinfo_field (cpuinfo, "cache size");
  }
  if (g_file_get_contents ("/proc/loadavg", &load, NULL, NULL))
    g_strstrip (load);
  uname (&u);
  nproc = g_strdup_printf ("%u", g_get_num_processors ());
  gst = gst_version_string ();

  tfb_report_machine (b->report, "date", date);
  tfb_report_machine (b->report, "nproc", nproc);
  tfb_report_machine (b->report, "cpu", model ? model : "unknown");
  tfb_report_machine (b->report, "cpu_mhz", mhz ? mhz : "");
  tfb_report_machine (b->report, "cache", cache ? cache : "");
  tfb_report_machine (b->report, "kernel", u.release);
  tfb_report_machine (b->report, "gstreamer", gst);
  tfb_report_machine (b->report, "loadavg_at_start", load ? load : "");
  tfb_report_machine (b->report, "mode", b->smoke ? "smoke" : "full");
  {
    gchar *pin = b->rx_cpu < 0 ? g_strdup ("no") :
        g_strdup_printf ("senders CPU %d, receivers CPU %d", b->tx_cpu,
        b->rx_cpu);

    tfb_report_machine (b->report, "pinning", pin);
    g_free (pin);
  }
  g_string_append_printf (md, "## tf-bench results (%s run)\n\n%s; %s "
      "CPU(s), %s (%s MHz, %s cache); Linux %s; %s; load average at start "
      "%s; %s.\n\n", b->smoke ? "smoke" : "full", date, nproc,
      model ? model : "unknown CPU", mhz ? mhz : "?", cache ? cache : "?",
      u.release, gst, load ? load : "?", b->rx_cpu < 0 ? "not pinned" :
      "senders pinned to CPU 0, receivers to the last CPU");
  g_date_time_unref (now);
  g_free (date);
  g_free (cpuinfo);
  g_free (model);
  g_free (mhz);
  g_free (cache);
  g_free (load);
  g_free (nproc);
  g_free (gst);
}

/* ---- main ---- */

static gboolean
parse_list (const gchar * str, Bench * b, gboolean sizes, GError ** error)
{
  gchar **items = g_strsplit (str, ",", -1);
  guint i;

  for (i = 0; items[i]; i++) {
    if (sizes) {
      const TfbSize *s = tfb_size_lookup (items[i]);

      if (!s)
        goto bad;
      g_ptr_array_add (b->sizes, (gpointer) s);
    } else {
      TfbRxKind k;

      if (!tfb_rx_parse (items[i], &k))
        goto bad;
      g_array_append_val (b->rx, k);
    }
  }
  g_strfreev (items);
  return TRUE;

bad:
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
      "unknown %s '%s'", sizes ? "size" : "receiver", items[i]);
  g_strfreev (items);
  return FALSE;
}

static gchar *
default_sender (void)
{
  gchar *self = g_file_read_link ("/proc/self/exe", NULL);
  gchar *dir = self ? g_path_get_dirname (self) : g_strdup (".");
  gchar *path = g_build_filename (dir, "tf-bench-send", NULL);

  g_free (self);
  g_free (dir);
  return path;
}

int
main (int argc, char **argv)
{
  Bench b = { 0, };
  gchar *sizes = NULL, *receivers = NULL, *phases = NULL, *profile = NULL;
  gint reps = 0, profile_frames = 200;
  gboolean no_pin = FALSE;
  gdouble window = 0, memory_secs = 0;
  GOptionEntry entries[] = {
    {"smoke", 0, 0, G_OPTION_ARG_NONE, &b.smoke,
        "Short run that only shows that everything works (CI)", NULL},
    {"reps", 0, 0, G_OPTION_ARG_INT, &reps,
        "Throughput repetitions (default 5; smoke 1)", "N"},
    {"window", 0, 0, G_OPTION_ARG_DOUBLE, &window,
        "Seconds measured per throughput run (default 1.0; smoke 0.07)", "S"},
    {"memory-seconds", 0, 0, G_OPTION_ARG_DOUBLE, &memory_secs,
        "Length of the memory stream (default 60; smoke 0.8)", "S"},
    {"sizes", 0, 0, G_OPTION_ARG_STRING, &sizes,
        "Frame sizes (default 4k,300k,2m,6m)", "LIST"},
    {"receivers", 0, 0, G_OPTION_ARG_STRING, &receivers,
          "Receivers (default bare,tcpserversrc,tf-raw,tf-header,tf-length,"
          "floor,floor-list; bare is always added, every ratio needs it)",
        "LIST"},
    {"phases", 0, 0, G_OPTION_ARG_STRING, &phases,
        "Phases (default throughput,check,latency,replace,timeout,scale,"
          "memory)", "LIST"},
    {"out", 0, 0, G_OPTION_ARG_FILENAME, &b.out_dir,
        "Directory for results.json, results.csv and results.md "
          "(default build/bench)", "DIR"},
    {"no-pin", 0, 0, G_OPTION_ARG_NONE, &no_pin,
        "Do not pin senders to CPU 0 and receivers to the last CPU", NULL},
    {"sender", 0, 0, G_OPTION_ARG_FILENAME, &b.sender,
        "tf-bench-send (default: next to tf-bench)", "PATH"},
    {"profile", 0, 0, G_OPTION_ARG_STRING, &profile,
        "Only stream RECEIVER:SIZE (flat out, or at FPS) and bracket "
          "--profile-frames frames with callgrind requests", "RX:SIZE[@FPS]"},
    {"profile-frames", 0, 0, G_OPTION_ARG_INT, &profile_frames,
        "Frames in the profile (default 200)", "N"},
    {NULL}
  };
  GOptionContext *ctx;
  GError *err = NULL;
  TputResults tput = { 0, };
  Check *checks = NULL, *paced = NULL;
  Replace repl[3], *repl_p = NULL;
  Timeout to, *to_p = NULL;
  Memory mem, *mem_p = NULL;
  TfbSummary scale[G_N_ELEMENTS (scale_cameras)], *scale_p = NULL;
  gchar **names;
  guint i;
  gint ret = 0;

  setlocale (LC_ALL, "");
  /* A receiver stopping under a sender thread must not kill us. */
  signal (SIGPIPE, SIG_IGN);
  gst_init (&argc, &argv);

  ctx = g_option_context_new ("- tcpframesrc receiver benchmark");
  g_option_context_add_main_entries (ctx, entries, NULL);
  b.sizes = g_ptr_array_new ();
  b.rx = g_array_new (FALSE, FALSE, sizeof (TfbRxKind));
  b.phases = g_hash_table_new (g_str_hash, g_str_equal);
  if (!g_option_context_parse (ctx, &argc, &argv, &err)
      || !parse_list (sizes ? sizes : "4k,300k,2m,6m", &b, TRUE, &err)
      || !parse_list (receivers ? receivers :
          "bare,tcpserversrc,tf-raw,tf-header,tf-length,floor,floor-list", &b,
          FALSE, &err)) {
    g_printerr ("tf-bench: %s\n", err->message);
    return 2;
  }
  g_option_context_free (ctx);
  if (!rx_selected (&b, TFB_RX_BARE)) {
    TfbRxKind bare = TFB_RX_BARE;

    g_array_prepend_val (b.rx, bare);
  }
  names = g_strsplit (phases ? phases :
      "throughput,check,latency,replace,timeout,scale,memory", ",", -1);
  for (i = 0; names[i]; i++)
    g_hash_table_add (b.phases, names[i]);

  if (!b.sender)
    b.sender = default_sender ();
  if (!b.out_dir)
    b.out_dir = g_strdup ("build/bench");

  b.smoke = !!b.smoke;
  b.reps = reps > 0 ? reps : (b.smoke ? 1 : 5);
  b.warm = b.smoke ? 0.03 : 0.3;
  b.window = window > 0 ? window : (b.smoke ? 0.07 : 1.0);
  b.check_window = b.smoke ? 0.07 : 0.5;
  b.lat_reps = b.smoke ? 1 : 3;
  b.lat_frames = b.smoke ? 8 : 43;
  b.lat_fps = b.smoke ? 200 : 30;
  b.replace_n = b.smoke ? 5 : 100;
  b.timeout_n = b.smoke ? 2 : 10;
  b.timeout_ns = 250 * (guint64) 1000000;
  b.scale_reps = b.smoke ? 1 : 3;
  b.scale_warm = b.smoke ? 0.1 : 0.5;
  b.scale_window = b.smoke ? 0.15 : 3.0;
  b.memory_secs = memory_secs > 0 ? memory_secs : (b.smoke ? 0.8 : 60);
  b.memory_warm = b.smoke ? 0.3 : 5;
  b.memory_interval = b.smoke ? 0.1 : 1.0;

  b.rx_cpu = b.tx_cpu = -1;
  if (!no_pin && g_get_num_processors () >= 2) {
    b.tx_cpu = 0;
    b.rx_cpu = g_get_num_processors () - 1;
    /* Before any receiver thread exists, so all of them inherit it. */
    pin_thread (b.rx_cpu);
  }
  if (!g_file_test (b.sender, G_FILE_TEST_IS_EXECUTABLE)) {
    g_printerr ("tf-bench: no sender at %s (use --sender)\n", b.sender);
    return 2;
  }
  if (profile)
    return run_profile (&b, profile, MAX (profile_frames, 1));

  b.report = tfb_report_new ();
  describe_machine (&b);
  b.phase_start = tfb_now_ns ();

  if (phase_on (&b, "throughput")) {
    phase_throughput (&b, &tput);
    phase_done (&b, "throughput");
  }
  if (phase_on (&b, "check")) {
    checks = g_new0 (Check, b.sizes->len * TFB_N_RX);
    paced = g_new0 (Check, TFB_N_RX);
    phase_check (&b, checks, paced);
    phase_done (&b, "check");
  }
  if (phase_on (&b, "latency")) {
    phase_latency (&b);
    phase_done (&b, "latency");
  }
  if (phase_on (&b, "replace")) {
    g_printerr ("tf-bench: replacement, %u per framing\n", b.replace_n);
    g_string_append_printf (tfb_report_md (b.report), "### Replacement "
        "latency\n\nA 1080p GRAY8 camera reconnects while its old connection "
        "stays open and silent (timeout 10 s, peer-policy replace-on-frame); "
        "%u times. From send() of the new connection's first frame "
        "returning to that frame at the sink. The bare loop accepts the new "
        "connection and reads its frame with blocking recv(). Page faults: "
        "minor faults of the receiving process per replacement.\n\n"
        "| receiver | p50 ms | p99 ms | max ms | frames | replacements "
        "(stats) | page faults |\n|---|---|---|---|---|---|---|\n",
        b.replace_n);
    run_replace (&b, TFB_RX_BARE, &repl[2]);
    run_replace (&b, TFB_RX_TF_HEADER, &repl[0]);
    run_replace (&b, TFB_RX_TF_RAW, &repl[1]);
    g_string_append_c (tfb_report_md (b.report), '\n');
    repl_p = repl;
    phase_done (&b, "replace");
  }
  if (phase_on (&b, "timeout")) {
    phase_timeout (&b, &to);
    to_p = &to;
    phase_done (&b, "timeout");
  }
  if (phase_on (&b, "scale")) {
    phase_scale (&b, scale);
    scale_p = scale;
    phase_done (&b, "scale");
  }
  if (phase_on (&b, "memory")) {
    phase_memory (&b, &mem);
    mem_p = &mem;
    phase_done (&b, "memory");
  }
  evaluate_targets (&b, &tput, checks, paced, repl_p, to_p, mem_p, scale_p);

  {
    gchar *load = NULL;

    if (g_file_get_contents ("/proc/loadavg", &load, NULL, NULL))
      tfb_report_machine (b.report, "loadavg_at_end", g_strstrip (load));
    g_free (load);
  }
  g_print ("%s", tfb_report_md (b.report)->str);
  if (!tfb_report_write (b.report, b.out_dir, &err)) {
    g_printerr ("tf-bench: %s\n", err->message);
    g_clear_error (&err);
    ret = 1;
  } else {
    g_printerr ("tf-bench: wrote %s/results.{json,csv,md}\n", b.out_dir);
  }
  if (b.failures) {
    g_printerr ("tf-bench: %u measurement(s) failed\n", b.failures);
    ret = 1;
  }

  tfb_report_free (b.report);
  g_free (tput.t);
  g_free (checks);
  g_free (paced);
  g_hash_table_unref (b.phases);
  g_strfreev (names);
  g_ptr_array_free (b.sizes, TRUE);
  g_array_free (b.rx, TRUE);
  g_free (b.out_dir);
  g_free (b.sender);
  g_free (sizes);
  g_free (receivers);
  g_free (phases);
  g_free (profile);
  return ret;
}
