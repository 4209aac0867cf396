/* Checked fixed-point money: the parts of core.h's helpers that are not inline. */
#include <math.h>
#include <stdio.h>

#include "comeback/core.h"

int cb_fx_from_double_checked(double x, int64_t *out)
{
    /* 2^63 is exactly representable; every double below it in magnitude fits in int64 */
    double v = x * (double)CB_FX_ONE;
    if (!(v > -9223372036854775808.0 && v < 9223372036854775808.0))
        return CB_ERANGE;
    v = v >= 0 ? v + 0.5 : v - 0.5;
    if (!(v > -9223372036854775808.0 && v < 9223372036854775808.0))
        return CB_ERANGE;
    *out = (int64_t)v;
    return 0;
}

/* "1.2e11", "9.22e10", "-3e-09" -> "-3e-9": %.3g without the exponent's '+' and zeros. */
static void short_g(double v, char *buf, size_t size)
{
    char tmp[48];
    snprintf(tmp, sizeof tmp, "%.3g", v);
    size_t w = 0;
    for (size_t i = 0; tmp[i] && w + 1 < size; i++) {
        buf[w++] = tmp[i];
        if (tmp[i] == 'e') {
            i++;
            if (tmp[i] == '-')
                buf[w++] = '-';
            else if (tmp[i] != '+')
                i--;
            while (tmp[i + 1] == '0' && tmp[i + 2])
                i++;
        }
    }
    buf[w] = '\0';
}

int cb_fx_range_diag(cb_diag_t *d, const char *field, const char *what, double value,
                     const char *unit)
{
    const char *u = unit ? unit : "";
    const char *sp = *u ? " " : "";
    char a[48], b[48];
    short_g(value, a, sizeof a);
    short_g(CB_FX_MAX_D, b, sizeof b);
    return cb_diag_set(d, CB_ERANGE, NULL, 0, 0, field,
                       "%s %s%s%s exceeds the largest representable amount %s%s%s (amounts are "
                       "fixed point at 1e-8; see Limits in docs/backtest.md)",
                       what ? what : "value", a, sp, u, b, sp, u);
}
