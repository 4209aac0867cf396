/* The exchange venue: the engine's orders sent to an exchange through cb_exchange_t, each
 * journaled before it is sent; what happened to them learned by polling and delivered to the
 * engine as one final event per order. See live.h for what lives on the exchange and what is
 * emulated here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "live_int.h"

typedef struct lv_order {
    cb_order_t o;            /* the engine's order (1e-8) */
    int emulated;            /* take-profit held locally */
    int triggered;           /* emulated take-profit whose level a candle reached */
    int on_exchange;         /* a client order id was journaled for it */
    int done;                /* its final event is queued */
    int cancel_wanted, expire_wanted;
    int amending;            /* cancelling to re-place: its cancel is not final */
    int stop_passed;         /* a stop refused because the price is already beyond it */
    char coid[48];
    int64_t sent_ms;         /* wall clock of the intent */
    cb_order_status_t st;    /* the journal's status */
    int64_t seen_exec;       /* executed quantity last seen (qty_scale) */
} lv_order_t;

typedef struct lv {
    cb_exchange_venue_opts_t opts;
    cb_pair_info_t *pairs;   /* in the engine's order */
    size_t n_pairs;
    cb_venue_sink_fn sink;
    void *sink_ctx;
    lv_order_t *ord;
    size_t n, cap;
    cb_venue_event_t *q;
    size_t nq, qcap;
    int delivering;
    char quote[CB_EX_ASSET_MAX];
    int64_t quote_balance, balance_ms;
    cb_exchange_venue_stats_t st;
} lv_t;

static int64_t now(const lv_t *v) { return lv_now(v->opts.now_ms, v->opts.now_user); }

static void note_error(lv_t *v, const cb_diag_t *d)
{
    v->st.poll_errors++;
    cb_diag_format(d, v->st.last_error, sizeof v->st.last_error);
}

static int queue(lv_t *v, const cb_venue_event_t *ev)
{
    if (v->nq == v->qcap) {
        size_t c = v->qcap ? v->qcap * 2 : 16;
        cb_venue_event_t *nq = realloc(v->q, c * sizeof *nq);
        if (!nq)
            return CB_ENOMEM;
        v->q = nq;
        v->qcap = c;
    }
    v->q[v->nq++] = *ev;
    return 0;
}

static void queue_simple(lv_t *v, lv_order_t *x, cb_event_type_t type, cb_reject_t why)
{
    cb_venue_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = type;
    ev.order_id = x->o.id;
    ev.pair = x->o.pair;
    ev.tag = x->o.tag;
    ev.reason = why;
    x->done = 1;
    queue(v, &ev);
}

static lv_order_t *find(lv_t *v, uint64_t id)
{
    for (size_t i = 0; i < v->n; i++)
        if (v->ord[i].o.id == id && !v->ord[i].done)
            return &v->ord[i];
    return NULL;
}

static cb_reject_t reject_reason(const cb_diag_t *d)
{
    if (strstr(d->msg, "balance"))
        return CB_REJECT_BALANCE;
    if (strstr(d->msg, "NOTIONAL") || strstr(d->field, "notional"))
        return CB_REJECT_MIN_NOTIONAL;
    if (strstr(d->msg, "LOT_SIZE") || strstr(d->field, "quantity"))
        return CB_REJECT_STEP;
    if (strstr(d->msg, "PRICE_FILTER") || strstr(d->field, "price"))
        return CB_REJECT_TICK;
    return CB_REJECT_INVALID;
}

/* 10^k as a 128-bit integer, k >= 0 */
static __int128 p10(int k)
{
    __int128 r = 1;
    while (k-- > 0)
        r *= 10;
    return r;
}

/* a / b rounded: mode 0 nearest, 1 up, -1 down (a, b >= 0) */
static int64_t div128(__int128 a, __int128 b, int mode)
{
    __int128 q = a / b, r = a % b;
    if (mode > 0 && r)
        q++;
    else if (mode == 0 && 2 * r >= b)
        q++;
    return (int64_t)q;
}

/* The engine's FILL for an order whose fills are all journaled. */
static void queue_final(lv_t *v, lv_order_t *x, const lv_agg_t *a, cb_order_status_t st)
{
    const cb_pair_info_t *p = &v->pairs[x->o.pair];
    if (a->qty <= 0) {
        cb_event_type_t t = st == CB_OS_REJECTED ? CB_EV_REJECTED
                            : st == CB_OS_EXPIRED || x->expire_wanted ? CB_EV_EXPIRED
                                                                      : CB_EV_CANCELED;
        queue_simple(v, x, t, t == CB_EV_REJECTED ? CB_REJECT_INVALID : CB_REJECT_NONE);
        return;
    }
    cb_venue_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = CB_EV_FILL;
    ev.order_id = x->o.id;
    ev.pair = x->o.pair;
    ev.tag = x->o.tag;
    cb_fill_t *f = &ev.fill;
    f->order_id = x->o.id;
    f->pair = x->o.pair;
    f->side = x->o.side;
    f->maker = a->n_maker == a->n && a->n > 0;
    f->time_ms = a->last_ms;
    int ns = p->price_scale + p->qty_scale; /* notional's decimals */
    int64_t qty = a->qty * cb_pow10_i64(CB_FX_SCALE - p->qty_scale);
    f->price = div128(a->notional * p10(CB_FX_SCALE), (__int128)a->qty * p10(p->price_scale), 0);
    int buy = x->o.side == CB_BUY;
    int64_t gross = ns >= CB_FX_SCALE ? div128(a->notional, p10(ns - CB_FX_SCALE), buy ? 1 : -1)
                                      : (int64_t)(a->notional * p10(CB_FX_SCALE - ns));
    /* commissions (CB_EX_AMOUNT_SCALE == CB_FX_SCALE): a base fee is worth fee * price */
    int64_t base_fee_q = div128((__int128)a->fee_base * f->price, CB_FX_ONE, 1);
    f->fee = a->fee_quote + base_fee_q;
    if (buy) {
        qty -= a->fee_base;      /* what the base balance actually gained */
        f->notional = gross - base_fee_q;
    } else {
        f->notional = gross;
    }
    f->qty = qty;
    f->ref_price = x->o.ref_price > 0 ? x->o.ref_price : f->price;
    f->slippage = 0;
    x->done = 1;
    queue(v, &ev);
    /* one-cancels-the-other: a filled stop cancels the emulated take-profit */
    if (x->o.oco)
        for (size_t i = 0; i < v->n; i++) {
            lv_order_t *y = &v->ord[i];
            if (y != x && !y->done && y->o.oco == x->o.oco && y->o.pair == x->o.pair &&
                y->emulated)
                queue_simple(v, y, CB_EV_CANCELED, CB_REJECT_NONE);
        }
}

/* Syncs one order from the exchange's view and queues its final event when it has one. */
static int apply(lv_t *v, lv_order_t *x, const cb_ex_order_t *eo, cb_diag_t *d)
{
    const cb_pair_info_t *p = &v->pairs[x->o.pair];
    int complete = 0;
    int rc = lv_sync_order(v->opts.ex, v->opts.journal, p, x->coid, eo, &complete,
                           &v->st.fills_recorded, d);
    if (rc)
        return rc;
    x->seen_exec = eo->executed_qty;
    cb_journal_order_t jo;
    if ((rc = cb_journal_order_get(v->opts.journal, x->coid, &jo)))
        return rc;
    x->st = jo.status;
    if (cb_order_status_final(jo.status) && complete && !x->amending) {
        lv_agg_t a;
        if ((rc = lv_aggregate(v->opts.journal, x->coid, p, &a)))
            return rc;
        queue_final(v, x, &a, jo.status);
    }
    return 0;
}

/* A test hook: COMEBACK_TEST_PAUSE_AFTER_INTENT_MS holds every order between its journaled
 * intent and its sending, so that tests/cli/robot_kill.sh can kill the robot right there. */
static void test_pause(void)
{
    const char *e = getenv("COMEBACK_TEST_PAUSE_AFTER_INTENT_MS");
    long ms = e ? atol(e) : 0;
    if (ms > 0 && ms < 10000) {
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* Journals the intent and sends the order to the exchange. */
static int send_order(lv_t *v, lv_order_t *x, cb_ex_order_type_t type, const char *reason,
                      cb_reject_t *why)
{
    const cb_pair_info_t *p = &v->pairs[x->o.pair];
    const cb_order_t *o = &x->o;
    cb_diag_t d;
    cb_diag_clear(&d);
    *why = CB_REJECT_INVALID;
    cb_ex_order_req_t req, prep;
    memset(&req, 0, sizeof req);
    snprintf(req.pair, sizeof req.pair, "%s", p->pair);
    snprintf(req.client_order_id, sizeof req.client_order_id, "cb-check-0");
    req.side = o->side == CB_BUY ? CB_EX_BUY : CB_EX_SELL;
    req.type = type;
    int64_t qs_div = cb_pow10_i64(CB_FX_SCALE - p->qty_scale);
    int64_t ref = 0;
    if (o->ref_price > 0)
        ref = div128(o->ref_price, cb_pow10_i64(CB_FX_SCALE - p->price_scale), 0);
    if (o->qty > 0) {
        req.qty = o->qty / qs_div; /* floored: a remainder below the step stays as dust */
        /* dust that earlier sells left (too small to sell alone) goes with this sell: the
         * account holds what the journal's fills say, and the rounded total may be sold */
        int64_t held;
        if (o->side == CB_SELL &&
            cb_live_position(v->opts.journal, p->pair, p->base, &held) == 0 && held > o->qty)
            req.qty = held / qs_div;
    } else if (o->quote_qty > 0 && type == CB_EX_ORDER_MARKET && o->side == CB_BUY) {
        /* Binance's quoteOrderQty: spend exactly this much quote (the commission is taken
         * from the coins bought), whatever the price has done since ref_price */
        req.quote_qty = o->quote_qty; /* CB_EX_AMOUNT_SCALE == CB_FX_SCALE */
    }
    if (type == CB_EX_ORDER_LIMIT || type == CB_EX_ORDER_STOP_LOSS_LIMIT) {
        if (cb_live_fx_to_scale(o->limit_price, p->price_scale, &req.price)) {
            *why = CB_REJECT_TICK;
            return CB_EREJECTED;
        }
    }
    if (type == CB_EX_ORDER_STOP_LOSS || type == CB_EX_ORDER_STOP_LOSS_LIMIT) {
        if (cb_live_fx_to_scale(o->stop_price, p->price_scale, &req.stop_price)) {
            *why = CB_REJECT_TICK;
            return CB_EREJECTED;
        }
    }
    if (cb_ex_order_prepare(p, &req, ref, &prep, &d)) {
        *why = reject_reason(&d);
        v->st.rejected++;
        return CB_EREJECTED;
    }
    /* the intent is committed before anything is sent */
    cb_journal_order_t jo;
    memset(&jo, 0, sizeof jo);
    snprintf(jo.pair, sizeof jo.pair, "%s", p->pair);
    snprintf(jo.side, sizeof jo.side, "%s", o->side == CB_BUY ? "buy" : "sell");
    snprintf(jo.type, sizeof jo.type, "%s", cb_ex_order_type_name(type));
    for (char *c = jo.type; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    snprintf(jo.reason, sizeof jo.reason, "%s", reason);
    jo.price_scale = p->price_scale;
    jo.qty_scale = p->qty_scale;
    jo.price = prep.price;
    jo.stop_price = prep.stop_price;
    jo.quantity = prep.qty;
    jo.created_ms = now(v);
    int rc = cb_journal_order_intent(v->opts.journal, &jo);
    if (rc)
        return rc;
    snprintf(x->coid, sizeof x->coid, "%s", jo.client_order_id);
    if (strlen(jo.client_order_id) >= sizeof prep.client_order_id)
        return CB_EINVAL; /* cannot happen: bot names are at most 20 characters */
    memcpy(prep.client_order_id, jo.client_order_id, strlen(jo.client_order_id) + 1);
    x->on_exchange = 1;
    x->sent_ms = jo.created_ms;
    x->st = CB_OS_INTENT;
    x->seen_exec = 0;
    v->st.sent++;
    test_pause();
    cb_ex_order_t eo;
    cb_ex_fill_t *fills = NULL;
    size_t nf = 0;
    rc = cb_exchange_place_order(v->opts.ex, &prep, &eo, &fills, &nf, &d);
    if (rc == 0) {
        lv_record_fills(v->opts.journal, p, fills, nf, eo.order_id, x->coid,
                        &v->st.fills_recorded);
        free(fills);
        cb_diag_t d2;
        if (apply(v, x, &eo, &d2))
            note_error(v, &d2); /* the journal keeps it in flight: poll retries */
        return 0;
    }
    free(fills);
    if (lv_definitive(rc)) {
        if (strstr(d.msg, "would trigger immediately"))
            x->stop_passed = 1;
        cb_journal_order_update(v->opts.journal, x->coid, NULL, CB_OS_REJECTED, 0, now(v));
        x->st = CB_OS_REJECTED;
        x->on_exchange = 0;
        *why = reject_reason(&d);
        v->st.rejected++;
        return CB_EREJECTED;
    }
    /* ambiguous: it may exist; the next poll asks for it by client order id */
    cb_journal_order_update(v->opts.journal, x->coid, NULL, CB_OS_UNKNOWN, 0, now(v));
    x->st = CB_OS_UNKNOWN;
    note_error(v, &d);
    return 0;
}

static const char *reason_of(const cb_order_t *o)
{
    if (o->side == CB_BUY)
        return "entry";
    if (o->type == CB_ORDER_STOP_MARKET || o->type == CB_ORDER_STOP_LIMIT)
        return "stoploss";
    if (o->type == CB_ORDER_LIMIT && o->oco)
        return "take_profit";
    return "exit";
}

static int v_submit(void *self, const cb_order_t *order, cb_reject_t *reason)
{
    lv_t *v = self;
    cb_reject_t dummy;
    if (!reason)
        reason = &dummy;
    *reason = CB_REJECT_INVALID;
    if (order->pair >= v->n_pairs || order->settle)
        return CB_EREJECTED;
    if (v->n == v->cap) {
        size_t c = v->cap ? v->cap * 2 : 16;
        lv_order_t *no = realloc(v->ord, c * sizeof *no);
        if (!no)
            return CB_ENOMEM;
        v->ord = no;
        v->cap = c;
    }
    lv_order_t *x = &v->ord[v->n];
    memset(x, 0, sizeof *x);
    x->o = *order;
    cb_ex_order_type_t type;
    switch (order->type) {
    case CB_ORDER_MARKET: type = CB_EX_ORDER_MARKET; break;
    case CB_ORDER_LIMIT: type = CB_EX_ORDER_LIMIT; break;
    case CB_ORDER_STOP_MARKET: type = CB_EX_ORDER_STOP_LOSS; break;
    case CB_ORDER_STOP_LIMIT: type = CB_EX_ORDER_STOP_LOSS_LIMIT; break;
    default: return CB_EREJECTED;
    }
    if (order->type == CB_ORDER_LIMIT && order->side == CB_SELL && order->oco) {
        /* the take-profit: emulated (see live.h); checked like a real order */
        const cb_pair_info_t *p = &v->pairs[order->pair];
        int64_t px;
        if (cb_live_fx_to_scale(order->limit_price, p->price_scale, &px) ||
            cb_pair_round_price(p, px, CB_ROUND_NEAREST) != px) {
            *reason = CB_REJECT_TICK;
            return CB_EREJECTED;
        }
        x->emulated = 1;
        v->n++;
        return 0;
    }
    v->n++;
    int rc = send_order(v, x, type, reason_of(order), reason);
    if (rc == CB_EREJECTED && x->stop_passed) {
        /* the price is already beyond the stop: the stop's job is to sell now */
        x->stop_passed = 0;
        rc = send_order(v, x, CB_EX_ORDER_MARKET, "stoploss", reason);
    }
    if (rc) {
        v->n--; /* refused: the engine hears it from the return value, not an event */
        return rc == CB_EREJECTED ? rc : (*reason = CB_REJECT_INVALID, CB_EREJECTED);
    }
    return 0;
}

/* Asks the exchange to cancel x (known to be acknowledged). */
static void try_cancel(lv_t *v, lv_order_t *x)
{
    if (x->done || !x->on_exchange ||
        (x->st != CB_OS_NEW && x->st != CB_OS_PARTIALLY_FILLED))
        return;
    cb_ex_order_t eo;
    cb_diag_t d;
    int rc = cb_exchange_cancel_order(v->opts.ex, v->pairs[x->o.pair].pair, x->coid, &eo, &d);
    if (rc == 0)
        rc = apply(v, x, &eo, &d);
    if (rc && rc != CB_EREJECTED)
        note_error(v, &d); /* gone already (filled) or unreachable: poll finds out */
}

static int v_cancel(void *self, uint64_t order_id)
{
    lv_t *v = self;
    lv_order_t *x = find(v, order_id);
    if (!x || x->cancel_wanted)
        return CB_ENOENT;
    if (x->emulated) {
        queue_simple(v, x, CB_EV_CANCELED, CB_REJECT_NONE);
        return 0;
    }
    x->cancel_wanted = 1;
    try_cancel(v, x);
    return 0;
}

static int v_amend(void *self, uint64_t order_id, int64_t stop_price, int64_t limit_price)
{
    lv_t *v = self;
    lv_order_t *x = find(v, order_id);
    if (!x || x->cancel_wanted || x->emulated ||
        (x->o.type != CB_ORDER_STOP_MARKET && x->o.type != CB_ORDER_STOP_LIMIT))
        return CB_ENOENT;
    if (x->st != CB_OS_NEW)
        return CB_ESTATE; /* in flight or partly filled: keep the current stop */
    const cb_pair_info_t *p = &v->pairs[x->o.pair];
    cb_ex_order_t eo;
    cb_diag_t d;
    int rc = cb_exchange_cancel_order(v->opts.ex, p->pair, x->coid, &eo, &d);
    if (rc) {
        note_error(v, &d);
        return rc == CB_EREJECTED ? CB_ENOENT : rc;
    }
    x->amending = 1;
    rc = apply(v, x, &eo, &d);
    x->amending = 0;
    if (rc || eo.executed_qty > 0 || eo.status != CB_EX_STATUS_CANCELED) {
        /* it executed before the cancel: its FILL comes from here or the next poll */
        if (rc)
            note_error(v, &d);
        else
            apply(v, x, &eo, &d);
        if (!x->done)
            x->cancel_wanted = 1;
        return CB_ENOENT;
    }
    /* the old stop is cancelled: place the new one under a new client order id */
    x->o.stop_price = stop_price;
    if (limit_price > 0)
        x->o.limit_price = limit_price;
    cb_reject_t why;
    rc = send_order(v, x, x->o.type == CB_ORDER_STOP_LIMIT ? CB_EX_ORDER_STOP_LOSS_LIMIT
                                                           : CB_EX_ORDER_STOP_LOSS,
                    "stoploss", &why);
    if (rc == CB_EREJECTED && x->stop_passed) {
        x->stop_passed = 0;
        rc = send_order(v, x, CB_EX_ORDER_MARKET, "stoploss", &why);
    }
    if (rc)
        queue_simple(v, x, CB_EV_REJECTED, why);
    return 0;
}

/* Emulated take-profits whose level was reached: cancel the stop, then sell at market. */
static void run_triggers(lv_t *v)
{
    for (size_t i = 0; i < v->n; i++) {
        if (!v->ord[i].emulated || !v->ord[i].triggered || v->ord[i].done)
            continue;
        int partner_live = 0;
        for (size_t k = 0; k < v->n; k++) {
            lv_order_t *y = &v->ord[k];
            if (k == i || y->done || y->emulated || y->o.oco != v->ord[i].o.oco ||
                y->o.pair != v->ord[i].o.pair)
                continue;
            partner_live = 1;
            if (!y->cancel_wanted) {
                y->cancel_wanted = 1;
                try_cancel(v, y);
            }
            if (y->done)
                partner_live = 0;
        }
        lv_order_t *x = &v->ord[i];
        if (partner_live || x->done)
            continue; /* wait for the stop to be cancelled (or to fill: then x is cancelled) */
        x->emulated = 0;
        cb_reject_t why;
        if (send_order(v, x, CB_EX_ORDER_MARKET, "take_profit", &why))
            queue_simple(v, x, CB_EV_REJECTED, why);
    }
}

static int v_on_bar(void *self, uint32_t pair, int64_t time_ms, int64_t open, int64_t high,
                    int64_t low, int64_t close)
{
    lv_t *v = self;
    (void)open;
    (void)low;
    (void)close;
    int any = 0;
    for (size_t i = 0; i < v->n; i++) {
        lv_order_t *x = &v->ord[i];
        if (x->done || x->o.pair != pair)
            continue;
        if (x->emulated && !x->triggered && high >= x->o.limit_price) {
            x->triggered = 1;
            x->o.ref_price = x->o.limit_price;
            any = 1;
        }
        if (!x->emulated && x->o.expire_ms > 0 && time_ms >= x->o.expire_ms &&
            !x->cancel_wanted) {
            x->cancel_wanted = x->expire_wanted = 1;
            try_cancel(v, &v->ord[i]);
        }
    }
    if (any)
        run_triggers(v);
    return 0;
}

static void deliver(lv_t *v)
{
    if (v->delivering)
        return;
    v->delivering = 1;
    while (v->nq > 0) {
        cb_venue_event_t ev = v->q[0];
        memmove(v->q, v->q + 1, (v->nq - 1) * sizeof *v->q);
        v->nq--;
        v->st.events_delivered++;
        if (v->sink)
            v->sink(v->sink_ctx, &ev); /* may submit, cancel or amend */
    }
    v->delivering = 0;
    size_t k = 0;
    for (size_t i = 0; i < v->n; i++)
        if (!v->ord[i].done)
            v->ord[k++] = v->ord[i];
    v->n = k;
}

static int in_list(const cb_ex_order_t *list, size_t n, const char *coid, int64_t *exec)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(list[i].client_order_id, coid)) {
            *exec = list[i].executed_qty;
            return 1;
        }
    return 0;
}

static void refresh_balance(lv_t *v, int64_t t)
{
    cb_ex_balance_t *b = NULL;
    size_t nb = 0;
    cb_diag_t d;
    if (cb_exchange_balances(v->opts.ex, &b, &nb, &d)) {
        note_error(v, &d);
        return;
    }
    v->quote_balance = 0;
    for (size_t i = 0; i < nb; i++)
        if (!strcmp(b[i].asset, v->quote))
            v->quote_balance = b[i].free + b[i].locked;
    free(b);
    v->balance_ms = t;
}

static int v_poll(void *self, int64_t now_ms)
{
    lv_t *v = self;
    (void)now_ms;
    if (v->delivering)
        return 0;
    int64_t t = now(v);
    for (size_t k = 0; k < v->n_pairs; k++) {
        int acked = 0, any = 0;
        for (size_t i = 0; i < v->n; i++)
            if (v->ord[i].o.pair == k && v->ord[i].on_exchange && !v->ord[i].done) {
                any = 1;
                acked |= v->ord[i].st == CB_OS_NEW || v->ord[i].st == CB_OS_PARTIALLY_FILLED;
            }
        if (!any)
            continue;
        cb_ex_order_t *open = NULL;
        size_t n_open = 0;
        cb_diag_t d;
        if (acked && cb_exchange_open_orders(v->opts.ex, v->pairs[k].pair, &open, &n_open, &d)) {
            note_error(v, &d);
            continue;
        }
        for (size_t i = 0; i < v->n; i++) {
            lv_order_t *x = &v->ord[i];
            if (x->o.pair != k || !x->on_exchange || x->done)
                continue;
            int64_t exec = 0;
            int acked_x = x->st == CB_OS_NEW || x->st == CB_OS_PARTIALLY_FILLED;
            if (acked_x && in_list(open, n_open, x->coid, &exec) && exec == x->seen_exec) {
                if (x->cancel_wanted)
                    try_cancel(v, x);
                continue;
            }
            cb_ex_order_t eo;
            int rc = cb_exchange_query_order(v->opts.ex, v->pairs[k].pair, x->coid, &eo, &d);
            if (rc == CB_ENOENT) {
                if ((x->st == CB_OS_INTENT || x->st == CB_OS_UNKNOWN) &&
                    t - x->sent_ms > v->opts.unsent_after_ms) {
                    /* never reached the exchange, and can no longer: not sent */
                    cb_journal_order_update(v->opts.journal, x->coid, NULL, CB_OS_REJECTED, 0,
                                            t);
                    cb_journal_event(v->opts.journal, t, "not_sent", x->coid);
                    x->st = CB_OS_REJECTED;
                    v->st.unknown_resolved++;
                    queue_simple(v, x, CB_EV_REJECTED, CB_REJECT_INVALID);
                }
                continue;
            }
            if (rc) {
                note_error(v, &d);
                continue;
            }
            if (x->st == CB_OS_UNKNOWN || x->st == CB_OS_INTENT)
                v->st.unknown_resolved++;
            if (apply(v, x, &eo, &d)) {
                note_error(v, &d);
                continue;
            }
            if (x->cancel_wanted)
                try_cancel(v, x);
        }
        free(open);
    }
    run_triggers(v);
    deliver(v);
    if (t - v->balance_ms >= 5000)
        refresh_balance(v, t);
    return 0;
}

static void v_set_sink(void *self, cb_venue_sink_fn sink, void *ctx)
{
    lv_t *v = self;
    v->sink = sink;
    v->sink_ctx = ctx;
}

static int64_t v_quote_balance(void *self) { return ((lv_t *)self)->quote_balance; }

static void v_destroy(void *self)
{
    lv_t *v = self;
    if (!v)
        return;
    free(v->pairs);
    free(v->ord);
    free(v->q);
    free(v);
}

static const cb_venue_ops_t lv_ops = {
    .name = "exchange",
    .set_sink = v_set_sink,
    .submit = v_submit,
    .cancel = v_cancel,
    .amend = v_amend,
    .on_bar = v_on_bar,
    .quote_balance = v_quote_balance,
    .destroy = v_destroy,
    .poll = v_poll,
};

int cb_exchange_venue_new(const cb_exchange_venue_opts_t *opts, cb_venue_t *out,
                          cb_diag_t *diag)
{
    if (!opts || !opts->ex || !opts->journal || !opts->pairs || opts->n_pairs == 0 || !out)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL,
                           "the exchange venue needs an exchange, a journal and pairs");
    lv_t *v = calloc(1, sizeof *v);
    if (!v || !(v->pairs = calloc(opts->n_pairs, sizeof *v->pairs))) {
        free(v);
        return cb_diag_set(diag, CB_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    }
    v->opts = *opts;
    if (v->opts.unsent_after_ms <= 0)
        v->opts.unsent_after_ms = LV_UNSENT_DEFAULT_MS;
    v->n_pairs = opts->n_pairs;
    cb_pair_info_t *all = NULL;
    size_t n_all = 0;
    int rc = cb_exchange_pairs(opts->ex, &all, &n_all, diag);
    for (size_t k = 0; rc == 0 && k < opts->n_pairs; k++) {
        const cb_pair_info_t *p = cb_pair_find(all, n_all, opts->pairs[k]);
        cb_instrument_t ins;
        if (!p)
            rc = cb_diag_set(diag, CB_ENOENT, NULL, 0, 0, "pairs",
                             "the exchange does not list the pair %s", opts->pairs[k]);
        else if ((rc = cb_live_instrument(p, &ins, diag)) == 0)
            v->pairs[k] = *p;
        if (rc == 0 && k > 0 && strcmp(v->pairs[k].quote, v->pairs[0].quote))
            rc = cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "pairs",
                             "%s and %s are quoted in different currencies; one robot trades "
                             "one quote currency",
                             v->pairs[0].pair, v->pairs[k].pair);
    }
    free(all);
    if (rc) {
        v_destroy(v);
        return rc;
    }
    snprintf(v->quote, sizeof v->quote, "%s", v->pairs[0].quote);
    refresh_balance(v, now(v));
    if (v->st.poll_errors) {
        rc = cb_diag_set(diag, CB_EIO, NULL, 0, 0, NULL, "cannot read the balances: %s",
                         v->st.last_error);
        v_destroy(v);
        return rc;
    }
    out->ops = &lv_ops;
    out->self = v;
    return 0;
}

void cb_exchange_venue_stats(const cb_venue_t *vv, cb_exchange_venue_stats_t *out)
{
    const lv_t *v = vv->self;
    *out = v->st;
    out->live_orders = out->emulated_orders = 0;
    for (size_t i = 0; i < v->n; i++) {
        if (v->ord[i].done)
            continue;
        if (v->ord[i].emulated)
            out->emulated_orders++;
        else
            out->live_orders++;
    }
}

const char *cb_exchange_venue_client_id(const cb_venue_t *vv, uint64_t order_id)
{
    const lv_t *v = vv->self;
    for (size_t i = v->n; i-- > 0;)
        if (v->ord[i].o.id == order_id)
            return v->ord[i].coid;
    return "";
}
