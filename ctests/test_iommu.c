// SPDX-License-Identifier: MIT
// The IOMMU core through an IOMMU driver written in C (examples/iommu/lpae_iommu.c, bound to the default
// board's MMU-500): probing masters into groups, default domains, unmanaged domains, attach and detach,
// iommu_map/unmap, faults, DMA ownership.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/list.h>
#include <linux/of_iommu.h>
#include <linux/platform_device.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <swiommu/swiommu.h>
#include "swiommu_test.h"
#include "lpae_iommu.h"

#define SMMU	"/soc/iommu@fd800000"
#define ETH	"/soc/ethernet@fe600000"
#define USB0	"/soc/usb@fe620000"
#define USB1	"/soc/usb@fe630000"

static int master_probe(struct platform_device *pdev) { (void)pdev; return 0; }

static const struct of_device_id master_ids[] = {
	{ .compatible = "swiommu,ethernet" }, { .compatible = "swiommu,usb" }, { .compatible = "swiommu,storage" }, { }
};

static struct platform_driver master_driver = {
	.probe = master_probe,
	.driver = { .name = "iommu-test-master", .of_match_table = master_ids },
};

/* UIO-style: manages its own DMA (vfio-platform). */
static struct platform_driver managed_driver = {
	.probe = master_probe,
	.driver = { .name = "iommu-test-managed", .of_match_table = master_ids },
	.driver_managed_dma = true,
};

static void domain_type_values_match_the_header(void **state)
{
	(void)state;
	assert_int_equal(IOMMU_DOMAIN_IDENTITY, 1 << 2);
	assert_int_equal(IOMMU_DOMAIN_UNMANAGED, 1 << 0);
	assert_int_equal(IOMMU_DOMAIN_DMA, 3);
	assert_int_equal(IOMMU_DOMAIN_DMA_FQ, 0xb);
}

static void the_c_driver_registers_its_instance(void **state)
{
	(void)state;
	struct device *smmu = swiommu_find_device(SMMU);

	assert_non_null(smmu);
	assert_true(device_is_bound(smmu));
	assert_true(swiommu_log_contains("lpae-iommu fd800000.iommu: registered as an IOMMU"));
	assert_non_null(lpae_iommu_stats(smmu));
}

static void masters_probe_into_groups_on_a_default_dma_domain(void **state)
{
	(void)state;
	assert_int_equal(platform_driver_register(&master_driver), 0);
	struct device *eth = swiommu_find_device(ETH), *usb0 = swiommu_find_device(USB0), *usb1 = swiommu_find_device(USB1);

	assert_true(device_is_bound(eth));
	assert_int_equal(swiommu_device_iommu_link(eth), SWIOMMU_IOMMU_ATTACHED);
	assert_non_null(eth->iommu);
	assert_non_null(eth->iommu_group);
	/* of_xlate packed stream ID 0x800, mask 0 into the fwspec, as arm-smmu does. */
	struct iommu_fwspec *fwspec = dev_iommu_fwspec_get(eth);
	assert_int_equal(fwspec->num_ids, 1);
	assert_int_equal(fwspec->ids[0], 0x800);
	/* usb0's stream-match mask covers usb1's stream ID: one group. */
	struct iommu_group *g0 = iommu_group_get(usb0), *g1 = iommu_group_get(usb1), *ge = iommu_group_get(eth);
	assert_ptr_equal(g0, g1);
	assert_ptr_not_equal(g0, ge);
	assert_true(swiommu_log_contains("Adding to iommu group"));
	/* The default domain is translated and strict (the board says iommu.strict=1). */
	struct iommu_domain *d = iommu_get_dma_domain(eth);
	assert_non_null(d);
	assert_ptr_equal(iommu_get_domain_for_dev(eth), d);
	assert_int_equal(d->type, IOMMU_DOMAIN_DMA);
	assert_ptr_equal(iommu_group_default_domain(ge), d);
	assert_true(device_iommu_capable(eth, IOMMU_CAP_DEFERRED_FLUSH));
	iommu_group_put(g0);
	iommu_group_put(g1);
	iommu_group_put(ge);
	platform_driver_unregister(&master_driver);
}

static int fault_count;
static unsigned long fault_iova;
static int fault_flags;

static int on_fault(struct iommu_domain *d, struct device *dev, unsigned long iova, int flags, void *token)
{
	(void)d; (void)dev;
	fault_count++;
	fault_iova = iova;
	fault_flags = flags;
	return *(int *)token;
}

static void an_unmanaged_domain_maps_and_unmaps(void **state)
{
	(void)state;
	assert_int_equal(platform_driver_register(&master_driver), 0);
	struct device *eth = swiommu_find_device(ETH);
	struct iommu_domain *def = iommu_get_dma_domain(eth);
	struct iommu_domain *d = iommu_paging_domain_alloc(eth);

	assert_false(IS_ERR_OR_NULL(d));
	assert_int_equal(d->type, IOMMU_DOMAIN_UNMANAGED);
	assert_int_equal(iommu_attach_device(d, eth), 0);
	assert_ptr_equal(iommu_get_domain_for_dev(eth), d);
	assert_ptr_equal(iommu_get_dma_domain(eth), def);

	struct page *pg = alloc_pages(GFP_KERNEL, 9);	/* 2 MiB, naturally aligned */
	phys_addr_t pa = page_to_phys(pg);
	assert_int_equal(iommu_map(d, 0x40000000, pa, SZ_2M, IOMMU_READ | IOMMU_WRITE, GFP_KERNEL), 0);
	assert_int_equal(iommu_iova_to_phys(d, 0x40000000 + 0x1234), pa + 0x1234);
	assert_int_equal(iommu_map(d, 0x10000, pa, SZ_4K, IOMMU_READ, GFP_KERNEL), 0);
	assert_int_equal(iommu_unmap(d, 0x10000, SZ_4K), SZ_4K);
	assert_int_equal(iommu_iova_to_phys(d, 0x10000), 0);
	/* The whole 2 MiB block goes, and iommu_unmap says so. */
	assert_int_equal(iommu_unmap(d, 0x40000000, SZ_2M), SZ_2M);
	assert_int_equal(iommu_unmap(d, 0x40000000, SZ_2M), 0);

	int handled = 0, unhandled = -ENOSYS;
	iommu_set_fault_handler(d, on_fault, &handled);
	assert_int_equal(report_iommu_fault(d, eth, 0xdead000, IOMMU_FAULT_WRITE), 0);
	assert_int_equal(fault_count, 1);
	assert_int_equal(fault_iova, 0xdead000);
	assert_int_equal(fault_flags, IOMMU_FAULT_WRITE);
	/* 6.17 keeps the first handler: a second one is refused with a WARN. */
	iommu_set_fault_handler(d, on_fault, &unhandled);
	assert_non_null(strstr(swiommu_warn_last(), "a domain that has a fault handler already"));
	assert_int_equal(report_iommu_fault(d, eth, 0xbeef000, IOMMU_FAULT_READ), 0);
	handled = -ENOSYS;
	assert_int_equal(report_iommu_fault(d, eth, 0xbeef000, IOMMU_FAULT_READ), -ENOSYS);
	assert_int_equal(fault_count, 3);
	/* The DMA API's domain holds dma-iommu's cookie, which a handler would overwrite: refused too. */
	iommu_set_fault_handler(def, on_fault, &handled);
	assert_non_null(strstr(swiommu_warn_last(), "a DMA-API domain"));
	assert_int_equal(report_iommu_fault(def, eth, 0xbeef000, IOMMU_FAULT_READ), -ENOSYS);
	assert_int_equal(fault_count, 3);

	iommu_detach_device(d, eth);
	assert_ptr_equal(iommu_get_domain_for_dev(eth), def);
	iommu_domain_free(d);
	__free_pages(pg, 9);
	platform_driver_unregister(&master_driver);
}

static void unmap_fast_gathers_for_a_later_sync(void **state)
{
	(void)state;
	assert_int_equal(platform_driver_register(&master_driver), 0);
	struct device *eth = swiommu_find_device(ETH);
	struct iommu_domain *d = iommu_paging_domain_alloc(eth);
	const struct lpae_iommu_stats *st = lpae_iommu_stats(swiommu_find_device(SMMU));
	struct iommu_iotlb_gather gather;
	struct page *pg = alloc_page(GFP_KERNEL);

	assert_int_equal(iommu_map(d, 0x200000, page_to_phys(pg), SZ_4K, IOMMU_READ, GFP_KERNEL), 0);
	unsigned long syncs = st->iotlb_sync;
	iommu_iotlb_gather_init(&gather);
	assert_int_equal(iommu_unmap_fast(d, 0x200000, SZ_4K, &gather), SZ_4K);
	assert_int_equal(st->iotlb_sync, syncs);		/* nothing synced yet */
	iommu_iotlb_sync(d, &gather);
	assert_int_equal(st->iotlb_sync, syncs + 1);
	iommu_domain_free(d);
	__free_page(pg);
	platform_driver_unregister(&master_driver);
}

static void a_partial_map_is_rolled_back(void **state)
{
	(void)state;
	assert_int_equal(platform_driver_register(&master_driver), 0);
	struct device *eth = swiommu_find_device(ETH);
	struct iommu_domain *d = iommu_paging_domain_alloc(eth);
	struct page *pg = alloc_pages(GFP_KERNEL, 2);

	/* 0x3000 is taken, so mapping 0x0..0x4000 fails there and the first three pages are unmapped again. */
	assert_int_equal(iommu_map(d, 0x3000, page_to_phys(pg), SZ_4K, IOMMU_READ, GFP_KERNEL), 0);
	assert_int_equal(iommu_map(d, 0x0, page_to_phys(pg), 4 * SZ_4K, IOMMU_READ, GFP_KERNEL), -EEXIST);
	assert_int_equal(iommu_iova_to_phys(d, 0x0), 0);
	assert_int_equal(iommu_iova_to_phys(d, 0x2000), 0);
	assert_int_equal(iommu_iova_to_phys(d, 0x3000), page_to_phys(pg));
	iommu_domain_free(d);
	__free_pages(pg, 2);
	platform_driver_unregister(&master_driver);
}

static void dma_ownership_follows_driver_managed_dma(void **state)
{
	(void)state;
	static int owner;
	struct device *eth = swiommu_find_device(ETH);

	/* A DMA-API driver bound in the group: nobody may claim it. */
	assert_int_equal(platform_driver_register(&master_driver), 0);
	struct iommu_group *g = iommu_group_get(eth);
	assert_int_equal(iommu_group_claim_dma_owner(g, &owner), -EPERM);
	platform_driver_unregister(&master_driver);
	/* A driver_managed_dma driver may. */
	assert_int_equal(platform_driver_register(&managed_driver), 0);
	assert_true(device_is_bound(eth));
	assert_int_equal(iommu_group_claim_dma_owner(g, &owner), 0);
	assert_true(iommu_group_dma_owner_claimed(g));
	assert_ptr_not_equal(iommu_get_domain_for_dev(eth), iommu_get_dma_domain(eth));
	iommu_group_release_dma_owner(g);
	assert_false(iommu_group_dma_owner_claimed(g));
	assert_ptr_equal(iommu_get_domain_for_dev(eth), iommu_get_dma_domain(eth));
	/* Shared claims with one cookie. */
	assert_int_equal(iommu_device_claim_dma_owner(eth, &owner), 0);
	assert_int_equal(iommu_device_claim_dma_owner(eth, &owner), 0);
	assert_int_equal(iommu_device_claim_dma_owner(eth, &fault_count), -EPERM);
	iommu_device_release_dma_owner(eth);
	iommu_device_release_dma_owner(eth);
	assert_false(iommu_group_dma_owner_claimed(g));
	iommu_group_put(g);
	platform_driver_unregister(&managed_driver);
}

static int count_dev(struct device *dev, void *data)
{
	(void)dev;
	(*(int *)data)++;
	return 0;
}

static void groups_are_queryable(void **state)
{
	(void)state;
	assert_int_equal(platform_driver_register(&master_driver), 0);
	struct iommu_group *g = iommu_group_get(swiommu_find_device(USB0));
	int n = 0;

	assert_non_null(g);
	assert_true(iommu_group_id(g) >= 0);
	assert_int_equal(iommu_group_for_each_dev(g, &n, count_dev), 0);
	assert_int_equal(n, 2);
	assert_int_equal(iommu_group_set_name(g, "usb"), 0);
	iommu_group_set_iommudata(g, &n, NULL);
	assert_ptr_equal(iommu_group_get_iommudata(g), &n);
	iommu_group_put(g);
	platform_driver_unregister(&master_driver);
}

static void freeing_a_domain_frees_its_tables(void **state)
{
	(void)state;
	assert_int_equal(platform_driver_register(&master_driver), 0);
	long before = swiommu_mem_check_leaks(false);
	struct iommu_domain *d = iommu_paging_domain_alloc(swiommu_find_device(ETH));
	struct page *pg = alloc_page(GFP_KERNEL);

	assert_int_equal(iommu_map(d, 0x7f0000000, page_to_phys(pg), SZ_4K, IOMMU_READ, GFP_KERNEL), 0);
	assert_true(swiommu_mem_check_leaks(false) > before + 1);	/* the domain, its tables, the page */
	iommu_domain_free(d);
	__free_page(pg);
	assert_int_equal(swiommu_mem_check_leaks(false), before);
	platform_driver_unregister(&master_driver);
}

static int display_probe(struct platform_device *pdev) { (void)pdev; return 0; }
static const struct of_device_id display_ids[] = { { .compatible = "swiommu,display" }, { } };
static struct platform_driver display_driver = {
	.probe = display_probe,
	.driver = { .name = "iommu-test-display", .of_match_table = display_ids },
};

static void reserved_regions_from_the_device_tree(void **state)
{
	(void)state;
	LIST_HEAD(regions);
	struct swiommu_mem_stats before, after;

	assert_int_equal(platform_driver_register(&display_driver), 0);
	assert_int_equal(platform_driver_register(&master_driver), 0);
	assert_int_equal(swiommu_mem_get_stats(&before), 0);
	/* The display's framebuffer: a reserved-memory node with a matching reg is IOMMU_RESV_DIRECT. */
	of_iommu_get_resv_regions(swiommu_find_device("/soc/display@fe200000"), &regions);
	assert_int_equal(list_count_nodes(&regions), 1);
	struct iommu_resv_region *r = list_first_entry(&regions, struct iommu_resv_region, list);
	assert_int_equal(r->start, 0x9e000000);
	assert_int_equal(r->length, 0x800000);
	assert_int_equal(r->type, IOMMU_RESV_DIRECT);
	assert_int_equal(r->prot, IOMMU_READ | IOMMU_WRITE | IOMMU_CACHE);
	iommu_put_resv_regions(NULL, &regions);
	assert_true(list_empty(&regions));
	/* The ethernet's driver reports the device tree's: none. */
	iommu_get_resv_regions(swiommu_find_device(ETH), &regions);
	assert_true(list_empty(&regions));
	/* A region made by hand goes back with iommu_put_resv_regions too. */
	list_add_tail(&iommu_alloc_resv_region(0x8000000, SZ_1M, 0, IOMMU_RESV_RESERVED, GFP_KERNEL)->list, &regions);
	assert_int_equal(swiommu_mem_get_stats(&after), 0);
	assert_int_equal(after.kmalloc_objects, before.kmalloc_objects + 1);
	iommu_put_resv_regions(NULL, &regions);
	assert_int_equal(swiommu_mem_get_stats(&after), 0);
	assert_int_equal(after.kmalloc_objects, before.kmalloc_objects);
	platform_driver_unregister(&master_driver);
	platform_driver_unregister(&display_driver);
}

/* Two devices of one group (usb0 and usb1 share a stream-match entry) with reserved windows of their own. */
static const char usb_windows[] =
	"/include/ \"" SWIOMMU_SOURCE_DIR "/examples/boards/default.dts\"\n"
	"/ { reserved-memory {\n"
	"	usb_a: usb-window-a { iommu-addresses = <&{/soc/usb@fe620000} 0x0 0x10000000 0x0 0x100000>; };\n"
	"	usb_b: usb-window-b { iommu-addresses = <&{/soc/usb@fe630000} 0x0 0x10080000 0x0 0x100000>; };\n"
	"	usb_c: usb-window-c { iommu-addresses = <&{/soc/usb@fe630000} 0x0 0x20000000 0x0 0x1000>; };\n"
	"	usb_mbox: usb-mailbox@9f000000 { reg = <0x0 0x9f000000 0x0 0x1000>; no-map;\n"
	"		iommu-addresses = <&{/soc/usb@fe620000} 0x0 0x9f000000 0x0 0x1000>; };\n"
	"}; };\n"
	"&{/soc/usb@fe620000} { memory-region = <&usb_a &usb_mbox>; };\n"
	"&{/soc/usb@fe630000} { memory-region = <&usb_b &usb_c>; };\n";

static void a_groups_reserved_regions_are_merged(void **state)
{
	(void)state;
	LIST_HEAD(regions);
	struct iommu_resv_region *r, *next;
	const char *board = swiommu_test_write_board("usb-windows", usb_windows);
	static const struct { u64 start; size_t length; enum iommu_resv_type type; } want[] = {
		{ 0x10000000, 0x180000, IOMMU_RESV_RESERVED },	/* a and b overlap: one region */
		{ 0x20000000, 0x1000, IOMMU_RESV_RESERVED },
		{ 0x9f000000, 0x1000, IOMMU_RESV_DIRECT },
	};
	int i = 0;

	assert_non_null(board);
	assert_int_equal(swiommu_init(board), 0);
	unlink(board);
	struct device *usb0 = swiommu_find_device(USB0), *usb1 = swiommu_find_device(USB1);

	assert_true(device_iommu_mapped(usb0));
	assert_false(device_iommu_mapped(swiommu_find_device("/soc/dma32@fe700000")));
	assert_ptr_equal(usb0->iommu_group, usb1->iommu_group);
	assert_int_equal(iommu_get_group_resv_regions(usb0->iommu_group, &regions), 0);
	assert_int_equal(list_count_nodes(&regions), 3);
	list_for_each_entry(r, &regions, list) {
		assert_int_equal(r->start, want[i].start);
		assert_int_equal(r->length, want[i].length);
		assert_int_equal(r->type, want[i].type);
		i++;
	}
	list_for_each_entry_safe(r, next, &regions, list)
		kfree(r);
	/* Each device alone still reports its own. */
	INIT_LIST_HEAD(&regions);
	iommu_get_resv_regions(usb1, &regions);
	assert_int_equal(list_count_nodes(&regions), 2);
	iommu_put_resv_regions(usb1, &regions);
	/* No device here has an MSI domain: no isolated MSIs. */
	assert_false(iommu_group_has_isolated_msi(usb0->iommu_group));
	assert_int_equal(iommu_get_group_resv_regions(NULL, &regions), -EINVAL);
	assert_int_equal(iommu_get_group_resv_regions(usb0->iommu_group, NULL), -EINVAL);
	assert_true(list_empty(&regions));
}

static void device_dma_goes_through_the_domain(void **state)
{
	(void)state;
	assert_int_equal(platform_driver_register(&master_driver), 0);
	struct device *eth = swiommu_find_device(ETH);
	struct iommu_domain *d = iommu_paging_domain_alloc(eth);
	struct page *pg = alloc_page(GFP_KERNEL | __GFP_ZERO);
	char buf[16] = { 0 };
	int handled = 0;

	assert_int_equal(iommu_attach_device(d, eth), 0);
	assert_int_equal(iommu_map(d, 0x5000000, page_to_phys(pg), SZ_4K, IOMMU_READ | IOMMU_WRITE, GFP_KERNEL), 0);
	/* The device writes through the IOMMU; the (coherent) CPU sees it in the page. */
	assert_int_equal(swiommu_dma_write(eth, 0, 0x5000010, "frame", 6), 0);
	assert_string_equal((char *)page_address(pg) + 0x10, "frame");
	assert_int_equal(swiommu_dma_read(eth, 0, 0x5000010, buf, 6), 0);
	assert_string_equal(buf, "frame");
	/* Past the mapping: a fault, reported to the domain's handler. */
	fault_count = 0;
	iommu_set_fault_handler(d, on_fault, &handled);
	assert_int_equal(swiommu_dma_write(eth, 0, 0x5001000, "x", 1), -EFAULT);
	assert_int_equal(fault_count, 1);
	assert_int_equal(fault_iova, 0x5001000);
	assert_int_equal(fault_flags, IOMMU_FAULT_WRITE);
	/* Unhandled: the driver-style log line. */
	handled = -ENOSYS;
	assert_int_equal(swiommu_dma_read(eth, 0, 0x6000000, buf, 4), -EFAULT);
	assert_true(swiommu_log_contains("Unhandled context fault: iova=0x6000000, read"));
	assert_int_equal(swiommu_dma_faults(eth), 2);
	/* Back on the (empty) default domain, the old IOVA faults too. */
	iommu_detach_device(d, eth);
	assert_int_equal(swiommu_dma_read(eth, 0, 0x5000010, buf, 6), -EFAULT);
	iommu_domain_free(d);
	__free_page(pg);
	platform_driver_unregister(&master_driver);
}

static void default_domain_policies(void **state)
{
	(void)state;
	assert_string_equal(swiommu_iommu_default_domain_policy(), "per-group");	/* the board's /chosen */
	assert_int_equal(swiommu_iommu_set_default_domain_policy("sometimes"), -EINVAL);
	assert_true(swiommu_log_contains("unknown default-domain policy 'sometimes'"));
	/* IOMMU instances set their masters up when they register, at boot: the policy is a boot setting. */
	swiommu_exit();
	assert_null(swiommu_iommu_default_domain_policy());
	assert_int_equal(swiommu_iommu_set_default_domain_policy("per-instance"), 0);
	assert_int_equal(swiommu_init(NULL), 0);
	assert_string_equal(swiommu_iommu_default_domain_policy(), "per-instance");
	assert_int_equal(platform_driver_register(&master_driver), 0);
	struct device *eth = swiommu_find_device(ETH), *usb0 = swiommu_find_device(USB0);
	struct device *storage = swiommu_find_device("/soc/storage@fe610000");

	/* Three groups on one MMU-500, one default domain. */
	assert_ptr_not_equal(eth->iommu_group, usb0->iommu_group);
	assert_ptr_not_equal(eth->iommu_group, storage->iommu_group);
	assert_ptr_equal(iommu_get_dma_domain(eth), iommu_get_dma_domain(usb0));
	assert_ptr_equal(iommu_get_dma_domain(eth), iommu_get_dma_domain(storage));
	/* A group can still leave it and come back. */
	struct iommu_domain *own = iommu_paging_domain_alloc(eth), *shared = iommu_get_dma_domain(eth);
	assert_int_equal(iommu_attach_device(own, eth), 0);
	assert_ptr_equal(iommu_get_domain_for_dev(usb0), shared);
	iommu_detach_device(own, eth);
	assert_ptr_equal(iommu_get_domain_for_dev(eth), shared);
	iommu_domain_free(own);
	platform_driver_unregister(&master_driver);
	/* The shared domain goes once, with the last group: nothing leaks at teardown. */
	swiommu_log_reset();
	swiommu_exit();
	assert_false(swiommu_log_contains("leaked"));
	assert_int_equal(swiommu_iommu_set_default_domain_policy("per-group"), 0);
	assert_int_equal(swiommu_init(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(domain_type_values_match_the_header),
		cmocka_unit_test_setup_teardown(the_c_driver_registers_its_instance, boot, shut_down),
		cmocka_unit_test_setup_teardown(masters_probe_into_groups_on_a_default_dma_domain, boot, shut_down),
		cmocka_unit_test_setup_teardown(an_unmanaged_domain_maps_and_unmaps, boot, shut_down),
		cmocka_unit_test_setup_teardown(unmap_fast_gathers_for_a_later_sync, boot, shut_down),
		cmocka_unit_test_setup_teardown(a_partial_map_is_rolled_back, boot, shut_down),
		cmocka_unit_test_setup_teardown(dma_ownership_follows_driver_managed_dma, boot, shut_down),
		cmocka_unit_test_setup_teardown(groups_are_queryable, boot, shut_down),
		cmocka_unit_test_setup_teardown(freeing_a_domain_frees_its_tables, boot, shut_down),
		cmocka_unit_test_setup_teardown(reserved_regions_from_the_device_tree, boot, shut_down),
		cmocka_unit_test_teardown(a_groups_reserved_regions_are_merged, shut_down),
		cmocka_unit_test_setup_teardown(default_domain_policies, boot, shut_down),
		cmocka_unit_test_setup_teardown(device_dma_goes_through_the_domain, boot, shut_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
