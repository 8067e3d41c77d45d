/* Kernel services as the ZFS-like code in libsolaris.so expects them. */
#ifndef _SYS_ZFS_CONTEXT_H
#define _SYS_ZFS_CONTEXT_H

#include <osv/types.h>
#include <osv/export.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <errno.h>

typedef int boolean_t;
#define B_FALSE 0
#define B_TRUE  1

#define KM_SLEEP 0
#define kmem_alloc(size, flags)  malloc(size)
#define kmem_zalloc(size, flags) calloc(1, (size))
#define kmem_free(p, size)       free(p)

#define SET_ERROR(e) (e)
#define ASSERT(x) do { if (!(x)) abort(); } while (0)
#define ASSERT3U(a, op, b) ASSERT((uint64_t)(a) op (uint64_t)(b))

#define SPA_MINBLOCKSHIFT 9
#define SPA_BLOCKSIZE     4096
#define P2ROUNDUP(x, a)   (-(-(x) & -(a)))

/* Entry points other kernel code may call. */
#define SOLARIS_API OSV_API

#endif
