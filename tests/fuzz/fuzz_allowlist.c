/* libFuzzer target for the allow-list parser.
 *
 * The input, up to its first NUL, is a spec.  Whatever it is, parsing must
 * either succeed or fail with a well-formed error, and never crash or leak
 * (ASan's leak check runs after every input).  A list that parsed must
 * then keep the promises of tf-allowlist.h:
 *   - it is empty exactly when the spec is only whitespace;
 *   - the string and GInetAddress queries agree;
 *   - an IPv4 peer and the same peer IPv4-mapped get the same answer;
 *   - each of its entries is an address, with a prefix length of 0 to 128
 *     written in plain digits if any, and that address is allowed;
 *   - a non-empty list refuses strings that are not addresses.
 * The queried peers are a few fixed ones plus an IPv4 and an IPv6 address
 * made of the bytes after the first NUL, so that the fuzzer can steer peers
 * into the networks of its spec.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tf-allowlist.h"

#define CHECK(cond) G_STMT_START {                                      \
  if (G_UNLIKELY (!(cond)))                                             \
    invariant_broken (__LINE__, #cond);                                 \
} G_STMT_END

static void invariant_broken (int line, const char *what) G_GNUC_NORETURN;

static void
invariant_broken (int line, const char *what)
{
  fprintf (stderr, "fuzz_allowlist: invariant broken at line %d: %s\n", line,
      what);
  abort ();
}

static const gchar *const fixed_peers[] = {
  "127.0.0.1", "10.0.0.7", "192.168.10.5", "0.0.0.0", "255.255.255.255",
  "::1", "::", "fe80::1", "2001:db8::1", "::ffff:192.168.10.5",
  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
};

static gboolean
only_whitespace (const gchar * s)
{
  for (; *s; s++)
    if (!g_ascii_isspace (*s))
      return FALSE;
  return TRUE;
}

static void
check_peer (const TfAllowList * l, GInetAddress * addr)
{
  gchar *text = g_inet_address_to_string (addr);
  gboolean allowed = tf_allowlist_allows_inet (l, addr);

  CHECK (tf_allowlist_allows (l, text) == allowed);
  if (tf_allowlist_is_empty (l))
    CHECK (allowed);

  if (g_inet_address_get_family (addr) == G_SOCKET_FAMILY_IPV4) {
    gchar *mapped = g_strconcat ("::ffff:", text, NULL);

    CHECK (tf_allowlist_allows (l, mapped) == allowed);
    g_free (mapped);
  }
  g_free (text);
}

/* Splits the spec again, independently of the parser, and checks that
 * each entry's own address is let in. */
static void
check_own_entries (const TfAllowList * l, const gchar * spec)
{
  gchar **entries;
  guint i;

  if (tf_allowlist_is_empty (l))
    return;

  entries = g_strsplit (spec, ",", -1);
  for (i = 0; entries[i]; i++) {
    gchar *entry = g_strstrip (entries[i]);
    gchar *slash = strchr (entry, '/');
    GInetAddress *addr;

    if (slash) {
      const gchar *p;

      /* No sign, no space, no leading zero, nothing a wrap could hide. */
      for (p = slash + 1; *p; p++)
        CHECK (g_ascii_isdigit (*p));
      CHECK (p - slash - 1 >= 1 && p - slash - 1 <= 3);
      CHECK (slash[1] != '0' || slash[2] == '\0');
      CHECK (atoi (slash + 1) <= 128);
      *slash = '\0';
    }
    addr = g_inet_address_new_from_string (entry);
    CHECK (addr != NULL);
    CHECK (tf_allowlist_allows_inet (l, addr));
    check_peer (l, addr);
    g_object_unref (addr);
  }
  g_strfreev (entries);
}

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  /* A g_return_if_fail() that trips is a bug too: make it a crash. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  gsize spec_len = strnlen ((const char *) data, size);
  gchar *spec = g_strndup ((const gchar *) data, spec_len);
  const guint8 *peer_bytes = data + MIN (spec_len + 1, size);
  gsize n_peer_bytes = size - MIN (spec_len + 1, size);
  GError *err = NULL;
  TfAllowList *l = tf_allowlist_parse (spec, &err);
  TfAllowList *quiet = tf_allowlist_parse (spec, NULL);
  guint8 raw[16] = { 0, };
  GInetAddress *addr;
  guint i;

  /* The same verdict with or without a GError. */
  CHECK ((l == NULL) == (quiet == NULL));
  tf_allowlist_free (quiet);

  if (l == NULL) {
    CHECK (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT));
    CHECK (g_str_has_prefix (err->message, "bad allow entry \""));
    /* Safe to log: valid UTF-8, one line, bounded however long the spec. */
    CHECK (g_utf8_validate (err->message, -1, NULL));
    CHECK (strchr (err->message, '\n') == NULL);
    CHECK (strlen (err->message) < 512);
    g_error_free (err);
    g_free (spec);
    return 0;
  }
  CHECK (err == NULL);

  CHECK (tf_allowlist_is_empty (l) == only_whitespace (spec));
  if (!tf_allowlist_is_empty (l)) {
    CHECK (!tf_allowlist_allows (l, ""));
    CHECK (!tf_allowlist_allows (l, "not an address"));
  }

  for (i = 0; i < G_N_ELEMENTS (fixed_peers); i++) {
    addr = g_inet_address_new_from_string (fixed_peers[i]);
    CHECK (addr != NULL);
    check_peer (l, addr);
    g_object_unref (addr);
  }

  memcpy (raw, peer_bytes, MIN (n_peer_bytes, sizeof (raw)));
  addr = g_inet_address_new_from_bytes (raw, G_SOCKET_FAMILY_IPV4);
  check_peer (l, addr);
  g_object_unref (addr);
  addr = g_inet_address_new_from_bytes (raw, G_SOCKET_FAMILY_IPV6);
  check_peer (l, addr);
  g_object_unref (addr);

  check_own_entries (l, spec);

  tf_allowlist_free (l);
  g_free (spec);
  return 0;
}
