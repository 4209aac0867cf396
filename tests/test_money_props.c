/* Money properties over the whole representable range (docs/backtest.md, Limits).
 *
 * Random markets with prices from 1e-8 to 1e9 (jumps of 1000x included), balances up to the
 * largest representable amount, random stakes, fees, slippage, stops, targets and trailing
 * stops, run bar by bar through the engine and its backtest venue. At every bar: the cash is
 * never negative and equals the venue's balance, the equity is cash plus the position at its
 * close, and the account equals a 128-bit reference computed here from the trades (each
 * notional, fee and pnl recomputed from price and quantity, each quote-sized quantity the
 * largest that fits). A run either finishes with that reference's final balance, no day
 * below -100% and the same result as cb_engine_run, or stops with CB_ERANGE only when a
 * value really is beyond the limit. Then the exchange simulator gets random out-of-range
 * orders, deposits, clock steps and cancels over raw HTTP: every answer is 200 or one of
 * Binance's codes, no balance goes negative, no price is negative, the clock never wraps. */
#include "sim_fixture.h"

#include "comeback/engine.h"
#include "comeback/report.h"

typedef __int128 i128;

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static double unif(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }
static double log_unif(double lo, double hi) { return lo * pow(hi / lo, unif()); }
static int64_t fxd(double x) { return (int64_t)llround(x * 1e8); }
static double on_unit(double x) { return fmax(1.0, (double)llround(x * 1e8)) / 1e8; }

/* ---- a strategy that follows a random script ---------------------------------------------- */

typedef struct script {
    const char *plan;      /* 'E' enter, 'X' exit, per bar */
    const double *limit;   /* limit price per bar, or NULL: market entries */
} script_t;

static void *sc_init(const char *const *n, const double *v, size_t k, char *e, size_t es)
{
    (void)n, (void)v, (void)k, (void)e, (void)es;
    return NULL;
}
static size_t sc_warmup(void *self) { (void)self; return 0; }
static int sc_on_bar(void *self, const cb_bar_view_t *b, const cb_position_view_t *pos,
                     cb_decision_t *out)
{
    const script_t *s = self;
    (void)pos;
    out->enter = s->plan[b->n - 1] == 'E';
    out->exit = s->plan[b->n - 1] == 'X';
    if (s->limit && out->enter)
        out->limit_price = s->limit[b->n - 1];
    return 0;
}
static void sc_destroy(void *self) { (void)self; }
static const cb_strategy_v1_t script_strategy = {CB_STRATEGY_ABI_VERSION, "script", sc_init,
                                                 sc_warmup, sc_on_bar, sc_destroy};

/* ---- the 128-bit reference ------------------------------------------------------------- */

static i128 div_up(i128 a, i128 b) { return (a + b - 1) / b; }
static i128 notional_up(i128 px, i128 q) { return div_up(px * q, 100000000); }
static i128 fee_of(i128 n, i128 rate) { return div_up(n * rate, 100000000); }
static i128 cost_of(i128 px, i128 q, i128 rate)
{
    i128 n = notional_up(px, q);
    return n + fee_of(n, rate);
}

typedef struct world {
    cb_series_t *s;
    char plan[512];
    double limit[512];
    uint8_t sig_e[512], sig_x[512];
    script_t sc;
    cb_instrument_t ins;
    cb_engine_config_t cfg;
    int limits;
    uint64_t seed;
} world_t;

static void make_world(world_t *w)
{
    memset(w, 0, sizeof *w);
    w->seed = rng_state;
    size_t n = 30 + rnd() % 170;
    w->s = cb_series_new(n);
    int dust = unif() < 0.03;
    double p = on_unit(log_unif(1e-8, 1e9)), vol = (double[]){0.002, 0.05, 0.4}[rnd() % 3];
    for (size_t i = 0; i < n; i++) {
        double o = p, c = p * exp((unif() - 0.5) * 2 * vol);
        if (unif() < 0.03)
            c *= unif() < 0.5 ? 1000.0 : 0.001;
        c = on_unit(fmin(fmax(c, 1e-8), 1e9));
        double h = on_unit(fmin(fmax(o, c) * (1 + unif() * vol), 1e9));
        double l = on_unit(fmin(o, c) * (1 - unif() * fmin(vol, 0.9)));
        if (dust) /* below the 1e-8 unit: prices that round to zero or one unit */
            o = h = l = c = (double)(rnd() % 8) * 1e-9;
        cb_series_push(w->s, INT64_C(1704067200000) + (int64_t)i * CB_MS_PER_HOUR, o, h, l, c, 1);
        double u = unif();
        w->plan[i] = u < 0.3 ? 'E' : u < 0.5 ? 'X' : '.';
        w->limit[i] = on_unit(c * (0.97 + unif() * 0.06));
        w->sig_e[i] = w->plan[i] == 'E';
        w->sig_x[i] = w->plan[i] == 'X';
        p = c;
    }
    w->limits = unif() < 0.25;
    w->sc.plan = w->plan;
    w->sc.limit = w->limits ? w->limit : NULL;
    cb_instrument_default(&w->ins, "SYN/USDT");
    w->ins.step = (int64_t[]){1, 1000, 100000, 100000000}[rnd() % 4];
    w->ins.min_notional = unif() < 0.3 ? fxd(log_unif(1e-6, 10)) : 0;
    cb_engine_config_t *c = &w->cfg;
    cb_engine_config_default(c);
    c->start_balance = unif() < 0.2 ? CB_FX_MAX : fxd(log_unif(0.01, 9.2e10));
    switch (rnd() % 4) {
    case 0:
        c->stake.kind = CB_STAKE_QUOTE;
        c->stake.amount = (int64_t)fmin(log_unif(1e-4, 2 * cb_fx_to_double(c->start_balance)) *
                                            1e8, 9.2e18);
        break;
    case 1:
        c->stake.kind = CB_STAKE_PERCENT;
        c->stake.fraction = 1 + (int64_t)(rnd() % (uint64_t)CB_FX_ONE);
        break;
    case 2:
        c->stake.kind = CB_STAKE_BASE;
        c->stake.amount = cb_fx_floor((int64_t)fmin(log_unif(1e-8, 1e11) * 1e8, 9.2e18),
                                      w->ins.step);
        if (c->stake.amount <= 0)
            c->stake.amount = w->ins.step;
        snprintf(c->stake.unit, sizeof c->stake.unit, "SYN");
        break;
    default: c->stake.kind = CB_STAKE_ALL; break;
    }
    c->costs.taker_fee = unif() < 0.3 ? 0 : (int64_t)(rnd() % 1000001);
    c->costs.maker_fee = unif() < 0.3 ? 0 : (int64_t)(rnd() % 1000001);
    c->costs.slippage = unif() < 0.5 ? 0 : (int64_t)(rnd() % 1000001);
    c->stop_loss = unif() < 0.5 ? 0 : 0.01 + unif() * 0.5;
    c->take_profit = unif() < 0.5 ? 0 : 0.01 + unif() * 5;
    c->trailing_stop = unif() < 0.6 ? 0 : 0.01 + unif() * 0.5;
    c->trailing_offset = unif() < 0.5 ? 0 : unif() * 0.5;
}

static void pair_of(world_t *w, int signals, cb_engine_pair_t *pair)
{
    memset(pair, 0, sizeof *pair);
    pair->series = w->s;
    pair->instrument = w->ins;
    pair->strategy = &script_strategy;
    pair->strategy_self = &w->sc;
    if (signals && !w->limits) {
        pair->entry_signal = w->sig_e;
        pair->exit_signal = w->sig_x;
    }
}

/* The trade recomputed: notionals, fees, pnl and (quote stakes) that its quantity is the
 * largest whose cost fits the budget the account had. */
static void check_trade(const world_t *w, const cb_trade_t *t, i128 cash_before)
{
    const cb_engine_config_t *c = &w->cfg;
    i128 q = t->quantity, step = w->ins.step;
    assert_true(q > 0 && q % step == 0);
    assert_true(t->entry_price > 0 && t->exit_price > 0);
    i128 en = notional_up(t->entry_price, q), xn = (i128)t->exit_price * q / 100000000;
    assert_true(en == t->entry_notional && xn == t->exit_notional);
    int64_t erate = w->limits ? c->costs.maker_fee : c->costs.taker_fee;
    int64_t xrate = t->exit_reason == CB_EXIT_TAKE_PROFIT ? c->costs.maker_fee
                                                          : c->costs.taker_fee;
    i128 fees = fee_of(en, erate) + fee_of(xn, xrate);
    assert_true(fees == t->fees);
    assert_true(xn - en - fees == t->pnl);
    assert_true(en + fee_of(en, erate) <= cash_before); /* spot: paid from the cash held */
    i128 budget = -1;
    if (c->stake.kind == CB_STAKE_ALL)
        budget = cash_before;
    else if (c->stake.kind == CB_STAKE_QUOTE)
        budget = c->stake.amount;
    else if (c->stake.kind == CB_STAKE_BASE)
        assert_true(q == c->stake.amount);
    if (budget >= 0) {
        assert_true(cost_of(t->entry_price, q, erate) <= budget);
        if (!w->limits && q + step <= CB_FX_MAX) /* market: sized at the fill price */
            assert_true(cost_of(t->entry_price, q + step, erate) > budget);
    }
}

typedef struct ref {
    i128 cash;     /* start + every closed trade's pnl */
    size_t trades; /* trades checked */
} ref_t;

/* The account after a step: closed trades checked and summed, the cash and the equity. */
static void check_account(const world_t *w, cb_engine_t *e, cb_venue_t *v, ref_t *r)
{
    const cb_engine_result_t *res = cb_engine_progress(e);
    for (; r->trades < res->n_trades; r->trades++) {
        check_trade(w, &res->trades[r->trades], r->cash);
        r->cash += res->trades[r->trades].pnl;
    }
    int64_t cash = cb_engine_cash(e);
    assert_true(cash >= 0);
    assert_int_equal(cash, v->ops->quote_balance(v->self));
    cb_engine_position_t pos;
    assert_int_equal(cb_engine_position(e, 0, &pos), 0);
    i128 want = r->cash;
    if (pos.open) {
        assert_true(pos.qty > 0 && pos.entry_price > 0);
        want -= notional_up(pos.entry_price, pos.qty) + pos.entry_fee;
    }
    assert_true(want == cash);
    /* equity = cash + the position at its last close (the engine marks it in doubles) */
    long double eq = (long double)cash + (pos.open ? (long double)pos.qty * pos.last_close : 0);
    if (eq <= (long double)CB_FX_MAX) {
        long double diff = fabsl((long double)cb_engine_equity(e) - eq);
        if (!(diff <= 4 + eq * 1e-13L))
            print_message("equity %lld, cash %lld + %lld x %.17g = %.1Lf\n",
                          (long long)cb_engine_equity(e), (long long)cash, (long long)pos.qty,
                          pos.last_close, eq);
        assert_true(diff <= 4 + eq * 1e-13L);
    }
}

static int same_result(const cb_engine_result_t *a, const cb_engine_result_t *b)
{
    if (a->final_balance != b->final_balance || a->n_trades != b->n_trades ||
        a->fees_paid != b->fees_paid || a->n_days != b->n_days)
        return 0;
    for (size_t i = 0; i < a->n_trades; i++)
        if (memcmp(&a->trades[i], &b->trades[i], sizeof a->trades[i]) != 0)
            return 0;
    for (size_t k = 0; k < CB_REJECT_COUNT; k++)
        if (a->rejected[k] != b->rejected[k])
            return 0;
    return 1;
}

static int run_world(world_t *w, size_t *ranged)
{
    cb_venue_t v;
    assert_int_equal(cb_backtest_venue_new(&w->ins, 1, w->cfg.start_balance, &w->cfg.costs, &v),
                     0);
    cb_engine_config_t cfg = w->cfg;
    cfg.venue = &v;
    cb_engine_pair_t pair;
    pair_of(w, 0, &pair);
    cb_engine_t *e;
    cb_diag_t d;
    assert_int_equal(cb_engine_open(&cfg, &pair, 1, &e, &d), 0);
    ref_t r = {w->cfg.start_balance, 0};
    int rc = 0;
    for (int64_t t; (t = cb_engine_next_time(e)) != INT64_MAX;) {
        /* the values the next bar can reach, for a refusal to be justified */
        cb_engine_position_t before;
        cb_engine_position(e, 0, &before);
        int64_t cash_before = cb_engine_cash(e);
        size_t i = before.bars;
        rc = cb_engine_step(e, t, &d);
        if (rc) {
            assert_int_equal(rc, CB_ERANGE);
            if (strstr(d.msg, "cannot be settled at the last close")) {
                /* a position held into a last close below the 1e-8 unit */
                assert_true(i + 1 == w->s->n && fxd(w->s->close[i]) == 0 && before.open);
                (*ranged)++;
                break;
            }
            assert_non_null(strstr(d.msg, "exceeds the largest representable amount"));
            /* only a sale whose proceeds (at most quantity * high) the account cannot hold */
            cb_engine_position_t pos;
            cb_engine_position(e, 0, &pos);
            int64_t q = pos.open ? pos.qty : before.qty;
            i128 most = (i128)q * fxd(w->s->high[i]) / 100000000 + cash_before;
            assert_true(q > 0 && most > CB_FX_MAX);
            (*ranged)++;
            break;
        }
        check_account(w, e, &v, &r);
    }
    cb_engine_result_t res, fast, sig;
    if (!rc) {
        assert_int_equal(cb_engine_finish(e, &res, &d), 0);
        assert_true(res.final_balance >= 0 && res.final_balance == r.cash);
        cb_metrics_t m;
        assert_int_equal(cb_metrics_compute(&res, &m), 0);
        double worst = m.v[CB_M_WORST_DAY].value;
        assert_true(isnan(worst) || worst >= -100.0);
        for (size_t k = 0; k < res.n_days; k++)
            assert_true(res.day_equity[k] >= 0);
        cb_metrics_free(&m);
    }
    cb_engine_free(e);
    v.ops->destroy(v.self);
    /* the backtest's own loops (bar by bar strategy, precomputed signals) agree */
    for (int signals = 0; signals < 2; signals++) {
        pair_of(w, signals, &pair);
        cb_engine_result_t *out = signals ? &sig : &fast;
        int rc2 = cb_engine_run(&w->cfg, &pair, 1, out, &d);
        assert_int_equal(rc2, rc);
        if (!rc) {
            if (!same_result(&res, out)) {
                print_message("run %d differs: final %lld vs %lld, trades %zu vs %zu, seed %llx\n",
                              signals, (long long)res.final_balance,
                              (long long)out->final_balance, res.n_trades, out->n_trades,
                              (unsigned long long)w->seed);
                for (size_t i = 0; i < res.n_trades && i < out->n_trades; i++)
                    if (memcmp(&res.trades[i], &out->trades[i], sizeof res.trades[i]))
                        print_message("trade %zu: exit %lld/%lld at %lld/%lld reason %d/%d\n", i,
                                      (long long)res.trades[i].exit_price,
                                      (long long)out->trades[i].exit_price,
                                      (long long)res.trades[i].exit_time_ms,
                                      (long long)out->trades[i].exit_time_ms,
                                      res.trades[i].exit_reason, out->trades[i].exit_reason);
            }
            assert_true(same_result(&res, out));
            cb_engine_result_free(out);
        }
    }
    if (!rc)
        cb_engine_result_free(&res);
    return rc;
}

static void test_engine_props(void **state)
{
    (void)state;
    size_t runs = 4000, ranged = 0, traded = 0, rejected_range = 0, rejected_price = 0;
    for (size_t k = 0; k < runs; k++) {
        rng_state = 0x5eed0000 + k;
        world_t w;
        make_world(&w);
        if (run_world(&w, &ranged) == 0) {
            cb_engine_result_t res;
            cb_engine_pair_t pair;
            pair_of(&w, 1, &pair);
            cb_diag_t d;
            assert_int_equal(cb_engine_run(&w.cfg, &pair, 1, &res, &d), 0);
            traded += res.n_trades > 0;
            rejected_range += res.rejected[CB_REJECT_RANGE] > 0;
            rejected_price += res.rejected[CB_REJECT_PRICE] > 0;
            cb_engine_result_free(&res);
        }
        cb_series_free(w.s);
    }
    print_message("%zu runs: %zu traded, %zu stopped at the limit, %zu refused amount_range, "
                  "%zu refused price_range\n",
                  runs, traded, ranged, rejected_range, rejected_price);
    /* the generator reaches every case */
    assert_true(traded > runs / 3);
    assert_true(ranged > 0);
    assert_true(rejected_range > 0);
    assert_true(rejected_price > 0);
}

/* The checked helpers against the 128-bit definition, at the edges. */
static void test_fx_helpers(void **state)
{
    (void)state;
    const int64_t edge[] = {0, 1, -1, 99999999, 100000000, 100000001, INT64_MAX, INT64_MIN,
                            INT64_MAX - 1, INT64_MIN + 1, INT64_C(3037000499),
                            INT64_C(92233720368), INT64_C(9223372036854775)};
    rng_state = 42;
    for (int k = 0; k < 200000; k++) {
        int64_t a = k < 169 ? edge[k / 13] : (int64_t)rnd() >> (rnd() % 64);
        int64_t b = k < 169 ? edge[k % 13] : (int64_t)rnd() >> (rnd() % 64);
        if ((rnd() & 1) && b != INT64_MIN)
            b = -b;
        int64_t out = 12345;
        i128 s = (i128)a + b;
        assert_int_equal(cb_fx_add(a, b, &out), s > INT64_MAX || s < INT64_MIN ? CB_ERANGE : 0);
        if (s <= INT64_MAX && s >= INT64_MIN)
            assert_true(out == s);
        i128 df = (i128)a - b;
        out = 12345;
        assert_int_equal(cb_fx_sub(a, b, &out), df > INT64_MAX || df < INT64_MIN ? CB_ERANGE : 0);
        if (df <= INT64_MAX && df >= INT64_MIN)
            assert_true(out == df);
        for (int up = 0; up < 2; up++) {
            i128 p = (i128)a * b, q = p / 100000000;
            if (up && q * 100000000 != p && p > 0)
                q++;
            int want = q > INT64_MAX || q < INT64_MIN ? CB_ERANGE : 0;
            out = 12345;
            assert_int_equal(cb_fx_mul(a, b, up, &out), want);
            assert_true(want ? out == 12345 : out == q);
            /* the saturating form never wraps: it is exact or at the limit, same sign */
            int64_t n = cb_fx_notional(a, b, up);
            if (!want)
                assert_true(n == q);
            else
                assert_true(n == (q > 0 ? CB_FX_MAX : -CB_FX_MAX));
        }
    }
    int64_t v;
    assert_int_equal(cb_fx_from_double_checked(92233720368.5, &v), 0);
    assert_int_equal(cb_fx_from_double_checked(92233720369.0, &v), CB_ERANGE);
    assert_int_equal(cb_fx_from_double_checked(NAN, &v), CB_ERANGE);
    assert_int_equal(cb_fx_from_double_checked(-INFINITY, &v), CB_ERANGE);
    assert_int_equal(cb_fx_from_double(1e30), CB_FX_MAX);
    assert_int_equal(cb_fx_from_double(-1e30), -CB_FX_MAX);
    cb_diag_t d;
    assert_int_equal(cb_fx_range_diag(&d, NULL, "notional", 1.2e11, "USDT"), CB_ERANGE);
    assert_string_equal(d.msg, "notional 1.2e11 USDT exceeds the largest representable amount "
                               "9.22e10 USDT (amounts are fixed point at 1e-8; see Limits in "
                               "docs/backtest.md)");
    /* the largest quantity a budget buys, by bisection, against a brute-force walk */
    for (int k = 0; k < 20000; k++) {
        int64_t price = (int64_t)log_unif(1, 1e17), quote = (int64_t)log_unif(1, 9.2e18);
        int64_t rate = (int64_t)(rnd() % 1000001);
        int64_t step = (int64_t[]){1, 7, 1000, 100000000}[rnd() % 4];
        int64_t q;
        int rc = cb_fx_qty_for_quote(quote, price, rate, step, &q);
        if (rc) {
            assert_int_equal(rc, CB_ERANGE);
            assert_true(cost_of(price, (CB_FX_MAX / step) * step, rate) <= quote);
            continue;
        }
        assert_true(q >= 0 && q % step == 0);
        assert_true(cost_of(price, q, rate) <= quote);
        assert_true(cost_of(price, (i128)q + step, rate) > quote);
    }
}

/* ---- the simulator ----------------------------------------------------------------------- */

static void rand_number(char *buf, size_t size)
{
    static const char *const edge[] = {"92233720368.54775807", "92233720368.54775808",
                                       "92233720369", "0", "0.00000001", "0.000000001",
                                       "99999999999999999999", "1e5", "-1", "", "1.", "nan",
                                       "00000000000000000001", "1.123456789", "40000.00"};
    if (unif() < 0.3) {
        snprintf(buf, size, "%s", edge[rnd() % (sizeof edge / sizeof edge[0])]);
        return;
    }
    int digits = 1 + (int)(rnd() % 22), decs = (int)(rnd() % 11) - 1;
    size_t n = 0;
    for (int i = 0; i < digits && n + 2 < size; i++)
        buf[n++] = (char)('0' + rnd() % 10);
    if (decs >= 0 && n + 2 < size)
        buf[n++] = '.';
    for (int i = 0; i < decs && n + 2 < size; i++)
        buf[n++] = (char)('0' + rnd() % 10);
    buf[n] = '\0';
}

static void check_sim_state(fx_t *f, int64_t *last_t)
{
    json_t *st = sim_state(f);
    int64_t t = json_integer_value(json_object_get(st, "time_ms"));
    assert_true(t >= *last_t && t <= INT64_C(253402300799999));
    *last_t = t;
    const char *asset;
    json_t *b;
    json_object_foreach(json_object_get(st, "balances"), asset, b) {
        const char *fr = json_string_value(json_object_get(b, "free"));
        const char *lk = json_string_value(json_object_get(b, "locked"));
        assert_true(fr && lk && fr[0] != '-' && lk[0] != '-');
    }
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(st, "orders"), i, o) {
        assert_true(json_string_value(json_object_get(o, "price"))[0] != '-');
        assert_true(json_string_value(json_object_get(o, "quantity"))[0] != '-');
    }
    json_decref(st);
}

static void test_sim_props(void **state)
{
    (void)state;
    fx_t f;
    fx_start(&f, NULL, 0, NULL);
    static const int allowed[] = {-1013, -1100, -1111, -1130, -1102, -1106, -2010, -2011, -2013};
    static const char *const types[] = {"LIMIT", "MARKET", "STOP_LOSS", "TAKE_PROFIT_LIMIT"};
    rng_state = 7;
    int64_t last_t = 0;
    int ok = 0, refused = 0;
    for (int k = 0; k < 400; k++) {
        char q[512], a[64], b[64], path[32];
        rand_number(a, sizeof a);
        rand_number(b, sizeof b);
        const char *method = "POST";
        int op = (int)(rnd() % 5);
        if (op <= 1) {
            snprintf(path, sizeof path, "/api/v3/order");
            const char *type = types[rnd() % 4];
            int priced = strcmp(type, "LIMIT") == 0 || strcmp(type, "TAKE_PROFIT_LIMIT") == 0;
            int stopped = strcmp(type, "STOP_LOSS") == 0 || strcmp(type, "TAKE_PROFIT_LIMIT") == 0;
            snprintf(q, sizeof q, "symbol=BTCUSDT&side=%s&type=%s&quantity=%s%s%s%s%s%s",
                     rnd() & 1 ? "BUY" : "SELL", type, unif() < 0.5 ? "0.01" : a,
                     priced ? "&timeInForce=GTC&price=" : "", priced ? b : "",
                     stopped ? "&stopPrice=" : "", stopped ? (unif() < 0.5 ? "1000" : b) : "",
                     "");
        } else if (op == 2) {
            snprintf(path, sizeof path, "/sim/v1/deposit");
            snprintf(q, sizeof q, "asset=%s&amount=%s%s", rnd() & 1 ? "USDT" : "BTC",
                     unif() < 0.2 ? "-" : "", a);
        } else if (op == 3) {
            snprintf(path, sizeof path, "/sim/v1/advance");
            snprintf(q, sizeof q, "candles=%s", unif() < 0.5 ? "1" : a);
        } else {
            snprintf(path, sizeof path, "/api/v3/order");
            method = "DELETE";
            if (unif() < 0.3)
                snprintf(q, sizeof q, "symbol=BTCUSDT");
            else
                snprintf(q, sizeof q, "symbol=BTCUSDT&orderId=%s", a);
        }
        json_t *j;
        int st = sim_raw(&f, method, path, q, 1, &j);
        if (st == 200) {
            ok++;
        } else {
            json_t *c = json_object_get(j, "code");
            int code = (int)json_integer_value(c), known = 0;
            for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
                known |= code == allowed[i];
            if (!known)
                print_message("%s %s?%s: HTTP %d code %d\n", method, path, q, st, code);
            assert_true(known && st == 400);
            refused++;
        }
        json_decref(j);
        check_sim_state(&f, &last_t);
    }
    print_message("simulator: %d answered, %d refused with Binance's codes\n", ok, refused);
    assert_true(ok > 20 && refused > 100);
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fx_helpers),
        cmocka_unit_test(test_engine_props),
        cmocka_unit_test(test_sim_props),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
