/* Drive sessions (see tape_session.h). */
#include "tape/tape_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/fsutil.h"
#include "base/log.h"
#include "base/paths.h"
#include "base/timefmt.h"
#include "format/tape_block.h"
#include "tape/drive_config.h"
#include "tape/tape_inventory.h"

/* Takes run/drive-lock/<name> (the session's lock) with the owner text. */
static int session_lock(tp_tape_session *s, const char *name, int timeout_ms, tp_err *err)
{
	int r;
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
	r = tp_lock_file(&s->lock, lp, TP_LOCK_EXCLUSIVE, timeout_ms, s->owner[0] ? s->owner : NULL, what, err);
	free(lp);
	return r;
}

int tp_tape_session_open(tp_tape_session *s, const char *name, const char *owner, int timeout_ms, tp_err *err)
{
	memset(s, 0, sizeof(*s));
	s->lock.fd = -1;
	tp_tape_config cfg;
	int r = tp_tape_name_valid(name, "drive", err);
	if (r < 0)
		return r;
	if (owner)
		snprintf(s->owner, sizeof(s->owner), "%s", owner);
	if ((r = session_lock(s, name, timeout_ms < 0 ? 10000 : timeout_ms, err)) < 0)
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

int tp_tape_session_needs_operator(const tp_tape_session *s)
{
	if (s->changer)
		return 0;
	if (!s->drive || !(s->drive->ops->caps & TP_DRIVE_CAP_LOAD_BY_LABEL))
		return 1;
	const char *m = getenv("TAPIR_VIRTUAL_MANUAL_LOAD");
	return m && !strcmp(m, "1");
}

/*
 * A changer takes the cartridge out of the drive: the drive rewinds and
 * ejects first.  The robot does it with the handle closed, so it is counted
 * here (the model charges rewind and unload like a tp_drive_unload).
 */
static void count_changer_unload(tp_drive *d)
{
	if (!d->pos_known || d->pos.object > 0) {
		d->counters.rewinds++;
		if (d->pos_known)
			d->counters.rewind_bytes += tp_drive_pos_blocks(&d->pos) * (uint64_t)TP_TAPE_BLOCK_SIZE;
	}
	d->counters.unloads++;
}

/* The configured drive that is drive `num` of s's changer: its name in name ("" when no drive is configured there). */
static int changer_drive_name(const tp_tape_session *s, int num, char name[TP_DRIVE_NAME_MAX + 1], tp_err *err)
{
	tp_tape_config cfg;
	int r = tp_tape_config_load(&cfg, err);
	if (r < 0)
		return r;
	name[0] = 0;
	for (size_t i = 0; i < cfg.ndrives; i++)
		if (!strcmp(cfg.drives[i].changer, s->changer_name) && cfg.drives[i].changer_drivenum == num)
			snprintf(name, TP_DRIVE_NAME_MAX + 1, "%s", cfg.drives[i].name);
	tp_tape_config_free(&cfg);
	return 0;
}

int tp_tape_changer_drive_pos(tp_tape_session *s, int num, uint64_t *bytes, tp_err *err)
{
	char name[TP_DRIVE_NAME_MAX + 1];
	int r;
	if (!s->changer)
		return tp_err_set(err, -EINVAL, "drive %s has no changer", s->name);
	if ((r = changer_drive_name(s, num, name, err)) < 0)
		return r;
	if (!name[0])
		return tp_err_set(err, -TP_ENOTFOUND, "no configured drive is drive %d of changer %s", num, s->changer_name);
	tp_tape_session o;
	if ((r = tp_tape_session_open(&o, name, s->owner, 0, err)) < 0)
		return r;
	if (o.drive && o.drive->loaded && o.drive->pos_known)
		*bytes = tp_drive_pos_blocks(&o.drive->pos) * (uint64_t)TP_TAPE_BLOCK_SIZE;
	else
		r = tp_err_set(err, -ENODATA, "drive %s does not know where its tape stands", name);
	tp_tape_session_close(&o);
	return r;
}

/*
 * Before the changer loads `label` into our drive: a cartridge in another
 * drive of the changer goes back to its slot (that drive must not be locked
 * by anyone); a different cartridge in our drive is counted as unloaded.
 */
static int changer_prepare(tp_tape_session *s, const char *label, tp_err *err)
{
	tp_changer_status st;
	int r = tp_changer_get_status(s->changer, &st, err);
	if (r < 0)
		return r;
	int other = -1, ours_other = 0;
	for (size_t i = 0; i < st.ndrives; i++) {
		if (!st.drives[i].full)
			continue;
		int same = !strcmp(st.drives[i].label, label);
		if (st.drives[i].number == (unsigned)s->drivenum)
			ours_other = !same;
		else if (same)
			other = (int)st.drives[i].number;
	}
	tp_changer_status_free(&st);
	if (other >= 0) {
		char name[TP_DRIVE_NAME_MAX + 1];
		if ((r = changer_drive_name(s, other, name, err)) < 0)
			return r;
		if (!name[0])
			return tp_err_set(err, -EBUSY, "tape %s is in drive %d of changer %s, which no configured drive uses: unload it first",
					  label, other, s->changer_name);
		tp_tape_session o;
		tp_err e = { 0 };
		if ((r = tp_tape_session_open(&o, name, s->owner, 0, &e)) < 0) {
			if (r == -TP_ELOCKED)
				return tp_err_set(err, r, "tape %s is in drive %s, which another task holds (%s)", label, name, e.msg);
			*err = e;
			return tp_err_wrap(err, r, "tape %s is in drive %s", label, name);
		}
		if (o.drive)
			count_changer_unload(o.drive);
		unsigned to = 0;
		r = tp_tape_unload_to_slot(&o, 0, &to, &e);
		if (o.changer)
			s->changer->counters.moves += o.changer->counters.moves;
		if (o.drive && s->drive)
			tp_drive_counters_add(&s->drive->counters, &o.drive->counters);
		tp_tape_session_close(&o);
		if (r < 0) {
			*err = e;
			return tp_err_wrap(err, r, "unloading tape %s from drive %s", label, name);
		}
		tp_info("tape %s was in drive %s: unloaded it to slot %u of changer %s", label, name, to, s->changer_name);
	}
	if (ours_other && s->drive)
		count_changer_unload(s->drive);
	return 0;
}

/*
 * Looks at a standalone drive: 0 = the wanted tape is in it (labels read
 * into ml/msl), 1 = empty, 2 = another tape (its label, or "" for a blank
 * or unreadable one, in found), < 0 = the drive failed.  Looking at the
 * wrong tape is operator time, not restore work: the counters are kept.
 * `before` = nobody has been asked yet, so a tape found was in the drive
 * already: it is not loaded, only taken back to BOT.
 */
static int look(tp_tape_session *s, const char *label, const uint8_t *uuid, tp_media_label *ml,
		tp_media_set_label *msl, int *has_set, int before, char *found, size_t fsize, tp_err *err);

static int labels_match(tp_tape_session *s, const char *label, const uint8_t *uuid, tp_media_label *ml,
			tp_media_set_label *msl, int *has_set, tp_err *err);

static int look(tp_tape_session *s, const char *label, const uint8_t *uuid, tp_media_label *ml,
		tp_media_set_label *msl, int *has_set, int before, char *found, size_t fsize, tp_err *err)
{
	tp_drive_status st;
	int r = tp_drive_get_status(s->drive, &st, err);
	if (r == -ENOMEDIUM)
		return 1;
	if (r < 0)
		return r;
	if (!st.loaded)
		return 1;
	tp_drive_counters saved = s->drive->counters;
	tp_err e = { 0 };
	r = before ? tp_drive_reload(s->drive, &e) : tp_drive_load(s->drive, NULL, &e);
	if (r == -ENOMEDIUM) {
		s->drive->counters = saved;
		return 1;
	}
	if (r == 0)
		r = labels_match(s, label, uuid, ml, msl, has_set, &e);
	if (r == 0)
		return 0;
	s->drive->counters = saved;
	found[0] = 0;
	if (r == -TP_EWRONGMEDIA && !strstr(e.msg, "is blank"))
		snprintf(found, fsize, "%s", ml->label_text);
	return 2;
}

static int wait_poll_ms(const tp_media_wait *w)
{
	if (w && w->poll_ms > 0)
		return w->poll_ms;
	const char *e = getenv("TAPIR_MEDIA_POLL_MS");
	long v = e ? strtol(e, NULL, 10) : 0;
	return v > 0 && v <= 600000 ? (int)v : 5000;
}

/* Takes the drive back after a wait: its lock (waiting for an operator's command to finish) and its handle. */
static int wait_resume(tp_tape_session *s, int timeout_ms, tp_err *err)
{
	int r;
	if (s->lock.fd < 0 && (r = session_lock(s, s->name, timeout_ms, err)) < 0)
		return r;
	return tp_tape_session_drive_reopen(s, err);
}

/* Sleeps until the next look: 0, or < 0 when the wait was aborted or timed out (err says which). */
static int wait_next_look(const tp_media_wait *w, int poll_ms, double t0, const char *label, const char *where,
			  tp_err *err)
{
	double until = tp_monotonic() + poll_ms / 1000.0;
	for (;;) {
		int r;
		if (w->check_abort && (r = w->check_abort(w->ctx, err)) < 0)
			return r;
		if (w->timeout_s > 0 && tp_monotonic() - t0 >= w->timeout_s)
			return tp_err_set(err, -ETIMEDOUT, "tape %s was not inserted into %s within %d s", label, where,
					  w->timeout_s);
		double left = until - tp_monotonic();
		if (left <= 0)
			return 0;
		struct timespec ts = { 0, (long)((left < 0.2 ? left : 0.2) * 1e9) };
		nanosleep(&ts, NULL);
	}
}

/*
 * A tape that is not in the changer at all (taken out, in the vault): the
 * operator is asked once to put it in — an import/export slot will do, the
 * robot loads from there — and the changer is looked at until it holds it
 * (PBS fix #4719 waits the same way instead of failing the job).  Without
 * a wait (w or w->request_import NULL) it fails at once.
 */
static int changer_wait(tp_tape_session *s, const char *label, const tp_media_wait *w, tp_err *err)
{
	int r, asked = 0;
	double t0 = tp_monotonic();
	char where[TP_DRIVE_NAME_MAX + 10];
	snprintf(where, sizeof(where), "changer %s", s->changer_name);
	while ((r = tp_changer_has_label(s->changer, label, err)) == 0) {
		if (!w || !w->request_import)
			return tp_err_set(err, -TP_ENOTFOUND, "tape %s is not in changer %s", label, s->changer_name);
		if (!asked++)
			w->request_import(w->ctx, label, s->changer_name);
		if ((r = wait_next_look(w, wait_poll_ms(w), t0, label, where, err)) < 0)
			return r;
	}
	return r < 0 ? r : 0;
}

static int operator_wait(tp_tape_session *s, const char *label, const uint8_t *uuid, const tp_media_wait *w,
			 tp_media_label *ml, tp_media_set_label *msl, int *has_set, tp_err *err)
{
	int poll = wait_poll_ms(w), asked = 0, ejected = 0, r;
	char last[TP_DRIVE_LABEL_MAX + 2] = "";
	double t0 = tp_monotonic();
	for (;;) {
		char found[TP_DRIVE_LABEL_MAX + 1] = "";
		tp_drive_pos p0 = s->drive->pos;
		int known0 = s->drive->pos_known;
		int st = look(s, label, uuid, ml, msl, has_set, !asked, found, sizeof(found), err);
		if (st <= 0)
			return st;
		if (st == 2 && w && !asked && !ejected++) {
			/*
			 * The tape the drive held before anyone was asked is taken out,
			 * so the operator only puts the next one in.  Counted from where
			 * it stood, as the plan does: the look is not counted.
			 */
			s->drive->pos = p0;
			s->drive->pos_known = known0;
			tp_err ue = { 0 };
			if (tp_drive_unload(s->drive, &ue) == 0) {
				tp_info("tape %s was in drive %s: ejected it", found[0] ? found : "(blank or unreadable)", s->name);
				continue;
			}
			tp_warn("ejecting tape %s from drive %s: %s", found[0] ? found : "(blank or unreadable)", s->name, ue.msg);
		}
		if (!w) {
			if (st == 1)
				return tp_err_set(err, -TP_EWRONGMEDIA, "please insert tape %s into drive %s", label, s->name);
			return tp_err_set(err, -TP_EWRONGMEDIA, "tape %s is in drive %s: please insert tape %s", found[0] ? found : "(blank or unreadable)",
					  s->name, label);
		}
		/* "" = empty, "=LABEL" = a wrong tape: tell the operator when it changes */
		char now[TP_DRIVE_LABEL_MAX + 2];
		snprintf(now, sizeof(now), "%s%s", st == 2 ? "=" : "", found);
		if (!asked || strcmp(now, last)) {
			if (w->request)
				w->request(w->ctx, label, s->name, st == 2 ? found : NULL, !asked);
			asked = 1;
			snprintf(last, sizeof(last), "%s", now);
		}
		/* the operator (or `tapir tape load-media`) may use the drive meanwhile */
		tp_tape_session_drive_close(s);
		tp_lock_release(&s->lock);
		char where[TP_DRIVE_NAME_MAX + 8];
		snprintf(where, sizeof(where), "drive %s", s->name);
		if ((r = wait_next_look(w, poll, t0, label, where, err)) < 0) {
			tp_err e = { 0 };
			wait_resume(s, 10000, &e);
			return r;
		}
		tp_err le = { 0 };
		r = session_lock(s, s->name, poll, &le);
		if (r == -TP_ELOCKED)
			continue; /* someone is using the drive right now: look again later */
		if (r < 0) {
			*err = le;
			return r;
		}
		if ((r = tp_tape_session_drive_reopen(s, err)) < 0)
			return r;
	}
}

int tp_tape_load_wait(tp_tape_session *s, const char *label, const uint8_t *uuid, const tp_media_wait *w,
		      tp_media_label *ml, tp_media_set_label *msl, int *has_set, tp_err *err)
{
	int r;
	if (s->changer) {
		if ((r = changer_wait(s, label, w, err)) < 0 || (r = changer_prepare(s, label, err)) < 0)
			return r;
		/* robot moves with the drive handle closed (the virtual changer writes the drive's state under its lock) */
		if ((r = tp_tape_load_cartridge(s, label, err)) < 0)
			return r;
		return labels_match(s, label, uuid, ml, msl, has_set, err);
	}
	if (tp_tape_session_needs_operator(s))
		return operator_wait(s, label, uuid, w, ml, msl, has_set, err);
	if ((r = tp_drive_load(s->drive, label, err)) < 0)
		return r;
	return labels_match(s, label, uuid, ml, msl, has_set, err);
}

int tp_tape_load(tp_tape_session *s, const char *label, const uint8_t *uuid, tp_media_label *ml,
		 tp_media_set_label *msl, int *has_set, tp_err *err)
{
	return tp_tape_load_wait(s, label, uuid, NULL, ml, msl, has_set, err);
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
	/* as PBS: the pool attribute again, since a set label may assign the tape to a pool */
	if (msl->pool[0])
		tp_drive_write_mam(s->drive, NULL, msl->pool, NULL); /* best effort, warns */
	return 0;
}
