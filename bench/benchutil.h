/* Benchmark helpers: monotonic timing, medians of repeated runs, peak memory, and one line of
 * machine-readable output per figure:
 *   BENCH <name> <value> <unit> min=<v> max=<v> [ref=<name> ratio=<r>]
 * scripts/bench collects these lines into a table and bench/results/latest.json. */
#ifndef COMEBACK_BENCHUTIL_H
#define COMEBACK_BENCHUTIL_H

#include <stddef.h>
#include <stdint.h>

/* 1 when BENCH_QUICK is set: benchmarks shrink their inputs to finish in seconds. */
int bench_quick(void);
/* Monotonic clock (CLOCK_MONOTONIC) in seconds. */
double bench_now(void);
/* Peak resident memory of this process in MiB (getrusage). */
double bench_peak_rss_mib(void);

typedef struct bench_stats {
    double median, min, max;
} bench_stats_t;

/* Runs fn(arg) `warmup` times untimed, then `runs` times timed; returns seconds per run. */
bench_stats_t bench_time(void (*fn)(void *), void *arg, int warmup, int runs);

/* Prints one BENCH line. ref_name may be NULL (then ratio is omitted). */
void bench_report(const char *name, double value, const char *unit, double min, double max,
                  const char *ref_name, double ratio);

#endif
