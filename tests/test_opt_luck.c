/* opt/luck: the random-entry baseline ranks a planted edge at the top, a planted loser at the
 * bottom, and gives the same answer for any number of threads. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "comeback/opt.h"
#include "testutil.h"

/* A market that rises 1% per bar in the first half of every 20-bar cycle and falls 1% in the
 * second half, with a little noise. */
static cb_series_t *cycle_market(size_t n)
{
    cb_series_t *s = cb_series_new(n);
    double p = 100;
    uint64_t x = 7;
    for (size_t i = 0; i < n; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        double noise = ((double)(x >> 40) / 16777216.0 - 0.5) * 0.002;
        double r = ((i % 20) < 10 ? 0.01 : -0.01) + noise;
        double o = p, c = p * (1 + r);
        cb_series_push(s, (int64_t)i * 3600000, o, fmax(o, c) * 1.001, fmin(o, c) * 0.999, c,
                       10);
        p = c;
    }
    snprintf(s->meta.pair, sizeof s->meta.pair, "SYN/USDT");
    return s;
}

/* Enters at the close of bar `phase` of each cycle and exits 9 bars later. */
typedef struct phased {
    size_t phase;
} phased_t;

static int phased_on_bar(void *self, const cb_bar_view_t *bars, const cb_position_view_t *pos,
                         cb_decision_t *out)
{
    phased_t *p = self;
    size_t i = bars->n - 1;
    if (!pos->open && i % 20 == p->phase)
        out->enter = 1;
    if (pos->open && pos->bars_held >= 8)
        out->exit = 1;
    return 0;
}

static const cb_strategy_v1_t phased_vt = {CB_STRATEGY_ABI_VERSION, "phased", NULL, NULL,
                                           phased_on_bar, NULL};

static void run_case(size_t phase, cb_luck_result_t *luck, int jobs)
{
    cb_series_t *s = cycle_market(2000);
    phased_t self = {phase};
    cb_engine_pair_t pair;
    memset(&pair, 0, sizeof pair);
    pair.series = s;
    cb_instrument_default(&pair.instrument, "SYN/USDT");
    pair.strategy = &phased_vt;
    pair.strategy_self = &self;
    cb_engine_config_t cfg;
    cb_engine_config_default(&cfg);
    cb_engine_result_t best;
    cb_diag_t d;
    assert_int_equal(cb_engine_run(&cfg, &pair, 1, &best, &d), 0);
    assert_true(best.n_trades > 50);
    assert_int_equal(cb_luck_baseline(&cfg, &pair, 1, &best, 200, 42, jobs, luck, &d), 0);
    assert_int_equal(luck->runs, 200);
    cb_engine_result_free(&best);
    cb_series_free(s);
}

static void test_edge_and_anti_edge(void **state)
{
    (void)state;
    cb_luck_result_t good, bad, good2;
    run_case(19, &good, 1);  /* buys the bottom of each cycle: a planted edge */
    run_case(9, &bad, 2);    /* buys the top: a planted loser */
    run_case(19, &good2, 2);
    print_message("edge: %.1f%% (return %.1f%%, random median %.1f%%); anti: %.1f%%\n",
                  good.percentile, good.best_return_pct, good.median_return_pct, bad.percentile);
    assert_true(good.percentile >= 99.0);
    assert_true(bad.percentile <= 1.0);
    assert_true(good.best_return_pct > good.p95_return_pct);
    /* Threads do not change the answer. */
    assert_memory_equal(&good, &good2, sizeof good);
}

static void test_too_many_trades(void **state)
{
    (void)state;
    cb_series_t *s = cycle_market(2000);
    phased_t self = {19};
    cb_engine_pair_t pair;
    memset(&pair, 0, sizeof pair);
    pair.series = s;
    cb_instrument_default(&pair.instrument, "SYN/USDT");
    pair.strategy = &phased_vt;
    pair.strategy_self = &self;
    cb_engine_config_t cfg;
    cb_engine_config_default(&cfg);
    cb_engine_result_t best;
    cb_diag_t d;
    assert_int_equal(cb_engine_run(&cfg, &pair, 1, &best, &d), 0);
    cfg.from_ms = 1900 * (int64_t)3600000; /* only 100 bars left for ~100 trades */
    cb_luck_result_t luck;
    assert_int_equal(cb_luck_baseline(&cfg, &pair, 1, &best, 10, 1, 1, &luck, &d), CB_EINVAL);
    assert_non_null(strstr(d.msg, "do not fit"));
    assert_int_equal(cb_luck_baseline(&cfg, &pair, 1, &best, 0, 1, 1, &luck, &d), CB_EINVAL);
    cb_engine_result_free(&best);
    cb_series_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edge_and_anti_edge),
        cmocka_unit_test(test_too_many_trades),
    };
    return cmocka_run_group_tests_name("opt_luck", tests, NULL, NULL);
}
