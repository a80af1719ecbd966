/* SPDX-License-Identifier: MIT */
/*
 * Mirrors the Linux 6.17 <linux/iova.h> for swiommu: the IOVA allocator of drivers/iommu/iova.c, with the
 * kernel's allocation policy address for address, over a logarithmic search.
 *
 * What differs from the kernel, on purpose (swiommu's README has the whole list):
 * - struct iova is pfn_hi and pfn_lo alone (16 bytes): the kernel's struct rb_node is not in it, the
 *   allocator's index lives beside the allocations, and a live allocation costs about 32 bytes in all.
 *   Every allocation made by any call (alloc_iova(), alloc_iova_fast(), reserve_iova()) is a struct iova
 *   that find_iova() returns; its address stays valid until the allocation is freed.
 * - struct iova_domain is fixed in size and may be embedded, as users do; the allocator's state hangs
 *   off its swiommu field. Users may read granule, start_pfn, dma_32bit_pfn, max32_alloc_size and
 *   rcaches (non-NULL once iova_domain_init_rcaches() succeeded); the kernel's rbroot, cached_node and
 *   cached32_node are not in it.
 * - Bad input the kernel does not survive (a BUG, a NULL dereference or a corrupt tree) is a WARN record
 *   here, and the call returns NULL, 0 or -EINVAL. Each function's comment says which.
 * - The rcache's per-CPU magazines are per thread; <swiommu/iova.h> sets the CPU count the depot trim
 *   uses, which CPU a thread counts as, and the virtual clock the trim runs on.
 * - free_iova_fast() caches only a range it can hand out again unchanged (the start of a live allocation of
 *   its size class); the kernel caches any pfn it is given, and may later hand one range out twice.
 * - The anchor is not an allocation: find_iova(~0UL) is NULL, and a reservation may not reach it.
 */
#ifndef _IOVA_H_
#define _IOVA_H_

#include <linux/types.h>
#include <linux/kernel.h>

/* iova structure: an allocated range of granules, pfn_lo..pfn_hi inclusive. */
struct iova {
	unsigned long	pfn_hi; /* Highest allocated pfn */
	unsigned long	pfn_lo; /* Lowest allocated pfn */
};

struct iova_rcache;
struct swiommu_iova_domain;

/* holds all the iova translations for a domain */
struct iova_domain {
	struct swiommu_iova_domain *swiommu;	/* swiommu: the allocator (tree, lock, rcaches) */
	unsigned long	swiommu_magic;	/* swiommu: tells an initialised domain from stray memory */
	unsigned long	granule;	/* pfn granularity for this domain */
	unsigned long	start_pfn;	/* Lower limit for this domain */
	unsigned long	dma_32bit_pfn;
	unsigned long	max32_alloc_size; /* Size of last failed allocation */
	struct iova	anchor;		/* rbtree lookup anchor: pfn_lo = pfn_hi = ~0UL */

	struct iova_rcache	*rcaches;
	struct hlist_node	cpuhp_dead;
};

static inline unsigned long iova_size(struct iova *iova)
{
	return iova->pfn_hi - iova->pfn_lo + 1;
}

static inline unsigned long iova_shift(struct iova_domain *iovad)
{
	return __ffs(iovad->granule);
}

static inline unsigned long iova_mask(struct iova_domain *iovad)
{
	return iovad->granule - 1;
}

static inline size_t iova_offset(struct iova_domain *iovad, dma_addr_t iova)
{
	return iova & iova_mask(iovad);
}

static inline size_t iova_align(struct iova_domain *iovad, size_t size)
{
	return ALIGN(size, iovad->granule);
}

static inline size_t iova_align_down(struct iova_domain *iovad, size_t size)
{
	return ALIGN_DOWN(size, iovad->granule);
}

static inline dma_addr_t iova_dma_addr(struct iova_domain *iovad, struct iova *iova)
{
	return (dma_addr_t)iova->pfn_lo << iova_shift(iovad);
}

static inline unsigned long iova_pfn(struct iova_domain *iovad, dma_addr_t iova)
{
	return iova >> iova_shift(iovad);
}

/**
 * iova_cache_get() - take a reference on the allocator's caches (the kernel's kmem caches for struct
 * iova and magazines). swiommu's allocator does not need it; it is counted so that unbalanced puts are
 * seen.
 *
 * Return: 0.
 */
int iova_cache_get(void);

/**
 * iova_cache_put() - drop a reference taken by iova_cache_get().
 *
 * A put without a get is a WARN record, as in the kernel, and changes nothing.
 */
void iova_cache_put(void);

/**
 * iova_rcache_range() - the largest size the rcaches hold: PAGE_SIZE << 5 (the booted machine's
 * PAGE_SIZE; 4 KiB while it is down). dma_opt_mapping_size() reports it.
 *
 * Return: the size in bytes.
 */
unsigned long iova_rcache_range(void);

/**
 * free_iova() - find the allocation that contains @pfn and free it.
 * @iovad: the domain.
 * @pfn: any granule of the allocation.
 *
 * An unknown @pfn (nothing allocated there, or a double free) changes nothing, as in the kernel, and is
 * a WARN record here. So is a @pfn whose allocation sits in an rcache (freed by free_iova_fast()): the
 * kernel would free it a second time later. A NULL or uninitialised @iovad is a WARN record.
 */
void free_iova(struct iova_domain *iovad, unsigned long pfn);

/**
 * __free_iova() - free an allocation returned by alloc_iova(), reserve_iova() or find_iova().
 * @iovad: the domain.
 * @iova: the allocation.
 *
 * A NULL @iova, one that is not a live allocation of @iovad (freed already, another domain's, the
 * anchor) or one that sits in an rcache is a WARN record and changes nothing; the kernel would corrupt
 * its tree.
 */
void __free_iova(struct iova_domain *iovad, struct iova *iova);

/**
 * alloc_iova() - allocate @size granules below @limit_pfn, searching top-down as the kernel does.
 * @iovad: the domain.
 * @size: the number of granules.
 * @limit_pfn: the highest granule the allocation may use.
 * @size_aligned: start at a multiple of @size rounded up to a power of two.
 *
 * The addresses are exactly the kernel's: the search starts at the cached node (the 32-bit one for
 * @limit_pfn below 4 GiB), fails at once for a 32-bit request not smaller than the last one that failed
 * there (max32_alloc_size), and retries once above the cached node.
 *
 * Return: the allocation, or NULL when nothing fits, when the fault-injection point "iova" fires, and
 * (with a WARN record; the kernel does not check) for a @size of 0, a @limit_pfn below start_pfn (the
 * search still runs and fails as the kernel's does, setting max32_alloc_size), or a NULL or uninitialised
 * @iovad.
 */
struct iova *alloc_iova(struct iova_domain *iovad, unsigned long size, unsigned long limit_pfn,
			bool size_aligned);

/**
 * free_iova_fast() - free a range into the calling thread's rcache (the kernel's per-CPU cache), or to
 * the tree when the rcaches cannot take it.
 * @iovad: the domain.
 * @pfn: the first granule, as alloc_iova_fast() returned it.
 * @size: the size passed to alloc_iova_fast() (sizes up to 32 granules are cached).
 *
 * Takes no lock shared with other threads when the range goes into the cache. A @pfn that is not
 * allocated, or is cached already (a double free), is a WARN record and changes nothing: the kernel
 * would cache it and hand it out twice. A @pfn that is not the start of its allocation, a @size of 0, or
 * a @size whose size class is not the allocation's, is a WARN record and the allocation is freed to the
 * tree (as free_iova() does) instead of being cached. An allocation that reserve_iova() extended
 * downwards is still freed (and cached) by the pfn it was allocated with, as in the kernel. Without
 * rcaches (no iova_domain_init_rcaches()), a WARN record and free_iova().
 */
void free_iova_fast(struct iova_domain *iovad, unsigned long pfn, unsigned long size);

/**
 * alloc_iova_fast() - allocate @size granules from the calling thread's rcache, or from the tree.
 * @iovad: the domain (with rcaches: iova_domain_init_rcaches()).
 * @size: the number of granules; sizes below 32 are rounded up to a power of two, as in the kernel.
 * @limit_pfn: the highest granule the allocation may use.
 * @flush_rcache: when the tree has no room, free every thread's and the depot's cached ranges and try
 *	once more.
 *
 * The fast path (a cache hit) takes no lock shared with other threads.
 *
 * Return: the first pfn, or 0 when nothing fits, when the fault-injection point "iova" fires, and (with
 * a WARN record) for a @size of 0, a @limit_pfn below start_pfn (after the kernel's failed search and, with
 * @flush_rcache, its flush of every rcache), a domain without rcaches, or a NULL or uninitialised @iovad.
 */
unsigned long alloc_iova_fast(struct iova_domain *iovad, unsigned long size, unsigned long limit_pfn,
			      bool flush_rcache);

/**
 * reserve_iova() - keep pfn_lo..pfn_hi out of the allocator's reach.
 * @iovad: the domain.
 * @pfn_lo: the first granule.
 * @pfn_hi: the last granule.
 *
 * Overlapping allocations are merged as the kernel merges them: the lowest one overlapping is extended
 * down to @pfn_lo, each further one up to where the previous one ends, and what remains above becomes a
 * new allocation.
 *
 * Return: the allocation that holds the top of the range (new, or an existing one that already held
 * it); NULL (with a WARN record, as the kernel's) for a pfn above ULLONG_MAX >> iova_shift(), and (with
 * a WARN record; the kernel would corrupt its tree) for @pfn_lo above @pfn_hi, a range reaching the
 * anchor at ~0UL (granule 1 only), or a NULL or uninitialised @iovad.
 */
struct iova *reserve_iova(struct iova_domain *iovad, unsigned long pfn_lo, unsigned long pfn_hi);

/**
 * init_iova_domain() - set a domain up: granule, first usable pfn, the anchor, the cached nodes.
 * @iovad: the domain (may be embedded in the caller's structure).
 * @granule: the allocation unit in bytes: a power of two, normally the IOMMU's smallest page size.
 * @start_pfn: the lowest pfn to allocate (granule units).
 *
 * The kernel BUGs for a @granule that is not a power of two or is larger than PAGE_SIZE. Here that is
 * a WARN record and the domain is left unusable (every call on it WARNs and fails), unless
 * swiommu_iova_allow_large_granule() was called: then a granule larger than the CPU's page (a 16 KiB
 * IOMMU on a 4 KiB CPU) is allowed. Calling it again without put_iova_domain() leaks the old state, as
 * in the kernel.
 */
void init_iova_domain(struct iova_domain *iovad, unsigned long granule, unsigned long start_pfn);

/**
 * iova_domain_init_rcaches() - set up the rcaches that alloc_iova_fast() and free_iova_fast() use:
 * 6 size classes (1 to 32 granules), per thread a loaded and a previous magazine of 127 ranges each,
 * and a depot of full magazines trimmed every 100 ms (of the virtual clock, <swiommu/iova.h>).
 * @iovad: the domain.
 *
 * Return: 0; 0 with a WARN record when the rcaches exist already (they are kept); -EINVAL (WARN) for a
 * NULL or uninitialised @iovad.
 */
int iova_domain_init_rcaches(struct iova_domain *iovad);

/**
 * find_iova() - the allocation that contains @pfn.
 * @iovad: the domain.
 * @pfn: a granule.
 *
 * Return: the allocation (also for ranges allocated by alloc_iova_fast() and for ranges cached in an
 * rcache, as in the kernel), NULL when none contains @pfn, and NULL (WARN) for a NULL or uninitialised
 * @iovad.
 */
struct iova *find_iova(struct iova_domain *iovad, unsigned long pfn);

/**
 * put_iova_domain() - free every allocation, the rcaches and the domain's state. The struct iova
 * pointers of the domain become invalid. init_iova_domain() may follow.
 * @iovad: the domain.
 *
 * A NULL or uninitialised @iovad (put twice, or never initialised) is a WARN record.
 */
void put_iova_domain(struct iova_domain *iovad);

#include <swiommu/iova.h>

#endif /* _IOVA_H_ */
