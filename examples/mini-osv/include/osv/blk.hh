/* Block devices. */
#ifndef OSV_BLK_HH
#define OSV_BLK_HH

#include <osv/types.h>
#include <osv/device.hh>

namespace blk {

class block_device : public hw::device {
public:
    block_device(const char *name, u64 sectors, u32 sector_size)
        : hw::device(name, hw::device_class::block), sectors_(sectors), sector_size_(sector_size) {}

    virtual int read(u64 sector, void *buf, size_t count) = 0;
    virtual int write(u64 sector, const void *buf, size_t count) = 0;
    virtual int flush() { return 0; }

    u64 sectors() const { return sectors_; }
    u32 sector_size() const { return sector_size_; }
    u64 size_bytes() const { return sectors_ * sector_size_; }
    void describe(char *buf, size_t len) const override;

protected:
    u64 sectors_;
    u32 sector_size_;
};

/* Splits a byte range into whole-sector requests; returns requests issued. */
int transfer(block_device *dev, u64 offset, void *buf, size_t len, bool write);

} // namespace blk

#endif /* OSV_BLK_HH */
