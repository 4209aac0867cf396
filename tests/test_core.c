/* core/: errors, diagnostics, time, timeframes, decimals. */
#include <stdio.h>
#include <string.h>

#include "comeback/core.h"
#include "testutil.h"

static void test_errors(void **state)
{
    (void)state;
    assert_string_equal(cb_strerror(CB_OK), "success");
    assert_string_equal(cb_strerror(CB_ENOMEM), "out of memory");
    assert_string_equal(cb_err_name(CB_EPARSE), "CB_EPARSE");
    assert_string_equal(cb_strerror(12345), "unknown error");
}

static void test_diag_format(void **state)
{
    (void)state;
    cb_diag_t d;
    char buf[256];
    cb_diag_clear(&d);
    assert_int_equal(cb_diag_set(&d, CB_EVALID, "btc.csv", 1042, 0, "column 'high'",
                                 "%s is below 'low' %s", "101.5", "102.0"),
                     CB_EVALID);
    cb_diag_format(&d, buf, sizeof buf);
    assert_string_equal(buf, "btc.csv:1042: column 'high': 101.5 is below 'low' 102.0");
    cb_diag_set(&d, CB_EPARSE, "s.ini", 4, 32, NULL, "unknown function 'rsx'");
    cb_diag_format(&d, buf, sizeof buf);
    assert_string_equal(buf, "s.ini:4:32: unknown function 'rsx'");
    cb_diag_set(&d, CB_EIO, NULL, 0, 0, NULL, NULL);
    cb_diag_format(&d, buf, sizeof buf);
    assert_string_equal(buf, "input/output error");
    assert_int_equal(cb_diag_set(NULL, CB_EINVAL, NULL, 0, 0, NULL, "x"), CB_EINVAL);
}

static void test_diags_list(void **state)
{
    (void)state;
    cb_diags_t list = {0};
    list.max_keep = 3;
    cb_diag_t d;
    for (int i = 0; i < 10; i++) {
        cb_diag_set(&d, CB_EVALID, "f", i + 1, 0, NULL, "problem %d", i);
        assert_int_equal(cb_diags_add(&list, &d), 0);
    }
    assert_int_equal(list.total, 10);
    assert_int_equal(list.n, 3);
    assert_int_equal(list.items[2].line, 3);
    cb_diags_free(&list);
}

static void test_civil(void **state)
{
    (void)state;
    assert_int_equal(cb_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(cb_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(cb_days_from_civil(1969, 12, 31), -1);
    for (int64_t d = -800000; d < 800000; d += 997) {
        int64_t y;
        int m, dd;
        cb_civil_from_days(d, &y, &m, &dd);
        assert_int_equal(cb_days_from_civil(y, m, dd), d);
    }
}

static void test_time_parse(void **state)
{
    (void)state;
    int64_t t;
    assert_int_equal(cb_time_parse("2017-08-17", (size_t)-1, &t), 0);
    assert_int_equal(t, INT64_C(1502928000000));
    assert_int_equal(cb_time_parse("2017-08-17 04:00:00", (size_t)-1, &t), 0);
    assert_int_equal(t, INT64_C(1502942400000));
    assert_int_equal(cb_time_parse("2017-08-17T04:00:00Z", (size_t)-1, &t), 0);
    assert_int_equal(t, INT64_C(1502942400000));
    assert_int_equal(cb_time_parse("2017-08-17T06:00:00+02:00", (size_t)-1, &t), 0);
    assert_int_equal(t, INT64_C(1502942400000));
    assert_int_equal(cb_time_parse("2017-08-17 04:00:00.5", (size_t)-1, &t), 0);
    assert_int_equal(t, INT64_C(1502942400500));
    assert_int_equal(cb_time_parse("2017/08/17 04:00", (size_t)-1, &t), 0);
    assert_int_equal(t, INT64_C(1502942400000));
    assert_int_equal(cb_time_parse("2024-02-30", (size_t)-1, &t), CB_ERANGE);
    assert_int_equal(cb_time_parse("2024-13-01", (size_t)-1, &t), CB_ERANGE);
    assert_int_equal(cb_time_parse("2024-01-01 25:00:00", (size_t)-1, &t), CB_ERANGE);
    assert_int_equal(cb_time_parse("yesterday", (size_t)-1, &t), CB_EPARSE);
    assert_int_equal(cb_time_parse("2024-01-01 13", (size_t)-1, &t), CB_EPARSE);
    assert_int_equal(cb_time_parse("2024-01-01x", (size_t)-1, &t), CB_EPARSE);
    assert_int_equal(cb_time_parse("", (size_t)-1, &t), CB_EPARSE);
    char buf[40];
    assert_string_equal(cb_time_format(INT64_C(1502942400000), buf, sizeof buf),
                        "2017-08-17 04:00:00");
    assert_string_equal(cb_time_format_iso(INT64_C(1502942400500), buf, sizeof buf),
                        "2017-08-17T04:00:00.500Z");
    assert_string_equal(cb_time_format(-1, buf, sizeof buf), "1969-12-31 23:59:59.999");
}

static void test_timeframes(void **state)
{
    (void)state;
    cb_timeframe_t tf;
    assert_int_equal(cb_timeframe_parse("1m", &tf), 0);
    assert_int_equal(tf.ms, 60000);
    assert_int_equal(cb_timeframe_parse("4h", &tf), 0);
    assert_int_equal(tf.ms, 4 * 3600000);
    assert_int_equal(cb_timeframe_parse("1s", &tf), 0);
    assert_int_equal(tf.ms, 1000);
    assert_int_equal(cb_timeframe_parse("0m", &tf), CB_EPARSE);
    assert_int_equal(cb_timeframe_parse("1x", &tf), CB_EPARSE);
    assert_int_equal(cb_timeframe_parse("h", &tf), CB_EPARSE);
    assert_int_equal(cb_timeframe_parse("-1h", &tf), CB_EPARSE);
    /* Weeks open on Monday: 2024-01-01 was a Monday. */
    assert_int_equal(cb_timeframe_parse("1w", &tf), 0);
    int64_t mon, wed;
    cb_time_parse("2024-01-01", (size_t)-1, &mon);
    cb_time_parse("2024-01-03 12:00:00", (size_t)-1, &wed);
    assert_int_equal(cb_timeframe_floor(&tf, wed), mon);
    assert_true(cb_timeframe_on_grid(&tf, mon));
    assert_false(cb_timeframe_on_grid(&tf, wed));
    /* Months. */
    assert_int_equal(cb_timeframe_parse("1M", &tf), 0);
    assert_int_equal(tf.months, 1);
    int64_t feb, feb_mid, mar;
    cb_time_parse("2024-02-01", (size_t)-1, &feb);
    cb_time_parse("2024-02-29 23:00:00", (size_t)-1, &feb_mid);
    cb_time_parse("2024-03-01", (size_t)-1, &mar);
    assert_int_equal(cb_timeframe_floor(&tf, feb_mid), feb);
    assert_int_equal(cb_timeframe_next(&tf, feb), mar);
    assert_true(cb_timeframe_on_grid(&tf, mar));
    /* Before the epoch too. */
    assert_int_equal(cb_timeframe_parse("1h", &tf), 0);
    assert_int_equal(cb_timeframe_floor(&tf, -1), -3600000);
}

static void test_decimal(void **state)
{
    (void)state;
    int64_t v;
    char buf[40];
    assert_int_equal(cb_dec_parse("123.45", (size_t)-1, 8, &v), 0);
    assert_int_equal(v, INT64_C(12345000000));
    assert_int_equal(cb_dec_parse("-0.001", (size_t)-1, 3, &v), 0);
    assert_int_equal(v, -1);
    assert_int_equal(cb_dec_parse("0.0010", (size_t)-1, 3, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(cb_dec_parse("0.0015", (size_t)-1, 3, &v), CB_ERANGE);
    assert_int_equal(cb_dec_parse("1.2.3", (size_t)-1, 3, &v), CB_EPARSE);
    assert_int_equal(cb_dec_parse("", (size_t)-1, 3, &v), CB_EPARSE);
    assert_int_equal(cb_dec_parse("abc", (size_t)-1, 3, &v), CB_EPARSE);
    assert_int_equal(cb_dec_parse("99999999999999999999", (size_t)-1, 0, &v), CB_ERANGE);
    assert_int_equal(cb_dec_parse("92233720368.54775807", (size_t)-1, 8, &v), 0);
    assert_int_equal(v, INT64_MAX);
    cb_dec_format(INT64_C(12345000000), 8, buf, sizeof buf);
    assert_string_equal(buf, "123.45");
    cb_dec_format_fixed(INT64_C(12345000000), 8, buf, sizeof buf);
    assert_string_equal(buf, "123.45000000");
    cb_dec_format(-1, 3, buf, sizeof buf);
    assert_string_equal(buf, "-0.001");
    cb_dec_format(7000, 3, buf, sizeof buf);
    assert_string_equal(buf, "7");
    cb_dec_format(0, 2, buf, sizeof buf);
    assert_string_equal(buf, "0");
    cb_dec_format(INT64_MIN, 0, buf, sizeof buf);
    assert_string_equal(buf, "-9223372036854775808");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors),     cmocka_unit_test(test_diag_format),
        cmocka_unit_test(test_diags_list), cmocka_unit_test(test_civil),
        cmocka_unit_test(test_time_parse), cmocka_unit_test(test_timeframes),
        cmocka_unit_test(test_decimal),
    };
    return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
