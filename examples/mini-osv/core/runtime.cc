/* Freestanding C++ runtime: allocation operators, static constructors,
 * exit handlers and the abort path. */
#include <osv/types.h>
#include <osv/debug.hh>
#include <osv/export.h>
#include <osv/console.h>
#include <osv/runtime.hh>
#include <osv/drivers_config.h>
#include <ctype-data.h>
#include <stdlib.h>
#include "arch.hh"

#if CONF_drivers_pvpanic
#include "drivers/pvpanic.hh"
#endif

using init_fn = void (*)();
extern "C" OSV_HIDDEN init_fn __init_array_start[];
extern "C" OSV_HIDDEN init_fn __init_array_end[];

void *operator new(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        dbg::panic("operator new: out of memory (%zu bytes)", n);
    }
    return p;
}

void *operator new[](size_t n)
{
    return operator new(n);
}

void operator delete(void *p) noexcept
{
    free(p);
}

void operator delete[](void *p) noexcept
{
    free(p);
}

void operator delete(void *p, size_t) noexcept
{
    free(p);
}

void operator delete[](void *p, size_t) noexcept
{
    free(p);
}

namespace {

struct exit_handler {
    void (*fn)(void *);
    void *arg;
};

constexpr unsigned max_exit_handlers = 32;
exit_handler exit_handlers[max_exit_handlers];
unsigned nexit_handlers;
bool aborting;

} // namespace

extern "C" {

OSV_HIDDEN void *__dso_handle = &__dso_handle;

int __cxa_atexit(void (*fn)(void *), void *arg, void *dso)
{
    (void)dso;
    if (nexit_handlers == max_exit_handlers) {
        return -1;
    }
    exit_handlers[nexit_handlers++] = { fn, arg };
    return 0;
}

void __cxa_pure_virtual()
{
    kernel_abort("pure virtual function called");
}

void run_constructors()
{
    for (init_fn *f = __init_array_start; f < __init_array_end; f++) {
        (*f)();
    }
}

unsigned run_exit_handlers()
{
    unsigned n = nexit_handlers;
    while (nexit_handlers) {
        exit_handler &h = exit_handlers[--nexit_handlers];
        h.fn(h.arg);
    }
    return n;
}

void kernel_abort(const char *why)
{
    if (!aborting) {
        aborting = true;
        kernel_console_write("Aborted: ", 9);
        size_t n = 0;
        while (why[n]) {
            n++;
        }
        kernel_console_write(why, n);
        kernel_console_write("\n", 1);
#if CONF_drivers_pvpanic
        pvpanic::notify();
#endif
    }
    arch::halt_forever();
}

#if HIDE_SYMBOLS
/* With hidden symbols the handler table is private to the kernel. */
OSV_HIDDEN
#else
OSV_API
#endif
unsigned runtime_exit_handler_count()
{
    return nexit_handlers;
}

/* The class bits of a character, from the generated table. */
OSV_API
unsigned runtime_ctype_class(int c)
{
    return c >= 0 && c < 128 ? ctype_data[c] : 0;
}

} // extern "C"
