/* data/store.c: the .cbk format, names and paths, atomic saves, merge, open. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "comeback/data.h"
#include "data/store_int.h"
#include "testutil.h"

static cb_series_t *small_series(size_t n, int64_t t0)
{
    cb_series_t *s = cb_series_new(n);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++) {
        double o = 100.0 + (double)i * 0.25;
        assert_int_equal(cb_series_push(s, t0 + (int64_t)i * 3600000, o, o + 1.5, o - 0.75,
                                        o + 0.125, 10.0 + (double)i),
                         0);
    }
    snprintf(s->meta.exchange, sizeof s->meta.exchange, "binance");
    snprintf(s->meta.pair, sizeof s->meta.pair, "BTC/USDT");
    snprintf(s->meta.timeframe, sizeof s->meta.timeframe, "1h");
    snprintf(s->meta.source, sizeof s->meta.source, "unit test");
    return s;
}

static void assert_same(const cb_series_t *a, const cb_series_t *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        assert_int_equal(a->time_ms[i], b->time_ms[i]);
        assert_memory_equal(&a->open[i], &b->open[i], 8);
        assert_memory_equal(&a->high[i], &b->high[i], 8);
        assert_memory_equal(&a->low[i], &b->low[i], 8);
        assert_memory_equal(&a->close[i], &b->close[i], 8);
        assert_memory_equal(&a->volume[i], &b->volume[i], 8);
    }
    assert_string_equal(a->meta.exchange, b->meta.exchange);
    assert_string_equal(a->meta.pair, b->meta.pair);
    assert_string_equal(a->meta.timeframe, b->meta.timeframe);
    assert_string_equal(a->meta.source, b->meta.source);
    assert_int_equal(a->meta.synthetic, b->meta.synthetic);
}

static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    if (d)
        closedir(d);
    return n;
}

static void test_names(void **state)
{
    (void)state;
    char ex[32], pair[32], tf[8], path[512];
    assert_int_equal(cb_store_parse_name("binance:BTC/USDT:1h", ex, sizeof ex, pair, sizeof pair,
                                         tf, sizeof tf),
                     0);
    assert_string_equal(ex, "binance");
    assert_string_equal(pair, "BTC/USDT");
    assert_string_equal(tf, "1h");
    const char *bad[] = {"binance:BTC/USDT",    "binance:BTCUSDT:1h", "binance:BTC/USDT:1x",
                         ":BTC/USDT:1h",        "Binance:BTC/USDT:1h", "binance:BTC/:1h",
                         "binance:/USDT:1h",    "data/btc.csv",       "binance:BTC/USDT:1h:x",
                         "bin/ance:BTC/USDT:1h", "binance:BTC_X/USDT:1h", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int r = cb_store_parse_name(bad[i], ex, sizeof ex, pair, sizeof pair, tf, sizeof tf);
        if (r != CB_EPARSE)
            fail_msg("'%s' parsed as a store name (r=%d)", bad[i], r);
    }
    assert_int_equal(cb_store_path("/h", "binance", "BTC/USDT", "1h", path, sizeof path), 0);
    assert_string_equal(path, "/h/data/binance/BTC_USDT-1h.cbk");
    assert_int_equal(cb_store_path("/h", "binance", "BTCUSDT", "1h", path, sizeof path),
                     CB_EINVAL);
    assert_int_equal(cb_store_path("/h", "binance", "BTC/USDT", "1h", path, 10), CB_ERANGE);

    setenv("COMEBACK_HOME", "/tmp/somewhere", 1);
    assert_string_equal(cb_store_home(), "/tmp/somewhere");
    unsetenv("COMEBACK_HOME");
    assert_string_equal(cb_store_home(), "./user_data");

    cb_series_meta_t m;
    memset(&m, 0, sizeof m);
    strcpy(m.exchange, "synth");
    strcpy(m.pair, "SYN/USDT");
    strcpy(m.timeframe, "1m");
    char nm[80];
    assert_int_equal(cb_store_name(&m, nm, sizeof nm), 0);
    assert_string_equal(nm, "synth:SYN/USDT:1m");
    m.pair[0] = '\0';
    assert_int_equal(cb_store_name(&m, nm, sizeof nm), CB_EINVAL);
}

static void test_round_trip_mmap(void **state)
{
    (void)state;
    char dir[256], path[512];
    assert_non_null(tu_tmpdir(dir, sizeof dir));
    /* mkdir -p of two missing levels. */
    snprintf(path, sizeof path, "%s/data/binance/BTC_USDT-1h.cbk", dir);
    cb_series_t *s = small_series(1000, INT64_C(1502942400000));
    s->meta.synthetic = 1;
    cb_diag_t d;
    cb_diag_clear(&d);
    assert_int_equal(cb_store_save(path, s, &d), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 512 + 1000 * 48);

    cb_series_t *l = NULL;
    assert_int_equal(cb_store_load(path, &l, &d), 0);
    assert_non_null(l->map_);
    /* Columns point into the map, 8-byte aligned. */
    assert_ptr_equal((char *)l->time_ms, (char *)l->map_ + 512);
    assert_int_equal((uintptr_t)l->close % 8, 0);
    assert_same(s, l);

    /* Appending to a mapped series copies it to the heap first. */
    assert_int_equal(cb_series_push(l, l->time_ms[l->n - 1] + 3600000, 1, 2, 0.5, 1.5, 3), 0);
    assert_null(l->map_);
    assert_int_equal(l->n, 1001);
    assert_int_equal(l->time_ms[0], s->time_ms[0]);
    cb_series_free(l);

    /* Header-only peek and listing. */
    cb_store_entry_t e;
    assert_int_equal(cb_store_peek(path, &e, &d), 0);
    assert_string_equal(e.name, "binance:BTC/USDT:1h");
    assert_int_equal(e.rows, 1000);
    assert_int_equal(e.first_ms, s->time_ms[0]);
    assert_int_equal(e.last_ms, s->time_ms[999]);
    assert_int_equal(e.meta.synthetic, 1);
    cb_store_entry_t *list;
    size_t n;
    assert_int_equal(cb_store_list(dir, &list, &n, &d), 0);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].name, "binance:BTC/USDT:1h");
    free(list);

    /* Opening by store name goes through COMEBACK_HOME. */
    setenv("COMEBACK_HOME", dir, 1);
    assert_int_equal(cb_series_open("binance:BTC/USDT:1h", NULL, &l, &d), 0);
    assert_same(s, l);
    cb_series_free(l);
    assert_int_equal(cb_series_open("binance:ETH/USDT:1h", NULL, &l, &d), CB_ENOENT);
    assert_null(l);
    assert_string_equal(d.file, "binance:ETH/USDT:1h");
    assert_non_null(strstr(d.msg, "no such series in the store"));
    /* ... and by file path. */
    assert_int_equal(cb_series_open(path, NULL, &l, &d), 0);
    assert_same(s, l);
    cb_series_free(l);
    unsetenv("COMEBACK_HOME");

    /* The same candles hash alike whether mapped or on the heap. */
    char h1[65], h2[65];
    assert_int_equal(cb_store_load(path, &l, &d), 0);
    assert_int_equal(cb_series_sha256(s, h1), 0);
    assert_int_equal(cb_series_sha256(l, h2), 0);
    assert_string_equal(h1, h2);
    assert_int_equal(strlen(h1), 64);
    cb_series_free(l);

    /* An empty series round-trips too. */
    cb_series_t *empty = cb_series_new(0);
    strcpy(empty->meta.timeframe, "1h");
    assert_int_equal(cb_store_save(path, empty, &d), 0);
    assert_int_equal(cb_store_load(path, &l, &d), 0);
    assert_int_equal(l->n, 0);
    cb_series_free(l);
    cb_series_free(empty);

    cb_series_free(s);
    tu_rmtree(dir);
}

/* Loads path and expects code with a message containing `needle`. */
static void expect_load_error(const char *path, int code, const char *needle)
{
    cb_series_t *l = (cb_series_t *)1;
    cb_diag_t d;
    cb_diag_clear(&d);
    int r = cb_store_load(path, &l, &d);
    if (r != code || !strstr(d.msg, needle))
        fail_msg("load %s: got %d '%s', expected %d '...%s...'", path, r, d.msg, code, needle);
    assert_null(l);
    assert_string_equal(d.file, path);
}

static void patch_file(const char *path, long off, const void *bytes, size_t n)
{
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, bytes, n, off), (ssize_t)n);
    close(fd);
}

static void test_corruption(void **state)
{
    (void)state;
    char dir[256], path[512];
    assert_non_null(tu_tmpdir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/s.cbk", dir);
    cb_series_t *s = small_series(100, 0);
    cb_diag_t d;
    assert_int_equal(cb_store_save(path, s, &d), 0);
    size_t len;
    char *orig = tu_read_file(path, &len);
    assert_non_null(orig);
    assert_int_equal(len, 512 + 4800);

    /* Truncated in the payload, in the header, and empty. */
    assert_int_equal(truncate(path, 512 + 4800 - 8), 0);
    expect_load_error(path, CB_ECORRUPT,
                      "truncated store file: 5304 bytes, the header announces 100 rows (5312 "
                      "bytes)");
    assert_int_equal(truncate(path, 300), 0);
    expect_load_error(path, CB_ECORRUPT, "truncated store file: 300 bytes, the header alone is");
    assert_int_equal(truncate(path, 0), 0);
    expect_load_error(path, CB_ECORRUPT, "bad magic");

    /* Trailing garbage. */
    FILE *f = fopen(path, "wb");
    fwrite(orig, 1, len, f);
    fwrite("x", 1, 1, f);
    fclose(f);
    expect_load_error(path, CB_ECORRUPT, "1 unexpected bytes after the last column");

    /* One flipped bit in a price: the payload checksum catches it. */
    f = fopen(path, "wb");
    fwrite(orig, 1, len, f);
    fclose(f);
    unsigned char b = (unsigned char)(orig[512 + 8 * 100 * 4 + 17] ^ 0x10);
    patch_file(path, 512 + 8 * 100 * 4 + 17, &b, 1);
    expect_load_error(path, CB_ECORRUPT, "payload checksum mismatch");

    /* A changed metadata byte: the header checksum catches it. */
    f = fopen(path, "wb");
    fwrite(orig, 1, len, f);
    fclose(f);
    patch_file(path, CBK_OFF_PAIR, "E", 1);
    expect_load_error(path, CB_ECORRUPT, "header checksum mismatch");

    /* Bad magic and an unknown version. */
    f = fopen(path, "wb");
    fwrite(orig, 1, len, f);
    fclose(f);
    patch_file(path, 1, "X", 1);
    expect_load_error(path, CB_ECORRUPT, "not a Comeback store file (bad magic");
    patch_file(path, 1, "C", 1);
    unsigned char v2[4] = {2, 0, 0, 0};
    patch_file(path, CBK_OFF_VERSION, v2, 4);
    expect_load_error(path, CB_EUNSUPPORTED, "store format version 2 is not supported");

    /* A CSV file handed to the store loader. */
    tu_write_file(path, "time_ms,open,high,low,close,volume\n");
    expect_load_error(path, CB_ECORRUPT, "bad magic");
    expect_load_error("/nonexistent/x.cbk", CB_ENOENT, "cannot open");

    /* The in-memory loader agrees with the file loader. */
    cb_series_t *l;
    assert_int_equal(cb_store_load_buffer("mem", orig, len, &l, &d), 0);
    assert_same(s, l);
    cb_series_free(l);
    for (size_t cut = 0; cut < len; cut += 97) {
        assert_int_equal(cb_store_load_buffer("mem", orig, cut, &l, &d), CB_ECORRUPT);
        assert_null(l);
    }
    free(orig);
    cb_series_free(s);
    tu_rmtree(dir);
}

static void test_atomic_save(void **state)
{
    (void)state;
    char dir[256], path[512];
    assert_non_null(tu_tmpdir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/a.cbk", dir);
    cb_series_t *s1 = small_series(10, 0), *s2 = small_series(20, 0), *l;
    cb_diag_t d;
    assert_int_equal(cb_store_save(path, s1, &d), 0);
    cb_series_t *mapped;
    assert_int_equal(cb_store_load(path, &mapped, &d), 0);
    /* Replacing a file that is mapped leaves the mapping intact (rename, not overwrite). */
    assert_int_equal(cb_store_save(path, s2, &d), 0);
    assert_same(s1, mapped);
    cb_series_free(mapped);
    assert_int_equal(cb_store_load(path, &l, &d), 0);
    assert_same(s2, l);
    cb_series_free(l);
    assert_int_equal(count_files(dir), 1); /* no temp files left behind */

    /* A failed save (directory not writable) leaves the old file and no temp file. */
    if (geteuid() != 0) {
        chmod(dir, 0555);
        assert_int_equal(cb_store_save(path, s1, &d), CB_EIO);
        assert_non_null(strstr(d.msg, "cannot create a temporary file"));
        chmod(dir, 0755);
        assert_int_equal(count_files(dir), 1);
        assert_int_equal(cb_store_load(path, &l, &d), 0);
        assert_same(s2, l);
        cb_series_free(l);
    }
    /* A save into a path whose parent is a file fails cleanly. */
    char bad[600];
    snprintf(bad, sizeof bad, "%s/a.cbk/x.cbk", dir);
    assert_int_equal(cb_store_save(bad, s1, &d), CB_EIO);
    assert_int_equal(count_files(dir), 1);
    cb_series_free(s1);
    cb_series_free(s2);
    tu_rmtree(dir);
}

/* A writer killed in the middle of a save: the series on disk is the old one or the new one,
 * never a mix, and a left-over temp file is neither loaded nor listed. */
static void test_killed_writer(void **state)
{
    (void)state;
    char dir[256], path[512];
    assert_non_null(tu_tmpdir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/data/binance/BTC_USDT-1h.cbk", dir);
    cb_series_t *old = small_series(100, 0), *big = small_series(400000, 0), *l;
    cb_diag_t d;
    assert_int_equal(cb_store_save(path, old, &d), 0);
    for (int round = 0; round < 3; round++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            cb_store_save(path, big, NULL);
            _exit(0);
        }
        struct timespec ts = {0, (long)(1 + 7 * round) * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int st;
        waitpid(pid, &st, 0);
        assert_int_equal(cb_store_load(path, &l, &d), 0);
        assert_true(l->n == old->n || l->n == big->n);
        assert_same(l->n == old->n ? old : big, l);
        cb_series_free(l);
        cb_store_entry_t *list;
        size_t n;
        assert_int_equal(cb_store_list(dir, &list, &n, &d), 0);
        assert_int_equal(n, 1);
        assert_int_equal(list[0].err, 0);
        free(list);
    }
    /* What the killed writers left is cleaned by the next store operation: only the
     * series file remains; a live writer's file (ours) is kept. */
    char sub[600], live[700];
    snprintf(sub, sizeof sub, "%s/data/binance", dir);
    snprintf(live, sizeof live, "%s/BTC_USDT-1h.cbk.tmp.%ld.abcdef", sub, (long)getpid());
    assert_int_equal(tu_write_file(live, "x"), 0);
    int before = count_files(sub);
    cb_store_stale_t st[8];
    size_t n_st = 0;
    assert_int_equal(cb_store_clean_stale(dir, st, 8, &n_st, &d), 0);
    assert_int_equal((int)n_st, before - 2);
    for (size_t i = 0; i < n_st && i < 8; i++) {
        assert_non_null(strstr(st[i].path, ".cbk.tmp."));
        assert_true(st[i].pid > 0 && st[i].pid != (long)getpid());
    }
    assert_int_equal(count_files(sub), 2);
    assert_int_equal(access(live, F_OK), 0);
    assert_int_equal(cb_store_clean_stale(dir, st, 8, &n_st, &d), 0);
    assert_int_equal(n_st, 0);
    unlink(live);
    cb_series_free(old);
    cb_series_free(big);
    tu_rmtree(dir);
}

/* Writers adding to one series at the same time each merge into what the others stored
 * (the series lock): no candle is lost. Without the lock, the last save wins. */
static void test_concurrent_add(void **state)
{
    (void)state;
    char dir[256], path[512];
    assert_non_null(tu_tmpdir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/data/binance/BTC_USDT-1h.cbk", dir);
    enum { WRITERS = 6, EACH = 20000 };
    cb_series_t *all = small_series(WRITERS * EACH, 0);
    pid_t pids[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
        pids[w] = fork();
        assert_true(pids[w] >= 0);
        if (pids[w] == 0) {
            cb_series_t *part = cb_series_slice(all, (size_t)w * EACH, (size_t)(w + 1) * EACH);
            _exit(part && cb_store_add(path, part, NULL, NULL, NULL) == 0 ? 0 : 1);
        }
    }
    for (int w = 0; w < WRITERS; w++) {
        int st;
        assert_int_equal(waitpid(pids[w], &st, 0), pids[w]);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    cb_series_t *l;
    cb_diag_t d;
    assert_int_equal(cb_store_load(path, &l, &d), 0);
    assert_int_equal(l->n, WRITERS * EACH);
    assert_memory_equal(l->time_ms, all->time_ms, l->n * 8);
    cb_series_free(l);
    cb_series_free(all);
    tu_rmtree(dir);
}

/* The one store-name check: each refusal names the part and the rule or the limit. */
static void test_name_check(void **state)
{
    (void)state;
    static const struct {
        const char *ex, *pair, *tf, *field, *msg;
    } bad[] = {
        {"..", "BTC/USDT", "1h", "exchange",
         "'..' is not an exchange name (lowercase letters, digits, '.', '_' and '-', starting "
         "with a letter or digit)"},
        {".", "BTC/USDT", "1h", "exchange", NULL},
        {".x", "BTC/USDT", "1h", "exchange", NULL},
        {"", "BTC/USDT", "1h", "exchange", "the exchange name is empty"},
        {"a/b", "BTC/USDT", "1h", "exchange", NULL},
        {"a\x01b", "BTC/USDT", "1h", "exchange", NULL},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "BTC/USDT", "1h", "exchange",
         "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' is 32 characters; an exchange name has at most 31"},
        {"binance", "BTC/USDT/X", "1h", "pair", NULL},
        {"binance", "../x", "1h", "pair", NULL},
        {"binance", "BTCUSDT", "1h", "pair",
         "'BTCUSDT' is not a pair: expected BASE/QUOTE of letters and digits (BTC/USDT)"},
        {"binance", "BTC/USDTTTTTTTTTTTTTTTTTTTTTTTTTT", "1h", "pair",
         "'BTC/USDTTTTTTTTTTTTTTTTTTTTTTTTTT' is 33 characters; a pair has at most 31"},
        {"binance", "BTC/USDT", "1x", "timeframe", NULL},
        {"binance", "BTC/USDT", "12345678m", "timeframe", NULL},
        {"binance", "BTC/USDT", "", "timeframe", NULL},
    };
    cb_diag_t d;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cb_diag_clear(&d);
        int r = cb_store_check_name(bad[i].ex, bad[i].pair, bad[i].tf, &d);
        if (r != CB_EINVAL || strcmp(d.field, bad[i].field) != 0 ||
            (bad[i].msg && strcmp(d.msg, bad[i].msg) != 0))
            fail_msg("case %zu (%s:%s:%s): r=%d field '%s' msg '%s'", i, bad[i].ex, bad[i].pair,
                     bad[i].tf, r, d.field, d.msg);
        char path[512];
        assert_int_equal(cb_store_path("/h", bad[i].ex, bad[i].pair, bad[i].tf, path,
                                       sizeof path),
                         CB_EINVAL);
    }
    /* Control bytes are shown, not printed raw. */
    cb_store_check_name("a\tb", "X/Y", "1h", &d);
    assert_non_null(strstr(d.msg, "'a\\x09b'"));
    assert_int_equal(cb_store_check_name("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "1000SHIB/USDT", "1M",
                                         &d),
                     0);
    cb_series_meta_t m;
    assert_int_equal(cb_store_parse_name_diag("my-ex.2:ETH/BTC:15m", &m, &d), 0);
    assert_string_equal(m.exchange, "my-ex.2");
    assert_string_equal(m.pair, "ETH/BTC");
    assert_string_equal(m.timeframe, "15m");
    assert_int_equal(cb_store_parse_name_diag("..:BTC/USDT:1h", &m, &d), CB_EPARSE);
    assert_string_equal(d.field, "exchange");
    assert_int_equal(cb_store_parse_name_diag("binance:BTC/USDT", &m, &d), CB_EPARSE);
    assert_string_equal(d.msg, "'binance:BTC/USDT' is not a store name "
                               "(EXCHANGE:BASE/QUOTE:TIMEFRAME, e.g. binance:BTC/USDT:1h)");
}

/* cb_store_add merges under import's rules and never drops stored candles; delete and rename
 * do what they say and never replace a series. */
static void test_add_delete_rename(void **state)
{
    (void)state;
    char dir[256], path[512], other[512];
    assert_non_null(tu_tmpdir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/data/binance/BTC_USDT-1h.cbk", dir);
    snprintf(other, sizeof other, "%s/data/old/ETH_USDT-1h.cbk", dir);
    cb_series_t *all = small_series(30, 0), *l, *m;
    cb_series_t *a = cb_series_slice(all, 0, 20), *b = cb_series_slice(all, 10, 30);
    cb_diag_t d;
    size_t added = 99;
    assert_int_equal(cb_store_add(path, a, &added, NULL, &d), 0);
    assert_int_equal(added, 20);
    assert_int_equal(cb_store_add(path, b, &added, &m, &d), 0);
    assert_int_equal(added, 10);
    assert_same(all, m);
    cb_series_free(m);
    /* A differing candle: refused, naming it; the stored series is untouched. */
    b->volume[3] += 1;
    assert_int_equal(cb_store_add(path, b, &added, NULL, &d), CB_ECONFLICT);
    assert_string_equal(d.field, "candle 1970-01-01 13:00:00");
    assert_non_null(strstr(d.msg, "'volume' differs"));
    assert_int_equal(cb_store_load(path, &l, &d), 0);
    assert_same(all, l);
    cb_series_free(l);

    /* rename: to a name that exists is refused, the timeframe cannot change. */
    assert_int_equal(cb_store_rename(path, path, "binance", "BTC/USDT", "1h", &d), CB_EEXIST);
    assert_int_equal(cb_store_rename(path, other, "old", "ETH/USDT", "4h", &d), CB_EINVAL);
    assert_string_equal(d.field, "timeframe");
    assert_int_equal(cb_store_rename(path, other, "old", "ETH/USDT", "1h", &d), 0);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(cb_store_load(other, &l, &d), 0);
    assert_string_equal(l->meta.exchange, "old");
    assert_string_equal(l->meta.pair, "ETH/USDT");
    assert_int_equal(l->n, 30);
    assert_memory_equal(l->volume, all->volume, 30 * 8);
    cb_series_free(l);
    assert_int_equal(cb_store_rename(path, other, "old", "ETH/USDT", "1h", &d), CB_ENOENT);
    assert_int_equal(cb_store_add(path, a, NULL, NULL, &d), 0);
    assert_int_equal(cb_store_rename(other, path, "binance", "BTC/USDT", "1h", &d), CB_EEXIST);
    assert_int_equal(cb_store_load(path, &l, &d), 0);
    assert_int_equal(l->n, 20);
    cb_series_free(l);

    /* delete */
    assert_int_equal(cb_store_delete(other, &d), 0);
    assert_int_equal(cb_store_delete(other, &d), CB_ENOENT);
    char sub[600];
    snprintf(sub, sizeof sub, "%s/data", dir);
    assert_int_equal(cb_store_delete(sub, &d), CB_EIO);
    cb_series_free(a);
    cb_series_free(b);
    cb_series_free(all);
    tu_rmtree(dir);
}

static void test_merge(void **state)
{
    (void)state;
    cb_series_t *base = small_series(10, 0);
    /* add overlaps candles 5..9 exactly and brings 10..14. */
    cb_series_t *all = small_series(15, 0);
    cb_series_t *add = cb_series_slice(all, 5, 15);
    cb_series_t *m = NULL;
    size_t added = 99;
    cb_diag_t d;
    cb_diag_clear(&d);
    assert_int_equal(cb_series_merge(base, add, &m, &added, &d), 0);
    assert_int_equal(added, 5);
    assert_same(all, m);
    cb_series_free(m);

    /* Disjoint, and interleaved from before. */
    cb_series_t *head = cb_series_slice(all, 0, 3), *tail = cb_series_slice(all, 12, 15);
    assert_int_equal(cb_series_merge(tail, head, &m, &added, &d), 0);
    assert_int_equal(m->n, 6);
    assert_int_equal(added, 3);
    assert_int_equal(m->time_ms[3], all->time_ms[12]);
    cb_series_free(m);

    /* A conflicting close names the candle, its time and both values. */
    add->close[2] += 0.5; /* candle 7 */
    m = (cb_series_t *)1;
    assert_int_equal(cb_series_merge(base, add, &m, &added, &d), CB_ECONFLICT);
    assert_null(m);
    char buf[1024];
    cb_diag_format(&d, buf, sizeof buf);
    assert_string_equal(buf,
                        "candle 1970-01-01 07:00:00: 'close' differs (time_ms 25200000): stored "
                        "o=101.75 h=103.25 l=101 c=101.875 v=17, new o=101.75 h=103.25 l=101 "
                        "c=102.375 v=17");

    /* Different timeframes never merge. */
    strcpy(head->meta.timeframe, "4h");
    assert_int_equal(cb_series_merge(base, head, &m, &added, &d), CB_ECONFLICT);
    assert_string_equal(d.msg, "cannot merge 4h candles into a 1h series");

    cb_series_free(head);
    cb_series_free(tail);
    cb_series_free(base);
    cb_series_free(add);
    cb_series_free(all);
}

static void test_hash_streaming(void **state)
{
    (void)state;
    /* Feeding words in pieces gives the same checksum as in one go. */
    uint64_t w[37];
    for (int i = 0; i < 37; i++)
        w[i] = (uint64_t)i * UINT64_C(0x9E3779B97F4A7C15);
    cbh64_t a, b;
    cbh64_init(&a);
    cbh64_update(&a, w, 37);
    for (size_t cut1 = 0; cut1 <= 37; cut1 += 5)
        for (size_t cut2 = cut1; cut2 <= 37; cut2 += 3) {
            cbh64_init(&b);
            cbh64_update(&b, w, cut1);
            cbh64_update(&b, w + cut1, cut2 - cut1);
            cbh64_update(&b, w + cut2, 37 - cut2);
            assert_int_equal(cbh64_final(&a), cbh64_final(&b));
        }
    /* And it is sensitive to order and to length. */
    cbh64_init(&b);
    cbh64_update(&b, w, 36);
    assert_int_not_equal(cbh64_final(&a), cbh64_final(&b));
    /* Pinned: the value documented in docs/store-format.md for the empty stream and 1..4. */
    uint64_t one_to_four[4] = {1, 2, 3, 4};
    cbh64_init(&b);
    cbh64_update(&b, one_to_four, 4);
    cbh64_t e;
    cbh64_init(&e);
    assert_int_equal(cbh64_final(&e), UINT64_C(0x9090306c6e91ed59));
    assert_int_equal(cbh64_final(&b), UINT64_C(0xceae3ae2d88a642c));
}

static void test_csv_export(void **state)
{
    (void)state;
    char dir[256], path[512];
    assert_non_null(tu_tmpdir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/s.csv", dir);
    cb_series_t *s = small_series(50, INT64_C(1502942400000)), *l;
    cb_diag_t d;
    /* A real series: plain CSV, read back exactly. */
    assert_int_equal(cb_series_export_csv(s, path, &d), 0);
    assert_int_equal(cb_file_is_synthetic(path), 0);
    assert_int_equal(cb_series_open(path, NULL, &l, &d), 0);
    assert_int_equal(l->meta.synthetic, 0);
    s->meta.synthetic = 0;
    strcpy(l->meta.exchange, s->meta.exchange);
    strcpy(l->meta.pair, s->meta.pair);
    strcpy(l->meta.source, s->meta.source);
    assert_same(s, l);
    cb_series_free(l);
    /* A synthetic one: the banner (commas in the source blanked) keeps the label. */
    s->meta.synthetic = 1;
    strcpy(s->meta.source, "synth seed=1, resampled 1m->1h");
    assert_int_equal(cb_series_export_csv(s, path, &d), 0);
    char *text = tu_read_file(path, NULL);
    assert_non_null(text);
    assert_memory_equal(text,
                        "# SYNTHETIC data generated by comeback: not a real market (synth "
                        "seed=1  resampled 1m->1h)\ntime_ms,open,high,low,close,volume\n"
                        "1502942400000,100,101.5,99.25,100.125,10\n",
                        160);
    free(text);
    assert_int_equal(cb_file_is_synthetic(path), 1);
    assert_int_equal(cb_series_open(path, NULL, &l, &d), 0);
    assert_int_equal(l->meta.synthetic, 1);
    assert_int_equal(l->n, 50);
    assert_true(l->close[49] == s->close[49]);
    cb_series_free(l);
    assert_int_equal(count_files(dir), 1);
    snprintf(path, sizeof path, "%s/missing/s.csv", dir);
    assert_int_equal(cb_series_export_csv(s, path, &d), CB_EIO);
    cb_series_free(s);
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),      cmocka_unit_test(test_round_trip_mmap),
        cmocka_unit_test(test_corruption), cmocka_unit_test(test_atomic_save),
        cmocka_unit_test(test_merge),      cmocka_unit_test(test_hash_streaming),
        cmocka_unit_test(test_csv_export), cmocka_unit_test(test_killed_writer),
        cmocka_unit_test(test_name_check), cmocka_unit_test(test_add_delete_rename),
        cmocka_unit_test(test_concurrent_add),
    };
    return cmocka_run_group_tests_name("data_store", tests, NULL, NULL);
}
