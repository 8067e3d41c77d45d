#ifndef _SYS_ZIO_H
#define _SYS_ZIO_H

#include <sys/zfs_context.h>

struct spa;

typedef struct zio_cksum {
    uint64_t zc_word[4];
} zio_cksum_t;

typedef enum zio_type {
    ZIO_TYPE_READ,
    ZIO_TYPE_WRITE,
} zio_type_t;

typedef struct zio {
    zio_type_t   io_type;
    struct spa  *io_spa;
    uint64_t     io_offset;
    uint64_t     io_size;
    void        *io_data;
    zio_cksum_t  io_cksum;
    int          io_error;
} zio_t;

void fletcher_4_native(const void *buf, uint64_t size, zio_cksum_t *zcp);
boolean_t zio_cksum_equal(const zio_cksum_t *a, const zio_cksum_t *b);
zio_t *zio_read(struct spa *spa, uint64_t offset, void *data, uint64_t size);
zio_t *zio_write(struct spa *spa, uint64_t offset, const void *data, uint64_t size);
int zio_wait(zio_t *zio);

#endif
