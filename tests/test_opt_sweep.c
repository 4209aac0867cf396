/* opt/: parameter spaces, seeded sampling, walk-forward folds, the parallel runner, verdicts. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/opt.h"
#include "testutil.h"

static void test_param_space(void **state)
{
    (void)state;
    cb_param_space_t sp = {0};
    cb_diag_t d;
    assert_int_equal(cb_param_space_add_spec(&sp, "fast=5:30:1", &d), 0);
    assert_int_equal(cb_param_space_add_spec(&sp, "slow=20:100:5", &d), 0);
    assert_int_equal(cb_param_space_add_spec(&sp, "k=0.1:0.5:0.1", &d), 0);
    assert_int_equal(cb_param_count(&sp.p[0]), 26);
    assert_int_equal(cb_param_count(&sp.p[1]), 17);
    assert_int_equal(cb_param_count(&sp.p[2]), 5); /* 0.1 .. 0.5 despite binary rounding */
    assert_int_equal(cb_param_space_size(&sp), 26 * 17 * 5);
    double v[3];
    cb_param_space_point(&sp, 0, v);
    assert_true(v[0] == 5 && v[1] == 20 && v[2] == 0.1);
    cb_param_space_point(&sp, 1, v); /* the last parameter varies fastest */
    assert_true(v[0] == 5 && v[1] == 20 && v[2] == 0.2);
    cb_param_space_point(&sp, 26 * 17 * 5 - 1, v);
    assert_true(v[0] == 30 && v[1] == 100 && v[2] == 0.5);
    /* Replacing a range keeps one entry. */
    assert_int_equal(cb_param_space_add_spec(&sp, "fast=10:12:1", &d), 0);
    assert_int_equal(sp.n, 3);
    assert_int_equal(cb_param_count(&sp.p[0]), 3);
    /* Malformed specs. */
    assert_int_equal(cb_param_space_add_spec(&sp, "fast", &d), CB_EPARSE);
    assert_string_equal(d.msg, "expected name=lo:hi:step, got \"fast\"");
    assert_int_equal(cb_param_space_add_spec(&sp, "fast=1:2", &d), CB_EPARSE);
    assert_int_equal(cb_param_space_add_spec(&sp, "fast=a:2:1", &d), CB_EPARSE);
    assert_int_equal(cb_param_space_add_spec(&sp, "=1:2:1", &d), CB_EPARSE);
    assert_int_equal(cb_param_space_add_spec(&sp, "fast=5:1:1", &d), CB_EPARSE);
    assert_string_equal(d.msg,
                        "parameter 'fast': range 5..1 step 1 is empty or invalid (need lo <= hi "
                        "and step > 0)");
    assert_int_equal(cb_param_space_add_spec(&sp, "fast=1:5:0", &d), CB_EPARSE);
    assert_int_equal(cb_param_space_add_spec(&sp, "fast=1:5:-1", &d), CB_EPARSE);
    assert_int_equal(cb_param_space_add_spec(&sp, "fast=1:inf:1", &d), CB_EPARSE);
    cb_param_space_t full = {0};
    char spec[64];
    for (int k = 0; k < CB_OPT_MAX_PARAMS; k++) {
        snprintf(spec, sizeof spec, "p%d=1:2:1", k);
        assert_int_equal(cb_param_space_add_spec(&full, spec, &d), 0);
    }
    assert_int_equal(cb_param_space_add_spec(&full, "one_more=1:2:1", &d), CB_ELIMIT);
}

static void test_sampling(void **state)
{
    (void)state;
    cb_param_space_t sp = {0};
    assert_int_equal(cb_param_space_add(&sp, "a", 1, 100, 1, NULL), 0);
    assert_int_equal(cb_param_space_add(&sp, "b", 1, 100, 1, NULL), 0);
    size_t x[500], y[500];
    assert_int_equal(cb_param_space_sample(&sp, 42, 500, x), 500);
    assert_int_equal(cb_param_space_sample(&sp, 42, 500, y), 500);
    assert_memory_equal(x, y, sizeof x);
    for (size_t i = 1; i < 500; i++)
        assert_true(x[i] > x[i - 1]); /* sorted and distinct */
    assert_true(x[499] < 10000);
    assert_int_equal(cb_param_space_sample(&sp, 43, 500, y), 500);
    assert_true(memcmp(x, y, sizeof x) != 0);
    size_t all[10000];
    assert_int_equal(cb_param_space_sample(&sp, 1, 20000, all), 10000);
    assert_int_equal(all[9999], 9999);
}

static void test_walk_forward(void **state)
{
    (void)state;
    cb_wf_fold_t f[4];
    /* n = 1000, 4 folds, train 50%: L = 1000 / (0.5 + 4 * 0.5) = 400, train 200, test 200. */
    assert_int_equal(cb_walk_forward_folds(1000, 4, 0.5, 0, 10, f), 0);
    assert_int_equal(f[0].train_from, 0);
    assert_int_equal(f[0].train_to, 200);
    assert_int_equal(f[0].test_from, 200);
    assert_int_equal(f[0].test_to, 400);
    assert_int_equal(f[1].train_from, 200);
    assert_int_equal(f[3].test_from, 800);
    assert_int_equal(f[3].test_to, 1000);
    assert_int_equal(cb_walk_forward_folds(1000, 4, 0.5, 1, 10, f), 0);
    assert_int_equal(f[2].train_from, 0);
    assert_int_equal(f[2].train_to, 600);
    /* n = 1000, 3 folds, train 70%: L = 625, train 437.5 -> 438, tests of 187.5 bars:
     * [438, 625), [625, 813), [813, 1000); rolling trains are the 438 bars before each. */
    assert_int_equal(cb_walk_forward_folds(1000, 3, 0.7, 0, 10, f), 0);
    assert_int_equal(f[0].test_from, 438);
    assert_int_equal(f[1].test_from, 625);
    assert_int_equal(f[1].train_from, 187);
    assert_int_equal(f[2].test_from, 813);
    assert_int_equal(f[2].test_to, 1000);
    for (int k = 0; k < 2; k++)
        assert_int_equal(f[k].test_to, f[k + 1].test_from); /* stitched without gaps */
    assert_int_equal(cb_walk_forward_folds(1000, 0, 0.7, 0, 10, f), CB_EINVAL);
    assert_int_equal(cb_walk_forward_folds(1000, 3, 1.0, 0, 10, f), CB_EINVAL);
    assert_int_equal(cb_walk_forward_folds(1000, 3, 0.0, 0, 10, f), CB_EINVAL);
    assert_int_equal(cb_walk_forward_folds(50, 4, 0.7, 0, 10, f), CB_EINVAL); /* too short */
}

typedef struct work {
    double *out;
    size_t fail_at;
} work_t;

static int task(void *ctx, size_t i)
{
    work_t *w = ctx;
    if (i >= w->fail_at)
        return CB_EINTERNAL;
    double acc = 0;
    for (size_t k = 0; k < 2000 + i % 7 * 300; k++)
        acc += sin((double)(i * 31 + k));
    w->out[i] = acc;
    return 0;
}

static size_t last_done;
static void progress(void *ctx, size_t done, size_t total)
{
    (void)ctx;
    assert_true(done <= total);
    last_done = done;
}

static void test_parallel_is_deterministic(void **state)
{
    (void)state;
    const size_t n = 3000;
    double *a = calloc(n, sizeof *a), *b = calloc(n, sizeof *b);
    work_t wa = {a, SIZE_MAX}, wb = {b, SIZE_MAX};
    assert_int_equal(cb_opt_parallel(n, 1, task, &wa, NULL, NULL), 0);
    assert_int_equal(cb_opt_parallel(n, 4, task, &wb, progress, NULL), 0);
    assert_int_equal(last_done, n);
    assert_memory_equal(a, b, n * sizeof *a);
    work_t wf = {b, 1234};
    assert_int_equal(cb_opt_parallel(n, 3, task, &wf, NULL, NULL), CB_EINTERNAL);
    assert_int_equal(cb_opt_parallel(0, 3, task, &wf, NULL, NULL), 0);
    assert_true(cb_opt_cores() >= 1);
    free(a);
    free(b);
}

static void test_verdicts(void **state)
{
    (void)state;
    char buf[256];
    assert_int_equal(cb_opt_verdict(0.71, 0.38, 60, buf, sizeof buf), CB_VERDICT_OVERFIT);
    assert_string_equal(buf, "Verdict: likely overfit (PBO 0.71, deflated Sharpe p = 0.38, beats "
                             "random entries: 60%). Do not trade this without more evidence.");
    assert_int_equal(cb_opt_verdict(0.05, 0.01, 99, buf, sizeof buf), CB_VERDICT_CREDIBLE);
    assert_non_null(strstr(buf, "Verdict: credible (PBO 0.05"));
    assert_int_equal(cb_opt_verdict(0.3, 0.01, 99, buf, sizeof buf), CB_VERDICT_WEAK);
    assert_int_equal(cb_opt_verdict(0.05, 0.01, NAN, buf, sizeof buf), CB_VERDICT_WEAK);
    assert_non_null(strstr(buf, "beats random entries: n/a"));
    assert_int_equal(cb_opt_verdict(0.55, 0.01, 99, buf, sizeof buf), CB_VERDICT_OVERFIT);
    assert_int_equal(cb_opt_verdict(0.1, 0.2, 50, buf, sizeof buf), CB_VERDICT_OVERFIT);
    /* A missing luck baseline does not rescue an insignificant deflated Sharpe... */
    assert_int_equal(cb_opt_verdict(0.3, 0.5, NAN, buf, sizeof buf), CB_VERDICT_OVERFIT);
    /* ...but beating 95% of random entries leaves it open. */
    assert_int_equal(cb_opt_verdict(0.3, 0.5, 97, buf, sizeof buf), CB_VERDICT_WEAK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_param_space),
        cmocka_unit_test(test_sampling),
        cmocka_unit_test(test_walk_forward),
        cmocka_unit_test(test_parallel_is_deterministic),
        cmocka_unit_test(test_verdicts),
    };
    return cmocka_run_group_tests_name("opt_sweep", tests, NULL, NULL);
}
