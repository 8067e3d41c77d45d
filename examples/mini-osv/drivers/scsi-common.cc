/* SCSI CDB builders and sense decoding. */
#include <osv/types.h>
#include <osv/scsi.hh>
#include <string.h>

namespace scsi {

static void put_be32(u8 *p, u32 v)
{
    p[0] = u8(v >> 24);
    p[1] = u8(v >> 16);
    p[2] = u8(v >> 8);
    p[3] = u8(v);
}

static u32 get_be32(const u8 *p)
{
    return (u32(p[0]) << 24) | (u32(p[1]) << 16) | (u32(p[2]) << 8) | p[3];
}

void build_inquiry(cdb &c, u8 alloc_len)
{
    memset(&c, 0, sizeof(c));
    c.bytes[0] = op_inquiry;
    c.bytes[4] = alloc_len;
    c.len = 6;
}

void build_read_capacity(cdb &c)
{
    memset(&c, 0, sizeof(c));
    c.bytes[0] = op_read_capacity10;
    c.len = 10;
}

void build_rw10(cdb &c, bool write, u32 lba, u16 blocks)
{
    memset(&c, 0, sizeof(c));
    c.bytes[0] = write ? op_write10 : op_read10;
    put_be32(c.bytes + 2, lba);
    c.bytes[7] = u8(blocks >> 8);
    c.bytes[8] = u8(blocks);
    c.len = 10;
}

bool parse_capacity(const u8 *data, u64 *sectors, u32 *block_size)
{
    u32 last_lba = get_be32(data);
    u32 bs = get_be32(data + 4);
    if (bs == 0 || (bs & (bs - 1))) {
        return false;
    }
    *sectors = u64(last_lba) + 1;
    *block_size = bs;
    return true;
}

const char *sense_key_name(u8 key)
{
    static const char *const names[] = {
        "no sense", "recovered error", "not ready", "medium error",
        "hardware error", "illegal request", "unit attention", "data protect",
        "blank check", "vendor specific", "copy aborted", "aborted command",
    };
    return key < ARRAY_SIZE(names) ? names[key] : "reserved";
}

} // namespace scsi
