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
#include <math.h>
#include <stddef.h>

#include "ta/ta_more_int.h"

typedef struct sar_state {
    double accel, max;
    long n;
    int is_long;
    double af, ep, sar;
    double new_high, new_low; /* the previous bar's high/low */
} sar_state_t;

int cb_ta_sar_lookback(const double *opts)
{
    if (!tm_real_ok(opts[0], 0.0, 3e37) || !tm_real_ok(opts[1], 0.0, 3e37))
        return -1;
    return 1;
}

static void sar_init(sar_state_t *s, double accel, double max)
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

static double sar_step(sar_state_t *s, double high, double low)
{
    long k = s->n++;
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

static void sar_kernel(size_t m, const double *const *in, const double *opts,
                       double *const *out)
{
    sar_state_t s;
    sar_init(&s, opts[0], opts[1]);
    for (size_t i = 0; i < m; i++)
        out[0][i] = sar_step(&s, in[0][i], in[1][i]);
}

int cb_ta_sar(size_t n, const double *const *in, const double *opts, double *const *out)
{
    if (!in || !out || cb_ta_sar_lookback(opts) < 0)
        return CB_EINVAL;
    tm_run_segments(n, 2, in, 1, out, opts, sar_kernel);
    return 0;
}

size_t cb_ta_sar_stream_size(const double *opts)
{
    (void)opts;
    return sizeof(sar_state_t);
}

int cb_ta_sar_stream_init(void *state, const double *opts)
{
    if (cb_ta_sar_lookback(opts) < 0)
        return CB_EINVAL;
    sar_init(state, opts[0], opts[1]);
    return 0;
}

int cb_ta_sar_stream_update(void *state, const double *in, double *out)
{
    sar_state_t *s = state;
    if (tm_any_nan(in, 2)) {
        sar_init(s, s->accel, s->max);
        out[0] = NAN;
        return 0;
    }
    out[0] = sar_step(s, in[0], in[1]);
    return !isnan(out[0]);
}
