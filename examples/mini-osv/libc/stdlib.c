/* Number parsing, sorting and abort(). */
#include <osv/types.h>
#include <osv/console.h>
#include <stdlib.h>
#include <ctype.h>
#include <errno.h>
#include <string.h>

static int digit_value(int c)
{
    if (isdigit(c)) {
        return c - '0';
    }
    if (isalpha(c)) {
        return tolower(c) - 'a' + 10;
    }
    return 99;
}

unsigned long strtoul(const char *s, char **end, int base)
{
    unsigned long v = 0;
    int any = 0;

    while (isspace(*s)) {
        s++;
    }
    if (*s == '+') {
        s++;
    }
    if ((base == 0 || base == 16) && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        base = 16;
    } else if (base == 0) {
        base = s[0] == '0' ? 8 : 10;
    }
    for (; digit_value(*s) < base; s++) {
        unsigned long next = v * (unsigned long)base + (unsigned long)digit_value(*s);
        if (next < v) {
            errno = ERANGE;
            next = ~0UL;
        }
        v = next;
        any = 1;
    }
    if (end) {
        *end = (char *)s;
    }
    return any ? v : 0;
}

long strtol(const char *s, char **end, int base)
{
    int neg = 0;

    while (isspace(*s)) {
        s++;
    }
    if (*s == '-') {
        neg = 1;
        s++;
    }
    unsigned long v = strtoul(s, end, base);
    return neg ? -(long)v : (long)v;
}

int atoi(const char *s)
{
    return (int)strtol(s, NULL, 10);
}

int abs(int x)
{
    return x < 0 ? -x : x;
}

long labs(long x)
{
    return x < 0 ? -x : x;
}

static void swap_bytes(unsigned char *a, unsigned char *b, size_t size)
{
    while (size--) {
        unsigned char t = *a;
        *a++ = *b;
        *b++ = t;
    }
}

/* Shell sort: small, in place, and good enough for kernel tables. */
void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    unsigned char *b = base;

    for (size_t gap = n / 2; gap > 0; gap /= 2) {
        for (size_t i = gap; i < n; i++) {
            for (size_t j = i; j >= gap && cmp(b + (j - gap) * size, b + j * size) > 0; j -= gap) {
                swap_bytes(b + (j - gap) * size, b + j * size, size);
            }
        }
    }
}

void *bsearch(const void *key, const void *base, size_t n, size_t size,
              int (*cmp)(const void *, const void *))
{
    const unsigned char *b = base;
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = cmp(key, b + mid * size);
        if (r == 0) {
            return (void *)(b + mid * size);
        }
        if (r < 0) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return NULL;
}

void abort(void)
{
    kernel_abort("abort() called");
}
