/* CPU feature detection. */
#include <osv/types.h>
#include <osv/debug.hh>
#include <string.h>
#include "arch.hh"
#include "processor.hh"

namespace arch {

static cpu_features feats;
static u64 tsc_hz;

void detect_features()
{
    auto leaf0 = processor::cpuid(0);
    memcpy(feats.vendor + 0, &leaf0.b, 4);
    memcpy(feats.vendor + 4, &leaf0.d, 4);
    memcpy(feats.vendor + 8, &leaf0.c, 4);
    feats.vendor[12] = '\0';

    auto leaf1 = processor::cpuid(1);
    feats.sse4_2 = leaf1.c & (1u << 20);
    feats.x2apic = leaf1.c & (1u << 21);
    feats.avx = leaf1.c & (1u << 28);
    feats.rdrand = leaf1.c & (1u << 30);
    feats.hypervisor = leaf1.c & (1u << 31);

    auto ext = processor::cpuid(0x80000000);
    if (ext.a >= 0x80000007) {
        feats.invariant_tsc = processor::cpuid(0x80000007).d & (1u << 8);
    }

    /* Leaf 0x15 gives the TSC/crystal ratio on recent CPUs. */
    if (leaf0.a >= 0x15) {
        auto r = processor::cpuid(0x15);
        if (r.a && r.b && r.c) {
            tsc_hz = u64(r.c) * r.b / r.a;
        }
    }
    if (!tsc_hz) {
        tsc_hz = 1000000000ULL;
    }
}

const cpu_features &features()
{
    return feats;
}

u64 tsc_frequency_hz()
{
    return tsc_hz;
}

} // namespace arch
