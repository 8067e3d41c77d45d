/* Architecture entry points used by the portable kernel. */
#ifndef ARCH_X64_ARCH_HH
#define ARCH_X64_ARCH_HH

#include <osv/types.h>

namespace arch {

struct cpu_features {
    bool sse4_2;
    bool avx;
    bool x2apic;
    bool rdrand;
    bool invariant_tsc;
    bool hypervisor;
    char vendor[13];
};

void detect_features();
const cpu_features &features();
void setup(const char *cmdline);
unsigned cpu_count();
u64 tsc_frequency_hz();
[[noreturn]] void halt_forever();

} // namespace arch

#endif /* ARCH_X64_ARCH_HH */
