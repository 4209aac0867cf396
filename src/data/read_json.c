/* freqtrade's JSON candles: [[open_time_ms, open, high, low, close, volume], ...].
 * Parsed by hand rather than with jansson so that every problem can name its line and column
 * and numbers keep their exact source text (for the messages and correct rounding). */
#include <stdio.h>
#include <string.h>

#include "data/read_int.h"

typedef struct jp {
    const char *buf, *p, *end;
    long line;
    const char *line_start;
} jp_t;

static void skip_ws(jp_t *j)
{
    while (j->p < j->end) {
        char ch = *j->p;
        if (ch == '\n') {
            j->line++;
            j->line_start = j->p + 1;
        } else if (ch != ' ' && ch != '\t' && ch != '\r') {
            break;
        }
        j->p++;
    }
}

static int col(const jp_t *j) { return (int)(j->p - j->line_start) + 1; }

static const char *what(const jp_t *j, char *buf, size_t size)
{
    if (j->p >= j->end)
        return "the end of the file";
    size_t n = 0;
    while (j->p + n < j->end && n < 20 && j->p[n] != '\n' && j->p[n] != '\r' &&
           (n == 0 || (j->p[n] != ',' && j->p[n] != ']')))
        n++;
    snprintf(buf, size, "\"%.*s\"", (int)n, j->p);
    return buf;
}

/* The token at p: a number-like run of characters up to a delimiter. */
static size_t token_len(const jp_t *j)
{
    size_t n = 0;
    while (j->p + n < j->end) {
        char ch = j->p[n];
        if (ch == ',' || ch == ']' || ch == '[' || ch == ' ' || ch == '\t' || ch == '\n' ||
            ch == '\r' || ch == '}' || ch == '{')
            break;
        n++;
    }
    return n;
}

static const char *const field_names[6] = {"time", "open", "high", "low", "close", "volume"};

int rd_read_freqtrade(rd_ctx_t *c, const char *buf, size_t len)
{
    jp_t j = {buf, buf, buf + len, 1, buf};
    char w[40];
    static const char *const labels[RD_NVAL] = {"field 'open'", "field 'high'", "field 'low'",
                                                "field 'close'", "field 'volume'"};
    static const char *const names[RD_NVAL] = {"open", "high", "low",
                                               "close", "volume"};
    snprintf(c->time_label, sizeof c->time_label, "field 'time'");
    snprintf(c->rep->time_column, sizeof c->rep->time_column, "time");
    c->positions_are_offsets = 1;
    if (len >= 3 && (unsigned char)buf[0] == 0xEF && (unsigned char)buf[1] == 0xBB &&
        (unsigned char)buf[2] == 0xBF) {
        j.p += 3;
        j.line_start = j.p;
    }
    skip_ws(&j);
    if (j.p >= j.end || *j.p != '[') {
        rd_problem(c, CB_EPARSE, j.line, col(&j), NULL,
                   "expected '[' starting a freqtrade candle list, got %s", what(&j, w, sizeof w));
        c->fatal = 1;
        return 0;
    }
    j.p++;
    skip_ws(&j);
    if (j.p < j.end && *j.p == ']') {
        j.p++;
        goto trailer;
    }
    if (rd_reserve(c, len / 60 + 16) != 0)
        return CB_ENOMEM;
    for (;;) {
        skip_ws(&j);
        if (j.p >= j.end || *j.p != '[') {
            rd_problem(c, CB_EPARSE, j.line, col(&j), NULL,
                       "expected '[' starting a candle [time, open, high, low, close, volume], "
                       "got %s",
                       what(&j, w, sizeof w));
            c->fatal = 1;
            return 0;
        }
        long pos = (long)(j.p - buf);
        long cline = j.line;
        int ccol = col(&j);
        j.p++;
        c->rows++;
        double v[6];
        const char *text[6];
        size_t tlen[6];
        int64_t t_ms = 0;
        int bad = 0, time_ok = 0;
        size_t k = 0;
        skip_ws(&j);
        if (j.p < j.end && *j.p == ']') {
            j.p++;
        } else {
            for (;;) {
                skip_ws(&j);
                long fl = j.line;
                int fc = col(&j);
                size_t n = token_len(&j);
                if (n == 0) {
                    rd_problem(c, CB_EPARSE, j.line, col(&j), NULL,
                               "expected a value, got %s", what(&j, w, sizeof w));
                    c->fatal = 1;
                    return 0;
                }
                if (k < 6) {
                    text[k] = j.p;
                    tlen[k] = n;
                    char label[32];
                    snprintf(label, sizeof label, "field '%s'", field_names[k]);
                    if (k == 0) {
                        char msg[160];
                        int unit;
                        if (rd_parse_time(j.p, n, &t_ms, &unit, msg, sizeof msg) != 0 ||
                            unit == RD_UNIT_TEXT) {
                            char q[200];
                            if (unit == RD_UNIT_TEXT)
                                snprintf(msg, sizeof msg, "expected a time in milliseconds, got "
                                                          "\"%s\"",
                                         cb_quote(j.p, n, 40, q, sizeof q));
                            rd_problem(c, CB_EPARSE, fl, fc, label, "%s", msg);
                            bad = 1;
                        } else {
                            c->units |= unit;
                            time_ok = 1;
                        }
                    } else {
                        int r = rd_parse_double(j.p, n, &v[k]);
                        if (r != RD_NUM_OK) {
                            char q[200];
                            rd_problem(c, CB_EPARSE, fl, fc, label,
                                       r == RD_NUM_NONFINITE ? "expected a finite number, got %s"
                                                             : "expected a number, got %s",
                                       cb_quote(j.p, n, 40, q, sizeof q));
                            bad = 1;
                        }
                    }
                }
                k++;
                j.p += n;
                skip_ws(&j);
                if (j.p < j.end && *j.p == ',') {
                    j.p++;
                    continue;
                }
                if (j.p < j.end && *j.p == ']') {
                    j.p++;
                    break;
                }
                rd_problem(c, CB_EPARSE, j.line, col(&j), NULL,
                           "expected ',' or ']' in a candle, got %s", what(&j, w, sizeof w));
                c->fatal = 1;
                return 0;
            }
        }
        if (k != 6) {
            rd_problem(c, CB_EPARSE, cline, ccol, NULL,
                       "a candle has 6 values [time, open, high, low, close, volume], got %zu", k);
            bad = 1;
        }
        if (bad) {
            if (time_ok)
                rd_note_bad_time(c, pos, t_ms);
            c->bad_rows++;
        } else {
            /* Positions are byte offsets, turned into line:column only for problems. */
            c->cur_pos = pos;
            int r = rd_add_row(c, cline, ccol, t_ms, v + 1, text + 1, tlen + 1, labels, names);
            if (r < 0)
                return r;
        }
        skip_ws(&j);
        if (j.p < j.end && *j.p == ',') {
            j.p++;
            continue;
        }
        if (j.p < j.end && *j.p == ']') {
            j.p++;
            break;
        }
        rd_problem(c, CB_EPARSE, j.line, col(&j), NULL,
                   "expected ',' or ']' after a candle, got %s", what(&j, w, sizeof w));
        c->fatal = 1;
        return 0;
    }
trailer:
    skip_ws(&j);
    if (j.p < j.end) {
        rd_problem(c, CB_EPARSE, j.line, col(&j), NULL,
                   "unexpected %s after the candle list", what(&j, w, sizeof w));
        c->fatal = 1;
    }
    return 0;
}
