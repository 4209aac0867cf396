/* Diagnostics: precise, user-facing descriptions of bad input. */
#include "comeback/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cb_diag_clear(cb_diag_t *d)
{
    if (d)
        memset(d, 0, sizeof *d);
}

static void copy_str(char *dst, size_t size, const char *src)
{
    if (!src) {
        dst[0] = '\0';
        return;
    }
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

int cb_diag_vset(cb_diag_t *d, int code, const char *file, long line, int column,
                 const char *field, const char *fmt, va_list ap)
{
    if (!d)
        return code;
    d->code = code;
    d->line = line;
    d->column = column;
    copy_str(d->file, sizeof d->file, file);
    copy_str(d->field, sizeof d->field, field);
    if (fmt)
        vsnprintf(d->msg, sizeof d->msg, fmt, ap);
    else
        copy_str(d->msg, sizeof d->msg, cb_strerror(code));
    return code;
}

int cb_diag_set(cb_diag_t *d, int code, const char *file, long line, int column,
                const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = cb_diag_vset(d, code, file, line, column, field, fmt, ap);
    va_end(ap);
    return r;
}

size_t cb_diag_format(const cb_diag_t *d, char *buf, size_t size)
{
    char where[320] = "";
    size_t w = 0;
    if (d->file[0]) {
        w += (size_t)snprintf(where, sizeof where, "%s", d->file);
        if (d->line > 0 && w < sizeof where)
            w += (size_t)snprintf(where + w, sizeof where - w, ":%ld", d->line);
        if (d->line > 0 && d->column > 0 && w < sizeof where)
            w += (size_t)snprintf(where + w, sizeof where - w, ":%d", d->column);
    } else if (d->line > 0) {
        w += (size_t)snprintf(where, sizeof where, "line %ld", d->line);
        if (d->column > 0 && w < sizeof where)
            w += (size_t)snprintf(where + w, sizeof where - w, ":%d", d->column);
    }
    /* A diagnostic nobody filled must not read "success" next to a failure's exit status. */
    const char *msg = d->msg[0]          ? d->msg
                      : d->code != CB_OK ? cb_strerror(d->code)
                                         : "failed without giving a reason (a bug in comeback: "
                                           "please report it with the command line)";
    int n;
    if (where[0] && d->field[0])
        n = snprintf(buf, size, "%s: %s: %s", where, d->field, msg);
    else if (where[0])
        n = snprintf(buf, size, "%s: %s", where, msg);
    else if (d->field[0])
        n = snprintf(buf, size, "%s: %s", d->field, msg);
    else
        n = snprintf(buf, size, "%s", msg);
    return n < 0 ? 0 : (size_t)n;
}

int cb_diag_is_set(const cb_diag_t *d) { return d && (d->code != CB_OK || d->msg[0]); }

int cb_diags_add(cb_diags_t *list, const cb_diag_t *d)
{
    list->total++;
    if (list->max_keep && list->n >= list->max_keep)
        return 0;
    if (list->n == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 16;
        cb_diag_t *items = realloc(list->items, cap * sizeof *items);
        if (!items)
            return CB_ENOMEM;
        list->items = items;
        list->cap = cap;
    }
    list->items[list->n++] = *d;
    return 0;
}

void cb_diags_free(cb_diags_t *list)
{
    free(list->items);
    list->items = NULL;
    list->n = list->cap = list->total = 0;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 when it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t need;
    unsigned min;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        need = 2;
        min = 0x80;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        need = 3;
        min = 0x800;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        need = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < need)
        return 0;
    unsigned cp = s[0] & (0x7Fu >> need);
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return need;
}

const char *cb_quote(const char *s, size_t len, size_t max_bytes, char *dst, size_t size)
{
    if (!dst || size == 0)
        return dst;
    size_t w = 0;
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    if (!s)
        len = 0;
    size_t shown = len < max_bytes ? len : max_bytes;
    for (size_t i = 0; i < shown;) {
        char esc[8];
        size_t n = 0, take = 1;
        unsigned char ch = p[i];
        if (ch == 0 && !(i + 1 < len && p[i + 1] >= '0' && p[i + 1] <= '9'))
            n = (size_t)snprintf(esc, sizeof esc, "\\0"); /* \x00 before a digit: no octal */
        else if (ch == '\t')
            n = (size_t)snprintf(esc, sizeof esc, "\\t");
        else if (ch == '\r')
            n = (size_t)snprintf(esc, sizeof esc, "\\r");
        else if (ch == '\n')
            n = (size_t)snprintf(esc, sizeof esc, "\\n");
        else if (ch == '"' || ch == '\\')
            n = (size_t)snprintf(esc, sizeof esc, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7F)
            n = (size_t)snprintf(esc, sizeof esc, "\\x%02x", ch);
        else if (ch >= 0x80 && (take = utf8_len(p + i, len - i)) == 0) {
            take = 1;
            n = (size_t)snprintf(esc, sizeof esc, "\\x%02x", ch);
        } else {
            n = take;
            memcpy(esc, p + i, take);
        }
        if (w + n + 4 > size) { /* room for "..." and the NUL */
            shown = i;
            break;
        }
        memcpy(dst + w, esc, n);
        w += n;
        i += take;
    }
    if (shown < len && w + 4 <= size) {
        memcpy(dst + w, "...", 3);
        w += 3;
    }
    dst[w] = '\0';
    return dst;
}
