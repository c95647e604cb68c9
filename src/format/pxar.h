/* pxar v1 (unified) archives: streaming encoder, sequential decoder and goodbye-table lookups. */
#ifndef TAPIR_FORMAT_PXAR_H
#define TAPIR_FORMAT_PXAR_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

/* Item types (SipHash-2-4 of "__PROXMOX_FORMAT_<X>__" with the pxar keys). */
#define TP_PXAR_FORMAT_VERSION 0x730f6c75df16a40dULL
#define TP_PXAR_ENTRY 0xd5956474e588acefULL
#define TP_PXAR_ENTRY_V1 0x11da850a1c1cceffULL
#define TP_PXAR_PRELUDE 0xe309d79d9f7b771bULL
#define TP_PXAR_FILENAME 0x16701121063917b3ULL
#define TP_PXAR_SYMLINK 0x27f971e7dbf5dc5fULL
#define TP_PXAR_DEVICE 0x9fc9e906586d5ce9ULL
#define TP_PXAR_XATTR 0x0dab0229b57dcd03ULL
#define TP_PXAR_ACL_USER 0x2ce8540a457d55b8ULL
#define TP_PXAR_ACL_GROUP 0x136e3eceb04c03abULL
#define TP_PXAR_ACL_GROUP_OBJ 0x10868031e9582876ULL
#define TP_PXAR_ACL_DEFAULT 0xbbbb13415a6896f5ULL
#define TP_PXAR_ACL_DEFAULT_USER 0xc89357b40532cd1fULL
#define TP_PXAR_ACL_DEFAULT_GROUP 0xf90a8a5816038ffeULL
#define TP_PXAR_FCAPS 0x2da9dd9db5f7fb67ULL
#define TP_PXAR_QUOTA_PROJID 0xe07540e82f7d1cbbULL
#define TP_PXAR_HARDLINK 0x51269c8422bd7275ULL
#define TP_PXAR_PAYLOAD 0x28147a1b0b7c1a25ULL
#define TP_PXAR_PAYLOAD_REF 0x419d3d6bc4ba977eULL
#define TP_PXAR_GOODBYE 0x2fec4fa642d5731dULL
#define TP_PXAR_GOODBYE_TAIL_MARKER 0xef5eed5b753e1555ULL
#define TP_PXAR_PAYLOAD_START_MARKER 0x834c68c2194a4ed2ULL
#define TP_PXAR_PAYLOAD_TAIL_MARKER 0x6c72b78b984c81b5ULL

#define TP_PXAR_HEADER_SIZE 16
#define TP_PXAR_STAT_SIZE 40
#define TP_PXAR_GOODBYE_ITEM_SIZE 24
#define TP_PXAR_MAX_FILENAME 4096   /* bytes without the NUL; also the symlink/hardlink path limit */
#define TP_PXAR_MAX_XATTR_NAME 255
#define TP_PXAR_MAX_XATTR_BODY (255 + 65536)
#define TP_PXAR_MAX_DEPTH 2048      /* directory nesting accepted by the decoder */
#define TP_PXAR_MAX_ATTR_ITEMS 65536 /* xattr + ACL items per entry accepted by the decoder */

/* ACL permission value meaning "component absent" (only inside ACL_DEFAULT). */
#define TP_PXAR_ACL_NO_MASK 0xffffffffffffffffULL

/* pxar file-attribute bits stored in the ENTRY flags field. */
#define TP_PXAR_FLAG_HIDDEN 0x2000ULL
#define TP_PXAR_FLAG_SYSTEM 0x4000ULL
#define TP_PXAR_FLAG_ARCHIVE 0x8000ULL
#define TP_PXAR_FLAG_APPEND 0x10000ULL
#define TP_PXAR_FLAG_NOATIME 0x20000ULL
#define TP_PXAR_FLAG_COMPR 0x40000ULL
#define TP_PXAR_FLAG_NOCOW 0x80000ULL
#define TP_PXAR_FLAG_NODUMP 0x100000ULL
#define TP_PXAR_FLAG_DIRSYNC 0x200000ULL
#define TP_PXAR_FLAG_IMMUTABLE 0x400000ULL
#define TP_PXAR_FLAG_SYNC 0x800000ULL
#define TP_PXAR_FLAG_NOCOMP 0x1000000ULL
#define TP_PXAR_FLAG_PROJINHERIT 0x2000000ULL

/* Linux FS_*_FL chattr bits <-> pxar flags (bits without a mapping are dropped). */
uint64_t tp_pxar_flags_from_chattr(uint32_t fs_flags);
uint32_t tp_pxar_flags_to_chattr(uint64_t pxar_flags);
/* FAT ATTR_HIDDEN/SYS/ARCH <-> pxar flags. */
uint64_t tp_pxar_flags_from_fat(uint32_t fat_attrs);
uint32_t tp_pxar_flags_to_fat(uint64_t pxar_flags);

typedef struct tp_pxar_xattr {
	char *name;          /* NUL-terminated, no NUL inside */
	uint8_t *value;
	size_t value_len;
} tp_pxar_xattr;

typedef struct tp_pxar_acl_entry {
	uint64_t id;         /* uid or gid */
	uint64_t perms;      /* read 4 | write 2 | execute 1 */
} tp_pxar_acl_entry;

typedef struct tp_pxar_acl_default {
	uint64_t user_obj, group_obj, other, mask; /* TP_PXAR_ACL_NO_MASK when absent */
} tp_pxar_acl_default;

/*
 * Metadata of one entry.  For the encoder every pointer is borrowed and only
 * read; items are written in the order given (the caller sorts ACL lists).
 * Metadata filled by the decoder is owned by it (see tp_pxar_meta_free).
 */
typedef struct tp_pxar_meta {
	uint64_t mode;       /* st_mode incl. file type bits */
	uint64_t flags;      /* TP_PXAR_FLAG_* */
	uint32_t uid, gid;
	int64_t mtime_secs;
	uint32_t mtime_nanos;
	tp_pxar_xattr *xattrs;
	size_t n_xattrs;
	tp_pxar_acl_entry *acl_users, *acl_groups, *acl_default_users, *acl_default_groups;
	size_t n_acl_users, n_acl_groups, n_acl_default_users, n_acl_default_groups;
	int has_acl_group_obj;
	uint64_t acl_group_obj;
	int has_acl_default;
	tp_pxar_acl_default acl_default;
	int has_fcaps;
	uint8_t *fcaps;
	size_t fcaps_len;
	int has_projid;
	uint64_t projid;
} tp_pxar_meta;

/* Frees every owned array of m and zeroes it (for metadata built with malloc). */
void tp_pxar_meta_free(tp_pxar_meta *m);
/* Deep copy into *dst (free with tp_pxar_meta_free); -ENOMEM. */
int tp_pxar_meta_copy(tp_pxar_meta *dst, const tp_pxar_meta *src);

/* Write sink: must consume all len bytes or fail. */
typedef int (*tp_pxar_write_fn)(void *ctx, const void *buf, size_t len, tp_err *err);
/* Read source: returns bytes read (> 0), 0 at end of stream, negative on error. */
typedef long (*tp_pxar_read_fn)(void *ctx, void *buf, size_t len, tp_err *err);
/* Positioned read: returns bytes read (short only at end of archive), negative on error. */
typedef long (*tp_pxar_pread_fn)(void *ctx, void *buf, size_t len, uint64_t off, tp_err *err);

/* A tp_pxar_write_fn appending to the tp_buf given as ctx. */
int tp_pxar_sink_buf(void *ctx, const void *buf, size_t len, tp_err *err);

/*
 * BST layout of a goodbye table: out[k] = index into the hash-sorted array of
 * the item stored at tree position k (casync's camakebst), for k < n.
 */
void tp_pxar_bst_permutation(size_t n, size_t *out);

/* True when name is a valid pxar file name: non-empty, <= 4096, no '/', not "." or "..". */
int tp_pxar_name_valid(const char *name, size_t len);

/* ---------------------------------------------------------------- encoder */

typedef struct tp_pxar_gb_item {
	uint64_t hash, offset, size; /* offset: absolute FILENAME offset until written */
} tp_pxar_gb_item;

typedef struct tp_pxar_enc_dir {
	uint64_t entry_offset;    /* this directory's ENTRY header */
	uint64_t filename_offset; /* its FILENAME header in the parent (unused for the root) */
	uint64_t name_hash;
	tp_pxar_gb_item *items;
	size_t n_items, cap_items;
} tp_pxar_enc_dir;

typedef struct tp_pxar_enc {
	tp_pxar_write_fn write;
	void *ctx;
	uint64_t pos;              /* absolute stream offset of the next byte */
	tp_pxar_enc_dir *dirs;     /* open directories, [0] = root */
	size_t depth, cap_dirs;
	int in_file;               /* a file payload is being streamed */
	uint64_t file_left;        /* payload bytes still expected */
	uint64_t file_fn_offset, file_hash;
	int failed;                /* a write failed: every further call fails */
	int finished;
} tp_pxar_enc;

/*
 * Starts an archive: writes the root directory's ENTRY and attributes.  The
 * root meta must describe a directory.  Memory held by the encoder is one
 * goodbye item per child of each open directory.
 */
int tp_pxar_enc_init(tp_pxar_enc *enc, tp_pxar_write_fn write, void *ctx, const tp_pxar_meta *root,
		     tp_err *err);
/* Releases the encoder's memory (also after an error). */
void tp_pxar_enc_free(tp_pxar_enc *enc);

/*
 * Each entry call below takes the child's name and stores the absolute offset
 * of its FILENAME header in *filename_offset (may be NULL): keep it for files
 * that later get hardlinks.
 */
/* Regular file with size bytes of content, streamed by file_write calls then file_end. */
int tp_pxar_enc_file_begin(tp_pxar_enc *enc, const char *name, const tp_pxar_meta *meta, uint64_t size,
			   uint64_t *filename_offset, tp_err *err);
int tp_pxar_enc_file_write(tp_pxar_enc *enc, const void *data, size_t len, tp_err *err);
/* Fails unless exactly size bytes were written. */
int tp_pxar_enc_file_end(tp_pxar_enc *enc, tp_err *err);
/* Whole file from memory (begin + write + end). */
int tp_pxar_enc_file(tp_pxar_enc *enc, const char *name, const tp_pxar_meta *meta, const void *data,
		     uint64_t size, uint64_t *filename_offset, tp_err *err);
int tp_pxar_enc_symlink(tp_pxar_enc *enc, const char *name, const tp_pxar_meta *meta, const char *target,
			uint64_t *filename_offset, tp_err *err);
/* Block or character device (type from meta->mode). */
int tp_pxar_enc_device(tp_pxar_enc *enc, const char *name, const tp_pxar_meta *meta, uint64_t major,
		       uint64_t minor, uint64_t *filename_offset, tp_err *err);
int tp_pxar_enc_fifo(tp_pxar_enc *enc, const char *name, const tp_pxar_meta *meta, uint64_t *filename_offset,
		     tp_err *err);
int tp_pxar_enc_socket(tp_pxar_enc *enc, const char *name, const tp_pxar_meta *meta,
		       uint64_t *filename_offset, tp_err *err);
/*
 * Hardlink to an earlier file: target_path is its path relative to the
 * archive root ("bin/tool"), target_filename_offset its FILENAME offset.
 */
int tp_pxar_enc_hardlink(tp_pxar_enc *enc, const char *name, const char *target_path,
			 uint64_t target_filename_offset, uint64_t *filename_offset, tp_err *err);
int tp_pxar_enc_dir_begin(tp_pxar_enc *enc, const char *name, const tp_pxar_meta *meta,
			  uint64_t *filename_offset, tp_err *err);
/* Writes the goodbye table of the innermost open (non-root) directory. */
int tp_pxar_enc_dir_end(tp_pxar_enc *enc, tp_err *err);
/* Writes the root goodbye table; the archive is complete afterwards. */
int tp_pxar_enc_finish(tp_pxar_enc *enc, tp_err *err);

/* ---------------------------------------------------------------- decoder */

enum tp_pxar_kind {
	TP_PXAR_KIND_DIR = 1,
	TP_PXAR_KIND_FILE,
	TP_PXAR_KIND_SYMLINK,
	TP_PXAR_KIND_HARDLINK,
	TP_PXAR_KIND_DEVICE,   /* block or char: see meta.mode */
	TP_PXAR_KIND_FIFO,
	TP_PXAR_KIND_SOCKET,
	TP_PXAR_KIND_GOODBYE,  /* end of the directory named by path */
};

const char *tp_pxar_kind_name(enum tp_pxar_kind k);

/* One decoded entry; all memory belongs to the decoder and stays valid until the next call. */
typedef struct tp_pxar_entry {
	enum tp_pxar_kind kind;
	const char *path;         /* relative to the root, "" for the root itself */
	const char *name;         /* last component ("" for the root) */
	size_t depth;             /* 0 = root; children of the root are 1 */
	tp_pxar_meta meta;        /* all zero for hardlinks and goodbye events */
	const char *link_target;  /* symlink target or hardlink path, else NULL */
	uint64_t hardlink_offset; /* HARDLINK offset field */
	uint64_t dev_major, dev_minor;
	uint64_t size;            /* payload size of a regular file */
	uint64_t filename_offset; /* FILENAME header (0 for the root) */
	uint64_t entry_offset;    /* ENTRY header (HARDLINK header for hardlinks, GOODBYE for goodbye events) */
	uint64_t payload_offset;  /* first content byte of a regular file */
	uint64_t end_offset;      /* end of the entry's own items (for a directory: after its attributes) */
} tp_pxar_entry;

typedef struct tp_pxar_dec {
	tp_pxar_read_fn read;
	void *ctx;
	uint64_t pos;
	int state;
	int single;               /* decoding one entry without FILENAME (random access) */
	int have_hdr;             /* look-ahead header pending */
	uint64_t hdr_type, hdr_size, hdr_offset;
	uint64_t payload_left;
	tp_buf path;              /* current path bytes */
	size_t *path_lens;        /* path length per open directory */
	size_t depth, cap_depth;
	tp_buf name;              /* current FILENAME */
	tp_buf target;            /* symlink/hardlink target */
	tp_pxar_entry cur;
	const void *racc;         /* random access: the tp_pxar_acc read from */
	uint64_t rend;            /* random access: end of the readable range */
} tp_pxar_dec;

/* Starts decoding a whole archive (must start with the root directory's ENTRY). */
int tp_pxar_dec_init(tp_pxar_dec *dec, tp_pxar_read_fn read, void *ctx, tp_err *err);
/*
 * Returns 1 and sets *out to the next entry (or goodbye event), 0 at the end of
 * the archive, or a negative code.  Unread payload of the previous file is
 * skipped.  Every reader rule of the format is enforced.
 */
int tp_pxar_dec_next(tp_pxar_dec *dec, const tp_pxar_entry **out, tp_err *err);
/* Reads up to len bytes of the current file's payload; 0 once it is all read. */
long tp_pxar_dec_read_payload(tp_pxar_dec *dec, void *buf, size_t len, tp_err *err);
void tp_pxar_dec_free(tp_pxar_dec *dec);

/* ------------------------------------------------------- random access */

typedef struct tp_pxar_acc {
	tp_pxar_pread_fn pread;
	void *ctx;
	uint64_t size;            /* archive size */
	const uint8_t *mem;       /* for tp_pxar_acc_init_mem */
} tp_pxar_acc;

/* A directory opened through its goodbye table. */
typedef struct tp_pxar_acc_dir {
	uint64_t entry_offset;    /* the directory's ENTRY header */
	uint64_t goodbye_offset;  /* its GOODBYE header */
	uint64_t end;             /* end of the GOODBYE item */
	size_t n;                 /* number of children */
} tp_pxar_acc_dir;

/* A child found through a goodbye item. */
typedef struct tp_pxar_acc_item {
	uint64_t hash;
	uint64_t filename_offset; /* its FILENAME header */
	uint64_t entry_offset;    /* first byte after the FILENAME item */
	uint64_t end;             /* end of the child */
	char name[TP_PXAR_MAX_FILENAME + 1];
} tp_pxar_acc_item;

int tp_pxar_acc_init(tp_pxar_acc *acc, tp_pxar_pread_fn pread, void *ctx, uint64_t size, tp_err *err);
/* Archive held in memory (borrowed; must outlive acc). */
int tp_pxar_acc_init_mem(tp_pxar_acc *acc, const void *data, size_t size, tp_err *err);
int tp_pxar_acc_root(tp_pxar_acc *acc, tp_pxar_acc_dir *dir, tp_err *err);
/* Opens the subdirectory described by item (its goodbye table ends at item->end). */
int tp_pxar_acc_open_dir(tp_pxar_acc *acc, const tp_pxar_acc_item *item, tp_pxar_acc_dir *dir, tp_err *err);
/* The i-th goodbye item (goodbye array order). */
int tp_pxar_acc_child(tp_pxar_acc *acc, const tp_pxar_acc_dir *dir, size_t i, tp_pxar_acc_item *item,
		      tp_err *err);
/* Looks name up by its hash; returns 1 found, 0 not found, negative on error. */
int tp_pxar_acc_lookup(tp_pxar_acc *acc, const tp_pxar_acc_dir *dir, const char *name, tp_pxar_acc_item *item,
		       tp_err *err);
/* Resolves a relative path "a/b/c" from the root; 1 found, 0 not found. */
int tp_pxar_acc_lookup_path(tp_pxar_acc *acc, const char *path, tp_pxar_acc_item *item, tp_err *err);
/*
 * Decodes the entry of item into a fresh decoder (*dec, free with
 * tp_pxar_dec_free; payload readable through it).  For a HARDLINK item the
 * link is followed by its offset to the target file, which must be a regular
 * file; *out describes that file.
 */
int tp_pxar_acc_decode(tp_pxar_acc *acc, const tp_pxar_acc_item *item, tp_pxar_dec *dec,
		       const tp_pxar_entry **out, tp_err *err);

#endif
