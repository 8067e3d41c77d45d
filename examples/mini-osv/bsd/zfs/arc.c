/* A small buffer cache: hash lookup by (pool, block) plus LRU eviction
 * of unreferenced clean buffers. */
#include <sys/zfs_context.h>
#include <sys/arc.h>
#include <sys/zio.h>

#define ARC_HASH_SIZE 64
#define ARC_MAX_BUFS  256

static arc_buf_t *arc_hash[ARC_HASH_SIZE];
static arc_buf_t *lru_head, *lru_tail;   /* head = most recently used */
static uint64_t arc_nbufs;

static unsigned arc_hash_index(const spa_t *spa, uint64_t blkid)
{
    uint64_t h = spa->spa_guid ^ (blkid * 0x9e3779b97f4a7c15ULL);
    return (unsigned)(h >> 58) % ARC_HASH_SIZE;
}

static void lru_remove(arc_buf_t *b)
{
    if (b->b_lru_prev) {
        b->b_lru_prev->b_lru_next = b->b_lru_next;
    } else {
        lru_head = b->b_lru_next;
    }
    if (b->b_lru_next) {
        b->b_lru_next->b_lru_prev = b->b_lru_prev;
    } else {
        lru_tail = b->b_lru_prev;
    }
    b->b_lru_prev = b->b_lru_next = NULL;
}

static void lru_push_front(arc_buf_t *b)
{
    b->b_lru_next = lru_head;
    b->b_lru_prev = NULL;
    if (lru_head) {
        lru_head->b_lru_prev = b;
    }
    lru_head = b;
    if (!lru_tail) {
        lru_tail = b;
    }
}

static void arc_hash_remove(arc_buf_t *b)
{
    arc_buf_t **pp = &arc_hash[arc_hash_index(b->b_spa, b->b_blkid)];

    while (*pp != b) {
        pp = &(*pp)->b_hash_next;
    }
    *pp = b->b_hash_next;
}

static int arc_write_back(arc_buf_t *b)
{
    if (!b->b_dirty) {
        return 0;
    }
    int error = zio_wait(zio_write(b->b_spa, b->b_blkid * SPA_BLOCKSIZE, b->b_data, SPA_BLOCKSIZE));
    if (error == 0) {
        b->b_dirty = B_FALSE;
    }
    return error;
}

static void arc_evict_one(void)
{
    for (arc_buf_t *b = lru_tail; b; b = b->b_lru_prev) {
        if (b->b_refcnt == 0 && arc_write_back(b) == 0) {
            lru_remove(b);
            arc_hash_remove(b);
            kmem_free(b->b_data, SPA_BLOCKSIZE);
            kmem_free(b, sizeof(*b));
            arc_nbufs--;
            return;
        }
    }
}

arc_buf_t *arc_read(spa_t *spa, uint64_t blkid)
{
    unsigned idx = arc_hash_index(spa, blkid);

    for (arc_buf_t *b = arc_hash[idx]; b; b = b->b_hash_next) {
        if (b->b_spa == spa && b->b_blkid == blkid) {
            b->b_refcnt++;
            lru_remove(b);
            lru_push_front(b);
            return b;
        }
    }
    if (arc_nbufs >= ARC_MAX_BUFS) {
        arc_evict_one();
    }
    arc_buf_t *b = kmem_zalloc(sizeof(*b), KM_SLEEP);
    if (b == NULL) {
        return NULL;
    }
    b->b_data = kmem_alloc(SPA_BLOCKSIZE, KM_SLEEP);
    if (b->b_data == NULL ||
        zio_wait(zio_read(spa, blkid * SPA_BLOCKSIZE, b->b_data, SPA_BLOCKSIZE)) != 0) {
        kmem_free(b->b_data, SPA_BLOCKSIZE);
        kmem_free(b, sizeof(*b));
        return NULL;
    }
    b->b_spa = spa;
    b->b_blkid = blkid;
    b->b_refcnt = 1;
    b->b_hash_next = arc_hash[idx];
    arc_hash[idx] = b;
    lru_push_front(b);
    arc_nbufs++;
    return b;
}

void arc_release(arc_buf_t *buf)
{
    ASSERT(buf->b_refcnt > 0);
    buf->b_refcnt--;
}

void arc_mark_dirty(arc_buf_t *buf)
{
    buf->b_dirty = B_TRUE;
}

int arc_flush(spa_t *spa)
{
    int error = 0;

    for (arc_buf_t *b = lru_head; b; b = b->b_lru_next) {
        if (b->b_spa == spa) {
            int e = arc_write_back(b);
            if (e && !error) {
                error = e;
            }
        }
    }
    return error;
}

uint64_t arc_size(void)
{
    return arc_nbufs * SPA_BLOCKSIZE;
}
