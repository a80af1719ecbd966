// SPDX-License-Identifier: MIT
// The IOMMU core's error paths: bad arguments, the attach rules' errnos, misuse that the kernel would turn
// into corruption. Each gives the kernel's errno (or NULL/0), a message or WARN record, and no crash.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/platform_device.h>
#include <linux/sizes.h>
#include <swiommu/swiommu.h>
#include "swiommu_test.h"

#define ETH	"/soc/ethernet@fe600000"
#define USB0	"/soc/usb@fe620000"
#define NOIOMMU	"/soc/dma32@fe700000"

static int master_probe(struct platform_device *pdev) { (void)pdev; return 0; }

static const struct of_device_id master_ids[] = {
	{ .compatible = "swiommu,ethernet" }, { .compatible = "swiommu,usb" }, { .compatible = "swiommu,dma32-device" }, { }
};

static struct platform_driver master_driver = {
	.probe = master_probe,
	.driver = { .name = "iommu-fail-master", .of_match_table = master_ids },
};

static void null_and_err_ptr_arguments(void **state)
{
	(void)state;
	struct iommu_domain *bad = ERR_PTR(-ENOMEM);

	assert_int_equal(iommu_map(NULL, 0, 0, SZ_4K, IOMMU_READ, GFP_KERNEL), -EINVAL);
	assert_int_equal(iommu_map(bad, 0, 0, SZ_4K, IOMMU_READ, GFP_KERNEL), -EINVAL);
	assert_int_equal(iommu_unmap(bad, 0, SZ_4K), 0);
	assert_int_equal(iommu_iova_to_phys(NULL, 0), 0);
	assert_int_equal(iommu_attach_device(NULL, swiommu_find_device(ETH)), -EINVAL);
	assert_int_equal(iommu_attach_device(bad, NULL), -EINVAL);
	iommu_domain_free(NULL);
	iommu_domain_free(bad);
	iommu_detach_device(bad, NULL);
	assert_int_equal(report_iommu_fault(NULL, NULL, 0, 0), -EINVAL);
	assert_true(swiommu_warn_count() >= 8);
	assert_int_equal(iommu_device_register(NULL, NULL, NULL), -EINVAL);
	assert_int_equal(iommu_group_id((struct iommu_group *)swiommu_find_device(ETH)), -EINVAL);
	assert_true(swiommu_log_contains("is not an IOMMU group"));
	assert_true(IS_ERR(iommu_paging_domain_alloc(NULL)));
}

static void devices_without_an_iommu(void **state)
{
	(void)state;
	assert_int_equal(platform_driver_register(&master_driver), 0);
	struct device *plain = swiommu_find_device(NOIOMMU);
	struct iommu_domain *d = iommu_paging_domain_alloc(plain);

	assert_true(IS_ERR(d));
	assert_int_equal(PTR_ERR(d), -ENODEV);
	assert_null(iommu_group_get(plain));
	assert_null(iommu_get_domain_for_dev(plain));
	assert_false(device_iommu_capable(plain, IOMMU_CAP_CACHE_COHERENCY));
	struct iommu_domain *other = iommu_paging_domain_alloc(swiommu_find_device(ETH));
	assert_int_equal(iommu_attach_device(other, plain), -ENODEV);
	assert_int_equal(iommu_fwspec_add_ids(plain, (u32[]){ 1 }, 1), -EINVAL);
	iommu_domain_free(other);
	platform_driver_unregister(&master_driver);
}

static void attach_rules(void **state)
{
	(void)state;
	assert_int_equal(platform_driver_register(&master_driver), 0);
	struct device *eth = swiommu_find_device(ETH), *usb0 = swiommu_find_device(USB0);
	struct iommu_domain *a = iommu_paging_domain_alloc(eth), *b = iommu_paging_domain_alloc(eth);

	/* usb0 shares its group with usb1: iommu_attach_device refuses, iommu_attach_group does it. */
	assert_int_equal(iommu_attach_device(a, usb0), -EINVAL);
	assert_int_equal(iommu_attach_device(a, eth), 0);
	/* Off its default domain, the group is busy: even for the same domain again (the kernel's rule). */
	assert_int_equal(iommu_attach_device(b, eth), -EBUSY);
	assert_int_equal(iommu_attach_device(a, eth), -EBUSY);
	/* Freeing an attached domain is refused with a WARN, not a use-after-free. */
	swiommu_warn_reset();
	iommu_domain_free(a);
	assert_int_equal(swiommu_warn_count(), 1);
	assert_true(swiommu_log_contains("still attached"));
	/* Detaching a domain that is not attached is a WARN. */
	iommu_detach_device(b, eth);
	assert_int_equal(swiommu_warn_count(), 2);
	iommu_detach_device(a, eth);
	assert_ptr_equal(iommu_get_domain_for_dev(eth), iommu_get_dma_domain(eth));
	iommu_domain_free(a);
	iommu_domain_free(b);
	platform_driver_unregister(&master_driver);
}

static void map_refuses_what_the_kernel_refuses(void **state)
{
	(void)state;
	assert_int_equal(platform_driver_register(&master_driver), 0);
	struct iommu_domain *d = iommu_paging_domain_alloc(swiommu_find_device(ETH));

	assert_int_equal(iommu_map(d, 0x1800, 0x80000000, SZ_4K, IOMMU_READ, GFP_KERNEL), -EINVAL);
	assert_true(swiommu_log_contains("unaligned: iova 0x1800 pa 0x0000000080000000 size 0x1000 min_pagesz 0x1000"));
	swiommu_warn_reset();
	assert_int_equal(iommu_map(d, 0x1000, 0x80000000, SZ_4K, IOMMU_READ, GFP_KERNEL | GFP_DMA32), -EINVAL);
	assert_int_equal(swiommu_warn_count(), 1);
	assert_int_equal(iommu_unmap(d, 0x1800, SZ_4K), 0);
	assert_true(swiommu_log_contains("unaligned: iova 0x1800 size 0x1000 min_pagesz 0x1000"));
	/* Unmapping what is not mapped unmaps nothing. */
	assert_int_equal(iommu_unmap(d, 0x100000, SZ_4K), 0);
	iommu_domain_free(d);
	platform_driver_unregister(&master_driver);
}

/* The rules of 6.17's iommu.c an audit found missing, one by one. */
static void core_rules_of_6_17(void **state)
{
	(void)state;
	struct device *eth = swiommu_find_device(ETH), *display = swiommu_find_device("/soc/display@fe200000");
	struct iommu_group *g = iommu_group_get(eth);
	struct iommu_domain *a = iommu_paging_domain_alloc(eth), *b = iommu_paging_domain_alloc(eth);
	struct iommu_domain identity = { .type = IOMMU_DOMAIN_IDENTITY };
	int owner, other;

	/* A domain that is not a paging one: -EINVAL, quietly (the WARN is for a paging one without ops). */
	swiommu_warn_reset();
	assert_int_equal(iommu_map(&identity, 0x1000, 0x80001000, SZ_4K, IOMMU_READ, GFP_KERNEL), -EINVAL);
	assert_int_equal(iommu_unmap(&identity, 0x1000, SZ_4K), 0);
	assert_int_equal(swiommu_warn_count(), 0);
	/* Only this driver's domains attach (domain_iommu_ops_compatible): one it did not hand the core is refused. */
	struct iommu_domain raw = { .type = IOMMU_DOMAIN_UNMANAGED, .ops = a->ops, .pgsize_bitmap = a->pgsize_bitmap };

	assert_int_equal(iommu_attach_device(&raw, eth), -EINVAL);
	/* With a caller's domain attached, DMA ownership cannot be taken (-EBUSY) ... */
	assert_int_equal(iommu_attach_device(a, eth), 0);
	assert_int_equal(iommu_group_claim_dma_owner(g, &owner), -EBUSY);
	assert_ptr_equal(iommu_get_domain_for_dev(eth), a);
	/* ... but a DMA-API driver may bind: no other user holds the group. */
	assert_int_equal(platform_driver_register(&master_driver), 0);
	assert_true(device_is_bound(eth));
	platform_driver_unregister(&master_driver);
	/* iommu_detach_group() puts the group on its core domain whatever domain it is given, quietly. */
	swiommu_warn_reset();
	iommu_detach_group(b, g);
	assert_int_equal(swiommu_warn_count(), 0);
	assert_ptr_equal(iommu_get_domain_for_dev(eth), iommu_get_dma_domain(eth));
	/* Shared device claims all go with one iommu_group_release_dma_owner(). */
	assert_int_equal(iommu_device_claim_dma_owner(eth, &owner), 0);
	assert_int_equal(iommu_device_claim_dma_owner(eth, &owner), 0);
	assert_int_equal(iommu_device_claim_dma_owner(eth, &other), -EPERM);
	iommu_group_release_dma_owner(g);
	assert_false(iommu_group_dma_owner_claimed(g));
	assert_ptr_equal(iommu_get_domain_for_dev(eth), iommu_get_dma_domain(eth));
	/* iommu_device_release_dma_owner() gives back one shared claim at a time. */
	assert_int_equal(iommu_device_claim_dma_owner(eth, &owner), 0);
	assert_int_equal(iommu_device_claim_dma_owner(eth, &owner), 0);
	iommu_device_release_dma_owner(eth);
	assert_true(iommu_group_dma_owner_claimed(g));
	iommu_device_release_dma_owner(eth);
	assert_false(iommu_group_dma_owner_claimed(g));
	/* A NULL owner is a WARN and -EINVAL before anything else. */
	swiommu_warn_reset();
	assert_int_equal(iommu_device_claim_dma_owner(swiommu_find_device(NOIOMMU), NULL), -EINVAL);
	assert_int_equal(swiommu_warn_count(), 1);
	/* The display's firmware framebuffer is IOMMU_RESV_DIRECT: mapped 1:1 in its default domain, and the
	 * device refuses a blocking domain, so its DMA cannot be claimed (-EINVAL and the kernel's message). */
	assert_int_equal(display->iommu->require_direct, 1);
	assert_int_equal(iommu_iova_to_phys(iommu_get_dma_domain(display), 0x9e000000), 0x9e000000);
	assert_int_equal(iommu_iova_to_phys(iommu_get_dma_domain(display), 0x9e7ff000), 0x9e7ff000);
	assert_int_equal(iommu_device_claim_dma_owner(display, &owner), -EINVAL);
	assert_true(swiommu_log_contains("Firmware has requested this device have a 1:1 IOMMU mapping"));
	assert_false(iommu_group_dma_owner_claimed(display->iommu_group));
	assert_ptr_equal(iommu_get_domain_for_dev(display), iommu_get_dma_domain(display));
	iommu_domain_free(a);
	iommu_domain_free(b);
	iommu_group_put(g);
}

static void ownership_misuse(void **state)
{
	(void)state;
	assert_int_equal(platform_driver_register(&master_driver), 0);
	struct iommu_group *g = iommu_group_get(swiommu_find_device(ETH));

	assert_int_equal(iommu_group_claim_dma_owner(g, NULL), -EINVAL);
	swiommu_warn_reset();
	iommu_group_release_dma_owner(g);
	assert_int_equal(swiommu_warn_count(), 1);
	assert_true(swiommu_log_contains("not owned"));
	iommu_group_put(g);
	platform_driver_unregister(&master_driver);
}

static void calls_while_the_machine_is_down(void **state)
{
	(void)state;
	swiommu_warn_reset();
	assert_true(IS_ERR(iommu_group_alloc()));
	assert_int_equal(iommu_device_register(NULL, NULL, NULL), -ENODEV);
	assert_true(swiommu_warn_count() >= 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(null_and_err_ptr_arguments, boot, shut_down),
		cmocka_unit_test_setup_teardown(devices_without_an_iommu, boot, shut_down),
		cmocka_unit_test_setup_teardown(attach_rules, boot, shut_down),
		cmocka_unit_test_setup_teardown(map_refuses_what_the_kernel_refuses, boot, shut_down),
		cmocka_unit_test_setup_teardown(ownership_misuse, boot, shut_down),
		cmocka_unit_test_setup_teardown(core_rules_of_6_17, boot, shut_down),
		cmocka_unit_test(calls_while_the_machine_is_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
