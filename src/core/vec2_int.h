/* Two-lane double vectors for the column loops of several modules (src/ta's kernels, the rules
 * language's whole-history evaluation). Private: not part of the public API.
 *
 * GCC/Clang vector types: plain C arithmetic on two doubles at once, which any x86-64 compiles
 * to SSE2 (no -march flag) and other targets to their own vectors or to scalar code. Lane
 * arithmetic is the same IEEE operation as the scalar one, so results are bit-identical. A
 * comparison gives a lane mask (all ones or all zeros), cast to cb_v2u. */
#ifndef COMEBACK_CORE_VEC2_INT_H
#define COMEBACK_CORE_VEC2_INT_H

#include <stdint.h>
#include <string.h>

typedef double cb_v2d __attribute__((vector_size(16)));
typedef uint64_t cb_v2u __attribute__((vector_size(16)));

/* p[0], p[1] (any alignment) */
static inline cb_v2d cb_v2d_load(const double *p)
{
    cb_v2d v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline void cb_v2d_store(double *p, cb_v2d v) { memcpy(p, &v, sizeof v); }
/* Lane-wise (mask ? a : b) for a comparison mask: a bit select, so it stays a select
 * (compilers turn scalar ?: on doubles back into branches). */
static inline cb_v2d cb_v2_sel(cb_v2u m, cb_v2d a, cb_v2d b)
{
    return (cb_v2d)((m & (cb_v2u)a) | (~m & (cb_v2u)b));
}

#endif
