/* SPDX-License-Identifier: MIT */
/* struct page and friends, mirroring the kernel's linux/mm_types.h (Linux 6.17) for swiommu. */
#ifndef _LINUX_MM_TYPES_H
#define _LINUX_MM_TYPES_H

#include <linux/types.h>

struct swiommu_alloc_site;

/*
 * Bookkeeping the simulated memory keeps for every page frame. Owned by the library: drivers must not
 * touch it (the fields a driver may use are the kernel's, above it in struct page).
 */
struct swiommu_page_meta {
	struct list_head node;			/* free list of its order, or the list of live blocks */
	const struct swiommu_alloc_site *site;	/* where a live block was allocated */
	void *slab;				/* the slab this page belongs to, if any */
	void *memview;				/* cache model: the memory's view when it differs from the CPU's */
	unsigned int order;			/* order of the block this page heads */
	unsigned int state;			/* SWIOMMU_PAGE_* */
};

/*
 * struct page - one simulated physical page frame.
 *
 * Every page of simulated RAM has one, in a per-bank array (the kernel's vmemmap): pfn_to_page() and
 * page_to_pfn() are index arithmetic. @lru, @mapping, @index and @private belong to whoever allocated the
 * page, as in the kernel.
 */
struct page {
	unsigned long flags;
	struct list_head lru;
	void *mapping;
	pgoff_t index;
	unsigned long private;
	atomic_t _mapcount;
	atomic_t _refcount;
	struct swiommu_page_meta swiommu;
};

typedef struct { unsigned long pgprot; } pgprot_t;

/*
 * struct vm_area_struct - a user mapping, for dma_mmap_*(). In swiommu it stands for a host address range
 * the test reserved (swiommu_vma_alloc() in <swiommu/dma.h>): dma_mmap_attrs() maps the simulated
 * physical pages there, so the bytes a test reads through it are the buffer's.
 * @vm_start: first address.
 * @vm_end: first address after the mapping.
 * @vm_pgoff: offset into the buffer, in pages.
 * @vm_flags: VM_* flags (unused).
 * @vm_page_prot: protections; dma_mmap_attrs() applies dma_pgprot().
 * @vm_private_data: the owner's.
 */
struct vm_area_struct {
	unsigned long vm_start;
	unsigned long vm_end;
	unsigned long vm_pgoff;
	unsigned long vm_flags;
	pgprot_t vm_page_prot;
	void *vm_private_data;
};

#endif /* _LINUX_MM_TYPES_H */
