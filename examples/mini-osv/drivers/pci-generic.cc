/* PCI configuration mechanism #1 and bus enumeration.  Each function found
 * is offered to the PCI drivers that the drivers profile built in. */
#include <osv/types.h>
#include <osv/debug.hh>
#include <osv/pci.hh>
#include <osv/drivers_config.h>
#include "pci-drivers.hh"
#if CONF_drivers_virtio_pci
#include <osv/virtio.hh>
#endif
#include "processor.hh"

namespace pci {

constexpr u16 config_address = 0xcf8, config_data = 0xcfc;
static unsigned nfunctions;

u32 read_config(u8 bus, u8 slot, u8 func, u8 offset)
{
    u32 addr = (1u << 31) | (u32(bus) << 16) | (u32(slot) << 11) | (u32(func) << 8) | (offset & 0xfc);
    processor::outl(config_address, addr);
    return processor::inl(config_data);
}

void write_config(u8 bus, u8 slot, u8 func, u8 offset, u32 value)
{
    u32 addr = (1u << 31) | (u32(bus) << 16) | (u32(slot) << 11) | (u32(func) << 8) | (offset & 0xfc);
    processor::outl(config_address, addr);
    processor::outl(config_data, value);
}

void enable_bus_master(const function &f)
{
    u32 cmd = read_config(f.bus, f.slot, f.func, cfg_command);
    write_config(f.bus, f.slot, f.func, cfg_command, cmd | 0x7);
}

bool find_capability(const function &f, u8 cap_id, u8 *offset)
{
    u8 ptr = u8(read_config(f.bus, f.slot, f.func, cfg_cap_ptr));
    for (int guard = 0; ptr && guard < 48; guard++) {
        u32 cap = read_config(f.bus, f.slot, f.func, ptr);
        if ((cap & 0xff) == cap_id) {
            *offset = ptr;
            return true;
        }
        ptr = u8(cap >> 8);
    }
    return false;
}

static void read_bars(function &f)
{
    for (unsigned i = 0; i < 6; i++) {
        u8 off = u8(cfg_bar0 + 4 * i);
        u32 lo = read_config(f.bus, f.slot, f.func, off);
        f.bar[i] = lo & 1 ? lo & ~3u : lo & ~0xfu;
        if (!(lo & 1) && ((lo >> 1) & 3) == 2 && i < 5) {
            f.bar[i] |= u64(read_config(f.bus, f.slot, f.func, u8(off + 4))) << 32;
            f.bar[++i] = 0;
        }
    }
}

static void offer(const function &f)
{
    hw::device *dev = nullptr;
#if CONF_drivers_virtio_pci
    if (!dev && f.vendor == virtio::pci_vendor) {
        dev = virtio::pci_transport::probe(f);
    }
#endif
#if CONF_drivers_ahci
    if (!dev && f.class_code == 0x01 && f.subclass == 0x06) {
        dev = ahci::probe(f);
    }
#endif
#if CONF_drivers_ide
    if (!dev && f.class_code == 0x01 && f.subclass == 0x01) {
        dev = ide::probe(f);
    }
#endif
    if (!dev) {
        tracef("pci", "%02x:%02x.%u %04x:%04x has no driver", f.bus, f.slot, f.func, f.vendor, f.device);
    }
}

unsigned enumerate()
{
    nfunctions = 0;
    for (unsigned bus = 0; bus < 256; bus++) {
        for (unsigned slot = 0; slot < 32; slot++) {
            unsigned nfunc = 1;
            for (unsigned fn = 0; fn < nfunc; fn++) {
                u32 id = read_config(u8(bus), u8(slot), u8(fn), cfg_vendor);
                if ((id & 0xffff) == 0xffff) {
                    continue;
                }
                if (fn == 0 && (read_config(u8(bus), u8(slot), 0, cfg_header & 0xfc) >> 16) & 0x80) {
                    nfunc = 8;
                }
                function f = {};
                f.bus = u8(bus);
                f.slot = u8(slot);
                f.func = u8(fn);
                f.vendor = u16(id);
                f.device = u16(id >> 16);
                u32 cls = read_config(f.bus, f.slot, f.func, cfg_class);
                f.class_code = u8(cls >> 24);
                f.subclass = u8(cls >> 16);
                f.prog_if = u8(cls >> 8);
                f.irq_line = u8(read_config(f.bus, f.slot, f.func, cfg_irq));
                read_bars(f);
                nfunctions++;
                offer(f);
            }
        }
    }
    return nfunctions;
}

unsigned function_count()
{
    return nfunctions;
}

} // namespace pci
