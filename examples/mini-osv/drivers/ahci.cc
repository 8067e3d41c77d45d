/* AHCI SATA host controller: one block device per port with a disk. */
#include <osv/types.h>
#include <osv/debug.hh>
#include <osv/blk.hh>
#include <osv/pci.hh>
#include <osv/mmu.hh>
#include <osv/mempool.h>
#include <string.h>
#include "pci-drivers.hh"
#include "processor.hh"

namespace ahci {

namespace {

constexpr u32 hba_cap = 0x00, hba_ghc = 0x04, hba_pi = 0x0c, hba_vs = 0x10;
constexpr u32 port_base = 0x100, port_stride = 0x80;
constexpr u32 px_clb = 0x00, px_fb = 0x08, px_cmd = 0x18, px_tfd = 0x20, px_sig = 0x24;
constexpr u32 px_ssts = 0x28, px_ci = 0x38;
constexpr u32 sig_sata = 0x00000101;
constexpr u8 fis_h2d = 0x27, ata_read_dma_ext = 0x25, ata_write_dma_ext = 0x35;

struct cmd_header {
    u16 flags;       /* FIS length in dwords, write bit (6) */
    u16 prdt_len;
    u32 prd_bytes;
    u64 table;
    u32 reserved[4];
};

struct prd {
    u64 addr;
    u32 reserved;
    u32 bytes;      /* byte count - 1, bit 31 = interrupt */
};

struct cmd_table {
    u8 cfis[64];
    u8 acmd[16];
    u8 reserved[48];
    prd prdt[8];
};

class disk final : public blk::block_device {
public:
    disk(volatile u8 *port) : blk::block_device("sata", 0, 512), port_(port) {}

    int start() override
    {
        mem_ = static_cast<u8 *>(mempool_alloc_pages(2));
        if (!mem_) {
            return -1;
        }
        memset(mem_, 0, 2 * PAGE_SIZE);
        headers_ = reinterpret_cast<cmd_header *>(mem_);
        table_ = reinterpret_cast<cmd_table *>(mem_ + PAGE_SIZE);
        write64(px_clb, mmu::virt_to_phys(headers_));
        write64(px_fb, mmu::virt_to_phys(mem_ + 1024));
        reg(px_cmd) = reg(px_cmd) | (1u << 4) | 1u;   /* FIS receive + start */
        return 0;
    }

    int read(u64 sector, void *buf, size_t count) override { return io(false, sector, buf, count); }
    int write(u64 sector, const void *buf, size_t count) override
    {
        return io(true, sector, const_cast<void *>(buf), count);
    }

private:
    volatile u32 &reg(u32 off) { return *reinterpret_cast<volatile u32 *>(port_ + off); }
    void write64(u32 off, u64 v)
    {
        reg(off) = u32(v);
        reg(off + 4) = u32(v >> 32);
    }

    int io(bool wr, u64 lba, void *buf, size_t count)
    {
        if (count == 0 || count > 0xffff) {
            return -1;
        }
        cmd_header &h = headers_[0];
        h.flags = u16(5 | (wr ? 1 << 6 : 0));
        h.prdt_len = 1;
        h.table = mmu::virt_to_phys(table_);
        memset(table_, 0, sizeof(*table_));
        table_->prdt[0].addr = mmu::virt_to_phys(buf);
        table_->prdt[0].bytes = u32(count * sector_size() - 1);
        u8 *f = table_->cfis;
        f[0] = fis_h2d;
        f[1] = 1 << 7;
        f[2] = wr ? ata_write_dma_ext : ata_read_dma_ext;
        for (unsigned i = 0; i < 3; i++) {
            f[4 + i] = u8(lba >> (8 * i));
            f[8 + i] = u8(lba >> (24 + 8 * i));
        }
        f[7] = 1 << 6;   /* LBA mode */
        f[12] = u8(count);
        f[13] = u8(count >> 8);
        reg(px_ci) = 1;
        while (reg(px_ci) & 1) {
            cpu_relax();
        }
        return reg(px_tfd) & 1 ? -1 : 0;
    }

    volatile u8 *port_;
    u8 *mem_ = nullptr;
    cmd_header *headers_ = nullptr;
    cmd_table *table_ = nullptr;
};

} // namespace

hw::device *probe(const pci::function &f)
{
    auto *hba = static_cast<volatile u8 *>(mmu::phys_to_virt(f.bar[5]));
    auto rd = [hba](u32 off) { return processor::mmio_read32(hba + off); };
    pci::enable_bus_master(f);
    processor::mmio_write32(hba + hba_ghc, rd(hba_ghc) | (1u << 31));   /* AHCI enable */
    u32 ports = rd(hba_pi);
    unsigned nports = (rd(hba_cap) & 0x1f) + 1;
    debugf("ahci", "AHCI %u.%u, %u ports", rd(hba_vs) >> 16, rd(hba_vs) & 0xffff, nports);
    hw::device *first = nullptr;
    for (unsigned i = 0; i < 32; i++) {
        if (!(ports & (1u << i))) {
            continue;
        }
        volatile u8 *port = hba + port_base + i * port_stride;
        bool present = (processor::mmio_read32(port + px_ssts) & 0xf) == 3;
        if (present && processor::mmio_read32(port + px_sig) == sig_sata) {
            auto *d = new disk(port);
            hw::register_device(d);
            if (!first) {
                first = d;
            }
        }
    }
    return first;
}

} // namespace ahci
