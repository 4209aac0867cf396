/* Fuzz target: the core parsers of user text (dates, timeframes, decimals). */
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
