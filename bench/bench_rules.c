/* Rules evaluation throughput: the ema-cross-rsi example (2 EMAs, RSI, crossover/crossunder,
 * comparisons) compiled and stepped over synthetic 1m bars, in bars per second, against a
 * hand-written C loop computing the same signals (the reference: ratio = loop time / rules
 * time, so 0.5 means the rules take twice as long). Compile time is reported too. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchutil.h"
#include "comeback/rules.h"

typedef struct job {
    size_t n;
    double *o, *h, *l, *c, *v;
    int64_t *t;
    const cb_rules_program_t *p;
    size_t signals;
} job_t;

static const char *text =
    "[strategy]\ntimeframe = 1m\n"
    "entry = crossover(ema(close, 12), ema(close, 26)) and rsi(close, 14) < 70\n"
    "exit = crossunder(ema(close, 12), ema(close, 26))\n";

static void run_batch(void *arg)
{
    job_t *j = arg;
    uint8_t *en = malloc(j->n), *ex = malloc(j->n);
    cb_bar_view_t v = {j->n, j->t, j->o, j->h, j->l, j->c, j->v};
    cb_diag_t d;
    if (!en || !ex || cb_rules_program_signals(j->p, &v, 0, en, ex, &d) != 0)
        abort();
    size_t s = 0;
    for (size_t i = 0; i < j->n; i++)
        s += (size_t)(en[i] + ex[i]);
    j->signals = s;
    free(en);
    free(ex);
}

static void run_rules(void *arg)
{
    job_t *j = arg;
    cb_rules_instance_t *inst;
    cb_diag_t d;
    if (cb_rules_instance_new(j->p, 0, &inst, &d) != 0)
        abort();
    size_t s = 0;
    for (size_t i = 0; i < j->n; i++) {
        int en, ex;
        cb_rules_instance_step(inst, j->t[i], j->o[i], j->h[i], j->l[i], j->c[i], j->v[i], NULL,
                               &en, &ex);
        s += (size_t)(en + ex);
    }
    j->signals = s;
    cb_rules_instance_free(inst);
}

/* The same strategy by hand: seeded EMAs, Wilder RSI as TA-Lib computes it, crossings. */
static void run_loop(void *arg)
{
    job_t *j = arg;
    double kf = 2.0 / 13.0, ks = 2.0 / 27.0, ef = 0, es = 0, sg = 0, sl = 0, prevc = 0;
    double last = 0;
    size_t s = 0;
    for (size_t i = 0; i < j->n; i++) {
        double c = j->c[i];
        if (i < 12)
            ef += c;
        if (i == 11)
            ef /= 12;
        else if (i >= 12)
            ef = (c - ef) * kf + ef;
        if (i < 26)
            es += c;
        if (i == 25)
            es /= 26;
        else if (i >= 26)
            es = (c - es) * ks + es;
        double rsi = NAN;
        if (i > 0) {
            double ch = c - prevc, g = ch > 0 ? ch : 0, lo = ch < 0 ? -ch : 0;
            if (i <= 14) {
                sg += g;
                sl += lo;
                if (i == 14) {
                    sg /= 14;
                    sl /= 14;
                }
            } else {
                sg = (sg * 13 + g) / 14;
                sl = (sl * 13 + lo) / 14;
            }
            if (i >= 14)
                rsi = sg + sl == 0 ? 0 : 100 * sg / (sg + sl);
        }
        prevc = c;
        if (i >= 25) {
            double d = ef - es;
            int up = d > 0 && last < 0, down = d < 0 && last > 0;
            if (d != 0)
                last = d > 0 ? 1 : -1;
            s += (size_t)((up && rsi < 70) + down);
        }
    }
    j->signals = s;
}

int main(void)
{
    size_t n = bench_quick() ? 200000 : 5000000;
    job_t j = {0};
    j.n = n;
    j.o = malloc(n * sizeof(double));
    j.h = malloc(n * sizeof(double));
    j.l = malloc(n * sizeof(double));
    j.c = malloc(n * sizeof(double));
    j.v = malloc(n * sizeof(double));
    j.t = malloc(n * sizeof(int64_t));
    if (!j.o || !j.h || !j.l || !j.c || !j.v || !j.t)
        return 1;
    uint64_t x = 42;
    double price = 20000;
    for (size_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        double u = (double)(x >> 11) / 9007199254740992.0 - 0.5;
        j.o[i] = price;
        price *= 1 + u * 0.004;
        j.c[i] = price;
        j.h[i] = fmax(j.o[i], price) * 1.001;
        j.l[i] = fmin(j.o[i], price) * 0.999;
        j.v[i] = 1 + (double)(x & 1023);
        j.t[i] = (int64_t)i * 60000;
    }
    cb_diags_t d = {0};
    cb_rules_file_t *f = NULL;
    if (cb_rules_file_parse("bench.ini", text, strlen(text), NULL, &f, &d) != 0)
        return 1;
    cb_rules_program_t *p = NULL;
    double t0 = bench_now();
    int reps = 1000;
    for (int i = 0; i < reps; i++) {
        cb_rules_program_free(p);
        if (cb_rules_compile(f, NULL, &p, &d) != 0)
            return 1;
    }
    double compile_us = (bench_now() - t0) / reps * 1e6;
    j.p = p;
    bench_stats_t loop = bench_time(run_loop, &j, 1, bench_quick() ? 3 : 5);
    size_t want = j.signals;
    bench_stats_t rules = bench_time(run_rules, &j, 1, bench_quick() ? 3 : 5);
    if (j.signals == 0)
        return 1;
    size_t stream_signals = j.signals;
    bench_stats_t batch = bench_time(run_batch, &j, 1, bench_quick() ? 3 : 5);
    if (j.signals != stream_signals)
        return 1;
    (void)want;
    bench_report("rules_eval_ema_cross_rsi", (double)n / rules.median / 1e6, "Mbars/s",
                 (double)n / rules.max / 1e6, (double)n / rules.min / 1e6, "hand_loop",
                 loop.median / rules.median);
    bench_report("rules_batch_ema_cross_rsi", (double)n / batch.median / 1e6, "Mbars/s",
                 (double)n / batch.max / 1e6, (double)n / batch.min / 1e6, "hand_loop",
                 loop.median / batch.median);
    bench_report("rules_hand_loop_ema_cross_rsi", (double)n / loop.median / 1e6, "Mbars/s",
                 (double)n / loop.max / 1e6, (double)n / loop.min / 1e6, NULL, 0);
    bench_report("rules_compile_ema_cross_rsi", compile_us, "us", compile_us, compile_us, NULL,
                 0);
    cb_rules_program_free(p);
    cb_rules_file_free(f);
    cb_diags_free(&d);
    free(j.o);
    free(j.h);
    free(j.l);
    free(j.c);
    free(j.v);
    free(j.t);
    return 0;
}
