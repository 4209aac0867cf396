/* `comeback demo`: the first command a newcomer runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/data_cli.h"
#include "comeback/data.h"

const char help_demo[] =
    "usage: comeback demo [--bars N] [--seed S]\n"
    "\n"
    "Generates a SYNTHETIC market (a deterministic random walk with volatility clustering and\n"
    "jumps; labelled SYNTHETIC everywhere it is shown), imports it into the local store under\n"
    "$COMEBACK_HOME (default ./user_data) as synth:SYN/USDT:1m, replacing an earlier demo\n"
    "series, and prints `comeback data info` and `comeback data check` for it. Then it\n"
    "backtests the ema-cross-rsi example strategy on it (written to <home>/demo/\n"
    "ema_cross_rsi.ini) and writes the HTML and JSON reports to <home>/demo/.\n"
    "\n"
    "  --bars N   candles to generate (default 100000, i.e. about 69 days of 1m candles)\n"
    "  --seed S   random seed (default 42); the same seed gives the same market\n";

#define DEMO_SERIES "synth:SYN/USDT:1m"

/* examples/strategies/ema_cross_rsi.ini, on the demo's 1m candles */
static const char k_demo_strategy[] =
    "; ema-cross-rsi (examples/strategies/ema_cross_rsi.ini) on the demo's SYNTHETIC 1m market\n"
    "[strategy]\n"
    "name = ema-cross-rsi\n"
    "timeframe = 1m\n"
    "entry = crossover(ema(close, fast), ema(close, slow)) and rsi(close, 14) < rsi_max\n"
    "exit = crossunder(ema(close, fast), ema(close, slow))\n"
    "stoploss = 5%\n"
    "trailing_stop = 3%\n"
    "trailing_offset = 1%\n"
    "\n"
    "[params]\n"
    "fast = 12\n"
    "slow = 26\n"
    "rsi_max = 70\n"
    "\n"
    "[backtest]\n"
    "data = " DEMO_SERIES "\n"
    "start_balance = 10000 USDT\n"
    "stake = 10%\n"
    "fee = 0.1%\n"
    "slippage = 0.05%\n"
    "\n"
    "[pairs]\n"
    "SYN/USDT = tick=0.01 step=0.00001 min_notional=5\n";

/* Writes the demo strategy and backtests it with HTML and JSON reports in <home>/demo. */
static int demo_backtest(void)
{
    char dir[4096], ini[4200], html[4200], json[4200];
    snprintf(dir, sizeof dir, "%s/demo", cb_store_home());
    snprintf(ini, sizeof ini, "%s/ema_cross_rsi.ini", dir);
    snprintf(html, sizeof html, "%s/report.html", dir);
    snprintf(json, sizeof json, "%s/result.json", dir);
    char mk[4200];
    snprintf(mk, sizeof mk, "%s", cb_store_home());
    mkdir(mk, 0755);
    mkdir(dir, 0755);
    cb_file_atomic_t f;
    if (cli_file_open(&f, ini) != CLI_OK ||
        cli_file_close(&f, fputs(k_demo_strategy, f.f) < 0 ? CB_EIO : 0, "demo strategy") !=
            CLI_OK)
        return CLI_FAIL;
    printf("\n== comeback backtest %s --html %s --json %s\n", ini, html, json);
    fflush(stdout);
    char b0[] = "backtest", b2[] = "--html", b4[] = "--json";
    char *bt_argv[] = {b0, ini, b2, html, b4, json, NULL};
    int r = cmd_backtest(6, bt_argv);
    fflush(stdout);
    if (r == 0)
        printf("\nOpen %s in a browser for the charts (no network needed).\n", html);
    return r;
}

int cmd_demo(int argc, char **argv)
{
    cb_synth_opts_t o;
    memset(&o, 0, sizeof o);
    o.bars = 100000;
    o.seed = 42;
    o.timeframe = "1m";
    for (int i = 1; i < argc; i++) {
        const char *v;
        int m;
        char *end;
        if ((m = cli_opt(argc, argv, &i, "--bars", &v)) != 0) {
            if (m < 0)
                return CLI_USAGE;
            unsigned long long n = strtoull(v, &end, 10);
            if (*end || !*v || *v == '-' || n == 0 || n > 100000000ULL)
                return cli_usage_error("demo", "--bars must be from 1 to 100000000, not '%s'",
                                       v);
            o.bars = (size_t)n;
        } else if ((m = cli_opt(argc, argv, &i, "--seed", &v)) != 0) {
            if (m < 0)
                return CLI_USAGE;
            o.seed = strtoull(v, &end, 10);
            if (*end || !*v || *v == '-')
                return cli_usage_error("demo", "--seed must be a whole number, not '%s'", v);
        } else {
            return cli_usage_error("demo", "unexpected argument '%s'", argv[i]);
        }
    }

    printf("Comeback demo: everything below runs on a SYNTHETIC market (generated, not real).\n\n");
    printf("== comeback data synth --bars %zu --timeframe 1m --seed %llu --store\n", o.bars,
           (unsigned long long)o.seed);
    cb_diag_t d;
    cb_diag_clear(&d);
    cb_series_t *s;
    int64_t t0 = cb_monotonic_ns();
    if (cb_synth_generate(&o, &s, &d) != 0)
        return cli_print_diag(&d);
    int64_t t1 = cb_monotonic_ns();
    char path[4096];
    if (cb_store_path(NULL, s->meta.exchange, s->meta.pair, s->meta.timeframe, path,
                      sizeof path) != 0) {
        cb_series_free(s);
        return cli_error("demo: store path too long under '%s'", cb_store_home());
    }
    /* The demo's series is the demo's own: it is rebuilt from its seed every time, so an
     * earlier one is replaced, but never without a word (data synth --store merges instead). */
    if (access(path, F_OK) == 0)
        printf("(replacing the series %s that an earlier demo or 'data synth' stored there;\n"
               " 'comeback data rename' keeps a copy under another name)\n",
               DEMO_SERIES);
    if (cb_store_save(path, s, &d) != 0) {
        cb_series_free(s);
        return cli_print_diag(&d);
    }
    int64_t t2 = cb_monotonic_ns();
    printf("SYNTHETIC market of %zu candles generated in %.3f s, stored as %s in %.3f s\n"
           "(%s)\n\n",
           s->n, (double)(t1 - t0) * 1e-9, DEMO_SERIES, (double)(t2 - t1) * 1e-9, path);
    cb_series_free(s);

    printf("== comeback data info %s\n", DEMO_SERIES);
    char a0[] = "info", a1[] = DEMO_SERIES;
    char *info_argv[] = {a0, a1, NULL};
    int r = data_info_run(2, info_argv);
    if (r)
        return r;
    printf("\n== comeback data check %s\n", DEMO_SERIES);
    fflush(stdout);
    char c0[] = "check";
    char *check_argv[] = {c0, a1, NULL};
    r = data_check_run(2, check_argv);
    fflush(stdout);
    if (r)
        return r;
    r = demo_backtest();
    printf("\nThe market above is SYNTHETIC. Next: 'comeback data list', 'comeback help data',\n"
           "docs/demo.md.\n");
    return r;
}
