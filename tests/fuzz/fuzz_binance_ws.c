/* Fuzz target: Binance ws message parser. */
#include "fuzz_binance_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *b = (const char *)data;
    cb_diag_t d;
    (void)fuzz_pairs;
    cb_stream_event_t ev;
    (void)cb_bn_parse_ws(b, size, fuzz_pairs, 2, &ev, &d);
    return 0;
}
