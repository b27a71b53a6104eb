/* tcpframe core: reconnect backoff.
 *
 * Exponential backoff with full jitter: attempt n waits a uniformly random
 * time in [0, min(max, initial * 2^n)].  The randomness spreads out the
 * reconnects of many receivers after an outage, so a camera that comes
 * back is not hit by all of them at once; the cap keeps a long outage from
 * turning into an hour between tries.
 *
 * It also keeps the retry count: an attempt fails when it does not connect,
 * or when its connection ends before carrying a frame, and after
 * max_retries failures in a row the client gives up.  A connection that
 * carried a frame proves the peer is back: the delays and the count start
 * over (tf_backoff_reset).
 *
 * The random source is a parameter, so tests can pin it.
 */
#ifndef TF_BACKOFF_H
#define TF_BACKOFF_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint64 initial_ns;
  guint64 max_ns;
  guint64 ceiling_ns;           /* the bound of the next delay */
  guint attempts;               /* delays handed out since the last reset */
  gint max_retries;             /* failures in a row allowed; -1: no limit */
  guint failures;               /* failures in a row since the last reset */
  GRand *rand;
} TfBackoff;

/* seed 0 seeds from the system. */
void tf_backoff_init (TfBackoff * b, guint64 initial_ns, guint64 max_ns,
    gint max_retries, guint32 seed);
void tf_backoff_clear (TfBackoff * b);

/* The delay before the next attempt; doubles the bound for the one after. */
guint64 tf_backoff_next (TfBackoff * b);

/* Counts a failed attempt.  TRUE if another attempt may follow, FALSE
 * once this one was the (max_retries + 1)th failure in a row: give up. */
gboolean tf_backoff_failed (TfBackoff * b);

/* A peer streamed: the next failure starts again from initial_ns, and
 * the retry count from zero. */
void tf_backoff_reset (TfBackoff * b);

G_END_DECLS

#endif /* TF_BACKOFF_H */
