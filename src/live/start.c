/* What live mode does before its first order: the key's permissions, our open orders from a
 * previous run cancelled (their fills recorded), positions rebuilt from the journal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live_int.h"

int cb_live_connect(const char *api_url, const char *key_file, cb_exchange_t **out,
                    cb_diag_t *diag)
{
    *out = NULL;
    cb_api_keys_t *keys = NULL;
    int rc = key_file && key_file[0] ? cb_api_keys_load_file(key_file, &keys, diag)
                                     : cb_api_keys_load_env(&keys, diag);
    if (rc == CB_ENOENT && !(key_file && key_file[0]))
        return cb_diag_set(diag, CB_EAUTH, NULL, 0, 0, "key_file",
                           "live trading needs API keys: set [exchange] key_file, or "
                           "COMEBACK_API_KEY and COMEBACK_API_SECRET");
    if (rc)
        return rc;
    cb_binance_opts_t bo;
    memset(&bo, 0, sizeof bo);
    bo.base_url = api_url && api_url[0] ? api_url : NULL;
    bo.keys = keys;
    rc = cb_binance_new(&bo, out, diag);
    cb_api_keys_free(keys); /* the connector keeps its own copy */
    return rc;
}

int cb_live_check_account(cb_exchange_t *ex, cb_diag_t *diag)
{
    cb_ex_account_t a;
    int rc = cb_exchange_account(ex, &a, diag);
    if (rc)
        return rc;
    if (a.can_withdraw)
        return cb_diag_set(diag, CB_EAUTH, NULL, 0, 0, "key_file",
                           "this API key can withdraw funds: create a key with trading only "
                           "(withdrawals disabled, IP-restricted) for the robot");
    if (!a.can_trade)
        return cb_diag_set(diag, CB_EAUTH, NULL, 0, 0, "key_file",
                           "this API key cannot trade: enable spot trading for it");
    return 0;
}

typedef struct open_list {
    cb_journal_order_t *o;
    size_t n, cap;
    const char *const *pairs;
    size_t n_pairs;
} open_list_t;

static int collect_open(const cb_journal_order_t *o, void *ctx)
{
    open_list_t *l = ctx;
    if (o->status != CB_OS_NEW && o->status != CB_OS_PARTIALLY_FILLED)
        return 0;
    int ours = 0;
    for (size_t k = 0; k < l->n_pairs; k++)
        ours |= !strcmp(l->pairs[k], o->pair);
    if (!ours)
        return 0;
    if (l->n == l->cap) {
        size_t c = l->cap ? l->cap * 2 : 8;
        cb_journal_order_t *n = realloc(l->o, c * sizeof *n);
        if (!n)
            return CB_ENOMEM;
        l->o = n;
        l->cap = c;
    }
    l->o[l->n++] = *o;
    return 0;
}

int cb_live_cancel_open(cb_exchange_t *ex, cb_journal_t *j, const char *const *pairs,
                        size_t n_pairs, size_t *n_canceled, cb_diag_t *diag)
{
    *n_canceled = 0;
    open_list_t l = {NULL, 0, 0, pairs, n_pairs};
    int rc = cb_journal_orders(j, 1, collect_open, &l);
    cb_pair_info_t *all = NULL;
    size_t n_all = 0;
    if (rc == 0 && l.n)
        rc = cb_exchange_pairs(ex, &all, &n_all, diag);
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        const cb_pair_info_t *p = cb_pair_find(all, n_all, l.o[i].pair);
        if (!p)
            continue;
        cb_ex_order_t eo;
        cb_diag_t d;
        int r = cb_exchange_cancel_order(ex, p->pair, l.o[i].client_order_id, &eo, &d);
        if (r)
            /* already gone (filled or cancelled meanwhile): ask what became of it */
            r = cb_exchange_query_order(ex, p->pair, l.o[i].client_order_id, &eo, &d);
        if (r) {
            *diag = d;
            rc = r;
            break;
        }
        int complete;
        size_t n_new = 0;
        if ((rc = lv_sync_order(ex, j, p, l.o[i].client_order_id, &eo, &complete, &n_new,
                                diag)))
            break;
        if (eo.status == CB_EX_STATUS_CANCELED)
            (*n_canceled)++;
        if ((rc = cb_journal_event(j, 0, "cancel_on_start", l.o[i].client_order_id))) {
            cb_diag_set(diag, rc, NULL, 0, 0, NULL, "journal: cannot record the cancel of %s: %s",
                        l.o[i].client_order_id, cb_journal_errmsg(j));
            break;
        }
    }
    free(all);
    free(l.o);
    return rc;
}

typedef struct rebuild {
    const char *pair, *base;
    int64_t step;
    int64_t pos;
    __int128 cost;      /* sum of price * qty of the buys since flat, at 1e-16 */
    int64_t bought, fee_q, first_ms;
    int rc;
} rebuild_t;

static int rb_one(const cb_journal_fill_t *f, void *ctx)
{
    rebuild_t *b = ctx;
    if (strcmp(f->pair, b->pair))
        return 0;
    int64_t q, px, fee = f->fee;
    if (cb_live_scale_to_fx(f->quantity, f->qty_scale, &q) ||
        cb_live_scale_to_fx(f->price, f->price_scale, &px) || f->fee_scale != CB_FX_SCALE) {
        b->rc = CB_ERANGE;
        return 1;
    }
    if (b->pos < b->step) { /* flat (or dust): a new position starts */
        b->cost = 0;
        b->bought = b->fee_q = 0;
        b->first_ms = f->time_ms;
    }
    if (!strcmp(f->side, "buy")) {
        b->pos += q;
        b->cost += (__int128)q * px;
        b->bought += q;
        if (!strcmp(f->fee_asset, b->base)) {
            b->pos -= fee;
            b->fee_q += (int64_t)(((__int128)fee * px + CB_FX_ONE - 1) / CB_FX_ONE);
        } else {
            b->fee_q += fee;
        }
    } else {
        b->pos -= q;
        if (!strcmp(f->fee_asset, b->base))
            b->pos -= fee;
    }
    return 0;
}

int cb_live_position_rebuild(cb_journal_t *j, const char *pair, const char *base,
                             int64_t step_fx, cb_live_position_t *out)
{
    memset(out, 0, sizeof *out);
    rebuild_t b;
    memset(&b, 0, sizeof b);
    b.pair = pair;
    b.base = base;
    b.step = step_fx > 0 ? step_fx : 1;
    int rc = cb_journal_fills(j, NULL, rb_one, &b);
    if (rc)
        return b.rc ? b.rc : rc;
    out->qty = b.pos;
    if (b.pos < b.step || b.bought <= 0)
        return 0;
    out->open = 1;
    out->entry_price = (int64_t)(b.cost / b.bought);
    out->entry_fee = b.fee_q;
    out->entry_ms = b.first_ms;
    return 0;
}
