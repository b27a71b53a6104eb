/* tf-bench: statistics and result files.
 *
 * Every figure the benchmark reports is a row of (phase, case, receiver,
 * metric, unit, median, min, max, n); the CSV is those rows, the JSON adds
 * the machine and the targets.  The markdown tables are built by the
 * phases themselves, since each has its own shape.
 */
#ifndef TF_BENCH_REPORT_H
#define TF_BENCH_REPORT_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  gdouble median;
  gdouble min;
  gdouble max;
  guint n;
} TfbSummary;

/* median, min and max of values[0, n); NAN values are skipped */
TfbSummary tfb_summarize (const gdouble * values, guint n);
/* q in [0, 1], linear interpolation between order statistics; sorts */
gdouble tfb_percentile (gdouble * values, guint n, gdouble q);

typedef struct _TfbReport TfbReport;

TfbReport *tfb_report_new (void);
void tfb_report_free (TfbReport * r);

void tfb_report_machine (TfbReport * r, const gchar * key,
    const gchar * value);
void tfb_report_row (TfbReport * r, const gchar * phase, const gchar * kase,
    const gchar * receiver, const gchar * metric, const gchar * unit,
    TfbSummary s);
void tfb_report_value (TfbReport * r, const gchar * phase,
    const gchar * kase, const gchar * receiver, const gchar * metric,
    const gchar * unit, gdouble value);
/* met: 1 met, 0 missed, -1 not measured in this run */
void tfb_report_target (TfbReport * r, const gchar * target,
    const gchar * measured, gint met);
/* Extra JSON, already formatted: "key": value */
void tfb_report_json_member (TfbReport * r, const gchar * key,
    const gchar * json_value);

/* Markdown text shown on stdout and written to results.md. */
GString *tfb_report_md (TfbReport * r);

gboolean tfb_report_write (TfbReport * r, const gchar * dir,
    GError ** error);

/* "0.93x [0.90, 0.95]" */
gchar *tfb_fmt_ratio (TfbSummary s);
/* "1.23 [1.10, 1.30]" with the given number of decimals */
gchar *tfb_fmt_range (TfbSummary s, gint decimals);

G_END_DECLS

#endif /* TF_BENCH_REPORT_H */
