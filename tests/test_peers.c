#include <gst/check/gstcheck.h>
#include "tf-testpeer.h"

GST_START_TEST (test_peers_placeholder)
{
}

GST_END_TEST;

static Suite *
peers_suite (void)
{
  Suite *s = suite_create ("peers");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_peers_placeholder);
  return s;
}

GST_CHECK_MAIN (peers);
