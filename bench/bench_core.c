/* Core benchmark: decimal parsing, the fixed-point path every order and fill takes. */
#include <stdio.h>
#include <stdlib.h>

#include "benchutil.h"
#include "comeback/core.h"

static volatile int64_t sink;

static void parse_many(void *arg)
{
    size_t n = *(size_t *)arg;
    int64_t acc = 0, v;
    for (size_t i = 0; i < n; i++) {
        if (cb_dec_parse("27345.12345678", (size_t)-1, 8, &v) == 0)
            acc += v;
    }
    sink = acc;
}

int main(void)
{
    size_t n = bench_quick() ? 100000 : 5000000;
    bench_stats_t st = bench_time(parse_many, &n, 1, bench_quick() ? 3 : 7);
    bench_report("core.dec_parse", st.median / (double)n * 1e9, "ns/op",
                 st.min / (double)n * 1e9, st.max / (double)n * 1e9, NULL, 0);
    return 0;
}
