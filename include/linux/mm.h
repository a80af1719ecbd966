/* SPDX-License-Identifier: MIT */
/* Page frames and the linear map, mirroring the kernel's linux/mm.h (Linux 6.17) for swiommu. */
#ifndef _LINUX_MM_H
#define _LINUX_MM_H

#include <linux/types.h>
#include <linux/gfp.h>
#include <linux/mm_types.h>
#include <asm/page.h>

#define PAGE_ALIGN(addr)	(((addr) + PAGE_SIZE - 1) & PAGE_MASK)
#define PAGE_ALIGNED(addr)	((((unsigned long)(addr)) & (PAGE_SIZE - 1)) == 0)
#define offset_in_page(p)	((unsigned long)(p) & ~PAGE_MASK)
#define PFN_ALIGN(x)		(((unsigned long)(x) + (PAGE_SIZE - 1)) & PAGE_MASK)
#define PFN_UP(x)		(((x) + PAGE_SIZE - 1) >> PAGE_SHIFT)
#define PFN_DOWN(x)		((x) >> PAGE_SHIFT)
#define PFN_PHYS(x)		((phys_addr_t)(x) << PAGE_SHIFT)
#define PHYS_PFN(x)		((unsigned long)((x) >> PAGE_SHIFT))

/* asm-generic/getorder.h: the order of the smallest block that holds @size bytes. */
static inline int get_order(unsigned long size)
{
	if (size <= PAGE_SIZE)
		return 0;
	return 64 - __builtin_clzl((size - 1) >> PAGE_SHIFT);
}

/**
 * pfn_to_page() - the struct page of a simulated page frame number.
 * @pfn: a frame inside a RAM bank.
 *
 * Return: the page, or NULL (with a WARN record) for a frame outside simulated RAM.
 */
struct page *pfn_to_page(unsigned long pfn);

/**
 * page_to_pfn() - the frame number of a struct page.
 * @page: a page of simulated RAM.
 *
 * Return: the frame number, or 0 (with a WARN record) for a pointer that is no struct page of ours.
 */
unsigned long page_to_pfn(const struct page *page);

/**
 * page_to_phys() - the physical address of a page.
 * @page: a page of simulated RAM.
 *
 * Return: the address, or 0 (with a WARN record) for a pointer that is no struct page of ours.
 */
phys_addr_t page_to_phys(const struct page *page);

/**
 * page_address() - the page's address in the CPU's linear map.
 * @page: a page of simulated RAM.
 *
 * Return: the address, or NULL (with a WARN record) for a pointer that is no struct page of ours.
 */
void *page_address(const struct page *page);
#define page_to_virt(page)	page_address(page)
#define lowmem_page_address(page) page_address(page)

/**
 * virt_to_page() - the page behind a linear-map address (not a vmalloc address: see vmalloc_to_page()).
 * @addr: an address returned by kmalloc(), page_address(), __get_free_pages() ...
 *
 * Return: the page, or NULL (with a WARN record) for an address outside the linear map.
 */
struct page *virt_to_page(const void *addr);

/**
 * virt_addr_valid() - whether @addr lies in the linear map of simulated RAM.
 * @addr: any address.
 *
 * Return: true or false; never warns.
 */
bool virt_addr_valid(const void *addr);

static inline unsigned long page_private(const struct page *page)
{
	return page->private;
}

static inline void set_page_private(struct page *page, unsigned long private)
{
	page->private = private;
}

/* Pages a user mapping covers. */
static inline unsigned long vma_pages(const struct vm_area_struct *vma)
{
	return (vma->vm_end - vma->vm_start) >> PAGE_SHIFT;
}

/* Frames of one bank are contiguous in their struct page array, as with SPARSEMEM_VMEMMAP. */
#define nth_page(page, n)	((page) + (n))
#define page_to_nid(page)	0

#include <asm/io.h>

#endif /* _LINUX_MM_H */
