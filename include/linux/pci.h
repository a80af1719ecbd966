/* SPDX-License-Identifier: MIT */
/* The little of the kernel's linux/pci.h that PCI-like devices of a board need, for swiommu. */
/* glibc's <sys/pci.h> includes the system <linux/pci.h>: chain to it and only add. */
#include_next <linux/pci.h>

#ifndef SWIOMMU_LINUX_PCI_H
#define SWIOMMU_LINUX_PCI_H

#include <linux/device.h>

/*
 * The children of a device tree host bridge ("pci-host-ecam-generic", device_type = "pci") become
 * PCI-like devices: struct device on this bus, named "0000:bb:dd.f", with their requester ID taken from
 * reg and their IOMMU from the bridge's iommu-map. They bind to platform drivers by compatible; there
 * is no struct pci_dev.
 */
extern const struct bus_type pci_bus_type;
#define dev_is_pci(d) ((d)->bus == &pci_bus_type)

#endif /* SWIOMMU_LINUX_PCI_H */
