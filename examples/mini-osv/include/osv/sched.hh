/* Threads and a simple priority round-robin scheduler. */
#ifndef OSV_SCHED_HH
#define OSV_SCHED_HH

#include <osv/types.h>
#include <osv/list.hh>

extern "C" void switch_context(u64 *save_rsp, u64 new_rsp);

namespace sched {

using thread_fn = void (*)(void *arg);

enum class thread_state : u8 { unstarted, runnable, running, waiting, terminated };

constexpr unsigned max_prio = 4;

void schedule();
void wait_current();
[[noreturn]] void exit_current();
void thread_trampoline();

constexpr size_t default_stack_size = KiB(16);

class thread : public list_link {
public:
    thread(thread_fn fn, void *arg, const char *name, unsigned prio);

    u64 id() const { return id_; }
    const char *name() const { return name_; }
    thread_state state() const { return state_; }
    unsigned prio() const { return prio_; }
    u64 switches() const { return switches_; }

    void start();
    void wake();

    static thread *current();

private:
    friend void schedule();
    friend void wait_current();
    friend void exit_current();
    friend void thread_trampoline();

    u64 rsp_ = 0;
    u64 id_;
    thread_fn fn_;
    void *arg_;
    u8 *stack_ = nullptr;
    char name_[24];
    unsigned prio_;
    thread_state state_ = thread_state::unstarted;
    u64 switches_ = 0;
};

void init(unsigned ncpus);
void yield();
unsigned runnable_count();
u64 context_switches();

} // namespace sched

#endif /* OSV_SCHED_HH */
