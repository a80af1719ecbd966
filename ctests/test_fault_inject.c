// SPDX-License-Identifier: MIT
// Fault injection: each point's failure runs the caller's error path and leaks nothing; fault_attr's
// probability, interval, times and space with a seed repeat exactly; the environment arms points for
// sweeps of unmodified binaries. Bad names and values: test_fault_inject_fail.c.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/platform_device.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <swiommu/swiommu.h>
#include "swiommu_test.h"

#define ETH "/soc/ethernet@fe600000"

static void iommu_map_fails_after_part_of_the_range_and_rolls_back(void **state)
{
	(void)state;
	struct device *eth = swiommu_find_device(ETH);
	struct iommu_domain *d = iommu_paging_domain_alloc(eth);
	struct page *pg = alloc_pages(GFP_KERNEL, 10);	/* 4 MiB, naturally aligned */
	phys_addr_t pa = page_to_phys(pg);

	/* 2 MiB + 4 KiB at a 2 MiB-aligned address: a block, then a page. The page's batch fails. */
	assert_int_equal(swiommu_fail_nth("iommu_map", 1), 0);
	assert_int_equal(iommu_map(d, 0x40000000, pa, SZ_2M + SZ_4K, IOMMU_READ, GFP_KERNEL), -ENOMEM);
	assert_true(swiommu_log_contains("FAULT_INJECTION: forcing a failure."));
	assert_true(swiommu_log_contains("name iommu_map, interval"));
	/* The block mapped first is gone again. */
	assert_int_equal(iommu_iova_to_phys(d, 0x40000000), 0);
	assert_int_equal(swiommu_fault_injected("iommu_map"), 1);
	/* The countdown fired once: the next map succeeds. */
	assert_int_equal(iommu_map(d, 0x40000000, pa, SZ_2M + SZ_4K, IOMMU_READ, GFP_KERNEL), 0);
	assert_int_equal(iommu_iova_to_phys(d, 0x40200000), pa + SZ_2M);
	assert_int_equal(iommu_unmap(d, 0x40000000, SZ_2M + SZ_4K), SZ_2M + SZ_4K);
	iommu_domain_free(d);
	__free_pages(pg, 10);
	assert_int_equal(swiommu_mem_check_leaks(true), 0);
}

static void attach_fails_with_enospc(void **state)
{
	(void)state;
	struct device *eth = swiommu_find_device(ETH);
	struct iommu_domain *def = iommu_get_dma_domain(eth);
	struct iommu_domain *d = iommu_paging_domain_alloc(eth);

	assert_int_equal(swiommu_fail_nth("attach", 1), 0);
	assert_int_equal(iommu_attach_device(d, eth), -ENOSPC);
	assert_ptr_equal(iommu_get_domain_for_dev(eth), def);
	assert_int_equal(iommu_attach_device(d, eth), 0);
	iommu_detach_device(d, eth);
	iommu_domain_free(d);
}

static int probes;
static int count_probe(struct platform_device *pdev) { (void)pdev; probes++; return 0; }
static const struct of_device_id eth_ids[] = { { .compatible = "swiommu,ethernet" }, { } };
static struct platform_driver eth_driver = { .probe = count_probe, .driver = { .name = "fi-eth", .of_match_table = eth_ids } };
static int nop_probe(struct platform_device *pdev) { (void)pdev; return 0; }
static const struct of_device_id usb_ids[] = { { .compatible = "swiommu,usb" }, { } };
static struct platform_driver usb_driver = { .probe = nop_probe, .driver = { .name = "fi-usb", .of_match_table = usb_ids } };

static void probe_is_deferred_then_retried(void **state)
{
	(void)state;
	probes = 0;
	assert_int_equal(swiommu_fail_nth("probe", 1), 0);
	assert_int_equal(platform_driver_register(&eth_driver), 0);
	/* Deferred before the driver's probe ran; the next binding retries it. */
	assert_int_equal(probes, 0);
	assert_null(swiommu_find_device(ETH)->driver);
	assert_int_equal(platform_driver_register(&usb_driver), 0);
	assert_int_equal(probes, 1);
	assert_non_null(swiommu_find_device(ETH)->driver);
	platform_driver_unregister(&usb_driver);
	platform_driver_unregister(&eth_driver);
}

/* Which of @n kmalloc(64) calls fail under the attributes: a bit per call. */
static unsigned long long failure_pattern(const struct swiommu_fault_attr *attr, int n)
{
	unsigned long long bits = 0;

	assert_int_equal(swiommu_fault_set("kmalloc", attr), 0);
	for (int i = 0; i < n; i++) {
		void *p = kmalloc(64, GFP_KERNEL);

		if (!p)
			bits |= 1ULL << i;
		kfree(p);
	}
	assert_int_equal(swiommu_fault_set("kmalloc", NULL), 0);
	return bits;
}

static void attributes_repeat_with_their_seed(void **state)
{
	(void)state;
	struct swiommu_fault_attr half = { .probability = 50, .interval = 1, .times = -1, .seed = 42 };
	unsigned long long a = failure_pattern(&half, 64), b = failure_pattern(&half, 64);

	/* The same seed, the same failures; about half of them. */
	assert_true(a == b);
	assert_true(__builtin_popcountll(a) > 16 && __builtin_popcountll(a) < 48);
	half.seed = 43;
	assert_true(failure_pattern(&half, 64) != a);

	/* interval 4 with probability 100: calls 4, 8, 12 ...; times 3 stops after three. */
	struct swiommu_fault_attr every4 = { .probability = 100, .interval = 4, .times = 3, .seed = 1 };

	assert_true(failure_pattern(&every4, 20) == ((1ULL << 3) | (1ULL << 7) | (1ULL << 11)));
	/* space 5: the first five pass. */
	struct swiommu_fault_attr after5 = { .probability = 100, .interval = 1, .times = 2, .space = 5, .seed = 1 };

	assert_true(failure_pattern(&after5, 10) == ((1ULL << 5) | (1ULL << 6)));
	/* Quiet attributes log nothing. */
	struct swiommu_fault_attr quiet = { .probability = 100, .interval = 1, .times = 1, .seed = 1, .verbose = false };

	unsigned long injected = swiommu_fault_injected("kmalloc");

	swiommu_log_reset();
	assert_true(failure_pattern(&quiet, 2) == 1);
	assert_false(swiommu_log_contains("FAULT_INJECTION"));
	assert_int_equal(swiommu_fault_injected("kmalloc"), injected + 1);
	/* Probability 0 turns the attributes off. */
	assert_true(failure_pattern(&(struct swiommu_fault_attr){ .probability = 0, .times = -1 }, 8) == 0);
	assert_int_equal(swiommu_mem_check_leaks(true), 0);
}

static void the_environment_arms_points_after_boot(void **state)
{
	(void)state;
	swiommu_exit();
	setenv("SWIOMMU_FAIL_NTH", "kmalloc:2", 1);
	setenv("SWIOMMU_FAULT", "vmalloc:probability=100,times=1", 1);
	assert_int_equal(swiommu_init(NULL), 0);	/* boot's own allocations are not counted */
	unsetenv("SWIOMMU_FAIL_NTH");
	unsetenv("SWIOMMU_FAULT");
	void *a = kmalloc(16, GFP_KERNEL), *b = kmalloc(16, GFP_KERNEL), *c = kmalloc(16, GFP_KERNEL);

	assert_non_null(a);
	assert_null(b);
	assert_non_null(c);
	assert_null(vmalloc(SZ_8K));
	void *v = vmalloc(SZ_8K);

	assert_non_null(v);
	vfree(v);
	kfree(a);
	kfree(c);
	/* A new boot starts disarmed. */
	swiommu_exit();
	assert_int_equal(swiommu_init(NULL), 0);
	assert_int_equal(swiommu_fault_injected("kmalloc"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(iommu_map_fails_after_part_of_the_range_and_rolls_back, boot, shut_down),
		cmocka_unit_test_setup_teardown(attach_fails_with_enospc, boot, shut_down),
		cmocka_unit_test_setup_teardown(probe_is_deferred_then_retried, boot, shut_down),
		cmocka_unit_test_setup_teardown(attributes_repeat_with_their_seed, boot, shut_down),
		cmocka_unit_test_setup_teardown(the_environment_arms_points_after_boot, boot, shut_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
