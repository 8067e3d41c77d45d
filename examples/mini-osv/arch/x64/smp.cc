/* Tracks which CPUs are online. */
#include <osv/types.h>
#include <osv/debug.hh>
#include "smp.hh"
#include "apic.hh"

namespace smp {

static u64 online_mask;
static unsigned configured;

void init(unsigned ncpus)
{
    configured = ncpus;
    online_mask = 0;
    mark_online(0);
}

void mark_online(unsigned id)
{
    if (id < max_cpus) {
        __atomic_fetch_or(&online_mask, 1ULL << id, __ATOMIC_RELEASE);
    }
}

bool cpu_online(unsigned id)
{
    return id < max_cpus && (__atomic_load_n(&online_mask, __ATOMIC_ACQUIRE) & (1ULL << id));
}

unsigned online()
{
    unsigned n = 0;
    for (unsigned i = 0; i < configured && i < max_cpus; i++) {
        n += cpu_online(i);
    }
    return n;
}

void broadcast_ipi(u8 vector)
{
    u32 self = apic::id();
    for (unsigned i = 0; i < max_cpus; i++) {
        if (i != self && cpu_online(i)) {
            apic::send_ipi(i, vector);
        }
    }
}

} // namespace smp
