/* Fuzz target: arbitrary text as a whole strategy file: read, check, render diagnostics, and
 * when it is valid, compile it with a parameter override. Must not crash, leak or take long. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "comeback/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    cb_diags_t d = {0};
    d.max_keep = 16;
    cb_rules_file_t *f = NULL;
    int r = cb_rules_file_parse("fuzz.ini", (const char *)data, size, "/nonexistent", &f, &d);
    if (f) {
        char buf[2048];
        for (size_t i = 0; i < d.n; i++)
            cb_rules_render_diag(f, &d.items[i], buf, sizeof buf);
        const char *names[] = {"backtest", "pairs", "exchange", "bot", "risk"};
        for (int k = 0; k < 5; k++)
            (void)cb_rules_file_section(f, names[k]);
    }
    if (r == 0 && f && !cb_rules_file_plugin(f)) {
        size_t n = cb_rules_file_n_params(f);
        double *v = calloc(n ? n : 1, sizeof *v);
        if (v) {
            cb_rules_params_default(f, v);
            if (n) {
                cb_diag_t e;
                char set[128];
                snprintf(set, sizeof set, "%s=7", cb_rules_file_param(f, 0)->name);
                cb_rules_params_set(f, v, set, &e);
            }
            cb_rules_program_t *p = NULL;
            if (cb_rules_compile(f, v, &p, &d) == 0)
                cb_rules_program_free(p);
            free(v);
        }
    }
    cb_rules_file_free(f);
    cb_diags_free(&d);
    return 0;
}
