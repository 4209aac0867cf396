/* Parts of a sharded sweep: what a shard writes (its rows, their daily returns and the sweep's
 * identity), how merge reads it back (outside input: every field is checked), and the checks
 * that a set of parts is one whole sweep. */
#include <jansson.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/opt.h"
#include "opt/opt_int.h"

#define PART_MAGIC "optimize part"
#define PART_FORMAT 1

void cb_opt_part_free(cb_opt_part_t *p)
{
    free(p->rows);
    free(p->daily);
    free(p->sweep);
    p->rows = NULL;
    p->daily = NULL;
    p->sweep = NULL;
}

/* ---- The sweep's identity --------------------------------------------------------------- */

static int sha256_hex(const void *data, size_t len, char hex[65])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        return CB_EINTERNAL;
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return 0;
}

static char *dump_canonical(const json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
}

char *cb_opt_sweep_identity(const cb_backtest_t *bt, const cb_opt_config_t *cfg, size_t shards)
{
    json_t *s = json_object();
    char hex[65];
    size_t len = 0;
    const char *text = cb_rules_file_text(bt->file, &len);
    json_object_set_new(s, "version", json_string(cb_version()));
    json_object_set_new(s, "strategy_file", json_string(bt->path ? bt->path : ""));
    json_object_set_new(s, "strategy_sha256",
                        json_string(sha256_hex(text, len, hex) == 0 ? hex : ""));
    json_t *set = json_object();
#define CB_OPT_SET_(field, name_) json_object_set_new(set, name_, json_string(bt->settings.field));
    CB_BT_SETTINGS_MAP(CB_OPT_SET_)
#undef CB_OPT_SET_
    json_object_set_new(s, "settings", set);
    json_t *data = json_array();
    for (size_t k = 0; k < bt->n; k++)
        json_array_append_new(
            data, json_string(cb_series_sha256(bt->series[k], hex) == 0 ? hex : ""));
    json_object_set_new(s, "data_sha256", data);
    json_object_set_new(s, "objective", json_string(cb_objective_name(cfg->objective)));
    json_object_set_new(s, "search", json_string(cfg->random ? "random" : "grid"));
    json_object_set_new(s, "samples", json_integer((json_int_t)cfg->samples));
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)cfg->seed);
    json_object_set_new(s, "seed", json_string(seed));
    json_object_set_new(s, "partitions", json_integer((json_int_t)cfg->pbo_partitions));
    json_object_set_new(s, "luck_runs", json_integer(cfg->luck_runs == SIZE_MAX
                                                         ? -1
                                                         : (json_int_t)cfg->luck_runs));
    json_object_set_new(s, "walk_forward", json_integer((json_int_t)cfg->wf_folds));
    json_object_set_new(s, "train_frac", json_real(cfg->wf_train_frac));
    json_object_set_new(s, "anchored", json_boolean(cfg->wf_anchored));
    json_object_set_new(s, "params", opt_space_json(&cfg->space));
    size_t total = cb_param_space_size(&cfg->space);
    size_t n = cfg->random && cfg->samples < total ? cfg->samples : total;
    json_object_set_new(s, "combinations", json_integer((json_int_t)n));
    json_object_set_new(s, "shards", json_integer((json_int_t)shards));
    char *out = dump_canonical(s);
    json_decref(s);
    return out;
}

static int diff_into(const json_t *a, const json_t *b, const char *prefix, char *field,
                     size_t size)
{
    if (json_is_object(a) && json_is_object(b)) {
        const char *key;
        json_t *va;
        json_object_foreach((json_t *)a, key, va)
        {
            char path[128];
            snprintf(path, sizeof path, "%s.%s", prefix, key);
            json_t *vb = json_object_get(b, key);
            if (!vb) {
                snprintf(field, size, "%s", path);
                return 1;
            }
            if (diff_into(va, vb, path, field, size))
                return 1;
        }
        json_t *vb;
        json_object_foreach((json_t *)b, key, vb)
            if (!json_object_get(a, key)) {
                snprintf(field, size, "%s.%s", prefix, key);
                return 1;
            }
        return 0;
    }
    if (json_equal((json_t *)a, (json_t *)b))
        return 0;
    snprintf(field, size, "%s", prefix);
    return 1;
}

int opt_sweep_diff(const char *a, const char *b, char *field, size_t size)
{
    json_t *ja = a ? json_loads(a, 0, NULL) : NULL, *jb = b ? json_loads(b, 0, NULL) : NULL;
    int d = ja && jb ? diff_into(ja, jb, "sweep", field, size) : 1;
    if (!(ja && jb))
        snprintf(field, size, "sweep");
    json_decref(ja);
    json_decref(jb);
    return d;
}

/* ---- Writing a part --------------------------------------------------------------------- */

/* A double that round-trips: a number, or "nan", "inf", "-inf". */
static json_t *exact(double v)
{
    if (isnan(v))
        return json_string("nan");
    if (isinf(v))
        return json_string(v > 0 ? "inf" : "-inf");
    return json_real(v);
}

/* The metrics of a row, by name: one table for writing and reading. */
#define OPT_ROW_METRICS(X)                                                                   \
    X(objective)                                                                             \
    X(total_return_pct)                                                                      \
    X(cagr_pct)                                                                              \
    X(sharpe)                                                                                \
    X(sortino)                                                                               \
    X(calmar)                                                                                \
    X(sqn)                                                                                   \
    X(profit_factor)                                                                         \
    X(max_drawdown_pct)                                                                      \
    X(win_rate_pct)

static char *b64_daily(const double *d, size_t n)
{
    size_t bytes = n * 8;
    unsigned char *raw = malloc(bytes ? bytes : 1);
    char *out = malloc(4 * ((bytes + 2) / 3) + 1);
    if (!raw || !out) {
        free(raw);
        free(out);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t u;
        memcpy(&u, &d[i], 8);
        for (int b = 0; b < 8; b++)
            raw[i * 8 + (size_t)b] = (unsigned char)(u >> (8 * b)); /* little-endian */
    }
    EVP_EncodeBlock((unsigned char *)out, raw, (int)bytes);
    free(raw);
    return out;
}

int cb_opt_part_write_json(FILE *out, const cb_opt_part_t *p)
{
    json_t *root = json_object();
    json_object_set_new(root, "comeback", json_string(PART_MAGIC));
    json_object_set_new(root, "format", json_integer(PART_FORMAT));
    json_t *sweep = p->sweep ? json_loads(p->sweep, 0, NULL) : NULL;
    if (!sweep) {
        json_decref(root);
        return CB_ENOMEM;
    }
    json_object_set_new(root, "sweep", sweep);
    json_object_set_new(root, "shard", json_integer((json_int_t)p->shard));
    json_object_set_new(root, "shards", json_integer((json_int_t)p->shards));
    json_object_set_new(root, "total", json_integer((json_int_t)p->total));
    json_object_set_new(root, "first", json_integer((json_int_t)p->first));
    json_object_set_new(root, "end", json_integer((json_int_t)p->end));
    json_object_set_new(root, "days", json_integer((json_int_t)p->n_days));
    json_t *rows = json_array();
    json_object_set_new(root, "rows", rows);
    int rc = 0;
    for (size_t r = 0; r < p->end - p->first && !rc; r++) {
        const cb_opt_row_t *row = &p->rows[r];
        json_t *o = json_object();
        json_object_set_new(o, "index", json_integer((json_int_t)row->index));
#define CB_OPT_PUT_(m) json_object_set_new(o, #m, exact(row->m));
        OPT_ROW_METRICS(CB_OPT_PUT_)
#undef CB_OPT_PUT_
        json_object_set_new(o, "trades", json_integer((json_int_t)row->trades));
        char *b64 = b64_daily(p->daily + r * p->n_days, p->n_days);
        if (!b64)
            rc = CB_ENOMEM;
        else
            json_object_set_new(o, "daily", json_string(b64));
        free(b64);
        json_array_append_new(rows, o);
    }
    if (!rc && json_dumpf(root, out, JSON_INDENT(1) | JSON_PRESERVE_ORDER |
                                         JSON_REAL_PRECISION(17)) != 0)
        rc = CB_EIO;
    if (!rc)
        fputc('\n', out);
    json_decref(root);
    return rc;
}

/* ---- Reading a part (outside input) ------------------------------------------------------ */

static int bad(cb_diag_t *diag, const char *name, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int bad(cb_diag_t *diag, const char *name, const char *field, const char *fmt, ...)
{
    char f[96];
    snprintf(f, sizeof f, "field '%s'", field);
    va_list ap;
    va_start(ap, fmt);
    cb_diag_vset(diag, CB_EPARSE, name, 0, 0, f, fmt, ap);
    va_end(ap);
    return CB_EPARSE;
}

/* A whole number >= 0 (and <= max). */
static int get_count(const json_t *o, const char *key, size_t max, size_t *out,
                     const char *name, const char *field, cb_diag_t *diag)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return bad(diag, name, field, "missing");
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (unsigned long long)json_integer_value(v) > (unsigned long long)max)
        return bad(diag, name, field, "expected a whole number from 0 to %zu", max);
    *out = (size_t)json_integer_value(v);
    return 0;
}

static int get_exact(const json_t *o, const char *key, double *out, const char *name,
                     const char *field, cb_diag_t *diag)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return bad(diag, name, field, "missing");
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 0;
    }
    const char *s = json_string_value(v);
    if (s && !strcmp(s, "nan"))
        *out = NAN;
    else if (s && !strcmp(s, "inf"))
        *out = INFINITY;
    else if (s && !strcmp(s, "-inf"))
        *out = -INFINITY;
    else
        return bad(diag, name, field, "expected a number, \"nan\", \"inf\" or \"-inf\"");
    return 0;
}

static int get_daily(const json_t *o, size_t days, double *out, const char *name,
                     const char *field, cb_diag_t *diag)
{
    json_t *v = json_object_get(o, "daily");
    if (!v)
        return bad(diag, name, field, "missing");
    const char *s = json_string_value(v);
    size_t bytes = days * 8, want = 4 * ((bytes + 2) / 3);
    if (!s || json_string_length(v) != want)
        return bad(diag, name, field, "expected %zu days as base64 (%zu characters)", days,
                   want);
    unsigned char *raw = malloc(want / 4 * 3 + 1);
    if (!raw)
        return CB_ENOMEM;
    int got = want ? EVP_DecodeBlock(raw, (const unsigned char *)s, (int)want) : 0;
    size_t pad = want && s[want - 1] == '=' ? (want > 1 && s[want - 2] == '=' ? 2 : 1) : 0;
    if (got < 0 || (size_t)got - pad != bytes) {
        free(raw);
        return bad(diag, name, field, "not valid base64");
    }
    for (size_t i = 0; i < days; i++) {
        uint64_t u = 0;
        for (int b = 7; b >= 0; b--)
            u = u << 8 | raw[i * 8 + (size_t)b];
        memcpy(&out[i], &u, 8);
    }
    free(raw);
    return 0;
}

static int parse_rows(const json_t *rows, cb_opt_part_t *p, cb_diag_t *diag)
{
    size_t m = p->end - p->first;
    if (!json_is_array(rows))
        return bad(diag, p->name, "rows", "expected an array");
    if (json_array_size(rows) != m)
        return bad(diag, p->name, "rows", "expected %zu row%s (positions %zu to %zu), got %zu",
                   m, m == 1 ? "" : "s", p->first, p->end, json_array_size(rows));
    if (m && p->n_days > (SIZE_MAX / 16) / m)
        return bad(diag, p->name, "days", "too many days");
    /* The daily matrix is allocated before the rows are read: check first that every row
     * carries a daily string of the declared length, so the allocation is bounded by the size
     * of the input itself and a "days" count the file does not back is refused, not tried. */
    size_t want = 4 * ((p->n_days * 8 + 2) / 3);
    for (size_t r = 0; r < m; r++) {
        const json_t *o = json_array_get(rows, r), *v = json_object_get(o, "daily");
        char field[64];
        snprintf(field, sizeof field, "rows[%zu]", r);
        if (!json_is_object(o))
            return bad(diag, p->name, field, "expected an object");
        snprintf(field, sizeof field, "rows[%zu].daily", r);
        if (!v)
            return bad(diag, p->name, field, "missing");
        if (!json_is_string(v) || json_string_length(v) != want)
            return bad(diag, p->name, field, "expected %zu days as base64 (%zu characters)",
                       p->n_days, want);
    }
    p->rows = calloc(m ? m : 1, sizeof *p->rows);
    p->daily = malloc((m && p->n_days ? m * p->n_days : 1) * sizeof *p->daily);
    if (!p->rows || !p->daily)
        return CB_ENOMEM;
    for (size_t r = 0; r < m; r++) {
        const json_t *o = json_array_get(rows, r);
        char field[64];
        snprintf(field, sizeof field, "rows[%zu]", r);
        if (!json_is_object(o))
            return bad(diag, p->name, field, "expected an object");
        cb_opt_row_t *row = &p->rows[r];
        int rc;
#define CB_OPT_GET_(mname)                                                                   \
    snprintf(field, sizeof field, "rows[%zu].%s", r, #mname);                                \
    if ((rc = get_exact(o, #mname, &row->mname, p->name, field, diag)) != 0)                 \
        return rc;
        OPT_ROW_METRICS(CB_OPT_GET_)
#undef CB_OPT_GET_
        snprintf(field, sizeof field, "rows[%zu].index", r);
        if ((rc = get_count(o, "index", SIZE_MAX / 2, &row->index, p->name, field, diag)) != 0)
            return rc;
        snprintf(field, sizeof field, "rows[%zu].trades", r);
        if ((rc = get_count(o, "trades", SIZE_MAX / 2, &row->trades, p->name, field, diag)) != 0)
            return rc;
        snprintf(field, sizeof field, "rows[%zu].daily", r);
        if ((rc = get_daily(o, p->n_days, p->daily + r * p->n_days, p->name, field, diag)) != 0)
            return rc;
    }
    return 0;
}

int cb_opt_part_parse(const char *name, const char *text, size_t len, cb_opt_part_t *out,
                      cb_diag_t *diag)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", name);
    json_error_t err;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    if (!root)
        return cb_diag_set(diag, CB_EPARSE, name, err.line > 0 ? err.line : 0,
                           err.column > 0 ? err.column : 0, NULL, "not JSON: %s", err.text);
    int rc = 0;
    const char *magic = json_string_value(json_object_get(root, "comeback"));
    json_t *fmt = json_object_get(root, "format");
    json_t *sweep = json_object_get(root, "sweep");
    if (!json_is_object(root) || !magic || strcmp(magic, PART_MAGIC) != 0) {
        rc = cb_diag_set(diag, CB_EPARSE, name, 0, 0, NULL,
                         "not a part of a sharded sweep (written by comeback optimize "
                         "--shard i/N --json FILE)");
        goto done;
    }
    if (!json_is_integer(fmt) || json_integer_value(fmt) != PART_FORMAT) {
        rc = bad(diag, name, "format", "this comeback reads format %d", PART_FORMAT);
        goto done;
    }
    if (!json_is_object(sweep)) {
        rc = bad(diag, name, "sweep", "expected an object");
        goto done;
    }
    if ((rc = get_count(root, "shards", 1000000, &out->shards, name, "shards", diag)) ||
        (rc = get_count(root, "shard", 1000000, &out->shard, name, "shard", diag)) ||
        (rc = get_count(root, "total", SIZE_MAX / 2, &out->total, name, "total", diag)) ||
        (rc = get_count(root, "first", SIZE_MAX / 2, &out->first, name, "first", diag)) ||
        (rc = get_count(root, "end", SIZE_MAX / 2, &out->end, name, "end", diag)) ||
        (rc = get_count(root, "days", SIZE_MAX / 16, &out->n_days, name, "days", diag)))
        goto done;
    if (out->shard < 1 || out->shard > out->shards) {
        rc = bad(diag, name, "shard", "expected 1 to %zu (shards), got %zu", out->shards,
                 out->shard);
        goto done;
    }
    size_t first, end;
    cb_opt_shard_range(out->total, out->shard, out->shards, &first, &end);
    if (out->first != first || out->end != end) {
        rc = bad(diag, name, out->first != first ? "first" : "end",
                 "shard %zu/%zu of %zu combinations covers positions %zu to %zu, not %zu to %zu",
                 out->shard, out->shards, out->total, first, end, out->first, out->end);
        goto done;
    }
    if ((rc = parse_rows(json_object_get(root, "rows"), out, diag)) != 0)
        goto done;
    if (!(out->sweep = dump_canonical(sweep)))
        rc = CB_ENOMEM;
done:
    json_decref(root);
    if (rc)
        cb_opt_part_free(out);
    return rc;
}

/* ---- One whole sweep? --------------------------------------------------------------------- */

static int cmp_shard(const void *a, const void *b)
{
    const cb_opt_part_t *x = a, *y = b;
    return (x->shard > y->shard) - (x->shard < y->shard);
}

int cb_opt_parts_check(cb_opt_part_t *parts, size_t n, cb_diag_t *diag)
{
    if (n == 0)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL, "no parts to merge");
    const cb_opt_part_t *a = &parts[0];
    for (size_t q = 1; q < n; q++) {
        const cb_opt_part_t *p = &parts[q];
        char field[128];
        if (p->shards != a->shards)
            return cb_diag_set(diag, CB_EINVAL, p->name, 0, 0, "field 'shards'",
                               "%zu shards, but %s has %zu: not the same split", p->shards,
                               a->name, a->shards);
        if (opt_sweep_diff(a->sweep, p->sweep, field, sizeof field)) {
            char f[160];
            snprintf(f, sizeof f, "field '%s'", field);
            return cb_diag_set(diag, CB_EINVAL, p->name, 0, 0, f,
                               "differs from %s: the parts are of different sweeps", a->name);
        }
        if (p->total != a->total)
            return cb_diag_set(diag, CB_EINVAL, p->name, 0, 0, "field 'total'",
                               "%zu combinations, but %s has %zu", p->total, a->name,
                               a->total);
        if (p->n_days != a->n_days && p->end > p->first && a->end > a->first)
            return cb_diag_set(diag, CB_EINVAL, p->name, 0, 0, "field 'days'",
                               "%zu days, but %s has %zu", p->n_days, a->name, a->n_days);
        for (size_t r = 0; r < q; r++)
            if (parts[r].shard == p->shard)
                return cb_diag_set(diag, CB_EINVAL, p->name, 0, 0, NULL,
                                   "shard %zu/%zu again (already in %s)", p->shard, p->shards,
                                   parts[r].name);
    }
    qsort(parts, n, sizeof *parts, cmp_shard);
    for (size_t k = 1, q = 0; k <= parts[0].shards; k++) {
        if (q < n && parts[q].shard == k) {
            q++;
            continue;
        }
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL,
                           "shard %zu/%zu is missing: merge needs every part of the sweep", k,
                           parts[0].shards);
    }
    return 0;
}

/* ---- The configuration a sweep records ---------------------------------------------------- */

static int sweep_str(const json_t *s, const char *key, char *dst, size_t size, const char *name,
                     cb_diag_t *diag)
{
    char field[64];
    snprintf(field, sizeof field, "%s%s", s && json_object_get(s, "strategy_file") ? "sweep."
                                                                                  : "sweep.settings.",
             key);
    const char *v = json_string_value(json_object_get(s, key));
    if (!v)
        return bad(diag, name, field, "expected a string");
    if (strlen(v) >= size)
        return bad(diag, name, field, "too long");
    snprintf(dst, size, "%s", v);
    return 0;
}

int cb_opt_sweep_config(const char *name, const char *sweep, cb_opt_config_t *cfg,
                        cb_bt_settings_t *st, char *strategy_path, size_t path_size,
                        cb_diag_t *diag)
{
    memset(cfg, 0, sizeof *cfg);
    memset(st, 0, sizeof *st);
    json_t *s = sweep ? json_loads(sweep, 0, NULL) : NULL;
    if (!json_is_object(s)) {
        json_decref(s);
        return bad(diag, name, "sweep", "expected an object");
    }
    int rc = sweep_str(s, "strategy_file", strategy_path, path_size, name, diag);
    json_t *set = json_object_get(s, "settings");
    if (!rc && !json_is_object(set))
        rc = bad(diag, name, "sweep.settings", "expected an object");
#define CB_OPT_ST_(field, name_)                                                             \
    if (!rc)                                                                                 \
        rc = sweep_str(set, name_, st->field, sizeof st->field, name, diag);
    CB_BT_SETTINGS_MAP(CB_OPT_ST_)
#undef CB_OPT_ST_
    char buf[64];
    if (!rc && !(rc = sweep_str(s, "objective", buf, sizeof buf, name, diag)) &&
        cb_objective_parse(buf, &cfg->objective) != 0)
        rc = bad(diag, name, "sweep.objective", "unknown objective '%s'", buf);
    if (!rc && !(rc = sweep_str(s, "search", buf, sizeof buf, name, diag))) {
        if (strcmp(buf, "grid") && strcmp(buf, "random"))
            rc = bad(diag, name, "sweep.search", "expected grid or random");
        cfg->random = !strcmp(buf, "random");
    }
    if (!rc && !(rc = sweep_str(s, "seed", buf, sizeof buf, name, diag))) {
        char *end;
        cfg->seed = strtoull(buf, &end, 10);
        if (end == buf || *end)
            rc = bad(diag, name, "sweep.seed", "expected a whole number");
    }
    size_t wf = 0;
    if (!rc)
        rc = get_count(s, "samples", 100000000, &cfg->samples, name, "sweep.samples", diag);
    if (!rc)
        rc = get_count(s, "partitions", 1000, &cfg->pbo_partitions, name, "sweep.partitions",
                       diag);
    if (!rc && cfg->pbo_partitions % 2)
        rc = bad(diag, name, "sweep.partitions", "must be even");
    if (!rc)
        rc = get_count(s, "walk_forward", 1000, &wf, name, "sweep.walk_forward", diag);
    cfg->wf_folds = wf;
    json_t *luck = json_object_get(s, "luck_runs");
    if (!rc) {
        if (!json_is_integer(luck) || json_integer_value(luck) < -1 ||
            json_integer_value(luck) > 100000000)
            rc = bad(diag, name, "sweep.luck_runs", "expected -1 (skipped) or a whole number");
        else
            cfg->luck_runs = json_integer_value(luck) < 0 ? SIZE_MAX
                                                          : (size_t)json_integer_value(luck);
    }
    json_t *tf = json_object_get(s, "train_frac");
    if (!rc && (!json_is_number(tf) || !(json_number_value(tf) >= 0 && json_number_value(tf) < 1)))
        rc = bad(diag, name, "sweep.train_frac", "expected a fraction from 0 to 1");
    if (!rc)
        cfg->wf_train_frac = json_number_value(tf);
    json_t *anch = json_object_get(s, "anchored");
    if (!rc && !json_is_boolean(anch))
        rc = bad(diag, name, "sweep.anchored", "expected true or false");
    cfg->wf_anchored = json_is_true(anch);
    json_t *params = json_object_get(s, "params");
    if (!rc && (!json_is_array(params) || json_array_size(params) == 0 ||
                json_array_size(params) > CB_OPT_MAX_PARAMS))
        rc = bad(diag, name, "sweep.params", "expected 1 to %d parameter ranges",
                 CB_OPT_MAX_PARAMS);
    for (size_t k = 0; !rc && k < json_array_size(params); k++) {
        const json_t *p = json_array_get(params, k);
        const char *pname = json_string_value(json_object_get(p, "name"));
        json_t *lo = json_object_get(p, "lo"), *hi = json_object_get(p, "hi"),
               *step = json_object_get(p, "step");
        char field[48];
        snprintf(field, sizeof field, "sweep.params[%zu]", k);
        cb_diag_t d;
        if (!pname || !json_is_number(lo) || !json_is_number(hi) || !json_is_number(step))
            rc = bad(diag, name, field, "expected {\"name\", \"lo\", \"hi\", \"step\"}");
        else if (strlen(pname) >= sizeof cfg->space.p[0].name)
            rc = bad(diag, name, field, "the name is too long");
        else if (cb_param_space_add(&cfg->space, pname, json_number_value(lo),
                                    json_number_value(hi), json_number_value(step), &d) != 0)
            rc = bad(diag, name, field, "%s", d.msg);
    }
    json_decref(s);
    return rc;
}
