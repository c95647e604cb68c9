/* Where tapir keeps configuration, state, logs and run files (TAPIR_HOME aware). */
#ifndef TAPIR_BASE_PATHS_H
#define TAPIR_BASE_PATHS_H

/*
 * With TAPIR_HOME set: $TAPIR_HOME/{etc,lib,log,run}; otherwise /etc/tapir,
 * /var/lib/tapir, /var/log/tapir, /run/tapir.  Each function returns a
 * malloc'd path (caller frees) of `name` below that directory, creating the
 * directory (0700) on first use; name may be NULL or "" for the directory
 * itself.  NULL only on OOM.
 */
char *tp_config_path(const char *name);
char *tp_state_path(const char *name);
char *tp_log_path(const char *name);
char *tp_run_path(const char *name);

#endif
