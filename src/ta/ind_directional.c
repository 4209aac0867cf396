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
#include "ta/ta_more_int.h"

#define HLC_INPUTS .n_inputs = 3, .inputs = {"high", "low", "close"}

/* ---- Shared +DM/-DM/TR smoothing ------------------------------------------------------- */

typedef struct dm_core {
    double period;
    int64_t n;
    double ph, pl, pc;
    double pdm, mdm, tr;   /* smoothed (or, during the first period-1 bars, summed) */
    double diff_p, diff_m; /* this bar's one-bar deltas, for period 1 */
    double tr1;            /* this bar's true range */
} dm_core_t;

static void dm_init(dm_core_t *d, int period)
{
    memset(d, 0, sizeof *d);
    d->period = (double)period;
}

/* Consumes a bar; returns its index (0 for the first bar). */
static int64_t dm_step(dm_core_t *d, double h, double l, double c)
{
    int64_t k = d->n++;
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
    double p = d->period;
    if ((double)k < p) {
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

/* +DI (plus=1) or -DI after dm_step; meaningful from the lookback on. */
static double dm_di(const dm_core_t *d, int plus)
{
    if (d->period == 1.0) {
        int on = plus ? (d->diff_p > 0 && d->diff_p > d->diff_m)
                      : (d->diff_m > 0 && d->diff_m > d->diff_p);
        if (!on || CB_TA_IS_ZERO(d->tr1))
            return 0.0;
        return (plus ? d->diff_p : d->diff_m) / d->tr1;
    }
    if (CB_TA_IS_ZERO(d->tr))
        return 0.0;
    return 100.0 * ((plus ? d->pdm : d->mdm) / d->tr);
}

/* ---- PLUS_DI / MINUS_DI (period 1..100000, default 14): lookback period. ----------------- */

static int plus_di_lookback(const double *opts)
{
    return cb_ta_iopt(opts, 0);
}

static int minus_di_lookback(const double *opts)
{
    return cb_ta_iopt(opts, 0);
}

/* ---- Batch kernels --------------------------------------------------------------------
 * The operations of dm_step, dm_di and adx_step, bar by bar in the same order, reorganised for
 * speed (the values are bit-identical): two smoothed quantities share the two lanes of a
 * vector, so one division instruction serves both (the divider is what these indicators wait
 * for); "add diff or nothing" becomes adding diff or +0.0, which changes no value because the
 * sums are never -0.0; the seed phases are split from the main loop. */

/* This bar's {+DM, -DM} increments (at most one nonzero), TA-Lib's conditions
 * diff_p > 0 && diff_p > diff_m and diff_m > 0 && diff_p < diff_m, as lane masks: these data
 * decide at random, and a mispredicted branch costs more than the whole bar otherwise. */
static inline cb_ta_v2d dm_incr(double diff_p, double diff_m)
{
    const cb_ta_v2d zero = {0.0, 0.0};
    cb_ta_v2d a = {diff_p, diff_m}, b = {diff_m, diff_p};
    cb_ta_v2u m = (cb_ta_v2u)((a > zero) & (a > b));
    return (cb_ta_v2d)(m & (cb_ta_v2u)a); /* diff, or +0.0 */
}

/* PLUS_DI (plus=1) or MINUS_DI, period >= 2: lane 0 the smoothed DM, lane 1 the smoothed TR. */
static inline void di_batch_fast(size_t n, const double *h, const double *l, const double *c,
                          size_t p, double *o, int plus)
{
    const cb_ta_v2d dp = {(double)p, (double)p};
    cb_ta_v2d v = {0.0, 0.0};
    for (size_t i = 1; i < n; i++) {
        cb_ta_v2d inc = dm_incr(h[i] - h[i - 1], l[i - 1] - l[i]);
        cb_ta_v2d add = {plus ? inc[0] : inc[1], tm_true_range(h[i], l[i], c[i - 1])};
        if (i < p) {
            v += add;
            continue;
        }
        v = v - v / dp + add;
        o[i] = CB_TA_IS_ZERO(v[1]) ? 0.0 : 100.0 * (v[0] / v[1]);
    }
}

static inline void di_batch(size_t n, const double *const *in, const double *opts,
                            double *const *out, int plus)
{
    size_t lb = (size_t)cb_ta_iopt(opts, 0);
    if (lb >= 2) {
        di_batch_fast(n, in[0], in[1], in[2], lb, out[0], plus);
        return;
    }
    dm_core_t d; /* period 1: the one-bar ratio */
    dm_init(&d, cb_ta_iopt(opts, 0));
    for (size_t i = 0; i < n; i++) {
        dm_step(&d, in[0][i], in[1][i], in[2][i]);
        if (i >= lb)
            out[0][i] = dm_di(&d, plus);
    }
}

static void plus_di_batch(size_t n, const double *const *in, const double *opts,
                          double *const *out)
{
    di_batch(n, in, opts, out, 1);
}

static void minus_di_batch(size_t n, const double *const *in, const double *opts,
                           double *const *out)
{
    di_batch(n, in, opts, out, 0);
}

static size_t plus_di_size(const double *opts)
{
    (void)opts;
    return sizeof(dm_core_t);
}

static size_t minus_di_size(const double *opts)
{
    (void)opts;
    return sizeof(dm_core_t);
}

static void plus_di_init(void *st, const double *opts)
{
    dm_init(st, cb_ta_iopt(opts, 0));
}

static void minus_di_init(void *st, const double *opts)
{
    dm_init(st, cb_ta_iopt(opts, 0));
}

static void plus_di_update(void *st, const double *in, double *out)
{
    dm_step(st, in[0], in[1], in[2]);
    out[0] = dm_di(st, 1);
}

static void minus_di_update(void *st, const double *in, double *out)
{
    dm_step(st, in[0], in[1], in[2]);
    out[0] = dm_di(st, 0);
}

CB_TA_DEFINE_SCALAR(plus_di, dm_core_t, .title = "Plus Directional Indicator",
             .reference = "TA-Lib TA_PLUS_DI (Wilder 1978)", HLC_INPUTS, .n_opts = 1,
             .opts = {{"period", 14, 1, 100000, 1}}, .n_outputs = 1, .outputs = {"plus_di"})

CB_TA_DEFINE_SCALAR(minus_di, dm_core_t, .title = "Minus Directional Indicator",
             .reference = "TA-Lib TA_MINUS_DI (Wilder 1978)", HLC_INPUTS, .n_opts = 1,
             .opts = {{"period", 14, 1, 100000, 1}}, .n_outputs = 1, .outputs = {"minus_di"})

/* ---- ADX (period 2..100000, default 14): lookback 2*period-1. --------------------------- */

typedef struct adx_core {
    dm_core_t dm;
    double sum_dx, adx;
} adx_core_t;

static void adx_core_init(adx_core_t *a, int period)
{
    dm_init(&a->dm, period);
    a->sum_dx = a->adx = 0.0;
}

static double adx_step(adx_core_t *a, double h, double l, double c)
{
    int64_t k = dm_step(&a->dm, h, l, c);
    double p = a->dm.period;
    if ((double)k < p)
        return NAN;
    double dx = 0.0;
    int have_dx = 0;
    if (!CB_TA_IS_ZERO(a->dm.tr)) {
        double minus_di = 100.0 * (a->dm.mdm / a->dm.tr);
        double plus_di = 100.0 * (a->dm.pdm / a->dm.tr);
        double sum = minus_di + plus_di;
        if (!CB_TA_IS_ZERO(sum)) {
            dx = 100.0 * (fabs(minus_di - plus_di) / sum);
            have_dx = 1;
        }
    }
    double last_seed = 2.0 * p - 1.0;
    if ((double)k <= last_seed) {
        if (have_dx)
            a->sum_dx += dx;
        if ((double)k < last_seed)
            return NAN;
        a->adx = a->sum_dx / p;
        return a->adx;
    }
    if (have_dx)
        a->adx = ((a->adx * (p - 1.0)) + dx) / p;
    return a->adx;
}

static int adx_lookback(const double *opts)
{
    return 2 * cb_ta_iopt(opts, 0) - 1;
}

/* ADX, period >= 2 (see the batch kernels above): {+DM, -DM} in the lanes of one vector. */
static void adx_batch(size_t n, const double *const *in, const double *opts,
                      double *const *out)
{
    const double *h = in[0], *l = in[1], *c = in[2];
    double *o = out[0];
    size_t p = (size_t)cb_ta_iopt(opts, 0);
    const double fp = (double)p, fp1 = fp - 1.0;
    const cb_ta_v2d dp = {fp, fp}, hundred = {100.0, 100.0};
    cb_ta_v2d dm = {0.0, 0.0};
    double tr = 0.0, adx = 0.0;
    for (size_t i = 1; i < p; i++) { /* seed: plain sums of bars 1..period-1 */
        dm += dm_incr(h[i] - h[i - 1], l[i - 1] - l[i]);
        tr += tm_true_range(h[i], l[i], c[i - 1]);
    }
    for (size_t i = p; i < n; i++) {
        dm = dm - dm / dp + dm_incr(h[i] - h[i - 1], l[i - 1] - l[i]);
        tr = tr - (tr / fp) + tm_true_range(h[i], l[i], c[i - 1]);
        cb_ta_v2d trv = {tr, tr};
        cb_ta_v2d di = hundred * (dm / trv); /* {+DI, -DI} */
        double sum = di[1] + di[0];
        double dx = 100.0 * (fabs(di[1] - di[0]) / sum);
        int have_dx = !CB_TA_IS_ZERO(tr) && !CB_TA_IS_ZERO(sum);
        if (i < 2 * p - 1) { /* the seed: sum of the first period DX (0 when undefined) */
            adx += have_dx ? dx : 0.0;
        } else if (i == 2 * p - 1) {
            adx = (adx + (have_dx ? dx : 0.0)) / fp;
            o[i] = adx;
        } else {
            if (have_dx)
                adx = ((adx * fp1) + dx) / fp;
            o[i] = adx;
        }
    }
}

static size_t adx_size(const double *opts)
{
    (void)opts;
    return sizeof(adx_core_t);
}

static void adx_init(void *st, const double *opts)
{
    adx_core_init(st, cb_ta_iopt(opts, 0));
}

static void adx_update(void *st, const double *in, double *out)
{
    out[0] = adx_step(st, in[0], in[1], in[2]);
}

CB_TA_DEFINE_SCALAR(adx, adx_core_t, .title = "Average Directional Movement Index",
             .reference = "TA-Lib TA_ADX (Wilder 1978)", HLC_INPUTS, .n_opts = 1,
             .opts = {{"period", 14, 2, 100000, 1}}, .n_outputs = 1, .outputs = {"adx"})

/* ---- ADXR (period 2..100000, default 14): lookback 3*period-2. -------------------------- */

static int adxr_lookback(const double *opts)
{
    return 3 * cb_ta_iopt(opts, 0) - 2;
}

/* ADX into the output, then combined in place from the end (each value reads itself and an
 * earlier ADX that is not yet overwritten). */
static void adxr_batch(size_t n, const double *const *in, const double *opts,
                       double *const *out)
{
    adx_batch(n, in, opts, out);
    size_t p = (size_t)cb_ta_iopt(opts, 0);
    size_t lb = 3 * p - 2;
    double *o = out[0];
    for (size_t t = n; t-- > lb;)
        o[t] = (o[t] + o[t - (p - 1)]) / 2.0;
    cb_ta_fill_nan(o, lb); /* the ADX values before the first ADXR */
}

typedef struct adxr_state {
    adx_core_t adx;
    cb_ta_ring_t ring; /* the last `period` ADX values */
} adxr_state_t;

static size_t adxr_size(const double *opts)
{
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(adxr_state_t));
    cb_ta_layout_add(&l, (size_t)cb_ta_iopt(opts, 0) * sizeof(double));
    return l.off;
}

static void adxr_init(void *st, const double *opts)
{
    adxr_state_t *s = st;
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(adxr_state_t));
    adx_core_init(&s->adx, cb_ta_iopt(opts, 0));
    cb_ta_ring_place(&s->ring, &l, (size_t)cb_ta_iopt(opts, 0));
}

static void adxr_update(void *st, const double *in, double *out)
{
    adxr_state_t *s = st;
    double dropped, adx = adx_step(&s->adx, in[0], in[1], in[2]);
    cb_ta_ring_push(&s->ring, st, adx, &dropped);
    out[0] = s->ring.n == s->ring.cap ? (adx + cb_ta_ring_get(&s->ring, st, 0)) / 2.0 : NAN;
}

CB_TA_DEFINE(adxr, .title = "Average Directional Movement Index Rating",
             .reference = "TA-Lib TA_ADXR (Wilder 1978)", HLC_INPUTS, .n_opts = 1,
             .opts = {{"period", 14, 2, 100000, 1}}, .n_outputs = 1, .outputs = {"adxr"})
