/* API handlers referenced by the route table (routes.c); one group per *_api.c file. */
#ifndef TAPIR_API_HANDLERS_H
#define TAPIR_API_HANDLERS_H

#include "api/router.h"

#define H(name) int name(tp_api_call *c, json_t **data, tp_err *err)

/* access_api.c */
H(h_ticket_get);
H(h_ticket_post);
H(h_users_list);
H(h_user_create);
H(h_user_get);
H(h_user_update);
H(h_user_delete);
H(h_tokens_list);
H(h_token_get);
H(h_token_create);
H(h_token_delete);
H(h_acl_get);
H(h_acl_update);
H(h_permissions);

/* task_api.c */
H(h_node_index);
H(h_tasks_list);
H(h_task_index);
H(h_task_status);
H(h_task_log);
H(h_task_stop);

/* datastore_api.c */
H(h_datastore_list);
H(h_datastore_create);
H(h_datastore_get);
H(h_datastore_delete);
H(h_groups);
H(h_snapshots);
H(h_snapshot_forget);
H(h_verify);
H(h_prune);
H(h_gc_start);
H(h_gc_status);

/* tape_api.c */
H(h_drive_config_list);
H(h_drive_config_create);
H(h_drive_config_get);
H(h_drive_config_delete);
H(h_changer_config_list);
H(h_changer_config_create);
H(h_changer_config_get);
H(h_changer_config_delete);
H(h_pool_list);
H(h_pool_create);
H(h_pool_get);
H(h_pool_update);
H(h_pool_delete);
H(h_tape_drive_list);
H(h_tape_changer_list);
H(h_changer_status);
H(h_changer_transfer);
H(h_media_list);
H(h_media_content);
H(h_media_sets);
H(h_media_destroy);

/* drive_api.c */
H(h_drive_load_media);
H(h_drive_unload);
H(h_drive_eject_media);
H(h_drive_label_media);
H(h_drive_barcode_label_media);
H(h_drive_read_label);
H(h_drive_inventory);
H(h_drive_inventory_update);
H(h_drive_catalog);
H(h_drive_status);

/* job_api.c */
H(h_job_config_list);
H(h_job_config_create);
H(h_job_config_get);
H(h_job_config_update);
H(h_job_config_delete);
H(h_tape_backup_jobs);
H(h_tape_backup_job_run);
H(h_tape_backup);
H(h_tape_restore);

#undef H

/* CSRF prevention tokens for ticket sessions (access_api.c): "TTTTTTTT:HEX" bound to the auth id. */
int tp_api_csrf_create(const char *authid, int64_t now, char *out, size_t outlen, tp_err *err);
int tp_api_csrf_verify(const char *authid, const char *token, int64_t now, tp_err *err);

#endif
