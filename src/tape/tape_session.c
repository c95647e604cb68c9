/* Drive sessions (see tape_session.h). */
#include "tape/tape_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/paths.h"
#include "tape/drive_config.h"
#include "tape/tape_inventory.h"

int tp_tape_session_open(tp_tape_session *s, const char *name, const char *owner, int timeout_ms, tp_err *err)
{
	memset(s, 0, sizeof(*s));
	s->lock.fd = -1;
	tp_tape_config cfg;
	int r = tp_tape_name_valid(name, "drive", err);
	if (r < 0)
		return r;
	char *dir = tp_run_path("drive-lock");
	if (dir && (r = tp_mkdir_p(dir, 0700, err)) < 0) {
		free(dir);
		return r;
	}
	char *lp = dir ? tp_path_join(dir, name) : NULL;
	free(dir);
	if (!lp)
		return tp_err_set(err, -ENOMEM, "out of memory");
	char what[64];
	snprintf(what, sizeof(what), "drive %s", name);
	r = tp_lock_file(&s->lock, lp, TP_LOCK_EXCLUSIVE, timeout_ms < 0 ? 10000 : timeout_ms, owner, what, err);
	free(lp);
	if (r < 0)
		return r;
	snprintf(s->name, sizeof(s->name), "%s", name);
	if ((r = tp_tape_config_load(&cfg, err)) < 0)
		goto fail;
	const tp_drive_conf *dc = tp_tape_config_drive(&cfg, name);
	if (!dc) {
		tp_tape_config_free(&cfg);
		r = tp_err_set(err, -TP_ENOTFOUND, "drive '%s' does not exist", name);
		goto fail;
	}
	s->drivenum = dc->changer_drivenum;
	snprintf(s->changer_name, sizeof(s->changer_name), "%s", dc->changer);
	tp_tape_config_free(&cfg);
	if ((r = tp_drive_open_by_name(name, &s->drive, err)) < 0)
		goto fail;
	if (s->changer_name[0] && (r = tp_changer_open_by_name(s->changer_name, &s->changer, err)) < 0)
		goto fail;
	return 0;
fail:
	tp_tape_session_close(s);
	return r;
}

void tp_tape_session_close(tp_tape_session *s)
{
	if (s->changer)
		tp_changer_close(s->changer);
	if (s->drive)
		tp_drive_close(s->drive);
	s->changer = NULL;
	s->drive = NULL;
	tp_lock_release(&s->lock);
}

void tp_tape_session_drive_close(tp_tape_session *s)
{
	if (!s->drive)
		return;
	s->carried = s->drive->counters;
	s->carrying = 1;
	tp_drive_close(s->drive);
	s->drive = NULL;
}

int tp_tape_session_drive_reopen(tp_tape_session *s, tp_err *err)
{
	if (s->drive)
		return 0;
	int r = tp_drive_open_by_name(s->name, &s->drive, err);
	if (r < 0)
		return r;
	if (s->carrying)
		s->drive->counters = s->carried;
	s->carrying = 0;
	return 0;
}

int tp_tape_read_labels(tp_tape_session *s, tp_media_label *ml, tp_media_set_label *msl, int *has_set, tp_err *err)
{
	tp_tape_io io;
	tp_drive_tape_io(s->drive, &io);
	*has_set = 0;
	if (msl)
		memset(msl, 0, sizeof(*msl));
	int r = tp_drive_rewind(s->drive, err);
	if (r < 0)
		return r;
	/* labels are never encrypted; reading them must not depend on a key */
	if (s->drive->encryption && (r = tp_drive_set_encryption(s->drive, NULL, err)) < 0)
		return r;
	r = tp_media_label_read(&io, ml, err);
	if (r < 0)
		return tp_err_wrap(err, r, "drive %s: reading the media label", s->name);
	if (r == TP_LABEL_NONE)
		return TP_LABEL_NONE;
	tp_media_set_label tmp;
	r = tp_media_set_label_read(&io, msl ? msl : &tmp, err);
	if (r < 0)
		return tp_err_wrap(err, r, "drive %s: tape %s: reading the media-set label", s->name, ml->label_text);
	if (r == 0) {
		*has_set = 1;
		if (!msl)
			tp_media_set_label_clear(&tmp);
	}
	return 0;
}

static int labels_match(tp_tape_session *s, const char *label, const uint8_t *uuid, tp_media_label *ml,
			tp_media_set_label *msl, int *has_set, tp_err *err)
{
	int r = tp_tape_read_labels(s, ml, msl, has_set, err);
	if (r < 0)
		return r;
	if (r == TP_LABEL_NONE)
		return tp_err_set(err, -TP_EWRONGMEDIA, "drive %s: tape %s is blank (not labelled)", s->name, label);
	if (strcmp(ml->label_text, label) || (uuid && memcmp(ml->uuid, uuid, 16))) {
		char want[37], got[37];
		tp_uuid_unparse(uuid ? uuid : ml->uuid, want);
		tp_uuid_unparse(ml->uuid, got);
		if (msl && *has_set)
			tp_media_set_label_clear(msl);
		return tp_err_set(err, -TP_EWRONGMEDIA, "drive %s: wrong tape: expected %s (%s), found %s (%s)", s->name,
				  label, uuid ? want : "any uuid", ml->label_text, got);
	}
	return 0;
}

int tp_tape_load(tp_tape_session *s, const char *label, const uint8_t *uuid, tp_media_label *ml,
		 tp_media_set_label *msl, int *has_set, tp_err *err)
{
	int r;
	if (s->changer) {
		/* robot moves with the drive handle closed (the virtual changer writes the drive's state under its lock) */
		if ((r = tp_tape_load_cartridge(s, label, err)) < 0)
			return r;
	} else if (s->drive->ops->caps & TP_DRIVE_CAP_LOAD_BY_LABEL) {
		if ((r = tp_drive_load(s->drive, label, err)) < 0)
			return r;
	} else {
		if ((r = tp_drive_load(s->drive, NULL, err)) < 0 && r != -ENOMEDIUM)
			return r;
		if (r == -ENOMEDIUM)
			return tp_err_set(err, -TP_EWRONGMEDIA, "please insert tape %s into drive %s", label, s->name);
	}
	r = labels_match(s, label, uuid, ml, msl, has_set, err);
	if (r == -TP_EWRONGMEDIA && !s->changer && !(s->drive->ops->caps & TP_DRIVE_CAP_LOAD_BY_LABEL))
		tp_err_wrap(err, r, "please insert tape %s into drive %s", label, s->name);
	return r;
}

int tp_tape_unload(tp_tape_session *s, tp_err *err)
{
	if (s->changer) {
		unsigned to = 0;
		int r = tp_tape_unload_to_slot(s, 0, &to, err);
		return r < 0 ? r : 0;
	}
	int r = tp_drive_unload(s->drive, err);
	return r == -ENOMEDIUM ? 0 : r;
}

int tp_tape_export(tp_tape_session *s, const char *label, tp_err *err)
{
	if (s->changer) {
		unsigned to = 0;
		tp_drive_status st;
		if (tp_drive_get_status(s->drive, &st, NULL) == 0 && st.loaded && !strcmp(st.label, label))
			tp_drive_unload(s->drive, NULL);
		tp_tape_session_drive_close(s);
		int r = tp_changer_export(s->changer, label, &to, err);
		tp_err e2 = { 0 };
		int r2 = tp_tape_session_drive_reopen(s, &e2);
		if (r == 0 && r2 < 0) {
			*err = e2;
			r = r2;
		}
		return r;
	}
	return tp_tape_unload(s, err);
}

int tp_tape_write_media_label(tp_tape_session *s, const tp_media_label *ml, int force, tp_err *err)
{
	tp_media_label old;
	int has_set = 0, r;
	if ((r = tp_drive_rewind(s->drive, err)) < 0)
		return r;
	if (s->drive->encryption && (r = tp_drive_set_encryption(s->drive, NULL, err)) < 0)
		return r;
	/* anything on the tape? a blank tape reports end of data at once */
	uint8_t *probe = malloc(TP_TAPE_BLOCK_SIZE);
	if (!probe)
		return tp_err_set(err, -ENOMEM, "out of memory");
	tp_err perr = { 0 };
	long n = tp_drive_read_block(s->drive, probe, TP_TAPE_BLOCK_SIZE, &perr);
	free(probe);
	if (n != TP_TAPE_READ_EOD && !force) {
		r = tp_tape_read_labels(s, &old, NULL, &has_set, NULL);
		if (r == 0)
			return tp_err_set(err, -TP_EEXISTS,
					  "drive %s: the tape holds data (label '%s'); refusing to overwrite it", s->name,
					  old.label_text);
		return tp_err_set(err, -TP_EEXISTS, "drive %s: the tape holds data; refusing to overwrite it", s->name);
	}
	if ((r = tp_drive_rewind(s->drive, err)) < 0)
		return r;
	tp_tape_io io;
	tp_drive_tape_io(s->drive, &io);
	if ((r = tp_media_label_write(&io, ml, err)) < 0)
		return tp_err_wrap(err, r, "drive %s: writing the media label", s->name);
	tp_drive_write_mam(s->drive, ml->label_text, ml->pool[0] ? ml->pool : NULL, NULL); /* best effort, warns */
	return 0;
}

int tp_tape_write_set_label(tp_tape_session *s, const tp_media_set_label *msl, tp_err *err)
{
	int r = tp_drive_move_to_file(s->drive, 1, err);
	if (r < 0)
		return r;
	if (s->drive->encryption && (r = tp_drive_set_encryption(s->drive, NULL, err)) < 0)
		return r;
	tp_tape_io io;
	tp_drive_tape_io(s->drive, &io);
	if ((r = tp_media_set_label_write(&io, msl, err)) < 0)
		return tp_err_wrap(err, r, "drive %s: writing the media-set label", s->name);
	return 0;
}
