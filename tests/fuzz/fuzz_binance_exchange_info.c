/* Fuzz target: Binance exchange_info message parser. */
#include "fuzz_binance_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *b = (const char *)data;
    cb_diag_t d;
    (void)fuzz_pairs;
    cb_pair_info_t *p = NULL;
    size_t n = 0;
    if (cb_bn_parse_exchange_info(b, size, &p, &n, &d) == 0)
        free(p);
    return 0;
}
