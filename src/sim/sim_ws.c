/* The simulator's market streams over WebSocket (libwebsockets), Binance's way:
 *   /ws/<stream>  or  /stream?streams=<stream>/<stream>...   (combined: {"stream","data"})
 * with <stream> = <symbol>@kline_<interval>, <symbol>@bookTicker or <symbol>@trade.
 * When a candle closes the simulator sends its final kline (x=true), a trade at its close and
 * the new best bid/ask. The `drop` fault closes a connection instead of sending a message.
 * On /ws-api/v3 it serves Binance's WebSocket API for the user data stream: requests
 * {"id","method","params"} (ping, time, userDataStream.subscribe.signature,
 * userDataStream.unsubscribe) and, once subscribed, the account's events as
 * {"subscriptionId":N,"event":{...}} (executionReport, outboundAccountPosition,
 * balanceUpdate).
 * libwebsockets carries the bytes (its event loop, timers and raw sockets); the handshake and
 * the framing are done here, because RFC 6455 requires a server to refuse what libwebsockets
 * 4.1 lets through: unmasked client frames (close 1002) and text that is not UTF-8 (1007). */
#include "sim/sim_int.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define WS_QUEUE 512
#define WS_MAX_SUBS 16
#define WS_MAX_MSG 65536  /* the largest message a client may send (requests are small) */
#define WS_MAX_HS 8192    /* the largest handshake request */
#define WS_LINGER_S 1     /* after a close frame: how long the client has to close its end */

typedef struct ws_sess {
    struct ws_sess *next;
    struct lws *wsi;
    int open;                   /* the handshake is done: a WebSocket */
    uint32_t addr;              /* the client's IPv4 address */
    int64_t since_ns;           /* when it connected (monotonic) */
    unsigned char *in;          /* bytes received and not parsed yet */
    size_t in_len;
    char *msg;                  /* a fragmented message being put together */
    size_t msg_len;
    int msg_op;                 /* its opcode (1 text, 2 binary), 0 = none */
    char *hs_reply;             /* the handshake's answer, to send */
    int hs_refused;             /* ... which refuses the connection */
    unsigned char pong[125];    /* a pong to send (the last ping's payload) */
    int pong_len;               /* -1 = none */
    int close_code;             /* a close frame to send: 1005 = without a code, 0 = none */
    int peer_closed;            /* the client sent its close frame */
    int closing;                /* our close frame is sent: input is discarded */
    int api;                    /* a WebSocket API session (/ws-api/v3) */
    int64_t sub_id;             /* its user data subscription, -1 = none */
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

/* ---- the connection: handshake and frames (RFC 6455) ------------------------------------ */

/* 1 when s[0, n) is well-formed UTF-8 (no overlong forms, no surrogates, at most U+10FFFF). */
static int utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        unsigned min, cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            k = 1, min = 0x80, cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            k = 2, min = 0x800, cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            k = 3, min = 0x10000, cp = c & 0x07;
        } else {
            return 0;
        }
        if (n - i <= k)
            return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + j] & 0x3fu);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += k + 1;
    }
    return 1;
}

/* A status code a close frame may carry (RFC 6455 7.4: 1004-1006 and 1015 are never sent). */
static int close_code_ok(unsigned code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
           (code >= 3000 && code <= 4999);
}

/* Fails the connection: a close frame with code, then the end. */
static void ws_fail(cb_sim_t *sim, ws_sess_t *se, int code, const char *why)
{
    if (se->close_code)
        return;
    se->close_code = code;
    sim_log(sim, "websocket closed with %d: %s", code, why);
}

/* The value of header `name` in the request head h (lines ending in \r\n), or NULL; copied to
 * out. */
static const char *header(const char *h, const char *name, char *out, size_t size)
{
    size_t nl = strlen(name);
    for (const char *l = strstr(h, "\r\n"); l && l[2]; l = strstr(l + 2, "\r\n")) {
        const char *p = l + 2;
        if (strncasecmp(p, name, nl) != 0 || p[nl] != ':')
            continue;
        p += nl + 1;
        while (*p == ' ' || *p == '\t')
            p++;
        const char *e = strstr(p, "\r\n");
        size_t n = e ? (size_t)(e - p) : strlen(p);
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n >= size)
            n = size - 1;
        memcpy(out, p, n);
        out[n] = '\0';
        return out;
    }
    return NULL;
}

/* 1 when the comma-separated list `v` contains `token` (case-insensitive). */
static int has_token(const char *v, const char *token)
{
    size_t tl = strlen(token);
    for (const char *p = v; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ",");
        size_t m = n;
        while (m && p[m - 1] == ' ')
            m--;
        if (m == tl && strncasecmp(p, token, tl) == 0)
            return 1;
        p += n;
    }
    return 0;
}

static void hs_refuse(cb_sim_t *sim, ws_sess_t *se, const char *status, const char *extra,
                      const char *why)
{
    size_t n = strlen(status) + strlen(extra) + 96;
    se->hs_reply = malloc(n);
    if (se->hs_reply)
        snprintf(se->hs_reply, n, "HTTP/1.1 %s\r\n%sContent-Length: 0\r\nConnection: close\r\n\r\n",
                 status, extra);
    se->hs_refused = 1;
    sim_log(sim, "websocket refused (%s): %s", status, why);
}

/* Chooses the streams of a request target, as Binance's URLs do. Returns 1 when known. */
static int route(cb_sim_t *sim, ws_sess_t *se, const char *target)
{
    char path[1024];
    snprintf(path, sizeof path, "%s", target);
    char *q = strchr(path, '?');
    if (q)
        *q++ = '\0';
    if (strcmp(path, "/ws-api/v3") == 0)
        return se->api = 1;
    if (strncmp(path, "/ws/", 4) == 0)
        return parse_stream(sim, path + 4, se) == 0;
    if (strcmp(path, "/stream") != 0 || !q || strncmp(q, "streams=", 8) != 0)
        return 0;
    char *amp = strchr(q, '&');
    if (amp)
        *amp = '\0';
    se->combined = 1;
    char *save = NULL;
    for (char *it = strtok_r(q + 8, "/", &save); it; it = strtok_r(NULL, "/", &save))
        if (parse_stream(sim, it, se) != 0)
            return 0;
    return se->n_subs > 0;
}

/* The opening handshake once its head has arrived: 101 and a WebSocket, or a refusal.
 * Returns the bytes of se->in it used (0: not complete yet). */
static size_t handshake(cb_sim_t *sim, ws_sess_t *se)
{
    char *end = memmem(se->in, se->in_len, "\r\n\r\n", 4);
    if (!end) {
        if (se->in_len > WS_MAX_HS)
            hs_refuse(sim, se, "431 Request Header Fields Too Large", "", "a head over 8 KB");
        return 0;
    }
    size_t used = (size_t)(end - (char *)se->in) + 4;
    char *h = malloc(used + 1);
    if (!h) {
        hs_refuse(sim, se, "503 Service Unavailable", "", "out of memory");
        return used;
    }
    memcpy(h, se->in, used);
    h[used] = '\0';
    char method[16] = "", target[1024] = "", version[16] = "", v[256];
    const char *key = NULL;
    char keybuf[64];
    if (sscanf(h, "%15s %1023s %15s", method, target, version) != 3 ||
        strcmp(version, "HTTP/1.1") != 0)
        hs_refuse(sim, se, "400 Bad Request", "", "not an HTTP/1.1 request");
    else if (strcmp(method, "GET") != 0)
        hs_refuse(sim, se, "405 Method Not Allowed", "Allow: GET\r\n", method);
    else if (!header(h, "Upgrade", v, sizeof v) || !has_token(v, "websocket") ||
             !header(h, "Connection", v, sizeof v) || !has_token(v, "upgrade"))
        hs_refuse(sim, se, "426 Upgrade Required", "Upgrade: websocket\r\n",
                  "not a WebSocket upgrade");
    else if (!header(h, "Sec-WebSocket-Version", v, sizeof v) || strcmp(v, "13") != 0)
        hs_refuse(sim, se, "426 Upgrade Required", "Sec-WebSocket-Version: 13\r\n",
                  "not WebSocket version 13");
    else if (!(key = header(h, "Sec-WebSocket-Key", keybuf, sizeof keybuf)) ||
             strlen(key) != 24)
        hs_refuse(sim, se, "400 Bad Request", "", "no valid Sec-WebSocket-Key");
    else if (!route(sim, se, target))
        hs_refuse(sim, se, "404 Not Found", "", target);
    free(h);
    if (se->hs_refused)
        return used;
    /* Sec-WebSocket-Accept = base64(SHA-1(key + the RFC's GUID)) */
    char cat[128];
    unsigned char md[20];
    snprintf(cat, sizeof cat, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
    lws_SHA1((const unsigned char *)cat, strlen(cat), md);
    char acc[64];
    lws_b64_encode_string((const char *)md, 20, acc, sizeof acc);
#define WS_101 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n" \
               "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n"
    size_t n = sizeof WS_101 + strlen(acc);
    if (!(se->hs_reply = malloc(n))) {
        hs_refuse(sim, se, "503 Service Unavailable", "", "out of memory");
        return used;
    }
    snprintf(se->hs_reply, n, WS_101, acc);
#undef WS_101
    pthread_mutex_lock(&sim->mu);
    se->open = 1; /* account events and candles are queued for it from now on */
    pthread_mutex_unlock(&sim->mu);
    if (se->wsi)
        lws_set_timeout(se->wsi, NO_PENDING_TIMEOUT, 0);
    if (se->api)
        sim_log(sim, "websocket API session connected");
    else
        sim_log(sim, "websocket connected: %d stream%s", se->n_subs, se->n_subs == 1 ? "" : "s");
    return used;
}

/* A whole message from the client. */
static void on_message(cb_sim_t *sim, ws_sess_t *se, int op, const char *m, size_t len)
{
    if (op == 2) {
        ws_fail(sim, se, 1003, "a binary message (only text is served)");
        return;
    }
    if (!utf8_ok((const unsigned char *)m, len)) {
        ws_fail(sim, se, 1007, "a text message that is not UTF-8");
        return;
    }
    if (!se->api)
        return; /* SUBSCRIBE requests are not supported: streams are chosen by the URL */
    pthread_mutex_lock(&sim->mu);
    sim_sync_locked(sim);
    int64_t was = se->sub_id;
    char *reply = sim_ws_api_reply_locked(sim, &se->sub_id, m, len);
    if (reply)
        enqueue(se, NULL, reply);
    free(reply);
    if (was >= 0 && se->sub_id < 0)
        terminated(sim, se, was);
    pthread_mutex_unlock(&sim->mu);
}

/* One frame from the client, its payload unmasked. */
static void on_frame(cb_sim_t *sim, ws_sess_t *se, int fin, int op, unsigned char *p, size_t n)
{
    if (op == 8) {
        se->peer_closed = 1;
        if (n == 1) {
            ws_fail(sim, se, 1002, "a close frame of one byte");
        } else if (n >= 2 && !close_code_ok((unsigned)p[0] << 8 | p[1])) {
            ws_fail(sim, se, 1002, "a close frame with an invalid status code");
        } else if (n > 2 && !utf8_ok(p + 2, n - 2)) {
            ws_fail(sim, se, 1007, "a close reason that is not UTF-8");
        } else {
            se->close_code = n >= 2 ? (int)((unsigned)p[0] << 8 | p[1]) : 1005; /* echoed */
        }
        return;
    }
    if (op == 9) {
        memcpy(se->pong, p, n);
        se->pong_len = (int)n;
        return;
    }
    if (op == 10)
        return;
    if (op == 0 && !se->msg_op) {
        ws_fail(sim, se, 1002, "a continuation frame outside a message");
        return;
    }
    if (op != 0 && se->msg_op) {
        ws_fail(sim, se, 1002, "a new message inside a fragmented one");
        return;
    }
    if (op != 0 && fin) {
        on_message(sim, se, op, (const char *)p, n);
        return;
    }
    if (se->msg_len + n > WS_MAX_MSG) {
        ws_fail(sim, se, 1009, "a message over 64 KB");
        return;
    }
    char *nb = realloc(se->msg, se->msg_len + n + 1);
    if (!nb) {
        ws_fail(sim, se, 1011, "out of memory");
        return;
    }
    se->msg = nb;
    memcpy(se->msg + se->msg_len, p, n);
    se->msg_len += n;
    if (op)
        se->msg_op = op;
    if (fin) {
        on_message(sim, se, se->msg_op, se->msg, se->msg_len);
        se->msg_op = 0;
        se->msg_len = 0;
    }
}

/* Parses the complete frames at the start of se->in; returns the bytes used. */
static size_t parse_frames(cb_sim_t *sim, ws_sess_t *se)
{
    size_t off = 0;
    while (!se->close_code) {
        unsigned char *f = se->in + off;
        size_t avail = se->in_len - off;
        if (avail < 2)
            break;
        int fin = f[0] >> 7, rsv = (f[0] >> 4) & 7, op = f[0] & 15, masked = f[1] >> 7;
        uint64_t n = f[1] & 127;
        size_t hl = 2;
        if (rsv) {
            ws_fail(sim, se, 1002, "reserved bits set (no extension was agreed)");
            break;
        }
        if ((op > 2 && op < 8) || op > 10) {
            ws_fail(sim, se, 1002, "an unknown opcode");
            break;
        }
        if (!masked) {
            ws_fail(sim, se, 1002, "an unmasked frame from the client");
            break;
        }
        if (op >= 8 && (!fin || n > 125)) {
            ws_fail(sim, se, 1002, "a fragmented or long control frame");
            break;
        }
        if (n == 126) {
            if (avail < 4)
                break;
            n = (uint64_t)f[2] << 8 | f[3];
            hl = 4;
        } else if (n == 127) {
            if (avail < 10)
                break;
            n = 0;
            for (int i = 0; i < 8; i++)
                n = n << 8 | f[2 + i];
            hl = 10;
        }
        if (n > WS_MAX_MSG) {
            ws_fail(sim, se, 1009, "a frame over 64 KB");
            break;
        }
        if (avail < hl + 4 + n)
            break;
        unsigned char *key = f + hl, *p = f + hl + 4;
        for (size_t i = 0; i < n; i++)
            p[i] ^= key[i & 3];
        on_frame(sim, se, fin, op, p, (size_t)n);
        off += hl + 4 + (size_t)n;
    }
    return off;
}

/* A new connection: the per-address limits of sim_int.h, and the handshake's deadline. */
static int on_adopt(cb_sim_t *sim, sim_ws_t *w, struct lws *wsi, ws_sess_t *se)
{
    memset(se, 0, sizeof *se);
    se->wsi = wsi;
    se->sub_id = -1;
    se->pong_len = -1;
    se->since_ns = cb_monotonic_ns();
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    if (getpeername(lws_get_socket_fd(wsi), (struct sockaddr *)&sa, &sl) == 0 &&
        sa.sin_family == AF_INET)
        se->addr = ntohl(sa.sin_addr.s_addr);
    lws_set_timeout(wsi, PENDING_TIMEOUT_AWAITING_CLIENT_HS_SEND, SIM_HEADER_MS / 1000);
    pthread_mutex_lock(&sim->mu);
    size_t n_addr = 0, n_waiting = 0;
    ws_sess_t *oldest = NULL;
    for (ws_sess_t *o = w->sessions; o; o = o->next) {
        if (o->addr != se->addr)
            continue;
        n_addr++;
        if (!o->open && !o->hs_refused && !o->closing) {
            n_waiting++;
            if (!oldest || o->since_ns < oldest->since_ns)
                oldest = o;
        }
    }
    int refuse = n_addr >= SIM_CONNS_PER_ADDR;
    if (!refuse) {
        se->next = w->sessions;
        w->sessions = se;
    }
    if (!refuse && n_waiting >= SIM_WAITING_PER_ADDR && oldest) {
        oldest->closing = 1;
        lws_set_timeout(oldest->wsi, PENDING_TIMEOUT_AWAITING_CLIENT_HS_SEND, LWS_TO_KILL_ASYNC);
    }
    pthread_mutex_unlock(&sim->mu);
    return refuse ? -1 : 0;
}

static int on_rx(cb_sim_t *sim, ws_sess_t *se, const void *in, size_t len)
{
    if (se->closing || se->hs_refused || se->close_code)
        return 0; /* the end is near: what the client still sends is not read */
    size_t cap = se->open ? WS_MAX_MSG + 14 : WS_MAX_HS + 4;
    if (se->in_len + len > 2 * cap) {
        if (se->open)
            ws_fail(sim, se, 1009, "a frame over 64 KB");
        else
            hs_refuse(sim, se, "431 Request Header Fields Too Large", "", "a head over 8 KB");
        if (se->wsi)
            lws_callback_on_writable(se->wsi);
        return 0;
    }
    unsigned char *nb = realloc(se->in, se->in_len + len + 1);
    if (!nb)
        return -1;
    se->in = nb;
    memcpy(se->in + se->in_len, in, len);
    se->in_len += len;
    for (int stage = se->open; stage < 2; stage++) {
        size_t used = stage == 0 ? handshake(sim, se)
                                 : se->open && !se->hs_refused ? parse_frames(sim, se) : 0;
        memmove(se->in, se->in + used, se->in_len - used);
        se->in_len -= used;
        if (!se->open)
            break;
    }
    if (se->wsi && (se->hs_reply || se->pong_len >= 0 || se->close_code || se->qh != se->qt))
        lws_callback_on_writable(se->wsi);
    return 0;
}

static void sess_free(ws_sess_t *se)
{
    while (se->qh != se->qt)
        free(se->q[se->qh++ % WS_QUEUE]);
    free(se->in);
    free(se->msg);
    free(se->hs_reply);
    se->in = NULL;
    se->msg = NULL;
    se->hs_reply = NULL;
}

int sim_ws_conn_fuzz(cb_sim_t *sim, const uint8_t *data, size_t size, size_t chunk)
{
    ws_sess_t *se = calloc(1, sizeof *se);
    if (!se)
        return -1;
    se->sub_id = -1;
    se->pong_len = -1;
    int r = 0;
    for (size_t off = 0; off < size && r == 0; off += chunk)
        r = on_rx(sim, se, data + off, size - off < chunk ? size - off : chunk);
    int code = se->close_code;
    sess_free(se);
    free(se);
    return r ? r : code;
}

/* Sends one frame (server frames are not masked). Returns 0 or -1. */
static int send_frame(struct lws *wsi, int op, const void *payload, size_t n)
{
    unsigned char *buf = malloc(LWS_PRE + 10 + n);
    if (!buf)
        return -1;
    unsigned char *h = buf + LWS_PRE;
    size_t hl = 2;
    h[0] = (unsigned char)(0x80 | op);
    if (n < 126) {
        h[1] = (unsigned char)n;
    } else if (n < 65536) {
        h[1] = 126;
        h[2] = (unsigned char)(n >> 8);
        h[3] = (unsigned char)n;
        hl = 4;
    } else {
        h[1] = 127;
        for (int i = 0; i < 8; i++)
            h[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
        hl = 10;
    }
    memcpy(h + hl, payload, n);
    int r = lws_write(wsi, h, hl + n, LWS_WRITE_RAW) < (int)(hl + n) ? -1 : 0;
    free(buf);
    return r;
}

static int send_raw(struct lws *wsi, const char *s)
{
    size_t n = strlen(s);
    unsigned char *buf = malloc(LWS_PRE + n);
    if (!buf)
        return -1;
    memcpy(buf + LWS_PRE, s, n);
    int r = lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_RAW) < (int)n ? -1 : 0;
    free(buf);
    return r;
}

/* What is due first: the handshake's answer, a pong, a close frame, then one message. */
static int on_writeable(cb_sim_t *sim, ws_sess_t *se)
{
    struct lws *wsi = se->wsi;
    if (se->closing)
        return 0;
    if (se->hs_reply) {
        int r = send_raw(wsi, se->hs_reply);
        free(se->hs_reply);
        se->hs_reply = NULL;
        if (r || se->hs_refused) {
            se->closing = 1;
            lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, WS_LINGER_S);
            return r;
        }
        lws_callback_on_writable(wsi);
        return 0;
    }
    if (se->pong_len >= 0 && !se->close_code) {
        int r = send_frame(wsi, 10, se->pong, (size_t)se->pong_len);
        se->pong_len = -1;
        if (r)
            return -1;
        lws_callback_on_writable(wsi);
        return 0;
    }
    if (se->close_code) {
        unsigned char p[2] = {(unsigned char)(se->close_code >> 8),
                              (unsigned char)se->close_code};
        int r = send_frame(wsi, 8, p, se->close_code == 1005 ? 0 : 2);
        se->closing = 1;
        if (r || se->peer_closed)
            return -1; /* both sides said close: the server ends the TCP connection */
        lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, WS_LINGER_S);
        return 0;
    }
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
    int r = send_frame(wsi, 1, m, strlen(m));
    free(m);
    if (r == 0 && more)
        lws_callback_on_writable(wsi);
    return r;
}

static int ws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                 size_t len)
{
    struct lws_context *ctx = lws_get_context(wsi);
    cb_sim_t *sim = ctx ? lws_context_user(ctx) : NULL;
    sim_ws_t *w = sim ? sim->ws : NULL;
    ws_sess_t *se = user;
    switch (reason) {
    case LWS_CALLBACK_RAW_ADOPT:
        return se && w ? on_adopt(sim, w, wsi, se) : -1;
    case LWS_CALLBACK_RAW_RX:
        return se ? on_rx(sim, se, in, len) : -1;
    case LWS_CALLBACK_RAW_WRITEABLE:
        return se ? on_writeable(sim, se) : -1;
    case LWS_CALLBACK_RAW_CLOSE: {
        if (!w || !se || !se->wsi)
            return 0;
        pthread_mutex_lock(&sim->mu);
        for (ws_sess_t **pp = &w->sessions; *pp; pp = &(*pp)->next)
            if (*pp == se) {
                *pp = se->next;
                break;
            }
        pthread_mutex_unlock(&sim->mu);
        sess_free(se);
        se->wsi = NULL;
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
    /* Raw sockets: the handshake and the frames are ours (see the top of this file). */
    info.options =
        LWS_SERVER_OPTION_DISABLE_IPV6 | LWS_SERVER_OPTION_ADOPT_APPLY_LISTEN_ACCEPT_CONFIG;
    info.listen_accept_role = "raw-skt";
    info.listen_accept_protocol = ws_protocols[0].name;
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
