/* CSV import throughput: a deterministic 1,000,000-row Binance kline CSV (100,000 rows under
 * BENCH_QUICK) is generated in memory, written to a temporary file, and read back with
 * cb_series_read_file (format detection, exact number parsing, validation, grid and gap
 * inference included). The reference is counting the newlines of the same file through the
 * same mmap: the floor any reader of these bytes pays. Times are this process's CPU time
 * (one core, single-threaded), so that other work on a shared machine does not change the
 * figures much; the wall-clock median is printed too. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"
#include "comeback/data.h"

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;

static uint64_t rng(void)
{
    /* xorshift64*: deterministic on every machine */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

/* Prices in integer cents, printed with Binance's 8 decimals. */
static size_t gen_row(char *p, int64_t t, int64_t *price_c)
{
    int64_t o = *price_c;
    int64_t c = o + (int64_t)(rng() % 2001) - 1000;
    if (c < 100000)
        c = 100000 + (int64_t)(rng() % 1000);
    int64_t hi = (o > c ? o : c) + (int64_t)(rng() % 500);
    int64_t lo = (o < c ? o : c) - (int64_t)(rng() % 500);
    uint64_t vol = rng() % 100000000000ULL; /* 1e-8 units: up to 1000 BTC */
    uint64_t qv = rng() % 1000000000000ULL;
    unsigned cnt = (unsigned)(rng() % 5000);
    *price_c = c;
    return (size_t)sprintf(
        p,
        "%lld,%lld.%02lld000000,%lld.%02lld000000,%lld.%02lld000000,%lld.%02lld000000,"
        "%llu.%08llu,%lld,%llu.%08llu,%u,%llu.%08llu,%llu.%08llu,0\n",
        (long long)t, (long long)(o / 100), (long long)(o % 100), (long long)(hi / 100),
        (long long)(hi % 100), (long long)(lo / 100), (long long)(lo % 100),
        (long long)(c / 100), (long long)(c % 100), (unsigned long long)(vol / 100000000),
        (unsigned long long)(vol % 100000000), (long long)(t + 59999),
        (unsigned long long)(qv / 100000000), (unsigned long long)(qv % 100000000), cnt,
        (unsigned long long)(vol / 200000000), (unsigned long long)(vol / 2 % 100000000),
        (unsigned long long)(qv / 200000000), (unsigned long long)(qv / 2 % 100000000));
}

typedef struct job {
    const char *path;
    size_t rows;
    const char *map;
    size_t len;
} job_t;

static volatile size_t sink;

static void import_once(void *arg)
{
    job_t *j = arg;
    cb_series_t *s = NULL;
    cb_diag_t d;
    if (cb_series_read_file(j->path, NULL, &s, NULL, &d) != 0 || s->n != j->rows) {
        char buf[600];
        cb_diag_format(&d, buf, sizeof buf);
        fprintf(stderr, "bench_data_import: import failed: %s\n", buf);
        exit(1);
    }
    sink = s->n;
    cb_series_free(s);
}

static void count_newlines(void *arg)
{
    job_t *j = arg;
    size_t n = 0;
    for (size_t i = 0; i < j->len; i++)
        n += j->map[i] == '\n';
    sink = n;
}

int main(void)
{
    size_t rows = bench_quick() ? 100000 : 1000000;
    char *buf = malloc(rows * 200);
    if (!buf)
        return 1;
    size_t len = 0;
    int64_t price = 2000000; /* 20000.00 */
    int64_t t0 = INT64_C(1672531200000);
    for (size_t i = 0; i < rows; i++)
        len += gen_row(buf + len, t0 + (int64_t)i * 60000, &price);

    char path[] = "/tmp/cb_bench_import_XXXXXX.csv";
    int fd = mkstemps(path, 4);
    if (fd < 0 || write(fd, buf, len) != (ssize_t)len) {
        perror("bench_data_import: temp file");
        return 1;
    }
    free(buf);
    const char *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        unlink(path);
        return 1;
    }
    job_t j = {path, rows, map, len};
    int runs = bench_quick() ? 3 : 7;
    /* CPU time of the process (one thread) for the figures, wall clock printed too */
    bench_stats_t ref = bench_time(count_newlines, &j, 1, runs);
    bench_stats_t st = bench_time(import_once, &j, 1, runs);
    double mb = (double)len / 1e6;
    double ref_mbs = mb / ref.cpu_median;
    bench_report("data.import_csv", mb / st.cpu_median, "MB/s", mb / st.cpu_max,
                 mb / st.cpu_min, "count_newlines", (mb / st.cpu_median) / ref_mbs);
    bench_report("data.import_csv_rows", (double)rows / st.cpu_median, "rows/s",
                 (double)rows / st.cpu_max, (double)rows / st.cpu_min, NULL, 0);
    bench_report("data.count_newlines", ref_mbs, "MB/s", mb / ref.cpu_max, mb / ref.cpu_min,
                 NULL, 0);
    bench_report("data.import_csv_wall", mb / st.median, "MB/s", mb / st.max, mb / st.min,
                 NULL, 0);
    printf("# %zu rows, %.1f MB, import median %.3f s CPU, %.3f s wall\n", rows, mb,
           st.cpu_median, st.median);
    munmap((void *)map, len);
    unlink(path);
    return 0;
}
