/* Shared helpers of the `comeback` program (not part of the library). */
#ifndef COMEBACK_CLI_H
#define COMEBACK_CLI_H

#include <stdio.h>

#include "comeback/core.h"

#define CB_CMD(name, summary)                                                                \
    int cmd_##name(int argc, char **argv);                                                   \
    extern const char help_##name[];
#include "cli/commands.def"
#undef CB_CMD

typedef struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
    const char *help;
} cli_command_t;

extern const cli_command_t cli_commands[];
extern const size_t cli_n_commands;

/* Exit codes of every command. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* Prints "comeback: <diagnostic>" to stderr. Returns CLI_FAIL. */
int cli_print_diag(const cb_diag_t *d);
/* Prints "comeback <cmd>: <message>" to stderr and returns CLI_USAGE (bad command line). */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "comeback: <message>" to stderr and returns CLI_FAIL. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Option helpers: matches "--name VALUE" or "--name=VALUE" at argv[*i]; advances *i.
 * Returns 1 and sets *value when matched, 0 when argv[*i] is another argument, -1 when the
 * value is missing (an error was printed). */
int cli_opt(int argc, char **argv, int *i, const char *name, const char **value);
/* The indicator table as `comeback help ta` prints it (cmd_ta.c). */
void cli_ta_help_table(FILE *out);

/* Loads a strategy file, printing its warnings and errors (with the source line and a caret)
 * to stderr. Returns CLI_OK with *out set, or CLI_FAIL (*out is NULL). */
typedef struct cb_rules_file cb_rules_file_t;
int cli_load_strategy(const char *path, cb_rules_file_t **out);

/* Matches a backtest setting option at argv[*i] (--data, --pair, --from, --to, --fee,
 * --maker-fee, --slippage, --stake, --start-balance, --max-open-trades: the [backtest] keys)
 * and stores its value in st. Returns 1 when matched, 0 when not, -1 when the value is
 * missing (an error was printed). */
typedef struct cb_bt_settings cb_bt_settings_t;
int cli_bt_setting(int argc, char **argv, int *i, cb_bt_settings_t *st);

/* The robot commands (status, orders, trades, pause, resume, stop, forceexit) find the robot's
 * journal from `--db FILE` or a BOT.ini argument (the first positional argument ending in
 * ".ini"); --json is accepted when json is non-NULL; other positional arguments fill args[]
 * (exactly n_args of them). Opens the journal. Returns CLI_OK with *j set, or CLI_FAIL /
 * CLI_USAGE after printing the problem. */
typedef struct cb_journal cb_journal_t;
int cli_robot_journal(const char *cmd, int argc, char **argv, int *json, const char **args,
                      int n_args, cb_journal_t **j);
/* orders / trades: opens the journal (as above, with --json), prints `header` (text mode) and
 * calls walk, which prints one line per row or appends one object per row to the JSON array
 * `arr` (NULL in text mode); then prints the array. */
typedef int (*cli_robot_walk_fn)(cb_journal_t *j, void *arr);
int cli_robot_list(const char *cmd, int argc, char **argv, const char *header,
                   cli_robot_walk_fn walk);
/* pause / resume / stop / forceexit: leaves the request in the journal and says so. */
int cli_robot_control(const char *cmd, int argc, char **argv, int what);

/* A file the user named (--json, --html, --output, ...), written through cb_file_atomic_*:
 * cli_file_open prints the problem and returns CLI_FAIL, or CLI_OK with a->f open;
 * cli_file_close commits the file when write_rc is 0 and no write failed, else discards it
 * (the previous file stays); it prints "PATH: cannot write the <what>: <reason> ..." and
 * returns CLI_FAIL, or CLI_OK. */
int cli_file_open(cb_file_atomic_t *a, const char *path);
int cli_file_close(cb_file_atomic_t *a, int write_rc, const char *what);

/* 1 when stdout is a terminal (colour and progress bars only then). */
int cli_stdout_is_tty(void);
/* 1 once a write to stdout has failed (a full disk, /dev/full): loops that print many rows
 * stop early. main() checks the final flush and close of stdout after every command and turns
 * a failure into exit status 1 with "comeback: writing standard output: <reason>". */
int cli_stdout_failed(void);

/* "Did you mean": the edit distance of two words ('-' and '_' alike), and the name of names[]
 * closest to typed when it is close enough to be a typo (else NULL). */
int cli_edit_distance(const char *a, const char *b);
const char *cli_closest(const char *typed, const char *const *names, size_t n);
/* Usage errors with a suggestion: an option not in the command's help text ("--josn": did
 * you mean '--json'?), and a word not in a list (a subcommand). Both return CLI_USAGE. */
int cli_unknown_option(const char *cmd, const char *arg);
int cli_unknown_word(const char *cmd, const char *what, const char *typed,
                     const char *const *names, size_t n);

#endif
