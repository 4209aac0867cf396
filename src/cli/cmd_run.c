/* `comeback run BOT.ini`: the trading robot, in paper or live mode. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "comeback/engine.h"
#include "comeback/robot.h"
#include "comeback/rules.h"

const char help_run[] =
    "usage: comeback run BOT.ini [--mode paper|live] [--dry-run-balance \"1000 USDT\"] [--yes]\n"
    "\n"
    "Runs the strategy of BOT.ini around the clock: loads history for the warm-up, follows\n"
    "closed candles from the exchange's market stream and trades them through the same engine\n"
    "as backtests. BOT.ini is a strategy file plus [exchange] (name, api_url, ws_url,\n"
    "key_file), [bot] (mode, name, pairs, timeframe, history, db, log) and [risk]. Paper mode\n"
    "fills orders locally with the backtester's fill model and journals them in its own\n"
    "database; nothing is sent to the exchange. Every entry passes the risk controls first.\n"
    "Logs go to stderr (and as JSON lines to [bot] log). SIGTERM or Ctrl-C: no new entries,\n"
    "state persisted, exit 0. A robot killed outright resumes its positions when restarted.\n"
    "As a service: the systemd unit comeback@NAME runs /etc/comeback/NAME.ini (docs/run.md).\n"
    "See docs/robot.md.\n"
    "\n"
    "options:\n"
    "  --mode paper|live          overrides [bot] mode (default paper)\n"
    "  --dry-run-balance AMOUNT   the paper account's start balance (default [backtest]\n"
    "                             start_balance); used when the paper database is new\n"
    "  --yes                      live mode: do not ask for confirmation\n"
    "\n"
    "Exit status: 0 after a clean stop, 1 on errors, 2 on a bad command line.\n";

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void log_line(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "%s\n", line);
}

int cmd_run(int argc, char **argv)
{
    const char *ini = NULL, *mode = NULL, *balance = NULL, *v;
    int yes = 0, r;
    for (int i = 1; i < argc; i++) {
        if ((r = cli_opt(argc, argv, &i, "--mode", &v)) != 0) {
            if (r < 0)
                return CLI_USAGE;
            if (strcmp(v, "paper") && strcmp(v, "live"))
                return cli_usage_error("run", "--mode: expected paper or live, got '%s'", v);
            mode = v;
            continue;
        }
        if ((r = cli_opt(argc, argv, &i, "--dry-run-balance", &v)) != 0) {
            if (r < 0)
                return CLI_USAGE;
            balance = v;
            continue;
        }
        if (!strcmp(argv[i], "--yes")) {
            yes = 1;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1])
            return cli_unknown_option("run", argv[i]);
        if (ini)
            return cli_usage_error("run", "unexpected argument '%s'", argv[i]);
        ini = argv[i];
    }
    if (!ini)
        return cli_usage_error("run", "missing BOT.ini");
    cb_robot_opts_t opts;
    memset(&opts, 0, sizeof opts);
    char currency[16] = "";
    if (balance) {
        if (cb_money_parse(balance, &opts.paper_balance, currency, sizeof currency) ||
            opts.paper_balance <= 0)
            return cli_usage_error("run",
                                   "--dry-run-balance: expected an amount such as \"1000 USDT\", "
                                   "got '%s'",
                                   balance);
        opts.paper_currency = currency;
    }
    cb_rules_file_t *file;
    if (cli_load_strategy(ini, &file) != CLI_OK)
        return CLI_FAIL;
    cb_robot_config_t cfg;
    cb_diag_t d;
    cb_diag_clear(&d);
    if (cb_robot_config_load(file, ini, mode, &cfg, &d) != 0) {
        cb_rules_file_free(file);
        return cli_print_diag(&d);
    }
    if (cfg.mode == CB_ROBOT_LIVE && balance) {
        cb_rules_file_free(file);
        return cli_usage_error("run", "--dry-run-balance is for paper mode only");
    }
    if (cfg.mode == CB_ROBOT_LIVE && !yes) {
        if (!isatty(0)) {
            cb_rules_file_free(file);
            return cli_error("live mode trades real money: confirm on a terminal or pass --yes");
        }
        fprintf(stderr, "Live mode: '%s' will trade real money on %s. Type yes to go on: ",
                cfg.name, cfg.exchange);
        char answer[16] = "";
        if (!fgets(answer, sizeof answer, stdin) || strcmp(answer, "yes\n") != 0) {
            cb_rules_file_free(file);
            return cli_error("not confirmed: nothing was done");
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    opts.stop = &stop_flag;
    opts.log = log_line;
    cb_robot_t *robot;
    int rc = cb_robot_new(file, &cfg, &opts, &robot, &d);
    if (rc == 0) {
        rc = cb_robot_run(robot, &d);
        cb_robot_free(robot);
    }
    cb_rules_file_free(file);
    if (rc)
        return cli_print_diag(&d);
    return CLI_OK;
}
