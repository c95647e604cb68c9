/* Tape catalog in SQLite (see catalog_db.h and docs/tape-catalog.md). */
#include "tape/catalog_db.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid.h>

#include "base/hex.h"
#include "format/media_catalog_log.h"
#include "base/paths.h"

#define SCHEMA_VERSION 2
#define BUSY_TIMEOUT_MS 10000

/* Statements on hot paths, prepared once per handle. */
enum {
	ST_SET_ID,
	ST_MEDIA_IDS,
	ST_STORE_ID,
	ST_STORE_INS,
	ST_CHUNK_INS,
	ST_CHUNK_HAS,
	ST_SNAPCHUNK_INS,
	ST_CHUNK_LOOKUP,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_SET_ID] = "SELECT id FROM media_set WHERE uuid = ?1",
	[ST_MEDIA_IDS] = "SELECT id, set_id FROM media WHERE uuid = ?1",
	[ST_STORE_ID] = "SELECT id FROM store WHERE name = ?1",
	[ST_STORE_INS] = "INSERT INTO store(name) VALUES (?1)",
	[ST_CHUNK_INS] = ("INSERT INTO chunk(set_id, store_id, digest, media_id, file_nr, offset, size) "
			  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
	[ST_CHUNK_HAS] = "SELECT 1 FROM chunk WHERE set_id = ?1 AND store_id = ?2 AND digest = ?3 LIMIT 1",
	[ST_SNAPCHUNK_INS] = "INSERT OR IGNORE INTO snapshot_chunk(snapshot_id, digest) VALUES (?1, ?2)",
	/* the planner asks this once per chunk of a restore: prepared once */
	[ST_CHUNK_LOOKUP] = ("SELECT m.uuid, m.seq_nr, c.file_nr, c.offset, c.size, coalesce(f.first_block, -1) "
			     "FROM chunk c JOIN media m ON m.id = c.media_id "
			     "LEFT JOIN tape_file f ON f.media_id = c.media_id AND f.file_nr = c.file_nr "
			     "WHERE c.set_id = ?1 AND c.store_id = ?2 AND c.digest = ?3 "
			     "ORDER BY m.seq_nr, c.file_nr, c.offset"),
};

struct tp_catalog_db {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *st[ST_COUNT];
	/* one-entry caches for the add/lookup loops */
	uint8_t c_media[16];
	int64_t c_media_id, c_media_set;
	int c_media_valid;
	char c_store[TP_CATALOG_STORE_MAX + 1];
	int64_t c_store_id;
	int c_store_valid;
	uint8_t c_set[16];
	int64_t c_set_id;
	int c_set_valid;
};

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS media_set ("
	" id INTEGER PRIMARY KEY,"
	" uuid BLOB NOT NULL UNIQUE CHECK (length(uuid) = 16),"
	" pool TEXT NOT NULL,"
	" ctime INTEGER NOT NULL,"
	" fingerprint BLOB CHECK (fingerprint IS NULL OR length(fingerprint) = 32));"
	"CREATE TABLE IF NOT EXISTS media ("
	" id INTEGER PRIMARY KEY,"
	" uuid BLOB NOT NULL UNIQUE CHECK (length(uuid) = 16),"
	" label_text TEXT NOT NULL,"
	" set_id INTEGER REFERENCES media_set(id),"
	" seq_nr INTEGER NOT NULL DEFAULT 0,"
	" ctime INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS media_by_set ON media(set_id, seq_nr);"
	"CREATE TABLE IF NOT EXISTS store ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE);"
	"CREATE TABLE IF NOT EXISTS tape_file ("
	" media_id INTEGER NOT NULL,"
	" file_nr INTEGER NOT NULL,"
	" kind INTEGER NOT NULL,"
	" first_block INTEGER NOT NULL,"
	" nblocks INTEGER NOT NULL,"
	" content_uuid BLOB NOT NULL,"
	" store_id INTEGER,"
	" complete INTEGER NOT NULL,"
	" PRIMARY KEY (media_id, file_nr)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS chunk ("
	" id INTEGER PRIMARY KEY,"
	" set_id INTEGER NOT NULL,"
	" store_id INTEGER NOT NULL,"
	" digest BLOB NOT NULL,"
	" media_id INTEGER NOT NULL,"
	" file_nr INTEGER NOT NULL,"
	" offset INTEGER NOT NULL,"
	" size INTEGER NOT NULL);"
	/* covering: the planner's lookup of a chunk's location never reads the table (schema 2; 1 had chunk_by_digest) */
	"DROP INDEX IF EXISTS chunk_by_digest;"
	"CREATE INDEX IF NOT EXISTS chunk_loc ON chunk(set_id, store_id, digest, media_id, file_nr, offset, size);"
	"CREATE INDEX IF NOT EXISTS chunk_by_file ON chunk(media_id, file_nr, offset);"
	"CREATE TABLE IF NOT EXISTS snapshot ("
	" id INTEGER PRIMARY KEY,"
	" set_id INTEGER NOT NULL,"
	" store_id INTEGER NOT NULL,"
	" path TEXT NOT NULL,"
	" media_id INTEGER NOT NULL,"
	" file_nr INTEGER NOT NULL,"
	" content_uuid BLOB NOT NULL,"
	" chunks_known INTEGER NOT NULL DEFAULT 0,"
	" nchunks INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS snapshot_by_path ON snapshot(set_id, store_id, path);"
	"CREATE INDEX IF NOT EXISTS snapshot_by_file ON snapshot(media_id, file_nr);"
	"CREATE TABLE IF NOT EXISTS snapshot_chunk ("
	" snapshot_id INTEGER NOT NULL,"
	" digest BLOB NOT NULL,"
	" PRIMARY KEY (snapshot_id, digest)) WITHOUT ROWID;";

static void uuid_text(const uint8_t u[16], char out[37])
{
	uuid_unparse_lower(u, out);
}

static int db_fail(tp_catalog_db *db, tp_err *err, const char *what)
{
	int rc = sqlite3_errcode(db->db);
	int code = (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) ? -TP_ELOCKED
		 : rc == SQLITE_FULL ? -ENOSPC
		 : rc == SQLITE_NOMEM ? -ENOMEM
		 : rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB ? -TP_EFORMAT
		 : -EIO;
	return tp_err_set(err, code, "catalog %s: %s: %s", db->path, what, sqlite3_errmsg(db->db));
}

static int exec(tp_catalog_db *db, const char *sql, tp_err *err)
{
	if (sqlite3_exec(db->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(db, err, sql);
	return 0;
}

static int prep(tp_catalog_db *db, const char *sql, sqlite3_stmt **st, tp_err *err)
{
	if (sqlite3_prepare_v2(db->db, sql, -1, st, NULL) != SQLITE_OK) {
		*st = NULL;
		return db_fail(db, err, "prepare");
	}
	return 0;
}

/* The cached statement, reset and unbound. */
static sqlite3_stmt *cached(tp_catalog_db *db, int which, tp_err *err)
{
	if (!db->st[which] && prep(db, stmt_sql[which], &db->st[which], err) < 0)
		return NULL;
	sqlite3_reset(db->st[which]);
	sqlite3_clear_bindings(db->st[which]);
	return db->st[which];
}

static int check_store(const char *store, tp_err *err)
{
	size_t n = store ? strlen(store) : 0;
	if (n == 0 || n > TP_CATALOG_STORE_MAX || strchr(store, ':') || strchr(store, '/'))
		return tp_err_set(err, -EINVAL, "catalog: invalid datastore name '%s'", store ? store : "");
	return 0;
}

static int check_path(const char *path, tp_err *err)
{
	size_t n = path ? strlen(path) : 0;
	if (n == 0 || n > TP_CATALOG_PATH_MAX || path[0] == '/' || strstr(path, "..") || strstr(path, "//"))
		return tp_err_set(err, -EINVAL, "catalog: invalid snapshot path '%.200s'", path ? path : "");
	return 0;
}

int tp_catalog_open(tp_catalog_db **out, const char *path, tp_err *err)
{
	*out = NULL;
	tp_catalog_db *db = calloc(1, sizeof(*db));
	if (!db)
		return tp_err_set(err, -ENOMEM, "out of memory opening the catalog");
	db->path = path ? strdup(path) : tp_state_path("catalog.db");
	if (!db->path) {
		free(db);
		return tp_err_set(err, -ENOMEM, "out of memory opening the catalog");
	}
	int r;
	int rc = sqlite3_open_v2(db->path, &db->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
				 NULL);
	if (rc != SQLITE_OK) {
		r = tp_err_set(err, -EIO, "open catalog %s: %s", db->path,
			       db->db ? sqlite3_errmsg(db->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_busy_timeout(db->db, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(db->db, 0);
	/* WAL + FULL: every commit fsyncs the WAL, so a committed archive survives a crash */
	if ((r = exec(db, "PRAGMA journal_mode=WAL", err)) < 0 ||
	    (r = exec(db, "PRAGMA synchronous=FULL", err)) < 0 ||
	    (r = exec(db, "PRAGMA foreign_keys=ON", err)) < 0)
		goto fail;
	sqlite3_stmt *st;
	if ((r = prep(db, "PRAGMA user_version", &st, err)) < 0)
		goto fail;
	int version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	if (version < 0) {
		r = db_fail(db, err, "read schema version");
		goto fail;
	}
	if (version > SCHEMA_VERSION) {
		r = tp_err_set(err, -TP_EFORMAT, "catalog %s: schema version %d is newer than this tapir (%d)",
			       db->path, version, SCHEMA_VERSION);
		goto fail;
	}
	if (version < SCHEMA_VERSION) {
		if ((r = exec(db, "BEGIN IMMEDIATE", err)) < 0)
			goto fail;
		char sql[64];
		snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", SCHEMA_VERSION);
		if ((r = exec(db, schema_sql, err)) < 0 || (r = exec(db, sql, err)) < 0 ||
		    (r = exec(db, "COMMIT", err)) < 0) {
			sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
			goto fail;
		}
	}
	*out = db;
	return 0;
fail:
	tp_catalog_close(db);
	return r;
}

void tp_catalog_close(tp_catalog_db *db)
{
	if (!db)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(db->st[i]);
	if (db->db) {
		if (!sqlite3_get_autocommit(db->db))
			sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close(db->db);
	}
	free(db->path);
	free(db);
}

int tp_catalog_begin(tp_catalog_db *db, tp_err *err)
{
	if (!sqlite3_get_autocommit(db->db))
		return tp_err_set(err, -EBUSY, "catalog %s: a transaction is already open", db->path);
	return exec(db, "BEGIN IMMEDIATE", err);
}

int tp_catalog_commit(tp_catalog_db *db, tp_err *err)
{
	if (sqlite3_get_autocommit(db->db))
		return tp_err_set(err, -EINVAL, "catalog %s: commit without a transaction", db->path);
	return exec(db, "COMMIT", err);
}

int tp_catalog_rollback(tp_catalog_db *db, tp_err *err)
{
	/* cached ids may name rows that the rollback removes */
	db->c_media_valid = 0;
	db->c_store_valid = 0;
	db->c_set_valid = 0;
	if (sqlite3_get_autocommit(db->db))
		return 0;
	return exec(db, "ROLLBACK", err);
}

/* Step a write statement to completion. */
static int step_done(tp_catalog_db *db, sqlite3_stmt *st, const char *what, tp_err *err)
{
	int rc = sqlite3_step(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		int r = db_fail(db, err, what);
		sqlite3_reset(st);
		return r;
	}
	sqlite3_reset(st);
	return 0;
}

static int set_id_of(tp_catalog_db *db, const uint8_t uuid[16], int64_t *id, tp_err *err)
{
	if (db->c_set_valid && !memcmp(db->c_set, uuid, 16)) { /* the planner asks once per chunk */
		*id = db->c_set_id;
		return 0;
	}
	sqlite3_stmt *st = cached(db, ST_SET_ID, err);
	if (!st)
		return err ? err->code : -EIO;
	sqlite3_bind_blob(st, 1, uuid, 16, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		memcpy(db->c_set, uuid, 16);
		db->c_set_id = *id;
		db->c_set_valid = 1;
		return 0;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(db, err, "look up media set");
	char u[37];
	uuid_text(uuid, u);
	return tp_err_set(err, -TP_ENOTFOUND, "catalog: media set %s is not in the catalog", u);
}

/* Media row id and set id (0 when not in a set). */
static int media_ids(tp_catalog_db *db, const uint8_t uuid[16], int64_t *id, int64_t *set_id, tp_err *err)
{
	if (db->c_media_valid && !memcmp(db->c_media, uuid, 16)) {
		*id = db->c_media_id;
		*set_id = db->c_media_set;
		return 0;
	}
	sqlite3_stmt *st = cached(db, ST_MEDIA_IDS, err);
	if (!st)
		return err ? err->code : -EIO;
	sqlite3_bind_blob(st, 1, uuid, 16, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		*set_id = sqlite3_column_type(st, 1) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 1);
		sqlite3_reset(st);
		memcpy(db->c_media, uuid, 16);
		db->c_media_id = *id;
		db->c_media_set = *set_id;
		db->c_media_valid = 1;
		return 0;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(db, err, "look up media");
	char u[37];
	uuid_text(uuid, u);
	return tp_err_set(err, -TP_ENOTFOUND, "catalog: media %s is not in the catalog", u);
}

/* Store id; with create, inserts a missing name.  -TP_ENOTFOUND otherwise. */
static int store_id_of(tp_catalog_db *db, const char *name, int create, int64_t *id, tp_err *err)
{
	if (db->c_store_valid && !strcmp(db->c_store, name)) {
		*id = db->c_store_id;
		return 0;
	}
	sqlite3_stmt *st = cached(db, ST_STORE_ID, err);
	if (!st)
		return err ? err->code : -EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
	} else if (rc != SQLITE_DONE) {
		sqlite3_reset(st);
		return db_fail(db, err, "look up datastore");
	} else if (!create) {
		sqlite3_reset(st);
		return tp_err_set(err, -TP_ENOTFOUND, "catalog: no datastore '%s'", name);
	} else {
		sqlite3_reset(st);
		sqlite3_stmt *ins = cached(db, ST_STORE_INS, err);
		if (!ins)
			return err ? err->code : -EIO;
		sqlite3_bind_text(ins, 1, name, -1, SQLITE_STATIC);
		int r = step_done(db, ins, "insert datastore", err);
		if (r < 0)
			return r;
		*id = sqlite3_last_insert_rowid(db->db);
	}
	sqlite3_reset(st);
	snprintf(db->c_store, sizeof(db->c_store), "%s", name);
	db->c_store_id = *id;
	db->c_store_valid = 1;
	return 0;
}

const char *tp_tape_file_kind_name(enum tp_tape_file_kind k)
{
	switch (k) {
	case TP_TAPE_FILE_LABEL: return "label";
	case TP_TAPE_FILE_SET_LABEL: return "set-label";
	case TP_TAPE_FILE_CHUNK_ARCHIVE: return "chunk-archive";
	case TP_TAPE_FILE_SNAPSHOT_ARCHIVE: return "snapshot-archive";
	case TP_TAPE_FILE_CATALOG_ARCHIVE: return "catalog-archive";
	}
	return "unknown";
}

int tp_catalog_add_media_set(tp_catalog_db *db, const uint8_t uuid[16], const char *pool, int64_t ctime,
			     const uint8_t *fingerprint, tp_err *err)
{
	if (!pool || !*pool || strlen(pool) > 64)
		return tp_err_set(err, -EINVAL, "catalog: invalid pool name '%s'", pool ? pool : "");
	sqlite3_stmt *st;
	int r = prep(db,
		     "INSERT INTO media_set(uuid, pool, ctime, fingerprint) VALUES (?1, ?2, ?3, ?4) "
		     "ON CONFLICT(uuid) DO UPDATE SET pool = ?2, ctime = ?3, fingerprint = ?4",
		     &st, err);
	if (r < 0)
		return r;
	sqlite3_bind_blob(st, 1, uuid, 16, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, pool, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, ctime);
	if (fingerprint)
		sqlite3_bind_blob(st, 4, fingerprint, 32, SQLITE_STATIC);
	r = step_done(db, st, "add media set", err);
	sqlite3_finalize(st);
	return r;
}

int tp_catalog_add_media(tp_catalog_db *db, const uint8_t uuid[16], const char *label_text,
			 const uint8_t *media_set, uint64_t seq_nr, int64_t ctime, tp_err *err)
{
	if (!label_text || !*label_text || strlen(label_text) > 128)
		return tp_err_set(err, -EINVAL, "catalog: invalid label text '%.200s'", label_text ? label_text : "");
	if (seq_nr > INT64_MAX)
		return tp_err_set(err, -EINVAL, "catalog: sequence number %llu out of range", (unsigned long long)seq_nr);
	int64_t set_id = 0;
	int r;
	if (media_set && (r = set_id_of(db, media_set, &set_id, err)) < 0)
		return r;
	sqlite3_stmt *st;
	r = prep(db,
		 "INSERT INTO media(uuid, label_text, set_id, seq_nr, ctime) VALUES (?1, ?2, ?3, ?4, ?5) "
		 "ON CONFLICT(uuid) DO UPDATE SET label_text = ?2, set_id = ?3, seq_nr = ?4, ctime = ?5",
		 &st, err);
	if (r < 0)
		return r;
	sqlite3_bind_blob(st, 1, uuid, 16, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, label_text, -1, SQLITE_STATIC);
	if (media_set)
		sqlite3_bind_int64(st, 3, set_id);
	sqlite3_bind_int64(st, 4, (int64_t)seq_nr);
	sqlite3_bind_int64(st, 5, ctime);
	r = step_done(db, st, "add media", err);
	sqlite3_finalize(st);
	db->c_media_valid = 0;
	return r;
}

int tp_catalog_get_media(tp_catalog_db *db, const uint8_t uuid[16], tp_catalog_media *out, tp_err *err)
{
	sqlite3_stmt *st;
	int r = prep(db,
		     "SELECT m.label_text, ms.uuid, m.seq_nr, m.ctime FROM media m "
		     "LEFT JOIN media_set ms ON ms.id = m.set_id WHERE m.uuid = ?1",
		     &st, err);
	if (r < 0)
		return r;
	sqlite3_bind_blob(st, 1, uuid, 16, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof(*out));
		memcpy(out->uuid, uuid, 16);
		snprintf(out->label_text, sizeof(out->label_text), "%s", (const char *)sqlite3_column_text(st, 0));
		if (sqlite3_column_bytes(st, 1) == 16) {
			out->has_set = 1;
			memcpy(out->media_set, sqlite3_column_blob(st, 1), 16);
		}
		out->seq_nr = (uint64_t)sqlite3_column_int64(st, 2);
		out->ctime = sqlite3_column_int64(st, 3);
		r = 0;
	} else if (rc == SQLITE_DONE) {
		char u[37];
		uuid_text(uuid, u);
		r = tp_err_set(err, -TP_ENOTFOUND, "catalog: media %s is not in the catalog", u);
	} else {
		r = db_fail(db, err, "get media");
	}
	sqlite3_finalize(st);
	return r;
}

int tp_catalog_get_media_set(tp_catalog_db *db, const uint8_t uuid[16], char pool[65], int64_t *ctime,
			     tp_err *err)
{
	sqlite3_stmt *st;
	int r = prep(db, "SELECT pool, ctime FROM media_set WHERE uuid = ?1", &st, err);
	if (r < 0)
		return r;
	sqlite3_bind_blob(st, 1, uuid, 16, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(pool, 65, "%s", (const char *)sqlite3_column_text(st, 0));
		*ctime = sqlite3_column_int64(st, 1);
	} else if (rc == SQLITE_DONE) {
		char u[37];
		uuid_text(uuid, u);
		r = tp_err_set(err, -TP_ENOTFOUND, "catalog: media set %s is not in the catalog", u);
	} else {
		r = db_fail(db, err, "get media set");
	}
	sqlite3_finalize(st);
	return r;
}

int tp_catalog_add_tape_file(tp_catalog_db *db, const tp_tape_file *f, tp_err *err)
{
	if ((unsigned)f->kind > TP_TAPE_FILE_CATALOG_ARCHIVE)
		return tp_err_set(err, -EINVAL, "catalog: invalid tape file kind %d", (int)f->kind);
	if (f->file_nr > INT64_MAX || f->first_block < -1 || f->nblocks < -1)
		return tp_err_set(err, -EINVAL, "catalog: tape file %llu: invalid position",
				  (unsigned long long)f->file_nr);
	int64_t media_id, set_id, store_id = 0;
	int r = media_ids(db, f->media, &media_id, &set_id, err);
	if (r < 0)
		return r;
	if (f->store[0] && ((r = check_store(f->store, err)) < 0 || (r = store_id_of(db, f->store, 1, &store_id, err)) < 0))
		return r;
	sqlite3_stmt *st;
	r = prep(db,
		 "INSERT OR REPLACE INTO tape_file(media_id, file_nr, kind, first_block, nblocks, content_uuid, "
		 "store_id, complete) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
		 &st, err);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, media_id);
	sqlite3_bind_int64(st, 2, (int64_t)f->file_nr);
	sqlite3_bind_int(st, 3, (int)f->kind);
	sqlite3_bind_int64(st, 4, f->first_block);
	sqlite3_bind_int64(st, 5, f->nblocks);
	sqlite3_bind_blob(st, 6, f->content_uuid, 16, SQLITE_STATIC);
	if (f->store[0])
		sqlite3_bind_int64(st, 7, store_id);
	sqlite3_bind_int(st, 8, f->complete ? 1 : 0);
	r = step_done(db, st, "add tape file", err);
	sqlite3_finalize(st);
	return r;
}

static int media_in_set(tp_catalog_db *db, const uint8_t media[16], int64_t *media_id, int64_t *set_id,
			const char *what, tp_err *err)
{
	int r = media_ids(db, media, media_id, set_id, err);
	if (r < 0)
		return r;
	if (*set_id == 0) {
		char u[37];
		uuid_text(media, u);
		return tp_err_set(err, -EINVAL, "catalog: %s: media %s is not in a media set", what, u);
	}
	return 0;
}

int tp_catalog_add_chunk(tp_catalog_db *db, const uint8_t media[16], uint64_t file_nr, const char *store,
			 const uint8_t digest[32], int64_t offset, int64_t size, tp_err *err)
{
	int64_t media_id, set_id, store_id;
	int r;
	if (file_nr > INT64_MAX || offset < -1 || size < -1)
		return tp_err_set(err, -EINVAL, "catalog: add chunk: invalid file %llu / offset %lld / size %lld",
				  (unsigned long long)file_nr, (long long)offset, (long long)size);
	if ((r = check_store(store, err)) < 0 ||
	    (r = media_in_set(db, media, &media_id, &set_id, "add chunk", err)) < 0 ||
	    (r = store_id_of(db, store, 1, &store_id, err)) < 0)
		return r;
	sqlite3_stmt *st = cached(db, ST_CHUNK_INS, err);
	if (!st)
		return err ? err->code : -EIO;
	sqlite3_bind_int64(st, 1, set_id);
	sqlite3_bind_int64(st, 2, store_id);
	sqlite3_bind_blob(st, 3, digest, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, media_id);
	sqlite3_bind_int64(st, 5, (int64_t)file_nr);
	sqlite3_bind_int64(st, 6, offset);
	sqlite3_bind_int64(st, 7, size);
	return step_done(db, st, "add chunk", err);
}

int tp_catalog_add_snapshot(tp_catalog_db *db, const uint8_t media[16], uint64_t file_nr, const char *store,
			    const char *path, const uint8_t content_uuid[16], int64_t *id, tp_err *err)
{
	int64_t media_id, set_id, store_id;
	int r;
	if (file_nr > INT64_MAX)
		return tp_err_set(err, -EINVAL, "catalog: add snapshot: invalid file number");
	if ((r = check_store(store, err)) < 0 || (r = check_path(path, err)) < 0 ||
	    (r = media_in_set(db, media, &media_id, &set_id, "add snapshot", err)) < 0 ||
	    (r = store_id_of(db, store, 1, &store_id, err)) < 0)
		return r;
	sqlite3_stmt *st;
	/* the same archive registered twice (a retried commit) keeps one row */
	if ((r = prep(db, "SELECT id FROM snapshot WHERE media_id = ?1 AND file_nr = ?2 AND store_id = ?3 AND path = ?4",
		      &st, err)) < 0)
		return r;
	sqlite3_bind_int64(st, 1, media_id);
	sqlite3_bind_int64(st, 2, (int64_t)file_nr);
	sqlite3_bind_int64(st, 3, store_id);
	sqlite3_bind_text(st, 4, path, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (id)
			*id = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		return 0;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(db, err, "look up snapshot");
	if ((r = prep(db,
		      "INSERT INTO snapshot(set_id, store_id, path, media_id, file_nr, content_uuid) "
		      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
		      &st, err)) < 0)
		return r;
	sqlite3_bind_int64(st, 1, set_id);
	sqlite3_bind_int64(st, 2, store_id);
	sqlite3_bind_text(st, 3, path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, media_id);
	sqlite3_bind_int64(st, 5, (int64_t)file_nr);
	sqlite3_bind_blob(st, 6, content_uuid, 16, SQLITE_STATIC);
	r = step_done(db, st, "add snapshot", err);
	sqlite3_finalize(st);
	if (r == 0 && id)
		*id = sqlite3_last_insert_rowid(db->db);
	return r;
}

int tp_catalog_add_snapshot_chunks(tp_catalog_db *db, int64_t id, const uint8_t (*digests)[32], size_t n,
				   tp_err *err)
{
	int64_t added = 0;
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st = cached(db, ST_SNAPCHUNK_INS, err);
		if (!st)
			return err ? err->code : -EIO;
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_blob(st, 2, digests[i], 32, SQLITE_STATIC);
		int r = step_done(db, st, "add snapshot chunk", err);
		if (r < 0)
			return r;
		added += sqlite3_changes(db->db);
	}
	sqlite3_stmt *st;
	int r = prep(db, "UPDATE snapshot SET chunks_known = 1, nchunks = nchunks + ?2 WHERE id = ?1", &st, err);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, added);
	r = step_done(db, st, "update snapshot", err);
	if (r == 0 && sqlite3_changes(db->db) != 1)
		r = tp_err_set(err, -TP_ENOTFOUND, "catalog: snapshot row %lld does not exist", (long long)id);
	sqlite3_finalize(st);
	return r;
}

int tp_catalog_has_chunk_in_set(tp_catalog_db *db, const uint8_t set[16], const char *store,
				const uint8_t digest[32], tp_err *err)
{
	int64_t set_id, store_id;
	int r = set_id_of(db, set, &set_id, err);
	if (r < 0)
		return r == -TP_ENOTFOUND ? 0 : r;
	r = store_id_of(db, store, 0, &store_id, err);
	if (r < 0)
		return r == -TP_ENOTFOUND ? 0 : r;
	sqlite3_stmt *st = cached(db, ST_CHUNK_HAS, err);
	if (!st)
		return err ? err->code : -EIO;
	sqlite3_bind_int64(st, 1, set_id);
	sqlite3_bind_int64(st, 2, store_id);
	sqlite3_bind_blob(st, 3, digest, 32, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return db_fail(db, err, "look up chunk");
}

/* Stores the row's location columns (from col) as copy n of locs when n < max; 0 or -TP_EFORMAT. */
static int read_loc_row(sqlite3_stmt *st, int col, tp_chunk_loc *locs, size_t n, size_t max)
{
	if (sqlite3_column_bytes(st, col) != 16)
		return -TP_EFORMAT;
	if (n >= max)
		return 0;
	tp_chunk_loc *l = &locs[n];
	memcpy(l->media, sqlite3_column_blob(st, col), 16);
	l->seq_nr = (uint64_t)sqlite3_column_int64(st, col + 1);
	l->file_nr = (uint64_t)sqlite3_column_int64(st, col + 2);
	l->offset = sqlite3_column_int64(st, col + 3);
	l->size = sqlite3_column_int64(st, col + 4);
	l->file_first_block = sqlite3_column_int64(st, col + 5);
	return 0;
}

int tp_catalog_lookup_chunk(tp_catalog_db *db, const uint8_t set[16], const char *store,
			    const uint8_t digest[32], tp_chunk_loc *out, size_t max, tp_err *err)
{
	int64_t set_id, store_id;
	int r = set_id_of(db, set, &set_id, err);
	if (r < 0)
		return r == -TP_ENOTFOUND ? 0 : r;
	r = store_id_of(db, store, 0, &store_id, err);
	if (r < 0)
		return r == -TP_ENOTFOUND ? 0 : r;
	sqlite3_stmt *st = cached(db, ST_CHUNK_LOOKUP, err);
	if (!st)
		return err ? err->code : -EIO;
	sqlite3_bind_int64(st, 1, set_id);
	sqlite3_bind_int64(st, 2, store_id);
	sqlite3_bind_blob(st, 3, digest, 32, SQLITE_STATIC);
	int count = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (read_loc_row(st, 0, out, (size_t)count, max) < 0) {
			sqlite3_reset(st);
			return tp_err_set(err, -TP_EFORMAT, "catalog %s: chunk: media uuid of wrong length", db->path);
		}
		if (count < INT32_MAX)
			count++;
	}
	r = rc == SQLITE_DONE ? count : db_fail(db, err, "look up chunk");
	sqlite3_reset(st);
	return r;
}

int tp_catalog_snapshot_chunk_locs(tp_catalog_db *db, int64_t id, const uint8_t set[16], const char *store,
				   tp_catalog_locs_cb cb, void *ctx, tp_err *err)
{
	int64_t set_id = -1, store_id = -1; /* an unknown set or store: every chunk without copies */
	int r = set_id_of(db, set, &set_id, err);
	if (r < 0 && r != -TP_ENOTFOUND)
		return r;
	if ((r = store_id_of(db, store, 0, &store_id, err)) < 0 && r != -TP_ENOTFOUND)
		return r;
	sqlite3_stmt *st;
	/* the chunk side is the covering index chunk_loc; only the copies of one digest are sorted */
	if ((r = prep(db,
		      "SELECT sc.digest, m.uuid, m.seq_nr, c.file_nr, c.offset, c.size, coalesce(f.first_block, -1) "
		      "FROM snapshot_chunk sc "
		      "LEFT JOIN chunk c ON c.set_id = ?2 AND c.store_id = ?3 AND c.digest = sc.digest "
		      "LEFT JOIN media m ON m.id = c.media_id "
		      "LEFT JOIN tape_file f ON f.media_id = c.media_id AND f.file_nr = c.file_nr "
		      "WHERE sc.snapshot_id = ?1 ORDER BY sc.digest, m.seq_nr, c.file_nr, c.offset",
		      &st, err)) < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, set_id);
	sqlite3_bind_int64(st, 3, store_id);
	tp_chunk_loc locs[TP_CATALOG_LOCS_MAX];
	uint8_t cur[32];
	size_t n = 0;
	int have = 0, rc, c;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != 32) {
			r = tp_err_set(err, -TP_EFORMAT, "catalog %s: snapshot %lld: digest of wrong length", db->path,
				       (long long)id);
			goto out;
		}
		const uint8_t *d = sqlite3_column_blob(st, 0);
		if (have && memcmp(d, cur, 32)) {
			if ((c = cb(ctx, cur, locs, n)) != 0) {
				r = c < 0 ? c : 0;
				goto out;
			}
			n = 0;
		}
		memcpy(cur, d, 32);
		have = 1;
		if (sqlite3_column_type(st, 1) == SQLITE_NULL) /* not in the set (or its tape unknown) */
			continue;
		if (read_loc_row(st, 1, locs, n, TP_CATALOG_LOCS_MAX) < 0) {
			r = tp_err_set(err, -TP_EFORMAT, "catalog %s: snapshot %lld: media uuid of wrong length", db->path,
				       (long long)id);
			goto out;
		}
		n++;
	}
	if (rc != SQLITE_DONE) {
		r = db_fail(db, err, "list snapshot chunk locations");
		goto out;
	}
	if (have && (c = cb(ctx, cur, locs, n)) < 0)
		r = c;
out:
	sqlite3_finalize(st);
	return r;
}

#define SNAPSHOT_COLUMNS                                                                        \
	"SELECT s.id, ms.uuid, m.uuid, m.seq_nr, s.file_nr, s.content_uuid, st.name, s.path, "      \
	"s.chunks_known, s.nchunks FROM snapshot s JOIN media m ON m.id = s.media_id "              \
	"JOIN media_set ms ON ms.id = s.set_id JOIN store st ON st.id = s.store_id "

static void read_snapshot_row(sqlite3_stmt *st, tp_snapshot_loc *s)
{
	memset(s, 0, sizeof(*s));
	s->id = sqlite3_column_int64(st, 0);
	memcpy(s->media_set, sqlite3_column_blob(st, 1), 16);
	memcpy(s->media, sqlite3_column_blob(st, 2), 16);
	s->seq_nr = (uint64_t)sqlite3_column_int64(st, 3);
	s->file_nr = (uint64_t)sqlite3_column_int64(st, 4);
	if (sqlite3_column_bytes(st, 5) == 16)
		memcpy(s->content_uuid, sqlite3_column_blob(st, 5), 16);
	snprintf(s->store, sizeof(s->store), "%s", (const char *)sqlite3_column_text(st, 6));
	snprintf(s->path, sizeof(s->path), "%s", (const char *)sqlite3_column_text(st, 7));
	s->chunks_known = sqlite3_column_int(st, 8);
	s->nchunks = sqlite3_column_int64(st, 9);
}

int tp_catalog_lookup_snapshot(tp_catalog_db *db, const uint8_t set[16], const char *store, const char *path,
			       tp_snapshot_loc *out, tp_err *err)
{
	char u[37];
	uuid_text(set, u);
	sqlite3_stmt *st;
	int r = prep(db,
		     SNAPSHOT_COLUMNS "WHERE ms.uuid = ?1 AND st.name = ?2 AND s.path = ?3 "
				      "ORDER BY m.seq_nr, s.file_nr LIMIT 1",
		     &st, err);
	if (r < 0)
		return r;
	sqlite3_bind_blob(st, 1, set, 16, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, store, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, path, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_snapshot_row(st, out);
		r = 0;
	} else if (rc == SQLITE_DONE) {
		r = tp_err_set(err, -TP_ENOTFOUND, "snapshot %s:%.200s is not in media set %s", store, path, u);
	} else {
		r = db_fail(db, err, "look up snapshot");
	}
	sqlite3_finalize(st);
	return r;
}

int tp_catalog_list_snapshots(tp_catalog_db *db, const uint8_t *set, const char *store, const char *ns,
			      tp_catalog_snapshot_cb cb, void *ctx, tp_err *err)
{
	char lo[TP_CATALOG_PATH_MAX + 1] = "", hi[TP_CATALOG_PATH_MAX + 1] = "";
	if (ns && *ns) {
		/* "a/b" -> paths in ["ns/a/ns/b/", "ns/a/ns/b0"): '0' follows '/' */
		size_t o = 0;
		const char *p = ns;
		while (*p) {
			const char *e = strchr(p, '/');
			size_t n = e ? (size_t)(e - p) : strlen(p);
			if (n == 0 || o + n + 5 >= sizeof(lo))
				return tp_err_set(err, -EINVAL, "catalog: invalid namespace '%.200s'", ns);
			o += (size_t)snprintf(lo + o, sizeof(lo) - o, "ns/%.*s/", (int)n, p);
			p += n;
			if (*p == '/')
				p++;
		}
		memcpy(hi, lo, o + 1);
		hi[o - 1] = '0';
	}
	sqlite3_stmt *st;
	int r = prep(db,
		     SNAPSHOT_COLUMNS "WHERE (?1 IS NULL OR ms.uuid = ?1) AND (?2 IS NULL OR st.name = ?2) "
				      "AND (?3 IS NULL OR (s.path >= ?3 AND s.path < ?4)) "
				      "ORDER BY ms.ctime, ms.uuid, st.name, s.path, m.seq_nr, s.file_nr",
		     &st, err);
	if (r < 0)
		return r;
	if (set)
		sqlite3_bind_blob(st, 1, set, 16, SQLITE_STATIC);
	if (store)
		sqlite3_bind_text(st, 2, store, -1, SQLITE_STATIC);
	if (lo[0]) {
		sqlite3_bind_text(st, 3, lo, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, hi, -1, SQLITE_STATIC);
	}
	tp_snapshot_loc *s = malloc(sizeof(*s));
	if (!s) {
		sqlite3_finalize(st);
		return tp_err_set(err, -ENOMEM, "out of memory listing snapshots");
	}
	int rc;
	r = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_snapshot_row(st, s);
		int c = cb(ctx, s);
		if (c != 0) {
			r = c < 0 ? c : 0;
			goto out;
		}
	}
	if (rc != SQLITE_DONE)
		r = db_fail(db, err, "list snapshots");
out:
	free(s);
	sqlite3_finalize(st);
	return r;
}

int tp_catalog_snapshot_chunks(tp_catalog_db *db, int64_t id, tp_catalog_digest_cb cb, void *ctx, tp_err *err)
{
	sqlite3_stmt *st;
	int r = prep(db, "SELECT digest FROM snapshot_chunk WHERE snapshot_id = ?1 ORDER BY digest", &st, err);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != 32) {
			r = tp_err_set(err, -TP_EFORMAT, "catalog %s: snapshot %lld: digest of wrong length", db->path,
				       (long long)id);
			goto out;
		}
		int c = cb(ctx, sqlite3_column_blob(st, 0));
		if (c != 0) {
			r = c < 0 ? c : 0;
			goto out;
		}
	}
	if (rc != SQLITE_DONE)
		r = db_fail(db, err, "list snapshot chunks");
out:
	sqlite3_finalize(st);
	return r;
}

int tp_catalog_list_tape_files(tp_catalog_db *db, const uint8_t media[16], tp_catalog_file_cb cb, void *ctx,
			       tp_err *err)
{
	sqlite3_stmt *st;
	int r = prep(db,
		     "SELECT f.file_nr, f.kind, f.first_block, f.nblocks, f.content_uuid, coalesce(st.name, ''), "
		     "f.complete FROM tape_file f JOIN media m ON m.id = f.media_id "
		     "LEFT JOIN store st ON st.id = f.store_id WHERE m.uuid = ?1 ORDER BY f.file_nr",
		     &st, err);
	if (r < 0)
		return r;
	sqlite3_bind_blob(st, 1, media, 16, SQLITE_STATIC);
	tp_tape_file f;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&f, 0, sizeof(f));
		memcpy(f.media, media, 16);
		f.file_nr = (uint64_t)sqlite3_column_int64(st, 0);
		f.kind = (enum tp_tape_file_kind)sqlite3_column_int(st, 1);
		f.first_block = sqlite3_column_int64(st, 2);
		f.nblocks = sqlite3_column_int64(st, 3);
		if (sqlite3_column_bytes(st, 4) == 16)
			memcpy(f.content_uuid, sqlite3_column_blob(st, 4), 16);
		snprintf(f.store, sizeof(f.store), "%s", (const char *)sqlite3_column_text(st, 5));
		f.complete = sqlite3_column_int(st, 6);
		int c = cb(ctx, &f);
		if (c != 0) {
			r = c < 0 ? c : 0;
			goto out;
		}
	}
	if (rc != SQLITE_DONE)
		r = db_fail(db, err, "list tape files");
out:
	sqlite3_finalize(st);
	return r;
}

static int count_one(tp_catalog_db *db, const char *sql, int64_t set_id, int64_t *out, tp_err *err)
{
	sqlite3_stmt *st;
	int r = prep(db, sql, &st, err);
	if (r < 0)
		return r;
	if (set_id)
		sqlite3_bind_int64(st, 1, set_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		r = db_fail(db, err, "count");
	sqlite3_finalize(st);
	return r;
}

int tp_catalog_count(tp_catalog_db *db, const uint8_t *set, tp_catalog_counts *out, tp_err *err)
{
	memset(out, 0, sizeof(*out));
	int64_t set_id = 0;
	int r;
	if (set) {
		r = set_id_of(db, set, &set_id, err);
		if (r == -TP_ENOTFOUND)
			return 0;
		if (r < 0)
			return r;
		out->media_sets = 1;
		if ((r = count_one(db, "SELECT count(*) FROM media WHERE set_id = ?1", set_id, &out->media, err)) < 0 ||
		    (r = count_one(db, "SELECT count(*) FROM tape_file f JOIN media m ON m.id = f.media_id "
				       "WHERE m.set_id = ?1", set_id, &out->tape_files, err)) < 0 ||
		    (r = count_one(db, "SELECT count(*) FROM chunk WHERE set_id = ?1", set_id, &out->chunks, err)) < 0 ||
		    (r = count_one(db, "SELECT count(*) FROM snapshot WHERE set_id = ?1", set_id, &out->snapshots,
				   err)) < 0 ||
		    (r = count_one(db, "SELECT count(*) FROM snapshot_chunk c JOIN snapshot s ON s.id = c.snapshot_id "
				       "WHERE s.set_id = ?1", set_id, &out->snapshot_chunks, err)) < 0)
			return r;
		return 0;
	}
	if ((r = count_one(db, "SELECT count(*) FROM media_set", 0, &out->media_sets, err)) < 0 ||
	    (r = count_one(db, "SELECT count(*) FROM media", 0, &out->media, err)) < 0 ||
	    (r = count_one(db, "SELECT count(*) FROM tape_file", 0, &out->tape_files, err)) < 0 ||
	    (r = count_one(db, "SELECT count(*) FROM chunk", 0, &out->chunks, err)) < 0 ||
	    (r = count_one(db, "SELECT count(*) FROM snapshot", 0, &out->snapshots, err)) < 0 ||
	    (r = count_one(db, "SELECT count(*) FROM snapshot_chunk", 0, &out->snapshot_chunks, err)) < 0)
		return r;
	return 0;
}

static int exec_id(tp_catalog_db *db, const char *sql, int64_t id, tp_err *err)
{
	sqlite3_stmt *st;
	int r = prep(db, sql, &st, err);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	r = step_done(db, st, "delete", err);
	sqlite3_finalize(st);
	return r;
}

int tp_catalog_delete_media(tp_catalog_db *db, const uint8_t media[16], int keep_media, tp_err *err)
{
	int64_t media_id, set_id;
	int r = media_ids(db, media, &media_id, &set_id, err);
	if (r < 0)
		return r;
	int own = sqlite3_get_autocommit(db->db);
	if (own && (r = tp_catalog_begin(db, err)) < 0)
		return r;
	if ((r = exec_id(db, "DELETE FROM snapshot_chunk WHERE snapshot_id IN "
			     "(SELECT id FROM snapshot WHERE media_id = ?1)", media_id, err)) < 0 ||
	    (r = exec_id(db, "DELETE FROM snapshot WHERE media_id = ?1", media_id, err)) < 0 ||
	    (r = exec_id(db, "DELETE FROM chunk WHERE media_id = ?1", media_id, err)) < 0 ||
	    (r = exec_id(db, "DELETE FROM tape_file WHERE media_id = ?1", media_id, err)) < 0)
		goto out;
	if (!keep_media) {
		if ((r = exec_id(db, "DELETE FROM media WHERE id = ?1", media_id, err)) < 0)
			goto out;
		db->c_media_valid = 0;
		db->c_set_valid = 0;
		if (set_id && (r = exec_id(db, "DELETE FROM media_set WHERE id = ?1 AND NOT EXISTS "
					       "(SELECT 1 FROM media WHERE set_id = ?1)", set_id, err)) < 0)
			goto out;
	}
out:
	if (own) {
		if (r < 0)
			tp_catalog_rollback(db, NULL);
		else
			r = tp_catalog_commit(db, err);
	}
	return r;
}

/* ---- PBS .log export / import ---- */

/* Appends A, C.., E of one chunk archive file; chunks in stream (then insertion) order. */
static int export_chunk_archive(tp_catalog_db *db, int64_t media_id, uint64_t file_nr, const uint8_t cuuid[16],
				const char *store, tp_buf *out, tp_err *err)
{
	sqlite3_stmt *st;
	int r = prep(db, "SELECT digest FROM chunk WHERE media_id = ?1 AND file_nr = ?2 ORDER BY offset, id", &st, err);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, media_id);
	sqlite3_bind_int64(st, 2, (int64_t)file_nr);
	if ((r = tp_mclog_append_archive_start(out, file_nr, cuuid, store, err)) < 0)
		goto out;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != 32) {
			r = tp_err_set(err, -TP_EFORMAT, "catalog %s: file %llu: digest of wrong length", db->path,
				       (unsigned long long)file_nr);
			goto out;
		}
		if ((r = tp_mclog_append_chunk(out, sqlite3_column_blob(st, 0))) < 0) {
			r = tp_err_set(err, r, "out of memory exporting the catalog");
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		r = db_fail(db, err, "export chunks");
		goto out;
	}
	if (tp_mclog_append_archive_end(out, file_nr, cuuid) < 0)
		r = tp_err_set(err, -ENOMEM, "out of memory exporting the catalog");
out:
	sqlite3_finalize(st);
	return r;
}

int tp_catalog_export_log(tp_catalog_db *db, const uint8_t media[16], tp_buf *out, tp_err *err)
{
	tp_catalog_media m;
	int64_t media_id, set_id;
	int r;
	if ((r = tp_catalog_get_media(db, media, &m, err)) < 0 || (r = media_ids(db, media, &media_id, &set_id, err)) < 0)
		return r;
	if (tp_mclog_append_magic(out) < 0 || tp_mclog_append_label(out, 0, media, 0) < 0 ||
	    (m.has_set && tp_mclog_append_label(out, 1, m.media_set, m.seq_nr) < 0))
		return tp_err_set(err, -ENOMEM, "out of memory exporting the catalog");
	/*
	 * Every file that holds chunks or a snapshot, or is a registered chunk
	 * archive; per file the archive's content uuid and store come from its
	 * tape_file row when there is one.
	 */
	sqlite3_stmt *st;
	r = prep(db,
		 "WITH files(nr) AS ("
		 " SELECT file_nr FROM tape_file WHERE media_id = ?1 AND kind = 2"
		 " UNION SELECT file_nr FROM chunk WHERE media_id = ?1"
		 " UNION SELECT file_nr FROM snapshot WHERE media_id = ?1) "
		 "SELECT files.nr, f.content_uuid, "
		 " coalesce((SELECT name FROM store WHERE id = f.store_id),"
		 "          (SELECT st.name FROM chunk c JOIN store st ON st.id = c.store_id"
		 "           WHERE c.media_id = ?1 AND c.file_nr = files.nr LIMIT 1)), "
		 " EXISTS (SELECT 1 FROM chunk c WHERE c.media_id = ?1 AND c.file_nr = files.nr) OR f.kind = 2 "
		 "FROM files LEFT JOIN tape_file f ON f.media_id = ?1 AND f.file_nr = files.nr ORDER BY files.nr",
		 &st, err);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, media_id);
	sqlite3_stmt *snap = NULL;
	if ((r = prep(db,
		      "SELECT st.name, s.path, s.content_uuid FROM snapshot s JOIN store st ON st.id = s.store_id "
		      "WHERE s.media_id = ?1 AND s.file_nr = ?2 ORDER BY s.id",
		      &snap, err)) < 0)
		goto out;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint64_t nr = (uint64_t)sqlite3_column_int64(st, 0);
		uint8_t cu[16] = { 0 };
		if (sqlite3_column_bytes(st, 1) == 16)
			memcpy(cu, sqlite3_column_blob(st, 1), 16);
		if (sqlite3_column_int(st, 3)) {
			const char *store = (const char *)sqlite3_column_text(st, 2);
			if (!store) {
				r = tp_err_set(err, -TP_EFORMAT, "catalog: chunk archive at file %llu has no datastore",
					       (unsigned long long)nr);
				goto out;
			}
			char sname[TP_CATALOG_STORE_MAX + 1];
			snprintf(sname, sizeof(sname), "%s", store);
			if ((r = export_chunk_archive(db, media_id, nr, cu, sname, out, err)) < 0)
				goto out;
		}
		sqlite3_reset(snap);
		sqlite3_bind_int64(snap, 1, media_id);
		sqlite3_bind_int64(snap, 2, (int64_t)nr);
		while ((rc = sqlite3_step(snap)) == SQLITE_ROW) {
			uint8_t su[16] = { 0 };
			if (sqlite3_column_bytes(snap, 2) == 16)
				memcpy(su, sqlite3_column_blob(snap, 2), 16);
			if ((r = tp_mclog_append_snapshot(out, nr, su, (const char *)sqlite3_column_text(snap, 0),
							  (const char *)sqlite3_column_text(snap, 1), err)) < 0)
				goto out;
		}
		if (rc != SQLITE_DONE) {
			r = db_fail(db, err, "export snapshots");
			goto out;
		}
	}
	if (rc != SQLITE_DONE)
		r = db_fail(db, err, "export files");
out:
	sqlite3_finalize(snap);
	sqlite3_finalize(st);
	return r;
}

struct import_ctx {
	tp_catalog_db *db;
	const tp_catalog_media *m;
	char store[TP_CATALOG_STORE_MAX + 1];
};

static int import_record(void *ctxp, const tp_mclog_record *rec, tp_err *err)
{
	struct import_ctx *c = ctxp;
	tp_tape_file f;
	int r;
	switch (rec->type) {
	case 'L':
		if (rec->file == 1 && !c->m->has_set) {
			char u[37];
			uuid_text(rec->uuid, u);
			return tp_err_set(err, -TP_EFORMAT, "catalog log names media set %s, but the tape is in no set", u);
		}
		return 0;
	case 'A':
	case 'S':
		memset(&f, 0, sizeof(f));
		memcpy(f.media, c->m->uuid, 16);
		f.file_nr = rec->file;
		f.kind = rec->type == 'A' ? TP_TAPE_FILE_CHUNK_ARCHIVE : TP_TAPE_FILE_SNAPSHOT_ARCHIVE;
		f.first_block = -1;
		f.nblocks = -1;
		memcpy(f.content_uuid, rec->uuid, 16);
		snprintf(f.store, sizeof(f.store), "%s", rec->store);
		f.complete = 1;
		if ((r = tp_catalog_add_tape_file(c->db, &f, err)) < 0)
			return r;
		if (rec->type == 'A') {
			snprintf(c->store, sizeof(c->store), "%s", rec->store);
			return 0;
		}
		return tp_catalog_add_snapshot(c->db, c->m->uuid, rec->file, rec->store, rec->snapshot, rec->uuid, NULL,
					       err);
	case 'C':
		return tp_catalog_add_chunk(c->db, c->m->uuid, rec->archive_file, c->store, rec->digest, -1, -1, err);
	default:
		return 0;
	}
}

int tp_catalog_import_log(tp_catalog_db *db, const uint8_t media[16], const void *data, size_t len, tp_err *err)
{
	tp_catalog_media m;
	int r = tp_catalog_get_media(db, media, &m, err);
	if (r < 0)
		return r;
	int own = sqlite3_get_autocommit(db->db);
	if (own && (r = tp_catalog_begin(db, err)) < 0)
		return r;
	struct import_ctx c = { db, &m, "" };
	tp_mclog_decoder d;
	tp_mclog_decoder_init(&d, import_record, &c);
	d.expect_media = media;
	if (m.has_set) {
		d.expect_set = m.media_set;
		d.expect_seq_nr = m.seq_nr;
	}
	if ((r = tp_catalog_delete_media(db, media, 1, err)) == 0 && (r = tp_mclog_decoder_feed(&d, data, len, err)) == 0)
		r = tp_mclog_decoder_finish(&d, err);
	tp_mclog_decoder_free(&d);
	if (r < 0) {
		char u[37];
		uuid_text(media, u);
		tp_err_wrap(err, r, "import catalog of media %s", u);
	}
	if (own) {
		if (r < 0)
			tp_catalog_rollback(db, NULL);
		else
			r = tp_catalog_commit(db, err);
	}
	return r;
}
