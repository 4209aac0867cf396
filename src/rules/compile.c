/* The rules compiler: names and types are resolved against the language's tables, constants
 * are folded, identical subexpressions are shared (hash-consing: a node is created only when
 * no identical node exists), and the reachable nodes are laid out as a flat program with
 * value slots and state offsets, so that evaluation never allocates (eval.c). */
#include "rules/rules_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RL_MAX_WINDOW 100000
#define RL_MAX_NODES 4096

/* The language's own functions: one table (docs/rules.md lists the same). */
typedef enum { BF_CROSSOVER, BF_CROSSUNDER, BF_HIGHEST, BF_LOWEST, BF_CHANGE, BF_ABS, BF_MIN,
               BF_MAX, BF_SQRT, BF_LOG, BF_COUNT } builtin_t;
static const struct {
    const char *name;
    int min_args, max_args;
    const char *usage;
} builtins[BF_COUNT] = {
    {"crossover", 2, 2, "crossover(a, b)"},   {"crossunder", 2, 2, "crossunder(a, b)"},
    {"highest", 2, 2, "highest(x, n)"},       {"lowest", 2, 2, "lowest(x, n)"},
    {"change", 1, 2, "change(x, n)"},         {"abs", 1, 1, "abs(x)"},
    {"min", 2, 2, "min(a, b)"},               {"max", 2, 2, "max(a, b)"},
    {"sqrt", 1, 1, "sqrt(x)"},                {"log", 1, 1, "log(x)"},
};

static int find_builtin(const char *name)
{
    for (int i = 0; i < BF_COUNT; i++)
        if (strcmp(builtins[i].name, name) == 0)
            return i;
    return -1;
}

int rl_is_reserved(const char *name)
{
    static const char *const kw[] = {"and", "or", "not"};
    for (size_t i = 0; i < 3; i++)
        if (strcmp(name, kw[i]) == 0 || strcmp(name, rl_position_names[i]) == 0)
            return 1;
    for (size_t i = 0; i < 8; i++)
        if (strcmp(name, rl_series_names[i]) == 0)
            return 1;
    return find_builtin(name) >= 0 || cb_ta_find(name) != NULL;
}

typedef struct cc {
    cb_rules_file_t *f;
    const double *values;
    cb_diags_t *diags;
    const rl_expr_src_t *src;
    int mark_used;
    int in_exit;
    int failed;
    int oom;
    rl_node_t *nodes;
    size_t n, cap;
    rl_clock_t clocks[RL_MAX_CLOCKS];
    int n_clocks;
    int fixed_clock;         /* the clock of `atr(14)@4h` while compiling that call */
} cc_t;

static void cerr(cc_t *c, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cerr(cc_t *c, size_t pos, const char *fmt, ...)
{
    if (c->failed)
        return;
    c->failed = 1;
    long line;
    int col;
    rl_src_pos(c->src, pos, &line, &col);
    char msg[480];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rl_error(c->diags, CB_EVALID, c->f->path, line, col, "%s", msg);
}

static size_t ast_start(const rl_ast_t *a)
{
    while (a->kind == A_BINARY || a->kind == A_INDEX || a->kind == A_MEMBER || a->kind == A_AT)
        a = a->a;
    return a->pos;
}

static int same_double(double x, double y)
{
    return x == y || (isnan(x) && isnan(y));
}

static int node_clock(const cc_t *c, int a, int b)
{
    int ca = a >= 0 && c->nodes[a].op != OP_CONST ? c->nodes[a].clock : -1;
    int cb = b >= 0 && c->nodes[b].op != OP_CONST ? c->nodes[b].clock : -1;
    if (ca < 0)
        return cb < 0 ? 0 : cb;
    if (cb < 0 || ca == cb)
        return ca;
    return 0; /* mixed timeframes: evaluated on every base bar, holding the slower value */
}

/* Returns the index of the node identical to *t, creating it if needed. */
static int intern(cc_t *c, const rl_node_t *t)
{
    for (size_t i = 0; i < c->n; i++) {
        const rl_node_t *x = &c->nodes[i];
        if (x->op == t->op && x->type == t->type && x->clock == t->clock && x->a == t->a &&
            x->b == t->b && same_double(x->k, t->k) && x->ta == t->ta &&
            memcmp(x->opts, t->opts, sizeof x->opts) == 0)
            return (int)i;
    }
    if (c->n >= RL_MAX_NODES) {
        cerr(c, 0, "the rules are too large (more than %d nodes)", RL_MAX_NODES);
        return -1;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 32;
        rl_node_t *nn = realloc(c->nodes, cap * sizeof *nn);
        if (!nn) {
            c->oom = 1;
            c->failed = 1;
            return -1;
        }
        c->nodes = nn;
        c->cap = cap;
    }
    c->nodes[c->n] = *t;
    return (int)c->n++;
}

static rl_node_t tmpl(rl_op_t op, int type, int a, int b)
{
    rl_node_t t;
    memset(&t, 0, sizeof t);
    t.op = op;
    t.type = type;
    t.a = a;
    t.b = b;
    return t;
}

static int mk_const(cc_t *c, double v, int type)
{
    rl_node_t t = tmpl(OP_CONST, type, -1, -1);
    t.k = v;
    return intern(c, &t);
}

static int is_const(const cc_t *c, int i) { return i >= 0 && c->nodes[i].op == OP_CONST; }

/* Pure operators: fold when every operand is constant. */
static double apply(rl_op_t op, double x, double y)
{
    switch (op) {
    case OP_ADD: return x + y;
    case OP_SUB: return x - y;
    case OP_MUL: return x * y;
    case OP_DIV: return x / y;
    case OP_NEG: return -x;
    case OP_LT: return x < y;
    case OP_LE: return x <= y;
    case OP_GT: return x > y;
    case OP_GE: return x >= y;
    case OP_EQ: return x == y;
    case OP_NE: return x < y || x > y; /* false with NaN, like every comparison */
    case OP_AND: return x != 0 && y != 0;
    case OP_OR: return x != 0 || y != 0;
    case OP_NOT: return x == 0;
    case OP_ABS: return fabs(x);
    case OP_SQRT: return sqrt(x);
    case OP_LOG: return log(x);
    case OP_MIN: return isnan(x) || isnan(y) ? NAN : (x < y ? x : y);
    case OP_MAX: return isnan(x) || isnan(y) ? NAN : (x > y ? x : y);
    default: return NAN;
    }
}

static int mk_pure(cc_t *c, rl_op_t op, int type, int a, int b)
{
    if (a < 0 || (b < 0 && op != OP_NEG && op != OP_NOT && op != OP_ABS && op != OP_SQRT &&
                  op != OP_LOG))
        return -1;
    if (is_const(c, a) && (b < 0 || is_const(c, b)))
        return mk_const(c, apply(op, c->nodes[a].k, b >= 0 ? c->nodes[b].k : 0), type);
    /* commutative operators: a canonical operand order lets a+b and b+a share */
    if ((op == OP_ADD || op == OP_MUL || op == OP_AND || op == OP_OR || op == OP_EQ ||
         op == OP_NE || op == OP_MIN || op == OP_MAX) && b >= 0 && b < a) {
        int t = a;
        a = b;
        b = t;
    }
    rl_node_t t = tmpl(op, type, a, b);
    t.clock = node_clock(c, a, b);
    return intern(c, &t);
}

static const char *type_name(int type) { return type == T_BOOL ? "a condition" : "a number"; }

static int compile(cc_t *c, const rl_ast_t *a, int member, size_t member_pos);

static int want(cc_t *c, const rl_ast_t *a, int i, int type, const char *what)
{
    if (i < 0)
        return -1;
    if (c->nodes[i].type != type) {
        cerr(c, ast_start(a), "%s must be %s, but this is %s", what, type_name(type),
             type_name(c->nodes[i].type));
        return -1;
    }
    return i;
}

/* The source text of args [from, to) of a call, whitespace runs (and continuation lines)
 * shown as one space, into buf. */
static void args_text(const cc_t *c, const rl_ast_t *call, size_t from, size_t to, char *buf,
                      size_t size)
{
    size_t w = 0;
    buf[0] = '\0';
    if (from >= to || size < 8)
        return;
    size_t st = ast_start(call->args[from]), en = call->args[to - 1]->end;
    for (size_t i = st; i < en && i < c->src->len && w + 4 < size; i++) {
        char ch = c->src->text[i];
        int space = ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
        if (space && (w == 0 || buf[w - 1] == ' '))
            continue;
        buf[w++] = space ? ' ' : ch;
    }
    if (w + 4 >= size)
        w += (size_t)snprintf(buf + w, size - w, "...");
    while (w && buf[w - 1] == ' ')
        w--;
    buf[w] = '\0';
}

/* `rsi(14)`: the series argument k of a function over past bars (an indicator, highest,
 * lowest, change) is a constant, so the call would compute over a flat line (the RSI of
 * 14, true on almost every bar) instead of over the prices. An error at that argument,
 * suggesting the call on close with the options the user wrote. */
static int const_series(cc_t *c, const rl_ast_t *a, int k, int n_series, int n_opts,
                        const char *usage)
{
    char cst[64], rest[160];
    args_text(c, a, (size_t)k, (size_t)k + 1, cst, sizeof cst);
    if (n_series == 1) {
        /* rsi(14): the options alone were written; rsi(14, 14): a constant in its place */
        size_t from = (int)a->n_args - 1 < n_opts ? 0 : 1;
        args_text(c, a, from, a->n_args, rest, sizeof rest);
        cerr(c, ast_start(a->args[k]),
             "'%s' needs a series as its first argument, but %s is a constant; did you mean "
             "%s(close%s%s)?", a->name, cst, a->name, rest[0] ? ", " : "", rest);
    } else {
        cerr(c, ast_start(a->args[k]),
             "'%s' needs two series, but %s is a constant: %s", a->name, cst, usage);
    }
    return -1;
}

/* " (with fast = 3, slow = 20)" for an assignment other than the file's (the optimizer's,
 * --set), so that an error of one combination says which; "" for the file's values. */
static void with_text(const cc_t *c, char *buf, size_t size)
{
    buf[0] = '\0';
    for (size_t i = 0, w = 0; c->values && i < c->f->n_params && w < size; i++)
        w += (size_t)snprintf(buf + w, size - w, "%s%s = %g%s", i ? ", " : " (with ",
                              c->f->params[i].name, c->values[i],
                              i + 1 == c->f->n_params ? ")" : "");
}

/* mk_pure, refusing what cannot be a rule's number: division by a constant zero (`close / 0`)
 * and constants that fold to NaN or an infinity (`log(-1)`, `sqrt(-4)`, `1e300 * 1e300`).
 * at: the expression (the caret goes to its start, or to the divisor). */
static int mk_checked(cc_t *c, const rl_ast_t *at, rl_op_t op, int type, int a, int b)
{
    if (a < 0 || (b < 0 && op != OP_NEG && op != OP_NOT && op != OP_ABS && op != OP_SQRT &&
                  op != OP_LOG))
        return -1;
    char with[200];
    if (op == OP_DIV && is_const(c, b) && c->nodes[b].k == 0) {
        with_text(c, with, sizeof with);
        cerr(c, ast_start(at->b), "division by zero: this divisor is the constant 0%s", with);
        return -1;
    }
    int r = mk_pure(c, op, type, a, b);
    if (r < 0 || !is_const(c, r) || type != T_NUM || isfinite(c->nodes[r].k))
        return r;
    double x = c->nodes[a].k, v = c->nodes[r].k;
    with_text(c, with, sizeof with);
    const char *what = isnan(v) ? "not a number" : v > 0 ? "infinite" : "minus infinity";
    if (op == OP_LOG)
        cerr(c, at->pos, "log(%g) is %s: the logarithm needs a number above 0%s", x, what,
             with);
    else if (op == OP_SQRT)
        cerr(c, at->pos, "sqrt(%g) is %s: the square root needs a number of 0 or more%s", x,
             what, with);
    else
        cerr(c, ast_start(at), "this constant expression is %s (beyond the range of a double)%s",
             what, with);
    return -1;
}

/* A constant (literal, parameter or constant expression) as a double. */
static int const_arg(cc_t *c, const rl_ast_t *a, const char *what, double *out)
{
    int i = compile(c, a, -1, 0);
    if (i < 0)
        return -1;
    if (!is_const(c, i)) {
        cerr(c, ast_start(a), "%s must be a constant or a parameter", what);
        return -1;
    }
    if (c->nodes[i].type != T_NUM) {
        cerr(c, ast_start(a), "%s must be a number, but this is a condition", what);
        return -1;
    }
    *out = c->nodes[i].k;
    return 0;
}

static int whole_window(cc_t *c, const rl_ast_t *a, const char *what, double lo, double *out)
{
    double v;
    if (const_arg(c, a, what, &v) != 0)
        return -1;
    if (v != floor(v) || v < lo || v > RL_MAX_WINDOW) {
        cerr(c, ast_start(a), "%s must be a whole number from %g to %d, got %g", what, lo,
             RL_MAX_WINDOW, v);
        return -1;
    }
    *out = v;
    return 0;
}

static int mk_lag(cc_t *c, int x, double n)
{
    if (x < 0)
        return -1;
    if (n == 0 || is_const(c, x))
        return x;
    rl_node_t t = tmpl(OP_LAG, c->nodes[x].type, x, -1);
    t.k = n;
    t.clock = c->nodes[x].clock;
    return intern(c, &t);
}

static int clock_for(cc_t *c, const rl_ast_t *a)
{
    cb_timeframe_t tf;
    if (cb_timeframe_parse(a->name, &tf) != 0) {
        cerr(c, a->pos, "'%s' is not a timeframe (such as 15m, 1h, 4h, 1d, 1w)", a->name);
        return -1;
    }
    const char *base = c->f->skey[SK_TIMEFRAME].value;
    cb_timeframe_t btf;
    if (!base) {
        /* docs/rules.md: the base bars must be known to check the multiple here, and a file
         * then means the same on any data (the session refuses data of another timeframe) */
        cerr(c, a->op_pos, "'@%s' needs the strategy's own timeframe: set [strategy] timeframe "
                           "(the length of its bars, such as timeframe = 1h)", a->name);
        return -1;
    }
    if (cb_timeframe_parse(base, &btf) == 0) {
        int bad = 0;
        if (btf.months)
            bad = 1;
        else if (tf.months == 0 && (tf.ms <= btf.ms || tf.ms % btf.ms != 0))
            bad = 1;
        if (bad) {
            cerr(c, a->pos,
                 "@%s must be a longer timeframe than the strategy's %s and a multiple of it",
                 a->name, base);
            return -1;
        }
    }
    for (int k = 1; k < c->n_clocks; k++)
        if (c->clocks[k].tf.ms == tf.ms && c->clocks[k].tf.months == tf.months)
            return k;
    if (c->n_clocks >= RL_MAX_CLOCKS) {
        cerr(c, a->pos, "too many different timeframes (at most %d)", RL_MAX_CLOCKS - 1);
        return -1;
    }
    c->clocks[c->n_clocks].tf = tf;
    return c->n_clocks++;
}

static int series_index(const char *name)
{
    for (int i = 0; i < 8; i++)
        if (strcmp(name, rl_series_names[i]) == 0)
            return i;
    return -1;
}

static void unknown_name(cc_t *c, const rl_ast_t *a)
{
    const char *cands[300];
    size_t n = 0;
    for (int i = 0; i < 8; i++)
        cands[n++] = rl_series_names[i];
    if (c->in_exit)
        for (int i = 0; i < 3; i++)
            cands[n++] = rl_position_names[i];
    for (size_t i = 0; i < c->f->n_params && n < 300; i++)
        cands[n++] = c->f->params[i].name;
    const char *sug = rl_closest(a->name, cands, n);
    if (sug)
        cerr(c, a->pos,
             "undefined name '%s' (not a series, a parameter or position state); did you mean "
             "'%s'?", a->name, sug);
    else
        cerr(c, a->pos,
             "undefined name '%s' (not a series, a parameter or position state); define it in "
             "[params]", a->name);
}

static int compile_name(cc_t *c, const rl_ast_t *a)
{
    int s = series_index(a->name);
    if (s >= 0) {
        rl_node_t t = tmpl(OP_SERIES, T_NUM, -1, -1);
        t.k = s;
        return intern(c, &t);
    }
    for (int i = 0; i < 3; i++) {
        if (strcmp(a->name, rl_position_names[i]) != 0)
            continue;
        if (!c->in_exit) {
            cerr(c, a->pos,
                 "'%s' is position state and can only be used in exit rules (entry is only "
                 "evaluated while flat)", a->name);
            return -1;
        }
        rl_node_t t = tmpl(OP_POS, T_NUM, -1, -1);
        t.k = i;
        return intern(c, &t);
    }
    for (size_t i = 0; i < c->f->n_params; i++) {
        if (strcmp(a->name, c->f->params[i].name) != 0)
            continue;
        if (c->mark_used)
            c->f->params[i].used = 1;
        return mk_const(c, c->values ? c->values[i] : c->f->params[i].value, T_NUM);
    }
    if (find_builtin(a->name) >= 0 || cb_ta_find(a->name)) {
        cerr(c, a->pos, "'%s' is a function; call it with its arguments, as in %s(...)",
             a->name, a->name);
        return -1;
    }
    if (strcmp(a->name, "true") == 0 || strcmp(a->name, "false") == 0) {
        cerr(c, a->pos, "'%s' is not a value in this language; write a condition", a->name);
        return -1;
    }
    unknown_name(c, a);
    return -1;
}

static void ta_usage(const cb_ta_info_t *info, char *buf, size_t size)
{
    size_t w = (size_t)snprintf(buf, size, "%s(", info->name);
    int first = 1;
    for (int k = 0; k < info->n_inputs && w < size; k++)
        if (strncmp(info->inputs[k], "real", 4) == 0) {
            w += (size_t)snprintf(buf + w, size - w, "%sseries", first ? "" : ", ");
            first = 0;
        }
    for (int k = 0; k < info->n_opts && w < size; k++) {
        w += (size_t)snprintf(buf + w, size - w, "%s%s", first ? "" : ", ", info->opts[k].name);
        first = 0;
    }
    if (w < size)
        snprintf(buf + w, size - w, ")");
}

static void outputs_list(const cb_ta_info_t *info, char *buf, size_t size)
{
    size_t w = 0;
    buf[0] = '\0';
    for (int k = 0; k < info->n_outputs && w < size; k++)
        w += (size_t)snprintf(buf + w, size - w, "%s.%s", k ? ", " : "", info->outputs[k]);
}

static int compile_ta(cc_t *c, const rl_ast_t *a, const cb_ta_info_t *info, int member,
                      size_t member_pos)
{
    char usage[160];
    ta_usage(info, usage, sizeof usage);
    int n_series = 0;
    signed char map[CB_TA_MAX_INPUTS];
    for (int k = 0; k < info->n_inputs; k++) {
        /* fixed columns, as indexed in the instance's bar[] (eval.c); "time" is the bar's
         * open time in ms (vwap_session) */
        static const char *const cols[6] = {"open", "high", "low", "close", "volume", "time"};
        map[k] = 0;
        if (strncmp(info->inputs[k], "real", 4) == 0) {
            map[k] = (signed char)(-1 - n_series);
            n_series++;
            continue;
        }
        for (int j = 0; j < 6; j++)
            if (strcmp(info->inputs[k], cols[j]) == 0)
                map[k] = (signed char)j;
    }
    if (n_series > 2) {
        cerr(c, a->pos, "'%s' takes %d series, which the rules language does not support",
             info->name, n_series);
        return -1;
    }
    if ((int)a->n_args < n_series) {
        cerr(c, a->pos, "'%s' needs %s as its first argument%s: %s", info->name,
             n_series == 1 ? "a series" : "two series", n_series == 1 ? "" : "s", usage);
        return -1;
    }
    if ((int)a->n_args > n_series + info->n_opts) {
        cerr(c, ast_start(a->args[n_series + info->n_opts]),
             "too many arguments for '%s': %s", info->name, usage);
        return -1;
    }
    int in[2] = {-1, -1};
    for (int k = 0; k < n_series; k++) {
        in[k] = compile(c, a->args[k], -1, 0);
        if (want(c, a->args[k], in[k], T_NUM, "the series argument") < 0)
            return -1;
        if (is_const(c, in[k]))
            return const_series(c, a, k, n_series, info->n_opts, usage);
    }
    rl_node_t t = tmpl(OP_TA, T_NUM, in[0], in[1]);
    int n_given = (int)a->n_args - n_series;
    for (int k = 0; k < n_given; k++) {
        char what[96];
        snprintf(what, sizeof what, "option '%s' of '%s'", info->opts[k].name, info->name);
        if (const_arg(c, a->args[n_series + k], what, &t.opts[k]) != 0)
            return -1;
    }
    cb_diag_t d;
    cb_diag_clear(&d);
    if (cb_ta_check_opts(info, t.opts, n_given, &d) != 0) {
        size_t pos = n_given > 0 ? ast_start(a->args[n_series]) : a->pos;
        cerr(c, pos, "%s%s%s", d.field, d.field[0] ? ": " : "", d.msg);
        return -1;
    }
    int out = 0;
    if (info->n_outputs > 1 && member < 0) {
        char outs[160];
        outputs_list(info, outs, sizeof outs);
        cerr(c, a->pos, "'%s' has several outputs; pick one with %s", info->name, outs);
        return -1;
    }
    if (member >= 0) {
        out = member;
        (void)member_pos;
    }
    t.ta = info;
    if (n_series && c->fixed_clock) {
        cerr(c, a->pos, "'%s' takes a series: put the timeframe on the series, as in "
                        "%s(close@4h, ...)", info->name, info->name);
        return -1;
    }
    t.clock = n_series ? node_clock(c, in[0], in[1]) : c->fixed_clock;
    t.n_slots = (size_t)info->n_outputs;
    int ta = intern(c, &t);
    if (ta < 0)
        return -1;
    /* the input map is derived from info, so it is identical for identical nodes */
    memcpy(c->nodes[ta].in_map_, map, sizeof map);
    if (info->n_outputs == 1)
        return ta;
    rl_node_t p = tmpl(OP_PICK, T_NUM, ta, -1);
    p.k = out;
    p.clock = c->nodes[ta].clock;
    return intern(c, &p);
}

static int compile_call(cc_t *c, const rl_ast_t *a, int member, size_t member_pos)
{
    int bf = find_builtin(a->name);
    if (bf < 0) {
        const cb_ta_info_t *info = cb_ta_find(a->name);
        if (info)
            return compile_ta(c, a, info, member, member_pos);
        const char *cands[BF_COUNT + 1];
        for (int i = 0; i < BF_COUNT; i++)
            cands[i] = builtins[i].name;
        cands[BF_COUNT] = cb_ta_suggest(a->name);
        const char *sug = rl_closest(a->name, cands, BF_COUNT + 1);
        if (!sug)
            sug = cands[BF_COUNT];
        if (series_index(a->name) >= 0)
            cerr(c, a->pos, "'%s' is a series, not a function; use %s[n] for past values",
                 a->name, a->name);
        else if (sug)
            cerr(c, a->pos, "unknown function '%s'; did you mean '%s'?", a->name, sug);
        else
            cerr(c, a->pos, "unknown function '%s' (see 'comeback help ta' for the indicators)",
                 a->name);
        return -1;
    }
    if (member >= 0) {
        cerr(c, member_pos, "'%s' has a single value; '.' picks an indicator's output",
             a->name);
        return -1;
    }
    if ((int)a->n_args < builtins[bf].min_args || (int)a->n_args > builtins[bf].max_args) {
        cerr(c, a->pos, "'%s' takes %d argument%s: %s", a->name, builtins[bf].max_args,
             builtins[bf].max_args == 1 ? "" : "s", builtins[bf].usage);
        return -1;
    }
    int x = compile(c, a->args[0], -1, 0);
    if (want(c, a->args[0], x, T_NUM, "the first argument") < 0)
        return -1;
    switch ((builtin_t)bf) {
    case BF_CROSSOVER:
    case BF_CROSSUNDER: {
        int y = compile(c, a->args[1], -1, 0);
        if (want(c, a->args[1], y, T_NUM, "the second argument") < 0)
            return -1;
        if (is_const(c, x) && is_const(c, y)) {
            cerr(c, ast_start(a->args[0]),
                 "'%s' of two constants never fires: one side must be a series, as in "
                 "%s(close, sma(close, 20))", a->name, a->name);
            return -1;
        }
        rl_node_t t = tmpl(bf == BF_CROSSOVER ? OP_XOVER : OP_XUNDER, T_BOOL, x, y);
        t.clock = node_clock(c, x, y);
        return intern(c, &t);
    }
    case BF_HIGHEST:
    case BF_LOWEST: {
        double n;
        if (is_const(c, x))
            return const_series(c, a, 0, 1, 1, builtins[bf].usage);
        if (whole_window(c, a->args[1], "the window n", 1, &n) != 0)
            return -1;
        if (n == 1)
            return x;
        rl_node_t t = tmpl(bf == BF_HIGHEST ? OP_HIGHEST : OP_LOWEST, T_NUM, x, -1);
        t.k = n;
        t.clock = c->nodes[x].clock;
        return intern(c, &t);
    }
    case BF_CHANGE: {
        double n = 1;
        if (is_const(c, x))
            return const_series(c, a, 0, 1, 1, builtins[bf].usage);
        if (a->n_args == 2 && whole_window(c, a->args[1], "the bar count n", 1, &n) != 0)
            return -1;
        return mk_pure(c, OP_SUB, T_NUM, x, mk_lag(c, x, n));
    }
    case BF_ABS: return mk_checked(c, a, OP_ABS, T_NUM, x, -1);
    case BF_SQRT: return mk_checked(c, a, OP_SQRT, T_NUM, x, -1);
    case BF_LOG: return mk_checked(c, a, OP_LOG, T_NUM, x, -1);
    case BF_MIN:
    case BF_MAX: {
        int y = compile(c, a->args[1], -1, 0);
        if (want(c, a->args[1], y, T_NUM, "the second argument") < 0)
            return -1;
        return mk_checked(c, a, bf == BF_MIN ? OP_MIN : OP_MAX, T_NUM, x, y);
    }
    default: return -1;
    }
}

static int compile(cc_t *c, const rl_ast_t *a, int member, size_t member_pos)
{
    if (c->failed)
        return -1;
    switch (a->kind) {
    case A_NUM: return mk_const(c, a->num, T_NUM);
    case A_NAME: return compile_name(c, a);
    case A_CALL: return compile_call(c, a, member, member_pos);
    case A_MEMBER: {
        const rl_ast_t *call = a->a;
        if (call->kind != A_CALL) {
            cerr(c, a->op_pos, "'.%s' picks an indicator's output, as in "
                               "macd(close, 12, 26, 9).signal", a->name);
            return -1;
        }
        const cb_ta_info_t *info = cb_ta_find(call->name);
        if (!info)
            return compile_call(c, call, 0, a->op_pos); /* reports the problem */
        int out = -1;
        for (int k = 0; k < info->n_outputs; k++)
            if (strcmp(info->outputs[k], a->name) == 0)
                out = k;
        if (out < 0) {
            char outs[160];
            outputs_list(info, outs, sizeof outs);
            const char *sug = rl_closest(a->name, info->outputs, (size_t)info->n_outputs);
            if (info->n_outputs == 1)
                cerr(c, a->pos, "'%s' has a single output; remove '.%s'", info->name, a->name);
            else if (sug)
                cerr(c, a->pos, "'%s' has no output '%s'; did you mean '%s'?", info->name,
                     a->name, sug);
            else
                cerr(c, a->pos, "'%s' has no output '%s' (outputs: %s)", info->name, a->name,
                     outs);
            return -1;
        }
        return compile_call(c, call, out, a->op_pos);
    }
    case A_AT: {
        const rl_ast_t *s = a->a;
        const rl_ast_t *call = s->kind == A_MEMBER ? s->a : s;
        if (call->kind == A_CALL && cb_ta_find(call->name) && !c->fixed_clock) {
            /* an indicator on fixed columns over higher-timeframe candles: atr(14)@4h */
            int clk = clock_for(c, a);
            if (clk < 0)
                return -1;
            c->fixed_clock = clk;
            int r = compile(c, s, -1, 0);
            c->fixed_clock = 0;
            return r;
        }
        if (s->kind != A_NAME || series_index(s->name) < 0) {
            cerr(c, a->op_pos, "'@%s' applies to a price series (open, high, low, close, "
                               "volume, hl2, hlc3, ohlc4), as in ema(close@%s, 20), or to an "
                               "indicator on fixed columns, as in atr(14)@%s",
                 a->name, a->name, a->name);
            return -1;
        }
        int clk = clock_for(c, a);
        if (clk < 0)
            return -1;
        rl_node_t t = tmpl(OP_SERIES, T_NUM, -1, -1);
        t.k = series_index(s->name);
        t.clock = clk;
        return intern(c, &t);
    }
    case A_INDEX: {
        int x = compile(c, a->a, -1, 0);
        if (x < 0)
            return -1;
        double n;
        if (const_arg(c, a->b, "the offset in [...]", &n) != 0)
            return -1;
        if (n < 0) {
            cerr(c, ast_start(a->b),
                 "negative offset %g would look at future bars; x[n] means n bars ago (n >= 0)",
                 n);
            return -1;
        }
        if (n != floor(n) || n > RL_MAX_WINDOW) {
            cerr(c, ast_start(a->b), "the offset must be a whole number from 0 to %d, got %g",
                 RL_MAX_WINDOW, n);
            return -1;
        }
        return mk_lag(c, x, n);
    }
    case A_UNARY: {
        int x = compile(c, a->a, -1, 0);
        if (a->op == '-') {
            if (want(c, a->a, x, T_NUM, "the operand of '-'") < 0)
                return -1;
            return mk_checked(c, a, OP_NEG, T_NUM, x, -1);
        }
        if (want(c, a->a, x, T_BOOL, "the operand of 'not'") < 0)
            return -1;
        return mk_pure(c, OP_NOT, T_BOOL, x, -1);
    }
    case A_BINARY: {
        static const char *const names[] = {"", "+", "-", "*", "/", "<", "<=", ">", ">=",
                                            "==", "!=", "and", "or"};
        int x = compile(c, a->a, -1, 0);
        int y = compile(c, a->b, -1, 0);
        if (x < 0 || y < 0)
            return -1;
        int logic = a->op == OPB_AND || a->op == OPB_OR;
        int want_t = logic ? T_BOOL : T_NUM;
        char what[64];
        snprintf(what, sizeof what, "the left side of '%s'", names[a->op]);
        if (want(c, a->a, x, want_t, what) < 0)
            return -1;
        snprintf(what, sizeof what, "the right side of '%s'", names[a->op]);
        if (want(c, a->b, y, want_t, what) < 0)
            return -1;
        static const rl_op_t ops[] = {OP_CONST, OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_LT, OP_LE,
                                      OP_GT, OP_GE, OP_EQ, OP_NE, OP_AND, OP_OR};
        int rtype = a->op >= OPB_LT ? T_BOOL : T_NUM;
        return mk_checked(c, a, ops[a->op], rtype, x, y);
    }
    }
    return -1;
}

/* "ema(close, 12)" for node i into buf. */
static size_t node_text(const cb_rules_program_t *p, int i, char *buf, size_t size)
{
    if (size == 0)
        return 0;
    buf[0] = '\0';
    const rl_node_t *n = &p->nodes[i];
    size_t w = 0;
#define PUT(...)                                                                             \
    do {                                                                                     \
        if (w < size)                                                                        \
            w += (size_t)snprintf(buf + w, size - w, __VA_ARGS__);                           \
    } while (0)
#define SUB(j)                                                                               \
    do {                                                                                     \
        if (w < size)                                                                        \
            w += node_text(p, (j), buf + w, size - w);                                       \
    } while (0)
    switch (n->op) {
    case OP_CONST: PUT("%g", n->k); break;
    case OP_SERIES:
        PUT("%s", rl_series_names[(int)n->k]);
        if (n->clock)
            PUT("@%s", p->clocks[n->clock].tf.name);
        break;
    case OP_POS: PUT("%s", rl_position_names[(int)n->k]); break;
    case OP_LAG: SUB(n->a); PUT("[%g]", n->k); break;
    case OP_TA: {
        PUT("%s(", n->ta->name);
        int first = 1;
        if (n->a >= 0) { SUB(n->a); first = 0; }
        if (n->b >= 0) { PUT(", "); SUB(n->b); }
        for (int k = 0; k < n->ta->n_opts; k++) {
            PUT("%s%g", first ? "" : ", ", n->opts[k]);
            first = 0;
        }
        PUT(")");
        if (n->a < 0 && n->clock)
            PUT("@%s", p->clocks[n->clock].tf.name);
        break;
    }
    case OP_PICK: SUB(n->a); PUT(".%s", p->nodes[n->a].ta->outputs[(int)n->k]); break;
    default: PUT("..."); break;
    }
#undef PUT
#undef SUB
    return w < size ? w : size - 1;
}

static size_t mul_sat(size_t a, size_t b)
{
    if (a && b > SIZE_MAX / a)
        return SIZE_MAX / 4;
    return a * b;
}

/* Lays out the reachable nodes: slots, state, warm-up, the indicator list. */
static int finish(cc_t *c, int entry, int exit_, cb_rules_program_t **out)
{
    cb_rules_program_t *p = calloc(1, sizeof *p);
    if (!p)
        return CB_ENOMEM;
    char *live = calloc(c->n ? c->n : 1, 1);
    int *remap = malloc((c->n ? c->n : 1) * sizeof *remap);
    p->nodes = malloc((c->n ? c->n : 1) * sizeof *p->nodes);
    if (!live || !remap || !p->nodes) {
        free(live);
        free(remap);
        cb_rules_program_free(p);
        return CB_ENOMEM;
    }
    if (entry >= 0)
        live[entry] = 1;
    if (exit_ >= 0)
        live[exit_] = 1;
    for (size_t i = c->n; i-- > 0;) {
        if (!live[i])
            continue;
        if (c->nodes[i].a >= 0)
            live[c->nodes[i].a] = 1;
        if (c->nodes[i].b >= 0)
            live[c->nodes[i].b] = 1;
    }
    memcpy(p->clocks, c->clocks, sizeof p->clocks);
    p->n_clocks = c->n_clocks;
    const char *tfs = c->f->skey[SK_TIMEFRAME].value;
    cb_timeframe_t btf;
    int64_t base_ms = 0;
    if (tfs && cb_timeframe_parse(tfs, &btf) == 0 && btf.ms > 0)
        base_ms = btf.ms;
    p->file_tf_ms = base_ms;
    size_t n = 0, slots = 0, state = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (!live[i]) {
            remap[i] = -1;
            continue;
        }
        rl_node_t nd = c->nodes[i];
        nd.a = nd.a >= 0 ? remap[nd.a] : -1;
        nd.b = nd.b >= 0 ? remap[nd.b] : -1;
        nd.slot = slots;
        if (nd.n_slots == 0)
            nd.n_slots = 1;
        slots += nd.n_slots;
        size_t st = 0;
        switch (nd.op) {
        case OP_LAG: st = sizeof(size_t) + (size_t)nd.k * sizeof(double); break;
        case OP_HIGHEST:
        case OP_LOWEST: st = rl_window_size((size_t)nd.k); break;
        case OP_XOVER:
        case OP_XUNDER: st = sizeof(double); break;
        case OP_TA: st = cb_ta_stream_size(nd.ta, nd.opts); break;
        default: break;
        }
        if (st) {
            state = (state + 15) & ~(size_t)15;
            nd.state_off = state;
            nd.state_size = st;
            state += st;
        }
        /* warm-up in base bars: the first bar index whose value can be valid */
        size_t ratio = 1;
        if (nd.clock > 0) {
            const cb_timeframe_t *tf = &c->clocks[nd.clock].tf;
            int64_t tfms = tf->months ? (int64_t)tf->months * 30 * CB_MS_PER_DAY : tf->ms;
            ratio = base_ms > 0 && tfms > base_ms ? (size_t)(tfms / base_ms) : 1;
        }
        size_t wa = nd.a >= 0 ? p->nodes[nd.a].warmup : 0;
        size_t wb = nd.b >= 0 ? p->nodes[nd.b].warmup : 0;
        size_t w = wa > wb ? wa : wb;
        switch (nd.op) {
        case OP_SERIES: w = nd.clock ? ratio - 1 : 0; break;
        case OP_LAG: w += mul_sat((size_t)nd.k, ratio); break;
        case OP_HIGHEST:
        case OP_LOWEST: w += mul_sat((size_t)nd.k - 1, ratio); break;
        case OP_XOVER:
        case OP_XUNDER: w += 1; break;
        case OP_TA: {
            int lb = cb_ta_lookback(nd.ta, nd.opts);
            nd.lookback = lb > 0 ? (size_t)lb : 0;
            w += mul_sat(nd.lookback, ratio);
            if (nd.a < 0 && nd.clock > 0)
                w += ratio - 1; /* the first higher candle */
            break;
        }
        default: break;
        }
        nd.warmup = w;
        p->nodes[n] = nd;
        remap[i] = (int)n++;
    }
    p->n_nodes = n;
    p->n_slots = slots;
    p->state_size = state;
    p->entry = entry >= 0 ? remap[entry] : -1;
    p->exit = exit_ >= 0 ? remap[exit_] : -1;
    size_t we = p->entry >= 0 ? p->nodes[p->entry].warmup : 0;
    size_t wx = p->exit >= 0 ? p->nodes[p->exit].warmup : 0;
    p->warmup = we > wx ? we : wx;
    free(live);
    free(remap);
    p->code = malloc((n ? n : 1) * sizeof *p->code);
    if (!p->code) {
        cb_rules_program_free(p);
        return CB_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const rl_node_t *nd = &p->nodes[i];
        if (nd->op == OP_CONST)
            continue;
        if ((nd->op == OP_SERIES && nd->clock == 0) || nd->op == OP_POS) {
            /* written by the step itself, before the program runs */
            p->inputs[p->n_inputs].slot = nd->slot;
            p->inputs[p->n_inputs].src = nd->op == OP_POS ? 8 + (int)nd->k : (int)nd->k;
            p->n_inputs++;
            continue;
        }
        rl_ins_t *in = &p->code[p->n_code++];
        memset(in, 0, sizeof *in);
        in->op = (uint8_t)nd->op;
        in->clock_bit = (uint8_t)(1u << nd->clock);
        in->out = (uint32_t)nd->slot;
        in->a = nd->a >= 0 ? (uint32_t)p->nodes[nd->a].slot : 0;
        in->b = nd->b >= 0 ? (uint32_t)p->nodes[nd->b].slot : 0;
        in->w = (uint32_t)nd->k;
        in->node = (uint32_t)i;
        in->state_off = nd->state_off;
        if (nd->op == OP_TA) {
            in->upd = nd->ta->stream_update;
            in->run = nd->ta->stream_run;
            in->n_in = (uint8_t)nd->ta->n_inputs;
            in->n_out = (uint8_t)nd->ta->n_outputs;
            memcpy(in->in_map, nd->in_map_, sizeof in->in_map);
        }
    }
    p->entry_slot = p->entry >= 0 ? p->nodes[p->entry].slot : 0;
    p->exit_slot = p->exit >= 0 ? p->nodes[p->exit].slot : 0;
    size_t n_inds = 0;
    for (size_t i = 0; i < n; i++) {
        n_inds += p->nodes[i].op == OP_TA;
        p->uses_position |= p->nodes[i].op == OP_POS;
    }
    if (n_inds) {
        p->inds = calloc(n_inds, sizeof *p->inds);
        if (!p->inds) {
            cb_rules_program_free(p);
            return CB_ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
            if (p->nodes[i].op != OP_TA)
                continue;
            cb_rules_indicator_t *ind = &p->inds[p->n_inds++];
            node_text(p, (int)i, ind->text, sizeof ind->text);
            ind->lookback = p->nodes[i].lookback;
            ind->warmup_bars = p->nodes[i].warmup;
        }
    }
    *out = p;
    return 0;
}

int rl_compile(const cb_rules_file_t *f, const double *values, cb_rules_program_t **out,
               cb_diags_t *diags, int mark_used)
{
    *out = NULL;
    if (f->plugin_path)
        return CB_EUNSUPPORTED;
    if (!f->entry_ast)
        return f->n_errors ? CB_EPARSE : CB_EVALID;
    cc_t c;
    memset(&c, 0, sizeof c);
    c.f = (cb_rules_file_t *)f; /* only written when mark_used (from the loader) */
    c.values = values;
    c.diags = diags;
    c.mark_used = mark_used;
    c.n_clocks = 1;
    int roots[2] = {-1, -1};
    const rl_ast_t *asts[2] = {f->entry_ast, f->exit_ast};
    const rl_expr_src_t *srcs[2] = {&f->entry_src, &f->exit_src};
    int failed = 0;
    for (int k = 0; k < 2; k++) {
        if (!asts[k])
            continue;
        c.src = srcs[k];
        c.in_exit = k == 1;
        c.failed = 0;
        int r = compile(&c, asts[k], -1, 0);
        if (r >= 0 && c.nodes[r].type != T_BOOL) {
            cerr(&c, ast_start(asts[k]),
                 "%s must be a condition (true or false), but this is a number",
                 k ? "exit" : "entry");
            r = -1;
        }
        if (r < 0)
            failed = 1;
        roots[k] = r;
        if (c.oom)
            break;
    }
    int rc;
    if (c.oom)
        rc = CB_ENOMEM;
    else if (failed)
        rc = CB_EVALID;
    else
        rc = finish(&c, roots[0], roots[1], out);
    free(c.nodes);
    return rc;
}

int cb_rules_compile(const cb_rules_file_t *f, const double *values, cb_rules_program_t **out,
                     cb_diags_t *diags)
{
    return rl_compile(f, values, out, diags, 0);
}

void cb_rules_program_free(cb_rules_program_t *p)
{
    if (!p)
        return;
    free(p->nodes);
    free(p->code);
    free(p->inds);
    free(p);
}

void cb_rules_program_stats(const cb_rules_program_t *p, cb_rules_stats_t *out)
{
    memset(out, 0, sizeof *out);
    out->nodes = p->n_nodes;
    for (size_t i = 0; i < p->n_nodes; i++) {
        out->indicators += p->nodes[i].op == OP_TA;
        out->constants += p->nodes[i].op == OP_CONST;
    }
    out->state_bytes = p->state_size + p->n_slots * sizeof(double);
    out->warmup = p->warmup;
}

size_t cb_rules_program_n_indicators(const cb_rules_program_t *p) { return p->n_inds; }
const cb_rules_indicator_t *cb_rules_program_indicator(const cb_rules_program_t *p, size_t i)
{
    return i < p->n_inds ? &p->inds[i] : NULL;
}

int cb_rules_program_uses_position(const cb_rules_program_t *p) { return p->uses_position; }
