/* The Linux system call table, from the files scripts/gen-syscalls writes
 * into gen/include/osv/. */
#include <osv/types.h>
#include <osv/syscalls_config.h>

namespace {
struct syscall_entry {
    const char *name;
    int nargs;
};
}

#define SYSCALL0(name) { #name, 0 }
#define SYSCALL1(name, a) { #name, 1 }
#define SYSCALL2(name, a, b) { #name, 2 }
#define SYSCALL3(name, a, b, c) { #name, 3 }

static const syscall_entry syscall_table[] = {
#include <osv/syscalls.cc>
};

static const char *const syscall_tracepoints[] = {
#include <osv/syscall_tracepoints.cc>
};

extern "C" int linux_syscall_count()
{
    return sizeof(syscall_table) / sizeof(syscall_table[0]);
}

extern "C" const char *linux_syscall_name(int i)
{
    return i >= 0 && i < linux_syscall_count() ? syscall_table[i].name : nullptr;
}

extern "C" const char *linux_tracepoint_name(int i)
{
    return i >= 0 && i < int(sizeof(syscall_tracepoints) / sizeof(syscall_tracepoints[0])) ? syscall_tracepoints[i] : nullptr;
}

#ifdef CONF_syscall_exit
extern "C" int linux_has_exit()
{
    return 1;
}
#endif
