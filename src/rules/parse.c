/* The rules language: lexer and recursive-descent parser to a syntax tree with positions.
 * Only syntax is checked here; names, types and values are the compiler's (compile.c). */
#include "rules/rules_int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    TK_EOF, TK_NUM, TK_IDENT, TK_TF, TK_LPAREN, TK_RPAREN, TK_LBRACK, TK_RBRACK, TK_COMMA,
    TK_DOT, TK_AT, TK_PLUS, TK_MINUS, TK_STAR, TK_SLASH, TK_LT, TK_LE, TK_GT, TK_GE, TK_EQ,
    TK_NE, TK_AND, TK_OR, TK_NOT, TK_BAD
};

typedef struct tok {
    int kind;
    size_t pos, len;
    double num;
    int percent;
} tok_t;

typedef struct parser {
    rl_arena_t *arena;
    const char *file;
    const rl_expr_src_t *src;
    const char *s;
    size_t n;
    size_t i; /* lexer position */
    tok_t t;  /* current token */
    size_t prev_end; /* just past the last token consumed */
    int failed;
    int depth;
    cb_diags_t *diags;
} parser_t;

static void perr(parser_t *p, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void perr(parser_t *p, size_t pos, const char *fmt, ...)
{
    if (p->failed)
        return;
    p->failed = 1;
    long line;
    int col;
    rl_src_pos(p->src, pos, &line, &col);
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rl_error(p->diags, CB_EPARSE, p->file, line, col, "%s", msg);
}

/* A printable description of the current token for messages. */
static const char *tok_desc(parser_t *p, char *buf, size_t size)
{
    if (p->t.kind == TK_EOF)
        return "end of rule";
    size_t len = p->t.len > 40 ? 40 : p->t.len;
    snprintf(buf, size, "'%.*s'", (int)len, p->s + p->t.pos);
    return buf;
}

static int is_ident_start(int c) { return isalpha(c) || c == '_'; }
static int is_ident_char(int c) { return isalnum(c) || c == '_'; }

static void next(parser_t *p)
{
    const char *s = p->s;
    if (p->t.kind != TK_EOF)
        p->prev_end = p->t.pos + p->t.len;
    while (p->i < p->n && isspace((unsigned char)s[p->i]))
        p->i++;
    tok_t t = {TK_EOF, p->i, 0, 0, 0};
    if (p->i >= p->n) {
        p->t = t;
        return;
    }
    size_t st = p->i;
    unsigned char c = (unsigned char)s[st];
    if (isdigit(c) || (c == '.' && st + 1 < p->n && isdigit((unsigned char)s[st + 1]))) {
        size_t e = st;
        int dots = 0;
        while (e < p->n && (isdigit((unsigned char)s[e]) || s[e] == '.')) {
            dots += s[e] == '.';
            e++;
        }
        if (e < p->n && (s[e] == 'e' || s[e] == 'E')) {
            size_t x = e + 1;
            if (x < p->n && (s[x] == '+' || s[x] == '-'))
                x++;
            if (x < p->n && isdigit((unsigned char)s[x])) {
                e = x;
                while (e < p->n && isdigit((unsigned char)s[e]))
                    e++;
            }
        }
        /* letters glued to a number ("12abc", "1.2.3"): one malformed token */
        size_t bad = e;
        while (bad < p->n && (is_ident_char((unsigned char)s[bad]) || s[bad] == '.'))
            bad++;
        t.pos = st;
        if (dots > 1 || bad != e) {
            t.kind = TK_BAD;
            t.len = bad - st;
            p->i = bad;
            p->t = t;
            perr(p, st, "malformed number '%.*s'", (int)(t.len > 40 ? 40 : t.len), s + st);
            return;
        }
        char buf[64];
        size_t len = e - st;
        if (len >= sizeof buf) {
            t.kind = TK_BAD;
            t.len = len;
            p->i = e;
            p->t = t;
            perr(p, st, "number too long");
            return;
        }
        memcpy(buf, s + st, len);
        buf[len] = '\0';
        errno = 0;
        t.num = strtod(buf, NULL);
        if (errno == ERANGE || !isfinite(t.num)) {
            t.kind = TK_BAD;
            t.len = len;
            p->i = e;
            p->t = t;
            perr(p, st, "number '%s' is out of range", buf);
            return;
        }
        t.kind = TK_NUM;
        if (e < p->n && s[e] == '%') {
            t.percent = 1;
            t.num /= 100.0;
            e++;
        }
        t.len = e - st;
        p->i = e;
        p->t = t;
        return;
    }
    if (is_ident_start(c)) {
        size_t e = st;
        while (e < p->n && is_ident_char((unsigned char)s[e]))
            e++;
        t.len = e - st;
        t.kind = TK_IDENT;
        if (t.len == 3 && memcmp(s + st, "and", 3) == 0)
            t.kind = TK_AND;
        else if (t.len == 2 && memcmp(s + st, "or", 2) == 0)
            t.kind = TK_OR;
        else if (t.len == 3 && memcmp(s + st, "not", 3) == 0)
            t.kind = TK_NOT;
        p->i = e;
        p->t = t;
        return;
    }
    char c1 = st + 1 < p->n ? s[st + 1] : '\0';
    t.len = 1;
    switch (c) {
    case '(': t.kind = TK_LPAREN; break;
    case ')': t.kind = TK_RPAREN; break;
    case '[': t.kind = TK_LBRACK; break;
    case ']': t.kind = TK_RBRACK; break;
    case ',': t.kind = TK_COMMA; break;
    case '.': t.kind = TK_DOT; break;
    case '+': t.kind = TK_PLUS; break;
    case '-': t.kind = TK_MINUS; break;
    case '*': t.kind = TK_STAR; break;
    case '/': t.kind = TK_SLASH; break;
    case '@': {
        /* '@' and its timeframe ("4h", "15m", "1d") form one token */
        size_t e = st + 1;
        while (e < p->n && isalnum((unsigned char)s[e]))
            e++;
        t.kind = TK_AT;
        t.len = e - st;
        break;
    }
    case '<':
        if (c1 == '=') { t.kind = TK_LE; t.len = 2; }
        else if (c1 == '>') { t.kind = TK_BAD; t.len = 2; perr(p, st, "'<>' is not an operator; did you mean '!='?"); }
        else t.kind = TK_LT;
        break;
    case '>':
        if (c1 == '=') { t.kind = TK_GE; t.len = 2; } else t.kind = TK_GT;
        break;
    case '=':
        if (c1 == '=') { t.kind = TK_EQ; t.len = 2; }
        else { t.kind = TK_BAD; perr(p, st, "'=' is not a comparison; did you mean '=='?"); }
        break;
    case '!':
        if (c1 == '=') { t.kind = TK_NE; t.len = 2; }
        else { t.kind = TK_BAD; perr(p, st, "'!' is not an operator; use 'not'"); }
        break;
    case '&':
        t.kind = TK_BAD;
        t.len = c1 == '&' ? 2 : 1;
        perr(p, st, "'%.*s' is not an operator; use 'and'", (int)t.len, s + st);
        break;
    case '|':
        t.kind = TK_BAD;
        t.len = c1 == '|' ? 2 : 1;
        perr(p, st, "'%.*s' is not an operator; use 'or'", (int)t.len, s + st);
        break;
    default:
        t.kind = TK_BAD;
        if (c >= 0x20 && c < 0x7f)
            perr(p, st, "unexpected character '%c'", c);
        else
            perr(p, st, "unexpected byte 0x%02x", c);
        break;
    }
    p->i = st + t.len;
    p->t = t;
}

static rl_ast_t *new_node(parser_t *p, rl_ast_kind_t kind, size_t pos, size_t len)
{
    rl_ast_t *a = rl_alloc(p->arena, sizeof *a);
    if (!a) {
        if (!p->failed) {
            p->failed = 1;
            rl_error(p->diags, CB_ENOMEM, p->file, 0, 0, "out of memory");
        }
        return NULL;
    }
    a->kind = kind;
    a->pos = pos;
    a->len = len;
    a->end = p->prev_end > pos + len ? p->prev_end : pos + len;
    a->height = 1;
    return a;
}

static void too_deep(parser_t *p, size_t pos)
{
    perr(p, pos,
         "expression nested too deeply (more than %d levels; every operator, call, offset [n] "
         "and parenthesis inside another counts one)", RL_MAX_DEPTH);
}

/* Sets n's height from its children; refuses a tree taller than the compiler may recurse
 * (pos: the token that made it too tall). Returns n, or NULL after the error. */
static rl_ast_t *grown(parser_t *p, rl_ast_t *n, size_t pos)
{
    if (!n)
        return NULL;
    int h = 0;
    if (n->a && n->a->height > h)
        h = n->a->height;
    if (n->b && n->b->height > h)
        h = n->b->height;
    for (size_t i = 0; i < n->n_args; i++)
        if (n->args[i]->height > h)
            h = n->args[i]->height;
    n->height = h + 1;
    n->end = p->prev_end > n->end ? p->prev_end : n->end;
    if (n->height > RL_MAX_DEPTH) {
        too_deep(p, pos);
        return NULL;
    }
    return n;
}

static rl_ast_t *parse_or(parser_t *p);

static rl_ast_t *parse_primary(parser_t *p)
{
    char buf[64];
    if (p->failed)
        return NULL;
    tok_t t = p->t;
    switch (t.kind) {
    case TK_NUM: {
        rl_ast_t *a = new_node(p, A_NUM, t.pos, t.len);
        if (!a)
            return NULL;
        a->num = t.num;
        a->is_percent = t.percent;
        next(p);
        return a;
    }
    case TK_IDENT: {
        next(p);
        if (p->t.kind != TK_LPAREN) {
            rl_ast_t *a = new_node(p, A_NAME, t.pos, t.len);
            if (!a)
                return NULL;
            a->name = rl_strndup(p->arena, p->s + t.pos, t.len);
            a->name_len = t.len;
            return a->name ? a : NULL;
        }
        size_t open = p->t.pos;
        rl_ast_t *a = new_node(p, A_CALL, t.pos, t.len);
        if (!a)
            return NULL;
        a->name = rl_strndup(p->arena, p->s + t.pos, t.len);
        a->name_len = t.len;
        if (!a->name)
            return NULL;
        next(p);
        rl_ast_t *args[16];
        size_t n = 0;
        if (p->t.kind != TK_RPAREN) {
            for (;;) {
                rl_ast_t *e = parse_or(p);
                if (!e)
                    return NULL;
                if (n == 16) {
                    perr(p, e->pos, "too many arguments (at most 16)");
                    return NULL;
                }
                args[n++] = e;
                if (p->t.kind == TK_COMMA) {
                    next(p);
                    continue;
                }
                if (p->t.kind == TK_RPAREN)
                    break;
                if (p->t.kind == TK_EOF)
                    perr(p, open, "missing ')' to close this '('");
                else
                    perr(p, p->t.pos, "expected ',' or ')' in the arguments of '%s', found %s",
                         a->name, tok_desc(p, buf, sizeof buf));
                return NULL;
            }
        }
        next(p);
        if (n) {
            a->args = rl_alloc(p->arena, n * sizeof *a->args);
            if (!a->args)
                return NULL;
            memcpy(a->args, args, n * sizeof *args);
        }
        a->n_args = n;
        return grown(p, a, t.pos);
    }
    case TK_LPAREN: {
        size_t open = t.pos;
        next(p);
        rl_ast_t *e = parse_or(p);
        if (!e)
            return NULL;
        if (p->t.kind != TK_RPAREN) {
            if (p->t.kind == TK_EOF)
                perr(p, open, "missing ')' to close this '('");
            else
                perr(p, p->t.pos, "expected ')', found %s", tok_desc(p, buf, sizeof buf));
            return NULL;
        }
        next(p);
        return e;
    }
    case TK_BAD:
        return NULL;
    default:
        perr(p, t.pos, "expected a value, found %s", tok_desc(p, buf, sizeof buf));
        return NULL;
    }
}

static rl_ast_t *parse_postfix(parser_t *p)
{
    char buf[64];
    rl_ast_t *a = parse_primary(p);
    while (a && !p->failed) {
        tok_t t = p->t;
        if (t.kind == TK_LBRACK) {
            next(p);
            rl_ast_t *idx = parse_or(p);
            if (!idx)
                return NULL;
            if (p->t.kind != TK_RBRACK) {
                if (p->t.kind == TK_EOF)
                    perr(p, t.pos, "missing ']' to close this '['");
                else
                    perr(p, p->t.pos, "expected ']', found %s", tok_desc(p, buf, sizeof buf));
                return NULL;
            }
            next(p);
            rl_ast_t *n = new_node(p, A_INDEX, a->pos, a->len);
            if (!n)
                return NULL;
            n->op_pos = t.pos;
            n->a = a;
            n->b = idx;
            a = grown(p, n, t.pos);
        } else if (t.kind == TK_DOT) {
            next(p);
            if (p->t.kind != TK_IDENT) {
                perr(p, p->t.kind == TK_EOF ? t.pos : p->t.pos,
                     "expected an output name after '.', found %s", tok_desc(p, buf, sizeof buf));
                return NULL;
            }
            rl_ast_t *n = new_node(p, A_MEMBER, p->t.pos, p->t.len);
            if (!n)
                return NULL;
            n->op_pos = t.pos;
            n->name = rl_strndup(p->arena, p->s + p->t.pos, p->t.len);
            n->name_len = p->t.len;
            n->a = a;
            if (!n->name)
                return NULL;
            next(p);
            a = grown(p, n, t.pos);
        } else if (t.kind == TK_AT) {
            if (t.len == 1) {
                perr(p, t.pos, "expected a timeframe after '@' (as in close@4h)");
                return NULL;
            }
            rl_ast_t *n = new_node(p, A_AT, t.pos + 1, t.len - 1);
            if (!n)
                return NULL;
            n->op_pos = t.pos;
            n->name = rl_strndup(p->arena, p->s + t.pos + 1, t.len - 1);
            n->name_len = t.len - 1;
            n->a = a;
            if (!n->name)
                return NULL;
            next(p);
            a = grown(p, n, t.pos);
        } else {
            break;
        }
    }
    return p->failed ? NULL : a;
}

static rl_ast_t *parse_unary(parser_t *p)
{
    if (p->t.kind == TK_MINUS || p->t.kind == TK_PLUS) {
        tok_t t = p->t;
        if (++p->depth > RL_MAX_DEPTH) {
            too_deep(p, t.pos);
            return NULL;
        }
        next(p);
        rl_ast_t *e = parse_unary(p);
        p->depth--;
        if (!e)
            return NULL;
        if (t.kind == TK_PLUS)
            return e;
        rl_ast_t *n = new_node(p, A_UNARY, t.pos, t.len);
        if (!n)
            return NULL;
        n->op = '-';
        n->a = e;
        return grown(p, n, t.pos);
    }
    return parse_postfix(p);
}

static rl_ast_t *binary(parser_t *p, int op, tok_t t, rl_ast_t *a, rl_ast_t *b)
{
    rl_ast_t *n = new_node(p, A_BINARY, t.pos, t.len);
    if (!n)
        return NULL;
    n->op = op;
    n->op_pos = t.pos;
    n->a = a;
    n->b = b;
    return grown(p, n, t.pos);
}

static rl_ast_t *parse_mul(parser_t *p)
{
    rl_ast_t *a = parse_unary(p);
    while (a && (p->t.kind == TK_STAR || p->t.kind == TK_SLASH)) {
        tok_t t = p->t;
        next(p);
        rl_ast_t *b = parse_unary(p);
        if (!b)
            return NULL;
        a = binary(p, t.kind == TK_STAR ? OPB_MUL : OPB_DIV, t, a, b);
    }
    return a;
}

static rl_ast_t *parse_add(parser_t *p)
{
    rl_ast_t *a = parse_mul(p);
    while (a && (p->t.kind == TK_PLUS || p->t.kind == TK_MINUS)) {
        tok_t t = p->t;
        next(p);
        rl_ast_t *b = parse_mul(p);
        if (!b)
            return NULL;
        a = binary(p, t.kind == TK_PLUS ? OPB_ADD : OPB_SUB, t, a, b);
    }
    return a;
}

static int cmp_op(int kind)
{
    switch (kind) {
    case TK_LT: return OPB_LT;
    case TK_LE: return OPB_LE;
    case TK_GT: return OPB_GT;
    case TK_GE: return OPB_GE;
    case TK_EQ: return OPB_EQ;
    case TK_NE: return OPB_NE;
    default: return 0;
    }
}

static rl_ast_t *parse_cmp(parser_t *p)
{
    rl_ast_t *a = parse_add(p);
    int op = a ? cmp_op(p->t.kind) : 0;
    if (!op)
        return a;
    tok_t t = p->t;
    next(p);
    rl_ast_t *b = parse_add(p);
    if (!b)
        return NULL;
    if (cmp_op(p->t.kind)) {
        perr(p, p->t.pos, "comparisons cannot be chained; combine them with 'and'");
        return NULL;
    }
    return binary(p, op, t, a, b);
}

static rl_ast_t *parse_not(parser_t *p)
{
    if (p->t.kind == TK_NOT) {
        tok_t t = p->t;
        if (++p->depth > RL_MAX_DEPTH) {
            too_deep(p, t.pos);
            return NULL;
        }
        next(p);
        rl_ast_t *e = parse_not(p);
        p->depth--;
        if (!e)
            return NULL;
        rl_ast_t *n = new_node(p, A_UNARY, t.pos, t.len);
        if (!n)
            return NULL;
        n->op = 'n';
        n->a = e;
        return grown(p, n, t.pos);
    }
    return parse_cmp(p);
}

static rl_ast_t *parse_and(parser_t *p)
{
    rl_ast_t *a = parse_not(p);
    while (a && p->t.kind == TK_AND) {
        tok_t t = p->t;
        next(p);
        rl_ast_t *b = parse_not(p);
        if (!b)
            return NULL;
        a = binary(p, OPB_AND, t, a, b);
    }
    return a;
}

static rl_ast_t *parse_or(parser_t *p)
{
    if (++p->depth > RL_MAX_DEPTH) {
        too_deep(p, p->t.pos);
        return NULL;
    }
    rl_ast_t *a = parse_and(p);
    while (a && p->t.kind == TK_OR) {
        tok_t t = p->t;
        next(p);
        rl_ast_t *b = parse_and(p);
        if (!b)
            return NULL;
        a = binary(p, OPB_OR, t, a, b);
    }
    p->depth--;
    return p->failed ? NULL : a;
}

rl_ast_t *rl_parse_expr(rl_arena_t *arena, const char *file, const rl_expr_src_t *src,
                        cb_diags_t *diags, int *n_errors)
{
    parser_t p = {0};
    p.arena = arena;
    p.file = file;
    p.src = src;
    p.s = src->text;
    p.n = src->len;
    p.diags = diags;
    next(&p);
    if (p.t.kind == TK_EOF && !p.failed) {
        rl_error(diags, CB_EPARSE, file, src->key_line, src->key_col, "'%s' is empty",
                 src->key);
        (*n_errors)++;
        return NULL;
    }
    rl_ast_t *a = parse_or(&p);
    if (a && !p.failed && p.t.kind != TK_EOF) {
        char buf[64];
        if (p.t.kind == TK_RPAREN)
            perr(&p, p.t.pos, "unmatched ')'");
        else if (p.t.kind == TK_IDENT || p.t.kind == TK_NUM || p.t.kind == TK_LPAREN)
            perr(&p, p.t.pos, "expected an operator before %s", tok_desc(&p, buf, sizeof buf));
        else
            perr(&p, p.t.pos, "unexpected %s after the expression", tok_desc(&p, buf, sizeof buf));
    }
    if (p.failed) {
        (*n_errors)++;
        return NULL;
    }
    return a;
}
