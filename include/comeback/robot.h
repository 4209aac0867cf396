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
 * A journal that is not a sound Comeback journal (journal.h), or whose robot state does not
 * read back (risk.state, paper.start_balance, bar.last_ms, robot.mode, pos.highest.PAIR), is
 * refused (CB_ECORRUPT, CB_ECONFLICT, CB_EUNSUPPORTED). Returns 0 or an error with diag. */
int cb_robot_new(const cb_rules_file_t *file, const cb_robot_config_t *cfg,
                 const cb_robot_opts_t *opts, cb_robot_t **out, cb_diag_t *diag);
/* Runs until *opts->stop is set or a `comeback stop` request arrives (returns 0), or a fatal
 * error (a strategy failure, the journal at start, the venue): negative cb_err with diag. A
 * journal write that fails while running is not fatal: the robot is halted (no new entries,
 * exits kept; "halted" in its status and log) until it is restarted. */
int cb_robot_run(cb_robot_t *r, cb_diag_t *diag);
void cb_robot_free(cb_robot_t *r);

/* ---- Control and status through the database --------------------------------------------- */

#define CB_ROBOT_CONTROL_MAP(X)                                                              \
    X(PAUSE, "pause", "no new entries; exits keep working")                                  \
    X(RESUME, "resume", "entries allowed again (also re-arms a tripped max_drawdown)")       \
    X(STOP, "stop", "stop new entries, finish what is in flight, persist and exit")           \
    X(FORCEEXIT, "forceexit", "close one pair's position with a market order")

typedef enum cb_robot_control {
#define CB_RC_ENUM_(id, name, msg) CB_ROBOT_CTL_##id,
    CB_ROBOT_CONTROL_MAP(CB_RC_ENUM_)
#undef CB_RC_ENUM_
    CB_ROBOT_CTL_COUNT
} cb_robot_control_t;

/* Leaves a request for the robot using journal j (pair: FORCEEXIT only). The robot applies it
 * within a second and logs it; pause and resume also apply to a robot started later.
 * Returns 0, CB_EINVAL or CB_EIO. */
int cb_robot_control(cb_journal_t *j, cb_robot_control_t what, const char *pair, int64_t now_ms);

/* The last status the robot wrote (JSON text; refreshed every second and after every bar):
 * mode, started and heartbeat times, pid, state, cash, equity, positions with unrealised PnL,
 * the risk state. CB_ENOENT when no robot ever ran on this journal. */
int cb_robot_status_json(cb_journal_t *j, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
