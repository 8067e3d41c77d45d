/*
 * Forced into every C and C++ translation unit of the kernel with
 * "-include compiler/include/intrinsics.hh".  It has to stay valid C as
 * well as C++, and it must not include any other header.
 */
#ifndef MINI_OSV_COMPILER_INTRINSICS_HH
#define MINI_OSV_COMPILER_INTRINSICS_HH

#define likely(x)        __builtin_expect(!!(x), 1)
#define unlikely(x)      __builtin_expect(!!(x), 0)
#define barrier()        __asm__ __volatile__("" : : : "memory")
#define cpu_relax()      __asm__ __volatile__("pause" : : : "memory")

#define __packed         __attribute__((packed))
#define __aligned(n)     __attribute__((aligned(n)))
#define __noinline       __attribute__((noinline))
#define __cold           __attribute__((cold))
#define __maybe_unused   __attribute__((unused))

#define ARRAY_SIZE(a)    (sizeof(a) / sizeof((a)[0]))
#define READ_ONCE(x)     (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

#define STRINGIFY_(x)    #x
#define STRINGIFY(x)     STRINGIFY_(x)

#ifdef __cplusplus
#define __BEGIN_DECLS    extern "C" {
#define __END_DECLS      }
#else
#define __BEGIN_DECLS
#define __END_DECLS
#endif

#endif /* MINI_OSV_COMPILER_INTRINSICS_HH */
