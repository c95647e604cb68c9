/* PBS CryptConfig equivalent (see crypt_config.h). */
#include "crypto/crypt_config.h"

#include <string.h>

#include "base/hex.h"
#include "crypto/cipher.h"
#include "crypto/hash.h"

const uint8_t tp_fingerprint_input[32] = {
	0x6e, 0xd0, 0xef, 0x77, 0x47, 0x1f, 0xff, 0x4d, 0x55, 0xc7, 0xa8, 0xfe, 0x4a, 0x9d, 0xb6, 0x21,
	0x61, 0x40, 0x7f, 0x13, 0x4c, 0x72, 0x5d, 0xdf, 0x30, 0x99, 0x2d, 0x25, 0xec, 0x45, 0xed, 0x26,
};

int tp_crypt_config_init(tp_crypt_config *cc, const uint8_t key[32], tp_err *err)
{
	memset(cc, 0, sizeof(*cc));
	memcpy(cc->enc_key, key, 32);
	if (tp_pbkdf2_sha256(key, 32, "_id_key", 7, 10, cc->id_key, 32) < 0) {
		tp_crypt_config_clear(cc);
		return tp_err_set(err, -EIO, "deriving id_key from the encryption key failed");
	}
	if (tp_crypt_digest(cc, tp_fingerprint_input, sizeof(tp_fingerprint_input), cc->fingerprint) < 0) {
		tp_crypt_config_clear(cc);
		return tp_err_set(err, -ENOMEM, "out of memory computing the key fingerprint");
	}
	return 0;
}

void tp_crypt_config_clear(tp_crypt_config *cc)
{
	/* volatile stores so the compiler cannot drop the wipe of a dying object */
	volatile uint8_t *p = (volatile uint8_t *)cc;
	for (size_t i = 0; i < sizeof(*cc); i++)
		p[i] = 0;
}

int tp_crypt_digest(const tp_crypt_config *cc, const void *data, size_t len, uint8_t out[32])
{
	tp_sha256_ctx s;
	if (tp_sha256_init(&s) < 0)
		return -ENOMEM;
	tp_sha256_update(&s, data, len);
	tp_sha256_update(&s, cc->id_key, 32);
	tp_sha256_final(&s, out);
	return 0;
}

void tp_crypt_auth_tag(const tp_crypt_config *cc, const void *data, size_t len, uint8_t out[32])
{
	tp_hmac_sha256(cc->id_key, 32, data, len, out);
}

int tp_crypt_encrypt(const tp_crypt_config *cc, const void *in, size_t len, uint8_t *out,
		     uint8_t iv[16], uint8_t tag[16], tp_err *err)
{
	if (tp_random_bytes(iv, TP_GCM_IV_LEN) < 0)
		return tp_err_set(err, -EIO, "no random bytes for the AES-GCM IV");
	return tp_aes_gcm_encrypt(cc->enc_key, iv, in, len, out, tag, err);
}

int tp_crypt_decrypt(const tp_crypt_config *cc, const uint8_t iv[16], const uint8_t tag[16],
		     const void *in, size_t len, uint8_t *out, tp_err *err)
{
	return tp_aes_gcm_decrypt(cc->enc_key, iv, in, len, tag, out, err);
}

void tp_fingerprint_text(const uint8_t fp[32], char out[TP_FINGERPRINT_TEXT_LEN])
{
	tp_hex_colons(fp, 32, out);
}

int tp_fingerprint_from_text(const char *s, uint8_t out[32])
{
	if (strlen(s) != 95)
		return -EINVAL;
	for (size_t i = 0; i < 32; i++) {
		if (i < 31 && s[3 * i + 2] != ':')
			return -EINVAL;
		char pair[3] = { s[3 * i], s[3 * i + 1], 0 };
		if (tp_hex_decode(pair, out + i, 1) < 0)
			return -EINVAL;
	}
	return 0;
}
