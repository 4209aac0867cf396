/* The indicator table and the generic layer every indicator goes through: option checks,
 * spec parsing, NaN before the lookback, the NaN-input restart convention, and heap streams. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ta/ta_int.h"

static const cb_ta_info_t *const table[] = {
#define CB_TA_X(name) &cb_ta_info_##name,
#include "ta/ta_list.h"
#undef CB_TA_X
};

#define TABLE_N (sizeof table / sizeof table[0])

size_t cb_ta_count(void) { return TABLE_N; }

const cb_ta_info_t *cb_ta_at(size_t i) { return i < TABLE_N ? table[i] : NULL; }

const cb_ta_info_t *cb_ta_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < TABLE_N; i++)
        if (strcmp(table[i]->name, name) == 0)
            return table[i];
    return NULL;
}

/* Levenshtein distance, bounded to short names. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 99;
    size_t prev[64], cur[64];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t c = prev[j - 1] + (a[i - 1] != b[j - 1]);
            if (prev[j] + 1 < c)
                c = prev[j] + 1;
            if (cur[j - 1] + 1 < c)
                c = cur[j - 1] + 1;
            cur[j] = c;
        }
        memcpy(prev, cur, (lb + 1) * sizeof prev[0]);
    }
    return prev[lb];
}

const char *cb_ta_suggest(const char *name)
{
    if (!name || !name[0])
        return NULL;
    const char *best = NULL;
    size_t bestd = 99;
    for (size_t i = 0; i < TABLE_N; i++) {
        size_t d = edit_distance(name, table[i]->name);
        if (d < bestd) {
            bestd = d;
            best = table[i]->name;
        }
    }
    size_t len = strlen(name);
    size_t limit = len <= 3 ? 1 : 2;
    return bestd <= limit ? best : NULL;
}

static int opt_ok(const cb_ta_opt_info_t *o, double v)
{
    if (!(v >= o->min && v <= o->max)) /* also rejects NaN */
        return 0;
    if (o->integer && v != (double)(long long)v)
        return 0;
    return 1;
}

static void describe_range(const cb_ta_opt_info_t *o, char *buf, size_t size)
{
    if (o->integer)
        snprintf(buf, size, "a whole number from %.17g to %.17g", o->min, o->max);
    else
        snprintf(buf, size, "a number from %.17g to %.17g", o->min, o->max);
}

int cb_ta_opts_valid_(const cb_ta_info_t *info, const double *opts)
{
    if (!info || (info->n_opts && !opts))
        return 0;
    for (int k = 0; k < info->n_opts; k++)
        if (!opt_ok(&info->opts[k], opts[k]))
            return 0;
    return 1;
}

int cb_ta_check_opts(const cb_ta_info_t *info, double *opts, int n_given, cb_diag_t *diag)
{
    if (!info || !opts || n_given < 0)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL, "no indicator or options");
    if (n_given > info->n_opts) {
        if (info->n_opts == 0)
            return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, info->name,
                               "takes no options, %d given", n_given);
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, info->name,
                           "takes at most %d option%s, %d given", info->n_opts,
                           info->n_opts == 1 ? "" : "s", n_given);
    }
    for (int k = n_given; k < info->n_opts; k++)
        opts[k] = info->opts[k].def;
    for (int k = n_given < info->n_opts ? info->n_opts : n_given; k < CB_TA_MAX_OPTS; k++)
        opts[k] = 0.0;
    for (int k = 0; k < info->n_opts; k++) {
        const cb_ta_opt_info_t *o = &info->opts[k];
        if (!opt_ok(o, opts[k])) {
            char range[128], field[96];
            describe_range(o, range, sizeof range);
            snprintf(field, sizeof field, "%s option %d '%s'", info->name, k + 1, o->name);
            return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, field, "expected %s, got %.17g",
                               range, opts[k]);
        }
    }
    return 0;
}

/* "sma, ema, ..." into buf (truncated with "..." if needed). */
static void list_names(char *buf, size_t size)
{
    size_t w = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < TABLE_N && w + 1 < size; i++) {
        int r = snprintf(buf + w, size - w, "%s%s", i ? ", " : "", table[i]->name);
        if (r < 0 || (size_t)r >= size - w) {
            if (size > 4)
                memcpy(buf + size - 4, "...", 4);
            return;
        }
        w += (size_t)r;
    }
}

int cb_ta_parse_spec(const char *spec, const cb_ta_info_t **info, double opts[CB_TA_MAX_OPTS],
                     cb_diag_t *diag)
{
    if (info)
        *info = NULL;
    if (!spec || !info || !opts)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL, "no indicator spec");
    char name[64];
    const char *colon = strchr(spec, ':');
    size_t nl = colon ? (size_t)(colon - spec) : strlen(spec);
    if (nl == 0 || nl >= sizeof name) {
        char names[400];
        list_names(names, sizeof names);
        return cb_diag_set(diag, CB_ENOENT, NULL, 0, 0, NULL,
                           "indicator spec '%s': expected name[:option...]; indicators: %s",
                           spec, names);
    }
    memcpy(name, spec, nl);
    name[nl] = '\0';
    const cb_ta_info_t *in = cb_ta_find(name);
    if (!in) {
        char names[400];
        list_names(names, sizeof names);
        const char *s = cb_ta_suggest(name);
        if (s)
            return cb_diag_set(diag, CB_ENOENT, NULL, 0, 0, NULL,
                               "unknown indicator '%s' (did you mean '%s'?); indicators: %s",
                               name, s, names);
        return cb_diag_set(diag, CB_ENOENT, NULL, 0, 0, NULL,
                           "unknown indicator '%s'; indicators: %s", name, names);
    }
    int n_given = 0;
    const char *p = colon;
    while (p) {
        p++; /* past ':' */
        const char *next = strchr(p, ':');
        size_t len = next ? (size_t)(next - p) : strlen(p);
        if (n_given >= in->n_opts) {
            if (in->n_opts == 0)
                return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, in->name,
                                   "'%s': %s takes no options", spec, in->name);
            return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, in->name,
                               "'%s': %s takes at most %d option%s", spec, in->name, in->n_opts,
                               in->n_opts == 1 ? "" : "s");
        }
        char num[64];
        const cb_ta_opt_info_t *o = &in->opts[n_given];
        char range[128], field[96];
        describe_range(o, range, sizeof range);
        snprintf(field, sizeof field, "%s option %d '%s'", in->name, n_given + 1, o->name);
        if (len == 0 || len >= sizeof num)
            return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, field, "expected %s, got \"%.*s\"",
                               range, (int)(len < 40 ? len : 40), p);
        memcpy(num, p, len);
        num[len] = '\0';
        char *end;
        errno = 0;
        double v = strtod(num, &end);
        if (*end != '\0' || errno == ERANGE || end == num)
            return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, field, "expected %s, got \"%s\"",
                               range, num);
        opts[n_given++] = v;
        p = next;
    }
    int r = cb_ta_check_opts(in, opts, n_given, diag);
    if (r)
        return r;
    *info = in;
    return 0;
}

/* ---- Generic forms ---------------------------------------------------------------------- */

int cb_ta_lookback(const cb_ta_info_t *info, const double *opts)
{
    return info ? info->lookback(opts) : -1;
}

int cb_ta_batch(const cb_ta_info_t *info, size_t n, const double *const *inputs,
                const double *opts, double *const *outputs)
{
    return info ? info->batch(n, inputs, opts, outputs) : CB_EINVAL;
}

size_t cb_ta_stream_size(const cb_ta_info_t *info, const double *opts)
{
    return info ? info->stream_size(opts) : 0;
}

int cb_ta_stream_init(const cb_ta_info_t *info, void *state, const double *opts)
{
    return info ? info->stream_init(state, opts) : CB_EINVAL;
}

int cb_ta_stream_update(const cb_ta_info_t *info, void *state, const double *in, double *out)
{
    return info ? info->stream_update(state, in, out) : CB_EINVAL;
}

int cb_ta_stream_run(const cb_ta_info_t *info, void *state, size_t n, const double *const *in,
                     double *const *out)
{
    if (!info)
        return CB_EINVAL;
    info->stream_run(state, n, in, out);
    return 0;
}

int cb_ta_stream_run_pair(const cb_ta_info_t *info, void *s1, void *s2, size_t n,
                          const double *in, double *out1, double *out2)
{
    if (!info || info->n_inputs != 1 || info->n_outputs != 1)
        return CB_EINVAL;
    if (info == &cb_ta_info_ema && cb_ta_ema_run_pair_(s1, s2, n, in, out1, out2))
        return 0;
    info->stream_run(s1, n, &in, &out1);
    info->stream_run(s2, n, &in, &out2);
    return 0;
}

/* ---- The layer CB_TA_DEFINE wraps around each indicator --------------------------------- */

int cb_ta_run_lookback_(const cb_ta_info_t *info, cb_ta_klookback_fn lb, const double *opts)
{
    if (!cb_ta_opts_valid_(info, opts))
        return -1;
    return lb(opts);
}

/* 1 when x[0..255] holds a NaN or an infinity (ta_int.h's exponent-bit screen, four vector
 * accumulators so that the ORs of consecutive loads do not wait for each other). */
static int block_bad(const double *x)
{
    cb_ta_v2u a0 = {0, 0}, a1 = {0, 0}, a2 = {0, 0}, a3 = {0, 0};
    for (size_t k = 0; k < 256; k += 8) {
        a0 |= cb_ta_v2_nf(cb_ta_v2d_load(x + k));
        a1 |= cb_ta_v2_nf(cb_ta_v2d_load(x + k + 2));
        a2 |= cb_ta_v2_nf(cb_ta_v2d_load(x + k + 4));
        a3 |= cb_ta_v2_nf(cb_ta_v2d_load(x + k + 6));
    }
    return cb_ta_v2_bad((a0 | a1) | (a2 | a3));
}

/* Index of the first NaN or infinite value of x in [from, n), or n; blocks of 256 are screened
 * without a branch per value, so the common all-finite case costs little more than reading
 * the array once. */
static size_t first_nonfinite(const double *x, size_t from, size_t n)
{
    size_t i = from;
    while (n - i >= 256) {
        if (block_bad(x + i))
            break;
        i += 256;
    }
    for (; i < n; i++)
        if (cb_ta_nf(x[i]) >> 63)
            return i;
    return n;
}

int cb_ta_any_nonfinite_(const double *x, size_t n) { return first_nonfinite(x, 0, n) < n; }

int cb_ta_run_batch_(const cb_ta_info_t *info, cb_ta_klookback_fn lb, cb_ta_kbatch_fn kb,
                     cb_ta_kfused_fn kf, size_t n, const double *const *in, const double *opts,
                     double *const *out)
{
    if (!cb_ta_opts_valid_(info, opts) || (n && (!in || !out)))
        return CB_EINVAL;
    for (int k = 0; k < info->n_inputs; k++)
        if (n && !in[k])
            return CB_EINVAL;
    for (int k = 0; k < info->n_outputs; k++)
        if (n && !out[k])
            return CB_EINVAL;
    size_t lookback = (size_t)lb(opts);
    /* Optimistic: a fused kernel computes and screens in one pass; only when it met a bad
     * value does the input go through the screened, segmented path below. */
    if (kf && n > lookback && kf(n, in, opts, out) == 0) {
        for (int k = 0; k < info->n_outputs; k++)
            cb_ta_fill_nan(out[k], lookback);
        return 0;
    }
    const double *seg_in[CB_TA_MAX_INPUTS];
    double *seg_out[CB_TA_MAX_OUTPUTS];
    size_t start = 0;
    while (start < n) {
        /* the finite segment [start, end) */
        size_t end = n;
        for (int k = 0; k < info->n_inputs; k++)
            end = first_nonfinite(in[k], start, end);
        size_t len = end - start;
        size_t warm = len < lookback ? len : lookback;
        for (int k = 0; k < info->n_outputs; k++)
            cb_ta_fill_nan(out[k] + start, warm);
        if (len > lookback) {
            for (int k = 0; k < info->n_inputs; k++)
                seg_in[k] = in[k] + start;
            for (int k = 0; k < info->n_outputs; k++)
                seg_out[k] = out[k] + start;
            kb(len, seg_in, opts, seg_out);
        }
        if (end < n) /* the bad bar itself */
            for (int k = 0; k < info->n_outputs; k++)
                out[k][end] = NAN;
        start = end + 1;
    }
    return 0;
}

size_t cb_ta_run_size_(const cb_ta_info_t *info, cb_ta_ksize_fn ks, const double *opts)
{
    if (!cb_ta_opts_valid_(info, opts))
        return 0;
    return CB_TA_HEAD_SIZE + CB_TA_ALIGN_UP(ks(opts));
}

int cb_ta_run_init_(const cb_ta_info_t *info, cb_ta_klookback_fn lb, cb_ta_kinit_fn ki,
                    void *state, const double *opts)
{
    if (!state || !cb_ta_opts_valid_(info, opts))
        return CB_EINVAL;
    cb_ta_head_t *h = state;
    memset(h, 0, sizeof *h);
    for (int k = 0; k < info->n_opts; k++)
        h->opts[k] = opts[k];
    h->bar = 0;
    h->lookback = lb(opts);
    ki(cb_ta_body(state), h->opts);
    return 0;
}

/* ---- Heap streams ----------------------------------------------------------------------- */

struct cb_ta_stream {
    const cb_ta_info_t *info;
    size_t size;
    /* the state follows, 16-byte aligned */
    _Alignas(16) unsigned char state[];
};

cb_ta_stream_t *cb_ta_stream_new(const cb_ta_info_t *info, const double *opts)
{
    size_t size = cb_ta_stream_size(info, opts);
    if (!size)
        return NULL;
    cb_ta_stream_t *s = malloc(sizeof *s + size);
    if (!s)
        return NULL;
    s->info = info;
    s->size = size;
    if (cb_ta_stream_init(info, s->state, opts) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

int cb_ta_stream_push(cb_ta_stream_t *s, const double *in, double *out)
{
    if (!s)
        return CB_EINVAL;
    return cb_ta_stream_update(s->info, s->state, in, out);
}

void cb_ta_stream_free(cb_ta_stream_t *s) { free(s); }
