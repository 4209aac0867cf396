/* The strategy file: INI read with libinih, with line and column numbers recorded by our own
 * line reader (inih's handler gets no line numbers in Debian's build). */
#include "rules/rules_int.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const strategy_keys[SK_COUNT] = {
    "name", "timeframe", "entry", "exit", "stoploss", "take_profit", "trailing_stop",
    "trailing_offset", "plugin"};
static const char *const other_sections[RL_N_OTHER_SECTIONS] = {"backtest", "pairs",
                                                                "exchange", "bot", "risk"};
static const char *const all_sections[RL_N_OTHER_SECTIONS + 2] = {
    "strategy", "params", "backtest", "pairs", "exchange", "bot", "risk"};

typedef struct load_ctx {
    cb_rules_file_t *f;
    cb_diags_t *diags;
    /* the reader */
    const char *text;
    size_t len, at;
    long line;               /* line number of the line last handed to inih */
    const char *raw;         /* that line's text (without the newline) */
    size_t raw_len;
    int too_long;
    /* sections */
    char section[64];
    int section_known;       /* 0 = unknown section (already reported) */
    long section_first[RL_N_OTHER_SECTIONS + 2]; /* header line of each known section, 0 */
    /* the key a continuation line continues */
    char prev_key[64];
    long prev_line;
    int oom;
} load_ctx_t;

static char *reader(char *str, int num, void *stream)
{
    load_ctx_t *c = stream;
    if (c->at >= c->len)
        return NULL;
    const char *s = c->text + c->at;
    size_t rest = c->len - c->at;
    const char *nl = memchr(s, '\n', rest);
    size_t n = nl ? (size_t)(nl - s) : rest;
    c->at += nl ? n + 1 : n;
    c->line++;
    c->raw = s;
    c->raw_len = n;
    if (n && s[n - 1] == '\r')
        c->raw_len--;
    if (c->line == 1 && c->raw_len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
        c->raw += 3;
        c->raw_len -= 3;
    }
    /* NUL bytes would cut the line short inside inih: treat them as errors here */
    size_t max = (size_t)num - 3;
    c->too_long = 0;
    if (memchr(c->raw, '\0', c->raw_len)) {
        rl_error(c->diags, CB_EPARSE, c->f->path, c->line, 0, "the line contains a NUL byte");
        c->f->n_errors++;
        c->too_long = 1;
        str[0] = '\0';
        return str;
    }
    if (c->raw_len > max) {
        rl_error(c->diags, CB_EPARSE, c->f->path, c->line, (int)max + 1,
                 "line too long (%zu characters, at most %zu); continue a long rule on indented "
                 "lines",
                 c->raw_len, max);
        c->f->n_errors++;
        c->too_long = 1;
        str[0] = '\0';
        return str;
    }
    /* Section headers are tracked here, where the line number is known. */
    size_t i = 0;
    while (i < c->raw_len && isspace((unsigned char)c->raw[i]))
        i++;
    if (i < c->raw_len && c->raw[i] == '[') {
        const char *e = memchr(c->raw + i, ']', c->raw_len - i);
        size_t nl2 = e ? (size_t)(e - (c->raw + i + 1)) : 0;
        const char *name = c->raw + i + 1;
        c->prev_key[0] = '\0';
        if (e) {
            while (nl2 && isspace((unsigned char)*name)) {
                name++;
                nl2--;
            }
            while (nl2 && isspace((unsigned char)name[nl2 - 1]))
                nl2--;
            snprintf(c->section, sizeof c->section, "%.*s", (int)(nl2 < 63 ? nl2 : 63), name);
            int known = -1;
            for (int k = 0; k < RL_N_OTHER_SECTIONS + 2; k++)
                if (strcmp(c->section, all_sections[k]) == 0)
                    known = k;
            c->section_known = known >= 0;
            if (known < 0) {
                const char *sug = rl_closest(c->section, all_sections, RL_N_OTHER_SECTIONS + 2);
                if (sug)
                    rl_error(c->diags, CB_EVALID, c->f->path, c->line, (int)i + 1,
                             "unknown section [%s]; did you mean [%s]?", c->section, sug);
                else
                    rl_error(c->diags, CB_EVALID, c->f->path, c->line, (int)i + 1,
                             "unknown section [%s]; the sections are [strategy] [params] "
                             "[backtest] [pairs] [exchange] [bot] [risk]",
                             c->section);
                c->f->n_errors++;
            } else if (c->section_first[known]) {
                /* a second header would merge its keys into the first, last one winning */
                rl_error(c->diags, CB_EVALID, c->f->path, c->line, (int)i + 1,
                         "section [%s] appears twice (first on line %ld)", c->section,
                         c->section_first[known]);
                c->f->n_errors++;
            } else {
                c->section_first[known] = c->line;
                if (known == 0) {
                    c->f->has_strategy_section = 1;
                    c->f->strategy_line = c->line;
                } else if (known >= 2) {
                    cb_rules_section_t *sec = &c->f->other[known - 2];
                    sec->name = other_sections[known - 2];
                    sec->line = c->line;
                }
            }
        }
    }
    memcpy(str, c->raw, c->raw_len);
    str[c->raw_len] = '\n';
    str[c->raw_len + 1] = '\0';
    return str;
}

/* Column (1-based) of the value on a "key = value" line, or of the text on a continuation. */
static int value_column(const load_ctx_t *c, const char *value, int continuation)
{
    size_t i = 0;
    if (!continuation) {
        while (i < c->raw_len && c->raw[i] != '=' && c->raw[i] != ':')
            i++;
        if (i < c->raw_len)
            i++;
    }
    while (i < c->raw_len && isspace((unsigned char)c->raw[i]))
        i++;
    if (!*value)
        return (int)i + 1;
    return (int)i + 1;
}

static int key_column(const load_ctx_t *c)
{
    size_t i = 0;
    while (i < c->raw_len && isspace((unsigned char)c->raw[i]))
        i++;
    return (int)i + 1;
}

static int expr_add_segment(cb_rules_file_t *f, rl_expr_src_t *src, const char *text, long line,
                            int col)
{
    size_t n = strlen(text);
    if (src->n_seg == src->cap_seg) {
        size_t cap = src->cap_seg ? src->cap_seg * 2 : 4;
        rl_seg_t *seg = rl_alloc(&f->arena, cap * sizeof *seg);
        if (!seg)
            return CB_ENOMEM;
        if (src->n_seg)
            memcpy(seg, src->seg, src->n_seg * sizeof *seg);
        src->seg = seg;
        src->cap_seg = cap;
    }
    size_t off = src->len ? src->len + 1 : 0;
    char *t = rl_alloc(&f->arena, off + n + 1);
    if (!t)
        return CB_ENOMEM;
    if (src->len) {
        memcpy(t, src->text, src->len);
        t[src->len] = '\n';
    }
    memcpy(t + off, text, n);
    t[off + n] = '\0';
    src->text = t;
    src->len = off + n;
    src->seg[src->n_seg++] = (rl_seg_t){off, line, col};
    return 0;
}

/* "5%" or "0.05" -> fraction in [lo, hi]. */
static void parse_fraction(load_ctx_t *c, int key, double lo, double hi, int lo_open,
                           double *out)
{
    cb_rules_file_t *f = c->f;
    rl_value_t *v = &f->skey[key];
    double x;
    if (rl_parse_number(v->value, &x) != 0) {
        rl_error(c->diags, CB_EVALID, f->path, v->line, v->col,
                 "%s: expected a percentage such as 5%% or a fraction such as 0.05, got '%s'",
                 strategy_keys[key], v->value);
        f->n_errors++;
        return;
    }
    if (x < lo || x > hi || (lo_open && x <= lo)) {
        if (isinf(hi))
            rl_error(c->diags, CB_EVALID, f->path, v->line, v->col,
                     "%s: %g%% must be %s %g%%", strategy_keys[key], x * 100,
                     lo_open ? "above" : "at least", lo * 100);
        else
            rl_error(c->diags, CB_EVALID, f->path, v->line, v->col,
                     "%s: %g%% must be %s %g%% and at most %g%%", strategy_keys[key], x * 100,
                     lo_open ? "above" : "at least", lo * 100, hi * 100);
        f->n_errors++;
        return;
    }
    *out = x;
}

static int is_ident(const char *s)
{
    if (!isalpha((unsigned char)*s) && *s != '_')
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_')
            return 0;
    return 1;
}

/* "26 [20..100 step 5]" */
static void parse_param(load_ctx_t *c, const char *name, const char *value, long line, int kcol,
                        int vcol)
{
    cb_rules_file_t *f = c->f;
    const char *path = f->path;
    if (!is_ident(name)) {
        rl_error(c->diags, CB_EVALID, path, line, kcol,
                 "parameter name '%s' is not a name (letters, digits and '_', not starting "
                 "with a digit)", name);
        f->n_errors++;
        return;
    }
    if (rl_is_reserved(name)) {
        rl_error(c->diags, CB_EVALID, path, line, kcol,
                 "parameter name '%s' is reserved (a series, function or keyword of the "
                 "language)", name);
        f->n_errors++;
        return;
    }
    for (size_t i = 0; i < f->n_params; i++)
        if (strcmp(f->params[i].name, name) == 0) {
            rl_error(c->diags, CB_EVALID, path, line, kcol,
                     "parameter '%s' is defined twice (first on line %ld)", name,
                     f->params[i].line);
            f->n_errors++;
            return;
        }
    cb_rules_param_t prm = {0};
    prm.line = line;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", value);
    char *br = strchr(buf, '[');
    if (br) {
        *br = '\0';
    }
    size_t vl = strlen(buf);
    while (vl && isspace((unsigned char)buf[vl - 1]))
        buf[--vl] = '\0';
    if (rl_parse_number(buf, &prm.value) != 0) {
        rl_error(c->diags, CB_EVALID, path, line, vcol,
                 "parameter '%s': expected a number, got '%s'", name, buf);
        f->n_errors++;
        return;
    }
    if (br) {
        int rcol = vcol + (int)(br - buf);
        char *r = br + 1;
        char *end = strchr(r, ']');
        if (!end || end[1] != '\0') {
            rl_error(c->diags, CB_EVALID, path, line, rcol,
                     "parameter '%s': a range is written [min..max] or [min..max step s]", name);
            f->n_errors++;
            return;
        }
        *end = '\0';
        char *dots = strstr(r, "..");
        char *step = strstr(r, "step");
        if (!dots || (step && step < dots)) {
            rl_error(c->diags, CB_EVALID, path, line, rcol,
                     "parameter '%s': a range is written [min..max] or [min..max step s]", name);
            f->n_errors++;
            return;
        }
        *dots = '\0';
        if (step)
            *step = '\0';
        char *parts[3] = {r, dots + 2, step ? step + 4 : NULL};
        double vals[3] = {0, 0, 0};
        for (int k = 0; k < 3; k++) {
            if (!parts[k])
                continue;
            char *s = parts[k];
            while (isspace((unsigned char)*s))
                s++;
            size_t sl = strlen(s);
            while (sl && isspace((unsigned char)s[sl - 1]))
                s[--sl] = '\0';
            if (rl_parse_number(s, &vals[k]) != 0) {
                static const char *const what[3] = {"minimum", "maximum", "step"};
                rl_error(c->diags, CB_EVALID, path, line, rcol,
                         "parameter '%s': the range's %s is not a number: '%s'", name, what[k],
                         s);
                f->n_errors++;
                return;
            }
        }
        if (vals[0] > vals[1]) {
            rl_error(c->diags, CB_EVALID, path, line, rcol,
                     "parameter '%s': the range's minimum %g is above its maximum %g", name,
                     vals[0], vals[1]);
            f->n_errors++;
            return;
        }
        if (parts[2] && vals[2] <= 0) {
            rl_error(c->diags, CB_EVALID, path, line, rcol,
                     "parameter '%s': the step must be positive, got %g", name, vals[2]);
            f->n_errors++;
            return;
        }
        if (prm.value < vals[0] || prm.value > vals[1]) {
            rl_error(c->diags, CB_EVALID, path, line, vcol,
                     "parameter '%s': the value %g is outside its range [%g..%g]", name,
                     prm.value, vals[0], vals[1]);
            f->n_errors++;
            return;
        }
        prm.has_range = 1;
        prm.min = vals[0];
        prm.max = vals[1];
        prm.step = vals[2];
    }
    prm.name = rl_strndup(&f->arena, name, strlen(name));
    if (!prm.name) {
        c->oom = 1;
        return;
    }
    if (f->n_params == f->cap_params) {
        size_t cap = f->cap_params ? f->cap_params * 2 : 8;
        cb_rules_param_t *p = rl_alloc(&f->arena, cap * sizeof *p);
        if (!p) {
            c->oom = 1;
            return;
        }
        if (f->n_params)
            memcpy(p, f->params, f->n_params * sizeof *p);
        f->params = p;
        f->cap_params = cap;
    }
    f->params[f->n_params++] = prm;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    load_ctx_t *c = user;
    cb_rules_file_t *f = c->f;
    if (c->too_long || c->oom)
        return 1;
    int continuation = c->raw_len > 0 && (c->raw[0] == ' ' || c->raw[0] == '\t') &&
                       c->prev_key[0] && strcmp(c->prev_key, name) == 0 &&
                       c->prev_line < c->line;
    int kcol = key_column(c);
    int vcol = value_column(c, value, continuation);
    if (continuation) {
        rl_expr_src_t *src = NULL;
        if (strcmp(section, "strategy") == 0 && strcmp(name, "entry") == 0)
            src = &f->entry_src;
        else if (strcmp(section, "strategy") == 0 && strcmp(name, "exit") == 0)
            src = &f->exit_src;
        if (!src) {
            rl_error(c->diags, CB_EVALID, f->path, c->line, kcol,
                     "indented line continues '%s', but only entry and exit may span several "
                     "lines", name);
            f->n_errors++;
            return 1;
        }
        if (src->len == 0 && src->n_seg == 0)
            return 1; /* the first line was rejected */
        if (expr_add_segment(f, src, value, c->line, vcol) != 0)
            c->oom = 1;
        return 1;
    }
    snprintf(c->prev_key, sizeof c->prev_key, "%s", name);
    c->prev_line = c->line;
    if (!section[0]) {
        rl_error(c->diags, CB_EVALID, f->path, c->line, kcol,
                 "key '%s' is outside any section; start the file with [strategy]", name);
        f->n_errors++;
        return 1;
    }
    if (!c->section_known)
        return 1; /* reported at the header */
    if (strcmp(section, "strategy") == 0) {
        int key = -1;
        for (int k = 0; k < SK_COUNT; k++)
            if (strcmp(name, strategy_keys[k]) == 0)
                key = k;
        if (key < 0) {
            const char *sug = rl_closest(name, strategy_keys, SK_COUNT);
            if (sug)
                rl_error(c->diags, CB_EVALID, f->path, c->line, kcol,
                         "unknown key '%s' in [strategy]; did you mean '%s'?", name, sug);
            else
                rl_error(c->diags, CB_EVALID, f->path, c->line, kcol,
                         "unknown key '%s' in [strategy]; the keys are name, timeframe, entry, "
                         "exit, stoploss, take_profit, trailing_stop, trailing_offset, plugin",
                         name);
            f->n_errors++;
            return 1;
        }
        rl_value_t *v = &f->skey[key];
        if (v->value) {
            rl_error(c->diags, CB_EVALID, f->path, c->line, kcol,
                     "key '%s' is set twice in [strategy] (first on line %ld)", name, v->line);
            f->n_errors++;
            return 1;
        }
        v->value = rl_strndup(&f->arena, value, strlen(value));
        if (!v->value) {
            c->oom = 1;
            return 1;
        }
        v->line = c->line;
        v->col = vcol;
        v->key_col = kcol;
        if (key == SK_ENTRY || key == SK_EXIT) {
            rl_expr_src_t *src = key == SK_ENTRY ? &f->entry_src : &f->exit_src;
            src->key = strategy_keys[key];
            src->key_line = c->line;
            src->key_col = kcol;
            if (expr_add_segment(f, src, value, c->line, vcol) != 0)
                c->oom = 1;
        }
        return 1;
    }
    if (strcmp(section, "params") == 0) {
        parse_param(c, name, value, c->line, kcol, vcol);
        return 1;
    }
    for (int k = 0; k < RL_N_OTHER_SECTIONS; k++) {
        if (strcmp(section, other_sections[k]) != 0)
            continue;
        rl_kv_list_t *l = &f->other_items[k];
        for (size_t j = 0; j < l->n; j++)
            if (strcmp(l->items[j].key, name) == 0) {
                /* the modules read these lists in order: a repeat would silently win */
                rl_error(c->diags, CB_EVALID, f->path, c->line, kcol,
                         "key '%s' is set twice in [%s] (first on line %ld)", name, section,
                         l->items[j].line);
                f->n_errors++;
                return 1;
            }
        if (l->n == l->cap) {
            size_t cap = l->cap ? l->cap * 2 : 8;
            cb_rules_kv_t *items = rl_alloc(&f->arena, cap * sizeof *items);
            if (!items) {
                c->oom = 1;
                return 1;
            }
            if (l->n)
                memcpy(items, l->items, l->n * sizeof *items);
            l->items = items;
            l->cap = cap;
        }
        cb_rules_kv_t kv = {rl_strndup(&f->arena, name, strlen(name)),
                            rl_strndup(&f->arena, value, strlen(value)), c->line, vcol};
        if (!kv.key || !kv.value) {
            c->oom = 1;
            return 1;
        }
        l->items[l->n++] = kv;
        f->other[k].n = l->n;
        f->other[k].items = l->items;
        return 1;
    }
    return 1;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

/* Checks the [strategy] values once the whole file is read. */
static void check_strategy(load_ctx_t *c)
{
    cb_rules_file_t *f = c->f;
    if (!f->has_strategy_section) {
        rl_error(c->diags, CB_EVALID, f->path, 1, 0,
                 "the file has no [strategy] section (it needs at least an entry rule)");
        f->n_errors++;
        return;
    }
    rl_value_t *sk = f->skey;
    if (sk[SK_TIMEFRAME].value) {
        cb_timeframe_t tf;
        if (cb_timeframe_parse(sk[SK_TIMEFRAME].value, &tf) != 0) {
            rl_error(c->diags, CB_EVALID, f->path, sk[SK_TIMEFRAME].line, sk[SK_TIMEFRAME].col,
                     "timeframe: '%s' is not a timeframe (such as 1m, 15m, 1h, 4h, 1d)",
                     sk[SK_TIMEFRAME].value);
            f->n_errors++;
        }
    }
    if (sk[SK_STOPLOSS].value)
        parse_fraction(c, SK_STOPLOSS, 0, 1, 1, &f->exits.stoploss);
    if (sk[SK_TAKE_PROFIT].value)
        parse_fraction(c, SK_TAKE_PROFIT, 0, INFINITY, 1, &f->exits.take_profit);
    if (sk[SK_TRAILING_STOP].value)
        parse_fraction(c, SK_TRAILING_STOP, 0, 1, 1, &f->exits.trailing_stop);
    if (sk[SK_TRAILING_OFFSET].value) {
        parse_fraction(c, SK_TRAILING_OFFSET, 0, INFINITY, 0, &f->exits.trailing_offset);
        if (!sk[SK_TRAILING_STOP].value) {
            rl_error(c->diags, CB_EVALID, f->path, sk[SK_TRAILING_OFFSET].line,
                     sk[SK_TRAILING_OFFSET].key_col,
                     "trailing_offset is set but trailing_stop is not");
            f->n_errors++;
        }
    }
    if (sk[SK_PLUGIN].value) {
        if (sk[SK_ENTRY].value || sk[SK_EXIT].value) {
            rl_value_t *e = sk[SK_ENTRY].value ? &sk[SK_ENTRY] : &sk[SK_EXIT];
            rl_error(c->diags, CB_EVALID, f->path, e->line, e->key_col,
                     "a plug-in strategy (plugin = %s) cannot also have entry/exit rules",
                     sk[SK_PLUGIN].value);
            f->n_errors++;
        }
        const char *p = sk[SK_PLUGIN].value;
        size_t need = strlen(p) + (f->base_dir ? strlen(f->base_dir) : 0) + 2;
        f->plugin_path = rl_alloc(&f->arena, need);
        if (!f->plugin_path) {
            c->oom = 1;
            return;
        }
        if (p[0] == '/' || !f->base_dir || !f->base_dir[0])
            snprintf(f->plugin_path, need, "%s", p);
        else
            snprintf(f->plugin_path, need, "%s/%s", f->base_dir, p);
    } else if (!sk[SK_ENTRY].value) {
        rl_error(c->diags, CB_EVALID, f->path, f->strategy_line, 1,
                 "[strategy] has no 'entry' rule (or 'plugin')");
        f->n_errors++;
    }
}

int cb_rules_file_parse(const char *name, const char *text, size_t len, const char *base_dir,
                        cb_rules_file_t **out, cb_diags_t *diags)
{
    *out = NULL;
    cb_rules_file_t *f = calloc(1, sizeof *f);
    if (!f)
        return CB_ENOMEM;
    f->path = dup_str(name ? name : "<rules>");
    f->base_dir = base_dir ? dup_str(base_dir) : NULL;
    f->text = malloc(len + 1);
    if (!f->path || (base_dir && !f->base_dir) || !f->text) {
        cb_rules_file_free(f);
        return CB_ENOMEM;
    }
    memcpy(f->text, text, len);
    f->text[len] = '\0';
    f->len = len;
    load_ctx_t c = {0};
    c.f = f;
    c.diags = diags;
    c.text = f->text;
    c.len = len;
    c.section_known = 1;
    int r = ini_parse_stream(reader, &c, handler, &c);
    if (c.oom) {
        cb_rules_file_free(f);
        return CB_ENOMEM;
    }
    if (r > 0) {
        /* inih reports the first line that is neither a section, a key nor a comment */
        rl_error(diags, CB_EPARSE, f->path, r, 1,
                 "expected 'key = value', a [section] or a ';' comment");
        f->n_errors++;
    } else if (r < 0) {
        cb_rules_file_free(f);
        return CB_ENOMEM;
    }
    check_strategy(&c);
    if (c.oom) {
        cb_rules_file_free(f);
        return CB_ENOMEM;
    }
    if (f->entry_src.n_seg)
        f->entry_ast = rl_parse_expr(&f->arena, f->path, &f->entry_src, diags, &f->n_errors);
    if (f->exit_src.n_seg)
        f->exit_ast = rl_parse_expr(&f->arena, f->path, &f->exit_src, diags, &f->n_errors);
    /* Names, types and values: a full compile with the file's values reports the rest, and
     * marks the parameters in use. */
    int syntax_ok = f->n_errors == 0;
    if (syntax_ok && !f->plugin_path) {
        cb_rules_program_t *p = NULL;
        int cr = rl_compile(f, NULL, &p, diags, 1);
        cb_rules_program_free(p);
        if (cr == CB_ENOMEM) {
            cb_rules_file_free(f);
            return CB_ENOMEM;
        }
        if (cr != 0)
            f->n_errors++;
        else
            for (size_t i = 0; i < f->n_params; i++)
                if (!f->params[i].used)
                    rl_warning(diags, f->path, f->params[i].line, 1,
                               "parameter '%s' is defined but not used", f->params[i].name);
    }
    *out = f;
    return f->n_errors ? CB_EVALID : 0;
}

int cb_rules_file_load(const char *path, cb_rules_file_t **out, cb_diags_t *diags)
{
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        int e = errno, code = e == ENOENT ? CB_ENOENT : CB_EIO;
        rl_error(diags, code, path, 0, 0, "cannot open the strategy file: %s", strerror(e));
        return code;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (n < cap)
            break;
        if (cap >= (size_t)16 << 20) {
            free(buf);
            fclose(fp);
            rl_error(diags, CB_EIO, path, 0, 0, "the strategy file is larger than 16 MB");
            return CB_EIO;
        }
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int err = ferror(fp);
    fclose(fp);
    if (!buf)
        return CB_ENOMEM;
    if (err) {
        free(buf);
        rl_error(diags, CB_EIO, path, 0, 0, "cannot read the strategy file");
        return CB_EIO;
    }
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (slash)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    else
        snprintf(dir, sizeof dir, ".");
    if (slash == path)
        snprintf(dir, sizeof dir, "/");
    int r = cb_rules_file_parse(path, buf, n, dir, out, diags);
    free(buf);
    return r;
}

void cb_rules_file_free(cb_rules_file_t *f)
{
    if (!f)
        return;
    rl_arena_free(&f->arena);
    free(f->path);
    free(f->base_dir);
    free(f->text);
    free(f);
}

const char *cb_rules_file_path(const cb_rules_file_t *f) { return f->path; }
const char *cb_rules_file_name(const cb_rules_file_t *f) { return f->skey[SK_NAME].value; }
const char *cb_rules_file_timeframe(const cb_rules_file_t *f)
{
    return f->skey[SK_TIMEFRAME].value;
}
const char *cb_rules_file_entry(const cb_rules_file_t *f) { return f->entry_src.text; }
const char *cb_rules_file_exit(const cb_rules_file_t *f) { return f->exit_src.text; }
const char *cb_rules_file_plugin(const cb_rules_file_t *f) { return f->plugin_path; }
long cb_rules_file_key_line(const cb_rules_file_t *f, const char *key, int *column)
{
    if (column)
        *column = 0;
    for (int k = 0; k < SK_COUNT; k++)
        if (strcmp(key, strategy_keys[k]) == 0 && f->skey[k].value) {
            if (column)
                *column = f->skey[k].col;
            return f->skey[k].line;
        }
    return 0;
}
const char *cb_rules_file_text(const cb_rules_file_t *f, size_t *len)
{
    *len = f->len;
    return f->text;
}
void cb_rules_file_exits(const cb_rules_file_t *f, cb_rules_exits_t *out) { *out = f->exits; }
size_t cb_rules_file_n_params(const cb_rules_file_t *f) { return f->n_params; }
const cb_rules_param_t *cb_rules_file_param(const cb_rules_file_t *f, size_t i)
{
    return i < f->n_params ? &f->params[i] : NULL;
}
long cb_rules_file_param_index(const cb_rules_file_t *f, const char *name)
{
    for (size_t i = 0; i < f->n_params; i++)
        if (strcmp(f->params[i].name, name) == 0)
            return (long)i;
    return -1;
}

const cb_rules_section_t *cb_rules_file_section(const cb_rules_file_t *f, const char *name)
{
    for (int k = 0; k < RL_N_OTHER_SECTIONS; k++)
        if (strcmp(name, other_sections[k]) == 0)
            return f->other[k].name ? &f->other[k] : NULL;
    return NULL;
}

void cb_rules_params_default(const cb_rules_file_t *f, double *values)
{
    for (size_t i = 0; i < f->n_params; i++)
        values[i] = f->params[i].value;
}

int cb_rules_params_set(const cb_rules_file_t *f, double *values, const char *assignment,
                        cb_diag_t *diag)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "--set",
                           "expected name=value, got '%s'", assignment);
    char name[64];
    size_t nl = (size_t)(eq - assignment);
    while (nl && isspace((unsigned char)assignment[nl - 1]))
        nl--;
    if (nl >= sizeof name)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "--set", "parameter name too long");
    memcpy(name, assignment, nl);
    name[nl] = '\0';
    long i = cb_rules_file_param_index(f, name);
    if (i < 0) {
        const char *cands[256];
        size_t n = f->n_params < 256 ? f->n_params : 256;
        for (size_t k = 0; k < n; k++)
            cands[k] = f->params[k].name;
        const char *sug = rl_closest(name, cands, n);
        if (sug)
            return cb_diag_set(diag, CB_ENOENT, NULL, 0, 0, "--set",
                               "unknown parameter '%s'; did you mean '%s'?", name, sug);
        return cb_diag_set(diag, CB_ENOENT, NULL, 0, 0, "--set",
                           "unknown parameter '%s' (the file's [params] has %zu)", name,
                           f->n_params);
    }
    const char *v = eq + 1;
    while (isspace((unsigned char)*v))
        v++;
    double x;
    if (rl_parse_number(v, &x) != 0)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "--set",
                           "parameter '%s': expected a number, got '%s'", name, v);
    values[i] = x;
    return 0;
}
