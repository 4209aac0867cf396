/* Fuzz target: the simulator's WebSocket API requests ({"id","method","params"}), answered by
 * a paused simulator with HMAC keys (signature, key and timestamp checks included). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "sim/sim_int.h"

static cb_sim_t *fuzz_sim(void)
{
    static cb_sim_t *sim;
    static cb_series_t *s;
    static cb_api_keys_t *k;
    if (sim)
        return sim;
    s = cb_series_new(4);
    for (int i = 0; i < 4; i++)
        cb_series_push(s, 1704067200000LL + i * 3600000LL, 100, 101, 99, 100.5, 3);
    snprintf(s->meta.pair, sizeof s->meta.pair, "BTC/USDT");
    snprintf(s->meta.timeframe, sizeof s->meta.timeframe, "1h");
    cb_api_keys_new("fuzzKey", "fuzzSecret", &k);
    const cb_series_t *list[1] = {s};
    cb_sim_opts_t o = {.series = list, .n_series = 1, .speed = 0, .keys = k, .quiet = 1};
    cb_diag_t d;
    if (cb_sim_new(&o, &sim, &d) != 0)
        abort();
    return sim;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cb_sim_t *sim = fuzz_sim();
    int64_t sub = -1;
    pthread_mutex_lock(&sim->mu);
    char *r = sim_ws_api_reply_locked(sim, &sub, (const char *)data, size);
    pthread_mutex_unlock(&sim->mu);
    free(r);
    return 0;
}
