/* C++ runtime support hooks (core/runtime.cc). */
#ifndef OSV_RUNTIME_HH
#define OSV_RUNTIME_HH

#include <osv/types.h>

extern "C" {
void run_constructors();
unsigned run_exit_handlers();
}

#endif /* OSV_RUNTIME_HH */
