/* SPDX-License-Identifier: MIT */
/* Linear-map conversions and MMIO accessors, mirroring arm64's asm/io.h and asm/memory.h for swiommu. */
#ifndef _SWIOMMU_ASM_IO_H
#define _SWIOMMU_ASM_IO_H

#include <linux/types.h>

/**
 * swiommu_virt_to_phys() - the simulated physical address of a linear-map address (virt_to_phys()).
 * @address: an address returned by kmalloc(), page_address(), __get_free_pages() ...
 *
 * vmalloc addresses are not in the linear map (use vmalloc_to_page()); as with CONFIG_DEBUG_VIRTUAL, such
 * an address is reported with a WARN record.
 *
 * Return: the physical address, or 0 for an address outside the linear map.
 */
phys_addr_t swiommu_virt_to_phys(const void *address);

/* The kernel's signature takes a volatile pointer, which Swift cannot export. */
static inline phys_addr_t virt_to_phys(const volatile void *address)
{
	return swiommu_virt_to_phys((const void *)address);
}

/**
 * phys_to_virt() - the linear-map address of a simulated physical address.
 * @address: an address inside a RAM bank.
 *
 * Return: the CPU address, or NULL (with a WARN record) for an address outside simulated RAM.
 */
void *phys_to_virt(phys_addr_t address);

#define __pa(x)		virt_to_phys((void *)(x))
#define __va(x)		phys_to_virt((phys_addr_t)(x))
#define virt_to_pfn(x)	((unsigned long)(virt_to_phys(x) >> PAGE_SHIFT))

/* MMIO accessors: plain volatile accesses, little-endian as on arm64. */
static inline u8 readb(const volatile void *addr) { return *(const volatile u8 *)addr; }
static inline u16 readw(const volatile void *addr) { return *(const volatile u16 *)addr; }
static inline u32 readl(const volatile void *addr) { return *(const volatile u32 *)addr; }
static inline u64 readq(const volatile void *addr) { return *(const volatile u64 *)addr; }
static inline void writeb(u8 v, volatile void *addr) { *(volatile u8 *)addr = v; }
static inline void writew(u16 v, volatile void *addr) { *(volatile u16 *)addr = v; }
static inline void writel(u32 v, volatile void *addr) { *(volatile u32 *)addr = v; }
static inline void writeq(u64 v, volatile void *addr) { *(volatile u64 *)addr = v; }
#define readb_relaxed readb
#define readw_relaxed readw
#define readl_relaxed readl
#define readq_relaxed readq
#define writeb_relaxed writeb
#define writew_relaxed writew
#define writel_relaxed writel
#define writeq_relaxed writeq

#endif /* _SWIOMMU_ASM_IO_H */
