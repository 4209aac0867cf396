/* Fuzz target: Binance order list (OCO) message parser. */
#include "fuzz_binance_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cb_diag_t d;
    cb_ex_oco_t o;
    cb_bn_parse_order_list((const char *)data, size, fuzz_pairs, 2, &o, &d);
    return 0;
}
