/* SCSI command construction shared by SCSI host drivers. */
#ifndef OSV_SCSI_HH
#define OSV_SCSI_HH

#include <osv/types.h>

namespace scsi {

constexpr u8 op_test_unit_ready = 0x00, op_inquiry = 0x12, op_read_capacity10 = 0x25;
constexpr u8 op_read10 = 0x28, op_write10 = 0x2a, op_sync_cache10 = 0x35;

struct cdb {
    u8 bytes[16];
    u8 len;
};

void build_inquiry(cdb &c, u8 alloc_len);
void build_read_capacity(cdb &c);
void build_rw10(cdb &c, bool write, u32 lba, u16 blocks);
bool parse_capacity(const u8 *data, u64 *sectors, u32 *block_size);
const char *sense_key_name(u8 key);

} // namespace scsi

#endif /* OSV_SCSI_HH */
