/* The API route table: every path below /api2/json/, its privilege, ACL path and parameter schema. */
#include "access/acl.h"
#include "api/handlers.h"

#define STR(n, f, max, chk) { n, TP_API_STR, f, 0, max, chk, NULL }
#define INT(n, f, lo, hi) { n, TP_API_INT, f, lo, hi, NULL, NULL }
#define BOOL(n) { n, TP_API_BOOL, 0, 0, 0, NULL, NULL }
#define LIST(n, max, chk) { n, TP_API_STRLIST, 0, 0, max, chk, NULL }
#define END { NULL, 0, 0, 0, 0, NULL, NULL }
#define REQ TP_API_REQUIRED

#define I64MAX 9007199254740991LL   /* JSON-safe integer bound */

/* ---- parameter schemas ---- */

static const tp_api_param p_none[] = { END };

static const tp_api_param p_ticket[] = {
	STR("username", REQ, 64, tp_api_check_userid),
	STR("password", REQ, 1024, NULL),
	END,
};

static const tp_api_param p_users_list[] = { BOOL("include_tokens"), END };
static const tp_api_param p_user_create[] = {
	STR("userid", REQ, 64, tp_api_check_userid),
	STR("password", 0, 64, NULL),
	STR("email", 0, 254, NULL),
	STR("comment", 0, 512, NULL),
	BOOL("enable"),
	INT("expire", 0, 0, I64MAX),
	END,
};
static const tp_api_param p_user[] = { STR("userid", REQ, 64, tp_api_check_userid), END };
static const tp_api_param p_user_update[] = {
	STR("userid", REQ, 64, tp_api_check_userid),
	STR("password", 0, 64, NULL),
	STR("email", 0, 254, NULL),
	STR("comment", 0, 512, NULL),
	BOOL("enable"),
	INT("expire", 0, 0, I64MAX),
	END,
};
static const tp_api_param p_token[] = {
	STR("userid", REQ, 64, tp_api_check_userid),
	STR("token-name", REQ, 64, tp_api_check_token_name),
	END,
};
static const tp_api_param p_token_create[] = {
	STR("userid", REQ, 64, tp_api_check_userid),
	STR("token-name", REQ, 64, tp_api_check_token_name),
	STR("comment", 0, 512, NULL),
	INT("expire", 0, 0, I64MAX),
	END,
};
static const tp_api_param p_acl_get[] = { STR("path", 0, TP_ACL_PATH_MAX, tp_api_check_acl_path), BOOL("exact"), END };
static const tp_api_param p_acl_put[] = {
	STR("path", REQ, TP_ACL_PATH_MAX, tp_api_check_acl_path),
	STR("role", REQ, 32, tp_api_check_role),
	STR("auth-id", 0, 129, tp_api_check_authid),
	BOOL("propagate"),
	BOOL("delete"),
	END,
};
static const tp_api_param p_permissions[] = {
	STR("auth-id", 0, 129, tp_api_check_authid),
	STR("path", 0, TP_ACL_PATH_MAX, tp_api_check_acl_path),
	END,
};

static const tp_api_param p_node[] = { STR("node", REQ, 63, tp_api_check_node), END };
static const tp_api_param p_tasks[] = {
	STR("node", REQ, 63, tp_api_check_node),
	BOOL("running"),
	BOOL("errors"),
	INT("start", 0, 0, 1000000000),
	INT("limit", 0, 0, 1000000),
	STR("typefilter", 0, 64, NULL),
	STR("userfilter", 0, 129, NULL),
	INT("since", 0, 0, I64MAX),
	END,
};
static const tp_api_param p_task[] = {
	STR("node", REQ, 63, tp_api_check_node),
	STR("upid", REQ, 255, tp_api_check_upid),
	END,
};
static const tp_api_param p_task_log[] = {
	STR("node", REQ, 63, tp_api_check_node),
	STR("upid", REQ, 255, tp_api_check_upid),
	INT("start", 0, 0, 1000000000),
	INT("limit", 0, 0, 1000000000),
	END,
};

static const tp_api_param p_ds_create[] = {
	STR("name", REQ, 32, tp_api_check_store),
	STR("path", REQ, 4096, tp_api_check_abs_path),
	BOOL("reuse-datastore"),
	STR("comment", 0, 512, NULL),
	END,
};
static const tp_api_param p_ds_name[] = { STR("name", REQ, 32, tp_api_check_store), END };
static const tp_api_param p_store_ns[] = {
	STR("store", REQ, 32, tp_api_check_store),
	STR("ns", 0, 256, tp_api_check_ns),
	END,
};
static const tp_api_param p_snapshots[] = {
	STR("store", REQ, 32, tp_api_check_store),
	STR("ns", 0, 256, tp_api_check_ns),
	STR("backup-type", 0, 8, tp_api_check_backup_type),
	STR("backup-id", 0, 128, tp_api_check_backup_id),
	END,
};
static const tp_api_param p_forget[] = {
	STR("store", REQ, 32, tp_api_check_store),
	STR("ns", 0, 256, tp_api_check_ns),
	STR("backup-type", REQ, 8, tp_api_check_backup_type),
	STR("backup-id", REQ, 128, tp_api_check_backup_id),
	INT("backup-time", REQ, 0, I64MAX),
	END,
};
static const tp_api_param p_verify[] = {
	STR("store", REQ, 32, tp_api_check_store),
	STR("ns", 0, 256, tp_api_check_ns),
	STR("backup-type", 0, 8, tp_api_check_backup_type),
	STR("backup-id", 0, 128, tp_api_check_backup_id),
	INT("backup-time", 0, 0, I64MAX),
	END,
};
static const tp_api_param p_prune[] = {
	STR("store", REQ, 32, tp_api_check_store),
	STR("ns", 0, 256, tp_api_check_ns),
	STR("backup-type", REQ, 8, tp_api_check_backup_type),
	STR("backup-id", REQ, 128, tp_api_check_backup_id),
	INT("keep-last", 0, 0, 1000000),
	INT("keep-hourly", 0, 0, 1000000),
	INT("keep-daily", 0, 0, 1000000),
	INT("keep-weekly", 0, 0, 1000000),
	INT("keep-monthly", 0, 0, 1000000),
	INT("keep-yearly", 0, 0, 1000000),
	BOOL("dry-run"),
	END,
};

static const tp_api_param p_drive_create[] = {
	STR("name", REQ, 32, tp_api_check_tape_name),
	STR("type", 0, 15, NULL),
	STR("path", REQ, 1024, tp_api_check_safe_text),
	INT("max-size", 0, 1, I64MAX),
	STR("changer", 0, 32, tp_api_check_tape_name),
	INT("changer-drivenum", 0, 0, 1000),
	END,
};
static const tp_api_param p_name_tape[] = { STR("name", REQ, 32, tp_api_check_tape_name), END };
static const tp_api_param p_changer_create[] = {
	STR("name", REQ, 32, tp_api_check_tape_name),
	STR("type", 0, 15, NULL),
	STR("path", REQ, 1024, tp_api_check_safe_text),
	INT("slots", 0, 1, 1024),
	INT("import-export-slots", 0, 0, 64),
	END,
};
static const tp_api_param p_pool_create[] = {
	STR("name", REQ, 32, tp_api_check_pool),
	STR("allocation", 0, 127, NULL),
	STR("retention", 0, 63, NULL),
	STR("template", 0, 127, NULL),
	STR("encrypt", 0, 95, NULL),
	STR("comment", 0, 255, NULL),
	END,
};
static const tp_api_param p_pool_name[] = { STR("name", REQ, 32, tp_api_check_pool), END };
static const tp_api_param p_pool_update[] = {
	STR("name", REQ, 32, tp_api_check_pool),
	STR("allocation", 0, 127, NULL),
	STR("retention", 0, 63, NULL),
	STR("template", 0, 127, NULL),
	STR("encrypt", 0, 95, NULL),
	STR("comment", 0, 255, NULL),
	LIST("delete", 32, NULL),
	STR("digest", 0, 64, NULL),
	END,
};
static const tp_api_param p_drive_list[] = {
	STR("changer", 0, 32, tp_api_check_tape_name),
	BOOL("query-activity"),
	END,
};
static const tp_api_param p_changer_status[] = { STR("name", REQ, 32, tp_api_check_tape_name), BOOL("cache"), END };
static const tp_api_param p_changer_transfer[] = {
	STR("name", REQ, 32, tp_api_check_tape_name),
	INT("from", REQ, 1, 100000),
	INT("to", REQ, 1, 100000),
	END,
};
static const tp_api_param p_media_list[] = {
	STR("pool", 0, 32, tp_api_check_pool),
	BOOL("update-status"),
	STR("update-status-changer", 0, 32, tp_api_check_tape_name),
	END,
};
static const tp_api_param p_media_content[] = {
	STR("pool", 0, 32, tp_api_check_pool),
	STR("label-text", 0, 128, tp_api_check_label),
	STR("media", 0, 36, tp_api_check_uuid),
	STR("media-set", 0, 36, tp_api_check_uuid),
	STR("backup-type", 0, 8, tp_api_check_backup_type),
	STR("backup-id", 0, 128, tp_api_check_backup_id),
	END,
};
static const tp_api_param p_media_sets[] = { STR("pool", 0, 32, tp_api_check_pool), END };
static const tp_api_param p_media_destroy[] = {
	STR("label-text", 0, 128, tp_api_check_label),
	STR("uuid", 0, 36, tp_api_check_uuid),
	BOOL("force"),
	END,
};

static const tp_api_param p_store[] = { STR("store", REQ, 32, tp_api_check_store), END };

#define DRIVE STR("drive", REQ, 32, tp_api_check_tape_name)
static const tp_api_param p_drive[] = { DRIVE, END };
static const tp_api_param p_drive_load[] = { DRIVE, STR("label-text", REQ, 128, tp_api_check_label), END };
static const tp_api_param p_drive_unload[] = { DRIVE, INT("target-slot", 0, 1, 65535), END };
static const tp_api_param p_drive_label[] = {
	DRIVE,
	STR("label-text", REQ, 128, tp_api_check_label),
	STR("pool", 0, 32, tp_api_check_pool),
	END,
};
static const tp_api_param p_drive_pool[] = { DRIVE, STR("pool", 0, 32, tp_api_check_pool), END };
static const tp_api_param p_drive_read_label[] = { DRIVE, BOOL("inventorize"), END };
static const tp_api_param p_drive_inventory[] = { DRIVE, BOOL("read-all-labels"), BOOL("catalog"), END };
static const tp_api_param p_drive_catalog[] = { DRIVE, BOOL("force"), BOOL("scan"), BOOL("verbose"), END };

#define JOB_PROPS                                              \
	STR("store", 0, 32, tp_api_check_store),                   \
	STR("pool", 0, 32, tp_api_check_pool),                     \
	STR("drive", 0, 32, tp_api_check_tape_name),               \
	STR("ns", 0, 256, tp_api_check_ns),                        \
	INT("max-depth", 0, 0, 7),                                 \
	BOOL("latest-only"),                                       \
	STR("schedule", 0, 128, tp_api_check_schedule),            \
	STR("notify-user", 0, 64, tp_api_check_userid),            \
	STR("comment", 0, 256, NULL)

static const tp_api_param p_job_create[] = { STR("id", REQ, 32, tp_api_check_job_id), JOB_PROPS, END };
static const tp_api_param p_job_id[] = { STR("id", REQ, 32, tp_api_check_job_id), END };
static const tp_api_param p_job_update[] = {
	STR("id", REQ, 32, tp_api_check_job_id), JOB_PROPS, LIST("delete", 32, NULL), STR("digest", 0, 64, NULL), END,
};
static const tp_api_param p_tape_backup[] = {
	STR("store", REQ, 32, tp_api_check_store),
	STR("pool", REQ, 32, tp_api_check_pool),
	STR("drive", REQ, 32, tp_api_check_tape_name),
	STR("ns", 0, 256, tp_api_check_ns),
	INT("max-depth", 0, 0, 7),
	BOOL("latest-only"),
	BOOL("force-media-set"),
	BOOL("eject-media"),
	BOOL("export-media-set"),
	STR("notify-user", 0, 64, tp_api_check_userid),
	STR("notification-mode", 0, 32, tp_api_check_notification_mode),
	LIST("group-filter", 300, NULL),
	END,
};
static const tp_api_param p_tape_restore[] = {
	STR("store", REQ, 1024, tp_api_check_safe_text),
	STR("drive", REQ, 32, tp_api_check_tape_name),
	LIST("extra-drives", 32, tp_api_check_tape_name),
	STR("media-set", REQ, 36, tp_api_check_uuid),
	LIST("snapshots", 700, tp_api_check_snapshot),
	LIST("namespaces", 700, tp_api_check_safe_text),
	STR("owner", 0, 129, tp_api_check_authid),
	STR("notify-user", 0, 64, tp_api_check_userid),
	STR("notification-mode", 0, 32, tp_api_check_notification_mode),
	BOOL("dry-run"),
	END,
};

/* ---- the table ---- */

#define GET TP_HTTP_GET
#define POST TP_HTTP_POST
#define PUT TP_HTTP_PUT
#define DEL TP_HTTP_DELETE

const tp_api_route tp_api_routes[] = {
	/* access */
	{ GET, "access/ticket", h_ticket_get, 0, NULL, TP_API_NOAUTH, p_none, "dummy, for the GUI" },
	{ POST, "access/ticket", h_ticket_post, 0, NULL, TP_API_NOAUTH, p_ticket, "log in: ticket and CSRF token" },
	{ GET, "access/users", h_users_list, 0, NULL, 0, p_users_list, "users (own, or all with Sys.Audit on /access/users)" },
	{ POST, "access/users", h_user_create, TP_PRIV_PERMISSIONS_MODIFY, "/access/users", 0, p_user_create, "create user" },
	{ GET, "access/users/{userid}", h_user_get, 0, NULL, 0, p_user, "user (own, or Sys.Audit)" },
	{ PUT, "access/users/{userid}", h_user_update, 0, NULL, 0, p_user_update, "update user (own password, or Permissions.Modify)" },
	{ DEL, "access/users/{userid}", h_user_delete, TP_PRIV_PERMISSIONS_MODIFY, "/access/users", 0, p_user, "remove user" },
	{ GET, "access/users/{userid}/token", h_tokens_list, 0, NULL, 0, p_user, "tokens of a user" },
	{ GET, "access/users/{userid}/token/{token-name}", h_token_get, 0, NULL, 0, p_token, "token" },
	{ POST, "access/users/{userid}/token/{token-name}", h_token_create, 0, NULL, 0, p_token_create, "generate token (secret shown once)" },
	{ DEL, "access/users/{userid}/token/{token-name}", h_token_delete, 0, NULL, 0, p_token, "remove token" },
	{ GET, "access/acl", h_acl_get, 0, NULL, 0, p_acl_get, "ACL entries the caller may audit" },
	{ PUT, "access/acl", h_acl_update, TP_PRIV_PERMISSIONS_MODIFY, "{path}", 0, p_acl_put, "add or remove an ACL entry" },
	{ GET, "access/permissions", h_permissions, 0, NULL, 0, p_permissions, "effective privileges" },

	/* tasks */
	{ GET, "nodes/{node}", h_node_index, 0, NULL, 0, p_node, "node index" },
	{ GET, "nodes/{node}/tasks", h_tasks_list, 0, NULL, 0, p_tasks, "tasks (own, or all with Sys.Audit on /system/tasks)" },
	{ GET, "nodes/{node}/tasks/{upid}", h_task_index, 0, NULL, 0, p_task, "task index" },
	{ DEL, "nodes/{node}/tasks/{upid}", h_task_stop, 0, NULL, 0, p_task, "abort a task (own, or Sys.Modify)" },
	{ GET, "nodes/{node}/tasks/{upid}/status", h_task_status, 0, NULL, 0, p_task, "task status" },
	{ GET, "nodes/{node}/tasks/{upid}/log", h_task_log, 0, NULL, 0, p_task_log, "task log lines" },

	/* datastores */
	{ GET, "config/datastore", h_datastore_list, 0, NULL, 0, p_none, "datastores with Datastore.Audit" },
	{ POST, "config/datastore", h_datastore_create, TP_PRIV_DATASTORE_ALLOCATE, "/datastore", 0, p_ds_create, "create datastore" },
	{ GET, "config/datastore/{name}", h_datastore_get, TP_PRIV_DATASTORE_AUDIT, "/datastore/{name}", 0, p_ds_name, "datastore config" },
	{ DEL, "config/datastore/{name}", h_datastore_delete, TP_PRIV_DATASTORE_ALLOCATE, "/datastore/{name}", 0, p_ds_name, "remove datastore config" },
	{ GET, "admin/datastore/{store}/groups", h_groups, TP_PRIV_DATASTORE_AUDIT | TP_PRIV_DATASTORE_BACKUP,
	  "/datastore/{store}/{ns}", TP_API_ANY_PRIV, p_store_ns, "backup groups (owned ones without Datastore.Audit)" },
	{ GET, "admin/datastore/{store}/snapshots", h_snapshots, TP_PRIV_DATASTORE_AUDIT | TP_PRIV_DATASTORE_BACKUP,
	  "/datastore/{store}/{ns}", TP_API_ANY_PRIV, p_snapshots, "snapshots" },
	{ DEL, "admin/datastore/{store}/snapshots", h_snapshot_forget, 0, NULL, 0, p_forget,
	  "forget a snapshot (Datastore.Modify, or Datastore.Prune and owner)" },
	{ POST, "admin/datastore/{store}/verify", h_verify, 0, NULL, 0, p_verify,
	  "verify (Datastore.Verify, or Datastore.Backup and owner) as a task" },
	{ POST, "admin/datastore/{store}/prune", h_prune, 0, NULL, 0, p_prune,
	  "prune a group (Datastore.Modify, or Datastore.Prune and owner)" },
	{ GET, "admin/datastore/{store}/gc", h_gc_status, TP_PRIV_DATASTORE_AUDIT, "/datastore/{store}", 0, p_store,
	  "status of the last garbage collection" },
	{ POST, "admin/datastore/{store}/gc", h_gc_start, TP_PRIV_DATASTORE_MODIFY, "/datastore/{store}", 0, p_store,
	  "garbage collection as a task" },

	/* tape configuration */
	{ GET, "config/drive", h_drive_config_list, 0, NULL, 0, p_none, "drives with Tape.Audit" },
	{ POST, "config/drive", h_drive_config_create, TP_PRIV_TAPE_MODIFY, "/tape/device", 0, p_drive_create, "create drive" },
	{ GET, "config/drive/{name}", h_drive_config_get, TP_PRIV_TAPE_AUDIT, "/tape/device/{name}", 0, p_name_tape, "drive config" },
	{ DEL, "config/drive/{name}", h_drive_config_delete, TP_PRIV_TAPE_MODIFY, "/tape/device/{name}", 0, p_name_tape, "remove drive" },
	{ GET, "config/changer", h_changer_config_list, 0, NULL, 0, p_none, "changers with Tape.Audit" },
	{ POST, "config/changer", h_changer_config_create, TP_PRIV_TAPE_MODIFY, "/tape/device", 0, p_changer_create, "create changer" },
	{ GET, "config/changer/{name}", h_changer_config_get, TP_PRIV_TAPE_AUDIT, "/tape/device/{name}", 0, p_name_tape, "changer config" },
	{ DEL, "config/changer/{name}", h_changer_config_delete, TP_PRIV_TAPE_MODIFY, "/tape/device/{name}", 0, p_name_tape, "remove changer" },
	{ GET, "config/media-pool", h_pool_list, 0, NULL, 0, p_none, "pools with Tape.Audit" },
	{ POST, "config/media-pool", h_pool_create, TP_PRIV_TAPE_MODIFY, "/tape/pool", 0, p_pool_create, "create pool" },
	{ GET, "config/media-pool/{name}", h_pool_get, TP_PRIV_TAPE_AUDIT, "/tape/pool/{name}", 0, p_pool_name, "pool config" },
	{ PUT, "config/media-pool/{name}", h_pool_update, TP_PRIV_TAPE_MODIFY, "/tape/pool/{name}", 0, p_pool_update, "update pool" },
	{ DEL, "config/media-pool/{name}", h_pool_delete, TP_PRIV_TAPE_MODIFY, "/tape/pool/{name}", 0, p_pool_name, "remove pool" },
	{ GET, "config/tape-backup-job", h_job_config_list, 0, NULL, 0, p_none, "tape backup jobs with Tape.Audit" },
	{ POST, "config/tape-backup-job", h_job_config_create, TP_PRIV_TAPE_MODIFY, "/tape/job", 0, p_job_create, "create job" },
	{ GET, "config/tape-backup-job/{id}", h_job_config_get, TP_PRIV_TAPE_AUDIT, "/tape/job/{id}", 0, p_job_id, "job config" },
	{ PUT, "config/tape-backup-job/{id}", h_job_config_update, TP_PRIV_TAPE_MODIFY, "/tape/job/{id}", 0, p_job_update, "update job" },
	{ DEL, "config/tape-backup-job/{id}", h_job_config_delete, TP_PRIV_TAPE_MODIFY, "/tape/job/{id}", 0, p_job_id, "remove job" },

	/* tape */
	{ GET, "tape/backup", h_tape_backup_jobs, 0, NULL, 0, p_none, "jobs with their last run and next run" },
	{ POST, "tape/backup", h_tape_backup, 0, NULL, 0, p_tape_backup,
	  "tape backup task (Datastore.Read on the store, Tape.Write on drive and pool)" },
	{ POST, "tape/backup/{id}", h_tape_backup_job_run, 0, NULL, 0, p_job_id, "run a job now (Tape.Write on /tape/job/{id})" },
	{ POST, "tape/restore", h_tape_restore, 0, NULL, 0, p_tape_restore,
	  "restore task (Tape.Read on drive and pool, Datastore.Backup on targets)" },
	{ POST, "tape/restore-single", h_tape_restore, 0, NULL, 0, p_tape_restore, "alias of tape/restore" },
	{ GET, "tape/drive", h_tape_drive_list, 0, NULL, 0, p_drive_list, "drives with Tape.Audit" },
	{ POST, "tape/drive/{drive}/load-media", h_drive_load_media, TP_PRIV_TAPE_READ, "/tape/device/{drive}", 0,
	  p_drive_load, "load a cartridge (task)" },
	{ POST, "tape/drive/{drive}/unload", h_drive_unload, TP_PRIV_TAPE_READ, "/tape/device/{drive}", 0, p_drive_unload,
	  "unload to a slot (task)" },
	{ POST, "tape/drive/{drive}/eject-media", h_drive_eject_media, TP_PRIV_TAPE_READ, "/tape/device/{drive}", 0,
	  p_drive, "eject, or unload to its slot (task)" },
	{ POST, "tape/drive/{drive}/label-media", h_drive_label_media, TP_PRIV_TAPE_WRITE, "/tape/device/{drive}", 0,
	  p_drive_label, "label a blank tape (task)" },
	{ POST, "tape/drive/{drive}/barcode-label-media", h_drive_barcode_label_media, TP_PRIV_TAPE_WRITE,
	  "/tape/device/{drive}", 0, p_drive_pool, "label every unlabelled online tape with its barcode (task)" },
	{ GET, "tape/drive/{drive}/read-label", h_drive_read_label, TP_PRIV_TAPE_READ, "/tape/device/{drive}", 0,
	  p_drive_read_label, "labels of the loaded tape" },
	{ GET, "tape/drive/{drive}/inventory", h_drive_inventory, TP_PRIV_TAPE_READ, "/tape/device/{drive}", 0, p_drive,
	  "cartridges in the drive's changer" },
	{ PUT, "tape/drive/{drive}/inventory", h_drive_inventory_update, TP_PRIV_TAPE_READ, "/tape/device/{drive}", 0,
	  p_drive_inventory, "update the inventory from the tapes (task)" },
	{ POST, "tape/drive/{drive}/catalog", h_drive_catalog, TP_PRIV_TAPE_READ, "/tape/device/{drive}", 0,
	  p_drive_catalog, "restore the loaded tape's catalog (task)" },
	{ GET, "tape/drive/{drive}/status", h_drive_status, TP_PRIV_TAPE_AUDIT, "/tape/device/{drive}", 0, p_drive,
	  "drive status" },
	{ GET, "tape/changer", h_tape_changer_list, 0, NULL, 0, p_none, "changers with Tape.Audit" },
	{ GET, "tape/changer/{name}/status", h_changer_status, TP_PRIV_TAPE_AUDIT, "/tape/device/{name}", 0, p_changer_status, "changer status" },
	{ POST, "tape/changer/{name}/transfer", h_changer_transfer, TP_PRIV_TAPE_READ, "/tape/device/{name}", 0, p_changer_transfer, "move a cartridge between slots" },
	{ GET, "tape/media/list", h_media_list, 0, NULL, 0, p_media_list, "tapes (Tape.Audit on their pool)" },
	{ GET, "tape/media/content", h_media_content, 0, NULL, 0, p_media_content, "catalogued snapshots" },
	{ GET, "tape/media/media-sets", h_media_sets, 0, NULL, 0, p_media_sets, "media sets" },
	{ GET, "tape/media/destroy", h_media_destroy, 0, NULL, TP_API_ROOT_ONLY, p_media_destroy, "remove a tape from inventory and catalog (PBS uses GET)" },
	{ POST, "tape/media/destroy", h_media_destroy, 0, NULL, TP_API_ROOT_ONLY, p_media_destroy, "same as GET" },
	{ 0, NULL, NULL, 0, NULL, 0, NULL, NULL },
};
