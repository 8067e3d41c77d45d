/* When the kernel was built, as `uname -v` would show it. __DATE__ follows
 * SOURCE_DATE_EPOCH, which the Makefile exports (0 unless set), so two builds
 * of the same tree still give the same bytes. */
#include <osv/osv.h>

extern "C" const char *osv_build_date(void)
{
    return __DATE__;
}
