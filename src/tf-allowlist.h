/* tcpframe core: the address allow-list.
 *
 * Which peers may connect, as a comma-separated list of IPv4 and IPv6
 * addresses and CIDR networks:
 *
 *   "192.168.10.0/24, 10.0.0.7, ::1, 2001:db8::/32"
 *
 * The list is parsed once and is immutable afterwards, so it can be queried
 * from any thread without locking.
 *
 * Parsing rules:
 *   - NULL, "" or a spec of only whitespace is the empty list, which allows
 *     everyone.
 *   - Whitespace around an entry is ignored; whitespace inside one is not.
 *   - An entry is an address (a single host: /32 or /128) or an address, a
 *     '/' and a decimal prefix length (no sign, no leading zeros, no
 *     spaces).  Addresses are numeric only: no host names, no zone ids
 *     ("fe80::1%eth0"), no brackets, no short IPv4 forms like "10.1".
 *   - An entry with bits set beyond its prefix ("10.0.0.7/24") is rejected
 *     rather than silently widened: it is most likely a typo either for the
 *     host (10.0.0.7) or for the network (10.0.0.0/24), and guessing wrong
 *     would let in, or lock out, a whole subnet.  The error says which
 *     network was meant.
 *   - Empty entries (",," or a leading or trailing comma) are rejected: a
 *     list edited by hand that lost an address should not pass unnoticed.
 *
 * IPv4 peers have one identity however they arrive: an IPv4-mapped IPv6
 * address (::ffff:192.168.10.5, which is how a dual-stack "::" listener
 * sees IPv4 peers) is matched as the IPv4 address it carries, and a mapped
 * entry ("::ffff:10.0.0.0/104") means the IPv4 network (10.0.0.0/8).  So
 * "::/0" matches IPv6 peers only, on any listener; write "0.0.0.0/0" for
 * IPv4 peers.
 */
#ifndef TF_ALLOWLIST_H
#define TF_ALLOWLIST_H

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _TfAllowList TfAllowList;

/* Parses `spec` (see above).  A malformed entry fails with a G_IO_ERROR,
 * G_IO_ERROR_INVALID_ARGUMENT whose message starts with
 * `bad allow entry "ENTRY": ` and then says what is wrong, e.g.
 * `bad allow entry "10.0.0.300/24": not an IPv4/IPv6 address or CIDR prefix`.
 * ENTRY is the entry without the whitespace around it, cut to 64 bytes
 * ("..." follows) if longer, and escaped like a C string (quotes,
 * backslashes, control characters, and bytes that are not valid UTF-8), so
 * the message is one line of valid UTF-8 whatever was typed. */
TfAllowList *tf_allowlist_parse (const gchar * spec, GError ** error);

/* Accepts NULL. */
void tf_allowlist_free (TfAllowList * l);

/* Whether the list allows everyone.  NULL counts as empty. */
gboolean tf_allowlist_is_empty (const TfAllowList * l);

/* Whether a peer with this address (as g_inet_address_to_string() writes
 * it) may connect.  An empty (or NULL) list allows any string; a non-empty
 * list allows no string that is not an address. */
gboolean tf_allowlist_allows (const TfAllowList * l, const gchar * address);

gboolean tf_allowlist_allows_inet (const TfAllowList * l,
    GInetAddress * address);

G_END_DECLS

#endif /* TF_ALLOWLIST_H */
