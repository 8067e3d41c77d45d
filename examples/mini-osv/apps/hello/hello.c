/* A minimal mini-osv application.  It is linked as a shared object with
 * no libc of its own: every library call below is resolved against the
 * kernel's exported symbols when the application is loaded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <osv/osv.h>

int main(int argc, char **argv)
{
    const char *who = argc > 1 ? argv[1] : "world";
    size_t len = strlen(who) + 32;
    char *greeting = malloc(len);

    if (!greeting) {
        return 1;
    }
    snprintf(greeting, len, "Hello, %s!", who);
    printf("%s (%s on %u cpus)\n", greeting, osv_version(), osv_cpu_count());
    free(greeting);
    return 0;
}
