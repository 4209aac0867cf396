/* Comeback technical indicators: one table, two forms (batch and streaming) per indicator.
 *
 * Conventions every indicator follows:
 * - Batch: cb_ta_<name>(n, inputs, opts, outputs) reads n bars from inputs[k] and writes n
 *   values to each outputs[k], ALIGNED with the input (outputs[k][i] belongs to bar i). Bars
 *   before the first value (i < lookback) are NaN. Batch never allocates.
 * - cb_ta_<name>_lookback(opts) = the number of leading bars without output (TA-Lib's
 *   lookback), for valid options; -1 for invalid options.
 * - Streaming: a caller-allocated state of cb_ta_stream_size(info, opts) bytes, initialised by
 *   cb_ta_stream_init, then one cb_ta_stream_update per bar, O(1) amortised, no allocation.
 *   Bar i of the stream produces exactly the value batch produces at index i.
 *   cb_ta_stream_run advances the same state over a chunk of bars given as columns: exactly
 *   what as many cb_ta_stream_update calls would do, bit for bit, without the call per bar.
 * - Inputs are named: "real" (any series; the rules language takes it as the first argument,
 *   `comeback ta` uses close), "real0"/"real1" (two series: beta, correl), or fixed columns
 *   "open", "high", "low", "close", "volume" (such indicators take no series argument), or
 *   "time": the bar's open time in ms since the Unix epoch (UTC) as a double (exact below
 *   2^53), for indicators anchored to the calendar such as vwap_session. Callers feed it from
 *   the series' time column exactly like the price columns.
 * - Options are doubles in the table's order (integer options hold whole numbers); defaults and
 *   valid ranges come from the table.
 * - A bar where any input is NaN or infinite: its outputs are NaN and the indicator RESTARTS,
 *   i.e. the next bar is treated as the first bar of a new series (NaN again for `lookback`
 *   bars, then the values batch would give on the series starting there). Same in both forms,
 *   so a bad bar never crashes and never spreads NaN for ever (docs/indicators.md).
 * - Streaming states hold no pointers: a state may be copied with memcpy (snapshots). Caller
 *   memory must be aligned like malloc's (16 bytes).
 * - Every function pointer in cb_ta_info_t is safe to call directly: it checks the options
 *   (batch/init return CB_EINVAL, lookback -1, stream_size 0 for invalid options) and applies
 *   the NaN conventions above.
 */
#ifndef COMEBACK_TA_H
#define COMEBACK_TA_H

#include <stddef.h>

#include "comeback/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CB_TA_MAX_INPUTS 5
#define CB_TA_MAX_OPTS 4
#define CB_TA_MAX_OUTPUTS 5

typedef struct cb_ta_opt_info {
    const char *name;   /* "period" */
    double def;         /* default value */
    double min, max;    /* valid range, inclusive */
    int integer;        /* 1 when only whole numbers are valid */
} cb_ta_opt_info_t;

typedef int (*cb_ta_lookback_fn)(const double *opts);
typedef int (*cb_ta_batch_fn)(size_t n, const double *const *inputs, const double *opts,
                              double *const *outputs);
typedef size_t (*cb_ta_stream_size_fn)(const double *opts);
typedef int (*cb_ta_stream_init_fn)(void *state, const double *opts);
/* Consumes one bar (in[k] = this bar's value of input k); writes out[k]. Returns 1 when the
 * outputs are valid (bar index >= lookback), 0 while warming up (outputs NaN). */
typedef int (*cb_ta_stream_update_fn)(void *state, const double *in, double *out);
/* Consumes n bars given as columns: in[k][i] = bar i's value of input k; writes out[k][i].
 * Exactly n calls of stream_update with {in[0][i], in[1][i], ...} and {out[0][i], ...}, in
 * order: the same outputs bit for bit (NaN during warm-up and after a non-finite input, which
 * restarts the indicator as usual) and the same state afterwards, so chunks of any sizes and
 * single updates may be mixed freely on one state. Bar i's inputs are read before its outputs
 * are written, so out[k] may be the same array as in[j] (in place); otherwise the columns must
 * not overlap each other or the state. n = 0 does nothing. */
typedef void (*cb_ta_stream_run_fn)(void *state, size_t n, const double *const *in,
                                    double *const *out);

typedef struct cb_ta_info {
    const char *name;          /* "macd" */
    const char *title;         /* "Moving Average Convergence/Divergence" */
    const char *reference;     /* where the definition comes from: "TA-Lib", a book, a paper */
    int n_inputs;
    const char *inputs[CB_TA_MAX_INPUTS];
    int n_opts;
    cb_ta_opt_info_t opts[CB_TA_MAX_OPTS];
    int n_outputs;
    const char *outputs[CB_TA_MAX_OUTPUTS]; /* "macd", "signal", "hist"; single: the name */
    cb_ta_lookback_fn lookback;
    cb_ta_batch_fn batch;
    cb_ta_stream_size_fn stream_size;
    cb_ta_stream_init_fn stream_init;
    cb_ta_stream_update_fn stream_update;
    cb_ta_stream_run_fn stream_run;
} cb_ta_info_t;

/* The table. */
size_t cb_ta_count(void);
const cb_ta_info_t *cb_ta_at(size_t i);
/* By name ("rsi"); NULL when unknown. */
const cb_ta_info_t *cb_ta_find(const char *name);
/* The known name closest to `name` (edit distance), for "did you mean" messages; NULL if none
 * is close. */
const char *cb_ta_suggest(const char *name);

/* Checks options against the table (count, range, integer). Missing trailing options take
 * their defaults: opts must have room for CB_TA_MAX_OPTS and n_given says how many were given.
 * Returns 0 or CB_EINVAL with diag naming the option and its valid range. */
int cb_ta_check_opts(const cb_ta_info_t *info, double *opts, int n_given, cb_diag_t *diag);

/* Parses a spec "name[:opt[:opt...]]" ("macd:12:26:9", "obv", "bbands:20:2"). Fills opts with
 * the given values followed by defaults. Errors (unknown name listing what is accepted, bad
 * number, out of range) go to diag. Returns 0, CB_ENOENT or CB_EINVAL. */
int cb_ta_parse_spec(const char *spec, const cb_ta_info_t **info, double opts[CB_TA_MAX_OPTS],
                     cb_diag_t *diag);

/* Generic forms through the table. */
int cb_ta_lookback(const cb_ta_info_t *info, const double *opts);
int cb_ta_batch(const cb_ta_info_t *info, size_t n, const double *const *inputs,
                const double *opts, double *const *outputs);
size_t cb_ta_stream_size(const cb_ta_info_t *info, const double *opts);
int cb_ta_stream_init(const cb_ta_info_t *info, void *state, const double *opts);
int cb_ta_stream_update(const cb_ta_info_t *info, void *state, const double *in, double *out);
/* info->stream_run (see cb_ta_stream_run_fn); CB_EINVAL when info is NULL, else 0. */
int cb_ta_stream_run(const cb_ta_info_t *info, void *state, size_t n, const double *const *in,
                     double *const *out);

/* Two streams of the same one-input, one-output indicator over one input column: exactly
 * cb_ta_stream_run on s1 and then on s2 (the same outputs and states, bit for bit), with the
 * two computed side by side where the indicator allows it (EMA), so that their dependency
 * chains overlap: the usual crossover of a fast and a slow average. in, out1 and out2 must
 * not overlap. CB_EINVAL when info is NULL or not one input and one output, else 0. */
int cb_ta_stream_run_pair(const cb_ta_info_t *info, void *s1, void *s2, size_t n,
                          const double *in, double *out1, double *out2);

/* A heap-allocated stream for callers that do not manage memory themselves. */
typedef struct cb_ta_stream cb_ta_stream_t;
cb_ta_stream_t *cb_ta_stream_new(const cb_ta_info_t *info, const double *opts);
int cb_ta_stream_push(cb_ta_stream_t *s, const double *in, double *out);
void cb_ta_stream_free(cb_ta_stream_t *s);

/* Per-indicator entry points cb_ta_<name>(n, inputs, opts, outputs) and
 * cb_ta_<name>_lookback(opts) exist for every table entry (same contract as cb_ta_batch and
 * cb_ta_lookback). The one list of names is src/ta/ta_list.h; in-tree code gets their
 * declarations with
 *     #define CB_TA_X(name) CB_TA_DECLARE_(name)
 *     #include "ta/ta_list.h"
 *     #undef CB_TA_X
 * (src/ta/ta_int.h does this). Other callers go through the table (cb_ta_find). */
#define CB_TA_DECLARE_(name)                                                                 \
    int cb_ta_##name(size_t n, const double *const *inputs, const double *opts,              \
                     double *const *outputs);                                                \
    int cb_ta_##name##_lookback(const double *opts);

#ifdef __cplusplus
}
#endif
#endif
