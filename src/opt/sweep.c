/* Parameter spaces, seeded sampling, walk-forward folds, the parallel runner and the verdict. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "comeback/opt.h"

size_t cb_param_count(const cb_param_range_t *r)
{
    double k = floor((r->hi - r->lo) / r->step + 1e-9);
    return k < 0 ? 0 : (size_t)k + 1;
}

size_t cb_param_space_size(const cb_param_space_t *space)
{
    size_t total = 1;
    for (size_t k = 0; k < space->n; k++) {
        size_t c = cb_param_count(&space->p[k]);
        if (c && total > SIZE_MAX / c)
            return SIZE_MAX;
        total *= c;
    }
    return total;
}

void cb_param_space_point(const cb_param_space_t *space, size_t index, double *values)
{
    for (size_t k = space->n; k-- > 0;) {
        const cb_param_range_t *r = &space->p[k];
        size_t c = cb_param_count(r);
        size_t i = index % c;
        index /= c;
        /* lo + i*step, snapped to the step's decimals so 0.1 steps print as 0.3, not 0.30000004 */
        double v = r->lo + (double)i * r->step;
        double scale = 1e9;
        values[k] = round(v * scale) / scale;
    }
}

int cb_param_space_add(cb_param_space_t *space, const char *name, double lo, double hi,
                       double step, cb_diag_t *diag)
{
    if (!name || !*name || strlen(name) >= sizeof space->p[0].name)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "parameter", "invalid name '%s'",
                           name ? name : "");
    if (!isfinite(lo) || !isfinite(hi) || !isfinite(step) || lo > hi || step <= 0)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL,
                           "parameter '%s': range %g..%g step %g is empty or invalid (need lo <= "
                           "hi and step > 0)",
                           name, lo, hi, step);
    size_t k = 0;
    while (k < space->n && strcmp(space->p[k].name, name) != 0)
        k++;
    if (k == space->n) {
        if (space->n >= CB_OPT_MAX_PARAMS)
            return cb_diag_set(diag, CB_ELIMIT, NULL, 0, 0, NULL,
                               "at most %d parameters can be swept", CB_OPT_MAX_PARAMS);
        space->n++;
    }
    cb_param_range_t *r = &space->p[k];
    snprintf(r->name, sizeof r->name, "%s", name);
    r->lo = lo;
    r->hi = hi;
    r->step = step;
    return 0;
}

static int parse_double(const char *s, const char *end, double *out)
{
    char buf[64];
    size_t n = (size_t)(end - s);
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *e;
    *out = strtod(buf, &e);
    return (*e == '\0' && isfinite(*out)) ? 0 : -1;
}

int cb_param_space_add_spec(cb_param_space_t *space, const char *spec, cb_diag_t *diag)
{
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec)
        return cb_diag_set(diag, CB_EPARSE, NULL, 0, 0, "--param",
                           "expected name=lo:hi:step, got \"%s\"", spec);
    char name[32];
    size_t n = (size_t)(eq - spec);
    if (n >= sizeof name)
        return cb_diag_set(diag, CB_EPARSE, NULL, 0, 0, "--param", "name too long in \"%s\"",
                           spec);
    memcpy(name, spec, n);
    name[n] = '\0';
    const char *a = eq + 1, *c1 = strchr(a, ':');
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    double lo, hi, step;
    if (!c1 || !c2 || parse_double(a, c1, &lo) || parse_double(c1 + 1, c2, &hi) ||
        parse_double(c2 + 1, c2 + 1 + strlen(c2 + 1), &step))
        return cb_diag_set(diag, CB_EPARSE, NULL, 0, 0, "--param",
                           "expected name=lo:hi:step with three numbers, got \"%s\"", spec);
    int r = cb_param_space_add(space, name, lo, hi, step, diag);
    return r == CB_EINVAL ? CB_EPARSE : r;
}

/* splitmix64: a small, well-mixed generator whose output is the same everywhere. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

size_t cb_param_space_sample(const cb_param_space_t *space, uint64_t seed, size_t samples,
                             size_t *indices)
{
    size_t total = cb_param_space_size(space);
    if (samples >= total) {
        for (size_t i = 0; i < total; i++)
            indices[i] = i;
        return total;
    }
    /* Floyd's algorithm: `samples` distinct values from [0, total) with one draw each. */
    uint64_t st = seed;
    size_t m = 0;
    for (size_t j = total - samples; j < total; j++) {
        size_t t = (size_t)(splitmix64(&st) % (uint64_t)(j + 1));
        int seen = 0;
        for (size_t k = 0; k < m; k++)
            if (indices[k] == t) {
                seen = 1;
                break;
            }
        indices[m++] = seen ? j : t;
    }
    qsort(indices, m, sizeof *indices, cmp_size);
    return m;
}

int cb_walk_forward_folds(size_t n_bars, size_t folds, double train_frac, int anchored,
                          size_t min_bars, cb_wf_fold_t *out)
{
    if (folds < 1 || !(train_frac > 0 && train_frac < 1))
        return CB_EINVAL;
    double L = (double)n_bars / (train_frac + (double)folds * (1 - train_frac));
    double train = train_frac * L, test = (1 - train_frac) * L;
    for (size_t k = 0; k < folds; k++) {
        size_t ts = (size_t)llround(train + (double)k * test);
        size_t te = k + 1 == folds ? n_bars : (size_t)llround(train + (double)(k + 1) * test);
        size_t tr = anchored ? 0 : (ts > (size_t)llround(train) ? ts - (size_t)llround(train) : 0);
        if (te <= ts || ts - tr < min_bars || te - ts < min_bars)
            return CB_EINVAL;
        out[k].train_from = tr;
        out[k].train_to = ts;
        out[k].test_from = ts;
        out[k].test_to = te;
    }
    return 0;
}

int cb_opt_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}

typedef struct pool {
    size_t n;
    cb_opt_task_fn fn;
    void *ctx;
    atomic_size_t next;
    atomic_size_t done;
    atomic_int stop;
    pthread_mutex_t mu;
    size_t fail_index;
    int fail_rc;
} pool_t;

static void *worker(void *arg)
{
    pool_t *p = arg;
    for (;;) {
        if (atomic_load(&p->stop))
            break;
        size_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n)
            break;
        int rc = p->fn(p->ctx, i);
        if (rc) {
            pthread_mutex_lock(&p->mu);
            if (p->fail_rc == 0 || i < p->fail_index) {
                p->fail_rc = rc;
                p->fail_index = i;
            }
            pthread_mutex_unlock(&p->mu);
            atomic_store(&p->stop, 1);
        }
        atomic_fetch_add(&p->done, 1);
    }
    return NULL;
}

int cb_opt_parallel(size_t n_tasks, int jobs, cb_opt_task_fn fn, void *ctx,
                    cb_opt_progress_fn progress, void *progress_ctx)
{
    if (jobs <= 0)
        jobs = cb_opt_cores();
    if ((size_t)jobs > n_tasks)
        jobs = n_tasks ? (int)n_tasks : 1;
    pool_t p;
    memset(&p, 0, sizeof p);
    p.n = n_tasks;
    p.fn = fn;
    p.ctx = ctx;
    atomic_init(&p.next, 0);
    atomic_init(&p.done, 0);
    atomic_init(&p.stop, 0);
    pthread_mutex_init(&p.mu, NULL);
    pthread_t *th = calloc((size_t)jobs, sizeof *th);
    if (!th) {
        pthread_mutex_destroy(&p.mu);
        return CB_ENOMEM;
    }
    int started = 0;
    /* The calling thread works too, so jobs = 1 runs everything here. */
    for (int t = 1; t < jobs; t++) {
        if (pthread_create(&th[t], NULL, worker, &p) != 0)
            break;
        started++;
    }
    if (progress) {
        /* Report between our own tasks; the last report comes after all are done. */
        for (;;) {
            if (atomic_load(&p.stop))
                break;
            size_t i = atomic_fetch_add(&p.next, 1);
            if (i >= p.n)
                break;
            int rc = fn(ctx, i);
            if (rc) {
                pthread_mutex_lock(&p.mu);
                if (p.fail_rc == 0 || i < p.fail_index) {
                    p.fail_rc = rc;
                    p.fail_index = i;
                }
                pthread_mutex_unlock(&p.mu);
                atomic_store(&p.stop, 1);
            }
            atomic_fetch_add(&p.done, 1);
            progress(progress_ctx, atomic_load(&p.done), n_tasks);
        }
    } else {
        worker(&p);
    }
    for (int t = 1; t <= started; t++)
        pthread_join(th[t], NULL);
    if (progress)
        progress(progress_ctx, atomic_load(&p.done), n_tasks);
    free(th);
    pthread_mutex_destroy(&p.mu);
    return p.fail_rc;
}

static void fmt_stat(char *buf, size_t size, const char *label, double v, int percent)
{
    if (isnan(v))
        snprintf(buf, size, "%s n/a", label);
    else if (percent)
        snprintf(buf, size, "%s %.0f%%", label, v);
    else
        snprintf(buf, size, "%s %.2f", label, v);
}

cb_verdict_kind_t cb_opt_verdict(double pbo, double dsr_p, double luck_percentile, char *buf,
                                 size_t size)
{
    char a[48], b[64], c[64];
    fmt_stat(a, sizeof a, "PBO", pbo, 0);
    fmt_stat(b, sizeof b, "deflated Sharpe p =", dsr_p, 0);
    fmt_stat(c, sizeof c, "beats random entries:", luck_percentile, 1);
    /* A missing luck baseline does not rescue an insignificant deflated Sharpe. */
    int overfit = (!isnan(pbo) && pbo >= CB_VERDICT_PBO_BAD) ||
                  (!isnan(dsr_p) && dsr_p >= CB_VERDICT_DSR_P &&
                   !(luck_percentile >= CB_VERDICT_LUCK_PCT));
    int credible = !isnan(pbo) && pbo < CB_VERDICT_PBO_GOOD && !isnan(dsr_p) &&
                   dsr_p < CB_VERDICT_DSR_P && !isnan(luck_percentile) &&
                   luck_percentile >= CB_VERDICT_LUCK_PCT;
    if (overfit) {
        snprintf(buf, size,
                 "Verdict: likely overfit (%s, %s, %s). Do not trade this without more evidence.",
                 a, b, c);
        return CB_VERDICT_OVERFIT;
    }
    if (credible) {
        snprintf(buf, size,
                 "Verdict: credible (%s, %s, %s). The edge survives the overfitting tests; "
                 "still paper-trade it and start small.",
                 a, b, c);
        return CB_VERDICT_CREDIBLE;
    }
    snprintf(buf, size,
             "Verdict: inconclusive (%s, %s, %s). Gather more out-of-sample evidence (paper "
             "trading, more data) before risking money.",
             a, b, c);
    return CB_VERDICT_WEAK;
}
