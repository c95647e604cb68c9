/* SHA-256, HMAC and CRC-32 wrappers (see hash.h). */
#include "crypto/hash.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <zlib.h>

void tp_sha256(const void *data, size_t len, uint8_t out[TP_DIGEST_LEN])
{
	SHA256(data, len, out);
}

int tp_sha256_init(tp_sha256_ctx *s)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(c);
		s->ctx = NULL;
		return -ENOMEM;
	}
	s->ctx = c;
	return 0;
}

void tp_sha256_update(tp_sha256_ctx *s, const void *data, size_t len)
{
	EVP_DigestUpdate(s->ctx, data, len);
}

void tp_sha256_final(tp_sha256_ctx *s, uint8_t out[TP_DIGEST_LEN])
{
	unsigned int n = TP_DIGEST_LEN;
	EVP_DigestFinal_ex(s->ctx, out, &n);
	EVP_MD_CTX_free(s->ctx);
	s->ctx = NULL;
}

void tp_sha256_abort(tp_sha256_ctx *s)
{
	EVP_MD_CTX_free(s->ctx);
	s->ctx = NULL;
}

void tp_hmac_sha256(const uint8_t *key, size_t keylen, const void *data, size_t len,
		    uint8_t out[TP_DIGEST_LEN])
{
	unsigned int n = TP_DIGEST_LEN;
	HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &n);
}

uint32_t tp_crc32(uint32_t crc, const void *data, size_t len)
{
	const Bytef *p = data;
	while (len) {
		uInt n = len > 0x40000000u ? 0x40000000u : (uInt)len;
		crc = (uint32_t)crc32(crc, p, n);
		p += n;
		len -= n;
	}
	return crc;
}
