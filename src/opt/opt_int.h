/* Private helpers of the optimizer module. */
#ifndef COMEBACK_OPT_INT_H
#define COMEBACK_OPT_INT_H

#include <stddef.h>

/* Compares two sweep identities (canonical JSON texts) field by field. Returns 0 when they are
 * the same sweep; otherwise 1 with the first differing field ("sweep.strategy_sha256",
 * "sweep.settings.fee") in field. */
int opt_sweep_diff(const char *a, const char *b, char *field, size_t size);

#endif
