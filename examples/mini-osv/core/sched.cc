/* Priority round-robin scheduler (built with -O3). */
#include <osv/types.h>
#include <osv/debug.hh>
#include <osv/sched.hh>
#include <osv/spinlock.h>
#include <osv/mempool.h>
#include <string.h>

namespace sched {

static intrusive_list<thread> runqueue[max_prio];
static spinlock_t rq_lock = SPINLOCK_INIT;
static thread *running;
static u64 next_id = 1;
static u64 nswitches;
static unsigned cpus;

thread::thread(thread_fn fn, void *arg, const char *name, unsigned prio)
    : id_(__atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED)), fn_(fn), arg_(arg),
      prio_(prio < max_prio ? prio : max_prio - 1)
{
    strlcpy(name_, name, sizeof(name_));
}

thread *thread::current()
{
    return running;
}

void thread_trampoline()
{
    thread *t = thread::current();
    t->fn_(t->arg_);
    exit_current();
}

void thread::start()
{
    stack_ = static_cast<u8 *>(mempool_alloc_pages(default_stack_size / PAGE_SIZE));
    kassert(stack_ != nullptr);
    /* Build the frame switch_context() pops: six registers, then the
     * return address. */
    auto *top = reinterpret_cast<u64 *>(stack_ + default_stack_size);
    *--top = 0;
    *--top = reinterpret_cast<u64>(&thread_trampoline);
    for (int i = 0; i < 6; i++) {
        *--top = 0;
    }
    rsp_ = reinterpret_cast<u64>(top);
    wake();
}

void thread::wake()
{
    spin_lock(&rq_lock);
    if (state_ != thread_state::runnable && state_ != thread_state::running) {
        state_ = thread_state::runnable;
        runqueue[prio_].push_back(this);
    }
    spin_unlock(&rq_lock);
}

static thread *pick_next()
{
    for (unsigned p = 0; p < max_prio; p++) {
        if (thread *t = runqueue[p].pop_front()) {
            return t;
        }
    }
    return nullptr;
}

void schedule()
{
    spin_lock(&rq_lock);
    thread *prev = running;
    thread *next = pick_next();
    if (!next) {
        spin_unlock(&rq_lock);
        return;
    }
    if (prev && prev->state_ == thread_state::running) {
        prev->state_ = thread_state::runnable;
        runqueue[prev->prio_].push_back(prev);
    }
    next->state_ = thread_state::running;
    next->switches_++;
    nswitches++;
    running = next;
    spin_unlock(&rq_lock);
    if (prev != next) {
        static u64 boot_rsp;
        switch_context(prev ? &prev->rsp_ : &boot_rsp, next->rsp_);
    }
}

void yield()
{
    schedule();
}

void wait_current()
{
    running->state_ = thread_state::waiting;
    schedule();
}

void exit_current()
{
    running->state_ = thread_state::terminated;
    schedule();
    dbg::panic("terminated thread %s was rescheduled", running->name_);
}

unsigned runnable_count()
{
    unsigned n = 0;
    for (auto &q : runqueue) {
        n += unsigned(q.size());
    }
    return n;
}

u64 context_switches()
{
    return nswitches;
}

void init(unsigned ncpus)
{
    cpus = ncpus;
    debugf("sched", "scheduler up, %u cpus, %u priorities", cpus, max_prio);
}

} // namespace sched
