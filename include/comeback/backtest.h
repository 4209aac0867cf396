/* Comeback backtest sessions: a strategy file plus its settings and data, ready to run with
 * any parameter assignment. The one place that turns [backtest], [pairs], the command line's
 * overrides and the series into an engine configuration, shared by `comeback backtest`,
 * `comeback optimize` (many runs, in parallel), the lookahead check and the robot's parity
 * test, so they can never disagree about what a setting means. */
#ifndef COMEBACK_BACKTEST_H
#define COMEBACK_BACKTEST_H

#include <stddef.h>
#include <stdint.h>

#include "comeback/core.h"
#include "comeback/data.h"
#include "comeback/engine.h"
#include "comeback/rules.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CB_BT_MAX_PAIRS 32

/* The settings as text, exactly as the file or the command line gave them ("" = not given).
 * The table of keys: X(field, "[backtest] key"). */
#define CB_BT_SETTINGS_MAP(X)                                                                \
    X(data, "data")                                                                          \
    X(pair, "pair")                                                                          \
    X(start_balance, "start_balance")                                                        \
    X(stake, "stake")                                                                        \
    X(max_open_trades, "max_open_trades")                                                    \
    X(fee, "fee")                                                                            \
    X(maker_fee, "maker_fee")                                                                \
    X(slippage, "slippage")                                                                  \
    X(from, "from")                                                                          \
    X(to, "to")

/* Each setting's index: CB_BT_SET_fee ... */
enum {
#define CB_BT_SET_ENUM_(field, name_) CB_BT_SET_##field,
    CB_BT_SETTINGS_MAP(CB_BT_SET_ENUM_)
#undef CB_BT_SET_ENUM_
    CB_BT_N_SETTINGS
};

typedef struct cb_bt_settings {
    char data[4096];
    char pair[512];
    char start_balance[64];
    char stake[64];
    char max_open_trades[32];
    char fee[32];
    char maker_fee[32];
    char slippage[32];
    char from[48];
    char to[48];
} cb_bt_settings_t;

/* A prepared session. Everything in it is read-only once set up, so runs may go in parallel. */
typedef struct cb_backtest {
    const cb_rules_file_t *file;     /* borrowed: must outlive the session */
    const char *path;                /* the strategy file's path (borrowed) */
    cb_bt_settings_t settings;       /* after defaults, [backtest] and overrides */
    long set_line[CB_BT_N_SETTINGS]; /* where each setting came from: its [backtest] line */
    int set_column[CB_BT_N_SETTINGS];/* and value column; 0 = a default or the command line */
    cb_engine_config_t cfg;          /* the configuration every run starts from */
    char quote[16];
    size_t n;                        /* pairs */
    cb_series_t *series[CB_BT_MAX_PAIRS];
    char names[CB_BT_MAX_PAIRS][512];/* how each series was named (file or store name) */
    cb_instrument_t instruments[CB_BT_MAX_PAIRS];
    int64_t tf_ms[CB_BT_MAX_PAIRS];  /* bar length of each series (0 when unknown) */
} cb_backtest_t;

/* Prepares a session: defaults (fee 0.1%, stake 10%), then the file's [backtest] and [pairs],
 * then the non-empty fields of `overrides` (may be NULL). Opens every series (store names or
 * files; relative data paths in the file are relative to the file). Errors name the file,
 * line and column of the setting, or the option (--fee). Refuses, naming both sides, a series
 * whose candles are not of the strategy's [strategy] timeframe, a window with from not before
 * to, and a window in which some series has no candle (naming that series' span).
 * Returns 0, CB_EINVAL/CB_EPARSE (diag), CB_EIO or CB_ENOMEM. On failure the session holds
 * nothing to free. */
int cb_backtest_setup(cb_backtest_t *bt, const cb_rules_file_t *file, const char *path,
                      const cb_bt_settings_t *overrides, cb_diag_t *diag);
void cb_backtest_close(cb_backtest_t *bt);

/* The robot's session: the same settings ([backtest] minus data, [pairs], overrides), but
 * instead of data, one empty series per named pair ("BTC/USDT"; meta.pair and meta.timeframe
 * set) that the robot fills with candles as they close. Same errors as cb_backtest_setup;
 * `timeframe` (the robot's candles) must be the strategy's timeframe when it names one. */
int cb_backtest_setup_live(cb_backtest_t *bt, const cb_rules_file_t *file, const char *path,
                           const cb_bt_settings_t *overrides, const char *const *pairs,
                           size_t n_pairs, const char *timeframe, cb_diag_t *diag);

/* The one check of a strategy's [strategy] timeframe against the bars it will be given:
 * `have` is their timeframe ("1h"; NULL or "" = unknown, nothing to compare) and `what` names
 * them in the sentence ("binance:BTC/USDT:1h has 1h candles"). Returns 0 when they agree or
 * the strategy names no timeframe, else CB_EINVAL with "path:line:col: the strategy says
 * timeframe = 4h; <what>" in diag (path labels the strategy file). */
int cb_backtest_check_timeframe(const cb_rules_file_t *file, const char *path, const char *have,
                                const char *what, cb_diag_t *diag);

/* One run with a parameter assignment (cb_rules_file_n_params values; NULL = the file's) and
 * an optional configuration (NULL = bt->cfg; walk-forward passes copies with another window).
 * Compiles the strategy, instantiates it per pair and runs the engine. Thread-safe for
 * concurrent calls on one session. Compile errors go to diags (may be NULL); others to diag.
 * On success *out holds the result (cb_engine_result_free). */
int cb_backtest_run(const cb_backtest_t *bt, const double *values, const cb_engine_config_t *cfg,
                    cb_engine_result_t *out, cb_diags_t *diags, cb_diag_t *diag);

/* The engine's pairs for one prepared strategy: series, instruments and one strategy instance
 * per pair. Rules that read no position state get their signals for the whole series computed
 * at once (cb_rules_program_signals) and replayed, several times faster than stepping, and
 * handed to the engine as precomputed signals (cb_backtest_pair_signals); if the engine is
 * later given other bars (a live series that grew), the instance steps bar by bar from there.
 * The decisions are the same either way. Free the instances with cb_backtest_pairs_free.
 * Returns 0 or an error (diag). */
int cb_backtest_pairs(const cb_backtest_t *bt, const cb_rules_strategy_t *strat,
                      cb_engine_pair_t *pairs, cb_diag_t *diag);
void cb_backtest_pairs_free(const cb_backtest_t *bt, cb_engine_pair_t *pairs);
/* Sets pair->entry_signal and exit_signal to the signals its rules instance replays over
 * pair->series (cb_rules_strategy_signals), or NULL when it replays none. */
void cb_backtest_pair_signals(cb_engine_pair_t *pair);

#ifdef __cplusplus
}
#endif
#endif
