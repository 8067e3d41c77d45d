# Virtual machines with a PCI bus whose only devices are virtio ones.
export conf_drivers_pci?=1
export conf_drivers_virtio_pci?=1
export conf_drivers_virtio_blk?=1
export conf_drivers_virtio_net?=1
export conf_drivers_virtio_fs?=1
export conf_drivers_virtio_scsi?=1
