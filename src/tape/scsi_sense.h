/* SCSI sense data: parsing of fixed and descriptor formats and classification for tape and changer drivers. */
#ifndef TAPIR_TAPE_SCSI_SENSE_H
#define TAPIR_TAPE_SCSI_SENSE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Sense keys (SPC). */
enum {
	TP_SK_NO_SENSE = 0x0,
	TP_SK_RECOVERED_ERROR = 0x1,
	TP_SK_NOT_READY = 0x2,
	TP_SK_MEDIUM_ERROR = 0x3,
	TP_SK_HARDWARE_ERROR = 0x4,
	TP_SK_ILLEGAL_REQUEST = 0x5,
	TP_SK_UNIT_ATTENTION = 0x6,
	TP_SK_DATA_PROTECT = 0x7,
	TP_SK_BLANK_CHECK = 0x8,
	TP_SK_VENDOR_SPECIFIC = 0x9,
	TP_SK_COPY_ABORTED = 0xa,
	TP_SK_ABORTED_COMMAND = 0xb,
	TP_SK_VOLUME_OVERFLOW = 0xd,
	TP_SK_MISCOMPARE = 0xe,
};

/*
 * Decoded sense data.  `info` is the INFORMATION field: in fixed format the
 * 4 bytes 3..6 sign-extended (SSC reports a negative residual for a READ
 * whose block was longer than the request), in descriptor format the 8-byte
 * value of descriptor type 0 taken as signed.  info_valid is the VALID bit.
 * filemark/eom/ili come from byte 2 (fixed) or the stream commands
 * descriptor type 4 (descriptor format).
 */
typedef struct tp_sense {
	uint8_t response_code;   /* 0x70, 0x71, 0x72 or 0x73 */
	int descriptor;          /* 1 for 0x72/0x73 */
	int deferred;            /* 1 for 0x71/0x73: reports an earlier command */
	uint8_t key, asc, ascq;
	int filemark, eom, ili;
	int info_valid;
	int64_t info;
	int sks_valid;           /* sense-key specific bytes present and SKSV set */
	uint8_t sks[3];          /* raw sense-key specific bytes (SKSV bit included) */
	uint8_t fru;             /* field replaceable unit code (0 = none) */
	size_t len;              /* bytes of sense actually used */
} tp_sense;

/*
 * Parses len bytes of raw sense data into *s.  Truncated sense is accepted as
 * long as the sense key is present (fields beyond the end read as 0), and the
 * ADDITIONAL SENSE LENGTH is capped to what was received, because targets
 * (tgt among them) and transports report it loosely.  Errors: -TP_EFORMAT for
 * an empty buffer, a response code other than 70h..73h, or fewer bytes than
 * needed for the sense key, naming the byte.
 */
int tp_sense_parse(const uint8_t *buf, size_t len, tp_sense *s, tp_err *err);

/*
 * What a driver should make of a CHECK CONDITION, in decreasing order of
 * specificity.  See tp_sense_classify for the exact rules.
 */
enum tp_sense_class {
	TP_SENSE_OK = 0,            /* no sense, or a recovered error with nothing else to say */
	TP_SENSE_FILEMARK,          /* a filemark was read or spaced over (FM bit, or 00/01) */
	TP_SENSE_EARLY_WARNING,     /* EOM bit on NO SENSE / 00/02 / 00/07: logical end of medium */
	TP_SENSE_ILI,               /* incorrect length: info = requested - actual block length */
	TP_SENSE_EOD,               /* BLANK CHECK (any ASC), or 00/05 end-of-data detected */
	TP_SENSE_BOT,               /* 00/04 beginning of partition/medium reached while spacing back */
	TP_SENSE_UNIT_ATTENTION,    /* reset, medium changed, mode parameters changed, ... */
	TP_SENSE_NO_MEDIUM,         /* NOT READY 3A/xx */
	TP_SENSE_BECOMING_READY,    /* NOT READY 04/01 (or another "in progress" 04/xx) */
	TP_SENSE_NOT_READY,         /* any other NOT READY */
	TP_SENSE_MEDIUM_ERROR,
	TP_SENSE_HARDWARE_ERROR,
	TP_SENSE_ILLEGAL_REQUEST,   /* also "not supported": 20/00 invalid opcode, 24/00 invalid field */
	TP_SENSE_DATA_PROTECT,      /* write protected, WORM overwrite, encryption key errors */
	TP_SENSE_VOLUME_OVERFLOW,   /* physical end of medium: the data was not written */
	TP_SENSE_ABORTED,           /* ABORTED COMMAND (retryable) */
	TP_SENSE_OTHER,             /* vendor specific, copy aborted, miscompare, reserved keys */
};

/*
 * Classification rules:
 *  - BLANK CHECK → EOD (tgt sets EOM and ASC 00/00 on it); VOLUME OVERFLOW →
 *    VOLUME_OVERFLOW; MEDIUM/HARDWARE ERROR, ILLEGAL REQUEST, DATA PROTECT,
 *    ABORTED COMMAND, UNIT ATTENTION by key; NOT READY split by ASC.
 *  - NO SENSE and RECOVERED ERROR look at the stream bits first: FM →
 *    FILEMARK, then ILI → ILI, then EOM → EARLY_WARNING (or BOT with
 *    00/04); without bits the ASC decides: 00/01 FILEMARK, 00/02 and 00/07
 *    EARLY_WARNING, 00/04 BOT, 00/05 EOD (tgt reports SPACE into EOD so),
 *    anything else OK.
 */
enum tp_sense_class tp_sense_classify(const tp_sense *s);

/* A fixed one-line text for a class, e.g. "end of data (blank check)". */
const char *tp_sense_class_message(enum tp_sense_class c);
/* Short identifier for a class, e.g. "eod", for logs and tests. */
const char *tp_sense_class_name(enum tp_sense_class c);

/* "ILLEGAL REQUEST" etc.; "RESERVED" for 0x0f. */
const char *tp_sense_key_name(uint8_t key);
/* Text of a known ASC/ASCQ pair, NULL when not in tapir's table. */
const char *tp_sense_asc_text(uint8_t asc, uint8_t ascq);

/*
 * One line describing s into out (always NUL-terminated), e.g.
 * "MEDIUM ERROR 31/00 medium format corrupted" or
 * "NO SENSE 00/01 filemark detected [FM, info 65536]".  Returns out.
 */
char *tp_sense_describe(const tp_sense *s, char *out, size_t cap);

/*
 * Residual bytes of a variable-length READ as reported by the sense data
 * (tgt's transport residual is unreliable): for ILI with VALID it is info
 * (positive = block shorter than the request, negative = longer); 0
 * otherwise.
 */
int64_t tp_sense_residual(const tp_sense *s);

/*
 * Progress indication of a NOT READY or NO SENSE "in progress" sense (sense-key specific
 * bytes), scaled to 0..65535; -1 when there is none.
 */
int tp_sense_progress(const tp_sense *s);

#endif
