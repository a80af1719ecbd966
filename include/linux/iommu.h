/* SPDX-License-Identifier: MIT */
/*
 * Mirrors the Linux 6.17 <linux/iommu.h> for swiommu. Minimal for now: the protection flags and the IOTLB
 * gather that io-pgtable uses. The IOMMU core (domains, groups, iommu_ops) grows this file.
 */
#ifndef __LINUX_IOMMU_H
#define __LINUX_IOMMU_H

#include <linux/types.h>
#include <linux/list.h>
#include <linux/device.h>
#include <linux/errno.h>
#include <linux/err.h>

/* Protection flags of a mapping (iommu_map(), io_pgtable_ops->map_pages()). */
#define IOMMU_READ	(1 << 0)
#define IOMMU_WRITE	(1 << 1)
#define IOMMU_CACHE	(1 << 2) /* DMA cache coherency */
#define IOMMU_NOEXEC	(1 << 3)
#define IOMMU_MMIO	(1 << 4) /* e.g. things like MSI doorbells */
/*
 * IOMMU_PRIV: the other permission flags apply to privileged (supervisor) transactions only; unprivileged
 * transactions get as little access as the format allows.
 */
#define IOMMU_PRIV	(1 << 5)

struct iommu_ops;
struct iommu_group;
struct iommu_domain;
struct iommu_domain_ops;
struct iommu_dirty_ops;
struct iova_bitmap;

/* Read but do not clear any dirty bits. */
#define IOMMU_DIRTY_NO_CLEAR (1 << 0)

/**
 * struct iommu_pages_list - page-table pages waiting to be freed after an IOTLB sync.
 * @pages: list of the pages (linked through their lru field).
 */
struct iommu_pages_list {
	struct list_head pages;
};

#define IOMMU_PAGES_LIST_INIT(name) \
	((struct iommu_pages_list){ .pages = LIST_HEAD_INIT(name.pages) })

/**
 * struct iommu_iotlb_gather - Range information for a pending IOTLB flush
 * @start: IOVA representing the start of the range to be flushed
 * @end: IOVA representing the end of the range to be flushed (inclusive)
 * @pgsize: The interval at which to perform the flush
 * @freelist: Removed pages to free after sync
 * @queued: Indicates that the flush will be queued
 *
 * Updated by successive unmap calls, then passed to ->iotlb_sync(). @queued says that ->iotlb_flush_all()
 * will be called later instead (the flush queue), so io-pgtable skips its per-page tlb_add_page calls.
 */
struct iommu_iotlb_gather {
	unsigned long		start;
	unsigned long		end;
	size_t			pgsize;
	struct iommu_pages_list	freelist;
	bool			queued;
};

/**
 * struct iommu_dirty_bitmap - Dirty IOVA bitmap state
 * @bitmap: IOVA bitmap
 * @gather: Range information for a pending IOTLB flush
 */
struct iommu_dirty_bitmap {
	struct iova_bitmap *bitmap;
	struct iommu_iotlb_gather *gather;
};

/**
 * iommu_iotlb_gather_init - Initialize IOMMU iotlb gather structure
 * @gather: Pointer to iotlb gather structure to initialize
 */
static inline void iommu_iotlb_gather_init(struct iommu_iotlb_gather *gather)
{
	*gather = (struct iommu_iotlb_gather) {
		.start	= ~0UL,
		.freelist = IOMMU_PAGES_LIST_INIT(gather->freelist),
	};
}

/* Whether the unmap's TLB invalidation is deferred to a flush queue (no per-page invalidation needed). */
static inline bool iommu_iotlb_gather_queued(struct iommu_iotlb_gather *gather)
{
	return gather && gather->queued;
}

#endif /* __LINUX_IOMMU_H */
