/* Comeback risk controls: the checks the robot makes before every entry, and the state they
 * keep (trades today, day-start and peak equity, halts, cooldowns, pause).
 *
 * Pure logic over fixed-point amounts (int64 at 1e-8, like the engine's money) and times
 * (int64 ms UTC): no I/O, no clock. The robot feeds it equity marks, fills and exits, asks it
 * before each entry, and persists the state in its journal (cb_risk_state_format/parse). */
#ifndef COMEBACK_RISK_H
#define COMEBACK_RISK_H

#include <stddef.h>
#include <stdint.h>

#include "comeback/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CB_RISK_SCALE 8           /* amounts are int64 counts of 1e-8 quote units */
#define CB_RISK_MAX_PAIRS 64

/* The [risk] section. 0 means "no limit" for every field. */
typedef struct cb_risk_limits {
    int max_open_trades;
    int max_trades_per_day;        /* entries per UTC day */
    int64_t max_daily_loss;        /* quote amount lost since the day's start equity */
    double max_daily_loss_frac;    /* or a fraction of the day's start equity ("5%") */
    double max_drawdown_frac;      /* from the peak equity: the kill switch ("20%") */
    int drawdown_close;            /* 1: the kill switch also closes positions; 0: halt only */
    int64_t cooldown_ms;           /* no new entry in a pair this long after its stop-loss */
    int64_t max_position;          /* quote notional per pair, position plus the new order */
    int64_t stale_after_ms;        /* no entries when the newest candle is older than this;
                                    * 0 = two timeframes (the default) */
} cb_risk_limits_t;

/* Sets one [risk] key from its text: max_open_trades = 3, max_trades_per_day = 10,
 * max_daily_loss = 200 | 5%, max_drawdown = 20%, drawdown_action = halt | close,
 * cooldown = 30m | 2h | 0, max_position = 1500, stale_after = 10m | auto.
 * Returns 0, CB_ENOENT (not a risk key: the caller may try others) or CB_EINVAL (diag says
 * what is accepted; the caller adds file and line). */
int cb_risk_set(cb_risk_limits_t *limits, const char *key, const char *value, cb_diag_t *diag);

/* Why an entry was refused: the one table. */
#define CB_RISK_REASON_MAP(X)                                                                \
    X(NONE, "none", "allowed")                                                               \
    X(PAUSED, "paused", "trading is paused by the operator")                                 \
    X(KILLED, "max_drawdown", "the max_drawdown kill switch has tripped")                    \
    X(DAILY_LOSS, "max_daily_loss", "max_daily_loss reached: entries halted until 00:00 UTC") \
    X(OPEN_TRADES, "max_open_trades", "max_open_trades reached")                             \
    X(TRADES_PER_DAY, "max_trades_per_day", "max_trades_per_day reached")                    \
    X(COOLDOWN, "cooldown", "cooling down after a stop-loss in this pair")                   \
    X(POSITION, "max_position", "the order would exceed max_position for this pair")         \
    X(STALE, "stale_data", "the newest candle is too old: market data is stale")

typedef enum cb_risk_reason {
#define CB_RR_ENUM_(id, name, msg) CB_RISK_##id,
    CB_RISK_REASON_MAP(CB_RR_ENUM_)
#undef CB_RR_ENUM_
    CB_RISK_REASON_COUNT
} cb_risk_reason_t;

const char *cb_risk_reason_name(cb_risk_reason_t r);
const char *cb_risk_reason_message(cb_risk_reason_t r);

typedef struct cb_risk_state {
    int64_t day;                   /* UTC day number the daily counters belong to */
    int trades_today;
    int64_t day_start_equity;
    int64_t peak_equity;
    int halted_today;              /* max_daily_loss tripped today */
    int killed;                    /* max_drawdown tripped: stays until cb_risk_reset_kill */
    int paused;                    /* manual pause */
    int64_t cooldown_until_ms[CB_RISK_MAX_PAIRS];
    size_t refusals[CB_RISK_REASON_COUNT];
} cb_risk_state_t;

void cb_risk_state_init(cb_risk_state_t *st, int64_t now_ms, int64_t equity);

/* Marks equity at time now (after each closed candle). Rolls the day over at 00:00 UTC,
 * raises the peak, and trips the daily-loss halt and the drawdown kill switch. Returns 1 when
 * the kill switch tripped at this call and the limits ask to close positions, else 0. */
int cb_risk_on_equity(const cb_risk_limits_t *limits, cb_risk_state_t *st, int64_t now_ms,
                      int64_t equity);

/* An entry filled (counts toward max_trades_per_day). */
void cb_risk_on_entry(cb_risk_state_t *st, int64_t now_ms);
/* A position in `pair` closed; stoploss = 1 starts the pair's cooldown. */
void cb_risk_on_exit(const cb_risk_limits_t *limits, cb_risk_state_t *st, size_t pair,
                     int64_t now_ms, int stoploss);

typedef struct cb_risk_entry {
    int64_t now_ms;
    size_t pair;                   /* index < CB_RISK_MAX_PAIRS */
    int open_trades;               /* positions open now, all pairs */
    int64_t last_candle_close_ms;  /* close time of the newest candle of this pair */
    int64_t timeframe_ms;
    int64_t position_notional;     /* this pair's current position, quote */
    int64_t order_notional;        /* the entry's size, quote */
} cb_risk_entry_t;

/* Decides one entry. Returns CB_RISK_NONE when allowed; otherwise the first reason in table
 * order, counted in st->refusals. */
cb_risk_reason_t cb_risk_check_entry(const cb_risk_limits_t *limits, cb_risk_state_t *st,
                                     const cb_risk_entry_t *entry);

/* Operator controls. */
void cb_risk_pause(cb_risk_state_t *st, int paused);
void cb_risk_reset_kill(cb_risk_state_t *st, int64_t equity);

/* What a person reads of the limits: used and left, next reset. */
typedef struct cb_risk_summary {
    int64_t day_start_ms, next_reset_ms;   /* the risk day (UTC) and its end */
    int trades_today, trades_left;         /* left: -1 = no max_trades_per_day */
    int open_trades, open_left;            /* left: -1 = no [risk] max_open_trades */
    int64_t daily_loss;                    /* quote lost since the day's start equity (>= 0) */
    int64_t daily_loss_limit;              /* quote; 0 = no max_daily_loss */
    double drawdown_frac;                  /* below the peak now */
    double drawdown_limit;                 /* max_drawdown; 0 = none */
} cb_risk_summary_t;

/* Summarises st under the limits at `equity` with `open_trades` positions open. */
void cb_risk_summarise(const cb_risk_limits_t *limits, const cb_risk_state_t *st,
                       int64_t equity, int open_trades, cb_risk_summary_t *out);

/* The state as one line of text for the journal, and back. parse returns 0 or CB_EPARSE. */
size_t cb_risk_state_format(const cb_risk_state_t *st, char *buf, size_t size);
int cb_risk_state_parse(const char *text, cb_risk_state_t *st);

#ifdef __cplusplus
}
#endif
#endif
