/* tcpframe core: the address allow-list.
 *
 * Entries are GInetAddressMasks, so matching is GIO's.  Parsing is ours:
 * g_inet_address_mask_new_from_string() reads the prefix length with
 * strtoul(), which takes " 24", "+24" and even "-4294967272" (that wraps to
 * 24), and its errors do not say which entry of a list was wrong.
 */
#include "tf-allowlist.h"

#include <string.h>

/* How much of a bad entry an error message repeats: enough to recognise
 * it, not so much that a pasted blob floods the log. */
#define ENTRY_SHOWN_MAX 64
#define PREFIX_SHOWN_MAX 20

struct _TfAllowList
{
  /* GInetAddressMask; IPv4-mapped entries are stored as IPv4 */
  GPtrArray *masks;
};

static gboolean
is_v4_mapped (const guint8 * bytes)
{
  static const guint8 mapped_prefix[12] =
      { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

  return memcmp (bytes, mapped_prefix, sizeof (mapped_prefix)) == 0;
}

static gboolean
is_blank (const gchar * s)
{
  for (; *s; s++)
    if (!g_ascii_isspace (*s))
      return FALSE;
  return TRUE;
}

/* The entry as an error message shows it: cut, and escaped so that a
 * message stays valid UTF-8 and on one line whatever the user typed. */
static gchar *
describe_entry (const gchar * entry)
{
  gboolean utf8 = g_utf8_validate (entry, -1, NULL);
  gsize len = strlen (entry);
  gboolean cut = len > ENTRY_SHOWN_MAX;
  gchar exceptions[129];
  gchar *shown, *escaped, *result;
  guint i;

  if (cut) {
    len = ENTRY_SHOWN_MAX;
    /* Never split a character of a valid string. */
    while (utf8 && len > 0 && ((guchar) entry[len] & 0xc0) == 0x80)
      len--;
  }

  /* Valid UTF-8 is kept as typed; only stray high bytes become octal. */
  for (i = 0; i < 128; i++)
    exceptions[i] = (gchar) (0x80 + i);
  exceptions[128] = '\0';

  shown = g_strndup (entry, len);
  escaped = g_strescape (shown, utf8 ? exceptions : NULL);
  result = g_strconcat (escaped, cut ? "..." : "", NULL);
  g_free (escaped);
  g_free (shown);
  return result;
}

static void set_entry_error (GError ** error, const gchar * entry,
    const gchar * format, ...) G_GNUC_PRINTF (3, 4);

static void
set_entry_error (GError ** error, const gchar * entry, const gchar * format,
    ...)
{
  gchar *shown = describe_entry (entry);
  gchar *reason;
  va_list args;

  va_start (args, format);
  reason = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
      "bad allow entry \"%s\": %s", shown, reason);
  g_free (reason);
  g_free (shown);
}

/* A decimal prefix length, digits only: "024" or "+24" are more likely
 * mistakes than intent.  Lengths too long to matter saturate. */
static gboolean
parse_prefix_length (const gchar * text, guint * length)
{
  guint v = 0;
  const gchar *p;

  if (text[0] == '\0' || (text[0] == '0' && text[1] != '\0'))
    return FALSE;

  for (p = text; *p; p++) {
    if (!g_ascii_isdigit (*p))
      return FALSE;
    v = v > 1000 ? v : v * 10 + (*p - '0');
  }
  *length = v;
  return TRUE;
}

/* The mask for one entry (whitespace already stripped, not empty), or NULL
 * with `error` set. */
static GInetAddressMask *
parse_entry (const gchar * entry, GError ** error)
{
  const gchar *slash = strchr (entry, '/');
  gchar *addr_text = g_strndup (entry, slash ? (gsize) (slash - entry)
      : strlen (entry));
  GInetAddress *addr = NULL;
  GInetAddressMask *mask = NULL;
  const guint8 *bytes;
  guint8 network[16];
  guint size, bits, length = 0, i;
  gboolean host_bits = FALSE;
  GError *gio_error = NULL;

  /* Newer GLibs accept zone ids ("fe80::1%eth0"), which a mask cannot
   * honour; refuse them on every GLib alike. */
  if (strchr (addr_text, '%') == NULL)
    addr = g_inet_address_new_from_string (addr_text);
  if (addr == NULL || (slash && !parse_prefix_length (slash + 1, &length))) {
    set_entry_error (error, entry, "not an IPv4/IPv6 address or CIDR prefix");
    goto out;
  }

  size = g_inet_address_get_native_size (addr);
  bits = size * 8;
  if (!slash)
    length = bits;
  if (length > bits) {
    gsize digits = strlen (slash + 1);

    set_entry_error (error, entry,
        "prefix length %.*s%s is out of range for %s (0 to %u)",
        (int) MIN (digits, PREFIX_SHOWN_MAX), slash + 1,
        digits > PREFIX_SHOWN_MAX ? "..." : "",
        size == 4 ? "IPv4" : "IPv6", bits);
    goto out;
  }

  bytes = g_inet_address_to_bytes (addr);
  for (i = 0; i < size; i++) {
    guint keep = length > 8 * i ? MIN (length - 8 * i, 8) : 0;
    guint8 byte_mask = keep == 0 ? 0 : (guint8) (0xff << (8 - keep));

    network[i] = bytes[i] & byte_mask;
    if (network[i] != bytes[i])
      host_bits = TRUE;
  }
  if (host_bits) {
    GInetAddress *net = g_inet_address_new_from_bytes (network,
        g_inet_address_get_family (addr));
    gchar *net_text = g_inet_address_to_string (net);

    set_entry_error (error, entry,
        "host bits set beyond the /%u prefix (the network is %s/%u)",
        length, net_text, length);
    g_free (net_text);
    g_object_unref (net);
    goto out;
  }

  /* A mapped entry means the IPv4 network, as a mapped peer means the
   * IPv4 peer.  The bits check above guarantees length >= 96 here: the
   * ffff of a mapped address sits below any shorter prefix. */
  if (size == 16 && is_v4_mapped (bytes) && length >= 96) {
    GInetAddress *v4 = g_inet_address_new_from_bytes (bytes + 12,
        G_SOCKET_FAMILY_IPV4);

    g_object_unref (addr);
    addr = v4;
    length -= 96;
  }

  mask = g_inet_address_mask_new (addr, length, &gio_error);
  if (mask == NULL) {
    /* Not expected after the checks above; still say which entry. */
    set_entry_error (error, entry, "%s", gio_error->message);
    g_error_free (gio_error);
  }

out:
  g_clear_object (&addr);
  g_free (addr_text);
  return mask;
}

TfAllowList *
tf_allowlist_parse (const gchar * spec, GError ** error)
{
  TfAllowList *l;
  gchar **entries;
  guint i;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  l = g_new0 (TfAllowList, 1);
  l->masks = g_ptr_array_new_with_free_func (g_object_unref);

  /* An unset property and a cleared one mean the same: no restriction. */
  if (spec == NULL || is_blank (spec))
    return l;

  entries = g_strsplit (spec, ",", -1);
  for (i = 0; entries[i] != NULL; i++) {
    gchar *entry = g_strstrip (entries[i]);
    GInetAddressMask *mask;

    if (entry[0] == '\0') {
      set_entry_error (error, entry,
          "empty entry at position %u (a stray or trailing comma?)", i + 1);
      goto fail;
    }
    mask = parse_entry (entry, error);
    if (mask == NULL)
      goto fail;
    g_ptr_array_add (l->masks, mask);
  }
  g_strfreev (entries);
  return l;

fail:
  g_strfreev (entries);
  tf_allowlist_free (l);
  return NULL;
}

void
tf_allowlist_free (TfAllowList * l)
{
  if (l == NULL)
    return;

  g_ptr_array_unref (l->masks);
  g_free (l);
}

gboolean
tf_allowlist_is_empty (const TfAllowList * l)
{
  return l == NULL || l->masks->len == 0;
}

gboolean
tf_allowlist_allows (const TfAllowList * l, const gchar * address)
{
  GInetAddress *addr;
  gboolean allowed;

  g_return_val_if_fail (address != NULL, FALSE);

  if (tf_allowlist_is_empty (l))
    return TRUE;

  addr = g_inet_address_new_from_string (address);
  if (addr == NULL)
    return FALSE;
  allowed = tf_allowlist_allows_inet (l, addr);
  g_object_unref (addr);
  return allowed;
}

gboolean
tf_allowlist_allows_inet (const TfAllowList * l, GInetAddress * address)
{
  GInetAddress *v4 = NULL;
  gboolean allowed = FALSE;
  guint i;

  g_return_val_if_fail (G_IS_INET_ADDRESS (address), FALSE);

  if (tf_allowlist_is_empty (l))
    return TRUE;

  if (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6) {
    const guint8 *bytes = g_inet_address_to_bytes (address);

    if (is_v4_mapped (bytes)) {
      v4 = g_inet_address_new_from_bytes (bytes + 12, G_SOCKET_FAMILY_IPV4);
      address = v4;
    }
  }

  /* Masks of the other family never match, so no family test here. */
  for (i = 0; i < l->masks->len && !allowed; i++)
    allowed = g_inet_address_mask_matches (g_ptr_array_index (l->masks, i),
        address);

  g_clear_object (&v4);
  return allowed;
}
