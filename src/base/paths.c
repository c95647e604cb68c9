/* TAPIR_HOME-aware paths (see paths.h). */
#include "base/paths.h"

#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"

static char *under(const char *sub, const char *def, const char *name)
{
	const char *home = getenv("TAPIR_HOME");
	char *dir = home && *home ? tp_path_join(home, sub) : strdup(def);
	if (!dir)
		return NULL;
	tp_mkdir_p(dir, 0700, NULL);
	if (!name || !*name)
		return dir;
	char *p = tp_path_join(dir, name);
	free(dir);
	return p;
}

char *tp_config_path(const char *name) { return under("etc", "/etc/tapir", name); }
char *tp_state_path(const char *name) { return under("lib", "/var/lib/tapir", name); }
char *tp_log_path(const char *name) { return under("log", "/var/log/tapir", name); }
char *tp_run_path(const char *name) { return under("run", "/run/tapir", name); }
