/* VGA text mode console (80x25, colour attribute 0x07). */
#include <osv/types.h>
#include <osv/mmu.hh>
#include "vga.hh"
#include "processor.hh"

namespace vga {

constexpr unsigned cols = 80, rows = 25;
constexpr u16 attr = 0x0700;

static volatile u16 *buffer;
static unsigned cx, cy;

static void move_cursor()
{
    u16 pos = u16(cy * cols + cx);
    processor::outb(0x3d4, 0x0f);
    processor::outb(0x3d5, u8(pos));
    processor::outb(0x3d4, 0x0e);
    processor::outb(0x3d5, u8(pos >> 8));
}

static void scroll()
{
    for (unsigned i = 0; i < (rows - 1) * cols; i++) {
        buffer[i] = buffer[i + cols];
    }
    for (unsigned i = (rows - 1) * cols; i < rows * cols; i++) {
        buffer[i] = attr | ' ';
    }
    cy = rows - 1;
}

void init()
{
    buffer = static_cast<volatile u16 *>(mmu::phys_to_virt(0xb8000));
    for (unsigned i = 0; i < rows * cols; i++) {
        buffer[i] = attr | ' ';
    }
    cx = cy = 0;
    move_cursor();
}

void write(const char *s, size_t len)
{
    if (!buffer) {
        return;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '\n') {
            cx = 0;
            cy++;
        } else if (c == '\t') {
            cx = (cx + 8) & ~7u;
        } else {
            buffer[cy * cols + cx] = attr | u8(c);
            cx++;
        }
        if (cx >= cols) {
            cx = 0;
            cy++;
        }
        if (cy >= rows) {
            scroll();
        }
    }
    move_cursor();
}

} // namespace vga
