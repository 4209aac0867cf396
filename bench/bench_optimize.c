/* Optimizer throughput: a 1,000-combination grid of the ema-cross-rsi example (fast 5..24 x
 * slow 30..128 step 2) over 1,000,000 synthetic 1h bars on all cores, as combinations x bars
 * per second, next to one single-threaded backtest of the same strategy (the reference: the
 * ratio is the sweep's throughput over one core's, so ~cores when the sweep scales).
 * BENCH_QUICK: 20 combinations over 20,000 bars. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchutil.h"
#include "comeback/data.h"
#include "comeback/opt.h"

int main(void)
{
    int quick = bench_quick();
    size_t bars = quick ? 20000 : 1000000;
    char dir[] = "/tmp/cbbench.XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char path[256], text[1024];
    snprintf(path, sizeof path, "%s/market.cbk", dir);
    cb_synth_opts_t so = {bars, "1h", 42, 0, 0, NULL};
    cb_series_t *s = NULL;
    cb_diag_t d;
    if (cb_synth_generate(&so, &s, &d) != 0 || cb_store_save(path, s, &d) != 0) {
        fprintf(stderr, "bench_optimize: %s\n", d.msg);
        return 1;
    }
    cb_series_free(s);
    snprintf(text, sizeof text,
             "[strategy]\ntimeframe = 1h\n"
             "entry = crossover(ema(close, fast), ema(close, slow)) and rsi(close, 14) < 70\n"
             "exit = crossunder(ema(close, fast), ema(close, slow))\n"
             "stoploss = 5%%\ntrailing_stop = 3%%\n"
             "[params]\nfast = 12\nslow = 26\n"
             "[backtest]\ndata = %s\nstart_balance = 10000 USDT\nstake = 10%%\nfee = 0.1%%\n",
             path);
    cb_rules_file_t *f = NULL;
    cb_backtest_t bt;
    if (cb_rules_file_parse("bench.ini", text, strlen(text), NULL, &f, NULL) != 0 ||
        cb_backtest_setup(&bt, f, "bench.ini", NULL, &d) != 0) {
        fprintf(stderr, "bench_optimize: setup failed: %s\n", d.msg);
        return 1;
    }
    /* The reference: one backtest on one core. */
    double t0 = bench_now();
    cb_engine_result_t res;
    if (cb_backtest_run(&bt, NULL, NULL, &res, NULL, &d) != 0)
        return 1;
    double one = bench_now() - t0;
    cb_engine_result_free(&res);
    cb_opt_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cb_param_space_add(&cfg.space, "fast", 5, quick ? 8 : 24, 1, NULL);
    cb_param_space_add(&cfg.space, "slow", 30, quick ? 38 : 128, 2, NULL);
    cfg.luck_runs = SIZE_MAX;
    size_t combos = cb_param_space_size(&cfg.space);
    cb_opt_report_t rep;
    t0 = bench_now();
    if (cb_optimize(&bt, &cfg, &rep, &d) != 0) {
        fprintf(stderr, "bench_optimize: %s\n", d.msg);
        return 1;
    }
    double sweep = bench_now() - t0;
    double rate = (double)combos * (double)bars / sweep, ref = (double)bars / one;
    printf("# %zu combinations x %zu bars on %d cores; sweep %.2f s (PBO, DSR included), one "
           "backtest %.3f s; verdict: %s\n",
           combos, bars, cb_opt_cores(), sweep, one, rep.verdict);
    bench_report("opt.grid_seconds", sweep, "s", sweep, sweep, NULL, 0);
    bench_report("opt.combo_bars_per_s", rate / 1e6, "Mbar/s", rate / 1e6, rate / 1e6,
                 "one_backtest_per_core", rate / ref);
    bench_report("opt.one_backtest", ref / 1e6, "Mbar/s", ref / 1e6, ref / 1e6, NULL, 0);
    bench_report("opt.peak_rss", bench_peak_rss_mib(), "MiB", bench_peak_rss_mib(),
                 bench_peak_rss_mib(), NULL, 0);
    cb_opt_report_free(&rep);
    cb_backtest_close(&bt);
    cb_rules_file_free(f);
    unlink(path);
    rmdir(dir);
    return 0;
}
