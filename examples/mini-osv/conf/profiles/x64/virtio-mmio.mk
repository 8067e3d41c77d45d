# MicroVM-style machines: virtio devices on the MMIO transport, no PCI bus.
export conf_drivers_virtio_mmio?=1
export conf_drivers_virtio_blk?=1
export conf_drivers_virtio_net?=1
export conf_drivers_virtio_fs?=1
