/* EMA-based indicators: DEMA, TEMA, TRIX, MACD. Each EMA is TA-Lib's (cb_ta_sema_t: seeded
 * with the SMA of its own first `period` inputs), chained exactly as TA-Lib chains them. These
 * states are small and fixed-size, so batch runs the same step function over the array: one
 * definition of the maths for both forms. */
#include "ta/ta_int.h"

/* ---- DEMA = 2*EMA - EMA(EMA)   (TA-Lib TA_DEMA) ---------------------------------------- */

typedef struct dema_state {
    cb_ta_sema_t e1, e2;
} dema_state_t;

static int dema_lookback(const double *opts) { return 2 * (cb_ta_iopt(opts, 0) - 1); }
static size_t dema_size(const double *opts)
{
    (void)opts;
    return sizeof(dema_state_t);
}
static void dema_init(void *st, const double *opts)
{
    dema_state_t *s = st;
    cb_ta_sema_init(&s->e1, cb_ta_iopt(opts, 0));
    cb_ta_sema_init(&s->e2, cb_ta_iopt(opts, 0));
}
static inline void dema_step(dema_state_t *s, double x, double *out)
{
    if (cb_ta_sema_push(&s->e1, x) && cb_ta_sema_push(&s->e2, s->e1.value))
        *out = (2.0 * s->e1.value) - s->e2.value;
}
static void dema_update(void *st, const double *in, double *out) { dema_step(st, in[0], out); }
static void dema_batch(size_t n, const double *const *in, const double *opts,
                       double *const *out)
{
    dema_state_t s;
    double v = NAN;
    size_t lb = (size_t)dema_lookback(opts);
    dema_init(&s, opts);
    for (size_t i = 0; i < n; i++) {
        dema_step(&s, in[0][i], &v);
        if (i >= lb)
            out[0][i] = v;
    }
}

CB_TA_DEFINE_SCALAR(dema, dema_state_t, .title = "Double Exponential Moving Average", .reference = "TA-Lib TA_DEMA",
             .n_inputs = 1, .inputs = {"real"},
             .n_opts = 1, .opts = {{"period", 30, 2, 100000, 1}},
             .n_outputs = 1, .outputs = {"dema"})

/* ---- TEMA = EMA3 + (3*EMA1 - 3*EMA2)   (TA-Lib TA_TEMA) -------------------------------- */

typedef struct tema_state {
    cb_ta_sema_t e1, e2, e3;
} tema_state_t;

static int tema_lookback(const double *opts) { return 3 * (cb_ta_iopt(opts, 0) - 1); }
static size_t tema_size(const double *opts)
{
    (void)opts;
    return sizeof(tema_state_t);
}
static void tema_init(void *st, const double *opts)
{
    tema_state_t *s = st;
    cb_ta_sema_init(&s->e1, cb_ta_iopt(opts, 0));
    cb_ta_sema_init(&s->e2, cb_ta_iopt(opts, 0));
    cb_ta_sema_init(&s->e3, cb_ta_iopt(opts, 0));
}
static inline void tema_step(tema_state_t *s, double x, double *out)
{
    if (cb_ta_sema_push(&s->e1, x) && cb_ta_sema_push(&s->e2, s->e1.value) &&
        cb_ta_sema_push(&s->e3, s->e2.value))
        *out = s->e3.value + ((3.0 * s->e1.value) - (3.0 * s->e2.value));
}
static void tema_update(void *st, const double *in, double *out) { tema_step(st, in[0], out); }
static void tema_batch(size_t n, const double *const *in, const double *opts,
                       double *const *out)
{
    tema_state_t s;
    double v = NAN;
    size_t lb = (size_t)tema_lookback(opts);
    tema_init(&s, opts);
    for (size_t i = 0; i < n; i++) {
        tema_step(&s, in[0][i], &v);
        if (i >= lb)
            out[0][i] = v;
    }
}

CB_TA_DEFINE_SCALAR(tema, tema_state_t, .title = "Triple Exponential Moving Average", .reference = "TA-Lib TA_TEMA",
             .n_inputs = 1, .inputs = {"real"},
             .n_opts = 1, .opts = {{"period", 30, 2, 100000, 1}},
             .n_outputs = 1, .outputs = {"tema"})

/* ---- TRIX = 1-bar ROC of EMA(EMA(EMA(x)))   (TA-Lib TA_TRIX) -------------------------- */

typedef struct trix_state {
    cb_ta_sema_t e1, e2, e3;
    double prev;
    int have_prev;
} trix_state_t;

static int trix_lookback(const double *opts) { return 3 * (cb_ta_iopt(opts, 0) - 1) + 1; }
static size_t trix_size(const double *opts)
{
    (void)opts;
    return sizeof(trix_state_t);
}
static void trix_init(void *st, const double *opts)
{
    trix_state_t *s = st;
    cb_ta_sema_init(&s->e1, cb_ta_iopt(opts, 0));
    cb_ta_sema_init(&s->e2, cb_ta_iopt(opts, 0));
    cb_ta_sema_init(&s->e3, cb_ta_iopt(opts, 0));
    s->prev = 0.0;
    s->have_prev = 0;
}
static inline void trix_step(trix_state_t *s, double x, double *out)
{
    if (cb_ta_sema_push(&s->e1, x) && cb_ta_sema_push(&s->e2, s->e1.value) &&
        cb_ta_sema_push(&s->e3, s->e2.value)) {
        double v = s->e3.value;
        if (s->have_prev)
            *out = s->prev != 0.0 ? ((v / s->prev) - 1.0) * 100.0 : 0.0; /* TA_ROC */
        s->prev = v;
        s->have_prev = 1;
    }
}
static void trix_update(void *st, const double *in, double *out) { trix_step(st, in[0], out); }
static void trix_batch(size_t n, const double *const *in, const double *opts,
                       double *const *out)
{
    trix_state_t s;
    double v = NAN;
    size_t lb = (size_t)trix_lookback(opts);
    trix_init(&s, opts);
    for (size_t i = 0; i < n; i++) {
        trix_step(&s, in[0][i], &v);
        if (i >= lb)
            out[0][i] = v;
    }
}

CB_TA_DEFINE_SCALAR(trix, trix_state_t, .title = "1-bar Rate-Of-Change (ROC) of a Triple Smooth EMA",
             .reference = "TA-Lib TA_TRIX",
             .n_inputs = 1, .inputs = {"real"},
             .n_opts = 1, .opts = {{"period", 30, 1, 100000, 1}},
             .n_outputs = 1, .outputs = {"trix"})

/* ---- MACD   (TA-Lib TA_MACD) ------------------------------------------------------------
 * macd = EMA(fast) - EMA(slow); signal = EMA(signal) of macd; hist = macd - signal. As in
 * TA-Lib both EMAs start at bar slow-1: the fast EMA is seeded with the SMA of the `fast` bars
 * ending there (bars slow-fast .. slow-1), not from bar 0. If slow < fast they are swapped. */

typedef struct macd_state {
    cb_ta_sema_t fast, slow, sig;
    int64_t bar, fast_from;
} macd_state_t;

static void macd_periods(const double *opts, int *fast, int *slow, int *sig)
{
    *fast = cb_ta_iopt(opts, 0);
    *slow = cb_ta_iopt(opts, 1);
    *sig = cb_ta_iopt(opts, 2);
    if (*slow < *fast) {
        int t = *slow;
        *slow = *fast;
        *fast = t;
    }
}
static int macd_lookback(const double *opts)
{
    int f, s, g;
    macd_periods(opts, &f, &s, &g);
    return (s - 1) + (g - 1);
}
static size_t macd_size(const double *opts)
{
    (void)opts;
    return sizeof(macd_state_t);
}
static void macd_init(void *st, const double *opts)
{
    macd_state_t *s = st;
    int f, sl, g;
    macd_periods(opts, &f, &sl, &g);
    cb_ta_sema_init(&s->fast, f);
    cb_ta_sema_init(&s->slow, sl);
    cb_ta_sema_init(&s->sig, g);
    s->bar = 0;
    s->fast_from = sl - f;
}
static inline void macd_step(macd_state_t *s, double x, double *out)
{
    int have_slow = cb_ta_sema_push(&s->slow, x);
    if (s->bar++ >= s->fast_from)
        cb_ta_sema_push(&s->fast, x);
    if (have_slow) {
        double m = s->fast.value - s->slow.value;
        if (cb_ta_sema_push(&s->sig, m)) {
            out[0] = m;
            out[1] = s->sig.value;
            out[2] = m - s->sig.value;
        }
    }
}
static void macd_update(void *st, const double *in, double *out) { macd_step(st, in[0], out); }
static void macd_batch(size_t n, const double *const *in, const double *opts,
                       double *const *out)
{
    macd_state_t s;
    double v[3] = {NAN, NAN, NAN};
    size_t lb = (size_t)macd_lookback(opts);
    macd_init(&s, opts);
    for (size_t i = 0; i < n; i++) {
        macd_step(&s, in[0][i], v);
        if (i >= lb) {
            out[0][i] = v[0];
            out[1][i] = v[1];
            out[2][i] = v[2];
        }
    }
}

CB_TA_DEFINE_SCALAR(macd, macd_state_t, .title = "Moving Average Convergence/Divergence",
             .reference = "TA-Lib TA_MACD",
             .n_inputs = 1, .inputs = {"real"},
             .n_opts = 3,
             .opts = {{"fast", 12, 2, 100000, 1}, {"slow", 26, 2, 100000, 1},
                      {"signal", 9, 1, 100000, 1}},
             .n_outputs = 3, .outputs = {"macd", "signal", "hist"})
