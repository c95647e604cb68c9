/* Self-signed server certificate generation and loading (see tls_cert.h). */
#include "api/tls_cert.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/hex.h"
#include "base/paths.h"

#define PEM_MAX (64u << 10)
#define CERT_DAYS 3650

int tp_tls_cert_fingerprint(const char *cert_pem, char fingerprint[TP_TLS_FINGERPRINT_LEN], tp_err *err)
{
	BIO *b = BIO_new_mem_buf(cert_pem, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (!x)
		return tp_err_set(err, -EINVAL, "the server certificate is not a PEM X.509 certificate");
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	int ok = X509_digest(x, EVP_sha256(), md, &n);
	X509_free(x);
	if (!ok || n != 32)
		return tp_err_set(err, -EIO, "cannot compute the certificate fingerprint");
	tp_hex_colons(md, 32, fingerprint);
	return 0;
}

/* PEM of what write() puts into a memory BIO (malloc'd). */
static char *bio_text(BIO *b)
{
	char *data;
	long n = BIO_get_mem_data(b, &data);
	char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (s) {
		memcpy(s, data, (size_t)n);
		s[n] = 0;
	}
	return s;
}

static int add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ex)
		return -1;
	int ok = X509_add_ext(x, ex, -1);
	X509_EXTENSION_free(ex);
	return ok ? 0 : -1;
}

static int generate(char **cert_pem, char **key_pem, tp_err *err)
{
	int r = -EIO;
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
	if (!key || !x || !kb || !cb) {
		r = tp_err_set(err, -EIO, "cannot generate an EC P-256 key for the server certificate");
		goto out;
	}
	unsigned char serial[16];
	if (RAND_bytes(serial, sizeof(serial)) != 1) {
		r = tp_err_set(err, -EIO, "no random bytes for the certificate serial");
		goto out;
	}
	serial[0] &= 0x7f;
	BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
	char host[256] = "localhost";
	if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
		snprintf(host, sizeof(host), "localhost");
	X509_NAME *name = X509_get_subject_name(x);
	int ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) && X509_set_version(x, 2) &&
		 X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
		 X509_gmtime_adj(X509_getm_notAfter(x), (long)CERT_DAYS * 86400) && X509_set_pubkey(x, key) &&
		 X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"tapir", -1, -1, 0) &&
		 X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)host, -1, -1, 0) &&
		 X509_set_issuer_name(x, name);
	BN_free(bn);
	char san[400];
	snprintf(san, sizeof(san), "DNS:localhost,DNS:%s,IP:127.0.0.1,IP:::1", host);
	if (!ok || add_ext(x, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    add_ext(x, NID_ext_key_usage, "serverAuth") < 0 || add_ext(x, NID_subject_alt_name, san) < 0 ||
	    !X509_sign(x, key, EVP_sha256())) {
		r = tp_err_set(err, -EIO, "cannot build the self-signed server certificate");
		goto out;
	}
	if (!PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) || !PEM_write_bio_X509(cb, x)) {
		r = tp_err_set(err, -EIO, "cannot encode the server certificate");
		goto out;
	}
	*key_pem = bio_text(kb);
	*cert_pem = bio_text(cb);
	if (!*key_pem || !*cert_pem) {
		free(*key_pem);
		free(*cert_pem);
		*key_pem = *cert_pem = NULL;
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	r = 0;
out:
	BIO_free(kb);
	BIO_free(cb);
	X509_free(x);
	EVP_PKEY_free(key);
	return r;
}

static char *read_text(const char *path, tp_err *err)
{
	tp_buf b = TP_BUF_INIT;
	if (tp_read_file(path, &b, PEM_MAX, err) < 0) {
		tp_buf_free(&b);
		return NULL;
	}
	tp_buf_cstr(&b);
	return (char *)tp_buf_steal(&b, NULL);
}

int tp_tls_cert_ensure(char **cert_pem, char **key_pem, char fingerprint[TP_TLS_FINGERPRINT_LEN], int *created,
		       tp_err *err)
{
	char *cp = tp_config_path("proxy.pem"), *kp = tp_config_path("proxy.key");
	int r = 0;
	*cert_pem = *key_pem = NULL;
	if (created)
		*created = 0;
	if (!cp || !kp) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (tp_path_exists(cp) && tp_path_exists(kp)) {
		if (!(*cert_pem = read_text(cp, err)) || !(*key_pem = read_text(kp, err))) {
			r = err && err->code ? err->code : -EIO;
			goto out;
		}
	} else {
		if ((r = generate(cert_pem, key_pem, err)) < 0)
			goto out;
		/* the key first: a certificate without its key would be useless */
		if ((r = tp_write_atomic(kp, *key_pem, strlen(*key_pem), 0600, err)) < 0 ||
		    (r = tp_write_atomic(cp, *cert_pem, strlen(*cert_pem), 0600, err)) < 0)
			goto out;
		if (created)
			*created = 1;
	}
	r = tp_tls_cert_fingerprint(*cert_pem, fingerprint, err);
out:
	if (r < 0) {
		free(*cert_pem);
		free(*key_pem);
		*cert_pem = *key_pem = NULL;
	}
	free(cp);
	free(kp);
	return r;
}
