/* Comeback journal: the robot's crash-safe memory, in SQLite (WAL, synchronous=FULL).
 *
 * The rule that makes orders survive anything: an order INTENT, with its deterministic client
 * order id "cb-<bot>-<sequence>", is committed before the order is sent. Afterwards every
 * acknowledgement, status change and fill is committed as it arrives; fills are deduplicated by
 * (pair, exchange trade id), so replaying the exchange's history after a crash is harmless.
 * On restart the robot reads the orders still in flight and asks the exchange about each.
 *
 * Amounts are fixed-point int64 at the scales stored with each order (price_scale, qty_scale);
 * the journal never converts them to doubles. The backtester writes nothing here. */
#ifndef COMEBACK_JOURNAL_H
#define COMEBACK_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "comeback/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cb_journal cb_journal_t;

/* Order life cycle as the journal records it. INTENT: written, not yet known to be sent;
 * the others follow Binance's order statuses. */
#define CB_ORDER_STATUS_MAP(X)                                                               \
    X(INTENT, "intent")                                                                      \
    X(NEW, "new")                                                                            \
    X(PARTIALLY_FILLED, "partially_filled")                                                  \
    X(FILLED, "filled")                                                                      \
    X(CANCELED, "canceled")                                                                  \
    X(REJECTED, "rejected")                                                                  \
    X(EXPIRED, "expired")                                                                    \
    X(UNKNOWN, "unknown") /* sent, answer lost, not yet resolved by a query */

typedef enum cb_order_status {
#define CB_OS_ENUM_(id, name) CB_OS_##id,
    CB_ORDER_STATUS_MAP(CB_OS_ENUM_)
#undef CB_OS_ENUM_
} cb_order_status_t;

const char *cb_order_status_name(cb_order_status_t s);
/* "filled" -> CB_OS_FILLED; also accepts Binance's upper-case names. 0 or CB_EINVAL. */
int cb_order_status_parse(const char *name, cb_order_status_t *out);
/* 1 for statuses after which nothing more can happen to the order. */
int cb_order_status_final(cb_order_status_t s);

typedef struct cb_journal_order {
    char client_order_id[48];
    char exchange_order_id[32]; /* "" until acknowledged */
    char pair[32];              /* "BTC/USDT" */
    char side[8];               /* "buy" | "sell" */
    char type[24];              /* "market", "limit", "stop_loss_limit", ... */
    char reason[32];            /* why: "entry", "exit_rule", "stoploss", ... */
    cb_order_status_t status;
    int price_scale, qty_scale;
    int64_t price;              /* limit price (0 for market) */
    int64_t stop_price;         /* 0 when none */
    int64_t quantity;
    int64_t executed_quantity;
    int64_t created_ms, updated_ms;
} cb_journal_order_t;

typedef struct cb_journal_fill {
    char pair[32];
    char trade_id[32];          /* the exchange's trade id: unique per pair */
    char client_order_id[48];
    char side[8];
    int price_scale, qty_scale, fee_scale;
    int64_t price, quantity, fee;
    char fee_asset[16];
    int64_t time_ms;
} cb_journal_fill_t;

/* Opens (creating when absent) the journal at path for the bot `bot` (letters, digits, '-' and
 * '_', at most 20 characters, because it becomes part of every client order id). Sets WAL
 * and synchronous=FULL. A journal created for another bot name is refused (CB_ECONFLICT).
 * Returns 0, CB_EINVAL, CB_EIO (with diag) or CB_ENOMEM. */
int cb_journal_open(const char *path, const char *bot, cb_journal_t **out, cb_diag_t *diag);
/* Opens an existing journal whatever bot it belongs to (for the status and control commands,
 * which know only the file). Never creates one: CB_ENOENT (diag) when path is not a journal.
 * The bot's name is written to bot (may be NULL). */
int cb_journal_open_existing(const char *path, cb_journal_t **out, char *bot, size_t bot_size,
                             cb_diag_t *diag);
void cb_journal_close(cb_journal_t *j);

/* Allocates the next client order id and records the intent in one transaction, before the
 * order may be sent. order->client_order_id is written; status is set to INTENT. */
int cb_journal_order_intent(cb_journal_t *j, cb_journal_order_t *order);

/* Records what the exchange said about an order: status, its id (may be NULL to keep the
 * known one) and executed quantity. An update never moves an order backwards from a final
 * status; executed quantity never decreases. CB_ENOENT for an unknown client id. */
int cb_journal_order_update(cb_journal_t *j, const char *client_order_id,
                            const char *exchange_order_id, cb_order_status_t status,
                            int64_t executed_quantity, int64_t time_ms);

/* Adopts an order the exchange has and the journal lacks (comeback reconcile --adopt). */
int cb_journal_order_adopt(cb_journal_t *j, const cb_journal_order_t *order);

/* Records a fill once: returns 1 when new, 0 when (pair, trade_id) was already recorded. */
int cb_journal_fill(cb_journal_t *j, const cb_journal_fill_t *fill);

/* Looks up one order by client id: 0 or CB_ENOENT. */
int cb_journal_order_get(cb_journal_t *j, const char *client_order_id, cb_journal_order_t *out);

/* Calls fn for each order (all, or only those not in a final status), oldest first.
 * fn returning non-zero stops the walk and that value is returned. */
typedef int (*cb_journal_order_fn)(const cb_journal_order_t *order, void *ctx);
int cb_journal_orders(cb_journal_t *j, int only_open, cb_journal_order_fn fn, void *ctx);

typedef int (*cb_journal_fill_fn)(const cb_journal_fill_t *fill, void *ctx);
/* Fills of one order (client id) or of all orders (NULL), in time order. */
int cb_journal_fills(cb_journal_t *j, const char *client_order_id, cb_journal_fill_fn fn,
                     void *ctx);

/* Net base quantity bought minus sold for a pair, from the recorded fills (at qty_scale). */
int cb_journal_position(cb_journal_t *j, const char *pair, int qty_scale, int64_t *out);

/* A small key/value store for the robot's durable state (risk counters, pause flag, last
 * processed candle). Values are text. get returns CB_ENOENT when absent. */
int cb_journal_kv_set(cb_journal_t *j, const char *key, const char *value);
int cb_journal_kv_get(cb_journal_t *j, const char *key, char *buf, size_t size);

/* Appends an event to the log table (kind such as "decision", "risk", "reconcile"; detail is
 * free text or JSON). Events are for people and audits; nothing is decided from them. */
int cb_journal_event(cb_journal_t *j, int64_t time_ms, const char *kind, const char *detail);

/* ---- The robot's liveness, operator requests and labels ---------------------------------- */

/* Records that the robot, process `pid`, is alive at now_ms (wall clock): one small write the
 * robot's loop makes at least every second. `comeback status` compares it with the clock and
 * with the process. 0 or CB_EIO. */
int cb_journal_heartbeat(cb_journal_t *j, int64_t pid, int64_t now_ms);
/* The last heartbeat: 0, CB_ENOENT (none yet) or CB_ECORRUPT. */
int cb_journal_heartbeat_get(cb_journal_t *j, int64_t *pid, int64_t *time_ms);

/* Calls fn for every kv key that starts with prefix (the operator's requests
 * "control.forceexit.<PAIR>", ...), in key order. fn returning non-zero stops the walk and that
 * value is returned. */
typedef int (*cb_journal_kv_fn)(const char *key, const char *value, void *ctx);
int cb_journal_kv_each(cb_journal_t *j, const char *prefix, cb_journal_kv_fn fn, void *ctx);

/* The newest order of a pair (highest sequence): 0 or CB_ENOENT. */
int cb_journal_order_last(cb_journal_t *j, const char *pair, cb_journal_order_t *out);
/* Relabels an order's reason (a forced exit, which the venue journaled as a plain "exit" the
 * moment it was sent, becomes "force_exit"). 0, CB_EINVAL, CB_ENOENT or CB_EIO. */
int cb_journal_order_set_reason(cb_journal_t *j, const char *client_order_id,
                                const char *reason);

/* Groups several writes in one transaction (all or nothing). Nested calls are counted. */
int cb_journal_begin(cb_journal_t *j);
int cb_journal_commit(cb_journal_t *j);
int cb_journal_rollback(cb_journal_t *j);

/* Why the last operation failed, for diagnostics: the journal's own reason (a commit without
 * a transaction, a bad side) or SQLite's message; never SQLite's "not an error", never
 * secrets. */
const char *cb_journal_errmsg(cb_journal_t *j);

#ifdef __cplusplus
}
#endif
#endif
