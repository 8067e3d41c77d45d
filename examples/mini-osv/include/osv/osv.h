/* The kernel's own C API, callable from applications. */
#ifndef OSV_OSV_H
#define OSV_OSV_H

#include <osv/types.h>
#include <osv/export.h>

#ifdef __cplusplus
extern "C" {
#endif

OSV_API const char *osv_version(void);
OSV_API const char *osv_build_date(void);
OSV_API unsigned osv_cpu_count(void);
OSV_API u64 osv_uptime_ns(void);
OSV_API const char *osv_cmdline(void);
OSV_API int osv_register_shutdown_hook(void (*hook)(void));
OSV_API void osv_shutdown(void) __attribute__((noreturn));
OSV_API u64 osv_current_thread_id(void);
OSV_API void osv_yield(void);
OSV_API size_t osv_free_memory(void);

#ifdef __cplusplus
}
#endif

#endif /* OSV_OSV_H */
