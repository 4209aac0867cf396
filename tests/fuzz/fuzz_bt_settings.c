/* Fuzz target: arbitrary text as a strategy file whose [backtest] and [pairs] sections the
 * session reads (cb_backtest_setup_live: every setting, the timeframe check, from/to), with
 * the robot's candles of a timeframe picked by the input. Must not crash, leak or take long;
 * every failure must carry a diagnostic, and one located in the file must have a line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/backtest.h"
#include "comeback/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    cb_diags_t d = {0};
    d.max_keep = 4;
    cb_rules_file_t *f = NULL;
    int r = cb_rules_file_parse("dir/s.ini", (const char *)data, size, "/nonexistent", &f, &d);
    if (r == 0 && f) {
        static const char *const tfs[] = {"1h", "4h", "1d", "15m"};
        static const char *const pairs[] = {"BTC/USDT", "ETH/USDT"};
        static cb_backtest_t bt;
        cb_diag_t e;
        cb_diag_clear(&e);
        int rc = cb_backtest_setup_live(&bt, f, "dir/s.ini", NULL, pairs, 1 + size % 2,
                                        tfs[size % 4], &e);
        if (rc != 0) {
            if (!e.msg[0] || (e.file[0] && strcmp(e.file, "dir/s.ini") == 0 && e.line <= 0))
                abort();
        } else {
            cb_backtest_close(&bt);
        }
    }
    cb_rules_file_free(f);
    cb_diags_free(&d);
    return 0;
}
