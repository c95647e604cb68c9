/* Unit test: crypt password hashes, realm pbs login, API token secrets and header, tickets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "access/auth.h"
#include "access/user.h"
#include "base/fsutil.h"
#include "base/timefmt.h"

static char home[64];

static int setup_home(void **state)
{
	(void)state;
	snprintf(home, sizeof(home), "/tmp/tapir-test-auth.XXXXXX");
	if (!mkdtemp(home))
		return -1;
	setenv("TAPIR_HOME", home, 1);
	return 0;
}

static int teardown_home(void **state)
{
	(void)state;
	tp_rm_rf(home, NULL);
	return 0;
}

static void test_hash_verify(void **state)
{
	(void)state;
	tp_err e = { 0 };
	char *h = NULL, *h2 = NULL;
	assert_int_equal(tp_password_hash("correct horse", &h, &e), 0);
	/* yescrypt where libcrypt has it, SHA-512-crypt otherwise */
	assert_true(!strncmp(h, "$y$", 3) || !strncmp(h, "$6$", 3));
	assert_int_equal(tp_password_verify(h, "correct horse"), 0);
	assert_int_equal(tp_password_verify(h, "correct horsE"), -TP_EPERM);
	assert_int_equal(tp_password_verify(h, ""), -TP_EPERM);
	/* salted: the same password hashes differently */
	assert_int_equal(tp_password_hash("correct horse", &h2, &e), 0);
	assert_string_not_equal(h, h2);
	assert_int_equal(tp_password_verify(h2, "correct horse"), 0);
	free(h);
	free(h2);
	assert_int_equal(tp_password_hash_with("$6$", "pw", &h, &e), 0);
	assert_memory_equal(h, "$6$", 3);
	assert_int_equal(tp_password_verify(h, "pw"), 0);
	free(h);
	assert_int_equal(tp_password_hash_with("$5$", "pw", &h, &e), 0);
	assert_int_equal(tp_password_verify(h, "pw"), 0);
	assert_int_equal(tp_password_verify(h, "pw2"), -TP_EPERM);
	free(h);
	/* a known SHA-512-crypt vector (from the glibc crypt documentation's test suite) */
	assert_int_equal(tp_password_verify("$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJu"
					    "esI68u4OTLiBFdcbYEdFCoEOfaS35inz1", "Hello world!"), 0);
	assert_int_equal(tp_password_verify("garbage", "x"), -EINVAL);
	assert_int_equal(tp_password_verify(NULL, "x"), -EINVAL);
	assert_int_equal(tp_password_hash_with("$bogus$", "pw", &h, &e), -ENOTSUP);
}

static void test_login(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_user u = { .enable = 1 };
	snprintf(u.userid, sizeof(u.userid), "alice@pbs");
	assert_int_equal(tp_user_create(&u, "alice-secret", &e), 0);
	assert_int_equal(tp_auth_password("alice@pbs", "alice-secret", &e), 0);
	assert_int_equal(tp_auth_password("alice@pbs", "wrong-secret", &e), -TP_EPERM);
	assert_string_equal(e.msg, "authentication failed for alice@pbs");
	assert_int_equal(tp_auth_password("nobody@pbs", "alice-secret", &e), -TP_EPERM);
	/* a disabled user cannot log in even with the right password */
	tp_user_changes c = TP_USER_CHANGES_INIT;
	c.enable = 0;
	assert_int_equal(tp_user_update("alice@pbs", &c, &e), 0);
	assert_int_equal(tp_auth_password("alice@pbs", "alice-secret", &e), -TP_EPERM);
	assert_non_null(strstr(e.msg, "disabled"));
	c.enable = 1;
	c.password = "new-secret-1";
	assert_int_equal(tp_user_update("alice@pbs", &c, &e), 0);
	assert_int_equal(tp_auth_password("alice@pbs", "alice-secret", &e), -TP_EPERM);
	assert_int_equal(tp_auth_password("alice@pbs", "new-secret-1", &e), 0);
	assert_int_equal(tp_auth_password("alice@pbs!tok", "x", &e), -EINVAL);
}

static void test_tokens(void **state)
{
	(void)state;
	tp_err e = { 0 };
	char id[TP_AUTHID_MAX + 1], secret[TP_TOKEN_SECRET_LEN + 1];
	assert_int_equal(tp_token_generate("alice@pbs", "ci", NULL, 0, id, secret, &e), 0);
	assert_int_equal(tp_auth_token("alice@pbs!ci", secret, &e), 0);
	char bad[TP_TOKEN_SECRET_LEN + 1];
	memcpy(bad, secret, sizeof(bad));
	bad[0] = bad[0] == 'a' ? 'b' : 'a';
	assert_int_equal(tp_auth_token("alice@pbs!ci", bad, &e), -TP_EPERM);
	assert_int_equal(tp_auth_token("alice@pbs!other", secret, &e), -TP_EPERM);
	assert_int_equal(tp_auth_token("alice@pbs", secret, &e), -EINVAL);
	/* disabling the owner disables the token */
	tp_user_changes c = TP_USER_CHANGES_INIT;
	c.enable = 0;
	assert_int_equal(tp_user_update("alice@pbs", &c, &e), 0);
	assert_int_equal(tp_auth_token("alice@pbs!ci", secret, &e), -TP_EPERM);
	c.enable = 1;
	assert_int_equal(tp_user_update("alice@pbs", &c, &e), 0);

	char hdr[512], tid[TP_AUTHID_MAX + 1], sec[256];
	snprintf(hdr, sizeof(hdr), "PBSAPIToken=alice@pbs!ci:%s", secret);
	assert_int_equal(tp_auth_parse_token_header(hdr, tid, sec, &e), 0);
	assert_string_equal(tid, "alice@pbs!ci");
	assert_string_equal(sec, secret);
	snprintf(hdr, sizeof(hdr), "PBSAPIToken alice@pbs!ci:%s", secret);
	assert_int_equal(tp_auth_parse_token_header(hdr, tid, sec, &e), 0);
	assert_int_equal(tp_auth_parse_token_header("PBSAPIToken=alice@pbs:abc", tid, sec, &e), -EINVAL);
	assert_int_equal(tp_auth_parse_token_header("PBSAPIToken=alice@pbs!ci:", tid, sec, &e), -EINVAL);
	assert_int_equal(tp_auth_parse_token_header("Bearer xyz", tid, sec, &e), -EINVAL);
	assert_int_equal(tp_auth_parse_token_header("PBSAPITokenX=alice@pbs!ci:x", tid, sec, &e), -EINVAL);
}

static void test_tickets(void **state)
{
	(void)state;
	tp_err e = { 0 };
	uint8_t key[32], key2[32];
	for (int i = 0; i < 32; i++) {
		key[i] = (uint8_t)i;
		key2[i] = (uint8_t)(i + 1);
	}
	char t[TP_TICKET_MAX], who[TP_AUTHID_MAX + 1];
	assert_int_equal(tp_ticket_create_key(key, "alice@pbs!ci", 0x65000000, t, &e), 0);
	assert_memory_equal(t, "PBS:alice@pbs!ci:65000000::", 27);
	assert_int_equal(strlen(t), 27 + 64);
	assert_int_equal(tp_ticket_verify_key(key, t, 0x65000000 + 10, who, &e), 0);
	assert_string_equal(who, "alice@pbs!ci");
	/* expiry and clock skew */
	assert_int_equal(tp_ticket_verify_key(key, t, 0x65000000 + TP_TICKET_LIFETIME, who, &e), 0);
	assert_int_equal(tp_ticket_verify_key(key, t, 0x65000000 + TP_TICKET_LIFETIME + 1, who, &e), -TP_EPERM);
	assert_non_null(strstr(e.msg, "expired"));
	assert_int_equal(tp_ticket_verify_key(key, t, 0x65000000 - 300, who, &e), 0);
	assert_int_equal(tp_ticket_verify_key(key, t, 0x65000000 - 301, who, &e), -TP_EPERM);
	assert_non_null(strstr(e.msg, "future"));
	/* wrong key */
	assert_int_equal(tp_ticket_verify_key(key2, t, 0x65000000, who, &e), -TP_EPERM);
	assert_non_null(strstr(e.msg, "signature"));
	/* tampering with the auth id, the time or the signature */
	char x[TP_TICKET_MAX];
	strcpy(x, t);
	memcpy(x + 4, "bobby", 5);
	assert_int_equal(tp_ticket_verify_key(key, x, 0x65000000, who, &e), -TP_EPERM);
	strcpy(x, t);
	x[17 + 7] = x[17 + 7] == '1' ? '2' : '1';
	assert_int_equal(tp_ticket_verify_key(key, x, 0x65000000, who, &e), -TP_EPERM);
	strcpy(x, t);
	x[40] = x[40] == 'a' ? 'b' : 'a';
	assert_int_equal(tp_ticket_verify_key(key, x, 0x65000000, who, &e), -TP_EPERM);
	/* malformed */
	assert_int_equal(tp_ticket_verify_key(key, "PBS:alice@pbs:65000000", 0x65000000, who, &e), -EINVAL);
	assert_int_equal(tp_ticket_verify_key(key, "XYZ:alice@pbs:65000000::00", 0x65000000, who, &e), -EINVAL);
	strcpy(x, t);
	x[27 + 64 - 1] = 0;
	assert_int_equal(tp_ticket_verify_key(key, x, 0x65000000, who, &e), -EINVAL);
	assert_int_equal(tp_ticket_create_key(key, "not-an-id", 0, t, &e), -EINVAL);

	/* the file key: created once (0600), then stable */
	int64_t now = tp_now();
	assert_int_equal(tp_ticket_create("alice@pbs", now, t, &e), 0);
	assert_int_equal(tp_ticket_verify(t, now + 1, who, &e), 0);
	assert_string_equal(who, "alice@pbs");
	char *p = tp_strdup_printf("%s/etc/authkey.key", home);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	uint8_t k1[32], k2[32];
	assert_int_equal(tp_auth_key_load(k1, &e), 0);
	assert_int_equal(tp_auth_key_load(k2, &e), 0);
	assert_memory_equal(k1, k2, 32);
	/* a new key invalidates old tickets */
	unlink(p);
	assert_int_equal(tp_ticket_verify(t, now + 1, who, &e), -TP_EPERM);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_verify),
		cmocka_unit_test(test_login),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_tickets),
	};
	return cmocka_run_group_tests(tests, setup_home, teardown_home);
}
