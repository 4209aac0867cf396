/* Readers: format detection and dispatch, exact number and time parsing shared by the format
 * readers, the order and grid checks that need the whole file, and the report. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/read_int.h"
#include "data/store_int.h"

/* ---- Format names ---- */

static const struct {
    const char *name, *desc;
} format_table[] = {
#define CB_FORMAT_ROW_(id, name, desc) {name, desc},
    CB_FORMAT_MAP(CB_FORMAT_ROW_)
#undef CB_FORMAT_ROW_
};

#define N_FORMATS (sizeof format_table / sizeof format_table[0])

int cb_format_parse(const char *name, cb_format_t *out)
{
    if (!name || !out)
        return CB_EINVAL;
    for (size_t i = 0; i < N_FORMATS; i++)
        if (strcasecmp(name, format_table[i].name) == 0) {
            *out = (cb_format_t)i;
            return 0;
        }
    return CB_EINVAL;
}

const char *cb_format_name(cb_format_t f)
{
    if ((size_t)f >= N_FORMATS)
        return "unknown";
    return format_table[f].name;
}

const char *cb_format_description(cb_format_t f)
{
    if ((size_t)f >= N_FORMATS)
        return "";
    return format_table[f].desc;
}

void cb_read_report_free(cb_read_report_t *rep)
{
    if (rep)
        cb_diags_free(&rep->problems);
}

/* ---- Numbers ---- */

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static int is_digit(char ch) { return (unsigned)(ch - '0') <= 9; }

static int lower_eq(const char *s, size_t len, const char *word)
{
    size_t n = strlen(word);
    if (len != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if (ch != word[i])
            return 0;
    }
    return 1;
}

/* The slow but exact path: the C library's correctly rounded conversion. */
static int parse_double_slow(const char *s, size_t len, double *out)
{
    char small[128];
    char *tmp = len < sizeof small ? small : malloc(len + 1);
    if (!tmp)
        return RD_NUM_SYNTAX;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    double v = strtod(tmp, NULL);
    if (tmp != small)
        free(tmp);
    if (!isfinite(v))
        return RD_NUM_NONFINITE;
    *out = v;
    return RD_NUM_OK;
}

int rd_parse_double(const char *s, size_t len, double *out)
{
    const char *p = s, *e = s + len;
    int neg = 0;
    if (p < e && (*p == '-' || *p == '+'))
        neg = *p++ == '-';
    uint64_t m = 0;
    int nd = 0, exp10 = 0, truncated = 0, any = 0;
    const char *q = p;
    for (; p < e && is_digit(*p); p++) {
        unsigned d = (unsigned)(*p - '0');
        if (nd < 19) {
            if (m || d) {
                m = m * 10 + d;
                nd++;
            }
        } else {
            exp10++;
            truncated = 1;
        }
    }
    any = p > q;
    if (p < e && *p == '.') {
        p++;
        q = p;
        for (; p < e && is_digit(*p); p++) {
            unsigned d = (unsigned)(*p - '0');
            if (nd < 19) {
                if (m || d) {
                    m = m * 10 + d;
                    nd++;
                }
                exp10--;
            } else {
                truncated = 1;
            }
        }
        any |= p > q;
    }
    if (!any) {
        size_t rest = (size_t)(e - p);
        if (p == q && (lower_eq(p, rest, "nan") || lower_eq(p, rest, "inf") ||
                       lower_eq(p, rest, "infinity")))
            return RD_NUM_NONFINITE;
        return RD_NUM_SYNTAX;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0, ev = 0;
        if (p < e && (*p == '-' || *p == '+'))
            eneg = *p++ == '-';
        if (p == e || !is_digit(*p))
            return RD_NUM_SYNTAX;
        for (; p < e && is_digit(*p); p++)
            if (ev < 100000)
                ev = ev * 10 + (*p - '0');
        exp10 += eneg ? -ev : ev;
    }
    if (p != e)
        return RD_NUM_SYNTAX;
    if (m == 0 && !truncated) {
        *out = neg ? -0.0 : 0.0;
        return RD_NUM_OK;
    }
    if (!truncated && nd > 15) {
        /* Trailing zeros carry no precision: "36304.20000000000000" fits the fast path. */
        while (m % 10 == 0) {
            m /= 10;
            exp10++;
            nd--;
        }
    }
    /* m < 10^15 < 2^53 and 10^|exp10| <= 10^22 are both exact doubles, so one IEEE multiply
     * or divide rounds the exact quotient/product once: the result is correctly rounded. */
    if (!truncated && nd <= 15 && exp10 >= -22 && exp10 <= 22) {
        double v = (double)m;
        v = exp10 < 0 ? v / pow10_exact[-exp10] : v * pow10_exact[exp10];
        *out = neg ? -v : v;
        return RD_NUM_OK;
    }
    return parse_double_slow(s, len, out);
}

size_t rd_format_double(double v, char *buf, size_t size)
{
    char tmp[40];
    int n = 0;
    /* Any decimal of <= 15 significant digits that reads back to v is what %.15g prints
     * (with its trailing zeros removed), so the first precision that round-trips is the
     * shortest text. */
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (prec == 17 || strtod(tmp, NULL) == v)
            break;
    }
    /* Prefer plain decimals ("0.00002853") over exponents for the magnitudes prices have. */
    char *ep = strchr(tmp, 'e');
    if (ep && isfinite(v)) {
        int ex = atoi(ep + 1);
        if (ex >= -12 && ex < 21) {
            char digits[24];
            size_t nd = 0;
            const char *p = tmp;
            int neg = *p == '-';
            if (neg)
                p++;
            for (; p < ep; p++)
                if (is_digit(*p) && nd < sizeof digits - 1)
                    digits[nd++] = *p;
            digits[nd] = '\0';
            /* value = 0.d1d2d3... * 10^(ex+1) */
            int point = ex + 1;
            char out[64];
            size_t o = 0;
            if (neg)
                out[o++] = '-';
            if (point <= 0) {
                out[o++] = '0';
                out[o++] = '.';
                for (int i = 0; i < -point; i++)
                    out[o++] = '0';
                memcpy(out + o, digits, nd);
                o += nd;
            } else if ((size_t)point >= nd) {
                memcpy(out + o, digits, nd);
                o += nd;
                for (size_t i = nd; i < (size_t)point; i++)
                    out[o++] = '0';
            } else {
                memcpy(out + o, digits, (size_t)point);
                o += (size_t)point;
                out[o++] = '.';
                memcpy(out + o, digits + point, nd - (size_t)point);
                o += nd - (size_t)point;
            }
            out[o] = '\0';
            n = snprintf(buf, size, "%s", out);
            return n < 0 ? 0 : (size_t)n;
        }
    }
    n = snprintf(buf, size, "%s", tmp);
    return n < 0 ? 0 : (size_t)n;
}

/* ---- Times ---- */

const char *rd_unit_name(int units)
{
    switch (units) {
    case 0: return "";
    case RD_UNIT_S: return "s";
    case RD_UNIT_MS: return "ms";
    case RD_UNIT_US: return "us";
    case RD_UNIT_NS: return "ns";
    case RD_UNIT_TEXT: return "text";
    default: return "mixed";
    }
}

/* "2017-08-17 05-AM" / "2017-08-17 05 PM": CryptoDataDownload's hourly labels. */
static int parse_ampm(const char *s, size_t len, int64_t *out)
{
    while (len && (s[len - 1] == ' ' || s[len - 1] == '"'))
        len--;
    while (len && (*s == ' ' || *s == '"')) {
        s++;
        len--;
    }
    if (len != 16 || s[10] != ' ' || (s[13] != '-' && s[13] != ' ') || s[15] != 'M' ||
        (s[14] != 'A' && s[14] != 'P') || !is_digit(s[11]) || !is_digit(s[12]))
        return -1;
    int h = (s[11] - '0') * 10 + (s[12] - '0');
    if (h < 1 || h > 12)
        return -1;
    int64_t day;
    if (cb_time_parse(s, 10, &day) != 0)
        return -1;
    int h24 = h % 12 + (s[14] == 'P' ? 12 : 0);
    *out = day + h24 * CB_MS_PER_HOUR;
    return 0;
}

int rd_parse_time(const char *s, size_t len, int64_t *out_ms, int *unit, char *msg,
                  size_t msg_size)
{
    if (len == 0) {
        snprintf(msg, msg_size, "expected a time, got an empty field");
        return -1;
    }
    size_t i = 0;
    uint64_t uv = 0;
    while (i < len && is_digit(s[i]) && i < 20) {
        uv = uv * 10 + (uint64_t)(s[i] - '0');
        i++;
    }
    size_t int_digits = i;
    int numeric = int_digits > 0 && (i == len || s[i] == '.');
    if (numeric && int_digits <= 19 && uv <= (uint64_t)INT64_MAX) {
        int64_t v = (int64_t)uv;
        size_t fstart = i < len ? i + 1 : len, fend = len;
        for (size_t k = fstart; k < fend; k++)
            if (!is_digit(s[k]))
                numeric = 0;
        if (i < len && fstart == fend)
            numeric = 0; /* "123." */
        if (numeric) {
            int64_t factor_num = 1, factor_den = 1;
            int u;
            if (v < INT64_C(100000000000)) {
                u = RD_UNIT_S;
                factor_num = 1000;
            } else if (v < INT64_C(100000000000000)) {
                u = RD_UNIT_MS;
            } else if (v < INT64_C(100000000000000000)) {
                u = RD_UNIT_US;
                factor_den = 1000;
            } else {
                u = RD_UNIT_NS;
                factor_den = 1000000;
            }
            /* The fraction, in ms, must be whole: anything finer than a millisecond would be
             * rounded away, which is guessing. */
            int64_t frac_ms = 0;
            int frac_ok = 1;
            for (size_t k = fstart; k < fend; k++) {
                int d = s[k] - '0';
                size_t pos = k - fstart; /* 0 = tenths of the unit */
                if (u == RD_UNIT_S && pos < 3) {
                    static const int64_t w[3] = {100, 10, 1};
                    frac_ms += d * w[pos];
                } else if (d != 0) {
                    frac_ok = 0;
                }
            }
            if (!frac_ok || v % factor_den != 0) {
                snprintf(msg, msg_size, "%.*s is not a whole millisecond", (int)(len > 40 ? 40 : len), s);
                return -1;
            }
            *out_ms = v / factor_den * factor_num + frac_ms;
            *unit = u;
            return 0;
        }
    }
    if (int_digits >= 4 && cb_time_parse(s, len, out_ms) == 0) {
        *unit = RD_UNIT_TEXT;
        return 0;
    }
    if (parse_ampm(s, len, out_ms) == 0) {
        *unit = RD_UNIT_TEXT;
        return 0;
    }
    char q[200];
    snprintf(msg, msg_size, "expected a time, got \"%s\"", cb_quote(s, len, 40, q, sizeof q));
    return -1;
}

int64_t rd_mode_spacing(const int64_t *t, size_t n)
{
    enum { SLOTS = 1024 };
    int64_t keys[SLOTS];
    size_t counts[SLOTS];
    memset(counts, 0, sizeof counts);
    for (size_t i = 1; i < n; i++) {
        int64_t d = t[i] - t[i - 1];
        if (d < 0)
            d = -d;
        if (d == 0)
            continue;
        uint64_t h = (uint64_t)d * UINT64_C(0x9E3779B97F4A7C15);
        size_t slot = (size_t)(h >> 54) % SLOTS;
        for (size_t probe = 0; probe < 16; probe++) {
            size_t k = (slot + probe) % SLOTS;
            if (counts[k] == 0) {
                keys[k] = d;
                counts[k] = 1;
                break;
            }
            if (keys[k] == d) {
                counts[k]++;
                break;
            }
        }
    }
    int64_t best = 0;
    size_t best_count = 0;
    for (size_t k = 0; k < SLOTS; k++)
        if (counts[k] > best_count || (counts[k] && counts[k] == best_count && keys[k] < best)) {
            best = keys[k];
            best_count = counts[k];
        }
    return best;
}

int rd_timeframe_name(int64_t sp, char *name)
{
    const int64_t week = 7 * CB_MS_PER_DAY;
    int64_t n;
    char unit;
    if (sp <= 0)
        return -1;
    if (sp >= 28 * CB_MS_PER_DAY && sp <= 31 * CB_MS_PER_DAY) {
        n = 1;
        unit = 'M';
    } else if (sp % week == 0 && sp / week == 1) {
        n = 1;
        unit = 'w';
    } else if (sp % CB_MS_PER_DAY == 0) {
        n = sp / CB_MS_PER_DAY;
        unit = 'd';
    } else if (sp % CB_MS_PER_HOUR == 0) {
        n = sp / CB_MS_PER_HOUR;
        unit = 'h';
    } else if (sp % CB_MS_PER_MIN == 0) {
        n = sp / CB_MS_PER_MIN;
        unit = 'm';
    } else if (sp % CB_MS_PER_SEC == 0) {
        n = sp / CB_MS_PER_SEC;
        unit = 's';
    } else {
        return -1;
    }
    if (n > 99999)
        return -1;
    snprintf(name, 8, "%lld%c", (long long)n, unit);
    return 0;
}

/* ---- The row collector ---- */

void rd_problem(rd_ctx_t *c, int code, long line, int column, const char *field,
                const char *fmt, ...)
{
    cb_diag_t d;
    va_list ap;
    va_start(ap, fmt);
    cb_diag_vset(&d, code, c->name, line, column, field, fmt, ap);
    va_end(ap);
    cb_diags_add(&c->problems, &d);
}

static int clip(size_t len) { return (int)(len > 40 ? 40 : len); }

int rd_add_row(rd_ctx_t *c, long line, int column, int64_t t_ms, const double v[RD_NVAL],
               const char *const text[RD_NVAL], const size_t text_len[RD_NVAL],
               const char *const labels[RD_NVAL], const char *const names[RD_NVAL])
{
    double o = v[RD_OPEN], h = v[RD_HIGH], l = v[RD_LOW], cl = v[RD_CLOSE], vol = v[RD_VOLUME];
    /* One predictable branch in the common case. */
    if (!(o >= 0 && h >= 0 && l >= 0 && cl >= 0 && vol >= 0 && l <= h && o >= l && o <= h &&
          cl >= l && cl <= h)) {
        int bad = 0;
        for (int k = 0; k < RD_NVAL; k++)
            if (v[k] < 0) {
                rd_problem(c, CB_EVALID, line, column, labels[k], "%.*s is negative",
                           clip(text_len[k]), text[k]);
                bad = 1;
            }
        if (!bad) {
            if (h < l) {
                rd_problem(c, CB_EVALID, line, column, labels[RD_HIGH], "%.*s is below '%s' %.*s",
                           clip(text_len[RD_HIGH]), text[RD_HIGH], names[RD_LOW],
                           clip(text_len[RD_LOW]), text[RD_LOW]);
            } else {
                static const int oc[2] = {RD_OPEN, RD_CLOSE};
                for (int j = 0; j < 2; j++) {
                    int k = oc[j];
                    if (v[k] > h)
                        rd_problem(c, CB_EVALID, line, column, labels[k],
                                   "%.*s is above '%s' %.*s", clip(text_len[k]), text[k],
                                   names[RD_HIGH], clip(text_len[RD_HIGH]), text[RD_HIGH]);
                    else if (v[k] < l)
                        rd_problem(c, CB_EVALID, line, column, labels[k],
                                   "%.*s is below '%s' %.*s", clip(text_len[k]), text[k],
                                   names[RD_LOW], clip(text_len[RD_LOW]), text[RD_LOW]);
                }
            }
        }
        c->bad_rows++;
        rd_note_bad_time(c, c->positions_are_offsets ? c->cur_pos : line, t_ms);
        return 1;
    }
    cb_series_t *s = c->s;
    if (s->n == s->cap_ || s->n == c->lines_cap) {
        if (rd_reserve(c, s->n < 512 ? 1024 : s->n * 2) != 0)
            return CB_ENOMEM;
    }
    size_t i = s->n++;
    s->time_ms[i] = t_ms;
    s->open[i] = o;
    s->high[i] = h;
    s->low[i] = l;
    s->close[i] = cl;
    s->volume[i] = vol;
    c->lines[i] = c->positions_are_offsets ? c->cur_pos : line;
    return 0;
}

void rd_note_bad_time(rd_ctx_t *c, long pos, int64_t t_ms)
{
    if (c->n_bad_t == c->cap_bad_t) {
        size_t cap = c->cap_bad_t ? c->cap_bad_t * 2 : 64;
        int64_t *t = realloc(c->bad_t, cap * sizeof *t);
        if (!t)
            return; /* only the inference loses a sample */
        c->bad_t = t;
        long *p = realloc(c->bad_pos, cap * sizeof *p);
        if (!p)
            return;
        c->bad_pos = p;
        c->cap_bad_t = cap;
    }
    c->bad_t[c->n_bad_t] = t_ms;
    c->bad_pos[c->n_bad_t++] = pos;
}

/* Every readable time in input order: the good rows merged with the times of rows rejected
 * for other reasons. *n gets the count; returns s's own array when nothing was rejected (or
 * on ENOMEM), else a new one (*owned = 1) the caller frees. */
static const int64_t *all_times(const rd_ctx_t *c, size_t *n, int *owned)
{
    const cb_series_t *s = c->s;
    *owned = 0;
    *n = s->n;
    if (!c->n_bad_t)
        return s->time_ms;
    size_t total = s->n + c->n_bad_t;
    int64_t *all = malloc(total * sizeof *all);
    if (!all)
        return s->time_ms;
    size_t i = 0, j = 0, k = 0;
    while (i < s->n || j < c->n_bad_t) {
        if (j >= c->n_bad_t || (i < s->n && c->lines[i] < c->bad_pos[j]))
            all[k++] = s->time_ms[i++];
        else
            all[k++] = c->bad_t[j++];
    }
    *owned = 1;
    *n = total;
    return all;
}

/* The most common spacing over every readable time in input order. */
static int64_t infer_spacing(const rd_ctx_t *c)
{
    size_t n;
    int owned;
    const int64_t *t = all_times(c, &n, &owned);
    int64_t sp = rd_mode_spacing(t, n);
    if (owned)
        free((void *)(uintptr_t)t);
    return sp;
}

int rd_reserve(rd_ctx_t *c, size_t cap)
{
    if (cap <= c->s->cap_ && cap <= c->lines_cap)
        return 0;
    if (cb_series_reserve(c->s, cap) != 0)
        return CB_ENOMEM;
    long *nl = realloc(c->lines, cap * sizeof *nl);
    if (!nl)
        return CB_ENOMEM;
    c->lines = nl;
    c->lines_cap = cap;
    return 0;
}

/* ---- Whole-file checks, report and dispatch ---- */

static int diag_before(const cb_diag_t *a, const cb_diag_t *b)
{
    return a->line < b->line || (a->line == b->line && a->column < b->column);
}

/* Merges two line-ordered lists into rep->problems (which keeps at most max_keep). */
static void merge_problems(cb_diags_t *a, cb_diags_t *b, cb_diags_t *out)
{
    size_t i = 0, j = 0;
    while (i < a->n || j < b->n) {
        if (j >= b->n || (i < a->n && !diag_before(&b->items[j], &a->items[i])))
            cb_diags_add(out, &a->items[i++]);
        else
            cb_diags_add(out, &b->items[j++]);
    }
    /* Those counted but not kept. */
    out->total += (a->total - a->n) + (b->total - b->n);
}

static void fmt_time(int64_t t, char *buf, size_t size) { cb_time_format(t, buf, size); }

static void reverse_i64(int64_t *a, size_t n)
{
    for (size_t i = 0, j = n ? n - 1 : 0; i < j; i++, j--) {
        int64_t t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

static void reverse_d(double *a, size_t n)
{
    for (size_t i = 0, j = n ? n - 1 : 0; i < j; i++, j--) {
        double t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

/* The physical line and column of a byte offset (JSON positions). */
static void offset_to_line(const char *buf, long off, long *line, int *col)
{
    long ln = 1;
    const char *last = buf;
    for (const char *p = buf; p < buf + off; p++)
        if (*p == '\n') {
            ln++;
            last = p + 1;
        }
    *line = ln;
    *col = (int)(buf + off - last) + 1;
}

/* Order and grid checks over the rows that passed the per-row checks. */
static int finish(rd_ctx_t *c, cb_diags_t *p2, const cb_timeframe_t *tf,
                  int have_tf)
{
    cb_series_t *s = c->s;
    size_t n = s->n;
    int64_t *t = s->time_ms;
    if (c->time_is_close && have_tf) {
        for (size_t i = 0; i < n; i++)
            t[i] = cb_timeframe_floor(tf, t[i] - 1);
    } else if (c->time_is_close && n) {
        /* One candle end and no timeframe: its open time would be a guess. */
        long line = c->lines[0];
        int col = 0;
        if (c->positions_are_offsets)
            offset_to_line(c->buf, line, &line, &col);
        cb_diag_t d;
        cb_diag_set(&d, CB_EVALID, c->name, line, col, c->time_label,
                    "this column holds candle ends; give the timeframe to know where the "
                    "candles open");
        cb_diags_add(p2, &d);
        c->fatal = 1;
        return 0;
    }
    /* The direction most steps take, so that one stray time cannot flip it. */
    size_t up = 0, down = 0;
    for (size_t i = 1; i < n; i++) {
        up += t[i] > t[i - 1];
        down += t[i] < t[i - 1];
    }
    int newest_first = down > up;
    c->rep->newest_first = newest_first;
    unsigned char *bad = NULL;
    size_t n_bad = 0;
    size_t prev = (size_t)-1;
    char a[40], b[40];
    for (size_t i = 0; i < n; i++) {
        const char *problem = NULL;
        char msg[200];
        if (prev != (size_t)-1) {
            if (t[i] == t[prev]) {
                fmt_time(t[i], a, sizeof a);
                snprintf(msg, sizeof msg, "duplicate time %s (also on line %ld)", a,
                         c->positions_are_offsets ? 0L : c->lines[prev]);
                if (c->positions_are_offsets)
                    snprintf(msg, sizeof msg, "duplicate time %s", a);
                problem = msg;
            } else if (newest_first ? t[i] > t[prev] : t[i] < t[prev]) {
                fmt_time(t[i], a, sizeof a);
                fmt_time(t[prev], b, sizeof b);
                snprintf(msg, sizeof msg, "%s is %s the previous row's %s (rows must be %s)", a,
                         newest_first ? "after" : "before", b,
                         newest_first ? "newest first" : "oldest first");
                problem = msg;
            }
        }
        if (!problem && have_tf && !cb_timeframe_on_grid(tf, t[i])) {
            fmt_time(t[i], a, sizeof a);
            snprintf(msg, sizeof msg, "%s is not on the %s grid", a, tf->name);
            problem = msg;
        }
        if (problem) {
            if (!bad) {
                bad = calloc(n, 1);
                if (!bad)
                    return CB_ENOMEM;
            }
            bad[i] = 1;
            n_bad++;
            long line = c->lines[i];
            int col = 0;
            if (c->positions_are_offsets) {
                if (p2->n < p2->max_keep || !p2->max_keep)
                    offset_to_line(c->buf, line, &line, &col);
                else
                    line = 0;
            }
            cb_diag_t d;
            cb_diag_set(&d, CB_EVALID, c->name, line, col, c->time_label, "%s", problem);
            cb_diags_add(p2, &d);
        } else {
            prev = i;
        }
    }
    if (bad && c->opts->skip_bad_rows) {
        size_t w = 0;
        for (size_t i = 0; i < n; i++) {
            if (bad[i])
                continue;
            s->time_ms[w] = s->time_ms[i];
            s->open[w] = s->open[i];
            s->high[w] = s->high[i];
            s->low[w] = s->low[i];
            s->close[w] = s->close[i];
            s->volume[w] = s->volume[i];
            w++;
        }
        s->n = w;
    }
    free(bad);
    c->bad_rows += n_bad;
    if (newest_first) {
        n = s->n;
        reverse_i64(s->time_ms, n);
        reverse_d(s->open, n);
        reverse_d(s->high, n);
        reverse_d(s->low, n);
        reverse_d(s->close, n);
        reverse_d(s->volume, n);
    }
    return 0;
}

/* 1 when the spacing sp (ms) is the timeframe's candle length (months: 28..31 days each). */
static int spacing_is(const cb_timeframe_t *tf, int64_t sp)
{
    if (tf->months)
        return sp >= 28 * CB_MS_PER_DAY * tf->months && sp <= 31 * CB_MS_PER_DAY * tf->months;
    return sp == tf->ms;
}

/* A given timeframe must be the file's own spacing: a 4h file read as 1h would leave three
 * "missing" candles after each one, a 1h file read as 4h a grid error on three rows in four.
 * Either is one sentence naming both, and fatal. The file's spacing is the most common step
 * between its times, and only counts when it is clear: at least two steps and more than half
 * of them (real files have gaps), with steps of the given timeframe rare (under a tenth: a
 * gappy 1m file whose most common step is 2m is still a 1m file). */
static void check_spacing(rd_ctx_t *c, cb_diags_t *p2, const cb_timeframe_t *tf)
{
    size_t n;
    int owned;
    const int64_t *t = all_times(c, &n, &owned);
    int64_t sp = rd_mode_spacing(t, n);
    size_t steps = 0, at_mode = 0, at_tf = 0;
    for (size_t i = 1; i < n; i++) {
        int64_t d = t[i] > t[i - 1] ? t[i] - t[i - 1] : t[i - 1] - t[i];
        if (d == 0)
            continue;
        steps++;
        at_mode += d == sp ? 1u : 0u;
        at_tf += spacing_is(tf, d) ? 1u : 0u;
    }
    if (owned)
        free((void *)(uintptr_t)t);
    if (sp <= 0 || spacing_is(tf, sp) || at_mode < 2 || 2 * at_mode <= steps ||
        10 * at_tf >= steps)
        return;
    char own[32];
    if (rd_timeframe_name(sp, own) != 0)
        snprintf(own, sizeof own, "%lld ms", (long long)sp);
    const char *label = c->opts->timeframe_label;
    cb_diag_t d;
    if (label)
        cb_diag_set(&d, CB_EVALID, c->name, 0, 0, NULL,
                    "the file's candles are %s apart; %s says %s", own, label, tf->name);
    else
        cb_diag_set(&d, CB_EVALID, c->name, 0, 0, NULL,
                    "the file's candles are %s apart; the timeframe given is %s", own, tf->name);
    cb_diags_add(p2, &d);
    c->fatal = 1;
}

/* 1 when the first line ends in a lone CR: the file uses CR line ends (old Mac files). Only
 * the first line is looked at, so LF files cost nothing; a lone CR later inside a line of an
 * LF or CRLF file stays in its field, where it is a parse error naming the line. */
static int cr_line_ends(const char *buf, size_t len)
{
    const char *nl = memchr(buf, '\n', len);
    const char *cr = memchr(buf, '\r', nl ? (size_t)(nl - buf) : len);
    return cr && (cr + 1 == buf + len || cr[1] != '\n');
}

/* Detects the format from the first bytes. */
static cb_format_t detect(const char *buf, size_t len)
{
    size_t i = 0;
    if (len >= 8 && memcmp(buf, CB_STORE_MAGIC, 8) == 0)
        return CB_FORMAT_CBK;
    if (len >= 3 && (unsigned char)buf[0] == 0xEF && (unsigned char)buf[1] == 0xBB &&
        (unsigned char)buf[2] == 0xBF)
        i = 3;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
        i++;
    if (i < len && buf[i] == '[')
        return CB_FORMAT_FREQTRADE;
    return CB_FORMAT_AUTO; /* a CSV: the CSV reader tells header from headerless */
}

/* 1 when the first 4 KB are not text (random bytes, an archive, an image): at least 8 control
 * bytes and 1% of the sample. A stray NUL in a CSV is not enough (the field is reported). */
static int looks_binary(const char *buf, size_t len, size_t *first)
{
    size_t n = len < 4096 ? len : 4096, bad = 0;
    *first = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)buf[i];
        if ((ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r' && ch != '\f') || ch == 0x7F) {
            if (!bad)
                *first = i;
            bad++;
        }
    }
    return bad >= 8 && bad * 100 >= n;
}

int cb_series_read_buffer(const char *name, const char *buf, size_t len,
                          const cb_read_opts_t *opts, cb_series_t **out, cb_read_report_t *rep,
                          cb_diag_t *diag)
{
    static const cb_read_opts_t defaults = {CB_FORMAT_AUTO, NULL, 0, 0, NULL};
    cb_read_report_t local;
    if (!opts)
        opts = &defaults;
    if (!rep)
        rep = &local;
    memset(rep, 0, sizeof *rep);
    if (out)
        *out = NULL;
    cb_diag_clear(diag);
    if (!name)
        name = "<buffer>";
    if (!out || (!buf && len))
        return cb_diag_set(diag, CB_EINVAL, name, 0, 0, NULL, "no output or no input given");
    size_t max_keep = opts->max_problems ? opts->max_problems : 100;
    rep->problems.max_keep = max_keep;

    cb_timeframe_t tf;
    int have_tf = 0, inferred = 0;
    if (opts->timeframe && opts->timeframe[0]) {
        if (cb_timeframe_parse(opts->timeframe, &tf) != 0)
            return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL,
                               "unknown timeframe '%s' (expected e.g. 1m, 15m, 1h, 1d, 1w, 1M)",
                               opts->timeframe);
        have_tf = 1;
    }

    cb_format_t fmt = opts->format;
    if (fmt == CB_FORMAT_AUTO)
        fmt = detect(buf, len);
    if (fmt == CB_FORMAT_CBK) {
        /* A store file: its own loader verifies it (the checks below are the store's). */
        rep->format = CB_FORMAT_CBK;
        int r = cb_store_load_buffer(name, buf ? buf : "", len, out, diag);
        if (r == 0) {
            rep->rows = (*out)->n;
            snprintf(rep->timeframe, sizeof rep->timeframe, "%s", (*out)->meta.timeframe);
        }
        return r;
    }

    size_t at;
    if (buf && looks_binary(buf, len, &at)) {
        long line = 1;
        for (size_t i = 0; i < at; i++)
            line += buf[i] == '\n';
        return cb_diag_set(diag, CB_EPARSE, name, line, 0, NULL,
                           "not a text file (byte 0x%02x at offset %zu, and more): expected CSV, "
                           "freqtrade JSON or a comeback store file (.cbk)",
                           (unsigned char)buf[at], at);
    }

    rd_ctx_t c;
    memset(&c, 0, sizeof c);
    c.name = name;
    c.opts = opts;
    c.max_keep = max_keep;
    c.rep = rep;
    c.problems.max_keep = max_keep;
    c.s = cb_series_new(0);
    if (!c.s)
        return cb_diag_set(diag, CB_ENOMEM, name, 0, 0, NULL, NULL);

    c.buf = buf ? buf : "";
    /* Old Mac files end lines with a lone CR: read them as line ends (CRLF stays one). */
    char *lf = NULL;
    if (buf && cr_line_ends(buf, len)) {
        lf = malloc(len ? len : 1);
        if (!lf) {
            cb_series_free(c.s);
            return cb_diag_set(diag, CB_ENOMEM, name, 0, 0, NULL, NULL);
        }
        for (size_t i = 0; i < len; i++)
            lf[i] = buf[i] == '\r' && (i + 1 == len || buf[i + 1] != '\n') ? '\n' : buf[i];
        c.buf = lf;
    }
    int r;
    if (fmt == CB_FORMAT_FREQTRADE) {
        rep->format = CB_FORMAT_FREQTRADE;
        r = rd_read_freqtrade(&c, c.buf, len);
    } else {
        r = rd_read_csv(&c, c.buf, len, fmt);
    }
    cb_diags_t p2;
    memset(&p2, 0, sizeof p2);
    p2.max_keep = max_keep;
    if (r == 0 && !c.fatal && have_tf)
        check_spacing(&c, &p2, &tf);
    if (r == 0 && !c.fatal) {
        if (!have_tf) {
            int64_t sp = infer_spacing(&c);
            char tfname[8];
            if (sp > 0 && rd_timeframe_name(sp, tfname) == 0 &&
                cb_timeframe_parse(tfname, &tf) == 0)
                have_tf = inferred = 1;
        }
        r = finish(&c, &p2, &tf, have_tf);
    }
    rep->rows = c.rows;
    rep->time_is_close = c.time_is_close;
    if (have_tf)
        snprintf(rep->timeframe, sizeof rep->timeframe, "%s", tf.name);
    rep->timeframe_inferred = inferred;
    snprintf(rep->time_unit, sizeof rep->time_unit, "%s", rd_unit_name(c.units));
    merge_problems(&c.problems, &p2, &rep->problems);
    cb_diags_free(&c.problems);
    cb_diags_free(&p2);
    free(c.lines);
    free(c.bad_t);
    free(c.bad_pos);
    free(lf);
    if (r == 0 && (c.fatal || (rep->problems.total && !opts->skip_bad_rows)))
        r = rep->problems.n ? rep->problems.items[0].code : CB_EPARSE;
    if (r != 0) {
        if (rep->problems.n && diag)
            *diag = rep->problems.items[0];
        else if (diag)
            cb_diag_set(diag, r, name, 0, 0, NULL, NULL);
        cb_series_free(c.s);
        if (rep == &local)
            cb_read_report_free(rep);
        return r;
    }
    rep->skipped = c.bad_rows;
    if (have_tf)
        snprintf(c.s->meta.timeframe, sizeof c.s->meta.timeframe, "%s", tf.name);
    snprintf(c.s->meta.source, sizeof c.s->meta.source, "%s", name);
    *out = c.s;
    if (rep == &local)
        cb_read_report_free(rep);
    return 0;
}

int cb_series_read_file(const char *path, const cb_read_opts_t *opts, cb_series_t **out,
                        cb_read_report_t *rep, cb_diag_t *diag)
{
    if (out)
        *out = NULL;
    if (!path)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL, "no file given");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return cb_diag_set(diag, e == ENOENT ? CB_ENOENT : CB_EIO, path, 0, 0, NULL,
                           "cannot open: %s", strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return cb_diag_set(diag, CB_EIO, path, 0, 0, NULL, "not a regular file");
    }
    size_t len = (size_t)st.st_size;
    const char *buf = "";
    void *map = NULL;
    if (len) {
        map = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        if (map == MAP_FAILED) {
            int e = errno;
            close(fd);
            return cb_diag_set(diag, CB_EIO, path, 0, 0, NULL, "cannot map: %s", strerror(e));
        }
        madvise(map, len, MADV_SEQUENTIAL);
        buf = map;
    }
    close(fd);
    int r = cb_series_read_buffer(path, buf, len, opts, out, rep, diag);
    if (map)
        munmap(map, len);
    return r;
}
