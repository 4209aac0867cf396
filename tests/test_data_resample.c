/* data/resample.c: hand-made cases, then Binance's own 5m/15m/1h candles rebuilt from its 1m
 * candles (../shared/data/ohlcv, 2023-03-16 .. 2023-05-01, freqtrade downloads; see its
 * README: the 1m files have one gap of 80 minutes, the 2023-03-24 matching-engine outage). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/data.h"
#include "testutil.h"

static cb_series_t *series(const char *tf)
{
    cb_series_t *s = cb_series_new(0);
    assert_non_null(s);
    snprintf(s->meta.exchange, sizeof s->meta.exchange, "binance");
    snprintf(s->meta.pair, sizeof s->meta.pair, "BTC/USDT");
    snprintf(s->meta.timeframe, sizeof s->meta.timeframe, "%s", tf);
    snprintf(s->meta.source, sizeof s->meta.source, "hand");
    return s;
}

static int64_t at(const char *when)
{
    int64_t t;
    assert_int_equal(cb_time_parse(when, (size_t)-1, &t), 0);
    return t;
}

static void expect_bar(const cb_series_t *r, size_t i, int64_t t, double o, double h, double l,
                       double c, double v)
{
    assert_true(i < r->n);
    assert_int_equal(r->time_ms[i], t);
    assert_true(r->open[i] == o);
    assert_true(r->high[i] == h);
    assert_true(r->low[i] == l);
    assert_true(r->close[i] == c);
    assert_close(r->volume[i], v, 1e-12, 0);
}

static void test_minutes(void **state)
{
    (void)state;
    cb_series_t *s = series("1m"), *r;
    int64_t t0 = at("2024-01-01 00:00");
    /* 00:00-00:04 complete; 00:05-00:09 missing 00:07; 00:10-00:14 absent; 00:15 alone. */
    int mins[] = {0, 1, 2, 3, 4, 5, 6, 8, 9, 15};
    for (size_t k = 0; k < sizeof mins / sizeof mins[0]; k++) {
        double b = 100 + mins[k];
        cb_series_push(s, t0 + mins[k] * 60000, b, b + 2 - (mins[k] == 2) * 0.5,
                       b - 1 - (mins[k] == 3) * 3, b + 0.5, 1.0 + mins[k]);
    }
    size_t incomplete = 99;
    cb_diag_t d;
    assert_int_equal(cb_series_resample(s, "5m", CB_RESAMPLE_SKIP_INCOMPLETE, &r, &incomplete, &d),
                     0);
    assert_int_equal(incomplete, 2);
    assert_int_equal(r->n, 1);
    expect_bar(r, 0, t0, 100, 106, 99, 104.5, 1 + 2 + 3 + 4 + 5);
    assert_string_equal(r->meta.timeframe, "5m");
    assert_string_equal(r->meta.source, "hand, resampled 1m->5m");
    cb_series_free(r);

    assert_int_equal(cb_series_resample(s, "5m", CB_RESAMPLE_KEEP_INCOMPLETE, &r, &incomplete, &d),
                     0);
    assert_int_equal(incomplete, 2);
    assert_int_equal(r->n, 3); /* the empty 00:10 bucket is not invented */
    expect_bar(r, 1, t0 + 300000, 105, 111, 104, 109.5, 6 + 7 + 9 + 10);
    expect_bar(r, 2, t0 + 900000, 115, 117, 114, 115.5, 16);
    cb_series_free(r);

    /* Same timeframe: a copy. */
    assert_int_equal(cb_series_resample(s, "1m", CB_RESAMPLE_SKIP_INCOMPLETE, &r, &incomplete, &d),
                     0);
    assert_int_equal(r->n, s->n);
    assert_int_equal(incomplete, 0);
    cb_series_free(r);

    /* Impossible targets. */
    const char *bad[] = {"90s", "7x", "30s"};
    const char *msg[] = {"90s candles cannot be built from whole 1m candles",
                         "'7x' is not a timeframe (e.g. 5m, 4h, 1d, 1w, 1M)",
                         "30s candles cannot be built from whole 1m candles"};
    for (size_t k = 0; k < 3; k++) {
        r = (cb_series_t *)1;
        assert_int_equal(
            cb_series_resample(s, bad[k], CB_RESAMPLE_SKIP_INCOMPLETE, &r, &incomplete, &d),
            CB_EINVAL);
        assert_null(r);
        assert_string_equal(d.msg, msg[k]);
    }
    s->meta.timeframe[0] = '\0';
    assert_int_equal(cb_series_resample(s, "5m", CB_RESAMPLE_SKIP_INCOMPLETE, &r, NULL, &d),
                     CB_EINVAL);
    assert_string_equal(d.msg, "the series has no timeframe to resample from");
    cb_series_free(s);

    /* 3d candles do not tile Monday weeks. */
    s = series("3d");
    assert_int_equal(cb_series_resample(s, "1w", CB_RESAMPLE_SKIP_INCOMPLETE, &r, NULL, &d),
                     CB_EINVAL);
    cb_series_free(s);
}

static void test_weeks_and_months(void **state)
{
    (void)state;
    cb_series_t *s = series("1d"), *r;
    /* 2024-01-01 is a Monday; 2024 is a leap year. 70 daily candles from 2023-12-30. */
    int64_t t0 = at("2023-12-30");
    for (int i = 0; i < 70; i++)
        cb_series_push(s, t0 + i * CB_MS_PER_DAY, 10 + i, 20 + i, 5 + i, 11 + i, 1);
    size_t inc;
    cb_diag_t d;
    assert_int_equal(cb_series_resample(s, "1w", CB_RESAMPLE_SKIP_INCOMPLETE, &r, &inc, &d), 0);
    /* Sat+Sun of the week of 2023-12-25 and the last partial week are skipped. */
    assert_int_equal(r->n, 9);
    assert_int_equal(inc, 2);
    expect_bar(r, 0, at("2024-01-01"), 12, 28, 7, 19, 7);
    cb_series_free(r);

    assert_int_equal(cb_series_resample(s, "1M", CB_RESAMPLE_KEEP_INCOMPLETE, &r, &inc, &d), 0);
    assert_int_equal(r->n, 4); /* Dec (2 days), Jan, Feb (29 days), Mar (8 days) */
    assert_int_equal(inc, 2);
    expect_bar(r, 1, at("2024-01-01"), 12, 20 + 32, 7, 11 + 32, 31);
    expect_bar(r, 2, at("2024-02-01"), 12 + 31, 20 + 61, 5 + 33, 11 + 61, 29);
    cb_series_free(r);
    assert_int_equal(cb_series_resample(s, "1M", CB_RESAMPLE_SKIP_INCOMPLETE, &r, &inc, &d), 0);
    assert_int_equal(r->n, 2);
    cb_series_free(r);
    cb_series_free(s);
}

/* Reads a shared-data candle CSV (header, then open_time_ms,open,high,low,close,volume). This
 * is a test-only reader so the resampler is checked independently of the data readers. */
static cb_series_t *read_ohlcv(const char *rel, const char *tf)
{
    char path[1024];
    if (!tu_shared_path(rel, path, sizeof path))
        return NULL;
    size_t len;
    char *text = tu_read_file(path, &len);
    assert_non_null(text);
    cb_series_t *s = series(tf);
    char *p = strchr(text, '\n');
    assert_non_null(p);
    p++;
    while (*p) {
        char *end;
        int64_t t = strtoll(p, &end, 10);
        double v[5];
        for (int k = 0; k < 5; k++) {
            assert_int_equal(*end, ',');
            v[k] = strtod(end + 1, &end);
        }
        cb_series_push(s, t, v[0], v[1], v[2], v[3], v[4]);
        while (*end == '\r' || *end == '\n')
            end++;
        p = end;
    }
    free(text);
    return s;
}

/* Every reference candle whose bucket is complete in the 1m data must be reproduced exactly,
 * volume included: the resampler sums the decimals the volumes were read from, so the result
 * is the very double Binance's own decimal reads as (a sum of doubles gave 1529.3543699999996
 * for Binance's 1529.35437, and the two could not be merged). Returns matches. */
static size_t compare(const char *pair, const cb_series_t *m1, const char *tf, size_t *ref_n,
                      size_t *incomplete)
{
    char rel[256];
    const char *span = strcmp(tf, "5m") == 0 ? "2023-03-16_2023-05-01" : "2023-04-01_2023-05-01";
    snprintf(rel, sizeof rel, "ohlcv/binance_spot_%s_%s_%s.csv", pair, tf, span);
    cb_series_t *ref = read_ohlcv(rel, tf);
    assert_non_null(ref);
    cb_series_t *r;
    cb_diag_t d;
    assert_int_equal(cb_series_resample(m1, tf, CB_RESAMPLE_SKIP_INCOMPLETE, &r, incomplete, &d),
                     0);
    size_t matched = 0, uncovered = 0;
    for (size_t i = 0; i < ref->n; i++) {
        size_t j = cb_series_lower_bound(r, ref->time_ms[i]);
        if (j == r->n || r->time_ms[j] != ref->time_ms[i]) {
            uncovered++;
            continue;
        }
        if (r->open[j] != ref->open[i] || r->high[j] != ref->high[i] ||
            r->low[j] != ref->low[i] || r->close[j] != ref->close[i] ||
            r->volume[j] != ref->volume[i]) {
            char t[32];
            fail_msg("%s %s %s: ours o=%.17g h=%.17g l=%.17g c=%.17g v=%.17g, Binance's "
                     "o=%.17g h=%.17g l=%.17g c=%.17g v=%.17g",
                     pair, tf, cb_time_format(ref->time_ms[i], t, sizeof t), r->open[j],
                     r->high[j], r->low[j], r->close[j], r->volume[j], ref->open[i],
                     ref->high[i], ref->low[i], ref->close[i], ref->volume[i]);
        }
        matched++;
    }
    /* Every complete bucket we built inside the reference span is one of Binance's. */
    size_t inside = 0;
    for (size_t j = 0; j < r->n; j++)
        if (r->time_ms[j] >= ref->time_ms[0] && r->time_ms[j] <= ref->time_ms[ref->n - 1])
            inside++;
    assert_int_equal(inside, matched);
    print_message("%s 1m->%s: %zu of Binance's %zu candles reproduced exactly, %zu not covered "
                  "by complete 1m buckets; %zu incomplete buckets skipped\n",
                  pair, tf, matched, ref->n, uncovered, *incomplete);
    *ref_n = ref->n;
    cb_series_free(r);
    cb_series_free(ref);
    return matched;
}

static void test_binance(void **state)
{
    (void)state;
    const char *pairs[] = {"BTCUSDT", "ETHUSDT"};
    for (int p = 0; p < 2; p++) {
        char rel[256];
        snprintf(rel, sizeof rel, "ohlcv/binance_spot_%s_1m_2023-03-16_2023-05-01.csv", pairs[p]);
        cb_series_t *m1 = read_ohlcv(rel, "1m");
        if (!m1) {
            SKIP_NO_SHARED();
        }
        assert_int_equal(m1->n, 66087);
        size_t ref_n, inc;
        /* 5m: the reference has the same 80-minute gap (16 candles missing), so every one of
         * its candles is rebuilt except the last one (its 1m data ends mid-way). */
        size_t m = compare(pairs[p], m1, "5m", &ref_n, &inc);
        assert_int_equal(ref_n, 13217);
        assert_int_equal(m, 13217);
        assert_int_equal(inc, 1); /* 2023-05-01 21:00, two minutes of five */
        /* 15m and 1h: the reference spans 2023-04-01 .. 2023-05-01, fully inside the 1m data
         * and after the gap: all rebuilt. */
        m = compare(pairs[p], m1, "15m", &ref_n, &inc);
        assert_int_equal(m, ref_n);
        assert_int_equal(ref_n, 2879);
        m = compare(pairs[p], m1, "1h", &ref_n, &inc);
        assert_int_equal(m, ref_n);
        assert_int_equal(ref_n, 719);
        cb_series_free(m1);
    }
}

/* Volumes sum as the decimals they were read from: 0.1 + 0.2 is 0.3, not 0.30000000000000004,
 * whatever the mix of scales; a sum past 2^53 units is still rounded once; a volume that is
 * no short decimal (the result of double arithmetic) falls back to a double sum. */
static void test_decimal_volume(void **state)
{
    (void)state;
    cb_series_t *s = series("1m"), *r;
    int64_t t0 = at("2024-01-01 00:00");
    /* Bucket 1 mixes scales (as doubles: 1529.6000000099998); bucket 3 sums 10 x
     * 999.123456789013 = 9.99e15 units of 1e-12, past 2^53 (as doubles: 9991.234567890131). */
    double vols[] = {0.1, 0.2, 1529.3, 0.00000001, 0.00000001, 5e6, 0.1, 7};
    for (int k = 0; k < 8; k++)
        cb_series_push(s, t0 + k * 60000, 1, 1, 1, 1, vols[k]);
    for (int k = 0; k < 12; k++)
        cb_series_push(s, t0 + (10 + k) * 60000, 1, 1, 1, 1, 999.123456789013);
    cb_diag_t d;
    size_t inc;
    assert_int_equal(cb_series_resample(s, "4m", CB_RESAMPLE_SKIP_INCOMPLETE, &r, &inc, &d), 0);
    assert_true(r->volume[0] == 1529.60000001);
    assert_true(r->volume[1] == 5000007.10000001);
    cb_series_free(r);
    assert_int_equal(cb_series_resample(s, "10m", CB_RESAMPLE_SKIP_INCOMPLETE, &r, &inc, &d), 0);
    assert_int_equal(r->n, 1);
    assert_int_equal(r->time_ms[0], t0 + 600000);
    assert_true(r->volume[0] == 9991.23456789013);
    cb_series_free(r);
    /* 0.1 + 0.2 in doubles is not 0.3: as decimals it is. */
    cb_series_t *t = series("1m");
    cb_series_push(t, t0, 1, 1, 1, 1, 0.1);
    cb_series_push(t, t0 + 60000, 1, 1, 1, 1, 0.2);
    assert_int_equal(cb_series_resample(t, "2m", CB_RESAMPLE_SKIP_INCOMPLETE, &r, &inc, &d), 0);
    assert_true(r->volume[0] == 0.3);
    cb_series_free(r);
    /* 0.1 + 0.2 as doubles has no short decimal: summed as doubles, not invented. */
    t->volume[0] = 0.1 + 0.2;
    t->volume[1] = 1;
    assert_int_equal(cb_series_resample(t, "2m", CB_RESAMPLE_SKIP_INCOMPLETE, &r, &inc, &d), 0);
    assert_true(r->volume[0] == (0.1 + 0.2) + 1);
    cb_series_free(r);
    cb_series_free(t);
    cb_series_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minutes),
        cmocka_unit_test(test_weeks_and_months),
        cmocka_unit_test(test_decimal_volume),
        cmocka_unit_test(test_binance),
    };
    return cmocka_run_group_tests_name("data_resample", tests, NULL, NULL);
}
