/* tf-bench: statistics and result files. */
#include "bench-report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct
{
  gchar *phase;
  gchar *kase;
  gchar *receiver;
  gchar *metric;
  gchar *unit;
  TfbSummary s;
} Row;

typedef struct
{
  gchar *target;
  gchar *measured;
  gint met;
} Target;

struct _TfbReport
{
  GPtrArray *machine;           /* key, value, key, value... */
  GPtrArray *rows;
  GPtrArray *targets;
  GPtrArray *json_members;
  GString *md;
};

static gint
cmp_double (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

  return x < y ? -1 : x > y ? 1 : 0;
}

gdouble
tfb_percentile (gdouble * values, guint n, gdouble q)
{
  gdouble pos, frac;
  guint lo;

  if (n == 0)
    return NAN;
  qsort (values, n, sizeof (gdouble), cmp_double);
  pos = q * (n - 1);
  lo = (guint) floor (pos);
  frac = pos - lo;
  if (lo + 1 >= n)
    return values[n - 1];
  return values[lo] + frac * (values[lo + 1] - values[lo]);
}

TfbSummary
tfb_summarize (const gdouble * values, guint n)
{
  TfbSummary s = { NAN, NAN, NAN, 0 };
  gdouble *v = g_new (gdouble, MAX (n, 1));
  guint i;

  for (i = 0; i < n; i++) {
    if (!isnan (values[i]))
      v[s.n++] = values[i];
  }
  if (s.n > 0) {
    s.median = tfb_percentile (v, s.n, 0.5);
    s.min = v[0];
    s.max = v[s.n - 1];
  }
  g_free (v);
  return s;
}

static void
row_free (gpointer data)
{
  Row *row = data;

  g_free (row->phase);
  g_free (row->kase);
  g_free (row->receiver);
  g_free (row->metric);
  g_free (row->unit);
  g_free (row);
}

static void
target_free (gpointer data)
{
  Target *t = data;

  g_free (t->target);
  g_free (t->measured);
  g_free (t);
}

TfbReport *
tfb_report_new (void)
{
  TfbReport *r = g_new0 (TfbReport, 1);

  r->machine = g_ptr_array_new_with_free_func (g_free);
  r->rows = g_ptr_array_new_with_free_func (row_free);
  r->targets = g_ptr_array_new_with_free_func (target_free);
  r->json_members = g_ptr_array_new_with_free_func (g_free);
  r->md = g_string_new (NULL);
  return r;
}

void
tfb_report_free (TfbReport * r)
{
  g_ptr_array_unref (r->machine);
  g_ptr_array_unref (r->rows);
  g_ptr_array_unref (r->targets);
  g_ptr_array_unref (r->json_members);
  g_string_free (r->md, TRUE);
  g_free (r);
}

void
tfb_report_machine (TfbReport * r, const gchar * key, const gchar * value)
{
  g_ptr_array_add (r->machine, g_strdup (key));
  g_ptr_array_add (r->machine, g_strdup (value));
}

void
tfb_report_row (TfbReport * r, const gchar * phase, const gchar * kase,
    const gchar * receiver, const gchar * metric, const gchar * unit,
    TfbSummary s)
{
  Row *row = g_new0 (Row, 1);

  row->phase = g_strdup (phase);
  row->kase = g_strdup (kase);
  row->receiver = g_strdup (receiver);
  row->metric = g_strdup (metric);
  row->unit = g_strdup (unit);
  row->s = s;
  g_ptr_array_add (r->rows, row);
}

void
tfb_report_value (TfbReport * r, const gchar * phase, const gchar * kase,
    const gchar * receiver, const gchar * metric, const gchar * unit,
    gdouble value)
{
  TfbSummary s = { value, value, value, isnan (value) ? 0 : 1 };

  tfb_report_row (r, phase, kase, receiver, metric, unit, s);
}

void
tfb_report_target (TfbReport * r, const gchar * target,
    const gchar * measured, gint met)
{
  Target *t = g_new0 (Target, 1);

  t->target = g_strdup (target);
  t->measured = g_strdup (measured);
  t->met = met;
  g_ptr_array_add (r->targets, t);
}

void
tfb_report_json_member (TfbReport * r, const gchar * key,
    const gchar * json_value)
{
  gchar *k = g_strescape (key, NULL);

  g_ptr_array_add (r->json_members, g_strdup_printf ("\"%s\": %s", k,
          json_value));
  g_free (k);
}

GString *
tfb_report_md (TfbReport * r)
{
  return r->md;
}

gchar *
tfb_fmt_ratio (TfbSummary s)
{
  if (s.n == 0)
    return g_strdup ("n/a");
  if (s.n == 1)
    return g_strdup_printf ("%.2fx", s.median);
  return g_strdup_printf ("%.2fx [%.2f, %.2f]", s.median, s.min, s.max);
}

gchar *
tfb_fmt_range (TfbSummary s, gint decimals)
{
  if (s.n == 0)
    return g_strdup ("n/a");
  if (s.n == 1)
    return g_strdup_printf ("%.*f", decimals, s.median);
  return g_strdup_printf ("%.*f [%.*f, %.*f]", decimals, s.median, decimals,
      s.min, decimals, s.max);
}

/* JSON has no NaN: a figure that could not be measured is null. */
static void
json_number (GString * out, gdouble v)
{
  if (isnan (v) || isinf (v))
    g_string_append (out, "null");
  else
    g_string_append_printf (out, "%.6g", v);
}

static void
json_string (GString * out, const gchar * s)
{
  const gchar *p;

  g_string_append_c (out, '"');
  for (p = s ? s : ""; *p; p++) {
    guchar c = *p;

    if (c == '"' || c == '\\')
      g_string_append_printf (out, "\\%c", c);
    else if (c < 0x20)
      g_string_append_printf (out, "\\u%04x", c);
    else
      g_string_append_c (out, c);
  }
  g_string_append_c (out, '"');
}

static gchar *
build_json (TfbReport * r)
{
  GString *out = g_string_new ("{\n  \"machine\": {");
  guint i;

  for (i = 0; i < r->machine->len; i += 2) {
    g_string_append (out, i ? ",\n    " : "\n    ");
    json_string (out, g_ptr_array_index (r->machine, i));
    g_string_append (out, ": ");
    json_string (out, g_ptr_array_index (r->machine, i + 1));
  }
  g_string_append (out, "\n  },\n  \"targets\": [");
  for (i = 0; i < r->targets->len; i++) {
    Target *t = g_ptr_array_index (r->targets, i);

    g_string_append (out, i ? ",\n    {" : "\n    {");
    g_string_append (out, "\"target\": ");
    json_string (out, t->target);
    g_string_append (out, ", \"measured\": ");
    json_string (out, t->measured);
    g_string_append_printf (out, ", \"met\": %s}", t->met < 0 ? "null" :
        t->met ? "true" : "false");
  }
  g_string_append (out, "\n  ],\n  \"metrics\": [");
  for (i = 0; i < r->rows->len; i++) {
    Row *row = g_ptr_array_index (r->rows, i);

    g_string_append (out, i ? ",\n    {" : "\n    {");
    g_string_append (out, "\"phase\": ");
    json_string (out, row->phase);
    g_string_append (out, ", \"case\": ");
    json_string (out, row->kase);
    g_string_append (out, ", \"receiver\": ");
    json_string (out, row->receiver);
    g_string_append (out, ", \"metric\": ");
    json_string (out, row->metric);
    g_string_append (out, ", \"unit\": ");
    json_string (out, row->unit);
    g_string_append (out, ", \"median\": ");
    json_number (out, row->s.median);
    g_string_append (out, ", \"min\": ");
    json_number (out, row->s.min);
    g_string_append (out, ", \"max\": ");
    json_number (out, row->s.max);
    g_string_append_printf (out, ", \"n\": %u}", row->s.n);
  }
  g_string_append (out, "\n  ]");
  for (i = 0; i < r->json_members->len; i++)
    g_string_append_printf (out, ",\n  %s",
        (gchar *) g_ptr_array_index (r->json_members, i));
  g_string_append (out, "\n}\n");
  return g_string_free (out, FALSE);
}

static void
csv_field (GString * out, const gchar * s)
{
  const gchar *p;

  if (!strpbrk (s ? s : "", ",\"\n")) {
    g_string_append (out, s ? s : "");
    return;
  }
  g_string_append_c (out, '"');
  for (p = s; *p; p++) {
    if (*p == '"')
      g_string_append_c (out, '"');
    g_string_append_c (out, *p);
  }
  g_string_append_c (out, '"');
}

static void
csv_number (GString * out, gdouble v)
{
  if (!isnan (v))
    g_string_append_printf (out, "%.6g", v);
}

static gchar *
build_csv (TfbReport * r)
{
  GString *out =
      g_string_new ("phase,case,receiver,metric,unit,median,min,max,n\n");
  guint i;

  for (i = 0; i < r->rows->len; i++) {
    Row *row = g_ptr_array_index (r->rows, i);

    csv_field (out, row->phase);
    g_string_append_c (out, ',');
    csv_field (out, row->kase);
    g_string_append_c (out, ',');
    csv_field (out, row->receiver);
    g_string_append_c (out, ',');
    csv_field (out, row->metric);
    g_string_append_c (out, ',');
    csv_field (out, row->unit);
    g_string_append_c (out, ',');
    csv_number (out, row->s.median);
    g_string_append_c (out, ',');
    csv_number (out, row->s.min);
    g_string_append_c (out, ',');
    csv_number (out, row->s.max);
    g_string_append_printf (out, ",%u\n", row->s.n);
  }
  return g_string_free (out, FALSE);
}

gboolean
tfb_report_write (TfbReport * r, const gchar * dir, GError ** error)
{
  gchar *json = build_json (r), *csv = build_csv (r);
  gchar *pjson = g_build_filename (dir, "results.json", NULL);
  gchar *pcsv = g_build_filename (dir, "results.csv", NULL);
  gchar *pmd = g_build_filename (dir, "results.md", NULL);
  gboolean ok;

  ok = g_mkdir_with_parents (dir, 0755) == 0
      && g_file_set_contents (pjson, json, -1, error)
      && g_file_set_contents (pcsv, csv, -1, error)
      && g_file_set_contents (pmd, r->md->str, r->md->len, error);
  if (!ok && error && !*error)
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
        "cannot create %s", dir);
  g_free (json);
  g_free (csv);
  g_free (pjson);
  g_free (pcsv);
  g_free (pmd);
  return ok;
}
