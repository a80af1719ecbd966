/* SPDX-License-Identifier: MIT */
/* The example IPMMU driver (ipmmu.c): what its instances report to tests and to the demo. */
#ifndef SWIOMMU_EXAMPLE_IPMMU_H
#define SWIOMMU_EXAMPLE_IPMMU_H

#include <linux/types.h>

struct device;

/**
 * struct ipmmu_stats - one IPMMU instance's counters.
 * @masters: masters probed behind it (a leaf).
 * @attached: successful attach_dev calls (a leaf).
 * @tlb_flushes: whole-context TLB flushes it issued (the root counts every leaf's too).
 * @contexts: hardware contexts of its root.
 * @contexts_used: contexts of its root that domains hold.
 */
struct ipmmu_stats {
	unsigned long masters;
	unsigned long attached;
	unsigned long tlb_flushes;
	unsigned int contexts;
	unsigned int contexts_used;
};

int ipmmu_get_stats(struct device *iommu_dev, struct ipmmu_stats *stats);
int ipmmu_utlb_context(struct device *iommu_dev, unsigned int utlb);
u64 ipmmu_context_ttbr(struct device *iommu_dev, unsigned int context);

#endif
