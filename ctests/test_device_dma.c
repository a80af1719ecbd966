// SPDX-License-Identifier: MIT
// The device's own DMA on the direct path: bus addresses through dma-ranges, bypass channels, coherent and
// non-coherent masters and the CPU cache model.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <linux/mm.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <swiommu/swiommu.h>
#include "swiommu_test.h"

static int probe(struct platform_device *pdev) { (void)pdev; return 0; }
static const struct of_device_id ids[] = {
	{ .compatible = "swiommu,dma32-device" }, { .compatible = "swiommu,noncoherent-device" },
	{ .compatible = "swiommu,video-codec" }, { .compatible = "swiommu,dma-engine" }, { }
};
static struct platform_driver drv = { .probe = probe, .driver = { .name = "dma-test", .of_match_table = ids } };

static void a_coherent_master_writes_what_the_cpu_reads(void **state)
{
	(void)state;
	assert_int_equal(platform_driver_register(&drv), 0);
	struct device *dev = swiommu_find_device("/soc/dma32@fe700000");
	char *buf = kzalloc(64, GFP_KERNEL | GFP_DMA);
	char back[8] = { 0 };

	assert_int_equal(swiommu_dma_write(dev, 0, virt_to_phys(buf), "hello", 6), 0);
	assert_string_equal(buf, "hello");
	strcpy(buf, "world");
	assert_int_equal(swiommu_dma_read(dev, 0, virt_to_phys(buf), back, 6), 0);
	assert_string_equal(back, "world");
	kfree(buf);
	platform_driver_unregister(&drv);
}

static void a_noncoherent_master_needs_cache_maintenance(void **state)
{
	(void)state;
	assert_int_equal(platform_driver_register(&drv), 0);
	struct device *dev = swiommu_find_device("/soc/noncoherent@fe710000");
	char *buf = kzalloc(128, GFP_KERNEL | GFP_DMA);
	phys_addr_t pa = virt_to_phys(buf);
	char back[8] = { 0 };

	assert_false(dev->dma_coherent);
	/* The device's write sits in memory; the CPU sees it only after invalidating. */
	assert_int_equal(swiommu_dma_write(dev, 0, pa, "dma", 4), 0);
	assert_string_not_equal(buf, "dma");
	assert_int_equal(swiommu_cache_invalidate(pa, 4), 0);
	assert_string_equal(buf, "dma");
	/* The CPU's write reaches the device only after a clean. */
	strcpy(buf, "cpu");
	assert_int_equal(swiommu_dma_read(dev, 0, pa, back, 4), 0);
	assert_string_equal(back, "dma");
	assert_int_equal(swiommu_cache_clean(pa, 4), 0);
	assert_int_equal(swiommu_dma_read(dev, 0, pa, back, 4), 0);
	assert_string_equal(back, "cpu");
	kfree(buf);
	platform_driver_unregister(&drv);
}

static void dma_ranges_translate_bus_addresses(void **state)
{
	(void)state;
	assert_int_equal(platform_driver_register(&drv), 0);
	/* The codec's bus sees CPU 0x80000000 at bus address 0 (examples/boards/default.dts). Its SYSMMUs have no
	 * driver (booted without the built-in models), so it carries on without them and its DMA is direct. */
	struct device *codec = swiommu_find_device("/soc/codec-bus/codec@fe400000");
	struct page *pg = alloc_page(GFP_DMA32);
	phys_addr_t pa = page_to_phys(pg);

	assert_true(pa >= 0x80000000 && pa < 0x90000000);
	assert_int_equal(swiommu_dma_write(codec, 1, pa - 0x80000000, "mfc", 4), 0);
	assert_int_equal(swiommu_cache_invalidate(pa, 4), 0);	/* the codec is not coherent */
	assert_string_equal((char *)page_address(pg), "mfc");
	__free_page(pg);
	platform_driver_unregister(&drv);
}

static void bypass_channels_use_bus_addresses(void **state)
{
	(void)state;
	assert_int_equal(platform_driver_register(&drv), 0);
	struct device *dmac = swiommu_find_device("/soc/dma-controller@fe100000");
	char *buf = kzalloc(16, GFP_KERNEL);

	/* Channel 6 is a null "iommus" entry: it bypasses translation. */
	assert_int_equal(swiommu_dma_write(dmac, 6, virt_to_phys(buf), "ch6", 4), 0);
	assert_string_equal(buf, "ch6");
	kfree(buf);
	platform_driver_unregister(&drv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_coherent_master_writes_what_the_cpu_reads, boot, shut_down),
		cmocka_unit_test_setup_teardown(a_noncoherent_master_needs_cache_maintenance, boot, shut_down),
		cmocka_unit_test_setup_teardown(dma_ranges_translate_bus_addresses, boot_without_iommu_drivers, shut_down),
		cmocka_unit_test_setup_teardown(bypass_channels_use_bus_addresses, boot, shut_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
