/* The simulator's HTTP face: Binance spot REST paths, parameters, JSON shapes, error codes,
 * headers (X-MBX-USED-WEIGHT-1M, Retry-After) and signature checks, served by libmicrohttpd
 * with a thread per connection so that an injected delay holds only its own connection. */
#include "sim/sim_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_BODY 65536
#define MAX_PARAMS 32

typedef struct req {
    char *uri;           /* raw request target incl. the query string */
    char *body;
    size_t body_len;
    int started;
} req_t;

typedef struct param {
    char key[40];
    char val[256];
} param_t;

typedef struct params {
    param_t p[MAX_PARAMS];
    size_t n;
    int overflow;
} params_t;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* ---- parameters --------------------------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void url_decode(const char *s, size_t n, char *out, size_t size)
{
    size_t w = 0;
    for (size_t i = 0; i < n && w + 1 < size; i++) {
        if (s[i] == '+')
            out[w++] = ' ';
        else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out[w++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else
            out[w++] = s[i];
    }
    out[w] = '\0';
}

/* Adds the parameters of a query string or form body; the first occurrence of a key wins
 * (the query string is added first: Binance uses it over the body). */
static void params_add(params_t *ps, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '&')
            j++;
        const char *eq = memchr(s + i, '=', j - i);
        if (j > i) {
            if (ps->n >= MAX_PARAMS) {
                ps->overflow = 1;
                return;
            }
            param_t *p = &ps->p[ps->n];
            size_t kl = eq ? (size_t)(eq - (s + i)) : j - i;
            url_decode(s + i, kl, p->key, sizeof p->key);
            if (eq)
                url_decode(eq + 1, (size_t)(s + j - eq - 1), p->val, sizeof p->val);
            else
                p->val[0] = '\0';
            int dup = 0;
            for (size_t k = 0; k < ps->n; k++)
                dup |= strcmp(ps->p[k].key, p->key) == 0;
            if (!dup)
                ps->n++;
        }
        i = j + 1;
    }
}

static const char *param(const params_t *ps, const char *key)
{
    for (size_t i = 0; i < ps->n; i++)
        if (strcmp(ps->p[i].key, key) == 0)
            return ps->p[i].val[0] ? ps->p[i].val : NULL;
    return NULL;
}

/* Copies s without its "signature=..." parameter into out; returns 1 when one was found. */
static int strip_signature(const char *s, size_t n, char *out, size_t size, char *sig,
                           size_t sig_size)
{
    size_t w = 0, i = 0;
    int found = 0, first = 1;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '&')
            j++;
        if (j - i > 10 && strncmp(s + i, "signature=", 10) == 0) {
            found = 1;
            size_t l = j - i - 10;
            if (l >= sig_size)
                l = sig_size - 1;
            memcpy(sig, s + i + 10, l);
            sig[l] = '\0';
        } else if (w + (j - i) + 2 < size) {
            if (!first)
                out[w++] = '&';
            memcpy(out + w, s + i, j - i);
            w += j - i;
            first = 0;
        }
        i = j + 1;
    }
    out[w] = '\0';
    return found;
}

/* ---- responses ---------------------------------------------------------------------- */

static enum MHD_Result reply(cb_sim_t *sim, struct MHD_Connection *c, unsigned status,
                             char *body, int weight_hdr, long retry_after)
{
    if (!body)
        body = strdup("{\"code\":-1000,\"msg\":\"An unknown error occurred while processing "
                      "the request.\"}");
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "application/json;charset=UTF-8");
    if (weight_hdr >= 0) {
        char w[24];
        snprintf(w, sizeof w, "%d", weight_hdr);
        MHD_add_response_header(r, "X-MBX-USED-WEIGHT-1M", w);
    }
    if (retry_after > 0) {
        char ra[24];
        snprintf(ra, sizeof ra, "%ld", retry_after);
        MHD_add_response_header(r, "Retry-After", ra);
    }
    (void)sim;
    enum MHD_Result res = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return res;
}

static char *err_body(int code, const char *msg)
{
    json_t *o = json_pack("{s:i, s:s}", "code", code, "msg", msg);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static char *dump(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(o);
    return s;
}

static json_t *jfmt8(int64_t v, int scale)
{
    char b[48];
    sim_fmt8(v, scale, b, sizeof b);
    return json_string(b);
}

/* Binance's status codes for its errors: keys and permissions 401, everything else 400. */
static unsigned http_for(int code)
{
    return (code == -2014 || code == -2015) ? 401 : 400;
}

/* ---- JSON of the venue's objects ---------------------------------------------------- */

enum { RESP_ACK, RESP_RESULT, RESP_FULL, RESP_QUERY, RESP_CANCEL };

static json_t *order_json(cb_sim_t *sim, const sim_order_t *so, int level, const char *cancel_id)
{
    const sim_market_t *m = &sim->mk[so->market];
    const cb_pair_info_t *p = &m->info;
    const cb_ex_order_t *o = &so->o;
    json_t *j = json_object();
    json_object_set_new(j, "symbol", json_string(p->symbol));
    if (level == RESP_CANCEL)
        json_object_set_new(j, "origClientOrderId", json_string(o->client_order_id));
    json_object_set_new(j, "orderId", json_integer(o->order_id));
    json_object_set_new(j, "orderListId",
                        json_integer(o->order_list_id ? o->order_list_id : -1));
    json_object_set_new(j, "clientOrderId",
                        json_string(level == RESP_CANCEL ? cancel_id : o->client_order_id));
    if (level != RESP_QUERY)
        json_object_set_new(j, "transactTime", json_integer(o->updated_ms));
    if (level == RESP_ACK)
        return j;
    json_object_set_new(j, "price", jfmt8(o->price, p->price_scale));
    json_object_set_new(j, "origQty", jfmt8(o->qty, p->qty_scale));
    json_object_set_new(j, "executedQty", jfmt8(o->executed_qty, p->qty_scale));
    json_object_set_new(j, "origQuoteOrderQty", jfmt8(so->quote_order_qty, 8));
    json_object_set_new(j, "cummulativeQuoteQty",
                        jfmt8(o->quote_qty, p->price_scale + p->qty_scale));
    json_object_set_new(j, "status", json_string(cb_ex_status_name(o->status)));
    json_object_set_new(j, "timeInForce", json_string(cb_ex_tif_name(o->time_in_force)));
    json_object_set_new(j, "type", json_string(so->limit_maker ? "LIMIT_MAKER"
                                                               : cb_ex_order_type_name(o->type)));
    json_object_set_new(j, "side", json_string(cb_ex_side_name(o->side)));
    if (o->stop_price || level == RESP_QUERY)
        json_object_set_new(j, "stopPrice", jfmt8(o->stop_price, p->price_scale));
    if (level == RESP_QUERY) {
        json_object_set_new(j, "icebergQty", json_string("0.00000000"));
        json_object_set_new(j, "time", json_integer(o->created_ms));
        json_object_set_new(j, "updateTime", json_integer(o->updated_ms));
        json_object_set_new(j, "isWorking",
                            json_boolean(o->type == CB_EX_ORDER_LIMIT || so->triggered ||
                                         o->type == CB_EX_ORDER_MARKET));
    }
    if (level != RESP_CANCEL)
        json_object_set_new(j, "workingTime", json_integer(o->created_ms));
    json_object_set_new(j, "selfTradePreventionMode", json_string("NONE"));
    if (level == RESP_FULL) {
        json_t *fa = json_array();
        for (size_t i = 0; i < sim->n_fills; i++) {
            const cb_ex_fill_t *f = &sim->fills[i];
            if (f->order_id != o->order_id)
                continue;
            json_t *fj = json_object();
            json_object_set_new(fj, "price", jfmt8(f->price, p->price_scale));
            json_object_set_new(fj, "qty", jfmt8(f->qty, p->qty_scale));
            json_object_set_new(fj, "commission", jfmt8(f->fee, CB_EX_AMOUNT_SCALE));
            json_object_set_new(fj, "commissionAsset", json_string(f->fee_asset));
            json_object_set_new(fj, "tradeId", json_integer(f->trade_id));
            json_array_append_new(fa, fj);
        }
        json_object_set_new(j, "fills", fa);
    }
    return j;
}

static json_t *filters_json(const cb_pair_info_t *p)
{
    json_t *f = json_array();
    json_array_append_new(f, json_pack("{s:s, s:o, s:o, s:o}", "filterType", "PRICE_FILTER",
                                       "minPrice", jfmt8(p->min_price, p->price_scale),
                                       "maxPrice", jfmt8(p->max_price, p->price_scale),
                                       "tickSize", jfmt8(p->tick, p->price_scale)));
    json_array_append_new(f, json_pack("{s:s, s:o, s:o, s:o}", "filterType", "LOT_SIZE",
                                       "minQty", jfmt8(p->min_qty, p->qty_scale), "maxQty",
                                       jfmt8(p->max_qty, p->qty_scale), "stepSize",
                                       jfmt8(p->step, p->qty_scale)));
    json_array_append_new(f, json_pack("{s:s, s:o, s:b, s:s, s:b, s:i}", "filterType",
                                       "NOTIONAL", "minNotional",
                                       jfmt8(p->min_notional, p->price_scale + p->qty_scale),
                                       "applyMinToMarket", 1, "maxNotional",
                                       "92233720368.54775807", "applyMaxToMarket", 1,
                                       "avgPriceMins", 5));
    json_array_append_new(f, json_pack("{s:s, s:i}", "filterType", "MAX_NUM_ORDERS",
                                       "maxNumOrders", 200));
    return f;
}

static json_t *symbol_json(const cb_pair_info_t *p)
{
    json_t *types = json_pack("[s,s,s,s,s,s,s]", "LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS",
                              "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT");
    json_t *s = json_object();
    json_object_set_new(s, "symbol", json_string(p->symbol));
    json_object_set_new(s, "status", json_string(p->trading ? "TRADING" : "BREAK"));
    json_object_set_new(s, "baseAsset", json_string(p->base));
    json_object_set_new(s, "baseAssetPrecision", json_integer(8));
    json_object_set_new(s, "quoteAsset", json_string(p->quote));
    json_object_set_new(s, "quotePrecision", json_integer(8));
    json_object_set_new(s, "quoteAssetPrecision", json_integer(8));
    json_object_set_new(s, "baseCommissionPrecision", json_integer(8));
    json_object_set_new(s, "quoteCommissionPrecision", json_integer(8));
    json_object_set_new(s, "orderTypes", types);
    json_object_set_new(s, "icebergAllowed", json_false());
    json_object_set_new(s, "ocoAllowed", json_true());
    json_object_set_new(s, "otoAllowed", json_false());
    json_object_set_new(s, "quoteOrderQtyMarketAllowed", json_true());
    json_object_set_new(s, "allowTrailingStop", json_false());
    json_object_set_new(s, "cancelReplaceAllowed", json_false());
    json_object_set_new(s, "isSpotTradingAllowed", json_true());
    json_object_set_new(s, "isMarginTradingAllowed", json_false());
    json_object_set_new(s, "filters", filters_json(p));
    json_object_set_new(s, "permissions", json_array());
    json_object_set_new(s, "permissionSets", json_pack("[[s]]", "SPOT"));
    json_object_set_new(s, "defaultSelfTradePreventionMode", json_string("NONE"));
    json_object_set_new(s, "allowedSelfTradePreventionModes", json_pack("[s]", "NONE"));
    return s;
}

/* ---- endpoint handlers -------------------------------------------------------------- */
/* Each runs under sim->mu, returns the HTTP status and sets *body (malloc'ed JSON). */

typedef struct call {
    cb_sim_t *sim;
    const params_t *ps;
    char *body;
    long after_ms;       /* fault: hold the answer this long after processing */
} call_t;

static unsigned fail(call_t *k, int code, const char *msg)
{
    k->body = err_body(code, msg);
    return http_for(code);
}

static unsigned mandatory(call_t *k, const char *name)
{
    char m[160];
    snprintf(m, sizeof m, "Mandatory parameter '%s' was not sent, was empty/null, or malformed.",
             name);
    return fail(k, -1102, m);
}

static unsigned bad_param(call_t *k, const char *name)
{
    char m[160];
    snprintf(m, sizeof m, "Data sent for parameter '%s' is not valid.", name);
    return fail(k, -1130, m);
}

static int int_param(const params_t *ps, const char *name, int64_t *out, int *present)
{
    const char *v = param(ps, name);
    *present = v != NULL;
    if (!v)
        return 0;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (end == v || *end || errno == ERANGE)
        return -1; /* strtoll's LLONG_MAX for a longer number is not the number sent */
    *out = x;
    return 0;
}

static sim_market_t *need_symbol(call_t *k, unsigned *status)
{
    const char *s = param(k->ps, "symbol");
    if (!s) {
        *status = mandatory(k, "symbol");
        return NULL;
    }
    sim_market_t *m = sim_market_find(k->sim, s);
    if (!m || strcmp(m->info.symbol, s) != 0) {
        *status = fail(k, -1121, "Invalid symbol.");
        return NULL;
    }
    return m;
}

static unsigned h_ping(call_t *k)
{
    k->body = strdup("{}");
    return 200;
}

static unsigned h_time(call_t *k)
{
    k->body = dump(json_pack("{s:I}", "serverTime", (json_int_t)sim_now_locked(k->sim)));
    return 200;
}

static unsigned h_exchange_info(call_t *k)
{
    cb_sim_t *sim = k->sim;
    const char *one = param(k->ps, "symbol"), *many = param(k->ps, "symbols");
    json_t *wanted = NULL;
    if (many) {
        json_error_t e;
        wanted = json_loads(many, 0, &e);
        if (!json_is_array(wanted)) {
            json_decref(wanted);
            return bad_param(k, "symbols");
        }
    }
    json_t *syms = json_array();
    for (size_t i = 0; i < sim->n_mk; i++) {
        const cb_pair_info_t *p = &sim->mk[i].info;
        int take = !one && !wanted;
        if (one && strcmp(one, p->symbol) == 0)
            take = 1;
        size_t j;
        json_t *w;
        json_array_foreach(wanted, j, w) if (json_is_string(w) &&
                                             strcmp(json_string_value(w), p->symbol) == 0) take =
            1;
        if (take)
            json_array_append_new(syms, symbol_json(p));
    }
    json_decref(wanted);
    if ((one || many) && json_array_size(syms) == 0) {
        json_decref(syms);
        return fail(k, -1121, "Invalid symbol.");
    }
    json_t *o = json_object();
    json_object_set_new(o, "timezone", json_string("UTC"));
    json_object_set_new(o, "serverTime", json_integer(sim_now_locked(sim)));
    json_object_set_new(
        o, "rateLimits",
        json_pack("[{s:s,s:s,s:i,s:i},{s:s,s:s,s:i,s:i},{s:s,s:s,s:i,s:i}]", "rateLimitType",
                  "REQUEST_WEIGHT", "interval", "MINUTE", "intervalNum", 1, "limit",
                  sim->weight_limit, "rateLimitType", "ORDERS", "interval", "SECOND",
                  "intervalNum", 10, "limit", 100, "rateLimitType", "RAW_REQUESTS", "interval",
                  "MINUTE", "intervalNum", 5, "limit", 61000));
    json_object_set_new(o, "exchangeFilters", json_array());
    json_object_set_new(o, "symbols", syms);
    k->body = dump(o);
    return 200;
}

static json_t *dbl8(double v)
{
    char b[64];
    snprintf(b, sizeof b, "%.8f", v);
    return json_string(b);
}

static unsigned h_klines(call_t *k)
{
    cb_sim_t *sim = k->sim;
    unsigned st;
    sim_market_t *m = need_symbol(k, &st);
    if (!m)
        return st;
    const char *iv = param(k->ps, "interval");
    if (!iv)
        return mandatory(k, "interval");
    cb_timeframe_t tf;
    if (cb_timeframe_parse(iv, &tf) || tf.ms != sim->tf.ms)
        return fail(k, -1120, "Invalid interval.");
    int64_t start = 0, end = 0, limit = 500;
    int has_start, has_end, has_limit;
    if (int_param(k->ps, "startTime", &start, &has_start))
        return bad_param(k, "startTime");
    if (int_param(k->ps, "endTime", &end, &has_end))
        return bad_param(k, "endTime");
    if (int_param(k->ps, "limit", &limit, &has_limit) || (has_limit && (limit < 1)))
        return bad_param(k, "limit");
    if (limit > 1000)
        limit = 1000;
    const cb_series_t *s = m->s;
    size_t avail = m->closed; /* the forming candle is not served: no invented prices */
    size_t from = 0, to = avail;
    if (has_end) {
        to = cb_series_lower_bound(s, end + 1);
        if (to > avail)
            to = avail;
    }
    if (has_start) {
        from = cb_series_lower_bound(s, start);
        if (from > to)
            from = to;
        if (to - from > (size_t)limit)
            to = from + (size_t)limit;
    } else if (to > (size_t)limit) {
        from = to - (size_t)limit;
    }
    json_t *a = json_array();
    for (size_t i = from; i < to; i++) {
        int64_t ct = cb_timeframe_next(&sim->tf, s->time_ms[i]) - 1;
        json_t *row = json_array();
        json_array_append_new(row, json_integer(s->time_ms[i]));
        double px[4] = {s->open[i], s->high[i], s->low[i], s->close[i]};
        for (int j = 0; j < 4; j++) {
            char b[48];
            sim_fmt8((int64_t)llround(px[j] * (double)cb_pow10_i64(m->info.price_scale)),
                     m->info.price_scale, b, sizeof b);
            json_array_append_new(row, json_string(b));
        }
        json_array_append_new(row, dbl8(s->volume[i]));
        json_array_append_new(row, json_integer(ct));
        json_array_append_new(row, dbl8(s->volume[i] * s->close[i]));
        json_array_append_new(row, json_integer(0));
        json_array_append_new(row, json_string("0.00000000"));
        json_array_append_new(row, json_string("0.00000000"));
        json_array_append_new(row, json_string("0"));
        json_array_append_new(a, row);
    }
    k->body = dump(a);
    return 200;
}

static unsigned h_book_ticker(call_t *k)
{
    unsigned st;
    sim_market_t *m = need_symbol(k, &st);
    if (!m)
        return st;
    int64_t last = sim_last_price(k->sim, m);
    json_t *o = json_object();
    json_object_set_new(o, "symbol", json_string(m->info.symbol));
    json_object_set_new(o, "bidPrice", jfmt8(last, m->info.price_scale));
    json_object_set_new(o, "bidQty", json_string("1000.00000000"));
    json_object_set_new(o, "askPrice", jfmt8(last, m->info.price_scale));
    json_object_set_new(o, "askQty", json_string("1000.00000000"));
    k->body = dump(o);
    return 200;
}

static unsigned h_account(call_t *k)
{
    cb_sim_t *sim = k->sim;
    char rate[16];
    snprintf(rate, sizeof rate, "0.%08d", sim->fee_bps > 0 ? sim->fee_bps * 10000 : 0);
    json_t *bal = json_array();
    const char *omit = param(k->ps, "omitZeroBalances");
    for (size_t i = 0; i < sim->n_assets; i++) {
        const sim_asset_t *a = &sim->assets[i];
        if (omit && strcmp(omit, "true") == 0 && a->free == 0 && a->locked == 0)
            continue;
        json_array_append_new(bal, json_pack("{s:s, s:o, s:o}", "asset", a->asset, "free",
                                             jfmt8(a->free, 8), "locked", jfmt8(a->locked, 8)));
    }
    json_t *o = json_object();
    json_object_set_new(o, "makerCommission", json_integer(sim->fee_bps > 0 ? sim->fee_bps : 0));
    json_object_set_new(o, "takerCommission", json_integer(sim->fee_bps > 0 ? sim->fee_bps : 0));
    json_object_set_new(o, "buyerCommission", json_integer(0));
    json_object_set_new(o, "sellerCommission", json_integer(0));
    json_object_set_new(o, "commissionRates",
                        json_pack("{s:s, s:s, s:s, s:s}", "maker", rate, "taker", rate, "buyer",
                                  "0.00000000", "seller", "0.00000000"));
    json_object_set_new(o, "canTrade", json_true());
    json_object_set_new(o, "canWithdraw", json_false());
    json_object_set_new(o, "canDeposit", json_false());
    json_object_set_new(o, "brokered", json_false());
    json_object_set_new(o, "requireSelfTradePrevention", json_false());
    json_object_set_new(o, "preventSor", json_false());
    json_object_set_new(o, "updateTime", json_integer(sim_now_locked(sim)));
    json_object_set_new(o, "accountType", json_string("SPOT"));
    json_object_set_new(o, "balances", bal);
    json_object_set_new(o, "permissions", json_pack("[s]", "SPOT"));
    json_object_set_new(o, "uid", json_integer(1));
    k->body = dump(o);
    return 200;
}

/* A decimal parameter checked as Binance does (sim_dec_check), with Binance's messages. */
static int dec_value(call_t *k, const char *name, const char *v, int scale, const char *filter,
                     int64_t *out, unsigned *st)
{
    char m[200];
    int code = sim_dec_check(v, scale, out);
    switch (code) {
    case 0: return 0;
    case -1100:
        snprintf(m, sizeof m, "Illegal characters found in parameter '%s'; legal range is "
                              "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'.", name);
        break;
    case -1111: snprintf(m, sizeof m, "Parameter '%s' has too much precision.", name); break;
    case -1013: snprintf(m, sizeof m, "Filter failure: %s", filter); break;
    default: *st = bad_param(k, name); return -1;
    }
    *st = fail(k, code, m);
    return -1;
}

static int dec_param(call_t *k, const char *name, int scale, const char *filter, int64_t *out,
                     unsigned *st)
{
    const char *v = param(k->ps, name);
    if (!v) {
        *st = mandatory(k, name);
        return -1;
    }
    return dec_value(k, name, v, scale, filter, out, st);
}

static int resp_level(call_t *k, int *level, unsigned *st)
{
    const char *rt = param(k->ps, "newOrderRespType");
    *level = RESP_FULL;
    if (rt && strcmp(rt, "ACK") == 0)
        *level = RESP_ACK;
    else if (rt && strcmp(rt, "RESULT") == 0)
        *level = RESP_RESULT;
    else if (rt && strcmp(rt, "FULL") != 0) {
        *st = bad_param(k, "newOrderRespType");
        return -1;
    }
    return 0;
}

/* A client order id parameter (or a generated one when absent) into dst. */
static int coid_param(call_t *k, const char *name, char *dst, size_t size, unsigned *st)
{
    const char *coid = param(k->ps, name);
    if (coid) {
        if (!cb_client_order_id_valid(coid)) {
            char m[200];
            snprintf(m, sizeof m, "Illegal characters found in parameter '%s'; legal range is "
                                  "'^[a-zA-Z0-9-_]{1,36}$'.", name);
            *st = fail(k, -1100, m);
            return -1;
        }
        snprintf(dst, size, "%s", coid);
    } else {
        /* distinct for the two legs and the list of an OCO placed together */
        unsigned long long salt = strcmp(name, "newClientOrderId") == 0 ? 0 : (unsigned char)name[0];
        snprintf(dst, size, "sim%016llx",
                 (unsigned long long)k->sim->next_order_id * 2654435761u + salt);
    }
    return 0;
}

/* One order's parameters, Binance's names with a prefix ("" for a plain order, "above" and
 * "below" for OCO legs: aboveType, abovePrice, aboveStopPrice, aboveTimeInForce, ...). */
static int order_params(call_t *k, sim_market_t *m, const char *pfx, cb_ex_order_req_t *req,
                        int *limit_maker, unsigned *st)
{
    char n_type[32], n_price[32], n_stop[32], n_tif[32], n_coid[40];
    int plain = !*pfx;
    snprintf(n_type, sizeof n_type, "%s%s", pfx, plain ? "type" : "Type");
    snprintf(n_price, sizeof n_price, "%s%s", pfx, plain ? "price" : "Price");
    snprintf(n_stop, sizeof n_stop, "%s%s", pfx, plain ? "stopPrice" : "StopPrice");
    snprintf(n_tif, sizeof n_tif, "%s%s", pfx, plain ? "timeInForce" : "TimeInForce");
    snprintf(n_coid, sizeof n_coid, "%s%s", pfx, plain ? "newClientOrderId" : "ClientOrderId");
    const char *type = param(k->ps, n_type);
    if (!type) {
        *st = mandatory(k, n_type);
        return -1;
    }
    *limit_maker = strcmp(type, "LIMIT_MAKER") == 0;
    if (*limit_maker && plain) {
        *st = fail(k, -1116, "Invalid orderType.");
        return -1;
    }
    if (cb_ex_order_type_parse(type, &req->type)) {
        *st = fail(k, -1116, "Invalid orderType.");
        return -1;
    }
    int has_price = req->type == CB_EX_ORDER_LIMIT || req->type == CB_EX_ORDER_STOP_LOSS_LIMIT ||
                    req->type == CB_EX_ORDER_TAKE_PROFIT_LIMIT;
    int has_stop = req->type != CB_EX_ORDER_MARKET && req->type != CB_EX_ORDER_LIMIT;
    if (!plain && req->type == CB_EX_ORDER_MARKET) {
        *st = fail(k, -1116, "Invalid orderType.");
        return -1;
    }
    if (has_price && !*limit_maker) {
        const char *tif = param(k->ps, n_tif);
        if (!tif) {
            *st = mandatory(k, n_tif);
            return -1;
        }
        if (cb_ex_tif_parse(tif, &req->time_in_force) ||
            (req->time_in_force != CB_EX_TIF_GTC && req->type != CB_EX_ORDER_LIMIT)) {
            *st = fail(k, -1115, "Invalid timeInForce.");
            return -1;
        }
    } else if (!has_price && param(k->ps, n_price)) {
        char msg[96];
        snprintf(msg, sizeof msg, "Parameter '%s' sent when not required.", n_price);
        *st = fail(k, -1106, msg);
        return -1;
    }
    if (has_price && dec_param(k, n_price, m->info.price_scale, "PRICE_FILTER", &req->price, st))
        return -1;
    if (has_stop &&
        dec_param(k, n_stop, m->info.price_scale, "PRICE_FILTER", &req->stop_price, st))
        return -1;
    return coid_param(k, n_coid, req->client_order_id, sizeof req->client_order_id, st);
}

static unsigned h_order_new(call_t *k, int reject)
{
    cb_sim_t *sim = k->sim;
    unsigned st;
    sim_market_t *m = need_symbol(k, &st);
    if (!m)
        return st;
    cb_ex_order_req_t req;
    memset(&req, 0, sizeof req);
    const char *side = param(k->ps, "side");
    if (!side)
        return mandatory(k, "side");
    if (cb_ex_side_parse(side, &req.side))
        return fail(k, -1117, "Invalid side.");
    int limit_maker;
    if (order_params(k, m, "", &req, &limit_maker, &st))
        return st;
    if (param(k->ps, "quoteOrderQty")) {
        if (req.type != CB_EX_ORDER_MARKET)
            return fail(k, -1106, "Parameter 'quoteOrderQty' sent when not required.");
        if (param(k->ps, "quantity"))
            return fail(k, -1106, "Parameter 'quantity' sent when not required.");
        if (dec_param(k, "quoteOrderQty", 8, "NOTIONAL", &req.quote_qty, &st))
            return st;
    } else if (dec_param(k, "quantity", m->info.qty_scale, "LOT_SIZE", &req.qty, &st)) {
        return st;
    }
    int level;
    if (resp_level(k, &level, &st))
        return st;
    if (reject) {
        sim->counts.reject++;
        return fail(k, -2010, "Order rejected by the exchange simulator (fault injection).");
    }
    size_t idx;
    char msg[160];
    int code = sim_place_locked(sim, m, &req, &idx, msg, sizeof msg);
    if (code)
        return fail(k, code, msg);
    sim_log(sim, "order %s %s %s %s accepted: %s", req.client_order_id, m->info.pair, side,
            cb_ex_order_type_name(req.type), cb_ex_status_name(sim->orders[idx].o.status));
    k->body = dump(order_json(sim, &sim->orders[idx], level, NULL));
    return 200;
}

/* An OCO order list as Binance shows it; reports = the legs' order objects (at `level`, or
 * none for RESP_ACK). */
static json_t *list_json(cb_sim_t *sim, const sim_list_t *l, int level, const char *status_type,
                         const char *order_status)
{
    const sim_market_t *m = &sim->mk[l->market];
    json_t *j = json_object(), *orders = json_array(), *reports = json_array();
    json_object_set_new(j, "orderListId", json_integer(l->id));
    json_object_set_new(j, "contingencyType", json_string("OCO"));
    json_object_set_new(j, "listStatusType", json_string(status_type));
    json_object_set_new(j, "listOrderStatus", json_string(order_status));
    json_object_set_new(j, "listClientOrderId", json_string(l->client_id));
    json_object_set_new(j, "transactionTime", json_integer(sim_now_locked(sim)));
    json_object_set_new(j, "symbol", json_string(m->info.symbol));
    for (int i = 0; i < 2; i++) {
        const sim_order_t *so = &sim->orders[l->legs[i]];
        json_array_append_new(orders, json_pack("{s:s, s:I, s:s}", "symbol", m->info.symbol,
                                                "orderId", (json_int_t)so->o.order_id,
                                                "clientOrderId", so->o.client_order_id));
        if (level != RESP_ACK)
            json_array_append_new(reports, order_json(sim, so, level, so->o.client_order_id));
    }
    json_object_set_new(j, "orders", orders);
    json_object_set_new(j, "orderReports", reports);
    return j;
}

/* POST /api/v3/orderList/oco: an "above" and a "below" leg, one cancels the other. */
static unsigned h_oco_new(call_t *k, int reject)
{
    cb_sim_t *sim = k->sim;
    unsigned st;
    sim_market_t *m = need_symbol(k, &st);
    if (!m)
        return st;
    cb_ex_order_req_t legs[2];
    int maker[2];
    memset(legs, 0, sizeof legs);
    const char *side = param(k->ps, "side");
    if (!side)
        return mandatory(k, "side");
    if (cb_ex_side_parse(side, &legs[0].side))
        return fail(k, -1117, "Invalid side.");
    if (dec_param(k, "quantity", m->info.qty_scale, "LOT_SIZE", &legs[0].qty, &st))
        return st;
    legs[1].side = legs[0].side;
    legs[1].qty = legs[0].qty;
    if (order_params(k, m, "above", &legs[0], &maker[0], &st) ||
        order_params(k, m, "below", &legs[1], &maker[1], &st))
        return st;
    char list_id[CB_EX_COID_MAX];
    int level;
    if (coid_param(k, "listClientOrderId", list_id, sizeof list_id, &st) ||
        resp_level(k, &level, &st))
        return st;
    if (reject) {
        sim->counts.reject++;
        return fail(k, -2010, "Order rejected by the exchange simulator (fault injection).");
    }
    size_t idx;
    char msg[160];
    int code = sim_place_oco_locked(sim, m, list_id, legs, maker, &idx, msg, sizeof msg);
    if (code)
        return fail(k, code, msg);
    sim_log(sim, "order list %s %s %s accepted", list_id, m->info.pair, side);
    k->body = dump(list_json(sim, &sim->lists[idx], level == RESP_ACK ? RESP_ACK : RESP_RESULT,
                             "EXEC_STARTED", "EXECUTING"));
    return 200;
}

/* DELETE /api/v3/orderList (orderListId or listClientOrderId): cancels both legs. */
static unsigned h_oco_cancel(call_t *k)
{
    unsigned st;
    sim_market_t *m = need_symbol(k, &st);
    if (!m)
        return st;
    const char *cid = param(k->ps, "listClientOrderId");
    int64_t id = 0;
    int has_id;
    if (int_param(k->ps, "orderListId", &id, &has_id))
        return bad_param(k, "orderListId");
    if (!cid && !has_id)
        return fail(k, -1102, "Param 'listClientOrderId' or 'orderListId' must be sent, but "
                              "both were empty/null!");
    sim_list_t *l = sim_list_find(k->sim, m, has_id ? NULL : cid, id);
    if (!l)
        return fail(k, -2011, "Order list does not exist.");
    char msg[160];
    int code = sim_cancel_locked(k->sim, l->legs[0], msg, sizeof msg);
    if (code)
        code = sim_cancel_locked(k->sim, l->legs[1], msg, sizeof msg);
    if (code)
        return fail(k, code, msg);
    k->body = dump(list_json(k->sim, l, RESP_CANCEL, "ALL_DONE", "ALL_DONE"));
    return 200;
}

/* The order named by orderId or origClientOrderId; NULL with the answer in *st (and *absent
 * set when the ids were valid but name no order; absent may be NULL). */
static sim_order_t *find_order(call_t *k, sim_market_t *m, unsigned *st, int *absent)
{
    if (absent)
        *absent = 0;
    const char *coid = param(k->ps, "origClientOrderId");
    int64_t oid = 0;
    int has_oid;
    if (int_param(k->ps, "orderId", &oid, &has_oid)) {
        *st = bad_param(k, "orderId");
        return NULL;
    }
    if (!coid && !has_oid) {
        *st = fail(k, -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both "
                             "were empty/null!");
        return NULL;
    }
    sim_order_t *so = sim_order_find(k->sim, m, has_oid ? NULL : coid, oid);
    if (!so) {
        *st = fail(k, -2013, "Order does not exist.");
        if (absent)
            *absent = 1;
    }
    return so;
}

static unsigned h_order_get(call_t *k)
{
    unsigned st;
    sim_market_t *m = need_symbol(k, &st);
    if (!m)
        return st;
    sim_order_t *so = find_order(k, m, &st, NULL);
    if (!so)
        return st;
    k->body = dump(order_json(k->sim, so, RESP_QUERY, NULL));
    return 200;
}

static unsigned h_order_cancel(call_t *k)
{
    unsigned st;
    sim_market_t *m = need_symbol(k, &st);
    if (!m)
        return st;
    int absent;
    sim_order_t *so = find_order(k, m, &st, &absent);
    if (!so) {
        if (!absent)
            return st; /* no id (-1102) or a malformed one: find_order's answer */
        free(k->body);
        k->body = NULL;
        return fail(k, -2011, "Unknown order sent.");
    }
    char msg[160];
    int code = sim_cancel_locked(k->sim, (size_t)(so - k->sim->orders), msg, sizeof msg);
    if (code)
        return fail(k, code, msg);
    const char *nc = param(k->ps, "newClientOrderId");
    char gen[40];
    snprintf(gen, sizeof gen, "cancel%lld", (long long)so->o.order_id);
    k->body = dump(order_json(k->sim, so, RESP_CANCEL, nc ? nc : gen));
    return 200;
}

static unsigned h_open_orders(call_t *k)
{
    sim_market_t *m = NULL;
    if (param(k->ps, "symbol")) {
        unsigned st;
        if (!(m = need_symbol(k, &st)))
            return st;
    }
    json_t *a = json_array();
    for (size_t i = 0; i < k->sim->n_orders; i++) {
        const sim_order_t *so = &k->sim->orders[i];
        if (cb_ex_status_open(so->o.status) && (!m || &k->sim->mk[so->market] == m))
            json_array_append_new(a, order_json(k->sim, so, RESP_QUERY, NULL));
    }
    k->body = dump(a);
    return 200;
}

static unsigned h_my_trades(call_t *k)
{
    cb_sim_t *sim = k->sim;
    unsigned st;
    sim_market_t *m = need_symbol(k, &st);
    if (!m)
        return st;
    int64_t start = 0, end = INT64_MAX, from_id = 0, oid = 0, limit = 500;
    int hs, he, hf, ho, hl;
    if (int_param(k->ps, "startTime", &start, &hs))
        return bad_param(k, "startTime");
    if (int_param(k->ps, "endTime", &end, &he))
        return bad_param(k, "endTime");
    if (int_param(k->ps, "fromId", &from_id, &hf))
        return bad_param(k, "fromId");
    if (int_param(k->ps, "orderId", &oid, &ho))
        return bad_param(k, "orderId");
    if (int_param(k->ps, "limit", &limit, &hl) || (hl && limit < 1))
        return bad_param(k, "limit");
    if (limit > 1000)
        limit = 1000;
    const cb_pair_info_t *p = &m->info;
    json_t *a = json_array();
    for (size_t i = 0; i < sim->n_fills && (int64_t)json_array_size(a) < limit; i++) {
        const cb_ex_fill_t *f = &sim->fills[i];
        if (strcmp(f->pair, p->pair) != 0 || f->time_ms < start || f->time_ms > end ||
            f->trade_id < from_id || (ho && f->order_id != oid))
            continue;
        json_t *t = json_object();
        json_object_set_new(t, "symbol", json_string(p->symbol));
        json_object_set_new(t, "id", json_integer(f->trade_id));
        json_object_set_new(t, "orderId", json_integer(f->order_id));
        json_object_set_new(t, "orderListId", json_integer(-1));
        json_object_set_new(t, "price", jfmt8(f->price, p->price_scale));
        json_object_set_new(t, "qty", jfmt8(f->qty, p->qty_scale));
        json_object_set_new(t, "quoteQty", jfmt8(f->price * f->qty, p->price_scale + p->qty_scale));
        json_object_set_new(t, "commission", jfmt8(f->fee, CB_EX_AMOUNT_SCALE));
        json_object_set_new(t, "commissionAsset", json_string(f->fee_asset));
        json_object_set_new(t, "time", json_integer(f->time_ms));
        json_object_set_new(t, "isBuyer", json_boolean(f->side == CB_EX_BUY));
        json_object_set_new(t, "isMaker", json_boolean(f->maker));
        json_object_set_new(t, "isBestMatch", json_true());
        json_array_append_new(a, t);
    }
    k->body = dump(a);
    return 200;
}

static unsigned h_sim_advance(call_t *k)
{
    int64_t n = 1, ms, to;
    int has;
    const char *v = param(k->ps, "candles");
    if (v && (!*v || strspn(v, "0123456789") != strlen(v)))
        return fail(k, -1100, "Illegal characters found in parameter 'candles'; legal range is "
                              "'^[0-9]{1,20}$'.");
    if (int_param(k->ps, "candles", &n, &has) || n < 0)
        return bad_param(k, "candles");
    /* The clock stays within what int64 milliseconds and four-digit years hold: the last
     * moment of 9999 (a wrapped clock went back before 1970). */
    int64_t tf = k->sim->tf.ms > 0 ? k->sim->tf.ms : 30 * CB_MS_PER_DAY;
    if (__builtin_mul_overflow(n, tf, &ms) ||
        __builtin_add_overflow(k->sim->advanced_ms, ms, &to) ||
        __builtin_add_overflow(sim_now_locked(k->sim), ms, &ms) || ms > SIM_CLOCK_MAX_MS) {
        char m[200];
        snprintf(m, sizeof m, "Data sent for parameter 'candles' is not valid: the clock may "
                              "not pass 9999-12-31 (at most %lld more candles).",
                 (long long)((SIM_CLOCK_MAX_MS - sim_now_locked(k->sim)) / tf));
        return fail(k, -1130, m);
    }
    k->sim->advanced_ms = to;
    sim_sync_locked(k->sim);
    k->body = dump(json_pack("{s:I}", "time_ms", (json_int_t)sim_now_locked(k->sim)));
    return 200;
}

/* ---- routing ------------------------------------------------------------------------ */

typedef struct route {
    const char *method, *path;
    int weight, is_signed, is_order;
    unsigned (*fn)(call_t *k);
} route_t;

static unsigned h_order_new_plain(call_t *k) { return h_order_new(k, 0); }
static unsigned h_oco_new_plain(call_t *k) { return h_oco_new(k, 0); }

static unsigned h_sim_deposit(call_t *k)
{
    const char *asset = param(k->ps, "asset");
    unsigned st;
    int64_t amount;
    if (!asset)
        return mandatory(k, "asset");
    const char *v = param(k->ps, "amount");
    if (!v)
        return mandatory(k, "amount");
    int neg = v[0] == '-';
    if (dec_value(k, "amount", v + neg, CB_EX_AMOUNT_SCALE, "MAX_POSITION", &amount, &st))
        return st;
    if (neg)
        amount = -amount;
    /* cb_sim_deposit takes the lock itself */
    pthread_mutex_unlock(&k->sim->mu);
    int r = cb_sim_deposit(k->sim, asset, amount);
    pthread_mutex_lock(&k->sim->mu);
    if (r == CB_ERANGE)
        return fail(k, -1013, "Filter failure: MAX_POSITION (the balance would pass "
                              "92233720368.54775807)");
    if (r)
        return fail(k, -2010, "Account has insufficient balance for requested action.");
    sim_asset_t *a = sim_asset(k->sim, asset, 0);
    k->body = dump(json_pack("{s:s, s:o}", "asset", asset, "free", jfmt8(a ? a->free : 0, 8)));
    return 200;
}

static const route_t routes[] = {
    {"GET", "/api/v3/ping", 1, 0, 0, h_ping},
    {"GET", "/api/v3/time", 1, 0, 0, h_time},
    {"GET", "/api/v3/exchangeInfo", 20, 0, 0, h_exchange_info},
    {"GET", "/api/v3/klines", 2, 0, 0, h_klines},
    {"GET", "/api/v3/ticker/bookTicker", 2, 0, 0, h_book_ticker},
    {"GET", "/api/v3/account", 20, 1, 0, h_account},
    {"POST", "/api/v3/order", 1, 1, 1, h_order_new_plain},
    {"GET", "/api/v3/order", 4, 1, 0, h_order_get},
    {"DELETE", "/api/v3/order", 1, 1, 0, h_order_cancel},
    {"GET", "/api/v3/openOrders", 6, 1, 0, h_open_orders},
    {"GET", "/api/v3/myTrades", 20, 1, 0, h_my_trades},
    {"POST", "/api/v3/orderList/oco", 1, 1, 2, h_oco_new_plain},
    {"DELETE", "/api/v3/orderList", 1, 1, 0, h_oco_cancel},
    {"POST", "/sim/v1/advance", 0, 0, 0, h_sim_advance},
    {"POST", "/sim/v1/deposit", 0, 0, 0, h_sim_deposit},
};

/* Checks the API key, signature and timestamp of a SIGNED request. 0 or an HTTP status
 * with k->body set. */
static unsigned check_signed(call_t *k, struct MHD_Connection *c, const req_t *rq,
                             const char *query)
{
    cb_sim_t *sim = k->sim;
    const char *key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-MBX-APIKEY");
    char msg[160];
    int code = sim_check_key_locked(sim, key, msg, sizeof msg);
    if (code)
        return fail(k, code, msg);
    int64_t ts = 0, rw = 5000;
    int has_ts, has_rw;
    if (int_param(k->ps, "timestamp", &ts, &has_ts) || !has_ts)
        return mandatory(k, "timestamp");
    if (int_param(k->ps, "recvWindow", &rw, &has_rw) || rw <= 0)
        return bad_param(k, "recvWindow");
    char sig[1024] = "", sig2[1024] = "", sigd[1024];
    size_t ql = query ? strlen(query) : 0;
    char *total = malloc(ql + rq->body_len + 2);
    if (!total)
        return fail(k, -1000, "An unknown error occurred while processing the request.");
    int f1 = strip_signature(query ? query : "", ql, total, ql + 1, sig, sizeof sig);
    size_t tl = strlen(total);
    int f2 = strip_signature(rq->body ? rq->body : "", rq->body_len, total + tl,
                             rq->body_len + 1, sig2, sizeof sig2);
    if (!f1 && !f2) {
        free(total);
        return mandatory(k, "signature");
    }
    /* base64 signatures (Ed25519, RSA) arrive URL-encoded */
    const char *sv = f1 ? sig : sig2;
    url_decode(sv, strlen(sv), sigd, sizeof sigd);
    int ok = sim_signature_ok(sim, total, strlen(total), sigd);
    free(total);
    if (!ok)
        return fail(k, -1022, "Signature for this request is not valid.");
    code = sim_check_time_locked(sim, ts, rw, msg, sizeof msg);
    return code ? fail(k, code, msg) : 0;
}

/* ---- connections: the policy of sim_int.h -------------------------------------------- */

/* One REST connection, from MHD's "started" notice to its "closed" one. */
typedef struct conn {
    struct conn *next;
    int fd;
    uint32_t addr;      /* the client's IPv4 address */
    int waiting;        /* no complete request headers yet (again after each answer) */
    int cut;            /* already shut down by the policy */
    int64_t since_ns;   /* when it began waiting (monotonic) */
} conn_t;

typedef struct sim_conns {
    cb_sim_t *sim;
    pthread_mutex_t mu; /* guards the list; a conn in it still owns its open socket */
    conn_t *head;
    pthread_t watchdog;
    int running;
    volatile int stop;
} sim_conns_t;

/* Shuts a connection's socket down: MHD's thread sees the end of its input and closes it
 * (closing the descriptor here would race MHD reusing it). Under cs->mu. */
static void conn_cut(conn_t *k)
{
    k->cut = 1;
    shutdown(k->fd, SHUT_RDWR);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    sim_conns_t *cs = cls;
    if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        conn_t *k = *socket_context;
        if (!k)
            return;
        pthread_mutex_lock(&cs->mu);
        for (conn_t **pp = &cs->head; *pp; pp = &(*pp)->next)
            if (*pp == k) {
                *pp = k->next;
                break;
            }
        pthread_mutex_unlock(&cs->mu);
        free(k);
        *socket_context = NULL;
        return;
    }
    const union MHD_ConnectionInfo *fi =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    const union MHD_ConnectionInfo *ai =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    conn_t *k = calloc(1, sizeof *k);
    if (!k || !fi) {
        free(k);
        return; /* untracked: only MHD's own limits apply to it */
    }
    k->fd = fi->connect_fd;
    if (ai && ai->client_addr && ai->client_addr->sa_family == AF_INET) {
        struct sockaddr_in sin;
        memcpy(&sin, ai->client_addr, sizeof sin);
        k->addr = ntohl(sin.sin_addr.s_addr);
    }
    k->waiting = 1;
    k->since_ns = cb_monotonic_ns();
    pthread_mutex_lock(&cs->mu);
    /* An address with too many connections waiting for a request loses its oldest one. */
    conn_t *oldest = NULL;
    size_t n_waiting = 0;
    for (conn_t *o = cs->head; o; o = o->next)
        if (o->waiting && !o->cut && o->addr == k->addr) {
            n_waiting++;
            if (!oldest || o->since_ns < oldest->since_ns)
                oldest = o;
        }
    if (n_waiting >= SIM_WAITING_PER_ADDR && oldest)
        conn_cut(oldest);
    k->next = cs->head;
    cs->head = k;
    pthread_mutex_unlock(&cs->mu);
    *socket_context = k;
}

/* Marks the connection of c as waiting for a request (1) or serving one (0). */
static void conn_waiting(sim_conns_t *cs, struct MHD_Connection *c, int waiting)
{
    const union MHD_ConnectionInfo *i = MHD_get_connection_info(c,
                                                                MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    conn_t *k = i ? i->socket_context : NULL;
    if (!k)
        return;
    pthread_mutex_lock(&cs->mu);
    k->waiting = waiting;
    k->since_ns = cb_monotonic_ns();
    pthread_mutex_unlock(&cs->mu);
}

/* Closes the connections whose request headers are late, ten times a second. */
static void *watchdog(void *arg)
{
    sim_conns_t *cs = arg;
    const struct timespec tick = {0, 100 * 1000 * 1000};
    while (!cs->stop) {
        nanosleep(&tick, NULL);
        int64_t now = cb_monotonic_ns();
        size_t n_cut = 0;
        pthread_mutex_lock(&cs->mu);
        for (conn_t *k = cs->head; k; k = k->next)
            if (k->waiting && !k->cut && now - k->since_ns > (int64_t)SIM_HEADER_MS * 1000000) {
                conn_cut(k);
                n_cut++;
            }
        pthread_mutex_unlock(&cs->mu);
        if (n_cut)
            sim_log(cs->sim, "closed %zu connection%s that sent no complete request within %d s",
                    n_cut, n_cut == 1 ? "" : "s", SIM_HEADER_MS / 1000);
    }
    return NULL;
}

unsigned sim_raise_fd_limit(unsigned want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1024;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
        struct rlimit nl = rl;
        nl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &nl) == 0)
            rl = nl;
    }
    return rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1u << 30 ? 1u << 30
                                                                   : (unsigned)rl.rlim_cur;
}

static int64_t wall_ms(void) { return cb_now_ms(); }

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls)
{
    (void)version;
    cb_sim_t *sim = cls;
    req_t *rq = *con_cls;
    if (!rq)
        return MHD_NO;
    if (!rq->started) {
        rq->started = 1;
        conn_waiting(sim->conns, c, 0);
        return MHD_YES;
    }
    if (*upload_size) {
        if (rq->body_len + *upload_size > MAX_BODY)
            return MHD_NO;
        char *nb = realloc(rq->body, rq->body_len + *upload_size + 1);
        if (!nb)
            return MHD_NO;
        memcpy(nb + rq->body_len, upload_data, *upload_size);
        rq->body = nb;
        rq->body_len += *upload_size;
        rq->body[rq->body_len] = '\0';
        *upload_size = 0;
        return MHD_YES;
    }
    const char *q = strchr(rq->uri ? rq->uri : "", '?');
    const char *query = q ? q + 1 : NULL;
    params_t ps;
    memset(&ps, 0, sizeof ps);
    if (query)
        params_add(&ps, query, strlen(query));
    if (rq->body_len)
        params_add(&ps, rq->body, rq->body_len);
    call_t k = {.sim = sim, .ps = &ps};

    if (strcmp(url, "/sim/v1/state") == 0 && strcmp(method, "GET") == 0)
        return reply(sim, c, 200, cb_sim_state_json(sim), -1, 0);

    const route_t *rt = NULL;
    int path_known = 0;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (strcmp(url, routes[i].path) == 0) {
            path_known = 1;
            if (strcmp(method, routes[i].method) == 0)
                rt = &routes[i];
        }
    if (!rt) {
        sim_log(sim, "%s %s: not served", method, url);
        return reply(sim, c, path_known ? 405 : 404,
                     err_body(-1000, path_known ? "Method not allowed." : "Not found."), -1, 0);
    }
    int api = strncmp(url, "/api/", 5) == 0;
    pthread_mutex_lock(&sim->mu);
    /* Every /api request draws the same number of random values, so that a fault run is
     * repeatable whatever the answers were. */
    double r429 = 0, r5xx = 0, rdelay = 0, rlost = 0, rrej = 0;
    if (api) {
        r429 = sim_rand(sim);
        r5xx = sim_rand(sim);
        rdelay = sim_rand(sim);
        rlost = sim_rand(sim);
        rrej = sim_rand(sim);
    }
    /* Request weight in the current (real-time) minute. */
    int64_t minute = wall_ms() / 60000;
    if (minute != sim->weight_minute) {
        sim->weight_minute = minute;
        sim->weight_used = 0;
    }
    unsigned status;
    long retry_after = 0;
    int weight_hdr = api ? sim->weight_used : -1;
    const sim_faults_t *f = &sim->faults;
    if (api && (sim->burst_left > 0 || r429 < f->p429)) {
        sim->burst_left = sim->burst_left > 0 ? sim->burst_left - 1 : f->burst429 - 1;
        sim->counts.http429++;
        status = 429;
        retry_after = 1;
        k.body = err_body(-1003, "Too many requests; IP banned for 1 second (simulated).");
        pthread_mutex_unlock(&sim->mu);
        sim_log(sim, "%s %s: 429 (fault)", method, url);
        return reply(sim, c, status, k.body, weight_hdr, retry_after);
    }
    if (api && sim->weight_used + rt->weight > sim->weight_limit) {
        retry_after = 60 - (long)((wall_ms() / 1000) % 60);
        char m[160];
        snprintf(m, sizeof m, "Too many requests; current limit of IP is %d requests per "
                              "minute.", sim->weight_limit);
        k.body = err_body(-1003, m);
        pthread_mutex_unlock(&sim->mu);
        sim_log(sim, "%s %s: 429 (weight limit)", method, url);
        return reply(sim, c, 429, k.body, weight_hdr, retry_after);
    }
    if (api) {
        sim->weight_used += rt->weight;
        weight_hdr = sim->weight_used;
    }
    if (api && r5xx < f->p5xx) {
        sim->counts.http5xx++;
        pthread_mutex_unlock(&sim->mu);
        sim_log(sim, "%s %s: 503 (fault)", method, url);
        return reply(sim, c, 503,
                     err_body(-1001, "Internal error; unable to process your request. Please "
                                     "try again."),
                     weight_hdr, 0);
    }
    long delay = 0;
    if (api && rdelay < f->pdelay) {
        sim->counts.delay++;
        delay = f->delay_ms;
    }
    pthread_mutex_unlock(&sim->mu);
    if (delay)
        sleep_ms(delay);

    pthread_mutex_lock(&sim->mu);
    sim_sync_locked(sim);
    status = 0;
    if (rt->is_signed)
        status = check_signed(&k, c, rq, query);
    if (!status)
        status = rt->is_order == 1   ? h_order_new(&k, rrej < f->preject)
                 : rt->is_order == 2 ? h_oco_new(&k, rrej < f->preject)
                                     : rt->fn(&k);
    long lost = 0;
    if (rt->is_order && status == 200 && rlost < f->plost) {
        sim->counts.lost++;
        lost = f->lost_ms;
    }
    pthread_mutex_unlock(&sim->mu);
    if (status != 200)
        sim_log(sim, "%s %s: %u %s", method, url, status, k.body ? k.body : "");
    if (lost) {
        /* The order was accepted; its answer arrives late (after the client gave up). */
        sim_log(sim, "%s %s: answer held %ld ms after the order was accepted (fault)", method,
                url, lost);
        sleep_ms(lost);
    }
    return reply(sim, c, status, k.body, weight_hdr, retry_after);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    (void)c;
    req_t *rq = calloc(1, sizeof *rq);
    if (rq)
        rq->uri = strdup(uri ? uri : "");
    return rq;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
    cb_sim_t *sim = cls;
    (void)toe;
    conn_waiting(sim->conns, c, 1); /* kept alive: the next request's headers are awaited */
    req_t *rq = *con_cls;
    if (rq) {
        free(rq->uri);
        free(rq->body);
        free(rq);
        *con_cls = NULL;
    }
}

int sim_http_start(cb_sim_t *sim, cb_diag_t *diag)
{
    const char *listen = sim->opts.listen ? sim->opts.listen : "127.0.0.1:0";
    char host[64];
    const char *colon = strrchr(listen, ':');
    if (!colon || (size_t)(colon - listen) >= sizeof host || colon == listen)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "--listen",
                           "'%s' is not ADDRESS:PORT (for example 127.0.0.1:8765)", listen);
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end || port < 0 || port > 65535)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "--listen", "bad port in '%s'", listen);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    const char *ip = strcmp(host, "localhost") == 0 ? "127.0.0.1" : host;
    if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "--listen",
                           "'%s' is not an IPv4 address (use 127.0.0.1)", host);
    snprintf(sim->host, sizeof sim->host, "%s", ip);
    sim_conns_t *cs = calloc(1, sizeof *cs);
    if (!cs)
        return cb_diag_set(diag, CB_ENOMEM, NULL, 0, 0, NULL, NULL);
    cs->sim = sim;
    pthread_mutex_init(&cs->mu, NULL);
    sim->conns = cs;
    /* Each connection is a descriptor (and its own thread): the REST and WebSocket limits
     * must fit in the process's limit, beside whatever else the process has open. poll, not
     * select, so that descriptors above 1023 work. */
    unsigned fds = sim_raise_fd_limit(2 * SIM_CONNS_MAX + 256);
    unsigned limit = fds / 2 > SIM_CONNS_MAX ? SIM_CONNS_MAX : fds / 2;
    unsigned per_addr = limit / 2 > SIM_CONNS_PER_ADDR ? SIM_CONNS_PER_ADDR : limit / 2;
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD, 0, NULL, NULL,
        on_request, sim, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, sim, MHD_OPTION_NOTIFY_COMPLETED, on_done, sim,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, cs, MHD_OPTION_CONNECTION_LIMIT, limit,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_addr, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)(SIM_HEADER_MS / 1000 * 3), MHD_OPTION_END);
    if (!d) {
        pthread_mutex_destroy(&cs->mu);
        free(cs);
        sim->conns = NULL;
        return cb_diag_set(diag, CB_EIO, NULL, 0, 0, "--listen",
                           "cannot listen on %s (address in use or not available)", listen);
    }
    if (pthread_create(&cs->watchdog, NULL, watchdog, cs) != 0) {
        MHD_stop_daemon(d);
        pthread_mutex_destroy(&cs->mu);
        free(cs);
        sim->conns = NULL;
        return cb_diag_set(diag, CB_EIO, NULL, 0, 0, NULL, "cannot start a thread");
    }
    cs->running = 1;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    sim->port = info ? info->port : (int)port;
    sim->daemon = d;
    uint32_t a = ntohl(sa.sin_addr.s_addr);
    if ((a >> 24) != 127)
        sim_log(sim, "warning: listening on %s, which is not a loopback address", host);
    sim_log(sim, "listening on http://%s:%d (%zu pair%s, timeframe %s)", ip, sim->port,
            sim->n_mk, sim->n_mk == 1 ? "" : "s", sim->tf.name);
    return 0;
}

void sim_http_stop(cb_sim_t *sim)
{
    sim_conns_t *cs = sim->conns;
    if (cs && cs->running) {
        cs->stop = 1;
        pthread_join(cs->watchdog, NULL);
        cs->running = 0;
    }
    if (sim->daemon) {
        MHD_stop_daemon(sim->daemon); /* notifies every connection closed, emptying cs */
        sim->daemon = NULL;
    }
    if (cs) {
        pthread_mutex_destroy(&cs->mu);
        free(cs);
        sim->conns = NULL;
    }
}
