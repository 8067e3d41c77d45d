/* The VFS: a tree of vnodes, a mount table and path lookup. */
#include <osv/types.h>
#include <osv/debug.hh>
#include <osv/vfs.hh>
#include <osv/mutex.hh>
#include <string.h>
#include <errno.h>

namespace vfs {

namespace {

constexpr unsigned max_fs = 8, max_mounts = 8;

const filesystem *fstypes[max_fs];
unsigned nfstypes;

struct mount_entry {
    char path[64];
    const filesystem *fs;
    vnode *covered;
};

mount_entry mounts[max_mounts];
unsigned nmounts;
vnode *root_node;
mutex vfs_lock;

vnode *child(vnode *dir, const char *name, size_t len)
{
    return dir->children.find_if([name, len](vnode *v) {
        return strncmp(v->name, name, len) == 0 && v->name[len] == '\0';
    });
}

/* Walks path; if parent_out is set, stops at the last component's parent. */
vnode *walk(const char *path, vnode **parent_out, const char **last)
{
    if (*path != '/') {
        return nullptr;
    }
    vnode *cur = root_node;
    while (*path) {
        path += strspn(path, "/");
        size_t len = strcspn(path, "/");
        if (len == 0) {
            break;
        }
        if (parent_out && path[len + strspn(path + len, "/")] == '\0') {
            *parent_out = cur;
            *last = path;
            return child(cur, path, len);
        }
        if (cur->type != node_type::dir) {
            return nullptr;
        }
        cur = child(cur, path, len);
        if (!cur) {
            return nullptr;
        }
        path += len;
    }
    return cur;
}

} // namespace

vnode *make_node(vnode *parent, const char *name, node_type type, const vnode_ops *ops)
{
    auto *v = new vnode;
    strlcpy(v->name, name, sizeof(v->name));
    v->type = type;
    v->parent = parent;
    v->size = 0;
    v->priv = nullptr;
    v->ops = ops;
    if (parent) {
        parent->children.push_back(v);
    }
    return v;
}

void init()
{
    root_node = make_node(nullptr, "/", node_type::dir, nullptr);
}

int register_fs(const filesystem *fs)
{
    lock_guard<mutex> g(vfs_lock);
    if (nfstypes == max_fs) {
        return -ENOSPC;
    }
    fstypes[nfstypes++] = fs;
    return 0;
}

unsigned mount_count()
{
    return nmounts;
}

int mount(const char *fstype, const char *source, const char *path)
{
    lock_guard<mutex> g(vfs_lock);
    const filesystem *fs = nullptr;
    for (unsigned i = 0; i < nfstypes; i++) {
        if (strcmp(fstypes[i]->name, fstype) == 0) {
            fs = fstypes[i];
        }
    }
    if (!fs) {
        return -ENODEV;
    }
    if (nmounts == max_mounts) {
        return -EBUSY;
    }
    vnode *target = walk(path, nullptr, nullptr);
    if (!target || target->type != node_type::dir) {
        return -ENOTDIR;
    }
    int r = fs->mount(source, target);
    if (r == 0) {
        mount_entry &m = mounts[nmounts++];
        strlcpy(m.path, path, sizeof(m.path));
        m.fs = fs;
        m.covered = target;
        debugf("vfs", "mounted %s on %s", fstype, path);
    }
    return r;
}

vnode *lookup(const char *path)
{
    lock_guard<mutex> g(vfs_lock);
    return walk(path, nullptr, nullptr);
}

int mkdir(const char *path)
{
    lock_guard<mutex> g(vfs_lock);
    vnode *parent = nullptr;
    const char *last = nullptr;
    if (strlen(path) >= max_path) {
        return -ENAMETOOLONG;
    }
    if (walk(path, &parent, &last)) {
        return -EEXIST;
    }
    if (!parent) {
        return -ENOENT;
    }
    char name[32];
    size_t len = strcspn(last, "/");
    if (len >= sizeof(name)) {
        return -ENAMETOOLONG;
    }
    memcpy(name, last, len);
    name[len] = '\0';
    make_node(parent, name, node_type::dir, parent->ops);
    return 0;
}

ssize_t read(const char *path, void *buf, size_t len, off_t off)
{
    vnode *v = lookup(path);
    if (!v) {
        return -ENOENT;
    }
    if (v->type == node_type::dir) {
        return -EISDIR;
    }
    return v->ops && v->ops->read ? v->ops->read(v, buf, len, off) : -ENOSYS;
}

ssize_t write(const char *path, const void *buf, size_t len, off_t off)
{
    vnode *v = lookup(path);
    if (!v) {
        return -ENOENT;
    }
    if (v->type == node_type::dir) {
        return -EISDIR;
    }
    return v->ops && v->ops->write ? v->ops->write(v, buf, len, off) : -ENOSYS;
}

} // namespace vfs
