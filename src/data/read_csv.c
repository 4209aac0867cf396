/* CSV readers: Binance kline dumps (12 columns, no header) and generic OHLCV CSV with a
 * header row whose columns are found by name. One pass over the bytes; numbers are parsed by
 * hand (exactly, see rd_parse_double) because strtod per field is the bottleneck. */
#include <stdio.h>
#include <string.h>

#include "data/read_int.h"

#define MAXF 64

typedef struct span {
    const char *p;
    size_t n;
} span_t;

static const char *const binance_names[12] = {
    "open_time", "open",   "high",           "low",
    "close",     "volume", "close_time",     "quote_volume",
    "count",     "taker_buy_base", "taker_buy_quote", "ignore"};

static span_t trim(span_t s)
{
    while (s.n && (*s.p == ' ' || *s.p == '\t')) {
        s.p++;
        s.n--;
    }
    while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t' || s.p[s.n - 1] == '\r'))
        s.n--;
    return s;
}

/* Splits the line at p into fields (quoted fields may hold the delimiter; "" is a quote).
 * Returns the start of the next line; *nf is the number of fields (spans beyond MAXF are not
 * stored); *bad_quote is set for a quote that is not closed on the line. */
static const char *split_line(const char *p, const char *end, char delim, span_t *f, size_t *nf,
                              int *bad_quote)
{
    size_t k = 0;
    *bad_quote = 0;
    for (;;) {
        const char *fs = p, *fe;
        if (p < end && *p == '"') {
            fs = ++p;
            for (;;) {
                if (p >= end || *p == '\n') {
                    *bad_quote = 1;
                    break;
                }
                if (*p == '"') {
                    if (p + 1 < end && p[1] == '"') {
                        p += 2;
                        continue;
                    }
                    break;
                }
                p++;
            }
            fe = p;
            if (p < end && *p == '"')
                p++;
            while (p < end && *p != delim && *p != '\n') {
                if (*p != '\r' && *p != ' ' && *p != '\t')
                    *bad_quote = 1;
                p++;
            }
        } else {
            while (p < end && *p != delim && *p != '\n')
                p++;
            fe = p;
        }
        if (k < MAXF) {
            f[k].p = fs;
            f[k].n = (size_t)(fe - fs);
        }
        k++;
        if (p < end && *p == delim) {
            p++;
            continue;
        }
        break;
    }
    if (k <= MAXF && f[k - 1].n && f[k - 1].p[f[k - 1].n - 1] == '\r')
        f[k - 1].n--;
    *nf = k;
    return p < end ? p + 1 : p;
}

static int is_blank(const char *p, const char *end)
{
    for (; p < end && *p != '\n'; p++)
        if (*p != ' ' && *p != '\t' && *p != '\r')
            return 0;
    return 1;
}

static const char *next_line(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    return nl ? nl + 1 : end;
}

/* The delimiter of a header or data line: the most frequent of , ; tab (0 when none). */
static char guess_delim(const char *p, const char *end)
{
    size_t comma = 0, semi = 0, tab = 0;
    int inq = 0;
    for (; p < end && *p != '\n'; p++) {
        if (*p == '"')
            inq = !inq;
        else if (!inq && *p == ',')
            comma++;
        else if (!inq && *p == ';')
            semi++;
        else if (!inq && *p == '\t')
            tab++;
    }
    if (!comma && !semi && !tab)
        return 0;
    if (comma >= semi && comma >= tab)
        return ',';
    return semi >= tab ? ';' : '\t';
}

/* Lowercases a header name, turns runs of non-alphanumerics into one '_' and strips unit
 * suffixes (_ms, _s, _us, _ns, _utc...), reporting the time unit a suffix declares. */
static void normalize_name(span_t name, char *out, size_t size, int *unit)
{
    size_t o = 0;
    int pending = 0;
    *unit = 0;
    for (size_t i = 0; i < name.n && o + 2 < size; i++) {
        char ch = name.p[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
            if (pending && o)
                out[o++] = '_';
            pending = 0;
            out[o++] = ch;
        } else {
            pending = 1;
        }
    }
    out[o] = '\0';
    static const struct {
        const char *suffix;
        int unit;
    } sfx[] = {{"_ms", RD_UNIT_MS},      {"_millis", RD_UNIT_MS}, {"_s", RD_UNIT_S},
               {"_sec", RD_UNIT_S},      {"_secs", RD_UNIT_S},    {"_seconds", RD_UNIT_S},
               {"_us", RD_UNIT_US},      {"_micros", RD_UNIT_US}, {"_ns", RD_UNIT_NS},
               {"_nanos", RD_UNIT_NS},   {"_utc", 0},             {"_gmt", 0}};
    for (int again = 1; again;) {
        again = 0;
        for (size_t k = 0; k < sizeof sfx / sizeof sfx[0]; k++) {
            size_t sl = strlen(sfx[k].suffix);
            if (o > sl && strcmp(out + o - sl, sfx[k].suffix) == 0) {
                o -= sl;
                out[o] = '\0';
                if (sfx[k].unit)
                    *unit = sfx[k].unit;
                again = 1;
                break;
            }
        }
    }
}

static int in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

static const char *const open_time_names[] = {
    "time",        "timestamp", "date",      "datetime",  "date_time", "open_time",
    "opentime",    "unix",      "unix_time", "unix_timestamp", "epoch", "ts",
    "time_open",   "open_date", "candle_time", "start", "start_time", NULL};
static const char *const close_time_names[] = {
    "close_time", "closetime", "time_close", "close_date", "end", "end_time", "end_date",
    "month_end_date", "period_end", NULL};

typedef struct layout {
    size_t nf;            /* fields per row */
    size_t ti;            /* time column */
    size_t idx[RD_NVAL];  /* open, high, low, close, volume columns */
    int declared_unit;    /* unit a column-name suffix declares, 0 = none */
    char labels[RD_NVAL][80];
    char names[RD_NVAL][48];
    const char *label_ptr[RD_NVAL];
    const char *name_ptr[RD_NVAL];
} layout_t;

static void set_names(layout_t *L, int k, span_t name)
{
    int n = (int)(name.n > 40 ? 40 : name.n);
    snprintf(L->labels[k], sizeof L->labels[k], "column '%.*s'", n, name.p);
    snprintf(L->names[k], sizeof L->names[k], "%.*s", n, name.p);
    L->label_ptr[k] = L->labels[k];
    L->name_ptr[k] = L->names[k];
}

static void add_extra(char *buf, size_t size, span_t name)
{
    size_t used = strlen(buf);
    if (used + name.n + 5 >= size) {
        if (used + 4 < size && (used < 3 || strcmp(buf + used - 3, "...") != 0))
            snprintf(buf + used, size - used, "%s...", used ? "," : "");
        return;
    }
    snprintf(buf + used, size - used, "%s%.*s", used ? "," : "", (int)name.n, name.p);
}

/* Finds the columns by name in the header. Returns 0 or -1 (a problem was added). */
static int map_header(rd_ctx_t *c, const span_t *f, size_t nf, long line, layout_t *L)
{
    static const char *const val_names[RD_NVAL] = {"open", "high", "low", "close", "volume"};
    size_t time_open = (size_t)-1, time_close = (size_t)-1, vol_prefix = (size_t)-1;
    int unit_open = 0, unit_close = 0;
    for (int k = 0; k < RD_NVAL; k++)
        L->idx[k] = (size_t)-1;
    if (nf > MAXF) {
        rd_problem(c, CB_EPARSE, line, 0, "header", "%zu columns is more than the %d supported",
                   nf, MAXF);
        return -1;
    }
    for (size_t i = 0; i < nf; i++) {
        span_t nm = trim(f[i]);
        char norm[64];
        int unit;
        normalize_name(nm, norm, sizeof norm, &unit);
        int used = 0;
        for (int k = 0; k < RD_NVAL && !used; k++)
            if (L->idx[k] == (size_t)-1 &&
                (strcmp(norm, val_names[k]) == 0 || (k == RD_VOLUME && strcmp(norm, "vol") == 0))) {
                L->idx[k] = i;
                used = 1;
            }
        if (!used && time_open == (size_t)-1 && in_list(norm, open_time_names)) {
            time_open = i;
            unit_open = unit;
            used = 1;
        }
        if (!used && time_close == (size_t)-1 && in_list(norm, close_time_names)) {
            time_close = i;
            unit_close = unit;
        }
        if (!used && vol_prefix == (size_t)-1 && strncmp(norm, "volume_", 7) == 0)
            vol_prefix = i;
    }
    if (L->idx[RD_VOLUME] == (size_t)-1)
        L->idx[RD_VOLUME] = vol_prefix;
    if (time_open != (size_t)-1) {
        L->ti = time_open;
        L->declared_unit = unit_open;
    } else if (time_close != (size_t)-1) {
        L->ti = time_close;
        L->declared_unit = unit_close;
        c->time_is_close = 1;
    } else {
        rd_problem(c, CB_EPARSE, line, 0, "header",
                   "no time column (expected one named time, timestamp, date, datetime, "
                   "open_time or unix, with or without a unit suffix such as _ms)");
        return -1;
    }
    for (int k = 0; k < RD_NVAL; k++)
        if (L->idx[k] == (size_t)-1) {
            rd_problem(c, CB_EPARSE, line, 0, "header", "no '%s' column", val_names[k]);
            return -1;
        }
    span_t tn = trim(f[L->ti]);
    snprintf(c->time_label, sizeof c->time_label, "column '%.*s'", (int)(tn.n > 40 ? 40 : tn.n),
             tn.p);
    snprintf(c->rep->time_column, sizeof c->rep->time_column, "%.*s",
             (int)(tn.n > 40 ? 40 : tn.n), tn.p);
    for (int k = 0; k < RD_NVAL; k++)
        set_names(L, k, trim(f[L->idx[k]]));
    for (size_t i = 0; i < nf; i++) {
        int used = i == L->ti;
        for (int k = 0; k < RD_NVAL; k++)
            used |= i == L->idx[k];
        if (!used)
            add_extra(c->rep->extra_columns, sizeof c->rep->extra_columns, trim(f[i]));
    }
    L->nf = nf;
    return 0;
}

static void binance_layout(rd_ctx_t *c, size_t nf, layout_t *L)
{
    L->nf = nf;
    L->ti = 0;
    L->declared_unit = 0;
    snprintf(c->time_label, sizeof c->time_label, "column 'open_time'");
    snprintf(c->rep->time_column, sizeof c->rep->time_column, "open_time");
    for (int k = 0; k < RD_NVAL; k++) {
        L->idx[k] = (size_t)k + 1;
        span_t nm = {binance_names[k + 1], strlen(binance_names[k + 1])};
        set_names(L, k, nm);
    }
    for (size_t i = 6; i < nf; i++) {
        char tmp[32];
        const char *nm = tmp;
        if (i < 12)
            nm = binance_names[i];
        else
            snprintf(tmp, sizeof tmp, "column %zu", i + 1);
        span_t sp = {nm, strlen(nm)};
        add_extra(c->rep->extra_columns, sizeof c->rep->extra_columns, sp);
    }
}

static int clip(size_t n) { return (int)(n > 40 ? 40 : n); }

static const char *unit_word(int unit)
{
    switch (unit) {
    case RD_UNIT_S: return "seconds";
    case RD_UNIT_MS: return "milliseconds";
    case RD_UNIT_US: return "microseconds";
    default: return "nanoseconds";
    }
}

int rd_read_csv(rd_ctx_t *c, const char *buf, size_t len, cb_format_t format)
{
    const char *p = buf, *end = buf + len;
    long line = 0;
    if (len >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB &&
        (unsigned char)p[2] == 0xBF)
        p += 3;
    /* Skip blank lines and a banner line without any delimiter (CryptoDataDownload puts its
     * URL above the header). */
    char delim = 0;
    int banners = 0;
    while (p < end) {
        if (is_blank(p, end)) {
            p = next_line(p, end);
            line++;
            continue;
        }
        delim = guess_delim(p, end);
        if (delim || format == CB_FORMAT_BINANCE || banners >= 3)
            break;
        banners++;
        p = next_line(p, end);
        line++;
    }
    if (p >= end) {
        if (banners)
            rd_problem(c, CB_EPARSE, 1, 0, NULL,
                       "no header and no candles: %d line%s without a ',', ';' or tab delimiter",
                       banners, banners == 1 ? "" : "s");
        else
            rd_problem(c, CB_EPARSE, line ? line : 1, 0, NULL,
                       "the file is empty (no header, no candles)");
        c->fatal = 1;
        return 0;
    }
    if (!delim)
        delim = ',';

    span_t f[MAXF];
    size_t nf;
    int bad_quote;
    const char *first = p;
    const char *after = split_line(p, end, delim, f, &nf, &bad_quote);
    long first_line = line + 1;
    span_t f0 = trim(f[0]);
    double dv;
    int64_t tv;
    int unit;
    char msg[160];
    int headerless = rd_parse_double(f0.p, f0.n, &dv) == RD_NUM_OK ||
                     rd_parse_time(f0.p, f0.n, &tv, &unit, msg, sizeof msg) == 0;
    layout_t L;
    memset(&L, 0, sizeof L);
    if (headerless) {
        if (format == CB_FORMAT_CSV) {
            rd_problem(c, CB_EPARSE, first_line, 0, NULL,
                       "expected a header row naming the columns (time, open, high, low, close, "
                       "volume); for headerless Binance klines use the binance format");
            c->fatal = 1;
            return 0;
        }
        if (nf < 6) {
            rd_problem(c, CB_EPARSE, first_line, 0, NULL,
                       "a headerless row needs at least 6 fields (open_time, open, high, low, "
                       "close, volume), got %zu",
                       nf);
            c->fatal = 1;
            return 0;
        }
        c->rep->format = format == CB_FORMAT_AUTO ? CB_FORMAT_BINANCE : format;
        binance_layout(c, nf, &L);
        /* Data starts at the first line. */
        after = first;
        line = first_line - 1;
    } else {
        c->rep->format = format == CB_FORMAT_AUTO ? CB_FORMAT_CSV : format;
        if (map_header(c, f, nf, first_line, &L) != 0) {
            c->fatal = 1;
            return 0;
        }
        line = first_line;
    }
    p = after;
    /* Room for the rows this file probably holds, judging by its first data line. */
    if (p < end) {
        size_t line_len = (size_t)(next_line(p, end) - p);
        size_t est = (size_t)(end - p) / (line_len ? line_len : 1) + 16;
        if (est > 100000000)
            est = 100000000;
        if (rd_reserve(c, est) != 0)
            return CB_ENOMEM;
    }

    while (p < end) {
        const char *ls = p;
        line++;
        p = split_line(ls, end, delim, f, &nf, &bad_quote);
        if ((*ls == '\n' || *ls == '\r' || *ls == ' ' || *ls == '\t' || ls == end) &&
            is_blank(ls, end))
            continue;
        c->rows++;
        if (bad_quote) {
            rd_problem(c, CB_EPARSE, line, 0, NULL, "a quoted field is not closed properly");
            c->bad_rows++;
            continue;
        }
        if (nf != L.nf) {
            if (headerless)
                rd_problem(c, CB_EPARSE, line, 0, NULL,
                           "line has %zu fields, expected %zu like the first row", nf, L.nf);
            else
                rd_problem(c, CB_EPARSE, line, 0, NULL, "line has %zu fields, the header has %zu",
                           nf, L.nf);
            c->bad_rows++;
            continue;
        }
        int bad = 0, time_ok = 0;
        span_t ts = trim(f[L.ti]);
        int64_t t_ms = 0;
        if (rd_parse_time(ts.p, ts.n, &t_ms, &unit, msg, sizeof msg) != 0) {
            rd_problem(c, CB_EPARSE, line, 0, c->time_label, "%s", msg);
            bad = 1;
        } else if (L.declared_unit && unit != RD_UNIT_TEXT && unit != L.declared_unit) {
            rd_problem(c, CB_EPARSE, line, 0, c->time_label,
                       "%.*s is in %s by its size, but the column name says %s", clip(ts.n),
                       ts.p, unit_word(unit), unit_word(L.declared_unit));
            bad = 1;
        } else {
            c->units |= unit;
            time_ok = 1;
        }
        double v[RD_NVAL];
        const char *text[RD_NVAL];
        size_t text_len[RD_NVAL];
        for (int k = 0; k < RD_NVAL; k++) {
            span_t s = trim(f[L.idx[k]]);
            char q[200];
            text[k] = s.p;
            text_len[k] = s.n;
            int r = rd_parse_double(s.p, s.n, &v[k]);
            if (r == RD_NUM_OK)
                continue;
            bad = 1;
            if (s.n == 0)
                rd_problem(c, CB_EPARSE, line, 0, L.label_ptr[k],
                           "expected a number, got an empty field");
            else if (r == RD_NUM_NONFINITE)
                rd_problem(c, CB_EPARSE, line, 0, L.label_ptr[k],
                           "expected a finite number, got \"%s\"",
                           cb_quote(s.p, s.n, 40, q, sizeof q));
            else /* quoted: a NUL or control byte is shown, not cut at ("10\0", not "10") */
                rd_problem(c, CB_EPARSE, line, 0, L.label_ptr[k], "expected a number, got \"%s\"",
                           cb_quote(s.p, s.n, 40, q, sizeof q));
        }
        if (bad) {
            if (time_ok)
                rd_note_bad_time(c, line, t_ms);
            c->bad_rows++;
            continue;
        }
        int r = rd_add_row(c, line, 0, t_ms, v, text, text_len, L.label_ptr, L.name_ptr);
        if (r < 0)
            return r;
    }
    return 0;
}
