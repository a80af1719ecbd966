// SPDX-License-Identifier: MIT
// make bench: what dma-debug costs. dma_map_page + dma_mapping_error + dma_unmap_page of 4 KiB on dma-direct
// (the 32-bit master, no bounce), with dma-debug off (as every other suite runs: bench.c boots so) and on.
// DMA_TO_DEVICE entries keep a checksum of the CPU's view of the buffer (swiommu's checks); DMA_FROM_DEVICE
// ones go into the active-cacheline table instead. For the "on" figures the machine is rebooted with
// dma-debug on, then again with it off for the suites that follow.
#include <linux/dma-mapping.h>
#include <linux/platform_device.h>
#include <stdio.h>
#include <swiommu/swiommu.h>
#include "bench.h"

static struct device *dev;
static struct page *pg;

static void map_unmap(long n, enum dma_data_direction dir)
{
	for (long i = 0; i < n; i++) {
		dma_addr_t a = dma_map_page(dev, pg, 0, PAGE_SIZE, dir);

		if (dma_mapping_error(dev, a))
			return;
		dma_unmap_page(dev, a, PAGE_SIZE, dir);
	}
}

static void to_device(long n) { map_unmap(n, DMA_TO_DEVICE); }
static void from_device(long n) { map_unmap(n, DMA_FROM_DEVICE); }

static int probe(struct platform_device *pdev) { (void)pdev; return 0; }
static const struct of_device_id ids[] = { { .compatible = "swiommu,dma32-device" }, { } };
static struct platform_driver drv = {
	.probe = probe, .driver = { .name = "bench-dma-debug", .of_match_table = ids },
};

/* bench_report() keeps the names: literals. */
static void measure(const char *to_device_name, const char *from_device_name)
{
	if (platform_driver_register(&drv))
		return;
	dev = swiommu_find_device("/soc/dma32@fe700000");
	pg = alloc_page(GFP_DMA32);
	bench_report(to_device_name, bench_median_ns(to_device, 1000000), "ns/pair", 0, false);
	bench_report(from_device_name, bench_median_ns(from_device, 1000000), "ns/pair", 0, false);
	__free_page(pg);
	platform_driver_unregister(&drv);
}

static bool reboot(bool debug)
{
	swiommu_exit();
	if (swiommu_dma_debug_enable(debug) || swiommu_init(NULL)) {
		fprintf(stderr, "bench_dma_debug: cannot reboot with dma-debug %s\n", debug ? "on" : "off");
		return false;
	}
	return true;
}

static void run(void)
{
	if (swiommu_dma_debug_enabled()) {
		fprintf(stderr, "bench_dma_debug: the benchmarks should boot with dma-debug off\n");
		return;
	}
	measure("map + mapping_error + unmap 4 KiB TO_DEVICE, dma-debug off",
		"map + mapping_error + unmap 4 KiB FROM_DEVICE, dma-debug off");
	if (!reboot(true))
		return;
	measure("map + mapping_error + unmap 4 KiB TO_DEVICE, dma-debug on",
		"map + mapping_error + unmap 4 KiB FROM_DEVICE, dma-debug on");
	if (swiommu_dma_debug_errors())
		fprintf(stderr, "bench_dma_debug: dma-debug found %lu errors: %s\n", swiommu_dma_debug_errors(),
			swiommu_dma_debug_last());
	reboot(false);
}
BENCH_SUITE(dma_debug, run)
