/* Probe entry points of the drivers that sit on the PCI bus. */
#ifndef DRIVERS_PCI_DRIVERS_HH
#define DRIVERS_PCI_DRIVERS_HH

#include <osv/pci.hh>
#include <osv/device.hh>

namespace virtio { namespace pci_transport { hw::device *probe(const pci::function &f); } }
namespace ahci { hw::device *probe(const pci::function &f); }
namespace ide { hw::device *probe(const pci::function &f); }

#endif
