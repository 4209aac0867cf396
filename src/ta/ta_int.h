/* Private helpers shared by every indicator of src/ta/ (not part of the public API).
 *
 * HOW AN INDICATOR IS WRITTEN (one file src/ta/<name>.c plus one line in ta_list.h):
 *
 *   static int  <name>_lookback(const double *opts);          valid opts only
 *   static void <name>_batch(size_t n, const double *const *in, const double *opts,
 *                            double *const *out);
 *       The kernel. Called only with n > lookback and with every input finite (NaN/inf bars
 *       are handled by the generic layer, see below). Writes out[k][i] for lookback <= i < n;
 *       the first `lookback` values are already NaN. Never allocates.
 *   static size_t <name>_size(const double *opts);   bytes of the streaming state
 *   static void <name>_init(void *st, const double *opts);
 *   static void <name>_update(void *st, const double *in, double *out);
 *       One bar (finite inputs). Writes out[k]; during warm-up (the first `lookback` bars of
 *       the state) it may write anything or nothing: the generic layer replaces it by NaN.
 *       From the lookback on it writes every output on every bar.
 *   CB_TA_DEFINE(<name>, .title = ..., .reference = ..., .n_inputs = ..., .inputs = {...},
 *                .n_opts = ..., .opts = {...}, .n_outputs = ..., .outputs = {...})
 *
 * CB_TA_DEFINE builds `const cb_ta_info_t cb_ta_info_<name>` (the table entry) and the public
 * cb_ta_<name>() / cb_ta_<name>_lookback() around the static functions: option checking, NaN
 * before the lookback, and the NaN-input convention. Its stream_run is a loop over the same
 * <name>_update (cb_ta_run_chunk_). When the state is one plain struct T and nothing else
 * (<name>_size returns sizeof(T)), CB_TA_DEFINE_SCALAR(<name>, T, ...) (and
 * CB_TA_DEFINE_FUSED_SCALAR) let stream_run work on a copy of it in registers.
 *
 * NaN-INPUT CONVENTION (every indicator, both forms): a bar where any input is NaN or infinite
 * has NaN outputs and RESTARTS the indicator: the next bar is treated as the first bar of a new
 * series (NaN again for `lookback` bars, then values as if the series began there). Batch splits
 * the input at such bars and runs the kernel on each finite segment; streaming re-initialises
 * its state. So a bad bar never spreads NaN forever and never crashes.
 *
 * STREAMING STATE LAYOUT in caller memory (cb_ta_stream_size bytes, suitably aligned for
 * double and int64):
 *
 *   [cb_ta_head_t: opts, bar count, lookback]   generic layer (table.c / CB_TA_DEFINE)
 *   [struct <name>_state]                       the indicator's scalars
 *   [ring buffers / deques]                     sized from the options, addressed by OFFSET
 *
 * States hold no pointers (buffers are found by offset from the state's own address), so a
 * state can be copied with memcpy (snapshots) and lives anywhere. Use cb_ta_layout_* to size
 * and place the buffers identically in <name>_size and <name>_init.
 */
#ifndef COMEBACK_TA_INT_H
#define COMEBACK_TA_INT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "comeback/ta.h"
#include "core/vec2_int.h"

/* Per-indicator public entry points, declared from the one list. */
#define CB_TA_X(name) CB_TA_DECLARE_(name) extern const cb_ta_info_t cb_ta_info_##name;
#include "ta/ta_list.h"
#undef CB_TA_X

/* TA-Lib's tolerance macros (its ta_utility.h), reproduced by value so that edge cases (zero
 * range, flat prices) take the same branch as TA-Lib. */
#define CB_TA_IS_ZERO(v) (((-0.00000001) < (v)) && ((v) < 0.00000001))
#define CB_TA_IS_ZERO_OR_NEG(v) ((v) < 0.00000001)

static inline int cb_ta_iopt(const double *opts, int k) { return (int)opts[k]; }

static inline void cb_ta_fill_nan(double *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = NAN;
}

/* ---- Two-lane vectors and the NaN/infinity screen ------------------------------------------
 * The two-lane vectors of core/vec2_int.h (lane arithmetic is the scalar IEEE operation, so
 * results are bit-identical), under the names the indicators use.
 *
 * A double is NaN or infinite exactly when its 11 exponent bits are all ones; then
 * (bits & CB_TA_EXP_MASK) + CB_TA_EXP_LSB carries into bit 63, and for every finite double
 * (exponent <= 0x7fe, denormals and zeros included) it does not. OR-ing these words over an
 * array and testing bit 63 screens it with three integer operations per value. */
typedef cb_v2d cb_ta_v2d;
typedef cb_v2u cb_ta_v2u;
#define cb_ta_v2d_load cb_v2d_load
#define cb_ta_v2d_store cb_v2d_store
#define cb_ta_v2_sel cb_v2_sel

#define CB_TA_EXP_MASK 0x7ff0000000000000ull
#define CB_TA_EXP_LSB 0x0010000000000000ull

/* The screening word of both lanes (bit 63 set in a lane that is NaN or infinite). */
static inline cb_ta_v2u cb_ta_v2_nf(cb_ta_v2d v)
{
    cb_ta_v2u b, m = {CB_TA_EXP_MASK, CB_TA_EXP_MASK}, one = {CB_TA_EXP_LSB, CB_TA_EXP_LSB};
    memcpy(&b, &v, sizeof b);
    return (b & m) + one;
}
static inline uint64_t cb_ta_nf(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return (b & CB_TA_EXP_MASK) + CB_TA_EXP_LSB;
}
/* Lane-wise (a > b ? a : b), the exact select of the scalar code (no maxpd NaN or
 * signed-zero subtleties). */
static inline cb_ta_v2d cb_ta_v2_pick_gt(cb_ta_v2d a, cb_ta_v2d b)
{
    return cb_ta_v2_sel((cb_ta_v2u)(a > b), a, b);
}
/* Lane-wise fabs (clears the sign bit, as fabs does). */
static inline cb_ta_v2d cb_ta_v2_fabs(cb_ta_v2d a)
{
    cb_ta_v2u m = {~(1ull << 63), ~(1ull << 63)};
    return (cb_ta_v2d)((cb_ta_v2u)a & m);
}
/* 1 when an accumulated screening word (lanes OR-ed) saw a NaN or an infinity. */
static inline int cb_ta_v2_bad(cb_ta_v2u acc) { return (int)((acc[0] | acc[1]) >> 63); }

/* 1 when any of x[0..n) is NaN or infinite (table.c). */
int cb_ta_any_nonfinite_(const double *x, size_t n);

/* ---- Layout of a streaming state -------------------------------------------------------- */

#define CB_TA_ALIGN_UP(x) (((x) + 15u) & ~(size_t)15u)

/* Running byte offset while laying out a state: start with the struct's size. */
typedef struct cb_ta_layout {
    size_t off;
} cb_ta_layout_t;

static inline cb_ta_layout_t cb_ta_layout_start(size_t struct_size)
{
    cb_ta_layout_t l = {CB_TA_ALIGN_UP(struct_size)};
    return l;
}
/* Reserves `bytes` and returns their offset. */
static inline size_t cb_ta_layout_add(cb_ta_layout_t *l, size_t bytes)
{
    size_t o = l->off;
    l->off = CB_TA_ALIGN_UP(o + bytes);
    return o;
}

static inline double *cb_ta_dptr(void *st, size_t off) { return (double *)(void *)((char *)st + off); }
static inline int64_t *cb_ta_iptr(void *st, size_t off)
{
    return (int64_t *)(void *)((char *)st + off);
}

/* ---- Ring buffer of doubles (the last `cap` values) ------------------------------------- */

typedef struct cb_ta_ring {
    size_t off;  /* offset of cap doubles from the state start */
    size_t cap;
    size_t head; /* index of the oldest value */
    size_t n;    /* values held (<= cap) */
} cb_ta_ring_t;

static inline void cb_ta_ring_place(cb_ta_ring_t *r, cb_ta_layout_t *l, size_t cap)
{
    r->cap = cap ? cap : 1;
    r->off = cb_ta_layout_add(l, r->cap * sizeof(double));
    r->head = r->n = 0;
}
static inline void cb_ta_ring_reset(cb_ta_ring_t *r) { r->head = r->n = 0; }
/* Appends x; when full, drops the oldest value and returns it in *dropped (returns 1). */
static inline int cb_ta_ring_push(cb_ta_ring_t *r, void *st, double x, double *dropped)
{
    double *b = cb_ta_dptr(st, r->off);
    if (r->n < r->cap) {
        size_t t = r->head + r->n;
        if (t >= r->cap)
            t -= r->cap;
        b[t] = x;
        r->n++;
        return 0;
    }
    *dropped = b[r->head];
    b[r->head] = x;
    if (++r->head == r->cap)
        r->head = 0;
    return 1;
}
/* The i-th oldest value (0 = oldest held). */
static inline double cb_ta_ring_get(const cb_ta_ring_t *r, void *st, size_t i)
{
    size_t t = r->head + i;
    if (t >= r->cap)
        t -= r->cap;
    return cb_ta_dptr(st, r->off)[t];
}
/* The value pushed `ago` pushes before the newest (0 = newest). */
static inline double cb_ta_ring_ago(const cb_ta_ring_t *r, void *st, size_t ago)
{
    return cb_ta_ring_get(r, st, r->n - 1 - ago);
}

/* ---- Monotonic deque: rolling max (or min) over the last `period` bars, O(1) amortised --- */

typedef struct cb_ta_deque {
    size_t voff, ioff; /* offsets of cap values and cap bar indices */
    size_t cap, head, n;
} cb_ta_deque_t;

static inline void cb_ta_deque_place(cb_ta_deque_t *d, cb_ta_layout_t *l, size_t cap)
{
    d->cap = cap ? cap : 1;
    d->voff = cb_ta_layout_add(l, d->cap * sizeof(double));
    d->ioff = cb_ta_layout_add(l, d->cap * sizeof(int64_t));
    d->head = d->n = 0;
}
static inline void cb_ta_deque_reset(cb_ta_deque_t *d) { d->head = d->n = 0; }
/* Pushes bar `idx` with value x and expires bars <= idx - period. want_max: 1 for highest,
 * 0 for lowest. Among equal extremes the NEWEST bar stays at the front (an equal older value
 * is dropped), which is what an index-reporting indicator such as AROON needs when it scans
 * with `>=`; check TA-Lib's tie rule for the indicator at hand. */
static inline void cb_ta_deque_push(cb_ta_deque_t *d, void *st, int64_t idx, double x,
                                    int64_t period, int want_max)
{
    double *v = cb_ta_dptr(st, d->voff);
    int64_t *ix = cb_ta_iptr(st, d->ioff);
    /* drop from the back while dominated */
    while (d->n) {
        size_t b = d->head + d->n - 1;
        if (b >= d->cap)
            b -= d->cap;
        if (want_max ? (v[b] <= x) : (v[b] >= x))
            d->n--;
        else
            break;
    }
    /* expire from the front */
    while (d->n && ix[d->head] <= idx - period) {
        if (++d->head == d->cap)
            d->head = 0;
        d->n--;
    }
    size_t t = d->head + d->n;
    if (t >= d->cap)
        t -= d->cap;
    v[t] = x;
    ix[t] = idx;
    d->n++;
}
static inline double cb_ta_deque_front(const cb_ta_deque_t *d, void *st)
{
    return cb_ta_dptr(st, d->voff)[d->head];
}
static inline int64_t cb_ta_deque_front_idx(const cb_ta_deque_t *d, void *st)
{
    return cb_ta_iptr(st, d->ioff)[d->head];
}

/* ---- Rolling max/min for streams, block form: O(1) amortised, nearly branch-free ---------
 * The stream is cut into blocks of `period` bars. `pre` is the extreme of the current block so
 * far; when a block completes, the suffix extremes of that block are computed once (O(period)
 * every period bars). The window [i-period+1, i] is a suffix of the previous block plus the
 * current block's prefix. Values only (use cb_ta_deque when the bar index is needed). */
typedef struct cb_ta_rollext {
    size_t boff, soff; /* offsets of the current block's values and the previous suffixes */
    size_t p, pos;
    int64_t bar;
    double pre;
} cb_ta_rollext_t;

static inline void cb_ta_rollext_place(cb_ta_rollext_t *r, cb_ta_layout_t *l, size_t period)
{
    r->p = period ? period : 1;
    r->boff = cb_ta_layout_add(l, r->p * sizeof(double));
    r->soff = cb_ta_layout_add(l, r->p * sizeof(double));
    r->pos = 0;
    r->bar = 0;
    r->pre = 0.0;
}
static inline double cb_ta_pick_(double a, double b, int want_max)
{
    return want_max ? (b > a ? b : a) : (b < a ? b : a);
}
/* Pushes x; returns the extreme of the last min(period, bars) values. */
static inline double cb_ta_rollext_push(cb_ta_rollext_t *r, void *st, double x, int want_max)
{
    double *buf = cb_ta_dptr(st, r->boff), *suf = cb_ta_dptr(st, r->soff);
    size_t p = r->p, pos = r->pos;
    if (pos == 0 && r->bar > 0) {
        double run = buf[p - 1];
        suf[p - 1] = run;
        for (size_t k = p - 1; k-- > 0;) {
            run = cb_ta_pick_(run, buf[k], want_max);
            suf[k] = run;
        }
    }
    buf[pos] = x;
    r->pre = pos == 0 ? x : cb_ta_pick_(r->pre, x, want_max);
    double out = (r->bar < (int64_t)p || pos == p - 1) ? r->pre
                                                       : cb_ta_pick_(suf[pos + 1], r->pre, want_max);
    r->bar++;
    r->pos = pos + 1 == p ? 0 : pos + 1;
    return out;
}

/* ---- Flat windows: exact output when the window holds one value ------------------------
 * A running sum (add the newest value, subtract the oldest) keeps the rounding of every value
 * that ever passed through it, so over a window of identical values c it is not exactly
 * period*c: sum/period comes out one or a few ulps away from c, on either side, and a rule
 * such as crossover(close, sma(close, 15)) then fires on that residue. cb_ta_flat_t counts
 * how many of the latest values are identical (the same bits) to the newest; once that run
 * covers the indicator's window, the indicator returns its exact value for a constant window
 * (the value itself for an average, 0 for a dispersion) instead of the running sums'. The sums
 * go on untouched. Cost: the run is counted with integer operations and no branch (prices
 * repeat at random, one close in two on a coarse tick, and a branch there mispredicts:
 * bench_ta's .tick figures); the exact value is then stored over the usual one behind a branch
 * on the run covering the window, predictable for windows of 5 bars and more (flat windows
 * come in stretches) and cheaper than a select there. Measured in docs/indicators.md. Both
 * forms run the same tracker over the same values, so they stay identical. */
typedef struct cb_ta_flat {
    double last;
    int64_t run; /* values identical to `last`, `last` included (0 before the first) */
} cb_ta_flat_t;

static inline void cb_ta_flat_reset(cb_ta_flat_t *f)
{
    f->last = 0.0;
    f->run = 0;
}
/* flat ? v : x, as a select in the vector unit (the mask crosses from the integer unit, the
 * values stay): for windows of a few bars (STOCH's 3-bar SMAs of %K, which repeats 0 or 100),
 * where the run covers the window at random and a branch would mispredict. Longer windows
 * keep the branch, which measured cheaper (VAR's default 5 included). */
static inline double cb_ta_flat_sel(int flat, double v, double x)
{
    const cb_ta_v2u k = {(uint64_t)0 - (uint64_t)(flat != 0), 0};
    const cb_ta_v2d a = {v, 0.0}, b = {x, 0.0};
    return cb_ta_v2_sel(k, a, b)[0];
}
/* A run counter: run + 1 when cond holds, else 0, as integer arithmetic. Prices repeat at
 * random (one close in two on a coarse tick), so a branch here would mispredict half the
 * time; written as `cond ? run + 1 : 0` the compiler makes one (SMA 1.9 -> 5.3 ns/bar on such
 * a market, bench_ta's .tick figures). */
static inline int64_t cb_ta_run_next(int64_t run, int cond)
{
    return (run + 1) & -(int64_t)(cond != 0);
}
/* The run that x extends (run and last as the tracker holds them; from the reset state,
 * run 0, any x gives 1). Identical means the same bits (so +0 and -0 differ; NaN never
 * reaches a kernel's arithmetic), compared as integers beside the floating-point chain. */
static inline int64_t cb_ta_flat_next(int64_t run, double last, double x)
{
    uint64_t a, b;
    memcpy(&a, &last, sizeof a);
    memcpy(&b, &x, sizeof b);
    return (run & -(int64_t)(a == b)) + 1;
}
/* Feeds x; returns the length of the run of identical values that x ends. */
static inline int64_t cb_ta_flat_push(cb_ta_flat_t *f, double x)
{
    f->run = cb_ta_flat_next(f->run, f->last, x);
    f->last = x;
    return f->run;
}

/* ---- Shared maths ----------------------------------------------------------------------- */

/* TA-Lib's EMA step: ((x - prev) * k) + prev, with k = 2 / (period + 1). */
static inline double cb_ta_ema_k(int period) { return 2.0 / ((double)period + 1.0); }
static inline double cb_ta_ema_step(double prev, double x, double k) { return ((x - prev) * k) + prev; }

/* Wilder's smoothing as TA-Lib does it: prev * (period - 1) then + x, then / period. */
static inline double cb_ta_wilder_step(double prev, double x, double period)
{
    return (prev * (period - 1.0) + x) / period;
}

/* A TA-Lib EMA on a stream (TA_INT_EMA): the first `period` values are summed from 0.0 and
 * their mean is the first value; then cb_ta_ema_step. Chained for DEMA, TEMA, TRIX, MACD. */
typedef struct cb_ta_sema {
    double k, period, value; /* value: the running seed sum, then the EMA */
    int64_t n, p;
} cb_ta_sema_t;

static inline void cb_ta_sema_init(cb_ta_sema_t *e, int period)
{
    e->k = cb_ta_ema_k(period);
    e->period = (double)period;
    e->value = 0.0;
    e->n = 0;
    e->p = period;
}
/* Feeds x; returns 1 when e->value is an EMA value (from the period-th value on). */
static inline int cb_ta_sema_push(cb_ta_sema_t *e, double x)
{
    if (e->n >= e->p) {
        e->value = cb_ta_ema_step(e->value, x, e->k);
        return 1;
    }
    e->value += x;
    if (++e->n < e->p)
        return 0;
    e->value /= e->period;
    return 1;
}

/* Rolling highest (want_max=1) or lowest of x over `period` bars, batch, O(1) per bar whatever
 * the period and without scratch memory (van Herk/Gil-Werman: block suffix maxima are stored
 * in out where they are needed, then combined with a running block prefix). Writes
 * out[period-1 .. n-1]; requires n >= period >= 1. (util.c) */
void cb_ta_rolling_extreme_(const double *x, size_t n, size_t period, double *out, int want_max);

/* ---- The generic layer (table.c) -------------------------------------------------------- */

/* Header of every streaming state (before the indicator's own state). */
typedef struct cb_ta_head {
    double opts[CB_TA_MAX_OPTS];
    int64_t bar;      /* bars consumed since the (re)start */
    int64_t lookback;
} cb_ta_head_t;

#define CB_TA_HEAD_SIZE CB_TA_ALIGN_UP(sizeof(cb_ta_head_t))

typedef int (*cb_ta_klookback_fn)(const double *opts);
typedef void (*cb_ta_kbatch_fn)(size_t n, const double *const *in, const double *opts,
                                double *const *out);
typedef int (*cb_ta_kfused_fn)(size_t n, const double *const *in, const double *opts,
                               double *const *out);
typedef size_t (*cb_ta_ksize_fn)(const double *opts);
typedef void (*cb_ta_kinit_fn)(void *st, const double *opts);
typedef void (*cb_ta_kupdate_fn)(void *st, const double *in, double *out);

/* 1 when opts are within the table's ranges (no diagnostics). */
int cb_ta_opts_valid_(const cb_ta_info_t *info, const double *opts);
int cb_ta_run_lookback_(const cb_ta_info_t *info, cb_ta_klookback_fn lb, const double *opts);
int cb_ta_run_batch_(const cb_ta_info_t *info, cb_ta_klookback_fn lb, cb_ta_kbatch_fn kb,
                     cb_ta_kfused_fn kf, size_t n, const double *const *in, const double *opts, double *const *out);
size_t cb_ta_run_size_(const cb_ta_info_t *info, cb_ta_ksize_fn ks, const double *opts);
int cb_ta_run_init_(const cb_ta_info_t *info, cb_ta_klookback_fn lb, cb_ta_kinit_fn ki,
                    void *state, const double *opts);

/* ema.c: two EMA streams over one column, interleaved where both run (cb_ta_stream_run_pair);
 * returns 0, touching nothing, where it cannot. */
int cb_ta_ema_run_pair_(void *st1, void *st2, size_t n, const double *in, double *out1,
                        double *out2);

/* The indicator's own state follows the head. */
static inline void *cb_ta_body(void *state) { return (char *)state + CB_TA_HEAD_SIZE; }

/* One streaming bar through the generic conventions (inline so that the indicator's update
 * is called directly and can be inlined into its wrapper). */
static inline int cb_ta_run_update_(const cb_ta_info_t *info, cb_ta_kinit_fn ki,
                                    cb_ta_kupdate_fn ku, void *state, const double *in,
                                    double *out)
{
    cb_ta_head_t *h = (cb_ta_head_t *)state;
    for (int k = 0; k < info->n_inputs; k++) {
        if (!isfinite(in[k])) {
            ki(cb_ta_body(state), h->opts);
            h->bar = 0;
            for (int j = 0; j < info->n_outputs; j++)
                out[j] = NAN;
            return 0;
        }
    }
    ku(cb_ta_body(state), in, out);
    if (h->bar++ < h->lookback) {
        for (int j = 0; j < info->n_outputs; j++)
            out[j] = NAN;
        return 0;
    }
    return 1;
}

/* Reads bar i of the inputs into x; 1 when one of them is NaN or infinite. */
static inline __attribute__((always_inline)) int
cb_ta_read_bar_(int n_inputs, const double *const *in, size_t i, double *x)
{
    int bad = 0;
    for (int k = 0; k < n_inputs; k++) {
        x[k] = in[k][i];
        bad |= !isfinite(x[k]);
    }
    return bad;
}

/* n bars through the conventions of cb_ta_run_update_ (the same tests, the same step on the
 * same values, so the same bits), read from and written to columns: the table's stream_run.
 * body is the indicator's state; the header's bar count is kept in a local meanwhile. Bar i's
 * inputs are read before its outputs are written (an output column may be an input column).
 * Warm-up and running bars are separate loops, and a bad bar leaves them for the restart, so
 * that the running loop is the step alone (what the step keeps constant stays in registers). */
static inline __attribute__((always_inline)) void
cb_ta_run_chunk_(const cb_ta_info_t *info, cb_ta_kinit_fn ki, cb_ta_kupdate_fn ku,
                 cb_ta_head_t *h, void *body, size_t n, const double *const *in,
                 double *const *out)
{
    int64_t bar = h->bar, lookback = h->lookback;
    double x[CB_TA_MAX_INPUTS], y[CB_TA_MAX_OUTPUTS] = {0}; /* every step writes y */
    int nin = info->n_inputs, nout = info->n_outputs;
    size_t i = 0;
    while (i < n) {
        int bad = 0;
        for (; i < n && bar < lookback; i++, bar++) { /* warming up: NaN */
            if ((bad = cb_ta_read_bar_(nin, in, i, x)) != 0)
                break;
            ku(body, x, y);
            for (int j = 0; j < nout; j++)
                out[j][i] = NAN;
        }
        if (!bad) { /* running: the step's values */
            size_t from = i;
            for (; i < n; i++) {
                if ((bad = cb_ta_read_bar_(nin, in, i, x)) != 0)
                    break;
                ku(body, x, y);
                for (int j = 0; j < nout; j++)
                    out[j][i] = y[j];
            }
            bar += (int64_t)(i - from);
        }
        if (bad) { /* bar i: NaN, and the indicator restarts after it */
            ki(body, h->opts);
            bar = 0;
            for (int j = 0; j < nout; j++)
                out[j][i] = NAN;
            i++;
        }
    }
    h->bar = bar;
}

/* The chunked stream of any indicator: its state where it is. */
#define CB_TA_RUN_ANY_(nm)                                                                   \
    cb_ta_run_chunk_(&cb_ta_info_##nm, nm##_init, nm##_update, (cb_ta_head_t *)st,           \
                     cb_ta_body(st), n, in, out)
/* The chunked stream of an indicator whose state is one plain struct T (no buffers after it:
 * nm##_size is sizeof(T)): the loop runs on a local copy, which the compiler keeps in
 * registers instead of loading and storing the state at every bar. */
#define CB_TA_RUN_SCALAR_(nm, T)                                                             \
    do {                                                                                     \
        T loc_;                                                                              \
        memcpy(&loc_, cb_ta_body(st), sizeof loc_);                                          \
        cb_ta_run_chunk_(&cb_ta_info_##nm, nm##_init, nm##_update, (cb_ta_head_t *)st, &loc_, \
                         n, in, out);                                                        \
        memcpy(cb_ta_body(st), &loc_, sizeof loc_);                                          \
    } while (0)

/* CB_TA_DEFINE(nm, fields...): the usual indicator. CB_TA_DEFINE_FUSED(nm, fields...) also
 * takes a kernel that screens its own inputs in the loop that computes (cb_ta_v2_nf):
 *   static int nm##_fused(size_t n, const double *const *in, const double *opts,
 *                         double *const *out);
 * called with n > lookback on inputs that MAY hold NaN or infinities; it must stay safe on
 * them (plain arithmetic: no value turned into an index, bounded time) and returns nonzero when
 * any in[k][0..n) is not finite, in which case its outputs are discarded and the indicator
 * goes through the screened path. Returning 0 means it wrote exactly what nm##_batch would.
 * It saves the cheap indicators the separate screening pass over every input (the screen
 * itself: cb_ta_v2_nf / cb_ta_nf above). The macro defines nm##_batch from it (the segments of
 * the screened path are finite, so the screen inside finds nothing there). */
#define CB_TA_DEFINE(nm, ...) CB_TA_DEFINE_IMPL_(nm, NULL, CB_TA_RUN_ANY_(nm), __VA_ARGS__)
/* CB_TA_DEFINE_SCALAR(nm, T, fields...): CB_TA_DEFINE for an indicator whose streaming state
 * is one plain struct T and nothing else (nm##_size returns sizeof(T)); see CB_TA_RUN_SCALAR_. */
#define CB_TA_DEFINE_SCALAR(nm, T, ...)                                                      \
    CB_TA_DEFINE_IMPL_(nm, NULL, CB_TA_RUN_SCALAR_(nm, T), __VA_ARGS__)
#define CB_TA_DEFINE_FUSED(nm, ...)                                                          \
    CB_TA_BATCH_FROM_FUSED_(nm)                                                              \
    CB_TA_DEFINE_IMPL_(nm, nm##_fused, CB_TA_RUN_ANY_(nm), __VA_ARGS__)
/* CB_TA_DEFINE_FUSED_SCALAR(nm, T, fields...): CB_TA_DEFINE_FUSED for an indicator whose
 * streaming state is one plain struct T and nothing else (see CB_TA_RUN_SCALAR_). */
#define CB_TA_DEFINE_FUSED_SCALAR(nm, T, ...)                                                \
    CB_TA_BATCH_FROM_FUSED_(nm)                                                              \
    CB_TA_DEFINE_IMPL_(nm, nm##_fused, CB_TA_RUN_SCALAR_(nm, T), __VA_ARGS__)
#define CB_TA_BATCH_FROM_FUSED_(nm)                                                          \
    static void nm##_batch(size_t n, const double *const *in, const double *opts,            \
                           double *const *out)                                               \
    {                                                                                        \
        (void)nm##_fused(n, in, opts, out); /* finite segments: the screen finds nothing */  \
    }

#define CB_TA_DEFINE_IMPL_(nm, fused, run_stmt, ...)                                         \
    static int nm##_w_lookback(const double *opts);                                          \
    static int nm##_w_batch(size_t n, const double *const *in, const double *opts,           \
                            double *const *out);                                             \
    static size_t nm##_w_size(const double *opts);                                           \
    static int nm##_w_init(void *st, const double *opts);                                    \
    static int nm##_w_update(void *st, const double *in, double *out);                       \
    static void nm##_w_run(void *st, size_t n, const double *const *in, double *const *out); \
    const cb_ta_info_t cb_ta_info_##nm = {.name = #nm,                                       \
                                          __VA_ARGS__,                                       \
                                          .lookback = nm##_w_lookback,                       \
                                          .batch = nm##_w_batch,                             \
                                          .stream_size = nm##_w_size,                        \
                                          .stream_init = nm##_w_init,                        \
                                          .stream_update = nm##_w_update,                    \
                                          .stream_run = nm##_w_run};                         \
    static int nm##_w_lookback(const double *opts)                                           \
    {                                                                                        \
        return cb_ta_run_lookback_(&cb_ta_info_##nm, nm##_lookback, opts);                   \
    }                                                                                        \
    static int nm##_w_batch(size_t n, const double *const *in, const double *opts,           \
                            double *const *out)                                              \
    {                                                                                        \
        return cb_ta_run_batch_(&cb_ta_info_##nm, nm##_lookback, nm##_batch, fused, n, in,   \
                                opts, out);                                                  \
    }                                                                                        \
    static size_t nm##_w_size(const double *opts)                                            \
    {                                                                                        \
        return cb_ta_run_size_(&cb_ta_info_##nm, nm##_size, opts);                           \
    }                                                                                        \
    static int nm##_w_init(void *st, const double *opts)                                     \
    {                                                                                        \
        return cb_ta_run_init_(&cb_ta_info_##nm, nm##_lookback, nm##_init, st, opts);        \
    }                                                                                        \
    static int nm##_w_update(void *st, const double *in, double *out)                        \
    {                                                                                        \
        return cb_ta_run_update_(&cb_ta_info_##nm, nm##_init, nm##_update, st, in, out);     \
    }                                                                                        \
    static void nm##_w_run(void *st, size_t n, const double *const *in, double *const *out)  \
    {                                                                                        \
        run_stmt;                                                                            \
    }                                                                                        \
    int cb_ta_##nm(size_t n, const double *const *in, const double *opts, double *const *out) \
    {                                                                                        \
        return nm##_w_batch(n, in, opts, out);                                               \
    }                                                                                        \
    int cb_ta_##nm##_lookback(const double *opts) { return nm##_w_lookback(opts); }

#endif
