/* Comeback strategies: the strategy file, the rules language, its compiler and the C plug-in
 * loader.
 *
 * The life of a strategy:
 *   cb_rules_file_load()       reads the INI strategy file once: [strategy], [params], and the
 *                              raw key/value lists of [backtest] [pairs] [exchange] [bot] [risk]
 *                              for the modules that interpret them; entry/exit are parsed to
 *                              syntax trees here.
 *   cb_rules_params_default()  the file's parameter values; cb_rules_params_set() overrides one
 *                              ("fast=10", as `--set` gives it) without re-reading the file.
 *   cb_rules_compile()         type-checks, folds constants, shares identical subexpressions
 *                              and emits a flat streaming program for one parameter assignment.
 *   cb_rules_instance_new()    per pair: all evaluation state, allocated once; then
 *   cb_rules_instance_step()   once per closed bar, in order, without allocating, gives the
 *                              entry and exit booleans.
 *   cb_rules_strategy_new()    the engine's door: a compiled rules program OR a dlopen'd plug-in
 *                              ([strategy] plugin = x.so), both presented as cb_strategy_v1_t.
 *
 * Diagnostics are compiler style ("strat.ini:4:32: error: unknown function 'rsx'; did you mean
 * 'rsi'?"): each cb_diag_t has file, line, column, field = "error" or "warning" and the
 * sentence; cb_rules_render_diag() adds the source line and a caret under the culprit.
 * Warnings have code 0 (CB_OK); errors a negative cb_err code.
 * rules/ knows nothing of orders or exchanges. The language reference is docs/rules.md. */
#ifndef COMEBACK_RULES_H
#define COMEBACK_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "comeback/core.h"
#include "comeback/strategy.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- The strategy file ------------------------------------------------------------------ */

typedef struct cb_rules_file cb_rules_file_t;

/* One "key = value" line as written (value trimmed, inline ";" comment removed). */
typedef struct cb_rules_kv {
    const char *key;
    const char *value;
    long line;       /* 1-based line of the key */
    int column;      /* 1-based column of the value's first character */
} cb_rules_kv_t;

/* A section kept for another module ([backtest], [pairs], [exchange], [bot], [risk]). */
typedef struct cb_rules_section {
    const char *name;          /* "backtest" */
    long line;                 /* line of the "[backtest]" header */
    size_t n;
    const cb_rules_kv_t *items;/* in file order */
} cb_rules_section_t;

/* A [params] entry: `slow = 26 [20..100 step 5]`. */
typedef struct cb_rules_param {
    const char *name;
    double value;              /* the file's value ("5%" gives 0.05) */
    int has_range;             /* 1 when a search range was given */
    double min, max, step;     /* the range (step 0 when not given: continuous) */
    long line;
    int used;                  /* 1 when entry/exit mention it */
} cb_rules_param_t;

/* The risk exits of [strategy], as fractions (5% = 0.05); 0 when not set. */
typedef struct cb_rules_exits {
    double stoploss;           /* below the entry price */
    double take_profit;        /* above the entry price */
    double trailing_stop;      /* below the highest price since entry */
    double trailing_offset;    /* trailing starts once this profit is reached (0 = at once) */
} cb_rules_exits_t;

/* Reads and checks a strategy file. Errors and warnings are appended to diags (may be NULL).
 * Returns 0 (warnings only), CB_EPARSE/CB_EVALID (the file has errors), CB_EIO or CB_ENOMEM.
 * On CB_EPARSE/CB_EVALID *out is STILL set (so that cb_rules_render_diag can quote the text)
 * and must be freed; on CB_EIO/CB_ENOMEM *out is NULL. */
int cb_rules_file_load(const char *path, cb_rules_file_t **out, cb_diags_t *diags);
/* The same from memory. `name` labels diagnostics; relative plug-in paths are resolved
 * against `base_dir` (NULL = the current directory). text need not be NUL-terminated. */
int cb_rules_file_parse(const char *name, const char *text, size_t len, const char *base_dir,
                        cb_rules_file_t **out, cb_diags_t *diags);
void cb_rules_file_free(cb_rules_file_t *f);

/* [strategy] values; NULL when not given. plugin is the path resolved against the file's
 * directory. */
const char *cb_rules_file_path(const cb_rules_file_t *f);
const char *cb_rules_file_name(const cb_rules_file_t *f);
const char *cb_rules_file_timeframe(const cb_rules_file_t *f);
const char *cb_rules_file_entry(const cb_rules_file_t *f);
const char *cb_rules_file_exit(const cb_rules_file_t *f);
const char *cb_rules_file_plugin(const cb_rules_file_t *f);
/* Where a [strategy] key's value is written ("timeframe"): its line, and its column in
 * *column (may be NULL); 0 when the key is not given or unknown. */
long cb_rules_file_key_line(const cb_rules_file_t *f, const char *key, int *column);
/* The file's text as read (len bytes; the optimizer hashes it to recognise the file). */
const char *cb_rules_file_text(const cb_rules_file_t *f, size_t *len);
void cb_rules_file_exits(const cb_rules_file_t *f, cb_rules_exits_t *out);

size_t cb_rules_file_n_params(const cb_rules_file_t *f);
const cb_rules_param_t *cb_rules_file_param(const cb_rules_file_t *f, size_t i);
/* Index of a parameter by name, or -1. */
long cb_rules_file_param_index(const cb_rules_file_t *f, const char *name);

/* A section for other modules by name ("backtest", "pairs", "exchange", "bot", "risk");
 * NULL when the file has none. */
const cb_rules_section_t *cb_rules_file_section(const cb_rules_file_t *f, const char *name);

/* Renders a diagnostic produced for this file: the "file:line:col: error: ..." line, then the
 * quoted source line and a caret line ("    ^~~"), each ending in '\n'. Diagnostics without a
 * line get only the first line. Returns the length needed, like snprintf. f may be NULL. */
size_t cb_rules_render_diag(const cb_rules_file_t *f, const cb_diag_t *d, char *buf,
                            size_t size);

/* ---- Parameter assignments -------------------------------------------------------------- */

/* An assignment is an array of cb_rules_file_n_params(f) doubles, in the file's order. */

/* Fills values with the file's parameter values. */
void cb_rules_params_default(const cb_rules_file_t *f, double *values);
/* Applies "name=value" (value as in the file: "10", "2.5", "5%"). Unknown names get a
 * "did you mean" diagnostic. Returns 0, CB_ENOENT or CB_EINVAL. */
int cb_rules_params_set(const cb_rules_file_t *f, double *values, const char *assignment,
                        cb_diag_t *diag);

/* ---- The compiled program --------------------------------------------------------------- */

typedef struct cb_rules_program cb_rules_program_t;

/* Compiles entry and exit for one assignment (NULL = the file's values). The program is
 * immutable and may be shared by many instances (and threads). Errors go to diags.
 * Returns 0, CB_EPARSE, CB_EVALID (errors in diags), CB_EUNSUPPORTED (a plug-in strategy has
 * no rules program) or CB_ENOMEM. */
int cb_rules_compile(const cb_rules_file_t *f, const double *values, cb_rules_program_t **out,
                     cb_diags_t *diags);
void cb_rules_program_free(cb_rules_program_t *p);

/* Program shape, for `rules check` and tests. */
typedef struct cb_rules_stats {
    size_t nodes;        /* streaming nodes after folding and sharing */
    size_t indicators;   /* indicator nodes among them */
    size_t constants;    /* constant nodes */
    size_t state_bytes;  /* evaluation state per instance */
    size_t warmup;       /* bars before entry/exit can first be true */
} cb_rules_stats_t;
void cb_rules_program_stats(const cb_rules_program_t *p, cb_rules_stats_t *out);

/* The indicators of a program with their warm-up (lookback in bars of their timeframe). */
typedef struct cb_rules_indicator {
    char text[96];       /* "ema(close, 12)", "rsi(close@4h, 14)" */
    size_t lookback;     /* the indicator's own lookback, in bars of its timeframe */
    size_t warmup_bars;  /* base bars before its first value, counting what feeds it */
} cb_rules_indicator_t;
size_t cb_rules_program_n_indicators(const cb_rules_program_t *p);
const cb_rules_indicator_t *cb_rules_program_indicator(const cb_rules_program_t *p, size_t i);

/* ---- Evaluation ------------------------------------------------------------------------- */

typedef struct cb_rules_instance cb_rules_instance_t;

/* Per-pair evaluation state, allocated here once. base_tf_ms is the length of one input bar
 * (needed by `x@4h`); 0 = the file's [strategy] timeframe. Returns 0, CB_EINVAL (a higher
 * timeframe is used but the base timeframe is unknown or does not divide it) or CB_ENOMEM. */
int cb_rules_instance_new(const cb_rules_program_t *p, int64_t base_tf_ms,
                          cb_rules_instance_t **out, cb_diag_t *diag);
void cb_rules_instance_free(cb_rules_instance_t *inst);
/* Back to the state before the first bar. */
void cb_rules_instance_reset(cb_rules_instance_t *inst);

/* One closed bar (time_ms = its open time; bars must come in increasing time). pos may be NULL
 * (flat). Sets *entry and *exit to 0 or 1. Never allocates. Returns 0 or CB_EINVAL (time
 * not increasing). */
int cb_rules_instance_step(cb_rules_instance_t *inst, int64_t time_ms, double open,
                           double high, double low, double close, double volume,
                           const cb_position_view_t *pos, int *entry, int *exit);

/* The backtest fast path: entry[i]/exit[i] (0 or 1) for every bar of `bars`, computed column
 * by column in chunks; identical to stepping an instance bar by bar (tests check it), several
 * times faster. Programs that use position state (bars_held, entry_price, profit_pct) depend
 * on the trades, so they cannot be precomputed: CB_EUNSUPPORTED (use an instance). Returns 0,
 * CB_EUNSUPPORTED, CB_EINVAL (times not increasing, unknown base timeframe) or CB_ENOMEM. */
int cb_rules_program_signals(const cb_rules_program_t *p, const cb_bar_view_t *bars,
                             int64_t base_tf_ms, uint8_t *entry, uint8_t *exit,
                             cb_diag_t *diag);
/* 1 when the program reads position state (then cb_rules_program_signals is unsupported). */
int cb_rules_program_uses_position(const cb_rules_program_t *p);

/* ---- Indicator sharing between runs (the optimizer) -------------------------------------- */

/* A cache of indicator columns over a whole history, shared by every run of a sweep: an
 * indicator computed for one parameter assignment (ema(close, 12) over the series) is reused
 * by every other assignment that needs it. Keyed by (history, indicator, its inputs as an
 * expression, its option values as exact bits); a history is identified by its arrays
 * (bars->time_ms and bars->n), so the arrays must stay unchanged while the cache is used.
 * Thread-safe: the first thread that needs a column computes it, others wait for it.
 * Bounded by a byte budget: columns not in use are evicted least recently used first when
 * the total exceeds it (columns in use are never evicted, so the budget may be exceeded by
 * what the running threads hold). A budget of 0 keeps nothing between runs. */
typedef struct cb_rules_cache cb_rules_cache_t;

typedef struct cb_rules_cache_stats {
    size_t hits;         /* columns found (ready or being computed by another thread) */
    size_t misses;       /* columns computed */
    size_t evictions;    /* columns dropped to stay within the budget */
    size_t bytes;        /* held now */
    size_t peak_bytes;   /* held at most */
    size_t entries;      /* columns held now */
} cb_rules_cache_stats_t;

/* Returns 0 or CB_ENOMEM. */
int cb_rules_cache_new(size_t budget_bytes, cb_rules_cache_t **out);
/* No thread may be using the cache. */
void cb_rules_cache_free(cb_rules_cache_t *c);
void cb_rules_cache_stats(cb_rules_cache_t *c, cb_rules_cache_stats_t *out);

/* cb_rules_program_signals with the program's indicators taken from (and added to) the cache
 * when they depend only on the base bars (an indicator of a price series or of another such
 * indicator); the others are computed here as usual. The signals are bit-identical to
 * cb_rules_program_signals (and so to stepping an instance). cache NULL: no sharing.
 * Programs with higher timeframes are evaluated without the cache. Returns as
 * cb_rules_program_signals. */
int cb_rules_program_signals_shared(const cb_rules_program_t *p, const cb_bar_view_t *bars,
                                    int64_t base_tf_ms, cb_rules_cache_t *cache,
                                    uint8_t *entry, uint8_t *exit, cb_diag_t *diag);

/* ---- The engine's view: rules or plug-in behind cb_strategy_v1_t ------------------------ */

typedef struct cb_rules_strategy cb_rules_strategy_t;

/* Prepares the file's strategy with an assignment (NULL = the file's values): compiles the
 * rules, or dlopens [strategy] plugin (resolved against the file's directory) and checks
 * its ABI version. Errors go to diags. Returns 0, CB_EVALID/CB_EPARSE (compile errors),
 * CB_ENOENT (plug-in or symbol missing), CB_EUNSUPPORTED (ABI mismatch) or CB_ENOMEM. */
int cb_rules_strategy_new(const cb_rules_file_t *f, const double *values,
                          cb_rules_strategy_t **out, cb_diags_t *diags);
/* Loads a plug-in directly (no strategy file), for tests and tools. */
int cb_rules_plugin_load(const char *path, cb_rules_strategy_t **out, cb_diag_t *diag);
void cb_rules_strategy_free(cb_rules_strategy_t *s);

/* 1 when the strategy is a plug-in. */
int cb_rules_strategy_is_plugin(const cb_rules_strategy_t *s);
/* The compiled program (NULL for plug-ins). */
const cb_rules_program_t *cb_rules_strategy_program(const cb_rules_strategy_t *s);

/* One instance per pair: *vt and *self such that the engine calls
 *   vt->on_bar(self, bars, pos, &decision) once per closed bar, in order (bars->n grows by
 *   one each call; a rules instance reads bar n-1 only; if the first call, or a later one,
 *   skips bars it first consumes the skipped bars as history; a call with a bars->n it has
 *   already seen returns CB_ESTATE),
 *   vt->warmup(self), and finally vt->destroy(self).
 * For a rules program vt->init is not usable (it reports an error): instances come from here.
 * base_tf_ms as for cb_rules_instance_new. Returns 0, CB_EINVAL (plug-in init failed; its
 * sentence is in diag) or CB_ENOMEM. The strategy must outlive its instances. */
int cb_rules_strategy_instance(const cb_rules_strategy_t *s, int64_t base_tf_ms,
                               const cb_strategy_v1_t **vt, void **self, cb_diag_t *diag);

/* The same for a backtest over `history` (the series the engine will pass, from its first bar)
 * that shares indicators through `cache`. Rules that read no position state and use no higher
 * timeframe get their entry and exit signals for every bar computed here at once
 * (cb_rules_program_signals_shared), and the instance replays them; if the engine later passes
 * bars that are not `history` (other arrays, or more bars), it falls back to evaluating bar by
 * bar. Other rules are evaluated bar by bar with their base-timeframe indicators read from the
 * shared columns (if the first bars passed are not `history`'s arrays, the instance computes
 * them itself; more bars than `history` has is CB_ESTATE). Either way the decisions are
 * bit-identical to cb_rules_strategy_instance's. With cache NULL nothing is shared: rules
 * that read no position state (higher timeframes included) still replay signals computed
 * over `history` at once; the others, and plug-ins, get a plain cb_rules_strategy_instance.
 * Returns as cb_rules_strategy_instance. */
int cb_rules_strategy_instance_shared(const cb_rules_strategy_t *s, int64_t base_tf_ms,
                                      cb_rules_cache_t *cache, const cb_bar_view_t *history,
                                      const cb_strategy_v1_t **vt, void **self,
                                      cb_diag_t *diag);

/* The signals an instance from cb_rules_strategy_instance_shared replays, for handing to the
 * engine as precomputed decisions (cb_engine_pair_t's entry_signal and exit_signal): when the
 * instance replays signals computed over exactly `history` (the same time array and number of
 * bars) and has not fallen back to bar-by-bar evaluation, sets *entry and *exit (history->n
 * bytes each, owned by the instance, valid until its destroy) and returns 1; otherwise
 * (another kind of instance, other bars) returns 0 and leaves them unset. */
int cb_rules_strategy_signals(const cb_strategy_v1_t *vt, const void *self,
                              const cb_bar_view_t *history, const uint8_t **entry,
                              const uint8_t **exit);

#ifdef __cplusplus
}
#endif
#endif
