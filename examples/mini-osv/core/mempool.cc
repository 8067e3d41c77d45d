/* Page allocator: a sorted list of free page runs, merged on free. */
#include <osv/types.h>
#include <osv/debug.hh>
#include <osv/mempool.h>
#include <osv/spinlock.h>

namespace {

struct free_run {
    free_run *next;
    size_t npages;
};

free_run *free_list;
size_t free_pages;
spinlock_t lock = SPINLOCK_INIT;

void insert_run(u8 *start, size_t npages)
{
    auto *run = reinterpret_cast<free_run *>(start);
    run->npages = npages;

    free_run **pp = &free_list;
    while (*pp && reinterpret_cast<u8 *>(*pp) < start) {
        pp = &(*pp)->next;
    }
    run->next = *pp;
    *pp = run;

    /* Merge with the following run, then with the preceding one. */
    if (run->next && reinterpret_cast<u8 *>(run) + run->npages * PAGE_SIZE ==
                     reinterpret_cast<u8 *>(run->next)) {
        run->npages += run->next->npages;
        run->next = run->next->next;
    }
    if (pp != &free_list) {
        auto *prev = reinterpret_cast<free_run *>(reinterpret_cast<u8 *>(pp) -
                                                  __builtin_offsetof(free_run, next));
        if (reinterpret_cast<u8 *>(prev) + prev->npages * PAGE_SIZE == reinterpret_cast<u8 *>(run)) {
            prev->npages += run->npages;
            prev->next = run->next;
        }
    }
    free_pages += npages;
}

} // namespace

extern "C" void mempool_add_region(void *start, size_t len)
{
    uintptr_t begin = ALIGN_UP(reinterpret_cast<uintptr_t>(start), PAGE_SIZE);
    uintptr_t end = ALIGN_DOWN(reinterpret_cast<uintptr_t>(start) + len, PAGE_SIZE);
    if (end <= begin) {
        return;
    }
    spin_lock(&lock);
    insert_run(reinterpret_cast<u8 *>(begin), (end - begin) / PAGE_SIZE);
    spin_unlock(&lock);
}

extern "C" void *mempool_alloc_pages(size_t npages)
{
    if (npages == 0) {
        return nullptr;
    }
    spin_lock(&lock);
    for (free_run **pp = &free_list; *pp; pp = &(*pp)->next) {
        free_run *run = *pp;
        if (run->npages < npages) {
            continue;
        }
        /* Carve from the end so the run header stays in place. */
        run->npages -= npages;
        u8 *p = reinterpret_cast<u8 *>(run) + run->npages * PAGE_SIZE;
        if (run->npages == 0) {
            *pp = run->next;
        }
        free_pages -= npages;
        spin_unlock(&lock);
        return p;
    }
    spin_unlock(&lock);
    warnf("mempool", "out of memory allocating %zu pages", npages);
    return nullptr;
}

extern "C" void mempool_free_pages(void *p, size_t npages)
{
    kassert((reinterpret_cast<uintptr_t>(p) & (PAGE_SIZE - 1)) == 0);
    spin_lock(&lock);
    insert_run(static_cast<u8 *>(p), npages);
    spin_unlock(&lock);
}

extern "C" size_t mempool_free_page_count(void)
{
    return __atomic_load_n(&free_pages, __ATOMIC_RELAXED);
}
