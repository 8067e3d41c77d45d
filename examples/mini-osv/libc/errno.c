/* errno storage and strerror(). */
#include <osv/types.h>
#include <errno.h>
#include <string.h>

static int errno_value;

int *__errno_location(void)
{
    return &errno_value;
}

struct errno_name {
    int err;
    const char *text;
};

static const struct errno_name errno_names[] = {
    { EPERM, "Operation not permitted" },
    { ENOENT, "No such file or directory" },
    { EIO, "I/O error" },
    { EBADF, "Bad file descriptor" },
    { EAGAIN, "Resource temporarily unavailable" },
    { ENOMEM, "Out of memory" },
    { EBUSY, "Device or resource busy" },
    { EEXIST, "File exists" },
    { ENODEV, "No such device" },
    { ENOTDIR, "Not a directory" },
    { EISDIR, "Is a directory" },
    { EINVAL, "Invalid argument" },
    { ENOSPC, "No space left on device" },
    { ERANGE, "Result out of range" },
    { ENAMETOOLONG, "File name too long" },
    { ENOSYS, "Function not implemented" },
    { ENOTSUP, "Operation not supported" },
};

char *strerror(int err)
{
    for (size_t i = 0; i < ARRAY_SIZE(errno_names); i++) {
        if (errno_names[i].err == err) {
            return (char *)errno_names[i].text;
        }
    }
    return (char *)"Unknown error";
}
