/* The exported osv_* C API. */
#include <osv/types.h>
#include <osv/debug.hh>
#include <osv/osv.h>
#include <osv/commands.hh>
#include <osv/sched.hh>
#include <osv/mempool.h>
#include <osv/runtime.hh>
#include <osv/timekeeping.hh>
#include "arch.hh"

#ifndef VERSION_MAJOR
#define VERSION_MAJOR 0
#endif
#ifndef VERSION_MINOR
#define VERSION_MINOR 0
#endif

namespace {
constexpr unsigned max_hooks = 8;
void (*shutdown_hooks[max_hooks])();
unsigned nhooks;
}

extern "C" {

const char *osv_version(void)
{
    return "mini-osv " STRINGIFY(VERSION_MAJOR) "." STRINGIFY(VERSION_MINOR);
}

unsigned osv_cpu_count(void)
{
    return arch::cpu_count();
}

u64 osv_uptime_ns(void)
{
    return timekeeping::uptime_ns();
}

const char *osv_cmdline(void)
{
    return osv::cmdline();
}

int osv_register_shutdown_hook(void (*hook)(void))
{
    if (nhooks == max_hooks) {
        return -1;
    }
    shutdown_hooks[nhooks++] = hook;
    return 0;
}

void osv_shutdown(void)
{
    while (nhooks) {
        shutdown_hooks[--nhooks]();
    }
    debugf("osv", "ran %u exit handlers, powering off", run_exit_handlers());
    arch::halt_forever();
}

u64 osv_current_thread_id(void)
{
    sched::thread *t = sched::thread::current();
    return t ? t->id() : 0;
}

void osv_yield(void)
{
    sched::yield();
}

size_t osv_free_memory(void)
{
    return mempool_free_page_count() * PAGE_SIZE;
}

} // extern "C"
