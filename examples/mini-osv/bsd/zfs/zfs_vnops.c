/* File-level operations on top of the DMU: a znode is an object number
 * and a length. */
#include <sys/zfs_context.h>
#include <sys/spa.h>
#include <sys/dmu.h>
#include <sys/arc.h>

typedef struct znode {
    spa_t    *z_spa;
    uint64_t  z_id;
    uint64_t  z_size;
} znode_t;

static uint64_t next_object = 1;

SOLARIS_API znode_t *zfs_create(const char *pool)
{
    spa_t *spa = spa_lookup(pool);
    znode_t *zp;

    if (spa == NULL) {
        return NULL;
    }
    zp = kmem_zalloc(sizeof(*zp), KM_SLEEP);
    if (zp) {
        zp->z_spa = spa;
        zp->z_id = next_object++;
    }
    return zp;
}

SOLARIS_API long zfs_read(znode_t *zp, void *buf, uint64_t len, uint64_t off)
{
    if (off >= zp->z_size) {
        return 0;
    }
    if (len > zp->z_size - off) {
        len = zp->z_size - off;
    }
    int error = dmu_read(zp->z_spa, zp->z_id, off, len, buf);
    return error ? -error : (long)len;
}

SOLARIS_API long zfs_write(znode_t *zp, const void *buf, uint64_t len, uint64_t off)
{
    int error = dmu_write(zp->z_spa, zp->z_id, off, len, buf);

    if (error) {
        return -error;
    }
    if (off + len > zp->z_size) {
        zp->z_size = off + len;
    }
    return (long)len;
}

SOLARIS_API int zfs_fsync(znode_t *zp)
{
    spa_sync(zp->z_spa);
    return 0;
}

SOLARIS_API void zfs_inactive(znode_t *zp)
{
    kmem_free(zp, sizeof(*zp));
}

SOLARIS_API int zfs_init(void)
{
    printf("zfs: %u pools, arc holds %llu bytes\n", spa_count(), (unsigned long long)arc_size());
    return 0;
}
