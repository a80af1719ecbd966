// SPDX-License-Identifier: MIT
// The IOVA allocator through the C API: the kernel's addresses, worked out by hand from drivers/iommu/iova.c
// (Linux 6.17) in the comments: the top-down walk from the cached nodes, size alignment, the retry above the
// cached node, max32_alloc_size, reserve_iova merging, and the rcaches (rounding, LIFO reuse, limits, CPUs,
// flush, the depot and its trim on the virtual clock).
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <semaphore.h>
#include <string.h>
#include <linux/errno.h>
#include <linux/iova.h>
#include <swiommu/swiommu.h>
#include "swiommu_test.h"

#define LIMIT_32	0xfffffUL		/* 4 GiB - 1 in 4 KiB granules */
#define LIMIT_48	((1UL << 36) - 1)

static struct iova_domain dom;

static int domain_4k(void **state)
{
	(void)state;
	memset(&dom, 0, sizeof(dom));
	swiommu_warn_reset();
	init_iova_domain(&dom, 4096, 1);
	return iova_domain_init_rcaches(&dom);
}

static int domain_put(void **state)
{
	(void)state;
	assert_int_equal(swiommu_iova_check(&dom), 0);
	put_iova_domain(&dom);
	/* No test here expects a WARN. */
	assert_int_equal(swiommu_warn_count(), 0);
	return 0;
}

static void check(void)
{
	assert_int_equal(swiommu_iova_check(&dom), 0);
}

static struct iova *alloc_at(unsigned long size, unsigned long limit, bool aligned, unsigned long lo,
			     unsigned long hi)
{
	struct iova *iova = alloc_iova(&dom, size, limit, aligned);

	assert_non_null(iova);
	assert_int_equal(iova->pfn_lo, lo);
	assert_int_equal(iova->pfn_hi, hi);
	assert_int_equal(iova_size(iova), hi - lo + 1);
	check();
	return iova;
}

static void helpers_are_the_kernels(void **state)
{
	(void)state;
	struct iova iova = { .pfn_lo = 0x12345, .pfn_hi = 0x12346 };

	assert_int_equal(dom.granule, 4096);
	assert_int_equal(dom.start_pfn, 1);
	assert_int_equal(dom.dma_32bit_pfn, 1UL << 20);
	assert_int_equal(dom.max32_alloc_size, 1UL << 20);
	assert_int_equal(dom.anchor.pfn_lo, ~0UL);
	assert_non_null(dom.rcaches);
	assert_int_equal(iova_shift(&dom), 12);
	assert_int_equal(iova_mask(&dom), 0xfff);
	assert_int_equal(iova_offset(&dom, 0x12345678), 0x678);
	assert_int_equal(iova_align(&dom, 0x1001), 0x2000);
	assert_int_equal(iova_align_down(&dom, 0x1fff), 0x1000);
	assert_int_equal(iova_pfn(&dom, 0x12345678), 0x12345);
	assert_int_equal(iova_dma_addr(&dom, &iova), 0x12345000ULL);
	assert_int_equal(iova_size(&iova), 2);
	assert_int_equal(iova_rcache_range(), 4096UL << 5);
	assert_int_equal(iova_cache_get(), 0);
	iova_cache_put();
}

static void top_down_from_the_cached_node(void **state)
{
	(void)state;
	struct swiommu_iova_stats st;

	/* Anchor: high = min(limit + 1, ~0) = 0x100000; size 1 has no alignment: [0xfffff]. */
	alloc_at(1, LIMIT_32, true, 0xfffff, 0xfffff);
	/* From cached32 = [0xfffff]: (0xfffff - 2) & ~1 = 0xffffc. */
	alloc_at(2, LIMIT_32, true, 0xffffc, 0xffffd);
	/* 5 granules align to 8: (0xffffc - 5) & ~7 = 0xffff0. */
	struct iova *five = alloc_at(5, LIMIT_32, true, 0xffff0, 0xffff4);
	/* Unaligned 3: 0xffff0 - 3 = 0xfffed. */
	alloc_at(3, LIMIT_32, false, 0xfffed, 0xfffef);
	/* The holes above (0xffff5-0xffffb, 0xffffe) are not looked at: the walk starts at cached32. */
	alloc_at(1, LIMIT_32, true, 0xfffec, 0xfffec);
	/* Freeing [0xffff0-0xffff4] (>= cached32, below 4 GiB) moves cached32 to its successor [0xffffc]. */
	free_iova(&dom, 0xffff2);
	assert_int_equal(swiommu_iova_get_stats(&dom, &st), 0);
	assert_int_equal(st.cached32_pfn_lo, 0xffffc);
	assert_int_equal(st.cached_pfn_lo, ~0UL);
	(void)five;
	/* From [0xffffc]: (0xffffc - 8) & ~7 = 0xffff0 clears [0xfffef]: [0xffff0-0xffff7]. */
	alloc_at(8, LIMIT_32, true, 0xffff0, 0xffff7);
	/* From [0xffff0]: 0xfffec collides with [0xfffed-0xfffef], then with [0xfffec]: (0xfffec - 4) & ~3. */
	alloc_at(4, LIMIT_32, true, 0xfffe8, 0xfffeb);
	assert_int_equal(swiommu_iova_get_stats(&dom, &st), 0);
	assert_int_equal(st.allocations, 6);
	assert_int_equal(st.node_bytes, 6 * sizeof(struct iova));
}

static void sixty_four_bit_and_thirty_two_bit_nodes(void **state)
{
	(void)state;
	struct swiommu_iova_stats st;

	/* Above 4 GiB the cached node is cached_node: [2^36 - 1]. */
	alloc_at(1, LIMIT_48, false, LIMIT_48, LIMIT_48);
	/* A 32-bit request starts at cached32 = the anchor; [2^36 - 1] is above the limit and is walked past. */
	alloc_at(1, LIMIT_32, false, 0xfffff, 0xfffff);
	/* A 64-bit request starts at cached_node = [2^36 - 1]. */
	alloc_at(16, LIMIT_48, true, LIMIT_48 - 31, LIMIT_48 - 16);
	assert_int_equal(swiommu_iova_get_stats(&dom, &st), 0);
	assert_int_equal(st.cached_pfn_lo, LIMIT_48 - 31);
	assert_int_equal(st.cached32_pfn_lo, 0xfffff);
	/* find_iova: any granule of an allocation. */
	assert_int_equal(find_iova(&dom, LIMIT_48 - 20)->pfn_lo, LIMIT_48 - 31);
	assert_null(find_iova(&dom, LIMIT_48 - 10));
}

/*
 * A 16-granule space, 0x100-0x10f (start_pfn 0x100, limit 0x10f):
 *   a: 1        -> [0x10f]            b: 1 -> [0x10e]
 *   c: 4 align  -> (0x10e - 4) & ~3 = 0x108: [0x108-0x10b], leaving 0x10c-0x10d free above it
 *   d: 2 align  -> from c: 0x106: [0x106-0x107]
 *   e: 4 align  -> (0x106 - 4) & ~3 = 0x100: [0x100-0x103], leaving 0x104-0x105
 *   f: 2 align  -> from e: 0xfe < start_pfn: fails; retry_pfn = 0x103 < 0x110, so the kernel retries from the
 *                  top with low = 0x104: 0x10e, 0x10c collide with [0x10f] and [0x10e]; 0x10c > 0x10b: [0x10c]
 *   g: 2 align  -> from f down: [0x104-0x105]
 *   h: 1        -> fails, both passes; max32_alloc_size = 1
 *   i: 1        -> fails at once: size >= max32_alloc_size
 *   free 0x10e  -> max32_alloc_size back to 2^20, cached32 moves to [0x10f]
 *   j: 1        -> [0x10e]
 */
static void retry_above_the_cached_node_and_max32(void **state)
{
	(void)state;
	struct swiommu_iova_stats st;

	put_iova_domain(&dom);
	init_iova_domain(&dom, 4096, 0x100);
	alloc_at(1, 0x10f, false, 0x10f, 0x10f);
	alloc_at(1, 0x10f, false, 0x10e, 0x10e);
	alloc_at(4, 0x10f, true, 0x108, 0x10b);
	alloc_at(2, 0x10f, true, 0x106, 0x107);
	alloc_at(4, 0x10f, true, 0x100, 0x103);
	alloc_at(2, 0x10f, true, 0x10c, 0x10d);
	alloc_at(2, 0x10f, true, 0x104, 0x105);
	assert_null(alloc_iova(&dom, 1, 0x10f, false));
	assert_int_equal(dom.max32_alloc_size, 1);
	assert_null(alloc_iova(&dom, 1, 0x10f, false));
	free_iova(&dom, 0x10e);
	assert_int_equal(dom.max32_alloc_size, 1UL << 20);
	assert_int_equal(swiommu_iova_get_stats(&dom, &st), 0);
	assert_int_equal(st.cached32_pfn_lo, 0x10f);
	alloc_at(1, 0x10f, false, 0x10e, 0x10e);
	assert_int_equal(swiommu_iova_get_stats(&dom, &st), 0);
	assert_int_equal(st.allocations, 7);	/* a..g and j: 16 granules, the space is full */
	assert_null(alloc_iova(&dom, 1, 0x10f, false));
}

/*
 * reserve_iova merges as the kernel does: nodes [0x20-0x27] and [0x30-0x37]; reserving 0x10-0x40 extends the
 * first down to 0x10, the second down to 0x28, and adds [0x38-0x40], which it returns.
 */
static void reserve_merges_overlaps(void **state)
{
	(void)state;
	struct iova *a = reserve_iova(&dom, 0x20, 0x27);
	struct iova *b = reserve_iova(&dom, 0x30, 0x37);
	struct iova *r;

	assert_non_null(a);
	assert_non_null(b);
	r = reserve_iova(&dom, 0x10, 0x40);
	assert_non_null(r);
	assert_int_equal(r->pfn_lo, 0x38);
	assert_int_equal(r->pfn_hi, 0x40);
	assert_int_equal(a->pfn_lo, 0x10);
	assert_int_equal(a->pfn_hi, 0x27);
	assert_int_equal(b->pfn_lo, 0x28);
	assert_int_equal(b->pfn_hi, 0x37);
	check();
	/* A range inside an existing node returns that node, unchanged. */
	assert_ptr_equal(reserve_iova(&dom, 0x12, 0x14), a);
	/* Reaching below a node extends it and returns it: [0x8-0x27]. */
	assert_ptr_equal(reserve_iova(&dom, 0x8, 0x20), a);
	assert_int_equal(a->pfn_lo, 0x8);
	check();
	/* Over a live allocation too: it is extended, as in the kernel. */
	struct iova *live = alloc_at(4, 0x1ff, true, 0x1fc, 0x1ff);

	assert_ptr_equal(reserve_iova(&dom, 0x1f0, 0x1fd), live);
	assert_int_equal(live->pfn_lo, 0x1f0);
	check();
	/* Allocations go around reservations. */
	alloc_at(16, 0x1ff, true, 0x1e0, 0x1ef);
	__free_iova(&dom, live);
	__free_iova(&dom, r);
	check();
}

/* alloc_iova_fast rounds 3 up to 4 (size-aligned); the freed range comes back for the same size class. */
static void fast_rounds_and_reuses(void **state)
{
	(void)state;
	unsigned long p = alloc_iova_fast(&dom, 3, LIMIT_32, false);

	assert_int_equal(p, 0xffffc);
	assert_int_equal(find_iova(&dom, p)->pfn_hi, 0xfffff);
	free_iova_fast(&dom, p, 3);
	check();
	/* Another class goes to the tree: (0xffffc - 2) & ~1; then the cached 4 comes back. */
	assert_int_equal(alloc_iova_fast(&dom, 2, LIMIT_32, false), 0xffffa);
	assert_int_equal(alloc_iova_fast(&dom, 4, LIMIT_32, false), 0xffffc);
	/* 32 is the largest cached size; 33 is neither rounded nor cached. */
	unsigned long big = alloc_iova_fast(&dom, 33, LIMIT_32, false);

	assert_int_equal(big, (0xffffa - 33) & ~63UL);
	free_iova_fast(&dom, big, 33);
	assert_null(find_iova(&dom, big));
	check();
}

/* Magazines are LIFO, and a pop takes the topmost entry that fits under the limit. */
static void magazines_are_lifo_and_honour_limits(void **state)
{
	(void)state;
	unsigned long p1 = alloc_iova_fast(&dom, 1, LIMIT_32, false);
	unsigned long p2 = alloc_iova_fast(&dom, 1, LIMIT_32, false);
	unsigned long p3 = alloc_iova_fast(&dom, 1, LIMIT_32, false);

	assert_int_equal(p1, 0xfffff);
	assert_int_equal(p2, 0xffffe);
	assert_int_equal(p3, 0xffffd);
	free_iova_fast(&dom, p1, 1);
	free_iova_fast(&dom, p2, 1);
	free_iova_fast(&dom, p3, 1);
	assert_int_equal(alloc_iova_fast(&dom, 1, LIMIT_32, false), p3);
	/* Magazine [p1, p2]: under a limit of 0xffffe the top entry p2 fits. Then [p1]: p1 is above a limit of
	 * 0xffffe, so the rcache misses and the tree answers from cached32 = [p3]. */
	assert_int_equal(alloc_iova_fast(&dom, 1, 0xffffe, false), p2);
	assert_int_equal(alloc_iova_fast(&dom, 1, 0xffffe, false), 0xffffc);
	assert_int_equal(alloc_iova_fast(&dom, 1, LIMIT_32, false), p1);
	check();
}

/* Each CPU has its own magazines; a thread can count as any CPU. */
static void cpus_have_their_own_magazines(void **state)
{
	(void)state;
	int cpu0 = swiommu_iova_current_cpu();
	unsigned long p;

	assert_true(cpu0 >= 0);
	assert_int_equal(swiommu_iova_set_cpu(7), 0);
	assert_int_equal(swiommu_iova_current_cpu(), 7);
	p = alloc_iova_fast(&dom, 2, LIMIT_32, false);
	free_iova_fast(&dom, p, 2);			/* into CPU 7's magazine */
	assert_int_equal(swiommu_iova_set_cpu(8), 0);
	assert_int_equal(alloc_iova_fast(&dom, 2, LIMIT_32, false), p - 2);	/* CPU 8: from the tree */
	assert_int_equal(swiommu_iova_set_cpu(7), 0);
	assert_int_equal(alloc_iova_fast(&dom, 2, LIMIT_32, false), p);	/* CPU 7: its cached range */
	assert_int_equal(swiommu_iova_set_cpu(cpu0), 0);
	check();
}

/* When the tree is full, flush_rcache frees every CPU's and the depot's ranges and tries again. */
static void flush_rcache_makes_room(void **state)
{
	(void)state;
	unsigned long p[16];

	put_iova_domain(&dom);
	init_iova_domain(&dom, 4096, 0x100);
	assert_int_equal(iova_domain_init_rcaches(&dom), 0);
	for (int i = 0; i < 16; i++)
		p[i] = alloc_iova_fast(&dom, 1, 0x10f, false);
	assert_int_equal(p[15], 0x100);
	assert_int_equal(swiommu_iova_set_cpu(9), 0);
	for (int i = 0; i < 8; i++)
		free_iova_fast(&dom, p[i], 1);		/* cached on CPU 9 */
	assert_int_equal(swiommu_iova_set_cpu(-1), 0);
	/* Full: 2 granules fit nowhere; without the flush that is final. */
	assert_int_equal(alloc_iova_fast(&dom, 2, 0x10f, false), 0);
	/* With it: p[0..7] = 0x10f..0x108 go back to the tree; then (0x110 - 2) & ~1 from the top. */
	assert_int_equal(alloc_iova_fast(&dom, 2, 0x10f, true), 0x10e);
	check();
}

/*
 * The depot: 382 frees on one CPU fill loaded and prev (254), push two full magazines (at the 255th and 382nd
 * free). With one CPU online, the trim 100 ms later frees one magazine (127 ranges) and runs again 100 ms
 * later; then the depot holds one, which is no more than num_online_cpus(), and the trim stops.
 */
static void depot_trim_runs_on_the_virtual_clock(void **state)
{
	(void)state;
	static unsigned long p[382];
	struct swiommu_iova_stats st;
	int old = swiommu_iova_set_online_cpus(1);

	assert_true(old >= 1);
	for (int i = 0; i < 382; i++)
		p[i] = alloc_iova_fast(&dom, 1, LIMIT_32, false);
	for (int i = 0; i < 382; i++)
		free_iova_fast(&dom, p[i], 1);
	assert_int_equal(swiommu_iova_get_stats(&dom, &st), 0);
	assert_int_equal(st.depot_magazines, 2);
	assert_int_equal(st.cached, 382);
	assert_int_equal(st.allocations, 382);
	/* A 32-bit request that fails sets max32_alloc_size ... */
	assert_null(alloc_iova(&dom, LIMIT_32 - 1, LIMIT_32, false));
	assert_int_equal(dom.max32_alloc_size, LIMIT_32 - 1);
	swiommu_iova_clock_advance(99);
	assert_int_equal(swiommu_iova_get_stats(&dom, &st), 0);
	assert_int_equal(st.depot_magazines, 2);
	swiommu_iova_clock_advance(1);
	/* ... and the trim's frees below 4 GiB reset it, in the struct too, before any other call (remove_iova). */
	assert_int_equal(dom.max32_alloc_size, 1UL << 20);
	assert_int_equal(swiommu_iova_get_stats(&dom, &st), 0);
	assert_int_equal(st.depot_magazines, 1);
	assert_int_equal(st.allocations, 382 - 127);
	swiommu_iova_clock_advance(1000);
	assert_int_equal(swiommu_iova_get_stats(&dom, &st), 0);
	assert_int_equal(st.depot_magazines, 1);
	assert_int_equal(st.allocations, 382 - 127);
	assert_int_equal(swiommu_iova_set_online_cpus((unsigned int)old), 1);
	check();
}

/* A thread that counted as a CPU exits: its cached ranges go back to the tree (the kernel's iova_cpuhp_dead), and
 * freeing one below 4 GiB resets max32_alloc_size, which the struct shows at once. */
static sem_t cached_one, may_exit;

static void *cache_one_and_wait(void *arg)
{
	unsigned long pfn = alloc_iova_fast(&dom, 1, LIMIT_32, false);

	(void)arg;
	free_iova_fast(&dom, pfn, 1);
	sem_post(&cached_one);
	sem_wait(&may_exit);
	return NULL;
}

static void a_cpu_going_offline_frees_its_ranges(void **state)
{
	(void)state;
	pthread_t thread;
	struct swiommu_iova_stats st;

	assert_int_equal(sem_init(&cached_one, 0, 0), 0);
	assert_int_equal(sem_init(&may_exit, 0, 0), 0);
	assert_int_equal(pthread_create(&thread, NULL, cache_one_and_wait, NULL), 0);
	sem_wait(&cached_one);
	assert_int_equal(swiommu_iova_get_stats(&dom, &st), 0);
	assert_int_equal(st.cached, 1);
	assert_null(alloc_iova(&dom, LIMIT_32, LIMIT_32, false));
	assert_int_equal(dom.max32_alloc_size, LIMIT_32);
	sem_post(&may_exit);
	assert_int_equal(pthread_join(thread, NULL), 0);
	assert_int_equal(dom.max32_alloc_size, 1UL << 20);
	assert_int_equal(swiommu_iova_get_stats(&dom, &st), 0);
	assert_int_equal(st.cached, 0);
	assert_int_equal(st.allocations, 0);
	check();
}

/*
 * reserve_iova over a range an rcache holds lowers that node's pfn_lo (__adjust_overlap_range); the rcache
 * still hands out the pfn it was allocated with, and free_iova_fast() of that pfn caches it again, the
 * reservation kept, as in the kernel.
 */
static void reserve_over_a_cached_range_keeps_it(void **state)
{
	(void)state;
	unsigned long p = alloc_iova_fast(&dom, 4, LIMIT_32, false);
	struct swiommu_iova_stats st;

	assert_int_equal(p, 0xffffc);
	free_iova_fast(&dom, p, 4);
	struct iova *r = reserve_iova(&dom, p - 8, p + 1);

	assert_non_null(r);
	assert_int_equal(r->pfn_lo, p - 8);
	assert_int_equal(r->pfn_hi, p + 3);
	check();
	assert_int_equal(alloc_iova_fast(&dom, 4, LIMIT_32, false), p);
	free_iova_fast(&dom, p, 4);
	assert_ptr_equal(find_iova(&dom, p - 8), r);
	assert_int_equal(swiommu_iova_get_stats(&dom, &st), 0);
	assert_int_equal(st.cached, 1);
	check();
	/* The whole node leaves the tree when the cache lets it go (iova_magazine_free_pfns: remove_iova). */
	assert_int_equal(alloc_iova_fast(&dom, 4, LIMIT_32, false), p);
	__free_iova(&dom, r);
	assert_null(find_iova(&dom, p - 8));
	check();
}

/* A granule larger than the CPU's page, with swiommu's option: a 16 KiB IOMMU on a 4 KiB CPU. */
static void large_granule_option(void **state)
{
	(void)state;
	struct iova_domain big;

	memset(&big, 0, sizeof(big));
	assert_false(swiommu_iova_allow_large_granule(true));
	init_iova_domain(&big, 16384, 1);
	assert_true(swiommu_iova_allow_large_granule(false));
	assert_int_equal(iova_shift(&big), 14);
	assert_int_equal(big.dma_32bit_pfn, 1UL << 18);
	struct iova *iova = alloc_iova(&big, 1, (1UL << 18) - 1, true);

	assert_non_null(iova);
	assert_int_equal(iova_dma_addr(&big, iova), 0xffffc000ULL);
	assert_int_equal(swiommu_iova_check(&big), 0);
	put_iova_domain(&big);
	/* Granules of 4 GiB and more: dma_32bit_pfn is 1 (the kernel's shift would go negative). */
	swiommu_iova_allow_large_granule(true);
	init_iova_domain(&big, 1UL << 33, 1);
	swiommu_iova_allow_large_granule(false);
	assert_int_equal(big.dma_32bit_pfn, 1);
	iova = alloc_iova(&big, 1, (1UL << 31) - 1, false);
	assert_non_null(iova);
	assert_int_equal(iova->pfn_lo, (1UL << 31) - 1);
	assert_int_equal(swiommu_iova_check(&big), 0);
	put_iova_domain(&big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(helpers_are_the_kernels, domain_4k, domain_put),
		cmocka_unit_test_setup_teardown(top_down_from_the_cached_node, domain_4k, domain_put),
		cmocka_unit_test_setup_teardown(sixty_four_bit_and_thirty_two_bit_nodes, domain_4k, domain_put),
		cmocka_unit_test_setup_teardown(retry_above_the_cached_node_and_max32, domain_4k, domain_put),
		cmocka_unit_test_setup_teardown(reserve_merges_overlaps, domain_4k, domain_put),
		cmocka_unit_test_setup_teardown(fast_rounds_and_reuses, domain_4k, domain_put),
		cmocka_unit_test_setup_teardown(magazines_are_lifo_and_honour_limits, domain_4k, domain_put),
		cmocka_unit_test_setup_teardown(cpus_have_their_own_magazines, domain_4k, domain_put),
		cmocka_unit_test_setup_teardown(flush_rcache_makes_room, domain_4k, domain_put),
		cmocka_unit_test_setup_teardown(depot_trim_runs_on_the_virtual_clock, domain_4k, domain_put),
		cmocka_unit_test_setup_teardown(a_cpu_going_offline_frees_its_ranges, domain_4k, domain_put),
		cmocka_unit_test_setup_teardown(reserve_over_a_cached_range_keeps_it, domain_4k, domain_put),
		cmocka_unit_test_setup_teardown(large_granule_option, domain_4k, domain_put),
	};

	return cmocka_run_group_tests(tests, boot, shut_down);
}
