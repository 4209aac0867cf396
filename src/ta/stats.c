/* VAR, STDDEV and BBANDS: rolling population variance from running sums of x and x^2 in
 * TA-Lib's order (TA_INT_VAR: add the new value, take the means, subtract the oldest;
 * var = mean(x^2) - mean(x)^2). STDDEV is sqrt(var)*nbdev, and 0 when var < 1e-8 (TA-Lib's
 * TA_IS_ZERO_OR_NEG), which also covers rounding below zero. A window of identical values
 * has variance exactly 0 (cb_ta_flat_t, ta_int.h): the running sums' residue is ~1e-7 at
 * 27,000 and ~100 at 1e9, far above that threshold. O(1) per bar. */
#include "ta/ta_int.h"

typedef struct var_sums {
    double t1, t2;
} var_sums_t;

/* One bar once the window is full: returns the variance; `old` leaves the window. */
static inline double var_step(var_sums_t *s, double x, double old, double period)
{
    s->t1 += x;
    s->t2 += x * x;
    double m1 = s->t1 / period, m2 = s->t2 / period;
    s->t1 -= old;
    s->t2 -= old * old;
    return m2 - m1 * m1;
}
static inline void var_warm(var_sums_t *s, double x)
{
    s->t1 += x;
    s->t2 += x * x;
}
static inline double stddev_of(double var, double nbdev)
{
    return CB_TA_IS_ZERO_OR_NEG(var) ? 0.0 : sqrt(var) * nbdev;
}

/* The shared streaming state of var and stddev. */
typedef struct var_state {
    var_sums_t s;
    double period, nbdev;
    int stddev;
    cb_ta_flat_t flat;
    cb_ta_ring_t ring;
} var_state_t;

static size_t var_size_(const double *opts)
{
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(var_state_t));
    cb_ta_layout_add(&l, (size_t)cb_ta_iopt(opts, 0) * sizeof(double));
    return l.off;
}
static void var_init_(var_state_t *s, const double *opts, int stddev)
{
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(var_state_t));
    s->s.t1 = s->s.t2 = 0.0;
    s->period = (double)cb_ta_iopt(opts, 0);
    s->nbdev = stddev ? opts[1] : 1.0;
    s->stddev = stddev;
    cb_ta_flat_reset(&s->flat);
    cb_ta_ring_place(&s->ring, &l, (size_t)cb_ta_iopt(opts, 0));
}
static void var_update_(void *st, const double *in, double *out)
{
    var_state_t *s = st;
    double dropped;
    int64_t run = cb_ta_flat_push(&s->flat, in[0]);
    cb_ta_ring_push(&s->ring, st, in[0], &dropped);
    if (s->ring.n < s->ring.cap) {
        var_warm(&s->s, in[0]);
        return;
    }
    double v = var_step(&s->s, in[0], cb_ta_ring_get(&s->ring, st, 0), s->period);
    if (run >= (int64_t)s->ring.cap)
        v = 0.0;
    out[0] = s->stddev ? stddev_of(v, s->nbdev) : v;
}
/* Batch: var_step's arithmetic with {sum x, sum x^2} in the two lanes of a vector (one
 * division instruction gives both means), screening the input on the way. */
static int var_fused_(size_t n, const double *x, const double *opts, double *o, int stddev)
{
    size_t p = (size_t)cb_ta_iopt(opts, 0);
    double fp = (double)p, nbdev = stddev ? opts[1] : 1.0;
    const cb_ta_v2d dp = {fp, fp};
    cb_ta_v2d t = {0.0, 0.0};
    uint64_t bad = 0;
    double last = 0.0;
    int64_t run = 0, ip = (int64_t)p;
    for (size_t i = 0; i + 1 < p; i++) {
        cb_ta_v2d v = {x[i], x[i] * x[i]};
        bad |= cb_ta_nf(x[i]);
        t += v;
        run = cb_ta_flat_next(run, last, x[i]);
        last = x[i];
    }
    for (size_t i = p - 1; i < n; i++) {
        double old = x[i + 1 - p];
        cb_ta_v2d v = {x[i], x[i] * x[i]}, w = {old, old * old};
        bad |= cb_ta_nf(x[i]);
        t += v;
        cb_ta_v2d m = t / dp;
        t -= w;
        run = cb_ta_flat_next(run, last, x[i]);
        last = x[i];
        double var = m[1] - m[0] * m[0];
        o[i] = stddev ? stddev_of(var, nbdev) : var;
        if (run >= ip)
            o[i] = 0.0;
    }
    return (int)(bad >> 63);
}

static int var_lookback(const double *opts) { return cb_ta_iopt(opts, 0) - 1; }
#define var_size var_size_
#define var_update var_update_
static void var_init(void *st, const double *opts) { var_init_(st, opts, 0); }
static int var_fused(size_t n, const double *const *in, const double *opts, double *const *out)
{
    return var_fused_(n, in[0], opts, out[0], 0);
}

#define stddev_lookback var_lookback
#define stddev_size var_size_
#define stddev_update var_update_
static void stddev_init(void *st, const double *opts) { var_init_(st, opts, 1); }
static int stddev_fused(size_t n, const double *const *in, const double *opts,
                        double *const *out)
{
    return var_fused_(n, in[0], opts, out[0], 1);
}

CB_TA_DEFINE_FUSED(var, .title = "Variance", .reference = "TA-Lib TA_VAR (population variance)",
             .n_inputs = 1, .inputs = {"real"},
             .n_opts = 1, .opts = {{"period", 5, 1, 100000, 1}},
             .n_outputs = 1, .outputs = {"var"})

CB_TA_DEFINE_FUSED(stddev, .title = "Standard Deviation",
             .reference = "TA-Lib TA_STDDEV (population standard deviation)",
             .n_inputs = 1, .inputs = {"real"},
             .n_opts = 2, .opts = {{"period", 5, 2, 100000, 1}, {"nbdev", 1, -3e37, 3e37, 0}},
             .n_outputs = 1, .outputs = {"stddev"})

/* ---- BBANDS -----------------------------------------------------------------------------
 * middle = SMA(period) (TA-Lib's running sum); the deviation is TA-Lib's
 * TA_INT_stddev_using_precalc_ma: a running sum of squares, mean(x^2) - middle^2, sqrt, 0 when
 * < 1e-8; upper/lower = middle +/- deviation*nbdev. A flat window (cb_ta_flat_t) gives three
 * bands exactly at the price. TA-Lib has separate nbdevup and nbdevdn
 * (both default 2); our one `nbdev` is used for both, so `bbands:20:2` means TA-Lib's
 * (20, 2, 2, SMA). */

typedef struct bb_sums {
    double sum, sq;
} bb_sums_t;

static inline void bb_warm(bb_sums_t *s, double x)
{
    s->sum += x;
    s->sq += x * x;
}
static inline void bb_step(bb_sums_t *s, double x, double old, double period, double nbdev,
                           int flat, double *up, double *mid, double *lo)
{
    s->sum += x;
    double ma = s->sum / period;
    s->sum -= old;
    s->sq += x * x;
    double m2 = s->sq / period;
    s->sq -= old * old;
    m2 -= ma * ma;
    double dev = CB_TA_IS_ZERO_OR_NEG(m2) ? 0.0 : sqrt(m2);
    dev *= nbdev;
    *mid = ma;
    *up = ma + dev;
    *lo = ma - dev;
    if (flat)
        *mid = *up = *lo = x;
}

static int bbands_lookback(const double *opts) { return cb_ta_iopt(opts, 0) - 1; }

static void bbands_batch(size_t n, const double *const *in, const double *opts,
                         double *const *out)
{
    const double *x = in[0];
    size_t p = (size_t)cb_ta_iopt(opts, 0);
    double dp = (double)p, nbdev = opts[1];
    bb_sums_t s = {0.0, 0.0};
    double last = 0.0;
    int64_t run = 0, ip = (int64_t)p;
    for (size_t i = 0; i + 1 < p; i++) {
        bb_warm(&s, x[i]);
        run = cb_ta_flat_next(run, last, x[i]);
        last = x[i];
    }
    for (size_t i = p - 1; i < n; i++) {
        run = cb_ta_flat_next(run, last, x[i]);
        last = x[i];
        bb_step(&s, x[i], x[i + 1 - p], dp, nbdev, run >= ip, &out[0][i], &out[1][i],
                &out[2][i]);
    }
}

typedef struct bbands_state {
    bb_sums_t s;
    double period, nbdev;
    cb_ta_flat_t flat;
    cb_ta_ring_t ring;
} bbands_state_t;

static size_t bbands_size(const double *opts)
{
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(bbands_state_t));
    cb_ta_layout_add(&l, (size_t)cb_ta_iopt(opts, 0) * sizeof(double));
    return l.off;
}
static void bbands_init(void *st, const double *opts)
{
    bbands_state_t *s = st;
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(bbands_state_t));
    s->s.sum = s->s.sq = 0.0;
    s->period = (double)cb_ta_iopt(opts, 0);
    s->nbdev = opts[1];
    cb_ta_flat_reset(&s->flat);
    cb_ta_ring_place(&s->ring, &l, (size_t)cb_ta_iopt(opts, 0));
}
static void bbands_update(void *st, const double *in, double *out)
{
    bbands_state_t *s = st;
    double dropped;
    int64_t run = cb_ta_flat_push(&s->flat, in[0]);
    cb_ta_ring_push(&s->ring, st, in[0], &dropped);
    if (s->ring.n < s->ring.cap) {
        bb_warm(&s->s, in[0]);
        return;
    }
    bb_step(&s->s, in[0], cb_ta_ring_get(&s->ring, st, 0), s->period, s->nbdev,
            run >= (int64_t)s->ring.cap, &out[0], &out[1], &out[2]);
}

CB_TA_DEFINE(bbands, .title = "Bollinger Bands", .reference = "TA-Lib TA_BBANDS (SMA; Bollinger)",
             .n_inputs = 1, .inputs = {"real"},
             .n_opts = 2, .opts = {{"period", 5, 2, 100000, 1}, {"nbdev", 2, -3e37, 3e37, 0}},
             .n_outputs = 3, .outputs = {"upper", "middle", "lower"})
