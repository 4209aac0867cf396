/* Comeback robot: runs a strategy around the clock against an exchange, in paper or live mode.
 *
 * A bot file (BOT.ini) is a strategy file ([strategy], [params], [backtest], [pairs]) plus
 *   [exchange]  name = binance, api_url, ws_url, key_file
 *   [bot]       mode = paper|live, name, pairs = BTC/USDT, ETH/USDT, timeframe, db, log,
 *               history (candles loaded before the first decision; default: enough for the
 *               strategy's warm-up)
 *   [risk]      the risk controls (risk.h)
 * Relative paths are relative to BOT.ini.
 *
 * The robot loads history over REST, follows closed candles from the market stream, and
 * drives the same engine that runs backtests (engine.h), bar by bar, with a venue chosen by
 * the mode: the paper venue (the backtester's fill model fed with the live candles, orders and
 * fills journaled in the bot's own database) or the exchange venue (module live). Every entry
 * passes the risk controls first. State lives in the journal (journal.h), so a robot killed at
 * any moment resumes its positions when restarted.
 *
 * Operators act on a running robot through its database: cb_robot_control() writes a request
 * the robot picks up within a second (kv keys "control.*", see docs/robot.md). */
#ifndef COMEBACK_ROBOT_H
#define COMEBACK_ROBOT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "comeback/core.h"
#include "comeback/journal.h"
#include "comeback/risk.h"
#include "comeback/rules.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CB_ROBOT_MAX_PAIRS 32

typedef enum cb_robot_mode { CB_ROBOT_PAPER = 0, CB_ROBOT_LIVE = 1 } cb_robot_mode_t;

const char *cb_robot_mode_name(cb_robot_mode_t m);

/* The bot file's robot settings, with defaults applied and paths resolved. */
typedef struct cb_robot_config {
    char path[1024];                  /* BOT.ini as given */
    cb_robot_mode_t mode;
    char name[24];                    /* [bot] name; default: BOT.ini's base name */
    size_t n_pairs;
    char pairs[CB_ROBOT_MAX_PAIRS][32];
    char timeframe[8];                /* [bot] timeframe, else [strategy] timeframe */
    int64_t tf_ms;
    size_t history;                   /* 0 = automatic */
    char db[1024];                    /* default <dir>/<name>.<mode>.sqlite */
    char log[1024];                   /* "" = no JSON log file */
    char exchange[16];                /* "binance" */
    char api_url[512], ws_url[512];   /* "" = the exchange's defaults */
    char key_file[1024];
    cb_risk_limits_t risk;
} cb_robot_config_t;

/* Reads [exchange], [bot] and [risk] of a loaded bot file. `mode` (may be NULL) overrides
 * [bot] mode ("paper" or "live"). Errors name the file, line and key:
 * "bot.ini:12: [bot] mode: expected paper or live, got 'demo'". Returns 0 or CB_EINVAL. */
int cb_robot_config_load(const cb_rules_file_t *file, const char *path, const char *mode,
                         cb_robot_config_t *out, cb_diag_t *diag);

/* One line the robot logs: the human form goes to the operator (stderr), the JSON form to the
 * log file (the robot writes that itself). */
typedef void (*cb_robot_log_fn)(void *ctx, const char *line);

typedef struct cb_robot_opts {
    int64_t paper_balance;            /* fx; 0 = [backtest] start_balance (paper mode) */
    const char *paper_currency;       /* its currency ("" or NULL = the quote) */
    volatile sig_atomic_t *stop;      /* set (by a signal handler): stop entries, persist, return */
    cb_robot_log_fn log;              /* human-readable lines; may be NULL */
    void *log_ctx;
} cb_robot_opts_t;

typedef struct cb_robot cb_robot_t;

/* Prepares a robot: the strategy, the journal, the venue for the mode, the exchange
 * connection. Nothing is traded yet. Live mode (live.h): a signed connection from key_file or
 * the environment, refused (CB_EAUTH) when the key can withdraw, the exchange's rounding rules
 * for the pairs, and a quote balance that pays stake x max_open_trades (CB_EVALID otherwise).
 * Returns 0 or an error with diag. */
int cb_robot_new(const cb_rules_file_t *file, const cb_robot_config_t *cfg,
                 const cb_robot_opts_t *opts, cb_robot_t **out, cb_diag_t *diag);
/* Runs until *opts->stop is set or a `comeback stop` request arrives (returns 0), or a fatal
 * error (a strategy failure, the journal, the venue): negative cb_err with diag. */
int cb_robot_run(cb_robot_t *r, cb_diag_t *diag);
void cb_robot_free(cb_robot_t *r);

/* ---- Control and status through the database --------------------------------------------- */

#define CB_ROBOT_CONTROL_MAP(X)                                                              \
    X(PAUSE, "pause", "no new entries; exits keep working")                                  \
    X(RESUME, "resume", "entries allowed again (also re-arms a tripped max_drawdown)")       \
    X(STOP, "stop", "stop new entries, finish what is in flight, persist and exit")           \
    X(FORCEEXIT, "forceexit", "close one pair's position with a market order")             \
    X(FORCEENTRY, "forceentry", "open a position in one pair now, through the risk checks")

typedef enum cb_robot_control {
#define CB_RC_ENUM_(id, name, msg) CB_ROBOT_CTL_##id,
    CB_ROBOT_CONTROL_MAP(CB_RC_ENUM_)
#undef CB_RC_ENUM_
    CB_ROBOT_CTL_COUNT
} cb_robot_control_t;

/* Leaves a request for the robot using journal j (pair: FORCEEXIT and FORCEENTRY only). The
 * robot applies it within a second and logs it; pause and resume also apply to a robot started
 * later. A forced exit or entry is answered in its key ("control.forceexit.<PAIR>"): "done ok:
 * ...", "done refused: ..." (the risk checks, no position, ...) or "done expired: ..." (a pair
 * the robot does not trade, a request left while no robot ran); cb_robot_control_answer reads
 * it. Returns 0, CB_EINVAL or CB_EIO. */
int cb_robot_control(cb_journal_t *j, cb_robot_control_t what, const char *pair, int64_t now_ms);

/* The robot's answer to the last forced exit or entry of `pair`: 1 with the text after "done "
 * in buf ("ok: ...", "refused: ...", "expired: ..."), 0 while it is pending, or a negative
 * cb_err (CB_ENOENT: no such request). */
int cb_robot_control_answer(cb_journal_t *j, cb_robot_control_t what, const char *pair,
                            char *buf, size_t size);

/* `comeback reconcile` while a live robot runs: the robot, not the command, reconciles (one
 * writer: no race with the orders it sends), within a second. `action` is "check", "adopt" or
 * "ignore" (live.h's cb_recon_action_t). The answer carries the report as JSON
 * (cb_reconcile_report_json, or {"error": ...}): 1 with *report malloc'ed once the robot
 * answered the request made at request_ms, 0 while it is pending, or a negative cb_err.
 * While a difference is open the robot makes no new entries but keeps managing its exits, and
 * says so in its status ("alert"); a reconciliation that finds nothing open resumes entries. */
int cb_robot_reconcile_request(cb_journal_t *j, const char *action, int64_t now_ms);
int cb_robot_reconcile_answer(cb_journal_t *j, int64_t request_ms, char **report);

/* The pairs the robot of journal j trades (written at each start): their count, or CB_ENOENT
 * when no robot ever ran on it. */
int cb_robot_journal_pairs(cb_journal_t *j, char pairs[][32], size_t max);

/* Whether the robot of a journal is alive, from its heartbeat (written every second by its
 * loop) and from its process (the pid is alive and is a comeback program):
 * RUNNING (heartbeat younger than CB_ROBOT_STALL_MS), STALLED (process alive, heartbeat older),
 * NOT_RUNNING (stopped, failed, or the process is gone), NEVER (no robot ran on it). */
#define CB_ROBOT_STALL_MS 15000
typedef enum cb_robot_alive {
    CB_ROBOT_NEVER = 0,
    CB_ROBOT_RUNNING,
    CB_ROBOT_STALLED,
    CB_ROBOT_NOT_RUNNING
} cb_robot_alive_t;
typedef struct cb_robot_liveness {
    cb_robot_alive_t alive;
    int64_t pid;
    int64_t heartbeat_ms;    /* the last heartbeat (wall clock); 0 = none */
    int64_t age_ms;          /* now - heartbeat_ms */
    char state[16];          /* the last state the robot wrote: running, stopped, failed */
} cb_robot_liveness_t;
int cb_robot_liveness(cb_journal_t *j, int64_t now_ms, cb_robot_liveness_t *out);
/* "2 min", "1 s", "3 h", "2 d": an age for people. */
void cb_robot_age_format(int64_t ms, char *buf, size_t size);

/* The last status the robot wrote (JSON text; refreshed every second and after every bar):
 * mode, pairs, started and heartbeat times, pid, state, cash, equity, positions with
 * unrealised PnL and their resting exits, dust (holdings too small to sell: not positions),
 * the risk limits used and left ("risk") and the raw risk state ("risk_state").
 * CB_ENOENT when no robot ever ran on this journal. */
int cb_robot_status_json(cb_journal_t *j, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
