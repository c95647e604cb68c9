/* Media pool allocation and media-set rollover (see media_pool.h, pbs-formats §7). */
#include "tape/media_pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid.h>

int tp_media_pool_open(tp_media_pool *p, const tp_pool_config *cfg, const char *inv_dir, const char *changer,
		       const char *owner, tp_err *err)
{
	memset(p, 0, sizeof(*p));
	p->pool_lock.fd = -1;
	p->set_lock.fd = -1;
	p->cfg = *cfg;
	if (changer && strlen(changer) > TP_MEDIA_LOCATION_MAX)
		return tp_err_set(err, -EINVAL, "changer name '%.80s' too long", changer);
	snprintf(p->changer, sizeof(p->changer), "%s", changer ? changer : "");
	int r = tp_inventory_open(&p->inv, inv_dir, owner, err);
	if (r < 0)
		return r;
	if ((r = tp_inventory_lock_pool(&p->inv, cfg->name, p->inv.lock_timeout_ms, &p->pool_lock, err)) < 0)
		goto fail;
	/* reload under the pool lock: another writer may just have finished */
	if ((r = tp_inventory_reload(&p->inv, err)) < 0)
		goto fail;
	if (tp_inventory_latest_set(&p->inv, cfg->name, p->current_set)) {
		if ((r = tp_inventory_lock_media_set(&p->inv, p->current_set, p->inv.lock_timeout_ms, &p->set_lock,
						     err)) < 0)
			goto fail;
		p->has_current = 1;
		if (tp_inventory_set_start_time(&p->inv, p->current_set, &p->current_start) < 0)
			p->current_start = -1;
	}
	return 0;
fail:
	tp_media_pool_close(p);
	return r;
}

void tp_media_pool_close(tp_media_pool *p)
{
	tp_lock_release(&p->set_lock);
	tp_lock_release(&p->pool_lock);
	tp_inventory_close(&p->inv);
	p->has_current = 0;
}

int tp_media_pool_location_available(const tp_media_pool *p, const tp_inventory_entry *e)
{
	tp_media_location off = { TP_LOC_OFFLINE, "" };
	const tp_media_location *l = e->has_location ? &e->location : &off;
	if (l->kind == TP_LOC_VAULT)
		return 0;
	if (p->changer[0])
		return l->kind == TP_LOC_ONLINE && !strcmp(l->name, p->changer);
	return l->kind == TP_LOC_OFFLINE;
}

enum tp_media_status tp_media_pool_status(const tp_media_pool *p, const tp_inventory_entry *e)
{
	static const uint8_t none[16] = { 0 };
	/* without a current set every set tape is "another set": Full */
	return tp_inventory_media_status(&p->inv, e, p->has_current ? p->current_set : none);
}

int tp_media_pool_is_expired(const tp_media_pool *p, const tp_inventory_entry *e, int64_t now)
{
	if (tp_media_pool_status(p, e) != TP_MEDIA_FULL)
		return 0;
	return now >= tp_inventory_expire_time(&p->inv, e, &p->cfg);
}

static int fp_equal(int has_a, const uint8_t *a, int has_b, const uint8_t *b)
{
	return has_a == has_b && (!has_a || !memcmp(a, b, 32));
}

int tp_media_pool_current_set_usable(tp_media_pool *p, char *why, size_t why_len)
{
	char dummy[8];
	if (!why) {
		why = dummy;
		why_len = sizeof(dummy);
	}
	why[0] = 0;
	if (!p->has_current) {
		snprintf(why, why_len, "no current media set");
		return 0;
	}
	tp_media_set ms;
	if (tp_inventory_media_set(&p->inv, p->current_set, &ms, NULL) < 0)
		return 1;   /* a new set without tapes yet */
	int usable = 0;
	const tp_inventory_entry *first = NULL;
	if (!ms.complete) {
		for (size_t s = 0; s < ms.n; s++)
			if (!ms.present[s]) {
				snprintf(why, why_len, "media set is incomplete (tape %zu missing)", s);
				break;
			}
		goto out;
	}
	for (size_t s = 0; s < ms.n; s++) {
		const tp_inventory_entry *e = tp_inventory_find(&p->inv, ms.members[s]);
		if (!e || !e->has_set || e->set.seq_nr != s || memcmp(e->set.uuid, p->current_set, 16)) {
			snprintf(why, why_len, "tape %zu of the media set does not belong to it", s);
			goto out;
		}
		if (strcmp(e->set.pool, p->cfg.name)) {
			snprintf(why, why_len, "tape '%s' belongs to pool '%s'", e->label.label_text, e->set.pool);
			goto out;
		}
		if (!first) {
			first = e;
		} else if (!fp_equal(first->set.has_fingerprint, first->set.fingerprint, e->set.has_fingerprint,
				     e->set.fingerprint)) {
			snprintf(why, why_len, "inconsistent encryption key fingerprints in the media set");
			goto out;
		}
		enum tp_media_status st = tp_media_pool_status(p, e);
		if (st == TP_MEDIA_DAMAGED || st == TP_MEDIA_RETIRED || st == TP_MEDIA_UNKNOWN) {
			snprintf(why, why_len, "tape '%s' is %s", e->label.label_text, tp_media_status_name(st));
			goto out;
		}
		if (st == TP_MEDIA_WRITABLE && e->has_location && e->location.kind == TP_LOC_VAULT) {
			snprintf(why, why_len, "writable tape '%s' is in vault '%s'", e->label.label_text, e->location.name);
			goto out;
		}
	}
	if (first && !fp_equal(first->set.has_fingerprint, first->set.fingerprint, p->cfg.has_encrypt, p->cfg.encrypt)) {
		snprintf(why, why_len, "the pool's encryption key changed");
		goto out;
	}
	usable = 1;
out:
	tp_media_set_free(&ms);
	return usable;
}

static int new_set(tp_media_pool *p, int64_t now, tp_err *err)
{
	uint8_t u[16];
	tp_lock l = TP_LOCK_INIT;
	uuid_generate_random(u);
	int r = tp_inventory_lock_media_set(&p->inv, u, 0, &l, err);
	if (r < 0)
		return r;
	tp_lock_release(&p->set_lock);
	p->set_lock = l;
	memcpy(p->current_set, u, 16);
	p->current_start = now;
	p->has_current = 1;
	return 0;
}

int tp_media_pool_start_write_session(tp_media_pool *p, int force_new, int64_t now, char *reason,
				      size_t reason_len, tp_err *err)
{
	char why[256] = "";
	int r = tp_inventory_reload(&p->inv, err);
	if (r < 0)
		return r;
	if (force_new) {
		snprintf(why, sizeof(why), "forced");
	} else if (!tp_media_pool_current_set_usable(p, why, sizeof(why))) {
		/* why says it */
	} else if (p->cfg.allocation == TP_POOL_ALLOC_ALWAYS) {
		snprintf(why, sizeof(why), "allocation policy is 'always'");
	} else if (p->cfg.allocation == TP_POOL_ALLOC_CALENDAR) {
		int64_t next;
		if (p->current_start >= 0 && tp_calendar_next(&p->cfg.event, p->current_start, 0, &next, NULL) == 0 &&
		    now >= next)
			snprintf(why, sizeof(why), "allocation event '%s' is due", p->cfg.allocation_text);
	}
	if (!why[0])
		return 0;
	if ((r = new_set(p, now, err)) < 0)
		return r;
	if (reason)
		snprintf(reason, reason_len, "%s", why);
	return 1;
}

/* ---- allocation ---- */

typedef struct cand {
	const tp_inventory_entry *e;
	int64_t key1, key2;
} cand;

static int cmp_cand(const void *a, const void *b)
{
	const cand *x = a, *y = b;
	if (x->key1 != y->key1)
		return x->key1 < y->key1 ? -1 : 1;
	if (x->key2 != y->key2)
		return x->key2 < y->key2 ? -1 : 1;
	return strcmp(x->e->label.label_text, y->e->label.label_text);
}

enum { STEP_EMPTY, STEP_EXPIRED, STEP_UNASSIGNED };

/*
 * Tapes of one allocation step, best first; with want_available = 0 the
 * tapes that qualify except for their location (for the error message).
 */
static size_t candidates(tp_media_pool *p, int step, int64_t now, int want_available, cand *out)
{
	size_t n = 0;
	for (size_t i = 0; i < p->inv.n; i++) {
		const tp_inventory_entry *e = &p->inv.e[i];
		const char *pool = tp_inventory_entry_pool(e);
		int avail = tp_media_pool_location_available(p, e);
		if (avail != want_available)
			continue;
		if (!want_available && e->has_location && e->location.kind == TP_LOC_VAULT)
			continue;
		cand c = { e, 0, 0 };
		switch (step) {
		case STEP_EMPTY:
			if (!pool || strcmp(pool, p->cfg.name) || tp_inventory_entry_in_set(e) ||
			    tp_media_pool_status(p, e) != TP_MEDIA_WRITABLE)
				continue;
			c.key1 = e->label.ctime;
			break;
		case STEP_EXPIRED:
			if (!pool || strcmp(pool, p->cfg.name) || !tp_inventory_entry_in_set(e) ||
			    (p->has_current && !memcmp(e->set.uuid, p->current_set, 16)) ||
			    !tp_media_pool_is_expired(p, e, now))
				continue;
			if (tp_inventory_set_start_time(&p->inv, e->set.uuid, &c.key1) < 0)
				c.key1 = e->set.ctime;
			c.key2 = (int64_t)e->set.seq_nr;
			break;
		default:
			if (pool || tp_media_pool_status(p, e) != TP_MEDIA_WRITABLE)
				continue;
			c.key1 = e->label.ctime;
			break;
		}
		out[n++] = c;
	}
	qsort(out, n, sizeof(*out), cmp_cand);
	return n;
}

/* 1 when nobody holds the set's lock (tried without waiting). */
static int set_lock_free(tp_media_pool *p, const uint8_t set[16])
{
	tp_lock l = TP_LOCK_INIT;
	if (tp_inventory_lock_media_set(&p->inv, set, 0, &l, NULL) < 0)
		return 0;
	tp_lock_release(&l);
	return 1;
}

/* The choice of §7; *last = 1 when it is the current last tape (no change needed). */
static int choose(tp_media_pool *p, int64_t now, const tp_inventory_entry **pick, int *last, int *step_out,
		  tp_err *err)
{
	*pick = NULL;
	*last = 0;
	if (!p->has_current)
		return tp_err_set(err, -EINVAL, "media pool '%s': no write session started", p->cfg.name);
	tp_media_set ms;
	if (tp_inventory_media_set(&p->inv, p->current_set, &ms, NULL) == 0) {
		const tp_inventory_entry *e = ms.n && ms.present[ms.n - 1] ? tp_inventory_find(&p->inv, ms.members[ms.n - 1]) : NULL;
		tp_media_set_free(&ms);
		if (e && tp_media_pool_status(p, e) == TP_MEDIA_WRITABLE && tp_media_pool_location_available(p, e)) {
			*pick = e;
			*last = 1;
			return 0;
		}
	}
	cand *c = malloc((p->inv.n + 1) * sizeof(*c));
	if (!c)
		return tp_err_set(err, -ENOMEM, "out of memory");
	for (int step = STEP_EMPTY; step <= STEP_UNASSIGNED && !*pick; step++) {
		size_t n = candidates(p, step, now, 1, c);
		for (size_t i = 0; i < n && !*pick; i++) {
			if (step == STEP_EXPIRED && !set_lock_free(p, c[i].e->set.uuid))
				continue;
			*pick = c[i].e;
			*step_out = step;
		}
	}
	free(c);
	return 0;
}

static int no_tape_error(tp_media_pool *p, int64_t now, tp_err *err)
{
	char names[512] = "";
	size_t o = 0, count = 0;
	cand *c = malloc((p->inv.n + 1) * sizeof(*c));
	if (!c)
		return tp_err_set(err, -ENOMEM, "out of memory");
	tp_media_set ms;
	if (p->has_current && tp_inventory_media_set(&p->inv, p->current_set, &ms, NULL) == 0) {
		const tp_inventory_entry *e = ms.n && ms.present[ms.n - 1] ? tp_inventory_find(&p->inv, ms.members[ms.n - 1]) : NULL;
		tp_media_set_free(&ms);
		if (e && tp_media_pool_status(p, e) == TP_MEDIA_WRITABLE && !(e->has_location && e->location.kind == TP_LOC_VAULT)) {
			o += (size_t)snprintf(names + o, sizeof(names) - o, "'%s'", e->label.label_text);
			count++;
		}
	}
	for (int step = STEP_EMPTY; step <= STEP_UNASSIGNED; step++) {
		size_t n = candidates(p, step, now, 0, c);
		for (size_t i = 0; i < n && o < sizeof(names) - 80; i++, count++)
			o += (size_t)snprintf(names + o, sizeof(names) - o, "%s'%s'", count ? ", " : "",
					      c[i].e->label.label_text);
	}
	free(c);
	if (count && p->changer[0])
		return tp_err_set(err, -TP_ENOTFOUND,
				  "media pool '%s': no writable tape online in changer '%s'; load %s %s into it "
				  "or label a new tape for the pool", p->cfg.name, p->changer,
				  count > 1 ? "one of" : "tape", names);
	if (count)
		return tp_err_set(err, -TP_ENOTFOUND,
				  "media pool '%s': no writable tape available; insert %s %s into the drive "
				  "or label a new tape for the pool", p->cfg.name, count > 1 ? "one of" : "tape", names);
	return tp_err_set(err, -TP_ENOTFOUND,
			  "media pool '%s': no writable tape; label a new tape with 'tapir tape label --pool %s'",
			  p->cfg.name, p->cfg.name);
}

int tp_media_pool_guess_writable_media(tp_media_pool *p, int64_t now, uint8_t uuid[16], tp_err *err)
{
	const tp_inventory_entry *e;
	int last, step = 0;
	int r = tp_inventory_reload(&p->inv, err);
	if (r < 0 || (r = choose(p, now, &e, &last, &step, err)) < 0)
		return r;
	if (!e)
		return no_tape_error(p, now, err);
	memcpy(uuid, e->label.uuid, 16);
	return 0;
}

int tp_media_pool_alloc_writable_media(tp_media_pool *p, int64_t now, tp_catalog_db *db, tp_inventory_entry *out,
				       tp_err *err)
{
	const tp_inventory_entry *e;
	int last, step = 0;
	tp_lock ul = TP_LOCK_INIT;
	int r = tp_inventory_reload(&p->inv, err);
	if (r < 0 || (r = choose(p, now, &e, &last, &step, err)) < 0)
		return r;
	if (!e)
		return no_tape_error(p, now, err);
	if (last) {
		*out = *e;
		return 0;
	}
	if (step == STEP_UNASSIGNED) {
		/* another pool may be taking the same free tape */
		if ((r = tp_inventory_lock_pool(&p->inv, NULL, p->inv.lock_timeout_ms, &ul, err)) < 0)
			return r;
		uint8_t u[16];
		memcpy(u, e->label.uuid, 16);
		if ((r = tp_inventory_reload(&p->inv, err)) < 0)
			goto out;
		e = tp_inventory_find(&p->inv, u);
		if (!e || tp_inventory_entry_pool(e)) {
			r = tp_err_set(err, -TP_ELOCKED, "media pool '%s': the free tape was taken by another pool; retry",
				       p->cfg.name);
			goto out;
		}
	}
	tp_media_set ms;
	uint64_t seq = 0;
	if (tp_inventory_media_set(&p->inv, p->current_set, &ms, NULL) == 0) {
		seq = ms.n;
		tp_media_set_free(&ms);
	}
	tp_media_label label = e->label;
	tp_media_set_label set;
	memset(&set, 0, sizeof(set));
	snprintf(set.pool, sizeof(set.pool), "%s", p->cfg.name);
	memcpy(set.uuid, p->current_set, 16);
	set.seq_nr = seq;
	/*
	 * The pool's latest set is the one with the newest set label, and a tie
	 * leaves the pool without one (as PBS).  Labels count seconds, so a set
	 * begun in the second the previous set wrote its last label is dated a
	 * second later.
	 */
	set.ctime = now;
	for (size_t i = 0; i < p->inv.n; i++) {
		const tp_inventory_entry *o = &p->inv.e[i];
		if (tp_inventory_entry_in_set(o) && !strcmp(o->set.pool, p->cfg.name) &&
		    memcmp(o->set.uuid, p->current_set, 16) && o->set.ctime >= set.ctime)
			set.ctime = o->set.ctime + 1;
	}
	set.has_fingerprint = p->cfg.has_encrypt;
	memcpy(set.fingerprint, p->cfg.encrypt, 32);
	if (seq == 0)
		p->current_start = set.ctime;
	if (db) {
		/* the tape's old rows describe data that is about to be overwritten */
		if ((r = tp_catalog_begin(db, err)) < 0)
			goto out;
		tp_err tmp = { 0 };
		r = tp_catalog_delete_media(db, label.uuid, 0, &tmp);
		if (r == -TP_ENOTFOUND)
			r = 0;
		else if (r < 0)
			*err = tmp;
		if (r == 0)
			r = tp_catalog_add_media_set(db, set.uuid, set.pool, p->current_start, set.has_fingerprint ? set.fingerprint : NULL, err);
		if (r == 0)
			r = tp_catalog_add_media(db, label.uuid, label.label_text, set.uuid, seq, label.ctime, err);
		if (r < 0) {
			tp_catalog_rollback(db, NULL);
			goto out;
		}
		if ((r = tp_catalog_commit(db, err)) < 0)
			goto out;
	}
	if ((r = tp_inventory_store(&p->inv, &label, &set, 1, err)) < 0)
		goto out;
	const tp_inventory_entry *now_e = tp_inventory_find(&p->inv, label.uuid);
	if (!now_e) {
		r = tp_err_set(err, -EIO, "inventory lost tape '%s' while storing it", label.label_text);
		goto out;
	}
	*out = *now_e;
out:
	tp_lock_release(&ul);
	return r;
}
