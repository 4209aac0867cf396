/* Fuzz target: the store loader on arbitrary bytes (the in-memory twin of cb_store_load,
 * which shares its header and payload checks). It must reject, never crash or leak. */
#include <stddef.h>
#include <stdint.h>

#include "comeback/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cb_series_t *s = NULL;
    cb_diag_t d;
    cb_diag_clear(&d);
    if (cb_store_load_buffer("fuzz.cbk", data, size, &s, &d) == 0) {
        /* A valid file: touch every candle, as a backtest would. */
        volatile double acc = 0;
        for (size_t i = 0; i < s->n; i++)
            acc += s->close[i] + (double)s->time_ms[i];
        (void)acc;
        cb_series_free(s);
    }
    return 0;
}
