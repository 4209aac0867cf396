/* WMA: linearly weighted moving average, weights 1..period (newest heaviest), divided by
 * period*(period+1)/2. TA-Lib TA_WMA's running form: periodSub (plain sum) and periodSum
 * (weighted sum); each bar adds x*period to periodSum, outputs, then subtracts periodSub.
 * A window of identical values gives that value exactly (cb_ta_flat_t, ta_int.h). */
#include "ta/ta_int.h"

static int wma_lookback(const double *opts) { return cb_ta_iopt(opts, 0) - 1; }

static double wma_divider(int p) { return (double)((p * (p + 1)) >> 1); }

/* Screens each value as it enters the sums (beside the floating-point chain). */
static int wma_fused(size_t n, const double *const *in, const double *opts, double *const *out)
{
    const double *x = in[0];
    double *o = out[0];
    int p = cb_ta_iopt(opts, 0);
    size_t up = (size_t)p;
    double divider = wma_divider(p), dp = (double)p;
    double sub = 0.0, sum = 0.0, trailing = 0.0, last = 0.0;
    int64_t run = 0, ip = (int64_t)p;
    uint64_t bad = 0;
    for (size_t i = 0; i + 1 < up; i++) {
        bad |= cb_ta_nf(x[i]);
        sub += x[i];
        sum += x[i] * (double)(i + 1);
        run = cb_ta_flat_next(run, last, x[i]);
        last = x[i];
    }
    for (size_t i = up - 1; i < n; i++) {
        double v = x[i];
        bad |= cb_ta_nf(v);
        sub += v;
        sub -= trailing;
        sum += v * dp;
        trailing = x[i + 1 - up];
        run = cb_ta_flat_next(run, last, v);
        last = v;
        o[i] = sum / divider;
        if (run >= ip)
            o[i] = v;
        sum -= sub;
    }
    return (int)(bad >> 63);
}

typedef struct wma_state {
    double sub, sum, trailing, divider, period;
    int64_t n;
    cb_ta_flat_t flat;
    cb_ta_ring_t ring;
} wma_state_t;

static size_t wma_size(const double *opts)
{
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(wma_state_t));
    cb_ta_layout_add(&l, (size_t)cb_ta_iopt(opts, 0) * sizeof(double));
    return l.off;
}

static void wma_init(void *st, const double *opts)
{
    wma_state_t *s = st;
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(wma_state_t));
    int p = cb_ta_iopt(opts, 0);
    s->sub = s->sum = s->trailing = 0.0;
    s->divider = wma_divider(p);
    s->period = (double)p;
    s->n = 0;
    cb_ta_flat_reset(&s->flat);
    cb_ta_ring_place(&s->ring, &l, (size_t)p);
}

static void wma_update(void *st, const double *in, double *out)
{
    wma_state_t *s = st;
    double v = in[0], dropped;
    cb_ta_ring_push(&s->ring, st, v, &dropped);
    int64_t run = cb_ta_flat_push(&s->flat, v);
    s->n++;
    if (s->ring.n < s->ring.cap) {
        s->sub += v;
        s->sum += v * (double)s->n;
        return;
    }
    s->sub += v;
    s->sub -= s->trailing;
    s->sum += v * s->period;
    s->trailing = cb_ta_ring_get(&s->ring, st, 0);
    out[0] = s->sum / s->divider;
    if (run >= (int64_t)s->ring.cap)
        out[0] = v;
    s->sum -= s->sub;
}

CB_TA_DEFINE_FUSED(wma, .title = "Weighted Moving Average", .reference = "TA-Lib TA_WMA",
             .n_inputs = 1, .inputs = {"real"},
             .n_opts = 1, .opts = {{"period", 30, 2, 100000, 1}},
             .n_outputs = 1, .outputs = {"wma"})
