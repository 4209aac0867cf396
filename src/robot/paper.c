/* The paper venue: local fills with the backtester's fill model, journaled like live orders. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "robot_int.h"

typedef struct paper_order {
    uint64_t id;
    uint32_t pair;
    char coid[48];
} paper_order_t;

typedef struct paper {
    cb_venue_t inner;
    cb_journal_t *j;
    cb_instrument_t *ins;
    size_t n;
    cb_venue_sink_fn sink;
    void *ctx;
    paper_order_t *live;
    size_t n_live, cap;
    int64_t now_ms;
    size_t journal_errors; /* failed writes (the journal remembers the first one) */
} paper_t;

/* A journal write's result: failures are counted here and remembered by the journal
 * (cb_journal_failed), which halts the robot's entries; the fill model goes on in memory. */
static void jw(paper_t *p, int rc)
{
    if (rc < 0)
        p->journal_errors++;
}

const char *robot_order_reason(const cb_order_t *o)
{
    if (o->side == CB_BUY)
        return "entry";
    if (o->settle)
        return "settle";
    switch (o->type) {
    case CB_ORDER_STOP_MARKET:
    case CB_ORDER_STOP_LIMIT: return "stoploss";
    case CB_ORDER_LIMIT: return "take_profit";
    case CB_ORDER_MARKET: break;
    }
    return "exit";
}

static paper_order_t *find(paper_t *p, uint64_t id)
{
    for (size_t i = 0; i < p->n_live; i++)
        if (p->live[i].id == id)
            return &p->live[i];
    return NULL;
}

static void forget(paper_t *p, paper_order_t *o)
{
    *o = p->live[--p->n_live];
}

/* Events of the inner (backtest) venue: journal them, then hand them to the engine. */
static void on_inner(void *ctx, const cb_venue_event_t *ev)
{
    paper_t *p = ctx;
    paper_order_t *o = find(p, ev->order_id);
    if (o) {
        int64_t t = cb_now_ms(); /* orders' created/updated_ms: the wall clock */
        if (ev->type == CB_EV_FILL) {
            const cb_fill_t *f = &ev->fill;
            cb_journal_fill_t jf;
            memset(&jf, 0, sizeof jf);
            snprintf(jf.pair, sizeof jf.pair, "%s", p->ins[o->pair].pair);
            /* engine ids restart with the process; client order ids never repeat */
            snprintf(jf.trade_id, sizeof jf.trade_id, "%.31s", o->coid);
            snprintf(jf.client_order_id, sizeof jf.client_order_id, "%s", o->coid);
            snprintf(jf.side, sizeof jf.side, "%s", f->side == CB_BUY ? "buy" : "sell");
            jf.price_scale = jf.qty_scale = jf.fee_scale = CB_FX_SCALE;
            jf.price = f->price;
            jf.quantity = f->qty;
            jf.fee = f->fee;
            snprintf(jf.fee_asset, sizeof jf.fee_asset, "%s", p->ins[o->pair].quote);
            jf.time_ms = f->time_ms;
            jw(p, cb_journal_fill(p->j, &jf));
            jw(p, cb_journal_order_update(p->j, o->coid, NULL, CB_OS_FILLED, f->qty, t));
        } else {
            cb_order_status_t st = ev->type == CB_EV_CANCELED  ? CB_OS_CANCELED
                                   : ev->type == CB_EV_EXPIRED ? CB_OS_EXPIRED
                                                               : CB_OS_REJECTED;
            jw(p, cb_journal_order_update(p->j, o->coid, NULL, st, 0, t));
        }
        forget(p, o);
    }
    if (p->sink)
        p->sink(p->ctx, ev);
}

static void pv_set_sink(void *self, cb_venue_sink_fn sink, void *ctx)
{
    paper_t *p = self;
    p->sink = sink;
    p->ctx = ctx;
}

static int pv_submit(void *self, const cb_order_t *o, cb_reject_t *reason)
{
    paper_t *p = self;
    if (o->pair >= p->n)
        return CB_EINVAL;
    if (p->n_live == p->cap) {
        size_t c = p->cap ? p->cap * 2 : 16;
        paper_order_t *q = realloc(p->live, c * sizeof *q);
        if (!q)
            return CB_ENOMEM;
        p->live = q;
        p->cap = c;
    }
    cb_journal_order_t jo;
    memset(&jo, 0, sizeof jo);
    snprintf(jo.pair, sizeof jo.pair, "%s", p->ins[o->pair].pair);
    snprintf(jo.side, sizeof jo.side, "%s", o->side == CB_BUY ? "buy" : "sell");
    snprintf(jo.type, sizeof jo.type, "%s", cb_order_type_name(o->type));
    snprintf(jo.reason, sizeof jo.reason, "%s", robot_order_reason(o));
    jo.price_scale = jo.qty_scale = CB_FX_SCALE;
    jo.price = o->limit_price;
    jo.stop_price = o->stop_price;
    jo.quantity = o->qty;
    jo.market_ms = o->created_ms > 0 ? o->created_ms : p->now_ms;
    jo.created_ms = jo.updated_ms = cb_now_ms();
    /* The intent is on disk before the order exists anywhere. */
    int rc = cb_journal_order_intent(p->j, &jo);
    if (rc)
        return rc;
    paper_order_t *po = &p->live[p->n_live++];
    po->id = o->id;
    po->pair = o->pair;
    snprintf(po->coid, sizeof po->coid, "%s", jo.client_order_id);
    char xid[32];
    snprintf(xid, sizeof xid, "paper-%.25s", jo.client_order_id);
    rc = p->inner.ops->submit(p->inner.self, o, reason);
    po = find(p, o->id); /* a synchronous fill may have journaled and forgotten it */
    if (rc == 0) {
        jw(p, cb_journal_order_update(p->j, jo.client_order_id, xid,
                                      po ? CB_OS_NEW : CB_OS_FILLED, po ? 0 : o->qty,
                                      cb_now_ms()));
    } else {
        jw(p, cb_journal_order_update(p->j, jo.client_order_id, NULL, CB_OS_REJECTED, 0,
                                      cb_now_ms()));
        if (po)
            forget(p, po);
    }
    return rc;
}

static int pv_cancel(void *self, uint64_t id)
{
    paper_t *p = self;
    return p->inner.ops->cancel(p->inner.self, id);
}

static int pv_amend(void *self, uint64_t id, int64_t stop_price, int64_t limit_price)
{
    paper_t *p = self;
    return p->inner.ops->amend(p->inner.self, id, stop_price, limit_price);
}

static int pv_on_bar(void *self, uint32_t pair, int64_t time_ms, int64_t open, int64_t high,
                     int64_t low, int64_t close)
{
    paper_t *p = self;
    p->now_ms = time_ms;
    return p->inner.ops->on_bar(p->inner.self, pair, time_ms, open, high, low, close);
}

static int64_t pv_quote_balance(void *self)
{
    paper_t *p = self;
    return p->inner.ops->quote_balance(p->inner.self);
}

static void pv_destroy(void *self)
{
    paper_t *p = self;
    if (!p)
        return;
    if (p->inner.ops)
        p->inner.ops->destroy(p->inner.self);
    free(p->ins);
    free(p->live);
    free(p);
}

static const cb_venue_ops_t paper_ops = {
    .name = "paper",
    .set_sink = pv_set_sink,
    .submit = pv_submit,
    .cancel = pv_cancel,
    .amend = pv_amend,
    .on_bar = pv_on_bar,
    .quote_balance = pv_quote_balance,
    .destroy = pv_destroy,
    .poll = NULL,
};

int robot_paper_venue_new(cb_journal_t *j, const cb_instrument_t *ins, size_t n, int64_t quote,
                          const cb_costs_t *costs, cb_venue_t *out)
{
    paper_t *p = calloc(1, sizeof *p);
    if (!p)
        return CB_ENOMEM;
    p->j = j;
    p->n = n;
    p->ins = malloc(n * sizeof *p->ins);
    int rc = p->ins ? cb_backtest_venue_new(ins, n, quote, costs, &p->inner) : CB_ENOMEM;
    if (rc) {
        pv_destroy(p);
        return rc;
    }
    memcpy(p->ins, ins, n * sizeof *ins);
    p->inner.ops->set_sink(p->inner.self, on_inner, p);
    out->ops = &paper_ops;
    out->self = p;
    return 0;
}

int robot_paper_deposit(cb_venue_t *v, uint32_t pair, int64_t base_qty)
{
    if (!v || v->ops != &paper_ops)
        return CB_EINVAL;
    paper_t *p = v->self;
    return cb_backtest_venue_deposit(&p->inner, pair, base_qty);
}
