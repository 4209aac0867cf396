/* Directional movement: PLUS_DI, MINUS_DI, ADX, ADXR, exactly as TA-Lib computes them
 * (J. Welles Wilder, "New Concepts in Technical Trading Systems", 1978, without the book's
 * integer rounding, as in TA-Lib). Inputs high, low, close.
 *
 * TA-Lib's seeding, reproduced here: the first smoothed +DM/-DM/TR are the plain sums of the
 * first period-1 one-bar values; from bar `period` on, Wilder smoothing x = x - x/period + v.
 * DI = 100*DM/TR (0 when |TR| < 1e-8). ADX's seed is the mean of the first `period` DX values
 * (bars period..2*period-1, a DX that cannot be computed counts as 0), then
 * adx = (adx*(period-1) + dx)/period, left unchanged on bars whose DX cannot be computed.
 * ADXR = (ADX + ADX of period-1 bars ago)/2. With period 1, PLUS_DI/MINUS_DI return the
 * one-bar ratio DM/TR without the factor 100 (TA-Lib does the same). */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "ta/ta_more_int.h"

/* ---- Shared +DM/-DM/TR smoothing ------------------------------------------------------- */

typedef struct dm_core {
    int period;
    long n;
    double ph, pl, pc;
    double pdm, mdm, tr;   /* smoothed (or, during the first period-1 bars, summed) */
    double diff_p, diff_m; /* this bar's one-bar deltas, for period 1 */
    double tr1;            /* this bar's true range */
} dm_core_t;

static void dm_init(dm_core_t *d, int period)
{
    memset(d, 0, sizeof *d);
    d->period = period;
}

/* Consumes a bar; returns its index in the segment (0 for the first bar). */
static long dm_step(dm_core_t *d, double h, double l, double c)
{
    long k = d->n++;
    if (k == 0) {
        d->ph = h;
        d->pl = l;
        d->pc = c;
        return 0;
    }
    double diff_p = h - d->ph;
    double diff_m = d->pl - l;
    d->ph = h;
    d->pl = l;
    double tr = tm_true_range(h, l, d->pc);
    d->pc = c;
    d->diff_p = diff_p;
    d->diff_m = diff_m;
    d->tr1 = tr;
    int p = d->period;
    if (k < p) {
        if (diff_m > 0 && diff_p < diff_m)
            d->mdm += diff_m;
        else if (diff_p > 0 && diff_p > diff_m)
            d->pdm += diff_p;
        d->tr += tr;
    } else {
        d->mdm -= d->mdm / p;
        d->pdm -= d->pdm / p;
        if (diff_m > 0 && diff_p < diff_m)
            d->mdm += diff_m;
        else if (diff_p > 0 && diff_p > diff_m)
            d->pdm += diff_p;
        d->tr = d->tr - (d->tr / p) + tr;
    }
    return k;
}

/* +DI (plus=1) or -DI for a bar with index k; NaN before the lookback. */
static double dm_di(const dm_core_t *d, long k, int plus)
{
    if (d->period == 1) {
        if (k < 1)
            return NAN;
        int on = plus ? (d->diff_p > 0 && d->diff_p > d->diff_m)
                      : (d->diff_m > 0 && d->diff_m > d->diff_p);
        if (!on || tm_is_zero(d->tr1))
            return 0.0;
        return (plus ? d->diff_p : d->diff_m) / d->tr1;
    }
    if (k < d->period)
        return NAN;
    if (tm_is_zero(d->tr))
        return 0.0;
    return 100.0 * ((plus ? d->pdm : d->mdm) / d->tr);
}

/* ---- PLUS_DI / MINUS_DI (period 1..100000, default 14): lookback period (1 for period 1). */

static int di_lookback(const double *opts)
{
    if (!tm_int_ok(opts[0], 1, 100000))
        return -1;
    return tm_iopt(opts, 0);
}

int cb_ta_plus_di_lookback(const double *opts)
{
    return di_lookback(opts);
}

int cb_ta_minus_di_lookback(const double *opts)
{
    return di_lookback(opts);
}

static void plus_di_kernel(size_t m, const double *const *in, const double *opts,
                           double *const *out)
{
    dm_core_t d;
    dm_init(&d, tm_iopt(opts, 0));
    for (size_t i = 0; i < m; i++)
        out[0][i] = dm_di(&d, dm_step(&d, in[0][i], in[1][i], in[2][i]), 1);
}

static void minus_di_kernel(size_t m, const double *const *in, const double *opts,
                            double *const *out)
{
    dm_core_t d;
    dm_init(&d, tm_iopt(opts, 0));
    for (size_t i = 0; i < m; i++)
        out[0][i] = dm_di(&d, dm_step(&d, in[0][i], in[1][i], in[2][i]), 0);
}

int cb_ta_plus_di(size_t n, const double *const *in, const double *opts, double *const *out)
{
    if (!in || !out || di_lookback(opts) < 0)
        return CB_EINVAL;
    tm_run_segments(n, 3, in, 1, out, opts, plus_di_kernel);
    return 0;
}

int cb_ta_minus_di(size_t n, const double *const *in, const double *opts, double *const *out)
{
    if (!in || !out || di_lookback(opts) < 0)
        return CB_EINVAL;
    tm_run_segments(n, 3, in, 1, out, opts, minus_di_kernel);
    return 0;
}

size_t cb_ta_plus_di_stream_size(const double *opts)
{
    (void)opts;
    return sizeof(dm_core_t);
}

size_t cb_ta_minus_di_stream_size(const double *opts)
{
    (void)opts;
    return sizeof(dm_core_t);
}

int cb_ta_plus_di_stream_init(void *state, const double *opts)
{
    if (di_lookback(opts) < 0)
        return CB_EINVAL;
    dm_init(state, tm_iopt(opts, 0));
    return 0;
}

int cb_ta_minus_di_stream_init(void *state, const double *opts)
{
    return cb_ta_plus_di_stream_init(state, opts);
}

static int di_update(dm_core_t *d, const double *in, double *out, int plus)
{
    if (tm_any_nan(in, 3)) {
        dm_init(d, d->period);
        out[0] = NAN;
        return 0;
    }
    out[0] = dm_di(d, dm_step(d, in[0], in[1], in[2]), plus);
    return !isnan(out[0]);
}

int cb_ta_plus_di_stream_update(void *state, const double *in, double *out)
{
    return di_update(state, in, out, 1);
}

int cb_ta_minus_di_stream_update(void *state, const double *in, double *out)
{
    return di_update(state, in, out, 0);
}

/* ---- ADX (period 2..100000, default 14): lookback 2*period-1. --------------------------- */

typedef struct adx_core {
    dm_core_t dm;
    double sum_dx, adx;
} adx_core_t;

static void adx_init(adx_core_t *a, int period)
{
    dm_init(&a->dm, period);
    a->sum_dx = a->adx = 0.0;
}

static double adx_step(adx_core_t *a, double h, double l, double c)
{
    long k = dm_step(&a->dm, h, l, c);
    int p = a->dm.period;
    if (k < p)
        return NAN;
    double dx = 0.0;
    int have_dx = 0;
    if (!tm_is_zero(a->dm.tr)) {
        double minus_di = 100.0 * (a->dm.mdm / a->dm.tr);
        double plus_di = 100.0 * (a->dm.pdm / a->dm.tr);
        double sum = minus_di + plus_di;
        if (!tm_is_zero(sum)) {
            dx = 100.0 * (fabs(minus_di - plus_di) / sum);
            have_dx = 1;
        }
    }
    if (k < 2L * p - 1) {
        if (have_dx)
            a->sum_dx += dx;
        return NAN;
    }
    if (k == 2L * p - 1) {
        if (have_dx)
            a->sum_dx += dx;
        a->adx = a->sum_dx / p;
        return a->adx;
    }
    if (have_dx)
        a->adx = ((a->adx * (p - 1)) + dx) / p;
    return a->adx;
}

int cb_ta_adx_lookback(const double *opts)
{
    if (!tm_int_ok(opts[0], 2, 100000))
        return -1;
    return 2 * tm_iopt(opts, 0) - 1;
}

static void adx_kernel(size_t m, const double *const *in, const double *opts,
                       double *const *out)
{
    adx_core_t a;
    adx_init(&a, tm_iopt(opts, 0));
    for (size_t i = 0; i < m; i++)
        out[0][i] = adx_step(&a, in[0][i], in[1][i], in[2][i]);
}

int cb_ta_adx(size_t n, const double *const *in, const double *opts, double *const *out)
{
    if (!in || !out || cb_ta_adx_lookback(opts) < 0)
        return CB_EINVAL;
    tm_run_segments(n, 3, in, 1, out, opts, adx_kernel);
    return 0;
}

size_t cb_ta_adx_stream_size(const double *opts)
{
    (void)opts;
    return sizeof(adx_core_t);
}

int cb_ta_adx_stream_init(void *state, const double *opts)
{
    if (cb_ta_adx_lookback(opts) < 0)
        return CB_EINVAL;
    adx_init(state, tm_iopt(opts, 0));
    return 0;
}

int cb_ta_adx_stream_update(void *state, const double *in, double *out)
{
    adx_core_t *a = state;
    if (tm_any_nan(in, 3)) {
        adx_init(a, a->dm.period);
        out[0] = NAN;
        return 0;
    }
    out[0] = adx_step(a, in[0], in[1], in[2]);
    return !isnan(out[0]);
}

/* ---- ADXR (period 2..100000, default 14): lookback 3*period-2. -------------------------- */

int cb_ta_adxr_lookback(const double *opts)
{
    if (!tm_int_ok(opts[0], 2, 100000))
        return -1;
    return 3 * tm_iopt(opts, 0) - 2;
}

static double adxr_of(double adx_now, double adx_then)
{
    return (adx_now + adx_then) / 2.0;
}

/* Batch: ADX into the output, then combine in place from the end (each value reads only
 * itself and an earlier, not yet overwritten, ADX). */
static void adxr_kernel(size_t m, const double *const *in, const double *opts,
                        double *const *out)
{
    adx_kernel(m, in, opts, out);
    size_t p = (size_t)tm_iopt(opts, 0);
    size_t lb = 3 * p - 2;
    double *o = out[0];
    for (size_t t = m; t-- > lb;)
        o[t] = adxr_of(o[t], o[t - (p - 1)]);
    tm_fill_nan(o, 0, lb < m ? lb : m);
}

int cb_ta_adxr(size_t n, const double *const *in, const double *opts, double *const *out)
{
    if (!in || !out || cb_ta_adxr_lookback(opts) < 0)
        return CB_EINVAL;
    tm_run_segments(n, 3, in, 1, out, opts, adxr_kernel);
    return 0;
}

typedef struct adxr_state {
    adx_core_t adx;
    double ring[]; /* the last `period` ADX values, by bar index mod period */
} adxr_state_t;

size_t cb_ta_adxr_stream_size(const double *opts)
{
    int p = cb_ta_adxr_lookback(opts) < 0 ? 0 : tm_iopt(opts, 0);
    return sizeof(adxr_state_t) + (size_t)p * sizeof(double);
}

int cb_ta_adxr_stream_init(void *state, const double *opts)
{
    if (cb_ta_adxr_lookback(opts) < 0)
        return CB_EINVAL;
    adxr_state_t *s = state;
    adx_init(&s->adx, tm_iopt(opts, 0));
    return 0;
}

int cb_ta_adxr_stream_update(void *state, const double *in, double *out)
{
    adxr_state_t *s = state;
    int p = s->adx.dm.period;
    if (tm_any_nan(in, 3)) {
        adx_init(&s->adx, p);
        out[0] = NAN;
        return 0;
    }
    long k = s->adx.dm.n;
    double adx = adx_step(&s->adx, in[0], in[1], in[2]);
    size_t slot = (size_t)(k % p);
    s->ring[slot] = adx;
    if (k < 3L * p - 2) {
        out[0] = NAN;
        return 0;
    }
    out[0] = adxr_of(adx, s->ring[(size_t)((k - (p - 1)) % p)]);
    return 1;
}
