/* Shared by the robot's status and control commands: finding and opening the journal. */
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "comeback/journal.h"
#include "comeback/robot.h"
#include "comeback/rules.h"

/* Neither --db nor BOT.ini: the journal `run` names <name>.<mode>.sqlite beside BOT.ini, looked
 * for in the current directory. Exactly one must be there. */
static int find_journal(const char *cmd, char *out, size_t size)
{
    DIR *d = opendir(".");
    if (!d)
        return cli_usage_error(cmd, "name the robot's database: --db FILE, or its BOT.ini");
    char found[4][256];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        int paper = len > 13 && !strcmp(e->d_name + len - 13, ".paper.sqlite");
        int live = len > 12 && !strcmp(e->d_name + len - 12, ".live.sqlite");
        if ((paper || live) && len < sizeof found[0]) {
            if (n < 4)
                snprintf(found[n], sizeof found[n], "%s", e->d_name);
            n++;
        }
    }
    closedir(d);
    if (n == 1) {
        snprintf(out, size, "%s", found[0]);
        return CLI_OK;
    }
    if (n == 0)
        return cli_usage_error(cmd, "name the robot's database: --db FILE, or its BOT.ini (no "
                                    "<name>.paper.sqlite or <name>.live.sqlite here)");
    return cli_usage_error(cmd, "%zu robot databases here (%s, %s%s): name one with --db FILE, "
                                "or give its BOT.ini",
                           n, found[0], found[1], n > 2 ? ", ..." : "");
}

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
    static char here[256];
    if (!db && !ini) {
        if ((r = find_journal(cmd, here, sizeof here)) != CLI_OK)
            return r;
        db = here;
    }
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

/* forceexit / forceentry: PAIR as the robot spells it, one of its pairs. */
static int check_pair(const char *cmd, cb_journal_t *j, const char *pair)
{
    char pairs[CB_ROBOT_MAX_PAIRS][32];
    int n = cb_robot_journal_pairs(j, pairs, CB_ROBOT_MAX_PAIRS);
    if (n < 0)
        return cli_error("no robot has run on this database yet: its pairs are unknown");
    char list[CB_ROBOT_MAX_PAIRS * 34] = "";
    const char *near = NULL;
    for (int k = 0; k < n; k++) {
        if (!strcmp(pairs[k], pair))
            return CLI_OK;
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", k ? ", " : "",
                 pairs[k]);
        /* "ETHUSDT", "eth/usdt": the same pair spelled otherwise */
        char a[32], b[32];
        size_t x = 0, y = 0;
        for (const char *c = pairs[k]; *c && x < 31; c++)
            if (*c != '/')
                a[x++] = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
        for (const char *c = pair; *c && y < 31; c++)
            if (*c != '/' && *c != '-' && *c != '_')
                b[y++] = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
        a[x] = b[y] = '\0';
        if (!strcmp(a, b))
            near = pairs[k];
    }
    const char *slash = strchr(pair, '/');
    int malformed = !slash || slash == pair || !slash[1] || strchr(slash + 1, '/');
    if (near)
        return cli_usage_error(cmd, "%s '%s': the robot trades it as %s", malformed
                                   ? "expected a pair such as BTC/USDT, got" : "no pair", pair,
                               near);
    if (malformed)
        return cli_usage_error(cmd, "expected a pair such as BTC/USDT, got '%s' (the robot "
                                    "trades %s)", pair, list);
    return cli_error("the robot does not trade %s (its pairs: %s): nothing was requested", pair,
                     list);
}

int cli_robot_control(const char *cmd, int argc, char **argv, int what)
{
    const char *pair = NULL;
    int force = what == CB_ROBOT_CTL_FORCEEXIT || what == CB_ROBOT_CTL_FORCEENTRY;
    /* --wait SECONDS (forced exits and entries): how long to wait for the robot's answer */
    double wait_s = 10;
    char *rest[64];
    int n_rest = 0;
    for (int i = 0; i < argc && n_rest < 63; i++) {
        if (force && !strcmp(argv[i], "--wait")) {
            char *end = NULL;
            if (i + 1 >= argc || (wait_s = strtod(argv[i + 1], &end), end == argv[i + 1]) ||
                *end || wait_s < 0 || wait_s > 3600)
                return cli_usage_error(cmd, "--wait: expected seconds from 0 to 3600, got '%s'",
                                       i + 1 < argc ? argv[i + 1] : "");
            i++;
            continue;
        }
        rest[n_rest++] = argv[i];
    }
    rest[n_rest] = NULL;
    cb_journal_t *j;
    int rc = cli_robot_journal(cmd, n_rest, rest, NULL, &pair, force ? 1 : 0, &j);
    if (rc != CLI_OK)
        return rc;
    cb_robot_liveness_t lv;
    int64_t now = cb_now_ms();
    if (cb_robot_liveness(j, now, &lv) != 0)
        memset(&lv, 0, sizeof lv);
    if (force) {
        if ((rc = check_pair(cmd, j, pair)) != CLI_OK) {
            cb_journal_close(j);
            return rc;
        }
        if (lv.alive == CB_ROBOT_NOT_RUNNING || lv.alive == CB_ROBOT_NEVER) {
            char age[32];
            cb_robot_age_format(lv.age_ms, age, sizeof age);
            cb_journal_close(j);
            return cli_error("no robot is running on this database (last heartbeat %s ago): "
                             "nothing was requested", age);
        }
    }
    if (cb_robot_control(j, (cb_robot_control_t)what, pair, now) != 0) {
        rc = cli_error("cannot leave the request in the journal: %s", cb_journal_errmsg(j));
        cb_journal_close(j);
        return rc;
    }
    const char *state = lv.alive == CB_ROBOT_RUNNING ? "the running robot applies it within a "
                                                       "second"
                        : lv.alive == CB_ROBOT_STALLED ? "the robot is stalled: it applies it "
                                                         "when its loop turns again"
                        : lv.alive == CB_ROBOT_NEVER   ? "no robot has run on this database yet"
                                                       : "no robot is running now: it applies "
                                                         "when one starts";
    printf("%s%s%s requested (%s)\n", cmd, pair ? " " : "", pair ? pair : "", state);
    if (force && wait_s > 0) {
        char ans[512];
        int got = 0;
        for (int64_t t0 = cb_monotonic_ns();
             (got = cb_robot_control_answer(j, (cb_robot_control_t)what, pair, ans,
                                            sizeof ans)) == 0 &&
             (double)(cb_monotonic_ns() - t0) < wait_s * 1e9;) {
            struct timespec ts = {0, 100 * 1000000L};
            nanosleep(&ts, NULL);
        }
        if (got == 1) {
            printf("%s %s: %s\n", cmd, pair, ans);
            rc = !strncmp(ans, "ok", 2) ? CLI_OK : CLI_FAIL;
        } else if (got == 0) {
            rc = cli_error("no answer from the robot within %g s: the request stays pending "
                           "(`comeback status` shows the robot's state)",
                           wait_s);
        } else {
            rc = cli_error("cannot read the answer: %s", cb_journal_errmsg(j));
        }
    }
    cb_journal_close(j);
    return rc;
}
