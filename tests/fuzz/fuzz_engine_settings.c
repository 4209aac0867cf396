/* Fuzz target: the engine's parsers of user settings (stake, money, rates, [pairs] values).
 * Whatever the text, they must return 0 or an error code, never crash or overrun, and a parsed
 * stake must format and parse back to the same stake. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256)
        return 0;
    char s[257];
    memcpy(s, data, size);
    s[size] = 0;
    cb_stake_t st, back;
    cb_diag_t d;
    if (cb_stake_parse(s, "USDT", &st, &d) == 0) {
        char buf[96];
        cb_stake_format(&st, "USDT", buf, sizeof buf);
        if (cb_stake_parse(buf, "USDT", &back, &d) != 0 || back.kind != st.kind ||
            back.amount != st.amount || back.fraction != st.fraction)
            abort();
    }
    int64_t v;
    char cur[16];
    (void)cb_money_parse(s, &v, cur, sizeof cur);
    if (cb_rate_parse(s, &v) == 0 && (v < 0 || v > CB_FX_ONE))
        abort();
    cb_instrument_t ins;
    cb_instrument_default(&ins, s);
    if (cb_instrument_parse(&ins, s, &d) == 0 && (ins.tick <= 0 || ins.step <= 0))
        abort();
    return 0;
}
