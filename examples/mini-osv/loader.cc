/* Boot sequence: early heap and constructors, platform setup, drivers,
 * file systems, then the main thread. */
#include <osv/types.h>
#include <osv/debug.hh>
#include <osv/export.h>
#include <osv/drivers_config.h>
#include <osv/osv.h>
#include <osv/mempool.h>
#include <osv/mmu.hh>
#include <osv/runtime.hh>
#include <osv/sched.hh>
#include <osv/device.hh>
#include <osv/vfs.hh>
#include <osv/commands.hh>
#include <string.h>
#include "arch.hh"

#if CONF_drivers_virtio
#include "drivers/virtio-drivers.hh"
#endif

namespace {

alignas(PAGE_SIZE) u8 early_heap[MiB(4)];
unsigned boot_stage;

void register_drivers()
{
#if CONF_drivers_virtio_blk
    virtio::register_blk_driver();
#endif
#if CONF_drivers_virtio_net
    virtio::register_net_driver();
#endif
#if CONF_drivers_virtio_scsi
    virtio::register_scsi_driver();
#endif
#if CONF_drivers_virtio_fs
    virtio::register_fs_driver();
#endif
}

const char *root_fs_type()
{
#if CONF_drivers_virtio_fs
    if (osv::has_flag("virtiofs-root")) {
        return "virtiofs";
    }
#endif
    return "ramfs";
}

void main_thread(void *)
{
    char motd[64] = {};
    ssize_t n = vfs::read("/motd", motd, sizeof(motd) - 1, 0);
    if (n > 0) {
        debugf("loader", "motd: %s", motd);
    }
    debugf("loader", "%u devices, %zu bytes free", hw::device_count(), osv_free_memory());
    osv_shutdown();
}

} // namespace

extern "C" void premain()
{
    mempool_add_region(early_heap, sizeof(early_heap));
    run_constructors();
    boot_stage = 1;
}

extern "C" void kernel_main(const char *cmdline)
{
    debugf("loader", "%s booting", osv_version());
    vfs::init();
    vfs::ramfs_init();
    vfs::devfs_init();
    register_drivers();
    arch::setup(cmdline);
    mmu::init();
    sched::init(arch::cpu_count());
    boot_stage = 2;

    int failed = hw::start_all();
    if (failed) {
        warnf("loader", "%d devices failed to start", failed);
    }
    const char *rootfs = root_fs_type();
    if (vfs::mount(rootfs, "", "/") != 0) {
        dbg::panic("cannot mount %s as the root file system", rootfs);
    }
    if (vfs::mkdir("/dev") == 0) {
        vfs::mount("devfs", "", "/dev");
    }
    boot_stage = 3;

    auto *t = new sched::thread(main_thread, nullptr, "main", 1);
    t->start();
    sched::schedule();
    osv_shutdown();
}

/* Boot progress for debuggers; private to the kernel when symbols are hidden. */
#if HIDE_SYMBOLS
OSV_HIDDEN
#else
OSV_API
#endif
unsigned loader_boot_stage()
{
    return boot_stage;
}
