/* The lookahead check: do decisions change when the future is removed? */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/opt.h"

/* Wraps a strategy instance and records its decision at every bar. */
typedef struct recorder {
    const cb_strategy_v1_t *vt;
    void *self;
    uint8_t *entry, *exit; /* per bar index */
    size_t n;
} recorder_t;

static void *rec_init(const char *const *names, const double *values, size_t n, char *err,
                      size_t err_size)
{
    (void)names;
    (void)values;
    (void)n;
    (void)err;
    (void)err_size;
    return NULL;
}

static size_t rec_warmup(void *self)
{
    recorder_t *r = self;
    return r->vt->warmup ? r->vt->warmup(r->self) : 0;
}

static int rec_on_bar(void *self, const cb_bar_view_t *bars, const cb_position_view_t *pos,
                      cb_decision_t *out)
{
    recorder_t *r = self;
    int rc = r->vt->on_bar(r->self, bars, pos, out);
    size_t i = bars->n - 1;
    if (i < r->n) {
        r->entry[i] = out->enter ? 1 : 0;
        r->exit[i] = out->exit ? 1 : 0;
    }
    return rc;
}

static void rec_destroy(void *self) { (void)self; }

static const cb_strategy_v1_t rec_vt = {CB_STRATEGY_ABI_VERSION, "recorder", rec_init,
                                        rec_warmup, rec_on_bar, rec_destroy};

/* Runs the strategy on `s` (pair 0 of the session) recording decisions. */
static int run_recorded(const cb_backtest_t *bt, const cb_rules_strategy_t *strat,
                        const cb_series_t *s, uint8_t *entry, uint8_t *exit, cb_diag_t *diag)
{
    cb_engine_pair_t pair;
    memset(&pair, 0, sizeof pair);
    pair.series = s;
    pair.instrument = bt->instruments[0];
    const cb_strategy_v1_t *vt;
    void *self;
    int rc = cb_rules_strategy_instance(strat, bt->tf_ms[0], &vt, &self, diag);
    if (rc)
        return rc;
    recorder_t rec = {vt, self, entry, exit, s->n};
    pair.strategy = &rec_vt;
    pair.strategy_self = &rec;
    cb_engine_config_t cfg = bt->cfg;
    cfg.chart_points = 2;
    cb_engine_result_t res;
    rc = cb_engine_run(&cfg, &pair, 1, &res, diag);
    if (!rc)
        cb_engine_result_free(&res);
    if (vt->destroy)
        vt->destroy(self);
    return rc;
}

/* The first `cut` bars of s, followed by `pad` NaN bars beyond n that a strategy reading past
 * its view would see instead of the real future. */
static cb_series_t *truncated(const cb_series_t *s, size_t cut, size_t pad)
{
    cb_series_t *t = cb_series_slice(s, 0, cut);
    if (!t || cb_series_reserve(t, cut + pad) != 0) {
        cb_series_free(t);
        return NULL;
    }
    for (size_t i = cut; i < cut + pad; i++) {
        t->time_ms[i] = s->time_ms[cut - 1] + (int64_t)(i - cut + 1);
        t->open[i] = t->high[i] = t->low[i] = t->close[i] = t->volume[i] = NAN;
    }
    return t;
}

int cb_lookahead_check(const cb_backtest_t *bt, const double *values, size_t cuts,
                       cb_lookahead_report_t *out, cb_diag_t *diag)
{
    memset(out, 0, sizeof *out);
    const cb_series_t *s = bt->series[0];
    size_t n = s->n;
    out->bars = n;
    if (n < 3)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL,
                           "the series has %zu bars: too few to check", n);
    if (cuts < 1)
        cuts = 1;
    if (cuts > n - 2)
        cuts = n - 2;
    cb_rules_strategy_t *strat = NULL;
    cb_diags_t why = {0};
    why.max_keep = 1;
    int rc = cb_rules_strategy_new(bt->file, values, &strat, &why);
    if (rc) {
        if (why.n && diag)
            *diag = why.items[0];
        else
            cb_diag_set(diag, rc, bt->path, 0, 0, NULL, "the strategy cannot be prepared");
        cb_diags_free(&why);
        return rc;
    }
    cb_diags_free(&why);
    uint8_t *fe = calloc(n, 1), *fx = calloc(n, 1), *ce = calloc(n, 1), *cx = calloc(n, 1);
    if (!fe || !fx || !ce || !cx) {
        rc = CB_ENOMEM;
        goto done;
    }
    /* The full series gets the same NaN padding, so that a strategy reading past its view at
     * the last bar reads NaN instead of memory that is not there. */
    cb_series_t *full = truncated(s, n, 256);
    if (!full) {
        rc = CB_ENOMEM;
        goto done;
    }
    rc = run_recorded(bt, strat, full, fe, fx, diag);
    cb_series_free(full);
    if (rc)
        goto done;
    size_t best = SIZE_MAX;
    for (size_t k = 1; k <= cuts; k++) {
        /* Cut points spread over the series, never at its very start or end. */
        size_t cut = 2 + (size_t)((double)(n - 3) * (double)k / (double)(cuts + 1));
        cb_series_t *t = truncated(s, cut, 256);
        if (!t) {
            rc = CB_ENOMEM;
            goto done;
        }
        memset(ce, 0, n);
        memset(cx, 0, n);
        rc = run_recorded(bt, strat, t, ce, cx, diag);
        cb_series_free(t);
        if (rc)
            goto done;
        out->cuts++;
        for (size_t i = 0; i < cut; i++) {
            out->decisions++;
            if ((ce[i] != fe[i] || cx[i] != fx[i]) && i < best) {
                best = i;
                out->found = 1;
                out->first_bar = i;
                out->first_time_ms = s->time_ms[i];
                out->cut_at = cut;
                out->full_entry = fe[i];
                out->full_exit = fx[i];
                out->cut_entry = ce[i];
                out->cut_exit = cx[i];
                break;
            }
        }
    }
done:
    free(fe);
    free(fx);
    free(ce);
    free(cx);
    cb_rules_strategy_free(strat);
    return rc;
}
