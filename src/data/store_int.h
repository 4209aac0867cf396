/* Private to data/: the store file layout (docs/store-format.md) and its checksum. */
#ifndef COMEBACK_STORE_INT_H
#define COMEBACK_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#define CB_STORE_MAGIC "\x89" "CBK\r\n\x1a\n"
#define CB_STORE_VERSION 1u
#define CB_STORE_HEADER_SIZE 512u
#define CB_STORE_COLUMNS 6u
#define CB_STORE_ROW_BYTES 48u

/* Header field offsets (bytes from the start of the file). */
enum {
    CBK_OFF_MAGIC = 0,
    CBK_OFF_VERSION = 8,
    CBK_OFF_HEADER_SIZE = 12,
    CBK_OFF_ROWS = 16,
    CBK_OFF_PAYLOAD_OFFSET = 24,
    CBK_OFF_PAYLOAD_BYTES = 32,
    CBK_OFF_PAYLOAD_HASH = 40,
    CBK_OFF_FLAGS = 48,
    CBK_OFF_COLUMNS = 52,
    CBK_OFF_FIRST_MS = 56,
    CBK_OFF_LAST_MS = 64,
    CBK_OFF_RESERVED0 = 72,
    CBK_OFF_EXCHANGE = 80,  /* 32 bytes */
    CBK_OFF_PAIR = 112,     /* 32 bytes */
    CBK_OFF_TIMEFRAME = 144, /* 8 bytes */
    CBK_OFF_SOURCE = 152,   /* 256 bytes */
    CBK_OFF_RESERVED = 408, /* 96 bytes of zeros */
    CBK_OFF_HEADER_HASH = 504
};

#define CBK_FLAG_SYNTHETIC 1u

/* CBH64: the store's 64-bit checksum over a sequence of little-endian 64-bit words, word i
 * going to lane i % 4 (see docs/store-format.md). Streaming so the columns, which are not
 * contiguous in memory when saving, can be fed one after the other. */
typedef struct cbh64 {
    uint64_t lane[4];
    uint64_t words; /* words consumed so far */
} cbh64_t;

void cbh64_init(cbh64_t *h);
/* Feeds n 8-byte words read from p (any alignment). */
void cbh64_update(cbh64_t *h, const void *p, size_t n_words);
uint64_t cbh64_final(const cbh64_t *h);

#endif
