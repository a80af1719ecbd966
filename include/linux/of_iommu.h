/* SPDX-License-Identifier: MIT */
/* Device tree helpers for IOMMU drivers, mirroring the kernel's linux/of_iommu.h (Linux 6.17) for swiommu. */
#ifndef __OF_IOMMU_H
#define __OF_IOMMU_H

#include <linux/types.h>
#include <linux/list.h>

struct device;

/**
 * of_iommu_get_resv_regions() - append a device's reserved regions from the device tree ("memory-region"
 * naming reserved-memory nodes with "iommu-addresses"): IOMMU_RESV_DIRECT when the node's reg matches the
 * IOVA range, else IOMMU_RESV_RESERVED. IOMMU drivers call it from get_resv_regions.
 * @dev: the device (its DMA configuration must have run, i.e. it is being probed or bound).
 * @list: the list to append to.
 */
void of_iommu_get_resv_regions(struct device *dev, struct list_head *list);

#endif /* __OF_IOMMU_H */
