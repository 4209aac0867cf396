/* Indicator sharing in the optimizer: 100 combinations of ema-cross-rsi (fast 5..14 x slow
 * 30..48 step 2, a part of bench_optimize's 1,000-combination grid) over the same 1,000,000
 * synthetic 1h bars, on all cores, run three ways one after the other:
 *   noshare  every combination steps its rules bar by bar and computes its own indicators
 *            (--indicator-cache 0, how the optimizer worked before sharing);
 *   nokeep   whole-history signals per combination, but a budget of 0 keeps no indicator
 *            between combinations (what the signal path alone gives);
 *   share    the default: indicators computed once and shared.
 * Ratios are against noshare measured in the same process, in CPU seconds (wall clock is shown
 * too, but on a shared machine it moves with the load between passes). The three reports must
 * be identical (checked: the benchmark fails otherwise). bench_optimize times the whole
 * 1,000-combination grid (the goal: under 30 s). 100 combinations keep the noshare
 * pass to about 10 CPU seconds. BENCH_QUICK: 20 combinations over 20,000 bars. */
/* open_memstream: POSIX 2008, _GNU_SOURCE comes from the build */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchutil.h"
#include "comeback/data.h"
#include "comeback/opt.h"

typedef struct pass {
    const char *name;
    int no_share;
    size_t cache_bytes;
    double cpu;
    double seconds;
    char *json;
    cb_rules_cache_stats_t sharing;
} pass_t;

/* The grid: fast 5..fast_hi x slow 30..slow_hi step 2. */
static int sweep(const cb_backtest_t *bt, double fast_hi, double slow_hi, pass_t *p)
{
    cb_opt_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cb_param_space_add(&cfg.space, "fast", 5, fast_hi, 1, NULL);
    cb_param_space_add(&cfg.space, "slow", 30, slow_hi, 2, NULL);
    cfg.luck_runs = SIZE_MAX;
    cfg.no_share = p->no_share;
    cfg.cache_bytes = p->cache_bytes;
    cb_opt_report_t rep;
    cb_diag_t d;
    double t0 = bench_now(), c0 = bench_cpu_now();
    if (cb_optimize(bt, &cfg, &rep, &d) != 0) {
        fprintf(stderr, "bench_opt_share: %s\n", d.msg);
        return -1;
    }
    p->seconds = bench_now() - t0;
    p->cpu = bench_cpu_now() - c0;
    p->sharing = rep.sharing;
    size_t len = 0;
    FILE *m = open_memstream(&p->json, &len);
    int rc = !m || cb_opt_report_write_json(m, bt, &cfg, &rep) != 0;
    if (m)
        fclose(m);
    printf("# %-8s %zu combinations x %zu bars (%zu days) in %.2f s (%.2f CPU s); %zu "
           "indicator columns computed, %zu reused, peak %.0f MiB\n",
           p->name, rep.n_rows, bt->series[0]->n, rep.n_days, p->seconds, p->cpu,
           rep.sharing.misses, rep.sharing.hits,
           (double)rep.sharing.peak_bytes / 1048576.0);
    cb_opt_report_free(&rep);
    return rc ? -1 : 0;
}

int main(void)
{
    int quick = bench_quick();
    size_t bars = quick ? 20000 : 1000000;
    char dir[] = "/tmp/cbbench_share.XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char path[256], text[1024];
    snprintf(path, sizeof path, "%s/market.cbk", dir);
    cb_synth_opts_t so = {bars, "1h", 42, 0, 0, NULL};
    cb_series_t *s = NULL;
    cb_diag_t d;
    if (cb_synth_generate(&so, &s, &d) != 0 || cb_store_save(path, s, &d) != 0) {
        fprintf(stderr, "bench_opt_share: %s\n", d.msg);
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
        fprintf(stderr, "bench_opt_share: setup failed: %s\n", d.msg);
        return 1;
    }
    pass_t passes[3] = {{"noshare", 1, 0, 0, 0, NULL, {0}},
                        {"nokeep", 0, 1, 0, 0, NULL, {0}},
                        {"share", 0, 0, 0, 0, NULL, {0}}};
    int rc = 0;
    for (int k = 0; k < 3 && !rc; k++)
        rc = quick ? sweep(&bt, 8, 38, &passes[k]) : sweep(&bt, 14, 48, &passes[k]);
    if (!rc && (strcmp(passes[0].json, passes[1].json) || strcmp(passes[0].json, passes[2].json))) {
        fprintf(stderr, "bench_opt_share: the reports differ with sharing on and off\n");
        rc = 1;
    }
    if (!rc) {
        double combos = quick ? 4.0 * 5 : 10.0 * 10, base = passes[0].seconds;
        double base_cpu = passes[0].cpu;
        printf("# the load of other work changes wall clock between passes: compare the CPU "
               "seconds (ratios below use them)\n");
        printf("# reports identical with and without sharing; %d cores\n", cb_opt_cores());
        for (int k = 0; k < 3; k++) {
            char name[64];
            double rate = combos * (double)bars / passes[k].seconds / 1e6;
            snprintf(name, sizeof name, "opt_share.%s_seconds", passes[k].name);
            bench_report(name, passes[k].seconds, "s", passes[k].seconds, passes[k].seconds,
                         k ? "noshare_seconds" : NULL, k ? base / passes[k].seconds : 0);
            snprintf(name, sizeof name, "opt_share.%s_cpu_seconds", passes[k].name);
            bench_report(name, passes[k].cpu, "s", passes[k].cpu, passes[k].cpu,
                         k ? "noshare_cpu_seconds" : NULL, k ? base_cpu / passes[k].cpu : 0);
            snprintf(name, sizeof name, "opt_share.%s_combo_bars_per_cpu_s", passes[k].name);
            rate = combos * (double)bars / passes[k].cpu / 1e6;
            bench_report(name, rate, "Mbar/s", rate, rate, k ? "noshare" : NULL,
                         k ? base_cpu / passes[k].cpu : 0);
        }
        double cols = (double)passes[2].sharing.misses;
        bench_report("opt_share.columns_computed", cols, "columns", cols, cols, NULL, 0);
        bench_report("opt_share.peak_rss", bench_peak_rss_mib(), "MiB", bench_peak_rss_mib(),
                     bench_peak_rss_mib(), NULL, 0);
    }
    for (int k = 0; k < 3; k++)
        free(passes[k].json);
    cb_backtest_close(&bt);
    cb_rules_file_free(f);
    unlink(path);
    rmdir(dir);
    return rc;
}
