/* Comeback reports: the metrics of a backtest (one table drives the terminal summary, JSON and
 * docs/metrics.md) and the outputs built from an engine result: terminal text, JSON, trades
 * CSV and a self-contained HTML page with inline SVG charts. Reports consume results; they run
 * nothing. Writers take a FILE * opened by the caller. */
#ifndef COMEBACK_REPORT_H
#define COMEBACK_REPORT_H

#include <stdio.h>

#include "comeback/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- The metrics table ------------------------------------------------------------------ */

/* How a metric is shown. */
typedef enum cb_metric_kind {
    CB_MK_MONEY,     /* quote currency */
    CB_MK_PCT,       /* percent */
    CB_MK_RATIO,     /* plain number */
    CB_MK_COUNT,     /* integer */
    CB_MK_DURATION,  /* milliseconds, shown as "3d 04:00" */
    CB_MK_TIME,      /* epoch ms, shown as a UTC date */
    CB_MK_TEXT       /* a name plus a number ("BTC/USDT 12.5%") */
} cb_metric_kind_t;

/* X(id, json key, label, kind, formula) -- the formula text is what docs/metrics.md shows. */
#define CB_METRIC_MAP(X)                                                                       \
    X(START_BALANCE, "start_balance", "Start balance", CB_MK_MONEY, "the configured starting quote balance") \
    X(FINAL_BALANCE, "final_balance", "Final balance", CB_MK_MONEY, "quote balance after every position is closed") \
    X(ABS_PROFIT, "absolute_profit", "Absolute profit", CB_MK_MONEY, "final_balance - start_balance") \
    X(TOTAL_RETURN, "total_return_pct", "Total return", CB_MK_PCT, "(final_balance / start_balance - 1) * 100") \
    X(CAGR, "cagr_pct", "CAGR", CB_MK_PCT, "((final_balance / start_balance) ^ (365.25 / days) - 1) * 100, days = (last bar open - first bar open + one bar) / 1 day") \
    X(SHARPE, "sharpe", "Sharpe", CB_MK_RATIO, "mean(r) / stdev(r) * sqrt(365), r = daily returns of end-of-day equity (the first against start_balance), stdev with n - 1, risk-free rate 0") \
    X(SORTINO, "sortino", "Sortino", CB_MK_RATIO, "mean(r) / sqrt(sum(min(r, 0)^2) / n) * sqrt(365), same daily returns r") \
    X(CALMAR, "calmar", "Calmar", CB_MK_RATIO, "cagr_pct / max_drawdown_pct") \
    X(SQN, "sqn", "SQN", CB_MK_RATIO, "sqrt(trades) * mean(pnl) / stdev(pnl), pnl = net profit per trade, population stdev (as backtrader)") \
    X(PROFIT_FACTOR, "profit_factor", "Profit factor", CB_MK_RATIO, "sum of winning pnl / |sum of losing pnl| (null without losses)") \
    X(EXPECTANCY, "expectancy", "Expectancy", CB_MK_MONEY, "mean net pnl per trade") \
    X(EXPECTANCY_RATIO, "expectancy_ratio", "Expectancy ratio", CB_MK_RATIO, "(1 + avg win / |avg loss|) * win rate - 1 (freqtrade's definition)") \
    X(TRADES, "trades", "Trades", CB_MK_COUNT, "closed round trips, end_of_data exits included") \
    X(TRADES_PER_DAY, "trades_per_day", "Trades per day", CB_MK_RATIO, "trades / days") \
    X(WINS, "wins", "Wins", CB_MK_COUNT, "trades with pnl > 0") \
    X(DRAWS, "draws", "Draws", CB_MK_COUNT, "trades with pnl = 0") \
    X(LOSSES, "losses", "Losses", CB_MK_COUNT, "trades with pnl < 0") \
    X(WIN_RATE, "win_rate_pct", "Win rate", CB_MK_PCT, "wins / trades * 100") \
    X(AVG_PROFIT_PCT, "avg_trade_pct", "Average trade", CB_MK_PCT, "mean of pnl_pct over trades") \
    X(BEST_TRADE, "best_trade_pct", "Best trade", CB_MK_TEXT, "the trade with the highest pnl_pct") \
    X(WORST_TRADE, "worst_trade_pct", "Worst trade", CB_MK_TEXT, "the trade with the lowest pnl_pct") \
    X(BEST_PAIR, "best_pair_pct", "Best pair", CB_MK_TEXT, "the pair with the highest sum of pnl, as % of start_balance") \
    X(WORST_PAIR, "worst_pair_pct", "Worst pair", CB_MK_TEXT, "the pair with the lowest sum of pnl, as % of start_balance") \
    X(BEST_DAY, "best_day_pct", "Best day", CB_MK_PCT, "max daily return * 100") \
    X(WORST_DAY, "worst_day_pct", "Worst day", CB_MK_PCT, "min daily return * 100") \
    X(WIN_DAYS, "winning_days", "Winning days", CB_MK_COUNT, "days whose end-of-day equity rose") \
    X(DRAW_DAYS, "draw_days", "Draw days", CB_MK_COUNT, "days whose end-of-day equity did not change") \
    X(LOSS_DAYS, "losing_days", "Losing days", CB_MK_COUNT, "days whose end-of-day equity fell") \
    X(AVG_DURATION, "avg_duration_ms", "Avg. duration", CB_MK_DURATION, "mean of exit_time - entry_time") \
    X(AVG_DURATION_WIN, "avg_duration_winners_ms", "Avg. duration winners", CB_MK_DURATION, "mean of exit_time - entry_time over wins") \
    X(AVG_DURATION_LOSS, "avg_duration_losers_ms", "Avg. duration losers", CB_MK_DURATION, "mean of exit_time - entry_time over losses") \
    X(MAX_CONSEC_WINS, "max_consecutive_wins", "Max consecutive wins", CB_MK_COUNT, "longest run of wins in exit order") \
    X(MAX_CONSEC_LOSSES, "max_consecutive_losses", "Max consecutive losses", CB_MK_COUNT, "longest run of losses in exit order") \
    X(ENTRY_SIGNALS, "entry_signals", "Entry signals", CB_MK_COUNT, "entry decisions acted on (orders sent or refused)") \
    X(REJECTED, "rejected_entries", "Rejected entries", CB_MK_COUNT, "entries refused: balance, min notional, step, tick, max_open_trades (see rejected)") \
    X(END_OF_DATA, "end_of_data_exits", "End-of-data exits", CB_MK_COUNT, "positions closed at the last close because the data ended") \
    X(MIN_BALANCE, "min_balance", "Min balance", CB_MK_MONEY, "lowest equity at a bar close") \
    X(MAX_BALANCE, "max_balance", "Max balance", CB_MK_MONEY, "highest equity at a bar close") \
    X(MAX_DD_PCT, "max_drawdown_pct", "Max drawdown", CB_MK_PCT, "max over bar closes of (peak - equity) / peak * 100, equity marked to market at every bar close, peak = running maximum") \
    X(MAX_DD_ABS, "max_drawdown_abs", "Max drawdown (abs)", CB_MK_MONEY, "max over bar closes of peak - equity (may fall on another date than the % maximum)") \
    X(MAX_DD_DURATION, "max_drawdown_duration_ms", "Max drawdown duration", CB_MK_DURATION, "longest time from a peak until equity regained it (or the end)") \
    X(MAX_DD_BARS, "max_drawdown_bars", "Max drawdown bars", CB_MK_COUNT, "longest run of consecutive bar closes below the running peak (backtrader's max.len)") \
    X(DD_START, "drawdown_start_ms", "Drawdown start", CB_MK_TIME, "the peak before the largest % drawdown") \
    X(DD_END, "drawdown_end_ms", "Drawdown end", CB_MK_TIME, "the trough of the largest % drawdown") \
    X(ULCER, "ulcer_index", "Ulcer index", CB_MK_RATIO, "sqrt(mean(drawdown_pct^2)) over every bar close") \
    X(EXPOSURE, "exposure_pct", "Exposure", CB_MK_PCT, "bar closes with a position open / bar closes * 100") \
    X(FEES, "fees_paid", "Fees paid", CB_MK_MONEY, "sum of entry and exit fees") \
    X(SLIPPAGE, "slippage_paid", "Slippage paid", CB_MK_MONEY, "sum over fills of |fill price - price before slippage| * quantity") \
    X(MARKET_CHANGE, "market_change_pct", "Market change", CB_MK_PCT, "mean over pairs of (last close / first close - 1) * 100") \
    X(BUY_HOLD, "buy_hold_return_pct", "Buy and hold", CB_MK_PCT, "start_balance split equally over the pairs, bought at the first close and held: equal to market_change_pct, without fees") \
    X(AVG_MAE, "avg_mae_pct", "Avg. MAE", CB_MK_PCT, "mean over trades of (lowest low while held / entry price - 1) * 100") \
    X(AVG_MFE, "avg_mfe_pct", "Avg. MFE", CB_MK_PCT, "mean over trades of (highest high while held / entry price - 1) * 100") \
    X(PERIOD_START, "period_start_ms", "Backtest from", CB_MK_TIME, "open time of the first bar traded") \
    X(PERIOD_END, "period_end_ms", "Backtest to", CB_MK_TIME, "open time of the last bar traded") \
    X(DAYS, "days", "Days", CB_MK_RATIO, "(last - first bar open + one bar) / 1 day")

typedef enum cb_metric_id {
#define CB_METRIC_ENUM_(id, key, label, kind, formula) CB_M_##id,
    CB_METRIC_MAP(CB_METRIC_ENUM_)
#undef CB_METRIC_ENUM_
    CB_METRIC_COUNT
} cb_metric_id_t;

typedef struct cb_metric_info {
    const char *key, *label, *formula;
    cb_metric_kind_t kind;
} cb_metric_info_t;

const cb_metric_info_t *cb_metric_info(cb_metric_id_t id);

typedef struct cb_metric_value {
    double value;          /* NaN when undefined (shown as "-", JSON null) */
    char text[48];         /* CB_MK_TEXT: the name ("BTC/USDT") */
} cb_metric_value_t;

/* Per-pair, per-exit-reason and monthly rows. */
typedef struct cb_group_row {
    char name[32];         /* pair, exit reason or "2024-01" */
    size_t trades, wins, draws, losses;
    double pnl;            /* net, quote */
    double pnl_pct_sum;    /* sum of trade pnl_pct */
    double fees;
    double return_pct;     /* pairs: pnl / start_balance * 100; months: equity change */
    double buy_hold_pct;   /* pairs: (last / first close - 1) * 100 */
    int64_t duration_ms;   /* sum of holding times */
} cb_group_row_t;

typedef struct cb_metrics {
    cb_metric_value_t v[CB_METRIC_COUNT];
    cb_group_row_t *pairs, *reasons, *months;
    size_t n_pairs, n_reasons, n_months;
} cb_metrics_t;

/* Computes every metric and table from a result. Returns 0 or CB_ENOMEM. */
int cb_metrics_compute(const cb_engine_result_t *r, cb_metrics_t *m);
void cb_metrics_free(cb_metrics_t *m);

/* Formats one metric for people ("12.34%", "1,234.56 USDT", "3d 04:00"). */
void cb_metric_format(const cb_metrics_t *m, cb_metric_id_t id, const char *quote, char *buf,
                      size_t size);

/* ---- Outputs ---------------------------------------------------------------------------- */

/* A "key": "value" line of the run's configuration, shown as given. */
typedef struct cb_report_kv {
    const char *key, *value;
} cb_report_kv_t;

/* One input series and its fingerprint. */
typedef struct cb_report_data {
    const char *name;          /* as given on the command line */
    const char *pair, *timeframe;
    size_t bars;
    int64_t first_ms, last_ms;
    int synthetic;
    char sha256[65];           /* cb_series_sha256 */
} cb_report_data_t;

typedef struct cb_report {
    const cb_engine_result_t *result;
    const cb_metrics_t *metrics;
    const char *strategy;      /* name */
    const cb_report_kv_t *config;
    size_t n_config;
    const cb_report_data_t *data;
    size_t n_data;
    int with_equity;           /* JSON: add the end-of-day equity curve */
} cb_report_t;

/* SHA-256 of a series' candles, independent of the file format it came from; defined in
 * data/ (see data.h: the store payload, time_ms then open, high, low, close, volume columns,
 * little-endian), so `comeback data info` and reports quote the same hash. */
int cb_series_sha256(const cb_series_t *s, char hex[65]);

/* The terminal summary: metrics, then per-pair, per-exit-reason and monthly tables, laid out
 * for `width` columns (>= 40); ANSI colour when color is 1. */
int cb_report_write_text(FILE *out, const cb_report_t *rep, int width, int color);
/* {"metrics", "trades", "pairs", "exit_reasons", "monthly", "rejected", "config", "data",
 * "version"}: deterministic (the same result gives the same bytes). */
int cb_report_write_json(FILE *out, const cb_report_t *rep);
/* The trades, one per row, with a header (same fields as the JSON trades). */
int cb_report_write_trades_csv(FILE *out, const cb_report_t *rep);
/* One self-contained HTML page (no network): summary, tables and inline SVG charts (price with
 * entries and exits, equity against buy-and-hold, underwater drawdown, monthly heat map). */
int cb_report_write_html(FILE *out, const cb_report_t *rep);

#ifdef __cplusplus
}
#endif
#endif
