/* `comeback data check SERIES|FILE`: what a series holds and everything wrong with it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/data_cli.h"
#include "comeback/data.h"

const char help_data_check[] =
    "usage: comeback data check SERIES|FILE [--format F] [--timeframe TF] [--skip-bad-rows]\n"
    "\n"
    "Reads a store series (binance:BTC/USDT:1h) or a file (Binance kline CSV, OHLCV CSV with a\n"
    "header, freqtrade JSON; detected from the content unless --format auto|binance|csv|\n"
    "freqtrade) and prints its rows, first and last candle, timeframe (given with --timeframe\n"
    "or inferred from the most common spacing), gaps and missing candles, the 10 largest gaps,\n"
    "zero-volume candles, and every hard error as file:line: column 'x': message.\n"
    "Gaps are not errors. Exit status 1 when there are hard errors; with --skip-bad-rows the\n"
    "bad rows are skipped (and still listed and counted) and only what remains decides.\n"
    "See docs/data-formats.md.\n";

static int looks_like_file(const char *arg)
{
    struct stat st;
    if (stat(arg, &st) == 0)
        return 1;
    /* Shaped like a store name (two ':', no '/' before them): the store's loader says what is
     * wrong with it. */
    const char *c1 = strchr(arg, ':');
    if (c1 && !memchr(arg, '/', (size_t)(c1 - arg)) && strchr(c1 + 1, ':'))
        return 0;
    if (strchr(arg, '/'))
        return 1;
    size_t n = strlen(arg);
    static const char *const ext[] = {".csv", ".json", ".txt", ".cbk"};
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        size_t e = strlen(ext[i]);
        if (n > e && strcmp(arg + n - e, ext[i]) == 0)
            return 1;
    }
    return 0;
}

static void print_diags(const cb_diags_t *list)
{
    char buf[1024];
    for (size_t i = 0; i < list->n; i++) {
        cb_diag_format(&list->items[i], buf, sizeof buf);
        printf("  %s\n", buf);
    }
    if (list->total > list->n)
        printf("  ... and %zu more\n", list->total - list->n);
}

int data_check_run(int argc, char **argv)
{
    const char *target = NULL, *format = NULL, *timeframe = NULL, *v;
    int skip = 0;
    for (int i = 1; i < argc; i++) {
        int m;
        if ((m = cli_opt(argc, argv, &i, "--format", &v)) != 0) {
            if (m < 0)
                return CLI_USAGE;
            format = v;
        } else if ((m = cli_opt(argc, argv, &i, "--timeframe", &v)) != 0) {
            if (m < 0)
                return CLI_USAGE;
            timeframe = v;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(help_data_check, stdout);
            return CLI_OK;
        } else if (strcmp(argv[i], "--skip-bad-rows") == 0) {
            skip = 1;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_unknown_option("data check", argv[i]);
        } else if (!target) {
            target = argv[i];
        } else {
            return cli_usage_error("data check", "one SERIES or FILE, got also '%s'", argv[i]);
        }
    }
    if (!target)
        return cli_usage_error("data check", "which series? give a store name or a file");

    cb_read_opts_t opts = {CB_FORMAT_AUTO, timeframe, 1, 100, "--timeframe"};
    if (format && cb_format_parse(format, &opts.format) != 0)
        return cli_usage_error("data check", "unknown format '%s' (auto, binance, csv, freqtrade)",
                               format);
    cb_diag_t d;
    cb_series_t *s = NULL;
    cb_read_report_t rep;
    memset(&rep, 0, sizeof rep);
    size_t tn = strlen(target);
    int is_cbk = tn > 4 && strcmp(target + tn - 4, ".cbk") == 0;
    int is_name = cb_store_parse_name(target, NULL, 0, NULL, 0, NULL, 0) == 0;
    int from_file = !is_name && looks_like_file(target) && !is_cbk &&
                    opts.format != CB_FORMAT_CBK;
    int r;
    if (from_file) {
        /* Read with skipping on, so that everything wrong is listed in one run; the exit
         * status below still fails on any hard error unless --skip-bad-rows was given. */
        r = cb_series_read_file(target, &opts, &s, &rep, &d);
        if (r == 0 && cb_file_is_synthetic(target))
            s->meta.synthetic = 1; /* a CSV export of a synthetic series keeps its label */
    } else {
        /* Store names (binance:BTC/USDT:1h) and .cbk store files. */
        r = cb_series_open(target, &opts, &s, &d);
    }
    if (r != 0) {
        cli_print_diag(&d);
        if (rep.problems.n > 1) {
            printf("hard errors: %zu\n", rep.problems.total);
            print_diags(&rep.problems);
        }
        cb_read_report_free(&rep);
        return CLI_FAIL;
    }

    cb_check_report_t cr;
    cb_series_check(s, target, &cr);
    char a[40], b[40];
    printf("series:      %s%s\n", target, s->meta.synthetic ? " (SYNTHETIC data)" : "");
    if (from_file) {
        printf("format:      %s (time column '%s'%s, %s, %s)\n", cb_format_name(rep.format),
               rep.time_column, rep.time_is_close ? " labels candle ends" : "",
               rep.time_unit[0] ? rep.time_unit : "no rows",
               rep.newest_first ? "newest first, reversed" : "oldest first");
        if (rep.extra_columns[0])
            printf("ignored:     %s\n", rep.extra_columns);
    }
    if (from_file && rep.rows != s->n)
        printf("rows:        %zu (of %zu in the file)\n", s->n, rep.rows);
    else
        printf("rows:        %zu\n", s->n);
    if (s->n) {
        printf("first:       %s UTC\n", cb_time_format(cr.first_ms, a, sizeof a));
        printf("last:        %s UTC\n", cb_time_format(cr.last_ms, b, sizeof b));
    }
    const char *tf = s->meta.timeframe[0] ? s->meta.timeframe : "unknown";
    printf("timeframe:   %s%s\n", tf,
           from_file && rep.timeframe_inferred ? " (inferred from the most common spacing)" : "");
    printf("gaps:        %zu (%lld missing candles)\n", cr.gaps, (long long)cr.missing);
    if (cr.n_largest) {
        printf("largest gaps (after the candle of):\n");
        for (size_t i = 0; i < cr.n_largest; i++)
            printf("  %s UTC  %lld missing\n", cb_time_format(cr.largest[i].after_ms, a, sizeof a),
                   (long long)cr.largest[i].missing);
    }
    printf("zero volume: %zu candles\n", cr.zero_volume);
    size_t file_errors = from_file ? rep.problems.total : 0;
    size_t hard = file_errors + cr.problems.total;
    if (from_file && rep.skipped)
        printf("skipped:     %zu bad rows\n", rep.skipped);
    printf("hard errors: %zu\n", hard);
    if (file_errors)
        print_diags(&rep.problems);
    if (cr.problems.total)
        print_diags(&cr.problems);
    int fail = cr.problems.total > 0 || (file_errors > 0 && !skip);
    cb_check_report_free(&cr);
    cb_read_report_free(&rep);
    cb_series_free(s);
    return fail ? CLI_FAIL : CLI_OK;
}
