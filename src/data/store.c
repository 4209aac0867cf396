/* The local store: $COMEBACK_HOME/data/<exchange>/<BASE>_<QUOTE>-<tf>.cbk files, a binary
 * columnar format (docs/store-format.md) that is memory-mapped on load and written
 * atomically (temp file, fsync, rename, fsync of the directory). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "comeback/data.h"
#include "data/read_int.h"
#include "data/store_int.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the store maps little-endian columns directly; big-endian hosts need a byte-swapping loader"
#endif

/* ---- CBH64 ------------------------------------------------------------------------------ */

#define H_P1 UINT64_C(0x9E3779B185EBCA87)
#define H_P2 UINT64_C(0xC2B2AE3D27D4EB4F)
#define H_P3 UINT64_C(0x165667B19E3779F9)

static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static inline uint64_t h_round(uint64_t acc, uint64_t w)
{
    acc += w * H_P2;
    acc = rotl64(acc, 31);
    return acc * H_P1;
}

static inline uint64_t load64(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

void cbh64_init(cbh64_t *h)
{
    h->lane[0] = H_P1 + H_P2;
    h->lane[1] = H_P2;
    h->lane[2] = 0;
    h->lane[3] = (uint64_t)0 - H_P1;
    h->words = 0;
}

void cbh64_update(cbh64_t *h, const void *p, size_t n_words)
{
    const unsigned char *b = p;
    size_t i = 0;
    /* Single words until word i of the stream lands on lane 0, then four at a time. */
    while (i < n_words && (h->words & 3)) {
        h->lane[h->words & 3] = h_round(h->lane[h->words & 3], load64(b + 8 * i));
        h->words++;
        i++;
    }
    uint64_t a0 = h->lane[0], a1 = h->lane[1], a2 = h->lane[2], a3 = h->lane[3];
    for (; i + 4 <= n_words; i += 4) {
        a0 = h_round(a0, load64(b + 8 * i));
        a1 = h_round(a1, load64(b + 8 * i + 8));
        a2 = h_round(a2, load64(b + 8 * i + 16));
        a3 = h_round(a3, load64(b + 8 * i + 24));
        h->words += 4;
    }
    h->lane[0] = a0, h->lane[1] = a1, h->lane[2] = a2, h->lane[3] = a3;
    for (; i < n_words; i++) {
        h->lane[h->words & 3] = h_round(h->lane[h->words & 3], load64(b + 8 * i));
        h->words++;
    }
}

uint64_t cbh64_final(const cbh64_t *h)
{
    uint64_t x = rotl64(h->lane[0], 1) + rotl64(h->lane[1], 7) + rotl64(h->lane[2], 12) +
                 rotl64(h->lane[3], 18);
    x ^= (h->words * 8) * H_P3;
    x ^= x >> 33;
    x *= H_P2;
    x ^= x >> 29;
    x *= H_P3;
    x ^= x >> 32;
    return x;
}

static uint64_t hash_bytes(const void *p, size_t n_words)
{
    cbh64_t h;
    cbh64_init(&h);
    cbh64_update(&h, p, n_words);
    return cbh64_final(&h);
}

/* ---- Little-endian header fields -------------------------------------------------------- */

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const unsigned char *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Copies a NUL-padded string field; 0 when it has no NUL inside its width. */
static int get_str(char *dst, size_t dst_size, const unsigned char *p, size_t width)
{
    const unsigned char *nul = memchr(p, 0, width);
    if (!nul)
        return 0;
    size_t n = (size_t)(nul - p);
    if (n >= dst_size)
        return 0;
    memcpy(dst, p, n);
    dst[n] = '\0';
    return 1;
}

/* ---- Names and paths -------------------------------------------------------------------- */

const char *cb_store_home(void)
{
    const char *h = getenv("COMEBACK_HOME");
    return (h && *h) ? h : "./user_data";
}

static int is_exchange_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

static int is_asset_char(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* A part of a name quoted for a message: at most 40 characters, control bytes as \xNN. */
static const char *quoted(const char *s, size_t n, char *buf, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 8 < size; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (i == 40) {
            o += (size_t)snprintf(buf + o, size - o, "...");
            break;
        }
        if (ch < 0x20 || ch >= 0x7f)
            o += (size_t)snprintf(buf + o, size - o, "\\x%02x", ch);
        else
            buf[o++] = (char)ch;
    }
    buf[o] = '\0';
    return buf;
}

/* The one check of a store name's parts (n bytes each): every path into the store, every
 * command that names a series, goes through it. field names the part in diag. */
static int check_exchange(const char *s, size_t n, cb_diag_t *diag)
{
    char q[200];
    if (n == 0)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "exchange",
                           "the exchange name is empty");
    if (n > CB_STORE_EXCHANGE_MAX)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "exchange",
                           "'%s' is %zu characters; an exchange name has at most %d",
                           quoted(s, n, q, sizeof q), n, CB_STORE_EXCHANGE_MAX);
    for (size_t i = 0; i < n; i++)
        if (!is_exchange_char((unsigned char)s[i]) || (i == 0 && !isalnum((unsigned char)s[i])))
            return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "exchange",
                               "'%s' is not an exchange name (lowercase letters, digits, '.', "
                               "'_' and '-', starting with a letter or digit)",
                               quoted(s, n, q, sizeof q));
    return 0;
}

/* "BTC/USDT": two non-empty runs of letters and digits around one '/'. */
static int check_pair(const char *s, size_t n, cb_diag_t *diag)
{
    char q[200];
    if (n == 0)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "pair", "the pair is empty");
    if (n > CB_STORE_PAIR_MAX)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "pair",
                           "'%s' is %zu characters; a pair has at most %d",
                           quoted(s, n, q, sizeof q), n, CB_STORE_PAIR_MAX);
    const char *slash = memchr(s, '/', n);
    int ok = slash && slash != s && slash != s + n - 1;
    for (size_t i = 0; ok && i < n; i++)
        if (s + i != slash && !is_asset_char((unsigned char)s[i]))
            ok = 0;
    if (!ok)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "pair",
                           "'%s' is not a pair: expected BASE/QUOTE of letters and digits "
                           "(BTC/USDT)",
                           quoted(s, n, q, sizeof q));
    return 0;
}

static int check_timeframe(const char *s, size_t n, cb_diag_t *diag)
{
    char q[200], tf[16];
    cb_timeframe_t t;
    int ok = n > 0 && n <= CB_STORE_TIMEFRAME_MAX;
    if (ok) {
        memcpy(tf, s, n);
        tf[n] = '\0';
        ok = cb_timeframe_parse(tf, &t) == 0;
    }
    if (!ok)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "timeframe",
                           "'%s' is not a timeframe (1m, 5m, 1h, 4h, 1d, 1w, 1M: a count of "
                           "s, m, h, d, w or M, at most %d characters)",
                           quoted(s, n, q, sizeof q), CB_STORE_TIMEFRAME_MAX);
    return 0;
}

int cb_store_check_name(const char *exchange, const char *pair, const char *timeframe,
                        cb_diag_t *diag)
{
    if (!exchange || !pair || !timeframe)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL, "a store name needs an exchange, "
                                                           "a pair and a timeframe");
    int r = check_exchange(exchange, strlen(exchange), diag);
    if (!r)
        r = check_pair(pair, strlen(pair), diag);
    if (!r)
        r = check_timeframe(timeframe, strlen(timeframe), diag);
    return r;
}

static int copy_part(char *dst, size_t size, const char *src, size_t n)
{
    if (!dst)
        return 0;
    if (n >= size)
        return CB_ERANGE;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return 0;
}

int cb_store_parse_name_diag(const char *name, cb_series_meta_t *out, cb_diag_t *diag)
{
    if (!name)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL, "no store name given");
    const char *c1 = strchr(name, ':');
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2 || strchr(c2 + 1, ':')) {
        char q[200];
        return cb_diag_set(diag, CB_EPARSE, NULL, 0, 0, NULL,
                           "'%s' is not a store name (EXCHANGE:BASE/QUOTE:TIMEFRAME, e.g. "
                           "binance:BTC/USDT:1h)",
                           quoted(name, strlen(name), q, sizeof q));
    }
    size_t ne = (size_t)(c1 - name), np = (size_t)(c2 - c1 - 1);
    const char *tf = c2 + 1;
    int r = check_exchange(name, ne, diag);
    if (!r)
        r = check_pair(c1 + 1, np, diag);
    if (!r)
        r = check_timeframe(tf, strlen(tf), diag);
    if (r)
        return CB_EPARSE;
    if (out) {
        memset(out, 0, sizeof *out);
        copy_part(out->exchange, sizeof out->exchange, name, ne);
        copy_part(out->pair, sizeof out->pair, c1 + 1, np);
        copy_part(out->timeframe, sizeof out->timeframe, tf, strlen(tf));
    }
    return 0;
}

int cb_store_parse_name(const char *name, char *exchange, size_t exchange_size, char *pair,
                        size_t pair_size, char *timeframe, size_t timeframe_size)
{
    if (!name)
        return CB_EINVAL;
    cb_series_meta_t m;
    if (cb_store_parse_name_diag(name, &m, NULL) != 0)
        return CB_EPARSE;
    if (copy_part(exchange, exchange_size, m.exchange, strlen(m.exchange)) ||
        copy_part(pair, pair_size, m.pair, strlen(m.pair)) ||
        copy_part(timeframe, timeframe_size, m.timeframe, strlen(m.timeframe)))
        return CB_ERANGE;
    return 0;
}

int cb_store_path(const char *home, const char *exchange, const char *pair,
                  const char *timeframe, char *buf, size_t size)
{
    if (cb_store_check_name(exchange, pair, timeframe, NULL) != 0)
        return CB_EINVAL;
    if (!home)
        home = cb_store_home();
    const char *slash = strchr(pair, '/');
    int n = snprintf(buf, size, "%s/data/%s/%.*s_%s-%s.cbk", home, exchange,
                     (int)(slash - pair), pair, slash + 1, timeframe);
    if (n < 0 || (size_t)n >= size)
        return CB_ERANGE;
    return 0;
}

int cb_store_name(const cb_series_meta_t *meta, char *buf, size_t size)
{
    if (cb_store_check_name(meta->exchange, meta->pair, meta->timeframe, NULL) != 0)
        return CB_EINVAL;
    int n = snprintf(buf, size, "%s:%s:%s", meta->exchange, meta->pair, meta->timeframe);
    if (n < 0 || (size_t)n >= size)
        return CB_ERANGE;
    return 0;
}

/* ---- Loading ---------------------------------------------------------------------------- */

typedef struct parsed_header {
    uint64_t rows;
    uint64_t payload_hash;
    cb_series_meta_t meta;
    int64_t first_ms, last_ms;
} parsed_header_t;

/* Validates the fixed header in buf[0..len) (len is the whole file's size when known, or
 * SIZE_MAX when only the header was read). Fills *h. */
static int parse_header(const char *name, const unsigned char *buf, size_t avail,
                        uint64_t file_size, parsed_header_t *h, cb_diag_t *diag)
{
    memset(h, 0, sizeof *h);
    if (file_size < 8 || avail < 8 || memcmp(buf, CB_STORE_MAGIC, 8) != 0)
        return cb_diag_set(diag, CB_ECORRUPT, name, 0, 0, NULL,
                           "not a Comeback store file (bad magic; expected a .cbk file)");
    if (file_size < 12 || avail < 12)
        return cb_diag_set(diag, CB_ECORRUPT, name, 0, 0, NULL,
                           "truncated store file: %llu bytes, the header alone is %u",
                           (unsigned long long)file_size, CB_STORE_HEADER_SIZE);
    uint32_t version = get_u32(buf + CBK_OFF_VERSION);
    if (version != CB_STORE_VERSION)
        return cb_diag_set(diag, CB_EUNSUPPORTED, name, 0, 0, NULL,
                           "store format version %u is not supported (this program reads "
                           "version %u)",
                           version, CB_STORE_VERSION);
    if (file_size < CB_STORE_HEADER_SIZE || avail < CB_STORE_HEADER_SIZE)
        return cb_diag_set(diag, CB_ECORRUPT, name, 0, 0, NULL,
                           "truncated store file: %llu bytes, the header alone is %u",
                           (unsigned long long)file_size, CB_STORE_HEADER_SIZE);
    uint64_t want = get_u64(buf + CBK_OFF_HEADER_HASH);
    uint64_t got = hash_bytes(buf, CBK_OFF_HEADER_HASH / 8);
    if (want != got)
        return cb_diag_set(diag, CB_ECORRUPT, name, 0, 0, NULL,
                           "header checksum mismatch (stored %016llx, computed %016llx): the "
                           "file is corrupted",
                           (unsigned long long)want, (unsigned long long)got);
    uint32_t hsize = get_u32(buf + CBK_OFF_HEADER_SIZE);
    uint32_t ncols = get_u32(buf + CBK_OFF_COLUMNS);
    uint64_t rows = get_u64(buf + CBK_OFF_ROWS);
    uint64_t off = get_u64(buf + CBK_OFF_PAYLOAD_OFFSET);
    uint64_t bytes = get_u64(buf + CBK_OFF_PAYLOAD_BYTES);
    if (hsize != CB_STORE_HEADER_SIZE || ncols != CB_STORE_COLUMNS ||
        off != CB_STORE_HEADER_SIZE)
        return cb_diag_set(diag, CB_ECORRUPT, name, 0, 0, NULL,
                           "bad header layout (header size %u, %u columns, payload at %llu)",
                           hsize, ncols, (unsigned long long)off);
    if (rows > (UINT64_MAX - CB_STORE_HEADER_SIZE) / CB_STORE_ROW_BYTES ||
        bytes != rows * CB_STORE_ROW_BYTES || rows > SIZE_MAX / CB_STORE_ROW_BYTES)
        return cb_diag_set(diag, CB_ECORRUPT, name, 0, 0, NULL,
                           "bad header: %llu rows do not make %llu payload bytes",
                           (unsigned long long)rows, (unsigned long long)bytes);
    uint64_t expect = CB_STORE_HEADER_SIZE + bytes;
    if (file_size != UINT64_MAX && file_size < expect)
        return cb_diag_set(diag, CB_ECORRUPT, name, 0, 0, NULL,
                           "truncated store file: %llu bytes, the header announces %llu rows "
                           "(%llu bytes)",
                           (unsigned long long)file_size, (unsigned long long)rows,
                           (unsigned long long)expect);
    if (file_size != UINT64_MAX && file_size > expect)
        return cb_diag_set(diag, CB_ECORRUPT, name, 0, 0, NULL,
                           "%llu unexpected bytes after the last column (file is %llu bytes, "
                           "the header announces %llu)",
                           (unsigned long long)(file_size - expect),
                           (unsigned long long)file_size, (unsigned long long)expect);
    if (!get_str(h->meta.exchange, sizeof h->meta.exchange, buf + CBK_OFF_EXCHANGE, 32) ||
        !get_str(h->meta.pair, sizeof h->meta.pair, buf + CBK_OFF_PAIR, 32) ||
        !get_str(h->meta.timeframe, sizeof h->meta.timeframe, buf + CBK_OFF_TIMEFRAME, 8) ||
        !get_str(h->meta.source, sizeof h->meta.source, buf + CBK_OFF_SOURCE, 256))
        return cb_diag_set(diag, CB_ECORRUPT, name, 0, 0, NULL,
                           "bad header: a metadata string is not NUL-terminated");
    h->meta.synthetic = (get_u32(buf + CBK_OFF_FLAGS) & CBK_FLAG_SYNTHETIC) != 0;
    h->rows = rows;
    h->payload_hash = get_u64(buf + CBK_OFF_PAYLOAD_HASH);
    h->first_ms = (int64_t)get_u64(buf + CBK_OFF_FIRST_MS);
    h->last_ms = (int64_t)get_u64(buf + CBK_OFF_LAST_MS);
    return 0;
}

/* Checks the payload against the header and points s's columns into it. */
static int check_payload(const char *name, const unsigned char *payload, const parsed_header_t *h,
                         cb_diag_t *diag)
{
    uint64_t got = hash_bytes(payload, (size_t)h->rows * CB_STORE_COLUMNS);
    if (got != h->payload_hash)
        return cb_diag_set(diag, CB_ECORRUPT, name, 0, 0, NULL,
                           "payload checksum mismatch (stored %016llx, computed %016llx): the "
                           "file is corrupted",
                           (unsigned long long)h->payload_hash, (unsigned long long)got);
    if (h->rows) {
        int64_t first, last;
        memcpy(&first, payload, 8);
        memcpy(&last, payload + 8 * (h->rows - 1), 8);
        if (first != h->first_ms || last != h->last_ms)
            return cb_diag_set(diag, CB_ECORRUPT, name, 0, 0, NULL,
                               "header span does not match the time column");
    }
    return 0;
}

static void point_columns(cb_series_t *s, const unsigned char *payload, size_t rows)
{
    s->n = rows;
    s->time_ms = (int64_t *)(uintptr_t)payload;
    s->open = (double *)(uintptr_t)(payload + 8 * rows);
    s->high = (double *)(uintptr_t)(payload + 16 * rows);
    s->low = (double *)(uintptr_t)(payload + 24 * rows);
    s->close = (double *)(uintptr_t)(payload + 32 * rows);
    s->volume = (double *)(uintptr_t)(payload + 40 * rows);
}

int cb_store_load_buffer(const char *name, const void *buf, size_t len, cb_series_t **out,
                         cb_diag_t *diag)
{
    *out = NULL;
    parsed_header_t h;
    int r = parse_header(name, buf, len, len, &h, diag);
    if (r)
        return r;
    const unsigned char *payload = (const unsigned char *)buf + CB_STORE_HEADER_SIZE;
    if ((r = check_payload(name, payload, &h, diag)) != 0)
        return r;
    size_t rows = (size_t)h.rows;
    cb_series_t *s = cb_series_new(rows);
    if (!s)
        return cb_diag_set(diag, CB_ENOMEM, name, 0, 0, NULL, NULL);
    /* buf may be unaligned: copy column by column. */
    memcpy(s->time_ms, payload, 8 * rows);
    memcpy(s->open, payload + 8 * rows, 8 * rows);
    memcpy(s->high, payload + 16 * rows, 8 * rows);
    memcpy(s->low, payload + 24 * rows, 8 * rows);
    memcpy(s->close, payload + 32 * rows, 8 * rows);
    memcpy(s->volume, payload + 40 * rows, 8 * rows);
    s->n = rows;
    s->meta = h.meta;
    *out = s;
    return 0;
}

static int io_error(cb_diag_t *diag, const char *path, const char *what, int err)
{
    return cb_diag_set(diag, err == ENOENT ? CB_ENOENT : CB_EIO, path, 0, 0, NULL, "%s: %s",
                       what, strerror(err));
}

int cb_store_load(const char *path, cb_series_t **out, cb_diag_t *diag)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return io_error(diag, path, "cannot open", errno);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return io_error(diag, path, "cannot stat", e);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return cb_diag_set(diag, CB_EIO, path, 0, 0, NULL, "not a regular file");
    }
    size_t len = (size_t)st.st_size;
    if (len < CB_STORE_HEADER_SIZE) {
        /* Too short to map usefully: read what there is for a precise message. */
        unsigned char small[CB_STORE_HEADER_SIZE];
        ssize_t got = pread(fd, small, sizeof small, 0);
        close(fd);
        parsed_header_t h;
        int r = parse_header(path, small, got > 0 ? (size_t)got : 0, (uint64_t)len, &h, diag);
        return r ? r : cb_diag_set(diag, CB_ECORRUPT, path, 0, 0, NULL, "truncated store file");
    }
    /* MAP_POPULATE: the checksum reads every page anyway; prefaulting them in one go is
     * much cheaper than taking a fault per page. */
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED)
        return io_error(diag, path, "cannot map", e);
    parsed_header_t h;
    int r = parse_header(path, map, len, (uint64_t)len, &h, diag);
    const unsigned char *payload = (const unsigned char *)map + CB_STORE_HEADER_SIZE;
    if (!r)
        r = check_payload(path, payload, &h, diag);
    cb_series_t *s = r ? NULL : cb_series_new(0);
    if (!r && !s)
        r = cb_diag_set(diag, CB_ENOMEM, path, 0, 0, NULL, NULL);
    if (r) {
        munmap(map, len);
        return r;
    }
    point_columns(s, payload, (size_t)h.rows);
    s->meta = h.meta;
    s->map_ = map;
    s->map_len_ = len;
    *out = s;
    return 0;
}

int cb_store_peek(const char *path, cb_store_entry_t *e, cb_diag_t *diag)
{
    memset(e, 0, sizeof *e);
    snprintf(e->path, sizeof e->path, "%s", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return io_error(diag, path, "cannot open", errno);
    struct stat st;
    unsigned char buf[CB_STORE_HEADER_SIZE];
    ssize_t got = -1;
    if (fstat(fd, &st) == 0)
        got = pread(fd, buf, sizeof buf, 0);
    int err = errno;
    close(fd);
    if (got < 0)
        return io_error(diag, path, "cannot read", err);
    e->file_bytes = (uint64_t)st.st_size;
    parsed_header_t h;
    int r = parse_header(path, buf, (size_t)got, (uint64_t)st.st_size, &h, diag);
    if (r)
        return r;
    e->meta = h.meta;
    e->rows = (size_t)h.rows;
    e->first_ms = h.first_ms;
    e->last_ms = h.last_ms;
    if (cb_store_name(&h.meta, e->name, sizeof e->name) != 0)
        snprintf(e->name, sizeof e->name, "%s", path);
    return 0;
}

/* ---- Saving ----------------------------------------------------------------------------- */

static int mkdir_p(const char *dir, cb_diag_t *diag)
{
    char buf[4096];
    size_t n = strlen(dir);
    if (n == 0)
        return 0;
    if (n >= sizeof buf)
        return cb_diag_set(diag, CB_EIO, dir, 0, 0, NULL, "path too long");
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
            int e = errno;
            return cb_diag_set(diag, CB_EIO, buf, 0, 0, NULL, "cannot create directory: %s",
                               strerror(e));
        }
        buf[i] = c;
    }
    return 0;
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *b = p;
    while (n) {
        ssize_t w = write(fd, b, n > (1u << 30) ? (1u << 30) : n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static void put_str(unsigned char *p, size_t width, const char *s)
{
    size_t n = strnlen(s, width - 1);
    memcpy(p, s, n);
}

/* The directory part of path ("." when there is none). 0 when it does not fit. */
static int dir_of(const char *path, char *dir, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, size, ".");
        return 1;
    }
    size_t dlen = slash == path ? 1 : (size_t)(slash - path);
    if (dlen >= size)
        return 0;
    memcpy(dir, path, dlen);
    dir[dlen] = '\0';
    return 1;
}

/* Makes a rename, link or unlink in dir durable. */
static int sync_dir(const char *dir, cb_diag_t *diag)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return 0;
    int fr = fsync(dfd);
    int e = errno;
    close(dfd);
    if (fr != 0 && e != EINVAL)
        return cb_diag_set(diag, CB_EIO, dir, 0, 0, NULL, "cannot sync directory: %s",
                           strerror(e));
    return 0;
}

/* Writes s in full to a new temporary file beside path, named <path>.tmp.<pid>.XXXXXX so that
 * a later store operation can tell a dead writer's leftovers from a live one's
 * (cb_store_clean_stale); fsyncs and closes it. tmp (size 4096) gets its name. Every write,
 * the fsync and the close are checked; on failure the file is removed. */
static void build_header(const cb_series_t *s, unsigned char *hdr)
{
    const void *cols[CB_STORE_COLUMNS] = {s->time_ms, s->open, s->high,
                                          s->low,     s->close, s->volume};
    size_t rows = s->n;
    memset(hdr, 0, CB_STORE_HEADER_SIZE);
    memcpy(hdr + CBK_OFF_MAGIC, CB_STORE_MAGIC, 8);
    put_u32(hdr + CBK_OFF_VERSION, CB_STORE_VERSION);
    put_u32(hdr + CBK_OFF_HEADER_SIZE, CB_STORE_HEADER_SIZE);
    put_u64(hdr + CBK_OFF_ROWS, rows);
    put_u64(hdr + CBK_OFF_PAYLOAD_OFFSET, CB_STORE_HEADER_SIZE);
    put_u64(hdr + CBK_OFF_PAYLOAD_BYTES, (uint64_t)rows * CB_STORE_ROW_BYTES);
    cbh64_t h;
    cbh64_init(&h);
    for (size_t k = 0; k < CB_STORE_COLUMNS; k++)
        if (rows)
            cbh64_update(&h, cols[k], rows);
    put_u64(hdr + CBK_OFF_PAYLOAD_HASH, cbh64_final(&h));
    put_u32(hdr + CBK_OFF_FLAGS, s->meta.synthetic ? CBK_FLAG_SYNTHETIC : 0);
    put_u32(hdr + CBK_OFF_COLUMNS, CB_STORE_COLUMNS);
    put_u64(hdr + CBK_OFF_FIRST_MS, rows ? (uint64_t)s->time_ms[0] : 0);
    put_u64(hdr + CBK_OFF_LAST_MS, rows ? (uint64_t)s->time_ms[rows - 1] : 0);
    put_str(hdr + CBK_OFF_EXCHANGE, 32, s->meta.exchange);
    put_str(hdr + CBK_OFF_PAIR, 32, s->meta.pair);
    put_str(hdr + CBK_OFF_TIMEFRAME, 8, s->meta.timeframe);
    put_str(hdr + CBK_OFF_SOURCE, 256, s->meta.source);
    put_u64(hdr + CBK_OFF_HEADER_HASH, hash_bytes(hdr, CBK_OFF_HEADER_HASH / 8));
}

/* Writes the store file of s to the open fd; every write is checked. 0 or -1 (errno). */
static int write_store_fd(int fd, const cb_series_t *s)
{
    const void *cols[CB_STORE_COLUMNS] = {s->time_ms, s->open, s->high,
                                          s->low,     s->close, s->volume};
    unsigned char hdr[CB_STORE_HEADER_SIZE];
    build_header(s, hdr);
    if (write_all(fd, hdr, sizeof hdr) != 0)
        return -1;
    for (size_t k = 0; k < CB_STORE_COLUMNS; k++)
        if (s->n && write_all(fd, cols[k], s->n * 8) != 0)
            return -1;
    return 0;
}

/* Where a write to path goes. 0: replace atomically at `where` (path itself, or the regular
 * file a symbolic link leads to, so the link stays a link). 1: path exists and is not a
 * regular file (a device such as /dev/stdout, a FIFO): write straight into it, since renaming
 * a file over it would replace the device itself. */
static int write_target(const char *path, char *where, size_t size)
{
    struct stat st, lst;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return 1;
    char *real = NULL;
    if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode))
        real = realpath(path, NULL);
    snprintf(where, size, "%s", real ? real : path);
    free(real);
    return 0;
}

/* fsync that accepts what devices and pipes answer (nothing to make durable there). */
static int sync_fd(int fd)
{
    return fsync(fd) == 0 || errno == EINVAL || errno == EROFS || errno == ENOTSUP ? 0 : -1;
}

static int write_tmp(const char *path, const cb_series_t *s, char *tmp, cb_diag_t *diag)
{
    /* The temp file lives beside the target so rename() is atomic (same file system). */
    char dir[4096];
    if (strlen(path) + 40 >= 4096 || !dir_of(path, dir, sizeof dir))
        return cb_diag_set(diag, CB_EIO, path, 0, 0, NULL, "path too long");
    int r = mkdir_p(dir, diag);
    if (r)
        return r;
    snprintf(tmp, 4096, "%s.tmp.%ld.XXXXXX", path, (long)getpid());
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return io_error(diag, path, "cannot create a temporary file", errno);
    int ok = fchmod(fd, 0644) == 0 && write_store_fd(fd, s) == 0 && fsync(fd) == 0;
    int e = errno;
    if (close(fd) != 0 && ok) {
        ok = 0;
        e = errno;
    }
    if (!ok) {
        unlink(tmp);
        return cb_diag_set(diag, CB_EIO, path, 0, 0, NULL, "cannot write: %s", strerror(e));
    }
    return 0;
}

int cb_store_save(const char *path, const cb_series_t *s, cb_diag_t *diag)
{
    if (!path || !s)
        return cb_diag_set(diag, CB_EINVAL, path, 0, 0, NULL, NULL);
    char tmp[4096], dir[4096], where[4096];
    if (write_target(path, where, sizeof where)) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            return io_error(diag, path, "cannot write", errno);
        int ok = write_store_fd(fd, s) == 0 && sync_fd(fd) == 0;
        int e = errno;
        if (close(fd) != 0 && ok) {
            ok = 0;
            e = errno;
        }
        return ok ? 0 : cb_diag_set(diag, CB_EIO, path, 0, 0, NULL, "cannot write: %s",
                                    strerror(e));
    }
    int r = write_tmp(where, s, tmp, diag);
    if (r)
        return r;
    if (rename(tmp, where) != 0) {
        int e = errno;
        unlink(tmp);
        return cb_diag_set(diag, CB_EIO, path, 0, 0, NULL, "cannot write: %s", strerror(e));
    }
    dir_of(where, dir, sizeof dir);
    return sync_dir(dir, diag);
}

static int store_add_locked(const char *path, const cb_series_t *s, size_t *added,
                            cb_series_t **out, cb_diag_t *diag);

/* Serialises the read-merge-write of one series between processes: an exclusive flock on
 * <path>.lock (created beside it and left there: removing it would race). Returns the fd to
 * pass to unlock_series, or a negative cb_err with diag set. */
static int lock_series(const char *path, cb_diag_t *diag)
{
    char lock[4200], dir[4096];
    if (strlen(path) + 6 >= sizeof lock || !dir_of(path, dir, sizeof dir))
        return cb_diag_set(diag, CB_EIO, path, 0, 0, NULL, "path too long");
    int r = mkdir_p(dir, diag);
    if (r)
        return r;
    snprintf(lock, sizeof lock, "%s.lock", path);
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return io_error(diag, lock, "cannot open the series lock", errno);
    while (flock(fd, LOCK_EX) != 0) {
        if (errno == EINTR)
            continue;
        int e = errno;
        close(fd);
        return io_error(diag, lock, "cannot lock the series", e);
    }
    return fd;
}

static void unlock_series(int fd)
{
    if (fd >= 0)
        close(fd); /* releases the flock */
}

int cb_store_add(const char *path, const cb_series_t *s, size_t *added, cb_series_t **out,
                 cb_diag_t *diag)
{
    if (added)
        *added = 0;
    if (out)
        *out = NULL;
    if (!path || !s)
        return cb_diag_set(diag, CB_EINVAL, path, 0, 0, NULL, NULL);
    /* Two writers of one series must not both merge into the same old file. */
    int lk = lock_series(path, diag);
    if (lk < 0)
        return lk;
    int r = store_add_locked(path, s, added, out, diag);
    unlock_series(lk);
    return r;
}

static int store_add_locked(const char *path, const cb_series_t *s, size_t *added,
                            cb_series_t **out, cb_diag_t *diag)
{
    cb_series_t *old = NULL, *merged = NULL;
    size_t fresh = s->n;
    int r = cb_store_load(path, &old, diag);
    if (r && r != CB_ENOENT)
        return r;
    if (old) {
        cb_diag_clear(diag);
        r = cb_series_merge(old, s, &merged, &fresh, diag);
        cb_series_free(old);
        if (r)
            return r;
    } else {
        merged = cb_series_slice(s, 0, s->n);
        if (!merged)
            return cb_diag_set(diag, CB_ENOMEM, path, 0, 0, NULL, NULL);
    }
    r = cb_store_save(path, merged, diag);
    if (r) {
        cb_series_free(merged);
        return r;
    }
    if (added)
        *added = fresh;
    if (out)
        *out = merged;
    else
        cb_series_free(merged);
    return 0;
}

int cb_store_delete(const char *path, cb_diag_t *diag)
{
    if (!path)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL, "no path given");
    struct stat st;
    if (lstat(path, &st) != 0)
        return io_error(diag, path, "cannot delete", errno);
    if (!S_ISREG(st.st_mode))
        return cb_diag_set(diag, CB_EIO, path, 0, 0, NULL, "not a regular file: not deleted");
    int lk = lock_series(path, diag);
    if (lk < 0)
        return lk;
    int ur = unlink(path);
    int e = errno;
    unlock_series(lk);
    if (ur != 0)
        return io_error(diag, path, "cannot delete", e);
    char dir[4096];
    dir_of(path, dir, sizeof dir);
    return sync_dir(dir, diag);
}

static int store_rename_locked(const char *from_path, const char *to_path,
                               const char *exchange, const char *pair, const char *timeframe,
                               cb_diag_t *diag);

int cb_store_rename(const char *from_path, const char *to_path, const char *exchange,
                    const char *pair, const char *timeframe, cb_diag_t *diag)
{
    int r = cb_store_check_name(exchange, pair, timeframe, diag);
    if (r)
        return r;
    struct stat st;
    if (lstat(from_path, &st) != 0)
        return io_error(diag, from_path, "cannot rename", errno);
    /* No writer may add to the series while it moves. */
    int lk = lock_series(from_path, diag);
    if (lk < 0)
        return lk;
    r = store_rename_locked(from_path, to_path, exchange, pair, timeframe, diag);
    unlock_series(lk);
    return r;
}

static int store_rename_locked(const char *from_path, const char *to_path,
                               const char *exchange, const char *pair, const char *timeframe,
                               cb_diag_t *diag)
{
    int r;
    cb_series_t *s = NULL;
    if ((r = cb_store_load(from_path, &s, diag)) != 0)
        return r;
    if (s->meta.timeframe[0] && strcmp(s->meta.timeframe, timeframe) != 0) {
        r = cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "timeframe",
                        "the series holds %s candles; a new name cannot make them %s "
                        "(use 'data resample' to build %s candles)",
                        s->meta.timeframe, timeframe, timeframe);
        cb_series_free(s);
        return r;
    }
    struct stat st;
    if (strcmp(from_path, to_path) == 0 || lstat(to_path, &st) == 0) {
        cb_series_free(s);
        return cb_diag_set(diag, CB_EEXIST, to_path, 0, 0, NULL,
                           "a series is already stored there: it is never replaced (delete it "
                           "first if you mean to)");
    }
    /* A heap copy with the new labels; the mapped candles are unchanged. */
    cb_series_t *c = cb_series_slice(s, 0, s->n);
    cb_series_free(s);
    if (!c)
        return cb_diag_set(diag, CB_ENOMEM, from_path, 0, 0, NULL, NULL);
    snprintf(c->meta.exchange, sizeof c->meta.exchange, "%s", exchange);
    snprintf(c->meta.pair, sizeof c->meta.pair, "%s", pair);
    snprintf(c->meta.timeframe, sizeof c->meta.timeframe, "%s", timeframe);
    char tmp[4096], dir[4096];
    r = write_tmp(to_path, c, tmp, diag);
    cb_series_free(c);
    if (r)
        return r;
    /* link() never replaces: a series that appeared meanwhile is kept. */
    if (link(tmp, to_path) != 0) {
        int e = errno;
        unlink(tmp);
        if (e == EEXIST)
            return cb_diag_set(diag, CB_EEXIST, to_path, 0, 0, NULL,
                               "a series is already stored there: it is never replaced");
        return cb_diag_set(diag, CB_EIO, to_path, 0, 0, NULL, "cannot write: %s",
                           strerror(e));
    }
    unlink(tmp);
    dir_of(to_path, dir, sizeof dir);
    if ((r = sync_dir(dir, diag)) != 0)
        return r;
    if (unlink(from_path) != 0) {
        int e = errno;
        return cb_diag_set(diag, CB_EIO, from_path, 0, 0, NULL,
                           "the series was copied to %s but the old file cannot be removed: %s",
                           to_path, strerror(e));
    }
    dir_of(from_path, dir, sizeof dir);
    return sync_dir(dir, diag);
}

/* ---- Stale temporary files ------------------------------------------------------------- */

static int join_path(char *dst, size_t size, const char *a, const char *b);

/* The writer pid in "<x>.cbk.tmp.<pid>.XXXXXX": > 0, 0 for the older "<x>.cbk.tmp.XXXXXX",
 * -1 when the name is not a store temporary file at all. */
static long tmp_writer(const char *name)
{
    const char *t = strstr(name, ".cbk.tmp.");
    if (!t || t == name)
        return -1;
    const char *p = t + 9;
    const char *dot = strchr(p, '.');
    if (!dot)
        return strlen(p) == 6 ? 0 : -1;
    if (dot == p || strlen(dot + 1) != 6 || dot - p > 10)
        return -1;
    long pid = 0;
    for (const char *q = p; q < dot; q++) {
        if (*q < '0' || *q > '9')
            return -1;
        pid = pid * 10 + (*q - '0');
    }
    return pid > 0 ? pid : -1;
}

/* 1 when process pid exists (EPERM: it exists but is not ours). */
static int process_alive(long pid)
{
    return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

int cb_store_clean_stale(const char *home, cb_store_stale_t *found, size_t max, size_t *n_found,
                         cb_diag_t *diag)
{
    *n_found = 0;
    if (!home)
        home = cb_store_home();
    char root[4096];
    snprintf(root, sizeof root, "%s/data", home);
    DIR *d = opendir(root);
    if (!d)
        return 0;
    int r = 0;
    time_t now = time(NULL);
    struct dirent *ex;
    while ((ex = readdir(d))) {
        if (ex->d_name[0] == '.')
            continue;
        char sub[4096];
        if (!join_path(sub, sizeof sub, root, ex->d_name))
            continue;
        DIR *sd = opendir(sub);
        if (!sd)
            continue;
        struct dirent *fe;
        while ((fe = readdir(sd))) {
            long pid = tmp_writer(fe->d_name);
            char path[4096];
            struct stat st;
            if (pid < 0 || !join_path(path, sizeof path, sub, fe->d_name) ||
                lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
                continue;
            if (pid > 0 ? process_alive(pid) : now - st.st_mtime < 600)
                continue;
            if (unlink(path) != 0) {
                if (!r)
                    r = io_error(diag, path, "cannot remove a stale temporary file", errno);
                continue;
            }
            if (found && *n_found < max) {
                cb_store_stale_t *f = &found[*n_found];
                size_t pl = strnlen(path, sizeof f->path - 1);
                memcpy(f->path, path, pl);
                f->path[pl] = '\0';
                f->bytes = (uint64_t)st.st_size;
                f->pid = pid;
            }
            (*n_found)++;
        }
        closedir(sd);
    }
    closedir(d);
    return r;
}

/* ---- Listing ---------------------------------------------------------------------------- */

/* dst = a + "/" + b; 0 when it does not fit. */
static int join_path(char *dst, size_t size, const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    if (na + 1 + nb >= size)
        return 0;
    memcpy(dst, a, na);
    dst[na] = '/';
    memcpy(dst + na + 1, b, nb + 1);
    return 1;
}

static void copy_trunc(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const cb_store_entry_t *)a)->name, ((const cb_store_entry_t *)b)->name);
}

static int has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

int cb_store_list(const char *home, cb_store_entry_t **entries, size_t *n, cb_diag_t *diag)
{
    *entries = NULL;
    *n = 0;
    if (!home)
        home = cb_store_home();
    char root[4096];
    snprintf(root, sizeof root, "%s/data", home);
    DIR *d = opendir(root);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        return io_error(diag, root, "cannot list", errno);
    }
    cb_store_entry_t *list = NULL;
    size_t cap = 0, count = 0;
    int r = 0;
    struct dirent *ex;
    while (!r && (ex = readdir(d))) {
        if (ex->d_name[0] == '.')
            continue;
        char sub[4096];
        if (!join_path(sub, sizeof sub, root, ex->d_name))
            continue;
        DIR *sd = opendir(sub);
        if (!sd)
            continue;
        struct dirent *fe;
        while ((fe = readdir(sd))) {
            if (fe->d_name[0] == '.' || !has_suffix(fe->d_name, ".cbk"))
                continue;
            if (count == cap) {
                size_t nc = cap ? cap * 2 : 16;
                cb_store_entry_t *nl = realloc(list, nc * sizeof *nl);
                if (!nl) {
                    r = cb_diag_set(diag, CB_ENOMEM, NULL, 0, 0, NULL, NULL);
                    break;
                }
                list = nl;
                cap = nc;
            }
            char path[4096];
            if (!join_path(path, sizeof path, sub, fe->d_name))
                continue;
            cb_store_entry_t *e = &list[count++];
            cb_diag_t dg;
            cb_diag_clear(&dg);
            int pr = cb_store_peek(path, e, &dg);
            if (pr) {
                e->err = pr;
                copy_trunc(e->msg, sizeof e->msg, dg.msg);
                /* Name it from the path: <exchange>/<BASE>_<QUOTE>-<tf>.cbk */
                char rel[600];
                if (join_path(rel, sizeof rel, ex->d_name, fe->d_name))
                    copy_trunc(e->name, sizeof e->name, rel);
            }
        }
        closedir(sd);
    }
    closedir(d);
    if (r) {
        free(list);
        return r;
    }
    if (count)
        qsort(list, count, sizeof *list, cmp_entry);
    *entries = list;
    *n = count;
    return 0;
}

/* ---- Merge ------------------------------------------------------------------------------ */

static const char *first_difference(const cb_series_t *a, size_t i, const cb_series_t *b,
                                    size_t j)
{
    if (a->open[i] != b->open[j])
        return "open";
    if (a->high[i] != b->high[j])
        return "high";
    if (a->low[i] != b->low[j])
        return "low";
    if (a->close[i] != b->close[j])
        return "close";
    if (a->volume[i] != b->volume[j])
        return "volume";
    return NULL;
}

/* The shortest "%.*g" text that reads back to exactly v (what a user typed, usually). */
static const char *num(double v, char *buf, size_t size)
{
    /* Start at the digits before the point so 20000 prints as "20000", not "2e+04". */
    int start = fabs(v) >= 1 && fabs(v) < 1e17 ? (int)floor(log10(fabs(v))) + 1 : 1;
    for (int prec = start; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return buf;
}

int cb_series_merge(const cb_series_t *base, const cb_series_t *add, cb_series_t **out,
                    size_t *added, cb_diag_t *diag)
{
    *out = NULL;
    if (added)
        *added = 0;
    if (base->meta.timeframe[0] && add->meta.timeframe[0] &&
        strcmp(base->meta.timeframe, add->meta.timeframe) != 0)
        return cb_diag_set(diag, CB_ECONFLICT, NULL, 0, 0, NULL,
                           "cannot merge %s candles into a %s series", add->meta.timeframe,
                           base->meta.timeframe);
    cb_series_t *m = cb_series_new(base->n + add->n);
    if (!m)
        return cb_diag_set(diag, CB_ENOMEM, NULL, 0, 0, NULL, NULL);
    m->meta = base->meta;
    if (!m->meta.timeframe[0])
        memcpy(m->meta.timeframe, add->meta.timeframe, sizeof m->meta.timeframe);
    m->meta.synthetic = base->meta.synthetic || add->meta.synthetic;
    size_t i = 0, j = 0, k = 0, fresh = 0;
    while (i < base->n || j < add->n) {
        const cb_series_t *src;
        size_t at;
        if (j >= add->n || (i < base->n && base->time_ms[i] < add->time_ms[j])) {
            src = base, at = i++;
        } else if (i >= base->n || add->time_ms[j] < base->time_ms[i]) {
            src = add, at = j++;
            fresh++;
        } else {
            const char *what = first_difference(base, i, add, j);
            if (what) {
                char t[32], field[96], v[10][32];
                cb_time_format(base->time_ms[i], t, sizeof t);
                snprintf(field, sizeof field, "candle %s", t);
                int r = cb_diag_set(
                    diag, CB_ECONFLICT, NULL, 0, 0, field,
                    "'%s' differs (time_ms %lld): stored o=%s h=%s l=%s c=%s v=%s, new o=%s "
                    "h=%s l=%s c=%s v=%s",
                    what, (long long)base->time_ms[i], num(base->open[i], v[0], 32),
                    num(base->high[i], v[1], 32), num(base->low[i], v[2], 32),
                    num(base->close[i], v[3], 32), num(base->volume[i], v[4], 32),
                    num(add->open[j], v[5], 32), num(add->high[j], v[6], 32),
                    num(add->low[j], v[7], 32), num(add->close[j], v[8], 32),
                    num(add->volume[j], v[9], 32));
                cb_series_free(m);
                return r;
            }
            src = base, at = i++;
            j++;
        }
        m->time_ms[k] = src->time_ms[at];
        m->open[k] = src->open[at];
        m->high[k] = src->high[at];
        m->low[k] = src->low[at];
        m->close[k] = src->close[at];
        m->volume[k] = src->volume[at];
        k++;
    }
    m->n = k;
    if (added)
        *added = fresh;
    *out = m;
    return 0;
}

/* ---- Hash and open ---------------------------------------------------------------------- */

int cb_series_sha256(const cb_series_t *s, char hex[65])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
    const void *cols[CB_STORE_COLUMNS] = {s->time_ms, s->open, s->high,
                                          s->low,     s->close, s->volume};
    for (size_t k = 0; ok && k < CB_STORE_COLUMNS && s->n; k++)
        ok = EVP_DigestUpdate(ctx, cols[k], s->n * 8) == 1;
    ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 32;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return CB_EINTERNAL;
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return 0;
}

/* ---- CSV export with the SYNTHETIC banner ---------------------------------------------- */

static int write_csv_rows(FILE *f, const cb_series_t *s)
{
    if (s->meta.synthetic) {
        /* The banner must hold no ',', ';' or tab, or the readers would take it for a header. */
        char src[256];
        size_t n = strnlen(s->meta.source, sizeof src - 1);
        for (size_t i = 0; i < n; i++) {
            char ch = s->meta.source[i];
            src[i] = (ch == ',' || ch == ';' || ch == '\t' || ch == '\n' || ch == '\r') ? ' ' : ch;
        }
        src[n] = '\0';
        fprintf(f, "%s (%s)\n", CB_SYNTHETIC_BANNER, src);
    }
    fputs("time_ms,open,high,low,close,volume\n", f);
    char o[32], h[32], l[32], c[32], v[32];
    for (size_t i = 0; i < s->n && !ferror(f); i++) {
        rd_format_double(s->open[i], o, sizeof o);
        rd_format_double(s->high[i], h, sizeof h);
        rd_format_double(s->low[i], l, sizeof l);
        rd_format_double(s->close[i], c, sizeof c);
        rd_format_double(s->volume[i], v, sizeof v);
        fprintf(f, "%lld,%s,%s,%s,%s,%s\n", (long long)s->time_ms[i], o, h, l, c, v);
    }
    return ferror(f) ? -1 : 0;
}

int cb_series_export_csv(const cb_series_t *s, const char *path, cb_diag_t *diag)
{
    if (!s || !path)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL, "no series or no path given");
    /* "-" is stdout; a file goes beside the target and is renamed into place, so a failed
     * write leaves the previous file as it was (core's atomic file helper). */
    cb_file_atomic_t a;
    int r = cb_file_atomic_open(&a, path, diag);
    if (r)
        return r;
    if (write_csv_rows(a.f, s) != 0) {
        int e = errno ? errno : EIO;
        cb_file_atomic_abort(&a);
        return cb_diag_set(diag, CB_EIO, !strcmp(path, "-") ? "<stdout>" : path, 0, 0, NULL,
                           "cannot write: %s", strerror(e));
    }
    return cb_file_atomic_commit(&a, diag);
}

int cb_file_is_synthetic(const char *path)
{
    char buf[sizeof CB_SYNTHETIC_BANNER];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t got = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    return got == (ssize_t)(sizeof buf - 1) && memcmp(buf, CB_SYNTHETIC_BANNER, sizeof buf - 1) == 0;
}

/* 1 when the file starts with the store magic. */
static int looks_like_store(const char *path)
{
    unsigned char m[8];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t got = pread(fd, m, 8, 0);
    close(fd);
    return got == 8 && memcmp(m, CB_STORE_MAGIC, 8) == 0;
}

int cb_series_open(const char *name_or_path, const cb_read_opts_t *opts, cb_series_t **out,
                   cb_diag_t *diag)
{
    *out = NULL;
    char ex[32], pair[32], tf[8];
    if (cb_store_parse_name(name_or_path, ex, sizeof ex, pair, sizeof pair, tf, sizeof tf) == 0) {
        char path[4096];
        int r = cb_store_path(NULL, ex, pair, tf, path, sizeof path);
        if (r)
            return cb_diag_set(diag, r, name_or_path, 0, 0, NULL, "not a valid store name");
        r = cb_store_load(path, out, diag);
        if (r == CB_ENOENT)
            return cb_diag_set(diag, CB_ENOENT, name_or_path, 0, 0, NULL,
                               "no such series in the store (%s); see 'comeback data list'",
                               path);
        return r;
    }
    /* Shaped like a store name (two ':', no '/' before the first: "./x:y/z:1h" is a path) but
     * refused, and no such file: say why the name is not one rather than "cannot open". */
    const char *c1 = strchr(name_or_path, ':');
    struct stat st;
    if (c1 && !memchr(name_or_path, '/', (size_t)(c1 - name_or_path)) && strchr(c1 + 1, ':') &&
        !strchr(strchr(c1 + 1, ':') + 1, ':') && stat(name_or_path, &st) != 0 &&
        errno == ENOENT) {
        cb_diag_t nd;
        cb_diag_clear(&nd);
        cb_store_parse_name_diag(name_or_path, NULL, &nd);
        return cb_diag_set(diag, CB_ENOENT, name_or_path, 0, 0, NULL,
                           "%s%s%s (and no file has this name)", nd.field,
                           nd.field[0] ? ": " : "", nd.msg);
    }
    int is_cbk = has_suffix(name_or_path, ".cbk");
    if ((opts && opts->format == CB_FORMAT_CBK) || is_cbk || looks_like_store(name_or_path))
        return cb_store_load(name_or_path, out, diag);
    int r = cb_series_read_file(name_or_path, opts, out, NULL, diag);
    if (r == 0 && cb_file_is_synthetic(name_or_path))
        (*out)->meta.synthetic = 1;
    return r;
}
