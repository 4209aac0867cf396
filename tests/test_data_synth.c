/* data/synth.c: the synthetic market is deterministic, well-formed and looks like a market. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/data.h"
#include "testutil.h"

static cb_series_t *gen(size_t bars, uint64_t seed, const char *tf)
{
    cb_synth_opts_t o;
    memset(&o, 0, sizeof o);
    o.bars = bars;
    o.seed = seed;
    o.timeframe = tf;
    cb_series_t *s = NULL;
    cb_diag_t d;
    assert_int_equal(cb_synth_generate(&o, &s, &d), 0);
    assert_non_null(s);
    assert_int_equal(s->n, bars);
    return s;
}

static int same_bytes(const cb_series_t *a, const cb_series_t *b)
{
    return a->n == b->n && !memcmp(a->time_ms, b->time_ms, a->n * 8) &&
           !memcmp(a->open, b->open, a->n * 8) && !memcmp(a->high, b->high, a->n * 8) &&
           !memcmp(a->low, b->low, a->n * 8) && !memcmp(a->close, b->close, a->n * 8) &&
           !memcmp(a->volume, b->volume, a->n * 8);
}

static void test_deterministic(void **state)
{
    (void)state;
    cb_series_t *a = gen(50000, 42, "1m"), *b = gen(50000, 42, "1m"), *c = gen(50000, 43, "1m");
    assert_true(same_bytes(a, b));
    assert_false(same_bytes(a, c));
    /* A shorter run is a prefix of a longer one with the same seed. */
    cb_series_t *p = gen(1000, 42, "1m");
    cb_series_t *q = cb_series_slice(a, 0, 1000);
    assert_true(same_bytes(p, q));
    /* Pinned first candles of seed 42: a change to the generator must be deliberate (the
     * demo, benchmarks and docs quote its output). */
    assert_int_equal(a->time_ms[0], INT64_C(1577836800000));
    assert_int_equal(a->time_ms[1], INT64_C(1577836860000));
    assert_true(a->close[0] == 19988.35);
    assert_true(a->close[1] == 20003.14);
    assert_true(a->close[2] == 20019.05);
    assert_true(a->high[0] == 20000.81 && a->low[0] == 19988.26 && a->volume[0] == 16.59811);
    assert_true(a->open[0] == 20000.0);
    assert_string_equal(a->meta.source, "synth seed=42");
    assert_string_equal(a->meta.exchange, "synth");
    assert_string_equal(a->meta.pair, "SYN/USDT");
    assert_string_equal(a->meta.timeframe, "1m");
    assert_int_equal(a->meta.synthetic, 1);
    cb_series_free(a);
    cb_series_free(b);
    cb_series_free(c);
    cb_series_free(p);
    cb_series_free(q);
}

static void check_invariants(const cb_series_t *s, int64_t step)
{
    for (size_t i = 0; i < s->n; i++) {
        double o = s->open[i], h = s->high[i], l = s->low[i], c = s->close[i];
        if (!(l > 0 && l <= o && l <= c && o <= h && c <= h && s->volume[i] >= 0 &&
              isfinite(h) && isfinite(s->volume[i])))
            fail_msg("bar %zu: o=%.17g h=%.17g l=%.17g c=%.17g v=%.17g", i, o, h, l, c,
                     s->volume[i]);
        if (i && (s->open[i] != s->close[i - 1] ||
                  (step && s->time_ms[i] - s->time_ms[i - 1] != step)))
            fail_msg("bar %zu does not follow bar %zu", i, i - 1);
        /* Prices on the 0.01 tick: the shortest decimal has at most 2 decimals. */
        double cents = c * 100.0;
        if (fabs(cents - floor(cents + 0.5)) > 1e-6)
            fail_msg("bar %zu: close %.17g is not on the 0.01 tick", i, c);
    }
}

static void test_invariants(void **state)
{
    (void)state;
    cb_series_t *s = gen(200000, 7, "1m");
    check_invariants(s, 60000);
    cb_series_free(s);
    const char *tfs[] = {"1s", "5m", "1h", "4h", "1d", "1w"};
    for (size_t k = 0; k < sizeof tfs / sizeof tfs[0]; k++) {
        s = gen(5000, 11, tfs[k]);
        cb_timeframe_t tf;
        cb_timeframe_parse(tfs[k], &tf);
        check_invariants(s, tf.ms);
        assert_true(cb_timeframe_on_grid(&tf, s->time_ms[0]));
        cb_series_free(s);
    }
    /* Months follow the calendar. */
    s = gen(24, 3, "1M");
    check_invariants(s, 0);
    cb_timeframe_t m;
    cb_timeframe_parse("1M", &m);
    for (size_t i = 1; i < s->n; i++)
        assert_int_equal(s->time_ms[i], cb_timeframe_next(&m, s->time_ms[i - 1]));
    cb_series_free(s);

    /* Options: start time floored to the grid, pair, start price, bad timeframe. */
    cb_synth_opts_t o;
    memset(&o, 0, sizeof o);
    o.bars = 10;
    o.timeframe = "1h";
    o.start_ms = INT64_C(1700000000123);
    o.pair = "ABC/EUR";
    o.start_price = 0.5;
    cb_diag_t d;
    assert_int_equal(cb_synth_generate(&o, &s, &d), 0);
    assert_int_equal(s->time_ms[0], INT64_C(1699999200000));
    assert_string_equal(s->meta.pair, "ABC/EUR");
    assert_true(s->open[0] == 0.5);
    cb_series_free(s);
    o.timeframe = "7x";
    assert_int_equal(cb_synth_generate(&o, &s, &d), CB_EINVAL);
    assert_null(s);
    assert_string_equal(d.msg, "'7x' is not a timeframe (e.g. 1m, 1h, 1d)");
}

static double corr(const double *x, const double *y, size_t n)
{
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; i++)
        mx += x[i], my += y[i];
    mx /= (double)n, my /= (double)n;
    double sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return sxy / sqrt(sxx * syy);
}

static void test_stats(void **state)
{
    (void)state;
    size_t n = 300000;
    cb_series_t *s = gen(n, 42, "1m");
    double *r = malloc(n * sizeof *r), *ar = malloc(n * sizeof *ar);
    double *lr = malloc(n * sizeof *lr);
    assert_non_null(r);
    double m2 = 0, m4 = 0;
    size_t k = 0;
    for (size_t i = 1; i < n; i++, k++) {
        r[k] = log(s->close[i] / s->close[i - 1]);
        ar[k] = fabs(r[k]);
        lr[k] = log(s->volume[i]);
        m2 += r[k] * r[k];
        m4 += r[k] * r[k] * r[k] * r[k];
    }
    m2 /= (double)k;
    m4 /= (double)k;
    double ann_vol = sqrt(m2 * 525960.0);
    double kurt = m4 / (m2 * m2);
    double clustering = corr(ar, ar + 1, k - 1); /* |r| autocorrelation at lag 1 */
    double ret_corr = corr(r, r + 1, k - 1);     /* returns themselves: about none */
    double vol_corr = corr(ar, lr, k);           /* volume grows with the move */
    print_message("annualised vol %.3f, kurtosis %.2f, |r| acf(1) %.3f, r acf(1) %.4f, "
                  "corr(|r|, log v) %.3f\n",
                  ann_vol, kurt, clustering, ret_corr, vol_corr);
    assert_true(ann_vol > 0.3 && ann_vol < 1.2);
    assert_true(kurt > 4.0); /* fat tails from clustering and jumps */
    assert_true(clustering > 0.05);
    assert_true(fabs(ret_corr) < 0.02);
    assert_true(vol_corr > 0.3);
    /* Ranges are realistic: high-low wider than |close-open| on average, but not wildly. */
    double range = 0, body = 0;
    for (size_t i = 0; i < n; i++) {
        range += s->high[i] - s->low[i];
        body += fabs(s->close[i] - s->open[i]);
    }
    print_message("mean range / mean body = %.2f\n", range / body);
    assert_true(range / body > 1.3 && range / body < 4.0);
    /* Price stays in a plausible band. */
    for (size_t i = 0; i < n; i++)
        assert_true(s->close[i] > 2000 && s->close[i] < 200000);
    free(r);
    free(ar);
    free(lr);
    cb_series_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_invariants),
        cmocka_unit_test(test_stats),
    };
    return cmocka_run_group_tests_name("data_synth", tests, NULL, NULL);
}
