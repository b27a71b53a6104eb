/* tcpframe core: peer arbitration.
 *
 * The state is one optional current peer and an arrival-ordered array of
 * pending peers.  The pending array never holds more than
 * MAX (max_pending, 1) entries, so linear scans are cheaper than any index
 * and a frame never allocates.
 */
#include "tf-arbiter.h"

typedef struct {
  guint id;
  /* Last completed frame, or arrival until the first frame: both restart
   * the timeout clock the same way. */
  gint64 last;
} TfPeer;

struct _TfArbiter {
  TfPeerPolicy policy;
  guint max_pending;
  guint64 timeout_ns;

  gboolean has_current;
  TfPeer current;

  GArray *pending;              /* TfPeer, oldest first */
};

static void
emit (GArray * out, guint peer, TfVerdict verdict, TfReason reason,
    gboolean was_current)
{
  TfDecision d;

  d.peer = peer;
  d.verdict = verdict;
  d.reason = reason;
  d.was_current = was_current;
  g_array_append_val (out, d);
}

static gint64
deadline_of (const TfArbiter * a, const TfPeer * p)
{
  gint64 t;

  /* A timeout past the end of time is no timeout; saturate rather than
   * wrap into the past and drop everybody. */
  t = a->timeout_ns > (guint64) G_MAXINT64 ?
      G_MAXINT64 : (gint64) a->timeout_ns;
  if (p->last > 0 && t > G_MAXINT64 - p->last)
    return G_MAXINT64;
  return p->last + t;
}

static gint
find_pending (const TfArbiter * a, guint peer)
{
  guint i;

  for (i = 0; i < a->pending->len; i++) {
    if (g_array_index (a->pending, TfPeer, i).id == peer)
      return (gint) i;
  }
  return -1;
}

static void
make_current (TfArbiter * a, const TfPeer * p, GArray * out)
{
  if (a->has_current)
    emit (out, a->current.id, TF_VERDICT_DROP, TF_REASON_REPLACED, TRUE);
  a->current = *p;
  a->has_current = TRUE;
  emit (out, p->id, TF_VERDICT_REPLACE, TF_REASON_NONE, FALSE);
}

/* Under KEEP the camera that has waited longest is the one most likely to
 * be the intended replacement; the other policies promote only on a frame
 * (REPLACE_ON_FRAME) or never hold anyone (REPLACE). */
static void
promote_if_idle (TfArbiter * a, GArray * out)
{
  TfPeer p;

  if (a->policy != TF_PEER_POLICY_KEEP || a->has_current
      || a->pending->len == 0)
    return;

  p = g_array_index (a->pending, TfPeer, 0);
  g_array_remove_index (a->pending, 0);
  make_current (a, &p, out);
}

TfArbiter *
tf_arbiter_new (TfPeerPolicy policy, guint max_pending, guint64 timeout_ns)
{
  TfArbiter *a;

  g_return_val_if_fail (policy == TF_PEER_POLICY_REPLACE
      || policy == TF_PEER_POLICY_REPLACE_ON_FRAME
      || policy == TF_PEER_POLICY_KEEP, NULL);

  a = g_new0 (TfArbiter, 1);
  a->policy = policy;
  a->max_pending = max_pending;
  a->timeout_ns = timeout_ns;
  /* Reserve the usual case up front; max_pending is user input and may be
   * huge, so it only caps how far the array may grow. */
  a->pending = g_array_sized_new (FALSE, FALSE, sizeof (TfPeer),
      MIN (max_pending, 8) + 1);
  return a;
}

void
tf_arbiter_free (TfArbiter * a)
{
  if (a == NULL)
    return;
  g_array_free (a->pending, TRUE);
  g_free (a);
}

void
tf_arbiter_add (TfArbiter * a, guint peer, gint64 now, GArray * out)
{
  TfPeer p;
  guint bound;

  g_return_if_fail (a != NULL);
  g_return_if_fail (out != NULL);
  g_return_if_fail (peer != 0);
  g_return_if_fail (!tf_arbiter_has (a, peer));

  p.id = peer;
  p.last = now;

  if (a->policy == TF_PEER_POLICY_REPLACE
      || (a->policy == TF_PEER_POLICY_KEEP && !a->has_current)) {
    make_current (a, &p, out);
    return;
  }

  /* With nobody current, refusing every newcomer would lock the source
   * out for good when max_pending is 0, so one waiting slot is allowed. */
  bound = a->has_current ? a->max_pending : MAX (a->max_pending, 1);

  if (bound == 0) {
    emit (out, peer, TF_VERDICT_DROP, TF_REASON_TOO_MANY_PENDING, FALSE);
    return;
  }

  /* The newest connection wins: a camera that rebooted reconnects as the
   * newest, while its stale half-open predecessor is the oldest. */
  while (a->pending->len >= bound) {
    emit (out, g_array_index (a->pending, TfPeer, 0).id, TF_VERDICT_DROP,
        TF_REASON_TOO_MANY_PENDING, FALSE);
    g_array_remove_index (a->pending, 0);
  }
  g_array_append_val (a->pending, p);
}

gboolean
tf_arbiter_frame (TfArbiter * a, guint peer, gint64 now, GArray * out)
{
  gint idx;
  TfPeer p;

  g_return_val_if_fail (a != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  if (peer == 0)
    return FALSE;

  if (a->has_current && a->current.id == peer) {
    a->current.last = now;
    return TRUE;
  }

  idx = find_pending (a, peer);
  if (idx < 0)
    return FALSE;

  if (a->policy != TF_PEER_POLICY_REPLACE_ON_FRAME) {
    /* KEEP: the frame is discarded, but it proves the peer is alive. */
    g_array_index (a->pending, TfPeer, idx).last = now;
    return FALSE;
  }

  p = g_array_index (a->pending, TfPeer, idx);
  p.last = now;
  g_array_remove_index (a->pending, idx);
  make_current (a, &p, out);
  return TRUE;
}

void
tf_arbiter_remove (TfArbiter * a, guint peer, gint64 now G_GNUC_UNUSED,
    GArray * out)
{
  gint idx;

  g_return_if_fail (a != NULL);
  g_return_if_fail (out != NULL);

  if (peer == 0)
    return;

  if (a->has_current && a->current.id == peer) {
    a->has_current = FALSE;
    a->current.id = 0;
    promote_if_idle (a, out);
    return;
  }

  idx = find_pending (a, peer);
  if (idx >= 0)
    g_array_remove_index (a->pending, idx);
}

void
tf_arbiter_expire (TfArbiter * a, gint64 now, GArray * out)
{
  guint i;

  g_return_if_fail (a != NULL);
  g_return_if_fail (out != NULL);

  if (a->timeout_ns == 0)
    return;

  if (a->has_current && deadline_of (a, &a->current) <= now) {
    emit (out, a->current.id, TF_VERDICT_DROP, TF_REASON_TIMEOUT, TRUE);
    a->has_current = FALSE;
    a->current.id = 0;
  }

  i = 0;
  while (i < a->pending->len) {
    TfPeer *p = &g_array_index (a->pending, TfPeer, i);

    if (deadline_of (a, p) <= now) {
      emit (out, p->id, TF_VERDICT_DROP, TF_REASON_TIMEOUT, FALSE);
      g_array_remove_index (a->pending, i);
    } else {
      i++;
    }
  }

  /* Promote only after every stale peer is gone, so the new current peer
   * is one that is still alive. */
  promote_if_idle (a, out);
}

gint64
tf_arbiter_next_deadline (TfArbiter * a)
{
  gint64 best = G_MAXINT64;
  guint i;

  g_return_val_if_fail (a != NULL, -1);

  if (a->timeout_ns == 0 || (!a->has_current && a->pending->len == 0))
    return -1;

  if (a->has_current)
    best = deadline_of (a, &a->current);

  for (i = 0; i < a->pending->len; i++)
    best = MIN (best, deadline_of (a, &g_array_index (a->pending, TfPeer, i)));

  return best;
}

guint
tf_arbiter_current (TfArbiter * a)
{
  g_return_val_if_fail (a != NULL, 0);

  return a->has_current ? a->current.id : 0;
}

gboolean
tf_arbiter_has (TfArbiter * a, guint peer)
{
  g_return_val_if_fail (a != NULL, FALSE);

  if (peer == 0)
    return FALSE;
  if (a->has_current && a->current.id == peer)
    return TRUE;
  return find_pending (a, peer) >= 0;
}

guint
tf_arbiter_n_pending (TfArbiter * a)
{
  g_return_val_if_fail (a != NULL, 0);

  return a->pending->len;
}
