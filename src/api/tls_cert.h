/* The server's TLS certificate: a self-signed EC P-256 certificate generated on first start. */
#ifndef TAPIR_API_TLS_CERT_H
#define TAPIR_API_TLS_CERT_H

#include "base/err.h"

/* "aa:bb:..." SHA-256 fingerprint: 32 * 3 bytes including the NUL. */
#define TP_TLS_FINGERPRINT_LEN 96

/*
 * Loads tp_config_path("proxy.pem") and ("proxy.key") (PBS's names), or
 * when either is missing generates a new EC P-256 key and a self-signed
 * certificate (CN = host name, SAN localhost/127.0.0.1/::1, 10 years) and
 * stores both with mode 0600.  *cert_pem / *key_pem are malloc'd PEM text
 * (caller frees); fingerprint receives the SHA-256 of the certificate in
 * colon form; *created (may be NULL) is 1 when it was generated now.
 */
int tp_tls_cert_ensure(char **cert_pem, char **key_pem, char fingerprint[TP_TLS_FINGERPRINT_LEN], int *created,
		       tp_err *err);

/* SHA-256 fingerprint of a PEM certificate; -EINVAL when it does not parse. */
int tp_tls_cert_fingerprint(const char *cert_pem, char fingerprint[TP_TLS_FINGERPRINT_LEN], tp_err *err);

#endif
