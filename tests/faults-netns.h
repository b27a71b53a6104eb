/* Helpers for the fault tests: a private network namespace, nftables
 * tables that lose packets on its loopback, and views of the element's
 * sockets and of this process's resources.
 *
 * The element runs in the test process, so the whole process moves into
 * the namespace (faults_netns_enter(), from main() before anything opens a
 * socket); every check fork inherits it.  All traffic is on the
 * namespace's own 127.0.0.1, so nothing here can touch the machine's real
 * network or another test's. */
#ifndef FAULTS_NETNS_H
#define FAULTS_NETNS_H

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  FAULTS_NETNS_OK,
  FAULTS_NETNS_NOT_PERMITTED,   /* unshare failed: we are where we were */
  FAULTS_NETNS_BROKEN,          /* in a new namespace, but lo is down */
} FaultsNetns;

/* unshare(CLONE_NEWNET) and bring lo up; *why (free it) says what went
 * wrong otherwise (not root, no CAP_SYS_ADMIN, seccomp...). */
FaultsNetns faults_netns_enter (gchar ** why);

/* Whether `nft` can be run: FALSE with *why (free it) when it is missing
 * or broken.  Checked once by main(); tests that need it call
 * faults_nft_require(). */
gboolean faults_nft_probe (gchar ** why);
/* Remembers what faults_nft_probe() found, for faults_nft_require(). */
void faults_nft_set_problem (const gchar * why);
/* Fails the calling test with a clear message if nft is unusable. */
void faults_nft_require (void);

/* One nftables table of the inet family, named uniquely for this process.
 * Its chains are built by the caller (faults_nft_table_new's `body` is the
 * inside of "table inet NAME { ... }": counters and chains); the table is
 * deleted by faults_nft_table_free().  Every nft failure fails the test,
 * with nft's own message. */
typedef struct _FaultsNftTable FaultsNftTable;

FaultsNftTable *faults_nft_table_new (const gchar * tag, const gchar * body);
/* Packets counted so far by the named counter ("counter NAME { }" in the
 * body, used by rules as `counter name "NAME"`). */
guint64 faults_nft_counter (FaultsNftTable * table, const gchar * counter);
/* Waits at most timeout_ms for the counter to reach at least `min`;
 * returns its last value. */
guint64 faults_nft_wait_counter (FaultsNftTable * table, const gchar * counter,
    guint64 min, guint timeout_ms);
const gchar *faults_nft_table_name (FaultsNftTable * table);
void faults_nft_table_free (FaultsNftTable * table);

/* The element's sockets on its listening port, counted from /proc/self/fd:
 * sockets bound to port `src_port` on this process, split into listeners
 * (no peer) and connections. */
void faults_element_sockets (guint16 src_port, guint * listeners,
    guint * peers);
/* The element's end of the connection from 127.0.0.1:peer_port, or -1. */
gint faults_element_fd (guint16 src_port, guint16 peer_port);

/* The element's listening socket on src_port, or -1. */
gint faults_element_listener_fd (guint16 src_port);
/* Connections waiting in a listening socket's accept queue. */
guint faults_accept_queue (gint listener_fd);

/* Open file descriptors of this process. */
guint faults_count_fds (void);
/* VmRSS of this process, in bytes. */
guint64 faults_rss_bytes (void);

G_END_DECLS

#endif /* FAULTS_NETNS_H */
