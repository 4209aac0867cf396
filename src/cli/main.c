/* `comeback`: the command line over libcomeback. Dispatches to one file per subcommand. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

const cli_command_t cli_commands[] = {
#define CB_CMD(name, summary) {#name, cmd_##name, summary, help_##name},
#include "cli/commands.def"
#undef CB_CMD
};
const size_t cli_n_commands = sizeof cli_commands / sizeof cli_commands[0];

int cli_print_diag(const cb_diag_t *d)
{
    char buf[1024];
    cb_diag_format(d, buf, sizeof buf);
    fprintf(stderr, "comeback: %s\n", buf);
    return CLI_FAIL;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "comeback %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see 'comeback help %s')\n", cmd);
    va_end(ap);
    return CLI_USAGE;
}

int cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "comeback: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return CLI_FAIL;
}

int cli_opt(int argc, char **argv, int *i, const char *name, const char **value)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "comeback: option %s needs a value\n", name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

int cli_stdout_is_tty(void) { return isatty(STDOUT_FILENO); }

/* Table names are C identifiers (exchange_sim); users type them with dashes (exchange-sim). */
static int same_command(const char *table, const char *typed)
{
    for (; *table && *typed; table++, typed++)
        if (*table != *typed && !(*table == '_' && *typed == '-'))
            return 0;
    return *table == *typed;
}

static const cli_command_t *find_command(const char *name)
{
    for (size_t i = 0; i < cli_n_commands; i++)
        if (same_command(cli_commands[i].name, name))
            return &cli_commands[i];
    return NULL;
}

/* Where the docs are: PREFIX/share/doc/comeback/docs beside an installed program (found from
 * the program's own path, so any prefix or DESTDIR works), else the source tree's docs/. */
static const char *docs_dir(char *buf, size_t size)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    struct stat st;
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            int w = snprintf(buf, size, "%s/../share/doc/comeback/docs", exe);
            if (w > 0 && (size_t)w < size && stat(buf, &st) == 0 && S_ISDIR(st.st_mode)) {
                slash = strrchr(exe, '/'); /* PREFIX/bin -> PREFIX */
                if (slash && strcmp(slash, "/bin") == 0) {
                    *slash = '\0';
                    snprintf(buf, size, "%s/share/doc/comeback/docs", exe);
                }
                return buf;
            }
        }
    }
    return "docs/";
}

static void print_overview(FILE *out)
{
    fprintf(out,
            "comeback %s - an open, measurable crypto trading robot\n\n"
            "usage: comeback <command> [options]\n       comeback help <command>\n"
            "       comeback --version\n\ncommands:\n",
            cb_version());
    for (size_t i = 0; i < cli_n_commands; i++) {
        char shown[32];
        snprintf(shown, sizeof shown, "%s", cli_commands[i].name);
        for (char *p = shown; *p; p++)
            if (*p == '_')
                *p = '-';
        fprintf(out, "  %-14s %s\n", shown, cli_commands[i].summary);
    }
    char docs[PATH_MAX + 64];
    fprintf(out, "\nSeries arguments accept a store name (binance:BTC/USDT:1h) or a file.\n"
                 "Documentation: %s (one page per command).\n",
            docs_dir(docs, sizeof docs));
}

/* A command's help; `ta` adds the indicator table, which lives in the library. */
static void print_command_help(const cli_command_t *c, FILE *out)
{
    fputs(c->help, out);
    if (!strcmp(c->name, "ta"))
        cli_ta_help_table(out);
}

const char help_help[] =
    "usage: comeback help [COMMAND]\n"
    "\n"
    "Without COMMAND, lists every command. With COMMAND, shows its usage and options.\n";

int cmd_help(int argc, char **argv)
{
    if (argc < 2) {
        print_overview(stdout);
        return CLI_OK;
    }
    const cli_command_t *c = find_command(argv[1]);
    if (!c) {
        fprintf(stderr, "comeback: unknown command '%s'\n", argv[1]);
        print_overview(stderr);
        return CLI_USAGE;
    }
    print_command_help(c, stdout);
    return CLI_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_overview(stderr);
        return CLI_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--version") || !strcmp(name, "version")) {
        printf("comeback %s (commit %s)\n", cb_version(), cb_build_commit());
        return CLI_OK;
    }
    if (!strcmp(name, "--help") || !strcmp(name, "-h"))
        return cmd_help(1, argv + 1);
    const cli_command_t *c = find_command(name);
    if (!c) {
        fprintf(stderr, "comeback: unknown command '%s'\n\n", name);
        print_overview(stderr);
        return CLI_USAGE;
    }
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            print_command_help(c, stdout);
            return CLI_OK;
        }
    return c->run(argc - 1, argv + 1);
}
