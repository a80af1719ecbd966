// SPDX-License-Identifier: MIT
// The IOVA allocator's error paths: what the kernel leaves undefined or BUGs on (size 0, a limit below
// start_pfn, a granule that is not a power of two or is above PAGE_SIZE), double and unknown frees, frees of
// ranges held by an rcache, bad reservations, uninitialised domains, and the "iova" fault-injection point.
// Every one is a WARN record and a NULL/0/-EINVAL result, and the domain stays consistent.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <linux/errno.h>
#include <linux/iova.h>
#include <swiommu/swiommu.h>
#include "swiommu_test.h"

#define LIMIT_32	0xfffffUL

static struct iova_domain dom;

static int domain_4k(void **state)
{
	(void)state;
	memset(&dom, 0, sizeof(dom));
	init_iova_domain(&dom, 4096, 1);
	swiommu_warn_reset();
	return iova_domain_init_rcaches(&dom);
}

static int domain_put(void **state)
{
	(void)state;
	swiommu_fail_nth("iova", 0);
	assert_int_equal(swiommu_iova_check(&dom), 0);
	put_iova_domain(&dom);
	return 0;
}

static unsigned long allocations(void)
{
	struct swiommu_iova_stats st;

	assert_int_equal(swiommu_iova_get_stats(&dom, &st), 0);
	return st.allocations;
}

/* One more WARN record, naming @what. */
static void expect_warn(unsigned long *count, const char *what)
{
	assert_int_equal(swiommu_warn_count(), *count + 1);
	assert_non_null(strstr(swiommu_warn_last(), what));
	*count += 1;
}

static void size_zero_and_limit_below_start(void **state)
{
	(void)state;
	unsigned long warns = 0;

	assert_null(alloc_iova(&dom, 0, LIMIT_32, true));
	expect_warn(&warns, "size 0");
	assert_int_equal(alloc_iova_fast(&dom, 0, LIMIT_32, true), 0);
	expect_warn(&warns, "size 0");
	put_iova_domain(&dom);
	init_iova_domain(&dom, 4096, 0x1000);
	assert_int_equal(iova_domain_init_rcaches(&dom), 0);
	assert_null(alloc_iova(&dom, 1, 0xfff, false));
	expect_warn(&warns, "below start_pfn");
	/* The kernel's search fails there and sets max32_alloc_size: 32-bit requests fail fast (no WARN) ... */
	assert_int_equal(dom.max32_alloc_size, 1);
	assert_null(alloc_iova(&dom, 1, LIMIT_32, false));
	assert_int_equal(swiommu_warn_count(), warns);
	/* ... until a range below 4 GiB is freed. */
	struct iova *high = alloc_iova(&dom, 1, ~0UL >> 12, false);

	assert_non_null(high);
	__free_iova(&dom, high);
	assert_int_equal(dom.max32_alloc_size, 1);
	struct iova *low = reserve_iova(&dom, 0x2000, 0x2000);

	assert_non_null(low);
	__free_iova(&dom, low);
	assert_int_equal(dom.max32_alloc_size, 1UL << 20);
	/* alloc_iova_fast: after the failed search, the kernel's flush of every rcache and one more try. */
	unsigned long p = alloc_iova_fast(&dom, 1, LIMIT_32, false);
	struct swiommu_iova_stats st;

	free_iova_fast(&dom, p, 1);
	assert_int_equal(swiommu_iova_get_stats(&dom, &st), 0);
	assert_int_equal(st.cached, 1);
	assert_int_equal(alloc_iova_fast(&dom, 1, 0x10, true), 0);
	expect_warn(&warns, "below start_pfn");
	assert_int_equal(swiommu_iova_get_stats(&dom, &st), 0);
	assert_int_equal(st.cached, 0);
	assert_int_equal(dom.max32_alloc_size, 1);
	assert_int_equal(allocations(), 0);
}

static void granule_not_a_power_of_two_or_above_page_size(void **state)
{
	(void)state;
	struct iova_domain bad;
	unsigned long warns = 0;

	memset(&bad, 0, sizeof(bad));
	init_iova_domain(&bad, 3000, 1);
	expect_warn(&warns, "not a power of two");
	assert_null(alloc_iova(&bad, 1, LIMIT_32, false));
	expect_warn(&warns, "not initialised");
	assert_int_equal(alloc_iova_fast(&bad, 1, LIMIT_32, false), 0);
	expect_warn(&warns, "not initialised");
	assert_int_equal(iova_domain_init_rcaches(&bad), -EINVAL);
	expect_warn(&warns, "not initialised");
	init_iova_domain(&bad, 0, 1);
	expect_warn(&warns, "not a power of two");
	/* The kernel BUGs on a granule above PAGE_SIZE; swiommu_iova_allow_large_granule() permits it. */
	init_iova_domain(&bad, 65536, 1);
	expect_warn(&warns, "larger than PAGE_SIZE");
	assert_null(find_iova(&bad, 1));
	expect_warn(&warns, "not initialised");
	assert_int_equal(swiommu_iova_check(&bad), -EINVAL);
	expect_warn(&warns, "not initialised");
	put_iova_domain(&bad);
	expect_warn(&warns, "not initialised");
}

static void double_and_unknown_frees_change_nothing(void **state)
{
	(void)state;
	unsigned long warns = 0;
	struct iova *a = alloc_iova(&dom, 4, LIMIT_32, true);
	struct iova *b = alloc_iova(&dom, 4, LIMIT_32, true);

	assert_non_null(a);
	assert_non_null(b);
	__free_iova(&dom, a);
	assert_int_equal(warns, swiommu_warn_count());
	__free_iova(&dom, a);
	expect_warn(&warns, "freed already");
	free_iova(&dom, b->pfn_lo);
	free_iova(&dom, 0xffff0);
	expect_warn(&warns, "no IOVA contains pfn");
	free_iova(&dom, 12345);
	expect_warn(&warns, "no IOVA contains pfn");
	__free_iova(&dom, &dom.anchor);
	expect_warn(&warns, "not an IOVA of this domain");
	__free_iova(&dom, NULL);
	expect_warn(&warns, "NULL iova");
	assert_int_equal(allocations(), 0);
	assert_int_equal(swiommu_iova_check(&dom), 0);
	/* find_iova(~0UL) is not the anchor here: the anchor is not an allocation. */
	assert_null(find_iova(&dom, ~0UL));
}

static void fast_double_free_and_cached_ranges(void **state)
{
	(void)state;
	unsigned long warns = 0;
	unsigned long p = alloc_iova_fast(&dom, 2, LIMIT_32, true);

	assert_int_equal(p, 0xffffe);
	free_iova_fast(&dom, p, 2);
	assert_int_equal(swiommu_warn_count(), 0);
	/* The kernel would cache it twice and hand it out twice. */
	free_iova_fast(&dom, p, 2);
	expect_warn(&warns, "freed already");
	/* free_iova and __free_iova of a cached range: the kernel would free it and later hand it out. */
	free_iova(&dom, p);
	expect_warn(&warns, "sits in an rcache");
	__free_iova(&dom, find_iova(&dom, p));
	expect_warn(&warns, "sits in an rcache");
	/* It comes back once, and only once. */
	assert_int_equal(alloc_iova_fast(&dom, 2, LIMIT_32, true), p);
	assert_int_equal(alloc_iova_fast(&dom, 2, LIMIT_32, true), p - 2);
	/* An unknown pfn: the kernel would cache it and hand it out. */
	free_iova_fast(&dom, 0x1234, 1);
	expect_warn(&warns, "no IOVA contains pfn");
	assert_int_equal(allocations(), 2);
	assert_int_equal(swiommu_iova_check(&dom), 0);
}

static void fast_size_mismatch_goes_to_the_tree(void **state)
{
	(void)state;
	unsigned long warns = 0;
	struct iova *three = alloc_iova(&dom, 3, LIMIT_32, false);
	unsigned long p = alloc_iova_fast(&dom, 4, LIMIT_32, false);

	assert_non_null(three);
	/* A 3-granule range in the 4-granule class would let a later 4-granule request overrun it. */
	free_iova_fast(&dom, three->pfn_lo, 3);
	expect_warn(&warns, "does not match");
	/* Not the start of its allocation; the WARN names the allocation. */
	char range[64];

	snprintf(range, sizeof(range), "[0x%lx, 0x%lx]", p, p + 3);
	free_iova_fast(&dom, p + 1, 4);
	expect_warn(&warns, "does not match");
	assert_non_null(strstr(swiommu_warn_last(), range));
	/* Size 0. */
	struct iova *one = alloc_iova(&dom, 1, LIMIT_32, false);

	free_iova_fast(&dom, one->pfn_lo, 0);
	expect_warn(&warns, "size 0");
	assert_int_equal(allocations(), 0);
	struct swiommu_iova_stats st;

	assert_int_equal(swiommu_iova_get_stats(&dom, &st), 0);
	assert_int_equal(st.cached, 0);
}

static void fast_calls_need_rcaches(void **state)
{
	(void)state;
	struct iova_domain plain;
	unsigned long warns = 0;

	memset(&plain, 0, sizeof(plain));
	init_iova_domain(&plain, 4096, 1);
	assert_null(plain.rcaches);
	assert_int_equal(alloc_iova_fast(&plain, 1, LIMIT_32, true), 0);
	expect_warn(&warns, "no rcaches");
	struct iova *iova = alloc_iova(&plain, 1, LIMIT_32, false);

	free_iova_fast(&plain, iova->pfn_lo, 1);
	expect_warn(&warns, "no rcaches");
	assert_null(find_iova(&plain, iova_pfn(&plain, 0xfffff000)));
	/* A second init_rcaches keeps the first. */
	assert_int_equal(iova_domain_init_rcaches(&dom), 0);
	expect_warn(&warns, "rcaches already");
	put_iova_domain(&plain);
}

static void bad_reservations(void **state)
{
	(void)state;
	unsigned long warns = 0;

	assert_null(reserve_iova(&dom, 10, 5));
	expect_warn(&warns, "above pfn_hi");
	/* The kernel's WARN_ON: above ULLONG_MAX >> iova_shift(). */
	assert_null(reserve_iova(&dom, 1, 1UL << 60));
	expect_warn(&warns, "largest pfn");
	assert_int_equal(allocations(), 0);
}

static void uninitialised_domains(void **state)
{
	(void)state;
	struct iova_domain zero;
	unsigned long warns = 0;

	memset(&zero, 0, sizeof(zero));
	assert_null(alloc_iova(&zero, 1, LIMIT_32, false));
	expect_warn(&warns, "not initialised");
	free_iova(&zero, 1);
	expect_warn(&warns, "not initialised");
	free_iova_fast(&zero, 1, 1);
	expect_warn(&warns, "not initialised");
	assert_null(reserve_iova(&zero, 1, 2));
	expect_warn(&warns, "not initialised");
	assert_null(alloc_iova(NULL, 1, LIMIT_32, false));
	expect_warn(&warns, "NULL iova_domain");
	put_iova_domain(NULL);
	expect_warn(&warns, "NULL iova_domain");
	/* Put twice. */
	struct iova_domain twice;

	memset(&twice, 0, sizeof(twice));
	init_iova_domain(&twice, 4096, 1);
	put_iova_domain(&twice);
	put_iova_domain(&twice);
	expect_warn(&warns, "not initialised");
	iova_cache_put();
	expect_warn(&warns, "iova_cache_get");
	struct swiommu_iova_stats st;

	assert_int_equal(swiommu_iova_get_stats(&dom, NULL), -EINVAL);
	assert_int_equal(swiommu_iova_get_stats(&zero, &st), -EINVAL);
	expect_warn(&warns, "not initialised");
}

static void fault_injection_point_iova(void **state)
{
	(void)state;
	struct swiommu_iova_stats st;

	assert_int_equal(swiommu_fail_nth("iova", 1), 0);
	assert_null(alloc_iova(&dom, 1, LIMIT_32, false));
	assert_non_null(alloc_iova(&dom, 1, LIMIT_32, false));
	assert_int_equal(swiommu_fail_nth("iova", 2), 0);
	unsigned long p = alloc_iova_fast(&dom, 1, LIMIT_32, true);

	assert_true(p != 0);
	assert_int_equal(alloc_iova_fast(&dom, 1, LIMIT_32, true), 0);
	assert_true(alloc_iova_fast(&dom, 1, LIMIT_32, true) != 0);
	/* A failure changes nothing: no max32_alloc_size, no allocation. */
	assert_int_equal(dom.max32_alloc_size, 1UL << 20);
	assert_int_equal(swiommu_iova_get_stats(&dom, &st), 0);
	assert_int_equal(st.allocations, 3);
	assert_int_equal(swiommu_warn_count(), 0);
}

static void cpu_and_clock_controls(void **state)
{
	(void)state;
	assert_int_equal(swiommu_iova_set_cpu(SWIOMMU_IOVA_MAX_CPUS), -EINVAL);
	assert_int_equal(swiommu_iova_set_cpu(-2), -EINVAL);
	assert_int_equal(swiommu_iova_set_online_cpus(0), -EINVAL);
	assert_int_equal(swiommu_iova_set_online_cpus(SWIOMMU_IOVA_MAX_CPUS + 1), -EINVAL);
	unsigned long t = swiommu_iova_clock_now();

	swiommu_iova_clock_advance(5);
	assert_int_equal(swiommu_iova_clock_now(), t + 5);
	assert_int_equal(swiommu_iova_check(NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(size_zero_and_limit_below_start, domain_4k, domain_put),
		cmocka_unit_test_setup_teardown(granule_not_a_power_of_two_or_above_page_size, domain_4k, domain_put),
		cmocka_unit_test_setup_teardown(double_and_unknown_frees_change_nothing, domain_4k, domain_put),
		cmocka_unit_test_setup_teardown(fast_double_free_and_cached_ranges, domain_4k, domain_put),
		cmocka_unit_test_setup_teardown(fast_size_mismatch_goes_to_the_tree, domain_4k, domain_put),
		cmocka_unit_test_setup_teardown(fast_calls_need_rcaches, domain_4k, domain_put),
		cmocka_unit_test_setup_teardown(bad_reservations, domain_4k, domain_put),
		cmocka_unit_test_setup_teardown(uninitialised_domains, domain_4k, domain_put),
		cmocka_unit_test_setup_teardown(fault_injection_point_iova, domain_4k, domain_put),
		cmocka_unit_test_setup_teardown(cpu_and_clock_controls, domain_4k, domain_put),
	};

	return cmocka_run_group_tests(tests, boot, shut_down);
}
