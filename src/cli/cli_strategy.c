/* Loading a strategy file for a command, with its diagnostics rendered compiler-style. */
#include <stdio.h>

#include "cli/cli.h"
#include "comeback/backtest.h"
#include "comeback/rules.h"

int cli_load_strategy(const char *path, cb_rules_file_t **out)
{
    cb_diags_t diags = {0};
    *out = NULL;
    int rc = cb_rules_file_load(path, out, &diags);
    char buf[2048];
    for (size_t k = 0; k < diags.n; k++) {
        cb_rules_render_diag(*out, &diags.items[k], buf, sizeof buf);
        fputs(buf, stderr);
    }
    size_t said = diags.total;
    cb_diags_free(&diags);
    if (rc) {
        /* The diagnostics above say what was wrong; a bare code only when there were none. */
        if (!said)
            cli_error("%s: %s", path, cb_strerror(rc));
        cb_rules_file_free(*out);
        *out = NULL;
        return CLI_FAIL;
    }
    return CLI_OK;
}

int cli_bt_setting(int argc, char **argv, int *i, cb_bt_settings_t *st)
{
    /* The options are the [backtest] keys of the one table, with dashes: --start-balance. */
#define CB_BT_OPT_(field, key)                                                               \
    {                                                                                        \
        char name[48] = "--";                                                                \
        size_t k = 2;                                                                        \
        for (const char *c = key; *c && k + 1 < sizeof name; c++)                            \
            name[k++] = *c == '_' ? '-' : *c;                                                \
        name[k] = '\0';                                                                      \
        const char *v;                                                                       \
        int r = cli_opt(argc, argv, i, name, &v);                                            \
        if (r < 0)                                                                           \
            return -1;                                                                       \
        if (r > 0) {                                                                         \
            snprintf(st->field, sizeof st->field, "%s", v);                                  \
            return 1;                                                                        \
        }                                                                                    \
    }
    CB_BT_SETTINGS_MAP(CB_BT_OPT_)
#undef CB_BT_OPT_
    return 0;
}
