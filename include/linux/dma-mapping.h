/* SPDX-License-Identifier: MIT */
/*
 * The DMA API drivers use, mirroring the kernel's linux/dma-mapping.h (Linux 6.17) for swiommu
 * (CONFIG_HAS_DMA, CONFIG_DMA_NEED_SYNC, CONFIG_NEED_DMA_MAP_STATE, as on arm64). kernel/dma/mapping.c
 * chooses per device between dma-direct, IOMMU DMA (dev->dma_iommu) and ops installed with set_dma_ops().
 * Bad input (NULL devices, DMA_NONE, memory that is not simulated RAM) is a WARN record and the failure
 * value, never a crash; the kernel's BUG_ON(!valid_dma_direction(dir)) is such a WARN here.
 */
#ifndef _LINUX_DMA_MAPPING_H
#define _LINUX_DMA_MAPPING_H

#include <linux/types.h>
#include <linux/kernel.h>
#include <linux/device.h>
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/sizes.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/vmalloc.h>
#include <linux/dma-direction.h>
#include <linux/scatterlist.h>
#include <linux/bug.h>

/* Attributes of a mapping or an allocation (Documentation/core-api/dma-attributes.rst). */
#define DMA_ATTR_WEAK_ORDERING		(1UL << 1)
#define DMA_ATTR_WRITE_COMBINE		(1UL << 2)
#define DMA_ATTR_NO_KERNEL_MAPPING	(1UL << 4)
#define DMA_ATTR_SKIP_CPU_SYNC		(1UL << 5)
#define DMA_ATTR_FORCE_CONTIGUOUS	(1UL << 6)
#define DMA_ATTR_ALLOC_SINGLE_PAGES	(1UL << 7)
#define DMA_ATTR_NO_WARN		(1UL << 8)
#define DMA_ATTR_PRIVILEGED		(1UL << 9)

/* What a failed mapping returns; test it with dma_mapping_error(), never directly. */
#define DMA_MAPPING_ERROR		(~(dma_addr_t)0)

#define DMA_BIT_MASK(n)	(((n) == 64) ? ~0ULL : ((1ULL << (n)) - 1))

#ifndef dev_WARN_ONCE
/* WARN_ONCE() with the "driver device: " prefix, as the kernel's dev_WARN_ONCE(); a NULL or ERR_PTR device
 * prints "(NULL device *): " as dev_printk() does, where the kernel's would dereference it. */
#define dev_WARN_ONCE(dev, condition, format, ...)						\
	(IS_ERR_OR_NULL(dev) ? WARN_ONCE(condition, "(NULL device *): " format, ##__VA_ARGS__) :	\
	 WARN_ONCE(condition, "%s %s: " format, dev_driver_string(dev), dev_name(dev), ##__VA_ARGS__))
#endif

/**
 * debug_dma_mapping_error() - dma-debug's hook: the driver checked @dma_addr (CONFIG_DMA_API_DEBUG).
 * @dev: the device.
 * @dma_addr: the address it checked.
 *
 * Does nothing while dma-debug is off.
 */
void debug_dma_mapping_error(struct device *dev, dma_addr_t dma_addr);

/**
 * debug_dma_map_single() - dma-debug's hook: @addr is about to be mapped with dma_map_single().
 * @dev: the device.
 * @addr: the CPU address.
 * @len: bytes.
 *
 * Does nothing while dma-debug is off.
 */
void debug_dma_map_single(struct device *dev, const void *addr, unsigned long len);

/**
 * dma_mapping_error() - whether a mapping call failed.
 * @dev: the device.
 * @dma_addr: what the call returned.
 *
 * Return: 0, or -ENOMEM for DMA_MAPPING_ERROR.
 */
static inline int dma_mapping_error(struct device *dev, dma_addr_t dma_addr)
{
	debug_dma_mapping_error(dev, dma_addr);
	if (__builtin_expect(dma_addr == DMA_MAPPING_ERROR, 0))
		return -ENOMEM;
	return 0;
}

/**
 * dma_map_page_attrs() - map @size bytes at @offset in @page for DMA by @dev (channel 0, and every channel
 * that shares channel 0's IOMMU domain).
 * @dev: the device.
 * @page: the first page (simulated RAM).
 * @offset: offset in @page (may exceed PAGE_SIZE for a multi-page buffer).
 * @size: bytes.
 * @dir: DMA_TO_DEVICE, DMA_FROM_DEVICE or DMA_BIDIRECTIONAL.
 * @attrs: DMA_ATTR_*.
 *
 * dma-direct returns the bus address (through dma-ranges), bouncing through swiotlb when the device cannot
 * reach the buffer, bouncing is forced, or a small kmalloc buffer is mapped for a non-coherent device;
 * then cleans the CPU cache for a non-coherent device unless DMA_ATTR_SKIP_CPU_SYNC.
 *
 * Return: the DMA address, or DMA_MAPPING_ERROR: for DMA_NONE or another bad direction (a WARN record, as
 * the kernel's BUG_ON), a NULL device or page, a device without dma_mask, size 0, memory that is not
 * simulated RAM, an address the device cannot reach while swiotlb is inactive ("DMA addr ... overflow"),
 * a full swiotlb ("swiotlb buffer is full"), a channel route the IOMMU core cannot serve.
 */
dma_addr_t dma_map_page_attrs(struct device *dev, struct page *page, size_t offset, size_t size,
			      enum dma_data_direction dir, unsigned long attrs);

/**
 * dma_unmap_page_attrs() - end a mapping: sync for the CPU (copy back from swiotlb, invalidate the CPU
 * cache for a non-coherent device) unless DMA_ATTR_SKIP_CPU_SYNC, and release it.
 * @dev: the device.
 * @addr: what dma_map_page_attrs() returned.
 * @size: the size that was mapped.
 * @dir: the direction that was mapped.
 * @attrs: DMA_ATTR_*.
 *
 * Bad input (a bad direction, a NULL device) is a WARN record and nothing is done.
 */
void dma_unmap_page_attrs(struct device *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir,
			  unsigned long attrs);

/**
 * dma_map_sg_attrs() - map a scatterlist for DMA.
 * @dev: the device.
 * @sg: the list.
 * @nents: its entries.
 * @dir: the direction.
 * @attrs: DMA_ATTR_*.
 *
 * Fills sg_dma_address() and sg_dma_len() of the DMA segments. dma-direct maps entry for entry; IOMMU DMA
 * maps one contiguous IOVA range and may merge entries.
 *
 * Return: the number of DMA segments, or 0 on any failure (see dma_map_sgtable() for the reasons).
 */
unsigned int dma_map_sg_attrs(struct device *dev, struct scatterlist *sg, int nents, enum dma_data_direction dir,
			      unsigned long attrs);

/**
 * dma_unmap_sg_attrs() - unmap a scatterlist.
 * @dev: the device.
 * @sg: the list.
 * @nents: the count passed to dma_map_sg_attrs() (not the count it returned).
 * @dir: the direction.
 * @attrs: DMA_ATTR_*.
 */
void dma_unmap_sg_attrs(struct device *dev, struct scatterlist *sg, int nents, enum dma_data_direction dir,
			unsigned long attrs);

/**
 * dma_map_sgtable() - map a table's orig_nents entries and set its nents.
 * @dev: the device.
 * @sgt: the table.
 * @dir: the direction.
 * @attrs: DMA_ATTR_*.
 *
 * A device without a dma_mask maps nothing and returns 0 with @sgt->nents 0, after a WARN (as 6.17 does).
 *
 * Return: 0; -EINVAL for bad arguments (a bad direction, NULL, an entry that is not RAM); -ENOMEM when
 * swiotlb or IOVA space runs out; -EIO when a lower level returned DMA_MAPPING_ERROR (an address the device
 * cannot reach with swiotlb inactive) or for a table of no entries; -EREMOTEIO for P2P memory the device
 * cannot reach.
 */
int dma_map_sgtable(struct device *dev, struct sg_table *sgt, enum dma_data_direction dir, unsigned long attrs);

/**
 * dma_map_resource() - map an MMIO range (a FIFO register of another device) for DMA.
 * @dev: the device.
 * @phys_addr: its physical address (not RAM).
 * @size: bytes.
 * @dir: the direction.
 * @attrs: DMA_ATTR_*.
 *
 * Return: the DMA address, or DMA_MAPPING_ERROR for a bad direction, a NULL device, no dma_mask, RAM
 * (dma-direct refuses pages of simulated RAM, as the kernel's pfn_valid() check), or an address beyond
 * the device's reach.
 */
dma_addr_t dma_map_resource(struct device *dev, phys_addr_t phys_addr, size_t size, enum dma_data_direction dir,
			    unsigned long attrs);

/**
 * dma_unmap_resource() - unmap what dma_map_resource() mapped.
 * @dev: the device.
 * @addr: the DMA address.
 * @size: bytes.
 * @dir: the direction.
 * @attrs: DMA_ATTR_*.
 */
void dma_unmap_resource(struct device *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir,
			unsigned long attrs);

/**
 * dma_alloc_attrs() - allocate memory that the CPU and @dev see coherently.
 * @dev: the device.
 * @size: bytes (rounded up to pages).
 * @dma_handle: receives the DMA address.
 * @flag: GFP flags (__GFP_DMA, __GFP_DMA32 and __GFP_HIGHMEM are ignored: the coherent mask picks the zone).
 * @attrs: DMA_ATTR_* (NO_KERNEL_MAPPING returns a cookie, not a CPU address).
 *
 * For a non-coherent device the CPU address is an uncached mapping (as after arch_dma_prep_coherent):
 * what the CPU writes there the device sees at once, and the reverse, with no cache maintenance.
 *
 * Return: the CPU address, or NULL: for a NULL device, size 0, __GFP_COMP (a WARN record), a coherent
 * mask of 0 (a WARN record), no memory the coherent mask can reach, an IOMMU route that cannot be served.
 */
void *dma_alloc_attrs(struct device *dev, size_t size, dma_addr_t *dma_handle, gfp_t flag, unsigned long attrs);

/**
 * dma_free_attrs() - free what dma_alloc_attrs() returned.
 * @dev: the device.
 * @size: the size that was allocated.
 * @cpu_addr: the CPU address (NULL does nothing).
 * @dma_handle: the DMA address.
 * @attrs: the attributes of the allocation.
 *
 * As in the kernel, dma-direct finds the pages from @dma_handle and frees get_order(@size) of them: a handle
 * that is not RAM, or a size that does not match the allocation ("bad page state"), is a WARN record and
 * nothing is freed.
 */
void dma_free_attrs(struct device *dev, size_t size, void *cpu_addr, dma_addr_t dma_handle, unsigned long attrs);

/**
 * dmam_alloc_attrs() - dma_alloc_attrs() that is freed when the driver unbinds (devres).
 * @dev: the device.
 * @size: bytes.
 * @dma_handle: receives the DMA address.
 * @gfp: GFP flags.
 * @attrs: DMA_ATTR_*.
 *
 * Return: the CPU address, or NULL as dma_alloc_attrs(), or when the devres record cannot be allocated.
 */
void *dmam_alloc_attrs(struct device *dev, size_t size, dma_addr_t *dma_handle, gfp_t gfp, unsigned long attrs);

/**
 * dmam_free_coherent() - free a dmam_alloc_coherent() allocation before unbind.
 * @dev: the device.
 * @size: the size that was allocated.
 * @vaddr: the CPU address.
 * @dma_handle: the DMA address.
 *
 * An allocation that is no managed allocation of @dev is a WARN record (the kernel's WARN_ON on
 * devres_destroy()); it is freed anyway, as the kernel does.
 */
void dmam_free_coherent(struct device *dev, size_t size, void *vaddr, dma_addr_t dma_handle);

/**
 * dma_get_sgtable_attrs() - describe a coherent allocation's pages as a one-entry (dma-direct) or
 * page-by-page (IOMMU DMA, non-contiguous) table, for export.
 * @dev: the device.
 * @sgt: the table to fill (free it with sg_free_table()).
 * @cpu_addr: the CPU address from dma_alloc_attrs().
 * @dma_addr: its DMA address.
 * @size: its size.
 * @attrs: its attributes.
 *
 * Return: 0; -ENXIO when the memory has no struct page (ops without get_sgtable); -ENOMEM; -EINVAL for a
 * NULL device or table.
 */
int dma_get_sgtable_attrs(struct device *dev, struct sg_table *sgt, void *cpu_addr, dma_addr_t dma_addr,
			  size_t size, unsigned long attrs);

/**
 * dma_mmap_attrs() - map a coherent allocation into a user mapping (a host range standing for a VMA).
 * @dev: the device.
 * @vma: the mapping (see swiommu_vma_alloc()); vm_pgoff selects the first page of the buffer.
 * @cpu_addr: the CPU address from dma_alloc_attrs().
 * @dma_addr: its DMA address.
 * @size: its size.
 * @attrs: its attributes.
 *
 * Return: 0; -ENXIO when the mapping is larger than the buffer from vm_pgoff on, or the ops cannot mmap;
 * -EINVAL for a NULL device or mapping, or a mapping that is no swiommu_vma_alloc() range.
 */
int dma_mmap_attrs(struct device *dev, struct vm_area_struct *vma, void *cpu_addr, dma_addr_t dma_addr,
		   size_t size, unsigned long attrs);

/**
 * dma_can_mmap() - whether dma_mmap_attrs() works for @dev.
 * @dev: the device.
 *
 * Return: true for dma-direct and IOMMU DMA, else whether the ops have mmap.
 */
bool dma_can_mmap(struct device *dev);

/**
 * dma_pci_p2pdma_supported() - whether P2P DMA can work for @dev (no ops installed).
 * @dev: the device.
 *
 * Return: true or false.
 */
bool dma_pci_p2pdma_supported(struct device *dev);

/**
 * dma_set_mask() - set the streaming DMA mask.
 * @dev: the device.
 * @mask: the mask (DMA_BIT_MASK(n)).
 *
 * dma-direct refuses a mask that cannot reach the lowest memory the device can use (ZONE_DMA's top).
 *
 * Return: 0, or -EIO when @dev->dma_mask is NULL or the mask is not supported.
 */
int dma_set_mask(struct device *dev, u64 mask);

/**
 * dma_set_coherent_mask() - set the mask for coherent allocations.
 * @dev: the device.
 * @mask: the mask.
 *
 * Return: 0, or -EIO when the mask is not supported.
 */
int dma_set_coherent_mask(struct device *dev, u64 mask);

/**
 * dma_get_required_mask() - the smallest mask that reaches all of RAM through this device's DMA path.
 * @dev: the device.
 *
 * Return: the mask (DMA_BIT_MASK(32) for IOMMU DMA, which can place IOVAs anywhere).
 */
u64 dma_get_required_mask(struct device *dev);

/**
 * dma_addressing_limited() - whether the device cannot reach all RAM directly (so it bounces).
 * @dev: the device.
 *
 * Return: true or false; true logs "device is DMA addressing limited" at debug level.
 */
bool dma_addressing_limited(struct device *dev);

/**
 * dma_max_mapping_size() - the largest single mapping.
 * @dev: the device.
 *
 * Return: SIZE_MAX, or swiotlb's limit (IO_TLB_SEGSIZE slots minus the min_align_mask padding) when the
 * device may bounce.
 */
size_t dma_max_mapping_size(struct device *dev);

/**
 * dma_opt_mapping_size() - the largest mapping that stays on the fast path.
 * @dev: the device.
 *
 * Return: min(dma_max_mapping_size(), the IOVA caches' range for IOMMU DMA).
 */
size_t dma_opt_mapping_size(struct device *dev);

/**
 * dma_get_merge_boundary() - the boundary mask inside which the block layer may merge segments.
 * @dev: the device.
 *
 * Return: IOMMU granule - 1 for IOMMU DMA, 0 (cannot merge) otherwise.
 */
unsigned long dma_get_merge_boundary(struct device *dev);

/**
 * dma_alloc_noncontiguous() - allocate memory the device sees contiguously, the CPU maybe not.
 * @dev: the device.
 * @size: bytes.
 * @dir: the direction the memory will be used in.
 * @gfp: GFP flags (not __GFP_COMP).
 * @attrs: 0 or DMA_ATTR_ALLOC_SINGLE_PAGES.
 *
 * dma-direct gives one contiguous entry; IOMMU DMA maps scattered pages at one IOVA. The table has
 * nents = 1 DMA segment. The memory is cached: sync it like a streaming mapping.
 *
 * Return: the table, or NULL (other attributes or __GFP_COMP are WARN records).
 */
struct sg_table *dma_alloc_noncontiguous(struct device *dev, size_t size, enum dma_data_direction dir, gfp_t gfp,
					 unsigned long attrs);

/**
 * dma_free_noncontiguous() - free what dma_alloc_noncontiguous() returned.
 * @dev: the device.
 * @size: the size.
 * @sgt: the table.
 * @dir: the direction.
 */
void dma_free_noncontiguous(struct device *dev, size_t size, struct sg_table *sgt, enum dma_data_direction dir);

/**
 * dma_vmap_noncontiguous() - a CPU mapping of a dma_alloc_noncontiguous() buffer.
 * @dev: the device.
 * @size: the size.
 * @sgt: the table.
 *
 * Return: the address (the linear map for dma-direct), or NULL.
 */
void *dma_vmap_noncontiguous(struct device *dev, size_t size, struct sg_table *sgt);

/**
 * dma_vunmap_noncontiguous() - remove a dma_vmap_noncontiguous() mapping.
 * @dev: the device.
 * @vaddr: the address.
 */
void dma_vunmap_noncontiguous(struct device *dev, void *vaddr);

/**
 * dma_mmap_noncontiguous() - map a dma_alloc_noncontiguous() buffer into a user mapping.
 * @dev: the device.
 * @vma: the mapping.
 * @size: the size.
 * @sgt: the table.
 *
 * Return: 0, -ENXIO when the mapping is larger than the buffer, -EINVAL for bad arguments.
 */
int dma_mmap_noncontiguous(struct device *dev, struct vm_area_struct *vma, size_t size, struct sg_table *sgt);

/**
 * __dma_sync_single_for_cpu() - give a streaming mapping back to the CPU (dma_sync_single_for_cpu()).
 * @dev: the device.
 * @addr: an address inside a mapping.
 * @size: bytes.
 * @dir: the mapping's direction.
 *
 * Invalidates the CPU cache for a non-coherent device (not for DMA_TO_DEVICE) and copies swiotlb's bounce
 * buffer back (DMA_FROM_DEVICE, DMA_BIDIRECTIONAL).
 */
void __dma_sync_single_for_cpu(struct device *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir);

/**
 * __dma_sync_single_for_device() - give a streaming mapping to the device (dma_sync_single_for_device()).
 * @dev: the device.
 * @addr: an address inside a mapping.
 * @size: bytes.
 * @dir: the mapping's direction.
 *
 * Copies into swiotlb's bounce buffer, then cleans the CPU cache for a non-coherent device.
 */
void __dma_sync_single_for_device(struct device *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir);

/**
 * __dma_sync_sg_for_cpu() - __dma_sync_single_for_cpu() for each entry.
 * @dev: the device.
 * @sg: the list.
 * @nelems: the count passed to dma_map_sg_attrs().
 * @dir: the direction.
 */
void __dma_sync_sg_for_cpu(struct device *dev, struct scatterlist *sg, int nelems, enum dma_data_direction dir);

/**
 * __dma_sync_sg_for_device() - __dma_sync_single_for_device() for each entry.
 * @dev: the device.
 * @sg: the list.
 * @nelems: the count passed to dma_map_sg_attrs().
 * @dir: the direction.
 */
void __dma_sync_sg_for_device(struct device *dev, struct scatterlist *sg, int nelems, enum dma_data_direction dir);

/**
 * __dma_need_sync() - whether syncs of @dma_addr do anything.
 * @dev: the device.
 * @dma_addr: a mapped address.
 *
 * Return: true for a non-coherent device, a swiotlb address, or any non-direct path.
 */
bool __dma_need_sync(struct device *dev, dma_addr_t dma_addr);

/**
 * dma_need_unmap() - whether the driver must call dma_unmap_*() (it always may).
 * @dev: the device.
 *
 * Return: true unless the device is on dma-direct with syncs skipped and dma-debug off.
 */
bool dma_need_unmap(struct device *dev);

/*
 * dma_dev_need_sync() is true in swiommu: dma-debug can be switched on at run time, and the kernel always
 * syncs under CONFIG_DMA_API_DEBUG. The out-of-line calls skip the work for coherent devices.
 */
static inline bool dma_dev_need_sync(const struct device *dev)
{
	(void)dev;
	return true;
}

static inline void dma_sync_single_for_cpu(struct device *dev, dma_addr_t addr, size_t size,
					   enum dma_data_direction dir)
{
	if (dma_dev_need_sync(dev))
		__dma_sync_single_for_cpu(dev, addr, size, dir);
}

static inline void dma_sync_single_for_device(struct device *dev, dma_addr_t addr, size_t size,
					      enum dma_data_direction dir)
{
	if (dma_dev_need_sync(dev))
		__dma_sync_single_for_device(dev, addr, size, dir);
}

static inline void dma_sync_sg_for_cpu(struct device *dev, struct scatterlist *sg, int nelems,
				       enum dma_data_direction dir)
{
	if (dma_dev_need_sync(dev))
		__dma_sync_sg_for_cpu(dev, sg, nelems, dir);
}

static inline void dma_sync_sg_for_device(struct device *dev, struct scatterlist *sg, int nelems,
					  enum dma_data_direction dir)
{
	if (dma_dev_need_sync(dev))
		__dma_sync_sg_for_device(dev, sg, nelems, dir);
}

static inline bool dma_need_sync(struct device *dev, dma_addr_t dma_addr)
{
	return dma_dev_need_sync(dev) ? __dma_need_sync(dev, dma_addr) : false;
}

/**
 * dma_alloc_pages() - allocate cached pages for DMA (the driver syncs them like a streaming mapping).
 * @dev: the device.
 * @size: bytes (rounded up to pages).
 * @dma_handle: receives the DMA address.
 * @dir: the direction the pages will be used in.
 * @gfp: GFP flags (not __GFP_DMA, __GFP_DMA32, __GFP_HIGHMEM or __GFP_COMP: WARN records).
 *
 * Return: the first page, or NULL (also for a coherent mask of 0, a WARN record).
 */
struct page *dma_alloc_pages(struct device *dev, size_t size, dma_addr_t *dma_handle, enum dma_data_direction dir,
			     gfp_t gfp);

/**
 * dma_free_pages() - free what dma_alloc_pages() returned.
 * @dev: the device.
 * @size: the size.
 * @page: the first page.
 * @dma_handle: the DMA address.
 * @dir: the direction.
 */
void dma_free_pages(struct device *dev, size_t size, struct page *page, dma_addr_t dma_handle,
		    enum dma_data_direction dir);

/**
 * dma_mmap_pages() - map dma_alloc_pages() memory into a user mapping.
 * @dev: the device.
 * @vma: the mapping.
 * @size: the size.
 * @page: the first page.
 *
 * Return: 0, -ENXIO when the mapping is larger than the buffer from vm_pgoff on, -EINVAL for bad arguments.
 */
int dma_mmap_pages(struct device *dev, struct vm_area_struct *vma, size_t size, struct page *page);

static inline void *dma_alloc_noncoherent(struct device *dev, size_t size, dma_addr_t *dma_handle,
					  enum dma_data_direction dir, gfp_t gfp)
{
	struct page *page = dma_alloc_pages(dev, size, dma_handle, dir, gfp);

	return page ? page_address(page) : NULL;
}

static inline void dma_free_noncoherent(struct device *dev, size_t size, void *vaddr, dma_addr_t dma_handle,
					enum dma_data_direction dir)
{
	dma_free_pages(dev, size, virt_to_page(vaddr), dma_handle, dir);
}

/*
 * Map a linear-map buffer (kmalloc(), page_address()). vmalloc memory is refused as the kernel refuses it:
 * it may be remapped under the device.
 */
static inline dma_addr_t dma_map_single_attrs(struct device *dev, void *ptr, size_t size,
					      enum dma_data_direction dir, unsigned long attrs)
{
	if (dev_WARN_ONCE(dev, is_vmalloc_addr(ptr), "rejecting DMA map of vmalloc memory\n"))
		return DMA_MAPPING_ERROR;
	debug_dma_map_single(dev, ptr, size);
	return dma_map_page_attrs(dev, virt_to_page(ptr), offset_in_page(ptr), size, dir, attrs);
}

static inline void dma_unmap_single_attrs(struct device *dev, dma_addr_t addr, size_t size,
					  enum dma_data_direction dir, unsigned long attrs)
{
	dma_unmap_page_attrs(dev, addr, size, dir, attrs);
}

static inline void dma_sync_single_range_for_cpu(struct device *dev, dma_addr_t addr, unsigned long offset,
						 size_t size, enum dma_data_direction dir)
{
	dma_sync_single_for_cpu(dev, addr + offset, size, dir);
}

static inline void dma_sync_single_range_for_device(struct device *dev, dma_addr_t addr, unsigned long offset,
						    size_t size, enum dma_data_direction dir)
{
	dma_sync_single_for_device(dev, addr + offset, size, dir);
}

/* Unmap a table mapped with dma_map_sgtable() (all orig_nents entries). */
static inline void dma_unmap_sgtable(struct device *dev, struct sg_table *sgt, enum dma_data_direction dir,
				     unsigned long attrs)
{
	dma_unmap_sg_attrs(dev, sgt->sgl, sgt->orig_nents, dir, attrs);
}

static inline void dma_sync_sgtable_for_cpu(struct device *dev, struct sg_table *sgt, enum dma_data_direction dir)
{
	dma_sync_sg_for_cpu(dev, sgt->sgl, sgt->orig_nents, dir);
}

static inline void dma_sync_sgtable_for_device(struct device *dev, struct sg_table *sgt,
					       enum dma_data_direction dir)
{
	dma_sync_sg_for_device(dev, sgt->sgl, sgt->orig_nents, dir);
}

#define dma_map_single(d, a, s, r) dma_map_single_attrs(d, a, s, r, 0)
#define dma_unmap_single(d, a, s, r) dma_unmap_single_attrs(d, a, s, r, 0)
#define dma_map_sg(d, s, n, r) dma_map_sg_attrs(d, s, n, r, 0)
#define dma_unmap_sg(d, s, n, r) dma_unmap_sg_attrs(d, s, n, r, 0)
#define dma_map_page(d, p, o, s, r) dma_map_page_attrs(d, p, o, s, r, 0)
#define dma_unmap_page(d, a, s, r) dma_unmap_page_attrs(d, a, s, r, 0)
#define dma_get_sgtable(d, t, v, h, s) dma_get_sgtable_attrs(d, t, v, h, s, 0)
#define dma_mmap_coherent(d, v, c, h, s) dma_mmap_attrs(d, v, c, h, s, 0)

static inline void *dma_alloc_coherent(struct device *dev, size_t size, dma_addr_t *dma_handle, gfp_t gfp)
{
	return dma_alloc_attrs(dev, size, dma_handle, gfp, (gfp & __GFP_NOWARN) ? DMA_ATTR_NO_WARN : 0);
}

static inline void dma_free_coherent(struct device *dev, size_t size, void *cpu_addr, dma_addr_t dma_handle)
{
	dma_free_attrs(dev, size, cpu_addr, dma_handle, 0);
}

/* The streaming mask; DMA_BIT_MASK(32) when none is set. */
static inline u64 dma_get_mask(struct device *dev)
{
	if (dev->dma_mask && *dev->dma_mask)
		return *dev->dma_mask;
	return DMA_BIT_MASK(32);
}

/* Set the streaming mask and, if that worked, the coherent mask. Return: 0 or -EIO. */
static inline int dma_set_mask_and_coherent(struct device *dev, u64 mask)
{
	int rc = dma_set_mask(dev, mask);

	if (rc == 0)
		dma_set_coherent_mask(dev, mask);
	return rc;
}

/* dma_set_mask_and_coherent() for a device whose dma_mask is not set up: point it at coherent_dma_mask. */
static inline int dma_coerce_mask_and_coherent(struct device *dev, u64 mask)
{
	dev->dma_mask = &dev->coherent_dma_mask;
	return dma_set_mask_and_coherent(dev, mask);
}

static inline unsigned int dma_get_max_seg_size(struct device *dev)
{
	if (dev->dma_parms && dev->dma_parms->max_segment_size)
		return dev->dma_parms->max_segment_size;
	return SZ_64K;
}

/* Linux 6.12+: no return value; a device without dma_parms is a WARN_ON_ONCE. */
static inline void dma_set_max_seg_size(struct device *dev, unsigned int size)
{
	if (WARN_ON_ONCE(!dev->dma_parms))
		return;
	dev->dma_parms->max_segment_size = size;
}

static inline unsigned long dma_get_seg_boundary(struct device *dev)
{
	if (dev->dma_parms && dev->dma_parms->segment_boundary_mask)
		return dev->dma_parms->segment_boundary_mask;
	return ULONG_MAX;
}

/* The segment boundary in units of 1 << @page_shift (U32_MAX's for a NULL @dev). */
static inline unsigned long dma_get_seg_boundary_nr_pages(struct device *dev, unsigned int page_shift)
{
	if (!dev)
		return (U32_MAX >> page_shift) + 1;
	return (dma_get_seg_boundary(dev) >> page_shift) + 1;
}

static inline void dma_set_seg_boundary(struct device *dev, unsigned long mask)
{
	if (WARN_ON_ONCE(!dev->dma_parms))
		return;
	dev->dma_parms->segment_boundary_mask = mask;
}

static inline unsigned int dma_get_min_align_mask(struct device *dev)
{
	if (dev->dma_parms)
		return dev->dma_parms->min_align_mask;
	return 0;
}

static inline void dma_set_min_align_mask(struct device *dev, unsigned int min_align_mask)
{
	if (WARN_ON_ONCE(!dev->dma_parms))
		return;
	dev->dma_parms->min_align_mask = min_align_mask;
}

/* arm64's ARCH_DMA_MINALIGN (128): the cache writeback granule a DMA buffer must be aligned to. */
static inline int dma_get_cache_alignment(void)
{
	return ARCH_DMA_MINALIGN;
}

static inline void *dmam_alloc_coherent(struct device *dev, size_t size, dma_addr_t *dma_handle, gfp_t gfp)
{
	return dmam_alloc_attrs(dev, size, dma_handle, gfp, (gfp & __GFP_NOWARN) ? DMA_ATTR_NO_WARN : 0);
}

static inline void *dma_alloc_wc(struct device *dev, size_t size, dma_addr_t *dma_addr, gfp_t gfp)
{
	unsigned long attrs = DMA_ATTR_WRITE_COMBINE;

	if (gfp & __GFP_NOWARN)
		attrs |= DMA_ATTR_NO_WARN;
	return dma_alloc_attrs(dev, size, dma_addr, gfp, attrs);
}

static inline void dma_free_wc(struct device *dev, size_t size, void *cpu_addr, dma_addr_t dma_addr)
{
	dma_free_attrs(dev, size, cpu_addr, dma_addr, DMA_ATTR_WRITE_COMBINE);
}

static inline int dma_mmap_wc(struct device *dev, struct vm_area_struct *vma, void *cpu_addr, dma_addr_t dma_addr,
			      size_t size)
{
	return dma_mmap_attrs(dev, vma, cpu_addr, dma_addr, size, DMA_ATTR_WRITE_COMBINE);
}

#define DEFINE_DMA_UNMAP_ADDR(ADDR_NAME)	dma_addr_t ADDR_NAME
#define DEFINE_DMA_UNMAP_LEN(LEN_NAME)		__u32 LEN_NAME
#define dma_unmap_addr(PTR, ADDR_NAME)		((PTR)->ADDR_NAME)
#define dma_unmap_addr_set(PTR, ADDR_NAME, VAL)	(((PTR)->ADDR_NAME) = (VAL))
#define dma_unmap_len(PTR, LEN_NAME)		((PTR)->LEN_NAME)
#define dma_unmap_len_set(PTR, LEN_NAME, VAL)	(((PTR)->LEN_NAME) = (VAL))

#endif /* _LINUX_DMA_MAPPING_H */
