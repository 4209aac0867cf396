/* rules/cache: indicator columns shared between runs give bit-identical signals to computing
 * them alone (for every kind of indicator input), are computed once per distinct indicator,
 * stay within their budget, and are safe to share between threads. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/data.h"
#include "comeback/rules.h"
#include "testutil.h"

static cb_series_t *market(size_t n)
{
    cb_synth_opts_t so = {n, "1h", 7, 0, 0, NULL};
    cb_series_t *s = NULL;
    cb_diag_t d;
    assert_int_equal(cb_synth_generate(&so, &s, &d), 0);
    return s;
}

static cb_bar_view_t view(const cb_series_t *s)
{
    cb_bar_view_t v = {s->n, s->time_ms, s->open, s->high, s->low, s->close, s->volume};
    return v;
}

static cb_rules_program_t *program(const char *rules, cb_rules_file_t **f)
{
    char text[2048];
    snprintf(text, sizeof text, "[strategy]\ntimeframe = 1h\n%s[params]\nfast = 5\n", rules);
    cb_diags_t diags = {0};
    int rc = cb_rules_file_parse("t.ini", text, strlen(text), NULL, f, &diags);
    if (rc && diags.n)
        print_error("%s\n", diags.items[0].msg);
    assert_int_equal(rc, 0);
    cb_diags_free(&diags);
    cb_rules_program_t *p = NULL;
    assert_int_equal(cb_rules_compile(*f, NULL, &p, NULL), 0);
    return p;
}

/* Signals with and without the cache must agree bar for bar. */
static void same_signals(const cb_rules_program_t *p, const cb_bar_view_t *v,
                         cb_rules_cache_t *cache)
{
    size_t n = v->n;
    uint8_t *e1 = malloc(n), *x1 = malloc(n), *e2 = malloc(n), *x2 = malloc(n);
    cb_diag_t d;
    assert_int_equal(cb_rules_program_signals(p, v, 0, e1, x1, &d), 0);
    assert_int_equal(cb_rules_program_signals_shared(p, v, 0, cache, e2, x2, &d), 0);
    size_t signals = 0;
    for (size_t i = 0; i < n; i++) {
        if (e1[i] != e2[i] || x1[i] != x2[i])
            print_error("bar %zu: alone %d/%d shared %d/%d\n", i, e1[i], x1[i], e2[i], x2[i]);
        assert_int_equal(e1[i], e2[i]);
        assert_int_equal(x1[i], x2[i]);
        signals += e1[i] + x1[i];
    }
    assert_true(signals > 10);
    free(e1);
    free(x1);
    free(e2);
    free(x2);
}

static const char *const rules[] = {
    /* two series-input indicators and one shared with the exit */
    "entry = crossover(ema(close, fast), ema(close, 26)) and rsi(close, 14) < 70\n"
    "exit = crossunder(ema(close, fast), ema(close, 26))\n",
    /* several outputs, fixed columns (atr, stoch), derived series (hl2), nesting */
    "entry = macd(close, 12, 26, 9).macd > macd(close, 12, 26, 9).signal and "
    "close > bbands(hl2, 20, 2).middle and stoch(14, 3, 3).k < 80 and atr(14) > 0\n"
    "exit = ema(rsi(close, 14), 5) > 60 or close < bbands(hl2, 20, 2).lower\n",
    /* an indicator of an expression is computed by the run itself, next to shared ones */
    "entry = crossover(ema(close - open, 3), 0) and sma(ohlc4, 10) > sma(hlc3, 30)\n"
    "exit = crossunder(ema(close - open, 3), 0)\n",
    /* a higher timeframe: evaluated without the cache, the same signals */
    "entry = crossover(close, ema(close@4h, 10))\nexit = crossunder(close, ema(close@4h, 10))\n",
};

static void test_shared_signals_are_identical(void **state)
{
    (void)state;
    cb_series_t *s = market(20000);
    cb_bar_view_t v = view(s);
    cb_rules_cache_t *cache = NULL;
    assert_int_equal(cb_rules_cache_new((size_t)1 << 30, &cache), 0);
    for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++) {
        cb_rules_file_t *f = NULL;
        cb_rules_program_t *p = program(rules[r], &f);
        cb_rules_cache_stats_t a, b;
        cb_rules_cache_stats(cache, &a);
        same_signals(p, &v, cache);
        cb_rules_cache_stats(cache, &b);
        /* the second run computes nothing */
        same_signals(p, &v, cache);
        cb_rules_cache_stats_t c2;
        cb_rules_cache_stats(cache, &c2);
        print_message("rules %zu: %zu columns computed, %zu reused\n", r, b.misses - a.misses,
                      c2.hits - b.hits);
        assert_int_equal(c2.misses, b.misses);
        if (r < 3)
            assert_true(c2.hits > b.hits);
        cb_rules_program_free(p);
        cb_rules_file_free(f);
    }
    cb_rules_cache_stats_t st;
    cb_rules_cache_stats(cache, &st);
    /* rules 0: ema fast, ema 26, rsi; 1: macd, bbands, stoch, atr, rsi (reused), ema(rsi);
     * 2: two sma (ema of an expression is not shared); 3: none */
    assert_int_equal(st.misses, 3 + 5 + 2);
    assert_int_equal(st.entries, st.misses);
    assert_int_equal(st.evictions, 0);
    assert_true(st.bytes > 0 && st.bytes == st.peak_bytes);
    cb_rules_cache_free(cache);
    cb_series_free(s);
}

/* The cache remembers a history whose times were found increasing (each run of a sweep
 * skips the check), never one whose times were not: a bad history fails on every run. */
static void test_times_checked_once(void **state)
{
    (void)state;
    cb_series_t *s = market(3000);
    cb_rules_cache_t *cache = NULL;
    assert_int_equal(cb_rules_cache_new((size_t)1 << 30, &cache), 0);
    cb_rules_file_t *f = NULL;
    cb_rules_program_t *p = program(rules[0], &f);
    uint8_t *e = malloc(s->n), *x = malloc(s->n);
    cb_diag_t d;
    /* a copy whose bar 1234 goes back in time */
    int64_t *bad = malloc(s->n * sizeof *bad);
    memcpy(bad, s->time_ms, s->n * sizeof *bad);
    bad[1234] = bad[1232];
    cb_bar_view_t vb = view(s);
    vb.time_ms = bad;
    for (int k = 0; k < 3; k++) {
        assert_int_equal(cb_rules_program_signals_shared(p, &vb, 0, cache, e, x, &d),
                         CB_EINVAL);
        assert_string_equal(d.msg, "bar 1234: times must increase");
    }
    /* the good history: checked, then remembered, with the same signals every time */
    cb_bar_view_t v = view(s);
    for (int k = 0; k < 3; k++)
        same_signals(p, &v, cache);
    /* a shorter view of the same arrays is another history, checked on its own */
    vb.n = 1000;
    assert_int_equal(cb_rules_program_signals_shared(p, &vb, 0, cache, e, x, &d), 0);
    vb.n = 1235;
    assert_int_equal(cb_rules_program_signals_shared(p, &vb, 0, cache, e, x, &d), CB_EINVAL);
    free(bad);
    free(e);
    free(x);
    cb_rules_program_free(p);
    cb_rules_file_free(f);
    cb_rules_cache_free(cache);
    cb_series_free(s);
}

/* Options are compared by their exact bits, inputs by their expression. */
static void test_keys_tell_indicators_apart(void **state)
{
    (void)state;
    cb_series_t *s = market(3000);
    cb_bar_view_t v = view(s);
    cb_rules_cache_t *cache = NULL;
    assert_int_equal(cb_rules_cache_new((size_t)1 << 30, &cache), 0);
    cb_rules_file_t *f = NULL;
    cb_rules_program_t *p = program(
        "entry = bbands(close, 20, 2).upper > bbands(close, 20, 2.0000001).upper and "
        "ema(close, 10) > ema(open, 10) and ema(hl2, 10) > 0\n"
        "exit = close < bbands(close, 20, 2).lower\n", &f);
    uint8_t *e = malloc(s->n), *x = malloc(s->n);
    cb_diag_t d;
    assert_int_equal(cb_rules_program_signals_shared(p, &v, 0, cache, e, x, &d), 0);
    cb_rules_cache_stats_t st;
    cb_rules_cache_stats(cache, &st);
    assert_int_equal(st.misses, 5);
    assert_int_equal(st.hits, 0);
    free(e);
    free(x);
    cb_rules_program_free(p);
    cb_rules_file_free(f);
    cb_rules_cache_free(cache);
    cb_series_free(s);
}

/* A budget of 0 keeps nothing once a run is over; a small one evicts the least recently used
 * columns. The signals do not change. */
static void test_budget(void **state)
{
    (void)state;
    cb_series_t *s = market(5000);
    cb_bar_view_t v = view(s);
    size_t col = s->n * sizeof(double);
    size_t budgets[] = {0, 3 * col};
    for (size_t k = 0; k < 2; k++) {
        cb_rules_cache_t *cache = NULL;
        assert_int_equal(cb_rules_cache_new(budgets[k], &cache), 0);
        for (size_t r = 0; r < 3; r++) {
            cb_rules_file_t *f = NULL;
            cb_rules_program_t *p = program(rules[r], &f);
            same_signals(p, &v, cache);
            cb_rules_program_free(p);
            cb_rules_file_free(f);
        }
        cb_rules_cache_stats_t st;
        cb_rules_cache_stats(cache, &st);
        print_message("budget %zu columns: %zu held, %zu evicted, peak %zu bytes\n",
                      budgets[k] / col, st.entries, st.evictions, st.peak_bytes);
        assert_true(st.bytes <= budgets[k]);
        assert_true(st.evictions > 0);
        if (k == 0)
            assert_int_equal(st.entries, 0);
        cb_rules_cache_free(cache);
    }
    cb_series_free(s);
}

typedef struct job {
    const cb_bar_view_t *v;
    cb_rules_cache_t *cache;
    int id;
} job_t;

static void *worker(void *arg)
{
    job_t *j = arg;
    for (int fast = 2; fast < 12; fast++) {
        char text[512];
        /* every thread needs the same columns, in a different order */
        int f2 = 2 + (fast - 2 + j->id * 3) % 10;
        snprintf(text, sizeof text,
                 "entry = crossover(ema(close, %d), ema(close, 20)) and rsi(close, 14) < 70\n"
                 "exit = crossunder(ema(close, %d), ema(close, 20))\n",
                 f2, f2);
        cb_rules_file_t *f = NULL;
        cb_rules_program_t *p = program(text, &f);
        same_signals(p, j->v, j->cache);
        cb_rules_program_free(p);
        cb_rules_file_free(f);
    }
    return NULL;
}

static void test_threads_share_one_cache(void **state)
{
    (void)state;
    cb_series_t *s = market(8000);
    cb_bar_view_t v = view(s);
    cb_rules_cache_t *cache = NULL;
    assert_int_equal(cb_rules_cache_new((size_t)1 << 30, &cache), 0);
    pthread_t th[4];
    job_t jobs[4];
    for (int k = 0; k < 4; k++) {
        jobs[k] = (job_t){&v, cache, k};
        assert_int_equal(pthread_create(&th[k], NULL, worker, &jobs[k]), 0);
    }
    for (int k = 0; k < 4; k++)
        pthread_join(th[k], NULL);
    cb_rules_cache_stats_t st;
    cb_rules_cache_stats(cache, &st);
    /* ema 2..11, ema 20 and rsi 14: each computed once by whichever thread came first */
    assert_int_equal(st.misses, 12);
    assert_int_equal(st.hits, 4 * 10 * 3 - 12);
    cb_rules_cache_free(cache);
    cb_series_free(s);
}

/* The replaying instance decides as a bar-by-bar instance does, also when the engine passes
 * other arrays than the history its signals were computed on (it falls back). */
static void test_replay_instance(void **state)
{
    (void)state;
    cb_series_t *s = market(4000);
    cb_bar_view_t v = view(s);
    cb_rules_cache_t *cache = NULL;
    assert_int_equal(cb_rules_cache_new((size_t)1 << 30, &cache), 0);
    cb_rules_file_t *f = NULL;
    char text[512];
    snprintf(text, sizeof text, "[strategy]\ntimeframe = 1h\n%s[params]\nfast = 5\n", rules[0]);
    assert_int_equal(cb_rules_file_parse("t.ini", text, strlen(text), NULL, &f, NULL), 0);
    cb_rules_strategy_t *strat = NULL;
    assert_int_equal(cb_rules_strategy_new(f, NULL, &strat, NULL), 0);
    /* a copy of the times: same bars, other arrays */
    int64_t *t2 = malloc(s->n * sizeof *t2);
    memcpy(t2, s->time_ms, s->n * sizeof *t2);
    cb_bar_view_t other = v;
    other.time_ms = t2;
    for (int pass = 0; pass < 2; pass++) {
        const cb_strategy_v1_t *vt1, *vt2;
        void *plain, *shared;
        cb_diag_t d;
        assert_int_equal(cb_rules_strategy_instance(strat, 0, &vt1, &plain, &d), 0);
        assert_int_equal(
            cb_rules_strategy_instance_shared(strat, 0, cache, &v, &vt2, &shared, &d), 0);
        assert_int_equal(vt1->warmup(plain), vt2->warmup(shared));
        cb_bar_view_t bv = pass ? other : v;
        cb_position_view_t pos = {0};
        size_t decisions = 0;
        /* start late, as an engine may: the instances catch up */
        for (size_t i = 100; i < s->n; i++) {
            bv.n = i + 1;
            cb_decision_t a, b;
            assert_int_equal(vt1->on_bar(plain, &bv, &pos, &a), 0);
            assert_int_equal(vt2->on_bar(shared, &bv, &pos, &b), 0);
            assert_int_equal(a.enter, b.enter);
            assert_int_equal(a.exit, b.exit);
            decisions += (size_t)(a.enter + a.exit);
        }
        assert_true(decisions > 10);
        cb_decision_t dd;
        assert_int_equal(vt2->on_bar(shared, &bv, &pos, &dd), CB_ESTATE);
        vt1->destroy(plain);
        vt2->destroy(shared);
    }
    free(t2);
    cb_rules_strategy_free(strat);
    cb_rules_file_free(f);
    cb_rules_cache_free(cache);
    cb_series_free(s);
}

/* Rules that read position state or a higher timeframe are evaluated bar by bar, their
 * base-timeframe indicators read from the shared columns: the same decisions. */
static void test_bound_instance(void **state)
{
    (void)state;
    cb_series_t *s = market(6000);
    cb_bar_view_t v = view(s);
    cb_rules_cache_t *cache = NULL;
    assert_int_equal(cb_rules_cache_new((size_t)1 << 30, &cache), 0);
    static const char *const texts[] = {
        "entry = crossover(ema(close, fast), ema(close, 26)) and rsi(close, 14) < 70\n"
        "exit = bars_held > 20 or profit_pct < -2% or crossunder(ema(close, fast), "
        "ema(close, 26))\n",
        "entry = crossover(close, ema(close@4h, 10)) and rsi(close, 14) < 60\n"
        "exit = crossunder(close, ema(close@4h, 10)) or atr(14) > close * 0.02\n",
    };
    for (size_t t = 0; t < 2; t++) {
        cb_rules_file_t *f = NULL;
        char text[1024];
        snprintf(text, sizeof text, "[strategy]\ntimeframe = 1h\n%s[params]\nfast = 5\n",
                 texts[t]);
        assert_int_equal(cb_rules_file_parse("t.ini", text, strlen(text), NULL, &f, NULL), 0);
        cb_rules_strategy_t *strat = NULL;
        assert_int_equal(cb_rules_strategy_new(f, NULL, &strat, NULL), 0);
        for (int round = 0; round < 2; round++) { /* the second reads columns from the cache */
            const cb_strategy_v1_t *vt1, *vt2;
            void *plain, *shared;
            cb_diag_t d;
            assert_int_equal(cb_rules_strategy_instance(strat, 0, &vt1, &plain, &d), 0);
            assert_int_equal(
                cb_rules_strategy_instance_shared(strat, 0, cache, &v, &vt2, &shared, &d), 0);
            cb_position_view_t pos = {0};
            size_t decisions = 0;
            cb_bar_view_t bv = v;
            for (size_t i = 0; i < s->n; i++) {
                bv.n = i + 1;
                cb_decision_t a, b;
                assert_int_equal(vt1->on_bar(plain, &bv, &pos, &a), 0);
                assert_int_equal(vt2->on_bar(shared, &bv, &pos, &b), 0);
                assert_int_equal(a.enter, b.enter);
                assert_int_equal(a.exit, b.exit);
                decisions += (size_t)(a.enter + a.exit);
                /* a crude position: enter and exit at the close */
                if (pos.open) {
                    pos.bars_held++;
                    pos.profit_pct = s->close[i] / pos.entry_price - 1;
                    if (a.exit)
                        memset(&pos, 0, sizeof pos);
                } else if (a.enter) {
                    pos.open = 1;
                    pos.entry_price = s->close[i];
                }
            }
            assert_true(decisions > 10);
            vt1->destroy(plain);
            vt2->destroy(shared);
        }
        cb_rules_strategy_free(strat);
        cb_rules_file_free(f);
    }
    cb_rules_cache_stats_t st;
    cb_rules_cache_stats(cache, &st);
    /* ema fast, ema 26, rsi 14 (shared by both), atr 14; ema(close@4h) is not shared */
    assert_int_equal(st.misses, 4);
    assert_true(st.hits >= 5);
    cb_rules_cache_free(cache);
    cb_series_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_signals_are_identical),
        cmocka_unit_test(test_keys_tell_indicators_apart),
        cmocka_unit_test(test_times_checked_once),
        cmocka_unit_test(test_budget),
        cmocka_unit_test(test_threads_share_one_cache),
        cmocka_unit_test(test_replay_instance),
        cmocka_unit_test(test_bound_instance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
