/* Volatility: TRANGE, ATR, NATR, exactly as TA-Lib computes them (J. Welles Wilder, "New
 * Concepts in Technical Trading Systems", 1978; NATR: John Forman, TASC May 2006).
 * Inputs high, low, close. Each indicator has a batch kernel and a streaming state built on
 * the same step functions (ta_more_int.h), so both agree bar for bar. */
#include <math.h>
#include <stddef.h>

#include "ta/ta_more_int.h"

/* ---- TRANGE: lookback 1 (the first bar has no previous close). --------------------------- */

int cb_ta_trange_lookback(const double *opts)
{
    (void)opts;
    return 1;
}

typedef struct trange_state {
    long n;
    double prev_close;
} trange_state_t;

static double trange_step(trange_state_t *s, double h, double l, double c)
{
    if (s->n++ == 0) {
        s->prev_close = c;
        return NAN;
    }
    double tr = tm_true_range(h, l, s->prev_close);
    s->prev_close = c;
    return tr;
}

static void trange_kernel(size_t m, const double *const *in, const double *opts,
                          double *const *out)
{
    (void)opts;
    trange_state_t s = {0, 0.0};
    for (size_t i = 0; i < m; i++)
        out[0][i] = trange_step(&s, in[0][i], in[1][i], in[2][i]);
}

int cb_ta_trange(size_t n, const double *const *in, const double *opts, double *const *out)
{
    if (!in || !out)
        return CB_EINVAL;
    tm_run_segments(n, 3, in, 1, out, opts, trange_kernel);
    return 0;
}

size_t cb_ta_trange_stream_size(const double *opts)
{
    (void)opts;
    return sizeof(trange_state_t);
}

int cb_ta_trange_stream_init(void *state, const double *opts)
{
    (void)opts;
    trange_state_t *s = state;
    s->n = 0;
    s->prev_close = 0.0;
    return 0;
}

int cb_ta_trange_stream_update(void *state, const double *in, double *out)
{
    trange_state_t *s = state;
    if (tm_any_nan(in, 3)) {
        cb_ta_trange_stream_init(s, NULL);
        out[0] = NAN;
        return 0;
    }
    out[0] = trange_step(s, in[0], in[1], in[2]);
    return !isnan(out[0]);
}

/* ---- ATR(period 1..100000, default 14): lookback = period. ------------------------------- */

int cb_ta_atr_lookback(const double *opts)
{
    if (!tm_int_ok(opts[0], 1, 100000))
        return -1;
    return tm_iopt(opts, 0);
}

static void atr_kernel(size_t m, const double *const *in, const double *opts,
                       double *const *out)
{
    tm_atr_t a;
    tm_atr_init(&a, tm_iopt(opts, 0));
    for (size_t i = 0; i < m; i++)
        out[0][i] = tm_atr_step(&a, in[0][i], in[1][i], in[2][i]);
}

int cb_ta_atr(size_t n, const double *const *in, const double *opts, double *const *out)
{
    if (!in || !out || cb_ta_atr_lookback(opts) < 0)
        return CB_EINVAL;
    tm_run_segments(n, 3, in, 1, out, opts, atr_kernel);
    return 0;
}

size_t cb_ta_atr_stream_size(const double *opts)
{
    (void)opts;
    return sizeof(tm_atr_t);
}

int cb_ta_atr_stream_init(void *state, const double *opts)
{
    if (cb_ta_atr_lookback(opts) < 0)
        return CB_EINVAL;
    tm_atr_init(state, tm_iopt(opts, 0));
    return 0;
}

int cb_ta_atr_stream_update(void *state, const double *in, double *out)
{
    tm_atr_t *a = state;
    if (tm_any_nan(in, 3)) {
        tm_atr_init(a, a->period);
        out[0] = NAN;
        return 0;
    }
    out[0] = tm_atr_step(a, in[0], in[1], in[2]);
    return !isnan(out[0]);
}

/* ---- NATR(period 1..100000, default 14) = ATR / close * 100; 0 when |close| < 1e-8 (TA-Lib).
 * Lookback = period. ----------------------------------------------------------------------- */

int cb_ta_natr_lookback(const double *opts)
{
    return cb_ta_atr_lookback(opts);
}

static double natr_of(double atr, double close)
{
    if (isnan(atr))
        return NAN;
    return tm_is_zero(close) ? 0.0 : (atr / close) * 100.0;
}

static void natr_kernel(size_t m, const double *const *in, const double *opts,
                        double *const *out)
{
    tm_atr_t a;
    tm_atr_init(&a, tm_iopt(opts, 0));
    for (size_t i = 0; i < m; i++)
        out[0][i] = natr_of(tm_atr_step(&a, in[0][i], in[1][i], in[2][i]), in[2][i]);
}

int cb_ta_natr(size_t n, const double *const *in, const double *opts, double *const *out)
{
    if (!in || !out || cb_ta_natr_lookback(opts) < 0)
        return CB_EINVAL;
    tm_run_segments(n, 3, in, 1, out, opts, natr_kernel);
    return 0;
}

size_t cb_ta_natr_stream_size(const double *opts)
{
    (void)opts;
    return sizeof(tm_atr_t);
}

int cb_ta_natr_stream_init(void *state, const double *opts)
{
    return cb_ta_atr_stream_init(state, opts);
}

int cb_ta_natr_stream_update(void *state, const double *in, double *out)
{
    tm_atr_t *a = state;
    if (tm_any_nan(in, 3)) {
        tm_atr_init(a, a->period);
        out[0] = NAN;
        return 0;
    }
    out[0] = natr_of(tm_atr_step(a, in[0], in[1], in[2]), in[2]);
    return !isnan(out[0]);
}
