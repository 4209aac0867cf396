/* Fuzz target: the core parsers of user text (dates, timeframes, decimals), and cb_quote,
 * which shows any bytes in a message: its output is terminated, fits, and holds no control
 * byte. */
#include <stdint.h>
#include <string.h>

#include "comeback/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    int64_t v;
    char buf[64];
    if (cb_time_parse(s, size, &v) == 0)
        cb_time_format(v, buf, sizeof buf);
    for (int scale = 0; scale <= 18; scale += 6)
        if (cb_dec_parse(s, size, scale, &v) == 0)
            cb_dec_format(v, scale, buf, sizeof buf);
    char q[96];
    for (size_t max = 0; max <= 48; max += 16) {
        cb_quote(s, size, max, q, sizeof q);
        size_t n = strnlen(q, sizeof q);
        if (n == sizeof q)
            __builtin_trap();
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)q[i] < 0x20 || (unsigned char)q[i] == 0x7F)
                __builtin_trap();
    }
    if (size < sizeof buf) {
        memcpy(buf, s, size);
        buf[size] = '\0';
        cb_timeframe_t tf;
        if (cb_timeframe_parse(buf, &tf) == 0) {
            int64_t t = cb_timeframe_floor(&tf, INT64_C(1700000000000));
            (void)cb_timeframe_next(&tf, t);
        }
    }
    return 0;
}
