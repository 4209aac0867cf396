/* Shared by bench_ta.c and bench/ref/ta_vs_talib.c: the synthetic market (a deterministic
 * random walk, identical in both programs) and CPU-time medians. Header-only, bench use only. */
#ifndef COMEBACK_TA_BENCH_DATA_H
#define COMEBACK_TA_BENCH_DATA_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benchutil.h"

typedef struct data {
    size_t n;
    double *col[7]; /* open high low close volume other time */
} data_t;

/* The machine is shared: time with this thread's CPU clock so that being descheduled does not
 * count (wall-clock medians from cpu_time() were dominated by preemption under load). */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static bench_stats_t cpu_time(void (*fn)(void *), void *arg, int warmup, int runs)
{
    double t[32];
    if (runs > 32)
        runs = 32;
    for (int i = 0; i < warmup; i++)
        fn(arg);
    for (int i = 0; i < runs; i++) {
        double t0 = cpu_now();
        fn(arg);
        t[i] = cpu_now() - t0;
    }
    qsort(t, (size_t)runs, sizeof t[0], cmp_double);
    /* CPU time of this thread: both the wall-clock and the CPU fields */
    bench_stats_t st = {t[runs / 2], t[0], t[runs - 1], t[runs / 2], t[0], t[runs - 1]};
    return st;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static double urand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static void make_data(data_t *d, size_t n)
{
    d->n = n;
    for (int k = 0; k < 7; k++) {
        d->col[k] = malloc(n * sizeof(double));
        if (!d->col[k]) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
    }
    double p = 20000.0;
    for (size_t i = 0; i < n; i++) {
        double o = p;
        p *= 1.0 + (urand() - 0.5) * 0.01;
        d->col[0][i] = o;
        d->col[1][i] = fmax(o, p) * (1.0 + urand() * 0.002);
        d->col[2][i] = fmin(o, p) * (1.0 - urand() * 0.002);
        d->col[3][i] = p;
        d->col[4][i] = 1.0 + 100.0 * urand();
        d->col[5][i] = 0.5 * (o + p);
        d->col[6][i] = 1577836800000.0 + 60000.0 * (double)i; /* 1m bars from 2020 */
    }
}

static const double *input_for(const data_t *d, const char *name)
{
    if (!strcmp(name, "open"))
        return d->col[0];
    if (!strcmp(name, "high"))
        return d->col[1];
    if (!strcmp(name, "low"))
        return d->col[2];
    if (!strcmp(name, "volume"))
        return d->col[4];
    if (!strcmp(name, "real1"))
        return d->col[5];
    if (!strcmp(name, "time"))
        return d->col[6];
    return d->col[3];
}

#endif
