/* API keys: loaded from the environment or a private INI file, kept in memory that core dumps
 * leave out, wiped when freed. No function here ever copies a key into a diagnostic. */
#include "comeback/exchange.h"

#include <errno.h>
#include <ini.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define KEY_MAX 512

struct cb_api_keys {
    char key[KEY_MAX];
    char secret[KEY_MAX];
};

static cb_api_keys_t *keys_alloc(void)
{
    void *p = mmap(NULL, sizeof(cb_api_keys_t), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
#ifdef MADV_DONTDUMP
    (void)madvise(p, sizeof(cb_api_keys_t), MADV_DONTDUMP);
#endif
    memset(p, 0, sizeof(cb_api_keys_t));
    return p;
}

void cb_api_keys_free(cb_api_keys_t *k)
{
    if (!k)
        return;
    OPENSSL_cleanse(k, sizeof *k);
    munmap(k, sizeof *k);
}

static int key_chars_ok(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
            return 0;
    return 1;
}

int cb_api_keys_new(const char *api_key, const char *api_secret, cb_api_keys_t **out)
{
    *out = NULL;
    if (!api_key || !api_secret || strlen(api_key) >= KEY_MAX || strlen(api_secret) >= KEY_MAX)
        return CB_EINVAL;
    cb_api_keys_t *k = keys_alloc();
    if (!k)
        return CB_ENOMEM;
    memcpy(k->key, api_key, strlen(api_key) + 1);
    memcpy(k->secret, api_secret, strlen(api_secret) + 1);
    *out = k;
    return 0;
}

const char *cb_api_keys_key(const cb_api_keys_t *k) { return k ? k->key : ""; }
const char *cb_api_keys_secret(const cb_api_keys_t *k) { return k ? k->secret : ""; }

int cb_api_keys_load_env(cb_api_keys_t **out, cb_diag_t *diag)
{
    *out = NULL;
    const char *k = getenv("COMEBACK_API_KEY"), *s = getenv("COMEBACK_API_SECRET");
    if (!k || !*k || !s || !*s)
        return cb_diag_set(diag, CB_ENOENT, NULL, 0, 0, NULL,
                           "COMEBACK_API_KEY and COMEBACK_API_SECRET are not both set");
    if (strlen(k) >= KEY_MAX || strlen(s) >= KEY_MAX || !key_chars_ok(k) || !key_chars_ok(s))
        return cb_diag_set(diag, CB_EAUTH, NULL, 0, 0, NULL,
                           "COMEBACK_API_KEY or COMEBACK_API_SECRET is malformed (too long or "
                           "with spaces or control characters)");
    int r = cb_api_keys_new(k, s, out);
    return r ? cb_diag_set(diag, r, NULL, 0, 0, NULL, NULL) : 0;
}

typedef struct ini_ctx {
    cb_api_keys_t *k;
    int bad_line;      /* first line with a value that is too long or malformed */
    char bad_name[32];
    int unknown_line;
    char unknown_name[64];
} ini_ctx_t;

static int on_ini(void *user, const char *section, const char *name, const char *value
#if INI_HANDLER_LINENO
                  ,
                  int lineno
#endif
)
{
    ini_ctx_t *c = user;
    (void)section;
#if !INI_HANDLER_LINENO
    int lineno = 0;
#endif
    char *dst = NULL;
    if (strcmp(name, "api_key") == 0)
        dst = c->k->key;
    else if (strcmp(name, "api_secret") == 0)
        dst = c->k->secret;
    else {
        if (!c->unknown_line) {
            c->unknown_line = lineno ? lineno : -1;
            snprintf(c->unknown_name, sizeof c->unknown_name, "%.60s", name);
        }
        return 1;
    }
    if (strlen(value) >= KEY_MAX || !key_chars_ok(value)) {
        if (!c->bad_line) {
            c->bad_line = lineno ? lineno : -1;
            snprintf(c->bad_name, sizeof c->bad_name, "%s", name);
        }
        return 1;
    }
    memcpy(dst, value, strlen(value) + 1);
    return 1;
}

int cb_api_keys_load_file(const char *path, cb_api_keys_t **out, cb_diag_t *diag)
{
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (!f)
        return cb_diag_set(diag, errno == ENOENT ? CB_ENOENT : CB_EIO, path, 0, 0, NULL,
                           "cannot open the key file: %s", strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return cb_diag_set(diag, CB_EIO, path, 0, 0, NULL, "the key file is not a regular file");
    }
    if (st.st_mode & 077) {
        fclose(f);
        return cb_diag_set(diag, CB_EAUTH, path, 0, 0, NULL,
                           "the key file can be read by group or others (mode %04o); refusing "
                           "to use it: run 'chmod 600 %s'",
                           (unsigned)(st.st_mode & 07777), path);
    }
    cb_api_keys_t *k = keys_alloc();
    if (!k) {
        fclose(f);
        return cb_diag_set(diag, CB_ENOMEM, path, 0, 0, NULL, NULL);
    }
    ini_ctx_t c = {.k = k};
    int r = ini_parse_file(f, on_ini, &c);
    fclose(f);
    int err = 0;
    if (r > 0)
        err = cb_diag_set(diag, CB_EPARSE, path, r, 0, NULL,
                          "not an INI line (expected 'api_key = ...' or 'api_secret = ...')");
    else if (r < 0)
        err = cb_diag_set(diag, CB_EIO, path, 0, 0, NULL, "cannot read the key file");
    else if (c.bad_line)
        err = cb_diag_set(diag, CB_EPARSE, path, c.bad_line > 0 ? c.bad_line : 0, 0, c.bad_name,
                          "the value is too long or contains spaces or control characters");
    else if (!k->key[0] || !k->secret[0])
        err = cb_diag_set(diag, CB_EPARSE, path, 0, 0, k->key[0] ? "api_secret" : "api_key",
                          "missing; the key file needs both 'api_key = ...' and "
                          "'api_secret = ...'");
    if (err) {
        cb_api_keys_free(k);
        return err;
    }
    *out = k;
    return 0;
}
