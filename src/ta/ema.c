/* EMA: exponential moving average, k = 2/(period+1), seeded (TA-Lib's default compatibility)
 * with the SMA of the first `period` values, which is also the first output (bar period-1).
 * Reference: TA-Lib TA_EMA / TA_INT_EMA; step ((x - prev) * k) + prev. */
#include "ta/ta_int.h"

static int ema_lookback(const double *opts) { return cb_ta_iopt(opts, 0) - 1; }

/* Screens each value as it is read (integer operations beside the EMA's chain). */
static int ema_fused(size_t n, const double *const *in, const double *opts, double *const *out)
{
    const double *x = in[0];
    double *o = out[0];
    int p = cb_ta_iopt(opts, 0);
    double k = cb_ta_ema_k(p), sum = 0.0;
    size_t up = (size_t)p;
    uint64_t bad = 0;
    for (size_t i = 0; i < up; i++) {
        bad |= cb_ta_nf(x[i]);
        sum += x[i];
    }
    double prev = sum / (double)p;
    o[up - 1] = prev;
    for (size_t i = up; i < n; i++) {
        bad |= cb_ta_nf(x[i]);
        prev = cb_ta_ema_step(prev, x[i], k);
        o[i] = prev;
    }
    return (int)(bad >> 63);
}

typedef struct ema_state {
    double k, period, acc; /* acc: the seed sum, then the EMA */
    int64_t seen;
} ema_state_t;

static size_t ema_size(const double *opts)
{
    (void)opts;
    return sizeof(ema_state_t);
}

static void ema_init(void *st, const double *opts)
{
    ema_state_t *s = st;
    s->period = (double)cb_ta_iopt(opts, 0);
    s->k = cb_ta_ema_k(cb_ta_iopt(opts, 0));
    s->acc = 0.0;
    s->seen = 0;
}

static void ema_update(void *st, const double *in, double *out)
{
    ema_state_t *s = st;
    int64_t p = (int64_t)s->period;
    if (s->seen < p) {
        s->acc += in[0];
        if (++s->seen == p)
            s->acc /= s->period;
    } else {
        s->acc = cb_ta_ema_step(s->acc, in[0], s->k);
    }
    out[0] = s->acc;
}

/* Two EMA streams over one input column, interleaved so that their dependency chains (a
 * subtraction, a multiplication and an addition per bar each) overlap: the common
 * crossover(ema(x, fast), ema(x, slow)). Only where both are past their seed and the chunk is
 * all finite, which is what their own stream_run would do there step for step (the same bits,
 * the same states after); returns 0 without touching anything otherwise. */
int cb_ta_ema_run_pair_(void *st1, void *st2, size_t n, const double *in, double *out1,
                        double *out2)
{
    cb_ta_head_t *h1 = st1, *h2 = st2;
    ema_state_t a, b;
    memcpy(&a, cb_ta_body(st1), sizeof a);
    memcpy(&b, cb_ta_body(st2), sizeof b);
    if (a.seen < (int64_t)a.period || b.seen < (int64_t)b.period || h1->bar < h1->lookback ||
        h2->bar < h2->lookback)
        return 0;
    uint64_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad |= cb_ta_nf(in[i]);
    if (bad >> 63)
        return 0;
    for (size_t i = 0; i < n; i++) {
        double x = in[i];
        a.acc = cb_ta_ema_step(a.acc, x, a.k);
        b.acc = cb_ta_ema_step(b.acc, x, b.k);
        out1[i] = a.acc;
        out2[i] = b.acc;
    }
    memcpy(cb_ta_body(st1), &a, sizeof a);
    memcpy(cb_ta_body(st2), &b, sizeof b);
    h1->bar += (int64_t)n;
    h2->bar += (int64_t)n;
    return 1;
}

CB_TA_DEFINE_FUSED_SCALAR(ema, ema_state_t, .title = "Exponential Moving Average", .reference = "TA-Lib TA_EMA",
             .n_inputs = 1, .inputs = {"real"},
             .n_opts = 1, .opts = {{"period", 30, 2, 100000, 1}},
             .n_outputs = 1, .outputs = {"ema"})
