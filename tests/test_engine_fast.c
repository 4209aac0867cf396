/* The single-pair backtest loop (engine.c's single_loop, with its precomputed quiet test, its
 * per-pair totals added at the end and, for precomputed signals, the flat stretches stepped
 * over) must give the same result, bit for bit, as the general loop that cb_engine_run is
 * documented to be: open, step(next_time()) until the end, finish. Random strategies over a
 * synthetic market, every stake kind, costs, stop-loss, take-profit, trailing stop, from/to
 * windows, warm-ups longer than the window, tiny chart strides and a market with holes; each
 * run four ways:
 * cb_engine_run and the stepping API, each with the decisions from on_bar and from precomputed
 * signal columns. Also: the signal columns are checked (both or neither), and a live run
 * ignores them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "comeback/data.h"
#include "comeback/engine.h"
#include "engine_fixtures.h"

/* on_bar reads the same columns that are handed to the engine as precomputed signals */
typedef struct cols {
    const uint8_t *entry, *exit;
    size_t warmup;
} cols_t;

static size_t cols_warmup(void *self) { return ((cols_t *)self)->warmup; }
static int cols_on_bar(void *self, const cb_bar_view_t *b, const cb_position_view_t *pos,
                       cb_decision_t *out)
{
    const cols_t *c = self;
    (void)pos;
    out->enter = c->entry[b->n - 1];
    out->exit = c->exit[b->n - 1];
    return 0;
}
static const cb_strategy_v1_t cols_strategy = {
    CB_STRATEGY_ABI_VERSION, "columns", NULL, cols_warmup, cols_on_bar, NULL,
};

static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}
static double urand(uint64_t *s) { return (double)(next(s) >> 11) / 9007199254740992.0; }

static cb_series_t *market(size_t n, const char *tf, uint64_t seed)
{
    cb_synth_opts_t so = {n, tf, seed, 0, 0, NULL};
    cb_series_t *s = NULL;
    cb_diag_t d;
    assert_int_equal(cb_synth_generate(&so, &s, &d), 0);
    return s;
}

/* The same market with holes (exchange outages): irregular spacing, days with few bars. */
static cb_series_t *with_holes(const cb_series_t *s, uint64_t seed)
{
    cb_series_t *o = cb_series_new(s->n);
    for (size_t i = 0; i < s->n; i++) {
        if (i % 500 >= 480 || (urand(&seed) < 0.05 && i > 0))
            continue;
        cb_series_push(o, s->time_ms[i], s->open[i], s->high[i], s->low[i], s->close[i],
                       s->volume[i]);
    }
    return o;
}

static int run_stepping(const cb_engine_config_t *cfg, const cb_engine_pair_t *p,
                        cb_engine_result_t *out, cb_diag_t *d)
{
    cb_engine_t *e;
    int rc = cb_engine_open(cfg, p, 1, &e, d);
    if (rc)
        return rc;
    for (int64_t t; !rc && (t = cb_engine_next_time(e)) != INT64_MAX;)
        rc = cb_engine_step(e, t, d);
    if (!rc)
        rc = cb_engine_finish(e, out, d);
    cb_engine_free(e);
    return rc;
}

#define SAME(field) assert_memory_equal(&a->field, &b->field, sizeof a->field)
#define SAME_ARR(ptr, n) \
    do { \
        if (a->n) \
            assert_memory_equal(a->ptr, b->ptr, a->n * sizeof *a->ptr); \
    } while (0)

static void same_result(const cb_engine_result_t *a, const cb_engine_result_t *b)
{
    SAME(start_balance); SAME(final_balance); SAME(realised_pnl); SAME(fees_paid);
    SAME(slippage_paid); SAME(balanced); SAME(n_trades); SAME(n_pairs); SAME(entry_signals);
    SAME(rejected); SAME(rejected_exits); SAME(expired_entries); SAME(refused_entries);
    SAME(steps); SAME(steps_in_market); SAME(first_ms); SAME(last_ms); SAME(timeframe_ms);
    SAME(equity_min); SAME(equity_max); SAME(max_dd_pct); SAME(max_dd_abs);
    SAME(max_dd_peak_ms); SAME(max_dd_trough_ms); SAME(max_dd_recovery_ms); SAME(max_dd_bars);
    SAME(max_dd_duration_ms); SAME(ulcer_index); SAME(n_days); SAME(n_curve);
    SAME(buy_hold_return_pct);
    for (size_t i = 0; i < a->n_trades; i++) {
        const cb_trade_t *x = &a->trades[i], *y = &b->trades[i];
        assert_int_equal(x->entry_time_ms, y->entry_time_ms);
        assert_int_equal(x->exit_time_ms, y->exit_time_ms);
        assert_int_equal(x->signal_time_ms, y->signal_time_ms);
        assert_int_equal(x->entry_price, y->entry_price);
        assert_int_equal(x->exit_price, y->exit_price);
        assert_int_equal(x->quantity, y->quantity);
        assert_int_equal(x->fees, y->fees);
        assert_int_equal(x->pnl, y->pnl);
        assert_int_equal(x->exit_reason, y->exit_reason);
        assert_int_equal(x->bars_held, y->bars_held);
        assert_memory_equal(&x->mae_pct, &y->mae_pct, sizeof x->mae_pct);
        assert_memory_equal(&x->mfe_pct, &y->mfe_pct, sizeof x->mfe_pct);
        assert_memory_equal(&x->pnl_pct, &y->pnl_pct, sizeof x->pnl_pct);
    }
    SAME_ARR(day_ms, n_days);
    SAME_ARR(day_equity, n_days);
    SAME_ARR(curve_ms, n_curve);
    SAME_ARR(curve_equity, n_curve);
    SAME_ARR(curve_bh, n_curve);
    SAME_ARR(curve_dd_pct, n_curve);
    for (size_t k = 0; k < a->n_pairs; k++) {
        const cb_pair_result_t *x = &a->pairs[k], *y = &b->pairs[k];
        assert_int_equal(x->bars, y->bars);
        assert_int_equal(x->first_ms, y->first_ms);
        assert_int_equal(x->last_ms, y->last_ms);
        assert_memory_equal(&x->first_close, &y->first_close, sizeof(double));
        assert_memory_equal(&x->last_close, &y->last_close, sizeof(double));
        assert_int_equal(x->n_samples, y->n_samples);
        if (x->n_samples) {
            assert_memory_equal(x->sample_ms, y->sample_ms, x->n_samples * sizeof(int64_t));
            assert_memory_equal(x->sample_close, y->sample_close,
                                x->n_samples * sizeof(double));
        }
    }
}

static void one_market(const cb_series_t *s, uint64_t seed, int runs, size_t *trades)
{
    size_t n = s->n;
    uint8_t *en = malloc(n), *ex = malloc(n);
    assert_non_null(en);
    assert_non_null(ex);
    for (int run = 0; run < runs; run++) {
        double pe = 0.002 + 0.08 * urand(&seed), px = 0.002 + 0.08 * urand(&seed);
        for (size_t i = 0; i < n; i++) {
            en[i] = urand(&seed) < pe;
            ex[i] = urand(&seed) < px;
        }
        cb_engine_config_t cfg;
        cb_engine_config_default(&cfg);
        double u = urand(&seed);
        switch (run % 4) {
        case 0: cfg.stake.kind = CB_STAKE_QUOTE; cfg.stake.amount = FX(100 + 900 * u); break;
        case 1: cfg.stake.kind = CB_STAKE_PERCENT; cfg.stake.fraction = FX(0.05 + 0.9 * u); break;
        case 2: cfg.stake.kind = CB_STAKE_BASE; cfg.stake.amount = FX(0.01) * (1 + run % 5); break;
        default: cfg.stake.kind = CB_STAKE_ALL; break;
        }
        cfg.costs.taker_fee = FX(0.001) * (run % 3);
        cfg.costs.maker_fee = FX(0.00075) * (run % 2);
        cfg.costs.slippage = FX(0.0005) * (run % 4);
        cfg.stop_loss = run % 2 ? 0.005 + 0.05 * urand(&seed) : 0;
        cfg.take_profit = run % 3 ? 0.005 + 0.05 * urand(&seed) : 0;
        cfg.trailing_stop = run % 5 > 1 ? 0.003 + 0.03 * urand(&seed) : 0;
        cfg.trailing_offset = run % 7 > 3 ? 0.02 * urand(&seed) : 0;
        cfg.chart_points = run % 3 ? 0 : 1 + (size_t)(urand(&seed) * 50);
        if (run % 6 == 5)
            cfg.from_ms = s->time_ms[n / 3];
        if (run % 8 == 7)
            cfg.to_ms = s->time_ms[n - n / 4];
        cols_t cols = {en, ex, run % 9 == 8 ? n + 10 : (size_t)(urand(&seed) * 300)};
        cb_engine_pair_t p;
        memset(&p, 0, sizeof p);
        p.series = s;
        cb_instrument_default(&p.instrument, "SYN/USDT");
        p.instrument.tick = FX(0.01);
        p.instrument.step = FX(0.0001);
        p.instrument.min_notional = FX(10) * (run % 2);
        p.strategy = &cols_strategy;
        p.strategy_self = &cols;
        cb_engine_result_t ref, got;
        cb_diag_t d;
        cb_diag_clear(&d);
        assert_int_equal(run_stepping(&cfg, &p, &ref, &d), 0);
        assert_true(ref.balanced);
        *trades += ref.n_trades;
        for (int way = 0; way < 3; way++) {
            cb_engine_pair_t q = p;
            if (way > 0) {
                q.entry_signal = en;
                q.exit_signal = ex;
            }
            int rc = way == 2 ? run_stepping(&cfg, &q, &got, &d)
                              : cb_engine_run(&cfg, &q, 1, &got, &d);
            if (rc)
                fail_msg("run %d way %d: %s", run, way, d.msg);
            same_result(&ref, &got);
            cb_engine_result_free(&got);
        }
        cb_engine_result_free(&ref);
    }
    free(en);
    free(ex);
}

static void test_fast_loop_same_as_stepping(void **state)
{
    (void)state;
    size_t trades = 0;
    cb_series_t *h1 = market(6000, "1h", 3), *m1 = market(20000, "1m", 9);
    one_market(h1, 0x9E3779B97F4A7C15ull, 40, &trades);
    one_market(m1, 0xD1B54A32D192ED03ull, 16, &trades);
    cb_series_t *holes = with_holes(h1, 77);
    one_market(holes, 0x2545F4914F6CDD1Dull, 16, &trades);
    assert_true(trades > 1000); /* the runs trade: the comparison means something */
    cb_series_free(h1);
    cb_series_free(m1);
    cb_series_free(holes);
}

static void test_signal_columns_checked(void **state)
{
    (void)state;
    cb_series_t *s = market(100, "1h", 1);
    uint8_t col[100] = {0};
    cols_t cols = {col, col, 0};
    cb_engine_pair_t p;
    memset(&p, 0, sizeof p);
    p.series = s;
    cb_instrument_default(&p.instrument, "SYN/USDT");
    p.strategy = &cols_strategy;
    p.strategy_self = &cols;
    p.entry_signal = col; /* no exit column */
    cb_engine_config_t cfg;
    cb_engine_config_default(&cfg);
    cb_engine_result_t r;
    cb_diag_t d;
    cb_diag_clear(&d);
    assert_int_equal(cb_engine_run(&cfg, &p, 1, &r, &d), CB_EINVAL);
    assert_non_null(strstr(d.msg, "entry and the exit column"));
    cb_series_free(s);
}

/* A live run's series grows past any precomputed column: the engine asks on_bar. */
static size_t g_calls;
static int counting_on_bar(void *self, const cb_bar_view_t *b, const cb_position_view_t *pos,
                           cb_decision_t *out)
{
    (void)self;
    (void)b;
    (void)pos;
    (void)out;
    g_calls++;
    return 0;
}
static const cb_strategy_v1_t counting = {
    CB_STRATEGY_ABI_VERSION, "counting", NULL, NULL, counting_on_bar, NULL,
};

static void test_live_ignores_signals(void **state)
{
    (void)state;
    cb_series_t *s = market(50, "1h", 2);
    uint8_t col[1] = {0}; /* far too short: must not be read */
    cb_engine_pair_t p;
    memset(&p, 0, sizeof p);
    p.series = s;
    cb_instrument_default(&p.instrument, "SYN/USDT");
    p.strategy = &counting;
    p.entry_signal = p.exit_signal = col;
    cb_engine_config_t cfg;
    cb_engine_config_default(&cfg);
    cfg.live = 1;
    cb_engine_t *e;
    cb_diag_t d;
    g_calls = 0;
    assert_int_equal(cb_engine_open(&cfg, &p, 1, &e, &d), 0);
    for (int64_t t; (t = cb_engine_next_time(e)) != INT64_MAX;)
        assert_int_equal(cb_engine_step(e, t, &d), 0);
    assert_int_equal(g_calls, 50);
    cb_engine_free(e);
    cb_series_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_loop_same_as_stepping),
        cmocka_unit_test(test_signal_columns_checked),
        cmocka_unit_test(test_live_ignores_signals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
