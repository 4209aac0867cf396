/* Comeback market data: the candle series type, readers, validation, the local store,
 * resampling and the synthetic market generator.
 * data/ knows nothing of orders, exchanges or files other than its inputs. */
#ifndef COMEBACK_DATA_H
#define COMEBACK_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "comeback/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- The series ------------------------------------------------------------------------- */

typedef struct cb_series_meta {
    char exchange[32];  /* "binance"; "" when unknown */
    char pair[32];      /* "BTC/USDT"; "" when unknown */
    char timeframe[8];  /* "1h"; "" when unknown */
    char source[256];   /* where it came from: a file name, "synth seed=42", an exchange URL */
    int synthetic;      /* 1 for generated data: every output that shows it says so */
} cb_series_meta_t;

/* Candles in columns, oldest first: time_ms is each candle's open time (UTC ms).
 * The arrays are either owned heap memory or point into a read-only memory map (a store
 * file); in both cases cb_series_free releases them. Prices and volumes are doubles here:
 * orders, fills and balances (engine/) are fixed-point. */
typedef struct cb_series {
    size_t n;
    int64_t *time_ms;
    double *open, *high, *low, *close, *volume;
    cb_series_meta_t meta;
    /* private */
    size_t cap_;
    void *map_;
    size_t map_len_;
} cb_series_t;

/* A new empty heap series with room for `cap` candles (0 is fine). NULL on ENOMEM. */
cb_series_t *cb_series_new(size_t cap);
/* Frees the series and its arrays (or unmaps them). NULL is fine. */
void cb_series_free(cb_series_t *s);
/* Grows capacity to at least cap. A mapped series is first copied to the heap.
 * Returns 0 or CB_ENOMEM. */
int cb_series_reserve(cb_series_t *s, size_t cap);
/* Appends one candle (no validation). Returns 0 or CB_ENOMEM. */
int cb_series_push(cb_series_t *s, int64_t time_ms, double open, double high, double low,
                   double close, double volume);
/* A heap copy of candles [from, to) with the same metadata. NULL on ENOMEM. */
cb_series_t *cb_series_slice(const cb_series_t *s, size_t from, size_t to);
/* Index of the first candle with time_ms >= t (n when none). */
size_t cb_series_lower_bound(const cb_series_t *s, int64_t t_ms);

/* ---- Readers ---------------------------------------------------------------------------- */

/* The table of input formats (name, description). */
#define CB_FORMAT_MAP(X)                                                                     \
    X(AUTO, "auto", "detect from the content")                                               \
    X(BINANCE, "binance", "Binance kline CSV from data.binance.vision (12 columns, no header)") \
    X(CSV, "csv", "OHLCV CSV with a header row, columns found by name")                      \
    X(FREQTRADE, "freqtrade", "freqtrade JSON candles [[ms, o, h, l, c, v], ...]")            \
    X(CBK, "cbk", "Comeback store file")

typedef enum cb_format {
#define CB_FORMAT_ENUM_(id, name, desc) CB_FORMAT_##id,
    CB_FORMAT_MAP(CB_FORMAT_ENUM_)
#undef CB_FORMAT_ENUM_
} cb_format_t;

/* "binance" -> CB_FORMAT_BINANCE (case-insensitive). Returns 0 or CB_EINVAL. */
int cb_format_parse(const char *name, cb_format_t *out);
/* "binance"; "unknown" outside the table. */
const char *cb_format_name(cb_format_t f);
/* The table's one-line description of a format ("" outside the table). */
const char *cb_format_description(cb_format_t f);

typedef struct cb_read_opts {
    cb_format_t format;     /* CB_FORMAT_AUTO to detect */
    const char *timeframe;  /* expected timeframe ("1h"), or NULL to infer from the spacing */
    int skip_bad_rows;      /* 1: skip rows with hard errors, counting them in the report */
    size_t max_problems;    /* diagnostics kept in the report (0 = 100) */
    const char *timeframe_label; /* who gave `timeframe`, for the mismatch sentence
                                    ("--timeframe"); NULL = "the timeframe given" */
} cb_read_opts_t;

typedef struct cb_read_report {
    cb_format_t format;     /* the format read */
    size_t rows;            /* data rows seen */
    size_t skipped;         /* rows skipped (only with skip_bad_rows) */
    int newest_first;       /* the input was newest-first and was reversed */
    char time_unit[8];      /* "s", "ms", "us", "ns", "text", or "mixed" (several per row) */
    char extra_columns[256];/* comma-separated names of ignored columns */
    cb_diags_t problems;    /* every hard error (kept up to max_problems), in input order */
    char time_column[64];   /* the column the open times came from ("open_time_ms") */
    int time_is_close;      /* that column labels candle ends (close_time, month_end_date):
                               each time t became the open of the candle holding t - 1 ms */
    char timeframe[8];      /* the timeframe used for the grid check ("" when unknown) */
    int timeframe_inferred; /* 1 when it was inferred from the most common spacing */
} cb_read_report_t;

/* Frees the report's diagnostics. */
void cb_read_report_free(cb_read_report_t *rep);

/* Reads candles from a file (path; memory-mapped) or memory (name is used in diagnostics)
 * and validates them.
 *
 * Formats (opts->format, CB_FORMAT_AUTO detects): a JSON list is freqtrade; a CSV whose first
 * row starts with a number or time is a headerless Binance kline dump (column 1 open time,
 * 2-6 open/high/low/close/volume, the rest ignored); otherwise the first row is a header and
 * columns are found by name (case-insensitive, unit suffixes such as _ms allowed). One banner
 * line without any delimiter above the header is skipped. Epoch times are told apart by
 * magnitude (< 1e11 s, < 1e14 ms, < 1e17 us, else ns); text times are ISO-8601-like.
 *
 * Hard errors (each a diagnostic "file:line: column 'x': sentence", lines 1-based physical):
 * unparsable or non-finite numbers, negative prices or volume, high < low, open/close outside
 * [low, high], wrong field counts, times that repeat or go against the file's direction (the
 * first and last rows tell oldest-first from newest-first), times off the timeframe grid (the
 * given timeframe, else the most common spacing). Gaps are not errors. A given timeframe
 * that is not the file's own spacing (the most common gap between its times) is one fatal
 * problem, "the file's candles are 4h apart; --timeframe says 1h", whatever skip_bad_rows
 * says, instead of a grid error per row. Lines end in LF, CRLF or a lone CR (told by the
 * first line). Newest-first input is reversed. Blank lines are ignored. A store file (.cbk
 * magic) is loaded with cb_store_load_buffer (a heap copy; cb_store_load maps a file
 * instead).
 *
 * On success *out is a new oldest-first series (caller frees) whose meta.timeframe is the
 * given or inferred one and meta.source the name; the report says what was read. With
 * skip_bad_rows the rows with hard errors are left out, counted in rep->skipped and still
 * listed in rep->problems. Otherwise any hard error makes the call fail: CB_EPARSE or
 * CB_EVALID (the first problem's code) with `diag` set to the first problem, all of them in
 * rep->problems, *out NULL. CB_ENOENT/CB_EIO for a file that cannot be read. rep may be NULL;
 * when given, free it with cb_read_report_free whatever the result. */
int cb_series_read_file(const char *path, const cb_read_opts_t *opts, cb_series_t **out,
                        cb_read_report_t *rep, cb_diag_t *diag);
int cb_series_read_buffer(const char *name, const char *buf, size_t len,
                          const cb_read_opts_t *opts, cb_series_t **out, cb_read_report_t *rep,
                          cb_diag_t *diag);

/* Writes a series as generic CSV (header time_ms,open,high,low,close,volume; numbers printed
 * with the shortest text that reads back to the same double, never with an exponent for
 * magnitudes 1e-12..1e21). path "-" writes to stdout. Returns 0 or CB_EIO. */
int cb_series_write_csv(const cb_series_t *s, const char *path, cb_diag_t *diag);

/* ---- Checks ----------------------------------------------------------------------------- */

typedef struct cb_gap {
    int64_t after_ms;  /* open time of the last candle before the gap */
    int64_t missing;   /* candles missing */
} cb_gap_t;

typedef struct cb_check_report {
    size_t n;
    int64_t first_ms, last_ms;
    size_t gaps;             /* number of gaps */
    int64_t missing;         /* candles missing in all gaps */
    cb_gap_t largest[10];    /* the largest gaps, largest first */
    size_t n_largest;
    size_t zero_volume;      /* candles with volume 0 (not an error) */
    cb_diags_t problems;     /* hard errors (a loaded series normally has none) */
} cb_check_report_t;

/* Checks a series: OHLC relations, finite non-negative values, strictly increasing times on the
 * timeframe grid (meta.timeframe, else the most common spacing), gaps (a gap after candle t
 * misses the candles between t and the next one; months count calendar months). Diagnostics
 * name the candle: "name: candle 2021-06-09 23:00:00, column 'high': 101.5 is below 'low' 102".
 * name may be NULL (meta.source is used). Free rep with cb_check_report_free.
 * Returns 0 when there are no hard errors, CB_EVALID otherwise, CB_EINVAL for NULL args. */
int cb_series_check(const cb_series_t *s, const char *name, cb_check_report_t *rep);
void cb_check_report_free(cb_check_report_t *rep);

/* ---- Resampling ------------------------------------------------------------------------- */

typedef enum cb_resample_policy {
    CB_RESAMPLE_SKIP_INCOMPLETE = 0, /* drop buckets with missing candles (default) */
    CB_RESAMPLE_KEEP_INCOMPLETE = 1  /* keep them; they are counted in *incomplete */
} cb_resample_policy_t;

/* Aggregates s into the coarser timeframe `to` (open first, high max, low min, close last,
 * volume sum). Nothing is invented: an empty bucket produces no candle. *incomplete counts
 * buckets with missing candles (kept or skipped per policy). Returns 0, CB_EINVAL (to is not a
 * multiple of the source timeframe) or CB_ENOMEM. */
int cb_series_resample(const cb_series_t *s, const char *to, cb_resample_policy_t policy,
                       cb_series_t **out, size_t *incomplete, cb_diag_t *diag);

/* ---- Synthetic market ------------------------------------------------------------------- */

typedef struct cb_synth_opts {
    size_t bars;
    const char *timeframe;  /* "1m" */
    uint64_t seed;
    int64_t start_ms;       /* first open time (0 = 2020-01-01) */
    double start_price;     /* 0 = 20000 */
    const char *pair;       /* NULL = "SYN/USDT" */
} cb_synth_opts_t;

/* A deterministic synthetic market: geometric random walk with GARCH-like volatility
 * clustering and occasional jumps; candles respect low <= open,close <= high. Marked
 * synthetic in its metadata. The same options give the same bytes on every machine. */
int cb_synth_generate(const cb_synth_opts_t *opts, cb_series_t **out, cb_diag_t *diag);

/* ---- The local store -------------------------------------------------------------------- */

/* $COMEBACK_HOME, or "./user_data" when unset. */
const char *cb_store_home(void);

/* The longest parts of a store name (the store file's header keeps each with its NUL). */
#define CB_STORE_EXCHANGE_MAX 31
#define CB_STORE_PAIR_MAX 31
#define CB_STORE_TIMEFRAME_MAX 7

/* The one check of a store name's parts, used by every function and command that names a
 * series: exchange 1..31 of lowercase letters, digits, '.', '_', '-', starting with a letter
 * or digit (so never ".", ".." or a path); pair BASE/QUOTE of letters and digits, at most 31;
 * timeframe a cb_timeframe of at most 7 characters. Nothing is ever cut to fit. Returns 0 or
 * CB_EINVAL with diag's field "exchange", "pair" or "timeframe" and a sentence giving the rule
 * or the limit. */
int cb_store_check_name(const char *exchange, const char *pair, const char *timeframe,
                        cb_diag_t *diag);

/* A store name "binance:BTC/USDT:1h" split into its parts. Returns 0 or CB_EPARSE. */
int cb_store_parse_name(const char *name, char *exchange, size_t exchange_size, char *pair,
                        size_t pair_size, char *timeframe, size_t timeframe_size);
/* The same, saying why a name is refused (cb_store_check_name's sentence); out (may be NULL)
 * gets exchange, pair and timeframe, the rest zeroed. Returns 0 or CB_EPARSE. */
int cb_store_parse_name_diag(const char *name, cb_series_meta_t *out, cb_diag_t *diag);

/* <home>/data/<exchange>/<BASE>_<QUOTE>-<timeframe>.cbk */
int cb_store_path(const char *home, const char *exchange, const char *pair,
                  const char *timeframe, char *buf, size_t size);

/* Loads a .cbk file by memory-mapping it; verifies magic, version, size and checksum.
 * Returns 0, CB_ENOENT, CB_ECORRUPT (with diag naming what is wrong) or CB_EIO. */
int cb_store_load(const char *path, cb_series_t **out, cb_diag_t *diag);

/* Writes s atomically (temp file, fsync, rename, fsync of the directory), creating
 * directories. Returns 0 or CB_EIO. */
int cb_store_save(const char *path, const cb_series_t *s, cb_diag_t *diag);

/* Adds s's candles to the store series file at path under the rules of `data import`: a new
 * file is created; an existing series is merged with cb_series_merge (candles at times already
 * stored must be identical; the first that differs is CB_ECONFLICT and nothing is written),
 * keeping the stored metadata. Stored candles are never dropped. The write is atomic
 * (cb_store_save). *added (may be NULL) gets the count of new candles; *out (may be NULL)
 * the series as saved (caller frees). Returns 0, CB_ECONFLICT, CB_ECORRUPT, CB_ENOMEM or
 * CB_EIO. */
int cb_store_add(const char *path, const cb_series_t *s, size_t *added, cb_series_t **out,
                 cb_diag_t *diag);

/* Deletes the store series file at path and syncs its directory. Returns 0, CB_ENOENT (no
 * such series) or CB_EIO. */
int cb_store_delete(const char *path, cb_diag_t *diag);

/* Moves the series at from_path to to_path under the new name's exchange and pair (its
 * header is rewritten, the candles are unchanged): the new file is written in full and
 * linked into place only if nothing is there (an existing series is CB_EEXIST, never
 * replaced), then the old file is removed. A different timeframe is refused (CB_EINVAL):
 * relabelling candles would mislabel them; use resample. Returns 0, CB_ENOENT, CB_EEXIST,
 * CB_EINVAL, CB_ECORRUPT or CB_EIO. */
int cb_store_rename(const char *from_path, const char *to_path, const char *exchange,
                    const char *pair, const char *timeframe, cb_diag_t *diag);

/* Temporary files that writers killed mid-write left behind. */
typedef struct cb_store_stale {
    char path[512];
    uint64_t bytes;
    long pid;      /* the dead writer's process id, 0 for a file from before pids were named */
} cb_store_stale_t;

/* Removes the stale temporary files (<series>.cbk.tmp.<pid>.XXXXXX) in every
 * <home>/data/<exchange>/ directory: those whose writer process no longer exists. A live
 * writer's file is left alone. Files of the older pattern <series>.cbk.tmp.XXXXXX (no pid)
 * are removed when unchanged for 10 minutes. Up to max entries are described in found[] (may
 * be NULL); *n_found gets the count removed. A missing store is nothing to do. Returns 0 or
 * CB_EIO (a file that could not be removed). */
int cb_store_clean_stale(const char *home, cb_store_stale_t *found, size_t max, size_t *n_found,
                         cb_diag_t *diag);

/* Merges `add` into `base` (both sorted): overlapping candles must be identical, else
 * CB_ECONFLICT naming the first differing candle. *out is a new series. */
int cb_series_merge(const cb_series_t *base, const cb_series_t *add, cb_series_t **out,
                    size_t *added, cb_diag_t *diag);

/* What `data list` shows for one store file, read from its header only (no checksum pass). */
typedef struct cb_store_entry {
    char name[80];          /* "binance:BTC/USDT:1h" */
    char path[512];
    cb_series_meta_t meta;
    size_t rows;
    int64_t first_ms, last_ms; /* 0 when rows == 0 */
    uint64_t file_bytes;
    int err;                /* 0, or the error reading the header (then msg says why) */
    char msg[256];
} cb_store_entry_t;

/* Reads a store file's header (magic, version, sizes, header checksum) into *e without
 * mapping the columns. Returns 0, CB_ENOENT, CB_ECORRUPT, CB_EUNSUPPORTED or CB_EIO. */
int cb_store_peek(const char *path, cb_store_entry_t *e, cb_diag_t *diag);

/* Every <home>/data/<exchange>/<BASE>_<QUOTE>-<tf>.cbk, sorted by name. *entries is a new
 * array (caller frees with free()); an unreadable file is listed with err set. A missing
 * store is an empty list. Returns 0, CB_ENOMEM or CB_EIO. */
int cb_store_list(const char *home, cb_store_entry_t **entries, size_t *n, cb_diag_t *diag);

/* "binance:BTC/USDT:1h" from the metadata. Returns 0 or CB_EINVAL (a part is missing or
 * not valid in a store name) or CB_ERANGE (buf too small). */
int cb_store_name(const cb_series_meta_t *meta, char *buf, size_t size);

/* The loader used by cb_store_load, on bytes in memory (copied into a heap series). */
int cb_store_load_buffer(const char *name, const void *buf, size_t len, cb_series_t **out,
                         cb_diag_t *diag);

/* SHA-256 of the series' canonical payload (the column bytes of its store file: time_ms then
 * open, high, low, close, volume, each little-endian), as 64 lowercase hex digits + NUL.
 * The same candles give the same hash whatever file they came from. Returns 0 or CB_EINTERNAL. */
int cb_series_sha256(const cb_series_t *s, char hex[65]);

/* The first line Comeback writes above a CSV export of a synthetic series (the readers skip
 * it as a banner line), so the SYNTHETIC label survives export and re-import. */
#define CB_SYNTHETIC_BANNER "# SYNTHETIC data generated by comeback: not a real market"

/* Writes s as CSV exactly like cb_series_write_csv, preceded by CB_SYNTHETIC_BANNER and its
 * source when s is synthetic. Files are written atomically (temp file, fsync, rename); path
 * "-" is standard output. Returns 0 or CB_EIO. */
int cb_series_export_csv(const cb_series_t *s, const char *path, cb_diag_t *diag);

/* 1 when the file at path starts with CB_SYNTHETIC_BANNER, else 0. */
int cb_file_is_synthetic(const char *path);

/* Opens a series by store name ("binance:BTC/USDT:1h") or by file path (any readable
 * format). The one entry point the CLI uses wherever a SERIES is expected. */
int cb_series_open(const char *name_or_path, const cb_read_opts_t *opts, cb_series_t **out,
                   cb_diag_t *diag);

#ifdef __cplusplus
}
#endif
#endif
