/* Split virtqueues: descriptor table, available ring and used ring laid
 * out in one contiguous allocation as the legacy interface requires. */
#include <osv/types.h>
#include <osv/debug.hh>
#include <osv/virtio.hh>
#include <osv/mempool.h>
#include <osv/mmu.hh>
#include <string.h>

namespace virtio {

static size_t ring_bytes(unsigned size)
{
    size_t desc_avail = 16 * size + 2 * (3 + size);
    return ALIGN_UP(desc_avail, PAGE_SIZE) + ALIGN_UP(2 * 3 + 8 * size, PAGE_SIZE);
}

vring::vring(unsigned size) : size_(size), nfree_(size)
{
    size_t npages = ring_bytes(size) / PAGE_SIZE;
    mem_ = static_cast<u8 *>(mempool_alloc_pages(npages));
    if (!mem_) {
        desc_ = nullptr;
        avail_ = used_ = nullptr;
        nfree_ = 0;
        return;
    }
    memset(mem_, 0, npages * PAGE_SIZE);
    desc_ = reinterpret_cast<vring_desc *>(mem_);
    avail_ = reinterpret_cast<u16 *>(mem_ + 16 * size);
    used_ = reinterpret_cast<u16 *>(mem_ + ALIGN_UP(16 * size + 2 * (3 + size), PAGE_SIZE));
    for (unsigned i = 0; i + 1 < size; i++) {
        desc_[i].next = u16(i + 1);
    }
}

vring::~vring()
{
    if (mem_) {
        mempool_free_pages(mem_, ring_bytes(size_) / PAGE_SIZE);
    }
}

int vring::add_chain(const u64 *addr, const u32 *len, const bool *device_writes, unsigned n)
{
    if (n == 0 || n > nfree_) {
        return -1;
    }
    u16 head = free_head_;
    u16 idx = head;
    for (unsigned i = 0; i < n; i++) {
        vring_desc &d = desc_[idx];
        d.addr = addr[i];
        d.len = len[i];
        d.flags = u16((device_writes[i] ? desc_write : 0) | (i + 1 < n ? desc_next : 0));
        if (i + 1 < n) {
            idx = d.next;
        }
    }
    free_head_ = desc_[idx].next;
    nfree_ -= n;
    return head;
}

void vring::publish(int head)
{
    u16 idx = avail_[1];
    avail_[2 + idx % size_] = u16(head);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    avail_[1] = u16(idx + 1);
}

bool vring::has_used() const
{
    return READ_ONCE(used_[1]) != last_used_;
}

int vring::get_used(u32 *len)
{
    if (!has_used()) {
        return -1;
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    const u32 *elem = reinterpret_cast<const u32 *>(used_ + 2) + 2 * (last_used_ % size_);
    u16 head = u16(elem[0]);
    if (len) {
        *len = elem[1];
    }
    last_used_++;
    /* Return the whole chain to the free list. */
    u16 idx = head;
    unsigned n = 1;
    while (desc_[idx].flags & desc_next) {
        idx = desc_[idx].next;
        n++;
    }
    desc_[idx].next = free_head_;
    free_head_ = head;
    nfree_ += n;
    return head;
}

phys_addr_t vring::desc_phys() const { return mmu::virt_to_phys(desc_); }
phys_addr_t vring::avail_phys() const { return mmu::virt_to_phys(avail_); }
phys_addr_t vring::used_phys() const { return mmu::virt_to_phys(used_); }

} // namespace virtio
