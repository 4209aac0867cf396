/* The account stream over Binance's WebSocket API (userDataStream.subscribe.signature):
 * the connector against the simulator's /ws-api/v3 on loopback. Order events, balances,
 * deposits, a refused signature, and dropped connections followed by a REST resync. */
#include "sim_fixture.h"

#include "sim/sim_int.h"

typedef struct known {
    char coid[CB_EX_COID_MAX];
    cb_ex_status_t status;
    int64_t executed;
    int trades;
    int from_rest;
} known_t;

typedef struct acct {
    int connects, disconnects, resyncs, refused, resync_pending;
    char refusal[128];
    known_t ord[16];
    int n_ord;
    int positions;
    cb_ex_balance_t btc;            /* the last BTC position */
    cb_ex_balance_t delta;          /* the last balanceUpdate */
    int deltas;
    int64_t missed_since;
} acct_t;

static known_t *known_of(acct_t *a, const char *coid)
{
    for (int i = 0; i < a->n_ord; i++)
        if (strcmp(a->ord[i].coid, coid) == 0)
            return &a->ord[i];
    assert_true(a->n_ord < 16);
    known_t *k = &a->ord[a->n_ord++];
    memset(k, 0, sizeof *k);
    snprintf(k->coid, sizeof k->coid, "%s", coid);
    return k;
}

static void on_account(const cb_stream_event_t *ev, void *user)
{
    acct_t *a = user;
    if (getenv("CB_DEBUG_TEST"))
        print_message("event %d %s %s %s\n", (int)ev->kind,
                      ev->kind == CB_STREAM_STATUS ? ev->u.status.message : "",
                      ev->kind == CB_STREAM_ACCOUNT ? ev->u.account.order.client_order_id : "",
                      ev->kind == CB_STREAM_ACCOUNT && ev->u.account.is_order
                          ? cb_ex_status_name(ev->u.account.order.status)
                          : "");
    if (ev->kind == CB_STREAM_STATUS) {
        if (ev->u.status.connected) {
            a->connects++;
            if (ev->u.status.resync) {
                a->resyncs++;
                a->resync_pending = 1;
                a->missed_since = ev->u.status.missed_since_ms;
            }
        } else if (strstr(ev->u.status.message, "refused")) {
            a->refused++;
            snprintf(a->refusal, sizeof a->refusal, "%s", ev->u.status.message);
        } else {
            a->disconnects++;
        }
        return;
    }
    assert_int_equal(ev->kind, CB_STREAM_ACCOUNT);
    if (ev->u.account.is_order) {
        const cb_ex_order_t *o = &ev->u.account.order;
        known_t *k = known_of(a, o->client_order_id);
        k->status = o->status;
        k->executed = o->executed_qty;
        if (ev->u.account.fill.qty > 0)
            k->trades++;
        assert_string_equal(o->pair, "BTC/USDT");
    } else if (ev->u.account.balance_delta) {
        a->deltas++;
        a->delta = ev->u.account.balances[0];
    } else {
        a->positions++;
        for (size_t i = 0; i < ev->u.account.n_balances; i++)
            if (strcmp(ev->u.account.balances[i].asset, "BTC") == 0)
                a->btc = ev->u.account.balances[i];
    }
}

static cb_ex_stream_t *open_account(fx_t *f, const cb_api_keys_t *keys, acct_t *a)
{
    char url[96];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/ws-api/v3", cb_sim_ws_port(f->sim));
    memset(a, 0, sizeof *a);
    cb_ex_account_stream_opts_t o = {.ws_api_url = url, .rest = f->ex,
                                     .keys = keys ? keys : f->keys, .fn = on_account,
                                     .user = a, .jitter_seed = 3};
    cb_ex_stream_t *st;
    cb_diag_t d;
    check_ok(cb_binance_account_stream_open(&o, &st, &d), &d);
    return st;
}

/* Polls until cond holds (checked every 20 ms) or max_ms pass. */
#define POLL_UNTIL(st, cond, max_ms)                                                           \
    for (int t_ = 0; t_ < (max_ms) && !(cond); t_ += 20)                                       \
    assert_int_equal(cb_ex_stream_poll((st), 20), 0)

static void place(fx_t *f, const char *coid, cb_ex_side_t side, cb_ex_order_type_t type,
                  int64_t qty, int64_t price)
{
    cb_ex_order_req_t r = {.pair = "BTC/USDT", .side = side, .type = type, .qty = qty,
                           .price = price};
    snprintf(r.client_order_id, sizeof r.client_order_id, "%s", coid);
    cb_ex_order_t o;
    cb_diag_t d;
    check_ok(cb_exchange_place_order(f->ex, &r, &o, NULL, NULL, &d), &d);
}

static void test_account_events(void **state)
{
    (void)state;
    fx_t f;
    fx_start(&f, NULL, 0, NULL);
    acct_t a;
    cb_ex_stream_t *st = open_account(&f, NULL, &a);
    POLL_UNTIL(st, a.connects, 3000);
    assert_int_equal(a.connects, 1);
    assert_int_equal(a.resyncs, 0);
    /* A market buy: NEW then TRADE (FILLED), with positions after each. */
    place(&f, "acc-1", CB_EX_BUY, CB_EX_ORDER_MARKET, 1000, 0);
    known_t *k = known_of(&a, "acc-1");
    POLL_UNTIL(st, k->status == CB_EX_STATUS_FILLED && a.positions >= 2, 3000);
    assert_int_equal(k->status, CB_EX_STATUS_FILLED);
    assert_int_equal(k->executed, 1000);
    assert_int_equal(k->trades, 1);
    /* 0.5 + 0.01 - 0.00001 fee */
    assert_int_equal(a.btc.free, 50999000);
    assert_int_equal(a.btc.locked, 0);
    /* A resting limit sell locks BTC; cancelling it unlocks it. */
    int64_t last = px2(f.s->close[99]);
    place(&f, "acc-2", CB_EX_SELL, CB_EX_ORDER_LIMIT, 500, last * 2);
    k = known_of(&a, "acc-2");
    POLL_UNTIL(st, a.btc.locked == 500000, 3000);
    assert_int_equal(k->status, CB_EX_STATUS_NEW);
    assert_int_equal(a.btc.locked, 500000);
    cb_ex_order_t o;
    cb_diag_t d;
    check_ok(cb_exchange_cancel_order(f.ex, "BTC/USDT", "acc-2", &o, &d), &d);
    POLL_UNTIL(st, k->status == CB_EX_STATUS_CANCELED && a.btc.locked == 0, 3000);
    assert_int_equal(k->status, CB_EX_STATUS_CANCELED);
    assert_int_equal(a.btc.free, 50999000);
    /* A deposit: balanceUpdate with the change. */
    assert_int_equal(cb_sim_deposit(f.sim, "BTC", 25000000), 0);
    POLL_UNTIL(st, a.deltas == 1, 3000);
    assert_string_equal(a.delta.asset, "BTC");
    assert_int_equal(a.delta.free, 25000000);
    POLL_UNTIL(st, a.btc.free == 75999000, 3000);
    assert_int_equal(a.btc.free, 75999000);
    assert_int_equal(cb_sim_deposit(f.sim, "BTC", -1000000000), CB_EINVAL);
    cb_ex_stream_stats_t ss;
    cb_ex_stream_stats(st, &ss);
    assert_int_equal(ss.disconnects, 0);
    assert_true(ss.messages >= 8);
    /* The exchange ends the subscription: the connector subscribes again and asks for a
     * resync, and events flow again. */
    cb_sim_end_user_streams(f.sim);
    POLL_UNTIL(st, a.resyncs == 1, 4000);
    assert_int_equal(a.resyncs, 1);
    assert_int_equal(a.connects, 2);
    place(&f, "acc-3", CB_EX_SELL, CB_EX_ORDER_MARKET, 1000, 0);
    k = known_of(&a, "acc-3");
    POLL_UNTIL(st, k->status == CB_EX_STATUS_FILLED, 3000);
    assert_int_equal(k->status, CB_EX_STATUS_FILLED);
    cb_ex_stream_close(st);
    fx_stop(&f);
}

/* A subscription signed with the wrong secret is refused with Binance's -1022, said in a
 * status event that holds no secret; the stream retries after its backoff. */
static void test_account_refused(void **state)
{
    (void)state;
    fx_t f;
    fx_start(&f, NULL, 0, NULL);
    cb_api_keys_t *bad;
    assert_int_equal(cb_api_keys_new(KEY, "not-the-secret", &bad), 0);
    acct_t a;
    cb_ex_stream_t *st = open_account(&f, bad, &a);
    POLL_UNTIL(st, a.refused, 3000);
    assert_int_equal(a.refused, 1);
    assert_int_equal(a.connects, 0);
    assert_non_null(strstr(a.refusal, "-1022"));
    assert_null(strstr(a.refusal, SECRET));
    assert_null(strstr(a.refusal, "not-the-secret"));
    cb_ex_stream_close(st);
    cb_api_keys_free(bad);
    /* Options checked before anything connects. */
    cb_ex_account_stream_opts_t o = {.ws_api_url = "http://x/ws-api/v3", .rest = f.ex,
                                     .keys = f.keys, .fn = on_account, .user = &a};
    cb_diag_t d;
    assert_int_equal(cb_binance_account_stream_open(&o, &st, &d), CB_EINVAL);
    assert_non_null(strstr(d.msg, "ws://"));
    o.ws_api_url = "ws://127.0.0.1:1";
    assert_int_equal(cb_binance_account_stream_open(&o, &st, &d), CB_EINVAL);
    assert_non_null(strstr(d.msg, "/ws-api/v3"));
    o.keys = NULL;
    assert_int_equal(cb_binance_account_stream_open(&o, &st, &d), CB_EINVAL);
    fx_stop(&f);
}

/* The simulator drops the connection instead of sending some events: the connector
 * reconnects, subscribes again and says so (resync), and a consumer that then asks REST for
 * its orders knows every order's final state. */
static void test_account_drops(void **state)
{
    (void)state;
    fx_t f;
    fx_start(&f, "seed=11,drop=0.25", 0, NULL);
    acct_t a;
    cb_ex_stream_t *st = open_account(&f, NULL, &a);
    POLL_UNTIL(st, a.connects, 3000);
    assert_true(a.connects >= 1);
    const char *ids[5] = {"drop-1", "drop-2", "drop-3", "drop-4", "drop-5"};
    for (int i = 0; i < 5; i++) {
        place(&f, ids[i], i % 2 ? CB_EX_SELL : CB_EX_BUY, CB_EX_ORDER_MARKET, 1000, 0);
        known_t *k = known_of(&a, ids[i]);
        for (int t = 0; t < 6000 && k->status != CB_EX_STATUS_FILLED; t += 20) {
            assert_int_equal(cb_ex_stream_poll(st, 20), 0);
            if (a.resync_pending) {
                /* What a consumer does on the hint: ask REST for the orders it tracks. */
                a.resync_pending = 0;
                for (int j = 0; j <= i; j++) {
                    cb_ex_order_t o;
                    cb_diag_t d;
                    check_ok(cb_exchange_query_order(f.ex, "BTC/USDT", ids[j], &o, &d), &d);
                    known_t *kj = known_of(&a, ids[j]);
                    kj->status = o.status;
                    kj->executed = o.executed_qty;
                    kj->from_rest = 1;
                }
            }
        }
        assert_int_equal(k->status, CB_EX_STATUS_FILLED);
        assert_int_equal(k->executed, 1000);
    }
    cb_sim_fault_counts_t fc;
    cb_sim_fault_counts(f.sim, &fc);
    cb_ex_stream_stats_t ss;
    cb_ex_stream_stats(st, &ss);
    if (getenv("CB_DEBUG_TEST"))
        print_message("drops %ld disconnects %ld resyncs %d\n", fc.drop, ss.disconnects,
                      a.resyncs);
    assert_true(fc.drop >= 1);
    assert_true(ss.disconnects >= 1);
    assert_true(a.resyncs >= 1);
    assert_true(a.missed_since > 0);
    cb_ex_stream_close(st);
    fx_stop(&f);
}

/* Partial fills and an OCO seen through the account stream: PARTIALLY_FILLED trades, then
 * FILLED; one OCO leg FILLED and the other EXPIRED. */
static void test_account_partial_and_oco(void **state)
{
    (void)state;
    fx_t f;
    cb_sim_opts_t so = {.max_fill_fraction = 0.02, .balance = "1000000 USDT, 5 BTC"};
    fx_start_with(&f, &so, NULL);
    acct_t a;
    cb_ex_stream_t *st = open_account(&f, NULL, &a);
    POLL_UNTIL(st, a.connects, 3000);
    int64_t last = px2(f.s->close[99]);
    place(&f, "part-1", CB_EX_BUY, CB_EX_ORDER_LIMIT, 20000, last + 50000);
    known_t *k = known_of(&a, "part-1");
    POLL_UNTIL(st, k->trades == 1, 3000);
    assert_int_equal(k->status, CB_EX_STATUS_PARTIALLY_FILLED);
    assert_int_equal(k->executed, 7000);
    cb_sim_advance(f.sim, 3);
    POLL_UNTIL(st, k->status == CB_EX_STATUS_FILLED, 3000);
    assert_int_equal(k->status, CB_EX_STATUS_FILLED);
    assert_int_equal(k->trades, 3);
    /* An OCO: its limit leg trades through at the next close, the stop leg expires. */
    int64_t hi = px2(f.s->high[103]) - 1;
    cb_ex_oco_req_t r = {.pair = "BTC/USDT", .list_client_id = "ev-oco",
                         .limit_client_order_id = "ev-oco-tp", .stop_client_order_id = "ev-oco-sl",
                         .side = CB_EX_SELL, .qty = 1000, .limit_price = hi,
                         .stop_price = last / 2};
    cb_ex_oco_t l;
    cb_diag_t d;
    check_ok(cb_exchange_place_oco(f.ex, &r, &l, &d), &d);
    cb_sim_advance(f.sim, 1);
    known_t *tp = known_of(&a, "ev-oco-tp"), *sl = known_of(&a, "ev-oco-sl");
    POLL_UNTIL(st, tp->status == CB_EX_STATUS_FILLED && sl->status == CB_EX_STATUS_EXPIRED, 3000);
    assert_int_equal(tp->status, CB_EX_STATUS_FILLED);
    assert_int_equal(sl->status, CB_EX_STATUS_EXPIRED);
    cb_ex_stream_close(st);
    fx_stop(&f);
}

/* The simulator's answers to WebSocket API requests, good and malformed, word for word. */
static void expect_reply(fx_t *f, int64_t *sub, const char *req, const char *want)
{
    pthread_mutex_lock(&f->sim->mu);
    char *got = sim_ws_api_reply_locked(f->sim, sub, req, strlen(req));
    pthread_mutex_unlock(&f->sim->mu);
    assert_non_null(got);
    if (strcmp(got, want) != 0)
        print_message("request %s\ngot:  %s\nwant: %s\n", req, got, want);
    assert_string_equal(got, want);
    free(got);
}

static void subscribe_req(char *buf, size_t size, const char *key, const char *secret,
                          int64_t ts)
{
    char payload[256], sig[80];
    snprintf(payload, sizeof payload, "apiKey=%s&recvWindow=5000&timestamp=%lld", key,
             (long long)ts);
    assert_int_equal(cb_binance_sign(secret, payload, strlen(payload), sig), 0);
    snprintf(buf, size,
             "{\"id\":\"s1\",\"method\":\"userDataStream.subscribe.signature\",\"params\":{"
             "\"timestamp\":%lld,\"apiKey\":\"%s\",\"signature\":\"%s\",\"recvWindow\":5000}}",
             (long long)ts, key, sig);
}

static void test_ws_api_requests(void **state)
{
    (void)state;
    fx_t f;
    fx_start(&f, NULL, 0, NULL);
    int64_t sub = -1, now = cb_sim_time(f.sim);
    char req[512];
    expect_reply(&f, &sub, "not json",
                 "{\"id\":null,\"status\":400,\"error\":{\"code\":-1102,\"msg\":\"Mandatory "
                 "parameter 'method' was not sent, was empty/null, or malformed.\"}}");
    expect_reply(&f, &sub, "{\"id\":1,\"method\":\"order.place\"}",
                 "{\"id\":1,\"status\":400,\"error\":{\"code\":-1020,\"msg\":\"This operation "
                 "is not supported.\"}}");
    expect_reply(&f, &sub, "{\"id\":1,\"method\":\"ping\"}", "{\"id\":1,\"status\":200,\"result\":{}}");
    expect_reply(&f, &sub, "{\"id\":2,\"method\":\"ping\",\"params\":[]}",
                 "{\"id\":2,\"status\":400,\"error\":{\"code\":-1102,\"msg\":\"Mandatory "
                 "parameter 'params' was not sent, was empty/null, or malformed.\"}}");
    expect_reply(&f, &sub,
                 "{\"id\":3,\"method\":\"userDataStream.subscribe.signature\",\"params\":{}}",
                 "{\"id\":3,\"status\":400,\"error\":{\"code\":-1102,\"msg\":\"Mandatory "
                 "parameter 'apiKey' was not sent, was empty/null, or malformed.\"}}");
    subscribe_req(req, sizeof req, "someoneElse", SECRET, now);
    expect_reply(&f, &sub, req,
                 "{\"id\":\"s1\",\"status\":401,\"error\":{\"code\":-2015,\"msg\":\"Invalid "
                 "API-key, IP, or permissions for action.\"}}");
    subscribe_req(req, sizeof req, KEY, "wrongSecret", now);
    expect_reply(&f, &sub, req,
                 "{\"id\":\"s1\",\"status\":400,\"error\":{\"code\":-1022,\"msg\":\"Signature "
                 "for this request is not valid.\"}}");
    subscribe_req(req, sizeof req, KEY, SECRET, now - 60000);
    expect_reply(&f, &sub, req,
                 "{\"id\":\"s1\",\"status\":400,\"error\":{\"code\":-1021,\"msg\":\"Timestamp "
                 "for this request is outside of the recvWindow.\"}}");
    assert_int_equal(sub, -1);
    subscribe_req(req, sizeof req, KEY, SECRET, now);
    expect_reply(&f, &sub, req,
                 "{\"id\":\"s1\",\"status\":200,\"result\":{\"subscriptionId\":0}}");
    assert_int_equal(sub, 0);
    expect_reply(&f, &sub, req,
                 "{\"id\":\"s1\",\"status\":400,\"error\":{\"code\":-2038,\"msg\":\"This account "
                 "is already subscribed to User Data Stream on this connection.\"}}");
    expect_reply(&f, &sub, "{\"id\":\"u\",\"method\":\"userDataStream.unsubscribe\"}",
                 "{\"id\":\"u\",\"status\":200,\"result\":{}}");
    assert_int_equal(sub, -1);
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_account_events),
        cmocka_unit_test(test_account_refused),
        cmocka_unit_test(test_account_drops),
        cmocka_unit_test(test_account_partial_and_oco),
        cmocka_unit_test(test_ws_api_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
