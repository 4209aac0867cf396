/* Private maths shared by the high/low/close indicators (ind_volatility.c, ind_directional.c,
 * ind_oscillators.c, ind_sar.c, ind_extra.c), built on the generic helpers of ta_int.h:
 * TA-Lib's true range and ATR, its stochastic %K, its SMA order of operations, and rolling
 * highest/lowest (TA-Lib's rescan for batch, ta_int.h's monotonic deque for streaming). */
#ifndef COMEBACK_TA_MORE_INT_H
#define COMEBACK_TA_MORE_INT_H

#include "ta/ta_int.h"

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

/* tm_true_range on two bars at once, the same operations lane by lane. */
static inline cb_ta_v2d tm_true_range_v2(cb_ta_v2d high, cb_ta_v2d low, cb_ta_v2d prev_close)
{
    cb_ta_v2d out = high - low;
    out = cb_ta_v2_pick_gt(cb_ta_v2_fabs(prev_close - high), out);
    return cb_ta_v2_pick_gt(cb_ta_v2_fabs(prev_close - low), out);
}

/* ---- Wilder's ATR (TA-Lib ATR): seed = mean of the first `period` true ranges (bars
 * 1..period, summed in order), then atr = (atr*(period-1) + tr)/period. Lookback = period. */
typedef struct tm_atr {
    double period;
    int64_t n; /* bars seen */
    double prev_close, sum, atr;
} tm_atr_t;

static inline void tm_atr_init(tm_atr_t *a, int period)
{
    a->period = (double)period;
    a->n = 0;
    a->prev_close = a->sum = a->atr = 0.0;
}

/* Returns this bar's ATR, NaN while warming up. */
static inline double tm_atr_step(tm_atr_t *a, double high, double low, double close)
{
    int64_t k = a->n++;
    if (k == 0) {
        a->prev_close = close;
        return NAN;
    }
    double tr = tm_true_range(high, low, a->prev_close);
    a->prev_close = close;
    if ((double)k < a->period) {
        a->sum += tr;
        return NAN;
    }
    if ((double)k == a->period) {
        a->sum += tr;
        a->atr = a->sum / a->period;
        return a->atr;
    }
    a->atr = cb_ta_wilder_step(a->atr, tr, a->period);
    return a->atr;
}

/* TA-Lib's stochastic %K: 100*(close-lowest)/(highest-lowest), computed as TA-Lib does
 * ((close-lowest)/((highest-lowest)/100)); 0 when the range is 0. */
static inline double tm_stoch_k(double close, double highest, double lowest)
{
    double diff = (highest - lowest) / 100.0;
    return diff != 0.0 ? (close - lowest) / diff : 0.0;
}

/* ---- TA-Lib's SMA order of operations (TA_INT_SMA): the total grows by the new value, the
 * output is total/period, then the oldest value of the window leaves. A window of identical
 * values gives that value exactly (cb_ta_flat_t, ta_int.h): a slow %K of a flat market is 0,
 * not the total's residue (-1.3e-13 was seen), which a crossing of %K and %D would take for a
 * sign. ------------------------------------------------------------------------------------ */

/* Streaming: a ring of `period` doubles inside the state (see ta_int.h's layout). */
typedef struct tm_sma {
    double period, total;
    cb_ta_flat_t flat;
    cb_ta_ring_t ring;
} tm_sma_t;

static inline void tm_sma_place(tm_sma_t *s, cb_ta_layout_t *l, int period)
{
    s->period = (double)period;
    s->total = 0.0;
    cb_ta_flat_reset(&s->flat);
    cb_ta_ring_place(&s->ring, l, (size_t)period);
}

static inline void tm_sma_reset(tm_sma_t *s)
{
    s->total = 0.0;
    cb_ta_flat_reset(&s->flat);
    cb_ta_ring_reset(&s->ring);
}

/* Returns the mean of the last `period` values, NaN until there are that many. st is the
 * state base the ring's offset is relative to. */
static inline double tm_sma_push(tm_sma_t *s, void *st, double v)
{
    double dropped;
    s->total += v;
    int64_t run = cb_ta_flat_push(&s->flat, v);
    cb_ta_ring_push(&s->ring, st, v, &dropped);
    if (s->ring.n < s->ring.cap)
        return NAN;
    double out = cb_ta_flat_sel(run >= (int64_t)s->ring.cap, v, s->total / s->period);
    s->total -= cb_ta_ring_get(&s->ring, st, 0);
    return out;
}

/* Batch: dst[i] for i >= from+period-1, from src[from..m); dst != src. */
static inline void tm_sma_array(const double *src, double *dst, size_t from, size_t m,
                                int period)
{
    double total = 0.0, dp = (double)period, last = 0.0;
    size_t p = (size_t)period;
    int64_t run = 0;
    for (size_t i = from; i < m; i++) {
        total += src[i];
        run = cb_ta_flat_next(run, last, src[i]);
        last = src[i];
        if (i + 1 >= from + p) {
            dst[i] = cb_ta_flat_sel(run >= (int64_t)p, src[i], total / dp);
            total -= src[i + 1 - p];
        }
    }
}

/* ---- Rolling highest/lowest --------------------------------------------------------------- */

/* Batch, TA-Lib's way: remember where the extreme is and rescan the window only when it drops
 * out (amortised O(1) on market data, like TA-Lib; O(period) for a bar whose extreme just
 * left the window). Ties go to the most recent bar (what AROON reports; the value is the same
 * for the others). */
typedef struct tm_extreme {
    int64_t idx; /* index of the current extreme, -1 before the first bar */
    double val;
} tm_extreme_t;

static inline void tm_extreme_init(tm_extreme_t *e)
{
    e->idx = -1;
    e->val = 0.0;
}

/* Window [first, today] of x, when the extreme has left it: finds the latest bar whose value
 * equals the window's extreme. The extreme first, branch-free in two independent chains, then
 * a backward search for it (one branch that exits once, bounded so that a NaN, which matches
 * nothing, stays harmless). A forward scan keeping ties (>=, <=) ends on the same bar and
 * value, but mispredicts a branch at every new running extreme. */
static inline void tm_extreme_rescan(tm_extreme_t *e, const double *x, int64_t first,
                                     int64_t today, int is_max)
{
    double m0 = x[first], m1 = x[today];
    int64_t i = first + 1;
    for (; i + 1 < today; i += 2) {
        m0 = cb_ta_pick_(m0, x[i], is_max);
        m1 = cb_ta_pick_(m1, x[i + 1], is_max);
    }
    for (; i < today; i++)
        m0 = cb_ta_pick_(m0, x[i], is_max);
    double m = cb_ta_pick_(m0, m1, is_max);
    int64_t k = today;
    while (k > first && x[k] != m)
        k--;
    e->idx = k;
    e->val = x[k];
}

/* Window [first, today] of x; is_max selects the highest (else the lowest). A new extreme at
 * today is taken with a select, not a branch (new highs come at random): best when only the
 * value is used (WILLR, STOCH). */
static inline void tm_extreme_step(tm_extreme_t *e, const double *x, int64_t first,
                                   int64_t today, int is_max)
{
    if (e->idx < first) {
        tm_extreme_rescan(e, x, first, today, is_max);
        return;
    }
    const cb_ta_v2d vv = {x[today], x[today]}, ev = {e->val, e->val};
    cb_ta_v2u take = (cb_ta_v2u)(is_max ? vv >= ev : vv <= ev);
    e->val = cb_ta_v2_sel(take, vv, ev)[0];
    e->idx = take[0] ? today : e->idx;
}

/* The same with a branch: better when the output is computed from the bar index (AROON),
 * which the select would make wait for the comparison. */
static inline void tm_extreme_step_idx(tm_extreme_t *e, const double *x, int64_t first,
                                       int64_t today, int is_max)
{
    double v = x[today];
    if (e->idx < first) {
        tm_extreme_rescan(e, x, first, today, is_max);
    } else if (is_max ? v >= e->val : v <= e->val) {
        e->idx = today;
        e->val = v;
    }
}

/* Streaming: highest high and lowest low of the last `period` bars, with ta_int.h's block
 * rolling extreme (O(1) amortised, nearly branch-free; values only: AROON, which needs the
 * bar of the extreme, keeps monotonic deques). */
typedef struct tm_hilo {
    cb_ta_rollext_t hi, lo;
    double vhi, vlo;
    int64_t n, period;
} tm_hilo_t;

static inline void tm_hilo_place(tm_hilo_t *w, cb_ta_layout_t *l, int period)
{
    cb_ta_rollext_place(&w->hi, l, (size_t)period);
    cb_ta_rollext_place(&w->lo, l, (size_t)period);
    w->vhi = w->vlo = 0.0;
    w->n = 0;
    w->period = period;
}

/* Adds a bar; returns 1 once the window is full. */
static inline int tm_hilo_push(tm_hilo_t *w, void *st, double high, double low)
{
    w->vhi = cb_ta_rollext_push(&w->hi, st, high, 1);
    w->vlo = cb_ta_rollext_push(&w->lo, st, low, 0);
    return ++w->n >= w->period;
}

static inline double tm_hilo_high(const tm_hilo_t *w, void *st)
{
    (void)st;
    return w->vhi;
}

static inline double tm_hilo_low(const tm_hilo_t *w, void *st)
{
    (void)st;
    return w->vlo;
}

#endif
