/* Indicator columns shared between runs: an indicator's outputs over a whole history, computed
 * once by the first run that needs them and read by every other run of a sweep. The values
 * are computed by the same streaming update, over the same inputs, from the same first bar as
 * an instance would compute them, so a run that reads them makes bit-identical decisions. */
#include "rules/rules_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rl_centry {
    struct rl_centry *next;     /* in the cache's list (NULL and unlinked when dropped) */
    int linked;
    int state;                  /* 0 computing, 1 ready, -1 failed */
    int refs;
    const int64_t *hist;        /* the history: its time array and length */
    size_t n;
    int n_out;
    uint64_t last_use;
    size_t bytes;
    double *data;               /* n_out columns of n values */
    char key[];
};

struct cb_rules_cache {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    rl_centry_t *head;
    size_t budget;
    uint64_t tick;
    cb_rules_cache_stats_t st;
    struct {
        const int64_t *time_ms;
        size_t n;
    } checked[4]; /* histories whose times increase (walk-forward folds: a few views) */
    unsigned n_checked;
};

int cb_rules_cache_new(size_t budget_bytes, cb_rules_cache_t **out)
{
    *out = NULL;
    cb_rules_cache_t *c = calloc(1, sizeof *c);
    if (!c)
        return CB_ENOMEM;
    c->budget = budget_bytes;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    *out = c;
    return 0;
}

static void entry_free(rl_centry_t *e)
{
    free(e->data);
    free(e);
}

void cb_rules_cache_free(cb_rules_cache_t *c)
{
    if (!c)
        return;
    for (rl_centry_t *e = c->head, *nx; e; e = nx) {
        nx = e->next;
        entry_free(e);
    }
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

int rl_cache_times_increase(cb_rules_cache_t *c, const cb_bar_view_t *bars)
{
    int found = 0;
    pthread_mutex_lock(&c->mu);
    for (unsigned k = 0; k < c->n_checked && k < 4; k++)
        found |= c->checked[k].time_ms == bars->time_ms && c->checked[k].n == bars->n;
    pthread_mutex_unlock(&c->mu);
    return found;
}

void rl_cache_times_checked(cb_rules_cache_t *c, const cb_bar_view_t *bars)
{
    pthread_mutex_lock(&c->mu);
    unsigned k = c->n_checked++ % 4; /* the oldest goes */
    c->checked[k].time_ms = bars->time_ms;
    c->checked[k].n = bars->n;
    pthread_mutex_unlock(&c->mu);
}

void cb_rules_cache_stats(cb_rules_cache_t *c, cb_rules_cache_stats_t *out)
{
    pthread_mutex_lock(&c->mu);
    *out = c->st;
    pthread_mutex_unlock(&c->mu);
}

/* ---- keys --------------------------------------------------------------------------------- */

static size_t key_into(const cb_rules_program_t *p, int i, char *buf, size_t size, size_t w)
{
    const rl_node_t *n = &p->nodes[i];
    if (n->clock != 0 || w >= size)
        return 0;
#define PUT(...)                                                                             \
    do {                                                                                     \
        w += (size_t)snprintf(buf + w, size - w, __VA_ARGS__);                               \
        if (w >= size)                                                                       \
            return 0;                                                                        \
    } while (0)
    switch (n->op) {
    case OP_SERIES: PUT("%s", rl_series_names[(int)n->k]); return w;
    case OP_PICK:
        if ((w = key_into(p, n->a, buf, size, w)) == 0 || p->nodes[n->a].op != OP_TA)
            return 0;
        PUT(".%d", (int)n->k);
        return w;
    case OP_TA:
        PUT("%s(", n->ta->name);
        for (int k = 0; k < n->ta->n_inputs; k++) {
            int m = n->in_map_[k];
            if (m >= 0)
                continue; /* a fixed column, implied by the indicator */
            if ((w = key_into(p, m == -1 ? n->a : n->b, buf, size, w)) == 0)
                return 0;
            PUT(",");
        }
        /* option values as exact bits: 12 and 12.000000001 are different indicators */
        for (int k = 0; k < CB_TA_MAX_OPTS; k++)
            PUT("%a%s", n->opts[k], k + 1 < CB_TA_MAX_OPTS ? "," : ")");
        return w;
    default: return 0;
    }
#undef PUT
}

size_t rl_node_key(const cb_rules_program_t *p, int i, char *buf, size_t size)
{
    if (size)
        buf[0] = '\0';
    return key_into(p, i, buf, size, 0);
}

/* ---- computing a column --------------------------------------------------------------- */

/* The full-history values of node c (a base series, an indicator or a pick of one) that feeds
 * an indicator: a pointer into the bars, a computed array (*tmp, to free) or a pinned column
 * (*dep, to release). */
static int input_column(cb_rules_cache_t *c, const cb_rules_program_t *p, int node,
                        const cb_bar_view_t *bars, const double **col, double **tmp,
                        rl_centry_t **dep)
{
    const rl_node_t *n = &p->nodes[node];
    if (n->op == OP_SERIES) {
        int s = (int)n->k;
        const double *cols[5] = {bars->open, bars->high, bars->low, bars->close, bars->volume};
        if (s < 5) {
            *col = cols[s];
            return 0;
        }
        double *t = malloc((bars->n ? bars->n : 1) * sizeof *t);
        if (!t)
            return CB_ENOMEM;
        /* the same formulas as cb_rules_instance_step */
        for (size_t j = 0; j < bars->n; j++) {
            double o = bars->open[j], h = bars->high[j], l = bars->low[j], cl = bars->close[j];
            t[j] = s == 5 ? (h + l) / 2.0 : s == 6 ? (h + l + cl) / 3.0 : (o + h + l + cl) / 4.0;
        }
        *tmp = t;
        *col = t;
        return 0;
    }
    int ta = n->op == OP_PICK ? n->a : node;
    int rc = rl_cache_acquire(c, p, ta, bars, dep);
    if (rc)
        return rc;
    *col = rl_centry_column(*dep, n->op == OP_PICK ? (int)n->k : 0);
    return 0;
}

static int compute(cb_rules_cache_t *c, const cb_rules_program_t *p, int node,
                   const cb_bar_view_t *bars, double *data)
{
    const rl_node_t *nd = &p->nodes[node];
    const cb_ta_info_t *ta = nd->ta;
    size_t n = bars->n;
    const double *src[CB_TA_MAX_INPUTS] = {0};
    double *tmp[CB_TA_MAX_INPUTS] = {0};
    rl_centry_t *dep[CB_TA_MAX_INPUTS] = {0};
    const double *fixed[5] = {bars->open, bars->high, bars->low, bars->close, bars->volume};
    int rc = 0;
    for (int k = 0; k < ta->n_inputs && !rc; k++) {
        int m = nd->in_map_[k];
        if (m >= 0)
            src[k] = m < 5 ? fixed[m] : NULL; /* NULL: the bar's time */
        else
            rc = input_column(c, p, m == -1 ? nd->a : nd->b, bars, &src[k], &tmp[k], &dep[k]);
    }
    size_t ss = (cb_ta_stream_size(ta, nd->opts) + 15) & ~(size_t)15;
    void *st = rc ? NULL : aligned_alloc(16, ss ? ss : 16);
    if (!rc && !st)
        rc = CB_ENOMEM;
    if (!rc) {
        /* the whole history through the chunked stream, in chunks so that the time column
         * (when read) is converted into a small buffer */
        enum { CHUNK = 1024 };
        double times[CHUNK];
        cb_ta_stream_init(ta, st, nd->opts);
        for (size_t j = 0; j < n; j += CHUNK) {
            size_t m = n - j < CHUNK ? n - j : CHUNK;
            const double *in[CB_TA_MAX_INPUTS];
            double *out[CB_TA_MAX_OUTPUTS];
            for (int k = 0; k < ta->n_inputs; k++) {
                in[k] = src[k] ? src[k] + j : times;
                for (size_t i = 0; !src[k] && i < m; i++)
                    times[i] = (double)bars->time_ms[j + i];
            }
            for (int k = 0; k < ta->n_outputs; k++)
                out[k] = data + (size_t)k * n + j;
            ta->stream_run(st, m, in, out);
        }
    }
    free(st);
    for (int k = 0; k < CB_TA_MAX_INPUTS; k++) {
        free(tmp[k]);
        if (dep[k])
            rl_cache_release(c, dep[k]);
    }
    return rc;
}

/* ---- the cache ---------------------------------------------------------------------------- */

static void unlink_entry(cb_rules_cache_t *c, rl_centry_t *e)
{
    for (rl_centry_t **pp = &c->head; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            break;
        }
    e->next = NULL;
    e->linked = 0;
    if (e->state == 1) {
        c->st.bytes -= e->bytes;
        c->st.entries--;
    }
}

/* Drops unused columns, least recently used first, until the budget holds. Locked. */
static void evict(cb_rules_cache_t *c)
{
    while (c->st.bytes > c->budget) {
        rl_centry_t *victim = NULL;
        for (rl_centry_t *e = c->head; e; e = e->next)
            if (e->state == 1 && e->refs == 0 && (!victim || e->last_use < victim->last_use))
                victim = e;
        if (!victim)
            return;
        unlink_entry(c, victim);
        entry_free(victim);
        c->st.evictions++;
    }
}

int rl_cache_acquire(cb_rules_cache_t *c, const cb_rules_program_t *p, int i,
                     const cb_bar_view_t *bars, rl_centry_t **out)
{
    *out = NULL;
    char key[RL_KEY_MAX];
    size_t klen = rl_node_key(p, i, key, sizeof key);
    if (klen == 0 || p->nodes[i].op != OP_TA)
        return CB_EINVAL;
    pthread_mutex_lock(&c->mu);
    for (rl_centry_t *e = c->head; e; e = e->next) {
        if (e->hist != bars->time_ms || e->n != bars->n || strcmp(e->key, key) != 0)
            continue;
        e->refs++;
        c->st.hits++;
        while (e->state == 0)
            pthread_cond_wait(&c->cv, &c->mu);
        int failed = e->state < 0;
        e->last_use = ++c->tick;
        if (failed && --e->refs == 0 && !e->linked)
            entry_free(e);
        pthread_mutex_unlock(&c->mu);
        if (failed)
            return CB_ENOMEM;
        *out = e;
        return 0;
    }
    int n_out = p->nodes[i].ta->n_outputs;
    rl_centry_t *e = calloc(1, sizeof *e + klen + 1);
    if (!e) {
        pthread_mutex_unlock(&c->mu);
        return CB_ENOMEM;
    }
    memcpy(e->key, key, klen + 1);
    e->hist = bars->time_ms;
    e->n = bars->n;
    e->n_out = n_out;
    e->refs = 1;
    e->bytes = (size_t)n_out * bars->n * sizeof(double);
    e->next = c->head;
    e->linked = 1;
    c->head = e;
    c->st.misses++;
    pthread_mutex_unlock(&c->mu);

    /* computed outside the lock: other columns can be computed and read meanwhile */
    e->data = malloc(e->bytes ? e->bytes : 1);
    int rc = e->data ? compute(c, p, i, bars, e->data) : CB_ENOMEM;

    pthread_mutex_lock(&c->mu);
    if (rc) {
        unlink_entry(c, e);
        e->state = -1;
        pthread_cond_broadcast(&c->cv);
        if (--e->refs == 0)
            entry_free(e);
        pthread_mutex_unlock(&c->mu);
        return rc;
    }
    e->state = 1;
    e->last_use = ++c->tick;
    c->st.bytes += e->bytes;
    c->st.entries++;
    if (c->st.bytes > c->st.peak_bytes)
        c->st.peak_bytes = c->st.bytes;
    pthread_cond_broadcast(&c->cv);
    evict(c);
    pthread_mutex_unlock(&c->mu);
    *out = e;
    return 0;
}

const double *rl_centry_column(const rl_centry_t *e, int k)
{
    return e->data + (size_t)k * e->n;
}

void rl_cache_release(cb_rules_cache_t *c, rl_centry_t *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&c->mu);
    e->last_use = ++c->tick;
    if (--e->refs == 0 && !e->linked)
        entry_free(e);
    else
        evict(c);
    pthread_mutex_unlock(&c->mu);
}
