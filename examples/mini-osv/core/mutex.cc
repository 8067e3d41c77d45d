/* Sleeping recursive mutex. */
#include <osv/types.h>
#include <osv/debug.hh>
#include <osv/mutex.hh>

void mutex::lock()
{
    sched::thread *self = sched::thread::current();
    for (;;) {
        spin_lock(&guard_);
        if (!owner_ || owner_ == self) {
            owner_ = self;
            depth_++;
            spin_unlock(&guard_);
            return;
        }
        if (self) {
            waiters_.push_back(self);
        }
        spin_unlock(&guard_);
        if (self) {
            sched::wait_current();
        } else {
            cpu_relax();
        }
    }
}

bool mutex::try_lock()
{
    sched::thread *self = sched::thread::current();
    spin_lock(&guard_);
    bool ok = !owner_ || owner_ == self;
    if (ok) {
        owner_ = self;
        depth_++;
    }
    spin_unlock(&guard_);
    return ok;
}

void mutex::unlock()
{
    spin_lock(&guard_);
    kassert(depth_ > 0);
    sched::thread *next = nullptr;
    if (--depth_ == 0) {
        owner_ = nullptr;
        next = waiters_.pop_front();
    }
    spin_unlock(&guard_);
    if (next) {
        next->wake();
    }
}
