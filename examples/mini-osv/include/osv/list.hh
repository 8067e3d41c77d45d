/* An intrusive, circular doubly linked list.  Elements derive from
 * list_link, so an object can sit on exactly one list at a time. */
#ifndef OSV_LIST_HH
#define OSV_LIST_HH

#include <osv/types.h>

struct list_link {
    list_link *prev = this;
    list_link *next = this;

    bool linked() const { return next != this; }

    void unlink()
    {
        prev->next = next;
        next->prev = prev;
        prev = next = this;
    }

    void insert_before(list_link *pos)
    {
        next = pos;
        prev = pos->prev;
        pos->prev->next = this;
        pos->prev = this;
    }
};

template <typename T>
class intrusive_list {
public:
    intrusive_list() = default;
    intrusive_list(const intrusive_list &) = delete;
    intrusive_list &operator=(const intrusive_list &) = delete;

    bool empty() const { return head_.next == &head_; }
    T *front() { return empty() ? nullptr : static_cast<T *>(head_.next); }
    T *back() { return empty() ? nullptr : static_cast<T *>(head_.prev); }

    void push_back(T *item) { static_cast<list_link *>(item)->insert_before(&head_); }
    void push_front(T *item) { static_cast<list_link *>(item)->insert_before(head_.next); }
    void remove(T *item) { static_cast<list_link *>(item)->unlink(); }

    T *pop_front()
    {
        T *item = front();
        if (item) {
            remove(item);
        }
        return item;
    }

    size_t size() const
    {
        size_t n = 0;
        for (const list_link *l = head_.next; l != &head_; l = l->next) {
            n++;
        }
        return n;
    }

    template <typename Fn>
    void for_each(Fn fn)
    {
        for (list_link *l = head_.next, *nx; l != &head_; l = nx) {
            nx = l->next;
            fn(static_cast<T *>(l));
        }
    }

    template <typename Pred>
    T *find_if(Pred pred)
    {
        for (list_link *l = head_.next; l != &head_; l = l->next) {
            if (pred(static_cast<T *>(l))) {
                return static_cast<T *>(l);
            }
        }
        return nullptr;
    }

private:
    list_link head_;
};

#endif /* OSV_LIST_HH */
