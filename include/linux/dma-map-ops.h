/* SPDX-License-Identifier: MIT */
/*
 * For implementers of DMA ops and DMA-layer code, mirroring the kernel's linux/dma-map-ops.h (Linux 6.17)
 * for swiommu; drivers that only use the DMA API include <linux/dma-mapping.h>. The arch hooks are arm64's:
 * arch_sync_dma_for_device() cleans, arch_sync_dma_for_cpu() invalidates (not for DMA_TO_DEVICE), through
 * swiommu's CPU cache model.
 */
#ifndef _LINUX_DMA_MAP_OPS_H
#define _LINUX_DMA_MAP_OPS_H

#include <linux/dma-mapping.h>
#include <linux/slab.h>

struct iommu_ops;

/**
 * struct dma_map_ops - a DMA implementation installed on a device with set_dma_ops().
 * @alloc: coherent allocation (dma_alloc_attrs()).
 * @free: its free.
 * @alloc_pages_op: dma_alloc_pages().
 * @free_pages: dma_free_pages().
 * @mmap: dma_mmap_attrs().
 * @get_sgtable: dma_get_sgtable_attrs().
 * @map_page: streaming map; DMA_MAPPING_ERROR on failure.
 * @unmap_page: streaming unmap.
 * @map_sg: map a list; the segment count or -EINVAL, -ENOMEM, -EIO, -EREMOTEIO.
 * @unmap_sg: unmap a list (original nents).
 * @map_resource: map MMIO.
 * @unmap_resource: unmap MMIO.
 * @sync_single_for_cpu: ownership to the CPU.
 * @sync_single_for_device: ownership to the device.
 * @sync_sg_for_cpu: the same for a list.
 * @sync_sg_for_device: the same for a list.
 * @cache_sync: legacy non-coherent helper (unused by the DMA API).
 * @dma_supported: whether a mask can be honoured.
 * @get_required_mask: dma_get_required_mask().
 * @max_mapping_size: dma_max_mapping_size().
 * @opt_mapping_size: dma_opt_mapping_size().
 * @get_merge_boundary: dma_get_merge_boundary().
 *
 * Every member may be NULL except what the driver's DMA API calls need (map_page for dma_map_page, ...).
 */
struct dma_map_ops {
	void *(*alloc)(struct device *dev, size_t size, dma_addr_t *dma_handle, gfp_t gfp, unsigned long attrs);
	void (*free)(struct device *dev, size_t size, void *vaddr, dma_addr_t dma_handle, unsigned long attrs);
	struct page *(*alloc_pages_op)(struct device *dev, size_t size, dma_addr_t *dma_handle,
				       enum dma_data_direction dir, gfp_t gfp);
	void (*free_pages)(struct device *dev, size_t size, struct page *vaddr, dma_addr_t dma_handle,
			   enum dma_data_direction dir);
	int (*mmap)(struct device *, struct vm_area_struct *, void *, dma_addr_t, size_t, unsigned long attrs);
	int (*get_sgtable)(struct device *dev, struct sg_table *sgt, void *cpu_addr, dma_addr_t dma_addr, size_t size,
			   unsigned long attrs);
	dma_addr_t (*map_page)(struct device *dev, struct page *page, unsigned long offset, size_t size,
			       enum dma_data_direction dir, unsigned long attrs);
	void (*unmap_page)(struct device *dev, dma_addr_t dma_handle, size_t size, enum dma_data_direction dir,
			   unsigned long attrs);
	int (*map_sg)(struct device *dev, struct scatterlist *sg, int nents, enum dma_data_direction dir,
		      unsigned long attrs);
	void (*unmap_sg)(struct device *dev, struct scatterlist *sg, int nents, enum dma_data_direction dir,
			 unsigned long attrs);
	dma_addr_t (*map_resource)(struct device *dev, phys_addr_t phys_addr, size_t size,
				   enum dma_data_direction dir, unsigned long attrs);
	void (*unmap_resource)(struct device *dev, dma_addr_t dma_handle, size_t size, enum dma_data_direction dir,
			       unsigned long attrs);
	void (*sync_single_for_cpu)(struct device *dev, dma_addr_t dma_handle, size_t size,
				    enum dma_data_direction dir);
	void (*sync_single_for_device)(struct device *dev, dma_addr_t dma_handle, size_t size,
				       enum dma_data_direction dir);
	void (*sync_sg_for_cpu)(struct device *dev, struct scatterlist *sg, int nents, enum dma_data_direction dir);
	void (*sync_sg_for_device)(struct device *dev, struct scatterlist *sg, int nents,
				   enum dma_data_direction dir);
	void (*cache_sync)(struct device *dev, void *vaddr, size_t size, enum dma_data_direction direction);
	int (*dma_supported)(struct device *dev, u64 mask);
	u64 (*get_required_mask)(struct device *dev);
	size_t (*max_mapping_size)(struct device *dev);
	size_t (*opt_mapping_size)(void);
	unsigned long (*get_merge_boundary)(struct device *dev);
};

/* CONFIG_ARCH_HAS_DMA_OPS: the ops installed on @dev, or NULL (dma-direct or IOMMU DMA). */
static inline const struct dma_map_ops *get_dma_ops(struct device *dev)
{
	return dev->dma_ops;
}

/* Install ops; IOMMU DMA (dev->dma_iommu) still comes first, as in kernel/dma/mapping.c. */
static inline void set_dma_ops(struct device *dev, const struct dma_map_ops *dma_ops)
{
	dev->dma_ops = dma_ops;
}

/* arm64: DMA is non-coherent unless the device tree says "dma-coherent". */
#define dma_default_coherent false

static inline bool dev_is_dma_coherent(struct device *dev)
{
	return dev->dma_coherent;
}

static inline void dma_reset_need_sync(struct device *dev)
{
	if (__builtin_expect(dev->dma_skip_sync, 0))
		dev->dma_skip_sync = false;
}

/**
 * kmalloc_size_roundup() - the size kmalloc() really allocates for @size (its size class).
 * @size: bytes.
 *
 * Without a swiotlb pool (swiotlb=noforce, or no memory for it) kmalloc objects keep the cache line, as
 * 6.17's __kmalloc_minalign() does: the classes below 128 and the 192 one are then served by 128 and 256.
 *
 * Return: the size class (8 ... 2 * PAGE_SIZE with 96 and 192, as SLUB's), pages rounded up to a power of
 * two above, or @size itself for 0 and beyond KMALLOC_MAX_SIZE.
 */
size_t kmalloc_size_roundup(size_t size);

/* CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC (arm64 since 6.5): kmalloc buffers are safe for coherent devices and
 * DMA_TO_DEVICE only. */
static inline bool dma_kmalloc_safe(struct device *dev, enum dma_data_direction dir)
{
	return dev_is_dma_coherent(dev) || dir == DMA_TO_DEVICE;
}

/* Whether a kmalloc buffer of @size is aligned to ARCH_DMA_MINALIGN (128) and a whole number of it. */
static inline bool dma_kmalloc_size_aligned(size_t size)
{
	return size >= 2 * ARCH_DMA_MINALIGN || (kmalloc_size_roundup(size) & (dma_get_cache_alignment() - 1)) == 0;
}

/* A buffer of @size may be a small kmalloc object sharing cache lines: bounce it for a non-coherent device. */
static inline bool dma_kmalloc_needs_bounce(struct device *dev, size_t size, enum dma_data_direction dir)
{
	return !dma_kmalloc_safe(dev, dir) && !dma_kmalloc_size_aligned(size);
}

/**
 * arch_sync_dma_for_device() - arm64's cache maintenance before the device owns a buffer: clean.
 * @paddr: physical address.
 * @size: bytes (widened to whole cache lines).
 * @dir: the direction (arm64 cleans for every direction).
 *
 * Memory that is not simulated RAM is a WARN record.
 */
void arch_sync_dma_for_device(phys_addr_t paddr, size_t size, enum dma_data_direction dir);

/**
 * arch_sync_dma_for_cpu() - arm64's cache maintenance before the CPU owns a buffer again: invalidate,
 * except for DMA_TO_DEVICE.
 * @paddr: physical address.
 * @size: bytes (widened to whole cache lines).
 * @dir: the direction.
 *
 * Memory that is not simulated RAM is a WARN record.
 */
void arch_sync_dma_for_cpu(phys_addr_t paddr, size_t size, enum dma_data_direction dir);

static inline void arch_sync_dma_for_cpu_all(void)
{
}

/**
 * arch_dma_prep_coherent() - clean and invalidate a buffer's lines before its uncached use (arm64's
 * dcache_clean_inval_poc).
 * @page: the first page.
 * @size: bytes.
 */
void arch_dma_prep_coherent(struct page *page, size_t size);

static inline void arch_dma_mark_clean(phys_addr_t paddr, size_t size)
{
	(void)paddr;
	(void)size;
}

/**
 * dma_pgprot() - the protections for a CPU or user mapping of coherent memory.
 * @dev: the device.
 * @prot: the base protections.
 * @attrs: DMA_ATTR_WRITE_COMBINE picks write-combining.
 *
 * Return: @prot for a coherent device, else pgprot_writecombine() or pgprot_dmacoherent() of it.
 */
static inline pgprot_t dma_pgprot(struct device *dev, pgprot_t prot, unsigned long attrs)
{
	if (dev_is_dma_coherent(dev))
		return prot;
	if (attrs & DMA_ATTR_WRITE_COMBINE)
		return pgprot_writecombine(prot);
	return pgprot_dmacoherent(prot);
}

/**
 * dma_common_get_sgtable() - a one-entry table over a contiguous coherent allocation.
 * @dev: the device.
 * @sgt: the table to fill (free with sg_free_table()).
 * @cpu_addr: the CPU address.
 * @dma_addr: the DMA address.
 * @size: bytes.
 * @attrs: the allocation's attributes.
 *
 * Return: 0, -ENXIO when @cpu_addr has no struct page, -ENOMEM.
 */
int dma_common_get_sgtable(struct device *dev, struct sg_table *sgt, void *cpu_addr, dma_addr_t dma_addr,
			   size_t size, unsigned long attrs);

/**
 * dma_common_mmap() - map a contiguous coherent allocation into a user mapping.
 * @dev: the device.
 * @vma: the mapping.
 * @cpu_addr: the CPU address.
 * @dma_addr: the DMA address.
 * @size: bytes.
 * @attrs: the allocation's attributes.
 *
 * Return: 0, -ENXIO when the mapping does not fit the buffer or @cpu_addr has no struct page, -EINVAL.
 */
int dma_common_mmap(struct device *dev, struct vm_area_struct *vma, void *cpu_addr, dma_addr_t dma_addr,
		    size_t size, unsigned long attrs);

/**
 * dma_direct_set_offset() - give @dev one dma-ranges translation (bus = cpu - @cpu_start + @dma_start).
 * @dev: the device.
 * @cpu_start: physical start.
 * @dma_start: bus start.
 * @size: bytes.
 *
 * Return: 0 (also when the offset is 0: nothing to do), -EINVAL when @dev already has a map, -ENOMEM.
 */
int dma_direct_set_offset(struct device *dev, phys_addr_t cpu_start, dma_addr_t dma_start, u64 size);

/**
 * debug_dma_dump_mappings() - log every mapping dma-debug tracks (dev_info() lines "%s idx %d P=%pa D=%llx
 * L=%llx cln=%pa %s %s": type, hash bucket, physical address, DMA address, length, cache line, direction,
 * map-error state), as the kernel's dma-api/dump shows them (CONFIG_DMA_API_DEBUG).
 * @dev: the device, or NULL for every device.
 *
 * Logs nothing while dma-debug is off.
 */
void debug_dma_dump_mappings(struct device *dev);

#endif /* _LINUX_DMA_MAP_OPS_H */
