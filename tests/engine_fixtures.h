/* Test helpers for the engine: hand-made candles and a scripted strategy. Header-only so that
 * test_engine.c and test_metrics.c share it. */
#ifndef COMEBACK_TEST_ENGINE_FIXTURES_H
#define COMEBACK_TEST_ENGINE_FIXTURES_H

#include <stdlib.h>
#include <string.h>

#include "comeback/engine.h"

#define FX(x) ((int64_t)((x) * 100000000.0 + ((x) >= 0 ? 0.5 : -0.5)))
#define DAY_MS INT64_C(86400000)
#define T0 INT64_C(1704067200000) /* 2024-01-01 */

typedef struct bar_row {
    double o, h, l, c;
} bar_row_t;

static inline cb_series_t *mk_series(const bar_row_t *rows, size_t n, int64_t step_ms)
{
    cb_series_t *s = cb_series_new(n);
    for (size_t i = 0; i < n; i++)
        cb_series_push(s, T0 + (int64_t)i * step_ms, rows[i].o, rows[i].h, rows[i].l, rows[i].c,
                       1.0);
    return s;
}

/* BTC/USDT with a 0.01 tick and a 0.001 step. */
static inline cb_instrument_t ins_cents(void)
{
    cb_instrument_t ins;
    cb_instrument_default(&ins, "BTC/USDT");
    ins.tick = FX(0.01);
    ins.step = FX(0.001);
    return ins;
}

/* A strategy that follows a script: enter/exit flags and limit prices per bar index. */
typedef struct script {
    const char *enter;      /* 'E' at bar i: enter; 'X': exit; anything else: nothing */
    const double *limit;    /* optional limit price per bar */
    size_t warmup;
    size_t max_n_seen;      /* lookahead check: the largest bars->n seen */
    size_t calls;
} script_t;

static inline void *script_init(const char *const *names, const double *vals, size_t n,
                                char *err, size_t es)
{
    (void)names; (void)vals; (void)n; (void)err; (void)es;
    return NULL;
}
static inline size_t script_warmup(void *self) { return ((script_t *)self)->warmup; }
static inline int script_on_bar(void *self, const cb_bar_view_t *b, const cb_position_view_t *pos,
                                cb_decision_t *out)
{
    script_t *s = self;
    size_t i = b->n - 1;
    s->calls++;
    if (b->n > s->max_n_seen)
        s->max_n_seen = b->n;
    (void)pos;
    if (i < strlen(s->enter)) {
        out->enter = s->enter[i] == 'E';
        out->exit = s->enter[i] == 'X';
    }
    if (s->limit && out->enter)
        out->limit_price = s->limit[i];
    return 0;
}
static inline void script_destroy(void *self) { (void)self; }

static const cb_strategy_v1_t script_strategy = {
    CB_STRATEGY_ABI_VERSION, "script", script_init, script_warmup, script_on_bar, script_destroy,
};

#endif
