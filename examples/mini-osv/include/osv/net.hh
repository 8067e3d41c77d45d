/* Network devices. */
#ifndef OSV_NET_HH
#define OSV_NET_HH

#include <osv/types.h>
#include <osv/device.hh>

namespace net {

class net_device : public hw::device {
public:
    explicit net_device(const char *name) : hw::device(name, hw::device_class::net) {}

    virtual int transmit(const void *frame, size_t len) = 0;
    const u8 *mac() const { return mac_; }
    u32 mtu() const { return mtu_; }

protected:
    u8 mac_[6] = {};
    u32 mtu_ = 1500;
};

inline u16 inet_checksum(const void *data, size_t len)
{
    const u8 *p = static_cast<const u8 *>(data);
    u32 sum = 0;
    for (; len > 1; len -= 2, p += 2) {
        sum += (u32(p[0]) << 8) | p[1];
    }
    if (len) {
        sum += u32(p[0]) << 8;
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return u16(~sum);
}

} // namespace net

#endif /* OSV_NET_HH */
