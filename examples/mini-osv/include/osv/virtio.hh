/* virtio: rings, transports and the driver registry. */
#ifndef OSV_VIRTIO_HH
#define OSV_VIRTIO_HH

#include <osv/types.h>
#include <osv/device.hh>

namespace virtio {

constexpr u16 pci_vendor = 0x1af4;

enum device_type : u32 { type_net = 1, type_blk = 2, type_console = 3, type_scsi = 8, type_fs = 26 };

constexpr u8 status_ack = 1, status_driver = 2, status_driver_ok = 4, status_features_ok = 8;
constexpr u8 status_failed = 0x80;
constexpr u64 feature_version_1 = 1ULL << 32;
constexpr u64 feature_ring_event_idx = 1ULL << 29;

struct vring_desc {
    u64 addr;
    u32 len;
    u16 flags;
    u16 next;
} __packed;

constexpr u16 desc_next = 1, desc_write = 2;

class vring {
public:
    explicit vring(unsigned size);
    ~vring();

    bool ok() const { return mem_ != nullptr; }
    unsigned size() const { return size_; }
    unsigned free_descriptors() const { return nfree_; }
    int add_chain(const u64 *addr, const u32 *len, const bool *device_writes, unsigned n);
    void publish(int head);
    bool has_used() const;
    int get_used(u32 *len);
    phys_addr_t desc_phys() const;
    phys_addr_t avail_phys() const;
    phys_addr_t used_phys() const;

private:
    unsigned size_;
    u8 *mem_;
    vring_desc *desc_;
    u16 *avail_;   /* flags, idx, ring[size] */
    u16 *used_;    /* flags, idx, then {u32 id, u32 len}[size] */
    u16 free_head_ = 0;
    unsigned nfree_;
    u16 last_used_ = 0;
};

class transport {
public:
    virtual const char *name() const = 0;
    virtual u32 device_type() const = 0;
    virtual u64 device_features() = 0;
    virtual void driver_features(u64 f) = 0;
    virtual u8 status() = 0;
    virtual void set_status(u8 s) = 0;
    virtual u32 read_config(unsigned offset, unsigned width) = 0;
    virtual unsigned queue_size(unsigned q) = 0;
    virtual int setup_queue(unsigned q, vring &ring) = 0;
    virtual void notify(unsigned q) = 0;

protected:
    ~transport() = default;
};

/* Runs the status/feature handshake; returns the negotiated features. */
u64 negotiate(transport &t, u64 wanted);
void driver_ready(transport &t);

using probe_fn = hw::device *(*)(transport &t);
void register_driver(u32 type, const char *name, probe_fn probe);
hw::device *attach(transport &t);
unsigned driver_count();

} // namespace virtio

#endif /* OSV_VIRTIO_HH */
