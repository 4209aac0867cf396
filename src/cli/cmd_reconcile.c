/* `comeback reconcile`: the live robot's journal compared with the exchange, and the
 * differences resolved on request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "comeback/exchange.h"
#include "comeback/journal.h"
#include "comeback/live.h"
#include "comeback/robot.h"
#include "comeback/rules.h"

const char help_reconcile[] =
    "usage: comeback reconcile BOT.ini [--adopt | --ignore] [--json]\n"
    "\n"
    "Compares a live robot's journal with the exchange, as the robot itself does on start and\n"
    "every minute: every order in flight is asked for by its client order id (an intent the\n"
    "exchange never received is marked 'not sent'), fills the journal missed are recorded,\n"
    "open orders in the traded pairs that the journal lacks are listed, and each traded base\n"
    "asset's balance is compared with the journal's position (less than one step is dust).\n"
    "Exits 0 when nothing differs, 1 when something does (the robot will not trade until it\n"
    "is resolved). Run it while the robot is stopped.\n"
    "\n"
    "options:\n"
    "  --adopt    resolve by taking the exchange's side: unknown open orders are recorded as\n"
    "             the robot's, balances are taken as the truth, orders the exchange does not\n"
    "             know are marked expired\n"
    "  --ignore   resolve by leaving the exchange alone: unknown open orders are remembered as\n"
    "             not the robot's (never reported again), balance differences are accepted as\n"
    "             outside the robot\n"
    "  --json     the report as JSON\n";

int cmd_reconcile(int argc, char **argv)
{
    const char *ini = NULL;
    int json = 0;
    cb_recon_action_t action = CB_RECON_CHECK;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--adopt") || !strcmp(argv[i], "--ignore")) {
            cb_recon_action_t a = argv[i][2] == 'a' ? CB_RECON_ADOPT : CB_RECON_IGNORE;
            if (action != CB_RECON_CHECK && action != a)
                return cli_usage_error("reconcile", "--adopt and --ignore exclude each other");
            action = a;
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_unknown_option("reconcile", argv[i]);
        } else if (!ini) {
            ini = argv[i];
        } else {
            return cli_usage_error("reconcile", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!ini)
        return cli_usage_error("reconcile", "missing BOT.ini");
    cb_rules_file_t *file;
    if (cli_load_strategy(ini, &file) != CLI_OK)
        return CLI_FAIL;
    cb_diag_t d;
    cb_diag_clear(&d);
    cb_robot_config_t cfg;
    int rc = cb_robot_config_load(file, ini, "live", &cfg, &d);
    cb_rules_file_free(file);
    if (rc)
        return cli_print_diag(&d);
    cb_exchange_t *ex = NULL;
    cb_journal_t *j = NULL;
    if ((rc = cb_live_connect(cfg.api_url, cfg.key_file, &ex, &d)) != 0 ||
        (rc = cb_journal_open(cfg.db, cfg.name, &j, &d)) != 0) {
        cb_exchange_free(ex);
        return cli_print_diag(&d);
    }
    const char *pairs[CB_ROBOT_MAX_PAIRS];
    for (size_t k = 0; k < cfg.n_pairs; k++)
        pairs[k] = cfg.pairs[k];
    cb_reconcile_opts_t o = {.ex = ex, .journal = j, .bot = cfg.name, .pairs = pairs,
                             .n_pairs = cfg.n_pairs, .action = action, .wait_unsent = 1};
    cb_reconcile_report_t r;
    rc = cb_reconcile(&o, &r, &d);
    cb_journal_close(j);
    cb_exchange_free(ex);
    if (rc)
        return cli_print_diag(&d);
    if (json) {
        char *s = cb_reconcile_report_json(&r);
        if (s)
            puts(s);
        free(s);
    } else {
        printf("%zu order%s in flight checked, %zu updated, %zu not sent, %zu missed fill%s "
               "recorded\n",
               r.orders_checked, r.orders_checked == 1 ? "" : "s", r.orders_updated, r.not_sent,
               r.fills_recorded, r.fills_recorded == 1 ? "" : "s");
        for (size_t i = 0; i < r.n_diffs; i++)
            printf("%s %s: %s\n", r.diffs[i].resolved ? "resolved" : "DIFFERS",
                   cb_recon_kind_name(r.diffs[i].kind), r.diffs[i].message);
        if (r.n_diffs == 0)
            printf("the journal and the exchange agree\n");
        else if (r.n_open)
            printf("%zu difference%s: the robot will not trade until resolved\n", r.n_open,
                   r.n_open == 1 ? "" : "s");
    }
    rc = r.n_open ? CLI_FAIL : CLI_OK;
    cb_reconcile_report_free(&r);
    return rc;
}
