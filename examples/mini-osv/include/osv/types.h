/* Basic fixed-size types and size helpers shared by the whole kernel. */
#ifndef OSV_TYPES_H
#define OSV_TYPES_H

#include <stddef.h>
#include <stdint.h>
#ifndef __cplusplus
#include <stdbool.h>
#endif

typedef uint8_t  u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t   s8;
typedef int16_t  s16;
typedef int32_t  s32;
typedef int64_t  s64;

typedef u64  phys_addr_t;
typedef long ssize_t;
typedef long off_t;

#define PAGE_SHIFT      12
#define PAGE_SIZE       (1UL << PAGE_SHIFT)
#define KiB(x)          ((size_t)(x) << 10)
#define MiB(x)          ((size_t)(x) << 20)

#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define ALIGN_UP(x, a)   ALIGN_DOWN((x) + (a) - 1, (a))
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))

#endif /* OSV_TYPES_H */
