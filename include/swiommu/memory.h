/* SPDX-License-Identifier: MIT */
/* Simulated RAM: its layout, accounting, leak checks, and the CPU cache model of non-coherent DMA. */
#ifndef _SWIOMMU_MEMORY_H
#define _SWIOMMU_MEMORY_H

#include <linux/types.h>

/**
 * struct swiommu_mem_stats - what the allocators have handed out and not taken back.
 * @ram_bytes: simulated RAM, all banks.
 * @free_bytes: RAM the page allocator holds free.
 * @page_blocks: live alloc_pages() blocks (kmalloc_large included).
 * @page_bytes: their bytes.
 * @kmalloc_objects: live kmalloc() objects (from the caches and large).
 * @kmalloc_bytes: bytes asked for by those objects.
 * @vmalloc_areas: live vmalloc() areas.
 * @vmalloc_bytes: their bytes.
 * @vmap_areas: live vmap() mappings.
 */
struct swiommu_mem_stats {
	u64 ram_bytes;
	u64 free_bytes;
	u64 page_blocks;
	u64 page_bytes;
	u64 kmalloc_objects;
	u64 kmalloc_bytes;
	u64 vmalloc_areas;
	u64 vmalloc_bytes;
	u64 vmap_areas;
};

/**
 * swiommu_mem_get_stats() - read the allocators' counters.
 * @stats: where to store them.
 *
 * Return: 0, -EINVAL for NULL, or -ENODEV when the machine is down.
 */
int swiommu_mem_get_stats(struct swiommu_mem_stats *stats);

/**
 * swiommu_mem_check_leaks() - report every live allocation with its site, as swiommu_exit() does.
 * @print: log each leak (KERN_ERR "swiommu: leak: ...") when true, only count when false.
 *
 * Return: the number of live allocations (0: nothing leaked), or -ENODEV when the machine is down.
 */
long swiommu_mem_check_leaks(bool print);

/**
 * swiommu_ram_bank() - the @index'th RAM bank.
 * @index: 0, 1, ...
 * @start: where to store its physical start.
 * @size: where to store its size in bytes.
 *
 * Return: 0, -ENOENT past the last bank, -EINVAL for NULL pointers, or -ENODEV when the machine is down.
 */
int swiommu_ram_bank(unsigned int index, phys_addr_t *start, u64 *size);

/*
 * The CPU cache model. Every page has the CPU's view (what C code reads and writes through its pointers)
 * and memory's view (what a non-coherent device sees). Cache maintenance brings them together, as on
 * arm64: clean writes the CPU's lines back to memory, invalidate drops them so the CPU reads memory again.
 * Work is done in whole cache lines (L1_CACHE_BYTES). The model is pessimistic: memory holds only what
 * maintenance or a device wrote there, so a line the CPU wrote but never cleaned reads as zeros to a
 * non-coherent device, however long ago it was written. A missed clean is always caught.
 */

/**
 * swiommu_cache_clean() - write the CPU's view of a physical range back to memory (dcache_clean_poc).
 * @paddr: start.
 * @size: bytes.
 *
 * Return: 0, or -EFAULT when the range is not simulated RAM.
 */
int swiommu_cache_clean(phys_addr_t paddr, size_t size);

/**
 * swiommu_cache_invalidate() - drop the CPU's view so it reads memory again (dcache_inval_poc).
 * @paddr: start.
 * @size: bytes.
 *
 * Return: 0, or -EFAULT when the range is not simulated RAM.
 */
int swiommu_cache_invalidate(phys_addr_t paddr, size_t size);

/**
 * swiommu_cache_flush() - clean, then invalidate (dcache_clean_inval_poc).
 * @paddr: start.
 * @size: bytes.
 *
 * Return: 0, or -EFAULT when the range is not simulated RAM.
 */
int swiommu_cache_flush(phys_addr_t paddr, size_t size);

/**
 * swiommu_mem_read() - read simulated RAM as a device (bus master) sees it.
 * @paddr: start.
 * @dst: where to copy.
 * @size: bytes.
 * @coherent: true for a cache-coherent device (sees the CPU's view), false for a non-coherent one (sees
 *            memory's view).
 *
 * Return: 0, or -EFAULT when the range is not simulated RAM.
 */
int swiommu_mem_read(phys_addr_t paddr, void *dst, size_t size, bool coherent);

/**
 * swiommu_mem_write() - write simulated RAM as a device (bus master) does.
 * @paddr: start.
 * @src: the bytes.
 * @size: how many.
 * @coherent: as for swiommu_mem_read(); a non-coherent write is not seen by the CPU until it
 *            invalidates the range.
 *
 * Return: 0, or -EFAULT when the range is not simulated RAM.
 */
int swiommu_mem_write(phys_addr_t paddr, const void *src, size_t size, bool coherent);

/**
 * swiommu_cache_maintenance_count() - cache maintenance operations done (clean, invalidate, flush).
 *
 * Return: the count since swiommu_init().
 */
unsigned long swiommu_cache_maintenance_count(void);

#endif /* _SWIOMMU_MEMORY_H */
