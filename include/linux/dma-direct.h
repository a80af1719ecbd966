/* SPDX-License-Identifier: MIT */
/*
 * Address translation and reach checks of dma-direct, mirroring the kernel's linux/dma-direct.h (Linux 6.17)
 * for swiommu: dev->dma_range_map (dma-ranges), *dev->dma_mask and dev->bus_dma_limit. No memory encryption.
 */
#ifndef _LINUX_DMA_DIRECT_H
#define _LINUX_DMA_DIRECT_H

#include <linux/dma-mapping.h>
#include <linux/minmax.h>

static inline dma_addr_t translate_phys_to_dma(struct device *dev, phys_addr_t paddr)
{
	const struct bus_dma_region *m;

	for (m = dev->dma_range_map; m->size; m++) {
		u64 offset = paddr - m->cpu_start;

		if (paddr >= m->cpu_start && offset < m->size)
			return m->dma_start + offset;
	}
	/* make sure dma_capable fails when no translation is available */
	return DMA_MAPPING_ERROR;
}

static inline phys_addr_t translate_dma_to_phys(struct device *dev, dma_addr_t dma_addr)
{
	const struct bus_dma_region *m;

	for (m = dev->dma_range_map; m->size; m++) {
		u64 offset = dma_addr - m->dma_start;

		if (dma_addr >= m->dma_start && offset < m->size)
			return m->cpu_start + offset;
	}
	return (phys_addr_t)-1;
}

static inline dma_addr_t phys_to_dma_unencrypted(struct device *dev, phys_addr_t paddr)
{
	if (dev->dma_range_map)
		return translate_phys_to_dma(dev, paddr);
	return paddr;
}

/* The bus address of @paddr for @dev (DMA_MAPPING_ERROR outside every dma-ranges window). */
static inline dma_addr_t phys_to_dma(struct device *dev, phys_addr_t paddr)
{
	return phys_to_dma_unencrypted(dev, paddr);
}

/* The physical address of bus address @dma_addr for @dev ((phys_addr_t)-1 outside every window). */
static inline phys_addr_t dma_to_phys(struct device *dev, dma_addr_t dma_addr)
{
	if (dev->dma_range_map)
		return translate_dma_to_phys(dev, dma_addr);
	return dma_addr;
}

/* Whether @dev reaches [@addr, @addr + @size) on the bus: its mask and bus limit. */
static inline bool dma_capable(struct device *dev, dma_addr_t addr, size_t size, bool is_ram)
{
	dma_addr_t end = addr + size - 1;
	u64 limit = *dev->dma_mask;

	(void)is_ram;
	if (addr == DMA_MAPPING_ERROR)
		return false;
	if (dev->bus_dma_limit && (limit == 0 || dev->bus_dma_limit < limit))
		limit = dev->bus_dma_limit;
	return end >= addr && end <= limit;
}

/**
 * dma_direct_get_required_mask() - the mask that reaches the top of RAM through dma-ranges.
 * @dev: the device.
 *
 * Return: DMA_BIT_MASK(n) for the smallest n that covers phys_to_dma() of the last RAM byte.
 */
u64 dma_direct_get_required_mask(struct device *dev);

#endif /* _LINUX_DMA_DIRECT_H */
