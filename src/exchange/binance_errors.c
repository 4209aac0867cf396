/* Binance spot error codes (errors.md) mapped to cb_err classes and clear sentences.
 * The one table: code, class, sentence shown to users. */
#include "comeback/exchange.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#define CB_BINANCE_ERROR_MAP(X)                                                              \
    X(-1000, CB_EEXCHANGE, "unknown error on the exchange while processing the request")     \
    X(-1001, CB_ENET, "the exchange's internal connection dropped; execution status unknown")\
    X(-1002, CB_EAUTH, "this request is not authorized")                                     \
    X(-1003, CB_ELIMIT, "too many requests: the request weight limit was exceeded")          \
    X(-1006, CB_ENET, "unexpected response from the exchange's backend; status unknown")     \
    X(-1007, CB_ETIMEOUT, "the exchange timed out waiting for its backend; status unknown")  \
    X(-1008, CB_ELIMIT, "the exchange is overloaded; try again later")                       \
    X(-1013, CB_EVALID, "the order fails one of the pair's filters (price, quantity or value)") \
    X(-1014, CB_EUNSUPPORTED, "unsupported order combination")                               \
    X(-1015, CB_ELIMIT, "too many new orders: the order rate limit was exceeded")            \
    X(-1016, CB_EEXCHANGE, "the service is shutting down")                                   \
    X(-1020, CB_EUNSUPPORTED, "the exchange does not support this operation")                \
    X(-1021, CB_EAUTH, "the request's timestamp is outside the receive window (clock skew)") \
    X(-1022, CB_EAUTH, "the request's signature is not valid (check the API secret)")        \
    X(-1100, CB_EINVAL, "a parameter contains illegal characters")                           \
    X(-1101, CB_EINVAL, "too many parameters were sent")                                     \
    X(-1102, CB_EINVAL, "a mandatory parameter was not sent, was empty or malformed")        \
    X(-1103, CB_EINVAL, "an unknown parameter was sent")                                     \
    X(-1104, CB_EINVAL, "not all sent parameters were read")                                 \
    X(-1105, CB_EINVAL, "a parameter was empty")                                             \
    X(-1106, CB_EINVAL, "a parameter was sent that this request does not take")              \
    X(-1111, CB_EVALID, "the precision is over the maximum defined for this asset")          \
    X(-1115, CB_EINVAL, "invalid time in force")                                             \
    X(-1116, CB_EINVAL, "invalid order type")                                                \
    X(-1117, CB_EINVAL, "invalid side")                                                      \
    X(-1120, CB_EINVAL, "invalid candle interval")                                           \
    X(-1121, CB_EINVAL, "invalid symbol: the exchange does not list this pair")              \
    X(-1125, CB_EAUTH, "this listen key does not exist")                                     \
    X(-1127, CB_EINVAL, "the lookup interval is too big")                                    \
    X(-1128, CB_EINVAL, "a combination of optional parameters is invalid")                   \
    X(-1130, CB_EINVAL, "invalid data sent for a parameter")                                 \
    X(-1131, CB_EINVAL, "recvWindow must be less than 60000")                                \
    X(-2010, CB_EREJECTED, "the exchange rejected the new order (insufficient balance or "   \
                           "another order rule)")                                            \
    X(-2011, CB_EREJECTED, "the exchange rejected the cancel (the order is not open)")       \
    X(-2013, CB_ENOENT, "the order does not exist on the exchange")                          \
    X(-2014, CB_EAUTH, "the API key format is invalid")                                      \
    X(-2015, CB_EAUTH, "the API key is invalid, not allowed from this IP, or lacks the "     \
                       "permission for this action")                                         \
    X(-2026, CB_ENOENT, "the order was archived by the exchange (too old)")

typedef struct bn_err {
    int code, cls;
    const char *text;
} bn_err_t;

static const bn_err_t bn_errors[] = {
#define BN_ERR_ROW_(code, cls, text) {code, cls, text},
    CB_BINANCE_ERROR_MAP(BN_ERR_ROW_)
#undef BN_ERR_ROW_
};

static const bn_err_t *find_err(int code)
{
    for (size_t i = 0; i < sizeof bn_errors / sizeof bn_errors[0]; i++)
        if (bn_errors[i].code == code)
            return &bn_errors[i];
    return NULL;
}

const char *cb_binance_error_text(int code)
{
    const bn_err_t *e = find_err(code);
    return e ? e->text : NULL;
}

int cb_binance_error_class(int code)
{
    const bn_err_t *e = find_err(code);
    return e ? e->cls : CB_EEXCHANGE;
}

int cb_binance_sign(const char *secret, const char *data, size_t len, char hex[65])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    hex[0] = '\0';
    if (!secret || (!data && len))
        return CB_EINVAL;
    if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)(data ? data : ""),
              len, mac, &mac_len) ||
        mac_len != 32)
        return CB_EINTERNAL;
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < 32; i++) {
        hex[2 * i] = digits[mac[i] >> 4];
        hex[2 * i + 1] = digits[mac[i] & 15];
    }
    hex[64] = '\0';
    return 0;
}

int cb_binance_symbol(const char *pair, char *buf, size_t size)
{
    char base[CB_EX_ASSET_MAX], quote[CB_EX_ASSET_MAX];
    if (cb_pair_split(pair, base, sizeof base, quote, sizeof quote) != 0)
        return CB_EINVAL;
    int n = snprintf(buf, size, "%s%s", base, quote);
    return n < 0 || (size_t)n >= size ? CB_EINVAL : 0;
}
