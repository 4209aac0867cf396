/* Validation of a loaded series (gaps, OHLC relations, order, grid) and the CSV writer. */
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/read_int.h"

static void add(cb_check_report_t *rep, const char *name, int64_t t, const char *column,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void add(cb_check_report_t *rep, const char *name, int64_t t, const char *column,
                const char *fmt, ...)
{
    char when[40], field[96];
    cb_time_format(t, when, sizeof when);
    if (column)
        snprintf(field, sizeof field, "candle %s, column '%s'", when, column);
    else
        snprintf(field, sizeof field, "candle %s", when);
    cb_diag_t d;
    va_list ap;
    va_start(ap, fmt);
    cb_diag_vset(&d, CB_EVALID, name, 0, 0, field, fmt, ap);
    va_end(ap);
    cb_diags_add(&rep->problems, &d);
}

static void add_gap(cb_check_report_t *rep, int64_t after, int64_t missing)
{
    rep->gaps++;
    rep->missing += missing;
    size_t cap = sizeof rep->largest / sizeof rep->largest[0];
    if (rep->n_largest == cap && rep->largest[cap - 1].missing >= missing)
        return;
    size_t i = rep->n_largest < cap ? rep->n_largest++ : cap - 1;
    /* Largest first; among equals the earlier gap stays first. */
    while (i > 0 && rep->largest[i - 1].missing < missing) {
        rep->largest[i] = rep->largest[i - 1];
        i--;
    }
    rep->largest[i].after_ms = after;
    rep->largest[i].missing = missing;
}

static int64_t months_between(int64_t a, int64_t b)
{
    int64_t ya, yb;
    int ma, mb, da, db;
    cb_civil_from_days(a / CB_MS_PER_DAY - (a % CB_MS_PER_DAY < 0), &ya, &ma, &da);
    cb_civil_from_days(b / CB_MS_PER_DAY - (b % CB_MS_PER_DAY < 0), &yb, &mb, &db);
    return (yb - ya) * 12 + (mb - ma);
}

int cb_series_check(const cb_series_t *s, const char *name, cb_check_report_t *rep)
{
    if (!s || !rep)
        return CB_EINVAL;
    memset(rep, 0, sizeof *rep);
    rep->problems.max_keep = 100;
    if (!name)
        name = s->meta.source[0] ? s->meta.source : "series";
    size_t n = s->n;
    rep->n = n;
    if (n == 0)
        return 0;
    rep->first_ms = s->time_ms[0];
    rep->last_ms = s->time_ms[n - 1];
    cb_timeframe_t tf;
    int have_tf = s->meta.timeframe[0] && cb_timeframe_parse(s->meta.timeframe, &tf) == 0;
    if (!have_tf) {
        char tfname[8];
        int64_t sp = rd_mode_spacing(s->time_ms, n);
        have_tf = sp > 0 && rd_timeframe_name(sp, tfname) == 0 &&
                  cb_timeframe_parse(tfname, &tf) == 0;
    }
    static const char *const cols[RD_NVAL] = {"open", "high", "low", "close", "volume"};
    for (size_t i = 0; i < n; i++) {
        int64_t t = s->time_ms[i];
        double v[RD_NVAL] = {s->open[i], s->high[i], s->low[i], s->close[i], s->volume[i]};
        char a[32], b[32];
        int bad = 0;
        for (int k = 0; k < RD_NVAL; k++) {
            if (!isfinite(v[k])) {
                add(rep, name, t, cols[k], "expected a finite number, got %s",
                    isnan(v[k]) ? "nan" : "inf");
                bad = 1;
            } else if (v[k] < 0) {
                rd_format_double(v[k], a, sizeof a);
                add(rep, name, t, cols[k], "%s is negative", a);
                bad = 1;
            }
        }
        if (!bad) {
            if (v[RD_HIGH] < v[RD_LOW]) {
                rd_format_double(v[RD_HIGH], a, sizeof a);
                rd_format_double(v[RD_LOW], b, sizeof b);
                add(rep, name, t, "high", "%s is below 'low' %s", a, b);
            } else {
                for (int k = RD_OPEN; k <= RD_CLOSE; k += RD_CLOSE - RD_OPEN) {
                    rd_format_double(v[k], a, sizeof a);
                    if (v[k] > v[RD_HIGH]) {
                        rd_format_double(v[RD_HIGH], b, sizeof b);
                        add(rep, name, t, cols[k], "%s is above 'high' %s", a, b);
                    } else if (v[k] < v[RD_LOW]) {
                        rd_format_double(v[RD_LOW], b, sizeof b);
                        add(rep, name, t, cols[k], "%s is below 'low' %s", a, b);
                    }
                }
            }
        }
        if (v[RD_VOLUME] == 0)
            rep->zero_volume++;
        if (have_tf && !cb_timeframe_on_grid(&tf, t))
            add(rep, name, t, NULL, "not on the %s grid", tf.name);
        if (i == 0)
            continue;
        int64_t prev = s->time_ms[i - 1];
        if (t == prev) {
            add(rep, name, t, NULL, "duplicate time");
        } else if (t < prev) {
            cb_time_format(prev, b, sizeof b);
            add(rep, name, t, NULL, "comes after %s (times must increase)", b);
        } else if (have_tf) {
            int64_t missing;
            if (tf.months)
                missing = months_between(prev, t) / tf.months - 1;
            else
                missing = (t - prev) / tf.ms - 1;
            if (missing > 0)
                add_gap(rep, prev, missing);
        }
    }
    return rep->problems.total ? CB_EVALID : 0;
}

void cb_check_report_free(cb_check_report_t *rep)
{
    if (rep)
        cb_diags_free(&rep->problems);
}

int cb_series_write_csv(const cb_series_t *s, const char *path, cb_diag_t *diag)
{
    if (!s || !path)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL, "no series or no path given");
    /* Beside the target, then renamed: a failed write leaves the previous file as it was. */
    cb_file_atomic_t a;
    int r = cb_file_atomic_open(&a, path, diag);
    if (r)
        return r;
    FILE *f = a.f;
    fputs("time_ms,open,high,low,close,volume\n", f);
    char o[32], h[32], l[32], c[32], v[32];
    for (size_t i = 0; i < s->n && !ferror(f); i++) {
        rd_format_double(s->open[i], o, sizeof o);
        rd_format_double(s->high[i], h, sizeof h);
        rd_format_double(s->low[i], l, sizeof l);
        rd_format_double(s->close[i], c, sizeof c);
        rd_format_double(s->volume[i], v, sizeof v);
        fprintf(f, "%lld,%s,%s,%s,%s,%s\n", (long long)s->time_ms[i], o, h, l, c, v);
    }
    return cb_file_atomic_commit(&a, diag);
}
