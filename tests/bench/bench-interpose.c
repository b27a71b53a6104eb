/* tf-bench: counters for where payload bytes go and what gets allocated.
 *
 * The claim to check is "payload bytes go from the socket straight into
 * the memory of the pushed buffer".  A profile can suggest it; this file
 * counts it.  tf-bench defines recv(), recvmsg() and poll() itself and is
 * linked with --export-dynamic, so GIO's and GLib's calls into libc
 * resolve here first (ordinary ELF symbol interposition).  Each call goes
 * straight on to libc; while counting is enabled, recv() also notes in a
 * per-thread log where it wrote.  The sink's probe runs in the streaming
 * thread that did the recv()s, and asks how many of those bytes landed
 * inside the buffer it is looking at: with no intermediate copy that is
 * every payload byte, with a copy it is none.
 *
 * The other claim is no per-frame allocation.  The counting allocator,
 * made GStreamer's default, counts every GstMemory allocated without an
 * explicit allocator, which includes a default buffer pool's and
 * tcpserversrc's buffers; malloc(), calloc(), realloc() and GLib's slice
 * allocator are interposed the same way as recv() and count every other
 * heap allocation in the process while counting is on.
 */
#undef _FORTIFY_SOURCE          /* its inline recv() would clash with ours */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "bench.h"

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <gst/gst.h>

static atomic_bool io_enabled;
static atomic_uint_least64_t io_recv_calls;
static atomic_uint_least64_t io_recv_bytes;
static atomic_uint_least64_t io_would_block;
static atomic_uint_least64_t io_poll_calls;
static atomic_uint_least64_t heap_mallocs;
static atomic_uint_least64_t heap_slices;

/* Enough for a 6 MiB frame read in 1.5 KiB pieces; past it the bytes
 * count as not direct, which can only understate. */
#define RECV_LOG_MAX 4096

typedef struct
{
  const guint8 *ptr;
  gsize len;
  guint64 call;                 /* which recv()/recvmsg() wrote it */
} RecvLogEntry;

typedef struct
{
  guint n;
  guint64 calls;
  RecvLogEntry e[RECV_LOG_MAX];
} RecvLog;

static GPrivate recv_log_key = G_PRIVATE_INIT (g_free);

typedef ssize_t (*RecvFunc) (int, void *, size_t, int);
typedef ssize_t (*RecvmsgFunc) (int, struct msghdr *, int);
typedef int (*PollFunc) (struct pollfd *, nfds_t, int);

static RecvFunc real_recv_func;
static RecvmsgFunc real_recvmsg_func;
static PollFunc real_poll_func;

/* dlsym() is thread-safe and returns the same pointer to every racer, so
 * a plain atomic store is enough. */
static gpointer
next_symbol (gpointer * cache, const gchar * name)
{
  gpointer f = __atomic_load_n (cache, __ATOMIC_ACQUIRE);

  if (G_UNLIKELY (!f)) {
    f = dlsym (RTLD_NEXT, name);
    if (!f)
      g_error ("tf-bench: no %s in libc: %s", name, dlerror ());
    __atomic_store_n (cache, f, __ATOMIC_RELEASE);
  }
  return f;
}

static RecvLog *
log_get (void)
{
  RecvLog *log = g_private_get (&recv_log_key);

  if (!log) {
    log = g_new0 (RecvLog, 1);
    g_private_set (&recv_log_key, log);
  }
  return log;
}

/* A call's pieces are logged after log_call() numbered it. */
static void
log_call (void)
{
  log_get ()->calls++;
}

static void
log_write (const void *ptr, gsize len)
{
  RecvLog *log = log_get ();

  if (log->n < RECV_LOG_MAX) {
    log->e[log->n].ptr = ptr;
    log->e[log->n].len = len;
    log->e[log->n].call = log->calls;
    log->n++;
  }
}

static void
count_recv (ssize_t n, int err)
{
  atomic_fetch_add_explicit (&io_recv_calls, 1, memory_order_relaxed);
  if (n > 0)
    atomic_fetch_add_explicit (&io_recv_bytes, n, memory_order_relaxed);
  else if (n < 0 && (err == EAGAIN || err == EWOULDBLOCK))
    atomic_fetch_add_explicit (&io_would_block, 1, memory_order_relaxed);
}

ssize_t
recv (int fd, void *buf, size_t len, int flags)
{
  RecvFunc real = next_symbol ((gpointer *) & real_recv_func, "recv");
  ssize_t n = real (fd, buf, len, flags);

  if (G_UNLIKELY (atomic_load_explicit (&io_enabled, memory_order_relaxed))) {
    int err = errno;

    count_recv (n, err);
    log_call ();
    if (n > 0)
      log_write (buf, n);
    errno = err;
  }
  return n;
}

ssize_t
recvmsg (int fd, struct msghdr *msg, int flags)
{
  RecvmsgFunc real = next_symbol ((gpointer *) & real_recvmsg_func,
      "recvmsg");
  ssize_t n = real (fd, msg, flags);

  if (G_UNLIKELY (atomic_load_explicit (&io_enabled, memory_order_relaxed))) {
    int err = errno;
    gsize left = n > 0 ? (gsize) n : 0;
    gsize i;

    count_recv (n, err);
    log_call ();
    /* A scatter read fills its pieces in order. */
    for (i = 0; left > 0 && i < msg->msg_iovlen; i++) {
      gsize part = MIN (left, msg->msg_iov[i].iov_len);

      log_write (msg->msg_iov[i].iov_base, part);
      left -= part;
    }
    errno = err;
  }
  return n;
}

int
poll (struct pollfd *fds, nfds_t nfds, int timeout)
{
  PollFunc real = next_symbol ((gpointer *) & real_poll_func, "poll");

  if (G_UNLIKELY (atomic_load_explicit (&io_enabled, memory_order_relaxed)))
    atomic_fetch_add_explicit (&io_poll_calls, 1, memory_order_relaxed);
  return real (fds, nfds, timeout);
}

void
tfb_io_enable (gboolean enable)
{
  atomic_store (&io_enabled, enable);
}

void
tfb_io_counts (TfbIoCounts * out)
{
  out->recv_calls = atomic_load (&io_recv_calls);
  out->recv_bytes = atomic_load (&io_recv_bytes);
  out->recv_would_block = atomic_load (&io_would_block);
  out->poll_calls = atomic_load (&io_poll_calls);
  out->mallocs = atomic_load (&heap_mallocs);
  out->slices = atomic_load (&heap_slices);
}

/* A receiver that reads ahead fills the next frames' buffers in the same
 * call as the end of this one: pieces no buffer claimed yet are kept for
 * the next buffers if they came from the call that filled this one, or a
 * later one.  Everything older is dropped, and so is everything when
 * nothing was claimed: memory freed after a copy is soon reused for
 * another buffer, and must not count as direct then. */
guint64
tfb_io_take_direct (const guint8 * mem, gsize size)
{
  RecvLog *log = g_private_get (&recv_log_key);
  guint64 direct = 0;
  guint i, kept = 0;

  if (!log)
    return 0;
  for (i = 0; i < log->n; i++) {
    const guint8 *p = log->e[i].ptr;

    if (p >= mem && p + log->e[i].len <= mem + size) {
      direct += log->e[i].len;
      log->e[i].len = 0;
    }
  }
  if (direct > 0) {
    guint64 last_call = 0;

    for (i = 0; i < log->n; i++) {
      if (log->e[i].len == 0)
        last_call = MAX (last_call, log->e[i].call);
    }
    for (i = 0; i < log->n; i++) {
      if (log->e[i].len > 0 && log->e[i].call >= last_call)
        log->e[kept++] = log->e[i];
    }
  }
  log->n = kept;
  return direct;
}

/* ---- heap allocation counters ---- */

/* glibc's own entry points, which its malloc() is an alias of: forwarding
 * to them needs no dlsym(), which itself allocates. */
extern void *__libc_malloc (size_t size);
extern void *__libc_calloc (size_t n, size_t size);
extern void *__libc_realloc (void *ptr, size_t size);

static inline void
count_heap (atomic_uint_least64_t * counter)
{
  if (G_UNLIKELY (atomic_load_explicit (&io_enabled, memory_order_relaxed)))
    atomic_fetch_add_explicit (counter, 1, memory_order_relaxed);
}

void *
malloc (size_t size)
{
  count_heap (&heap_mallocs);
  return __libc_malloc (size);
}

void *
calloc (size_t n, size_t size)
{
  count_heap (&heap_mallocs);
  return __libc_calloc (n, size);
}

void *
realloc (void *ptr, size_t size)
{
  count_heap (&heap_mallocs);
  return __libc_realloc (ptr, size);
}

/* GLib 2.74's slice allocator serves small blocks (a GError, a GstMeta's
 * item) from per-thread magazines without calling malloc(): counted on
 * its own. */
typedef gpointer (*SliceAllocFunc) (gsize);
static SliceAllocFunc real_slice_alloc_func;
static SliceAllocFunc real_slice_alloc0_func;

gpointer
g_slice_alloc (gsize block_size)
{
  SliceAllocFunc real = next_symbol ((gpointer *) & real_slice_alloc_func,
      "g_slice_alloc");

  count_heap (&heap_slices);
  return real (block_size);
}

gpointer
g_slice_alloc0 (gsize block_size)
{
  SliceAllocFunc real = next_symbol ((gpointer *) & real_slice_alloc0_func,
      "g_slice_alloc0");

  count_heap (&heap_slices);
  return real (block_size);
}

/* ---- counting allocator ---- */

typedef struct
{
  GstAllocator parent;
} TfbCountingAllocator;

typedef struct
{
  GstAllocatorClass parent_class;
} TfbCountingAllocatorClass;

GType tfb_counting_allocator_get_type (void);
G_DEFINE_TYPE (TfbCountingAllocator, tfb_counting_allocator,
    GST_TYPE_ALLOCATOR);

static atomic_uint_least64_t alloc_count;
static GstAllocator *sysmem;
static GstAllocator *counting;

/* Hands out sysmem memory, so the memory frees itself to sysmem and
 * behaves exactly as without us; only the call is counted. */
static GstMemory *
counting_alloc (GstAllocator * allocator, gsize size,
    GstAllocationParams * params)
{
  atomic_fetch_add_explicit (&alloc_count, 1, memory_order_relaxed);
  return gst_allocator_alloc (sysmem, size, params);
}

static void
counting_free (GstAllocator * allocator, GstMemory * memory)
{
  /* Never called: the memory belongs to sysmem. */
  gst_allocator_free (memory->allocator, memory);
}

static void
tfb_counting_allocator_class_init (TfbCountingAllocatorClass * klass)
{
  GstAllocatorClass *aclass = GST_ALLOCATOR_CLASS (klass);

  aclass->alloc = counting_alloc;
  aclass->free = counting_free;
}

static void
tfb_counting_allocator_init (TfbCountingAllocator * self)
{
}

void
tfb_alloc_count_install (gboolean install)
{
  if (!sysmem) {
    sysmem = gst_allocator_find (GST_ALLOCATOR_SYSMEM);
    counting = g_object_new (tfb_counting_allocator_get_type (), NULL);
    gst_object_ref_sink (counting);
  }
  /* set_default takes the reference it is given. */
  gst_allocator_set_default (install ? gst_object_ref (counting) :
      gst_object_ref (sysmem));
}

guint64
tfb_alloc_count (void)
{
  return atomic_load (&alloc_count);
}
