/* `comeback rules check|eval`: compile a strategy file and report on it, or print its signals
 * over a series. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "comeback/backtest.h"
#include "comeback/data.h"
#include "comeback/rules.h"

const char help_rules[] =
    "usage: comeback rules check FILE [--set NAME=VALUE]...\n"
    "       comeback rules eval FILE SERIES [--set NAME=VALUE]...\n"
    "\n"
    "Strategies are INI files with entry/exit rules in a small expression language that cannot\n"
    "look at future bars (see docs/rules.md), or a C plug-in (see docs/plugins.md).\n"
    "\n"
    "  check   compiles FILE and reports errors (file:line:column, with a caret and a\n"
    "          suggestion), its parameters with their search ranges, each indicator's warm-up\n"
    "          and the number of bars needed before the first signal. Exit status 1 on errors.\n"
    "  eval    prints the signals over SERIES (a candle file in any readable format, or a store\n"
    "          name such as binance:BTC/USDT:1h) as CSV: time_ms,entry,exit, one\n"
    "          row per bar. Position state (bars_held, entry_price, profit_pct) is that of a\n"
    "          flat account here, so rules using it do not fire. SERIES must have the\n"
    "          strategy's [strategy] timeframe when it names one.\n"
    "\n"
    "options:\n"
    "  --set NAME=VALUE   override a [params] value (repeatable), e.g. --set fast=10\n";

static void print_diags(const cb_rules_file_t *f, const cb_diags_t *d)
{
    for (size_t i = 0; i < d->n; i++) {
        char buf[4096];
        cb_rules_render_diag(f, &d->items[i], buf, sizeof buf);
        fputs(buf, stderr);
    }
    if (d->total > d->n)
        fprintf(stderr, "(%zu more diagnostics not shown)\n", d->total - d->n);
}

static size_t count_errors(const cb_diags_t *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->n; i++)
        n += d->items[i].code != 0;
    return n;
}

typedef struct args {
    const char *file, *series;
    const char *sets[64];
    size_t n_sets;
} args_t;

static int parse_args(int argc, char **argv, const char *cmd, int want_series, args_t *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 2; i < argc; i++) {
        const char *v;
        int r = cli_opt(argc, argv, &i, "--set", &v);
        if (r < 0)
            return CLI_USAGE;
        if (r > 0) {
            if (a->n_sets == 64)
                return cli_usage_error(cmd, "too many --set options");
            a->sets[a->n_sets++] = v;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1])
            return cli_unknown_option(cmd, argv[i]);
        if (!a->file)
            a->file = argv[i];
        else if (want_series && !a->series)
            a->series = argv[i];
        else
            return cli_usage_error(cmd, "unexpected argument '%s'", argv[i]);
    }
    if (!a->file)
        return cli_usage_error(cmd, "missing the strategy FILE");
    if (want_series && !a->series)
        return cli_usage_error(cmd, "missing the SERIES to evaluate on");
    return CLI_OK;
}

/* Loads the file (printing diagnostics) and applies --set. Returns CLI_OK or an exit code. */
static int load(const args_t *a, cb_rules_file_t **f, double **values, int quiet_warnings)
{
    cb_diags_t d = {0};
    d.max_keep = 50;
    *f = NULL;
    *values = NULL;
    int r = cb_rules_file_load(a->file, f, &d);
    if (r != 0 || !quiet_warnings)
        print_diags(*f, &d);
    size_t errs = count_errors(&d);
    cb_diags_free(&d);
    if (r != 0) {
        if (*f && errs)
            fprintf(stderr, "%zu error%s\n", errs, errs == 1 ? "" : "s");
        cb_rules_file_free(*f);
        *f = NULL;
        return CLI_FAIL;
    }
    size_t n = cb_rules_file_n_params(*f);
    *values = calloc(n ? n : 1, sizeof **values);
    if (!*values) {
        cb_rules_file_free(*f);
        return cli_error("out of memory");
    }
    cb_rules_params_default(*f, *values);
    for (size_t i = 0; i < a->n_sets; i++) {
        cb_diag_t e;
        if (cb_rules_params_set(*f, *values, a->sets[i], &e) != 0) {
            cli_print_diag(&e);
            cb_rules_file_free(*f);
            free(*values);
            return CLI_USAGE;
        }
    }
    return CLI_OK;
}

static void print_fraction(const char *name, double v)
{
    if (v > 0)
        printf("  %s %g%%", name, v * 100);
}

static int rules_check(int argc, char **argv)
{
    args_t a;
    int r = parse_args(argc, argv, "rules check", 0, &a);
    if (r != CLI_OK)
        return r;
    cb_rules_file_t *f;
    double *values;
    r = load(&a, &f, &values, 0);
    if (r != CLI_OK)
        return r;
    cb_diags_t d = {0};
    cb_rules_strategy_t *s = NULL;
    r = cb_rules_strategy_new(f, values, &s, &d);
    if (r != 0) {
        print_diags(f, &d);
        cb_diags_free(&d);
        free(values);
        cb_rules_file_free(f);
        return CLI_FAIL;
    }
    cb_diags_free(&d);
    const char *name = cb_rules_file_name(f);
    const char *tf = cb_rules_file_timeframe(f);
    printf("%s: ok\n", a.file);
    printf("strategy    %s", name ? name : "(unnamed)");
    if (tf)
        printf("  (timeframe %s)", tf);
    printf("\n");
    if (cb_rules_file_plugin(f))
        printf("plug-in     %s (ABI version %u)\n", cb_rules_file_plugin(f),
               CB_STRATEGY_ABI_VERSION);
    if (cb_rules_file_entry(f))
        printf("entry       %s\n", cb_rules_file_entry(f));
    if (cb_rules_file_exit(f))
        printf("exit        %s\n", cb_rules_file_exit(f));
    cb_rules_exits_t ex;
    cb_rules_file_exits(f, &ex);
    if (ex.stoploss > 0 || ex.take_profit > 0 || ex.trailing_stop > 0) {
        printf("risk exits ");
        print_fraction("stoploss", ex.stoploss);
        print_fraction("take_profit", ex.take_profit);
        print_fraction("trailing_stop", ex.trailing_stop);
        print_fraction("trailing_offset", ex.trailing_offset);
        printf("\n");
    }
    size_t np = cb_rules_file_n_params(f);
    if (np) {
        printf("parameters:\n");
        for (size_t i = 0; i < np; i++) {
            const cb_rules_param_t *p = cb_rules_file_param(f, i);
            printf("  %-16s %g", p->name, values[i]);
            if (values[i] != p->value)
                printf(" (file: %g)", p->value);
            if (p->has_range) {
                printf("  [%g..%g", p->min, p->max);
                if (p->step > 0)
                    printf(" step %g", p->step);
                printf("]");
            }
            printf("\n");
        }
    }
    const cb_rules_program_t *prog = cb_rules_strategy_program(s);
    if (prog) {
        size_t ni = cb_rules_program_n_indicators(prog);
        if (ni) {
            printf("indicators (lookback: bars of its own timeframe before its first value; "
                   "warm-up: base bars before it has one):\n");
            for (size_t i = 0; i < ni; i++) {
                const cb_rules_indicator_t *ind = cb_rules_program_indicator(prog, i);
                printf("  %-32s lookback %-6zu warm-up %zu bars\n", ind->text, ind->lookback,
                       ind->warmup_bars);
            }
        }
        cb_rules_stats_t st;
        cb_rules_program_stats(prog, &st);
        printf("program     %zu streaming nodes (%zu indicators, %zu constants), %zu bytes of "
               "state per pair\n",
               st.nodes, st.indicators, st.constants, st.state_bytes);
        printf("warm-up     %zu bars: the first signal can come on bar %zu\n", st.warmup,
               st.warmup + 1);
    } else {
        const cb_strategy_v1_t *vt;
        void *self;
        cb_diag_t e;
        if (cb_rules_strategy_instance(s, 0, &vt, &self, &e) != 0) {
            cli_print_diag(&e);
            cb_rules_strategy_free(s);
            free(values);
            cb_rules_file_free(f);
            return CLI_FAIL;
        }
        size_t w = vt->warmup ? vt->warmup(self) : 0;
        printf("plug-in     '%s', warm-up %zu bars: the first signal can come on bar %zu\n",
               vt->name ? vt->name : "?", w, w + 1);
        vt->destroy(self);
    }
    cb_rules_strategy_free(s);
    free(values);
    cb_rules_file_free(f);
    return CLI_OK;
}

static int rules_eval(int argc, char **argv)
{
    args_t a;
    int r = parse_args(argc, argv, "rules eval", 1, &a);
    if (r != CLI_OK)
        return r;
    cb_rules_file_t *f;
    double *values;
    r = load(&a, &f, &values, 1);
    if (r != CLI_OK)
        return r;
    cb_diags_t d = {0};
    cb_rules_strategy_t *s = NULL;
    if (cb_rules_strategy_new(f, values, &s, &d) != 0) {
        print_diags(f, &d);
        cb_diags_free(&d);
        free(values);
        cb_rules_file_free(f);
        return CLI_FAIL;
    }
    cb_diags_free(&d);
    cb_series_t *ser = NULL;
    cb_diag_t e;
    cb_diag_clear(&e);
    cb_read_opts_t ro = {0};
    ro.format = CB_FORMAT_AUTO;
    if (cb_series_open(a.series, &ro, &ser, &e) != 0) {
        cli_print_diag(&e);
        cb_rules_strategy_free(s);
        free(values);
        cb_rules_file_free(f);
        return CLI_FAIL;
    }
    int64_t base_ms = 0;
    cb_timeframe_t tf;
    if (ser->meta.timeframe[0] && cb_timeframe_parse(ser->meta.timeframe, &tf) == 0)
        base_ms = tf.ms;
    char what[700];
    snprintf(what, sizeof what, "%s has %s candles", a.series, ser->meta.timeframe);
    const cb_strategy_v1_t *vt;
    void *self;
    int rc = CLI_OK;
    if (cb_backtest_check_timeframe(f, a.file, ser->meta.timeframe, what, &e) != 0) {
        rc = cli_print_diag(&e);
    } else if (cb_rules_strategy_instance(s, base_ms, &vt, &self, &e) != 0) {
        rc = cli_print_diag(&e);
    } else {
        cb_position_view_t pos;
        memset(&pos, 0, sizeof pos);
        printf("time_ms,entry,exit\n");
        for (size_t i = 0; i < ser->n && !cli_stdout_failed(); i++) {
            cb_bar_view_t v = {i + 1, ser->time_ms, ser->open, ser->high, ser->low, ser->close,
                               ser->volume};
            cb_decision_t dec;
            int er = vt->on_bar(self, &v, &pos, &dec);
            if (er != 0) {
                rc = cli_error("%s: bar %zu: %s", a.file, i, cb_strerror(er));
                break;
            }
            printf("%lld,%d,%d\n", (long long)ser->time_ms[i], dec.enter ? 1 : 0,
                   dec.exit ? 1 : 0);
        }
        vt->destroy(self);
    }
    cb_series_free(ser);
    cb_rules_strategy_free(s);
    free(values);
    cb_rules_file_free(f);
    return rc; /* main() checks that stdout got every line */
}

int cmd_rules(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("rules", "expected 'check' or 'eval'");
    if (strcmp(argv[1], "check") == 0)
        return rules_check(argc, argv);
    if (strcmp(argv[1], "eval") == 0)
        return rules_eval(argc, argv);
    static const char *const subs[] = {"check", "eval"};
    return cli_unknown_word("rules", "subcommand", argv[1], subs, 2);
}
