/* RSI and CMO: Wilder-smoothed average gain and loss, TA-Lib's way (TA_RSI, TA_CMO with the
 * default "unstable period" 0 and no Metastock compatibility): the first averages are plain
 * means of the first `period` changes (bars 1..period); then avg = (avg*(period-1) + x)/period.
 * When avg gain + avg loss is zero (|.| < 1e-8, TA-Lib's TA_IS_ZERO: flat prices) the value is
 * 0, as in TA-Lib. */
#include "ta/ta_int.h"

typedef struct rsi_state {
    double period, period_1, prev, gain, loss; /* period_1: period - 1 */
    int64_t n, p;
} rsi_state_t;

static int rsi_lookback(const double *opts) { return cb_ta_iopt(opts, 0); }
#define cmo_lookback rsi_lookback
static size_t rsi_size(const double *opts)
{
    (void)opts;
    return sizeof(rsi_state_t);
}
#define cmo_size rsi_size
static void rsi_init(void *st, const double *opts)
{
    rsi_state_t *s = st;
    s->period = (double)cb_ta_iopt(opts, 0);
    s->period_1 = s->period - 1.0;
    s->p = cb_ta_iopt(opts, 0);
    s->prev = s->gain = s->loss = 0.0;
    s->n = 0;
}
#define cmo_init rsi_init

/* rsi_step's arithmetic with {gain, loss} in the two lanes of a vector (stream and batch), so
 * one multiply, add and division serve both averages, and the gain/loss choice made with lane
 * masks (rises and falls alternate at random: a branch mispredicts half the time). Adding the
 * other side's +0.0 changes nothing (gain and loss are never -0.0), and loss -= d is
 * loss + (-d). */
static inline cb_ta_v2d rsi_incr(double d)
{
    const cb_ta_v2d zero = {0.0, 0.0};
    const cb_ta_v2u flip = {~0ull, 0};
    cb_ta_v2d dd = {d, d}, inc = {d, -d};
    cb_ta_v2u m = (cb_ta_v2u)(dd < zero) ^ flip; /* {!(d < 0), d < 0} */
    return (cb_ta_v2d)(m & (cb_ta_v2u)inc);
}

/* One bar; cmo is a constant of each caller (RSI or CMO). */
static inline void rsi_step(rsi_state_t *s, double x, double *out, int cmo)
{
    if (s->n == 0) {
        s->prev = x;
        s->n = 1;
        return;
    }
    double d = x - s->prev;
    s->prev = x;
    cb_ta_v2d gl = {s->gain, s->loss};
    if (s->n <= s->p) {
        gl += rsi_incr(d);
        if (s->n++ < s->p) {
            s->gain = gl[0];
            s->loss = gl[1];
            return;
        }
        gl /= (cb_ta_v2d){s->period, s->period};
    } else {
        gl = (gl * (cb_ta_v2d){s->period_1, s->period_1} + rsi_incr(d)) /
             (cb_ta_v2d){s->period, s->period};
    }
    s->gain = gl[0];
    s->loss = gl[1];
    double t = s->gain + s->loss;
    if (CB_TA_IS_ZERO(t))
        *out = 0.0;
    else if (cmo)
        *out = 100.0 * ((s->gain - s->loss) / t);
    else
        *out = 100.0 * (s->gain / t);
}
static void rsi_update(void *st, const double *in, double *out) { rsi_step(st, in[0], out, 0); }
static void cmo_update(void *st, const double *in, double *out) { rsi_step(st, in[0], out, 1); }

/* Batch: the same steps, the input screened on the way. */
static int run_fused(size_t n, const double *x, const double *opts, double *o, int cmo)
{
    size_t p = (size_t)cb_ta_iopt(opts, 0);
    const double fp = (double)p;
    const cb_ta_v2d dp = {fp, fp}, dp1 = {fp - 1.0, fp - 1.0};
    cb_ta_v2d gl = {0.0, 0.0}; /* {gain, loss} */
    uint64_t bad = cb_ta_nf(x[0]);
    for (size_t i = 1; i <= p; i++) {
        bad |= cb_ta_nf(x[i]);
        gl += rsi_incr(x[i] - x[i - 1]);
    }
    gl /= dp;
    for (size_t i = p;;) {
        double t = gl[0] + gl[1];
        if (CB_TA_IS_ZERO(t))
            o[i] = 0.0;
        else if (cmo)
            o[i] = 100.0 * ((gl[0] - gl[1]) / t);
        else
            o[i] = 100.0 * (gl[0] / t);
        if (++i >= n)
            break;
        bad |= cb_ta_nf(x[i]);
        gl = (gl * dp1 + rsi_incr(x[i] - x[i - 1])) / dp;
    }
    return (int)(bad >> 63);
}
static int rsi_fused(size_t n, const double *const *in, const double *opts, double *const *out)
{
    return run_fused(n, in[0], opts, out[0], 0);
}
static int cmo_fused(size_t n, const double *const *in, const double *opts, double *const *out)
{
    return run_fused(n, in[0], opts, out[0], 1);
}

CB_TA_DEFINE_FUSED_SCALAR(rsi, rsi_state_t, .title = "Relative Strength Index", .reference = "TA-Lib TA_RSI (Wilder 1978)",
             .n_inputs = 1, .inputs = {"real"},
             .n_opts = 1, .opts = {{"period", 14, 2, 100000, 1}},
             .n_outputs = 1, .outputs = {"rsi"})

CB_TA_DEFINE_FUSED_SCALAR(cmo, rsi_state_t, .title = "Chande Momentum Oscillator", .reference = "TA-Lib TA_CMO",
             .n_inputs = 1, .inputs = {"real"},
             .n_opts = 1, .opts = {{"period", 14, 2, 100000, 1}},
             .n_outputs = 1, .outputs = {"cmo"})
