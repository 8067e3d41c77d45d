/* A sleeping, recursive mutex built on a spinlock and a wait list. */
#ifndef OSV_MUTEX_HH
#define OSV_MUTEX_HH

#include <osv/types.h>
#include <osv/spinlock.h>
#include <osv/list.hh>
#include <osv/sched.hh>

class mutex {
public:
    mutex() = default;
    mutex(const mutex &) = delete;
    mutex &operator=(const mutex &) = delete;

    void lock();
    bool try_lock();
    void unlock();
    bool owned() const { return owner_ == sched::thread::current(); }
    unsigned depth() const { return depth_; }

private:
    spinlock_t guard_ = SPINLOCK_INIT;
    sched::thread *owner_ = nullptr;
    unsigned depth_ = 0;
    intrusive_list<sched::thread> waiters_;
};

template <typename Lock>
class lock_guard {
public:
    explicit lock_guard(Lock &l) : l_(l) { l_.lock(); }
    ~lock_guard() { l_.unlock(); }
    lock_guard(const lock_guard &) = delete;
    lock_guard &operator=(const lock_guard &) = delete;

private:
    Lock &l_;
};

#endif /* OSV_MUTEX_HH */
