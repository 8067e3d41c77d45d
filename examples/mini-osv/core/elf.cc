/* ELF64 validation and dynamic symbol lookup through DT_HASH. */
#include <osv/types.h>
#include <osv/debug.hh>
#include <osv/elf.hh>
#include <string.h>

namespace elf {

u32 object::sysv_hash(const char *name)
{
    u32 h = 0;
    for (auto *p = reinterpret_cast<const u8 *>(name); *p; p++) {
        h = (h << 4) + *p;
        u32 g = h & 0xf0000000;
        if (g) {
            h ^= g >> 24;
        }
        h &= ~g;
    }
    return h;
}

u32 object::gnu_hash(const char *name)
{
    u32 h = 5381;
    for (auto *p = reinterpret_cast<const u8 *>(name); *p; p++) {
        h = h * 33 + *p;
    }
    return h;
}

bool object::valid() const
{
    if (size_ < sizeof(Elf64_Ehdr)) {
        return false;
    }
    auto *eh = reinterpret_cast<const Elf64_Ehdr *>(base_);
    static const u8 magic[4] = { 0x7f, 'E', 'L', 'F' };
    return memcmp(eh->e_ident, magic, 4) == 0 && eh->e_ident[4] == 2 /* 64-bit */ &&
           eh->e_machine == 62 /* x86-64 */ &&
           eh->e_phoff + u64(eh->e_phnum) * sizeof(Elf64_Phdr) <= size_;
}

const Elf64_Phdr *object::phdrs() const
{
    auto *eh = reinterpret_cast<const Elf64_Ehdr *>(base_);
    return reinterpret_cast<const Elf64_Phdr *>(base_ + eh->e_phoff);
}

const void *object::vaddr_to_ptr(u64 vaddr) const
{
    auto *eh = reinterpret_cast<const Elf64_Ehdr *>(base_);
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        const Elf64_Phdr &ph = phdrs()[i];
        if (ph.p_type == PT_LOAD && vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_filesz) {
            return base_ + ph.p_offset + (vaddr - ph.p_vaddr);
        }
    }
    return nullptr;
}

bool object::load_dynamic()
{
    if (!valid()) {
        return false;
    }
    auto *eh = reinterpret_cast<const Elf64_Ehdr *>(base_);
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        const Elf64_Phdr &ph = phdrs()[i];
        if (ph.p_type != PT_DYNAMIC) {
            continue;
        }
        for (auto *d = reinterpret_cast<const Elf64_Dyn *>(base_ + ph.p_offset); d->d_tag != DT_NULL; d++) {
            switch (d->d_tag) {
            case DT_SYMTAB: symtab_ = static_cast<const Elf64_Sym *>(vaddr_to_ptr(d->d_val)); break;
            case DT_STRTAB: strtab_ = static_cast<const char *>(vaddr_to_ptr(d->d_val)); break;
            case DT_HASH: hash_ = static_cast<const u32 *>(vaddr_to_ptr(d->d_val)); break;
            default: break;
            }
        }
    }
    if (hash_) {
        nsyms_ = hash_[1];
    }
    return symtab_ && strtab_ && hash_;
}

const Elf64_Sym *object::lookup(const char *name) const
{
    if (!hash_) {
        return nullptr;
    }
    u32 nbucket = hash_[0];
    const u32 *buckets = hash_ + 2;
    const u32 *chains = buckets + nbucket;
    for (u32 i = buckets[sysv_hash(name) % nbucket]; i; i = chains[i]) {
        const Elf64_Sym &s = symtab_[i];
        if (s.st_shndx != 0 && strcmp(strtab_ + s.st_name, name) == 0) {
            return &s;
        }
    }
    return nullptr;
}

} // namespace elf
