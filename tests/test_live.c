/* live/: the exchange venue and reconciliation against the exchange simulator over loopback
 * (paused clock, moved by cb_sim_advance) and against a scripted exchange for partial fills. */
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "comeback/exchange.h"
#include "comeback/journal.h"
#include "comeback/live.h"
#include "comeback/sim.h"
#include "robot/robot_int.h"
#include "series_fixture.h"
#include "testutil.h"

#define KEY "liveTestKey0123456789"
#define SECRET "liveTestSecret9876543210"

/* The wall clock the venue and reconciliation see: real time plus a test offset, so a test
 * can age an intent without sleeping. */
static int64_t clock_offset;
static int64_t test_now(void *u)
{
    (void)u;
    return cb_now_ms() + clock_offset;
}

/* ---- a spy around the connector: checks the intent is journaled before each placement -- */

typedef struct spy {
    cb_exchange_t base;
    cb_exchange_t *inner;
    cb_journal_t *j;
    int places, intent_seen;
} spy_t;

static spy_t *spy_of(cb_exchange_t *ex) { return (spy_t *)ex; }
#define FWD(name, ...) return spy_of(ex)->inner->ops->name(spy_of(ex)->inner, __VA_ARGS__)
static int s_time(cb_exchange_t *ex, int64_t *t, cb_diag_t *d) { FWD(server_time, t, d); }
static int s_pairs(cb_exchange_t *ex, cb_pair_info_t **o, size_t *n, cb_diag_t *d)
{
    FWD(pairs, o, n, d);
}
static int s_bal(cb_exchange_t *ex, cb_ex_balance_t **o, size_t *n, cb_diag_t *d)
{
    FWD(balances, o, n, d);
}
static int s_place(cb_exchange_t *ex, const cb_ex_order_req_t *r, cb_ex_order_t *o,
                   cb_ex_fill_t **f, size_t *nf, cb_diag_t *d)
{
    spy_t *s = spy_of(ex);
    cb_journal_order_t jo;
    s->places++;
    if (cb_journal_order_get(s->j, r->client_order_id, &jo) == 0 && jo.status == CB_OS_INTENT)
        s->intent_seen++;
    FWD(place_order, r, o, f, nf, d);
}
static int s_cancel(cb_exchange_t *ex, const char *p, const char *c, cb_ex_order_t *o,
                    cb_diag_t *d)
{
    FWD(cancel_order, p, c, o, d);
}
static int s_query(cb_exchange_t *ex, const char *p, const char *c, cb_ex_order_t *o,
                   cb_diag_t *d)
{
    FWD(query_order, p, c, o, d);
}
static int s_open(cb_exchange_t *ex, const char *p, cb_ex_order_t **o, size_t *n, cb_diag_t *d)
{
    FWD(open_orders, p, o, n, d);
}
static int s_trades(cb_exchange_t *ex, const char *p, int64_t since, cb_ex_fill_t **o,
                    size_t *n, cb_diag_t *d)
{
    FWD(my_trades, p, since, o, n, d);
}
static void s_free(cb_exchange_t *ex) { (void)ex; }
static const cb_exchange_ops_t spy_ops = {.name = "spy", .server_time = s_time,
                                          .pairs = s_pairs, .balances = s_bal,
                                          .place_order = s_place, .cancel_order = s_cancel,
                                          .query_order = s_query, .open_orders = s_open,
                                          .my_trades = s_trades, .free = s_free};

/* ---- fixture ----------------------------------------------------------------------------- */

#define MAX_EV 64
typedef struct fx {
    cb_series_t *s;
    cb_sim_t *sim;
    cb_exchange_t *ex;
    spy_t spy;
    cb_api_keys_t *keys;
    cb_journal_t *j;
    cb_venue_t v;
    char dir[256];
    cb_venue_event_t ev[MAX_EV];
    size_t n_ev;
    /* a tiny engine: after an entry FILL, place a stop (and a take-profit) like the engine */
    int place_exits;
    int64_t stop_px, tp_px;
    uint64_t next_id;
} fx_t;

static void on_event(void *ctx, const cb_venue_event_t *ev)
{
    fx_t *f = ctx;
    assert_true(f->n_ev < MAX_EV);
    f->ev[f->n_ev++] = *ev;
    if (f->place_exits && ev->type == CB_EV_FILL && ev->fill.side == CB_BUY) {
        cb_order_t o = {.id = ++f->next_id, .oco = 99, .side = CB_SELL,
                        .type = CB_ORDER_STOP_MARKET, .qty = ev->fill.qty,
                        .stop_price = f->stop_px, .tag = 3};
        cb_reject_t why;
        assert_int_equal(f->v.ops->submit(f->v.self, &o, &why), 0);
        if (f->tp_px) {
            cb_order_t t = {.id = ++f->next_id, .oco = 99, .side = CB_SELL,
                            .type = CB_ORDER_LIMIT, .qty = ev->fill.qty,
                            .limit_price = f->tp_px, .tag = 4};
            assert_int_equal(f->v.ops->submit(f->v.self, &t, &why), 0);
        }
    }
}

static void check_ok(int r, const cb_diag_t *d)
{
    if (r) {
        char buf[1024];
        cb_diag_format(d, buf, sizeof buf);
        print_message("unexpected failure: %s\n", buf);
    }
    assert_int_equal(r, 0);
}

static const char *const PAIRS[] = {"BTC/USDT"};

static void fx_start(fx_t *f, const char *faults, long timeout_ms)
{
    memset(f, 0, sizeof *f);
    clock_offset = 0;
    f->next_id = 1000;
    f->s = make_series_n("BTC/USDT", 40000, 300);
    assert_int_equal(cb_api_keys_new(KEY, SECRET, &f->keys), 0);
    const cb_series_t *list[1] = {f->s};
    cb_sim_opts_t so = {.series = list, .n_series = 1, .speed = 0,
                        .start_ms = f->s->time_ms[100], .balance = "10000 USDT",
                        .keys = f->keys, .faults = faults, .quiet = 1, .ws_port = -1};
    cb_diag_t d;
    check_ok(cb_sim_new(&so, &f->sim, &d), &d);
    check_ok(cb_sim_start(f->sim, &d), &d);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", cb_sim_port(f->sim));
    cb_binance_opts_t o = {.base_url = url, .keys = f->keys, .timeout_ms = timeout_ms,
                           .recv_window_ms = 1000, .jitter_seed = 42};
    check_ok(cb_binance_new(&o, &f->ex, &d), &d);
    assert_non_null(tu_tmpdir(f->dir, sizeof f->dir));
    char path[300];
    snprintf(path, sizeof path, "%s/j.db", f->dir);
    check_ok(cb_journal_open(path, "t1", &f->j, &d), &d);
    f->spy.base.ops = &spy_ops;
    f->spy.inner = f->ex;
    f->spy.j = f->j;
    cb_exchange_venue_opts_t vo = {.ex = &f->spy.base, .journal = f->j, .pairs = PAIRS,
                                   .n_pairs = 1, .unsent_after_ms = 3000, .now_ms = test_now};
    check_ok(cb_exchange_venue_new(&vo, &f->v, &d), &d);
    f->v.ops->set_sink(f->v.self, on_event, f);
}

static void fx_stop(fx_t *f)
{
    f->v.ops->destroy(f->v.self);
    cb_journal_close(f->j);
    cb_exchange_free(f->ex);
    cb_sim_free(f->sim);
    cb_api_keys_free(f->keys);
    cb_series_free(f->s);
    tu_rmtree(f->dir);
}

static int64_t fxv(double x) { return cb_fx_from_double(x); }

/* The price the simulator trades at now: the open of the candle being formed. */
static int64_t sim_price(fx_t *f)
{
    int64_t t = cb_sim_time(f->sim);
    for (size_t i = 0; i < f->s->n; i++)
        if (f->s->time_ms[i] == t)
            return fxv(f->s->open[i]);
    return 0;
}

/* Polls until n events arrived (or a few seconds passed). */
static void poll_until(fx_t *f, size_t n)
{
    for (int i = 0; i < 100 && f->n_ev < n; i++) {
        assert_int_equal(f->v.ops->poll(f->v.self, 0), 0);
        if (f->n_ev < n) {
            struct timespec ts = {0, 20000000};
            nanosleep(&ts, NULL);
        }
    }
    assert_true(f->n_ev >= n);
}

static json_t *sim_state(fx_t *f)
{
    char *s = cb_sim_state_json(f->sim);
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    free(s);
    assert_non_null(j);
    return j;
}

static int64_t sim_balance(fx_t *f, const char *asset)
{
    json_t *st = sim_state(f);
    json_t *b = json_object_get(json_object_get(json_object_get(st, "balances"), asset), "free");
    json_t *l =
        json_object_get(json_object_get(json_object_get(st, "balances"), asset), "locked");
    int64_t v = 0, w = 0;
    if (b)
        assert_int_equal(cb_dec_parse(json_string_value(b), (size_t)-1, 8, &v), 0);
    if (l)
        assert_int_equal(cb_dec_parse(json_string_value(l), (size_t)-1, 8, &w), 0);
    json_decref(st);
    return v + w;
}

/* Every client order id of the simulator once, each one journaled with the same status. */
static void check_sim_matches_journal(fx_t *f)
{
    json_t *st = sim_state(f);
    json_t *orders = json_object_get(st, "orders");
    size_t i, k;
    json_t *o, *o2;
    json_array_foreach(orders, i, o)
    {
        const char *coid = json_string_value(json_object_get(o, "client_order_id"));
        json_array_foreach(orders, k, o2) if (k != i) assert_string_not_equal(
            coid, json_string_value(json_object_get(o2, "client_order_id")));
        cb_journal_order_t jo;
        assert_int_equal(cb_journal_order_get(f->j, coid, &jo), 0);
        cb_order_status_t s;
        assert_int_equal(
            cb_order_status_parse(json_string_value(json_object_get(o, "status")), &s), 0);
        if (s != jo.status)
            print_message("%s: sim %s journal %s\n", coid, cb_order_status_name(s),
                          cb_order_status_name(jo.status));
        assert_int_equal(s, jo.status);
    }
    json_decref(st);
    int64_t pos;
    assert_int_equal(cb_live_position(f->j, "BTC/USDT", "BTC", &pos), 0);
    assert_int_equal(pos, sim_balance(f, "BTC"));
}

static void recon(fx_t *f, cb_recon_action_t action, cb_reconcile_report_t *r);

/* ---- tests -------------------------------------------------------------------------------- */

static void test_scales(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(cb_live_fx_to_scale(4206139000000, 2, &v), 0);
    assert_int_equal(v, 4206139);
    assert_int_equal(cb_live_fx_to_scale(4206139000001, 2, &v), CB_ERANGE);
    assert_int_equal(cb_live_fx_to_scale(5, 9, &v), CB_ERANGE);
    assert_int_equal(cb_live_scale_to_fx(200, 5, &v), 0);
    assert_int_equal(v, 200000);
    cb_pair_info_t p = {.pair = "BTC/USDT", .base = "BTC", .quote = "USDT", .price_scale = 2,
                        .qty_scale = 5, .tick = 1, .step = 1, .min_notional = 50000000};
    cb_instrument_t ins;
    cb_diag_t d;
    check_ok(cb_live_instrument(&p, &ins, &d), &d);
    assert_int_equal(ins.tick, 1000000);
    assert_int_equal(ins.step, 1000);
    assert_int_equal(ins.min_notional, 5 * CB_FX_ONE);
    p.qty_scale = 9;
    assert_int_equal(cb_live_instrument(&p, &ins, &d), CB_ERANGE);
    assert_string_equal(d.msg, "BTC/USDT: the exchange's tick (2 decimals) or step (9 decimals) "
                               "is finer than the engine's 8 decimals; this pair cannot be "
                               "traded");
}

static void test_market_buy_sell(void **state)
{
    (void)state;
    fx_t f;
    fx_start(&f, NULL, 3000);
    cb_ex_account_t acc;
    cb_diag_t d0;
    check_ok(cb_exchange_account(f.ex, &acc, &d0), &d0);
    assert_int_equal(acc.can_trade, 1);
    assert_int_equal(acc.can_withdraw, 0);
    assert_string_equal(acc.account_type, "SPOT");
    int64_t px = sim_price(&f);
    cb_order_t o = {.id = 1, .side = CB_BUY, .type = CB_ORDER_MARKET,
                    .quote_qty = 1000 * CB_FX_ONE, .ref_price = px, .tag = 1};
    cb_reject_t why;
    assert_int_equal(f.v.ops->submit(f.v.self, &o, &why), 0);
    assert_int_equal(f.spy.places, 1);
    assert_int_equal(f.spy.intent_seen, 1); /* journaled before it was sent */
    assert_int_equal(f.n_ev, 0);            /* events come from poll only */
    poll_until(&f, 1);
    assert_int_equal(f.ev[0].type, CB_EV_FILL);
    assert_int_equal(f.ev[0].order_id, 1);
    const cb_fill_t *fl = &f.ev[0].fill;
    /* quantity = 1000 / price floored to the step 0.00001, minus the 0.1 % base fee */
    int64_t gross = (int64_t)(((__int128)1000 * CB_FX_ONE * CB_FX_ONE / px) / 1000 * 1000);
    int64_t fee_base = (gross + 999) / 1000;
    assert_int_equal(fl->qty, gross - fee_base);
    assert_int_equal(fl->price, px);
    assert_int_equal(sim_balance(&f, "BTC"), fl->qty);
    /* cash moved by notional + fee == the quote the exchange took */
    assert_int_equal(10000 * CB_FX_ONE - fl->notional - fl->fee, sim_balance(&f, "USDT"));
    assert_int_equal(f.v.ops->quote_balance(f.v.self), 10000 * CB_FX_ONE); /* not yet refreshed */
    cb_journal_order_t jo;
    assert_int_equal(cb_journal_order_get(f.j, "cb-t1-1", &jo), 0);
    assert_int_equal(jo.status, CB_OS_FILLED);
    assert_string_equal(jo.reason, "entry");
    assert_string_equal(jo.type, "market");
    /* a stop already passed by the price (above it) is refused by the exchange ("would
     * trigger immediately"): it sells at market at once */
    cb_order_t s = {.id = 2, .side = CB_SELL, .type = CB_ORDER_STOP_MARKET, .qty = fl->qty,
                    .stop_price = px + fxv(100), .ref_price = px, .tag = 3};
    assert_int_equal(f.v.ops->submit(f.v.self, &s, &why), 0);
    poll_until(&f, 2);
    assert_int_equal(f.ev[1].type, CB_EV_FILL);
    assert_int_equal(f.ev[1].fill.qty, fl->qty / 1000 * 1000);
    assert_int_equal(sim_balance(&f, "BTC"), fl->qty % 1000);
    assert_int_equal(cb_journal_order_get(f.j, "cb-t1-2", &jo), 0);
    assert_string_equal(jo.type, "stop_loss");
    assert_int_equal(jo.status, CB_OS_REJECTED);
    assert_int_equal(cb_journal_order_get(f.j, "cb-t1-3", &jo), 0);
    assert_string_equal(jo.type, "market");
    assert_string_equal(jo.reason, "stoploss");
    assert_int_equal(jo.status, CB_OS_FILLED);
    check_sim_matches_journal(&f);
    /* a refusal is immediate and journaled as rejected */
    cb_order_t big = {.id = 3, .side = CB_SELL, .type = CB_ORDER_MARKET, .qty = 5 * CB_FX_ONE,
                      .ref_price = px, .tag = 2};
    assert_int_equal(f.v.ops->submit(f.v.self, &big, &why), CB_EREJECTED);
    assert_int_equal(why, CB_REJECT_BALANCE);
    assert_int_equal(cb_journal_order_get(f.j, "cb-t1-4", &jo), 0);
    assert_int_equal(jo.status, CB_OS_REJECTED);
    fx_stop(&f);
}

static void test_stop_after_entry_and_emulated_tp(void **state)
{
    (void)state;
    fx_t f;
    fx_start(&f, NULL, 3000);
    int64_t px = sim_price(&f);
    f.place_exits = 1;
    f.stop_px = (px - fxv(500)) / 1000000 * 1000000;
    f.tp_px = (px + fxv(30)) / 1000000 * 1000000;
    cb_order_t o = {.id = 1, .side = CB_BUY, .type = CB_ORDER_MARKET,
                    .quote_qty = 1000 * CB_FX_ONE, .ref_price = px, .tag = 1};
    cb_reject_t why;
    assert_int_equal(f.v.ops->submit(f.v.self, &o, &why), 0);
    poll_until(&f, 1);
    /* the stop is on the exchange right after the entry filled; the take-profit is local */
    cb_exchange_venue_stats_t st;
    cb_exchange_venue_stats(&f.v, &st);
    assert_int_equal(st.live_orders, 1);
    assert_int_equal(st.emulated_orders, 1);
    cb_ex_order_t *open;
    size_t n;
    cb_diag_t d;
    check_ok(cb_exchange_open_orders(f.ex, "BTC/USDT", &open, &n, &d), &d);
    assert_int_equal(n, 1);
    assert_int_equal(open[0].type, CB_EX_ORDER_STOP_LOSS);
    assert_string_equal(open[0].client_order_id, "cb-t1-2");
    assert_int_equal(open[0].qty, f.ev[0].fill.qty / 1000); /* floored to the step */
    free(open);
    /* a candle whose high reaches the take-profit: stop cancelled, market sell sent */
    assert_int_equal(f.v.ops->on_bar(f.v.self, 0, cb_sim_time(&*f.sim), px, f.tp_px, px, px), 0);
    poll_until(&f, 3);
    assert_int_equal(f.ev[1].type, CB_EV_CANCELED);
    assert_int_equal(f.ev[1].order_id, 1001);
    assert_int_equal(f.ev[2].type, CB_EV_FILL);
    assert_int_equal(f.ev[2].order_id, 1002);
    cb_journal_order_t jo;
    assert_int_equal(cb_journal_order_get(f.j, "cb-t1-3", &jo), 0);
    assert_string_equal(jo.reason, "take_profit");
    assert_int_equal(jo.status, CB_OS_FILLED);
    check_sim_matches_journal(&f);
    fx_stop(&f);
}

static void test_stop_fills_on_exchange(void **state)
{
    (void)state;
    fx_t f;
    fx_start(&f, NULL, 3000);
    int64_t px = sim_price(&f);
    f.place_exits = 1;
    f.stop_px = (px - fxv(1)) / 1000000 * 1000000; /* just under: the next candles reach it */
    f.tp_px = px * 2 / 1000000 * 1000000;
    cb_order_t o = {.id = 1, .side = CB_BUY, .type = CB_ORDER_MARKET,
                    .quote_qty = 1000 * CB_FX_ONE, .ref_price = px, .tag = 1};
    cb_reject_t why;
    assert_int_equal(f.v.ops->submit(f.v.self, &o, &why), 0);
    poll_until(&f, 1);
    /* trailing: move the stop (cancel + new client order id) */
    int64_t lvl = f.stop_px - fxv(2);
    assert_int_equal(f.v.ops->amend(f.v.self, 1001, lvl, 0), 0);
    assert_string_equal(cb_exchange_venue_client_id(&f.v, 1001), "cb-t1-3");
    for (int i = 0; i < 20 && f.n_ev < 3; i++) {
        cb_sim_advance(f.sim, 1);
        assert_int_equal(f.v.ops->poll(f.v.self, 0), 0);
    }
    assert_int_equal(f.n_ev, 3);
    assert_int_equal(f.ev[1].type, CB_EV_FILL); /* the stop */
    assert_int_equal(f.ev[1].order_id, 1001);
    assert_int_equal(f.ev[2].type, CB_EV_CANCELED); /* its emulated take-profit */
    assert_int_equal(f.ev[2].order_id, 1002);
    cb_journal_order_t jo;
    assert_int_equal(cb_journal_order_get(f.j, "cb-t1-2", &jo), 0);
    assert_int_equal(jo.status, CB_OS_CANCELED);
    assert_int_equal(cb_journal_order_get(f.j, "cb-t1-3", &jo), 0);
    assert_int_equal(jo.status, CB_OS_FILLED);
    assert_string_equal(jo.type, "stop_loss");
    check_sim_matches_journal(&f);
    fx_stop(&f);
}

/* The simulator holds every order's answer 2.5 s; the connector gives up after 1 s and the
 * order is found by its client order id: placed once, reported once. */
static void test_lost_answer(void **state)
{
    (void)state;
    fx_t f;
    fx_start(&f, "seed=5,lost=1:2500", 1000);
    int64_t px = sim_price(&f);
    cb_order_t o = {.id = 1, .side = CB_BUY, .type = CB_ORDER_MARKET,
                    .quote_qty = 500 * CB_FX_ONE, .ref_price = px, .tag = 1};
    cb_reject_t why;
    assert_int_equal(f.v.ops->submit(f.v.self, &o, &why), 0);
    poll_until(&f, 1);
    assert_int_equal(f.ev[0].type, CB_EV_FILL);
    cb_sim_fault_counts_t fc;
    cb_sim_fault_counts(f.sim, &fc);
    assert_true(fc.lost >= 1);
    json_t *st = sim_state(&f);
    assert_int_equal(json_array_size(json_object_get(st, "orders")), 1);
    json_decref(st);
    check_sim_matches_journal(&f);
    fx_stop(&f);
}

/* Many orders through 5xx, 429 bursts, delays and lost answers: the journal and the
 * simulator agree at the end, no client order id twice, position == balance. */
static void test_faults(void **state)
{
    (void)state;
    fx_t f;
    fx_start(&f, "seed=11,5xx=0.15,429=0.1:2,delay=0.2:200,lost=0.15:1500", 800);
    cb_reject_t why;
    size_t want = 0;
    for (int k = 0; k < 3; k++) {
        int64_t px = sim_price(&f);
        cb_order_t b = {.id = (uint64_t)(10 * k + 1), .side = CB_BUY, .type = CB_ORDER_MARKET,
                        .quote_qty = 300 * CB_FX_ONE, .ref_price = px, .tag = 1};
        if (f.v.ops->submit(f.v.self, &b, &why) != 0)
            continue;
        poll_until(&f, ++want);
        if (f.ev[want - 1].type != CB_EV_FILL)
            continue;
        cb_sim_advance(f.sim, 1);
        cb_order_t s = {.id = (uint64_t)(10 * k + 2), .side = CB_SELL, .type = CB_ORDER_MARKET,
                        .qty = f.ev[want - 1].fill.qty, .ref_price = sim_price(&f), .tag = 2};
        if (f.v.ops->submit(f.v.self, &s, &why) == 0)
            poll_until(&f, ++want);
        cb_sim_advance(f.sim, 1);
    }
    cb_sim_fault_counts_t fc;
    cb_sim_fault_counts(f.sim, &fc);
    print_message("faults: 5xx %ld 429 %ld delay %ld lost %ld; events %zu\n", fc.http5xx,
                  fc.http429, fc.delay, fc.lost, f.n_ev);
    assert_true(fc.http5xx + fc.http429 + fc.lost > 0);
    check_sim_matches_journal(&f);
    fx_stop(&f);
}


/* ---- a scripted exchange: partial fills, duplicates ------------------------------------- */

typedef struct fake {
    cb_exchange_t base;
    cb_ex_order_t order;
    int have_order;
    cb_ex_fill_t fills[8];
    size_t n_fills;
} fake_t;

static fake_t *fk(cb_exchange_t *ex) { return (fake_t *)ex; }
static const cb_pair_info_t FAKE_PAIR = {.pair = "BTC/USDT", .symbol = "BTCUSDT", .base = "BTC",
                                         .quote = "USDT", .trading = 1, .price_scale = 2,
                                         .qty_scale = 5, .tick = 1, .step = 1};
static int f_pairs(cb_exchange_t *ex, cb_pair_info_t **o, size_t *n, cb_diag_t *d)
{
    (void)ex;
    (void)d;
    *o = malloc(sizeof **o);
    **o = FAKE_PAIR;
    *n = 1;
    return 0;
}
static int f_bal(cb_exchange_t *ex, cb_ex_balance_t **o, size_t *n, cb_diag_t *d)
{
    (void)ex;
    (void)d;
    *o = calloc(1, sizeof **o);
    snprintf((*o)->asset, sizeof (*o)->asset, "USDT");
    (*o)->free = 10000 * CB_FX_ONE;
    *n = 1;
    return 0;
}
static int f_place(cb_exchange_t *ex, const cb_ex_order_req_t *r, cb_ex_order_t *o,
                   cb_ex_fill_t **f, size_t *nf, cb_diag_t *d)
{
    (void)d;
    fake_t *x = fk(ex);
    memset(&x->order, 0, sizeof x->order);
    snprintf(x->order.pair, sizeof x->order.pair, "%s", r->pair);
    snprintf(x->order.client_order_id, sizeof x->order.client_order_id, "%s",
             r->client_order_id);
    x->order.order_id = 555;
    x->order.side = r->side;
    x->order.type = r->type;
    x->order.qty = r->qty;
    x->order.price = r->price;
    x->order.created_ms = 1000;
    x->have_order = 1;
    *o = x->order;
    if (f) {
        *f = NULL;
        *nf = 0;
    }
    return 0;
}
static int f_query(cb_exchange_t *ex, const char *p, const char *c, cb_ex_order_t *o,
                   cb_diag_t *d)
{
    (void)p;
    fake_t *x = fk(ex);
    if (!x->have_order || strcmp(c, x->order.client_order_id))
        return cb_diag_set(d, CB_ENOENT, NULL, 0, 0, NULL, "Order does not exist.");
    *o = x->order;
    return 0;
}
static int f_open(cb_exchange_t *ex, const char *p, cb_ex_order_t **o, size_t *n, cb_diag_t *d)
{
    (void)p;
    (void)d;
    fake_t *x = fk(ex);
    *o = malloc(sizeof **o);
    *n = 0;
    if (x->have_order && cb_ex_status_open(x->order.status))
        (*o)[(*n)++] = x->order;
    return 0;
}
static int f_trades(cb_exchange_t *ex, const char *p, int64_t since, cb_ex_fill_t **o,
                    size_t *n, cb_diag_t *d)
{
    (void)p;
    (void)since;
    (void)d;
    fake_t *x = fk(ex);
    /* every fill, and the first one a second time (a replayed page) */
    *o = malloc((x->n_fills + 1) * sizeof **o);
    memcpy(*o, x->fills, x->n_fills * sizeof **o);
    *n = x->n_fills;
    if (x->n_fills)
        (*o)[(*n)++] = x->fills[0];
    return 0;
}
static void f_free(cb_exchange_t *ex) { (void)ex; }
static const cb_exchange_ops_t fake_ops = {.name = "fake", .pairs = f_pairs, .balances = f_bal,
                                           .place_order = f_place, .query_order = f_query,
                                           .open_orders = f_open, .my_trades = f_trades,
                                           .free = f_free};

static void fake_fill(fake_t *x, int64_t trade_id, int64_t qty, int64_t price, int64_t fee)
{
    cb_ex_fill_t *f = &x->fills[x->n_fills++];
    memset(f, 0, sizeof *f);
    f->trade_id = trade_id;
    f->order_id = 555;
    snprintf(f->pair, sizeof f->pair, "BTC/USDT");
    f->side = CB_EX_BUY;
    f->price = price;
    f->qty = qty;
    f->fee = fee;
    snprintf(f->fee_asset, sizeof f->fee_asset, "BTC");
    f->time_ms = 2000 + trade_id;
    x->order.executed_qty += qty;
    x->order.status = x->order.executed_qty >= x->order.qty ? CB_EX_STATUS_FILLED
                                                            : CB_EX_STATUS_PARTIALLY_FILLED;
}

static void test_partial_fills_aggregated(void **state)
{
    (void)state;
    fx_t f;
    memset(&f, 0, sizeof f);
    fake_t x;
    memset(&x, 0, sizeof x);
    x.base.ops = &fake_ops;
    cb_diag_t d;
    assert_non_null(tu_tmpdir(f.dir, sizeof f.dir));
    char path[300];
    snprintf(path, sizeof path, "%s/j.db", f.dir);
    check_ok(cb_journal_open(path, "t1", &f.j, &d), &d);
    cb_exchange_venue_opts_t vo = {.ex = &x.base, .journal = f.j, .pairs = PAIRS, .n_pairs = 1};
    check_ok(cb_exchange_venue_new(&vo, &f.v, &d), &d);
    f.v.ops->set_sink(f.v.self, on_event, &f);
    cb_order_t o = {.id = 7, .side = CB_BUY, .type = CB_ORDER_LIMIT, .qty = 1000000,
                    .limit_price = fxv(40010), .tag = 1};
    cb_reject_t why;
    assert_int_equal(f.v.ops->submit(f.v.self, &o, &why), 0);
    assert_int_equal(f.v.ops->poll(f.v.self, 0), 0);
    assert_int_equal(f.n_ev, 0);
    fake_fill(&x, 1, 300, 4000000, 300); /* 0.003 BTC at 40000, fee 0.000003 BTC */
    assert_int_equal(f.v.ops->poll(f.v.self, 0), 0);
    assert_int_equal(f.n_ev, 0); /* partly filled: no event yet */
    cb_journal_order_t jo;
    assert_int_equal(cb_journal_order_get(f.j, "cb-t1-1", &jo), 0);
    assert_int_equal(jo.status, CB_OS_PARTIALLY_FILLED);
    assert_int_equal(jo.executed_quantity, 300);
    fake_fill(&x, 2, 700, 4001000, 700); /* 0.007 BTC at 40010 */
    assert_int_equal(f.v.ops->poll(f.v.self, 0), 0);
    assert_int_equal(f.v.ops->poll(f.v.self, 0), 0);
    assert_int_equal(f.n_ev, 1); /* one final event */
    const cb_fill_t *fl = &f.ev[0].fill;
    assert_int_equal(f.ev[0].type, CB_EV_FILL);
    assert_int_equal(f.ev[0].order_id, 7);
    assert_int_equal(fl->qty, 1000000 - 1000);           /* 0.01 BTC minus 0.00001 fee */
    assert_int_equal(fl->price, fxv(40007));             /* the average */
    assert_int_equal(fl->fee, 40007000);                 /* 0.00001 BTC at 40007 */
    assert_int_equal(fl->notional + fl->fee, fxv(400.07)); /* what the quote paid */
    assert_int_equal(fl->time_ms, 2002);
    int64_t pos;
    assert_int_equal(cb_live_position(f.j, "BTC/USDT", "BTC", &pos), 0);
    assert_int_equal(pos, 999000); /* two fills, the duplicate ignored */
    cb_live_position_t lp;
    assert_int_equal(cb_live_position_rebuild(f.j, "BTC/USDT", "BTC", 1000, &lp), 0);
    assert_int_equal(lp.open, 1);
    assert_int_equal(lp.qty, 999000);
    assert_int_equal(lp.entry_price, fxv(40007));
    assert_int_equal(lp.entry_fee, 40007000);
    assert_int_equal(lp.entry_ms, 2001);
    f.v.ops->destroy(f.v.self);
    cb_journal_close(f.j);
    tu_rmtree(f.dir);
}


/* A restart: the previous run's stop is cancelled, the position rebuilt from the journal. */
static void test_restart_helpers(void **state)
{
    (void)state;
    fx_t f;
    fx_start(&f, NULL, 3000);
    cb_diag_t d;
    check_ok(cb_live_check_account(f.ex, &d), &d);
    int64_t px = sim_price(&f);
    f.place_exits = 1;
    f.stop_px = (px - fxv(500)) / 1000000 * 1000000;
    cb_order_t o = {.id = 1, .side = CB_BUY, .type = CB_ORDER_MARKET,
                    .quote_qty = 1000 * CB_FX_ONE, .ref_price = px, .tag = 1};
    cb_reject_t why;
    assert_int_equal(f.v.ops->submit(f.v.self, &o, &why), 0);
    poll_until(&f, 1);
    cb_reconcile_report_t r;
    recon(&f, CB_RECON_CHECK, &r);
    assert_int_equal(r.n_diffs, 0);
    cb_reconcile_report_free(&r);
    size_t n;
    check_ok(cb_live_cancel_open(f.ex, f.j, PAIRS, 1, &n, &d), &d);
    assert_int_equal(n, 1);
    cb_journal_order_t jo;
    assert_int_equal(cb_journal_order_get(f.j, "cb-t1-2", &jo), 0);
    assert_int_equal(jo.status, CB_OS_CANCELED);
    cb_live_position_t lp;
    assert_int_equal(cb_live_position_rebuild(f.j, "BTC/USDT", "BTC", 1000, &lp), 0);
    assert_int_equal(lp.open, 1);
    assert_int_equal(lp.qty, f.ev[0].fill.qty);
    assert_int_equal(lp.entry_price, px);
    assert_int_equal(lp.entry_fee, f.ev[0].fill.fee);
    check_sim_matches_journal(&f);
    fx_stop(&f);
}

/* ---- reconciliation ---------------------------------------------------------------------- */

static void recon(fx_t *f, cb_recon_action_t action, cb_reconcile_report_t *r)
{
    cb_reconcile_opts_t o = {.ex = f->ex, .journal = f->j, .bot = "t1", .pairs = PAIRS,
                             .n_pairs = 1, .action = action, .unsent_after_ms = 3000,
                             .now_ms = test_now};
    cb_diag_t d;
    check_ok(cb_reconcile(&o, r, &d), &d);
    for (size_t i = 0; i < r->n_diffs; i++)
        print_message("  %s: %s\n", cb_recon_kind_name(r->diffs[i].kind), r->diffs[i].message);
}

static void place_direct(fx_t *f, const char *coid, cb_ex_side_t side, cb_ex_order_type_t type,
                         int64_t qty, int64_t price)
{
    cb_ex_order_req_t req = {.pair = "BTC/USDT", .side = side, .type = type, .qty = qty,
                             .price = price};
    snprintf(req.client_order_id, sizeof req.client_order_id, "%s", coid);
    cb_ex_order_t o;
    cb_diag_t d;
    check_ok(cb_exchange_place_order(f->ex, &req, &o, NULL, NULL, &d), &d);
}

static void test_reconcile_clean_and_catch_up(void **state)
{
    (void)state;
    fx_t f;
    fx_start(&f, NULL, 3000);
    cb_reconcile_report_t r;
    recon(&f, CB_RECON_CHECK, &r);
    assert_int_equal(r.n_diffs, 0);
    cb_reconcile_report_free(&r);
    /* a crash after sending, before recording: the intent is journaled, the order exists */
    cb_journal_order_t jo = {.pair = "BTC/USDT", .side = "buy", .type = "market",
                             .reason = "entry", .price_scale = 2, .qty_scale = 5,
                             .quantity = 2000, .created_ms = test_now(NULL)};
    assert_int_equal(cb_journal_order_intent(f.j, &jo), 0);
    place_direct(&f, jo.client_order_id, CB_EX_BUY, CB_EX_ORDER_MARKET, 2000, 0);
    /* a crash after writing the intent, before sending */
    cb_journal_order_t jo2 = jo;
    assert_int_equal(cb_journal_order_intent(f.j, &jo2), 0);
    recon(&f, CB_RECON_CHECK, &r);
    assert_int_equal(r.orders_checked, 2);
    assert_int_equal(r.fills_recorded, 1);  /* the missed fill */
    assert_int_equal(r.n_open, 1);          /* the young intent may still arrive */
    assert_int_equal(r.diffs[0].kind, CB_RECON_UNRESOLVED);
    assert_string_equal(r.diffs[0].message,
                        "order cb-t1-2 may still be on its way to the exchange; it is declared "
                        "not sent after 3000 ms: reconcile again then");
    cb_reconcile_report_free(&r);
    assert_int_equal(cb_journal_order_get(f.j, jo.client_order_id, &jo), 0);
    assert_int_equal(jo.status, CB_OS_FILLED);
    clock_offset = 4000; /* later: it can no longer arrive */
    recon(&f, CB_RECON_CHECK, &r);
    assert_int_equal(r.not_sent, 1);
    assert_int_equal(r.n_diffs, 0);
    cb_reconcile_report_free(&r);
    assert_int_equal(cb_journal_order_get(f.j, jo2.client_order_id, &jo2), 0);
    assert_int_equal(jo2.status, CB_OS_REJECTED);
    check_sim_matches_journal(&f);
    fx_stop(&f);
}

static void test_reconcile_differences(void **state)
{
    (void)state;
    fx_t f;
    fx_start(&f, NULL, 3000);
    cb_reconcile_report_t r;
    recon(&f, CB_RECON_CHECK, &r); /* records the baseline */
    cb_reconcile_report_free(&r);
    /* an order with our prefix the journal lacks, and someone else's order */
    place_direct(&f, "cb-t1-77", CB_EX_BUY, CB_EX_ORDER_LIMIT, 1000, 3000000);
    place_direct(&f, "manual-1", CB_EX_BUY, CB_EX_ORDER_LIMIT, 2000, 3100000);
    recon(&f, CB_RECON_CHECK, &r);
    assert_int_equal(r.n_diffs, 2);
    assert_int_equal(r.n_open, 2);
    assert_int_equal(r.diffs[0].kind, CB_RECON_UNKNOWN_ORDER);
    assert_string_equal(r.diffs[0].message,
                        "the exchange has an open order cb-t1-77 (BUY LIMIT 0.01 BTC at 30000) "
                        "that the journal lacks; `comeback reconcile --adopt` records it, "
                        "`--ignore` leaves it alone, or cancel it on the exchange");
    assert_int_equal(r.diffs[1].kind, CB_RECON_FOREIGN_ORDER);
    assert_string_equal(r.diffs[1].client_order_id, "manual-1");
    char *js = cb_reconcile_report_json(&r);
    assert_non_null(strstr(js, "\"ok\":false"));
    assert_non_null(strstr(js, "\"kind\":\"foreign_order\""));
    free(js);
    cb_reconcile_report_free(&r);
    /* a trade outside the robot: the balance differs */
    place_direct(&f, "manual-2", CB_EX_BUY, CB_EX_ORDER_MARKET, 1000, 0);
    recon(&f, CB_RECON_IGNORE, &r);
    assert_int_equal(r.n_diffs, 3);
    assert_int_equal(r.n_open, 0);
    assert_int_equal(r.ignored, 2);
    assert_int_equal(r.diffs[2].kind, CB_RECON_BALANCE);
    assert_string_equal(r.diffs[2].message,
                        "BTC balance is 0.00999 on the exchange but the journal expects 0 "
                        "(difference 0.00999 BTC): a fill the robot did not record, or a "
                        "deposit, withdrawal or trade outside the robot; `comeback reconcile "
                        "--adopt` takes the exchange's balance as the truth, `--ignore` "
                        "accepts the difference as outside the robot");
    cb_reconcile_report_free(&r);
    recon(&f, CB_RECON_CHECK, &r);
    assert_int_equal(r.n_diffs, 0);
    cb_reconcile_report_free(&r);
    /* a journal order the exchange does not know */
    cb_journal_order_t lost = {.pair = "BTC/USDT", .side = "sell", .type = "stop_loss",
                               .reason = "stoploss", .price_scale = 2, .qty_scale = 5,
                               .quantity = 100, .stop_price = 3000000,
                               .created_ms = test_now(NULL)};
    assert_int_equal(cb_journal_order_intent(f.j, &lost), 0);
    assert_int_equal(cb_journal_order_update(f.j, lost.client_order_id, "999", CB_OS_NEW, 0,
                                             test_now(NULL)),
                     0);
    recon(&f, CB_RECON_CHECK, &r);
    assert_int_equal(r.n_open, 1);
    assert_int_equal(r.diffs[0].kind, CB_RECON_MISSING_ORDER);
    assert_string_equal(r.diffs[0].message,
                        "order cb-t1-1 is new in the journal but the exchange does not know it; "
                        "check the account's order history, then `comeback reconcile --adopt` "
                        "marks it expired");
    cb_reconcile_report_free(&r);
    recon(&f, CB_RECON_ADOPT, &r);
    assert_int_equal(r.n_open, 0);
    cb_reconcile_report_free(&r);
    assert_int_equal(cb_journal_order_get(f.j, lost.client_order_id, &lost), 0);
    assert_int_equal(lost.status, CB_OS_EXPIRED);
    /* another unknown order: adopted into the journal */
    place_direct(&f, "cb-t1-78", CB_EX_BUY, CB_EX_ORDER_LIMIT, 1000, 3000000);
    recon(&f, CB_RECON_ADOPT, &r);
    assert_int_equal(r.adopted, 1);
    assert_int_equal(r.n_open, 0);
    cb_reconcile_report_free(&r);
    cb_journal_order_t jo;
    assert_int_equal(cb_journal_order_get(f.j, "cb-t1-78", &jo), 0);
    assert_int_equal(jo.status, CB_OS_NEW);
    assert_string_equal(jo.reason, "adopted");
    recon(&f, CB_RECON_CHECK, &r);
    assert_int_equal(r.n_diffs, 0);
    cb_reconcile_report_free(&r);
    fx_stop(&f);
}


/* One clock per column, the same in both modes: the same order decided on the same candle,
 * sent through the exchange venue (to the simulator) and the paper venue, is journaled with
 * the decision's candle as market_ms, the wall clock as created/updated_ms, its fill at the
 * market time of the execution and the wall clock of its recording. */
typedef struct clock_rows {
    cb_journal_order_t o;
    cb_journal_fill_t f;
} clock_rows_t;

static int first_fill(const cb_journal_fill_t *f, void *ctx)
{
    ((clock_rows_t *)ctx)->f = *f;
    return 1;
}

static void paper_sink(void *ctx, const cb_venue_event_t *ev)
{
    ++*(int *)ctx;
    (void)ev;
}

static void test_clocks_paper_and_live_agree(void **state)
{
    (void)state;
    fx_t f;
    fx_start(&f, NULL, 3000);
    int64_t bar = f.s->time_ms[99], now_bar = f.s->time_ms[100]; /* decided, traded */
    int64_t px = sim_price(&f);
    int64_t wall0 = cb_now_ms();
    cb_order_t o = {.id = 1, .side = CB_BUY, .type = CB_ORDER_MARKET,
                    .quote_qty = 1000 * CB_FX_ONE, .ref_price = px, .tag = 1,
                    .created_ms = bar};
    cb_reject_t why;
    assert_int_equal(f.v.ops->submit(f.v.self, &o, &why), 0);
    poll_until(&f, 1);
    clock_rows_t live, paper;
    assert_int_equal(cb_journal_order_get(f.j, "cb-t1-1", &live.o), 0);
    assert_int_equal(cb_journal_fills(f.j, "cb-t1-1", first_fill, &live), 1);
    /* the paper venue, on the same candle */
    char path[300];
    snprintf(path, sizeof path, "%s/paper.db", f.dir);
    cb_journal_t *pj;
    cb_diag_t d;
    check_ok(cb_journal_open(path, "t1", &pj, &d), &d);
    cb_pair_info_t *all = NULL;
    size_t n_all = 0;
    check_ok(cb_exchange_pairs(f.ex, &all, &n_all, &d), &d);
    cb_instrument_t ins;
    check_ok(cb_live_instrument(cb_pair_find(all, n_all, "BTC/USDT"), &ins, &d), &d);
    free(all);
    cb_costs_t costs = {CB_FX_ONE / 1000, CB_FX_ONE / 1000, 0};
    cb_venue_t pv;
    assert_int_equal(robot_paper_venue_new(pj, &ins, 1, 10000 * CB_FX_ONE, &costs, &pv), 0);
    int n_paper = 0;
    pv.ops->set_sink(pv.self, paper_sink, &n_paper);
    assert_int_equal(pv.ops->submit(pv.self, &o, &why), 0);
    assert_int_equal(pv.ops->on_bar(pv.self, 0, now_bar, px, px, px, px), 0);
    assert_int_equal(n_paper, 1);
    assert_int_equal(cb_journal_order_get(pj, "cb-t1-1", &paper.o), 0);
    assert_int_equal(cb_journal_fills(pj, "cb-t1-1", first_fill, &paper), 1);
    int64_t wall1 = cb_now_ms();
    const clock_rows_t *rows[2] = {&live, &paper};
    for (int i = 0; i < 2; i++) {
        const clock_rows_t *r = rows[i];
        print_message("%s: market_ms %lld created %lld updated %lld fill time %lld wall %lld\n",
                      i ? "paper" : "live", (long long)r->o.market_ms,
                      (long long)r->o.created_ms, (long long)r->o.updated_ms,
                      (long long)r->f.time_ms, (long long)r->f.wall_ms);
        assert_int_equal(r->o.market_ms, bar);
        assert_true(r->o.created_ms >= wall0 && r->o.created_ms <= wall1);
        assert_true(r->o.updated_ms >= r->o.created_ms && r->o.updated_ms <= wall1);
        assert_true(r->f.time_ms >= now_bar && r->f.time_ms < f.s->time_ms[101]);
        assert_true(r->f.wall_ms >= wall0 && r->f.wall_ms <= wall1);
    }
    pv.ops->destroy(pv.self);
    cb_journal_close(pj);
    fx_stop(&f);
}


/* A journal that cannot record fills any more (a trigger stands in for a full disk: writes to
 * the table fail, reads work): the failure is remembered (the robot halts its entries), and
 * the engine still hears every execution from the exchange, so that an exit closes the
 * position. */
static void test_fills_reach_engine_when_journal_fails(void **state)
{
    (void)state;
    fx_t f;
    fx_start(&f, NULL, 3000);
    char path[300];
    snprintf(path, sizeof path, "%s/j.db", f.dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TRIGGER disk_full BEFORE INSERT ON fills BEGIN"
                                      " SELECT RAISE(ABORT, 'database or disk is full'); END;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    int64_t px = sim_price(&f);
    cb_order_t o = {.id = 1, .side = CB_BUY, .type = CB_ORDER_MARKET,
                    .quote_qty = 1000 * CB_FX_ONE, .ref_price = px, .tag = 1};
    cb_reject_t why;
    assert_int_equal(f.v.ops->submit(f.v.self, &o, &why), 0);
    poll_until(&f, 1);
    assert_int_equal(f.ev[0].type, CB_EV_FILL);
    assert_int_equal(f.ev[0].fill.qty, sim_balance(&f, "BTC"));
    char msg[320];
    assert_int_equal(cb_journal_failed(f.j, msg, sizeof msg), 1);
    assert_string_equal(msg, "cannot record the fill: database or disk is full");
    /* the exit: its intent is written (orders still take writes), its fill reaches the
     * engine although the journal cannot keep it */
    int64_t held = f.ev[0].fill.qty;
    cb_order_t x = {.id = 2, .side = CB_SELL, .type = CB_ORDER_MARKET, .qty = held,
                    .ref_price = px, .tag = 2};
    assert_int_equal(f.v.ops->submit(f.v.self, &x, &why), 0);
    poll_until(&f, 2);
    assert_int_equal(f.ev[1].type, CB_EV_FILL);
    assert_int_equal(f.ev[1].fill.qty, held / 1000 * 1000);
    assert_int_equal(sim_balance(&f, "BTC"), held % 1000);
    cb_exchange_venue_stats_t st;
    cb_exchange_venue_stats(&f.v, &st);
    assert_non_null(strstr(st.last_error, "journal"));
    /* a stop resting on the exchange is the position's last protection once no new order can
     * be journaled: it is neither moved nor cancelled */
    cb_order_t b = {.id = 3, .side = CB_BUY, .type = CB_ORDER_MARKET,
                    .quote_qty = 1000 * CB_FX_ONE, .ref_price = px, .tag = 1};
    assert_int_equal(f.v.ops->submit(f.v.self, &b, &why), 0);
    poll_until(&f, 3);
    assert_int_equal(f.ev[2].type, CB_EV_FILL);
    int64_t q = f.ev[2].fill.qty / 1000 * 1000;
    cb_order_t sl = {.id = 4, .side = CB_SELL, .type = CB_ORDER_STOP_MARKET, .qty = q,
                     .stop_price = px - fxv(1000), .ref_price = px, .tag = 3};
    assert_int_equal(f.v.ops->submit(f.v.self, &sl, &why), 0);
    assert_int_equal(f.v.ops->poll(f.v.self, 0), 0);
    assert_int_equal(f.v.ops->amend(f.v.self, 4, px - fxv(500), 0), CB_ESTATE);
    assert_int_equal(f.v.ops->cancel(f.v.self, 4), CB_ESTATE);
    cb_ex_order_t *open = NULL;
    size_t n_open = 0;
    cb_diag_t d;
    check_ok(cb_exchange_open_orders(f.ex, "BTC/USDT", &open, &n_open, &d), &d);
    assert_int_equal(n_open, 1);
    assert_int_equal(open[0].type, CB_EX_ORDER_STOP_LOSS);
    free(open);
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scales),
        cmocka_unit_test(test_market_buy_sell),
        cmocka_unit_test(test_stop_after_entry_and_emulated_tp),
        cmocka_unit_test(test_stop_fills_on_exchange),
        cmocka_unit_test(test_partial_fills_aggregated),
        cmocka_unit_test(test_restart_helpers),
        cmocka_unit_test(test_lost_answer),
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_reconcile_clean_and_catch_up),
        cmocka_unit_test(test_reconcile_differences),
        cmocka_unit_test(test_clocks_paper_and_live_agree),
        cmocka_unit_test(test_fills_reach_engine_when_journal_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
