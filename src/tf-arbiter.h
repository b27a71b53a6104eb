/* tcpframe core: peer arbitration.
 *
 * Decides which connection is the current peer (the one whose frames go
 * downstream), which are held as pending, and which are dropped.  It knows
 * peers only by id and is told the time, so every rule is testable without
 * sockets or sleeps.
 *
 * Every call appends what the caller must do to `out` (a GArray of
 * TfDecision), in order:
 *   DROP    close this peer with an RST; the arbiter has forgotten it.
 *   REPLACE this peer is now the current one; any previous current peer
 *           was dropped by an earlier DROP(replaced) in the same batch.
 *   KEEP    never appended; it is what an absent decision means.
 *
 * Timeouts: a peer that has not completed a frame within `timeout_ns` of
 * its last frame (or of its arrival) is stale.  0 disables them.
 */
#ifndef TF_ARBITER_H
#define TF_ARBITER_H

#include <glib.h>
#include "tf-types.h"

G_BEGIN_DECLS

typedef enum {
  TF_VERDICT_KEEP,
  TF_VERDICT_REPLACE,
  TF_VERDICT_DROP,
} TfVerdict;

typedef struct {
  guint peer;
  TfVerdict verdict;
  TfReason reason;                /* for DROP */
  gboolean was_current;           /* for DROP: it was the current peer */
} TfDecision;

typedef struct _TfArbiter TfArbiter;

TfArbiter *tf_arbiter_new (TfPeerPolicy policy, guint max_pending, guint64 timeout_ns);
void tf_arbiter_free (TfArbiter * a);

/* A new connection with a fresh, non-zero id arrived at `now`. */
void tf_arbiter_add (TfArbiter * a, guint peer, gint64 now, GArray * out);

/* `peer` completed a frame.  Returns TRUE when the frame should go
 * downstream, that is when the peer is the current one after this call. */
gboolean tf_arbiter_frame (TfArbiter * a, guint peer, gint64 now, GArray * out);

/* `peer` is gone on its own (closed, reset, protocol error): the caller
 * closes it.  May promote a pending peer. */
void tf_arbiter_remove (TfArbiter * a, guint peer, gint64 now, GArray * out);

/* Drops every peer that is stale at `now`. */
void tf_arbiter_expire (TfArbiter * a, gint64 now, GArray * out);

/* The earliest time at which tf_arbiter_expire() would drop someone, or -1
 * when nobody can go stale. */
gint64 tf_arbiter_next_deadline (TfArbiter * a);

/* The current peer's id, 0 when there is none. */
guint tf_arbiter_current (TfArbiter * a);

/* Whether `peer` is known (current or pending). */
gboolean tf_arbiter_has (TfArbiter * a, guint peer);

guint tf_arbiter_n_pending (TfArbiter * a);

G_END_DECLS

#endif /* TF_ARBITER_H */
