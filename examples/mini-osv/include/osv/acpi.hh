/* ACPI table discovery. */
#ifndef OSV_ACPI_HH
#define OSV_ACPI_HH

#include <osv/types.h>

namespace acpi {

struct table_header {
    char signature[4];
    u32 length;
    u8 revision;
    u8 checksum;
    char oem_id[6];
    char oem_table_id[8];
    u32 oem_revision;
    u32 creator_id;
    u32 creator_revision;
} __packed;

bool init();
bool available();
const table_header *find_table(const char *signature);
unsigned count_cpus();
bool checksum_ok(const void *p, size_t len);

} // namespace acpi

#endif /* OSV_ACPI_HH */
