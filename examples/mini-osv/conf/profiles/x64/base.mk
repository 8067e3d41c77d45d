# The full list of x64 drivers.  This file is included after the selected
# profile: whatever the profile (or the command line) did not switch on is
# switched off here, then drivers needed by the selected ones are added.
# scripts/gen-drivers-config-header reads the driver names from the
# "export conf_drivers_..." lines below.

export conf_drivers_acpi?=0
export conf_drivers_ahci?=0
export conf_drivers_hpet?=0
export conf_drivers_ide?=0
export conf_drivers_pci?=0
export conf_drivers_pvpanic?=0
export conf_drivers_scsi?=0
export conf_drivers_vga?=0
export conf_drivers_virtio?=0
export conf_drivers_virtio_blk?=0
export conf_drivers_virtio_fs?=0
export conf_drivers_virtio_mmio?=0
export conf_drivers_virtio_net?=0
export conf_drivers_virtio_pci?=0
export conf_drivers_virtio_scsi?=0

# Implied drivers.  Order matters: a driver switched on here may itself
# imply another one further down.
ifeq ($(conf_drivers_virtio_scsi),1)
export conf_drivers_scsi:=1
endif

ifeq ($(conf_drivers_pvpanic),1)
export conf_drivers_acpi:=1
endif
ifeq ($(conf_drivers_hpet),1)
export conf_drivers_acpi:=1
endif

ifeq ($(conf_drivers_acpi),1)
export conf_drivers_pci:=1
endif
ifeq ($(conf_drivers_ahci),1)
export conf_drivers_pci:=1
endif
ifeq ($(conf_drivers_ide),1)
export conf_drivers_pci:=1
endif
ifeq ($(conf_drivers_vga),1)
export conf_drivers_pci:=1
endif
ifeq ($(conf_drivers_virtio_pci),1)
export conf_drivers_pci:=1
endif

ifneq ($(filter 1,$(conf_drivers_virtio_blk) $(conf_drivers_virtio_fs) $(conf_drivers_virtio_net) \
                  $(conf_drivers_virtio_scsi) $(conf_drivers_virtio_mmio) $(conf_drivers_virtio_pci)),)
export conf_drivers_virtio:=1
endif
