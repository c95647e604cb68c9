/* Unit test: pcat1 file catalog varints, golden writer output, reader walk, dump, malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "format/pcat1.h"

static tp_buf golden;

static int load_golden(void **state)
{
	(void)state;
	const char *dir = getenv("TAPIR_FIXTURES");
	if (!dir)
		dir = TAPIR_FIXTURES;
	char *p = tp_strdup_printf("%s/pxar/golden.pcat1", dir);
	int r = tp_read_file(p, &golden, 1 << 20, NULL);
	free(p);
	return r < 0 || golden.len != 161 ? -1 : 0;
}

static int free_golden(void **state)
{
	(void)state;
	tp_buf_free(&golden);
	return 0;
}

static void test_varints(void **state)
{
	(void)state;
	uint8_t b[11];
	uint64_t u;
	int64_t s;
	assert_int_equal(tp_pcat1_put_svarint(b, -1), 2);
	assert_memory_equal(b, "\x81\x00", 2);
	assert_int_equal(tp_pcat1_put_svarint(b, -128), 3);
	assert_memory_equal(b, "\x80\x81\x00", 3);
	assert_int_equal(tp_pcat1_put_svarint(b, 1700000004), 5);
	assert_memory_equal(b, "\x84\xe2\xcf\xaa\x06", 5);
	assert_int_equal(tp_pcat1_put_svarint(b, 0), 1);
	assert_int_equal(b[0], 0);
	assert_int_equal(tp_pcat1_get_svarint(b, 1, &s), 1);
	assert_true(s == 0);
	static const int64_t sv[] = { 1, -1, 127, 128, -127, -128, 1700000004, -1700000004, INT64_MAX, INT64_MIN };
	for (size_t i = 0; i < sizeof(sv) / sizeof(sv[0]); i++) {
		size_t n = tp_pcat1_put_svarint(b, sv[i]);
		assert_true(n <= 11);
		assert_int_equal(tp_pcat1_get_svarint(b, n, &s), (int)n);
		assert_true(s == sv[i]);
		assert_true(tp_pcat1_get_svarint(b, n - 1, &s) < 0); /* truncated */
	}
	static const uint64_t uv[] = { 0, 1, 127, 128, 16383, 16384, UINT64_MAX };
	for (size_t i = 0; i < sizeof(uv) / sizeof(uv[0]); i++) {
		size_t n = tp_pcat1_put_uvarint(b, uv[i]);
		assert_int_equal(tp_pcat1_get_uvarint(b, n, &u), (int)n);
		assert_true(u == uv[i]);
	}
	assert_int_equal(tp_pcat1_put_uvarint(b, UINT64_MAX), 10);
	b[9] = 0x02; /* 65th bit */
	assert_int_equal(tp_pcat1_get_uvarint(b, 10, &u), -TP_EFORMAT);
	memset(b, 0xff, 11);
	assert_int_equal(tp_pcat1_get_uvarint(b, 11, &u), -TP_EFORMAT);
	assert_int_equal(tp_pcat1_get_svarint(b, 11, &s), -TP_EFORMAT);
}

/* The call sequence of golden.pcat1.txt. */
static int write_golden(tp_buf *out, tp_err *e)
{
	tp_pcat1_writer w;
	int r = tp_pcat1_writer_init(&w, tp_pxar_sink_buf, out, e);
	if (r == 0) r = tp_pcat1_begin_dir(&w, "root.pxar.didx", e);
	if (r == 0) r = tp_pcat1_add_file(&w, "Zebra", 0, 1700000002, e);
	if (r == 0) r = tp_pcat1_add_file(&w, "a.txt", 6, 1700000001, e);
	if (r == 0) r = tp_pcat1_begin_dir(&w, "bin", e);
	if (r == 0) r = tp_pcat1_add_file(&w, "tool", 10, 1700000004, e);
	if (r == 0) r = tp_pcat1_add_hardlink(&w, "tool2", e);
	if (r == 0) r = tp_pcat1_end_dir(&w, e);
	if (r == 0) r = tp_pcat1_begin_dir(&w, "dev", e);
	if (r == 0) r = tp_pcat1_add_char_device(&w, "null", e);
	if (r == 0) r = tp_pcat1_add_block_device(&w, "sda", e);
	if (r == 0) r = tp_pcat1_end_dir(&w, e);
	if (r == 0) r = tp_pcat1_add_symlink(&w, "link", e);
	if (r == 0) r = tp_pcat1_add_fifo(&w, "pipe", e);
	if (r == 0) r = tp_pcat1_begin_dir(&w, "shared", e);
	if (r == 0) r = tp_pcat1_add_file(&w, "empty", 0, -1, e);
	if (r == 0) r = tp_pcat1_end_dir(&w, e);
	if (r == 0) r = tp_pcat1_add_socket(&w, "sock", e);
	if (r == 0) r = tp_pcat1_add_file(&w, "\xc3\xbc" "ber", 1, 1700000010, e);
	if (r == 0) r = tp_pcat1_end_dir(&w, e);
	if (r == 0) r = tp_pcat1_finish(&w, e);
	tp_pcat1_writer_free(&w);
	return r;
}

static void test_write_golden(void **state)
{
	(void)state;
	tp_buf out = TP_BUF_INIT;
	tp_err e = { 0 };
	if (write_golden(&out, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(out.len, golden.len);
	assert_memory_equal(out.data, golden.data, golden.len);
	tp_buf_free(&out);
}

static void test_writer_refusals(void **state)
{
	(void)state;
	tp_buf out = TP_BUF_INIT;
	tp_err e = { 0 };
	tp_pcat1_writer w;
	assert_int_equal(tp_pcat1_writer_init(&w, tp_pxar_sink_buf, &out, &e), 0);
	assert_int_equal(tp_pcat1_add_file(&w, "a/b", 0, 0, &e), -EINVAL);
	assert_int_equal(tp_pcat1_add_file(&w, "..", 0, 0, &e), -EINVAL);
	assert_int_equal(tp_pcat1_begin_dir(&w, "", &e), -EINVAL);
	assert_int_equal(tp_pcat1_end_dir(&w, &e), -EINVAL);
	assert_int_equal(tp_pcat1_begin_dir(&w, "x", &e), 0);
	assert_int_equal(tp_pcat1_finish(&w, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "1 directories still open"));
	assert_int_equal(tp_pcat1_end_dir(&w, &e), 0);
	assert_int_equal(tp_pcat1_finish(&w, &e), 0);
	assert_int_equal(tp_pcat1_add_fifo(&w, "late", &e), -EINVAL);
	tp_pcat1_writer_free(&w);
	/* magic, block of x (length 1, count 0), root block, trailer */
	tp_pcat1 c;
	assert_int_equal(out.len, 24);
	assert_memory_equal(out.data + 8, "\x01\x00\x05\x01" "d\x01x\x02", 8);
	assert_int_equal(tp_pcat1_open(&c, out.data, out.len, &e), 0);
	assert_int_equal(c.root, 10);
	tp_buf_free(&out);
}

struct listing {
	tp_buf text;
};

static int list_visit(void *ctx, const char *path, const tp_pcat1_entry *en, tp_err *err)
{
	(void)err;
	struct listing *l = ctx;
	tp_buf_printf(&l->text, "%c %s", en->type, path);
	if (en->type == 'f')
		tp_buf_printf(&l->text, " %llu %lld", (unsigned long long)en->size, (long long)en->mtime);
	if (en->type == 'd')
		tp_buf_printf(&l->text, " @%llu", (unsigned long long)en->child);
	tp_buf_append_u8(&l->text, '\n');
	return 0;
}

static void test_read_golden(void **state)
{
	(void)state;
	tp_pcat1 c;
	tp_err e = { 0 };
	assert_int_equal(tp_pcat1_open(&c, golden.data, golden.len, &e), 0);
	assert_int_equal(c.root, 134);
	struct listing l = { TP_BUF_INIT };
	assert_int_equal(tp_pcat1_walk(&c, list_visit, &l, &e), 0);
	assert_string_equal(tp_buf_cstr(&l.text),
			    "d /root.pxar.didx @54\n"
			    "f /root.pxar.didx/Zebra 0 1700000002\n"
			    "f /root.pxar.didx/a.txt 6 1700000001\n"
			    "d /root.pxar.didx/bin @8\n"
			    "f /root.pxar.didx/bin/tool 10 1700000004\n"
			    "h /root.pxar.didx/bin/tool2\n"
			    "d /root.pxar.didx/dev @29\n"
			    "c /root.pxar.didx/dev/null\n"
			    "b /root.pxar.didx/dev/sda\n"
			    "l /root.pxar.didx/link\n"
			    "p /root.pxar.didx/pipe\n"
			    "d /root.pxar.didx/shared @42\n"
			    "f /root.pxar.didx/shared/empty 0 -1\n"
			    "s /root.pxar.didx/sock\n"
			    "f /root.pxar.didx/\xc3\xbc" "ber 1 1700000010\n");
	tp_buf_free(&l.text);

	tp_pcat1_entry *en;
	size_t n;
	assert_int_equal(tp_pcat1_read_dir(&c, 54, &en, &n, &e), 0);
	assert_int_equal(n, 9);
	assert_int_equal(en[8].name_len, 5);
	assert_memory_equal(en[8].name, "\xc3\xbc" "ber", 5);
	free(en);

	tp_buf d = TP_BUF_INIT;
	assert_int_equal(tp_pcat1_dump(&c, &d, &e), 0);
	const char *s = tp_buf_cstr(&d);
	assert_non_null(strstr(s, "f 10 2023-11-14T22:13:24Z /root.pxar.didx/bin/tool\n"));
	assert_non_null(strstr(s, "f 0 1969-12-31T23:59:59Z /root.pxar.didx/shared/empty\n"));
	assert_non_null(strstr(s, "h - - /root.pxar.didx/bin/tool2\n"));
	assert_true(strncmp(s, "d - - /root.pxar.didx\n", 22) == 0);
	tp_buf_free(&d);
}

static int walk_bytes(const uint8_t *p, size_t len, tp_err *e)
{
	tp_pcat1 c;
	int r = tp_pcat1_open(&c, p, len, e);
	if (r < 0)
		return r;
	struct listing l = { TP_BUF_INIT };
	r = tp_pcat1_walk(&c, list_visit, &l, e);
	tp_buf_free(&l.text);
	return r;
}

static void test_read_malformed(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_buf b = TP_BUF_INIT;
	/* every truncation fails (the trailer moves) */
	for (size_t len = 0; len < golden.len; len++)
		assert_true(walk_bytes(golden.data, len, &e) < 0);
	tp_buf_append(&b, golden.data, golden.len);
	b.data[0] ^= 1;
	assert_int_equal(walk_bytes(b.data, b.len, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "bad magic"));
	b.data[0] ^= 1;
	/* unknown type byte in the bin block */
	b.data[0x0a] = 'x';
	assert_int_equal(walk_bytes(b.data, b.len, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "unknown type"));
	b.data[0x0a] = 'f';
	/* the 'bin' name becomes "b/n" */
	b.data[0x55] = '/';
	assert_int_equal(walk_bytes(b.data, b.len, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "invalid name"));
	b.data[0x55] = 'i';
	assert_int_equal(walk_bytes(b.data, b.len, &e), 0);
	/* 'd' dev now points at the bin block as well: shared blocks are refused */
	assert_int_equal(b.data[0x5d], 0x19);
	b.data[0x5d] = 0x2e;
	assert_int_equal(walk_bytes(b.data, b.len, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "referenced twice"));
	b.data[0x5d] = 0x19;
	/* root offset beyond the data */
	b.data[b.len - 8] = 0xff;
	assert_int_equal(walk_bytes(b.data, b.len, &e), -TP_EFORMAT);
	tp_buf_free(&b);

	/* a catalog whose root block references itself: rel 0 */
	tp_buf_append(&b, golden.data, 8);
	static const uint8_t self[] = { 0x05, 0x01, 'd', 0x01, 'x', 0x00 };
	tp_buf_append(&b, self, sizeof(self));
	tp_buf_append_le64(&b, 8);
	assert_int_equal(walk_bytes(b.data, b.len, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "child block"));
	tp_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_varints),
		cmocka_unit_test(test_write_golden),
		cmocka_unit_test(test_writer_refusals),
		cmocka_unit_test(test_read_golden),
		cmocka_unit_test(test_read_malformed),
	};
	return cmocka_run_group_tests(tests, load_golden, free_golden);
}
