/* SPDX-License-Identifier: MIT */
/* Fixtures the DMA suites share: a driver bound to the default board's direct-path masters (so of_dma_configure
 * runs for them), and reboots with other bootargs (a .dts that includes the default board). */
#ifndef SWIOMMU_CTESTS_DMA_TEST_H
#define SWIOMMU_CTESTS_DMA_TEST_H

#include <stdio.h>
#include <unistd.h>
#include <linux/platform_device.h>
#include <swiommu/swiommu.h>
#include "swiommu_test.h"

#define DMA32_PATH	"/soc/dma32@fe700000"
#define NONCOH_PATH	"/soc/noncoherent@fe710000"
#define CODEC_PATH	"/soc/codec-bus/codec@fe400000"
#define ENGINE_PATH	"/soc/dma-controller@fe100000"

static inline int dma_test_probe(struct platform_device *pdev) { (void)pdev; return 0; }

static const struct of_device_id dma_test_ids[] = {
	{ .compatible = "swiommu,dma32-device" }, { .compatible = "swiommu,noncoherent-device" },
	{ .compatible = "swiommu,video-codec" }, { .compatible = "swiommu,dma-engine" }, { }
};

static struct platform_driver dma_test_driver = {
	.probe = dma_test_probe,
	.driver = { .name = "dma-test", .of_match_table = dma_test_ids },
};

/* Setup: a fresh default board with the test driver bound. */
static inline int boot_and_bind(void **state)
{
	int ret = boot(state);

	return ret ? ret : platform_driver_register(&dma_test_driver);
}

/* Setup: the default board without IOMMU drivers (the codec and the DMA engine then go direct), the test
 * driver bound. */
static inline int boot_without_iommu_drivers_and_bind(void **state)
{
	int ret = boot_without_iommu_drivers(state);

	return ret ? ret : platform_driver_register(&dma_test_driver);
}

/* Teardown: unbind, take the machine down. */
static inline int unbind_and_shut_down(void **state)
{
	platform_driver_unregister(&dma_test_driver);
	return shut_down(state);
}

/* Replace the machine by the default board with @bootargs instead of its own (and without its
 * swiommu,swiotlb-size, so "swiotlb=" counts), the test driver bound. Returns swiommu_init()'s result. */
static inline int reboot_with_bootargs(const char *bootargs, bool bound)
{
	char path[] = "/tmp/swiommu-dma-test-XXXXXX.dts";
	int fd = mkstemps(path, 4), ret;

	if (fd < 0)
		return -1;
	dprintf(fd, "/include/ \"%s/examples/boards/default.dts\"\n"
		"/ { chosen { bootargs = \"%s\"; /delete-property/ swiommu,swiotlb-size; }; };\n",
		SWIOMMU_SOURCE_DIR, bootargs);
	close(fd);
	if (bound)
		platform_driver_unregister(&dma_test_driver);
	swiommu_exit();
	swiommu_warn_reset();
	swiommu_log_reset();
	ret = swiommu_init(path);
	unlink(path);
	return ret ? ret : platform_driver_register(&dma_test_driver);
}

#endif /* SWIOMMU_CTESTS_DMA_TEST_H */
