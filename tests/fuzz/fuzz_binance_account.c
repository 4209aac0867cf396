/* Fuzz target: Binance account message parser. */
#include "fuzz_binance_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *b = (const char *)data;
    cb_diag_t d;
    (void)fuzz_pairs;
    cb_ex_balance_t *bal = NULL;
    size_t n = 0;
    if (cb_bn_parse_account(b, size, &bal, &n, &d) == 0)
        free(bal);
    cb_ex_account_t acc;
    (void)cb_bn_parse_account_flags(b, size, &acc, &d);
    return 0;
}
