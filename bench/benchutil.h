/* Benchmark helpers: monotonic timing, medians of repeated runs, peak memory, and one line of
 * machine-readable output per figure:
 *   BENCH <name> <value> <unit> min=<v> max=<v> [ref=<name> ratio=<r>]
 * scripts/bench collects these lines into a table and bench/results/latest.json. */
#ifndef COMEBACK_BENCHUTIL_H
#define COMEBACK_BENCHUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "comeback/backtest.h"

/* 1 when BENCH_QUICK is set: benchmarks shrink their inputs to finish in seconds. */
int bench_quick(void);
/* Monotonic clock (CLOCK_MONOTONIC) in seconds. */
double bench_now(void);
/* Peak resident memory of this process in MiB (getrusage). */
double bench_peak_rss_mib(void);

/* CPU time of this process (all its threads, CLOCK_PROCESS_CPUTIME_ID) in seconds. */
double bench_cpu_now(void);

typedef struct bench_stats {
    double median, min, max;          /* wall clock (CLOCK_MONOTONIC) */
    double cpu_median, cpu_min, cpu_max; /* CPU time of the process over the same runs */
} bench_stats_t;

/* Sorts t[0..n) (n >= 1) and stores its median, min and max. */
void bench_summarise(double *t, int n, double *median, double *min, double *max);

/* Runs fn(arg) `warmup` times untimed, then `runs` times timed; returns seconds per run, wall
 * clock and CPU time (each's median, min and max). */
bench_stats_t bench_time(void (*fn)(void *), void *arg, int warmup, int runs);

/* A measurement against a reference on a shared, noisy machine: runs a(arg_a) and b(arg_b)
 * alternately (`warmup` pairs untimed, then `runs` timed pairs, a first in each), so that each
 * pair sees the same machine, and returns each one's statistics and the median over the pairs
 * of CPU time of b / CPU time of a (a's speed relative to b). */
typedef struct bench_pair {
    bench_stats_t a, b;
    double ratio;
} bench_pair_t;
bench_pair_t bench_time_paired(void (*a)(void *), void *arg_a, void (*b)(void *), void *arg_b,
                               int warmup, int runs);

/* Prints one BENCH line. ref_name may be NULL (then ratio is omitted). */
void bench_report(const char *name, double value, const char *unit, double min, double max,
                  const char *ref_name, double ratio);

/* Prints one point of a scaling curve, collected by scripts/bench into latest.json, fitted and
 * charted (docs/benchmarks/):
 *   CURVE <curve> <x> <median seconds> min=<s> max=<s> runs=<timed runs> cpu=<median CPU s>
 *         cpu_min=<s> cpu_max=<s> */
void bench_curve(const char *curve, double x, bench_stats_t st, int runs);

/* ---- The benchmark strategy: bench/ema_cross_rsi.ini on synthetic data --------------------- */

/* cb_synth_generate with a pair name and the 1h timeframe of the benchmark strategy; prints
 * the error and exits on failure (benchmarks are programs, not library code). */
cb_series_t *bench_synth(size_t bars, uint64_t seed, const char *pair);

/* A backtest session of bench/ema_cross_rsi.ini over `bars` synthetic 1h bars (seed 42) saved
 * in a temporary store file, ready for cb_backtest_run and cb_optimize. Exits on failure. */
typedef struct bench_session {
    cb_rules_file_t *file;
    cb_backtest_t bt;
    char dir[64], data[128];
} bench_session_t;
void bench_session_open(bench_session_t *s, size_t bars);
void bench_session_close(bench_session_t *s);

#endif
