/* The boot file system: bootfs.bin, which scripts/mkbootfs packs from the
 * bootfs manifest, linked into the kernel. */
    .section .rodata
    .globl bootfs_start
bootfs_start:
    .incbin "bootfs.bin"
    .globl bootfs_end
bootfs_end:
