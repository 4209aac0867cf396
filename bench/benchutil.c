#include "benchutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "comeback/data.h"
#include "comeback/rules.h"

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

double bench_cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
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

void bench_summarise(double *t, int n, double *median, double *min, double *max)
{
    qsort(t, (size_t)n, sizeof t[0], cmp_double);
    *min = t[0];
    *max = t[n - 1];
    *median = (n % 2) ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

bench_stats_t bench_time(void (*fn)(void *), void *arg, int warmup, int runs)
{
    bench_stats_t st;
    if (runs < 1)
        runs = 1;
    if (runs > 64)
        runs = 64;
    double t[64], c[64];
    for (int i = 0; i < warmup; i++)
        fn(arg);
    for (int i = 0; i < runs; i++) {
        double t0 = bench_now(), c0 = bench_cpu_now();
        fn(arg);
        t[i] = bench_now() - t0;
        c[i] = bench_cpu_now() - c0;
    }
    bench_summarise(t, runs, &st.median, &st.min, &st.max);
    bench_summarise(c, runs, &st.cpu_median, &st.cpu_min, &st.cpu_max);
    return st;
}

bench_pair_t bench_time_paired(void (*a)(void *), void *arg_a, void (*b)(void *), void *arg_b,
                               int warmup, int runs)
{
    bench_pair_t r;
    if (runs < 1)
        runs = 1;
    if (runs > 64)
        runs = 64;
    double ta[64], ca[64], tb[64], cb[64], q[64];
    for (int i = 0; i < warmup; i++) {
        a(arg_a);
        b(arg_b);
    }
    for (int i = 0; i < runs; i++) {
        double t0 = bench_now(), c0 = bench_cpu_now();
        a(arg_a);
        ta[i] = bench_now() - t0;
        ca[i] = bench_cpu_now() - c0;
        t0 = bench_now();
        c0 = bench_cpu_now();
        b(arg_b);
        tb[i] = bench_now() - t0;
        cb[i] = bench_cpu_now() - c0;
        q[i] = ca[i] > 0 ? cb[i] / ca[i] : 0;
    }
    double lo, hi;
    bench_summarise(ta, runs, &r.a.median, &r.a.min, &r.a.max);
    bench_summarise(ca, runs, &r.a.cpu_median, &r.a.cpu_min, &r.a.cpu_max);
    bench_summarise(tb, runs, &r.b.median, &r.b.min, &r.b.max);
    bench_summarise(cb, runs, &r.b.cpu_median, &r.b.cpu_min, &r.b.cpu_max);
    bench_summarise(q, runs, &r.ratio, &lo, &hi);
    return r;
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

void bench_curve(const char *curve, double x, bench_stats_t st, int runs)
{
    printf("CURVE %s %.10g %.6g min=%.6g max=%.6g runs=%d cpu=%.6g cpu_min=%.6g cpu_max=%.6g\n",
           curve, x, st.median, st.min, st.max, runs, st.cpu_median, st.cpu_min, st.cpu_max);
    fflush(stdout);
}

cb_series_t *bench_synth(size_t bars, uint64_t seed, const char *pair)
{
    cb_synth_opts_t so = {bars, "1h", seed, 0, 0, pair};
    cb_series_t *s = NULL;
    cb_diag_t d;
    if (cb_synth_generate(&so, &s, &d) != 0) {
        fprintf(stderr, "bench: synth: %s\n", d.msg);
        exit(1);
    }
    return s;
}

#ifndef CB_BENCH_DIR
#define CB_BENCH_DIR "bench"
#endif

void bench_session_open(bench_session_t *s, size_t bars)
{
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/cbbench.XXXXXX");
    if (!mkdtemp(s->dir)) {
        perror("bench: mkdtemp");
        exit(1);
    }
    snprintf(s->data, sizeof s->data, "%s/market.cbk", s->dir);
    cb_series_t *series = bench_synth(bars, 42, "SYN/USDT");
    cb_diag_t d;
    if (cb_store_save(s->data, series, &d) != 0) {
        fprintf(stderr, "bench: %s\n", d.msg);
        exit(1);
    }
    cb_series_free(series);
    cb_diags_t diags = {0};
    const char *path = CB_BENCH_DIR "/ema_cross_rsi.ini";
    if (cb_rules_file_load(path, &s->file, &diags) != 0) {
        fprintf(stderr, "bench: %s: %s\n", path, diags.n ? diags.items[0].msg : "cannot read");
        exit(1);
    }
    cb_diags_free(&diags);
    cb_bt_settings_t over;
    memset(&over, 0, sizeof over);
    snprintf(over.data, sizeof over.data, "%s", s->data);
    if (cb_backtest_setup(&s->bt, s->file, path, &over, &d) != 0) {
        fprintf(stderr, "bench: %s: %s\n", path, d.msg);
        exit(1);
    }
}

void bench_session_close(bench_session_t *s)
{
    cb_backtest_close(&s->bt);
    cb_rules_file_free(s->file);
    unlink(s->data);
    rmdir(s->dir);
}
