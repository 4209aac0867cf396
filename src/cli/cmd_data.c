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
    "      Formats: auto (default), binance, csv, freqtrade, cbk. The file's own candle spacing\n"
    "      (the most common gap) must be TF; an empty file is refused.\n"
    "  data list\n"
    "      Every series in the store: name, rows, first and last candle, SYNTHETIC mark.\n"
    "  data info SERIES\n"
    "      Metadata, rows, span, timeframe, source and the SHA-256 of the candles.\n"
    "  data check SERIES|FILE [--format F] [--timeframe TF] [--skip-bad-rows]\n"
    "      Validates candles (OHLC relations, values, time grid) and reports gaps\n"
    "      (docs/data-formats.md).\n"
    "  data resample SERIES --to TF [--keep-incomplete] (--out FILE | --store)\n"
    "      Builds TF candles (open first, high max, low min, close last, volume sum, summed\n"
    "      as the decimals the volumes were read from). Buckets with missing candles are\n"
    "      skipped unless --keep-incomplete; both are counted. --out writes a .csv or .cbk\n"
    "      file; --store adds them to EX:BASE/QUOTE:TF under the rules of import: stored\n"
    "      candles are never replaced, a conflict is an error naming the candle.\n"
    "  data delete SERIES\n"
    "      Deletes a stored series (its file), for when you mean it.\n"
    "  data rename SERIES NEW\n"
    "      Renames a stored series (another exchange or pair, same timeframe); NEW must not\n"
    "      exist yet: a stored series is never replaced.\n"
    "  data export SERIES [--format csv|cbk] [--output FILE]\n"
    "      Writes the candles (CSV to standard output by default). The CSV reads back through\n"
    "      'data import' to exactly the same candles.\n"
    "  data synth --bars N [--timeframe TF] [--seed S] [--pair P] [--start DATE]\n"
    "             [--start-price X] (--out FILE | --store)\n"
    "      A deterministic SYNTHETIC market (random walk with volatility clustering and jumps).\n"
    "      FILE ending in .csv is CSV, .cbk a store file; --store adds it to synth:P:TF\n"
    "      (under the rules of import: another seed conflicts).\n"
    "      Defaults: --timeframe 1m --seed 42 --pair SYN/USDT --start 2020-01-01\n"
    "      --start-price 20000.\n"
    "  data download --exchange binance --pair BASE/QUOTE --timeframe TF --from DATE\n"
    "                [--to DATE] [--api-url URL]\n"
    "      Pages the exchange's candles into the store, resuming where the store ends.\n"
    "\n"
    "Store names: EXCHANGE is 1 to 31 lowercase letters, digits, '.', '_', '-' (starting\n"
    "with a letter or digit); BASE/QUOTE letters and digits, at most 31 characters. Every\n"
    "data command first removes the temporary files of store writers that were killed (their\n"
    "process is gone), and says so.\n";

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

/* Checks the parts of a store name given on the command line (the library's one check);
 * a refusal names the option. Returns 0 or CLI_USAGE after printing it. */
static int check_name_args(const char *sub, const char *exchange, const char *pair,
                           const char *tf)
{
    cb_diag_t d;
    cb_diag_clear(&d);
    if (cb_store_check_name(exchange, pair, tf, &d) == 0)
        return 0;
    return cli_usage_error("data", "%s: --%s: %s", sub, d.field, d.msg);
}

/* The store file of a SERIES argument that must be a store name (delete, rename). Prints the
 * reason and returns CLI_USAGE when it is not one. */
static int store_name_arg(const char *sub, const char *arg, cb_series_meta_t *m, char *path,
                          size_t size)
{
    cb_diag_t d;
    cb_diag_clear(&d);
    if (cb_store_parse_name_diag(arg, m, &d) != 0)
        return cli_usage_error("data", "%s: %s%s%s", sub, d.field[0] ? d.field : "",
                               d.field[0] ? ": " : "", d.msg);
    if (cb_store_path(NULL, m->exchange, m->pair, m->timeframe, path, size) != 0)
        return cli_usage_error("data", "%s: the store path of '%s' is too long under '%s'", sub,
                               arg, cb_store_home());
    return 0;
}

/* Adds s to the store series of its name under the rules of import (stored candles are
 * never replaced: a conflict is refused naming the candle). what says where the candles came
 * from in the conflict message (with its verb: "b.csv conflicts"), diag_file the file the
 * conflicting candle is named in (NULL: the series). *added gets the count of new candles,
 * *out (may be NULL) the series as stored (caller frees). */
static int add_to_store(const cb_series_t *s, const char *what, const char *diag_file,
                        char *name, size_t name_size, size_t *added, cb_series_t **out)
{
    char path[4096];
    cb_diag_t d;
    cb_diag_clear(&d);
    if (cb_store_check_name(s->meta.exchange, s->meta.pair, s->meta.timeframe, &d) != 0)
        return cli_error("cannot store a series named '%s:%s:%s': %s: %s (a file carries no "
                         "exchange or pair: import it first with 'comeback data import', or "
                         "use --out)",
                         s->meta.exchange, s->meta.pair, s->meta.timeframe, d.field, d.msg);
    if (cb_store_name(&s->meta, name, name_size) != 0 ||
        cb_store_path(NULL, s->meta.exchange, s->meta.pair, s->meta.timeframe, path,
                      sizeof path) != 0)
        return cli_error("the store path of %s:%s:%s is too long under '%s'", s->meta.exchange,
                         s->meta.pair, s->meta.timeframe, cb_store_home());
    cb_series_t *m = NULL;
    int r = cb_store_add(path, s, added, &m, &d);
    if (r == CB_ECONFLICT) {
        fprintf(stderr, "comeback: %s with the stored series %s; nothing was written "
                        "(stored candles are never replaced: 'comeback data delete %s' or "
                        "'comeback data rename %s NEW' first if you mean to)\n",
                what, name, name, name);
        snprintf(d.file, sizeof d.file, "%s", diag_file ? diag_file : name);
        return cli_print_diag(&d);
    }
    if (r)
        return cli_print_diag(&d);
    if (out)
        *out = m;
    else
        cb_series_free(m);
    return 0;
}

/* Removes what writers killed mid-write left in the store, saying so. Never fatal. */
static void clean_stale(void)
{
    cb_store_stale_t st[16];
    size_t n = 0;
    cb_diag_t d;
    cb_diag_clear(&d);
    int r = cb_store_clean_stale(NULL, st, 16, &n, &d);
    for (size_t i = 0; i < n && i < 16; i++) {
        if (st[i].pid)
            fprintf(stderr, "comeback: removed %s (%" PRIu64 " bytes), a temporary file left by "
                            "an interrupted write (process %ld no longer exists)\n",
                    st[i].path, st[i].bytes, st[i].pid);
        else
            fprintf(stderr, "comeback: removed %s (%" PRIu64 " bytes), a temporary file left by "
                            "an interrupted write of an older version\n",
                    st[i].path, st[i].bytes);
    }
    if (n > 16)
        fprintf(stderr, "comeback: ... and %zu more stale temporary files removed\n", n - 16);
    if (r) {
        char buf[1024];
        cb_diag_format(&d, buf, sizeof buf);
        fprintf(stderr, "comeback: warning: %s\n", buf);
    }
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
    cb_read_opts_t opts = {CB_FORMAT_AUTO, tf, skip_bad, 0, "--timeframe"};
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
    /* The command line names the series; the file's own metadata fills what is not given.
     * Each part is checked as given, before it is copied: nothing is cut to fit. */
    const char *ex = exchange ? exchange : in->meta.exchange;
    const char *pr = pair ? pair : in->meta.pair;
    const char *tn = tf ? t.name : in->meta.timeframe;
    if (!ex[0] || !pr[0] || !tn[0]) {
        const char *missing = !ex[0] ? "--exchange" : !pr[0] ? "--pair" : "--timeframe";
        cb_series_free(in);
        return cli_usage_error("data", "import: %s is required (the series' store name is "
                                       "EXCHANGE:BASE/QUOTE:TIMEFRAME)",
                               missing);
    }
    if (check_name_args("import", ex, pr, tn) != 0) {
        cb_series_free(in);
        return CLI_USAGE;
    }
    /* A store file knows its timeframe: --timeframe may not relabel its candles. */
    cb_timeframe_t own;
    if (tf && in->meta.timeframe[0] && cb_timeframe_parse(in->meta.timeframe, &own) == 0 &&
        (own.ms != t.ms || own.months != t.months)) {
        int e = cli_error("%s: the file's candles are %s apart; --timeframe says %s", file,
                          own.name, t.name);
        cb_series_free(in);
        return e;
    }
    if (in->n == 0) {
        int e = cli_error("%s: no candles in the file%s; nothing was imported", file,
                          skipped ? " (every row was skipped)" : "");
        cb_series_free(in);
        return e;
    }
    snprintf(in->meta.exchange, sizeof in->meta.exchange, "%s", ex);
    snprintf(in->meta.pair, sizeof in->meta.pair, "%s", pr);
    snprintf(in->meta.timeframe, sizeof in->meta.timeframe, "%s", tn);
    if (skipped)
        fprintf(stderr, "comeback: %s: skipped %zu bad row%s (--skip-bad-rows)\n", file, skipped,
                skipped == 1 ? "" : "s");

    char name[96], what[4200];
    snprintf(what, sizeof what, "%s conflicts", file);
    size_t added = 0;
    cb_series_t *merged = NULL;
    r = add_to_store(in, what, file, name, sizeof name, &added, &merged);
    cb_series_free(in);
    if (r)
        return r;
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
    struct stat ast;
    int text_file = cb_store_parse_name(arg, NULL, 0, NULL, 0, NULL, 0) != 0 &&
                    !has_suffix(arg, ".cbk") && stat(arg, &ast) == 0;
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
    size_t added = 0;
    cb_series_t *stored = NULL;
    if (store)
        e = add_to_store(r, "the resampled candles conflict", NULL, name, sizeof name, &added,
                         &stored);
    else
        e = write_series_file(r, out, NULL);
    if (!e)
        printf("resampled %zu %s candles into %zu %s candles (%zu incomplete bucket%s %s) -> "
               "%s%s\n",
               s->n, s->meta.timeframe, r->n, r->meta.timeframe, incomplete,
               incomplete == 1 ? "" : "s", keep ? "kept" : "skipped", store ? name : out,
               synth_label(r));
    if (!e && stored)
        printf("%s: %zu new candle%s, %zu in the series\n", name, added, added == 1 ? "" : "s",
               stored->n);
    cb_series_free(stored);
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
    if (pair && check_name_args("synth", "synth", pair, tf) != 0)
        return CLI_USAGE;
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
    int e = store ? add_to_store(s, "the generated candles conflict", NULL, name, sizeof name,
                                 NULL, NULL)
                  : write_series_file(s, out, NULL);
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

/* ---- delete, rename --------------------------------------------------------------------- */

static int data_delete(int argc, char **argv)
{
    const char *arg = NULL;
    for (int i = 1; i < argc; i++) {
        if (is_flag(argv[i]))
            return unknown_option("delete", argv[i]);
        if (arg)
            return cli_usage_error("data", "delete: one SERIES at a time ('%s' is extra)",
                                   argv[i]);
        arg = argv[i];
    }
    if (!arg)
        return cli_usage_error("data", "delete: which SERIES? (a store name, e.g. "
                                       "binance:BTC/USDT:1h; see 'comeback data list')");
    cb_series_meta_t m;
    char path[4096];
    int r = store_name_arg("delete", arg, &m, path, sizeof path);
    if (r)
        return r;
    cb_store_entry_t e;
    cb_diag_t d;
    cb_diag_clear(&d);
    int pr = cb_store_peek(path, &e, &d);
    if (pr == CB_ENOENT)
        return cli_error("%s: no such series in the store (%s); nothing was deleted", arg, path);
    cb_diag_clear(&d);
    if (cb_store_delete(path, &d) != 0)
        return cli_print_diag(&d);
    if (pr == 0)
        printf("deleted %s: %zu candles (%s)\n", arg, e.rows, path);
    else
        printf("deleted %s (%s, an unreadable file)\n", arg, path);
    return CLI_OK;
}

static int data_rename(int argc, char **argv)
{
    const char *from = NULL, *to = NULL;
    for (int i = 1; i < argc; i++) {
        if (is_flag(argv[i]))
            return unknown_option("rename", argv[i]);
        if (!from)
            from = argv[i];
        else if (!to)
            to = argv[i];
        else
            return cli_usage_error("data", "rename: SERIES NEW, nothing more ('%s' is extra)",
                                   argv[i]);
    }
    if (!to)
        return cli_usage_error("data", "rename: give SERIES and its NEW name (e.g. "
                                       "'comeback data rename binance:BTC/USDT:1h "
                                       "old:BTC/USDT:1h')");
    cb_series_meta_t a, b;
    char pa[4096], pb[4096];
    int r = store_name_arg("rename", from, &a, pa, sizeof pa);
    if (!r)
        r = store_name_arg("rename", to, &b, pb, sizeof pb);
    if (r)
        return r;
    cb_diag_t d;
    cb_diag_clear(&d);
    r = cb_store_rename(pa, pb, b.exchange, b.pair, b.timeframe, &d);
    if (r == CB_ENOENT)
        return cli_error("%s: no such series in the store (%s); nothing was renamed", from, pa);
    if (r == CB_EEXIST)
        return cli_error("%s already exists (%s); it is never replaced: delete it first "
                         "('comeback data delete %s') if you mean to",
                         to, pb, to);
    if (r == CB_EINVAL)
        return cli_error("rename %s -> %s: %s", from, to, d.msg);
    if (r)
        return cli_print_diag(&d);
    printf("renamed %s to %s (%s)\n", from, to, pb);
    return CLI_OK;
}

/* ---- Dispatch --------------------------------------------------------------------------- */

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} subcommands[] = {
    {"import", data_import}, {"list", data_list},         {"info", data_info_run},
    {"check", data_check_run}, {"resample", data_resample}, {"export", data_export},
    {"synth", data_synth},     {"download", data_download_run}, {"delete", data_delete},
    {"rename", data_rename},
};

int cmd_data(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("data", "which subcommand? (import, list, info, check, "
                                       "resample, export, synth, download, delete, rename)");
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        if (!strcmp(argv[1], subcommands[i].name)) {
            /* Every store operation first clears what killed writers left behind. */
            clean_stale();
            return subcommands[i].run(argc - 1, argv + 1);
        }
    const char *names[sizeof subcommands / sizeof subcommands[0]];
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        names[i] = subcommands[i].name;
    return cli_unknown_word("data", "subcommand", argv[1], names,
                            sizeof subcommands / sizeof subcommands[0]);
}
