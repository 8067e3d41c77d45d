/* Block I/O against a pool's backing store, with Fletcher-4 checksums. */
#include <sys/zfs_context.h>
#include <sys/zio.h>
#include <sys/spa.h>

void fletcher_4_native(const void *buf, uint64_t size, zio_cksum_t *zcp)
{
    const uint32_t *ip = buf;
    const uint32_t *ipend = ip + (size / sizeof(uint32_t));
    uint64_t a = 0, b = 0, c = 0, d = 0;

    for (; ip < ipend; ip++) {
        a += ip[0];
        b += a;
        c += b;
        d += c;
    }
    zcp->zc_word[0] = a;
    zcp->zc_word[1] = b;
    zcp->zc_word[2] = c;
    zcp->zc_word[3] = d;
}

boolean_t zio_cksum_equal(const zio_cksum_t *a, const zio_cksum_t *b)
{
    return memcmp(a, b, sizeof(*a)) == 0;
}

static zio_t *zio_create(spa_t *spa, zio_type_t type, uint64_t offset, void *data, uint64_t size)
{
    zio_t *zio = kmem_zalloc(sizeof(*zio), KM_SLEEP);

    if (zio == NULL) {
        return NULL;
    }
    zio->io_type = type;
    zio->io_spa = spa;
    zio->io_offset = offset;
    zio->io_size = size;
    zio->io_data = data;
    return zio;
}

zio_t *zio_read(spa_t *spa, uint64_t offset, void *data, uint64_t size)
{
    return zio_create(spa, ZIO_TYPE_READ, offset, data, size);
}

zio_t *zio_write(spa_t *spa, uint64_t offset, const void *data, uint64_t size)
{
    return zio_create(spa, ZIO_TYPE_WRITE, offset, (void *)data, size);
}

int zio_wait(zio_t *zio)
{
    spa_t *spa = zio->io_spa;
    uint64_t blk = zio->io_offset / SPA_BLOCKSIZE;
    int error = 0;

    if (zio->io_offset % SPA_BLOCKSIZE || zio->io_size != SPA_BLOCKSIZE ||
        zio->io_offset + zio->io_size > spa->spa_size) {
        error = SET_ERROR(EINVAL);
    } else if (zio->io_type == ZIO_TYPE_WRITE) {
        fletcher_4_native(zio->io_data, zio->io_size, &zio->io_cksum);
        memcpy(spa->spa_store + zio->io_offset, zio->io_data, zio->io_size);
        spa->spa_cksums[blk] = zio->io_cksum;
    } else {
        memcpy(zio->io_data, spa->spa_store + zio->io_offset, zio->io_size);
        fletcher_4_native(zio->io_data, zio->io_size, &zio->io_cksum);
        if (!zio_cksum_equal(&zio->io_cksum, &spa->spa_cksums[blk])) {
            error = SET_ERROR(EIO);
        }
    }
    kmem_free(zio, sizeof(*zio));
    return error;
}
