// SPDX-License-Identifier: MIT
// Error paths of the DMA API's path choice for masters behind an IOMMU with a driver: IOMMU DMA and
// set_dma_ops() ops together (dma_supported's WARN), calls after unbind, and the kernel's BUG_ON on a bad
// direction as a WARN record.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <linux/dma-mapping.h>
#include <linux/dma-map-ops.h>
#include <linux/iommu.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <swiommu/swiommu.h>
#include "swiommu_test.h"

#define ETH	"/soc/ethernet@fe600000"

static int master_probe(struct platform_device *pdev) { (void)pdev; return 0; }
static const struct of_device_id master_ids[] = { { .compatible = "swiommu,ethernet" }, { } };
static struct platform_driver master_driver = {
	.probe = master_probe,
	.driver = { .name = "dma-iommu-test-master", .of_match_table = master_ids },
};
static const struct dma_map_ops empty_ops;

static void iommu_dma_and_installed_ops_refuse_a_mask(void **state)
{
	(void)state;
	assert_int_equal(platform_driver_register(&master_driver), 0);
	struct device *eth = swiommu_find_device(ETH);

	set_dma_ops(eth, &empty_ops);
	assert_int_equal(dma_set_mask(eth, DMA_BIT_MASK(64)), -EIO);
	assert_int_equal(swiommu_warn_count(), 1);
	assert_non_null(strstr(swiommu_warn_last(), "IOMMU DMA and dma_map_ops both installed"));
	set_dma_ops(eth, NULL);
	assert_int_equal(dma_set_mask(eth, DMA_BIT_MASK(64)), 0);
	platform_driver_unregister(&master_driver);
}

static void a_bad_direction_is_a_warn_not_a_bug(void **state)
{
	(void)state;
	assert_int_equal(platform_driver_register(&master_driver), 0);
	struct device *eth = swiommu_find_device(ETH);
	struct page *pg = alloc_page(GFP_KERNEL);

	assert_int_equal(dma_map_page(eth, pg, 0, 64, DMA_NONE), DMA_MAPPING_ERROR);
	assert_int_equal(swiommu_warn_count(), 1);
	assert_non_null(strstr(swiommu_warn_last(), "invalid DMA direction 3"));
	__free_page(pg);
	platform_driver_unregister(&master_driver);
}

static void after_unbind_the_master_is_back_on_dma_direct(void **state)
{
	(void)state;
	assert_int_equal(platform_driver_register(&master_driver), 0);
	struct device *eth = swiommu_find_device(ETH);

	assert_true(eth->dma_iommu);
	platform_driver_unregister(&master_driver);
	assert_false(eth->dma_iommu);
	assert_null(eth->swiommu_dma);
	/* A (buggy) call after unbind takes dma-direct, as with no IOMMU set-up: no crash, no WARN. */
	char *buf = kmalloc(64, GFP_KERNEL | GFP_DMA);
	dma_addr_t addr = dma_map_single(eth, buf, 64, DMA_TO_DEVICE);
	assert_int_equal(addr, virt_to_phys(buf));
	dma_unmap_single(eth, addr, 64, DMA_TO_DEVICE);
	assert_int_equal(swiommu_warn_count(), 0);
	kfree(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(iommu_dma_and_installed_ops_refuse_a_mask, boot, shut_down),
		cmocka_unit_test_setup_teardown(a_bad_direction_is_a_warn_not_a_bug, boot, shut_down),
		cmocka_unit_test_setup_teardown(after_unbind_the_master_is_back_on_dma_direct, boot, shut_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
