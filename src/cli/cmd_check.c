/* `comeback check STRATEGY.ini [SERIES]`: does any decision change when future bars are
 * removed? Catches plug-ins that read past the bars they are given. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "comeback/backtest.h"
#include "comeback/opt.h"
#include "comeback/rules.h"

const char help_check[] =
    "usage: comeback check STRATEGY.ini [SERIES] [--cuts N] [--set NAME=VALUE ...]\n"
    "\n"
    "Lookahead analysis: runs the strategy on the whole series (SERIES, or [backtest] data)\n"
    "and on N truncated copies that end at evenly spaced bars (the removed future replaced by\n"
    "missing values), and compares every decision made before each cut. A strategy that reads\n"
    "only the bars it is given decides the same either way; one that peeks ahead is caught at\n"
    "the first bar whose decision changes. Rules-language strategies pass by construction;\n"
    "the check matters for C plug-ins.\n"
    "\n"
    "options:\n"
    "  --cuts N           truncated copies to compare (default 20)\n"
    "  --set NAME=VALUE   a parameter value (repeatable)\n"
    "\n"
    "Exit status: 0 when no decision changed, 3 when lookahead was found, 1 on errors, 2 on a\n"
    "bad command line.\n";

int cmd_check(int argc, char **argv)
{
    const char *ini = NULL, *series = NULL, *v, *sets[64];
    int n_sets = 0, r;
    size_t cuts = 20;
    for (int i = 1; i < argc; i++) {
        if ((r = cli_opt(argc, argv, &i, "--cuts", &v)) != 0) {
            if (r < 0)
                return CLI_USAGE;
            char *end;
            unsigned long x = strtoul(v, &end, 10);
            if (end == v || *end || x < 1 || x > 10000)
                return cli_usage_error("check", "--cuts: expected 1 to 10000, got '%s'", v);
            cuts = x;
            continue;
        }
        if ((r = cli_opt(argc, argv, &i, "--set", &v)) != 0) {
            if (r < 0)
                return CLI_USAGE;
            if (n_sets == 64)
                return cli_usage_error("check", "too many --set options");
            sets[n_sets++] = v;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1])
            return cli_unknown_option("check", argv[i]);
        if (!ini)
            ini = argv[i];
        else if (!series)
            series = argv[i];
        else
            return cli_usage_error("check", "unexpected argument '%s'", argv[i]);
    }
    if (!ini)
        return cli_usage_error("check", "missing the strategy file");
    cb_rules_file_t *f = NULL;
    if (cli_load_strategy(ini, &f) != CLI_OK)
        return CLI_FAIL;
    int status = CLI_FAIL;
    size_t np = cb_rules_file_n_params(f);
    double *values = calloc(np ? np : 1, sizeof *values);
    cb_rules_params_default(f, values);
    cb_diag_t d;
    cb_diag_clear(&d);
    for (int k = 0; k < n_sets; k++)
        if (cb_rules_params_set(f, values, sets[k], &d) != 0) {
            cli_print_diag(&d);
            free(values);
            cb_rules_file_free(f);
            return CLI_USAGE;
        }
    cb_bt_settings_t ov;
    memset(&ov, 0, sizeof ov);
    if (series)
        snprintf(ov.data, sizeof ov.data, "%s", series);
    cb_backtest_t bt;
    if (cb_backtest_setup(&bt, f, ini, &ov, &d) != 0) {
        cli_print_diag(&d);
        goto out;
    }
    cb_lookahead_report_t rep;
    if (cb_lookahead_check(&bt, values, cuts, &rep, &d) != 0) {
        cli_print_diag(&d);
        cb_backtest_close(&bt);
        goto out;
    }
    if (rep.found) {
        char when[40];
        cb_time_format(rep.first_time_ms, when, sizeof when);
        printf("LOOKAHEAD: the decision at bar %zu (%s) changes when the bars after bar %zu are "
               "removed: on the full series entry=%d exit=%d, on the truncated copy entry=%d "
               "exit=%d.\nThe strategy reads data from after its decision time; its backtests "
               "cannot be trusted.\n",
               rep.first_bar, when, rep.cut_at - 1, rep.full_entry, rep.full_exit, rep.cut_entry,
               rep.cut_exit);
        status = 3;
    } else {
        printf("No lookahead: %zu decisions over %zu bars were identical on the full series and "
               "on %zu truncated copies.\n",
               rep.decisions, rep.bars, rep.cuts);
        status = CLI_OK;
    }
    cb_backtest_close(&bt);
out:
    free(values);
    cb_rules_file_free(f);
    return status;
}
