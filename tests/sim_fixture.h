/* The exchange simulator and the Binance connector on loopback, shared by the test_sim*
 * binaries: a replayed BTC/USDT series, known keys, every simulator log line kept to check
 * that no secret ever reaches one. Static functions: include it in one test file. */
#ifndef COMEBACK_TESTS_SIM_FIXTURE_H
#define COMEBACK_TESTS_SIM_FIXTURE_H

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/socket.h>
#include <unistd.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/data.h"
#include "comeback/exchange.h"
#include "comeback/sim.h"
#include "series_fixture.h"
#include "testutil.h"

#define KEY "simTestKey0123456789"
#define SECRET "simTestSecretDoNotLeak9876543210"

/* Every log line of the simulator, to check that no secret ever reaches one. */
static char logbuf[1 << 16];
static size_t loglen;

static inline void on_log(void *user, const char *line)
{
    (void)user;
    size_t n = strlen(line);
    if (loglen + n + 2 < sizeof logbuf) {
        memcpy(logbuf + loglen, line, n);
        loglen += n;
        logbuf[loglen++] = '\n';
        logbuf[loglen] = '\0';
    }
}

static inline cb_series_t *make_series(const char *pair, double base)
{
    return make_series_n(pair, base, 300);
}

typedef struct fx {
    cb_series_t *s;
    cb_sim_t *sim;
    cb_exchange_t *ex;
    cb_api_keys_t *keys;
    char url[64];
} fx_t;

/* The simulator (paused at candle 100 of BTC/USDT, 10000 USDT and 0.5 BTC, keys KEY/SECRET
 * unless sim->keys names others; every other field of *sim (may be NULL) is used as given)
 * and the connector (bo may be NULL) talking to it. */
static inline void fx_start_with(fx_t *f, const cb_sim_opts_t *sim, const cb_binance_opts_t *bo)
{
    memset(f, 0, sizeof *f);
    loglen = 0;
    logbuf[0] = 0;
    f->s = make_series("BTC/USDT", 40000);
    assert_int_equal(cb_api_keys_new(KEY, SECRET, &f->keys), 0);
    const cb_series_t *list[1] = {f->s};
    cb_sim_opts_t so = sim ? *sim : (cb_sim_opts_t){0};
    so.series = list;
    so.n_series = 1;
    so.start_ms = f->s->time_ms[100];
    if (!so.balance)
        so.balance = "10000 USDT, 0.5 BTC";
    if (!so.keys)
        so.keys = f->keys;
    so.log = on_log;
    cb_diag_t d;
    int r = cb_sim_new(&so, &f->sim, &d);
    if (r)
        print_message("sim: %s\n", d.msg);
    assert_int_equal(r, 0);
    assert_int_equal(cb_sim_start(f->sim, &d), 0);
    assert_true(cb_sim_port(f->sim) > 0);
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d", cb_sim_port(f->sim));
    cb_binance_opts_t o = bo ? *bo : (cb_binance_opts_t){0};
    o.base_url = f->url;
    if (!o.keys)
        o.keys = f->keys;
    if (!o.timeout_ms)
        o.timeout_ms = 3000;
    if (!o.recv_window_ms)
        o.recv_window_ms = 1000;
    o.jitter_seed = 42;
    assert_int_equal(cb_binance_new(&o, &f->ex, &d), 0);
}

static inline void fx_start(fx_t *f, const char *faults, int weight_limit, const cb_binance_opts_t *bo)
{
    cb_sim_opts_t so = {.faults = faults, .weight_limit = weight_limit};
    fx_start_with(f, &so, bo);
}

static inline void fx_stop(fx_t *f)
{
    cb_exchange_free(f->ex);
    cb_sim_free(f->sim);
    cb_api_keys_free(f->keys);
    cb_series_free(f->s);
    assert_null(strstr(logbuf, SECRET));
    assert_null(strstr(logbuf, KEY));
}

static inline int64_t px2(double p) { return (int64_t)llround(p * 100); }

static inline void check_ok(int r, const cb_diag_t *d)
{
    if (r) {
        char buf[1024];
        cb_diag_format(d, buf, sizeof buf);
        print_message("unexpected failure: %s\n", buf);
    }
    assert_int_equal(r, 0);
}

static inline void assert_no_secret(const cb_diag_t *d)
{
    char buf[1024];
    cb_diag_format(d, buf, sizeof buf);
    assert_null(strstr(buf, SECRET));
    assert_null(strstr(buf, KEY));
    assert_null(strstr(buf, "signature="));
}

static inline json_t *sim_state(fx_t *f)
{
    char *s = cb_sim_state_json(f->sim);
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    free(s);
    assert_non_null(j);
    return j;
}

/* One raw HTTP request to the simulator (for values the connector would never send): `query`
 * without timestamp and signature, which are added (market time, HMAC-SHA256 under SECRET)
 * when `sign`. Returns the HTTP status and the parsed JSON answer in *out (decref it). */
static inline int sim_raw(fx_t *f, const char *method, const char *path, const char *query,
                          int sign, json_t **out)
{
    char q[2048], sig[2 * EVP_MAX_MD_SIZE + 1] = "";
    snprintf(q, sizeof q, "%s", query ? query : "");
    if (sign) {
        size_t n = strlen(q);
        snprintf(q + n, sizeof q - n, "%stimestamp=%lld", n ? "&" : "",
                 (long long)cb_sim_time(f->sim));
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int ml = 0;
        HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)q, strlen(q), mac,
             &ml);
        for (unsigned int i = 0; i < ml; i++)
            snprintf(sig + 2 * i, 3, "%02x", mac[i]);
        n = strlen(q);
        snprintf(q + n, sizeof q - n, "&signature=%s", sig);
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)cb_sim_port(f->sim));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char req[3072];
    int rl = snprintf(req, sizeof req,
                      "%s %s%s%s HTTP/1.1\r\nHost: 127.0.0.1\r\nX-MBX-APIKEY: %s\r\n"
                      "Content-Length: 0\r\nConnection: close\r\n\r\n",
                      method, path, *q ? "?" : "", q, KEY);
    assert_true(write(fd, req, (size_t)rl) == rl);
    static char resp[1 << 16];
    size_t got = 0;
    ssize_t r;
    while (got + 1 < sizeof resp && (r = read(fd, resp + got, sizeof resp - 1 - got)) > 0)
        got += (size_t)r;
    resp[got] = '\0';
    close(fd);
    int status = 0;
    assert_int_equal(sscanf(resp, "HTTP/1.1 %d", &status), 1);
    const char *body = strstr(resp, "\r\n\r\n");
    assert_non_null(body);
    json_error_t e;
    *out = json_loads(body + 4, 0, &e);
    if (!*out)
        print_message("not JSON: %s\n", body + 4);
    assert_non_null(*out);
    return status;
}

/* A raw request expected to fail with Binance's `code`; checks the message contains `msg`. */
static inline void sim_raw_fails(fx_t *f, const char *method, const char *path,
                                 const char *query, int code, const char *msg)
{
    json_t *j;
    int st = sim_raw(f, method, path, query, 1, &j);
    json_t *c = json_object_get(j, "code");
    const char *m = json_string_value(json_object_get(j, "msg"));
    if (!c || json_integer_value(c) != code || !m || !strstr(m, msg)) {
        char *d = json_dumps(j, 0);
        print_message("%s %s?%s: HTTP %d %s (wanted %d \"%s\")\n", method, path, query, st, d,
                      code, msg);
        free(d);
    }
    assert_non_null(c);
    assert_int_equal(json_integer_value(c), code);
    assert_non_null(m);
    assert_non_null(strstr(m, msg));
    assert_int_equal(st, 400);
    json_decref(j);
}

#endif
