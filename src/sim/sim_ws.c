/* The simulator's market streams over WebSocket (libwebsockets), Binance's way:
 *   /ws/<stream>  or  /stream?streams=<stream>/<stream>...   (combined: {"stream","data"})
 * with <stream> = <symbol>@kline_<interval>, <symbol>@bookTicker or <symbol>@trade.
 * When a candle closes the simulator sends its final kline (x=true), a trade at its close and
 * the new best bid/ask. The `drop` fault closes a connection instead of sending a message. */
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
    if (s->combined) {
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
    pthread_mutex_unlock(&sim->mu);
    for (ws_sess_t *se = w->sessions; se; se = se->next)
        if (se->qt != se->qh || se->drop)
            lws_callback_on_writable(se->wsi);
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
        if (strncmp(uri, "/ws/", 4) == 0) {
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
        sim_log(sim, "websocket connected: %d stream%s", se->n_subs, se->n_subs == 1 ? "" : "s");
        return 0;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE: {
        if (se->drop) {
            sim_log(sim, "websocket dropped (fault)");
            return -1;
        }
        if (se->qh == se->qt)
            return 0;
        char *m = se->q[se->qh++ % WS_QUEUE];
        size_t n = strlen(m);
        unsigned char *buf = malloc(LWS_PRE + n);
        int r = -1;
        if (buf) {
            memcpy(buf + LWS_PRE, m, n);
            r = lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n ? -1 : 0;
            free(buf);
        }
        free(m);
        if (r == 0 && se->qh != se->qt)
            lws_callback_on_writable(wsi);
        return r;
    }
    case LWS_CALLBACK_RECEIVE:
        return 0; /* SUBSCRIBE requests are not supported: streams are chosen by the URL */
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
        return 0;
    }
    default:
        return 0;
    }
}

static const struct lws_protocols ws_protocols[] = {
    {"binance-stream", ws_cb, sizeof(ws_sess_t), 4096, 0, NULL, 0},
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
