/* Optimizer throughput, the headline sweep of issue 8: the 1,000-combination grid of
 * bench/ema_cross_rsi.ini's [params] (fast 5..24 x slow 26..124 step 2) over 1,000,000
 * synthetic 1h bars (seed 42) on all cores, as `comeback optimize bench/ema_cross_rsi.ini
 * --luck-runs 0` runs it: indicators shared between combinations (the default), PBO and the
 * deflated Sharpe ratio included, no luck baseline. Measured once (it is long), as seconds and
 * combinations x bars per second, next to one single-threaded backtest of the same strategy
 * (the reference: the ratio is the sweep's throughput over one core's backtest; above the
 * number of cores means sharing saves more than the threads add). BENCH_QUICK: a seeded sample
 * of 10 combinations over 20,000 bars. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchutil.h"
#include "comeback/opt.h"

static void run_one(void *arg)
{
    bench_session_t *ses = arg;
    cb_engine_result_t res;
    cb_diag_t d;
    if (cb_backtest_run(&ses->bt, NULL, NULL, &res, NULL, &d) != 0) {
        fprintf(stderr, "bench_optimize: %s\n", d.msg);
        exit(1);
    }
    cb_engine_result_free(&res);
}

int main(void)
{
    int quick = bench_quick();
    size_t bars = quick ? 20000 : 1000000, samples = 10;
    bench_session_t ses;
    bench_session_open(&ses, bars);
    cb_diag_t d;

    /* The reference: one backtest with the file's values on one core (median of 3). */
    double one = bench_time(run_one, &ses, 1, 3).median;

    /* The file's ranges, as `comeback optimize` takes them. */
    cb_opt_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    for (size_t k = 0; k < cb_rules_file_n_params(ses.file); k++) {
        const cb_rules_param_t *p = cb_rules_file_param(ses.file, k);
        if (p->has_range)
            cb_param_space_add(&cfg.space, p->name, p->min, p->max, p->step, NULL);
    }
    size_t grid = cb_param_space_size(&cfg.space);
    cfg.random = quick;
    cfg.samples = samples;
    cfg.seed = 1;
    cfg.luck_runs = SIZE_MAX;
    cb_opt_report_t rep;
    double t0 = bench_now();
    if (cb_optimize(&ses.bt, &cfg, &rep, &d) != 0) {
        fprintf(stderr, "bench_optimize: %s\n", d.msg);
        return 1;
    }
    double sweep = bench_now() - t0;
    double rate = (double)rep.n_rows * (double)bars / sweep, ref = (double)bars / one;
    printf("# %zu of the %zu combinations x %zu bars on %d cores in %.2f s (PBO, DSR included); "
           "one backtest %.3f s; %zu indicator columns computed, %zu reused; %s\n",
           rep.n_rows, grid, bars, cb_opt_cores(), sweep, one, rep.sharing.misses,
           rep.sharing.hits, rep.verdict);
    bench_report(quick ? "opt.sample_seconds" : "opt.grid_seconds", sweep, "s", sweep, sweep,
                 NULL, 0);
    bench_report("opt.combo_bars_per_s", rate / 1e6, "Mbar/s", rate / 1e6, rate / 1e6,
                 "one_backtest_per_core", rate / ref);
    bench_report("opt.one_backtest", ref / 1e6, "Mbar/s", ref / 1e6, ref / 1e6, NULL, 0);
    bench_report("opt.peak_rss", bench_peak_rss_mib(), "MiB", bench_peak_rss_mib(),
                 bench_peak_rss_mib(), NULL, 0);
    cb_opt_report_free(&rep);
    bench_session_close(&ses);
    return 0;
}
