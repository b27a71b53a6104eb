/* tcpframe core: backoff unit tests, with a pinned random seed. */
#include <gst/check/gstcheck.h>
#include "tf-backoff.h"

#define MS G_GUINT64_CONSTANT (1000000)

GST_START_TEST (test_backoff_bounds_double_up_to_max)
{
  TfBackoff b;
  guint64 expected_ceiling[] = { 100, 200, 400, 800, 1600, 3200, 5000, 5000 };
  guint i, round;

  tf_backoff_init (&b, 100 * MS, 5000 * MS, -1, 42);
  for (i = 0; i < G_N_ELEMENTS (expected_ceiling); i++) {
    guint64 bound = expected_ceiling[i] * MS;
    guint64 d;

    fail_unless_equals_uint64 (b.ceiling_ns, bound);
    d = tf_backoff_next (&b);
    fail_unless (d <= bound, "delay %" G_GUINT64_FORMAT " over bound %"
        G_GUINT64_FORMAT, d, bound);
  }
  fail_unless_equals_int (b.attempts, G_N_ELEMENTS (expected_ceiling));

  /* Full jitter: over many draws at the cap, delays cover the whole range
   * rather than clustering at the bound. */
  for (round = 0; round < 2; round++) {
    guint64 lo = G_MAXUINT64, hi = 0, sum = 0;
    for (i = 0; i < 2000; i++) {
      guint64 d = tf_backoff_next (&b);
      lo = MIN (lo, d);
      hi = MAX (hi, d);
      sum += d / MS;
    }
    fail_unless (lo < 250 * MS, "smallest delay %" G_GUINT64_FORMAT, lo);
    fail_unless (hi > 4750 * MS && hi <= 5000 * MS);
    /* mean of U[0, 5000 ms] is 2500 ms */
    fail_unless (sum / 2000 > 2250 && sum / 2000 < 2750, "mean %"
        G_GUINT64_FORMAT " ms", sum / 2000);
  }
  tf_backoff_clear (&b);
}

GST_END_TEST;

GST_START_TEST (test_backoff_reset_after_success)
{
  TfBackoff b;
  guint i;

  tf_backoff_init (&b, 100 * MS, 5000 * MS, -1, 7);
  for (i = 0; i < 10; i++)
    tf_backoff_next (&b);
  fail_unless_equals_uint64 (b.ceiling_ns, 5000 * MS);
  tf_backoff_reset (&b);
  fail_unless_equals_uint64 (b.ceiling_ns, 100 * MS);
  fail_unless_equals_int (b.attempts, 0);
  fail_unless (tf_backoff_next (&b) <= 100 * MS);
  fail_unless_equals_uint64 (b.ceiling_ns, 200 * MS);
  tf_backoff_clear (&b);
}

GST_END_TEST;

GST_START_TEST (test_backoff_same_seed_same_delays)
{
  TfBackoff a, b;
  guint i;

  tf_backoff_init (&a, MS, 1000 * MS, -1, 99);
  tf_backoff_init (&b, MS, 1000 * MS, -1, 99);
  for (i = 0; i < 20; i++)
    fail_unless_equals_uint64 (tf_backoff_next (&a), tf_backoff_next (&b));
  tf_backoff_clear (&a);
  tf_backoff_clear (&b);
}

GST_END_TEST;

GST_START_TEST (test_backoff_huge_bounds_do_not_overflow)
{
  TfBackoff b;
  guint i;

  tf_backoff_init (&b, G_MAXUINT64 / 3, G_MAXUINT64, -1, 1);
  for (i = 0; i < 5; i++)
    tf_backoff_next (&b);
  fail_unless_equals_uint64 (b.ceiling_ns, G_MAXUINT64);
  tf_backoff_next (&b);
  tf_backoff_clear (&b);
}

GST_END_TEST;

/* max-retries=2: two failures in a row are retried, the third gives up.
 * A connection that streamed starts the count over, so failures spread
 * between working connections never add up to giving up. */
GST_START_TEST (test_backoff_retries_give_up_after_max)
{
  TfBackoff b;
  guint round;

  tf_backoff_init (&b, MS, 10 * MS, 2, 3);
  for (round = 0; round < 3; round++) {
    fail_unless (tf_backoff_failed (&b));
    fail_unless (tf_backoff_failed (&b));
    fail_unless_equals_int (b.failures, 2);
    tf_backoff_reset (&b);
    fail_unless_equals_int (b.failures, 0);
  }
  fail_unless (tf_backoff_failed (&b));
  fail_unless (tf_backoff_failed (&b));
  fail_unless (!tf_backoff_failed (&b), "a third failure in a row was "
      "retried with max-retries=2");
  fail_unless_equals_int (b.failures, 3);
  tf_backoff_clear (&b);

  /* max-retries=0: the first failure gives up. */
  tf_backoff_init (&b, MS, 10 * MS, 0, 3);
  fail_unless (!tf_backoff_failed (&b));
  tf_backoff_clear (&b);
}

GST_END_TEST;

/* max-retries=-1 never gives up, and its count does not wrap around. */
GST_START_TEST (test_backoff_retries_unlimited)
{
  TfBackoff b;
  guint i;

  tf_backoff_init (&b, MS, 10 * MS, -1, 3);
  for (i = 0; i < 10000; i++)
    fail_unless (tf_backoff_failed (&b), "gave up after %u failures", i + 1);
  b.failures = G_MAXUINT - 1;
  fail_unless (tf_backoff_failed (&b));
  fail_unless (tf_backoff_failed (&b));
  fail_unless_equals_uint64 (b.failures, G_MAXUINT);

  /* Nor does a large limit let the count wrap past it. */
  tf_backoff_clear (&b);
  tf_backoff_init (&b, MS, 10 * MS, G_MAXINT, 3);
  b.failures = G_MAXINT;
  fail_unless (!tf_backoff_failed (&b));
  tf_backoff_clear (&b);
}

GST_END_TEST;

static Suite *
backoff_suite (void)
{
  Suite *s = suite_create ("backoff");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_backoff_bounds_double_up_to_max);
  tcase_add_test (tc, test_backoff_reset_after_success);
  tcase_add_test (tc, test_backoff_same_seed_same_delays);
  tcase_add_test (tc, test_backoff_huge_bounds_do_not_overflow);
  tcase_add_test (tc, test_backoff_retries_give_up_after_max);
  tcase_add_test (tc, test_backoff_retries_unlimited);
  return s;
}

GST_CHECK_MAIN (backoff);
