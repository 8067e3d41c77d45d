/* virtio network device driver (transmit path only). */
#include <osv/types.h>
#include <osv/debug.hh>
#include <osv/virtio.hh>
#include <osv/net.hh>
#include <osv/mmu.hh>
#include <string.h>
#include "virtio-drivers.hh"

namespace virtio {

namespace {

constexpr u64 feature_mac = 1ULL << 5, feature_mrg_rxbuf = 1ULL << 15;
constexpr u64 feature_status = 1ULL << 16;

struct net_header {
    u8 flags;
    u8 gso_type;
    u16 hdr_len;
    u16 gso_size;
    u16 csum_start;
    u16 csum_offset;
    u16 num_buffers;
} __packed;

class net_device final : public net::net_device {
public:
    net_device(transport &t, unsigned rxsize, unsigned txsize)
        : net::net_device("vnet"), t_(t), rx_(rxsize), tx_(txsize) {}

    int start() override
    {
        features_ = negotiate(t_, feature_mac | feature_mrg_rxbuf | feature_status);
        if (features_ & feature_mac) {
            for (unsigned i = 0; i < 6; i++) {
                mac_[i] = u8(t_.read_config(i, 1));
            }
        }
        if (!rx_.ok() || !tx_.ok() || t_.setup_queue(0, rx_) || t_.setup_queue(1, tx_)) {
            return -1;
        }
        driver_ready(t_);
        return 0;
    }

    int transmit(const void *frame, size_t len) override
    {
        if (len > mtu_ + 14) {
            return -1;
        }
        net_header hdr;
        memset(&hdr, 0, sizeof(hdr));
        size_t hdr_len = features_ & (feature_mrg_rxbuf | feature_version_1) ? sizeof(hdr) : sizeof(hdr) - 2;
        u64 addr[2] = { mmu::virt_to_phys(&hdr), mmu::virt_to_phys(frame) };
        u32 lens[2] = { u32(hdr_len), u32(len) };
        bool wr[2] = { false, false };
        int head = tx_.add_chain(addr, lens, wr, 2);
        if (head < 0) {
            return -1;
        }
        tx_.publish(head);
        t_.notify(1);
        while (tx_.get_used(nullptr) < 0) {
            cpu_relax();
        }
        packets_++;
        return 0;
    }

private:
    transport &t_;
    vring rx_, tx_;
    u64 features_ = 0;
    u64 packets_ = 0;
};

hw::device *probe(transport &t)
{
    unsigned rx = t.queue_size(0), tx = t.queue_size(1);
    if (!rx || !tx) {
        return nullptr;
    }
    return new net_device(t, rx, tx);
}

} // namespace

void register_net_driver()
{
    register_driver(type_net, "virtio-net", probe);
}

} // namespace virtio
