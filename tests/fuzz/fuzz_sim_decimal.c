/* Fuzz target: the simulator's decimal request parameters (price, quantity, stopPrice,
 * quoteOrderQty, deposit amounts), checked against an independent reading of Binance's rules:
 * the first byte picks the scale (0..8), the rest is the parameter. An accepted value is
 * positive, fits at 8 decimals, and formats back to the same number. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 64)
        return 0;
    int scale = data[0] % 9;
    char v[64];
    memcpy(v, data + 1, size - 1);
    v[size - 1] = '\0';
    int64_t out = -1;
    int code = sim_dec_check(v, scale, &out);
    /* the syntax, read independently: digits, then optionally '.' and digits, 1..20 each */
    size_t len = strlen(v), dot = len, ok = len > 0;
    for (size_t i = 0; i < len; i++)
        if (v[i] == '.' && dot == len)
            dot = i;
        else if (v[i] < '0' || v[i] > '9')
            ok = 0;
    size_t frac = dot < len ? len - dot - 1 : 0;
    /* (the server sees a C string: what follows a NUL byte is not part of it) */
    ok = ok && dot >= 1 && dot <= 20 && (dot == len || (frac >= 1 && frac <= 20));
    if (!ok) {
        if (code != -1100)
            abort();
        return 0;
    }
    if (code == -1100)
        abort();
    if (code != 0) {
        if (code != -1111 && code != -1013 && code != -1130)
            abort();
        return 0;
    }
    if (out <= 0 || out > CB_FX_MAX / cb_pow10_i64(8 - scale))
        abort();
    char back[48];
    cb_dec_format(out, scale, back, sizeof back);
    int64_t again;
    if (sim_dec_check(back, scale, &again) != 0 || again != out)
        abort();
    return 0;
}
