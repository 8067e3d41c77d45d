/* virtio over memory-mapped registers (virtio-mmio, version 2 layout). */
#include <osv/types.h>
#include <osv/debug.hh>
#include <osv/virtio.hh>
#include <osv/mmu.hh>
#include <stdlib.h>
#include <string.h>
#include "virtio-mmio.hh"
#include "processor.hh"

namespace virtio {
namespace mmio {

namespace {

constexpr u32 magic_value = 0x74726976;   /* "virt" */
enum reg : u32 {
    r_magic = 0x000, r_version = 0x004, r_device_id = 0x008, r_dev_features = 0x010,
    r_dev_features_sel = 0x014, r_drv_features = 0x020, r_drv_features_sel = 0x024,
    r_queue_sel = 0x030, r_queue_num_max = 0x034, r_queue_num = 0x038, r_queue_ready = 0x044,
    r_queue_notify = 0x050, r_status = 0x070, r_queue_desc = 0x080, r_queue_avail = 0x090,
    r_queue_used = 0x0a0, r_config = 0x100,
};

class mmio_transport final : public transport {
public:
    mmio_transport(phys_addr_t base, unsigned irq)
        : regs_(static_cast<volatile u8 *>(mmu::phys_to_virt(base))), irq_(irq)
    {
        snprintf_name(base);
    }

    bool present() { return rd(r_magic) == magic_value && rd(r_version) >= 1 && rd(r_device_id) != 0; }

    const char *name() const override { return name_; }
    u32 device_type() const override { return processor::mmio_read32(regs_ + r_device_id); }

    u64 device_features() override
    {
        wr(r_dev_features_sel, 1);
        u64 hi = rd(r_dev_features);
        wr(r_dev_features_sel, 0);
        return (hi << 32) | rd(r_dev_features);
    }

    void driver_features(u64 f) override
    {
        wr(r_drv_features_sel, 1);
        wr(r_drv_features, u32(f >> 32));
        wr(r_drv_features_sel, 0);
        wr(r_drv_features, u32(f));
    }

    u8 status() override { return u8(rd(r_status)); }
    void set_status(u8 s) override { wr(r_status, s); }

    u32 read_config(unsigned offset, unsigned width) override
    {
        volatile u8 *p = regs_ + r_config + offset;
        switch (width) {
        case 1: return *p;
        case 2: return *reinterpret_cast<volatile u16 *>(p);
        default: return processor::mmio_read32(p);
        }
    }

    unsigned queue_size(unsigned q) override
    {
        wr(r_queue_sel, q);
        return rd(r_queue_num_max);
    }

    int setup_queue(unsigned q, vring &ring) override
    {
        wr(r_queue_sel, q);
        wr(r_queue_num, ring.size());
        wr64(r_queue_desc, ring.desc_phys());
        wr64(r_queue_avail, ring.avail_phys());
        wr64(r_queue_used, ring.used_phys());
        wr(r_queue_ready, 1);
        return 0;
    }

    void notify(unsigned q) override { wr(r_queue_notify, q); }

private:
    u32 rd(u32 reg) { return processor::mmio_read32(regs_ + reg); }
    void wr(u32 reg, u32 v) { processor::mmio_write32(regs_ + reg, v); }
    void wr64(u32 reg, u64 v)
    {
        wr(reg, u32(v));
        wr(reg + 4, u32(v >> 32));
    }

    void snprintf_name(phys_addr_t base)
    {
        static const char hex[] = "0123456789abcdef";
        char *p = name_;
        for (const char *s = "mmio@"; *s; s++) {
            *p++ = *s;
        }
        for (int shift = 28; shift >= 0; shift -= 4) {
            *p++ = hex[(base >> shift) & 0xf];
        }
        *p = '\0';
    }

    volatile u8 *regs_;
    unsigned irq_;
    char name_[16];
};

u64 parse_size(const char *s, char **end)
{
    u64 v = strtoul(s, end, 0);
    switch (**end) {
    case 'K': case 'k': v <<= 10; (*end)++; break;
    case 'M': case 'm': v <<= 20; (*end)++; break;
    default: break;
    }
    return v;
}

} // namespace

unsigned probe_cmdline(const char *cmdline)
{
    static const char key[] = "virtio_mmio.device=";
    unsigned found = 0;
    for (const char *p = cmdline; (p = strstr(p, key)); ) {
        char *end;
        p += sizeof(key) - 1;
        u64 size = parse_size(p, &end);
        if (*end != '@') {
            continue;
        }
        u64 base = strtoul(end + 1, &end, 0);
        unsigned irq = *end == ':' ? unsigned(strtoul(end + 1, &end, 0)) : 0;
        p = end;
        if (size < 0x200 || !base) {
            continue;
        }
        auto *t = new mmio_transport(base, irq);
        if (t->present() && attach(*t)) {
            found++;
        } else {
            delete t;
        }
    }
    return found;
}

} // namespace mmio
} // namespace virtio
