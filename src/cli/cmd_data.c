/* `comeback data ...`: market data commands. This file dispatches and implements the store
 * side (import, list, info, resample, export, synth); `data check` lives in data_check.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/data_cli.h"
#include "comeback/data.h"

const char help_data[] =
    "usage: comeback data <subcommand> [options]\n"
    "\n"
    "Market data: a local store of candle series under $COMEBACK_HOME (default ./user_data),\n"
    "in data/<exchange>/<BASE>_<QUOTE>-<timeframe>.cbk files. Wherever SERIES appears, give a\n"
    "store name (binance:BTC/USDT:1h) or a file (CSV, Binance kline CSV, freqtrade JSON, .cbk).\n"
    "\n"
    "  data import FILE --exchange EX --pair BASE/QUOTE --timeframe TF [--format F]\n"
    "                   [--skip-bad-rows]\n"
    "      Reads FILE, validates it and adds it to the store series EX:BASE/QUOTE:TF. Candles\n"
    "      already stored must agree exactly; a conflict is an error naming the candle.\n"
    "      Formats: auto (default), binance, csv, freqtrade, cbk.\n"
    "  data list\n"
    "      Every series in the store: name, rows, first and last candle, SYNTHETIC mark.\n"
    "  data info SERIES\n"
    "      Metadata, rows, span, timeframe, source and the SHA-256 of the candles.\n"
    "  data check SERIES|FILE [--format F] [--timeframe TF] [--skip-bad-rows]\n"
    "      Validates candles (OHLC relations, values, time grid) and reports gaps\n"
    "      (docs/data-formats.md).\n"
    "  data resample SERIES --to TF [--keep-incomplete] (--out FILE | --store)\n"
    "      Builds TF candles (open first, high max, low min, close last, volume sum).\n"
    "      Buckets with missing candles are skipped unless --keep-incomplete; both are counted.\n"
    "      --out writes a .csv or .cbk file; --store saves EX:BASE/QUOTE:TF in the store.\n"
    "  data export SERIES [--format csv|cbk] [--output FILE]\n"
    "      Writes the candles (CSV to standard output by default). The CSV reads back through\n"
    "      'data import' to exactly the same candles.\n"
    "  data synth --bars N [--timeframe TF] [--seed S] [--pair P] [--start DATE]\n"
    "             [--start-price X] (--out FILE | --store)\n"
    "      A deterministic SYNTHETIC market (random walk with volatility clustering and jumps).\n"
    "      FILE ending in .csv is CSV, .cbk a store file; --store saves synth:P:TF.\n"
    "      Defaults: --timeframe 1m --seed 42 --pair SYN/USDT --start 2020-01-01\n"
    "      --start-price 20000.\n"
    "  data download --exchange binance --pair BASE/QUOTE --timeframe TF --from DATE\n"
    "                [--to DATE] [--api-url URL]\n"
    "      Pages the exchange's candles into the store, resuming where the store ends.\n";

/* ---- Helpers ---------------------------------------------------------------------------- */

static int is_flag(const char *a) { return a[0] == '-' && a[1] == '-'; }

static int unknown_option(const char *sub, const char *a)
{
    char cmd[64];
    snprintf(cmd, sizeof cmd, "data %s", sub);
    return cli_unknown_option(cmd, a);
}

/* Opens SERIES, printing the diagnostic on failure. */
static int open_series(const char *arg, cb_series_t **s)
{
    cb_diag_t d;
    cb_diag_clear(&d);
    int r = cb_series_open(arg, NULL, s, &d);
    if (r)
        return cli_print_diag(&d);
    return 0;
}

static const char *synth_label(const cb_series_t *s)
{
    return s->meta.synthetic ? "  SYNTHETIC" : "";
}

static int has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

static void format_span(int64_t ms, char *buf, size_t size)
{
    int64_t days = ms / CB_MS_PER_DAY, rem = ms % CB_MS_PER_DAY;
    snprintf(buf, size, "%" PRId64 " days %02" PRId64 ":%02" PRId64, days,
             rem / CB_MS_PER_HOUR, rem % CB_MS_PER_HOUR / CB_MS_PER_MIN);
}

/* Reads a candle file (CSV, Binance kline CSV, freqtrade JSON) with the readers; says how
 * many rows --skip-bad-rows left out and prints every problem when it fails. */
static int read_candle_file(const char *file, const cb_read_opts_t *opts, cb_series_t **out,
                            size_t *skipped, cb_diag_t *d)
{
    cb_read_report_t rep;
    memset(&rep, 0, sizeof rep);
    int r = cb_series_read_file(file, opts, out, &rep, d);
    *skipped = rep.skipped;
    if (r == 0 && cb_file_is_synthetic(file))
        (*out)->meta.synthetic = 1;
    if (r && rep.problems.total > 1) {
        char buf[1024];
        fprintf(stderr, "comeback: %zu problems in %s:\n", rep.problems.total, file);
        for (size_t i = 0; i < rep.problems.n; i++) {
            cb_diag_format(&rep.problems.items[i], buf, sizeof buf);
            fprintf(stderr, "  %s\n", buf);
        }
        if (rep.problems.total > rep.problems.n)
            fprintf(stderr, "  ... and %zu more\n", rep.problems.total - rep.problems.n);
    }
    cb_read_report_free(&rep);
    return r;
}

/* Writes s to a .csv or .cbk file chosen by the extension (or forced by format). */
static int write_series_file(const cb_series_t *s, const char *path, const char *format)
{
    cb_diag_t d;
    cb_diag_clear(&d);
    int cbk = format ? !strcmp(format, "cbk") : has_suffix(path, ".cbk");
    int r = cbk ? cb_store_save(path, s, &d) : cb_series_export_csv(s, path, &d);
    if (r && !strcmp(path, "-") && cli_stdout_failed())
        return CLI_FAIL; /* main() says why, once */
    if (r)
        return cli_print_diag(&d);
    return 0;
}

/* Saves s under its store name; prints what happened. */
static int save_to_store(const cb_series_t *s, char *name, size_t name_size)
{
    char path[4096];
    cb_diag_t d;
    cb_diag_clear(&d);
    if (cb_store_name(&s->meta, name, name_size) != 0 ||
        cb_store_path(NULL, s->meta.exchange, s->meta.pair, s->meta.timeframe, path,
                      sizeof path) != 0)
        return cli_error("cannot store a series named '%s:%s:%s' (a file carries no exchange "
                         "or pair: import it first with 'comeback data import', or use --out)",
                         s->meta.exchange, s->meta.pair, s->meta.timeframe);
    if (cb_store_save(path, s, &d) != 0)
        return cli_print_diag(&d);
    return 0;
}

/* ---- import ----------------------------------------------------------------------------- */

static int data_import(int argc, char **argv)
{
    const char *file = NULL, *exchange = NULL, *pair = NULL, *tf = NULL, *format = NULL;
    int skip_bad = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int m;
        if ((m = cli_opt(argc, argv, &i, "--exchange", &v)) != 0) {
            if (m < 0)
                return CLI_USAGE;
            exchange = v;
        } else if ((m = cli_opt(argc, argv, &i, "--pair", &v)) != 0) {
            if (m < 0)
                return CLI_USAGE;
            pair = v;
        } else if ((m = cli_opt(argc, argv, &i, "--timeframe", &v)) != 0) {
            if (m < 0)
                return CLI_USAGE;
            tf = v;
        } else if ((m = cli_opt(argc, argv, &i, "--format", &v)) != 0) {
            if (m < 0)
                return CLI_USAGE;
            format = v;
        } else if (!strcmp(argv[i], "--skip-bad-rows")) {
            skip_bad = 1;
        } else if (is_flag(argv[i])) {
            return unknown_option("import", argv[i]);
        } else if (!file) {
            file = argv[i];
        } else {
            return cli_usage_error("data", "import: one FILE at a time ('%s' is extra)",
                                   argv[i]);
        }
    }
    if (!file)
        return cli_usage_error("data", "import: which FILE?");
    cb_read_opts_t opts = {CB_FORMAT_AUTO, tf, skip_bad, 0};
    if (format && cb_format_parse(format, &opts.format) != 0)
        return cli_usage_error("data", "import: unknown --format '%s' (auto, binance, csv, "
                                       "freqtrade, cbk)",
                               format);
    cb_timeframe_t t;
    if (tf && cb_timeframe_parse(tf, &t) != 0)
        return cli_usage_error("data", "import: '%s' is not a timeframe (e.g. 1m, 1h, 1d)", tf);

    cb_series_t *in = NULL;
    cb_diag_t d;
    cb_diag_clear(&d);
    size_t skipped = 0;
    int r;
    if (opts.format == CB_FORMAT_CBK || has_suffix(file, ".cbk")) {
        r = cb_store_load(file, &in, &d);
    } else {
        r = read_candle_file(file, &opts, &in, &skipped, &d);
    }
    if (r)
        return cli_print_diag(&d);
    /* The command line names the series; the file's own metadata fills what is not given. */
    if (exchange)
        snprintf(in->meta.exchange, sizeof in->meta.exchange, "%s", exchange);
    if (pair)
        snprintf(in->meta.pair, sizeof in->meta.pair, "%s", pair);
    if (tf)
        snprintf(in->meta.timeframe, sizeof in->meta.timeframe, "%s", t.name);
    char name[96], path[4096];
    if (!in->meta.exchange[0] || !in->meta.pair[0] || !in->meta.timeframe[0]) {
        const char *missing = !in->meta.exchange[0] ? "--exchange"
                              : !in->meta.pair[0]   ? "--pair"
                                                    : "--timeframe";
        cb_series_free(in);
        return cli_usage_error("data", "import: %s is required (the series' store name is "
                                       "EXCHANGE:BASE/QUOTE:TIMEFRAME)",
                               missing);
    }
    if (cb_store_name(&in->meta, name, sizeof name) != 0 ||
        cb_store_path(NULL, in->meta.exchange, in->meta.pair, in->meta.timeframe, path,
                      sizeof path) != 0) {
        int e = cli_usage_error("data",
                                "import: '%s:%s:%s' is not a valid store name (exchange: "
                                "lowercase letters, digits, '.', '_', '-'; pair: BASE/QUOTE "
                                "of letters and digits)",
                                in->meta.exchange, in->meta.pair, in->meta.timeframe);
        cb_series_free(in);
        return e;
    }
    if (skipped)
        fprintf(stderr, "comeback: %s: skipped %zu bad row%s (--skip-bad-rows)\n", file, skipped,
                skipped == 1 ? "" : "s");

    cb_series_t *old = NULL, *merged = NULL;
    size_t added = in->n;
    r = cb_store_load(path, &old, &d);
    if (r && r != CB_ENOENT) {
        cb_series_free(in);
        return cli_print_diag(&d);
    }
    if (old) {
        cb_diag_clear(&d);
        r = cb_series_merge(old, in, &merged, &added, &d);
        cb_series_free(old);
        if (r) {
            cb_series_free(in);
            snprintf(d.file, sizeof d.file, "%s", file);
            fprintf(stderr, "comeback: %s conflicts with the stored series %s\n", file, name);
            return cli_print_diag(&d);
        }
        cb_series_free(in);
    } else {
        merged = in;
    }
    r = cb_store_save(path, merged, &d);
    if (r) {
        cb_series_free(merged);
        return cli_print_diag(&d);
    }
    char a[32] = "-", b[32] = "-";
    if (merged->n) {
        cb_time_format(merged->time_ms[0], a, sizeof a);
        cb_time_format(merged->time_ms[merged->n - 1], b, sizeof b);
    }
    printf("imported %s into %s: %zu new candle%s, %zu in the series (%s .. %s)%s\n", file, name,
           added, added == 1 ? "" : "s", merged->n, a, b, synth_label(merged));
    cb_series_free(merged);
    return CLI_OK;
}

/* ---- list ------------------------------------------------------------------------------- */

static int data_list(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        return is_flag(argv[i]) ? unknown_option("list", argv[i])
                                : cli_usage_error("data", "list takes no arguments");
    cb_store_entry_t *e = NULL;
    size_t n = 0;
    cb_diag_t d;
    cb_diag_clear(&d);
    if (cb_store_list(NULL, &e, &n, &d) != 0)
        return cli_print_diag(&d);
    if (n == 0) {
        printf("no series in %s/data (add one with 'comeback data import' or "
               "'comeback data synth --store')\n",
               cb_store_home());
        free(e);
        return CLI_OK;
    }
    printf("%-28s %10s  %-19s  %-19s\n", "SERIES", "ROWS", "FIRST", "LAST");
    for (size_t i = 0; i < n; i++) {
        if (e[i].err) {
            printf("%-28s %10s  unreadable: %s\n", e[i].name, "?", e[i].msg);
            continue;
        }
        char a[32] = "-", b[32] = "-";
        if (e[i].rows) {
            cb_time_format(e[i].first_ms, a, sizeof a);
            cb_time_format(e[i].last_ms, b, sizeof b);
        }
        printf("%-28s %10zu  %-19s  %-19s%s\n", e[i].name, e[i].rows, a, b,
               e[i].meta.synthetic ? "  SYNTHETIC" : "");
    }
    free(e);
    return CLI_OK;
}

/* ---- info ------------------------------------------------------------------------------- */

int data_info_run(int argc, char **argv)
{
    const char *arg = NULL;
    for (int i = 1; i < argc; i++) {
        if (is_flag(argv[i]))
            return unknown_option("info", argv[i]);
        if (arg)
            return cli_usage_error("data", "info: one SERIES at a time");
        arg = argv[i];
    }
    if (!arg)
        return cli_usage_error("data", "info: which SERIES? (a store name or a file)");
    cb_series_t *s;
    cb_read_report_t rep;
    memset(&rep, 0, sizeof rep);
    int text_file = cb_store_parse_name(arg, NULL, 0, NULL, 0, NULL, 0) != 0 &&
                    !has_suffix(arg, ".cbk");
    if (text_file) {
        /* A CSV/JSON file: read it here to show what the reader made of it. */
        cb_diag_t d;
        cb_diag_clear(&d);
        int r = cb_series_read_file(arg, NULL, &s, &rep, &d);
        if (r) {
            cb_read_report_free(&rep);
            return cli_print_diag(&d);
        }
        if (cb_file_is_synthetic(arg))
            s->meta.synthetic = 1;
    } else if (open_series(arg, &s)) {
        return CLI_FAIL;
    }
    char name[96] = "";
    int stored = cb_store_name(&s->meta, name, sizeof name) == 0 &&
                 cb_store_parse_name(arg, NULL, 0, NULL, 0, NULL, 0) == 0;
    printf("series      %s%s\n", stored ? name : arg,
           s->meta.synthetic ? "  [SYNTHETIC: generated data, not a real market]" : "");
    if (stored) {
        char path[4096];
        struct stat st;
        cb_store_path(NULL, s->meta.exchange, s->meta.pair, s->meta.timeframe, path,
                      sizeof path);
        if (stat(path, &st) == 0)
            printf("file        %s (%lld bytes)\n", path, (long long)st.st_size);
    }
    printf("exchange    %s\n", s->meta.exchange[0] ? s->meta.exchange : "(unknown)");
    printf("pair        %s\n", s->meta.pair[0] ? s->meta.pair : "(unknown)");
    printf("timeframe   %s\n", s->meta.timeframe[0] ? s->meta.timeframe : "(unknown)");
    printf("source      %s\n", s->meta.source[0] ? s->meta.source : "(unknown)");
    printf("synthetic   %s\n", s->meta.synthetic ? "yes (SYNTHETIC)" : "no");
    if (text_file) {
        printf("format      %s (times from '%s', %s%s)\n", cb_format_name(rep.format),
               rep.time_column, rep.time_unit,
               rep.newest_first ? ", newest first: reversed" : "");
        printf("ignored     %s\n", rep.extra_columns[0] ? rep.extra_columns : "(no columns)");
    }
    cb_read_report_free(&rep);
    printf("rows        %zu\n", s->n);
    if (s->n) {
        char a[32], b[32], span[48];
        cb_time_format(s->time_ms[0], a, sizeof a);
        cb_time_format(s->time_ms[s->n - 1], b, sizeof b);
        cb_timeframe_t tf;
        int64_t end = s->time_ms[s->n - 1];
        if (cb_timeframe_parse(s->meta.timeframe, &tf) == 0)
            end = cb_timeframe_next(&tf, end);
        format_span(end - s->time_ms[0], span, sizeof span);
        printf("first       %s\n", a);
        printf("last        %s\n", b);
        printf("span        %s\n", span);
    }
    char hex[65];
    if (cb_series_sha256(s, hex) == 0)
        printf("sha256      %s (candle data)\n", hex);
    cb_series_free(s);
    return CLI_OK;
}

/* ---- resample --------------------------------------------------------------------------- */

static int data_resample(int argc, char **argv)
{
    const char *arg = NULL, *to = NULL, *out = NULL;
    int keep = 0, store = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int m;
        if ((m = cli_opt(argc, argv, &i, "--to", &v)) != 0) {
            if (m < 0)
                return CLI_USAGE;
            to = v;
        } else if ((m = cli_opt(argc, argv, &i, "--out", &v)) != 0) {
            if (m < 0)
                return CLI_USAGE;
            out = v;
        } else if (!strcmp(argv[i], "--keep-incomplete")) {
            keep = 1;
        } else if (!strcmp(argv[i], "--store")) {
            store = 1;
        } else if (is_flag(argv[i])) {
            return unknown_option("resample", argv[i]);
        } else if (!arg) {
            arg = argv[i];
        } else {
            return cli_usage_error("data", "resample: one SERIES at a time");
        }
    }
    if (!arg)
        return cli_usage_error("data", "resample: which SERIES?");
    if (!to)
        return cli_usage_error("data", "resample: --to TIMEFRAME is required (e.g. --to 4h)");
    if (!out == !store)
        return cli_usage_error("data", "resample: give either --out FILE or --store");
    cb_series_t *s, *r;
    if (open_series(arg, &s))
        return CLI_FAIL;
    cb_diag_t d;
    cb_diag_clear(&d);
    size_t incomplete = 0;
    int e = cb_series_resample(s, to,
                               keep ? CB_RESAMPLE_KEEP_INCOMPLETE : CB_RESAMPLE_SKIP_INCOMPLETE,
                               &r, &incomplete, &d);
    if (e) {
        cb_series_free(s);
        if (!strcmp(d.field, "--to"))
            return cli_usage_error("data", "resample: --to: %s", d.msg);
        return cli_print_diag(&d);
    }
    char name[96];
    if (store)
        e = save_to_store(r, name, sizeof name);
    else
        e = write_series_file(r, out, NULL);
    if (!e)
        printf("resampled %zu %s candles into %zu %s candles (%zu incomplete bucket%s %s) -> "
               "%s%s\n",
               s->n, s->meta.timeframe, r->n, r->meta.timeframe, incomplete,
               incomplete == 1 ? "" : "s", keep ? "kept" : "skipped", store ? name : out,
               synth_label(r));
    cb_series_free(s);
    cb_series_free(r);
    return e ? CLI_FAIL : CLI_OK;
}

/* ---- export ----------------------------------------------------------------------------- */

static int data_export(int argc, char **argv)
{
    const char *arg = NULL, *format = "csv", *output = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int m;
        if ((m = cli_opt(argc, argv, &i, "--format", &v)) != 0) {
            if (m < 0)
                return CLI_USAGE;
            format = v;
        } else if ((m = cli_opt(argc, argv, &i, "--output", &v)) != 0 ||
                   (m = cli_opt(argc, argv, &i, "--out", &v)) != 0) {
            if (m < 0)
                return CLI_USAGE;
            output = v;
        } else if (is_flag(argv[i])) {
            return unknown_option("export", argv[i]);
        } else if (!arg) {
            arg = argv[i];
        } else {
            return cli_usage_error("data", "export: one SERIES at a time");
        }
    }
    if (!arg)
        return cli_usage_error("data", "export: which SERIES?");
    if (strcmp(format, "csv") != 0 && strcmp(format, "cbk") != 0)
        return cli_usage_error("data", "export: --format must be csv or cbk, not '%s'", format);
    if (!strcmp(format, "cbk") && !output)
        return cli_usage_error("data", "export: --format cbk needs --output FILE");
    cb_series_t *s;
    if (open_series(arg, &s))
        return CLI_FAIL;
    if (s->meta.synthetic && output)
        fprintf(stderr, "comeback: note: %s is SYNTHETIC data\n", arg);
    int e = write_series_file(s, output ? output : "-", format);
    cb_series_free(s);
    return e ? CLI_FAIL : CLI_OK;
}

/* ---- synth ------------------------------------------------------------------------------ */

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static int data_synth(int argc, char **argv)
{
    const char *bars = NULL, *tf = "1m", *seed = "42", *out = NULL, *pair = NULL, *start = NULL;
    const char *price = NULL;
    int store = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int m;
        const char **slot = NULL;
        if ((m = cli_opt(argc, argv, &i, "--bars", &v)) != 0)
            slot = &bars;
        else if ((m = cli_opt(argc, argv, &i, "--timeframe", &v)) != 0)
            slot = &tf;
        else if ((m = cli_opt(argc, argv, &i, "--seed", &v)) != 0)
            slot = &seed;
        else if ((m = cli_opt(argc, argv, &i, "--out", &v)) != 0)
            slot = &out;
        else if ((m = cli_opt(argc, argv, &i, "--pair", &v)) != 0)
            slot = &pair;
        else if ((m = cli_opt(argc, argv, &i, "--start", &v)) != 0)
            slot = &start;
        else if ((m = cli_opt(argc, argv, &i, "--start-price", &v)) != 0)
            slot = &price;
        else if (!strcmp(argv[i], "--store")) {
            store = 1;
            continue;
        } else
            return is_flag(argv[i]) ? unknown_option("synth", argv[i])
                                    : cli_usage_error("data", "synth: unexpected '%s'", argv[i]);
        if (m < 0)
            return CLI_USAGE;
        *slot = v;
    }
    cb_synth_opts_t o;
    memset(&o, 0, sizeof o);
    uint64_t n;
    if (!bars)
        return cli_usage_error("data", "synth: --bars N is required");
    if (parse_u64(bars, &n) != 0 || n == 0 || n > UINT64_C(1000000000))
        return cli_usage_error("data", "synth: --bars must be a whole number from 1 to 10^9, "
                                       "not '%s'",
                               bars);
    o.bars = (size_t)n;
    if (parse_u64(seed, &o.seed) != 0)
        return cli_usage_error("data", "synth: --seed must be a whole number >= 0, not '%s'",
                               seed);
    cb_timeframe_t t;
    if (cb_timeframe_parse(tf, &t) != 0)
        return cli_usage_error("data", "synth: '%s' is not a timeframe (e.g. 1m, 1h, 1d)", tf);
    o.timeframe = tf;
    if (start && cb_time_parse(start, (size_t)-1, &o.start_ms) != 0)
        return cli_usage_error("data", "synth: --start: '%s' is not a date (YYYY-MM-DD or "
                                       "'YYYY-MM-DD HH:MM:SS', UTC)",
                               start);
    if (price) {
        char *end;
        o.start_price = strtod(price, &end);
        if (*end || !(o.start_price >= 1e-6 && o.start_price < 1e12))
            return cli_usage_error("data", "synth: --start-price must be a number from 1e-6 to "
                                           "1e12, not '%s'",
                                   price);
    }
    if (pair) {
        cb_series_meta_t m;
        memset(&m, 0, sizeof m);
        snprintf(m.exchange, sizeof m.exchange, "synth");
        snprintf(m.pair, sizeof m.pair, "%s", pair);
        snprintf(m.timeframe, sizeof m.timeframe, "%s", tf);
        char nm[96];
        if (strlen(pair) >= sizeof m.pair || cb_store_name(&m, nm, sizeof nm) != 0)
            return cli_usage_error("data", "synth: --pair must look like BASE/QUOTE (letters "
                                           "and digits), not '%s'",
                                   pair);
    }
    o.pair = pair;
    if (!out == !store)
        return cli_usage_error("data", "synth: give either --out FILE (.csv or .cbk) or --store");
    if (out && !has_suffix(out, ".csv") && !has_suffix(out, ".cbk"))
        return cli_usage_error("data", "synth: --out FILE must end in .csv or .cbk");
    cb_series_t *s;
    cb_diag_t d;
    cb_diag_clear(&d);
    if (cb_synth_generate(&o, &s, &d) != 0)
        return cli_print_diag(&d);
    char name[96];
    int e = store ? save_to_store(s, name, sizeof name) : write_series_file(s, out, NULL);
    if (!e) {
        char a[32], b[32];
        cb_time_format(s->time_ms[0], a, sizeof a);
        cb_time_format(s->time_ms[s->n - 1], b, sizeof b);
        printf("SYNTHETIC market: %zu %s candles of %s, %s, %s .. %s -> %s\n", s->n,
               s->meta.timeframe, s->meta.pair, s->meta.source, a, b, store ? name : out);
    }
    cb_series_free(s);
    return e ? CLI_FAIL : CLI_OK;
}

/* ---- Dispatch --------------------------------------------------------------------------- */

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} subcommands[] = {
    {"import", data_import}, {"list", data_list},         {"info", data_info_run},
    {"check", data_check_run}, {"resample", data_resample}, {"export", data_export},
    {"synth", data_synth},     {"download", data_download_run},
};

int cmd_data(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("data", "which subcommand? (import, list, info, check, "
                                       "resample, export, synth)");
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        if (!strcmp(argv[1], subcommands[i].name))
            return subcommands[i].run(argc - 1, argv + 1);
    const char *names[sizeof subcommands / sizeof subcommands[0]];
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        names[i] = subcommands[i].name;
    return cli_unknown_word("data", "subcommand", argv[1], names,
                            sizeof subcommands / sizeof subcommands[0]);
}
