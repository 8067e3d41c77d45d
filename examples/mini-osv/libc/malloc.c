/* malloc() on top of the page allocator: power-of-two buckets from 16
 * bytes to half a page, and whole pages for anything larger. */
#include <osv/types.h>
#include <osv/export.h>
#include <osv/mempool.h>
#include <osv/spinlock.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#define MIN_SHIFT   4
#define MAX_SHIFT   (PAGE_SHIFT - 1)
#define NBUCKETS    (MAX_SHIFT - MIN_SHIFT + 1)
#define HDR_MAGIC   0x6d616c6cU

struct chunk_header {
    u32 magic;
    u32 shift;      /* bucket shift, or 0 for a page run */
    u64 npages;     /* size of a page run */
};

struct free_chunk {
    struct free_chunk *next;
};

static struct free_chunk *buckets[NBUCKETS];
static spinlock_t malloc_lock = SPINLOCK_INIT;
static size_t bytes_in_use;

static unsigned bucket_shift(size_t size)
{
    unsigned shift = MIN_SHIFT;

    while (((size_t)1 << shift) < size) {
        shift++;
    }
    return shift;
}

static int refill(unsigned shift)
{
    unsigned char *page = mempool_alloc_pages(1);
    size_t step = (size_t)1 << shift;

    if (!page) {
        return -1;
    }
    for (size_t off = 0; off + step <= PAGE_SIZE; off += step) {
        struct free_chunk *c = (struct free_chunk *)(page + off);
        c->next = buckets[shift - MIN_SHIFT];
        buckets[shift - MIN_SHIFT] = c;
    }
    return 0;
}

static struct chunk_header *header_of(void *p)
{
    struct chunk_header *h = (struct chunk_header *)p - 1;

    if (h->magic != HDR_MAGIC) {
        abort();
    }
    return h;
}

size_t malloc_usable_size(void *p)
{
    if (!p) {
        return 0;
    }
    struct chunk_header *h = header_of(p);
    size_t total = h->shift ? (size_t)1 << h->shift : h->npages * PAGE_SIZE;
    return total - sizeof(*h);
}

void *malloc(size_t size)
{
    size_t total = size + sizeof(struct chunk_header);
    struct chunk_header *h;

    if (total < size) {
        errno = ENOMEM;
        return NULL;
    }
    if (total > ((size_t)1 << MAX_SHIFT)) {
        size_t npages = DIV_ROUND_UP(total, PAGE_SIZE);
        h = mempool_alloc_pages(npages);
        if (!h) {
            errno = ENOMEM;
            return NULL;
        }
        h->shift = 0;
        h->npages = npages;
    } else {
        unsigned shift = bucket_shift(total);
        spin_lock(&malloc_lock);
        if (!buckets[shift - MIN_SHIFT] && refill(shift) < 0) {
            spin_unlock(&malloc_lock);
            errno = ENOMEM;
            return NULL;
        }
        h = (struct chunk_header *)buckets[shift - MIN_SHIFT];
        buckets[shift - MIN_SHIFT] = buckets[shift - MIN_SHIFT]->next;
        spin_unlock(&malloc_lock);
        h->shift = shift;
        h->npages = 0;
    }
    h->magic = HDR_MAGIC;
    __atomic_add_fetch(&bytes_in_use, malloc_usable_size(h + 1), __ATOMIC_RELAXED);
    return h + 1;
}

void free(void *p)
{
    if (!p) {
        return;
    }
    struct chunk_header *h = header_of(p);
    __atomic_sub_fetch(&bytes_in_use, malloc_usable_size(p), __ATOMIC_RELAXED);
    h->magic = 0;
    if (h->shift == 0) {
        mempool_free_pages(h, h->npages);
        return;
    }
    struct free_chunk *c = (struct free_chunk *)h;
    spin_lock(&malloc_lock);
    c->next = buckets[h->shift - MIN_SHIFT];
    buckets[h->shift - MIN_SHIFT] = c;
    spin_unlock(&malloc_lock);
}

void *calloc(size_t nmemb, size_t size)
{
    if (size && nmemb > (size_t)-1 / size) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = malloc(nmemb * size);
    if (p) {
        memset(p, 0, nmemb * size);
    }
    return p;
}

void *realloc(void *p, size_t size)
{
    if (!p) {
        return malloc(size);
    }
    if (size == 0) {
        free(p);
        return NULL;
    }
    size_t old = malloc_usable_size(p);
    if (size <= old) {
        return p;
    }
    void *q = malloc(size);
    if (q) {
        memcpy(q, p, old);
        free(p);
    }
    return q;
}

/* Debugging aid; hidden from applications when symbols are hidden. */
OSV_DEBUG_API size_t malloc_bytes_in_use(void)
{
    return __atomic_load_n(&bytes_in_use, __ATOMIC_RELAXED);
}
