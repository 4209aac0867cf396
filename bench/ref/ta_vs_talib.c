/* Ours vs TA-Lib's own C, side by side in one process, on the same 1,000,000 synthetic bars
 * (bench/ta_bench_data.h) with the same options (our table's defaults): batch ns/bar for both
 * and the ratio ours/TA-Lib (the median of alternately timed pairs, see time_pairs). Not part
 * of the build or of CI: scripts/bench-talib compiles it
 * against a TA-Lib source tree when one is available (e.g. from `npm install --ignore-scripts
 * talib`, whose package carries TA-Lib's C sources) and skips otherwise.
 * Each pair is also checked for equal values, so the timing compares equal work. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/ta.h"
#include "ta_bench_data.h"
#include "ta_libc.h"

typedef struct pair {
    const data_t *d;
    const cb_ta_info_t *info;
    double opts[CB_TA_MAX_OPTS];
    double *out[CB_TA_MAX_OUTPUTS];  /* ours, aligned */
    double *tout[CB_TA_MAX_OUTPUTS]; /* TA-Lib's, from outBegIdx */
    int beg, nb, ret;
} pair_t;

static volatile double sink;

/* BENCH_TA_ONLY=adx,sar limits the run to those indicators (all when unset or empty). */
static int wanted(const char *name)
{
    const char *only = getenv("BENCH_TA_ONLY");
    if (!only || !*only)
        return 1;
    size_t len = strlen(name);
    for (const char *p = only; *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == len && !strncmp(p, name, len))
            return 1;
        p += l + (e ? 1 : 0);
    }
    return 0;
}

static int talib_call(pair_t *p)
{
    const data_t *d = p->d;
    const double *o = d->col[0], *h = d->col[1], *l = d->col[2], *c = d->col[3],
                 *v = d->col[4], *r1 = d->col[5];
    int e = (int)d->n - 1, *b = &p->beg, *n = &p->nb;
    int i0 = (int)p->opts[0], i1 = (int)p->opts[1], i2 = (int)p->opts[2];
    double **t = p->tout;
    const char *nm = p->info->name;
    (void)o;
#define IS(x) (!strcmp(nm, x))
    if (IS("sma")) return TA_SMA(0, e, c, i0, b, n, t[0]);
    if (IS("ema")) return TA_EMA(0, e, c, i0, b, n, t[0]);
    if (IS("wma")) return TA_WMA(0, e, c, i0, b, n, t[0]);
    if (IS("dema")) return TA_DEMA(0, e, c, i0, b, n, t[0]);
    if (IS("tema")) return TA_TEMA(0, e, c, i0, b, n, t[0]);
    if (IS("trima")) return TA_TRIMA(0, e, c, i0, b, n, t[0]);
    if (IS("kama")) return TA_KAMA(0, e, c, i0, b, n, t[0]);
    if (IS("t3")) return TA_T3(0, e, c, i0, p->opts[1], b, n, t[0]);
    if (IS("rsi")) return TA_RSI(0, e, c, i0, b, n, t[0]);
    if (IS("cmo")) return TA_CMO(0, e, c, i0, b, n, t[0]);
    if (IS("trix")) return TA_TRIX(0, e, c, i0, b, n, t[0]);
    if (IS("macd")) return TA_MACD(0, e, c, i0, i1, i2, b, n, t[0], t[1], t[2]);
    if (IS("bbands"))
        return TA_BBANDS(0, e, c, i0, p->opts[1], p->opts[1], TA_MAType_SMA, b, n, t[0], t[1],
                         t[2]);
    if (IS("stddev")) return TA_STDDEV(0, e, c, i0, p->opts[1], b, n, t[0]);
    if (IS("var")) return TA_VAR(0, e, c, i0, 1.0, b, n, t[0]);
    if (IS("max")) return TA_MAX(0, e, c, i0, b, n, t[0]);
    if (IS("min")) return TA_MIN(0, e, c, i0, b, n, t[0]);
    if (IS("mom")) return TA_MOM(0, e, c, i0, b, n, t[0]);
    if (IS("roc")) return TA_ROC(0, e, c, i0, b, n, t[0]);
    if (IS("linearreg")) return TA_LINEARREG(0, e, c, i0, b, n, t[0]);
    if (IS("beta")) return TA_BETA(0, e, c, r1, i0, b, n, t[0]);
    if (IS("correl")) return TA_CORREL(0, e, c, r1, i0, b, n, t[0]);
    if (IS("obv")) return TA_OBV(0, e, c, v, b, n, t[0]);
    if (IS("trange")) return TA_TRANGE(0, e, h, l, c, b, n, t[0]);
    if (IS("atr")) return TA_ATR(0, e, h, l, c, i0, b, n, t[0]);
    if (IS("natr")) return TA_NATR(0, e, h, l, c, i0, b, n, t[0]);
    if (IS("plus_di")) return TA_PLUS_DI(0, e, h, l, c, i0, b, n, t[0]);
    if (IS("minus_di")) return TA_MINUS_DI(0, e, h, l, c, i0, b, n, t[0]);
    if (IS("adx")) return TA_ADX(0, e, h, l, c, i0, b, n, t[0]);
    if (IS("adxr")) return TA_ADXR(0, e, h, l, c, i0, b, n, t[0]);
    if (IS("cci")) return TA_CCI(0, e, h, l, c, i0, b, n, t[0]);
    if (IS("mfi")) return TA_MFI(0, e, h, l, c, v, i0, b, n, t[0]);
    if (IS("willr")) return TA_WILLR(0, e, h, l, c, i0, b, n, t[0]);
    if (IS("stoch"))
        return TA_STOCH(0, e, h, l, c, i0, i1, TA_MAType_SMA, i2, TA_MAType_SMA, b, n, t[0],
                        t[1]);
    if (IS("stochrsi"))
        return TA_STOCHRSI(0, e, c, i0, i1, i2, TA_MAType_SMA, b, n, t[0], t[1]);
    if (IS("ultosc")) return TA_ULTOSC(0, e, h, l, c, i0, i1, i2, b, n, t[0]);
    if (IS("aroon")) return TA_AROON(0, e, h, l, i0, b, n, t[0], t[1]);
    if (IS("sar")) return TA_SAR(0, e, h, l, p->opts[0], p->opts[1], b, n, t[0]);
#undef IS
    return -1;
}

/* Ours and TA-Lib timed alternately, `runs` pairs after one warm-up each: the ratio is the
 * median of the per-pair ratios, so a burst of load from other processes hits both sides of
 * a pair rather than one whole series. */
typedef struct paired {
    bench_stats_t ours, theirs;
    double ratio;
} paired_t;

static double median_of(double *v, int n)
{
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    return v[n / 2];
}

static paired_t time_pairs(void (*a)(void *), void (*b)(void *), void *arg, int runs)
{
    double ta[32], tb[32], r[32];
    if (runs > 32)
        runs = 32;
    a(arg);
    b(arg);
    for (int i = 0; i < runs; i++) {
        double t0 = cpu_now();
        a(arg);
        double t1 = cpu_now();
        b(arg);
        double t2 = cpu_now();
        ta[i] = t1 - t0;
        tb[i] = t2 - t1;
        r[i] = ta[i] / tb[i];
    }
    paired_t p;
    p.ratio = median_of(r, runs);
    p.ours.median = median_of(ta, runs);
    p.ours.min = ta[0];
    p.ours.max = ta[runs - 1];
    p.theirs.median = median_of(tb, runs);
    p.theirs.min = tb[0];
    p.theirs.max = tb[runs - 1];
    return p;
}

static void run_ours(void *arg)
{
    pair_t *p = arg;
    const double *in[CB_TA_MAX_INPUTS];
    for (int k = 0; k < p->info->n_inputs; k++)
        in[k] = input_for(p->d, p->info->inputs[k]);
    cb_ta_batch(p->info, p->d->n, in, p->opts, p->out);
    sink = p->out[0][p->d->n - 1];
}

static void run_talib(void *arg)
{
    pair_t *p = arg;
    p->ret = talib_call(p);
    sink = p->tout[0][0];
}

int main(void)
{
    int quick = bench_quick();
    size_t n = quick ? 20000 : 1000000;
    int runs = quick ? 3 : 9;
    data_t d;
    make_data(&d, n);
    if (TA_Initialize() != TA_SUCCESS) {
        fprintf(stderr, "TA_Initialize failed\n");
        return 1;
    }
    for (size_t t = 0; t < cb_ta_count(); t++) {
        pair_t p;
        memset(&p, 0, sizeof p);
        p.d = &d;
        p.info = cb_ta_at(t);
        if (!wanted(p.info->name))
            continue;
        cb_ta_check_opts(p.info, p.opts, 0, NULL);
        for (int k = 0; k < CB_TA_MAX_OUTPUTS; k++) {
            p.out[k] = malloc(n * sizeof(double));
            p.tout[k] = malloc(n * sizeof(double));
        }
        run_talib(&p);
        if (p.ret != TA_SUCCESS) { /* not a TA-Lib function (vwap, hma, ...) */
            for (int k = 0; k < CB_TA_MAX_OUTPUTS; k++) {
                free(p.out[k]);
                free(p.tout[k]);
            }
            continue;
        }
        run_ours(&p);
        int lb = cb_ta_lookback(p.info, p.opts);
        size_t diff = 0;
        for (int k = 0; k < p.info->n_outputs; k++)
            for (int i = 0; i < p.nb; i++) {
                double a = p.out[k][p.beg + i], b = p.tout[k][i];
                if (!(fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b)) || fabs(a - b) <= 1e-9))
                    diff++;
            }
        paired_t pt = time_pairs(run_ours, run_talib, &p, runs);
        bench_stats_t so = pt.ours, st = pt.theirs;
        double ours = so.median / (double)n * 1e9, theirs = st.median / (double)n * 1e9;
        char name[96], ref[96];
        snprintf(name, sizeof name, "ta.vs_talib.%s", p.info->name);
        snprintf(ref, sizeof ref, "talib.%s", p.info->name);
        printf("# %-10s ours %7.2f ns/bar  TA-Lib %7.2f ns/bar  ratio %.2f  lookback %d/%d  "
               "values differing: %zu\n",
               p.info->name, ours, theirs, pt.ratio, lb, p.beg, diff);
        bench_report(name, ours, "ns/bar", so.min / (double)n * 1e9, so.max / (double)n * 1e9,
                     ref, pt.ratio);
        for (int k = 0; k < CB_TA_MAX_OUTPUTS; k++) {
            free(p.out[k]);
            free(p.tout[k]);
        }
    }
    TA_Shutdown();
    for (int k = 0; k < 7; k++)
        free(d.col[k]);
    return 0;
}
