/* Small helpers of the rules module: an arena, diagnostics, name suggestions, numbers. */
#include "rules/rules_int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *rl_alloc(rl_arena_t *a, size_t size)
{
    size = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    rl_chunk_t *c = a->head;
    if (!c || c->cap - c->used < size) {
        size_t cap = size > 8192 ? size : 8192;
        c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->next = a->head;
        c->used = 0;
        c->cap = cap;
        a->head = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += size;
    memset(p, 0, size);
    return p;
}

char *rl_strndup(rl_arena_t *a, const char *s, size_t n)
{
    char *p = rl_alloc(a, n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void rl_arena_free(rl_arena_t *a)
{
    rl_chunk_t *c = a->head;
    while (c) {
        rl_chunk_t *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
}

void rl_src_pos(const rl_expr_src_t *src, size_t off, long *line, int *col)
{
    size_t i = 0;
    while (i + 1 < src->n_seg && src->seg[i + 1].off <= off)
        i++;
    if (src->n_seg == 0) {
        *line = src->key_line;
        *col = src->key_col;
        return;
    }
    *line = src->seg[i].line;
    *col = src->seg[i].col + (int)(off - src->seg[i].off);
}

static void add_diag(cb_diags_t *diags, int code, const char *severity, const char *file,
                     long line, int col, const char *fmt, va_list ap)
    __attribute__((format(printf, 7, 0)));
static void add_diag(cb_diags_t *diags, int code, const char *severity, const char *file,
                     long line, int col, const char *fmt, va_list ap)
{
    if (!diags)
        return;
    cb_diag_t d;
    cb_diag_vset(&d, code, file, line, col, severity, fmt, ap);
    cb_diags_add(diags, &d);
}

void rl_error(cb_diags_t *diags, int code, const char *file, long line, int col,
              const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_diag(diags, code, "error", file, line, col, fmt, ap);
    va_end(ap);
}

void rl_warning(cb_diags_t *diags, const char *file, long line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_diag(diags, CB_OK, "warning", file, line, col, fmt, ap);
    va_end(ap);
}

/* Optimal string alignment distance: insertions, deletions, substitutions and transpositions
 * of neighbours each cost 1 (so "fsat" is one edit from "fast"). Case-insensitive. */
size_t rl_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 99;
    static const size_t W = 64;
    size_t m[64 * 64];
    for (size_t i = 0; i <= la; i++)
        m[i * W] = i;
    for (size_t j = 0; j <= lb; j++)
        m[j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
            size_t cost = ca == cb ? 0 : 1;
            size_t best = m[(i - 1) * W + j - 1] + cost;
            if (m[(i - 1) * W + j] + 1 < best)
                best = m[(i - 1) * W + j] + 1;
            if (m[i * W + j - 1] + 1 < best)
                best = m[i * W + j - 1] + 1;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && m[(i - 2) * W + j - 2] + 1 < best)
                best = m[(i - 2) * W + j - 2] + 1;
            m[i * W + j] = best;
        }
    }
    return m[la * W + lb];
}

const char *rl_closest(const char *name, const char *const *cands, size_t n)
{
    size_t len = strlen(name);
    size_t limit = len / 3 > 1 ? len / 3 : 1;
    const char *best = NULL;
    size_t best_d = limit + 1;
    for (size_t i = 0; i < n; i++) {
        if (!cands[i])
            continue;
        size_t d = rl_edit_distance(name, cands[i]);
        if (d < best_d) {
            best_d = d;
            best = cands[i];
        }
    }
    return best;
}

const char *const rl_series_names[8] = {"open", "high", "low", "close", "volume",
                                        "hl2", "hlc3", "ohlc4"};
const char *const rl_position_names[3] = {"bars_held", "entry_price", "profit_pct"};

int rl_parse_number(const char *s, double *out)
{
    if (!s || !*s)
        return -1;
    /* strtod accepts "inf", "nan" and hex: only plain decimals are numbers here. */
    const char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    if (!isdigit((unsigned char)*p) && !(*p == '.' && isdigit((unsigned char)p[1])))
        return -1;
    for (const char *q = p; *q; q++)
        if (!(isdigit((unsigned char)*q) || *q == '.' || *q == 'e' || *q == 'E' || *q == '-' ||
              *q == '+' || *q == '%'))
            return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (end == s || errno == ERANGE || !isfinite(v))
        return -1;
    if (*end == '%') {
        v /= 100.0;
        end++;
    }
    if (*end)
        return -1;
    *out = v;
    return 0;
}
