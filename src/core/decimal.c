/* Fixed-point decimals: exact text <-> int64 at a given scale. */
#include "comeback/core.h"

#include <string.h>

int64_t cb_pow10_i64(int scale)
{
    int64_t v = 1;
    for (int i = 0; i < scale && i < 18; i++)
        v *= 10;
    return v;
}

int cb_dec_parse(const char *s, size_t len, int scale, int64_t *out)
{
    if (!s || scale < 0 || scale > 18)
        return CB_EINVAL;
    if (len == (size_t)-1)
        len = strlen(s);
    const char *p = s, *end = s + len;
    int neg = 0;
    if (p < end && (*p == '-' || *p == '+'))
        neg = *p++ == '-';
    uint64_t v = 0;
    int digits = 0, frac = 0, dot = 0;
    const uint64_t limit = (uint64_t)INT64_MAX;
    for (; p < end; p++) {
        if (*p == '.') {
            if (dot)
                return CB_EPARSE;
            dot = 1;
            continue;
        }
        if ((unsigned)(*p - '0') > 9)
            return CB_EPARSE;
        int dgt = *p - '0';
        digits++;
        if (dot) {
            if (frac >= scale) {
                if (dgt != 0)
                    return CB_ERANGE; /* more precision than the scale holds */
                continue;
            }
            frac++;
        }
        if (v > (limit - (uint64_t)dgt) / 10)
            return CB_ERANGE;
        v = v * 10 + (uint64_t)dgt;
    }
    if (digits == 0)
        return CB_EPARSE;
    for (; frac < scale; frac++) {
        if (v > limit / 10)
            return CB_ERANGE;
        v *= 10;
    }
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

size_t cb_dec_format_fixed(int64_t v, int scale, char *buf, size_t size)
{
    char tmp[48];
    size_t n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int i = 0;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
        i++;
        if (i == scale && scale > 0) {
            tmp[n++] = '.';
        }
    } while (u > 0 || i <= scale);
    if (tmp[n - 1] == '.')
        tmp[n++] = '0';
    if (v < 0)
        tmp[n++] = '-';
    size_t w = 0;
    for (size_t k = n; k > 0 && w + 1 < size; k--)
        buf[w++] = tmp[k - 1];
    if (size)
        buf[w] = '\0';
    return n;
}

size_t cb_dec_format(int64_t v, int scale, char *buf, size_t size)
{
    size_t n = cb_dec_format_fixed(v, scale, buf, size);
    if (scale > 0 && n < size) {
        while (n > 0 && buf[n - 1] == '0')
            n--;
        if (n > 0 && buf[n - 1] == '.')
            n--;
        buf[n] = '\0';
    }
    return n;
}
