// SPDX-License-Identifier: MIT
// make bench: the DMA API as drivers call it, on the direct path of the default board (dma-debug and tracing
// off: issue 8 adds them). dma-direct map + unmap of a reachable buffer, a 4 KiB swiotlb bounce round trip
// for the 32-bit-only master, and dma_map_sg of 64 scattered pages (the 3 us target is for the IOMMU
// path; this is the direct path's figure, reported without a target).
#include <linux/dma-mapping.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <swiommu/swiommu.h>
#include "bench.h"

static struct device *dev;
static struct page *pg;
static char *high;
static struct scatterlist sgl[64];

static void direct_map_unmap(long n)
{
	for (long i = 0; i < n; i++) {
		dma_addr_t a = dma_map_page(dev, pg, 0, PAGE_SIZE, DMA_TO_DEVICE);

		dma_unmap_page(dev, a, PAGE_SIZE, DMA_TO_DEVICE);
	}
}

static void bounce_round_trip(long n)
{
	for (long i = 0; i < n; i++) {
		dma_addr_t a = dma_map_single(dev, high, 4096, DMA_BIDIRECTIONAL);

		dma_unmap_single(dev, a, 4096, DMA_BIDIRECTIONAL);
	}
}

static void map_sg_64(long n)
{
	for (long i = 0; i < n; i++) {
		int ents = dma_map_sg(dev, sgl, 64, DMA_TO_DEVICE);

		dma_unmap_sg(dev, sgl, ents, DMA_TO_DEVICE);
	}
}

static int probe(struct platform_device *pdev) { (void)pdev; return 0; }
static const struct of_device_id ids[] = { { .compatible = "swiommu,dma32-device" }, { } };
static struct platform_driver drv = { .probe = probe, .driver = { .name = "bench-dma", .of_match_table = ids } };

static void run(void)
{
	struct page *pages[64];
	int i;

	if (platform_driver_register(&drv))
		return;
	dev = swiommu_find_device("/soc/dma32@fe700000");
	pg = alloc_page(GFP_DMA32);
	high = kmalloc(4096, GFP_KERNEL);	/* above 4 GiB: bounces for the 32-bit mask */
	bench_report("dma_map_page + dma_unmap_page 4 KiB, dma-direct, no bounce",
		     bench_median_ns(direct_map_unmap, 2000000), "ns/pair", 25, false);
	bench_report("dma_map_single + dma_unmap_single 4 KiB, swiotlb bounce",
		     bench_median_ns(bounce_round_trip, 200000), "ns/pair", 600, false);

	/* 64 scattered pages (every other page of an order-7 block: none merge), on a 64-bit mask. */
	struct page *block = alloc_pages(GFP_KERNEL, 7);
	sg_init_table(sgl, 64);
	for (i = 0; i < 64; i++) {
		pages[i] = block + 2 * i;
		sg_set_page(&sgl[i], pages[i], PAGE_SIZE, 0);
	}
	dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
	bench_report("dma_map_sg + dma_unmap_sg, 64 scattered 4 KiB pages, dma-direct",
		     bench_median_ns(map_sg_64, 20000), "ns/pair", 0, false);
	__free_pages(block, 7);
	kfree(high);
	__free_page(pg);
	platform_driver_unregister(&drv);
}
BENCH_SUITE(dma, run)
