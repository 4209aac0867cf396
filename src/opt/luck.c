/* The luck baseline: how does the best result compare with strategies that enter at random,
 * with the same number of trades and the same holding times, on the same data? */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/opt.h"

typedef struct slot {
    size_t decision; /* series index of the bar whose close decides the entry */
    size_t hold;     /* bars from entry fill to exit fill (>= 1) */
} slot_t;

/* One pair's script: enter at each slot's decision bar, exit `hold` bars after the fill. */
typedef struct script {
    slot_t *slots;
    size_t n, next;
    size_t cur_hold;
} script_t;

static void *script_init(const char *const *names, const double *values, size_t n, char *err,
                         size_t err_size)
{
    (void)names;
    (void)values;
    (void)n;
    (void)err;
    (void)err_size;
    return NULL; /* instances are built by the baseline itself */
}

static size_t script_warmup(void *self)
{
    (void)self;
    return 0;
}

static int script_on_bar(void *self, const cb_bar_view_t *bars, const cb_position_view_t *pos,
                         cb_decision_t *out)
{
    script_t *s = self;
    size_t i = bars->n - 1;
    if (pos->open) {
        /* The exit decided at the close of bar d + hold fills hold bars after the entry. */
        if (pos->bars_held + 1 >= s->cur_hold)
            out->exit = 1;
        return 0;
    }
    while (s->next < s->n && s->slots[s->next].decision < i)
        s->next++; /* an entry the engine refused: skip it */
    if (s->next < s->n && s->slots[s->next].decision == i) {
        out->enter = 1;
        s->cur_hold = s->slots[s->next].hold;
        s->next++;
    }
    return 0;
}

static void script_destroy(void *self) { (void)self; }

static const cb_strategy_v1_t script_vt = {
    CB_STRATEGY_ABI_VERSION, "random-entry", script_init, script_warmup, script_on_bar,
    script_destroy,
};

static uint64_t mix64(uint64_t z)
{
    z += UINT64_C(0x9E3779B97F4A7C15);
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static uint64_t next_rand(uint64_t *st)
{
    *st += UINT64_C(0x9E3779B97F4A7C15);
    return mix64(*st);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct pair_plan {
    size_t lo, hi;      /* decisions in [lo, hi) */
    size_t n;           /* trades */
    size_t *holds;      /* holding times of the best run's trades */
    size_t need;        /* sum of (hold + 1) */
} pair_plan_t;

typedef struct luck_ctx {
    const cb_engine_config_t *cfg;
    cb_engine_config_t rcfg;
    const cb_engine_pair_t *pairs;
    size_t n_pairs;
    pair_plan_t *plans;
    uint64_t seed;
    double *finals;
} luck_ctx_t;

static int run_one(void *vctx, size_t run)
{
    luck_ctx_t *c = vctx;
    uint64_t st = mix64(c->seed ^ mix64((uint64_t)run + 1));
    cb_engine_pair_t *pairs = calloc(c->n_pairs, sizeof *pairs);
    script_t *scripts = calloc(c->n_pairs, sizeof *scripts);
    size_t max_n = 1;
    for (size_t k = 0; k < c->n_pairs; k++)
        if (c->plans[k].n > max_n)
            max_n = c->plans[k].n;
    size_t *gaps = malloc(max_n * sizeof *gaps), *order = malloc(max_n * sizeof *order);
    int rc = 0;
    if (!pairs || !scripts || !gaps || !order) {
        rc = CB_ENOMEM;
        goto done;
    }
    for (size_t k = 0; k < c->n_pairs && !rc; k++) {
        const pair_plan_t *pl = &c->plans[k];
        pairs[k] = c->pairs[k];
        pairs[k].strategy = &script_vt;
        pairs[k].strategy_self = &scripts[k];
        pairs[k].entry_signal = pairs[k].exit_signal = NULL; /* the rules' own, not the script's */
        scripts[k].n = pl->n;
        if (!pl->n)
            continue;
        scripts[k].slots = malloc(pl->n * sizeof(slot_t));
        if (!scripts[k].slots) {
            rc = CB_ENOMEM;
            break;
        }
        /* A random order of the holding times, then gaps by "stars and bars": n sorted
         * uniform draws in [0, free] give the free bars before each trade. */
        for (size_t j = 0; j < pl->n; j++)
            order[j] = pl->holds[j];
        for (size_t j = pl->n; j > 1; j--) {
            size_t r = (size_t)(next_rand(&st) % j), t = order[j - 1];
            order[j - 1] = order[r];
            order[r] = t;
        }
        size_t free_bars = (pl->hi - pl->lo) - pl->need;
        for (size_t j = 0; j < pl->n; j++)
            gaps[j] = (size_t)(next_rand(&st) % ((uint64_t)free_bars + 1));
        qsort(gaps, pl->n, sizeof *gaps, cmp_size);
        size_t used = 0;
        for (size_t j = 0; j < pl->n; j++) {
            scripts[k].slots[j].decision = pl->lo + gaps[j] + used;
            scripts[k].slots[j].hold = order[j];
            used += order[j] + 1;
        }
    }
    if (!rc) {
        cb_engine_result_t res;
        cb_diag_t d;
        rc = cb_engine_run(&c->rcfg, pairs, c->n_pairs, &res, &d);
        if (!rc) {
            c->finals[run] = (double)res.final_balance;
            cb_engine_result_free(&res);
        }
    }
done:
    if (scripts)
        for (size_t k = 0; k < c->n_pairs; k++)
            free(scripts[k].slots);
    free(scripts);
    free(pairs);
    free(gaps);
    free(order);
    return rc;
}

int cb_luck_baseline(const cb_engine_config_t *cfg, const cb_engine_pair_t *pairs,
                     size_t n_pairs, const cb_engine_result_t *best, size_t runs, uint64_t seed,
                     int jobs, cb_luck_result_t *out, cb_diag_t *diag)
{
    memset(out, 0, sizeof *out);
    if (!cfg || !pairs || !n_pairs || !best || !runs)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL, "luck baseline: nothing to run");
    luck_ctx_t c;
    memset(&c, 0, sizeof c);
    c.cfg = cfg;
    c.rcfg = *cfg;
    c.rcfg.stop_loss = c.rcfg.take_profit = c.rcfg.trailing_stop = c.rcfg.trailing_offset = 0;
    c.rcfg.venue = NULL;
    c.rcfg.chart_points = 2;
    c.pairs = pairs;
    c.n_pairs = n_pairs;
    c.seed = seed;
    c.plans = calloc(n_pairs, sizeof *c.plans);
    c.finals = calloc(runs, sizeof *c.finals);
    int rc = 0;
    if (!c.plans || !c.finals) {
        rc = CB_ENOMEM;
        goto done;
    }
    for (size_t k = 0; k < n_pairs && !rc; k++) {
        pair_plan_t *pl = &c.plans[k];
        const cb_series_t *s = pairs[k].series;
        size_t warm = pairs[k].strategy && pairs[k].strategy->warmup
                          ? pairs[k].strategy->warmup(pairs[k].strategy_self)
                          : 0;
        size_t lo = cfg->from_ms ? cb_series_lower_bound(s, cfg->from_ms) : 0;
        size_t hi = cfg->to_ms ? cb_series_lower_bound(s, cfg->to_ms + 1) : s->n;
        if (warm > 0 && lo < warm - 1)
            lo = warm - 1;
        pl->lo = lo;
        pl->hi = hi > 0 ? hi - 1 : 0; /* the last bar settles: no decision there */
        for (size_t t = 0; t < best->n_trades; t++)
            if (best->trades[t].pair == k)
                pl->n++;
        pl->holds = calloc(pl->n ? pl->n : 1, sizeof *pl->holds);
        if (!pl->holds) {
            rc = CB_ENOMEM;
            break;
        }
        size_t j = 0;
        for (size_t t = 0; t < best->n_trades; t++)
            if (best->trades[t].pair == k) {
                size_t h = best->trades[t].bars_held;
                pl->holds[j++] = h ? h : 1;
                pl->need += (h ? h : 1) + 1;
            }
        if (pl->hi < pl->lo || pl->need > pl->hi - pl->lo)
            rc = cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, pairs[k].instrument.pair,
                             "luck baseline: %zu trades holding %zu bars in all do not fit in "
                             "%zu bars",
                             pl->n, pl->need, pl->hi > pl->lo ? pl->hi - pl->lo : 0);
    }
    if (!rc)
        rc = cb_opt_parallel(runs, jobs, run_one, &c, NULL, NULL);
    if (!rc) {
        double bestf = (double)best->final_balance, beaten = 0;
        for (size_t i = 0; i < runs; i++)
            beaten += c.finals[i] < bestf ? 1.0 : c.finals[i] == bestf ? 0.5 : 0.0;
        qsort(c.finals, runs, sizeof *c.finals, cmp_double);
        double start = (double)cfg->start_balance;
        out->runs = runs;
        out->percentile = 100.0 * beaten / (double)runs;
        out->best_return_pct = (bestf / start - 1) * 100;
        out->median_return_pct = (c.finals[runs / 2] / start - 1) * 100;
        out->p95_return_pct =
            (c.finals[(size_t)floor(0.95 * (double)(runs - 1))] / start - 1) * 100;
    }
done:
    if (c.plans)
        for (size_t k = 0; k < n_pairs; k++)
            free(c.plans[k].holds);
    free(c.plans);
    free(c.finals);
    return rc;
}
