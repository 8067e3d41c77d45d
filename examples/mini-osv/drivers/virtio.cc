/* virtio core: the feature handshake and the device-type registry. */
#include <osv/types.h>
#include <osv/debug.hh>
#include <osv/virtio.hh>
#include <osv/device.hh>

namespace virtio {

namespace {

struct driver_entry {
    u32 type;
    const char *name;
    probe_fn probe;
};

constexpr unsigned max_drivers = 8;
driver_entry drivers[max_drivers];
unsigned ndrivers;

} // namespace

u64 negotiate(transport &t, u64 wanted)
{
    t.set_status(0);
    t.set_status(status_ack);
    t.set_status(status_ack | status_driver);
    u64 offered = t.device_features();
    u64 accepted = offered & (wanted | feature_version_1);
    t.driver_features(accepted);
    t.set_status(status_ack | status_driver | status_features_ok);
    if (!(t.status() & status_features_ok)) {
        warnf("virtio", "%s rejected features 0x%llx", t.name(), (unsigned long long)accepted);
        t.set_status(status_failed);
        return 0;
    }
    return accepted;
}

void driver_ready(transport &t)
{
    t.set_status(t.status() | status_driver_ok);
}

void register_driver(u32 type, const char *name, probe_fn probe)
{
    if (ndrivers < max_drivers) {
        drivers[ndrivers++] = { type, name, probe };
    }
}

unsigned driver_count()
{
    return ndrivers;
}

hw::device *attach(transport &t)
{
    u32 type = t.device_type();
    for (unsigned i = 0; i < ndrivers; i++) {
        if (drivers[i].type != type) {
            continue;
        }
        hw::device *dev = drivers[i].probe(t);
        if (dev) {
            hw::register_device(dev);
        }
        return dev;
    }
    tracef("virtio", "no driver for device type %u on %s", type, t.name());
    return nullptr;
}

} // namespace virtio
