/* Fuzz target: what a WebSocket client sends the simulator, from the first byte of its
 * handshake to its frames (masking, lengths, fragments, control frames, UTF-8, close codes).
 * The first input byte chooses the size of the pieces the rest arrives in (1..256 bytes), so
 * that every boundary between two reads is tried. */
#include <stdio.h>
#include <stdlib.h>

#include "sim/sim_int.h"

static cb_sim_t *fuzz_sim(void)
{
    static cb_sim_t *sim;
    static cb_series_t *s;
    if (sim)
        return sim;
    s = cb_series_new(4);
    for (int i = 0; i < 4; i++)
        cb_series_push(s, 1704067200000LL + i * 3600000LL, 100, 101, 99, 100.5, 3);
    snprintf(s->meta.pair, sizeof s->meta.pair, "BTC/USDT");
    snprintf(s->meta.timeframe, sizeof s->meta.timeframe, "1h");
    const cb_series_t *list[1] = {s};
    cb_sim_opts_t o = {.series = list, .n_series = 1, .speed = 0, .quiet = 1};
    cb_diag_t d;
    if (cb_sim_new(&o, &sim, &d) != 0)
        abort();
    return sim;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    sim_ws_conn_fuzz(fuzz_sim(), data + 1, size - 1, (size_t)data[0] + 1);
    return 0;
}
