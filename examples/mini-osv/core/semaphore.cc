/* Counting semaphore on top of the mutex and the scheduler. */
#include <osv/types.h>
#include <osv/semaphore.hh>

void semaphore::post(unsigned n)
{
    lock_guard<mutex> g(mtx_);
    count_ += n;
}

bool semaphore::trywait(unsigned n)
{
    lock_guard<mutex> g(mtx_);
    if (count_ < n) {
        return false;
    }
    count_ -= n;
    return true;
}

void semaphore::wait(unsigned n)
{
    while (!trywait(n)) {
        __atomic_add_fetch(&sleepers_, 1, __ATOMIC_RELAXED);
        sched::yield();
        __atomic_sub_fetch(&sleepers_, 1, __ATOMIC_RELAXED);
    }
}
