/* SPDX-License-Identifier: MIT */
/* Fixtures of the dma-iommu suites (test_dma_iommu.c and its _fail twin): the masters of the default board
 * they use, a driver that binds them, and a reboot on a board that includes the default one. */
#ifndef SWIOMMU_CTESTS_TEST_DMA_IOMMU_H
#define SWIOMMU_CTESTS_TEST_DMA_IOMMU_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <linux/platform_device.h>
#include <swiommu/swiommu.h>
#include "swiommu_test.h"

#define ETH	"/soc/ethernet@fe600000"
#define ENGINE	"/soc/dma-controller@fe100000"
#define CODEC	"/soc/codec-bus/codec@fe400000"
#define DISPLAY	"/soc/display@fe200000"
#define NIC	"0000:00:00.0"

/* No probe: binding alone sets the masters' DMA up (the driver core's dma_configure), as in the kernel. */
static const struct of_device_id master_ids[] = {
	{ .compatible = "swiommu,ethernet" }, { .compatible = "swiommu,dma-engine" },
	{ .compatible = "swiommu,video-codec" }, { .compatible = "swiommu,display" }, { .compatible = "swiommu,gpu" },
	{ .compatible = "swiommu,pci-nic" }, { }
};
static struct platform_driver master_driver = {
	.driver = { .name = "dma-iommu-test-master", .of_match_table = master_ids },
};

/* Per test: the default board (or one that includes it), the test driver bound to the masters. */
static int setup(void **state)
{
	int ret = boot(state);

	return ret ? ret : platform_driver_register(&master_driver);
}

static int teardown(void **state)
{
	platform_driver_unregister(&master_driver);
	return shut_down(state);
}

/* Reboot on the default board with an overlay after it (a .dts that includes it), the driver bound again. */
static void reboot_with(const char *overlay)
{
	char path[] = "/tmp/swiommu-dma-iommu-XXXXXX.dts";
	int fd = mkstemps(path, 4);

	assert_true(fd >= 0);
	dprintf(fd, "/include/ \"%s/examples/boards/default.dts\"\n%s\n", SWIOMMU_SOURCE_DIR, overlay);
	close(fd);
	platform_driver_unregister(&master_driver);
	swiommu_exit();
	swiommu_warn_reset();
	swiommu_log_reset();
	assert_int_equal(swiommu_init(path), 0);
	unlink(path);
	assert_int_equal(platform_driver_register(&master_driver), 0);
}

#endif /* SWIOMMU_CTESTS_TEST_DMA_IOMMU_H */
