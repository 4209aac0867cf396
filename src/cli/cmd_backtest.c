/* `comeback backtest STRATEGY.ini ...`: runs a strategy file over one or more series and
 * reports. Settings: defaults, then the file's [backtest] and [pairs], then the command line. */
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
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
    "unit at the end of every run.\n"
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
    "Exit status: 0 on success, 1 when the strategy, data or a setting is wrong (with\n"
    "file:line), 2 on a bad command line. Metrics: docs/metrics.md; rules: docs/backtest.md.\n";

#define MAX_PAIRS 32
#define MAX_SETS 64

typedef struct settings {
    char data[4096];
    char pair[512];
    char start_balance[64];
    char stake[64];
    char max_open_trades[32];
    char fee[32], maker_fee[32], slippage[32];
    char from[48], to[48];
    char src_data[256]; /* where data came from, for messages */
} settings_t;

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

static int set_from_section(settings_t *st, const cb_rules_section_t *sec, const char *file,
                            const char *ini_dir)
{
    for (size_t i = 0; i < sec->n; i++) {
        const cb_rules_kv_t *kv = &sec->items[i];
        char *dst = NULL;
        size_t cap = 0;
#define KEY(name, field)                                                                     \
    else if (!strcmp(kv->key, name)) { dst = st->field; cap = sizeof st->field; }
        if (0) {
        }
        KEY("data", data) KEY("pair", pair) KEY("start_balance", start_balance)
        KEY("stake", stake) KEY("max_open_trades", max_open_trades) KEY("fee", fee)
        KEY("maker_fee", maker_fee) KEY("slippage", slippage) KEY("from", from) KEY("to", to)
#undef KEY
        if (!dst) {
            cb_diag_t d;
            cb_diag_set(&d, CB_EPARSE, file, kv->line, 1, NULL,
                        "[backtest]: unknown key '%s' (keys: data, pair, start_balance, stake, "
                        "max_open_trades, fee, maker_fee, slippage, from, to)",
                        kv->key);
            return cli_print_diag(&d);
        }
        snprintf(dst, cap, "%s", kv->value);
        if (dst == st->data) {
            /* data paths in the file are relative to the file */
            char list[4096], *save = NULL;
            snprintf(list, sizeof list, "%s", kv->value);
            st->data[0] = 0;
            for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                while (*tok == ' ')
                    tok++;
                size_t tl = strlen(tok);
                while (tl && tok[tl - 1] == ' ')
                    tok[--tl] = 0;
                char rel[4096];
                struct stat sb;
                snprintf(rel, sizeof rel, "%s/%s", ini_dir ? ini_dir : ".", tok);
                const char *use = tok[0] != '/' && ini_dir && stat(rel, &sb) == 0 ? rel : tok;
                size_t used = strlen(st->data);
                snprintf(st->data + used, sizeof st->data - used, "%s%s", used ? "," : "", use);
            }
            snprintf(st->src_data, sizeof st->src_data, "%s:%ld", file, kv->line);
        }
    }
    return 0;
}

static int open_series(const char *name, cb_series_t **out)
{
    cb_read_opts_t ro;
    memset(&ro, 0, sizeof ro);
    ro.format = CB_FORMAT_AUTO;
    cb_diag_t d;
    cb_diag_clear(&d);
    int rc = cb_series_read_file(name, &ro, out, NULL, &d);
    if (rc) {
        if (!d.file[0])
            snprintf(d.file, sizeof d.file, "%s", name);
        return cli_print_diag(&d);
    }
    return 0;
}

/* "binance_spot_BTCUSDT_1h.csv" -> "BTC/USDT": a run of capitals ending in a known quote
 * currency, between separators. Returns 1 when found. */
static int guess_pair(const char *path, char *out, size_t size)
{
    static const char *quotes[] = {"USDT", "USDC", "BUSD", "FDUSD", "TUSD", "USD", "EUR", "BTC",
                                   "ETH", "BNB"};
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (const char *p = base; *p; p++) {
        if (p != base && p[-1] != '_' && p[-1] != '-' && p[-1] != '.')
            continue;
        size_t n = 0;
        while ((p[n] >= 'A' && p[n] <= 'Z') || (p[n] >= '0' && p[n] <= '9'))
            n++;
        if (n < 5 || n > 20 || (p[n] && p[n] != '_' && p[n] != '-' && p[n] != '.'))
            continue;
        for (size_t q = 0; q < sizeof quotes / sizeof quotes[0]; q++) {
            size_t ql = strlen(quotes[q]);
            if (n > ql + 1 && !strncmp(p + n - ql, quotes[q], ql)) {
                snprintf(out, size, "%.*s/%s", (int)(n - ql), p, quotes[q]);
                return 1;
            }
        }
    }
    return 0;
}

static int parse_rate(const char *what, const char *s, int64_t *out)
{
    if (cb_rate_parse(s, out) != 0) {
        cli_error("%s: expected a rate such as 0.1%%, 0.001 or 10bps, got '%s'", what, s);
        return -1;
    }
    return 0;
}

int cmd_backtest(int argc, char **argv)
{
    const char *ini = NULL, *json_path = NULL, *csv_path = NULL, *html_path = NULL;
    const char *sets[MAX_SETS];
    int n_sets = 0, want_equity = 0, quiet = 0;
    settings_t cl; /* from the command line */
    memset(&cl, 0, sizeof cl);
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
#define OPT(name, field)                                                                     \
    if ((r = cli_opt(argc, argv, &i, name, &v)) != 0) {                                      \
        if (r < 0)                                                                           \
            return CLI_USAGE;                                                                \
        snprintf(cl.field, sizeof cl.field, "%s", v);                                        \
        continue;                                                                            \
    }
        OPT("--data", data)
        OPT("--from", from)
        OPT("--to", to)
        OPT("--fee", fee)
        OPT("--maker-fee", maker_fee)
        OPT("--slippage", slippage)
        OPT("--stake", stake)
        OPT("--start-balance", start_balance)
        OPT("--max-open-trades", max_open_trades)
        OPT("--pair", pair)
#undef OPT
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
            return cli_usage_error("backtest", "unknown option '%s'", argv[i]);
        if (ini)
            return cli_usage_error("backtest", "one strategy file only ('%s' and '%s')", ini,
                                   argv[i]);
        ini = argv[i];
    }
    if (!ini)
        return cli_usage_error("backtest", "missing the strategy file");

    /* the strategy file */
    cb_diags_t diags = {0};
    cb_rules_file_t *f = NULL;
    int rc = cb_rules_file_load(ini, &f, &diags);
    char buf[2048];
    for (size_t k = 0; k < diags.n; k++) {
        cb_rules_render_diag(f, &diags.items[k], buf, sizeof buf);
        fputs(buf, stderr);
    }
    cb_diags_free(&diags);
    if (rc) {
        if (!f)
            cli_error("%s: %s", ini, cb_strerror(rc));
        cb_rules_file_free(f);
        return CLI_FAIL;
    }
    int status = CLI_FAIL;
    settings_t st;
    memset(&st, 0, sizeof st);
    snprintf(st.fee, sizeof st.fee, "0.1%%");
    snprintf(st.stake, sizeof st.stake, "10%%");
    char ini_copy[4096];
    snprintf(ini_copy, sizeof ini_copy, "%s", ini);
    const char *ini_dir = dirname(ini_copy);
    const cb_rules_section_t *sec = cb_rules_file_section(f, "backtest");
    if (sec && set_from_section(&st, sec, ini, ini_dir))
        goto out_file;
#define OVERRIDE(field)                                                                      \
    if (cl.field[0])                                                                         \
        snprintf(st.field, sizeof st.field, "%s", cl.field);
    OVERRIDE(data) OVERRIDE(pair) OVERRIDE(start_balance) OVERRIDE(stake)
    OVERRIDE(max_open_trades) OVERRIDE(fee) OVERRIDE(maker_fee) OVERRIDE(slippage)
    OVERRIDE(from) OVERRIDE(to)
#undef OVERRIDE
    if (!st.data[0]) {
        cli_usage_error("backtest", "no data: give --data SERIES or [backtest] data = ...");
        status = CLI_USAGE;
        goto out_file;
    }

    /* parameters */
    size_t np = cb_rules_file_n_params(f);
    double *values = calloc(np ? np : 1, sizeof *values);
    cb_rules_params_default(f, values);
    for (int k = 0; k < n_sets; k++) {
        cb_diag_t d;
        cb_diag_clear(&d);
        if (cb_rules_params_set(f, values, sets[k], &d) != 0) {
            cli_print_diag(&d);
            free(values);
            status = CLI_USAGE;
            goto out_file;
        }
    }

    /* the series */
    cb_series_t *series[MAX_PAIRS] = {0};
    cb_engine_pair_t pairs[MAX_PAIRS];
    cb_report_data_t data[MAX_PAIRS];
    char names[MAX_PAIRS][512];
    size_t n = 0;
    cb_rules_strategy_t *strat = NULL;
    const cb_strategy_v1_t *vts[MAX_PAIRS] = {0};
    void *selves[MAX_PAIRS] = {0};
    memset(pairs, 0, sizeof pairs);
    memset(data, 0, sizeof data);
    {
        char list[4096];
        snprintf(list, sizeof list, "%s", st.data);
        char *save = NULL;
        for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            while (*tok == ' ')
                tok++;
            if (!*tok)
                continue;
            if (n == MAX_PAIRS) {
                cli_error("too many series (at most %d)", MAX_PAIRS);
                goto out_series;
            }
            snprintf(names[n], sizeof names[n], "%s", tok);
            if (open_series(tok, &series[n]))
                goto out_series;
            n++;
        }
    }
    if (n == 0) {
        cli_error("no series in '%s'", st.data);
        goto out_series;
    }

    /* the account and costs */
    cb_engine_config_t cfg;
    cb_engine_config_default(&cfg);
    char quote[16] = "";
    if (st.start_balance[0] &&
        cb_money_parse(st.start_balance, &cfg.start_balance, quote, sizeof quote) != 0) {
        cli_error("start_balance: expected an amount such as \"10000 USDT\", got '%s'",
                  st.start_balance);
        goto out_series;
    }
    char pair_list[MAX_PAIRS][32];
    size_t n_pair_list = 0;
    if (st.pair[0]) {
        char tmp[sizeof st.pair], *save = NULL;
        snprintf(tmp, sizeof tmp, "%s", st.pair);
        for (char *tok = strtok_r(tmp, ", ", &save); tok && n_pair_list < MAX_PAIRS;
             tok = strtok_r(NULL, ", ", &save))
            snprintf(pair_list[n_pair_list++], sizeof pair_list[0], "%s", tok);
        if (n_pair_list != n) {
            cli_error("pair: %zu pair%s named for %zu series", n_pair_list,
                      n_pair_list == 1 ? "" : "s", n);
            goto out_series;
        }
    }
    for (size_t k = 0; k < n; k++) {
        const char *pair = n_pair_list ? pair_list[k] : series[k]->meta.pair;
        char fallback[64];
        if (!pair[0] && guess_pair(names[k], fallback, sizeof fallback))
            pair = fallback;
        if (!pair[0]) {
            snprintf(fallback, sizeof fallback, "PAIR%zu/%s", k + 1, quote[0] ? quote : "USDT");
            pair = fallback;
        }
        cb_instrument_default(&pairs[k].instrument, pair);
        if (quote[0] && strcmp(pairs[k].instrument.quote, quote) != 0) {
            cli_error("%s: its quote currency is %s but the start balance is in %s", pair,
                      pairs[k].instrument.quote, quote);
            goto out_series;
        }
        if (k && strcmp(pairs[k].instrument.quote, pairs[0].instrument.quote) != 0) {
            cli_error("every pair must share one quote currency (%s and %s)", pairs[0].instrument.pair,
                      pair);
            goto out_series;
        }
        pairs[k].series = series[k];
    }
    if (!quote[0])
        snprintf(quote, sizeof quote, "%s", pairs[0].instrument.quote);
    const cb_rules_section_t *ps = cb_rules_file_section(f, "pairs");
    for (size_t i = 0; ps && i < ps->n; i++) {
        const cb_rules_kv_t *kv = &ps->items[i];
        size_t k = 0;
        while (k < n && strcmp(pairs[k].instrument.pair, kv->key) != 0)
            k++;
        cb_instrument_t tmp;
        cb_instrument_default(&tmp, kv->key);
        cb_diag_t d;
        cb_diag_clear(&d);
        if (cb_instrument_parse(k < n ? &pairs[k].instrument : &tmp, kv->value, &d) != 0) {
            cb_diag_t d2;
            cb_diag_set(&d2, CB_EPARSE, ini, kv->line, kv->column, d.field, "[pairs] %s: %s",
                        kv->key, d.msg);
            cli_print_diag(&d2);
            goto out_series;
        }
    }
    if (cb_stake_parse(st.stake, quote, &cfg.stake, NULL) != 0) {
        cli_error("stake: expected '1000' (quote), '10%%' (of equity), '1 BTC' (base) or 'all', "
                  "got '%s'", st.stake);
        goto out_series;
    }
    if (cfg.stake.kind == CB_STAKE_BASE && strcmp(cfg.stake.unit, pairs[0].instrument.base)) {
        cli_error("stake: '%s' is in %s but the pair %s trades %s", st.stake, cfg.stake.unit,
                  pairs[0].instrument.pair, pairs[0].instrument.base);
        goto out_series;
    }
    if (parse_rate("fee", st.fee, &cfg.costs.taker_fee) ||
        parse_rate("maker_fee", st.maker_fee[0] ? st.maker_fee : st.fee,
                   &cfg.costs.maker_fee) ||
        (st.slippage[0] && parse_rate("slippage", st.slippage, &cfg.costs.slippage)))
        goto out_series;
    if (st.max_open_trades[0]) {
        char *end;
        long v = strtol(st.max_open_trades, &end, 10);
        if (*end || v < 0 || v > 1000000) {
            cli_error("max_open_trades: expected a whole number >= 0, got '%s'",
                      st.max_open_trades);
            goto out_series;
        }
        cfg.max_open_trades = (int)v;
    }
    if ((st.from[0] && cb_time_parse(st.from, (size_t)-1, &cfg.from_ms)) ||
        (st.to[0] && cb_time_parse(st.to, (size_t)-1, &cfg.to_ms))) {
        cli_error("from/to: expected a date such as 2024-01-31 or \"2024-01-31 13:00\", got "
                  "'%s'", st.from[0] ? st.from : st.to);
        goto out_series;
    }
    if (st.to[0] && strlen(st.to) == 10)
        cfg.to_ms += CB_MS_PER_DAY - 1; /* a date means the whole day */
    cb_rules_exits_t ex;
    cb_rules_file_exits(f, &ex);
    cfg.stop_loss = ex.stoploss;
    cfg.take_profit = ex.take_profit;
    cfg.trailing_stop = ex.trailing_stop;
    cfg.trailing_offset = ex.trailing_offset;

    /* the strategy, one instance per pair */
    cb_diags_t sd = {0};
    rc = cb_rules_strategy_new(f, values, &strat, &sd);
    for (size_t k = 0; k < sd.n; k++) {
        cb_rules_render_diag(f, &sd.items[k], buf, sizeof buf);
        fputs(buf, stderr);
    }
    cb_diags_free(&sd);
    if (rc)
        goto out_series;
    for (size_t k = 0; k < n; k++) {
        cb_timeframe_t tf;
        int64_t tf_ms = 0;
        if (series[k]->meta.timeframe[0] && cb_timeframe_parse(series[k]->meta.timeframe, &tf) == 0)
            tf_ms = tf.ms;
        cb_diag_t d;
        cb_diag_clear(&d);
        if (cb_rules_strategy_instance(strat, tf_ms, &vts[k], &selves[k], &d) != 0) {
            cli_print_diag(&d);
            goto out_series;
        }
        pairs[k].strategy = vts[k];
        pairs[k].strategy_self = selves[k];
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
        {"from", st.from},          {"to", st.to},              {"params", c_params},
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
            for (size_t i = 0; i < res.n_days; i++) {
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
        FILE *o = fopen(outs[k].path, "w");
        if (!o || outs[k].fn(o, &rep) != 0 || fclose(o) != 0) {
            cli_error("%s: cannot write the %s", outs[k].path, outs[k].what);
            status = CLI_FAIL;
            continue;
        }
        if (!quiet)
            printf("%s written to %s\n", outs[k].what, outs[k].path);
    }
    cb_metrics_free(&m);
    cb_engine_result_free(&res);
out_series:
    for (size_t k = 0; k < n; k++) {
        if (vts[k] && vts[k]->destroy)
            vts[k]->destroy(selves[k]);
        cb_series_free(series[k]);
    }
    cb_rules_strategy_free(strat);
    free(values);
out_file:
    cb_rules_file_free(f);
    return status;
}
