/* Temporary stubs so that the engine can link against rules.h while the module is built. */
#include "comeback/rules.h"

#include <stddef.h>

int cb_rules_file_load(const char *path, cb_rules_file_t **out, cb_diags_t *diags)
{
    (void)path; (void)diags; *out = NULL; return CB_EUNSUPPORTED;
}
int cb_rules_file_parse(const char *name, const char *text, size_t len, const char *base_dir,
                        cb_rules_file_t **out, cb_diags_t *diags)
{
    (void)name; (void)text; (void)len; (void)base_dir; (void)diags; *out = NULL;
    return CB_EUNSUPPORTED;
}
void cb_rules_file_free(cb_rules_file_t *f) { (void)f; }
const char *cb_rules_file_path(const cb_rules_file_t *f) { (void)f; return NULL; }
const char *cb_rules_file_name(const cb_rules_file_t *f) { (void)f; return NULL; }
const char *cb_rules_file_timeframe(const cb_rules_file_t *f) { (void)f; return NULL; }
const char *cb_rules_file_entry(const cb_rules_file_t *f) { (void)f; return NULL; }
const char *cb_rules_file_exit(const cb_rules_file_t *f) { (void)f; return NULL; }
const char *cb_rules_file_plugin(const cb_rules_file_t *f) { (void)f; return NULL; }
void cb_rules_file_exits(const cb_rules_file_t *f, cb_rules_exits_t *out)
{
    (void)f; out->stoploss = out->take_profit = out->trailing_stop = out->trailing_offset = 0;
}
size_t cb_rules_file_n_params(const cb_rules_file_t *f) { (void)f; return 0; }
const cb_rules_param_t *cb_rules_file_param(const cb_rules_file_t *f, size_t i)
{
    (void)f; (void)i; return NULL;
}
long cb_rules_file_param_index(const cb_rules_file_t *f, const char *name)
{
    (void)f; (void)name; return -1;
}
const cb_rules_section_t *cb_rules_file_section(const cb_rules_file_t *f, const char *name)
{
    (void)f; (void)name; return NULL;
}
size_t cb_rules_render_diag(const cb_rules_file_t *f, const cb_diag_t *d, char *buf, size_t size)
{
    (void)f; return cb_diag_format(d, buf, size);
}
void cb_rules_params_default(const cb_rules_file_t *f, double *values) { (void)f; (void)values; }
int cb_rules_params_set(const cb_rules_file_t *f, double *values, const char *assignment,
                        cb_diag_t *diag)
{
    (void)f; (void)values; (void)assignment; (void)diag; return CB_EUNSUPPORTED;
}
int cb_rules_compile(const cb_rules_file_t *f, const double *values, cb_rules_program_t **out,
                     cb_diags_t *diags)
{
    (void)f; (void)values; (void)diags; *out = NULL; return CB_EUNSUPPORTED;
}
void cb_rules_program_free(cb_rules_program_t *p) { (void)p; }
void cb_rules_program_stats(const cb_rules_program_t *p, cb_rules_stats_t *out)
{
    (void)p; out->nodes = out->indicators = out->constants = out->state_bytes = out->warmup = 0;
}
size_t cb_rules_program_n_indicators(const cb_rules_program_t *p) { (void)p; return 0; }
const cb_rules_indicator_t *cb_rules_program_indicator(const cb_rules_program_t *p, size_t i)
{
    (void)p; (void)i; return NULL;
}
int cb_rules_instance_new(const cb_rules_program_t *p, int64_t base_tf_ms,
                          cb_rules_instance_t **out, cb_diag_t *diag)
{
    (void)p; (void)base_tf_ms; (void)diag; *out = NULL; return CB_EUNSUPPORTED;
}
void cb_rules_instance_free(cb_rules_instance_t *inst) { (void)inst; }
void cb_rules_instance_reset(cb_rules_instance_t *inst) { (void)inst; }
int cb_rules_instance_step(cb_rules_instance_t *inst, int64_t time_ms, double open,
                           double high, double low, double close, double volume,
                           const cb_position_view_t *pos, int *entry, int *exit)
{
    (void)inst; (void)time_ms; (void)open; (void)high; (void)low; (void)close; (void)volume;
    (void)pos; *entry = *exit = 0; return CB_EUNSUPPORTED;
}
int cb_rules_strategy_new(const cb_rules_file_t *f, const double *values,
                          cb_rules_strategy_t **out, cb_diags_t *diags)
{
    (void)f; (void)values; (void)diags; *out = NULL; return CB_EUNSUPPORTED;
}
int cb_rules_plugin_load(const char *path, cb_rules_strategy_t **out, cb_diag_t *diag)
{
    (void)path; (void)diag; *out = NULL; return CB_EUNSUPPORTED;
}
void cb_rules_strategy_free(cb_rules_strategy_t *s) { (void)s; }
int cb_rules_strategy_is_plugin(const cb_rules_strategy_t *s) { (void)s; return 0; }
const cb_rules_program_t *cb_rules_strategy_program(const cb_rules_strategy_t *s)
{
    (void)s; return NULL;
}
int cb_rules_strategy_instance(const cb_rules_strategy_t *s, int64_t base_tf_ms,
                               const cb_strategy_v1_t **vt, void **self, cb_diag_t *diag)
{
    (void)s; (void)base_tf_ms; (void)diag; *vt = NULL; *self = NULL; return CB_EUNSUPPORTED;
}
