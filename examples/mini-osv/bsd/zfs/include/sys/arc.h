#ifndef _SYS_ARC_H
#define _SYS_ARC_H

#include <sys/zfs_context.h>
#include <sys/spa.h>

typedef struct arc_buf {
    spa_t           *b_spa;
    uint64_t         b_blkid;
    void            *b_data;
    int              b_refcnt;
    boolean_t        b_dirty;
    struct arc_buf  *b_hash_next;
    struct arc_buf  *b_lru_prev;
    struct arc_buf  *b_lru_next;
} arc_buf_t;

arc_buf_t *arc_read(spa_t *spa, uint64_t blkid);
void arc_release(arc_buf_t *buf);
void arc_mark_dirty(arc_buf_t *buf);
int arc_flush(spa_t *spa);
uint64_t arc_size(void);

#endif
