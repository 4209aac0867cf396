/* report/: metrics on a hand-computed scenario, and the JSON/CSV/text/HTML writers. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>

#include "comeback/report.h"
#include "engine_fixtures.h"
#include "testutil.h"

/* Three round trips of 1 unit: +10, -5, +2 (no fees). */
static const bar_row_t k_bars[] = {
    {100, 100, 100, 100}, /* 0 E */
    {100, 104, 98, 103},  /* 1 entry at 100 */
    {103, 111, 102, 110}, /* 2 X */
    {110, 112, 109, 111}, /* 3 exit at 110: +10 */
    {100, 100, 100, 100}, /* 4 E */
    {100, 101, 96, 97},   /* 5 entry at 100 */
    {97, 98, 94, 96},     /* 6 X */
    {95, 96, 94, 95},     /* 7 exit at 95: -5 */
    {100, 100, 100, 100}, /* 8 E */
    {100, 103, 99, 101},  /* 9 entry at 100 */
    {101, 102, 100, 101}, /* 10 X */
    {102, 103, 101, 102}, /* 11 exit at 102: +2 */
    {102, 103, 101, 102}, /* 12 */
};

static void run_scenario(cb_engine_result_t *r, cb_metrics_t *m, cb_series_t **s)
{
    static script_t sc;
    memset(&sc, 0, sizeof sc);
    sc.enter = "E.X.E.X.E.X..";
    *s = mk_series(k_bars, 13, DAY_MS);
    cb_engine_pair_t p;
    memset(&p, 0, sizeof p);
    p.series = *s;
    cb_instrument_default(&p.instrument, "BTC/USDT");
    p.strategy = &script_strategy;
    p.strategy_self = &sc;
    cb_engine_config_t cfg;
    cb_engine_config_default(&cfg);
    cfg.stake.kind = CB_STAKE_BASE;
    cfg.stake.amount = FX(1);
    cb_diag_t d;
    assert_int_equal(cb_engine_run(&cfg, &p, 1, r, &d), 0);
    assert_int_equal(cb_metrics_compute(r, m), 0);
}

static void test_trade_metrics(void **state)
{
    (void)state;
    cb_engine_result_t r;
    cb_metrics_t m;
    cb_series_t *s;
    run_scenario(&r, &m, &s);
    assert_int_equal(r.n_trades, 3);
    double pnl[3] = {10, -5, 2};
    double mean = 7.0 / 3.0, var = 0;
    for (int k = 0; k < 3; k++)
        var += (pnl[k] - mean) * (pnl[k] - mean) / 3.0;
#define V(id) m.v[CB_M_##id].value
    assert_close(V(FINAL_BALANCE), 10007, 1e-12, 1e-9);
    assert_close(V(TOTAL_RETURN), 0.07, 1e-9, 1e-12);
    assert_close(V(TRADES), 3, 0, 0);
    assert_close(V(WINS), 2, 0, 0);
    assert_close(V(LOSSES), 1, 0, 0);
    assert_close(V(WIN_RATE), 200.0 / 3.0, 1e-12, 1e-12);
    assert_close(V(PROFIT_FACTOR), 12.0 / 5.0, 1e-12, 1e-12);
    assert_close(V(EXPECTANCY), mean, 1e-12, 1e-12);
    assert_close(V(SQN), sqrt(3.0) * mean / sqrt(var), 1e-12, 1e-12);
    /* avg win 6, avg loss 5: (1 + 6/5) * 2/3 - 1 */
    assert_close(V(EXPECTANCY_RATIO), 2.2 * 2.0 / 3.0 - 1.0, 1e-12, 1e-12);
    assert_close(V(MAX_CONSEC_WINS), 1, 0, 0);
    assert_close(V(MAX_CONSEC_LOSSES), 1, 0, 0);
    assert_close(V(BEST_TRADE), 10.0, 1e-12, 1e-12);
    assert_close(V(WORST_TRADE), -5.0, 1e-12, 1e-12);
    assert_string_equal(m.v[CB_M_BEST_TRADE].text, "BTC/USDT");
    assert_close(V(DAYS), 13, 0, 1e-12);
    assert_close(V(TRADES_PER_DAY), 3.0 / 13.0, 1e-12, 1e-12);
    /* each trade held 2 days */
    assert_close(V(AVG_DURATION), 2.0 * DAY_MS, 0, 0);
    assert_close(V(AVG_DURATION_WIN), 2.0 * DAY_MS, 0, 0);
    /* exposure: in the market at the closes of bars 1, 2, 5, 6, 9, 10 = 6 of 13 */
    assert_close(V(EXPOSURE), 600.0 / 13.0, 1e-12, 1e-12);
    /* market change: 102 / 100 - 1 */
    assert_close(V(MARKET_CHANGE), 2.0, 1e-12, 1e-12);
    assert_close(V(BUY_HOLD), 2.0, 1e-12, 1e-12);
    /* MAE of trade 1: low 98 from 100 (bars 1-2); MFE: high 111 */
    assert_close(r.trades[0].mae_pct, -2.0, 1e-12, 1e-12);
    assert_close(r.trades[0].mfe_pct, 11.0, 1e-12, 1e-12);
    /* equity at closes: 10000 10003 10010 10010 10010 10007 10006 10005 10005 10006 10006
     * 10007 10007: peak 10010, trough 10005 -> 5 / 10010 */
    assert_close(V(MAX_DD_PCT), 5.0 / 10010.0 * 100.0, 1e-9, 1e-12);
    assert_close(V(MAX_DD_ABS), 5.0, 1e-9, 1e-9);
    assert_close(V(MIN_BALANCE), 10000, 0, 1e-9);
    assert_close(V(MAX_BALANCE), 10010, 0, 1e-9);
    /* days: returns vs previous end-of-day equity; up on days 1, 2, 9, 11; down 5, 6, 7 */
    assert_close(V(WIN_DAYS), 4, 0, 0);
    assert_close(V(LOSS_DAYS), 3, 0, 0);
    assert_close(V(DRAW_DAYS), 6, 0, 0);
    assert_close(V(BEST_DAY), (10010.0 / 10003.0 - 1) * 100, 1e-9, 1e-12);
    /* one month */
    assert_int_equal(m.n_months, 1);
    assert_string_equal(m.months[0].name, "2024-01");
    assert_close(m.months[0].return_pct, 0.07, 1e-9, 1e-12);
    assert_int_equal(m.months[0].trades, 3);
    /* per exit reason */
    assert_int_equal(m.reasons[CB_EXIT_EXIT_SIGNAL].trades, 3);
    assert_int_equal(m.pairs[0].trades, 3);
    assert_close(m.pairs[0].pnl, 7, 0, 1e-9);
#undef V
    char buf[64];
    cb_metric_format(&m, CB_M_FINAL_BALANCE, "USDT", buf, sizeof buf);
    assert_string_equal(buf, "10,007.00 USDT");
    cb_metric_format(&m, CB_M_AVG_DURATION, "USDT", buf, sizeof buf);
    assert_string_equal(buf, "2d 00:00");
    cb_metric_format(&m, CB_M_WIN_RATE, "USDT", buf, sizeof buf);
    assert_string_equal(buf, "66.67%");
    cb_metrics_free(&m);
    cb_engine_result_free(&r);
    cb_series_free(s);
}

static char *render(int which, const cb_report_t *rep, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    int rc = which == 0   ? cb_report_write_json(f, rep)
             : which == 1 ? cb_report_write_trades_csv(f, rep)
             : which == 2 ? cb_report_write_text(f, rep, 120, 0)
             : which == 3 ? cb_report_write_text(f, rep, 60, 1)
                          : cb_report_write_html(f, rep);
    assert_int_equal(rc, 0);
    fclose(f);
    return buf;
}

static void test_writers(void **state)
{
    (void)state;
    cb_engine_result_t r;
    cb_metrics_t m;
    cb_series_t *s;
    run_scenario(&r, &m, &s);
    cb_report_data_t data = {"bars.csv", "BTC/USDT", "1d", s->n, s->time_ms[0],
                             s->time_ms[s->n - 1], 0, ""};
    assert_int_equal(cb_series_sha256(s, data.sha256), 0);
    assert_int_equal(strlen(data.sha256), 64);
    cb_report_kv_t kv[] = {{"stake", "1 BTC"}, {"fee", "0"}};
    cb_report_t rep = {&r, &m, "script \"x\"", kv, 2, &data, 1, 1};
    size_t n1, n2;
    char *j1 = render(0, &rep, &n1), *j2 = render(0, &rep, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(j1, j2, n1); /* deterministic */
    json_error_t je;
    json_t *root = json_loads(j1, 0, &je);
    if (!root)
        fail_msg("invalid JSON at line %d: %s", je.line, je.text);
    static const char *keys[] = {"start_balance", "final_balance", "total_return_pct",
                                 "cagr_pct", "sharpe", "sortino", "calmar", "sqn",
                                 "max_drawdown_pct", "max_drawdown_abs", "profit_factor",
                                 "win_rate_pct", "expectancy", "trades", "exposure_pct",
                                 "fees_paid", "market_change_pct"};
    json_t *jm = json_object_get(root, "metrics");
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        if (!json_object_get(jm, keys[k]))
            fail_msg("metrics.%s missing", keys[k]);
    assert_int_equal(json_integer_value(json_object_get(jm, "trades")), 3);
    assert_close(json_number_value(json_object_get(jm, "final_balance")), 10007, 0, 1e-9);
    json_t *t0 = json_array_get(json_object_get(root, "trades"), 0);
    static const char *tkeys[] = {"pair", "entry_time_ms", "entry_price", "exit_time_ms",
                                  "exit_price", "quantity", "fees", "pnl", "pnl_pct",
                                  "exit_reason"};
    for (size_t k = 0; k < sizeof tkeys / sizeof tkeys[0]; k++)
        if (!json_object_get(t0, tkeys[k]))
            fail_msg("trades[0].%s missing", tkeys[k]);
    assert_string_equal(json_string_value(json_object_get(t0, "exit_reason")), "exit_signal");
    assert_string_equal(json_string_value(json_object_get(root, "strategy")), "script \"x\"");
    json_t *d0 = json_array_get(json_object_get(root, "data"), 0);
    assert_string_equal(json_string_value(json_object_get(d0, "sha256")), data.sha256);
    assert_non_null(json_object_get(root, "pairs"));
    assert_non_null(json_object_get(root, "config"));
    assert_non_null(json_object_get(root, "version"));
    assert_int_equal(json_array_size(json_object_get(root, "equity")), 13);
    json_decref(root);
    free(j1);
    free(j2);
    /* CSV: header + 3 rows */
    char *csv = render(1, &rep, &n1);
    int lines = 0;
    for (size_t i = 0; i < n1; i++)
        lines += csv[i] == '\n';
    assert_int_equal(lines, 4);
    assert_non_null(strstr(csv, "BTC/USDT,1704067200000,1704153600000,100,"));
    free(csv);
    /* text: plain at 120 columns, coloured at 60 */
    char *txt = render(2, &rep, &n1);
    assert_non_null(strstr(txt, "Final balance"));
    assert_non_null(strstr(txt, "Per exit reason"));
    assert_null(strstr(txt, "\033["));
    free(txt);
    txt = render(3, &rep, &n1);
    assert_non_null(strstr(txt, "\033["));
    free(txt);
    /* HTML: self-contained, with the four charts */
    char *html = render(4, &rep, &n1);
    assert_non_null(strstr(html, "<svg"));
    assert_non_null(strstr(html, "Monthly returns"));
    assert_non_null(strstr(html, "underwater"));
    assert_non_null(strstr(html, "buy and hold"));
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "src="));
    assert_null(strstr(html, "href="));
    free(html);
    cb_metrics_free(&m);
    cb_engine_result_free(&r);
    cb_series_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trade_metrics),
        cmocka_unit_test(test_writers),
    };
    return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
