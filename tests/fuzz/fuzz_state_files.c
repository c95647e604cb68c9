/* libFuzzer target: the JSON state files tape operations read from disk — inventory, virtual changer and virtual drive status, drive faults — then what is computed from them. */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "tape/changer.h"
#include "tape/drive.h"
#include "tape/inventory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], cdir[96], ddir[96];

static void remove_dir(void) { tp_rm_rf(dir, NULL); }

static int spew(const char *d, const char *name, const uint8_t *b, size_t len)
{
	char p[160];
	snprintf(p, sizeof(p), "%s/%s", d, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	int r = len == 0 || write(fd, b, len) == (ssize_t)len ? 0 : -1;
	close(fd);
	return r;
}

static void inventory(const uint8_t *data, size_t size)
{
	if (spew(dir, "inventory.json", data, size) < 0)
		__builtin_trap();
	tp_inventory inv;
	tp_err e = { 0 };
	if (tp_inventory_open(&inv, dir, "fuzz", &e) < 0)
		return;
	if (tp_inventory_reload(&inv, &e) == 0) {
		for (size_t i = 0; i < inv.n; i++) {
			const tp_inventory_entry *x = &inv.e[i];
			if (tp_inventory_find(&inv, x->label.uuid) == NULL)
				__builtin_trap(); /* every entry can be looked up by its uuid */
			if (!tp_inventory_entry_in_set(x))
				continue;
			tp_media_set ms;
			if (tp_inventory_media_set(&inv, x->set.uuid, &ms, &e) == 0) {
				if (ms.n == 0 || x->set.seq_nr >= ms.n)
					__builtin_trap(); /* the member's own sequence number lies inside its set */
				tp_media_set_free(&ms);
			}
			uint8_t latest[16];
			tp_inventory_latest_set(&inv, x->set.pool, latest);
			int64_t t;
			tp_inventory_set_start_time(&inv, x->set.uuid, &t);
			tp_inventory_set_next_start_time(&inv, x->set.uuid, &t);
			uint8_t(*sets)[16] = NULL;
			size_t n = 0;
			if (tp_inventory_list_sets(&inv, x->set.pool, &sets, &n, &e) == 0)
				free(sets);
		}
	}
	tp_inventory_close(&inv);
}

static void changer(const uint8_t *data, size_t size)
{
	if (spew(cdir, TP_VCHANGER_STATUS_FILE, data, size) < 0)
		__builtin_trap();
	json_t *conf = json_pack("{s:s,s:i,s:i,s:[s,n],s:i}", "path", cdir, "slots", 6, "import-export-slots", 1, "drives",
				 ddir, "lock-timeout-ms", 0);
	tp_changer *c = NULL;
	tp_err e = { 0 };
	if (conf && tp_changer_open("virtual", "fz", conf, &c, &e) == 0) {
		tp_changer_status st;
		if (tp_changer_get_status(c, &st, &e) == 0)
			tp_changer_status_free(&st);
		tp_changer_close(c);
	}
	json_decref(conf);
}

static void drive(const uint8_t *data, size_t size, int faults)
{
	if (spew(ddir, faults ? "faults.json" : "drive-status.json", data, size) < 0)
		__builtin_trap();
	tp_err e = { 0 };
	char label[64];
	uint64_t pos = 0;
	if (!faults) {
		if (tp_virtual_status_read(ddir, label, sizeof(label), &pos, &e) == 0 && strlen(label) >= sizeof(label))
			__builtin_trap();
	}
	json_t *conf = json_pack("{s:s,s:i}", "path", ddir, "lock-timeout-ms", 0);
	tp_drive *d = NULL;
	if (conf && tp_drive_open("virtual", "fz", conf, &d, &e) == 0) {
		static uint8_t buf[1024];
		if (tp_drive_load(d, "FZ0001L9", &e) == 0) {
			tp_drive_read_block(d, buf, sizeof(buf), &e);
			tp_drive_write_block(d, buf, sizeof(buf), &e);
		}
		tp_drive_status st;
		tp_drive_get_status(d, &st, &e);
		tp_drive_close(d);
	}
	json_decref(conf);
	char p[160];
	snprintf(p, sizeof(p), "%s/%s", ddir, faults ? "faults.json" : "drive-status.json");
	unlink(p);
}

/* Input: one byte choosing the file, then its content. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/tapir-fuzz-state-XXXXXX");
		if (!mkdtemp(dir))
			__builtin_trap();
		atexit(remove_dir);
		snprintf(cdir, sizeof(cdir), "%s/changer", dir);
		snprintf(ddir, sizeof(ddir), "%s/drive", dir);
		if (mkdir(cdir, 0700) < 0 || mkdir(ddir, 0700) < 0)
			__builtin_trap();
		setenv("TAPIR_HOME", dir, 1);
	}
	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0: inventory(data + 1, size - 1); break;
	case 1: changer(data + 1, size - 1); break;
	case 2: drive(data + 1, size - 1, 0); break;
	default: drive(data + 1, size - 1, 1); break;
	}
	return 0;
}
