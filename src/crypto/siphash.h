/* SipHash-2-4 with 64-bit output (pxar goodbye tables and item types). */
#ifndef TAPIR_CRYPTO_SIPHASH_H
#define TAPIR_CRYPTO_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t tp_siphash24(uint64_t k0, uint64_t k1, const void *data, size_t len);

/* pxar's keys: the first 32 hex digits of sha1("PROXMOX ARCHIVE FORMAT"). */
#define TP_PXAR_HASH_K0 0x83ac3f1cfbb450dbULL
#define TP_PXAR_HASH_K1 0xaa4f1b6879369fbdULL

static inline uint64_t tp_pxar_hash(const void *data, size_t len)
{
	return tp_siphash24(TP_PXAR_HASH_K0, TP_PXAR_HASH_K1, data, len);
}

#endif
