/* Local backup client: directories as pxar (.didx) and files/images (.fidx) into a datastore. */
#ifndef TAPIR_STORE_BACKUP_H
#define TAPIR_STORE_BACKUP_H

#include <stdint.h>

#include "base/err.h"
#include "crypto/crypt_config.h"
#include "store/datastore.h"

/* One `NAME.pxar:DIR` or `NAME.img:FILE` argument. */
typedef struct tp_backup_source {
	char name[128];      /* archive name as given, e.g. "root.pxar" or "disk.img" */
	int is_image;
	const char *path;
} tp_backup_source;

typedef struct tp_backup_opts {
	const char *ns;          /* "" root */
	const char *type, *id;
	int64_t time;            /* 0 = now */
	const char *owner;       /* auth id recorded as group owner (default root@pam) */
	const tp_crypt_config *cc; /* NULL: unencrypted */
	int threads;             /* 0 = number of CPUs */
	const char *const *excludes; /* exclude patterns for every pxar archive (PBS client --exclude) */
	size_t n_excludes;
} tp_backup_opts;

typedef struct tp_backup_stats {
	uint64_t archives;
	uint64_t bytes;          /* logical bytes read from the sources */
	uint64_t chunks, dup_chunks;
	uint64_t new_bytes;      /* blob bytes newly written to the chunk store */
	char snapshot[TP_SNAPSHOT_PATH_MAX];
} tp_backup_stats;

/* Parses "NAME.pxar:DIR" / "NAME.img:FILE"; the name must end in .pxar or .img. */
int tp_backup_source_parse(const char *arg, tp_backup_source *out, tp_err *err);

/*
 * Runs one backup into ds: locks the group, writes every archive (and for
 * pxar archives the file catalog catalog.pcat1.didx) into a staging
 * directory, writes the manifest and publishes the snapshot by one rename.
 * On any failure nothing becomes visible and the staging directory is removed.
 */
int tp_backup_run(tp_datastore *ds, const tp_backup_opts *o, const tp_backup_source *src, int nsrc,
		  tp_backup_stats *st, tp_err *err);

#endif
