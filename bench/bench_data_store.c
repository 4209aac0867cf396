/* Store benchmark: how long opening a 1,000,000-candle series from the store takes (mmap +
 * checksum + touching every close), how fast the synthetic market is generated, and how the
 * store load compares with importing the same candles from CSV. Goal: load >= 20x faster.
 * Wall-clock and CPU-time figures both: the machine is shared and wall clock swings with load. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"
#include "comeback/data.h"

static volatile double sink;

typedef struct ctx {
    const char *path;
    const char *csv;
    size_t bars;
    cb_synth_opts_t synth;
} ctx_t;

static void load_touch(void *arg)
{
    ctx_t *c = arg;
    cb_series_t *s;
    cb_diag_t d;
    if (cb_store_load(c->path, &s, &d) != 0) {
        fprintf(stderr, "bench: %s\n", d.msg);
        exit(1);
    }
    double acc = 0;
    for (size_t i = 0; i < s->n; i++)
        acc += s->close[i];
    sink = acc;
    cb_series_free(s);
}

static void csv_import(void *arg)
{
    ctx_t *c = arg;
    cb_series_t *s;
    cb_diag_t d;
    cb_read_opts_t o = {CB_FORMAT_AUTO, "1m", 0, 0, NULL};
    if (cb_series_read_file(c->csv, &o, &s, NULL, &d) != 0) {
        fprintf(stderr, "bench: %s\n", d.msg);
        exit(1);
    }
    double acc = 0;
    for (size_t i = 0; i < s->n; i++)
        acc += s->close[i];
    sink = acc;
    cb_series_free(s);
}

/* Median CPU seconds (user + system, this process) of `runs` calls: the machine is shared, so
 * wall-clock figures swing with the load; CPU time is what the work costs. */
static bench_stats_t cpu_time(void (*fn)(void *), void *arg, int runs)
{
    bench_stats_t st = bench_time(fn, arg, 1, runs);
    st.median = st.cpu_median;
    st.min = st.cpu_min;
    st.max = st.cpu_max;
    return st;
}

static void synth(void *arg)
{
    ctx_t *c = arg;
    cb_series_t *s;
    cb_diag_t d;
    if (cb_synth_generate(&c->synth, &s, &d) != 0)
        exit(1);
    sink = s->close[s->n - 1];
    cb_series_free(s);
}

int main(void)
{
    int quick = bench_quick();
    ctx_t c;
    memset(&c, 0, sizeof c);
    c.bars = quick ? 50000 : 1000000;
    c.synth.bars = c.bars;
    c.synth.seed = 42;
    c.synth.timeframe = "1m";

    char dir[] = "/tmp/cbbench.XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char path[256];
    snprintf(path, sizeof path, "%s/BTC_USDT-1m.cbk", dir);
    c.path = path;

    bench_stats_t st = bench_time(synth, &c, 1, quick ? 3 : 5);
    bench_report("data.synth", (double)c.bars / st.median / 1e6, "Mbars/s",
                 (double)c.bars / st.max / 1e6, (double)c.bars / st.min / 1e6, NULL, 0);

    char csv[256];
    snprintf(csv, sizeof csv, "%s/BTC_USDT-1m.csv", dir);
    c.csv = csv;
    bench_stats_t sc = cpu_time(synth, &c, quick ? 3 : 5);
    bench_report("data.synth_cpu", (double)c.bars / sc.median / 1e6, "Mbars/s",
                 (double)c.bars / sc.max / 1e6, (double)c.bars / sc.min / 1e6, NULL, 0);
    cb_series_t *s;
    cb_diag_t d;
    if (cb_synth_generate(&c.synth, &s, &d) != 0 || cb_store_save(path, s, &d) != 0 ||
        cb_series_write_csv(s, csv, &d) != 0) {
        fprintf(stderr, "bench: %s\n", d.msg);
        return 1;
    }
    double t0 = bench_now();
    if (cb_store_save(path, s, &d) != 0)
        return 1;
    double save_s = bench_now() - t0;
    cb_series_free(s);

    /* The same candles both ways: CSV (read, parse, validate) against the store (map, verify
     * the checksum); both then touch every close. */
    bench_stats_t csv_st = bench_time(csv_import, &c, 1, quick ? 3 : 5);
    st = bench_time(load_touch, &c, 2, quick ? 5 : 15);
    char name[64], ref[64];
    snprintf(ref, sizeof ref, "data.csv_import_%zuk", c.bars / 1000);
    snprintf(name, sizeof name, "data.store_load_%zuk", c.bars / 1000);
    bench_report(ref, csv_st.median * 1e3, "ms", csv_st.min * 1e3, csv_st.max * 1e3, NULL, 0);
    bench_report(name, st.median * 1e3, "ms", st.min * 1e3, st.max * 1e3, ref,
                 csv_st.median / st.median);
    bench_stats_t csv_cpu = cpu_time(csv_import, &c, quick ? 3 : 5);
    bench_stats_t load_cpu = cpu_time(load_touch, &c, quick ? 5 : 15);
    char cname[80], cref[80];
    snprintf(cref, sizeof cref, "%s_cpu", ref);
    snprintf(cname, sizeof cname, "%s_cpu", name);
    bench_report(cref, csv_cpu.median * 1e3, "ms", csv_cpu.min * 1e3, csv_cpu.max * 1e3, NULL, 0);
    bench_report(cname, load_cpu.median * 1e3, "ms", load_cpu.min * 1e3, load_cpu.max * 1e3, cref,
                 csv_cpu.median / load_cpu.median);
    bench_report("data.store_load_rate", (double)c.bars / st.median / 1e6, "Mrows/s",
                 (double)c.bars / st.max / 1e6, (double)c.bars / st.min / 1e6, NULL, 0);
    bench_report("data.store_save", save_s * 1e3, "ms", save_s * 1e3, save_s * 1e3, NULL, 0);

    unlink(path);
    unlink(csv);
    rmdir(dir);
    return 0;
}
