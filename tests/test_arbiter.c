/* Unit tests for the peer arbiter.
 *
 * Time is passed explicitly, so these run without sockets or sleeps.  Every
 * call's decisions are checked as a whole sequence: the element acts on them
 * in order, so a missing, extra or reordered decision is a bug.
 */
#include <gst/check/gstcheck.h>

#include "tf-arbiter.h"

#define SEC G_GINT64_CONSTANT (1000000000)
/* A realistic monotonic clock does not start at 0. */
#define T0 (1000 * SEC)

#define REPL(p) { (p), TF_VERDICT_REPLACE, TF_REASON_NONE, FALSE }
#define DROP(p, r, cur) { (p), TF_VERDICT_DROP, TF_REASON_ ## r, (cur) }

static void
check_decisions (GArray * out, const TfDecision * exp, guint n_exp, int line)
{
  guint i;

  fail_unless (out->len == n_exp,
      "line %d: %u decisions, expected %u", line, out->len, n_exp);
  for (i = 0; i < n_exp; i++) {
    const TfDecision *d = &g_array_index (out, TfDecision, i);

    fail_unless (d->peer == exp[i].peer,
        "line %d: decision %u is for peer %u, expected %u",
        line, i, d->peer, exp[i].peer);
    fail_unless (d->verdict == exp[i].verdict,
        "line %d: decision %u verdict %d, expected %d",
        line, i, d->verdict, exp[i].verdict);
    if (d->verdict == TF_VERDICT_DROP) {
      fail_unless (d->reason == exp[i].reason,
          "line %d: decision %u reason %d, expected %d",
          line, i, d->reason, exp[i].reason);
      fail_unless (!d->was_current == !exp[i].was_current,
          "line %d: decision %u was_current %d, expected %d",
          line, i, d->was_current, exp[i].was_current);
    }
  }
  g_array_set_size (out, 0);
}

/* Checks and clears the decisions gathered so far. */
#define EXPECT(out, ...) G_STMT_START {                                 \
    const TfDecision exp_[] = { __VA_ARGS__ };                          \
    check_decisions ((out), exp_, G_N_ELEMENTS (exp_), __LINE__);       \
  } G_STMT_END
#define EXPECT_NONE(out) check_decisions ((out), NULL, 0, __LINE__)

static GArray *
new_out (void)
{
  return g_array_new (FALSE, FALSE, sizeof (TfDecision));
}

GST_START_TEST (test_arbiter_replace_new_peer_replaces_stale_current)
{
  TfArbiter *a = tf_arbiter_new (TF_PEER_POLICY_REPLACE, 1, 5 * SEC);
  GArray *out = new_out ();

  tf_arbiter_add (a, 1, T0, out);
  EXPECT (out, REPL (1));
  fail_unless_equals_int (tf_arbiter_current (a), 1);
  fail_unless (tf_arbiter_frame (a, 1, T0 + SEC, out));
  EXPECT_NONE (out);

  /* Camera 1 went silent; before its timeout a new connection arrives. */
  tf_arbiter_add (a, 2, T0 + 3 * SEC, out);
  EXPECT (out, DROP (1, REPLACED, TRUE), REPL (2));
  fail_unless_equals_int (tf_arbiter_current (a), 2);
  fail_unless (!tf_arbiter_has (a, 1));
  fail_unless_equals_int (tf_arbiter_n_pending (a), 0);

  fail_unless (!tf_arbiter_frame (a, 1, T0 + 4 * SEC, out));
  EXPECT_NONE (out);
  fail_unless (tf_arbiter_frame (a, 2, T0 + 4 * SEC, out));
  EXPECT_NONE (out);

  tf_arbiter_free (a);
  g_array_unref (out);
}

GST_END_TEST;

GST_START_TEST (test_arbiter_replace_never_keeps_pending)
{
  TfArbiter *a = tf_arbiter_new (TF_PEER_POLICY_REPLACE, 4, 0);
  GArray *out = new_out ();

  tf_arbiter_add (a, 1, T0, out);
  EXPECT (out, REPL (1));
  tf_arbiter_add (a, 2, T0 + 1, out);
  EXPECT (out, DROP (1, REPLACED, TRUE), REPL (2));
  tf_arbiter_add (a, 3, T0 + 2, out);
  EXPECT (out, DROP (2, REPLACED, TRUE), REPL (3));
  fail_unless_equals_int (tf_arbiter_n_pending (a), 0);
  fail_unless_equals_int (tf_arbiter_current (a), 3);

  /* Removing the only peer leaves nobody; nothing is waiting to take over. */
  tf_arbiter_remove (a, 3, T0 + 3, out);
  EXPECT_NONE (out);
  fail_unless_equals_int (tf_arbiter_current (a), 0);
  fail_unless (!tf_arbiter_has (a, 3));
  tf_arbiter_free (a);

  /* max_pending 0 does not stop REPLACE either: nobody is ever pending. */
  a = tf_arbiter_new (TF_PEER_POLICY_REPLACE, 0, 0);
  tf_arbiter_add (a, 1, T0, out);
  EXPECT (out, REPL (1));
  tf_arbiter_add (a, 2, T0 + 1, out);
  EXPECT (out, DROP (1, REPLACED, TRUE), REPL (2));
  fail_unless_equals_int (tf_arbiter_n_pending (a), 0);
  tf_arbiter_free (a);

  g_array_unref (out);
}

GST_END_TEST;

GST_START_TEST (test_arbiter_replace_current_times_out)
{
  TfArbiter *a = tf_arbiter_new (TF_PEER_POLICY_REPLACE, 1, 5 * SEC);
  GArray *out = new_out ();

  tf_arbiter_add (a, 1, T0, out);
  EXPECT (out, REPL (1));
  tf_arbiter_expire (a, T0 + 5 * SEC, out);
  EXPECT (out, DROP (1, TIMEOUT, TRUE));
  fail_unless_equals_int (tf_arbiter_current (a), 0);
  fail_unless_equals_int64 (tf_arbiter_next_deadline (a), -1);

  tf_arbiter_free (a);
  g_array_unref (out);
}

GST_END_TEST;

GST_START_TEST (test_arbiter_replace_on_frame_new_peer_replaces_stale_current)
{
  TfArbiter *a = tf_arbiter_new (TF_PEER_POLICY_REPLACE_ON_FRAME, 1,
      5 * SEC);
  GArray *out = new_out ();

  tf_arbiter_add (a, 1, T0, out);
  EXPECT_NONE (out);
  fail_unless_equals_int (tf_arbiter_current (a), 0);
  fail_unless_equals_int (tf_arbiter_n_pending (a), 1);
  fail_unless (tf_arbiter_has (a, 1));

  fail_unless (tf_arbiter_frame (a, 1, T0 + SEC, out));
  EXPECT (out, REPL (1));
  fail_unless_equals_int (tf_arbiter_current (a), 1);
  fail_unless_equals_int (tf_arbiter_n_pending (a), 0);

  /* Camera 1 stalls; its replacement connects and is held until it proves
   * itself with a frame. */
  tf_arbiter_add (a, 2, T0 + 2 * SEC, out);
  EXPECT_NONE (out);
  fail_unless_equals_int (tf_arbiter_current (a), 1);

  fail_unless (tf_arbiter_frame (a, 2, T0 + 3 * SEC, out));
  EXPECT (out, DROP (1, REPLACED, TRUE), REPL (2));
  fail_unless_equals_int (tf_arbiter_current (a), 2);
  fail_unless_equals_int (tf_arbiter_n_pending (a), 0);
  fail_unless (!tf_arbiter_has (a, 1));

  /* Its timeout clock starts at the promoting frame. */
  fail_unless_equals_int64 (tf_arbiter_next_deadline (a), T0 + 8 * SEC);

  fail_unless (tf_arbiter_frame (a, 2, T0 + 4 * SEC, out));
  EXPECT_NONE (out);

  tf_arbiter_free (a);
  g_array_unref (out);
}

GST_END_TEST;

GST_START_TEST (test_arbiter_replace_on_frame_scanner_never_interrupts)
{
  TfArbiter *a = tf_arbiter_new (TF_PEER_POLICY_REPLACE_ON_FRAME, 2,
      5 * SEC);
  GArray *out = new_out ();
  gint64 t;

  tf_arbiter_add (a, 1, T0, out);
  fail_unless (tf_arbiter_frame (a, 1, T0, out));
  EXPECT (out, REPL (1));

  /* Two scanners connect and never send anything. */
  tf_arbiter_add (a, 2, T0 + SEC, out);
  tf_arbiter_add (a, 3, T0 + 2 * SEC, out);
  EXPECT_NONE (out);

  for (t = T0 + SEC; t <= T0 + 10 * SEC; t += SEC / 2) {
    fail_unless (tf_arbiter_frame (a, 1, t, out));
    tf_arbiter_expire (a, t, out);
    if (t == T0 + 6 * SEC)
      EXPECT (out, DROP (2, TIMEOUT, FALSE));
    else if (t == T0 + 7 * SEC)
      EXPECT (out, DROP (3, TIMEOUT, FALSE));
    else
      EXPECT_NONE (out);
    fail_unless_equals_int (tf_arbiter_current (a), 1);
  }
  fail_unless_equals_int (tf_arbiter_n_pending (a), 0);

  /* A scanner that hangs up by itself leaves no trace either. */
  tf_arbiter_add (a, 4, t, out);
  tf_arbiter_remove (a, 4, t + 1, out);
  EXPECT_NONE (out);
  fail_unless_equals_int (tf_arbiter_current (a), 1);
  fail_unless (!tf_arbiter_has (a, 4));

  tf_arbiter_free (a);
  g_array_unref (out);
}

GST_END_TEST;

GST_START_TEST (test_arbiter_replace_on_frame_remove_current_no_promotion)
{
  TfArbiter *a = tf_arbiter_new (TF_PEER_POLICY_REPLACE_ON_FRAME, 2, 0);
  GArray *out = new_out ();

  tf_arbiter_add (a, 1, T0, out);
  fail_unless (tf_arbiter_frame (a, 1, T0, out));
  EXPECT (out, REPL (1));
  tf_arbiter_add (a, 2, T0 + 1, out);
  tf_arbiter_add (a, 3, T0 + 2, out);
  EXPECT_NONE (out);

  /* Pending peers have not sent a frame, so none may become current. */
  tf_arbiter_remove (a, 1, T0 + 3, out);
  EXPECT_NONE (out);
  fail_unless_equals_int (tf_arbiter_current (a), 0);
  fail_unless_equals_int (tf_arbiter_n_pending (a), 2);

  /* The one that frames first wins, not the oldest. */
  fail_unless (tf_arbiter_frame (a, 3, T0 + 4, out));
  EXPECT (out, REPL (3));
  fail_unless_equals_int (tf_arbiter_current (a), 3);
  fail_unless_equals_int (tf_arbiter_n_pending (a), 1);
  fail_unless (tf_arbiter_has (a, 2));

  tf_arbiter_free (a);
  g_array_unref (out);
}

GST_END_TEST;

GST_START_TEST (test_arbiter_keep_new_peer_replaces_stale_current)
{
  TfArbiter *a = tf_arbiter_new (TF_PEER_POLICY_KEEP, 1, 5 * SEC);
  GArray *out = new_out ();

  tf_arbiter_add (a, 1, T0, out);
  EXPECT (out, REPL (1));
  fail_unless (tf_arbiter_frame (a, 1, T0 + SEC, out));

  tf_arbiter_add (a, 2, T0 + 2 * SEC, out);
  EXPECT_NONE (out);
  fail_unless_equals_int (tf_arbiter_current (a), 1);
  fail_unless_equals_int (tf_arbiter_n_pending (a), 1);

  /* The waiting peer's frames are discarded but keep it alive. */
  fail_unless (!tf_arbiter_frame (a, 2, T0 + 5 * SEC, out));
  EXPECT_NONE (out);
  fail_unless_equals_int (tf_arbiter_current (a), 1);

  /* Camera 1 stalled after T0 + 1s. */
  tf_arbiter_expire (a, T0 + 6 * SEC, out);
  EXPECT (out, DROP (1, TIMEOUT, TRUE), REPL (2));
  fail_unless_equals_int (tf_arbiter_current (a), 2);
  fail_unless_equals_int (tf_arbiter_n_pending (a), 0);
  /* The promoted peer keeps its own clock from its last discarded frame. */
  fail_unless_equals_int64 (tf_arbiter_next_deadline (a), T0 + 10 * SEC);
  fail_unless (tf_arbiter_frame (a, 2, T0 + 7 * SEC, out));
  EXPECT_NONE (out);

  tf_arbiter_free (a);
  g_array_unref (out);
}

GST_END_TEST;

GST_START_TEST (test_arbiter_keep_promotes_oldest_on_remove)
{
  TfArbiter *a = tf_arbiter_new (TF_PEER_POLICY_KEEP, 3, 0);
  GArray *out = new_out ();

  tf_arbiter_add (a, 1, T0, out);
  EXPECT (out, REPL (1));
  tf_arbiter_add (a, 2, T0 + 1, out);
  tf_arbiter_add (a, 3, T0 + 2, out);
  tf_arbiter_add (a, 4, T0 + 3, out);
  EXPECT_NONE (out);
  /* A newer peer framing first changes nothing: arrival order decides. */
  fail_unless (!tf_arbiter_frame (a, 4, T0 + 4, out));
  EXPECT_NONE (out);

  tf_arbiter_remove (a, 1, T0 + 5, out);
  EXPECT (out, REPL (2));
  fail_unless_equals_int (tf_arbiter_current (a), 2);
  fail_unless_equals_int (tf_arbiter_n_pending (a), 2);

  tf_arbiter_remove (a, 2, T0 + 6, out);
  EXPECT (out, REPL (3));

  /* Removing a pending peer promotes nobody. */
  tf_arbiter_remove (a, 4, T0 + 7, out);
  EXPECT_NONE (out);
  fail_unless_equals_int (tf_arbiter_current (a), 3);
  fail_unless_equals_int (tf_arbiter_n_pending (a), 0);

  tf_arbiter_remove (a, 3, T0 + 8, out);
  EXPECT_NONE (out);
  fail_unless_equals_int (tf_arbiter_current (a), 0);

  /* With nobody current again, the next connection takes over at once. */
  tf_arbiter_add (a, 5, T0 + 9, out);
  EXPECT (out, REPL (5));

  tf_arbiter_free (a);
  g_array_unref (out);
}

GST_END_TEST;

GST_START_TEST (test_arbiter_keep_promotes_oldest_on_timeout)
{
  TfArbiter *a = tf_arbiter_new (TF_PEER_POLICY_KEEP, 3, 10 * SEC);
  GArray *out = new_out ();

  tf_arbiter_add (a, 1, T0, out);
  EXPECT (out, REPL (1));
  tf_arbiter_add (a, 2, T0 + 1 * SEC, out);
  tf_arbiter_add (a, 3, T0 + 2 * SEC, out);
  fail_unless (!tf_arbiter_frame (a, 3, T0 + 3 * SEC, out));
  tf_arbiter_add (a, 4, T0 + 4 * SEC, out);
  EXPECT_NONE (out);

  /* Deadlines: 1 at T0+10, 2 at T0+11, 3 at T0+13, 4 at T0+14. */
  fail_unless_equals_int64 (tf_arbiter_next_deadline (a), T0 + 10 * SEC);

  tf_arbiter_expire (a, T0 + 11 * SEC, out);
  /* The stale pending peer 2 is dropped, not promoted; 3 is the oldest
   * survivor. */
  EXPECT (out, DROP (1, TIMEOUT, TRUE), DROP (2, TIMEOUT, FALSE), REPL (3));
  fail_unless_equals_int (tf_arbiter_current (a), 3);
  fail_unless_equals_int (tf_arbiter_n_pending (a), 1);

  /* 3 kept its own clock (its discarded frame at T0+3), it was not reset by
   * the promotion. */
  fail_unless_equals_int64 (tf_arbiter_next_deadline (a), T0 + 13 * SEC);
  tf_arbiter_expire (a, T0 + 13 * SEC - 1, out);
  EXPECT_NONE (out);
  tf_arbiter_expire (a, T0 + 13 * SEC, out);
  EXPECT (out, DROP (3, TIMEOUT, TRUE), REPL (4));
  fail_unless_equals_int64 (tf_arbiter_next_deadline (a), T0 + 14 * SEC);

  tf_arbiter_expire (a, T0 + 14 * SEC, out);
  EXPECT (out, DROP (4, TIMEOUT, TRUE));
  fail_unless_equals_int (tf_arbiter_current (a), 0);
  fail_unless_equals_int64 (tf_arbiter_next_deadline (a), -1);

  tf_arbiter_free (a);
  g_array_unref (out);
}

GST_END_TEST;

GST_START_TEST (test_arbiter_keep_all_stale_promotes_nobody)
{
  TfArbiter *a = tf_arbiter_new (TF_PEER_POLICY_KEEP, 2, 10 * SEC);
  GArray *out = new_out ();

  tf_arbiter_add (a, 1, T0, out);
  tf_arbiter_add (a, 2, T0 + SEC, out);
  tf_arbiter_add (a, 3, T0 + 2 * SEC, out);
  EXPECT (out, REPL (1));

  tf_arbiter_expire (a, T0 + 20 * SEC, out);
  EXPECT (out, DROP (1, TIMEOUT, TRUE), DROP (2, TIMEOUT, FALSE),
      DROP (3, TIMEOUT, FALSE));
  fail_unless_equals_int (tf_arbiter_current (a), 0);
  fail_unless_equals_int (tf_arbiter_n_pending (a), 0);

  tf_arbiter_free (a);
  g_array_unref (out);
}

GST_END_TEST;

GST_START_TEST (test_arbiter_timeout_boundary)
{
  TfArbiter *a = tf_arbiter_new (TF_PEER_POLICY_KEEP, 1, 5 * SEC);
  GArray *out = new_out ();

  /* No frame yet: the clock runs from arrival. */
  tf_arbiter_add (a, 1, T0, out);
  EXPECT (out, REPL (1));
  tf_arbiter_expire (a, T0 + 5 * SEC - 1, out);
  EXPECT_NONE (out);

  /* A frame restarts it. */
  fail_unless (tf_arbiter_frame (a, 1, T0 + 5 * SEC - 1, out));
  tf_arbiter_expire (a, T0 + 5 * SEC, out);
  EXPECT_NONE (out);
  fail_unless_equals_int64 (tf_arbiter_next_deadline (a),
      T0 + 10 * SEC - 1);
  tf_arbiter_expire (a, T0 + 10 * SEC - 2, out);
  EXPECT_NONE (out);
  tf_arbiter_expire (a, T0 + 10 * SEC - 1, out);
  EXPECT (out, DROP (1, TIMEOUT, TRUE));
  fail_unless (!tf_arbiter_has (a, 1));

  /* Expiring again finds nothing; a later frame from it is ignored. */
  tf_arbiter_expire (a, T0 + 20 * SEC, out);
  EXPECT_NONE (out);
  fail_unless (!tf_arbiter_frame (a, 1, T0 + 20 * SEC, out));
  EXPECT_NONE (out);

  tf_arbiter_free (a);
  g_array_unref (out);
}

GST_END_TEST;

GST_START_TEST (test_arbiter_pending_timeout)
{
  TfArbiter *a = tf_arbiter_new (TF_PEER_POLICY_REPLACE_ON_FRAME, 2,
      5 * SEC);
  GArray *out = new_out ();

  /* Pending with nobody current. */
  tf_arbiter_add (a, 1, T0, out);
  tf_arbiter_add (a, 2, T0 + SEC, out);
  EXPECT_NONE (out);
  fail_unless_equals_int64 (tf_arbiter_next_deadline (a), T0 + 5 * SEC);
  tf_arbiter_expire (a, T0 + 5 * SEC - 1, out);
  EXPECT_NONE (out);
  tf_arbiter_expire (a, T0 + 5 * SEC, out);
  EXPECT (out, DROP (1, TIMEOUT, FALSE));
  fail_unless_equals_int64 (tf_arbiter_next_deadline (a), T0 + 6 * SEC);
  tf_arbiter_expire (a, T0 + 6 * SEC, out);
  EXPECT (out, DROP (2, TIMEOUT, FALSE));
  fail_unless_equals_int (tf_arbiter_n_pending (a), 0);
  fail_unless_equals_int64 (tf_arbiter_next_deadline (a), -1);
  tf_arbiter_free (a);

  /* Under KEEP a pending peer's discarded frames push its deadline out. */
  a = tf_arbiter_new (TF_PEER_POLICY_KEEP, 1, 5 * SEC);
  tf_arbiter_add (a, 1, T0, out);
  tf_arbiter_add (a, 2, T0, out);
  EXPECT (out, REPL (1));
  fail_unless (tf_arbiter_frame (a, 1, T0 + 4 * SEC, out));
  fail_unless (!tf_arbiter_frame (a, 2, T0 + 2 * SEC, out));
  EXPECT_NONE (out);
  fail_unless_equals_int64 (tf_arbiter_next_deadline (a), T0 + 7 * SEC);
  tf_arbiter_expire (a, T0 + 7 * SEC - 1, out);
  EXPECT_NONE (out);
  tf_arbiter_expire (a, T0 + 7 * SEC, out);
  EXPECT (out, DROP (2, TIMEOUT, FALSE));
  fail_unless_equals_int (tf_arbiter_current (a), 1);
  fail_unless_equals_int64 (tf_arbiter_next_deadline (a), T0 + 9 * SEC);
  tf_arbiter_free (a);

  g_array_unref (out);
}

GST_END_TEST;

GST_START_TEST (test_arbiter_timeout_zero)
{
  static const TfPeerPolicy policies[] = {
    TF_PEER_POLICY_REPLACE, TF_PEER_POLICY_REPLACE_ON_FRAME,
    TF_PEER_POLICY_KEEP,
  };
  GArray *out = new_out ();
  guint i;

  for (i = 0; i < G_N_ELEMENTS (policies); i++) {
    TfArbiter *a = tf_arbiter_new (policies[i], 2, 0);

    tf_arbiter_add (a, 1, T0, out);
    tf_arbiter_frame (a, 1, T0, out);
    tf_arbiter_add (a, 2, T0, out);
    g_array_set_size (out, 0);
    fail_unless_equals_int64 (tf_arbiter_next_deadline (a), -1);
    tf_arbiter_expire (a, G_MAXINT64, out);
    EXPECT_NONE (out);
    fail_unless (tf_arbiter_has (a, 2));
    fail_unless (tf_arbiter_current (a) != 0);
    tf_arbiter_free (a);
  }

  g_array_unref (out);
}

GST_END_TEST;

GST_START_TEST (test_arbiter_huge_timeout_saturates)
{
  TfArbiter *a = tf_arbiter_new (TF_PEER_POLICY_KEEP, 1, G_MAXUINT64);
  GArray *out = new_out ();

  tf_arbiter_add (a, 1, T0, out);
  EXPECT (out, REPL (1));
  /* Must not wrap into the past. */
  fail_unless_equals_int64 (tf_arbiter_next_deadline (a), G_MAXINT64);
  tf_arbiter_expire (a, G_MAXINT64 - 1, out);
  EXPECT_NONE (out);
  fail_unless_equals_int (tf_arbiter_current (a), 1);

  tf_arbiter_free (a);
  g_array_unref (out);
}

GST_END_TEST;

GST_START_TEST (test_arbiter_next_deadline)
{
  TfArbiter *a = tf_arbiter_new (TF_PEER_POLICY_REPLACE_ON_FRAME, 3,
      10 * SEC);
  GArray *out = new_out ();

  fail_unless_equals_int64 (tf_arbiter_next_deadline (a), -1);

  tf_arbiter_add (a, 1, T0, out);
  fail_unless_equals_int64 (tf_arbiter_next_deadline (a), T0 + 10 * SEC);
  tf_arbiter_add (a, 2, T0 + SEC, out);
  fail_unless_equals_int64 (tf_arbiter_next_deadline (a), T0 + 10 * SEC);

  /* 1 becomes current at T0+2: now the pending 2 is the earliest. */
  fail_unless (tf_arbiter_frame (a, 1, T0 + 2 * SEC, out));
  EXPECT (out, REPL (1));
  fail_unless_equals_int64 (tf_arbiter_next_deadline (a), T0 + 11 * SEC);

  tf_arbiter_remove (a, 2, T0 + 3 * SEC, out);
  fail_unless_equals_int64 (tf_arbiter_next_deadline (a), T0 + 12 * SEC);
  fail_unless (tf_arbiter_frame (a, 1, T0 + 4 * SEC, out));
  fail_unless_equals_int64 (tf_arbiter_next_deadline (a), T0 + 14 * SEC);

  /* A pending peer arriving later does not move the minimum. */
  tf_arbiter_add (a, 3, T0 + 5 * SEC, out);
  fail_unless_equals_int64 (tf_arbiter_next_deadline (a), T0 + 14 * SEC);
  EXPECT_NONE (out);

  tf_arbiter_remove (a, 1, T0 + 6 * SEC, out);
  fail_unless_equals_int64 (tf_arbiter_next_deadline (a), T0 + 15 * SEC);
  tf_arbiter_remove (a, 3, T0 + 7 * SEC, out);
  fail_unless_equals_int64 (tf_arbiter_next_deadline (a), -1);
  EXPECT_NONE (out);

  tf_arbiter_free (a);
  g_array_unref (out);
}

GST_END_TEST;

GST_START_TEST (test_arbiter_max_pending_drops_oldest)
{
  static const TfPeerPolicy policies[] = {
    TF_PEER_POLICY_REPLACE_ON_FRAME, TF_PEER_POLICY_KEEP,
  };
  GArray *out = new_out ();
  TfArbiter *a;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (policies); i++) {
    a = tf_arbiter_new (policies[i], 2, 0);

    tf_arbiter_add (a, 1, T0, out);
    fail_unless (tf_arbiter_frame (a, 1, T0, out));
    EXPECT (out, REPL (1));

    tf_arbiter_add (a, 2, T0 + 1, out);
    tf_arbiter_add (a, 3, T0 + 2, out);
    EXPECT_NONE (out);
    tf_arbiter_add (a, 4, T0 + 3, out);
    EXPECT (out, DROP (2, TOO_MANY_PENDING, FALSE));
    tf_arbiter_add (a, 5, T0 + 4, out);
    EXPECT (out, DROP (3, TOO_MANY_PENDING, FALSE));

    fail_unless_equals_int (tf_arbiter_n_pending (a), 2);
    fail_unless_equals_int (tf_arbiter_current (a), 1);
    fail_unless (!tf_arbiter_has (a, 2));
    fail_unless (!tf_arbiter_has (a, 3));
    fail_unless (tf_arbiter_has (a, 4));
    fail_unless (tf_arbiter_has (a, 5));
    tf_arbiter_free (a);
  }

  /* Without a current peer the same bound applies. */
  a = tf_arbiter_new (TF_PEER_POLICY_REPLACE_ON_FRAME, 2, 0);
  tf_arbiter_add (a, 1, T0, out);
  tf_arbiter_add (a, 2, T0 + 1, out);
  EXPECT_NONE (out);
  tf_arbiter_add (a, 3, T0 + 2, out);
  EXPECT (out, DROP (1, TOO_MANY_PENDING, FALSE));
  fail_unless_equals_int (tf_arbiter_n_pending (a), 2);
  fail_unless_equals_int (tf_arbiter_current (a), 0);
  tf_arbiter_free (a);

  g_array_unref (out);
}

GST_END_TEST;

GST_START_TEST (test_arbiter_max_pending_zero_with_current)
{
  static const TfPeerPolicy policies[] = {
    TF_PEER_POLICY_REPLACE_ON_FRAME, TF_PEER_POLICY_KEEP,
  };
  GArray *out = new_out ();
  guint i;

  for (i = 0; i < G_N_ELEMENTS (policies); i++) {
    TfArbiter *a = tf_arbiter_new (policies[i], 0, 5 * SEC);

    tf_arbiter_add (a, 1, T0, out);
    fail_unless (tf_arbiter_frame (a, 1, T0, out));
    EXPECT (out, REPL (1));

    /* No room at all: the newcomer itself is refused. */
    tf_arbiter_add (a, 2, T0 + 1, out);
    EXPECT (out, DROP (2, TOO_MANY_PENDING, FALSE));
    fail_unless (!tf_arbiter_has (a, 2));
    fail_unless_equals_int (tf_arbiter_n_pending (a), 0);
    fail_unless_equals_int (tf_arbiter_current (a), 1);
    fail_unless (!tf_arbiter_frame (a, 2, T0 + 2, out));
    EXPECT_NONE (out);
    fail_unless_equals_int64 (tf_arbiter_next_deadline (a), T0 + 5 * SEC);
    tf_arbiter_free (a);
  }

  g_array_unref (out);
}

GST_END_TEST;

GST_START_TEST (test_arbiter_max_pending_zero_without_current)
{
  TfArbiter *a = tf_arbiter_new (TF_PEER_POLICY_REPLACE_ON_FRAME, 0, 0);
  GArray *out = new_out ();

  /* One slot is kept while nobody is current, newest wins it. */
  tf_arbiter_add (a, 1, T0, out);
  EXPECT_NONE (out);
  fail_unless_equals_int (tf_arbiter_n_pending (a), 1);
  tf_arbiter_add (a, 2, T0 + 1, out);
  EXPECT (out, DROP (1, TOO_MANY_PENDING, FALSE));
  fail_unless_equals_int (tf_arbiter_n_pending (a), 1);

  fail_unless (tf_arbiter_frame (a, 2, T0 + 2, out));
  EXPECT (out, REPL (2));
  fail_unless_equals_int (tf_arbiter_n_pending (a), 0);

  tf_arbiter_add (a, 3, T0 + 3, out);
  EXPECT (out, DROP (3, TOO_MANY_PENDING, FALSE));

  /* The slot reopens once the current peer is gone. */
  tf_arbiter_remove (a, 2, T0 + 4, out);
  EXPECT_NONE (out);
  tf_arbiter_add (a, 4, T0 + 5, out);
  EXPECT_NONE (out);
  fail_unless (tf_arbiter_frame (a, 4, T0 + 6, out));
  EXPECT (out, REPL (4));
  tf_arbiter_free (a);

  /* KEEP needs no slot while idle: the newcomer becomes current. */
  a = tf_arbiter_new (TF_PEER_POLICY_KEEP, 0, 0);
  tf_arbiter_add (a, 1, T0, out);
  EXPECT (out, REPL (1));
  tf_arbiter_add (a, 2, T0 + 1, out);
  EXPECT (out, DROP (2, TOO_MANY_PENDING, FALSE));
  tf_arbiter_remove (a, 1, T0 + 2, out);
  EXPECT_NONE (out);
  tf_arbiter_add (a, 3, T0 + 3, out);
  EXPECT (out, REPL (3));
  tf_arbiter_free (a);

  g_array_unref (out);
}

GST_END_TEST;

GST_START_TEST (test_arbiter_remove_unknown)
{
  TfArbiter *a = tf_arbiter_new (TF_PEER_POLICY_KEEP, 2, 5 * SEC);
  GArray *out = new_out ();

  tf_arbiter_remove (a, 42, T0, out);
  EXPECT_NONE (out);

  tf_arbiter_add (a, 1, T0, out);
  tf_arbiter_add (a, 2, T0 + 1, out);
  EXPECT (out, REPL (1));

  tf_arbiter_remove (a, 42, T0 + 2, out);
  tf_arbiter_remove (a, 0, T0 + 2, out);
  EXPECT_NONE (out);
  fail_unless_equals_int (tf_arbiter_current (a), 1);
  fail_unless_equals_int (tf_arbiter_n_pending (a), 1);
  fail_unless_equals_int64 (tf_arbiter_next_deadline (a), T0 + 5 * SEC);

  /* Removing twice: the second is for an id that is no longer known. */
  tf_arbiter_remove (a, 1, T0 + 3, out);
  EXPECT (out, REPL (2));
  tf_arbiter_remove (a, 1, T0 + 4, out);
  EXPECT_NONE (out);
  fail_unless_equals_int (tf_arbiter_current (a), 2);

  tf_arbiter_free (a);
  g_array_unref (out);
}

GST_END_TEST;

GST_START_TEST (test_arbiter_frame_unknown)
{
  TfArbiter *a = tf_arbiter_new (TF_PEER_POLICY_REPLACE_ON_FRAME, 1,
      5 * SEC);
  GArray *out = new_out ();

  fail_unless (!tf_arbiter_frame (a, 7, T0, out));
  EXPECT_NONE (out);
  fail_unless_equals_int (tf_arbiter_current (a), 0);
  fail_unless (!tf_arbiter_has (a, 7));

  tf_arbiter_add (a, 1, T0, out);
  fail_unless (tf_arbiter_frame (a, 1, T0, out));
  EXPECT (out, REPL (1));

  fail_unless (!tf_arbiter_frame (a, 7, T0 + SEC, out));
  fail_unless (!tf_arbiter_frame (a, 0, T0 + SEC, out));
  EXPECT_NONE (out);
  fail_unless_equals_int (tf_arbiter_current (a), 1);
  /* An unknown id's frame must not count as the current peer's liveness. */
  fail_unless_equals_int64 (tf_arbiter_next_deadline (a), T0 + 5 * SEC);

  /* A removed peer is unknown too. */
  tf_arbiter_remove (a, 1, T0 + 2 * SEC, out);
  fail_unless (!tf_arbiter_frame (a, 1, T0 + 3 * SEC, out));
  EXPECT_NONE (out);
  fail_unless_equals_int (tf_arbiter_current (a), 0);

  tf_arbiter_free (a);
  g_array_unref (out);
}

GST_END_TEST;

static Suite *
arbiter_suite (void)
{
  Suite *s = suite_create ("arbiter");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_arbiter_replace_new_peer_replaces_stale_current);
  tcase_add_test (tc, test_arbiter_replace_never_keeps_pending);
  tcase_add_test (tc, test_arbiter_replace_current_times_out);
  tcase_add_test (tc,
      test_arbiter_replace_on_frame_new_peer_replaces_stale_current);
  tcase_add_test (tc, test_arbiter_replace_on_frame_scanner_never_interrupts);
  tcase_add_test (tc,
      test_arbiter_replace_on_frame_remove_current_no_promotion);
  tcase_add_test (tc, test_arbiter_keep_new_peer_replaces_stale_current);
  tcase_add_test (tc, test_arbiter_keep_promotes_oldest_on_remove);
  tcase_add_test (tc, test_arbiter_keep_promotes_oldest_on_timeout);
  tcase_add_test (tc, test_arbiter_keep_all_stale_promotes_nobody);
  tcase_add_test (tc, test_arbiter_timeout_boundary);
  tcase_add_test (tc, test_arbiter_pending_timeout);
  tcase_add_test (tc, test_arbiter_timeout_zero);
  tcase_add_test (tc, test_arbiter_huge_timeout_saturates);
  tcase_add_test (tc, test_arbiter_next_deadline);
  tcase_add_test (tc, test_arbiter_max_pending_drops_oldest);
  tcase_add_test (tc, test_arbiter_max_pending_zero_with_current);
  tcase_add_test (tc, test_arbiter_max_pending_zero_without_current);
  tcase_add_test (tc, test_arbiter_remove_unknown);
  tcase_add_test (tc, test_arbiter_frame_unknown);

  return s;
}

GST_CHECK_MAIN (arbiter);
