/* Page tables and address conversions. */
#ifndef OSV_MMU_HH
#define OSV_MMU_HH

#include <osv/types.h>

namespace mmu {

using phys = phys_addr_t;

constexpr uintptr_t phys_mem_base = 0xffff800000000000UL;

constexpr u64 pte_present  = 1UL << 0;
constexpr u64 pte_writable = 1UL << 1;
constexpr u64 pte_user     = 1UL << 2;
constexpr u64 pte_nocache  = 1UL << 4;
constexpr u64 pte_large    = 1UL << 7;
constexpr u64 pte_noexec   = 1UL << 63;
constexpr u64 pte_addr_mask = 0x000ffffffffff000UL;

inline void *phys_to_virt(phys pa) { return reinterpret_cast<void *>(pa + phys_mem_base); }
inline phys virt_to_phys(const void *va)
{
    return reinterpret_cast<uintptr_t>(va) - phys_mem_base;
}

void init();
int map_range(uintptr_t va, phys pa, size_t len, u64 flags);
int unmap_range(uintptr_t va, size_t len);
bool translate(uintptr_t va, phys *pa);
size_t mapped_pages();

} // namespace mmu

#endif /* OSV_MMU_HH */
