/* engine/ driven bar by bar, as the robot drives it: a series that grows between steps gives
 * the same trades as the batch run; hooks see every decision and can refuse entries; a
 * position restored after a restart gets its protective exits back; a forced exit. */
#include <stdio.h>

#include "engine_fixtures.h"
#include "testutil.h"

static cb_engine_config_t live_cfg(void)
{
    cb_engine_config_t c;
    cb_engine_config_default(&c);
    c.start_balance = FX(10000);
    c.stake.kind = CB_STAKE_BASE;
    c.stake.amount = FX(1);
    c.stop_loss = 0.05;
    c.take_profit = 0.10;
    return c;
}

static const bar_row_t rows[] = {
    {100, 100, 100, 100}, {100, 101, 99, 100}, {100, 103, 99, 102}, {102, 104, 101, 103},
    {103, 104, 102, 103}, {103, 105, 102, 104}, {104, 105, 96, 97},  {97, 99, 96, 98},
    {98, 100, 97, 99},    {99, 101, 98, 100},  {100, 101, 93, 94},   {94, 95, 93, 94},
    {94, 96, 93, 95},     {95, 97, 94, 96},    {96, 97, 95, 96},     {96, 97, 95, 96},
};
#define NROWS (sizeof rows / sizeof rows[0])
static const char script_text[] = "E....X..E.......";

typedef struct hook_log {
    int decisions, refuse_from, asked;
} hook_log_t;

static void on_decision(void *ctx, uint32_t pair, int64_t t, double close, const cb_decision_t *d,
                        int in_pos)
{
    (void)pair; (void)t; (void)close; (void)d; (void)in_pos;
    ((hook_log_t *)ctx)->decisions++;
}

static int allow(void *ctx, uint32_t pair, int64_t t, double close, int64_t notional)
{
    hook_log_t *h = ctx;
    (void)pair; (void)close;
    assert_int_equal(notional, FX(1) * (int64_t)close);
    h->asked++;
    return t < T0 + (int64_t)h->refuse_from * DAY_MS;
}

static void test_growing_series_matches_batch(void **state)
{
    (void)state;
    cb_instrument_t ins = ins_cents();
    cb_engine_config_t cfg = live_cfg();
    /* the batch run over the first 15 bars (the last would settle the open trade) */
    cb_series_t *all = mk_series(rows, NROWS, DAY_MS);
    script_t sc1 = {script_text, NULL, 0, 0, 0};
    cb_engine_pair_t p1 = {all, ins, &script_strategy, &sc1, NULL, NULL};
    cb_engine_result_t batch;
    cb_diag_t d;
    cb_diag_clear(&d);
    assert_int_equal(cb_engine_run(&cfg, &p1, 1, &batch, &d), 0);
    assert_true(batch.n_trades >= 2);

    /* live: starts from a 1-bar history and grows one candle at a time (reallocating) */
    cb_series_t *s = cb_series_new(1);
    cb_series_push(s, T0, rows[0].o, rows[0].h, rows[0].l, rows[0].c, 1);
    script_t sc2 = {script_text, NULL, 0, 0, 0};
    cb_engine_pair_t p2 = {s, ins, &script_strategy, &sc2, NULL, NULL};
    hook_log_t h = {0, 1000, 0};
    cb_engine_hooks_t hooks = {&h, on_decision, allow};
    cfg.live = 1;
    cfg.hooks = &hooks;
    cb_engine_t *e;
    assert_int_equal(cb_engine_open(&cfg, &p2, 1, &e, &d), 0);
    for (size_t i = 0; i < NROWS; i++) {
        if (i > 0)
            cb_series_push(s, T0 + (int64_t)i * DAY_MS, rows[i].o, rows[i].h, rows[i].l,
                           rows[i].c, 1);
        int64_t t = cb_engine_next_time(e);
        assert_int_equal(t, T0 + (int64_t)i * DAY_MS);
        assert_int_equal(cb_engine_step(e, t, &d), 0);
        assert_int_equal(cb_engine_next_time(e), INT64_MAX);
    }
    assert_int_equal(h.decisions, (int)NROWS);
    assert_int_equal(h.asked, 2);
    const cb_engine_result_t *pr = cb_engine_progress(e);
    /* every trade the batch run closed before its end-of-data settlement */
    size_t n = batch.n_trades;
    if (batch.trades[n - 1].exit_reason == CB_EXIT_END_OF_DATA)
        n--;
    assert_int_equal(pr->n_trades, n);
    for (size_t k = 0; k < n; k++) {
        assert_int_equal(pr->trades[k].entry_time_ms, batch.trades[k].entry_time_ms);
        assert_int_equal(pr->trades[k].exit_time_ms, batch.trades[k].exit_time_ms);
        assert_int_equal(pr->trades[k].entry_price, batch.trades[k].entry_price);
        assert_int_equal(pr->trades[k].exit_price, batch.trades[k].exit_price);
        assert_int_equal(pr->trades[k].quantity, batch.trades[k].quantity);
    }
    assert_int_equal(n, 2); /* the second trade hit its stop at bar 10 */
    cb_engine_position_t pos;
    assert_int_equal(cb_engine_position(e, 0, &pos), 0);
    assert_int_equal(pos.open, 0);
    assert_int_equal(cb_engine_open_positions(e), 0);
    cb_engine_result_t r;
    assert_int_equal(cb_engine_finish(e, &r, &d), 0);
    assert_true(r.balanced);
    cb_engine_result_free(&r);
    cb_engine_free(e);
    cb_engine_result_free(&batch);
    cb_series_free(s);
    cb_series_free(all);
}

static void test_refused_entry(void **state)
{
    (void)state;
    cb_instrument_t ins = ins_cents();
    cb_engine_config_t cfg = live_cfg();
    cb_series_t *s = mk_series(rows, NROWS, DAY_MS);
    script_t sc = {script_text, NULL, 0, 0, 0};
    cb_engine_pair_t p = {s, ins, &script_strategy, &sc, NULL, NULL};
    hook_log_t h = {0, 3, 0};
    cb_engine_hooks_t hooks = {&h, NULL, allow};
    cfg.hooks = &hooks;
    cb_engine_result_t r;
    cb_diag_t d;
    assert_int_equal(cb_engine_run(&cfg, &p, 1, &r, &d), 0);
    assert_int_equal(h.asked, 2);
    assert_int_equal(r.refused_entries, 1);
    assert_int_equal(r.n_trades, 1); /* only the first entry (bar 0) was allowed */
    cb_engine_result_free(&r);
    cb_series_free(s);
}

/* A restart: the history is stepped, then the position held before is restored; its stop at
 * 95 (entry 100, stop_loss 5%) is back at the venue and fills when bar 6 trades through it. */
static void test_restore_and_force_exit(void **state)
{
    (void)state;
    cb_instrument_t ins = ins_cents();
    cb_engine_config_t cfg = live_cfg();
    cfg.live = 1;
    cfg.from_ms = T0 + 5 * DAY_MS; /* bars before are history: no trading */
    cb_venue_t v;
    assert_int_equal(cb_backtest_venue_new(&ins, 1, cfg.start_balance, &cfg.costs, &v), 0);
    assert_int_equal(cb_backtest_venue_deposit(&v, 0, FX(1)), 0);
    assert_int_equal(cb_backtest_venue_deposit(&v, 1, FX(1)), CB_EINVAL);
    cfg.venue = &v;
    cb_series_t *s = mk_series(rows, 5, DAY_MS);
    script_t sc = {".....................", NULL, 0, 0, 0};
    cb_engine_pair_t p = {s, ins, &script_strategy, &sc, NULL, NULL};
    cb_engine_t *e;
    cb_diag_t d;
    assert_int_equal(cb_engine_open(&cfg, &p, 1, &e, &d), 0);
    for (int64_t t; (t = cb_engine_next_time(e)) != INT64_MAX;)
        assert_int_equal(cb_engine_step(e, t, &d), 0);
    cb_engine_position_t pos = {0};
    pos.qty = FX(1);
    pos.entry_price = FX(100);
    pos.entry_ms = T0 + DAY_MS;
    pos.highest = FX(104);
    assert_int_equal(cb_engine_restore(e, 0, &pos), 0);
    assert_int_equal(cb_engine_restore(e, 0, &pos), CB_EEXIST);
    cb_engine_position_t now;
    cb_engine_position(e, 0, &now);
    assert_int_equal(now.open, 1);
    assert_int_equal(now.stop_level, FX(95));
    assert_int_equal(now.tp_level, FX(110));
    for (size_t i = 5; i < 8; i++) {
        cb_series_push(s, T0 + (int64_t)i * DAY_MS, rows[i].o, rows[i].h, rows[i].l, rows[i].c,
                       1);
        assert_int_equal(cb_engine_step(e, cb_engine_next_time(e), &d), 0);
    }
    const cb_engine_result_t *pr = cb_engine_progress(e);
    assert_int_equal(pr->n_trades, 0); /* bar 6's low is 96: the stop at 95 holds */
    assert_int_equal(cb_engine_force_exit(e, 0, T0 + 7 * DAY_MS), 0);
    cb_series_push(s, T0 + 8 * DAY_MS, rows[8].o, rows[8].h, rows[8].l, rows[8].c, 1);
    assert_int_equal(cb_engine_step(e, cb_engine_next_time(e), &d), 0);
    pr = cb_engine_progress(e);
    assert_int_equal(pr->n_trades, 1);
    assert_int_equal(pr->trades[0].exit_price, FX(98)); /* bar 8's open */
    assert_int_equal(pr->trades[0].exit_reason, CB_EXIT_EXIT_SIGNAL);
    assert_int_equal(cb_engine_force_exit(e, 0, T0 + 8 * DAY_MS), CB_ENOENT);
    cb_engine_result_t r;
    assert_int_equal(cb_engine_finish(e, &r, &d), 0);
    assert_true(r.balanced);
    assert_int_equal(r.final_balance, FX(10000) + FX(98));
    cb_engine_result_free(&r);
    cb_engine_free(e);
    v.ops->destroy(v.self);
    cb_series_free(s);
}

/* A forced entry goes the strategy's way: the hook is asked (and can refuse), max_open_trades
 * and the balance apply, one position per pair; the market order fills at the next bar's open. */
static void test_force_entry(void **state)
{
    (void)state;
    cb_instrument_t ins = ins_cents();
    cb_engine_config_t cfg = live_cfg();
    cfg.live = 1;
    cb_series_t *s = mk_series(rows, 3, DAY_MS);
    script_t sc = {"................", NULL, 0, 0, 0};
    cb_engine_pair_t p = {s, ins, &script_strategy, &sc, NULL, NULL};
    hook_log_t h = {0, 4, 0}; /* refuses from bar 4 on */
    cb_engine_hooks_t hooks = {&h, NULL, allow};
    cfg.hooks = &hooks;
    cb_engine_t *e;
    cb_diag_t d;
    cb_reject_t why;
    assert_int_equal(cb_engine_open(&cfg, &p, 1, &e, &d), 0);
    assert_int_equal(cb_engine_force_entry(e, 0, T0, &why), CB_ESTATE); /* no bar yet */
    assert_int_equal(cb_engine_force_entry(e, 1, T0, &why), CB_EINVAL);
    for (int64_t t; (t = cb_engine_next_time(e)) != INT64_MAX;)
        assert_int_equal(cb_engine_step(e, t, &d), 0);
    assert_int_equal(cb_engine_force_entry(e, 0, T0 + 2 * DAY_MS, &why), 0);
    assert_int_equal(h.asked, 1);
    assert_int_equal(cb_engine_force_entry(e, 0, T0 + 2 * DAY_MS, &why), CB_EEXIST);
    cb_series_push(s, T0 + 3 * DAY_MS, rows[3].o, rows[3].h, rows[3].l, rows[3].c, 1);
    assert_int_equal(cb_engine_step(e, cb_engine_next_time(e), &d), 0);
    cb_engine_position_t pos;
    cb_engine_position(e, 0, &pos);
    assert_int_equal(pos.open, 1);
    assert_int_equal(pos.entry_price, FX(102)); /* bar 3's open */
    assert_int_equal(pos.stop_level, FX(96.9));
    assert_int_equal(cb_engine_force_entry(e, 0, T0 + 3 * DAY_MS, &why), CB_EEXIST);
    /* flat again, then the hook refuses (bar 4 on) */
    assert_int_equal(cb_engine_force_exit(e, 0, T0 + 3 * DAY_MS), 0);
    cb_series_push(s, T0 + 4 * DAY_MS, rows[4].o, rows[4].h, rows[4].l, rows[4].c, 1);
    assert_int_equal(cb_engine_step(e, cb_engine_next_time(e), &d), 0);
    assert_int_equal(cb_engine_open_positions(e), 0);
    assert_int_equal(cb_engine_force_entry(e, 0, T0 + 4 * DAY_MS, &why), CB_ELIMIT);
    assert_int_equal(cb_engine_progress(e)->refused_entries, 1);
    cb_engine_free(e);
    /* a stake the account cannot pay: refused by the engine, with its reason */
    cfg.stake.amount = FX(1000);
    cfg.hooks = NULL;
    cb_series_t *s2 = mk_series(rows, 3, DAY_MS);
    cb_engine_pair_t p2 = {s2, ins, &script_strategy, &sc, NULL, NULL};
    assert_int_equal(cb_engine_open(&cfg, &p2, 1, &e, &d), 0);
    for (int64_t t; (t = cb_engine_next_time(e)) != INT64_MAX;)
        assert_int_equal(cb_engine_step(e, t, &d), 0);
    assert_int_equal(cb_engine_force_entry(e, 0, T0 + 2 * DAY_MS, &why), CB_EREJECTED);
    assert_int_equal(why, CB_REJECT_BALANCE);
    cb_engine_free(e);
    cb_series_free(s2);
    cb_series_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_growing_series_matches_batch),
        cmocka_unit_test(test_refused_entry),
        cmocka_unit_test(test_restore_and_force_exit),
        cmocka_unit_test(test_force_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
