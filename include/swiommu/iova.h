/* SPDX-License-Identifier: MIT */
/*
 * swiommu's controls for the IOVA allocator (<linux/iova.h>): what depends on time and CPUs in the
 * kernel runs here on a virtual clock and a configured CPU count, so that every result is exact.
 */
#ifndef _SWIOMMU_IOVA_H
#define _SWIOMMU_IOVA_H

#include <linux/types.h>

struct iova_domain;

/* CPU numbers a thread may count as: 0 .. SWIOMMU_IOVA_MAX_CPUS - 1. */
#define SWIOMMU_IOVA_MAX_CPUS	256

/**
 * swiommu_iova_set_online_cpus() - set num_online_cpus() as the rcache's depot trim sees it: every
 * 100 ms the trim frees one full magazine of a size class while its depot holds more than this many.
 * @n: 1 to SWIOMMU_IOVA_MAX_CPUS. The default is 8.
 *
 * Return: the previous count, or -EINVAL for @n out of range.
 */
int swiommu_iova_set_online_cpus(unsigned int n);

/**
 * swiommu_iova_online_cpus() - the count swiommu_iova_set_online_cpus() set.
 *
 * Return: the count.
 */
unsigned int swiommu_iova_online_cpus(void);

/**
 * swiommu_iova_set_cpu() - make the calling thread count as CPU @cpu: alloc_iova_fast() and
 * free_iova_fast() then use that CPU's magazines in every domain (the kernel's per-CPU rcache). A
 * thread that never calls it counts as the lowest CPU number no other live thread counts as, taken at
 * its first fast call and given back when it exits (the first thread is CPU 0). One thread can so play
 * several CPUs in turn, and a single-threaded test reproduces the kernel's per-CPU sequences exactly.
 * @cpu: 0 to SWIOMMU_IOVA_MAX_CPUS - 1, or -1 to go back to a number taken automatically.
 *
 * Return: 0; -EBUSY when another live thread counts as @cpu; -EINVAL for @cpu out of range.
 */
int swiommu_iova_set_cpu(int cpu);

/**
 * swiommu_iova_current_cpu() - the CPU the calling thread counts as (taking a number if it has none).
 *
 * Return: the CPU number, or -EBUSY when all SWIOMMU_IOVA_MAX_CPUS numbers are taken by live threads
 * (the thread then bypasses the rcaches).
 */
int swiommu_iova_current_cpu(void);

/**
 * swiommu_iova_clock_advance() - advance the virtual clock the rcaches' depot trim runs on (the kernel's
 * delayed work, IOVA_DEPOT_DELAY = 100 ms), running the trims that fall due, in time order. Nothing
 * trims until a test advances the clock.
 * @ms: milliseconds to advance.
 */
void swiommu_iova_clock_advance(unsigned long ms);

/**
 * swiommu_iova_clock_now() - the virtual clock.
 *
 * Return: milliseconds since the process started using it.
 */
unsigned long swiommu_iova_clock_now(void);

/**
 * swiommu_iova_allow_large_granule() - allow init_iova_domain() a granule larger than the CPU's
 * PAGE_SIZE (the kernel BUGs), as a 16 KiB-page IOMMU on a 4 KiB-page CPU needs. Process-wide.
 * @allow: true to allow, false for the kernel's rule (the default).
 *
 * Return: the previous setting.
 */
bool swiommu_iova_allow_large_granule(bool allow);

/**
 * struct swiommu_iova_stats - what swiommu_iova_get_stats() reports about a domain.
 * @allocations: live struct iova (allocated, reserved or cached in an rcache), the anchor excluded.
 * @cached: ranges held by the rcaches (magazines of every thread and the depots).
 * @depot_magazines: full magazines in the depots, all size classes.
 * @node_bytes: bytes of the struct iova that are in use (16 per allocation).
 * @pool_bytes: all memory the domain's allocator holds: struct iova slots (used and free) with each one's
 *	position and state, the index (positions, their summary levels), its magazines and per-thread state.
 * @cached_pfn_lo: pfn_lo of the cached node (the kernel's cached_node; ~0UL for the anchor).
 * @cached32_pfn_lo: pfn_lo of the 32-bit cached node (cached32_node; ~0UL for the anchor).
 * @max32_alloc_size: the kernel's max32_alloc_size.
 * @tree_height: the levels of the allocator's index in use: its positions and the summary levels above them
 *	(0 when empty).
 * @misaligned_gaps: gaps a size-aligned search met that were long enough but held no aligned start, so that
 *	the search went on to the next one (the part of the search that is not logarithmic), since init.
 */
struct swiommu_iova_stats {
	unsigned long allocations;
	unsigned long cached;
	unsigned long depot_magazines;
	unsigned long node_bytes;
	unsigned long pool_bytes;
	unsigned long cached_pfn_lo;
	unsigned long cached32_pfn_lo;
	unsigned long max32_alloc_size;
	unsigned long tree_height;
	unsigned long misaligned_gaps;
};

/**
 * swiommu_iova_get_stats() - fill @stats for @iovad.
 * @iovad: the domain.
 * @stats: where to write.
 *
 * Return: 0, or -EINVAL for a NULL pointer or an uninitialised domain.
 */
int swiommu_iova_get_stats(struct iova_domain *iovad, struct swiommu_iova_stats *stats);

/**
 * swiommu_iova_check() - check the domain's internal invariants: the index's order, no overlaps, each
 * allocation's recorded position, the gaps and summaries, node states and counts, cached nodes in the
 * index, rcache contents. Each problem
 * found is a WARN record naming it. Call it while no other thread allocates or frees in the domain (it is
 * safe meanwhile, but a range moving between a thread's rcache and the tree can look inconsistent).
 * @iovad: the domain.
 *
 * Return: 0 when consistent, the number of problems found, or -EINVAL for a NULL or uninitialised
 * domain.
 */
int swiommu_iova_check(struct iova_domain *iovad);

struct iommu_domain;

/**
 * swiommu_iommu_dma_get_iova_stats() - fill @stats for the IOVA space the DMA API allocates from in a DMA
 * API domain (dma-iommu's cookie->iovad), as swiommu_iova_get_stats() does for an iova_domain. What a
 * driver mapped and has not unmapped is @allocations minus @cached (minus the reserved regions, which are
 * there from the start; in a lazy domain, IOVAs waiting in the flush queue count as allocated too).
 * @domain: an IOMMU_DOMAIN_DMA or IOMMU_DOMAIN_DMA_FQ domain (iommu_get_dma_domain()).
 * @stats: where to write.
 *
 * Return: 0, -EINVAL for a NULL or ERR_PTR domain or NULL @stats, -ENODEV for a domain the DMA API never
 * set up (no cookie) or a machine that is down.
 */
int swiommu_iommu_dma_get_iova_stats(struct iommu_domain *domain, struct swiommu_iova_stats *stats);

#endif /* _SWIOMMU_IOVA_H */
