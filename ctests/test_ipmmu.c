// SPDX-License-Identifier: MIT
// The IOMMU driver written in C (examples/drivers/ipmmu.c, ipmmu-vmsa style): it takes the default
// board's IPMMUs before the built-in model, serves the six vin masters through a root with 4 contexts
// and 4 leaves (one group per leaf), translates their DMA with ARM_32_LPAE_S1 tables, reports faults and
// runs out of contexts with -EBUSY. A small board with 2 contexts shows a domain taking and giving back a
// context. Error paths: test_ipmmu_fail.c.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <swiommu/swiommu.h>
#include "swiommu_test.h"
#include "examples_test.h"
#include "ipmmu.h"

#define ROOT	"/soc/iommu@fe900000"
#define LEAF0	"/soc/iommu@fe910000"
#define LEAF1	"/soc/iommu@fe920000"
#define VIN(n)	"/soc/vin@fea" #n "0000"

/* A root with 2 contexts, listed after its leaf, and two masters behind the leaf. */
static const char two_context_board[] =
	"/dts-v1/;\n"
	"/ {\n"
	"\tcompatible = \"swiommu,test-board\";\n"
	"\t#address-cells = <2>;\n"
	"\t#size-cells = <2>;\n"
	"\tinterrupt-parent = <&gic>;\n"
	"\tmemory@80000000 { device_type = \"memory\"; reg = <0x0 0x80000000 0x0 0x10000000>; };\n"
	"\tgic: interrupt-controller@f9010000 { compatible = \"arm,gic-400\"; #interrupt-cells = <3>;\n"
	"\t\tinterrupt-controller; reg = <0x0 0xf9010000 0x0 0x1000>; };\n"
	"\tleaf: iommu@fe910000 { compatible = \"swiommu,ipmmu-4ctx\", \"renesas,ipmmu-vmsa\";\n"
	"\t\treg = <0x0 0xfe910000 0x0 0x1000>; renesas,ipmmu-main = <&root 0>; #iommu-cells = <1>; };\n"
	"\troot: iommu@fe900000 { compatible = \"swiommu,ipmmu-4ctx\", \"renesas,ipmmu-vmsa\";\n"
	"\t\treg = <0x0 0xfe900000 0x0 0x1000>; interrupts = <0 116 4>; #iommu-cells = <1>;\n"
	"\t\tswiommu,num-contexts = <2>; };\n"
	"\tvin@fea00000 { compatible = \"swiommu,video-input\"; reg = <0x0 0xfea00000 0x0 0x1000>;\n"
	"\t\tinterrupts = <0 50 4>; iommus = <&leaf 0>; dma-coherent; };\n"
	"\tvin@fea10000 { compatible = \"swiommu,video-input\"; reg = <0x0 0xfea10000 0x0 0x1000>;\n"
	"\t\tinterrupts = <0 51 4>; iommus = <&leaf 1>; dma-coherent; };\n"
	"};\n";

static int boot_two_contexts(void **state)
{
	(void)state;
	swiommu_warn_reset();
	swiommu_log_reset();
	return swiommu_init(swiommu_test_write_board("ipmmu-2ctx", two_context_board));
}

static struct ipmmu_stats stats_of(const char *path)
{
	struct ipmmu_stats st;

	assert_int_equal(ipmmu_get_stats(dev_at(path), &st), 0);
	return st;
}

static struct {
	int calls;
	struct device *dev;
	unsigned long iova;
	int flags;
} fault;

static int on_fault(struct iommu_domain *domain, struct device *dev, unsigned long iova, int flags, void *token)
{
	(void)domain;
	fault.calls++;
	fault.dev = dev;
	fault.iova = iova;
	fault.flags = flags;
	return *(int *)token;
}

static void the_c_driver_takes_the_ipmmus_before_the_model(void **state)
{
	(void)state;
	static const char *const ipmmus[] = { ROOT, LEAF0, LEAF1, "/soc/iommu@fe930000", "/soc/iommu@fe940000" };
	struct swiommu_iotlb_stats s;

	for (size_t i = 0; i < sizeof(ipmmus) / sizeof(ipmmus[0]); i++)
		assert_string_equal(dev_driver_string(dev_at(ipmmus[i])), "ipmmu-vmsa-c");
	assert_true(swiommu_log_contains("ipmmu-vmsa-c fe900000.iommu: root IPMMU with 4 contexts"));
	assert_true(swiommu_log_contains("ipmmu-vmsa-c fe940000.iommu: leaf IPMMU registered, contexts on fe900000.iommu"));
	/* Its instances are not models: the core keeps no IOTLB for them. */
	assert_int_equal(swiommu_iommu_iotlb_stats(dev_at(VIN(0)), 0, &s), -ENODEV);
	assert_int_equal(swiommu_iommu_port_powered(dev_at(VIN(0)), 0), -EOPNOTSUPP);
	/* The other IOMMUs are still the models'. */
	assert_string_equal(dev_driver_string(dev_at("/soc/iommu@fe0b0000")), "rk_iommu");
	assert_int_equal(ipmmu_get_stats(dev_at("/soc/iommu@fe0b0000"), &(struct ipmmu_stats){ 0 }), -ENODEV);
	/* Each leaf probed its masters; the root registers no IOMMU of its own. */
	assert_int_equal(stats_of(LEAF0).masters, 2);
	assert_int_equal(stats_of("/soc/iommu@fe940000").masters, 2);
	assert_int_equal(stats_of(ROOT).masters, 0);
}

static void one_group_and_one_context_per_leaf(void **state)
{
	(void)state;
	struct device *vin0 = dev_at(VIN(0)), *vin1 = dev_at(VIN(1)), *vin2 = dev_at(VIN(2));
	struct ipmmu_stats st = stats_of(ROOT);

	assert_ptr_equal(vin0->iommu_group, vin1->iommu_group);
	assert_ptr_not_equal(vin0->iommu_group, vin2->iommu_group);
	assert_ptr_equal(iommu_get_dma_domain(vin0), iommu_get_dma_domain(vin1));
	assert_int_equal(iommu_get_dma_domain(vin0)->type, IOMMU_DOMAIN_DMA);
	assert_int_equal(iommu_get_dma_domain(vin0)->pgsize_bitmap, SZ_4K | SZ_2M | SZ_1G);
	assert_int_equal(iommu_get_dma_domain(vin0)->geometry.aperture_end, 0xffffffffULL);
	/* Four leaves, four default domains: the root's four contexts are taken. */
	assert_int_equal(st.contexts, 4);
	assert_int_equal(st.contexts_used, 4);
	/* The masters were set up when their leaf registered, before the vin driver bound them. */
	assert_true(swiommu_log_contains("platform fea00000.vin: Using IPMMU context 0"));
	assert_true(swiommu_log_contains("platform fea10000.vin: Reusing IPMMU context 0"));
	/* Both micro-TLBs of leaf 0 select context 0; leaf 1's its own; each context has its own table. */
	assert_int_equal(ipmmu_utlb_context(dev_at(LEAF0), 0), 0);
	assert_int_equal(ipmmu_utlb_context(dev_at(LEAF0), 1), 0);
	assert_int_equal(ipmmu_utlb_context(dev_at(LEAF1), 2), 1);
	assert_int_equal(ipmmu_utlb_context(dev_at(LEAF1), 5), -1);
	for (unsigned int ctx = 0; ctx < 4; ctx++) {
		assert_int_not_equal(ipmmu_context_ttbr(dev_at(ROOT), ctx), 0);
		for (unsigned int other = 0; other < ctx; other++)
			assert_int_not_equal(ipmmu_context_ttbr(dev_at(ROOT), ctx),
					     ipmmu_context_ttbr(dev_at(ROOT), other));
	}
	assert_int_equal(ipmmu_context_ttbr(dev_at(ROOT), 4), 0);
}

static void device_dma_goes_through_its_tables(void **state)
{
	(void)state;
	unsigned long debug = dma_debug_mark();
	struct device *vin = dev_at(VIN(4));
	u8 *buf = kzalloc(SZ_8K, GFP_KERNEL);
	unsigned long flushes = stats_of("/soc/iommu@fe940000").tlb_flushes;
	dma_addr_t a = dma_map_single(vin, buf, SZ_8K, DMA_FROM_DEVICE);

	assert_false(dma_mapping_error(vin, a));
	/* An IOVA of the leaf's default domain: 32 bits, top down, not the physical address. */
	assert_true(a < SZ_4G);
	assert_int_not_equal(a, virt_to_phys(buf));
	assert_int_equal(iommu_iova_to_phys(iommu_get_dma_domain(vin), a + 0x1234), virt_to_phys(buf) + 0x1234);
	assert_int_equal(swiommu_dma_write(vin, 0, a + SZ_4K - 4, "scanline", 9), 0);
	/* The strict unmap flushes the context's TLB. */
	dma_unmap_single(vin, a, SZ_8K, DMA_FROM_DEVICE);
	assert_string_equal((char *)buf + SZ_4K - 4, "scanline");
	assert_true(stats_of("/soc/iommu@fe940000").tlb_flushes > flushes);
	assert_int_equal(iommu_iova_to_phys(iommu_get_dma_domain(vin), a), 0);
	assert_int_equal(swiommu_dma_write(vin, 0, a, "late", 5), -EFAULT);
	kfree(buf);
	expect_dma_debug_clean(debug);
}

static void a_domain_stays_on_its_leaf(void **state)
{
	(void)state;
	struct device *vin2 = dev_at(VIN(2));

	assert_int_equal(iommu_attach_device(iommu_get_dma_domain(dev_at(VIN(0))), vin2), -EINVAL);
	assert_true(swiommu_log_contains("Can't attach IPMMU fe920000.iommu to domain on IPMMU fe910000.iommu"));
	assert_ptr_equal(iommu_get_domain_for_dev(vin2), iommu_get_dma_domain(vin2));
}

static void contexts_run_out_with_ebusy(void **state)
{
	(void)state;
	struct device *vin2 = dev_at(VIN(2));
	struct iommu_domain *extra = iommu_paging_domain_alloc(vin2);

	assert_false(IS_ERR(extra));
	assert_int_equal(extra->type, IOMMU_DOMAIN_UNMANAGED);
	assert_int_equal(iommu_attach_device(extra, vin2), -EBUSY);
	assert_true(swiommu_log_contains("fea20000.vin: Unable to initialize IPMMU context"));
	assert_ptr_equal(iommu_get_domain_for_dev(vin2), iommu_get_dma_domain(vin2));
	assert_int_equal(stats_of(ROOT).contexts_used, 4);
	iommu_domain_free(extra);
	assert_int_equal(stats_of(ROOT).contexts_used, 4);
}

static void a_dma_domain_takes_no_fault_handler(void **state)
{
	(void)state;
	struct device *vin3 = dev_at(VIN(3));
	struct iommu_domain *d = iommu_get_dma_domain(vin3);
	int handled = 0;
	char byte;

	/* 6.17: the DMA API's domain holds dma-iommu's cookie, which a handler would overwrite: a WARN, and the
	 * faults stay unhandled (the driver's line). */
	memset(&fault, 0, sizeof(fault));
	iommu_set_fault_handler(d, on_fault, &handled);
	assert_non_null(strstr(swiommu_warn_last(), "a DMA-API domain"));
	assert_int_equal(swiommu_dma_read(vin3, 0, 0x5000, &byte, 1), -EFAULT);
	assert_int_equal(fault.calls, 0);
	assert_true(swiommu_log_contains("swiommu-vin fea30000.vin: Unhandled context fault: iova=0x5000, read"));
	assert_int_equal(swiommu_dma_faults(vin3), 1);
}

static void a_leaf_listed_before_its_root_waits_for_it(void **state)
{
	(void)state;
	assert_true(swiommu_log_contains("ipmmu-vmsa-c fe910000.iommu: Driver ipmmu-vmsa-c requests probe deferral"));
	assert_true(device_is_bound(dev_at("/iommu@fe910000")));
	assert_true(swiommu_log_contains("ipmmu-vmsa-c fe900000.iommu: root IPMMU with 2 contexts"));
	assert_int_equal(stats_of("/iommu@fe900000").contexts_used, 1);
	assert_int_equal(swiommu_device_iommu_link(dev_at("/vin@fea00000")), SWIOMMU_IOMMU_ATTACHED);
}

static char text[4096];

static void an_unmanaged_domain_takes_the_free_context(void **state)
{
	(void)state;
	struct device *vin0 = dev_at("/vin@fea00000"), *vin1 = dev_at("/vin@fea10000");
	struct device *root = dev_at("/iommu@fe900000"), *leaf = dev_at("/iommu@fe910000");
	struct page *pg = alloc_pages(GFP_KERNEL | __GFP_ZERO, 1);
	struct iommu_domain *a, *b;
	int handled = 0;
	char back[8] = { 0 };

	/* vin0 and vin1 share the leaf's group: attach the group, as VFIO would. */
	a = iommu_paging_domain_alloc(vin0);
	assert_false(IS_ERR(a));
	assert_int_equal(iommu_attach_device(a, vin0), -EINVAL);
	assert_int_equal(iommu_attach_group(a, vin0->iommu_group), 0);
	assert_true(swiommu_log_contains("Using IPMMU context 1"));
	assert_int_equal(stats_of("/iommu@fe900000").contexts_used, 2);
	assert_int_equal(ipmmu_utlb_context(leaf, 0), 1);
	assert_int_equal(ipmmu_utlb_context(leaf, 1), 1);
	assert_int_not_equal(ipmmu_context_ttbr(root, 1), 0);
	/* Map, DMA from both masters, fault into the handler. The core counts the C driver's domain while
	 * counting is on: one map_pages call of two pages. */
	struct swiommu_domain_counters c;

	swiommu_dma_counters_enable(true);
	assert_int_equal(iommu_map(a, 0x10000000, page_to_phys(pg), SZ_8K, IOMMU_READ | IOMMU_WRITE, GFP_KERNEL), 0);
	assert_int_equal(swiommu_iommu_domain_counters(a, &c), 0);
	assert_int_equal(c.maps, 1);
	assert_int_equal(c.mapped_bytes, SZ_8K);
	assert_int_equal(c.unmaps, 0);
	assert_int_equal(c.attached_groups, 1);
	assert_int_equal(c.by_model, 0);
	assert_int_equal(swiommu_dma_write(vin0, 0, 0x10001000, "ctx1", 5), 0);
	assert_int_equal(swiommu_dma_read(vin1, 0, 0x10001000, back, 5), 0);
	assert_string_equal(back, "ctx1");
	iommu_set_fault_handler(a, on_fault, &handled);
	memset(&fault, 0, sizeof(fault));
	assert_int_equal(swiommu_dma_write(vin1, 0, 0x10002000, "x", 1), -EFAULT);
	assert_int_equal(fault.calls, 1);
	assert_int_equal(fault.iova, 0x10002000);
	/* swiommu's core reports a C driver's faults with the master and the direction; ipmmu-vmsa's IRQ
	 * handler would give its own device and 0 (a gap: C drivers have no fault hook). */
	assert_ptr_equal(fault.dev, vin1);
	assert_int_equal(fault.flags, IOMMU_FAULT_WRITE);
	unsigned long flushes = stats_of("/iommu@fe900000").tlb_flushes;

	assert_int_equal(iommu_unmap(a, 0x10000000, SZ_8K), SZ_8K);
	assert_true(stats_of("/iommu@fe900000").tlb_flushes > flushes);
	assert_int_equal(swiommu_iommu_domain_counters(a, &c), 0);
	assert_int_equal(c.unmaps, 1);
	assert_int_equal(c.unmapped_bytes, SZ_8K);
	assert_int_equal(c.invalidations, 1);	/* iommu_unmap's iotlb_sync */
	assert_int_equal(c.faults, 1);
	assert_true(swiommu_dump_domain(a, text, sizeof(text)) > 0);
	assert_non_null(strstr(text, "counters: 1 maps (8192 bytes), 1 unmaps (8192 bytes), 1 invalidations, 1 faults, "
				     "1 group(s) attached\ntables: the C driver's own (no dump)\n"));
	swiommu_dma_counters_enable(false);
	/* Off, the core no longer counts, and the dump says so. */
	assert_int_equal(iommu_map(a, 0x10000000, page_to_phys(pg), SZ_8K, IOMMU_READ, GFP_KERNEL), 0);
	assert_int_equal(iommu_unmap(a, 0x10000000, SZ_8K), SZ_8K);
	assert_int_equal(swiommu_iommu_domain_counters(a, &c), 0);
	assert_int_equal(c.maps, 1);
	assert_true(swiommu_dump_domain(a, text, sizeof(text)) > 0);
	assert_non_null(strstr(text, "(maps counted only while counting is on)\n"));
	/* No third context. */
	b = iommu_paging_domain_alloc(vin0);
	assert_false(IS_ERR(b));
	iommu_detach_group(a, vin0->iommu_group);
	assert_int_equal(ipmmu_utlb_context(leaf, 0), 0);
	/* A detached domain keeps its context until it is freed, as ipmmu-vmsa's do. */
	assert_int_equal(iommu_attach_group(b, vin0->iommu_group), -EBUSY);
	iommu_domain_free(a);
	assert_int_equal(stats_of("/iommu@fe900000").contexts_used, 1);
	assert_int_equal(ipmmu_context_ttbr(root, 1), 0);
	assert_int_equal(iommu_attach_group(b, vin0->iommu_group), 0);
	assert_int_equal(stats_of("/iommu@fe900000").contexts_used, 2);
	iommu_detach_group(b, vin0->iommu_group);
	iommu_domain_free(b);
	__free_pages(pg, 1);
	assert_exit_leaks_nothing();
}

static void the_demo_scenario_runs_clean(void **state)
{
	(void)state;
	struct swiommu_example_report r;
	int ret = swiommu_example_ipmmu_run(&r);

	assert_scenario_clean(&r, ret);
	assert_int_equal(r.transfers, 6);
	assert_int_equal(r.faults, 1);
	assert_int_equal(r.errors, 1);
	assert_false(r.iotlb_model);
	assert_int_equal(r.iotlb_lookups, 0);
	assert_true(r.iotlb_invalidations >= 6);
	assert_int_equal(swiommu_example_ipmmu_run(&r), 0);
	assert_exit_leaks_nothing();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(the_c_driver_takes_the_ipmmus_before_the_model, boot, shut_down),
		cmocka_unit_test_setup_teardown(one_group_and_one_context_per_leaf, boot, shut_down),
		cmocka_unit_test_setup_teardown(device_dma_goes_through_its_tables, boot, shut_down),
		cmocka_unit_test_setup_teardown(a_domain_stays_on_its_leaf, boot, shut_down),
		cmocka_unit_test_setup_teardown(contexts_run_out_with_ebusy, boot, shut_down),
		cmocka_unit_test_setup_teardown(a_dma_domain_takes_no_fault_handler, boot, shut_down),
		cmocka_unit_test_setup_teardown(a_leaf_listed_before_its_root_waits_for_it, boot_two_contexts, shut_down),
		cmocka_unit_test_setup_teardown(an_unmanaged_domain_takes_the_free_context, boot_two_contexts, shut_down),
		cmocka_unit_test_setup_teardown(the_demo_scenario_runs_clean, boot, shut_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
