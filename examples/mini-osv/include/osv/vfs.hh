/* A tiny virtual file system layer. */
#ifndef OSV_VFS_HH
#define OSV_VFS_HH

#include <osv/types.h>
#include <osv/list.hh>

namespace vfs {

enum class node_type : u8 { file, dir, device };

struct vnode;

struct vnode_ops {
    ssize_t (*read)(vnode *vn, void *buf, size_t len, off_t off);
    ssize_t (*write)(vnode *vn, const void *buf, size_t len, off_t off);
};

struct vnode : public list_link {
    char name[32];
    node_type type;
    vnode *parent;
    intrusive_list<vnode> children;
    u64 size;
    void *priv;
    const vnode_ops *ops;
};

struct filesystem {
    const char *name;
    int (*mount)(const char *source, vnode *root);
};

constexpr size_t max_path = 256;

void init();
int register_fs(const filesystem *fs);
int mount(const char *fstype, const char *source, const char *path);
unsigned mount_count();
vnode *lookup(const char *path);
vnode *make_node(vnode *parent, const char *name, node_type type, const vnode_ops *ops);
int mkdir(const char *path);
ssize_t read(const char *path, void *buf, size_t len, off_t off);
ssize_t write(const char *path, const void *buf, size_t len, off_t off);

void ramfs_init();
void devfs_init();

} // namespace vfs

#endif /* OSV_VFS_HH */
