/* The simulator's market streams over WebSocket (libwebsockets), Binance's way:
 *   /ws/<stream>  or  /stream?streams=<stream>/<stream>...   (combined: {"stream","data"})
 * with <stream> = <symbol>@kline_<interval>, <symbol>@bookTicker or <symbol>@trade.
 * When a candle closes the simulator sends its final kline (x=true), a trade at its close and
 * the new best bid/ask. The `drop` fault closes a connection instead of sending a message.
 * On /ws-api/v3 it serves Binance's WebSocket API for the user data stream: requests
 * {"id","method","params"} (ping, time, userDataStream.subscribe.signature,
 * userDataStream.unsubscribe) and, once subscribed, the account's events as
 * {"subscriptionId":N,"event":{...}} (executionReport, outboundAccountPosition,
 * balanceUpdate). */
#include "sim/sim_int.h"

#include <jansson.h>
#include <libwebsockets.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WS_QUEUE 512
#define WS_MAX_SUBS 16

typedef struct ws_sess {
    struct ws_sess *next;
    struct lws *wsi;
    int api;                    /* a WebSocket API session (/ws-api/v3) */
    int64_t sub_id;             /* its user data subscription, -1 = none */
    char *rx;                   /* a request being received */
    size_t rx_len;
    int combined;
    int drop;                   /* close at the next chance (fault) */
    struct {
        int market;
        int kind;               /* 0 kline, 1 bookTicker, 2 trade */
        char name[64];
    } subs[WS_MAX_SUBS];
    int n_subs;
    char *q[WS_QUEUE];
    size_t qh, qt;
} ws_sess_t;

typedef struct sim_ws {
    struct lws_context *ctx;
    pthread_t thread;
    int running;
    volatile int stop;
    lws_sorted_usec_list_t tick;
    ws_sess_t *sessions;
    size_t *emitted;            /* closed candles already streamed, per market */
    uint64_t rng;
    long trade_id;
} sim_ws_t;

static double ws_rand(sim_ws_t *w)
{
    uint64_t z = (w->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

static void lower(char *dst, size_t size, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < size; i++)
        dst[i] = (char)((src[i] >= 'A' && src[i] <= 'Z') ? src[i] + 32 : src[i]);
    dst[i] = '\0';
}

/* Parses one stream name; returns 0 and fills the subscription, or -1. */
static int parse_stream(cb_sim_t *sim, const char *name, ws_sess_t *s)
{
    if (s->n_subs >= WS_MAX_SUBS)
        return -1;
    const char *at = strchr(name, '@');
    if (!at)
        return -1;
    for (size_t i = 0; i < sim->n_mk; i++) {
        char sym[CB_EX_PAIR_MAX];
        lower(sym, sizeof sym, sim->mk[i].info.symbol);
        if (strlen(sym) != (size_t)(at - name) || strncmp(sym, name, (size_t)(at - name)) != 0)
            continue;
        int kind;
        if (strncmp(at + 1, "kline_", 6) == 0 && strcmp(at + 7, sim->tf.name) == 0)
            kind = 0;
        else if (strcmp(at + 1, "bookTicker") == 0)
            kind = 1;
        else if (strcmp(at + 1, "trade") == 0)
            kind = 2;
        else
            return -1;
        s->subs[s->n_subs].market = (int)i;
        s->subs[s->n_subs].kind = kind;
        snprintf(s->subs[s->n_subs].name, sizeof s->subs[0].name, "%s", name);
        s->n_subs++;
        return 0;
    }
    return -1;
}

static void enqueue(ws_sess_t *s, const char *stream, const char *payload)
{
    size_t used = s->qt - s->qh;
    if (used >= WS_QUEUE) {
        s->drop = 1; /* a client this slow is cut off, as Binance does */
        return;
    }
    char *m;
    if (s->combined && stream) {
        size_t n = strlen(stream) + strlen(payload) + 32;
        m = malloc(n);
        if (m)
            snprintf(m, n, "{\"stream\":\"%s\",\"data\":%s}", stream, payload);
    } else {
        m = strdup(payload);
    }
    if (m)
        s->q[s->qt++ % WS_QUEUE] = m;
}

/* A user data event to every subscribed session (under sim->mu). */
static void emit_account(cb_sim_t *sim, json_t *event)
{
    sim_ws_t *w = sim->ws;
    for (ws_sess_t *se = w ? w->sessions : NULL; se; se = se->next) {
        if (!se->api || se->sub_id < 0)
            continue;
        if (sim->faults.pdrop > 0 && ws_rand(w) < sim->faults.pdrop) {
            se->drop = 1;
            sim->counts.drop++;
        }
        json_t *o = json_pack("{s:I, s:O}", "subscriptionId", (json_int_t)se->sub_id, "event",
                              event);
        char *m = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        if (m)
            enqueue(se, NULL, m);
        free(m);
    }
    json_decref(event);
}

static json_t *amount8(int64_t v, int scale)
{
    char b[48];
    sim_fmt8(v, scale, b, sizeof b);
    return json_string(b);
}

static void position_event(cb_sim_t *sim, const char *a1, const char *a2, int64_t t)
{
    json_t *b = json_array();
    const char *as[2] = {a1, a2};
    for (int i = 0; i < 2; i++) {
        sim_asset_t *a = as[i] ? sim_asset(sim, as[i], 0) : NULL;
        if (a)
            json_array_append_new(b, json_pack("{s:s, s:o, s:o}", "a", a->asset, "f",
                                               amount8(a->free, 8), "l", amount8(a->locked, 8)));
    }
    emit_account(sim, json_pack("{s:s, s:I, s:I, s:o}", "e", "outboundAccountPosition", "E",
                                (json_int_t)t, "u", (json_int_t)t, "B", b));
}

/* 1 when a session is subscribed to the account (events are built only then). */
static int any_subscriber(const cb_sim_t *sim)
{
    for (const ws_sess_t *se = sim->ws ? sim->ws->sessions : NULL; se; se = se->next)
        if (se->api && se->sub_id >= 0)
            return 1;
    return 0;
}

void sim_ws_order_event_locked(cb_sim_t *sim, const sim_order_t *so, const char *exec_type,
                               const cb_ex_fill_t *f)
{
    if (!any_subscriber(sim))
        return;
    const sim_market_t *m = &sim->mk[so->market];
    const cb_pair_info_t *p = &m->info;
    const cb_ex_order_t *o = &so->o;
    int cancel = strcmp(exec_type, "CANCELED") == 0;
    int64_t t = o->updated_ms;
    json_t *e = json_object();
    json_object_set_new(e, "e", json_string("executionReport"));
    json_object_set_new(e, "E", json_integer(t));
    json_object_set_new(e, "s", json_string(p->symbol));
    json_object_set_new(e, "c", json_string(o->client_order_id));
    json_object_set_new(e, "S", json_string(cb_ex_side_name(o->side)));
    json_object_set_new(e, "o", json_string(so->limit_maker ? "LIMIT_MAKER"
                                                            : cb_ex_order_type_name(o->type)));
    json_object_set_new(e, "f", json_string(cb_ex_tif_name(o->time_in_force)));
    json_object_set_new(e, "q", amount8(o->qty, p->qty_scale));
    json_object_set_new(e, "p", amount8(o->price, p->price_scale));
    json_object_set_new(e, "P", amount8(o->stop_price, p->price_scale));
    json_object_set_new(e, "F", json_string("0.00000000"));
    json_object_set_new(e, "g", json_integer(o->order_list_id ? o->order_list_id : -1));
    json_object_set_new(e, "C", json_string(cancel ? o->client_order_id : ""));
    json_object_set_new(e, "x", json_string(exec_type));
    json_object_set_new(e, "X", json_string(cb_ex_status_name(o->status)));
    json_object_set_new(e, "r", json_string("NONE"));
    json_object_set_new(e, "i", json_integer(o->order_id));
    json_object_set_new(e, "l", amount8(f ? f->qty : 0, p->qty_scale));
    json_object_set_new(e, "z", amount8(o->executed_qty, p->qty_scale));
    json_object_set_new(e, "L", amount8(f ? f->price : 0, p->price_scale));
    json_object_set_new(e, "n", amount8(f ? f->fee : 0, 8));
    json_object_set_new(e, "N", f ? json_string(f->fee_asset) : json_null());
    json_object_set_new(e, "T", json_integer(t));
    json_object_set_new(e, "t", json_integer(f ? f->trade_id : -1));
    json_object_set_new(e, "I", json_integer(o->order_id * 2 + (f ? 1 : 0)));
    json_object_set_new(e, "w", json_boolean(cb_ex_status_open(o->status)));
    json_object_set_new(e, "m", json_boolean(f && f->maker));
    json_object_set_new(e, "M", json_false());
    json_object_set_new(e, "O", json_integer(o->created_ms));
    json_object_set_new(e, "Z", amount8(o->quote_qty, p->price_scale + p->qty_scale));
    json_object_set_new(e, "Y", amount8(f ? f->price * f->qty : 0, p->price_scale + p->qty_scale));
    json_object_set_new(e, "Q", amount8(so->quote_order_qty, 8));
    json_object_set_new(e, "W", json_integer(o->created_ms));
    json_object_set_new(e, "V", json_string("NONE"));
    emit_account(sim, e);
    position_event(sim, p->base, p->quote, t);
}

void sim_ws_balance_event_locked(cb_sim_t *sim, const char *asset, int64_t delta)
{
    if (!any_subscriber(sim))
        return;
    int64_t t = sim_now_locked(sim);
    emit_account(sim, json_pack("{s:s, s:I, s:s, s:o, s:I}", "e", "balanceUpdate", "E",
                                (json_int_t)t, "a", asset, "d", amount8(delta, 8), "T",
                                (json_int_t)t));
    position_event(sim, asset, NULL, t);
}

/* ---- the WebSocket API -------------------------------------------------------------- */

/* Binance's notice that a subscription ended (unsubscribe, logout, a revoked key). */
static void terminated(cb_sim_t *sim, ws_sess_t *se, int64_t sub_id)
{
    char m[160];
    snprintf(m, sizeof m,
             "{\"subscriptionId\":%lld,\"event\":{\"e\":\"eventStreamTerminated\",\"E\":%lld}}",
             (long long)sub_id, (long long)sim_now_locked(sim));
    enqueue(se, NULL, m);
}

void cb_sim_end_user_streams(cb_sim_t *sim)
{
    pthread_mutex_lock(&sim->mu);
    for (ws_sess_t *se = sim->ws ? sim->ws->sessions : NULL; se; se = se->next)
        if (se->api && se->sub_id >= 0) {
            terminated(sim, se, se->sub_id);
            se->sub_id = -1;
        }
    pthread_mutex_unlock(&sim->mu);
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Binance's signature payload of a WebSocket API request: every parameter but `signature`,
 * sorted by name, as name=value joined by '&' (strings as they are, numbers as written). */
static char *ws_payload(json_t *params)
{
    const char *names[64];
    size_t n = 0, cap = 1;
    const char *key;
    json_t *v;
    json_object_foreach(params, key, v)
    {
        if (strcmp(key, "signature") == 0)
            continue;
        if (n == 64 || !(json_is_string(v) || json_is_integer(v) || json_is_boolean(v)))
            return NULL;
        names[n++] = key;
        cap += strlen(key) + 2 + (json_is_string(v) ? strlen(json_string_value(v)) : 24);
    }
    qsort(names, n, sizeof names[0], cmp_keys);
    char *out = malloc(cap);
    if (!out)
        return NULL;
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        v = json_object_get(params, names[i]);
        if (json_is_string(v))
            w += (size_t)snprintf(out + w, cap - w, "%s%s=%s", i ? "&" : "", names[i],
                                  json_string_value(v));
        else if (json_is_integer(v))
            w += (size_t)snprintf(out + w, cap - w, "%s%s=%lld", i ? "&" : "", names[i],
                                  (long long)json_integer_value(v));
        else
            w += (size_t)snprintf(out + w, cap - w, "%s%s=%s", i ? "&" : "", names[i],
                                  json_is_true(v) ? "true" : "false");
    }
    out[w] = '\0';
    return out;
}

static json_t *api_error(json_t *id, int status, int code, const char *msg)
{
    return json_pack("{s:O, s:i, s:{s:i, s:s}}", "id", id ? id : json_null(), "status", status,
                     "error", "code", code, "msg", msg);
}

/* userDataStream.subscribe.signature: apiKey, timestamp, [recvWindow], signature. */
static json_t *api_subscribe(cb_sim_t *sim, int64_t *sub_id, json_t *id, json_t *params)
{
    char msg[160];
    json_t *jk = json_object_get(params, "apiKey"), *jt = json_object_get(params, "timestamp"),
           *jr = json_object_get(params, "recvWindow"), *js = json_object_get(params, "signature");
    if (!json_is_string(jk) || !json_string_length(jk))
        return api_error(id, 400, -1102, "Mandatory parameter 'apiKey' was not sent, was "
                                          "empty/null, or malformed.");
    if (!json_is_integer(jt))
        return api_error(id, 400, -1102, "Mandatory parameter 'timestamp' was not sent, was "
                                          "empty/null, or malformed.");
    if (!json_is_string(js) || !json_string_length(js))
        return api_error(id, 400, -1102, "Mandatory parameter 'signature' was not sent, was "
                                          "empty/null, or malformed.");
    if (jr && (!json_is_integer(jr) || json_integer_value(jr) <= 0))
        return api_error(id, 400, -1130, "Data sent for parameter 'recvWindow' is not valid.");
    int code = sim_check_key_locked(sim, json_string_value(jk), msg, sizeof msg);
    if (code)
        return api_error(id, 401, code, msg);
    char *payload = ws_payload(params);
    if (!payload)
        return api_error(id, 400, -1000, "An unknown error occurred while processing the "
                                         "request.");
    int ok = sim_signature_ok(sim, payload, strlen(payload), json_string_value(js));
    free(payload);
    if (!ok)
        return api_error(id, 400, -1022, "Signature for this request is not valid.");
    code = sim_check_time_locked(sim, json_integer_value(jt), jr ? json_integer_value(jr) : 5000,
                                 msg, sizeof msg);
    if (code)
        return api_error(id, 400, code, msg);
    if (*sub_id >= 0)
        return api_error(id, 400, -2038, "This account is already subscribed to User Data "
                                         "Stream on this connection.");
    *sub_id = sim->next_sub_id++;
    sim_log(sim, "user data stream subscribed (subscription %lld)", (long long)*sub_id);
    return json_pack("{s:O, s:i, s:{s:I}}", "id", id, "status", 200, "result", "subscriptionId",
                     (json_int_t)*sub_id);
}

char *sim_ws_api_reply_locked(cb_sim_t *sim, int64_t *sub_id, const char *text, size_t len)
{
    json_error_t e;
    json_t *req = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e), *resp;
    json_t *id = json_is_object(req) ? json_object_get(req, "id") : NULL;
    json_t *method = json_is_object(req) ? json_object_get(req, "method") : NULL;
    json_t *params = json_is_object(req) ? json_object_get(req, "params") : NULL;
    if (id && !(json_is_string(id) || json_is_integer(id) || json_is_null(id)))
        id = NULL;
    const char *mname = json_is_string(method) ? json_string_value(method) : NULL;
    if (mname && strncmp(mname, "v3/", 3) == 0)
        mname += 3;
    if (!json_is_object(req) || !mname)
        resp = api_error(NULL, 400, -1102, "Mandatory parameter 'method' was not sent, was "
                                           "empty/null, or malformed.");
    else if (params && !json_is_object(params))
        resp = api_error(id, 400, -1102, "Mandatory parameter 'params' was not sent, was "
                                         "empty/null, or malformed.");
    else if (strcmp(mname, "ping") == 0)
        resp = json_pack("{s:O, s:i, s:{}}", "id", id ? id : json_null(), "status", 200,
                         "result");
    else if (strcmp(mname, "time") == 0)
        resp = json_pack("{s:O, s:i, s:{s:I}}", "id", id ? id : json_null(), "status", 200,
                         "result", "serverTime", (json_int_t)sim_now_locked(sim));
    else if (strcmp(mname, "userDataStream.subscribe.signature") == 0)
        resp = params ? api_subscribe(sim, sub_id, id ? id : json_null(), params)
                      : api_error(id, 400, -1102, "Mandatory parameter 'apiKey' was not sent, "
                                                  "was empty/null, or malformed.");
    else if (strcmp(mname, "userDataStream.unsubscribe") == 0) {
        *sub_id = -1; /* (the session's eventStreamTerminated is queued by the caller) */
        resp = json_pack("{s:O, s:i, s:{}}", "id", id ? id : json_null(), "status", 200,
                         "result");
    } else
        resp = api_error(id, 400, -1020, "This operation is not supported.");
    char *m = json_dumps(resp, JSON_COMPACT);
    json_decref(resp);
    json_decref(req);
    return m;
}

static char *fmt_px(const sim_market_t *m, double p, char *buf, size_t size)
{
    sim_fmt8((int64_t)llround(p * (double)cb_pow10_i64(m->info.price_scale)),
             m->info.price_scale, buf, size);
    return buf;
}

/* Messages for candle k of market mi, sent to every subscriber. Runs under sim->mu. */
static void emit_candle(cb_sim_t *sim, sim_ws_t *w, size_t mi, size_t k)
{
    const sim_market_t *m = &sim->mk[mi];
    const cb_series_t *s = m->s;
    int64_t t = s->time_ms[k], ct = cb_timeframe_next(&sim->tf, t) - 1;
    char o[48], h[48], l[48], c[48], v[48], sym_lc[CB_EX_PAIR_MAX];
    fmt_px(m, s->open[k], o, sizeof o);
    fmt_px(m, s->high[k], h, sizeof h);
    fmt_px(m, s->low[k], l, sizeof l);
    fmt_px(m, s->close[k], c, sizeof c);
    snprintf(v, sizeof v, "%.8f", s->volume[k]);
    lower(sym_lc, sizeof sym_lc, m->info.symbol);
    char kline[1024], trade[512], book[512];
    long tid = ++w->trade_id;
    snprintf(kline, sizeof kline,
             "{\"e\":\"kline\",\"E\":%lld,\"s\":\"%s\",\"k\":{\"t\":%lld,\"T\":%lld,\"s\":\"%s\","
             "\"i\":\"%s\",\"f\":%ld,\"L\":%ld,\"o\":\"%s\",\"c\":\"%s\",\"h\":\"%s\",\"l\":\"%s\","
             "\"v\":\"%s\",\"n\":1,\"x\":true,\"q\":\"0\",\"V\":\"0\",\"Q\":\"0\",\"B\":\"0\"}}",
             (long long)ct + 1, m->info.symbol, (long long)t, (long long)ct, m->info.symbol,
             sim->tf.name, tid, tid, o, c, h, l, v);
    snprintf(trade, sizeof trade,
             "{\"e\":\"trade\",\"E\":%lld,\"s\":\"%s\",\"t\":%ld,\"p\":\"%s\",\"q\":\"%s\","
             "\"T\":%lld,\"m\":false,\"M\":true}",
             (long long)ct, m->info.symbol, tid, c, v, (long long)ct);
    char bid[48];
    int64_t px = k + 1 < s->n ? (int64_t)llround(s->open[k + 1] *
                                                 (double)cb_pow10_i64(m->info.price_scale))
                              : (int64_t)llround(s->close[k] *
                                                 (double)cb_pow10_i64(m->info.price_scale));
    sim_fmt8(px, m->info.price_scale, bid, sizeof bid);
    snprintf(book, sizeof book,
             "{\"u\":%ld,\"s\":\"%s\",\"b\":\"%s\",\"B\":\"1000.00000000\",\"a\":\"%s\","
             "\"A\":\"1000.00000000\"}",
             tid, m->info.symbol, bid, bid);
    for (ws_sess_t *se = w->sessions; se; se = se->next) {
        for (int i = 0; i < se->n_subs; i++) {
            if (se->subs[i].market != (int)mi)
                continue;
            if (sim->faults.pdrop > 0 && ws_rand(w) < sim->faults.pdrop) {
                se->drop = 1;
                sim->counts.drop++;
            }
            const char *msg = se->subs[i].kind == 0 ? kline : se->subs[i].kind == 1 ? book
                                                                                      : trade;
            enqueue(se, se->subs[i].name, msg);
        }
    }
}

static void on_tick(lws_sorted_usec_list_t *sul)
{
    sim_ws_t *w = lws_container_of(sul, sim_ws_t, tick);
    cb_sim_t *sim = lws_context_user(w->ctx);
    pthread_mutex_lock(&sim->mu);
    sim_sync_locked(sim);
    for (size_t mi = 0; mi < sim->n_mk; mi++) {
        /* Stream only what closed while running; history is for REST. Bound one tick. */
        size_t closed = sim->mk[mi].closed;
        if (closed > w->emitted[mi] + 1000)
            w->emitted[mi] = closed - 1000;
        for (; w->emitted[mi] < closed; w->emitted[mi]++)
            emit_candle(sim, w, mi, w->emitted[mi]);
    }
    for (ws_sess_t *se = w->sessions; se; se = se->next)
        if (se->qt != se->qh || se->drop)
            lws_callback_on_writable(se->wsi);
    pthread_mutex_unlock(&sim->mu);
    if (!w->stop)
        lws_sul_schedule(w->ctx, 0, &w->tick, on_tick, 50 * LWS_US_PER_MS);
}

static int ws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                 size_t len)
{
    struct lws_context *ctx = lws_get_context(wsi);
    cb_sim_t *sim = ctx ? lws_context_user(ctx) : NULL;
    sim_ws_t *w = sim ? sim->ws : NULL;
    ws_sess_t *se = user;
    (void)in;
    (void)len;
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED: {
        memset(se, 0, sizeof *se);
        se->wsi = wsi;
        char uri[256] = "", args[1024] = "";
        lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI);
        int ok = 0;
        se->sub_id = -1;
        if (strcmp(uri, "/ws-api/v3") == 0) {
            se->api = ok = 1;
        } else if (strncmp(uri, "/ws/", 4) == 0) {
            ok = parse_stream(sim, uri + 4, se) == 0;
        } else if (strcmp(uri, "/stream") == 0 &&
                   lws_hdr_copy_fragment(wsi, args, sizeof args, WSI_TOKEN_HTTP_URI_ARGS, 0) > 0 &&
                   strncmp(args, "streams=", 8) == 0) {
            se->combined = 1;
            ok = 1;
            char *save = NULL;
            for (char *it = strtok_r(args + 8, "/", &save); it && ok;
                 it = strtok_r(NULL, "/", &save))
                ok = parse_stream(sim, it, se) == 0;
        }
        if (!ok) {
            sim_log(sim, "websocket %s: unknown stream", uri);
            return -1;
        }
        pthread_mutex_lock(&sim->mu);
        se->next = w->sessions;
        w->sessions = se;
        pthread_mutex_unlock(&sim->mu);
        if (se->api)
            sim_log(sim, "websocket API session connected");
        else
            sim_log(sim, "websocket connected: %d stream%s", se->n_subs,
                    se->n_subs == 1 ? "" : "s");
        return 0;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE: {
        /* Account events are queued (and drops decided) by the HTTP threads too: look under
         * the lock. */
        pthread_mutex_lock(&sim->mu);
        int drop = se->drop;
        char *m = drop || se->qh == se->qt ? NULL : se->q[se->qh++ % WS_QUEUE];
        int more = se->qh != se->qt;
        pthread_mutex_unlock(&sim->mu);
        if (drop) {
            sim_log(sim, "websocket dropped (fault)");
            return -1;
        }
        if (!m)
            return 0;
        size_t n = strlen(m);
        unsigned char *buf = malloc(LWS_PRE + n);
        int r = -1;
        if (buf) {
            memcpy(buf + LWS_PRE, m, n);
            r = lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n ? -1 : 0;
            free(buf);
        }
        free(m);
        if (r == 0 && more)
            lws_callback_on_writable(wsi);
        return r;
    }
    case LWS_CALLBACK_RECEIVE: {
        if (!se->api)
            return 0; /* SUBSCRIBE requests are not supported: streams are chosen by the URL */
        if (se->rx_len + len > 65536)
            return -1; /* no request is this large */
        char *nb = realloc(se->rx, se->rx_len + len + 1);
        if (!nb)
            return -1;
        se->rx = nb;
        memcpy(se->rx + se->rx_len, in, len);
        se->rx_len += len;
        if (!lws_is_final_fragment(wsi))
            return 0;
        pthread_mutex_lock(&sim->mu);
        sim_sync_locked(sim);
        int64_t was = se->sub_id;
        char *reply = sim_ws_api_reply_locked(sim, &se->sub_id, se->rx, se->rx_len);
        if (reply)
            enqueue(se, NULL, reply);
        free(reply);
        if (was >= 0 && se->sub_id < 0)
            terminated(sim, se, was);
        pthread_mutex_unlock(&sim->mu);
        se->rx_len = 0;
        lws_callback_on_writable(wsi);
        return 0;
    }
    case LWS_CALLBACK_CLOSED: {
        if (!w)
            return 0;
        pthread_mutex_lock(&sim->mu);
        for (ws_sess_t **pp = &w->sessions; *pp; pp = &(*pp)->next)
            if (*pp == se) {
                *pp = se->next;
                break;
            }
        pthread_mutex_unlock(&sim->mu);
        while (se->qh != se->qt)
            free(se->q[se->qh++ % WS_QUEUE]);
        free(se->rx);
        se->rx = NULL;
        return 0;
    }
    default:
        return 0;
    }
}

static const struct lws_protocols ws_protocols[] = {
    {"binance-stream", ws_cb, sizeof(ws_sess_t), 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}};

static void *ws_thread(void *arg)
{
    sim_ws_t *w = arg;
    while (!w->stop)
        if (lws_service(w->ctx, 0) < 0)
            break;
    return NULL;
}

int sim_ws_start(cb_sim_t *sim, cb_diag_t *diag)
{
    sim_ws_t *w = calloc(1, sizeof *w);
    if (!w || !(w->emitted = calloc(sim->n_mk, sizeof *w->emitted))) {
        free(w);
        return cb_diag_set(diag, CB_ENOMEM, NULL, 0, 0, NULL, NULL);
    }
    for (size_t i = 0; i < sim->n_mk; i++)
        w->emitted[i] = sim->mk[i].closed;
    w->rng = sim->faults.seed ^ 0x5753ULL;
    lws_set_log_level(0, NULL);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = sim->opts.ws_port;
    info.iface = sim->host;
    info.protocols = ws_protocols;
    info.user = sim;
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
    sim->ws = w;
    w->ctx = lws_create_context(&info);
    if (!w->ctx) {
        free(w->emitted);
        free(w);
        sim->ws = NULL;
        return cb_diag_set(diag, CB_EIO, NULL, 0, 0, "--ws-listen",
                           "cannot listen for WebSocket streams on %s", sim->host);
    }
    struct lws_vhost *vh = lws_get_vhost_by_name(w->ctx, "default");
    sim->ws_port = vh ? lws_get_vhost_listen_port(vh) : sim->opts.ws_port;
    lws_sul_schedule(w->ctx, 0, &w->tick, on_tick, 50 * LWS_US_PER_MS);
    if (pthread_create(&w->thread, NULL, ws_thread, w) != 0) {
        lws_context_destroy(w->ctx);
        free(w->emitted);
        free(w);
        sim->ws = NULL;
        return cb_diag_set(diag, CB_EIO, NULL, 0, 0, NULL, "cannot start a thread");
    }
    w->running = 1;
    sim_log(sim, "streams on ws://%s:%d/ws/<stream> and /stream?streams=...", sim->host,
            sim->ws_port);
    return 0;
}

void sim_ws_stop(cb_sim_t *sim)
{
    sim_ws_t *w = sim->ws;
    if (!w)
        return;
    w->stop = 1;
    if (w->running) {
        lws_cancel_service(w->ctx);
        pthread_join(w->thread, NULL);
    }
    lws_context_destroy(w->ctx);
    free(w->emitted);
    free(w);
    sim->ws = NULL;
}
