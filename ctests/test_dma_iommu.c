// SPDX-License-Identifier: MIT
// Which path the DMA API takes for masters behind an IOMMU with a driver (examples/iommu/lpae_iommu.c on the
// default board's MMU-500): IOMMU DMA on a DMA default domain (dev->dma_iommu), still the default domain
// while a driver has attached its own UNMANAGED domain, and IOMMU
// DMA before ops installed with set_dma_ops, as kernel/dma/mapping.c orders them. (An IDENTITY default domain
// is dma-direct too, but the example driver has no identity domain to show it with.)
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
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

static void a_master_on_a_dma_domain_uses_iommu_dma(void **state)
{
	(void)state;
	assert_int_equal(platform_driver_register(&master_driver), 0);
	struct device *eth = swiommu_find_device(ETH);

	assert_true(device_is_bound(eth));
	assert_int_equal(iommu_get_domain_for_dev(eth)->type, IOMMU_DOMAIN_DMA);
	assert_true(eth->dma_iommu);
	assert_ptr_equal(get_dma_ops(eth), NULL);
	/* IOMMU DMA can place IOVAs anywhere: the kernel's dma_get_required_mask says 32 bits. */
	assert_int_equal(dma_get_required_mask(eth), DMA_BIT_MASK(32));
	platform_driver_unregister(&master_driver);
	assert_false(eth->dma_iommu);
}

static void an_unmanaged_domain_leaves_the_dma_api_on_the_default_domain(void **state)
{
	(void)state;
	assert_int_equal(platform_driver_register(&master_driver), 0);
	struct device *eth = swiommu_find_device(ETH);
	struct iommu_domain *dflt = iommu_get_domain_for_dev(eth);
	struct iommu_domain *own = iommu_paging_domain_alloc(eth);

	assert_false(IS_ERR(own));
	assert_int_equal(iommu_attach_device(own, eth), 0);
	assert_ptr_equal(iommu_get_domain_for_dev(eth), own);
	/* iommu_get_dma_domain(): the DMA API keeps using the group's default domain. */
	assert_true(eth->dma_iommu);
	assert_int_equal(dflt->type, IOMMU_DOMAIN_DMA);
	iommu_detach_device(own, eth);
	iommu_domain_free(own);
	platform_driver_unregister(&master_driver);
}

static int calls;
static dma_addr_t counting_map_page(struct device *dev, struct page *page, unsigned long offset, size_t size,
				    enum dma_data_direction dir, unsigned long attrs)
{
	(void)dev; (void)page; (void)offset; (void)size; (void)dir; (void)attrs;
	calls++;
	return 0x1000;
}
static const struct dma_map_ops counting_ops = { .map_page = counting_map_page };

static void iommu_dma_comes_before_installed_ops(void **state)
{
	(void)state;
	assert_int_equal(platform_driver_register(&master_driver), 0);
	struct device *eth = swiommu_find_device(ETH);
	struct page *pg = alloc_page(GFP_KERNEL);

	set_dma_ops(eth, &counting_ops);
	dma_addr_t addr = dma_map_page(eth, pg, 0, 64, DMA_TO_DEVICE);
	assert_int_equal(calls, 0);	/* use_dma_iommu() wins in dma_map_page_attrs */
	if (!dma_mapping_error(eth, addr))
		dma_unmap_page(eth, addr, 64, DMA_TO_DEVICE);
	set_dma_ops(eth, NULL);
	__free_page(pg);
	platform_driver_unregister(&master_driver);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_master_on_a_dma_domain_uses_iommu_dma, boot, shut_down),
		cmocka_unit_test_setup_teardown(an_unmanaged_domain_leaves_the_dma_api_on_the_default_domain, boot, shut_down),
		cmocka_unit_test_setup_teardown(iommu_dma_comes_before_installed_ops, boot, shut_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
