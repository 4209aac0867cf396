/* Fuzz target: store names, the one check every command naming a series goes through. Any
 * name it accepts must give a path inside <home>/data/<exchange>/ with no '.' or '..'
 * component and no control byte; the parts are also checked one by one (split at newlines). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "comeback/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void path_must_be_safe(const cb_series_meta_t *m)
{
    char path[512];
    if (cb_store_path("/h", m->exchange, m->pair, m->timeframe, path, sizeof path) != 0)
        abort();
    if (strncmp(path, "/h/data/", 8) != 0 || strstr(path, "/../") || strstr(path, "/./") ||
        strstr(path, "//"))
        abort();
    for (const char *p = path; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            abort();
    /* Exactly two components below data/: <exchange>/<BASE>_<QUOTE>-<tf>.cbk */
    const char *rest = path + 8, *slash = strchr(rest, '/');
    if (!slash || slash == rest || strchr(slash + 1, '/'))
        abort();
    char name[96];
    if (cb_store_name(m, name, sizeof name) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    cb_series_meta_t m;
    cb_diag_t d;
    if (cb_store_parse_name_diag(s, &m, &d) == 0)
        path_must_be_safe(&m);
    /* The same bytes as three parts: exchange\npair\ntimeframe. */
    char *nl1 = strchr(s, '\n'), *nl2 = nl1 ? strchr(nl1 + 1, '\n') : NULL;
    if (nl2) {
        *nl1 = *nl2 = '\0';
        if (cb_store_check_name(s, nl1 + 1, nl2 + 1, &d) == 0) {
            memset(&m, 0, sizeof m);
            if (strlen(s) >= sizeof m.exchange || strlen(nl1 + 1) >= sizeof m.pair ||
                strlen(nl2 + 1) >= sizeof m.timeframe)
                abort(); /* accepted a part longer than its field */
            strcpy(m.exchange, s);
            strcpy(m.pair, nl1 + 1);
            strcpy(m.timeframe, nl2 + 1);
            path_must_be_safe(&m);
        }
    }
    free(s);
    return 0;
}
