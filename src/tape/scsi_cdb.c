/* SSC/SMC CDB builders and response parsers (see scsi_cdb.h). */
#include "tape/scsi_cdb.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/hex.h"

static void put_be24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

static uint32_t be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static void init(tp_cdb *c, uint8_t op, uint8_t len, uint8_t dir, uint32_t xfer, const char *name)
{
	memset(c, 0, sizeof(*c));
	c->b[0] = op;
	c->len = len;
	c->dir = dir;
	c->xfer = xfer;
	c->name = name;
}

static int bad_arg(tp_cdb *c, tp_err *err, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int bad_arg(tp_cdb *c, tp_err *err, const char *name, const char *fmt, ...)
{
	memset(c, 0, sizeof(*c));
	char what[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return tp_err_set(err, -EINVAL, "%s CDB: %s", name, what);
}

void tp_cdb_test_unit_ready(tp_cdb *c)
{
	init(c, TP_OP_TEST_UNIT_READY, 6, TP_SCSI_DIR_NONE, 0, "TEST UNIT READY");
}

int tp_cdb_inquiry(tp_cdb *c, int evpd, uint8_t page, uint16_t alloc, tp_err *err)
{
	if (!evpd && page != 0)
		return bad_arg(c, err, "INQUIRY", "page code 0x%02x needs EVPD", page);
	init(c, TP_OP_INQUIRY, 6, TP_SCSI_DIR_IN, alloc, evpd ? "INQUIRY (VPD)" : "INQUIRY");
	c->b[1] = evpd ? 0x01 : 0x00;
	c->b[2] = page;
	tp_put_be16(c->b + 3, alloc);
	return 0;
}

void tp_cdb_request_sense(tp_cdb *c, int desc, uint8_t alloc)
{
	init(c, TP_OP_REQUEST_SENSE, 6, TP_SCSI_DIR_IN, alloc, "REQUEST SENSE");
	c->b[1] = desc ? 0x01 : 0x00;
	c->b[4] = alloc;
}

void tp_cdb_read_block_limits(tp_cdb *c)
{
	init(c, TP_OP_READ_BLOCK_LIMITS, 6, TP_SCSI_DIR_IN, 6, "READ BLOCK LIMITS");
}

int tp_cdb_read6(tp_cdb *c, int fixed, int sili, uint32_t len, tp_err *err)
{
	if (len > 0xffffff)
		return bad_arg(c, err, "READ(6)", "transfer length %u exceeds 24 bits", len);
	if (fixed && sili)
		return bad_arg(c, err, "READ(6)", "SILI must not be combined with FIXED");
	init(c, TP_OP_READ6, 6, TP_SCSI_DIR_IN, fixed ? 0 : len, "READ(6)");
	c->b[1] = (uint8_t)((sili ? 0x02 : 0) | (fixed ? 0x01 : 0));
	put_be24(c->b + 2, len);
	return 0;
}

int tp_cdb_write6(tp_cdb *c, int fixed, uint32_t len, tp_err *err)
{
	if (len > 0xffffff)
		return bad_arg(c, err, "WRITE(6)", "transfer length %u exceeds 24 bits", len);
	init(c, TP_OP_WRITE6, 6, TP_SCSI_DIR_OUT, fixed ? 0 : len, "WRITE(6)");
	c->b[1] = fixed ? 0x01 : 0x00;
	put_be24(c->b + 2, len);
	return 0;
}

int tp_cdb_write_filemarks6(tp_cdb *c, int immed, uint32_t count, tp_err *err)
{
	if (count > 0xffffff)
		return bad_arg(c, err, "WRITE FILEMARKS(6)", "count %u exceeds 24 bits", count);
	init(c, TP_OP_WRITE_FILEMARKS6, 6, TP_SCSI_DIR_NONE, 0, "WRITE FILEMARKS(6)");
	c->b[1] = immed ? 0x01 : 0x00;
	put_be24(c->b + 2, count);
	return 0;
}

int tp_cdb_space6(tp_cdb *c, enum tp_space_code code, int32_t count, tp_err *err)
{
	if ((unsigned)code > TP_SCSI_SPACE_EOD)
		return bad_arg(c, err, "SPACE(6)", "code %u is not blocks/filemarks/sequential filemarks/EOD",
			       (unsigned)code);
	if (count < -0x800000 || count > 0x7fffff)
		return bad_arg(c, err, "SPACE(6)", "count %d does not fit 24-bit two's complement", (int)count);
	init(c, TP_OP_SPACE6, 6, TP_SCSI_DIR_NONE, 0, "SPACE(6)");
	c->b[1] = (uint8_t)code;
	put_be24(c->b + 2, code == TP_SCSI_SPACE_EOD ? 0 : (uint32_t)count & 0xffffff);
	return 0;
}

int tp_cdb_space16(tp_cdb *c, enum tp_space_code code, int64_t count, tp_err *err)
{
	if ((unsigned)code > TP_SCSI_SPACE_EOD)
		return bad_arg(c, err, "SPACE(16)", "code %u is not blocks/filemarks/sequential filemarks/EOD",
			       (unsigned)code);
	init(c, TP_OP_SPACE16, 16, TP_SCSI_DIR_NONE, 0, "SPACE(16)");
	c->b[1] = (uint8_t)code;
	tp_put_be64(c->b + 4, code == TP_SCSI_SPACE_EOD ? 0 : (uint64_t)count);
	return 0;
}

int tp_cdb_locate16(tp_cdb *c, enum tp_locate_dest dest, int immed, int change_partition, uint8_t partition,
		    uint64_t id, tp_err *err)
{
	if (dest != TP_LOCATE_OBJECT && dest != TP_LOCATE_FILEMARK && dest != TP_LOCATE_EOD)
		return bad_arg(c, err, "LOCATE(16)", "destination type %u is not object (0), file (1) or EOD (3)",
			       (unsigned)dest);
	if (!change_partition && partition != 0)
		return bad_arg(c, err, "LOCATE(16)", "partition %u given without CP", partition);
	init(c, TP_OP_LOCATE16, 16, TP_SCSI_DIR_NONE, 0, "LOCATE(16)");
	c->b[1] = (uint8_t)((unsigned)dest << 3 | (change_partition ? 0x02 : 0) | (immed ? 0x01 : 0));
	c->b[3] = partition;
	tp_put_be64(c->b + 4, id);
	return 0;
}

int tp_cdb_read_position(tp_cdb *c, uint8_t service_action, uint16_t alloc, tp_err *err)
{
	uint32_t xfer;
	switch (service_action) {
	case TP_READPOS_SHORT:
	case 0x01:
		xfer = 20;
		alloc = 0;
		break;
	case TP_READPOS_LONG:
		xfer = TP_READPOS_LONG_LEN;
		alloc = 0;
		break;
	case TP_READPOS_EXTENDED:
		xfer = alloc;
		break;
	default:
		return bad_arg(c, err, "READ POSITION", "service action 0x%02x is not 00h, 01h, 06h or 08h",
			       service_action);
	}
	init(c, TP_OP_READ_POSITION, 10, TP_SCSI_DIR_IN, xfer, "READ POSITION");
	c->b[1] = service_action;
	tp_put_be16(c->b + 7, alloc);
	return 0;
}

void tp_cdb_rewind(tp_cdb *c, int immed)
{
	init(c, TP_OP_REWIND, 6, TP_SCSI_DIR_NONE, 0, "REWIND");
	c->b[1] = immed ? 0x01 : 0x00;
}

void tp_cdb_load_unload(tp_cdb *c, int immed, int load, int hold, int eot, int reten)
{
	init(c, TP_OP_LOAD_UNLOAD, 6, TP_SCSI_DIR_NONE, 0, load ? "LOAD" : "UNLOAD");
	c->b[1] = immed ? 0x01 : 0x00;
	c->b[4] = (uint8_t)((hold ? 0x08 : 0) | (eot ? 0x04 : 0) | (reten ? 0x02 : 0) | (load ? 0x01 : 0));
}

void tp_cdb_erase(tp_cdb *c, int immed, int long_erase)
{
	init(c, TP_OP_ERASE6, 6, TP_SCSI_DIR_NONE, 0, "ERASE");
	c->b[1] = (uint8_t)((immed ? 0x02 : 0) | (long_erase ? 0x01 : 0));
}

int tp_cdb_format_medium(tp_cdb *c, int immed, int verify, uint8_t format, uint16_t xfer, tp_err *err)
{
	if (format > 0x0f)
		return bad_arg(c, err, "FORMAT MEDIUM", "format field %u exceeds 4 bits", format);
	init(c, TP_OP_FORMAT_MEDIUM, 6, xfer ? TP_SCSI_DIR_OUT : TP_SCSI_DIR_NONE, xfer, "FORMAT MEDIUM");
	c->b[1] = (uint8_t)((verify ? 0x02 : 0) | (immed ? 0x01 : 0));
	c->b[2] = format;
	tp_put_be16(c->b + 3, xfer);
	return 0;
}

void tp_cdb_prevent_allow(tp_cdb *c, int prevent)
{
	init(c, TP_OP_PREVENT_ALLOW, 6, TP_SCSI_DIR_NONE, 0, prevent ? "PREVENT MEDIUM REMOVAL" : "ALLOW MEDIUM REMOVAL");
	c->b[4] = prevent ? 0x01 : 0x00;
}

static int check_page(tp_cdb *c, tp_err *err, const char *name, uint8_t pc, uint8_t page)
{
	if (pc > 3)
		return bad_arg(c, err, name, "page control %u exceeds 2 bits", pc);
	if (page > 0x3f)
		return bad_arg(c, err, name, "page code 0x%02x exceeds 6 bits", page);
	return 0;
}

int tp_cdb_mode_sense6(tp_cdb *c, int dbd, uint8_t pc, uint8_t page, uint8_t subpage, uint8_t alloc, tp_err *err)
{
	int rc = check_page(c, err, "MODE SENSE(6)", pc, page);
	if (rc < 0)
		return rc;
	init(c, TP_OP_MODE_SENSE6, 6, TP_SCSI_DIR_IN, alloc, "MODE SENSE(6)");
	c->b[1] = dbd ? 0x08 : 0x00;
	c->b[2] = (uint8_t)(pc << 6 | page);
	c->b[3] = subpage;
	c->b[4] = alloc;
	return 0;
}

int tp_cdb_mode_sense10(tp_cdb *c, int dbd, uint8_t pc, uint8_t page, uint8_t subpage, uint16_t alloc,
			tp_err *err)
{
	int rc = check_page(c, err, "MODE SENSE(10)", pc, page);
	if (rc < 0)
		return rc;
	init(c, TP_OP_MODE_SENSE10, 10, TP_SCSI_DIR_IN, alloc, "MODE SENSE(10)");
	c->b[1] = dbd ? 0x08 : 0x00;
	c->b[2] = (uint8_t)(pc << 6 | page);
	c->b[3] = subpage;
	tp_put_be16(c->b + 7, alloc);
	return 0;
}

void tp_cdb_mode_select6(tp_cdb *c, int pf, int sp, uint8_t len)
{
	init(c, TP_OP_MODE_SELECT6, 6, TP_SCSI_DIR_OUT, len, "MODE SELECT(6)");
	c->b[1] = (uint8_t)((pf ? 0x10 : 0) | (sp ? 0x01 : 0));
	c->b[4] = len;
}

void tp_cdb_mode_select10(tp_cdb *c, int pf, int sp, uint16_t len)
{
	init(c, TP_OP_MODE_SELECT10, 10, TP_SCSI_DIR_OUT, len, "MODE SELECT(10)");
	c->b[1] = (uint8_t)((pf ? 0x10 : 0) | (sp ? 0x01 : 0));
	tp_put_be16(c->b + 7, len);
}

void tp_cdb_report_density_support(tp_cdb *c, int media, int medium_type, uint16_t alloc)
{
	init(c, TP_OP_REPORT_DENSITY_SUPPORT, 10, TP_SCSI_DIR_IN, alloc, "REPORT DENSITY SUPPORT");
	c->b[1] = (uint8_t)((medium_type ? 0x02 : 0) | (media ? 0x01 : 0));
	tp_put_be16(c->b + 7, alloc);
}

int tp_cdb_log_sense(tp_cdb *c, int sp, uint8_t pc, uint8_t page, uint8_t subpage, uint16_t param_ptr,
		     uint16_t alloc, tp_err *err)
{
	int rc = check_page(c, err, "LOG SENSE", pc, page);
	if (rc < 0)
		return rc;
	init(c, TP_OP_LOG_SENSE, 10, TP_SCSI_DIR_IN, alloc, "LOG SENSE");
	c->b[1] = sp ? 0x01 : 0x00;
	c->b[2] = (uint8_t)(pc << 6 | page);
	c->b[3] = subpage;
	tp_put_be16(c->b + 5, param_ptr);
	tp_put_be16(c->b + 7, alloc);
	return 0;
}

void tp_cdb_read_attribute(tp_cdb *c, uint8_t service_action, uint8_t volume, uint8_t partition,
			   uint16_t first_id, uint32_t alloc)
{
	init(c, TP_OP_READ_ATTRIBUTE, 16, TP_SCSI_DIR_IN, alloc, "READ ATTRIBUTE");
	c->b[1] = service_action & 0x1f;
	c->b[5] = volume;
	c->b[7] = partition;
	tp_put_be16(c->b + 8, first_id);
	tp_put_be32(c->b + 10, alloc);
}

void tp_cdb_write_attribute(tp_cdb *c, int wtc, uint8_t volume, uint8_t partition, uint32_t len)
{
	init(c, TP_OP_WRITE_ATTRIBUTE, 16, TP_SCSI_DIR_OUT, len, "WRITE ATTRIBUTE");
	c->b[1] = wtc ? 0x01 : 0x00;
	c->b[5] = volume;
	c->b[7] = partition;
	tp_put_be32(c->b + 10, len);
}

void tp_cdb_security_protocol_in(tp_cdb *c, uint8_t protocol, uint16_t specific, uint32_t alloc)
{
	init(c, TP_OP_SECURITY_PROTOCOL_IN, 12, TP_SCSI_DIR_IN, alloc, "SECURITY PROTOCOL IN");
	c->b[1] = protocol;
	tp_put_be16(c->b + 2, specific);
	tp_put_be32(c->b + 6, alloc);
}

void tp_cdb_security_protocol_out(tp_cdb *c, uint8_t protocol, uint16_t specific, uint32_t len)
{
	init(c, TP_OP_SECURITY_PROTOCOL_OUT, 12, TP_SCSI_DIR_OUT, len, "SECURITY PROTOCOL OUT");
	c->b[1] = protocol;
	tp_put_be16(c->b + 2, specific);
	tp_put_be32(c->b + 6, len);
}

int tp_cdb_read_element_status(tp_cdb *c, enum tp_element_type type, int voltag, uint16_t start, uint16_t count,
			       int curdata, int dvcid, uint32_t alloc, tp_err *err)
{
	if ((unsigned)type > TP_ELEM_DRIVE)
		return bad_arg(c, err, "READ ELEMENT STATUS", "element type %u is not 0..4", (unsigned)type);
	if (alloc > 0xffffff)
		return bad_arg(c, err, "READ ELEMENT STATUS", "allocation length %u exceeds 24 bits", alloc);
	init(c, TP_OP_READ_ELEMENT_STATUS, 12, TP_SCSI_DIR_IN, alloc, "READ ELEMENT STATUS");
	c->b[1] = (uint8_t)((voltag ? 0x10 : 0) | (unsigned)type);
	tp_put_be16(c->b + 2, start);
	tp_put_be16(c->b + 4, count);
	c->b[6] = (uint8_t)((curdata ? 0x02 : 0) | (dvcid ? 0x01 : 0));
	put_be24(c->b + 7, alloc);
	return 0;
}

void tp_cdb_move_medium(tp_cdb *c, uint16_t transport, uint16_t src, uint16_t dst, int invert)
{
	init(c, TP_OP_MOVE_MEDIUM, 12, TP_SCSI_DIR_NONE, 0, "MOVE MEDIUM");
	tp_put_be16(c->b + 2, transport);
	tp_put_be16(c->b + 4, src);
	tp_put_be16(c->b + 6, dst);
	c->b[10] = invert ? 0x01 : 0x00;
}

void tp_cdb_initialize_element_status(tp_cdb *c)
{
	init(c, TP_OP_INITIALIZE_ELEMENT_STATUS, 6, TP_SCSI_DIR_NONE, 0, "INITIALIZE ELEMENT STATUS");
}

char *tp_cdb_hex(const tp_cdb *c, char *out, size_t cap)
{
	if (!out || cap == 0)
		return out;
	out[0] = 0;
	size_t at = 0;
	for (size_t i = 0; i < c->len && i < sizeof(c->b) && at + 4 <= cap; i++)
		at += (size_t)snprintf(out + at, cap - at, i ? " %02x" : "%02x", c->b[i]);
	return out;
}

/* ===================== parsers ===================== */

/* Copies a fixed-width text field, dropping trailing (and optionally leading) blanks and NULs. */
static void copy_text(char *dst, size_t cap, const uint8_t *src, size_t n, int trim_leading)
{
	size_t a = 0, e = n;
	while (e > 0 && (src[e - 1] == ' ' || src[e - 1] == 0))
		e--;
	if (trim_leading)
		while (a < e && (src[a] == ' ' || src[a] == 0))
			a++;
	size_t o = 0;
	for (size_t i = a; i < e && o + 1 < cap; i++)
		dst[o++] = src[i] >= 0x20 && src[i] < 0x7f ? (char)src[i] : '?';
	if (cap)
		dst[o] = 0;
}

static uint64_t be_uint(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	if (n > 8) {
		p += n - 8;
		n = 8;
	}
	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

int tp_inquiry_parse(const uint8_t *b, size_t len, tp_inquiry *out, tp_err *err)
{
	memset(out, 0, sizeof(*out));
	if (len < 8)
		return tp_err_set(err, -TP_EFORMAT, "INQUIRY data: %zu bytes, need at least 8", len);
	out->qualifier = b[0] >> 5;
	out->type = b[0] & 0x1f;
	out->removable = !!(b[1] & 0x80);
	out->version = b[2];
	if (len >= 16)
		copy_text(out->vendor, sizeof(out->vendor), b + 8, 8, 0);
	if (len >= 32)
		copy_text(out->product, sizeof(out->product), b + 16, 16, 0);
	if (len >= 36)
		copy_text(out->revision, sizeof(out->revision), b + 32, 4, 0);
	return 0;
}

int tp_vpd_serial_parse(const uint8_t *b, size_t len, char *serial, size_t cap, tp_err *err)
{
	if (cap)
		serial[0] = 0;
	if (len < 4)
		return tp_err_set(err, -TP_EFORMAT, "VPD page 80h: %zu bytes, need the 4-byte header", len);
	if (b[1] != 0x80)
		return tp_err_set(err, -TP_EFORMAT, "VPD page 80h: byte 1 says page 0x%02x", b[1]);
	size_t n = tp_be16(b + 2);
	if (n > len - 4)
		n = len - 4;
	copy_text(serial, cap, b + 4, n, 1);
	return 0;
}

int tp_block_limits_parse(const uint8_t *b, size_t len, tp_block_limits *out, tp_err *err)
{
	memset(out, 0, sizeof(*out));
	if (len < 6)
		return tp_err_set(err, -TP_EFORMAT, "READ BLOCK LIMITS data: %zu bytes, need 6", len);
	out->granularity = b[0] & 0x1f;
	out->max_block = be24(b + 1);
	out->min_block = tp_be16(b + 4);
	return 0;
}

int tp_position_parse_long(const uint8_t *b, size_t len, tp_position *out, tp_err *err)
{
	memset(out, 0, sizeof(*out));
	if (len < TP_READPOS_LONG_LEN)
		return tp_err_set(err, -TP_EFORMAT, "READ POSITION long form: %zu bytes, need 32", len);
	out->bop = !!(b[0] & 0x80);
	out->eop = !!(b[0] & 0x40);
	out->mpu = !!(b[0] & 0x08);
	out->lonu = !!(b[0] & 0x04);
	out->partition = tp_be32(b + 4);
	out->object = tp_be64(b + 8);
	out->file = tp_be64(b + 16);
	return 0;
}

int tp_mode_parse(const uint8_t *b, size_t len, int ten, tp_mode_data *out, tp_err *err)
{
	memset(out, 0, sizeof(*out));
	out->ten = !!ten;
	size_t hdr = ten ? 8 : 4;
	const char *what = ten ? "MODE SENSE(10) data" : "MODE SENSE(6) data";
	if (len < hdr)
		return tp_err_set(err, -TP_EFORMAT, "%s: %zu bytes, the header needs %zu", what, len, hdr);
	size_t bdl;
	if (ten) {
		out->data_len = tp_be16(b);
		out->medium_type = b[2];
		out->device_specific = b[3];
		bdl = tp_be16(b + 6);
	} else {
		out->data_len = b[0];
		out->medium_type = b[1];
		out->device_specific = b[2];
		bdl = b[3];
	}
	size_t end = (size_t)out->data_len + (ten ? 2 : 1);
	if (end > len)
		end = len;
	if (end < hdr)
		return tp_err_set(err, -TP_EFORMAT, "%s: mode data length %u is shorter than the header", what,
				  out->data_len);
	out->write_protected = !!(out->device_specific & 0x80);
	out->buffered_mode = (out->device_specific >> 4) & 0x07;
	if (hdr + bdl > end)
		return tp_err_set(err, -TP_EFORMAT, "%s: block descriptor length %zu at byte %zu overruns %zu bytes",
				  what, bdl, hdr - 2, end);
	if (bdl >= 8) {
		const uint8_t *d = b + hdr;
		out->has_block_desc = 1;
		out->density = d[0];
		out->num_blocks = be24(d + 1);
		out->block_len = be24(d + 5);
	}
	out->pages_off = hdr + bdl;
	out->end = end;
	return 0;
}

int tp_mode_find_page(const uint8_t *b, const tp_mode_data *md, uint8_t page, uint8_t subpage,
		      const uint8_t **pg, size_t *plen, tp_err *err)
{
	size_t p = md->pages_off;
	while (p + 2 <= md->end) {
		uint8_t code = b[p] & 0x3f;
		uint8_t sub = 0;
		size_t n;
		if (b[p] & 0x40) {
			if (p + 4 > md->end)
				break;
			sub = b[p + 1];
			n = 4 + (size_t)tp_be16(b + p + 2);
		} else {
			n = 2 + (size_t)b[p + 1];
		}
		if (code == page && sub == subpage) {
			if (p + n > md->end)
				return tp_err_set(err, -TP_EFORMAT,
						  "mode page 0x%02x at byte %zu: length %zu overruns the %zu bytes of mode data",
						  page, p, n, md->end);
			*pg = b + p;
			*plen = n;
			return 0;
		}
		p += n;
	}
	return tp_err_set(err, -TP_ENOTFOUND, "mode page 0x%02x/%02x not in the MODE SENSE data", page, subpage);
}

int tp_compression_page_parse(const uint8_t *pg, size_t len, tp_compression_page *out, tp_err *err)
{
	memset(out, 0, sizeof(*out));
	if (len < 2 || (pg[0] & 0x3f) != TP_MODE_PAGE_COMPRESSION)
		return tp_err_set(err, -TP_EFORMAT, "data compression page: not page 0Fh");
	if (len < TP_MODE_PAGE_COMPRESSION_LEN || pg[1] < 0x0e)
		return tp_err_set(err, -TP_EFORMAT, "data compression page: %zu bytes (page length %u), need 16", len,
				  pg[1]);
	out->dce = !!(pg[2] & 0x80);
	out->dcc = !!(pg[2] & 0x40);
	out->dde = !!(pg[3] & 0x80);
	out->red = (pg[3] >> 5) & 0x03;
	out->compression_alg = tp_be32(pg + 4);
	out->decompression_alg = tp_be32(pg + 8);
	return 0;
}

void tp_compression_page_encode(const tp_compression_page *p, uint8_t out[16])
{
	memset(out, 0, 16);
	out[0] = TP_MODE_PAGE_COMPRESSION;
	out[1] = 0x0e;
	out[2] = (uint8_t)((p->dce ? 0x80 : 0) | (p->dcc ? 0x40 : 0));
	out[3] = (uint8_t)((p->dde ? 0x80 : 0) | (p->red & 0x03) << 5);
	tp_put_be32(out + 4, p->compression_alg);
	tp_put_be32(out + 8, p->decompression_alg);
}

int tp_mode_select_build(int ten, uint8_t buffered_mode, int with_block_desc, uint8_t density, uint32_t block_len,
			 const uint8_t *page, size_t page_len, uint8_t *out, size_t cap, tp_err *err)
{
	size_t hdr = ten ? 8 : 4;
	size_t total = hdr + (with_block_desc ? 8 : 0) + page_len;
	if (block_len > 0xffffff)
		return tp_err_set(err, -EINVAL, "MODE SELECT list: block length %u exceeds 24 bits", block_len);
	if (!ten && total > 0xff)
		return tp_err_set(err, -EINVAL, "MODE SELECT(6) list: %zu bytes exceed 255", total);
	if (total > 0xffff)
		return tp_err_set(err, -EINVAL, "MODE SELECT(10) list: %zu bytes exceed 65535", total);
	if (total > cap)
		return tp_err_set(err, -ENOSPC, "MODE SELECT list: %zu bytes do not fit %zu", total, cap);
	memset(out, 0, hdr);
	uint8_t dev = (uint8_t)((buffered_mode & 0x07) << 4);
	if (ten) {
		out[3] = dev;
		tp_put_be16(out + 6, with_block_desc ? 8 : 0);
	} else {
		out[2] = dev;
		out[3] = with_block_desc ? 8 : 0;
	}
	size_t p = hdr;
	if (with_block_desc) {
		memset(out + p, 0, 8);
		out[p] = density;
		put_be24(out + p + 5, block_len);
		p += 8;
	}
	if (page_len) {
		memcpy(out + p, page, page_len);
		out[p] &= 0x7f; /* PS is reserved in MODE SELECT */
	}
	return (int)total;
}

int tp_element_addresses_parse(const uint8_t *pg, size_t len, tp_element_addresses *out, tp_err *err)
{
	memset(out, 0, sizeof(*out));
	if (len < 2 || (pg[0] & 0x3f) != TP_MODE_PAGE_ELEMENT_ADDRESS)
		return tp_err_set(err, -TP_EFORMAT, "element address assignment page: not page 1Dh");
	if (len < 18 || pg[1] < 0x10)
		return tp_err_set(err, -TP_EFORMAT,
				  "element address assignment page: %zu bytes (page length %u), need 18", len, pg[1]);
	out->transport_first = tp_be16(pg + 2);
	out->transport_count = tp_be16(pg + 4);
	out->storage_first = tp_be16(pg + 6);
	out->storage_count = tp_be16(pg + 8);
	out->ie_first = tp_be16(pg + 10);
	out->ie_count = tp_be16(pg + 12);
	out->drive_first = tp_be16(pg + 14);
	out->drive_count = tp_be16(pg + 16);
	return 0;
}

/* ---- density ---- */

#define DENSITY_DESC_LEN 52

int tp_density_report_parse(const uint8_t *b, size_t len, tp_density_desc *out, size_t max, tp_err *err)
{
	if (len < 4)
		return tp_err_set(err, -TP_EFORMAT, "REPORT DENSITY SUPPORT data: %zu bytes, need the 4-byte header",
				  len);
	size_t end = 2 + (size_t)tp_be16(b);
	if (end > len)
		end = len;
	size_t p = 4, n = 0;
	while (p + 5 <= end && n < max) {
		const uint8_t *d = b + p;
		size_t dlen = DENSITY_DESC_LEN;
		if (d[2] & 0x01) /* DLV: the descriptor length field is valid */
			dlen = 3 + (size_t)tp_be16(d + 3);
		if (dlen < DENSITY_DESC_LEN)
			return tp_err_set(err, -TP_EFORMAT,
					  "REPORT DENSITY SUPPORT: descriptor at byte %zu has length %zu, need 52", p, dlen);
		if (p + DENSITY_DESC_LEN > end)
			break; /* cut by the allocation length */
		tp_density_desc *o = &out[n++];
		memset(o, 0, sizeof(*o));
		o->primary = d[0];
		o->secondary = d[1];
		o->wrtok = !!(d[2] & 0x80);
		o->dup = !!(d[2] & 0x40);
		o->deflt = !!(d[2] & 0x20);
		o->bits_per_mm = be24(d + 5);
		o->media_width = tp_be16(d + 8);
		o->tracks = tp_be16(d + 10);
		o->capacity_mb = tp_be32(d + 12);
		copy_text(o->organization, sizeof(o->organization), d + 16, 8, 0);
		copy_text(o->name, sizeof(o->name), d + 24, 8, 0);
		copy_text(o->description, sizeof(o->description), d + 32, 20, 0);
		p += dlen;
	}
	return (int)n;
}

int tp_density_lto_generation(uint8_t density)
{
	switch (density) {
	case 0x40: return 1;
	case 0x42: return 2;
	case 0x44: return 3;
	case 0x46: return 4;
	case 0x58: return 5;
	case 0x5a: return 6;
	case 0x5c: return 7;
	case 0x5d: return 8; /* LTO-7 type M (M8): the LTO-8 format on an LTO-7 cartridge */
	case 0x5e: return 8;
	case 0x60: return 9;
	default: return 0;
	}
}

int tp_density_report_max_generation(const tp_density_desc *d, size_t n)
{
	int best = 0;
	for (size_t i = 0; i < n; i++) {
		int g = tp_density_lto_generation(d[i].primary);
		if (g > best)
			best = g;
	}
	return best;
}

/* ---- log pages ---- */

int tp_log_page_walk(const uint8_t *b, size_t len, int page_code, tp_log_param_fn fn, void *ctx, tp_err *err)
{
	if (len < 4)
		return tp_err_set(err, -TP_EFORMAT, "log page: %zu bytes, need the 4-byte header", len);
	if (page_code >= 0 && (b[0] & 0x3f) != page_code)
		return tp_err_set(err, -TP_EFORMAT, "log page: got page 0x%02x, expected 0x%02x", b[0] & 0x3f,
				  page_code);
	size_t declared = 4 + (size_t)tp_be16(b + 2);
	int cut = declared > len; /* allocation length smaller than the page */
	size_t end = cut ? len : declared;
	size_t p = 4;
	while (p < end) {
		if (p + 4 > end) {
			if (cut)
				break;
			return tp_err_set(err, -TP_EFORMAT, "log page 0x%02x: parameter header at byte %zu overruns %zu",
					  b[0] & 0x3f, p, end);
		}
		uint16_t code = tp_be16(b + p);
		size_t vlen = b[p + 3];
		if (p + 4 + vlen > end) {
			if (cut)
				break;
			return tp_err_set(err, -TP_EFORMAT,
					  "log page 0x%02x: parameter 0x%04x at byte %zu (length %zu) overruns %zu",
					  b[0] & 0x3f, code, p, vlen, end);
		}
		if (fn(ctx, code, b[p + 2], b + p + 4, vlen))
			break;
		p += 4 + vlen;
	}
	return 0;
}

struct ta_ctx {
	uint64_t flags;
	int bitmap;
	int bad_len;
};

static int ta_param(void *ctx, uint16_t code, uint8_t control, const uint8_t *v, size_t vlen)
{
	struct ta_ctx *t = ctx;
	(void)control;
	if (t->bitmap) {
		if (code != 0)
			return 0;
		if (vlen < 8) {
			t->bad_len = 1;
			return 1;
		}
		for (int n = 1; n <= 64; n++)
			if (v[(n - 1) / 8] & (0x80 >> ((n - 1) % 8)))
				t->flags |= 1ULL << (n - 1);
		return 1;
	}
	if (code >= 1 && code <= 64 && vlen >= 1 && (v[0] & 0x01))
		t->flags |= 1ULL << (code - 1);
	return 0;
}

int tp_tapealert_parse(const uint8_t *b, size_t len, uint64_t *flags, tp_err *err)
{
	*flags = 0;
	if (len < 4)
		return tp_err_set(err, -TP_EFORMAT, "TapeAlert page: %zu bytes, need the 4-byte header", len);
	struct ta_ctx t = { 0, 0, 0 };
	uint8_t page = b[0] & 0x3f;
	if (page == TP_LOG_PAGE_TAPEALERT_RESPONSE)
		t.bitmap = 1;
	else if (page != TP_LOG_PAGE_TAPEALERT)
		return tp_err_set(err, -TP_EFORMAT, "TapeAlert page: got log page 0x%02x, expected 0x2e or 0x12",
				  page);
	int rc = tp_log_page_walk(b, len, page, ta_param, &t, err);
	if (rc < 0)
		return rc;
	if (t.bad_len)
		return tp_err_set(err, -TP_EFORMAT, "TapeAlert response page 0x12: flag bitmap shorter than 8 bytes");
	*flags = t.flags;
	return 0;
}

const char *tp_tapealert_name(int flag)
{
	static const char *const names[65] = {
		[1] = "Read warning", [2] = "Write warning", [3] = "Hard error", [4] = "Media",
		[5] = "Read failure", [6] = "Write failure", [7] = "Media life", [8] = "Not data grade",
		[9] = "Write protect", [10] = "No removal", [11] = "Cleaning media", [12] = "Unsupported format",
		[13] = "Recoverable mechanical cartridge failure", [14] = "Unrecoverable mechanical cartridge failure",
		[15] = "Memory chip in cartridge failure", [16] = "Forced eject", [17] = "Read only format",
		[18] = "Tape directory corrupted on load", [19] = "Nearing media life", [20] = "Clean now",
		[21] = "Clean periodic", [22] = "Expired cleaning media", [23] = "Invalid cleaning tape",
		[24] = "Retension requested", [25] = "Dual-port interface error", [26] = "Cooling fan failure",
		[27] = "Power supply failure", [28] = "Power consumption", [29] = "Drive maintenance",
		[30] = "Hardware A", [31] = "Hardware B", [32] = "Interface", [33] = "Eject media",
		[34] = "Microcode update fail", [35] = "Drive humidity", [36] = "Drive temperature",
		[37] = "Drive voltage", [38] = "Predictive failure", [39] = "Diagnostics required",
		[49] = "Diminished native capacity", [50] = "Lost statistics",
		[51] = "Tape directory invalid at unload", [52] = "Tape system area write failure",
		[53] = "Tape system area read failure", [54] = "No start of data", [55] = "Loading failure",
		[56] = "Unrecoverable unload failure", [57] = "Automation interface failure",
		[58] = "Firmware failure", [59] = "WORM medium - integrity check failed",
		[60] = "WORM medium - overwrite attempted",
	};
	if (flag < 1 || flag > 64 || !names[flag])
		return "Unknown";
	return names[flag];
}

char tp_tapealert_severity(int flag)
{
	/* SSC-3 annex A (TapeAlert): severity per flag 1..60; 40-48 are obsolete loader flags */
	static const char sev[] = "WWWCCCWWCIIICCWCWWICWCCWWWWWWCCWCWWWWCW"
				  "WWWWWWWWW"
				  "IWWCCCCCCWWW";
	if (flag < 1 || flag > (int)(sizeof(sev) - 1))
		return 'W';
	return sev[flag - 1];
}

uint64_t tp_tapealert_critical_mask(void)
{
	uint64_t m = 0;
	for (int f = 1; f <= 64; f++)
		if (tp_tapealert_severity(f) == 'C')
			m |= 1ull << (f - 1);
	return m;
}

static int vs_param(void *ctx, uint16_t code, uint8_t control, const uint8_t *v, size_t vlen)
{
	tp_volume_stats *s = ctx;
	(void)control;
	uint64_t x = be_uint(v, vlen);
	switch (code) {
	case 0x0001: s->volume_mounts = x; break;
	case 0x0002: s->volume_datasets_written = x; break;
	case 0x0003: s->volume_recovered_write_data_errors = x; break;
	case 0x0004: s->volume_unrecovered_write_data_errors = x; break;
	case 0x0005: s->volume_write_servo_errors = x; break;
	case 0x0006: s->volume_unrecovered_write_servo_errors = x; break;
	case 0x0007: s->volume_datasets_read = x; break;
	case 0x0008: s->volume_recovered_read_errors = x; break;
	case 0x0009: s->volume_unrecovered_read_errors = x; break;
	case 0x000c: s->last_mount_unrecovered_write_errors = x; break;
	case 0x000d: s->last_mount_unrecovered_read_errors = x; break;
	case 0x000e: s->last_mount_bytes_written = x * 1000000u; break;
	case 0x000f: s->last_mount_bytes_read = x * 1000000u; break;
	case 0x0010: s->lifetime_bytes_written = x * 1000000u; break;
	case 0x0011: s->lifetime_bytes_read = x * 1000000u; break;
	case 0x0012: s->last_load_write_compression_ratio = x; break;
	case 0x0013: s->last_load_read_compression_ratio = x; break;
	case 0x0014: s->medium_mount_time = x; break;
	case 0x0015: s->medium_ready_time = x; break;
	case 0x0016: s->total_native_capacity = x; break;
	case 0x0017: s->total_used_native_capacity = x; break;
	case 0x0040: copy_text(s->serial, sizeof(s->serial), v, vlen, 1); break;
	case 0x0080: s->write_protect = x != 0; break;
	case 0x0081: s->worm = x != 0; break;
	case 0x0101: s->beginning_of_medium_passes = x; break;
	case 0x0102: s->middle_of_tape_passes = x; break;
	default: break;
	}
	return 0;
}

int tp_volume_stats_parse(const uint8_t *b, size_t len, tp_volume_stats *out, tp_err *err)
{
	memset(out, 0, sizeof(*out));
	return tp_log_page_walk(b, len, TP_LOG_PAGE_VOLUME_STATS, vs_param, out, err);
}

/* ---- MAM ---- */

int tp_mam_parse(const uint8_t *b, size_t len, tp_mam_fn fn, void *ctx, tp_err *err)
{
	if (len < 4)
		return tp_err_set(err, -TP_EFORMAT, "READ ATTRIBUTE data: %zu bytes, need the 4-byte header", len);
	size_t end = 4 + (size_t)tp_be32(b);
	if (end > len || end < 4)
		end = len;
	size_t p = 4;
	int n = 0;
	while (p + 5 <= end) {
		tp_mam_attr a;
		a.id = tp_be16(b + p);
		a.read_only = !!(b[p + 2] & 0x80);
		a.format = b[p + 2] & 0x03;
		a.len = tp_be16(b + p + 3);
		if (p + 5 + a.len > end)
			break; /* cut by the allocation length */
		a.value = b + p + 5;
		n++;
		if (fn(ctx, &a))
			break;
		p += 5 + (size_t)a.len;
	}
	return n;
}

int tp_mam_append(uint8_t *out, size_t cap, size_t *used, uint16_t id, uint8_t format, const void *value,
		  size_t vlen, uint16_t attr_len, tp_err *err)
{
	if (format > TP_MAM_TEXT)
		return tp_err_set(err, -EINVAL, "MAM attribute 0x%04x: format %u is not binary/ascii/text", id, format);
	if (vlen > attr_len)
		return tp_err_set(err, -EINVAL, "MAM attribute 0x%04x: value of %zu bytes exceeds its length %u", id,
				  vlen, attr_len);
	if (*used < 4) {
		if (cap < 4)
			return tp_err_set(err, -ENOSPC, "MAM parameter list: %zu bytes cannot hold the header", cap);
		memset(out, 0, 4);
		*used = 4;
	}
	if (*used + 5 + attr_len > cap)
		return tp_err_set(err, -ENOSPC, "MAM attribute 0x%04x: parameter list full (%zu of %zu bytes)", id,
				  *used, cap);
	uint8_t *p = out + *used;
	tp_put_be16(p, id);
	p[2] = format;
	tp_put_be16(p + 3, attr_len);
	/* SPC: ASCII attributes are space padded, binary and text zero padded. */
	memset(p + 5, format == TP_MAM_ASCII ? ' ' : 0, attr_len);
	if (vlen)
		memcpy(p + 5, value, vlen);
	*used += 5 + (size_t)attr_len;
	return 0;
}

void tp_mam_finish(uint8_t *out, size_t used)
{
	tp_put_be32(out, used >= 4 ? (uint32_t)(used - 4) : 0);
}

/* ---- encryption ---- */

int tp_spout_set_encryption_build(uint8_t enc_mode, uint8_t dec_mode, uint8_t alg_index, const uint8_t *key,
				  size_t key_len, uint8_t *out, size_t cap, tp_err *err)
{
	if (key_len > 0xffff || (key_len && !key))
		return tp_err_set(err, -EINVAL, "Set Data Encryption page: key of %zu bytes", key_len);
	if (enc_mode > 2 || dec_mode > 3)
		return tp_err_set(err, -EINVAL, "Set Data Encryption page: encryption mode %u / decryption mode %u",
				  enc_mode, dec_mode);
	size_t total = 20 + key_len;
	if (total > cap)
		return tp_err_set(err, -ENOSPC, "Set Data Encryption page: %zu bytes do not fit %zu", total, cap);
	memset(out, 0, 20);
	tp_put_be16(out, TP_SPOUT_PAGE_SET_DATA_ENCRYPTION);
	tp_put_be16(out + 2, (uint16_t)(total - 4));
	out[4] = 0x40; /* scope: all I_T nexus */
	out[6] = enc_mode;
	out[7] = dec_mode;
	out[8] = alg_index;
	tp_put_be16(out + 18, (uint16_t)key_len);
	if (key_len)
		memcpy(out + 20, key, key_len);
	return (int)total;
}

int tp_spin_status_parse(const uint8_t *b, size_t len, tp_enc_status *out, tp_err *err)
{
	memset(out, 0, sizeof(*out));
	if (len < 4)
		return tp_err_set(err, -TP_EFORMAT, "data encryption status page: %zu bytes, need the header", len);
	if (tp_be16(b) != TP_SPIN_PAGE_STATUS)
		return tp_err_set(err, -TP_EFORMAT, "data encryption status page: got page 0x%04x, expected 0x0020",
				  tp_be16(b));
	size_t end = 4 + (size_t)tp_be16(b + 2);
	if (end > len)
		end = len;
	if (end < 13)
		return tp_err_set(err, -TP_EFORMAT, "data encryption status page: %zu bytes, need 13", end);
	out->it_nexus_scope = b[4] >> 5;
	out->key_scope = b[4] & 0x07;
	out->enc_mode = b[5];
	out->dec_mode = b[6];
	out->alg_index = b[7];
	out->key_instance = tp_be32(b + 8);
	out->vcelb = !!(b[12] & 0x08);
	out->ceems = (b[12] >> 1) & 0x03;
	out->rdmd = !!(b[12] & 0x01);
	return 0;
}

int tp_spin_capabilities_parse(const uint8_t *b, size_t len, tp_enc_alg *out, size_t max, uint8_t *cfg_p,
			       tp_err *err)
{
	if (len < 20)
		return tp_err_set(err, -TP_EFORMAT, "data encryption capabilities page: %zu bytes, need 20", len);
	if (tp_be16(b) != TP_SPIN_PAGE_CAPABILITIES)
		return tp_err_set(err, -TP_EFORMAT,
				  "data encryption capabilities page: got page 0x%04x, expected 0x0010", tp_be16(b));
	if (cfg_p)
		*cfg_p = b[4] & 0x03;
	size_t end = 4 + (size_t)tp_be16(b + 2);
	if (end > len)
		end = len;
	size_t p = 20, n = 0;
	while (p + 4 <= end && n < max) {
		const uint8_t *d = b + p;
		size_t dlen = 4 + (size_t)tp_be16(d + 2);
		if (dlen < 24)
			return tp_err_set(err, -TP_EFORMAT,
					  "data encryption capabilities: algorithm descriptor at byte %zu has %zu bytes, need 24",
					  p, dlen);
		if (p + 24 > end)
			return tp_err_set(err, -TP_EFORMAT,
					  "data encryption capabilities: algorithm descriptor at byte %zu overruns %zu", p, end);
		tp_enc_alg *a = &out[n++];
		memset(a, 0, sizeof(*a));
		a->index = d[0];
		a->avfmv = !!(d[4] & 0x80);
		a->sdk_c = !!(d[4] & 0x40);
		a->mac_c = !!(d[4] & 0x20);
		a->delb_c = !!(d[4] & 0x10);
		a->decrypt_c = (d[4] >> 2) & 0x03;
		a->encrypt_c = d[4] & 0x03;
		a->key_size = tp_be16(d + 10);
		a->alg_code = tp_be32(d + 20);
		p += dlen;
	}
	return (int)n;
}

int tp_spin_find_aes_gcm(const tp_enc_alg *algs, size_t n, tp_err *err)
{
	for (size_t i = 0; i < n; i++)
		if (algs[i].alg_code == TP_ENC_ALG_AES256_GCM && algs[i].key_size == 32 && algs[i].encrypt_c == 2 &&
		    algs[i].decrypt_c == 2)
			return algs[i].index;
	return tp_err_set(err, -TP_ENOTFOUND,
			  "drive offers no AES-256-GCM algorithm with a 32-byte key and hardware encryption (%zu algorithms)",
			  n);
}

/* ---- READ ELEMENT STATUS ---- */

static void parse_dvcid(tp_element *e, const uint8_t *d, size_t avail)
{
	if (avail < 4)
		return;
	size_t n = d[3];
	if (n > avail - 4)
		n = avail - 4;
	if ((d[0] & 0x0f) == 2 || (d[0] & 0x0f) == 3) /* ASCII or UTF-8 */
		copy_text(e->dvcid, sizeof(e->dvcid), d + 4, n, 1);
	else {
		if (n > (sizeof(e->dvcid) - 1) / 2)
			n = (sizeof(e->dvcid) - 1) / 2;
		tp_hex_encode(d + 4, n, e->dvcid);
	}
}

int tp_element_status_parse(const uint8_t *b, size_t len, tp_element **out, size_t *n, tp_err *err)
{
	*out = NULL;
	*n = 0;
	if (len < 8)
		return tp_err_set(err, -TP_EFORMAT, "READ ELEMENT STATUS data: %zu bytes, need the 8-byte header", len);
	size_t end = 8 + (size_t)be24(b + 5);
	if (end > len)
		end = len; /* tgt sends 8 bytes less than it announces */
	tp_element *el = calloc(len / 12 + 1, sizeof(*el));
	if (!el)
		return tp_err_set(err, -ENOMEM, "READ ELEMENT STATUS: out of memory");
	size_t cnt = 0, off = 8;
	int rc = 0;
	while (off + 8 <= end) {
		const uint8_t *ph = b + off;
		uint8_t type = ph[0] & 0x0f;
		int pvol = !!(ph[1] & 0x80), avol = !!(ph[1] & 0x40);
		size_t dlen = tp_be16(ph + 2);
		size_t page_end = off + 8 + be24(ph + 5);
		if (page_end > end)
			page_end = end;
		if (dlen < 12) {
			rc = tp_err_set(err, -TP_EFORMAT,
					"READ ELEMENT STATUS: element status page at byte %zu has descriptor length %zu, need 12",
					off, dlen);
			goto out;
		}
		for (size_t p = off + 8; p + 12 <= page_end; p += dlen) {
			const uint8_t *d = b + p;
			size_t avail = page_end - p < dlen ? page_end - p : dlen;
			tp_element *e = &el[cnt++];
			e->type = type;
			e->address = tp_be16(d);
			e->full = !!(d[2] & 0x01);
			e->impexp = !!(d[2] & 0x02);
			e->except = !!(d[2] & 0x04);
			e->access = !!(d[2] & 0x08);
			e->asc = d[4];
			e->ascq = d[5];
			e->svalid = !!(d[9] & 0x80);
			e->invert = !!(d[9] & 0x40);
			e->source = tp_be16(d + 10);
			e->truncated = avail < dlen;
			size_t q = 12;
			if (pvol) {
				if (avail >= q + 32)
					copy_text(e->volume_tag, sizeof(e->volume_tag), d + q, 32, 0);
				q += 36;
			}
			if (avol)
				q += 36;
			if (type == TP_ELEM_DRIVE && avail > q)
				parse_dvcid(e, d + q, avail - q);
		}
		off += 8 + (size_t)be24(ph + 5);
	}
	*out = el;
	*n = cnt;
	el = NULL;
out:
	free(el);
	return rc;
}
