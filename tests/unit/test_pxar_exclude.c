/* Unit test: .pxarexclude / --exclude patterns (glob syntax, anchoring, negation, dir-only, per-directory files). */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "store/pxar_exclude.h"

static void test_glob(void **state)
{
	(void)state;
	assert_true(tp_pxar_glob_match("a*c", "abbc"));
	assert_true(tp_pxar_glob_match("a*c", "ac"));
	assert_false(tp_pxar_glob_match("a*c", "ab/c"));      /* '*' stops at '/' */
	assert_true(tp_pxar_glob_match("a?c", "abc"));
	assert_false(tp_pxar_glob_match("a?c", "a/c"));
	assert_false(tp_pxar_glob_match("a?c", "ac"));
	assert_true(tp_pxar_glob_match("*.o", ".o"));
	assert_true(tp_pxar_glob_match("[a-c]x", "bx"));
	assert_false(tp_pxar_glob_match("[a-c]x", "dx"));
	assert_true(tp_pxar_glob_match("[!a-c]x", "dx"));
	assert_true(tp_pxar_glob_match("[]]", "]"));
	assert_true(tp_pxar_glob_match("\\*", "*"));
	assert_false(tp_pxar_glob_match("\\*", "x"));
	assert_true(tp_pxar_glob_match("/a/**/z", "/a/z"));
	assert_true(tp_pxar_glob_match("/a/**/z", "/a/b/c/z"));
	assert_false(tp_pxar_glob_match("/a/**/z", "/a/bz"));
	assert_true(tp_pxar_glob_match("/a/**", "/a/b/c"));
	assert_true(tp_pxar_glob_match("a**z", "a/b/z"));
	assert_false(tp_pxar_glob_match("abc", "abcd"));
	assert_false(tp_pxar_glob_match("abcd", "abc"));
}

/* Patterns with many stars against long paths: the right answer, without exponential backtracking (the suite's timeout would catch it). */
static void test_glob_pathological(void **state)
{
	(void)state;
	char path[400], comp[300];
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = 0;
	assert_false(tp_pxar_glob_match("**a**a**a**a**a**a**a**a**a**b", path));
	path[sizeof(path) - 2] = 'b';
	assert_true(tp_pxar_glob_match("**a**a**a**a**a**a**a**a**a**b", path));
	path[200] = '/'; /* '*' stops at a slash, "**" does not */
	assert_true(tp_pxar_glob_match("**a**a**a**a**a**a**a**a**a**b", path));
	assert_false(tp_pxar_glob_match("/*a*a*a*a*a*a*a*a*a*b", path));
	memset(comp, 'a', sizeof(comp) - 1);
	comp[sizeof(comp) - 1] = 0;
	assert_false(tp_pxar_glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*b", comp));
	comp[sizeof(comp) - 2] = 'b';
	assert_true(tp_pxar_glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*b", comp));
	assert_false(tp_pxar_glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*c", comp));

	/* the same through a .pxarexclude line, unanchored: tried at every component */
	tp_pxar_excludes x = { 0 };
	tp_err e = { 0 };
	const char *line = "a*a*a*a*a*a*a*a*a*a*a*c";
	assert_int_equal(tp_pxar_excludes_add_line(&x, line, strlen(line), "", &e), 0);
	assert_false(tp_pxar_excludes_match(&x, path, 0));
	/* a pattern longer than TP_PXAR_PATTERN_MAX is refused, named */
	static char big[TP_PXAR_PATTERN_MAX + 10];
	memset(big, '*', sizeof(big) - 1);
	assert_int_equal(tp_pxar_excludes_add_line(&x, big, strlen(big), "", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "longer than 4096 bytes"));
	/* a lone '!' (the decoder used to look at the byte after the line) */
	char bang[2] = { '!', 'X' };
	assert_int_equal(tp_pxar_excludes_add_line(&x, bang, 1, "", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "names nothing to include"));
	tp_pxar_excludes_free(&x);
}

static void test_lines_and_matching(void **state)
{
	(void)state;
	tp_pxar_excludes x = { 0 };
	tp_err e = { 0 };
	assert_int_equal(tp_pxar_excludes_add_line(&x, "  # comment", 11, "", &e), 1);
	assert_int_equal(tp_pxar_excludes_add_line(&x, " \t ", 3, "", &e), 1);
	assert_int_equal(x.n, 0);
	assert_int_equal(tp_pxar_excludes_add_cli(&x, "*.tmp", &e), 0);        /* anywhere */
	assert_int_equal(tp_pxar_excludes_add_line(&x, "/build/\n", 8, "", &e), 0); /* anchored, dirs only */
	assert_int_equal(tp_pxar_excludes_add_line(&x, "!keep.tmp", 9, "", &e), 0);
	assert_int_equal(x.n, 3);
	assert_true(x.v[1].dir_only);
	assert_string_equal(x.v[1].glob, "/build");
	assert_true(x.v[2].include);
	assert_true(tp_pxar_excludes_match(&x, "/a.tmp", 0));
	assert_true(tp_pxar_excludes_match(&x, "/d/e/a.tmp", 0));
	assert_false(tp_pxar_excludes_match(&x, "/d/keep.tmp", 0));  /* the later include wins */
	assert_false(tp_pxar_excludes_match(&x, "/d/a.tmpx", 0));
	assert_true(tp_pxar_excludes_match(&x, "/build", 1));
	assert_false(tp_pxar_excludes_match(&x, "/build", 0));       /* a file named build stays */
	assert_false(tp_pxar_excludes_match(&x, "/src/build", 1));   /* anchored at the root */
	/* a sub-directory's file: "/x" anchors there, plain names anywhere below */
	size_t n0 = x.n;
	assert_int_equal(tp_pxar_excludes_add_line(&x, "/x", 2, "/src", &e), 0);
	assert_int_equal(tp_pxar_excludes_add_line(&x, "!/a.tmp", 7, "/src", &e), 0);
	assert_int_equal(tp_pxar_excludes_add_line(&x, "sub/y", 5, "/src", &e), 0);
	assert_string_equal(x.v[n0].glob, "/src/x");
	assert_true(tp_pxar_excludes_match(&x, "/src/x", 0));
	assert_false(tp_pxar_excludes_match(&x, "/src/d/x", 0));
	assert_false(tp_pxar_excludes_match(&x, "/src/a.tmp", 0));
	assert_true(tp_pxar_excludes_match(&x, "/src/d/a.tmp", 0));
	assert_true(tp_pxar_excludes_match(&x, "/src/q/sub/y", 0));
	assert_false(tp_pxar_excludes_match(&x, "/src/q/xsub/y", 0));
	tp_pxar_excludes_truncate(&x, n0);
	assert_int_equal(x.n, n0);
	assert_false(tp_pxar_excludes_match(&x, "/src/x", 0));
	/* .pxarexclude-cli text of the CLI patterns */
	tp_pxar_excludes c = { 0 };
	assert_int_equal(tp_pxar_excludes_add_cli(&c, "*.tmp", &e), 0);
	assert_int_equal(tp_pxar_excludes_add_cli(&c, "/cache/", &e), 0);
	tp_buf b = TP_BUF_INIT;
	assert_int_equal(tp_pxar_excludes_cli_text(&c, c.n, &b), 0);
	assert_int_equal(b.len, strlen("*.tmp\n/cache/\n"));
	assert_memory_equal(b.data, "*.tmp\n/cache/\n", b.len);
	tp_buf_free(&b);
	/* bad patterns are refused with their text */
	assert_int_equal(tp_pxar_excludes_add_cli(&c, "a[b", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "'a[b': unclosed '['"));
	assert_int_equal(tp_pxar_excludes_add_cli(&c, "a\\", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "trailing backslash"));
	assert_int_equal(tp_pxar_excludes_add_cli(&c, "/", &e), -EINVAL);
	assert_int_equal(c.n, 2);
	tp_pxar_excludes_free(&c);
	tp_pxar_excludes_free(&x);
}

static void test_load_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/tapir-ut-pxex.XXXXXX";
	assert_non_null(mkdtemp(dir));
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);
	tp_pxar_excludes x = { 0 };
	tp_err e = { 0 };
	assert_int_equal(tp_pxar_excludes_load(&x, dfd, "/d", &e), 0); /* no file: nothing */
	assert_int_equal(x.n, 0);
	const char text[] = "# cache\n*.o\n\n  /out/  \nbad[\n!/out/keep\r\nlast-no-newline";
	char p[128];
	snprintf(p, sizeof(p), "%s/.pxarexclude", dir);
	assert_int_equal(tp_write_atomic(p, text, sizeof(text) - 1, 0644, &e), 0);
	assert_int_equal(tp_pxar_excludes_load(&x, dfd, "/d", &e), 4); /* the bad line is skipped */
	assert_int_equal(x.n, 4);
	assert_string_equal(x.v[0].glob, "*.o");
	assert_string_equal(x.v[1].glob, "/d/out");
	assert_true(x.v[1].dir_only);
	assert_string_equal(x.v[2].glob, "/d/out/keep");
	assert_true(x.v[2].include);
	assert_string_equal(x.v[3].glob, "last-no-newline");
	assert_true(tp_pxar_excludes_match(&x, "/d/out", 1));
	assert_true(tp_pxar_excludes_match(&x, "/d/z/m.o", 0));
	tp_pxar_excludes_free(&x);
	close(dfd);
	tp_rm_rf(dir, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_glob),
		cmocka_unit_test(test_glob_pathological),
		cmocka_unit_test(test_lines_and_matching),
		cmocka_unit_test(test_load_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
