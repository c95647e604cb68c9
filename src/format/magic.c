/* Table of PBS magic numbers; tests recompute each as SHA-256(text)[0..8]. */
#include "format/magic.h"

#include <string.h>

const tp_magic_def tp_magics[TP_MAGIC_COUNT] = {
	[TP_MAGIC_TAPE_BLOCK_HEADER] = { "Proxmox Tape Block Header v1.0", { 220, 189, 175, 202, 235, 160, 165, 40 } },
	[TP_MAGIC_CONTENT_HEADER] = { "Proxmox Backup Content Header v1.0", { 99, 238, 20, 159, 205, 242, 155, 12 } },
	[TP_MAGIC_MEDIA_LABEL] = { "Proxmox Backup Tape Label v1.0", { 42, 5, 191, 60, 176, 48, 170, 57 } },
	[TP_MAGIC_MEDIA_SET_LABEL] = { "Proxmox Backup MediaSet Label v1.0", { 8, 96, 99, 249, 47, 151, 83, 216 } },
	[TP_MAGIC_CHUNK_ARCHIVE_1_0] = { "Proxmox Backup Chunk Archive v1.0", { 62, 173, 167, 95, 49, 76, 6, 110 } },
	[TP_MAGIC_CHUNK_ARCHIVE_1_1] = { "Proxmox Backup Chunk Archive v1.1", { 109, 49, 99, 109, 215, 2, 131, 191 } },
	[TP_MAGIC_CHUNK_ARCHIVE_ENTRY] = { "Proxmox Backup Chunk Archive Entry v1.0", { 72, 87, 109, 242, 222, 66, 143, 220 } },
	[TP_MAGIC_SNAPSHOT_ARCHIVE_1_0] = { "Proxmox Backup Snapshot Archive v1.0", { 9, 182, 2, 31, 125, 232, 114, 133 } },
	[TP_MAGIC_SNAPSHOT_ARCHIVE_1_1] = { "Proxmox Backup Snapshot Archive v1.1", { 218, 22, 21, 208, 17, 226, 154, 98 } },
	[TP_MAGIC_SNAPSHOT_ARCHIVE_1_2] = { "Proxmox Backup Snapshot Archive v1.2", { 98, 16, 54, 155, 186, 16, 51, 29 } },
	[TP_MAGIC_CATALOG_ARCHIVE_1_0] = { "Proxmox Backup Catalog Archive v1.0", { 183, 207, 199, 37, 158, 153, 30, 115 } },
	[TP_MAGIC_CATALOG_ARCHIVE_1_1] = { "Proxmox Backup Catalog Archive v1.1", { 179, 236, 113, 240, 173, 236, 2, 96 } },
	[TP_MAGIC_MEDIA_CATALOG_1_0] = { "Proxmox Backup Media Catalog v1.0", { 221, 29, 164, 1, 59, 69, 19, 40 } },
	[TP_MAGIC_MEDIA_CATALOG_1_1] = { "Proxmox Backup Media Catalog v1.1", { 76, 142, 232, 193, 32, 168, 137, 113 } },
	[TP_MAGIC_BLOB_PLAIN] = { "Proxmox Backup uncompressed blob v1.0", { 66, 171, 56, 7, 190, 131, 112, 161 } },
	[TP_MAGIC_BLOB_ZSTD] = { "Proxmox Backup zstd compressed blob v1.0", { 49, 185, 88, 66, 111, 182, 163, 127 } },
	[TP_MAGIC_BLOB_ENCR] = { "Proxmox Backup encrypted blob v1.0", { 123, 103, 133, 190, 34, 45, 76, 240 } },
	[TP_MAGIC_BLOB_ZSTD_ENCR] = { "Proxmox Backup zstd compressed encrypted blob v1.0", { 230, 89, 27, 191, 11, 191, 216, 11 } },
	[TP_MAGIC_FIXED_INDEX] = { "Proxmox Backup fixed sized chunk index v1.0", { 47, 127, 65, 237, 145, 253, 15, 205 } },
	[TP_MAGIC_DYNAMIC_INDEX] = { "Proxmox Backup dynamic sized chunk index v1.0", { 28, 145, 78, 165, 25, 186, 179, 205 } },
	[TP_MAGIC_CLIENT_CATALOG] = { "Proxmox Backup Catalog file v1.0", { 145, 253, 96, 249, 196, 103, 88, 213 } },
};

int tp_magic_lookup(const uint8_t *p)
{
	for (int i = 0; i < TP_MAGIC_COUNT; i++)
		if (!memcmp(tp_magics[i].bytes, p, 8))
			return i;
	return -1;
}
