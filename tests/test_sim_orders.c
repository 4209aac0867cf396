/* The simulator's order semantics through the connector: partial fills under a volume
 * participation cap, IOC and FOK, quote-sized market orders, OCO lists, and Ed25519 / RSA
 * API keys (generated here, never stored) signing REST requests and the account stream. */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "sim_fixture.h"

static cb_ex_order_t order(fx_t *f, const char *coid, cb_ex_side_t side, cb_ex_order_type_t type,
                           int64_t qty, int64_t price, cb_ex_tif_t tif)
{
    cb_ex_order_req_t r = {.pair = "BTC/USDT", .side = side, .type = type, .qty = qty,
                           .price = price, .time_in_force = tif};
    snprintf(r.client_order_id, sizeof r.client_order_id, "%s", coid);
    cb_ex_order_t o;
    cb_diag_t d;
    check_ok(cb_exchange_place_order(f->ex, &r, &o, NULL, NULL, &d), &d);
    return o;
}

static cb_ex_order_t query(fx_t *f, const char *coid)
{
    cb_ex_order_t o;
    cb_diag_t d;
    check_ok(cb_exchange_query_order(f->ex, "BTC/USDT", coid, &o, &d), &d);
    return o;
}

static size_t trades_of(fx_t *f, int64_t order_id)
{
    cb_ex_fill_t *t;
    size_t n, k = 0;
    cb_diag_t d;
    check_ok(cb_exchange_my_trades(f->ex, "BTC/USDT", 0, &t, &n, &d), &d);
    for (size_t i = 0; i < n; i++)
        k += t[i].order_id == order_id;
    free(t);
    return k;
}

/* Volumes are 1.5 + (i % 7) BTC; with a 2 % cap candle 100 allows 0.07 BTC, 101 0.09, 102 0.11,
 * 103 0.13, 104 0.15 (qty units of 0.00001). */
static void test_partial_fills(void **state)
{
    (void)state;
    fx_t f;
    cb_sim_opts_t so = {.max_fill_fraction = 0.02, .balance = "1000000 USDT, 5 BTC"};
    fx_start_with(&f, &so, NULL);
    int64_t last = px2(f.s->close[99]);
    /* A crossing GTC limit buy of 0.2 BTC: 0.07 now, the rest over the next candles. */
    cb_ex_order_t o = order(&f, "pf-1", CB_EX_BUY, CB_EX_ORDER_LIMIT, 20000, last + 50000,
                            CB_EX_TIF_GTC);
    assert_int_equal(o.status, CB_EX_STATUS_PARTIALLY_FILLED);
    assert_int_equal(o.executed_qty, 7000);
    cb_sim_advance(f.sim, 1); /* candle 100's share is used up already */
    assert_int_equal(query(&f, "pf-1").executed_qty, 7000);
    cb_sim_advance(f.sim, 1);
    o = query(&f, "pf-1");
    assert_int_equal(o.status, CB_EX_STATUS_PARTIALLY_FILLED);
    assert_int_equal(o.executed_qty, 16000);
    cb_sim_advance(f.sim, 1);
    o = query(&f, "pf-1");
    assert_int_equal(o.status, CB_EX_STATUS_FILLED);
    assert_int_equal(o.executed_qty, 20000);
    assert_int_equal(trades_of(&f, o.order_id), 3);
    /* Candle 103 (0.13): IOC fills what it can and expires the rest ... */
    o = order(&f, "pf-2", CB_EX_BUY, CB_EX_ORDER_LIMIT, 20000, last + 50000, CB_EX_TIF_IOC);
    assert_int_equal(o.status, CB_EX_STATUS_EXPIRED);
    assert_int_equal(o.executed_qty, 13000);
    assert_int_equal(o.time_in_force, CB_EX_TIF_IOC);
    /* ... FOK fills all or nothing ... */
    o = order(&f, "pf-3", CB_EX_BUY, CB_EX_ORDER_LIMIT, 1000, last + 50000, CB_EX_TIF_FOK);
    assert_int_equal(o.status, CB_EX_STATUS_EXPIRED);
    assert_int_equal(o.executed_qty, 0);
    assert_int_equal(trades_of(&f, o.order_id), 0);
    cb_sim_advance(f.sim, 1); /* candle 104: 0.15 */
    o = order(&f, "pf-4", CB_EX_BUY, CB_EX_ORDER_LIMIT, 10000, last + 50000, CB_EX_TIF_FOK);
    assert_int_equal(o.status, CB_EX_STATUS_FILLED);
    /* ... and a market order's remainder expires, as when Binance's book runs out. */
    o = order(&f, "pf-5", CB_EX_BUY, CB_EX_ORDER_MARKET, 50000, 0, CB_EX_TIF_GTC);
    assert_int_equal(o.status, CB_EX_STATUS_EXPIRED);
    assert_int_equal(o.executed_qty, 5000);
    /* IOC/FOK that do not cross expire at once without a trade. */
    o = order(&f, "pf-6", CB_EX_SELL, CB_EX_ORDER_LIMIT, 1000, last * 2, CB_EX_TIF_IOC);
    assert_int_equal(o.status, CB_EX_STATUS_EXPIRED);
    /* Funds: nothing stays locked once every order is over. */
    json_t *j = sim_state(&f);
    json_t *usdt = json_object_get(json_object_get(j, "balances"), "USDT");
    assert_string_equal(json_string_value(json_object_get(usdt, "locked")), "0");
    json_decref(j);
    /* IOC on a stop-limit is refused before sending. */
    cb_ex_order_req_t r = {.pair = "BTC/USDT", .client_order_id = "pf-7", .side = CB_EX_SELL,
                           .type = CB_EX_ORDER_STOP_LOSS_LIMIT, .qty = 1000, .price = last / 2,
                           .stop_price = last / 2, .time_in_force = CB_EX_TIF_IOC};
    cb_diag_t d;
    assert_int_equal(cb_exchange_place_order(f.ex, &r, &o, NULL, NULL, &d), CB_EINVAL);
    assert_non_null(strstr(d.msg, "IOC and FOK apply to limit orders only"));
    fx_stop(&f);
}

static void test_quote_qty(void **state)
{
    (void)state;
    fx_t f;
    fx_start(&f, NULL, 0, NULL);
    int64_t last = px2(f.s->close[99]);
    /* Spend 1000 USDT: as many 0.00001 BTC as that buys at the price now. */
    cb_ex_order_req_t r = {.pair = "BTC/USDT", .client_order_id = "qq-1", .side = CB_EX_BUY,
                           .type = CB_EX_ORDER_MARKET, .quote_qty = 100000000000LL};
    cb_ex_order_t o;
    cb_ex_fill_t *fl;
    size_t nf;
    cb_diag_t d;
    check_ok(cb_exchange_place_order(f.ex, &r, &o, &fl, &nf, &d), &d);
    int64_t want = (int64_t)(1000LL * 100 * 100000 / last); /* qty units */
    assert_int_equal(o.status, CB_EX_STATUS_FILLED);
    assert_int_equal(o.executed_qty, want);
    assert_true(o.quote_qty <= 1000LL * 10000000);
    assert_true(o.quote_qty > 999LL * 10000000);
    assert_int_equal(nf, 1);
    assert_int_equal(fl[0].price, last);
    free(fl);
    /* Sell for 500 USDT. */
    r.side = CB_EX_SELL;
    r.quote_qty = 50000000000LL;
    strcpy(r.client_order_id, "qq-2");
    check_ok(cb_exchange_place_order(f.ex, &r, &o, NULL, NULL, &d), &d);
    assert_int_equal(o.executed_qty, (int64_t)(500LL * 100 * 100000 / last));
    /* Below the minimum notional, or with a quantity as well: refused before sending. */
    r.quote_qty = 100000000; /* 1 USDT */
    assert_int_equal(cb_exchange_place_order(f.ex, &r, &o, NULL, NULL, &d), CB_EVALID);
    assert_non_null(strstr(d.msg, "(NOTIONAL)"));
    r.quote_qty = 100000000000LL;
    r.qty = 1000;
    assert_int_equal(cb_exchange_place_order(f.ex, &r, &o, NULL, NULL, &d), CB_EINVAL);
    /* The exchange says it takes them. */
    cb_pair_info_t *p;
    size_t np;
    check_ok(cb_exchange_pairs(f.ex, &p, &np, &d), &d);
    free(p);
    fx_stop(&f);
}

static void test_oco(void **state)
{
    (void)state;
    fx_t f;
    fx_start(&f, NULL, 0, NULL);
    int64_t last = px2(f.s->close[99]);
    int64_t hi = px2(f.s->high[100]) - 1;
    /* Sell 0.1 BTC: take profit just under the forming candle's high, stop far below. */
    cb_ex_oco_req_t r = {.pair = "BTC/USDT", .list_client_id = "oco-1",
                         .limit_client_order_id = "oco-1-tp", .stop_client_order_id = "oco-1-sl",
                         .side = CB_EX_SELL, .qty = 10000, .limit_price = hi,
                         .stop_price = last / 2};
    cb_ex_oco_t l;
    cb_diag_t d;
    check_ok(cb_exchange_place_oco(f.ex, &r, &l, &d), &d);
    assert_true(l.order_list_id > 0);
    assert_string_equal(l.list_client_id, "oco-1");
    assert_string_equal(l.limit_leg.client_order_id, "oco-1-tp");
    assert_string_equal(l.stop_leg.client_order_id, "oco-1-sl");
    assert_int_equal(l.stop_leg.type, CB_EX_ORDER_STOP_LOSS);
    assert_int_equal(l.limit_leg.status, CB_EX_STATUS_NEW);
    /* One lock of 0.1 BTC for both legs. */
    json_t *j = sim_state(&f);
    json_t *btc = json_object_get(json_object_get(j, "balances"), "BTC");
    assert_string_equal(json_string_value(json_object_get(btc, "locked")), "0.1");
    json_decref(j);
    cb_sim_advance(f.sim, 1);
    cb_ex_order_t tp = query(&f, "oco-1-tp"), sl = query(&f, "oco-1-sl");
    assert_int_equal(tp.status, CB_EX_STATUS_FILLED);
    assert_int_equal(sl.status, CB_EX_STATUS_EXPIRED);
    assert_int_equal(tp.order_list_id, l.order_list_id);
    j = sim_state(&f);
    btc = json_object_get(json_object_get(j, "balances"), "BTC");
    assert_string_equal(json_string_value(json_object_get(btc, "locked")), "0");
    assert_string_equal(json_string_value(json_object_get(btc, "free")), "0.4");
    json_decref(j);
    /* A second list, cancelled as a whole. A buy OCO: stop above, limit below. */
    last = px2(f.s->close[100]);
    cb_ex_oco_req_t b = {.pair = "BTC/USDT", .list_client_id = "oco-2",
                         .limit_client_order_id = "oco-2-lim", .stop_client_order_id = "oco-2-st",
                         .side = CB_EX_BUY, .qty = 1000, .limit_price = last / 2,
                         .stop_price = last * 2, .stop_limit_price = last * 2 + 100};
    check_ok(cb_exchange_place_oco(f.ex, &b, &l, &d), &d);
    assert_int_equal(l.stop_leg.type, CB_EX_ORDER_STOP_LOSS_LIMIT);
    check_ok(cb_exchange_cancel_oco(f.ex, "BTC/USDT", "oco-2", &l, &d), &d);
    assert_int_equal(l.done, 1);
    assert_int_equal(l.limit_leg.status, CB_EX_STATUS_CANCELED);
    assert_int_equal(l.stop_leg.status, CB_EX_STATUS_CANCELED);
    assert_string_equal(l.limit_leg.client_order_id, "oco-2-lim");
    assert_int_equal(cb_exchange_cancel_oco(f.ex, "BTC/USDT", "oco-2", &l, &d), CB_EREJECTED);
    j = sim_state(&f);
    json_t *usdt = json_object_get(json_object_get(j, "balances"), "USDT");
    assert_string_equal(json_string_value(json_object_get(usdt, "locked")), "0");
    json_decref(j);
    /* Cancelling one leg cancels the list. */
    strcpy(b.list_client_id, "oco-3");
    strcpy(b.limit_client_order_id, "oco-3-lim");
    strcpy(b.stop_client_order_id, "oco-3-st");
    check_ok(cb_exchange_place_oco(f.ex, &b, &l, &d), &d);
    cb_ex_order_t o;
    check_ok(cb_exchange_cancel_order(f.ex, "BTC/USDT", "oco-3-lim", &o, &d), &d);
    assert_int_equal(query(&f, "oco-3-st").status, CB_EX_STATUS_CANCELED);
    /* A limit leg on the wrong side of the price would take: Binance refuses the list. */
    strcpy(r.list_client_id, "oco-4");
    strcpy(r.limit_client_order_id, "oco-4-tp");
    strcpy(r.stop_client_order_id, "oco-4-sl");
    r.limit_price = last / 2;
    r.stop_price = last / 3;
    assert_int_equal(cb_exchange_place_oco(f.ex, &r, &l, &d), CB_EREJECTED);
    assert_non_null(strstr(d.msg, "immediately match"));
    fx_stop(&f);
}

/* An OCO whose answer is lost after the exchange accepted it: the connector finds its legs by
 * client order id instead of sending it again. */
static void test_oco_lost_answer(void **state)
{
    (void)state;
    fx_t f;
    cb_binance_opts_t bo = {.timeout_ms = 700, .max_retries = 1};
    cb_sim_opts_t so = {.faults = "seed=2,lost=1:1200"};
    fx_start_with(&f, &so, &bo);
    int64_t last = px2(f.s->close[99]);
    cb_ex_oco_req_t r = {.pair = "BTC/USDT", .list_client_id = "lost-1",
                         .limit_client_order_id = "lost-1-tp", .stop_client_order_id = "lost-1-sl",
                         .side = CB_EX_SELL, .qty = 1000, .limit_price = last * 2,
                         .stop_price = last / 2};
    cb_ex_oco_t l;
    cb_diag_t d;
    check_ok(cb_exchange_place_oco(f.ex, &r, &l, &d), &d);
    assert_string_equal(l.limit_leg.client_order_id, "lost-1-tp");
    assert_int_equal(l.stop_leg.status, CB_EX_STATUS_NEW);
    assert_true(l.order_list_id > 0);
    cb_binance_stats_t st;
    cb_binance_stats(f.ex, &st);
    assert_int_equal(st.resolved_by_query, 1);
    json_t *j = sim_state(&f);
    assert_int_equal(json_array_size(json_object_get(j, "orders")), 2); /* placed once */
    json_decref(j);
    fx_stop(&f);
}

/* A fresh key pair as PEM text: the private key into priv, the public key into pub. */
static void new_keypair(int type, char *priv, size_t priv_size, char *pub, size_t pub_size)
{
    EVP_PKEY *k = NULL;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(type, NULL);
    assert_int_equal(EVP_PKEY_keygen_init(c), 1);
    if (type == EVP_PKEY_RSA)
        assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(c, 2048), 1);
    assert_int_equal(EVP_PKEY_keygen(c, &k), 1);
    EVP_PKEY_CTX_free(c);
    BIO *b = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL), 1);
    int n = BIO_read(b, priv, (int)priv_size - 1);
    priv[n > 0 ? n : 0] = '\0';
    BIO_free(b);
    b = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PUBKEY(b, k), 1);
    n = BIO_read(b, pub, (int)pub_size - 1);
    pub[n > 0 ? n : 0] = '\0';
    BIO_free(b);
    EVP_PKEY_free(k);
}

static void on_status(const cb_stream_event_t *ev, void *user)
{
    if (ev->kind == CB_STREAM_STATUS && ev->u.status.connected)
        ++*(int *)user;
}

/* The connector signs with the private key; the simulator knows only the public key. */
static void asymmetric_run(int type)
{
    char priv[4096], pub[2048];
    new_keypair(type, priv, sizeof priv, pub, sizeof pub);
    cb_api_keys_t *kpriv, *kpub;
    cb_diag_t d;
    check_ok(cb_api_keys_new_pem("asymKey01", priv, strlen(priv), &kpriv, &d), &d);
    check_ok(cb_api_keys_new_pem("asymKey01", pub, strlen(pub), &kpub, &d), &d);
    fx_t f;
    cb_sim_opts_t so = {.keys = kpub};
    cb_binance_opts_t bo = {.keys = kpriv};
    fx_start_with(&f, &so, &bo);
    cb_ex_balance_t *b;
    size_t n;
    check_ok(cb_exchange_balances(f.ex, &b, &n, &d), &d);
    free(b);
    cb_ex_order_t o = order(&f, "asym-1", CB_EX_BUY, CB_EX_ORDER_MARKET, 1000, 0, CB_EX_TIF_GTC);
    assert_int_equal(o.status, CB_EX_STATUS_FILLED);
    /* The account stream subscribes with the same key type. */
    char url[96];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/ws-api/v3", cb_sim_ws_port(f.sim));
    int connects = 0;
    cb_ex_account_stream_opts_t ao = {.ws_api_url = url, .rest = f.ex, .keys = kpriv,
                                      .fn = on_status, .user = &connects};
    cb_ex_stream_t *st;
    check_ok(cb_binance_account_stream_open(&ao, &st, &d), &d);
    for (int t = 0; t < 3000 && !connects; t += 20)
        assert_int_equal(cb_ex_stream_poll(st, 20), 0);
    assert_int_equal(connects, 1);
    cb_ex_stream_close(st);
    /* Another key of the same type does not pass. */
    char priv2[4096], pub2[2048];
    new_keypair(type, priv2, sizeof priv2, pub2, sizeof pub2);
    cb_api_keys_t *other;
    check_ok(cb_api_keys_new_pem("asymKey01", priv2, strlen(priv2), &other, &d), &d);
    cb_exchange_t *ex2;
    cb_binance_opts_t o2 = {.base_url = f.url, .keys = other, .timeout_ms = 3000};
    check_ok(cb_binance_new(&o2, &ex2, &d), &d);
    assert_int_equal(cb_exchange_balances(ex2, &b, &n, &d), CB_EAUTH);
    assert_non_null(strstr(d.msg, "-1022"));
    assert_null(strstr(d.msg, "PRIVATE"));
    cb_exchange_free(ex2);
    cb_api_keys_free(other);
    fx_stop(&f);
    cb_api_keys_free(kpriv);
    cb_api_keys_free(kpub);
    OPENSSL_cleanse(priv, sizeof priv);
    OPENSSL_cleanse(priv2, sizeof priv2);
}

static void test_ed25519_keys(void **state)
{
    (void)state;
    asymmetric_run(EVP_PKEY_ED25519);
}

static void test_rsa_keys(void **state)
{
    (void)state;
    asymmetric_run(EVP_PKEY_RSA);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partial_fills),
        cmocka_unit_test(test_quote_qty),
        cmocka_unit_test(test_oco),
        cmocka_unit_test(test_oco_lost_answer),
        cmocka_unit_test(test_ed25519_keys),
        cmocka_unit_test(test_rsa_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
