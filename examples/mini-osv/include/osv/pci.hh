/* PCI configuration space access and bus enumeration. */
#ifndef OSV_PCI_HH
#define OSV_PCI_HH

#include <osv/types.h>

namespace pci {

struct function {
    u8 bus, slot, func;
    u16 vendor, device;
    u8 class_code, subclass, prog_if;
    u8 irq_line;
    u64 bar[6];
};

constexpr u8 cfg_vendor = 0x00, cfg_command = 0x04, cfg_class = 0x08;
constexpr u8 cfg_header = 0x0e, cfg_bar0 = 0x10, cfg_cap_ptr = 0x34, cfg_irq = 0x3c;
constexpr u8 cap_msix = 0x11, cap_vendor = 0x09;

u32 read_config(u8 bus, u8 slot, u8 func, u8 offset);
void write_config(u8 bus, u8 slot, u8 func, u8 offset, u32 value);
void enable_bus_master(const function &f);
bool find_capability(const function &f, u8 cap_id, u8 *offset);
unsigned enumerate();
unsigned function_count();

} // namespace pci

#endif /* OSV_PCI_HH */
