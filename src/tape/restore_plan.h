/* Selective/full restore planning from the catalog alone: what to read, where, in which order. */
#ifndef TAPIR_TAPE_RESTORE_PLAN_H
#define TAPIR_TAPE_RESTORE_PLAN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/digest_set.h"
#include "base/err.h"
#include "format/tape_io.h"
#include "store/datastore.h"
#include "tape/catalog_db.h"
#include "tape/lto_model.h"

#define TP_RESTORE_MAX_MAP 32
#define TP_RESTORE_MAX_TARGETS 32

/* PBS datastore map: "target" or "src=dst,...[,default]". */
typedef struct tp_store_map {
	char def[TP_STORE_NAME_MAX + 1];   /* "" = no default */
	int n;
	char src[TP_RESTORE_MAX_MAP][256];
	char dst[TP_RESTORE_MAX_MAP][TP_STORE_NAME_MAX + 1];
} tp_store_map;

int tp_store_map_parse(const char *s, tp_store_map *m, tp_err *err);
/* Target datastore for a source store, NULL when unmapped. */
const char *tp_store_map_target(const tp_store_map *m, const char *src);

/* One --namespaces entry: store=S[,source=NS][,target=NS][,max-depth=N]. */
typedef struct tp_ns_map {
	char store[256];
	char source[TP_NS_MAX_LEN + 1];
	char target[TP_NS_MAX_LEN + 1];
	int max_depth;                     /* -1 unlimited */
	int has_target;
} tp_ns_map;

int tp_ns_map_parse(const char *s, tp_ns_map *m, tp_err *err);

enum tp_restore_state { TP_RS_PENDING, TP_RS_SKIPPED, TP_RS_FAILED, TP_RS_RESTORED };

/* A snapshot the restore is about (selected, skipped or failed). */
typedef struct tp_restore_snap {
	char spec[TP_SNAPSHOT_PATH_MAX + 300];  /* "store:path" as given or found */
	char store[256];                        /* source store */
	char path[TP_SNAPSHOT_PATH_MAX];        /* source path [ns/..]type/id/time */
	tp_snapshot_ref src;                    /* parsed path */
	int target;                             /* index into plan->targets */
	tp_snapshot_ref dst;                    /* target namespace + same type/id/time */
	tp_snapshot_loc loc;                    /* where its snapshot archive is */
	uint64_t nchunks;                       /* chunks its indexes reference */
	enum tp_restore_state state;
	char reason[512];
} tp_restore_snap;

/* Values of plan->needed: bit t when target t lacks the chunk; the executor marks what it has restored. */
#define TP_RESTORE_MASK 0xffffffffULL
#define TP_RESTORE_DONE (1ULL << 32)

enum tp_read_kind { TP_READ_CHUNKS, TP_READ_SNAPSHOT };

/* One forward read on one tape: stream bytes [start, end) of a tape file. */
typedef struct tp_restore_read {
	uint64_t seq;
	uint64_t file_nr;
	int64_t file_first_block;   /* object number of the file's first block */
	enum tp_read_kind kind;
	uint64_t start, end;        /* stream offsets (chunk entries) or 0..file end (snapshots) */
	uint64_t first_object;      /* file_first_block + start / payload */
	uint64_t nobjects;          /* blocks this read covers */
	uint64_t useful;            /* bytes of needed data in the range */
	int to_file_end;            /* chunks: the range ends with its archive, whose filemark the reader passes too */
	int snap;                   /* TP_READ_SNAPSHOT: index into snaps */
	char store[256];            /* source store of a chunk archive */
} tp_restore_read;

/* Bytes of data a read covers on tape: its blocks, without a snapshot archive's filemark (nobjects counts it). */
static inline uint64_t tp_restore_read_bytes(const tp_restore_read *rd)
{
	return (rd->kind == TP_READ_SNAPSHOT && rd->nobjects ? rd->nobjects - 1 : rd->nobjects) * TP_TAPE_BLOCK_SIZE;
}

typedef struct tp_restore_tape {
	uint64_t seq;
	uint8_t media[16];
	char label[129];
	size_t first_read, nreads;  /* slice of plan->reads */
	uint64_t bytes, blocks, locates;
	int drive;                  /* which drive handles it */
	int preloaded;              /* it was in that drive when the plan was made: read first, no load */
	int elsewhere;              /* it is in a drive of the changer the restore does not use: taken out of it first */
	uint64_t elsewhere_pos;     /* where it stands there (as loaded_pos) */
	int offline;                /* not in its drive's changer when the plan was made: asked for when its turn comes */
} tp_restore_tape;

typedef struct tp_restore_plan {
	uint8_t set[16];
	tp_restore_snap *snaps;
	size_t nsnaps;
	char targets[TP_RESTORE_MAX_TARGETS][TP_STORE_NAME_MAX + 1];
	int ntargets;
	tp_restore_read *reads;     /* sorted by (seq, first_object) */
	size_t nreads;
	tp_restore_tape *tapes;     /* in sequence order */
	size_t ntapes;
	/* needed chunks: digest -> bit mask of target stores that lack it (TP_RESTORE_MASK) */
	tp_digest_set needed;
	uint64_t chunks_needed, chunks_present, bytes_needed;
	tp_lto_estimate estimate;   /* summed over the drives: drive time */
	double elapsed_s;           /* the slowest drive's part: elapsed time, the drives working at once */
	int full;                   /* whole media set */
} tp_restore_plan;

/*
 * Whether authid holds the PBS privilege priv ("Tape.Read",
 * "Datastore.Backup", "Datastore.Modify") on an ACL path: 0 or a negative
 * error naming what is missing.  The tape layer does not see the access
 * configuration; the CLI and the API pass tp_acl_check_named.  NULL allows
 * root@pam only.
 */
typedef int (*tp_restore_priv_fn)(const char *authid, const char *path, const char *priv, tp_err *err);

/* Tape.Read on /tape/pool/POOL and on /tape/device/D for every drive. */
int tp_restore_check_tape_read(tp_restore_priv_fn check, const char *authid, const char *pool,
			       const char *const *drives, int ndrives, tp_err *err);
/*
 * Datastore.Backup on the target /datastore/STORE[/NS], and Datastore.Modify
 * there when owner is not authid.  With ds (the target, may be NULL), each
 * level of NS that does not exist yet needs Datastore.Modify on its parent,
 * since the restore creates it (PBS's namespace-modification privilege).
 */
int tp_restore_check_target(tp_restore_priv_fn check, const char *authid, const char *owner, const char *store,
			    tp_datastore *ds, const char *ns, tp_err *err);

#define TP_RESTORE_POS_UNKNOWN UINT64_MAX

typedef struct tp_restore_request {
	const uint8_t *set;          /* media set uuid */
	const tp_store_map *map;
	const char *const *snapshots; /* "store:path" */
	int nsnapshots;
	const tp_ns_map *ns;
	int nns;
	const char *authid;          /* the caller (root@pam for the local CLI) */
	const char *owner;           /* restore owner (default authid) */
	tp_restore_priv_fn check_priv;
	const char *pool;            /* the set's pool (privilege check) */
	const char *const *drives;
	int ndrives;
	unsigned standalone;         /* bit d: drive d has no changer (no robot moves in the estimate) */
	const char *const *loaded;   /* loaded[d]: label of the tape in drive d (NULL or "": none; "?": one the drive cannot name) */
	const uint64_t *loaded_pos;  /* loaded_pos[d]: where that tape stands, in bytes of blocks before it; NULL or
				      * TP_RESTORE_POS_UNKNOWN: unknown (charged the shortest rewind, as the drive counts it) */
	const char *const *elsewhere; /* labels of the tapes in the drives of the restore's changers it does not use */
	const uint64_t *elsewhere_pos; /* elsewhere_pos[i]: where elsewhere[i] stands (as loaded_pos); NULL: unknown */
	size_t nelsewhere;
	const tp_lto_gen *gen;       /* timing model for the estimate */
	uint64_t media_bytes;        /* cartridge size the model scales (0 = real) */
} tp_restore_request;

/*
 * Builds the plan from the catalog: selected snapshots (explicit, by
 * namespace mapping, or the whole set), their target store and namespace,
 * the checks PBS makes (target exists, owner, already restored, privileges)
 * — failures become skipped/failed entries, not errors — then every chunk
 * the remaining snapshots reference that the target lacks, its location
 * (tape, file, stream offset), and the forward reads per tape in sequence
 * order, merging ranges when reading a gap is cheaper than a LOCATE under
 * the timing model.  Returns 0, or a negative error for what stops the
 * whole restore (no catalog for the set, bad map).  tp_restore_plan_free
 * releases it.
 */
int tp_restore_plan_build(tp_catalog_db *db, const tp_restore_request *req, tp_restore_plan *plan, tp_err *err);
void tp_restore_plan_free(tp_restore_plan *plan);
/* The plan as JSON (for --dry-run and the task log). */
json_t *tp_restore_plan_json(const tp_restore_plan *plan);

/*
 * What PBS's 2021 three-phase selective restore would do for the same plan
 * (each tape of a snapshot archive loaded in phase 1 and each tape of a
 * chunk archive in phase 2, media-UUID order, every needed chunk archive
 * read from its first block to its last needed chunk, snapshot archives read
 * in full), in the same counters and model.  Used by the benchmark only.
 */
int tp_restore_plan_pbs2021(tp_catalog_db *db, const tp_restore_plan *plan, const tp_restore_request *req,
			    tp_tape_counters *c, tp_lto_estimate *est, tp_err *err);

#endif
