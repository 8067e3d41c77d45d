/* Device registry. */
#ifndef OSV_DEVICE_HH
#define OSV_DEVICE_HH

#include <osv/types.h>
#include <osv/list.hh>

namespace hw {

enum class device_class : u8 { console, block, net, fs, bus, misc };

class device : public list_link {
public:
    explicit device(const char *name, device_class cls);
    virtual ~device() {}

    virtual int start() = 0;
    virtual void describe(char *buf, size_t len) const;

    const char *name() const { return name_; }
    device_class cls() const { return cls_; }
    unsigned unit() const { return unit_; }

private:
    char name_[16];
    device_class cls_;
    unsigned unit_ = 0;
    friend void register_device(device *dev);
};

void register_device(device *dev);
device *find_device(const char *name);
unsigned device_count();
unsigned device_count(device_class cls);
int start_all();
void for_each_device(void (*fn)(device *, void *), void *arg);

} // namespace hw

#endif /* OSV_DEVICE_HH */
