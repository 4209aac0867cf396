/* engine/ against an independent engine: backtrader's SMA(15) crossover on real BTC/USDT daily
 * candles (configs A and B, ../shared/data/backtrader/backtrader_generated_BTCUSDT_1d_sma_
 * crossover_backtest.json, produced by running backtrader b853d7c unmodified) and backtrader's
 * own 2006 sample-data strategy test (backtrader_test_expectations.json). Every fill date and
 * price, the final value and the drawdown must match.
 *
 * The strategy is written here in C with backtrader's definitions: SMA = exact sum / period,
 * CrossOver = the close is above the SMA now and the last non-zero (close - SMA) before this bar
 * was negative; decisions from bar index 15 (backtrader's minimum period: SMA 15 + 1 for the
 * crossover's look-back). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/report.h"
#include "engine_fixtures.h"
#include "testutil.h"

/* A minimal reader for the two files used here: "ms,o,h,l,c,v" and "YYYY-MM-DD,o,h,l,c,..." */
static cb_series_t *load_csv(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    cb_series_t *s = cb_series_new(2048);
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (line[0] < '0' || line[0] > '9')
            continue; /* header */
        char *p = strchr(line, ',');
        if (!p)
            continue;
        int64_t t;
        if (p - line == 10 && line[4] == '-') {
            if (cb_time_parse(line, 10, &t))
                continue;
        } else {
            t = strtoll(line, NULL, 10);
        }
        double v[5] = {0};
        for (int k = 0; k < 5 && p; k++) {
            v[k] = strtod(p + 1, NULL);
            p = strchr(p + 1, ',');
        }
        cb_series_push(s, t, v[0], v[1], v[2], v[3], v[4]);
    }
    fclose(f);
    return s;
}

typedef struct btx {
    int period;
    double prev_nz;   /* last non-zero close - sma */
    int have_nz;
} btx_t;

static size_t btx_warmup(void *self) { return (size_t)((btx_t *)self)->period + 1; }

static int btx_on_bar(void *self, const cb_bar_view_t *b, const cb_position_view_t *pos,
                      cb_decision_t *out)
{
    btx_t *x = self;
    size_t n = b->n, per = (size_t)x->period;
    if (n < per)
        return 0;
    /* exact window sum: prices have at most 8 decimals */
    int64_t sum = 0;
    for (size_t i = n - per; i < n; i++)
        sum += cb_fx_from_double(b->close[i]);
    double sma = (double)sum / 1e8 / (double)per;
    double d = b->close[n - 1] - sma;
    if (x->have_nz) {
        int up = x->prev_nz < 0 && d > 0, down = x->prev_nz > 0 && d < 0;
        out->enter = !pos->open && up;
        out->exit = pos->open && down;
    }
    if (d != 0 || !x->have_nz) {
        x->prev_nz = d;
        x->have_nz = 1;
    }
    return 0;
}

static const cb_strategy_v1_t btx_strategy = {
    CB_STRATEGY_ABI_VERSION, "sma-crossover", NULL, btx_warmup, btx_on_bar, NULL,
};

static void day_str(int64_t ms, char *buf)
{
    char tmp[40];
    cb_time_format(ms, tmp, sizeof tmp);
    memcpy(buf, tmp, 10);
    buf[10] = 0;
}

static int64_t fx_str(const char *s)
{
    return cb_fx_from_double(strtod(s, NULL));
}

static void check_orders(const cb_engine_result_t *r, json_t *orders)
{
    /* backtrader lists buy, sell, buy, sell...; we list round trips */
    size_t n = json_array_size(orders);
    int open_at_end = r->n_trades && r->trades[r->n_trades - 1].exit_reason == CB_EXIT_END_OF_DATA;
    assert_int_equal(n, 2 * r->n_trades - (size_t)open_at_end);
    for (size_t k = 0; k < n; k++) {
        json_t *o = json_array_get(orders, k);
        const cb_trade_t *t = &r->trades[k / 2];
        int buy = !strcmp(json_string_value(json_object_get(o, "side")), "buy");
        assert_int_equal(buy, k % 2 == 0);
        char d[16];
        day_str(buy ? t->entry_time_ms : t->exit_time_ms, d);
        const char *want = json_string_value(json_object_get(o, "executed_date"));
        if (strcmp(d, want) != 0)
            fail_msg("order %zu: executed %s, backtrader %s", k, d, want);
        day_str(t->signal_time_ms, d);
        if (buy && strcmp(d, json_string_value(json_object_get(o, "created_date"))) != 0)
            fail_msg("order %zu: created %s, backtrader %s", k, d,
                     json_string_value(json_object_get(o, "created_date")));
        const char *px = json_string_value(json_object_get(o, "executed_price"));
        if (!px)
            px = json_string_value(json_object_get(o, "price"));
        assert_int_equal(buy ? t->entry_price : t->exit_price, fx_str(px));
    }
}

static void test_btcusdt_sma_crossover(void **state)
{
    (void)state;
    char p1[1024], p2[1024];
    if (!tu_shared_path("backtrader/backtrader_generated_BTCUSDT_1d_sma_crossover_backtest.json",
                        p1, sizeof p1) ||
        !tu_shared_path("ohlcv/binance_spot_BTCUSDT_1d_2017-08-17_2022-10-10.csv", p2,
                        sizeof p2)) {
        SKIP_NO_SHARED();
    }
    json_error_t je;
    json_t *root = json_load_file(p1, 0, &je);
    assert_non_null(root);
    cb_series_t *s = load_csv(p2);
    assert_non_null(s);
    assert_int_equal(s->n, 1881);
    json_t *runs = json_object_get(root, "runs");
    assert_int_equal(json_array_size(runs), 2);
    for (size_t k = 0; k < 2; k++) {
        json_t *run = json_array_get(runs, k);
        json_t *conf = json_object_get(run, "config");
        cb_engine_config_t cfg;
        cb_engine_config_default(&cfg);
        cfg.start_balance = cb_fx_from_double(json_number_value(json_object_get(conf, "cash")));
        cfg.stake.kind = CB_STAKE_BASE;
        cfg.stake.amount =
            cb_fx_from_double(json_number_value(json_object_get(conf, "stake")));
        cfg.costs.taker_fee =
            cb_fx_from_double(json_number_value(json_object_get(conf, "commission")));
        cfg.costs.maker_fee = cfg.costs.taker_fee;
        btx_t x = {15, 0, 0};
        cb_engine_pair_t p;
    memset(&p, 0, sizeof p);
    p.series = s;
    p.strategy = &btx_strategy;
    p.strategy_self = &x;
        cb_instrument_default(&p.instrument, "BTC/USDT");
        p.instrument.tick = FX(0.01);
        cb_engine_result_t r;
        cb_diag_t d;
        assert_int_equal(cb_engine_run(&cfg, &p, 1, &r, &d), 0);
        assert_true(r.balanced);
        check_orders(&r, json_object_get(run, "orders"));
        /* backtrader closes nothing at the end here: its last sell filled on 2022-10-09 */
        for (size_t i = 0; i < r.n_trades; i++)
            assert_int_not_equal(r.trades[i].exit_reason, CB_EXIT_END_OF_DATA);
        /* the final value, exactly (backtrader's float printed with repr) */
        const char *fv = json_string_value(json_object_get(run, "final_value"));
        int64_t want = cb_fx_from_double(strtod(fv, NULL));
        print_message("config %s: final %.8f, backtrader %s\n",
                      json_string_value(json_object_get(conf, "name")),
                      cb_fx_to_double(r.final_balance), fv);
        assert_true(llabs(r.final_balance - want) <= 1); /* float noise in backtrader's sum */
        /* the money amounts are exact decimals, so rounding backtrader's float to the cent
         * (A) or to 1e-6 (B: 0.1 BTC * cents * 0.1%) gives our value exactly */
        int64_t unit = k == 0 ? FX(0.01) : FX(0.000001);
        assert_int_equal(r.final_balance, (want + unit / 2) / unit * unit);
        /* drawdown of the equity marked at every close, % of the running peak */
        double dd = strtod(json_string_value(json_object_get(run, "max_drawdown_pct")), NULL);
        double dm = strtod(json_string_value(json_object_get(run, "max_drawdown_money")), NULL);
        assert_close(r.max_dd_pct, dd, 1e-9, 1e-9);
        assert_close(r.max_dd_abs, dm, 1e-9, 1e-6);
        assert_int_equal(r.max_dd_bars,
                         json_integer_value(json_object_get(run, "max_drawdown_len")));
        /* SQN (population stdev, as backtrader) and the trade analyzer's counts */
        cb_metrics_t m;
        assert_int_equal(cb_metrics_compute(&r, &m), 0);
        assert_close(m.v[CB_M_SQN].value,
                     strtod(json_string_value(json_object_get(run, "sqn")), NULL), 1e-9, 1e-12);
        json_t *ta = json_object_get(run, "trade_analyzer");
        assert_int_equal((long)m.v[CB_M_TRADES].value,
                         json_integer_value(json_object_get(ta, "total")));
        assert_int_equal((long)m.v[CB_M_WINS].value, json_integer_value(json_object_get(ta, "won")));
        assert_int_equal((long)m.v[CB_M_LOSSES].value,
                         json_integer_value(json_object_get(ta, "lost")));
        cb_metrics_free(&m);
        cb_engine_result_free(&r);
    }
    json_decref(root);
    cb_series_free(s);
}

static void test_backtrader_2006_sample(void **state)
{
    (void)state;
    char p1[1024], p2[1024];
    if (!tu_shared_path("backtrader/backtrader_test_expectations.json", p1, sizeof p1) ||
        !tu_shared_path("backtrader/datas/2006-day-001.txt", p2, sizeof p2)) {
        SKIP_NO_SHARED();
    }
    json_error_t je;
    json_t *root = json_load_file(p1, 0, &je);
    assert_non_null(root);
    json_t *t = json_object_get(json_object_get(root, "strategy_and_analyzer_tests"),
                                "sma_crossover_unoptimized");
    assert_non_null(t);
    cb_series_t *s = load_csv(p2);
    assert_non_null(s);
    assert_int_equal(s->n, 255);
    cb_engine_config_t cfg;
    cb_engine_config_default(&cfg);
    cfg.start_balance = FX(10000);
    cfg.stake.kind = CB_STAKE_BASE;
    cfg.stake.amount = FX(1);
    btx_t x = {15, 0, 0};
    cb_engine_pair_t p;
    memset(&p, 0, sizeof p);
    p.series = s;
    p.strategy = &btx_strategy;
    p.strategy_self = &x;
    cb_instrument_default(&p.instrument, "INDEX/USD");
    cb_engine_result_t r;
    cb_diag_t d;
    assert_int_equal(cb_engine_run(&cfg, &p, 1, &r, &d), 0);
    /* 12 buys, 11 sells; the 12th position is still open at the end (we close it at the last
     * close, end_of_data, so final value = backtrader's cash + position value) */
    json_t *buys = json_object_get(t, "expected_buy_exec_price");
    json_t *sells = json_object_get(t, "expected_sell_exec_price");
    json_t *bc = json_object_get(t, "expected_buy_create_close");
    assert_int_equal(r.n_trades, json_array_size(buys));
    for (size_t k = 0; k < r.n_trades; k++) {
        assert_int_equal(r.trades[k].entry_price,
                         fx_str(json_string_value(json_array_get(buys, k))));
        /* the close of the signal bar */
        size_t i = cb_series_lower_bound(s, r.trades[k].signal_time_ms);
        assert_int_equal(cb_fx_from_double(s->close[i]),
                         fx_str(json_string_value(json_array_get(bc, k))));
        if (k < json_array_size(sells))
            assert_int_equal(r.trades[k].exit_price,
                             fx_str(json_string_value(json_array_get(sells, k))));
        else
            assert_int_equal(r.trades[k].exit_reason, CB_EXIT_END_OF_DATA);
    }
    json_t *v = json_array_get(json_object_get(t, "variants"), 0);
    assert_int_equal(r.final_balance,
                     fx_str(json_string_value(json_object_get(v, "expected_final_value"))));
    /* and the dates, from the regenerated run */
    json_t *rows = json_array_get(json_object_get(t, "regenerated_orders_with_dates"), 0);
    check_orders(&r, json_object_get(rows, "orders"));
    cb_engine_result_free(&r);
    json_decref(root);
    cb_series_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_btcusdt_sma_crossover),
        cmocka_unit_test(test_backtrader_2006_sample),
    };
    return cmocka_run_group_tests_name("engine_oracle", tests, NULL, NULL);
}
