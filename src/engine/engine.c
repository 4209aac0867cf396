/* The bar loop: pairs aligned by time, strategies asked on each close, orders through the
 * venue, the portfolio kept from the venue's fills, equity marked at every close. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/engine.h"

/* The per-bar functions are forced inline, so that cb_engine_run and cb_engine_step each
 * compile to one tight loop whatever the compiler's heuristics say about two call sites. */
#define HOT static inline __attribute__((always_inline))

enum { TAG_ENTRY = 1, TAG_EXIT, TAG_STOP, TAG_TP, TAG_SETTLE };

typedef struct pstate {
    const cb_engine_pair_t *src;
    const cb_series_t *s;
    size_t i, begin, end, warmup;
    cb_bar_view_t view;
    int live;                 /* our live orders at the venue for this pair */
    uint64_t entry_id, exit_id, stop_id, tp_id, oco;
    int64_t entry_signal_ms, entry_quote;
    /* the position */
    int in_pos;
    int64_t qty, entry_price, entry_notional, entry_fee, entry_slip, entry_ms, signal_ms;
    size_t entry_bar;
    int64_t stop_level, tp_level;
    int64_t sl_level;         /* the fixed stop-loss level of the position (0 = none) */
    double stop_d, tp_d;      /* the same as doubles */
    double inv_entry;         /* 1 / entry price */
    cb_position_view_t pos;   /* what the strategy sees; refreshed at fills and each bar */
    int stop_trailing;
    int64_t highest;
    double highest_d, qty_d, entry_d; /* doubles of the above, for the per-bar arithmetic */
    double lo, hi;            /* excursion extremes while held */
    double last_close;
    int started;
    int reprotect;            /* an exit was refused inside a venue bar: protect again after it */
    int stop_stale;           /* the venue's stop is below stop_level until stop_sync */
    double vlo, vhi;          /* run_single asks the venue only when low <= vlo or high >= vhi */
    size_t stride, sample_k;
    size_t samples_cap;
} pstate_t;

/* The running statistics of the equity marked at each close: what equity_stats reads and
 * writes, in one place so that a loop can keep a copy in registers (held_run). The fields
 * named as the result's are copied into it by stats_out. */
typedef struct eqs {
    double peak, inv_peak100, ulcer_sum, bucket_dd;
    double last_dd_pct;       /* the drawdown % of the last close */
    double equity_min, equity_max, max_dd_pct, max_dd_abs;
    uint64_t last_eq_bits;    /* the equity of the last close, bit for bit */
    int64_t peak_ms, first_ms, last_ms;
    int64_t max_dd_peak_ms, max_dd_trough_ms, max_dd_recovery_ms, max_dd_duration_ms;
    size_t steps, steps_in_market, cur_dd_bars, max_dd_bars;
    int in_dd, maxdd_open;
} eqs_t;

struct cb_engine {
    const cb_engine_config_t *cfg;
    cb_engine_config_t cfg_copy;
    cb_engine_pair_t *pairs;  /* the caller's pairs, copied */
    cb_engine_result_t res;   /* built up step by step; handed over by cb_engine_finish */
    int live;                 /* series grow between steps: no end-of-data settlement */
    int finished;
    cb_venue_t venue;
    int own_venue;
    int defer_amend;          /* single_loop: raise the venue's stop only when it is asked */
    int in_venue_bar;         /* inside the venue's on_bar (events arrive mid-bar) */
    pstate_t *ps;
    size_t n;
    int64_t cash;
    double cash_d;            /* cash as a double, kept in step with every change */
    int64_t pending_quote;    /* quote set aside for entries not yet filled */
    int open_positions, pending_entries;
    uint64_t next_id;
    cb_engine_result_t *r;
    size_t trades_cap, days_cap, curve_cap;
    int err;
    eqs_t st;                 /* equity statistics (copied into res by stats_out) */
    size_t stride, curve_countdown;
    int64_t next_day_ms;
    double day_eq, bucket_dd_prev;
    /* what err means when the engine itself found it (CB_ERANGE); last, away from the fields
     * the bar loop reads */
    cb_diag_t err_diag;
};
typedef struct cb_engine engine_t;

const char *cb_exit_reason_name(cb_exit_reason_t r)
{
    switch (r) {
#define CB_XR_NAME_(id, name) case CB_EXIT_##id: return name;
        CB_EXIT_REASON_MAP(CB_XR_NAME_)
#undef CB_XR_NAME_
    case CB_EXIT_COUNT: break;
    }
    return "unknown";
}

void cb_engine_config_default(cb_engine_config_t *c)
{
    memset(c, 0, sizeof *c);
    c->start_balance = 10000 * CB_FX_ONE;
    c->stake.kind = CB_STAKE_PERCENT;
    c->stake.fraction = CB_FX_ONE / 10;
}

void cb_engine_result_free(cb_engine_result_t *r)
{
    if (!r)
        return;
    free(r->trades);
    for (size_t k = 0; k < r->n_pairs; k++) {
        free(r->pairs[k].sample_ms);
        free(r->pairs[k].sample_close);
    }
    free(r->pairs);
    free(r->day_ms);
    free(r->day_equity);
    free(r->curve_ms);
    free(r->curve_equity);
    free(r->curve_bh);
    free(r->curve_dd_pct);
    memset(r, 0, sizeof *r);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 64;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q)
        return CB_ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

static uint64_t new_id(engine_t *e) { return ++e->next_id; }

static inline int64_t fx(double x)
{
    double v = x * (double)CB_FX_ONE;
    return (int64_t)(v >= 0 ? v + 0.5 : v - 0.5);
}

static int submit(engine_t *e, pstate_t *p, cb_order_t *o, cb_reject_t *why)
{
    o->id = new_id(e);
    o->pair = (uint32_t)(p - e->ps);
    cb_reject_t r = CB_REJECT_NONE;
    int rc = e->venue.ops->submit(e->venue.self, o, &r);
    if (why)
        *why = r;
    if (rc == 0) {
        p->live++;
        return 0;
    }
    if (rc == CB_ENOMEM)
        e->err = CB_ENOMEM;
    return rc;
}

/* A value the run cannot represent in fixed point (docs/backtest.md, Limits): the run stops
 * with CB_ERANGE and a sentence naming the value, the limit, the pair and the bar. Only the
 * first such problem is kept. */
__attribute__((cold, noinline)) static void range_fail(engine_t *e, const pstate_t *p,
                                                       int64_t t, const char *what,
                                                       double value, const char *unit)
{
    if (e->err)
        return;
    e->err = CB_ERANGE;
    cb_fx_range_diag(&e->err_diag, p->src->instrument.pair, what, value, unit);
    char when[32];
    size_t n = strlen(e->err_diag.msg);
    snprintf(e->err_diag.msg + n, sizeof e->err_diag.msg - n, ", at the bar of %s",
             cb_time_format(t, when, sizeof when));
}

/* A price of the data in fixed point, or a failed run when it is beyond the limit. */
static int64_t price_fx(engine_t *e, const pstate_t *p, int64_t t, double price)
{
    int64_t v;
    if (cb_fx_from_double_checked(price, &v) == 0)
        return v;
    range_fail(e, p, t, "price", price, p->src->instrument.quote);
    return 0;
}

static int64_t equity_fx(const engine_t *e)
{
    double eq = cb_fx_to_double(e->cash);
    for (size_t k = 0; k < e->n; k++)
        if (e->ps[k].in_pos)
            eq += cb_fx_to_double(e->ps[k].qty) * e->ps[k].last_close;
    return cb_fx_from_double(eq);
}

/* ---- exits ------------------------------------------------------------------------------ */

static int64_t level_down(double price, int64_t tick)
{
    return cb_fx_floor(cb_fx_from_double(price), tick);
}

static int64_t level_up(double price, int64_t tick)
{
    return cb_fx_ceil(cb_fx_from_double(price), tick);
}

/* The protective stop level for the position now: the fixed stop-loss, raised by the trailing
 * stop once it is active. Sets *trailing when the trailing part decides. */
/* The trailing stop's level before the rounding down to the tick (fixed point), or 0 while it
 * is off or not active yet (the highest high below entry * (1 + trailing_offset)). */
static inline int64_t trail_raw(const engine_t *e, const pstate_t *p)
{
    const cb_engine_config_t *c = e->cfg;
    if (c->trailing_stop <= 0 || !(p->highest_d >= p->entry_d * (1.0 + c->trailing_offset)))
        return 0;
    return fx(p->highest_d * (1.0 - c->trailing_stop));
}

static int64_t stop_level(const engine_t *e, const pstate_t *p, int *trailing)
{
    int64_t sl = p->sl_level; /* fixed while the position is open: set by place_exits */
    int64_t tl = cb_fx_floor(trail_raw(e, p), p->src->instrument.tick);
    *trailing = tl > sl;
    return tl > sl ? tl : sl;
}

static void place_stop(engine_t *e, pstate_t *p, int64_t level)
{
    cb_order_t o = {0};
    o.oco = p->oco;
    o.side = CB_SELL;
    o.type = CB_ORDER_STOP_MARKET;
    o.qty = p->qty;
    o.stop_price = level;
    o.tag = TAG_STOP;
    o.created_ms = p->entry_ms;
    if (submit(e, p, &o, NULL) == 0)
        p->stop_id = o.id;
    else
        e->r->rejected_exits++;
}

static void place_tp(engine_t *e, pstate_t *p)
{
    cb_order_t o = {0};
    o.oco = p->oco;
    o.side = CB_SELL;
    o.type = CB_ORDER_LIMIT;
    o.qty = p->qty;
    o.limit_price = p->tp_level;
    o.tag = TAG_TP;
    o.created_ms = p->entry_ms;
    if (submit(e, p, &o, NULL) == 0)
        p->tp_id = o.id;
    else
        e->r->rejected_exits++;
}

static void place_exits(engine_t *e, pstate_t *p)
{
    const cb_engine_config_t *c = e->cfg;
    p->oco = new_id(e);
    p->sl_level = c->stop_loss > 0 ? level_down(cb_fx_to_double(p->entry_price) *
                                                    (1.0 - c->stop_loss),
                                                p->src->instrument.tick)
                                   : 0;
    int trailing;
    p->stop_level = stop_level(e, p, &trailing);
    p->stop_d = cb_fx_to_double(p->stop_level);
    p->stop_trailing = trailing;
    if (p->stop_level > 0)
        place_stop(e, p, p->stop_level);
    if (c->take_profit > 0) {
        p->tp_level =
            level_up(cb_fx_to_double(p->entry_price) * (1.0 + c->take_profit),
                     p->src->instrument.tick);
        p->tp_d = cb_fx_to_double(p->tp_level);
        place_tp(e, p);
    }
}

/* An exit order was refused (at once or when it would have filled) after the position's
 * protective orders were cancelled for it: put them back at their current levels (the
 * trailing stop keeps its highest), so the position is never left unprotected. */
static void protect_again(engine_t *e, pstate_t *p)
{
    p->reprotect = 0;
    if (!p->in_pos || p->exit_id)
        return;
    if (!p->stop_id && p->stop_level > 0)
        place_stop(e, p, p->stop_level);
    if (!p->tp_id && p->tp_level > 0 && e->cfg->take_profit > 0)
        place_tp(e, p);
}

/* After a bar closes with the position still open: raise the trailing stop if it moved.
 * Returns 1 when it did (our orders changed). */
static int update_trailing(engine_t *e, pstate_t *p, int64_t high_fx)
{
    if (high_fx <= p->highest)
        return 0; /* the level depends only on the highest high: nothing moved */
    p->highest = high_fx;
    p->highest_d = cb_fx_to_double(high_fx);
    /* stop_level without its division in the common case: not active yet (raw 0: the level
     * stays the fixed stop-loss, which the stop is at or above), or not a whole tick above
     * the stop. The stop-loss and every trailing level are multiples of the tick, so
     * floor(raw) > stop_level exactly when raw >= stop_level + tick. */
    int64_t tick = p->src->instrument.tick;
    int64_t raw = trail_raw(e, p);
    if (raw - p->stop_level < tick)
        return 0;
    int64_t lvl = cb_fx_floor(raw, tick);
    p->stop_level = lvl;
    p->stop_d = cb_fx_to_double(lvl);
    p->stop_trailing = lvl > p->sl_level;
    if (p->stop_id && e->defer_amend)
        p->stop_stale = 1;
    else if (p->stop_id && e->venue.ops->amend(e->venue.self, p->stop_id, lvl, 0) != 0)
        e->r->rejected_exits++;
    else if (!p->stop_id)
        place_stop(e, p, lvl);
    return 1;
}

/* Raises the venue's stop to stop_level if single_loop deferred it. The backtest venue is only
 * asked inside on_bar, and raising a valid stop on the tick cannot be refused (its notional
 * only grows), so one amend before the venue is next asked gives the same fills and counts as
 * one per new high. */
static void stop_sync(engine_t *e, pstate_t *p)
{
    if (!p->stop_stale)
        return;
    p->stop_stale = 0;
    if (p->stop_id &&
        e->venue.ops->amend(e->venue.self, p->stop_id, p->stop_level, 0) != 0)
        e->r->rejected_exits++;
}

/* update_trailing with a new high of the data; a high beyond the limit fails the run (returns
 * 1, so that callers look at e->err). */
static inline int update_trailing_at(engine_t *e, pstate_t *p, int64_t t, double high)
{
    if (__builtin_expect(!(high <= CB_FX_MAX_D), 0)) {
        range_fail(e, p, t, "price", high, p->src->instrument.quote);
        return 1;
    }
    return update_trailing(e, p, fx(high));
}

/* ---- venue events ----------------------------------------------------------------------- */

static void open_position(engine_t *e, pstate_t *p, const cb_fill_t *f)
{
    int64_t cost, cash;
    if (cb_fx_add(f->notional, f->fee, &cost) || cb_fx_sub(e->cash, cost, &cash)) {
        range_fail(e, p, f->time_ms, "the cost of an entry", cb_fx_to_double(f->notional),
                   p->src->instrument.quote);
        return;
    }
    e->cash = cash;
    e->cash_d = cb_fx_to_double(e->cash);
    p->in_pos = 1;
    p->qty = f->qty;
    p->entry_price = f->price;
    p->entry_notional = f->notional;
    p->entry_fee = f->fee;
    p->entry_slip = f->slippage;
    p->entry_ms = f->time_ms;
    p->signal_ms = p->entry_signal_ms;
    p->entry_bar = p->i;
    p->highest = f->price;
    p->highest_d = p->entry_d = cb_fx_to_double(f->price);
    p->qty_d = cb_fx_to_double(f->qty);
    p->inv_entry = 1.0 / p->entry_d;
    p->lo = p->hi = p->entry_d;
    p->pos.open = 1;
    p->pos.entry_price = p->entry_d;
    p->pos.quantity = p->qty_d;
    e->open_positions++;
    place_exits(e, p);
}

static void close_position(engine_t *e, pstate_t *p, const cb_fill_t *f, cb_exit_reason_t why)
{
    int64_t cash, pnl, fees, slip;
    cb_engine_result_t *res = e->r;
    if (cb_fx_add(e->cash, f->notional - f->fee, &cash) ||
        cb_fx_add(res->realised_pnl, f->notional - p->entry_notional, &pnl) ||
        cb_fx_add(res->fees_paid, p->entry_fee + f->fee, &fees) ||
        cb_fx_add(res->slippage_paid, p->entry_slip + f->slippage, &slip)) {
        range_fail(e, p, f->time_ms, "the balance after an exit",
                   cb_fx_to_double(e->cash) + cb_fx_to_double(f->notional),
                   p->src->instrument.quote);
        return;
    }
    e->cash = cash;
    e->cash_d = cb_fx_to_double(e->cash);
    cb_engine_result_t *r = e->r;
    if (grow((void **)&r->trades, &e->trades_cap, r->n_trades + 1, sizeof *r->trades)) {
        e->err = CB_ENOMEM;
        return;
    }
    cb_trade_t *t = &r->trades[r->n_trades++];
    memset(t, 0, sizeof *t);
    t->pair = (uint32_t)(p - e->ps);
    t->exit_reason = why;
    t->signal_time_ms = p->signal_ms;
    t->entry_time_ms = p->entry_ms;
    t->exit_time_ms = f->time_ms;
    t->entry_price = p->entry_price;
    t->exit_price = f->price;
    t->quantity = p->qty;
    t->entry_notional = p->entry_notional;
    t->exit_notional = f->notional;
    t->fees = p->entry_fee + f->fee;
    t->slippage = p->entry_slip + f->slippage;
    t->pnl = f->notional - p->entry_notional - t->fees;
    int64_t cost = p->entry_notional + p->entry_fee;
    t->pnl_pct = cost > 0 ? (double)t->pnl / (double)cost * 100.0 : 0.0;
    double px = cb_fx_to_double(f->price), lo = p->lo < px ? p->lo : px,
           hi = p->hi > px ? p->hi : px, entry = cb_fx_to_double(p->entry_price);
    t->mae_pct = (lo / entry - 1.0) * 100.0;
    t->mfe_pct = (hi / entry - 1.0) * 100.0;
    t->bars_held = p->i >= p->entry_bar ? p->i - p->entry_bar : 0;
    r->realised_pnl = pnl;
    r->fees_paid = fees;
    r->slippage_paid = slip;
    p->in_pos = 0;
    p->qty = 0;
    memset(&p->pos, 0, sizeof p->pos);
    e->open_positions--;
}

static void on_event(void *ctx, const cb_venue_event_t *ev)
{
    engine_t *e = ctx;
    if (ev->pair >= e->n)
        return;
    pstate_t *p = &e->ps[ev->pair];
    p->live--;
    uint64_t id = ev->order_id;
    if (ev->tag == TAG_ENTRY) {
        p->entry_id = 0;
        e->pending_entries--;
        e->pending_quote -= p->entry_quote;
        p->entry_quote = 0;
        if (ev->type == CB_EV_FILL)
            open_position(e, p, &ev->fill);
        else if (ev->type == CB_EV_REJECTED)
            e->r->rejected[ev->reason]++;
        else if (ev->type == CB_EV_EXPIRED)
            e->r->expired_entries++;
        return;
    }
    if (id == p->stop_id)
        p->stop_id = 0;
    if (id == p->tp_id)
        p->tp_id = 0;
    if (id == p->exit_id)
        p->exit_id = 0;
    if (ev->type == CB_EV_REJECTED && ev->reason == CB_REJECT_RANGE && p->in_pos) {
        /* The proceeds of selling the position cannot be represented: no result of this run
         * would be right, so it stops with the reason (docs/backtest.md, Limits). */
        range_fail(e, p, ev->fill.time_ms, "the notional of an exit",
                   cb_fx_to_double(ev->fill.qty) * cb_fx_to_double(ev->fill.price),
                   p->src->instrument.quote);
        return;
    }
    if (ev->type == CB_EV_REJECTED && ev->tag == TAG_SETTLE && p->in_pos && !e->err) {
        /* The end-of-data close cannot be settled: its price rounds to zero at 1e-8 (the
         * position's value cannot be represented), so no final balance would be right. */
        char when[32];
        e->err = CB_ERANGE;
        cb_diag_set(&e->err_diag, CB_ERANGE, NULL, 0, 0, p->src->instrument.pair,
                    "the position cannot be settled at the last close %.3g %s: %s (the "
                    "smallest representable price is 1e-8; see Limits in docs/backtest.md), at "
                    "the bar of %s",
                    p->last_close, p->src->instrument.quote, cb_reject_message(ev->reason),
                    cb_time_format(ev->fill.time_ms ? ev->fill.time_ms : p->s->time_ms[p->i],
                                   when, sizeof when));
        return;
    }
    if (ev->type == CB_EV_REJECTED) {
        e->r->rejected_exits++;
        if ((ev->tag == TAG_EXIT || (e->in_venue_bar && (ev->tag == TAG_STOP ||
                                                          ev->tag == TAG_TP))) &&
            p->in_pos) {
            /* The position must not stay unprotected: an exit refused after the protective
             * orders were cancelled for it, or a stop or target refused when it would have
             * filled in a simulated bar (below the minimum notional at a gapped price), puts
             * the missing ones back at their levels. Inside a simulated bar they go back after
             * it (they rest from the next bar, as if placed at this bar's close); otherwise at
             * once. A protective order an exchange refuses outside a bar is not sent again
             * here: it would be refused again, at once, in a loop. */
            if (e->in_venue_bar)
                p->reprotect = 1;
            else
                protect_again(e, p);
        }
        return;
    }
    if (ev->type != CB_EV_FILL || !p->in_pos)
        return;
    cb_exit_reason_t why = CB_EXIT_EXIT_SIGNAL;
    if (ev->tag == TAG_STOP)
        why = p->stop_trailing ? CB_EXIT_TRAILING_STOP : CB_EXIT_STOP_LOSS;
    else if (ev->tag == TAG_TP)
        why = CB_EXIT_TAKE_PROFIT;
    else if (ev->tag == TAG_SETTLE)
        why = CB_EXIT_END_OF_DATA;
    close_position(e, p, &ev->fill, why);
}

/* ---- decisions -------------------------------------------------------------------------- */

static void cancel_exits(engine_t *e, pstate_t *p)
{
    if (p->stop_id)
        e->venue.ops->cancel(e->venue.self, p->stop_id);
    if (p->tp_id)
        e->venue.ops->cancel(e->venue.self, p->tp_id);
}

static void do_exit(engine_t *e, pstate_t *p, int64_t t, double close)
{
    cancel_exits(e, p);
    cb_order_t o = {0};
    o.side = CB_SELL;
    o.type = CB_ORDER_MARKET;
    o.qty = p->qty;
    o.ref_price = price_fx(e, p, t, close);
    o.created_ms = t;
    o.tag = TAG_EXIT;
    if (e->err)
        return;
    if (submit(e, p, &o, NULL) == 0) {
        p->exit_id = o.id;
    } else {
        e->r->rejected_exits++;
        protect_again(e, p);
    }
}

static void do_entry(engine_t *e, pstate_t *p, const cb_decision_t *d, int64_t t, double close)
{
    const cb_engine_config_t *c = e->cfg;
    const cb_instrument_t *ins = &p->src->instrument;
    e->r->entry_signals++;
    if (c->max_open_trades > 0 && e->open_positions + e->pending_entries >= c->max_open_trades) {
        e->r->rejected[CB_REJECT_MAX_OPEN_TRADES]++;
        return;
    }
    cb_order_t o = {0};
    o.side = CB_BUY;
    o.type = CB_ORDER_MARKET;
    o.ref_price = price_fx(e, p, t, close);
    if (e->err)
        return;
    o.created_ms = t;
    o.tag = TAG_ENTRY;
    int64_t quote = 0;
    if (d->stake > 0) {
        quote = cb_fx_from_double(d->stake);
    } else {
        switch (c->stake.kind) {
        case CB_STAKE_QUOTE: quote = c->stake.amount; break;
        case CB_STAKE_PERCENT:
            quote = cb_fx_notional(equity_fx(e), c->stake.fraction, 0);
            break;
        case CB_STAKE_ALL: quote = e->cash - e->pending_quote; break;
        case CB_STAKE_BASE: o.qty = c->stake.amount; break;
        }
    }
    if (d->limit_price > 0) {
        o.type = CB_ORDER_LIMIT;
        o.limit_price = level_down(d->limit_price, ins->tick);
        /* valid for the next bar of this pair only */
        o.expire_ms = p->i + 1 < p->end ? p->s->time_ms[p->i + 1] : t + 1;
        if (o.limit_price <= 0) {
            e->r->rejected[CB_REJECT_PRICE]++; /* below the 1e-8 unit */
            return;
        }
        if (!o.qty) {
            if (cb_fx_qty_for_quote(quote, o.limit_price, c->costs.maker_fee, ins->step,
                                    &o.qty)) {
                e->r->rejected[CB_REJECT_RANGE]++;
                return;
            }
            if (o.qty <= 0) {
                e->r->rejected[quote > 0 ? CB_REJECT_STEP : CB_REJECT_BALANCE]++;
                return;
            }
        }
    } else if (!o.qty) {
        o.quote_qty = quote;
    }
    if (!o.qty && o.quote_qty <= 0) {
        e->r->rejected[CB_REJECT_BALANCE]++;
        return;
    }
    const cb_engine_hooks_t *hk = c->hooks;
    if (hk && hk->allow_entry) {
        int64_t notional = o.qty ? cb_fx_notional(o.limit_price ? o.limit_price : o.ref_price,
                                                  o.qty, 1)
                                 : o.quote_qty;
        if (!hk->allow_entry(hk->ctx, (uint32_t)(p - e->ps), t, close, notional)) {
            e->r->refused_entries++;
            return;
        }
    }
    cb_reject_t why;
    int rc = submit(e, p, &o, &why);
    if (rc == 0) {
        p->entry_id = o.id;
        p->entry_signal_ms = t;
        p->entry_quote = o.quote_qty;
        e->pending_quote += o.quote_qty;
        e->pending_entries++;
    } else if (rc == CB_EREJECTED) {
        e->r->rejected[why]++;
    }
}

/* ---- equity ----------------------------------------------------------------------------- */

HOT int equity_step_at(engine_t *e, int64_t t, double eq, int any);

/* Equity marked at this close: cash plus every open position at its last close. */
HOT int equity_step(engine_t *e, int64_t t)
{
    double eq = e->cash_d;
    int any = 0;
    for (size_t k = 0; k < e->n; k++) {
        pstate_t *p = &e->ps[k];
        if (p->in_pos) {
            eq += p->qty_d * p->last_close;
            any = 1;
        }
    }
    return equity_step_at(e, t, eq, any);
}

HOT double equity_stats(eqs_t *s, int64_t t, double eq, int any);
HOT int equity_marks(engine_t *e, int64_t t, double eq, double dd_pct);

/* The statistics of one bar close with equity eq (any: a position is open). */
HOT int equity_step_at(engine_t *e, int64_t t, double eq, int any)
{
    return equity_marks(e, t, eq, equity_stats(&e->st, t, eq, any));
}

/* One close whose equity may have moved, past the first: the statistics but the counters.
 * What changes at most closes is read and written through h, what changes at new extremes of
 * the drawdown through c: the same struct, or (held_run) a copy kept in registers and its
 * original. With an unchanged equity it does exactly what equity_stats' shortcut does.
 * Returns the drawdown % of the close. */
HOT double eqs_move(eqs_t *h, eqs_t *c, int64_t t, double eq)
{
    if (eq < h->equity_min)
        h->equity_min = eq;
    if (eq > h->equity_max)
        h->equity_max = eq;
    if (eq >= h->peak) {
        if (h->in_dd) {
            int64_t dur = t - h->peak_ms;
            if (dur > c->max_dd_duration_ms)
                c->max_dd_duration_ms = dur;
            if (c->maxdd_open && eq >= h->peak) {
                c->max_dd_recovery_ms = t;
                c->maxdd_open = 0;
            }
        }
        if (eq > h->peak || !h->in_dd) {
            if (eq != h->peak)
                h->inv_peak100 = eq > 0 ? 100.0 / eq : 0.0;
            h->peak = eq;
            h->peak_ms = t;
        }
        h->in_dd = 0;
    }
    double dd_abs = h->peak - eq;
    double dd_pct = dd_abs > 0 ? dd_abs * h->inv_peak100 : 0.0;
    if (dd_abs > 0) {
        h->in_dd = 1;
        h->cur_dd_bars++;
        if (h->cur_dd_bars > h->max_dd_bars)
            h->max_dd_bars = h->cur_dd_bars;
    } else {
        h->cur_dd_bars = 0;
    }
    if (dd_pct > h->max_dd_pct) {
        h->max_dd_pct = dd_pct;
        c->max_dd_peak_ms = h->peak_ms;
        c->max_dd_trough_ms = t;
        c->max_dd_recovery_ms = 0;
        c->maxdd_open = 1;
    }
    if (dd_abs > h->max_dd_abs)
        h->max_dd_abs = dd_abs;
    h->ulcer_sum += dd_pct * dd_pct;
    if (dd_pct > h->bucket_dd)
        h->bucket_dd = dd_pct;
    return dd_pct;
}

/* A close past the first, the statistics but the counters (steps, steps_in_market, last_ms:
 * the caller's). Returns its drawdown %. */
HOT double eqs_close(eqs_t *s, int64_t t, double eq)
{
    uint64_t bits;
    memcpy(&bits, &eq, sizeof bits);
    if (bits == s->last_eq_bits) {
        /* The same equity as at the last close (flat, or a close that did not move): no new
         * extreme, peak or deepest drawdown can appear, so only what counts bars moves; this
         * is exactly what eqs_move does with an unchanged equity. */
        if (!s->in_dd) {
            s->peak_ms = t; /* at the peak (equal): re-stamped */
            return 0.0;
        }
        double dd_pct = s->last_dd_pct;
        s->cur_dd_bars++;
        if (s->cur_dd_bars > s->max_dd_bars)
            s->max_dd_bars = s->cur_dd_bars;
        s->ulcer_sum += dd_pct * dd_pct;
        if (dd_pct > s->bucket_dd)
            s->bucket_dd = dd_pct;
        return dd_pct;
    }
    double dd_pct = eqs_move(s, s, t, eq);
    s->last_eq_bits = bits;
    s->last_dd_pct = dd_pct;
    return dd_pct;
}

/* The drawdown statistics of one close; returns its drawdown %. */
HOT double equity_stats(eqs_t *s, int64_t t, double eq, int any)
{
    int first = s->steps == 0;
    if (first) {
        s->peak = eq;
        s->inv_peak100 = eq > 0 ? 100.0 / eq : 0.0;
        s->peak_ms = t;
        s->equity_min = s->equity_max = eq;
        s->first_ms = t;
    }
    s->steps++;
    s->steps_in_market += (size_t)any;
    s->last_ms = t;
    if (!first)
        return eqs_close(s, t, eq);
    double dd_pct = eqs_move(s, s, t, eq);
    memcpy(&s->last_eq_bits, &eq, sizeof eq);
    s->last_dd_pct = dd_pct;
    return dd_pct;
}

/* What a close leaves for the report: the day's last equity, and a chart sample every
 * stride closes. */
HOT int equity_marks(engine_t *e, int64_t t, double eq, double dd_pct)
{
    cb_engine_result_t *r = e->r;
    /* end-of-day equity */
    if (t >= e->next_day_ms) { /* INT64_MIN before the first day */
        if (r->n_days)
            r->day_equity[r->n_days - 1] = e->day_eq;
        int64_t day = t >= 0 ? t / CB_MS_PER_DAY * CB_MS_PER_DAY
                             : -((-t + CB_MS_PER_DAY - 1) / CB_MS_PER_DAY) * CB_MS_PER_DAY;
        e->next_day_ms = day + CB_MS_PER_DAY;
        size_t cap = e->days_cap;
        if (grow((void **)&r->day_ms, &cap, r->n_days + 1, sizeof *r->day_ms) ||
            grow((void **)&r->day_equity, &e->days_cap, r->n_days + 1, sizeof(double)))
            return CB_ENOMEM;
        r->day_ms[r->n_days++] = day;
    }
    e->day_eq = eq; /* committed to day_equity when the day changes and at the end */
    /* chart samples */
    if (e->curve_countdown == 0) {
        e->curve_countdown = e->stride - 1;
        size_t c1 = e->curve_cap, c2 = e->curve_cap, c3 = e->curve_cap;
        if (grow((void **)&r->curve_ms, &c1, r->n_curve + 1, sizeof(int64_t)) ||
            grow((void **)&r->curve_equity, &c2, r->n_curve + 1, sizeof(double)) ||
            grow((void **)&r->curve_bh, &c3, r->n_curve + 1, sizeof(double)) ||
            grow((void **)&r->curve_dd_pct, &e->curve_cap, r->n_curve + 1, sizeof(double)))
            return CB_ENOMEM;
        double bh = 0;
        for (size_t k = 0; k < e->n; k++) {
            double first = r->pairs[k].first_close;
            bh += e->ps[k].started && first > 0 ? e->ps[k].last_close / first : 1.0;
        }
        bh = cb_fx_to_double(r->start_balance) * bh / (double)e->n;
        r->curve_ms[r->n_curve] = t;
        r->curve_equity[r->n_curve] = eq;
        r->curve_bh[r->n_curve] = bh;
        /* the previous sample holds the deepest drawdown of its bucket */
        if (r->n_curve)
            r->curve_dd_pct[r->n_curve - 1] = e->bucket_dd_prev > e->st.bucket_dd
                                                  ? e->bucket_dd_prev
                                                  : e->st.bucket_dd;
        r->curve_dd_pct[r->n_curve] = dd_pct;
        e->bucket_dd_prev = dd_pct;
        r->n_curve++;
        e->st.bucket_dd = 0;
    } else {
        e->curve_countdown--;
    }
    return 0;
}

HOT int pair_sample(engine_t *e, pstate_t *p, size_t k, int64_t t, double close, int force)
{
    cb_pair_result_t *pr = &e->r->pairs[k];
    if (!force) {
        if (p->sample_k) {
            p->sample_k--;
            return 0;
        }
        p->sample_k = p->stride - 1;
    }
    size_t cap = p->samples_cap;
    if (grow((void **)&pr->sample_ms, &cap, pr->n_samples + 1, sizeof(int64_t)) ||
        grow((void **)&pr->sample_close, &p->samples_cap, pr->n_samples + 1, sizeof(double)))
        return CB_ENOMEM;
    if (pr->n_samples && pr->sample_ms[pr->n_samples - 1] == t)
        return 0;
    pr->sample_ms[pr->n_samples] = t;
    pr->sample_close[pr->n_samples] = close;
    pr->n_samples++;
    return 0;
}

/* ---- the loop --------------------------------------------------------------------------- */

static size_t lower_bound(const cb_series_t *s, int64_t t)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->time_ms[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void settle(engine_t *e, pstate_t *p, int64_t t, double close)
{
    cancel_exits(e, p);
    if (p->exit_id)
        e->venue.ops->cancel(e->venue.self, p->exit_id);
    if (p->entry_id)
        e->venue.ops->cancel(e->venue.self, p->entry_id);
    if (!p->in_pos)
        return;
    cb_order_t o = {0};
    o.side = CB_SELL;
    o.type = CB_ORDER_MARKET;
    o.qty = p->qty;
    o.ref_price = price_fx(e, p, t, close);
    if (e->err)
        return;
    o.created_ms = t;
    o.settle = 1;
    o.tag = TAG_SETTLE;
    if (submit(e, p, &o, NULL) != 0)
        e->r->rejected_exits++;
}

/* Where a bar must reach before our resting orders could fill: with orders resting, the venue
 * is asked unless low > vlo and high < vhi. Only the protective orders rest and the bar stays
 * strictly between them: nothing can fill (one unit of margin covers the rounding to fixed
 * point). process_bar computes it at every bar; single_loop keeps it and computes it again
 * whenever our orders may have changed. */
static void venue_bounds(pstate_t *p)
{
    if (p->entry_id || p->exit_id || p->live != (p->stop_id != 0) + (p->tp_id != 0)) {
        p->vlo = INFINITY; /* an order that may fill anywhere: always ask */
        p->vhi = -INFINITY;
    } else {
        p->vlo = p->stop_id ? p->stop_d + 1e-8 : -INFINITY;
        p->vhi = p->tp_id ? p->tp_d - 1e-8 : INFINITY;
    }
}

/* The venue's part of a bar: our resting orders matched against it; then the protective
 * orders of an exit refused inside it go back. */
HOT int venue_bar(engine_t *e, pstate_t *p, size_t k, int64_t t, double o, double h, double l,
                  double c)
{
    if (__builtin_expect(!(h <= CB_FX_MAX_D && o <= CB_FX_MAX_D && c <= CB_FX_MAX_D &&
                           l <= CB_FX_MAX_D), 0)) {
        range_fail(e, p, t, "price", h > o ? h : o, p->src->instrument.quote);
        return e->err;
    }
    e->in_venue_bar = 1;
    int rc = e->venue.ops->on_bar(e->venue.self, (uint32_t)k, t, fx(o), fx(h), fx(l), fx(c));
    e->in_venue_bar = 0;
    if (rc)
        return rc;
    if (p->reprotect)
        protect_again(e, p);
    return 0;
}

/* A held position's excursions over a bar, and its trailing stop raised by a new high;
 * returns 1 when the stop moved. */
HOT int track_position(engine_t *e, pstate_t *p, int64_t t, double h, double l)
{
    if (l < p->lo)
        p->lo = l;
    if (h > p->hi)
        p->hi = h;
    return h > p->highest_d && update_trailing_at(e, p, t, h);
}

static int strategy_failed(const pstate_t *p, int64_t t, int rc, cb_diag_t *diag)
{
    const cb_strategy_v1_t *st = p->src->strategy;
    char when[32];
    return cb_diag_set(diag, rc, NULL, 0, 0, p->src->instrument.pair,
                       "strategy '%s' failed at the bar of %s (%s)", st->name ? st->name : "?",
                       cb_time_format(t, when, sizeof when), cb_strerror(rc));
}

/* A decision past the warm-up, acted on at the close of bar t. */
HOT void act(engine_t *e, pstate_t *p, const cb_decision_t *d, int64_t t, double c)
{
    if (p->in_pos && d->exit && !p->exit_id)
        do_exit(e, p, t, c);
    else if (!p->in_pos && !p->entry_id && d->enter)
        do_entry(e, p, d, t, c);
}

HOT int process_bar(engine_t *e, size_t k, cb_diag_t *diag)
{
    pstate_t *p = &e->ps[k];
    const cb_series_t *s = p->s;
    size_t i = p->i;
    int64_t t = s->time_ms[i];
    int trading = i >= p->begin;
    double o = s->open[i], h = s->high[i], l = s->low[i], c = s->close[i];
    if (trading && !p->started) {
        p->started = 1;
        e->r->pairs[k].first_close = c;
        e->r->pairs[k].first_ms = t;
    }
    venue_bounds(p);
    if (p->live > 0 && !(l > p->vlo && h < p->vhi)) {
        int rc = venue_bar(e, p, k, t, o, h, l, c);
        if (rc)
            return rc;
    }
    p->last_close = c;
    if (p->in_pos)
        track_position(e, p, t, h, l);
    p->view.n = i + 1;
    if (p->in_pos) {
        p->pos.bars_held = i - p->entry_bar;
        p->pos.profit_pct = c * p->inv_entry - 1.0;
    }
    cb_decision_t d = {0};
    if (p->src->entry_signal) {
        d.enter = p->src->entry_signal[i] != 0;
        d.exit = p->src->exit_signal[i] != 0;
    } else {
        int rc = p->src->strategy->on_bar(p->src->strategy_self, &p->view, &p->pos, &d);
        if (rc < 0)
            return strategy_failed(p, t, rc, diag);
    }
    if (trading) {
        cb_pair_result_t *pr = &e->r->pairs[k];
        pr->bars++;
        pr->last_ms = t;
        pr->last_close = c;
        if (i + 1 == p->end && !e->live) {
            settle(e, p, t, c);
            if (pair_sample(e, p, k, t, c, 1))
                return CB_ENOMEM;
        } else {
            if (pair_sample(e, p, k, t, c, 0))
                return CB_ENOMEM;
            if (i + 1 >= p->warmup) {
                const cb_engine_hooks_t *hk = e->cfg->hooks;
                if (hk && hk->decision)
                    hk->decision(hk->ctx, (uint32_t)k, t, c, &d, p->in_pos);
                act(e, p, &d, t, c);
            }
        }
    }
    p->i++;
    return e->err;
}

static int check_config(const cb_engine_config_t *c, const cb_engine_pair_t *pairs, size_t n,
                        cb_diag_t *diag)
{
    if (!n || !pairs)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL, "no pairs to backtest");
    if (c->start_balance <= 0)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "start_balance", "must be positive");
    if (c->stop_loss < 0 || c->stop_loss >= 1)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "stoploss",
                           "must be between 0%% and 100%%");
    if (c->trailing_stop < 0 || c->trailing_stop >= 1)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "trailing_stop",
                           "must be between 0%% and 100%%");
    if (c->take_profit < 0 || c->trailing_offset < 0)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "take_profit",
                           "take_profit and trailing_offset must not be negative");
    for (size_t k = 0; k < n; k++) {
        if (!pairs[k].series || !pairs[k].strategy || !pairs[k].strategy->on_bar)
            return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL,
                               "pair %zu has no series or no strategy", k);
        if (pairs[k].instrument.tick <= 0 || pairs[k].instrument.step <= 0)
            return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, pairs[k].instrument.pair,
                               "tick and step must be positive");
        if (!pairs[k].entry_signal != !pairs[k].exit_signal)
            return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, pairs[k].instrument.pair,
                               "precomputed signals need both the entry and the exit column");
    }
    return 0;
}

static void engine_release(engine_t *e)
{
    if (e->own_venue)
        e->venue.ops->destroy(e->venue.self);
    else if (e->venue.ops)
        e->venue.ops->set_sink(e->venue.self, NULL, NULL);
    e->venue.ops = NULL;
    e->own_venue = 0;
    free(e->ps);
    e->ps = NULL;
    free(e->pairs);
    e->pairs = NULL;
}

void cb_engine_free(cb_engine_t *e)
{
    if (!e)
        return;
    engine_release(e);
    cb_engine_result_free(&e->res);
    free(e);
}

int cb_engine_open(const cb_engine_config_t *cfg, const cb_engine_pair_t *pairs, size_t n_pairs,
                   cb_engine_t **out_engine, cb_diag_t *diag)
{
    *out_engine = NULL;
    int rc = check_config(cfg, pairs, n_pairs, diag);
    if (rc)
        return rc;
    engine_t *e = calloc(1, sizeof *e);
    if (!e)
        return CB_ENOMEM;
    cb_engine_result_t *out = &e->res;
    e->cfg_copy = *cfg;
    e->cfg = &e->cfg_copy;
    e->live = cfg->live;
    e->n = n_pairs;
    e->r = out;
    e->cash = cfg->start_balance;
    e->cash_d = cb_fx_to_double(e->cash);
    e->next_day_ms = INT64_MIN;
    out->start_balance = cfg->start_balance;
    snprintf(out->quote, sizeof out->quote, "%s", pairs[0].instrument.quote);
    e->ps = calloc(n_pairs, sizeof *e->ps);
    e->pairs = calloc(n_pairs, sizeof *e->pairs);
    out->pairs = calloc(n_pairs, sizeof *out->pairs);
    cb_instrument_t *ins = calloc(n_pairs, sizeof *ins);
    if (!e->ps || !e->pairs || !out->pairs || !ins) {
        free(ins);
        cb_engine_free(e);
        return CB_ENOMEM;
    }
    memcpy(e->pairs, pairs, n_pairs * sizeof *pairs);
    if (e->live) /* the series grow past the precomputed signals: ask the strategies */
        for (size_t k = 0; k < n_pairs; k++)
            e->pairs[k].entry_signal = e->pairs[k].exit_signal = NULL;
    out->n_pairs = n_pairs;
    size_t chart = cfg->chart_points ? cfg->chart_points : 1200, most = 1;
    for (size_t k = 0; k < n_pairs; k++) {
        pstate_t *p = &e->ps[k];
        p->src = &e->pairs[k];
        p->s = pairs[k].series;
        ins[k] = pairs[k].instrument;
        snprintf(out->pairs[k].pair, sizeof out->pairs[k].pair, "%s", ins[k].pair);
        p->begin = cfg->from_ms ? lower_bound(p->s, cfg->from_ms) : 0;
        p->end = cfg->to_ms && !e->live ? lower_bound(p->s, cfg->to_ms + 1) : p->s->n;
        if (p->begin > p->end)
            p->begin = p->end;
        p->warmup = p->src->strategy->warmup ? p->src->strategy->warmup(p->src->strategy_self)
                                             : 0;
        p->view.time_ms = p->s->time_ms;
        p->view.open = p->s->open;
        p->view.high = p->s->high;
        p->view.low = p->s->low;
        p->view.close = p->s->close;
        p->view.volume = p->s->volume;
        size_t span = p->end - p->begin;
        p->stride = span / chart + 1;
        if (span > most)
            most = span;
        for (size_t i = p->begin + 1; i < p->end; i++) {
            int64_t d = p->s->time_ms[i] - p->s->time_ms[i - 1];
            if (d > 0 && (out->timeframe_ms == 0 || d < out->timeframe_ms))
                out->timeframe_ms = d;
            if (i > p->begin + 64)
                break;
        }
    }
    e->stride = most / chart + 1;
    if (cfg->venue) {
        e->venue = *cfg->venue;
    } else {
        rc = cb_backtest_venue_new(ins, n_pairs, cfg->start_balance, &cfg->costs, &e->venue);
        if (rc) {
            free(ins);
            cb_engine_free(e);
            return rc;
        }
        e->own_venue = 1;
    }
    free(ins);
    e->venue.ops->set_sink(e->venue.self, on_event, e);
    *out_engine = e;
    return 0;
}

/* A live pair's series grows (and may move) between steps: take its current extent. */
static void refresh_live(pstate_t *p)
{
    const cb_series_t *s = p->s;
    p->end = s->n;
    p->view.time_ms = s->time_ms;
    p->view.open = s->open;
    p->view.high = s->high;
    p->view.low = s->low;
    p->view.close = s->close;
    p->view.volume = s->volume;
}

/* The loop's two halves (the public functions first take a live series' new extent). */
HOT int64_t next_time(const engine_t *e)
{
    int64_t t = INT64_MAX;
    for (size_t k = 0; k < e->n; k++) {
        const pstate_t *p = &e->ps[k];
        if (p->i < p->end && p->s->time_ms[p->i] < t)
            t = p->s->time_ms[p->i];
    }
    return t;
}

HOT int step_at(engine_t *e, int64_t t, cb_diag_t *diag)
{
    int stepped = 0, rc;
    for (size_t k = 0; k < e->n; k++) {
        pstate_t *p = &e->ps[k];
        if (p->i < p->end && p->s->time_ms[p->i] == t) {
            stepped |= p->i >= p->begin;
            if ((rc = process_bar(e, k, diag)) != 0)
                return rc;
        }
    }
    if (stepped && (rc = equity_step(e, t)) != 0)
        return rc;
    return 0;
}

/* The statistics into the result (after every public step, and at the finish). */
static void stats_out(engine_t *e)
{
    const eqs_t *s = &e->st;
    cb_engine_result_t *r = e->r;
    r->steps = s->steps;
    r->steps_in_market = s->steps_in_market;
    r->first_ms = s->first_ms;
    r->last_ms = s->last_ms;
    r->equity_min = s->equity_min;
    r->equity_max = s->equity_max;
    r->max_dd_pct = s->max_dd_pct;
    r->max_dd_abs = s->max_dd_abs;
    r->max_dd_peak_ms = s->max_dd_peak_ms;
    r->max_dd_trough_ms = s->max_dd_trough_ms;
    r->max_dd_recovery_ms = s->max_dd_recovery_ms;
    r->max_dd_bars = s->max_dd_bars;
    r->max_dd_duration_ms = s->max_dd_duration_ms;
}

static inline void refresh_all(engine_t *e)
{
    if (e->live)
        for (size_t k = 0; k < e->n; k++)
            refresh_live(&e->ps[k]);
}

int64_t cb_engine_next_time(cb_engine_t *e)
{
    refresh_all(e);
    return next_time(e);
}

int cb_engine_step(cb_engine_t *e, int64_t t, cb_diag_t *diag)
{
    if (e->finished)
        return CB_EINVAL;
    refresh_all(e);
    int rc = step_at(e, t, diag);
    stats_out(e);
    if (rc && rc == e->err && e->err_diag.code && diag)
        *diag = e->err_diag;
    return rc;
}

int cb_engine_finish(cb_engine_t *e, cb_engine_result_t *out, cb_diag_t *diag)
{
    memset(out, 0, sizeof *out);
    if (e->finished)
        return CB_EINVAL;
    e->finished = 1;
    cb_engine_result_t *r = &e->res;
    if (e->err) {
        if (diag && e->err_diag.code)
            *diag = e->err_diag;
        return e->err;
    }
    size_t n_pairs = e->n;
    if (r->n_days)
        r->day_equity[r->n_days - 1] = e->day_eq;
    if (r->n_curve && e->st.bucket_dd > r->curve_dd_pct[r->n_curve - 1])
        r->curve_dd_pct[r->n_curve - 1] = e->st.bucket_dd;
    r->final_balance = e->cash;
    stats_out(e);
    r->ulcer_index = r->steps ? sqrt(e->st.ulcer_sum / (double)r->steps) : 0.0;
    if (e->st.in_dd && r->last_ms - e->st.peak_ms > r->max_dd_duration_ms)
        r->max_dd_duration_ms = r->last_ms - e->st.peak_ms;
    {
        double bh = 0;
        for (size_t k = 0; k < n_pairs; k++)
            bh += r->pairs[k].first_close > 0 ? r->pairs[k].last_close / r->pairs[k].first_close
                                              : 1.0;
        r->buy_hold_return_pct = (bh / (double)n_pairs - 1.0) * 100.0;
    }
    /* The books must balance to the unit, in the engine and at the venue. A live run may end
     * with positions open and trades with an exchange holding other money: only the engine's
     * own books are checked then. */
    __int128 open_cost = 0;
    for (size_t k = 0; k < n_pairs; k++)
        if (e->ps[k].in_pos)
            open_cost += e->ps[k].entry_notional + e->ps[k].entry_fee;
    /* in 128 bits: each term is checked, their sum need not be */
    int books = (__int128)r->start_balance + r->realised_pnl - r->fees_paid ==
                (__int128)e->cash + (e->live ? open_cost : 0);
    r->balanced = e->live ? books
                          : books && e->venue.ops->quote_balance(e->venue.self) == e->cash &&
                                e->open_positions == 0;
    int rc = 0;
    if (!r->balanced) {
        char a[32], b[32];
        cb_dec_format(r->start_balance + r->realised_pnl - r->fees_paid, 8, a, sizeof a);
        cb_dec_format(e->cash, 8, b, sizeof b);
        rc = cb_diag_set(diag, CB_EINTERNAL, NULL, 0, 0, NULL,
                         "the account does not balance: start + pnl - fees = %s, final = %s",
                         a, b);
        return rc;
    }
    *out = *r;
    memset(r, 0, sizeof *r);
    return 0;
}

/* ---- what the robot reads and does between steps ----------------------------------------- */

int64_t cb_engine_cash(const cb_engine_t *e) { return e->cash; }

int64_t cb_engine_equity(const cb_engine_t *e) { return equity_fx(e); }

int cb_engine_open_positions(const cb_engine_t *e) { return e->open_positions; }

const cb_engine_result_t *cb_engine_progress(const cb_engine_t *e) { return &e->res; }

int cb_engine_position(const cb_engine_t *e, size_t pair, cb_engine_position_t *out)
{
    memset(out, 0, sizeof *out);
    if (pair >= e->n)
        return CB_EINVAL;
    const pstate_t *p = &e->ps[pair];
    out->open = p->in_pos;
    out->qty = p->qty;
    out->entry_price = p->entry_price;
    out->entry_fee = p->entry_fee;
    out->entry_ms = p->entry_ms;
    out->signal_ms = p->signal_ms;
    out->highest = p->highest;
    out->stop_level = p->stop_id ? p->stop_level : 0;
    out->tp_level = p->tp_id ? p->tp_level : 0;
    out->stop_trailing = p->stop_trailing;
    out->entry_pending = p->entry_id != 0;
    out->exit_pending = p->exit_id != 0;
    out->last_close = p->last_close;
    out->bars = p->i;
    return 0;
}

int cb_engine_restore(cb_engine_t *e, size_t pair, const cb_engine_position_t *pos)
{
    if (pair >= e->n || e->finished || !pos || pos->qty <= 0 || pos->entry_price <= 0)
        return CB_EINVAL;
    pstate_t *p = &e->ps[pair];
    if (p->in_pos || p->entry_id)
        return CB_EEXIST;
    if (e->live)
        refresh_live(p);
    p->in_pos = 1;
    p->qty = pos->qty;
    p->entry_price = pos->entry_price;
    int64_t brought;
    if (cb_fx_mul(pos->entry_price, pos->qty, 1, &p->entry_notional) ||
        cb_fx_add(p->entry_notional, pos->entry_fee, &brought) ||
        cb_fx_add(e->r->start_balance, brought, &brought)) {
        p->in_pos = 0;
        return CB_ERANGE;
    }
    p->entry_fee = pos->entry_fee;
    p->entry_slip = 0;
    p->entry_ms = pos->entry_ms;
    p->signal_ms = pos->signal_ms ? pos->signal_ms : pos->entry_ms;
    p->entry_bar = lower_bound(p->s, pos->entry_ms);
    if (p->entry_bar > p->i)
        p->entry_bar = p->i;
    p->highest = pos->highest > pos->entry_price ? pos->highest : pos->entry_price;
    p->highest_d = cb_fx_to_double(p->highest);
    p->entry_d = cb_fx_to_double(pos->entry_price);
    p->qty_d = cb_fx_to_double(pos->qty);
    p->inv_entry = 1.0 / p->entry_d;
    p->lo = p->hi = p->entry_d;
    if (p->i > 0 && p->last_close == 0)
        p->last_close = p->s->close[p->i - 1];
    p->pos.open = 1;
    p->pos.entry_price = p->entry_d;
    p->pos.quantity = p->qty_d;
    e->open_positions++;
    /* The position was paid for before this run: count its cost as brought in, so the books
     * still balance when it closes. */
    e->r->start_balance += p->entry_notional + p->entry_fee;
    place_exits(e, p);
    return e->err;
}

int cb_engine_force_exit(cb_engine_t *e, size_t pair, int64_t now_ms)
{
    if (pair >= e->n || e->finished)
        return CB_EINVAL;
    pstate_t *p = &e->ps[pair];
    if (p->entry_id) {
        e->venue.ops->cancel(e->venue.self, p->entry_id);
        return 0;
    }
    if (!p->in_pos)
        return CB_ENOENT;
    if (p->exit_id)
        return 0;
    do_exit(e, p, now_ms, p->last_close);
    return p->exit_id ? 0 : CB_EREJECTED;
}

int cb_engine_force_entry(cb_engine_t *e, size_t pair, int64_t now_ms, cb_reject_t *why)
{
    if (why)
        *why = CB_REJECT_NONE;
    if (pair >= e->n || e->finished)
        return CB_EINVAL;
    pstate_t *p = &e->ps[pair];
    if (p->in_pos || p->entry_id)
        return CB_EEXIST;
    if (p->last_close <= 0)
        return CB_ESTATE;
    /* the strategy's entry path, with its sizing, max_open_trades and the allow_entry hook;
     * which of them refused is read back from the counters it moves */
    size_t refused = e->r->refused_entries, rejected[CB_REJECT_COUNT];
    memcpy(rejected, e->r->rejected, sizeof rejected);
    cb_decision_t d;
    memset(&d, 0, sizeof d);
    d.enter = 1;
    do_entry(e, p, &d, now_ms, p->last_close);
    if (e->err)
        return e->err;
    if (p->entry_id || p->in_pos)
        return 0;
    if (e->r->refused_entries != refused)
        return CB_ELIMIT;
    for (int k = 0; k < CB_REJECT_COUNT; k++)
        if (e->r->rejected[k] != rejected[k] && why)
            *why = (cb_reject_t)k;
    return CB_EREJECTED;
}

/* ---- one pair, as a backtest runs it ------------------------------------------------------ */

/* One bar of a single-pair run, the general way: the bar, then the equity of its close. */
HOT int single_bar(engine_t *e, cb_diag_t *diag)
{
    pstate_t *p = &e->ps[0];
    int64_t t = p->s->time_ms[p->i];
    int stepped = p->i >= p->begin;
    int rc = process_bar(e, 0, diag);
    if (rc || !stepped)
        return rc;
    double eq = e->cash_d;
    if (p->in_pos)
        eq += p->qty_d * p->last_close;
    return equity_step_at(e, t, eq, p->in_pos);
}

/* Where single_loop is in the report's marks: for one pair the price samples and the chart
 * samples fall on the same closes (same stride, counted from the same bar), so the bar of the
 * next sample (sample_i) serves both; mark_i is the next bar where there is more to do than
 * counting (that sample, or the first close of a new UTC day); prev_eq is the equity of the
 * last close (the day's equity, committed when the day changes). Between marks the countdown
 * and the day's equity are not kept in the engine: sweep_end puts them back. */
typedef struct sweep {
    size_t mark_i, sample_i, last;
    double prev_eq;
} sweep_t;

/* The first bar in [i, the next sample] that opens on or after the next day: a guess from
 * the bar spacing (exact for regular bars), then a few steps to the answer. (A binary search
 * was a tenth of an optimizer's time: a cache miss and a mispredicted branch per probe.) */
static void sweep_next(const engine_t *e, const int64_t *T, size_t i, sweep_t *w)
{
    size_t hi = w->sample_i < w->last ? w->sample_i : w->last, j = i;
    int64_t day = e->next_day_ms, tf = e->r->timeframe_ms;
    if (j < hi && T[j] < day && tf > 0) {
        uint64_t ahead = (uint64_t)(day - T[j] - 1) / (uint64_t)tf;
        j = ahead < hi - j ? j + (size_t)ahead : hi;
        while (j > i && T[j - 1] >= day)
            j--;
    }
    while (j < hi && T[j] < day)
        j++;
    w->mark_i = j;
}

static void sweep_begin(const engine_t *e, const int64_t *T, size_t i, size_t last, sweep_t *w)
{
    w->last = last;
    w->sample_i = i + e->curve_countdown;
    w->prev_eq = e->day_eq;
    sweep_next(e, T, i, w);
}

static void sweep_end(engine_t *e, pstate_t *p, const sweep_t *w)
{
    e->curve_countdown = w->sample_i - w->last;
    e->day_eq = w->prev_eq;
    p->sample_k = e->curve_countdown;
}

/* The marks of the close of bar i (i == w->mark_i): what equity_marks does, with the pair's
 * price sample when the chart's is due. */
static int sweep_mark(engine_t *e, pstate_t *p, size_t i, double eq, double dd, sweep_t *w)
{
    const int64_t *T = p->s->time_ms;
    int64_t t = T[i];
    double c = p->s->close[i];
    e->curve_countdown = w->sample_i - i;
    e->day_eq = w->prev_eq;
    p->last_close = c; /* the buy-and-hold sample reads it */
    if (!e->curve_countdown) {
        p->sample_k = 0;
        if (pair_sample(e, p, 0, t, c, 0))
            return CB_ENOMEM;
    }
    int rc = equity_marks(e, t, eq, dd);
    if (rc)
        return rc;
    w->sample_i = i + 1 + e->curve_countdown;
    sweep_next(e, T, i + 1, w);
    return 0;
}

/* Closes [i, j) with the same equity as the last, bit for bit, and no mark among them: what
 * eqs_close does for each (the drawdown, if any, is the last one). */
HOT void equity_same(eqs_t *s, const int64_t *T, size_t i, size_t j)
{
    size_t k = j - i;
    if (!s->in_dd) {
        s->peak_ms = T[j - 1];
        return;
    }
    double dd = s->last_dd_pct, dd2 = dd * dd, u = s->ulcer_sum;
    s->cur_dd_bars += k;
    if (s->cur_dd_bars > s->max_dd_bars)
        s->max_dd_bars = s->cur_dd_bars;
    for (size_t q = 0; q < k; q++) /* one addition per close, as the sum is defined */
        u += dd2;
    s->ulcer_sum = u;
    if (dd > s->bucket_dd)
        s->bucket_dd = dd;
}

/* Bars [i, j) of single_loop where the pair is flat with nothing resting and no entry signal
 * comes: nothing can happen but the bookkeeping of an unchanged equity. */
HOT int flat_run(engine_t *e, pstate_t *p, size_t i, size_t j, sweep_t *w)
{
    const int64_t *T = p->s->time_ms;
    double eq = e->cash_d;
    while (i < j) {
        double dd = eqs_close(&e->st, T[i], eq); /* the first may differ from the last */
        if (i == w->mark_i) {
            int rc = sweep_mark(e, p, i, eq, dd, w);
            if (rc)
                return rc;
        }
        w->prev_eq = eq;
        size_t stop = w->mark_i < j ? w->mark_i : j;
        if (++i < stop) {
            equity_same(&e->st, T, i, stop);
            i = stop;
        }
    }
    p->last_close = p->s->close[j - 1];
    return 0;
}

/* Bars from i of single_loop while a position is held with precomputed signals, only its
 * protective orders resting and the bars staying between them: what the general way does
 * (excursions, the trailing stop, the equity of each close), with the statistics, the
 * excursions and the bounds in registers. Stops before a bar that reaches a resting order,
 * brings an exit signal or a mark, and returns it (or w->last); the general way takes it. */
HOT size_t held_run(engine_t *e, pstate_t *p, size_t i, size_t warm, const uint8_t *SX,
                    sweep_t *w)
{
    const int64_t *T = p->s->time_ms;
    const double *H = p->s->high, *L = p->s->low, *C = p->s->close;
    const double cash = e->cash_d, qty = p->qty_d;
    eqs_t *c = &e->st, h = e->st; /* h: the fields eqs_move changes at most closes */
    double lo = p->lo, hi = p->hi, hd = p->highest_d, vlo = p->vlo, vhi = p->vhi;
    double prev = w->prev_eq, dd = 0;
    int live = p->live > 0;
    size_t first = i, stop = w->mark_i < w->last ? w->mark_i : w->last;
    for (; i < stop; i++) {
        double hh = H[i], l = L[i];
        if ((live && !(l > vlo && hh < vhi)) || (SX[i] && i >= warm))
            break;
        if (l < lo)
            lo = l;
        if (hh > hi)
            hi = hh;
        if (hh > hd) {
            int moved = update_trailing_at(e, p, T[i], hh);
            hd = p->highest_d;
            if (moved) {
                if (e->err)
                    break;
                venue_bounds(p);
                vlo = p->vlo;
                vhi = p->vhi;
                live = p->live > 0;
            }
        }
        prev = cash + qty * C[i];
        dd = eqs_move(&h, c, T[i], prev);
    }
    p->lo = lo;
    p->hi = hi;
    if (i == first)
        return i;
    /* what equity_stats would have left after these closes: eqs_move's fields back one by
     * one (a nested struct copied whole cost 4 instructions per bar more: GCC then keeps
     * the copy in memory) */
    size_t n = i - first;
    c->equity_min = h.equity_min;
    c->equity_max = h.equity_max;
    c->peak = h.peak;
    c->inv_peak100 = h.inv_peak100;
    c->peak_ms = h.peak_ms;
    c->in_dd = h.in_dd;
    c->cur_dd_bars = h.cur_dd_bars;
    c->max_dd_bars = h.max_dd_bars;
    c->max_dd_pct = h.max_dd_pct;
    c->max_dd_abs = h.max_dd_abs;
    c->ulcer_sum = h.ulcer_sum;
    c->bucket_dd = h.bucket_dd;
    c->steps_in_market += n; /* steps and last_ms: single_loop's, at its end */
    memcpy(&c->last_eq_bits, &prev, sizeof prev);
    c->last_dd_pct = dd;
    w->prev_eq = prev;
    p->i = i - 1;
    p->last_close = C[i - 1];
    return i;
}

/* Bars [first, last) of a single-pair backtest without hooks, all tradable and none the last:
 * what process_bar and equity_step_at do, with the invariants out of the loop, the venue's
 * quiet test precomputed, the per-pair totals added once at the end and, for precomputed
 * signals, the flat stretches between entry signals stepped over. The result is the same bit
 * for bit (tests/test_engine_fast.c runs both ways). */
HOT int single_loop_(engine_t *e, pstate_t *p, size_t first, size_t last, int signals,
                     cb_diag_t *diag)
{
    const cb_series_t *s = p->s;
    const int64_t *T = s->time_ms;
    const double *O = s->open, *H = s->high, *L = s->low, *C = s->close;
    const uint8_t *SE = signals ? p->src->entry_signal : NULL;
    const uint8_t *SX = signals ? p->src->exit_signal : NULL;
    const cb_strategy_v1_t *st = p->src->strategy;
    void *self = p->src->strategy_self;
    size_t warm = p->warmup ? p->warmup - 1 : 0; /* the first bar whose decision counts */
    int rc;
    size_t in_market = 0; /* closes [first, last) in the market (held_run counts its own) */
    sweep_t w;
    sweep_begin(e, T, first, last, &w);
    e->defer_amend = e->own_venue;
    venue_bounds(p);
    for (size_t i = first; i < last; i++) {
        if (SE && !p->in_pos && p->live == 0) {
            size_t j = i > warm ? i : warm < last ? warm : last;
            while (j < last && !SE[j])
                j++;
            if (j > i) {
                if ((rc = flat_run(e, p, i, j, &w)) != 0)
                    return rc;
                if ((i = j) == last)
                    break;
            }
        }
        if (SE && p->in_pos && p->vlo != INFINITY && e->st.steps) {
            size_t j = held_run(e, p, i, warm, SX, &w);
            if (e->err)
                return e->err;
            if ((i = j) == last)
                break;
        }
        int64_t t = T[i];
        double h = H[i], l = L[i], c = C[i];
        if (p->live > 0 && !(l > p->vlo && h < p->vhi)) {
            p->i = i; /* fills read it (the entry bar, bars held) */
            stop_sync(e, p);
            if ((rc = venue_bar(e, p, 0, t, O[i], h, l, c)) != 0)
                return rc;
            if (e->err)
                return e->err;
            venue_bounds(p);
        }
        if (p->in_pos && track_position(e, p, t, h, l)) {
            if (e->err)
                return e->err;
            venue_bounds(p);
        }
        cb_decision_t d = {0};
        if (SE) {
            if ((SE[i] | SX[i]) && i >= warm) {
                d.enter = SE[i] != 0;
                d.exit = SX[i] != 0;
                p->i = i; /* an entry reads both: a limit's expiry, a % stake's equity */
                p->last_close = c;
                act(e, p, &d, t, c);
                if (e->err)
                    return e->err;
                venue_bounds(p);
            }
        } else {
            p->view.n = i + 1;
            if (p->in_pos) {
                p->pos.bars_held = i - p->entry_bar;
                p->pos.profit_pct = c * p->inv_entry - 1.0;
            }
            if ((rc = st->on_bar(self, &p->view, &p->pos, &d)) < 0)
                return strategy_failed(p, t, rc, diag);
        }
        if ((d.enter | d.exit) && !SE && i >= warm) {
            p->i = i;
            p->last_close = c;
            act(e, p, &d, t, c);
            if (e->err)
                return e->err;
            venue_bounds(p);
        }
        double eq = e->cash_d;
        if (p->in_pos)
            eq += p->qty_d * c;
        double dd = eqs_close(&e->st, t, eq);
        in_market += (size_t)p->in_pos;
        if (i == w.mark_i && (rc = sweep_mark(e, p, i, eq, dd, &w)) != 0)
            return rc;
        w.prev_eq = eq;
    }
    stop_sync(e, p);
    e->defer_amend = 0;
    sweep_end(e, p, &w);
    e->st.steps += last - first;
    e->st.steps_in_market += in_market;
    e->st.last_ms = T[last - 1];
    cb_pair_result_t *pr = &e->r->pairs[0];
    pr->bars += last - first;
    pr->last_ms = T[last - 1];
    pr->last_close = C[last - 1];
    p->i = last;
    p->view.n = last;
    p->last_close = C[last - 1];
    return 0;
}

/* single_loop_ compiled twice, for a strategy asked at every bar and for precomputed signals
 * (a test of the signals in the loop costs more than it looks, bar after bar). */
static int single_loop(engine_t *e, pstate_t *p, size_t first, size_t last, cb_diag_t *diag)
{
    if (p->src->entry_signal)
        return single_loop_(e, p, first, last, 1, diag);
    return single_loop_(e, p, first, last, 0, diag);
}

/* A single-pair backtest: the first tradable bar and the last (settlement) the general way,
 * the bars between through single_loop when there are no hooks. */
static int run_single(engine_t *e, cb_diag_t *diag)
{
    pstate_t *p = &e->ps[0];
    int rc;
    while (p->i < p->end && p->i <= p->begin)
        if ((rc = single_bar(e, diag)) != 0)
            return rc;
    size_t last = p->end ? p->end - 1 : 0;
    if (!e->cfg->hooks && p->i < last && p->stride == e->stride &&
        p->sample_k == e->curve_countdown && (rc = single_loop(e, p, p->i, last, diag)) != 0)
        return rc;
    while (p->i < p->end)
        if ((rc = single_bar(e, diag)) != 0)
            return rc;
    return 0;
}

int cb_engine_run(const cb_engine_config_t *cfg, const cb_engine_pair_t *pairs, size_t n_pairs,
                  cb_engine_result_t *out, cb_diag_t *diag)
{
    memset(out, 0, sizeof *out);
    cb_engine_t *e;
    int rc = cb_engine_open(cfg, pairs, n_pairs, &e, diag);
    if (rc)
        return rc;
    /* the bar loop inlined here, as one function: the backtest's per-bar cost is unchanged */
    refresh_all(e);
    if (e->n == 1 && !e->live) {
        /* One pair: its bars are the steps, no merging by time (the same calls, in the same
         * order, as step_at(next_time()) below), and the equity of one position. */
        rc = run_single(e, diag);
    } else {
        for (int64_t t; (t = next_time(e)) != INT64_MAX;) {
            if ((rc = step_at(e, t, diag)) != 0)
                break;
            refresh_all(e);
        }
    }
    if (rc && rc == e->err && e->err_diag.code && diag)
        *diag = e->err_diag;
    if (!rc)
        rc = cb_engine_finish(e, out, diag);
    cb_engine_free(e);
    return rc;
}
