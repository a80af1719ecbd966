// SPDX-License-Identifier: MIT
// The DMA API on the direct path of the default board: bus addresses through dma-ranges, swiotlb bouncing for
// the 32-bit-only master, cache maintenance for the non-coherent master, coherent and non-coherent
// allocations, scatterlists, masks and limits, managed allocations, user mappings, ops installed with
// set_dma_ops, and the per-channel calls.
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
#include <swiommu/swiommu.h>
#include "dma_test.h"

#define FOUR_G		0x100000000ULL

static bool in_swiotlb(dma_addr_t addr, size_t size)
{
	return addr >= default_swiotlb_base() && addr + size - 1 <= default_swiotlb_limit();
}

static void a_buffer_above_4g_bounces_for_a_32bit_master(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(DMA32_PATH);
	char *buf = kmalloc(4096, GFP_KERNEL);	/* GFP_KERNEL prefers RAM above 4 GiB */
	char got[16] = { 0 };

	assert_true(virt_to_phys(buf) >= FOUR_G);
	assert_int_equal(dma_get_mask(dev), DMA_BIT_MASK(32));
	strcpy(buf, "to the device");
	dma_addr_t addr = dma_map_single(dev, buf, 4096, DMA_BIDIRECTIONAL);

	assert_int_equal(dma_mapping_error(dev, addr), 0);
	assert_true(in_swiotlb(addr, 4096));
	assert_int_equal(swiommu_swiotlb_used(), 2);	/* 4 KiB in 2 KiB slots */
	/* The device reads the copy in the bounce buffer ... */
	assert_int_equal(swiommu_dma_read(dev, 0, addr, got, 14), 0);
	assert_string_equal(got, "to the device");
	/* ... and what it writes there reaches the buffer at unmap, not before. */
	assert_int_equal(swiommu_dma_write(dev, 0, addr, "from the device", 16), 0);
	assert_string_equal(buf, "to the device");
	dma_unmap_single(dev, addr, 4096, DMA_BIDIRECTIONAL);
	assert_string_equal(buf, "from the device");
	assert_int_equal(swiommu_swiotlb_used(), 0);
	kfree(buf);
}

static void a_buffer_the_master_reaches_is_not_bounced(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(DMA32_PATH);
	char *low = kmalloc(512, GFP_KERNEL | GFP_DMA);
	char *high = kmalloc(512, GFP_KERNEL);

	dma_addr_t addr = dma_map_single(dev, low, 512, DMA_TO_DEVICE);
	assert_int_equal(addr, virt_to_phys(low));
	dma_unmap_single(dev, addr, 512, DMA_TO_DEVICE);
	/* With a 64-bit mask the high buffer is reachable too. */
	assert_int_equal(dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64)), 0);
	addr = dma_map_single(dev, high, 512, DMA_FROM_DEVICE);
	assert_int_equal(addr, virt_to_phys(high));
	assert_int_equal(swiommu_swiotlb_used(), 0);
	dma_unmap_single(dev, addr, 512, DMA_FROM_DEVICE);
	kfree(low);
	kfree(high);
}

static void dma_ranges_give_bus_addresses_and_bounce_outside_the_window(void **state)
{
	(void)state;
	/* The codec's bus sees CPU 0x80000000 at bus 0, 256 MiB of it; the codec is not coherent. */
	struct device *codec = swiommu_find_device(CODEC_PATH);
	struct page *pg = alloc_page(GFP_DMA32);
	phys_addr_t pa = page_to_phys(pg);
	char *high = kmalloc(4096, GFP_KERNEL);
	char got[8] = { 0 };

	assert_int_equal(codec->bus_dma_limit, 0x0fffffff);
	assert_true(pa < 0x90000000);
	dma_addr_t addr = dma_map_page(codec, pg, 16, 64, DMA_TO_DEVICE);
	assert_int_equal(addr, pa - 0x80000000 + 16);
	assert_int_equal(phys_to_dma(codec, pa), pa - 0x80000000);
	assert_int_equal(dma_to_phys(codec, addr), pa + 16);
	dma_unmap_page(codec, addr, 64, DMA_TO_DEVICE);

	/* Above 4 GiB is outside the window: swiotlb's pool (low in RAM) is inside it. */
	strcpy(high, "mfc");
	addr = dma_map_single(codec, high, 4096, DMA_TO_DEVICE);
	assert_int_equal(dma_mapping_error(codec, addr), 0);
	assert_true(addr <= 0x0fffffff);
	assert_true(in_swiotlb(dma_to_phys(codec, addr), 4096));
	/* The bounce buffer was cleaned for the non-coherent codec: it reads the bytes. */
	assert_int_equal(swiommu_dma_read(codec, 0, addr, got, 4), 0);
	assert_string_equal(got, "mfc");
	dma_unmap_single(codec, addr, 4096, DMA_TO_DEVICE);
	kfree(high);
	__free_page(pg);
}

static void a_noncoherent_master_sees_what_map_and_sync_clean(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(NONCOH_PATH);
	struct page *pg = alloc_page(GFP_DMA32);
	char *buf = page_address(pg);
	char got[8] = { 0 };

	assert_false(dev_is_dma_coherent(dev));
	strcpy(buf, "cpu");
	/* Not mapped yet: the line sits in the CPU cache and memory holds zeros. */
	assert_int_equal(swiommu_dma_read(dev, 0, page_to_phys(pg), got, 4), 0);
	assert_string_equal(got, "");
	dma_addr_t addr = dma_map_page(dev, pg, 0, PAGE_SIZE, DMA_TO_DEVICE);	/* cleans */
	assert_int_equal(addr, page_to_phys(pg));
	assert_int_equal(swiommu_dma_read(dev, 0, addr, got, 4), 0);
	assert_string_equal(got, "cpu");
	/* A later CPU write needs dma_sync_single_for_device. */
	strcpy(buf, "two");
	assert_int_equal(swiommu_dma_read(dev, 0, addr, got, 4), 0);
	assert_string_equal(got, "cpu");
	dma_sync_single_for_device(dev, addr, PAGE_SIZE, DMA_TO_DEVICE);
	assert_int_equal(swiommu_dma_read(dev, 0, addr, got, 4), 0);
	assert_string_equal(got, "two");
	dma_unmap_page(dev, addr, PAGE_SIZE, DMA_TO_DEVICE);
	__free_page(pg);
}

static void a_noncoherent_master_writes_reach_the_cpu_after_sync_for_cpu(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(NONCOH_PATH);
	struct page *pg = alloc_page(GFP_DMA32 | __GFP_ZERO);
	char *buf = page_address(pg);

	dma_addr_t addr = dma_map_page(dev, pg, 0, PAGE_SIZE, DMA_FROM_DEVICE);
	assert_int_equal(swiommu_dma_write(dev, 0, addr + 100, "dev", 4), 0);
	/* A driver that forgets the sync reads stale data, as on the hardware. */
	assert_string_equal(buf + 100, "");
	dma_sync_single_for_cpu(dev, addr, PAGE_SIZE, DMA_FROM_DEVICE);
	assert_string_equal(buf + 100, "dev");
	/* Back to the device, which writes again; unmap invalidates. */
	dma_sync_single_range_for_device(dev, addr, 0, PAGE_SIZE, DMA_FROM_DEVICE);
	assert_int_equal(swiommu_dma_write(dev, 0, addr + 200, "end", 4), 0);
	assert_string_equal(buf + 200, "");
	dma_unmap_page(dev, addr, PAGE_SIZE, DMA_FROM_DEVICE);
	assert_string_equal(buf + 200, "end");
	__free_page(pg);
}

static void skip_cpu_sync_skips_the_maintenance(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(NONCOH_PATH);
	struct page *pg = alloc_page(GFP_DMA32 | __GFP_ZERO);
	char *buf = page_address(pg);
	char got[8] = { 0 };
	unsigned long before = swiommu_cache_maintenance_count();

	strcpy(buf, "cpu");
	dma_addr_t addr = dma_map_page_attrs(dev, pg, 0, PAGE_SIZE, DMA_BIDIRECTIONAL, DMA_ATTR_SKIP_CPU_SYNC);
	assert_int_equal(swiommu_cache_maintenance_count(), before);
	assert_int_equal(swiommu_dma_read(dev, 0, addr, got, 4), 0);
	assert_string_equal(got, "");
	assert_int_equal(swiommu_dma_write(dev, 0, addr, "dev", 4), 0);
	dma_unmap_page_attrs(dev, addr, PAGE_SIZE, DMA_BIDIRECTIONAL, DMA_ATTR_SKIP_CPU_SYNC);
	assert_string_equal(buf, "cpu");
	/* An explicit sync then does what unmap skipped. */
	dma_sync_single_for_cpu(dev, addr, PAGE_SIZE, DMA_BIDIRECTIONAL);
	assert_string_equal(buf, "dev");
	__free_page(pg);
}

static void small_kmalloc_buffers_bounce_for_a_noncoherent_master(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(NONCOH_PATH);
	char *small = kmalloc(64, GFP_KERNEL);
	char *aligned = kmalloc(128, GFP_KERNEL);

	assert_int_equal(dma_get_cache_alignment(), ARCH_DMA_MINALIGN);
	assert_int_equal(ARCH_DMA_MINALIGN, 128);
	assert_int_equal(ARCH_KMALLOC_MINALIGN, 8);
	assert_int_equal(dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64)), 0);
	assert_true(dma_kmalloc_needs_bounce(dev, 64, DMA_FROM_DEVICE));
	assert_false(dma_kmalloc_needs_bounce(dev, 64, DMA_TO_DEVICE));
	assert_false(dma_kmalloc_needs_bounce(dev, 128, DMA_FROM_DEVICE));
	assert_true(dma_kmalloc_needs_bounce(dev, 192, DMA_BIDIRECTIONAL));

	dma_addr_t addr = dma_map_single(dev, small, 64, DMA_FROM_DEVICE);
	assert_true(in_swiotlb(addr, 64));
	assert_int_equal(swiommu_dma_write(dev, 0, addr, "bounced", 8), 0);
	dma_unmap_single(dev, addr, 64, DMA_FROM_DEVICE);
	assert_string_equal(small, "bounced");

	addr = dma_map_single(dev, small, 64, DMA_TO_DEVICE);
	assert_int_equal(addr, virt_to_phys(small));
	dma_unmap_single(dev, addr, 64, DMA_TO_DEVICE);
	addr = dma_map_single(dev, aligned, 128, DMA_FROM_DEVICE);
	assert_int_equal(addr, virt_to_phys(aligned));
	dma_unmap_single(dev, addr, 128, DMA_FROM_DEVICE);
	kfree(small);
	kfree(aligned);
}

static void coherent_memory_of_a_noncoherent_master_needs_no_maintenance(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(NONCOH_PATH);
	dma_addr_t handle;
	char got[8] = { 0 };
	char *cpu = dma_alloc_coherent(dev, 3000, &handle, GFP_KERNEL);
	unsigned long before = swiommu_cache_maintenance_count();

	assert_non_null(cpu);
	assert_true(is_vmalloc_addr(cpu));	/* an uncached remap, as arm64's DMA_DIRECT_REMAP */
	assert_true(handle + PAGE_SIZE - 1 <= DMA_BIT_MASK(32));
	assert_int_equal(cpu[0], 0);		/* zeroed */
	strcpy(cpu, "cpu");
	assert_int_equal(swiommu_dma_read(dev, 0, handle, got, 4), 0);
	assert_string_equal(got, "cpu");
	assert_int_equal(swiommu_dma_write(dev, 0, handle + 8, "dev", 4), 0);
	assert_string_equal(cpu + 8, "dev");
	assert_int_equal(swiommu_cache_maintenance_count(), before);
	dma_free_coherent(dev, 3000, cpu, handle);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void coherent_memory_of_a_coherent_master_is_the_linear_map(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(DMA32_PATH);
	dma_addr_t handle;
	char *cpu = dma_alloc_coherent(dev, PAGE_SIZE, &handle, GFP_KERNEL);

	assert_non_null(cpu);
	assert_false(is_vmalloc_addr(cpu));
	assert_int_equal(virt_to_phys(cpu), handle);
	assert_true(handle < FOUR_G);		/* the 32-bit coherent mask picked ZONE_DMA */
	dma_free_coherent(dev, PAGE_SIZE, cpu, handle);

	/* The codec's coherent memory lies in its window; the handle is a bus address. */
	struct device *codec = swiommu_find_device(CODEC_PATH);
	cpu = dma_alloc_coherent(codec, PAGE_SIZE, &handle, GFP_KERNEL);
	assert_non_null(cpu);
	assert_true(handle <= 0x0fffffff);
	dma_free_coherent(codec, PAGE_SIZE, cpu, handle);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void noncoherent_allocations_stay_cached(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(NONCOH_PATH);
	dma_addr_t handle;
	char got[8] = { 0 };
	char *cpu = dma_alloc_noncoherent(dev, PAGE_SIZE, &handle, DMA_TO_DEVICE, GFP_KERNEL);

	assert_non_null(cpu);
	assert_false(is_vmalloc_addr(cpu));
	assert_int_equal(virt_to_phys(cpu), handle);
	strcpy(cpu, "cpu");
	assert_int_equal(swiommu_dma_read(dev, 0, handle, got, 4), 0);
	assert_string_equal(got, "");
	dma_sync_single_for_device(dev, handle, PAGE_SIZE, DMA_TO_DEVICE);
	assert_int_equal(swiommu_dma_read(dev, 0, handle, got, 4), 0);
	assert_string_equal(got, "cpu");
	dma_free_noncoherent(dev, PAGE_SIZE, cpu, handle, DMA_TO_DEVICE);

	struct page *pg = dma_alloc_pages(dev, 2 * PAGE_SIZE, &handle, DMA_FROM_DEVICE, GFP_KERNEL);
	assert_non_null(pg);
	assert_int_equal(page_to_phys(pg), handle);
	dma_free_pages(dev, 2 * PAGE_SIZE, pg, handle, DMA_FROM_DEVICE);

	struct sg_table *sgt = dma_alloc_noncontiguous(dev, 3 * PAGE_SIZE, DMA_BIDIRECTIONAL, GFP_KERNEL, 0);
	assert_non_null(sgt);
	assert_int_equal(sgt->nents, 1);
	assert_int_equal(sgt->orig_nents, 1);
	assert_int_equal(sg_dma_len(sgt->sgl), 3 * PAGE_SIZE);
	assert_int_equal(sg_dma_address(sgt->sgl), sg_phys(sgt->sgl));
	void *v = dma_vmap_noncontiguous(dev, 3 * PAGE_SIZE, sgt);
	assert_ptr_equal(v, sg_virt(sgt->sgl));
	dma_vunmap_noncontiguous(dev, v);
	dma_free_noncontiguous(dev, 3 * PAGE_SIZE, sgt, DMA_BIDIRECTIONAL);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void a_scatterlist_maps_entry_by_entry(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(DMA32_PATH);
	struct page *pages[3];
	struct sg_table sgt;
	struct scatterlist *sg;
	char got[8] = { 0 };
	char want[4];
	unsigned int i;

	for (i = 0; i < 3; i++)
		pages[i] = alloc_page(GFP_KERNEL);	/* above 4 GiB: all three bounce */
	assert_int_equal(sg_alloc_table(&sgt, 3, GFP_KERNEL), 0);
	for_each_sgtable_sg(&sgt, sg, i) {
		sg_set_page(sg, pages[i], 1000, 8 * i);
		memset((char *)page_address(pages[i]) + 8 * i, 'a' + i, 4);
	}
	assert_int_equal(dma_map_sgtable(dev, &sgt, DMA_BIDIRECTIONAL, 0), 0);
	assert_int_equal(sgt.nents, 3);
	for_each_sgtable_dma_sg(&sgt, sg, i) {
		assert_true(in_swiotlb(sg_dma_address(sg), 1000));
		assert_int_equal(sg_dma_len(sg), 1000);
		assert_int_equal(swiommu_dma_read(dev, 0, sg_dma_address(sg), got, 4), 0);
		memset(want, 'a' + i, 4);
		assert_memory_equal(got, want, 4);
		assert_int_equal(swiommu_dma_write(dev, 0, sg_dma_address(sg), "XY", 2), 0);
	}
	dma_sync_sgtable_for_cpu(dev, &sgt, DMA_BIDIRECTIONAL);
	assert_memory_equal((char *)page_address(pages[2]) + 16, "XY", 2);
	dma_unmap_sgtable(dev, &sgt, DMA_BIDIRECTIONAL, 0);
	assert_int_equal(swiommu_swiotlb_used(), 0);
	/* On a device that reaches everything, dma_map_sg returns the physical addresses. */
	assert_int_equal(dma_set_mask(dev, DMA_BIT_MASK(64)), 0);
	assert_int_equal(dma_map_sg(dev, sgt.sgl, 3, DMA_TO_DEVICE), 3);
	for_each_sg(sgt.sgl, sg, 3, i)
		assert_int_equal(sg_dma_address(sg), page_to_phys(pages[i]) + 8 * i);
	dma_unmap_sg(dev, sgt.sgl, 3, DMA_TO_DEVICE);
	sg_free_table(&sgt);
	for (i = 0; i < 3; i++)
		__free_page(pages[i]);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void masks_and_limits_follow_the_kernel(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(DMA32_PATH);
	struct device *codec = swiommu_find_device(CODEC_PATH);
	struct device *noncoh = swiommu_find_device(NONCOH_PATH);

	/* RAM starts at 2 GiB: a 24-bit mask cannot reach ZONE_DMA's top; 31 bits neither. */
	assert_int_equal(dma_set_mask(dev, DMA_BIT_MASK(24)), -EIO);
	assert_int_equal(dma_set_coherent_mask(dev, DMA_BIT_MASK(31)), -EIO);
	assert_int_equal(dma_get_mask(dev), DMA_BIT_MASK(32));
	assert_int_equal(dma_get_required_mask(dev), DMA_BIT_MASK(36));	/* RAM ends at 0x8ffffffff */
	assert_true(dma_addressing_limited(dev));
	assert_true(swiommu_log_contains("device is DMA addressing limited"));
	assert_int_equal(dma_max_mapping_size(dev), IO_TLB_SIZE * IO_TLB_SEGSIZE);
	assert_int_equal(dma_opt_mapping_size(dev), IO_TLB_SIZE * IO_TLB_SEGSIZE);
	assert_int_equal(dma_get_merge_boundary(dev), 0);
	assert_true(dma_can_mmap(dev));
	assert_int_equal(dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64)), 0);
	assert_int_equal(dev->coherent_dma_mask, DMA_BIT_MASK(64));
	assert_false(dma_addressing_limited(dev));
	assert_int_equal(dma_max_mapping_size(dev), SIZE_MAX);
	assert_true(dev->dma_skip_sync);	/* coherent: dma_setup_need_sync */
	assert_false(dma_need_sync(dev, 0x880000000ULL));
	assert_true(dma_need_sync(dev, default_swiotlb_base()));	/* a bounce buffer is always synced */
	assert_false(noncoh->dma_skip_sync);
	assert_true(dma_need_sync(noncoh, 0x880000000ULL));

	/* The codec's window does not cover all RAM, whatever its mask. */
	assert_int_equal(dma_set_mask_and_coherent(codec, DMA_BIT_MASK(64)), 0);
	assert_true(dma_addressing_limited(codec));

	/* Segment limits live in the platform device's dma_parms. */
	assert_int_equal(dma_get_max_seg_size(dev), SZ_64K);
	dma_set_max_seg_size(dev, SZ_1M);
	assert_int_equal(dma_get_max_seg_size(dev), SZ_1M);
	assert_int_equal(dma_get_seg_boundary(dev), ULONG_MAX);
	dma_set_seg_boundary(dev, SZ_4G - 1);
	assert_int_equal(dma_get_seg_boundary(dev), SZ_4G - 1);
	assert_int_equal(dma_get_seg_boundary_nr_pages(dev, PAGE_SHIFT), SZ_4G >> PAGE_SHIFT);
	dma_set_min_align_mask(dev, 0xfff);
	assert_int_equal(dma_get_min_align_mask(dev), 0xfff);
	assert_int_equal(swiotlb_max_mapping_size(dev), IO_TLB_SIZE * IO_TLB_SEGSIZE - 4096);
	assert_int_equal(swiommu_warn_count(), 0);
}

static void coerce_points_the_mask_at_the_coherent_mask(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(DMA32_PATH);

	assert_int_equal(dma_coerce_mask_and_coherent(dev, DMA_BIT_MASK(40)), 0);
	assert_ptr_equal(dev->dma_mask, &dev->coherent_dma_mask);
	assert_int_equal(dma_get_mask(dev), DMA_BIT_MASK(40));
}

static void managed_coherent_memory_goes_at_unbind(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(DMA32_PATH);
	dma_addr_t h1, h2;
	void *a = dmam_alloc_coherent(dev, PAGE_SIZE, &h1, GFP_KERNEL);
	void *b = dmam_alloc_coherent(dev, 2 * PAGE_SIZE, &h2, GFP_KERNEL);

	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(h1, virt_to_phys(a));
	dmam_free_coherent(dev, PAGE_SIZE, a, h1);
	assert_int_equal(swiommu_warn_count(), 0);
	/* b is released when the driver unbinds. */
	platform_driver_unregister(&dma_test_driver);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
	assert_int_equal(platform_driver_register(&dma_test_driver), 0);
}

static void coherent_memory_maps_into_a_user_mapping(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(NONCOH_PATH);
	dma_addr_t handle;
	char *cpu = dma_alloc_coherent(dev, 2 * PAGE_SIZE, &handle, GFP_KERNEL);
	struct vm_area_struct *vma = swiommu_vma_alloc(PAGE_SIZE);
	char got[8] = { 0 };

	assert_non_null(vma);
	assert_int_equal(vma_pages(vma), 1);
	vma->vm_pgoff = 1;	/* the second page of the buffer */
	assert_int_equal(dma_mmap_coherent(dev, vma, cpu, handle, 2 * PAGE_SIZE), 0);
	assert_int_equal(vma->vm_page_prot.pgprot, pgprot_dmacoherent(PAGE_KERNEL).pgprot);
	strcpy((char *)vma->vm_start, "user");
	assert_string_equal(cpu + PAGE_SIZE, "user");
	/* Uncached all the way: the device sees it too. */
	assert_int_equal(swiommu_dma_read(dev, 0, handle + PAGE_SIZE, got, 5), 0);
	assert_string_equal(got, "user");

	struct sg_table sgt;
	assert_int_equal(dma_get_sgtable(dev, &sgt, cpu, handle, 2 * PAGE_SIZE), 0);
	assert_int_equal(sgt.orig_nents, 1);
	assert_int_equal(sg_phys(sgt.sgl), dma_to_phys(dev, handle));
	assert_int_equal(sgt.sgl->length, 2 * PAGE_SIZE);
	sg_free_table(&sgt);
	swiommu_vma_free(vma);
	dma_free_coherent(dev, 2 * PAGE_SIZE, cpu, handle);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void map_resource_passes_mmio_through(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(DMA32_PATH);
	/* A peer's FIFO register below RAM: not translated, only checked against the mask. */
	dma_addr_t addr = dma_map_resource(dev, 0x40001000, 4, DMA_TO_DEVICE, 0);

	assert_int_equal(addr, 0x40001000);
	dma_unmap_resource(dev, addr, 4, DMA_TO_DEVICE, 0);
}

static int ops_calls;
static dma_addr_t fake_map_page(struct device *dev, struct page *page, unsigned long offset, size_t size,
				enum dma_data_direction dir, unsigned long attrs)
{
	(void)dev; (void)size; (void)dir; (void)attrs;
	ops_calls++;
	return 0x1000 + offset + (page_to_phys(page) & 0xfff);
}

static void fake_unmap_page(struct device *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir,
			    unsigned long attrs)
{
	(void)dev; (void)addr; (void)size; (void)dir; (void)attrs;
	ops_calls += 10;
}

static const struct dma_map_ops fake_ops = { .map_page = fake_map_page, .unmap_page = fake_unmap_page };

static void ops_installed_with_set_dma_ops_take_the_calls(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(DMA32_PATH);
	struct page *pg = alloc_page(GFP_KERNEL);

	set_dma_ops(dev, &fake_ops);
	assert_ptr_equal(get_dma_ops(dev), &fake_ops);
	dma_addr_t addr = dma_map_page(dev, pg, 12, 100, DMA_TO_DEVICE);
	assert_int_equal(addr, 0x1000 + 12);
	dma_unmap_page(dev, addr, 100, DMA_TO_DEVICE);
	assert_int_equal(ops_calls, 11);
	assert_false(dma_pci_p2pdma_supported(dev));
	assert_int_equal(swiommu_swiotlb_used(), 0);	/* dma-direct never ran */
	set_dma_ops(dev, NULL);
	__free_page(pg);
}

static void every_channel_of_the_engine_gets_an_address(void **state)
{
	(void)state;
	/* The engine's IOMMUs have no driver in this suite: every channel is direct, one bus address. */
	struct device *dev = swiommu_find_device(ENGINE_PATH);
	struct page *pg = alloc_page(GFP_DMA32);
	dma_addr_t addrs[8];
	int i;

	memset(addrs, 0, sizeof(addrs));
	dma_addr_t first = dma_map_page_attrs_multi(dev, pg, 0, PAGE_SIZE, DMA_TO_DEVICE, 0, 0xc1, addrs);
	assert_int_equal(dma_mapping_error(dev, first), 0);
	assert_int_equal(first, page_to_phys(pg));
	for (i = 0; i < 8; i++)
		assert_int_equal(addrs[i], (0xc1 & (1 << i)) ? page_to_phys(pg) : 0);
	dma_unmap_page_attrs_multi(dev, addrs, PAGE_SIZE, DMA_TO_DEVICE, 0, 0xc1);
	assert_int_equal(swiommu_warn_count(), 0);
	__free_page(pg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_buffer_above_4g_bounces_for_a_32bit_master, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(a_buffer_the_master_reaches_is_not_bounced, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(dma_ranges_give_bus_addresses_and_bounce_outside_the_window, boot_without_iommu_drivers_and_bind,
						unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(a_noncoherent_master_sees_what_map_and_sync_clean, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(a_noncoherent_master_writes_reach_the_cpu_after_sync_for_cpu, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(skip_cpu_sync_skips_the_maintenance, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(small_kmalloc_buffers_bounce_for_a_noncoherent_master, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(coherent_memory_of_a_noncoherent_master_needs_no_maintenance, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(coherent_memory_of_a_coherent_master_is_the_linear_map, boot_without_iommu_drivers_and_bind,
						unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(noncoherent_allocations_stay_cached, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(a_scatterlist_maps_entry_by_entry, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(masks_and_limits_follow_the_kernel, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(coerce_points_the_mask_at_the_coherent_mask, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(managed_coherent_memory_goes_at_unbind, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(coherent_memory_maps_into_a_user_mapping, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(map_resource_passes_mmio_through, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(ops_installed_with_set_dma_ops_take_the_calls, boot_and_bind, unbind_and_shut_down),
		cmocka_unit_test_setup_teardown(every_channel_of_the_engine_gets_an_address, boot_without_iommu_drivers_and_bind,
						unbind_and_shut_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
