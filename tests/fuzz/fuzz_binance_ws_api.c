/* Fuzz target: Binance WebSocket API response parser ({"id","status","result"|"error"}). */
#include "fuzz_binance_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cb_diag_t d;
    int st, code;
    int64_t sub;
    char msg[64], id[16];
    (void)fuzz_pairs;
    cb_bn_parse_ws_api_response((const char *)data, size, &st, &code, msg, sizeof msg, &sub, id,
                                sizeof id, &d);
    return 0;
}
