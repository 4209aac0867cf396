/* Store benchmark: how long opening a 1,000,000-candle series from the store takes (mmap +
 * checksum + touching every close), how fast the synthetic market is generated, and how the
 * store load compares with importing the same candles from CSV. Goal: load >= 20x faster. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchutil.h"
#include "comeback/data.h"

static volatile double sink;

typedef struct ctx {
    const char *path;
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

    cb_series_t *s;
    cb_diag_t d;
    if (cb_synth_generate(&c.synth, &s, &d) != 0 || cb_store_save(path, s, &d) != 0) {
        fprintf(stderr, "bench: %s\n", d.msg);
        return 1;
    }
    double t0 = bench_now();
    if (cb_store_save(path, s, &d) != 0)
        return 1;
    double save_s = bench_now() - t0;
    cb_series_free(s);

    st = bench_time(load_touch, &c, 2, quick ? 5 : 15);
    char name[64];
    snprintf(name, sizeof name, "data.store_load_%zuk", c.bars / 1000);
    bench_report(name, st.median * 1e3, "ms", st.min * 1e3, st.max * 1e3, NULL, 0);
    bench_report("data.store_load_rate", (double)c.bars / st.median / 1e6, "Mrows/s",
                 (double)c.bars / st.max / 1e6, (double)c.bars / st.min / 1e6, NULL, 0);
    bench_report("data.store_save", save_s * 1e3, "ms", save_s * 1e3, save_s * 1e3, NULL, 0);

    unlink(path);
    rmdir(dir);
    return 0;
}
