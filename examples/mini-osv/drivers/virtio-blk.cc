/* virtio block device driver. */
#include <osv/types.h>
#include <osv/debug.hh>
#include <osv/virtio.hh>
#include <osv/blk.hh>
#include <osv/mmu.hh>
#include <osv/drivers_config.h>
#include "virtio-drivers.hh"

namespace virtio {

namespace {

constexpr u32 req_in = 0, req_out = 1, req_flush = 4;
constexpr u64 feature_blk_size = 1ULL << 6, feature_flush = 1ULL << 9;

#if CONF_drivers_virtio_mmio
/* MMIO machines are small; keep the ring within one page of descriptors. */
constexpr unsigned max_queue = 128;
#else
constexpr unsigned max_queue = 256;
#endif

struct req_header {
    u32 type;
    u32 reserved;
    u64 sector;
};

class blk_device final : public blk::block_device {
public:
    blk_device(transport &t, u64 sectors, u32 ssize, unsigned qsize)
        : blk::block_device("vblk", sectors, ssize), t_(t), q_(qsize) {}

    int start() override
    {
        features_ = negotiate(t_, feature_blk_size | feature_flush);
        if (!q_.ok() || t_.setup_queue(0, q_) != 0) {
            return -1;
        }
        driver_ready(t_);
        return 0;
    }

    int read(u64 sector, void *buf, size_t count) override { return submit(req_in, sector, buf, count); }
    int write(u64 sector, const void *buf, size_t count) override
    {
        return submit(req_out, sector, const_cast<void *>(buf), count);
    }
    int flush() override { return features_ & feature_flush ? submit(req_flush, 0, nullptr, 0) : 0; }

private:
    int submit(u32 type, u64 sector, void *buf, size_t count)
    {
        req_header hdr{type, 0, sector};
        volatile u8 status = 0xff;
        u64 addr[3] = { mmu::virt_to_phys(&hdr), mmu::virt_to_phys(buf),
                        mmu::virt_to_phys(const_cast<u8 *>(&status)) };
        u32 len[3] = { sizeof(hdr), u32(count * sector_size()), 1 };
        bool wr[3] = { false, type == req_in, true };
        unsigned n = 3;
        if (count == 0) {
            addr[1] = addr[2];
            len[1] = 1;
            wr[1] = true;
            n = 2;
        }
        int head = q_.add_chain(addr, len, wr, n);
        if (head < 0) {
            return -1;
        }
        q_.publish(head);
        t_.notify(0);
        while (q_.get_used(nullptr) < 0) {
            cpu_relax();
        }
        return status == 0 ? 0 : -1;
    }

    transport &t_;
    vring q_;
    u64 features_ = 0;
};

hw::device *probe(transport &t)
{
    u64 sectors = t.read_config(0, 4) | (u64(t.read_config(4, 4)) << 32);
    u32 ssize = 512;
    if (t.device_features() & feature_blk_size) {
        ssize = t.read_config(20, 4);
    }
    unsigned qsize = t.queue_size(0);
    if (qsize == 0) {
        return nullptr;
    }
    return new blk_device(t, sectors, ssize, qsize < max_queue ? qsize : max_queue);
}

} // namespace

void register_blk_driver()
{
    register_driver(type_blk, "virtio-blk", probe);
}

} // namespace virtio
