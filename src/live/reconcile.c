/* Reconciliation: the journal caught up with the exchange (orders in flight resolved, missed
 * fills recorded), then compared with it (open orders, base balances). Differences are
 * reported, never guessed away: the robot does not trade until they are resolved. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "live_int.h"

static const char *const kind_names[] = {
#define CB_RK_NAME_(id, name) name,
    CB_RECON_KIND_MAP(CB_RK_NAME_)
#undef CB_RK_NAME_
};

const char *cb_recon_kind_name(cb_recon_kind_t k)
{
    return (unsigned)k < CB_RECON_KIND_COUNT ? kind_names[k] : "unknown";
}

void cb_reconcile_report_free(cb_reconcile_report_t *r)
{
    if (!r)
        return;
    free(r->diffs);
    memset(r, 0, sizeof *r);
}

typedef struct rc {
    const cb_reconcile_opts_t *o;
    cb_reconcile_report_t *r;
    size_t cap;
    cb_pair_info_t *pairs; /* all the exchange's pairs */
    size_t n_pairs;
    char prefix[40];
    /* orders in flight, collected from the journal first (no queries inside its walk) */
    cb_journal_order_t *fl;
    size_t n_fl, cap_fl;
    int64_t since[64];     /* per traded pair: exchange time of the oldest order looked at */
} rc_t;

static int64_t now(const rc_t *c) { return lv_now(c->o->now_ms, c->o->now_user); }

static cb_recon_diff_t *add_diff(rc_t *c, cb_recon_kind_t kind, const char *pair,
                                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static cb_recon_diff_t *add_diff(rc_t *c, cb_recon_kind_t kind, const char *pair,
                                 const char *fmt, ...)
{
    cb_reconcile_report_t *r = c->r;
    if (r->n_diffs == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        cb_recon_diff_t *nd = realloc(r->diffs, cap * sizeof *nd);
        if (!nd)
            return NULL;
        r->diffs = nd;
        c->cap = cap;
    }
    cb_recon_diff_t *d = &r->diffs[r->n_diffs++];
    memset(d, 0, sizeof *d);
    d->kind = kind;
    snprintf(d->pair, sizeof d->pair, "%s", pair ? pair : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->message, sizeof d->message, fmt, ap);
    va_end(ap);
    return d;
}

static int collect(const cb_journal_order_t *o, void *ctx)
{
    rc_t *c = ctx;
    if (c->n_fl == c->cap_fl) {
        size_t cap = c->cap_fl ? c->cap_fl * 2 : 16;
        cb_journal_order_t *n = realloc(c->fl, cap * sizeof *n);
        if (!n)
            return CB_ENOMEM;
        c->fl = n;
        c->cap_fl = cap;
    }
    c->fl[c->n_fl++] = *o;
    return 0;
}

static int traded(const rc_t *c, const char *pair)
{
    for (size_t k = 0; k < c->o->n_pairs; k++)
        if (!strcmp(c->o->pairs[k], pair))
            return (int)k;
    return -1;
}

static void note_since(rc_t *c, const char *pair, int64_t t)
{
    int k = traded(c, pair);
    if (k >= 0 && k < 64 && t > 0 && (c->since[k] == 0 || t < c->since[k]))
        c->since[k] = t;
}

/* An audit event of the reconciliation (no candle: market time 0). A failed write is an
 * error like any other: the reconciliation is not done. */
static int audit(rc_t *c, const char *kind, const char *detail, cb_diag_t *diag)
{
    int rc = cb_journal_event(c->o->journal, 0, kind, detail);
    if (rc)
        return cb_diag_set(diag, rc, NULL, 0, 0, NULL, "journal: cannot record the %s event: %s",
                           kind, cb_journal_errmsg(c->o->journal));
    return 0;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Step 1: one journal order in flight. */
static int resolve(rc_t *c, const cb_journal_order_t *jo, cb_diag_t *diag)
{
    const cb_reconcile_opts_t *o = c->o;
    const cb_pair_info_t *p = cb_pair_find(c->pairs, c->n_pairs, jo->pair);
    if (!p) {
        add_diff(c, CB_RECON_MISSING_ORDER, jo->pair,
                 "order %s: the exchange does not list its pair %s; resolve it by hand, then "
                 "run `comeback reconcile --ignore` to mark it expired",
                 jo->client_order_id, jo->pair);
        return 0;
    }
    c->r->orders_checked++;
    for (;;) {
        cb_ex_order_t eo;
        cb_diag_t d;
        int rc = cb_exchange_query_order(o->ex, p->pair, jo->client_order_id, &eo, &d);
        if (rc == 0) {
            int complete;
            if ((rc = lv_sync_order(o->ex, o->journal, p, jo->client_order_id, &eo, &complete,
                                    &c->r->fills_recorded, diag)))
                return rc;
            note_since(c, p->pair, eo.created_ms);
            cb_journal_order_t now_o;
            if (cb_journal_order_get(o->journal, jo->client_order_id, &now_o) == 0 &&
                (now_o.status != jo->status || now_o.executed_quantity != jo->executed_quantity))
                c->r->orders_updated++;
            return 0;
        }
        if (rc != CB_ENOENT) {
            char buf[300];
            cb_diag_format(&d, buf, sizeof buf);
            add_diff(c, CB_RECON_UNRESOLVED, p->pair,
                     "order %s: its state could not be asked (%s); run the reconciliation "
                     "again when the exchange answers",
                     jo->client_order_id, buf);
            return 0;
        }
        int sent_maybe = jo->status == CB_OS_INTENT || jo->status == CB_OS_UNKNOWN;
        if (!sent_maybe) {
            cb_recon_diff_t *df = add_diff(
                c, CB_RECON_MISSING_ORDER, p->pair,
                "order %s is %s in the journal but the exchange does not know it; check the "
                "account's order history, then `comeback reconcile --adopt` marks it expired",
                jo->client_order_id, cb_order_status_name(jo->status));
            if (df) {
                snprintf(df->client_order_id, sizeof df->client_order_id, "%s",
                         jo->client_order_id);
                if (o->action != CB_RECON_CHECK) {
                    if ((rc = cb_journal_order_update(o->journal, jo->client_order_id, NULL,
                                                      CB_OS_EXPIRED, 0, now(c))))
                        return cb_diag_set(diag, rc, NULL, 0, 0, NULL,
                                           "journal: cannot update %s", jo->client_order_id);
                    if ((rc = audit(c, "reconcile_expired", jo->client_order_id, diag)))
                        return rc;
                    df->resolved = 1;
                }
            }
            return 0;
        }
        int64_t age = now(c) - jo->created_ms;
        int64_t window = o->unsent_after_ms > 0 ? o->unsent_after_ms : LV_UNSENT_DEFAULT_MS;
        if (age > window) {
            /* it never reached the exchange and no copy can arrive any more */
            if ((rc = cb_journal_order_update(o->journal, jo->client_order_id, NULL,
                                              CB_OS_REJECTED, 0, now(c))))
                return cb_diag_set(diag, rc, NULL, 0, 0, NULL, "journal: cannot update %s",
                                   jo->client_order_id);
            if ((rc = audit(c, "not_sent", jo->client_order_id, diag)))
                return rc;
            c->r->not_sent++;
            c->r->orders_updated++;
            return 0;
        }
        if (!o->wait_unsent) {
            cb_recon_diff_t *df = add_diff(
                c, CB_RECON_UNRESOLVED, p->pair,
                "order %s may still be on its way to the exchange; it is declared not sent "
                "after %lld ms: reconcile again then",
                jo->client_order_id, (long long)window);
            if (df)
                snprintf(df->client_order_id, sizeof df->client_order_id, "%s",
                         jo->client_order_id);
            return 0;
        }
        sleep_ms(window - age + 50 > 1000 ? 1000 : window - age + 50);
    }
}

/* Step 2: fills of ours the journal lacks, per traded pair. */
static int catch_up_fills(rc_t *c, size_t k, const cb_pair_info_t *p, cb_diag_t *diag)
{
    const cb_reconcile_opts_t *o = c->o;
    int64_t since = c->since[k];
    if (since == 0) {
        /* nothing in flight: look back one day from the exchange's clock */
        int64_t t;
        if (cb_exchange_server_time(o->ex, &t, diag))
            return -1;
        since = t - CB_MS_PER_DAY;
    }
    cb_ex_fill_t *f = NULL;
    size_t nf = 0;
    int rc = cb_exchange_my_trades(o->ex, p->pair, since - CB_MS_PER_HOUR, &f, &nf, diag);
    if (rc)
        return rc;
    for (size_t i = 0; i < nf && rc == 0; i++) {
        /* whose fill is it? the journal order with this exchange order id */
        const char *coid = NULL;
        char idbuf[48] = "";
        if (f[i].client_order_id[0]) {
            snprintf(idbuf, sizeof idbuf, "%s", f[i].client_order_id);
        } else {
            /* myTrades does not name the client order id: look the order up among ours */
            for (size_t j = 0; j < c->n_fl; j++)
                if (!strcmp(c->fl[j].pair, p->pair) &&
                    strtoll(c->fl[j].exchange_order_id, NULL, 10) == f[i].order_id)
                    snprintf(idbuf, sizeof idbuf, "%s", c->fl[j].client_order_id);
        }
        if (idbuf[0]) {
            cb_journal_order_t jo;
            if (cb_journal_order_get(o->journal, idbuf, &jo) == 0)
                coid = idbuf;
        }
        if (coid)
            rc = lv_record_fills(o->journal, p, &f[i], 1, -1, coid, &c->r->fills_recorded);
        /* fills of orders the journal does not know show up as a balance difference */
    }
    free(f);
    return rc;
}

/* Step 3: open orders on the exchange that the journal lacks. */
static int ignored(rc_t *c, const char *coid)
{
    char key[96], buf[8];
    snprintf(key, sizeof key, "reconcile.ignore.%s", coid);
    return cb_journal_kv_get(c->o->journal, key, buf, sizeof buf) == 0;
}

static int compare_open(rc_t *c, const cb_pair_info_t *p, cb_diag_t *diag)
{
    const cb_reconcile_opts_t *o = c->o;
    cb_ex_order_t *open = NULL;
    size_t n = 0;
    int rc = cb_exchange_open_orders(o->ex, p->pair, &open, &n, diag);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        cb_journal_order_t jo;
        if (cb_journal_order_get(o->journal, open[i].client_order_id, &jo) == 0 ||
            ignored(c, open[i].client_order_id))
            continue;
        int ours = !strncmp(open[i].client_order_id, c->prefix, strlen(c->prefix));
        char q[40], px[40];
        cb_dec_format(open[i].qty, p->qty_scale, q, sizeof q);
        cb_dec_format(open[i].price ? open[i].price : open[i].stop_price, p->price_scale, px,
                      sizeof px);
        cb_recon_diff_t *d = add_diff(
            c, ours ? CB_RECON_UNKNOWN_ORDER : CB_RECON_FOREIGN_ORDER, p->pair,
            ours ? "the exchange has an open order %s (%s %s %s %s at %s) that the journal "
                   "lacks; `comeback reconcile --adopt` records it, `--ignore` leaves it "
                   "alone, or cancel it on the exchange"
                 : "the exchange has an open order %s (%s %s %s %s at %s) in a traded pair "
                   "that this robot did not place; cancel it, or `comeback reconcile "
                   "--ignore` to trade beside it (`--adopt` makes it the robot's)",
            open[i].client_order_id, cb_ex_side_name(open[i].side),
            cb_ex_order_type_name(open[i].type), q, p->base, px);
        if (!d) {
            free(open);
            return CB_ENOMEM;
        }
        snprintf(d->client_order_id, sizeof d->client_order_id, "%s", open[i].client_order_id);
        if (o->action == CB_RECON_ADOPT) {
            memset(&jo, 0, sizeof jo);
            snprintf(jo.client_order_id, sizeof jo.client_order_id, "%s",
                     open[i].client_order_id);
            snprintf(jo.exchange_order_id, sizeof jo.exchange_order_id, "%lld",
                     (long long)open[i].order_id);
            snprintf(jo.pair, sizeof jo.pair, "%s", p->pair);
            snprintf(jo.side, sizeof jo.side, "%s", open[i].side == CB_EX_BUY ? "buy" : "sell");
            snprintf(jo.type, sizeof jo.type, "%s", cb_ex_order_type_name(open[i].type));
            for (char *ch = jo.type; *ch; ch++)
                if (*ch >= 'A' && *ch <= 'Z')
                    *ch = (char)(*ch - 'A' + 'a');
            snprintf(jo.reason, sizeof jo.reason, "adopted");
            jo.status = lv_status_from_ex(open[i].status);
            jo.price_scale = p->price_scale;
            jo.qty_scale = p->qty_scale;
            jo.price = open[i].price;
            jo.stop_price = open[i].stop_price;
            jo.quantity = open[i].qty;
            jo.executed_quantity = 0; /* its fills are recorded below */
            jo.created_ms = jo.updated_ms = now(c);
            rc = cb_journal_order_adopt(o->journal, &jo);
            if (rc == 0 && open[i].executed_qty > 0) {
                int complete;
                rc = lv_sync_order(o->ex, o->journal, p, jo.client_order_id, &open[i],
                                   &complete, &c->r->fills_recorded, diag);
            }
            if (rc) {
                free(open);
                return cb_diag_set(diag, rc, NULL, 0, 0, NULL, "journal: cannot adopt %s",
                                   jo.client_order_id);
            }
            if ((rc = audit(c, "reconcile_adopt", jo.client_order_id, diag))) {
                free(open);
                return rc;
            }
            c->r->adopted++;
            d->resolved = 1;
        } else if (o->action == CB_RECON_IGNORE) {
            char key[96];
            snprintf(key, sizeof key, "reconcile.ignore.%s", open[i].client_order_id);
            if ((rc = cb_journal_kv_set(o->journal, key, "1")) ||
                (rc = audit(c, "reconcile_ignore", open[i].client_order_id, diag))) {
                free(open);
                return cb_diag_set(diag, rc, NULL, 0, 0, NULL, "journal: cannot ignore %s: %s",
                                   open[i].client_order_id, cb_journal_errmsg(o->journal));
            }
            c->r->ignored++;
            d->resolved = 1;
        }
    }
    free(open);
    return 0;
}

/* Step 4: base balances against baseline + journal position. */
static int compare_balance(rc_t *c, const cb_pair_info_t *p, const cb_ex_balance_t *b,
                           size_t nb, cb_diag_t *diag)
{
    const cb_reconcile_opts_t *o = c->o;
    int64_t bal = 0, pos = 0, base_line = 0;
    for (size_t i = 0; i < nb; i++)
        if (!strcmp(b[i].asset, p->base))
            bal = b[i].free + b[i].locked; /* CB_EX_AMOUNT_SCALE == CB_FX_SCALE */
    int rc = cb_live_position(o->journal, p->pair, p->base, &pos);
    if (rc)
        return cb_diag_set(diag, rc, NULL, 0, 0, NULL, "journal: cannot sum the fills of %s",
                           p->pair);
    char key[64], buf[48];
    snprintf(key, sizeof key, "reconcile.baseline.%s", p->base);
    if (cb_journal_kv_get(o->journal, key, buf, sizeof buf) != 0) {
        /* first reconciliation: what the account held before the robot traded */
        snprintf(buf, sizeof buf, "%lld", (long long)(bal - pos));
        if ((rc = cb_journal_kv_set(o->journal, key, buf)))
            return cb_diag_set(diag, rc, NULL, 0, 0, NULL,
                               "journal: cannot record the %s baseline: %s", p->base,
                               cb_journal_errmsg(o->journal));
    }
    base_line = strtoll(buf, NULL, 10);
    int64_t expected = base_line + pos, diff = bal - expected;
    int64_t step_fx = 0;
    cb_live_scale_to_fx(p->step, p->qty_scale, &step_fx);
    if (diff < step_fx && -diff < step_fx)
        return 0; /* dust below one step */
    char e[40], a[40], dd[40];
    cb_dec_format(expected, CB_FX_SCALE, e, sizeof e);
    cb_dec_format(bal, CB_FX_SCALE, a, sizeof a);
    cb_dec_format(diff, CB_FX_SCALE, dd, sizeof dd);
    cb_recon_diff_t *d = add_diff(
        c, CB_RECON_BALANCE, p->pair,
        "%s balance is %s on the exchange but the journal expects %s (difference %s %s): a "
        "fill the robot did not record, or a deposit, withdrawal or trade outside the robot; "
        "`comeback reconcile --adopt` takes the exchange's balance as the truth, `--ignore` "
        "accepts the difference as outside the robot",
        p->base, a, e, dd, p->base);
    if (!d)
        return CB_ENOMEM;
    snprintf(d->asset, sizeof d->asset, "%s", p->base);
    d->expected = expected;
    d->actual = bal;
    if (o->action != CB_RECON_CHECK) {
        snprintf(buf, sizeof buf, "%lld", (long long)(bal - pos));
        if ((rc = cb_journal_kv_set(o->journal, key, buf)))
            return cb_diag_set(diag, rc, NULL, 0, 0, NULL,
                               "journal: cannot record the %s baseline: %s", p->base,
                               cb_journal_errmsg(o->journal));
        char ev[128];
        snprintf(ev, sizeof ev, "%s %s: %s", o->action == CB_RECON_ADOPT ? "adopt" : "ignore",
                 p->base, dd);
        if ((rc = audit(c, "reconcile_balance", ev, diag)))
            return rc;
        d->resolved = 1;
    }
    return 0;
}

int cb_reconcile(const cb_reconcile_opts_t *o, cb_reconcile_report_t *out, cb_diag_t *diag)
{
    memset(out, 0, sizeof *out);
    if (!o || !o->ex || !o->journal || !o->bot || (o->n_pairs && !o->pairs) || o->n_pairs > 64)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL,
                           "reconcile needs an exchange, a journal, the bot name and at most "
                           "64 pairs");
    rc_t c;
    memset(&c, 0, sizeof c);
    c.o = o;
    c.r = out;
    snprintf(c.prefix, sizeof c.prefix, "cb-%s-", o->bot);
    int rc = cb_exchange_pairs(o->ex, &c.pairs, &c.n_pairs, diag);
    if (rc)
        return rc;
    for (size_t k = 0; k < o->n_pairs; k++)
        if (!cb_pair_find(c.pairs, c.n_pairs, o->pairs[k])) {
            free(c.pairs);
            return cb_diag_set(diag, CB_ENOENT, NULL, 0, 0, "pairs",
                               "the exchange does not list the pair %s", o->pairs[k]);
        }
    /* 1. orders in flight */
    rc = cb_journal_orders(o->journal, 1, collect, &c);
    for (size_t i = 0; rc == 0 && i < c.n_fl; i++)
        rc = resolve(&c, &c.fl[i], diag);
    /* 2. missed fills, 3. unknown open orders */
    for (size_t k = 0; rc == 0 && k < o->n_pairs; k++) {
        const cb_pair_info_t *p = cb_pair_find(c.pairs, c.n_pairs, o->pairs[k]);
        if ((rc = catch_up_fills(&c, k, p, diag)) == 0)
            rc = compare_open(&c, p, diag);
    }
    /* 4. balances, read between two looks at the fills that agree: a fill that lands while
     * we compare would otherwise show up as a difference */
    cb_ex_balance_t *b = NULL;
    size_t nb = 0;
    for (int tries = 0; rc == 0; tries++) {
        if ((rc = cb_exchange_balances(o->ex, &b, &nb, diag)))
            break;
        size_t before = out->fills_recorded;
        for (size_t k = 0; rc == 0 && k < o->n_pairs; k++)
            rc = catch_up_fills(&c, k, cb_pair_find(c.pairs, c.n_pairs, o->pairs[k]), diag);
        if (rc || out->fills_recorded == before || tries == 3)
            break;
        free(b);
        b = NULL;
    }
    for (size_t k = 0; rc == 0 && k < o->n_pairs; k++)
        rc = compare_balance(&c, cb_pair_find(c.pairs, c.n_pairs, o->pairs[k]), b, nb, diag);
    free(b);
    free(c.pairs);
    free(c.fl);
    if (rc == -1)
        rc = diag ? diag->code : CB_EIO;
    if (rc) {
        if (rc == CB_ENOMEM)
            cb_diag_set(diag, rc, NULL, 0, 0, NULL, "out of memory");
        cb_reconcile_report_free(out);
        return rc;
    }
    for (size_t i = 0; i < out->n_diffs; i++)
        if (!out->diffs[i].resolved)
            out->n_open++;
    char ev[160];
    snprintf(ev, sizeof ev,
             "{\"checked\":%zu,\"updated\":%zu,\"not_sent\":%zu,\"fills\":%zu,\"differences\":"
             "%zu,\"open\":%zu}",
             out->orders_checked, out->orders_updated, out->not_sent, out->fills_recorded,
             out->n_diffs, out->n_open);
    if ((rc = audit(&c, "reconcile", ev, diag)) != 0)
        cb_reconcile_report_free(out);
    return rc;
}

char *cb_reconcile_report_json(const cb_reconcile_report_t *r)
{
    json_t *root = json_pack("{s:b,s:I,s:I,s:I,s:I,s:I,s:I}", "ok", r->n_open == 0,
                             "orders_checked", (json_int_t)r->orders_checked, "orders_updated",
                             (json_int_t)r->orders_updated, "not_sent", (json_int_t)r->not_sent,
                             "fills_recorded", (json_int_t)r->fills_recorded, "adopted",
                             (json_int_t)r->adopted, "ignored", (json_int_t)r->ignored);
    json_t *arr = json_array();
    if (!root || !arr) {
        json_decref(root);
        json_decref(arr);
        return NULL;
    }
    for (size_t i = 0; i < r->n_diffs; i++) {
        const cb_recon_diff_t *d = &r->diffs[i];
        json_t *o = json_pack("{s:s,s:s,s:s,s:b}", "kind", cb_recon_kind_name(d->kind), "pair",
                              d->pair, "message", d->message, "resolved", d->resolved);
        if (!o)
            continue;
        if (d->client_order_id[0])
            json_object_set_new(o, "client_order_id", json_string(d->client_order_id));
        if (d->kind == CB_RECON_BALANCE) {
            char e[40], a[40];
            cb_dec_format(d->expected, CB_FX_SCALE, e, sizeof e);
            cb_dec_format(d->actual, CB_FX_SCALE, a, sizeof a);
            json_object_set_new(o, "asset", json_string(d->asset));
            json_object_set_new(o, "expected", json_string(e));
            json_object_set_new(o, "actual", json_string(a));
        }
        json_array_append_new(arr, o);
    }
    json_object_set_new(root, "differences", arr);
    char *s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return s;
}
