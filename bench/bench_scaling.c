/* Scaling curves: how the cost of a backtest and of a sweep grows with the work.
 *
 *   backtest_bars   one pair, 10 thousand to 10 million bars
 *   backtest_pairs  1 to 50 pairs of 100,000 bars each, aligned in time, one account
 *   optimize_combos 10 to 10,000 combinations over 10,000 bars, all cores
 *   optimize_jobs   500 combinations over 10,000 bars with --jobs 1, 2, ... cores, 2 x cores
 *
 * Every run is bench/ema_cross_rsi.ini (the rules language, as `comeback backtest` runs it) on
 * data from cb_synth_generate (1h bars, seed 42; pair k of the pairs curve has seed 42 + k).
 * A backtest run is what cb_backtest_run does (compile the rules, one strategy instance per
 * pair, cb_engine_run with the session's configuration), called on our own series so that the
 * sizes can go beyond a session's 32 pairs. An optimize run is cb_optimize with PBO and the
 * deflated Sharpe ratio (the luck baseline off, as `--luck-runs 0`): a seeded random sample of
 * the fast 5..54 x slow 26..424 step 2 grid (10,000 points), so that every size draws its
 * combinations from the same population. Each point is the median of 3 timed runs after a
 * warm-up (1 run for the two largest sweeps), CLOCK_MONOTONIC; scripts/bench fits and charts
 * them. BENCH_QUICK: tiny sizes. Arguments name the curves to run (default: all). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchutil.h"
#include "comeback/opt.h"

#define MAX_PAIRS 50
/* A candle in memory: time_ms and five doubles (the chart marks where the data outgrows the
 * caches). */
#define BAR_BYTES (sizeof(int64_t) + 5 * sizeof(double))

typedef struct bt_job {
    const bench_session_t *ses;
    const cb_engine_config_t *cfg;
    const cb_series_t *const *series;
    size_t n_pairs;
    size_t trades;
} bt_job_t;

static void die(const char *what, const cb_diag_t *d)
{
    fprintf(stderr, "bench_scaling: %s: %s\n", what, d ? d->msg : "failed");
    exit(1);
}

/* One backtest of the session's strategy over job->series: cb_backtest_run's steps. */
static void run_backtest(void *arg)
{
    bt_job_t *j = arg;
    const cb_backtest_t *bt = &j->ses->bt;
    cb_rules_strategy_t *strat = NULL;
    if (cb_rules_strategy_new(bt->file, NULL, &strat, NULL) != 0)
        die("compile", NULL);
    cb_engine_pair_t pairs[MAX_PAIRS];
    memset(pairs, 0, sizeof pairs);
    cb_diag_t d;
    for (size_t k = 0; k < j->n_pairs; k++) {
        pairs[k].series = j->series[k];
        pairs[k].instrument = bt->instruments[0];
        snprintf(pairs[k].instrument.pair, sizeof pairs[k].instrument.pair, "%s",
                 j->series[k]->meta.pair);
        snprintf(pairs[k].instrument.base, sizeof pairs[k].instrument.base, "P%02zu", k);
        if (cb_rules_strategy_instance(strat, bt->tf_ms[0], &pairs[k].strategy,
                                       &pairs[k].strategy_self, &d) != 0)
            die("instance", &d);
    }
    cb_engine_result_t r;
    if (cb_engine_run(j->cfg, pairs, j->n_pairs, &r, &d) != 0)
        die("engine", &d);
    j->trades = r.n_trades;
    cb_engine_result_free(&r);
    for (size_t k = 0; k < j->n_pairs; k++)
        if (pairs[k].strategy->destroy)
            pairs[k].strategy->destroy(pairs[k].strategy_self);
    cb_rules_strategy_free(strat);
}

static void curve_bars(const bench_session_t *ses, int quick)
{
    static const size_t full[] = {10000,  20000,   50000,   100000,  200000,
                                  500000, 1000000, 2000000, 5000000, 10000000};
    static const size_t tiny[] = {10000, 20000, 50000};
    const size_t *xs = quick ? tiny : full;
    size_t nx = quick ? sizeof tiny / sizeof tiny[0] : sizeof full / sizeof full[0];
    size_t most = xs[nx - 1];
    printf("CURVEINFO backtest_bars x=bars y=seconds bytes=%zu one pair, %zu to %zu synthetic "
           "1h bars (seed 42), bench/ema_cross_rsi.ini through the engine\n",
           BAR_BYTES, xs[0], most);
    cb_series_t *all = bench_synth(most, 42, "SYN/USDT");
    for (size_t i = 0; i < nx; i++) {
        cb_series_t *s = xs[i] == most ? all : cb_series_slice(all, 0, xs[i]);
        if (!s)
            die("out of memory", NULL);
        const cb_series_t *one[1] = {s};
        bt_job_t j = {ses, &ses->bt.cfg, one, 1, 0};
        int runs = quick ? 1 : 3;
        bench_stats_t st = bench_time(run_backtest, &j, 1, runs);
        printf("# %zu bars: %.4f s, %.2f M bars/s, %zu trades\n", xs[i], st.median,
               (double)xs[i] / st.median / 1e6, j.trades);
        bench_curve("backtest_bars", (double)xs[i], st, runs);
        if (s != all)
            cb_series_free(s);
    }
    cb_series_free(all);
}

static void curve_pairs(const bench_session_t *ses, int quick)
{
    static const size_t full[] = {1, 2, 5, 10, 20, 50};
    static const size_t tiny[] = {1, 2, 5};
    const size_t *xs = quick ? tiny : full;
    size_t nx = quick ? sizeof tiny / sizeof tiny[0] : sizeof full / sizeof full[0];
    size_t bars = quick ? 5000 : 100000, most = xs[nx - 1];
    printf("CURVEINFO backtest_pairs x=pairs y=seconds bytes=%zu 1 to %zu pairs of %zu "
           "synthetic 1h bars each (seeds 42, 43, ...), aligned in time, one account\n",
           bars * BAR_BYTES, most, bars);
    cb_series_t *series[MAX_PAIRS];
    for (size_t k = 0; k < most; k++) {
        char pair[32];
        snprintf(pair, sizeof pair, "P%02zu/USDT", k);
        series[k] = bench_synth(bars, 42 + k, pair);
    }
    for (size_t i = 0; i < nx; i++) {
        bt_job_t j = {ses, &ses->bt.cfg, (const cb_series_t *const *)series, xs[i], 0};
        int runs = quick ? 1 : 3;
        bench_stats_t st = bench_time(run_backtest, &j, 1, runs);
        printf("# %zu pairs x %zu bars: %.4f s, %.2f M bars/s, %zu trades\n", xs[i], bars,
               st.median, (double)(xs[i] * bars) / st.median / 1e6, j.trades);
        bench_curve("backtest_pairs", (double)xs[i], st, runs);
    }
    for (size_t k = 0; k < most; k++)
        cb_series_free(series[k]);
}

typedef struct opt_job {
    const bench_session_t *ses;
    cb_opt_config_t cfg;
    double last_progress;  /* when the last combination finished */
    double stats[64];      /* per timed run: seconds after the last combination (ranking,
                            * PBO, deflated Sharpe) */
    int n_stats;
} opt_job_t;

static void on_progress(void *ctx, size_t done, size_t total)
{
    (void)done;
    (void)total;
    ((opt_job_t *)ctx)->last_progress = bench_now();
}

static void run_optimize(void *arg)
{
    opt_job_t *j = arg;
    cb_opt_report_t rep;
    cb_diag_t d;
    j->last_progress = bench_now();
    if (cb_optimize(&j->ses->bt, &j->cfg, &rep, &d) != 0)
        die("optimize", &d);
    if (j->n_stats < 64)
        j->stats[j->n_stats++] = bench_now() - j->last_progress;
    cb_opt_report_free(&rep);
}

/* Median of the statistics part of the timed runs (the last `runs` entries). */
static double stats_median(opt_job_t *j, int runs)
{
    double median, min, max;
    bench_summarise(j->stats + (j->n_stats - runs), runs, &median, &min, &max);
    return median;
}

/* The 10,000-point grid every sweep size samples from. */
static void opt_setup(opt_job_t *j, const bench_session_t *ses, size_t samples, int jobs)
{
    memset(j, 0, sizeof *j);
    j->ses = ses;
    cb_param_space_add(&j->cfg.space, "fast", 5, 54, 1, NULL);
    cb_param_space_add(&j->cfg.space, "slow", 26, 424, 2, NULL);
    j->cfg.random = 1;
    j->cfg.samples = samples;
    j->cfg.seed = 1;
    j->cfg.luck_runs = SIZE_MAX;
    j->cfg.jobs = jobs;
    j->cfg.progress = on_progress;
    j->cfg.progress_ctx = j;
}

static void curve_combos(const bench_session_t *ses, size_t bars, int quick)
{
    static const size_t full[] = {10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000};
    static const size_t tiny[] = {10, 20, 50};
    const size_t *xs = quick ? tiny : full;
    size_t nx = quick ? sizeof tiny / sizeof tiny[0] : sizeof full / sizeof full[0];
    printf("CURVEINFO optimize_combos x=combinations y=seconds %zu to %zu combinations (seeded "
           "sample of fast 5..54 x slow 26..424 step 2) over %zu synthetic 1h bars, %d cores, "
           "PBO and DSR included, no luck baseline\n",
           xs[0], xs[nx - 1], bars, cb_opt_cores());
    opt_job_t j;
    opt_setup(&j, ses, xs[0], 0);
    run_optimize(&j); /* warm-up: threads, page faults, caches */
    for (size_t i = 0; i < nx; i++) {
        opt_setup(&j, ses, xs[i], 0);
        int runs = quick || xs[i] > 1000 ? 1 : 3;
        bench_stats_t st = bench_time(run_optimize, &j, 0, runs);
        double stats = stats_median(&j, runs);
        printf("# %zu combinations x %zu bars: %.3f s (of which ranking, PBO, DSR %.3f s), "
               "%.2f M combination-bars/s\n",
               xs[i], bars, st.median, stats, (double)xs[i] * (double)bars / st.median / 1e6);
        bench_curve("optimize_combos", (double)xs[i], st, runs);
        printf("CURVEPART optimize_combos %zu statistics %.6g\n", xs[i], stats);
    }
}

static void curve_jobs(const bench_session_t *ses, size_t bars, int quick)
{
    int cores = cb_opt_cores(), xs[8], nx = 0;
    for (int k = 1; k <= cores && nx < 6; k++)
        xs[nx++] = k;
    xs[nx++] = 2 * cores; /* oversubscribed: shows that more threads than cores buy nothing */
    size_t combos = quick ? 20 : 500;
    printf("CURVEINFO optimize_jobs x=jobs y=seconds %zu combinations over %zu synthetic 1h bars "
           "with --jobs 1 to %d on %d cores\n",
           combos, bars, xs[nx - 1], cores);
    opt_job_t j;
    for (int i = 0; i < nx; i++) {
        opt_setup(&j, ses, combos, xs[i]);
        int runs = quick ? 1 : 3;
        bench_stats_t st = bench_time(run_optimize, &j, 1, runs);
        printf("# --jobs %d: %.3f s\n", xs[i], st.median);
        bench_curve("optimize_jobs", (double)xs[i], st, runs);
    }
}

static int wanted(int argc, char **argv, const char *name)
{
    if (argc < 2)
        return 1;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    int quick = bench_quick();
    size_t opt_bars = quick ? 2000 : 10000;
    bench_session_t ses;
    bench_session_open(&ses, opt_bars);
    if (wanted(argc, argv, "backtest_bars"))
        curve_bars(&ses, quick);
    if (wanted(argc, argv, "backtest_pairs"))
        curve_pairs(&ses, quick);
    if (wanted(argc, argv, "optimize_combos"))
        curve_combos(&ses, opt_bars, quick);
    if (wanted(argc, argv, "optimize_jobs"))
        curve_jobs(&ses, opt_bars, quick);
    bench_report("scaling.peak_rss", bench_peak_rss_mib(), "MiB", 0, 0, NULL, 0);
    bench_session_close(&ses);
    return 0;
}
