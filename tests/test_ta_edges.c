/* Hand-computed values and the documented edge conventions (docs/indicators.md): flat prices,
 * division by zero, a NaN bar restarting the indicator. Small inputs, worked by hand. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "comeback/ta.h"
#include "testutil.h"

#define N 64

/* Runs spec over the given columns (real/close = a, volume or real1 = b) in both forms and
 * checks they agree; returns output `oi` in res. */
static void run(const char *spec, const double *a, const double *b, size_t n, int oi,
                double *res)
{
    const cb_ta_info_t *info;
    double opts[CB_TA_MAX_OPTS];
    cb_diag_t d;
    if (cb_ta_parse_spec(spec, &info, opts, &d) != 0)
        fail_msg("%s: %s", spec, d.msg);
    double o[CB_TA_MAX_OUTPUTS][N];
    double *out[CB_TA_MAX_OUTPUTS];
    const double *in[CB_TA_MAX_INPUTS];
    for (int k = 0; k < CB_TA_MAX_OUTPUTS; k++)
        out[k] = o[k];
    for (int k = 0; k < info->n_inputs; k++)
        in[k] = (!strcmp(info->inputs[k], "volume") || !strcmp(info->inputs[k], "real1")) ? b : a;
    assert_int_equal(cb_ta_batch(info, n, in, opts, out), 0);
    cb_ta_stream_t *s = cb_ta_stream_new(info, opts);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++) {
        double bar[CB_TA_MAX_INPUTS], so[CB_TA_MAX_OUTPUTS];
        for (int k = 0; k < info->n_inputs; k++)
            bar[k] = in[k][i];
        cb_ta_stream_push(s, bar, so);
        if (!(so[oi] == o[oi][i] || (isnan(so[oi]) && isnan(o[oi][i]))))
            fail_msg("%s bar %zu: stream %.17g batch %.17g", spec, i, so[oi], o[oi][i]);
    }
    cb_ta_stream_free(s);
    memcpy(res, o[oi], n * sizeof(double));
}

static void expect(const char *spec, const double *got, const double *want, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (isnan(want[i])) {
            if (!isnan(got[i]))
                fail_msg("%s bar %zu: want NaN, got %.17g", spec, i, got[i]);
        } else if (!(fabs(got[i] - want[i]) <= 1e-12 * fmax(1.0, fabs(want[i])))) {
            fail_msg("%s bar %zu: want %.17g, got %.17g", spec, i, want[i], got[i]);
        }
    }
}

static void test_hand_computed(void **state)
{
    (void)state;
    double r[N];
    const double x[] = {1, 2, 3, 4, 5};
    run("sma:3", x, x, 5, 0, r);
    expect("sma:3", r, (double[]){NAN, NAN, 2, 3, 4}, 5);
    run("ema:3", x, x, 5, 0, r); /* seed (1+2+3)/3, then k = 0.5 */
    expect("ema:3", r, (double[]){NAN, NAN, 2, 3, 4}, 5);
    run("wma:3", x, x, 4, 0, r);
    expect("wma:3", r, (double[]){NAN, NAN, 14.0 / 6, 20.0 / 6}, 4);
    run("trima:4", x, x, 5, 0, r); /* weights 1 2 2 1 */
    expect("trima:4", r, (double[]){NAN, NAN, NAN, 15.0 / 6, 21.0 / 6}, 5);
    const double y[] = {10, 11, 12, 0, 5, 6};
    run("mom:2", y, y, 6, 0, r);
    expect("mom:2", r, (double[]){NAN, NAN, 2, -11, -7, 6}, 6);
    run("roc:2", y, y, 6, 0, r); /* prev 0 -> 0 (TA-Lib) */
    expect("roc:2", r, (double[]){NAN, NAN, 20, (0 / 11.0 - 1) * 100, (5 / 12.0 - 1) * 100, 0}, 6);
    run("max:3", y, y, 6, 0, r);
    expect("max:3", r, (double[]){NAN, NAN, 12, 12, 12, 6}, 6);
    run("min:3", y, y, 6, 0, r);
    expect("min:3", r, (double[]){NAN, NAN, 10, 0, 0, 0}, 6);
    const double c[] = {1, 2, 2, 1}, v[] = {10, 20, 30, 40};
    run("obv", c, v, 4, 0, r);
    expect("obv", r, (double[]){10, 30, 30, -10}, 4);
    /* a straight line is its own regression */
    double line[12];
    for (int i = 0; i < 12; i++)
        line[i] = 3.0 + 0.5 * i;
    run("linearreg:5", line, line, 12, 0, r);
    for (int i = 4; i < 12; i++)
        assert_close(r[i], line[i], 1e-12, 1e-12);
    /* rising closes: RSI and CMO 100 */
    double up[20];
    for (int i = 0; i < 20; i++)
        up[i] = 100.0 + i;
    run("rsi:14", up, up, 20, 0, r);
    assert_true(r[14] == 100.0 && r[19] == 100.0);
    run("cmo:14", up, up, 20, 0, r);
    assert_true(r[14] == 100.0);
    /* stddev of 2,4,4,4,5,5,7,9 (population) = 2 */
    const double sd[] = {2, 4, 4, 4, 5, 5, 7, 9};
    run("stddev:8", sd, sd, 8, 0, r);
    assert_close(r[7], 2.0, 1e-12, 0);
    run("var:8", sd, sd, 8, 0, r);
    assert_close(r[7], 4.0, 1e-12, 0);
    run("bbands:8:2", sd, sd, 8, 0, r);
    assert_close(r[7], 5.0 + 4.0, 1e-12, 0);
}

/* Flat prices: the documented values, never NaN. */
static void test_flat_conventions(void **state)
{
    (void)state;
    double f[N], vol[N], r[N];
    for (int i = 0; i < N; i++) {
        f[i] = 42.5;
        vol[i] = 3.0;
    }
    static const struct {
        const char *spec;
        int out;
        double want;
    } cases[] = {
        {"rsi:14", 0, 0},          {"cmo:14", 0, 0},       {"stddev:10", 0, 0},
        {"bbands:10:2", 0, 42.5},  {"bbands:10:2", 2, 42.5}, {"macd:3:6:2", 0, 0},
        {"macd:3:6:2", 2, 0},      {"trix:5", 0, 0},       {"mom:5", 0, 0},
        {"roc:5", 0, 0},           {"correl:10", 0, 0},    {"beta:5", 0, 0},
        {"kama:10", 0, 42.5},      {"t3:3", 0, 42.5},      {"ema:10", 0, 42.5},
        {"dema:5", 0, 42.5},       {"tema:5", 0, 42.5},    {"wma:10", 0, 42.5},
        {"trima:10", 0, 42.5},     {"linearreg:10", 0, 42.5}, {"max:10", 0, 42.5},
        {"obv", 0, 3.0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        run(cases[k].spec, f, vol, N, cases[k].out, r);
        if (!(fabs(r[N - 1] - cases[k].want) <= 1e-9))
            fail_msg("flat %s: want %g, got %.17g", cases[k].spec, cases[k].want, r[N - 1]);
    }
    /* var of flat prices: TA-Lib's E[x^2]-E[x]^2 may round to a tiny number, never NaN */
    run("var:10", f, vol, N, 0, r);
    assert_true(fabs(r[N - 1]) < 1e-9);
}

/* A NaN bar: NaN there, then the indicator restarts (ema:2 re-seeds from the next bars). */
static void test_nan_restart_example(void **state)
{
    (void)state;
    const double x[] = {1, 2, NAN, 4, 6, 8};
    double r[N];
    run("ema:2", x, x, 6, 0, r);
    expect("ema:2", r, (double[]){NAN, 1.5, NAN, NAN, 5, 5 + (8 - 5) * (2.0 / 3)}, 6);
    const double inf[] = {1, 2, INFINITY, 4, 6, 8};
    run("sma:2", inf, inf, 6, 0, r);
    expect("sma:2", r, (double[]){NAN, 1.5, NAN, NAN, 5, 7}, 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_computed),
        cmocka_unit_test(test_flat_conventions),
        cmocka_unit_test(test_nan_restart_example),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
