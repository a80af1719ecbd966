// SPDX-License-Identifier: MIT
// The DMA API through an IOMMU (dma-iommu) on the default board: which path masters behind an IOMMU take;
// IOVAs top-down from the mask, bus limit and aperture, 32-bit first for PCI; map_page/unmap_page with
// device DMA through the IOVA; strict and lazy (flush queue) invalidation and what device DMA sees in the
// lazy window; map_sg into one IOVA range with the kernel's padding and merging; non-coherent cache
// maintenance and kmalloc bouncing; a 16 KiB DART under a 4 KiB kernel; coherent, non-contiguous and page
// allocations; map_resource and the limits. The MMU-500 masters (ethernet, the PCI functions) sit behind the
// example C driver (examples/iommu/lpae_iommu.c), the others behind the built-in models.
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
#include <linux/swiotlb.h>
#include <linux/vmalloc.h>
#include <swiommu/swiommu.h>
#include "test_dma_iommu.h"

/* A board with the flush queue on: lazy unmapping where the driver reports IOMMU_CAP_DEFERRED_FLUSH. */
#define LAZY	"/ { chosen { swiommu,iommu-strict = <0>; }; };"

static void fill(void *p, int seed, size_t len)
{
	for (size_t i = 0; i < len; i++)
		((unsigned char *)p)[i] = (unsigned char)(seed + i * 7);
}

static struct swiommu_iotlb_stats iotlb(struct device *dev)
{
	struct swiommu_iotlb_stats s;

	assert_int_equal(swiommu_iommu_iotlb_stats(dev, 0, &s), 0);
	return s;
}

// MARK: The path

static void a_master_on_a_dma_domain_uses_iommu_dma(void **state)
{
	(void)state;
	struct device *eth = swiommu_find_device(ETH);

	assert_true(device_is_bound(eth));
	assert_int_equal(iommu_get_domain_for_dev(eth)->type, IOMMU_DOMAIN_DMA);
	assert_true(eth->dma_iommu);
	assert_ptr_equal(get_dma_ops(eth), NULL);
	/* IOMMU DMA can place IOVAs anywhere: the kernel's dma_get_required_mask says 32 bits. */
	assert_int_equal(dma_get_required_mask(eth), DMA_BIT_MASK(32));
	platform_driver_unregister(&master_driver);
	assert_false(eth->dma_iommu);
	assert_int_equal(platform_driver_register(&master_driver), 0);
}

static void an_unmanaged_domain_leaves_the_dma_api_on_the_default_domain(void **state)
{
	(void)state;
	struct device *eth = swiommu_find_device(ETH);
	struct iommu_domain *dflt = iommu_get_domain_for_dev(eth);
	struct iommu_domain *own = iommu_paging_domain_alloc(eth);
	struct page *pg = alloc_page(GFP_KERNEL);

	assert_false(IS_ERR(own));
	assert_int_equal(iommu_attach_device(own, eth), 0);
	assert_ptr_equal(iommu_get_domain_for_dev(eth), own);
	/* iommu_get_dma_domain(): the DMA API keeps mapping in the group's default domain. */
	assert_true(eth->dma_iommu);
	assert_int_equal(dflt->type, IOMMU_DOMAIN_DMA);
	dma_addr_t addr = dma_map_page(eth, pg, 0, PAGE_SIZE, DMA_TO_DEVICE);
	assert_int_equal(addr, 0xfffff000);
	assert_int_equal(iommu_iova_to_phys(dflt, addr), page_to_phys(pg));
	assert_int_equal(iommu_iova_to_phys(own, addr), 0);
	dma_unmap_page(eth, addr, PAGE_SIZE, DMA_TO_DEVICE);
	iommu_detach_device(own, eth);
	iommu_domain_free(own);
	__free_page(pg);
}

static int calls;
static dma_addr_t counting_map_page(struct device *dev, struct page *page, unsigned long offset, size_t size,
				    enum dma_data_direction dir, unsigned long attrs)
{
	(void)dev; (void)page; (void)offset; (void)size; (void)dir; (void)attrs;
	calls++;
	return 0x1000;
}
static const struct dma_map_ops counting_ops = { .map_page = counting_map_page };

static void iommu_dma_comes_before_installed_ops(void **state)
{
	(void)state;
	struct device *eth = swiommu_find_device(ETH);
	struct page *pg = alloc_page(GFP_KERNEL);

	set_dma_ops(eth, &counting_ops);
	dma_addr_t addr = dma_map_page(eth, pg, 0, 64, DMA_TO_DEVICE);
	assert_int_equal(calls, 0);	/* use_dma_iommu() wins in dma_map_page_attrs */
	assert_int_equal(addr, 0xfffff000);
	dma_unmap_page(eth, addr, 64, DMA_TO_DEVICE);
	set_dma_ops(eth, NULL);
	__free_page(pg);
}

// MARK: IOVAs

static void iovas_come_top_down_below_the_mask_keeping_the_offset(void **state)
{
	(void)state;
	struct device *eth = swiommu_find_device(ETH);
	struct iommu_domain *d = iommu_get_domain_for_dev(eth);
	struct page *pg = alloc_pages(GFP_KERNEL, 2);
	char buf[64], got[64];

	fill(buf, 1, sizeof(buf));
	memcpy((char *)page_address(pg) + 0x10, buf, sizeof(buf));
	/* The platform default mask is 32 bits: the first granule below 4 GiB, with the buffer's offset. */
	dma_addr_t a = dma_map_page(eth, pg, 0x10, 64, DMA_TO_DEVICE);
	assert_int_equal(dma_mapping_error(eth, a), 0);
	assert_int_equal(a, 0xfffff010);
	assert_int_equal(iommu_iova_to_phys(d, a), page_to_phys(pg) + 0x10);
	/* Two granules: size-aligned, under the first. */
	dma_addr_t b = dma_map_page(eth, pg, 0, 2 * PAGE_SIZE, DMA_BIDIRECTIONAL);
	assert_int_equal(dma_mapping_error(eth, b), 0);
	assert_int_equal(b, 0xffffc000);
	/* A buffer straddling a granule boundary takes two granules, the offset kept. */
	dma_addr_t c = dma_map_page(eth, pg, PAGE_SIZE - 8, 16, DMA_BIDIRECTIONAL);
	assert_int_equal(dma_mapping_error(eth, c), 0);
	assert_int_equal(c, 0xffffaff8);
	assert_int_equal(iommu_iova_to_phys(d, c + 8), page_to_phys(pg) + PAGE_SIZE);

	/* The device reads the buffer through the IOVA. */
	assert_int_equal(swiommu_dma_read(eth, 0, a, got, sizeof(got)), 0);
	assert_memory_equal(got, buf, sizeof(buf));
	assert_int_equal(swiommu_dma_write(eth, 0, b + 64, buf, 8), 0);
	assert_memory_equal((char *)page_address(pg) + 64, buf, 8);

	dma_unmap_page(eth, a, 64, DMA_TO_DEVICE);
	dma_unmap_page(eth, b, 2 * PAGE_SIZE, DMA_BIDIRECTIONAL);
	dma_unmap_page(eth, c, 16, DMA_BIDIRECTIONAL);
	assert_int_equal(iommu_iova_to_phys(d, a), 0);
	assert_int_equal(swiommu_dma_read(eth, 0, a, got, 4), -EFAULT);
	/* A freed IOVA comes back from the rcache. */
	a = dma_map_page(eth, pg, 0x20, 64, DMA_TO_DEVICE);
	assert_int_equal(dma_mapping_error(eth, a), 0);
	assert_int_equal(a, 0xfffff020);
	dma_unmap_page(eth, a, 64, DMA_TO_DEVICE);

	/* A 64-bit mask: the aperture (48 bits on this SMMU) is the limit. (The rcache hands back what it holds
	 * of a size class whatever the limit: four granules, a class it has none of, show the new limit.) */
	assert_int_equal(dma_set_mask_and_coherent(eth, DMA_BIT_MASK(64)), 0);
	a = dma_map_page(eth, pg, 0, 4 * PAGE_SIZE, DMA_TO_DEVICE);
	assert_int_equal(dma_mapping_error(eth, a), 0);
	assert_int_equal(a, 0xffffffffc000ULL);
	dma_unmap_page(eth, a, 4 * PAGE_SIZE, DMA_TO_DEVICE);
	assert_int_equal(swiommu_warn_count(), 0);
	__free_pages(pg, 2);
}

static void the_bus_limit_and_reserved_regions_bound_the_iovas(void **state)
{
	(void)state;
	/* The codec sits behind a 256 MiB dma-ranges window, and its firmware owns the first MiB of IOVA space. */
	struct device *codec = swiommu_find_device(CODEC);
	struct page *pg = alloc_page(GFP_KERNEL);

	assert_true(codec->dma_iommu);
	assert_int_equal(codec->bus_dma_limit, 0x0fffffff);
	assert_int_equal(dma_set_mask_and_coherent(codec, DMA_BIT_MASK(64)), 0);
	dma_addr_t a = dma_map_page_attrs(codec, pg, 0x10, 64, DMA_TO_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
	assert_int_equal(a, 0x0ffff010);
	dma_unmap_page_attrs(codec, a, 64, DMA_TO_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
	/* A 1 MiB mapping below the firmware's MiB cannot go: every MiB above it can. */
	assert_int_equal(dma_set_mask(codec, DMA_BIT_MASK(21)), 0);
	a = dma_map_resource(codec, 0x60000000, SZ_1M, DMA_TO_DEVICE, 0);
	assert_int_equal(a, 0x100000);
	assert_int_equal(dma_map_resource(codec, 0x60000000, SZ_1M, DMA_TO_DEVICE, 0), DMA_MAPPING_ERROR);
	dma_unmap_resource(codec, a, SZ_1M, DMA_TO_DEVICE, 0);
	__free_page(pg);
}

static void pci_functions_try_32bit_iovas_first(void **state)
{
	(void)state;
	struct device *nic = swiommu_find_device(NIC);
	struct device *eth = swiommu_find_device(ETH);
	struct page *pg = alloc_page(GFP_KERNEL);

	assert_non_null(nic);
	assert_true(nic->dma_iommu);
	assert_int_equal(dma_set_mask_and_coherent(nic, DMA_BIT_MASK(64)), 0);
	assert_int_equal(dma_set_mask_and_coherent(eth, DMA_BIT_MASK(64)), 0);
	/* A platform master with a 64-bit mask starts at the top of the aperture; a PCI function below 4 GiB. */
	dma_addr_t e = dma_map_page(eth, pg, 0, 64, DMA_TO_DEVICE);
	assert_int_equal(dma_mapping_error(eth, e), 0);
	assert_int_equal(e, 0xfffffffff000ULL);
	dma_addr_t a = dma_map_page(nic, pg, 0, 64, DMA_TO_DEVICE);
	assert_int_equal(dma_mapping_error(nic, a), 0);
	assert_int_equal(a, 0xfffff000);
	/* 1 GiB, size-aligned: under a's GiB, 0x80000000. The next would be 0x40000000, but that GiB holds the
	 * bridge's memory window (0x50000000-0x5fffffff, reserved), and 0 is no IOVA: the 32-bit attempt fails,
	 * the notice says so, and the range comes from the full limit (the 48-bit aperture). (Two windows:
	 * dma-debug, as the kernel's, reports two live mappings of one cache line.) */
	dma_addr_t r1 = dma_map_resource(nic, 0x4000000000ULL, SZ_1G, DMA_BIDIRECTIONAL, 0);
	assert_int_equal(dma_mapping_error(nic, r1), 0);
	assert_int_equal(r1, 0x80000000);
	swiommu_log_reset();
	dma_addr_t r2 = dma_map_resource(nic, 0x4000000000ULL + SZ_1G, SZ_1G, DMA_BIDIRECTIONAL, 0);
	assert_int_equal(dma_mapping_error(nic, r2), 0);
	assert_int_equal(r2, 0xffffc0000000ULL);
	assert_true(swiommu_log_contains("Using 48-bit DMA addresses"));
	/* For good: with 32-bit space free again, a new range still comes from the top. */
	dma_unmap_page(nic, a, 64, DMA_TO_DEVICE);
	dma_unmap_resource(nic, r1, SZ_1G, DMA_BIDIRECTIONAL, 0);
	dma_addr_t b = dma_map_page(nic, pg, 0, 2 * PAGE_SIZE, DMA_TO_DEVICE);
	assert_int_equal(dma_mapping_error(nic, b), 0);
	assert_int_equal(b, 0xffffbfffe000ULL);
	dma_unmap_page(nic, b, 2 * PAGE_SIZE, DMA_TO_DEVICE);
	/* A granule cached by the rcache is handed out whatever the limit, as alloc_iova_fast does. */
	b = dma_map_page(nic, pg, 0, 64, DMA_TO_DEVICE);
	assert_int_equal(dma_mapping_error(nic, b), 0);
	assert_int_equal(b, 0xfffff000);
	dma_unmap_page(nic, b, 64, DMA_TO_DEVICE);
	dma_unmap_resource(nic, r2, SZ_1G, DMA_BIDIRECTIONAL, 0);
	dma_unmap_page(eth, e, 64, DMA_TO_DEVICE);
	assert_int_equal(swiommu_warn_count(), 0);
	__free_page(pg);
}

static void iommu_forcedac_skips_the_32bit_attempt(void **state)
{
	(void)state;
	reboot_with("/ { chosen { bootargs = \"iommu.strict=1 iommu.forcedac=1\"; }; };");
	struct device *nic = swiommu_find_device(NIC);
	struct page *pg = alloc_page(GFP_KERNEL);

	assert_true(swiommu_log_contains("Forcing DAC for PCI devices"));
	assert_int_equal(dma_set_mask_and_coherent(nic, DMA_BIT_MASK(64)), 0);
	dma_addr_t a = dma_map_page(nic, pg, 0, 64, DMA_TO_DEVICE);
	assert_int_equal(a, 0xfffffffff000ULL);
	dma_unmap_page(nic, a, 64, DMA_TO_DEVICE);
	__free_page(pg);
}

static void channels_map_through_their_own_paths(void **state)
{
	(void)state;
	/* The engine's channels 0-3 share one SMMUv3 domain (one address), 6-7 bypass translation. */
	struct device *eng = swiommu_find_device(ENGINE);
	struct page *pg = alloc_page(GFP_DMA32);
	dma_addr_t addrs[8];
	char got[4];

	memset(addrs, 0, sizeof(addrs));
	strcpy(page_address(pg), "dma");
	dma_addr_t first = dma_map_page_attrs_multi(eng, pg, 0, PAGE_SIZE, DMA_TO_DEVICE, 0, 0xc3, addrs);
	assert_int_equal(dma_mapping_error(eng, first), 0);
	assert_int_equal(first, 0xfffff000);
	assert_int_equal(addrs[1], 0xfffff000);
	assert_int_equal(addrs[6], page_to_phys(pg));
	assert_int_equal(addrs[7], page_to_phys(pg));
	assert_int_equal(swiommu_dma_read(eng, 1, addrs[1], got, 4), 0);
	assert_string_equal(got, "dma");
	assert_int_equal(swiommu_dma_read(eng, 6, addrs[6], got, 4), 0);
	assert_string_equal(got, "dma");
	dma_unmap_page_attrs_multi(eng, addrs, PAGE_SIZE, DMA_TO_DEVICE, 0, 0xc3);
	assert_int_equal(iommu_iova_to_phys(iommu_get_domain_for_dev(eng), 0xfffff000), 0);
	assert_int_equal(swiommu_warn_count(), 0);
	__free_page(pg);
}

// MARK: Strict and lazy invalidation

static void a_strict_unmap_invalidates_at_once(void **state)
{
	(void)state;
	struct device *eng = swiommu_find_device(ENGINE);
	struct page *pg = alloc_page(GFP_KERNEL);
	char got[16];

	assert_int_equal(iommu_get_domain_for_dev(eng)->type, IOMMU_DOMAIN_DMA);
	fill(page_address(pg), 3, 16);
	dma_addr_t a = dma_map_page(eng, pg, 0, PAGE_SIZE, DMA_TO_DEVICE);
	assert_int_equal(a, 0xfffff000);
	assert_int_equal(swiommu_dma_read(eng, 0, a, got, 16), 0);	/* the IOTLB caches it */
	/* The model's walk checks permissions: TO_DEVICE is read-only for the device. */
	assert_int_equal(swiommu_dma_write(eng, 0, a, got, 4), -EFAULT);
	struct swiommu_iotlb_stats before = iotlb(eng);
	dma_unmap_page(eng, a, PAGE_SIZE, DMA_TO_DEVICE);
	struct swiommu_iotlb_stats after = iotlb(eng);
	assert_int_equal(after.invalidate_range, before.invalidate_range + 1);
	assert_int_equal(after.invalidate_all + after.invalidate_context, before.invalidate_all + before.invalidate_context);
	assert_int_equal(swiommu_dma_read(eng, 0, a, got, 16), -EFAULT);
	__free_page(pg);
}

static void lazy_unmaps_leave_the_iotlb_until_the_flush(void **state)
{
	(void)state;
	reboot_with(LAZY);
	struct device *eng = swiommu_find_device(ENGINE);
	struct page *pg = alloc_page(GFP_KERNEL);
	char want[16], got[16];

	assert_int_equal(iommu_get_domain_for_dev(eng)->type, IOMMU_DOMAIN_DMA_FQ);
	fill(want, 5, sizeof(want));
	memcpy(page_address(pg), want, sizeof(want));
	dma_addr_t a = dma_map_page(eng, pg, 0, PAGE_SIZE, DMA_TO_DEVICE);
	assert_int_equal(a, 0xfffff000);
	assert_int_equal(swiommu_dma_read(eng, 0, a, got, 16), 0);
	struct swiommu_iotlb_stats before = iotlb(eng);
	dma_unmap_page(eng, a, PAGE_SIZE, DMA_TO_DEVICE);
	/* No invalidation yet: the device still reaches the old page through its IOTLB. */
	struct swiommu_iotlb_stats after = iotlb(eng);
	assert_int_equal(after.invalidate_range + after.invalidate_context + after.invalidate_all,
			 before.invalidate_range + before.invalidate_context + before.invalidate_all);
	memset(got, 0, sizeof(got));
	assert_int_equal(swiommu_dma_read(eng, 0, a, got, 16), 0);
	assert_memory_equal(got, want, sizeof(want));
	/* The queued IOVA is not handed out again before the flush. */
	dma_addr_t b = dma_map_page(eng, pg, 0, PAGE_SIZE, DMA_TO_DEVICE);
	assert_int_equal(b, 0xffffe000);
	dma_unmap_page(eng, b, PAGE_SIZE, DMA_TO_DEVICE);
	/* 10 ms of virtual time: the flush-queue timer flushes the whole IOTLB once and frees the IOVAs. */
	swiommu_iova_clock_advance(9);
	assert_int_equal(swiommu_dma_read(eng, 0, a, got, 16), 0);
	swiommu_iova_clock_advance(1);
	after = iotlb(eng);
	assert_int_equal(after.invalidate_context + after.invalidate_all,
			 before.invalidate_context + before.invalidate_all + 1);
	assert_int_equal(after.invalidate_range, before.invalidate_range);
	assert_int_equal(swiommu_dma_read(eng, 0, a, got, 16), -EFAULT);
	b = dma_map_page(eng, pg, 0, PAGE_SIZE, DMA_TO_DEVICE);
	assert_int_equal(b, 0xffffe000);	/* the rcache hands back the last one freed */
	dma_unmap_page(eng, b, PAGE_SIZE, DMA_TO_DEVICE);
	__free_page(pg);
}

static unsigned long flushes(struct device *dev)
{
	struct swiommu_iotlb_stats s = iotlb(dev);

	return s.invalidate_all + s.invalidate_context;
}

static void a_full_flush_queue_flushes_at_once(void **state)
{
	(void)state;
	reboot_with(LAZY);
	struct device *eng = swiommu_find_device(ENGINE);
	struct page *pg = alloc_page(GFP_KERNEL);
	dma_addr_t first = 0;
	char got[4];

	unsigned long before = flushes(eng);
	/* A ring of 256 holds 255: the 256th unmap finds it full and flushes first. */
	for (int i = 0; i < 255; i++) {
		dma_addr_t a = dma_map_page(eng, pg, 0, PAGE_SIZE, DMA_TO_DEVICE);
		assert_int_equal(a, 0xfffff000 - (dma_addr_t)i * PAGE_SIZE);
		if (i == 0) {
			first = a;
			assert_int_equal(swiommu_dma_read(eng, 0, a, got, 4), 0);
		}
		dma_unmap_page(eng, a, PAGE_SIZE, DMA_TO_DEVICE);
	}
	assert_int_equal(flushes(eng), before);
	assert_int_equal(swiommu_dma_read(eng, 0, first, got, 4), 0);	/* stale, still in the IOTLB */
	dma_addr_t a = dma_map_page(eng, pg, 0, PAGE_SIZE, DMA_TO_DEVICE);
	assert_int_equal(a, 0xfffff000 - 255 * PAGE_SIZE);
	dma_unmap_page(eng, a, PAGE_SIZE, DMA_TO_DEVICE);
	assert_int_equal(flushes(eng), before + 1);
	assert_int_equal(swiommu_dma_read(eng, 0, first, got, 4), -EFAULT);
	/* The 255 flushed IOVAs are free again: the last one freed comes back first. */
	a = dma_map_page(eng, pg, 0, PAGE_SIZE, DMA_TO_DEVICE);
	assert_int_equal(a, 0xfffff000 - 254 * PAGE_SIZE);
	dma_unmap_page(eng, a, PAGE_SIZE, DMA_TO_DEVICE);
	swiommu_iova_clock_advance(10);
	assert_int_equal(flushes(eng), before + 2);
	__free_page(pg);
}

static void each_thread_has_its_own_ring(void **state)
{
	(void)state;
	reboot_with(LAZY);
	struct device *eng = swiommu_find_device(ENGINE);
	struct page *pg = alloc_page(GFP_KERNEL);

	unsigned long before = flushes(eng);
	/* 200 unmaps as CPU 0 and 200 as CPU 1: one ring of 256 would have overflowed, two do not. */
	for (int cpu = 0; cpu < 2; cpu++) {
		assert_int_equal(swiommu_iova_set_cpu(cpu), 0);
		for (int i = 0; i < 200; i++) {
			dma_addr_t a = dma_map_page(eng, pg, 0, PAGE_SIZE, DMA_TO_DEVICE);
			assert_false(dma_mapping_error(eng, a));
			dma_unmap_page(eng, a, PAGE_SIZE, DMA_TO_DEVICE);
		}
	}
	assert_int_equal(swiommu_iova_set_cpu(0), 0);
	assert_int_equal(flushes(eng), before);
	/* The timer drains every ring. */
	swiommu_iova_clock_advance(10);
	assert_int_equal(flushes(eng), before + 1);
	/* And only once: no new entries, no new timer. */
	swiommu_iova_clock_advance(100);
	assert_int_equal(flushes(eng), before + 1);
	__free_page(pg);
}

// MARK: Scatterlists

static void map_sg_lays_the_list_out_in_one_iova_range(void **state)
{
	(void)state;
	struct device *eth = swiommu_find_device(ETH);
	struct page *p[4];
	struct scatterlist sg[4];
	char got[64];

	for (int i = 0; i < 4; i++) {
		p[i] = alloc_page(GFP_KERNEL);
		fill(page_address(p[i]), 10 * i, PAGE_SIZE);
	}
	sg_init_table(sg, 4);
	sg_set_page(&sg[0], p[0], PAGE_SIZE, 0);
	sg_set_page(&sg[1], p[1], PAGE_SIZE, 0);	/* starts on a granule: merges */
	sg_set_page(&sg[2], p[2], 1024, 512);	/* in-granule offset: a new segment at its offset */
	sg_set_page(&sg[3], p[3], PAGE_SIZE, 0);	/* after an unaligned end: a new segment */
	assert_int_equal(dma_map_sg(eth, sg, 4, DMA_TO_DEVICE), 3);
	/* Four granules, size-aligned under 4 GiB. */
	assert_int_equal(sg_dma_address(&sg[0]), 0xffffc000);
	assert_int_equal(sg_dma_len(&sg[0]), 2 * PAGE_SIZE);
	assert_int_equal(sg_dma_address(&sg[1]), 0xffffe200);
	assert_int_equal(sg_dma_len(&sg[1]), 1024);
	assert_int_equal(sg_dma_address(&sg[2]), 0xfffff000);
	assert_int_equal(sg_dma_len(&sg[2]), PAGE_SIZE);
	assert_int_equal(sg_dma_len(&sg[3]), 0);
	/* The CPU side is as the driver set it. */
	assert_int_equal(sg[2].offset, 512);
	assert_int_equal(sg[2].length, 1024);
	assert_ptr_equal(sg_page(&sg[2]), p[2]);
	/* The device reads across the merged segment, from the scattered pages. */
	assert_int_equal(swiommu_dma_read(eth, 0, 0xffffc000 + PAGE_SIZE - 32, got, 64), 0);
	assert_memory_equal(got, (char *)page_address(p[0]) + PAGE_SIZE - 32, 32);
	assert_memory_equal(got + 32, page_address(p[1]), 32);
	assert_int_equal(swiommu_dma_read(eth, 0, sg_dma_address(&sg[1]), got, 64), 0);
	assert_memory_equal(got, (char *)page_address(p[2]) + 512, 64);
	dma_unmap_sg(eth, sg, 4, DMA_TO_DEVICE);
	assert_int_equal(iommu_iova_to_phys(iommu_get_domain_for_dev(eth), 0xffffc000), 0);
	assert_int_equal(iommu_iova_to_phys(iommu_get_domain_for_dev(eth), 0xfffff000), 0);

	/* A 4 KiB maximum segment size: nothing merges. */
	dma_set_max_seg_size(eth, PAGE_SIZE);
	sg_init_table(sg, 2);
	sg_set_page(&sg[0], p[0], PAGE_SIZE, 0);
	sg_set_page(&sg[1], p[1], PAGE_SIZE, 0);
	assert_int_equal(dma_map_sg(eth, sg, 2, DMA_TO_DEVICE), 2);
	/* The freed range sits in the rcache (still in the tree): the next goes under it. */
	assert_int_equal(sg_dma_address(&sg[0]), 0xffffa000);
	assert_int_equal(sg_dma_address(&sg[1]), 0xffffb000);
	dma_unmap_sg(eth, sg, 2, DMA_TO_DEVICE);
	assert_int_equal(swiommu_warn_count(), 0);
	for (int i = 0; i < 4; i++)
		__free_page(p[i]);
}

static void map_sg_pads_to_segment_boundaries(void **state)
{
	(void)state;
	struct device *eth = swiommu_find_device(ETH);
	struct page *one = alloc_page(GFP_KERNEL);
	struct page *two = alloc_pages(GFP_KERNEL, 1);
	struct scatterlist sg[2];
	struct sg_table sgt = { .sgl = sg, .nents = 2, .orig_nents = 2 };
	char got[16];

	/* An 8 KiB boundary: the 8 KiB entry may not straddle one, so the 4 KiB entry before it is padded. */
	dma_set_seg_boundary(eth, SZ_8K - 1);
	fill(page_address(two), 9, 2 * PAGE_SIZE);
	sg_init_table(sg, 2);
	sg_set_page(&sg[0], one, PAGE_SIZE, 0);
	sg_set_page(&sg[1], two, 2 * PAGE_SIZE, 0);
	assert_int_equal(dma_map_sgtable(eth, &sgt, DMA_TO_DEVICE, 0), 0);
	assert_int_equal(sgt.nents, 2);
	assert_int_equal(sg_dma_address(&sg[0]), 0xffffc000);
	assert_int_equal(sg_dma_len(&sg[0]), PAGE_SIZE);
	assert_int_equal(sg_dma_address(&sg[1]), 0xffffe000);	/* on the boundary: not merged */
	assert_int_equal(sg_dma_len(&sg[1]), 2 * PAGE_SIZE);
	assert_int_equal(sg[0].length, PAGE_SIZE);
	assert_int_equal(swiommu_dma_read(eth, 0, 0xffffe000 + PAGE_SIZE, got, 16), 0);
	assert_memory_equal(got, (char *)page_address(two) + PAGE_SIZE, 16);
	dma_unmap_sgtable(eth, &sgt, DMA_TO_DEVICE, 0);
	assert_int_equal(iommu_iova_to_phys(iommu_get_domain_for_dev(eth), 0xffffd000), 0);
	__free_page(one);
	__free_pages(two, 1);
}

// MARK: Non-coherent masters

static void a_noncoherent_master_gets_cache_maintenance(void **state)
{
	(void)state;
	struct device *codec = swiommu_find_device(CODEC);
	struct page *pg = alloc_page(GFP_KERNEL);
	char *buf = page_address(pg);
	char got[8];

	assert_false(dev_is_dma_coherent(codec));
	memset(buf, 0, PAGE_SIZE);
	/* What the CPU wrote reaches memory only through map's clean. */
	strcpy(buf, "frame-1");
	dma_addr_t a = dma_map_page(codec, pg, 0, PAGE_SIZE, DMA_BIDIRECTIONAL);
	assert_int_equal(swiommu_dma_read(codec, 0, a, got, 8), 0);
	assert_string_equal(got, "frame-1");
	/* The device's write is in memory; the CPU sees it after sync_for_cpu's invalidate. */
	assert_int_equal(swiommu_dma_write(codec, 0, a + 8, "decoded", 8), 0);
	assert_string_not_equal(buf + 8, "decoded");
	dma_sync_single_for_cpu(codec, a, PAGE_SIZE, DMA_BIDIRECTIONAL);
	assert_string_equal(buf + 8, "decoded");
	strcpy(buf, "frame-2");
	dma_sync_single_for_device(codec, a, PAGE_SIZE, DMA_BIDIRECTIONAL);
	assert_int_equal(swiommu_dma_read(codec, 0, a, got, 8), 0);
	assert_string_equal(got, "frame-2");
	dma_unmap_page(codec, a, PAGE_SIZE, DMA_BIDIRECTIONAL);
	__free_page(pg);
}

static void small_kmalloc_buffers_bounce_for_a_noncoherent_master(void **state)
{
	(void)state;
	struct device *codec = swiommu_find_device(CODEC);
	char *buf = kmalloc(64, GFP_KERNEL);

	memset(buf, 0, 64);
	dma_addr_t a = dma_map_single(codec, buf, 64, DMA_FROM_DEVICE);
	assert_false(dma_mapping_error(codec, a));
	assert_int_equal(swiommu_swiotlb_used(), PAGE_SIZE / IO_TLB_SIZE);	/* a whole granule of slots */
	/* The IOVA maps the bounce slot, not the buffer. */
	phys_addr_t tlb = iommu_iova_to_phys(iommu_get_domain_for_dev(codec), a);
	assert_true(tlb >= default_swiotlb_base() && tlb <= default_swiotlb_limit());
	assert_int_equal(swiommu_dma_write(codec, 0, a, "bounced", 8), 0);
	dma_unmap_single(codec, a, 64, DMA_FROM_DEVICE);
	assert_string_equal(buf, "bounced");
	assert_int_equal(swiommu_swiotlb_used(), 0);

	/* A list with such an entry goes entry by entry through the bounce path, marked SG_DMA_SWIOTLB. */
	struct scatterlist sg[2];
	struct page *pg = alloc_page(GFP_KERNEL);
	sg_init_table(sg, 2);
	sg_set_page(&sg[0], pg, PAGE_SIZE, 0);
	sg_set_buf(&sg[1], buf, 64);
	assert_int_equal(dma_map_sg(codec, sg, 2, DMA_FROM_DEVICE), 2);
	assert_true(sg_dma_is_swiotlb(sg));
	assert_int_equal(swiommu_swiotlb_used(), PAGE_SIZE / IO_TLB_SIZE);	/* only the unaligned entry */
	assert_int_equal(sg_dma_len(&sg[1]), 64);
	dma_unmap_sg(codec, sg, 2, DMA_FROM_DEVICE);
	assert_int_equal(swiommu_swiotlb_used(), 0);
	__free_page(pg);
	kfree(buf);
}

static void a_noncoherent_list_is_cleaned_and_invalidated(void **state)
{
	(void)state;
	struct device *codec = swiommu_find_device(CODEC);
	struct page *p[2] = { alloc_page(GFP_KERNEL), alloc_page(GFP_KERNEL) };
	struct scatterlist sg[2];
	char got[8];

	memset(page_address(p[1]), 0, PAGE_SIZE);
	strcpy(page_address(p[0]), "in");
	sg_init_table(sg, 2);
	sg_set_page(&sg[0], p[0], PAGE_SIZE, 0);
	sg_set_page(&sg[1], p[1], PAGE_SIZE, 0);
	assert_int_equal(dma_map_sg(codec, sg, 2, DMA_BIDIRECTIONAL), 1);	/* one segment */
	assert_false(sg_dma_is_swiotlb(sg));
	assert_int_equal(swiommu_dma_read(codec, 0, sg_dma_address(sg), got, 3), 0);
	assert_string_equal(got, "in");
	assert_int_equal(swiommu_dma_write(codec, 0, sg_dma_address(sg) + PAGE_SIZE, "out", 4), 0);
	assert_string_equal(page_address(p[1]), "");	/* not before the unmap's invalidate */
	dma_unmap_sg(codec, sg, 2, DMA_BIDIRECTIONAL);
	assert_string_equal(page_address(p[1]), "out");
	__free_page(p[0]);
	__free_page(p[1]);
}

// MARK: A 16 KiB granule under 4 KiB pages

static void a_16k_dart_bounces_unaligned_buffers(void **state)
{
	(void)state;
	struct device *disp = swiommu_find_device(DISPLAY);
	struct iommu_domain *d = iommu_get_domain_for_dev(disp);
	char *buf = kmalloc(64, GFP_KERNEL);
	char got[SZ_16K];

	assert_true(disp->dma_iommu);
	assert_int_equal(d->pgsize_bitmap, SZ_16K);
	assert_int_equal(dma_get_merge_boundary(disp), SZ_16K - 1);
	strcpy(buf, "scanout");
	dma_addr_t a = dma_map_single(disp, buf, 64, DMA_TO_DEVICE);
	assert_false(dma_mapping_error(disp, a));
	assert_int_equal(a % SZ_16K, 0);	/* the bounce slot starts a granule */
	assert_int_equal(swiommu_swiotlb_used(), SZ_16K / IO_TLB_SIZE);
	assert_int_equal(swiommu_dma_read(disp, 0, a, got, SZ_16K), 0);
	assert_string_equal(got, "scanout");
	for (int i = 64; i < SZ_16K; i++)	/* the rest of the granule shows nothing of the kernel's */
		assert_int_equal(got[i], 0);
	/* swiotlb warns once about the alignment, as the kernel's dev_WARN_ONCE does. */
	assert_int_equal(swiommu_warn_count(), 1);
	assert_non_null(strstr(swiommu_warn_last(), "Alloc alignment may prevent fulfilling requests"));
	dma_unmap_single(disp, a, 64, DMA_TO_DEVICE);
	assert_int_equal(swiommu_swiotlb_used(), 0);

	/* A granule-aligned buffer of whole granules is mapped in place. */
	struct page *pg = alloc_pages(GFP_KERNEL, 2);
	a = dma_map_page(disp, pg, 0, SZ_16K, DMA_TO_DEVICE);
	assert_false(dma_mapping_error(disp, a));
	assert_int_equal(swiommu_swiotlb_used(), 0);
	assert_int_equal(iommu_iova_to_phys(d, a), page_to_phys(pg));
	dma_unmap_page(disp, a, SZ_16K, DMA_TO_DEVICE);
	/* Coherent memory is whole granules of its own. */
	dma_addr_t h;
	void *cpu = dma_alloc_coherent(disp, PAGE_SIZE, &h, GFP_KERNEL);
	assert_non_null(cpu);
	assert_int_equal(h % SZ_16K, 0);
	assert_int_equal(iommu_iova_to_phys(d, h) % SZ_16K, 0);
	dma_free_coherent(disp, PAGE_SIZE, cpu, h);
	/* So are dma_alloc_pages() blocks: mapped in place, not bounced. */
	struct page *blk = dma_alloc_pages(disp, PAGE_SIZE, &h, DMA_FROM_DEVICE, GFP_KERNEL);
	assert_non_null(blk);
	assert_int_equal(swiommu_swiotlb_used(), 0);
	assert_int_equal(iommu_iova_to_phys(d, h), page_to_phys(blk));
	assert_int_equal(swiommu_dma_write(disp, 0, h + PAGE_SIZE, "tail", 5), 0);	/* its own granule */
	/* The IOMMU lets that write past the 4 KiB block through; swiommu's dma-debug does not. */
	assert_int_equal(swiommu_warn_count(), 2);
	assert_non_null(strstr(swiommu_dma_debug_last(), "swiommu: device wrote memory that is not mapped for it"));
	dma_free_pages(disp, PAGE_SIZE, blk, h, DMA_FROM_DEVICE);
	assert_int_equal(dma_max_mapping_size(disp), swiotlb_max_mapping_size(disp));
	assert_int_equal(swiommu_warn_count(), 2);
	__free_pages(pg, 2);
	kfree(buf);
}

// MARK: Allocations

static void coherent_memory_is_one_iova_range_over_scattered_pages(void **state)
{
	(void)state;
	struct device *eth = swiommu_find_device(ETH);
	struct iommu_domain *d = iommu_get_domain_for_dev(eth);
	dma_addr_t h;
	char got[32];
	char *cpu = dma_alloc_coherent(eth, 3 * PAGE_SIZE, &h, GFP_KERNEL);

	assert_non_null(cpu);
	assert_true(is_vmalloc_addr(cpu));	/* remapped into one CPU mapping */
	assert_int_equal(h, 0xffffc000);
	for (size_t i = 0; i < 3 * PAGE_SIZE; i++)
		assert_int_equal(cpu[i], 0);
	fill(cpu + PAGE_SIZE - 16, 4, 32);
	assert_int_equal(swiommu_dma_read(eth, 0, h + PAGE_SIZE - 16, got, 32), 0);
	assert_memory_equal(got, cpu + PAGE_SIZE - 16, 32);
	assert_int_equal(iommu_iova_to_phys(d, h + PAGE_SIZE), page_to_phys(vmalloc_to_page(cpu + PAGE_SIZE)));

	struct sg_table sgt;
	assert_int_equal(dma_get_sgtable(eth, &sgt, cpu, h, 3 * PAGE_SIZE), 0);
	size_t total = 0;
	struct scatterlist *s;
	unsigned int i;
	for_each_sgtable_sg(&sgt, s, i)
		total += s->length;
	assert_int_equal(total, 3 * PAGE_SIZE);
	assert_ptr_equal(sg_page(sgt.sgl), vmalloc_to_page(cpu));
	sg_free_table(&sgt);

	struct vm_area_struct *vma = swiommu_vma_alloc(3 * PAGE_SIZE);
	assert_int_equal(dma_mmap_coherent(eth, vma, cpu, h, 3 * PAGE_SIZE), 0);
	assert_memory_equal((char *)vma->vm_start + PAGE_SIZE - 16, cpu + PAGE_SIZE - 16, 32);
	swiommu_vma_free(vma);
	dma_free_coherent(eth, 3 * PAGE_SIZE, cpu, h);
	assert_int_equal(iommu_iova_to_phys(d, h), 0);

	/* DMA_ATTR_FORCE_CONTIGUOUS: one block in the linear map. */
	cpu = dma_alloc_attrs(eth, 2 * PAGE_SIZE, &h, GFP_KERNEL, DMA_ATTR_FORCE_CONTIGUOUS);
	assert_non_null(cpu);
	assert_false(is_vmalloc_addr(cpu));
	assert_int_equal(iommu_iova_to_phys(d, h + PAGE_SIZE), virt_to_phys(cpu) + PAGE_SIZE);
	assert_int_equal(dma_get_sgtable(eth, &sgt, cpu, h, 2 * PAGE_SIZE), 0);
	assert_int_equal(sgt.orig_nents, 1);
	assert_int_equal(sgt.sgl->length, 2 * PAGE_SIZE);
	sg_free_table(&sgt);
	dma_free_attrs(eth, 2 * PAGE_SIZE, cpu, h, DMA_ATTR_FORCE_CONTIGUOUS);
	/* GFP_ATOMIC cannot sleep in the remap: contiguous too. */
	cpu = dma_alloc_coherent(eth, PAGE_SIZE, &h, GFP_ATOMIC);
	assert_false(is_vmalloc_addr(cpu));
	dma_free_coherent(eth, PAGE_SIZE, cpu, h);
	assert_int_equal(swiommu_warn_count(), 0);
}

static void coherent_memory_of_a_noncoherent_master_is_uncached(void **state)
{
	(void)state;
	struct device *codec = swiommu_find_device(CODEC);
	unsigned long before = swiommu_cache_maintenance_count();
	dma_addr_t h;
	char got[8];
	char *cpu = dma_alloc_coherent(codec, 2 * PAGE_SIZE, &h, GFP_KERNEL);

	assert_non_null(cpu);
	assert_int_equal(h, 0x0fffe000);	/* under the codec's bus limit */
	/* No maintenance between the CPU and the device, either way. */
	strcpy(cpu + PAGE_SIZE, "header");
	unsigned long after_alloc = swiommu_cache_maintenance_count();
	assert_int_equal(swiommu_dma_read(codec, 0, h + PAGE_SIZE, got, 7), 0);
	assert_string_equal(got, "header");
	assert_int_equal(swiommu_dma_write(codec, 0, h, "status", 7), 0);
	assert_string_equal(cpu, "status");
	assert_int_equal(swiommu_cache_maintenance_count(), after_alloc);
	assert_true(after_alloc > before);	/* arch_dma_prep_coherent at allocation */
	dma_free_coherent(codec, 2 * PAGE_SIZE, cpu, h);
}

static void noncontiguous_memory_is_one_dma_segment(void **state)
{
	(void)state;
	struct device *eth = swiommu_find_device(ETH);
	char got[16];
	struct sg_table *sgt = dma_alloc_noncontiguous(eth, 3 * PAGE_SIZE, DMA_BIDIRECTIONAL, GFP_KERNEL, 0);

	assert_non_null(sgt);
	assert_int_equal(sgt->nents, 1);
	assert_int_equal(sg_dma_address(sgt->sgl), 0xffffc000);
	assert_int_equal(sg_dma_len(sgt->sgl), 3 * PAGE_SIZE);
	char *v = dma_vmap_noncontiguous(eth, 3 * PAGE_SIZE, sgt);
	assert_non_null(v);
	strcpy(v + 2 * PAGE_SIZE, "third page");
	assert_int_equal(swiommu_dma_read(eth, 0, 0xffffc000 + 2 * PAGE_SIZE, got, 11), 0);
	assert_string_equal(got, "third page");
	struct vm_area_struct *vma = swiommu_vma_alloc(PAGE_SIZE);
	vma->vm_pgoff = 2;
	assert_int_equal(dma_mmap_noncontiguous(eth, vma, 3 * PAGE_SIZE, sgt), 0);
	assert_string_equal((char *)vma->vm_start, "third page");
	swiommu_vma_free(vma);
	dma_vunmap_noncontiguous(eth, v);
	dma_free_noncontiguous(eth, 3 * PAGE_SIZE, sgt, DMA_BIDIRECTIONAL);
	assert_int_equal(iommu_iova_to_phys(iommu_get_domain_for_dev(eth), 0xffffc000), 0);
}

static void dma_alloc_pages_maps_one_block(void **state)
{
	(void)state;
	struct device *eth = swiommu_find_device(ETH);
	dma_addr_t h;
	struct page *pg = dma_alloc_pages(eth, 2 * PAGE_SIZE, &h, DMA_FROM_DEVICE, GFP_KERNEL);

	assert_non_null(pg);
	assert_int_equal(h, 0xffffe000);
	assert_int_equal(iommu_iova_to_phys(iommu_get_domain_for_dev(eth), h + PAGE_SIZE), page_to_phys(pg) + PAGE_SIZE);
	assert_int_equal(swiommu_dma_write(eth, 0, h + PAGE_SIZE, "rx", 3), 0);
	assert_string_equal((char *)page_address(pg) + PAGE_SIZE, "rx");
	dma_free_pages(eth, 2 * PAGE_SIZE, pg, h, DMA_FROM_DEVICE);
}

// MARK: Resources and limits

static void map_resource_maps_mmio(void **state)
{
	(void)state;
	struct device *eng = swiommu_find_device(ENGINE);
	phys_addr_t fifo = 0x50000040;	/* a register in the NIC's BAR (peer MMIO), not RAM */
	dma_addr_t a = dma_map_resource(eng, fifo, 4, DMA_FROM_DEVICE, 0);

	assert_int_equal(a, 0xfffff040);
	assert_int_equal(iommu_iova_to_phys(iommu_get_domain_for_dev(eng), a), fifo);
	dma_unmap_resource(eng, a, 4, DMA_FROM_DEVICE, 0);
	assert_int_equal(iommu_iova_to_phys(iommu_get_domain_for_dev(eng), a), 0);
}

static void the_limits_are_the_kernels(void **state)
{
	(void)state;
	struct device *eth = swiommu_find_device(ETH);

	assert_int_equal(dma_get_merge_boundary(eth), PAGE_SIZE - 1);
	assert_int_equal(dma_opt_mapping_size(eth), 32 * PAGE_SIZE);	/* iova_rcache_range() */
	assert_int_equal(dma_max_mapping_size(eth), SIZE_MAX);
	assert_false(dma_addressing_limited(eth));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_master_on_a_dma_domain_uses_iommu_dma, setup, teardown),
		cmocka_unit_test_setup_teardown(an_unmanaged_domain_leaves_the_dma_api_on_the_default_domain, setup, teardown),
		cmocka_unit_test_setup_teardown(iommu_dma_comes_before_installed_ops, setup, teardown),
		cmocka_unit_test_setup_teardown(iovas_come_top_down_below_the_mask_keeping_the_offset, setup, teardown),
		cmocka_unit_test_setup_teardown(the_bus_limit_and_reserved_regions_bound_the_iovas, setup, teardown),
		cmocka_unit_test_setup_teardown(pci_functions_try_32bit_iovas_first, setup, teardown),
		cmocka_unit_test_setup_teardown(iommu_forcedac_skips_the_32bit_attempt, setup, teardown),
		cmocka_unit_test_setup_teardown(channels_map_through_their_own_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(a_strict_unmap_invalidates_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(lazy_unmaps_leave_the_iotlb_until_the_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(a_full_flush_queue_flushes_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(each_thread_has_its_own_ring, setup, teardown),
		cmocka_unit_test_setup_teardown(map_sg_lays_the_list_out_in_one_iova_range, setup, teardown),
		cmocka_unit_test_setup_teardown(map_sg_pads_to_segment_boundaries, setup, teardown),
		cmocka_unit_test_setup_teardown(a_noncoherent_master_gets_cache_maintenance, setup, teardown),
		cmocka_unit_test_setup_teardown(small_kmalloc_buffers_bounce_for_a_noncoherent_master, setup, teardown),
		cmocka_unit_test_setup_teardown(a_noncoherent_list_is_cleaned_and_invalidated, setup, teardown),
		cmocka_unit_test_setup_teardown(a_16k_dart_bounces_unaligned_buffers, setup, teardown),
		cmocka_unit_test_setup_teardown(coherent_memory_is_one_iova_range_over_scattered_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(coherent_memory_of_a_noncoherent_master_is_uncached, setup, teardown),
		cmocka_unit_test_setup_teardown(noncontiguous_memory_is_one_dma_segment, setup, teardown),
		cmocka_unit_test_setup_teardown(dma_alloc_pages_maps_one_block, setup, teardown),
		cmocka_unit_test_setup_teardown(map_resource_maps_mmio, setup, teardown),
		cmocka_unit_test_setup_teardown(the_limits_are_the_kernels, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
