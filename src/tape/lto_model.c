/* LTO timing model (see lto_model.h and docs/tape-drives.md for the numbers and their sources). */
#include "tape/lto_model.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/*
 * LTO-7/8/9 mechanics: IBM TS2290 manual; rates/capacities: LTO table, IBM
 * TS2900 manual (LTO-5 140 MB/s, LTO-6 160 MB/s).  No mechanics figures for
 * LTO-5/6 were at hand, so they reuse LTO-7's (documented as an assumption).
 */
static const tp_lto_gen gens[] = {
	{ 5, "LTO-5", 140.0, 1500000000000ULL, 15.0, 20.0, 60.0, 56.0, 2.0 },
	{ 6, "LTO-6", 160.0, 2500000000000ULL, 15.0, 20.0, 60.0, 56.0, 2.0 },
	{ 7, "LTO-7", 300.0, 6000000000000ULL, 15.0, 20.0, 60.0, 56.0, 2.0 },
	{ 8, "LTO-8", 360.0, 12000000000000ULL, 15.0, 24.0, 59.0, 59.0, 2.0 },
	{ 9, "LTO-9", 400.0, 18000000000000ULL, 16.0, 56.0, 62.0, 65.0, 2.0 },
};

const tp_lto_gen *tp_lto_gen_get(int gen)
{
	for (size_t i = 0; i < sizeof(gens) / sizeof(gens[0]); i++)
		if (gens[i].gen == gen)
			return &gens[i];
	return NULL;
}

int tp_lto_gen_parse(const char *s, int *gen, tp_err *err)
{
	const char *p = s ? s : "";
	if (!strncasecmp(p, "lto", 3)) {
		p += 3;
		if (*p == '-')
			p++;
	}
	if (isdigit((unsigned char)p[0]) && p[1] == 0 && tp_lto_gen_get(p[0] - '0')) {
		*gen = p[0] - '0';
		return 0;
	}
	return tp_err_set(err, -EINVAL, "unknown LTO generation '%s' (expected LTO-%d ... LTO-%d)", s ? s : "",
			  TP_LTO_GEN_MIN, TP_LTO_GEN_MAX);
}

/* bytes on the cartridge -> bytes on the native one (saturating: a huge count must not wrap) */
static uint64_t scaled(uint64_t bytes, double scale)
{
	double v = (double)bytes * scale;
	return v >= 18446744073709549568.0 ? UINT64_MAX : (uint64_t)v;
}

double tp_lto_scale(const tp_lto_gen *g, uint64_t media_bytes)
{
	if (!media_bytes)
		return 1.0;
	return (double)g->capacity / (double)media_bytes;
}

uint64_t tp_lto_native_bytes(const tp_lto_gen *g, uint64_t bytes, uint64_t media_bytes)
{
	return scaled(bytes, tp_lto_scale(g, media_bytes));
}

double tp_lto_transfer_seconds(const tp_lto_gen *g, uint64_t bytes)
{
	return (double)bytes / (g->rate_mb_s * 1e6);
}

/* min + 2 (avg - min) * fraction: the mean over a uniform fraction in [0,1] is avg. */
static double linear_seek(double min_s, double avg_s, uint64_t distance, uint64_t capacity)
{
	if (!distance)
		return 0.0;
	double frac = (double)distance / (double)capacity;
	if (frac > 1.0)
		frac = 1.0;
	return min_s + 2.0 * (avg_s - min_s) * frac;
}

double tp_lto_locate_seconds(const tp_lto_gen *g, uint64_t distance)
{
	return linear_seek(g->min_locate_s, g->avg_locate_s, distance, g->capacity);
}

double tp_lto_rewind_seconds(const tp_lto_gen *g, uint64_t from_pos)
{
	return linear_seek(g->min_locate_s, g->avg_rewind_s, from_pos, g->capacity);
}

int tp_lto_read_through(const tp_lto_gen *g, uint64_t gap, uint64_t media_bytes)
{
	uint64_t native = tp_lto_native_bytes(g, gap, media_bytes);
	return !gap || tp_lto_transfer_seconds(g, native) <= tp_lto_locate_seconds(g, native);
}

/* min + 2 (avg - min) d / C = d / rate  =>  d = min / (1 / rate - 2 (avg - min) / C) */
double tp_lto_break_even_bytes(const tp_lto_gen *g)
{
	return g->min_locate_s / (1.0 / (g->rate_mb_s * 1e6) - 2.0 * (g->avg_locate_s - g->min_locate_s) / (double)g->capacity);
}

void tp_tape_counters_add(tp_tape_counters *sum, const tp_tape_counters *c)
{
	sum->loads += c->loads;
	sum->unloads += c->unloads;
	sum->rewinds += c->rewinds;
	sum->rewind_bytes += c->rewind_bytes;
	sum->locates += c->locates;
	sum->locate_objects += c->locate_objects;
	sum->locate_bytes += c->locate_bytes;
	sum->spaces += c->spaces;
	sum->space_objects += c->space_objects;
	sum->space_bytes += c->space_bytes;
	sum->blocks_read += c->blocks_read;
	sum->bytes_read += c->bytes_read;
	sum->blocks_written += c->blocks_written;
	sum->bytes_written += c->bytes_written;
	sum->filemarks_read += c->filemarks_read;
	sum->filemarks_written += c->filemarks_written;
}

/* n operations moving a summed distance (native bytes): n * min + slope * distance. */
static double summed_seek(double min_s, double avg_s, uint64_t n, double distance, uint64_t capacity)
{
	if (!n)
		return 0.0;
	double max_dist = (double)n * (double)capacity;
	if (distance > max_dist)
		distance = max_dist;
	return (double)n * min_s + 2.0 * (avg_s - min_s) * distance / (double)capacity;
}

static void total(tp_lto_estimate *e)
{
	e->total_s = e->load_s + e->unload_s + e->rewind_s + e->locate_s + e->space_s + e->read_s + e->write_s +
		     e->changer_s;
}

void tp_lto_estimate_counters(const tp_lto_gen *g, const tp_tape_counters *c, uint64_t media_bytes,
			      tp_lto_estimate *out)
{
	double scale = tp_lto_scale(g, media_bytes);
	memset(out, 0, sizeof(*out));
	out->load_s = (double)c->loads * g->load_s;
	out->unload_s = (double)c->unloads * g->unload_s;
	out->rewind_s = summed_seek(g->min_locate_s, g->avg_rewind_s, c->rewinds, (double)c->rewind_bytes * scale,
				    g->capacity);
	out->locate_s = summed_seek(g->min_locate_s, g->avg_locate_s, c->locates, (double)c->locate_bytes * scale,
				    g->capacity);
	out->space_s = summed_seek(g->min_locate_s, g->avg_locate_s, c->spaces, (double)c->space_bytes * scale,
				   g->capacity);
	/* transfers are scaled like distances: the cartridge is a miniature of a native one */
	out->read_s = tp_lto_transfer_seconds(g, scaled(c->bytes_read, scale));
	out->write_s = tp_lto_transfer_seconds(g, scaled(c->bytes_written, scale));
	total(out);
}

static const char *step_name(enum tp_lto_step_kind k)
{
	switch (k) {
	case TP_LTO_STEP_CHANGER_MOVE: return "changer-move";
	case TP_LTO_STEP_LOAD: return "load";
	case TP_LTO_STEP_UNLOAD: return "unload";
	case TP_LTO_STEP_REWIND: return "rewind";
	case TP_LTO_STEP_LOCATE: return "locate";
	case TP_LTO_STEP_READ: return "read";
	case TP_LTO_STEP_WRITE: return "write";
	case TP_LTO_STEP_IN_DRIVE: return "in-drive";
	}
	return "?";
}

int tp_lto_estimate_plan(const tp_lto_gen *g, const tp_lto_step *steps, size_t n, uint64_t media_bytes,
			 tp_lto_estimate *out, tp_err *err)
{
	double scale = tp_lto_scale(g, media_bytes);
	uint64_t limit = media_bytes ? media_bytes : g->capacity;
	uint64_t pos = 0;
	int loaded = 0;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		const tp_lto_step *s = &steps[i];
		int needs_tape = s->kind != TP_LTO_STEP_CHANGER_MOVE && s->kind != TP_LTO_STEP_LOAD &&
				 s->kind != TP_LTO_STEP_IN_DRIVE;
		if ((unsigned)s->kind > TP_LTO_STEP_IN_DRIVE)
			return tp_err_set(err, -EINVAL, "plan step %zu: unknown kind %d", i, (int)s->kind);
		if (needs_tape && !loaded)
			return tp_err_set(err, -EINVAL, "plan step %zu (%s): no cartridge loaded", i,
					  step_name(s->kind));
		switch (s->kind) {
		case TP_LTO_STEP_CHANGER_MOVE:
			out->changer_s += TP_LTO_CHANGER_MOVE_S;
			break;
		case TP_LTO_STEP_LOAD:
		case TP_LTO_STEP_IN_DRIVE:
			if (loaded)
				return tp_err_set(err, -EINVAL, "plan step %zu (%s): a cartridge is already loaded", i,
						  step_name(s->kind));
			if (s->kind == TP_LTO_STEP_IN_DRIVE && s->arg > limit)
				return tp_err_set(err, -EINVAL, "plan step %zu (in-drive): position %llu beyond the cartridge", i,
						  (unsigned long long)s->arg);
			if (s->kind == TP_LTO_STEP_LOAD)
				out->load_s += g->load_s;
			loaded = 1;
			pos = s->kind == TP_LTO_STEP_LOAD ? 0 : s->arg;
			break;
		case TP_LTO_STEP_UNLOAD:
			out->rewind_s += tp_lto_rewind_seconds(g, scaled(pos, scale));
			out->unload_s += g->unload_s;
			loaded = 0;
			pos = 0;
			break;
		case TP_LTO_STEP_REWIND:
			out->rewind_s += tp_lto_rewind_seconds(g, scaled(pos, scale));
			pos = 0;
			break;
		case TP_LTO_STEP_LOCATE: {
			if (s->arg > limit)
				return tp_err_set(err, -EINVAL, "plan step %zu (locate): position %llu beyond the cartridge (%llu bytes)",
						  i, (unsigned long long)s->arg, (unsigned long long)limit);
			uint64_t d = s->arg > pos ? s->arg - pos : pos - s->arg;
			out->locate_s += tp_lto_locate_seconds(g, scaled(d, scale));
			pos = s->arg;
			break;
		}
		case TP_LTO_STEP_READ:
		case TP_LTO_STEP_WRITE:
			if (s->arg > limit - pos)
				return tp_err_set(err, -EINVAL, "plan step %zu (%s): %llu bytes at %llu run past the cartridge (%llu bytes)",
						  i, step_name(s->kind), (unsigned long long)s->arg,
						  (unsigned long long)pos, (unsigned long long)limit);
			if (s->kind == TP_LTO_STEP_READ)
				out->read_s += tp_lto_transfer_seconds(g, scaled(s->arg, scale));
			else
				out->write_s += tp_lto_transfer_seconds(g, scaled(s->arg, scale));
			pos += s->arg;
			break;
		}
	}
	total(out);
	return 0;
}
