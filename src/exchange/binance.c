/* The Binance spot connector: REST over a persistent libcurl handle, HMAC-signed requests with
 * a measured server-time offset, request-weight tracking from X-MBX-USED-WEIGHT-1M, 429/418
 * honoured through Retry-After, idempotent requests retried with jittered backoff, and order
 * placement that is never repeated blindly: an ambiguous answer is resolved by asking for the
 * client order id first. No URL with a signature and no key ever reaches a diagnostic. */
#include "exchange/binance_int.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define BN_AMBIGUOUS 1 /* internal: the request may or may not have been executed */
#define SYNC_EVERY_MS (10 * 60 * 1000)

typedef struct bn {
    cb_exchange_t base;
    char url[256];
    cb_api_keys_t *keys;
    CURL *curl;
    int64_t recv_window;
    long connect_timeout_ms, timeout_ms, max_wait_ms;
    int max_retries, weight_limit;
    uint64_t rng;
    cb_pair_info_t *pairs;
    size_t n_pairs;
    int synced;
    int64_t last_sync_ns;
    int64_t blocked_until_ns;   /* Retry-After */
    int64_t weight_minute;      /* server-time minute of used_weight */
    cb_binance_stats_t st;
    /* the current response */
    char *buf;
    size_t len, cap;
    long hdr_retry_after;
    int hdr_weight;
    int api_code;               /* Binance error code of the last failed request, 0 if none */
} bn_t;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static void sleep_ms(bn_t *b, long ms)
{
    if (ms <= 0)
        return;
    b->st.waited_ms += ms;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}


static double rnd(bn_t *b)
{
    uint64_t z = (b->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

/* 200 ms, 400 ms, 800 ms ... capped at 5 s, each scaled by a random 0.5..1.5. */
static long backoff_ms(bn_t *b, int attempt)
{
    double ms = 200.0 * (double)(1L << (attempt < 5 ? attempt : 5));
    if (ms > 5000)
        ms = 5000;
    return (long)(ms * (0.5 + rnd(b)));
}

static size_t on_body(char *p, size_t sz, size_t n, void *user)
{
    bn_t *b = user;
    size_t add = sz * n;
    if (b->len + add + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 16384;
        while (cap < b->len + add + 1)
            cap *= 2;
        if (cap > (64u << 20))
            return 0; /* a response this large is not Binance's */
        char *nb = realloc(b->buf, cap);
        if (!nb)
            return 0;
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, p, add);
    b->len += add;
    b->buf[b->len] = '\0';
    return add;
}

static size_t on_header(char *p, size_t sz, size_t n, void *user)
{
    bn_t *b = user;
    size_t len = sz * n;
    char line[256];
    if (len >= sizeof line)
        return len;
    memcpy(line, p, len);
    line[len] = '\0';
    if (strncasecmp(line, "x-mbx-used-weight-1m:", 21) == 0)
        b->hdr_weight = atoi(line + 21);
    else if (strncasecmp(line, "retry-after:", 12) == 0)
        b->hdr_retry_after = atol(line + 12);
    return len;
}

static int64_t server_now(const bn_t *b) { return cb_now_ms() + b->st.time_offset_ms; }

/* Waits out a Retry-After and keeps the request weight under the limit. Never spins: every
 * wait is a sleep, and a wait longer than max_wait_ms is an error instead. */
static int rate_wait(bn_t *b, int weight, const char *path, cb_diag_t *diag)
{
    int64_t now = cb_monotonic_ns();
    if (b->blocked_until_ns > now) {
        long ms = (long)((b->blocked_until_ns - now) / 1000000) + 1;
        if (ms > b->max_wait_ms)
            return cb_diag_set(diag, CB_ELIMIT, NULL, 0, 0, path,
                               "the exchange asked us to wait %ld s before the next request "
                               "(rate limit); giving up instead",
                               ms / 1000);
        b->st.rate_waits++;
        sleep_ms(b, ms);
    }
    int64_t minute = server_now(b) / 60000;
    if (minute == b->weight_minute && b->st.used_weight + weight > b->weight_limit) {
        long ms = (long)((minute + 1) * 60000 - server_now(b)) + 50;
        if (ms > b->max_wait_ms)
            return cb_diag_set(diag, CB_ELIMIT, NULL, 0, 0, path,
                               "request weight %d of %d used this minute; the wait of %ld s is "
                               "longer than allowed",
                               b->st.used_weight, b->weight_limit, ms / 1000);
        b->st.rate_waits++;
        sleep_ms(b, ms);
    }
    return 0;
}

/* A Binance error answer as a diagnostic: what it means, then the exchange's own words. */
static int api_error(bn_t *b, const char *method, const char *path, const char *params,
                     long status, cb_diag_t *diag)
{
    /* Name the symbol the request was about: "invalid symbol" alone does not say which. */
    char what[96] = "";
    const char *sym = params ? strstr(params, "symbol=") : NULL;
    while (sym && sym != params && sym[-1] != '&')
        sym = strstr(sym + 1, "symbol=");
    if (sym) {
        sym += 7;
        size_t n = strcspn(sym, "&");
        snprintf(what, sizeof what, " (symbol %.*s)", (int)(n > 40 ? 40 : n), sym);
    }
    int code = 0;
    char msg[256] = "";
    if (cb_bn_parse_error(b->buf, b->len, &code, msg, sizeof msg) != 0) {
        b->api_code = 0;
        return cb_diag_set(diag, CB_EEXCHANGE, NULL, 0, 0, NULL,
                           "%s %s: HTTP %ld with a body that is not a Binance error", method,
                           path, status);
    }
    b->api_code = code;
    const char *text = cb_binance_error_text(code);
    if (code == -2010 && strstr(msg, "insufficient balance"))
        text = "insufficient balance for this order";
    int cls = cb_binance_error_class(code);
    return cb_diag_set(diag, cls, NULL, 0, 0, NULL, "%s %s%s: %s [Binance %d: %.200s]", method,
                       path, what, text ? text : "the exchange refused the request", code, msg);
}

static int sync_time(bn_t *b, cb_diag_t *diag);

/* One REST call with retries. Returns 0 (body in b->buf), BN_AMBIGUOUS (only when
 * !idempotent: the request may have executed), or a negative cb_err with diag. */
static int bn_call(bn_t *b, const char *method, const char *path, const char *params,
                   int is_signed, int weight, int idempotent, cb_diag_t *diag)
{
    if (is_signed && !b->keys)
        return cb_diag_set(diag, CB_EAUTH, NULL, 0, 0, NULL,
                           "%s needs API keys (COMEBACK_API_KEY/COMEBACK_API_SECRET or a key "
                           "file)",
                           path);
    int resynced = 0;
    b->api_code = 0;
    for (int attempt = 0;; attempt++) {
        int r = rate_wait(b, weight, path, diag);
        if (r)
            return r;
        if (is_signed && (!b->synced || cb_monotonic_ns() - b->last_sync_ns >
                                            (int64_t)SYNC_EVERY_MS * 1000000)) {
            if ((r = sync_time(b, diag)))
                return r;
        }
        size_t plen = params ? strlen(params) : 0;
        size_t qcap = plen + 160 + (is_signed ? 3 * 700 : 0);
        char *q = malloc(qcap), *url = malloc(strlen(b->url) + strlen(path) + qcap + 2);
        if (!q || !url) {
            free(q);
            free(url);
            return cb_diag_set(diag, CB_ENOMEM, NULL, 0, 0, NULL, NULL);
        }
        int n = snprintf(q, qcap, "%s", params ? params : "");
        if (is_signed) {
            n += snprintf(q + n, qcap - (size_t)n, "%srecvWindow=%lld&timestamp=%lld",
                          n ? "&" : "", (long long)b->recv_window, (long long)server_now(b));
            char sig[720];
            if (cb_api_keys_sign(b->keys, q, (size_t)n, sig, sizeof sig) != 0) {
                free(q);
                free(url);
                return cb_diag_set(diag, CB_EAUTH, NULL, 0, 0, NULL,
                                   "%s: cannot sign the request with this key", path);
            }
            /* base64 signatures (Ed25519, RSA) are URL-encoded: + / = are not query text */
            n += snprintf(q + n, qcap - (size_t)n, "&signature=");
            for (const char *c = sig; *c && (size_t)n + 4 < qcap; c++) {
                if (*c == '+' || *c == '/' || *c == '=')
                    n += snprintf(q + n, qcap - (size_t)n, "%%%02X", (unsigned)*c);
                else
                    q[n++] = *c;
            }
            q[n] = '\0';
        }
        sprintf(url, "%s%s%s%s", b->url, path, q[0] ? "?" : "", q);
        free(q);
        struct curl_slist *hdrs = NULL;
        char keyhdr[600];
        if (b->keys) {
            snprintf(keyhdr, sizeof keyhdr, "X-MBX-APIKEY: %s", cb_api_keys_key(b->keys));
            hdrs = curl_slist_append(hdrs, keyhdr);
        }
        CURL *c = b->curl;
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
        if (strcmp(method, "GET") == 0) {
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
            curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        } else if (strcmp(method, "POST") == 0) {
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
            curl_easy_setopt(c, CURLOPT_POST, 1L);
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
        } else {
            curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        }
        b->len = 0;
        if (b->buf)
            b->buf[0] = '\0';
        b->hdr_retry_after = 0;
        b->hdr_weight = -1;
        b->st.requests++;
        CURLcode cc = curl_easy_perform(c);
        curl_slist_free_all(hdrs);
        OPENSSL_cleanse(keyhdr, sizeof keyhdr);
        free(url);
        long status = 0;
        if (cc == CURLE_OK)
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (b->hdr_weight >= 0) {
            b->st.used_weight = b->hdr_weight;
            b->weight_minute = server_now(b) / 60000;
        }
        int last = attempt >= b->max_retries;
        if (cc != CURLE_OK) {
            /* Nothing was sent when the connection could not be made: safe to repeat. */
            int unsent = cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST ||
                         cc == CURLE_COULDNT_RESOLVE_PROXY;
            if (!idempotent && !unsent)
                return BN_AMBIGUOUS;
            if (last)
                return cb_diag_set(diag, cc == CURLE_OPERATION_TIMEDOUT ? CB_ETIMEOUT : CB_ENET,
                                   NULL, 0, 0, NULL, "%s %s: %s (after %d attempts)", method,
                                   path, curl_easy_strerror(cc), attempt + 1);
            b->st.retries++;
            sleep_ms(b, backoff_ms(b, attempt));
            continue;
        }
        if (status == 429 || status == 418) {
            /* Not executed: the limiter answered. Wait as told, then try again. */
            long ra = b->hdr_retry_after > 0 ? b->hdr_retry_after : (status == 418 ? 120 : 1);
            b->blocked_until_ns = cb_monotonic_ns() + (int64_t)ra * 1000000000LL;
            if (last)
                return api_error(b, method, path, params, status, diag);
            b->st.retries++;
            continue;
        }
        if (status >= 500) {
            if (!idempotent)
                return BN_AMBIGUOUS;
            if (last)
                return cb_diag_set(diag, CB_EEXCHANGE, NULL, 0, 0, NULL,
                                   "%s %s: the exchange answered HTTP %ld (after %d attempts)",
                                   method, path, status, attempt + 1);
            b->st.retries++;
            sleep_ms(b, backoff_ms(b, attempt));
            continue;
        }
        if (status >= 200 && status < 300)
            return 0;
        r = api_error(b, method, path, params, status, diag);
        if (b->api_code == -1021 && is_signed && !resynced) {
            /* Rejected for clock skew before anything happened: resync and repeat once. */
            resynced = 1;
            b->synced = 0;
            continue;
        }
        if (!idempotent && (b->api_code == -1007 || b->api_code == -1001 ||
                            b->api_code == -1006))
            return BN_AMBIGUOUS;
        return r;
    }
}

static int sync_time(bn_t *b, cb_diag_t *diag)
{
    int64_t t0 = cb_now_ms();
    int r = bn_call(b, "GET", "/api/v3/time", NULL, 0, 1, 1, diag);
    int64_t t1 = cb_now_ms();
    if (r)
        return r;
    int64_t st;
    if ((r = cb_bn_parse_server_time(b->buf, b->len, &st, diag)))
        return r;
    b->st.time_offset_ms = st - (t0 + t1) / 2;
    b->st.time_syncs++;
    b->synced = 1;
    b->last_sync_ns = cb_monotonic_ns();
    return 0;
}

static bn_t *B(cb_exchange_t *ex) { return (bn_t *)ex; }

static int load_pairs(bn_t *b, cb_diag_t *diag)
{
    int r = bn_call(b, "GET", "/api/v3/exchangeInfo", NULL, 0, 20, 1, diag);
    if (r)
        return r;
    cb_pair_info_t *p;
    size_t n;
    if ((r = cb_bn_parse_exchange_info(b->buf, b->len, &p, &n, diag)))
        return r;
    free(b->pairs);
    b->pairs = p;
    b->n_pairs = n;
    return 0;
}

static int pair_of(bn_t *b, const char *pair, const cb_pair_info_t **out, cb_diag_t *diag)
{
    int r;
    if (!b->pairs && (r = load_pairs(b, diag)))
        return r;
    *out = cb_pair_find(b->pairs, b->n_pairs, pair);
    if (!*out || strcmp((*out)->pair, pair) != 0)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "pair",
                           "the exchange does not list %.32s", pair);
    return 0;
}

/* ---- operations --------------------------------------------------------------------- */

static int op_server_time(cb_exchange_t *ex, int64_t *out, cb_diag_t *diag)
{
    bn_t *b = B(ex);
    int r = bn_call(b, "GET", "/api/v3/time", NULL, 0, 1, 1, diag);
    return r ? r : cb_bn_parse_server_time(b->buf, b->len, out, diag);
}

static int op_pairs(cb_exchange_t *ex, cb_pair_info_t **out, size_t *n, cb_diag_t *diag)
{
    bn_t *b = B(ex);
    int r = load_pairs(b, diag);
    if (r)
        return r;
    *out = malloc((b->n_pairs ? b->n_pairs : 1) * sizeof **out);
    if (!*out)
        return cb_diag_set(diag, CB_ENOMEM, NULL, 0, 0, NULL, NULL);
    memcpy(*out, b->pairs, b->n_pairs * sizeof **out);
    *n = b->n_pairs;
    return 0;
}

static int op_candles(cb_exchange_t *ex, const char *pair, const char *timeframe, int64_t from,
                      int64_t to, size_t limit, cb_ex_candle_t **out, size_t *n, cb_diag_t *diag)
{
    bn_t *b = B(ex);
    char sym[CB_EX_PAIR_MAX], q[256];
    if (cb_binance_symbol(pair, sym, sizeof sym))
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "pair",
                           "'%.32s' is not a pair like BTC/USDT", pair);
    if (limit == 0 || limit > 1000)
        limit = 1000;
    int w = snprintf(q, sizeof q, "symbol=%s&interval=%s&limit=%zu", sym, timeframe, limit);
    if (from > 0)
        w += snprintf(q + w, sizeof q - (size_t)w, "&startTime=%lld", (long long)from);
    if (to > 0)
        snprintf(q + w, sizeof q - (size_t)w, "&endTime=%lld", (long long)to);
    int r = bn_call(b, "GET", "/api/v3/klines", q, 0, 2, 1, diag);
    if (r)
        return r;
    return cb_bn_parse_klines(b->buf, b->len, b->synced ? server_now(b) : cb_now_ms(), out, n,
                              diag);
}

static int op_book(cb_exchange_t *ex, const char *pair, cb_book_ticker_t *out, cb_diag_t *diag)
{
    bn_t *b = B(ex);
    const cb_pair_info_t *p;
    int r = pair_of(b, pair, &p, diag);
    if (r)
        return r;
    char q[64];
    snprintf(q, sizeof q, "symbol=%s", p->symbol);
    if ((r = bn_call(b, "GET", "/api/v3/ticker/bookTicker", q, 0, 2, 1, diag)))
        return r;
    return cb_bn_parse_book_ticker(b->buf, b->len, b->pairs, b->n_pairs, out, diag);
}

static int op_balances(cb_exchange_t *ex, cb_ex_balance_t **out, size_t *n, cb_diag_t *diag)
{
    bn_t *b = B(ex);
    int r = bn_call(b, "GET", "/api/v3/account", "omitZeroBalances=true", 1, 20, 1, diag);
    return r ? r : cb_bn_parse_account(b->buf, b->len, out, n, diag);
}

static int op_account(cb_exchange_t *ex, cb_ex_account_t *out, cb_diag_t *diag)
{
    bn_t *b = B(ex);
    int r = bn_call(b, "GET", "/api/v3/account", "omitZeroBalances=true", 1, 20, 1, diag);
    return r ? r : cb_bn_parse_account_flags(b->buf, b->len, out, diag);
}

/* "symbol=<pair's symbol>&<param>=<id>" into q (>= 128 bytes) for a listed pair and a valid
 * client id. */
static int id_query(bn_t *b, const char *pair, const char *param, const char *id, char q[128],
                    cb_diag_t *diag)
{
    const cb_pair_info_t *p;
    int r = pair_of(b, pair, &p, diag);
    if (r)
        return r;
    if (!cb_client_order_id_valid(id))
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "client_order_id",
                           "'%.40s' is not a valid client order id", id);
    snprintf(q, 128, "symbol=%s&%s=%s", p->symbol, param, id);
    return 0;
}

static int op_query(cb_exchange_t *ex, const char *pair, const char *coid, cb_ex_order_t *out,
                    cb_diag_t *diag)
{
    bn_t *b = B(ex);
    char q[128];
    int r = id_query(b, pair, "origClientOrderId", coid, q, diag);
    if (r)
        return r;
    if ((r = bn_call(b, "GET", "/api/v3/order", q, 1, 4, 1, diag)))
        return r;
    return cb_bn_parse_order(b->buf, b->len, b->pairs, b->n_pairs, out, NULL, NULL, diag);
}

static int op_my_trades(cb_exchange_t *ex, const char *pair, int64_t since, cb_ex_fill_t **out,
                        size_t *n, cb_diag_t *diag)
{
    bn_t *b = B(ex);
    const cb_pair_info_t *p;
    *out = NULL;
    *n = 0;
    int r = pair_of(b, pair, &p, diag);
    if (r)
        return r;
    cb_ex_fill_t *all = NULL;
    size_t n_all = 0;
    int64_t from_id = -1;
    for (int page = 0; page < 1000; page++) {
        char q[160];
        if (from_id < 0)
            snprintf(q, sizeof q, "symbol=%s&startTime=%lld&limit=1000", p->symbol,
                     (long long)since);
        else
            snprintf(q, sizeof q, "symbol=%s&fromId=%lld&limit=1000", p->symbol,
                     (long long)from_id);
        cb_ex_fill_t *f;
        size_t nf;
        if ((r = bn_call(b, "GET", "/api/v3/myTrades", q, 1, 20, 1, diag)) ||
            (r = cb_bn_parse_my_trades(b->buf, b->len, b->pairs, b->n_pairs, &f, &nf, diag))) {
            free(all);
            return r;
        }
        cb_ex_fill_t *na = realloc(all, (n_all + nf + 1) * sizeof *na);
        if (!na) {
            free(f);
            free(all);
            return cb_diag_set(diag, CB_ENOMEM, NULL, 0, 0, NULL, NULL);
        }
        all = na;
        memcpy(all + n_all, f, nf * sizeof *f);
        n_all += nf;
        free(f);
        if (nf < 1000)
            break;
        from_id = all[n_all - 1].trade_id + 1;
    }
    *out = all;
    *n = n_all;
    return 0;
}

static int op_place(cb_exchange_t *ex, const cb_ex_order_req_t *req, cb_ex_order_t *out,
                    cb_ex_fill_t **fills, size_t *n_fills, cb_diag_t *diag)
{
    bn_t *b = B(ex);
    const cb_pair_info_t *p;
    if (fills) {
        *fills = NULL;
        *n_fills = 0;
    }
    int r = pair_of(b, req->pair, &p, diag);
    if (r)
        return r;
    int64_t ref = 0;
    if (req->type == CB_EX_ORDER_MARKET && p->min_notional_market && p->min_notional > 0) {
        cb_book_ticker_t bt;
        if ((r = op_book(ex, req->pair, &bt, diag)))
            return r;
        ref = req->side == CB_EX_BUY ? bt.ask : bt.bid;
    }
    cb_ex_order_req_t o;
    if ((r = cb_ex_order_prepare(p, req, ref, &o, diag)))
        return r;
    char q[512], num[48];
    int w = snprintf(q, sizeof q, "symbol=%s&side=%s&type=%s", p->symbol,
                     cb_ex_side_name(o.side), cb_ex_order_type_name(o.type));
    if (o.quote_qty > 0) {
        cb_dec_format(o.quote_qty, CB_EX_AMOUNT_SCALE, num, sizeof num);
        w += snprintf(q + w, sizeof q - (size_t)w, "&quoteOrderQty=%s", num);
    } else {
        cb_dec_format(o.qty, p->qty_scale, num, sizeof num);
        w += snprintf(q + w, sizeof q - (size_t)w, "&quantity=%s", num);
    }
    if (o.price) {
        cb_dec_format(o.price, p->price_scale, num, sizeof num);
        w += snprintf(q + w, sizeof q - (size_t)w, "&price=%s&timeInForce=%s", num,
                      cb_ex_tif_name(o.time_in_force));
    }
    if (o.stop_price) {
        cb_dec_format(o.stop_price, p->price_scale, num, sizeof num);
        w += snprintf(q + w, sizeof q - (size_t)w, "&stopPrice=%s", num);
    }
    snprintf(q + w, sizeof q - (size_t)w, "&newClientOrderId=%s&newOrderRespType=FULL",
             o.client_order_id);
    for (int sends = 0; sends < 2; sends++) {
        r = bn_call(b, "POST", "/api/v3/order", q, 1, 1, 0, diag);
        if (r == 0)
            return cb_bn_parse_order(b->buf, b->len, b->pairs, b->n_pairs, out, fills, n_fills,
                                     diag);
        if (r != BN_AMBIGUOUS)
            return r;
        /* The order may exist. Ask for it by client order id; resend only when the exchange
         * says it does not exist at a time when the original request can no longer be
         * executed (its timestamp is older than the receive window). */
        /* The request's timestamp is at most "now" (after the clock sync it may have done). */
        int64_t expire = server_now(b) + b->recv_window + 1000;
        int64_t give_up = cb_monotonic_ns() / 1000000 + b->recv_window + 1000 + 4 * b->timeout_ms;
        while (cb_monotonic_ns() / 1000000 < give_up) {
            cb_diag_t qd;
            int qr = op_query(ex, o.pair, o.client_order_id, out, &qd);
            if (qr == 0) {
                b->st.resolved_by_query++;
                if (fills && out->executed_qty > 0) {
                    cb_ex_fill_t *all;
                    size_t na, keep = 0;
                    if (op_my_trades(ex, o.pair, out->created_ms, &all, &na, &qd) == 0) {
                        for (size_t i = 0; i < na; i++)
                            if (all[i].order_id == out->order_id)
                                all[keep++] = all[i];
                        *fills = all;
                        *n_fills = keep;
                    }
                }
                return 0;
            }
            if (qr != CB_ENOENT) {
                sleep_ms(b, 200); /* the query itself already backed off */
                continue;
            }
            int64_t now = server_now(b);
            if (now > expire)
                break; /* not there, and it can no longer arrive: safe to send again */
            sleep_ms(b, (long)(expire - now < 500 ? expire - now + 1 : 500));
        }
        if (sends == 1 || server_now(b) <= expire)
            break;
    }
    return cb_diag_set(diag, CB_ETIMEOUT, NULL, 0, 0, NULL,
                       "order %s: the exchange did not answer and its state could not be "
                       "established; query it later by its client order id",
                       o.client_order_id);
}

static int op_cancel(cb_exchange_t *ex, const char *pair, const char *coid, cb_ex_order_t *out,
                     cb_diag_t *diag)
{
    bn_t *b = B(ex);
    char q[128];
    int r = id_query(b, pair, "origClientOrderId", coid, q, diag);
    if (r)
        return r;
    /* Cancelling twice is harmless (the second says "unknown order"), so it is retried. */
    long before = b->st.retries;
    r = bn_call(b, "DELETE", "/api/v3/order", q, 1, 1, 1, diag);
    if (r == CB_EREJECTED && b->api_code == -2011 && b->st.retries > before) {
        /* A retry after a lost answer: the first attempt may have cancelled it. */
        cb_diag_t qd;
        if (op_query(ex, pair, coid, out, &qd) == 0 && out->status == CB_EX_STATUS_CANCELED)
            return 0;
    }
    if (r)
        return r;
    return cb_bn_parse_order(b->buf, b->len, b->pairs, b->n_pairs, out, NULL, NULL, diag);
}

static int op_open_orders(cb_exchange_t *ex, const char *pair, cb_ex_order_t **out, size_t *n,
                          cb_diag_t *diag)
{
    bn_t *b = B(ex);
    int r;
    char q[64] = "";
    if (!b->pairs && (r = load_pairs(b, diag)))
        return r;
    if (pair) {
        const cb_pair_info_t *p;
        if ((r = pair_of(b, pair, &p, diag)))
            return r;
        snprintf(q, sizeof q, "symbol=%s", p->symbol);
    }
    if ((r = bn_call(b, "GET", "/api/v3/openOrders", q[0] ? q : NULL, 1, pair ? 6 : 80, 1, diag)))
        return r;
    return cb_bn_parse_orders(b->buf, b->len, b->pairs, b->n_pairs, out, n, diag);
}

/* Fills *out from the two legs queried by client order id (after an ambiguous placement). */
static int oco_by_legs(cb_exchange_t *ex, const cb_ex_oco_req_t *req, cb_ex_oco_t *out,
                       cb_diag_t *diag)
{
    int r = op_query(ex, req->pair, req->limit_client_order_id, &out->limit_leg, diag);
    if (r == 0)
        r = op_query(ex, req->pair, req->stop_client_order_id, &out->stop_leg, diag);
    if (r == 0) {
        out->order_list_id = out->limit_leg.order_list_id;
        snprintf(out->list_client_id, sizeof out->list_client_id, "%s", req->list_client_id);
        out->done = !cb_ex_status_open(out->limit_leg.status) &&
                    !cb_ex_status_open(out->stop_leg.status);
    }
    return r;
}

static int op_place_oco(cb_exchange_t *ex, const cb_ex_oco_req_t *req, cb_ex_oco_t *out,
                        cb_diag_t *diag)
{
    bn_t *b = B(ex);
    const cb_pair_info_t *p;
    memset(out, 0, sizeof *out);
    int r = pair_of(b, req->pair, &p, diag);
    if (r)
        return r;
    if (!cb_client_order_id_valid(req->list_client_id))
        return cb_diag_set(diag, CB_EVALID, NULL, 0, 0, "list_client_id",
                           "client order id \"%.40s\" must be 1 to 36 characters of "
                           "A-Z a-z 0-9 . _ : / -",
                           req->list_client_id);
    /* Both legs through the same checks as single orders. */
    cb_ex_order_req_t lim = {.side = req->side, .type = CB_EX_ORDER_LIMIT, .qty = req->qty,
                             .price = req->limit_price};
    cb_ex_order_req_t stp = {.side = req->side,
                             .type = req->stop_limit_price ? CB_EX_ORDER_STOP_LOSS_LIMIT
                                                           : CB_EX_ORDER_STOP_LOSS,
                             .qty = req->qty, .price = req->stop_limit_price,
                             .stop_price = req->stop_price};
    snprintf(lim.client_order_id, sizeof lim.client_order_id, "%s", req->limit_client_order_id);
    snprintf(stp.client_order_id, sizeof stp.client_order_id, "%s", req->stop_client_order_id);
    cb_ex_order_req_t L, S;
    if ((r = cb_ex_order_prepare(p, &lim, 0, &L, diag)) ||
        (r = cb_ex_order_prepare(p, &stp, 0, &S, diag)))
        return r;
    char q[768], lp[48], sp[48], slp[48], qty[48];
    cb_dec_format(L.qty, p->qty_scale, qty, sizeof qty);
    cb_dec_format(L.price, p->price_scale, lp, sizeof lp);
    cb_dec_format(S.stop_price, p->price_scale, sp, sizeof sp);
    cb_dec_format(S.price, p->price_scale, slp, sizeof slp);
    /* Selling: the limit above, the stop below; buying: the other way round. */
    const char *lpos = req->side == CB_EX_SELL ? "above" : "below";
    const char *spos = req->side == CB_EX_SELL ? "below" : "above";
    int w = snprintf(q, sizeof q,
                     "symbol=%s&listClientOrderId=%s&side=%s&quantity=%s&%sType=LIMIT_MAKER"
                     "&%sPrice=%s&%sClientOrderId=%s&%sType=%s&%sStopPrice=%s"
                     "&%sClientOrderId=%s",
                     p->symbol, req->list_client_id, cb_ex_side_name(req->side), qty, lpos, lpos,
                     lp, lpos, L.client_order_id, spos, cb_ex_order_type_name(S.type), spos, sp,
                     spos, S.client_order_id);
    if (S.price)
        w += snprintf(q + w, sizeof q - (size_t)w, "&%sPrice=%s&%sTimeInForce=GTC", spos, slp,
                      spos);
    snprintf(q + w, sizeof q - (size_t)w, "&newOrderRespType=RESULT");
    r = bn_call(b, "POST", "/api/v3/orderList/oco", q, 1, 1, 0, diag);
    if (r == 0)
        return cb_bn_parse_order_list(b->buf, b->len, b->pairs, b->n_pairs, out, diag);
    if (r != BN_AMBIGUOUS)
        return r;
    /* The list may exist: ask for its legs, and never send it again from here. */
    for (int i = 0; i < 4; i++) {
        cb_diag_t qd;
        int qr = oco_by_legs(ex, req, out, &qd);
        if (qr == 0) {
            b->st.resolved_by_query++;
            return 0;
        }
        sleep_ms(b, 500);
    }
    return cb_diag_set(diag, CB_ETIMEOUT, NULL, 0, 0, NULL,
                       "order list %s: the exchange did not answer and its state could not be "
                       "established; query its legs later by their client order ids",
                       req->list_client_id);
}

static int op_cancel_oco(cb_exchange_t *ex, const char *pair, const char *list_client_id,
                         cb_ex_oco_t *out, cb_diag_t *diag)
{
    bn_t *b = B(ex);
    char q[128];
    memset(out, 0, sizeof *out);
    int r = id_query(b, pair, "listClientOrderId", list_client_id, q, diag);
    if (r)
        return r;
    if ((r = bn_call(b, "DELETE", "/api/v3/orderList", q, 1, 1, 1, diag)))
        return r;
    return cb_bn_parse_order_list(b->buf, b->len, b->pairs, b->n_pairs, out, diag);
}

static void op_free(cb_exchange_t *ex)
{
    bn_t *b = B(ex);
    if (b->curl)
        curl_easy_cleanup(b->curl);
    cb_api_keys_free(b->keys);
    free(b->pairs);
    free(b->buf);
    free(b);
}

static const cb_exchange_ops_t bn_ops = {
    .name = "binance",
    .server_time = op_server_time,
    .pairs = op_pairs,
    .candles = op_candles,
    .book_ticker = op_book,
    .balances = op_balances,
    .place_order = op_place,
    .cancel_order = op_cancel,
    .query_order = op_query,
    .open_orders = op_open_orders,
    .my_trades = op_my_trades,
    .free = op_free,
    .account = op_account,
    .place_oco = op_place_oco,
    .cancel_oco = op_cancel_oco,
};

int cb_binance_new(const cb_binance_opts_t *opts, cb_exchange_t **out, cb_diag_t *diag)
{
    *out = NULL;
    cb_binance_opts_t o = opts ? *opts : (cb_binance_opts_t){0};
    const char *url = o.base_url ? o.base_url : "https://api.binance.com";
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "api_url",
                           "'%.200s' is not an http:// or https:// URL", url);
    if (o.recv_window_ms < 0 || o.recv_window_ms > 60000)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "recv_window",
                           "recvWindow must be between 1 and 60000 ms");
    pthread_once(&curl_once, curl_init_once);
    bn_t *b = calloc(1, sizeof *b);
    if (!b)
        return cb_diag_set(diag, CB_ENOMEM, NULL, 0, 0, NULL, NULL);
    b->base.ops = &bn_ops;
    snprintf(b->url, sizeof b->url, "%s", url);
    size_t ul = strlen(b->url);
    while (ul > 0 && b->url[ul - 1] == '/')
        b->url[--ul] = '\0';
    b->recv_window = o.recv_window_ms ? o.recv_window_ms : 5000;
    b->connect_timeout_ms = o.connect_timeout_ms ? o.connect_timeout_ms : 5000;
    b->timeout_ms = o.timeout_ms ? o.timeout_ms : 15000;
    b->max_retries = o.max_retries == 0 ? 4 : o.max_retries < 0 ? 0 : o.max_retries;
    b->max_wait_ms = o.max_wait_ms ? o.max_wait_ms : 120000;
    b->weight_limit = o.weight_limit ? o.weight_limit : 6000;
    b->rng = o.jitter_seed ? o.jitter_seed : (uint64_t)cb_monotonic_ns();
    b->weight_minute = -1;
    if (o.keys && cb_api_keys_dup(o.keys, &b->keys)) {
        op_free(&b->base);
        return cb_diag_set(diag, CB_ENOMEM, NULL, 0, 0, NULL, NULL);
    }
    b->curl = curl_easy_init();
    if (!b->curl) {
        op_free(&b->base);
        return cb_diag_set(diag, CB_ENOMEM, NULL, 0, 0, NULL, "cannot start libcurl");
    }
    CURL *c = b->curl;
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, b->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, b->timeout_ms);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "comeback/0.1");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, b);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_VERBOSE, 0L);
    *out = &b->base;
    return 0;
}

void cb_binance_stats(const cb_exchange_t *ex, cb_binance_stats_t *out)
{
    if (ex && ex->ops == &bn_ops)
        *out = ((const bn_t *)ex)->st;
    else
        memset(out, 0, sizeof *out);
}
