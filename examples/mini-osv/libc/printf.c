/* A small printf family: %d %i %u %x %X %o %p %s %c %%, with the
 * flags '-', '0', a field width, a precision for strings and the
 * length modifiers l, ll and z. */
#include <osv/types.h>
#include <osv/console.h>
#include <stdio.h>
#include <string.h>

struct outbuf {
    char *buf;
    size_t size;
    size_t len;
};

static void out_char(struct outbuf *o, char c)
{
    if (o->len + 1 < o->size) {
        o->buf[o->len] = c;
    }
    o->len++;
}

static void out_padded(struct outbuf *o, const char *s, size_t n, int width, int left, char pad)
{
    int fill = width > (int)n ? width - (int)n : 0;

    if (!left) {
        while (fill-- > 0) {
            out_char(o, pad);
        }
    }
    while (n--) {
        out_char(o, *s++);
    }
    if (left) {
        while (fill-- > 0) {
            out_char(o, ' ');
        }
    }
}

static size_t format_unsigned(char *tmp, unsigned long long v, unsigned base, int upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char rev[24];
    size_t n = 0;

    do {
        rev[n++] = digits[v % base];
        v /= base;
    } while (v);
    for (size_t i = 0; i < n; i++) {
        tmp[i] = rev[n - 1 - i];
    }
    return n;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct outbuf o = { buf, size, 0 };

    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            out_char(&o, *fmt);
            continue;
        }
        fmt++;
        int left = 0, width = 0, precision = -1, longs = 0, size_t_arg = 0;
        char pad = ' ';
        for (;; fmt++) {
            if (*fmt == '-') {
                left = 1;
            } else if (*fmt == '0') {
                pad = '0';
            } else {
                break;
            }
        }
        while (*fmt >= '0' && *fmt <= '9') {
            width = width * 10 + (*fmt++ - '0');
        }
        if (*fmt == '.') {
            precision = 0;
            fmt++;
            while (*fmt >= '0' && *fmt <= '9') {
                precision = precision * 10 + (*fmt++ - '0');
            }
        }
        while (*fmt == 'l') {
            longs++;
            fmt++;
        }
        if (*fmt == 'z') {
            size_t_arg = 1;
            fmt++;
        }

        char tmp[24];
        size_t n;
        unsigned long long uv;
        long long sv;

        switch (*fmt) {
        case 'd':
        case 'i':
            if (size_t_arg) {
                sv = va_arg(ap, ssize_t);
            } else if (longs >= 2) {
                sv = va_arg(ap, long long);
            } else if (longs == 1) {
                sv = va_arg(ap, long);
            } else {
                sv = va_arg(ap, int);
            }
            if (sv < 0) {
                tmp[0] = '-';
                n = 1 + format_unsigned(tmp + 1, -(unsigned long long)sv, 10, 0);
            } else {
                n = format_unsigned(tmp, (unsigned long long)sv, 10, 0);
            }
            out_padded(&o, tmp, n, width, left, pad);
            break;
        case 'u':
        case 'x':
        case 'X':
        case 'o':
            if (size_t_arg) {
                uv = va_arg(ap, size_t);
            } else if (longs >= 2) {
                uv = va_arg(ap, unsigned long long);
            } else if (longs == 1) {
                uv = va_arg(ap, unsigned long);
            } else {
                uv = va_arg(ap, unsigned int);
            }
            n = format_unsigned(tmp, uv, *fmt == 'u' ? 10 : *fmt == 'o' ? 8 : 16, *fmt == 'X');
            out_padded(&o, tmp, n, width, left, pad);
            break;
        case 'p':
            out_char(&o, '0');
            out_char(&o, 'x');
            n = format_unsigned(tmp, (uintptr_t)va_arg(ap, void *), 16, 0);
            out_padded(&o, tmp, n, width > 2 ? width - 2 : 0, left, '0');
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s) {
                s = "(null)";
            }
            n = precision >= 0 ? strnlen(s, (size_t)precision) : strlen(s);
            out_padded(&o, s, n, width, left, ' ');
            break;
        }
        case 'c':
            tmp[0] = (char)va_arg(ap, int);
            out_padded(&o, tmp, 1, width, left, ' ');
            break;
        case '%':
            out_char(&o, '%');
            break;
        case '\0':
            fmt--;
            break;
        default:
            out_char(&o, '%');
            out_char(&o, *fmt);
            break;
        }
    }
    if (o.size) {
        o.buf[o.len < o.size ? o.len : o.size - 1] = '\0';
    }
    return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int vprintf(const char *fmt, va_list ap)
{
    char line[256];
    int n = vsnprintf(line, sizeof(line), fmt, ap);

    kernel_console_write(line, strnlen(line, sizeof(line)));
    return n;
}

int printf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int puts(const char *s)
{
    kernel_console_write(s, strlen(s));
    kernel_console_write("\n", 1);
    return 1;
}

int putchar(int c)
{
    char ch = (char)c;

    kernel_console_write(&ch, 1);
    return (unsigned char)ch;
}
