/* Binance spot JSON messages (rest-api.md, web-socket-streams.md, user-data-stream.md,
 * filters.md) parsed with jansson into exchange types. Every field is type-checked; amounts
 * go from decimal strings straight to fixed point, never through double. */
#include "exchange/binance_int.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct jx {
    const char *msg;  /* message name for diagnostics */
    cb_diag_t *diag;
} jx_t;

static int jfail(jx_t *x, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int jfail(jx_t *x, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cb_diag_vset(x->diag, CB_EPARSE, x->msg, 0, 0, path, fmt, ap);
    va_end(ap);
    return CB_EPARSE;
}

static json_t *jload(jx_t *x, const char *body, size_t len)
{
    json_error_t e;
    json_t *root = json_loadb(body ? body : "", body ? len : 0,
                              JSON_REJECT_DUPLICATES, &e);
    if (!root)
        cb_diag_set(x->diag, CB_EPARSE, x->msg, e.line > 0 ? e.line : 0,
                    e.column > 0 ? e.column : 0, NULL, "invalid JSON: %s", e.text);
    return root;
}

static const char *tname(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

static void subpath(char *buf, size_t size, const char *base, const char *key)
{
    if (base && *base)
        snprintf(buf, size, "%s.%s", base, key);
    else
        snprintf(buf, size, "%s", key);
}

static int jstr(jx_t *x, json_t *o, const char *base, const char *key, const char **out)
{
    char p[96];
    subpath(p, sizeof p, base, key);
    json_t *v = json_object_get(o, key);
    if (!v)
        return jfail(x, p, "missing %s", "field");
    if (!json_is_string(v))
        return jfail(x, p, "expected a string, got %s", tname(v));
    *out = json_string_value(v);
    return 0;
}

static int jint_v(jx_t *x, json_t *v, const char *p, int64_t *out)
{
    if (!v)
        return jfail(x, p, "missing %s", "field");
    if (!json_is_integer(v))
        return jfail(x, p, "expected an integer, got %s", tname(v));
    *out = (int64_t)json_integer_value(v);
    return 0;
}

static int jint(jx_t *x, json_t *o, const char *base, const char *key, int64_t *out)
{
    char p[96];
    subpath(p, sizeof p, base, key);
    return jint_v(x, json_object_get(o, key), p, out);
}

/* An optional integer: missing or null leaves *out alone. */
static int jint_opt(jx_t *x, json_t *o, const char *base, const char *key, int64_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return 0;
    return jint(x, o, base, key, out);
}

static int jbool_opt(jx_t *x, json_t *o, const char *base, const char *key, int *out)
{
    char p[96];
    json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_boolean(v)) {
        subpath(p, sizeof p, base, key);
        return jfail(x, p, "expected true or false, got %s", tname(v));
    }
    *out = json_is_true(v);
    return 0;
}

int cb_bn_dec_round(const char *s, int scale, cb_round_t mode, int64_t *out)
{
    if (!s || scale < 0 || scale > 18)
        return CB_EINVAL;
    const char *dot = strchr(s, '.');
    if (!dot)
        return cb_dec_parse(s, (size_t)-1, scale, out);
    size_t keep = (size_t)(dot - s) + 1 + (size_t)scale;
    size_t n = strlen(s);
    if (n <= keep)
        return cb_dec_parse(s, n, scale, out);
    int extra = 0;
    for (size_t i = keep; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return CB_EPARSE;
        extra |= s[i] != '0';
    }
    int r = cb_dec_parse(s, scale == 0 ? keep - 1 : keep, scale, out);
    if (r)
        return r;
    if (extra && mode == CB_ROUND_UP && *out >= 0) {
        if (*out == INT64_MAX)
            return CB_ERANGE;
        *out += 1;
    } else if (extra && mode == CB_ROUND_NEAREST && s[keep] >= '5' && *out >= 0) {
        if (*out == INT64_MAX)
            return CB_ERANGE;
        *out += 1;
    }
    return 0;
}

int cb_bn_dec_scale(const char *s)
{
    int64_t v;
    if (!s || cb_dec_parse(s, (size_t)-1, 18, &v) != 0) {
        /* Values too large for 18 decimals: count the decimals directly. */
        if (!s)
            return -2;
    }
    const char *dot = strchr(s, '.');
    int zero = 1, sc = 0;
    for (const char *p = s; *p; p++)
        if (*p >= '1' && *p <= '9')
            zero = 0;
    if (zero)
        return -1;
    if (!dot)
        return 0;
    int i = 0;
    for (const char *p = dot + 1; *p; p++) {
        i++;
        if (*p >= '1' && *p <= '9')
            sc = i;
        else if (*p != '0')
            return -2;
    }
    return sc;
}

/* A decimal string field at `scale` (extra non-zero decimals are an error). */
static int jdec(jx_t *x, json_t *o, const char *base, const char *key, int scale, int64_t *out)
{
    const char *s;
    char p[96];
    int r = jstr(x, o, base, key, &s);
    if (r)
        return r;
    r = cb_dec_parse(s, (size_t)-1, scale, out);
    if (r == 0)
        return 0;
    subpath(p, sizeof p, base, key);
    cb_diag_set(x->diag, CB_EPARSE, x->msg, 0, 0, p,
                r == CB_ERANGE ? "\"%.40s\" does not fit %d decimals"
                               : "expected a decimal number, got \"%.40s\"",
                s, scale);
    return CB_EPARSE;
}

static int jdec_opt(jx_t *x, json_t *o, const char *base, const char *key, int scale,
                    int64_t *out)
{
    if (!json_object_get(o, key))
        return 0;
    return jdec(x, o, base, key, scale, out);
}

/* A decimal string as a double (candles). */
static int jnum_str_v(jx_t *x, json_t *v, const char *p, double *out)
{
    if (!v)
        return jfail(x, p, "missing %s", "field");
    if (!json_is_string(v))
        return jfail(x, p, "expected a decimal string, got %s", tname(v));
    const char *s = json_string_value(v);
    int64_t tmp;
    /* Validate the syntax exactly (plain decimal), then convert. */
    if (cb_dec_parse(s, (size_t)-1, 18, &tmp) == CB_EPARSE || s[0] == '\0' || s[0] == '-')
        return jfail(x, p, "expected a non-negative decimal number, got \"%.40s\"", s);
    char *end;
    *out = strtod(s, &end);
    if (*end != '\0')
        return jfail(x, p, "expected a non-negative decimal number, got \"%.40s\"", s);
    return 0;
}

static int copy_field(jx_t *x, const char *p, char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        return jfail(x, p, "value too long (%s)", "over the field size");
    memcpy(dst, src, n + 1);
    return 0;
}

static const cb_pair_info_t *jsymbol(jx_t *x, json_t *o, const char *base, const char *key,
                                     const cb_pair_info_t *pairs, size_t n_pairs)
{
    const char *s;
    char p[96];
    if (jstr(x, o, base, key, &s))
        return NULL;
    const cb_pair_info_t *pi = NULL;
    for (size_t i = 0; i < n_pairs; i++)
        if (strcmp(pairs[i].symbol, s) == 0)
            pi = &pairs[i];
    if (!pi) {
        subpath(p, sizeof p, base, key);
        cb_diag_set(x->diag, CB_EPARSE, x->msg, 0, 0, p,
                    "unknown symbol \"%.32s\" (not in the exchange info)", s);
    }
    return pi;
}

/* ---- error and time ----------------------------------------------------------------- */

int cb_bn_parse_error(const char *body, size_t len, int *code, char *msg, size_t msg_size)
{
    json_error_t e;
    json_t *root = json_loadb(body ? body : "", body ? len : 0, 0, &e);
    if (!root)
        return CB_EPARSE;
    json_t *c = json_object_get(root, "code"), *m = json_object_get(root, "msg");
    int r = CB_EPARSE;
    if (json_is_integer(c) && json_is_string(m) && json_integer_value(c) > -100000 &&
        json_integer_value(c) < 100000) {
        *code = (int)json_integer_value(c);
        if (msg && msg_size)
            snprintf(msg, msg_size, "%s", json_string_value(m));
        r = 0;
    }
    json_decref(root);
    return r;
}

int cb_bn_parse_server_time(const char *body, size_t len, int64_t *out, cb_diag_t *diag)
{
    jx_t x = {"time", diag};
    json_t *root = jload(&x, body, len);
    if (!root)
        return CB_EPARSE;
    int r = json_is_object(root) ? jint(&x, root, "", "serverTime", out)
                                 : jfail(&x, NULL, "expected %s", "an object");
    json_decref(root);
    return r;
}

/* ---- exchangeInfo ------------------------------------------------------------------- */

static int parse_filters(jx_t *x, json_t *filters, const char *base, cb_pair_info_t *pi,
                         const char *tick_s, const char *step_s)
{
    char p[96];
    size_t i;
    json_t *f;
    (void)tick_s;
    (void)step_s;
    int notional_seen = 0;
    json_array_foreach(filters, i, f)
    {
        snprintf(p, sizeof p, "%s.filters[%zu]", base, i);
        if (!json_is_object(f))
            return jfail(x, p, "expected an object, got %s", tname(f));
        const char *type;
        if (jstr(x, f, p, "filterType", &type))
            return CB_EPARSE;
        int r = 0;
        if (strcmp(type, "PRICE_FILTER") == 0) {
            const char *mn, *mx;
            if ((r = jstr(x, f, p, "minPrice", &mn)) || (r = jstr(x, f, p, "maxPrice", &mx)))
                return r;
            if (cb_bn_dec_round(mn, pi->price_scale, CB_ROUND_UP, &pi->min_price) ||
                cb_bn_dec_round(mx, pi->price_scale, CB_ROUND_DOWN, &pi->max_price)) {
                char q[112];
                snprintf(q, sizeof q, "%s.minPrice", p);
                return jfail(x, q, "expected decimal numbers in %s", "minPrice/maxPrice");
            }
        } else if (strcmp(type, "LOT_SIZE") == 0) {
            const char *mn, *mx;
            if ((r = jstr(x, f, p, "minQty", &mn)) || (r = jstr(x, f, p, "maxQty", &mx)))
                return r;
            if (cb_bn_dec_round(mn, pi->qty_scale, CB_ROUND_UP, &pi->min_qty) ||
                cb_bn_dec_round(mx, pi->qty_scale, CB_ROUND_DOWN, &pi->max_qty)) {
                char q[112];
                snprintf(q, sizeof q, "%s.minQty", p);
                return jfail(x, q, "expected decimal numbers in %s", "minQty/maxQty");
            }
        } else if (strcmp(type, "NOTIONAL") == 0 || strcmp(type, "MIN_NOTIONAL") == 0) {
            const char *mn;
            if ((r = jstr(x, f, p, "minNotional", &mn)))
                return r;
            int ns = pi->price_scale + pi->qty_scale;
            if (ns > 18)
                ns = 18;
            int64_t v;
            if (cb_bn_dec_round(mn, ns, CB_ROUND_UP, &v)) {
                char q[112];
                snprintf(q, sizeof q, "%s.minNotional", p);
                return jfail(x, q, "expected a decimal number, got \"%.40s\"", mn);
            }
            int applies = strcmp(type, "NOTIONAL") == 0 ? 1 : 0;
            if ((r = jbool_opt(x, f, p, strcmp(type, "NOTIONAL") == 0 ? "applyMinToMarket"
                                                                       : "applyToMarket",
                               &applies)))
                return r;
            /* NOTIONAL supersedes MIN_NOTIONAL when a symbol lists both. */
            if (!notional_seen || strcmp(type, "NOTIONAL") == 0) {
                pi->min_notional = v;
                pi->min_notional_market = applies;
            }
            notional_seen = 1;
        }
    }
    return 0;
}

/* Finds a filter's string field before the filters are parsed (scales come from them). */
static const char *filter_field(json_t *filters, const char *type, const char *key)
{
    size_t i;
    json_t *f;
    json_array_foreach(filters, i, f)
    {
        json_t *t = json_object_get(f, "filterType");
        if (json_is_string(t) && strcmp(json_string_value(t), type) == 0) {
            json_t *v = json_object_get(f, key);
            return json_is_string(v) ? json_string_value(v) : NULL;
        }
    }
    return NULL;
}

static int parse_symbol(jx_t *x, json_t *s, const char *p, cb_pair_info_t *pi)
{
    const char *sym, *status, *base, *quote;
    int r;
    memset(pi, 0, sizeof *pi);
    if (!json_is_object(s))
        return jfail(x, p, "expected an object, got %s", tname(s));
    if ((r = jstr(x, s, p, "symbol", &sym)) || (r = jstr(x, s, p, "status", &status)) ||
        (r = jstr(x, s, p, "baseAsset", &base)) || (r = jstr(x, s, p, "quoteAsset", &quote)))
        return r;
    char q[112];
    snprintf(q, sizeof q, "%s.symbol", p);
    if ((r = copy_field(x, q, pi->symbol, sizeof pi->symbol, sym)))
        return r;
    snprintf(q, sizeof q, "%s.baseAsset", p);
    if (strlen(base) == 0 || (r = copy_field(x, q, pi->base, sizeof pi->base, base)))
        return r ? r : jfail(x, q, "empty %s", "asset");
    snprintf(q, sizeof q, "%s.quoteAsset", p);
    if (strlen(quote) == 0 || (r = copy_field(x, q, pi->quote, sizeof pi->quote, quote)))
        return r ? r : jfail(x, q, "empty %s", "asset");
    snprintf(pi->pair, sizeof pi->pair, "%s/%s", base, quote);
    pi->trading = strcmp(status, "TRADING") == 0;
    json_t *filters = json_object_get(s, "filters");
    snprintf(q, sizeof q, "%s.filters", p);
    if (!json_is_array(filters))
        return jfail(x, q, "expected an array, got %s", filters ? tname(filters) : "nothing");
    int64_t prec = 8;
    if ((r = jint_opt(x, s, p, "quotePrecision", &prec)))
        return r;
    const char *tick_s = filter_field(filters, "PRICE_FILTER", "tickSize");
    const char *step_s = filter_field(filters, "LOT_SIZE", "stepSize");
    int ps = tick_s ? cb_bn_dec_scale(tick_s) : -1;
    int qs = step_s ? cb_bn_dec_scale(step_s) : -1;
    if (ps < -1 || qs < -1) {
        snprintf(q, sizeof q, "%s.filters", p);
        return jfail(x, q, "tickSize or stepSize is not a decimal number%s", "");
    }
    /* A zero (disabled) tick or step falls back to the asset precision. */
    pi->price_scale = ps >= 0 ? ps : (prec >= 0 && prec <= 8 ? (int)prec : 8);
    pi->qty_scale = qs >= 0 ? qs : 8;
    if (pi->price_scale > 12 || pi->qty_scale > 12) {
        snprintf(q, sizeof q, "%s.filters", p);
        return jfail(x, q, "tickSize or stepSize has more than %s decimals", "12");
    }
    pi->tick = 1;
    pi->step = 1;
    if (ps >= 0 && cb_dec_parse(tick_s, (size_t)-1, pi->price_scale, &pi->tick))
        return jfail(x, q, "tickSize \"%.40s\" is out of range", tick_s);
    if (qs >= 0 && cb_dec_parse(step_s, (size_t)-1, pi->qty_scale, &pi->step))
        return jfail(x, q, "stepSize \"%.40s\" is out of range", step_s);
    if (pi->tick <= 0 || pi->step <= 0)
        return jfail(x, q, "tickSize and stepSize must be positive%s", "");
    return parse_filters(x, filters, p, pi, tick_s, step_s);
}

int cb_bn_parse_exchange_info(const char *body, size_t len, cb_pair_info_t **out, size_t *n,
                              cb_diag_t *diag)
{
    jx_t x = {"exchangeInfo", diag};
    *out = NULL;
    *n = 0;
    json_t *root = jload(&x, body, len);
    if (!root)
        return CB_EPARSE;
    int r = 0;
    json_t *syms = json_object_get(root, "symbols");
    if (!json_is_object(root) || !json_is_array(syms)) {
        r = jfail(&x, "symbols", "expected an array of symbols%s", "");
        goto done;
    }
    size_t cnt = json_array_size(syms);
    cb_pair_info_t *arr = calloc(cnt ? cnt : 1, sizeof *arr);
    if (!arr) {
        r = cb_diag_set(diag, CB_ENOMEM, x.msg, 0, 0, NULL, NULL);
        goto done;
    }
    for (size_t i = 0; i < cnt; i++) {
        char p[48];
        snprintf(p, sizeof p, "symbols[%zu]", i);
        if ((r = parse_symbol(&x, json_array_get(syms, i), p, &arr[i]))) {
            free(arr);
            goto done;
        }
    }
    *out = arr;
    *n = cnt;
done:
    json_decref(root);
    return r;
}

/* ---- klines ------------------------------------------------------------------------- */

int cb_bn_parse_klines(const char *body, size_t len, int64_t now_ms, cb_ex_candle_t **out,
                       size_t *n, cb_diag_t *diag)
{
    jx_t x = {"klines", diag};
    *out = NULL;
    *n = 0;
    json_t *root = jload(&x, body, len);
    if (!root)
        return CB_EPARSE;
    int r = 0;
    if (!json_is_array(root)) {
        r = jfail(&x, NULL, "expected an array of klines, got %s", tname(root));
        goto done;
    }
    size_t cnt = json_array_size(root);
    cb_ex_candle_t *arr = calloc(cnt ? cnt : 1, sizeof *arr);
    if (!arr) {
        r = cb_diag_set(diag, CB_ENOMEM, x.msg, 0, 0, NULL, NULL);
        goto done;
    }
    for (size_t i = 0; i < cnt && !r; i++) {
        json_t *k = json_array_get(root, i);
        char p[64];
        snprintf(p, sizeof p, "[%zu]", i);
        if (!json_is_array(k) || json_array_size(k) < 7) {
            r = jfail(&x, p, "expected an array of at least 7 values, got %s",
                      json_is_array(k) ? "a shorter array" : tname(k));
            break;
        }
        cb_ex_candle_t *c = &arr[i];
        int64_t close_time;
        double *dst[5] = {&c->open, &c->high, &c->low, &c->close, &c->volume};
        snprintf(p, sizeof p, "[%zu][0]", i);
        if ((r = jint_v(&x, json_array_get(k, 0), p, &c->time_ms)))
            break;
        for (size_t j = 0; j < 5 && !r; j++) {
            snprintf(p, sizeof p, "[%zu][%zu]", i, j + 1);
            r = jnum_str_v(&x, json_array_get(k, j + 1), p, dst[j]);
        }
        if (r)
            break;
        snprintf(p, sizeof p, "[%zu][6]", i);
        if ((r = jint_v(&x, json_array_get(k, 6), p, &close_time)))
            break;
        if (i > 0 && c->time_ms <= arr[i - 1].time_ms) {
            snprintf(p, sizeof p, "[%zu][0]", i);
            r = jfail(&x, p, "open times must increase (%s)", "klines out of order");
            break;
        }
        if (c->high < c->low || close_time < c->time_ms) {
            snprintf(p, sizeof p, "[%zu]", i);
            r = jfail(&x, p, "inconsistent kline (%s)", "high below low or close before open");
            break;
        }
        c->closed = now_ms == 0 || close_time < now_ms;
    }
    if (r) {
        free(arr);
        goto done;
    }
    *out = arr;
    *n = cnt;
done:
    json_decref(root);
    return r;
}

/* ---- orders ------------------------------------------------------------------------- */

static int parse_enum(jx_t *x, json_t *o, const char *base, const char *key, int which,
                      int *out)
{
    const char *s;
    char p[96];
    int r = jstr(x, o, base, key, &s);
    if (r)
        return r;
    if (which == 0)
        r = cb_ex_side_parse(s, (cb_ex_side_t *)out);
    else if (which == 1)
        r = cb_ex_order_type_parse(s, (cb_ex_order_type_t *)out);
    else
        r = cb_ex_status_parse(s, (cb_ex_status_t *)out);
    if (r) {
        subpath(p, sizeof p, base, key);
        cb_diag_set(x->diag, CB_EPARSE, x->msg, 0, 0, p, "unsupported value \"%.32s\"", s);
        return CB_EPARSE;
    }
    return 0;
}

/* An optional timeInForce ("GTC", "IOC", "FOK"). */
static int tif_opt(jx_t *x, json_t *o, const char *base, const char *key, cb_ex_tif_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return 0;
    char p[96];
    subpath(p, sizeof p, base, key);
    if (!json_is_string(v))
        return jfail(x, p, "expected a string, got %s", tname(v));
    if (cb_ex_tif_parse(json_string_value(v), out))
        return jfail(x, p, "unsupported value \"%.32s\"", json_string_value(v));
    return 0;
}

static int parse_fill_obj(jx_t *x, json_t *f, const char *p, const cb_pair_info_t *pi,
                          cb_ex_fill_t *out)
{
    int r;
    const char *asset;
    if (!json_is_object(f))
        return jfail(x, p, "expected an object, got %s", tname(f));
    if ((r = jdec(x, f, p, "price", pi->price_scale, &out->price)) ||
        (r = jdec(x, f, p, "qty", pi->qty_scale, &out->qty)) ||
        (r = jdec(x, f, p, "commission", CB_EX_AMOUNT_SCALE, &out->fee)) ||
        (r = jstr(x, f, p, "commissionAsset", &asset)))
        return r;
    char q[112];
    snprintf(q, sizeof q, "%s.commissionAsset", p);
    return copy_field(x, q, out->fee_asset, sizeof out->fee_asset, asset);
}

static int parse_order_obj(jx_t *x, json_t *o, const char *p, const cb_pair_info_t *pairs,
                           size_t n_pairs, cb_ex_order_t *out, cb_ex_fill_t **fills, size_t *n_fills)
{
    int r;
    const char *coid;
    memset(out, 0, sizeof *out);
    if (!json_is_object(o))
        return jfail(x, p, "expected an object, got %s", tname(o));
    const cb_pair_info_t *pi = jsymbol(x, o, p, "symbol", pairs, n_pairs);
    if (!pi)
        return CB_EPARSE;
    memcpy(out->pair, pi->pair, sizeof out->pair);
    /* A cancel response carries the cancelled order's id in origClientOrderId. */
    const char *ck = json_object_get(o, "origClientOrderId") ? "origClientOrderId"
                                                             : "clientOrderId";
    char q[112];
    subpath(q, sizeof q, p, ck);
    if ((r = jstr(x, o, p, ck, &coid)) ||
        (r = copy_field(x, q, out->client_order_id, sizeof out->client_order_id, coid)) ||
        (r = jint(x, o, p, "orderId", &out->order_id)) ||
        (r = parse_enum(x, o, p, "side", 0, (int *)&out->side)) ||
        (r = parse_enum(x, o, p, "type", 1, (int *)&out->type)) ||
        (r = parse_enum(x, o, p, "status", 2, (int *)&out->status)) ||
        (r = jdec(x, o, p, "origQty", pi->qty_scale, &out->qty)) ||
        (r = jdec(x, o, p, "executedQty", pi->qty_scale, &out->executed_qty)) ||
        (r = jdec(x, o, p, "price", pi->price_scale, &out->price)) ||
        (r = jdec_opt(x, o, p, "stopPrice", pi->price_scale, &out->stop_price)))
        return r;
    int ns = pi->price_scale + pi->qty_scale;
    const char *cq;
    if (json_object_get(o, "cummulativeQuoteQty")) {
        if ((r = jstr(x, o, p, "cummulativeQuoteQty", &cq)))
            return r;
        if (cb_bn_dec_round(cq, ns > 18 ? 18 : ns, CB_ROUND_NEAREST, &out->quote_qty)) {
            subpath(q, sizeof q, p, "cummulativeQuoteQty");
            return jfail(x, q, "expected a decimal number, got \"%.40s\"", cq);
        }
    }
    int64_t t = 0;
    if ((r = jint_opt(x, o, p, "time", &t)) || (r = jint_opt(x, o, p, "transactTime", &t)))
        return r;
    out->created_ms = t;
    out->updated_ms = t;
    if ((r = jint_opt(x, o, p, "updateTime", &out->updated_ms)) ||
        (r = jint_opt(x, o, p, "orderListId", &out->order_list_id)) ||
        (r = tif_opt(x, o, p, "timeInForce", &out->time_in_force)))
        return r;
    if (out->order_list_id < 0)
        out->order_list_id = 0;
    if (out->executed_qty > out->qty || out->qty < 0 || out->executed_qty < 0) {
        subpath(q, sizeof q, p, "executedQty");
        return jfail(x, q, "executed quantity is above the order quantity%s", "");
    }
    if (fills) {
        *fills = NULL;
        *n_fills = 0;
        json_t *fa = json_object_get(o, "fills");
        if (!fa)
            return 0;
        subpath(q, sizeof q, p, "fills");
        if (!json_is_array(fa))
            return jfail(x, q, "expected an array, got %s", tname(fa));
        size_t cnt = json_array_size(fa);
        if (cnt == 0)
            return 0;
        cb_ex_fill_t *arr = calloc(cnt, sizeof *arr);
        if (!arr)
            return cb_diag_set(x->diag, CB_ENOMEM, x->msg, 0, 0, NULL, NULL);
        for (size_t i = 0; i < cnt; i++) {
            char fp[160];
            snprintf(fp, sizeof fp, "%.120s[%zu]", q, i);
            cb_ex_fill_t *f = &arr[i];
            if ((r = parse_fill_obj(x, json_array_get(fa, i), fp, pi, f)) ||
                (r = jint_opt(x, json_array_get(fa, i), fp, "tradeId", &f->trade_id))) {
                free(arr);
                return r;
            }
            f->order_id = out->order_id;
            memcpy(f->client_order_id, out->client_order_id, sizeof f->client_order_id);
            memcpy(f->pair, out->pair, sizeof f->pair);
            f->side = out->side;
            f->time_ms = out->updated_ms;
        }
        *fills = arr;
        *n_fills = cnt;
    }
    return 0;
}

int cb_bn_parse_order(const char *body, size_t len, const cb_pair_info_t *pairs, size_t n_pairs,
                      cb_ex_order_t *out, cb_ex_fill_t **fills, size_t *n_fills, cb_diag_t *diag)
{
    jx_t x = {"order", diag};
    if (fills) {
        *fills = NULL;
        *n_fills = 0;
    }
    json_t *root = jload(&x, body, len);
    if (!root)
        return CB_EPARSE;
    int r = parse_order_obj(&x, root, "", pairs, n_pairs, out, fills, n_fills);
    json_decref(root);
    return r;
}

int cb_bn_parse_order_list(const char *body, size_t len, const cb_pair_info_t *pairs,
                           size_t n_pairs, cb_ex_oco_t *out, cb_diag_t *diag)
{
    jx_t x = {"orderList", diag};
    memset(out, 0, sizeof *out);
    json_t *root = jload(&x, body, len);
    if (!root)
        return CB_EPARSE;
    int r;
    const char *cid, *st;
    json_t *reps = json_object_get(root, "orderReports");
    if (!json_is_object(root)) {
        r = jfail(&x, NULL, "expected an object, got %s", tname(root));
        goto done;
    }
    if ((r = jint(&x, root, "", "orderListId", &out->order_list_id)) ||
        (r = jstr(&x, root, "", "listClientOrderId", &cid)) ||
        (r = copy_field(&x, "listClientOrderId", out->list_client_id,
                        sizeof out->list_client_id, cid)) ||
        (r = jstr(&x, root, "", "listOrderStatus", &st)))
        goto done;
    out->done = strcmp(st, "ALL_DONE") == 0;
    if (!json_is_array(reps) || json_array_size(reps) != 2) {
        r = jfail(&x, "orderReports", "expected an array of the 2 legs, got %s",
                  reps ? tname(reps) : "nothing");
        goto done;
    }
    int have_limit = 0, have_stop = 0;
    for (size_t i = 0; i < 2; i++) {
        char p[32];
        cb_ex_order_t o;
        snprintf(p, sizeof p, "orderReports[%zu]", i);
        if ((r = parse_order_obj(&x, json_array_get(reps, i), p, pairs, n_pairs, &o, NULL,
                                 NULL)))
            goto done;
        o.order_list_id = out->order_list_id;
        if (o.type == CB_EX_ORDER_LIMIT && !have_limit) {
            out->limit_leg = o;
            have_limit = 1;
        } else if (o.type != CB_EX_ORDER_LIMIT && !have_stop) {
            out->stop_leg = o;
            have_stop = 1;
        } else {
            r = jfail(&x, p, "an OCO needs one limit leg and one stop leg%s", "");
            goto done;
        }
    }
done:
    json_decref(root);
    return r;
}

int cb_bn_parse_orders(const char *body, size_t len, const cb_pair_info_t *pairs,
                       size_t n_pairs, cb_ex_order_t **out, size_t *n, cb_diag_t *diag)
{
    jx_t x = {"openOrders", diag};
    *out = NULL;
    *n = 0;
    json_t *root = jload(&x, body, len);
    if (!root)
        return CB_EPARSE;
    int r = 0;
    if (!json_is_array(root)) {
        r = jfail(&x, NULL, "expected an array of orders, got %s", tname(root));
        goto done;
    }
    size_t cnt = json_array_size(root);
    cb_ex_order_t *arr = calloc(cnt ? cnt : 1, sizeof *arr);
    if (!arr) {
        r = cb_diag_set(diag, CB_ENOMEM, x.msg, 0, 0, NULL, NULL);
        goto done;
    }
    for (size_t i = 0; i < cnt && !r; i++) {
        char p[32];
        snprintf(p, sizeof p, "[%zu]", i);
        r = parse_order_obj(&x, json_array_get(root, i), p, pairs, n_pairs, &arr[i], NULL, NULL);
    }
    if (r) {
        free(arr);
        goto done;
    }
    *out = arr;
    *n = cnt;
done:
    json_decref(root);
    return r;
}

/* ---- account, trades, book ticker --------------------------------------------------- */

int cb_bn_parse_account(const char *body, size_t len, cb_ex_balance_t **out, size_t *n,
                        cb_diag_t *diag)
{
    jx_t x = {"account", diag};
    *out = NULL;
    *n = 0;
    json_t *root = jload(&x, body, len);
    if (!root)
        return CB_EPARSE;
    int r = 0;
    json_t *bal = json_object_get(root, "balances");
    if (!json_is_object(root) || !json_is_array(bal)) {
        r = jfail(&x, "balances", "expected an array of balances%s", "");
        goto done;
    }
    size_t cnt = json_array_size(bal);
    cb_ex_balance_t *arr = calloc(cnt ? cnt : 1, sizeof *arr);
    if (!arr) {
        r = cb_diag_set(diag, CB_ENOMEM, x.msg, 0, 0, NULL, NULL);
        goto done;
    }
    for (size_t i = 0; i < cnt && !r; i++) {
        char p[48], q[64];
        json_t *b = json_array_get(bal, i);
        const char *asset;
        snprintf(p, sizeof p, "balances[%zu]", i);
        snprintf(q, sizeof q, "%s.asset", p);
        if (!json_is_object(b))
            r = jfail(&x, p, "expected an object, got %s", tname(b));
        else if (!(r = jstr(&x, b, p, "asset", &asset)) &&
                 !(r = copy_field(&x, q, arr[i].asset, sizeof arr[i].asset, asset)) &&
                 !(r = jdec(&x, b, p, "free", CB_EX_AMOUNT_SCALE, &arr[i].free)))
            r = jdec(&x, b, p, "locked", CB_EX_AMOUNT_SCALE, &arr[i].locked);
    }
    if (r) {
        free(arr);
        goto done;
    }
    *out = arr;
    *n = cnt;
done:
    json_decref(root);
    return r;
}

int cb_bn_parse_account_flags(const char *body, size_t len, cb_ex_account_t *out,
                              cb_diag_t *diag)
{
    jx_t x = {"account", diag};
    memset(out, 0, sizeof *out);
    json_t *root = jload(&x, body, len);
    if (!root)
        return CB_EPARSE;
    const char *type = NULL;
    int r = 0;
    if (!json_is_object(root))
        r = jfail(&x, "", "expected an object, got %s", tname(root));
    else if (!(r = jbool_opt(&x, root, "", "canTrade", &out->can_trade)) &&
             !(r = jbool_opt(&x, root, "", "canWithdraw", &out->can_withdraw)) &&
             !(r = jbool_opt(&x, root, "", "canDeposit", &out->can_deposit)) &&
             json_object_get(root, "accountType") &&
             !(r = jstr(&x, root, "", "accountType", &type)))
        snprintf(out->account_type, sizeof out->account_type, "%s", type);
    json_decref(root);
    return r;
}

int cb_bn_parse_my_trades(const char *body, size_t len, const cb_pair_info_t *pairs,
                          size_t n_pairs, cb_ex_fill_t **out, size_t *n, cb_diag_t *diag)
{
    jx_t x = {"myTrades", diag};
    *out = NULL;
    *n = 0;
    json_t *root = jload(&x, body, len);
    if (!root)
        return CB_EPARSE;
    int r = 0;
    if (!json_is_array(root)) {
        r = jfail(&x, NULL, "expected an array of trades, got %s", tname(root));
        goto done;
    }
    size_t cnt = json_array_size(root);
    cb_ex_fill_t *arr = calloc(cnt ? cnt : 1, sizeof *arr);
    if (!arr) {
        r = cb_diag_set(diag, CB_ENOMEM, x.msg, 0, 0, NULL, NULL);
        goto done;
    }
    for (size_t i = 0; i < cnt && !r; i++) {
        char p[32];
        snprintf(p, sizeof p, "[%zu]", i);
        json_t *t = json_array_get(root, i);
        cb_ex_fill_t *f = &arr[i];
        if (!json_is_object(t)) {
            r = jfail(&x, p, "expected an object, got %s", tname(t));
            break;
        }
        const cb_pair_info_t *pi = jsymbol(&x, t, p, "symbol", pairs, n_pairs);
        if (!pi) {
            r = CB_EPARSE;
            break;
        }
        memcpy(f->pair, pi->pair, sizeof f->pair);
        int buyer = 0, maker = 0;
        if ((r = parse_fill_obj(&x, t, p, pi, f)) || (r = jint(&x, t, p, "id", &f->trade_id)) ||
            (r = jint(&x, t, p, "orderId", &f->order_id)) ||
            (r = jint(&x, t, p, "time", &f->time_ms)) ||
            (r = jbool_opt(&x, t, p, "isBuyer", &buyer)) ||
            (r = jbool_opt(&x, t, p, "isMaker", &maker)))
            break;
        f->side = buyer ? CB_EX_BUY : CB_EX_SELL;
        f->maker = maker;
    }
    if (r) {
        free(arr);
        goto done;
    }
    *out = arr;
    *n = cnt;
done:
    json_decref(root);
    return r;
}

int cb_bn_parse_book_ticker(const char *body, size_t len, const cb_pair_info_t *pairs,
                            size_t n_pairs, cb_book_ticker_t *out, cb_diag_t *diag)
{
    jx_t x = {"bookTicker", diag};
    memset(out, 0, sizeof *out);
    json_t *root = jload(&x, body, len);
    if (!root)
        return CB_EPARSE;
    int r;
    const cb_pair_info_t *pi = NULL;
    if (!json_is_object(root))
        r = jfail(&x, NULL, "expected an object, got %s", tname(root));
    else if (!(pi = jsymbol(&x, root, "", "symbol", pairs, n_pairs)))
        r = CB_EPARSE;
    else if (!(r = jdec(&x, root, "", "bidPrice", pi->price_scale, &out->bid)) &&
             !(r = jdec(&x, root, "", "bidQty", pi->qty_scale, &out->bid_qty)) &&
             !(r = jdec(&x, root, "", "askPrice", pi->price_scale, &out->ask)))
        r = jdec(&x, root, "", "askQty", pi->qty_scale, &out->ask_qty);
    if (!r)
        memcpy(out->pair, pi->pair, sizeof out->pair);
    json_decref(root);
    return r;
}

/* ---- WebSocket messages ------------------------------------------------------------- */

static int ws_kline(jx_t *x, json_t *d, const cb_pair_info_t *pi, cb_stream_event_t *ev)
{
    json_t *k = json_object_get(d, "k");
    int r;
    if (!json_is_object(k))
        return jfail(x, "k", "expected an object, got %s", k ? tname(k) : "nothing");
    const char *iv;
    cb_ex_candle_t *c = &ev->u.candle.candle;
    double *dst[5] = {&c->open, &c->high, &c->low, &c->close, &c->volume};
    const char *keys[5] = {"o", "h", "l", "c", "v"};
    if ((r = jstr(x, k, "k", "i", &iv)) || (r = copy_field(x, "k.i", ev->u.candle.timeframe,
                                                           sizeof ev->u.candle.timeframe, iv)) ||
        (r = jint(x, k, "k", "t", &c->time_ms)))
        return r;
    for (int j = 0; j < 5; j++) {
        char p[16];
        snprintf(p, sizeof p, "k.%s", keys[j]);
        if ((r = jnum_str_v(x, json_object_get(k, keys[j]), p, dst[j])))
            return r;
    }
    if ((r = jbool_opt(x, k, "k", "x", &c->closed)))
        return r;
    (void)pi;
    ev->kind = CB_STREAM_CANDLE;
    return 0;
}

static int ws_trade(jx_t *x, json_t *d, cb_stream_event_t *ev)
{
    int r;
    if ((r = jint(x, d, "", "t", &ev->u.trade.trade_id)) ||
        (r = jnum_str_v(x, json_object_get(d, "p"), "p", &ev->u.trade.price)) ||
        (r = jnum_str_v(x, json_object_get(d, "q"), "q", &ev->u.trade.qty)) ||
        (r = jbool_opt(x, d, "", "m", &ev->u.trade.buyer_maker)))
        return r;
    jint_opt(x, d, "", "T", &ev->time_ms);
    ev->kind = CB_STREAM_TRADE;
    return 0;
}

static int ws_book(jx_t *x, json_t *d, const cb_pair_info_t *pi, cb_stream_event_t *ev)
{
    int r;
    cb_book_ticker_t *b = &ev->u.book;
    if ((r = jdec(x, d, "", "b", pi->price_scale, &b->bid)) ||
        (r = jdec(x, d, "", "B", pi->qty_scale, &b->bid_qty)) ||
        (r = jdec(x, d, "", "a", pi->price_scale, &b->ask)) ||
        (r = jdec(x, d, "", "A", pi->qty_scale, &b->ask_qty)))
        return r;
    memcpy(b->pair, pi->pair, sizeof b->pair);
    ev->kind = CB_STREAM_BOOK;
    return 0;
}

static int ws_execution(jx_t *x, json_t *d, const cb_pair_info_t *pi, cb_stream_event_t *ev)
{
    int r;
    cb_ex_order_t *o = &ev->u.account.order;
    cb_ex_fill_t *f = &ev->u.account.fill;
    const char *coid, *orig, *exec_type;
    ev->kind = CB_STREAM_ACCOUNT;
    ev->u.account.is_order = 1;
    memcpy(o->pair, pi->pair, sizeof o->pair);
    if ((r = jstr(x, d, "", "c", &coid)) || (r = jstr(x, d, "", "C", &orig)) ||
        (r = jstr(x, d, "", "x", &exec_type)))
        return r;
    /* On a cancel, "c" is the cancel request's id and "C" the original order's. */
    const char *id = (strcmp(exec_type, "CANCELED") == 0 && orig[0]) ? orig : coid;
    if ((r = copy_field(x, "c", o->client_order_id, sizeof o->client_order_id, id)) ||
        (r = parse_enum(x, d, "", "S", 0, (int *)&o->side)) ||
        (r = parse_enum(x, d, "", "o", 1, (int *)&o->type)) ||
        (r = parse_enum(x, d, "", "X", 2, (int *)&o->status)) ||
        (r = jint(x, d, "", "i", &o->order_id)) ||
        (r = jdec(x, d, "", "q", pi->qty_scale, &o->qty)) ||
        (r = jdec(x, d, "", "z", pi->qty_scale, &o->executed_qty)) ||
        (r = jdec(x, d, "", "p", pi->price_scale, &o->price)) ||
        (r = jdec_opt(x, d, "", "P", pi->price_scale, &o->stop_price)) ||
        (r = jint_opt(x, d, "", "O", &o->created_ms)) ||
        (r = jint_opt(x, d, "", "T", &o->updated_ms)) ||
        (r = jint_opt(x, d, "", "g", &o->order_list_id)) ||
        (r = tif_opt(x, d, "", "f", &o->time_in_force)))
        return r;
    if (o->order_list_id < 0)
        o->order_list_id = 0;
    if (strcmp(exec_type, "TRADE") == 0) {
        const char *asset = "";
        json_t *na = json_object_get(d, "N");
        if (json_is_string(na))
            asset = json_string_value(na);
        if ((r = jdec(x, d, "", "L", pi->price_scale, &f->price)) ||
            (r = jdec(x, d, "", "l", pi->qty_scale, &f->qty)) ||
            (r = jdec(x, d, "", "n", CB_EX_AMOUNT_SCALE, &f->fee)) ||
            (r = jint(x, d, "", "t", &f->trade_id)) ||
            (r = copy_field(x, "N", f->fee_asset, sizeof f->fee_asset, asset)) ||
            (r = jbool_opt(x, d, "", "m", &f->maker)))
            return r;
        f->order_id = o->order_id;
        memcpy(f->client_order_id, o->client_order_id, sizeof f->client_order_id);
        memcpy(f->pair, o->pair, sizeof f->pair);
        f->side = o->side;
        f->time_ms = o->updated_ms;
    }
    return 0;
}

static int ws_account(jx_t *x, json_t *d, cb_stream_event_t *ev)
{
    json_t *b = json_object_get(d, "B");
    if (!json_is_array(b))
        return jfail(x, "B", "expected an array, got %s", b ? tname(b) : "nothing");
    ev->kind = CB_STREAM_ACCOUNT;
    ev->u.account.is_order = 0;
    size_t i;
    json_t *e;
    json_array_foreach(b, i, e)
    {
        char p[32];
        snprintf(p, sizeof p, "B[%zu]", i);
        if (i >= sizeof ev->u.account.balances / sizeof ev->u.account.balances[0])
            return jfail(x, p, "too many balances in one update (%s)", "more than 8");
        cb_ex_balance_t *bal = &ev->u.account.balances[i];
        const char *asset;
        int r;
        if (!json_is_object(e))
            return jfail(x, p, "expected an object, got %s", tname(e));
        char q[40];
        snprintf(q, sizeof q, "%s.a", p);
        if ((r = jstr(x, e, p, "a", &asset)) ||
            (r = copy_field(x, q, bal->asset, sizeof bal->asset, asset)) ||
            (r = jdec(x, e, p, "f", CB_EX_AMOUNT_SCALE, &bal->free)) ||
            (r = jdec(x, e, p, "l", CB_EX_AMOUNT_SCALE, &bal->locked)))
            return r;
        ev->u.account.n_balances = i + 1;
    }
    return 0;
}

static int ws_balance_update(jx_t *x, json_t *d, cb_stream_event_t *ev)
{
    const char *asset;
    cb_ex_balance_t *bal = &ev->u.account.balances[0];
    int r;
    ev->kind = CB_STREAM_ACCOUNT;
    ev->u.account.balance_delta = 1;
    if ((r = jstr(x, d, "", "a", &asset)) ||
        (r = copy_field(x, "a", bal->asset, sizeof bal->asset, asset)) ||
        (r = jdec(x, d, "", "d", CB_EX_AMOUNT_SCALE, &bal->free)))
        return r;
    ev->u.account.n_balances = 1;
    return 0;
}

int cb_bn_parse_ws_api_response(const char *body, size_t len, int *status, int *code, char *msg,
                                size_t msg_size, int64_t *subscription_id, char *id_out,
                                size_t id_size, cb_diag_t *diag)
{
    jx_t x = {"ws-api response", diag};
    *status = 0;
    *code = 0;
    *subscription_id = -1;
    if (msg_size)
        msg[0] = '\0';
    if (id_size)
        id_out[0] = '\0';
    json_t *root = jload(&x, body, len);
    if (!root)
        return CB_EPARSE;
    int r = 0;
    int64_t st;
    if (!json_is_object(root) || !json_object_get(root, "status")) {
        r = json_is_object(root) ? CB_ENOENT : jfail(&x, NULL, "expected an object, got %s",
                                                     tname(root));
        goto done;
    }
    if ((r = jint(&x, root, "", "status", &st)))
        goto done;
    if (st < 100 || st > 599) {
        r = jfail(&x, "status", "%lld is not an HTTP status", (long long)st);
        goto done;
    }
    *status = (int)st;
    json_t *id = json_object_get(root, "id");
    if (id_size && json_is_string(id))
        snprintf(id_out, id_size, "%s", json_string_value(id));
    else if (id_size && json_is_integer(id))
        snprintf(id_out, id_size, "%lld", (long long)json_integer_value(id));
    if (st == 200) {
        json_t *res = json_object_get(root, "result");
        if (!json_is_object(res) && !json_is_array(res)) {
            r = jfail(&x, "result", "expected an object, got %s", res ? tname(res) : "nothing");
            goto done;
        }
        if (json_is_object(res) && json_object_get(res, "subscriptionId"))
            r = jint(&x, res, "result", "subscriptionId", subscription_id);
        goto done;
    }
    json_t *err = json_object_get(root, "error");
    if (!json_is_object(err)) {
        r = jfail(&x, "error", "expected an object, got %s", err ? tname(err) : "nothing");
        goto done;
    }
    int64_t c;
    const char *m;
    if ((r = jint(&x, err, "error", "code", &c)) || (r = jstr(&x, err, "error", "msg", &m)))
        goto done;
    if (c < INT32_MIN || c > INT32_MAX) {
        r = jfail(&x, "error.code", "%lld is out of range", (long long)c);
        goto done;
    }
    *code = (int)c;
    if (msg_size)
        snprintf(msg, msg_size, "%s", m);
done:
    json_decref(root);
    return r;
}

int cb_bn_parse_ws(const char *body, size_t len, const cb_pair_info_t *pairs, size_t n_pairs,
                   cb_stream_event_t *out, cb_diag_t *diag)
{
    jx_t x = {"stream", diag};
    memset(out, 0, sizeof *out);
    json_t *root = jload(&x, body, len);
    if (!root)
        return CB_EPARSE;
    int r = 0;
    json_t *d = root;
    if (json_is_object(root) && json_is_object(json_object_get(root, "data")))
        d = json_object_get(root, "data");
    else if (json_is_object(root) && json_is_object(json_object_get(root, "event")))
        d = json_object_get(root, "event");
    if (!json_is_object(d)) {
        r = jfail(&x, NULL, "expected an object, got %s", tname(d));
        goto done;
    }
    json_t *e = json_object_get(d, "e");
    const char *type = json_is_string(e) ? json_string_value(e) : NULL;
    if (!type && json_object_get(d, "u") && json_object_get(d, "b") && json_object_get(d, "a"))
        type = "bookTicker"; /* the individual bookTicker stream has no event type */
    if (!type) {
        r = CB_ENOENT;
        goto done;
    }
    jint_opt(&x, d, "", "E", &out->time_ms);
    if (strcmp(type, "outboundAccountPosition") == 0) {
        r = ws_account(&x, d, out);
        goto done;
    }
    if (strcmp(type, "balanceUpdate") == 0) {
        r = ws_balance_update(&x, d, out);
        goto done;
    }
    if (strcmp(type, "eventStreamTerminated") == 0) {
        /* The exchange ended the subscription (logout, key revoked): no more events come. */
        out->kind = CB_STREAM_STATUS;
        out->u.status.connected = 0;
        snprintf(out->u.status.message, sizeof out->u.status.message,
                 "the exchange ended the user data stream subscription");
        goto done;
    }
    if (strcmp(type, "kline") && strcmp(type, "trade") && strcmp(type, "bookTicker") &&
        strcmp(type, "executionReport")) {
        r = CB_ENOENT;
        goto done;
    }
    const cb_pair_info_t *pi = jsymbol(&x, d, "", "s", pairs, n_pairs);
    if (!pi) {
        r = CB_EPARSE;
        goto done;
    }
    memcpy(out->pair, pi->pair, sizeof out->pair);
    if (strcmp(type, "kline") == 0)
        r = ws_kline(&x, d, pi, out);
    else if (strcmp(type, "trade") == 0)
        r = ws_trade(&x, d, out);
    else if (strcmp(type, "bookTicker") == 0)
        r = ws_book(&x, d, pi, out);
    else
        r = ws_execution(&x, d, pi, out);
done:
    json_decref(root);
    return r;
}
