#ifndef DRIVERS_VGA_HH
#define DRIVERS_VGA_HH

#include <osv/types.h>

namespace vga {
void init();
void write(const char *s, size_t len);
}

#endif
