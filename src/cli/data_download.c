/* `comeback data download`: pages an exchange's candles into the local store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/data_cli.h"
#include "comeback/data.h"
#include "comeback/exchange.h"

const char help_data_download[] =
    "usage: comeback data download --exchange binance --pair BASE/QUOTE --timeframe TF\n"
    "                              --from DATE [--to DATE] [--api-url URL]\n"
    "\n"
    "Downloads closed candles from the exchange's candle endpoint (1000 per request, within\n"
    "the exchange's rate limits, retrying what can be retried) into the store series\n"
    "EXCHANGE:BASE/QUOTE:TF. Resumes where the store ends: only candles after its last one\n"
    "(and before its first, when --from is earlier) are fetched. Candles already stored must\n"
    "agree exactly. On a terminal it shows pages, candles and the time left.\n"
    "  --from DATE     first candle wanted (2024-01-01 or 2024-01-01 12:00)\n"
    "  --to DATE       stop before this time (default: up to now)\n"
    "  --api-url URL   REST base URL (default https://api.binance.com; the spot testnet is\n"
    "                  https://testnet.binance.vision; comeback exchange-sim prints its own)\n";

typedef struct prog {
    int tty;
    int64_t t0_ns;
    int64_t from, to;
    size_t base_pages, base_candles;
} prog_t;

static void on_progress(const cb_download_progress_t *p, void *user)
{
    prog_t *g = user;
    if (!g->tty)
        return;
    double done = g->to > g->from ? (double)(p->at_ms - g->from) / (double)(g->to - g->from) : 1;
    if (done < 0)
        done = 0;
    if (done > 1)
        done = 1;
    double el = (double)(cb_monotonic_ns() - g->t0_ns) / 1e9;
    double eta = done > 0.001 ? el * (1 - done) / done : 0;
    int bar = (int)(done * 30);
    fprintf(stderr, "\r[%-30.*s] %3.0f%%  %zu pages  %zu candles  ETA %.0fs   ", bar,
            "##############################", done * 100, g->base_pages + p->pages,
            g->base_candles + p->candles, eta);
    fflush(stderr);
}

int data_download_run(int argc, char **argv)
{
    const char *exchange = NULL, *pair = NULL, *tf_s = NULL, *from_s = NULL, *to_s = NULL,
               *url = NULL, *v;
    for (int i = 1; i < argc; i++) {
        int m = 0;
        const char **dst = NULL;
        static const char *const names[] = {"--exchange", "--pair", "--timeframe",
                                            "--from", "--to", "--api-url"};
        const char **dsts[] = {&exchange, &pair, &tf_s, &from_s, &to_s, &url};
        for (size_t k = 0; k < sizeof names / sizeof names[0] && !m; k++)
            if ((m = cli_opt(argc, argv, &i, names[k], &v)) != 0)
                dst = dsts[k];
        if (m < 0)
            return CLI_USAGE;
        if (!m)
            return cli_usage_error("data", "download: unknown argument '%s'", argv[i]);
        *dst = v;
    }
    if (!exchange || !pair || !tf_s || !from_s)
        return cli_usage_error("data", "download needs --exchange, --pair, --timeframe and "
                                       "--from");
    if (strcmp(exchange, "binance") != 0)
        return cli_usage_error("data", "download: unsupported exchange '%s' (binance)", exchange);
    char base[CB_EX_ASSET_MAX], quote[CB_EX_ASSET_MAX];
    if (cb_pair_split(pair, base, sizeof base, quote, sizeof quote))
        return cli_usage_error("data", "download: '%s' is not a pair like BTC/USDT", pair);
    cb_timeframe_t tf;
    if (cb_timeframe_parse(tf_s, &tf) || tf.months)
        return cli_usage_error("data", "download: '%s' is not a timeframe like 1m, 1h, 1d",
                               tf_s);
    int64_t from, to = 0;
    if (cb_time_parse(from_s, (size_t)-1, &from))
        return cli_usage_error("data", "download: --from '%s' is not a date", from_s);
    if (to_s && cb_time_parse(to_s, (size_t)-1, &to))
        return cli_usage_error("data", "download: --to '%s' is not a date", to_s);
    if (to && to <= from)
        return cli_usage_error("data", "download: --to must be after --from");
    from = cb_timeframe_floor(&tf, from);

    char path[1024];
    cb_diag_t d;
    cb_diag_clear(&d);
    if (cb_store_check_name(exchange, pair, tf.name, &d) != 0)
        return cli_usage_error("data", "download: --%s: %s", d.field, d.msg);
    if (cb_store_path(cb_store_home(), exchange, pair, tf.name, path, sizeof path))
        return cli_error("the store path of %s:%s:%s is too long under '%s'", exchange, pair,
                         tf.name, cb_store_home());
    cb_series_t *have = NULL;
    int r = cb_store_load(path, &have, &d);
    if (r == CB_ENOENT) {
        have = cb_series_new(0);
        if (!have)
            return cli_error("out of memory");
    } else if (r) {
        return cli_print_diag(&d);
    }
    cb_exchange_t *ex = NULL;
    cb_binance_opts_t bo = {.base_url = url};
    if (cb_binance_new(&bo, &ex, &d)) {
        cb_series_free(have);
        return cli_print_diag(&d);
    }
    prog_t g = {isatty(STDERR_FILENO), cb_monotonic_ns(), from, to ? to : cb_now_ms(), 0, 0};
    cb_series_t *add = cb_series_new(0);
    int rc = add ? CLI_OK : CLI_FAIL;
    /* Before the store's first candle, when asked for, then after its last one. */
    if (rc == CLI_OK && have->n > 0 && from < have->time_ms[0]) {
        r = cb_exchange_download(ex, pair, tf.name, from, have->time_ms[0], add, on_progress,
                                 &g, &d);
        g.base_candles = add->n;
        if (r)
            rc = cli_print_diag(&d);
    }
    int64_t start = have->n > 0 ? cb_timeframe_next(&tf, have->time_ms[have->n - 1]) : from;
    if (start < from)
        start = from;
    if (rc == CLI_OK && (!to || start < to)) {
        cb_series_t *tail = cb_series_new(0);
        r = tail ? cb_exchange_download(ex, pair, tf.name, start, to, tail, on_progress, &g, &d)
                 : CB_ENOMEM;
        /* Keep what arrived even when the download failed half way: a rerun resumes. */
        for (size_t i = 0; tail && i < tail->n; i++)
            cb_series_push(add, tail->time_ms[i], tail->open[i], tail->high[i], tail->low[i],
                           tail->close[i], tail->volume[i]);
        cb_series_free(tail);
        if (r)
            rc = cli_print_diag(&d);
    }
    if (g.tty)
        fputc('\n', stderr);
    size_t added = 0;
    if (add && add->n > 0) {
        snprintf(add->meta.exchange, sizeof add->meta.exchange, "%s", exchange);
        snprintf(add->meta.pair, sizeof add->meta.pair, "%s", pair);
        snprintf(add->meta.timeframe, sizeof add->meta.timeframe, "%s", tf.name);
        snprintf(add->meta.source, sizeof add->meta.source, "%s",
                 url ? url : "https://api.binance.com");
        /* Merged into the series as it is now (under its lock), not as it was when the
         * download started: what another command stored meanwhile is kept. */
        cb_series_t *merged = NULL;
        if (cb_store_add(path, add, &added, &merged, &d)) {
            rc = cli_print_diag(&d);
        } else {
            char a[32], b[32];
            printf("%s:%s:%s: %zu new candles, %zu in the store (%s .. %s)\n", exchange, pair,
                   tf.name, added, merged->n, cb_time_format(merged->time_ms[0], a, sizeof a),
                   cb_time_format(merged->time_ms[merged->n - 1], b, sizeof b));
        }
        cb_series_free(merged);
    } else if (rc == CLI_OK) {
        printf("%s:%s:%s: up to date, %zu candles in the store\n", exchange, pair, tf.name,
               have->n);
    }
    cb_series_free(add);
    cb_series_free(have);
    cb_exchange_free(ex);
    return rc;
}
