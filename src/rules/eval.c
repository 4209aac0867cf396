/* Evaluation of a compiled rules program, one closed bar at a time, without allocation.
 * Higher timeframes are built here from the base bars as they arrive: a higher candle becomes
 * visible on the base bar that completes it (its last base bar has closed), or, when that bar
 * is missing from the data, on the first bar of a later candle. */
#include "rules/rules_int.h"

#include "core/vec2_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct agg {
    int64_t bucket;        /* open time of the candle being built */
    int building;
    double o, h, l, c, v;  /* the candle being built */
    double done[9];        /* the last completed candle: open..ohlc4, then its open time */
} agg_t;

struct cb_rules_instance {
    const cb_rules_program_t *p;
    int64_t base_ms;
    int64_t last_t;
    size_t bars;
    double *v;              /* value slots */
    unsigned char *state;
    double posv[3];         /* position state (NaN when flat) */
    double bar[6];          /* this base bar's columns, then its open time in ms */
    const double *const *shared; /* per instruction: shared indicator columns, or NULL */
    size_t shared_n;        /* their length (bars of the history) */
    agg_t agg[RL_MAX_CLOCKS];
};

static void series_values(double o, double h, double l, double c, double v, double *out)
{
    out[0] = o;
    out[1] = h;
    out[2] = l;
    out[3] = c;
    out[4] = v;
    out[5] = (h + l) / 2.0;
    out[6] = (h + l + c) / 3.0;
    out[7] = (o + h + l + c) / 4.0;
}

void cb_rules_instance_reset(cb_rules_instance_t *inst)
{
    const cb_rules_program_t *p = inst->p;
    inst->last_t = INT64_MIN;
    inst->bars = 0;
    for (size_t i = 0; i < p->n_slots; i++)
        inst->v[i] = NAN;
    for (int k = 0; k < RL_MAX_CLOCKS; k++) {
        memset(&inst->agg[k], 0, sizeof inst->agg[k]);
        for (int j = 0; j < 9; j++)
            inst->agg[k].done[j] = NAN;
    }
    for (size_t i = 0; i < p->n_nodes; i++) {
        const rl_node_t *n = &p->nodes[i];
        unsigned char *st = inst->state + n->state_off;
        switch (n->op) {
        case OP_CONST: inst->v[n->slot] = n->k; break;
        case OP_HIGHEST:
        case OP_LOWEST: rl_window_init(st, (size_t)n->k); break;
        case OP_LAG: {
            size_t *pos = (size_t *)(void *)st;
            double *ring = (double *)(void *)(st + sizeof(size_t));
            *pos = 0;
            /* a past condition before the first bar is false (conditions are never NaN) */
            for (size_t j = 0; j < (size_t)n->k; j++)
                ring[j] = n->type == T_BOOL ? 0.0 : NAN;
            break;
        }
        case OP_XOVER:
        case OP_XUNDER: *(double *)(void *)st = 0; break;
        case OP_TA: cb_ta_stream_init(n->ta, st, n->opts); break;
        default: break;
        }
    }
}

int cb_rules_instance_new(const cb_rules_program_t *p, int64_t base_tf_ms,
                          cb_rules_instance_t **out, cb_diag_t *diag)
{
    *out = NULL;
    int64_t base = base_tf_ms > 0 ? base_tf_ms : p->file_tf_ms;
    if (p->n_clocks > 1) {
        if (base <= 0)
            return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "timeframe",
                               "the rules use a higher timeframe (@%s) but the base timeframe "
                               "is unknown; set [strategy] timeframe",
                               p->clocks[1].tf.name);
        for (int k = 1; k < p->n_clocks; k++) {
            const cb_timeframe_t *tf = &p->clocks[k].tf;
            if (tf->months == 0 && (tf->ms <= base || tf->ms % base != 0))
                return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "timeframe",
                                   "@%s is not a multiple of the %lld ms base bars", tf->name,
                                   (long long)base);
        }
    }
    size_t head = (sizeof(cb_rules_instance_t) + 15) & ~(size_t)15;
    size_t vbytes = ((p->n_slots ? p->n_slots : 1) * sizeof(double) + 15) & ~(size_t)15;
    cb_rules_instance_t *inst = aligned_alloc(16, head + vbytes + ((p->state_size + 15) & ~(size_t)15) + 16);
    if (!inst)
        return CB_ENOMEM;
    memset(inst, 0, sizeof *inst);
    inst->p = p;
    inst->base_ms = base;
    inst->v = (double *)(void *)((unsigned char *)inst + head);
    inst->state = (unsigned char *)inst + head + vbytes;
    cb_rules_instance_reset(inst);
    *out = inst;
    return 0;
}

void cb_rules_instance_free(cb_rules_instance_t *inst) { free(inst); }

static void run(cb_rules_instance_t *inst, unsigned mask)
{
    const cb_rules_program_t *p = inst->p;
    double *v = inst->v;
    const rl_ins_t *ins = p->code, *end = p->code + p->n_code;
    for (; ins < end; ins++) {
        if (!(ins->clock_bit & mask))
            continue;
        double *o = &v[ins->out];
        double a = v[ins->a];
        double b = v[ins->b];
        unsigned char *st = inst->state + ins->state_off;
        switch ((rl_op_t)ins->op) {
        case OP_CONST: break;
        case OP_SERIES:
            /* base-clock series are written by the step; these are higher timeframes */
            *o = inst->agg[__builtin_ctz(ins->clock_bit)].done[ins->w];
            break;
        case OP_POS: *o = inst->posv[ins->w]; break;
        case OP_LAG: {
            size_t *pos = (size_t *)(void *)st;
            double *ring = (double *)(void *)(st + sizeof(size_t));
            *o = ring[*pos];
            ring[*pos] = a;
            if (++*pos == ins->w)
                *pos = 0;
            break;
        }
        case OP_HIGHEST:
        case OP_LOWEST: *o = rl_window_push(st, ins->w, a, ins->op == OP_HIGHEST); break;
        case OP_TA: {
            if (inst->shared && inst->bars <= inst->shared_n) {
                /* a base-clock indicator: bar bars - 1 of its shared column */
                const double *const *col =
                    inst->shared + (size_t)(ins - p->code) * CB_TA_MAX_OUTPUTS;
                if (col[0]) {
                    for (int k = 0; k < ins->n_out; k++)
                        o[k] = col[k][inst->bars - 1];
                    break;
                }
            }
            double in[CB_TA_MAX_INPUTS];
            for (int k = 0; k < ins->n_in; k++) {
                int m = ins->in_map[k];
                if (m == -1)
                    in[k] = a;
                else if (m == -2)
                    in[k] = b;
                else if (ins->clock_bit == 1)
                    in[k] = inst->bar[m];
                else /* fixed columns of the higher-timeframe candle (atr(14)@4h) */
                    in[k] = inst->agg[__builtin_ctz(ins->clock_bit)].done[m == 5 ? 8 : m];
            }
            ins->upd(st, in, o);
            break;
        }
        case OP_PICK: *o = v[ins->a + ins->w]; break;
        case OP_ADD: *o = a + b; break;
        case OP_SUB: *o = a - b; break;
        case OP_MUL: *o = a * b; break;
        case OP_DIV: *o = a / b; break;
        case OP_NEG: *o = -a; break;
        case OP_LT: *o = a < b; break;
        case OP_LE: *o = a <= b; break;
        case OP_GT: *o = a > b; break;
        case OP_GE: *o = a >= b; break;
        case OP_EQ: *o = a == b; break;
        case OP_NE: *o = a < b || a > b; break;
        case OP_AND: *o = a != 0 && b != 0; break;
        case OP_OR: *o = a != 0 || b != 0; break;
        case OP_NOT: *o = a == 0; break;
        case OP_XOVER:
        case OP_XUNDER: {
            /* the sign of the most recent non-zero a - b before this bar (0 = none yet) */
            double *prev = (double *)(void *)st;
            double d = a - b;
            if (isnan(d)) {
                *o = 0;
                *prev = 0;
            } else {
                *o = ins->op == OP_XOVER ? (d > 0 && *prev < 0) : (d < 0 && *prev > 0);
                if (d != 0)
                    *prev = d > 0 ? 1 : -1;
            }
            break;
        }
        case OP_ABS: *o = fabs(a); break;
        case OP_SQRT: *o = sqrt(a); break;
        case OP_LOG: *o = log(a); break;
        case OP_MIN: *o = isnan(a) || isnan(b) ? NAN : (a < b ? a : b); break;
        case OP_MAX: *o = isnan(a) || isnan(b) ? NAN : (a > b ? a : b); break;
        }
    }
}

static void complete(agg_t *g)
{
    series_values(g->o, g->h, g->l, g->c, g->v, g->done);
    g->done[8] = (double)g->bucket;
    g->building = 0;
}

int cb_rules_instance_step(cb_rules_instance_t *inst, int64_t time_ms, double open,
                           double high, double low, double close, double volume,
                           const cb_position_view_t *pos, int *entry, int *exit)
{
    const cb_rules_program_t *p = inst->p;
    *entry = *exit = 0;
    if (inst->bars && time_ms <= inst->last_t)
        return CB_EINVAL;
    inst->last_t = time_ms;
    inst->bars++;
    if (pos && pos->open) {
        inst->posv[0] = (double)pos->bars_held;
        inst->posv[1] = pos->entry_price;
        inst->posv[2] = pos->profit_pct;
    } else {
        inst->posv[0] = inst->posv[1] = inst->posv[2] = NAN;
    }
    unsigned mask = 1u;
    for (int k = 1; k < p->n_clocks; k++) {
        agg_t *g = &inst->agg[k];
        const cb_timeframe_t *tf = &p->clocks[k].tf;
        int64_t bucket = cb_timeframe_floor(tf, time_ms);
        if (g->building && bucket != g->bucket) {
            /* the previous candle lost its last base bars (a gap): it is complete now */
            complete(g);
            run(inst, 1u << k);
        }
        if (!g->building) {
            g->building = 1;
            g->bucket = bucket;
            g->o = open;
            g->h = high;
            g->l = low;
            g->c = close;
            g->v = volume;
        } else {
            if (high > g->h)
                g->h = high;
            if (low < g->l)
                g->l = low;
            g->c = close;
            g->v += volume;
        }
        if (time_ms + inst->base_ms >= cb_timeframe_next(tf, bucket)) {
            complete(g);
            mask |= 1u << k;
        }
    }
    inst->bar[0] = open;
    inst->bar[1] = high;
    inst->bar[2] = low;
    inst->bar[3] = close;
    inst->bar[4] = volume;
    inst->bar[5] = (double)time_ms;
    for (size_t k = 0; k < p->n_inputs; k++) {
        int src = p->inputs[k].src;
        double x;
        switch (src) {
        case 0: x = open; break;
        case 1: x = high; break;
        case 2: x = low; break;
        case 3: x = close; break;
        case 4: x = volume; break;
        case 5: x = (high + low) / 2.0; break;
        case 6: x = (high + low + close) / 3.0; break;
        case 7: x = (open + high + low + close) / 4.0; break;
        default: x = inst->posv[src - 8]; break;
        }
        inst->v[p->inputs[k].slot] = x;
    }
    run(inst, mask);
    if (p->entry >= 0)
        *entry = inst->v[p->entry_slot] != 0;
    if (p->exit >= 0)
        *exit = inst->v[p->exit_slot] != 0;
    return 0;
}

double rl_instance_value(const cb_rules_instance_t *inst, int i)
{
    if (i < 0 || (size_t)i >= inst->p->n_nodes)
        return NAN;
    return inst->v[inst->p->nodes[i].slot];
}

/* ---- Column-wise evaluation over whole history (the backtest fast path) ------------------ */

#define RL_CHUNK 256

/* Two bars at a time with core/vec2_int.h's vectors (a lane's arithmetic is the scalar IEEE
 * operation, so the columns are the scalar loop's bit for bit). A condition is stored as 1.0
 * or 0.0: a comparison's lane mask AND the bits of 1.0. */
static inline cb_v2d v2_cond(cb_v2u m)
{
    const cb_v2u one = {0x3ff0000000000000ull, 0x3ff0000000000000ull};
    return (cb_v2d)(m & one);
}
#define V2_LT(x, y) ((cb_v2u)((x) < (y)))
#define V2_NONZERO(x) ((cb_v2u)((x) != v2_zero))
#define V2_ISNAN(x) ((cb_v2u)((x) != (x)))

/* out[j] = (x[j] != 0) for j < m: a condition column as flags. On the bits: x != 0 (NaN
 * included) exactly when some bit other than the sign is set. Four per step. */
static inline uint8_t flag_of(const double *x)
{
    uint64_t u;
    memcpy(&u, x, sizeof u);
    return (u << 1) != 0;
}
static void flags_of(uint8_t *out, const double *x, size_t m)
{
    size_t j = 0;
    for (; j + 4 <= m; j += 4) {
        out[j] = flag_of(x + j);
        out[j + 1] = flag_of(x + j + 1);
        out[j + 2] = flag_of(x + j + 2);
        out[j + 3] = flag_of(x + j + 3);
    }
    for (; j < m; j++)
        out[j] = flag_of(x + j);
}

/* 1 when some time_ms[i] <= time_ms[i - 1] (the index in *at); four bars per branch */
static int times_out_of_order(const int64_t *t, size_t n, size_t *at)
{
    size_t i = 1;
    for (; i + 4 <= n; i += 4)
        if ((t[i] <= t[i - 1]) | (t[i + 1] <= t[i]) | (t[i + 2] <= t[i + 1]) |
            (t[i + 3] <= t[i + 2]))
            break;
    for (; i < n; i++)
        if (t[i] <= t[i - 1]) {
            *at = i;
            return 1;
        }
    return 0;
}

/* cols: NULL, or per instruction q, cols[q * CB_TA_MAX_OUTPUTS + k] = the whole-history
 * column of output k of an indicator computed elsewhere (NULL: compute it here). cache: where
 * to remember that the bars' times increase (NULL: check them every time). */
static int signals(const cb_rules_program_t *p, const cb_bar_view_t *bars, int64_t base_tf_ms,
                   const double *const *cols_of, cb_rules_cache_t *cache, uint8_t *entry,
                   uint8_t *exit, cb_diag_t *diag)
{
    if (p->uses_position)
        return cb_diag_set(diag, CB_EUNSUPPORTED, NULL, 0, 0, NULL,
                           "the rules use position state (bars_held, entry_price, profit_pct): "
                           "their signals depend on the trades and are evaluated bar by bar");
    cb_rules_instance_t *inst;
    int r = cb_rules_instance_new(p, base_tf_ms, &inst, diag);
    if (r != 0)
        return r;
    size_t n = bars->n;
    if (p->n_clocks > 1) {
        /* higher timeframes tick irregularly: step bar by bar */
        for (size_t i = 0; i < n; i++) {
            int en, ex;
            r = cb_rules_instance_step(inst, bars->time_ms[i], bars->open[i], bars->high[i],
                                       bars->low[i], bars->close[i], bars->volume[i], NULL,
                                       &en, &ex);
            if (r != 0)
                break;
            entry[i] = (uint8_t)en;
            exit[i] = (uint8_t)ex;
        }
        cb_rules_instance_free(inst);
        return r;
    }
    size_t bad_at;
    if (!(cache && rl_cache_times_increase(cache, bars))) {
        if (times_out_of_order(bars->time_ms, n, &bad_at)) {
            cb_rules_instance_free(inst);
            return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, NULL,
                               "bar %zu: times must increase", bad_at);
        }
        if (cache)
            rl_cache_times_checked(cache, bars);
    }
    /* the time column is converted only when an indicator computed here reads it */
    int need_time = 0;
    for (size_t q = 0; q < p->n_code; q++)
        if (p->code[q].op == OP_TA && !(cols_of && cols_of[q * CB_TA_MAX_OUTPUTS]))
            for (int k = 0; k < p->code[q].n_in; k++)
                need_time |= p->code[q].in_map[k] == 5;
    size_t ns = p->n_slots ? p->n_slots : 1;
    double *buf = malloc(ns * RL_CHUNK * sizeof *buf);
    double *times = need_time ? malloc(RL_CHUNK * sizeof *times) : NULL;
    /* where each slot's values of this chunk are read: its own buffer, or the bars and shared
     * columns in place (no copy) */
    const double **rd = malloc(ns * sizeof *rd);
    if (!buf || (need_time && !times) || !rd) {
        free(buf);
        free(times);
        free((void *)rd);
        cb_rules_instance_free(inst);
        return CB_ENOMEM;
    }
    /* constants: their columns never change */
    for (size_t i = 0; i < p->n_nodes; i++)
        if (p->nodes[i].op == OP_CONST)
            for (size_t j = 0; j < RL_CHUNK; j++)
                buf[p->nodes[i].slot * RL_CHUNK + j] = p->nodes[i].k;
    const cb_v2d v2_zero = {0.0, 0.0}, v2_nan = {NAN, NAN};
    const cb_v2u v2_nosign = {~(1ull << 63), ~(1ull << 63)};
    for (size_t s0 = 0; s0 < n; s0 += RL_CHUNK) {
        size_t m = n - s0 < RL_CHUNK ? n - s0 : RL_CHUNK;
        const double *O = bars->open + s0, *H = bars->high + s0, *L = bars->low + s0,
                     *C = bars->close + s0, *V = bars->volume + s0;
        for (size_t j = 0; need_time && j < m; j++)
            times[j] = (double)bars->time_ms[s0 + j];
        const double *cols[6] = {O, H, L, C, V, times};
        for (size_t k = 0; k < ns; k++)
            rd[k] = buf + k * RL_CHUNK;
        for (size_t q = 0; cols_of && q < p->n_code; q++)
            for (size_t k = 0; cols_of[q * CB_TA_MAX_OUTPUTS] && k < p->code[q].n_out; k++)
                rd[p->code[q].out + k] = cols_of[q * CB_TA_MAX_OUTPUTS + k] + s0;
        for (size_t k = 0; k < p->n_inputs; k++) {
            double *o = buf + p->inputs[k].slot * RL_CHUNK;
            int src = p->inputs[k].src;
            size_t j;
            switch (src) {
            case 5:
                for (j = 0; j < m; j++)
                    o[j] = (H[j] + L[j]) / 2.0;
                break;
            case 6:
                for (j = 0; j < m; j++)
                    o[j] = (H[j] + L[j] + C[j]) / 3.0;
                break;
            case 7:
                for (j = 0; j < m; j++)
                    o[j] = (O[j] + H[j] + L[j] + C[j]) / 4.0;
                break;
            default: rd[p->inputs[k].slot] = cols[src]; break;
            }
        }
        for (size_t q = 0; q < p->n_code; q++) {
            const rl_ins_t *ins = &p->code[q];
            double *o = buf + (size_t)ins->out * RL_CHUNK;
            const double *a = rd[ins->a];
            const double *b = rd[ins->b];
            unsigned char *st = inst->state + ins->state_off;
            size_t j;
/* o[j] = f(a[j], b[j]) for j < m: VEC on pairs of lanes (x, y: cb_v2d), then SCALAR on an odd
 * last bar (x, y: double); the same operations, so the same bits */
#define RL_ZIP(VEC, SCALAR)                                                                  \
    do {                                                                                     \
        for (j = 0; j + 2 <= m; j += 2) {                                                    \
            cb_v2d x = cb_v2d_load(a + j), y = cb_v2d_load(b + j);                                       \
            (void)y;                                                                         \
            cb_v2d_store(o + j, VEC);                                                               \
        }                                                                                    \
        if (j < m) {                                                                         \
            double x = a[j], y = b[j];                                                       \
            (void)y;                                                                         \
            o[j] = SCALAR;                                                                   \
        }                                                                                    \
    } while (0)
            switch ((rl_op_t)ins->op) {
            case OP_CONST:
            case OP_SERIES:
            case OP_POS: break;
            case OP_LAG: {
                size_t *pos = (size_t *)(void *)st;
                double *ring = (double *)(void *)(st + sizeof(size_t));
                for (j = 0; j < m; j++) {
                    double x = a[j];
                    o[j] = ring[*pos];
                    ring[*pos] = x;
                    if (++*pos == ins->w)
                        *pos = 0;
                }
                break;
            }
            case OP_HIGHEST:
            case OP_LOWEST: {
                int hi = ins->op == OP_HIGHEST;
                for (j = 0; j < m; j++)
                    o[j] = rl_window_push(st, ins->w, a[j], hi);
                break;
            }
            case OP_TA: {
                if (cols_of && cols_of[q * CB_TA_MAX_OUTPUTS])
                    break; /* read in place */
                const rl_ins_t *nx = q + 1 < p->n_code ? &p->code[q + 1] : NULL;
                if (nx && nx->op == OP_TA && nx->run == ins->run && ins->n_in == 1 &&
                    ins->n_out == 1 && ins->in_map[0] == -1 && nx->n_in == 1 &&
                    nx->n_out == 1 && nx->in_map[0] == -1 && nx->a == ins->a &&
                    !(cols_of && cols_of[(q + 1) * CB_TA_MAX_OUTPUTS])) {
                    /* the same indicator of the same column next (a fast and a slow
                     * average): both side by side, their chains overlapping; the next
                     * instruction is done here */
                    cb_ta_stream_run_pair(p->nodes[ins->node].ta, st,
                                          inst->state + nx->state_off, m, a, o,
                                          buf + (size_t)nx->out * RL_CHUNK);
                    q++;
                    break;
                }
                /* the chunk's columns straight through the indicator's chunked stream */
                const double *in[CB_TA_MAX_INPUTS];
                double *out[CB_TA_MAX_OUTPUTS];
                for (int k = 0; k < ins->n_in; k++) {
                    int mm = ins->in_map[k];
                    in[k] = mm == -1 ? a : mm == -2 ? b : cols[mm];
                }
                for (size_t k = 0; k < ins->n_out; k++)
                    out[k] = o + k * RL_CHUNK;
                ins->run(st, m, in, out);
                break;
            }
            case OP_PICK: memcpy(o, rd[ins->a + ins->w], m * sizeof *o); break;
            case OP_ADD: RL_ZIP(x + y, x + y); break;
            case OP_SUB: RL_ZIP(x - y, x - y); break;
            case OP_MUL: RL_ZIP(x * y, x * y); break;
            case OP_DIV: RL_ZIP(x / y, x / y); break;
            case OP_NEG: RL_ZIP(-x, -x); break;
            case OP_LT: RL_ZIP(v2_cond(V2_LT(x, y)), x < y); break;
            case OP_LE: RL_ZIP(v2_cond((cb_v2u)(x <= y)), x <= y); break;
            case OP_GT: RL_ZIP(v2_cond(V2_LT(y, x)), x > y); break;
            case OP_GE: RL_ZIP(v2_cond((cb_v2u)(x >= y)), x >= y); break;
            case OP_EQ: RL_ZIP(v2_cond((cb_v2u)(x == y)), x == y); break;
            case OP_NE: RL_ZIP(v2_cond(V2_LT(x, y) | V2_LT(y, x)), x < y || x > y); break;
            case OP_AND:
                RL_ZIP(v2_cond(V2_NONZERO(x) & V2_NONZERO(y)), x != 0 && y != 0);
                break;
            case OP_OR:
                RL_ZIP(v2_cond(V2_NONZERO(x) | V2_NONZERO(y)), x != 0 || y != 0);
                break;
            case OP_NOT: RL_ZIP(v2_cond(~V2_NONZERO(x)), x == 0); break;
            case OP_XOVER:
            case OP_XUNDER: {
                /* crossunder(a, b) is crossover(b, a): b - a is exactly -(a - b). A crossing
                 * of x over y needs only `neg`: the most recent non-zero x - y before the bar
                 * was negative (a NaN clears it, a zero keeps it). Two bars per step without
                 * a branch: bar j's neg is the incoming one, bar j+1's is bar j's outcome. The
                 * state holds -1 (neg) or 0 in run()'s orientation (the sign of a - b), which
                 * is all the next chunk needs. */
                int over = ins->op == OP_XOVER;
                const double *x = over ? a : b, *y = over ? b : a;
                double *ps = (double *)(void *)st;
                uint64_t n0 = (over ? *ps < 0 : *ps > 0) ? ~0ull : 0;
                cb_v2u neg = {n0, n0};
                for (j = 0; j + 2 <= m; j += 2) {
                    cb_v2d d = cb_v2d_load(x + j) - cb_v2d_load(y + j);
                    cb_v2u up = V2_LT(v2_zero, d), down = V2_LT(d, v2_zero);
                    cb_v2u keep = (cb_v2u)(d == v2_zero);
                    cb_v2u first = down | (keep & neg);       /* lane 0: neg after bar j */
                    cb_v2u before = {neg[0], first[0]};       /* neg before each bar */
                    cb_v2d_store(o + j, v2_cond(up & before));
                    cb_v2u after = down | (keep & before);    /* lane 1: neg after bar j+1 */
                    neg = (cb_v2u){after[1], after[1]};
                }
                if (j < m) {
                    double d = x[j] - y[j];
                    o[j] = d > 0 && neg[0];
                    if (!(d == 0))
                        neg[0] = d < 0 ? ~0ull : 0;
                }
                *ps = neg[0] ? (over ? -1.0 : 1.0) : 0.0;
                break;
            }
            case OP_ABS: RL_ZIP((cb_v2d)((cb_v2u)x & v2_nosign), fabs(x)); break; /* fabs too */
            case OP_SQRT: for (j = 0; j < m; j++) o[j] = sqrt(a[j]); break;
            case OP_LOG: for (j = 0; j < m; j++) o[j] = log(a[j]); break;
            case OP_MIN:
                RL_ZIP(cb_v2_sel(V2_ISNAN(x) | V2_ISNAN(y), v2_nan, cb_v2_sel(V2_LT(x, y), x, y)),
                       isnan(x) || isnan(y) ? NAN : (x < y ? x : y));
                break;
            case OP_MAX:
                RL_ZIP(cb_v2_sel(V2_ISNAN(x) | V2_ISNAN(y), v2_nan, cb_v2_sel(V2_LT(y, x), x, y)),
                       isnan(x) || isnan(y) ? NAN : (x > y ? x : y));
                break;
            }
#undef RL_ZIP
        }
        if (p->entry >= 0)
            flags_of(entry + s0, rd[p->entry_slot], m);
        else
            memset(entry + s0, 0, m);
        if (p->exit >= 0)
            flags_of(exit + s0, rd[p->exit_slot], m);
        else
            memset(exit + s0, 0, m);
    }
    free(buf);
    free(times);
    free((void *)rd);
    cb_rules_instance_free(inst);
    return 0;
}

int cb_rules_program_signals(const cb_rules_program_t *p, const cb_bar_view_t *bars,
                             int64_t base_tf_ms, uint8_t *entry, uint8_t *exit,
                             cb_diag_t *diag)
{
    return signals(p, bars, base_tf_ms, NULL, NULL, entry, exit, diag);
}

int rl_cache_bind(const cb_rules_program_t *p, cb_rules_cache_t *cache,
                  const cb_bar_view_t *bars, rl_binding_t *out)
{
    out->cols = calloc(p->n_code ? p->n_code * CB_TA_MAX_OUTPUTS : 1, sizeof *out->cols);
    out->pins = calloc(p->n_code ? p->n_code : 1, sizeof *out->pins);
    out->n = bars->n;
    out->hist = bars->time_ms;
    int rc = out->cols && out->pins ? 0 : CB_ENOMEM;
    char key[RL_KEY_MAX];
    for (size_t q = 0; q < p->n_code && !rc; q++) {
        const rl_ins_t *ins = &p->code[q];
        if (ins->op != OP_TA || rl_node_key(p, (int)ins->node, key, sizeof key) == 0)
            continue;
        if ((rc = rl_cache_acquire(cache, p, (int)ins->node, bars, &out->pins[q])) != 0)
            break;
        for (int k = 0; k < ins->n_out; k++)
            out->cols[q * CB_TA_MAX_OUTPUTS + (size_t)k] = rl_centry_column(out->pins[q], k);
    }
    if (rc)
        rl_cache_unbind(p, cache, out);
    return rc;
}

void rl_cache_unbind(const cb_rules_program_t *p, cb_rules_cache_t *cache, rl_binding_t *b)
{
    for (size_t q = 0; b->pins && q < p->n_code; q++)
        rl_cache_release(cache, b->pins[q]);
    free(b->pins);
    free((void *)b->cols);
    b->pins = NULL;
    b->cols = NULL;
}

void rl_instance_bind(cb_rules_instance_t *inst, const rl_binding_t *b)
{
    inst->shared = b ? b->cols : NULL;
    inst->shared_n = b ? b->n : 0;
}

int cb_rules_program_signals_shared(const cb_rules_program_t *p, const cb_bar_view_t *bars,
                                    int64_t base_tf_ms, cb_rules_cache_t *cache,
                                    uint8_t *entry, uint8_t *exit, cb_diag_t *diag)
{
    if (!cache || p->n_clocks > 1 || p->uses_position || p->n_code == 0)
        return signals(p, bars, base_tf_ms, NULL, NULL, entry, exit, diag);
    rl_binding_t b;
    int rc = rl_cache_bind(p, cache, bars, &b);
    if (rc)
        return rc;
    rc = signals(p, bars, base_tf_ms, b.cols, cache, entry, exit, diag);
    rl_cache_unbind(p, cache, &b);
    return rc;
}

/* ---- highest/lowest: a monotonic deque ---------------------------------------------------- */

typedef struct rl_window {
    size_t count;    /* values pushed */
    size_t last_nan; /* index + 1 of the last NaN pushed, 0 = none */
    size_t head, len;
    /* then idx[w] (size_t) and val[w] (double): a circular deque, oldest first */
} rl_window_t;

size_t rl_window_size(size_t w)
{
    return sizeof(rl_window_t) + w * (sizeof(size_t) + sizeof(double));
}

void rl_window_init(void *st, size_t w)
{
    (void)w;
    memset(st, 0, sizeof(rl_window_t));
}

double rl_window_push(void *st, size_t w, double x, int highest)
{
    rl_window_t *q = st;
    size_t *idx = (size_t *)(void *)(q + 1);
    double *val = (double *)(void *)(idx + w);
    size_t i = q->count++;
    /* drop what left the window [i - w + 1, i] from the front (first, so that there is room) */
    while (q->len && idx[q->head] + w <= i) {
        q->head = (q->head + 1) % w;
        q->len--;
    }
    if (isnan(x)) {
        q->last_nan = i + 1;
    } else {
        /* drop the values x dominates from the back */
        while (q->len) {
            size_t b = (q->head + q->len - 1) % w;
            if (highest ? val[b] > x : val[b] < x)
                break;
            q->len--;
        }
        size_t t = (q->head + q->len) % w;
        idx[t] = i;
        val[t] = x;
        q->len++;
    }
    if (i + 1 < w || (q->last_nan && q->last_nan - 1 + w > i) || !q->len)
        return NAN;
    return val[q->head];
}
