/* SPDX-License-Identifier: MIT */
/* Virtually contiguous memory, mirroring the kernel's linux/vmalloc.h (Linux 6.17) for swiommu. */
#ifndef _LINUX_VMALLOC_H
#define _LINUX_VMALLOC_H

#include <linux/types.h>
#include <linux/mm_types.h>
#include <linux/gfp.h>
#include <swiommu/alloc_tag.h>

#define VM_IOREMAP	0x00000001
#define VM_ALLOC	0x00000002
#define VM_MAP		0x00000004
#define VM_USERMAP	0x00000008

#define PAGE_KERNEL		((pgprot_t){ 0x1 })
#define PAGE_KERNEL_RO		((pgprot_t){ 0x2 })
#define pgprot_noncached(p)	((pgprot_t){ (p).pgprot | 0x10 })
#define pgprot_writecombine(p)	((pgprot_t){ (p).pgprot | 0x20 })
#define pgprot_dmacoherent(p)	pgprot_writecombine(p)

/**
 * vmalloc_noprof() - allocate virtually contiguous memory from scattered physical pages.
 * @size: bytes (rounded up to pages).
 *
 * Every page is a separate order-0 allocation mapped into the vmalloc area, so the buffer is contiguous
 * for the CPU and scattered in simulated RAM, as in the kernel. Use vmalloc(), which records the call site.
 *
 * Return: the address, or NULL for size 0, when memory is exhausted, or when fault injection ("vmalloc")
 * fails the call.
 */
void *vmalloc_noprof(unsigned long size);
#define vmalloc(...)		alloc_hooks(vmalloc_noprof(__VA_ARGS__))

/**
 * vzalloc_noprof() - vmalloc_noprof(), zeroed.
 * @size: bytes.
 *
 * Return: as vmalloc_noprof().
 */
void *vzalloc_noprof(unsigned long size);
#define vzalloc(...)		alloc_hooks(vzalloc_noprof(__VA_ARGS__))

/**
 * vfree() - free memory from vmalloc() and its pages.
 * @addr: the address vmalloc() returned (NULL is ignored).
 *
 * Anything else (a double free, an address inside the area, a vmap() address) is reported as
 * "Trying to vfree() nonexistent vm area" with a WARN record, and ignored.
 */
void vfree(const void *addr);

/**
 * vmap() - map existing pages into one virtually contiguous range.
 * @pages: the pages (each a struct page of simulated RAM).
 * @count: how many.
 * @flags: VM_* flags (VM_MAP).
 * @prot: PAGE_KERNEL, or pgprot_noncached()/pgprot_writecombine() of it (recorded: such mappings bypass
 *        the CPU cache model).
 *
 * The pages stay owned by the caller; the mapping aliases them (a CPU write through it is seen through
 * page_address() too).
 *
 * Return: the address, or NULL for @count 0, a page that is not ours, or exhausted address space.
 */
void *vmap(struct page **pages, unsigned int count, unsigned long flags, pgprot_t prot);

/**
 * vunmap() - remove a mapping made by vmap(), leaving its pages alone.
 * @addr: the address vmap() returned (NULL is ignored).
 *
 * Anything else is reported as "Trying to vunmap() nonexistent vm area" with a WARN record.
 */
void vunmap(const void *addr);

/**
 * vmalloc_to_page() - the page behind a vmalloc() or vmap() address.
 * @addr: any address inside such a range.
 *
 * Return: the page, or NULL for an address that is not mapped there.
 */
struct page *vmalloc_to_page(const void *addr);

/**
 * vmalloc_to_pfn() - the frame number behind a vmalloc() or vmap() address.
 * @addr: any address inside such a range.
 *
 * Return: the frame number, or 0 for an address that is not mapped there.
 */
unsigned long vmalloc_to_pfn(const void *addr);

/**
 * is_vmalloc_addr() - whether @x lies in the vmalloc area.
 * @x: any address.
 *
 * Return: true or false.
 */
bool is_vmalloc_addr(const void *x);

#endif /* _LINUX_VMALLOC_H */
