/* Private to the simulator: market state, the order book of our (single) account, faults. */
#ifndef COMEBACK_SIM_INT_H
#define COMEBACK_SIM_INT_H

#include <pthread.h>

#include "comeback/sim.h"

/* The simulator's clock never passes the last millisecond of 9999-12-31 (UTC). */
#define SIM_CLOCK_MAX_MS INT64_C(253402300799999)

/* One candle in fixed point at the pair's price scale. */
typedef struct sim_bar {
    int64_t open, high, low, close;
} sim_bar_t;

typedef struct sim_market {
    cb_pair_info_t info;
    const cb_series_t *s;
    size_t closed;          /* candles whose close time has passed */
    /* partial fills: quantity already filled out of candle budget_k's volume share */
    size_t budget_k;
    int64_t budget_used;
} sim_market_t;

typedef struct sim_order {
    cb_ex_order_t o;
    size_t market;
    int triggered;          /* stop-limit orders: the stop has traded */
    int64_t locked;         /* amount locked, CB_EX_AMOUNT_SCALE */
    char lock_asset[CB_EX_ASSET_MAX];
    int64_t quote_order_qty; /* quoteOrderQty of a market order, CB_EX_AMOUNT_SCALE; 0 = none */
    int limit_maker;         /* an OCO's LIMIT_MAKER leg (type LIMIT here) */
    long sibling;            /* index of the other leg of its OCO, -1 = none */
} sim_order_t;

/* An OCO order list: two legs, one cancels the other. */
typedef struct sim_list {
    int64_t id;
    char client_id[CB_EX_COID_MAX];
    size_t legs[2];
    size_t market;
    int64_t created_ms;
} sim_list_t;

typedef struct sim_asset {
    char asset[CB_EX_ASSET_MAX];
    int64_t free, locked;
} sim_asset_t;

typedef struct sim_faults {
    uint64_t seed;
    double p5xx, p429, pdelay, plost, preject, pdrop;
    int burst429;           /* 429 answers in a burst */
    long delay_ms, lost_ms;
} sim_faults_t;

struct cb_sim {
    cb_sim_opts_t opts;
    cb_api_keys_t *keys;
    pthread_mutex_t mu;
    sim_market_t *mk;
    size_t n_mk;
    cb_timeframe_t tf;
    /* clock */
    int64_t base_ms;        /* market time at base_ns */
    int64_t base_ns;        /* monotonic */
    int64_t advanced_ms;
    /* account */
    sim_order_t *orders;
    size_t n_orders, cap_orders;
    cb_ex_fill_t *fills;
    size_t n_fills, cap_fills;
    sim_asset_t assets[32];
    size_t n_assets;
    sim_list_t *lists;
    size_t n_lists, cap_lists;
    int64_t next_order_id, next_trade_id;
    int64_t next_sub_id;    /* user data stream subscriptions (WebSocket API) */
    int fee_bps;
    /* faults */
    sim_faults_t faults;
    uint64_t rng;
    int burst_left;
    cb_sim_fault_counts_t counts;
    /* rate limit */
    int weight_limit;
    int64_t weight_minute;
    int weight_used;
    /* server */
    void *daemon;
    struct sim_conns *conns;    /* the REST connections the policy below watches */
    int port;
    struct sim_ws *ws;
    int ws_port;
    char host[64];
};

/* sim.c */
int64_t sim_now_locked(cb_sim_t *sim);
void sim_sync_locked(cb_sim_t *sim);
sim_market_t *sim_market_find(cb_sim_t *sim, const char *symbol_or_pair);
int64_t sim_last_price(const cb_sim_t *sim, const sim_market_t *m);
sim_asset_t *sim_asset(cb_sim_t *sim, const char *asset, int create);
double sim_rand(cb_sim_t *sim);
void sim_log(cb_sim_t *sim, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Places an order from parsed parameters. On a Binance-level rejection returns the Binance
 * error code (negative, e.g. -2010) and msg; on success 0 with *out the new order index. */
int sim_place_locked(cb_sim_t *sim, sim_market_t *m, const cb_ex_order_req_t *req,
                     size_t *out, char *msg, size_t msg_size);
int sim_cancel_locked(cb_sim_t *sim, size_t idx, char *msg, size_t msg_size);
/* Places an OCO: legs[0] above the price, legs[1] below (each a full order request; the
 * sides and quantities must agree). On success 0 with *out the list index. */
int sim_place_oco_locked(cb_sim_t *sim, sim_market_t *m, const char *list_client_id,
                         const cb_ex_order_req_t legs[2], const int limit_maker[2], size_t *out,
                         char *msg, size_t msg_size);
sim_list_t *sim_list_find(cb_sim_t *sim, const sim_market_t *m, const char *client_id,
                          int64_t list_id);
sim_order_t *sim_order_find(cb_sim_t *sim, const sim_market_t *m, const char *coid,
                            int64_t order_id);

/* Does a resting order execute in this phase (venue.h cb_fill_phase_t) of a closed candle, and
 * at what price (pair's price scale)? Delegates to the backtester's fill model. */
int sim_match(sim_order_t *so, const cb_pair_info_t *p,
              const sim_bar_t *bar, int64_t bar_time, int phase, int fresh, int64_t *fill_px,
              int *maker);

/* A decimal request parameter at `scale` (0..8), checked as Binance checks one: 0 with *out,
 * or Binance's code: -1100 text that is not ^([0-9]{1,20})(\.[0-9]{1,20})?$, -1111 more than 8
 * significant decimals, -1013 more than `scale` of them or a value beyond what 8 decimals hold
 * in int64 (core.h, CB_FX_MAX), -1130 zero. */
int sim_dec_check(const char *v, int scale, int64_t *out);

/* 1 when price * qty of the pair (at its scales) fits both at price_scale + qty_scale and at 8
 * decimals (the balances): the NOTIONAL filter's maxNotional. */
int sim_notional_ok(const cb_pair_info_t *p, int64_t px, int64_t qty);

/* Fixed point text with at least 8 decimals (Binance style: "0.01000000"). */
void sim_fmt8(int64_t v, int scale, char *buf, size_t size);

/* sim_http.c */
/* The connection policy of both servers (docs/exchange-sim.md, "Connections"): a client that
 * connects and sends nothing, or sends its request a byte at a time, must not lock out the
 * others. A request's headers (a WebSocket's handshake) must be complete within
 * SIM_HEADER_MS of the connection opening (or, on a kept-alive REST connection, of the previous
 * answer); an address may keep at most SIM_WAITING_PER_ADDR connections waiting that way (a new
 * one closes its oldest); an address may hold at most SIM_CONNS_PER_ADDR connections and the
 * server SIM_CONNS_MAX. */
#define SIM_HEADER_MS 10000
#define SIM_WAITING_PER_ADDR 64
#define SIM_CONNS_PER_ADDR 2048
#define SIM_CONNS_MAX 4096
/* Raises the process's soft limit of open files towards `want` (within the hard limit) so that
 * SIM_CONNS_MAX connections fit; returns the limit now in force. */
unsigned sim_raise_fd_limit(unsigned want);
int sim_http_start(cb_sim_t *sim, cb_diag_t *diag);
void sim_http_stop(cb_sim_t *sim);

/* Checks a signed request's key, timestamp and receive window against the market clock.
 * Returns 0 or a Binance error code (-2014, -2015, -1021, -1131) with msg. */
int sim_check_key_locked(cb_sim_t *sim, const char *api_key, char *msg, size_t msg_size);
int sim_check_time_locked(cb_sim_t *sim, int64_t ts, int64_t recv_window, char *msg,
                          size_t msg_size);
/* 1 when sig is the signature of payload under the simulator's key (always 1 without keys). */
int sim_signature_ok(cb_sim_t *sim, const char *payload, size_t len, const char *sig);

/* sim_ws.c: market streams and the WebSocket API (started after the HTTP server, on
 * sim->host). */
int sim_ws_start(cb_sim_t *sim, cb_diag_t *diag);
/* Feeds bytes, in pieces of `chunk`, to a WebSocket connection that is not attached to a
 * socket, as the server would receive them: the handshake, then frames. Returns the status
 * code of the close frame it would send (0 = none) or -1. For the fuzz target. */
int sim_ws_conn_fuzz(cb_sim_t *sim, const uint8_t *data, size_t size, size_t chunk);
void sim_ws_stop(cb_sim_t *sim);
/* User data events to every session subscribed to the account (WebSocket API), under
 * sim->mu: an executionReport of `so` (exec_type "NEW", "TRADE", "CANCELED", "EXPIRED"; fill
 * for "TRADE", else NULL), then an outboundAccountPosition of the pair's two assets. */
void sim_ws_order_event_locked(cb_sim_t *sim, const sim_order_t *so, const char *exec_type,
                               const cb_ex_fill_t *fill);
/* The answer (malloc'ed JSON text, NULL on ENOMEM) to one WebSocket API request of a session
 * whose user data subscription is *sub_id (-1 = none; updated), under sim->mu. */
char *sim_ws_api_reply_locked(cb_sim_t *sim, int64_t *sub_id, const char *text, size_t len);
/* A balanceUpdate (deposit or withdrawal of delta) and the new position of the asset. */
void sim_ws_balance_event_locked(cb_sim_t *sim, const char *asset, int64_t delta);

#endif
