#ifndef DRIVERS_VIRTIO_MMIO_HH
#define DRIVERS_VIRTIO_MMIO_HH

namespace virtio {
namespace mmio {
/* Creates devices for each "virtio_mmio.device=<size>@<addr>:<irq>" option. */
unsigned probe_cmdline(const char *cmdline);
}
}

#endif
