/* Storage pools: named, in-memory backing stores with per-block checksums. */
#include <sys/zfs_context.h>
#include <sys/spa.h>
#include <sys/arc.h>
#include <sys/zio.h>

static spa_t *spa_list;

static uint64_t name_guid(const char *name)
{
    uint64_t h = 0xcbf29ce484222325ULL;   /* FNV-1a */

    for (; *name; name++) {
        h = (h ^ (uint8_t)*name) * 0x100000001b3ULL;
    }
    return h | 1;
}

spa_t *spa_lookup(const char *name)
{
    for (spa_t *spa = spa_list; spa; spa = spa->spa_next) {
        if (strcmp(spa->spa_name, name) == 0) {
            return spa;
        }
    }
    return NULL;
}

int spa_create(const char *name, uint64_t size)
{
    uint64_t nblocks = P2ROUNDUP(size, (uint64_t)SPA_BLOCKSIZE) / SPA_BLOCKSIZE;
    spa_t *spa;

    if (strlen(name) >= sizeof(spa->spa_name) || nblocks == 0) {
        return SET_ERROR(EINVAL);
    }
    if (spa_lookup(name)) {
        return SET_ERROR(EEXIST);
    }
    spa = kmem_zalloc(sizeof(*spa), KM_SLEEP);
    if (spa == NULL) {
        return SET_ERROR(ENOMEM);
    }
    strlcpy(spa->spa_name, name, sizeof(spa->spa_name));
    spa->spa_guid = name_guid(name);
    spa->spa_size = nblocks * SPA_BLOCKSIZE;
    spa->spa_store = kmem_zalloc(spa->spa_size, KM_SLEEP);
    spa->spa_cksums = kmem_zalloc(nblocks * sizeof(zio_cksum_t), KM_SLEEP);
    if (spa->spa_store == NULL || spa->spa_cksums == NULL) {
        kmem_free(spa->spa_store, spa->spa_size);
        kmem_free(spa->spa_cksums, 0);
        kmem_free(spa, sizeof(*spa));
        return SET_ERROR(ENOMEM);
    }
    /* Checksums of the zero-filled blocks. */
    for (uint64_t b = 0; b < nblocks; b++) {
        fletcher_4_native(spa->spa_store + b * SPA_BLOCKSIZE, SPA_BLOCKSIZE, &spa->spa_cksums[b]);
    }
    spa->spa_next = spa_list;
    spa_list = spa;
    printf("spa: created pool %s, %llu blocks\n", name, (unsigned long long)nblocks);
    return 0;
}

int spa_destroy(const char *name)
{
    for (spa_t **pp = &spa_list; *pp; pp = &(*pp)->spa_next) {
        spa_t *spa = *pp;
        if (strcmp(spa->spa_name, name) != 0) {
            continue;
        }
        arc_flush(spa);
        *pp = spa->spa_next;
        kmem_free(spa->spa_store, spa->spa_size);
        kmem_free(spa->spa_cksums, 0);
        kmem_free(spa, sizeof(*spa));
        return 0;
    }
    return SET_ERROR(ENOENT);
}

uint64_t spa_guid(const spa_t *spa)
{
    return spa->spa_guid;
}

uint64_t spa_sync(spa_t *spa)
{
    if (arc_flush(spa) == 0) {
        spa->spa_txg++;
    }
    return spa->spa_txg;
}

unsigned spa_count(void)
{
    unsigned n = 0;

    for (spa_t *spa = spa_list; spa; spa = spa->spa_next) {
        n++;
    }
    return n;
}
