/* Shared by the robot's status and control commands: finding and opening the journal. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "comeback/journal.h"
#include "comeback/robot.h"
#include "comeback/rules.h"

int cli_robot_journal(const char *cmd, int argc, char **argv, int *json, const char **args,
                      int n_args, cb_journal_t **j)
{
    const char *db = NULL, *ini = NULL, *v;
    int got = 0, r;
    *j = NULL;
    for (int i = 1; i < argc; i++) {
        if ((r = cli_opt(argc, argv, &i, "--db", &v)) != 0) {
            if (r < 0)
                return CLI_USAGE;
            db = v;
            continue;
        }
        if (json && !strcmp(argv[i], "--json")) {
            *json = 1;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1])
            return cli_unknown_option(cmd, argv[i]);
        size_t len = strlen(argv[i]);
        if (!ini && len > 4 && !strcmp(argv[i] + len - 4, ".ini"))
            ini = argv[i];
        else if (got < n_args)
            args[got++] = argv[i];
        else
            return cli_usage_error(cmd, "unexpected argument '%s'", argv[i]);
    }
    if (got < n_args)
        return cli_usage_error(cmd, "missing %s", n_args == 1 ? "PAIR" : "arguments");
    if (!db && !ini)
        return cli_usage_error(cmd, "name the robot's database: --db FILE, or its BOT.ini");
    cb_diag_t d;
    cb_diag_clear(&d);
    cb_robot_config_t cfg;
    if (!db) {
        cb_rules_file_t *file;
        if (cli_load_strategy(ini, &file) != CLI_OK)
            return CLI_FAIL;
        int rc = cb_robot_config_load(file, ini, NULL, &cfg, &d);
        cb_rules_file_free(file);
        if (rc)
            return cli_print_diag(&d);
        db = cfg.db;
    }
    if (cb_journal_open_existing(db, j, NULL, 0, &d) != 0)
        return cli_print_diag(&d);
    return CLI_OK;
}

int cli_robot_list(const char *cmd, int argc, char **argv, const char *header,
                   cli_robot_walk_fn walk)
{
    int json = 0;
    cb_journal_t *j;
    int rc = cli_robot_journal(cmd, argc, argv, &json, NULL, 0, &j);
    if (rc != CLI_OK)
        return rc;
    json_t *arr = json ? json_array() : NULL;
    if (!json)
        fputs(header, stdout);
    if (walk(j, arr) < 0)
        rc = cli_stdout_failed() ? CLI_FAIL /* main() says why */
                                 : cli_error("cannot read the %s: %s", cmd, cb_journal_errmsg(j));
    if (arr && !rc) {
        json_dumpf(arr, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
        putchar('\n');
    }
    json_decref(arr);
    cb_journal_close(j);
    return rc;
}

int cli_robot_control(const char *cmd, int argc, char **argv, int what)
{
    const char *pair = NULL;
    cb_journal_t *j;
    int rc = cli_robot_journal(cmd, argc, argv, NULL, &pair,
                               what == CB_ROBOT_CTL_FORCEEXIT ? 1 : 0, &j);
    if (rc != CLI_OK)
        return rc;
    if (cb_robot_control(j, (cb_robot_control_t)what, pair, cb_now_ms()) != 0) {
        rc = cli_error("cannot leave the request in the journal: %s", cb_journal_errmsg(j));
    } else {
        char st[4096];
        const char *state = "no robot has run on this database yet";
        if (cb_robot_status_json(j, st, sizeof st) == 0)
            state = strstr(st, "\"state\":\"running\"") ? "the running robot applies it within a "
                                                           "second"
                                                         : "no robot is running now: it applies "
                                                           "when one starts";
        printf("%s%s%s requested (%s)\n", cmd, pair ? " " : "", pair ? pair : "", state);
    }
    cb_journal_close(j);
    return rc;
}
