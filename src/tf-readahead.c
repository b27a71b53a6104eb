/* tcpframe core: reading several frames per syscall. */
#include "tf-readahead.h"

guint
tf_read_ahead_frames (guint64 size, guint64 previous_size, gint prefix)
{
  if (prefix < 0 || size == 0 || size > TF_READ_AHEAD_FRAME_MAX
      || size != previous_size)
    return 0;
  return MIN (TF_READ_AHEAD_FRAMES, TF_READ_AHEAD_BYTES / (size + prefix));
}

static void
add_region (TfReadAhead * ra, guint8 * ptr, gsize len, gint tag)
{
  TfReadAheadRegion *r = &ra->regions[ra->n_planned++];

  r->ptr = ptr;
  r->len = len;
  r->filled = 0;
  r->taken = 0;
  r->tag = tag;
}

guint
tf_read_ahead_plan (TfReadAhead * ra, gint prefix, guint8 * const *frames,
    gsize size, guint k)
{
  guint i;

  g_return_val_if_fail (ra != NULL, 0);
  g_return_val_if_fail (!tf_read_ahead_pending (ra), 0);
  g_return_val_if_fail (prefix <= TF_HEADER_SIZE, 0);
  g_return_val_if_fail (k <= TF_READ_AHEAD_FRAMES, 0);
  g_return_val_if_fail (k == 0 || (frames != NULL && size > 0), 0);

  ra->n_planned = ra->n_filled = ra->pos = 0;
  if (prefix < 0)
    return 0;
  for (i = 0; i <= k; i++) {
    if (prefix > 0)
      add_region (ra, ra->prefixes[i], prefix, -1);
    if (i < k)
      add_region (ra, frames[i], size, (gint) i);
  }
  return ra->n_planned;
}

void
tf_read_ahead_filled (TfReadAhead * ra, gsize n)
{
  guint i;

  g_return_if_fail (ra != NULL);

  ra->n_filled = ra->pos = 0;
  for (i = 0; i < ra->n_planned && n > 0; i++) {
    ra->regions[i].filled = MIN (n, ra->regions[i].len);
    n -= ra->regions[i].filled;
    ra->n_filled = i + 1;
  }
  g_return_if_fail (n == 0);
}

gboolean
tf_read_ahead_pending (const TfReadAhead * ra)
{
  return ra->pos < ra->n_filled;
}

void
tf_read_ahead_feed (TfReadAhead * ra, TfFramer * f)
{
  TfReadAheadRegion *r;

  g_return_if_fail (tf_read_ahead_pending (ra));

  r = &ra->regions[ra->pos];
  r->taken += tf_framer_feed (f, r->ptr + r->taken, r->filled - r->taken);
  if (r->taken == r->filled && ++ra->pos == ra->n_filled)
    ra->pos = ra->n_filled = 0;
}

gint
tf_read_ahead_next_tag (const TfReadAhead * ra)
{
  const TfReadAheadRegion *r;

  if (!tf_read_ahead_pending (ra))
    return -1;
  r = &ra->regions[ra->pos];
  return r->taken == 0 ? r->tag : -1;
}

void
tf_read_ahead_clear (TfReadAhead * ra)
{
  ra->n_planned = ra->n_filled = ra->pos = 0;
}
