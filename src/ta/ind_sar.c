/* Parabolic SAR (J. Welles Wilder, "New Concepts in Technical Trading Systems", 1978) exactly
 * as TA-Lib computes it. Inputs high, low; options acceleration (default 0.02) and maximum
 * (default 0.2), both 0..3e37; an acceleration above the maximum is lowered to it.
 * Lookback 1: the first bar only seeds the extreme point.
 *
 * TA-Lib's start, reproduced here: the initial direction comes from the one-bar -DM between
 * bars 0 and 1 (short when -DM > 0, i.e. the low fell by more than the high rose; long
 * otherwise, ties included); the first SAR is bar 0's low (long) or high (short) and the first
 * extreme point is bar 1's high (long) or low (short). On a reversal the SAR becomes the
 * previous extreme point, kept outside the last two bars' range. */
#include "ta/ta_more_int.h"

typedef struct sar_state {
    double accel, max;
    int64_t n;
    int is_long;
    double af, ep, sar;
    double new_high, new_low; /* the previous bar's high/low */
} sar_state_t;

static int sar_lookback(const double *opts)
{
    (void)opts;
    return 1;
}

static void sar_reset(sar_state_t *s, double accel, double max)
{
    if (accel > max)
        accel = max;
    s->accel = accel;
    s->max = max;
    s->n = 0;
    s->is_long = 1;
    s->af = accel;
    s->ep = s->sar = 0.0;
    s->new_high = s->new_low = 0.0;
}

/* One bar from bar 1 on (k >= 1 and the start done); inlined into the batch loop so that the
 * state lives in registers there. */
static inline __attribute__((always_inline)) double sar_core(sar_state_t *s, double high,
                                                              double low);

static double sar_step(sar_state_t *s, double high, double low)
{
    int64_t k = s->n++;
    if (k == 0) {
        s->new_high = high;
        s->new_low = low;
        return NAN;
    }
    if (k == 1) {
        double diff_p = high - s->new_high;
        double diff_m = s->new_low - low;
        double minus_dm = (diff_m > 0 && diff_p < diff_m) ? diff_m : 0.0;
        s->is_long = !(minus_dm > 0);
        if (s->is_long) {
            s->ep = high;
            s->sar = s->new_low;
        } else {
            s->ep = low;
            s->sar = s->new_high;
        }
        /* TA-Lib treats bar 1 as its own previous bar. */
        s->new_low = low;
        s->new_high = high;
    }
    return sar_core(s, high, low);
}

static inline __attribute__((always_inline)) double sar_core(sar_state_t *s, double high,
                                                              double low)
{
    double prev_low = s->new_low, prev_high = s->new_high;
    s->new_low = low;
    s->new_high = high;
    double out, sar = s->sar;
    if (s->is_long) {
        if (low <= sar) {
            s->is_long = 0;
            sar = s->ep;
            if (sar < prev_high)
                sar = prev_high;
            if (sar < high)
                sar = high;
            out = sar;
            s->af = s->accel;
            s->ep = low;
            sar = sar + s->af * (s->ep - sar);
            if (sar < prev_high)
                sar = prev_high;
            if (sar < high)
                sar = high;
        } else {
            out = sar;
            if (high > s->ep) {
                s->ep = high;
                s->af += s->accel;
                if (s->af > s->max)
                    s->af = s->max;
            }
            sar = sar + s->af * (s->ep - sar);
            if (sar > prev_low)
                sar = prev_low;
            if (sar > low)
                sar = low;
        }
    } else {
        if (high >= sar) {
            s->is_long = 1;
            sar = s->ep;
            if (sar > prev_low)
                sar = prev_low;
            if (sar > low)
                sar = low;
            out = sar;
            s->af = s->accel;
            s->ep = high;
            sar = sar + s->af * (s->ep - sar);
            if (sar > prev_low)
                sar = prev_low;
            if (sar > low)
                sar = low;
        } else {
            out = sar;
            if (low < s->ep) {
                s->ep = low;
                s->af += s->accel;
                if (s->af > s->max)
                    s->af = s->max;
            }
            sar = sar + s->af * (s->ep - sar);
            if (sar < prev_high)
                sar = prev_high;
            if (sar < high)
                sar = high;
        }
    }
    s->sar = sar;
    return out;
}

/* Screens both inputs in the same loop (no value becomes an index or a loop bound here, so
 * a NaN or an infinity only gives meaningless numbers, which the screened path replaces). */
static int sar_fused(size_t n, const double *const *in, const double *opts, double *const *out)
{
    sar_state_t s;
    sar_reset(&s, opts[0], opts[1]);
    const double *h = in[0], *l = in[1];
    uint64_t bad = 0;
    size_t i = 0;
    for (; i < n && i < 2; i++) {
        bad |= cb_ta_nf(h[i]) | cb_ta_nf(l[i]);
        out[0][i] = sar_step(&s, h[i], l[i]);
    }
    for (; i < n; i++) {
        bad |= cb_ta_nf(h[i]) | cb_ta_nf(l[i]);
        out[0][i] = sar_core(&s, h[i], l[i]);
    }
    return (int)(bad >> 63);
}

static size_t sar_size(const double *opts)
{
    (void)opts;
    return sizeof(sar_state_t);
}

static void sar_init(void *st, const double *opts)
{
    sar_reset(st, opts[0], opts[1]);
}

static void sar_update(void *st, const double *in, double *out)
{
    out[0] = sar_step(st, in[0], in[1]);
}

CB_TA_DEFINE_FUSED_SCALAR(sar, sar_state_t, .title = "Parabolic SAR", .reference = "TA-Lib TA_SAR (Wilder 1978)",
             .n_inputs = 2, .inputs = {"high", "low"}, .n_opts = 2,
             .opts = {{"acceleration", 0.02, 0, 3e37, 0}, {"maximum", 0.2, 0, 3e37, 0}},
             .n_outputs = 1, .outputs = {"sar"})
