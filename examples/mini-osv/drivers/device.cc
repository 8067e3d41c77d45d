/* The device registry and the generic block layer. */
#include <osv/types.h>
#include <osv/debug.hh>
#include <osv/device.hh>
#include <osv/blk.hh>
#include <stdio.h>
#include <string.h>

namespace hw {

static intrusive_list<device> devices;
static unsigned unit_counter[6];

device::device(const char *name, device_class cls) : cls_(cls)
{
    strlcpy(name_, name, sizeof(name_));
}

void device::describe(char *buf, size_t len) const
{
    snprintf(buf, len, "%s%u", name_, unit_);
}

void register_device(device *dev)
{
    dev->unit_ = unit_counter[unsigned(dev->cls())]++;
    devices.push_back(dev);
    char desc[48];
    dev->describe(desc, sizeof(desc));
    debugf("dev", "registered %s", desc);
}

device *find_device(const char *name)
{
    return devices.find_if([name](device *d) { return strcmp(d->name(), name) == 0; });
}

unsigned device_count()
{
    return unsigned(devices.size());
}

unsigned device_count(device_class cls)
{
    unsigned n = 0;
    devices.for_each([&n, cls](device *d) { n += d->cls() == cls; });
    return n;
}

int start_all()
{
    int failures = 0;
    devices.for_each([&failures](device *d) {
        if (d->start() != 0) {
            warnf("dev", "%s failed to start", d->name());
            failures++;
        }
    });
    return failures;
}

void for_each_device(void (*fn)(device *, void *), void *arg)
{
    devices.for_each([fn, arg](device *d) { fn(d, arg); });
}

} // namespace hw

namespace blk {

void block_device::describe(char *buf, size_t len) const
{
    snprintf(buf, len, "%s%u (%llu sectors of %u bytes)", name(), unit(),
             (unsigned long long)sectors_, sector_size_);
}

int transfer(block_device *dev, u64 offset, void *buf, size_t len, bool write)
{
    u32 ss = dev->sector_size();
    if (offset % ss || len % ss) {
        return -1;
    }
    int requests = 0;
    u8 *p = static_cast<u8 *>(buf);
    /* At most 128 sectors per request. */
    for (u64 sector = offset / ss; len; requests++) {
        size_t count = len / ss > 128 ? 128 : len / ss;
        int r = write ? dev->write(sector, p, count) : dev->read(sector, p, count);
        if (r < 0) {
            return r;
        }
        sector += count;
        p += count * ss;
        len -= count * ss;
    }
    return requests;
}

} // namespace blk
