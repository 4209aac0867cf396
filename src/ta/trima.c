/* TRIMA: triangular moving average, TA-Lib's weights: odd period 1,2,..,m,..,2,1 (m = (p+1)/2);
 * even period 1,2,..,p/2,p/2,..,2,1. Computed as an SMA of an SMA whose lengths n1 + n2 - 1 =
 * period (odd: n1 = n2 = (p+1)/2; even: n1 = p/2, n2 = p/2 + 1), i.e. sum2 / (n1*n2) where
 * sum1 is the running sum of the last n1 inputs and sum2 the running sum of the last n2 sum1.
 * Reference: TA-Lib TA_TRIMA (same weights; its running sums differ only in rounding). A
 * window of `period` identical values gives that value exactly (cb_ta_flat_t, ta_int.h). */
#include "ta/ta_int.h"

static int trima_lookback(const double *opts) { return cb_ta_iopt(opts, 0) - 1; }

static void trima_split(int p, size_t *n1, size_t *n2)
{
    if (p & 1) {
        *n1 = *n2 = (size_t)(p + 1) / 2;
    } else {
        *n1 = (size_t)p / 2;
        *n2 = (size_t)p / 2 + 1;
    }
}

static void trima_batch(size_t n, const double *const *in, const double *opts,
                        double *const *out)
{
    const double *x = in[0];
    double *o = out[0];
    size_t n1, n2;
    trima_split(cb_ta_iopt(opts, 0), &n1, &n2);
    double div = (double)n1 * (double)n2;
    /* s1lag replays s1's operations n2-1 bars later, giving bit-identically the sum1 value
     * that leaves the second window (no scratch memory needed). */
    double s1 = 0.0, s1lag, s2 = 0.0, last = 0.0;
    int64_t run = 0, ip = (int64_t)(n1 + n2 - 1);
    for (size_t i = 0; i + 1 < n1; i++) {
        s1 += x[i];
        run = cb_ta_flat_next(run, last, x[i]);
        last = x[i];
    }
    s1lag = s1;
    size_t first = n1 + n2 - 2;
    for (size_t i = n1 - 1; i < n; i++) {
        s1 += x[i];
        double v1 = s1;
        s1 -= x[i + 1 - n1];
        s2 += v1;
        run = cb_ta_flat_next(run, last, x[i]);
        last = x[i];
        if (i >= first) {
            o[i] = s2 / div;
            if (run >= ip)
                o[i] = x[i];
            size_t j = i + 1 - n2;
            s1lag += x[j];
            double leave = s1lag;
            s1lag -= x[j + 1 - n1];
            s2 -= leave;
        }
    }
}

typedef struct trima_state {
    double s1, s2, div;
    cb_ta_flat_t flat;
    cb_ta_ring_t r1, r2; /* inputs (n1), sum1 values (n2) */
} trima_state_t;

static size_t trima_size(const double *opts)
{
    size_t n1, n2;
    trima_split(cb_ta_iopt(opts, 0), &n1, &n2);
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(trima_state_t));
    cb_ta_layout_add(&l, n1 * sizeof(double));
    cb_ta_layout_add(&l, n2 * sizeof(double));
    return l.off;
}

static void trima_init(void *st, const double *opts)
{
    trima_state_t *s = st;
    size_t n1, n2;
    trima_split(cb_ta_iopt(opts, 0), &n1, &n2);
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(trima_state_t));
    s->s1 = s->s2 = 0.0;
    s->div = (double)n1 * (double)n2;
    cb_ta_flat_reset(&s->flat);
    cb_ta_ring_place(&s->r1, &l, n1);
    cb_ta_ring_place(&s->r2, &l, n2);
}

static void trima_update(void *st, const double *in, double *out)
{
    trima_state_t *s = st;
    double dropped;
    s->s1 += in[0];
    int64_t run = cb_ta_flat_push(&s->flat, in[0]);
    cb_ta_ring_push(&s->r1, st, in[0], &dropped);
    if (s->r1.n < s->r1.cap)
        return;
    double v1 = s->s1;
    s->s1 -= cb_ta_ring_get(&s->r1, st, 0);
    s->s2 += v1;
    cb_ta_ring_push(&s->r2, st, v1, &dropped);
    if (s->r2.n < s->r2.cap)
        return;
    out[0] = s->s2 / s->div;
    if (run >= (int64_t)(s->r1.cap + s->r2.cap - 1))
        out[0] = in[0];
    s->s2 -= cb_ta_ring_get(&s->r2, st, 0);
}

CB_TA_DEFINE(trima, .title = "Triangular Moving Average", .reference = "TA-Lib TA_TRIMA",
             .n_inputs = 1, .inputs = {"real"},
             .n_opts = 1, .opts = {{"period", 30, 2, 100000, 1}},
             .n_outputs = 1, .outputs = {"trima"})
