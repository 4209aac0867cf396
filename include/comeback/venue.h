/* Comeback venues: where orders go and fills come from.
 *
 * The engine (engine.h) submits, amends and cancels orders through a venue and learns what
 * happened from the events the venue delivers to its sink; it never knows which venue it has.
 * Three venues implement this interface: the backtest venue (here), the paper venue (live
 * data, local fills) and the exchange venue (a real connector). The backtest and paper venues
 * share the FILL MODEL below, a set of pure functions that the exchange simulator reuses too.
 *
 * Money is fixed-point everywhere in this header: prices, quantities, notionals, fees and
 * balances are int64 counts of 1e-8 units (CB_FX_ONE = 1.00000000). Prices are quote per base,
 * quantities are base units, notionals/fees/balances are quote units. Rates (fees, slippage)
 * are int64 counts of 1e-8 (0.1% = 100000). */
#ifndef COMEBACK_VENUE_H
#define COMEBACK_VENUE_H

#include <stddef.h>
#include <stdint.h>

#include "comeback/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* CB_FX_SCALE, CB_FX_ONE, CB_FX_MAX and the checked helpers (cb_fx_mul, ...): core.h. */

/* ---- Instruments and costs -------------------------------------------------------------- */

/* A tradable pair and the exchange's rounding rules for it. */
typedef struct cb_instrument {
    char pair[32];         /* "BTC/USDT" */
    char base[16];         /* "BTC" */
    char quote[16];        /* "USDT" */
    int64_t tick;          /* price tick (fx): every order price must be a multiple */
    int64_t step;          /* quantity step (fx): every order quantity must be a multiple */
    int64_t min_notional;  /* minimum price * quantity of an order (fx quote); 0 = none */
} cb_instrument_t;

/* Defaults when a pair has no [pairs] entry: tick 0.00000001, step 0.00000001, min notional
 * 0. The pair name is split at '/' into base and quote ("SYN/USDT"); a name without '/' gets
 * quote "USDT". */
void cb_instrument_default(cb_instrument_t *ins, const char *pair);

/* Parses a [pairs] value such as "tick=0.01 step=0.00001 min_notional=5" (keys in any order,
 * separated by spaces or commas; missing keys keep their current values) into ins.
 * Returns 0 or CB_EPARSE with diag naming the key. */
int cb_instrument_parse(cb_instrument_t *ins, const char *spec, cb_diag_t *diag);

typedef struct cb_costs {
    int64_t taker_fee;  /* rate (1e-8): market, stop-market and triggered stop-limit fills */
    int64_t maker_fee;  /* rate (1e-8): resting limit fills */
    int64_t slippage;   /* rate (1e-8): adverse, on market and stop fills */
} cb_costs_t;

/* Parses a rate: "0.1%" (= 0.001), "0.001", "10bps". Returns 0 or CB_EPARSE / CB_ERANGE
 * (negative or above 100%). */
int cb_rate_parse(const char *s, int64_t *out_rate);

/* ---- Orders, fills and events ----------------------------------------------------------- */

typedef enum cb_side { CB_BUY = 0, CB_SELL = 1 } cb_side_t;

#define CB_ORDER_TYPE_MAP(X)                                                                 \
    X(MARKET, "market")                                                                      \
    X(LIMIT, "limit")                                                                        \
    X(STOP_MARKET, "stop_market")                                                            \
    X(STOP_LIMIT, "stop_limit")

typedef enum cb_order_type {
#define CB_OT_ENUM_(id, name) CB_ORDER_##id,
    CB_ORDER_TYPE_MAP(CB_OT_ENUM_)
#undef CB_OT_ENUM_
} cb_order_type_t;

const char *cb_order_type_name(cb_order_type_t t);

/* Why a venue refused an order (the one table; reports count each). */
#define CB_REJECT_MAP(X)                                                                     \
    X(NONE, "none", "not rejected")                                                          \
    X(BALANCE, "insufficient_balance", "insufficient balance")                               \
    X(MIN_NOTIONAL, "min_notional", "below the pair's minimum notional")                     \
    X(TICK, "price_tick", "price is not a multiple of the pair's tick")                      \
    X(STEP, "quantity_step", "quantity is zero or not a multiple of the pair's step")        \
    X(INVALID, "invalid", "invalid order")                                                   \
    X(MAX_OPEN_TRADES, "max_open_trades", "max_open_trades reached")                        \
    X(PRICE, "price_range", "price is below the 1e-8 unit (rounds to zero) or not positive")  \
    X(RANGE, "amount_range", "quantity or proceeds beyond the largest representable amount")

typedef enum cb_reject {
#define CB_RJ_ENUM_(id, name, msg) CB_REJECT_##id,
    CB_REJECT_MAP(CB_RJ_ENUM_)
#undef CB_RJ_ENUM_
    CB_REJECT_COUNT
} cb_reject_t;

const char *cb_reject_name(cb_reject_t r);
const char *cb_reject_message(cb_reject_t r);

typedef struct cb_order {
    uint64_t id;           /* unique per run, chosen by the submitter (client order id) */
    uint64_t oco;          /* nonzero: orders sharing it are one-cancels-the-other */
    uint32_t pair;         /* index of the instrument at the venue */
    cb_side_t side;
    cb_order_type_t type;
    int64_t qty;           /* base quantity; 0 for a market buy sized by quote_qty */
    int64_t quote_qty;     /* market buy only: spend at most this much quote, fee included */
    int64_t limit_price;   /* LIMIT and STOP_LIMIT */
    int64_t stop_price;    /* STOP_MARKET and STOP_LIMIT: the trigger */
    int64_t ref_price;     /* the last price the submitter saw (reserves funds for market
                            * buys; the settlement price of `settle` orders) */
    int64_t created_ms;    /* when the submitter decided (the settlement time of `settle`) */
    int64_t expire_ms;     /* >0: expires unfilled after the bar opening at this time */
    int settle;            /* 1: fill at once at ref_price, taker fee, no slippage (the
                            * end-of-data close; simulated venues only) */
    int32_t tag;           /* the submitter's own label; venues ignore it */
} cb_order_t;

typedef struct cb_fill {
    uint64_t order_id;
    uint32_t pair;
    cb_side_t side;
    int maker;             /* 1: maker fee applied */
    int64_t time_ms;       /* open time of the bar in which it filled */
    int64_t price;         /* execution price, slippage included */
    int64_t ref_price;     /* price before slippage (open, stop or limit price) */
    int64_t qty;
    int64_t notional;      /* price * qty (buys rounded up, sells down, to 1e-8) */
    int64_t fee;           /* quote, rounded up to 1e-8 */
    int64_t slippage;      /* quote lost to slippage: |price - ref_price| * qty */
} cb_fill_t;

typedef enum cb_event_type {
    CB_EV_FILL = 1,
    CB_EV_CANCELED,
    CB_EV_EXPIRED,
    CB_EV_REJECTED   /* refused when it would have filled (e.g. balance at fill time) */
} cb_event_type_t;

typedef struct cb_venue_event {
    cb_event_type_t type;
    uint64_t order_id;
    uint32_t pair;
    int32_t tag;           /* the order's tag */
    cb_reject_t reason;    /* CB_EV_REJECTED */
    cb_fill_t fill;        /* CB_EV_FILL */
} cb_venue_event_t;

/* ---- The venue interface ---------------------------------------------------------------- */

typedef void (*cb_venue_sink_fn)(void *ctx, const cb_venue_event_t *ev);

typedef struct cb_venue_ops {
    const char *name;      /* "backtest", "paper", "binance" */
    /* Where events go. Events may be delivered synchronously from inside any call below
     * (simulated venues) or later (exchanges). */
    void (*set_sink)(void *self, cb_venue_sink_fn sink, void *ctx);
    /* Accepts an order (0) or refuses it at once (CB_EREJECTED, *reason says why). */
    int (*submit)(void *self, const cb_order_t *order, cb_reject_t *reason);
    /* Cancels a live order; a CB_EV_CANCELED event follows. CB_ENOENT when not live. */
    int (*cancel)(void *self, uint64_t order_id);
    /* Moves a live stop order's trigger (and limit). CB_ENOENT when not live. */
    int (*amend)(void *self, uint64_t order_id, int64_t stop_price, int64_t limit_price);
    /* Market data: a candle of `pair` (simulated venues match resting orders against it;
     * exchange venues ignore it). */
    int (*on_bar)(void *self, uint32_t pair, int64_t time_ms, int64_t open, int64_t high,
                  int64_t low, int64_t close);
    /* The venue's quote balance (free + locked), for reconciliation. */
    int64_t (*quote_balance)(void *self);
    void (*destroy)(void *self);
    /* Asynchronous venues only (NULL for simulated ones): lets the venue learn what happened
     * to its live orders (acknowledgements, fills, cancels) and deliver those events to the
     * sink. The robot calls it from its loop, at least once per second and after every bar.
     * Returns 0, or a negative cb_err when the venue cannot be trusted any more (the robot
     * then stops trading and reconciles). */
    int (*poll)(void *self, int64_t now_ms);
} cb_venue_ops_t;

typedef struct cb_venue {
    const cb_venue_ops_t *ops;
    void *self;
} cb_venue_t;

/* Creates the backtest venue: an in-memory exchange holding `quote_balance` of quote currency,
 * the given instruments (copied) and costs, matching orders with the fill model below.
 * Returns 0 or CB_ENOMEM / CB_EINVAL. Free with out->ops->destroy(out->self). */
int cb_backtest_venue_new(const cb_instrument_t *instruments, size_t n_instruments,
                          int64_t quote_balance, const cb_costs_t *costs, cb_venue_t *out);

/* Credits `base_qty` (fx) of a pair's base currency to a backtest venue: a position the paper
 * robot held before it restarted, so that its exits can sell it. Returns 0, CB_EINVAL when
 * `v` is not a backtest venue, the pair is out of range or the quantity is negative, or
 * CB_ERANGE when the holding would pass CB_FX_MAX. */
int cb_backtest_venue_deposit(cb_venue_t *v, uint32_t pair, int64_t base_qty);

/* ---- The fill model (pure functions; no allocation, no state) --------------------------- */

/* A candle in fixed point. */
typedef struct cb_bar_fx {
    int64_t time_ms, open, high, low, close;
} cb_bar_fx_t;

/* The moment within a bar that the matcher is looking at. A bar is processed as
 * AT_OPEN (orders resting before the bar meet its open), then STOPS (stop orders triggered
 * inside the bar), then LIMITS (resting limits inside the bar): stops before limits is the
 * pessimistic same-bar rule. */
typedef enum cb_fill_phase { CB_PHASE_AT_OPEN = 0, CB_PHASE_STOPS = 1, CB_PHASE_LIMITS = 2 } cb_fill_phase_t;

typedef struct cb_fill_quote {
    int64_t price;       /* execution price (slippage included, inside [low, high]) */
    int64_t ref_price;   /* before slippage */
    int maker;
} cb_fill_quote_t;

/* Does `o` execute in this phase of `bar`, and at what price?
 * - MARKET: AT_OPEN only, at the open moved against the order by the slippage.
 * - LIMIT: AT_OPEN when the open is at or through the limit (fills at the open, maker);
 *   LIMITS when the bar trades through the limit (low <= limit for buys, high >= limit for
 *   sells): fills at the limit, maker, no slippage.
 * - STOP_MARKET: AT_OPEN when the open is at or past the trigger: fills at the open with
 *   slippage; STOPS when the bar reaches the trigger: fills at the trigger with slippage.
 * - STOP_LIMIT: triggers like a stop; once triggered (*triggered set to 1) it executes at the
 *   trigger with slippage but never worse than the limit, taker; if the open gapped beyond the
 *   limit it rests as a limit (maker) for the rest of the bar and after.
 * `fresh` = the order was placed during this bar (after its open): it skips AT_OPEN.
 * Slipped prices are rounded against the order to the tick and kept inside [low, high].
 * Returns 1 (and fills *q) when it executes, else 0. */
int cb_fill_match(const cb_order_t *o, int *triggered, int fresh, const cb_bar_fx_t *bar,
                  cb_fill_phase_t phase, int64_t tick, const cb_costs_t *costs,
                  cb_fill_quote_t *q);

/* Completes a fill at q's price: the quantity (for quote-sized buys: the most whole steps whose
 * notional plus fee fits quote_qty), notional, fee and slippage; then checks the exchange
 * rules (step, min notional) and, for buys, that notional + fee <= available_quote.
 * Every product is exact (128-bit): a price that rounded to zero is CB_REJECT_PRICE; a
 * quote-sized quantity or a sell's proceeds beyond CB_FX_MAX is CB_REJECT_RANGE; a buy's cost
 * beyond it is CB_REJECT_BALANCE (no balance can pay it).
 * Returns CB_REJECT_NONE and fills *f, or the reason. */
cb_reject_t cb_fill_complete(const cb_order_t *o, const cb_fill_quote_t *q,
                             const cb_instrument_t *ins, const cb_costs_t *costs,
                             int64_t available_quote, int64_t time_ms, cb_fill_t *f);

/* Checks an order against the exchange rules when it is placed: positive quantity on the step
 * (or positive quote_qty), prices on the tick, and notional >= min notional where the price is
 * known (limit, stop). Returns CB_REJECT_NONE or the reason. */
cb_reject_t cb_order_check(const cb_order_t *o, const cb_instrument_t *ins);

/* Fixed-point helpers. The checked ones (cb_fx_mul, cb_fx_add, ...: exact or CB_ERANGE) are
 * in core.h; these saturate at +-CB_FX_MAX instead of wrapping, so a comparison against a
 * balance stays right ("more than the account holds") where an exact value is not needed. */
int64_t cb_fx_from_double(double x);                 /* rounded to nearest 1e-8; NaN: 0 */
static inline double cb_fx_to_double(int64_t v) { return (double)v / (double)CB_FX_ONE; }
int64_t cb_fx_notional(int64_t price, int64_t qty, int round_up); /* price*qty, at 1e-8 */
int64_t cb_fx_fee(int64_t notional, int64_t rate);   /* notional*rate, rounded up */
int64_t cb_fx_floor(int64_t v, int64_t unit);        /* largest multiple of unit <= v */
int64_t cb_fx_ceil(int64_t v, int64_t unit);         /* smallest multiple of unit >= v */

/* The most whole steps of quantity whose notional at `price` (rounded up) plus the fee at
 * `rate` (rounded up) fit in `quote`: exact at any price, 0 when not even one step fits.
 * Returns 0, or CB_ERANGE when that quantity is beyond CB_FX_MAX (a budget of 10,000 at a
 * price of 1e-8). Used for quote-sized market buys and for limit entries alike. */
int cb_fx_qty_for_quote(int64_t quote, int64_t price, int64_t rate, int64_t step,
                        int64_t *qty);

#ifdef __cplusplus
}
#endif
#endif
