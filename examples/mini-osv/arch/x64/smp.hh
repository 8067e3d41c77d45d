/* Secondary CPU bookkeeping. */
#ifndef ARCH_X64_SMP_HH
#define ARCH_X64_SMP_HH

#include <osv/types.h>

namespace smp {

constexpr unsigned max_cpus = 64;

void init(unsigned ncpus);
unsigned online();
bool cpu_online(unsigned id);
void mark_online(unsigned id);
void broadcast_ipi(u8 vector);

} // namespace smp

#endif
