/* The simulator at the edge of fixed point: out-of-range prices, quantities, deposits and
 * clock steps are answered with Binance's own error codes and never wrap (a price of
 * 92233720369 was accepted as -92233720368.09 and filled), filters publish the limits they
 * enforce, and a cancel without an id is -1102. Raw HTTP requests, as a hostile client
 * would send them. */
#include "sim_fixture.h"

static const char *ORDER = "/api/v3/order";

static void test_order_values(void **state)
{
    (void)state;
    fx_t f;
    fx_start(&f, NULL, 0, NULL);
    const char *lim = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC";
    char q[512];
    /* the price of the issue: beyond what 8 decimals hold in int64 */
    snprintf(q, sizeof q, "%s&quantity=0.001&price=92233720369", lim);
    sim_raw_fails(&f, "POST", ORDER, q, -1013, "Filter failure: PRICE_FILTER");
    snprintf(q, sizeof q, "%s&quantity=0.001&price=99999999999999999999", lim);
    sim_raw_fails(&f, "POST", ORDER, q, -1013, "Filter failure: PRICE_FILTER");
    /* not a number as Binance writes one; too many decimals; finer than the tick */
    const char *illegal[] = {"1e5", "-5", "+5", "1.", ".5", "1,5", "0x10", "123456789012345678901"};
    for (size_t i = 0; i < sizeof illegal / sizeof illegal[0]; i++) {
        snprintf(q, sizeof q, "%s&quantity=0.001&price=%s", lim, illegal[i]);
        sim_raw_fails(&f, "POST", ORDER, q, -1100, "Illegal characters found in parameter "
                                                   "'price'");
    }
    snprintf(q, sizeof q, "%s&quantity=0.001&price=100.123456789", lim);
    sim_raw_fails(&f, "POST", ORDER, q, -1111, "Parameter 'price' has too much precision.");
    snprintf(q, sizeof q, "%s&quantity=0.001&price=100.1230000000", lim); /* zeros are fine */
    sim_raw_fails(&f, "POST", ORDER, q, -1013, "Filter failure: PRICE_FILTER");
    /* quantities: above maxQty, and a notional beyond the limit */
    snprintf(q, sizeof q, "%s&quantity=92233720369&price=100", lim);
    sim_raw_fails(&f, "POST", ORDER, q, -1013, "Filter failure: LOT_SIZE");
    snprintf(q, sizeof q, "%s&quantity=92233720368.54775&price=100", lim); /* = maxQty */
    sim_raw_fails(&f, "POST", ORDER, q, -1013, "Filter failure: NOTIONAL");
    snprintf(q, sizeof q, "%s&quantity=1000000000&price=40000", lim);
    sim_raw_fails(&f, "POST", ORDER, q, -1013, "Filter failure: NOTIONAL");
    snprintf(q, sizeof q, "symbol=BTCUSDT&side=SELL&type=MARKET&quantity=92233720369");
    sim_raw_fails(&f, "POST", ORDER, q, -1013, "Filter failure: LOT_SIZE");
    /* a stop price beyond the limit */
    snprintf(q, sizeof q, "symbol=BTCUSDT&side=SELL&type=STOP_LOSS&quantity=0.001&"
                          "stopPrice=92233720369");
    sim_raw_fails(&f, "POST", ORDER, q, -1013, "Filter failure: PRICE_FILTER");
    /* nothing was placed, nothing moved */
    json_t *st = sim_state(&f);
    json_t *orders = json_object_get(st, "orders");
    assert_true(!orders || json_array_size(orders) == 0);
    json_decref(st);
    cb_ex_balance_t *b;
    size_t n;
    cb_diag_t d;
    check_ok(cb_exchange_balances(f.ex, &b, &n, &d), &d);
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(b[i].asset, "USDT"))
            assert_int_equal(b[i].free, 10000 * INT64_C(100000000));
        assert_true(b[i].free >= 0 && b[i].locked == 0);
    }
    free(b);
    /* the filters say what they enforce */
    json_t *info;
    assert_int_equal(sim_raw(&f, "GET", "/api/v3/exchangeInfo", "symbol=BTCUSDT", 0, &info),
                     200);
    json_t *filters = json_object_get(json_array_get(json_object_get(info, "symbols"), 0),
                                      "filters");
    int seen = 0;
    for (size_t i = 0; i < json_array_size(filters); i++) {
        json_t *fl = json_array_get(filters, i);
        const char *type = json_string_value(json_object_get(fl, "filterType"));
        if (!strcmp(type, "PRICE_FILTER")) {
            assert_string_equal(json_string_value(json_object_get(fl, "maxPrice")),
                                "92233720368.54000000");
            seen++;
        } else if (!strcmp(type, "LOT_SIZE")) {
            assert_string_equal(json_string_value(json_object_get(fl, "maxQty")),
                                "92233720368.54775000");
            seen++;
        }
    }
    assert_int_equal(seen, 2);
    json_decref(info);
    fx_stop(&f);
}

static void test_deposit_clock_cancel(void **state)
{
    (void)state;
    fx_t f;
    fx_start(&f, NULL, 0, NULL);
    /* a deposit that would pass the limit (10000 USDT are there already) */
    sim_raw_fails(&f, "POST", "/sim/v1/deposit", "asset=USDT&amount=92233720368", -1013,
                  "Filter failure: MAX_POSITION");
    sim_raw_fails(&f, "POST", "/sim/v1/deposit", "asset=USDT&amount=1e3", -1100,
                  "Illegal characters found in parameter 'amount'");
    sim_raw_fails(&f, "POST", "/sim/v1/deposit", "asset=USDT&amount=1.000000001", -1111,
                  "too much precision");
    sim_raw_fails(&f, "POST", "/sim/v1/deposit", "asset=USDT&amount=99999999999999999999",
                  -1013, "Filter failure: MAX_POSITION");
    assert_int_equal(cb_sim_deposit(f.sim, "USDT", INT64_MAX), CB_ERANGE);
    json_t *j;
    assert_int_equal(sim_raw(&f, "POST", "/sim/v1/deposit", "asset=USDT&amount=5", 0, &j), 200);
    assert_string_equal(json_string_value(json_object_get(j, "free")), "10005.00000000");
    json_decref(j);
    /* the clock: a step that would wrap it, or pass year 9999, leaves it where it is */
    int64_t t0 = cb_sim_time(f.sim);
    sim_raw_fails(&f, "POST", "/sim/v1/advance", "candles=2562047788015", -1130,
                  "Data sent for parameter 'candles' is not valid");
    sim_raw_fails(&f, "POST", "/sim/v1/advance", "candles=99999999999999999999", -1130,
                  "Data sent for parameter 'candles' is not valid");
    sim_raw_fails(&f, "POST", "/sim/v1/advance", "candles=-1", -1100,
                  "Illegal characters found in parameter 'candles'");
    sim_raw_fails(&f, "POST", "/sim/v1/advance", "candles=2x", -1100,
                  "Illegal characters found in parameter 'candles'");
    assert_true(cb_sim_time(f.sim) >= t0 && cb_sim_time(f.sim) < t0 + 3600000);
    assert_int_equal(sim_raw(&f, "POST", "/sim/v1/advance", "candles=1", 0, &j), 200);
    assert_true(json_integer_value(json_object_get(j, "time_ms")) >= t0 + 3600000);
    json_decref(j);
    /* a cancel names the order or is refused as Binance does */
    sim_raw_fails(&f, "DELETE", ORDER, "symbol=BTCUSDT", -1102,
                  "Param 'origClientOrderId' or 'orderId' must be sent");
    sim_raw_fails(&f, "DELETE", ORDER, "symbol=BTCUSDT&orderId=12345", -2011,
                  "Unknown order sent.");
    sim_raw_fails(&f, "GET", ORDER, "symbol=BTCUSDT", -1102,
                  "Param 'origClientOrderId' or 'orderId' must be sent");
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_values),
        cmocka_unit_test(test_deposit_clock_cancel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
