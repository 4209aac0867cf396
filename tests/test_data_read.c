/* data/ readers and validation: exact number parsing, every reader, the real files in
 * ../shared/data/ohlcv, a catalogue of malformed inputs with their exact diagnostics,
 * cb_series_check and the CSV writer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/data.h"
#include "data/read_int.h"
#include "testutil.h"

/* 2023-11-14 22:00:00 UTC, on every grid up to 1h. */
#define T0 INT64_C(1699999200000)
#define H INT64_C(3600000)

static cb_series_t *read_ok(const char *name, const char *text, cb_format_t fmt, const char *tf,
                            cb_read_report_t *rep)
{
    cb_read_opts_t o = {fmt, tf, 0, 0, NULL};
    cb_series_t *s = NULL;
    cb_diag_t d;
    int r = cb_series_read_buffer(name, text, strlen(text), &o, &s, rep, &d);
    if (r != 0) {
        char buf[800];
        cb_diag_format(&d, buf, sizeof buf);
        print_message("unexpected failure reading %s: %s\n", name, buf);
    }
    assert_int_equal(r, 0);
    assert_non_null(s);
    return s;
}

/* ---- Numbers ---- */

static void test_parse_double_exact(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "0", "-0", "1", "0.1", "0.00002853", "28400.07", "36304.20000000", "1e-8", "1E+22",
        "123456789012345", "1234567890123456", "12345678901234567890123", "9007199254740993",
        "0.30000000000000004", "2.2250738585072014e-308", "4.9e-324", "1.7976931348623157e308",
        "29889500.42010495", "175453443.09215124", ".5", "5.", "-12.5e-3", "0.000000000000000000001",
        "100000000000000000000000", "3.14159265358979323846264338327950288"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double v = -1;
        assert_int_equal(rd_parse_double(cases[i], strlen(cases[i]), &v), RD_NUM_OK);
        double ref = strtod(cases[i], NULL);
        if (memcmp(&v, &ref, sizeof v) != 0)
            print_message("%s: got %.17g, strtod %.17g\n", cases[i], v, ref);
        assert_memory_equal(&v, &ref, sizeof v);
    }
    /* Random decimals of every shape the fast path takes, against strtod. */
    uint64_t x = 88172645463325252ULL;
    char buf[64];
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int digits = 1 + (int)(x % 19), frac = (int)((x >> 8) % (unsigned)(digits + 1));
        uint64_t m = x >> 11;
        int n = snprintf(buf, sizeof buf, "%llu", (unsigned long long)m);
        if (n > digits)
            n = digits;
        buf[n] = '\0';
        if (frac && frac < n) {
            memmove(buf + n - frac + 1, buf + n - frac, (size_t)frac + 1);
            buf[n - frac] = '.';
        }
        double v, ref = strtod(buf, NULL);
        assert_int_equal(rd_parse_double(buf, strlen(buf), &v), RD_NUM_OK);
        if (v != ref)
            print_message("%s: got %.17g, strtod %.17g\n", buf, v, ref);
        assert_true(v == ref);
    }
    static const char *const bad[] = {"", "-", ".", "1.2.3", "1e", "1e+", "0x10", "1,5", " 1",
                                      "1 ", "abc", "--1", "1e5x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double v;
        assert_int_equal(rd_parse_double(bad[i], strlen(bad[i]), &v), RD_NUM_SYNTAX);
    }
    static const char *const nonfinite[] = {"nan", "NaN", "-inf", "Infinity", "1e999"};
    for (size_t i = 0; i < sizeof nonfinite / sizeof nonfinite[0]; i++) {
        double v;
        assert_int_equal(rd_parse_double(nonfinite[i], strlen(nonfinite[i]), &v),
                         RD_NUM_NONFINITE);
    }
}

static void test_format_double(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *text;
    } cases[] = {{0.1, "0.1"},         {28400.07, "28400.07"}, {0.00002853, "0.00002853"},
                 {1e-8, "0.00000001"}, {100, "100"},           {1e21, "1e+21"},
                 {-2.5, "-2.5"},       {0.30000000000000004, "0.30000000000000004"},
                 {123456789012.5, "123456789012.5"}};
    char buf[40];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rd_format_double(cases[i].v, buf, sizeof buf);
        assert_string_equal(buf, cases[i].text);
    }
    uint64_t x = 1234567;
    for (int i = 0; i < 20000; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        double v;
        uint64_t bits = x >> 2; /* positive finite doubles of every magnitude */
        memcpy(&v, &bits, sizeof v);
        if (!isfinite(v))
            continue;
        rd_format_double(v, buf, sizeof buf);
        double back;
        assert_int_equal(rd_parse_double(buf, strlen(buf), &back), RD_NUM_OK);
        assert_true(back == v);
    }
}

static void test_parse_time(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int64_t ms;
        int unit;
    } ok[] = {{"1699999200", T0, RD_UNIT_S},
              {"1699999200.0", T0, RD_UNIT_S},
              {"1699999200.25", T0 + 250, RD_UNIT_S},
              {"1699999200000", T0, RD_UNIT_MS},
              {"1699999200000000", T0, RD_UNIT_US},
              {"1699999200000000000", T0, RD_UNIT_NS},
              {"2023-11-14 22:00:00", T0, RD_UNIT_TEXT},
              {"2023-11-14T22:00:00Z", T0, RD_UNIT_TEXT},
              {"2023-11-14 10-PM", T0, RD_UNIT_TEXT},
              {"2023-11-14 12-AM", T0 - 22 * H, RD_UNIT_TEXT},
              {"2023-11-14 12-PM", T0 - 10 * H, RD_UNIT_TEXT}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t t = 0;
        int unit = 0;
        char msg[160];
        assert_int_equal(rd_parse_time(ok[i].text, strlen(ok[i].text), &t, &unit, msg, sizeof msg),
                         0);
        assert_int_equal(t, ok[i].ms);
        assert_int_equal(unit, ok[i].unit);
    }
}

static void test_timeframe_inference(void **state)
{
    (void)state;
    char name[8];
    static const struct {
        int64_t sp;
        const char *name;
    } cases[] = {{60000, "1m"},       {300000, "5m"},         {H, "1h"},
                 {4 * H, "4h"},       {24 * H, "1d"},         {7 * 24 * H, "1w"},
                 {31 * 24 * H, "1M"}, {1000, "1s"},           {90 * 60000, "90m"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(rd_timeframe_name(cases[i].sp, name), 0);
        assert_string_equal(name, cases[i].name);
    }
    assert_int_equal(rd_timeframe_name(1500, name), -1);
    int64_t t[] = {0, H, 2 * H, 3 * H, 5 * H, 6 * H, 6 * H + 60000};
    assert_int_equal(rd_mode_spacing(t, 7), H);
    assert_int_equal(rd_mode_spacing(t, 1), 0);
}

/* ---- Readers ---- */

static void test_binance_ms_and_us(void **state)
{
    (void)state;
    const char *ms =
        "1637971200000,0.00002853,0.00002854,0.00002851,0.00002854,36304.20000000,"
        "1637971259999,1.03547608,79,19523.00000000,0.55694227,0\n"
        "1637971260000,0.00002854,0.00002860,0.00002854,0.00002859,89196.60000000,"
        "1637971319999,2.54751330,98,59004.20000000,1.68545512,0\n";
    cb_read_report_t rep;
    cb_series_t *s = read_ok("k.csv", ms, CB_FORMAT_AUTO, NULL, &rep);
    assert_int_equal(rep.format, CB_FORMAT_BINANCE);
    assert_int_equal(s->n, 2);
    assert_int_equal(s->time_ms[0], INT64_C(1637971200000));
    assert_true(s->open[0] == 0.00002853);
    assert_true(s->volume[1] == 89196.6);
    assert_string_equal(rep.time_unit, "ms");
    assert_string_equal(s->meta.timeframe, "1m");
    assert_string_equal(rep.extra_columns,
                        "close_time,quote_volume,count,taker_buy_base,taker_buy_quote,ignore");
    cb_series_free(s);
    cb_read_report_free(&rep);

    /* Newer dumps: open times in microseconds, same candles. */
    const char *us =
        "1735689600000000,93576.00000000,93610.93000000,93537.50000000,93610.93000000,"
        "8.21827000,1735689659999999,768978.33,1359,4.28,400000.1,0\r\n"
        "1735689660000000,93610.93000000,93652.00000000,93610.93000000,93652.00000000,"
        "3.74980000,1735689719999999,351151.2,1100,2.1,200000.2,0\r\n";
    s = read_ok("k2.csv", us, CB_FORMAT_BINANCE, NULL, &rep);
    assert_int_equal(s->n, 2);
    assert_int_equal(s->time_ms[0], INT64_C(1735689600000));
    assert_int_equal(s->time_ms[1], INT64_C(1735689660000));
    assert_string_equal(rep.time_unit, "us");
    assert_true(s->high[1] == 93652.0);
    cb_series_free(s);
    cb_read_report_free(&rep);

    /* Six headerless columns are enough. */
    s = read_ok("k3.csv", "1699999200000,1,2,0.5,1.5,10\n1700002800000,1.5,2,1,1,0\n",
                CB_FORMAT_AUTO, NULL, &rep);
    assert_int_equal(s->n, 2);
    assert_string_equal(rep.extra_columns, "");
    assert_string_equal(s->meta.timeframe, "1h");
    cb_series_free(s);
    cb_read_report_free(&rep);
}

static void test_header_variants(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *unit;
        const char *extra;
    } cases[] = {
        {"open_time_ms,open,high,low,close,volume\n1699999200000,1,2,0.5,1.5,10\n"
         "1700002800000,1.5,2,1,1,0\n",
         "ms", ""},
        {"Timestamp,Open,High,Low,Close,Volume\n1699999200,1,2,0.5,1.5,10\n"
         "1700002800,1.5,2,1,1,0\n",
         "s", ""},
        {"timestamp_ms,open,high,low,close,volume\n1699999200000,1,2,0.5,1.5,10\n"
         "1700002800000,1.5,2,1,1,0\n",
         "ms", ""},
        {"Unix Timestamp,Open,High,Low,Close,Volume\n1699999200000,1,2,0.5,1.5,10\n"
         "1700002800000,1.5,2,1,1,0\n",
         "ms", ""},
        {"date,open,high,low,close,volume\n2023-11-14 22:00:00,1,2,0.5,1.5,10\n"
         "2023-11-14 23:00:00,1.5,2,1,1,0\n",
         "text", ""},
        {"Datetime,Open,High,Low,Close,Adj Close,Volume\n2023-11-14T22:00:00Z,1,2,0.5,1.5,1.5,10\n"
         "2023-11-14T23:00:00Z,1.5,2,1,1,1,0\n",
         "text", "Adj Close"},
        {"unix,symbol,open,high,low,close,Volume BTC,Volume USDT\n"
         "1699999200000000,BTC/USDT,1,2,0.5,1.5,10,15\n1700002800000000,BTC/USDT,1.5,2,1,1,0,0\n",
         "us", "symbol,Volume USDT"},
        {"time (ms),o_extra,OPEN,HIGH,LOW,CLOSE,VOL\n1699999200000,x,1,2,0.5,1.5,10\n"
         "1700002800000,y,1.5,2,1,1,0\n",
         "ms", "o_extra"},
        {"\"time\";\"open\";\"high\";\"low\";\"close\";\"volume\"\n\"1699999200000\";1;2;0.5;1.5;10\n"
         "\"1700002800000\";1.5;2;1;1;0\n",
         "ms", ""},
        {"\xEF\xBB\xBFopen_time\topen\thigh\tlow\tclose\tvolume\r\n1699999200000\t1\t2\t0.5\t1.5\t10\r\n"
         "1700002800000\t1.5\t2\t1\t1\t0\r\n",
         "ms", ""},
        {"https://www.CryptoDataDownload.com\ndate,open,high,low,close,volume\n"
         "2023-11-14 10-PM,1,2,0.5,1.5,10\n2023-11-14 11-PM,1.5,2,1,1,0\n",
         "text", ""},
        /* Binance-style close times label candle ends: each becomes its candle's open. */
        {"close_time,open,high,low,close,volume\n1700002799999,1,2,0.5,1.5,10\n"
         "1700006399999,1.5,2,1,1,0\n",
         "ms", ""},
        /* Mixed units, newest first, a blank line, CryptoDataDownload style. */
        {"unix,open,high,low,close,volume\n1700002800000,1.5,2,1,1,0\n\n1699999200.0,1,2,0.5,1.5,10\n",
         "mixed", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cb_read_report_t rep;
        cb_series_t *s = read_ok("h.csv", cases[i].text, CB_FORMAT_AUTO, NULL, &rep);
        if (s->n != 2 || s->time_ms[0] != T0 || s->time_ms[1] != T0 + H)
            print_message("case %zu: n=%zu t0=%lld\n", i, s->n, (long long)s->time_ms[0]);
        assert_int_equal(rep.format, CB_FORMAT_CSV);
        assert_int_equal(s->n, 2);
        assert_int_equal(s->time_ms[0], T0);
        assert_int_equal(s->time_ms[1], T0 + H);
        assert_true(s->open[0] == 1 && s->high[0] == 2 && s->low[0] == 0.5 && s->close[0] == 1.5);
        assert_true(s->volume[0] == 10 && s->volume[1] == 0);
        assert_string_equal(rep.time_unit, cases[i].unit);
        assert_string_equal(rep.extra_columns, cases[i].extra);
        assert_string_equal(s->meta.timeframe, "1h");
        cb_series_free(s);
        cb_read_report_free(&rep);
    }
}

static void test_newest_first(void **state)
{
    (void)state;
    cb_read_report_t rep;
    cb_series_t *s = read_ok("n.csv",
                             "time,open,high,low,close,volume\n"
                             "1700006400000,3,3,3,3,3\n1700002800000,2,2,2,2,2\n"
                             "1699999200000,1,1,1,1,1\n",
                             CB_FORMAT_CSV, "1h", &rep);
    assert_int_equal(rep.newest_first, 1);
    assert_int_equal(s->n, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(s->time_ms[i], T0 + (int64_t)i * H);
        assert_true(s->close[i] == (double)(i + 1));
    }
    assert_int_equal(rep.timeframe_inferred, 0);
    cb_series_free(s);
    cb_read_report_free(&rep);

    /* One candle labelled by its end loads when the timeframe is given. */
    s = read_ok("c.csv", "close_time,open,high,low,close,volume\n1700002799999,10,12,9,11,5\n",
                CB_FORMAT_AUTO, "1h", &rep);
    assert_int_equal(s->n, 1);
    assert_int_equal(s->time_ms[0], T0);
    assert_int_equal(rep.time_is_close, 1);
    cb_series_free(s);
    cb_read_report_free(&rep);
}

static void test_freqtrade_json(void **state)
{
    (void)state;
    cb_read_report_t rep;
    cb_series_t *s = read_ok("f.json",
                             " [[1699999200000, 1, 2, 0.5, 1.5, 10],\n"
                             "  [1700002800000, 1.5, 2.0, 1, 1, 0.0]]\n",
                             CB_FORMAT_AUTO, NULL, &rep);
    assert_int_equal(rep.format, CB_FORMAT_FREQTRADE);
    assert_int_equal(s->n, 2);
    assert_int_equal(s->time_ms[1], T0 + H);
    assert_true(s->high[1] == 2 && s->low[0] == 0.5);
    cb_series_free(s);
    cb_read_report_free(&rep);
    s = read_ok("e.json", "[]", CB_FORMAT_AUTO, NULL, &rep);
    assert_int_equal(s->n, 0);
    cb_series_free(s);
    cb_read_report_free(&rep);
}

/* ---- The catalogue of malformed inputs ---- */

#define HDR "time,open,high,low,close,volume\n"
#define ROW0 "1699999200000,10,12,9,11,5\n"
#define ROW1 "1700002800000,10,12,9,11,5\n"
#define ROW2 "1700006400000,10,12,9,11,5\n"
#define BROW0 "1699999200000,10,12,9,11,5,1700002799999,50,3,1,5,0\n"

static const struct bad_case {
    const char *name, *text;
    cb_format_t format;
    const char *timeframe;
    const char *diag;
} bad_cases[] = {
    {"t.csv", HDR "1699999200000,1.2.3,12,9,11,5\n", CB_FORMAT_AUTO, NULL,
     "t.csv:2: column 'open': expected a number, got \"1.2.3\""},
    {"t.csv", HDR ROW0 "1700002800000,,12,9,11,5\n", CB_FORMAT_AUTO, NULL,
     "t.csv:3: column 'open': expected a number, got an empty field"},
    {"t.csv", HDR "1699999200000,10,NaN,9,11,5\n", CB_FORMAT_AUTO, NULL,
     "t.csv:2: column 'high': expected a finite number, got \"NaN\""},
    {"t.csv", HDR "1699999200000,10,12,-inf,11,5\n", CB_FORMAT_AUTO, NULL,
     "t.csv:2: column 'low': expected a finite number, got \"-inf\""},
    {"t.csv", HDR "1699999200000,10,12,9,1e999,5\n", CB_FORMAT_AUTO, NULL,
     "t.csv:2: column 'close': expected a finite number, got \"1e999\""},
    {"t.csv", HDR "1699999200000,10,12,9,11,NULL\n", CB_FORMAT_AUTO, NULL,
     "t.csv:2: column 'volume': expected a number, got \"NULL\""},
    {"t.csv", HDR "1699999200000,-10,12,9,11,5\n", CB_FORMAT_AUTO, NULL,
     "t.csv:2: column 'open': -10 is negative"},
    {"t.csv", HDR "1699999200000,10,12,9,11,-0.5\n", CB_FORMAT_AUTO, NULL,
     "t.csv:2: column 'volume': -0.5 is negative"},
    {"btc.csv", "time,open,high,low,close,volume\n" ROW0 "1700002800000,101.7,101.5,102.0,101.8,1\n",
     CB_FORMAT_AUTO, NULL, "btc.csv:3: column 'high': 101.5 is below 'low' 102.0"},
    {"t.csv", HDR "1699999200000,13,12,9,11,5\n", CB_FORMAT_AUTO, NULL,
     "t.csv:2: column 'open': 13 is above 'high' 12"},
    {"t.csv", HDR "1699999200000,8.5,12,9,11,5\n", CB_FORMAT_AUTO, NULL,
     "t.csv:2: column 'open': 8.5 is below 'low' 9"},
    {"t.csv", HDR "1699999200000,10,12,9,12.5,5\n", CB_FORMAT_AUTO, NULL,
     "t.csv:2: column 'close': 12.5 is above 'high' 12"},
    {"t.csv", "Time,Open,High,Low,Close,Volume\n1699999200000,10,12,9,8.99,5\n", CB_FORMAT_AUTO,
     NULL, "t.csv:2: column 'Close': 8.99 is below 'Low' 9"},
    {"t.csv", HDR ROW0 ROW1 ROW1 ROW2, CB_FORMAT_AUTO, NULL,
     "t.csv:4: column 'time': duplicate time 2023-11-14 23:00:00 (also on line 3)"},
    {"t.csv", HDR ROW0 "1700006400000,10,12,9,11,5\n" ROW1 "1700010000000,10,12,9,11,5\n",
     CB_FORMAT_AUTO, NULL,
     "t.csv:4: column 'time': 2023-11-14 23:00:00 is before the previous row's 2023-11-15 "
     "00:00:00 (rows must be oldest first)"},
    {"t.csv", HDR ROW2 ROW0 ROW1 "1699995600000,10,12,9,11,5\n", CB_FORMAT_AUTO, NULL,
     "t.csv:4: column 'time': 2023-11-14 23:00:00 is after the previous row's 2023-11-14 "
     "22:00:00 (rows must be newest first)"},
    /* One stray time at the end does not make the file look newest-first. */
    {"t.csv", HDR ROW0 ROW1 ROW2 "1600000000000,10,12,9,11,5\n", CB_FORMAT_AUTO, NULL,
     "t.csv:5: column 'time': 2020-09-13 12:26:40 is before the previous row's 2023-11-15 "
     "00:00:00 (rows must be oldest first)"},
    {"t.csv", HDR ROW0 "1700001000000,10,12,9,11,5\n", CB_FORMAT_AUTO, "1h",
     "t.csv:3: column 'time': 2023-11-14 22:30:00 is not on the 1h grid"},
    {"t.csv", HDR ROW0 ROW1 ROW2 "1700008200000,10,12,9,11,5\n", CB_FORMAT_AUTO, NULL,
     "t.csv:5: column 'time': 2023-11-15 00:30:00 is not on the 1h grid"},
    {"t.csv", HDR "abc,10,12,9,11,5\n", CB_FORMAT_CSV, NULL,
     "t.csv:2: column 'time': expected a time, got \"abc\""},
    {"t.csv", HDR ROW0 ",10,12,9,11,5\n", CB_FORMAT_AUTO, NULL,
     "t.csv:3: column 'time': expected a time, got an empty field"},
    {"t.csv", HDR "1699999200000.5,10,12,9,11,5\n", CB_FORMAT_AUTO, NULL,
     "t.csv:2: column 'time': 1699999200000.5 is not a whole millisecond"},
    {"t.csv", HDR "1699999200000001,10,12,9,11,5\n", CB_FORMAT_AUTO, NULL,
     "t.csv:2: column 'time': 1699999200000001 is not a whole millisecond"},
    {"t.csv", "timestamp_ms,open,high,low,close,volume\n1699999200,10,12,9,11,5\n",
     CB_FORMAT_AUTO, NULL,
     "t.csv:2: column 'timestamp_ms': 1699999200 is in seconds by its size, but the column "
     "name says milliseconds"},
    {"t.csv", "date,open,high,low,close,volume\n2023-13-01 00:00:00,10,12,9,11,5\n",
     CB_FORMAT_AUTO, NULL, "t.csv:2: column 'date': expected a time, got \"2023-13-01 00:00:00\""},
    {"t.csv", HDR ROW0 "1700002800000,10,12,9,11\n", CB_FORMAT_AUTO, NULL,
     "t.csv:3: line has 5 fields, the header has 6"},
    {"t.csv", HDR ROW0 "1700002800000,10,12,9,11,5,7\n", CB_FORMAT_AUTO, NULL,
     "t.csv:3: line has 7 fields, the header has 6"},
    {"k.csv", BROW0 "1700002800000,10,12,9,11,5,1700006399999,50,3,1,5\n", CB_FORMAT_AUTO, NULL,
     "k.csv:2: line has 11 fields, expected 12 like the first row"},
    {"k.csv", BROW0 "1700002800000,10,12,9,11,5x,1700006399999,50,3,1,5,0\n", CB_FORMAT_AUTO,
     NULL, "k.csv:2: column 'volume': expected a number, got \"5x\""},
    {"k.csv", "1699999200000,10,12,9,11\n", CB_FORMAT_AUTO, NULL,
     "k.csv:1: a headerless row needs at least 6 fields (open_time, open, high, low, close, "
     "volume), got 5"},
    {"t.csv", "time,open,high,low,volume\n" ROW0, CB_FORMAT_AUTO, NULL,
     "t.csv:1: header: no 'close' column"},
    {"t.csv", "when,open,high,low,close,volume\n" ROW0, CB_FORMAT_AUTO, NULL,
     "t.csv:1: header: no time column (expected one named time, timestamp, date, datetime, "
     "open_time or unix, with or without a unit suffix such as _ms)"},
    {"t.csv", "", CB_FORMAT_AUTO, NULL, "t.csv:1: the file is empty (no header, no candles)"},
    {"t.csv", "\n\n  \n", CB_FORMAT_AUTO, NULL, "t.csv:3: the file is empty (no header, no candles)"},
    {"t.csv", ROW0, CB_FORMAT_CSV, NULL,
     "t.csv:1: expected a header row naming the columns (time, open, high, low, close, volume); "
     "for headerless Binance klines use the binance format"},
    {"t.csv", HDR "\"1699999200000,10,12,9,11,5\n", CB_FORMAT_AUTO, NULL,
     "t.csv:2: a quoted field is not closed properly"},
    {"t.csv", "time;open;high;low;close;volume\r\n1699999200000;10;12;9;11;5\r\n\r\n"
              "1700002800000;10;12;9;11;abc\r\n",
     CB_FORMAT_AUTO, NULL, "t.csv:4: column 'volume': expected a number, got \"abc\""},
    {"cdd.csv", "https://www.CryptoDataDownload.com\nunix,date,open,high,low,close,Volume BTC\n"
                "1700002800000,2023-11-14 23:00:00,10,12,9,11,NULL\n",
     CB_FORMAT_AUTO, NULL, "cdd.csv:3: column 'Volume BTC': expected a number, got \"NULL\""},
    {"t.csv", "close_time,open,high,low,close,volume\n1700002799999,10,12,9,11,5\n", CB_FORMAT_AUTO,
     NULL,
     "t.csv:2: column 'close_time': this column holds candle ends; give the timeframe to know "
     "where the candles open"},
    {"t.json", "{\"a\": 1}", CB_FORMAT_FREQTRADE, NULL,
     "t.json:1:1: expected '[' starting a freqtrade candle list, got \"{\"a\": 1}\""},
    {"t.json", "[[1699999200000, null, 12, 9, 11, 5]]", CB_FORMAT_AUTO, NULL,
     "t.json:1:18: field 'open': expected a number, got null"},
    {"t.json", "[[1699999200000, 10, 12, 9, 11]]", CB_FORMAT_AUTO, NULL,
     "t.json:1:2: a candle has 6 values [time, open, high, low, close, volume], got 5"},
    {"t.json", "[[1699999200000, 10, 12, 9, 11, 5]] x", CB_FORMAT_AUTO, NULL,
     "t.json:1:37: unexpected \"x\" after the candle list"},
    {"t.json", "[[1699999200000, 10, 12", CB_FORMAT_AUTO, NULL,
     "t.json:1:24: expected ',' or ']' in a candle, got the end of the file"},
    {"t.json", "[\n [1699999200000, 10, 9, 12, 11, 5]\n]", CB_FORMAT_AUTO, NULL,
     "t.json:2:2: field 'high': 9 is below 'low' 12"},
    {"t.json", "[\n[1699999200000, 10, 12, 9, 11, 5],\n[1699999200000, 10, 12, 9, 11, 5]\n]",
     CB_FORMAT_AUTO, NULL, "t.json:3:1: field 'time': duplicate time 2023-11-14 22:00:00"},
    {"t.json", "[[\"2023-11-14\", 10, 12, 9, 11, 5]]", CB_FORMAT_AUTO, NULL,
     "t.json:1:3: field 'time': expected a time, got \"\\\"2023-11-14\\\"\""},
    {"t.json", "[[1699999200000, 10, 12, 9, 11, Infinity]]", CB_FORMAT_AUTO, NULL,
     "t.json:1:33: field 'volume': expected a finite number, got Infinity"},
};

static void test_malformed_catalogue(void **state)
{
    (void)state;
    assert_true(sizeof bad_cases / sizeof bad_cases[0] >= 30);
    int failures = 0;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const struct bad_case *c = &bad_cases[i];
        cb_read_opts_t o = {c->format, c->timeframe, 0, 0, NULL};
        cb_series_t *s = (cb_series_t *)1;
        cb_read_report_t rep;
        cb_diag_t d;
        int r = cb_series_read_buffer(c->name, c->text, strlen(c->text), &o, &s, &rep, &d);
        char buf[800];
        cb_diag_format(&d, buf, sizeof buf);
        if (r == 0 || strcmp(buf, c->diag) != 0 || s != NULL) {
            print_message("case %zu: r=%d\n   got: %s\n  want: %s\n", i, r, buf, c->diag);
            failures++;
        } else {
            assert_true(r == CB_EPARSE || r == CB_EVALID);
            assert_true(rep.problems.n >= 1);
            cb_diag_format(&rep.problems.items[0], buf, sizeof buf);
            assert_string_equal(buf, c->diag);
        }
        cb_read_report_free(&rep);
    }
    assert_int_equal(failures, 0);
}

static void test_every_problem_listed(void **state)
{
    (void)state;
    /* Several problems: all reported in line order, whichever pass found them. */
    const char *text = HDR ROW0 "1700001000000,10,12,9,11,5\n"
                           "1700002800000,10,9,12,11,5\n"
                           "1700006400000,x,12,9,11,-1\n" ROW2;
    cb_read_opts_t o = {CB_FORMAT_AUTO, "1h", 0, 0, NULL};
    cb_series_t *s;
    cb_read_report_t rep;
    cb_diag_t d;
    assert_int_equal(cb_series_read_buffer("m.csv", text, strlen(text), &o, &s, &rep, &d),
                     CB_EVALID);
    static const char *const want[] = {
        "m.csv:3: column 'time': 2023-11-14 22:30:00 is not on the 1h grid",
        "m.csv:4: column 'high': 9 is below 'low' 12",
        "m.csv:5: column 'open': expected a number, got \"x\""};
    char buf[400];
    for (size_t i = 0; i < rep.problems.n; i++) {
        cb_diag_format(&rep.problems.items[i], buf, sizeof buf);
        print_message("  %s\n", buf);
    }
    assert_int_equal(rep.problems.total, 3);
    cb_diag_format(&rep.problems.items[0], buf, sizeof buf);
    assert_string_equal(buf, want[0]);
    cb_diag_format(&rep.problems.items[1], buf, sizeof buf);
    assert_string_equal(buf, want[1]);
    cb_diag_format(&rep.problems.items[2], buf, sizeof buf);
    assert_string_equal(buf, want[2]);
    cb_read_report_free(&rep);
}

static void test_skip_bad_rows(void **state)
{
    (void)state;
    const char *text = HDR ROW0 "1700002800000,10,9,12,11,5\n" ROW1 "1700006400000,x,12,9,11,5\n"
                           ROW2 "1700010000000,10,12,9,11,5\n";
    cb_read_opts_t o = {CB_FORMAT_AUTO, NULL, 1, 0, NULL};
    cb_series_t *s;
    cb_read_report_t rep;
    cb_diag_t d;
    assert_int_equal(cb_series_read_buffer("s.csv", text, strlen(text), &o, &s, &rep, &d), 0);
    assert_int_equal(rep.rows, 6);
    assert_int_equal(rep.skipped, 2);
    assert_int_equal(s->n, 4);
    assert_int_equal(rep.problems.total, 2);
    char buf[400];
    cb_diag_format(&rep.problems.items[0], buf, sizeof buf);
    assert_string_equal(buf, "s.csv:3: column 'high': 9 is below 'low' 12");
    cb_diag_format(&rep.problems.items[1], buf, sizeof buf);
    assert_string_equal(buf, "s.csv:5: column 'open': expected a number, got \"x\"");
    for (size_t i = 0; i < s->n; i++)
        assert_int_equal(s->time_ms[i], T0 + (int64_t)i * H);
    cb_series_free(s);
    cb_read_report_free(&rep);

    /* Without the option the same input fails on its first problem. */
    o.skip_bad_rows = 0;
    assert_int_equal(cb_series_read_buffer("s.csv", text, strlen(text), &o, &s, &rep, &d),
                     CB_EVALID);
    assert_null(s);
    assert_int_equal(d.line, 3);
    cb_read_report_free(&rep);

    /* The timeframe comes from every readable time, bad rows included: the good rows alone
     * (3 h apart) would suggest 3h. */
    const char *sparse = HDR ROW0 "1700002800000,10,9,12,11,5\n1700006400000,x,12,9,11,5\n"
                             "1700010000000,10,12,9,11,5\n";
    o.skip_bad_rows = 1;
    assert_int_equal(cb_series_read_buffer("s.csv", sparse, strlen(sparse), &o, &s, &rep, &d), 0);
    assert_int_equal(s->n, 2);
    assert_string_equal(s->meta.timeframe, "1h");
    assert_int_equal(rep.timeframe_inferred, 1);
    cb_series_free(s);
    cb_read_report_free(&rep);

    /* A limit on kept problems still counts them all. */
    o.max_problems = 1;
    o.skip_bad_rows = 1;
    assert_int_equal(cb_series_read_buffer("s.csv", text, strlen(text), &o, &s, &rep, &d), 0);
    assert_int_equal(rep.problems.n, 1);
    assert_int_equal(rep.problems.total, 2);
    cb_series_free(s);
    cb_read_report_free(&rep);
}

static void test_bad_options(void **state)
{
    (void)state;
    cb_read_opts_t o = {CB_FORMAT_AUTO, "7x", 0, 0, NULL};
    cb_series_t *s;
    cb_diag_t d;
    assert_int_equal(cb_series_read_buffer("t.csv", HDR ROW0, strlen(HDR ROW0), &o, &s, NULL, &d),
                     CB_EINVAL);
    char buf[400];
    cb_diag_format(&d, buf, sizeof buf);
    assert_string_equal(buf, "unknown timeframe '7x' (expected e.g. 1m, 15m, 1h, 1d, 1w, 1M)");
    assert_int_equal(cb_series_read_file("/nonexistent/x.csv", NULL, &s, NULL, &d), CB_ENOENT);
    cb_diag_format(&d, buf, sizeof buf);
    assert_string_equal(buf, "/nonexistent/x.csv: cannot open: No such file or directory");
    cb_format_t f;
    assert_int_equal(cb_format_parse("Binance", &f), 0);
    assert_int_equal(f, CB_FORMAT_BINANCE);
    assert_string_equal(cb_format_name(CB_FORMAT_FREQTRADE), "freqtrade");
    assert_int_equal(cb_format_parse("parquet", &f), CB_EINVAL);
}

/* ---- Real files ---- */

static const struct real_file {
    const char *file;
    size_t rows;
    const char *first, *last, *timeframe;
    long gaps, missing; /* -1: not listed in the README */
} real_files[] = {
    {"binance_spot_BTCUSDT_1h_2017-08-17_2022-10-11.csv", 45024, "2017-08-17 04:00:00",
     "2022-10-11 10:00:00", "1h", 27, 127},
    {"binance_spot_ETHUSDT_1h_2017-08-17_2022-10-11.csv", 45024, "2017-08-17 04:00:00",
     "2022-10-11 10:00:00", "1h", 27, 127},
    {"binance_spot_BTCUSDT_4h_2017-08-17_2022-10-11.csv", 11271, "2017-08-17 04:00:00",
     "2022-10-11 04:00:00", "4h", 8, 16},
    {"binance_spot_ETHUSDT_4h_2017-08-17_2022-10-11.csv", 11271, "2017-08-17 04:00:00",
     "2022-10-11 04:00:00", "4h", 8, 16},
    {"binance_spot_BTCUSDT_1d_2017-08-17_2022-10-10.csv", 1881, "2017-08-17 00:00:00",
     "2022-10-10 00:00:00", "1d", 0, 0},
    {"binance_spot_ETHUSDT_1d_2017-08-17_2022-10-10.csv", 1881, "2017-08-17 00:00:00",
     "2022-10-10 00:00:00", "1d", 0, 0},
    {"binance_spot_BTCUSDT_1m_2023-03-16_2023-05-01.csv", 66087, "2023-03-16 22:15:00",
     "2023-05-01 21:01:00", "1m", 1, 80},
    {"binance_spot_ETHUSDT_1m_2023-03-16_2023-05-01.csv", 66087, "2023-03-16 22:15:00",
     "2023-05-01 21:01:00", "1m", 1, 80},
    {"binance_spot_BTCUSDT_5m_2023-03-16_2023-05-01.csv", 13217, "2023-03-16 22:15:00",
     "2023-05-01 20:55:00", "5m", 1, 16},
    {"binance_spot_ETHUSDT_5m_2023-03-16_2023-05-01.csv", 13217, "2023-03-16 22:15:00",
     "2023-05-01 20:55:00", "5m", 1, 16},
    {"binance_spot_BTCUSDT_15m_2023-04-01_2023-05-01.csv", 2879, "2023-04-01 15:45:00",
     "2023-05-01 15:15:00", "15m", 0, 0},
    {"binance_spot_ETHUSDT_15m_2023-04-01_2023-05-01.csv", 2879, "2023-04-01 15:45:00",
     "2023-05-01 15:15:00", "15m", 0, 0},
    {"binance_spot_BTCUSDT_30m_2023-04-01_2023-05-01.csv", 1439, "2023-04-01 16:00:00",
     "2023-05-01 15:00:00", "30m", 0, 0},
    {"binance_spot_ETHUSDT_30m_2023-04-01_2023-05-01.csv", 1439, "2023-04-01 16:00:00",
     "2023-05-01 15:00:00", "30m", 0, 0},
    {"binance_spot_BTCUSDT_1h_2023-04-01_2023-05-01.csv", 719, "2023-04-01 16:00:00",
     "2023-05-01 14:00:00", "1h", 0, 0},
    {"binance_spot_ETHUSDT_1h_2023-04-01_2023-05-01.csv", 719, "2023-04-01 16:00:00",
     "2023-05-01 14:00:00", "1h", 0, 0},
    {"binance_spot_BTCUSDT_1h_2018-05-01_2018-05-05_lean.csv", 120, "2018-05-01 00:00:00",
     "2018-05-05 23:00:00", "1h", 0, 0},
    {"coinbase_spot_BTCUSD_1d_2014-12-01_2018-08-13.csv", 1318, "2014-12-01 00:00:00",
     "2018-08-13 00:00:00", "1d", 8, 34},
    {"bitfinex_spot_BTCUSD_1h_2013-10-01_2013-10-31.csv", 733, "2013-10-01 00:00:00",
     "2013-10-31 21:00:00", "1h", 7, 9},
    /* month_end_date labels the last day of each month: the candles open on the 1st. */
    {"BTCUSD_1M_monthly_2012-01_2024-12_backtestingpy.csv", 156, "2012-01-01 00:00:00",
     "2024-12-01 00:00:00", "1M", 0, 0},
    {"binance_spot_ADABTC_1m_2021-11-27_rawformat_sample.csv", 10, "2021-11-27 00:00:00",
     "2021-11-27 00:09:00", "1m", 0, 0},
    {"binance_spot_ADABTC_1m_2021-11-28_rawformat_sample.csv", 11, "2021-11-28 00:00:00",
     "2021-11-28 00:10:00", "1m", 0, 0},
    {"freqtrade_testdata_UNITTEST_BTC-1m.json", 13681, "2017-11-04 23:02:00",
     "2017-11-14 22:59:00", "1m", -1, -1},
};

static void test_real_files(void **state)
{
    (void)state;
    char path[1024], a[40];
    if (!tu_shared_path("ohlcv", path, sizeof path))
        SKIP_NO_SHARED();
    for (size_t i = 0; i < sizeof real_files / sizeof real_files[0]; i++) {
        const struct real_file *f = &real_files[i];
        char rel[256];
        snprintf(rel, sizeof rel, "ohlcv/%s", f->file);
        if (!tu_shared_path(rel, path, sizeof path)) {
            print_message("missing %s\n", rel);
            fail();
        }
        cb_series_t *s;
        cb_read_report_t rep;
        cb_diag_t d;
        int r = cb_series_read_file(path, NULL, &s, &rep, &d);
        if (r != 0) {
            char buf[800];
            cb_diag_format(&d, buf, sizeof buf);
            print_message("%s\n", buf);
        }
        assert_int_equal(r, 0);
        assert_int_equal(s->n, f->rows);
        assert_int_equal(rep.rows, f->rows);
        assert_string_equal(cb_time_format(s->time_ms[0], a, sizeof a), f->first);
        assert_string_equal(cb_time_format(s->time_ms[s->n - 1], a, sizeof a), f->last);
        assert_string_equal(s->meta.timeframe, f->timeframe);
        cb_check_report_t cr;
        assert_int_equal(cb_series_check(s, f->file, &cr), 0);
        if (f->gaps >= 0) {
            assert_int_equal(cr.gaps, f->gaps);
            assert_int_equal(cr.missing, f->missing);
        }
        cb_check_report_free(&cr);
        cb_series_free(s);
        cb_read_report_free(&rep);
    }
}

static void test_real_cryptodatadownload(void **state)
{
    (void)state;
    char path[1024], buf[800], a[40];
    if (!tu_shared_path("ohlcv/cryptodatadownload_Binance_BTCUSDT_1h_2017-08-17_2021-06-10_raw.csv",
                        path, sizeof path))
        SKIP_NO_SHARED();
    /* Newest first, seconds with ".0" and milliseconds mixed, NULL trade counts (an ignored
     * column), and 2,649 hours listed twice with different values where the export's two
     * styles overlap: those are conflicting duplicates, a hard error that only
     * skip_bad_rows gets past (keeping the first, higher-precision row). */
    cb_series_t *s;
    cb_read_report_t rep;
    cb_diag_t d;
    assert_int_equal(cb_series_read_file(path, NULL, &s, &rep, &d), CB_EVALID);
    cb_diag_format(&d, buf, sizeof buf);
    const char *tail = strrchr(buf, '/') + 1;
    assert_string_equal(tail, "cryptodatadownload_Binance_BTCUSDT_1h_2017-08-17_2021-06-10_raw.csv:"
                              "4832: column 'unix': duplicate time 2020-11-20 07:00:00 (also on "
                              "line 4831)");
    assert_int_equal(rep.problems.total, 2649);
    cb_read_report_free(&rep);

    cb_read_opts_t o = {CB_FORMAT_AUTO, NULL, 1, 0, NULL};
    assert_int_equal(cb_series_read_file(path, &o, &s, &rep, &d), 0);
    assert_int_equal(rep.rows, 36062);
    assert_int_equal(rep.skipped, 2649);
    assert_int_equal(s->n, 36062 - 2649);
    assert_int_equal(rep.newest_first, 1);
    assert_string_equal(rep.time_unit, "mixed");
    assert_string_equal(rep.time_column, "unix");
    assert_string_equal(rep.extra_columns, "date,symbol,Volume USDT,tradecount");
    assert_string_equal(cb_time_format(s->time_ms[0], a, sizeof a), "2017-08-17 04:00:00");
    assert_string_equal(cb_time_format(s->time_ms[s->n - 1], a, sizeof a), "2021-06-10 00:00:00");
    /* The oldest row, verbatim: 1502942400.0,...,16199.91,16199.91,4261.32,4308.83,44.51 */
    assert_true(s->open[0] == 16199.91 && s->low[0] == 4261.32 && s->volume[0] == 44.51);
    cb_check_report_t cr;
    assert_int_equal(cb_series_check(s, NULL, &cr), 0);
    cb_check_report_free(&cr);
    cb_series_free(s);
    cb_read_report_free(&rep);
}

/* ---- Checks ---- */

static void test_check_real_gaps(void **state)
{
    (void)state;
    char path[1024], a[40];
    if (!tu_shared_path("ohlcv/binance_spot_BTCUSDT_1h_2017-08-17_2022-10-11.csv", path,
                        sizeof path))
        SKIP_NO_SHARED();
    cb_series_t *s;
    cb_diag_t d;
    assert_int_equal(cb_series_read_file(path, NULL, &s, NULL, &d), 0);
    cb_check_report_t cr;
    assert_int_equal(cb_series_check(s, "btc", &cr), 0);
    assert_int_equal(cr.n, 45024);
    assert_int_equal(cr.gaps, 27);
    assert_int_equal(cr.missing, 127);
    assert_int_equal(cr.n_largest, 10);
    /* README: 2018-02-08 00:00 (33 h missing), then 2018-06-26 and 2019-05-15 (10 each). */
    assert_string_equal(cb_time_format(cr.largest[0].after_ms, a, sizeof a), "2018-02-08 00:00:00");
    assert_int_equal(cr.largest[0].missing, 33);
    assert_string_equal(cb_time_format(cr.largest[1].after_ms, a, sizeof a), "2018-06-26 01:00:00");
    assert_int_equal(cr.largest[1].missing, 10);
    assert_string_equal(cb_time_format(cr.largest[2].after_ms, a, sizeof a), "2019-05-15 02:00:00");
    assert_int_equal(cr.largest[2].missing, 10);
    for (size_t i = 1; i < cr.n_largest; i++)
        assert_true(cr.largest[i].missing <= cr.largest[i - 1].missing);
    assert_int_equal(cr.problems.total, 0);
    cb_check_report_free(&cr);
    cb_series_free(s);

    if (!tu_shared_path("ohlcv/binance_spot_BTCUSDT_1m_2023-03-16_2023-05-01.csv", path,
                        sizeof path))
        SKIP_NO_SHARED();
    assert_int_equal(cb_series_read_file(path, NULL, &s, NULL, &d), 0);
    assert_int_equal(cb_series_check(s, "btc1m", &cr), 0);
    assert_int_equal(cr.n_largest, 1);
    assert_string_equal(cb_time_format(cr.largest[0].after_ms, a, sizeof a), "2023-03-24 12:39:00");
    assert_int_equal(cr.largest[0].missing, 80);
    cb_check_report_free(&cr);
    cb_series_free(s);
}

static void test_check_series(void **state)
{
    (void)state;
    cb_series_t *s = cb_series_new(0);
    snprintf(s->meta.timeframe, sizeof s->meta.timeframe, "1h");
    cb_series_push(s, T0, 10, 12, 9, 11, 5);
    cb_series_push(s, T0 + H, 10, 9, 12, 11, 0);          /* high < low */
    cb_series_push(s, T0 + 4 * H, 13, 12, 9, 11, 5);      /* open above high; 2-candle gap */
    cb_series_push(s, T0 + 4 * H, 10, 12, 9, 11, 5);      /* duplicate */
    cb_series_push(s, T0 + 5 * H + 1, 10, 12, 9, NAN, 5); /* off grid, nan */
    cb_series_push(s, T0 + 3 * H, 10, 12, 9, 11, -1);     /* decreasing, negative */
    cb_check_report_t cr;
    assert_int_equal(cb_series_check(s, "x", &cr), CB_EVALID);
    static const char *const want[] = {
        "x: candle 2023-11-14 23:00:00, column 'high': 9 is below 'low' 12",
        "x: candle 2023-11-15 02:00:00, column 'open': 13 is above 'high' 12",
        "x: candle 2023-11-15 02:00:00: duplicate time",
        "x: candle 2023-11-15 03:00:00.001, column 'close': expected a finite number, got nan",
        "x: candle 2023-11-15 03:00:00.001: not on the 1h grid",
        "x: candle 2023-11-15 01:00:00, column 'volume': -1 is negative",
        ("x: candle 2023-11-15 01:00:00: comes after 2023-11-15 03:00:00.001 (times must "
         "increase)"),
    };
    char buf[400];
    for (size_t i = 0; i < cr.problems.n; i++) {
        cb_diag_format(&cr.problems.items[i], buf, sizeof buf);
        print_message("  %s\n", buf);
    }
    assert_int_equal(cr.problems.n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < cr.problems.n; i++) {
        cb_diag_format(&cr.problems.items[i], buf, sizeof buf);
        assert_string_equal(buf, want[i]);
    }
    assert_int_equal(cr.gaps, 1);
    assert_int_equal(cr.missing, 2);
    assert_int_equal(cr.zero_volume, 1);
    cb_check_report_free(&cr);
    cb_series_free(s);
}

/* ---- Writer ---- */

static void test_write_csv_round_trip(void **state)
{
    (void)state;
    char dir[256], path[512];
    assert_non_null(tu_tmpdir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/out.csv", dir);
    cb_series_t *s = cb_series_new(0);
    snprintf(s->meta.timeframe, sizeof s->meta.timeframe, "1m");
    uint64_t x = 42;
    for (int i = 0; i < 500; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        double lo = (double)(x >> 40) / 1e7, hi = lo * 1.01 + 1e-9;
        double o = lo + (hi - lo) / 3, c = lo + (hi - lo) / 7;
        cb_series_push(s, T0 + i * INT64_C(60000), o, hi, lo, c, (double)(x >> 50) / 3.0);
    }
    cb_diag_t d;
    assert_int_equal(cb_series_write_csv(s, path, &d), 0);
    cb_series_t *back;
    cb_read_report_t rep;
    assert_int_equal(cb_series_read_file(path, NULL, &back, &rep, &d), 0);
    assert_int_equal(rep.format, CB_FORMAT_CSV);
    assert_int_equal(back->n, s->n);
    assert_memory_equal(back->time_ms, s->time_ms, s->n * sizeof(int64_t));
    assert_memory_equal(back->open, s->open, s->n * sizeof(double));
    assert_memory_equal(back->high, s->high, s->n * sizeof(double));
    assert_memory_equal(back->low, s->low, s->n * sizeof(double));
    assert_memory_equal(back->close, s->close, s->n * sizeof(double));
    assert_memory_equal(back->volume, s->volume, s->n * sizeof(double));
    cb_series_free(back);
    cb_read_report_free(&rep);

    /* A real file through the writer reads back to the same doubles, with the same text. */
    char src[1024];
    if (tu_shared_path("ohlcv/binance_spot_ADABTC_1m_2021-11-27_rawformat_sample.csv", src,
                       sizeof src)) {
        cb_series_t *k;
        assert_int_equal(cb_series_read_file(src, NULL, &k, NULL, &d), 0);
        assert_int_equal(cb_series_write_csv(k, path, &d), 0);
        size_t len;
        char *text = tu_read_file(path, &len);
        assert_non_null(text);
        assert_non_null(strstr(text, "time_ms,open,high,low,close,volume\n"
                                     "1637971200000,0.00002853,0.00002854,0.00002851,0.00002854,"
                                     "36304.2\n"));
        free(text);
        cb_series_free(k);
    }
    cb_series_free(s);
    tu_rmtree(dir);
}

static void test_store_file_detected(void **state)
{
    (void)state;
    char dir[256], path[512];
    assert_non_null(tu_tmpdir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/x.cbk", dir);
    cb_series_t *s = cb_series_new(0);
    snprintf(s->meta.timeframe, sizeof s->meta.timeframe, "1h");
    snprintf(s->meta.exchange, sizeof s->meta.exchange, "binance");
    snprintf(s->meta.pair, sizeof s->meta.pair, "BTC/USDT");
    cb_series_push(s, T0, 10, 12, 9, 11, 5);
    cb_series_push(s, T0 + H, 11, 13, 10, 12, 6);
    cb_diag_t d;
    assert_int_equal(cb_store_save(path, s, &d), 0);
    cb_series_t *back;
    cb_read_report_t rep;
    assert_int_equal(cb_series_read_file(path, NULL, &back, &rep, &d), 0);
    assert_int_equal(rep.format, CB_FORMAT_CBK);
    assert_int_equal(back->n, 2);
    assert_true(back->close[1] == 12);
    assert_string_equal(back->meta.timeframe, "1h");
    cb_series_free(back);
    cb_read_report_free(&rep);
    cb_series_free(s);
    tu_rmtree(dir);
}

/* Lines ending in a lone CR (old Mac files) read like LF files in every reader; a CR-only
 * file was one long line: a header with thousands of columns or zero candles. */
static void test_cr_line_endings(void **state)
{
    (void)state;
    static const char *const files[][2] = {
        {"c.csv", "time,open,high,low,close,volume\r"
                  "1699999200000,10,12,9,11,5\r1700002800000,11,13,10,12,6\r"
                  "1700006400000,12,14,11,13,7\r"},
        {"b.csv", "1699999200000,10,12,9,11,5,1700002799999,0,1,0,0,0\r"
                  "1700002800000,11,13,10,12,6,1700006399999,0,1,0,0,0\r"
                  "1700006400000,12,14,11,13,7,1700009999999,0,1,0,0,0"},
        {"f.json", "[\r[1699999200000,10,12,9,11,5],\r[1700002800000,11,13,10,12,6],\r"
                   "[1700006400000,12,14,11,13,7]\r]\r"},
        {"m.csv", "time,open,high,low,close,volume\r\n1699999200000,10,12,9,11,5\r\n"
                  "1700002800000,11,13,10,12,6\r\n1700006400000,12,14,11,13,7\r\n"},
    };
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        cb_read_report_t rep;
        cb_series_t *s = read_ok(files[k][0], files[k][1], CB_FORMAT_AUTO, "1h", &rep);
        if (s->n != 3)
            fail_msg("%s: %zu candles, expected 3", files[k][0], s->n);
        assert_int_equal(s->time_ms[2], T0 + 2 * H);
        assert_true(s->close[2] == 13 && s->volume[1] == 6);
        cb_series_free(s);
        cb_read_report_free(&rep);
    }
    /* A problem is named on its physical line, counting lone CRs as line ends. */
    const char *bad = "time,open,high,low,close,volume\r1699999200000,10,12,9,11,5\r"
                      "1700002800000,11,13,10,x,6\r";
    cb_read_opts_t o = {CB_FORMAT_AUTO, "1h", 0, 0, NULL};
    cb_series_t *s;
    cb_diag_t d;
    assert_int_equal(cb_series_read_buffer("e.csv", bad, strlen(bad), &o, &s, NULL, &d),
                     CB_EPARSE);
    char buf[400];
    cb_diag_format(&d, buf, sizeof buf);
    assert_string_equal(buf, "e.csv:3: column 'close': expected a number, got \"x\"");
    /* A stray CR inside a line of an LF file stays in its field: refused, naming the line. */
    const char *stray = "time,open,high,low,close,volume\n1699999200000,10,12,9,11,5\r"
                        "1700002800000,11,13,10,12,6\n";
    assert_int_equal(cb_series_read_buffer("s.csv", stray, strlen(stray), &o, &s, NULL, &d),
                     CB_EPARSE);
    assert_int_equal(d.line, 2);
    const char *json = "[\r[1699999200000,10,12,9,11,5],\r[1700002800000,11,13,10,x,6]]";
    assert_int_equal(cb_series_read_buffer("e.json", json, strlen(json), &o, &s, NULL, &d),
                     CB_EPARSE);
    assert_int_equal(d.line, 3);
}

/* A given timeframe must be the file's own spacing: one fatal sentence naming both, even
 * with skip_bad_rows, and no grid error per row. Gaps do not change the spacing. */
static void test_timeframe_vs_spacing(void **state)
{
    (void)state;
    char text[8192];
    size_t o = (size_t)snprintf(text, sizeof text, "time,open,high,low,close,volume\n");
    for (int i = 0; i < 40; i++)
        if (i < 10 || i > 14) /* a gap of five candles */
            o += (size_t)snprintf(text + o, sizeof text - o, "%lld,10,12,9,11,5\n",
                                  (long long)(T0 + 2 * H + 4 * H * i));
    static const struct {
        const char *tf, *label, *want;
    } cases[] = {
        {"1h", "--timeframe", "s.csv: the file's candles are 4h apart; --timeframe says 1h"},
        {"1m", NULL, "s.csv: the file's candles are 4h apart; the timeframe given is 1m"},
        {"1d", "--timeframe", "s.csv: the file's candles are 4h apart; --timeframe says 1d"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        for (int skip = 0; skip < 2; skip++) {
            cb_read_opts_t ro = {CB_FORMAT_AUTO, cases[k].tf, skip, 0, cases[k].label};
            cb_series_t *s = (cb_series_t *)1;
            cb_read_report_t rep;
            cb_diag_t d;
            assert_int_equal(cb_series_read_buffer("s.csv", text, o, &ro, &s, &rep, &d),
                             CB_EVALID);
            assert_null(s);
            char buf[400];
            cb_diag_format(&d, buf, sizeof buf);
            assert_string_equal(buf, cases[k].want);
            assert_int_equal(rep.problems.total, 1);
            cb_read_report_free(&rep);
        }
    }
    cb_read_report_t rep;
    cb_series_t *s = read_ok("s.csv", text, CB_FORMAT_AUTO, "4h", &rep);
    assert_int_equal(s->n, 35);
    cb_series_free(s);
    cb_read_report_free(&rep);
    /* Months: 28..31 days apart is 1M. */
    o = (size_t)snprintf(text, sizeof text, "time,open,high,low,close,volume\n");
    const char *months[] = {"2023-01-01", "2023-02-01", "2023-03-01", "2023-04-01", "2023-05-01"};
    for (int i = 0; i < 5; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "%s,10,12,9,11,5\n", months[i]);
    s = read_ok("mo.csv", text, CB_FORMAT_AUTO, "1M", &rep);
    assert_int_equal(s->n, 5);
    cb_series_free(s);
    cb_read_report_free(&rep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_double_exact),
        cmocka_unit_test(test_format_double),
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_timeframe_inference),
        cmocka_unit_test(test_binance_ms_and_us),
        cmocka_unit_test(test_header_variants),
        cmocka_unit_test(test_newest_first),
        cmocka_unit_test(test_freqtrade_json),
        cmocka_unit_test(test_malformed_catalogue),
        cmocka_unit_test(test_every_problem_listed),
        cmocka_unit_test(test_skip_bad_rows),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_real_files),
        cmocka_unit_test(test_real_cryptodatadownload),
        cmocka_unit_test(test_check_real_gaps),
        cmocka_unit_test(test_check_series),
        cmocka_unit_test(test_write_csv_round_trip),
        cmocka_unit_test(test_store_file_detected),
        cmocka_unit_test(test_cr_line_endings),
        cmocka_unit_test(test_timeframe_vs_spacing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
