/* Clock source selection, uptime and a sorted one-shot timer list. */
#include <osv/types.h>
#include <osv/debug.hh>
#include <osv/timekeeping.hh>
#include <osv/spinlock.h>
#include "arch.hh"
#include "processor.hh"

namespace timekeeping {

namespace {

class tsc_source final : public source {
public:
    u64 now_ns() override
    {
        u64 hz = arch::tsc_frequency_hz();
        u64 t = processor::rdtsc();
        return hz ? (t / hz) * 1000000000ULL + (t % hz) * 1000000000ULL / hz : 0;
    }
    const char *name() const override { return "tsc"; }
    int rating() const override { return 100; }
};

struct timer {
    u64 deadline;
    void (*fn)(void *);
    void *arg;
    timer *next;
};

tsc_source tsc;
source *best;
u64 boot_ns;
timer *timers;
spinlock_t timers_lock = SPINLOCK_INIT;

struct register_tsc {
    register_tsc() { register_source(&tsc); }
} register_tsc_at_boot;

} // namespace

void register_source(source *s)
{
    if (!best || s->rating() > best->rating()) {
        best = s;
        boot_ns = s->now_ns();
        tracef("clock", "using clock source %s", s->name());
    }
}

source *current()
{
    return best;
}

u64 uptime_ns()
{
    return best ? best->now_ns() - boot_ns : 0;
}

void add_timer(u64 deadline_ns, void (*fn)(void *), void *arg)
{
    timer *t = new timer{deadline_ns, fn, arg, nullptr};
    spin_lock(&timers_lock);
    timer **pp = &timers;
    while (*pp && (*pp)->deadline <= deadline_ns) {
        pp = &(*pp)->next;
    }
    t->next = *pp;
    *pp = t;
    spin_unlock(&timers_lock);
}

unsigned fire_expired_timers()
{
    unsigned fired = 0;
    u64 now = uptime_ns();
    for (;;) {
        spin_lock(&timers_lock);
        timer *t = timers;
        if (!t || t->deadline > now) {
            spin_unlock(&timers_lock);
            return fired;
        }
        timers = t->next;
        spin_unlock(&timers_lock);
        t->fn(t->arg);
        delete t;
        fired++;
    }
}

} // namespace timekeeping
