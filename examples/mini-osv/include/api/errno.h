/* mini-osv libc: <errno.h> */
#ifndef _MINI_OSV_API_ERRNO_H
#define _MINI_OSV_API_ERRNO_H

#ifdef __cplusplus
extern "C" {
#endif

int *__errno_location(void);
#define errno (*__errno_location())

#define EPERM         1
#define ENOENT        2
#define EIO           5
#define EBADF         9
#define EAGAIN       11
#define ENOMEM       12
#define EBUSY        16
#define EEXIST       17
#define ENODEV       19
#define ENOTDIR      20
#define EISDIR       21
#define EINVAL       22
#define ENOSPC       28
#define ERANGE       34
#define ENAMETOOLONG 36
#define ENOSYS       38
#define ENOTSUP      95

#ifdef __cplusplus
}
#endif

#endif
