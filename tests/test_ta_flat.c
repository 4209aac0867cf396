/* Flat stretches: a window of identical values must give the indicator's exact value for a
 * constant window, whatever came before (issue 14, "a crossing decided by rounding noise").
 * - every finite-window indicator of the table (the recursive ones, whose value on a flat
 *   stretch still depends on the history, are listed below and skipped): after noisy history
 *   at four awkward price levels (0.1, 27123.45, 1e-7, 1e9), every output on the flat part
 *   equals, bit for bit, its output on a series that is constant from the start; averages
 *   equal the price and dispersions are 0; batch, cb_ta_stream_run, cb_ta_stream_run_pair and
 *   single updates agree;
 * - the rules language: crossover/crossunder(close, sma(close, N)) never fire on a flat
 *   stretch, bar by bar and column-wise;
 * - the real case: Binance BTC/USDT 5m, the zero-volume maintenance of 2023-03-24, where
 *   sma(close, 15) of 15 closes of 28080.0 must be 28080.0 and crossover(close, sma(close, 15))
 *   must not fire (it did, on a residue of 4e-11). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/rules.h"
#include "comeback/ta.h"
#include "testutil.h"

/* Indicators whose value on a flat stretch depends on the history for ever (exponential or
 * Wilder smoothing, cumulative sums, recursions): a flat window does not determine them. */
static const char *const recursive[] = {
    "ema",  "dema",   "tema",     "kama",    "t3",        "rsi",        "macd",     "cmo",
    "trix", "obv",    "atr",      "natr",    "plus_di",   "minus_di",   "adx",      "adxr",
    "sar",  "stochrsi", "supertrend", "keltner", "heikinashi", "vwap_session"};

static int is_recursive(const char *name)
{
    for (size_t i = 0; i < sizeof recursive / sizeof recursive[0]; i++)
        if (!strcmp(recursive[i], name))
            return 1;
    return 0;
}

typedef struct cols {
    size_t n;
    double *o, *h, *l, *c, *v, *other, *t;
} cols_t;

static void cols_alloc(cols_t *c, size_t n)
{
    c->n = n;
    double **p[] = {&c->o, &c->h, &c->l, &c->c, &c->v, &c->other, &c->t};
    for (size_t k = 0; k < sizeof p / sizeof p[0]; k++) {
        *p[k] = calloc(n, sizeof(double));
        assert_non_null(*p[k]);
    }
    for (size_t i = 0; i < n; i++)
        c->t[i] = 1704067200000.0 + 3600000.0 * (double)i;
}

static void cols_free(cols_t *c)
{
    free(c->o);
    free(c->h);
    free(c->l);
    free(c->c);
    free(c->v);
    free(c->other);
    free(c->t);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static double urand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

/* `noisy` bars of a random walk around `level` (OHLC relations kept, volume varying), then
 * `flat` bars with open = high = low = close = level and volume 0 or 3 (a maintenance stretch
 * and a quiet market); the second input (beta, correl) goes flat at level/2. */
static void make_series(cols_t *c, size_t noisy, size_t flat, double level)
{
    cols_alloc(c, noisy + flat);
    double p = level;
    for (size_t i = 0; i < noisy; i++) {
        double o = p;
        p *= exp((urand() - 0.5) * 0.04);
        c->o[i] = o;
        c->c[i] = p;
        c->h[i] = fmax(o, p) * (1.0 + 0.01 * urand());
        c->l[i] = fmin(o, p) * (1.0 - 0.01 * urand());
        c->v[i] = 1000.0 * urand();
        c->other[i] = level * 0.5 * (1.0 + 0.05 * (urand() - 0.5));
    }
    for (size_t i = noisy; i < noisy + flat; i++) {
        c->o[i] = c->h[i] = c->l[i] = c->c[i] = level;
        c->v[i] = (i / 50) % 2 ? 3.0 : 0.0;
        c->other[i] = level * 0.5;
    }
}

static const double *input_of(const cols_t *c, const char *name)
{
    if (!strcmp(name, "real") || !strcmp(name, "real0") || !strcmp(name, "close"))
        return c->c;
    if (!strcmp(name, "real1"))
        return c->other;
    if (!strcmp(name, "open"))
        return c->o;
    if (!strcmp(name, "high"))
        return c->h;
    if (!strcmp(name, "low"))
        return c->l;
    if (!strcmp(name, "volume"))
        return c->v;
    if (!strcmp(name, "time"))
        return c->t;
    fail_msg("unknown input %s", name);
    return NULL;
}

/* Batch outputs of info over c (caller frees out[k]). */
static void batch(const cb_ta_info_t *info, const double *opts, const cols_t *c,
                  double **out)
{
    const double *in[CB_TA_MAX_INPUTS];
    for (int k = 0; k < info->n_inputs; k++)
        in[k] = input_of(c, info->inputs[k]);
    for (int k = 0; k < info->n_outputs; k++)
        out[k] = malloc(c->n * sizeof(double));
    assert_int_equal(cb_ta_batch(info, c->n, in, opts, out), 0);
}

/* The same through the streaming state: chunks of 7 bars with cb_ta_stream_run, and single
 * updates, each compared bit for bit with the batch. */
static void check_streams(const cb_ta_info_t *info, const double *opts, const cols_t *c,
                          double *const *want)
{
    size_t size = cb_ta_stream_size(info, opts);
    void *st = aligned_alloc(16, (size + 15) & ~(size_t)15);
    double *got[CB_TA_MAX_OUTPUTS];
    for (int k = 0; k < info->n_outputs; k++)
        got[k] = malloc(c->n * sizeof(double));
    assert_int_equal(cb_ta_stream_init(info, st, opts), 0);
    for (size_t i = 0; i < c->n; i += 7) {
        size_t m = c->n - i < 7 ? c->n - i : 7;
        const double *in[CB_TA_MAX_INPUTS];
        double *out[CB_TA_MAX_OUTPUTS];
        for (int k = 0; k < info->n_inputs; k++)
            in[k] = input_of(c, info->inputs[k]) + i;
        for (int k = 0; k < info->n_outputs; k++)
            out[k] = got[k] + i;
        cb_ta_stream_run(info, st, m, in, out);
    }
    for (int k = 0; k < info->n_outputs; k++)
        for (size_t i = 0; i < c->n; i++)
            if (memcmp(&got[k][i], &want[k][i], sizeof(double)) != 0)
                fail_msg("%s.%s bar %zu: stream_run %.17g, batch %.17g", info->name,
                         info->outputs[k], i, got[k][i], want[k][i]);
    assert_int_equal(cb_ta_stream_init(info, st, opts), 0);
    for (size_t i = 0; i < c->n; i++) {
        double bar[CB_TA_MAX_INPUTS], o[CB_TA_MAX_OUTPUTS];
        for (int k = 0; k < info->n_inputs; k++)
            bar[k] = input_of(c, info->inputs[k])[i];
        cb_ta_stream_update(info, st, bar, o);
        for (int k = 0; k < info->n_outputs; k++)
            if (memcmp(&o[k], &want[k][i], sizeof(double)) != 0)
                fail_msg("%s.%s bar %zu: update %.17g, batch %.17g", info->name,
                         info->outputs[k], i, o[k], want[k][i]);
    }
    if (info->n_inputs == 1 && info->n_outputs == 1) { /* two streams side by side */
        void *st2 = aligned_alloc(16, (size + 15) & ~(size_t)15);
        double *got2 = malloc(c->n * sizeof(double));
        assert_int_equal(cb_ta_stream_init(info, st, opts), 0);
        assert_int_equal(cb_ta_stream_init(info, st2, opts), 0);
        const double *col = input_of(c, info->inputs[0]);
        for (size_t i = 0; i < c->n; i += 7) {
            size_t m = c->n - i < 7 ? c->n - i : 7;
            assert_int_equal(cb_ta_stream_run_pair(info, st, st2, m, col + i, got[0] + i,
                                                   got2 + i),
                             0);
        }
        for (size_t i = 0; i < c->n; i++)
            if (memcmp(&got[0][i], &want[0][i], sizeof(double)) != 0 ||
                memcmp(&got2[i], &want[0][i], sizeof(double)) != 0)
                fail_msg("%s bar %zu: stream_run_pair %.17g / %.17g, batch %.17g", info->name, i,
                         got[0][i], got2[i], want[0][i]);
        free(got2);
        free(st2);
    }
    for (int k = 0; k < info->n_outputs; k++)
        free(got[k]);
    free(st);
}

/* The exact value expected on a flat window for the outputs whose value is known: -1 unknown
 * (compared with the constant series only), 0 for "the price", 1 for "zero". */
static int known_flat_value(const char *name, const char *output)
{
    static const char *const level[] = {"sma", "wma", "trima", "linearreg", "hma", "vwap",
                                        "max", "min", "bbands", "donchian", "ichimoku"};
    static const char *const zero[] = {"var",  "stddev", "zscore", "cci",   "correl", "beta",
                                       "mom",  "trange", "mfi",    "willr", "stoch",  "ultosc"};
    for (size_t i = 0; i < sizeof level / sizeof level[0]; i++)
        if (!strcmp(level[i], name))
            return 0;
    for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++)
        if (!strcmp(zero[i], name))
            return 1;
    (void)output;
    return -1;
}

static void check_indicator_at(const cb_ta_info_t *info, const double *opts, double level)
{
    size_t lb = (size_t)cb_ta_lookback(info, opts), flat_n = 3 * lb + 200, noisy = 700;
    cols_t c, k;
    make_series(&c, noisy, flat_n, level);
    make_series(&k, 0, flat_n, level); /* constant from the start */
    double *got[CB_TA_MAX_OUTPUTS], *ref[CB_TA_MAX_OUTPUTS];
    batch(info, opts, &c, got);
    batch(info, opts, &k, ref);
    int kind = known_flat_value(info->name, "");
    /* bar noisy + j depends only on flat bars once j >= lookback */
    for (size_t j = lb; j < flat_n; j++) {
        for (int o = 0; o < info->n_outputs; o++) {
            double g = got[o][noisy + j], r = ref[o][j];
            if (memcmp(&g, &r, sizeof g) != 0 && !(g == 0.0 && r == 0.0))
                fail_msg("%s.%s at %.17g, flat bar %zu: %.17g after noisy history, %.17g on a "
                         "constant series",
                         info->name, info->outputs[o], level, j, g, r);
            if (kind == 0 && g != level && strcmp(info->outputs[o], "direction") != 0)
                fail_msg("%s.%s on a flat window at %.17g: %.17g (want the price)", info->name,
                         info->outputs[o], level, g);
            if (kind == 1 && g != 0.0)
                fail_msg("%s.%s on a flat window at %.17g: %.17g (want 0)", info->name,
                         info->outputs[o], level, g);
        }
    }
    check_streams(info, opts, &c, got);
    for (int o = 0; o < info->n_outputs; o++) {
        free(got[o]);
        free(ref[o]);
    }
    cols_free(&c);
    cols_free(&k);
}

static const double levels[] = {0.1, 27123.45, 1e-7, 1e9};

/* Every finite-window indicator, default options and a second set (periods 15 and 7). */
static void test_flat_windows_every_indicator(void **state)
{
    (void)state;
    size_t checked = 0;
    for (size_t t = 0; t < cb_ta_count(); t++) {
        const cb_ta_info_t *info = cb_ta_at(t);
        if (is_recursive(info->name))
            continue;
        for (int set = 0; set < 2; set++) {
            double opts[CB_TA_MAX_OPTS];
            assert_int_equal(cb_ta_check_opts(info, opts, 0, NULL), 0);
            if (set == 1 && info->n_opts > 0 && info->opts[0].integer)
                opts[0] = info->opts[0].min > 15 ? info->opts[0].min : 15;
            if (set == 1 && info->n_opts > 1 && info->opts[1].integer)
                opts[1] = info->opts[1].min > 7 ? info->opts[1].min : 7;
            for (size_t lv = 0; lv < sizeof levels / sizeof levels[0]; lv++)
                check_indicator_at(info, opts, levels[lv]);
        }
        checked++;
    }
    print_message("flat windows checked on %zu indicators\n", checked);
    assert_true(checked >= 20);
}

/* Zero windows where the history is large: the sums of a window of zero terms are exactly 0,
 * not the residue of what passed through them, which at these magnitudes is above every
 * threshold (TA-Lib's 1e-8 and MFI's 1). Each case: the flat part must give exactly 0. */
static void expect_zero_on_flat(const char *name, const double *opts, const cols_t *c,
                                size_t flat_from)
{
    const cb_ta_info_t *info = cb_ta_find(name);
    assert_non_null(info);
    double *got[CB_TA_MAX_OUTPUTS];
    batch(info, opts, c, got);
    size_t lb = (size_t)cb_ta_lookback(info, opts);
    for (size_t i = flat_from + lb; i < c->n; i++)
        if (got[0][i] != 0.0)
            fail_msg("%s on flat bar %zu: %.17g, want 0", name, i - flat_from, got[0][i]);
    check_streams(info, opts, c, got);
    free(got[0]);
}

static void test_zero_windows_after_large_history(void **state)
{
    (void)state;
    cols_t c;
    size_t noisy = 600, flat = 300;
    /* MFI: money flows of 1e24 (price 1e9, volume 1e15), then a zero-volume stretch */
    make_series(&c, noisy, flat, 1e9);
    for (size_t i = 0; i < noisy; i++)
        c.v[i] = 1e15 * (0.5 + urand());
    for (size_t i = noisy; i < c.n; i++)
        c.v[i] = 0.0;
    double mfi_opts[1] = {14};
    expect_zero_on_flat("mfi", mfi_opts, &c, noisy);
    /* ULTOSC: ranges of the order of the price, then flat candles */
    for (size_t i = 0; i < noisy; i++) {
        c.h[i] = c.c[i] * (1.5 + urand());
        c.l[i] = c.c[i] * (0.1 + 0.5 * urand());
    }
    double ult_opts[3] = {7, 14, 28};
    expect_zero_on_flat("ultosc", ult_opts, &c, noisy);
    cols_free(&c);
    /* BETA and CORREL: real0 keeps moving, real1 (other) goes flat */
    make_series(&c, noisy, flat, 27123.45);
    for (size_t i = noisy; i < c.n; i++)
        c.c[i] = 27123.45 * (1.0 + 0.01 * (urand() - 0.5));
    double p5[1] = {5}, p30[1] = {30};
    expect_zero_on_flat("beta", p5, &c, noisy);
    expect_zero_on_flat("correl", p30, &c, noisy);
    cols_free(&c);
    /* ZSCORE: a segment that swings around 1e9 and settles flat at 0.1 */
    make_series(&c, noisy, flat, 1e9);
    for (size_t i = 0; i < noisy; i++)
        c.c[i] = 1e9 * (1.0 + 0.9 * (urand() - 0.5));
    for (size_t i = noisy; i < c.n; i++)
        c.c[i] = 0.1;
    double z20[1] = {20};
    expect_zero_on_flat("zscore", z20, &c, noisy);
    cols_free(&c);
}

/* vwap_session: a UTC day of flat candles has the price as its VWAP, whatever the volumes
 * (hourly bars from 2024-01-01 00:00; noisy on day 1, flat from day 2 on). */
static void test_vwap_session_flat_day(void **state)
{
    (void)state;
    for (size_t lv = 0; lv < sizeof levels / sizeof levels[0]; lv++) {
        cols_t c;
        make_series(&c, 24, 72, levels[lv]);
        for (size_t i = 24; i < c.n; i++)
            c.v[i] = 0.37 + (double)(i % 5);
        const cb_ta_info_t *info = cb_ta_find("vwap_session");
        double *got[1], none[CB_TA_MAX_OPTS] = {0};
        batch(info, none, &c, got);
        for (size_t i = 24; i < c.n; i++)
            if (got[0][i] != levels[lv])
                fail_msg("vwap_session at bar %zu of a flat day at %.17g: %.17g", i, levels[lv],
                         got[0][i]);
        check_streams(info, none, &c, got);
        free(got[0]);
        cols_free(&c);
    }
}

/* ---- the rules language ---------------------------------------------------------------- */

static cb_rules_program_t *compile_text(const char *text, cb_rules_file_t **fout)
{
    cb_diags_t d = {0};
    cb_rules_file_t *f = NULL;
    assert_int_equal(cb_rules_file_parse("t.ini", text, strlen(text), NULL, &f, &d), 0);
    cb_diags_free(&d);
    cb_rules_program_t *p = NULL;
    assert_int_equal(cb_rules_compile(f, NULL, &p, &d), 0);
    cb_diags_free(&d);
    *fout = f;
    return p;
}

/* entry = crossover(close, sma(close, N)), exit = crossunder(...), over c: bar by bar and
 * column-wise (the two must agree), into en/ex. */
static void signals(const cols_t *c, int period, uint8_t *en, uint8_t *ex)
{
    char text[512];
    snprintf(text, sizeof text,
             "[strategy]\ntimeframe = 1h\nentry = crossover(close, sma(close, %d))\n"
             "exit = crossunder(close, sma(close, %d))\n",
             period, period);
    cb_rules_file_t *f;
    cb_rules_program_t *p = compile_text(text, &f);
    int64_t *tm = malloc(c->n * sizeof *tm);
    for (size_t i = 0; i < c->n; i++)
        tm[i] = (int64_t)c->t[i];
    cb_bar_view_t bars = {c->n, tm, c->o, c->h, c->l, c->c, c->v};
    cb_diag_t d;
    assert_int_equal(cb_rules_program_signals(p, &bars, 0, en, ex, &d), 0);
    cb_rules_instance_t *inst = NULL;
    assert_int_equal(cb_rules_instance_new(p, 0, &inst, &d), 0);
    for (size_t i = 0; i < c->n; i++) {
        int e1, e2;
        assert_int_equal(cb_rules_instance_step(inst, tm[i], c->o[i], c->h[i], c->l[i], c->c[i],
                                                c->v[i], NULL, &e1, &e2),
                         0);
        if (e1 != en[i] || e2 != ex[i])
            fail_msg("bar %zu: step gives %d/%d, column-wise %d/%d", i, e1, e2, en[i], ex[i]);
    }
    cb_rules_instance_free(inst);
    cb_rules_program_free(p);
    cb_rules_file_free(f);
    free(tm);
}

/* Noisy history, then flat stretches at each awkward level: once the window is flat, close ==
 * sma exactly and neither rule fires (a crossing needs close - sma to change sign). */
static void test_rules_cross_on_flat_stretches(void **state)
{
    (void)state;
    static const int periods[] = {15, 30, 7};
    for (size_t lv = 0; lv < sizeof levels / sizeof levels[0]; lv++) {
        for (size_t pi = 0; pi < 3; pi++) {
            int period = periods[pi];
            cols_t c;
            size_t noisy = 500, flat = 400;
            make_series(&c, noisy, flat, levels[lv]);
            uint8_t *en = calloc(c.n, 1), *ex = calloc(c.n, 1);
            signals(&c, period, en, ex);
            size_t fired = 0;
            for (size_t i = 0; i < noisy; i++)
                fired += en[i];
            assert_true(fired > 0); /* the history does cross */
            for (size_t i = noisy + (size_t)period - 1; i < c.n; i++)
                if (en[i] || ex[i])
                    fail_msg("level %.17g, sma %d: a crossing fires on flat bar %zu (entry %d, "
                             "exit %d)",
                             levels[lv], period, i - noisy, en[i], ex[i]);
            const double *in[1] = {c.c};
            double *o = malloc(c.n * sizeof *o);
            double opts[1] = {(double)period};
            assert_int_equal(cb_ta_batch(cb_ta_find("sma"), c.n, in, opts, &o), 0);
            for (size_t i = noisy + (size_t)period - 1; i < c.n; i++)
                if (o[i] != c.c[i])
                    fail_msg("level %.17g: sma(%d) %.17g on a flat window of %.17g", levels[lv],
                             period, o[i], c.c[i]);
            free(o);
            free(en);
            free(ex);
            cols_free(&c);
        }
    }
}

/* ---- the real case --------------------------------------------------------------------- */

static int load_5m(cols_t *c)
{
    char path[1024];
    if (!tu_shared_path("ohlcv/binance_spot_BTCUSDT_5m_2023-03-16_2023-05-01.csv", path,
                        sizeof path))
        return -1;
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    cols_alloc(c, 20000);
    char line[512];
    size_t n = 0;
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return -1;
    }
    while (n < 20000 && fgets(line, sizeof line, f)) {
        double t, o, h, l, cl, v;
        if (sscanf(line, "%lf,%lf,%lf,%lf,%lf,%lf", &t, &o, &h, &l, &cl, &v) != 6)
            continue;
        c->t[n] = t;
        c->o[n] = o;
        c->h[n] = h;
        c->l[n] = l;
        c->c[n] = cl;
        c->v[n] = v;
        c->other[n] = cl;
        n++;
    }
    fclose(f);
    c->n = n;
    return 0;
}

/* 2023-03-24 11:25..12:35 UTC: 15 closes of 28080.0 (the last 14 with zero volume), then a
 * gap and 27858.24. The 15-bar window ending 12:35 is flat: sma == 28080 and no crossing; the
 * exit (crossunder) fired correctly at 12:30, when 28080.39 was still in the window. */
static void test_real_maintenance_stretch(void **state)
{
    (void)state;
    cols_t c;
    if (load_5m(&c) != 0) {
        SKIP_NO_SHARED();
        return;
    }
    size_t at = SIZE_MAX;
    for (size_t i = 0; i < c.n; i++)
        if (c.t[i] == 1679661300000.0)
            at = i;
    assert_true(at != SIZE_MAX && at >= 15);
    for (size_t i = at - 14; i <= at; i++)
        assert_true(c.c[i] == 28080.0);
    assert_true(c.c[at - 15] != 28080.0);
    const double *in[1] = {c.c};
    double *o = malloc(c.n * sizeof *o), opts[1] = {15};
    assert_int_equal(cb_ta_batch(cb_ta_find("sma"), c.n, in, opts, &o), 0);
    if (o[at] != 28080.0)
        fail_msg("sma(close, 15) at 2023-03-24 12:35 UTC: %.17g, want 28080", o[at]);
    uint8_t *en = calloc(c.n, 1), *ex = calloc(c.n, 1);
    signals(&c, 15, en, ex);
    assert_int_equal(ex[at - 1], 1); /* close 28080 < sma 28080.026: a real crossunder */
    if (en[at] || ex[at])
        fail_msg("12:35 UTC (flat window): entry %d exit %d, want neither", en[at], ex[at]);
    if (en[at + 1] || ex[at + 1])
        fail_msg("the bar after: entry %d exit %d, want neither (close stays below the sma)",
                 en[at + 1], ex[at + 1]);
    free(o);
    free(en);
    free(ex);
    cols_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flat_windows_every_indicator),
        cmocka_unit_test(test_zero_windows_after_large_history),
        cmocka_unit_test(test_vwap_session_flat_day),
        cmocka_unit_test(test_rules_cross_on_flat_stretches),
        cmocka_unit_test(test_real_maintenance_stretch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
