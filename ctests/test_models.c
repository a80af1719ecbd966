// SPDX-License-Identifier: MIT
// The built-in IOMMU models on the default board: they bind the upstream compatibles, set their masters up
// at registration (groups from each model's device_group), and translate device DMA as hardware does:
// the instance's IOTLB, else a walk of the table in RAM. Faults reach the domain's handler or are logged
// as the Linux driver logs them. Error paths: test_models_fail.c.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <swiommu/swiommu.h>
#include "swiommu_test.h"

#define DMAC	"/soc/dma-controller@fe100000"
#define DISPLAY	"/soc/display@fe200000"
#define GPU	"/soc/gpu@fe300000"
#define ISP	"/soc/isp@fe0a0000"
#define UIO	"/soc/uio@fe500000"
#define CLIENT	"/soc/dma-client@fe510000"
#define CODEC	"/soc/codec-bus/codec@fe400000"
#define ETH	"/soc/ethernet@fe600000"
#define USB0	"/soc/usb@fe620000"
#define USB1	"/soc/usb@fe630000"
#define RW	(IOMMU_READ | IOMMU_WRITE)

static struct device *dev_at(const char *path)
{
	struct device *dev = swiommu_find_device(path);

	assert_non_null(dev);
	return dev;
}

static struct swiommu_iotlb_stats iotlb(struct device *dev, unsigned int channel)
{
	struct swiommu_iotlb_stats s;

	memset(&s, 0xa5, sizeof(s));
	assert_int_equal(swiommu_iommu_iotlb_stats(dev, channel, &s), 0);
	return s;
}

/* What the fault handler saw. */
static struct {
	int calls;
	struct device *dev;
	unsigned long iova;
	int flags;
	int ret;
} fault;

static int record_fault(struct iommu_domain *domain, struct device *dev, unsigned long iova, int flags, void *token)
{
	(void)domain;
	assert_ptr_equal(token, &fault);
	fault.calls++;
	fault.dev = dev;
	fault.iova = iova;
	fault.flags = flags;
	return fault.ret;
}

static void the_models_bind_the_default_board_iommus(void **state)
{
	(void)state;
	static const struct { const char *path, *driver; } iommus[] = {
		{ "/soc/iommu@fd000000", "arm-smmu-v3" }, { "/soc/iommu@fd100000", "arm-smmu-v3" },
		{ "/soc/iommu@fd800000", "arm-smmu" }, { "/soc/iommu@fe900000", "ipmmu-vmsa" },
		{ "/soc/iommu@fe910000", "ipmmu-vmsa" }, { "/soc/codec-bus/sysmmu@fe410000", "exynos-sysmmu" },
		{ "/soc/iommu@fe0b0000", "rk_iommu" }, { "/soc/iommu@fe800000", "apple-dart" },
		{ "/soc/iommu@fe810000", "apple-dart" },
	};

	for (size_t i = 0; i < sizeof(iommus) / sizeof(iommus[0]); i++)
		assert_string_equal(dev_driver_string(dev_at(iommus[i].path)), iommus[i].driver);
	assert_true(swiommu_log_contains("apple-dart fe800000.iommu: DART [pagesize 4000, 16 streams, bypass support: 1, "
					 "bypass forced: 0] initialized (locked: reusing the firmware's table)"));
	assert_true(swiommu_log_contains("arm-smmu fd800000.iommu: 8 context banks"));

	/* Masters are set up when their IOMMU registers, before any driver binds them (bus_iommu_probe). */
	struct device *usb0 = dev_at(USB0), *usb1 = dev_at(USB1), *eth = dev_at(ETH);

	assert_null(usb0->driver);
	assert_non_null(usb0->iommu_group);
	/* arm-smmu: 0x820 with mask 1 matches 0x821, so both USB ports share a group. */
	assert_ptr_equal(usb0->iommu_group, usb1->iommu_group);
	assert_ptr_not_equal(usb0->iommu_group, eth->iommu_group);
	/* ipmmu-vmsa: one group per leaf instance. */
	assert_ptr_equal(dev_at("/soc/vin@fea00000")->iommu_group, dev_at("/soc/vin@fea10000")->iommu_group);
	assert_ptr_not_equal(dev_at("/soc/vin@fea00000")->iommu_group, dev_at("/soc/vin@fea20000")->iommu_group);
	/* Rockchip: one directory base per IOMMU, so its masters cannot be isolated. */
	assert_ptr_equal(dev_at(UIO)->iommu_group, dev_at(CLIENT)->iommu_group);
	assert_ptr_not_equal(dev_at(UIO)->iommu_group, dev_at(ISP)->iommu_group);
	/* Default domains: translated DMA domains (strict: the board's /chosen), DARTs included (extension). */
	assert_int_equal(iommu_get_dma_domain(eth)->type, IOMMU_DOMAIN_DMA);
	assert_int_equal(iommu_get_dma_domain(dev_at(GPU))->type, IOMMU_DOMAIN_DMA);
	assert_int_equal(iommu_get_dma_domain(dev_at(DISPLAY))->pgsize_bitmap, SZ_16K);
	assert_int_equal(iommu_get_dma_domain(dev_at(CODEC))->pgsize_bitmap, SZ_1M | SZ_64K | SZ_4K);
	assert_true(device_iommu_capable(eth, IOMMU_CAP_DEFERRED_FLUSH));
	assert_false(device_iommu_capable(dev_at(CODEC), IOMMU_CAP_DEFERRED_FLUSH));
}

static void smmu_v3_translates_through_its_iotlb(void **state)
{
	(void)state;
	struct device *dmac = dev_at(DMAC);
	struct iommu_domain *d = iommu_get_dma_domain(dmac);
	struct page *pg = alloc_page(GFP_KERNEL | __GFP_ZERO);
	phys_addr_t pa = page_to_phys(pg);
	phys_addr_t out = 0;
	char back[8] = { 0 };

	assert_int_equal(iommu_map(d, 0x100000, pa, SZ_4K, RW, GFP_KERNEL), 0);
	struct swiommu_iotlb_stats before = iotlb(dmac, 0);

	assert_int_equal(before.capacity, 1024);
	/* The first access misses and walks; the next hits. Channels 0-3 share the instance and domain. */
	assert_int_equal(swiommu_dma_write(dmac, 0, 0x100010, "abc", 4), 0);
	assert_string_equal((char *)page_address(pg) + 0x10, "abc");
	assert_int_equal(swiommu_dma_read(dmac, 3, 0x100010, back, 4), 0);
	assert_string_equal(back, "abc");
	struct swiommu_iotlb_stats after = iotlb(dmac, 0);

	assert_int_equal(after.lookups - before.lookups, 2);
	assert_int_equal(after.misses - before.misses, 1);
	assert_int_equal(after.hits - before.hits, 1);
	assert_int_equal(swiommu_iommu_translate(dmac, 1, 0x100fff, true, &out), 0);
	assert_int_equal(out, pa + 0xfff);

	/* Strict unmap: the range invalidation reaches the IOTLB, the next access faults. */
	unsigned long inv = swiommu_iotlb_invalidations(dmac);

	assert_int_equal(iommu_unmap(d, 0x100000, SZ_4K), SZ_4K);
	assert_true(swiommu_iotlb_invalidations(dmac) > inv);
	assert_int_equal(iotlb(dmac, 0).invalidate_range - after.invalidate_range, 1);
	assert_int_equal(swiommu_dma_read(dmac, 0, 0x100010, back, 4), -EFAULT);
	assert_true(swiommu_log_contains("arm-smmu-v3 fd000000.iommu: event 0x10 received:"));
	assert_true(swiommu_log_contains("arm-smmu-v3 fd000000.iommu: event: F_TRANSLATION client: fe100000.dma-controller "
					 "sid: 0x100 ssid: 0x0 iova: 0x100010 ipa: 0x0"));
	assert_true(swiommu_log_contains("unpriv data read s1 \"IN\" stag: 0x0"));
	assert_int_equal(iotlb(dmac, 0).faults, 1);
	/* Bypass channels go to the bus. */
	assert_int_equal(swiommu_dma_write(dmac, 6, pa, "byp", 4), 0);
	assert_string_equal((char *)page_address(pg), "byp");
	__free_page(pg);
}

static void channels_behind_a_second_instance_have_their_own_domain(void **state)
{
	(void)state;
	struct device *dmac = dev_at(DMAC);
	struct page *pg = alloc_page(GFP_KERNEL);
	struct iommu_domain *d0 = swiommu_iommu_channel_domain(dmac, 0), *d4 = swiommu_iommu_channel_domain(dmac, 4);
	char back[4];

	/* Channels 0-3 are the master's own group and domain; 4-5 sit behind the second SMMU, a route of their
	 * own (swiommu's channel extension; upstream arm-smmu-v3 takes one instance per master); 6-7 bypass. */
	assert_ptr_equal(d0, iommu_get_domain_for_dev(dmac));
	assert_ptr_equal(swiommu_iommu_channel_domain(dmac, 3), d0);
	assert_non_null(d4);
	assert_ptr_not_equal(d4, d0);
	assert_ptr_equal(swiommu_iommu_channel_domain(dmac, 5), d4);
	assert_null(swiommu_iommu_channel_domain(dmac, 6));
	assert_null(swiommu_iommu_channel_domain(dmac, 8));
	assert_true(swiommu_log_contains("fe100000.dma-controller@fd100000.iommu: Adding to iommu group"));
	/* A mapping in the route's domain serves channels 4 and 5 only. */
	assert_int_equal(iommu_map(d4, 0x500000, page_to_phys(pg), SZ_4K, RW, GFP_KERNEL), 0);
	assert_int_equal(swiommu_dma_write(dmac, 5, 0x500000, "ch5", 4), 0);
	assert_string_equal((char *)page_address(pg), "ch5");
	assert_int_equal(swiommu_dma_read(dmac, 0, 0x500000, back, 4), -EFAULT);
	assert_true(swiommu_log_contains("event: F_TRANSLATION client: fe100000.dma-controller sid: 0x100"));
	assert_int_equal(iotlb(dmac, 4).misses, 1);
	/* Ports with nothing mapped are powered down; bypass channels have no port. */
	assert_int_equal(swiommu_iommu_port_powered(dmac, 4), 1);
	assert_int_equal(swiommu_iommu_port_powered(dmac, 5), 1);
	assert_int_equal(swiommu_iommu_port_powered(dmac, 0), 0);
	assert_int_equal(swiommu_iommu_port_powered(dmac, 6), -ENODEV);
	assert_int_equal(swiommu_iommu_port_powered(dmac, 9), -EINVAL);
	assert_int_equal(swiommu_iommu_port_powered(NULL, 0), -EINVAL);
	assert_int_equal(iommu_unmap(d4, 0x500000, SZ_4K), SZ_4K);
	assert_int_equal(swiommu_iommu_port_powered(dmac, 4), 0);
	assert_int_equal(swiommu_dma_read(dmac, 4, 0x500000, back, 4), -EFAULT);
	assert_true(swiommu_log_contains("arm-smmu-v3 fd100000.iommu: event: F_TRANSLATION client: "
					 "fe100000.dma-controller sid: 0x200"));
	__free_page(pg);
}

static void map_sg_merges_contiguous_entries(void **state)
{
	(void)state;
	struct device *isp = dev_at(ISP);
	struct iommu_domain *d = iommu_paging_domain_alloc(isp);
	struct page *two = alloc_pages(GFP_DMA32, 1), *one = alloc_page(GFP_DMA32), *mmio = alloc_page(GFP_DMA32);
	struct sg_table sgt;
	char back[4];

	assert_int_equal(sg_alloc_table(&sgt, 4, GFP_KERNEL), 0);
	struct scatterlist *sg = sgt.sgl;

	/* Two entries on physically contiguous pages merge into one map; the third is elsewhere; the fourth
	 * is a bus address the DMA layer marked (P2P), which iommu_map_sg skips. */
	sg_set_page(sg, two, PAGE_SIZE, 0);
	sg = sg_next(sg);
	sg_set_page(sg, two + 1, PAGE_SIZE, 0);
	sg = sg_next(sg);
	sg_set_page(sg, one, PAGE_SIZE, 0);
	sg = sg_next(sg);
	sg_set_page(sg, mmio, PAGE_SIZE, 0);
	sg_dma_mark_bus_address(sg);
	assert_int_equal(iommu_map_sgtable(d, 0x100000, &sgt, RW), 3 * PAGE_SIZE);
	assert_int_equal(iommu_iova_to_phys(d, 0x101000), page_to_phys(two) + PAGE_SIZE);
	assert_int_equal(iommu_iova_to_phys(d, 0x102000), page_to_phys(one));
	assert_int_equal(iommu_iova_to_phys(d, 0x103000), 0);
	/* The ISP's own domain (rockchip-drm style): attach it, the device reaches the buffer. */
	assert_int_equal(iommu_attach_device(d, isp), 0);
	strcpy(page_address(one), "sg");
	assert_int_equal(swiommu_cache_clean(page_to_phys(one), 3), 0);	/* the ISP is not coherent */
	assert_int_equal(swiommu_dma_read(isp, 0, 0x102000, back, 3), 0);
	assert_string_equal(back, "sg");
	assert_int_equal(iommu_unmap(d, 0x100000, 3 * PAGE_SIZE), 3 * PAGE_SIZE);
	/* The models take no io-pgtable quirks; only unmanaged domains may ask. */
	assert_int_equal(iommu_set_pgtable_quirks(d, 0), -EINVAL);
	assert_int_equal(iommu_set_pgtable_quirks(iommu_get_dma_domain(isp), 0), -EINVAL);
	iommu_detach_device(d, isp);
	iommu_domain_free(d);
	sg_free_table(&sgt);
	__free_pages(two, 1);
	__free_page(one);
	__free_page(mmio);
}

static void a_late_invalidation_leaves_a_stale_entry(void **state)
{
	(void)state;
	struct device *eth = dev_at(ETH);
	struct iommu_domain *d = iommu_get_dma_domain(eth);
	struct page *pg = alloc_page(GFP_KERNEL);
	struct iommu_iotlb_gather gather;
	char back[4];

	strcpy(page_address(pg), "old");
	assert_int_equal(iommu_map(d, 0x200000, page_to_phys(pg), SZ_4K, IOMMU_READ, GFP_KERNEL), 0);
	assert_int_equal(swiommu_dma_read(eth, 0, 0x200000, back, 4), 0);
	/* Unmapped from the table but not yet invalidated (what a flush queue defers): the device still gets
	 * through with the cached translation, as on the hardware. */
	iommu_iotlb_gather_init(&gather);
	assert_int_equal(iommu_unmap_fast(d, 0x200000, SZ_4K, &gather), SZ_4K);
	assert_int_equal(iommu_iova_to_phys(d, 0x200000), 0);
	assert_int_equal(swiommu_dma_read(eth, 0, 0x200000, back, 4), 0);
	assert_string_equal(back, "old");
	/* The permission cached with it still holds: a write is refused. */
	assert_int_equal(swiommu_dma_write(eth, 0, 0x200000, "new", 4), -EFAULT);
	iommu_iotlb_sync(d, &gather);
	assert_int_equal(swiommu_dma_read(eth, 0, 0x200000, back, 4), -EFAULT);
	assert_true(swiommu_log_contains("arm-smmu fd800000.iommu: Unhandled context fault: fsr=0x2, iova=0x00200000, "
					 "fsynr=0x0, cbfrsynra=0x800, cb="));
	__free_page(pg);
}

static void faults_reach_the_domain_handler(void **state)
{
	(void)state;
	struct device *eth = dev_at(ETH);
	struct iommu_domain *own = iommu_paging_domain_alloc(eth);
	char back[4];

	assert_false(IS_ERR_OR_NULL(own));
	assert_int_equal(own->type, IOMMU_DOMAIN_UNMANAGED);
	iommu_set_fault_handler(own, record_fault, &fault);
	assert_int_equal(iommu_attach_device(own, eth), 0);
	memset(&fault, 0, sizeof(fault));
	swiommu_log_reset();
	/* Handled: no log line from the driver. */
	assert_int_equal(swiommu_dma_write(eth, 0, 0x300040, "x", 1), -EFAULT);
	assert_int_equal(fault.calls, 1);
	assert_ptr_equal(fault.dev, eth);
	assert_int_equal(fault.iova, 0x300040);
	assert_int_equal(fault.flags, IOMMU_FAULT_WRITE);
	assert_false(swiommu_log_contains("Unhandled context fault"));
	/* Not handled: the driver's line. */
	fault.ret = -ENOSYS;
	assert_int_equal(swiommu_dma_read(eth, 0, 0x300080, back, 1), -EFAULT);
	assert_int_equal(fault.flags, IOMMU_FAULT_READ);
	assert_true(swiommu_log_contains("Unhandled context fault: fsr=0x2, iova=0x00300080"));
	assert_int_equal(swiommu_dma_faults(eth), 2);
	iommu_detach_device(own, eth);
	iommu_domain_free(own);
}

static void mmu500_context_banks_run_out(void **state)
{
	(void)state;
	struct device *eth = dev_at(ETH);
	struct iommu_domain *d[4];

	/* Five groups hold a bank each with their default domains; a bank stays with its domain until it is
	 * freed (arm_smmu_destroy_domain_context), so the fourth extra domain finds none of the 8. */
	assert_int_equal(iotlb(eth, 0).contexts, 8);
	assert_int_equal(iotlb(eth, 0).contexts_used, 5);
	for (int i = 0; i < 4; i++) {
		d[i] = iommu_paging_domain_alloc(eth);
		assert_false(IS_ERR_OR_NULL(d[i]));
		int ret = iommu_attach_device(d[i], eth);

		assert_int_equal(ret, i < 3 ? 0 : -ENOSPC);
		if (ret == 0)
			iommu_detach_device(d[i], eth);
	}
	assert_int_equal(iotlb(eth, 0).contexts_used, 8);
	iommu_domain_free(d[0]);
	assert_int_equal(iotlb(eth, 0).contexts_used, 7);
	assert_int_equal(iommu_attach_device(d[3], eth), 0);
	iommu_detach_device(d[3], eth);
	for (int i = 1; i < 4; i++)
		iommu_domain_free(d[i]);
	assert_int_equal(iotlb(eth, 0).contexts_used, 5);
}

static void ipmmu_shares_then_runs_out_of_contexts(void **state)
{
	(void)state;
	struct device *vin0 = dev_at("/soc/vin@fea00000"), *vin2 = dev_at("/soc/vin@fea20000");

	/* Four leaves, four groups, four default domains: the root's four contexts are taken. */
	assert_true(swiommu_log_contains("platform fea00000.vin: Using IPMMU context 0"));
	assert_true(swiommu_log_contains("platform fea10000.vin: Reusing IPMMU context 0"));
	assert_int_equal(iotlb(vin0, 0).contexts, 4);
	struct iommu_domain *extra = iommu_paging_domain_alloc(vin2);

	assert_false(IS_ERR_OR_NULL(extra));
	assert_int_equal(extra->pgsize_bitmap, SZ_4K | SZ_2M | SZ_1G);
	assert_int_equal(extra->geometry.aperture_end, 0xffffffffULL);
	swiommu_log_reset();
	assert_int_equal(iommu_attach_device(extra, vin2), -EBUSY);
	assert_true(swiommu_log_contains("fea20000.vin: Unable to initialize IPMMU context"));
	assert_ptr_equal(iommu_get_domain_for_dev(vin2), iommu_get_dma_domain(vin2));
	/* A domain stays on its leaf: vin0's default domain cannot serve vin2's leaf. */
	assert_int_equal(iommu_attach_device(iommu_get_dma_domain(vin0), vin2), -EINVAL);
	assert_true(swiommu_log_contains("Can't attach IPMMU fe920000.iommu to domain on IPMMU fe910000.iommu"));
	iommu_domain_free(extra);

	/* A DMA-API domain takes no fault handler in 6.17 (WARN): ipmmu-vmsa's fault goes unhandled. */
	struct iommu_domain *d = iommu_get_dma_domain(vin2);

	memset(&fault, 0, sizeof(fault));
	iommu_set_fault_handler(d, record_fault, &fault);
	assert_non_null(strstr(swiommu_warn_last(), "a DMA-API domain"));
	assert_int_equal(swiommu_dma_write(vin2, 0, 0x1000, "x", 1), -EFAULT);
	assert_int_equal(fault.calls, 0);
	assert_true(swiommu_log_contains("ipmmu-vmsa fe920000.iommu: Unhandled fault: status 0x00000001 iova 0x1000"));
}

static void exynos_one_attach_programs_both_sysmmus(void **state)
{
	(void)state;
	struct device *codec = dev_at(CODEC);
	struct iommu_domain *d = iommu_get_dma_domain(codec);
	struct page *pg = alloc_pages(GFP_KERNEL, 4);	/* 64 KiB, naturally aligned: one large page */
	phys_addr_t pa = page_to_phys(pg);
	char back[8] = { 0 };

	assert_int_equal(iommu_map(d, 0x10000000, pa, SZ_64K, RW, GFP_KERNEL), 0);
	/* Both memory ports (one SysMMU each) see the mapping; the codec is not coherent. */
	assert_int_equal(swiommu_dma_write(codec, 0, 0x10000000, "left", 5), 0);
	assert_int_equal(swiommu_dma_write(codec, 1, 0x1000fff0, "right", 6), 0);
	assert_int_equal(swiommu_cache_invalidate(pa, SZ_64K), 0);
	assert_string_equal((char *)page_address(pg), "left");
	assert_string_equal((char *)page_address(pg) + 0xfff0, "right");
	assert_int_equal(iotlb(codec, 0).contexts_used, 1);
	assert_int_equal(iotlb(codec, 1).contexts_used, 1);
	assert_int_equal(iotlb(codec, 1).misses, 1);

	/* Both SysMMUs invalidate on unmap; the fault line comes before the report, and an unrecovered fault,
	 * a BUG() upstream, is a WARN record here. */
	assert_int_equal(iommu_unmap(d, 0x10000000, SZ_64K), SZ_64K);
	assert_int_equal(iotlb(codec, 0).invalidate_range, 1);
	assert_int_equal(iotlb(codec, 1).invalidate_range, 1);
	unsigned long warns = swiommu_warn_count();

	assert_int_equal(swiommu_dma_read(codec, 1, 0x10000000, back, 4), -EFAULT);
	assert_true(swiommu_log_contains("exynos-sysmmu fe420000.sysmmu: fe400000.codec: AR PAGE FAULT occurred at 0x10000000"));
	assert_int_equal(swiommu_warn_count(), warns + 1);
	__free_pages(pg, 4);
}

static void rockchip_logs_page_faults_its_way(void **state)
{
	(void)state;
	struct device *isp = dev_at(ISP);
	struct page *pg = alloc_page(GFP_DMA32);	/* a v1 Rockchip IOMMU reaches 32 bits of PA */
	struct iommu_domain *d = iommu_get_dma_domain(isp);
	char back[4];

	assert_int_equal(d->pgsize_bitmap, 0x007ff000);
	/* A range whose IOVA is more aligned than its physical address maps page by page. */
	struct page *block = alloc_pages(GFP_DMA32, 5);

	assert_int_equal(iommu_map(d, 0xffff0000, page_to_phys(block) + 0x3000, SZ_64K, IOMMU_READ, GFP_KERNEL), 0);
	assert_int_equal(iommu_iova_to_phys(d, 0xffff1000), page_to_phys(block) + 0x4000);
	assert_int_equal(iommu_unmap(d, 0xffff0000, SZ_64K), SZ_64K);
	__free_pages(block, 5);
	assert_int_equal(iommu_map(d, 0x400000, page_to_phys(pg), SZ_4K, IOMMU_READ, GFP_KERNEL), 0);
	assert_int_equal(swiommu_dma_read(isp, 0, 0x400000, back, 4), 0);
	/* A write to a read-only page is a permission fault. */
	assert_int_equal(swiommu_dma_write(isp, 0, 0x400004, "x", 1), -EFAULT);
	assert_true(swiommu_log_contains("rk_iommu fe0b0000.iommu: Page fault at 0x0000000000400004 of type write"));
	assert_true(swiommu_log_contains("iova = 0x0000000000400004: dte_index: 0x1 pte_index: 0x0 page_offset: 0x4"));
	assert_int_equal(iommu_unmap(d, 0x400000, SZ_4K), SZ_4K);
	__free_page(pg);
}

static void darts_share_the_locked_firmware_table(void **state)
{
	(void)state;
	struct device *display = dev_at(DISPLAY), *gpu = dev_at(GPU);
	struct iommu_domain *shared = iommu_get_dma_domain(display);
	struct page *pg = alloc_pages(GFP_KERNEL, 2);	/* one 16 KiB DART page */
	phys_addr_t pa = page_to_phys(pg);
	phys_addr_t out;
	char back[8] = { 0 };

	/* The display's domain reuses the table firmware left in its locked TTBRs: the framebuffer is mapped,
	 * and the scan-out keeps the display's port powered. */
	assert_int_equal(iommu_iova_to_phys(shared, 0x9e000000), 0x9e000000);
	assert_int_equal(swiommu_iommu_port_powered(display, 0), 1);
	assert_int_equal(swiommu_iommu_translate(display, 0, 0x9e7fffff, false, &out), 0);
	assert_int_equal(out, 0x9e7fffff);
	/* The GPU joins the display's domain: one table, walked by both DARTs. */
	assert_int_equal(iommu_attach_device(shared, gpu), 0);
	assert_int_equal(iommu_map(shared, 0x40000000, pa, SZ_16K, RW, GFP_KERNEL), 0);
	assert_int_equal(swiommu_dma_write(gpu, 0, 0x40003ff0, "frame", 6), 0);
	assert_int_equal(swiommu_dma_read(display, 0, 0x40003ff0, back, 6), 0);
	assert_string_equal(back, "frame");
	/* An unmap invalidates both DARTs (whole-stream flushes). */
	unsigned long gpu_inv = swiommu_iotlb_invalidations(gpu), disp_inv = swiommu_iotlb_invalidations(display);

	assert_int_equal(iommu_unmap(shared, 0x40000000, SZ_16K), SZ_16K);
	assert_true(swiommu_iotlb_invalidations(gpu) > gpu_inv);
	assert_true(swiommu_iotlb_invalidations(display) > disp_inv);
	assert_int_equal(swiommu_dma_read(gpu, 0, 0x40000000, back, 1), -EFAULT);
	assert_true(swiommu_log_contains("apple-dart fe810000.iommu: translation fault: status:0x80000004 stream:0 code:0x4 "
					 "(NO PTE FOR IOVA) at 0x40000000"));
	iommu_detach_device(shared, gpu);
	/* A populated domain of the GPU cannot move onto the locked DART: its table is not the firmware's. */
	struct iommu_domain *gpud = iommu_get_dma_domain(gpu);

	assert_int_equal(iommu_map(gpud, 0x50000000, pa, SZ_16K, RW, GFP_KERNEL), 0);
	assert_int_equal(iommu_attach_device(gpud, display), -EINVAL);
	assert_true(swiommu_log_contains("the DART's TTBRs are locked"));
	assert_int_equal(iommu_unmap(gpud, 0x50000000, SZ_16K), SZ_16K);
	__free_pages(pg, 2);
}

static const char upstream_dart_board[] =
	"/dts-v1/;\n"
	"/ {\n"
	"\tcompatible = \"swiommu,test-board\";\n"
	"\t#address-cells = <2>;\n"
	"\t#size-cells = <2>;\n"
	"\tchosen { swiommu,dart-upstream; };\n"
	"\tmemory@80000000 { device_type = \"memory\"; reg = <0x0 0x80000000 0x0 0x10000000>; };\n"
	"\tlocked: iommu@fe800000 { compatible = \"apple,t8103-dart\"; reg = <0x0 0xfe800000 0x0 0x4000>;\n"
	"\t\t#iommu-cells = <1>; swiommu,locked; };\n"
	"\tdart: iommu@fe810000 { compatible = \"apple,t8103-dart\"; reg = <0x0 0xfe810000 0x0 0x4000>;\n"
	"\t\t#iommu-cells = <1>; };\n"
	"\tgpu@fe300000 { compatible = \"swiommu,gpu\"; reg = <0x0 0xfe300000 0x0 0x1000>; iommus = <&dart 1>;\n"
	"\t\tdma-coherent; };\n"
	"};\n";

static void upstream_darts_on_a_4k_kernel(void **state)
{
	(void)state;
	const char *board = swiommu_test_write_board("dart-upstream", upstream_dart_board);

	swiommu_exit();
	swiommu_log_reset();
	assert_int_equal(swiommu_init(board), 0);
	/* apple_dart_hw_reset refuses the locked DART; apple_dart_def_domain_type forces identity. */
	assert_true(swiommu_log_contains("apple-dart fe800000.iommu: DART is locked down until reboot: 00008000"));
	assert_true(swiommu_log_contains("bypass forced: 1] initialized"));
	struct device *gpu = dev_at("/gpu@fe300000");
	struct page *pg = alloc_page(GFP_KERNEL);

	assert_int_equal(iommu_get_dma_domain(gpu)->type, IOMMU_DOMAIN_IDENTITY);
	assert_int_equal(swiommu_dma_write(gpu, 0, page_to_phys(pg), "pa", 3), 0);
	assert_string_equal((char *)page_address(pg), "pa");
	__free_page(pg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(the_models_bind_the_default_board_iommus, boot, shut_down),
		cmocka_unit_test_setup_teardown(smmu_v3_translates_through_its_iotlb, boot, shut_down),
		cmocka_unit_test_setup_teardown(channels_behind_a_second_instance_have_their_own_domain, boot, shut_down),
		cmocka_unit_test_setup_teardown(map_sg_merges_contiguous_entries, boot, shut_down),
		cmocka_unit_test_setup_teardown(a_late_invalidation_leaves_a_stale_entry, boot, shut_down),
		cmocka_unit_test_setup_teardown(faults_reach_the_domain_handler, boot, shut_down),
		cmocka_unit_test_setup_teardown(mmu500_context_banks_run_out, boot, shut_down),
		cmocka_unit_test_setup_teardown(ipmmu_shares_then_runs_out_of_contexts, boot, shut_down),
		cmocka_unit_test_setup_teardown(exynos_one_attach_programs_both_sysmmus, boot, shut_down),
		cmocka_unit_test_setup_teardown(rockchip_logs_page_faults_its_way, boot, shut_down),
		cmocka_unit_test_setup_teardown(darts_share_the_locked_firmware_table, boot, shut_down),
		cmocka_unit_test_setup_teardown(upstream_darts_on_a_4k_kernel, boot, shut_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
