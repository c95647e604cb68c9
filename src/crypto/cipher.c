/* AES-GCM and KDFs over OpenSSL (see cipher.h). */
#include "crypto/cipher.h"

#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

static int gcm(int enc, const uint8_t key[32], const uint8_t iv[16], const void *in, size_t len,
	       uint8_t *out, uint8_t tag[16], tp_err *err)
{
	int r = 0, n = 0;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	if (!c)
		return tp_err_set(err, -ENOMEM, "out of memory (cipher)");
	if (EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, TP_GCM_IV_LEN, NULL) != 1 ||
	    EVP_CipherInit_ex(c, NULL, NULL, key, iv, enc) != 1) {
		r = tp_err_set(err, -EIO, "AES-GCM initialisation failed");
		goto out;
	}
	const uint8_t *p = in;
	size_t done = 0;
	while (done < len) {
		int chunk = len - done > (1u << 30) ? (1 << 30) : (int)(len - done);
		if (EVP_CipherUpdate(c, out + done, &n, p + done, chunk) != 1) {
			r = tp_err_set(err, -EIO, "AES-GCM update failed");
			goto out;
		}
		done += (size_t)chunk;
	}
	if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TP_GCM_TAG_LEN, tag) != 1) {
		r = tp_err_set(err, -EIO, "AES-GCM set tag failed");
		goto out;
	}
	if (EVP_CipherFinal_ex(c, out + done, &n) != 1) {
		r = tp_err_set(err, -TP_EKEY, "AES-GCM authentication failed (wrong key or corrupt data)");
		goto out;
	}
	if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TP_GCM_TAG_LEN, tag) != 1)
		r = tp_err_set(err, -EIO, "AES-GCM get tag failed");
out:
	EVP_CIPHER_CTX_free(c);
	return r;
}

int tp_aes_gcm_encrypt(const uint8_t key[32], const uint8_t iv[16], const void *in, size_t len,
		       uint8_t *out, uint8_t tag[16], tp_err *err)
{
	return gcm(1, key, iv, in, len, out, tag, err);
}

int tp_aes_gcm_decrypt(const uint8_t key[32], const uint8_t iv[16], const void *in, size_t len,
		       const uint8_t tag[16], uint8_t *out, tp_err *err)
{
	return gcm(0, key, iv, in, len, out, (uint8_t *)tag, err);
}

int tp_pbkdf2_sha256(const void *pass, size_t passlen, const void *salt, size_t saltlen,
		     unsigned iter, uint8_t *out, size_t outlen)
{
	return PKCS5_PBKDF2_HMAC(pass, (int)passlen, salt, (int)saltlen, (int)iter, EVP_sha256(),
				 (int)outlen, out) == 1 ? 0 : -EIO;
}

int tp_scrypt(const void *pass, size_t passlen, const void *salt, size_t saltlen, uint64_t n,
	      uint64_t r, uint64_t p, uint8_t *out, size_t outlen)
{
	return EVP_PBE_scrypt(pass, passlen, salt, saltlen, n, r, p, 1025ULL * 1024 * 1024, out,
			      outlen) == 1 ? 0 : -EIO;
}

int tp_random_bytes(void *out, size_t n)
{
	return RAND_bytes(out, (int)n) == 1 ? 0 : -EIO;
}
