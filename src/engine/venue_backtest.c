/* The backtest venue: an in-memory exchange. It holds the account (quote free/locked, base
 * free/locked per pair), accepts orders under the exchange rules, and matches resting orders
 * against each candle it is shown, with the fill model (fill.c). Events go to the sink
 * synchronously; the sink may submit or cancel orders from inside an event (an entry fill
 * places its stop), and those orders are "fresh" for the rest of that candle. */
#include <stdlib.h>
#include <string.h>

#include "comeback/venue.h"

typedef struct bt_order {
    cb_order_t o;
    int live;
    int triggered;        /* stop-limit: the trigger was hit */
    int64_t fresh_time;   /* open time of the bar during which it was placed, else INT64_MIN */
    int64_t locked_quote; /* buys */
    int64_t locked_base;  /* sells */
} bt_order_t;

typedef struct bt_pair {
    cb_instrument_t ins;
    int64_t base_free, base_locked;
    bt_order_t *orders;
    size_t n, cap;
    int in_bar;
    int64_t bar_time;
} bt_pair_t;

typedef struct bt_venue {
    bt_pair_t *pairs;
    size_t n_pairs;
    int64_t quote_free, quote_locked;
    cb_costs_t costs;
    cb_venue_sink_fn sink;
    void *sink_ctx;
} bt_venue_t;

static void emit(bt_venue_t *v, const cb_venue_event_t *ev)
{
    if (v->sink)
        v->sink(v->sink_ctx, ev);
}

static void bt_set_sink(void *self, cb_venue_sink_fn sink, void *ctx)
{
    bt_venue_t *v = self;
    v->sink = sink;
    v->sink_ctx = ctx;
}

static bt_order_t *find_order(bt_venue_t *v, uint64_t id, bt_pair_t **pp)
{
    for (size_t k = 0; k < v->n_pairs; k++) {
        bt_pair_t *p = &v->pairs[k];
        for (size_t i = 0; i < p->n; i++)
            if (p->orders[i].live && p->orders[i].o.id == id) {
                if (pp)
                    *pp = p;
                return &p->orders[i];
            }
    }
    return NULL;
}

/* Another live order of the same OCO group already holding the group's base. */
static bt_order_t *oco_lock_holder(bt_pair_t *p, const cb_order_t *o, size_t skip)
{
    if (!o->oco)
        return NULL;
    for (size_t i = 0; i < p->n; i++)
        if (i != skip && p->orders[i].live && p->orders[i].o.oco == o->oco &&
            p->orders[i].locked_base > 0)
            return &p->orders[i];
    return NULL;
}

/* Funds a buy reserves: its quote budget, or its notional at the worst price plus the fee. */
static int64_t buy_reserve(const bt_venue_t *v, const cb_order_t *o)
{
    if (o->qty == 0)
        return o->quote_qty;
    int64_t px = o->ref_price;
    if (o->type == CB_ORDER_LIMIT || o->type == CB_ORDER_STOP_LIMIT)
        px = o->limit_price;
    else if (o->type == CB_ORDER_STOP_MARKET)
        px = o->stop_price;
    if (!o->settle && o->type != CB_ORDER_LIMIT && o->type != CB_ORDER_STOP_LIMIT &&
        cb_fx_add(px, cb_fx_notional(px, v->costs.slippage, 1), &px))
        return CB_FX_MAX;
    /* saturated at CB_FX_MAX: a cost beyond the limit is more than any balance holds */
    int64_t n = cb_fx_notional(px, o->qty, 1), need;
    int64_t rate = v->costs.taker_fee > v->costs.maker_fee ? v->costs.taker_fee
                                                           : v->costs.maker_fee;
    return cb_fx_add(n, cb_fx_fee(n, rate), &need) ? CB_FX_MAX : need;
}

static void release(bt_venue_t *v, bt_pair_t *p, bt_order_t *b)
{
    v->quote_locked -= b->locked_quote;
    v->quote_free += b->locked_quote;
    b->locked_quote = 0;
    p->base_locked -= b->locked_base;
    p->base_free += b->locked_base;
    b->locked_base = 0;
}

/* Ends a live order without a fill: gives its reservation back (or hands the OCO group's base
 * lock to a sibling that stays live) and reports it. */
static void end_order(bt_venue_t *v, bt_pair_t *p, size_t idx, cb_event_type_t type,
                      cb_reject_t reason, const cb_fill_quote_t *q, int64_t time_ms)
{
    bt_order_t *b = &p->orders[idx];
    b->live = 0;
    if (b->locked_base > 0) {
        bt_order_t *sib = NULL;
        for (size_t i = 0; i < p->n; i++)
            if (i != idx && p->orders[i].live && b->o.oco && p->orders[i].o.oco == b->o.oco) {
                sib = &p->orders[i];
                break;
            }
        if (sib) {
            sib->locked_base += b->locked_base;
            b->locked_base = 0;
        }
    }
    release(v, p, b);
    cb_venue_event_t ev = {0};
    ev.type = type;
    ev.order_id = b->o.id;
    ev.pair = b->o.pair;
    ev.tag = b->o.tag;
    ev.reason = reason;
    if (q) {
        /* a refusal at fill time says at what price, quantity and bar (no notional) */
        ev.fill.order_id = b->o.id;
        ev.fill.pair = b->o.pair;
        ev.fill.side = b->o.side;
        ev.fill.time_ms = time_ms;
        ev.fill.price = q->price;
        ev.fill.ref_price = q->ref_price;
        ev.fill.qty = b->o.qty;
    }
    emit(v, &ev);
}

/* Executes order idx at quote q; emits the fill (or a rejection) and cancels OCO siblings. */
static void execute(bt_venue_t *v, bt_pair_t *p, size_t idx, const cb_fill_quote_t *q,
                    int64_t time_ms)
{
    bt_order_t *b = &p->orders[idx];
    cb_fill_t f;
    cb_reject_t r;
    if (b->o.side == CB_BUY) {
        r = cb_fill_complete(&b->o, q, &p->ins, &v->costs, v->quote_free + b->locked_quote,
                             time_ms, &f);
        int64_t held;
        if (r == CB_REJECT_NONE && (cb_fx_add(p->base_free, p->base_locked, &held) ||
                                    cb_fx_add(held, f.qty, &held)))
            r = CB_REJECT_RANGE; /* more base than the account can count */
    } else {
        r = cb_fill_complete(&b->o, q, &p->ins, &v->costs, 0, time_ms, &f);
        if (r == CB_REJECT_NONE) {
            int64_t group = b->locked_base;
            for (size_t i = 0; i < p->n; i++)
                if (i != idx && p->orders[i].live && b->o.oco && p->orders[i].o.oco == b->o.oco)
                    group += p->orders[i].locked_base;
            int64_t total;
            if (f.qty > group + p->base_free)
                r = CB_REJECT_BALANCE;
            else if (cb_fx_add(v->quote_free, v->quote_locked, &total) ||
                     cb_fx_add(total, f.notional - f.fee, &total))
                r = CB_REJECT_RANGE; /* the account could not hold the proceeds */
        }
    }
    if (r != CB_REJECT_NONE) {
        end_order(v, p, idx, CB_EV_REJECTED, r, q, time_ms);
        return;
    }
    uint64_t oco = b->o.oco;
    int32_t tag = b->o.tag;
    b->live = 0;
    if (b->o.side == CB_BUY) {
        release(v, p, b);
        v->quote_free -= f.notional + f.fee;
        p->base_free += f.qty;
    } else {
        release(v, p, b);
        if (oco)
            for (size_t i = 0; i < p->n; i++)
                if (p->orders[i].live && p->orders[i].o.oco == oco)
                    release(v, p, &p->orders[i]);
        p->base_free -= f.qty;
        v->quote_free += f.notional - f.fee;
    }
    /* siblings first, so the sink sees a consistent book when it hears of the fill */
    if (oco)
        for (size_t i = 0; i < p->n; i++)
            if (p->orders[i].live && p->orders[i].o.oco == oco)
                end_order(v, p, i, CB_EV_CANCELED, CB_REJECT_NONE, NULL, 0);
    cb_venue_event_t ev = {0};
    ev.type = CB_EV_FILL;
    ev.order_id = f.order_id;
    ev.pair = f.pair;
    ev.tag = tag;
    ev.fill = f;
    emit(v, &ev);
}

static int bt_submit(void *self, const cb_order_t *o, cb_reject_t *reason)
{
    bt_venue_t *v = self;
    cb_reject_t dummy;
    if (!reason)
        reason = &dummy;
    *reason = CB_REJECT_INVALID;
    if (o->pair >= v->n_pairs)
        return CB_EREJECTED;
    bt_pair_t *p = &v->pairs[o->pair];
    *reason = cb_order_check(o, &p->ins);
    if (*reason != CB_REJECT_NONE)
        return CB_EREJECTED;
    if (o->settle && o->type != CB_ORDER_MARKET) {
        *reason = CB_REJECT_INVALID;
        return CB_EREJECTED;
    }
    int64_t locked_quote = 0, locked_base = 0;
    if (o->side == CB_BUY) {
        int64_t need = buy_reserve(v, o);
        if (need > v->quote_free) {
            *reason = CB_REJECT_BALANCE;
            return CB_EREJECTED;
        }
        locked_quote = need;
    } else if (!oco_lock_holder(p, o, (size_t)-1)) {
        if (o->qty > p->base_free) {
            *reason = CB_REJECT_BALANCE;
            return CB_EREJECTED;
        }
        locked_base = o->qty;
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        bt_order_t *a = realloc(p->orders, cap * sizeof *a);
        if (!a)
            return CB_ENOMEM;
        p->orders = a;
        p->cap = cap;
    }
    v->quote_free -= locked_quote;
    v->quote_locked += locked_quote;
    p->base_free -= locked_base;
    p->base_locked += locked_base;
    bt_order_t *b = &p->orders[p->n++]; /* built in place: the order is large */
    b->o = *o;
    b->live = 1;
    b->triggered = 0;
    b->fresh_time = p->in_bar ? p->bar_time : INT64_MIN;
    b->locked_quote = locked_quote;
    b->locked_base = locked_base;
    *reason = CB_REJECT_NONE;
    if (o->settle) {
        cb_fill_quote_t q = {o->ref_price, o->ref_price, 0};
        execute(v, p, p->n - 1, &q, o->created_ms);
    }
    return 0;
}

static int bt_cancel(void *self, uint64_t id)
{
    bt_venue_t *v = self;
    bt_pair_t *p;
    bt_order_t *b = find_order(v, id, &p);
    if (!b)
        return CB_ENOENT;
    end_order(v, p, (size_t)(b - p->orders), CB_EV_CANCELED, CB_REJECT_NONE, NULL, 0);
    return 0;
}

static int bt_amend(void *self, uint64_t id, int64_t stop_price, int64_t limit_price)
{
    bt_venue_t *v = self;
    bt_pair_t *p;
    bt_order_t *b = find_order(v, id, &p);
    if (!b)
        return CB_ENOENT;
    cb_order_t o = b->o;
    o.stop_price = stop_price;
    if (o.type == CB_ORDER_STOP_LIMIT || o.type == CB_ORDER_LIMIT)
        o.limit_price = limit_price;
    if (cb_order_check(&o, &p->ins) != CB_REJECT_NONE)
        return CB_EREJECTED;
    b->o = o;
    return 0;
}

/* Cheap test: could this order trade anywhere in the bar? (Most bars touch no stop.) */
static inline int may_fill(const bt_order_t *b, const cb_bar_fx_t *bar)
{
    const cb_order_t *o = &b->o;
    int buy = o->side == CB_BUY;
    switch (o->type) {
    case CB_ORDER_MARKET: return 1;
    case CB_ORDER_LIMIT: return buy ? bar->low < o->limit_price : bar->high > o->limit_price;
    case CB_ORDER_STOP_LIMIT:
        if (b->triggered)
            return buy ? bar->low < o->limit_price : bar->high > o->limit_price;
        /* fall through */
    case CB_ORDER_STOP_MARKET:
        return buy ? bar->high >= o->stop_price : bar->low <= o->stop_price;
    }
    return 1;
}

static int bt_on_bar(void *self, uint32_t pair, int64_t time_ms, int64_t open, int64_t high,
                     int64_t low, int64_t close)
{
    bt_venue_t *v = self;
    if (pair >= v->n_pairs)
        return CB_EINVAL;
    bt_pair_t *p = &v->pairs[pair];
    cb_bar_fx_t bar = {time_ms, open, high, low, close};
    int any = 0, expiring = 0;
    for (size_t i = 0; i < p->n; i++) {
        any |= p->orders[i].live && may_fill(&p->orders[i], &bar);
        expiring |= p->orders[i].o.expire_ms > 0;
    }
    if (!any && !expiring)
        return 0;
    p->in_bar = 1;
    p->bar_time = time_ms;
    for (int phase = CB_PHASE_AT_OPEN; phase <= CB_PHASE_LIMITS; phase++) {
        /* p->n may grow while we iterate (the sink places orders): those are fresh */
        for (size_t i = 0; i < p->n; i++) {
            bt_order_t *b = &p->orders[i];
            if (!b->live)
                continue;
            cb_fill_quote_t q;
            int fresh = b->fresh_time == time_ms;
            if (cb_fill_match(&b->o, &b->triggered, fresh, &bar, (cb_fill_phase_t)phase,
                              p->ins.tick, &v->costs, &q))
                execute(v, p, i, &q, time_ms);
        }
    }
    for (size_t i = 0; i < p->n; i++) {
        bt_order_t *b = &p->orders[i];
        if (b->live && b->o.expire_ms > 0 && b->o.expire_ms <= time_ms &&
            b->fresh_time != time_ms)
            end_order(v, p, i, CB_EV_EXPIRED, CB_REJECT_NONE, NULL, 0);
    }
    size_t w = 0;
    for (size_t i = 0; i < p->n; i++)
        if (p->orders[i].live) {
            if (w != i)
                p->orders[w] = p->orders[i];
            w++;
        }
    p->n = w;
    p->in_bar = 0;
    return 0;
}

static int64_t bt_quote_balance(void *self)
{
    bt_venue_t *v = self;
    return v->quote_free + v->quote_locked;
}

static void bt_destroy(void *self)
{
    bt_venue_t *v = self;
    if (!v)
        return;
    for (size_t k = 0; k < v->n_pairs; k++)
        free(v->pairs[k].orders);
    free(v->pairs);
    free(v);
}

static const cb_venue_ops_t bt_ops = {
    .name = "backtest",
    .set_sink = bt_set_sink,
    .submit = bt_submit,
    .cancel = bt_cancel,
    .amend = bt_amend,
    .on_bar = bt_on_bar,
    .quote_balance = bt_quote_balance,
    .destroy = bt_destroy,
};

int cb_backtest_venue_new(const cb_instrument_t *instruments, size_t n_instruments,
                          int64_t quote_balance, const cb_costs_t *costs, cb_venue_t *out)
{
    if (!out || (n_instruments && !instruments) || quote_balance < 0)
        return CB_EINVAL;
    bt_venue_t *v = calloc(1, sizeof *v);
    if (!v)
        return CB_ENOMEM;
    v->pairs = calloc(n_instruments ? n_instruments : 1, sizeof *v->pairs);
    if (!v->pairs) {
        free(v);
        return CB_ENOMEM;
    }
    v->n_pairs = n_instruments;
    for (size_t k = 0; k < n_instruments; k++)
        v->pairs[k].ins = instruments[k];
    v->quote_free = quote_balance;
    if (costs)
        v->costs = *costs;
    out->ops = &bt_ops;
    out->self = v;
    return 0;
}

int cb_backtest_venue_deposit(cb_venue_t *v, uint32_t pair, int64_t base_qty)
{
    if (!v || v->ops != &bt_ops || base_qty < 0)
        return CB_EINVAL;
    bt_venue_t *bv = v->self;
    if (pair >= bv->n_pairs)
        return CB_EINVAL;
    int64_t held;
    if (cb_fx_add(bv->pairs[pair].base_free, base_qty, &held))
        return CB_ERANGE;
    bv->pairs[pair].base_free = held;
    return 0;
}
