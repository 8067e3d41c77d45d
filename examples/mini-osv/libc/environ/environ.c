/* libenviron.so: the environment of an application, a shared library of
 * its own (OSv builds it with one compile-and-link command). */
#include <string.h>

char *environ_table[16];

char *getenv(const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; i < 16 && environ_table[i]; i++) {
        if (strncmp(environ_table[i], name, n) == 0 && environ_table[i][n] == '=') {
            return environ_table[i] + n + 1;
        }
    }
    return 0;
}
