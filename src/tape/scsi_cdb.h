/* SCSI command descriptor blocks for tape drives (SSC) and changers (SMC), and parsers of their responses. */
#ifndef TAPIR_TAPE_SCSI_CDB_H
#define TAPIR_TAPE_SCSI_CDB_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Data direction of a command (as seen from the initiator). */
enum tp_scsi_dir {
	TP_SCSI_DIR_NONE = 0,
	TP_SCSI_DIR_IN = 1,   /* device → host (READ, INQUIRY, MODE SENSE, ...) */
	TP_SCSI_DIR_OUT = 2,  /* host → device (WRITE, MODE SELECT, SPOUT, ...) */
};

/*
 * A built CDB: the bytes, their count (6, 10, 12 or 16), the transfer
 * direction and the number of data bytes the command moves (allocation or
 * parameter list length; 0 for READ/WRITE(6) in fixed mode, where only the
 * caller knows the block size), and a static command name for error messages.
 */
typedef struct tp_cdb {
	uint8_t b[16];
	uint8_t len;
	uint8_t dir;
	uint32_t xfer;
	const char *name;
} tp_cdb;

/* ---- Operation codes ---- */
enum {
	TP_OP_TEST_UNIT_READY = 0x00,
	TP_OP_REWIND = 0x01,
	TP_OP_REQUEST_SENSE = 0x03,
	TP_OP_FORMAT_MEDIUM = 0x04,
	TP_OP_READ_BLOCK_LIMITS = 0x05,
	TP_OP_INITIALIZE_ELEMENT_STATUS = 0x07,
	TP_OP_READ6 = 0x08,
	TP_OP_WRITE6 = 0x0a,
	TP_OP_WRITE_FILEMARKS6 = 0x10,
	TP_OP_SPACE6 = 0x11,
	TP_OP_INQUIRY = 0x12,
	TP_OP_MODE_SELECT6 = 0x15,
	TP_OP_ERASE6 = 0x19,
	TP_OP_MODE_SENSE6 = 0x1a,
	TP_OP_LOAD_UNLOAD = 0x1b,
	TP_OP_PREVENT_ALLOW = 0x1e,
	TP_OP_READ_POSITION = 0x34,
	TP_OP_REPORT_DENSITY_SUPPORT = 0x44,
	TP_OP_LOG_SENSE = 0x4d,
	TP_OP_MODE_SELECT10 = 0x55,
	TP_OP_MODE_SENSE10 = 0x5a,
	TP_OP_READ_ATTRIBUTE = 0x8c,
	TP_OP_WRITE_ATTRIBUTE = 0x8d,
	TP_OP_SPACE16 = 0x91,
	TP_OP_LOCATE16 = 0x92,
	TP_OP_SECURITY_PROTOCOL_IN = 0xa2,
	TP_OP_MOVE_MEDIUM = 0xa5,
	TP_OP_SECURITY_PROTOCOL_OUT = 0xb5,
	TP_OP_READ_ELEMENT_STATUS = 0xb8,
};

/* Peripheral device types (INQUIRY byte 0, low 5 bits). */
enum { TP_PDT_TAPE = 0x01, TP_PDT_CHANGER = 0x08 };

/*
 * Builders.  Each clears *c and fills every field.  Those returning int
 * check their arguments (-EINVAL naming the command and the field) and leave
 * *c cleared on error.
 */
void tp_cdb_test_unit_ready(tp_cdb *c);
/* INQUIRY: standard data (evpd 0, page must be 0) or VPD page `page`. */
int tp_cdb_inquiry(tp_cdb *c, int evpd, uint8_t page, uint16_t alloc, tp_err *err);
void tp_cdb_request_sense(tp_cdb *c, int desc, uint8_t alloc);
void tp_cdb_read_block_limits(tp_cdb *c);

/* READ(6)/WRITE(6): len is bytes (variable) or blocks (fixed), at most 0xffffff; SILI with FIXED is invalid. */
int tp_cdb_read6(tp_cdb *c, int fixed, int sili, uint32_t len, tp_err *err);
int tp_cdb_write6(tp_cdb *c, int fixed, uint32_t len, tp_err *err);
int tp_cdb_write_filemarks6(tp_cdb *c, int immed, uint32_t count, tp_err *err);

/* SPACE codes. */
enum tp_space_code {
	TP_SCSI_SPACE_BLOCKS = 0,
	TP_SCSI_SPACE_FILEMARKS = 1,
	TP_SCSI_SPACE_SEQ_FILEMARKS = 2,
	TP_SCSI_SPACE_EOD = 3,
};
/* SPACE(6): count is signed 24-bit (-8388608..8388607), encoded in two's complement; 0 for EOD. */
int tp_cdb_space6(tp_cdb *c, enum tp_space_code code, int32_t count, tp_err *err);
/* SPACE(16): count is a signed 64-bit value; no parameter data. */
int tp_cdb_space16(tp_cdb *c, enum tp_space_code code, int64_t count, tp_err *err);

/* LOCATE(16) destination types. */
enum tp_locate_dest { TP_LOCATE_OBJECT = 0, TP_LOCATE_FILEMARK = 1, TP_LOCATE_EOD = 3 };
/* LOCATE(16) to logical identifier `id`; change_partition selects `partition`. */
int tp_cdb_locate16(tp_cdb *c, enum tp_locate_dest dest, int immed, int change_partition, uint8_t partition,
		    uint64_t id, tp_err *err);

/* READ POSITION service actions. */
enum { TP_READPOS_SHORT = 0x00, TP_READPOS_LONG = 0x06, TP_READPOS_EXTENDED = 0x08 };
#define TP_READPOS_LONG_LEN 32
/* READ POSITION: the allocation length is 0 (fixed reply) for the short and long forms. */
int tp_cdb_read_position(tp_cdb *c, uint8_t service_action, uint16_t alloc, tp_err *err);

void tp_cdb_rewind(tp_cdb *c, int immed);
/* LOAD/UNLOAD: load 1 = load, 0 = unload (eject). */
void tp_cdb_load_unload(tp_cdb *c, int immed, int load, int hold, int eot, int reten);
void tp_cdb_erase(tp_cdb *c, int immed, int long_erase);
/* FORMAT MEDIUM: format field 0 default, 1 partition, 2 default then partition. */
int tp_cdb_format_medium(tp_cdb *c, int immed, int verify, uint8_t format, uint16_t xfer, tp_err *err);
/* PREVENT ALLOW MEDIUM REMOVAL: prevent 1 locks the medium in, 0 allows removal. */
void tp_cdb_prevent_allow(tp_cdb *c, int prevent);

/* MODE SENSE/SELECT.  pc: 0 current, 1 changeable, 2 default, 3 saved. */
int tp_cdb_mode_sense6(tp_cdb *c, int dbd, uint8_t pc, uint8_t page, uint8_t subpage, uint8_t alloc, tp_err *err);
int tp_cdb_mode_sense10(tp_cdb *c, int dbd, uint8_t pc, uint8_t page, uint8_t subpage, uint16_t alloc,
			tp_err *err);
void tp_cdb_mode_select6(tp_cdb *c, int pf, int sp, uint8_t len);
void tp_cdb_mode_select10(tp_cdb *c, int pf, int sp, uint16_t len);

void tp_cdb_report_density_support(tp_cdb *c, int media, int medium_type, uint16_t alloc);
/* LOG SENSE: pc 1 = current cumulative values. */
int tp_cdb_log_sense(tp_cdb *c, int sp, uint8_t pc, uint8_t page, uint8_t subpage, uint16_t param_ptr,
		     uint16_t alloc, tp_err *err);

/* READ ATTRIBUTE service action 0 (attribute values), starting at first_id. */
void tp_cdb_read_attribute(tp_cdb *c, uint8_t service_action, uint8_t volume, uint8_t partition,
			   uint16_t first_id, uint32_t alloc);
/* WRITE ATTRIBUTE with WTC (write-through cache) and a parameter list of len bytes. */
void tp_cdb_write_attribute(tp_cdb *c, int wtc, uint8_t volume, uint8_t partition, uint32_t len);

/* SECURITY PROTOCOL IN/OUT; protocol 0x20 = tape data encryption. */
#define TP_SECURITY_PROTOCOL_TAPE 0x20
void tp_cdb_security_protocol_in(tp_cdb *c, uint8_t protocol, uint16_t specific, uint32_t alloc);
void tp_cdb_security_protocol_out(tp_cdb *c, uint8_t protocol, uint16_t specific, uint32_t len);

/* Changer. */
enum tp_element_type {
	TP_ELEM_ALL = 0,
	TP_ELEM_TRANSPORT = 1,
	TP_ELEM_STORAGE = 2,
	TP_ELEM_IMPORT_EXPORT = 3,
	TP_ELEM_DRIVE = 4,
};
/* READ ELEMENT STATUS: alloc is 24-bit. */
int tp_cdb_read_element_status(tp_cdb *c, enum tp_element_type type, int voltag, uint16_t start, uint16_t count,
			       int curdata, int dvcid, uint32_t alloc, tp_err *err);
void tp_cdb_move_medium(tp_cdb *c, uint16_t transport, uint16_t src, uint16_t dst, int invert);
void tp_cdb_initialize_element_status(tp_cdb *c);

/* Hex dump of the CDB bytes ("08 02 04 00 00 00") into out; returns out. */
char *tp_cdb_hex(const tp_cdb *c, char *out, size_t cap);

/* ===================== Response parsers =====================
 * All take the bytes that arrived (len = transferred, not allocated), check
 * every length before use and fail with -TP_EFORMAT naming the response and
 * the byte offset.  Fixed-width text fields are copied with trailing (and,
 * for serials, leading) spaces removed and NUL-terminated.
 */

typedef struct tp_inquiry {
	uint8_t qualifier;        /* peripheral qualifier (0 = connected) */
	uint8_t type;             /* peripheral device type */
	int removable;
	uint8_t version;
	char vendor[9];
	char product[17];
	char revision[5];
} tp_inquiry;
int tp_inquiry_parse(const uint8_t *b, size_t len, tp_inquiry *out, tp_err *err);

/* VPD page 0x80 unit serial number. */
int tp_vpd_serial_parse(const uint8_t *b, size_t len, char *serial, size_t cap, tp_err *err);

typedef struct tp_block_limits {
	uint8_t granularity;
	uint32_t max_block;
	uint16_t min_block;
} tp_block_limits;
int tp_block_limits_parse(const uint8_t *b, size_t len, tp_block_limits *out, tp_err *err);

/* READ POSITION long form (32 bytes). */
typedef struct tp_position {
	int bop, eop;             /* beginning / end of partition */
	int mpu;                  /* mark position unknown */
	int lonu;                 /* logical object number unknown: object/partition not valid */
	uint32_t partition;
	uint64_t object;          /* logical object number (blocks + filemarks from BOP) */
	uint64_t file;            /* logical file identifier = filemarks before the position */
} tp_position;
int tp_position_parse_long(const uint8_t *b, size_t len, tp_position *out, tp_err *err);

/* ---- Mode parameters ---- */
typedef struct tp_mode_data {
	int ten;                  /* parsed from a (10) header */
	uint16_t data_len;        /* MODE DATA LENGTH as reported */
	uint8_t medium_type;
	uint8_t device_specific;  /* tape: WP bit 7, BUFFERED MODE bits 6-4, SPEED bits 3-0 */
	int write_protected;
	uint8_t buffered_mode;
	int has_block_desc;       /* a short (8-byte) block descriptor was present */
	uint8_t density;
	uint32_t num_blocks;
	uint32_t block_len;       /* 0 = variable */
	size_t pages_off;         /* offset of the first mode page in the buffer */
	size_t end;               /* end of valid mode data in the buffer */
} tp_mode_data;

int tp_mode_parse(const uint8_t *b, size_t len, int ten, tp_mode_data *out, tp_err *err);
/*
 * Finds page (and subpage, 0 = none) among the parsed pages; *page points at
 * its first byte (page code), *plen is its full length incl. the header.
 * Returns 0, -TP_ENOTFOUND if absent, -TP_EFORMAT if a page overruns.
 */
int tp_mode_find_page(const uint8_t *b, const tp_mode_data *md, uint8_t page, uint8_t subpage,
		      const uint8_t **pg, size_t *plen, tp_err *err);

/* Mode page 0x0F (data compression), 16 bytes. */
typedef struct tp_compression_page {
	int dce, dcc, dde;
	uint8_t red;
	uint32_t compression_alg, decompression_alg;
} tp_compression_page;
#define TP_MODE_PAGE_COMPRESSION 0x0f
#define TP_MODE_PAGE_COMPRESSION_LEN 16
int tp_compression_page_parse(const uint8_t *pg, size_t len, tp_compression_page *out, tp_err *err);
/* Encodes page 0x0F into out[16] (PS bit clear, as MODE SELECT requires). */
void tp_compression_page_encode(const tp_compression_page *p, uint8_t out[16]);

/*
 * Builds a MODE SELECT parameter list: a (6) or (10) header (mode data length
 * 0, medium type 0, device-specific = buffered_mode << 4), an 8-byte block
 * descriptor when with_block_desc (density, number of blocks 0, block_len),
 * then page (page_len bytes, may be 0) with the PS bit cleared.  Returns the
 * length written, -ENOSPC if cap is too small, -EINVAL for a block_len over
 * 24 bits or a (6) list longer than 255.
 */
int tp_mode_select_build(int ten, uint8_t buffered_mode, int with_block_desc, uint8_t density, uint32_t block_len,
			 const uint8_t *page, size_t page_len, uint8_t *out, size_t cap, tp_err *err);

/* Mode page 0x1D element address assignment (changer). */
typedef struct tp_element_addresses {
	uint16_t transport_first, transport_count;
	uint16_t storage_first, storage_count;
	uint16_t ie_first, ie_count;
	uint16_t drive_first, drive_count;
} tp_element_addresses;
#define TP_MODE_PAGE_ELEMENT_ADDRESS 0x1d
int tp_element_addresses_parse(const uint8_t *pg, size_t len, tp_element_addresses *out, tp_err *err);

/* ---- REPORT DENSITY SUPPORT ---- */
typedef struct tp_density_desc {
	uint8_t primary, secondary;
	int wrtok, dup, deflt;
	uint32_t bits_per_mm;
	uint16_t media_width, tracks;
	uint32_t capacity_mb;
	char organization[9], name[9], description[21];
} tp_density_desc;
/* Parses up to max descriptors into out; returns the number parsed. */
int tp_density_report_parse(const uint8_t *b, size_t len, tp_density_desc *out, size_t max, tp_err *err);
/* LTO generation of a density code (0x40 → 1 ... 0x60 → 9), 0 when unknown. */
int tp_density_lto_generation(uint8_t density);
/* Highest LTO generation among the descriptors (by primary code), 0 when none is LTO. */
int tp_density_report_max_generation(const tp_density_desc *d, size_t n);

/* ---- LOG SENSE ---- */
/*
 * Walks the log parameters of a page: calls fn(ctx, code, control, value,
 * vlen) for each; fn returns non-zero to stop.  Checks the page code
 * (page_code, or -1 for any) and that every parameter fits.
 */
typedef int (*tp_log_param_fn)(void *ctx, uint16_t code, uint8_t control, const uint8_t *value, size_t vlen);
int tp_log_page_walk(const uint8_t *b, size_t len, int page_code, tp_log_param_fn fn, void *ctx, tp_err *err);

#define TP_LOG_PAGE_TAPEALERT_RESPONSE 0x12
#define TP_LOG_PAGE_VOLUME_STATS 0x17
#define TP_LOG_PAGE_TAPEALERT 0x2e
/* TapeAlert flags: bit (n-1) is flag n (1..64).  Accepts page 0x2E (64 parameters) or 0x12 (one bitmap). */
int tp_tapealert_parse(const uint8_t *b, size_t len, uint64_t *flags, tp_err *err);
/* Name of TapeAlert flag n (1..64), e.g. "Clean now"; "Unknown" otherwise. */
const char *tp_tapealert_name(int flag);
/*
 * Severity of TapeAlert flag n as the TapeAlert specification (SSC-3 annex)
 * assigns it: 'C' critical (writing is unsafe: media, read/write failure,
 * write protect, clean now, hardware, ...), 'W' warning, 'I' information.
 * Obsolete (40-48), reserved (61-64) and out-of-range flags are 'W'.
 */
char tp_tapealert_severity(int flag);
/* Mask of the critical flags (bit n-1 = flag n). */
uint64_t tp_tapealert_critical_mask(void);

/* Volume statistics page 0x17 (fields absent from the page stay 0; bytes are bytes, not MB). */
typedef struct tp_volume_stats {
	uint64_t volume_mounts;
	uint64_t volume_datasets_written;
	uint64_t volume_recovered_write_data_errors;
	uint64_t volume_unrecovered_write_data_errors;
	uint64_t volume_write_servo_errors;
	uint64_t volume_unrecovered_write_servo_errors;
	uint64_t volume_datasets_read;
	uint64_t volume_recovered_read_errors;
	uint64_t volume_unrecovered_read_errors;
	uint64_t last_mount_unrecovered_write_errors;
	uint64_t last_mount_unrecovered_read_errors;
	uint64_t last_mount_bytes_written;
	uint64_t last_mount_bytes_read;
	uint64_t lifetime_bytes_written;
	uint64_t lifetime_bytes_read;
	uint64_t last_load_write_compression_ratio;
	uint64_t last_load_read_compression_ratio;
	uint64_t medium_mount_time;
	uint64_t medium_ready_time;
	uint64_t total_native_capacity;      /* MB */
	uint64_t total_used_native_capacity; /* MB */
	uint64_t beginning_of_medium_passes;
	uint64_t middle_of_tape_passes;
	int write_protect;
	int worm;
	char serial[33];
} tp_volume_stats;
int tp_volume_stats_parse(const uint8_t *b, size_t len, tp_volume_stats *out, tp_err *err);

/* ---- Medium auxiliary memory (READ/WRITE ATTRIBUTE) ---- */
enum { TP_MAM_BINARY = 0, TP_MAM_ASCII = 1, TP_MAM_TEXT = 2 };
typedef struct tp_mam_attr {
	uint16_t id;
	uint8_t format;           /* TP_MAM_* */
	int read_only;
	uint16_t len;
	const uint8_t *value;     /* points into the parsed buffer */
} tp_mam_attr;
/*
 * Parses a READ ATTRIBUTE (service action 0) reply; calls fn for each
 * attribute (non-zero return stops).  Attributes cut off by a short
 * allocation are an error only if not even the header fits.
 */
typedef int (*tp_mam_fn)(void *ctx, const tp_mam_attr *a);
int tp_mam_parse(const uint8_t *b, size_t len, tp_mam_fn fn, void *ctx, tp_err *err);
/*
 * Appends one attribute to a WRITE ATTRIBUTE parameter list being built in
 * out (cap bytes, *used so far; start with *used = 0: the 4-byte length
 * header is then zeroed and skipped).  value is zero-padded (binary) or space-padded (ASCII/text) to
 * attr_len bytes; -EINVAL when it is longer, -ENOSPC when out is full.
 */
int tp_mam_append(uint8_t *out, size_t cap, size_t *used, uint16_t id, uint8_t format, const void *value,
		  size_t vlen, uint16_t attr_len, tp_err *err);
/* Writes the PARAMETER DATA LENGTH (used - 4) into bytes 0..3. */
void tp_mam_finish(uint8_t *out, size_t used);

/* ---- Tape data encryption (SECURITY PROTOCOL 0x20) ---- */
#define TP_SPIN_PAGE_CAPABILITIES 0x0010
#define TP_SPIN_PAGE_STATUS 0x0020
#define TP_SPOUT_PAGE_SET_DATA_ENCRYPTION 0x0010
#define TP_ENC_ALG_AES256_GCM 0x00010014u
enum { TP_ENC_MODE_DISABLE = 0, TP_ENC_MODE_EXTERNAL = 1, TP_ENC_MODE_ENCRYPT = 2 };
enum { TP_DEC_MODE_DISABLE = 0, TP_DEC_MODE_RAW = 1, TP_DEC_MODE_DECRYPT = 2, TP_DEC_MODE_MIXED = 3 };

/*
 * Set Data Encryption page: scope ALL I_T NEXUS (0x40), control 0, the given
 * modes and algorithm index, key format 0, key_len bytes of key (0 or 32 when
 * clearing/setting).  Returns the page length (20 + key_len) or -ENOSPC/-EINVAL.
 */
int tp_spout_set_encryption_build(uint8_t enc_mode, uint8_t dec_mode, uint8_t alg_index, const uint8_t *key,
				  size_t key_len, uint8_t *out, size_t cap, tp_err *err);

typedef struct tp_enc_status {
	uint8_t it_nexus_scope, key_scope;
	uint8_t enc_mode, dec_mode;
	uint8_t alg_index;
	uint32_t key_instance;
	int vcelb;                /* volume contains encrypted logical blocks */
	uint8_t ceems;
	int rdmd;
} tp_enc_status;
int tp_spin_status_parse(const uint8_t *b, size_t len, tp_enc_status *out, tp_err *err);

typedef struct tp_enc_alg {
	uint8_t index;
	int avfmv, sdk_c, mac_c, delb_c;
	uint8_t decrypt_c, encrypt_c;   /* 0 none, 1 external, 2 hardware */
	uint16_t key_size;
	uint32_t alg_code;
} tp_enc_alg;
/* Parses up to max algorithm descriptors; returns the count parsed; *cfg_p gets the CFG_P field. */
int tp_spin_capabilities_parse(const uint8_t *b, size_t len, tp_enc_alg *out, size_t max, uint8_t *cfg_p,
			       tp_err *err);
/*
 * Picks the descriptor for AES-256-GCM with a 32-byte key and hardware
 * encrypt and decrypt (the one tapir sets); returns its algorithm index or
 * -TP_ENOTFOUND.
 */
int tp_spin_find_aes_gcm(const tp_enc_alg *algs, size_t n, tp_err *err);

/* ---- READ ELEMENT STATUS ---- */
typedef struct tp_element {
	uint8_t type;             /* tp_element_type */
	uint16_t address;
	int full;
	int except;               /* abnormal state; asc/ascq say why */
	int access;
	int impexp;               /* I/E element: medium placed by the operator */
	uint8_t asc, ascq;
	int svalid;               /* source address valid */
	int invert;
	uint16_t source;
	char volume_tag[33];      /* primary volume tag, trailing spaces removed; "" if none */
	char dvcid[65];           /* data transfer element: device identifier (DVCID), "" if none */
	int truncated;            /* the descriptor was cut short (tgt drops 8 bytes of the last one) */
} tp_element;

/*
 * Parses a READ ELEMENT STATUS reply (any number of element status pages)
 * into a malloc'd array *out of *n elements (caller frees).  Lenient about a
 * reply shorter than announced (tgt): a descriptor is kept if at least its 12
 * fixed bytes arrived, and its volume tag if the 32 identifier bytes did.
 * -TP_EFORMAT for a descriptor length below 12 or a header that does not fit.
 */
int tp_element_status_parse(const uint8_t *b, size_t len, tp_element **out, size_t *n, tp_err *err);

#endif
