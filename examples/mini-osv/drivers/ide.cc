/* Legacy IDE (ATA PIO) on the primary channel. */
#include <osv/types.h>
#include <osv/debug.hh>
#include <osv/blk.hh>
#include <osv/pci.hh>
#include "pci-drivers.hh"
#include "processor.hh"

namespace ide {

namespace {

constexpr u16 primary_io = 0x1f0, primary_ctrl = 0x3f6;
constexpr u8 reg_data = 0, reg_count = 2, reg_lba0 = 3, reg_lba1 = 4, reg_lba2 = 5;
constexpr u8 reg_drive = 6, reg_cmd = 7;
constexpr u8 st_err = 0x01, st_drq = 0x08, st_bsy = 0x80;
constexpr u8 cmd_read = 0x20, cmd_write = 0x30, cmd_identify = 0xec;

class ata_disk final : public blk::block_device {
public:
    ata_disk(u16 io, u64 sectors) : blk::block_device("ata", sectors, 512), io_(io) {}

    int start() override
    {
        processor::outb(primary_ctrl, 0);   /* enable interrupts */
        return 0;
    }

    int read(u64 sector, void *buf, size_t count) override
    {
        auto *p = static_cast<u16 *>(buf);
        for (size_t s = 0; s < count; s++) {
            if (command(cmd_read, sector + s) < 0) {
                return -1;
            }
            for (unsigned i = 0; i < 256; i++) {
                *p++ = processor::inw(io_ + reg_data);
            }
        }
        return 0;
    }

    int write(u64 sector, const void *buf, size_t count) override
    {
        auto *p = static_cast<const u16 *>(buf);
        for (size_t s = 0; s < count; s++) {
            if (command(cmd_write, sector + s) < 0) {
                return -1;
            }
            for (unsigned i = 0; i < 256; i++) {
                processor::outw(io_ + reg_data, *p++);
            }
        }
        return 0;
    }

private:
    int command(u8 cmd, u64 lba)
    {
        processor::outb(io_ + reg_drive, u8(0xe0 | ((lba >> 24) & 0xf)));
        processor::outb(io_ + reg_count, 1);
        processor::outb(io_ + reg_lba0, u8(lba));
        processor::outb(io_ + reg_lba1, u8(lba >> 8));
        processor::outb(io_ + reg_lba2, u8(lba >> 16));
        processor::outb(io_ + reg_cmd, cmd);
        return wait_drq(io_);
    }

    static int wait_drq(u16 io)
    {
        for (;;) {
            u8 st = processor::inb(io + reg_cmd);
            if (st & st_err) {
                return -1;
            }
            if (!(st & st_bsy) && (st & st_drq)) {
                return 0;
            }
        }
    }

    u16 io_;
};

} // namespace

hw::device *probe(const pci::function &f)
{
    /* Compatibility mode controllers use the fixed legacy ports. */
    u16 io = (f.prog_if & 1) && f.bar[0] ? u16(f.bar[0]) : primary_io;
    processor::outb(io + reg_drive, 0xa0);
    processor::outb(io + reg_cmd, cmd_identify);
    if (processor::inb(io + reg_cmd) == 0) {
        return nullptr;
    }
    u16 ident[256];
    for (unsigned i = 0; i < 256; i++) {
        ident[i] = processor::inw(io + reg_data);
    }
    u64 sectors = ident[60] | (u32(ident[61]) << 16);
    if (!sectors) {
        return nullptr;
    }
    auto *d = new ata_disk(io, sectors);
    hw::register_device(d);
    return d;
}

} // namespace ide
