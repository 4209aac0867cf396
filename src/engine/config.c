/* Parsing of the engine's user-facing settings: stakes and money amounts. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "comeback/engine.h"

static void trim(const char **s, size_t *n)
{
    while (*n && isspace((unsigned char)**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

int cb_money_parse(const char *s, int64_t *amount, char *currency, size_t currency_size)
{
    size_t n = strlen(s);
    trim(&s, &n);
    size_t k = 0;
    while (k < n && (isdigit((unsigned char)s[k]) || s[k] == '.' || s[k] == '-' || s[k] == '+'))
        k++;
    if (k == 0)
        return CB_EPARSE;
    const char *cur = s + k;
    size_t cn = n - k;
    trim(&cur, &cn);
    for (size_t j = 0; j < cn; j++)
        if (!isalnum((unsigned char)cur[j]))
            return CB_EPARSE;
    int rc = cb_dec_parse(s, k, CB_FX_SCALE, amount);
    if (rc)
        return rc;
    if (currency && currency_size)
        snprintf(currency, currency_size, "%.*s", (int)cn, cur);
    return 0;
}

int cb_stake_parse(const char *s, const char *quote, cb_stake_t *out, cb_diag_t *diag)
{
    memset(out, 0, sizeof *out);
    size_t n = strlen(s);
    const char *p = s;
    trim(&p, &n);
    if (n == 3 && !strncmp(p, "all", 3)) {
        out->kind = CB_STAKE_ALL;
        return 0;
    }
    if (n && p[n - 1] == '%') {
        int64_t v;
        size_t m = n - 1;
        const char *q = p;
        trim(&q, &m);
        if (cb_dec_parse(q, m, CB_FX_SCALE - 2, &v) != 0 || v <= 0 || v > CB_FX_ONE)
            return cb_diag_set(diag, CB_EPARSE, NULL, 0, 0, "stake",
                               "expected a percentage between 0%% and 100%%, got '%s'", s);
        out->kind = CB_STAKE_PERCENT;
        out->fraction = v;
        return 0;
    }
    int64_t v;
    char cur[16];
    if (cb_money_parse(s, &v, cur, sizeof cur) != 0 || v <= 0)
        return cb_diag_set(diag, CB_EPARSE, NULL, 0, 0, "stake",
                           "expected '1000' (quote), '10%%' (of equity), '1 BTC' (base) or "
                           "'all', got '%s'", s);
    if (!cur[0] || (quote && !strcmp(cur, quote))) {
        out->kind = CB_STAKE_QUOTE;
        out->amount = v;
        return 0;
    }
    out->kind = CB_STAKE_BASE;
    out->amount = v;
    snprintf(out->unit, sizeof out->unit, "%s", cur);
    return 0;
}

void cb_stake_format(const cb_stake_t *s, const char *quote, char *buf, size_t size)
{
    char num[40];
    switch (s->kind) {
    case CB_STAKE_ALL: snprintf(buf, size, "all"); return;
    case CB_STAKE_PERCENT:
        cb_dec_format(s->fraction, CB_FX_SCALE - 2, num, sizeof num);
        snprintf(buf, size, "%s%%", num);
        return;
    case CB_STAKE_QUOTE:
        cb_dec_format(s->amount, CB_FX_SCALE, num, sizeof num);
        snprintf(buf, size, "%s %s", num, quote ? quote : "");
        return;
    case CB_STAKE_BASE:
        cb_dec_format(s->amount, CB_FX_SCALE, num, sizeof num);
        snprintf(buf, size, "%s %s", num, s->unit);
        return;
    }
    snprintf(buf, size, "?");
}
