/* `comeback`: the command line over libcomeback. Dispatches to one file per subcommand. */
#include <errno.h>
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

/* The reason of the first failed write to stdout, noted when a command asks (glibc drops the
 * buffered bytes of a failed write, so the final flush may succeed and errno be gone). */
static int stdout_errno;

int cli_stdout_failed(void)
{
    if (!ferror(stdout))
        return 0;
    if (!stdout_errno)
        stdout_errno = errno ? errno : EIO;
    return 1;
}

/* Every command ends here: whatever it printed must have reached stdout, or the exit status
 * says otherwise (a full disk, /dev/full, a closed descriptor). The reason is the final
 * flush's errno, else the one noted by cli_stdout_failed, else EIO. */
static int finish_output(int rc)
{
    cli_stdout_failed();
    errno = 0;
    int bad = fflush(stdout) != 0 || ferror(stdout);
    int e = errno ? errno : stdout_errno ? stdout_errno : EIO;
    if (fclose(stdout) != 0 && !bad) {
        bad = 1;
        e = errno ? errno : EIO;
    }
    if (bad) {
        fprintf(stderr, "comeback: writing standard output: %s\n", strerror(e));
        if (rc == CLI_OK)
            rc = CLI_FAIL;
    }
    if ((fflush(stderr) != 0 || ferror(stderr)) && rc == CLI_OK)
        rc = CLI_FAIL;
    return rc;
}

/* Levenshtein distance of two short words (dashes and underscores are the same letter);
 * words longer than 63 bytes count as far apart. */
int cli_edit_distance(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    if (na > 63 || nb > 63)
        return 64;
    int row[64];
    for (size_t j = 0; j <= nb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= na; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= nb; j++) {
            char x = a[i - 1] == '_' ? '-' : a[i - 1], y = b[j - 1] == '_' ? '-' : b[j - 1];
            int best = diag + (x != y);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = row[j];
            row[j] = best;
        }
    }
    return row[nb];
}

const char *cli_closest(const char *typed, const char *const *names, size_t n)
{
    const char *best = NULL;
    int best_d = 0;
    size_t len = strlen(typed);
    for (size_t k = 0; k < n; k++) {
        if (!names[k])
            continue;
        int d = cli_edit_distance(typed, names[k]);
        if (!best || d < best_d) {
            best = names[k];
            best_d = d;
        }
    }
    /* Close enough to be a typo: a third of the word, at least one edit, at most three. */
    int limit = (int)(len / 3);
    if (limit < 1)
        limit = 1;
    if (limit > 3)
        limit = 3;
    return best && best_d <= limit ? best : NULL;
}

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

int cli_unknown_option(const char *cmd, const char *arg)
{
    /* The options are the "--word" tokens of the command's help text (its first word:
     * "data check" is documented in help_data). */
    char first[32];
    size_t fl = strcspn(cmd, " ");
    snprintf(first, sizeof first, "%.*s", (int)(fl < sizeof first ? fl : sizeof first - 1), cmd);
    const cli_command_t *c = find_command(first);
    enum { MAX_OPTS = 128 };
    char opts[MAX_OPTS][40];
    const char *names[MAX_OPTS];
    size_t n = 0;
    char typed[40];
    size_t tl = strcspn(arg, "=");
    snprintf(typed, sizeof typed, "%.*s", (int)(tl < sizeof typed ? tl : sizeof typed - 1), arg);
    for (const char *p = c ? c->help : ""; (p = strstr(p, "--")) != NULL && n < MAX_OPTS;) {
        size_t len = 2;
        while ((p[len] >= 'a' && p[len] <= 'z') || (p[len] >= '0' && p[len] <= '9') ||
               (p[len] == '-' && p[len + 1] != '-'))
            len++;
        if (len > 2 && len < sizeof opts[0]) {
            snprintf(opts[n], sizeof opts[n], "%.*s", (int)len, p);
            names[n] = opts[n];
            n++;
        }
        p += len;
    }
    const char *near = strncmp(typed, "--", 2) == 0 ? cli_closest(typed, names, n) : NULL;
    if (near && strcmp(near, typed) != 0)
        return cli_usage_error(cmd, "unknown option '%s' (did you mean '%s'?)", arg, near);
    return cli_usage_error(cmd, "unknown option '%s'", arg);
}

int cli_unknown_word(const char *cmd, const char *what, const char *typed,
                     const char *const *names, size_t n)
{
    const char *near = cli_closest(typed, names, n);
    char list[512] = "";
    for (size_t k = 0; k < n; k++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", k ? ", " : "",
                 names[k]);
    if (near)
        return cli_usage_error(cmd, "unknown %s '%s' (did you mean '%s'? expected one of: %s)",
                               what, typed, near, list);
    return cli_usage_error(cmd, "unknown %s '%s' (expected one of: %s)", what, typed, list);
}

/* "comeback: unknown command 'bactest' (did you mean 'backtest'?)" */
static void unknown_command(const char *name)
{
    const char *names[64];
    char shown[64][32];
    size_t n = cli_n_commands < 64 ? cli_n_commands : 64;
    for (size_t i = 0; i < n; i++) {
        snprintf(shown[i], sizeof shown[i], "%s", cli_commands[i].name);
        for (char *p = shown[i]; *p; p++)
            if (*p == '_')
                *p = '-';
        names[i] = shown[i];
    }
    const char *near = cli_closest(name, names, n);
    if (near)
        fprintf(stderr, "comeback: unknown command '%s' (did you mean '%s'?)\n\n", name, near);
    else
        fprintf(stderr, "comeback: unknown command '%s'\n\n", name);
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
        unknown_command(argv[1]);
        print_overview(stderr);
        return CLI_USAGE;
    }
    print_command_help(c, stdout);
    return CLI_OK;
}

static int run(int argc, char **argv)
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
        unknown_command(name);
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

int main(int argc, char **argv) { return finish_output(run(argc, argv)); }
