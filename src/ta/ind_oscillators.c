/* Oscillators: CCI, MFI, WILLR, STOCH, STOCHRSI, ULTOSC, AROON, exactly as TA-Lib computes
 * them (seeding, order of floating-point operations, zero-range conventions).
 *   CCI      Donald Lambert, "Commodity Channel Index", Commodities 1980; the mean deviation
 *            is the mean |typical - SMA(typical)| over the window.
 *   MFI      Gene Quong and Avrum Soudack, TASC 1989.
 *   WILLR    Larry Williams, %R (1973).
 *   STOCH    George Lane's slow stochastic with SMA smoothing (TA-Lib STOCH, MA type SMA).
 *   STOCHRSI Tushar Chande and Stanley Kroll, TASC V.11:5 (fast K and fast D of RSI).
 *   ULTOSC   Larry Williams, "The Ultimate Oscillator", TASC 1985.
 *   AROON    Tushar Chande, TASC 1995.
 * Batch forms read trailing values back from the input arrays (or from the output arrays used
 * as scratch); streaming forms keep them in rings inside the state. The arithmetic is shared
 * and done in the same order, so both produce identical numbers. */
#include "ta/ta_more_int.h"

#define HLC_INPUTS .n_inputs = 3, .inputs = {"high", "low", "close"}

static double typical(double h, double l, double c)
{
    return (h + l + c) / 3;
}

/* ====================================================================================== */
/* CCI (period 2..100000, default 14): lookback period-1.                                  */
/* TA-Lib keeps the window in a circular buffer whose slot is (bar index mod period) and   */
/* sums it slot by slot; summing in that same order reproduces its rounding exactly. The   */
/* mean deviation needs the whole window: CCI costs O(period) per bar in both forms (the   */
/* one indicator here that is not O(1)). Zero deviation gives 0, as in TA-Lib; so does a   */
/* window of identical typical prices, where TA-Lib's mean (a sum of `period` copies over  */
/* `period`) misses the value by an ulp and the CCI comes out +-66.67 instead.             */

/* Window given as two runs in slot order: a[0..na) then b[0..nb). flat: the window holds one
 * value (the caller's run of identical typical prices covers it); -1: not known, look. */
static inline double cci_value(const double *a, size_t na, const double *b, size_t nb,
                               double p, double last, int flat)
{
    if (flat < 0) {
        flat = 1;
        for (size_t j = 0; j < na; j++)
            flat &= a[j] == last;
        for (size_t j = 0; j < nb; j++)
            flat &= b[j] == last;
    }
    if (flat)
        return 0.0;
    double avg = 0.0;
    for (size_t j = 0; j < na; j++)
        avg += a[j];
    for (size_t j = 0; j < nb; j++)
        avg += b[j];
    avg /= p;
    double dev = 0.0;
    for (size_t j = 0; j < na; j++)
        dev += fabs(a[j] - avg);
    for (size_t j = 0; j < nb; j++)
        dev += fabs(b[j] - avg);
    double t = last - avg;
    if (t != 0.0 && dev != 0.0)
        return t / (0.015 * (dev / p));
    return 0.0;
}

static int cci_lookback(const double *opts)
{
    return cb_ta_iopt(opts, 0) - 1;
}

/* With period <= CCI_RING the window lives in a stack ring whose slot is (bar mod period), as
 * TA-Lib's and the stream's: every bar sums the whole ring in slot order, loops of a fixed
 * length whose ends the processor predicts. Longer periods: typical prices go into the
 * output first; then each value is computed from the end, so the window [t-p+1, t] still
 * holds typical prices when bar t is overwritten (the same sums as two runs). */
#define CCI_RING 1024

static void cci_batch(size_t n, const double *const *in, const double *opts,
                      double *const *out)
{
    size_t p = (size_t)cb_ta_iopt(opts, 0);
    double *o = out[0];
    if (p <= CCI_RING) {
        double ring[CCI_RING], last = 0.0;
        int64_t run = 0;
        for (size_t t = 0, slot = 0; t < n; t++) {
            double tp = typical(in[0][t], in[1][t], in[2][t]);
            run = cb_ta_flat_next(run, last, tp);
            last = tp;
            ring[slot] = tp;
            slot = slot + 1 == p ? 0 : slot + 1;
            if (t + 1 >= p)
                o[t] = cci_value(ring, p, NULL, 0, (double)p, tp, run >= (int64_t)p);
        }
        return;
    }
    for (size_t i = 0; i < n; i++)
        o[i] = typical(in[0][i], in[1][i], in[2][i]);
    for (size_t t = n; t-- > p - 1;) {
        size_t b0 = t - (t % p); /* the bar in slot 0 */
        size_t first = t + 1 - p;
        o[t] = cci_value(o + b0, t - b0 + 1, o + first, b0 - first, (double)p, o[t], -1);
    }
    cb_ta_fill_nan(o, p - 1);
}

typedef struct cci_state {
    cb_ta_flat_t flat;
    cb_ta_ring_t ring; /* physical slot = bar index mod period, as TA-Lib's */
} cci_state_t;

static size_t cci_size(const double *opts)
{
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(cci_state_t));
    cb_ta_layout_add(&l, (size_t)cb_ta_iopt(opts, 0) * sizeof(double));
    return l.off;
}

static void cci_init(void *st, const double *opts)
{
    cci_state_t *s = st;
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(cci_state_t));
    cb_ta_flat_reset(&s->flat);
    cb_ta_ring_place(&s->ring, &l, (size_t)cb_ta_iopt(opts, 0));
}

static void cci_update(void *st, const double *in, double *out)
{
    cci_state_t *s = st;
    double dropped, tp = typical(in[0], in[1], in[2]);
    int64_t run = cb_ta_flat_push(&s->flat, tp);
    cb_ta_ring_push(&s->ring, st, tp, &dropped);
    out[0] = s->ring.n == s->ring.cap
                 ? cci_value(cb_ta_dptr(st, s->ring.off), s->ring.cap, NULL, 0,
                             (double)s->ring.cap, tp, run >= (int64_t)s->ring.cap)
                 : NAN;
}

CB_TA_DEFINE(cci, .title = "Commodity Channel Index",
             .reference = "TA-Lib TA_CCI (Lambert 1980)", HLC_INPUTS, .n_opts = 1,
             .opts = {{"period", 14, 2, 100000, 1}}, .n_outputs = 1, .outputs = {"cci"})

/* ====================================================================================== */
/* MFI (period 2..100000, default 14): lookback period. Inputs high, low, close, volume.   */
/* Money flow = typical*volume, positive when the typical price rose, negative when it     */
/* fell, neither when unchanged. MFI = 100*pos/(pos+neg); 0 when pos+neg < 1 (TA-Lib).     */
/* When the last `period` flows are all zero (a flat or zero-volume stretch) both sums are  */
/* set to exactly 0 (their value), instead of the residue of what passed through them.    */

static void mfi_flow(double tp, double prev_tp, double vol, double *pos, double *neg)
{
    double d = tp - prev_tp;
    double mf = tp * vol;
    *pos = d > 0 ? mf : 0.0;
    *neg = d < 0 ? mf : 0.0;
}

/* 1 when a or b is zero (either sign), from their bits: a floating-point compare here would
 * let the compiler turn mfi_flow's selects into branches on the random sign of the change. */
static inline int either_zero(double a, double b)
{
    uint64_t x, y;
    memcpy(&x, &a, sizeof x);
    memcpy(&y, &b, sizeof y);
    return ((x << 1) == 0) | ((y << 1) == 0);
}

/* 1 when bar's money flow is zero on both sides: no price change or no money moved. */
static inline int mfi_zero_flow(double tp, double prev_tp, double vol)
{
    return either_zero(tp - prev_tp, tp * vol);
}

/* 1 when a and b are both zero (either sign), from their bits (see either_zero). */
static inline int both_zero(double a, double b)
{
    uint64_t x, y;
    memcpy(&x, &a, sizeof x);
    memcpy(&y, &b, sizeof y);
    return ((x | y) << 1) == 0;
}

static double mfi_value(double pos_sum, double neg_sum)
{
    double t = pos_sum + neg_sum;
    return t < 1.0 ? 0.0 : 100.0 * (pos_sum / t);
}

static int mfi_lookback(const double *opts)
{
    return cb_ta_iopt(opts, 0);
}

/* One typical price per bar (TA-Lib's loop); the flows of the last `period` bars are kept in a
 * stack ring for period <= MFI_RING, else the leaving flow is recomputed from the inputs (the
 * same numbers either way). */
#define MFI_RING 1024

static void mfi_batch(size_t n, const double *const *in, const double *opts,
                      double *const *out)
{
    size_t p = (size_t)cb_ta_iopt(opts, 0);
    const double *h = in[0], *l = in[1], *c = in[2], *v = in[3];
    int ring = p <= MFI_RING;
    double rpos[MFI_RING], rneg[MFI_RING];
    const size_t mask = MFI_RING - 1;
    double pos_sum = 0.0, neg_sum = 0.0, pos, neg;
    double prev_tp = typical(h[0], l[0], c[0]);
    size_t zeros = 0; /* the run of zero flows */
    for (size_t t = 1; t < n; t++) {
        if (t > p) { /* the flow of bar t-p leaves the window */
            size_t k = t - p;
            if (ring) {
                pos = rpos[k & mask];
                neg = rneg[k & mask];
            } else {
                mfi_flow(typical(h[k], l[k], c[k]), typical(h[k - 1], l[k - 1], c[k - 1]),
                         v[k], &pos, &neg);
            }
            pos_sum -= pos;
            neg_sum -= neg;
        }
        double tp = typical(h[t], l[t], c[t]);
        mfi_flow(tp, prev_tp, v[t], &pos, &neg);
        zeros = (size_t)cb_ta_run_next((int64_t)zeros, mfi_zero_flow(tp, prev_tp, v[t]));
        prev_tp = tp;
        if (ring) {
            rpos[t & mask] = pos;
            rneg[t & mask] = neg;
        }
        pos_sum += pos; /* adding the other side's 0.0 changes nothing, as in TA-Lib */
        neg_sum += neg;
        if (zeros >= p) /* predictable: whole stretches are flat or not */
            pos_sum = neg_sum = 0.0;
        if (t >= p)
            out[0][t] = mfi_value(pos_sum, neg_sum);
    }
}

typedef struct mfi_state {
    int64_t n, zeros;
    double prev_tp, pos_sum, neg_sum;
    cb_ta_ring_t pos, neg;
} mfi_state_t;

static size_t mfi_size(const double *opts)
{
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(mfi_state_t));
    cb_ta_layout_add(&l, (size_t)cb_ta_iopt(opts, 0) * sizeof(double));
    cb_ta_layout_add(&l, (size_t)cb_ta_iopt(opts, 0) * sizeof(double));
    return l.off;
}

static void mfi_init(void *st, const double *opts)
{
    mfi_state_t *s = st;
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(mfi_state_t));
    s->n = s->zeros = 0;
    s->prev_tp = s->pos_sum = s->neg_sum = 0.0;
    cb_ta_ring_place(&s->pos, &l, (size_t)cb_ta_iopt(opts, 0));
    cb_ta_ring_place(&s->neg, &l, (size_t)cb_ta_iopt(opts, 0));
}

static void mfi_update(void *st, const double *in, double *out)
{
    mfi_state_t *s = st;
    double tp = typical(in[0], in[1], in[2]);
    out[0] = NAN;
    if (s->n++ == 0) {
        s->prev_tp = tp;
        return;
    }
    if (s->pos.n == s->pos.cap) {
        s->pos_sum -= cb_ta_ring_get(&s->pos, st, 0);
        s->neg_sum -= cb_ta_ring_get(&s->neg, st, 0);
    }
    double pos, neg, dropped;
    mfi_flow(tp, s->prev_tp, in[3], &pos, &neg);
    s->zeros = cb_ta_run_next(s->zeros, mfi_zero_flow(tp, s->prev_tp, in[3]));
    s->prev_tp = tp;
    cb_ta_ring_push(&s->pos, st, pos, &dropped);
    cb_ta_ring_push(&s->neg, st, neg, &dropped);
    s->pos_sum += pos;
    s->neg_sum += neg;
    if (s->zeros >= (int64_t)s->pos.cap)
        s->pos_sum = s->neg_sum = 0.0;
    if (s->pos.n == s->pos.cap)
        out[0] = mfi_value(s->pos_sum, s->neg_sum);
}

CB_TA_DEFINE(mfi, .title = "Money Flow Index",
             .reference = "TA-Lib TA_MFI (Quong and Soudack, TASC 1989)", .n_inputs = 4,
             .inputs = {"high", "low", "close", "volume"}, .n_opts = 1,
             .opts = {{"period", 14, 2, 100000, 1}}, .n_outputs = 1, .outputs = {"mfi"})

/* ====================================================================================== */
/* WILLR (period 2..100000, default 14): lookback period-1.                                */
/* %R = -100*(highest-close)/(highest-lowest), computed as TA-Lib does; 0 when the range   */
/* is 0.                                                                                    */

static double willr_value(double close, double highest, double lowest)
{
    double diff = (highest - lowest) / (-100.0);
    return diff != 0.0 ? (highest - close) / diff : 0.0;
}

static int willr_lookback(const double *opts)
{
    return cb_ta_iopt(opts, 0) - 1;
}

static void willr_batch(size_t n, const double *const *in, const double *opts,
                        double *const *out)
{
    int64_t p = cb_ta_iopt(opts, 0);
    tm_extreme_t hi, lo;
    tm_extreme_init(&hi);
    tm_extreme_init(&lo);
    for (int64_t t = p - 1; t < (int64_t)n; t++) {
        tm_extreme_step(&lo, in[1], t - p + 1, t, 0);
        tm_extreme_step(&hi, in[0], t - p + 1, t, 1);
        out[0][t] = willr_value(in[2][t], hi.val, lo.val);
    }
}

static size_t hilo_size(int period)
{
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(tm_hilo_t));
    tm_hilo_t w;
    tm_hilo_place(&w, &l, period);
    return l.off;
}

static size_t willr_size(const double *opts)
{
    return hilo_size(cb_ta_iopt(opts, 0));
}

static void willr_init(void *st, const double *opts)
{
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(tm_hilo_t));
    tm_hilo_place(st, &l, cb_ta_iopt(opts, 0));
}

static void willr_update(void *st, const double *in, double *out)
{
    tm_hilo_push(st, st, in[0], in[1]);
    out[0] = willr_value(in[2], tm_hilo_high(st, st), tm_hilo_low(st, st));
}

CB_TA_DEFINE(willr, .title = "Williams' %R", .reference = "TA-Lib TA_WILLR (Williams 1973)",
             HLC_INPUTS, .n_opts = 1, .opts = {{"period", 14, 2, 100000, 1}}, .n_outputs = 1,
             .outputs = {"willr"})

/* ====================================================================================== */
/* STOCH (fastk_period 1..100000 default 5, slowk_period 1..100000 default 3,              */
/* slowd_period 1..100000 default 3; SMA smoothing): outputs k (slow %K), d (slow %D).     */
/* Lookback (fastk-1) + (slowk-1) + (slowd-1).                                             */

static int stoch_lookback(const double *opts)
{
    return cb_ta_iopt(opts, 0) - 1 + cb_ta_iopt(opts, 1) - 1 + cb_ta_iopt(opts, 2) - 1;
}

/* Raw %K over windows of `fk` bars, for t >= from+fk-1, into dst. */
static void fast_k_array(const double *hi_in, const double *lo_in, const double *close,
                         double *dst, size_t n, int64_t fk, int64_t from)
{
    tm_extreme_t hi, lo;
    tm_extreme_init(&hi);
    tm_extreme_init(&lo);
    for (int64_t t = from + fk - 1; t < (int64_t)n; t++) {
        tm_extreme_step(&lo, lo_in, t - fk + 1, t, 0);
        tm_extreme_step(&hi, hi_in, t - fk + 1, t, 1);
        dst[t] = tm_stoch_k(close[t], hi.val, lo.val);
    }
}

/* Highest high into out[0] and lowest low into out[1] (the shared O(1) van Herk/Gil-Werman
 * kernel), raw %K over them into out[1], slow %K = SMA(raw) into out[0], slow %D = SMA(slow
 * %K) into out[1]. */
static void stoch_batch(size_t n, const double *const *in, const double *opts,
                        double *const *out)
{
    size_t fk = (size_t)cb_ta_iopt(opts, 0);
    int sk = cb_ta_iopt(opts, 1), sd = cb_ta_iopt(opts, 2);
    size_t lb = (size_t)stoch_lookback(opts);
    cb_ta_rolling_extreme_(in[0], n, fk, out[0], 1);
    cb_ta_rolling_extreme_(in[1], n, fk, out[1], 0);
    for (size_t t = fk - 1; t < n; t++)
        out[1][t] = tm_stoch_k(in[2][t], out[0][t], out[1][t]);
    tm_sma_array(out[1], out[0], (size_t)fk - 1, n, sk);
    tm_sma_array(out[0], out[1], fk - 1 + (size_t)sk - 1, n, sd);
    cb_ta_fill_nan(out[0], lb);
    cb_ta_fill_nan(out[1], lb);
}

typedef struct stoch_state {
    tm_hilo_t w;
    tm_sma_t k_sma, d_sma;
} stoch_state_t;

static stoch_state_t stoch_place(cb_ta_layout_t *l, const double *opts)
{
    stoch_state_t s;
    tm_hilo_place(&s.w, l, cb_ta_iopt(opts, 0));
    tm_sma_place(&s.k_sma, l, cb_ta_iopt(opts, 1));
    tm_sma_place(&s.d_sma, l, cb_ta_iopt(opts, 2));
    return s;
}

static size_t stoch_size(const double *opts)
{
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(stoch_state_t));
    stoch_place(&l, opts);
    return l.off;
}

static void stoch_init(void *st, const double *opts)
{
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(stoch_state_t));
    *(stoch_state_t *)st = stoch_place(&l, opts);
}

static void stoch_update(void *st, const double *in, double *out)
{
    stoch_state_t *s = st;
    out[0] = out[1] = NAN;
    if (!tm_hilo_push(&s->w, st, in[0], in[1]))
        return;
    double k = tm_stoch_k(in[2], tm_hilo_high(&s->w, st), tm_hilo_low(&s->w, st));
    double slow_k = tm_sma_push(&s->k_sma, st, k);
    if (isnan(slow_k))
        return;
    out[1] = tm_sma_push(&s->d_sma, st, slow_k);
    out[0] = slow_k;
}

CB_TA_DEFINE(stoch, .title = "Stochastic (slow %K and %D, SMA smoothing)",
             .reference = "TA-Lib TA_STOCH with SMA (Lane)", HLC_INPUTS, .n_opts = 3,
             .opts = {{"fastk_period", 5, 1, 100000, 1},
                      {"slowk_period", 3, 1, 100000, 1},
                      {"slowd_period", 3, 1, 100000, 1}},
             .n_outputs = 2, .outputs = {"k", "d"})

/* ====================================================================================== */
/* STOCHRSI (period 2..100000 default 14, fastk_period 1..100000 default 5, fastd_period   */
/* 1..100000 default 3; SMA for fast D): outputs fastk, fastd of RSI(period), %K using RSI */
/* as high, low and close. Lookback period + (fastk-1) + (fastd-1).                        */

/* Wilder's RSI in TA-Lib's order of operations (seed = mean gain/loss of the first period
 * changes; 0 when gain+loss is ~0). */
typedef struct rsi_core {
    double period;
    int64_t n;
    double prev, gain, loss;
} rsi_core_t;

static void rsi_core_init(rsi_core_t *r, int period)
{
    r->period = (double)period;
    r->n = 0;
    r->prev = r->gain = r->loss = 0.0;
}

static double rsi_step(rsi_core_t *r, double x)
{
    int64_t k = r->n++;
    if (k == 0) {
        r->prev = x;
        return NAN;
    }
    double d = x - r->prev;
    r->prev = x;
    double p = r->period;
    if ((double)k <= p) {
        if (d < 0)
            r->loss -= d;
        else
            r->gain += d;
        if ((double)k < p)
            return NAN;
        r->loss /= p;
        r->gain /= p;
    } else {
        r->loss *= (p - 1.0);
        r->gain *= (p - 1.0);
        if (d < 0)
            r->loss -= d;
        else
            r->gain += d;
        r->loss /= p;
        r->gain /= p;
    }
    double t = r->gain + r->loss;
    return CB_TA_IS_ZERO(t) ? 0.0 : 100.0 * (r->gain / t);
}

static int stochrsi_lookback(const double *opts)
{
    return cb_ta_iopt(opts, 0) + cb_ta_iopt(opts, 1) - 1 + cb_ta_iopt(opts, 2) - 1;
}

/* RSI into out[1], fast %K of it into out[0], fast %D = SMA(%K) into out[1]. */
static void stochrsi_batch(size_t n, const double *const *in, const double *opts,
                           double *const *out)
{
    int p = cb_ta_iopt(opts, 0), fk = cb_ta_iopt(opts, 1), fd = cb_ta_iopt(opts, 2);
    size_t lb = (size_t)stochrsi_lookback(opts);
    rsi_core_t r;
    rsi_core_init(&r, p);
    for (size_t i = 0; i < n; i++)
        out[1][i] = rsi_step(&r, in[0][i]);
    fast_k_array(out[1], out[1], out[1], out[0], n, fk, p);
    tm_sma_array(out[0], out[1], (size_t)(p + fk - 1), n, fd);
    cb_ta_fill_nan(out[0], lb);
    cb_ta_fill_nan(out[1], lb);
}

typedef struct stochrsi_state {
    rsi_core_t rsi;
    tm_hilo_t w;
    tm_sma_t d_sma;
} stochrsi_state_t;

static stochrsi_state_t stochrsi_place(cb_ta_layout_t *l, const double *opts)
{
    stochrsi_state_t s;
    rsi_core_init(&s.rsi, cb_ta_iopt(opts, 0));
    tm_hilo_place(&s.w, l, cb_ta_iopt(opts, 1));
    tm_sma_place(&s.d_sma, l, cb_ta_iopt(opts, 2));
    return s;
}

static size_t stochrsi_size(const double *opts)
{
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(stochrsi_state_t));
    stochrsi_place(&l, opts);
    return l.off;
}

static void stochrsi_init(void *st, const double *opts)
{
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(stochrsi_state_t));
    *(stochrsi_state_t *)st = stochrsi_place(&l, opts);
}

static void stochrsi_update(void *st, const double *in, double *out)
{
    stochrsi_state_t *s = st;
    out[0] = out[1] = NAN;
    double rsi = rsi_step(&s->rsi, in[0]);
    if (isnan(rsi) || !tm_hilo_push(&s->w, st, rsi, rsi))
        return;
    double k = tm_stoch_k(rsi, tm_hilo_high(&s->w, st), tm_hilo_low(&s->w, st));
    out[1] = tm_sma_push(&s->d_sma, st, k);
    out[0] = k;
}

CB_TA_DEFINE(stochrsi, .title = "Stochastic Relative Strength Index",
             .reference = "TA-Lib TA_STOCHRSI with SMA (Chande and Kroll, TASC V.11:5)",
             .n_inputs = 1, .inputs = {"real"}, .n_opts = 3,
             .opts = {{"period", 14, 2, 100000, 1},
                      {"fastk_period", 5, 1, 100000, 1},
                      {"fastd_period", 3, 1, 100000, 1}},
             .n_outputs = 2, .outputs = {"fastk", "fastd"})

/* ====================================================================================== */
/* ULTOSC (period1 1..100000 default 7, period2 default 14, period3 default 28): lookback  */
/* = the longest period. As in TA-Lib the periods are sorted first, so the weight 4 goes   */
/* to the shortest, 2 to the middle and 1 to the longest, whatever the order given.        */
/* BP = close - min(low, prev close), TR = true range; each average is sum(BP)/sum(TR),     */
/* left out (0) when |sum(TR)| < 1e-8. When a window's terms are all zero (a flat stretch)   */
/* its two sums are set to exactly 0 (their value), instead of the residue left in them.   */

static void ult_terms(double h, double l, double c, double prev_close, double *bp, double *tr)
{
    double true_low = l < prev_close ? l : prev_close;
    *bp = c - true_low;
    *tr = tm_true_range(h, l, prev_close);
}

/* Sorted periods: s[0] shortest .. s[2] longest. */
static void ult_sorted(const double *opts, int s[3])
{
    for (int k = 0; k < 3; k++)
        s[k] = cb_ta_iopt(opts, k);
    for (int a = 0; a < 3; a++)
        for (int b = a + 1; b < 3; b++)
            if (s[b] < s[a]) {
                int t = s[a];
                s[a] = s[b];
                s[b] = t;
            }
}

static int ultosc_lookback(const double *opts)
{
    int s[3];
    ult_sorted(opts, s);
    return s[2];
}

static double ult_value(const double a[3], const double b[3])
{
    double o = 0.0;
    if (!CB_TA_IS_ZERO(b[0]))
        o += 4.0 * (a[0] / b[0]);
    if (!CB_TA_IS_ZERO(b[1]))
        o += 2.0 * (a[1] / b[1]);
    if (!CB_TA_IS_ZERO(b[2]))
        o += a[2] / b[2];
    return 100.0 * (o / 7.0);
}

/* TA-Lib's loop: the totals primed separately, today's terms added to the three windows, the
 * value, then each window's trailing terms removed; the first two windows' divisions share
 * one vector division. TA-Lib recomputes the trailing terms; with the longest period up to
 * ULT_RING they are kept in a ring on the stack instead (the same numbers, fewer
 * instructions per bar, which is what limits this loop), else recomputed as TA-Lib does. */
#define ULT_RING 1024

static void ultosc_batch(size_t n, const double *const *in, const double *opts,
                         double *const *out)
{
    int s[3];
    ult_sorted(opts, s);
    const double *h = in[0], *l = in[1], *c = in[2];
    size_t lb = (size_t)s[2];
    int ring = lb <= ULT_RING;
    double rbp[ULT_RING], rtr[ULT_RING];
    const size_t mask = ULT_RING - 1;
    double a[3], b[3], bp, tr;
    if (ring)
        for (size_t t = 1; t < lb; t++)
            ult_terms(h[t], l[t], c[t], c[t - 1], &rbp[t & mask], &rtr[t & mask]);
    for (int j = 0; j < 3; j++) { /* priming: the period-1 bars before the lookback */
        a[j] = b[j] = 0.0;
        for (size_t t = lb - (size_t)s[j] + 1; t < lb; t++) {
            if (ring) {
                bp = rbp[t & mask];
                tr = rtr[t & mask];
            } else {
                ult_terms(h[t], l[t], c[t], c[t - 1], &bp, &tr);
            }
            a[j] += bp;
            b[j] += tr;
        }
    }
    cb_ta_v2d a01 = {a[0], a[1]}, b01 = {b[0], b[1]};
    double a2 = a[2], b2 = b[2];
    /* the run of all-zero terms ending at bar lb-1 (the stream counts it from bar 1) */
    int64_t zeros = 0;
    for (size_t t = lb; t-- > 1;) {
        ult_terms(h[t], l[t], c[t], c[t - 1], &bp, &tr);
        if (bp != 0.0 || tr != 0.0)
            break;
        zeros++;
    }
    size_t k0 = lb - (size_t)s[0] + 1, k1 = lb - (size_t)s[1] + 1, k2 = 1;
    for (size_t t = lb; t < n; t++, k0++, k1++, k2++) {
        ult_terms(h[t], l[t], c[t], c[t - 1], &bp, &tr);
        cb_ta_v2d bpv = {bp, bp}, trv = {tr, tr};
        a01 += bpv;
        b01 += trv;
        a2 += bp;
        b2 += tr;
        zeros = cb_ta_run_next(zeros, both_zero(bp, tr));
        if (zeros >= s[0]) { /* rare: a flat stretch; s[0] <= s[1] <= s[2] */
            a01[0] = b01[0] = 0.0;
            if (zeros >= s[1]) {
                a01[1] = b01[1] = 0.0;
                if (zeros >= s[2])
                    a2 = b2 = 0.0;
            }
        }
        cb_ta_v2d q = a01 / b01;
        double o = 0.0;
        if (!CB_TA_IS_ZERO(b01[0]))
            o += 4.0 * q[0];
        if (!CB_TA_IS_ZERO(b01[1]))
            o += 2.0 * q[1];
        if (!CB_TA_IS_ZERO(b2))
            o += a2 / b2;
        double bp0, tr0, bp1, tr1, bp2, tr2;
        if (ring) {
            rbp[t & mask] = bp;
            rtr[t & mask] = tr;
            bp0 = rbp[k0 & mask];
            tr0 = rtr[k0 & mask];
            bp1 = rbp[k1 & mask];
            tr1 = rtr[k1 & mask];
            bp2 = rbp[k2 & mask];
            tr2 = rtr[k2 & mask];
        } else {
            ult_terms(h[k0], l[k0], c[k0], c[k0 - 1], &bp0, &tr0);
            ult_terms(h[k1], l[k1], c[k1], c[k1 - 1], &bp1, &tr1);
            ult_terms(h[k2], l[k2], c[k2], c[k2 - 1], &bp2, &tr2);
        }
        cb_ta_v2d bpt = {bp0, bp1}, trt = {tr0, tr1};
        a01 -= bpt;
        b01 -= trt;
        a2 -= bp2;
        b2 -= tr2;
        out[0][t] = 100.0 * (o / 7.0);
    }
}

typedef struct ultosc_state {
    int64_t n, s[3], zeros;
    double prev_close, a[3], b[3];
    cb_ta_ring_t bp, tr; /* terms of the last s[2] bars */
} ultosc_state_t;

static size_t ultosc_size(const double *opts)
{
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(ultosc_state_t));
    size_t lb = (size_t)ultosc_lookback(opts);
    cb_ta_layout_add(&l, lb * sizeof(double));
    cb_ta_layout_add(&l, lb * sizeof(double));
    return l.off;
}

static void ultosc_init(void *st, const double *opts)
{
    ultosc_state_t *u = st;
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(ultosc_state_t));
    int s[3];
    ult_sorted(opts, s);
    u->n = u->zeros = 0;
    u->prev_close = 0.0;
    for (int j = 0; j < 3; j++) {
        u->s[j] = s[j];
        u->a[j] = u->b[j] = 0.0;
    }
    cb_ta_ring_place(&u->bp, &l, (size_t)s[2]);
    cb_ta_ring_place(&u->tr, &l, (size_t)s[2]);
}

static void ultosc_update(void *st, const double *in, double *out)
{
    ultosc_state_t *u = st;
    out[0] = NAN;
    int64_t t = u->n++, lb = u->s[2];
    double prev_close = u->prev_close;
    u->prev_close = in[2];
    if (t == 0)
        return;
    double bp, tr, dropped;
    ult_terms(in[0], in[1], in[2], prev_close, &bp, &tr);
    cb_ta_ring_push(&u->bp, st, bp, &dropped);
    cb_ta_ring_push(&u->tr, st, tr, &dropped);
    for (int j = 0; j < 3; j++)
        if (t >= lb - u->s[j] + 1) {
            u->a[j] += bp;
            u->b[j] += tr;
        }
    u->zeros = cb_ta_run_next(u->zeros, both_zero(bp, tr));
    if (t < lb)
        return;
    for (int j = 0; j < 3; j++)
        if (u->zeros >= u->s[j])
            u->a[j] = u->b[j] = 0.0;
    out[0] = ult_value(u->a, u->b);
    for (int j = 0; j < 3; j++) {
        size_t ago = (size_t)(u->s[j] - 1);
        u->a[j] -= cb_ta_ring_ago(&u->bp, st, ago);
        u->b[j] -= cb_ta_ring_ago(&u->tr, st, ago);
    }
}

CB_TA_DEFINE(ultosc, .title = "Ultimate Oscillator",
             .reference = "TA-Lib TA_ULTOSC (Williams, TASC 1985)", HLC_INPUTS, .n_opts = 3,
             .opts = {{"period1", 7, 1, 100000, 1},
                      {"period2", 14, 1, 100000, 1},
                      {"period3", 28, 1, 100000, 1}},
             .n_outputs = 1, .outputs = {"ultosc"})

/* ====================================================================================== */
/* AROON (period 2..100000, default 14): outputs down, up; lookback period. The window is  */
/* the last period+1 bars; up = 100/period * (period - bars since the highest high), the   */
/* most recent bar winning ties (TA-Lib); down likewise with the lowest low.               */

static int aroon_lookback(const double *opts)
{
    return cb_ta_iopt(opts, 0);
}

static double aroon_value(int p, int64_t today, int64_t idx)
{
    double factor = (double)100.0 / (double)p;
    return factor * (double)(p - (today - idx));
}

static void aroon_batch(size_t n, const double *const *in, const double *opts,
                        double *const *out)
{
    int p = cb_ta_iopt(opts, 0);
    tm_extreme_t hi, lo;
    tm_extreme_init(&hi);
    tm_extreme_init(&lo);
    for (int64_t t = p; t < (int64_t)n; t++) {
        tm_extreme_step_idx(&lo, in[1], t - p, t, 0);
        tm_extreme_step_idx(&hi, in[0], t - p, t, 1);
        out[0][t] = aroon_value(p, t, lo.idx);
        out[1][t] = aroon_value(p, t, hi.idx);
    }
}

/* Streaming AROON needs the bar of each extreme: two monotonic deques over period+1 bars
 * (ties keep the newest bar, as TA-Lib). */
typedef struct aroon_state {
    cb_ta_deque_t hi, lo;
    int64_t n, period;
} aroon_state_t;

static size_t aroon_size(const double *opts)
{
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(aroon_state_t));
    aroon_state_t a;
    cb_ta_deque_place(&a.hi, &l, (size_t)cb_ta_iopt(opts, 0) + 1);
    cb_ta_deque_place(&a.lo, &l, (size_t)cb_ta_iopt(opts, 0) + 1);
    return l.off;
}

static void aroon_init(void *st, const double *opts)
{
    aroon_state_t *a = st;
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(aroon_state_t));
    cb_ta_deque_place(&a->hi, &l, (size_t)cb_ta_iopt(opts, 0) + 1);
    cb_ta_deque_place(&a->lo, &l, (size_t)cb_ta_iopt(opts, 0) + 1);
    a->n = 0;
    a->period = cb_ta_iopt(opts, 0);
}

static void aroon_update(void *st, const double *in, double *out)
{
    aroon_state_t *a = st;
    int64_t t = a->n++;
    cb_ta_deque_push(&a->hi, st, t, in[0], a->period + 1, 1);
    cb_ta_deque_push(&a->lo, st, t, in[1], a->period + 1, 0);
    int p = (int)a->period;
    out[0] = aroon_value(p, t, cb_ta_deque_front_idx(&a->lo, st));
    out[1] = aroon_value(p, t, cb_ta_deque_front_idx(&a->hi, st));
}

CB_TA_DEFINE(aroon, .title = "Aroon", .reference = "TA-Lib TA_AROON (Chande, TASC 1995)",
             .n_inputs = 2, .inputs = {"high", "low"}, .n_opts = 1,
             .opts = {{"period", 14, 2, 100000, 1}}, .n_outputs = 2,
             .outputs = {"down", "up"})
