# Every driver the x64 port has.
include conf/profiles/$(arch)/virtio-pci.mk
include conf/profiles/$(arch)/virtio-mmio.mk

export conf_drivers_acpi?=1
export conf_drivers_hpet?=1
export conf_drivers_pvpanic?=1
export conf_drivers_ahci?=1
export conf_drivers_ide?=1
export conf_drivers_scsi?=1
export conf_drivers_vga?=1
