/* tcpframe core: reconnect backoff. */
#include "tf-backoff.h"

void
tf_backoff_init (TfBackoff * b, guint64 initial_ns, guint64 max_ns,
    gint max_retries, guint32 seed)
{
  b->initial_ns = initial_ns;
  b->max_ns = MAX (max_ns, initial_ns);
  b->max_retries = max_retries;
  b->rand = seed ? g_rand_new_with_seed (seed) : g_rand_new ();
  tf_backoff_reset (b);
}

void
tf_backoff_clear (TfBackoff * b)
{
  g_clear_pointer (&b->rand, g_rand_free);
}

void
tf_backoff_reset (TfBackoff * b)
{
  b->ceiling_ns = b->initial_ns;
  b->attempts = 0;
  b->failures = 0;
}

gboolean
tf_backoff_failed (TfBackoff * b)
{
  if (b->failures < G_MAXUINT)
    b->failures++;
  return b->max_retries < 0 || b->failures <= (guint) b->max_retries;
}

guint64
tf_backoff_next (TfBackoff * b)
{
  guint64 ceiling = b->ceiling_ns;
  guint64 delay;

  /* Uniform in [0, ceiling]; two 32-bit draws cover any 64-bit bound. */
  delay = ((guint64) g_rand_int (b->rand) << 32) | g_rand_int (b->rand);
  if (ceiling < G_MAXUINT64)
    delay %= ceiling + 1;

  b->ceiling_ns = ceiling > b->max_ns / 2 ? b->max_ns : ceiling * 2;
  b->attempts++;
  return delay;
}
