/* LTO timing model: turns drive counters or a planned operation list into estimated tape seconds. */
#ifndef TAPIR_TAPE_LTO_MODEL_H
#define TAPIR_TAPE_LTO_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/*
 * Per-generation constants (docs/tape-drives.md gives the sources).  Rates
 * and capacities are native (uncompressed), MB = 10^6 bytes, TB = 10^12.
 */
typedef struct tp_lto_gen {
	int gen;                   /* 5 ... 9 */
	const char *name;          /* "LTO-9" */
	double rate_mb_s;          /* native data rate */
	uint64_t capacity;         /* native cartridge capacity in bytes */
	double load_s;             /* load-to-ready */
	double unload_s;           /* unload (from BOT) */
	double avg_rewind_s;       /* average rewind (from a uniformly random position) */
	double avg_locate_s;       /* average space/locate from the load point */
	double min_locate_s;       /* shortest non-zero locate/rewind (tapir assumption) */
} tp_lto_gen;

#define TP_LTO_GEN_MIN 5
#define TP_LTO_GEN_MAX 9
#define TP_LTO_CHANGER_MOVE_S 26.0 /* one changer move (small autoloader) */

/* The constants of LTO-gen, or NULL when gen is outside 5..9. */
const tp_lto_gen *tp_lto_gen_get(int gen);
/* Parses "LTO-9", "lto9", "9"; -EINVAL naming the text otherwise. */
int tp_lto_gen_parse(const char *s, int *gen, tp_err *err);

/*
 * Scale factor from a cartridge of media_bytes to the native cartridge:
 * a virtual cartridge of max-size bytes stands for a full native one, so a
 * distance of d bytes on it is d * capacity / media_bytes on the real tape.
 * media_bytes 0 means "a real cartridge" (factor 1).
 */
double tp_lto_scale(const tp_lto_gen *g, uint64_t media_bytes);
/* bytes on a cartridge of media_bytes -> bytes on the native cartridge (saturating). */
uint64_t tp_lto_native_bytes(const tp_lto_gen *g, uint64_t bytes, uint64_t media_bytes);

/*
 * Break-even of the planner and the executor: 1 when reading `gap` bytes
 * (on a cartridge of media_bytes) costs no more tape time than a LOCATE
 * over them, both scaled to the native cartridge; 0 otherwise.  gap 0 is 1.
 * tp_lto_break_even_bytes gives the native distance where the two are equal
 * (about 802 MB on LTO-9).
 */
int tp_lto_read_through(const tp_lto_gen *g, uint64_t gap, uint64_t media_bytes);
double tp_lto_break_even_bytes(const tp_lto_gen *g);

/*
 * Elementary times.  Distances are in native-tape bytes (already scaled).
 * locate: 0 for distance 0, else min_locate + k * distance with k chosen so
 * that the mean over a uniformly random target from BOT equals avg_locate;
 * rewind likewise with avg_rewind (from_pos 0 costs 0).  Both are monotonic
 * in distance and saturate at the cartridge length.
 */
double tp_lto_transfer_seconds(const tp_lto_gen *g, uint64_t bytes);
double tp_lto_locate_seconds(const tp_lto_gen *g, uint64_t distance);
double tp_lto_rewind_seconds(const tp_lto_gen *g, uint64_t from_pos);

/*
 * What a drive did (tp_drive_counters is this struct).  Distances and
 * positions are in bytes on the cartridge the drive used (not yet scaled);
 * the *_ops counts carry the fixed per-operation costs.
 */
typedef struct tp_tape_counters {
	uint64_t loads, unloads;
	uint64_t rewinds, rewind_bytes;        /* bytes between position and BOT, summed */
	uint64_t locates, locate_objects, locate_bytes;
	uint64_t spaces, space_objects, space_bytes;
	uint64_t blocks_read, bytes_read, blocks_written, bytes_written;
	uint64_t filemarks_read, filemarks_written;
} tp_tape_counters;

/* sum += c, field by field. */
void tp_tape_counters_add(tp_tape_counters *sum, const tp_tape_counters *c);

/* Estimated seconds, broken down; total = sum of the parts. */
typedef struct tp_lto_estimate {
	double load_s, unload_s, rewind_s, locate_s, space_s, read_s, write_s, changer_s;
	double total_s;
} tp_lto_estimate;

/*
 * Estimate for counters gathered on cartridges of media_bytes (0 = real
 * cartridge).  Distances and transfers are both scaled by tp_lto_scale, so
 * a virtual cartridge is a miniature of a full native one (reading all of it
 * takes as long as reading a native cartridge).  Summed distances make the per-operation fixed costs exact and
 * the distance part linear, so estimating a sum of counters equals summing
 * the estimates.
 */
void tp_lto_estimate_counters(const tp_lto_gen *g, const tp_tape_counters *c, uint64_t media_bytes,
			      tp_lto_estimate *out);

/* A plan: a sequence of tape operations, estimated without a drive. */
enum tp_lto_step_kind {
	TP_LTO_STEP_CHANGER_MOVE, /* robot moves one cartridge */
	TP_LTO_STEP_LOAD,         /* load-to-ready; position becomes BOT */
	TP_LTO_STEP_UNLOAD,       /* rewind from the current position, then unload */
	TP_LTO_STEP_REWIND,
	TP_LTO_STEP_LOCATE,       /* to byte position `arg` */
	TP_LTO_STEP_READ,         /* read `arg` bytes forward from the position */
	TP_LTO_STEP_WRITE,        /* write `arg` bytes */
	TP_LTO_STEP_IN_DRIVE,     /* the cartridge is in the drive already, at byte position `arg`: no cost */
};

typedef struct tp_lto_step {
	enum tp_lto_step_kind kind;
	uint64_t arg;
} tp_lto_step;

/*
 * Walks the steps keeping the tape position (bytes on a cartridge of
 * media_bytes, 0 = real) and returns the estimate; distances and transfers
 * scaled as in tp_lto_estimate_counters.  -EINVAL naming the step
 * for an unknown kind, a read/write/locate/rewind with no cartridge loaded,
 * or a position beyond the cartridge.
 */
int tp_lto_estimate_plan(const tp_lto_gen *g, const tp_lto_step *steps, size_t n, uint64_t media_bytes,
			 tp_lto_estimate *out, tp_err *err);

#endif
