/* Fuzz target: [risk] values (user config) and the persisted risk state line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/risk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    cb_risk_state_t st;
    if (cb_risk_state_parse(s, &st) == 0) {
        char buf[2048];
        cb_risk_state_format(&st, buf, sizeof buf);
    }
    char *eq = strchr(s, '=');
    if (eq) {
        *eq = '\0';
        cb_risk_limits_t l;
        memset(&l, 0, sizeof l);
        cb_diag_t d;
        cb_risk_set(&l, s, eq + 1, &d);
    }
    free(s);
    return 0;
}
