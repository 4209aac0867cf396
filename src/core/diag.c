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
    const char *msg = d->msg[0] ? d->msg : cb_strerror(d->code);
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
