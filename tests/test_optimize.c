/* opt/optimize: a sweep on pure noise must come out as likely overfit, a trend strategy on a
 * market with a planted persistent trend effect must not; results do not depend on --jobs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/opt.h"
#include "testutil.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    return tu_tmpdir(dir, sizeof dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(dir);
    return 0;
}

static double gauss(uint64_t *x)
{
    double u = 0;
    for (int k = 0; k < 12; k++) {
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        u += (double)(*x >> 11) / 9007199254740992.0;
    }
    return u - 6;
}

/* Hourly candles whose log returns follow r_t = phi * r_{t-1} + 0.004 * noise: phi = 0 is a
 * pure random walk; phi > 0 plants a persistent trend (momentum) effect. */
static void write_market(const char *path, size_t n, double phi, uint64_t seed)
{
    cb_series_t *s = cb_series_new(n);
    uint64_t x = seed * 2654435761u + 1;
    double p = 20000, r = 0;
    for (size_t i = 0; i < n; i++) {
        r = phi * r + 0.004 * gauss(&x);
        double o = p, c = p * exp(r);
        double hi = fmax(o, c) * (1 + 0.001 * fabs(gauss(&x)));
        double lo = fmin(o, c) * (1 - 0.001 * fabs(gauss(&x)));
        cb_series_push(s, INT64_C(1577836800000) + (int64_t)i * 3600000,
                       round(o * 100) / 100, round(hi * 100 + 1) / 100, round(lo * 100 - 1) / 100,
                       round(c * 100) / 100, 10);
        p = c;
    }
    snprintf(s->meta.pair, sizeof s->meta.pair, "SYN/USDT");
    snprintf(s->meta.timeframe, sizeof s->meta.timeframe, "1h");
    cb_diag_t d;
    assert_int_equal(cb_series_write_csv(s, path, &d), 0);
    cb_series_free(s);
}

static const char strategy[] = "[strategy]\n"
                               "name = ema-cross\n"
                               "timeframe = 1h\n"
                               "entry = crossover(ema(close, fast), ema(close, slow))\n"
                               "exit = crossunder(ema(close, fast), ema(close, slow))\n"
                               "[params]\n"
                               "fast = 5 [2..10 step 2]\n"
                               "slow = 20 [12..40 step 7]\n"
                               "[backtest]\n"
                               "data = market.csv\n"
                               "pair = SYN/USDT\n"
                               "start_balance = 10000 USDT\n"
                               "stake = 50%\n"
                               "fee = 0.02%\n";

/* With indicators of every kind: sharing them between combinations must change nothing. */
static const char strategy_rich[] =
    "[strategy]\n"
    "name = rich\n"
    "timeframe = 1h\n"
    "entry = crossover(ema(close, fast), ema(close, slow)) and rsi(close, 14) < 70 and\n"
    "        macd(close, 12, 26, 9).hist > -50 and close > bbands(hl2, slow, 2).lower\n"
    "exit = crossunder(ema(close, fast), ema(close, slow)) or atr(14) > close * 0.05\n"
    "stoploss = 4%\n"
    "[params]\n"
    "fast = 5 [2..10 step 2]\n"
    "slow = 20 [12..40 step 7]\n"
    "[backtest]\n"
    "data = market.csv\n"
    "pair = SYN/USDT\n"
    "start_balance = 10000 USDT\n"
    "stake = 50%\n"
    "fee = 0.02%\n";

static const char strategy_pos[] =
    "[strategy]\n"
    "timeframe = 1h\n"
    "entry = crossover(ema(close, fast), ema(close, slow)) and rsi(close, 14) < 70\n"
    "exit = bars_held > slow or crossunder(ema(close, fast), ema(close, slow))\n"
    "[params]\n"
    "fast = 5 [2..10 step 2]\n"
    "slow = 20 [12..40 step 7]\n"
    "[backtest]\n"
    "data = market.csv\n"
    "pair = SYN/USDT\n"
    "start_balance = 10000 USDT\n"
    "stake = 50%\n"
    "fee = 0.02%\n";

/* What optimize() runs: the strategy text and the sharing settings. */
static const char *g_text = strategy;
static int g_no_share;
static size_t g_cache_bytes;
static size_t g_luck_runs = 200;

typedef struct run {
    char ini[512];
    cb_rules_file_t *file;
    cb_backtest_t bt;
    cb_opt_report_t rep;
    cb_opt_config_t cfg;
} run_t;

static void optimize(run_t *r, double phi, uint64_t seed, int jobs, size_t folds)
{
    char market[512], *ini = r->ini; /* the session borrows the path: it must outlive it */
    snprintf(market, sizeof market, "%s/market.csv", dir);
    snprintf(ini, sizeof r->ini, "%s/strategy.ini", dir);
    write_market(market, 8000, phi, seed);
    assert_int_equal(tu_write_file(ini, g_text), 0);
    cb_diags_t diags = {0};
    assert_int_equal(cb_rules_file_load(ini, &r->file, &diags), 0);
    cb_diags_free(&diags);
    cb_diag_t d;
    int rc = cb_backtest_setup(&r->bt, r->file, ini, NULL, &d);
    if (rc)
        print_error("%s\n", d.msg);
    assert_int_equal(rc, 0);
    memset(&r->cfg, 0, sizeof r->cfg);
    for (size_t k = 0; k < cb_rules_file_n_params(r->file); k++) {
        const cb_rules_param_t *p = cb_rules_file_param(r->file, k);
        assert_int_equal(cb_param_space_add(&r->cfg.space, p->name, p->min, p->max, p->step, &d),
                         0);
    }
    r->cfg.jobs = jobs;
    r->cfg.seed = 7;
    r->cfg.luck_runs = g_luck_runs;
    r->cfg.wf_folds = folds;
    r->cfg.no_share = g_no_share;
    r->cfg.cache_bytes = g_cache_bytes;
    rc = cb_optimize(&r->bt, &r->cfg, &r->rep, &d);
    if (rc)
        print_error("%s\n", d.msg);
    assert_int_equal(rc, 0);
}

static void done(run_t *r)
{
    cb_opt_report_free(&r->rep);
    cb_backtest_close(&r->bt);
    cb_rules_file_free(r->file);
}

static void test_noise_is_overfit(void **state)
{
    (void)state;
    run_t r;
    optimize(&r, 0.0, 3, 2, 0);
    assert_int_equal(r.rep.n_rows, 25);
    assert_true(r.rep.has_pbo && r.rep.has_dsr && r.rep.has_luck);
    print_message("noise: %s\n", r.rep.verdict);
    assert_int_equal(r.rep.verdict_kind, CB_VERDICT_OVERFIT);
    done(&r);
}

static void test_planted_trend_is_not_overfit(void **state)
{
    (void)state;
    run_t r;
    optimize(&r, 0.3, 3, 2, 3);
    print_message("trend: %s\n", r.rep.verdict);
    assert_true(r.rep.verdict_kind != CB_VERDICT_OVERFIT);
    assert_true(r.rep.rows[r.rep.best].total_return_pct > 0);
    assert_int_equal(r.rep.n_folds, 3);
    assert_true(r.rep.wf_oos_return_pct > 0); /* the edge holds out of sample */
    for (size_t k = 0; k + 1 < r.rep.n_folds; k++)
        assert_int_equal(r.rep.folds[k].test_to_ms + 3600000, r.rep.folds[k + 1].test_from_ms);
    done(&r);
}

static void test_same_result_for_any_jobs(void **state)
{
    (void)state;
    run_t a, b;
    optimize(&a, 0.1, 5, 1, 2);
    char pa[600], pb[600];
    snprintf(pa, sizeof pa, "%s/a.json", dir);
    FILE *fa = fopen(pa, "w");
    assert_int_equal(cb_opt_report_write_json(fa, &a.bt, &a.cfg, &a.rep), 0);
    fclose(fa);
    done(&a);
    optimize(&b, 0.1, 5, 3, 2);
    snprintf(pb, sizeof pb, "%s/b.json", dir);
    FILE *fb = fopen(pb, "w");
    assert_int_equal(cb_opt_report_write_json(fb, &b.bt, &b.cfg, &b.rep), 0);
    fclose(fb);
    done(&b);
    char *ja = tu_read_file(pa, NULL), *jb = tu_read_file(pb, NULL);
    assert_non_null(ja);
    assert_non_null(jb);
    assert_string_equal(ja, jb);
    assert_non_null(strstr(ja, "\"deflated_sharpe\": {"));
    assert_non_null(strstr(ja, "\"walk_forward\": {"));
    assert_non_null(strstr(ja, "\"verdict\": \"Verdict: "));
    free(ja);
    free(jb);
}

static char *json_of(run_t *r, const char *name)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(cb_opt_report_write_json(f, &r->bt, &r->cfg, &r->rep), 0);
    fclose(f);
    char *j = tu_read_file(path, NULL);
    assert_non_null(j);
    return j;
}

/* Sharing indicators between combinations (any budget, any --jobs) gives the same JSON, byte
 * for byte, as every combination computing its own bar by bar. */
static void test_sharing_changes_nothing(void **state)
{
    (void)state;
    struct {
        int no_share;
        size_t cache_bytes;
        int jobs;
    } cases[] = {{1, 0, 1}, {0, 0, 2}, {0, 1, 2}, {0, 200000, 3}};
    char *ref = NULL;
    g_text = strategy_rich;
    g_luck_runs = 20; /* the luck baseline does not share; a few runs show it is the same */
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        g_no_share = cases[k].no_share;
        g_cache_bytes = cases[k].cache_bytes;
        run_t r;
        optimize(&r, 0.1, 9, cases[k].jobs, 2);
        print_message("share %d budget %zu jobs %d: %zu columns computed, %zu reused\n",
                      !cases[k].no_share, cases[k].cache_bytes, cases[k].jobs,
                      r.rep.sharing.misses, r.rep.sharing.hits);
        if (cases[k].no_share)
            assert_int_equal(r.rep.sharing.misses, 0);
        else
            assert_true(r.rep.sharing.hits > 0);
        char *j = json_of(&r, "share.json");
        done(&r);
        if (!ref) {
            ref = j;
            assert_non_null(strstr(ref, "\"walk_forward\": {"));
            continue;
        }
        assert_string_equal(ref, j);
        free(j);
    }
    free(ref);
    /* rules that read position state: evaluated bar by bar, indicators shared */
    g_text = strategy_pos;
    ref = NULL;
    for (size_t k = 0; k < 3; k++) {
        g_no_share = cases[k].no_share;
        g_cache_bytes = cases[k].cache_bytes;
        run_t r;
        optimize(&r, 0.1, 9, cases[k].jobs, 0);
        if (!cases[k].no_share)
            assert_true(r.rep.sharing.hits > 0);
        char *j = json_of(&r, "share.json");
        done(&r);
        if (!ref) {
            ref = j;
            continue;
        }
        assert_string_equal(ref, j);
        free(j);
    }
    free(ref);
    g_text = strategy;
    g_no_share = 0;
    g_cache_bytes = 0;
    g_luck_runs = 200;
}

static void test_bad_space(void **state)
{
    (void)state;
    run_t r;
    char market[512], ini[512];
    snprintf(market, sizeof market, "%s/market.csv", dir);
    snprintf(ini, sizeof ini, "%s/strategy.ini", dir);
    write_market(market, 500, 0, 1);
    assert_int_equal(tu_write_file(ini, strategy), 0);
    assert_int_equal(cb_rules_file_load(ini, &r.file, NULL), 0);
    cb_diag_t d;
    assert_int_equal(cb_backtest_setup(&r.bt, r.file, ini, NULL, &d), 0);
    memset(&r.cfg, 0, sizeof r.cfg);
    assert_int_equal(cb_param_space_add(&r.cfg.space, "fsat", 2, 4, 1, &d), 0);
    assert_int_equal(cb_optimize(&r.bt, &r.cfg, &r.rep, &d), CB_EINVAL);
    print_message("unknown parameter: %s\n", d.msg);
    assert_non_null(strstr(d.msg, "fsat"));
    cb_backtest_close(&r.bt);
    cb_rules_file_free(r.file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_noise_is_overfit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_planted_trend_is_not_overfit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_result_for_any_jobs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sharing_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_space, setup, teardown),
    };
    return cmocka_run_group_tests_name("optimize", tests, NULL, NULL);
}
