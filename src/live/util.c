/* Scale conversions, the journal's view of an order's fills, and catching the journal up
 * with the exchange's view of one order: shared by the exchange venue and reconciliation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live_int.h"

int cb_live_fx_to_scale(int64_t v, int scale, int64_t *out)
{
    if (scale < 0 || scale > CB_FX_SCALE)
        return CB_ERANGE;
    int64_t div = cb_pow10_i64(CB_FX_SCALE - scale);
    if (v % div != 0)
        return CB_ERANGE;
    *out = v / div;
    return 0;
}

int cb_live_scale_to_fx(int64_t v, int scale, int64_t *out)
{
    if (scale < 0 || scale > CB_FX_SCALE)
        return CB_ERANGE;
    int64_t mul = cb_pow10_i64(CB_FX_SCALE - scale);
    if (v > INT64_MAX / mul || v < -(INT64_MAX / mul))
        return CB_ERANGE;
    *out = v * mul;
    return 0;
}

int cb_live_instrument(const cb_pair_info_t *p, cb_instrument_t *out, cb_diag_t *diag)
{
    memset(out, 0, sizeof *out);
    snprintf(out->pair, sizeof out->pair, "%s", p->pair);
    snprintf(out->base, sizeof out->base, "%s", p->base);
    snprintf(out->quote, sizeof out->quote, "%s", p->quote);
    int ns = p->price_scale + p->qty_scale;
    if (cb_live_scale_to_fx(p->tick, p->price_scale, &out->tick) ||
        cb_live_scale_to_fx(p->step, p->qty_scale, &out->step) || ns > 18)
        return cb_diag_set(diag, CB_ERANGE, NULL, 0, 0, "pair",
                           "%s: the exchange's tick (%d decimals) or step (%d decimals) is "
                           "finer than the engine's 8 decimals; this pair cannot be traded",
                           p->pair, p->price_scale, p->qty_scale);
    /* min notional at price_scale + qty_scale -> 1e-8, rounded up (never below the minimum) */
    if (p->min_notional > 0) {
        if (ns >= CB_FX_SCALE) {
            int64_t d = cb_pow10_i64(ns - CB_FX_SCALE);
            out->min_notional = p->min_notional / d + (p->min_notional % d != 0);
        } else {
            out->min_notional = p->min_notional * cb_pow10_i64(CB_FX_SCALE - ns);
        }
    }
    return 0;
}

cb_order_status_t lv_status_from_ex(cb_ex_status_t s)
{
    switch (s) {
    case CB_EX_STATUS_NEW: return CB_OS_NEW;
    case CB_EX_STATUS_PARTIALLY_FILLED: return CB_OS_PARTIALLY_FILLED;
    case CB_EX_STATUS_FILLED: return CB_OS_FILLED;
    case CB_EX_STATUS_CANCELED: return CB_OS_CANCELED;
    case CB_EX_STATUS_REJECTED: return CB_OS_REJECTED;
    case CB_EX_STATUS_EXPIRED: return CB_OS_EXPIRED;
    case CB_EX_STATUS_COUNT_: break;
    }
    return CB_OS_UNKNOWN;
}

int64_t lv_now(int64_t (*now_ms)(void *), void *user)
{
    return now_ms ? now_ms(user) : cb_now_ms();
}

int lv_definitive(int rc)
{
    return rc == CB_EREJECTED || rc == CB_EVALID || rc == CB_EINVAL || rc == CB_EAUTH;
}

typedef struct agg_ctx {
    const cb_pair_info_t *p;
    lv_agg_t *a;
    int rc;
} agg_ctx_t;

static int rescale(int64_t v, int from, int to, int64_t *out)
{
    if (from == to) {
        *out = v;
        return 0;
    }
    if (from < to) {
        *out = v * cb_pow10_i64(to - from);
        return 0;
    }
    int64_t d = cb_pow10_i64(from - to);
    if (v % d)
        return CB_ERANGE;
    *out = v / d;
    return 0;
}

static int agg_one(const cb_journal_fill_t *f, void *ctx)
{
    agg_ctx_t *c = ctx;
    int64_t q, px, fee;
    if (rescale(f->quantity, f->qty_scale, c->p->qty_scale, &q) ||
        rescale(f->price, f->price_scale, c->p->price_scale, &px) ||
        rescale(f->fee, f->fee_scale, CB_EX_AMOUNT_SCALE, &fee)) {
        c->rc = CB_ERANGE;
        return 1;
    }
    lv_agg_t *a = c->a;
    a->qty += q;
    a->notional += (__int128)q * px;
    if (!strcmp(f->fee_asset, c->p->base))
        a->fee_base += fee;
    else if (!strcmp(f->fee_asset, c->p->quote))
        a->fee_quote += fee;
    else
        a->fee_other += fee;
    if (f->time_ms > a->last_ms)
        a->last_ms = f->time_ms;
    a->n++;
    return 0;
}

int lv_aggregate(cb_journal_t *j, const char *coid, const cb_pair_info_t *p, lv_agg_t *out)
{
    memset(out, 0, sizeof *out);
    agg_ctx_t c = {p, out, 0};
    int rc = cb_journal_fills(j, coid, agg_one, &c);
    return rc ? (c.rc ? c.rc : rc) : 0;
}

int lv_record_fills(cb_journal_t *j, const cb_pair_info_t *p, const cb_ex_fill_t *f, size_t n,
                    int64_t order_id, const char *coid, size_t *n_new)
{
    for (size_t i = 0; i < n; i++) {
        if (order_id >= 0 && f[i].order_id != order_id)
            continue;
        cb_journal_fill_t jf;
        memset(&jf, 0, sizeof jf);
        snprintf(jf.pair, sizeof jf.pair, "%s", p->pair);
        snprintf(jf.trade_id, sizeof jf.trade_id, "%lld", (long long)f[i].trade_id);
        snprintf(jf.client_order_id, sizeof jf.client_order_id, "%s",
                 coid ? coid : f[i].client_order_id);
        snprintf(jf.side, sizeof jf.side, "%s", f[i].side == CB_EX_BUY ? "buy" : "sell");
        jf.price_scale = p->price_scale;
        jf.qty_scale = p->qty_scale;
        jf.fee_scale = CB_EX_AMOUNT_SCALE;
        jf.price = f[i].price;
        jf.quantity = f[i].qty;
        jf.fee = f[i].fee;
        snprintf(jf.fee_asset, sizeof jf.fee_asset, "%s", f[i].fee_asset);
        jf.time_ms = f[i].time_ms;
        int r = cb_journal_fill(j, &jf);
        if (r < 0)
            return r;
        if (r == 1 && n_new)
            (*n_new)++;
    }
    return 0;
}

int lv_sync_order(cb_exchange_t *ex, cb_journal_t *j, const cb_pair_info_t *p,
                  const char *coid, const cb_ex_order_t *eo, int *complete, size_t *n_new,
                  cb_diag_t *diag)
{
    lv_agg_t a;
    int rc = lv_aggregate(j, coid, p, &a);
    if (rc)
        return cb_diag_set(diag, rc, NULL, 0, 0, NULL, "journal: cannot read the fills of %s",
                           coid);
    if (a.qty < eo->executed_qty) {
        cb_ex_fill_t *f = NULL;
        size_t nf = 0;
        /* the order's times bound its fills from below; an hour of margin covers a venue
         * whose clocks disagree by a little (the simulator's runs thousands of times faster
         * than real time) and costs nothing: fills are matched by order id */
        int64_t since = eo->created_ms < eo->updated_ms || eo->updated_ms <= 0 ? eo->created_ms
                                                                               : eo->updated_ms;
        since = since > CB_MS_PER_HOUR ? since - CB_MS_PER_HOUR : 0;
        rc = cb_exchange_my_trades(ex, p->pair, since, &f, &nf, diag);
        if (rc)
            return rc;
        rc = lv_record_fills(j, p, f, nf, eo->order_id, coid, n_new);
        free(f);
        if (rc)
            return cb_diag_set(diag, rc, NULL, 0, 0, NULL, "journal: cannot record fills of %s",
                               coid);
        if ((rc = lv_aggregate(j, coid, p, &a)))
            return rc;
    }
    *complete = a.qty >= eo->executed_qty;
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)eo->order_id);
    cb_order_status_t st = lv_status_from_ex(eo->status);
    /* a final status is recorded only once every fill of the order is journaled, so that a
     * crash in between leaves the order in flight and the next run fetches the rest */
    if (cb_order_status_final(st) && !*complete)
        st = eo->executed_qty > 0 ? CB_OS_PARTIALLY_FILLED : CB_OS_NEW;
    /* updated_ms is the robot's wall clock, like every created/updated_ms of the journal
     * (the exchange's time of the update is market time against the simulator) */
    rc = cb_journal_order_update(j, coid, eo->order_id > 0 ? id : NULL, st, eo->executed_qty,
                                 cb_now_ms());
    if (rc)
        return cb_diag_set(diag, rc, NULL, 0, 0, NULL, "journal: cannot update %s", coid);
    return 0;
}

typedef struct pos_ctx {
    const char *base;
    int64_t pos;
    int rc;
} pos_ctx_t;

static int pos_one(const cb_journal_fill_t *f, void *ctx)
{
    pos_ctx_t *c = ctx;
    int64_t q, fee;
    if (cb_live_scale_to_fx(f->quantity, f->qty_scale, &q) ||
        rescale(f->fee, f->fee_scale, CB_FX_SCALE, &fee)) {
        c->rc = CB_ERANGE;
        return 1;
    }
    c->pos += strcmp(f->side, "buy") == 0 ? q : -q;
    if (!strcmp(f->fee_asset, c->base))
        c->pos -= fee;
    return 0;
}

typedef struct pair_filter {
    const char *pair;
    pos_ctx_t *pc;
} pair_filter_t;

static int pos_pair(const cb_journal_fill_t *f, void *ctx)
{
    pair_filter_t *pf = ctx;
    return strcmp(f->pair, pf->pair) ? 0 : pos_one(f, pf->pc);
}

int cb_live_position(cb_journal_t *j, const char *pair, const char *base, int64_t *out)
{
    pos_ctx_t c = {base, 0, 0};
    pair_filter_t pf = {pair, &c};
    int rc = cb_journal_fills(j, NULL, pos_pair, &pf);
    if (rc)
        return c.rc ? c.rc : rc;
    *out = c.pos;
    return 0;
}
