/* Volatility: TRANGE, ATR, NATR, exactly as TA-Lib computes them (J. Welles Wilder, "New
 * Concepts in Technical Trading Systems", 1978; NATR: John Forman, TASC May 2006).
 * Inputs high, low, close. Batch and streaming run the same step functions. */
#include "ta/ta_more_int.h"

#define HLC_INPUTS .n_inputs = 3, .inputs = {"high", "low", "close"}

/* ---- TRANGE: lookback 1 (the first bar has no previous close). --------------------------- */

typedef struct trange_state {
    int64_t n;
    double prev_close;
} trange_state_t;

static int trange_lookback(const double *opts)
{
    (void)opts;
    return 1;
}

static double trange_step(trange_state_t *s, double h, double l, double c)
{
    double tr = s->n++ ? tm_true_range(h, l, s->prev_close) : NAN;
    s->prev_close = c;
    return tr;
}

/* Two bars at a time, screening the inputs on the way: bar i reads high[i], low[i] and
 * close[i-1], so all but high[0], low[0] and close[n-1] are screened in the loop. */
static int trange_fused(size_t n, const double *const *in, const double *opts,
                        double *const *out)
{
    (void)opts;
    const double *h = in[0], *l = in[1], *c = in[2];
    double *o = out[0];
    cb_ta_v2u bad = {0, 0};
    size_t i = 1;
    for (; i + 2 <= n; i += 2) {
        cb_ta_v2d vh = cb_ta_v2d_load(h + i), vl = cb_ta_v2d_load(l + i);
        cb_ta_v2d vc = cb_ta_v2d_load(c + i - 1);
        bad |= cb_ta_v2_nf(vh) | cb_ta_v2_nf(vl) | cb_ta_v2_nf(vc);
        cb_ta_v2d_store(o + i, tm_true_range_v2(vh, vl, vc));
    }
    uint64_t b = bad[0] | bad[1] | cb_ta_nf(h[0]) | cb_ta_nf(l[0]) | cb_ta_nf(c[n - 1]);
    for (; i < n; i++) {
        b |= cb_ta_nf(h[i]) | cb_ta_nf(l[i]) | cb_ta_nf(c[i - 1]);
        o[i] = tm_true_range(h[i], l[i], c[i - 1]);
    }
    return (int)(b >> 63);
}

static size_t trange_size(const double *opts)
{
    (void)opts;
    return sizeof(trange_state_t);
}

static void trange_init(void *st, const double *opts)
{
    (void)opts;
    memset(st, 0, sizeof(trange_state_t));
}

static void trange_update(void *st, const double *in, double *out)
{
    out[0] = trange_step(st, in[0], in[1], in[2]);
}

CB_TA_DEFINE_FUSED_SCALAR(trange, trange_state_t, .title = "True Range", .reference = "TA-Lib TA_TRANGE (Wilder 1978)",
             HLC_INPUTS, .n_opts = 0, .n_outputs = 1, .outputs = {"trange"})

/* ---- ATR(period 1..100000, default 14): lookback = period. ------------------------------- */

static int atr_lookback(const double *opts)
{
    return cb_ta_iopt(opts, 0);
}

/* ATR (natr=0) or NATR over the bars, screening the inputs in the same loop. */
static int atr_run(size_t n, const double *const *in, const double *opts, double *o, int natr);

static int atr_fused(size_t n, const double *const *in, const double *opts, double *const *out)
{
    return atr_run(n, in, opts, out[0], 0);
}

static size_t atr_size(const double *opts)
{
    (void)opts;
    return sizeof(tm_atr_t);
}

static void atr_init(void *st, const double *opts)
{
    tm_atr_init(st, cb_ta_iopt(opts, 0));
}

static void atr_update(void *st, const double *in, double *out)
{
    out[0] = tm_atr_step(st, in[0], in[1], in[2]);
}

CB_TA_DEFINE_FUSED_SCALAR(atr, tm_atr_t, .title = "Average True Range", .reference = "TA-Lib TA_ATR (Wilder 1978)",
             HLC_INPUTS, .n_opts = 1, .opts = {{"period", 14, 1, 100000, 1}},
             .n_outputs = 1, .outputs = {"atr"})

/* ---- NATR(period 1..100000, default 14) = ATR / close * 100; 0 when |close| < 1e-8 (TA-Lib).
 * Lookback = period. ----------------------------------------------------------------------- */

static int natr_lookback(const double *opts)
{
    return cb_ta_iopt(opts, 0);
}

static double natr_of(double atr, double close)
{
    return CB_TA_IS_ZERO(close) ? 0.0 : (atr / close) * 100.0;
}

static int atr_run(size_t n, const double *const *in, const double *opts, double *o, int natr)
{
    tm_atr_t a;
    tm_atr_init(&a, cb_ta_iopt(opts, 0));
    uint64_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        double h = in[0][i], l = in[1][i], c = in[2][i];
        bad |= cb_ta_nf(h) | cb_ta_nf(l) | cb_ta_nf(c);
        double v = tm_atr_step(&a, h, l, c);
        o[i] = natr ? natr_of(v, c) : v;
    }
    return (int)(bad >> 63);
}

static int natr_fused(size_t n, const double *const *in, const double *opts,
                      double *const *out)
{
    return atr_run(n, in, opts, out[0], 1);
}

static size_t natr_size(const double *opts)
{
    (void)opts;
    return sizeof(tm_atr_t);
}

static void natr_init(void *st, const double *opts)
{
    tm_atr_init(st, cb_ta_iopt(opts, 0));
}

static void natr_update(void *st, const double *in, double *out)
{
    out[0] = natr_of(tm_atr_step(st, in[0], in[1], in[2]), in[2]);
}

CB_TA_DEFINE_FUSED_SCALAR(natr, tm_atr_t, .title = "Normalized Average True Range",
             .reference = "TA-Lib TA_NATR (Forman, TASC May 2006)", HLC_INPUTS, .n_opts = 1,
             .opts = {{"period", 14, 1, 100000, 1}}, .n_outputs = 1, .outputs = {"natr"})
