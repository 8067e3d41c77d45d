/* HPET clock source, located through the ACPI "HPET" table. */
#include <osv/types.h>
#include <osv/debug.hh>
#include <osv/acpi.hh>
#include <osv/mmu.hh>
#include <osv/timekeeping.hh>
#include "hpet.hh"
#include "processor.hh"

namespace hpet {

namespace {

constexpr u32 reg_caps = 0x00, reg_config = 0x10, reg_counter = 0xf0;

class hpet_source final : public timekeeping::source {
public:
    void setup(volatile u8 *regs)
    {
        regs_ = regs;
        u64 caps = read64(reg_caps);
        period_fs_ = caps >> 32;
        counter_64_ = caps & (1 << 13);
        write64(reg_config, read64(reg_config) | 1);   /* enable the counter */
    }

    u64 now_ns() override
    {
        u64 ticks = counter_64_ ? read64(reg_counter) : processor::mmio_read32(regs_ + reg_counter);
        return ticks / 1000000 * period_fs_ + (ticks % 1000000) * period_fs_ / 1000000;
    }
    const char *name() const override { return "hpet"; }
    int rating() const override { return 150; }

private:
    u64 read64(u32 reg) { return *reinterpret_cast<volatile u64 *>(regs_ + reg); }
    void write64(u32 reg, u64 v) { *reinterpret_cast<volatile u64 *>(regs_ + reg) = v; }

    volatile u8 *regs_ = nullptr;
    u64 period_fs_ = 0;
    bool counter_64_ = false;
};

hpet_source source;

} // namespace

bool init()
{
    const acpi::table_header *t = acpi::find_table("HPET");
    if (!t || t->length < 56) {
        return false;
    }
    /* The generic address structure follows the 4-byte block id; the
     * 64-bit address sits 4 bytes into it. */
    u64 base;
    __builtin_memcpy(&base, reinterpret_cast<const u8 *>(t) + sizeof(*t) + 4 + 4, sizeof(base));
    source.setup(static_cast<volatile u8 *>(mmu::phys_to_virt(base)));
    timekeeping::register_source(&source);
    return true;
}

} // namespace hpet
