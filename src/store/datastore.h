/* Datastore: configuration, names, namespaces, groups, snapshots, owners and locks. */
#ifndef TAPIR_STORE_DATASTORE_H
#define TAPIR_STORE_DATASTORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/lock.h"
#include "store/chunk_store.h"

#define TP_STORE_NAME_MAX 32
#define TP_BACKUP_ID_MAX 128
#define TP_NS_MAX_DEPTH 7
#define TP_NS_MAX_LEN 256
/* Token-replacement identical to access/user.h, so both headers can be included together. */
#define TP_USERID_MAX 64
#define TP_TOKENNAME_MAX 64
#define TP_AUTHID_MAX (TP_USERID_MAX + 1 + TP_TOKENNAME_MAX)
/* Longest relative snapshot path: ns/x/... + type/id/time. */
#define TP_SNAPSHOT_PATH_MAX (2 * TP_NS_MAX_LEN + TP_BACKUP_ID_MAX + 40)

typedef struct tp_datastore {
	char name[TP_STORE_NAME_MAX + 1];
	char *base;          /* owned */
	tp_chunk_store cs;
} tp_datastore;

/* A snapshot (or, with time = 0, a group) in a namespace. */
typedef struct tp_snapshot_ref {
	char ns[TP_NS_MAX_LEN + 1];  /* "a/b" form; "" is the root namespace */
	char type[8];                /* vm, ct, host */
	char id[TP_BACKUP_ID_MAX + 1];
	int64_t time;
} tp_snapshot_ref;

/* Name rules (PBS): store 3..32 chars, id and ns components [A-Za-z0-9_][A-Za-z0-9._-]*. */
int tp_valid_store_name(const char *name, tp_err *err);
int tp_valid_backup_type(const char *type, tp_err *err);
int tp_valid_backup_id(const char *id, tp_err *err);
/* Validates a namespace in "a/b" form ("" = root): depth <= 7, length <= 256. */
int tp_valid_ns(const char *ns, tp_err *err);

/* Parses "[ns/A/ns/B/]type/id/YYYY-MM-DDTHH:MM:SSZ" (the on-disk/on-tape path form). */
int tp_snapshot_ref_parse(const char *path, tp_snapshot_ref *out, tp_err *err);
/* Parses "[ns/A/ns/B/]type/id" (a group). */
int tp_group_ref_parse(const char *path, tp_snapshot_ref *out, tp_err *err);
/* Writes the relative path of a snapshot / its group / a namespace ("ns/a/ns/b"). */
void tp_snapshot_ref_path(const tp_snapshot_ref *r, char *out, size_t n);
void tp_group_ref_path(const tp_snapshot_ref *r, char *out, size_t n);
void tp_ns_rel_path(const char *ns, char *out, size_t n);
/* Depth of a namespace ("" = 0). */
int tp_ns_depth(const char *ns);

/* Configuration (datastore.json below the config dir). */
int tp_datastore_lookup(const char *name, char **path_out, tp_err *err);   /* path_out malloc'd */
json_t *tp_datastore_config_list(tp_err *err);                            /* {name: {path}} */
/* Creates (or with reuse adopts) a datastore directory and registers it. */
int tp_datastore_create(const char *name, const char *path, int reuse, tp_err *err);
int tp_datastore_remove_config(const char *name, tp_err *err);

/* Opens a configured datastore (no lock taken). */
int tp_datastore_open(tp_datastore *ds, const char *name, tp_err *err);
/* Opens a datastore directory directly (name used in messages only). */
int tp_datastore_open_path(tp_datastore *ds, const char *name, const char *path, tp_err *err);
void tp_datastore_close(tp_datastore *ds);

/* Absolute path of a relative path inside the datastore (malloc'd). */
char *tp_datastore_path(const tp_datastore *ds, const char *rel);

/* Creates a namespace's directories (parents must exist unless `parents`). */
int tp_datastore_ns_create(tp_datastore *ds, const char *ns, int parents, tp_err *err);
int tp_datastore_ns_exists(tp_datastore *ds, const char *ns);

/*
 * Creates the group directory if missing (with `owner` written O_EXCL) and
 * takes its exclusive flock without waiting.  An existing group keeps its
 * owner; *owner_out (may be NULL) receives it so the caller checks it.
 */
int tp_group_create_locked(tp_datastore *ds, const tp_snapshot_ref *group, const char *owner,
			   char owner_out[TP_AUTHID_MAX + 1], tp_lock *lock, tp_err *err);
/*
 * Whether authid counts as owner of a backup group owned by owner without
 * any privilege: the same id, authid is a token of owner, or owner is a
 * token of authid (PBS's check_backup_owner).  1 or 0.
 */
int tp_owner_matches(const char *authid, const char *owner);
/* 1 when ugid is authid itself or one of its tokens ("user@realm!name"). */
int tp_authid_covers(const char *authid, const char *ugid);
/* Reads the group's owner; -TP_ENOTFOUND if the group does not exist. */
int tp_group_owner(tp_datastore *ds, const tp_snapshot_ref *group, char owner[TP_AUTHID_MAX + 1], tp_err *err);
/* Shared flock on a snapshot directory (tape backup reading it). */
int tp_snapshot_lock(tp_datastore *ds, const tp_snapshot_ref *snap, int exclusive, tp_lock *lock, tp_err *err);

/* 1 when the snapshot directory exists, finished = manifest present. */
int tp_snapshot_exists(tp_datastore *ds, const tp_snapshot_ref *snap, int *finished);

typedef struct tp_snapshot_list {
	tp_snapshot_ref *items;  /* sorted by ns, type, id, time */
	unsigned char *finished; /* per item: manifest present */
	unsigned char *protected_; /* per item: .protected marker */
	size_t n;
} tp_snapshot_list;

/*
 * Lists snapshots of namespace ns and (max_depth > 0) its sub-namespaces down
 * to max_depth levels (-1 = unlimited).  Unfinished ones are included with
 * finished = 0.  Free with tp_snapshot_list_free.
 */
int tp_datastore_list_snapshots(tp_datastore *ds, const char *ns, int max_depth, tp_snapshot_list *out,
				tp_err *err);
void tp_snapshot_list_free(tp_snapshot_list *l);

/* A staging directory below <base>/.tmp/<sub> (created, malloc'd path). */
int tp_datastore_staging_dir(tp_datastore *ds, const char *sub, char **path_out, tp_err *err);

/*
 * Publishes a fully written staging directory as snapshot `snap`: fsyncs
 * every file in it and the directory, renames it to the snapshot path (the
 * group directory must exist and be locked by the caller; fails with
 * -TP_EEXISTS when the snapshot exists) and fsyncs the group directory.
 */
int tp_snapshot_publish(tp_datastore *ds, const char *staged, const tp_snapshot_ref *snap, tp_err *err);

/* Removes a snapshot directory (forget); takes its exclusive lock. */
int tp_snapshot_remove(tp_datastore *ds, const tp_snapshot_ref *snap, tp_err *err);

#endif
