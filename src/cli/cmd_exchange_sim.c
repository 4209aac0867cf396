/* `comeback exchange-sim`: the exchange simulator as a program. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "comeback/data.h"
#include "comeback/exchange.h"
#include "comeback/sim.h"

const char help_exchange_sim[] =
    "usage: comeback exchange-sim --data SERIES[,SERIES...] [--listen 127.0.0.1:PORT]\n"
    "                             [--speed X|realtime|paused] [--start DATE|end]\n"
    "                             [--balance \"10000 USDT\"] [--key-file F] [--faults SPEC]\n"
    "                             [--fee-bps N] [--weight-limit N] [--ws-port N]\n"
    "                             [--max-fill-fraction F] [--port-file F] [--quiet]\n"
    "\n"
    "Serves Binance's spot REST API on loopback and replays the given candles as the live\n"
    "market, so that a robot or any Binance client (ccxt included) can rehearse against it.\n"
    "Orders fill against the replayed prices with the backtester's fill model; balances move.\n"
    "\n"
    "options:\n"
    "  --data SERIES,...   candle series, one per pair, all on one timeframe: store names\n"
    "                      (binance:BTC/USDT:1h) or files (CSV, Binance klines, freqtrade\n"
    "                      JSON) named PAIR=FILE, e.g. BTC/USDT=btc_1h.csv\n"
    "  --listen ADDR:PORT  where to listen (default 127.0.0.1:8765; PORT 0 = any free port).\n"
    "                      Only an address named here can be other than loopback.\n"
    "  --speed X           candles per second (default 1); 'realtime' = one candle per\n"
    "                      timeframe; 'paused' = the clock moves only by POST\n"
    "                      /sim/v1/advance?candles=N\n"
    "  --start DATE|end    where the market clock starts (default: the first candle's open;\n"
    "                      'end' = after the last candle, everything is history)\n"
    "  --balance SPEC      initial balances, e.g. \"10000 USDT, 0.5 BTC\" (default 10000 USDT)\n"
    "  --key-file F        the API key requests must use and how to check their signatures\n"
    "                      (INI, mode 600: api_key = ... and api_secret = ... for an HMAC key,\n"
    "                      or public_key_file = key.pub.pem for an Ed25519 or RSA key).\n"
    "                      Default: COMEBACK_API_KEY and COMEBACK_API_SECRET; with neither,\n"
    "                      signatures are not checked.\n"
    "  --faults SPEC       seeded, repeatable faults: seed=N, 5xx=P, 429=P[:N], delay=P[:MS],\n"
    "                      lost=P[:MS] (an accepted order's answer held back), reject=P,\n"
    "                      drop=P (WebSocket: close instead of sending a message),\n"
    "                      e.g. \"seed=7,5xx=0.05,lost=0.1:3000\"\n"
    "  --fee-bps N         commission in basis points (default 10 = 0.1%; 0 = none)\n"
    "  --weight-limit N    request weight allowed per minute (default 6000)\n"
    "  --ws-port N         port of the WebSocket market streams on the same address\n"
    "                      (default: REST port + 1, or any free port with port 0; -1 = off)\n"
    "  --max-fill-fraction F  partial fills: per candle, orders of a pair fill at most F of\n"
    "                      its volume (0..1; default 0 = whole fills); a market order's\n"
    "                      remainder expires\n"
    "  --port-file F       write the REST port, then the WebSocket port, to F (one a line)\n"
    "  --quiet             no log lines\n"
    "\n"
    "Endpoints: /api/v3/ping, time, exchangeInfo, klines, ticker/bookTicker, account, order\n"
    "(POST, GET, DELETE; MARKET by quantity or quoteOrderQty, LIMIT GTC/IOC/FOK, stops),\n"
    "orderList/oco (POST), orderList (DELETE), openOrders, myTrades; GET /sim/v1/state\n"
    "(everything the simulated exchange did, as JSON); POST /sim/v1/advance?candles=N;\n"
    "POST /sim/v1/deposit?asset=A&amount=X. Streams: ws://ADDR:WSPORT/ws/<symbol>@kline_<tf>\n"
    "|@bookTicker|@trade and /stream?streams=a/b (a closed candle each). WebSocket API:\n"
    "ws://ADDR:WSPORT/ws-api/v3 with userDataStream.subscribe.signature (account events).\n"
    "Stops on Ctrl-C or SIGTERM.\n"
    "See docs/exchange-sim.md.\n";

static int load_one(const char *spec, cb_series_t **out)
{
    char pair[CB_EX_PAIR_MAX] = "";
    const char *path = spec;
    const char *eq = strchr(spec, '=');
    if (eq) {
        if ((size_t)(eq - spec) >= sizeof pair)
            return cli_usage_error("exchange-sim", "'%s': the pair before '=' is too long", spec);
        memcpy(pair, spec, (size_t)(eq - spec));
        pair[eq - spec] = '\0';
        path = eq + 1;
        char b[CB_EX_ASSET_MAX], q[CB_EX_ASSET_MAX];
        if (cb_pair_split(pair, b, sizeof b, q, sizeof q))
            return cli_usage_error("exchange-sim", "'%s' is not a pair like BTC/USDT", pair);
    }
    cb_diag_t d;
    cb_read_opts_t ro = {0};
    int r = cb_series_open(path, &ro, out, &d);
    if (r)
        return cli_print_diag(&d);
    if (pair[0])
        snprintf((*out)->meta.pair, sizeof (*out)->meta.pair, "%s", pair);
    if (!(*out)->meta.pair[0]) {
        cb_series_free(*out);
        *out = NULL;
        return cli_usage_error("exchange-sim",
                               "%s: which pair is this? name it as PAIR=FILE (BTC/USDT=%s)", path,
                               path);
    }
    return 0;
}

int cmd_exchange_sim(int argc, char **argv)
{
    const char *data = NULL, *listen = "127.0.0.1:8765", *speed_s = "1", *start_s = NULL,
               *balance = NULL, *key_file = NULL, *faults = NULL, *fee_s = NULL,
               *weight_s = NULL, *port_file = NULL, *ws_s = NULL, *fill_s = NULL, *v;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        int m = 0;
        const char **dst = NULL;
        static const char *const names[] = {"--data", "--listen", "--speed", "--start",
                                            "--balance", "--key-file", "--faults", "--fee-bps",
                                            "--weight-limit", "--port-file", "--ws-port",
                                            "--max-fill-fraction"};
        const char **dsts[] = {&data, &listen, &speed_s, &start_s, &balance, &key_file,
                               &faults, &fee_s, &weight_s, &port_file, &ws_s, &fill_s};
        for (size_t k = 0; k < sizeof names / sizeof names[0] && !m; k++)
            if ((m = cli_opt(argc, argv, &i, names[k], &v)) != 0)
                dst = dsts[k];
        if (m < 0)
            return CLI_USAGE;
        if (m > 0) {
            *dst = v;
            continue;
        }
        if (strcmp(argv[i], "--quiet") == 0)
            quiet = 1;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(help_exchange_sim, stdout);
            return CLI_OK;
        } else
            return cli_usage_error("exchange-sim", "unknown argument '%s'", argv[i]);
    }
    if (!data)
        return cli_usage_error("exchange-sim", "--data SERIES is required");
    cb_diag_t d;
    if (faults && cb_sim_faults_check(faults, &d))
        return cli_usage_error("exchange-sim", "%s", d.msg);
    double fill_fraction = 0;
    if (fill_s) {
        char *end;
        fill_fraction = strtod(fill_s, &end);
        if (end == fill_s || *end || !(fill_fraction >= 0 && fill_fraction <= 1))
            return cli_usage_error("exchange-sim",
                                   "--max-fill-fraction takes a share of a candle's volume "
                                   "from 0 to 1, got '%s'",
                                   fill_s);
    }
    double speed = 1;
    if (strcmp(speed_s, "realtime") == 0)
        speed = -1;
    else if (strcmp(speed_s, "paused") == 0)
        speed = 0;
    else {
        char *end;
        speed = strtod(speed_s, &end);
        if (end == speed_s || *end || !(speed > 0) || speed > 1e6)
            return cli_usage_error("exchange-sim",
                                   "--speed '%s': expected candles per second (> 0), "
                                   "'realtime' or 'paused'",
                                   speed_s);
    }
    int64_t start = 0;
    if (start_s && strcmp(start_s, "end") == 0)
        start = INT64_MAX;
    else if (start_s && cb_time_parse(start_s, (size_t)-1, &start))
        return cli_usage_error("exchange-sim", "--start '%s': expected a date or 'end'", start_s);
    long fee = 10, weight = 0;
    if (fee_s) {
        char *end;
        fee = strtol(fee_s, &end, 10);
        if (end == fee_s || *end || fee < 0 || fee > 1000)
            return cli_usage_error("exchange-sim", "--fee-bps '%s': expected 0..1000", fee_s);
    }
    if (weight_s) {
        char *end;
        weight = strtol(weight_s, &end, 10);
        if (end == weight_s || *end || weight < 1 || weight > 1000000)
            return cli_usage_error("exchange-sim", "--weight-limit '%s': expected a positive "
                                                   "number", weight_s);
    }

    long ws_port = -2; /* default: REST port + 1 */
    if (ws_s) {
        char *end;
        ws_port = strtol(ws_s, &end, 10);
        if (end == ws_s || *end || ws_port < -1 || ws_port > 65535)
            return cli_usage_error("exchange-sim", "--ws-port '%s': expected a port, 0 or -1",
                                   ws_s);
    }
    if (ws_port == -2) {
        const char *colon = strrchr(listen, ':');
        long p = colon ? strtol(colon + 1, NULL, 10) : 0;
        ws_port = p > 0 && p < 65535 ? p + 1 : 0;
    }
    cb_api_keys_t *keys = NULL;
    if (key_file) {
        if (cb_api_keys_load_file(key_file, &keys, &d))
            return cli_print_diag(&d);
    } else if (cb_api_keys_load_env(&keys, &d) != 0) {
        if (d.code != CB_ENOENT)
            return cli_print_diag(&d);
        if (!quiet)
            fprintf(stderr, "exchange-sim: warning: no --key-file and no COMEBACK_API_KEY/"
                            "COMEBACK_API_SECRET: any key is accepted, signatures are not "
                            "checked\n");
    }

    cb_series_t *series[16];
    size_t n = 0;
    int rc = CLI_OK;
    char *list = strdup(data), *save = NULL;
    for (char *it = strtok_r(list, ",", &save); it && rc == CLI_OK;
         it = strtok_r(NULL, ",", &save)) {
        if (n == sizeof series / sizeof series[0]) {
            rc = cli_usage_error("exchange-sim", "at most 16 series");
            break;
        }
        rc = load_one(it, &series[n]);
        if (rc == CLI_OK)
            n++;
    }
    free(list);
    cb_sim_t *sim = NULL;
    if (rc == CLI_OK) {
        cb_sim_opts_t o = {.series = (const cb_series_t *const *)series, .n_series = n,
                           .listen = listen, .speed = speed, .start_ms = start,
                           .balance = balance, .keys = keys, .faults = faults,
                           .fee_bps = fee == 0 ? -1 : (int)fee, .weight_limit = (int)weight,
                           .ws_port = (int)ws_port, .quiet = quiet,
                           .max_fill_fraction = fill_fraction};
        /* Signals are taken synchronously by this thread only: block them before the
         * server threads start so that they inherit the mask. */
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        if (cb_sim_new(&o, &sim, &d) || cb_sim_start(sim, &d)) {
            rc = cli_print_diag(&d);
        } else {
            /* Renamed into place: a reader polling for the file never sees half of it. */
            cb_file_atomic_t f;
            if (port_file && cli_file_open(&f, port_file) == CLI_OK) {
                fprintf(f.f, "%d\n%d\n", cb_sim_port(sim), cb_sim_ws_port(sim));
                cli_file_close(&f, 0, "port file");
            }
            int sig = 0;
            sigwait(&set, &sig);
            if (!quiet) {
                char *st = cb_sim_state_json(sim);
                fprintf(stderr, "exchange-sim: stopping on signal %d\n", sig);
                free(st);
            }
        }
    }
    cb_sim_free(sim);
    for (size_t i = 0; i < n; i++)
        cb_series_free(series[i]);
    cb_api_keys_free(keys);
    return rc;
}
