/* x86-64 instruction wrappers. */
#ifndef ARCH_X64_PROCESSOR_HH
#define ARCH_X64_PROCESSOR_HH

#include <osv/types.h>

namespace processor {

inline void outb(u16 port, u8 v) { asm volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
inline void outw(u16 port, u16 v) { asm volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
inline void outl(u16 port, u32 v) { asm volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }

inline u8 inb(u16 port)
{
    u8 v;
    asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

inline u16 inw(u16 port)
{
    u16 v;
    asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

inline u32 inl(u16 port)
{
    u32 v;
    asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

struct cpuid_result {
    u32 a, b, c, d;
};

inline cpuid_result cpuid(u32 leaf, u32 subleaf = 0)
{
    cpuid_result r;
    asm volatile("cpuid" : "=a"(r.a), "=b"(r.b), "=c"(r.c), "=d"(r.d) : "a"(leaf), "c"(subleaf));
    return r;
}

inline u64 rdtsc()
{
    u32 lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (u64(hi) << 32) | lo;
}

inline u64 rdmsr(u32 msr)
{
    u32 lo, hi;
    asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (u64(hi) << 32) | lo;
}

inline void wrmsr(u32 msr, u64 v)
{
    asm volatile("wrmsr" : : "c"(msr), "a"(u32(v)), "d"(u32(v >> 32)));
}

inline u64 read_cr3()
{
    u64 v;
    asm volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}

inline void write_cr3(u64 v) { asm volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
inline void irq_disable() { asm volatile("cli" : : : "memory"); }
inline void irq_enable() { asm volatile("sti" : : : "memory"); }
inline void halt() { asm volatile("hlt" : : : "memory"); }

inline u32 mmio_read32(const volatile void *addr) { return *static_cast<const volatile u32 *>(addr); }
inline void mmio_write32(volatile void *addr, u32 v) { *static_cast<volatile u32 *>(addr) = v; }

} // namespace processor

#endif /* ARCH_X64_PROCESSOR_HH */
