/* Fuzz target: Binance error message parser. */
#include "fuzz_binance_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *b = (const char *)data;
    cb_diag_t d;
    (void)fuzz_pairs;
    int code;
    char msg[128];
    int64_t t;
    cb_book_ticker_t bt;
    (void)cb_bn_parse_error(b, size, &code, msg, sizeof msg);
    (void)cb_bn_parse_server_time(b, size, &t, &d);
    (void)cb_bn_parse_book_ticker(b, size, fuzz_pairs, 2, &bt, &d);
    return 0;
}
