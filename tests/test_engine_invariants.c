/* engine/: invariants on random strategies over real data (BTC/USDT and ETH/USDT 1h candles):
 * the account balances to the unit, every fill lies inside its bar's [low, high], every entry
 * fills strictly after the bar that decided it, and no strategy ever sees a bar after the one
 * it is deciding on. Random orders, limits, stakes, costs, exits and rounding rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_fixtures.h"
#include "testutil.h"

static cb_series_t *load_csv(const char *path, size_t max)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    cb_series_t *s = cb_series_new(max);
    char line[512];
    while (s->n < max && fgets(line, sizeof line, f)) {
        if (line[0] < '0' || line[0] > '9')
            continue;
        char *p = line;
        int64_t t = strtoll(p, &p, 10);
        double v[5];
        for (int k = 0; k < 5; k++)
            v[k] = strtod(p + 1, &p);
        cb_series_push(s, t, v[0], v[1], v[2], v[3], v[4]);
    }
    fclose(f);
    return s;
}

typedef struct rnd_strat {
    uint64_t rng;
    size_t calls;
    int64_t last_time;
    int lookahead;       /* set when the view ever ended later than the bar being decided */
    double p_enter, p_exit, p_limit, p_stake;
} rnd_strat_t;

static double urand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (double)(*s >> 11) / 9007199254740992.0;
}

static size_t rs_warmup(void *self)
{
    (void)self;
    return 3;
}

static int rs_on_bar(void *self, const cb_bar_view_t *b, const cb_position_view_t *pos,
                     cb_decision_t *out)
{
    rnd_strat_t *r = self;
    /* called once per bar, in order: the view must end exactly at this call's bar */
    if (b->n != r->calls + 1 || (r->calls && b->time_ms[b->n - 1] <= r->last_time))
        r->lookahead = 1;
    r->calls++;
    r->last_time = b->time_ms[b->n - 1];
    double c = b->close[b->n - 1];
    if (!pos->open && urand(&r->rng) < r->p_enter) {
        out->enter = 1;
        if (urand(&r->rng) < r->p_limit)
            out->limit_price = c * (1.0 - 0.01 * urand(&r->rng));
        if (urand(&r->rng) < r->p_stake)
            out->stake = 50 + 500 * urand(&r->rng);
    }
    if (pos->open && urand(&r->rng) < r->p_exit)
        out->exit = 1;
    return 0;
}

static const cb_strategy_v1_t rs_strategy = {
    CB_STRATEGY_ABI_VERSION, "random", NULL, rs_warmup, rs_on_bar, NULL,
};

static size_t find_bar(const cb_series_t *s, int64_t t)
{
    size_t i = cb_series_lower_bound(s, t);
    assert_true(i < s->n);
    assert_int_equal(s->time_ms[i], t);
    return i;
}

static void check_in_bar(const cb_series_t *s, size_t i, int64_t price)
{
    int64_t lo = cb_fx_from_double(s->low[i]), hi = cb_fx_from_double(s->high[i]);
    if (price < lo || price > hi)
        fail_msg("fill %lld outside bar %zu [%lld, %lld]", (long long)price, i, (long long)lo,
                 (long long)hi);
}

static void test_random_strategies(void **state)
{
    (void)state;
    char p1[1024], p2[1024];
    if (!tu_shared_path("ohlcv/binance_spot_BTCUSDT_1h_2017-08-17_2022-10-11.csv", p1,
                        sizeof p1) ||
        !tu_shared_path("ohlcv/binance_spot_ETHUSDT_1h_2017-08-17_2022-10-11.csv", p2,
                        sizeof p2)) {
        SKIP_NO_SHARED();
    }
    cb_series_t *btc = load_csv(p1, 6000), *eth = load_csv(p2, 6000);
    assert_non_null(btc);
    assert_non_null(eth);
    /* leave a hole in ETH so the alignment by time is exercised */
    cb_series_t *eth2 = cb_series_new(eth->n);
    for (size_t i = 0; i < eth->n; i++)
        if (i < 2000 || i > 2100)
            cb_series_push(eth2, eth->time_ms[i], eth->open[i], eth->high[i], eth->low[i],
                           eth->close[i], eth->volume[i]);
    const cb_series_t *ser[2] = {btc, eth2};
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    size_t total_trades = 0;
    for (int run = 0; run < 40; run++) {
        double u = urand(&seed);
        cb_engine_config_t cfg;
        cb_engine_config_default(&cfg);
        cfg.start_balance = FX(1000 + 20000 * urand(&seed));
        switch (run % 4) {
        case 0: cfg.stake.kind = CB_STAKE_QUOTE; cfg.stake.amount = FX(100 + 900 * u); break;
        case 1: cfg.stake.kind = CB_STAKE_PERCENT; cfg.stake.fraction = FX(0.05 + 0.5 * u); break;
        case 2: cfg.stake.kind = CB_STAKE_BASE; cfg.stake.amount = FX(0.001) * (1 + run % 7); break;
        default: cfg.stake.kind = CB_STAKE_ALL; break;
        }
        cfg.max_open_trades = run % 3;
        cfg.costs.taker_fee = FX(0.001) * (run % 3);
        cfg.costs.maker_fee = FX(0.00075) * (run % 2);
        cfg.costs.slippage = FX(0.0005) * (run % 5);
        cfg.stop_loss = run % 2 ? 0.01 + 0.05 * urand(&seed) : 0;
        cfg.take_profit = run % 3 ? 0.01 + 0.1 * urand(&seed) : 0;
        cfg.trailing_stop = run % 5 > 1 ? 0.005 + 0.05 * urand(&seed) : 0;
        cfg.trailing_offset = run % 7 > 3 ? 0.02 * urand(&seed) : 0;
        if (run % 6 == 5)
            cfg.from_ms = btc->time_ms[1000];
        rnd_strat_t st[2];
        cb_engine_pair_t pairs[2];
        size_t np = 1 + (size_t)(run % 2);
        for (size_t k = 0; k < np; k++) {
            memset(&st[k], 0, sizeof st[k]);
            st[k].rng = seed + k * 7919 + 1;
            st[k].p_enter = 0.02 + 0.1 * urand(&seed);
            st[k].p_exit = 0.02 + 0.1 * urand(&seed);
            st[k].p_limit = run % 4 == 3 ? 0.5 : 0.1;
            st[k].p_stake = cfg.stake.kind == CB_STAKE_BASE ? 0 : 0.2;
            memset(&pairs[k], 0, sizeof pairs[k]);
            pairs[k].series = ser[k];
            cb_instrument_default(&pairs[k].instrument, k ? "ETH/USDT" : "BTC/USDT");
            pairs[k].instrument.tick = FX(0.01);
            pairs[k].instrument.step = k ? FX(0.0001) : FX(0.00001);
            pairs[k].instrument.min_notional = FX(10) * (run % 2);
            pairs[k].strategy = &rs_strategy;
            pairs[k].strategy_self = &st[k];
        }
        cb_engine_result_t r;
        cb_diag_t d;
        cb_diag_clear(&d);
        int rc = cb_engine_run(&cfg, pairs, np, &r, &d);
        if (rc)
            fail_msg("run %d: %s", run, d.msg);
        assert_true(r.balanced);
        int64_t sum = 0, fees = 0;
        for (size_t i = 0; i < r.n_trades; i++) {
            const cb_trade_t *t = &r.trades[i];
            const cb_series_t *s = ser[t->pair];
            sum += t->pnl;
            fees += t->fees;
            size_t ie = find_bar(s, t->entry_time_ms), ix = find_bar(s, t->exit_time_ms);
            check_in_bar(s, ie, t->entry_price);
            check_in_bar(s, ix, t->exit_price);
            assert_true(t->signal_time_ms < t->entry_time_ms); /* never on the signal bar */
            assert_true(ie >= 1 && s->time_ms[ie - 1] >= t->signal_time_ms);
            assert_true(t->exit_time_ms >= t->entry_time_ms);
            assert_true(t->quantity > 0 && t->quantity % pairs[t->pair].instrument.step == 0);
            assert_true(t->entry_price % FX(0.01) == 0 || t->exit_reason == CB_EXIT_END_OF_DATA);
            if (cfg.from_ms)
                assert_true(t->signal_time_ms >= cfg.from_ms);
            if (t->exit_reason == CB_EXIT_END_OF_DATA)
                assert_int_equal(ix, s->n - 1);
        }
        /* the account to the unit: start + sum of trade pnl (net) = final */
        assert_int_equal(r.start_balance + sum, r.final_balance);
        assert_int_equal(fees, r.fees_paid);
        for (size_t k = 0; k < np; k++) {
            assert_false(st[k].lookahead);
            assert_int_equal(st[k].calls, ser[k]->n);
        }
        total_trades += r.n_trades;
        cb_engine_result_free(&r);
    }
    print_message("%zu trades checked over 40 random runs\n", total_trades);
    assert_true(total_trades > 1000);
    cb_series_free(btc);
    cb_series_free(eth);
    cb_series_free(eth2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_strategies),
    };
    return cmocka_run_group_tests_name("engine_invariants", tests, NULL, NULL);
}
