/* KAMA: Kaufman Adaptive Moving Average, TA-Lib's TA_KAMA exactly:
 * er = |x[t] - x[t-period]| / sum(|x[i] - x[i-1]|, period changes), taken as 1 when the sum is
 * zero (|.| < 1e-8) or when sum <= (x[t] - x[t-period]) (TA-Lib compares the signed change);
 * sc = (er * (2/3 - 2/31) + 2/31)^2; kama = prev + (x - prev) * sc. The first value is at bar
 * `period`, with the previous KAMA taken as x[period-1]. */
#include "ta/ta_int.h"

#define KAMA_CONST_MAX (2.0 / (30.0 + 1.0))
#define KAMA_CONST_DIFF (2.0 / (2.0 + 1.0) - KAMA_CONST_MAX)

static inline double kama_next(double prev, double x, double period_roc, double sum_roc1)
{
    double er;
    if ((sum_roc1 <= period_roc) || CB_TA_IS_ZERO(sum_roc1))
        er = 1.0;
    else
        er = fabs(period_roc / sum_roc1);
    double sc = (er * KAMA_CONST_DIFF) + KAMA_CONST_MAX;
    sc *= sc;
    return ((x - prev) * sc) + prev;
}

static int kama_lookback(const double *opts) { return cb_ta_iopt(opts, 0); }

/* Screens the input in the same loops (integer operations beside the KAMA chain). */
static int kama_fused(size_t n, const double *const *in, const double *opts, double *const *out)
{
    const double *x = in[0];
    double *o = out[0];
    size_t p = (size_t)cb_ta_iopt(opts, 0);
    double sum = 0.0;
    uint64_t bad = cb_ta_nf(x[0]);
    for (size_t i = 0; i < p; i++) {
        bad |= cb_ta_nf(x[i + 1]);
        sum += fabs(x[i] - x[i + 1]);
    }
    double prev = kama_next(x[p - 1], x[p], x[p] - x[0], sum);
    o[p] = prev;
    for (size_t t = p + 1; t < n; t++) {
        bad |= cb_ta_nf(x[t]);
        sum -= fabs(x[t - p - 1] - x[t - p]);
        sum += fabs(x[t] - x[t - 1]);
        prev = kama_next(prev, x[t], x[t] - x[t - p], sum);
        o[t] = prev;
    }
    return (int)(bad >> 63);
}

typedef struct kama_state {
    double sum, prev;
    int64_t n, p;
    cb_ta_ring_t ring; /* the last period+1 inputs */
} kama_state_t;

static size_t kama_size(const double *opts)
{
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(kama_state_t));
    cb_ta_layout_add(&l, ((size_t)cb_ta_iopt(opts, 0) + 1) * sizeof(double));
    return l.off;
}

static void kama_init(void *st, const double *opts)
{
    kama_state_t *s = st;
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(kama_state_t));
    s->sum = s->prev = 0.0;
    s->n = 0;
    s->p = cb_ta_iopt(opts, 0);
    cb_ta_ring_place(&s->ring, &l, (size_t)s->p + 1);
}

static void kama_update(void *st, const double *in, double *out)
{
    kama_state_t *s = st;
    double x = in[0], dropped;
    size_t p = (size_t)s->p;
    if (s->n < s->p) {
        if (s->n > 0) /* fabs(a-b) == fabs(b-a): same sum as the batch's order */
            s->sum += fabs(cb_ta_ring_ago(&s->ring, st, 0) - x);
    } else if (s->n == s->p) {
        s->sum += fabs(cb_ta_ring_ago(&s->ring, st, 0) - x);
        s->prev = kama_next(cb_ta_ring_ago(&s->ring, st, 0), x, x - cb_ta_ring_get(&s->ring, st, 0),
                            s->sum);
    } else {
        double oldest = cb_ta_ring_get(&s->ring, st, 0), trailing = cb_ta_ring_get(&s->ring, st, 1);
        s->sum -= fabs(oldest - trailing);
        s->sum += fabs(x - cb_ta_ring_get(&s->ring, st, p));
        s->prev = kama_next(s->prev, x, x - trailing, s->sum);
    }
    cb_ta_ring_push(&s->ring, st, x, &dropped);
    s->n++;
    out[0] = s->prev;
}

CB_TA_DEFINE_FUSED(kama, .title = "Kaufman Adaptive Moving Average", .reference = "TA-Lib TA_KAMA",
             .n_inputs = 1, .inputs = {"real"},
             .n_opts = 1, .opts = {{"period", 30, 2, 100000, 1}},
             .n_outputs = 1, .outputs = {"kama"})
