/* Kernel console: a history ring, the serial port, and the VGA text
 * screen when the profile includes it. */
#include <osv/types.h>
#include <osv/console.h>
#include <osv/spinlock.h>
#include <osv/drivers_config.h>
#include "processor.hh"

#if CONF_drivers_vga
#include "vga.hh"
#endif

namespace {

constexpr u16 com1 = 0x3f8;
constexpr size_t history_size = 4096;

char history[history_size];
size_t history_pos;
bool serial_ready;
spinlock_t console_lock = SPINLOCK_INIT;

void serial_init()
{
    processor::outb(com1 + 1, 0x00);   /* no interrupts */
    processor::outb(com1 + 3, 0x80);   /* DLAB on */
    processor::outb(com1 + 0, 0x01);   /* 115200 baud */
    processor::outb(com1 + 1, 0x00);
    processor::outb(com1 + 3, 0x03);   /* 8N1 */
    processor::outb(com1 + 2, 0xc7);   /* FIFO on */
    serial_ready = true;
#if CONF_drivers_vga
    vga::init();
#endif
}

void serial_putc(char c)
{
    while (!(processor::inb(com1 + 5) & 0x20)) {
        cpu_relax();
    }
    processor::outb(com1, u8(c));
}

} // namespace

extern "C" void kernel_console_write(const char *s, size_t len)
{
    spin_lock(&console_lock);
    if (!serial_ready) {
        serial_init();
    }
    for (size_t i = 0; i < len; i++) {
        history[history_pos++ % history_size] = s[i];
        if (s[i] == '\n') {
            serial_putc('\r');
        }
        serial_putc(s[i]);
    }
#if CONF_drivers_vga
    vga::write(s, len);
#endif
    spin_unlock(&console_lock);
}

extern "C" size_t kernel_console_history(char *buf, size_t len)
{
    spin_lock(&console_lock);
    size_t avail = history_pos < history_size ? history_pos : history_size;
    size_t n = avail < len ? avail : len;
    for (size_t i = 0; i < n; i++) {
        buf[i] = history[(history_pos - n + i) % history_size];
    }
    spin_unlock(&console_lock);
    return n;
}
