/* Error codes and version strings. */
#include "comeback/core.h"

#ifndef CB_VERSION_STRING
#define CB_VERSION_STRING "0.0.0"
#endif
#ifndef CB_GIT_COMMIT
#define CB_GIT_COMMIT "unknown"
#endif

const char *cb_version(void) { return CB_VERSION_STRING; }
const char *cb_build_commit(void) { return CB_GIT_COMMIT; }

const char *cb_strerror(int err)
{
    switch (err) {
    case CB_OK: return "success";
#define CB_ERR_MSG_(name, value, msg) case CB_##name: return msg;
    CB_ERRNO_MAP(CB_ERR_MSG_)
#undef CB_ERR_MSG_
    default: return "unknown error";
    }
}

const char *cb_err_name(int err)
{
    switch (err) {
    case CB_OK: return "CB_OK";
#define CB_ERR_NAME_(name, value, msg) case CB_##name: return "CB_" #name;
    CB_ERRNO_MAP(CB_ERR_NAME_)
#undef CB_ERR_NAME_
    default: return "CB_UNKNOWN";
    }
}
