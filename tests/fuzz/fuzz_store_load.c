/* Fuzz target: the store loader on arbitrary bytes (the in-memory twin of cb_store_load,
 * which shares its header and payload checks). It must reject, never crash or leak.
 * Random bytes almost never carry valid checksums, so each input is tried twice: as given,
 * and with its magic, version and both checksums repaired, which lets the fuzzer reach the
 * size, layout, string and span checks behind them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/data.h"
#include "data/store_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void try_load(const uint8_t *buf, size_t size)
{
    cb_series_t *s = NULL;
    cb_diag_t d;
    cb_diag_clear(&d);
    if (cb_store_load_buffer("fuzz.cbk", buf, size, &s, &d) == 0) {
        /* A valid file: touch every candle, as a backtest would. */
        volatile double acc = 0;
        for (size_t i = 0; i < s->n; i++)
            acc += s->close[i] + (double)s->time_ms[i];
        (void)acc;
        cb_series_free(s);
    }
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    try_load(data, size);
    if (size < CB_STORE_HEADER_SIZE)
        return 0;
    uint8_t *b = malloc(size);
    if (!b)
        return 0;
    memcpy(b, data, size);
    memcpy(b, CB_STORE_MAGIC, 8);
    b[CBK_OFF_VERSION] = 1, b[CBK_OFF_VERSION + 1] = 0, b[CBK_OFF_VERSION + 2] = 0;
    b[CBK_OFF_VERSION + 3] = 0;
    cbh64_t h;
    size_t payload_words = (size - CB_STORE_HEADER_SIZE) / 8;
    cbh64_init(&h);
    cbh64_update(&h, b + CB_STORE_HEADER_SIZE, payload_words);
    put64(b + CBK_OFF_PAYLOAD_HASH, cbh64_final(&h));
    cbh64_init(&h);
    cbh64_update(&h, b, CBK_OFF_HEADER_HASH / 8);
    put64(b + CBK_OFF_HEADER_HASH, cbh64_final(&h));
    try_load(b, size);
    free(b);
    return 0;
}
