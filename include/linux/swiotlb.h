/* SPDX-License-Identifier: MIT */
/*
 * The software IO TLB: bounce buffers for devices that cannot reach a buffer, mirroring the kernel's
 * linux/swiotlb.h (Linux 6.17, without SWIOTLB_DYNAMIC) for swiommu. One default pool per machine, its size
 * from the board (/chosen "swiommu,swiotlb-size" or "swiotlb=<slabs>[,force]"; 64 MiB by default),
 * allocated below 4 GiB at boot.
 */
#ifndef __LINUX_SWIOTLB_H
#define __LINUX_SWIOTLB_H

#include <linux/types.h>
#include <linux/device.h>
#include <linux/dma-direction.h>

struct page;
struct scatterlist;
struct io_tlb_area;
struct io_tlb_slot;

#define SWIOTLB_VERBOSE	(1 << 0) /* verbose initialization */
#define SWIOTLB_FORCE	(1 << 1) /* force bounce buffering */
#define SWIOTLB_ANY	(1 << 2) /* allow any memory for the buffer */

/* The most contiguous slots one mapping may use; searches never cross a segment of this many slots. */
#define IO_TLB_SEGSIZE	128

/* Slots are 2 KiB. */
#define IO_TLB_SHIFT 11
#define IO_TLB_SIZE (1 << IO_TLB_SHIFT)

/* default to 64MB */
#define IO_TLB_DEFAULT_SIZE (64UL << 20)

/**
 * struct io_tlb_pool - a pool of bounce slots.
 * @start: physical start.
 * @end: physical end.
 * @vaddr: its CPU address.
 * @nslabs: slots.
 * @late_alloc: allocated by the page allocator after boot.
 * @nareas: areas (one here: the model has one lock per pool).
 * @area_nslabs: slots per area.
 * @areas: the areas (the library's).
 * @slots: the slot descriptors (the library's).
 */
struct io_tlb_pool {
	phys_addr_t start;
	phys_addr_t end;
	void *vaddr;
	unsigned long nslabs;
	bool late_alloc;
	unsigned int nareas;
	unsigned int area_nslabs;
	struct io_tlb_area *areas;
	struct io_tlb_slot *slots;
};

/**
 * struct io_tlb_mem - the software IO TLB of a device (dev->dma_io_tlb_mem).
 * @defpool: the default pool.
 * @nslabs: slots in all pools.
 * @debugfs: unused.
 * @force_bounce: bounce every mapping ("swiotlb=force", swiommu_swiotlb_set_force_bounce()).
 * @for_alloc: the pool serves allocations (restricted DMA pools; never in swiommu).
 * @swiommu: the library's state.
 */
struct io_tlb_mem {
	struct io_tlb_pool defpool;
	unsigned long nslabs;
	void *debugfs;
	bool force_bounce;
	bool for_alloc;
	void *swiommu;
};

/* The pool @paddr lies in, or NULL when it is no bounce buffer. */
static inline struct io_tlb_pool *swiotlb_find_pool(struct device *dev, phys_addr_t paddr)
{
	struct io_tlb_mem *mem = dev->dma_io_tlb_mem;

	if (!mem)
		return NULL;
	if (paddr >= mem->defpool.start && paddr < mem->defpool.end)
		return &mem->defpool;
	return NULL;
}

static inline bool is_swiotlb_force_bounce(struct device *dev)
{
	struct io_tlb_mem *mem = dev->dma_io_tlb_mem;

	return mem && mem->force_bounce;
}

/**
 * swiotlb_size_or_default() - the default pool's size.
 *
 * Return: bytes (the board's setting, IO_TLB_DEFAULT_SIZE by default), 0 while the machine is down.
 */
unsigned long swiotlb_size_or_default(void);

/**
 * swiotlb_max_mapping_size() - the largest mapping swiotlb can bounce for @dev.
 * @dev: the device.
 *
 * Return: IO_TLB_SIZE * IO_TLB_SEGSIZE less the padding the device's min_align_mask may need.
 */
size_t swiotlb_max_mapping_size(struct device *dev);

/**
 * is_swiotlb_allocated() - whether the default pool exists.
 *
 * Return: true while a machine is up.
 */
bool is_swiotlb_allocated(void);

/**
 * is_swiotlb_active() - whether @dev can bounce.
 * @dev: the device.
 *
 * Return: true when it has a pool with slots.
 */
bool is_swiotlb_active(struct device *dev);

/**
 * default_swiotlb_base() - the default pool's physical start.
 *
 * Return: the address, 0 while the machine is down.
 */
phys_addr_t default_swiotlb_base(void);

/**
 * default_swiotlb_limit() - the default pool's last physical byte.
 *
 * Return: the address, 0 while the machine is down.
 */
phys_addr_t default_swiotlb_limit(void);

/**
 * swiotlb_tbl_map_single() - take bounce slots for [@phys, @phys + @mapping_size) and copy the buffer in.
 * @hwdev: the device.
 * @phys: the original buffer.
 * @mapping_size: bytes.
 * @alloc_aligned_mask: extra alignment of the slots (IOMMU granule - 1 for dma-iommu), besides the
 *                      device's min_align_mask (whose bits of @phys the result keeps).
 * @dir: the direction.
 * @attrs: DMA_ATTR_NO_WARN silences "swiotlb buffer is full".
 *
 * The buffer is always copied in, even for DMA_FROM_DEVICE and with DMA_ATTR_SKIP_CPU_SYNC, so a partial
 * device write leaves the rest intact (as Linux 6.17 does). A fault-injection point: swiommu_fail_nth("swiotlb").
 *
 * Return: the bounce buffer's physical address, or (phys_addr_t)DMA_MAPPING_ERROR: no pool ("Cannot do DMA
 * to address"), a size above swiotlb_max_mapping_size(), or a full pool ("swiotlb buffer is full (sz: %zd
 * bytes), total %lu (slots), used %lu (slots)").
 */
phys_addr_t swiotlb_tbl_map_single(struct device *hwdev, phys_addr_t phys, size_t mapping_size,
				   unsigned int alloc_aligned_mask, enum dma_data_direction dir, unsigned long attrs);

/**
 * swiotlb_map() - bounce for dma-direct: swiotlb_tbl_map_single(), then the bus address, checked against
 * the device's reach, then cache maintenance for a non-coherent device.
 * @dev: the device.
 * @phys: the buffer.
 * @size: bytes.
 * @dir: the direction.
 * @attrs: DMA_ATTR_*.
 *
 * Return: the bus address of the bounce buffer, or DMA_MAPPING_ERROR (the pool cannot serve, or the device
 * cannot reach the pool: "DMA addr ... overflow").
 */
dma_addr_t swiotlb_map(struct device *dev, phys_addr_t phys, size_t size, enum dma_data_direction dir,
		       unsigned long attrs);

/**
 * __swiotlb_tbl_unmap_single() - copy back (DMA_FROM_DEVICE, DMA_BIDIRECTIONAL, unless SKIP_CPU_SYNC) and
 * release the slots.
 * @hwdev: the device.
 * @tlb_addr: the bounce buffer's physical address.
 * @mapping_size: the mapped size.
 * @dir: the direction.
 * @attrs: DMA_ATTR_*.
 * @pool: the pool (swiotlb_find_pool()).
 *
 * An address that is not the start of a live mapping is a WARN record.
 */
void __swiotlb_tbl_unmap_single(struct device *hwdev, phys_addr_t tlb_addr, size_t mapping_size,
				enum dma_data_direction dir, unsigned long attrs, struct io_tlb_pool *pool);

static inline void swiotlb_tbl_unmap_single(struct device *dev, phys_addr_t addr, size_t size,
					    enum dma_data_direction dir, unsigned long attrs)
{
	struct io_tlb_pool *pool = swiotlb_find_pool(dev, addr);

	if (__builtin_expect(pool != NULL, 0))
		__swiotlb_tbl_unmap_single(dev, addr, size, dir, attrs, pool);
}

/**
 * __swiotlb_sync_single_for_device() - copy the original buffer into the bounce buffer (DMA_TO_DEVICE,
 * DMA_BIDIRECTIONAL).
 * @dev: the device.
 * @tlb_addr: an address inside a bounce mapping.
 * @size: bytes.
 * @dir: the direction.
 * @pool: the pool.
 */
void __swiotlb_sync_single_for_device(struct device *dev, phys_addr_t tlb_addr, size_t size,
				      enum dma_data_direction dir, struct io_tlb_pool *pool);

static inline void swiotlb_sync_single_for_device(struct device *dev, phys_addr_t addr, size_t size,
						  enum dma_data_direction dir)
{
	struct io_tlb_pool *pool = swiotlb_find_pool(dev, addr);

	if (__builtin_expect(pool != NULL, 0))
		__swiotlb_sync_single_for_device(dev, addr, size, dir, pool);
}

/**
 * __swiotlb_sync_single_for_cpu() - copy the bounce buffer back to the original (DMA_FROM_DEVICE,
 * DMA_BIDIRECTIONAL).
 * @dev: the device.
 * @tlb_addr: an address inside a bounce mapping.
 * @size: bytes.
 * @dir: the direction.
 * @pool: the pool.
 */
void __swiotlb_sync_single_for_cpu(struct device *dev, phys_addr_t tlb_addr, size_t size,
				   enum dma_data_direction dir, struct io_tlb_pool *pool);

static inline void swiotlb_sync_single_for_cpu(struct device *dev, phys_addr_t addr, size_t size,
					       enum dma_data_direction dir)
{
	struct io_tlb_pool *pool = swiotlb_find_pool(dev, addr);

	if (__builtin_expect(pool != NULL, 0))
		__swiotlb_sync_single_for_cpu(dev, addr, size, dir, pool);
}

/**
 * swiotlb_print_info() - log "software IO TLB: mapped [mem %pa-%pa] (%luMB)".
 */
void swiotlb_print_info(void);

#endif /* __LINUX_SWIOTLB_H */
