/* `comeback reconcile`: the live robot's journal compared with the exchange, and the
 * differences resolved on request. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    "is resolved). While the robot runs, the robot itself reconciles on this request (no\n"
    "race with its orders) and the command prints its report; a running robot that found a\n"
    "difference makes no new entries but keeps managing its exits, and resumes entries once\n"
    "a reconciliation (--adopt, --ignore, or none left) finds nothing open.\n"
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
    char *report = NULL;
    cb_robot_liveness_t lv;
    if (cb_robot_liveness(j, cb_now_ms(), &lv) != 0)
        lv.alive = CB_ROBOT_NEVER;
    int running = lv.alive == CB_ROBOT_RUNNING || lv.alive == CB_ROBOT_STALLED;
    if (cfg.mode == CB_ROBOT_LIVE && running) {
        /* the running robot reconciles: one writer for its journal and its orders */
        cb_exchange_free(ex);
        const char *an = action == CB_RECON_ADOPT    ? "adopt"
                         : action == CB_RECON_IGNORE ? "ignore"
                                                     : "check";
        int64_t at = cb_now_ms();
        if (cb_robot_reconcile_request(j, an, at) != 0) {
            rc = cli_error("cannot leave the request in the journal: %s", cb_journal_errmsg(j));
            cb_journal_close(j);
            return rc;
        }
        int got = 0;
        for (int64_t t0 = cb_monotonic_ns();
             (got = cb_robot_reconcile_answer(j, at, &report)) == 0 &&
             cb_monotonic_ns() - t0 < INT64_C(60000000000);) {
            struct timespec ts = {0, 100 * 1000000L};
            nanosleep(&ts, NULL);
        }
        cb_journal_close(j);
        if (got != 1)
            return cli_error("the running robot (pid %lld) did not answer the reconciliation "
                             "request within 60 s; the request stays pending",
                             (long long)lv.pid);
    } else {
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
        report = cb_reconcile_report_json(&r);
        cb_reconcile_report_free(&r);
        if (!report)
            return cli_error("out of memory");
    }
    json_t *o = json_loads(report, 0, NULL);
    if (!o) {
        free(report);
        return cli_error("the reconciliation report is not readable");
    }
    const char *err = json_string_value(json_object_get(o, "error"));
    if (err) {
        rc = cli_error("the robot could not reconcile: %s", err);
        json_decref(o);
        free(report);
        return rc;
    }
    json_t *diffs = json_object_get(o, "differences");
    size_t n_open = 0;
    for (size_t i = 0; i < json_array_size(diffs); i++)
        n_open += !json_is_true(json_object_get(json_array_get(diffs, i), "resolved"));
    if (json) {
        puts(report);
    } else {
#define N_(k) ((size_t)json_integer_value(json_object_get(o, k)))
        printf("%zu order%s in flight checked, %zu updated, %zu not sent, %zu missed fill%s "
               "recorded\n",
               N_("orders_checked"), N_("orders_checked") == 1 ? "" : "s", N_("orders_updated"),
               N_("not_sent"), N_("fills_recorded"), N_("fills_recorded") == 1 ? "" : "s");
#undef N_
        for (size_t i = 0; i < json_array_size(diffs); i++) {
            json_t *df = json_array_get(diffs, i);
            printf("%s %s: %s\n", json_is_true(json_object_get(df, "resolved")) ? "resolved"
                                                                              : "DIFFERS",
                   json_string_value(json_object_get(df, "kind")),
                   json_string_value(json_object_get(df, "message")));
        }
        if (json_array_size(diffs) == 0)
            printf("the journal and the exchange agree\n");
        else if (n_open)
            printf("%zu difference%s: the robot will not trade until resolved\n", n_open,
                   n_open == 1 ? "" : "s");
    }
    json_decref(o);
    free(report);
    return n_open ? CLI_FAIL : CLI_OK;
}
