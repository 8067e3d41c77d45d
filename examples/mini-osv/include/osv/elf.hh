/* Just enough of ELF64 to look up symbols in a loaded object. */
#ifndef OSV_ELF_HH
#define OSV_ELF_HH

#include <osv/types.h>

namespace elf {

struct Elf64_Ehdr {
    u8  e_ident[16];
    u16 e_type, e_machine;
    u32 e_version;
    u64 e_entry, e_phoff, e_shoff;
    u32 e_flags;
    u16 e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
};

struct Elf64_Phdr {
    u32 p_type, p_flags;
    u64 p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
};

struct Elf64_Sym {
    u32 st_name;
    u8  st_info, st_other;
    u16 st_shndx;
    u64 st_value, st_size;
};

struct Elf64_Dyn {
    s64 d_tag;
    u64 d_val;
};

constexpr u32 PT_LOAD = 1, PT_DYNAMIC = 2;
constexpr s64 DT_NULL = 0, DT_HASH = 4, DT_STRTAB = 5, DT_SYMTAB = 6, DT_GNU_HASH = 0x6ffffef5;

class object {
public:
    object(const void *base, size_t size) : base_(static_cast<const u8 *>(base)), size_(size) {}

    bool valid() const;
    bool load_dynamic();
    const Elf64_Sym *lookup(const char *name) const;
    unsigned symbol_count() const { return nsyms_; }

    static u32 sysv_hash(const char *name);
    static u32 gnu_hash(const char *name);

private:
    const Elf64_Phdr *phdrs() const;
    const void *vaddr_to_ptr(u64 vaddr) const;

    const u8 *base_;
    size_t size_;
    const Elf64_Sym *symtab_ = nullptr;
    const char *strtab_ = nullptr;
    const u32 *hash_ = nullptr;
    unsigned nsyms_ = 0;
};

} // namespace elf

#endif /* OSV_ELF_HH */
