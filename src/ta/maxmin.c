/* MAX and MIN: highest / lowest value over the last `period` bars (TA-Lib TA_MAX, TA_MIN).
 * O(1) per bar whatever the period: batch uses the block (van Herk/Gil-Werman) kernel without
 * scratch memory, streaming the same block idea (cb_ta_rollext_t). Values are exact, so both
 * forms agree bit for bit. */
#include "ta/ta_int.h"

typedef struct ext_state {
    cb_ta_rollext_t re;
} ext_state_t;

static int ext_lookback(const double *opts) { return cb_ta_iopt(opts, 0) - 1; }
static size_t ext_size(const double *opts)
{
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(ext_state_t));
    size_t p = (size_t)cb_ta_iopt(opts, 0);
    cb_ta_layout_add(&l, p * sizeof(double));
    cb_ta_layout_add(&l, p * sizeof(double));
    return l.off;
}
static void ext_init(void *st, const double *opts)
{
    ext_state_t *s = st;
    cb_ta_layout_t l = cb_ta_layout_start(sizeof(ext_state_t));
    cb_ta_rollext_place(&s->re, &l, (size_t)cb_ta_iopt(opts, 0));
}
static inline void ext_update(void *st, const double *in, double *out, int want_max)
{
    ext_state_t *s = st;
    out[0] = cb_ta_rollext_push(&s->re, st, in[0], want_max);
}

#define max_lookback ext_lookback
#define max_size ext_size
#define max_init ext_init
static void max_update(void *st, const double *in, double *out) { ext_update(st, in, out, 1); }
static void max_batch(size_t n, const double *const *in, const double *opts, double *const *out)
{
    cb_ta_rolling_extreme_(in[0], n, (size_t)cb_ta_iopt(opts, 0), out[0], 1);
}

#define min_lookback ext_lookback
#define min_size ext_size
#define min_init ext_init
static void min_update(void *st, const double *in, double *out) { ext_update(st, in, out, 0); }
static void min_batch(size_t n, const double *const *in, const double *opts, double *const *out)
{
    cb_ta_rolling_extreme_(in[0], n, (size_t)cb_ta_iopt(opts, 0), out[0], 0);
}

CB_TA_DEFINE(max, .title = "Highest value over a specified period", .reference = "TA-Lib TA_MAX",
             .n_inputs = 1, .inputs = {"real"},
             .n_opts = 1, .opts = {{"period", 30, 2, 100000, 1}},
             .n_outputs = 1, .outputs = {"max"})

CB_TA_DEFINE(min, .title = "Lowest value over a specified period", .reference = "TA-Lib TA_MIN",
             .n_inputs = 1, .inputs = {"real"},
             .n_opts = 1, .opts = {{"period", 30, 2, 100000, 1}},
             .n_outputs = 1, .outputs = {"min"})
