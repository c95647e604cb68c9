/* Authentication: crypt(3) hashes, realm logins, API token secrets, HMAC-signed tickets (see auth.h). */
#include "access/auth.h"

#include <crypt.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "base/fsutil.h"
#include "base/hex.h"
#include "base/paths.h"
#include "base/timefmt.h"
#include "crypto/cipher.h"
#include "crypto/hash.h"

#if defined(__has_include)
#if __has_include(<security/pam_appl.h>)
#include <security/pam_appl.h>
#define TP_HAVE_PAM 1
#endif
#endif

int tp_password_hash_with(const char *prefix, const char *password, char **out, tp_err *err)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	uint8_t rnd[32];
	*out = NULL;
	if (!password)
		return tp_err_set(err, -EINVAL, "missing password");
	if (tp_random_bytes(rnd, sizeof(rnd)) < 0)
		return tp_err_set(err, -EIO, "no random bytes for a password salt");
	if (!crypt_gensalt_rn(prefix, 0, (const char *)rnd, (int)sizeof(rnd), setting, (int)sizeof(setting)))
		return tp_err_set(err, -ENOTSUP, "libcrypt does not support hash method %s", prefix);
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	if (!cd)
		return tp_err_set(err, -ENOMEM, "out of memory");
	int r = 0;
	const char *h = crypt_r(password, setting, cd);
	if (!h || h[0] == '*' || strncmp(h, prefix, strlen(prefix)))
		r = tp_err_set(err, -ENOTSUP, "crypt() failed for hash method %s", prefix);
	else if (!(*out = strdup(h)))
		r = tp_err_set(err, -ENOMEM, "out of memory");
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return r;
}

int tp_password_hash(const char *password, char **out, tp_err *err)
{
	tp_err e = { 0 };
	int r = tp_password_hash_with("$y$", password, out, &e);
	if (r == -ENOTSUP)
		r = tp_password_hash_with("$6$", password, out, err);
	else if (r < 0)
		r = tp_err_set(err, r, "%s", e.msg);
	return r;
}

int tp_password_verify(const char *hash, const char *password)
{
	if (!hash || hash[0] != '$' || !password)
		return -EINVAL;
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	if (!cd)
		return -ENOMEM;
	int r;
	const char *h = crypt_r(password, hash, cd);
	size_t n = strlen(hash);
	if (!h || h[0] == '*')
		r = -EINVAL;
	else if (strlen(h) != n || CRYPTO_memcmp(h, hash, n) != 0)
		r = -TP_EPERM;
	else
		r = 0;
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return r;
}

#ifdef TP_HAVE_PAM
static int pam_conv_fn(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct pam_response *rs = calloc((size_t)n, sizeof(*rs));
	if (!rs)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON) {
			rs[i].resp = strdup((const char *)data);
			if (!rs[i].resp) {
				for (int j = 0; j < i; j++)
					free(rs[j].resp);
				free(rs);
				return PAM_BUF_ERR;
			}
		}
	}
	*resp = rs;
	return PAM_SUCCESS;
}

static int pam_login(const char *user, const char *password, tp_err *err)
{
	const char *service = getenv("TAPIR_PAM_SERVICE");
	struct pam_conv conv = { pam_conv_fn, (void *)password };
	pam_handle_t *h = NULL;
	int pr = pam_start(service && *service ? service : "tapir", user, &conv, &h);
	if (pr == PAM_SUCCESS)
		pr = pam_authenticate(h, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	if (pr == PAM_SUCCESS)
		pr = pam_acct_mgmt(h, PAM_SILENT);
	int r = pr == PAM_SUCCESS ? 0 : tp_err_set(err, -TP_EPERM, "PAM: %s", h ? pam_strerror(h, pr) : "pam_start failed");
	if (h)
		pam_end(h, pr);
	return r;
}
#endif

int tp_auth_password(const char *userid, const char *password, tp_err *err)
{
	tp_authid a;
	tp_err e = { 0 };
	int r = tp_authid_parse(userid, &a, err);
	if (r < 0)
		return r;
	if (tp_authid_is_token(&a))
		return tp_err_set(err, -EINVAL, "'%s' is a token id; tokens authenticate with their secret", userid);
	if (!strcmp(a.realm, "pbs")) {
		char *hash = NULL;
		r = tp_user_password_hash(userid, &hash, &e);
		if (r == 0)
			r = tp_password_verify(hash, password);
		free(hash);
	} else if (!strcmp(a.realm, "pam")) {
#ifdef TP_HAVE_PAM
		char name[TP_USERID_MAX + 1];
		snprintf(name, sizeof(name), "%s", userid);
		*strrchr(name, '@') = 0;
		r = pam_login(name, password, &e);
#else
		r = tp_err_set(&e, -ENOTSUP, "tapir was built without PAM");
#endif
	} else {
		r = tp_err_set(&e, -EINVAL, "unknown realm '%s'", a.realm);
	}
	if (r < 0)
		return tp_err_set(err, -TP_EPERM, "authentication failed for %s", userid);
	tp_user_config cfg;
	if ((r = tp_user_config_load(&cfg, err)) < 0)
		return r;
	/* A pam user must still be configured in tapir (root@pam is implicit). */
	r = tp_authid_active(&cfg, userid, tp_now(), &e);
	tp_user_config_free(&cfg);
	if (r < 0)
		return tp_err_set(err, -TP_EPERM, "authentication failed for %s: %s", userid, e.msg);
	return 0;
}

int tp_auth_token(const char *tokenid, const char *secret, tp_err *err)
{
	tp_authid a;
	tp_err e = { 0 };
	char *hash = NULL;
	int r = tp_authid_parse(tokenid, &a, err);
	if (r < 0)
		return r;
	if (!tp_authid_is_token(&a))
		return tp_err_set(err, -EINVAL, "'%s' is not a token id (USER@REALM!NAME)", tokenid);
	r = tp_token_secret_hash(tokenid, &hash, &e);
	if (r == 0)
		r = tp_password_verify(hash, secret);
	free(hash);
	if (r < 0)
		return tp_err_set(err, -TP_EPERM, "authentication failed for API token %s", tokenid);
	tp_user_config cfg;
	if ((r = tp_user_config_load(&cfg, err)) < 0)
		return r;
	r = tp_authid_active(&cfg, tokenid, tp_now(), &e);
	tp_user_config_free(&cfg);
	if (r < 0)
		return tp_err_set(err, -TP_EPERM, "authentication failed for API token %s: %s", tokenid, e.msg);
	return 0;
}

int tp_auth_parse_token_header(const char *value, char *tokenid_out, char *secret_out, tp_err *err)
{
	static const char pfx[] = "PBSAPIToken";
	if (!value || strncmp(value, pfx, sizeof(pfx) - 1) ||
	    (value[sizeof(pfx) - 1] != '=' && value[sizeof(pfx) - 1] != ' '))
		return tp_err_set(err, -EINVAL, "Authorization header: expected PBSAPIToken=USER@REALM!NAME:SECRET");
	const char *id = value + sizeof(pfx);
	const char *colon = strchr(id, ':');
	if (!colon || colon == id || !colon[1])
		return tp_err_set(err, -EINVAL, "Authorization header: expected PBSAPIToken=USER@REALM!NAME:SECRET");
	size_t idlen = (size_t)(colon - id), slen = strlen(colon + 1);
	if (idlen > TP_AUTHID_MAX || slen > 255)
		return tp_err_set(err, -EINVAL, "Authorization header: token id or secret too long");
	char tid[TP_AUTHID_MAX + 1];
	memcpy(tid, id, idlen);
	tid[idlen] = 0;
	tp_authid a;
	int r = tp_authid_parse(tid, &a, err);
	if (r < 0)
		return tp_err_wrap(err, r, "Authorization header");
	if (!tp_authid_is_token(&a))
		return tp_err_set(err, -EINVAL, "Authorization header: '%s' is not a token id", tid);
	memcpy(tokenid_out, tid, idlen + 1);
	memcpy(secret_out, colon + 1, slen + 1);
	return 0;
}

/* ---- tickets ---- */

int tp_auth_key_load(uint8_t key[32], tp_err *err)
{
	char *path = tp_config_path("authkey.key");
	tp_buf b = TP_BUF_INIT;
	int r = 0;
	if (!path)
		return tp_err_set(err, -ENOMEM, "out of memory");
	if (!tp_path_exists(path)) {
		char hex[65];
		uint8_t k[32];
		if (tp_random_bytes(k, sizeof(k)) < 0) {
			r = tp_err_set(err, -EIO, "no random bytes for the ticket key");
			goto out;
		}
		tp_hex_encode(k, sizeof(k), hex);
		hex[64] = '\n';
		/* link() publishes the key only if nobody else created one meanwhile. */
		char *tmp = tp_strdup_printf("%s.tmp_%d", path, (int)getpid());
		if (!tmp) {
			r = tp_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		unlink(tmp);
		int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			r = tp_err_errno(err, "create %s", tmp);
			free(tmp);
			goto out;
		}
		r = tp_write_all(fd, hex, 65, err, tmp);
		if (r == 0 && fsync(fd) < 0)
			r = tp_err_errno(err, "fsync %s", tmp);
		close(fd);
		if (r == 0 && link(tmp, path) < 0 && errno != EEXIST)
			r = tp_err_errno(err, "create %s", path);
		unlink(tmp);
		free(tmp);
		explicit_bzero(k, sizeof(k));
		explicit_bzero(hex, sizeof(hex));
		if (r < 0)
			goto out;
	}
	if ((r = tp_read_file(path, &b, 4096, err)) < 0)
		goto out;
	while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == ' '))
		b.len--;
	if (b.len != 64 || tp_hex_decode(tp_buf_cstr(&b), key, 32) < 0)
		r = tp_err_set(err, -TP_EFORMAT, "%s: expected 64 hex digits", path);
out:
	if (b.data)
		explicit_bzero(b.data, b.cap);
	tp_buf_free(&b);
	free(path);
	return r;
}

static void ticket_sig(const uint8_t key[32], const char *data, size_t len, char hex[65])
{
	uint8_t mac[TP_DIGEST_LEN];
	tp_hmac_sha256(key, 32, data, len, mac);
	tp_hex_encode(mac, sizeof(mac), hex);
}

int tp_ticket_create_key(const uint8_t key[32], const char *authid, int64_t now, char *out, tp_err *err)
{
	tp_authid a;
	int r = tp_authid_parse(authid, &a, err);
	if (r < 0)
		return r;
	if (now < 0 || now > 0xffffffffLL)
		return tp_err_set(err, -EINVAL, "ticket time %lld out of range", (long long)now);
	char sig[65];
	int n = snprintf(out, TP_TICKET_MAX, "PBS:%s:%08llX", authid, (unsigned long long)now);
	ticket_sig(key, out, (size_t)n, sig);
	snprintf(out + n, TP_TICKET_MAX - (size_t)n, "::%s", sig);
	return 0;
}

int tp_ticket_verify_key(const uint8_t key[32], const char *ticket, int64_t now, char *authid_out,
			 tp_err *err)
{
	if (!ticket || strncmp(ticket, "PBS:", 4) || strlen(ticket) >= TP_TICKET_MAX)
		return tp_err_set(err, -EINVAL, "malformed ticket: expected PBS:AUTHID:TIME::SIGNATURE");
	const char *sep = strstr(ticket, "::");
	if (!sep || strlen(sep + 2) != 64)
		return tp_err_set(err, -EINVAL, "malformed ticket: bad signature part");
	/* The time is the 8 hex digits right before "::"; the auth id sits between. */
	const char *tstart = sep - 8;
	if (tstart < ticket + 6 || tstart[-1] != ':')
		return tp_err_set(err, -EINVAL, "malformed ticket: bad time part");
	int64_t t = 0;
	for (const char *p = tstart; p < sep; p++) {
		int v = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'A' && *p <= 'F' ? *p - 'A' + 10 : -1;
		if (v < 0)
			return tp_err_set(err, -EINVAL, "malformed ticket: bad time part");
		t = t * 16 + v;
	}
	char sig[65];
	ticket_sig(key, ticket, (size_t)(sep - ticket), sig);
	if (CRYPTO_memcmp(sig, sep + 2, 64) != 0)
		return tp_err_set(err, -TP_EPERM, "invalid ticket: signature mismatch");
	size_t alen = (size_t)(tstart - 1 - (ticket + 4));
	char authid[TP_AUTHID_MAX + 1];
	if (alen == 0 || alen > TP_AUTHID_MAX)
		return tp_err_set(err, -EINVAL, "malformed ticket: bad auth id");
	memcpy(authid, ticket + 4, alen);
	authid[alen] = 0;
	tp_authid a;
	int r = tp_authid_parse(authid, &a, err);
	if (r < 0)
		return tp_err_wrap(err, -EINVAL, "malformed ticket");
	int64_t age = now - t;
	if (age < -300)
		return tp_err_set(err, -TP_EPERM, "invalid ticket: issued %lld s in the future", (long long)-age);
	if (age > TP_TICKET_LIFETIME)
		return tp_err_set(err, -TP_EPERM, "invalid ticket: expired %lld s ago",
				  (long long)(age - TP_TICKET_LIFETIME));
	memcpy(authid_out, authid, alen + 1);
	return 0;
}

int tp_ticket_create(const char *authid, int64_t now, char *out, tp_err *err)
{
	uint8_t key[32];
	int r = tp_auth_key_load(key, err);
	if (r == 0)
		r = tp_ticket_create_key(key, authid, now, out, err);
	explicit_bzero(key, sizeof(key));
	return r;
}

int tp_ticket_verify(const char *ticket, int64_t now, char *authid_out, tp_err *err)
{
	uint8_t key[32];
	int r = tp_auth_key_load(key, err);
	if (r == 0)
		r = tp_ticket_verify_key(key, ticket, now, authid_out, err);
	explicit_bzero(key, sizeof(key));
	return r;
}
