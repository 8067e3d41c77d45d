/* QEMU pvpanic: tells the host that the guest panicked. */
#include <osv/types.h>
#include <osv/debug.hh>
#include <osv/acpi.hh>
#include <string.h>
#include "pvpanic.hh"
#include "processor.hh"

namespace pvpanic {

constexpr u16 default_port = 0x505;
constexpr u8 event_panicked = 1;

static u16 port;

bool init()
{
    /* The device is described in the DSDT as "QEMU0001". */
    const acpi::table_header *dsdt = acpi::find_table("DSDT");
    if (!dsdt) {
        return false;
    }
    auto *p = reinterpret_cast<const char *>(dsdt);
    for (u32 i = 0; i + 8 <= dsdt->length; i++) {
        if (memcmp(p + i, "QEMU0001", 8) == 0) {
            port = default_port;
            return true;
        }
    }
    return false;
}

void notify()
{
    if (!port && !init()) {
        return;
    }
    if (processor::inb(port) & event_panicked) {
        processor::outb(port, event_panicked);
    }
}

} // namespace pvpanic
