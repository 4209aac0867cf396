/* Exchange wire-format costs: parsing a full klines page (1000 candles), an exchangeInfo with
 * many symbols and an order answer; signing an order request with each API key type (HMAC,
 * Ed25519, RSA-2048) and verifying the asymmetric ones (the simulator's side); and the round
 * trip of a signed request to the simulator over loopback (connector + simulator). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "benchutil.h"
#include "comeback/exchange.h"
#include "comeback/sim.h"
#include "exchange/binance_int.h"

static char *klines_page(size_t n)
{
    size_t cap = n * 200 + 16, w = 0;
    char *b = malloc(cap);
    b[w++] = '[';
    for (size_t i = 0; i < n; i++)
        w += (size_t)snprintf(b + w, cap - w,
                              "%s[%llu,\"42000.10000000\",\"42100.50000000\",\"41900.25000000\","
                              "\"42050.75000000\",\"12.34560000\",%llu,\"518000.12\",1234,"
                              "\"6.1\",\"256000.5\",\"0\"]",
                              i ? "," : "", 1704067200000ULL + i * 3600000ULL,
                              1704067200000ULL + i * 3600000ULL + 3599999ULL);
    b[w++] = ']';
    b[w] = '\0';
    return b;
}

static char *g_body;
static size_t g_len;

static void parse_klines(void *arg)
{
    (void)arg;
    cb_ex_candle_t *c;
    size_t n;
    cb_diag_t d;
    if (cb_bn_parse_klines(g_body, g_len, 0, &c, &n, &d) == 0)
        free(c);
}

static const char *ORDER_Q = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&"
                            "price=42000.1&newClientOrderId=cb-bot-000042&recvWindow=5000&"
                            "timestamp=1704067200000";

static void sign_many(void *arg)
{
    int n = *(int *)arg;
    char hex[65];
    for (int i = 0; i < n; i++)
        cb_binance_sign("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
                        ORDER_Q, strlen(ORDER_Q), hex);
}

typedef struct ksign {
    cb_api_keys_t *k;
    int n, verify;
    char sig[800];
} ksign_t;

static void key_sign_many(void *arg)
{
    ksign_t *a = arg;
    for (int i = 0; i < a->n; i++) {
        if (a->verify)
            (void)cb_api_keys_verify(a->k, ORDER_Q, strlen(ORDER_Q), a->sig);
        else
            (void)cb_api_keys_sign(a->k, ORDER_Q, strlen(ORDER_Q), a->sig, sizeof a->sig);
    }
}

/* A fresh key of type as API keys (the private key), or NULL. */
static cb_api_keys_t *new_key(int type)
{
    EVP_PKEY *k = NULL;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(type, NULL);
    if (!c || EVP_PKEY_keygen_init(c) != 1 ||
        (type == EVP_PKEY_RSA && EVP_PKEY_CTX_set_rsa_keygen_bits(c, 2048) != 1) ||
        EVP_PKEY_keygen(c, &k) != 1) {
        EVP_PKEY_CTX_free(c);
        return NULL;
    }
    EVP_PKEY_CTX_free(c);
    BIO *b = BIO_new(BIO_s_mem());
    char pem[4096];
    int n = 0;
    if (b && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1)
        n = BIO_read(b, pem, (int)sizeof pem - 1);
    BIO_free(b);
    EVP_PKEY_free(k);
    cb_api_keys_t *out = NULL;
    cb_diag_t d;
    if (n > 0 && cb_api_keys_new_pem("benchKey", pem, (size_t)n, &out, &d) != 0)
        out = NULL;
    OPENSSL_cleanse(pem, sizeof pem);
    return out;
}

typedef struct rt {
    cb_exchange_t *ex;
    int n;
} rt_t;

static void round_trips(void *arg)
{
    rt_t *r = arg;
    for (int i = 0; i < r->n; i++) {
        cb_ex_balance_t *b;
        size_t n;
        cb_diag_t d;
        if (cb_exchange_balances(r->ex, &b, &n, &d) == 0)
            free(b);
    }
}

int main(void)
{
    int quick = bench_quick();
    g_body = klines_page(1000);
    g_len = strlen(g_body);
    bench_stats_t s = bench_time(parse_klines, NULL, 2, quick ? 5 : 50);
    bench_report("binance_parse_klines_1000", s.median * 1e3, "ms", s.min * 1e3, s.max * 1e3,
                 NULL, 0);
    free(g_body);

    int n_sign = quick ? 2000 : 100000;
    s = bench_time(sign_many, &n_sign, 1, quick ? 3 : 5);
    bench_report("binance_sign", s.median / n_sign * 1e6, "us", s.min / n_sign * 1e6,
                 s.max / n_sign * 1e6, NULL, 0);

    /* Asymmetric keys: what signing costs the robot and verifying costs the simulator. */
    const struct { int type; const char *sign, *verify; int n_full; } kt[2] = {
        {EVP_PKEY_ED25519, "binance_sign_ed25519", "binance_verify_ed25519", 20000},
        {EVP_PKEY_RSA, "binance_sign_rsa2048", "binance_verify_rsa2048", 2000}};
    for (int t = 0; t < 2; t++) {
        ksign_t ks = {.k = new_key(kt[t].type), .n = quick ? kt[t].n_full / 20 : kt[t].n_full};
        if (!ks.k)
            continue;
        s = bench_time(key_sign_many, &ks, 1, 3);
        bench_report(kt[t].sign, s.median / ks.n * 1e6, "us", s.min / ks.n * 1e6,
                     s.max / ks.n * 1e6, NULL, 0);
        ks.verify = 1;
        s = bench_time(key_sign_many, &ks, 1, 3);
        bench_report(kt[t].verify, s.median / ks.n * 1e6, "us", s.min / ks.n * 1e6,
                     s.max / ks.n * 1e6, NULL, 0);
        cb_api_keys_free(ks.k);
    }

    /* A signed GET /api/v3/account to the simulator on loopback, connection reused. */
    cb_series_t *ser = cb_series_new(100);
    for (int i = 0; i < 100; i++)
        cb_series_push(ser, 1704067200000LL + i * 3600000LL, 42000, 42100, 41900, 42050, 1);
    snprintf(ser->meta.pair, sizeof ser->meta.pair, "BTC/USDT");
    snprintf(ser->meta.timeframe, sizeof ser->meta.timeframe, "1h");
    cb_api_keys_t *keys;
    cb_api_keys_new("benchKey", "benchSecret", &keys);
    const cb_series_t *list[1] = {ser};
    cb_sim_opts_t so = {.series = list, .n_series = 1, .keys = keys, .quiet = 1, .ws_port = -1,
                        .weight_limit = 1000000,
                        .start_ms = INT64_MAX};
    cb_sim_t *sim;
    cb_diag_t d;
    if (cb_sim_new(&so, &sim, &d) || cb_sim_start(sim, &d)) {
        fprintf(stderr, "bench_exchange: %s\n", d.msg);
        return 1;
    }
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", cb_sim_port(sim));
    cb_binance_opts_t bo = {.base_url = url, .keys = keys, .weight_limit = 1000000};
    rt_t r = {NULL, quick ? 50 : 500};
    cb_binance_new(&bo, &r.ex, &d);
    s = bench_time(round_trips, &r, 1, 3);
    bench_report("binance_signed_roundtrip_loopback", s.median / r.n * 1e3, "ms",
                 s.min / r.n * 1e3, s.max / r.n * 1e3, NULL, 0);
    cb_exchange_free(r.ex);
    cb_sim_free(sim);
    cb_api_keys_free(keys);
    cb_series_free(ser);
    return 0;
}
