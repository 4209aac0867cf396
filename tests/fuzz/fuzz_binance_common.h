/* Shared by the Binance message fuzz targets: a fixed pair table for symbol lookups. */
#ifndef FUZZ_BINANCE_COMMON_H
#define FUZZ_BINANCE_COMMON_H
#include <stdlib.h>
#include <string.h>

#include "exchange/binance_int.h"

static const cb_pair_info_t fuzz_pairs[2] = {
    {.pair = "BTC/USDT", .symbol = "BTCUSDT", .base = "BTC", .quote = "USDT", .trading = 1,
     .price_scale = 2, .qty_scale = 5, .tick = 1, .step = 1, .min_notional = 50000000},
    {.pair = "ETH/BTC", .symbol = "ETHBTC", .base = "ETH", .quote = "BTC", .trading = 1,
     .price_scale = 5, .qty_scale = 4, .tick = 1, .step = 1},
};
#endif
