/* Private to the readers (read.c, read_csv.c, read_json.c) and the checker (check.c). */
#ifndef COMEBACK_DATA_READ_INT_H
#define COMEBACK_DATA_READ_INT_H

#include <stddef.h>
#include <stdint.h>

#include "comeback/data.h"

/* ---- Numbers ---- */

enum { RD_NUM_OK = 0, RD_NUM_SYNTAX = 1, RD_NUM_NONFINITE = 2 };

/* Parses the whole of [s, s+len) as a decimal number ("-12.5", "3e-7"), correctly rounded to
 * the nearest double. Surrounding spaces are not allowed (callers trim). Returns RD_NUM_OK,
 * RD_NUM_SYNTAX (not a number) or RD_NUM_NONFINITE (nan/inf text or overflow). */
int rd_parse_double(const char *s, size_t len, double *out);

/* Writes the shortest text that reads back to exactly v ("0.1", "28400.07", "1e-08").
 * buf needs 32 bytes. Returns the length. */
size_t rd_format_double(double v, char *buf, size_t size);

/* ---- Times ---- */

enum { RD_UNIT_S = 1, RD_UNIT_MS = 2, RD_UNIT_US = 4, RD_UNIT_NS = 8, RD_UNIT_TEXT = 16 };

/* Parses a time field: an epoch number whose unit is told by its magnitude (below 1e11:
 * seconds, below 1e14: milliseconds, below 1e17: microseconds, else nanoseconds), optionally
 * with a fraction that must stay whole milliseconds ("1502946000.0"), or a date/time text
 * (cb_time_parse, plus "2017-08-17 05-AM"). *unit receives the RD_UNIT_* used.
 * Returns 0, or -1 with msg (size msg_size) set to the sentence of the problem. */
int rd_parse_time(const char *s, size_t len, int64_t *out_ms, int *unit, char *msg,
                  size_t msg_size);

/* "ms", "us", "s", "ns", "text" for one unit, "mixed" for several, "" for none. */
const char *rd_unit_name(int units);

/* The most common spacing between consecutive times (absolute, non-zero), 0 when there are
 * fewer than two distinct times. */
int64_t rd_mode_spacing(const int64_t *t, size_t n);

/* Names the timeframe of a spacing ("1h", "15m", "1M" for 28..31 days) into name (8 bytes).
 * Returns 0 or -1 when no timeframe name fits. */
int rd_timeframe_name(int64_t spacing_ms, char *name);

/* ---- The row collector shared by every reader ---- */

/* The five price/volume columns in series order. */
enum { RD_OPEN, RD_HIGH, RD_LOW, RD_CLOSE, RD_VOLUME, RD_NVAL };

typedef struct rd_ctx {
    const char *name;            /* file name used in diagnostics */
    const cb_read_opts_t *opts;
    size_t max_keep;
    cb_series_t *s;              /* rows that passed the per-row checks, in input order */
    long *lines;                 /* physical line of each row of s */
    size_t lines_cap;
    cb_diags_t problems;         /* per-row problems, in input order */
    size_t rows;                 /* data rows seen */
    size_t bad_rows;             /* rows with a per-row problem */
    int units;                   /* RD_UNIT_* seen */
    int fatal;                   /* a problem that stops reading (a JSON syntax error) */
    cb_read_report_t *rep;       /* never NULL inside the readers */
    /* Set by the format reader for the whole-file checks: */
    char time_label[96];         /* "column 'open_time_ms'" */
    int time_is_close;           /* the time column labels the candle's end (close_time) */
    int positions_are_offsets;   /* lines[] hold byte offsets (JSON) */
    const char *buf;             /* the input, for offsets -> line:column */
    long cur_pos;                /* JSON: byte offset of the candle being added */
    /* Times of rows rejected by the per-row checks, with their positions: the timeframe is
     * inferred from every readable time, not only from the good rows. */
    int64_t *bad_t;
    long *bad_pos;
    size_t n_bad_t, cap_bad_t;
} rd_ctx_t;

/* Remembers the readable time of a rejected row (position: line, or offset for JSON). */
void rd_note_bad_time(rd_ctx_t *c, long pos, int64_t t_ms);

/* Adds a problem (file name, line, column, field label, sentence). */
void rd_problem(rd_ctx_t *c, int code, long line, int column, const char *field,
                const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Checks one parsed row (finite values are guaranteed by the parser): prices and volume not
 * negative, low <= open, close <= high. text[k] / text_len[k] are the source texts quoted in
 * messages; labels[k] like "column 'high'"; names[k] like "low" for "is below 'low' ...".
 * Appends the row when it is good. Returns 0, 1 when the row had problems, or CB_ENOMEM. */
int rd_add_row(rd_ctx_t *c, long line, int column, int64_t t_ms, const double v[RD_NVAL],
               const char *const text[RD_NVAL], const size_t text_len[RD_NVAL],
               const char *const labels[RD_NVAL], const char *const names[RD_NVAL]);

/* Makes room for cap rows in c->s and c->lines. Returns 0 or CB_ENOMEM. */
int rd_reserve(rd_ctx_t *c, size_t cap);

/* The format readers: fill c->s and c->problems; return 0, CB_ENOMEM or CB_EPARSE (input
 * that cannot be read at all, with a problem added). */
int rd_read_csv(rd_ctx_t *c, const char *buf, size_t len, cb_format_t format);
int rd_read_freqtrade(rd_ctx_t *c, const char *buf, size_t len);

#endif
