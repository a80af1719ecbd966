// SPDX-License-Identifier: MIT
// Error paths of the DMA API through an IOMMU: IOMMU DMA and set_dma_ops() ops together (dma_supported's
// WARN), calls after unbind, a bad direction; IOVA space exhausted by a small mask and by fault injection
// ("iova"), a failing page-table allocation in iommu_map ("alloc_pages"), map_sg's restored list, unmapping
// what is not mapped or with the wrong size, swiotlb full or absent for a bounce, dma-ranges outside the
// aperture (the device keeps dma-direct), allocations that fail without leaking.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/dma-mapping.h>
#include <linux/dma-map-ops.h>
#include <linux/iommu.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <swiommu/swiommu.h>
#include "test_dma_iommu.h"

static const struct dma_map_ops empty_ops;

static u64 free_bytes(void)
{
	struct swiommu_mem_stats s;

	assert_int_equal(swiommu_mem_get_stats(&s), 0);
	return s.free_bytes;
}

static void iommu_dma_and_installed_ops_refuse_a_mask(void **state)
{
	(void)state;
	struct device *eth = swiommu_find_device(ETH);

	set_dma_ops(eth, &empty_ops);
	assert_int_equal(dma_set_mask(eth, DMA_BIT_MASK(64)), -EIO);
	assert_int_equal(swiommu_warn_count(), 1);
	assert_non_null(strstr(swiommu_warn_last(), "IOMMU DMA and dma_map_ops both installed"));
	set_dma_ops(eth, NULL);
	assert_int_equal(dma_set_mask(eth, DMA_BIT_MASK(64)), 0);
}

static void a_bad_direction_is_a_warn_not_a_bug(void **state)
{
	(void)state;
	struct device *eth = swiommu_find_device(ETH);
	struct page *pg = alloc_page(GFP_KERNEL);

	assert_int_equal(dma_map_page(eth, pg, 0, 64, DMA_NONE), DMA_MAPPING_ERROR);
	assert_int_equal(swiommu_warn_count(), 1);
	assert_non_null(strstr(swiommu_warn_last(), "invalid DMA direction 3"));
	__free_page(pg);
}

static void after_unbind_the_master_is_back_on_dma_direct(void **state)
{
	(void)state;
	struct device *eth = swiommu_find_device(ETH);

	assert_true(eth->dma_iommu);
	platform_driver_unregister(&master_driver);
	assert_false(eth->dma_iommu);
	assert_null(eth->swiommu_dma);
	/* A (buggy) call after unbind takes dma-direct, as with no IOMMU set-up: no crash, no WARN. */
	char *buf = kmalloc(64, GFP_KERNEL | GFP_DMA);
	dma_addr_t addr = dma_map_single(eth, buf, 64, DMA_TO_DEVICE);
	assert_int_equal(dma_mapping_error(eth, addr), 0);
	assert_int_equal(addr, virt_to_phys(buf));
	dma_unmap_single(eth, addr, 64, DMA_TO_DEVICE);
	assert_int_equal(swiommu_warn_count(), 0);
	kfree(buf);
	assert_int_equal(platform_driver_register(&master_driver), 0);
}

static void a_small_mask_runs_out_of_iova_space(void **state)
{
	(void)state;
	struct device *eth = swiommu_find_device(ETH);
	struct page *pg = alloc_page(GFP_KERNEL);

	/* 13 bits: granule 1 is the only IOVA (0 never is). */
	assert_int_equal(dma_set_mask(eth, DMA_BIT_MASK(13)), 0);
	dma_addr_t a = dma_map_page(eth, pg, 0x80, 64, DMA_TO_DEVICE);
	assert_int_equal(a, 0x1080);
	dma_addr_t b = dma_map_page(eth, pg, 0, 64, DMA_TO_DEVICE);
	assert_int_equal(b, DMA_MAPPING_ERROR);
	assert_int_equal(dma_mapping_error(eth, b), -ENOMEM);
	/* Kernel behaviour: no WARN, no log line; the caller sees the error. */
	assert_int_equal(swiommu_warn_count(), 0);
	dma_unmap_page(eth, a, 64, DMA_TO_DEVICE);
	b = dma_map_page(eth, pg, 0, 64, DMA_TO_DEVICE);
	assert_int_equal(b, 0x1000);
	dma_unmap_page(eth, b, 64, DMA_TO_DEVICE);
	__free_page(pg);
}

static void injected_iova_failures_fail_the_mapping(void **state)
{
	(void)state;
	struct device *eth = swiommu_find_device(ETH);
	struct page *p[2] = { alloc_page(GFP_KERNEL), alloc_page(GFP_KERNEL) };
	struct scatterlist sg[2];
	struct sg_table sgt = { .sgl = sg, .nents = 2, .orig_nents = 2 };

	assert_int_equal(swiommu_fail_nth("iova", 1), 0);
	assert_int_equal(dma_map_page(eth, p[0], 0, 64, DMA_TO_DEVICE), DMA_MAPPING_ERROR);
	/* map_sg: -ENOMEM, and the list as the driver built it, its DMA fields invalidated. */
	sg_init_table(sg, 2);
	sg_set_page(&sg[0], p[0], 100, 200);
	sg_set_page(&sg[1], p[1], PAGE_SIZE, 0);
	assert_int_equal(swiommu_fail_nth("iova", 1), 0);
	assert_int_equal(dma_map_sgtable(eth, &sgt, DMA_TO_DEVICE, 0), -ENOMEM);
	assert_int_equal(sg[0].offset, 200);
	assert_int_equal(sg[0].length, 100);
	assert_int_equal(sg[1].length, PAGE_SIZE);
	assert_int_equal(sg_dma_address(&sg[0]), DMA_MAPPING_ERROR);
	assert_int_equal(sg_dma_len(&sg[0]), 0);
	assert_int_equal(sg_dma_len(&sg[1]), 0);
	assert_int_equal(swiommu_fail_nth("iova", 1), 0);
	assert_int_equal(dma_map_sg(eth, sg, 2, DMA_TO_DEVICE), 0);
	/* With nothing armed, the same list maps. */
	assert_int_equal(dma_map_sg(eth, sg, 2, DMA_TO_DEVICE), 2);
	assert_int_equal(sg_dma_address(&sg[0]), 0xffffe000 + 200);
	dma_unmap_sg(eth, sg, 2, DMA_TO_DEVICE);
	assert_int_equal(swiommu_warn_count(), 0);
	__free_page(p[0]);
	__free_page(p[1]);
}

static void a_failing_page_table_allocation_gives_the_iova_back(void **state)
{
	(void)state;
	struct device *eth = swiommu_find_device(ETH);
	struct page *pg = alloc_page(GFP_KERNEL);
	struct scatterlist sg[1];

	/* The domain has no table below its top level yet: iommu_map needs a page and does not get it. */
	assert_int_equal(swiommu_fail_nth("alloc_pages", 1), 0);
	assert_int_equal(dma_map_page(eth, pg, 0, 64, DMA_TO_DEVICE), DMA_MAPPING_ERROR);
	dma_addr_t a = dma_map_page(eth, pg, 0, 64, DMA_TO_DEVICE);
	assert_int_equal(a, 0xfffff000);	/* the same IOVA: it went back to the allocator */
	dma_unmap_page(eth, a, 64, DMA_TO_DEVICE);
	/* map_sg passes iommu_map_sg's -ENOMEM through (other errors become -EINVAL). Two granules (the rcache
	 * holds one of a single granule) under a 40-bit mask: a part of the table not built yet. */
	struct page *two = alloc_pages(GFP_KERNEL, 1);
	sg_init_table(sg, 1);
	sg_set_page(sg, two, 2 * PAGE_SIZE, 0);
	struct sg_table sgt = { .sgl = sg, .nents = 1, .orig_nents = 1 };
	assert_int_equal(dma_set_mask(eth, DMA_BIT_MASK(40)), 0);
	assert_int_equal(swiommu_fail_nth("alloc_pages", 1), 0);
	assert_int_equal(dma_map_sgtable(eth, &sgt, DMA_TO_DEVICE, 0), -ENOMEM);
	assert_int_equal(sg[0].length, 2 * PAGE_SIZE);
	assert_int_equal(dma_map_sgtable(eth, &sgt, DMA_TO_DEVICE, 0), 0);
	assert_int_equal(sg_dma_address(sg), 0xffffffe000ULL);
	dma_unmap_sgtable(eth, &sgt, DMA_TO_DEVICE, 0);
	__free_pages(two, 1);
	__free_page(pg);
}

static void unmapping_what_is_not_mapped_warns(void **state)
{
	(void)state;
	struct device *eth = swiommu_find_device(ETH);
	struct page *pg = alloc_page(GFP_KERNEL);

	/* Nothing at that IOVA: the kernel's WARN_ON(!phys), then nothing is done. */
	dma_unmap_page(eth, 0x12345000, 64, DMA_TO_DEVICE);
	assert_true(swiommu_log_contains("nothing is mapped at IOVA 0x12345000"));
	/* Then dma-debug's report, as the kernel's. */
	assert_int_equal(swiommu_warn_count(), 2);
	assert_string_equal(swiommu_dma_debug_last(), "DMA-API: dma-iommu-test-master fe600000.ethernet: device driver "
			    "tries to free DMA memory it has not allocated [device address=0x0000000012345000] [size=64 bytes]");
	/* A size larger than the mapping: io-pgtable's WARN for the granule not mapped, __iommu_dma_unmap's
	 * WARN_ON(unmapped != size), and the IOVA allocator's refusal to cache a range of the wrong size (it goes
	 * back to the tree). */
	dma_addr_t a = dma_map_page(eth, pg, 0, 64, DMA_TO_DEVICE);
	assert_int_equal(dma_mapping_error(eth, a), 0);
	swiommu_warn_reset();
	dma_unmap_page(eth, a, 2 * PAGE_SIZE, DMA_TO_DEVICE);
	/* The three, then dma-debug's (as the kernel's). */
	assert_int_equal(swiommu_warn_count(), 4);
	assert_non_null(strstr(swiommu_dma_debug_last(), "device driver frees DMA memory with different size "
			       "[device address=0x00000000fffff000] [map size=64 bytes] [unmap size=8192 bytes]"));
	assert_true(swiommu_log_contains("__iommu_dma_unmap: unmapped 0x1000 of 0x2000 bytes at IOVA 0xfffff000"));
	assert_int_equal(iommu_iova_to_phys(iommu_get_domain_for_dev(eth), a), 0);
	/* The IOVA is free again. */
	a = dma_map_page(eth, pg, 0, 64, DMA_TO_DEVICE);
	assert_int_equal(a, 0xfffff000);
	dma_unmap_page(eth, a, 64, DMA_TO_DEVICE);
	__free_page(pg);
}

static void a_bounce_without_room_fails(void **state)
{
	(void)state;
	struct device *disp = swiommu_find_device(DISPLAY);
	char *buf = kmalloc(64, GFP_KERNEL);

	assert_int_equal(swiommu_fail_nth("swiotlb", 1), 0);
	assert_int_equal(dma_map_single(disp, buf, 64, DMA_TO_DEVICE), DMA_MAPPING_ERROR);
	assert_true(swiommu_log_contains("swiotlb buffer is full (sz: 16384 bytes)"));
	/* The IOVA was never taken: the next bounce gets the first one. */
	dma_addr_t a = dma_map_single(disp, buf, 64, DMA_TO_DEVICE);
	assert_int_equal(a, 0xffffc000);
	dma_unmap_single(disp, a, 64, DMA_TO_DEVICE);
	kfree(buf);
}

static void a_bounce_without_swiotlb_fails(void **state)
{
	(void)state;
	reboot_with("/ { chosen { bootargs = \"swiotlb=noforce\"; }; };");
	struct device *disp = swiommu_find_device(DISPLAY);
	char *buf = kmalloc(64, GFP_KERNEL);
	struct page *pg = alloc_pages(GFP_KERNEL, 2);

	assert_int_equal(dma_map_single(disp, buf, 64, DMA_TO_DEVICE), DMA_MAPPING_ERROR);
	assert_true(swiommu_log_contains("DMA bounce buffers are inactive, unable to map unaligned transaction."));
	assert_int_equal(swiommu_warn_count(), 0);	/* dev_warn_once: a log line, no WARN */
	/* Whole granules need no bounce. */
	dma_addr_t a = dma_map_page(disp, pg, 0, SZ_16K, DMA_TO_DEVICE);
	assert_false(dma_mapping_error(disp, a));
	dma_unmap_page(disp, a, SZ_16K, DMA_TO_DEVICE);
	__free_pages(pg, 2);
	kfree(buf);
}

static void dma_ranges_outside_the_aperture_keep_dma_direct(void **state)
{
	(void)state;
	/* The codec's bus addresses above 4 GiB, beyond its SysMMU's 32-bit aperture. */
	reboot_with("&{/soc/codec-bus} { dma-ranges = <0x1 0x0 0x0 0x80000000 0x0 0x10000000>; };");
	struct device *codec = swiommu_find_device(CODEC);
	struct page *pg = alloc_page(GFP_DMA32);

	assert_true(swiommu_log_contains("specified DMA range outside IOMMU capability"));
	assert_true(swiommu_log_contains("Failed to set up IOMMU for device fe400000.codec; retaining platform DMA ops"));
	assert_false(codec->dma_iommu);
	/* dma-direct: the bus address through dma-ranges (a 64-bit mask reaches it). */
	assert_int_equal(dma_set_mask_and_coherent(codec, DMA_BIT_MASK(64)), 0);
	dma_addr_t a = dma_map_page_attrs(codec, pg, 0, 64, DMA_TO_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
	assert_int_equal(a, page_to_phys(pg) - 0x80000000 + 0x100000000ULL);
	dma_unmap_page_attrs(codec, a, 64, DMA_TO_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
	__free_page(pg);
}

static void failed_allocations_leak_nothing(void **state)
{
	(void)state;
	struct device *eth = swiommu_find_device(ETH);
	dma_addr_t h = 0;
	void *cpu;

	/* Build the domain's tables and the slabs of the paths first (the scatterlist of a non-contiguous
	 * allocation), so that what follows only takes and gives back the buffers. */
	cpu = dma_alloc_coherent(eth, 4 * PAGE_SIZE, &h, GFP_KERNEL);
	assert_non_null(cpu);
	dma_free_coherent(eth, 4 * PAGE_SIZE, cpu, h);
	struct sg_table *warm = dma_alloc_noncontiguous(eth, 4 * PAGE_SIZE, DMA_BIDIRECTIONAL, GFP_KERNEL, 0);

	assert_non_null(warm);
	dma_free_noncontiguous(eth, 4 * PAGE_SIZE, warm, DMA_BIDIRECTIONAL);
	u64 before = free_bytes();

	assert_int_equal(swiommu_fail_nth("iova", 1), 0);
	assert_null(dma_alloc_coherent(eth, 4 * PAGE_SIZE, &h, GFP_KERNEL));
	assert_int_equal(swiommu_fail_nth("iova", 1), 0);
	assert_null(dma_alloc_attrs(eth, 4 * PAGE_SIZE, &h, GFP_KERNEL, DMA_ATTR_FORCE_CONTIGUOUS));
	assert_int_equal(swiommu_fail_nth("alloc_pages", 3), 0);	/* the third of four pages */
	assert_null(dma_alloc_coherent(eth, 4 * PAGE_SIZE, &h, GFP_KERNEL));
	assert_int_equal(swiommu_fail_nth("iova", 1), 0);
	assert_null(dma_alloc_noncontiguous(eth, 4 * PAGE_SIZE, DMA_BIDIRECTIONAL, GFP_KERNEL, 0));
	assert_int_equal(swiommu_fail_nth("iova", 1), 0);
	assert_null(dma_alloc_pages(eth, 4 * PAGE_SIZE, &h, DMA_BIDIRECTIONAL, GFP_KERNEL));
	assert_int_equal(free_bytes(), before);
	assert_int_equal(swiommu_warn_count(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(iommu_dma_and_installed_ops_refuse_a_mask, setup, teardown),
		cmocka_unit_test_setup_teardown(a_bad_direction_is_a_warn_not_a_bug, setup, teardown),
		cmocka_unit_test_setup_teardown(after_unbind_the_master_is_back_on_dma_direct, setup, teardown),
		cmocka_unit_test_setup_teardown(a_small_mask_runs_out_of_iova_space, setup, teardown),
		cmocka_unit_test_setup_teardown(injected_iova_failures_fail_the_mapping, setup, teardown),
		cmocka_unit_test_setup_teardown(a_failing_page_table_allocation_gives_the_iova_back, setup, teardown),
		cmocka_unit_test_setup_teardown(unmapping_what_is_not_mapped_warns, setup, teardown),
		cmocka_unit_test_setup_teardown(a_bounce_without_room_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(a_bounce_without_swiotlb_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(dma_ranges_outside_the_aperture_keep_dma_direct, setup, teardown),
		cmocka_unit_test_setup_teardown(failed_allocations_leak_nothing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
