/* The exchange path: from a candle closing in the exchange simulator to the robot's order
 * request arriving at the simulator. An in-process `comeback exchange-sim` (cb_sim, paused
 * clock, WebSocket streams on loopback, API keys set) replays synthetic 1h candles of
 * BTC/USDT (seed 42); a live-mode robot (cb_robot_run on its own thread, bot file and key
 * file written below) follows its market stream and trades on it with a strategy that
 * enters and exits on alternate bars, so every candle produces one market order. For each of
 * 50 candles (BENCH_QUICK: 8) after a warm-up of 5 (2), the benchmark advances the simulator's
 * clock by one candle (cb_sim_advance: the candle closes and the simulator sends it over its
 * WebSocket) and waits for the simulator to log the order as accepted: WebSocket frame, JSON
 * parse, the engine's bar step (strategy, exits, risk), the order intent journaled, the
 * signed REST request and its validation. The same is measured in paper mode up to the
 * robot's decision (the paper venue is in process). Median, min and max; the reference is the
 * loopback round trip of a plain REST request to the same simulator (GET /api/v3/ping with a
 * kept-alive connection). */
#include <curl/curl.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"
#include "comeback/exchange.h"
#include "comeback/robot.h"
#include "comeback/sim.h"

typedef struct path_state {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t decisions;      /* the robot's "decision" lines seen (paper) or the simulator's
                            * "accepted" order lines (live) */
    double last_decision;  /* bench_now() of the latest */
    int live;
    int connected;
    volatile sig_atomic_t stop;
    cb_robot_t *robot;
    int rc;
} path_state_t;

static void on_log(void *ctx, const char *line)
{
    path_state_t *s = ctx;
    double now = bench_now();
    pthread_mutex_lock(&s->mu);
    if (!s->live && strstr(line, " decision: ")) {
        s->decisions++;
        s->last_decision = now;
    } else if (strstr(line, "market stream connected")) {
        s->connected = 1;
    }
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* The simulator's log: in live mode, an order it accepted is the end of the path. */
static void on_sim_log(void *ctx, const char *line)
{
    path_state_t *s = ctx;
    double now = bench_now();
    if (!s->live || strncmp(line, "order ", 6) != 0 || !strstr(line, " accepted"))
        return;
    pthread_mutex_lock(&s->mu);
    s->decisions++;
    s->last_decision = now;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void *robot_thread(void *arg)
{
    path_state_t *s = arg;
    cb_diag_t d;
    s->rc = cb_robot_run(s->robot, &d);
    if (s->rc)
        fprintf(stderr, "bench_exchange_path: robot: %s\n", d.msg);
    pthread_mutex_lock(&s->mu);
    s->connected = -1; /* ended */
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Waits until pred(s, want) holds or 10 s pass; returns 1 when it holds. */
static int wait_for(path_state_t *s, size_t want_decisions, int want_connected)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    pthread_mutex_lock(&s->mu);
    int ok = 0, rc = 0;
    while (rc == 0 && s->connected >= 0) {
        ok = want_connected ? s->connected == 1 : s->decisions >= want_decisions;
        if (ok)
            break;
        rc = pthread_cond_timedwait(&s->cv, &s->mu, &until);
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

static size_t discard(char *p, size_t size, size_t n, void *user)
{
    (void)p;
    (void)user;
    return size * n;
}

static void ping(void *arg)
{
    if (curl_easy_perform(arg) != CURLE_OK) {
        fprintf(stderr, "bench_exchange_path: ping failed\n");
        exit(1);
    }
}

/* Removes the bot's directory: bot.ini and the journal files the robot created. */
static void remove_dir(const char *dir)
{
    DIR *dp = opendir(dir);
    struct dirent *e;
    char p[512];
    while (dp && (e = readdir(dp)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (dp)
        closedir(dp);
    rmdir(dir);
}

static void die(const char *what, const cb_diag_t *d)
{
    fprintf(stderr, "bench_exchange_path: %s: %s\n", what, d ? d->msg : "failed");
    exit(1);
}

#define KEY "benchPathKey0123456789"
#define SECRET "benchPathSecret0123456789abcdef"

/* One robot against a fresh simulator; returns the path's latencies (seconds, sorted) and
 * the plain request's round trip. */
static void measure(int live, int n, bench_stats_t *path, bench_stats_t *ping_rt)
{
    int warm = bench_quick() ? 2 : 5;
    size_t history = 600;
    cb_series_t *s = bench_synth(history + (size_t)(n + warm) + 10, 42, "BTC/USDT");
    path_state_t st;
    memset(&st, 0, sizeof st);
    pthread_mutex_init(&st.mu, NULL);
    pthread_cond_init(&st.cv, NULL);
    st.live = live;

    cb_api_keys_t *keys = NULL;
    if (cb_api_keys_new(KEY, SECRET, &keys) != 0)
        die("keys", NULL);
    cb_sim_opts_t so;
    memset(&so, 0, sizeof so);
    const cb_series_t *series[1] = {s};
    so.series = series;
    so.n_series = 1;
    so.speed = 0; /* paused: the benchmark moves the clock */
    so.start_ms = s->time_ms[history];
    so.balance = "1000000 USDT";
    so.keys = keys;
    so.log = on_sim_log;
    so.log_user = &st;
    cb_sim_t *sim = NULL;
    cb_diag_t d;
    if (cb_sim_new(&so, &sim, &d) != 0 || cb_sim_start(sim, &d) != 0)
        die("simulator", &d);

    char dir[] = "/tmp/cbbench_path.XXXXXX", ini[128], keyfile[128];
    if (!mkdtemp(dir))
        die("mkdtemp", NULL);
    snprintf(ini, sizeof ini, "%s/bot.ini", dir);
    snprintf(keyfile, sizeof keyfile, "%s/keys.ini", dir);
    int fd = open(keyfile, O_WRONLY | O_CREAT | O_EXCL, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f)
        die("keys.ini", NULL);
    fprintf(f, "api_key = %s\napi_secret = %s\n", KEY, SECRET);
    fclose(f);
    f = fopen(ini, "w");
    if (!f)
        die("bot.ini", NULL);
    fprintf(f,
            "[strategy]\nname = every-bar\ntimeframe = 1h\n"
            "entry = close > 0\nexit = close > 0\n"
            "[backtest]\nstart_balance = 1000000 USDT\nstake = 100 USDT\nfee = 0.1%%\n"
            "[pairs]\nBTC/USDT = tick=0.01 step=0.00001 min_notional=5\n"
            "[exchange]\nname = binance\napi_url = http://127.0.0.1:%d\n"
            "ws_url = ws://127.0.0.1:%d\nkey_file = keys.ini\n"
            "[bot]\nname = bench\npairs = BTC/USDT\ntimeframe = 1h\nhistory = %zu\n",
            cb_sim_port(sim), cb_sim_ws_port(sim), history - 10);
    fclose(f);

    cb_rules_file_t *file = NULL;
    cb_diags_t diags = {0};
    if (cb_rules_file_load(ini, &file, &diags) != 0)
        die("bot.ini", diags.n ? &diags.items[0] : NULL);
    cb_diags_free(&diags);
    cb_robot_config_t cfg;
    if (cb_robot_config_load(file, ini, live ? "live" : "paper", &cfg, &d) != 0)
        die("bot config", &d);
    cb_robot_opts_t ro;
    memset(&ro, 0, sizeof ro);
    ro.stop = &st.stop;
    ro.log = on_log;
    ro.log_ctx = &st;
    if (cb_robot_new(file, &cfg, &ro, &st.robot, &d) != 0)
        die("robot", &d);
    pthread_t th;
    pthread_create(&th, NULL, robot_thread, &st);
    if (!wait_for(&st, 0, 1))
        die("the robot did not connect to the market stream", NULL);

    double lat[256];
    int got = 0;
    for (int i = 0; i < warm + n; i++) {
        pthread_mutex_lock(&st.mu);
        size_t before = st.decisions;
        pthread_mutex_unlock(&st.mu);
        double t0 = bench_now();
        cb_sim_advance(sim, 1);
        if (!wait_for(&st, before + 1, 0))
            die(live ? "no order reached the simulator within 10 s of a candle"
                     : "the robot did not decide on a candle within 10 s",
                NULL);
        pthread_mutex_lock(&st.mu);
        double t1 = st.last_decision;
        pthread_mutex_unlock(&st.mu);
        if (i >= warm && got < 256)
            lat[got++] = t1 - t0;
        usleep(20000); /* the fill and the bar's journal writes finish before the next candle */
    }
    st.stop = 1;
    pthread_join(th, NULL);

    /* the reference: a plain request's loopback round trip to the same simulator */
    CURL *c = curl_easy_init();
    char url[96];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/v3/ping", cb_sim_port(sim));
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    *ping_rt = bench_time(ping, c, 5, n);
    curl_easy_cleanup(c);

    memset(path, 0, sizeof *path);
    bench_summarise(lat, got, &path->median, &path->min, &path->max);
    cb_robot_free(st.robot);
    cb_rules_file_free(file);
    cb_sim_free(sim);
    cb_api_keys_free(keys);
    cb_series_free(s);
    remove_dir(dir);
}

int main(void)
{
    int n = bench_quick() ? 8 : 50;
    bench_stats_t live, paper, rt, rt2;
    measure(1, n, &live, &rt);
    measure(0, n, &paper, &rt2);
    printf("# %d candles each: candle close in the simulator -> order request accepted by the "
           "simulator (live) median %.3f ms; -> the robot's decision (paper) %.3f ms; plain "
           "request round trip %.3f ms\n",
           n, live.median * 1e3, paper.median * 1e3, rt.median * 1e3);
    bench_report("path.candle_to_order_live", live.median * 1e3, "ms", live.min * 1e3,
                 live.max * 1e3, "ping_roundtrip", live.median / rt.median);
    bench_report("path.candle_to_decision_paper", paper.median * 1e3, "ms", paper.min * 1e3,
                 paper.max * 1e3, "ping_roundtrip", paper.median / rt.median);
    bench_report("path.ping_roundtrip", rt.median * 1e3, "ms", rt.min * 1e3, rt.max * 1e3,
                 NULL, 0);
    return 0;
}
