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
} cb_engine_pair_t;

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
 * bar), CB_ENOMEM, CB_EINTERNAL (the account did not balance; a bug). */
int cb_engine_run(const cb_engine_config_t *cfg, const cb_engine_pair_t *pairs, size_t n_pairs,
                  cb_engine_result_t *out, cb_diag_t *diag);

void cb_engine_result_free(cb_engine_result_t *r);

#ifdef __cplusplus
}
#endif
#endif
