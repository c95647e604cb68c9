/* Drive status report (`tapir tape status`) and the LTO log page, density and encryption helpers behind it. */
#include "tape/drive_diag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

#define DIAG_TIMEOUT_MS 30000u
#define DIAG_ALLOC 8192u

/* One command with the UNIT ATTENTION retry; -ENOTSUP for ILLEGAL REQUEST 20/00, 24/00, 26/00. */
static int dev_run(tp_scsi_dev *dev, const tp_cdb *c, uint8_t *buf, size_t len, size_t *got, tp_err *err)
{
	tp_scsi_result res;
	tp_sense s;
	enum tp_sense_class cls = TP_SENSE_OK;
	int r = tp_scsi_run(dev, c, buf, len, DIAG_TIMEOUT_MS, &res, &s, &cls, err);
	if (r == -EIO && cls == TP_SENSE_UNIT_ATTENTION)
		r = tp_scsi_run(dev, c, buf, len, DIAG_TIMEOUT_MS, &res, &s, &cls, err);
	if (r == -EIO && cls == TP_SENSE_ILLEGAL_REQUEST && (s.asc == 0x20 || s.asc == 0x24 || s.asc == 0x26))
		return tp_err_wrap(err, -ENOTSUP, "not supported by the device");
	if (r == 0 && got)
		*got = res.transferred > len ? len : res.transferred;
	return r;
}

static int log_page(tp_scsi_dev *dev, uint8_t page, uint8_t *buf, size_t *got, tp_err *err)
{
	tp_cdb c;
	int r = tp_cdb_log_sense(&c, 0, 1, page, 0, 0, DIAG_ALLOC, err);
	if (r < 0)
		return r;
	return dev_run(dev, &c, buf, DIAG_ALLOC, got, err);
}

int tp_lto_tapealert_dev(tp_scsi_dev *dev, uint64_t *flags, tp_err *err)
{
	*flags = 0;
	uint8_t *buf = calloc(1, DIAG_ALLOC);
	if (!buf)
		return tp_err_set(err, -ENOMEM, "out of memory");
	size_t got = 0;
	int r = log_page(dev, TP_LOG_PAGE_TAPEALERT_RESPONSE, buf, &got, err);
	if (r == 0)
		r = tp_tapealert_parse(buf, got, flags, err);
	free(buf);
	return r < 0 ? tp_err_wrap(err, r, "TapeAlert of %s", dev->path) : 0;
}

int tp_lto_volume_stats_dev(tp_scsi_dev *dev, tp_volume_stats *vs, tp_err *err)
{
	memset(vs, 0, sizeof(*vs));
	uint8_t *buf = calloc(1, DIAG_ALLOC);
	if (!buf)
		return tp_err_set(err, -ENOMEM, "out of memory");
	size_t got = 0;
	int r = log_page(dev, TP_LOG_PAGE_VOLUME_STATS, buf, &got, err);
	if (r == 0)
		r = tp_volume_stats_parse(buf, got, vs, err);
	free(buf);
	return r < 0 ? tp_err_wrap(err, r, "volume statistics of %s", dev->path) : 0;
}

int tp_lto_density_dev(tp_scsi_dev *dev, int *generation, uint8_t *density, tp_err *err)
{
	*generation = 0;
	*density = 0;
	uint8_t *buf = calloc(1, DIAG_ALLOC);
	tp_density_desc *dd = calloc(32, sizeof(*dd));
	int r;
	if (!buf || !dd) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	tp_cdb c;
	tp_cdb_report_density_support(&c, 1, 0, DIAG_ALLOC);
	size_t got = 0;
	if ((r = dev_run(dev, &c, buf, DIAG_ALLOC, &got, err)) < 0)
		goto out;
	int n = tp_density_report_parse(buf, got, dd, 32, err);
	if (n < 0) {
		r = n;
		goto out;
	}
	*generation = tp_density_report_max_generation(dd, (size_t)n);
	for (int i = 0; i < n; i++)
		if (tp_density_lto_generation(dd[i].primary) == *generation && *generation)
			*density = dd[i].primary;
	r = 0;
out:
	free(buf);
	free(dd);
	return r < 0 ? tp_err_wrap(err, r, "density report of %s", dev->path) : 0;
}

int tp_lto_encryption_status_dev(tp_scsi_dev *dev, tp_enc_status *st, tp_err *err)
{
	uint8_t *buf = calloc(1, DIAG_ALLOC);
	if (!buf)
		return tp_err_set(err, -ENOMEM, "out of memory");
	tp_cdb c;
	tp_cdb_security_protocol_in(&c, TP_SECURITY_PROTOCOL_TAPE, TP_SPIN_PAGE_STATUS, DIAG_ALLOC);
	size_t got = 0;
	int r = dev_run(dev, &c, buf, DIAG_ALLOC, &got, err);
	if (r == 0)
		r = tp_spin_status_parse(buf, got, st, err);
	free(buf);
	return r < 0 ? tp_err_wrap(err, r, "encryption status of %s", dev->path) : 0;
}

int tp_lto_encryption_dev(tp_scsi_dev *dev, const uint8_t *key32, tp_err *err)
{
	uint8_t *buf = calloc(1, DIAG_ALLOC);
	tp_enc_alg *algs = calloc(32, sizeof(*algs));
	int r;
	if (!buf || !algs) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	tp_cdb c;
	tp_cdb_security_protocol_in(&c, TP_SECURITY_PROTOCOL_TAPE, TP_SPIN_PAGE_CAPABILITIES, DIAG_ALLOC);
	size_t got = 0;
	if ((r = dev_run(dev, &c, buf, DIAG_ALLOC, &got, err)) < 0) {
		tp_err_wrap(err, r, "drive encryption capabilities");
		goto out;
	}
	uint8_t cfg_p = 0;
	int n = tp_spin_capabilities_parse(buf, got, algs, 32, &cfg_p, err);
	if (n < 0) {
		r = n;
		goto out;
	}
	int idx = tp_spin_find_aes_gcm(algs, (size_t)n, err);
	if (idx < 0) {
		r = tp_err_wrap(err, -ENOTSUP, "the drive offers no AES-256-GCM hardware encryption");
		goto out;
	}
	uint8_t page[64];
	int len = tp_spout_set_encryption_build(key32 ? TP_ENC_MODE_ENCRYPT : TP_ENC_MODE_DISABLE,
						key32 ? TP_DEC_MODE_MIXED : TP_DEC_MODE_DISABLE, (uint8_t)idx, key32,
						key32 ? 32 : 0, page, sizeof(page), err);
	if (len < 0) {
		r = len;
		goto out;
	}
	tp_cdb_security_protocol_out(&c, TP_SECURITY_PROTOCOL_TAPE, TP_SPOUT_PAGE_SET_DATA_ENCRYPTION, (uint32_t)len);
	r = dev_run(dev, &c, page, (size_t)len, NULL, err);
	memset(page, 0, sizeof(page));
	if (r < 0) {
		tp_err_wrap(err, r, "setting the drive encryption key");
		goto out;
	}
	tp_enc_status st;
	if ((r = tp_lto_encryption_status_dev(dev, &st, err)) < 0)
		goto out;
	if (key32 ? st.enc_mode != TP_ENC_MODE_ENCRYPT || st.dec_mode != TP_DEC_MODE_MIXED
		  : st.enc_mode != TP_ENC_MODE_DISABLE || st.dec_mode != TP_DEC_MODE_DISABLE) {
		r = tp_err_set(err, -EIO, "drive encryption status shows encryption mode %u / decryption mode %u after %s",
			       st.enc_mode, st.dec_mode, key32 ? "setting the key" : "clearing the key");
		goto out;
	}
	r = 0;
out:
	free(buf);
	free(algs);
	return r < 0 ? tp_err_wrap(err, r, "%s", dev->path) : 0;
}

int tp_drive_diag_get(tp_drive *d, tp_drive_diag *g, tp_err *err)
{
	memset(g, 0, sizeof(*g));
	g->write_protected = -1;
	g->compression = -1;
	snprintf(g->name, sizeof(g->name), "%s", d->name);
	snprintf(g->type, sizeof(g->type), "%s", d->ops->type);
	tp_drive_status st;
	int r = tp_drive_get_status(d, &st, err);
	if (r < 0)
		return r;
	g->loaded = st.loaded;
	snprintf(g->label, sizeof(g->label), "%s", st.label[0] ? st.label : d->label);
	g->leom = st.leom;
	g->encryption = st.encryption;
	g->capacity = st.capacity;
	g->used = st.used;
	if (st.loaded) {
		tp_drive_pos p;
		if ((d->ops->caps & TP_DRIVE_CAP_LOCATE) && tp_drive_read_position(d, &p, NULL) == 0) {
			g->position_valid = 1;
			g->pos = p;
		}
	}
	tp_lto_dev_info info;
	if (tp_lto_get_info(d, &info, NULL) < 0) {
		snprintf(g->vendor, sizeof(g->vendor), "tapir");
		snprintf(g->product, sizeof(g->product), "%s drive", d->ops->type);
		if (st.loaded)
			g->write_protected = 0;
		return 0;
	}
	snprintf(g->vendor, sizeof(g->vendor), "%s", info.inq.vendor);
	snprintf(g->product, sizeof(g->product), "%s", info.inq.product);
	snprintf(g->revision, sizeof(g->revision), "%s", info.inq.revision);
	snprintf(g->serial, sizeof(g->serial), "%s", info.serial);
	g->compression = info.compression;
	g->position_tracked = st.loaded && !info.native_position;
	if (st.loaded) {
		g->write_protected = info.write_protected;
		g->density = info.density;
		g->generation = tp_density_lto_generation(info.density);
	}
	int gen = 0;
	uint8_t dens = 0;
	if (st.loaded && !g->generation && tp_lto_density_dev(info.dev, &gen, &dens, NULL) == 0 && gen) {
		g->generation = gen;
		g->density = dens;
	}
	if (tp_lto_tapealert_dev(info.dev, &g->tapealert, NULL) == 0)
		g->has_tapealert = 1;
	if (st.loaded && tp_lto_volume_stats_dev(info.dev, &g->vs, NULL) == 0) {
		g->has_volume_stats = 1;
		if (g->vs.write_protect)
			g->write_protected = 1;
	}
	return 0;
}

static json_t *opt_int(int known, uint64_t v)
{
	return known ? json_integer((json_int_t)v) : json_null();
}

static json_t *opt_bool(int v)
{
	return v < 0 ? json_null() : json_boolean(v);
}

json_t *tp_drive_diag_to_json(const tp_drive_diag *g)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "name", json_string(g->name));
	json_object_set_new(o, "type", json_string(g->type));
	json_object_set_new(o, "vendor", json_string(g->vendor));
	json_object_set_new(o, "model", json_string(g->product));
	json_object_set_new(o, "revision", json_string(g->revision));
	json_object_set_new(o, "serial", g->serial[0] ? json_string(g->serial) : json_null());
	json_object_set_new(o, "loaded", json_boolean(g->loaded));
	json_object_set_new(o, "label", g->loaded && g->label[0] ? json_string(g->label) : json_null());
	json_object_set_new(o, "density", opt_int(g->density != 0, g->density));
	json_object_set_new(o, "generation", opt_int(g->generation != 0, (uint64_t)g->generation));
	json_object_set_new(o, "position", opt_int(g->position_valid, g->pos.object));
	json_object_set_new(o, "file", opt_int(g->position_valid, g->pos.file));
	json_object_set_new(o, "eod", g->position_valid ? json_boolean(g->pos.eod) : json_null());
	json_object_set_new(o, "position-tracked", json_boolean(g->position_tracked));
	json_object_set_new(o, "leom", json_boolean(g->leom));
	json_object_set_new(o, "write-protected", opt_bool(g->write_protected));
	json_object_set_new(o, "compression", opt_bool(g->compression));
	json_object_set_new(o, "encryption", json_boolean(g->encryption));
	json_object_set_new(o, "capacity", opt_int(g->capacity != 0, g->capacity));
	json_object_set_new(o, "used", opt_int(g->used != 0, g->used));
	if (g->has_tapealert) {
		json_t *a = json_array();
		for (int f = 1; f <= 64; f++)
			if (g->tapealert & (1ull << (f - 1)))
				json_array_append_new(a, json_pack("{s:i,s:s}", "flag", f, "name", tp_tapealert_name(f)));
		json_object_set_new(o, "tapealert", a);
	} else {
		json_object_set_new(o, "tapealert", json_null());
	}
	if (g->has_volume_stats) {
		const tp_volume_stats *v = &g->vs;
		json_object_set_new(
			o, "volume-statistics",
			json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b,s:b}", "mounts", (json_int_t)v->volume_mounts,
				  "datasets-written", (json_int_t)v->volume_datasets_written, "datasets-read",
				  (json_int_t)v->volume_datasets_read, "lifetime-bytes-written",
				  (json_int_t)v->lifetime_bytes_written, "lifetime-bytes-read",
				  (json_int_t)v->lifetime_bytes_read, "native-capacity-mb",
				  (json_int_t)v->total_native_capacity, "used-native-capacity-mb",
				  (json_int_t)v->total_used_native_capacity, "bom-passes",
				  (json_int_t)v->beginning_of_medium_passes, "mot-passes",
				  (json_int_t)v->middle_of_tape_passes, "write-protect", v->write_protect, "worm", v->worm));
	} else {
		json_object_set_new(o, "volume-statistics", json_null());
	}
	return o;
}

static const char *yes_no(int v)
{
	return v < 0 ? "unknown" : v ? "yes" : "no";
}

char *tp_drive_diag_text(const tp_drive_diag *g)
{
	tp_buf b = { 0 };
	int r = 0;
	r |= tp_buf_printf(&b, "drive %s (%s): %s %s %s", g->name, g->type, g->vendor, g->product, g->revision);
	r |= tp_buf_printf(&b, "%s%s\n", g->serial[0] ? ", serial " : "", g->serial);
	if (!g->loaded) {
		r |= tp_buf_printf(&b, "  no cartridge\n");
	} else {
		r |= tp_buf_printf(&b, "  cartridge:      %s\n", g->label[0] ? g->label : "(label unknown)");
		if (g->generation)
			r |= tp_buf_printf(&b, "  density:        0x%02x (LTO-%d)\n", g->density, g->generation);
		else if (g->density)
			r |= tp_buf_printf(&b, "  density:        0x%02x\n", g->density);
		else
			r |= tp_buf_printf(&b, "  density:        unknown\n");
		if (g->position_valid)
			r |= tp_buf_printf(&b, "  position:       object %llu, file %llu%s%s\n",
					   (unsigned long long)g->pos.object, (unsigned long long)g->pos.file,
					   g->pos.eod ? ", end of data" : "", g->position_tracked ? " (tracked by tapir)" : "");
		else
			r |= tp_buf_printf(&b, "  position:       unknown\n");
		r |= tp_buf_printf(&b, "  early warning:  %s\n", yes_no(g->leom));
		r |= tp_buf_printf(&b, "  write protect:  %s\n", yes_no(g->write_protected));
	}
	r |= tp_buf_printf(&b, "  compression:    %s\n", yes_no(g->compression));
	r |= tp_buf_printf(&b, "  encryption:     %s\n", yes_no(g->encryption));
	if (g->capacity)
		r |= tp_buf_printf(&b, "  capacity:       %llu bytes (%llu used)\n", (unsigned long long)g->capacity,
				   (unsigned long long)g->used);
	if (!g->has_tapealert) {
		r |= tp_buf_printf(&b, "  tapealert:      not reported\n");
	} else if (!g->tapealert) {
		r |= tp_buf_printf(&b, "  tapealert:      none\n");
	} else {
		for (int f = 1; f <= 64; f++)
			if (g->tapealert & (1ull << (f - 1)))
				r |= tp_buf_printf(&b, "  tapealert:      %d %s\n", f, tp_tapealert_name(f));
	}
	if (g->has_volume_stats) {
		const tp_volume_stats *v = &g->vs;
		r |= tp_buf_printf(&b, "  volume:         %llu mounts, %llu/%llu MB native used, %llu BOM passes, %llu MOT passes\n",
				   (unsigned long long)v->volume_mounts, (unsigned long long)v->total_used_native_capacity,
				   (unsigned long long)v->total_native_capacity,
				   (unsigned long long)v->beginning_of_medium_passes,
				   (unsigned long long)v->middle_of_tape_passes);
		r |= tp_buf_printf(&b, "  lifetime:       %llu bytes written, %llu bytes read\n",
				   (unsigned long long)v->lifetime_bytes_written, (unsigned long long)v->lifetime_bytes_read);
	} else if (g->loaded) {
		r |= tp_buf_printf(&b, "  volume stats:   not reported\n");
	}
	if (r < 0) {
		tp_buf_free(&b);
		return NULL;
	}
	size_t len;
	tp_buf_cstr(&b);
	return (char *)tp_buf_steal(&b, &len);
}
