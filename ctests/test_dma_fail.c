// SPDX-License-Identifier: MIT
// Error paths of the DMA API on the direct path: vmalloc memory through dma_map_single, size 0, DMA_NONE,
// memory that is not simulated RAM, NULL devices, a full or too small swiotlb, addresses the device cannot
// reach, bad allocation flags, wrong frees, user mappings that do not fit, bad channel masks. Each gives
// the kernel's errno or DMA_MAPPING_ERROR, a message and a WARN record; nothing crashes.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <linux/dma-mapping.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-direct.h>
#include <linux/swiotlb.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <swiommu/swiommu.h>
#include "dma_test.h"

static void assert_warned(const char *text)
{
	assert_true(swiommu_warn_count() >= 1);
	assert_non_null(strstr(swiommu_warn_last(), text));
}

static void vmalloc_memory_is_rejected_by_dma_map_single(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(DMA32_PATH);
	void *v = vmalloc(PAGE_SIZE);

	assert_int_equal(dma_map_single(dev, v, PAGE_SIZE, DMA_TO_DEVICE), DMA_MAPPING_ERROR);
	assert_warned("rejecting DMA map of vmalloc memory");
	assert_non_null(strstr(swiommu_warn_last(), "dma-test fe700000.dma32: "));
	/* Its pages may still be mapped one by one, as the kernel allows. */
	dma_addr_t addr = dma_map_page(dev, vmalloc_to_page(v), 0, PAGE_SIZE, DMA_TO_DEVICE);
	assert_int_equal(dma_mapping_error(dev, addr), 0);
	dma_unmap_page(dev, addr, PAGE_SIZE, DMA_TO_DEVICE);
	vfree(v);
}

static void size_zero_and_dma_none_fail(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(DMA32_PATH);
	char *buf = kmalloc(64, GFP_KERNEL | GFP_DMA);

	assert_int_equal(dma_map_single(dev, buf, 0, DMA_TO_DEVICE), DMA_MAPPING_ERROR);
	assert_warned("a mapping of size 0");
	assert_int_equal(dma_map_single(dev, buf, 64, DMA_NONE), DMA_MAPPING_ERROR);
	assert_warned("invalid DMA direction 3");
	assert_int_equal(dma_map_single(dev, buf, 64, (enum dma_data_direction)9), DMA_MAPPING_ERROR);
	assert_warned("invalid DMA direction 9");
	/* Unmap with DMA_NONE does nothing but warn. */
	dma_unmap_single(dev, virt_to_phys(buf), 64, DMA_NONE);
	assert_warned("dma_unmap_page_attrs: invalid DMA direction 3");
	kfree(buf);
}

static void memory_that_is_not_simulated_ram_fails(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(DMA32_PATH);
	char host[64];
	struct page fake;

	/* A host stack buffer: virt_to_page() warns and gives NULL; the map fails. */
	assert_int_equal(dma_map_single(dev, host, sizeof(host), DMA_TO_DEVICE), DMA_MAPPING_ERROR);
	assert_warned("NULL page");
	/* A struct page that is not ours. */
	assert_int_equal(dma_map_page(dev, &fake, 0, 64, DMA_TO_DEVICE), DMA_MAPPING_ERROR);
	assert_warned("is not simulated RAM");
	/* A range that runs off the end of a RAM bank. */
	struct page *last = pfn_to_page(PHYS_PFN(0x8ffffffffULL));
	assert_int_equal(dma_map_page(dev, last, 0, 2 * PAGE_SIZE, DMA_TO_DEVICE), DMA_MAPPING_ERROR);
	assert_warned("is not simulated RAM");
	assert_int_equal(swiommu_swiotlb_used(), 0);
}

static void a_null_device_fails(void **state)
{
	(void)state;
	dma_addr_t h;

	assert_int_equal(dma_map_page(NULL, NULL, 0, 64, DMA_TO_DEVICE), DMA_MAPPING_ERROR);
	assert_warned("NULL or ERR_PTR device");
	assert_null(dma_alloc_coherent(ERR_PTR(-ENODEV), PAGE_SIZE, &h, GFP_KERNEL));
	assert_warned("dma_alloc_attrs: NULL or ERR_PTR device");
	assert_int_equal(dma_set_mask(NULL, DMA_BIT_MASK(32)), -EIO);
	/* vmalloc memory is refused before the device is looked at; the message copes with no device (found by
	 * the API fuzzer: the inline dereferenced it). */
	void *v = vmalloc(64);

	assert_int_equal(dma_map_single(NULL, v, 64, DMA_TO_DEVICE), DMA_MAPPING_ERROR);
	assert_warned("(NULL device *): rejecting DMA map of vmalloc memory");
	assert_int_equal(dma_map_single(ERR_PTR(-ENODEV), v, 64, DMA_TO_DEVICE), DMA_MAPPING_ERROR);
	vfree(v);
}

static void a_full_swiotlb_fails_the_mapping(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(DMA32_PATH);
	char *buf = kmalloc(PAGE_SIZE, GFP_KERNEL);

	swiommu_log_reset();
	assert_int_equal(swiommu_fail_nth("swiotlb", 1), 0);
	assert_int_equal(dma_map_single(dev, buf, PAGE_SIZE, DMA_TO_DEVICE), DMA_MAPPING_ERROR);
	assert_true(swiommu_log_contains("swiotlb buffer is full (sz: 4096 bytes), total 32768 (slots), used 0 (slots)"));
	/* DMA_ATTR_NO_WARN keeps it quiet. */
	swiommu_log_reset();
	assert_int_equal(swiommu_fail_nth("swiotlb", 1), 0);
	assert_int_equal(dma_map_single_attrs(dev, buf, PAGE_SIZE, DMA_TO_DEVICE, DMA_ATTR_NO_WARN), DMA_MAPPING_ERROR);
	assert_false(swiommu_log_contains("swiotlb buffer is full"));
	/* Too large to bounce: more than IO_TLB_SEGSIZE slots. */
	char *big = kmalloc(IO_TLB_SIZE * IO_TLB_SEGSIZE + PAGE_SIZE, GFP_KERNEL);
	assert_int_equal(dma_map_single(dev, big, IO_TLB_SIZE * IO_TLB_SEGSIZE + PAGE_SIZE, DMA_TO_DEVICE),
			 DMA_MAPPING_ERROR);
	assert_true(swiommu_log_contains("swiotlb buffer is full (sz: 266240 bytes)"));
	assert_int_equal(swiommu_swiotlb_used(), 0);
	kfree(big);
	kfree(buf);
}

static void a_failing_scatterlist_unmaps_what_it_mapped(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(DMA32_PATH);
	struct scatterlist sg[3];
	struct page *pg[3];
	struct sg_table sgt = { .sgl = sg, .nents = 3, .orig_nents = 3 };
	int i;

	sg_init_table(sg, 3);
	for (i = 0; i < 3; i++) {
		pg[i] = alloc_page(GFP_KERNEL);
		sg_set_page(&sg[i], pg[i], PAGE_SIZE, 0);
	}
	assert_int_equal(swiommu_fail_nth("swiotlb", 3), 0);	/* the third entry cannot bounce */
	assert_int_equal(dma_map_sgtable(dev, &sgt, DMA_TO_DEVICE, 0), -EIO);
	assert_int_equal(swiommu_swiotlb_used(), 0);
	assert_int_equal(swiommu_fail_nth("swiotlb", 1), 0);
	assert_int_equal(dma_map_sg(dev, sg, 3, DMA_TO_DEVICE), 0);
	assert_int_equal(dma_map_sg(dev, sg, 0, DMA_TO_DEVICE), 0);
	assert_warned("0 entries");
	/* 6.17: no entries map to 0, which is no error code: -EIO. */
	sgt.orig_nents = 0;
	assert_int_equal(dma_map_sgtable(dev, &sgt, DMA_TO_DEVICE, 0), -EIO);
	assert_warned("0 entries: the backend returned 0");
	/* 6.17: a device without a dma_mask maps nothing, and dma_map_sgtable() calls it success. */
	{
		u64 *mask = dev->dma_mask;

		sgt.orig_nents = 3;
		sgt.nents = 3;
		dev->dma_mask = NULL;
		assert_int_equal(dma_map_sgtable(dev, &sgt, DMA_TO_DEVICE, 0), 0);
		assert_int_equal(sgt.nents, 0);
		assert_int_equal(dma_map_sg(dev, sg, 3, DMA_TO_DEVICE), 0);
		dev->dma_mask = mask;
		assert_int_equal(swiommu_swiotlb_used(), 0);
	}
	for (i = 0; i < 3; i++)
		__free_page(pg[i]);
}

static void an_unreachable_address_without_swiotlb_overflows(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(DMA32_PATH);
	char *buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	struct io_tlb_mem *mem = dev->dma_io_tlb_mem;
	unsigned long nslabs = mem->nslabs;

	/* A device with no usable pool, as with swiotlb=noforce. */
	mem->nslabs = 0;
	assert_int_equal(dma_map_single(dev, buf, PAGE_SIZE, DMA_TO_DEVICE), DMA_MAPPING_ERROR);
	assert_warned("DMA addr 0x0000000");
	assert_non_null(strstr(swiommu_warn_last(), "+4096 overflow (mask ffffffff, bus limit 0)."));
	mem->nslabs = nslabs;
	kfree(buf);
}

static void bad_allocation_requests_fail(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(DMA32_PATH);
	dma_addr_t h;

	assert_null(dma_alloc_coherent(dev, PAGE_SIZE, &h, GFP_KERNEL | __GFP_COMP));
	assert_warned("__GFP_COMP");
	assert_null(dma_alloc_coherent(dev, 0, &h, GFP_KERNEL));
	assert_warned("size 0");
	assert_null(dma_alloc_pages(dev, PAGE_SIZE, &h, DMA_TO_DEVICE, GFP_KERNEL | GFP_DMA32));
	assert_warned("zone modifiers");
	assert_null(dma_alloc_pages(dev, PAGE_SIZE, &h, DMA_NONE, GFP_KERNEL));
	assert_warned("invalid DMA direction");
	assert_null(dma_alloc_noncontiguous(dev, PAGE_SIZE, DMA_TO_DEVICE, GFP_KERNEL, DMA_ATTR_WRITE_COMBINE));
	assert_warned("DMA_ATTR_ALLOC_SINGLE_PAGES");
	/* Out of memory: the page allocator fails. */
	assert_int_equal(swiommu_fail_nth("alloc_pages", 1), 0);
	assert_null(dma_alloc_coherent(dev, PAGE_SIZE, &h, GFP_KERNEL));
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void a_coherent_mask_of_zero_warns(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(DMA32_PATH);
	dma_addr_t h;

	dev->coherent_dma_mask = 0;
	void *p = dma_alloc_coherent(dev, PAGE_SIZE, &h, GFP_KERNEL);
	assert_warned("coherent_dma_mask is 0");
	if (p)
		dma_free_coherent(dev, PAGE_SIZE, p, h);
	assert_null(dma_alloc_pages(dev, PAGE_SIZE, &h, DMA_TO_DEVICE, GFP_KERNEL));
}

static void freeing_coherent_memory_with_the_wrong_size_is_caught(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(DMA32_PATH);
	dma_addr_t h;
	void *p = dma_alloc_coherent(dev, PAGE_SIZE, &h, GFP_KERNEL);

	/* The page allocator refuses an order-2 free of an order-0 block: bad page state, nothing freed. */
	dma_free_coherent(dev, 4 * PAGE_SIZE, p, h);
	assert_warned("bad page state");
	assert_int_equal(swiommu_mem_check_leaks(false), 1);
	dma_free_coherent(dev, PAGE_SIZE, p, h);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
	/* A handle that is no RAM. */
	swiommu_warn_reset();
	dma_free_coherent(dev, PAGE_SIZE, p, 0x10);
	assert_warned("is not simulated RAM");
}

static void unmapping_or_syncing_a_foreign_address_warns_without_crashing(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(NONCOH_PATH);

	/* Not RAM: the cache maintenance of a non-coherent device cannot run. dma-debug reports each call too (an
	 * unmap before the backend's WARN, as swiommu checks unmaps before the backend runs; a sync after it). */
	dma_unmap_page(dev, 0x1000, PAGE_SIZE, DMA_FROM_DEVICE);
	assert_int_equal(swiommu_warn_count(), 2);
	assert_true(swiommu_log_contains("device driver tries to free DMA memory it has not allocated [device address=0x0000000000001000]"));
	assert_true(swiommu_log_contains("is not simulated RAM"));
	swiommu_warn_reset();
	dma_sync_single_for_device(dev, 0x1000, 64, DMA_TO_DEVICE);
	assert_warned("device driver tries to sync DMA memory it has not allocated [device address=0x0000000000001000]");
	assert_int_equal(swiommu_warn_count(), 2);
	/* Inside the swiotlb pool but held by no mapping. */
	swiommu_log_reset();
	dma_unmap_page(dev, default_swiotlb_base() + 3 * IO_TLB_SIZE, 64, DMA_TO_DEVICE);
	assert_true(swiommu_log_contains("device driver tries to free DMA memory it has not allocated"));
	assert_true(swiommu_log_contains("which no bounce mapping holds"));
	/* Ranges that run past the top of the address space (the API fuzzer's first finding: an overflow trap in
	 * the cache maintenance): not RAM either. */
	swiommu_log_reset();
	swiommu_warn_reset();
	dma_sync_single_for_cpu(dev, ~(dma_addr_t)0 - 0xfff, 0x2000, DMA_FROM_DEVICE);
	assert_true(swiommu_log_contains("is not simulated RAM"));
	/* A size_t of 2^63 or more is refused before it reaches the backends. */
	swiommu_log_reset();
	dma_sync_single_for_device(dev, 0x80000000, SIZE_MAX, DMA_TO_DEVICE);
	assert_warned("dma_sync_single_for_device: size 0xffffffffffffffff is larger than the address space");
	dma_unmap_page(dev, 0x80000000, (size_t)1 << 63, DMA_FROM_DEVICE);
	assert_warned("dma_unmap_page_attrs: size 0x8000000000000000 is larger than the address space");
	struct page *pg = alloc_page(GFP_KERNEL);

	assert_true(dma_mapping_error(dev, dma_map_page(dev, pg, 0, SIZE_MAX, DMA_TO_DEVICE)));
	assert_warned("dma_map_page_attrs: size 0xffffffffffffffff is larger than the address space");
	__free_page(pg);
}

static void managed_frees_of_unmanaged_memory_warn(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(DMA32_PATH);
	dma_addr_t h;
	void *p = dma_alloc_coherent(dev, PAGE_SIZE, &h, GFP_KERNEL);

	dmam_free_coherent(dev, PAGE_SIZE, p, h);
	assert_warned("is no managed allocation");
	assert_int_equal(swiommu_mem_check_leaks(false), 0);	/* freed anyway, as the kernel does */
	swiommu_warn_reset();
	p = dmam_alloc_coherent(dev, PAGE_SIZE, &h, GFP_KERNEL);
	dmam_free_coherent(dev, PAGE_SIZE, p, h + 1);
	assert_true(swiommu_log_contains("freed as 4096 bytes"));
	/* dma-debug, as the kernel's, knows no allocation at h + 1 (and the one at h leaks at unbind). */
	assert_warned("device driver tries to free DMA memory it has not allocated");
}

static void user_mappings_that_do_not_fit_fail(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(DMA32_PATH);
	dma_addr_t h;
	void *cpu = dma_alloc_coherent(dev, PAGE_SIZE, &h, GFP_KERNEL);
	struct vm_area_struct *vma = swiommu_vma_alloc(2 * PAGE_SIZE);
	struct vm_area_struct fake = { .vm_start = 0x10000, .vm_end = 0x11000 };

	assert_int_equal(dma_mmap_coherent(dev, vma, cpu, h, PAGE_SIZE), -ENXIO);	/* 2 pages over 1 */
	vma->vm_end = vma->vm_start + PAGE_SIZE;
	vma->vm_pgoff = 1;
	assert_int_equal(dma_mmap_coherent(dev, vma, cpu, h, PAGE_SIZE), -ENXIO);	/* past the end */
	assert_int_equal(dma_mmap_coherent(dev, &fake, cpu, h, PAGE_SIZE), -EINVAL);
	assert_warned("is no swiommu_vma_alloc() range");
	vma->vm_end = vma->vm_start + 2 * PAGE_SIZE;
	swiommu_vma_free(vma);
	swiommu_vma_free(&fake);
	assert_warned("is no swiommu_vma_alloc() vma");
	assert_null(swiommu_vma_alloc(0));
	dma_free_coherent(dev, PAGE_SIZE, cpu, h);
}

static void map_resource_refuses_ram_and_unreachable_mmio(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(DMA32_PATH);

	assert_int_equal(dma_map_resource(dev, 0x880000000ULL, 4, DMA_TO_DEVICE, 0), DMA_MAPPING_ERROR);
	assert_warned("is RAM (pfn_valid)");
	assert_int_equal(dma_map_resource(dev, 0x1000000000ULL, 4, DMA_TO_DEVICE, 0), DMA_MAPPING_ERROR);
	assert_true(swiommu_log_contains("DMA addr 0x0000001000000000+4 overflow (mask ffffffff, bus limit 0)."));
}

static void bad_channel_masks_fail(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(ENGINE_PATH);
	struct page *pg = alloc_page(GFP_DMA32);
	dma_addr_t addrs[9] = { 0 };

	assert_int_equal(dma_map_page_attrs_multi(dev, pg, 0, PAGE_SIZE, DMA_TO_DEVICE, 0, 0, addrs), DMA_MAPPING_ERROR);
	assert_warned("no channels in the mask");
	assert_int_equal(dma_map_page_attrs_multi(dev, pg, 0, PAGE_SIZE, DMA_TO_DEVICE, 0, 0x100, addrs),
			 DMA_MAPPING_ERROR);
	assert_warned("names channels the device does not have (it has 8)");
	assert_int_equal(dma_map_page_attrs_multi(dev, pg, 0, PAGE_SIZE, DMA_TO_DEVICE, 0, 1, NULL), DMA_MAPPING_ERROR);
	assert_warned("NULL page or addrs");
	dma_unmap_page_attrs_multi(dev, addrs, PAGE_SIZE, DMA_TO_DEVICE, 0, 0x200);
	assert_warned("names channels the device does not have");
	__free_page(pg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(vmalloc_memory_is_rejected_by_dma_map_single, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(size_zero_and_dma_none_fail, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(memory_that_is_not_simulated_ram_fails, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(a_null_device_fails, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(a_full_swiotlb_fails_the_mapping, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(a_failing_scatterlist_unmaps_what_it_mapped, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(an_unreachable_address_without_swiotlb_overflows, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(bad_allocation_requests_fail, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(a_coherent_mask_of_zero_warns, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(freeing_coherent_memory_with_the_wrong_size_is_caught, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(unmapping_or_syncing_a_foreign_address_warns_without_crashing, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(managed_frees_of_unmanaged_memory_warn, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(user_mappings_that_do_not_fit_fail, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(map_resource_refuses_ram_and_unreachable_mmio, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(bad_channel_masks_fail, boot_and_bind, unbind_and_shut_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
