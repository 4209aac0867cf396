/* core/: errors, diagnostics, time, timeframes, decimals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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


/* A diag nobody filled never reads "success" (it came out as "comeback: success", exit 1). */
static void test_diag_never_success(void **state)
{
    (void)state;
    cb_diag_t d;
    char buf[256];
    cb_diag_clear(&d);
    assert_int_equal(cb_diag_is_set(&d), 0);
    assert_int_equal(cb_diag_is_set(NULL), 0);
    cb_diag_format(&d, buf, sizeof buf);
    assert_null(strstr(buf, "success"));
    assert_non_null(strstr(buf, "without giving a reason"));
    cb_diag_set(&d, CB_ENOMEM, NULL, 0, 0, NULL, NULL);
    assert_int_equal(cb_diag_is_set(&d), 1);
}

/* Values in messages are shown whole: a NUL or control byte is escaped, never a cut. */
static void test_quote(void **state)
{
    (void)state;
    char q[64];
    assert_string_equal(cb_quote("10\0", 3, 40, q, sizeof q), "10\\0");
    assert_string_equal(cb_quote("10\0" "0", 4, 40, q, sizeof q), "10\\x000");
    assert_string_equal(cb_quote("a\tb\r\n\"\\", 7, 40, q, sizeof q), "a\\tb\\r\\n\\\"\\\\");
    assert_string_equal(cb_quote("\x01\x7f\xff", 3, 40, q, sizeof q), "\\x01\\x7f\\xff");
    assert_string_equal(cb_quote("caf\xc3\xa9", 5, 40, q, sizeof q), "caf\xc3\xa9");
    assert_string_equal(cb_quote("\xc3", 1, 40, q, sizeof q), "\\xc3"); /* cut UTF-8 */
    assert_string_equal(cb_quote("abcdef", 6, 3, q, sizeof q), "abc...");
    assert_string_equal(cb_quote(NULL, 5, 40, q, sizeof q), "");
    /* A small buffer: cut at a whole escape, still terminated, with the ellipsis. */
    char small[8];
    cb_quote("\x01\x01\x01", 3, 40, small, sizeof small);
    assert_string_equal(small, "\\x01...");
    cb_quote("abcdefghij", 10, 40, small, sizeof small);
    assert_string_equal(small, "abcd...");
}

static int write_fails(FILE *f, void *ctx)
{
    (void)ctx;
    fputs("part of a report", f);
    return CB_EIO; /* as a writer does when ferror() says a write failed */
}

static int count_tmp_files(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls -a '%s' | grep -c '\\.tmp\\.' || true", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p) {
        if (fscanf(p, "%d", &n) != 1)
            n = -1;
        pclose(p);
    }
    return n;
}

/* The atomic writer: the target changes only on a successful commit. */
static void test_file_atomic(void **state)
{
    (void)state;
    char dir[256], path[512];
    assert_non_null(tu_tmpdir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/r.json", dir);
    assert_int_equal(tu_write_file(path, "old\n"), 0);
    cb_diag_t d;
    cb_diag_clear(&d);
    cb_file_atomic_t a;
    /* abort: the old content stays, no temporary file */
    assert_int_equal(cb_file_atomic_open(&a, path, &d), 0);
    assert_int_equal(a.mode, CB_FILE_RENAME);
    fputs("half a rep", a.f);
    cb_file_atomic_abort(&a);
    char *text = tu_read_file(path, NULL);
    assert_string_equal(text, "old\n");
    free(text);
    assert_int_equal(count_tmp_files(dir), 0);
    /* commit: the new content, whole */
    assert_int_equal(cb_file_atomic_open(&a, path, &d), 0);
    fputs("new\n", a.f);
    assert_int_equal(cb_file_atomic_commit(&a, &d), 0);
    text = tu_read_file(path, NULL);
    assert_string_equal(text, "new\n");
    free(text);
    assert_int_equal(count_tmp_files(dir), 0);
    cb_file_atomic_abort(&a); /* safe after commit */
    /* a write error before commit: refused, the file kept */
    assert_int_equal(cb_file_write_atomic(path, write_fails, NULL, &d), CB_EIO);
    text = tu_read_file(path, NULL);
    assert_string_equal(text, "new\n");
    free(text);
    assert_int_equal(count_tmp_files(dir), 0);
    /* a device is written in place; /dev/full fails at the flush, with the reason */
    if (access("/dev/full", W_OK) == 0) {
        cb_diag_clear(&d);
        assert_int_equal(cb_file_atomic_open(&a, "/dev/full", &d), 0);
        assert_int_equal(a.mode, CB_FILE_IN_PLACE);
        fputs("x", a.f);
        assert_int_equal(cb_file_atomic_commit(&a, &d), CB_EIO);
        char buf[600];
        cb_diag_format(&d, buf, sizeof buf);
        assert_non_null(strstr(buf, "/dev/full: cannot write: No space left on device"));
    }
    /* a missing directory and a directory as the target: sentences, nothing created */
    snprintf(path, sizeof path, "%s/missing/r.json", dir);
    assert_int_equal(cb_file_atomic_open(&a, path, &d), CB_EIO);
    assert_non_null(strstr(d.msg, "No such file or directory"));
    assert_int_equal(cb_file_atomic_open(&a, dir, &d), CB_EINVAL);
    assert_int_equal(cb_file_atomic_open(&a, "", &d), CB_EINVAL);
    /* "-" is stdout, never closed */
    assert_int_equal(cb_file_atomic_open(&a, "-", &d), 0);
    assert_ptr_equal(a.f, stdout);
    assert_int_equal(cb_file_atomic_commit(&a, &d), 0);
    assert_int_equal(fputs("", stdout) >= 0, 1);
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors),     cmocka_unit_test(test_diag_format),
        cmocka_unit_test(test_diags_list), cmocka_unit_test(test_civil),
        cmocka_unit_test(test_time_parse), cmocka_unit_test(test_timeframes),
        cmocka_unit_test(test_decimal),    cmocka_unit_test(test_diag_never_success),
        cmocka_unit_test(test_quote),      cmocka_unit_test(test_file_atomic),
    };
    return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
