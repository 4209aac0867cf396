/* Private helpers of the optimizer module. */
#ifndef COMEBACK_OPT_INT_H
#define COMEBACK_OPT_INT_H

#include <stddef.h>

#include <jansson.h>

#include "comeback/opt.h"

/* Compares two sweep identities (canonical JSON texts) field by field. Returns 0 when they are
 * the same sweep; otherwise 1 with the first differing field ("sweep.strategy_sha256",
 * "sweep.settings.fee") in field. */
int opt_sweep_diff(const char *a, const char *b, char *field, size_t size);

/* The parameter space as the JSON array both the report and a shard's sweep identity carry:
 * [{"name", "lo", "hi", "step"}, ...]. */
json_t *opt_space_json(const cb_param_space_t *space);

#endif
