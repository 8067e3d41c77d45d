/* Object layer: byte ranges of numbered objects mapped onto pool blocks
 * through the ARC. */
#include <sys/zfs_context.h>
#include <sys/dmu.h>
#include <sys/arc.h>

uint64_t dmu_object_max_size(void)
{
    return 1ULL << DMU_OBJECT_SHIFT;
}

static uint64_t dmu_blkid(uint64_t object, uint64_t offset)
{
    return ((object << DMU_OBJECT_SHIFT) + offset) / SPA_BLOCKSIZE;
}

static int dmu_check(spa_t *spa, uint64_t object, uint64_t offset, uint64_t size)
{
    if (offset + size < offset || offset + size > dmu_object_max_size()) {
        return SET_ERROR(EINVAL);
    }
    if (dmu_blkid(object, offset + size - 1) * SPA_BLOCKSIZE >= spa->spa_size) {
        return SET_ERROR(ENOSPC);
    }
    return 0;
}

int dmu_read(spa_t *spa, uint64_t object, uint64_t offset, uint64_t size, void *buf)
{
    uint8_t *out = buf;
    int error = size ? dmu_check(spa, object, offset, size) : 0;

    while (error == 0 && size > 0) {
        uint64_t boff = offset % SPA_BLOCKSIZE;
        uint64_t n = SPA_BLOCKSIZE - boff < size ? SPA_BLOCKSIZE - boff : size;
        arc_buf_t *ab = arc_read(spa, dmu_blkid(object, offset));
        if (ab == NULL) {
            return SET_ERROR(EIO);
        }
        memcpy(out, (uint8_t *)ab->b_data + boff, n);
        arc_release(ab);
        out += n;
        offset += n;
        size -= n;
    }
    return error;
}

int dmu_write(spa_t *spa, uint64_t object, uint64_t offset, uint64_t size, const void *buf)
{
    const uint8_t *in = buf;
    int error = size ? dmu_check(spa, object, offset, size) : 0;

    while (error == 0 && size > 0) {
        uint64_t boff = offset % SPA_BLOCKSIZE;
        uint64_t n = SPA_BLOCKSIZE - boff < size ? SPA_BLOCKSIZE - boff : size;
        arc_buf_t *ab = arc_read(spa, dmu_blkid(object, offset));
        if (ab == NULL) {
            return SET_ERROR(EIO);
        }
        memcpy((uint8_t *)ab->b_data + boff, in, n);
        arc_mark_dirty(ab);
        arc_release(ab);
        in += n;
        offset += n;
        size -= n;
    }
    return error;
}
