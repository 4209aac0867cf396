#include "benchutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

int bench_quick(void)
{
    const char *q = getenv("BENCH_QUICK");
    return q && *q && *q != '0';
}

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double bench_peak_rss_mib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

bench_stats_t bench_time(void (*fn)(void *), void *arg, int warmup, int runs)
{
    bench_stats_t st = {0, 0, 0};
    if (runs < 1)
        runs = 1;
    if (runs > 64)
        runs = 64;
    double t[64];
    for (int i = 0; i < warmup; i++)
        fn(arg);
    for (int i = 0; i < runs; i++) {
        double t0 = bench_now();
        fn(arg);
        t[i] = bench_now() - t0;
    }
    qsort(t, (size_t)runs, sizeof t[0], cmp_double);
    st.min = t[0];
    st.max = t[runs - 1];
    st.median = (runs % 2) ? t[runs / 2] : 0.5 * (t[runs / 2 - 1] + t[runs / 2]);
    return st;
}

void bench_report(const char *name, double value, const char *unit, double min, double max,
                  const char *ref_name, double ratio)
{
    if (ref_name)
        printf("BENCH %s %.6g %s min=%.6g max=%.6g ref=%s ratio=%.4g\n", name, value, unit, min,
               max, ref_name, ratio);
    else
        printf("BENCH %s %.6g %s min=%.6g max=%.6g\n", name, value, unit, min, max);
    fflush(stdout);
}
