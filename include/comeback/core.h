/* Comeback core: error codes, diagnostics, time, timeframes and fixed-point decimals.
 * core/ depends on nothing else in the project; every other module builds on it. */
#ifndef COMEBACK_CORE_H
#define COMEBACK_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Version ---------------------------------------------------------------------------- */

/* "0.1.0" and the git commit the library was built from ("unknown" outside a checkout). */
const char *cb_version(void);
const char *cb_build_commit(void);

/* ---- Errors ----------------------------------------------------------------------------- */

/* The one table of error codes: name, value, message. Functions return 0 or one of these. */
#define CB_ERRNO_MAP(X)                                                                      \
    X(EINVAL, -1, "invalid argument")                                                        \
    X(ENOMEM, -2, "out of memory")                                                           \
    X(EIO, -3, "input/output error")                                                         \
    X(EPARSE, -4, "parse error")                                                             \
    X(ERANGE, -5, "value out of range")                                                      \
    X(ENOENT, -6, "not found")                                                               \
    X(EEXIST, -7, "already exists")                                                          \
    X(ECORRUPT, -8, "corrupt or truncated data")                                             \
    X(EVALID, -9, "validation failed")                                                       \
    X(ECONFLICT, -10, "conflicting data")                                                    \
    X(EUNSUPPORTED, -11, "unsupported")                                                      \
    X(ENET, -12, "network error")                                                            \
    X(ETIMEOUT, -13, "timed out")                                                            \
    X(EEXCHANGE, -14, "exchange error")                                                      \
    X(EAUTH, -15, "authentication error")                                                    \
    X(ESTATE, -16, "invalid state")                                                          \
    X(EREJECTED, -17, "rejected")                                                            \
    X(ELIMIT, -18, "limit reached")                                                          \
    X(EINTERNAL, -19, "internal error")

enum cb_err {
    CB_OK = 0,
#define CB_ERR_ENUM_(name, value, msg) CB_##name = value,
    CB_ERRNO_MAP(CB_ERR_ENUM_)
#undef CB_ERR_ENUM_
};

/* A short English sentence for an error code; "unknown error" for codes not in the table. */
const char *cb_strerror(int err);
/* The code's symbolic name ("CB_EPARSE"), or "CB_UNKNOWN". */
const char *cb_err_name(int err);

/* A function whose result must be looked at (a write that can fail: journal, report). GCC
 * does not let a (void) cast silence it: handle the result. */
#if defined(__GNUC__) || defined(__clang__)
#define CB_MUST_CHECK __attribute__((warn_unused_result))
#else
#define CB_MUST_CHECK
#endif

/* ---- Diagnostics ------------------------------------------------------------------------ */

/* What went wrong with a user's input, precisely enough to fix it:
 *   file:line:column: field: message
 * `field` is a label such as "column 'high'" or "key 'stake'"; empty when not applicable.
 * line and column are 1-based; 0 means unknown/not applicable. */
typedef struct cb_diag {
    int code; /* a cb_err code */
    long line;
    int column;
    char file[256];
    char field[96];
    char msg[512];
} cb_diag_t;

/* Resets d to "no problem". */
void cb_diag_clear(cb_diag_t *d);

/* Fills d (which may be NULL: then only the code is returned) and returns `code`, so that
 * `return cb_diag_set(d, CB_EPARSE, path, line, 0, "column 'open'", "expected ...", ...);`
 * reads naturally. file and field may be NULL. */
int cb_diag_set(cb_diag_t *d, int code, const char *file, long line, int column,
                const char *field, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
int cb_diag_vset(cb_diag_t *d, int code, const char *file, long line, int column,
                 const char *field, const char *fmt, va_list ap)
    __attribute__((format(printf, 7, 0)));

/* 1 when d says something (a code or a message), 0 when it is cleared or NULL: a function
 * that fails fills the diag where a caller has left it empty. */
int cb_diag_is_set(const cb_diag_t *d);

/* Writes "file:line:column: field: message" (parts that are unknown are left out) into buf.
 * Never "success": a cleared diag reads as a failure without a reason (a bug to report).
 * Returns the length that the full text needs, like snprintf. */
size_t cb_diag_format(const cb_diag_t *d, char *buf, size_t size);

/* Writes s[0..len) into dst as it should appear inside "..." in a message: a NUL byte as \0,
 * tab, CR and LF as \t \r \n, '"' and '\\' escaped, other control bytes and bytes that are
 * not UTF-8 as \xHH; valid UTF-8 is kept. At most max_bytes of s are shown, then "...". dst
 * (size > 0) is always terminated. Returns dst. A field "10<NUL>" reads "10\0" and
 * "10<NUL>0" reads "10\x000" (never a bare "10"). */
const char *cb_quote(const char *s, size_t len, size_t max_bytes, char *dst, size_t size);

/* A growing list of diagnostics: keeps the first `max_keep` (0 = all) and counts every one. */
typedef struct cb_diags {
    cb_diag_t *items;
    size_t n;        /* kept */
    size_t cap;
    size_t total;    /* added, including those not kept */
    size_t max_keep; /* 0 = keep all */
} cb_diags_t;

/* Appends a copy of d. Returns 0 or CB_ENOMEM (then the item is only counted). */
int cb_diags_add(cb_diags_t *list, const cb_diag_t *d);
void cb_diags_free(cb_diags_t *list);

/* ---- Files ------------------------------------------------------------------------------ */

/* Writing a file that the user named (a report, an export) so that a failed write never
 * replaces the previous file with a truncated one:
 *   cb_file_atomic_t a;
 *   if (cb_file_atomic_open(&a, path, diag)) return ...;
 *   ... fprintf(a.f, ...) ...
 *   return cb_file_atomic_commit(&a, diag);      (or cb_file_atomic_abort(&a) to give up)
 * The bytes go to "PATH.tmp.<pid>.XXXXXX" beside the target (mode 0666 minus the umask, or the
 * existing file's mode), which commit flushes, checks, fsyncs and renames over PATH, then
 * fsyncs the directory. On any failure the temporary file is removed and PATH is untouched.
 * A symbolic link is followed (the file it names is replaced). "-" writes to stdout (commit
 * flushes and checks it, never closes it). An existing device, FIFO or socket (/dev/null,
 * /dev/stdout) cannot be renamed over and is written in place: commit checks the flush and
 * the close. The struct is caller-owned; f is valid between a successful open and
 * commit/abort. Every function that fails fills diag with the path and the system's reason. */
typedef enum cb_file_mode { CB_FILE_RENAME, CB_FILE_IN_PLACE, CB_FILE_STDOUT } cb_file_mode_t;
typedef struct cb_file_atomic {
    FILE *f;
    cb_file_mode_t mode;
    int fd;
    char path[4096]; /* the target (a link resolved) */
    char tmp[4096];  /* the temporary file; empty when there is none */
} cb_file_atomic_t;

/* Returns 0, or CB_EIO / CB_EINVAL with diag filled (nothing is left open). */
int cb_file_atomic_open(cb_file_atomic_t *a, const char *path, cb_diag_t *diag);
/* Finishes the file: 0 when PATH now holds every byte written, else CB_EIO with diag filled
 * ("PATH: cannot write: No space left on device (the previous file, if any, is unchanged)").
 * The struct is closed either way. */
int cb_file_atomic_commit(cb_file_atomic_t *a, cb_diag_t *diag);
/* Gives up: closes and removes the temporary file; PATH is untouched. Safe after commit. */
void cb_file_atomic_abort(cb_file_atomic_t *a);
/* open + write_fn(f, ctx) + commit in one call; write_fn returns 0 or a cb_err code (a write
 * error is also caught from ferror). Returns 0 or a cb_err code with diag filled. */
int cb_file_write_atomic(const char *path, int (*write_fn)(FILE *f, void *ctx), void *ctx,
                         cb_diag_t *diag);

/* ---- Time ------------------------------------------------------------------------------- */
/* Time is int64 milliseconds since the Unix epoch, UTC, everywhere. */

#define CB_MS_PER_SEC INT64_C(1000)
#define CB_MS_PER_MIN INT64_C(60000)
#define CB_MS_PER_HOUR INT64_C(3600000)
#define CB_MS_PER_DAY INT64_C(86400000)

/* Days since 1970-01-01 for a proleptic Gregorian date, and back. */
int64_t cb_days_from_civil(int64_t year, int month, int day);
void cb_civil_from_days(int64_t days, int64_t *year, int *month, int *day);

/* Parses a UTC date/time: "2024-01-31", "2024-01-31 13:45", "2024-01-31T13:45:00",
 * "2024-01-31 13:45:00.250", with an optional "Z" or "+00:00"-style offset (applied), and
 * "2024/01/31" slashes. Also "YYYY-MM-DD HH-PM" style is NOT accepted. len may be (size_t)-1
 * for a NUL-terminated string. Returns 0 or CB_EPARSE/CB_ERANGE. */
int cb_time_parse(const char *s, size_t len, int64_t *out_ms);

/* Formats ms as "2024-01-31 13:45:00" (UTC; ".250" added when ms has a fraction).
 * buf needs 32 bytes. Returns buf. */
char *cb_time_format(int64_t ms, char *buf, size_t size);
/* "2024-01-31T13:45:00Z" (ISO-8601 with milliseconds when non-zero). */
char *cb_time_format_iso(int64_t ms, char *buf, size_t size);

/* Wall clock and monotonic clock in ms / ns. */
int64_t cb_now_ms(void);
int64_t cb_monotonic_ns(void);

/* ---- Timeframes ------------------------------------------------------------------------- */

/* A candle length: "1s".."59s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h",
 * "12h", "1d", "3d", "1w", "1M" (calendar month). Any positive count of a unit is accepted
 * ("7m", "2d"); weeks start on Monday 00:00 UTC like Binance's. */
typedef struct cb_timeframe {
    int64_t ms;  /* length in ms; for months 0 */
    int months;  /* calendar months (1M = 1), 0 for fixed-length timeframes */
    char name[8];
} cb_timeframe_t;

/* Parses "1h" etc. Returns 0 or CB_EPARSE. */
int cb_timeframe_parse(const char *s, cb_timeframe_t *tf);
/* The open time of the candle containing t. */
int64_t cb_timeframe_floor(const cb_timeframe_t *tf, int64_t t_ms);
/* The open time of the candle after the one opening at open_ms. */
int64_t cb_timeframe_next(const cb_timeframe_t *tf, int64_t open_ms);
/* 1 when t is a candle open time on the timeframe's grid. */
int cb_timeframe_on_grid(const cb_timeframe_t *tf, int64_t t_ms);

/* ---- Fixed-point decimals --------------------------------------------------------------- */
/* Money and quantities are int64 counts of 10^-scale units (scale 0..18). */

/* Parses "123.4500" exactly at `scale` decimals: more significant decimals than scale, or a
 * value that does not fit, is an error (CB_ERANGE); not a number is CB_EPARSE.
 * len may be (size_t)-1 for a NUL-terminated string. */
int cb_dec_parse(const char *s, size_t len, int scale, int64_t *out);
/* Formats v at `scale` decimals with trailing zeros removed ("123.45", "-0.001", "7").
 * Returns the length written (buf needs 24 + 2 bytes). */
size_t cb_dec_format(int64_t v, int scale, char *buf, size_t size);
/* Formats with exactly `scale` decimals ("123.4500"). */
size_t cb_dec_format_fixed(int64_t v, int scale, char *buf, size_t size);
/* 10^scale as int64 (scale 0..18). */
int64_t cb_pow10_i64(int scale);

/* ---- Checked fixed-point money ---------------------------------------------------------- */
/* The engine, the fill model, the venues and the simulator count prices, quantities,
 * notionals, fees and balances in int64 units of 1e-8 (CB_FX_ONE = 1.00000000). The one limit
 * of every such value is CB_FX_MAX = INT64_MAX units, 92,233,720,368.54775807 of its currency
 * (docs/backtest.md, "Limits"). Products such as price * quantity are formed in 128 bits and
 * are exact; every result is either exact or refused with CB_ERANGE, never wrapped. The
 * helpers below are that one mechanism: on CB_ERANGE *out is left untouched. */

#define CB_FX_SCALE 8
#define CB_FX_ONE INT64_C(100000000)
#define CB_FX_MAX INT64_MAX
#define CB_FX_MAX_D 92233720368.54775807 /* CB_FX_MAX / CB_FX_ONE, for messages and doubles */

/* a + b and a - b. Returns 0 or CB_ERANGE. */
static inline int cb_fx_add(int64_t a, int64_t b, int64_t *out)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return CB_ERANGE;
    *out = r;
    return 0;
}
static inline int cb_fx_sub(int64_t a, int64_t b, int64_t *out)
{
    int64_t r;
    if (__builtin_sub_overflow(a, b, &r))
        return CB_ERANGE;
    *out = r;
    return 0;
}

/* a * b / d (d > 0) with a 128-bit intermediate, truncated toward zero, or rounded up (away
 * from zero for a positive quotient) when round_up. Returns 0 or CB_ERANGE (d <= 0 too). */
static inline int cb_fx_muldiv(int64_t a, int64_t b, int64_t d, int round_up, int64_t *out)
{
    if (d <= 0)
        return CB_ERANGE;
    int64_t p64;
    if (!__builtin_mul_overflow(a, b, &p64)) {
        /* the common case: the product fits, and a 64-bit division (not __divti3) gives the
         * same quotient; d > 0, so the quotient fits too */
        int64_t q64 = p64 / d;
        if (round_up && q64 * d != p64 && p64 > 0)
            q64++;
        *out = q64;
        return 0;
    }
    __int128 p = (__int128)a * b, q = p / d;
    if (round_up && q * d != p && p > 0)
        q++;
    if (q > INT64_MAX || q < INT64_MIN)
        return CB_ERANGE;
    *out = (int64_t)q;
    return 0;
}

/* a * b in fixed point (a * b / CB_FX_ONE): price * quantity = notional, notional * rate =
 * fee. Returns 0 or CB_ERANGE. */
static inline int cb_fx_mul(int64_t a, int64_t b, int round_up, int64_t *out)
{
    return cb_fx_muldiv(a, b, CB_FX_ONE, round_up, out);
}

/* a / b in fixed point (a * CB_FX_ONE / b, b > 0): notional / price = quantity.
 * Returns 0 or CB_ERANGE. */
static inline int cb_fx_div(int64_t a, int64_t b, int round_up, int64_t *out)
{
    return cb_fx_muldiv(a, CB_FX_ONE, b, round_up, out);
}

/* x (a price or an amount as a double) to the nearest 1e-8 unit. Returns 0, or CB_ERANGE when
 * x is not finite or its magnitude is beyond CB_FX_MAX. */
int cb_fx_from_double_checked(double x, int64_t *out);

/* Fills d with CB_ERANGE and "<what> 1.2e+11 <unit> exceeds the largest representable amount
 * 9.2e+10 <unit>" (value in units of the currency, not 1e-8; unit may be NULL or empty) and
 * returns CB_ERANGE. field may be NULL. */
int cb_fx_range_diag(cb_diag_t *d, const char *field, const char *what, double value,
                     const char *unit);

#ifdef __cplusplus
}
#endif
#endif
