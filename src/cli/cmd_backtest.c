/* `comeback backtest STRATEGY.ini ...`: runs a strategy file over one or more series and
 * reports. Settings: defaults, then the file's [backtest] and [pairs], then the command line. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "comeback/backtest.h"
#include "comeback/data.h"
#include "comeback/engine.h"
#include "comeback/report.h"
#include "comeback/rules.h"

const char help_backtest[] =
    "usage: comeback backtest STRATEGY.ini [--data SERIES[,SERIES...]] [--from DATE] [--to DATE]\n"
    "                        [--fee F] [--maker-fee F] [--slippage S] [--stake X]\n"
    "                        [--start-balance \"10000 USDT\"] [--max-open-trades N]\n"
    "                        [--set param=value ...] [--json FILE] [--trades FILE.csv]\n"
    "                        [--html FILE] [--equity] [--quiet] [--pair PAIR]\n"
    "\n"
    "Runs the strategy over the series (one pair each, aligned by time, sharing one quote\n"
    "account) and prints a summary: returns, risk, trade statistics, per-pair, per-exit-reason\n"
    "and monthly tables. Rules are evaluated on the close of each bar; market orders fill at the\n"
    "next bar's open; stops and targets are checked inside each bar, stop first when both could\n"
    "have been hit (docs/backtest.md). Money is fixed point and the account must balance to the\n"
    "unit at the end of every run; an amount beyond 92,233,720,368.54775807 refuses the order\n"
    "or stops the run naming the value (docs/backtest.md, Limits). When [strategy] names a\n"
    "timeframe, every series must have candles of that timeframe (resample with `comeback data\n"
    "resample` otherwise).\n"
    "\n"
    "Command-line values override the file's [backtest] section (keys: data, pair,\n"
    "start_balance, stake, max_open_trades, fee, maker_fee, slippage, from, to). [pairs] sets\n"
    "exchange rounding per pair: `BTC/USDT = tick=0.01 step=0.00001 min_notional=5`.\n"
    "\n"
    "options:\n"
    "  --data SERIES,...      series files (any format `comeback data` reads); the pair comes\n"
    "                         from the data, or from [backtest] pair for a single series\n"
    "  --pair PAIR[,PAIR...]  the pairs of the series, in order, when the data does not\n"
    "                         name them (else taken from the data or guessed from file\n"
    "                         names such as binance_spot_BTCUSDT_1h.csv)\n"
    "  --from DATE, --to DATE trade bars opening in [from, to]; earlier bars warm up\n"
    "                         (from must be before to, and every series needs a candle in\n"
    "                         the window)\n"
    "  --fee F                taker fee (0.1%, 0.001, 10bps; default 0.1%)\n"
    "  --maker-fee F          maker fee for limit fills (default: the taker fee)\n"
    "  --slippage S           adverse slippage on market and stop fills (default 0)\n"
    "  --stake X              1000 (quote per trade), 10% (of equity), 1 BTC (base), all\n"
    "                         (default 10%)\n"
    "  --start-balance B      \"10000 USDT\" (default 10000 of the quote currency)\n"
    "  --max-open-trades N    0 = unlimited (default)\n"
    "  --set NAME=VALUE       override a [params] value (repeatable)\n"
    "  --json FILE            the full result as JSON (metrics, trades, pairs, config, data\n"
    "                         with sha256 of each series, version); deterministic\n"
    "  --trades FILE.csv      the trades as CSV\n"
    "  --html FILE            a self-contained HTML report with SVG charts\n"
    "  --equity               add the end-of-day equity curve to the JSON, or print it as\n"
    "                         CSV after the summary when there is no --json\n"
    "  --quiet                no summary on stdout\n"
    "  --list-metrics         print the metrics table (key, label, formula) as Markdown\n"
    "\n"
    "Report files are written to a temporary file beside FILE and renamed into place, so a\n"
    "failed write (a full disk) leaves the previous report as it was.\n"
    "\n"
    "Exit status: 0 on success, 1 when the strategy, data or a setting is wrong (with\n"
    "file:line) or an output cannot be written (stdout or a report file), 2 on a bad command\n"
    "line. Metrics: docs/metrics.md; rules: docs/backtest.md.\n";

#define MAX_SETS 64

static int term_width(void)
{
    struct winsize ws;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    const char *c = getenv("COLUMNS");
    if (c && atoi(c) > 0)
        return atoi(c);
    return 100;
}

int cmd_backtest(int argc, char **argv)
{
    const char *ini = NULL, *json_path = NULL, *csv_path = NULL, *html_path = NULL;
    const char *sets[MAX_SETS];
    int n_sets = 0, want_equity = 0, quiet = 0;
    cb_bt_settings_t cl; /* from the command line */
    memset(&cl, 0, sizeof cl);
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        if ((r = cli_bt_setting(argc, argv, &i, &cl)) != 0) {
            if (r < 0)
                return CLI_USAGE;
            continue;
        }
        if ((r = cli_opt(argc, argv, &i, "--set", &v)) != 0) {
            if (r < 0)
                return CLI_USAGE;
            if (n_sets == MAX_SETS)
                return cli_usage_error("backtest", "too many --set options");
            sets[n_sets++] = v;
            continue;
        }
        if ((r = cli_opt(argc, argv, &i, "--json", &json_path)) != 0) {
            if (r < 0)
                return CLI_USAGE;
            continue;
        }
        if ((r = cli_opt(argc, argv, &i, "--trades", &csv_path)) != 0) {
            if (r < 0)
                return CLI_USAGE;
            continue;
        }
        if ((r = cli_opt(argc, argv, &i, "--html", &html_path)) != 0) {
            if (r < 0)
                return CLI_USAGE;
            continue;
        }
        if (!strcmp(argv[i], "--equity")) {
            want_equity = 1;
            continue;
        }
        if (!strcmp(argv[i], "--list-metrics")) {
            printf("| key | shown as | formula |\n|---|---|---|\n");
            for (int k = 0; k < CB_METRIC_COUNT; k++) {
                const cb_metric_info_t *in = cb_metric_info((cb_metric_id_t)k);
                printf("| `%s` | %s | %s |\n", in->key, in->label, in->formula);
            }
            return CLI_OK;
        }
        if (!strcmp(argv[i], "--quiet")) {
            quiet = 1;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1])
            return cli_unknown_option("backtest", argv[i]);
        if (ini)
            return cli_usage_error("backtest", "one strategy file only ('%s' and '%s')", ini,
                                   argv[i]);
        ini = argv[i];
    }
    if (!ini)
        return cli_usage_error("backtest", "missing the strategy file");

    /* the strategy file */
    cb_rules_file_t *f = NULL;
    if (cli_load_strategy(ini, &f) != CLI_OK)
        return CLI_FAIL;
    int rc = 0;
    char buf[2048];
    int status = CLI_FAIL;
    cb_backtest_t bt;
    cb_diag_t sdiag;
    cb_diag_clear(&sdiag);
    if (cb_backtest_setup(&bt, f, ini, &cl, &sdiag) != 0) {
        cli_print_diag(&sdiag);
        if (strstr(sdiag.msg, "no data:"))
            status = CLI_USAGE;
        goto out_file;
    }
    const cb_bt_settings_t *stp = &bt.settings;
    size_t n = bt.n;
    cb_series_t **series = bt.series;
    char (*names)[512] = bt.names;
    const char *quote = bt.quote;
    cb_engine_config_t cfg = bt.cfg;
    cb_engine_pair_t pairs[CB_BT_MAX_PAIRS];
    cb_report_data_t data[CB_BT_MAX_PAIRS];
    memset(pairs, 0, sizeof pairs);
    memset(data, 0, sizeof data);
    cb_rules_strategy_t *strat = NULL;

    /* parameters */
    size_t np = cb_rules_file_n_params(f);
    double *values = calloc(np ? np : 1, sizeof *values);
    cb_rules_params_default(f, values);
    for (int k = 0; k < n_sets; k++) {
        cb_diag_t d;
        cb_diag_clear(&d);
        if (cb_rules_params_set(f, values, sets[k], &d) != 0) {
            cli_print_diag(&d);
            status = CLI_USAGE;
            goto out_series;
        }
    }

    /* the strategy, one instance per pair */
    cb_diags_t sd = {0};
    rc = cb_rules_strategy_new(f, values, &strat, &sd);
    for (size_t k = 0; k < sd.n; k++) {
        cb_rules_render_diag(f, &sd.items[k], buf, sizeof buf);
        fputs(buf, stderr);
    }
    if (rc && !sd.total) /* never a silent exit status 1 */
        cli_error("%s: the strategy cannot be prepared: %s", ini, cb_strerror(rc));
    cb_diags_free(&sd);
    if (rc)
        goto out_series;
    {
        cb_diag_t d;
        cb_diag_clear(&d);
        if (cb_backtest_pairs(&bt, strat, pairs, &d) != 0) {
            cli_print_diag(&d);
            goto out_series;
        }
    }

    cb_engine_result_t res;
    cb_diag_t d;
    cb_diag_clear(&d);
    rc = cb_engine_run(&cfg, pairs, n, &res, &d);
    if (rc) {
        cli_print_diag(&d);
        goto out_series;
    }
    cb_metrics_t m;
    if (cb_metrics_compute(&res, &m) != 0) {
        cli_error("out of memory");
        cb_engine_result_free(&res);
        goto out_series;
    }
    for (size_t k = 0; k < n; k++) {
        data[k].name = names[k];
        data[k].pair = pairs[k].instrument.pair;
        data[k].timeframe = series[k]->meta.timeframe;
        data[k].bars = series[k]->n;
        data[k].first_ms = series[k]->n ? series[k]->time_ms[0] : 0;
        data[k].last_ms = series[k]->n ? series[k]->time_ms[series[k]->n - 1] : 0;
        data[k].synthetic = series[k]->meta.synthetic;
        cb_series_sha256(series[k], data[k].sha256);
    }
    /* the configuration as it was used */
    char c_sb[64], c_stake[64], c_fee[32], c_mfee[32], c_slip[32], c_mot[16], c_sl[32],
        c_tp[32], c_ts[32], c_to[32], c_pairs[1024] = "", c_params[2048] = "", c_ticks[2048] = "";
    cb_dec_format(cfg.start_balance, 8, c_sb, sizeof c_sb);
    snprintf(c_sb + strlen(c_sb), sizeof c_sb - strlen(c_sb), " %s", quote);
    cb_stake_format(&cfg.stake, quote, c_stake, sizeof c_stake);
    cb_dec_format(cfg.costs.taker_fee * 100, 8, c_fee, sizeof c_fee);
    strcat(c_fee, "%");
    cb_dec_format(cfg.costs.maker_fee * 100, 8, c_mfee, sizeof c_mfee);
    strcat(c_mfee, "%");
    cb_dec_format(cfg.costs.slippage * 100, 8, c_slip, sizeof c_slip);
    strcat(c_slip, "%");
    snprintf(c_mot, sizeof c_mot, "%d", cfg.max_open_trades);
    snprintf(c_sl, sizeof c_sl, "%g%%", cfg.stop_loss * 100);
    snprintf(c_tp, sizeof c_tp, "%g%%", cfg.take_profit * 100);
    snprintf(c_ts, sizeof c_ts, "%g%%", cfg.trailing_stop * 100);
    snprintf(c_to, sizeof c_to, "%g%%", cfg.trailing_offset * 100);
    for (size_t k = 0; k < n; k++) {
        char tk[32], sp[32], mn[32];
        cb_dec_format(pairs[k].instrument.tick, 8, tk, sizeof tk);
        cb_dec_format(pairs[k].instrument.step, 8, sp, sizeof sp);
        cb_dec_format(pairs[k].instrument.min_notional, 8, mn, sizeof mn);
        snprintf(c_pairs + strlen(c_pairs), sizeof c_pairs - strlen(c_pairs), "%s%s",
                 k ? ", " : "", pairs[k].instrument.pair);
        snprintf(c_ticks + strlen(c_ticks), sizeof c_ticks - strlen(c_ticks),
                 "%s%s tick=%s step=%s min_notional=%s", k ? "; " : "",
                 pairs[k].instrument.pair, tk, sp, mn);
    }
    for (size_t k = 0; k < np; k++)
        snprintf(c_params + strlen(c_params), sizeof c_params - strlen(c_params), "%s%s=%g",
                 k ? ", " : "", cb_rules_file_param(f, k)->name, values[k]);
    cb_report_kv_t kv[] = {
        {"strategy_file", ini},     {"pairs", c_pairs},         {"start_balance", c_sb},
        {"stake", c_stake},         {"max_open_trades", c_mot}, {"fee", c_fee},
        {"maker_fee", c_mfee},      {"slippage", c_slip},       {"stoploss", c_sl},
        {"take_profit", c_tp},      {"trailing_stop", c_ts},    {"trailing_offset", c_to},
        {"from", stp->from},        {"to", stp->to},              {"params", c_params},
        {"rounding", c_ticks},
    };
    const char *sname = cb_rules_file_name(f);
    cb_report_t rep = {&res, &m, sname ? sname : ini, kv, sizeof kv / sizeof kv[0], data, n,
                       want_equity};
    status = CLI_OK;
    if (!quiet) {
        cb_report_write_text(stdout, &rep, term_width(), cli_stdout_is_tty());
        if (want_equity && !json_path) {
            printf("\nday,equity\n");
            for (size_t i = 0; i < res.n_days && !cli_stdout_failed(); i++) {
                char dbuf[40];
                cb_time_format(res.day_ms[i], dbuf, sizeof dbuf);
                dbuf[10] = 0;
                printf("%s,%.8f\n", dbuf,
                       i + 1 == res.n_days ? cb_fx_to_double(res.final_balance)
                                           : res.day_equity[i]);
            }
        }
    }
    struct {
        const char *path;
        int (*fn)(FILE *, const cb_report_t *);
        const char *what;
    } outs[] = {{json_path, cb_report_write_json, "JSON"},
                {csv_path, cb_report_write_trades_csv, "trades CSV"},
                {html_path, cb_report_write_html, "HTML report"}};
    for (size_t k = 0; k < 3; k++) {
        if (!outs[k].path)
            continue;
        /* Written beside the target and renamed into place: a full disk leaves the previous
         * report as it was, never a truncated one. */
        cb_file_atomic_t o;
        if (cli_file_open(&o, outs[k].path) != CLI_OK ||
            cli_file_close(&o, outs[k].fn(o.f, &rep), outs[k].what) != CLI_OK) {
            status = CLI_FAIL;
            continue;
        }
        if (!quiet)
            printf("%s written to %s\n", outs[k].what, outs[k].path);
    }
    cb_metrics_free(&m);
    cb_engine_result_free(&res);
out_series:
    cb_backtest_pairs_free(&bt, pairs);
    cb_rules_strategy_free(strat);
    free(values);
    cb_backtest_close(&bt);
out_file:
    cb_rules_file_free(f);
    return status;
}
