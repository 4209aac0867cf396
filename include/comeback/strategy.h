/* Comeback strategies as the engine sees them, and the versioned C plug-in ABI.
 *
 * A strategy decides, on the close of each bar, whether to enter or exit. It sees the bars of
 * its pair up to and including the bar that just closed, never later ones, and the state of its
 * position. Rules-language programs (rules.h) and C plug-ins (dlopen'd .so files exporting
 * cb_strategy_entry_v1) both present themselves through cb_strategy_v1_t, so the engine runs
 * either without knowing which it has.
 *
 * ABI rules for plug-ins: the struct layouts below are frozen for version 1; new fields only
 * go into a new version. A plug-in returns its table from
 *     const cb_strategy_v1_t *cb_strategy_entry_v1(void);
 * and sets abi_version = CB_STRATEGY_ABI_VERSION. */
#ifndef COMEBACK_STRATEGY_H
#define COMEBACK_STRATEGY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CB_STRATEGY_ABI_VERSION 1u
#define CB_STRATEGY_ENTRY_SYMBOL "cb_strategy_entry_v1"

/* Read-only view of one pair's candles, bars [0, n): bar n-1 is the bar that just closed. */
typedef struct cb_bar_view {
    size_t n;
    const int64_t *time_ms;
    const double *open, *high, *low, *close, *volume;
} cb_bar_view_t;

/* The strategy's position in this pair, as the engine knows it. */
typedef struct cb_position_view {
    int open;              /* 1 when a position is open */
    size_t bars_held;      /* bars since the entry fill (0 on the entry bar) */
    double entry_price;    /* average entry price, 0 when flat */
    double quantity;       /* base quantity held, 0 when flat */
    double profit_pct;     /* unrealised profit at this bar's close, as a fraction (0.05 = 5%) */
} cb_position_view_t;

/* What the strategy wants after this bar. */
typedef struct cb_decision {
    int enter;             /* 1: open a long position (ignored when one is open) */
    int exit;              /* 1: close the position (ignored when flat) */
    double limit_price;    /* > 0: use a limit order at this price; 0: market at next open */
    double stake;          /* > 0: quote amount for this entry; 0: the configured stake */
} cb_decision_t;

typedef struct cb_strategy_v1 {
    uint32_t abi_version;  /* CB_STRATEGY_ABI_VERSION */
    const char *name;
    /* Creates an instance with the given parameters (name/value pairs). Returns NULL and
     * writes a sentence to err on failure (unknown or invalid parameter). */
    void *(*init)(const char *const *param_names, const double *param_values, size_t n_params,
                  char *err, size_t err_size);
    /* Bars needed before the first meaningful decision (warm-up). */
    size_t (*warmup)(void *self);
    /* Called once per closed bar, in order. Returns 0, or a negative value to stop the run
     * with an error. */
    int (*on_bar)(void *self, const cb_bar_view_t *bars, const cb_position_view_t *pos,
                  cb_decision_t *out);
    void (*destroy)(void *self);
} cb_strategy_v1_t;

typedef const cb_strategy_v1_t *(*cb_strategy_entry_fn)(void);

#ifdef __cplusplus
}
#endif
#endif
