/* SPDX-License-Identifier: MIT */
/* swiommu's extensions to the IOMMU core: default-domain policies, the built-in IOMMU models, the IOTLB. */
#ifndef _SWIOMMU_IOMMU_H
#define _SWIOMMU_IOMMU_H

#include <linux/types.h>

struct device;

/**
 * swiommu_iommu_set_default_domain_policy() - how groups get their default domain: "per-group" (one each:
 * the kernel's), "per-instance" (groups on one IOMMU instance share one) or "global" (every group of a
 * driver shares one). Called while the machine is down, it applies from the next swiommu_init() (over the
 * board's /chosen "swiommu,iommu-policy"), as the kernel's command line does; while it is up, to groups set
 * up from then on (IOMMU instances register at boot and set up their masters' groups then). A driver that
 * refuses a shared domain at attach gets the group its own.
 * @policy: the policy's name.
 *
 * Return: 0, or -EINVAL for another name (with a message).
 */
int swiommu_iommu_set_default_domain_policy(const char *policy);

/**
 * swiommu_iommu_default_domain_policy() - the policy in force.
 *
 * Return: "per-group", "per-instance" or "global"; NULL when the machine is down.
 */
const char *swiommu_iommu_default_domain_policy(void);

/**
 * swiommu_iommu_use_builtin_models() - whether swiommu_init() binds the built-in IOMMU models ("arm,smmu-v3",
 * "arm,mmu-500", the "renesas,ipmmu-vmsa" family, "samsung,exynos-sysmmu", "rockchip,iommu",
 * "apple,t8103-dart") to the board's IOMMUs that no C driver took. On by default; off, those IOMMUs have no
 * driver and their masters carry on without them, as on a kernel built without the drivers.
 * @enable: the setting for the next boot.
 *
 * Return: 0, or -EBUSY while the machine is up (nothing changes).
 */
int swiommu_iommu_use_builtin_models(bool enable);

/**
 * struct swiommu_iotlb_stats - what one IOMMU instance's IOTLB has seen.
 * @capacity: entries it holds (a board sets it with the IOMMU node's "swiommu,iotlb-entries").
 * @lookups: device accesses looked up.
 * @hits: lookups the IOTLB answered.
 * @misses: lookups that walked the table.
 * @fills: walks cached.
 * @evictions: entries replaced to make room.
 * @invalidate_all: invalidate-everything commands.
 * @invalidate_context: invalidate-by-context (ASID, context bank, stream) commands.
 * @invalidate_range: invalidate-by-address commands.
 * @faults: faults the instance raised.
 * @contexts_used: hardware contexts programmed now.
 * @contexts: hardware contexts it has.
 */
struct swiommu_iotlb_stats {
	u64 capacity;
	u64 lookups;
	u64 hits;
	u64 misses;
	u64 fills;
	u64 evictions;
	u64 invalidate_all;
	u64 invalidate_context;
	u64 invalidate_range;
	u64 faults;
	u64 contexts_used;
	u64 contexts;
};

/**
 * swiommu_iommu_iotlb_stats() - the IOTLB counters of the instance that serves a channel of a device.
 * @dev: the master (or the IOMMU's own device).
 * @channel: the master's DMA channel (ignored for an IOMMU's own device).
 * @stats: where to store them.
 *
 * Return: 0, -EINVAL for a NULL argument or a bad channel, -ENODEV when the channel is not behind a built-in
 * model (a C driver's instance keeps no IOTLB here) or the machine is down.
 */
int swiommu_iommu_iotlb_stats(struct device *dev, unsigned int channel, struct swiommu_iotlb_stats *stats);

/**
 * swiommu_iotlb_invalidations() - invalidation commands seen by the built-in IOMMU instance(s) that serve
 * the device (every kind; each instance counted once).
 * @dev: the master.
 *
 * Return: the count; 0 for NULL, a device behind no built-in model, or a machine that is down.
 */
unsigned long swiommu_iotlb_invalidations(struct device *dev);

/**
 * swiommu_iommu_translate() - translate one address as the device's channel would, without moving data:
 * the IOTLB, else the walk; a fault is reported and logged as swiommu_dma_read() would.
 * @dev: the master.
 * @channel: its DMA channel.
 * @iova: the DMA address.
 * @write: a write access (else a read).
 * @phys: where to store the physical address.
 *
 * Return: 0, -EINVAL for a NULL argument or a bad channel, -EFAULT after a fault, -ENODEV when the machine
 * is down.
 */
int swiommu_iommu_translate(struct device *dev, unsigned int channel, dma_addr_t iova, bool write, phys_addr_t *phys);

/**
 * swiommu_iommu_channel_domain() - the domain that translates a DMA channel of a device now (swiommu's
 * channel extension: channels behind a further IOMMU instance have a group and domain of their own).
 * @dev: the master.
 * @channel: its DMA channel.
 *
 * Return: the domain (for channel 0 the one iommu_get_domain_for_dev() returns), or NULL for a channel
 * that bypasses translation, a device without an IOMMU, a bad channel, or a machine that is down.
 */
struct iommu_domain *swiommu_iommu_channel_domain(struct device *dev, unsigned int channel);

/**
 * swiommu_iommu_port_powered() - whether the IOMMU port of a DMA channel is powered: a built-in model powers
 * a channel's port while the domain that translates it holds a live mapping, and down when it holds none
 * (an identity domain's port stays up). DMA through a powered-down port faults, as it has nothing to reach.
 * @dev: the master.
 * @channel: its DMA channel.
 *
 * Return: 1 (powered), 0 (powered down), -ENODEV for a channel with no IOMMU port (bypass, direct, no
 * driver) or a machine that is down, -EOPNOTSUPP behind an IOMMU driver written in C (its domains do not
 * report their mappings), -EINVAL for NULL or a bad channel.
 */
int swiommu_iommu_port_powered(struct device *dev, unsigned int channel);

#endif /* _SWIOMMU_IOMMU_H */
