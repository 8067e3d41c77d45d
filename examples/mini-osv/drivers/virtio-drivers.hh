/* Registration of the virtio device drivers with the virtio core. */
#ifndef DRIVERS_VIRTIO_DRIVERS_HH
#define DRIVERS_VIRTIO_DRIVERS_HH

namespace virtio {
void register_blk_driver();
void register_net_driver();
void register_fs_driver();
void register_scsi_driver();
}

#endif
