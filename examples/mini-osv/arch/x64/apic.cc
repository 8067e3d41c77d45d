/* Local APIC access in xAPIC (MMIO) or x2APIC (MSR) mode. */
#include <osv/types.h>
#include <osv/debug.hh>
#include <osv/mmu.hh>
#include "apic.hh"
#include "processor.hh"

#ifndef APIC_TIMER_DIVIDER
#define APIC_TIMER_DIVIDER 16
#endif

namespace apic {

constexpr u32 msr_apic_base = 0x1b;
constexpr u64 apic_base_enable = 1UL << 11;
constexpr u64 apic_base_x2 = 1UL << 10;
constexpr u32 reg_id = 0x20, reg_eoi = 0xb0, reg_svr = 0xf0, reg_icr_lo = 0x300;
constexpr u32 reg_icr_hi = 0x310, reg_lvt_timer = 0x320, reg_timer_init = 0x380;
constexpr u32 reg_timer_div = 0x3e0;

static bool use_x2;
static volatile u8 *mmio_base;

static u32 read(u32 reg)
{
    if (use_x2) {
        return u32(processor::rdmsr(0x800 + (reg >> 4)));
    }
    return processor::mmio_read32(mmio_base + reg);
}

static void write(u32 reg, u32 v)
{
    if (use_x2) {
        processor::wrmsr(0x800 + (reg >> 4), v);
    } else {
        processor::mmio_write32(mmio_base + reg, v);
    }
}

static u32 divider_code(unsigned div)
{
    switch (div) {
    case 1: return 0xb;
    case 2: return 0x0;
    case 4: return 0x1;
    case 8: return 0x2;
    case 32: return 0x8;
    case 64: return 0x9;
    case 128: return 0xa;
    default: return 0x3;  /* 16 */
    }
}

void init(bool x2apic)
{
    u64 base = processor::rdmsr(msr_apic_base);
    use_x2 = x2apic;
    base |= apic_base_enable | (x2apic ? apic_base_x2 : 0);
    processor::wrmsr(msr_apic_base, base);
    mmio_base = static_cast<volatile u8 *>(mmu::phys_to_virt(base & 0xfffff000UL));
    write(reg_svr, read(reg_svr) | 0x1ff);
    write(reg_timer_div, divider_code(APIC_TIMER_DIVIDER));
    tracef("apic", "apic %u enabled, %s mode", id(), use_x2 ? "x2apic" : "xapic");
}

u32 id()
{
    u32 v = read(reg_id);
    return use_x2 ? v : v >> 24;
}

void eoi()
{
    write(reg_eoi, 0);
}

void send_ipi(u32 dest, u8 vector)
{
    if (use_x2) {
        processor::wrmsr(0x800 + (reg_icr_lo >> 4), (u64(dest) << 32) | vector);
        return;
    }
    write(reg_icr_hi, dest << 24);
    write(reg_icr_lo, vector);
}

void start_timer(u32 initial_count, u8 vector)
{
    write(reg_lvt_timer, vector | (1u << 17));   /* periodic */
    write(reg_timer_init, initial_count);
}

} // namespace apic
