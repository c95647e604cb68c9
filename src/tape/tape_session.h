/* A drive in use by one task: its lock, its changer, labels, loading and labelling tapes. */
#ifndef TAPIR_TAPE_TAPE_SESSION_H
#define TAPIR_TAPE_TAPE_SESSION_H

#include "base/err.h"
#include "base/lock.h"
#include "format/media_label.h"
#include "tape/changer.h"
#include "tape/drive.h"

typedef struct tp_tape_session {
	tp_drive *drive;
	tp_changer *changer;        /* NULL: standalone drive (a virtual one loads by label itself) */
	int drivenum;               /* the drive's number in its changer */
	char name[TP_DRIVE_NAME_MAX + 1];
	char changer_name[TP_DRIVE_NAME_MAX + 1];
	tp_lock lock;               /* run/drive-lock/<name>, holding the owner text */
	/* the drive's counters while its handle is closed for a robot move (a reopened handle goes on counting) */
	tp_drive_counters carried;
	int carrying;
	char owner[256];            /* the lock owner text (re-taken after an operator wait) */
} tp_tape_session;

/*
 * Locks drive `name` (timeout_ms, <0 = 10 s; a contender's error names
 * owner, e.g. the task UPID), opens it and its changer from tape.json.
 */
int tp_tape_session_open(tp_tape_session *s, const char *name, const char *owner, int timeout_ms, tp_err *err);
void tp_tape_session_close(tp_tape_session *s);

/*
 * A changer moves cartridges with the drive handle closed (a virtual changer
 * writes the drive's state under the drive's own lock); the session's drive
 * lock stays held.  Close keeps the handle's counters, reopen gives them to
 * the new handle, so s->drive->counters cover the whole session.
 */
void tp_tape_session_drive_close(tp_tape_session *s);
int tp_tape_session_drive_reopen(tp_tape_session *s, tp_err *err);

/*
 * Rewinds and reads the media label (file 0) and media-set label (file 1).
 * Returns 0 (has_set tells whether file 1 holds a set label), or
 * TP_LABEL_NONE for a blank tape.  msl may be NULL.  The set label's
 * key_config is owned by msl (tp_media_set_label_clear).
 */
int tp_tape_read_labels(tp_tape_session *s, tp_media_label *ml, tp_media_set_label *msl, int *has_set, tp_err *err);

/*
 * Makes the cartridge `label` ready in the drive: with a changer it is moved
 * there (unloading another first); a virtual drive loads it by label; a
 * standalone drive must already hold it, else -TP_EWRONGMEDIA "please
 * insert tape LABEL into drive D".  The labels are then read and must match
 * label_text (and uuid when non-NULL).
 */
int tp_tape_load(tp_tape_session *s, const char *label, const uint8_t *uuid, tp_media_label *ml,
		 tp_media_set_label *msl, int *has_set, tp_err *err);

/*
 * How tp_tape_load_wait asks an operator for a tape on a standalone drive
 * and waits for it.  All fields may be 0/NULL.
 */
typedef struct tp_media_wait {
	int poll_ms;          /* between looks at the drive; 0 = $TAPIR_MEDIA_POLL_MS, else 5000 */
	int timeout_s;        /* give up after this long (-ETIMEDOUT); 0 = until aborted */
	/*
	 * Called when the tape is first asked for (found = NULL: the drive is
	 * empty) and whenever a different wrong tape is found in the drive
	 * (found = its label, "" when blank or unreadable).  first is 1 once.
	 */
	void (*request)(void *ctx, const char *label, const char *drive, const char *found, int first);
	/*
	 * A changer drive: called once when the tape is not in the changer at
	 * all (changer = its name); the wait then looks at the changer until it
	 * is.  NULL: no wait, the load fails at once.
	 */
	void (*request_import)(void *ctx, const char *label, const char *changer);
	/* < 0 stops the wait with that code (e.g. -TP_EABORT); err says why */
	int (*check_abort)(void *ctx, tp_err *err);
	void *ctx;
} tp_media_wait;

/*
 * Whether a standalone drive of this session waits for an operator
 * (tp_tape_load_wait): a drive that cannot load by label, or a virtual one
 * when $TAPIR_VIRTUAL_MANUAL_LOAD=1 (it then behaves like a real standalone
 * drive: `tapir tape load-media` stands for the operator's hand).
 */
int tp_tape_session_needs_operator(const tp_tape_session *s);

/*
 * tp_tape_load that, on a standalone drive needing an operator
 * (tp_tape_session_needs_operator), asks for the tape through w->request
 * and waits: every poll interval the drive is looked at, until the right
 * tape (label and uuid) is in it, w->check_abort fails, or w->timeout_s
 * passes (-ETIMEDOUT "tape X was not inserted into drive D within N s").
 * While it waits, the drive lock and the drive handle are released, so that
 * the operator (or `tapir tape load-media`) can use the drive; they are
 * taken again for each look.  With a changer, a tape that sits in another
 * drive of the changer is first unloaded from it to its slot, unless that
 * drive is locked (-TP_ELOCKED naming the holder, e.g. the task).  Moves
 * made for that are added to s->changer->counters.  w NULL = tp_tape_load.
 */
int tp_tape_load_wait(tp_tape_session *s, const char *label, const uint8_t *uuid, const tp_media_wait *w,
		      tp_media_label *ml, tp_media_set_label *msl, int *has_set, tp_err *err);

/*
 * Where the tape in drive `num` of s's changer (another drive than s's)
 * stands, in bytes of the blocks before it: that drive's session is opened
 * without waiting and closed again, nothing moves.  -TP_ELOCKED when
 * someone holds it, -TP_ENOTFOUND when no drive is configured there,
 * -ENODATA when it is empty or cannot say.
 */
int tp_tape_changer_drive_pos(tp_tape_session *s, int num, uint64_t *bytes, tp_err *err);

/* Unloads the drive (to its slot with a changer). */
int tp_tape_unload(tp_tape_session *s, tp_err *err);

/* Exports a tape to an import/export slot (changer) or ejects it (standalone). */
int tp_tape_export(tp_tape_session *s, const char *label, tp_err *err);

/*
 * Writes a media label on the loaded tape: refuses (-TP_EEXISTS naming the
 * label found) when the tape holds data, unless force.  Encryption is
 * switched off first; labels are always written in clear.
 */
int tp_tape_write_media_label(tp_tape_session *s, const tp_media_label *ml, int force, tp_err *err);

/* Positions after file 0, switches encryption off and writes the set label as file 1 (discarding the rest). */
int tp_tape_write_set_label(tp_tape_session *s, const tp_media_set_label *msl, tp_err *err);

#endif
