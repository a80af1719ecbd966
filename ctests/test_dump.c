// SPDX-License-Identifier: MIT
// Dumps: a domain with its counters, contexts and table; an instance's IOTLB. Bad arguments:
// test_dump_fail.c.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/iova.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <swiommu/swiommu.h>
#include "swiommu_test.h"

static char text[16384];

static void a_domain_and_its_iotlb(void **state)
{
	(void)state;
	struct device *eth = swiommu_find_device("/soc/ethernet@fe600000");
	struct iommu_domain *d = iommu_get_dma_domain(eth);
	struct page *pg = alloc_pages(GFP_KERNEL, 1);
	char expect[128], b[4];

	assert_int_equal(iommu_map(d, 0x100000, page_to_phys(pg), SZ_8K, IOMMU_READ, GFP_KERNEL), 0);
	assert_int_equal(swiommu_dma_read(eth, 0, 0x101000, b, 4), 0);
	ssize_t n = swiommu_dump_domain(d, text, sizeof(text));

	assert_true(n > 0 && n < (ssize_t)sizeof(text));
	assert_int_equal(strlen(text), n);
	assert_non_null(strstr(text, "domain Translated, pages 4K|2M|1G, aperture 0x0-0xffffffffffff\n"));
	assert_non_null(strstr(text, "counters: 1 maps (8192 bytes), 0 unmaps (0 bytes), 0 invalidations, 0 faults, 1 group(s) attached\n"));
	assert_non_null(strstr(text, "instance fd800000.iommu (arm-smmu): context "));
	assert_non_null(strstr(text, "table 0, base 0x"));
	/* snprintf semantics: a short buffer gets a truncated, terminated text and the full length. */
	char small[16];

	assert_int_equal(swiommu_dump_domain(d, small, sizeof(small)), n);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(swiommu_dump_domain(d, NULL, 0), n);

	assert_true(swiommu_dump_iotlb(eth, 0, text, sizeof(text)) > 0);
	assert_non_null(strstr(text, "iotlb fd800000.iommu (arm-smmu): 1/1024 entries, 1 lookups, 0 hits, 1 misses"));
	snprintf(expect, sizeof(expect), "iova 0x101000 -> 0x%llx size 4K r-\n", (unsigned long long)page_to_phys(pg) + SZ_4K);
	assert_non_null(strstr(text, expect));
	/* The IOMMU's own device names its instance too. */
	assert_true(swiommu_dump_iotlb(swiommu_find_device("/soc/iommu@fd800000"), 0, text, sizeof(text)) > 0);
	assert_int_equal(iommu_unmap(d, 0x100000, SZ_8K), SZ_8K);
	assert_true(swiommu_dump_domain(d, text, sizeof(text)) > 0);
	assert_non_null(strstr(text, "counters: 1 maps (8192 bytes), 1 unmaps (8192 bytes), 1 invalidations, 0 faults"));
	/* The same figures as a struct: a built-in model counts its domains always. */
	struct swiommu_domain_counters c;

	assert_int_equal(swiommu_iommu_domain_counters(d, &c), 0);
	assert_int_equal(c.maps, 1);
	assert_int_equal(c.mapped_bytes, SZ_8K);
	assert_int_equal(c.unmaps, 1);
	assert_int_equal(c.unmapped_bytes, SZ_8K);
	assert_int_equal(c.invalidations, 1);
	assert_int_equal(c.faults, 0);
	assert_int_equal(c.attached_groups, 1);
	assert_int_equal(c.by_model, 1);
	__free_pages(pg, 1);
}

static void the_iova_space_and_swiotlb(void **state)
{
	(void)state;
	struct iova_domain iovad;
	struct iova *a, *b, *c;

	assert_int_equal(iova_cache_get(), 0);
	init_iova_domain(&iovad, SZ_4K, 1);
	/* Top-down below 0x1000: a = [0xff0, 0xfff], b = [0xfe0, 0xfef], c = [0xfd0, 0xfdf]; freeing b leaves a
	 * 16-granule gap between a and c, and the space below c down to start pfn 1. */
	a = alloc_iova(&iovad, 16, 0xfff, true);
	b = alloc_iova(&iovad, 16, 0xfff, true);
	c = alloc_iova(&iovad, 16, 0xfff, true);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	__free_iova(&iovad, b);
	assert_true(swiommu_dump_iova(&iovad, text, sizeof(text)) > 0);
	assert_non_null(strstr(text, "iova domain: granule 0x1000, start pfn 0x1; 2 ranges (32 granules), 2 free gaps below "
				     "the highest (4063 granules), largest gap 4047 granules, fragmentation 1%\n"));
	assert_non_null(strstr(text, "  [0xfd0, 0xfdf] 16 granule(s)\n  [0xff0, 0xfff] 16 granule(s)\n"));
	__free_iova(&iovad, a);
	__free_iova(&iovad, c);
	put_iova_domain(&iovad);
	iova_cache_put();

	assert_true(swiommu_dump_swiotlb(text, sizeof(text)) > 0);
	assert_non_null(strstr(text, "32768 slots of 2048 bytes, 0 used (0 bytes), 0 of 256 segments in use, longest free run 128 slots"));
}

static int nop_probe(struct platform_device *pdev) { (void)pdev; return 0; }
static const struct of_device_id dma32_ids[] = { { .compatible = "swiommu,dma32-device" }, { } };
static struct platform_driver dma32_driver = { .probe = nop_probe, .driver = { .name = "dump-dma32", .of_match_table = dma32_ids } };

static void per_device_counters(void **state)
{
	(void)state;
	struct swiommu_dma_counters c;
	struct device *dev = swiommu_find_device("/soc/dma32@fe700000");

	assert_int_equal(swiommu_dma_get_counters(dev, &c), -ENODEV);	/* not bound */
	assert_int_equal(platform_driver_register(&dma32_driver), 0);
	char *buf = kmalloc(256, GFP_KERNEL);	/* above 4 GiB: the 32-bit master bounces */
	dma_addr_t a = dma_map_single(dev, buf, 256, DMA_TO_DEVICE);	/* not counted: counting is off */

	assert_false(dma_mapping_error(dev, a));
	dma_unmap_single(dev, a, 256, DMA_TO_DEVICE);
	swiommu_dma_counters_enable(true);
	a = dma_map_single(dev, buf, 256, DMA_TO_DEVICE);
	assert_false(dma_mapping_error(dev, a));
	dma_sync_single_for_device(dev, a, 256, DMA_TO_DEVICE);
	dma_unmap_single(dev, a, 256, DMA_TO_DEVICE);
	/* A scatterlist counts once, with the lengths of its entries. */
	struct scatterlist sg[2];

	sg_init_table(sg, 2);
	sg_set_buf(&sg[0], buf, 64);
	sg_set_buf(&sg[1], buf + 128, 100);
	assert_int_equal(dma_map_sg(dev, sg, 2, DMA_TO_DEVICE), 2);
	dma_unmap_sg(dev, sg, 2, DMA_TO_DEVICE);
	swiommu_dma_counters_enable(false);
	assert_int_equal(swiommu_dma_get_counters(dev, &c), 0);
	assert_int_equal(c.maps, 2);
	assert_int_equal(c.unmaps, 2);
	assert_int_equal(c.mapped_bytes, 256 + 164);
	assert_int_equal(c.unmapped_bytes, 256 + 164);
	assert_int_equal(c.syncs, 1);
	assert_int_equal(c.bounced_bytes, 256 + 164);
	assert_int_equal(c.faults, 0);
	assert_int_equal(swiommu_dma_get_counters(NULL, &c), -EINVAL);
	assert_int_equal(swiommu_dma_get_counters(dev, NULL), -EINVAL);
	kfree(buf);
	platform_driver_unregister(&dma32_driver);
}

static const struct of_device_id engine_ids[] = { { .compatible = "swiommu,dma-engine" }, { } };
static struct platform_driver engine_driver = { .probe = nop_probe, .driver = { .name = "dump-engine", .of_match_table = engine_ids } };

/* A multi-channel mapping is one map and, unmapped, one unmap, however many routes it spans (the engine's
 * eight channels: two SMMUv3 domains and the direct path). */
static void a_multi_channel_mapping_counts_once(void **state)
{
	(void)state;
	struct swiommu_dma_counters c;
	struct device *dev = swiommu_find_device("/soc/dma-controller@fe100000");
	struct page *pg = alloc_page(GFP_KERNEL);
	dma_addr_t addrs[8];

	assert_int_equal(platform_driver_register(&engine_driver), 0);
	swiommu_dma_counters_enable(true);
	assert_false(dma_mapping_error(dev, dma_map_page_attrs_multi(dev, pg, 0, 512, DMA_TO_DEVICE, 0, 0xff, addrs)));
	dma_unmap_page_attrs_multi(dev, addrs, 512, DMA_TO_DEVICE, 0, 0xff);
	swiommu_dma_counters_enable(false);
	assert_int_equal(swiommu_dma_get_counters(dev, &c), 0);
	assert_int_equal(c.maps, 1);
	assert_int_equal(c.unmaps, 1);
	assert_int_equal(c.mapped_bytes, 512);
	assert_int_equal(c.unmapped_bytes, 512);
	__free_page(pg);
	platform_driver_unregister(&engine_driver);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_domain_and_its_iotlb, boot, shut_down),
		cmocka_unit_test_setup_teardown(the_iova_space_and_swiotlb, boot, shut_down),
		cmocka_unit_test_setup_teardown(per_device_counters, boot, shut_down),
		cmocka_unit_test_setup_teardown(a_multi_channel_mapping_counts_once, boot, shut_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
