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

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median/min/max CPU seconds of `runs` timed runs after one warm-up. */
static bench_stats_t cpu_time(void (*fn)(void *), void *arg, int runs)
{
    double t[16];
    fn(arg);
    for (int i = 0; i < runs; i++) {
        double t0 = cpu_now();
        fn(arg);
        t[i] = cpu_now() - t0;
    }
    qsort(t, (size_t)runs, sizeof t[0], cmp_double);
    bench_stats_t st = {t[runs / 2], t[0], t[runs - 1]};
    return st;
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
    bench_stats_t ref = cpu_time(count_newlines, &j, runs);
    bench_stats_t st = cpu_time(import_once, &j, runs);
    bench_stats_t wall = bench_time(import_once, &j, 0, runs);
    double mb = (double)len / 1e6;
    double ref_mbs = mb / ref.median;
    bench_report("data.import_csv", mb / st.median, "MB/s", mb / st.max, mb / st.min,
                 "count_newlines", (mb / st.median) / ref_mbs);
    bench_report("data.import_csv_rows", (double)rows / st.median, "rows/s",
                 (double)rows / st.max, (double)rows / st.min, NULL, 0);
    bench_report("data.count_newlines", ref_mbs, "MB/s", mb / ref.max, mb / ref.min, NULL, 0);
    bench_report("data.import_csv_wall", mb / wall.median, "MB/s", mb / wall.max, mb / wall.min,
                 NULL, 0);
    printf("# %zu rows, %.1f MB, import median %.3f s CPU, %.3f s wall\n", rows, mb, st.median,
           wall.median);
    munmap((void *)map, len);
    unlink(path);
    return 0;
}
