/* Unit test: pxar v1 BST layout, golden archive encode/decode, goodbye lookups, malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "crypto/siphash.h"
#include "format/pxar.h"

static tp_buf golden;

static int load_golden(void **state)
{
	(void)state;
	const char *dir = getenv("TAPIR_FIXTURES");
	if (!dir)
		dir = TAPIR_FIXTURES;
	char *p = tp_strdup_printf("%s/pxar/golden-v1.pxar", dir);
	tp_err e = { 0 };
	int r = tp_read_file(p, &golden, 1 << 20, &e);
	free(p);
	if (r < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return -1;
	}
	return golden.len == 2113 ? 0 : -1;
}

static int free_golden(void **state)
{
	(void)state;
	tp_buf_free(&golden);
	return 0;
}

/* ------------------------------------------------------------- BST */

static void test_bst_permutation(void **state)
{
	(void)state;
	static const size_t want[17][17] = {
		{ 0 },
		{ 1, 0 },
		{ 1, 0, 2 },
		{ 2, 1, 3, 0 },
		{ 3, 1, 4, 0, 2 },
		{ 3, 1, 5, 0, 2, 4 },
		{ 3, 1, 5, 0, 2, 4, 6 },
		{ 4, 2, 6, 1, 3, 5, 7, 0 },
		{ 5, 3, 7, 1, 4, 6, 8, 0, 2 },
		{ 6, 3, 8, 1, 5, 7, 9, 0, 2, 4 },
		{ 7, 3, 9, 1, 5, 8, 10, 0, 2, 4, 6 },
		{ 7, 3, 10, 1, 5, 9, 11, 0, 2, 4, 6, 8 },
		{ 7, 3, 11, 1, 5, 9, 12, 0, 2, 4, 6, 8, 10 },
		{ 7, 3, 11, 1, 5, 9, 13, 0, 2, 4, 6, 8, 10, 12 },
		{ 7, 3, 11, 1, 5, 9, 13, 0, 2, 4, 6, 8, 10, 12, 14 },
		{ 8, 4, 12, 2, 6, 10, 14, 1, 3, 5, 7, 9, 11, 13, 15, 0 },
		{ 9, 5, 13, 3, 7, 11, 15, 1, 4, 6, 8, 10, 12, 14, 16, 0, 2 },
	};
	for (size_t n = 1; n <= 17; n++) {
		size_t out[17];
		memset(out, 0xff, sizeof(out));
		tp_pxar_bst_permutation(n, out);
		for (size_t k = 0; k < n; k++)
			assert_int_equal(out[k], want[n - 1][k]);
	}
	/* larger n: a permutation with the search-tree property */
	for (size_t n = 18; n < 1000; n += 37) {
		size_t *out = malloc(n * sizeof(*out));
		char *seen = calloc(n, 1);
		tp_pxar_bst_permutation(n, out);
		for (size_t k = 0; k < n; k++) {
			assert_true(out[k] < n);
			assert_false(seen[out[k]]);
			seen[out[k]] = 1;
			if (2 * k + 1 < n)
				assert_true(out[2 * k + 1] < out[k]);
			if (2 * k + 2 < n)
				assert_true(out[2 * k + 2] > out[k]);
		}
		free(out);
		free(seen);
	}
}

/* ---------------------------------------------------- golden encode */

static tp_pxar_meta M(uint64_t mode, uint32_t uid, uint32_t gid, int64_t secs, uint32_t nanos)
{
	tp_pxar_meta m;
	memset(&m, 0, sizeof(m));
	m.mode = mode;
	m.uid = uid;
	m.gid = gid;
	m.mtime_secs = secs;
	m.mtime_nanos = nanos;
	return m;
}

static const uint8_t tool_fcaps[20] = { 0, 0, 0, 2, 0, 4 };

/* Encodes the golden tree of golden-v1.txt with the encoder API. */
static int encode_golden(tp_buf *out, tp_err *e)
{
	tp_pxar_enc enc;
	uint64_t off, tool_off = 0;
	int r;
	tp_pxar_meta root = M(040755, 0, 0, 1700000000, 500000000);
	if ((r = tp_pxar_enc_init(&enc, tp_pxar_sink_buf, out, &root, e)) < 0)
		goto out;
	tp_pxar_meta zebra = M(0100600, 1000, 1000, 1700000002, 0);
	if ((r = tp_pxar_enc_file(&enc, "Zebra", &zebra, "", 0, &off, e)) < 0)
		goto out;
	assert_int_equal(off, 56);
	tp_pxar_meta a = M(0100644, 1000, 1000, 1700000001, 123456789);
	tp_pxar_xattr ax = { "user.comment", (uint8_t *)"hi", 2 };
	a.xattrs = &ax;
	a.n_xattrs = 1;
	if ((r = tp_pxar_enc_file(&enc, "a.txt", &a, "hello\n", 6, &off, e)) < 0)
		goto out;
	assert_int_equal(off, 150);
	tp_pxar_meta bin = M(040755, 0, 0, 1700000003, 0);
	if ((r = tp_pxar_enc_dir_begin(&enc, "bin", &bin, &off, e)) < 0)
		goto out;
	assert_int_equal(off, 281);
	tp_pxar_meta tool = M(0104755, 0, 0, 1700000004, 0);
	tool.flags = TP_PXAR_FLAG_NOATIME;
	tool.has_fcaps = 1;
	tool.fcaps = (uint8_t *)tool_fcaps;
	tool.fcaps_len = sizeof(tool_fcaps);
	/* streamed in pieces */
	if ((r = tp_pxar_enc_file_begin(&enc, "tool", &tool, 10, &tool_off, e)) < 0 ||
	    (r = tp_pxar_enc_file_write(&enc, "#!/bin", 6, e)) < 0 || (r = tp_pxar_enc_file_write(&enc, "/sh\n", 4, e)) < 0 ||
	    (r = tp_pxar_enc_file_end(&enc, e)) < 0)
		goto out;
	assert_int_equal(tool_off, 357);
	if ((r = tp_pxar_enc_hardlink(&enc, "tool2", "bin/tool", tool_off, &off, e)) < 0)
		goto out;
	assert_int_equal(off, 496);
	if ((r = tp_pxar_enc_dir_end(&enc, e)) < 0)
		goto out;
	tp_pxar_meta dev = M(040755, 0, 0, 1700000003, 0);
	tp_pxar_meta null = M(020666, 0, 0, 1700000005, 0);
	tp_pxar_meta sda = M(060660, 0, 6, 1700000005, 0);
	if ((r = tp_pxar_enc_dir_begin(&enc, "dev", &dev, NULL, e)) < 0 ||
	    (r = tp_pxar_enc_device(&enc, "null", &null, 1, 3, NULL, e)) < 0 ||
	    (r = tp_pxar_enc_device(&enc, "sda", &sda, 8, 0, NULL, e)) < 0 || (r = tp_pxar_enc_dir_end(&enc, e)) < 0)
		goto out;
	tp_pxar_meta link = M(0120777, 1000, 1000, 1700000006, 0);
	tp_pxar_meta pipe = M(010644, 0, 0, 1700000007, 0);
	if ((r = tp_pxar_enc_symlink(&enc, "link", &link, "a.txt", NULL, e)) < 0 ||
	    (r = tp_pxar_enc_fifo(&enc, "pipe", &pipe, NULL, e)) < 0)
		goto out;
	tp_pxar_meta shared = M(042775, 0, 100, 1700000008, 0);
	tp_pxar_xattr sx = { "trusted.x", (uint8_t *)"\x01\x02", 2 };
	tp_pxar_acl_entry au = { 1001, 7 }, ag = { 1002, 5 };
	shared.xattrs = &sx;
	shared.n_xattrs = 1;
	shared.acl_users = &au;
	shared.n_acl_users = 1;
	shared.acl_groups = &ag;
	shared.n_acl_groups = 1;
	shared.has_acl_group_obj = 1;
	shared.acl_group_obj = 5;
	shared.has_acl_default = 1;
	shared.acl_default = (tp_pxar_acl_default){ 7, 5, 5, 7 };
	shared.acl_default_users = &au;
	shared.n_acl_default_users = 1;
	shared.acl_default_groups = &ag;
	shared.n_acl_default_groups = 1;
	shared.has_projid = 1;
	shared.projid = 42;
	tp_pxar_meta empty = M(0100644, 0, 0, -1, 999999999);
	if ((r = tp_pxar_enc_dir_begin(&enc, "shared", &shared, NULL, e)) < 0 ||
	    (r = tp_pxar_enc_file(&enc, "empty", &empty, NULL, 0, NULL, e)) < 0 || (r = tp_pxar_enc_dir_end(&enc, e)) < 0)
		goto out;
	tp_pxar_meta sock = M(0140755, 0, 0, 1700000009, 0);
	tp_pxar_meta uber = M(0100644, 0, 0, 1700000010, 0);
	if ((r = tp_pxar_enc_socket(&enc, "sock", &sock, NULL, e)) < 0 ||
	    (r = tp_pxar_enc_file(&enc, "\xc3\xbc" "ber", &uber, "x", 1, NULL, e)) < 0)
		goto out;
	r = tp_pxar_enc_finish(&enc, e);
out:
	tp_pxar_enc_free(&enc);
	return r;
}

static void test_encode_golden(void **state)
{
	(void)state;
	tp_buf out = TP_BUF_INIT;
	tp_err e = { 0 };
	int r = encode_golden(&out, &e);
	if (r < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(out.len, golden.len);
	for (size_t i = 0; i < out.len; i++)
		if (out.data[i] != golden.data[i])
			fail_msg("byte %zu differs: %02x != %02x", i, out.data[i], golden.data[i]);
	tp_buf_free(&out);
}

static void test_encoder_refusals(void **state)
{
	(void)state;
	tp_buf out = TP_BUF_INIT;
	tp_err e = { 0 };
	tp_pxar_enc enc;
	tp_pxar_meta f = M(0100644, 0, 0, 0, 0), d = M(040755, 0, 0, 0, 0);
	assert_int_equal(tp_pxar_enc_init(&enc, tp_pxar_sink_buf, &out, &f, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "root must be a directory"));
	tp_pxar_enc_free(&enc);
	tp_buf_reset(&out);
	assert_int_equal(tp_pxar_enc_init(&enc, tp_pxar_sink_buf, &out, &d, &e), 0);
	size_t before = out.len;
	assert_int_equal(tp_pxar_enc_file(&enc, "..", &f, "", 0, NULL, &e), -EINVAL);
	assert_int_equal(tp_pxar_enc_file(&enc, "a/b", &f, "", 0, NULL, &e), -EINVAL);
	assert_int_equal(tp_pxar_enc_file(&enc, "", &f, "", 0, NULL, &e), -EINVAL);
	assert_int_equal(tp_pxar_enc_file(&enc, "x", &d, "", 0, NULL, &e), -EINVAL);
	tp_pxar_meta bad = f;
	bad.mtime_nanos = 1000000000;
	assert_int_equal(tp_pxar_enc_file(&enc, "x", &bad, "", 0, NULL, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "nanoseconds"));
	assert_int_equal(out.len, before); /* refusals write nothing */
	assert_int_equal(tp_pxar_enc_hardlink(&enc, "h", "x", out.len + 5, NULL, &e), -EINVAL);
	assert_int_equal(tp_pxar_enc_file_begin(&enc, "big", &f, 10, NULL, &e), 0);
	assert_int_equal(tp_pxar_enc_file_write(&enc, "0123456789A", 11, &e), -EINVAL);
	assert_int_equal(tp_pxar_enc_file_write(&enc, "01234", 5, &e), 0);
	assert_int_equal(tp_pxar_enc_file_end(&enc, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "5 payload bytes missing"));
	assert_int_equal(tp_pxar_enc_finish(&enc, &e), -EINVAL);
	assert_int_equal(tp_pxar_enc_file_write(&enc, "56789", 5, &e), 0);
	assert_int_equal(tp_pxar_enc_file_end(&enc, &e), 0);
	assert_int_equal(tp_pxar_enc_dir_end(&enc, &e), -EINVAL);
	assert_int_equal(tp_pxar_enc_finish(&enc, &e), 0);
	assert_int_equal(tp_pxar_enc_finish(&enc, &e), -EINVAL);
	tp_pxar_enc_free(&enc);
	tp_buf_free(&out);
}

/* ---------------------------------------------------- golden decode */

struct mem_src {
	const uint8_t *p;
	size_t len, pos, chunk;
};

static long mem_read(void *ctx, void *buf, size_t len, tp_err *err)
{
	(void)err;
	struct mem_src *s = ctx;
	size_t n = s->len - s->pos;
	if (n > len)
		n = len;
	if (s->chunk && n > s->chunk)
		n = s->chunk;
	memcpy(buf, s->p + s->pos, n);
	s->pos += n;
	return (long)n;
}

struct want {
	enum tp_pxar_kind kind;
	const char *path;
	uint64_t mode;
	uint32_t uid, gid;
	int64_t secs;
	uint32_t nanos;
	const char *data;     /* payload or link target */
	uint64_t a, b;        /* device major/minor, hardlink offset */
};

static const struct want golden_walk[] = {
	{ TP_PXAR_KIND_DIR, "", 040755, 0, 0, 1700000000, 500000000, NULL, 0, 0 },
	{ TP_PXAR_KIND_FILE, "Zebra", 0100600, 1000, 1000, 1700000002, 0, "", 0, 0 },
	{ TP_PXAR_KIND_FILE, "a.txt", 0100644, 1000, 1000, 1700000001, 123456789, "hello\n", 0, 0 },
	{ TP_PXAR_KIND_DIR, "bin", 040755, 0, 0, 1700000003, 0, NULL, 0, 0 },
	{ TP_PXAR_KIND_FILE, "bin/tool", 0104755, 0, 0, 1700000004, 0, "#!/bin/sh\n", 0, 0 },
	{ TP_PXAR_KIND_HARDLINK, "bin/tool2", 0, 0, 0, 0, 0, "bin/tool", 139, 0 },
	{ TP_PXAR_KIND_GOODBYE, "bin", 0, 0, 0, 0, 0, NULL, 0, 0 },
	{ TP_PXAR_KIND_DIR, "dev", 040755, 0, 0, 1700000003, 0, NULL, 0, 0 },
	{ TP_PXAR_KIND_DEVICE, "dev/null", 020666, 0, 0, 1700000005, 0, NULL, 1, 3 },
	{ TP_PXAR_KIND_DEVICE, "dev/sda", 060660, 0, 6, 1700000005, 0, NULL, 8, 0 },
	{ TP_PXAR_KIND_GOODBYE, "dev", 0, 0, 0, 0, 0, NULL, 0, 0 },
	{ TP_PXAR_KIND_SYMLINK, "link", 0120777, 1000, 1000, 1700000006, 0, "a.txt", 0, 0 },
	{ TP_PXAR_KIND_FIFO, "pipe", 010644, 0, 0, 1700000007, 0, NULL, 0, 0 },
	{ TP_PXAR_KIND_DIR, "shared", 042775, 0, 100, 1700000008, 0, NULL, 0, 0 },
	{ TP_PXAR_KIND_FILE, "shared/empty", 0100644, 0, 0, -1, 999999999, "", 0, 0 },
	{ TP_PXAR_KIND_GOODBYE, "shared", 0, 0, 0, 0, 0, NULL, 0, 0 },
	{ TP_PXAR_KIND_SOCKET, "sock", 0140755, 0, 0, 1700000009, 0, NULL, 0, 0 },
	{ TP_PXAR_KIND_FILE, "\xc3\xbc" "ber", 0100644, 0, 0, 1700000010, 0, "x", 0, 0 },
	{ TP_PXAR_KIND_GOODBYE, "", 0, 0, 0, 0, 0, NULL, 0, 0 },
};

static void check_entry(tp_pxar_dec *dec, const tp_pxar_entry *en, const struct want *w)
{
	assert_int_equal(en->kind, w->kind);
	assert_string_equal(en->path, w->path);
	assert_int_equal(en->meta.mode, w->mode);
	assert_int_equal(en->meta.uid, w->uid);
	assert_int_equal(en->meta.gid, w->gid);
	assert_true(en->meta.mtime_secs == w->secs);
	assert_int_equal(en->meta.mtime_nanos, w->nanos);
	if (en->kind == TP_PXAR_KIND_FILE) {
		char buf[64];
		size_t got = 0;
		long n;
		tp_err e = { 0 };
		assert_int_equal(en->size, strlen(w->data));
		/* two-byte pieces: payload streams */
		while ((n = tp_pxar_dec_read_payload(dec, buf + got, 2, &e)) > 0)
			got += (size_t)n;
		assert_int_equal(n, 0);
		assert_int_equal(got, strlen(w->data));
		assert_memory_equal(buf, w->data, got);
	}
	if (en->kind == TP_PXAR_KIND_SYMLINK || en->kind == TP_PXAR_KIND_HARDLINK)
		assert_string_equal(en->link_target, w->data);
	if (en->kind == TP_PXAR_KIND_HARDLINK)
		assert_int_equal(en->hardlink_offset, w->a);
	if (en->kind == TP_PXAR_KIND_DEVICE) {
		assert_int_equal(en->dev_major, w->a);
		assert_int_equal(en->dev_minor, w->b);
	}
}

static void test_decode_golden(void **state)
{
	(void)state;
	for (size_t chunk = 0; chunk < 8; chunk += 7) {
		struct mem_src src = { golden.data, golden.len, 0, chunk };
		tp_pxar_dec dec;
		tp_err e = { 0 };
		const tp_pxar_entry *en;
		assert_int_equal(tp_pxar_dec_init(&dec, mem_read, &src, &e), 0);
		size_t n = sizeof(golden_walk) / sizeof(golden_walk[0]);
		for (size_t i = 0; i < n; i++) {
			int r = tp_pxar_dec_next(&dec, &en, &e);
			if (r != 1)
				fail_msg("entry %zu: %d %s", i, r, e.msg);
			check_entry(&dec, en, &golden_walk[i]);
			if (i == 2) {
				assert_int_equal(en->meta.n_xattrs, 1);
				assert_string_equal(en->meta.xattrs[0].name, "user.comment");
				assert_int_equal(en->meta.xattrs[0].value_len, 2);
				assert_memory_equal(en->meta.xattrs[0].value, "hi", 2);
				assert_int_equal(en->filename_offset, 150);
				assert_int_equal(en->payload_offset, 275);
			}
			if (i == 4) {
				assert_int_equal(en->meta.flags, TP_PXAR_FLAG_NOATIME);
				assert_true(en->meta.has_fcaps);
				assert_int_equal(en->meta.fcaps_len, 20);
				assert_memory_equal(en->meta.fcaps, tool_fcaps, 20);
				assert_int_equal(en->filename_offset, 357);
			}
			if (i == 13) {
				const tp_pxar_meta *m = &en->meta;
				assert_int_equal(m->n_xattrs, 1);
				assert_string_equal(m->xattrs[0].name, "trusted.x");
				assert_memory_equal(m->xattrs[0].value, "\x01\x02", 2);
				assert_int_equal(m->n_acl_users, 1);
				assert_int_equal(m->acl_users[0].id, 1001);
				assert_int_equal(m->acl_users[0].perms, 7);
				assert_int_equal(m->n_acl_groups, 1);
				assert_int_equal(m->acl_groups[0].id, 1002);
				assert_int_equal(m->acl_groups[0].perms, 5);
				assert_true(m->has_acl_group_obj);
				assert_int_equal(m->acl_group_obj, 5);
				assert_true(m->has_acl_default);
				assert_int_equal(m->acl_default.user_obj, 7);
				assert_int_equal(m->acl_default.group_obj, 5);
				assert_int_equal(m->acl_default.other, 5);
				assert_int_equal(m->acl_default.mask, 7);
				assert_int_equal(m->n_acl_default_users, 1);
				assert_int_equal(m->acl_default_users[0].id, 1001);
				assert_int_equal(m->n_acl_default_groups, 1);
				assert_int_equal(m->acl_default_groups[0].perms, 5);
				assert_true(m->has_projid);
				assert_int_equal(m->projid, 42);
				assert_false(m->has_fcaps);
			}
		}
		assert_int_equal(tp_pxar_dec_next(&dec, &en, &e), 0);
		assert_int_equal(tp_pxar_dec_next(&dec, &en, &e), 0);
		tp_pxar_dec_free(&dec);
	}
}

/* Walks an archive; returns the first negative code (or the entry count). */
static int walk(const void *p, size_t len, tp_err *e)
{
	struct mem_src src = { p, len, 0, 0 };
	tp_pxar_dec dec;
	const tp_pxar_entry *en;
	int r, n = 0;
	tp_pxar_dec_init(&dec, mem_read, &src, e);
	while ((r = tp_pxar_dec_next(&dec, &en, e)) > 0)
		n++;
	tp_pxar_dec_free(&dec);
	return r < 0 ? r : n;
}

static void test_decode_truncated(void **state)
{
	(void)state;
	tp_err e = { 0 };
	assert_int_equal(walk(golden.data, golden.len, &e), 19);
	for (size_t len = 0; len < golden.len; len++) {
		int r = walk(golden.data, len, &e);
		if (r != -TP_EFORMAT)
			fail_msg("prefix of %zu bytes gave %d", len, r);
	}
	assert_non_null(strstr(e.msg, "truncated"));
	/* trailing garbage after the root goodbye */
	tp_buf b = TP_BUF_INIT;
	tp_buf_append(&b, golden.data, golden.len);
	tp_buf_append_u8(&b, 0);
	assert_int_equal(walk(b.data, b.len, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "after the root GOODBYE"));
	tp_buf_free(&b);
}

/* Hand-built archives */
static void item(tp_buf *b, uint64_t type, const void *body, size_t len)
{
	tp_buf_append_le64(b, type);
	tp_buf_append_le64(b, len + 16);
	tp_buf_append(b, body, len);
}

static void stat_item(tp_buf *b, uint64_t mode)
{
	uint8_t st[40] = { 0 };
	tp_put_le64(st, mode);
	item(b, TP_PXAR_ENTRY, st, 40);
}

static void goodbye0(tp_buf *b)
{
	uint8_t t[24];
	tp_put_le64(t, TP_PXAR_GOODBYE_TAIL_MARKER);
	tp_put_le64(t + 8, 0);
	tp_put_le64(t + 16, 40);
	item(b, TP_PXAR_GOODBYE, t, 24);
}

static int walk_buf(tp_buf *b, tp_err *e)
{
	int r = walk(b->data, b->len, e);
	tp_buf_reset(b);
	return r;
}

static void test_decode_malformed(void **state)
{
	(void)state;
	tp_buf b = TP_BUF_INIT;
	tp_err e = { 0 };
	uint8_t v[16] = { 2 };

	/* FORMAT_VERSION: split archives */
	item(&b, TP_PXAR_FORMAT_VERSION, v, 8);
	assert_int_equal(walk_buf(&b, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "pxar v2 (split) archives are not supported"));

	/* the minimal valid archive: an empty root */
	stat_item(&b, 040755);
	goodbye0(&b);
	assert_int_equal(walk_buf(&b, &e), 2);

	/* the root must be a directory */
	stat_item(&b, 0100644);
	item(&b, TP_PXAR_PAYLOAD, "", 0);
	assert_int_equal(walk_buf(&b, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "not a directory"));

	/* bad sizes: ENTRY of 39 bytes, DEVICE of 8, header below 16 */
	item(&b, TP_PXAR_ENTRY, v, 15);
	assert_int_equal(walk_buf(&b, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "invalid size"));
	stat_item(&b, 040755);
	item(&b, TP_PXAR_FILENAME, "d", 2);
	stat_item(&b, 020644);
	item(&b, TP_PXAR_DEVICE, v, 8);
	goodbye0(&b);
	assert_int_equal(walk_buf(&b, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "DEVICE item at offset 130 has invalid size 24"));
	stat_item(&b, 040755);
	tp_buf_append_le64(&b, TP_PXAR_FILENAME);
	tp_buf_append_le64(&b, 15);
	assert_int_equal(walk_buf(&b, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "size 15 < 16"));

	/* names: "..", ".", "a/b", inner NUL, missing NUL, empty */
	static const struct { const char *n; size_t len; const char *msg; } names[] = {
		{ "..", 3, "invalid file name" }, { ".", 2, "invalid file name" },
		{ "a/b", 4, "invalid file name" }, { "a\0b", 4, "contains a NUL" },
		{ "ab", 2, "not NUL-terminated" }, { "", 1, "invalid size" },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		stat_item(&b, 040755);
		item(&b, TP_PXAR_FILENAME, names[i].n, names[i].len);
		stat_item(&b, 0100644);
		item(&b, TP_PXAR_PAYLOAD, "", 0);
		goodbye0(&b);
		assert_int_equal(walk_buf(&b, &e), -TP_EFORMAT);
		if (!strstr(e.msg, names[i].msg))
			fail_msg("name %zu: %s", i, e.msg);
	}

	/* duplicate singletons */
	static const uint64_t singles[] = { TP_PXAR_FCAPS, TP_PXAR_QUOTA_PROJID, TP_PXAR_ACL_GROUP_OBJ,
					    TP_PXAR_ACL_DEFAULT };
	static const size_t ssize[] = { 20, 8, 8, 32 };
	for (size_t i = 0; i < 4; i++) {
		uint8_t body[32] = { 0 };
		stat_item(&b, 040755);
		item(&b, singles[i], body, ssize[i]);
		item(&b, singles[i], body, ssize[i]);
		goodbye0(&b);
		assert_int_equal(walk_buf(&b, &e), -TP_EFORMAT);
		assert_non_null(strstr(e.msg, "duplicate"));
	}
	/* repeatable items are fine */
	stat_item(&b, 040755);
	item(&b, TP_PXAR_XATTR, "user.a\0x", 8);
	item(&b, TP_PXAR_XATTR, "user.a\0y", 8);
	item(&b, TP_PXAR_ACL_USER, v, 16);
	item(&b, TP_PXAR_ACL_USER, v, 16);
	goodbye0(&b);
	assert_int_equal(walk_buf(&b, &e), 2);
	/* xattr without name */
	stat_item(&b, 040755);
	item(&b, TP_PXAR_XATTR, "\0x", 2);
	goodbye0(&b);
	assert_int_equal(walk_buf(&b, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "no valid name"));

	/* unknown item type */
	stat_item(&b, 040755);
	item(&b, 0x1234567812345678ULL, "", 0);
	assert_int_equal(walk_buf(&b, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "unknown item type"));

	/* HARDLINK right after ENTRY; hardlink pointing before the archive */
	uint8_t hl[16] = { 0 };
	memcpy(hl + 8, "x", 2);
	stat_item(&b, 040755);
	item(&b, TP_PXAR_HARDLINK, hl, 10);
	assert_int_equal(walk_buf(&b, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "unexpected HARDLINK"));
	tp_put_le64(hl, 1000);
	stat_item(&b, 040755);
	item(&b, TP_PXAR_FILENAME, "h", 2);
	item(&b, TP_PXAR_HARDLINK, hl, 10);
	goodbye0(&b);
	assert_int_equal(walk_buf(&b, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "points outside"));

	/* content item not matching the mode */
	stat_item(&b, 040755);
	item(&b, TP_PXAR_FILENAME, "l", 2);
	stat_item(&b, 0120777);
	item(&b, TP_PXAR_PAYLOAD, "", 0);
	goodbye0(&b);
	assert_int_equal(walk_buf(&b, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "PAYLOAD"));
	stat_item(&b, 040755);
	item(&b, TP_PXAR_FILENAME, "f", 2);
	stat_item(&b, 0100644);
	goodbye0(&b);
	assert_int_equal(walk_buf(&b, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "no content item"));

	/* goodbye body not a multiple of 24 */
	stat_item(&b, 040755);
	item(&b, TP_PXAR_GOODBYE, v, 16);
	assert_int_equal(walk_buf(&b, &e), -TP_EFORMAT);

	/* v2 payload reference */
	stat_item(&b, 040755);
	item(&b, TP_PXAR_FILENAME, "f", 2);
	stat_item(&b, 0100644);
	item(&b, TP_PXAR_PAYLOAD_REF, v, 16);
	assert_int_equal(walk_buf(&b, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "not supported"));
	tp_buf_free(&b);
}

/* ENTRY_V1 archive as in pxar's compat test: read-only support. */
static void test_decode_entry_v1(void **state)
{
	(void)state;
	tp_buf b = TP_BUF_INIT;
	uint8_t st[32] = { 0 };
	tp_put_le64(st, 040755);
	tp_put_le32(st + 16, 1000);
	tp_put_le32(st + 20, 1000);
	tp_put_le64(st + 24, 1430487000ULL * 1000000000ULL + 5);
	item(&b, TP_PXAR_ENTRY_V1, st, 32);
	item(&b, TP_PXAR_FILENAME, "file.txt", 9);
	tp_put_le64(st, 0100644);
	item(&b, TP_PXAR_ENTRY_V1, st, 32);
	item(&b, TP_PXAR_PAYLOAD, "This is a small text file.\n", 27);
	goodbye0(&b);
	struct mem_src src = { b.data, b.len, 0, 0 };
	tp_pxar_dec dec;
	tp_err e = { 0 };
	const tp_pxar_entry *en;
	tp_pxar_dec_init(&dec, mem_read, &src, &e);
	assert_int_equal(tp_pxar_dec_next(&dec, &en, &e), 1);
	assert_int_equal(en->kind, TP_PXAR_KIND_DIR);
	assert_true(en->meta.mtime_secs == 1430487000);
	assert_int_equal(en->meta.mtime_nanos, 5);
	assert_int_equal(en->meta.uid, 1000);
	assert_int_equal(tp_pxar_dec_next(&dec, &en, &e), 1);
	assert_int_equal(en->kind, TP_PXAR_KIND_FILE);
	assert_string_equal(en->path, "file.txt");
	assert_int_equal(en->size, 27);
	char buf[32];
	assert_int_equal(tp_pxar_dec_read_payload(&dec, buf, sizeof(buf), &e), 27);
	assert_memory_equal(buf, "This is a small", 15);
	assert_int_equal(tp_pxar_dec_next(&dec, &en, &e), 1);
	assert_int_equal(en->kind, TP_PXAR_KIND_GOODBYE);
	assert_int_equal(tp_pxar_dec_next(&dec, &en, &e), 0);
	tp_pxar_dec_free(&dec);
	tp_buf_free(&b);
}

/* Many repeatable attribute items: all kept, in order. */
static void test_decode_many_attrs(void **state)
{
	(void)state;
	tp_buf b = TP_BUF_INIT;
	stat_item(&b, 040755);
	for (int i = 0; i < 100; i++) {
		char x[32];
		int n = snprintf(x, sizeof(x), "user.n%d", i);
		x[n] = 0;
		x[n + 1] = (char)i;
		item(&b, TP_PXAR_XATTR, x, (size_t)n + 2);
	}
	for (uint64_t i = 0; i < 9; i++) {
		uint8_t a[16];
		tp_put_le64(a, 1000 + i);
		tp_put_le64(a + 8, i & 7);
		item(&b, TP_PXAR_ACL_DEFAULT_USER, a, 16);
	}
	goodbye0(&b);
	struct mem_src src = { b.data, b.len, 0, 0 };
	tp_pxar_dec dec;
	tp_err e = { 0 };
	const tp_pxar_entry *en;
	tp_pxar_dec_init(&dec, mem_read, &src, &e);
	assert_int_equal(tp_pxar_dec_next(&dec, &en, &e), 1);
	assert_int_equal(en->meta.n_xattrs, 100);
	assert_string_equal(en->meta.xattrs[99].name, "user.n99");
	assert_int_equal(en->meta.xattrs[99].value_len, 1);
	assert_int_equal(en->meta.xattrs[99].value[0], 99);
	assert_string_equal(en->meta.xattrs[4].name, "user.n4");
	assert_int_equal(en->meta.n_acl_default_users, 9);
	assert_int_equal(en->meta.acl_default_users[8].id, 1008);
	tp_pxar_meta copy;
	assert_int_equal(tp_pxar_meta_copy(&copy, &en->meta), 0);
	assert_int_equal(copy.n_xattrs, 100);
	assert_memory_equal(copy.xattrs[57].name, "user.n57", 9);
	assert_int_equal(copy.acl_default_users[3].perms, 3);
	tp_pxar_meta_free(&copy);
	assert_int_equal(tp_pxar_dec_next(&dec, &en, &e), 1);
	assert_int_equal(tp_pxar_dec_next(&dec, &en, &e), 0);
	tp_pxar_dec_free(&dec);
	tp_buf_free(&b);
}

/* ------------------------------------------------------ random access */

static void test_lookup_golden(void **state)
{
	(void)state;
	tp_pxar_acc acc;
	tp_pxar_acc_dir root;
	tp_pxar_acc_item it;
	tp_pxar_dec dec;
	const tp_pxar_entry *en;
	tp_err e = { 0 };
	char buf[32];
	assert_int_equal(tp_pxar_acc_init_mem(&acc, golden.data, golden.len, &e), 0);
	assert_int_equal(tp_pxar_acc_root(&acc, &root, &e), 0);
	assert_int_equal(root.n, 9);
	assert_int_equal(root.goodbye_offset, 1857);

	static const char *order[] = { "bin", "Zebra", "dev", "\xc3\xbc" "ber", "pipe", "sock", "a.txt", "link", "shared" };
	for (size_t i = 0; i < 9; i++) {
		assert_int_equal(tp_pxar_acc_child(&acc, &root, i, &it, &e), 0);
		assert_string_equal(it.name, order[i]);
	}
	assert_int_equal(tp_pxar_acc_lookup(&acc, &root, "pipe", &it, &e), 1);
	assert_int_equal(it.filename_offset, 1119);
	assert_int_equal(it.hash, 0xbcfb9d3bf94eb089ULL);

	/* bin/tool2 -> hardlink, followed to bin/tool */
	assert_int_equal(tp_pxar_acc_lookup_path(&acc, "bin/tool2", &it, &e), 1);
	assert_int_equal(it.filename_offset, 496);
	assert_int_equal(it.entry_offset, 518);
	assert_int_equal(it.end, 551);
	if (tp_pxar_acc_decode(&acc, &it, &dec, &en, &e) != 1)
		fail_msg("%s", e.msg);
	assert_int_equal(en->kind, TP_PXAR_KIND_FILE);
	assert_int_equal(en->entry_offset, 378);
	assert_int_equal(en->filename_offset, 357);
	assert_int_equal(en->meta.mode, 0104755);
	assert_int_equal(tp_pxar_dec_read_payload(&dec, buf, sizeof(buf), &e), 10);
	assert_memory_equal(buf, "#!/bin/sh\n", 10);
	tp_pxar_dec_free(&dec);

	assert_int_equal(tp_pxar_acc_lookup_path(&acc, "shared/empty", &it, &e), 1);
	assert_int_equal(it.filename_offset, 1527);
	assert_int_equal(it.entry_offset, 1549);
	assert_int_equal(it.end, 1621);
	assert_int_equal(tp_pxar_acc_decode(&acc, &it, &dec, &en, &e), 1);
	assert_int_equal(en->size, 0);
	assert_int_equal(en->payload_offset, 1621);
	assert_true(en->meta.mtime_secs == -1);
	tp_pxar_dec_free(&dec);

	assert_int_equal(tp_pxar_acc_lookup_path(&acc, "a.txt", &it, &e), 1);
	assert_int_equal(it.filename_offset, 150);
	assert_int_equal(it.entry_offset, 172);
	assert_int_equal(it.end, 281);
	assert_int_equal(tp_pxar_acc_decode(&acc, &it, &dec, &en, &e), 1);
	assert_int_equal(en->size, 6);
	assert_int_equal(en->payload_offset, 275);
	assert_int_equal(en->meta.n_xattrs, 1);
	tp_pxar_dec_free(&dec);

	/* the fifo at the end of its range, a directory */
	assert_int_equal(tp_pxar_acc_lookup_path(&acc, "pipe", &it, &e), 1);
	assert_int_equal(tp_pxar_acc_decode(&acc, &it, &dec, &en, &e), 1);
	assert_int_equal(en->kind, TP_PXAR_KIND_FIFO);
	tp_pxar_dec_free(&dec);
	assert_int_equal(tp_pxar_acc_lookup_path(&acc, "dev", &it, &e), 1);
	assert_int_equal(tp_pxar_acc_decode(&acc, &it, &dec, &en, &e), 1);
	assert_int_equal(en->kind, TP_PXAR_KIND_DIR);
	tp_pxar_dec_free(&dec);
	tp_pxar_acc_dir dd;
	assert_int_equal(tp_pxar_acc_open_dir(&acc, &it, &dd, &e), 0);
	assert_int_equal(dd.n, 2);
	assert_int_equal(tp_pxar_acc_lookup(&acc, &dd, "sda", &it, &e), 1);
	assert_int_equal(tp_pxar_acc_decode(&acc, &it, &dec, &en, &e), 1);
	assert_int_equal(en->dev_major, 8);
	tp_pxar_dec_free(&dec);

	assert_int_equal(tp_pxar_acc_lookup_path(&acc, "nonexistent", &it, &e), 0);
	assert_int_equal(tp_pxar_acc_lookup_path(&acc, "a.txt/x", &it, &e), 0);
	assert_int_equal(tp_pxar_acc_lookup_path(&acc, "bin/nope", &it, &e), 0);
	assert_int_equal(tp_pxar_acc_lookup_path(&acc, "bin//tool", &it, &e), -EINVAL);

	/* corrupted tail */
	tp_buf c = TP_BUF_INIT;
	tp_buf_append(&c, golden.data, golden.len);
	c.data[c.len - 24] ^= 1;
	assert_int_equal(tp_pxar_acc_init_mem(&acc, c.data, c.len, &e), 0);
	assert_int_equal(tp_pxar_acc_root(&acc, &root, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "tail marker"));
	/* corrupted child hash */
	memcpy(c.data, golden.data, golden.len);
	c.data[1857 + 16] ^= 1;
	assert_int_equal(tp_pxar_acc_root(&acc, &root, &e), 0);
	assert_int_equal(tp_pxar_acc_child(&acc, &root, 0, &it, &e), -TP_EFORMAT);
	tp_buf_free(&c);
}

/* A wide directory: encoder, decoder and lookups agree for many names. */
static void test_roundtrip_wide(void **state)
{
	(void)state;
	tp_buf out = TP_BUF_INIT;
	tp_err e = { 0 };
	tp_pxar_enc enc;
	tp_pxar_meta d = M(040700, 1, 2, 3, 4), f = M(0100640, 5, 6, -7, 8);
	assert_int_equal(tp_pxar_enc_init(&enc, tp_pxar_sink_buf, &out, &d, &e), 0);
	char name[32];
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "file-%03d", i);
		assert_int_equal(tp_pxar_enc_file(&enc, name, &f, name, strlen(name), NULL, &e), 0);
		if (i % 50 == 0) {
			snprintf(name, sizeof(name), "dir-%03d", i);
			assert_int_equal(tp_pxar_enc_dir_begin(&enc, name, &d, NULL, &e), 0);
			for (int k = 0; k < i / 10; k++) {
				snprintf(name, sizeof(name), "sub%d", k);
				assert_int_equal(tp_pxar_enc_file(&enc, name, &f, "", 0, NULL, &e), 0);
			}
			assert_int_equal(tp_pxar_enc_dir_end(&enc, &e), 0);
		}
	}
	assert_int_equal(tp_pxar_enc_finish(&enc, &e), 0);
	tp_pxar_enc_free(&enc);
	assert_int_equal(walk(out.data, out.len, &e), 1 + 300 + 6 * 2 + (0 + 5 + 10 + 15 + 20 + 25) + 1);

	tp_pxar_acc acc;
	tp_pxar_acc_dir root, sub;
	tp_pxar_acc_item it;
	tp_pxar_acc_init_mem(&acc, out.data, out.len, &e);
	assert_int_equal(tp_pxar_acc_root(&acc, &root, &e), 0);
	assert_int_equal(root.n, 306);
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "file-%03d", i);
		assert_int_equal(tp_pxar_acc_lookup(&acc, &root, name, &it, &e), 1);
		assert_string_equal(it.name, name);
	}
	assert_int_equal(tp_pxar_acc_lookup(&acc, &root, "file-300", &it, &e), 0);
	assert_int_equal(tp_pxar_acc_lookup(&acc, &root, "dir-250", &it, &e), 1);
	assert_int_equal(tp_pxar_acc_open_dir(&acc, &it, &sub, &e), 0);
	assert_int_equal(sub.n, 25);
	assert_int_equal(tp_pxar_acc_lookup_path(&acc, "dir-250/sub24", &it, &e), 1);
	assert_int_equal(tp_pxar_acc_lookup_path(&acc, "dir-250/sub25", &it, &e), 0);
	tp_buf_free(&out);
}

static void test_flag_mapping(void **state)
{
	(void)state;
	assert_true(tp_pxar_flags_from_chattr(0x80) == TP_PXAR_FLAG_NOATIME);
	assert_true(tp_pxar_flags_from_chattr(0x10 | 0x20) == (TP_PXAR_FLAG_IMMUTABLE | TP_PXAR_FLAG_APPEND));
	assert_true(tp_pxar_flags_from_chattr(0x80000 /* FS_EXTENT_FL */) == 0);
	assert_int_equal(tp_pxar_flags_to_chattr(TP_PXAR_FLAG_PROJINHERIT | TP_PXAR_FLAG_NOCOW), 0x20800000);
	assert_true(tp_pxar_flags_from_fat(2 | 32) == (TP_PXAR_FLAG_HIDDEN | TP_PXAR_FLAG_ARCHIVE));
	assert_int_equal(tp_pxar_flags_to_fat(TP_PXAR_FLAG_SYSTEM), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bst_permutation),
		cmocka_unit_test(test_encode_golden),
		cmocka_unit_test(test_encoder_refusals),
		cmocka_unit_test(test_decode_golden),
		cmocka_unit_test(test_decode_truncated),
		cmocka_unit_test(test_decode_malformed),
		cmocka_unit_test(test_decode_entry_v1),
		cmocka_unit_test(test_decode_many_attrs),
		cmocka_unit_test(test_lookup_golden),
		cmocka_unit_test(test_roundtrip_wide),
		cmocka_unit_test(test_flag_mapping),
	};
	return cmocka_run_group_tests(tests, load_golden, free_golden);
}
