/* Kernel log: a level filter and a prefix in front of every message. */
#include <osv/types.h>
#include <osv/debug.hh>
#include <osv/console.h>
#include <stdio.h>
#include <string.h>

namespace dbg {

static level threshold = level::info;
static unsigned logged;

static const char *level_names[] = { "error", "warn", "info", "trace" };

void set_level(level l)
{
    threshold = l;
}

level current_level()
{
    return threshold;
}

unsigned messages_logged()
{
    return logged;
}

void vlog(level l, const char *tag, const char *fmt, va_list ap)
{
    if (l > threshold) {
        return;
    }
    char line[200];
    int n = snprintf(line, sizeof(line), "[%s] %s: ", level_names[unsigned(l)], tag);
    if (n < 0 || size_t(n) >= sizeof(line)) {
        n = 0;
    }
    vsnprintf(line + n, sizeof(line) - size_t(n), fmt, ap);
    size_t len = strnlen(line, sizeof(line) - 2);
    line[len++] = '\n';
    kernel_console_write(line, len);
    __atomic_add_fetch(&logged, 1, __ATOMIC_RELAXED);
}

void log(level l, const char *tag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(l, tag, fmt, ap);
    va_end(ap);
}

void panic(const char *fmt, ...)
{
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    kernel_abort(msg);
}

} // namespace dbg
