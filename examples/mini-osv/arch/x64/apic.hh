/* Local APIC. */
#ifndef ARCH_X64_APIC_HH
#define ARCH_X64_APIC_HH

#include <osv/types.h>

namespace apic {

void init(bool x2apic);
u32 id();
void eoi();
void send_ipi(u32 dest, u8 vector);
void start_timer(u32 initial_count, u8 vector);

} // namespace apic

#endif
