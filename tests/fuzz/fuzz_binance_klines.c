/* Fuzz target: Binance klines message parser. */
#include "fuzz_binance_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *b = (const char *)data;
    cb_diag_t d;
    (void)fuzz_pairs;
    cb_ex_candle_t *c = NULL;
    size_t n = 0;
    if (cb_bn_parse_klines(b, size, 1700000000000, &c, &n, &d) == 0)
        free(c);
    return 0;
}
