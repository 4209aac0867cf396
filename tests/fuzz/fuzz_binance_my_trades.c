/* Fuzz target: Binance my_trades message parser. */
#include "fuzz_binance_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *b = (const char *)data;
    cb_diag_t d;
    (void)fuzz_pairs;
    cb_ex_fill_t *f = NULL;
    size_t n = 0;
    if (cb_bn_parse_my_trades(b, size, fuzz_pairs, 2, &f, &n, &d) == 0)
        free(f);
    return 0;
}
