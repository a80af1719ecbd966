/* SPDX-License-Identifier: MIT */
/* The simulated CPU page size (arm64's asm/page-def.h), for swiommu. */
#ifndef _SWIOMMU_ASM_PAGE_H
#define _SWIOMMU_ASM_PAGE_H

/*
 * PAGE_SHIFT is a compile-time constant of the code that includes this header, as in the kernel,
 * because driver code uses it in #if lines and array sizes. Build with -DSWIOMMU_PAGE_SHIFT=14 or 16
 * for a 16 KiB or 64 KiB CPU; swiommu_init() passes the value to the library, which supports all three.
 */
#ifndef SWIOMMU_PAGE_SHIFT
#define SWIOMMU_PAGE_SHIFT 12
#endif
#if SWIOMMU_PAGE_SHIFT != 12 && SWIOMMU_PAGE_SHIFT != 14 && SWIOMMU_PAGE_SHIFT != 16
#error "SWIOMMU_PAGE_SHIFT must be 12, 14 or 16 (4K, 16K or 64K pages, as on arm64)"
#endif

#define PAGE_SHIFT	SWIOMMU_PAGE_SHIFT
#define PAGE_SIZE	(1UL << PAGE_SHIFT)
#define PAGE_MASK	(~(PAGE_SIZE - 1))

/* arm64's CONFIG_ARCH_FORCE_MAX_ORDER defaults: 4 MiB, 32 MiB and 512 MiB blocks. */
#if PAGE_SHIFT == 12
#define MAX_PAGE_ORDER	10
#elif PAGE_SHIFT == 14
#define MAX_PAGE_ORDER	11
#else
#define MAX_PAGE_ORDER	13
#endif
#define MAX_ORDER_NR_PAGES	(1 << MAX_PAGE_ORDER)
#define NR_PAGE_ORDERS		(MAX_PAGE_ORDER + 1)

/* arm64: cache writeback granule (ARCH_DMA_MINALIGN) and kmalloc's minimum alignment since 6.5. */
#define L1_CACHE_SHIFT		6
#define L1_CACHE_BYTES		(1 << L1_CACHE_SHIFT)
#define ARCH_DMA_MINALIGN	128
#define ARCH_KMALLOC_MINALIGN	8

#endif /* _SWIOMMU_ASM_PAGE_H */
