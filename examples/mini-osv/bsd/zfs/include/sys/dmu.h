#ifndef _SYS_DMU_H
#define _SYS_DMU_H

#include <sys/zfs_context.h>
#include <sys/spa.h>

#define DMU_OBJECT_SHIFT 20   /* blocks per object: 2^(20-12) */

int dmu_read(spa_t *spa, uint64_t object, uint64_t offset, uint64_t size, void *buf);
int dmu_write(spa_t *spa, uint64_t object, uint64_t offset, uint64_t size, const void *buf);
uint64_t dmu_object_max_size(void);

#endif
