#ifndef DRIVERS_HPET_HH
#define DRIVERS_HPET_HH

namespace hpet {
bool init();
}

#endif
