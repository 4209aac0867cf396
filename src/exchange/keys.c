/* API keys: loaded from the environment or a private INI file, kept in memory that core dumps
 * leave out, wiped when freed. No function here ever copies a key into a diagnostic.
 * HMAC keys carry a secret; Ed25519 and RSA keys a PEM private key (or, for the simulator, a
 * public key) held by OpenSSL. Signatures follow Binance: hex HMAC-SHA256, or base64 of the
 * Ed25519 / RSASSA-PKCS1-v1_5-SHA256 signature of the same payload. */
#include "comeback/exchange.h"

#include <errno.h>
#include <ini.h>
#include <pthread.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define KEY_MAX 512

struct cb_api_keys {
    char key[KEY_MAX];
    char secret[KEY_MAX];
    cb_api_key_type_t type;
    EVP_PKEY *pkey;             /* Ed25519/RSA */
    int can_sign;               /* pkey holds the private half */
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
    EVP_PKEY_free(k->pkey);
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
cb_api_key_type_t cb_api_keys_type(const cb_api_keys_t *k) { return k ? k->type : CB_API_KEY_HMAC; }

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return 0; /* never prompt: an encrypted key simply fails to load */
}

/* OpenSSL's secure heap (locked, excluded from core dumps) for the private halves of Ed25519
 * and RSA keys, like MADV_DONTDUMP for HMAC secrets. Without it (mlock refused) keys live on
 * the ordinary heap. */
static pthread_once_t secure_once = PTHREAD_ONCE_INIT;
static void secure_heap_init(void)
{
    if (!CRYPTO_secure_malloc_initialized())
        (void)CRYPTO_secure_malloc_init(1 << 20, 32); /* 1 MiB: TLS uses it too */
}

/* PEM text -> k->pkey (private first, then public). Returns 0 or CB_EINVAL with diag. */
static int load_pem(cb_api_keys_t *k, const char *pem, size_t len, const char *file,
                    cb_diag_t *diag)
{
    pthread_once(&secure_once, secure_heap_init);
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio)
        return cb_diag_set(diag, CB_ENOMEM, file, 0, 0, NULL, NULL);
    EVP_PKEY *pk = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    int priv = pk != NULL;
    if (!pk) {
        (void)BIO_reset(bio);
        pk = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
    }
    BIO_free(bio);
    if (!pk)
        return cb_diag_set(diag, CB_EINVAL, file, 0, 0, NULL,
                           "not an unencrypted PEM private or public key (Ed25519 or RSA)");
    int id = EVP_PKEY_get_id(pk);
    if (id != EVP_PKEY_ED25519 && id != EVP_PKEY_RSA) {
        EVP_PKEY_free(pk);
        return cb_diag_set(diag, CB_EINVAL, file, 0, 0, NULL,
                           "the key is neither Ed25519 nor RSA, the types Binance accepts");
    }
    k->pkey = pk;
    k->can_sign = priv;
    k->type = id == EVP_PKEY_ED25519 ? CB_API_KEY_ED25519 : CB_API_KEY_RSA;
    return 0;
}

int cb_api_keys_new_pem(const char *api_key, const char *pem, size_t pem_len,
                        cb_api_keys_t **out, cb_diag_t *diag)
{
    *out = NULL;
    if (!api_key || !*api_key || strlen(api_key) >= KEY_MAX || !key_chars_ok(api_key) || !pem)
        return cb_diag_set(diag, CB_EINVAL, NULL, 0, 0, "api_key",
                           "the API key is missing, too long or has spaces or control "
                           "characters");
    cb_api_keys_t *k = keys_alloc();
    if (!k)
        return cb_diag_set(diag, CB_ENOMEM, NULL, 0, 0, NULL, NULL);
    memcpy(k->key, api_key, strlen(api_key) + 1);
    int r = load_pem(k, pem, pem_len, NULL, diag);
    if (r) {
        cb_api_keys_free(k);
        return r;
    }
    *out = k;
    return 0;
}

int cb_api_keys_dup(const cb_api_keys_t *k, cb_api_keys_t **out)
{
    *out = NULL;
    cb_api_keys_t *c = keys_alloc();
    if (!c)
        return CB_ENOMEM;
    memcpy(c, k, sizeof *c);
    if (c->pkey && !EVP_PKEY_up_ref(c->pkey)) {
        c->pkey = NULL;
        cb_api_keys_free(c);
        return CB_ENOMEM;
    }
    *out = c;
    return 0;
}

int cb_api_keys_sign(const cb_api_keys_t *k, const char *payload, size_t len, char *out,
                     size_t out_size)
{
    if (!k)
        return CB_EINVAL;
    if (k->type == CB_API_KEY_HMAC) {
        if (out_size < 65)
            return CB_EINVAL;
        return cb_binance_sign(k->secret, payload, len, out);
    }
    if (!k->can_sign)
        return CB_EINVAL;
    unsigned char sig[1024];
    size_t sl = sizeof sig;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return CB_ENOMEM;
    const EVP_MD *md = k->type == CB_API_KEY_RSA ? EVP_sha256() : NULL;
    int ok = EVP_DigestSignInit(ctx, NULL, md, NULL, k->pkey) == 1 &&
             EVP_DigestSign(ctx, NULL, &sl, (const unsigned char *)payload, len) == 1 &&
             sl <= sizeof sig &&
             EVP_DigestSign(ctx, sig, &sl, (const unsigned char *)payload, len) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return CB_EINVAL;
    if (out_size < 4 * ((sl + 2) / 3) + 1)
        return CB_EINVAL;
    EVP_EncodeBlock((unsigned char *)out, sig, (int)sl);
    return 0;
}

int cb_api_keys_verify(const cb_api_keys_t *k, const char *payload, size_t len, const char *sig)
{
    if (!k || !sig)
        return 0;
    if (k->type == CB_API_KEY_HMAC) {
        char want[65];
        if (cb_binance_sign(k->secret, payload, len, want))
            return 0;
        int ok = strlen(sig) == 64;
        for (size_t i = 0; ok && i < 64; i++) {
            char c = sig[i];
            if (c >= 'A' && c <= 'F')
                c = (char)(c + 32);
            ok = c == want[i];
        }
        return ok;
    }
    size_t n = strlen(sig);
    if (n == 0 || n % 4 || n > 1400)
        return 0;
    unsigned char raw[1050];
    int dl = EVP_DecodeBlock(raw, (const unsigned char *)sig, (int)n);
    if (dl < 0)
        return 0;
    dl -= (sig[n - 1] == '=') + (n > 1 && sig[n - 2] == '=');
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return 0;
    const EVP_MD *md = k->type == CB_API_KEY_RSA ? EVP_sha256() : NULL;
    int ok = EVP_DigestVerifyInit(ctx, NULL, md, NULL, k->pkey) == 1 &&
             EVP_DigestVerify(ctx, raw, (size_t)dl, (const unsigned char *)payload, len) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}
const char *cb_api_keys_secret(const cb_api_keys_t *k) { return k ? k->secret : ""; }

static int load_pem_file(cb_api_keys_t *k, const char *key_path, const char *pem_path,
                         int public_only, cb_diag_t *diag);

int cb_api_keys_load_env(cb_api_keys_t **out, cb_diag_t *diag)
{
    *out = NULL;
    const char *k = getenv("COMEBACK_API_KEY"), *s = getenv("COMEBACK_API_SECRET");
    const char *pf = getenv("COMEBACK_PRIVATE_KEY_FILE");
    if (k && *k && pf && *pf && !(s && *s)) {
        if (strlen(k) >= KEY_MAX || !key_chars_ok(k) || strlen(pf) >= KEY_MAX)
            return cb_diag_set(diag, CB_EAUTH, NULL, 0, 0, NULL,
                               "COMEBACK_API_KEY or COMEBACK_PRIVATE_KEY_FILE is malformed");
        cb_api_keys_t *kk = keys_alloc();
        if (!kk)
            return cb_diag_set(diag, CB_ENOMEM, NULL, 0, 0, NULL, NULL);
        memcpy(kk->key, k, strlen(k) + 1);
        int r = load_pem_file(kk, "", pf, 0, diag);
        if (r) {
            cb_api_keys_free(kk);
            return r;
        }
        *out = kk;
        return 0;
    }
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
    char pem_path[KEY_MAX];
    int pem_public;
    int pem_line;
    int bad_line;      /* first line with a value that is too long or malformed */
    char bad_name[32];
    int unknown_line;
    char unknown_name[64];
    char dup_name[32];  /* the first key given twice: the last value would silently win */
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
    else if (strcmp(name, "private_key_file") == 0 || strcmp(name, "public_key_file") == 0) {
        dst = c->pem_path;
        c->pem_public = name[1] == 'u';
        c->pem_line = lineno;
    } else {
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
    if (dst[0] && !c->dup_name[0])
        snprintf(c->dup_name, sizeof c->dup_name, "%s", name);
    memcpy(dst, value, strlen(value) + 1);
    return 1;
}

/* Reads the PEM file a key file names (relative to the key file's directory); a private key
 * must be as private as the key file. */
static int load_pem_file(cb_api_keys_t *k, const char *key_path, const char *pem_path,
                         int public_only, cb_diag_t *diag)
{
    char full[2 * KEY_MAX + 8];
    const char *slash = strrchr(key_path, '/');
    if (pem_path[0] != '/' && slash)
        snprintf(full, sizeof full, "%.*s/%s", (int)(slash - key_path), key_path, pem_path);
    else
        snprintf(full, sizeof full, "%s", pem_path);
    FILE *f = fopen(full, "r");
    if (!f)
        return cb_diag_set(diag, CB_EAUTH, full, 0, 0, NULL, "cannot open the key: %s",
                           strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > 16384) {
        fclose(f);
        return cb_diag_set(diag, CB_EAUTH, full, 0, 0, NULL,
                           "the key is not a regular file of a PEM key");
    }
    if (!public_only && (st.st_mode & 077)) {
        fclose(f);
        return cb_diag_set(diag, CB_EAUTH, full, 0, 0, NULL,
                           "the private key can be read by group or others (mode %04o); "
                           "refusing to use it: run 'chmod 600 %s'",
                           (unsigned)(st.st_mode & 07777), full);
    }
    char *pem = malloc((size_t)st.st_size + 1);
    size_t n = pem ? fread(pem, 1, (size_t)st.st_size, f) : 0;
    fclose(f);
    if (!pem)
        return cb_diag_set(diag, CB_ENOMEM, full, 0, 0, NULL, NULL);
    int r = load_pem(k, pem, n, full, diag);
    OPENSSL_cleanse(pem, (size_t)st.st_size + 1);
    free(pem);
    if (r == 0 && public_only && k->can_sign) {
        /* a private key named as public_key_file: keep only what was asked for */
        k->can_sign = 0;
    }
    if (r)
        return CB_EAUTH;
    return 0;
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
    else if (c.dup_name[0])
        err = cb_diag_set(diag, CB_EPARSE, path, 0, 0, c.dup_name,
                          "set twice; give each key once");
    else if (c.bad_line)
        err = cb_diag_set(diag, CB_EPARSE, path, c.bad_line > 0 ? c.bad_line : 0, 0, c.bad_name,
                          "the value is too long or contains spaces or control characters");
    else if (!k->key[0] || (!k->secret[0] && !c.pem_path[0]))
        err = cb_diag_set(diag, CB_EPARSE, path, 0, 0, k->key[0] ? "api_secret" : "api_key",
                          "missing; the key file needs 'api_key = ...' and 'api_secret = ...' "
                          "(HMAC) or 'private_key_file = ...' (Ed25519, RSA)");
    else if (k->secret[0] && c.pem_path[0])
        err = cb_diag_set(diag, CB_EPARSE, path, c.pem_line, 0,
                          c.pem_public ? "public_key_file" : "private_key_file",
                          "give either api_secret (an HMAC key) or a key file, not both");
    else if (c.pem_path[0])
        err = load_pem_file(k, path, c.pem_path, c.pem_public, diag);
    if (err) {
        cb_api_keys_free(k);
        return err;
    }
    *out = k;
    return 0;
}
