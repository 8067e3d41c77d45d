#include <string.h>

extern char *environ_table[16];

int putenv(char *entry)
{
    for (int i = 0; i < 16; i++) {
        if (!environ_table[i]) {
            environ_table[i] = entry;
            return 0;
        }
    }
    return -1;
}
