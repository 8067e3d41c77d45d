/* virtio over PCI, legacy (I/O port) register layout. */
#include <osv/types.h>
#include <osv/debug.hh>
#include <osv/virtio.hh>
#include <osv/pci.hh>
#include <stdio.h>
#include "pci-drivers.hh"
#include "processor.hh"

namespace virtio {
namespace pci_transport {

namespace {

enum reg : u16 {
    r_host_features = 0x00, r_guest_features = 0x04, r_queue_pfn = 0x08, r_queue_num = 0x0c,
    r_queue_sel = 0x0e, r_queue_notify = 0x10, r_status = 0x12, r_isr = 0x13, r_config = 0x14,
};

/* Legacy devices have transitional ids 0x1000..0x103f, subsystem = type. */
u32 legacy_type(u16 device_id)
{
    switch (device_id) {
    case 0x1000: return type_net;
    case 0x1001: return type_blk;
    case 0x1004: return type_scsi;
    default: return device_id >= 0x1040 ? u32(device_id - 0x1040) : 0;
    }
}

class legacy_transport final : public transport {
public:
    legacy_transport(const pci::function &f)
        : io_(u16(f.bar[0] & ~3ULL)), type_(legacy_type(f.device))
    {
        snprintf(name_, sizeof(name_), "pci@%02x:%02x.%u", f.bus, f.slot, f.func);
    }

    const char *name() const override { return name_; }
    u32 device_type() const override { return type_; }
    u64 device_features() override { return processor::inl(io_ + r_host_features); }
    void driver_features(u64 f) override { processor::outl(io_ + r_guest_features, u32(f)); }
    u8 status() override { return processor::inb(io_ + r_status); }
    void set_status(u8 s) override { processor::outb(io_ + r_status, s); }

    u32 read_config(unsigned offset, unsigned width) override
    {
        u16 port = u16(io_ + r_config + offset);
        switch (width) {
        case 1: return processor::inb(port);
        case 2: return processor::inw(port);
        default: return processor::inl(port);
        }
    }

    unsigned queue_size(unsigned q) override
    {
        processor::outw(io_ + r_queue_sel, u16(q));
        return processor::inw(io_ + r_queue_num);
    }

    int setup_queue(unsigned q, vring &ring) override
    {
        if (ring.size() != queue_size(q)) {
            return -1;   /* legacy devices cannot shrink their rings */
        }
        processor::outl(io_ + r_queue_pfn, u32(ring.desc_phys() >> PAGE_SHIFT));
        return 0;
    }

    void notify(unsigned q) override { processor::outw(io_ + r_queue_notify, u16(q)); }

private:
    u16 io_;
    u32 type_;
    char name_[16];
};

} // namespace

hw::device *probe(const pci::function &f)
{
    if (f.vendor != pci_vendor || !(f.bar[0] & 1)) {
        return nullptr;
    }
    pci::enable_bus_master(f);
    auto *t = new legacy_transport(f);
    hw::device *dev = attach(*t);
    if (!dev) {
        delete t;
    }
    return dev;
}

} // namespace pci_transport
} // namespace virtio
