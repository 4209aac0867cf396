/* Comeback's engine: the event-driven bar loop, the portfolio and the exit rules.
 *
 * One run feeds one or more pairs, aligned by candle open time, through their strategies
 * (strategy.h) and trades one quote-currency account through a venue (venue.h): the backtest
 * venue by default, the paper or exchange venue later. The engine never learns which.
 *
 * Timing: a strategy decides on the close of bar t; a market order from that decision fills at
 * the open of bar t+1 of the same pair. Stop-loss, take-profit and trailing stop are resting
 * orders at the venue, matched inside each bar (stops before targets: the pessimistic rule).
 * All money is fixed point (1e-8, see venue.h). At the end of every run the engine checks
 * start balance + realised PnL - fees == final balance to the unit and fails with CB_EINTERNAL
 * otherwise. Open positions are closed at the last close (exit reason end_of_data).
 * Deterministic: the same inputs give the same result, bit for bit. */
#ifndef COMEBACK_ENGINE_H
#define COMEBACK_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "comeback/core.h"
#include "comeback/data.h"
#include "comeback/strategy.h"
#include "comeback/venue.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Configuration ---------------------------------------------------------------------- */

typedef enum cb_stake_kind {
    CB_STAKE_QUOTE = 0,   /* "1000": quote currency per trade */
    CB_STAKE_PERCENT,     /* "10%": of current equity (marked to market) */
    CB_STAKE_BASE,        /* "1 BTC": base quantity */
    CB_STAKE_ALL          /* "all": the whole free balance */
} cb_stake_kind_t;

typedef struct cb_stake {
    cb_stake_kind_t kind;
    int64_t amount;        /* QUOTE: quote (fx); BASE: base quantity (fx) */
    int64_t fraction;      /* PERCENT: fraction (1e-8; 10% = 10000000) */
    char unit[16];         /* BASE: the currency named ("BTC") */
} cb_stake_t;

/* Parses "1000", "1000 USDT", "10%", "1 BTC", "0.5BTC", "all". A currency equal to `quote`
 * (may be NULL) means a quote amount. Returns 0 or CB_EPARSE with a sentence in diag. */
int cb_stake_parse(const char *s, const char *quote, cb_stake_t *out, cb_diag_t *diag);
/* Formats a stake back ("1000 USDT", "10%", "1 BTC", "all"). */
void cb_stake_format(const cb_stake_t *s, const char *quote, char *buf, size_t size);

/* Parses "10000 USDT" or "10000" into fx and the currency (empty when not given).
 * Returns 0 or CB_EPARSE. */
int cb_money_parse(const char *s, int64_t *amount, char *currency, size_t currency_size);

/* One pair of a run. The strategy instance is created and destroyed by the caller, one per
 * pair (strategies keep per-pair state). */
typedef struct cb_engine_pair {
    const cb_series_t *series;
    cb_instrument_t instrument;
    const cb_strategy_v1_t *strategy;
    void *strategy_self;
    /* Optional (both or neither; borrowed): the strategy's decisions for every bar of
     * `series`, computed before the run, for a strategy whose decisions depend on the bars
     * only (not on the position or the account), such as rules replayed from whole-history
     * signals. entry_signal[i] / exit_signal[i] non-zero: enter / exit at the close of bar i
     * (no stake or limit of its own). The engine then reads them instead of calling on_bar
     * (the strategy's warmup is still asked), and a backtest steps over the bars where it is
     * flat with nothing resting and no entry signal, doing only the bookkeeping. The result is
     * the same, bit for bit, as on_bar returning these decisions. Must hold series->n
     * entries. Ignored by live runs (their series grow past them): on_bar is called. */
    const uint8_t *entry_signal, *exit_signal;
} cb_engine_pair_t;

/* Hooks the robot gives the engine (NULL in backtests). Called synchronously from
 * cb_engine_step. */
typedef struct cb_engine_hooks {
    void *ctx;
    /* Every decision of a strategy on a tradable bar past its warm-up, before the engine acts
     * on it: the pair, the bar's open time, its close, the decision and whether a position is
     * open. For logging; may be NULL. */
    void (*decision)(void *ctx, uint32_t pair, int64_t time_ms, double close,
                     const cb_decision_t *d, int in_position);
    /* Asked before an entry order is sent, with the quote notional it would commit (for a
     * base-sized stake: quantity at the reference price). Returns 1 to allow; 0 drops the
     * entry (counted in result.refused_entries). May be NULL (allow). */
    int (*allow_entry)(void *ctx, uint32_t pair, int64_t time_ms, double close,
                       int64_t notional);
} cb_engine_hooks_t;

typedef struct cb_engine_config {
    int64_t start_balance;     /* quote (fx) */
    cb_stake_t stake;
    int max_open_trades;       /* 0 = unlimited */
    cb_costs_t costs;
    /* exits, fractions of the entry price; 0 = off */
    double stop_loss;          /* stop at entry * (1 - stop_loss) */
    double take_profit;        /* limit at entry * (1 + take_profit) */
    double trailing_stop;      /* stop at highest * (1 - trailing_stop) ... */
    double trailing_offset;    /* ... once highest >= entry * (1 + trailing_offset) */
    int64_t from_ms, to_ms;    /* trade bars opening in [from, to]; 0 = unbounded. Earlier
                                * bars still warm the strategies up; later ones are ignored. */
    size_t chart_points;       /* samples kept for charts (0 = 1200) */
    cb_venue_t *venue;         /* NULL = a backtest venue owned by the run */
    int live;                  /* 1: the robot: series grow between steps (the engine re-reads
                                * their length and arrays at every step), no end-of-data
                                * settlement, to_ms ignored, positions may stay open */
    const cb_engine_hooks_t *hooks; /* NULL = none (borrowed) */
} cb_engine_config_t;

/* Defaults: 10000 start balance, stake 10%, fees and slippage 0, no exits. */
void cb_engine_config_default(cb_engine_config_t *c);

/* ---- Results ---------------------------------------------------------------------------- */

#define CB_EXIT_REASON_MAP(X)                                                                \
    X(EXIT_SIGNAL, "exit_signal")                                                            \
    X(STOP_LOSS, "stop_loss")                                                                \
    X(TRAILING_STOP, "trailing_stop")                                                        \
    X(TAKE_PROFIT, "take_profit")                                                            \
    X(END_OF_DATA, "end_of_data")

typedef enum cb_exit_reason {
#define CB_XR_ENUM_(id, name) CB_EXIT_##id,
    CB_EXIT_REASON_MAP(CB_XR_ENUM_)
#undef CB_XR_ENUM_
    CB_EXIT_COUNT
} cb_exit_reason_t;

const char *cb_exit_reason_name(cb_exit_reason_t r);

/* One round trip. Prices/amounts fx; times are open times of the bars in which things
 * happened (the signal's bar closed at signal_ms + its timeframe). */
typedef struct cb_trade {
    uint32_t pair;
    cb_exit_reason_t exit_reason;
    int64_t signal_time_ms;    /* the bar whose close produced the entry decision */
    int64_t entry_time_ms, exit_time_ms;
    int64_t entry_price, exit_price;
    int64_t quantity;
    int64_t entry_notional, exit_notional;
    int64_t fees;              /* entry + exit fee */
    int64_t slippage;          /* quote lost to slippage on both fills */
    int64_t pnl;               /* exit_notional - entry_notional - fees */
    double pnl_pct;            /* pnl / (entry_notional + entry fee) * 100 */
    double mae_pct, mfe_pct;   /* worst / best excursion from the entry price, % */
    size_t bars_held;          /* bars from the entry bar to the exit bar */
} cb_trade_t;

/* What one pair did in the run. */
typedef struct cb_pair_result {
    char pair[32];
    size_t bars;               /* bars traded (inside the window) */
    int64_t first_ms, last_ms;
    double first_close, last_close;
    /* chart samples: close at evenly spaced bars (and every trade's bars) */
    size_t n_samples;
    int64_t *sample_ms;
    double *sample_close;
} cb_pair_result_t;

typedef struct cb_engine_result {
    char quote[16];
    int64_t start_balance, final_balance;
    int64_t realised_pnl;      /* sum of exit_notional - entry_notional (before fees) */
    int64_t fees_paid, slippage_paid;
    int balanced;              /* 1: start + realised_pnl - fees == final (always, or error) */
    cb_trade_t *trades;
    size_t n_trades;
    cb_pair_result_t *pairs;
    size_t n_pairs;
    size_t entry_signals;      /* entry decisions acted upon (orders sent or refused) */
    size_t rejected[CB_REJECT_COUNT]; /* entries refused, by reason */
    size_t rejected_exits;     /* exit or protective orders refused */
    size_t expired_entries;    /* limit entries that did not fill in their bar */
    size_t refused_entries;    /* entries the allow_entry hook refused (the robot's risk) */
    /* equity marked to market at every bar close of the window */
    size_t steps;              /* bar closes (distinct times) */
    size_t steps_in_market;    /* ... with at least one position open */
    int64_t first_ms, last_ms; /* first and last bar open time in the window */
    int64_t timeframe_ms;      /* smallest bar spacing seen (for durations) */
    double equity_min, equity_max;
    double max_dd_pct;         /* largest (peak - equity) / peak, % */
    double max_dd_abs;         /* largest peak - equity, quote */
    int64_t max_dd_peak_ms, max_dd_trough_ms; /* of the largest % drawdown */
    int64_t max_dd_recovery_ms;/* when equity regained that peak (0 = never) */
    size_t max_dd_bars;        /* longest run of consecutive bar closes below the peak */
    int64_t max_dd_duration_ms;/* longest time from a peak to its recovery (or the end) */
    double ulcer_index;        /* sqrt(mean(drawdown %^2)) over every bar close */
    /* end-of-day equity (UTC days; the last bar close of each day) */
    size_t n_days;
    int64_t *day_ms;           /* 00:00 UTC of the day */
    double *day_equity;
    /* chart samples of the equity and of buy-and-hold (same times) */
    size_t n_curve;
    int64_t *curve_ms;
    double *curve_equity, *curve_bh, *curve_dd_pct;
    double buy_hold_return_pct;/* equal split of the start balance over the pairs */
} cb_engine_result_t;

/* Runs the backtest. pairs[k].series must be sorted by time (the data layer guarantees it).
 * On success *out holds the result (free with cb_engine_result_free). Errors: CB_EINVAL
 * (bad configuration, diag says which), a strategy's negative return (diag names the pair and
 * bar), CB_ERANGE (a value the run needs is beyond fixed point, core.h CB_FX_MAX: a sale's
 * proceeds, a price, a last close below 1e-8 to settle at; diag names the value, the limit,
 * the pair and the bar), CB_ENOMEM, CB_EINTERNAL (the account did not balance; a bug). */
int cb_engine_run(const cb_engine_config_t *cfg, const cb_engine_pair_t *pairs, size_t n_pairs,
                  cb_engine_result_t *out, cb_diag_t *diag);

void cb_engine_result_free(cb_engine_result_t *r);

/* ---- The engine as an object, driven bar by bar ----------------------------------------- *
 * cb_engine_run is exactly: open, then step(next_time()) until next_time() is INT64_MAX, then
 * finish. The robot drives the same functions with live = 1: it appends each closed candle to
 * its pair's series (which may reallocate) and steps at that candle's open time. */
typedef struct cb_engine cb_engine_t;

/* Checks the configuration (as cb_engine_run) and prepares a run. The config and the pairs
 * array are copied; the series, strategy instances, hooks and a caller's venue are borrowed
 * and must outlive the engine. Returns 0, CB_EINVAL (diag) or CB_ENOMEM. */
int cb_engine_open(const cb_engine_config_t *cfg, const cb_engine_pair_t *pairs, size_t n_pairs,
                   cb_engine_t **out, cb_diag_t *diag);
/* The open time of the next bar not yet processed, over all pairs; INT64_MAX when none. */
int64_t cb_engine_next_time(cb_engine_t *e);
/* Processes the bar opening at t of every pair whose next bar opens at t (the venue matches
 * resting orders, strategies decide, orders go out), then marks equity. Returns 0, a
 * strategy's error (diag names the pair and bar) or CB_ENOMEM. */
int cb_engine_step(cb_engine_t *e, int64_t t, cb_diag_t *diag);
/* Completes the statistics and moves the result to *out (free with cb_engine_result_free).
 * The engine can then only be freed. Returns 0 or CB_EINTERNAL (the books do not balance). */
int cb_engine_finish(cb_engine_t *e, cb_engine_result_t *out, cb_diag_t *diag);
/* Frees the engine (and the backtest venue it made). NULL is fine. */
void cb_engine_free(cb_engine_t *e);

/* One pair's position as the engine holds it. Money fx. */
typedef struct cb_engine_position {
    int open;
    int64_t qty, entry_price, entry_fee;
    int64_t entry_ms, signal_ms;   /* entry fill bar, decision bar (open times) */
    int64_t highest;               /* highest high since entry (the trailing stop's anchor) */
    int64_t stop_level, tp_level;  /* resting protective orders; 0 = none */
    int stop_trailing;
    int entry_pending, exit_pending; /* an entry / exit order is live at the venue */
    double last_close;
    size_t bars;                   /* bars of this pair processed so far */
} cb_engine_position_t;

int cb_engine_position(const cb_engine_t *e, size_t pair, cb_engine_position_t *out);
int64_t cb_engine_cash(const cb_engine_t *e);      /* quote, fx */
int64_t cb_engine_equity(const cb_engine_t *e);    /* cash + positions at their last close */
int cb_engine_open_positions(const cb_engine_t *e);
/* The result so far (trades closed up to now, counters). Valid until the next step. */
const cb_engine_result_t *cb_engine_progress(const cb_engine_t *e);

/* Puts back a position held before a restart (qty, entry_price, entry_fee, entry_ms,
 * signal_ms, highest of pos; the rest is ignored) and places its protective exits at the
 * venue again (the venue must hold the base quantity). Its cost counts as brought in, so the
 * books balance when it closes. Call after the history bars were stepped. Returns 0,
 * CB_EINVAL, CB_EEXIST (the pair already has a position or entry), CB_ERANGE (its cost is
 * beyond the limit of core.h) or CB_ENOMEM. */
int cb_engine_restore(cb_engine_t *e, size_t pair, const cb_engine_position_t *pos);
/* Closes a pair's position with a market order now (filled at the next bar's open), or
 * cancels its pending entry. Returns 0, CB_ENOENT (flat) or CB_EREJECTED. */
int cb_engine_force_exit(cb_engine_t *e, size_t pair, int64_t now_ms);
/* Enters a flat pair now as if its strategy had decided to at now_ms: the configured stake, a
 * market order, max_open_trades and the allow_entry hook asked first (the robot's forceentry).
 * Returns 0 (the order is out), CB_EEXIST (a position or an entry is already there), CB_ESTATE
 * (no bar seen yet), CB_ELIMIT (the allow_entry hook refused), CB_EREJECTED (*why, may be
 * NULL: the engine or the venue refused: balance, max_open_trades, ...) or CB_EINVAL. */
int cb_engine_force_entry(cb_engine_t *e, size_t pair, int64_t now_ms, cb_reject_t *why);

#ifdef __cplusplus
}
#endif
#endif
