/* libvdso.so: the functions an application calls without entering the
 * kernel (compiled, then linked with its own version script). */
#include <osv/types.h>

extern "C" long vdso_clock_ticks()
{
    static long ticks;
    return ++ticks;
}
