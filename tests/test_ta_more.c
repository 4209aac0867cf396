/* ta/: reference values for the indicators of ind_volatility.c, ind_directional.c,
 * ind_oscillators.c, ind_sar.c and ind_extra.c that the table-driven tests do not cover:
 * hand-computed values (TA-Lib's start and zero-range conventions, the extras' published
 * definitions), Tulip's and backtrader's vectors. Every value is checked in both forms.
 * (test_ta_talib.c checks the TA-Lib-generated series and test_ta_props.c the properties of
 * every table entry.) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/ta.h"
#include "testutil.h"

enum { IN_OPEN, IN_HIGH, IN_LOW, IN_CLOSE, IN_VOLUME, IN_TIME };

/* Which column feeds an input name of the table ("real" is close, as in `comeback ta`). */
static int input_col(const char *name)
{
    static const char *names[] = {"open", "high", "low", "close", "volume", "time"};
    for (int k = 0; k < 6; k++)
        if (strcmp(names[k], name) == 0)
            return k;
    return IN_CLOSE;
}

static const cb_ta_info_t *find_ind(const char *name)
{
    const cb_ta_info_t *d = cb_ta_find(name);
    if (!d)
        fail_msg("indicator %s is not in the table", name);
    return d;
}

/* ---- Running an indicator ------------------------------------------------------------- */

static double **alloc_outs(int n_out, size_t n)
{
    double **o = calloc((size_t)n_out, sizeof *o);
    for (int k = 0; k < n_out; k++)
        o[k] = malloc((n ? n : 1) * sizeof(double));
    return o;
}

static void free_outs(double **o, int n_out)
{
    for (int k = 0; k < n_out; k++)
        free(o[k]);
    free(o);
}

static double **run_batch(const cb_ta_info_t *d, const double *opts, double *const *cols,
                          size_t n)
{
    const double *in[CB_TA_MAX_INPUTS];
    for (int k = 0; k < d->n_inputs; k++)
        in[k] = cols[input_col(d->inputs[k])];
    double **o = alloc_outs(d->n_outputs, n);
    assert_int_equal(cb_ta_batch(d, n, in, opts, o), 0);
    return o;
}

static double **run_stream(const cb_ta_info_t *d, const double *opts, double *const *cols,
                           size_t n)
{
    double **o = alloc_outs(d->n_outputs, n);
    cb_ta_stream_t *st = cb_ta_stream_new(d, opts);
    assert_non_null(st);
    for (size_t i = 0; i < n; i++) {
        double in[CB_TA_MAX_INPUTS], out[CB_TA_MAX_OUTPUTS];
        for (int k = 0; k < d->n_inputs; k++)
            in[k] = cols[input_col(d->inputs[k])][i];
        cb_ta_stream_push(st, in, out);
        for (int k = 0; k < d->n_outputs; k++)
            o[k][i] = out[k];
    }
    cb_ta_stream_free(st);
    return o;
}

/* ---- Hand-computed values ------------------------------------------------------------- */

/* Runs batch and stream over the given columns and checks both against want (NaN = none). */
static void check_values(const char *name, const double *opts, double *const *cols, size_t n,
                         int out, const double *want)
{
    const cb_ta_info_t *d = find_ind(name);
    double **b = run_batch(d, opts, cols, n);
    double **s = run_stream(d, opts, cols, n);
    for (size_t i = 0; i < n; i++) {
        if (isnan(want[i])) {
            if (!isnan(b[out][i]) || !isnan(s[out][i]))
                fail_msg("%s bar %zu: want no value, got %.17g / %.17g", name, i, b[out][i],
                         s[out][i]);
            continue;
        }
        assert_close(b[out][i], want[i], 1e-12, 1e-12);
        assert_close(s[out][i], want[i], 1e-12, 1e-12);
    }
    free_outs(b, d->n_outputs);
    free_outs(s, d->n_outputs);
}

/* SAR's start (TA-Lib): bar 1's -DM is 0 (the high rose), so long; the first SAR is bar 0's
 * low, the first extreme point bar 1's high; a new high raises the acceleration to 0.04. */
static void test_sar_start(void **state)
{
    (void)state;
    double high[] = {10, 11, 12}, low[] = {9, 10, 11}, z[3] = {0};
    double *cols[6] = {z, high, low, z, z, z};
    double opts[4] = {0.02, 0.2};
    double want[] = {NAN, 9.0, 9.04};
    check_values("sar", opts, cols, 3, 0, want);
    /* the next SAR: 9.04 + 0.04 * (12 - 9.04) */
    double high4[] = {10, 11, 12, 12.5}, low4[] = {9, 10, 11, 11.5}, z4[4] = {0};
    double *cols4[6] = {z4, high4, low4, z4, z4, z4};
    double want4[] = {NAN, 9.0, 9.04, 9.04 + 0.04 * (12 - 9.04)};
    check_values("sar", opts, cols4, 4, 0, want4);
}

/* Zero ranges follow TA-Lib: WILLR, STOCH, CCI, ULTOSC, MFI give 0; AROON 100. */
static void test_flat_prices(void **state)
{
    (void)state;
    enum { N = 60 };
    double p[N], v[N];
    for (int i = 0; i < N; i++) {
        p[i] = 1234.5;
        v[i] = 3.0;
    }
    double *cols[6] = {p, p, p, p, v, p};
    static const struct {
        const char *name;
        double opts[4];
        int out;
        double value;
    } cases[] = {
        {"willr", {14}, 0, 0.0},      {"stoch", {14, 3, 3}, 0, 0.0}, {"stoch", {14, 3, 3}, 1, 0.0},
        {"cci", {20}, 0, 0.0},        {"ultosc", {7, 14, 28}, 0, 0.0}, {"mfi", {14}, 0, 0.0},
        {"aroon", {14}, 0, 100.0},    {"aroon", {14}, 1, 100.0},     {"adx", {14}, 0, 0.0},
        {"stochrsi", {14, 5, 3}, 0, 0.0}, {"sar", {0.02, 0.2}, 0, 1234.5},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const cb_ta_info_t *d = find_ind(cases[c].name);
        int lb = cb_ta_lookback(d, cases[c].opts);
        double want[N];
        for (int i = 0; i < N; i++)
            want[i] = i < lb ? NAN : cases[c].value;
        check_values(cases[c].name, cases[c].opts, cols, N, cases[c].out, want);
    }
}

/* PLUS_DI/MINUS_DI with period 1 return the one-bar ratio DM/TR without the factor 100, as
 * TA-Lib does. */
static void test_di_period_one(void **state)
{
    (void)state;
    double high[] = {10, 12, 11}, low[] = {9, 10, 8}, close[] = {9.5, 11, 9}, z[3] = {0};
    double *cols[6] = {z, high, low, close, z, z};
    double opts[4] = {1};
    /* bar 1: +DM = 2, -DM = 0 (low rose), TR = max(2, 2.5, 0.5) = 2.5 -> 0.8 */
    /* bar 2: +DM = 0 (high fell), -DM = 2, TR = max(3, 0, 3) = 3 -> 2/3 */
    double want_plus[] = {NAN, 0.8, 0.0}, want_minus[] = {NAN, 0.0, 2.0 / 3.0};
    check_values("plus_di", opts, cols, 3, 0, want_plus);
    check_values("minus_di", opts, cols, 3, 0, want_minus);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sar_start),
        cmocka_unit_test(test_flat_prices),
        cmocka_unit_test(test_di_period_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
