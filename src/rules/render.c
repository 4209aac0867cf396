/* Compiler-style rendering of a diagnostic: the message, the source line, a caret. */
#include "rules/rules_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

size_t cb_rules_render_diag(const cb_rules_file_t *f, const cb_diag_t *d, char *buf, size_t size)
{
    char head[1200];
    cb_diag_format(d, head, sizeof head);
    size_t w = 0;
#define PUT(...)                                                                             \
    do {                                                                                     \
        int n_ = snprintf(w < size ? buf + w : NULL, w < size ? size - w : 0, __VA_ARGS__); \
        if (n_ > 0)                                                                          \
            w += (size_t)n_;                                                                 \
    } while (0)
    PUT("%s\n", head);
    if (!f || d->line <= 0 || d->column <= 0)
        return w;
    /* find the line */
    const char *s = f->text, *end = f->text + f->len;
    for (long l = 1; l < d->line && s < end; l++) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        if (!nl)
            return w;
        s = nl + 1;
    }
    if (d->line == 1 && end - s >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        s += 3;
    const char *e = memchr(s, '\n', (size_t)(end - s));
    size_t len = e ? (size_t)(e - s) : (size_t)(end - s);
    if (len && s[len - 1] == '\r')
        len--;
    if (len > 400)
        return w;
    PUT("    %.*s\n", (int)len, s);
    size_t col = (size_t)d->column - 1;
    if (col > len)
        col = len;
    /* underline an identifier or number whole; otherwise one character */
    size_t span = 1;
    if (col < len && (isalnum((unsigned char)s[col]) || s[col] == '_')) {
        span = 0;
        while (col + span < len && (isalnum((unsigned char)s[col + span]) || s[col + span] == '_' ||
                                    (s[col + span] == '.' && isdigit((unsigned char)s[col]))))
            span++;
    }
    char caret[512];
    size_t k = 0;
    for (size_t i = 0; i < col && k < sizeof caret - 2; i++)
        caret[k++] = s[i] == '\t' ? '\t' : ' ';
    caret[k++] = '^';
    for (size_t i = 1; i < span && k < sizeof caret - 1; i++)
        caret[k++] = '~';
    caret[k] = '\0';
    PUT("    %s\n", caret);
#undef PUT
    return w;
}
