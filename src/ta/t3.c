/* T3: Tillson's triple generalised DEMA, TA-Lib's TA_T3 exactly: six chained EMAs with
 * e = k*x + (1-k)*e (k = 2/(period+1)), each seeded with the mean of its first `period` inputs
 * (the previous EMA's values as they are produced), and
 * t3 = c1*e6 + c2*e5 + c3*e4 + c4*e3 with a = vfactor, c1 = -a^3, c2 = 3(a^2 - c1),
 * c3 = -6a^2 - 3(a - c1), c4 = 1 + 3a - c1 + 3a^2. First value at bar 6*(period-1). */
#include "ta/ta_int.h"

typedef struct t3_state {
    double k, omk, period, acc, e[6], c1, c2, c3, c4;
    int64_t p;
    int64_t stage;  /* EMAs seeded so far (0..6) */
    int64_t count;  /* inputs into the EMA being seeded */
} t3_state_t;

static int t3_lookback(const double *opts) { return 6 * (cb_ta_iopt(opts, 0) - 1); }
static size_t t3_size(const double *opts)
{
    (void)opts;
    return sizeof(t3_state_t);
}
static void t3_init(void *st, const double *opts)
{
    t3_state_t *s = st;
    memset(s, 0, sizeof *s);
    s->p = cb_ta_iopt(opts, 0);
    s->period = (double)s->p;
    s->k = 2.0 / (s->period + 1.0);
    s->omk = 1.0 - s->k;
    double a = opts[1], a2 = a * a;
    s->c1 = -(a2 * a);
    s->c2 = 3.0 * (a2 - s->c1);
    s->c3 = -6.0 * a2 - 3.0 * (a - s->c1);
    s->c4 = 1.0 + 3.0 * a - s->c1 + 3.0 * a2;
}

static inline void t3_step(t3_state_t *s, double x, double *out)
{
    if (s->stage == 6) {
        double *e = s->e, k = s->k, omk = s->omk;
        e[0] = (k * x) + (omk * e[0]);
        e[1] = (k * e[0]) + (omk * e[1]);
        e[2] = (k * e[1]) + (omk * e[2]);
        e[3] = (k * e[2]) + (omk * e[3]);
        e[4] = (k * e[3]) + (omk * e[4]);
        e[5] = (k * e[4]) + (omk * e[5]);
        *out = s->c1 * e[5] + s->c2 * e[4] + s->c3 * e[3] + s->c4 * e[2];
        return;
    }
    if (s->stage == 0) {
        s->acc = s->count ? s->acc + x : x;
        if (++s->count < s->p)
            return;
    } else {
        /* update the seeded EMAs, accumulate the newest for the next seed */
        double *e = s->e;
        e[0] = (s->k * x) + (s->omk * e[0]);
        for (int j = 1; j < s->stage; j++)
            e[j] = (s->k * e[j - 1]) + (s->omk * e[j]);
        s->acc += e[s->stage - 1];
        if (++s->count < s->p - 1)
            return;
    }
    /* seed this stage; with period 1 the following stages seed at once */
    for (;;) {
        s->e[s->stage] = s->acc / s->period;
        s->acc = s->e[s->stage];
        s->stage++;
        s->count = 0;
        if (s->stage == 6 || s->p > 1)
            break;
    }
    if (s->stage == 6)
        *out = s->c1 * s->e[5] + s->c2 * s->e[4] + s->c3 * s->e[3] + s->c4 * s->e[2];
}

static void t3_update(void *st, const double *in, double *out) { t3_step(st, in[0], out); }

/* Batch: the same operations as t3_step in the same order, with the seeding phases as plain
 * loops and the six EMAs in registers afterwards. */
/* Screens the input in the same loops. */
static int t3_fused(size_t n, const double *const *in, const double *opts, double *const *out)
{
    const double *x = in[0];
    double *o = out[0];
    t3_state_t s;
    t3_init(&s, opts);
    size_t lb = (size_t)t3_lookback(opts), i = 0;
    double v = NAN;
    /* warm-up through the state machine (6*(period-1)+1 bars) */
    uint64_t bad = 0;
    for (; i <= lb && i < n; i++) {
        bad |= cb_ta_nf(x[i]);
        t3_step(&s, x[i], &v);
    }
    if (lb < n)
        o[lb] = v;
    double k = s.k, omk = s.omk, c1 = s.c1, c2 = s.c2, c3 = s.c3, c4 = s.c4;
    double e1 = s.e[0], e2 = s.e[1], e3 = s.e[2], e4 = s.e[3], e5 = s.e[4], e6 = s.e[5];
    for (; i < n; i++) {
        bad |= cb_ta_nf(x[i]);
        e1 = (k * x[i]) + (omk * e1);
        e2 = (k * e1) + (omk * e2);
        e3 = (k * e2) + (omk * e3);
        e4 = (k * e3) + (omk * e4);
        e5 = (k * e4) + (omk * e5);
        e6 = (k * e5) + (omk * e6);
        o[i] = c1 * e6 + c2 * e5 + c3 * e4 + c4 * e3;
    }
    return (int)(bad >> 63);
}

CB_TA_DEFINE_FUSED_SCALAR(t3, t3_state_t, .title = "Triple Exponential Moving Average (T3)",
             .reference = "TA-Lib TA_T3 (Tillson, TASC 1998)",
             .n_inputs = 1, .inputs = {"real"},
             .n_opts = 2, .opts = {{"period", 5, 1, 100000, 1}, {"vfactor", 0.7, 0, 1, 0}},
             .n_outputs = 1, .outputs = {"t3"})
