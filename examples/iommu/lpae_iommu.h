/* SPDX-License-Identifier: MIT */
/* The example LPAE IOMMU driver's counters, for its tests. */
#ifndef SWIOMMU_EXAMPLE_LPAE_IOMMU_H
#define SWIOMMU_EXAMPLE_LPAE_IOMMU_H

struct device;

struct lpae_iommu_stats {
	unsigned long probed, released, attached;
	unsigned long tlb_flush_all, tlb_flush_walk, tlb_add_page, iotlb_sync;
};

/* The counters of the instance whose device is @iommu_dev, or NULL. */
const struct lpae_iommu_stats *lpae_iommu_stats(struct device *iommu_dev);

#endif
