/* Counting semaphore. */
#ifndef OSV_SEMAPHORE_HH
#define OSV_SEMAPHORE_HH

#include <osv/types.h>
#include <osv/mutex.hh>

class semaphore {
public:
    explicit semaphore(unsigned initial = 0) : count_(initial) {}

    void post(unsigned n = 1);
    void wait(unsigned n = 1);
    bool trywait(unsigned n = 1);
    unsigned value() const { return count_; }

private:
    mutex mtx_;
    unsigned count_;
    unsigned sleepers_ = 0;
};

#endif /* OSV_SEMAPHORE_HH */
