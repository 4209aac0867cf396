/* Fuzz target: arbitrary bytes as a part of a sharded sweep (comeback optimize merge reads
 * these from other machines). Parse; when it parses, write it back, parse that again (it must
 * round-trip), check it as a one-part sweep and read the configuration its sweep records.
 * Must not crash, leak or take long. */
/* open_memstream: POSIX 2008 (_GNU_SOURCE comes from the build) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/opt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    cb_opt_part_t p;
    cb_diag_t d;
    if (cb_opt_part_parse("fuzz.json", (const char *)data, size, &p, &d) != 0)
        return 0;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (m) {
        int w = cb_opt_part_write_json(m, &p);
        fclose(m);
        cb_opt_part_t q;
        if (w == 0) {
            if (cb_opt_part_parse("again.json", buf, len, &q, &d) != 0)
                abort(); /* what we write we must read */
            if (q.n_days != p.n_days || q.end != p.end || strcmp(q.sweep, p.sweep) != 0)
                abort();
            cb_opt_part_free(&q);
        }
        free(buf);
    }
    cb_opt_parts_check(&p, 1, &d);
    cb_opt_config_t cfg;
    cb_bt_settings_t st;
    char path[256];
    cb_opt_sweep_config("fuzz.json", p.sweep, &cfg, &st, path, sizeof path, &d);
    cb_opt_part_free(&p);
    return 0;
}
