/* Four-level x86-64 page tables kept in pages from the page allocator. */
#include <osv/types.h>
#include <osv/debug.hh>
#include <osv/mmu.hh>
#include <osv/mempool.h>
#include <string.h>

namespace mmu {

struct page_table {
    u64 entries[512];
};

static page_table *root;
static size_t nmapped;

static unsigned index_at(uintptr_t va, unsigned level)
{
    return (va >> (PAGE_SHIFT + 9 * level)) & 511;
}

static page_table *alloc_table()
{
    auto *t = static_cast<page_table *>(mempool_alloc_pages(1));
    if (t) {
        memset(t, 0, sizeof(*t));
    }
    return t;
}

static page_table *table_of(u64 pte)
{
    return static_cast<page_table *>(phys_to_virt(pte & pte_addr_mask));
}

/* Returns the level-0 entry for va, creating tables on the way if asked. */
static u64 *walk(uintptr_t va, bool create)
{
    page_table *t = root;
    for (unsigned level = 3; level > 0; level--) {
        u64 &e = t->entries[index_at(va, level)];
        if (!(e & pte_present)) {
            if (!create) {
                return nullptr;
            }
            page_table *next = alloc_table();
            if (!next) {
                return nullptr;
            }
            e = virt_to_phys(next) | pte_present | pte_writable;
        }
        t = table_of(e);
    }
    return &t->entries[index_at(va, 0)];
}

void init()
{
    root = alloc_table();
    kassert(root != nullptr);
}

int map_range(uintptr_t va, phys pa, size_t len, u64 flags)
{
    if ((va | pa) & (PAGE_SIZE - 1)) {
        return -1;
    }
    for (size_t off = 0; off < len; off += PAGE_SIZE) {
        u64 *pte = walk(va + off, true);
        if (!pte) {
            return -1;
        }
        if (!(*pte & pte_present)) {
            nmapped++;
        }
        *pte = ((pa + off) & pte_addr_mask) | flags | pte_present;
    }
    return 0;
}

int unmap_range(uintptr_t va, size_t len)
{
    int n = 0;
    for (size_t off = 0; off < len; off += PAGE_SIZE) {
        u64 *pte = walk(va + off, false);
        if (pte && (*pte & pte_present)) {
            *pte = 0;
            nmapped--;
            n++;
        }
    }
    return n;
}

bool translate(uintptr_t va, phys *pa)
{
    u64 *pte = walk(va, false);
    if (!pte || !(*pte & pte_present)) {
        return false;
    }
    *pa = (*pte & pte_addr_mask) | (va & (PAGE_SIZE - 1));
    return true;
}

size_t mapped_pages()
{
    return nmapped;
}

} // namespace mmu
