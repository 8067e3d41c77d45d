/* devfs: one node per registered device; block devices are readable. */
#include <osv/types.h>
#include <osv/debug.hh>
#include <osv/vfs.hh>
#include <osv/device.hh>
#include <osv/blk.hh>
#include <stdio.h>
#include <errno.h>

namespace vfs {

namespace {

ssize_t dev_read(vnode *vn, void *buf, size_t len, off_t off)
{
    auto *dev = static_cast<hw::device *>(vn->priv);
    if (dev->cls() != hw::device_class::block) {
        return -ENOTSUP;
    }
    auto *bd = static_cast<blk::block_device *>(dev);
    int r = blk::transfer(bd, u64(off), buf, len, false);
    return r < 0 ? -EIO : ssize_t(len);
}

ssize_t dev_write(vnode *vn, const void *buf, size_t len, off_t off)
{
    auto *dev = static_cast<hw::device *>(vn->priv);
    if (dev->cls() != hw::device_class::block) {
        return -ENOTSUP;
    }
    auto *bd = static_cast<blk::block_device *>(dev);
    int r = blk::transfer(bd, u64(off), const_cast<void *>(buf), len, true);
    return r < 0 ? -EIO : ssize_t(len);
}

const vnode_ops dev_ops = { dev_read, dev_write };

int dev_mount(const char *source, vnode *root)
{
    (void)source;
    hw::for_each_device([](hw::device *d, void *arg) {
        char name[32];
        snprintf(name, sizeof(name), "%s%u", d->name(), d->unit());
        vnode *v = make_node(static_cast<vnode *>(arg), name, node_type::device, &dev_ops);
        v->priv = d;
        if (d->cls() == hw::device_class::block) {
            v->size = static_cast<blk::block_device *>(d)->size_bytes();
        }
    }, root);
    return 0;
}

const filesystem devfs = { "devfs", dev_mount };

} // namespace

void devfs_init()
{
    register_fs(&devfs);
}

} // namespace vfs
