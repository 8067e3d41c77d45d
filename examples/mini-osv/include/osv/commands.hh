/* Kernel command line handling. */
#ifndef OSV_COMMANDS_HH
#define OSV_COMMANDS_HH

#include <osv/types.h>

namespace osv {

void set_cmdline(const char *line);
const char *cmdline();
int split_args(char *line, char **argv, int max_args);
bool find_option(const char *key, char *value, size_t len);
bool has_flag(const char *flag);

} // namespace osv

#endif /* OSV_COMMANDS_HH */
