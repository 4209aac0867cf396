/* The optimizer: every combination through the backtest session, ranked, then the statistics
 * that say whether the best one beats luck, and the walk-forward analysis. */
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "comeback/opt.h"
#include "comeback/report.h"
#include "opt/opt_int.h"

#ifdef CB_HAVE_MPI
#include <mpi.h>
#endif

static const char *const obj_names[] = {
#define CB_OBJ_NAME_(id, name, desc) name,
    CB_OBJECTIVE_MAP(CB_OBJ_NAME_)
#undef CB_OBJ_NAME_
};

static const cb_metric_id_t obj_metric[] = {CB_M_SHARPE, CB_M_SORTINO,     CB_M_CALMAR,
                                            CB_M_TOTAL_RETURN, CB_M_SQN, CB_M_PROFIT_FACTOR};

const char *cb_objective_name(cb_objective_t o)
{
    return (unsigned)o < CB_OBJ_COUNT ? obj_names[o] : "unknown";
}

int cb_objective_parse(const char *name, cb_objective_t *out)
{
    for (int i = 0; i < CB_OBJ_COUNT; i++)
        if (name && !strcmp(name, obj_names[i])) {
            *out = (cb_objective_t)i;
            return 0;
        }
    return CB_EINVAL;
}

typedef struct opt_ctx {
    const cb_backtest_t *bt;
    const cb_opt_config_t *cfg;
    size_t n_file_params;
    size_t map[CB_OPT_MAX_PARAMS];  /* swept parameter k -> file parameter index */
    const size_t *indices;          /* grid indices to evaluate */
    cb_opt_row_t *rows;
    double **daily;                 /* per row: daily returns (NULL when not kept) */
    size_t *n_daily;
    cb_engine_config_t ecfg;        /* the window of this pass */
    int keep_daily;
    cb_rules_cache_t *cache;        /* shared indicator columns (NULL: no sharing) */
    cb_diag_t err;                  /* the failing task's diagnostic */
    size_t err_index;
    int err_set;
    pthread_mutex_t mu;
} opt_ctx_t;

static double metric(const cb_metrics_t *m, cb_metric_id_t id) { return m->v[id].value; }

/* The file's values with the swept ones of grid point `index` put in. */
static void assignment(const opt_ctx_t *c, size_t index, double *values, double *swept)
{
    cb_rules_params_default(c->bt->file, values);
    cb_param_space_point(&c->cfg->space, index, swept);
    for (size_t k = 0; k < c->cfg->space.n; k++)
        values[c->map[k]] = swept[k];
}

static void fill_row(cb_opt_row_t *row, const cb_metrics_t *m, cb_objective_t obj)
{
    row->objective = metric(m, obj_metric[obj]);
    row->total_return_pct = metric(m, CB_M_TOTAL_RETURN);
    row->cagr_pct = metric(m, CB_M_CAGR);
    row->sharpe = metric(m, CB_M_SHARPE);
    row->sortino = metric(m, CB_M_SORTINO);
    row->calmar = metric(m, CB_M_CALMAR);
    row->sqn = metric(m, CB_M_SQN);
    row->profit_factor = metric(m, CB_M_PROFIT_FACTOR);
    row->max_drawdown_pct = metric(m, CB_M_MAX_DD_PCT);
    row->win_rate_pct = metric(m, CB_M_WIN_RATE);
    double t = metric(m, CB_M_TRADES);
    row->trades = isnan(t) ? 0 : (size_t)t;
}

/* Daily returns of end-of-day equity, the first against the start balance. */
static double *daily_returns(const cb_engine_result_t *r, size_t *n)
{
    *n = r->n_days;
    double *d = malloc((r->n_days ? r->n_days : 1) * sizeof *d);
    if (!d)
        return NULL;
    double prev = (double)r->start_balance / 1e8;
    for (size_t i = 0; i < r->n_days; i++) {
        d[i] = prev > 0 ? r->day_equity[i] / prev - 1 : 0;
        prev = r->day_equity[i];
    }
    return d;
}

/* One backtest whose rules read their indicators from the shared cache (as cb_backtest_run
 * does without it; the decisions are the same). */
static int run_shared(const opt_ctx_t *c, const double *values, cb_engine_result_t *out,
                      cb_diags_t *diags, cb_diag_t *diag)
{
    const cb_backtest_t *bt = c->bt;
    if (!c->cache)
        return cb_backtest_run(bt, values, &c->ecfg, out, diags, diag);
    memset(out, 0, sizeof *out);
    cb_rules_strategy_t *strat = NULL;
    int rc = cb_rules_strategy_new(bt->file, values, &strat, diags);
    if (rc) {
        if (diags && diags->n)
            *diag = diags->items[0];
        else
            cb_diag_set(diag, rc, bt->path, 0, 0, NULL, "the strategy cannot be prepared: %s",
                        cb_strerror(rc));
        return rc;
    }
    cb_engine_pair_t pairs[CB_BT_MAX_PAIRS];
    memset(pairs, 0, sizeof pairs);
    for (size_t k = 0; k < bt->n && !rc; k++) {
        const cb_series_t *s = bt->series[k];
        cb_bar_view_t hist = {s->n, s->time_ms, s->open, s->high, s->low, s->close, s->volume};
        pairs[k].series = s;
        pairs[k].instrument = bt->instruments[k];
        rc = cb_rules_strategy_instance_shared(strat, bt->tf_ms[k], c->cache, &hist,
                                               &pairs[k].strategy, &pairs[k].strategy_self, diag);
        if (!rc)
            cb_backtest_pair_signals(&pairs[k]);
    }
    if (!rc)
        rc = cb_engine_run(&c->ecfg, pairs, bt->n, out, diag);
    cb_backtest_pairs_free(bt, pairs);
    cb_rules_strategy_free(strat);
    return rc;
}

static int run_task(void *vctx, size_t i)
{
    opt_ctx_t *c = vctx;
    double values[256], swept[CB_OPT_MAX_PARAMS];
    assignment(c, c->indices[i], values, swept);
    cb_engine_result_t res;
    cb_diag_t d;
    cb_diag_clear(&d);
    cb_diags_t diags = {0};
    diags.max_keep = 1;
    int rc = run_shared(c, values, &res, &diags, &d);
    if (rc) {
        pthread_mutex_lock(&c->mu);
        if (!c->err_set || i < c->err_index) {
            c->err = diags.n ? diags.items[0] : d;
            c->err_index = i;
            c->err_set = 1;
        }
        pthread_mutex_unlock(&c->mu);
        cb_diags_free(&diags);
        return rc;
    }
    cb_diags_free(&diags);
    cb_metrics_t m;
    rc = cb_metrics_compute(&res, &m);
    if (!rc) {
        cb_opt_row_t *row = &c->rows[i];
        row->index = c->indices[i];
        memcpy(row->values, swept, sizeof swept);
        fill_row(row, &m, c->cfg->objective);
        cb_metrics_free(&m);
        if (c->keep_daily && !(c->daily[i] = daily_returns(&res, &c->n_daily[i])))
            rc = CB_ENOMEM;
    }
    cb_engine_result_free(&res);
    return rc;
}

/* Better objective first; NaN last; ties by grid index. */
typedef struct rank_key {
    double objective;
    size_t index, row;
} rank_key_t;

static int cmp_rank(const void *a, const void *b)
{
    const rank_key_t *x = a, *y = b;
    int xn = isnan(x->objective), yn = isnan(y->objective);
    if (xn != yn)
        return xn - yn;
    if (!xn && x->objective != y->objective)
        return x->objective > y->objective ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

static int rank_rows(const cb_opt_row_t *rows, size_t n, size_t *rank)
{
    rank_key_t *k = malloc((n ? n : 1) * sizeof *k);
    if (!k)
        return CB_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        k[i].objective = rows[i].objective;
        k[i].index = rows[i].index;
        k[i].row = i;
    }
    qsort(k, n, sizeof *k, cmp_rank);
    for (size_t i = 0; i < n; i++)
        rank[i] = k[i].row;
    free(k);
    return 0;
}

/* Evaluates indices[0..n) in the window of ecfg into rows (and daily returns when asked). */
static int evaluate(opt_ctx_t *c, const cb_engine_config_t *ecfg, size_t n, cb_opt_row_t *rows,
                    int keep_daily, cb_diag_t *diag)
{
    c->ecfg = *ecfg;
    c->rows = rows;
    c->keep_daily = keep_daily;
    c->err_set = 0;
    int rc = cb_opt_parallel(n, c->cfg->jobs, run_task, c, c->cfg->progress,
                             c->cfg->progress_ctx);
    if (rc && diag) {
        if (c->err_set)
            *diag = c->err;
        else
            cb_diag_set(diag, rc, NULL, 0, 0, NULL, "%s", cb_strerror(rc));
    }
    return rc;
}

static int64_t bar_time(const cb_backtest_t *bt, size_t i) { return bt->series[0]->time_ms[i]; }

static int walk_forward(opt_ctx_t *c, size_t n_idx, cb_opt_report_t *out, cb_diag_t *diag)
{
    const cb_backtest_t *bt = c->bt;
    const cb_series_t *s0 = bt->series[0];
    size_t lo = bt->cfg.from_ms ? cb_series_lower_bound(s0, bt->cfg.from_ms) : 0;
    size_t hi = bt->cfg.to_ms ? cb_series_lower_bound(s0, bt->cfg.to_ms + 1) : s0->n;
    size_t folds = c->cfg->wf_folds;
    double frac = c->cfg->wf_train_frac > 0 ? c->cfg->wf_train_frac : 0.7;
    cb_wf_fold_t *f = calloc(folds, sizeof *f);
    out->folds = calloc(folds, sizeof *out->folds);
    cb_opt_row_t *rows = calloc(n_idx, sizeof *rows);
    size_t *rank = calloc(n_idx, sizeof *rank);
    int rc = 0;
    if (!f || !out->folds || !rows || !rank) {
        rc = CB_ENOMEM;
        goto done;
    }
    if (hi <= lo || cb_walk_forward_folds(hi - lo, folds, frac, c->cfg->wf_anchored, 2, f) != 0) {
        rc = cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "--walk-forward",
                         "%zu folds with a %.0f%% training share do not fit in %zu bars", folds,
                         frac * 100, hi > lo ? hi - lo : 0);
        goto done;
    }
    double growth = 1, is_cagr_sum = 0;
    for (size_t k = 0; k < folds && !rc; k++) {
        cb_wf_result_t *w = &out->folds[k];
        w->fold = f[k];
        w->fold.train_from += lo;
        w->fold.train_to += lo;
        w->fold.test_from += lo;
        w->fold.test_to += lo;
        cb_engine_config_t train = bt->cfg, test = bt->cfg;
        train.from_ms = w->train_from_ms = bar_time(bt, w->fold.train_from);
        train.to_ms = w->train_to_ms = bar_time(bt, w->fold.train_to - 1);
        test.from_ms = w->test_from_ms = bar_time(bt, w->fold.test_from);
        test.to_ms = w->test_to_ms = bar_time(bt, w->fold.test_to - 1);
        if ((rc = evaluate(c, &train, n_idx, rows, 0, diag)) != 0)
            break;
        if ((rc = rank_rows(rows, n_idx, rank)) != 0)
            break;
        const cb_opt_row_t *best = &rows[rank[0]];
        memcpy(w->values, best->values, sizeof w->values);
        w->is_objective = best->objective;
        w->is_cagr_pct = best->cagr_pct;
        is_cagr_sum += best->cagr_pct;
        size_t one = best->index;
        const size_t *saved = c->indices;
        c->indices = &one;
        cb_opt_row_t oos;
        memset(&oos, 0, sizeof oos);
        rc = evaluate(c, &test, 1, &oos, 0, diag);
        c->indices = saved;
        if (rc)
            break;
        w->oos_objective = oos.objective;
        w->oos_return_pct = oos.total_return_pct;
        w->oos_cagr_pct = oos.cagr_pct;
        w->oos_sharpe = oos.sharpe;
        w->oos_max_drawdown_pct = oos.max_drawdown_pct;
        w->oos_trades = oos.trades;
        growth *= 1 + oos.total_return_pct / 100;
    }
    if (!rc) {
        out->n_folds = folds;
        out->wf_oos_return_pct = (growth - 1) * 100;
        double days = (double)(out->folds[folds - 1].test_to_ms - out->folds[0].test_from_ms) /
                      (double)CB_MS_PER_DAY;
        out->wf_oos_cagr_pct = days > 0 ? (pow(growth, 365.25 / days) - 1) * 100 : NAN;
        out->wf_is_cagr_pct = is_cagr_sum / (double)folds;
        out->wf_efficiency =
            out->wf_is_cagr_pct > 0 ? out->wf_oos_cagr_pct / out->wf_is_cagr_pct : NAN;
    }
done:
    free(f);
    free(rows);
    free(rank);
    return rc;
}

static int luck(opt_ctx_t *c, const cb_opt_row_t *best, cb_opt_report_t *out)
{
    const cb_backtest_t *bt = c->bt;
    double values[256], swept[CB_OPT_MAX_PARAMS];
    assignment(c, best->index, values, swept);
    cb_rules_strategy_t *strat = NULL;
    int rc = cb_rules_strategy_new(bt->file, values, &strat, NULL);
    if (rc)
        return rc;
    cb_engine_pair_t pairs[CB_BT_MAX_PAIRS];
    cb_diag_t d;
    rc = cb_backtest_pairs(bt, strat, pairs, &d);
    if (!rc) {
        cb_engine_result_t res;
        rc = cb_engine_run(&bt->cfg, pairs, bt->n, &res, &d);
        if (!rc) {
            size_t runs = c->cfg->luck_runs ? c->cfg->luck_runs : 1000;
            int lrc = cb_luck_baseline(&bt->cfg, pairs, bt->n, &res, runs, c->cfg->seed,
                                       c->cfg->jobs, &out->luck, &d);
            out->has_luck = lrc == 0 && res.n_trades > 0;
            if (lrc && lrc != CB_EINVAL)
                rc = lrc;
            cb_engine_result_free(&res);
        }
        cb_backtest_pairs_free(bt, pairs);
    }
    cb_rules_strategy_free(strat);
    return rc;
}

/* This process's place among MPI ranks (0 of 1 without MPI or outside mpirun). */
static void world(int *rank, int *size)
{
    *rank = 0;
    *size = 1;
#ifdef CB_HAVE_MPI
    int init = 0, fin = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    if (init && !fin) {
        MPI_Comm_rank(MPI_COMM_WORLD, rank);
        MPI_Comm_size(MPI_COMM_WORLD, size);
    }
#endif
}

/* Evaluates every combination: on one process with threads, or spread over MPI ranks (rank r
 * takes positions r, r + size, ...) and gathered so that every rank holds all rows and daily
 * returns in position order, exactly as a single process would. */
static int evaluate_all(opt_ctx_t *c, size_t n, cb_opt_row_t *rows, cb_diag_t *diag)
{
    int rank, size;
    world(&rank, &size);
    if (size <= 1)
        return evaluate(c, &c->bt->cfg, n, rows, 1, diag);
#ifdef CB_HAVE_MPI
    size_t mine = n > (size_t)rank ? (n - (size_t)rank + (size_t)size - 1) / (size_t)size : 0;
    size_t *idx = malloc((mine ? mine : 1) * sizeof *idx);
    cb_opt_row_t *local = calloc(mine ? mine : 1, sizeof *local);
    const size_t *all = c->indices;
    double **daily_all = c->daily;
    size_t *nd_all = c->n_daily;
    int rc = idx && local ? 0 : CB_ENOMEM;
    for (size_t j = 0; j < mine && !rc; j++)
        idx[j] = all[(size_t)rank + j * (size_t)size];
    if (!rc) {
        c->indices = idx;
        rc = evaluate(c, &c->bt->cfg, mine, local, 1, diag);
        c->indices = all;
    }
    /* Everyone learns whether anyone failed before any collective that could hang. */
    int worst = rc;
    MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (worst) {
        if (!rc)
            cb_diag_set(diag, worst, NULL, 0, 0, NULL, "another MPI rank failed: %s",
                        cb_strerror(worst));
        free(idx);
        free(local);
        return worst;
    }
    /* Every combination has the same days (one window); check it across ranks. */
    long long t_local = mine ? (long long)nd_all[0] : -1, t_max = 0, t_min = 0;
    long long t_for_min = mine ? t_local : LLONG_MAX;
    MPI_Allreduce(&t_local, &t_max, 1, MPI_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
    MPI_Allreduce(&t_for_min, &t_min, 1, MPI_LONG_LONG, MPI_MIN, MPI_COMM_WORLD);
    for (size_t j = 0; j < mine; j++)
        if ((long long)nd_all[j] != t_max)
            t_min = -1;
    if (t_min != t_max || t_max < 0) {
        free(idx);
        free(local);
        return cb_diag_set(diag, CB_EINTERNAL, NULL, 0, 0, NULL,
                           "MPI: combinations disagree on the number of days");
    }
    size_t T = (size_t)t_max;
    int *counts = malloc((size_t)size * sizeof *counts), *displs = malloc((size_t)size * sizeof *displs);
    int *dcounts = malloc((size_t)size * sizeof *dcounts), *ddispls = malloc((size_t)size * sizeof *ddispls);
    cb_opt_row_t *gathered = malloc(n * sizeof *gathered);
    double *dl = malloc((mine ? mine : 1) * (T ? T : 1) * sizeof *dl);
    double *dg = malloc(n * (T ? T : 1) * sizeof *dg);
    if (!counts || !displs || !dcounts || !ddispls || !gathered || !dl || !dg) {
        rc = CB_ENOMEM;
    } else {
        int off = 0, doff = 0;
        for (int r = 0; r < size; r++) {
            size_t m = n > (size_t)r ? (n - (size_t)r + (size_t)size - 1) / (size_t)size : 0;
            counts[r] = (int)(m * sizeof(cb_opt_row_t));
            displs[r] = off;
            off += counts[r];
            dcounts[r] = (int)(m * T);
            ddispls[r] = doff;
            doff += dcounts[r];
        }
        for (size_t j = 0; j < mine; j++)
            memcpy(dl + j * T, daily_all[j], T * sizeof *dl);
        MPI_Allgatherv(local, counts[rank], MPI_BYTE, gathered, counts, displs, MPI_BYTE,
                       MPI_COMM_WORLD);
        MPI_Allgatherv(dl, dcounts[rank], MPI_DOUBLE, dg, dcounts, ddispls, MPI_DOUBLE,
                       MPI_COMM_WORLD);
        /* Back to position order: rank r's j-th row is position r + j * size. */
        for (size_t j = 0; j < mine; j++) {
            free(daily_all[j]);
            daily_all[j] = NULL;
        }
        for (int r = 0; r < size && !rc; r++) {
            size_t m = (size_t)counts[r] / sizeof(cb_opt_row_t);
            for (size_t j = 0; j < m; j++) {
                size_t pos = (size_t)r + j * (size_t)size;
                rows[pos] = gathered[(size_t)displs[r] / sizeof(cb_opt_row_t) + j];
                daily_all[pos] = malloc((T ? T : 1) * sizeof(double));
                if (!daily_all[pos]) {
                    rc = CB_ENOMEM;
                    break;
                }
                memcpy(daily_all[pos], dg + (size_t)ddispls[r] + j * T, T * sizeof(double));
                nd_all[pos] = T;
            }
        }
    }
    free(counts);
    free(displs);
    free(dcounts);
    free(ddispls);
    free(gathered);
    free(dl);
    free(dg);
    free(idx);
    free(local);
    return rc;
#else
    return evaluate(c, &c->bt->cfg, n, rows, 1, diag);
#endif
}

/* What run_sweep does: the whole sweep (neither set), one shard of it (part: evaluate only,
 * no statistics), or the report from the parts of a sweep (parts: no evaluation). */
typedef struct sweep_mode {
    size_t k, shards;
    cb_opt_part_t *part;
    const cb_opt_part_t *parts;
    size_t n_parts;
} sweep_mode_t;

/* Evaluates positions [first, end) into the part. */
static int shard_eval(opt_ctx_t *c, size_t n, const sweep_mode_t *mode, cb_opt_report_t *out,
                      cb_diag_t *diag)
{
    cb_opt_part_t *p = mode->part;
    p->shard = mode->k;
    p->shards = mode->shards;
    p->total = n;
    cb_opt_shard_range(n, mode->k, mode->shards, &p->first, &p->end);
    size_t m = p->end - p->first;
    const size_t *all = c->indices;
    double **daily = c->daily;
    size_t *n_daily = c->n_daily;
    c->indices = all + p->first;
    c->daily = daily + p->first;
    c->n_daily = n_daily + p->first;
    int rc = evaluate(c, &c->bt->cfg, m, out->rows + p->first, 1, diag);
    c->indices = all;
    c->daily = daily;
    c->n_daily = n_daily;
    if (rc)
        return rc;
    p->n_days = m ? n_daily[p->first] : 0;
    p->rows = malloc((m ? m : 1) * sizeof *p->rows);
    p->daily = malloc((m && p->n_days ? m * p->n_days : 1) * sizeof *p->daily);
    if (!p->rows || !p->daily)
        return CB_ENOMEM;
    for (size_t r = 0; r < m; r++) {
        if (n_daily[p->first + r] != p->n_days)
            return cb_diag_set(diag, CB_EINTERNAL, NULL, 0, 0, NULL,
                               "combinations disagree on the number of days");
        p->rows[r] = out->rows[p->first + r];
        memcpy(p->daily + r * p->n_days, daily[p->first + r], p->n_days * sizeof *p->daily);
    }
    return 0;
}

/* Fills rows and daily returns from checked parts, verifying each row's combination. */
static int merge_fill(opt_ctx_t *c, size_t n, const sweep_mode_t *mode, cb_opt_report_t *out,
                      cb_diag_t *diag)
{
    for (size_t q = 0; q < mode->n_parts; q++) {
        const cb_opt_part_t *p = &mode->parts[q];
        if (p->total != n)
            return cb_diag_set(diag, CB_EINVAL, p->name, 0, 0, "total",
                               "the part is of a sweep of %zu combinations, the strategy and "
                               "settings give %zu",
                               p->total, n);
        for (size_t r = 0; r < p->end - p->first; r++) {
            size_t pos = p->first + r;
            if (p->rows[r].index != c->indices[pos]) {
                char field[48];
                snprintf(field, sizeof field, "rows[%zu].index", r);
                return cb_diag_set(diag, CB_EINVAL, p->name, 0, 0, field,
                                   "expected combination %zu at position %zu, got %zu",
                                   c->indices[pos], pos, p->rows[r].index);
            }
            out->rows[pos] = p->rows[r];
            cb_param_space_point(&c->cfg->space, p->rows[r].index, out->rows[pos].values);
            c->n_daily[pos] = p->n_days;
            c->daily[pos] = malloc((p->n_days ? p->n_days : 1) * sizeof(double));
            if (!c->daily[pos])
                return CB_ENOMEM;
            memcpy(c->daily[pos], p->daily + r * p->n_days, p->n_days * sizeof(double));
        }
    }
    return 0;
}

static int run_sweep(const cb_backtest_t *bt, const cb_opt_config_t *cfg,
                     const sweep_mode_t *mode, cb_opt_report_t *out, cb_diag_t *diag)
{
    memset(out, 0, sizeof *out);
    out->objective = cfg->objective;
    opt_ctx_t c;
    memset(&c, 0, sizeof c);
    c.bt = bt;
    c.cfg = cfg;
    c.n_file_params = cb_rules_file_n_params(bt->file);
    if (c.n_file_params > 256)
        return cb_diag_set(diag, CB_ELIMIT, bt->path, 0, 0, NULL, "more than 256 parameters");
    /* Every swept name must be a parameter of the file (with the file's "did you mean"). */
    for (size_t k = 0; k < cfg->space.n; k++) {
        size_t j = 0;
        while (j < c.n_file_params && strcmp(cb_rules_file_param(bt->file, j)->name,
                                             cfg->space.p[k].name) != 0)
            j++;
        if (j == c.n_file_params) {
            double scratch[256];
            char spec[64];
            snprintf(spec, sizeof spec, "%s=0", cfg->space.p[k].name);
            cb_rules_params_default(bt->file, scratch);
            if (cb_rules_params_set(bt->file, scratch, spec, diag) == 0)
                cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "--param", "unknown parameter '%s'",
                            cfg->space.p[k].name);
            return CB_EINVAL;
        }
        c.map[k] = j;
    }
    size_t total = cb_param_space_size(&cfg->space);
    if (total == 0 || total == SIZE_MAX)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL,
                           "the parameter space is empty or too large");
    size_t n = cfg->random ? (cfg->samples < total ? cfg->samples : total) : total;
    if (n == 0)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "--samples", "must be at least 1");
    /* Refused up front when the results alone cannot fit in this machine's memory (with
     * overcommit the allocations below could succeed and the sweep thrash for hours). */
    size_t per_row = sizeof *out->rows + sizeof *out->rank + sizeof *c.daily +
                     sizeof *c.n_daily + sizeof(size_t);
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    double phys = pages > 0 && page > 0 ? (double)pages * (double)page : 0;
    if (phys > 0 && (double)n * (double)per_row > phys)
        return cb_diag_set(diag, CB_ENOMEM, bt->path, 0, 0, NULL,
                           "a sweep of %zu combinations needs %.1f GiB for its results alone, "
                           "more than this machine's %.1f GiB: sweep fewer (coarser steps, "
                           "narrower ranges, or --search random --samples N)",
                           n, (double)n * (double)per_row / 1073741824.0, phys / 1073741824.0);
    size_t *indices = malloc(n * sizeof *indices);
    out->rows = calloc(n, sizeof *out->rows);
    out->rank = calloc(n, sizeof *out->rank);
    c.daily = calloc(n, sizeof *c.daily);
    c.n_daily = calloc(n, sizeof *c.n_daily);
    double *matrix = NULL;
    int rc = 0;
    pthread_mutex_init(&c.mu, NULL);
    if (!indices || !out->rows || !out->rank || !c.daily || !c.n_daily) {
        rc = CB_ENOMEM;
        goto done;
    }
    if (cfg->random)
        n = cb_param_space_sample(&cfg->space, cfg->seed, n, indices);
    else
        for (size_t i = 0; i < n; i++)
            indices[i] = i;
    c.indices = indices;
    out->n_rows = n;
    if (!cfg->no_share &&
        (rc = cb_rules_cache_new(cfg->cache_bytes ? cfg->cache_bytes : CB_OPT_CACHE_DEFAULT,
                                 &c.cache)) != 0)
        goto done;
    if (mode->part) {
        if (mode->k < 1 || mode->k > mode->shards || mode->shards > n) {
            rc = cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "--shard",
                             "shard %zu/%zu does not exist in a sweep of %zu combinations",
                             mode->k, mode->shards, n);
            goto done;
        }
        rc = shard_eval(&c, n, mode, out, diag);
        goto done;
    }
    if ((rc = mode->parts ? merge_fill(&c, n, mode, out, diag)
                          : evaluate_all(&c, n, out->rows, diag)) != 0)
        goto done;
    if ((rc = rank_rows(out->rows, n, out->rank)) != 0)
        goto done;
    out->best = out->rank[0];

    /* PBO over the combinations' daily returns (all share the same days). */
    size_t T = c.n_daily[0];
    out->n_days = T;
    size_t parts = cfg->pbo_partitions ? cfg->pbo_partitions : 16;
    if (n >= 2 && T >= parts * 2) {
        matrix = malloc(T * n * sizeof *matrix);
        if (!matrix) {
            rc = CB_ENOMEM;
            goto done;
        }
        for (size_t j = 0; j < n; j++)
            for (size_t t = 0; t < T; t++)
                matrix[t * n + j] = t < c.n_daily[j] ? c.daily[j][t] : 0;
        out->has_pbo = cb_pbo_cscv_jobs(matrix, T, n, parts, cfg->jobs, &out->pbo) == 0;
    }
    /* Deflated Sharpe of the best, against the spread of every combination's Sharpe. */
    if (T >= 3) {
        double *sr = malloc(n * sizeof *sr);
        if (!sr) {
            rc = CB_ENOMEM;
            goto done;
        }
        for (size_t j = 0; j < n; j++) {
            cb_moments_t m;
            cb_moments(c.daily[j], c.n_daily[j], &m);
            sr[j] = m.stdev > 0 ? m.mean / m.stdev : 0;
        }
        cb_moments_t across, best;
        cb_moments(sr, n, &across);
        cb_moments(c.daily[out->best], c.n_daily[out->best], &best);
        double var = n > 1 ? across.stdev * across.stdev : 0;
        out->has_dsr = best.stdev > 0 &&
                       cb_deflated_sharpe(sr[out->best], var, n, T, best.skew, best.kurtosis,
                                          &out->dsr) == 0 &&
                       !isnan(out->dsr.dsr);
        free(sr);
    }
    int rank, size;
    world(&rank, &size);
    /* With MPI, rank 0 alone runs the luck baseline and the walk-forward (and reports). */
    if (rank == 0 && cfg->luck_runs != SIZE_MAX &&
        (rc = luck(&c, &out->rows[out->best], out)) != 0) {
        cb_diag_set(diag, rc, NULL, 0, 0, NULL, "luck baseline failed: %s", cb_strerror(rc));
        goto done;
    }
    if (rank == 0 && cfg->wf_folds && (rc = walk_forward(&c, n, out, diag)) != 0)
        goto done;
    out->verdict_kind = cb_opt_verdict(out->has_pbo ? out->pbo.pbo : NAN,
                                       out->has_dsr ? out->dsr.p_value : NAN,
                                       out->has_luck ? out->luck.percentile : NAN, out->verdict,
                                       sizeof out->verdict);
done:
    /* Every failure says what failed (a cleared diag would print nothing useful). */
    if (rc == CB_ENOMEM && !cb_diag_is_set(diag))
        cb_diag_set(diag, rc, bt->path, 0, 0, NULL,
                    "out of memory for a sweep of %zu combinations: sweep fewer (coarser steps, "
                    "narrower ranges, or --search random --samples N)",
                    n);
    else if (rc && !cb_diag_is_set(diag))
        cb_diag_set(diag, rc, bt->path, 0, 0, NULL, "the sweep of %zu combinations failed: %s",
                    n, cb_strerror(rc));
    if (c.cache) {
        cb_rules_cache_stats(c.cache, &out->sharing);
        cb_rules_cache_free(c.cache);
    }
    for (size_t j = 0; c.daily && j < out->n_rows; j++)
        free(c.daily[j]);
    free(c.daily);
    free(c.n_daily);
    free(matrix);
    free(indices);
    pthread_mutex_destroy(&c.mu);
    if (rc || mode->part)
        cb_opt_report_free(out);
    return rc;
}

int cb_optimize(const cb_backtest_t *bt, const cb_opt_config_t *cfg, cb_opt_report_t *out,
                cb_diag_t *diag)
{
    sweep_mode_t mode;
    memset(&mode, 0, sizeof mode);
    return run_sweep(bt, cfg, &mode, out, diag);
}

void cb_opt_shard_range(size_t total, size_t k, size_t shards, size_t *first, size_t *end)
{
    size_t base = shards ? total / shards : 0, extra = shards ? total % shards : 0;
    size_t k0 = k ? k - 1 : 0;
    *first = k0 * base + (k0 < extra ? k0 : extra);
    *end = *first + base + (k0 < extra ? 1 : 0);
}

int cb_optimize_shard(const cb_backtest_t *bt, const cb_opt_config_t *cfg, size_t k,
                      size_t shards, cb_opt_part_t *out, cb_diag_t *diag)
{
    memset(out, 0, sizeof *out);
    if (k < 1 || k > shards)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "--shard",
                           "expected i/N with 1 <= i <= N, got %zu/%zu", k, shards);
    sweep_mode_t mode;
    memset(&mode, 0, sizeof mode);
    mode.k = k;
    mode.shards = shards;
    mode.part = out;
    cb_opt_report_t rep;
    int rc = run_sweep(bt, cfg, &mode, &rep, diag);
    if (!rc && !(out->sweep = cb_opt_sweep_identity(bt, cfg, shards)))
        rc = CB_ENOMEM;
    if (rc)
        cb_opt_part_free(out);
    else
        snprintf(out->name, sizeof out->name, "%s", bt->path ? bt->path : "");
    return rc;
}

int cb_opt_merge(const cb_backtest_t *bt, const cb_opt_config_t *cfg,
                 const cb_opt_part_t *parts, size_t n, cb_opt_report_t *out, cb_diag_t *diag)
{
    memset(out, 0, sizeof *out);
    if (n == 0)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL, "no parts to merge");
    char *mine = cb_opt_sweep_identity(bt, cfg, parts[0].shards);
    if (!mine)
        return CB_ENOMEM;
    char field[128];
    int differs = opt_sweep_diff(mine, parts[0].sweep, field, sizeof field);
    free(mine);
    char quoted[160];
    snprintf(quoted, sizeof quoted, "field '%s'", field);
    if (differs)
        return cb_diag_set(diag, CB_EINVAL, bt->path, 0, 0, quoted,
                           "differs from the sweep of %s: the strategy file, its data or the "
                           "settings changed since the parts were computed",
                           parts[0].name);
    sweep_mode_t mode;
    memset(&mode, 0, sizeof mode);
    mode.parts = parts;
    mode.n_parts = n;
    return run_sweep(bt, cfg, &mode, out, diag);
}

void cb_opt_report_free(cb_opt_report_t *r)
{
    free(r->rows);
    free(r->rank);
    free(r->folds);
    r->rows = NULL;
    r->rank = NULL;
    r->folds = NULL;
    r->n_rows = r->n_folds = 0;
}

/* ---- JSON ---- */

static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *params_obj(const cb_opt_config_t *cfg, const double *values)
{
    json_t *o = json_object();
    for (size_t k = 0; k < cfg->space.n; k++)
        json_object_set_new(o, cfg->space.p[k].name, json_real(values[k]));
    return o;
}

static json_t *row_obj(const cb_opt_config_t *cfg, const cb_opt_row_t *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "params", params_obj(cfg, r->values));
    json_object_set_new(o, "objective", num(r->objective));
    json_object_set_new(o, "total_return_pct", num(r->total_return_pct));
    json_object_set_new(o, "cagr_pct", num(r->cagr_pct));
    json_object_set_new(o, "sharpe", num(r->sharpe));
    json_object_set_new(o, "sortino", num(r->sortino));
    json_object_set_new(o, "calmar", num(r->calmar));
    json_object_set_new(o, "sqn", num(r->sqn));
    json_object_set_new(o, "profit_factor", num(r->profit_factor));
    json_object_set_new(o, "max_drawdown_pct", num(r->max_drawdown_pct));
    json_object_set_new(o, "win_rate_pct", num(r->win_rate_pct));
    json_object_set_new(o, "trades", json_integer((json_int_t)r->trades));
    return o;
}

int cb_opt_report_write_json(FILE *out, const cb_backtest_t *bt, const cb_opt_config_t *cfg,
                             const cb_opt_report_t *r)
{
    json_t *root = json_object();
    json_object_set_new(root, "version", json_string(cb_version()));
    json_object_set_new(root, "strategy_file", json_string(bt->path ? bt->path : ""));
    json_object_set_new(root, "objective", json_string(cb_objective_name(r->objective)));
    json_object_set_new(root, "search", json_string(cfg->random ? "random" : "grid"));
    json_object_set_new(root, "params", opt_space_json(&cfg->space));
    json_t *results = json_array();
    for (size_t i = 0; i < r->n_rows; i++)
        json_array_append_new(results, row_obj(cfg, &r->rows[r->rank[i]]));
    json_object_set_new(root, "results", results);
    json_object_set_new(root, "best", r->n_rows ? row_obj(cfg, &r->rows[r->best]) : json_null());
    json_object_set_new(root, "days", json_integer((json_int_t)r->n_days));
    if (r->has_pbo) {
        json_object_set_new(root, "pbo", json_real(r->pbo.pbo));
        json_t *pd = json_object();
        json_object_set_new(pd, "partitions", json_integer((json_int_t)r->pbo.partitions));
        json_object_set_new(pd, "splits", json_integer((json_int_t)r->pbo.splits));
        json_object_set_new(pd, "logit_mean", num(r->pbo.logit_mean));
        json_object_set_new(pd, "prob_oos_loss", num(r->pbo.prob_oos_loss));
        json_object_set_new(pd, "degradation_slope", num(r->pbo.perf_degradation_slope));
        json_object_set_new(root, "pbo_details", pd);
    } else {
        json_object_set_new(root, "pbo", json_null());
    }
    if (r->has_dsr) {
        json_t *d = json_object();
        json_object_set_new(d, "sharpe", num(r->dsr.sharpe));
        json_object_set_new(d, "expected_max_sharpe", num(r->dsr.sharpe0));
        json_object_set_new(d, "dsr", num(r->dsr.dsr));
        json_object_set_new(d, "p_value", num(r->dsr.p_value));
        json_object_set_new(d, "trials", json_integer((json_int_t)r->dsr.trials));
        json_object_set_new(root, "deflated_sharpe", d);
    } else {
        json_object_set_new(root, "deflated_sharpe", json_null());
    }
    json_object_set_new(root, "luck_percentile", r->has_luck ? num(r->luck.percentile)
                                                              : json_null());
    if (r->has_luck) {
        json_t *l = json_object();
        json_object_set_new(l, "runs", json_integer((json_int_t)r->luck.runs));
        json_object_set_new(l, "best_return_pct", num(r->luck.best_return_pct));
        json_object_set_new(l, "random_median_return_pct", num(r->luck.median_return_pct));
        json_object_set_new(l, "random_p95_return_pct", num(r->luck.p95_return_pct));
        json_object_set_new(root, "luck", l);
    }
    if (r->n_folds) {
        json_t *wf = json_object(), *folds = json_array();
        for (size_t k = 0; k < r->n_folds; k++) {
            const cb_wf_result_t *w = &r->folds[k];
            json_t *f = json_object();
            char a[40], b[40], c2[40], d2[40];
            json_object_set_new(f, "train_from", json_string(cb_time_format(w->train_from_ms, a, sizeof a)));
            json_object_set_new(f, "train_to", json_string(cb_time_format(w->train_to_ms, b, sizeof b)));
            json_object_set_new(f, "test_from", json_string(cb_time_format(w->test_from_ms, c2, sizeof c2)));
            json_object_set_new(f, "test_to", json_string(cb_time_format(w->test_to_ms, d2, sizeof d2)));
            json_object_set_new(f, "params", params_obj(cfg, w->values));
            json_object_set_new(f, "in_sample_objective", num(w->is_objective));
            json_object_set_new(f, "in_sample_cagr_pct", num(w->is_cagr_pct));
            json_object_set_new(f, "out_of_sample_objective", num(w->oos_objective));
            json_object_set_new(f, "out_of_sample_return_pct", num(w->oos_return_pct));
            json_object_set_new(f, "out_of_sample_sharpe", num(w->oos_sharpe));
            json_object_set_new(f, "out_of_sample_max_drawdown_pct", num(w->oos_max_drawdown_pct));
            json_object_set_new(f, "out_of_sample_trades", json_integer((json_int_t)w->oos_trades));
            json_array_append_new(folds, f);
        }
        json_object_set_new(wf, "folds", folds);
        json_object_set_new(wf, "anchored", json_boolean(cfg->wf_anchored));
        json_object_set_new(wf, "out_of_sample_return_pct", num(r->wf_oos_return_pct));
        json_object_set_new(wf, "out_of_sample_cagr_pct", num(r->wf_oos_cagr_pct));
        json_object_set_new(wf, "in_sample_cagr_pct", num(r->wf_is_cagr_pct));
        json_object_set_new(wf, "efficiency", num(r->wf_efficiency));
        json_object_set_new(root, "walk_forward", wf);
    }
    json_object_set_new(root, "verdict", json_string(r->verdict));
    int rc = json_dumpf(root, out, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
    fputc('\n', out);
    json_decref(root);
    return rc == 0 ? 0 : CB_EIO;
}

json_t *opt_space_json(const cb_param_space_t *space)
{
    json_t *a = json_array();
    for (size_t k = 0; k < space->n; k++)
        json_array_append_new(a, json_pack("{s:s,s:f,s:f,s:f}", "name", space->p[k].name, "lo",
                                           space->p[k].lo, "hi", space->p[k].hi, "step",
                                           space->p[k].step));
    return a;
}
