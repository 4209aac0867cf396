/* Private structures of the rules module: the parsed file, the syntax tree, the compiled
 * program and its instances. */
#ifndef COMEBACK_RULES_INT_H
#define COMEBACK_RULES_INT_H

#include <stddef.h>
#include <stdint.h>

#include "comeback/rules.h"
#include "comeback/ta.h"

/* ---- A simple arena: everything of a parsed file is freed at once ------------------------ */
typedef struct rl_chunk {
    struct rl_chunk *next;
    size_t used, cap;
    max_align_t data[];
} rl_chunk_t;
typedef struct rl_arena {
    rl_chunk_t *head;
} rl_arena_t;
void *rl_alloc(rl_arena_t *a, size_t size);
char *rl_strndup(rl_arena_t *a, const char *s, size_t n);
void rl_arena_free(rl_arena_t *a);

/* ---- Source positions of an expression -------------------------------------------------- */
/* An expression may span continuation lines; its text is the lines joined by '\n'.
 * seg[i] maps text offsets [off, next off) to (line, column of off). */
typedef struct rl_seg {
    size_t off;
    long line;
    int col;
} rl_seg_t;

typedef struct rl_expr_src {
    const char *key;   /* "entry" / "exit" */
    char *text;
    size_t len;
    rl_seg_t *seg;
    size_t n_seg, cap_seg;
    long key_line;
    int key_col;
} rl_expr_src_t;

void rl_src_pos(const rl_expr_src_t *src, size_t off, long *line, int *col);

/* ---- The syntax tree -------------------------------------------------------------------- */
typedef enum rl_ast_kind {
    A_NUM,    /* num */
    A_NAME,   /* name */
    A_CALL,   /* name(args) */
    A_UNARY,  /* op a: '-' or 'n' (not) */
    A_BINARY, /* a op b */
    A_INDEX,  /* a[b] */
    A_MEMBER, /* a.name */
    A_AT      /* a@tf (name holds the timeframe text) */
} rl_ast_kind_t;

/* Binary operators. */
enum {
    OPB_ADD = 1, OPB_SUB, OPB_MUL, OPB_DIV, OPB_LT, OPB_LE, OPB_GT, OPB_GE, OPB_EQ, OPB_NE,
    OPB_AND, OPB_OR
};

typedef struct rl_ast {
    rl_ast_kind_t kind;
    int op;
    size_t pos, len;        /* the node's main token in the expression text */
    size_t end;             /* just past the node's last token */
    int height;             /* 1 + the tallest child: the compiler's recursion depth */
    size_t op_pos;          /* for A_BINARY/A_AT/A_MEMBER/A_INDEX: the operator token */
    double num;
    int is_percent;
    const char *name;       /* NUL-terminated copy */
    size_t name_len;
    struct rl_ast *a, *b;
    struct rl_ast **args;
    size_t n_args;
} rl_ast_t;

/* The deepest expression the parser accepts: parentheses, unary '-' and 'not' nested in one
 * another, and the height of the syntax tree (every operator, call, offset [n], '.output' and
 * '@tf' is one level, so a chain of 300 'and' is 300 levels). The compiler recurses once per
 * level, so this bounds its stack use (about 2 KB a level). */
#define RL_MAX_DEPTH 256

/* Parses an expression (syntax only). Returns the tree or NULL with an error in diags. */
rl_ast_t *rl_parse_expr(rl_arena_t *arena, const char *file, const rl_expr_src_t *src,
                        cb_diags_t *diags, int *n_errors);

/* ---- The parsed file -------------------------------------------------------------------- */
#define RL_N_OTHER_SECTIONS 5
typedef struct rl_value {
    const char *value;
    long line;
    int col;      /* value column */
    int key_col;
} rl_value_t;

enum { SK_NAME, SK_TIMEFRAME, SK_ENTRY, SK_EXIT, SK_STOPLOSS, SK_TAKE_PROFIT, SK_TRAILING_STOP,
       SK_TRAILING_OFFSET, SK_PLUGIN, SK_COUNT };

typedef struct rl_kv_list {
    cb_rules_kv_t *items;
    size_t n, cap;
} rl_kv_list_t;

struct cb_rules_file {
    rl_arena_t arena;
    char *path;        /* as given: labels diagnostics */
    char *base_dir;
    char *text;
    size_t len;
    rl_value_t skey[SK_COUNT];
    int has_strategy_section;
    long strategy_line;
    char *plugin_path; /* resolved */
    cb_rules_exits_t exits;
    rl_expr_src_t entry_src, exit_src;
    rl_ast_t *entry_ast, *exit_ast;
    cb_rules_param_t *params;
    size_t n_params, cap_params;
    cb_rules_section_t other[RL_N_OTHER_SECTIONS];
    rl_kv_list_t other_items[RL_N_OTHER_SECTIONS];
    int n_errors;
};

/* ---- Diagnostics helpers ---------------------------------------------------------------- */
void rl_error(cb_diags_t *diags, int code, const char *file, long line, int col,
              const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void rl_warning(cb_diags_t *diags, const char *file, long line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
size_t rl_edit_distance(const char *a, const char *b);
/* The closest of `cands` to `name` when close enough (distance <= max(1, len/3)); else NULL. */
const char *rl_closest(const char *name, const char *const *cands, size_t n);

/* Series and reserved names. */
extern const char *const rl_series_names[8];
extern const char *const rl_position_names[3];
int rl_is_reserved(const char *name);

/* Parses "12", "2.5", "5%", "-3" fully. Returns 0 or -1. */
int rl_parse_number(const char *s, double *out);

/* ---- The compiled program --------------------------------------------------------------- */
typedef enum rl_op {
    OP_CONST, OP_SERIES, OP_POS, OP_LAG, OP_TA, OP_PICK,
    OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_NEG,
    OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE,
    OP_AND, OP_OR, OP_NOT,
    OP_XOVER, OP_XUNDER, OP_HIGHEST, OP_LOWEST,
    OP_ABS, OP_SQRT, OP_LOG, OP_MIN, OP_MAX
} rl_op_t;

enum { T_NUM = 0, T_BOOL = 1 };
#define RL_MAX_CLOCKS 8

typedef struct rl_node {
    rl_op_t op;
    int type;
    int clock;               /* 0 = base bars, c >= 1 = higher timeframe c */
    int a, b;                /* children (node indexes), -1 = none */
    double k;                /* constant value, series/position index, lag, window, output */
    const cb_ta_info_t *ta;
    double opts[CB_TA_MAX_OPTS];
    size_t slot;             /* first value slot */
    size_t n_slots;
    size_t state_off, state_size;
    size_t warmup;           /* base bars before the first valid value */
    size_t lookback;         /* TA own lookback */
    signed char in_map_[CB_TA_MAX_INPUTS]; /* TA inputs: -1/-2 = series a/b, 0..4 = column */
} rl_node_t;

/* The evaluation form of a non-constant node: operands as value slots, small and flat. */
typedef struct rl_ins {
    uint8_t op;
    uint8_t clock_bit;       /* 1 << clock */
    uint8_t n_in;            /* TA inputs */
    uint8_t n_out;           /* TA outputs (consecutive slots from out) */
    signed char in_map[CB_TA_MAX_INPUTS];
    uint32_t out, a, b;      /* value slots (a/b unused = 0) */
    uint32_t w;              /* lag / window / output index / series or position index */
    uint32_t node;           /* the node it evaluates */
    size_t state_off;
    cb_ta_stream_update_fn upd;
    cb_ta_stream_run_fn run;  /* the same indicator over a chunk of bars (whole-history path) */
} rl_ins_t;

typedef struct rl_clock {
    cb_timeframe_t tf;
} rl_clock_t;

struct cb_rules_program {
    rl_node_t *nodes;
    size_t n_nodes;
    size_t n_slots;
    size_t state_size;
    int entry, exit;          /* root nodes (-1 = always false) */
    rl_ins_t *code;           /* the non-constant nodes in evaluation order */
    size_t n_code;
    size_t entry_slot, exit_slot;
    struct {
        size_t slot;
        int src; /* 0..7: this bar's series value; 8..10: position state */
    } inputs[11];            /* base series and position values written before each run */
    size_t n_inputs;
    rl_clock_t clocks[RL_MAX_CLOCKS];
    int n_clocks;             /* including the base clock 0 */
    int64_t file_tf_ms;
    cb_rules_indicator_t *inds;
    size_t n_inds;
    size_t warmup;
    int uses_position;
};

/* Compiles one expression tree into the program under construction (internal). */
int rl_compile(const cb_rules_file_t *f, const double *values, cb_rules_program_t **out,
               cb_diags_t *diags, int mark_used);

/* highest/lowest over the last w values in O(1) amortised: a monotonic deque of (index, value)
 * in caller memory of rl_window_size(w) bytes. NaN while fewer than w values were seen or
 * while a NaN is inside the window. */
size_t rl_window_size(size_t w);
void rl_window_init(void *st, size_t w);
double rl_window_push(void *st, size_t w, double x, int highest);

/* ---- Shared indicator columns (cache.c) ---------------------------------------------- */
typedef struct rl_centry rl_centry_t;
#define RL_KEY_MAX 512
/* The cache key of node i (an indicator, a pick of one, or a base price series), written to
 * buf: its text with option values as exact bits. Returns its length, or 0 when the node's
 * value is not a function of the base bars alone (higher timeframe, other operators) or the
 * key does not fit. */
size_t rl_node_key(const cb_rules_program_t *p, int i, char *buf, size_t size);
/* Pins the output columns of indicator node i over `bars` (computing them, or waiting for the
 * thread that does). Returns 0 or CB_ENOMEM. */
int rl_cache_acquire(cb_rules_cache_t *c, const cb_rules_program_t *p, int i,
                     const cb_bar_view_t *bars, rl_centry_t **out);
/* Output k's column (bars->n values). */
const double *rl_centry_column(const rl_centry_t *e, int k);
void rl_cache_release(cb_rules_cache_t *c, rl_centry_t *e);
/* 1 when the times of this history (bars->time_ms, bars->n: unchanged while the cache is used)
 * were found increasing before; rl_cache_times_checked records that they were. Every run of
 * a sweep reads the same history: one check is enough. */
int rl_cache_times_increase(cb_rules_cache_t *c, const cb_bar_view_t *bars);
void rl_cache_times_checked(cb_rules_cache_t *c, const cb_bar_view_t *bars);

/* The shared columns of every shareable indicator of a program over one history:
 * cols[q * CB_TA_MAX_OUTPUTS + k] for instruction q (NULL when not shared), pinned until
 * rl_cache_unbind. */
typedef struct rl_binding {
    const double **cols;
    rl_centry_t **pins;
    const int64_t *hist;
    size_t n;
} rl_binding_t;
int rl_cache_bind(const cb_rules_program_t *p, cb_rules_cache_t *cache,
                  const cb_bar_view_t *bars, rl_binding_t *out);
void rl_cache_unbind(const cb_rules_program_t *p, cb_rules_cache_t *cache, rl_binding_t *b);
/* Makes an instance read its base-clock indicators from the binding (NULL: compute them):
 * its k-th step reads bar k - 1 of the columns, so it must start at the history's first bar. */
void rl_instance_bind(cb_rules_instance_t *inst, const rl_binding_t *b);

/* The current value of node i (tests and tools). */
double rl_instance_value(const cb_rules_instance_t *inst, int i);

#endif
