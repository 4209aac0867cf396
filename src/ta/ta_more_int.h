/* Private helpers shared by the indicator files ind_volatility.c, ind_directional.c,
 * ind_oscillators.c, ind_sar.c and ind_extra.c: TA-Lib's numeric conventions (true range,
 * "is zero"), the NaN-segment driver that gives batch and streaming the same NaN policy, and
 * the rolling-extreme scan used by batch forms.
 *
 * NaN policy (docs/indicators.md, "NaN in the input"): a bar with a NaN in any input outputs
 * NaN and restarts the indicator, which then behaves exactly as if the series began on the
 * next bar (so it is NaN again for `lookback` bars). Batch runs the kernel on each NaN-free
 * segment; streaming re-initialises its state on a NaN bar. Both therefore agree bar by bar. */
#ifndef COMEBACK_TA_MORE_INT_H
#define COMEBACK_TA_MORE_INT_H

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "comeback/ta.h"

/* TA-Lib's TA_IS_ZERO: |v| < 1e-8 (ta_utility.h of TA-Lib 0.4). */
static inline int tm_is_zero(double v)
{
    return -0.00000001 < v && v < 0.00000001;
}

/* TA-Lib's true range, operation for operation (TRANGE, ATR, ADX, ULTOSC all use this form):
 * the greatest of high-low, |prevclose-high|, |prevclose-low|. */
static inline double tm_true_range(double high, double low, double prev_close)
{
    double out = high - low;
    double t = fabs(prev_close - high);
    if (t > out)
        out = t;
    t = fabs(prev_close - low);
    if (t > out)
        out = t;
    return out;
}

/* Reads integer option k (the table guarantees whole numbers). */
static inline int tm_iopt(const double *opts, int k)
{
    return (int)opts[k];
}

/* 1 when v is a whole number in [lo, hi] (how the table's integer options are checked). */
static inline int tm_int_ok(double v, int lo, int hi)
{
    return v >= lo && v <= hi && v == floor(v);
}

/* 1 when v is a finite number in [lo, hi]. */
static inline int tm_real_ok(double v, double lo, double hi)
{
    return v >= lo && v <= hi;
}

static inline int tm_bar_has_nan(const double *const *in, int n_in, size_t i)
{
    for (int k = 0; k < n_in; k++)
        if (isnan(in[k][i]))
            return 1;
    return 0;
}

static inline int tm_any_nan(const double *in, int n_in)
{
    for (int k = 0; k < n_in; k++)
        if (isnan(in[k]))
            return 1;
    return 0;
}

static inline void tm_fill_nan(double *out, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        out[i] = NAN;
}

/* A kernel computes one NaN-free segment of m bars: it writes all m values of every output,
 * NaN during its warm-up. */
typedef void (*tm_kernel_fn)(size_t m, const double *const *in, const double *opts,
                             double *const *out);

/* Runs `kernel` on every maximal NaN-free run of bars; bars with a NaN input get NaN outputs. */
static inline void tm_run_segments(size_t n, int n_in, const double *const *in, int n_out,
                                   double *const *out, const double *opts, tm_kernel_fn kernel)
{
    size_t i = 0;
    while (i < n) {
        if (tm_bar_has_nan(in, n_in, i)) {
            for (int k = 0; k < n_out; k++)
                out[k][i] = NAN;
            i++;
            continue;
        }
        size_t j = i + 1;
        while (j < n && !tm_bar_has_nan(in, n_in, j))
            j++;
        const double *sin[CB_TA_MAX_INPUTS];
        double *sout[CB_TA_MAX_OUTPUTS];
        for (int k = 0; k < n_in; k++)
            sin[k] = in[k] + i;
        for (int k = 0; k < n_out; k++)
            sout[k] = out[k] + i;
        kernel(j - i, sin, opts, sout);
        i = j;
    }
}

/* Rolling highest/lowest for batch forms, TA-Lib's way: remember where the extreme is and
 * rescan the window only when it drops out. Amortised O(1) on market data (the rescan happens
 * when the extreme is `period` bars old); the streaming forms use a monotonic deque instead.
 * `latest_on_tie` picks the most recent bar among equal extremes (AROON needs the index). */
typedef struct tm_extreme {
    long idx;   /* index of the current extreme, -1 before the first bar */
    double val;
} tm_extreme_t;

static inline void tm_extreme_init(tm_extreme_t *e)
{
    e->idx = -1;
    e->val = 0.0;
}

/* Window [first, today] of x; is_max selects highest (else lowest). */
static inline void tm_extreme_step(tm_extreme_t *e, const double *x, long first, long today,
                                   int is_max, int latest_on_tie)
{
    double v = x[today];
    if (e->idx < first) {
        e->idx = first;
        e->val = x[first];
        for (long i = first + 1; i <= today; i++) {
            double t = x[i];
            int better = is_max ? (latest_on_tie ? t >= e->val : t > e->val)
                                : (latest_on_tie ? t <= e->val : t < e->val);
            if (better) {
                e->idx = i;
                e->val = t;
            }
        }
    } else if (is_max ? v >= e->val : v <= e->val) {
        e->idx = today;
        e->val = v;
    }
}

/* Monotonic deque over a caller-provided ring of `cap` (index, value) slots, for streaming
 * rolling highest/lowest in O(1) amortised. Ties keep the most recent bar. */
typedef struct tm_deque {
    long *idx;
    double *val;
    size_t cap, head, len;
} tm_deque_t;

static inline void tm_deque_init(tm_deque_t *d, long *idx, double *val, size_t cap)
{
    d->idx = idx;
    d->val = val;
    d->cap = cap;
    d->head = 0;
    d->len = 0;
}

/* Adds bar `i` with value v and drops bars older than `first` (first > i - cap). */
static inline void tm_deque_push(tm_deque_t *d, long i, double v, long first, int is_max)
{
    /* Expire first so that at most cap-1 old bars remain before the new one is added. */
    while (d->len > 0 && d->idx[d->head] < first) {
        d->head = d->head + 1 == d->cap ? 0 : d->head + 1;
        d->len--;
    }
    while (d->len > 0) {
        size_t back = (d->head + d->len - 1) % d->cap;
        if (is_max ? d->val[back] <= v : d->val[back] >= v)
            d->len--;
        else
            break;
    }
    size_t slot = (d->head + d->len) % d->cap;
    d->idx[slot] = i;
    d->val[slot] = v;
    d->len++;
}

static inline double tm_deque_value(const tm_deque_t *d)
{
    return d->val[d->head];
}

static inline long tm_deque_index(const tm_deque_t *d)
{
    return d->idx[d->head];
}

/* Rounds a byte size up to a multiple of 8 so trailing arrays stay aligned. */
static inline size_t tm_align8(size_t n)
{
    return (n + 7u) & ~(size_t)7u;
}

/* ---- Wilder's ATR (TA-Lib ATR): seed = mean of the first `period` true ranges (bars
 * 1..period), then atr = (atr*(period-1) + tr)/period. Lookback = period. ------------------ */
typedef struct tm_atr {
    int period;
    long n; /* bars seen */
    double prev_close, sum, atr;
} tm_atr_t;

static inline void tm_atr_init(tm_atr_t *a, int period)
{
    a->period = period;
    a->n = 0;
    a->prev_close = a->sum = a->atr = 0.0;
}

/* Returns this bar's ATR, NaN while warming up. */
static inline double tm_atr_step(tm_atr_t *a, double high, double low, double close)
{
    long k = a->n++;
    if (k == 0) {
        a->prev_close = close;
        return NAN;
    }
    double tr = tm_true_range(high, low, a->prev_close);
    a->prev_close = close;
    if (k < a->period) {
        a->sum += tr;
        return NAN;
    }
    if (k == a->period) {
        a->sum += tr;
        a->atr = a->sum / a->period;
        return a->atr;
    }
    a->atr *= a->period - 1;
    a->atr += tr;
    a->atr /= a->period;
    return a->atr;
}

/* ---- TA-Lib's simple moving average, in its order of operations (TA_INT_SMA): the total
 * grows by the new value, the output is total/period, then the oldest value leaves. The ring
 * (caller storage of `period` doubles) holds the window. -------------------------------------- */
typedef struct tm_sma {
    int period;
    long count;
    size_t pos;
    double total;
    double *ring;
} tm_sma_t;

static inline void tm_sma_init(tm_sma_t *s, int period, double *ring)
{
    s->period = period;
    s->count = 0;
    s->pos = 0;
    s->total = 0.0;
    s->ring = ring;
}

/* Returns the mean of the last `period` values, NaN until there are that many. */
static inline double tm_sma_push(tm_sma_t *s, double v)
{
    s->ring[s->pos] = v;
    s->total += v;
    s->count++;
    s->pos = s->pos + 1 == (size_t)s->period ? 0 : s->pos + 1;
    if (s->count < s->period)
        return NAN;
    double out = s->total / s->period;
    s->total -= s->ring[s->pos];
    return out;
}

/* Batch form of the same: dst[i] for i >= from+period-1 from src[from..]; dst != src. */
static inline void tm_sma_array(const double *src, double *dst, size_t from, size_t m,
                                int period)
{
    double total = 0.0;
    size_t p = (size_t)period;
    for (size_t i = from; i < m; i++) {
        total += src[i];
        if (i + 1 >= from + p) {
            dst[i] = total / period;
            total -= src[i + 1 - p];
        }
    }
}

/* Rolling highest high and lowest low over the last `period` bars for streaming forms. */
typedef struct tm_hilo {
    tm_deque_t hi, lo;
    long n;
    int period;
} tm_hilo_t;

/* Bytes of storage tm_hilo needs after the struct that embeds it. */
static inline size_t tm_hilo_storage(int period)
{
    return 2 * (size_t)period * (sizeof(double) + sizeof(long));
}

/* mem: tm_hilo_storage(period) bytes, 8-byte aligned. */
static inline void tm_hilo_init(tm_hilo_t *w, int period, void *mem)
{
    size_t p = (size_t)period;
    double *v = mem;
    long *ix = (long *)(v + 2 * p);
    tm_deque_init(&w->hi, ix, v, p);
    tm_deque_init(&w->lo, ix + p, v + p, p);
    w->n = 0;
    w->period = period;
}

/* Adds a bar; returns 1 once the window is full. */
static inline int tm_hilo_push(tm_hilo_t *w, double high, double low)
{
    long i = w->n++;
    long first = i - w->period + 1;
    tm_deque_push(&w->hi, i, high, first, 1);
    tm_deque_push(&w->lo, i, low, first, 0);
    return i + 1 >= w->period;
}

/* TA-Lib's stochastic %K: 100*(close-lowest)/(highest-lowest), computed as TA-Lib does
 * ((close-lowest)/((highest-lowest)/100)); 0 when the range is 0. */
static inline double tm_stoch_k(double close, double highest, double lowest)
{
    double diff = (highest - lowest) / 100.0;
    return diff != 0.0 ? (close - lowest) / diff : 0.0;
}

/* Prototypes of the streaming entry points (the batch ones come from CB_TA_DECLARE_). */
#define TM_DECLARE(name)                                                                     \
    CB_TA_DECLARE_(name)                                                                     \
    size_t cb_ta_##name##_stream_size(const double *opts);                                   \
    int cb_ta_##name##_stream_init(void *state, const double *opts);                         \
    int cb_ta_##name##_stream_update(void *state, const double *in, double *out);

#define TM_MORE_LIST(X)                                                                      \
    X(trange) X(atr) X(natr) X(plus_di) X(minus_di) X(adx) X(adxr) X(cci) X(mfi) X(willr)    \
    X(stoch) X(stochrsi) X(ultosc) X(aroon) X(sar) X(vwap) X(vwap_session) X(hma)            \
    X(supertrend) X(donchian) X(keltner) X(ichimoku) X(heikinashi) X(zscore)

TM_MORE_LIST(TM_DECLARE)

#endif
