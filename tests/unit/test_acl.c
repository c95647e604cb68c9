/* Unit test: ACL path validation, role contents, privilege propagation, tokens, owner checks, acl.json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "access/acl.h"
#include "access/user.h"
#include "base/fsutil.h"

static char home[64];

static int setup_home(void **state)
{
	(void)state;
	snprintf(home, sizeof(home), "/tmp/tapir-test-acl.XXXXXX");
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

static void add_user(tp_user_config *c, const char *id, int enable, int64_t expire)
{
	c->users = realloc(c->users, (c->nusers + 1) * sizeof(tp_user));
	assert_non_null(c->users);
	tp_user *u = &c->users[c->nusers++];
	memset(u, 0, sizeof(*u));
	snprintf(u->userid, sizeof(u->userid), "%s", id);
	u->enable = enable;
	u->expire = expire;
}

static void add_token(tp_user_config *c, const char *id)
{
	c->tokens = realloc(c->tokens, (c->ntokens + 1) * sizeof(tp_token));
	assert_non_null(c->tokens);
	tp_token *t = &c->tokens[c->ntokens++];
	memset(t, 0, sizeof(*t));
	snprintf(t->tokenid, sizeof(t->tokenid), "%s", id);
	t->enable = 1;
}

static uint64_t privs(const tp_acl *acl, const tp_user_config *u, const char *who, const char *path)
{
	uint64_t p = 0xdead;
	tp_err e = { 0 };
	assert_int_equal(tp_acl_privs(acl, u, who, path, 1000, &p, NULL, &e), 0);
	return p;
}

static void test_paths(void **state)
{
	(void)state;
	static const char *const ok[] = {
		"/", "/tape", "/tape/device/drive1", "/tape/pool/P", "/tape/job/j1", "/tape/device", "/tape/pool",
		"/datastore", "/datastore/store1", "/datastore/store1/a/b/c/d/e/f/g", "/access", "/access/acl",
		"/access/users", "/access/domains", "/access/openid/x", "/system", "/system/tasks",
		"/system/services/proxy", "/system/network/interfaces/eth0", "/system/network/dns",
		"/remote/r1/store", "//tape//pool/P/", NULL
	};
	static const char *const bad[] = {
		"/tape/drive/x", "/tape/changer/x", "/tape/drive", "/tape/device/x/y", "/tape/pool/P/x",
		"/datastore/store1/a/b/c/d/e/f/g/h", "/access/foo", "/access/acl/x", "/system/foo",
		"/system/tasks/x", "/foo", "tape", "", "/datastore/../x", "/datastore/a b", "/remote/a/b/c", NULL
	};
	tp_err e = { 0 };
	for (int i = 0; ok[i]; i++) {
		if (tp_acl_path_check(ok[i], &e) != 0)
			fail_msg("rejected %s: %s", ok[i], e.msg);
	}
	for (int i = 0; bad[i]; i++) {
		tp_err_clear(&e);
		if (tp_acl_path_check(bad[i], &e) != -EINVAL)
			fail_msg("accepted %s", bad[i]);
		assert_non_null(strstr(e.msg, "ACL path"));
	}
	char out[TP_ACL_PATH_MAX + 1];
	assert_int_equal(tp_acl_path_normalize("//tape//pool/P/", out, &e), 0);
	assert_string_equal(out, "/tape/pool/P");
	assert_int_equal(tp_acl_path_normalize("/", out, &e), 0);
	assert_string_equal(out, "/");
}

static void test_roles(void **state)
{
	(void)state;
	assert_true(tp_role_lookup("TapeReader")->privs == (TP_PRIV_TAPE_AUDIT | TP_PRIV_TAPE_READ));
	assert_true(tp_role_lookup("TapeOperator")->privs ==
		    (TP_PRIV_TAPE_AUDIT | TP_PRIV_TAPE_READ | TP_PRIV_TAPE_WRITE));
	assert_true(tp_role_lookup("TapeAdmin")->privs ==
		    (TP_PRIV_TAPE_AUDIT | TP_PRIV_TAPE_READ | TP_PRIV_TAPE_WRITE | TP_PRIV_TAPE_MODIFY));
	assert_true(tp_role_lookup("TapeAudit")->privs == TP_PRIV_TAPE_AUDIT);
	assert_true(tp_role_lookup("Admin")->privs == TP_PRIV_ALL);
	assert_true(tp_role_lookup("NoAccess")->privs == 0);
	assert_true(tp_role_lookup("Audit")->privs == (TP_PRIV_SYS_AUDIT | TP_PRIV_DATASTORE_AUDIT));
	assert_true(tp_role_lookup("DatastoreBackup")->privs == TP_PRIV_DATASTORE_BACKUP);
	assert_true(tp_role_lookup("DatastorePowerUser")->privs == (TP_PRIV_DATASTORE_BACKUP | TP_PRIV_DATASTORE_PRUNE));
	assert_false(tp_role_lookup("DatastoreAdmin")->privs & TP_PRIV_DATASTORE_ALLOCATE);
	assert_true(tp_role_lookup("DatastoreAdmin")->privs & TP_PRIV_DATASTORE_MODIFY);
	assert_null(tp_role_lookup("Superuser"));
	uint64_t b = 0;
	tp_err e = { 0 };
	assert_int_equal(tp_priv_parse("Tape.Write", &b, &e), 0);
	assert_true(b == TP_PRIV_TAPE_WRITE);
	assert_int_equal(tp_priv_parse("Tape.Fly", &b, &e), -EINVAL);
	char s[256];
	tp_privs_format(TP_PRIV_TAPE_AUDIT | TP_PRIV_TAPE_READ, s, sizeof(s));
	assert_string_equal(s, "Tape.Audit,Tape.Read");
	/* every privilege bit has exactly one name */
	uint64_t all = 0;
	for (size_t i = 0; i < tp_priv_count; i++) {
		assert_false(all & tp_privs[i].bit);
		all |= tp_privs[i].bit;
	}
	assert_true(all == TP_PRIV_ALL);
}

static void test_propagation(void **state)
{
	(void)state;
	tp_acl acl = { 0 };
	tp_user_config u = { 0 };
	tp_err e = { 0 };
	add_user(&u, "alice@pbs", 1, 0);
	add_user(&u, "bob@pbs", 1, 0);
	assert_int_equal(tp_acl_set(&acl, "/tape/pool/P", "alice@pbs", "TapeReader", 1, 0, &e), 0);
	uint64_t p = privs(&acl, &u, "alice@pbs", "/tape/pool/P");
	assert_true(p == (TP_PRIV_TAPE_AUDIT | TP_PRIV_TAPE_READ));
	assert_true(privs(&acl, &u, "alice@pbs", "/tape/pool/Q") == 0);
	assert_true(privs(&acl, &u, "alice@pbs", "/tape") == 0);
	assert_true(privs(&acl, &u, "bob@pbs", "/tape/pool/P") == 0);

	/* propagate=0 applies only on the exact path */
	assert_int_equal(tp_acl_set(&acl, "/datastore/s1", "bob@pbs", "DatastoreReader", 0, 0, &e), 0);
	assert_true(privs(&acl, &u, "bob@pbs", "/datastore/s1") & TP_PRIV_DATASTORE_READ);
	assert_true(privs(&acl, &u, "bob@pbs", "/datastore/s1/ns1") == 0);
	/* propagate=1 reaches namespaces below */
	assert_int_equal(tp_acl_set(&acl, "/datastore/s1", "bob@pbs", "DatastoreReader", 1, 0, &e), 0);
	assert_true(privs(&acl, &u, "bob@pbs", "/datastore/s1/ns1/ns2") & TP_PRIV_DATASTORE_READ);

	/* the most specific level wins: a role on /tape/pool/P replaces what /tape gives */
	assert_int_equal(tp_acl_set(&acl, "/tape", "bob@pbs", "TapeAdmin", 1, 0, &e), 0);
	assert_int_equal(tp_acl_set(&acl, "/tape/pool/P", "bob@pbs", "TapeAudit", 1, 0, &e), 0);
	assert_true(privs(&acl, &u, "bob@pbs", "/tape/device/d1") & TP_PRIV_TAPE_MODIFY);
	assert_true(privs(&acl, &u, "bob@pbs", "/tape/pool/P") == TP_PRIV_TAPE_AUDIT);
	/* NoAccess on a drive cuts off the propagated admin role there only */
	assert_int_equal(tp_acl_set(&acl, "/tape/device/d2", "bob@pbs", "NoAccess", 1, 0, &e), 0);
	assert_true(privs(&acl, &u, "bob@pbs", "/tape/device/d2") == 0);
	assert_true(privs(&acl, &u, "bob@pbs", "/tape/device/d1") != 0);
	/* two roles on one level add up */
	assert_int_equal(tp_acl_set(&acl, "/tape/pool/P", "bob@pbs", "TapeOperator", 0, 0, &e), 0);
	uint64_t prop = 0;
	assert_int_equal(tp_acl_privs(&acl, &u, "bob@pbs", "/tape/pool/P", 1000, &p, &prop, &e), 0);
	assert_true(p == (TP_PRIV_TAPE_AUDIT | TP_PRIV_TAPE_READ | TP_PRIV_TAPE_WRITE));
	assert_true(prop == TP_PRIV_TAPE_AUDIT);
	/* removing */
	assert_int_equal(tp_acl_set(&acl, "/tape/pool/P", "bob@pbs", "TapeOperator", 0, 1, &e), 0);
	assert_int_equal(tp_acl_set(&acl, "/tape/pool/P", "bob@pbs", "TapeOperator", 0, 1, &e), -TP_ENOTFOUND);
	assert_true(privs(&acl, &u, "bob@pbs", "/tape/pool/P") == TP_PRIV_TAPE_AUDIT);

	/* bad input */
	assert_int_equal(tp_acl_set(&acl, "/tape/drive/x", "bob@pbs", "TapeAdmin", 1, 0, &e), -EINVAL);
	assert_int_equal(tp_acl_set(&acl, "/tape", "bob@pbs", "Wizard", 1, 0, &e), -EINVAL);
	assert_int_equal(tp_acl_set(&acl, "/tape", "@admins", "TapeAdmin", 1, 0, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "groups"));
	assert_int_equal(tp_acl_privs(&acl, &u, "bob@pbs", "/tape/changer/c", 1000, &p, NULL, &e), -EINVAL);
	tp_acl_free(&acl);
	tp_user_config_free(&u);
}

static void test_tokens_root_inactive(void **state)
{
	(void)state;
	tp_acl acl = { 0 };
	tp_user_config u = { 0 };
	tp_err e = { 0 };
	add_user(&u, "carol@pbs", 1, 0);
	add_user(&u, "dave@pbs", 0, 0);
	add_user(&u, "erin@pbs", 1, 500);
	add_token(&u, "carol@pbs!ci");
	add_token(&u, "root@pam!auto");
	/* the token has more than its user: it is limited to the intersection */
	assert_int_equal(tp_acl_set(&acl, "/", "carol@pbs!ci", "Admin", 1, 0, &e), 0);
	assert_int_equal(tp_acl_set(&acl, "/datastore", "carol@pbs", "DatastoreBackup", 1, 0, &e), 0);
	assert_true(privs(&acl, &u, "carol@pbs!ci", "/datastore/s1") == TP_PRIV_DATASTORE_BACKUP);
	assert_true(privs(&acl, &u, "carol@pbs!ci", "/tape") == 0);
	/* the user does not inherit the token's rights */
	assert_true(privs(&acl, &u, "carol@pbs", "/tape") == 0);
	/* a token without own entries has nothing */
	assert_true(privs(&acl, &u, "root@pam!auto", "/tape") == 0);
	assert_int_equal(tp_acl_set(&acl, "/tape", "root@pam!auto", "TapeReader", 1, 0, &e), 0);
	assert_true(privs(&acl, &u, "root@pam!auto", "/tape/pool/x") == (TP_PRIV_TAPE_AUDIT | TP_PRIV_TAPE_READ));
	/* root@pam has everything without any entry */
	assert_true(privs(&acl, &u, "root@pam", "/system") == TP_PRIV_ALL);
	/* unknown, disabled and expired (expire 500 < now 1000) users have nothing */
	assert_int_equal(tp_acl_set(&acl, "/", "dave@pbs", "Admin", 1, 0, &e), 0);
	assert_int_equal(tp_acl_set(&acl, "/", "erin@pbs", "Admin", 1, 0, &e), 0);
	assert_int_equal(tp_acl_set(&acl, "/", "ghost@pbs", "Admin", 1, 0, &e), 0);
	assert_true(privs(&acl, &u, "dave@pbs", "/") == 0);
	assert_true(privs(&acl, &u, "erin@pbs", "/") == 0);
	assert_true(privs(&acl, &u, "ghost@pbs", "/") == 0);
	uint64_t p;
	assert_int_equal(tp_acl_privs(&acl, &u, "erin@pbs", "/", 100, &p, NULL, &e), 0);
	assert_true(p == TP_PRIV_ALL);
	/* a token of an unknown token id has nothing even if the user does */
	assert_int_equal(tp_acl_set(&acl, "/", "carol@pbs!gone", "Admin", 1, 0, &e), 0);
	assert_true(privs(&acl, &u, "carol@pbs!gone", "/datastore") == 0);
	/* dropping a user drops its tokens' entries too */
	size_t before = acl.n;
	assert_int_equal(tp_acl_drop_authid(&acl, "carol@pbs"), 3);
	assert_int_equal(acl.n, before - 3);
	tp_acl_free(&acl);
	tp_user_config_free(&u);
}

static void test_owner(void **state)
{
	(void)state;
	assert_true(tp_owner_matches("a@pbs", "a@pbs"));
	assert_true(tp_owner_matches("a@pbs!t1", "a@pbs"));
	assert_true(tp_owner_matches("a@pbs", "a@pbs!t1"));
	assert_false(tp_owner_matches("a@pbs!t1", "a@pbs!t2"));
	assert_false(tp_owner_matches("a@pbs", "b@pbs"));
	assert_false(tp_owner_matches("a@pbs", "a@pbsx"));
	assert_false(tp_owner_matches("a@pb", "a@pbs"));
}

static void test_config_files(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_user u = { .enable = 1 };
	snprintf(u.userid, sizeof(u.userid), "frank@pbs");
	assert_int_equal(tp_user_create(&u, NULL, &e), 0);
	assert_int_equal(tp_acl_update("/tape/pool/P", "TapeReader", "frank@pbs", 1, 0, &e), 0);
	assert_int_equal(tp_acl_update("/tape/pool/P", "TapeReader", "nobody@pbs", 1, 0, &e), -TP_ENOTFOUND);
	assert_non_null(strstr(e.msg, "does not exist"));
	assert_int_equal(tp_acl_update("/tape/drive/d", "TapeReader", "frank@pbs", 1, 0, &e), -EINVAL);
	assert_int_equal(tp_acl_check("frank@pbs", "/tape/pool/P", TP_PRIV_TAPE_READ, 0, &e), 0);
	tp_err_clear(&e);
	assert_int_equal(tp_acl_check("frank@pbs", "/tape/pool/Q", TP_PRIV_TAPE_READ, 0, &e), -TP_EPERM);
	assert_string_equal(e.msg, "permission check failed: frank@pbs lacks Tape.Read on /tape/pool/Q");
	assert_int_equal(tp_acl_check("frank@pbs", "/tape/pool/P", TP_PRIV_TAPE_WRITE | TP_PRIV_TAPE_READ, 1, &e), 0);
	assert_int_equal(tp_acl_check("frank@pbs", "/tape/pool/P", TP_PRIV_TAPE_WRITE | TP_PRIV_TAPE_READ, 0, &e),
			 -TP_EPERM);
	assert_non_null(strstr(e.msg, "Tape.Write"));
	assert_null(strstr(e.msg, "Tape.Read"));
	/* owner check: Datastore.Modify on the store allows acting for others */
	assert_int_equal(tp_acl_check_owner("frank@pbs", "other@pbs", "/datastore/s1", &e), -TP_EPERM);
	assert_non_null(strstr(e.msg, "owner check failed"));
	assert_int_equal(tp_acl_update("/datastore/s1", "DatastoreAdmin", "frank@pbs", 1, 0, &e), 0);
	assert_int_equal(tp_acl_check_owner("frank@pbs", "other@pbs", "/datastore/s1/ns", &e), 0);
	assert_int_equal(tp_acl_check_owner("frank@pbs", "other@pbs", "/datastore/s2", &e), -TP_EPERM);
	/* round trip through acl.json */
	tp_acl acl;
	assert_int_equal(tp_acl_load(&acl, &e), 0);
	assert_int_equal(acl.n, 2);
	assert_string_equal(acl.e[0].path, "/datastore/s1");
	assert_string_equal(acl.e[1].role, "TapeReader");
	assert_int_equal(acl.e[1].propagate, 1);
	tp_acl_free(&acl);
	/* removing the user removes its ACL entries */
	assert_int_equal(tp_user_remove("frank@pbs", &e), 0);
	assert_int_equal(tp_acl_load(&acl, &e), 0);
	assert_int_equal(acl.n, 0);
	tp_acl_free(&acl);
	/* a corrupt acl.json is reported with the file and entry */
	char *p = tp_path_join(home, "etc/acl.json");
	const char *bad = "[{\"path\":\"/tape/drive/x\",\"ugid\":\"a@pbs\",\"roleid\":\"Admin\",\"propagate\":true}]";
	assert_int_equal(tp_write_atomic(p, bad, strlen(bad), 0640, &e), 0);
	assert_int_equal(tp_acl_load(&acl, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "entry #0"));
	unlink(p);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_propagation),
		cmocka_unit_test(test_tokens_root_inactive),
		cmocka_unit_test(test_owner),
		cmocka_unit_test(test_config_files),
	};
	return cmocka_run_group_tests(tests, setup_home, teardown_home);
}
