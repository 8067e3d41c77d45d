/* Early x86-64 platform setup: CPU features, APIC, firmware tables and
 * the buses selected by the drivers profile. */
#include <osv/types.h>
#include <osv/debug.hh>
#include <osv/commands.hh>
#include <osv/drivers_config.h>
#include <stdlib.h>
#include "arch.hh"
#include "apic.hh"
#include "smp.hh"
#include "processor.hh"

#if CONF_drivers_acpi
#include <osv/acpi.hh>
#endif
#if CONF_drivers_pci
#include <osv/pci.hh>
#endif
#if CONF_drivers_hpet
#include "drivers/hpet.hh"
#endif
#if CONF_drivers_virtio_mmio
#include "drivers/virtio-mmio.hh"
#endif

namespace arch {

static unsigned ncpus = 1;

void setup(const char *cmdline)
{
    osv::set_cmdline(cmdline);
    detect_features();
    apic::init(features().x2apic);

#if CONF_drivers_acpi
    if (acpi::init()) {
        unsigned n = acpi::count_cpus();
        if (n) {
            ncpus = n;
        }
    }
#endif

    char value[16];
    if (osv::find_option("smp", value, sizeof(value))) {
        int n = atoi(value);
        if (n > 0) {
            ncpus = unsigned(n);
        }
    }
    if (ncpus > smp::max_cpus) {
        ncpus = smp::max_cpus;
    }
    smp::init(ncpus);

#if CONF_drivers_hpet
    if (!hpet::init()) {
        warnf("arch", "no HPET, staying on the TSC clock");
    }
#endif
#if CONF_drivers_pci
    debugf("arch", "pci: %u functions", pci::enumerate());
#endif
#if CONF_drivers_virtio_mmio
    debugf("arch", "virtio-mmio: %u devices", virtio::mmio::probe_cmdline(osv::cmdline()));
#endif
    debugf("arch", "%s cpu, %u cpus", features().vendor, ncpus);
}

unsigned cpu_count()
{
    return ncpus;
}

void halt_forever()
{
    processor::irq_disable();
    for (;;) {
        processor::halt();
    }
}

} // namespace arch
