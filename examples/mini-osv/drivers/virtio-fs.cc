/* virtio-fs: finds the shared directory by tag and offers it to the VFS
 * as the "virtiofs" filesystem type. */
#include <osv/types.h>
#include <osv/debug.hh>
#include <osv/virtio.hh>
#include <osv/vfs.hh>
#include <osv/mmu.hh>
#include <string.h>
#include <errno.h>
#include "virtio-drivers.hh"

namespace virtio {

namespace {

constexpr u32 fuse_init = 26, fuse_kernel_version = 7, fuse_minor_version = 31;

struct fuse_in_header {
    u32 len, opcode;
    u64 unique, nodeid;
    u32 uid, gid, pid, padding;
};

struct fuse_init_in {
    u32 major, minor, max_readahead, flags;
};

struct fuse_out_header {
    u32 len;
    s32 error;
    u64 unique;
};

class fs_device final : public hw::device {
public:
    fs_device(transport &t, const char *tag, unsigned qsize)
        : hw::device("vfs", hw::device_class::fs), t_(t), hiprio_(qsize), request_(qsize)
    {
        strlcpy(tag_, tag, sizeof(tag_));
    }

    int start() override
    {
        negotiate(t_, 0);
        if (!hiprio_.ok() || !request_.ok() || t_.setup_queue(0, hiprio_) || t_.setup_queue(1, request_)) {
            return -1;
        }
        driver_ready(t_);
        return send_init();
    }

    const char *tag() const { return tag_; }

private:
    int send_init()
    {
        struct {
            fuse_in_header hdr;
            fuse_init_in init;
        } in = {};
        struct {
            fuse_out_header hdr;
            u8 body[64];
        } out = {};
        in.hdr.len = sizeof(in);
        in.hdr.opcode = fuse_init;
        in.hdr.unique = ++unique_;
        in.init.major = fuse_kernel_version;
        in.init.minor = fuse_minor_version;
        in.init.max_readahead = 1 << 16;
        u64 addr[2] = { mmu::virt_to_phys(&in), mmu::virt_to_phys(&out) };
        u32 len[2] = { sizeof(in), sizeof(out) };
        bool wr[2] = { false, true };
        int head = request_.add_chain(addr, len, wr, 2);
        if (head < 0) {
            return -1;
        }
        request_.publish(head);
        t_.notify(1);
        while (request_.get_used(nullptr) < 0) {
            cpu_relax();
        }
        return out.hdr.error;
    }

    transport &t_;
    vring hiprio_, request_;
    char tag_[37];
    u64 unique_ = 0;
};

struct find_tag {
    const char *tag;
    fs_device *found;
};

int mount_virtiofs(const char *source, vfs::vnode *root)
{
    find_tag ft = { source, nullptr };
    hw::for_each_device([](hw::device *d, void *arg) {
        auto *f = static_cast<find_tag *>(arg);
        if (d->cls() == hw::device_class::fs && !f->found) {
            auto *fs = static_cast<fs_device *>(d);
            if (!f->tag || !*f->tag || strcmp(fs->tag(), f->tag) == 0) {
                f->found = fs;
            }
        }
    }, &ft);
    if (!ft.found) {
        return -ENODEV;
    }
    root->priv = ft.found;
    return 0;
}

const vfs::filesystem virtiofs = { "virtiofs", mount_virtiofs };

hw::device *probe(transport &t)
{
    char tag[37];
    for (unsigned i = 0; i < 36; i++) {
        tag[i] = char(t.read_config(i, 1));
    }
    tag[36] = '\0';
    unsigned qsize = t.queue_size(1);
    return qsize ? new fs_device(t, tag, qsize) : nullptr;
}

} // namespace

void register_fs_driver()
{
    register_driver(type_fs, "virtio-fs", probe);
    vfs::register_fs(&virtiofs);
}

} // namespace virtio
