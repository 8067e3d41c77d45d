/* virtio SCSI host: exposes LUN 0 of target 0 as a block device. */
#include <osv/types.h>
#include <osv/debug.hh>
#include <osv/virtio.hh>
#include <osv/blk.hh>
#include <osv/scsi.hh>
#include <osv/mmu.hh>
#include <string.h>
#include "virtio-drivers.hh"

namespace virtio {

namespace {

struct cmd_req {
    u8 lun[8];
    u64 tag;
    u8 task_attr, prio, crn;
    u8 cdb[32];
} __packed;

struct cmd_resp {
    u32 sense_len, residual;
    u16 status_qualifier;
    u8 status, response;
    u8 sense[96];
} __packed;

class scsi_disk final : public blk::block_device {
public:
    scsi_disk(transport &t, unsigned qsize)
        : blk::block_device("vscsi", 0, 512), t_(t), ctrl_(qsize), event_(qsize), req_(qsize) {}

    int start() override
    {
        negotiate(t_, 0);
        if (!req_.ok() || t_.setup_queue(0, ctrl_) || t_.setup_queue(1, event_) || t_.setup_queue(2, req_)) {
            return -1;
        }
        driver_ready(t_);
        scsi::cdb c;
        scsi::build_read_capacity(c);
        u8 data[8] = {};
        if (execute(c, data, sizeof(data), true) != 0) {
            return -1;
        }
        return scsi::parse_capacity(data, &sectors_, &sector_size_) ? 0 : -1;
    }

    int read(u64 sector, void *buf, size_t count) override { return rw(false, sector, buf, count); }
    int write(u64 sector, const void *buf, size_t count) override
    {
        return rw(true, sector, const_cast<void *>(buf), count);
    }

private:
    int rw(bool wr, u64 sector, void *buf, size_t count)
    {
        scsi::cdb c;
        scsi::build_rw10(c, wr, u32(sector), u16(count));
        return execute(c, buf, count * sector_size(), !wr);
    }

    int execute(const scsi::cdb &c, void *data, size_t len, bool from_device)
    {
        cmd_req req;
        cmd_resp resp;
        memset(&req, 0, sizeof(req));
        memset(&resp, 0, sizeof(resp));
        req.lun[0] = 1;     /* single-level LUN addressing, target 0, LUN 0 */
        req.tag = ++tag_;
        memcpy(req.cdb, c.bytes, c.len);
        u64 addr[3] = { mmu::virt_to_phys(&req), mmu::virt_to_phys(&resp), mmu::virt_to_phys(data) };
        u32 lens[3] = { sizeof(req), sizeof(resp), u32(len) };
        bool wr[3] = { false, true, from_device };
        int head = req_.add_chain(addr, lens, wr, len ? 3 : 2);
        if (head < 0) {
            return -1;
        }
        req_.publish(head);
        t_.notify(2);
        while (req_.get_used(nullptr) < 0) {
            cpu_relax();
        }
        if (resp.status != 0 && resp.sense_len > 2) {
            warnf("vscsi", "command 0x%x failed: %s", c.bytes[0], scsi::sense_key_name(resp.sense[2] & 0xf));
        }
        return resp.response == 0 && resp.status == 0 ? 0 : -1;
    }

    transport &t_;
    vring ctrl_, event_, req_;
    u64 tag_ = 0;
};

hw::device *probe(transport &t)
{
    unsigned qsize = t.queue_size(2);
    return qsize ? new scsi_disk(t, qsize) : nullptr;
}

} // namespace

void register_scsi_driver()
{
    register_driver(type_scsi, "virtio-scsi", probe);
}

} // namespace virtio
