/* engine/: the fill model and the bar loop, on hand-computed scenarios. Every expected number
 * below was worked out by hand from the candles in the test (see the comments). */
#include <math.h>
#include <stdio.h>

#include "engine_fixtures.h"
#include "testutil.h"

static cb_engine_config_t base_cfg(void)
{
    cb_engine_config_t c;
    cb_engine_config_default(&c);
    c.start_balance = FX(10000);
    c.stake.kind = CB_STAKE_BASE;
    c.stake.amount = FX(1);
    return c;
}

/* Runs one pair; asserts success and the balance identity. */
static void run1(const bar_row_t *rows, size_t n, script_t *sc, const cb_engine_config_t *cfg,
                 const cb_instrument_t *ins, cb_engine_result_t *r, cb_series_t **keep)
{
    cb_series_t *s = mk_series(rows, n, DAY_MS);
    cb_engine_pair_t p = {s, *ins, &script_strategy, sc, NULL, NULL};
    cb_diag_t d;
    cb_diag_clear(&d);
    int rc = cb_engine_run(cfg, &p, 1, r, &d);
    if (rc)
        print_message("engine: %s\n", d.msg);
    assert_int_equal(rc, 0);
    assert_true(r->balanced);
    assert_int_equal(r->start_balance + r->realised_pnl - r->fees_paid, r->final_balance);
    /* never looks ahead: the strategy saw at most bar i when called for bar i */
    assert_int_equal(sc->max_n_seen, n);
    assert_int_equal(sc->calls, n);
    if (keep)
        *keep = s;
    else
        cb_series_free(s);
}

/* ---- the fill model as a pure function -------------------------------------------------- */

static void test_fill_model(void **state)
{
    (void)state;
    cb_costs_t c = {0, 0, 0};
    cb_bar_fx_t bar = {T0, FX(100), FX(110), FX(90), FX(105)};
    cb_fill_quote_t q;
    int trig = 0;
    cb_order_t o = {0};
    o.side = CB_BUY;
    o.type = CB_ORDER_MARKET;
    o.qty = FX(1);
    /* market: at the open only, not for an order placed inside the bar */
    assert_true(cb_fill_match(&o, &trig, 0, &bar, CB_PHASE_AT_OPEN, 1, &c, &q));
    assert_int_equal(q.price, FX(100));
    assert_false(cb_fill_match(&o, &trig, 1, &bar, CB_PHASE_AT_OPEN, 1, &c, &q));
    assert_false(cb_fill_match(&o, &trig, 0, &bar, CB_PHASE_STOPS, 1, &c, &q));
    /* slippage 0.05%, tick 0.01: 100 * 1.0005 = 100.05 for a buy, 99.95 for a sell */
    c.slippage = FX(0.0005);
    assert_true(cb_fill_match(&o, &trig, 0, &bar, CB_PHASE_AT_OPEN, FX(0.01), &c, &q));
    assert_int_equal(q.price, FX(100.05));
    assert_int_equal(q.ref_price, FX(100));
    o.side = CB_SELL;
    assert_true(cb_fill_match(&o, &trig, 0, &bar, CB_PHASE_AT_OPEN, FX(0.01), &c, &q));
    assert_int_equal(q.price, FX(99.95));
    /* slippage never leaves the bar: open == high */
    cb_bar_fx_t flat = {T0, FX(100), FX(100), FX(99), FX(99.5)};
    o.side = CB_BUY;
    assert_true(cb_fill_match(&o, &trig, 0, &flat, CB_PHASE_AT_OPEN, FX(0.01), &c, &q));
    assert_int_equal(q.price, FX(100));
    c.slippage = 0;

    /* limit buy at 95: bar trades through (low 90 < 95) -> at the limit, maker */
    o.type = CB_ORDER_LIMIT;
    o.limit_price = FX(95);
    assert_false(cb_fill_match(&o, &trig, 0, &bar, CB_PHASE_AT_OPEN, 1, &c, &q));
    assert_true(cb_fill_match(&o, &trig, 0, &bar, CB_PHASE_LIMITS, 1, &c, &q));
    assert_int_equal(q.price, FX(95));
    assert_true(q.maker);
    /* gap through: limit 101 above the open 100 -> at the open */
    o.limit_price = FX(101);
    assert_true(cb_fill_match(&o, &trig, 0, &bar, CB_PHASE_AT_OPEN, 1, &c, &q));
    assert_int_equal(q.price, FX(100));
    /* touching is not trading through: limit 90 == low */
    o.limit_price = FX(90);
    assert_false(cb_fill_match(&o, &trig, 0, &bar, CB_PHASE_LIMITS, 1, &c, &q));

    /* stop-market sell at 95: reached inside the bar -> at the stop */
    o.side = CB_SELL;
    o.type = CB_ORDER_STOP_MARKET;
    o.stop_price = FX(95);
    assert_false(cb_fill_match(&o, &trig, 0, &bar, CB_PHASE_AT_OPEN, 1, &c, &q));
    assert_true(cb_fill_match(&o, &trig, 0, &bar, CB_PHASE_STOPS, 1, &c, &q));
    assert_int_equal(q.price, FX(95));
    assert_false(q.maker);
    /* gap past the stop: open 100 below a stop at 102 -> at the open */
    o.stop_price = FX(102);
    assert_true(cb_fill_match(&o, &trig, 0, &bar, CB_PHASE_AT_OPEN, 1, &c, &q));
    assert_int_equal(q.price, FX(100));
    /* stop-market buy at 108: high 110 reaches it */
    o.side = CB_BUY;
    o.stop_price = FX(108);
    assert_true(cb_fill_match(&o, &trig, 0, &bar, CB_PHASE_STOPS, 1, &c, &q));
    assert_int_equal(q.price, FX(108));

    /* stop-limit sell, stop 95 limit 94: triggered inside the bar, fills at the stop (no
     * slippage), never below 94 */
    o.side = CB_SELL;
    o.type = CB_ORDER_STOP_LIMIT;
    o.stop_price = FX(95);
    o.limit_price = FX(94);
    trig = 0;
    assert_true(cb_fill_match(&o, &trig, 0, &bar, CB_PHASE_STOPS, 1, &c, &q));
    assert_int_equal(q.price, FX(95));
    /* with 2% slippage 95 -> 93.1, capped at the limit 94 */
    c.slippage = FX(0.02);
    trig = 0;
    assert_true(cb_fill_match(&o, &trig, 0, &bar, CB_PHASE_STOPS, FX(0.01), &c, &q));
    assert_int_equal(q.price, FX(94));
    c.slippage = 0;
    /* gap below the limit: open 93 < limit 94 -> triggered, rests as a limit; the bar later
     * trades through 94 (high 96) -> fills at 94, maker */
    cb_bar_fx_t gap = {T0, FX(93), FX(96), FX(92), FX(95)};
    trig = 0;
    assert_false(cb_fill_match(&o, &trig, 0, &gap, CB_PHASE_AT_OPEN, 1, &c, &q));
    assert_int_equal(trig, 1);
    assert_false(cb_fill_match(&o, &trig, 0, &gap, CB_PHASE_STOPS, 1, &c, &q));
    assert_true(cb_fill_match(&o, &trig, 0, &gap, CB_PHASE_LIMITS, 1, &c, &q));
    assert_int_equal(q.price, FX(94));
    assert_true(q.maker);
    /* stop-limit buy: stop 108, limit 109 -> at 108 */
    o.side = CB_BUY;
    o.stop_price = FX(108);
    o.limit_price = FX(109);
    trig = 0;
    assert_true(cb_fill_match(&o, &trig, 0, &bar, CB_PHASE_STOPS, 1, &c, &q));
    assert_int_equal(q.price, FX(108));
}

static void test_fill_complete_and_rules(void **state)
{
    (void)state;
    cb_instrument_t ins = ins_cents();
    cb_costs_t c = {FX(0.001), FX(0.00075), 0};
    cb_order_t o = {0};
    o.side = CB_BUY;
    o.type = CB_ORDER_MARKET;
    o.quote_qty = FX(1000);
    cb_fill_quote_t q = {FX(300), FX(300), 0};
    cb_fill_t f;
    /* 1000 / (300 * 1.001) = 3.3300033 -> 3.330 (step 0.001); notional 999, fee 0.999 */
    assert_int_equal(cb_fill_complete(&o, &q, &ins, &c, FX(10000), T0, &f), CB_REJECT_NONE);
    assert_int_equal(f.qty, FX(3.33));
    assert_int_equal(f.notional, FX(999));
    assert_int_equal(f.fee, FX(0.999));
    /* not enough quote available */
    assert_int_equal(cb_fill_complete(&o, &q, &ins, &c, FX(999.5), T0, &f), CB_REJECT_BALANCE);
    /* min notional */
    ins.min_notional = FX(1000);
    assert_int_equal(cb_fill_complete(&o, &q, &ins, &c, FX(10000), T0, &f),
                     CB_REJECT_MIN_NOTIONAL);
    assert_int_equal(cb_order_check(&o, &ins), CB_REJECT_NONE); /* quote 1000 >= 1000 */
    o.quote_qty = FX(999);
    assert_int_equal(cb_order_check(&o, &ins), CB_REJECT_MIN_NOTIONAL);
    ins.min_notional = 0;
    /* off-step quantity and off-tick price are rejected, never resized */
    o.quote_qty = 0;
    o.qty = FX(0.0015);
    assert_int_equal(cb_order_check(&o, &ins), CB_REJECT_STEP);
    o.qty = FX(1);
    o.type = CB_ORDER_LIMIT;
    o.limit_price = FX(100.005);
    assert_int_equal(cb_order_check(&o, &ins), CB_REJECT_TICK);
    o.limit_price = FX(100.01);
    assert_int_equal(cb_order_check(&o, &ins), CB_REJECT_NONE);
    /* fees: maker 0.075% of 100.01 = 0.07500750 */
    cb_fill_quote_t qm = {FX(100.01), FX(100.01), 1};
    assert_int_equal(cb_fill_complete(&o, &qm, &ins, &c, FX(10000), T0, &f), CB_REJECT_NONE);
    assert_int_equal(f.fee, FX(0.0750075));
    /* rates */
    int64_t r;
    assert_int_equal(cb_rate_parse("0.1%", &r), 0);
    assert_int_equal(r, FX(0.001));
    assert_int_equal(cb_rate_parse("0.075%", &r), 0);
    assert_int_equal(r, FX(0.00075));
    assert_int_equal(cb_rate_parse("5bps", &r), 0);
    assert_int_equal(r, FX(0.0005));
    assert_int_equal(cb_rate_parse("0.002", &r), 0);
    assert_int_equal(r, FX(0.002));
    assert_int_not_equal(cb_rate_parse("-1%", &r), 0);
    assert_int_not_equal(cb_rate_parse("abc", &r), 0);
    /* instruments */
    cb_diag_t d;
    assert_int_equal(cb_instrument_parse(&ins, "tick=0.1, step=0.0001 min_notional=10", &d), 0);
    assert_int_equal(ins.tick, FX(0.1));
    assert_int_equal(ins.step, FX(0.0001));
    assert_int_equal(ins.min_notional, FX(10));
    assert_int_equal(cb_instrument_parse(&ins, "tik=0.1", &d), CB_EPARSE);
    assert_string_equal(d.field, "tik");
    assert_int_equal(cb_instrument_parse(&ins, "tick=0", &d), CB_EPARSE);
    assert_string_equal(ins.base, "BTC");
    assert_string_equal(ins.quote, "USDT");
}

static void test_stake_parse(void **state)
{
    (void)state;
    cb_stake_t s;
    cb_diag_t d;
    char buf[64];
    assert_int_equal(cb_stake_parse("1000", "USDT", &s, &d), 0);
    assert_int_equal(s.kind, CB_STAKE_QUOTE);
    assert_int_equal(s.amount, FX(1000));
    assert_int_equal(cb_stake_parse("1000 USDT", "USDT", &s, &d), 0);
    assert_int_equal(s.kind, CB_STAKE_QUOTE);
    assert_int_equal(cb_stake_parse("10%", "USDT", &s, &d), 0);
    assert_int_equal(s.kind, CB_STAKE_PERCENT);
    assert_int_equal(s.fraction, FX(0.1));
    cb_stake_format(&s, "USDT", buf, sizeof buf);
    assert_string_equal(buf, "10%");
    assert_int_equal(cb_stake_parse("1 BTC", "USDT", &s, &d), 0);
    assert_int_equal(s.kind, CB_STAKE_BASE);
    assert_int_equal(s.amount, FX(1));
    assert_string_equal(s.unit, "BTC");
    cb_stake_format(&s, "USDT", buf, sizeof buf);
    assert_string_equal(buf, "1 BTC");
    assert_int_equal(cb_stake_parse("all", "USDT", &s, &d), 0);
    assert_int_equal(s.kind, CB_STAKE_ALL);
    assert_int_equal(cb_stake_parse("lots", "USDT", &s, &d), CB_EPARSE);
    assert_string_equal(d.field, "stake");
    assert_int_equal(cb_stake_parse("120%", "USDT", &s, &d), CB_EPARSE);
    int64_t a;
    char cur[16];
    assert_int_equal(cb_money_parse("10000 USDT", &a, cur, sizeof cur), 0);
    assert_int_equal(a, FX(10000));
    assert_string_equal(cur, "USDT");
    assert_int_equal(cb_money_parse("x", &a, cur, sizeof cur), CB_EPARSE);
}

/* ---- the loop --------------------------------------------------------------------------- */

static const bar_row_t k_rise[] = {
    {100, 101, 99, 100}, /* 0: entry signal on this close */
    {102, 103, 101, 102},/* 1: entry fills at the open 102 */
    {104, 105, 103, 104},/* 2: exit signal */
    {106, 107, 105, 106},/* 3: exit fills at the open 106 */
    {108, 109, 107, 108},
};

static void test_market_timing(void **state)
{
    (void)state;
    script_t sc = {"E.X..", NULL, 0, 0, 0};
    cb_engine_config_t cfg = base_cfg();
    cb_instrument_t ins = ins_cents();
    cb_engine_result_t r;
    run1(k_rise, 5, &sc, &cfg, &ins, &r, NULL);
    assert_int_equal(r.n_trades, 1);
    cb_trade_t *t = &r.trades[0];
    assert_int_equal(t->signal_time_ms, T0);
    assert_int_equal(t->entry_time_ms, T0 + DAY_MS);
    assert_int_equal(t->entry_price, FX(102));
    assert_int_equal(t->exit_time_ms, T0 + 3 * DAY_MS);
    assert_int_equal(t->exit_price, FX(106));
    assert_int_equal(t->pnl, FX(4));
    assert_int_equal(t->exit_reason, CB_EXIT_EXIT_SIGNAL);
    assert_int_equal(t->bars_held, 2);
    assert_int_equal(r.final_balance, FX(10004));
    /* MAE/MFE: lows/highs of bars 1..2 and the exit price: low 101, high 106 from 102 */
    assert_close(t->mae_pct, (101.0 / 102.0 - 1) * 100, 1e-12, 1e-12);
    assert_close(t->mfe_pct, (106.0 / 102.0 - 1) * 100, 1e-12, 1e-12);
    /* in the market from the close of bar 1 to the close of bar 2: 2 of 5 closes */
    assert_int_equal(r.steps, 5);
    assert_int_equal(r.steps_in_market, 2);
    cb_engine_result_free(&r);
}

static void test_fees_and_slippage(void **state)
{
    (void)state;
    script_t sc = {"E.X..", NULL, 0, 0, 0};
    cb_engine_config_t cfg = base_cfg();
    cfg.costs.taker_fee = FX(0.001);
    cfg.costs.slippage = FX(0.0005);
    cb_instrument_t ins = ins_cents();
    cb_engine_result_t r;
    run1(k_rise, 5, &sc, &cfg, &ins, &r, NULL);
    assert_int_equal(r.n_trades, 1);
    cb_trade_t *t = &r.trades[0];
    /* buy: 102 * 1.0005 = 102.051 -> up to the tick 102.06; fee 0.10206
     * sell: 106 * 0.9995 = 105.947 -> down to 105.94; fee 0.10594 */
    assert_int_equal(t->entry_price, FX(102.06));
    assert_int_equal(t->exit_price, FX(105.94));
    assert_int_equal(t->fees, FX(0.10206 + 0.10594));
    assert_int_equal(t->slippage, FX(0.12));
    assert_int_equal(t->pnl, FX(105.94 - 102.06 - 0.208));
    assert_int_equal(r.final_balance, FX(10003.672));
    assert_int_equal(r.fees_paid, FX(0.208));
    assert_int_equal(r.slippage_paid, FX(0.12));
    cb_engine_result_free(&r);
}

static void test_stops(void **state)
{
    (void)state;
    cb_instrument_t ins = ins_cents();
    cb_engine_result_t r;
    cb_engine_config_t cfg = base_cfg();
    cfg.stop_loss = 0.05;
    cfg.take_profit = 0.10;
    /* intrabar stop: entry 100, stop 95, bar 2 reaches 94 */
    {
        bar_row_t b[] = {{100, 100, 100, 100}, {100, 101, 99, 100}, {99, 100, 94, 96},
                         {96, 97, 95, 96}};
        script_t sc = {"E", NULL, 0, 0, 0};
        run1(b, 4, &sc, &cfg, &ins, &r, NULL);
        assert_int_equal(r.n_trades, 1);
        assert_int_equal(r.trades[0].exit_price, FX(95));
        assert_int_equal(r.trades[0].exit_time_ms, T0 + 2 * DAY_MS);
        assert_int_equal(r.trades[0].exit_reason, CB_EXIT_STOP_LOSS);
        assert_int_equal(r.final_balance, FX(9995));
        cb_engine_result_free(&r);
    }
    /* gap through the stop: bar 2 opens at 90 -> fills at 90 */
    {
        bar_row_t b[] = {{100, 100, 100, 100}, {100, 101, 99, 100}, {90, 92, 89, 91},
                         {91, 92, 90, 91}};
        script_t sc = {"E", NULL, 0, 0, 0};
        run1(b, 4, &sc, &cfg, &ins, &r, NULL);
        assert_int_equal(r.n_trades, 1);
        assert_int_equal(r.trades[0].exit_price, FX(90));
        assert_int_equal(r.trades[0].exit_reason, CB_EXIT_STOP_LOSS);
        cb_engine_result_free(&r);
    }
    /* stop and target in the same bar: the stop is assumed first (pessimistic) */
    {
        bar_row_t b[] = {{100, 100, 100, 100}, {100, 101, 99, 100}, {100, 111, 94, 105},
                         {105, 106, 104, 105}};
        script_t sc = {"E", NULL, 0, 0, 0};
        run1(b, 4, &sc, &cfg, &ins, &r, NULL);
        assert_int_equal(r.n_trades, 1);
        assert_int_equal(r.trades[0].exit_price, FX(95));
        assert_int_equal(r.trades[0].exit_reason, CB_EXIT_STOP_LOSS);
        cb_engine_result_free(&r);
    }
    /* stop hit in the entry bar itself: entry at the open 100, low 94 */
    {
        bar_row_t b[] = {{100, 100, 100, 100}, {100, 101, 94, 96}, {96, 97, 95, 96}};
        script_t sc = {"E", NULL, 0, 0, 0};
        run1(b, 3, &sc, &cfg, &ins, &r, NULL);
        assert_int_equal(r.n_trades, 1);
        assert_int_equal(r.trades[0].entry_time_ms, T0 + DAY_MS);
        assert_int_equal(r.trades[0].exit_time_ms, T0 + DAY_MS);
        assert_int_equal(r.trades[0].exit_price, FX(95));
        cb_engine_result_free(&r);
    }
    /* target gapped through: opens at 112 above the 110 target -> at the open, maker fee */
    {
        cb_engine_config_t c2 = cfg;
        c2.costs.maker_fee = FX(0.001);
        c2.costs.slippage = FX(0.01); /* not applied to limit fills */
        bar_row_t b[] = {{100, 100, 100, 100}, {100, 101, 99, 100}, {112, 113, 111, 112},
                         {112, 113, 111, 112}};
        script_t sc = {"E", NULL, 0, 0, 0};
        run1(b, 4, &sc, &c2, &ins, &r, NULL);
        assert_int_equal(r.n_trades, 1);
        /* entry 100 * 1.01 = 101 (the bar's high): target 101 * 1.1 = 111.1 */
        assert_int_equal(r.trades[0].entry_price, FX(101));
        assert_int_equal(r.trades[0].exit_price, FX(112));
        assert_int_equal(r.trades[0].exit_reason, CB_EXIT_TAKE_PROFIT);
        assert_int_equal(r.trades[0].fees, FX(0.112));
        cb_engine_result_free(&r);
    }
    /* target touched but not traded through, then traded through the next bar */
    {
        bar_row_t b[] = {{100, 100, 100, 100}, {100, 101, 99, 100}, {105, 110, 104, 108},
                         {108, 110.5, 107, 110}, {110, 111, 109, 110}};
        script_t sc = {"E", NULL, 0, 0, 0};
        run1(b, 5, &sc, &cfg, &ins, &r, NULL);
        assert_int_equal(r.n_trades, 1);
        assert_int_equal(r.trades[0].exit_time_ms, T0 + 3 * DAY_MS);
        assert_int_equal(r.trades[0].exit_price, FX(110));
        assert_int_equal(r.trades[0].exit_reason, CB_EXIT_TAKE_PROFIT);
        cb_engine_result_free(&r);
    }
}

static void test_trailing(void **state)
{
    (void)state;
    cb_instrument_t ins = ins_cents();
    cb_engine_result_t r;
    cb_engine_config_t cfg = base_cfg();
    cfg.trailing_stop = 0.10;
    /* entry 100; the entry bar reaches 120 -> trailing stop 108 from the next bar */
    bar_row_t b[] = {{100, 100, 100, 100}, {100, 120, 99, 118}, {118, 119, 107, 110},
                     {110, 111, 100, 105}};
    script_t sc = {"E", NULL, 0, 0, 0};
    run1(b, 4, &sc, &cfg, &ins, &r, NULL);
    assert_int_equal(r.n_trades, 1);
    assert_int_equal(r.trades[0].exit_price, FX(108));
    assert_int_equal(r.trades[0].exit_time_ms, T0 + 2 * DAY_MS);
    assert_int_equal(r.trades[0].exit_reason, CB_EXIT_TRAILING_STOP);
    cb_engine_result_free(&r);
    /* with trailing_offset 25%: 120 never reaches 125, so no trailing; the fixed 5% stop
     * (95) fires in bar 3 instead */
    cfg.trailing_offset = 0.25;
    cfg.stop_loss = 0.05;
    script_t sc2 = {"E", NULL, 0, 0, 0};
    run1(b, 4, &sc2, &cfg, &ins, &r, NULL);
    assert_int_equal(r.n_trades, 1);
    assert_int_equal(r.trades[0].exit_reason, CB_EXIT_END_OF_DATA);
    assert_int_equal(r.trades[0].exit_price, FX(105));
    cb_engine_result_free(&r);
    bar_row_t b2[] = {{100, 100, 100, 100}, {100, 120, 99, 118}, {118, 119, 107, 110},
                      {110, 111, 94, 105}, {105, 106, 104, 105}};
    script_t sc3 = {"E", NULL, 0, 0, 0};
    run1(b2, 5, &sc3, &cfg, &ins, &r, NULL);
    assert_int_equal(r.trades[0].exit_reason, CB_EXIT_STOP_LOSS);
    assert_int_equal(r.trades[0].exit_price, FX(95));
    cb_engine_result_free(&r);
}

static void test_limit_entries(void **state)
{
    (void)state;
    cb_instrument_t ins = ins_cents();
    cb_engine_result_t r;
    cb_engine_config_t cfg = base_cfg();
    cfg.costs.maker_fee = FX(0.001);
    double lim[] = {98, 98, 98, 98};
    /* bar 1 trades through 98 -> fills at 98 */
    {
        bar_row_t b[] = {{100, 100, 100, 100}, {100, 101, 97, 99}, {99, 100, 98, 99}};
        script_t sc = {"E", lim, 0, 0, 0};
        run1(b, 3, &sc, &cfg, &ins, &r, NULL);
        assert_int_equal(r.n_trades, 1);
        assert_int_equal(r.trades[0].entry_price, FX(98));
        assert_int_equal(r.trades[0].fees, FX(0.098)); /* the end-of-data close pays taker 0 */
        cb_engine_result_free(&r);
    }
    /* gap through: opens at 96 -> fills at the open */
    {
        bar_row_t b[] = {{100, 100, 100, 100}, {96, 97, 95, 96}, {96, 97, 95, 96}};
        script_t sc = {"E", lim, 0, 0, 0};
        run1(b, 3, &sc, &cfg, &ins, &r, NULL);
        assert_int_equal(r.trades[0].entry_price, FX(96));
        cb_engine_result_free(&r);
    }
    /* never reached in its bar -> expires (counted), no trade */
    {
        bar_row_t b[] = {{100, 100, 100, 100}, {100, 101, 98.5, 99}, {99, 100, 90, 99}};
        script_t sc = {"E", lim, 0, 0, 0};
        run1(b, 3, &sc, &cfg, &ins, &r, NULL);
        assert_int_equal(r.n_trades, 0);
        assert_int_equal(r.expired_entries, 1);
        assert_int_equal(r.final_balance, FX(10000));
        cb_engine_result_free(&r);
    }
}

static void test_rejections(void **state)
{
    (void)state;
    cb_engine_result_t r;
    bar_row_t b[] = {{200, 200, 200, 200}, {200, 201, 199, 200}, {200, 201, 199, 200}};
    /* min notional 50 against a 40 quote stake: refused at once */
    {
        cb_instrument_t ins = ins_cents();
        ins.min_notional = FX(50);
        cb_engine_config_t cfg = base_cfg();
        cfg.stake.kind = CB_STAKE_QUOTE;
        cfg.stake.amount = FX(40);
        script_t sc = {"EEE", NULL, 0, 0, 0};
        run1(b, 3, &sc, &cfg, &ins, &r, NULL);
        assert_int_equal(r.n_trades, 0);
        assert_int_equal(r.rejected[CB_REJECT_MIN_NOTIONAL], 2); /* bars 0 and 1 */
        assert_int_equal(r.entry_signals, 2);
        cb_engine_result_free(&r);
    }
    /* 0.2 at 200 = 40 < 50: refused when it would fill (the price is known then) */
    {
        cb_instrument_t ins = ins_cents();
        ins.min_notional = FX(50);
        cb_engine_config_t cfg = base_cfg();
        cfg.stake.amount = FX(0.2);
        script_t sc = {"E", NULL, 0, 0, 0};
        run1(b, 3, &sc, &cfg, &ins, &r, NULL);
        assert_int_equal(r.n_trades, 0);
        assert_int_equal(r.rejected[CB_REJECT_MIN_NOTIONAL], 1);
        cb_engine_result_free(&r);
    }
    /* off-step quantity: refused, not rounded */
    {
        cb_instrument_t ins = ins_cents();
        cb_engine_config_t cfg = base_cfg();
        cfg.stake.amount = FX(0.0015);
        script_t sc = {"E", NULL, 0, 0, 0};
        run1(b, 3, &sc, &cfg, &ins, &r, NULL);
        assert_int_equal(r.n_trades, 0);
        assert_int_equal(r.rejected[CB_REJECT_STEP], 1);
        cb_engine_result_free(&r);
    }
    /* insufficient balance: 1 BTC at 200 with 100 in the account */
    {
        cb_instrument_t ins = ins_cents();
        cb_engine_config_t cfg = base_cfg();
        cfg.start_balance = FX(100);
        script_t sc = {"E", NULL, 0, 0, 0};
        run1(b, 3, &sc, &cfg, &ins, &r, NULL);
        assert_int_equal(r.n_trades, 0);
        assert_int_equal(r.rejected[CB_REJECT_BALANCE], 1);
        assert_int_equal(r.final_balance, FX(100));
        cb_engine_result_free(&r);
    }
}

/* An exit refused by the venue keeps the position protected. Min notional 90, 1 BTC, stop-loss
 * 5%, take-profit 30%: entry at bar 1's open 100 (notional 100), stop 95, target 130. The exit
 * signal on bar 1 cancels both and sends a market sell; bar 2 opens at 89, so the sell would
 * be 89 < 90: refused when it would fill (counted in rejected_exits). The stop (95) and the
 * target (130) go back after bar 2; bar 3 trades down through 95: stopped out at 95, pnl -5.
 * Without them the position would have been held to the end (settled at 94). */
static void test_refused_exit_keeps_protection(void **state)
{
    (void)state;
    cb_instrument_t ins = ins_cents();
    ins.min_notional = FX(90);
    cb_engine_config_t cfg = base_cfg();
    cfg.stop_loss = 0.05;
    cfg.take_profit = 0.30;
    bar_row_t b[] = {{100, 100, 100, 100}, {100, 101, 99, 100}, {89, 99, 88, 98},
                     {98, 99, 93, 94},     {94, 95, 93, 94}};
    script_t sc = {"EX", NULL, 0, 0, 0};
    /* bar by bar, to see the orders resting after bar 2 */
    cb_series_t *s = mk_series(b, 5, DAY_MS);
    cb_engine_pair_t p = {s, ins, &script_strategy, &sc, NULL, NULL};
    cb_engine_t *e;
    cb_diag_t d;
    assert_int_equal(cb_engine_open(&cfg, &p, 1, &e, &d), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(cb_engine_step(e, cb_engine_next_time(e), &d), 0);
    cb_engine_position_t pos;
    assert_int_equal(cb_engine_position(e, 0, &pos), 0);
    assert_int_equal(pos.open, 1);
    assert_int_equal(pos.exit_pending, 0);
    assert_int_equal(pos.stop_level, FX(95));
    assert_int_equal(pos.tp_level, FX(130));
    assert_int_equal(cb_engine_progress(e)->rejected_exits, 1);
    cb_engine_free(e);
    cb_series_free(s);
    /* the whole run */
    cb_engine_result_t r;
    script_t sc2 = {"EX", NULL, 0, 0, 0};
    run1(b, 5, &sc2, &cfg, &ins, &r, NULL);
    assert_int_equal(r.rejected_exits, 1);
    assert_int_equal(r.n_trades, 1);
    assert_int_equal(r.trades[0].exit_reason, CB_EXIT_STOP_LOSS);
    assert_int_equal(r.trades[0].exit_time_ms, T0 + 3 * DAY_MS);
    assert_int_equal(r.trades[0].exit_price, FX(95));
    assert_int_equal(r.trades[0].pnl, FX(-5));
    assert_int_equal(r.final_balance, FX(9995));
    cb_engine_result_free(&r);
}

/* A stop refused when it would fill goes back: stop 95 on 1 unit, minimum notional 90. Bar 2
 * gaps down to 80: the stop would fill at the open, 80 < 90, refused and counted. The stop is
 * placed again after the bar (and the target with it, untouched); bar 3 opens at 93 below it:
 * stopped out at 93 (>= 90). Without that the position would have been held to the end. */
static void test_refused_stop_goes_back(void **state)
{
    (void)state;
    cb_instrument_t ins = ins_cents();
    ins.min_notional = FX(90);
    cb_engine_config_t cfg = base_cfg();
    cfg.stop_loss = 0.05;
    cfg.take_profit = 0.30;
    bar_row_t b[] = {{100, 100, 100, 100}, {100, 101, 99, 100}, {80, 85, 79, 84},
                     {93, 97, 92, 96},     {96, 97, 95, 96}};
    cb_engine_result_t r;
    script_t sc = {"E", NULL, 0, 0, 0};
    run1(b, 5, &sc, &cfg, &ins, &r, NULL);
    assert_int_equal(r.rejected_exits, 1);
    assert_int_equal(r.n_trades, 1);
    assert_int_equal(r.trades[0].exit_reason, CB_EXIT_STOP_LOSS);
    assert_int_equal(r.trades[0].exit_time_ms, T0 + 3 * DAY_MS);
    assert_int_equal(r.trades[0].exit_price, FX(93));
    assert_int_equal(r.final_balance, FX(9993));
    cb_engine_result_free(&r);
}

static void test_end_of_data(void **state)
{
    (void)state;
    cb_instrument_t ins = ins_cents();
    cb_engine_config_t cfg = base_cfg();
    cfg.costs.taker_fee = FX(0.001);
    cfg.costs.slippage = FX(0.001);
    cb_engine_result_t r;
    script_t sc = {"E", NULL, 0, 0, 0};
    run1(k_rise, 5, &sc, &cfg, &ins, &r, NULL);
    assert_int_equal(r.n_trades, 1);
    cb_trade_t *t = &r.trades[0];
    /* entry 102 * 1.001 = 102.102 -> 102.11; closed at the last close 108, taker fee, no
     * slippage */
    assert_int_equal(t->exit_reason, CB_EXIT_END_OF_DATA);
    assert_int_equal(t->exit_price, FX(108));
    assert_int_equal(t->exit_time_ms, T0 + 4 * DAY_MS);
    assert_int_equal(t->fees, FX(0.10211 + 0.108));
    assert_int_equal(r.final_balance, FX(10000 + 108 - 102.11 - 0.21011));
    cb_engine_result_free(&r);
}

static void test_sizing(void **state)
{
    (void)state;
    cb_instrument_t ins = ins_cents();
    cb_engine_result_t r;
    /* 10% of 10000 at 102 with fee 0.1%: 1000 / 102.102 = 9.794 (step 0.001) */
    cb_engine_config_t cfg = base_cfg();
    cfg.costs.taker_fee = FX(0.001);
    cfg.stake.kind = CB_STAKE_PERCENT;
    cfg.stake.fraction = FX(0.10);
    script_t sc = {"E.X..", NULL, 0, 0, 0};
    run1(k_rise, 5, &sc, &cfg, &ins, &r, NULL);
    assert_int_equal(r.trades[0].quantity, FX(9.794));
    cb_engine_result_free(&r);
    /* all: 10000 / 102.102 = 97.941 */
    cfg.stake.kind = CB_STAKE_ALL;
    script_t sc2 = {"E.X..", NULL, 0, 0, 0};
    run1(k_rise, 5, &sc2, &cfg, &ins, &r, NULL);
    assert_int_equal(r.trades[0].quantity, FX(97.941));
    assert_true(r.trades[0].entry_notional + FX(0.1) <= FX(10000));
    cb_engine_result_free(&r);
    /* quote 500 */
    cfg.stake.kind = CB_STAKE_QUOTE;
    cfg.stake.amount = FX(500);
    script_t sc3 = {"E.X..", NULL, 0, 0, 0};
    run1(k_rise, 5, &sc3, &cfg, &ins, &r, NULL);
    assert_int_equal(r.trades[0].quantity, FX(4.897));
    cb_engine_result_free(&r);
}

static void test_multi_pair(void **state)
{
    (void)state;
    /* two pairs share 1000 of quote; each wants 600 on the same close: the first gets it, the
     * second is refused for balance. Pair B has a missing bar (day 2): alignment by time. */
    bar_row_t a[] = {{100, 100, 100, 100}, {100, 101, 99, 100}, {110, 111, 109, 110},
                     {120, 121, 119, 120}};
    bar_row_t b[] = {{50, 50, 50, 50}, {50, 51, 49, 50}, {60, 61, 59, 60}};
    cb_series_t *sa = mk_series(a, 4, DAY_MS);
    cb_series_t *sb = cb_series_new(3);
    cb_series_push(sb, T0, 50, 50, 50, 50, 1);
    cb_series_push(sb, T0 + DAY_MS, 50, 51, 49, 50, 1);
    cb_series_push(sb, T0 + 3 * DAY_MS, 60, 61, 59, 60, 1);
    (void)b;
    script_t s1 = {"E", NULL, 0, 0, 0}, s2 = {"E", NULL, 0, 0, 0};
    cb_engine_pair_t pairs[2];
    memset(pairs, 0, sizeof pairs);
    cb_instrument_default(&pairs[0].instrument, "AAA/USDT");
    cb_instrument_default(&pairs[1].instrument, "BBB/USDT");
    pairs[0].series = sa;
    pairs[0].strategy = &script_strategy;
    pairs[0].strategy_self = &s1;
    pairs[1].series = sb;
    pairs[1].strategy = &script_strategy;
    pairs[1].strategy_self = &s2;
    cb_engine_config_t cfg = base_cfg();
    cfg.start_balance = FX(1000);
    cfg.stake.kind = CB_STAKE_QUOTE;
    cfg.stake.amount = FX(600);
    cb_engine_result_t r;
    cb_diag_t d;
    assert_int_equal(cb_engine_run(&cfg, pairs, 2, &r, &d), 0);
    assert_true(r.balanced);
    assert_int_equal(r.n_trades, 1);
    assert_int_equal(r.trades[0].pair, 0);
    assert_int_equal(r.rejected[CB_REJECT_BALANCE], 1);
    /* 6 AAA at 100, closed at 120: +120 */
    assert_int_equal(r.trades[0].quantity, FX(6));
    assert_int_equal(r.final_balance, FX(1120));
    assert_int_equal(r.steps, 4);
    /* buy and hold: (120/100 + 60/50) / 2 - 1 = 20% */
    assert_close(r.buy_hold_return_pct, 20.0, 1e-12, 1e-12);
    cb_engine_result_free(&r);
    /* max_open_trades = 1 with enough money: the second entry is refused for that reason */
    cfg.start_balance = FX(10000);
    cfg.max_open_trades = 1;
    s1.max_n_seen = s2.max_n_seen = 0;
    assert_int_equal(cb_engine_run(&cfg, pairs, 2, &r, &d), 0);
    assert_int_equal(r.n_trades, 1);
    assert_int_equal(r.rejected[CB_REJECT_MAX_OPEN_TRADES], 1);
    cb_engine_result_free(&r);
    /* both fit when max_open_trades = 2 */
    cfg.max_open_trades = 2;
    assert_int_equal(cb_engine_run(&cfg, pairs, 2, &r, &d), 0);
    assert_int_equal(r.n_trades, 2);
    assert_int_equal(r.trades[1].pair, 1);
    assert_int_equal(r.trades[1].exit_reason, CB_EXIT_END_OF_DATA);
    assert_int_equal(r.trades[1].exit_time_ms, T0 + 3 * DAY_MS);
    cb_engine_result_free(&r);
    cb_series_free(sa);
    cb_series_free(sb);
}

static void test_drawdown(void **state)
{
    (void)state;
    /* hold 1 unit from 100: closes 100 120 90 130 -> equity 10000 10020 9990 10030;
     * peak 10020, trough 9990: 30 / 10020 */
    bar_row_t b[] = {{100, 100, 100, 100}, {100, 121, 99, 120}, {120, 121, 89, 90},
                     {90, 131, 89, 130}};
    cb_instrument_t ins = ins_cents();
    cb_engine_config_t cfg = base_cfg();
    script_t sc = {"E", NULL, 0, 0, 0};
    cb_engine_result_t r;
    run1(b, 4, &sc, &cfg, &ins, &r, NULL);
    assert_close(r.max_dd_abs, 30.0, 1e-12, 1e-9);
    assert_close(r.max_dd_pct, 30.0 / 10020.0 * 100.0, 1e-12, 1e-12);
    assert_int_equal(r.max_dd_peak_ms, T0 + DAY_MS);
    assert_int_equal(r.max_dd_trough_ms, T0 + 2 * DAY_MS);
    assert_int_equal(r.max_dd_recovery_ms, T0 + 3 * DAY_MS);
    assert_int_equal(r.max_dd_bars, 1);
    assert_int_equal(r.n_days, 4);
    assert_close(r.day_equity[3], 10030.0, 1e-12, 1e-9);
    cb_engine_result_free(&r);
}

static void test_window_and_warmup(void **state)
{
    (void)state;
    /* from = day 2: bars 0-1 only warm up (signals ignored), trading from bar 2 */
    cb_instrument_t ins = ins_cents();
    cb_engine_config_t cfg = base_cfg();
    cfg.from_ms = T0 + 2 * DAY_MS;
    cfg.to_ms = T0 + 3 * DAY_MS;
    script_t sc = {"EEE..", NULL, 0, 0, 0};
    cb_engine_result_t r;
    cb_series_t *s = mk_series(k_rise, 5, DAY_MS);
    cb_engine_pair_t p = {s, ins, &script_strategy, &sc, NULL, NULL};
    cb_diag_t d;
    assert_int_equal(cb_engine_run(&cfg, &p, 1, &r, &d), 0);
    assert_int_equal(sc.calls, 4); /* bar 4 is after `to` */
    assert_int_equal(r.steps, 2);
    assert_int_equal(r.n_trades, 1);
    assert_int_equal(r.trades[0].entry_time_ms, T0 + 3 * DAY_MS);
    assert_int_equal(r.trades[0].exit_reason, CB_EXIT_END_OF_DATA);
    cb_engine_result_free(&r);
    /* warm-up: decisions before bar index 3 are ignored */
    cfg.from_ms = cfg.to_ms = 0;
    script_t sc2 = {"EEEE.", NULL, 4, 0, 0};
    p.strategy_self = &sc2;
    assert_int_equal(cb_engine_run(&cfg, &p, 1, &r, &d), 0);
    assert_int_equal(r.n_trades, 1);
    assert_int_equal(r.trades[0].signal_time_ms, T0 + 3 * DAY_MS);
    cb_engine_result_free(&r);
    cb_series_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fill_model),    cmocka_unit_test(test_fill_complete_and_rules),
        cmocka_unit_test(test_stake_parse),   cmocka_unit_test(test_market_timing),
        cmocka_unit_test(test_fees_and_slippage), cmocka_unit_test(test_stops),
        cmocka_unit_test(test_trailing),      cmocka_unit_test(test_limit_entries),
        cmocka_unit_test(test_rejections),    cmocka_unit_test(test_end_of_data),
        cmocka_unit_test(test_sizing),        cmocka_unit_test(test_multi_pair),
        cmocka_unit_test(test_drawdown),      cmocka_unit_test(test_window_and_warmup),
        cmocka_unit_test(test_refused_exit_keeps_protection),
        cmocka_unit_test(test_refused_stop_goes_back),
    };
    return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}
