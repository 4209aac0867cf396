/* Loading a strategy file for a command, with its diagnostics rendered compiler-style. */
#include <stdio.h>

#include "cli/cli.h"
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
    cb_diags_free(&diags);
    if (rc) {
        if (!*out)
            cli_error("%s: %s", path, cb_strerror(rc));
        cb_rules_file_free(*out);
        *out = NULL;
        return CLI_FAIL;
    }
    return CLI_OK;
}
