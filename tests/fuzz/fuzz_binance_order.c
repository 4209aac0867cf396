/* Fuzz target: Binance order message parser. */
#include "fuzz_binance_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *b = (const char *)data;
    cb_diag_t d;
    (void)fuzz_pairs;
    cb_ex_order_t o;
    cb_ex_fill_t *f = NULL;
    size_t nf = 0;
    if (cb_bn_parse_order(b, size, fuzz_pairs, 2, &o, &f, &nf, &d) == 0)
        free(f);
    cb_ex_order_t *os = NULL;
    size_t no = 0;
    if (cb_bn_parse_orders(b, size, fuzz_pairs, 2, &os, &no, &d) == 0)
        free(os);
    return 0;
}
