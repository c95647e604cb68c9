/* Unit test: user ids, user.json create/update/remove, tokens, shadow files. */
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

static char home[64];

static int setup_home(void **state)
{
	(void)state;
	snprintf(home, sizeof(home), "/tmp/tapir-test-user.XXXXXX");
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

static mode_t file_mode(const char *name)
{
	char *p = tp_strdup_printf("%s/etc/%s", home, name);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	free(p);
	return st.st_mode & 07777;
}

static void test_ids(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_authid a;
	assert_int_equal(tp_userid_check("alice@pbs", &e), 0);
	assert_int_equal(tp_userid_check("root@pam", &e), 0);
	assert_int_equal(tp_userid_check("alice", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "NAME@REALM"));
	assert_int_equal(tp_userid_check("@pbs", &e), -EINVAL);
	assert_int_equal(tp_userid_check("a b@pbs", &e), -EINVAL);
	assert_int_equal(tp_userid_check("a/b@pbs", &e), -EINVAL);
	assert_int_equal(tp_userid_check("a:b@pbs", &e), -EINVAL);
	assert_int_equal(tp_userid_check("alice@p", &e), -EINVAL);
	assert_int_equal(tp_userid_check("alice@-pbs", &e), -EINVAL);
	char longid[100];
	memset(longid, 'x', 70);
	strcpy(longid + 70, "@pbs");
	assert_int_equal(tp_userid_check(longid, &e), -EINVAL);
	assert_int_equal(tp_authid_parse("alice@pbs!ci-1", &a, &e), 0);
	assert_string_equal(a.userid, "alice@pbs");
	assert_string_equal(a.tokenname, "ci-1");
	assert_string_equal(a.realm, "pbs");
	assert_true(tp_authid_is_token(&a));
	char out[TP_AUTHID_MAX + 1];
	tp_authid_format(&a, out);
	assert_string_equal(out, "alice@pbs!ci-1");
	assert_int_equal(tp_authid_parse("alice@pbs", &a, &e), 0);
	assert_false(tp_authid_is_token(&a));
	assert_int_equal(tp_authid_parse("alice@pbs!x", &a, &e), -EINVAL);
	assert_int_equal(tp_authid_parse("alice@pbs!-x", &a, &e), -EINVAL);
	assert_int_equal(tp_authid_parse("alice@pbs!a!b", &a, &e), -EINVAL);
	assert_true(tp_realm_known("pam"));
	assert_false(tp_realm_known("ldap"));
}

static void test_create_update_remove(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_user u = { .enable = 1 };
	snprintf(u.userid, sizeof(u.userid), "alice@pbs");
	snprintf(u.email, sizeof(u.email), "alice@example.com");
	assert_int_equal(tp_user_create(&u, "secret-pw", &e), 0);
	assert_int_equal(tp_user_create(&u, NULL, &e), -TP_EEXISTS);
	assert_non_null(strstr(e.msg, "already exists"));
	tp_user r = u;
	snprintf(r.userid, sizeof(r.userid), "root@pam");
	assert_int_equal(tp_user_create(&r, NULL, &e), -TP_EEXISTS);
	snprintf(r.userid, sizeof(r.userid), "bob@pam");
	assert_int_equal(tp_user_create(&r, "pw123456", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "realm pbs"));
	snprintf(r.userid, sizeof(r.userid), "bob@ldap");
	assert_int_equal(tp_user_create(&r, NULL, &e), -EINVAL);
	snprintf(r.userid, sizeof(r.userid), "bob@pbs");
	snprintf(r.email, sizeof(r.email), "not-an-address");
	assert_int_equal(tp_user_create(&r, NULL, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "email"));
	r.email[0] = 0;
	assert_int_equal(tp_user_create(&r, "short", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "8 to 64"));

	tp_user_config cfg;
	assert_int_equal(tp_user_config_load(&cfg, &e), 0);
	assert_int_equal(cfg.nusers, 1);
	const tp_user *f = tp_user_find(&cfg, "alice@pbs");
	assert_non_null(f);
	assert_string_equal(f->email, "alice@example.com");
	assert_int_equal(f->enable, 1);
	assert_int_equal(tp_authid_active(&cfg, "alice@pbs", 1000, &e), 0);
	assert_int_equal(tp_authid_active(&cfg, "root@pam", 1000, &e), 0);
	assert_int_equal(tp_authid_active(&cfg, "nobody@pbs", 1000, &e), -TP_EPERM);
	tp_user_config_free(&cfg);
	assert_int_equal(file_mode("shadow.json"), 0600);

	tp_user_changes c = TP_USER_CHANGES_INIT;
	c.enable = 0;
	c.comment = "on leave";
	c.expire = 2000;
	assert_int_equal(tp_user_update("alice@pbs", &c, &e), 0);
	assert_int_equal(tp_user_config_load(&cfg, &e), 0);
	f = tp_user_find(&cfg, "alice@pbs");
	assert_int_equal(f->enable, 0);
	assert_int_equal(f->expire, 2000);
	assert_string_equal(f->comment, "on leave");
	assert_string_equal(f->email, "alice@example.com");
	assert_int_equal(tp_authid_active(&cfg, "alice@pbs", 1000, &e), -TP_EPERM);
	assert_non_null(strstr(e.msg, "disabled"));
	tp_user_config_free(&cfg);
	c = (tp_user_changes)TP_USER_CHANGES_INIT;
	c.enable = 1;
	c.email = "";
	assert_int_equal(tp_user_update("alice@pbs", &c, &e), 0);
	assert_int_equal(tp_user_config_load(&cfg, &e), 0);
	assert_int_equal(tp_authid_active(&cfg, "alice@pbs", 3000, &e), -TP_EPERM);
	assert_non_null(strstr(e.msg, "expired"));
	assert_string_equal(tp_user_find(&cfg, "alice@pbs")->email, "");
	tp_user_config_free(&cfg);
	c = (tp_user_changes)TP_USER_CHANGES_INIT;
	c.comment = "two\nlines";
	assert_int_equal(tp_user_update("alice@pbs", &c, &e), -EINVAL);
	assert_int_equal(tp_user_update("ghost@pbs", &c, &e), -TP_ENOTFOUND);

	char *hash = NULL;
	assert_int_equal(tp_user_password_hash("alice@pbs", &hash, &e), 0);
	assert_int_equal(tp_password_verify(hash, "secret-pw"), 0);
	free(hash);
	assert_int_equal(tp_user_remove("alice@pbs", &e), 0);
	assert_int_equal(tp_user_remove("alice@pbs", &e), -TP_ENOTFOUND);
	assert_int_equal(tp_user_remove("root@pam", &e), -EINVAL);
	assert_int_equal(tp_user_password_hash("alice@pbs", &hash, &e), -TP_ENOTFOUND);
}

static void test_tokens(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_user u = { .enable = 1 };
	snprintf(u.userid, sizeof(u.userid), "carol@pbs");
	assert_int_equal(tp_user_create(&u, NULL, &e), 0);
	char id[TP_AUTHID_MAX + 1], secret[TP_TOKEN_SECRET_LEN + 1], secret2[TP_TOKEN_SECRET_LEN + 1];
	assert_int_equal(tp_token_generate("carol@pbs", "ci", "for CI", 0, id, secret, &e), 0);
	assert_string_equal(id, "carol@pbs!ci");
	assert_int_equal(strlen(secret), 36);
	assert_int_equal(tp_token_generate("carol@pbs", "ci", NULL, 0, id, secret2, &e), -TP_EEXISTS);
	assert_int_equal(tp_token_generate("ghost@pbs", "ci", NULL, 0, id, secret2, &e), -TP_ENOTFOUND);
	assert_int_equal(tp_token_generate("carol@pbs", "x", NULL, 0, id, secret2, &e), -EINVAL);
	assert_int_equal(tp_token_generate("root@pam", "auto", NULL, 0, id, secret2, &e), 0);
	assert_true(strcmp(secret, secret2) != 0);
	assert_int_equal(file_mode("token.shadow"), 0600);
	/* the secret itself is never stored */
	tp_buf b = TP_BUF_INIT;
	char *p = tp_strdup_printf("%s/etc/token.shadow", home);
	assert_int_equal(tp_read_file(p, &b, 1 << 20, &e), 0);
	assert_null(strstr(tp_buf_cstr(&b), secret));
	tp_buf_free(&b);
	free(p);
	char *hash = NULL;
	assert_int_equal(tp_token_secret_hash("carol@pbs!ci", &hash, &e), 0);
	assert_int_equal(tp_password_verify(hash, secret), 0);
	assert_int_equal(tp_password_verify(hash, secret2), -TP_EPERM);
	free(hash);

	tp_user_config cfg;
	assert_int_equal(tp_user_config_load(&cfg, &e), 0);
	assert_int_equal(cfg.ntokens, 2);
	assert_string_equal(tp_token_find(&cfg, "carol@pbs!ci")->comment, "for CI");
	assert_int_equal(tp_authid_active(&cfg, "carol@pbs!ci", 1000, &e), 0);
	assert_int_equal(tp_authid_active(&cfg, "carol@pbs!nope", 1000, &e), -TP_EPERM);
	tp_user_config_free(&cfg);

	assert_int_equal(tp_token_remove("root@pam!auto", &e), 0);
	assert_int_equal(tp_token_remove("root@pam!auto", &e), -TP_ENOTFOUND);
	assert_int_equal(tp_token_remove("root@pam", &e), -EINVAL);
	/* removing the user removes its tokens and their secrets */
	assert_int_equal(tp_user_remove("carol@pbs", &e), 0);
	assert_int_equal(tp_user_config_load(&cfg, &e), 0);
	assert_int_equal(cfg.ntokens, 0);
	tp_user_config_free(&cfg);
	assert_int_equal(tp_token_secret_hash("carol@pbs!ci", &hash, &e), -TP_ENOTFOUND);
}

static void test_corrupt_config(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_user_config cfg;
	char *p = tp_strdup_printf("%s/etc/user.json", home);
	const char *bad1 = "{\"users\":[{\"userid\":\"no-realm\"}]}";
	assert_int_equal(tp_write_atomic(p, bad1, strlen(bad1), 0640, &e), 0);
	assert_int_equal(tp_user_config_load(&cfg, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "user #0"));
	const char *bad2 = "{\"users\":[],\"tokens\":[{\"tokenid\":\"x@pbs!tok\"}]}";
	assert_int_equal(tp_write_atomic(p, bad2, strlen(bad2), 0640, &e), 0);
	assert_int_equal(tp_user_config_load(&cfg, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "unknown user"));
	const char *bad3 = "{\"users\":[{\"userid\":\"a@pbs\",\"enable\":\"yes\"}]}";
	assert_int_equal(tp_write_atomic(p, bad3, strlen(bad3), 0640, &e), 0);
	assert_int_equal(tp_user_config_load(&cfg, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "enable"));
	unlink(p);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_create_update_remove),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_corrupt_config),
	};
	return cmocka_run_group_tests(tests, setup_home, teardown_home);
}
