/* `comeback ta SERIES --indicator SPEC ...`: indicators of a series as CSV. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "comeback/data.h"
#include "comeback/ta.h"

const char help_ta[] =
    "usage: comeback ta SERIES --indicator SPEC [--indicator SPEC ...] [--with SERIES2]\n"
    "                  [--output FILE]\n"
    "\n"
    "Computes technical indicators over SERIES (a store name such as binance:BTC/USDT:1h, or a\n"
    "file in any readable format) and writes CSV to stdout (or FILE): a header\n"
    "`time_ms,<SPEC>...` and one row per candle. SPEC is\n"
    "name[:option[:option...]] (rsi:14, macd:12:26:9, bbands:20:2, obv); missing trailing\n"
    "options take their defaults. An indicator with several outputs gets one column per\n"
    "output, named <SPEC>.<output> (macd:12:26:9.signal, bbands:20:2.upper). Cells before an\n"
    "indicator's first value (its lookback) are empty; numbers are printed with %.17g.\n"
    "\n"
    "Inputs: `real` and `real0` are the close; `real1` (beta, correl) is the close of\n"
    "SERIES2, given with --with (same candles, same times). Columns open/high/low/close/volume\n"
    "and time (the candle's open time) are taken from SERIES.\n"
    "\n"
    "options:\n"
    "  --indicator SPEC   an indicator to compute (repeatable; at least one)\n"
    "  --with SERIES2     the second series of two-series indicators (beta, correl)\n"
    "  --output FILE      write the CSV to FILE instead of stdout (beside FILE first, then\n"
    "                     renamed into place: a failed write leaves the previous FILE)\n"
    "\n"
    "Exit status: 0 on success, 1 when the series cannot be read or the output cannot be\n"
    "written, 2 on a bad command line\n"
    "(unknown indicator, bad option). Definitions: docs/indicators.md.\n";

/* Prints every indicator of the table: `comeback help ta` shows it after help_ta. */
void cli_ta_help_table(FILE *out)
{
    fprintf(out, "\nindicators (name: inputs; options (default, range); outputs):\n");
    for (size_t i = 0; i < cb_ta_count(); i++) {
        const cb_ta_info_t *in = cb_ta_at(i);
        fprintf(out, "  %-10s %s\n", in->name, in->title);
        fprintf(out, "             inputs: ");
        for (int k = 0; k < in->n_inputs; k++)
            fprintf(out, "%s%s", k ? ", " : "", in->inputs[k]);
        fprintf(out, "\n             options: ");
        if (!in->n_opts)
            fprintf(out, "none");
        for (int k = 0; k < in->n_opts; k++) {
            const cb_ta_opt_info_t *o = &in->opts[k];
            fprintf(out, "%s%s (%g; ", k ? ", " : "", o->name, o->def);
            if (o->min <= -1e30 && o->max >= 1e30)
                fprintf(out, "any number)");
            else
                fprintf(out, "%g..%g%s)", o->min, o->max, o->integer ? "" : ", real");
        }
        fprintf(out, "\n             outputs: ");
        for (int k = 0; k < in->n_outputs; k++)
            fprintf(out, "%s%s", k ? ", " : "", in->outputs[k]);
        fprintf(out, "\n");
    }
}

typedef struct ta_col {
    const char *spec;
    const cb_ta_info_t *info;
    double opts[CB_TA_MAX_OPTS];
    double *out[CB_TA_MAX_OUTPUTS];
} ta_col_t;

static const double *input_for(const cb_series_t *s, const cb_series_t *s2, const double *time,
                               const char *name)
{
    if (!strcmp(name, "time"))
        return time;
    if (!strcmp(name, "open"))
        return s->open;
    if (!strcmp(name, "high"))
        return s->high;
    if (!strcmp(name, "low"))
        return s->low;
    if (!strcmp(name, "volume"))
        return s->volume;
    if (!strcmp(name, "real1"))
        return s2 ? s2->close : NULL;
    return s->close;
}

static int read_series(const char *path, cb_series_t **out)
{
    cb_read_opts_t ro;
    memset(&ro, 0, sizeof ro);
    ro.format = CB_FORMAT_AUTO;
    cb_diag_t d;
    cb_diag_clear(&d);
    int r = cb_series_open(path, &ro, out, &d);
    if (r) {
        if (!d.file[0])
            snprintf(d.file, sizeof d.file, "%s", path);
        cli_print_diag(&d);
    }
    return r;
}

static void print_value(FILE *f, double v)
{
    fputc(',', f);
    if (isfinite(v))
        fprintf(f, "%.17g", v);
}

int cmd_ta(int argc, char **argv)
{
    const char *series = NULL, *with = NULL, *output = NULL;
    ta_col_t *cols = calloc((size_t)argc, sizeof *cols);
    size_t ncols = 0;
    int rc = CLI_OK;
    cb_series_t *s = NULL, *s2 = NULL;
    double *time = NULL;
    FILE *f = NULL;
    cb_file_atomic_t out;
    if (!cols)
        return cli_error("out of memory");
    for (int i = 1; i < argc; i++) {
        const char *v;
        int m;
        if ((m = cli_opt(argc, argv, &i, "--indicator", &v)) != 0) {
            if (m < 0) {
                rc = CLI_USAGE;
                goto done;
            }
            cb_diag_t d;
            cb_diag_clear(&d);
            ta_col_t *c = &cols[ncols];
            c->spec = v;
            if (cb_ta_parse_spec(v, &c->info, c->opts, &d) != 0) {
                char buf[1024];
                cb_diag_format(&d, buf, sizeof buf);
                rc = cli_usage_error("ta", "--indicator %s: %s", v, buf);
                goto done;
            }
            ncols++;
        } else if ((m = cli_opt(argc, argv, &i, "--output", &v)) != 0) {
            if (m < 0) {
                rc = CLI_USAGE;
                goto done;
            }
            output = v;
        } else if ((m = cli_opt(argc, argv, &i, "--with", &v)) != 0) {
            if (m < 0) {
                rc = CLI_USAGE;
                goto done;
            }
            with = v;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            rc = cli_unknown_option("ta", argv[i]);
            goto done;
        } else if (!series) {
            series = argv[i];
        } else {
            rc = cli_usage_error("ta", "one SERIES expected, got '%s' too", argv[i]);
            goto done;
        }
    }
    if (!series) {
        rc = cli_usage_error("ta", "missing SERIES");
        goto done;
    }
    if (!ncols) {
        rc = cli_usage_error("ta", "at least one --indicator SPEC is needed (e.g. rsi:14)");
        goto done;
    }
    for (size_t c = 0; c < ncols; c++)
        for (int k = 0; k < cols[c].info->n_inputs; k++)
            if (!strcmp(cols[c].info->inputs[k], "real1") && !with) {
                rc = cli_usage_error("ta",
                                     "--indicator %s: %s takes two series; give the second "
                                     "with --with SERIES2",
                                     cols[c].spec, cols[c].info->name);
                goto done;
            }
    if (read_series(series, &s) != 0) {
        rc = CLI_FAIL;
        goto done;
    }
    if (with) {
        if (read_series(with, &s2) != 0) {
            rc = CLI_FAIL;
            goto done;
        }
        if (s2->n != s->n ||
            (s->n && memcmp(s->time_ms, s2->time_ms, s->n * sizeof s->time_ms[0]) != 0)) {
            rc = cli_error("%s and %s do not have the same candle times (%zu and %zu candles)",
                           series, with, s->n, s2->n);
            goto done;
        }
    }
    /* the "time" input: open times as doubles (exact below 2^53 ms) */
    time = malloc((s->n ? s->n : 1) * sizeof(double));
    if (!time) {
        rc = cli_error("out of memory");
        goto done;
    }
    for (size_t i = 0; i < s->n; i++)
        time[i] = (double)s->time_ms[i];
    for (size_t c = 0; c < ncols; c++) {
        ta_col_t *col = &cols[c];
        const double *in[CB_TA_MAX_INPUTS];
        for (int k = 0; k < col->info->n_inputs; k++)
            in[k] = input_for(s, s2, time, col->info->inputs[k]);
        for (int k = 0; k < col->info->n_outputs; k++) {
            col->out[k] = malloc((s->n ? s->n : 1) * sizeof(double));
            if (!col->out[k]) {
                rc = cli_error("out of memory");
                goto done;
            }
        }
        int r = cb_ta_batch(col->info, s->n, in, col->opts, col->out);
        if (r) {
            rc = cli_error("%s: %s", col->spec, cb_strerror(r));
            goto done;
        }
    }
    /* --output is written beside the target and renamed into place; "-" is stdout. */
    if ((rc = cli_file_open(&out, output ? output : "-")) != CLI_OK)
        goto done;
    f = out.f;
    fputs("time_ms", f);
    for (size_t c = 0; c < ncols; c++) {
        if (cols[c].info->n_outputs == 1)
            fprintf(f, ",%s", cols[c].spec);
        else
            for (int k = 0; k < cols[c].info->n_outputs; k++)
                fprintf(f, ",%s.%s", cols[c].spec, cols[c].info->outputs[k]);
    }
    fputc('\n', f);
    for (size_t i = 0; i < s->n && !ferror(f); i++) {
        fprintf(f, "%lld", (long long)s->time_ms[i]);
        for (size_t c = 0; c < ncols; c++)
            for (int k = 0; k < cols[c].info->n_outputs; k++)
                print_value(f, cols[c].out[k][i]);
        fputc('\n', f);
    }
    rc = cli_file_close(&out, 0, "indicator CSV");
    f = NULL;
done:
    if (f)
        cb_file_atomic_abort(&out);
    for (size_t c = 0; c < ncols; c++)
        for (int k = 0; k < CB_TA_MAX_OUTPUTS; k++)
            free(cols[c].out[k]);
    free(cols);
    free(time);
    cb_series_free(s);
    cb_series_free(s2);
    return rc;
}
