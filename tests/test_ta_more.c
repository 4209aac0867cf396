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

#include <jansson.h>

#include "comeback/data.h"
#include "comeback/rules.h"
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

/* ---- The extras: hand-computed values ------------------------------------------------- */

/* Eight hourly bars from 2022-01-01 22:00 UTC (so a UTC day starts at bar 2), with a bar
 * without volume. Expected values were worked out from each published definition directly
 * (plain sums over each window, no running state); the comment above each says how. */
static double X_O[] = {10, 10.5, 11.5, 12, 11.8, 11, 10.2, 10.8};
static double X_H[] = {11, 12, 12.5, 13, 12, 11.5, 11, 12};
static double X_L[] = {9, 10, 11, 11.5, 10.5, 10, 9.5, 10.6};
static double X_C[] = {10.5, 11.5, 12, 11.8, 11, 10.2, 10.8, 11.9};
static double X_V[] = {100, 150, 0, 200, 120, 80, 90, 110};
static double X_T[] = {1641074400000.0, 1641078000000.0, 1641081600000.0, 1641085200000.0,
                       1641088800000.0, 1641092400000.0, 1641096000000.0, 1641099600000.0};
#define XN 8

static void test_extras_hand(void **state)
{
    (void)state;
    double *cols[6] = {X_O, X_H, X_L, X_C, X_V, X_T};
    /* vwap:3 = sum(tp*v)/sum(v) over 3 bars, tp = (h+l+c)/3 */
    double vwap3[] = {NAN, NAN, 10.766666666666666, 11.7, 11.75, 11.513333333333332, 10.773563218390803, 10.890476190476189};
    check_values("vwap", (double[4]){3}, cols, XN, 0, vwap3);
    /* vwap_session: the same from the first bar of the UTC day (reset at bar 2) */
    double sess[] = {10.166666666666666, 10.766666666666666, 11.833333333333334, 12.1, 11.75, 11.513333333333332, 11.314965986394558, 11.348888888888888};
    check_values("vwap_session", (double[4]){0}, cols, XN, 0, sess);
    /* zscore:4 = (close - mean) / pstdev over 4 closes */
    double z4[] = {NAN, NAN, NAN, 0.6069769786668863, -1.5265636166799332, -1.4739110533215527, -0.2621112169983087, 1.5168521141279576};
    check_values("zscore", (double[4]){4}, cols, XN, 0, z4);
    /* donchian:3 = highest high, midpoint, lowest low of 3 bars */
    double du[] = {NAN, NAN, 12.5, 13, 13, 13, 12, 12}, dm[] = {NAN, NAN, 10.75, 11.5, 11.75, 11.5, 10.75, 10.75}, dl[] = {NAN, NAN, 9, 10, 10.5, 10, 9.5, 9.5};
    check_values("donchian", (double[4]){3}, cols, XN, 0, du);
    check_values("donchian", (double[4]){3}, cols, XN, 1, dm);
    check_values("donchian", (double[4]){3}, cols, XN, 2, dl);
    /* keltner:3:2:2 = EMA(close,3) seeded with the SMA of 3 closes +- 2*ATR(2), the ATR's
     * seed being the mean of the true ranges of bars 1 and 2, then Wilder's smoothing */
    double ku[] = {NAN, NAN, 14.833333333333334, 14.816666666666666, 14.408333333333333, 13.804166666666667, 13.802083333333334, 14.251041666666667}, km[] = {NAN, NAN, 11.333333333333334, 11.566666666666666, 11.283333333333333, 10.741666666666667, 10.770833333333334, 11.335416666666667}, kl[] = {NAN, NAN, 7.833333333333334, 8.316666666666666, 8.158333333333333, 7.679166666666667, 7.739583333333334, 8.419791666666667};
    check_values("keltner", (double[4]){3, 2, 2}, cols, XN, 0, ku);
    check_values("keltner", (double[4]){3, 2, 2}, cols, XN, 1, km);
    check_values("keltner", (double[4]){3, 2, 2}, cols, XN, 2, kl);
    /* supertrend:2:0.5 by TradingView's rules (starts down, turns up on the last bar) */
    double sv[] = {NAN, NAN, 12.625, 12.625, 12.03125, 11.515625, 11.0078125, 10.571093750000001}, sd[] = {NAN, NAN, -1.0, -1.0, -1.0, -1.0, -1.0, 1.0};
    check_values("supertrend", (double[4]){2, 0.5}, cols, XN, 0, sv);
    check_values("supertrend", (double[4]){2, 0.5}, cols, XN, 1, sd);
    /* heikinashi: close (o+h+l+c)/4, open (prev open + prev close)/2 from (o0+c0)/2 */
    double ho[] = {10.25, 10.1875, 10.59375, 11.171875, 11.6234375, 11.474218749999999, 11.074609375, 10.7248046875}, hh[] = {11, 12, 12.5, 13, 12, 11.5, 11.074609375, 12}, hl[] = {9, 10, 10.59375, 11.171875, 10.5, 10, 9.5, 10.6}, hc[] = {10.125, 11.0, 11.75, 12.075, 11.325, 10.675, 10.375, 11.325};
    check_values("heikinashi", (double[4]){0}, cols, XN, 0, ho);
    check_values("heikinashi", (double[4]){0}, cols, XN, 1, hh);
    check_values("heikinashi", (double[4]){0}, cols, XN, 2, hl);
    check_values("heikinashi", (double[4]){0}, cols, XN, 3, hc);
}

/* VWAP without any volume in the window is the plain mean of the typical prices; the
 * z-score of flat prices is 0. */
static void test_extras_degenerate(void **state)
{
    (void)state;
    double z[XN] = {0};
    double *cols[6] = {X_O, X_H, X_L, X_C, z, X_T};
    double want[XN];
    for (int i = 0; i < XN; i++) {
        double sum = 0;
        for (int k = i - 2; k <= i; k++)
            if (k >= 0)
                sum += (X_H[k] + X_L[k] + X_C[k]) / 3;
        want[i] = i < 2 ? NAN : sum / 3;
    }
    check_values("vwap", (double[4]){3}, cols, XN, 0, want);
    double flat[XN] = {7, 7, 7, 7, 7, 7, 7, 7};
    double *fcols[6] = {flat, flat, flat, flat, X_V, X_T};
    double zwant[XN] = {NAN, NAN, NAN, 0, 0, 0, 0, 0};
    check_values("zscore", (double[4]){4}, fcols, XN, 0, zwant);
}

/* ---- Independent implementations: Tulip's and backtrader's vectors ------------------- */

static json_t *load_json(const char *rel)
{
    char path[1024];
    if (!tu_shared_path(rel, path, sizeof path))
        return NULL;
    json_error_t err;
    json_t *j = json_load_file(path, 0, &err);
    if (!j)
        fail_msg("%s: %s", path, err.text);
    return j;
}

/* Tulip's vectors for indicator `tulip` (real input), compared with our `ours` (options
 * from the case via make_opts; output `out` multiplied by `scale`) on every output bar, with
 * Tulip's own absolute tolerance 0.001 (outputs are aligned to the end of the input). */
typedef void (*tulip_opts_fn)(const json_t *case_opts, double opts[4]);

static int tulip_check(const char *tulip, const char *ours, tulip_opts_fn make_opts, int out,
                       double scale)
{
    json_t *root = load_json("tulipindicators/tulip_tests.json");
    if (!root)
        return -1;
    json_t *tests = json_object_get(root, "tests");
    const char *file;
    json_t *list;
    int checked = 0;
    json_object_foreach(tests, file, list)
    {
        size_t i;
        json_t *c;
        json_array_foreach(list, i, c)
        {
            json_t *name = json_object_get(c, "indicator");
            if (!json_is_string(name) || strcmp(json_string_value(name), tulip) != 0)
                continue;
            json_t *in = json_object_get(json_object_get(c, "inputs"), "0:real");
            json_t *outs = json_object_get(c, "outputs");
            json_t *want = json_object_iter_value(json_object_iter(outs));
            size_t n = json_array_size(in), m = json_array_size(want);
            double *x = malloc(n * sizeof *x);
            for (size_t k = 0; k < n; k++)
                x[k] = json_number_value(json_array_get(in, k));
            double *cols[6] = {x, x, x, x, x, x};
            double opts[4] = {0, 0, 0, 0};
            make_opts(json_object_get(c, "options"), opts);
            const cb_ta_info_t *d = find_ind(ours);
            assert_int_equal(cb_ta_lookback(d, opts), (int)(n - m));
            double **b = run_batch(d, opts, cols, n);
            double **s = run_stream(d, opts, cols, n);
            for (size_t k = 0; k < m; k++) {
                double w = json_number_value(json_array_get(want, k));
                assert_close(b[out][n - m + k] * scale, w, 0, 0.001);
                assert_close(s[out][n - m + k] * scale, w, 0, 0.001);
            }
            free_outs(b, d->n_outputs);
            free_outs(s, d->n_outputs);
            free(x);
            checked++;
            print_message("Tulip %s (%s) %s: %zu values agree\n", tulip, file, ours, m);
        }
    }
    json_decref(root);
    return checked;
}

static void period_opt(const json_t *o, double opts[4])
{
    opts[0] = json_number_value(json_array_get(o, 0));
}

/* Tulip's stochrsi(p) is TA-Lib's STOCHRSI(p, p, 1) fast %K scaled to 0..1. */
static void stochrsi_opts(const json_t *o, double opts[4])
{
    opts[0] = opts[1] = json_number_value(json_array_get(o, 0));
    opts[2] = 1;
}

static void test_tulip(void **state)
{
    (void)state;
    int hma = tulip_check("hma", "hma", period_opt, 0, 1.0);
    if (hma < 0) {
        SKIP_NO_SHARED();
        return;
    }
    assert_true(hma > 0);
    assert_true(tulip_check("stochrsi", "stochrsi", stochrsi_opts, 0, 0.01) > 0);
}

/* backtrader's GENERATED series over BTC/USDT daily candles (1,881 bars, '%.6f'): HMA(30),
 * HeikinAshi, Ichimoku(9, 26, 52, lead 26). Each value agrees to the printed precision. */
typedef struct bt_case {
    const char *test, *line, *ind;
    double opts[4];
    int out;
    size_t first; /* first bar to compare */
} bt_case_t;

static const bt_case_t BT_CASES[] = {
    {"test_ind_hma", "hma", "hma", {30}, 0, 33},
    {"test_ind_heikinashi", "ha_open", "heikinashi", {0}, 0, 0},
    {"test_ind_heikinashi", "ha_high", "heikinashi", {0}, 1, 1},
    {"test_ind_heikinashi", "ha_low", "heikinashi", {0}, 2, 1},
    {"test_ind_heikinashi", "ha_close", "heikinashi", {0}, 3, 0},
    {"test_ind_ichimoku", "tenkan_sen", "ichimoku", {9, 26, 52, 26}, 0, 77},
    {"test_ind_ichimoku", "kijun_sen", "ichimoku", {9, 26, 52, 26}, 1, 77},
    {"test_ind_ichimoku", "senkou_span_a", "ichimoku", {9, 26, 52, 26}, 2, 77},
    {"test_ind_ichimoku", "senkou_span_b", "ichimoku", {9, 26, 52, 26}, 3, 77},
};

static void test_backtrader_btc_1d(void **state)
{
    (void)state;
    char path[1024];
    json_t *root = load_json("backtrader/backtrader_generated_BTCUSDT_1d_indicator_series.json");
    if (!root || !tu_shared_path("ohlcv/binance_spot_BTCUSDT_1d_2017-08-17_2022-10-10.csv", path,
                                 sizeof path)) {
        json_decref(root);
        SKIP_NO_SHARED();
        return;
    }
    cb_series_t *ser = NULL;
    cb_read_opts_t ro;
    memset(&ro, 0, sizeof ro);
    cb_diag_t diag;
    assert_int_equal(cb_series_read_file(path, &ro, &ser, NULL, &diag), 0);
    size_t n = ser->n;
    double *cols[6] = {ser->open, ser->high, ser->low, ser->close, ser->volume, NULL};
    json_t *inds = json_object_get(root, "indicators");
    for (size_t c = 0; c < sizeof BT_CASES / sizeof BT_CASES[0]; c++) {
        const bt_case_t *bc = &BT_CASES[c];
        json_t *line = json_object_get(json_object_get(json_object_get(inds, bc->test), "lines"),
                                       bc->line);
        assert_int_equal(json_array_size(line), n);
        const cb_ta_info_t *d = find_ind(bc->ind);
        double **b = run_batch(d, bc->opts, cols, n);
        double **s = run_stream(d, bc->opts, cols, n);
        size_t compared = 0;
        for (size_t i = bc->first; i < n; i++) {
            json_t *v = json_array_get(line, i);
            if (!json_is_string(v))
                fail_msg("%s.%s bar %zu: backtrader has no value", bc->test, bc->line, i);
            double w = strtod(json_string_value(v), NULL);
            /* '%.6f' text: half a unit of the 6th decimal, plus the double's own rounding */
            assert_close(b[bc->out][i], w, 1e-12, 5.1e-7);
            assert_close(s[bc->out][i], w, 1e-12, 5.1e-7);
            compared++;
        }
        print_message("backtrader %s.%s: %zu bars agree\n", bc->test, bc->line, compared);
        free_outs(b, d->n_outputs);
        free_outs(s, d->n_outputs);
    }
    cb_series_free(ser);
    json_decref(root);
}

/* TA-Lib's values for the indicators the shared TA-Lib series lacks, generated by TA-Lib's
 * C code (talib-web, scripts/talib_web_more.cjs) over the first 600 BTC/USDT hours:
 * tests/fixtures/ta/talib_more_btcusdt_1h_600.csv. Same rule as test_ta_talib.c: 1e-9
 * relative (absolute near zero) on every bar, empty cells exactly our NaN prefix. */
static void test_talib_web_fixture(void **state)
{
    (void)state;
    char path[1024], fix[1024];
    if (!tu_shared_path("ohlcv/binance_spot_BTCUSDT_1h_2017-08-17_2022-10-11.csv", path,
                        sizeof path)) {
        SKIP_NO_SHARED();
        return;
    }
    cb_series_t *ser = NULL;
    cb_read_opts_t ro;
    memset(&ro, 0, sizeof ro);
    cb_diag_t diag;
    assert_int_equal(cb_series_read_file(path, &ro, &ser, NULL, &diag), 0);
    size_t len;
    char *text = tu_read_file(tu_fixture_path("ta/talib_more_btcusdt_1h_600.csv", fix,
                                              sizeof fix), &len);
    assert_non_null(text);
    enum { ROWS = 600, MAXC = 8 };
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    char *names[MAXC];
    int nc = 0;
    for (char *p = line, *end; p && nc < MAXC; p = end ? end + 1 : NULL) {
        end = strchr(p, ',');
        if (end)
            *end = 0;
        names[nc++] = p;
    }
    static double want[MAXC][ROWS];
    size_t rows = 0;
    while ((line = strtok_r(NULL, "\n", &save)) != NULL && rows < ROWS) {
        char *p = line;
        for (int c = 0; c < nc; c++) {
            char *end = strchr(p, ',');
            if (end)
                *end = 0;
            want[c][rows] = *p ? strtod(p, NULL) : NAN;
            p = end ? end + 1 : p + strlen(p);
        }
        rows++;
    }
    assert_int_equal(rows, ROWS);
    double *cols[6] = {ser->open, ser->high, ser->low, ser->close, ser->volume, NULL};
    for (int c = 1; c < nc; c++) {
        char spec[64];
        snprintf(spec, sizeof spec, "%s", names[c]);
        char *dot = strchr(spec, '.');
        const char *outname = NULL;
        if (dot) {
            *dot = 0;
            outname = dot + 1;
        }
        const cb_ta_info_t *d;
        double opts[CB_TA_MAX_OPTS];
        assert_int_equal(cb_ta_parse_spec(spec, &d, opts, &diag), 0);
        int out = 0;
        for (int k = 0; k < d->n_outputs && outname; k++)
            if (strcmp(d->outputs[k], outname) == 0)
                out = k;
        double **b = run_batch(d, opts, cols, ROWS);
        double **s = run_stream(d, opts, cols, ROWS);
        for (size_t i = 0; i < ROWS; i++) {
            double w = want[c][i];
            if (isnan(w)) {
                if (!isnan(b[out][i]) || !isnan(s[out][i]))
                    fail_msg("%s bar %zu: TA-Lib has no value, we have %.17g", names[c], i,
                             b[out][i]);
                continue;
            }
            assert_close(b[out][i], w, 1e-9, 1e-9);
            assert_close(s[out][i], w, 1e-9, 1e-9);
        }
        print_message("TA-Lib (talib-web) %s: %d bars agree\n", names[c], ROWS);
        free_outs(b, d->n_outputs);
        free_outs(s, d->n_outputs);
    }
    free(text);
    cb_series_free(ser);
}

/* The rules language feeds vwap_session the bar's open time: with the session fixture (a UTC
 * day starts at bar 2) the session VWAP is 10.17, 10.77, 11.83, 12.1, so `vwap_session() >
 * 11.8` holds from bar 2 on; had a price column been used as the time, no reset would happen
 * and bar 2 would be 10.77. Checked bar by bar (instance) and in the column fast path. */
static void test_rules_vwap_session(void **state)
{
    (void)state;
    static const char text[] = "[strategy]\ntimeframe = 1h\nentry = vwap_session() > 11.8\n";
    cb_rules_file_t *f = NULL;
    cb_diags_t diags = {0};
    assert_int_equal(cb_rules_file_parse("t.ini", text, strlen(text), NULL, &f, &diags), 0);
    cb_rules_program_t *p = NULL;
    assert_int_equal(cb_rules_compile(f, NULL, &p, &diags), 0);
    cb_rules_instance_t *inst = NULL;
    cb_diag_t d;
    assert_int_equal(cb_rules_instance_new(p, 0, &inst, &d), 0);
    static const int want[4] = {0, 0, 1, 1};
    int64_t t[4];
    for (int i = 0; i < 4; i++) {
        t[i] = (int64_t)X_T[i];
        int en, ex;
        assert_int_equal(cb_rules_instance_step(inst, t[i], X_O[i], X_H[i], X_L[i], X_C[i],
                                                X_V[i], NULL, &en, &ex),
                         0);
        assert_int_equal(en, want[i]);
    }
    cb_bar_view_t bars = {4, t, X_O, X_H, X_L, X_C, X_V};
    uint8_t entry[4], exit_[4];
    assert_int_equal(cb_rules_program_signals(p, &bars, 0, entry, exit_, &d), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(entry[i], want[i]);
    cb_rules_instance_free(inst);
    cb_rules_program_free(p);
    cb_rules_file_free(f);
    cb_diags_free(&diags);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sar_start),
        cmocka_unit_test(test_flat_prices),
        cmocka_unit_test(test_di_period_one),
        cmocka_unit_test(test_extras_hand),
        cmocka_unit_test(test_extras_degenerate),
        cmocka_unit_test(test_tulip),
        cmocka_unit_test(test_talib_web_fixture),
        cmocka_unit_test(test_rules_vwap_session),
        cmocka_unit_test(test_backtrader_btc_1d),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
