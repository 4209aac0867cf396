/* Oscillators: CCI, MFI, WILLR, STOCH, STOCHRSI, ULTOSC, AROON, exactly as TA-Lib computes
 * them (seeding, order of floating-point operations, zero-range conventions).
 *   CCI      Donald Lambert, "Commodity Channel Index", Commodities 1980; TA-Lib's mean
 *            deviation is the mean |typical - SMA(typical)| over the window.
 *   MFI      Gene Quong and Avrum Soudack, TASC 1989.
 *   WILLR    Larry Williams, %R (1973).
 *   STOCH    George Lane's slow stochastic with SMA smoothing (TA-Lib STOCH, MA type SMA).
 *   STOCHRSI Tushar Chande and Stanley Kroll, TASC V.11:5 (fast K and fast D of RSI).
 *   ULTOSC   Larry Williams, "The Ultimate Oscillator", TASC 1985.
 *   AROON    Tushar Chande, TASC 1995.
 * Batch forms read trailing values back from the input arrays (or from the output arrays used
 * as scratch); streaming forms keep them in rings inside the caller's state. The arithmetic is
 * shared and done in the same order, so both produce identical numbers. */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "ta/ta_more_int.h"

static double typical(double h, double l, double c)
{
    return (h + l + c) / 3;
}

/* ====================================================================================== */
/* CCI (period 2..100000, default 14): lookback period-1.                                  */
/* TA-Lib keeps the window in a circular buffer whose slot is (bar index mod period) and sums */
/* it slot by slot; summing in that same order reproduces its rounding exactly. The mean     */
/* deviation needs the whole window, so CCI costs O(period) per bar in both forms. Zero     */
/* deviation (all typical prices equal) gives 0, as in TA-Lib.                              */

/* Window given as two runs in slot order: a[0..na) then b[0..nb). */
static double cci_value(const double *a, size_t na, const double *b, size_t nb, int p,
                        double last)
{
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

int cb_ta_cci_lookback(const double *opts)
{
    if (!tm_int_ok(opts[0], 2, 100000))
        return -1;
    return tm_iopt(opts, 0) - 1;
}

/* Typical prices go into the output first; then each value is computed from the end, so the
 * window [t-p+1, t] still holds typical prices when bar t is overwritten. */
static void cci_kernel(size_t m, const double *const *in, const double *opts,
                       double *const *out)
{
    size_t p = (size_t)tm_iopt(opts, 0);
    double *o = out[0];
    for (size_t i = 0; i < m; i++)
        o[i] = typical(in[0][i], in[1][i], in[2][i]);
    for (size_t t = m; t-- > p - 1;) {
        size_t b0 = t - (t % p); /* the bar in slot 0 */
        size_t first = t + 1 - p;
        o[t] = cci_value(o + b0, t - b0 + 1, o + first, b0 - first, (int)p, o[t]);
    }
    tm_fill_nan(o, 0, p - 1 < m ? p - 1 : m);
}

int cb_ta_cci(size_t n, const double *const *in, const double *opts, double *const *out)
{
    if (!in || !out || cb_ta_cci_lookback(opts) < 0)
        return CB_EINVAL;
    tm_run_segments(n, 3, in, 1, out, opts, cci_kernel);
    return 0;
}

typedef struct cci_state {
    int period;
    long n;
    double ring[];
} cci_state_t;

size_t cb_ta_cci_stream_size(const double *opts)
{
    size_t p = cb_ta_cci_lookback(opts) < 0 ? 0 : (size_t)tm_iopt(opts, 0);
    return sizeof(cci_state_t) + p * sizeof(double);
}

int cb_ta_cci_stream_init(void *state, const double *opts)
{
    if (cb_ta_cci_lookback(opts) < 0)
        return CB_EINVAL;
    cci_state_t *s = state;
    s->period = tm_iopt(opts, 0);
    s->n = 0;
    return 0;
}

int cb_ta_cci_stream_update(void *state, const double *in, double *out)
{
    cci_state_t *s = state;
    if (tm_any_nan(in, 3)) {
        s->n = 0;
        out[0] = NAN;
        return 0;
    }
    double tp = typical(in[0], in[1], in[2]);
    s->ring[s->n % s->period] = tp;
    s->n++;
    if (s->n < s->period) {
        out[0] = NAN;
        return 0;
    }
    out[0] = cci_value(s->ring, (size_t)s->period, NULL, 0, s->period, tp);
    return 1;
}

/* ====================================================================================== */
/* MFI (period 2..100000, default 14): lookback period. Inputs high, low, close, volume.   */
/* Money flow = typical*volume, positive when the typical price rose, negative when it fell, */
/* neither when unchanged. MFI = 100*pos/(pos+neg); 0 when pos+neg < 1 (TA-Lib's rule).      */

static void mfi_flow(double tp, double prev_tp, double vol, double *pos, double *neg)
{
    double d = tp - prev_tp;
    double mf = tp * vol;
    *pos = d > 0 ? mf : 0.0;
    *neg = d < 0 ? mf : 0.0;
}

static double mfi_value(double pos_sum, double neg_sum)
{
    double t = pos_sum + neg_sum;
    return t < 1.0 ? 0.0 : 100.0 * (pos_sum / t);
}

int cb_ta_mfi_lookback(const double *opts)
{
    if (!tm_int_ok(opts[0], 2, 100000))
        return -1;
    return tm_iopt(opts, 0);
}

static void mfi_kernel(size_t m, const double *const *in, const double *opts,
                       double *const *out)
{
    size_t p = (size_t)tm_iopt(opts, 0);
    const double *h = in[0], *l = in[1], *c = in[2], *v = in[3];
    double *o = out[0];
    double pos_sum = 0.0, neg_sum = 0.0, pos, neg;
    if (m > 0)
        o[0] = NAN;
    for (size_t t = 1; t < m; t++) {
        if (t > p) {
            size_t k = t - p; /* the bar whose flow leaves the window */
            mfi_flow(typical(h[k], l[k], c[k]), typical(h[k - 1], l[k - 1], c[k - 1]), v[k],
                     &pos, &neg);
            pos_sum -= pos;
            neg_sum -= neg;
        }
        mfi_flow(typical(h[t], l[t], c[t]), typical(h[t - 1], l[t - 1], c[t - 1]), v[t], &pos,
                 &neg);
        pos_sum += pos; /* adding the 0.0 of the other side changes nothing */
        neg_sum += neg;
        o[t] = t >= p ? mfi_value(pos_sum, neg_sum) : NAN;
    }
}

int cb_ta_mfi(size_t n, const double *const *in, const double *opts, double *const *out)
{
    if (!in || !out || cb_ta_mfi_lookback(opts) < 0)
        return CB_EINVAL;
    tm_run_segments(n, 4, in, 1, out, opts, mfi_kernel);
    return 0;
}

typedef struct mfi_state {
    int period;
    long n;
    size_t idx;
    double prev_tp, pos_sum, neg_sum;
    double ring[]; /* pos, neg pairs */
} mfi_state_t;

size_t cb_ta_mfi_stream_size(const double *opts)
{
    size_t p = cb_ta_mfi_lookback(opts) < 0 ? 0 : (size_t)tm_iopt(opts, 0);
    return sizeof(mfi_state_t) + 2 * p * sizeof(double);
}

int cb_ta_mfi_stream_init(void *state, const double *opts)
{
    if (cb_ta_mfi_lookback(opts) < 0)
        return CB_EINVAL;
    mfi_state_t *s = state;
    s->period = tm_iopt(opts, 0);
    s->n = 0;
    s->idx = 0;
    s->prev_tp = s->pos_sum = s->neg_sum = 0.0;
    return 0;
}

int cb_ta_mfi_stream_update(void *state, const double *in, double *out)
{
    mfi_state_t *s = state;
    if (tm_any_nan(in, 4)) {
        s->n = 0;
        s->idx = 0;
        s->pos_sum = s->neg_sum = 0.0;
        out[0] = NAN;
        return 0;
    }
    double tp = typical(in[0], in[1], in[2]);
    long k = s->n++;
    if (k == 0) {
        s->prev_tp = tp;
        out[0] = NAN;
        return 0;
    }
    double *slot = s->ring + 2 * s->idx;
    if (k > s->period) {
        s->pos_sum -= slot[0];
        s->neg_sum -= slot[1];
    }
    double pos, neg;
    mfi_flow(tp, s->prev_tp, in[3], &pos, &neg);
    s->prev_tp = tp;
    slot[0] = pos;
    slot[1] = neg;
    s->pos_sum += pos;
    s->neg_sum += neg;
    s->idx = s->idx + 1 == (size_t)s->period ? 0 : s->idx + 1;
    if (k < s->period) {
        out[0] = NAN;
        return 0;
    }
    out[0] = mfi_value(s->pos_sum, s->neg_sum);
    return 1;
}

/* ====================================================================================== */
/* WILLR (period 2..100000, default 14): lookback period-1.                                 */
/* %R = -100*(highest-close)/(highest-lowest), computed as TA-Lib does; 0 when the range is 0.*/

static double willr_value(double close, double highest, double lowest)
{
    double diff = (highest - lowest) / (-100.0);
    return diff != 0.0 ? (highest - close) / diff : 0.0;
}

int cb_ta_willr_lookback(const double *opts)
{
    if (!tm_int_ok(opts[0], 2, 100000))
        return -1;
    return tm_iopt(opts, 0) - 1;
}

static void willr_kernel(size_t m, const double *const *in, const double *opts,
                         double *const *out)
{
    long p = tm_iopt(opts, 0);
    tm_extreme_t hi, lo;
    tm_extreme_init(&hi);
    tm_extreme_init(&lo);
    for (long t = 0; t < (long)m; t++) {
        if (t < p - 1) {
            out[0][t] = NAN;
            continue;
        }
        tm_extreme_step(&lo, in[1], t - p + 1, t, 0, 1);
        tm_extreme_step(&hi, in[0], t - p + 1, t, 1, 1);
        out[0][t] = willr_value(in[2][t], hi.val, lo.val);
    }
}

int cb_ta_willr(size_t n, const double *const *in, const double *opts, double *const *out)
{
    if (!in || !out || cb_ta_willr_lookback(opts) < 0)
        return CB_EINVAL;
    tm_run_segments(n, 3, in, 1, out, opts, willr_kernel);
    return 0;
}

typedef struct hilo_state {
    tm_hilo_t w;
    double mem[];
} hilo_state_t;

size_t cb_ta_willr_stream_size(const double *opts)
{
    int p = cb_ta_willr_lookback(opts) < 0 ? 0 : tm_iopt(opts, 0);
    return sizeof(hilo_state_t) + tm_hilo_storage(p);
}

int cb_ta_willr_stream_init(void *state, const double *opts)
{
    if (cb_ta_willr_lookback(opts) < 0)
        return CB_EINVAL;
    hilo_state_t *s = state;
    tm_hilo_init(&s->w, tm_iopt(opts, 0), s->mem);
    return 0;
}

int cb_ta_willr_stream_update(void *state, const double *in, double *out)
{
    hilo_state_t *s = state;
    if (tm_any_nan(in, 3)) {
        tm_hilo_init(&s->w, s->w.period, s->mem);
        out[0] = NAN;
        return 0;
    }
    if (!tm_hilo_push(&s->w, in[0], in[1])) {
        out[0] = NAN;
        return 0;
    }
    out[0] = willr_value(in[2], tm_deque_value(&s->w.hi), tm_deque_value(&s->w.lo));
    return 1;
}

/* ====================================================================================== */
/* STOCH (fastk_period 1..100000 default 5, slowk_period 1..100000 default 3,               */
/* slowd_period 1..100000 default 3; SMA smoothing): outputs k (slow %K), d (slow %D).      */
/* Lookback (fastk-1) + (slowk-1) + (slowd-1).                                              */

static int stoch_lookback3(const double *opts)
{
    if (!tm_int_ok(opts[0], 1, 100000) || !tm_int_ok(opts[1], 1, 100000) ||
        !tm_int_ok(opts[2], 1, 100000))
        return -1;
    return tm_iopt(opts, 0) - 1 + tm_iopt(opts, 1) - 1 + tm_iopt(opts, 2) - 1;
}

int cb_ta_stoch_lookback(const double *opts)
{
    return stoch_lookback3(opts);
}

/* Raw %K over a window of `fk` bars of hi/lo/close arrays into dst[fk-1..m). */
static void fast_k_array(const double *hi_in, const double *lo_in, const double *close,
                         double *dst, size_t m, long fk, long from)
{
    tm_extreme_t hi, lo;
    tm_extreme_init(&hi);
    tm_extreme_init(&lo);
    for (long t = from + fk - 1; t < (long)m; t++) {
        tm_extreme_step(&lo, lo_in, t - fk + 1, t, 0, 1);
        tm_extreme_step(&hi, hi_in, t - fk + 1, t, 1, 1);
        dst[t] = tm_stoch_k(close[t], hi.val, lo.val);
    }
}

/* Raw %K into out[1], slow %K = SMA(raw) into out[0], slow %D = SMA(slow %K) into out[1]. */
static void stoch_kernel(size_t m, const double *const *in, const double *opts,
                         double *const *out)
{
    long fk = tm_iopt(opts, 0);
    int sk = tm_iopt(opts, 1), sd = tm_iopt(opts, 2);
    size_t lb = (size_t)stoch_lookback3(opts);
    fast_k_array(in[0], in[1], in[2], out[1], m, fk, 0);
    tm_sma_array(out[1], out[0], (size_t)fk - 1, m, sk);
    tm_sma_array(out[0], out[1], (size_t)(fk - 1 + sk - 1), m, sd);
    size_t z = lb < m ? lb : m;
    tm_fill_nan(out[0], 0, z);
    tm_fill_nan(out[1], 0, z);
}

int cb_ta_stoch(size_t n, const double *const *in, const double *opts, double *const *out)
{
    if (!in || !out || stoch_lookback3(opts) < 0)
        return CB_EINVAL;
    tm_run_segments(n, 3, in, 2, out, opts, stoch_kernel);
    return 0;
}

typedef struct stoch_state {
    tm_hilo_t w;
    tm_sma_t k_sma, d_sma;
    long n;
    int lookback;
    double mem[]; /* k ring, d ring, then the hilo storage */
} stoch_state_t;

size_t cb_ta_stoch_stream_size(const double *opts)
{
    if (stoch_lookback3(opts) < 0)
        return sizeof(stoch_state_t);
    size_t sk = (size_t)tm_iopt(opts, 1), sd = (size_t)tm_iopt(opts, 2);
    return sizeof(stoch_state_t) + (sk + sd) * sizeof(double) +
           tm_hilo_storage(tm_iopt(opts, 0));
}

static void stoch_reset(stoch_state_t *s, int fk, int sk, int sd)
{
    tm_sma_init(&s->k_sma, sk, s->mem);
    tm_sma_init(&s->d_sma, sd, s->mem + sk);
    tm_hilo_init(&s->w, fk, s->mem + sk + sd);
    s->n = 0;
}

int cb_ta_stoch_stream_init(void *state, const double *opts)
{
    int lb = stoch_lookback3(opts);
    if (lb < 0)
        return CB_EINVAL;
    stoch_state_t *s = state;
    s->lookback = lb;
    stoch_reset(s, tm_iopt(opts, 0), tm_iopt(opts, 1), tm_iopt(opts, 2));
    return 0;
}

int cb_ta_stoch_stream_update(void *state, const double *in, double *out)
{
    stoch_state_t *s = state;
    if (tm_any_nan(in, 3)) {
        stoch_reset(s, s->w.period, s->k_sma.period, s->d_sma.period);
        out[0] = out[1] = NAN;
        return 0;
    }
    s->n++;
    out[0] = out[1] = NAN;
    if (!tm_hilo_push(&s->w, in[0], in[1]))
        return 0;
    double k = tm_stoch_k(in[2], tm_deque_value(&s->w.hi), tm_deque_value(&s->w.lo));
    double slow_k = tm_sma_push(&s->k_sma, k);
    if (isnan(slow_k))
        return 0;
    double slow_d = tm_sma_push(&s->d_sma, slow_k);
    if (isnan(slow_d))
        return 0;
    out[0] = slow_k;
    out[1] = slow_d;
    return 1;
}

/* ====================================================================================== */
/* STOCHRSI (period 2..100000 default 14, fastk_period 1..100000 default 5, fastd_period    */
/* 1..100000 default 3; SMA for fast D): outputs fastk, fastd of RSI(period), where %K uses */
/* RSI as high, low and close. Lookback period + (fastk-1) + (fastd-1).                     */

/* Wilder's RSI in TA-Lib's order of operations (seed = mean gain/loss of the first period
 * changes; 0 when gain+loss is ~0). */
typedef struct rsi_core {
    int period;
    long n;
    double prev, gain, loss;
} rsi_core_t;

static void rsi_init(rsi_core_t *r, int period)
{
    r->period = period;
    r->n = 0;
    r->prev = r->gain = r->loss = 0.0;
}

static double rsi_step(rsi_core_t *r, double x)
{
    long k = r->n++;
    if (k == 0) {
        r->prev = x;
        return NAN;
    }
    double d = x - r->prev;
    r->prev = x;
    int p = r->period;
    if (k <= p) {
        if (d < 0)
            r->loss -= d;
        else
            r->gain += d;
        if (k < p)
            return NAN;
        r->loss /= p;
        r->gain /= p;
    } else {
        r->loss *= (p - 1);
        r->gain *= (p - 1);
        if (d < 0)
            r->loss -= d;
        else
            r->gain += d;
        r->loss /= p;
        r->gain /= p;
    }
    double t = r->gain + r->loss;
    return tm_is_zero(t) ? 0.0 : 100.0 * (r->gain / t);
}

static int stochrsi_lookback3(const double *opts)
{
    if (!tm_int_ok(opts[0], 2, 100000) || !tm_int_ok(opts[1], 1, 100000) ||
        !tm_int_ok(opts[2], 1, 100000))
        return -1;
    return tm_iopt(opts, 0) + tm_iopt(opts, 1) - 1 + tm_iopt(opts, 2) - 1;
}

int cb_ta_stochrsi_lookback(const double *opts)
{
    return stochrsi_lookback3(opts);
}

/* RSI into out[1], fast %K of it into out[0], fast %D = SMA(%K) into out[1]. */
static void stochrsi_kernel(size_t m, const double *const *in, const double *opts,
                            double *const *out)
{
    int p = tm_iopt(opts, 0), fk = tm_iopt(opts, 1), fd = tm_iopt(opts, 2);
    size_t lb = (size_t)stochrsi_lookback3(opts);
    rsi_core_t r;
    rsi_init(&r, p);
    for (size_t i = 0; i < m; i++)
        out[1][i] = rsi_step(&r, in[0][i]);
    fast_k_array(out[1], out[1], out[1], out[0], m, fk, p);
    tm_sma_array(out[0], out[1], (size_t)(p + fk - 1), m, fd);
    size_t z = lb < m ? lb : m;
    tm_fill_nan(out[0], 0, z);
    tm_fill_nan(out[1], 0, z);
}

int cb_ta_stochrsi(size_t n, const double *const *in, const double *opts, double *const *out)
{
    if (!in || !out || stochrsi_lookback3(opts) < 0)
        return CB_EINVAL;
    tm_run_segments(n, 1, in, 2, out, opts, stochrsi_kernel);
    return 0;
}

typedef struct stochrsi_state {
    rsi_core_t rsi;
    tm_hilo_t w;
    tm_sma_t d_sma;
    double mem[]; /* d ring, then the hilo storage */
} stochrsi_state_t;

size_t cb_ta_stochrsi_stream_size(const double *opts)
{
    if (stochrsi_lookback3(opts) < 0)
        return sizeof(stochrsi_state_t);
    return sizeof(stochrsi_state_t) + (size_t)tm_iopt(opts, 2) * sizeof(double) +
           tm_hilo_storage(tm_iopt(opts, 1));
}

static void stochrsi_reset(stochrsi_state_t *s, int p, int fk, int fd)
{
    rsi_init(&s->rsi, p);
    tm_sma_init(&s->d_sma, fd, s->mem);
    tm_hilo_init(&s->w, fk, s->mem + fd);
}

int cb_ta_stochrsi_stream_init(void *state, const double *opts)
{
    if (stochrsi_lookback3(opts) < 0)
        return CB_EINVAL;
    stochrsi_reset(state, tm_iopt(opts, 0), tm_iopt(opts, 1), tm_iopt(opts, 2));
    return 0;
}

int cb_ta_stochrsi_stream_update(void *state, const double *in, double *out)
{
    stochrsi_state_t *s = state;
    out[0] = out[1] = NAN;
    if (tm_any_nan(in, 1)) {
        stochrsi_reset(s, s->rsi.period, s->w.period, s->d_sma.period);
        return 0;
    }
    double rsi = rsi_step(&s->rsi, in[0]);
    if (isnan(rsi))
        return 0;
    if (!tm_hilo_push(&s->w, rsi, rsi))
        return 0;
    double k = tm_stoch_k(rsi, tm_deque_value(&s->w.hi), tm_deque_value(&s->w.lo));
    double d = tm_sma_push(&s->d_sma, k);
    if (isnan(d))
        return 0;
    out[0] = k;
    out[1] = d;
    return 1;
}

/* ====================================================================================== */
/* ULTOSC (period1 1..100000 default 7, period2 default 14, period3 default 28): lookback  */
/* = the longest period. As in TA-Lib the periods are sorted first, so the weight 4 goes to */
/* the shortest, 2 to the middle and 1 to the longest, whatever the order given.            */
/* BP = close - min(low, prev close), TR = true range; each average is sum(BP)/sum(TR),      */
/* skipped (0) when |sum(TR)| < 1e-8.                                                        */

typedef struct ult_terms {
    double bp, tr;
} ult_terms_t;

static ult_terms_t ult_terms(double h, double l, double c, double prev_close)
{
    ult_terms_t t;
    double true_low = l < prev_close ? l : prev_close;
    t.bp = c - true_low;
    t.tr = tm_true_range(h, l, prev_close);
    return t;
}

/* Sorted periods: s[0] shortest .. s[2] longest. */
static int ult_sorted(const double *opts, int s[3])
{
    for (int k = 0; k < 3; k++) {
        if (!tm_int_ok(opts[k], 1, 100000))
            return -1;
        s[k] = tm_iopt(opts, k);
    }
    for (int a = 0; a < 3; a++)
        for (int b = a + 1; b < 3; b++)
            if (s[b] < s[a]) {
                int t = s[a];
                s[a] = s[b];
                s[b] = t;
            }
    return 0;
}

int cb_ta_ultosc_lookback(const double *opts)
{
    int s[3];
    if (ult_sorted(opts, s) < 0)
        return -1;
    return s[2];
}

static double ult_value(const double a[3], const double b[3])
{
    double o = 0.0;
    if (!tm_is_zero(b[0]))
        o += 4.0 * (a[0] / b[0]);
    if (!tm_is_zero(b[1]))
        o += 2.0 * (a[1] / b[1]);
    if (!tm_is_zero(b[2]))
        o += a[2] / b[2];
    return 100.0 * (o / 7.0);
}

static void ultosc_kernel(size_t m, const double *const *in, const double *opts,
                          double *const *out)
{
    int s[3];
    ult_sorted(opts, s);
    const double *h = in[0], *l = in[1], *c = in[2];
    long lb = s[2];
    double a[3] = {0, 0, 0}, b[3] = {0, 0, 0};
    for (long t = 0; t < (long)m; t++) {
        if (t == 0) {
            out[0][0] = NAN;
            continue;
        }
        ult_terms_t x = ult_terms(h[t], l[t], c[t], c[t - 1]);
        if (t < lb) {
            for (int j = 0; j < 3; j++)
                if (t >= lb - s[j] + 1) {
                    a[j] += x.bp;
                    b[j] += x.tr;
                }
            out[0][t] = NAN;
            continue;
        }
        for (int j = 0; j < 3; j++) {
            a[j] += x.bp;
            b[j] += x.tr;
        }
        out[0][t] = ult_value(a, b);
        for (int j = 0; j < 3; j++) {
            long k = t - s[j] + 1;
            ult_terms_t y = ult_terms(h[k], l[k], c[k], c[k - 1]);
            a[j] -= y.bp;
            b[j] -= y.tr;
        }
    }
}

int cb_ta_ultosc(size_t n, const double *const *in, const double *opts, double *const *out)
{
    if (!in || !out || cb_ta_ultosc_lookback(opts) < 0)
        return CB_EINVAL;
    tm_run_segments(n, 3, in, 1, out, opts, ultosc_kernel);
    return 0;
}

typedef struct ultosc_state {
    int s[3];
    long n;
    double prev_close;
    double a[3], b[3];
    ult_terms_t ring[]; /* terms of the last s[2] bars, by bar index mod s[2] */
} ultosc_state_t;

size_t cb_ta_ultosc_stream_size(const double *opts)
{
    int lb = cb_ta_ultosc_lookback(opts);
    return sizeof(ultosc_state_t) + (size_t)(lb < 0 ? 0 : lb) * sizeof(ult_terms_t);
}

static void ultosc_reset(ultosc_state_t *st)
{
    st->n = 0;
    st->prev_close = 0.0;
    for (int j = 0; j < 3; j++)
        st->a[j] = st->b[j] = 0.0;
}

int cb_ta_ultosc_stream_init(void *state, const double *opts)
{
    ultosc_state_t *st = state;
    if (ult_sorted(opts, st->s) < 0)
        return CB_EINVAL;
    ultosc_reset(st);
    return 0;
}

int cb_ta_ultosc_stream_update(void *state, const double *in, double *out)
{
    ultosc_state_t *st = state;
    out[0] = NAN;
    if (tm_any_nan(in, 3)) {
        ultosc_reset(st);
        return 0;
    }
    long t = st->n++;
    long lb = st->s[2];
    if (t == 0) {
        st->prev_close = in[2];
        return 0;
    }
    ult_terms_t x = ult_terms(in[0], in[1], in[2], st->prev_close);
    st->prev_close = in[2];
    st->ring[t % lb] = x;
    if (t < lb) {
        for (int j = 0; j < 3; j++)
            if (t >= lb - st->s[j] + 1) {
                st->a[j] += x.bp;
                st->b[j] += x.tr;
            }
        return 0;
    }
    for (int j = 0; j < 3; j++) {
        st->a[j] += x.bp;
        st->b[j] += x.tr;
    }
    out[0] = ult_value(st->a, st->b);
    for (int j = 0; j < 3; j++) {
        ult_terms_t y = st->ring[(t - st->s[j] + 1) % lb];
        st->a[j] -= y.bp;
        st->b[j] -= y.tr;
    }
    return 1;
}

/* ====================================================================================== */
/* AROON (period 2..100000, default 14): outputs down, up; lookback period. The window is   */
/* the last period+1 bars; up = 100/period * (period - bars since the highest high), the    */
/* most recent bar winning ties (TA-Lib); down likewise with the lowest low.                */

int cb_ta_aroon_lookback(const double *opts)
{
    if (!tm_int_ok(opts[0], 2, 100000))
        return -1;
    return tm_iopt(opts, 0);
}

static double aroon_value(int p, long today, long idx)
{
    double factor = (double)100.0 / (double)p;
    return factor * (double)(p - (today - idx));
}

static void aroon_kernel(size_t m, const double *const *in, const double *opts,
                         double *const *out)
{
    int p = tm_iopt(opts, 0);
    tm_extreme_t hi, lo;
    tm_extreme_init(&hi);
    tm_extreme_init(&lo);
    for (long t = 0; t < (long)m; t++) {
        if (t < p) {
            out[0][t] = out[1][t] = NAN;
            continue;
        }
        tm_extreme_step(&lo, in[1], t - p, t, 0, 1);
        tm_extreme_step(&hi, in[0], t - p, t, 1, 1);
        out[0][t] = aroon_value(p, t, lo.idx);
        out[1][t] = aroon_value(p, t, hi.idx);
    }
}

int cb_ta_aroon(size_t n, const double *const *in, const double *opts, double *const *out)
{
    if (!in || !out || cb_ta_aroon_lookback(opts) < 0)
        return CB_EINVAL;
    tm_run_segments(n, 2, in, 2, out, opts, aroon_kernel);
    return 0;
}

size_t cb_ta_aroon_stream_size(const double *opts)
{
    int p = cb_ta_aroon_lookback(opts) < 0 ? 0 : tm_iopt(opts, 0) + 1;
    return sizeof(hilo_state_t) + tm_hilo_storage(p);
}

int cb_ta_aroon_stream_init(void *state, const double *opts)
{
    if (cb_ta_aroon_lookback(opts) < 0)
        return CB_EINVAL;
    hilo_state_t *s = state;
    tm_hilo_init(&s->w, tm_iopt(opts, 0) + 1, s->mem);
    return 0;
}

int cb_ta_aroon_stream_update(void *state, const double *in, double *out)
{
    hilo_state_t *s = state;
    out[0] = out[1] = NAN;
    if (tm_any_nan(in, 2)) {
        tm_hilo_init(&s->w, s->w.period, s->mem);
        return 0;
    }
    long t = s->w.n;
    if (!tm_hilo_push(&s->w, in[0], in[1]))
        return 0;
    int p = s->w.period - 1;
    out[0] = aroon_value(p, t, tm_deque_index(&s->w.lo));
    out[1] = aroon_value(p, t, tm_deque_index(&s->w.hi));
    return 1;
}
