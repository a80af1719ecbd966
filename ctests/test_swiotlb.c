// SPDX-License-Identifier: MIT
// swiotlb (kernel/dma/swiotlb.c): the default pool below 4 GiB sized by the board, 2 KiB slots in 128-slot
// segments, min_align_mask and allocation alignment, the copies by direction at map, sync and unmap, forced
// bouncing (at run time and from "swiotlb=<slabs>,force"), and the direct calls dma-iommu makes.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <linux/dma-mapping.h>
#include <linux/dma-direct.h>
#include <linux/swiotlb.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <swiommu/swiommu.h>
#include "dma_test.h"

static void the_default_pool_is_64_mib_below_4g(void **state)
{
	(void)state;
	assert_true(is_swiotlb_allocated());
	assert_int_equal(swiotlb_size_or_default(), IO_TLB_DEFAULT_SIZE);
	assert_int_equal(default_swiotlb_limit() - default_swiotlb_base() + 1, 64 << 20);
	assert_true(default_swiotlb_limit() < 0x100000000ULL);
	assert_int_equal(default_swiotlb_base() % PAGE_SIZE, 0);
	assert_true(swiommu_log_contains("software IO TLB: mapped [mem 0x0000000080000000-0x0000000083ffffff] (64MB)"));
	struct device *dev = swiommu_find_device(DMA32_PATH);
	assert_true(is_swiotlb_active(dev));
	assert_false(is_swiotlb_force_bounce(dev));
	assert_int_equal(swiotlb_max_mapping_size(dev), 256 * 1024);
}

static void min_align_mask_keeps_the_low_address_bits(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(DMA32_PATH);
	char *buf = kmalloc(2 * PAGE_SIZE, GFP_KERNEL);

	dma_set_min_align_mask(dev, 0xfff);	/* as NVMe asks */
	dma_addr_t addr = dma_map_single(dev, buf + 0x234, 100, DMA_TO_DEVICE);
	assert_int_equal(addr & 0xfff, (virt_to_phys(buf) + 0x234) & 0xfff);
	assert_int_equal(swiommu_swiotlb_used(), 1);	/* 0x234 of offset + 100 bytes fit one slot */
	dma_unmap_single(dev, addr, 100, DMA_TO_DEVICE);
	/* Without the mask, the bounce starts at a slot (a page for a page or more). */
	dma_set_min_align_mask(dev, 0);
	addr = dma_map_single(dev, buf + 0x234, 100, DMA_TO_DEVICE);
	assert_int_equal(addr % IO_TLB_SIZE, 0);
	dma_unmap_single(dev, addr, 100, DMA_TO_DEVICE);
	addr = dma_map_single(dev, buf, PAGE_SIZE, DMA_TO_DEVICE);
	assert_int_equal(addr % PAGE_SIZE, 0);
	dma_unmap_single(dev, addr, PAGE_SIZE, DMA_TO_DEVICE);
	assert_int_equal(swiommu_swiotlb_used(), 0);
	kfree(buf);
}

static void slots_are_counted_in_2k_and_searches_stay_in_a_segment(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(DMA32_PATH);
	char *buf = kmalloc(200 * 1024, GFP_KERNEL);

	dma_addr_t a = dma_map_single(dev, buf, 3000, DMA_TO_DEVICE);
	assert_int_equal(swiommu_swiotlb_used(), 2);
	dma_addr_t b = dma_map_single(dev, buf, 5000, DMA_TO_DEVICE);
	assert_int_equal(swiommu_swiotlb_used(), 5);
	dma_unmap_single(dev, a, 3000, DMA_TO_DEVICE);
	dma_unmap_single(dev, b, 5000, DMA_TO_DEVICE);
	assert_int_equal(swiommu_swiotlb_used(), 0);
	/* 100 slots each: the second one cannot share the first's 128-slot segment. */
	a = dma_map_single(dev, buf, 200 * 1024, DMA_TO_DEVICE);
	b = dma_map_single(dev, buf, 200 * 1024, DMA_TO_DEVICE);
	const dma_addr_t seg = IO_TLB_SEGSIZE * IO_TLB_SIZE, base = default_swiotlb_base();
	assert_int_equal((a - base) / seg, (a - base + 200 * 1024 - 1) / seg);
	assert_int_equal((b - base) / seg, (b - base + 200 * 1024 - 1) / seg);
	assert_int_not_equal((a - base) / seg, (b - base) / seg);
	dma_unmap_single(dev, a, 200 * 1024, DMA_TO_DEVICE);
	dma_unmap_single(dev, b, 200 * 1024, DMA_TO_DEVICE);
	assert_int_equal(swiommu_swiotlb_used(), 0);
	kfree(buf);
}

static void copies_follow_the_direction(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(DMA32_PATH);
	char *buf = kmalloc(64, GFP_KERNEL);
	char got[16] = { 0 };

	/* FROM_DEVICE copies in too: a partial device write leaves the rest as it was. */
	strcpy(buf, "0123456789");
	dma_addr_t addr = dma_map_single(dev, buf, 64, DMA_FROM_DEVICE);
	assert_int_equal(swiommu_dma_write(dev, 0, addr, "AB", 2), 0);
	dma_sync_single_for_cpu(dev, addr, 64, DMA_FROM_DEVICE);
	assert_string_equal(buf, "AB23456789");
	assert_int_equal(swiommu_dma_write(dev, 0, addr + 9, "Z", 1), 0);
	dma_unmap_single(dev, addr, 64, DMA_FROM_DEVICE);
	assert_string_equal(buf, "AB2345678Z");

	/* TO_DEVICE: nothing comes back, and the CPU's later writes need a sync for the device. */
	addr = dma_map_single(dev, buf, 64, DMA_TO_DEVICE);
	buf[0] = 'x';
	assert_int_equal(swiommu_dma_read(dev, 0, addr, got, 10), 0);
	assert_memory_equal(got, "AB2345678Z", 10);
	dma_sync_single_for_device(dev, addr, 64, DMA_TO_DEVICE);
	assert_int_equal(swiommu_dma_read(dev, 0, addr, got, 1), 0);
	assert_int_equal(got[0], 'x');
	assert_int_equal(swiommu_dma_write(dev, 0, addr, "dev", 3), 0);
	dma_unmap_single(dev, addr, 64, DMA_TO_DEVICE);
	assert_memory_equal(buf, "xB2", 3);
	/* SKIP_CPU_SYNC at unmap: the device's bytes stay in the bounce buffer. */
	addr = dma_map_single(dev, buf, 64, DMA_BIDIRECTIONAL);
	assert_int_equal(swiommu_dma_write(dev, 0, addr, "QQ", 2), 0);
	dma_unmap_single_attrs(dev, addr, 64, DMA_BIDIRECTIONAL, DMA_ATTR_SKIP_CPU_SYNC);
	assert_memory_equal(buf, "xB2", 3);
	kfree(buf);
}

static void bouncing_can_be_forced(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(DMA32_PATH);
	char *low = kmalloc(64, GFP_KERNEL | GFP_DMA);

	assert_int_equal(swiommu_swiotlb_set_force_bounce(true), 0);
	assert_true(is_swiotlb_force_bounce(dev));
	assert_int_equal(dma_set_mask(dev, DMA_BIT_MASK(64)), 0);
	assert_int_equal(dma_max_mapping_size(dev), swiotlb_max_mapping_size(dev));
	dma_addr_t addr = dma_map_single(dev, low, 64, DMA_TO_DEVICE);
	assert_int_not_equal(addr, virt_to_phys(low));
	assert_true(addr >= default_swiotlb_base() && addr <= default_swiotlb_limit());
	dma_unmap_single(dev, addr, 64, DMA_TO_DEVICE);
	assert_int_equal(swiommu_swiotlb_set_force_bounce(false), 0);
	addr = dma_map_single(dev, low, 64, DMA_TO_DEVICE);
	assert_int_equal(addr, virt_to_phys(low));
	dma_unmap_single(dev, addr, 64, DMA_TO_DEVICE);
	kfree(low);
}

static void the_board_sizes_and_forces_the_pool(void **state)
{
	(void)state;
	assert_int_equal(reboot_with_bootargs("swiotlb=2048,force", true), 0);
	struct device *dev = swiommu_find_device(DMA32_PATH);

	assert_int_equal(swiotlb_size_or_default(), 2048 * IO_TLB_SIZE);
	assert_true(swiommu_log_contains("(4MB)"));
	assert_true(is_swiotlb_force_bounce(dev));
}

static void swiotlb_tbl_map_single_serves_an_iommu_granule(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(DMA32_PATH);
	char *buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	phys_addr_t pa = virt_to_phys(buf);

	strcpy(buf, "granule");
	/* A 16 KiB IOMMU granule on a 4 KiB CPU, as dma-iommu bounces for it (alloc_aligned_mask 0x3fff). */
	phys_addr_t tlb = swiotlb_tbl_map_single(dev, pa, 100, 0x3fff, DMA_BIDIRECTIONAL, 0);
	assert_int_not_equal(tlb, (phys_addr_t)DMA_MAPPING_ERROR);
	assert_int_equal(tlb % 0x4000, 0);
	assert_int_equal(swiommu_swiotlb_used(), 8);		/* the whole granule */
	assert_string_equal((char *)phys_to_virt(tlb), "granule");
	assert_ptr_equal(swiotlb_find_pool(dev, tlb), &dev->dma_io_tlb_mem->defpool);
	assert_null(swiotlb_find_pool(dev, pa));
	strcpy(phys_to_virt(tlb), "bounced");
	swiotlb_sync_single_for_cpu(dev, tlb, 8, DMA_BIDIRECTIONAL);
	assert_string_equal(buf, "bounced");
	swiotlb_tbl_unmap_single(dev, tlb, 100, DMA_BIDIRECTIONAL, 0);
	assert_int_equal(swiommu_swiotlb_used(), 0);
	/* The kernel warns once that such alignment may not serve the largest mappings. */
	assert_true(strstr(swiommu_warn_last(), "Alloc alignment may prevent fulfilling requests") != NULL);
	kfree(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(the_default_pool_is_64_mib_below_4g, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(min_align_mask_keeps_the_low_address_bits, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(slots_are_counted_in_2k_and_searches_stay_in_a_segment, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(copies_follow_the_direction, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(bouncing_can_be_forced, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(the_board_sizes_and_forces_the_pool, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(swiotlb_tbl_map_single_serves_an_iommu_granule, boot_and_bind, unbind_and_shut_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
