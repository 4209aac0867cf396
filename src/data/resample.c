/* Resampling to a coarser timeframe: open first, high max, low min, close last, volume sum.
 * Buckets follow cb_timeframe_floor (weeks open on Monday, months on the 1st); a bucket with
 * missing candles is counted and skipped or kept, an empty one produces nothing.
 *
 * Volumes are summed as decimals, not as doubles: each volume is the double nearest to the
 * decimal text it was read from, that decimal is recovered (the shortest one, at most 12
 * places and 15 significant digits, that reads back to the same double: there is only one),
 * the bucket is summed exactly in integers at the largest scale in it, and the sum is rounded
 * once to the nearest double. So a 1h volume built from 1m volumes is the double the
 * exchange's own 1h decimal reads as (1529.35437, not 1529.3543699999996), and resampled
 * candles merge with the exchange's. A volume with no such decimal (itself the result of
 * double arithmetic) makes its bucket fall back to a double sum. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/data.h"

/* Candles of `src` that make one bucket of `to` opening at `start`. */
static int64_t expected_count(const cb_timeframe_t *src, const cb_timeframe_t *to, int64_t start)
{
    if (src->months)
        return to->months / src->months;
    return (cb_timeframe_next(to, start) - start) / src->ms;
}

#define MAX_DP 12

static const double p10d[MAX_DP + 1] = {1e0, 1e1, 1e2, 1e3, 1e4,  1e5,  1e6,
                                        1e7, 1e8, 1e9, 1e10, 1e11, 1e12};
static const int64_t p10i[MAX_DP + 1] = {1,
                                         10,
                                         100,
                                         1000,
                                         10000,
                                         100000,
                                         1000000,
                                         10000000,
                                         100000000,
                                         1000000000,
                                         INT64_C(10000000000),
                                         INT64_C(100000000000),
                                         INT64_C(1000000000000)};

/* 1 when v is the double nearest to m / 10^dp for an integer m < 10^15 (then *m is set):
 * below 10^15 two decimals never share a double, so m / 10^dp is v's source decimal. One
 * correctly rounded division of two exact doubles is what a correct reader gives the text. */
static int decimal_at(double v, int dp, int64_t *m)
{
    double x = v * p10d[dp];
    if (!(x < 1e15))
        return 0;
    int64_t c = llround(x);
    for (int64_t k = c - 1; k <= c + 1; k++)
        if (k >= 0 && (double)k / p10d[dp] == v) {
            *m = k;
            return 1;
        }
    return 0;
}

/* v as m / 10^*dp; tries *dp (the previous candle's scale) first. 0 when v is negative, not
 * finite or has no such decimal. */
static int to_decimal(double v, int *dp, int64_t *m)
{
    if (!(v >= 0))
        return 0;
    if (decimal_at(v, *dp, m))
        return 1;
    for (int d = 0; d <= MAX_DP; d++)
        if (decimal_at(v, d, m)) {
            *dp = d;
            return 1;
        }
    return 0;
}

/* The double nearest to sum / 10^dp (sum >= 0). */
static double from_decimal(unsigned __int128 sum, int dp)
{
    if (sum < ((unsigned __int128)1 << 53))
        return (double)(uint64_t)sum / p10d[dp];
    /* Too many digits for one exact division: let strtod round the decimal text. */
    char digits[48], text[64];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + (int)(sum % 10));
        sum /= 10;
    } while (sum);
    size_t o = 0;
    while (n)
        text[o++] = digits[--n];
    snprintf(text + o, sizeof text - o, "e-%d", dp);
    return strtod(text, NULL);
}

/* Sum of volume[i..j) as decimals (see the top of the file), or as doubles when a volume has
 * no short decimal. */
static double sum_volume(const double *volume, size_t i, size_t j)
{
    enum { LOCAL = 64 };
    int dp_local[LOCAL];
    int64_t m_local[LOCAL];
    int *dps = dp_local;
    int64_t *ms = m_local;
    if (j - i > LOCAL) {
        dps = malloc((j - i) * sizeof *dps);
        ms = malloc((j - i) * sizeof *ms);
    }
    int ok = dps && ms, dp = 8, dmax = 0;
    for (size_t k = i; ok && k < j; k++) {
        ok = to_decimal(volume[k], &dp, &ms[k - i]);
        dps[k - i] = dp;
        if (dp > dmax)
            dmax = dp;
    }
    double v = 0;
    if (ok) {
        unsigned __int128 sum = 0;
        for (size_t k = 0; k < j - i; k++)
            sum += (unsigned __int128)ms[k] * (uint64_t)p10i[dmax - dps[k]];
        v = from_decimal(sum, dmax);
    } else {
        for (size_t k = i; k < j; k++)
            v += volume[k];
    }
    if (dps != dp_local)
        free(dps);
    if (ms != m_local)
        free(ms);
    return v;
}

int cb_series_resample(const cb_series_t *s, const char *to, cb_resample_policy_t policy,
                       cb_series_t **out, size_t *incomplete, cb_diag_t *diag)
{
    *out = NULL;
    if (incomplete)
        *incomplete = 0;
    cb_timeframe_t src, dst;
    if (!s->meta.timeframe[0] || cb_timeframe_parse(s->meta.timeframe, &src) != 0)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL,
                           "the series has no timeframe to resample from");
    if (!to || cb_timeframe_parse(to, &dst) != 0)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "--to",
                           "'%s' is not a timeframe (e.g. 5m, 4h, 1d, 1w, 1M)", to ? to : "");
    /* The target grid must be made of whole source candles. */
    int ok;
    if (dst.months)
        ok = src.months ? dst.months % src.months == 0 : CB_MS_PER_DAY % src.ms == 0;
    else
        ok = !src.months && dst.ms % src.ms == 0 &&
             cb_timeframe_on_grid(&src, cb_timeframe_floor(&dst, 0));
    if (!ok)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "--to",
                           "%s candles cannot be built from whole %s candles", dst.name,
                           src.name);

    cb_series_t *r = cb_series_new(s->n ? s->n / 2 + 1 : 1);
    if (!r)
        return cb_diag_set(diag, CB_ENOMEM, NULL, 0, 0, NULL, NULL);
    r->meta = s->meta;
    memcpy(r->meta.timeframe, dst.name, sizeof r->meta.timeframe);
    char src_note[200];
    size_t sl = strnlen(s->meta.source, sizeof src_note - 1);
    memcpy(src_note, s->meta.source, sl);
    src_note[sl] = '\0';
    snprintf(r->meta.source, sizeof r->meta.source, "%.199s, resampled %.7s->%.7s", src_note,
             src.name, dst.name);

    size_t n_incomplete = 0;
    size_t i = 0;
    while (i < s->n) {
        int64_t start = cb_timeframe_floor(&dst, s->time_ms[i]);
        int64_t end = cb_timeframe_next(&dst, start);
        double o = s->open[i], h = s->high[i], l = s->low[i], c = s->close[i];
        int64_t count = 1;
        size_t j = i + 1;
        for (; j < s->n && s->time_ms[j] < end; j++) {
            if (s->high[j] > h)
                h = s->high[j];
            if (s->low[j] < l)
                l = s->low[j];
            c = s->close[j];
            count++;
        }
        double v = sum_volume(s->volume, i, j);
        i = j;
        int complete = count >= expected_count(&src, &dst, start);
        if (!complete)
            n_incomplete++;
        if (complete || policy == CB_RESAMPLE_KEEP_INCOMPLETE) {
            int e = cb_series_push(r, start, o, h, l, c, v);
            if (e) {
                cb_series_free(r);
                return cb_diag_set(diag, e, NULL, 0, 0, NULL, NULL);
            }
        }
    }
    if (incomplete)
        *incomplete = n_incomplete;
    *out = r;
    return 0;
}
