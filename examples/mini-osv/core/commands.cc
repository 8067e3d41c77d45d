/* Kernel command line: storage, argv splitting and key=value options. */
#include <osv/types.h>
#include <osv/debug.hh>
#include <osv/commands.hh>
#include <string.h>

namespace osv {

static char saved[512];

void set_cmdline(const char *line)
{
    strlcpy(saved, line ? line : "", sizeof(saved));
}

const char *cmdline()
{
    return saved;
}

int split_args(char *line, char **argv, int max_args)
{
    int argc = 0;
    char *save = nullptr;
    for (char *tok = strtok_r(line, " \t", &save); tok && argc < max_args;
         tok = strtok_r(nullptr, " \t", &save)) {
        argv[argc++] = tok;
    }
    return argc;
}

bool find_option(const char *key, char *value, size_t len)
{
    size_t klen = strlen(key);
    for (const char *p = saved; *p;) {
        p += strspn(p, " ");
        size_t tlen = strcspn(p, " ");
        if (tlen > klen + 2 && p[0] == '-' && p[1] == '-' && strncmp(p + 2, key, klen) == 0 &&
            p[2 + klen] == '=') {
            size_t vlen = tlen - klen - 3;
            if (vlen >= len) {
                vlen = len - 1;
            }
            memcpy(value, p + klen + 3, vlen);
            value[vlen] = '\0';
            return true;
        }
        p += tlen;
    }
    return false;
}

bool has_flag(const char *flag)
{
    size_t flen = strlen(flag);
    for (const char *p = saved; *p;) {
        p += strspn(p, " ");
        size_t tlen = strcspn(p, " ");
        if (tlen == flen + 2 && p[0] == '-' && p[1] == '-' && strncmp(p + 2, flag, flen) == 0) {
            return true;
        }
        p += tlen;
    }
    return false;
}

} // namespace osv
