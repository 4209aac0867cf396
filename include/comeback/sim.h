/* Comeback exchange simulator: a server that speaks Binance's spot REST protocol on loopback
 * and replays candle series as the live market. Orders fill against the replayed prices and
 * balances move accordingly; faults (errors, delays, lost answers, rejections, 429 bursts)
 * are injected on demand from a seed, so a rehearsal is repeatable.
 * It shares nothing with the robot but the wire format: a client cannot reach into it. */
#ifndef COMEBACK_SIM_H
#define COMEBACK_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "comeback/core.h"
#include "comeback/data.h"
#include "comeback/exchange.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cb_sim cb_sim_t;

typedef struct cb_sim_opts {
    /* The markets: one series per pair (meta.pair "BTC/USDT" and meta.timeframe set), all on
     * the same timeframe. Borrowed: they must outlive the simulator. */
    const cb_series_t *const *series;
    size_t n_series;
    /* "127.0.0.1:PORT" (PORT 0 = any free port). NULL = "127.0.0.1:0". Only an address given
     * here explicitly can be other than loopback. IPv4 literals or "localhost". */
    const char *listen;
    /* Market clock: candles per second (> 0), 0 = paused (moved by cb_sim_advance or
     * POST /sim/v1/advance), < 0 = real time (one candle per timeframe). */
    double speed;
    /* Where the market clock starts: 0 = the first candle's open; INT64_MAX = after the last
     * candle (everything is history, as for `comeback data download` tests). */
    int64_t start_ms;
    /* Initial balances: "10000 USDT" or "10000 USDT, 0.5 BTC". NULL = "10000 USDT". */
    const char *balance;
    /* API key and secret that signed requests must use. NULL = any key is accepted and
     * signatures are not verified (a warning for users; tests always set keys). Copied. */
    const cb_api_keys_t *keys;
    /* Fault spec, e.g. "seed=7,5xx=0.1,429=0.05:3,delay=0.1:300,lost=0.2:1500,reject=0.1".
     * NULL or "" = no faults. See docs/exchange-sim.md. */
    const char *faults;
    int fee_bps;        /* commission in basis points; 0 = 10 (0.1 %), -1 = none */
    int weight_limit;   /* REQUEST_WEIGHT per minute; 0 = 6000 */
    int ws_port;        /* WebSocket streams: 0 = any free port, -1 = no streams */
    int quiet;          /* 1: no log lines */
    void (*log)(void *user, const char *line); /* NULL: stderr */
    void *log_user;
    /* Partial fills: an order fills at most this fraction of a candle's volume per candle
     * (shared by all orders of the pair), so large orders fill over several candles. 0 = off
     * (every fill is whole). A market order's remainder beyond it expires, like Binance's
     * when the book runs out. */
    double max_fill_fraction;
} cb_sim_opts_t;

/* Parses a fault spec (for the CLI's early validation). Returns 0 or CB_EINVAL with diag
 * naming the bad item. */
int cb_sim_faults_check(const char *spec, cb_diag_t *diag);

/* Builds a simulator (not yet listening). Returns 0, CB_EINVAL (diag says why) or CB_ENOMEM. */
int cb_sim_new(const cb_sim_opts_t *opts, cb_sim_t **out, cb_diag_t *diag);
/* Binds and starts serving on background threads. Returns 0 or CB_EIO/CB_EINVAL (diag). */
int cb_sim_start(cb_sim_t *sim, cb_diag_t *diag);
/* The bound TCP ports (after cb_sim_start): REST, and WebSocket streams (0 when off). */
int cb_sim_port(const cb_sim_t *sim);
int cb_sim_ws_port(const cb_sim_t *sim);
/* Moves the market clock forward by n candles (any speed). */
void cb_sim_advance(cb_sim_t *sim, int64_t n_candles);
/* The market clock now (ms). */
int64_t cb_sim_time(cb_sim_t *sim);
/* Everything the simulated exchange did, as the JSON of GET /sim/v1/state (malloc'ed). */
char *cb_sim_state_json(cb_sim_t *sim);
/* Counters of injected faults by kind (for tests): 5xx, 429, delay, lost, reject, drop. */
typedef struct cb_sim_fault_counts {
    long http5xx, http429, delay, lost, reject, drop;
} cb_sim_fault_counts_t;
void cb_sim_fault_counts(cb_sim_t *sim, cb_sim_fault_counts_t *out);
/* A deposit (delta > 0) or withdrawal (delta < 0, at most the free amount) of an asset
 * (CB_EX_AMOUNT_SCALE), announced to account streams as a balanceUpdate (also
 * POST /sim/v1/deposit?asset=USDT&amount=100). Returns 0, CB_EINVAL, or CB_ERANGE when the
 * balance would pass the largest representable amount (core.h, CB_FX_MAX). */
int cb_sim_deposit(cb_sim_t *sim, const char *asset, int64_t delta);
/* Ends every user data stream subscription of the WebSocket API with an
 * eventStreamTerminated event, as Binance does when a session logs out or a key is revoked
 * (for tests: a client must subscribe again). */
void cb_sim_end_user_streams(cb_sim_t *sim);
/* Stops serving and frees everything. NULL is fine. */
void cb_sim_free(cb_sim_t *sim);

#ifdef __cplusplus
}
#endif
#endif
