/* Physical page allocator interface (implemented in core/mempool.cc). */
#ifndef OSV_MEMPOOL_H
#define OSV_MEMPOOL_H

#include <osv/types.h>

#ifdef __cplusplus
extern "C" {
#endif

void mempool_add_region(void *start, size_t len);
void *mempool_alloc_pages(size_t npages);
void mempool_free_pages(void *p, size_t npages);
size_t mempool_free_page_count(void);

#ifdef __cplusplus
}
#endif

#endif /* OSV_MEMPOOL_H */
