/* Fuzz target: arbitrary text as the entry rule (a second line, if any, as the exit rule) of a
 * strategy with parameters; parse, compile, instantiate and evaluate a few bars. Must not
 * crash, leak or take long. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) /* room for rules deep enough to overflow a recursive compiler */
        return 0;
    static const char head[] = "[strategy]\ntimeframe = 1h\nentry = ";
    static const char tail[] = "\n[params]\nfast = 3 [2..10]\nslow = 5\n";
    char *text = malloc(sizeof head + size + sizeof tail + 8);
    if (!text)
        return 0;
    size_t n = 0;
    memcpy(text, head, sizeof head - 1);
    n += sizeof head - 1;
    for (size_t i = 0; i < size; i++) {
        /* the first newline starts the exit rule */
        if (data[i] == '\n' && !memchr(data, '\n', i)) {
            memcpy(text + n, "\nexit = ", 8);
            n += 8;
            continue;
        }
        text[n++] = (char)data[i];
    }
    memcpy(text + n, tail, sizeof tail - 1);
    n += sizeof tail - 1;
    cb_diags_t d = {0};
    d.max_keep = 8;
    cb_rules_file_t *f = NULL;
    int r = cb_rules_file_parse("fuzz.ini", text, n, NULL, &f, &d);
    if (f) {
        char buf[2048];
        for (size_t i = 0; i < d.n; i++)
            cb_rules_render_diag(f, &d.items[i], buf, sizeof buf);
    }
    if (r == 0 && f) {
        cb_rules_program_t *p = NULL;
        if (cb_rules_compile(f, NULL, &p, &d) == 0) {
            cb_rules_instance_t *inst = NULL;
            cb_diag_t e;
            if (cb_rules_instance_new(p, 0, &inst, &e) == 0) {
                cb_position_view_t pos = {1, 3, 100.0, 1.0, 0.02};
                for (int i = 0; i < 50; i++) {
                    double c = 100 + 10 * sin(i * 0.7);
                    int en, ex;
                    cb_rules_instance_step(inst, (int64_t)i * 3600000, c - 1, c + 2, c - 2, c,
                                           10 + i, (i & 1) ? &pos : NULL, &en, &ex);
                }
                cb_rules_instance_free(inst);
            }
            cb_rules_program_free(p);
        }
    }
    cb_rules_file_free(f);
    cb_diags_free(&d);
    free(text);
    return 0;
}
