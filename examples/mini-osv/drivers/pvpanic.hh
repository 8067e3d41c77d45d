#ifndef DRIVERS_PVPANIC_HH
#define DRIVERS_PVPANIC_HH

namespace pvpanic {
bool init();
void notify();
}

#endif
