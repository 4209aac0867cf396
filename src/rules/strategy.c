/* The engine's door: a compiled rules program or a dlopen'd C plug-in, both presented as
 * cb_strategy_v1_t. */
#include "rules/rules_int.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cb_rules_strategy {
    cb_rules_program_t *prog;   /* rules */
    void *dl;                   /* plug-in */
    const cb_strategy_v1_t *vt;
    char path[1024];
    char **names;
    double *values;
    size_t n_params;
};

/* ---- rules behind cb_strategy_v1_t ------------------------------------------------------ */

typedef struct rules_self {
    cb_rules_instance_t *inst;
    size_t seen;
    size_t warmup;
} rules_self_t;

static void *rules_init(const char *const *names, const double *values, size_t n, char *err,
                        size_t err_size)
{
    (void)names;
    (void)values;
    (void)n;
    if (err && err_size)
        snprintf(err, err_size, "a rules strategy is instantiated with "
                                "cb_rules_strategy_instance()");
    return NULL;
}

static size_t rules_warmup(void *self) { return ((rules_self_t *)self)->warmup; }

static int rules_on_bar(void *self, const cb_bar_view_t *bars, const cb_position_view_t *pos,
                        cb_decision_t *out)
{
    rules_self_t *s = self;
    memset(out, 0, sizeof *out);
    if (bars->n <= s->seen)
        return CB_ESTATE; /* a bar already seen: time cannot go back */
    int entry, exit_;
    /* Bars the instance has not seen yet before the newest one are history: catch up on them
     * (their decisions are gone), so a caller may start at any bar. */
    while (s->seen + 1 < bars->n) {
        size_t j = s->seen;
        int r = cb_rules_instance_step(s->inst, bars->time_ms[j], bars->open[j], bars->high[j],
                                       bars->low[j], bars->close[j], bars->volume[j], NULL,
                                       &entry, &exit_);
        if (r != 0)
            return r;
        s->seen++;
    }
    size_t i = bars->n - 1;
    int r = cb_rules_instance_step(s->inst, bars->time_ms[i], bars->open[i], bars->high[i],
                                   bars->low[i], bars->close[i], bars->volume[i], pos, &entry,
                                   &exit_);
    if (r != 0)
        return r;
    s->seen++;
    out->enter = entry;
    out->exit = exit_;
    return 0;
}

static void rules_destroy(void *self)
{
    rules_self_t *s = self;
    if (!s)
        return;
    cb_rules_instance_free(s->inst);
    free(s);
}

static const cb_strategy_v1_t rules_vt = {
    CB_STRATEGY_ABI_VERSION, "rules", rules_init, rules_warmup, rules_on_bar, rules_destroy};

/* ---- rules replayed from signals computed over the whole history ------------------------ */

typedef struct replay_self {
    rules_self_t base;          /* warmup; inst and seen once it falls back */
    const cb_rules_program_t *prog;
    int64_t base_tf_ms;
    const int64_t *hist;        /* the history the signals were computed on */
    size_t n;
    size_t seen;
    uint8_t *entry, *exit;
} replay_self_t;

static size_t replay_warmup(void *self) { return ((replay_self_t *)self)->base.warmup; }

static int replay_on_bar(void *self, const cb_bar_view_t *bars, const cb_position_view_t *pos,
                         cb_decision_t *out)
{
    replay_self_t *s = self;
    if (!s->base.inst && (bars->time_ms != s->hist || bars->n > s->n)) {
        /* not the history the signals were computed on: evaluate bar by bar from here on
         * (the instance catches up on the bars before this one) */
        int r = cb_rules_instance_new(s->prog, s->base_tf_ms, &s->base.inst, NULL);
        if (r != 0)
            return r;
        s->base.seen = 0;
    }
    if (s->base.inst)
        return rules_on_bar(&s->base, bars, pos, out);
    memset(out, 0, sizeof *out);
    if (bars->n <= s->seen)
        return CB_ESTATE; /* a bar already seen: time cannot go back */
    s->seen = bars->n;
    out->enter = s->entry[bars->n - 1];
    out->exit = s->exit[bars->n - 1];
    return 0;
}

static void replay_destroy(void *self)
{
    replay_self_t *s = self;
    if (!s)
        return;
    cb_rules_instance_free(s->base.inst);
    free(s->entry);
    free(s);
}

static const cb_strategy_v1_t replay_vt = {
    CB_STRATEGY_ABI_VERSION, "rules", rules_init, replay_warmup, replay_on_bar, replay_destroy};

int cb_rules_strategy_signals(const cb_strategy_v1_t *vt, const void *self,
                              const cb_bar_view_t *history, const uint8_t **entry,
                              const uint8_t **exit)
{
    const replay_self_t *s = self;
    if (vt != &replay_vt || !s || s->base.inst || s->hist != history->time_ms ||
        s->n != history->n)
        return 0;
    *entry = s->entry;
    *exit = s->exit;
    return 1;
}

/* ---- construction ----------------------------------------------------------------------- */

void cb_rules_strategy_free(cb_rules_strategy_t *s)
{
    if (!s)
        return;
    cb_rules_program_free(s->prog);
    if (s->names)
        for (size_t i = 0; i < s->n_params; i++)
            free(s->names[i]);
    free(s->names);
    free(s->values);
    if (s->dl)
        dlclose(s->dl);
    free(s);
}

int cb_rules_plugin_load(const char *path, cb_rules_strategy_t **out, cb_diag_t *diag)
{
    *out = NULL;
    cb_rules_strategy_t *s = calloc(1, sizeof *s);
    if (!s)
        return CB_ENOMEM;
    snprintf(s->path, sizeof s->path, "%s", path);
    /* dlopen searches the library path for names without '/': make relative paths explicit */
    char full[1100];
    if (!strchr(path, '/'))
        snprintf(full, sizeof full, "./%s", path);
    else
        snprintf(full, sizeof full, "%s", path);
    dlerror();
    s->dl = dlopen(full, RTLD_NOW | RTLD_LOCAL);
    if (!s->dl) {
        const char *e = dlerror();
        if (!e)
            e = "unknown error";
        /* dlerror starts with the path: do not say it twice */
        size_t fl = strlen(full);
        if (strncmp(e, full, fl) == 0 && e[fl] == ':' && e[fl + 1] == ' ')
            e += fl + 2;
        char msg[512];
        snprintf(msg, sizeof msg, "%s", e);
        cb_rules_strategy_free(s);
        return cb_diag_set(diag, CB_ENOENT, path, 0, 0, "plugin", "cannot load the plug-in: %s",
                           msg);
    }
    dlerror();
    void *sym = dlsym(s->dl, CB_STRATEGY_ENTRY_SYMBOL);
    if (!sym) {
        cb_rules_strategy_free(s);
        return cb_diag_set(diag, CB_ENOENT, path, 0, 0, "plugin",
                           "the plug-in does not export '%s' (see docs/plugins.md)",
                           CB_STRATEGY_ENTRY_SYMBOL);
    }
    cb_strategy_entry_fn entry;
    memcpy(&entry, &sym, sizeof entry); /* object to function pointer, as POSIX allows */
    const cb_strategy_v1_t *vt = entry();
    if (!vt) {
        cb_rules_strategy_free(s);
        return cb_diag_set(diag, CB_EINVAL, path, 0, 0, "plugin",
                           "%s() returned NULL", CB_STRATEGY_ENTRY_SYMBOL);
    }
    if (vt->abi_version != CB_STRATEGY_ABI_VERSION) {
        unsigned got = vt->abi_version;
        cb_rules_strategy_free(s);
        return cb_diag_set(diag, CB_EUNSUPPORTED, path, 0, 0, "plugin",
                           "ABI version mismatch: the plug-in was built for version %u, this "
                           "comeback loads version %u; rebuild it against "
                           "include/comeback/strategy.h",
                           got, CB_STRATEGY_ABI_VERSION);
    }
    if (!vt->init || !vt->on_bar || !vt->destroy) {
        cb_rules_strategy_free(s);
        return cb_diag_set(diag, CB_EINVAL, path, 0, 0, "plugin",
                           "the plug-in's table lacks init, on_bar or destroy");
    }
    s->vt = vt;
    *out = s;
    return 0;
}

int cb_rules_strategy_new(const cb_rules_file_t *f, const double *values,
                          cb_rules_strategy_t **out, cb_diags_t *diags)
{
    *out = NULL;
    if (f->n_errors)
        return CB_EVALID;
    if (f->plugin_path) {
        cb_diag_t d;
        cb_diag_clear(&d);
        cb_rules_strategy_t *s = NULL;
        int r = cb_rules_plugin_load(f->plugin_path, &s, &d);
        if (r != 0) {
            /* point at the plugin line of the strategy file */
            cb_diag_t e;
            cb_diag_set(&e, r, f->path, f->skey[SK_PLUGIN].line, f->skey[SK_PLUGIN].col,
                        "error", "%s: %s", f->plugin_path, d.msg);
            if (diags)
                cb_diags_add(diags, &e);
            return r;
        }
        s->n_params = f->n_params;
        if (f->n_params) {
            s->names = calloc(f->n_params, sizeof *s->names);
            s->values = calloc(f->n_params, sizeof *s->values);
            if (!s->names || !s->values) {
                cb_rules_strategy_free(s);
                return CB_ENOMEM;
            }
            for (size_t i = 0; i < f->n_params; i++) {
                size_t n = strlen(f->params[i].name) + 1;
                s->names[i] = malloc(n);
                if (!s->names[i]) {
                    cb_rules_strategy_free(s);
                    return CB_ENOMEM;
                }
                memcpy(s->names[i], f->params[i].name, n);
                s->values[i] = values ? values[i] : f->params[i].value;
            }
        }
        *out = s;
        return 0;
    }
    cb_rules_strategy_t *s = calloc(1, sizeof *s);
    if (!s)
        return CB_ENOMEM;
    int r = cb_rules_compile(f, values, &s->prog, diags);
    if (r != 0) {
        free(s);
        return r;
    }
    s->vt = &rules_vt;
    *out = s;
    return 0;
}

int cb_rules_strategy_is_plugin(const cb_rules_strategy_t *s) { return s->prog == NULL; }
const cb_rules_program_t *cb_rules_strategy_program(const cb_rules_strategy_t *s)
{
    return s->prog;
}

int cb_rules_strategy_instance(const cb_rules_strategy_t *s, int64_t base_tf_ms,
                               const cb_strategy_v1_t **vt, void **self, cb_diag_t *diag)
{
    *vt = NULL;
    *self = NULL;
    if (s->prog) {
        rules_self_t *rs = calloc(1, sizeof *rs);
        if (!rs)
            return CB_ENOMEM;
        int r = cb_rules_instance_new(s->prog, base_tf_ms, &rs->inst, diag);
        if (r != 0) {
            free(rs);
            return r;
        }
        rs->warmup = s->prog->warmup;
        *vt = &rules_vt;
        *self = rs;
        return 0;
    }
    char err[256] = "";
    void *inst = s->vt->init((const char *const *)s->names, s->values, s->n_params, err,
                             sizeof err);
    if (!inst)
        return cb_diag_set(diag, CB_EINVAL, s->path, 0, 0, "plugin", "init failed: %s",
                           err[0] ? err : "no reason given");
    *vt = s->vt;
    *self = inst;
    return 0;
}

/* ---- rules evaluated bar by bar, reading shared indicator columns ------------------------ */

typedef struct bound_self {
    rules_self_t base;
    const cb_rules_program_t *prog;
    cb_rules_cache_t *cache;
    rl_binding_t b;
    int started;
} bound_self_t;

static int bound_on_bar(void *self, const cb_bar_view_t *bars, const cb_position_view_t *pos,
                        cb_decision_t *out)
{
    bound_self_t *s = self;
    if (!s->started) {
        s->started = 1;
        if (bars->time_ms != s->b.hist) /* not the history: compute the indicators here */
            rl_instance_bind(s->base.inst, NULL);
    }
    if (bars->n > s->b.n && bars->time_ms == s->b.hist)
        return CB_ESTATE; /* more bars than the shared columns hold */
    return rules_on_bar(&s->base, bars, pos, out);
}

static void bound_destroy(void *self)
{
    bound_self_t *s = self;
    if (!s)
        return;
    rl_cache_unbind(s->prog, s->cache, &s->b);
    cb_rules_instance_free(s->base.inst);
    free(s);
}

static const cb_strategy_v1_t bound_vt = {
    CB_STRATEGY_ABI_VERSION, "rules", rules_init, rules_warmup, bound_on_bar, bound_destroy};

static int bound_instance(const cb_rules_strategy_t *s, int64_t base_tf_ms,
                          cb_rules_cache_t *cache, const cb_bar_view_t *history,
                          const cb_strategy_v1_t **vt, void **self, cb_diag_t *diag)
{
    bound_self_t *bs = calloc(1, sizeof *bs);
    if (!bs)
        return CB_ENOMEM;
    bs->prog = s->prog;
    bs->cache = cache;
    bs->base.warmup = s->prog->warmup;
    int r = cb_rules_instance_new(s->prog, base_tf_ms, &bs->base.inst, diag);
    if (r == 0)
        r = rl_cache_bind(s->prog, cache, history, &bs->b);
    if (r != 0) {
        cb_rules_instance_free(bs->base.inst);
        free(bs);
        return r;
    }
    rl_instance_bind(bs->base.inst, &bs->b);
    *vt = &bound_vt;
    *self = bs;
    return 0;
}

int cb_rules_strategy_instance_shared(const cb_rules_strategy_t *s, int64_t base_tf_ms,
                                      cb_rules_cache_t *cache, const cb_bar_view_t *history,
                                      const cb_strategy_v1_t **vt, void **self,
                                      cb_diag_t *diag)
{
    if (!s->prog || (!cache && s->prog->uses_position))
        return cb_rules_strategy_instance(s, base_tf_ms, vt, self, diag);
    if (s->prog->uses_position || (cache && s->prog->n_clocks > 1)) {
        *vt = NULL;
        *self = NULL;
        return bound_instance(s, base_tf_ms, cache, history, vt, self, diag);
    }
    *vt = NULL;
    *self = NULL;
    replay_self_t *rs = calloc(1, sizeof *rs);
    uint8_t *sig = malloc(2 * (history->n ? history->n : 1));
    if (!rs || !sig) {
        free(rs);
        free(sig);
        return CB_ENOMEM;
    }
    rs->prog = s->prog;
    rs->base_tf_ms = base_tf_ms;
    rs->base.warmup = s->prog->warmup;
    rs->hist = history->time_ms;
    rs->n = history->n;
    rs->entry = sig;
    rs->exit = sig + history->n;
    int r = cb_rules_program_signals_shared(s->prog, history, base_tf_ms, cache, rs->entry,
                                            rs->exit, diag);
    if (r != 0) {
        replay_destroy(rs);
        /* bad times: let the bar-by-bar instance fail where it would have */
        return r == CB_EINVAL ? cb_rules_strategy_instance(s, base_tf_ms, vt, self, diag) : r;
    }
    *vt = &replay_vt;
    *self = rs;
    return 0;
}
