/* Authentication: password hashes (crypt), realm pbs/pam login, API token secrets, signed tickets. */
#ifndef TAPIR_ACCESS_AUTH_H
#define TAPIR_ACCESS_AUTH_H

#include <stdint.h>

#include "access/user.h"
#include "base/err.h"

/*
 * Hashes password with crypt(3): yescrypt ("$y$") when libcrypt supports it,
 * else SHA-512-crypt ("$6$").  *out is malloc'd (caller frees).
 */
int tp_password_hash(const char *password, char **out, tp_err *err);
/* Same with an explicit method prefix ("$y$", "$6$", "$5$"); -ENOTSUP when libcrypt lacks it. */
int tp_password_hash_with(const char *prefix, const char *password, char **out, tp_err *err);
/*
 * Checks password against a crypt(3) hash in constant time.  0 on match,
 * -TP_EPERM on mismatch, -EINVAL when hash is not a usable crypt string.
 */
int tp_password_verify(const char *hash, const char *password);

/*
 * Logs userid in with password: realm pbs checks shadow.json, realm pam asks
 * PAM (service "tapir", or $TAPIR_PAM_SERVICE); then the user must be
 * active (enabled, not expired).  0 or -TP_EPERM with a message that does not
 * reveal which part failed beyond "authentication failed for USERID".
 */
int tp_auth_password(const char *userid, const char *password, tp_err *err);

/* Checks an API token's secret and that token and user are active; 0 or -TP_EPERM. */
int tp_auth_token(const char *tokenid, const char *secret, tp_err *err);

/*
 * Parses an Authorization header value "PBSAPIToken=USER@REALM!NAME:SECRET"
 * (a space instead of '=' is accepted too).  tokenid_out holds
 * TP_AUTHID_MAX + 1 bytes, secret_out 256 bytes.  -EINVAL when malformed.
 */
int tp_auth_parse_token_header(const char *value, char *tokenid_out, char *secret_out, tp_err *err);

/*
 * Tickets: "PBS:AUTHID:TTTTTTTT::SIG" where TTTTTTTT is the creation time
 * (8 uppercase hex digits) and SIG the lowercase hex HMAC-SHA256 of
 * everything before "::" keyed with the 32-byte key in
 * tp_config_path("authkey.key") (created 0600 with random bytes on first
 * use).  A ticket is valid from 300 s before its time (clock skew) until
 * TP_TICKET_LIFETIME seconds after.
 */
#define TP_TICKET_LIFETIME 7200
#define TP_TICKET_MAX (4 + TP_AUTHID_MAX + 1 + 8 + 2 + 64 + 1)

/* Reads (or creates) the ticket signing key. */
int tp_auth_key_load(uint8_t key[32], tp_err *err);
/* Signs a ticket for authid created at time now; out holds TP_TICKET_MAX bytes. */
int tp_ticket_create(const char *authid, int64_t now, char *out, tp_err *err);
/*
 * Verifies signature and age at time now; on success writes the auth id
 * (TP_AUTHID_MAX + 1 bytes).  -TP_EPERM for a bad signature or an expired
 * or future ticket, -EINVAL for a malformed one.
 */
int tp_ticket_verify(const char *ticket, int64_t now, char *authid_out, tp_err *err);
/* The same with an explicit key (no file access), for tests and for the server's cached key. */
int tp_ticket_create_key(const uint8_t key[32], const char *authid, int64_t now, char *out, tp_err *err);
int tp_ticket_verify_key(const uint8_t key[32], const char *ticket, int64_t now, char *authid_out,
			 tp_err *err);

#endif
