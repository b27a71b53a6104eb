/* Test data shared by the core's unit tests, which link nothing but the
 * core (tf-testpeer.h is for the socket and element tests). */
#ifndef TF_TESTDATA_H
#define TF_TESTDATA_H

#include <glib.h>

/* Deterministic frame content, different for every (size, seed) and with
 * no period of 256, so a shifted or repeated byte shows. */
static inline guint8 *
tf_test_pattern (gsize size, guint seed)
{
  guint8 *p = g_malloc (size);
  gsize i;

  for (i = 0; i < size; i++)
    p[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return p;
}

#endif /* TF_TESTDATA_H */
