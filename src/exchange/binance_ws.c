/* Binance market streams over WebSocket (libwebsockets client): combined stream URL, pings,
 * reconnect with backoff and jitter, and after every reconnect the candles missed while
 * disconnected are fetched from REST and delivered first, in order, without duplicates.
 * The account stream uses the same machinery on the WebSocket API: after each connect it
 * sends a signed userDataStream.subscribe.signature, and after a reconnect it tells the
 * consumer (resync = 1) to query over REST what it may have missed. */
#include "exchange/binance_int.h"

#include <jansson.h>
#include <libwebsockets.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cb_ex_stream {
    cb_ex_stream_opts_t o;
    char host[128], path[1024];
    int port, tls;
    struct lws_context *ctx;
    struct lws *wsi;
    int connected, closing;
    int attempt;
    uint64_t rng;
    lws_sorted_usec_list_t reconnect;
    pthread_t waker;            /* interrupts lws_service so that polls end on time */
    int waker_running;
    volatile int quit;
    cb_pair_info_t *pairs;
    size_t n_pairs;
    int64_t *last_closed;          /* per pair: open time of the last closed candle delivered */
    cb_timeframe_t tf;
    char *msg;
    size_t msg_len, msg_cap;
    cb_ex_stream_stats_t st;
    unsigned long delivered;  /* events handed to fn: cb_ex_stream_poll returns after one */
    /* account stream (WebSocket API) */
    int account;
    cb_api_keys_t *keys;
    int64_t recv_window;
    char *tx;                   /* the subscription request to send */
    size_t tx_len;
    int subscribed, ever_subscribed;
    int64_t lost_ms;            /* server time when the last subscription was lost */
    int64_t offset_ms;          /* server time - local time */
    long req_seq;
};

static void status_ex(cb_ex_stream_t *s, int connected, const char *msg, int resync,
                      int64_t since_ms);

static const uint32_t backoff_ms[] = {500, 1000, 2000, 4000, 8000, 16000, 30000};

static double rnd(cb_ex_stream_t *s)
{
    uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

static void status_ex(cb_ex_stream_t *s, int connected, const char *msg, int resync,
                      int64_t since_ms)
{
    cb_stream_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = CB_STREAM_STATUS;
    ev.time_ms = cb_now_ms();
    ev.u.status.connected = connected;
    ev.u.status.resync = resync;
    ev.u.status.missed_since_ms = since_ms;
    snprintf(ev.u.status.message, sizeof ev.u.status.message, "%s", msg);
    s->delivered++, s->o.fn(&ev, s->o.user);
}

static void status(cb_ex_stream_t *s, int connected, const char *msg)
{
    status_ex(s, connected, msg, 0, 0);
}

/* The signed subscription request of the account stream, with a fresh timestamp (the server
 * time measured over REST now, so that clock skew never refuses it). */
static int account_request(cb_ex_stream_t *s)
{
    int64_t t0 = cb_now_ms(), st;
    cb_diag_t d;
    if (cb_exchange_server_time(s->o.rest, &st, &d) == 0)
        s->offset_ms = st - (t0 + cb_now_ms()) / 2;
    long long ts = (long long)(cb_now_ms() + s->offset_ms);
    const char *key = cb_api_keys_key(s->keys);
    size_t plen = strlen(key) + 96;
    char *payload = malloc(plen), sig[1024];
    if (!payload)
        return -1;
    /* Binance's payload: the parameters but the signature, sorted by name, name=value&... */
    int n = snprintf(payload, plen, "apiKey=%s&recvWindow=%lld&timestamp=%lld", key,
                     (long long)s->recv_window, ts);
    int r = cb_api_keys_sign(s->keys, payload, (size_t)n, sig, sizeof sig);
    OPENSSL_cleanse(payload, plen);
    free(payload);
    if (r)
        return -1;
    char id[32];
    snprintf(id, sizeof id, "cb-sub-%ld", ++s->req_seq);
    json_t *j = json_pack("{s:s, s:s, s:{s:s, s:I, s:I, s:s}}", "id", id, "method",
                          "userDataStream.subscribe.signature", "params", "apiKey", key,
                          "recvWindow", (json_int_t)s->recv_window, "timestamp", (json_int_t)ts,
                          "signature", sig);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text)
        return -1;
    if (s->tx) {
        OPENSSL_cleanse(s->tx, s->tx_len);
        free(s->tx);
    }
    s->tx_len = strlen(text);
    s->tx = malloc(LWS_PRE + s->tx_len);
    if (s->tx)
        memcpy(s->tx + LWS_PRE, text, s->tx_len);
    OPENSSL_cleanse(text, s->tx_len);
    free(text);
    return s->tx ? 0 : -1;
}

/* A message on the account stream: the answer to our subscription, or an event. Returns -1
 * to close the connection (a refused subscription: retried after the backoff). */
static int account_message(cb_ex_stream_t *s, const char *msg, size_t len)
{
    int st, code;
    int64_t sub;
    char text[200], line[128];
    cb_diag_t d;
    int r = cb_bn_parse_ws_api_response(msg, len, &st, &code, text, sizeof text, &sub, NULL, 0,
                                        &d);
    if (r == CB_ENOENT) {
        cb_stream_event_t ev;
        if (!s->subscribed || cb_bn_parse_ws(msg, len, s->pairs, s->n_pairs, &ev, &d) != 0)
            return 0;
        s->st.messages++;
        if (ev.kind == CB_STREAM_STATUS)
            return -1; /* the subscription ended: reconnect, subscribe again, resync */
        s->delivered++, s->o.fn(&ev, s->o.user);
        return 0;
    }
    if (r != 0)
        return 0;
    if (st != 200) {
        snprintf(line, sizeof line, "account stream subscription refused: [Binance %d: %.60s]",
                 code, text);
        status(s, 0, line);
        return -1;
    }
    if (s->subscribed)
        return 0;
    s->subscribed = 1;
    s->attempt = 0;
    s->st.connects++;
    if (s->ever_subscribed)
        status_ex(s, 1, "account stream subscribed again; query what was missed over REST", 1,
                  s->lost_ms);
    else
        status(s, 1, "account stream subscribed");
    s->ever_subscribed = 1;
    return 0;
}

static int pair_index(const cb_ex_stream_t *s, const char *pair)
{
    for (size_t i = 0; i < s->o.n_pairs; i++)
        if (strcmp(s->o.pairs[i], pair) == 0)
            return (int)i;
    return -1;
}

/* Delivers the closed candles after last_closed[i] up to (not including) `until` from REST.
 * Returns 0, or -1 when a REST call failed: last_closed[i] then stays at the newest candle
 * delivered, so that the caller does not step over the ones still missing. */
static int fill_gap(cb_ex_stream_t *s, size_t i, int64_t until)
{
    if (!s->o.timeframe || s->last_closed[i] == INT64_MIN)
        return 0;
    int64_t from = cb_timeframe_next(&s->tf, s->last_closed[i]);
    for (int page = 0; page < 100 && (until == 0 || from < until); page++) {
        cb_ex_candle_t *c;
        size_t n;
        cb_diag_t d;
        if (cb_exchange_candles(s->o.rest, s->o.pairs[i], s->o.timeframe, from,
                                until ? until - 1 : 0, 1000, &c, &n, &d) != 0) {
            status(s, s->connected, "could not fill missed candles from REST");
            return -1;
        }
        size_t used = 0;
        for (size_t k = 0; k < n; k++) {
            if (!c[k].closed || c[k].time_ms <= s->last_closed[i] ||
                (until && c[k].time_ms >= until))
                continue;
            cb_stream_event_t ev;
            memset(&ev, 0, sizeof ev);
            ev.kind = CB_STREAM_CANDLE;
            ev.time_ms = cb_now_ms();
            snprintf(ev.pair, sizeof ev.pair, "%s", s->o.pairs[i]);
            snprintf(ev.u.candle.timeframe, sizeof ev.u.candle.timeframe, "%s", s->o.timeframe);
            ev.u.candle.candle = c[k];
            s->last_closed[i] = c[k].time_ms;
            s->st.gap_candles++;
            used++;
            s->delivered++, s->o.fn(&ev, s->o.user);
        }
        free(c);
        if (n < 1000 || used == 0)
            return 0;
        from = cb_timeframe_next(&s->tf, s->last_closed[i]);
    }
    return 0;
}

static void deliver(cb_ex_stream_t *s, const char *msg, size_t len)
{
    cb_stream_event_t ev;
    cb_diag_t d;
    if (cb_bn_parse_ws(msg, len, s->pairs, s->n_pairs, &ev, &d) != 0)
        return;
    s->st.messages++;
    if (ev.kind == CB_STREAM_CANDLE) {
        int i = pair_index(s, ev.pair);
        if (i < 0 || !ev.u.candle.candle.closed)
            return;
        if (s->last_closed[i] != INT64_MIN && ev.u.candle.candle.time_ms <= s->last_closed[i]) {
            s->st.duplicates++;
            return;
        }
        /* A hole before this candle: fill it from REST first. When REST fails (5xx, 429, a
         * timeout), this candle is held back too: delivering it would step over the hole for
         * good (last_closed moves past it), and a lost candle is worse than a late one. The
         * next candle, or the next connection, fills the hole and this candle from REST. */
        if (s->last_closed[i] != INT64_MIN &&
            ev.u.candle.candle.time_ms > cb_timeframe_next(&s->tf, s->last_closed[i]) &&
            fill_gap(s, (size_t)i, ev.u.candle.candle.time_ms) != 0) {
            s->st.deferred++;
            return;
        }
        s->last_closed[i] = ev.u.candle.candle.time_ms;
    }
    s->delivered++, s->o.fn(&ev, s->o.user);
}

static void connect_now(lws_sorted_usec_list_t *sul);
static void *waker_main(void *arg);

static void schedule_reconnect(cb_ex_stream_t *s)
{
    if (s->closing)
        return;
    size_t n = sizeof backoff_ms / sizeof backoff_ms[0];
    uint32_t base = backoff_ms[(size_t)s->attempt < n ? (size_t)s->attempt : n - 1];
    s->attempt++;
    lws_usec_t us = (lws_usec_t)((double)base * (1.0 + 0.5 * rnd(s))) * LWS_US_PER_MS;
    lws_sul_schedule(s->ctx, 0, &s->reconnect, connect_now, us);
}

static int cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
              size_t len)
{
    cb_ex_stream_t *s = (cb_ex_stream_t *)lws_get_opaque_user_data(wsi);
    (void)user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (s->account) {
            s->connected = 1;
            if (account_request(s) != 0)
                return -1;
            lws_callback_on_writable(wsi);
            return 0;
        }
        s->connected = 1;
        s->attempt = 0;
        s->st.connects++;
        status(s, 1, "connected");
        for (size_t i = 0; i < s->o.n_pairs; i++)
            fill_gap(s, i, 0);
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (s->msg_len + len + 1 > s->msg_cap) {
            size_t cap = (s->msg_len + len + 1) * 2;
            char *m = realloc(s->msg, cap);
            if (!m)
                return -1;
            s->msg = m;
            s->msg_cap = cap;
        }
        memcpy(s->msg + s->msg_len, in, len);
        s->msg_len += len;
        s->msg[s->msg_len] = '\0';
        if (lws_is_final_fragment(wsi)) {
            int r = 0;
            if (s->account)
                r = account_message(s, s->msg, s->msg_len);
            else
                deliver(s, s->msg, s->msg_len);
            s->msg_len = 0;
            return r;
        }
        return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (s->account && s->tx) {
            int n = lws_write(wsi, (unsigned char *)s->tx + LWS_PRE, s->tx_len, LWS_WRITE_TEXT);
            OPENSSL_cleanse(s->tx, LWS_PRE + s->tx_len);
            free(s->tx);
            s->tx = NULL;
            if (n < (int)s->tx_len)
                return -1;
        }
        return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (s) {
            int was = s->account ? s->subscribed : s->connected;
            s->connected = 0;
            s->wsi = NULL;
            s->msg_len = 0;
            if (s->account && s->subscribed) {
                s->subscribed = 0;
                s->lost_ms = cb_now_ms() + s->offset_ms;
            }
            if (was) {
                s->st.disconnects++;
                status(s, 0, "disconnected; reconnecting");
            }
            schedule_reconnect(s);
        }
        return 0;
    default:
        return 0;
    }
}

static const struct lws_protocols protocols[] = {{"binance-client", cb, 0, 65536, 0, NULL, 0},
                                                 {NULL, NULL, 0, 0, 0, NULL, 0}};

static const lws_retry_bo_t keepalive = {
    .secs_since_valid_ping = 20, /* idle this long: send a ping */
    .secs_since_valid_hangup = 60,
};

static void connect_now(lws_sorted_usec_list_t *sul)
{
    cb_ex_stream_t *s = lws_container_of(sul, cb_ex_stream_t, reconnect);
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = s->ctx;
    ci.address = s->host;
    ci.port = s->port;
    ci.path = s->path;
    ci.host = s->host;
    ci.origin = s->host;
    ci.ssl_connection = s->tls ? LCCSCF_USE_SSL : 0;
    ci.local_protocol_name = "binance-client";
    ci.pwsi = &s->wsi;
    ci.opaque_user_data = s;
    ci.retry_and_idle_policy = &keepalive;
    if (!lws_client_connect_via_info(&ci))
        schedule_reconnect(s);
}

/* ws[s]://host[:port][/path] into s->host, s->port, s->tls and (when path != NULL) path. */
static int parse_url(cb_ex_stream_t *s, const char *url, char *path, size_t path_size,
                     cb_diag_t *diag)
{
    const char *hp;
    if (strncmp(url, "ws://", 5) == 0) {
        hp = url + 5;
        s->port = 80;
    } else if (strncmp(url, "wss://", 6) == 0) {
        hp = url + 6;
        s->tls = 1;
        s->port = 443;
    } else {
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "ws_url",
                           "'%.200s' is not a ws:// or wss:// URL", url);
    }
    size_t hl = strcspn(hp, ":/");
    if (hl == 0 || hl >= sizeof s->host)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "ws_url", "no host in '%.200s'", url);
    memcpy(s->host, hp, hl);
    s->host[hl] = '\0';
    if (hp[hl] == ':')
        s->port = atoi(hp + hl + 1);
    if (path) {
        const char *slash = strchr(hp, '/');
        if (!slash || strlen(slash) >= path_size)
            return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "ws_url",
                               "no path in '%.200s' (the WebSocket API is at /ws-api/v3)", url);
        memcpy(path, slash, strlen(slash) + 1);
    }
    return 0;
}

static int stream_start(cb_ex_stream_t *s, cb_diag_t *diag);

int cb_binance_stream_open(const cb_ex_stream_opts_t *o, cb_ex_stream_t **out, cb_diag_t *diag)
{
    *out = NULL;
    if (!o || !o->rest || !o->fn || o->n_pairs == 0)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL,
                           "a stream needs pairs, a callback and the REST side of the venue");
    cb_ex_stream_t *s = calloc(1, sizeof *s);
    if (!s)
        return cb_diag_set(diag, CB_ENOMEM, NULL, 0, 0, NULL, NULL);
    s->o = *o;
    s->rng = o->jitter_seed ? o->jitter_seed : (uint64_t)cb_monotonic_ns();
    int r = parse_url(s, o->ws_url ? o->ws_url : "wss://stream.binance.com:9443", NULL, 0, diag);
    if (r) {
        free(s);
        return r;
    }
    if (o->timeframe && (cb_timeframe_parse(o->timeframe, &s->tf) || s->tf.months)) {
        free(s);
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "timeframe", "bad timeframe '%s'",
                           o->timeframe);
    }
    if ((r = cb_exchange_pairs(o->rest, &s->pairs, &s->n_pairs, diag))) {
        free(s);
        return r;
    }
    s->last_closed = malloc(o->n_pairs * sizeof *s->last_closed);
    if (!s->last_closed) {
        cb_ex_stream_close(s);
        return cb_diag_set(diag, CB_ENOMEM, NULL, 0, 0, NULL, NULL);
    }
    size_t w = (size_t)snprintf(s->path, sizeof s->path, "/stream?streams=");
    for (size_t i = 0; i < o->n_pairs; i++) {
        s->last_closed[i] = INT64_MIN;
        char sym[CB_EX_PAIR_MAX];
        if (cb_binance_symbol(o->pairs[i], sym, sizeof sym) ||
            !cb_pair_find(s->pairs, s->n_pairs, o->pairs[i])) {
            cb_ex_stream_close(s);
            return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "pair",
                               "the exchange does not list %.32s", o->pairs[i]);
        }
        for (char *p = sym; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p + 32);
        const char *kinds[3] = {o->timeframe ? "kline_" : NULL, o->book ? "bookTicker" : NULL,
                                o->trades ? "trade" : NULL};
        for (int k = 0; k < 3; k++)
            if (kinds[k] && w < sizeof s->path)
                w += (size_t)snprintf(s->path + w, sizeof s->path - w, "%s%s@%s%s",
                                      s->path[w - 1] == '=' ? "" : "/", sym, kinds[k],
                                      k == 0 ? o->timeframe : "");
    }
    if (w >= sizeof s->path) {
        cb_ex_stream_close(s);
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL, "too many streams for one URL");
    }
    /* The newest closed candle the consumer has, else the newest closed candle now: the
     * stream continues from there without a hole. */
    if (o->timeframe)
        for (size_t i = 0; i < o->n_pairs; i++) {
            if (o->last_closed_ms && o->last_closed_ms[i] != INT64_MIN) {
                s->last_closed[i] = o->last_closed_ms[i];
                continue;
            }
            cb_ex_candle_t *c;
            size_t n;
            if (cb_exchange_candles(o->rest, o->pairs[i], o->timeframe, 0, 0, 2, &c, &n, diag) ==
                0) {
                for (size_t k = 0; k < n; k++)
                    if (c[k].closed)
                        s->last_closed[i] = c[k].time_ms;
                free(c);
            }
        }
    if ((r = stream_start(s, diag)))
        return r;
    *out = s;
    return 0;
}

int cb_binance_account_stream_open(const cb_ex_account_stream_opts_t *o, cb_ex_stream_t **out,
                                   cb_diag_t *diag)
{
    *out = NULL;
    if (!o || !o->rest || !o->fn || !o->keys)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL,
                           "an account stream needs API keys, a callback and the REST side of "
                           "the venue");
    if (o->recv_window_ms < 0 || o->recv_window_ms > 60000)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "recv_window",
                           "recvWindow must be between 1 and 60000 ms");
    cb_ex_stream_t *s = calloc(1, sizeof *s);
    if (!s)
        return cb_diag_set(diag, CB_ENOMEM, NULL, 0, 0, NULL, NULL);
    s->account = 1;
    s->o.rest = o->rest;
    s->o.fn = o->fn;
    s->o.user = o->user;
    s->recv_window = o->recv_window_ms ? o->recv_window_ms : 5000;
    s->rng = o->jitter_seed ? o->jitter_seed : (uint64_t)cb_monotonic_ns();
    int r = parse_url(s, o->ws_api_url ? o->ws_api_url : "wss://ws-api.binance.com:443/ws-api/v3",
                      s->path, sizeof s->path, diag);
    if (r) {
        free(s);
        return r;
    }
    if (cb_api_keys_dup(o->keys, &s->keys)) {
        free(s);
        return cb_diag_set(diag, CB_ENOMEM, NULL, 0, 0, NULL, NULL);
    }
    if ((r = cb_exchange_pairs(o->rest, &s->pairs, &s->n_pairs, diag))) {
        cb_ex_stream_close(s);
        return r;
    }
    if ((r = stream_start(s, diag)))
        return r;
    *out = s;
    return 0;
}

/* Creates the client context, schedules the first connect and starts the waker. On failure
 * the stream is freed. */
static int stream_start(cb_ex_stream_t *s, cb_diag_t *diag)
{
    lws_set_log_level(0, NULL);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.options = s->tls ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0;
    s->ctx = lws_create_context(&info);
    if (!s->ctx) {
        cb_ex_stream_close(s);
        return cb_diag_set(diag, CB_ENOMEM, NULL, 0, 0, NULL, "cannot start libwebsockets");
    }
    lws_sul_schedule(s->ctx, 0, &s->reconnect, connect_now, 1);
    if (pthread_create(&s->waker, NULL, waker_main, s) == 0)
        s->waker_running = 1;
    return 0;
}

/* lws_service() sleeps until its next own event; this thread cuts every sleep to 20 ms
 * (lws_cancel_service is the thread-safe way) so that a poll returns on time. */
static void *waker_main(void *arg)
{
    cb_ex_stream_t *s = arg;
    struct timespec ts = {0, 20 * 1000000L};
    while (!s->quit) {
        nanosleep(&ts, NULL);
        lws_cancel_service(s->ctx);
    }
    return NULL;
}

int cb_ex_stream_poll(cb_ex_stream_t *s, int timeout_ms)
{
    int64_t end = cb_monotonic_ns() + (int64_t)(timeout_ms > 0 ? timeout_ms : 1) * 1000000;
    unsigned long before = s->delivered;
    do {
        if (lws_service(s->ctx, 0) < 0)
            return CB_EIO;
    } while (s->delivered == before && cb_monotonic_ns() < end);
    return 0;
}

void cb_ex_stream_stats(const cb_ex_stream_t *s, cb_ex_stream_stats_t *out) { *out = s->st; }

void cb_ex_stream_close(cb_ex_stream_t *s)
{
    if (!s)
        return;
    s->closing = 1;
    s->quit = 1;
    if (s->waker_running)
        pthread_join(s->waker, NULL);
    if (s->ctx)
        lws_context_destroy(s->ctx);
    free(s->pairs);
    free(s->last_closed);
    free(s->msg);
    if (s->tx) {
        OPENSSL_cleanse(s->tx, LWS_PRE + s->tx_len);
        free(s->tx);
    }
    cb_api_keys_free(s->keys);
    free(s);
}
