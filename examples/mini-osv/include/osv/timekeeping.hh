/* Clock sources and the kernel's monotonic clock. */
#ifndef OSV_TIMEKEEPING_HH
#define OSV_TIMEKEEPING_HH

#include <osv/types.h>

namespace timekeeping {

class source {
public:
    virtual u64 now_ns() = 0;
    virtual const char *name() const = 0;
    virtual int rating() const = 0;

protected:
    ~source() = default;
};

void register_source(source *s);
source *current();
u64 uptime_ns();
void add_timer(u64 deadline_ns, void (*fn)(void *), void *arg);
unsigned fire_expired_timers();

} // namespace timekeeping

#endif /* OSV_TIMEKEEPING_HH */
