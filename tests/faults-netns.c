/* Helpers for the fault tests: a private network namespace, nftables
 * tables on its loopback, and views of the element's sockets. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "faults-netns.h"

#include <gst/check/gstcheck.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

/* ---- the namespace ---- */

FaultsNetns
faults_netns_enter (gchar ** why)
{
  struct ifreq ifr;
  int fd;

  if (unshare (CLONE_NEWNET) < 0) {
    *why = g_strdup_printf ("unshare -n: %s", g_strerror (errno));
    return FAULTS_NETNS_NOT_PERMITTED;
  }

  /* A new namespace's lo is down: 127.0.0.1 would be unreachable. */
  fd = socket (AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    *why = g_strdup_printf ("socket: %s", g_strerror (errno));
    return FAULTS_NETNS_BROKEN;
  }
  memset (&ifr, 0, sizeof (ifr));
  g_strlcpy (ifr.ifr_name, "lo", sizeof (ifr.ifr_name));
  if (ioctl (fd, SIOCGIFFLAGS, &ifr) < 0
      || (ifr.ifr_flags |= IFF_UP, ioctl (fd, SIOCSIFFLAGS, &ifr) < 0)) {
    *why = g_strdup_printf ("bringing lo up: %s", g_strerror (errno));
    close (fd);
    return FAULTS_NETNS_BROKEN;
  }
  close (fd);
  return FAULTS_NETNS_OK;
}

/* ---- nft ---- */

static gchar *nft_problem;

static gchar *
nft_path (void)
{
  static const gchar *const fallbacks[] = { "/usr/sbin/nft", "/sbin/nft" };
  gchar *path = g_find_program_in_path ("nft");
  guint i;

  for (i = 0; !path && i < G_N_ELEMENTS (fallbacks); i++) {
    if (g_file_test (fallbacks[i], G_FILE_TEST_IS_EXECUTABLE))
      path = g_strdup (fallbacks[i]);
  }
  return path;
}

/* Runs nft with `args` (no shell).  TRUE on exit status 0; otherwise
 * FALSE with *why saying what nft said. */
static gboolean
nft_run (const gchar * const *args, gchar ** out, gchar ** why)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);
  gchar *path = nft_path ();
  gchar *std_out = NULL, *std_err = NULL;
  GError *err = NULL;
  gint status = 0;
  gboolean ok;
  guint i;

  if (!path) {
    *why = g_strdup ("nft is not installed (not in PATH, /usr/sbin or /sbin)");
    g_ptr_array_unref (argv);
    return FALSE;
  }
  g_ptr_array_add (argv, path);
  for (i = 0; args[i]; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);

  ok = g_spawn_sync (NULL, (gchar **) argv->pdata, NULL, G_SPAWN_DEFAULT,
      NULL, NULL, &std_out, &std_err, &status, &err)
      && g_spawn_check_wait_status (status, &err);
  if (!ok) {
    gchar *cmd = g_strjoinv (" ", (gchar **) argv->pdata);
    *why = g_strdup_printf ("`%s` failed: %s%s%s", cmd, err->message,
        std_err && *std_err ? "; nft said: " : "", std_err ? std_err : "");
    g_free (cmd);
    g_error_free (err);
  }
  if (out && ok)
    *out = g_steal_pointer (&std_out);
  g_free (std_out);
  g_free (std_err);
  g_ptr_array_unref (argv);
  return ok;
}

gboolean
faults_nft_probe (gchar ** why)
{
  static const gchar *const version[] = { "--version", NULL };

  return nft_run (version, NULL, why);
}

void
faults_nft_set_problem (const gchar * why)
{
  g_free (nft_problem);
  nft_problem = g_strdup (why);
}

void
faults_nft_require (void)
{
  fail_if (nft_problem != NULL, "nft is needed to lose packets and cannot "
      "be run: %s.  tests/run.sh installs it: add nftables to the test "
      "package set (TF_TEST_PACKAGES) in pipelines/ensure-deps.sh", nft_problem);
}

struct _FaultsNftTable
{
  gchar *name;
};

FaultsNftTable *
faults_nft_table_new (const gchar * tag, const gchar * body)
{
  static gint serial;
  FaultsNftTable *t = g_new0 (FaultsNftTable, 1);
  gchar *ruleset, *file = NULL, *why = NULL;
  const gchar *args[3] = { "-f", NULL, NULL };
  GError *err = NULL;
  gint fd;

  faults_nft_require ();
  t->name = g_strdup_printf ("tf_%d_%d_%s", (gint) getpid (),
      g_atomic_int_add (&serial, 1), tag);
  ruleset = g_strdup_printf ("add table inet %s\ntable inet %s {\n%s\n}\n",
      t->name, t->name, body);
  GST_INFO ("nft ruleset:\n%s", ruleset);

  /* nft reads the ruleset from a file we wrote: no shell, no quoting. */
  fd = g_file_open_tmp ("tf-faults-XXXXXX.nft", &file, &err);
  fail_unless (fd >= 0, "temporary file: %s", err ? err->message : "?");
  close (fd);
  fail_unless (g_file_set_contents (file, ruleset, -1, &err),
      "writing %s: %s", file, err ? err->message : "?");
  args[1] = file;
  if (!nft_run (args, NULL, &why)) {
    unlink (file);
    fail ("could not load the ruleset\n%s\n%s", ruleset, why);
  }
  unlink (file);
  g_free (file);
  g_free (ruleset);
  return t;
}

const gchar *
faults_nft_table_name (FaultsNftTable * table)
{
  return table->name;
}

guint64
faults_nft_counter (FaultsNftTable * table, const gchar * counter)
{
  const gchar *args[] = { "list", "counter", "inet", table->name, counter,
    NULL
  };
  gchar *out = NULL, *why = NULL;
  const gchar *p;
  guint64 packets = 0;

  fail_unless (nft_run (args, &out, &why), "%s", why);
  p = strstr (out, "packets ");
  fail_unless (p != NULL, "no packet count in nft's output: %s", out);
  packets = g_ascii_strtoull (p + strlen ("packets "), NULL, 10);
  g_free (out);
  return packets;
}

guint64
faults_nft_wait_counter (FaultsNftTable * table, const gchar * counter,
    guint64 min, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * (gint64) 1000;
  guint64 v;

  while ((v = faults_nft_counter (table, counter)) < min
      && g_get_monotonic_time () < deadline)
    g_usleep (5000);
  return v;
}

void
faults_nft_table_free (FaultsNftTable * table)
{
  const gchar *args[] = { "delete", "table", "inet", NULL, NULL };
  gchar *why = NULL;

  if (!table)
    return;
  args[3] = table->name;
  fail_unless (nft_run (args, NULL, &why), "%s", why);
  g_free (table->name);
  g_free (table);
}

/* ---- the element's sockets ---- */

static gboolean
sock_port (gint fd, gboolean remote, guint16 * port)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof (ss);
  gint ret = remote ? getpeername (fd, (struct sockaddr *) &ss, &len) :
      getsockname (fd, (struct sockaddr *) &ss, &len);

  if (ret < 0)
    return FALSE;
  if (ss.ss_family == AF_INET)
    *port = ntohs (((struct sockaddr_in *) &ss)->sin_port);
  else if (ss.ss_family == AF_INET6)
    *port = ntohs (((struct sockaddr_in6 *) &ss)->sin6_port);
  else
    return FALSE;
  return TRUE;
}

/* Calls func for every fd of this process bound to local port src_port,
 * with its remote port (0 for a listener). */
static void
for_each_element_socket (guint16 src_port, void (*func) (gint fd,
        guint16 remote, gpointer data), gpointer data)
{
  GDir *dir = g_dir_open ("/proc/self/fd", 0, NULL);
  const gchar *name;

  fail_unless (dir != NULL);
  while ((name = g_dir_read_name (dir))) {
    gint fd = atoi (name);
    guint16 local = 0, remote = 0;

    if (!sock_port (fd, FALSE, &local) || local != src_port)
      continue;
    if (!sock_port (fd, TRUE, &remote))
      remote = 0;
    func (fd, remote, data);
  }
  g_dir_close (dir);
}

typedef struct
{
  guint listeners;
  guint peers;
} SocketCounts;

static void
count_socket (gint fd, guint16 remote, gpointer data)
{
  SocketCounts *c = data;

  if (remote == 0)
    c->listeners++;
  else
    c->peers++;
}

void
faults_element_sockets (guint16 src_port, guint * listeners, guint * peers)
{
  SocketCounts c = { 0, 0 };

  for_each_element_socket (src_port, count_socket, &c);
  *listeners = c.listeners;
  *peers = c.peers;
}

typedef struct
{
  guint16 peer_port;
  gint fd;
} FindFd;

static void
find_fd (gint fd, guint16 remote, gpointer data)
{
  FindFd *f = data;

  if (remote == f->peer_port)
    f->fd = fd;
}

gint
faults_element_fd (guint16 src_port, guint16 peer_port)
{
  FindFd f = { peer_port, -1 };

  for_each_element_socket (src_port, find_fd, &f);
  return f.fd;
}

gint
faults_element_listener_fd (guint16 src_port)
{
  /* A listener has no peer: port 0 in for_each_element_socket. */
  return faults_element_fd (src_port, 0);
}

guint
faults_accept_queue (gint listener_fd)
{
  struct tcp_info info;
  socklen_t len = sizeof (info);

  /* For a listening socket Linux reports its accept queue length in
   * tcpi_unacked (and the queue's limit in tcpi_sacked). */
  fail_unless (getsockopt (listener_fd, IPPROTO_TCP, TCP_INFO, &info,
          &len) == 0, "TCP_INFO: %s", g_strerror (errno));
  fail_unless_equals_int (info.tcpi_state, TCP_LISTEN);
  return info.tcpi_unacked;
}

guint
faults_count_fds (void)
{
  GDir *dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  fail_unless (dir != NULL);
  while (g_dir_read_name (dir))
    n++;
  g_dir_close (dir);
  /* The directory's own fd was open while it was read. */
  return n - 1;
}

guint64
faults_rss_bytes (void)
{
  gchar *status = NULL;
  const gchar *line;
  guint64 kib = 0;

  fail_unless (g_file_get_contents ("/proc/self/status", &status, NULL,
          NULL));
  line = strstr (status, "\nVmRSS:");
  fail_unless (line != NULL, "no VmRSS in /proc/self/status");
  fail_unless (sscanf (line + strlen ("\nVmRSS:"), " %" G_GUINT64_FORMAT
          " kB", &kib) == 1);
  g_free (status);
  return kib * 1024;
}
