/* Comeback live trading: the exchange venue (the engine's orders sent to a real exchange
 * through a cb_exchange_t, journaled before they are sent) and reconciliation (the journal
 * compared with what the exchange says, on start and every minute; any difference stops
 * trading until a person resolves it).
 *
 * Clocks: journal times (created_ms of an intent) are the wall clock (opts.now_ms), because
 * they decide when an intent the exchange never received can be declared "not sent"; times
 * that select exchange history (my_trades since ...) are always the exchange's own. */
#ifndef COMEBACK_LIVE_H
#define COMEBACK_LIVE_H

#include <stddef.h>
#include <stdint.h>

#include "comeback/core.h"
#include "comeback/exchange.h"
#include "comeback/journal.h"
#include "comeback/venue.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Scales ----------------------------------------------------------------------------- */

/* Converts an engine amount (1e-8, CB_FX_ONE) to `scale` decimals (0..8) exactly: CB_ERANGE
 * when v is not a multiple of 10^(8 - scale) or scale is outside 0..8. */
int cb_live_fx_to_scale(int64_t v, int scale, int64_t *out);
/* Converts an amount at `scale` decimals (0..8) to the engine's 1e-8 (exact; CB_ERANGE when
 * scale is outside 0..8 or the value overflows). */
int cb_live_scale_to_fx(int64_t v, int scale, int64_t *out);

/* Fills the engine's instrument for `pair` from the exchange's pair info: tick, step and
 * minimum notional converted to 1e-8. CB_ERANGE (diag names the pair) when a scale is finer
 * than 1e-8, so that the engine never trades amounts the exchange cannot represent. */
int cb_live_instrument(const cb_pair_info_t *p, cb_instrument_t *out, cb_diag_t *diag);

/* ---- The exchange venue ----------------------------------------------------------------- */

typedef struct cb_exchange_venue_opts {
    cb_exchange_t *ex;             /* borrowed; must outlive the venue */
    cb_journal_t *journal;         /* borrowed; must outlive the venue */
    /* The engine's pairs, in the engine's order (cb_order_t.pair indexes them): "BTC/USDT". */
    const char *const *pairs;
    size_t n_pairs;
    /* An intent that the exchange does not know this long after it was written is declared
     * never sent (REJECTED, "not sent"). Must exceed the connector's receive window plus any
     * delay a request can spend in flight. 0 = 10000 ms. */
    int64_t unsent_after_ms;
    /* Wall clock for journal times; NULL = cb_now_ms. */
    int64_t (*now_ms)(void *user);
    void *now_user;
} cb_exchange_venue_opts_t;

/* Creates the exchange venue: loads the exchange's pair infos, checks that every pair trades
 * and that its scales convert exactly to 1e-8, and reads the quote balance.
 *
 * What goes where:
 * - submit: the order is checked and rounded (cb_ex_order_prepare), its intent committed to
 *   the journal with the journal's client order id, and only then sent (place_order). A
 *   definitive refusal returns CB_EREJECTED; an ambiguous failure leaves the order UNKNOWN,
 *   resolved later by a query of its client order id (never resent under another id).
 *   Market buys sized by quote are sent with Binance's quoteOrderQty (the exchange computes
 *   the quantity at its price; the commission comes out of the coins bought). Sell quantities are floored to the step: the
 *   remainder (less than one step) stays on the account as dust.
 * - Stops: STOP_MARKET -> STOP_LOSS and STOP_LIMIT -> STOP_LOSS_LIMIT, resting on the
 *   exchange. amend = cancel + place under a new client order id. A stop the exchange
 *   refuses because the price is already beyond it ("would trigger immediately") is sent as a
 *   MARKET sell at once, under the same engine order.
 * - Take-profit (a LIMIT sell with an oco partner): kept LOCALLY, because Binance spot cannot
 *   hold a second sell order for coins the stop already locks. When a closed candle's high
 *   reaches it (on_bar), the stop is cancelled on the exchange and a MARKET sell is sent; if
 *   the stop filled first, the take-profit is cancelled. While the robot is down, only the
 *   stop protects the position.
 * - Limit entries with expire_ms are cancelled at the first candle opening at or after
 *   expire_ms and end EXPIRED (or FILL for what executed).
 * - Events are queued and delivered from poll() (never from inside submit/cancel/amend):
 *   one final event per order. Partial fills are aggregated into one FILL: executed quantity,
 *   average price, fees converted to quote. A buy's commission charged in the base asset is
 *   deducted from the FILL quantity (the engine holds exactly what the balance gained) and
 *   reported as a quote fee (fee * price) with notional = gross notional - that fee, so the
 *   engine's cash moves by exactly what the exchange's quote balance moved. Commissions in a
 *   third asset (BNB) are journaled but count 0 in quote.
 * - poll: open orders per pair (one request), a query for each order that left the list or
 *   whose executed quantity changed, and my_trades for its fills (journaled, deduplicated by
 *   trade id). Network errors are transient: the venue retries at the next poll.
 * Returns 0, CB_EINVAL, CB_ERANGE, CB_ENOENT (pair unknown to the exchange), CB_ENOMEM or the
 * connector's error, with diag. Free with out->ops->destroy(out->self). */
int cb_exchange_venue_new(const cb_exchange_venue_opts_t *opts, cb_venue_t *out,
                          cb_diag_t *diag);

/* What the venue is doing (for status displays and tests). v must come from
 * cb_exchange_venue_new. */
typedef struct cb_exchange_venue_stats {
    size_t live_orders;          /* on the exchange or in flight */
    size_t emulated_orders;      /* take-profits held locally */
    size_t sent, rejected, unknown_resolved, fills_recorded, events_delivered;
    size_t poll_errors;          /* transient failures met by poll (retried) */
    char last_error[256];        /* the last of them; "" when none */
} cb_exchange_venue_stats_t;
void cb_exchange_venue_stats(const cb_venue_t *v, cb_exchange_venue_stats_t *out);

/* The client order id of the engine's order `order_id` ("" when unknown or emulated). */
const char *cb_exchange_venue_client_id(const cb_venue_t *v, uint64_t order_id);

/* ---- Reconciliation --------------------------------------------------------------------- */

#define CB_RECON_KIND_MAP(X)                                                                 \
    X(UNKNOWN_ORDER, "unknown_order")     /* our prefix, open on the exchange, not journaled */ \
    X(FOREIGN_ORDER, "foreign_order")     /* someone else's open order in a traded pair */   \
    X(MISSING_ORDER, "missing_order")     /* journaled as live, unknown to the exchange */   \
    X(UNRESOLVED, "unresolved")           /* could not be established (network): retry */    \
    X(BALANCE, "balance")                 /* base balance != journal position */

typedef enum cb_recon_kind {
#define CB_RK_ENUM_(id, name) CB_RECON_##id,
    CB_RECON_KIND_MAP(CB_RK_ENUM_)
#undef CB_RK_ENUM_
    CB_RECON_KIND_COUNT
} cb_recon_kind_t;

const char *cb_recon_kind_name(cb_recon_kind_t k);

typedef struct cb_recon_diff {
    cb_recon_kind_t kind;
    char pair[32];
    char asset[16];               /* BALANCE */
    char client_order_id[48];     /* orders */
    int64_t expected, actual;     /* BALANCE: journal vs exchange, at 1e-8 */
    char message[384];            /* what differs and how to resolve it */
    int resolved;                 /* 1: resolved by this run (adopt / ignore) */
} cb_recon_diff_t;

typedef enum cb_recon_action {
    CB_RECON_CHECK = 0,   /* report differences, change nothing but the journal's catch-up */
    CB_RECON_ADOPT,       /* adopt: unknown/foreign orders into the journal, the exchange's
                           * balance as the truth, missing orders marked expired */
    CB_RECON_IGNORE       /* ignore: remember those orders as not ours (never reported
                           * again), accept the balance difference as outside the robot */
} cb_recon_action_t;

typedef struct cb_reconcile_opts {
    cb_exchange_t *ex;            /* borrowed */
    cb_journal_t *journal;        /* borrowed */
    const char *bot;              /* the journal's bot name: our client ids are "cb-<bot>-" */
    const char *const *pairs;     /* the traded pairs */
    size_t n_pairs;
    cb_recon_action_t action;
    int64_t unsent_after_ms;      /* as in cb_exchange_venue_opts_t; 0 = 10000 */
    int wait_unsent;              /* 1: sleep until young intents can be declared (start-up);
                                   * 0: report them UNRESOLVED */
    int64_t (*now_ms)(void *user);/* NULL = cb_now_ms */
    void *now_user;
} cb_reconcile_opts_t;

typedef struct cb_reconcile_report {
    size_t orders_checked;        /* journal orders in flight that were queried */
    size_t orders_updated;        /* ... whose journal status changed */
    size_t not_sent;              /* intents declared never sent (REJECTED "not sent") */
    size_t fills_recorded;        /* fills the journal lacked, now recorded */
    size_t adopted, ignored;
    cb_recon_diff_t *diffs;       /* heap; cb_reconcile_report_free */
    size_t n_diffs;
    size_t n_open;                /* diffs not resolved: nonzero = fail closed */
} cb_reconcile_report_t;

/* Reconciles the journal with the exchange:
 * 1. every journal order in INTENT/UNKNOWN/NEW/PARTIALLY_FILLED is queried by client order id
 *    and updated (status, executed quantity, fills); an intent the exchange never received is
 *    marked REJECTED "not sent" once unsent_after_ms has passed (never resent);
 * 2. every fill of ours the journal lacks is recorded (my_trades of each traded pair since the
 *    oldest order in flight, matched by exchange order id);
 * 3. the exchange's open orders in the traded pairs are compared with the journal;
 * 4. each traded base asset's balance (free + locked) is compared with the baseline balance
 *    recorded at the first reconciliation plus the journal's position net of base commissions;
 *    a difference of less than one quantity step is dust and accepted.
 * Every difference is in out->diffs with a sentence that says what differs and how to resolve
 * it; out->n_open > 0 means the robot must not trade (fail closed). Returns 0 (even with
 * differences) or a negative cb_err when the reconciliation itself could not run (diag). */
int cb_reconcile(const cb_reconcile_opts_t *opts, cb_reconcile_report_t *out, cb_diag_t *diag);
void cb_reconcile_report_free(cb_reconcile_report_t *r);

/* The report as JSON (malloc'ed; NULL on CB_ENOMEM). */
char *cb_reconcile_report_json(const cb_reconcile_report_t *r);

/* The base position the journal holds for a pair, net of base-asset commissions, at 1e-8
 * (what the base balance gained through the robot's fills). */
int cb_live_position(cb_journal_t *j, const char *pair, const char *base, int64_t *out);

/* ---- Starting live trading ---------------------------------------------------------------- */

/* The signed Binance connection live mode and `comeback reconcile` use: keys from key_file
 * (INI api_key/api_secret or private_key_file, mode 600) or, when key_file is NULL or "", from
 * COMEBACK_API_KEY / COMEBACK_API_SECRET; api_url NULL or "" = Binance. Returns 0 or the key
 * loader's / connector's error with diag (never a secret). */
int cb_live_connect(const char *api_url, const char *key_file, cb_exchange_t **out,
                    cb_diag_t *diag);

/* Refuses (CB_EAUTH, with a sentence) an account whose key can withdraw funds or cannot trade,
 * as GET /api/v3/account reports them. CB_EUNSUPPORTED when the exchange cannot tell. */
int cb_live_check_account(cb_exchange_t *ex, cb_diag_t *diag);

/* Cancels every order of ours that the journal holds open (NEW / PARTIALLY_FILLED) in the
 * given pairs, recording what executed before the cancel. The robot does this on start, after
 * cb_reconcile, because the exits of a restored position are placed afresh (and a stop left on
 * the exchange would lock the coins they need). *n_canceled counts them. */
int cb_live_cancel_open(cb_exchange_t *ex, cb_journal_t *j, const char *const *pairs,
                        size_t n_pairs, size_t *n_canceled, cb_diag_t *diag);

/* A position rebuilt from the journal's fills (for cb_engine_restore): the base quantity
 * held (net of base commissions, 1e-8), the average price of the buys since the pair was last
 * flat, their commissions in quote, and the time of the first of them. A remainder below
 * `step_fx` (dust left by sells floored to the step) counts as flat: open = 0. */
typedef struct cb_live_position {
    int open;
    int64_t qty, entry_price, entry_fee, entry_ms;
} cb_live_position_t;
int cb_live_position_rebuild(cb_journal_t *j, const char *pair, const char *base,
                             int64_t step_fx, cb_live_position_t *out);

#ifdef __cplusplus
}
#endif
#endif
