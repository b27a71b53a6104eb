/* Unit tests for the address allow-list.
 *
 * The error messages are checked word for word: they are what a user sees
 * in the warning when the element refuses a property value, so they are
 * part of the interface.
 */
#include <gst/check/gstcheck.h>
#include <string.h>

#include "tf-allowlist.h"

static TfAllowList *
parse_ok (const gchar * spec)
{
  GError *err = NULL;
  TfAllowList *l = tf_allowlist_parse (spec, &err);

  fail_unless (l != NULL, "\"%s\" failed: %s", spec,
      err ? err->message : "(no error)");
  fail_unless (err == NULL);
  return l;
}

/* Expects `spec` to fail with `message` (any message if NULL). */
static void
assert_bad (const gchar * spec, const gchar * message)
{
  GError *err = NULL;
  TfAllowList *l = tf_allowlist_parse (spec, &err);

  fail_unless (l == NULL, "\"%s\" was accepted", spec);
  fail_unless (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT),
      "\"%s\": wrong error", spec);
  fail_unless (g_utf8_validate (err->message, -1, NULL));
  /* The check macros are bare blocks: braces keep the else attached. */
  if (message) {
    fail_unless_equals_string (err->message, message);
  } else {
    fail_unless (g_str_has_prefix (err->message, "bad allow entry \""),
        "\"%s\": %s", spec, err->message);
  }
  g_error_free (err);

  /* Without a GError the result is the same, and nothing leaks. */
  fail_unless (tf_allowlist_parse (spec, NULL) == NULL);
}

/* Checks `address` against `l` through both entry points, which must
 * agree. */
static void
assert_allows (const TfAllowList * l, const gchar * address, gboolean expect)
{
  GInetAddress *addr = g_inet_address_new_from_string (address);

  fail_unless (addr != NULL, "bad test address %s", address);
  fail_unless (tf_allowlist_allows (l, address) == expect,
      "%s should be %s", address, expect ? "allowed" : "refused");
  fail_unless (tf_allowlist_allows_inet (l, addr) == expect,
      "%s (inet) should be %s", address, expect ? "allowed" : "refused");
  g_object_unref (addr);
}

GST_START_TEST (test_allowlist_empty_allows_everyone)
{
  const gchar *specs[] = { "", " ", "\t \n", NULL };
  TfAllowList *l;
  guint i;

  l = parse_ok (NULL);
  fail_unless (tf_allowlist_is_empty (l));
  assert_allows (l, "10.0.0.1", TRUE);
  assert_allows (l, "::1", TRUE);
  assert_allows (l, "::ffff:192.168.1.1", TRUE);
  /* An empty list imposes nothing, not even that the peer is an address. */
  fail_unless (tf_allowlist_allows (l, "not an address"));
  tf_allowlist_free (l);

  for (i = 0; specs[i]; i++) {
    l = parse_ok (specs[i]);
    fail_unless (tf_allowlist_is_empty (l), "\"%s\" is not empty", specs[i]);
    assert_allows (l, "192.0.2.1", TRUE);
    tf_allowlist_free (l);
  }
}

GST_END_TEST;

/* NULL stands for the empty list, so a caller need not create one. */
GST_START_TEST (test_allowlist_null_list)
{
  GInetAddress *addr = g_inet_address_new_from_string ("10.0.0.1");

  fail_unless (tf_allowlist_is_empty (NULL));
  fail_unless (tf_allowlist_allows (NULL, "10.0.0.1"));
  fail_unless (tf_allowlist_allows_inet (NULL, addr));
  tf_allowlist_free (NULL);
  g_object_unref (addr);
}

GST_END_TEST;

GST_START_TEST (test_allowlist_mixed_list)
{
  TfAllowList *l = parse_ok ("192.168.10.0/24,::1, 10.0.0.7");

  fail_unless (!tf_allowlist_is_empty (l));
  assert_allows (l, "192.168.10.0", TRUE);
  assert_allows (l, "192.168.10.5", TRUE);
  assert_allows (l, "192.168.10.255", TRUE);
  assert_allows (l, "192.168.11.0", FALSE);
  assert_allows (l, "192.168.9.255", FALSE);
  assert_allows (l, "10.0.0.7", TRUE);
  assert_allows (l, "10.0.0.6", FALSE);
  assert_allows (l, "10.0.0.8", FALSE);
  assert_allows (l, "::1", TRUE);
  assert_allows (l, "::2", FALSE);
  assert_allows (l, "127.0.0.1", FALSE);
  tf_allowlist_free (l);
}

GST_END_TEST;

GST_START_TEST (test_allowlist_whitespace_around_entries)
{
  TfAllowList *l = parse_ok (" \t10.0.0.7 ,\n::1\r\n, 192.168.0.0/16  ");

  assert_allows (l, "10.0.0.7", TRUE);
  assert_allows (l, "::1", TRUE);
  assert_allows (l, "192.168.200.1", TRUE);
  assert_allows (l, "10.0.0.8", FALSE);
  tf_allowlist_free (l);
}

GST_END_TEST;

GST_START_TEST (test_allowlist_prefix_boundaries)
{
  TfAllowList *l;

  /* Prefixes that do not end on a byte. */
  l = parse_ok ("10.0.0.0/9");
  assert_allows (l, "10.0.0.0", TRUE);
  assert_allows (l, "10.127.255.255", TRUE);
  assert_allows (l, "10.128.0.0", FALSE);
  assert_allows (l, "9.255.255.255", FALSE);
  tf_allowlist_free (l);

  l = parse_ok ("172.16.0.0/12, 192.168.1.128/25");
  assert_allows (l, "172.31.255.255", TRUE);
  assert_allows (l, "172.32.0.0", FALSE);
  assert_allows (l, "192.168.1.128", TRUE);
  assert_allows (l, "192.168.1.255", TRUE);
  assert_allows (l, "192.168.1.127", FALSE);
  tf_allowlist_free (l);

  /* /32 is the host itself, like no prefix at all. */
  l = parse_ok ("198.51.100.7/32");
  assert_allows (l, "198.51.100.7", TRUE);
  assert_allows (l, "198.51.100.6", FALSE);
  tf_allowlist_free (l);

  /* /0: the whole family, and only that family. */
  l = parse_ok ("0.0.0.0/0");
  assert_allows (l, "0.0.0.0", TRUE);
  assert_allows (l, "255.255.255.255", TRUE);
  assert_allows (l, "::ffff:203.0.113.9", TRUE);
  assert_allows (l, "::1", FALSE);
  assert_allows (l, "2001:db8::1", FALSE);
  tf_allowlist_free (l);
}

GST_END_TEST;

GST_START_TEST (test_allowlist_ipv6)
{
  TfAllowList *l = parse_ok ("2001:db8::/32, fe80::/10, 2001:db8:ffff::1/128");

  assert_allows (l, "2001:db8::1", TRUE);
  assert_allows (l, "2001:db8:1234:5678::9", TRUE);
  assert_allows (l, "2001:db9::1", FALSE);
  assert_allows (l, "fe80::1", TRUE);
  assert_allows (l, "febf:ffff::1", TRUE);
  assert_allows (l, "fec0::1", FALSE);
  assert_allows (l, "::1", FALSE);
  /* IPv6 entries never match IPv4 peers, mapped or not. */
  assert_allows (l, "192.0.2.1", FALSE);
  tf_allowlist_free (l);

  l = parse_ok ("2001:db8::8000/113");
  assert_allows (l, "2001:db8::8000", TRUE);
  assert_allows (l, "2001:db8::ffff", TRUE);
  assert_allows (l, "2001:db8::7fff", FALSE);
  tf_allowlist_free (l);

  /* ::/0 is every IPv6 peer but not IPv4 ones, even when a dual-stack
   * listener shows them as mapped addresses. */
  l = parse_ok ("::/0");
  assert_allows (l, "::", TRUE);
  assert_allows (l, "2001:db8::1", TRUE);
  assert_allows (l, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", TRUE);
  assert_allows (l, "10.0.0.1", FALSE);
  assert_allows (l, "::ffff:10.0.0.1", FALSE);
  tf_allowlist_free (l);
}

GST_END_TEST;

/* A dual-stack "::" listener sees IPv4 peers as ::ffff:a.b.c.d. */
GST_START_TEST (test_allowlist_mapped_peers_match_ipv4)
{
  TfAllowList *l = parse_ok ("192.168.10.0/24, 10.0.0.7");

  assert_allows (l, "::ffff:192.168.10.5", TRUE);
  assert_allows (l, "::ffff:c0a8:0a05", TRUE);
  assert_allows (l, "::ffff:192.168.11.5", FALSE);
  assert_allows (l, "::ffff:10.0.0.7", TRUE);
  assert_allows (l, "::ffff:10.0.0.8", FALSE);
  /* Not mapped: the deprecated IPv4-compatible form, and mapped-looking
   * bytes elsewhere. */
  assert_allows (l, "::10.0.0.7", FALSE);
  assert_allows (l, "::fffe:10.0.0.7", FALSE);
  assert_allows (l, "1::ffff:10.0.0.7", FALSE);
  tf_allowlist_free (l);
}

GST_END_TEST;

/* A mapped entry is the IPv4 network it carries. */
GST_START_TEST (test_allowlist_mapped_entries_mean_ipv4)
{
  TfAllowList *l = parse_ok ("::ffff:10.0.0.0/104, ::ffff:192.0.2.7");

  assert_allows (l, "10.1.2.3", TRUE);
  assert_allows (l, "::ffff:10.255.0.1", TRUE);
  assert_allows (l, "11.0.0.1", FALSE);
  assert_allows (l, "192.0.2.7", TRUE);
  assert_allows (l, "::ffff:192.0.2.7", TRUE);
  assert_allows (l, "192.0.2.8", FALSE);
  tf_allowlist_free (l);

  l = parse_ok ("::ffff:0.0.0.0/96");
  assert_allows (l, "203.0.113.1", TRUE);
  assert_allows (l, "::1", FALSE);
  tf_allowlist_free (l);
}

GST_END_TEST;

GST_START_TEST (test_allowlist_duplicates_and_overlaps)
{
  TfAllowList *l = parse_ok ("10.0.0.0/8,10.0.0.0/8,10.1.0.0/16,10.1.2.3");

  assert_allows (l, "10.1.2.3", TRUE);
  assert_allows (l, "10.200.0.1", TRUE);
  assert_allows (l, "11.0.0.0", FALSE);
  tf_allowlist_free (l);
}

GST_END_TEST;

/* A non-empty list lets in only peers it can read an address from. */
GST_START_TEST (test_allowlist_non_address_refused)
{
  TfAllowList *l = parse_ok ("0.0.0.0/0, ::/0");

  fail_unless (!tf_allowlist_allows (l, ""));
  fail_unless (!tf_allowlist_allows (l, "localhost"));
  fail_unless (!tf_allowlist_allows (l, "10.0.0.1:5000"));
  fail_unless (!tf_allowlist_allows (l, "[::1]"));
  fail_unless (tf_allowlist_allows (l, "10.0.0.1"));
  fail_unless (tf_allowlist_allows (l, "::1"));
  tf_allowlist_free (l);
}

GST_END_TEST;

GST_START_TEST (test_allowlist_bad_address)
{
  const gchar *bad[] = {
    "10.0.0.300/24", "10.0.0.300", "localhost", "10.1", "010.0.0.1",
    "0x0a.0.0.1", "1.2.3.4.5", "1.2.3", ":::", "1:2:3:4:5:6:7:8:9",
    "[::1]", "fe80::1%eth0", "fe80::1%1", "10.0.0.1 10.0.0.2",
    "10.0.0.0 /8", "10.0.0.0/ 8", "10.0.0.0/", "/8", "/",
    "10.0.0.0/+8", "10.0.0.0/-8", "10.0.0.0/08", "10.0.0.0/8x",
    "10.0.0.0/8/8", "10.0.0.0/0x8", "10.0.0.0/-4294967272", "*", "any",
    NULL
  };
  guint i;

  for (i = 0; bad[i]; i++) {
    gchar *expected = g_strdup_printf ("bad allow entry \"%s\": "
        "not an IPv4/IPv6 address or CIDR prefix", bad[i]);

    assert_bad (bad[i], expected);
    g_free (expected);
  }
}

GST_END_TEST;

/* The message names the bad entry, not its neighbours. */
GST_START_TEST (test_allowlist_bad_entry_among_good)
{
  assert_bad ("192.168.10.0/24, 10.0.0.300/24 ,::1",
      "bad allow entry \"10.0.0.300/24\": "
      "not an IPv4/IPv6 address or CIDR prefix");
  assert_bad ("::1,10.0.0.7,10.0.0.8/33",
      "bad allow entry \"10.0.0.8/33\": "
      "prefix length 33 is out of range for IPv4 (0 to 32)");
  /* Whitespace inside an entry is part of it. */
  assert_bad ("10.0.0.1, 10.0.0.2 10.0.0.3",
      "bad allow entry \"10.0.0.2 10.0.0.3\": "
      "not an IPv4/IPv6 address or CIDR prefix");
}

GST_END_TEST;

GST_START_TEST (test_allowlist_empty_entries)
{
  assert_bad ("10.0.0.1,,10.0.0.2",
      "bad allow entry \"\": empty entry at position 2 "
      "(a stray or trailing comma?)");
  assert_bad ("10.0.0.1,",
      "bad allow entry \"\": empty entry at position 2 "
      "(a stray or trailing comma?)");
  assert_bad (",10.0.0.1",
      "bad allow entry \"\": empty entry at position 1 "
      "(a stray or trailing comma?)");
  assert_bad ("10.0.0.1, ,::1",
      "bad allow entry \"\": empty entry at position 2 "
      "(a stray or trailing comma?)");
  assert_bad ("::1, 10.0.0.1,\t",
      "bad allow entry \"\": empty entry at position 3 "
      "(a stray or trailing comma?)");
  assert_bad (",", NULL);
  assert_bad (" , ", NULL);
}

GST_END_TEST;

GST_START_TEST (test_allowlist_prefix_out_of_range)
{
  assert_bad ("10.0.0.0/33",
      "bad allow entry \"10.0.0.0/33\": "
      "prefix length 33 is out of range for IPv4 (0 to 32)");
  assert_bad ("::/129",
      "bad allow entry \"::/129\": "
      "prefix length 129 is out of range for IPv6 (0 to 128)");
  /* The mapped form is checked as the IPv6 address it is written as. */
  assert_bad ("::ffff:10.0.0.0/129",
      "bad allow entry \"::ffff:10.0.0.0/129\": "
      "prefix length 129 is out of range for IPv6 (0 to 128)");
  /* No wrap-around, however many digits. */
  assert_bad ("10.0.0.0/4294967320",
      "bad allow entry \"10.0.0.0/4294967320\": "
      "prefix length 4294967320 is out of range for IPv4 (0 to 32)");
  assert_bad ("10.0.0.0/123456789012345678901234567890",
      "bad allow entry \"10.0.0.0/123456789012345678901234567890\": "
      "prefix length 12345678901234567890... is out of range for IPv4 "
      "(0 to 32)");
}

GST_END_TEST;

/* Bits past the prefix are refused rather than masked off: the user meant
 * either the host or the network, and the message offers the network. */
GST_START_TEST (test_allowlist_host_bits_refused)
{
  assert_bad ("10.0.0.7/24",
      "bad allow entry \"10.0.0.7/24\": "
      "host bits set beyond the /24 prefix (the network is 10.0.0.0/24)");
  assert_bad ("192.168.1.200/25",
      "bad allow entry \"192.168.1.200/25\": "
      "host bits set beyond the /25 prefix (the network is 192.168.1.128/25)");
  assert_bad ("10.0.0.1/0",
      "bad allow entry \"10.0.0.1/0\": "
      "host bits set beyond the /0 prefix (the network is 0.0.0.0/0)");
  assert_bad ("2001:db8::1/64",
      "bad allow entry \"2001:db8::1/64\": "
      "host bits set beyond the /64 prefix (the network is 2001:db8::/64)");
  assert_bad ("::ffff:10.0.0.1/104",
      "bad allow entry \"::ffff:10.0.0.1/104\": "
      "host bits set beyond the /104 prefix "
      "(the network is ::ffff:10.0.0.0/104)");
  /* A mapped address under a prefix shorter than 96 has its ffff beyond
   * the prefix. */
  assert_bad ("::ffff:0.0.0.0/80",
      "bad allow entry \"::ffff:0.0.0.0/80\": "
      "host bits set beyond the /80 prefix (the network is ::/80)");
}

GST_END_TEST;

/* The entry shown in a message is cut and escaped, so a message stays
 * short, valid UTF-8 and on one line whatever was typed. */
GST_START_TEST (test_allowlist_message_shows_entry_safely)
{
  gchar *long_entry = g_strnfill (100, 'a');
  gchar *expected;

  assert_bad ("10.0.0.\xff",
      "bad allow entry \"10.0.0.\\377\": "
      "not an IPv4/IPv6 address or CIDR prefix");
  assert_bad ("10.0.0.1\x01",
      "bad allow entry \"10.0.0.1\\001\": "
      "not an IPv4/IPv6 address or CIDR prefix");
  assert_bad ("10.0.0.1\"",
      "bad allow entry \"10.0.0.1\\\"\": "
      "not an IPv4/IPv6 address or CIDR prefix");
  /* Valid UTF-8 stays readable (fullwidth digits are not digits). */
  assert_bad ("\xef\xbc\x91\xef\xbc\x90.0.0.1",
      "bad allow entry \"\xef\xbc\x91\xef\xbc\x90.0.0.1\": "
      "not an IPv4/IPv6 address or CIDR prefix");

  expected = g_strdup_printf ("bad allow entry \"%.64s...\": "
      "not an IPv4/IPv6 address or CIDR prefix", long_entry);
  assert_bad (long_entry, expected);
  g_free (expected);
  g_free (long_entry);

  /* Cut on a character boundary: 63 ASCII bytes, then 3-byte characters. */
  long_entry = g_strconcat ("000000000000000000000000000000000000000000000"
      "000000000000000000", "\xe2\x82\xac\xe2\x82\xac", NULL);
  fail_unless_equals_int (strlen (long_entry), 69);
  expected = g_strdup_printf ("bad allow entry \"%.63s...\": "
      "not an IPv4/IPv6 address or CIDR prefix", long_entry);
  assert_bad (long_entry, expected);
  g_free (expected);
  g_free (long_entry);
}

GST_END_TEST;

static Suite *
allowlist_suite (void)
{
  Suite *s = suite_create ("allowlist");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_allowlist_empty_allows_everyone);
  tcase_add_test (tc, test_allowlist_null_list);
  tcase_add_test (tc, test_allowlist_mixed_list);
  tcase_add_test (tc, test_allowlist_whitespace_around_entries);
  tcase_add_test (tc, test_allowlist_prefix_boundaries);
  tcase_add_test (tc, test_allowlist_ipv6);
  tcase_add_test (tc, test_allowlist_mapped_peers_match_ipv4);
  tcase_add_test (tc, test_allowlist_mapped_entries_mean_ipv4);
  tcase_add_test (tc, test_allowlist_duplicates_and_overlaps);
  tcase_add_test (tc, test_allowlist_non_address_refused);
  tcase_add_test (tc, test_allowlist_bad_address);
  tcase_add_test (tc, test_allowlist_bad_entry_among_good);
  tcase_add_test (tc, test_allowlist_empty_entries);
  tcase_add_test (tc, test_allowlist_prefix_out_of_range);
  tcase_add_test (tc, test_allowlist_host_bits_refused);
  tcase_add_test (tc, test_allowlist_message_shows_entry_safely);

  return s;
}

GST_CHECK_MAIN (allowlist);
