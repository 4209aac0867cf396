/* Indicator benchmark: for every table indicator (default options) the batch time per bar, the
 * streaming update time per bar, and the chunked stream's (cb_ta_stream_run over chunks of 256
 * bars, as the rules language feeds indicators) over 1,000,000 synthetic bars (a deterministic
 * random walk), medians of several runs. A hand-written naive SMA loop runs in the same process as the
 * reference for ta.batch.sma (ratio = ours / naive). max, min and stddev are also timed with
 * period 10 and 1000 side by side: O(1) per bar means the two figures are close. The
 * indicators that track flat windows (docs/indicators.md) are also timed on a market that
 * moves by whole ticks and repeats its close one bar in two (suffix .tick): a test on "the
 * same value again" that branched would mispredict there, not on the random walk.
 * Times are this thread's CPU time (median of runs), robust to a busy shared machine. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benchutil.h"
#include "ta_bench_data.h"
#include "comeback/ta.h"

typedef struct job {
    const data_t *d;
    const cb_ta_info_t *info;
    double opts[CB_TA_MAX_OPTS];
    double *out[CB_TA_MAX_OUTPUTS];
    void *state;
    size_t period; /* naive SMA */
} job_t;

static volatile double sink;

static void run_batch(void *arg)
{
    job_t *j = arg;
    const double *in[CB_TA_MAX_INPUTS];
    for (int k = 0; k < j->info->n_inputs; k++)
        in[k] = input_for(j->d, j->info->inputs[k]);
    cb_ta_batch(j->info, j->d->n, in, j->opts, j->out);
    sink = j->out[0][j->d->n - 1];
}

static void run_stream(void *arg)
{
    job_t *j = arg;
    const double *in[CB_TA_MAX_INPUTS];
    int ni = j->info->n_inputs;
    for (int k = 0; k < ni; k++)
        in[k] = input_for(j->d, j->info->inputs[k]);
    cb_ta_stream_init(j->info, j->state, j->opts);
    double bar[CB_TA_MAX_INPUTS], out[CB_TA_MAX_OUTPUTS], acc = 0;
    for (size_t i = 0; i < j->d->n; i++) {
        for (int k = 0; k < ni; k++)
            bar[k] = in[k][i];
        cb_ta_stream_update(j->info, j->state, bar, out);
        acc += out[0];
    }
    sink = acc;
}

static void run_chunks(void *arg)
{
    job_t *j = arg;
    const double *in[CB_TA_MAX_INPUTS];
    double *out[CB_TA_MAX_OUTPUTS];
    cb_ta_stream_init(j->info, j->state, j->opts);
    for (size_t i = 0; i < j->d->n; i += 256) {
        size_t m = j->d->n - i < 256 ? j->d->n - i : 256;
        for (int k = 0; k < j->info->n_inputs; k++)
            in[k] = input_for(j->d, j->info->inputs[k]) + i;
        for (int k = 0; k < j->info->n_outputs; k++)
            out[k] = j->out[k] + i;
        cb_ta_stream_run(j->info, j->state, m, in, out);
    }
    sink = j->out[0][j->d->n - 1];
}

/* The naive reference: a plain running-sum SMA, as anyone would write it. */
static void run_naive_sma(void *arg)
{
    job_t *j = arg;
    const double *x = j->d->col[3];
    double *o = j->out[0];
    size_t p = j->period, n = j->d->n;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        sum += x[i];
        if (i + 1 >= p) {
            o[i] = sum / (double)p;
            sum -= x[i + 1 - p];
        } else {
            o[i] = NAN;
        }
    }
    sink = o[n - 1];
}

static void report(const char *what, const char *name, const char *suffix, bench_stats_t st,
                   size_t n, const char *ref, double ref_ns)
{
    char full[128];
    snprintf(full, sizeof full, "ta.%s.%s%s", what, name, suffix);
    double ns = st.median / (double)n * 1e9;
    bench_report(full, ns, "ns/bar", st.min / (double)n * 1e9, st.max / (double)n * 1e9, ref,
                 ref ? ns / ref_ns : 0);
}

static void bench_one(const data_t *d, const cb_ta_info_t *info, const double *opts,
                      const char *suffix, int runs, const char *ref, double ref_ns)
{
    job_t j;
    memset(&j, 0, sizeof j);
    j.d = d;
    j.info = info;
    memcpy(j.opts, opts, sizeof j.opts);
    for (int k = 0; k < info->n_outputs; k++)
        j.out[k] = malloc(d->n * sizeof(double));
    size_t size = cb_ta_stream_size(info, opts);
    j.state = aligned_alloc(16, (size + 15) & ~(size_t)15);
    bench_stats_t b = cpu_time(run_batch, &j, 1, runs);
    report("batch", info->name, suffix, b, d->n, ref, ref_ns);
    bench_stats_t s = cpu_time(run_stream, &j, 1, runs);
    report("stream", info->name, suffix, s, d->n, NULL, 0);
    bench_stats_t c = cpu_time(run_chunks, &j, 1, runs);
    report("run", info->name, suffix, c, d->n, NULL, 0);
    for (int k = 0; k < info->n_outputs; k++)
        free(j.out[k]);
    free(j.state);
}

/* The market of make_data on a coarse tick: each close is the previous one, one tick up or
 * one tick down with probabilities 1/2, 1/4, 1/4 (an illiquid pair, a stablecoin, a
 * maintenance stretch), high and low a tick beyond the body now and then. */
static void make_ticked(const data_t *src, data_t *d)
{
    make_data(d, src->n);
    const double tick = 0.5;
    double c = 20000.0;
    for (size_t i = 0; i < d->n; i++) {
        double o = c, u = urand();
        c += u < 0.5 ? 0.0 : u < 0.75 ? tick : -tick;
        d->col[0][i] = o;
        d->col[1][i] = fmax(o, c) + (urand() < 0.3 ? tick : 0.0);
        d->col[2][i] = fmin(o, c) - (urand() < 0.3 ? tick : 0.0);
        d->col[3][i] = c;
        d->col[4][i] = src->col[4][i];
        d->col[5][i] = 0.5 * (o + c);
    }
}

int main(void)
{
    int quick = bench_quick();
    size_t n = quick ? 20000 : 1000000;
    int runs = quick ? 3 : 7;
    data_t d;
    make_data(&d, n);

    /* the in-run reference */
    job_t nj;
    memset(&nj, 0, sizeof nj);
    nj.d = &d;
    nj.period = 30;
    nj.out[0] = malloc(n * sizeof(double));
    bench_stats_t ns = cpu_time(run_naive_sma, &nj, 1, runs);
    double naive_ns = ns.median / (double)n * 1e9;
    bench_report("ta.naive_sma_loop", naive_ns, "ns/bar", ns.min / (double)n * 1e9,
                 ns.max / (double)n * 1e9, NULL, 0);
    free(nj.out[0]);

    for (size_t t = 0; t < cb_ta_count(); t++) {
        const cb_ta_info_t *info = cb_ta_at(t);
        double opts[CB_TA_MAX_OPTS];
        cb_ta_check_opts(info, opts, 0, NULL);
        int is_sma = !strcmp(info->name, "sma");
        bench_one(&d, info, opts, "", runs, is_sma ? "ta.naive_sma_loop" : NULL, naive_ns);
    }

    /* O(1) per bar whatever the period: period 10 vs 1000 */
    static const char *const scaling[] = {"max", "min", "stddev", "sma", "linearreg"};
    for (size_t s = 0; s < sizeof scaling / sizeof scaling[0]; s++) {
        const cb_ta_info_t *info = cb_ta_find(scaling[s]);
        if (!info)
            continue;
        double opts[CB_TA_MAX_OPTS];
        cb_ta_check_opts(info, opts, 0, NULL);
        opts[0] = 10;
        bench_one(&d, info, opts, ".p10", runs, NULL, 0);
        opts[0] = 1000;
        bench_one(&d, info, opts, ".p1000", runs, NULL, 0);
    }
    /* flat-window tracking on a market whose closes repeat */
    static const char *const flat[] = {"sma",  "wma", "trima", "bbands", "stddev",
                                       "var",  "linearreg", "correl", "cci", "mfi",
                                       "stoch", "ultosc", "vwap", "hma", "zscore"};
    data_t dt;
    make_ticked(&d, &dt);
    for (size_t s = 0; s < sizeof flat / sizeof flat[0]; s++) {
        const cb_ta_info_t *info = cb_ta_find(flat[s]);
        if (!info)
            continue;
        double opts[CB_TA_MAX_OPTS];
        cb_ta_check_opts(info, opts, 0, NULL);
        bench_one(&dt, info, opts, ".tick", runs, NULL, 0);
    }
    for (int k = 0; k < 7; k++) {
        free(d.col[k]);
        free(dt.col[k]);
    }
    return 0;
}
