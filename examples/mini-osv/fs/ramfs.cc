/* ramfs: file contents live in malloc'ed buffers that grow on write. */
#include <osv/types.h>
#include <osv/debug.hh>
#include <osv/vfs.hh>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

namespace vfs {

namespace {

struct ram_file {
    u8 *data;
    size_t capacity;
};

ssize_t ram_read(vnode *vn, void *buf, size_t len, off_t off)
{
    auto *f = static_cast<ram_file *>(vn->priv);
    if (!f || off < 0 || u64(off) >= vn->size) {
        return 0;
    }
    size_t n = vn->size - u64(off) < len ? size_t(vn->size - u64(off)) : len;
    memcpy(buf, f->data + off, n);
    return ssize_t(n);
}

ssize_t ram_write(vnode *vn, const void *buf, size_t len, off_t off)
{
    if (off < 0) {
        return -EINVAL;
    }
    auto *f = static_cast<ram_file *>(vn->priv);
    if (!f) {
        f = static_cast<ram_file *>(calloc(1, sizeof(*f)));
        if (!f) {
            return -ENOMEM;
        }
        vn->priv = f;
    }
    size_t end = size_t(off) + len;
    if (end > f->capacity) {
        size_t cap = f->capacity ? f->capacity : 64;
        while (cap < end) {
            cap *= 2;
        }
        u8 *p = static_cast<u8 *>(realloc(f->data, cap));
        if (!p) {
            return -ENOMEM;
        }
        memset(p + f->capacity, 0, cap - f->capacity);
        f->data = p;
        f->capacity = cap;
    }
    memcpy(f->data + off, buf, len);
    if (end > vn->size) {
        vn->size = end;
    }
    return ssize_t(len);
}

const vnode_ops ram_ops = { ram_read, ram_write };

int ram_mount(const char *source, vnode *root)
{
    (void)source;
    root->ops = &ram_ops;
    vnode *motd = make_node(root, "motd", node_type::file, &ram_ops);
    static const char text[] = "welcome to mini-osv\n";
    return ram_write(motd, text, sizeof(text) - 1, 0) < 0 ? -ENOMEM : 0;
}

const filesystem ramfs = { "ramfs", ram_mount };

} // namespace

void ramfs_init()
{
    register_fs(&ramfs);
}

} // namespace vfs
