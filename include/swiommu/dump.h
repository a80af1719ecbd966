/* SPDX-License-Identifier: MIT */
/* Text views in the style of debugfs: a domain with its counters and page table, an instance's IOTLB. */
#ifndef _SWIOMMU_DUMP_H
#define _SWIOMMU_DUMP_H

#include <sys/types.h>
#include <linux/types.h>

struct device;
struct iommu_domain;

/**
 * swiommu_dump_domain() - a domain as text: its type, page sizes and aperture; its counters (maps and
 * unmaps with their bytes, invalidations, faults, groups attached: struct swiommu_domain_counters); for a built-in model's domain the instances and
 * contexts it is programmed into and every live entry of its table(s).
 * @domain: the domain.
 * @buf: where the text goes (NUL-terminated, truncated to @size as snprintf() does); may be NULL with @size 0.
 * @size: the buffer's size.
 *
 * Return: the length of the whole text (as snprintf() returns it), -EINVAL for a NULL or ERR_PTR domain, or
 * -ENODEV when the machine is down.
 */
ssize_t swiommu_dump_domain(struct iommu_domain *domain, char *buf, size_t size);

/**
 * swiommu_dump_iotlb() - the IOTLB of the built-in instance that serves a channel of a device (or of the
 * IOMMU device itself): its counters and every live entry (context, IOVA, output address, size,
 * permissions).
 * @dev: the master, or an IOMMU's own device.
 * @channel: the master's DMA channel.
 * @buf: where the text goes (as for swiommu_dump_domain()).
 * @size: the buffer's size.
 *
 * Return: the length of the whole text, -EINVAL for NULL/ERR_PTR arguments, -ENODEV when no built-in model
 * serves the channel or the machine is down.
 */
ssize_t swiommu_dump_iotlb(struct device *dev, unsigned int channel, char *buf, size_t size);

/**
 * struct swiommu_domain_counters - what happened to one IOMMU domain.
 * @maps: map_pages calls that mapped something (a built-in model's batches).
 * @unmaps: unmap_pages calls that unmapped something.
 * @mapped_bytes: bytes those map_pages calls mapped.
 * @unmapped_bytes: bytes those unmap_pages calls unmapped.
 * @invalidations: IOTLB invalidations: for a built-in model's domain, the commands it sent its instances;
 *	for a C driver's domain, the core's iotlb_sync and flush_iotlb_all calls (iommu_unmap, dma-iommu, the
 *	flush queue; what the driver or its user calls directly through the inline helpers is not seen).
 * @faults: faults reported on the domain (report_iommu_fault), counted always.
 * @attached_groups: groups attached to it now.
 * @by_model: 1 when a built-in model keeps the map counters (always); 0 when the core keeps them for a C
 *	driver's domain, only while swiommu_dma_counters_enable() is on.
 */
struct swiommu_domain_counters {
	u64 maps;
	u64 unmaps;
	u64 mapped_bytes;
	u64 unmapped_bytes;
	u64 invalidations;
	u64 faults;
	u32 attached_groups;
	u32 by_model;
};

/**
 * swiommu_iommu_domain_counters() - a domain's counters (swiommu's extension; the figures
 * swiommu_dump_domain() prints).
 * @domain: the domain: a built-in model's, or one a C IOMMU driver allocated.
 * @counters: where to store them.
 *
 * Return: 0, -EINVAL for a NULL or ERR_PTR domain or NULL @counters, or -ENODEV when the machine is down.
 */
int swiommu_iommu_domain_counters(struct iommu_domain *domain, struct swiommu_domain_counters *counters);

struct iova_domain;

/**
 * struct swiommu_dma_counters - what the DMA API did for one bound device while counting was on.
 * @maps: successful dma_map_* calls (a scatterlist counts once; a multi-channel map once).
 * @unmaps: dma_unmap_* calls.
 * @mapped_bytes: bytes mapped by dma_map_page/single/resource, and the CPU-side lengths of mapped scatterlists.
 * @unmapped_bytes: bytes unmapped the same ways.
 * @syncs: dma_sync_* calls.
 * @bounced_bytes: bytes bounced through swiotlb.
 * @faults: faults the device's DMA raised (swiommu_dma_faults(), counted always).
 * @invalidations: invalidation commands of the built-in IOMMUs that serve it (counted always).
 */
struct swiommu_dma_counters {
	u64 maps;
	u64 unmaps;
	u64 mapped_bytes;
	u64 unmapped_bytes;
	u64 syncs;
	u64 bounced_bytes;
	u64 faults;
	u64 invalidations;
};

/**
 * swiommu_dma_counters_enable() - count every device's DMA API calls, and the maps, unmaps and invalidations
 * of domains whose driver is C, from now on (off by default, when it costs nothing).
 * @on: the setting.
 */
void swiommu_dma_counters_enable(bool on);

/**
 * swiommu_dma_get_counters() - a device's counters, since its driver bound.
 * @dev: the device.
 * @counters: where to store them.
 *
 * Return: 0, -EINVAL for NULL or ERR_PTR arguments, -ENODEV for a device no driver is bound to (its DMA
 * configuration, and its counters, exist only while bound) or a machine that is down.
 */
int swiommu_dma_get_counters(struct device *dev, struct swiommu_dma_counters *counters);

/**
 * swiommu_dump_iova() - an IOVA domain as text: its granule and start pfn, the live ranges in address order
 * (the first 64 listed), the free gaps between them below the highest one, the largest gap and the
 * fragmentation (100% minus the largest gap's share of the free granules).
 * @iovad: the domain (init_iova_domain() ran).
 * @buf: where the text goes (as for swiommu_dump_domain()).
 * @size: the buffer's size.
 *
 * Return: the length of the whole text, or -EINVAL for NULL or a domain that was never initialised.
 */
ssize_t swiommu_dump_iova(struct iova_domain *iovad, char *buf, size_t size);

/**
 * swiommu_dump_swiotlb() - the default swiotlb pool as text: its range, its slots and how many are used, the
 * segments holding a mapping, and the longest run of free slots.
 * @buf: where the text goes (as for swiommu_dump_domain()).
 * @size: the buffer's size.
 *
 * Return: the length of the whole text, or -ENODEV when the machine is down.
 */
ssize_t swiommu_dump_swiotlb(char *buf, size_t size);

#endif /* _SWIOMMU_DUMP_H */
