/* MOM, ROC and OBV.
 * MOM = x[t] - x[t-period] (TA-Lib TA_MOM).
 * ROC = ((x[t] / x[t-period]) - 1) * 100, and 0 when x[t-period] == 0 (TA-Lib TA_ROC).
 * OBV: running sum of volume, added on an up close, subtracted on a down close, unchanged on an
 * equal close; starts at the first bar's volume (TA-Lib TA_OBV). */
#include "ta/ta_int.h"

static inline double roc_of(double x, double prev)
{
    return prev != 0.0 ? ((x / prev) - 1.0) * 100.0 : 0.0;
}

typedef struct lag_state {
    cb_ta_ring_t ring; /* the last period+1 inputs */
} lag_state_t;

static int lag_lookback(const double *opts) { return cb_ta_iopt(opts, 0); }
static size_t lag_size(const double *opts)
{
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(lag_state_t));
    cb_ta_layout_add(&l, ((size_t)cb_ta_iopt(opts, 0) + 1) * sizeof(double));
    return l.off;
}
static void lag_init(void *st, const double *opts)
{
    lag_state_t *s = st;
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(lag_state_t));
    cb_ta_ring_place(&s->ring, &l, (size_t)cb_ta_iopt(opts, 0) + 1);
}
/* Pushes x; returns 1 with *old = x[t-period] once the window is full. */
static inline int lag_push(void *st, double x, double *old)
{
    lag_state_t *s = st;
    double dropped;
    cb_ta_ring_push(&s->ring, st, x, &dropped);
    if (s->ring.n < s->ring.cap)
        return 0;
    *old = cb_ta_ring_get(&s->ring, st, 0);
    return 1;
}

#define mom_lookback lag_lookback
#define mom_size lag_size
#define mom_init lag_init
static void mom_update(void *st, const double *in, double *out)
{
    double old;
    if (lag_push(st, in[0], &old))
        out[0] = in[0] - old;
}
/* Two bars at a time, screening x on the way: every x[i] with i >= p is the newer operand
 * once; the first p values are screened apart. */
static int mom_fused(size_t n, const double *const *in, const double *opts, double *const *out)
{
    size_t p = (size_t)cb_ta_iopt(opts, 0), i = p;
    const double *x = in[0];
    double *o = out[0];
    cb_ta_v2u bad = {0, 0};
    for (; i + 2 <= n; i += 2) {
        cb_ta_v2d a = cb_ta_v2d_load(x + i);
        bad |= cb_ta_v2_nf(a);
        cb_ta_v2d_store(o + i, a - cb_ta_v2d_load(x + i - p));
    }
    int b = cb_ta_v2_bad(bad);
    for (; i < n; i++) {
        b |= (int)(cb_ta_nf(x[i]) >> 63);
        o[i] = x[i] - x[i - p];
    }
    return b || cb_ta_any_nonfinite_(x, p);
}


#define roc_lookback lag_lookback
#define roc_size lag_size
#define roc_init lag_init
static void roc_update(void *st, const double *in, double *out)
{
    double old;
    if (lag_push(st, in[0], &old))
        out[0] = roc_of(in[0], old);
}
static int roc_fused(size_t n, const double *const *in, const double *opts, double *const *out)
{
    size_t p = (size_t)cb_ta_iopt(opts, 0);
    const double *x = in[0];
    uint64_t bad = 0;
    for (size_t i = p; i < n; i++) {
        bad |= cb_ta_nf(x[i]);
        out[0][i] = roc_of(x[i], x[i - p]);
    }
    return (int)(bad >> 63) || cb_ta_any_nonfinite_(x, p);
}

CB_TA_DEFINE_FUSED(mom, .title = "Momentum", .reference = "TA-Lib TA_MOM",
             .n_inputs = 1, .inputs = {"real"},
             .n_opts = 1, .opts = {{"period", 10, 1, 100000, 1}},
             .n_outputs = 1, .outputs = {"mom"})

CB_TA_DEFINE_FUSED(roc, .title = "Rate of change: ((price/prevPrice)-1)*100",
             .reference = "TA-Lib TA_ROC",
             .n_inputs = 1, .inputs = {"real"},
             .n_opts = 1, .opts = {{"period", 10, 1, 100000, 1}},
             .n_outputs = 1, .outputs = {"roc"})

/* ---- OBV -------------------------------------------------------------------------------- */

typedef struct obv_state {
    double obv, prev;
    int started;
} obv_state_t;

static int obv_lookback(const double *opts)
{
    (void)opts;
    return 0;
}
static size_t obv_size(const double *opts)
{
    (void)opts;
    return sizeof(obv_state_t);
}
static void obv_init(void *st, const double *opts)
{
    (void)opts;
    obv_state_t *s = st;
    s->obv = s->prev = 0.0;
    s->started = 0;
}
static inline double obv_step(obv_state_t *s, double close, double volume)
{
    if (!s->started) {
        s->started = 1;
        s->obv = volume;
    } else if (close > s->prev) {
        s->obv += volume;
    } else if (close < s->prev) {
        s->obv -= volume;
    }
    s->prev = close;
    return s->obv;
}
static void obv_update(void *st, const double *in, double *out) { out[0] = obv_step(st, in[0], in[1]); }
/* obv_step's arithmetic with selects instead of branches (up and down closes alternate at
 * random), screening both inputs on the way. */
static int obv_fused(size_t n, const double *const *in, const double *opts, double *const *out)
{
    (void)opts;
    const double *c = in[0], *v = in[1];
    double *o = out[0];
    cb_ta_v2d obv = {v[0], v[0]}, prev = {c[0], c[0]}; /* both lanes the same */
    uint64_t bad = cb_ta_nf(c[0]) | cb_ta_nf(v[0]);
    o[0] = v[0];
    for (size_t i = 1; i < n; i++) {
        cb_ta_v2d close = {c[i], c[i]}, vol = {v[i], v[i]};
        bad |= cb_ta_nf(c[i]) | cb_ta_nf(v[i]);
        cb_ta_v2d down = cb_ta_v2_sel((cb_ta_v2u)(close < prev), obv - vol, obv);
        obv = cb_ta_v2_sel((cb_ta_v2u)(close > prev), obv + vol, down);
        prev = close;
        o[i] = obv[0];
    }
    return (int)(bad >> 63);
}

CB_TA_DEFINE_FUSED_SCALAR(obv, obv_state_t, .title = "On Balance Volume", .reference = "TA-Lib TA_OBV (Granville 1963)",
             .n_inputs = 2, .inputs = {"close", "volume"},
             .n_opts = 0,
             .n_outputs = 1, .outputs = {"obv"})
