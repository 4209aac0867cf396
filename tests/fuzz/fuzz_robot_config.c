/* Fuzz target: arbitrary text as a bot file: the strategy file reader, then the robot's
 * [exchange], [bot] and [risk] sections (cb_robot_config_load). Must not crash, leak or take
 * long; every failure must carry a diagnostic. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "comeback/robot.h"
#include "comeback/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    cb_diags_t d = {0};
    d.max_keep = 4;
    cb_rules_file_t *f = NULL;
    cb_rules_file_parse("dir/bot.ini", (const char *)data, size, "/nonexistent", &f, &d);
    if (f) {
        static cb_robot_config_t cfg;
        cb_diag_t e;
        cb_diag_clear(&e);
        if (cb_robot_config_load(f, "dir/bot.ini", size % 3 ? NULL : "live", &cfg, &e) != 0 &&
            !e.msg[0])
            abort();
    }
    cb_rules_file_free(f);
    cb_diags_free(&d);
    return 0;
}
