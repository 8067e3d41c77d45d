/* Kernel logging and panics. */
#ifndef OSV_DEBUG_HH
#define OSV_DEBUG_HH

#include <osv/types.h>
#include <stdarg.h>

#if 0
/* Per-subsystem log levels, for when one global level is not enough.
 * Not built: dbg::set_level covers the kernel's needs for now. */
namespace dbg { void set_level(const char *tag, unsigned level); }
#endif

namespace dbg {

enum class level : u8 { error = 0, warn = 1, info = 2, trace = 3 };

void set_level(level l);
level current_level();
void vlog(level l, const char *tag, const char *fmt, va_list ap);
void log(level l, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
[[noreturn]] void panic(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
unsigned messages_logged();

} // namespace dbg

#define debugf(tag, ...) ::dbg::log(::dbg::level::info, tag, __VA_ARGS__)
#define warnf(tag, ...)  ::dbg::log(::dbg::level::warn, tag, __VA_ARGS__)
#define tracef(tag, ...) ::dbg::log(::dbg::level::trace, tag, __VA_ARGS__)

#ifdef NDEBUG
#define kassert(cond) do { (void)sizeof(cond); } while (0)
#else
#define kassert(cond) \
    do { if (unlikely(!(cond))) ::dbg::panic("assertion failed: %s", #cond); } while (0)
#endif

#endif /* OSV_DEBUG_HH */
