/* SPDX-License-Identifier: MIT */
/* The page allocator, mirroring the kernel's linux/gfp.h (Linux 6.17) for swiommu. */
#ifndef __LINUX_GFP_H
#define __LINUX_GFP_H

#include <linux/types.h>
#include <linux/gfp_types.h>
#include <linux/mm_types.h>
#include <asm/page.h>
#include <swiommu/alloc_tag.h>

/**
 * alloc_pages_noprof() - allocate 2^@order physically contiguous, naturally aligned pages.
 * @gfp: GFP flags; __GFP_DMA32 or __GFP_DMA restricts the pages to RAM below 4 GiB, __GFP_ZERO zeroes them.
 * @order: 0 to MAX_PAGE_ORDER.
 *
 * GFP_KERNEL prefers RAM above 4 GiB, as the kernel's zone order does (ZONE_NORMAL before ZONE_DMA32).
 * Use alloc_pages(), which records the call site for the leak report.
 *
 * Return: the first page, or NULL when no block is free, @order exceeds MAX_PAGE_ORDER (with a WARN unless
 * __GFP_NOWARN), swiommu is not initialised, or fault injection ("alloc_pages") fails the call.
 */
struct page *alloc_pages_noprof(gfp_t gfp, unsigned int order);
#define alloc_pages(...)	alloc_hooks(alloc_pages_noprof(__VA_ARGS__))
#define alloc_page(gfp)		alloc_pages(gfp, 0)

/**
 * get_free_pages_noprof() - allocate pages and return their linear-map address.
 * @gfp: GFP flags, as for alloc_pages_noprof().
 * @order: 0 to MAX_PAGE_ORDER.
 *
 * Return: the CPU address as an unsigned long, or 0 on the failures alloc_pages_noprof() lists.
 */
unsigned long get_free_pages_noprof(gfp_t gfp, unsigned int order);
#define __get_free_pages(...)	alloc_hooks(get_free_pages_noprof(__VA_ARGS__))
#define __get_free_page(gfp)	__get_free_pages((gfp), 0)
#define get_zeroed_page(gfp)	__get_free_pages((gfp) | __GFP_ZERO, 0)

/**
 * __free_pages() - free pages from alloc_pages().
 * @page: the first page of the block (NULL is ignored).
 * @order: the order it was allocated with.
 *
 * A page that is not the head of a live block of that order (double free, wrong order, a page of a slab)
 * is reported as "BUG: Bad page state" with a WARN record and left alone.
 */
void __free_pages(struct page *page, unsigned int order);

/**
 * free_pages() - free pages by their linear-map address.
 * @addr: the address __get_free_pages() returned (0 is ignored).
 * @order: the order it was allocated with.
 *
 * An address outside the linear map is reported with a WARN record and ignored.
 */
void free_pages(unsigned long addr, unsigned int order);
#define __free_page(page)	__free_pages((page), 0)
#define free_page(addr)		free_pages((addr), 0)

#endif /* __LINUX_GFP_H */
