/* Comeback exchange: a venue-neutral interface to a spot exchange (a vtable), the Binance spot
 * connector behind it, API keys, and the pieces of Binance's wire format (signing, JSON
 * messages) that the connector and the simulator share.
 *
 * Above this module a market is always named "BASE/QUOTE" ("BTC/USDT"); venue symbols such as
 * "BTCUSDT" never leave the connector. Prices and quantities in orders, fills and balances are
 * fixed-point int64: a pair's prices are counts of 10^-price_scale quote units and its
 * quantities counts of 10^-qty_scale base units, the scales derived from the exchange's tick
 * and step sizes. Balances and commissions use CB_EX_AMOUNT_SCALE (8 decimals, like Binance).
 * Candles are doubles, like every series in data/. */
#ifndef COMEBACK_EXCHANGE_H
#define COMEBACK_EXCHANGE_H

#include <stddef.h>
#include <stdint.h>

#include "comeback/core.h"
#include "comeback/data.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CB_EX_AMOUNT_SCALE 8 /* balances, commissions */
#define CB_EX_PAIR_MAX 32
#define CB_EX_ASSET_MAX 16
#define CB_EX_COID_MAX 40    /* client order ids: 1..36 chars of [A-Za-z0-9._:/-] */

/* ---- Markets ---------------------------------------------------------------------------- */

typedef struct cb_pair_info {
    char pair[CB_EX_PAIR_MAX];     /* "BTC/USDT" */
    char symbol[CB_EX_PAIR_MAX];   /* the venue's name: "BTCUSDT" */
    char base[CB_EX_ASSET_MAX];
    char quote[CB_EX_ASSET_MAX];
    int trading;                   /* 1 when orders are accepted now (status TRADING) */
    int price_scale;               /* decimals of the tick size */
    int qty_scale;                 /* decimals of the step size */
    int64_t tick;                  /* price tick, at price_scale (>= 1) */
    int64_t min_price, max_price;  /* at price_scale; 0 = no limit */
    int64_t step;                  /* quantity step, at qty_scale (>= 1) */
    int64_t min_qty, max_qty;      /* at qty_scale; 0 = no limit */
    int64_t min_notional;          /* price*qty minimum, at price_scale + qty_scale; 0 = none */
    int min_notional_market;       /* 1 when the minimum also applies to market orders */
} cb_pair_info_t;

/* "BTC/USDT" -> base "BTC", quote "USDT". Returns 0 or CB_EINVAL. */
int cb_pair_split(const char *pair, char *base, size_t base_size, char *quote,
                  size_t quote_size);

/* Finds a pair by name ("BTC/USDT") or venue symbol ("BTCUSDT"); NULL when absent. */
const cb_pair_info_t *cb_pair_find(const cb_pair_info_t *pairs, size_t n, const char *name);

/* Rounds a price to the pair's tick (half away from zero for CB_ROUND_NEAREST) and a
 * quantity down to its step (never more than asked). */
typedef enum cb_round { CB_ROUND_NEAREST = 0, CB_ROUND_DOWN = 1, CB_ROUND_UP = 2 } cb_round_t;
int64_t cb_pair_round_price(const cb_pair_info_t *p, int64_t price, cb_round_t mode);
int64_t cb_pair_round_qty(const cb_pair_info_t *p, int64_t qty);

/* ---- Orders and fills ------------------------------------------------------------------- */

typedef enum cb_ex_side { CB_EX_BUY = 0, CB_EX_SELL = 1 } cb_ex_side_t;

/* The order types every venue must support (Binance names in comments). */
#define CB_EX_ORDER_TYPE_MAP(X)                                                                 \
    X(MARKET, "MARKET")                                                                      \
    X(LIMIT, "LIMIT")                       /* GTC */                                        \
    X(STOP_LOSS, "STOP_LOSS")               /* market order when the stop price trades */    \
    X(TAKE_PROFIT, "TAKE_PROFIT")           /* market order when the stop price trades */    \
    X(STOP_LOSS_LIMIT, "STOP_LOSS_LIMIT")                                                    \
    X(TAKE_PROFIT_LIMIT, "TAKE_PROFIT_LIMIT")

typedef enum cb_ex_order_type {
#define CB_OT_ENUM_(id, name) CB_EX_ORDER_##id,
    CB_EX_ORDER_TYPE_MAP(CB_OT_ENUM_)
#undef CB_OT_ENUM_
        CB_EX_ORDER_TYPE_COUNT_
} cb_ex_order_type_t;

#define CB_EX_STATUS_MAP(X)                                                               \
    X(NEW, "NEW")                                                                            \
    X(PARTIALLY_FILLED, "PARTIALLY_FILLED")                                                  \
    X(FILLED, "FILLED")                                                                      \
    X(CANCELED, "CANCELED")                                                                  \
    X(REJECTED, "REJECTED")                                                                  \
    X(EXPIRED, "EXPIRED")

typedef enum cb_ex_status {
#define CB_OS_ENUM_(id, name) CB_EX_STATUS_##id,
    CB_EX_STATUS_MAP(CB_OS_ENUM_)
#undef CB_OS_ENUM_
        CB_EX_STATUS_COUNT_
} cb_ex_status_t;

/* Names <-> enums ("LIMIT", "CANCELED", "BUY"). The parsers return 0 or CB_EINVAL. */
const char *cb_ex_order_type_name(cb_ex_order_type_t t);
const char *cb_ex_status_name(cb_ex_status_t s);
const char *cb_ex_side_name(cb_ex_side_t s);
int cb_ex_order_type_parse(const char *s, cb_ex_order_type_t *out);
int cb_ex_status_parse(const char *s, cb_ex_status_t *out);
int cb_ex_side_parse(const char *s, cb_ex_side_t *out);
/* 1 for NEW and PARTIALLY_FILLED. */
int cb_ex_status_open(cb_ex_status_t s);

/* Time in force of limit orders: GTC rests until filled or cancelled; IOC fills what it can
 * at once and expires the rest; FOK fills all at once or expires without a trade. */
typedef enum cb_ex_tif { CB_EX_TIF_GTC = 0, CB_EX_TIF_IOC = 1, CB_EX_TIF_FOK = 2 } cb_ex_tif_t;
const char *cb_ex_tif_name(cb_ex_tif_t t);
int cb_ex_tif_parse(const char *s, cb_ex_tif_t *out);

/* An order to place. qty at the pair's qty_scale; price (limit types) and stop_price (stop
 * types) at its price_scale, 0 when not used. */
typedef struct cb_ex_order_req {
    char pair[CB_EX_PAIR_MAX];
    char client_order_id[CB_EX_COID_MAX];
    cb_ex_side_t side;
    cb_ex_order_type_t type;
    int64_t qty;
    int64_t price;
    int64_t stop_price;
    /* Added later; zero keeps the behaviour above. */
    cb_ex_tif_t time_in_force;   /* limit types; 0 = GTC */
    /* MARKET only: an amount of the quote asset (CB_EX_AMOUNT_SCALE) to spend (BUY) or to
     * receive (SELL) instead of qty, which must then be 0 (Binance's quoteOrderQty). */
    int64_t quote_qty;
} cb_ex_order_req_t;

/* An order as the venue knows it. */
typedef struct cb_ex_order {
    char pair[CB_EX_PAIR_MAX];
    char client_order_id[CB_EX_COID_MAX];
    int64_t order_id;
    cb_ex_side_t side;
    cb_ex_order_type_t type;
    cb_ex_status_t status;
    int64_t qty, executed_qty;   /* qty_scale */
    int64_t price, stop_price;   /* price_scale; 0 when not used */
    int64_t quote_qty;           /* executed notional, at price_scale + qty_scale */
    int64_t created_ms, updated_ms;
    /* Added later (0 when the venue does not say). */
    cb_ex_tif_t time_in_force;
    int64_t order_list_id;       /* the OCO it belongs to; 0 = none */
} cb_ex_order_t;

/* One execution of one of our orders. */
typedef struct cb_ex_fill {
    int64_t trade_id, order_id;
    char client_order_id[CB_EX_COID_MAX]; /* "" when the venue does not say */
    char pair[CB_EX_PAIR_MAX];
    cb_ex_side_t side;
    int64_t price;              /* price_scale */
    int64_t qty;                /* qty_scale */
    int64_t fee;                /* CB_EX_AMOUNT_SCALE */
    char fee_asset[CB_EX_ASSET_MAX];
    int maker;
    int64_t time_ms;
} cb_ex_fill_t;

typedef struct cb_ex_balance {
    char asset[CB_EX_ASSET_MAX];
    int64_t free, locked;       /* CB_EX_AMOUNT_SCALE */
} cb_ex_balance_t;

/* What the account (and its API key) may do, as GET /api/v3/account says. */
typedef struct cb_ex_account {
    int can_trade, can_withdraw, can_deposit;
    char account_type[16];      /* "SPOT" */
} cb_ex_account_t;

typedef struct cb_book_ticker {
    char pair[CB_EX_PAIR_MAX];
    int64_t bid, ask;           /* price_scale */
    int64_t bid_qty, ask_qty;   /* qty_scale */
} cb_book_ticker_t;

typedef struct cb_ex_candle {
    int64_t time_ms;            /* open time */
    double open, high, low, close, volume;
    int closed;                 /* 0 for the candle still forming */
} cb_ex_candle_t;

/* ---- Streams ---------------------------------------------------------------------------- */

typedef enum cb_stream_kind {
    CB_STREAM_CANDLE = 1,   /* candles of one pair and timeframe */
    CB_STREAM_TRADE,        /* public trades of one pair */
    CB_STREAM_BOOK,         /* best bid/ask of one pair */
    CB_STREAM_ACCOUNT,      /* our order updates and balance updates */
    CB_STREAM_STATUS        /* connection events (connected, disconnected, gap filled) */
} cb_stream_kind_t;

typedef struct cb_stream_event {
    cb_stream_kind_t kind;
    int64_t time_ms;                 /* event time */
    char pair[CB_EX_PAIR_MAX];
    union {
        struct { char timeframe[8]; cb_ex_candle_t candle; } candle;
        struct { int64_t trade_id; double price, qty; int buyer_maker; } trade;
        cb_book_ticker_t book;
        struct {
            int is_order;            /* 1: order (+ fill when fill.qty > 0); 0: balances */
            cb_ex_order_t order;
            cb_ex_fill_t fill;
            cb_ex_balance_t balances[8];
            size_t n_balances;
            /* 1 for a deposit or withdrawal (Binance's balanceUpdate): balances[0].free is
             * the change (may be negative), not the new amount. */
            int balance_delta;
        } account;
        struct {
            int connected;
            char message[128];
            /* Account streams: 1 on a connect after a lost connection. Events between
             * missed_since_ms (server time) and now may be lost: query open orders, the
             * orders you track, my_trades since then and balances over REST. */
            int resync;
            int64_t missed_since_ms;
        } status;
    } u;
} cb_stream_event_t;

typedef void (*cb_stream_fn)(const cb_stream_event_t *ev, void *user);

/* ---- The venue-neutral interface -------------------------------------------------------- */
/* Every call may block on the network; none is safe to call from two threads at once on the
 * same cb_exchange_t. Arrays returned through `**out` are heap memory the caller frees with
 * free(). On failure calls return a negative cb_err and fill diag with a sentence a user can
 * act on (never a secret). */

typedef struct cb_exchange cb_exchange_t;

/* An OCO (one-cancels-the-other) order list on one pair: a limit leg (maker-only, Binance's
 * LIMIT_MAKER) and a stop leg (STOP_LOSS, or STOP_LOSS_LIMIT when stop_limit_price is set),
 * for the same side and quantity. Selling, the limit is above the price and the stop below
 * (take profit or stop out); buying, the other way round. When one leg executes the other
 * expires; cancelling the list (or either leg) cancels both. Prices at the pair's
 * price_scale, qty at its qty_scale; client ids as for orders. */
typedef struct cb_ex_oco_req {
    char pair[CB_EX_PAIR_MAX];
    char list_client_id[CB_EX_COID_MAX];
    char limit_client_order_id[CB_EX_COID_MAX];
    char stop_client_order_id[CB_EX_COID_MAX];
    cb_ex_side_t side;
    int64_t qty;
    int64_t limit_price;
    int64_t stop_price;
    int64_t stop_limit_price;      /* 0 = the stop leg is a market order when triggered */
} cb_ex_oco_req_t;

typedef struct cb_ex_oco {
    int64_t order_list_id;
    char list_client_id[CB_EX_COID_MAX];
    int done;                      /* 1 when the list is over (ALL_DONE) */
    cb_ex_order_t limit_leg, stop_leg;
} cb_ex_oco_t;

typedef struct cb_exchange_ops {
    const char *name;
    int (*server_time)(cb_exchange_t *ex, int64_t *out_ms, cb_diag_t *diag);
    int (*pairs)(cb_exchange_t *ex, cb_pair_info_t **out, size_t *n, cb_diag_t *diag);
    /* Candles with from_ms <= open time <= to_ms (to_ms 0 = now), at most `limit` (0 = venue's
     * page size), oldest first. One page: callers page by advancing from_ms. */
    int (*candles)(cb_exchange_t *ex, const char *pair, const char *timeframe, int64_t from_ms,
                   int64_t to_ms, size_t limit, cb_ex_candle_t **out, size_t *n, cb_diag_t *diag);
    int (*book_ticker)(cb_exchange_t *ex, const char *pair, cb_book_ticker_t *out,
                       cb_diag_t *diag);
    int (*balances)(cb_exchange_t *ex, cb_ex_balance_t **out, size_t *n, cb_diag_t *diag);
    /* Places an order. Never places it twice: an ambiguous failure is resolved by asking for
     * the client order id before anything is resent. *out is the venue's view (with fills
     * appended to *fills / *n_fills when those are non-NULL). */
    int (*place_order)(cb_exchange_t *ex, const cb_ex_order_req_t *req, cb_ex_order_t *out,
                       cb_ex_fill_t **fills, size_t *n_fills, cb_diag_t *diag);
    int (*cancel_order)(cb_exchange_t *ex, const char *pair, const char *client_order_id,
                        cb_ex_order_t *out, cb_diag_t *diag);
    /* CB_ENOENT when the venue does not know the client order id. */
    int (*query_order)(cb_exchange_t *ex, const char *pair, const char *client_order_id,
                       cb_ex_order_t *out, cb_diag_t *diag);
    int (*open_orders)(cb_exchange_t *ex, const char *pair, cb_ex_order_t **out, size_t *n,
                       cb_diag_t *diag);
    int (*my_trades)(cb_exchange_t *ex, const char *pair, int64_t since_ms, cb_ex_fill_t **out,
                     size_t *n, cb_diag_t *diag);
    void (*free)(cb_exchange_t *ex);
    /* The account's permissions (the robot refuses a key that can withdraw). */
    int (*account)(cb_exchange_t *ex, cb_ex_account_t *out, cb_diag_t *diag);
    /* Added later; NULL when the venue has no OCO orders. Placement is never repeated
     * blindly: an ambiguous answer is resolved by asking for the limit leg's client id. */
    int (*place_oco)(cb_exchange_t *ex, const cb_ex_oco_req_t *req, cb_ex_oco_t *out,
                     cb_diag_t *diag);
    int (*cancel_oco)(cb_exchange_t *ex, const char *pair, const char *list_client_id,
                      cb_ex_oco_t *out, cb_diag_t *diag);
} cb_exchange_ops_t;

struct cb_exchange {
    const cb_exchange_ops_t *ops;
};

/* Thin wrappers over the vtable (CB_EUNSUPPORTED when a venue lacks an operation). */
int cb_exchange_server_time(cb_exchange_t *ex, int64_t *out_ms, cb_diag_t *diag);
int cb_exchange_pairs(cb_exchange_t *ex, cb_pair_info_t **out, size_t *n, cb_diag_t *diag);
int cb_exchange_candles(cb_exchange_t *ex, const char *pair, const char *timeframe,
                        int64_t from_ms, int64_t to_ms, size_t limit, cb_ex_candle_t **out,
                        size_t *n, cb_diag_t *diag);
int cb_exchange_book_ticker(cb_exchange_t *ex, const char *pair, cb_book_ticker_t *out,
                            cb_diag_t *diag);
int cb_exchange_balances(cb_exchange_t *ex, cb_ex_balance_t **out, size_t *n, cb_diag_t *diag);
int cb_exchange_place_order(cb_exchange_t *ex, const cb_ex_order_req_t *req, cb_ex_order_t *out,
                            cb_ex_fill_t **fills, size_t *n_fills, cb_diag_t *diag);
int cb_exchange_cancel_order(cb_exchange_t *ex, const char *pair, const char *client_order_id,
                             cb_ex_order_t *out, cb_diag_t *diag);
int cb_exchange_query_order(cb_exchange_t *ex, const char *pair, const char *client_order_id,
                            cb_ex_order_t *out, cb_diag_t *diag);
int cb_exchange_open_orders(cb_exchange_t *ex, const char *pair, cb_ex_order_t **out, size_t *n,
                            cb_diag_t *diag);
int cb_exchange_my_trades(cb_exchange_t *ex, const char *pair, int64_t since_ms,
                          cb_ex_fill_t **out, size_t *n, cb_diag_t *diag);
int cb_exchange_account(cb_exchange_t *ex, cb_ex_account_t *out, cb_diag_t *diag);
/* OCO order lists (CB_EUNSUPPORTED when the venue has none). */
int cb_exchange_place_oco(cb_exchange_t *ex, const cb_ex_oco_req_t *req, cb_ex_oco_t *out,
                          cb_diag_t *diag);
int cb_exchange_cancel_oco(cb_exchange_t *ex, const char *pair, const char *list_client_id,
                           cb_ex_oco_t *out, cb_diag_t *diag);
/* Frees the exchange (NULL is fine); wipes any key material it holds. */
void cb_exchange_free(cb_exchange_t *ex);

/* Checks an order against the pair's filters after rounding price to the tick (nearest) and
 * quantity down to the step; writes the rounded order to *out. Returns 0 or CB_EVALID with a
 * sentence naming the filter ("quantity 0.00001 is below the minimum 0.0001 of BTC/USDT").
 * `ref_price` (price_scale) is used for the notional of market orders; 0 skips that check.
 * A quote-sized market order (quote_qty > 0, qty 0) is checked against the minimum notional
 * only; IOC/FOK on anything but LIMIT is CB_EINVAL. */
int cb_ex_order_prepare(const cb_pair_info_t *p, const cb_ex_order_req_t *req, int64_t ref_price,
                     cb_ex_order_req_t *out, cb_diag_t *diag);

/* 1 when s is a valid client order id (1..36 chars of [A-Za-z0-9._:/-]). */
int cb_client_order_id_valid(const char *s);

/* ---- Binance market streams (WebSocket) ------------------------------------------------ */

typedef struct cb_ex_stream cb_ex_stream_t;

typedef struct cb_ex_stream_opts {
    const char *ws_url;            /* NULL = "wss://stream.binance.com:9443"; the simulator:
                                      "ws://127.0.0.1:PORT" */
    const char *const *pairs;      /* "BTC/USDT", ... */
    size_t n_pairs;
    const char *timeframe;         /* closed candles of this timeframe; NULL = none */
    int book;                      /* 1: best bid/ask updates */
    int trades;                    /* 1: public trades */
    /* REST side of the same venue (required): pair scales, and the candles missed while
     * disconnected, delivered in order before live ones so that a consumer never sees a hole
     * the exchange does not have. Borrowed. */
    cb_exchange_t *rest;
    cb_stream_fn fn;
    void *user;
    uint64_t jitter_seed;          /* reconnect jitter; 0 = from the clock */
    /* per pair, the open time of the newest closed candle the consumer already has (its
     * history): the first connection delivers the candles closed since then from REST, so
     * none that closed between loading history and opening the stream is lost. NULL (or
     * INT64_MIN for a pair) = continue from the newest closed candle at open. Borrowed, read
     * during cb_binance_stream_open only. */
    const int64_t *last_closed_ms;
} cb_ex_stream_opts_t;

typedef struct cb_ex_stream_stats {
    long connects, disconnects, messages, gap_candles, duplicates;
    long deferred; /* streamed candles held back because the REST fill of a hole before them
                    * failed; they come later from REST, in order, never lost */
} cb_ex_stream_stats_t;

/* Opens the combined stream (<symbol>@kline_<tf>, @bookTicker, @trade). The connection is
 * made and kept by cb_ex_stream_poll: pings are answered and sent (idle 20 s), a lost
 * connection is reopened after 0.5 s, 1 s, 2 s ... 30 s with 0-50 % jitter. Returns 0,
 * CB_EINVAL or CB_ENOMEM. */
int cb_binance_stream_open(const cb_ex_stream_opts_t *opts, cb_ex_stream_t **out,
                           cb_diag_t *diag);
/* Runs the stream until it has delivered at least one event or timeout_ms has passed, calling
 * fn for each event (candles, trades, book, CB_STREAM_STATUS on connect/disconnect); it returns
 * as soon as something arrived, so a caller reacts to a candle without waiting out the
 * timeout. Returns 0, or CB_EIO when the event loop failed. */
int cb_ex_stream_poll(cb_ex_stream_t *s, int timeout_ms);
void cb_ex_stream_stats(const cb_ex_stream_t *s, cb_ex_stream_stats_t *out);
void cb_ex_stream_close(cb_ex_stream_t *s);

/* ---- Binance account stream (WebSocket API) -------------------------------------------- */

typedef struct cb_api_keys cb_api_keys_t; /* see API keys below */

typedef struct cb_ex_account_stream_opts {
    const char *ws_api_url;        /* NULL = "wss://ws-api.binance.com:443/ws-api/v3"; testnet:
                                      "wss://ws-api.testnet.binance.vision/ws-api/v3"; the
                                      simulator: "ws://127.0.0.1:WSPORT/ws-api/v3" */
    cb_exchange_t *rest;           /* REST side (required, borrowed): pairs and server time */
    const cb_api_keys_t *keys;     /* required; copied */
    int64_t recv_window_ms;        /* of the signed subscription; 0 = 5000 */
    cb_stream_fn fn;
    void *user;
    uint64_t jitter_seed;          /* reconnect jitter; 0 = from the clock */
} cb_ex_account_stream_opts_t;

/* Opens the account's user data stream the current Binance way: a WebSocket API connection
 * and a signed userDataStream.subscribe.signature (apiKey, recvWindow, timestamp). Events are
 * CB_STREAM_ACCOUNT (executionReport -> order (+ fill), outboundAccountPosition -> balances,
 * balanceUpdate -> balance_delta) and CB_STREAM_STATUS: connected once subscribed,
 * disconnected when the connection is lost. Reconnects like the market streams and
 * subscribes again; that connected event has resync = 1 and missed_since_ms, and the caller
 * should query over REST what it may have missed. A refused subscription (bad key or
 * signature) is a status event with Binance's words, then a retry after the backoff.
 * Poll and close it with cb_ex_stream_poll / cb_ex_stream_close. Returns 0, CB_EINVAL,
 * CB_ENOMEM or the REST side's error. */
int cb_binance_account_stream_open(const cb_ex_account_stream_opts_t *opts, cb_ex_stream_t **out,
                                   cb_diag_t *diag);

/* ---- Downloading history -------------------------------------------------------------- */

typedef struct cb_download_progress {
    size_t pages;            /* candle pages fetched so far */
    size_t candles;          /* candles appended so far */
    int64_t from_ms, to_ms;  /* the span asked for */
    int64_t at_ms;           /* open time of the last candle appended */
} cb_download_progress_t;

typedef void (*cb_download_fn)(const cb_download_progress_t *p, void *user);

/* Appends to `s` every closed candle of pair/timeframe with from_ms <= open time < to_ms
 * (to_ms 0 = up to now), paging through the venue's candle endpoint (1000 per page; rate limits
 * and retries are the connector's). When s already holds candles it resumes after the last one.
 * fn (may be NULL) is called after every page. On failure s keeps every candle fetched so far,
 * so that a second run resumes where the first stopped. Returns 0 or the connector's error. */
int cb_exchange_download(cb_exchange_t *ex, const char *pair, const char *timeframe,
                         int64_t from_ms, int64_t to_ms, cb_series_t *s, cb_download_fn fn,
                         void *user, cb_diag_t *diag);

/* ---- API keys --------------------------------------------------------------------------- */

/* Key material lives in memory excluded from core dumps and is wiped on close. */
typedef struct cb_api_keys cb_api_keys_t;

/* Loads keys from an INI file (`api_key = ...`, `api_secret = ...`, optionally in any
 * section). Refuses (CB_EAUTH) a file that group or others may read, naming the mode and the
 * chmod that fixes it. Never copies a key into diag. */
int cb_api_keys_load_file(const char *path, cb_api_keys_t **out, cb_diag_t *diag);
/* Loads keys from COMEBACK_API_KEY / COMEBACK_API_SECRET. CB_ENOENT when unset. */
int cb_api_keys_load_env(cb_api_keys_t **out, cb_diag_t *diag);
/* Keys from memory (tests, the simulator). */
int cb_api_keys_new(const char *api_key, const char *api_secret, cb_api_keys_t **out);
const char *cb_api_keys_key(const cb_api_keys_t *k);
const char *cb_api_keys_secret(const cb_api_keys_t *k);  /* "" for Ed25519/RSA keys */
void cb_api_keys_free(cb_api_keys_t *k);

/* Binance's three API key types. HMAC keys sign with a shared secret (hex HMAC-SHA256);
 * Ed25519 (what Binance recommends) and RSA keys sign with a private key the exchange never
 * sees (base64 of the signature; RSA: PKCS#1 v1.5 with SHA-256). The key file names the PEM
 * file instead of a secret: `private_key_file = ed25519.pem` (relative paths are relative to
 * the key file; the PEM file must be mode 600 too, unencrypted), or for the simulator, which
 * only verifies, `public_key_file = ed25519.pub.pem`. The environment equivalent is
 * COMEBACK_PRIVATE_KEY_FILE beside COMEBACK_API_KEY. */
typedef enum cb_api_key_type {
    CB_API_KEY_HMAC = 0,
    CB_API_KEY_ED25519 = 1,
    CB_API_KEY_RSA = 2
} cb_api_key_type_t;
cb_api_key_type_t cb_api_keys_type(const cb_api_keys_t *k);
/* An API key with a PEM private or public key (Ed25519 or RSA) given as text. Returns 0,
 * CB_EINVAL (diag says why: not PEM, encrypted, another key type) or CB_ENOMEM. */
int cb_api_keys_new_pem(const char *api_key, const char *pem, size_t pem_len,
                        cb_api_keys_t **out, cb_diag_t *diag);
/* A copy (the connector and the simulator keep their own). Returns 0 or CB_ENOMEM. */
int cb_api_keys_dup(const cb_api_keys_t *k, cb_api_keys_t **out);
/* Binance's `signature` of payload as text: 64 hex digits (HMAC) or base64 (Ed25519: 88
 * chars, RSA: up to 700). Returns 0, CB_EINVAL (out too small, or a verify-only public key)
 * or CB_ENOMEM. */
int cb_api_keys_sign(const cb_api_keys_t *k, const char *payload, size_t len, char *out,
                     size_t out_size);
/* 1 when sig is a valid signature of payload under k (HMAC hex compared without case). */
int cb_api_keys_verify(const cb_api_keys_t *k, const char *payload, size_t len,
                       const char *sig);

/* ---- Binance spot connector ------------------------------------------------------------- */

typedef struct cb_binance_opts {
    const char *base_url;       /* NULL = "https://api.binance.com"; spot testnet:
                                   "https://testnet.binance.vision" */
    const cb_api_keys_t *keys;  /* NULL for public data only; copied */
    int64_t recv_window_ms;     /* 0 = 5000 */
    long connect_timeout_ms;    /* 0 = 5000 */
    long timeout_ms;            /* 0 = 15000 (whole request) */
    int max_retries;            /* idempotent requests; 0 = 4, -1 = none */
    long max_wait_ms;           /* longest rate-limit wait before giving up (0 = 120000) */
    int weight_limit;           /* request weight per minute to stay under (0 = 6000) */
    uint64_t jitter_seed;       /* backoff jitter; 0 = from the clock */
} cb_binance_opts_t;

/* Counters a caller (or a test) can read to see what the connector did. */
typedef struct cb_binance_stats {
    long requests, retries, rate_waits, resolved_by_query, time_syncs;
    int used_weight;            /* last X-MBX-USED-WEIGHT-1M */
    int64_t time_offset_ms;     /* server time - local time */
    long waited_ms;             /* total time slept on rate limits and backoff */
} cb_binance_stats_t;

/* A connector for Binance spot. Measures the server-time offset on first use of a signed
 * endpoint and every 10 minutes after. Returns 0, CB_EINVAL or CB_ENOMEM. */
int cb_binance_new(const cb_binance_opts_t *opts, cb_exchange_t **out, cb_diag_t *diag);
/* The connector's counters (ex must come from cb_binance_new). */
void cb_binance_stats(const cb_exchange_t *ex, cb_binance_stats_t *out);

/* "BTC/USDT" -> "BTCUSDT" (buf >= CB_EX_PAIR_MAX). Returns 0 or CB_EINVAL. */
int cb_binance_symbol(const char *pair, char *buf, size_t size);

/* HMAC-SHA256 of `data` with `secret`, as 64 lowercase hex digits + NUL in hex[65]. This is
 * Binance's `signature` over totalParams (query string concatenated with the request body). */
int cb_binance_sign(const char *secret, const char *data, size_t len, char hex[65]);

/* A clear English sentence for a Binance error code (-2010 -> "insufficient balance ...");
 * NULL for codes without one. */
const char *cb_binance_error_text(int code);
/* The cb_err a Binance error code maps to (-1021 -> CB_EAUTH, -2010 -> CB_EREJECTED, ...). */
int cb_binance_error_class(int code);

#ifdef __cplusplus
}
#endif
#endif
