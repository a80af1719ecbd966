// SPDX-License-Identifier: MIT
// The device's own DMA, error paths: bad devices and channels, addresses that are not RAM, outside
// dma-ranges, calls while the machine is down.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/platform_device.h>
#include <swiommu/swiommu.h>
#include "swiommu_test.h"

static int probe(struct platform_device *pdev) { (void)pdev; return 0; }
static const struct of_device_id ids[] = { { .compatible = "swiommu,dma32-device" }, { .compatible = "swiommu,video-codec" }, { } };
static struct platform_driver drv = { .probe = probe, .driver = { .name = "dma-fail", .of_match_table = ids } };

static void bad_devices_and_channels(void **state)
{
	(void)state;
	char b[4];
	struct device *dev = swiommu_find_device("/soc/dma32@fe700000");

	assert_int_equal(swiommu_dma_write(NULL, 0, 0x80000000, "x", 1), -EINVAL);
	assert_int_equal(swiommu_dma_read(ERR_PTR(-ENODEV), 0, 0x80000000, b, 1), -EINVAL);
	assert_int_equal(swiommu_dma_read(dev, 0, 0x80000000, NULL, 1), -EINVAL);
	assert_int_equal(swiommu_dma_write(dev, 1, 0x80000000, "x", 1), -EINVAL);
	assert_true(swiommu_log_contains("no channel 1 (the device has 1)"));
	assert_int_equal(swiommu_dma_faults(NULL), 0);
}

static void addresses_that_are_not_ram(void **state)
{
	(void)state;
	assert_int_equal(platform_driver_register(&drv), 0);
	struct device *dev = swiommu_find_device("/soc/dma32@fe700000");
	struct device *codec = swiommu_find_device("/soc/codec-bus/codec@fe400000");
	char b[4];

	assert_int_equal(swiommu_dma_write(dev, 0, 0x1000, "x", 1), -EFAULT);
	assert_true(swiommu_log_contains("bus address 0x1000 -> 0x1000 is not RAM"));
	/* Past the codec's 256 MiB window there is no translation at all. */
	assert_int_equal(swiommu_dma_read(codec, 0, 0x10000000, b, 4), -EFAULT);
	assert_true(swiommu_log_contains("bus address 0x10000000 is outside the device's dma-ranges"));
	assert_int_equal(swiommu_dma_faults(dev), 1);
	assert_int_equal(swiommu_dma_faults(codec), 1);
	platform_driver_unregister(&drv);
}

static void calls_while_the_machine_is_down(void **state)
{
	(void)state;
	assert_int_equal(swiommu_dma_write(NULL, 0, 0, "x", 1), -ENODEV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(bad_devices_and_channels, boot, shut_down),
		cmocka_unit_test_setup_teardown(addresses_that_are_not_ram, boot_without_iommu_drivers, shut_down),
		cmocka_unit_test(calls_while_the_machine_is_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
