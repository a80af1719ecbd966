// SPDX-License-Identifier: MIT
// Error paths of swiotlb: a pool that really runs out, no pool at all ("swiotlb=noforce", where kmalloc keeps the
// cache line), a sync past the end of a mapping ("Buffer overflow detected"), bad arguments to the direct calls.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <linux/dma-mapping.h>
#include <linux/dma-map-ops.h>
#include <linux/swiotlb.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <swiommu/swiommu.h>
#include "dma_test.h"

static void a_small_pool_runs_out(void **state)
{
	(void)state;
	assert_int_equal(reboot_with_bootargs("swiotlb=256", false), 0);	/* 256 slots: two segments of 256 KiB */
	struct device *dev = swiommu_find_device(DMA32_PATH);
	char *buf = kmalloc(256 * 1024, GFP_KERNEL);

	dma_addr_t a = dma_map_single(dev, buf, 256 * 1024, DMA_TO_DEVICE);
	dma_addr_t b = dma_map_single(dev, buf, 256 * 1024, DMA_TO_DEVICE);
	assert_int_equal(dma_mapping_error(dev, a), 0);
	assert_int_equal(dma_mapping_error(dev, b), 0);
	assert_int_equal(swiommu_swiotlb_used(), 256);
	assert_int_equal(dma_map_single(dev, buf, 64, DMA_TO_DEVICE), DMA_MAPPING_ERROR);
	assert_true(swiommu_log_contains("swiotlb buffer is full (sz: 64 bytes), total 256 (slots), used 256 (slots)"));
	dma_unmap_single(dev, a, 256 * 1024, DMA_TO_DEVICE);
	a = dma_map_single(dev, buf, 64, DMA_TO_DEVICE);
	assert_int_equal(dma_mapping_error(dev, a), 0);
	dma_unmap_single(dev, a, 64, DMA_TO_DEVICE);
	dma_unmap_single(dev, b, 256 * 1024, DMA_TO_DEVICE);
	assert_int_equal(swiommu_swiotlb_used(), 0);
	kfree(buf);
}

static void without_a_pool_an_unreachable_buffer_cannot_be_mapped(void **state)
{
	(void)state;
	assert_int_equal(reboot_with_bootargs("swiotlb=noforce", false), 0);
	struct device *dev = swiommu_find_device(DMA32_PATH);
	char *buf = kmalloc(PAGE_SIZE, GFP_KERNEL);

	assert_false(is_swiotlb_allocated());
	assert_false(is_swiotlb_active(dev));
	assert_int_equal(swiotlb_size_or_default(), 0);
	assert_int_equal(dma_map_single(dev, buf, PAGE_SIZE, DMA_TO_DEVICE), DMA_MAPPING_ERROR);
	assert_non_null(strstr(swiommu_warn_last(), "overflow (mask ffffffff, bus limit 0)."));
	/* dma_max_mapping_size is not limited by a pool that does not exist. */
	assert_int_equal(dma_max_mapping_size(dev), SIZE_MAX);
	/* The direct call says why. */
	assert_int_equal(swiotlb_tbl_map_single(dev, virt_to_phys(buf), 64, 0, DMA_TO_DEVICE, 0),
			 (phys_addr_t)DMA_MAPPING_ERROR);
	assert_true(swiommu_log_contains("Can not allocate SWIOTLB buffer earlier"));
	kfree(buf);
}

/*
 * 6.17's __kmalloc_minalign(): with no pool to bounce small kmalloc buffers, every kmalloc object keeps the
 * cache line (ARCH_DMA_MINALIGN), so a 64-byte buffer maps in place for a non-coherent master.
 */
static void without_a_pool_small_kmalloc_buffers_keep_the_cache_line(void **state)
{
	(void)state;
	assert_int_equal(reboot_with_bootargs("swiotlb=noforce", false), 0);
	struct device *dev = swiommu_find_device(NONCOH_PATH);
	char *small = kmalloc(64, GFP_KERNEL);
	char *mid = kmalloc(150, GFP_KERNEL);

	assert_int_equal(kmalloc_size_roundup(64), 128);
	assert_int_equal(kmalloc_size_roundup(150), 256);
	assert_int_equal(ksize(small), 128);
	assert_int_equal((uintptr_t)small % ARCH_DMA_MINALIGN, 0);
	assert_int_equal((uintptr_t)mid % ARCH_DMA_MINALIGN, 0);
	assert_int_equal(dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64)), 0);
	assert_false(dma_kmalloc_needs_bounce(dev, 64, DMA_FROM_DEVICE));
	assert_false(dma_kmalloc_needs_bounce(dev, 192, DMA_BIDIRECTIONAL));
	dma_addr_t addr = dma_map_single(dev, small, 64, DMA_FROM_DEVICE);
	assert_false(dma_mapping_error(dev, addr));
	assert_int_equal(addr, virt_to_phys(small));
	assert_int_equal(swiommu_dma_write(dev, 0, addr, "in place", 9), 0);
	dma_unmap_single(dev, addr, 64, DMA_FROM_DEVICE);
	assert_string_equal(small, "in place");
	addr = dma_map_single(dev, mid, 150, DMA_BIDIRECTIONAL);
	assert_false(dma_mapping_error(dev, addr));
	assert_int_equal(addr, virt_to_phys(mid));
	dma_unmap_single(dev, addr, 150, DMA_BIDIRECTIONAL);
	assert_int_equal(swiommu_warn_count(), 0);
	kfree(mid);
	kfree(small);

	/* With the pool back, the small classes are back. */
	assert_int_equal(reboot_with_bootargs("", false), 0);
	assert_int_equal(kmalloc_size_roundup(64), 64);
}

static void a_sync_past_the_mapping_is_clamped_with_a_warn(void **state)
{
	(void)state;
	assert_int_equal(reboot_with_bootargs("", false), 0);
	struct device *dev = swiommu_find_device(DMA32_PATH);
	char *buf = kmalloc(2 * PAGE_SIZE, GFP_KERNEL);

	memset(buf, 'a', 2 * PAGE_SIZE);
	dma_addr_t addr = dma_map_single(dev, buf, PAGE_SIZE, DMA_FROM_DEVICE);
	assert_int_equal(swiommu_dma_write(dev, 0, addr, "b", 1), 0);
	dma_sync_single_for_cpu(dev, addr, 2 * PAGE_SIZE, DMA_FROM_DEVICE);
	assert_true(swiommu_log_contains("Buffer overflow detected. Allocation size: 4096. Mapping size: 8192."));
	/* dma-debug, as the kernel's, finds no mapping that holds the whole sync. */
	assert_non_null(strstr(swiommu_dma_debug_last(), "device driver tries to sync DMA memory it has not allocated"));
	assert_int_equal(buf[0], 'b');
	assert_int_equal(buf[PAGE_SIZE], 'a');	/* nothing past the mapping was touched */
	dma_unmap_single(dev, addr, PAGE_SIZE, DMA_FROM_DEVICE);
	kfree(buf);
}

static void bad_arguments_to_the_direct_calls_fail(void **state)
{
	(void)state;
	assert_int_equal(reboot_with_bootargs("", false), 0);
	struct device *dev = swiommu_find_device(DMA32_PATH);
	char *buf = kmalloc(64, GFP_KERNEL);

	assert_int_equal(swiotlb_tbl_map_single(dev, virt_to_phys(buf), 0, 0, DMA_TO_DEVICE, 0),
			 (phys_addr_t)DMA_MAPPING_ERROR);
	assert_int_equal(swiotlb_tbl_map_single(dev, 0x1000, 64, 0, DMA_TO_DEVICE, 0), (phys_addr_t)DMA_MAPPING_ERROR);
	assert_int_equal(swiotlb_map(dev, virt_to_phys(buf), 64, DMA_NONE, 0), DMA_MAPPING_ERROR);
	assert_non_null(strstr(swiommu_warn_last(), "a bad direction, size 0, or memory that is not simulated RAM"));
	assert_int_equal(swiotlb_tbl_map_single(NULL, virt_to_phys(buf), 64, 0, DMA_TO_DEVICE, 0),
			 (phys_addr_t)DMA_MAPPING_ERROR);
	assert_int_equal(swiommu_swiotlb_used(), 0);
	kfree(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(a_small_pool_runs_out, unbind_and_shut_down),
		cmocka_unit_test_teardown(without_a_pool_an_unreachable_buffer_cannot_be_mapped, unbind_and_shut_down),
		cmocka_unit_test_teardown(without_a_pool_small_kmalloc_buffers_keep_the_cache_line, unbind_and_shut_down),
		cmocka_unit_test_teardown(a_sync_past_the_mapping_is_clamped_with_a_warn, unbind_and_shut_down),
		cmocka_unit_test_teardown(bad_arguments_to_the_direct_calls_fail, unbind_and_shut_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
