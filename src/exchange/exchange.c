/* The venue-neutral exchange interface: names, pairs, rounding, order checks, vtable calls. */
#include "comeback/exchange.h"

#include <stdio.h>
#include <string.h>

static const char *const order_type_names[] = {
#define CB_OT_NAME_(id, name) name,
    CB_EX_ORDER_TYPE_MAP(CB_OT_NAME_)
#undef CB_OT_NAME_
};
static const char *const order_status_names[] = {
#define CB_OS_NAME_(id, name) name,
    CB_EX_STATUS_MAP(CB_OS_NAME_)
#undef CB_OS_NAME_
};

const char *cb_ex_order_type_name(cb_ex_order_type_t t)
{
    return (unsigned)t < CB_EX_ORDER_TYPE_COUNT_ ? order_type_names[t] : "?";
}

const char *cb_ex_status_name(cb_ex_status_t s)
{
    return (unsigned)s < CB_EX_STATUS_COUNT_ ? order_status_names[s] : "?";
}

const char *cb_ex_side_name(cb_ex_side_t s) { return s == CB_EX_SELL ? "SELL" : "BUY"; }

int cb_ex_order_type_parse(const char *s, cb_ex_order_type_t *out)
{
    for (int i = 0; s && i < CB_EX_ORDER_TYPE_COUNT_; i++)
        if (strcmp(s, order_type_names[i]) == 0) {
            *out = (cb_ex_order_type_t)i;
            return 0;
        }
    /* The maker-only limit of an OCO's limit leg: to a client it is a resting limit. */
    if (s && strcmp(s, "LIMIT_MAKER") == 0) {
        *out = CB_EX_ORDER_LIMIT;
        return 0;
    }
    return CB_EINVAL;
}

static const char *const tif_names[] = {"GTC", "IOC", "FOK"};

const char *cb_ex_tif_name(cb_ex_tif_t t) { return (unsigned)t < 3 ? tif_names[t] : "?"; }

int cb_ex_tif_parse(const char *s, cb_ex_tif_t *out)
{
    for (int i = 0; s && i < 3; i++)
        if (strcmp(s, tif_names[i]) == 0) {
            *out = (cb_ex_tif_t)i;
            return 0;
        }
    return CB_EINVAL;
}

int cb_ex_status_parse(const char *s, cb_ex_status_t *out)
{
    for (int i = 0; s && i < CB_EX_STATUS_COUNT_; i++)
        if (strcmp(s, order_status_names[i]) == 0) {
            *out = (cb_ex_status_t)i;
            return 0;
        }
    /* Binance also reports these; to a client they are final states like EXPIRED. */
    if (s && (strcmp(s, "EXPIRED_IN_MATCH") == 0 || strcmp(s, "PENDING_CANCEL") == 0)) {
        *out = CB_EX_STATUS_EXPIRED;
        return 0;
    }
    return CB_EINVAL;
}

int cb_ex_side_parse(const char *s, cb_ex_side_t *out)
{
    if (s && strcmp(s, "BUY") == 0)
        *out = CB_EX_BUY;
    else if (s && strcmp(s, "SELL") == 0)
        *out = CB_EX_SELL;
    else
        return CB_EINVAL;
    return 0;
}

int cb_ex_status_open(cb_ex_status_t s)
{
    return s == CB_EX_STATUS_NEW || s == CB_EX_STATUS_PARTIALLY_FILLED;
}

static int asset_ok(const char *s, size_t n)
{
    if (n == 0 || n >= CB_EX_ASSET_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')))
            return 0;
    }
    return 1;
}

int cb_pair_split(const char *pair, char *base, size_t base_size, char *quote,
                  size_t quote_size)
{
    if (!pair)
        return CB_EINVAL;
    const char *slash = strchr(pair, '/');
    if (!slash)
        return CB_EINVAL;
    size_t nb = (size_t)(slash - pair), nq = strlen(slash + 1);
    if (!asset_ok(pair, nb) || !asset_ok(slash + 1, nq) || nb >= base_size || nq >= quote_size)
        return CB_EINVAL;
    memcpy(base, pair, nb);
    base[nb] = '\0';
    memcpy(quote, slash + 1, nq + 1);
    return 0;
}

const cb_pair_info_t *cb_pair_find(const cb_pair_info_t *pairs, size_t n, const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(pairs[i].pair, name) == 0 || strcmp(pairs[i].symbol, name) == 0)
            return &pairs[i];
    return NULL;
}

int64_t cb_pair_round_price(const cb_pair_info_t *p, int64_t price, cb_round_t mode)
{
    int64_t t = p->tick > 0 ? p->tick : 1;
    int64_t q = price / t, r = price % t;
    if (r == 0)
        return price;
    if (r < 0) { /* prices are positive; keep floor semantics anyway */
        q -= 1;
        r += t;
    }
    if (mode == CB_ROUND_UP || (mode == CB_ROUND_NEAREST && 2 * r >= t))
        q += 1;
    return q * t;
}

int64_t cb_pair_round_qty(const cb_pair_info_t *p, int64_t qty)
{
    int64_t s = p->step > 0 ? p->step : 1;
    if (qty <= 0)
        return 0;
    return qty / s * s;
}

int cb_client_order_id_valid(const char *s)
{
    if (!s)
        return 0;
    size_t n = strlen(s);
    if (n == 0 || n > 36)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '/' || c == '-'))
            return 0;
    }
    return 1;
}

static int type_has_price(cb_ex_order_type_t t)
{
    return t == CB_EX_ORDER_LIMIT || t == CB_EX_ORDER_STOP_LOSS_LIMIT ||
           t == CB_EX_ORDER_TAKE_PROFIT_LIMIT;
}

static int type_has_stop(cb_ex_order_type_t t)
{
    return t == CB_EX_ORDER_STOP_LOSS || t == CB_EX_ORDER_TAKE_PROFIT ||
           t == CB_EX_ORDER_STOP_LOSS_LIMIT || t == CB_EX_ORDER_TAKE_PROFIT_LIMIT;
}

int cb_ex_order_prepare(const cb_pair_info_t *p, const cb_ex_order_req_t *req, int64_t ref_price,
                     cb_ex_order_req_t *out, cb_diag_t *diag)
{
    char a[40], b[40];
    if ((unsigned)req->type >= CB_EX_ORDER_TYPE_COUNT_)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "type", "unknown order type %d",
                           (int)req->type);
    if (!cb_client_order_id_valid(req->client_order_id))
        return cb_diag_set(diag, CB_EVALID, NULL, 0, 0, "client_order_id",
                           "client order id \"%.40s\" must be 1 to 36 characters of "
                           "A-Z a-z 0-9 . _ : / -",
                           req->client_order_id);
    if ((unsigned)req->time_in_force > CB_EX_TIF_FOK ||
        (req->time_in_force != CB_EX_TIF_GTC && req->type != CB_EX_ORDER_LIMIT))
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "time_in_force",
                           "IOC and FOK apply to limit orders only");
    *out = *req;
    snprintf(out->pair, sizeof out->pair, "%s", p->pair);
    if (req->quote_qty != 0) {
        /* Sized in the quote asset: the venue works out the quantity. */
        if (req->type != CB_EX_ORDER_MARKET || req->qty != 0 || req->quote_qty < 0)
            return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "quote_qty",
                               "a quote amount sizes market orders only, with quantity 0");
        if (!p->trading)
            return cb_diag_set(diag, CB_EREJECTED, NULL, 0, 0, "pair",
                               "%s is not trading on the exchange now", p->pair);
        int ns = p->price_scale + p->qty_scale;
        __int128 mn = p->min_notional; /* at ns; compare at CB_EX_AMOUNT_SCALE */
        __int128 q = req->quote_qty;
        if (ns < CB_EX_AMOUNT_SCALE)
            mn *= cb_pow10_i64(CB_EX_AMOUNT_SCALE - ns);
        else
            q *= cb_pow10_i64(ns - CB_EX_AMOUNT_SCALE);
        if (p->min_notional > 0 && p->min_notional_market && q < mn) {
            cb_dec_format(req->quote_qty, CB_EX_AMOUNT_SCALE, a, sizeof a);
            cb_dec_format(p->min_notional, ns, b, sizeof b);
            return cb_diag_set(diag, CB_EVALID, NULL, 0, 0, "notional",
                               "order value %s %s is below the minimum %s %s of %s (NOTIONAL)",
                               a, p->quote, b, p->quote, p->pair);
        }
        return 0;
    }
    out->qty = cb_pair_round_qty(p, req->qty);
    out->price = type_has_price(req->type) ? cb_pair_round_price(p, req->price, CB_ROUND_NEAREST)
                                           : 0;
    out->stop_price =
        type_has_stop(req->type) ? cb_pair_round_price(p, req->stop_price, CB_ROUND_NEAREST) : 0;
    if (!p->trading)
        return cb_diag_set(diag, CB_EREJECTED, NULL, 0, 0, "pair",
                           "%s is not trading on the exchange now", p->pair);
    if (out->qty <= 0 || (p->min_qty > 0 && out->qty < p->min_qty)) {
        cb_dec_format(req->qty, p->qty_scale, a, sizeof a);
        cb_dec_format(p->min_qty > 0 ? p->min_qty : p->step, p->qty_scale, b, sizeof b);
        return cb_diag_set(diag, CB_EVALID, NULL, 0, 0, "quantity",
                           "quantity %s is below the minimum %s of %s (LOT_SIZE)", a, b,
                           p->pair);
    }
    if (p->max_qty > 0 && out->qty > p->max_qty) {
        cb_dec_format(out->qty, p->qty_scale, a, sizeof a);
        cb_dec_format(p->max_qty, p->qty_scale, b, sizeof b);
        return cb_diag_set(diag, CB_EVALID, NULL, 0, 0, "quantity",
                           "quantity %s is above the maximum %s of %s (LOT_SIZE)", a, b, p->pair);
    }
    int64_t prices[2] = {out->price, out->stop_price};
    const char *names[2] = {"price", "stop price"};
    int used[2] = {type_has_price(req->type), type_has_stop(req->type)};
    for (int i = 0; i < 2; i++) {
        if (!used[i])
            continue;
        if (prices[i] <= 0 || (p->min_price > 0 && prices[i] < p->min_price) ||
            (p->max_price > 0 && prices[i] > p->max_price)) {
            cb_dec_format(i ? req->stop_price : req->price, p->price_scale, a, sizeof a);
            return cb_diag_set(diag, CB_EVALID, NULL, 0, 0, names[i],
                               "%s %s is outside the range allowed for %s (PRICE_FILTER)",
                               names[i], a, p->pair);
        }
    }
    int64_t np = out->price ? out->price : out->stop_price ? out->stop_price : ref_price;
    int market_like = !type_has_price(req->type);
    if (p->min_notional > 0 && np > 0 && (!market_like || p->min_notional_market)) {
        __int128 notional = (__int128)np * out->qty;
        if (notional < p->min_notional) {
            int ns = p->price_scale + p->qty_scale;
            cb_dec_format((int64_t)notional, ns, a, sizeof a);
            cb_dec_format(p->min_notional, ns, b, sizeof b);
            return cb_diag_set(diag, CB_EVALID, NULL, 0, 0, "notional",
                               "order value %s %s is below the minimum %s %s of %s (NOTIONAL)",
                               a, p->quote, b, p->quote, p->pair);
        }
    }
    return 0;
}

/* ---- vtable wrappers ---------------------------------------------------------------- */

#define CB_EX_CALL_(op, ...)                                                                  \
    do {                                                                                      \
        if (!ex || !ex->ops->op)                                                              \
            return cb_diag_set(diag, CB_EUNSUPPORTED, NULL, 0, 0, NULL,                       \
                               "this exchange does not support " #op);                        \
        return ex->ops->op(ex, __VA_ARGS__);                                                  \
    } while (0)

/* As CB_EX_CALL_, for a call about one pair: a failure names the pair ("pair ETH/USDT: GET
 * /api/v3/klines (symbol ETHUSDT): invalid symbol ..."), unless the venue named a field. */
#define CB_EX_CALL_PAIR_(op, pair_, ...)                                                      \
    do {                                                                                      \
        if (!ex || !ex->ops->op)                                                              \
            return cb_diag_set(diag, CB_EUNSUPPORTED, NULL, 0, 0, NULL,                       \
                               "this exchange does not support " #op);                        \
        int r_ = ex->ops->op(ex, __VA_ARGS__);                                                \
        if (r_ && diag && !diag->field[0] && (pair_) && (pair_)[0])                           \
            snprintf(diag->field, sizeof diag->field, "pair %.40s", (pair_));                 \
        return r_;                                                                            \
    } while (0)

int cb_exchange_server_time(cb_exchange_t *ex, int64_t *out_ms, cb_diag_t *diag)
{
    CB_EX_CALL_(server_time, out_ms, diag);
}
int cb_exchange_pairs(cb_exchange_t *ex, cb_pair_info_t **out, size_t *n, cb_diag_t *diag)
{
    CB_EX_CALL_(pairs, out, n, diag);
}
int cb_exchange_candles(cb_exchange_t *ex, const char *pair, const char *timeframe,
                        int64_t from_ms, int64_t to_ms, size_t limit, cb_ex_candle_t **out,
                        size_t *n, cb_diag_t *diag)
{
    CB_EX_CALL_PAIR_(candles, pair, pair, timeframe, from_ms, to_ms, limit, out, n, diag);
}
int cb_exchange_book_ticker(cb_exchange_t *ex, const char *pair, cb_book_ticker_t *out,
                            cb_diag_t *diag)
{
    CB_EX_CALL_PAIR_(book_ticker, pair, pair, out, diag);
}
int cb_exchange_balances(cb_exchange_t *ex, cb_ex_balance_t **out, size_t *n, cb_diag_t *diag)
{
    CB_EX_CALL_(balances, out, n, diag);
}
int cb_exchange_place_order(cb_exchange_t *ex, const cb_ex_order_req_t *req, cb_ex_order_t *out,
                            cb_ex_fill_t **fills, size_t *n_fills, cb_diag_t *diag)
{
    CB_EX_CALL_PAIR_(place_order, req->pair, req, out, fills, n_fills, diag);
}
int cb_exchange_cancel_order(cb_exchange_t *ex, const char *pair, const char *client_order_id,
                             cb_ex_order_t *out, cb_diag_t *diag)
{
    CB_EX_CALL_PAIR_(cancel_order, pair, pair, client_order_id, out, diag);
}
int cb_exchange_query_order(cb_exchange_t *ex, const char *pair, const char *client_order_id,
                            cb_ex_order_t *out, cb_diag_t *diag)
{
    CB_EX_CALL_PAIR_(query_order, pair, pair, client_order_id, out, diag);
}
int cb_exchange_open_orders(cb_exchange_t *ex, const char *pair, cb_ex_order_t **out, size_t *n,
                            cb_diag_t *diag)
{
    CB_EX_CALL_PAIR_(open_orders, pair, pair, out, n, diag);
}
int cb_exchange_my_trades(cb_exchange_t *ex, const char *pair, int64_t since_ms,
                          cb_ex_fill_t **out, size_t *n, cb_diag_t *diag)
{
    CB_EX_CALL_PAIR_(my_trades, pair, pair, since_ms, out, n, diag);
}

int cb_exchange_account(cb_exchange_t *ex, cb_ex_account_t *out, cb_diag_t *diag)
{
    CB_EX_CALL_(account, out, diag);
}
int cb_exchange_place_oco(cb_exchange_t *ex, const cb_ex_oco_req_t *req, cb_ex_oco_t *out,
                          cb_diag_t *diag)
{
    CB_EX_CALL_(place_oco, req, out, diag);
}
int cb_exchange_cancel_oco(cb_exchange_t *ex, const char *pair, const char *list_client_id,
                           cb_ex_oco_t *out, cb_diag_t *diag)
{
    CB_EX_CALL_(cancel_oco, pair, list_client_id, out, diag);
}

void cb_exchange_free(cb_exchange_t *ex)
{
    if (ex && ex->ops->free)
        ex->ops->free(ex);
}
