/* pxar v1 helpers shared by encoder and decoder: flag mapping, BST layout, names, metadata. */
#include "format/pxar.h"

#include <stdlib.h>
#include <string.h>

static const struct {
	uint32_t fs;
	uint64_t px;
} chattr_map[] = {
	{ 0x20, TP_PXAR_FLAG_APPEND },         /* FS_APPEND_FL */
	{ 0x80, TP_PXAR_FLAG_NOATIME },        /* FS_NOATIME_FL */
	{ 0x4, TP_PXAR_FLAG_COMPR },           /* FS_COMPR_FL */
	{ 0x800000, TP_PXAR_FLAG_NOCOW },      /* FS_NOCOW_FL */
	{ 0x40, TP_PXAR_FLAG_NODUMP },         /* FS_NODUMP_FL */
	{ 0x10000, TP_PXAR_FLAG_DIRSYNC },     /* FS_DIRSYNC_FL */
	{ 0x10, TP_PXAR_FLAG_IMMUTABLE },      /* FS_IMMUTABLE_FL */
	{ 0x8, TP_PXAR_FLAG_SYNC },            /* FS_SYNC_FL */
	{ 0x400, TP_PXAR_FLAG_NOCOMP },        /* FS_NOCOMP_FL */
	{ 0x20000000, TP_PXAR_FLAG_PROJINHERIT }, /* FS_PROJINHERIT_FL */
};

static const struct {
	uint32_t fat;
	uint64_t px;
} fat_map[] = {
	{ 2, TP_PXAR_FLAG_HIDDEN },
	{ 4, TP_PXAR_FLAG_SYSTEM },
	{ 32, TP_PXAR_FLAG_ARCHIVE },
};

uint64_t tp_pxar_flags_from_chattr(uint32_t fs_flags)
{
	uint64_t r = 0;
	for (size_t i = 0; i < sizeof(chattr_map) / sizeof(chattr_map[0]); i++)
		if (fs_flags & chattr_map[i].fs)
			r |= chattr_map[i].px;
	return r;
}

uint32_t tp_pxar_flags_to_chattr(uint64_t pxar_flags)
{
	uint32_t r = 0;
	for (size_t i = 0; i < sizeof(chattr_map) / sizeof(chattr_map[0]); i++)
		if (pxar_flags & chattr_map[i].px)
			r |= chattr_map[i].fs;
	return r;
}

uint64_t tp_pxar_flags_from_fat(uint32_t fat_attrs)
{
	uint64_t r = 0;
	for (size_t i = 0; i < sizeof(fat_map) / sizeof(fat_map[0]); i++)
		if (fat_attrs & fat_map[i].fat)
			r |= fat_map[i].px;
	return r;
}

uint32_t tp_pxar_flags_to_fat(uint64_t pxar_flags)
{
	uint32_t r = 0;
	for (size_t i = 0; i < sizeof(fat_map) / sizeof(fat_map[0]); i++)
		if (pxar_flags & fat_map[i].px)
			r |= fat_map[i].fat;
	return r;
}

void tp_pxar_meta_free(tp_pxar_meta *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_xattrs; i++) {
		free(m->xattrs[i].name);
		free(m->xattrs[i].value);
	}
	free(m->xattrs);
	free(m->acl_users);
	free(m->acl_groups);
	free(m->acl_default_users);
	free(m->acl_default_groups);
	free(m->fcaps);
	memset(m, 0, sizeof(*m));
}

static void *dup_mem(const void *p, size_t n, int *fail)
{
	if (!n)
		return NULL;
	void *d = malloc(n);
	if (!d)
		*fail = 1;
	else
		memcpy(d, p, n);
	return d;
}

int tp_pxar_meta_copy(tp_pxar_meta *dst, const tp_pxar_meta *src)
{
	int fail = 0;
	*dst = *src;
	dst->xattrs = NULL;
	dst->n_xattrs = 0;
	dst->acl_users = dup_mem(src->acl_users, src->n_acl_users * sizeof(tp_pxar_acl_entry), &fail);
	dst->acl_groups = dup_mem(src->acl_groups, src->n_acl_groups * sizeof(tp_pxar_acl_entry), &fail);
	dst->acl_default_users =
		dup_mem(src->acl_default_users, src->n_acl_default_users * sizeof(tp_pxar_acl_entry), &fail);
	dst->acl_default_groups =
		dup_mem(src->acl_default_groups, src->n_acl_default_groups * sizeof(tp_pxar_acl_entry), &fail);
	dst->fcaps = src->has_fcaps ? dup_mem(src->fcaps, src->fcaps_len, &fail) : NULL;
	if (src->n_xattrs && !fail) {
		dst->xattrs = calloc(src->n_xattrs, sizeof(*dst->xattrs));
		if (!dst->xattrs)
			fail = 1;
		for (size_t i = 0; !fail && i < src->n_xattrs; i++) {
			dst->n_xattrs = i + 1;
			dst->xattrs[i].name = strdup(src->xattrs[i].name);
			dst->xattrs[i].value = malloc(src->xattrs[i].value_len ? src->xattrs[i].value_len : 1);
			dst->xattrs[i].value_len = src->xattrs[i].value_len;
			if (!dst->xattrs[i].name || !dst->xattrs[i].value)
				fail = 1;
			else
				memcpy(dst->xattrs[i].value, src->xattrs[i].value, src->xattrs[i].value_len);
		}
	}
	if (fail) {
		tp_pxar_meta_free(dst);
		return -ENOMEM;
	}
	return 0;
}

int tp_pxar_sink_buf(void *ctx, const void *buf, size_t len, tp_err *err)
{
	int r = tp_buf_append(ctx, buf, len);
	if (r < 0)
		return tp_err_set(err, r, "appending %zu bytes to a memory buffer: out of memory", len);
	return 0;
}

/* place(n, o, e, i) of the format description: s[o..o+n) fills the subtree at i. */
static void bst_place(size_t n, size_t o, unsigned e, size_t i, size_t *out)
{
	for (;;) {
		size_t p = (size_t)1 << e;
		size_t t = p + p / 2 - 1;
		size_t m = n > t ? p - 1 : p - 1 - (t - n);
		out[i] = o + m;
		if (m > 0)
			bst_place(m, o, e - 1, 2 * i + 1, out);
		if (m + 1 >= n)
			return;
		/* right part as a loop: the recursion depth stays at log2(n) */
		n = n - m - 1;
		o = o + m + 1;
		e = e - 1;
		i = 2 * i + 2;
	}
}

void tp_pxar_bst_permutation(size_t n, size_t *out)
{
	if (n == 0)
		return;
	unsigned e = 0;
	while (((size_t)2 << e) <= n)
		e++;
	bst_place(n, 0, e, 0, out);
}

int tp_pxar_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > TP_PXAR_MAX_FILENAME)
		return 0;
	if (memchr(name, '/', len) || memchr(name, 0, len))
		return 0;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	return 1;
}

const char *tp_pxar_kind_name(enum tp_pxar_kind k)
{
	switch (k) {
	case TP_PXAR_KIND_DIR: return "directory";
	case TP_PXAR_KIND_FILE: return "file";
	case TP_PXAR_KIND_SYMLINK: return "symlink";
	case TP_PXAR_KIND_HARDLINK: return "hardlink";
	case TP_PXAR_KIND_DEVICE: return "device";
	case TP_PXAR_KIND_FIFO: return "fifo";
	case TP_PXAR_KIND_SOCKET: return "socket";
	case TP_PXAR_KIND_GOODBYE: return "goodbye";
	}
	return "unknown";
}
