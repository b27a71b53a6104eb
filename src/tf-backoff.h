/* tcpframe core: reconnect backoff.
 *
 * Exponential backoff with full jitter: attempt n waits a uniformly random
 * time in [0, min(max, initial * 2^n)].  The randomness spreads out the
 * reconnects of many receivers after an outage, so a camera that comes
 * back is not hit by all of them at once; the cap keeps a long outage from
 * turning into an hour between tries.
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
  GRand *rand;
} TfBackoff;

/* seed 0 seeds from the system. */
void tf_backoff_init (TfBackoff * b, guint64 initial_ns, guint64 max_ns,
    guint32 seed);
void tf_backoff_clear (TfBackoff * b);

/* The delay before the next attempt; doubles the bound for the one after. */
guint64 tf_backoff_next (TfBackoff * b);

/* A peer streamed: the next failure starts again from initial_ns. */
void tf_backoff_reset (TfBackoff * b);

G_END_DECLS

#endif /* TF_BACKOFF_H */
