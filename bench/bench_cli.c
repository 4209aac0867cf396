/* The figure to hold another tool's wall-clock time against: `comeback backtest
 * bench/ema_cross_rsi.ini --data market.cbk --quiet` end to end (process start, strategy
 * compile, store load with checksum, the backtest, the statistics) on 1,000,000 synthetic 1h
 * bars (seed 42; BENCH_QUICK: 20,000), median of 5 runs after a warm-up. The reference is the
 * same backtest in this process (cb_backtest_run on the already loaded series): the ratio
 * (end to end / in process) shows what starting a process, loading the data and computing the
 * statistics add. */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "benchutil.h"

#ifndef CB_BUILD_DIR
#define CB_BUILD_DIR "."
#endif

extern char **environ;

typedef struct cli_job {
    bench_session_t ses;
    char *argv[8];
} cli_job_t;

static void run_cli(void *arg)
{
    cli_job_t *j = arg;
    pid_t pid;
    int st = 0;
    if (posix_spawn(&pid, j->argv[0], NULL, NULL, j->argv, environ) != 0 ||
        waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "bench_cli: %s failed (status %d)\n", j->argv[0], st);
        exit(1);
    }
}

static void run_lib(void *arg)
{
    cli_job_t *j = arg;
    cb_engine_result_t r;
    cb_diag_t d;
    if (cb_backtest_run(&j->ses.bt, NULL, NULL, &r, NULL, &d) != 0) {
        fprintf(stderr, "bench_cli: %s\n", d.msg);
        exit(1);
    }
    cb_engine_result_free(&r);
}

int main(void)
{
    size_t bars = bench_quick() ? 20000 : 1000000;
    int runs = bench_quick() ? 1 : 5;
    cli_job_t j;
    bench_session_open(&j.ses, bars);
    j.argv[0] = CB_BUILD_DIR "/comeback";
    j.argv[1] = "backtest";
    j.argv[2] = CB_BENCH_DIR "/ema_cross_rsi.ini";
    j.argv[3] = "--data";
    j.argv[4] = j.ses.data;
    j.argv[5] = "--quiet";
    j.argv[6] = NULL;
    bench_stats_t cli = bench_time(run_cli, &j, 1, runs);
    bench_stats_t lib = bench_time(run_lib, &j, 1, runs);
    printf("# comeback backtest bench/ema_cross_rsi.ini on %zu bars: %.3f s end to end, "
           "%.3f s in process\n",
           bars, cli.median, lib.median);
    bench_report("cli.backtest_seconds", cli.median, "s", cli.min, cli.max, "in_process",
                 cli.median / lib.median);
    bench_report("cli.backtest_bars_per_s", (double)bars / cli.median / 1e6, "Mbars/s",
                 (double)bars / cli.max / 1e6, (double)bars / cli.min / 1e6, NULL, 0);
    bench_report("cli.in_process_seconds", lib.median, "s", lib.min, lib.max, NULL, 0);
    bench_session_close(&j.ses);
    return 0;
}
