/* SMA: simple moving average, the mean of the last `period` values.
 * Reference: TA-Lib TA_SMA (running sum: add the new value, output sum/period, subtract the
 * oldest; the same order here in both forms). A window of identical values gives that value
 * exactly (cb_ta_flat_t, ta_int.h), where the running sum would be off by its residue. */
#include "ta/ta_int.h"

static int sma_lookback(const double *opts) { return cb_ta_iopt(opts, 0) - 1; }

/* Screens each value as it enters the sum (integer operations beside the floating-point
 * chain that bounds this loop, so the screen costs nothing here; so does the flat run). */
static int sma_fused(size_t n, const double *const *in, const double *opts, double *const *out)
{
    const double *x = in[0];
    double *o = out[0];
    size_t p = (size_t)cb_ta_iopt(opts, 0);
    double dp = (double)p, sum = 0.0, last = 0.0;
    int64_t run = 0, ip = (int64_t)p;
    uint64_t bad = 0;
    for (size_t i = 0; i + 1 < p; i++) {
        bad |= cb_ta_nf(x[i]);
        sum += x[i];
        run = cb_ta_flat_next(run, last, x[i]);
        last = x[i];
    }
    for (size_t i = p - 1; i < n; i++) {
        double v = x[i];
        bad |= cb_ta_nf(v);
        sum += v;
        run = cb_ta_flat_next(run, last, v);
        last = v;
        o[i] = sum / dp;
        if (run >= ip) /* a branch, predictable: flat windows come in stretches */
            o[i] = v;
        sum -= x[i + 1 - p];
    }
    return (int)(bad >> 63);
}

typedef struct sma_state {
    double period, sum;
    cb_ta_flat_t flat;
    cb_ta_ring_t ring;
} sma_state_t;

static size_t sma_size(const double *opts)
{
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(sma_state_t));
    cb_ta_layout_add(&l, (size_t)cb_ta_iopt(opts, 0) * sizeof(double));
    return l.off;
}

static void sma_init(void *st, const double *opts)
{
    sma_state_t *s = st;
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(sma_state_t));
    s->period = (double)cb_ta_iopt(opts, 0);
    s->sum = 0.0;
    cb_ta_flat_reset(&s->flat);
    cb_ta_ring_place(&s->ring, &l, (size_t)cb_ta_iopt(opts, 0));
}

static void sma_update(void *st, const double *in, double *out)
{
    sma_state_t *s = st;
    double dropped;
    s->sum += in[0];
    int64_t run = cb_ta_flat_push(&s->flat, in[0]);
    cb_ta_ring_push(&s->ring, st, in[0], &dropped);
    if (s->ring.n == s->ring.cap) {
        out[0] = s->sum / s->period;
        if (run >= (int64_t)s->ring.cap)
            out[0] = in[0];
        s->sum -= cb_ta_ring_get(&s->ring, st, 0);
    }
}

CB_TA_DEFINE_FUSED(sma, .title = "Simple Moving Average", .reference = "TA-Lib TA_SMA",
             .n_inputs = 1, .inputs = {"real"},
             .n_opts = 1, .opts = {{"period", 30, 2, 100000, 1}},
             .n_outputs = 1, .outputs = {"sma"})
