/* ACPI: finds the RSDP in the BIOS area and walks the RSDT/XSDT. */
#include <osv/types.h>
#include <osv/debug.hh>
#include <osv/acpi.hh>
#include <osv/mmu.hh>
#include <string.h>

namespace acpi {

namespace {

struct rsdp {
    char signature[8];
    u8 checksum;
    char oem_id[6];
    u8 revision;
    u32 rsdt_address;
    u32 length;
    u64 xsdt_address;
    u8 extended_checksum;
    u8 reserved[3];
} __packed;

struct madt_entry {
    u8 type;
    u8 length;
} __packed;

const table_header *root;
bool use_xsdt;

const rsdp *scan(phys_addr_t start, size_t len)
{
    for (size_t off = 0; off + sizeof(rsdp) <= len; off += 16) {
        auto *r = static_cast<const rsdp *>(mmu::phys_to_virt(start + off));
        if (memcmp(r->signature, "RSD PTR ", 8) == 0 && checksum_ok(r, 20)) {
            return r;
        }
    }
    return nullptr;
}

} // namespace

bool checksum_ok(const void *p, size_t len)
{
    u8 sum = 0;
    for (size_t i = 0; i < len; i++) {
        sum = u8(sum + static_cast<const u8 *>(p)[i]);
    }
    return sum == 0;
}

bool init()
{
    const rsdp *r = scan(0xe0000, 0x20000);
    if (!r) {
        warnf("acpi", "no RSDP found");
        return false;
    }
    use_xsdt = r->revision >= 2 && r->xsdt_address;
    root = static_cast<const table_header *>(
        mmu::phys_to_virt(use_xsdt ? r->xsdt_address : r->rsdt_address));
    if (!checksum_ok(root, root->length)) {
        root = nullptr;
        return false;
    }
    debugf("acpi", "%s at revision %u", use_xsdt ? "XSDT" : "RSDT", r->revision);
    return true;
}

bool available()
{
    return root != nullptr;
}

const table_header *find_table(const char *signature)
{
    if (!root) {
        return nullptr;
    }
    size_t entry_size = use_xsdt ? 8 : 4;
    size_t n = (root->length - sizeof(table_header)) / entry_size;
    auto *entries = reinterpret_cast<const u8 *>(root + 1);
    for (size_t i = 0; i < n; i++) {
        u64 addr = 0;
        memcpy(&addr, entries + i * entry_size, entry_size);
        auto *t = static_cast<const table_header *>(mmu::phys_to_virt(addr));
        if (memcmp(t->signature, signature, 4) == 0 && checksum_ok(t, t->length)) {
            return t;
        }
    }
    return nullptr;
}

unsigned count_cpus()
{
    const table_header *madt = find_table("APIC");
    if (!madt) {
        return 0;
    }
    unsigned n = 0;
    auto *p = reinterpret_cast<const u8 *>(madt) + sizeof(table_header) + 8;
    auto *end = reinterpret_cast<const u8 *>(madt) + madt->length;
    while (p + sizeof(madt_entry) <= end) {
        auto *e = reinterpret_cast<const madt_entry *>(p);
        if (e->length < 2) {
            break;
        }
        /* type 0: local APIC, flags bit 0 = enabled; type 9: local x2APIC */
        if ((e->type == 0 && (p[4] & 1)) || (e->type == 9 && (p[8] & 1))) {
            n++;
        }
        p += e->length;
    }
    return n;
}

} // namespace acpi
