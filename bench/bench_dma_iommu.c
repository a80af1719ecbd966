// SPDX-License-Identifier: MIT
// make bench: the DMA API through an IOMMU (dma-iommu) on the built-in SMMU-like model (the DMA engine behind
// "arm,smmu-v3"): dma_map_page + dma_unmap_page of 4 KiB strict and lazy, dma_map_sg of 64 scattered pages
// + unmap, and the device reading a 64 MiB buffer mapped with 4 KiB pages through the model (IOTLB misses
// and walks included). For scale: iommu_map + iommu_unmap of 4 KiB on the same domain (the IOMMU core and the
// model alone), and the pair through the example C driver (the ethernet master: the bench links it, so it
// drives the MMU-500). The lazy figures boot a board that includes the default one with
// "swiommu,iommu-strict = <0>"; the default board is up again afterwards for the suites that follow.
#define _GNU_SOURCE
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <swiommu/swiommu.h>
#include "bench.h"

#define ENGINE	"/soc/dma-controller@fe100000"
#define SG_PAGES	64
#define BIG	(64UL << 20)

#define ETH	"/soc/ethernet@fe600000"

static int probe(struct platform_device *pdev) { (void)pdev; return 0; }
static const struct of_device_id ids[] = { { .compatible = "swiommu,dma-engine" }, { .compatible = "swiommu,ethernet" }, { } };
static struct platform_driver master = {
	.probe = probe, .driver = { .name = "bench-dma-iommu", .of_match_table = ids },
};

static struct device *dev;
static struct page *page;
static struct scatterlist sg[SG_PAGES];
static struct page *sg_blocks[SG_PAGES];
static struct sg_table big;
static void *big_buf;
static dma_addr_t big_iova;

static void map_unmap_page(long n)
{
	for (long i = 0; i < n; i++) {
		dma_addr_t a = dma_map_page(dev, page, 0, SZ_4K, DMA_TO_DEVICE);

		dma_unmap_page(dev, a, SZ_4K, DMA_TO_DEVICE);
	}
}

/* Behind the DMA API's back, far below its IOVAs (which come top-down from 4 GiB). */
static void iommu_map_unmap(long n)
{
	struct iommu_domain *d = iommu_get_domain_for_dev(dev);

	for (long i = 0; i < n; i++) {
		iommu_map(d, 0x1000000, page_to_phys(page), SZ_4K, IOMMU_READ, GFP_ATOMIC);
		iommu_unmap(d, 0x1000000, SZ_4K);
	}
}

static void map_unmap_page_eth(long n)
{
	struct device *eth = swiommu_find_device(ETH);

	for (long i = 0; i < n; i++) {
		dma_addr_t a = dma_map_page(eth, page, 0, SZ_4K, DMA_TO_DEVICE);

		dma_unmap_page(eth, a, SZ_4K, DMA_TO_DEVICE);
	}
}

static void map_unmap_sg_on(struct device *d, long n)
{
	for (long i = 0; i < n; i++) {
		if (dma_map_sg(d, sg, SG_PAGES, DMA_TO_DEVICE) == 0)
			abort();
		dma_unmap_sg(d, sg, SG_PAGES, DMA_TO_DEVICE);
	}
}

static void map_unmap_sg(long n) { map_unmap_sg_on(dev, n); }
static void map_unmap_sg_eth(long n) { map_unmap_sg_on(swiommu_find_device(ETH), n); }

static void read_big(long n)
{
	for (long i = 0; i < n; i++)
		if (swiommu_dma_read(dev, 0, big_iova, big_buf, BIG))
			abort();
}

/* Scattered pages: the first page of each order-1 block, so that no two are physically adjacent. */
static void make_sg(void)
{
	sg_init_table(sg, SG_PAGES);
	for (int i = 0; i < SG_PAGES; i++) {
		sg_blocks[i] = alloc_pages(GFP_KERNEL, 1);
		sg_set_page(&sg[i], sg_blocks[i], SZ_4K, 0);
	}
}

static void free_sg(void)
{
	for (int i = 0; i < SG_PAGES; i++)
		__free_pages(sg_blocks[i], 1);
}

static bool map_big(void)
{
	struct scatterlist *s;
	unsigned int i;

	if (sg_alloc_table(&big, BIG / SZ_4K, GFP_KERNEL))
		return false;
	for_each_sgtable_sg(&big, s, i)
		sg_set_page(s, alloc_pages(GFP_KERNEL, 1), SZ_4K, 0);
	big_buf = malloc(BIG);
	/* One IOVA range (in 64 KiB DMA segments, the default maximum segment size). */
	if (!big_buf || dma_map_sgtable(dev, &big, DMA_TO_DEVICE, 0)) {
		for_each_sgtable_sg(&big, s, i)
			__free_pages(sg_page(s), 1);
		sg_free_table(&big);
		free(big_buf);
		return false;
	}
	big_iova = sg_dma_address(big.sgl);
	return true;
}

static void unmap_big(void)
{
	struct scatterlist *s;
	unsigned int i;

	dma_unmap_sgtable(dev, &big, DMA_TO_DEVICE, 0);
	for_each_sgtable_sg(&big, s, i)
		__free_pages(sg_page(s), 1);
	sg_free_table(&big);
	free(big_buf);
}

static bool bind(void)
{
	if (platform_driver_register(&master))
		return false;
	dev = swiommu_find_device(ENGINE);
	page = alloc_page(GFP_KERNEL);
	return dev && dev->dma_iommu && page;
}

static void unbind(void)
{
	__free_page(page);
	platform_driver_unregister(&master);
}

/* Boot again, on `board` (NULL: the default one); false when it does not come up. The machine going down
 * must not leak, as bench.c checks for the last one. */
static bool reboot(const char *board)
{
	swiommu_log_reset();
	swiommu_exit();
	if (swiommu_log_contains("allocation(s) leaked")) {
		fprintf(stderr, "bench_dma_iommu leaked: %s\n", swiommu_log_last());
		exit(1);
	}
	return swiommu_init(board) == 0;
}

/* The figures of one mode ("strict" or "lazy") on the machine that is up; the device read once. */
static void figures(const char *mode, double page_target, double sg_target, bool read)
{
	char name[96];

	snprintf(name, sizeof(name), "dma_map_page + dma_unmap_page 4 KiB, smmu-v3 model, %s", mode);
	bench_report(strdup(name), bench_median_ns(map_unmap_page, 200000), "ns/pair", page_target, false);
	if (read)
		bench_report("  for scale: iommu_map + iommu_unmap 4 KiB, same domain",
			     bench_median_ns(iommu_map_unmap, 200000), "ns/pair", 0, false);
	snprintf(name, sizeof(name), "  for scale: the pair through the example C driver, %s", mode);
	bench_report(strdup(name), bench_median_ns(map_unmap_page_eth, 200000), "ns/pair", 0, false);
	make_sg();
	snprintf(name, sizeof(name), "dma_map_sg 64 scattered 4 KiB pages + unmap, %s", mode);
	bench_report(strdup(name), bench_median_ns(map_unmap_sg, 20000), "ns", sg_target, false);
	snprintf(name, sizeof(name), "  for scale: the same through the example C driver, %s", mode);
	bench_report(strdup(name), bench_median_ns(map_unmap_sg_eth, 20000), "ns", 0, false);
	if (read && map_big()) {
		double ns = bench_median_ns(read_big, 3);

		bench_report("device DMA read of 64 MiB mapped with 4 KiB pages", (double)BIG / ns, "GB/s", 4, true);
		unmap_big();
	}
	free_sg();
}

static void run(void)
{
	if (!bind())
		return;
	figures("strict", 120, 3000, true);
	unbind();

	/* Lazy: a board that includes the default one, with the flush queue on. */
	char src[] = __FILE__, path[] = "/tmp/swiommu-bench-lazy-XXXXXX.dts";
	int fd = mkstemps(path, 4);

	if (fd < 0)
		return;
	dprintf(fd, "/include/ \"%s/../examples/boards/default.dts\"\n/ { chosen { swiommu,iommu-strict = <0>; }; };\n",
		dirname(src));
	close(fd);
	bool up = reboot(path);

	unlink(path);
	if (up && bind() && iommu_get_domain_for_dev(dev)->type == IOMMU_DOMAIN_DMA_FQ) {
		figures("lazy", 80, 0, false);
		unbind();
	}
	if (!reboot(NULL))
		fprintf(stderr, "bench_dma_iommu: the default board did not boot again\n");
}
BENCH_SUITE(dma_iommu, run)
