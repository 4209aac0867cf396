/* An example Comeback strategy plug-in: the EMA crossover.
 *
 * It makes exactly the decisions of the rules file ema_cross.ini beside it:
 *     entry = crossover(ema(close, fast), ema(close, slow))
 *     exit  = crossunder(ema(close, fast), ema(close, slow))
 * and the test suite checks that they agree bar for bar on real data.
 *
 * How a plug-in works (docs/plugins.md has the whole story):
 * - It is a shared object exporting one function, cb_strategy_entry_v1, which returns a
 *   table (cb_strategy_v1_t) with abi_version = CB_STRATEGY_ABI_VERSION. Comeback refuses a
 *   plug-in built for another ABI version.
 * - init() receives the strategy file's [params] as names and values and returns an instance
 *   (one per pair); on_bar() is called once per closed bar with the bars up to and including
 *   that bar; destroy() frees the instance.
 * - Like the rules language, it must only look at bars [0, n): the view contains nothing
 *   later. It keeps its own running state so each bar costs O(1).
 *
 * Build: see CMakeLists.txt and Makefile here (only include/comeback/strategy.h is needed). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/strategy.h"

/* An EMA seeded with the mean of its first `period` values, as TA-Lib and Comeback's ema do
 * (the same arithmetic, so the values are bit-identical). */
typedef struct ema {
    double k, period, value;
    long n;
} ema_t;

static void ema_init(ema_t *e, int period)
{
    e->k = 2.0 / ((double)period + 1.0);
    e->period = (double)period;
    e->value = 0.0;
    e->n = 0;
}

/* Returns the EMA after x, or NaN while warming up. */
static double ema_push(ema_t *e, double x)
{
    if (e->n >= (long)e->period) {
        e->value = ((x - e->value) * e->k) + e->value;
        return e->value;
    }
    e->value += x;
    if (++e->n < (long)e->period)
        return NAN;
    e->value /= e->period;
    return e->value;
}

typedef struct ema_cross {
    ema_t fast, slow;
    double last_sign; /* sign of the most recent non-zero fast - slow (0: none yet) */
    size_t warmup;
} ema_cross_t;

static void *ec_init(const char *const *names, const double *values, size_t n, char *err,
                     size_t err_size)
{
    double fast = 12, slow = 26;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], "fast") == 0)
            fast = values[i];
        else if (strcmp(names[i], "slow") == 0)
            slow = values[i];
        else {
            snprintf(err, err_size, "unknown parameter '%s' (ema_cross takes fast and slow)",
                     names[i]);
            return NULL;
        }
    }
    if (fast < 2 || slow < 2 || fast != floor(fast) || slow != floor(slow) || fast > 1e5 ||
        slow > 1e5) {
        snprintf(err, err_size, "fast and slow must be whole numbers of at least 2");
        return NULL;
    }
    ema_cross_t *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    ema_init(&s->fast, (int)fast);
    ema_init(&s->slow, (int)slow);
    s->warmup = (size_t)(fast > slow ? fast : slow);
    return s;
}

static size_t ec_warmup(void *self) { return ((ema_cross_t *)self)->warmup; }

static int ec_on_bar(void *self, const cb_bar_view_t *bars, const cb_position_view_t *pos,
                     cb_decision_t *out)
{
    ema_cross_t *s = self;
    (void)pos;
    memset(out, 0, sizeof *out);
    double c = bars->close[bars->n - 1]; /* the bar that just closed; never later ones */
    double d = ema_push(&s->fast, c) - ema_push(&s->slow, c);
    if (isnan(d)) {
        s->last_sign = 0;
        return 0;
    }
    out->enter = d > 0 && s->last_sign < 0;
    out->exit = d < 0 && s->last_sign > 0;
    if (d != 0)
        s->last_sign = d > 0 ? 1 : -1;
    return 0;
}

static void ec_destroy(void *self) { free(self); }

static const cb_strategy_v1_t table = {
    .abi_version = CB_STRATEGY_ABI_VERSION,
    .name = "ema_cross",
    .init = ec_init,
    .warmup = ec_warmup,
    .on_bar = ec_on_bar,
    .destroy = ec_destroy,
};

const cb_strategy_v1_t *cb_strategy_entry_v1(void);
const cb_strategy_v1_t *cb_strategy_entry_v1(void) { return &table; }
