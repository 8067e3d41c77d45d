/* Kernel console output, shared by libc's stdio and the kernel logger. */
#ifndef OSV_CONSOLE_H
#define OSV_CONSOLE_H

#include <osv/types.h>

#ifdef __cplusplus
extern "C" {
#endif

void kernel_console_write(const char *s, size_t len);
size_t kernel_console_history(char *buf, size_t len);
void kernel_abort(const char *why) __attribute__((noreturn));

#ifdef __cplusplus
}
#endif

#endif /* OSV_CONSOLE_H */
