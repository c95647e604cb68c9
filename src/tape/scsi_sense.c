/* SCSI sense data parsing and classification (see scsi_sense.h). */
#include "tape/scsi_sense.h"

#include <stdio.h>
#include <string.h>

#include "base/buf.h"

static int parse_fixed(const uint8_t *b, size_t len, tp_sense *s, tp_err *err)
{
	if (len < 3)
		return tp_err_set(err, -TP_EFORMAT, "sense data (fixed format): %zu bytes, the sense key is in byte 2",
				  len);
	/* Byte 7 says how much follows; never trust it beyond what arrived. */
	size_t used = len;
	if (len >= 8 && (size_t)8 + b[7] < len)
		used = (size_t)8 + b[7];
	s->len = used;
	s->filemark = !!(b[2] & 0x80);
	s->eom = !!(b[2] & 0x40);
	s->ili = !!(b[2] & 0x20);
	s->key = b[2] & 0x0f;
	if (used >= 7) {
		s->info_valid = !!(b[0] & 0x80);
		s->info = (int32_t)tp_be32(b + 3);
	}
	if (used >= 13)
		s->asc = b[12];
	if (used >= 14)
		s->ascq = b[13];
	if (used >= 15)
		s->fru = b[14];
	if (used >= 18) {
		memcpy(s->sks, b + 15, 3);
		s->sks_valid = !!(b[15] & 0x80);
	}
	return 0;
}

static int parse_descriptor(const uint8_t *b, size_t len, tp_sense *s, tp_err *err)
{
	if (len < 2)
		return tp_err_set(err, -TP_EFORMAT,
				  "sense data (descriptor format): %zu bytes, the sense key is in byte 1", len);
	s->key = b[1] & 0x0f;
	if (len >= 3)
		s->asc = b[2];
	if (len >= 4)
		s->ascq = b[3];
	size_t end = len;
	if (len >= 8 && (size_t)8 + b[7] < len)
		end = (size_t)8 + b[7];
	s->len = end;
	size_t off = 8;
	while (off + 2 <= end) {
		uint8_t type = b[off];
		size_t dlen = (size_t)2 + b[off + 1];
		const uint8_t *d = b + off;
		size_t have = end - off < dlen ? end - off : dlen;
		switch (type) {
		case 0x00: /* information */
			if (have >= 12) {
				s->info_valid = !!(d[2] & 0x80);
				s->info = (int64_t)tp_be64(d + 4);
			}
			break;
		case 0x02: /* sense key specific */
			if (have >= 7) {
				memcpy(s->sks, d + 4, 3);
				s->sks_valid = !!(d[4] & 0x80);
			}
			break;
		case 0x03: /* field replaceable unit */
			if (have >= 4)
				s->fru = d[3];
			break;
		case 0x04: /* stream commands */
			if (have >= 4) {
				s->filemark = !!(d[3] & 0x80);
				s->eom = !!(d[3] & 0x40);
				s->ili = !!(d[3] & 0x20);
			}
			break;
		default:
			break;
		}
		off += dlen;
	}
	return 0;
}

int tp_sense_parse(const uint8_t *buf, size_t len, tp_sense *s, tp_err *err)
{
	memset(s, 0, sizeof(*s));
	if (!buf || len == 0)
		return tp_err_set(err, -TP_EFORMAT, "sense data: empty");
	uint8_t rc = buf[0] & 0x7f;
	s->response_code = rc;
	switch (rc) {
	case 0x70:
	case 0x71:
		s->deferred = rc == 0x71;
		return parse_fixed(buf, len, s, err);
	case 0x72:
	case 0x73:
		s->descriptor = 1;
		s->deferred = rc == 0x73;
		return parse_descriptor(buf, len, s, err);
	default:
		return tp_err_set(err, -TP_EFORMAT,
				  "sense data: response code 0x%02x in byte 0 is neither fixed (70h/71h) nor descriptor (72h/73h)",
				  rc);
	}
}

static enum tp_sense_class classify_no_sense(const tp_sense *s)
{
	if (s->filemark)
		return TP_SENSE_FILEMARK;
	if (s->ili)
		return TP_SENSE_ILI;
	if (s->eom)
		return s->asc == 0 && s->ascq == 0x04 ? TP_SENSE_BOT : TP_SENSE_EARLY_WARNING;
	if (s->asc == 0) {
		switch (s->ascq) {
		case 0x01: return TP_SENSE_FILEMARK;
		case 0x02:
		case 0x07: return TP_SENSE_EARLY_WARNING;
		case 0x04: return TP_SENSE_BOT;
		case 0x05: return TP_SENSE_EOD;
		default: break;
		}
	}
	return TP_SENSE_OK;
}

enum tp_sense_class tp_sense_classify(const tp_sense *s)
{
	switch (s->key) {
	case TP_SK_NO_SENSE:
	case TP_SK_RECOVERED_ERROR:
		return classify_no_sense(s);
	case TP_SK_NOT_READY:
		if (s->asc == 0x3a)
			return TP_SENSE_NO_MEDIUM;
		/* 04/01 becoming ready, 04/04 format, 04/07 operation in progress */
		if (s->asc == 0x04 && (s->ascq == 0x01 || s->ascq == 0x04 || s->ascq == 0x07))
			return TP_SENSE_BECOMING_READY;
		return TP_SENSE_NOT_READY;
	case TP_SK_MEDIUM_ERROR: return TP_SENSE_MEDIUM_ERROR;
	case TP_SK_HARDWARE_ERROR: return TP_SENSE_HARDWARE_ERROR;
	case TP_SK_ILLEGAL_REQUEST: return TP_SENSE_ILLEGAL_REQUEST;
	case TP_SK_UNIT_ATTENTION: return TP_SENSE_UNIT_ATTENTION;
	case TP_SK_DATA_PROTECT: return TP_SENSE_DATA_PROTECT;
	case TP_SK_BLANK_CHECK: return TP_SENSE_EOD;
	case TP_SK_ABORTED_COMMAND: return TP_SENSE_ABORTED;
	case TP_SK_VOLUME_OVERFLOW: return TP_SENSE_VOLUME_OVERFLOW;
	default: return TP_SENSE_OTHER;
	}
}

static const struct {
	const char *name;
	const char *msg;
} class_text[] = {
	[TP_SENSE_OK] = { "ok", "no error" },
	[TP_SENSE_FILEMARK] = { "filemark", "filemark encountered" },
	[TP_SENSE_EARLY_WARNING] = { "early-warning", "early warning: logical end of medium reached" },
	[TP_SENSE_ILI] = { "ili", "incorrect length: block size differs from the requested length" },
	[TP_SENSE_EOD] = { "eod", "end of data (blank check)" },
	[TP_SENSE_BOT] = { "bot", "beginning of medium reached" },
	[TP_SENSE_UNIT_ATTENTION] = { "unit-attention", "unit attention: device was reset or medium changed" },
	[TP_SENSE_NO_MEDIUM] = { "no-medium", "not ready: no medium loaded" },
	[TP_SENSE_BECOMING_READY] = { "becoming-ready", "not ready: device is becoming ready" },
	[TP_SENSE_NOT_READY] = { "not-ready", "device not ready" },
	[TP_SENSE_MEDIUM_ERROR] = { "medium-error", "medium error: unrecoverable read or write error on the tape" },
	[TP_SENSE_HARDWARE_ERROR] = { "hardware-error", "hardware error in the drive or changer" },
	[TP_SENSE_ILLEGAL_REQUEST] = { "illegal-request", "illegal request: command or parameter not supported" },
	[TP_SENSE_DATA_PROTECT] = { "data-protect", "data protect: medium is write protected or key missing" },
	[TP_SENSE_VOLUME_OVERFLOW] = { "volume-overflow", "volume overflow: physical end of medium, data not written" },
	[TP_SENSE_ABORTED] = { "aborted", "command aborted by the device" },
	[TP_SENSE_OTHER] = { "other", "unexpected sense key" },
};

const char *tp_sense_class_message(enum tp_sense_class c)
{
	if ((unsigned)c >= sizeof(class_text) / sizeof(class_text[0]) || !class_text[c].msg)
		return "unknown sense class";
	return class_text[c].msg;
}

const char *tp_sense_class_name(enum tp_sense_class c)
{
	if ((unsigned)c >= sizeof(class_text) / sizeof(class_text[0]) || !class_text[c].name)
		return "unknown";
	return class_text[c].name;
}

const char *tp_sense_key_name(uint8_t key)
{
	static const char *const names[16] = {
		"NO SENSE", "RECOVERED ERROR", "NOT READY", "MEDIUM ERROR",
		"HARDWARE ERROR", "ILLEGAL REQUEST", "UNIT ATTENTION", "DATA PROTECT",
		"BLANK CHECK", "VENDOR SPECIFIC", "COPY ABORTED", "ABORTED COMMAND",
		"OBSOLETE", "VOLUME OVERFLOW", "MISCOMPARE", "RESERVED",
	};
	return names[key & 0x0f];
}

static const struct {
	uint8_t asc, ascq;
	const char *text;
} asc_table[] = {
	{ 0x00, 0x00, "no additional sense information" },
	{ 0x00, 0x01, "filemark detected" },
	{ 0x00, 0x02, "end-of-partition/medium detected" },
	{ 0x00, 0x03, "setmark detected" },
	{ 0x00, 0x04, "beginning-of-partition/medium detected" },
	{ 0x00, 0x05, "end-of-data detected" },
	{ 0x00, 0x07, "programmable early warning detected" },
	{ 0x00, 0x16, "operation in progress" },
	{ 0x00, 0x17, "cleaning requested" },
	{ 0x04, 0x00, "logical unit not ready, cause not reportable" },
	{ 0x04, 0x01, "logical unit is in process of becoming ready" },
	{ 0x04, 0x02, "logical unit not ready, initializing command required" },
	{ 0x04, 0x03, "logical unit not ready, manual intervention required" },
	{ 0x04, 0x04, "logical unit not ready, format in progress" },
	{ 0x04, 0x07, "logical unit not ready, operation in progress" },
	{ 0x04, 0x12, "logical unit not ready, offline" },
	{ 0x08, 0x01, "logical unit communication time-out" },
	{ 0x0c, 0x00, "write error" },
	{ 0x11, 0x00, "unrecovered read error" },
	{ 0x14, 0x00, "recorded entity not found" },
	{ 0x14, 0x03, "end-of-data not found" },
	{ 0x15, 0x01, "mechanical positioning error" },
	{ 0x1a, 0x00, "parameter list length error" },
	{ 0x20, 0x00, "invalid command operation code" },
	{ 0x21, 0x01, "invalid element address" },
	{ 0x24, 0x00, "invalid field in CDB" },
	{ 0x25, 0x00, "logical unit not supported" },
	{ 0x26, 0x00, "invalid field in parameter list" },
	{ 0x27, 0x00, "write protected" },
	{ 0x28, 0x00, "not ready to ready change, medium may have changed" },
	{ 0x28, 0x01, "import or export element accessed" },
	{ 0x29, 0x00, "power on, reset, or bus device reset occurred" },
	{ 0x29, 0x01, "power on occurred" },
	{ 0x2a, 0x01, "mode parameters changed" },
	{ 0x2a, 0x11, "data encryption parameters changed by another I_T nexus" },
	{ 0x2c, 0x00, "command sequence error" },
	{ 0x30, 0x00, "incompatible medium installed" },
	{ 0x30, 0x01, "cannot read medium - unknown format" },
	{ 0x30, 0x02, "cannot read medium - incompatible format" },
	{ 0x30, 0x03, "cleaning cartridge installed" },
	{ 0x30, 0x07, "cleaning failure" },
	{ 0x31, 0x00, "medium format corrupted" },
	{ 0x33, 0x00, "tape length error" },
	{ 0x3a, 0x00, "medium not present" },
	{ 0x3b, 0x00, "sequential positioning error" },
	{ 0x3b, 0x08, "reposition error" },
	{ 0x3b, 0x0d, "medium destination element full" },
	{ 0x3b, 0x0e, "medium source element empty" },
	{ 0x3b, 0x11, "medium magazine not accessible" },
	{ 0x3b, 0x12, "medium magazine removed" },
	{ 0x3f, 0x01, "microcode has been changed" },
	{ 0x44, 0x00, "internal target failure" },
	{ 0x50, 0x00, "write append error" },
	{ 0x52, 0x00, "cartridge fault" },
	{ 0x53, 0x00, "media load or eject failed" },
	{ 0x53, 0x02, "medium removal prevented" },
	{ 0x5d, 0x00, "failure prediction threshold exceeded" },
	{ 0x74, 0x00, "security error" },
	{ 0x74, 0x01, "unable to decrypt data" },
	{ 0x74, 0x02, "unencrypted data encountered while decrypting" },
	{ 0x74, 0x03, "incorrect data encryption key" },
	{ 0x74, 0x04, "cryptographic integrity validation failed" },
	{ 0x74, 0x05, "error decrypting data" },
};

const char *tp_sense_asc_text(uint8_t asc, uint8_t ascq)
{
	for (size_t i = 0; i < sizeof(asc_table) / sizeof(asc_table[0]); i++)
		if (asc_table[i].asc == asc && asc_table[i].ascq == ascq)
			return asc_table[i].text;
	return NULL;
}

char *tp_sense_describe(const tp_sense *s, char *out, size_t cap)
{
	if (!out || cap == 0)
		return out;
	const char *text = tp_sense_asc_text(s->asc, s->ascq);
	int n = snprintf(out, cap, "%s%s %02X/%02X%s%s", s->deferred ? "deferred " : "", tp_sense_key_name(s->key),
			 s->asc, s->ascq, text ? " " : "", text ? text : "");
	if (n < 0 || (size_t)n >= cap)
		return out;
	if (s->filemark || s->eom || s->ili || s->info_valid) {
		size_t at = (size_t)n;
		int m = snprintf(out + at, cap - at, " [%s%s%s", s->filemark ? "FM " : "", s->eom ? "EOM " : "",
				 s->ili ? "ILI " : "");
		if (m < 0 || (size_t)m >= cap - at)
			return out;
		at += (size_t)m;
		if (s->info_valid)
			m = snprintf(out + at, cap - at, "info %lld]", (long long)s->info);
		else if (at > 0 && out[at - 1] == ' ')
			m = snprintf(out + at - 1, cap - at + 1, "]");
		else
			m = snprintf(out + at, cap - at, "]");
		(void)m;
	}
	return out;
}

int64_t tp_sense_residual(const tp_sense *s)
{
	return s->ili && s->info_valid ? s->info : 0;
}

int tp_sense_progress(const tp_sense *s)
{
	if (!s->sks_valid || (s->key != TP_SK_NOT_READY && s->key != TP_SK_NO_SENSE))
		return -1;
	return (int)tp_be16(s->sks + 1);
}
