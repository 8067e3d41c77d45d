/* The version string scripts/gen-version-header writes from git describe. */
#include <osv/version.h>

extern "C" const char *osv_git_version()
{
    return OSV_VERSION;
}
