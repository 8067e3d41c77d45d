#ifndef _SYS_SPA_H
#define _SYS_SPA_H

#include <sys/zfs_context.h>
#include <sys/zio.h>

typedef struct spa {
    char          spa_name[32];
    uint64_t      spa_guid;
    uint64_t      spa_size;
    uint64_t      spa_txg;
    uint8_t      *spa_store;
    zio_cksum_t  *spa_cksums;    /* one per block */
    struct spa   *spa_next;
} spa_t;

SOLARIS_API int spa_create(const char *name, uint64_t size);
SOLARIS_API int spa_destroy(const char *name);
SOLARIS_API spa_t *spa_lookup(const char *name);
uint64_t spa_guid(const spa_t *spa);
uint64_t spa_sync(spa_t *spa);
unsigned spa_count(void);

#endif
