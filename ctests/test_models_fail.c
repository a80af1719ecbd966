// SPDX-License-Identifier: MIT
// The built-in IOMMU models, error paths: bad specifiers and board properties, context exhaustion at probe,
// a leaf without its root, bad mappings, and the swiommu_iommu_* calls with bad arguments.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <swiommu/swiommu.h>
#include "swiommu_test.h"

#define HEAD								\
	"/dts-v1/;\n"							\
	"/ {\n"								\
	"\tcompatible = \"swiommu,test-board\";\n"			\
	"\t#address-cells = <2>;\n"					\
	"\t#size-cells = <2>;\n"					\
	"\tmemory@80000000 { device_type = \"memory\"; reg = <0x0 0x80000000 0x0 0x10000000>; };\n"

static void boot_board(const char *tag, const char *text)
{
	const char *path = swiommu_test_write_board(tag, text);

	assert_non_null(path);
	swiommu_log_reset();
	swiommu_warn_reset();
	assert_int_equal(swiommu_init(path), 0);
}

static struct device *dev_at(const char *path)
{
	struct device *dev = swiommu_find_device(path);

	assert_non_null(dev);
	return dev;
}

static const char bad_specifier_board[] = HEAD
	"\tsmmu: iommu@fd000000 { compatible = \"arm,smmu-v3\"; reg = <0x0 0xfd000000 0x0 0x100000>;\n"
	"\t\t#iommu-cells = <2>; dma-coherent; };\n"
	"\tmaster@10000000 { compatible = \"swiommu,test-master\"; reg = <0x0 0x10000000 0x0 0x1000>;\n"
	"\t\tiommus = <&smmu 0x10 0x20>; };\n"
	"};\n";

static void a_specifier_the_binding_does_not_allow(void **state)
{
	(void)state;
	boot_board("bad-specifier", bad_specifier_board);
	/* arm-smmu-v3 takes one cell: of_xlate refuses, the master carries on without its IOMMU. */
	assert_true(swiommu_log_contains("arm-smmu-v3 fd000000.iommu: 10000000.master: bad iommus specifier of 2 cell(s)"));
	struct device *m = dev_at("/master@10000000");

	assert_null(m->iommu_group);
	assert_null(m->iommu);
	assert_int_equal(swiommu_iotlb_invalidations(m), 0);
}

static const char context_banks_board[] = HEAD
	"\tsmmu: iommu@fd800000 { compatible = \"arm,mmu-500\"; reg = <0x0 0xfd800000 0x0 0x40000>;\n"
	"\t\t#iommu-cells = <1>; swiommu,num-context-banks = <2>; dma-coherent; };\n"
	"\tbad: iommu@fd900000 { compatible = \"arm,mmu-500\"; reg = <0x0 0xfd900000 0x0 0x40000>;\n"
	"\t\t#iommu-cells = <1>; swiommu,num-context-banks = <0>; };\n"
	"\ta@10000000 { compatible = \"swiommu,test-master\"; reg = <0x0 0x10000000 0x0 0x1000>; iommus = <&smmu 1>; };\n"
	"\tb@10001000 { compatible = \"swiommu,test-master\"; reg = <0x0 0x10001000 0x0 0x1000>; iommus = <&smmu 2>; };\n"
	"\tc@10002000 { compatible = \"swiommu,test-master\"; reg = <0x0 0x10002000 0x0 0x1000>; iommus = <&smmu 3>; };\n"
	"};\n";

static void context_banks_run_out_at_probe(void **state)
{
	(void)state;
	boot_board("context-banks", context_banks_board);
	assert_true(swiommu_log_contains("arm-smmu fd900000.iommu: swiommu,num-context-banks = 0: must be 1 to 128"));
	assert_true(swiommu_log_contains("probe with driver arm-smmu failed with error -22"));
	/* Two banks, three groups: the third default domain finds no bank (-ENOSPC), and the core WARNs as
	 * upstream (drivers may not fail a first attach). 6.17 then fails the whole instance's registration;
	 * swiommu takes only that group's masters off the IOMMU (README, "Known differences"). */
	assert_non_null(dev_at("/a@10000000")->iommu_group);
	assert_non_null(dev_at("/b@10001000")->iommu_group);
	assert_null(dev_at("/c@10002000")->iommu_group);
	assert_true(swiommu_log_contains("iommu: group 2: 10002000.c refuses its first default domain (-28)"));
	assert_true(swiommu_log_contains("10002000.c: Failed to set up the default domain of iommu group 2: -28"));
	/* The master without a domain moves no data through the IOMMU. */
	char b[4];

	assert_int_equal(swiommu_dma_read(dev_at("/c@10002000"), 0, 0x1000, b, 4), -EFAULT);
}

static const char orphan_leaf_board[] = HEAD
	"\tnot_a_root: mailbox@fe000000 { compatible = \"swiommu,mailbox\"; reg = <0x0 0xfe000000 0x0 0x1000>; };\n"
	"\tleaf: iommu@fe910000 { compatible = \"renesas,ipmmu-r8a7795\"; reg = <0x0 0xfe910000 0x0 0x1000>;\n"
	"\t\t#iommu-cells = <1>; renesas,ipmmu-main = <&not_a_root 0>; };\n"
	"};\n";

static void a_leaf_without_its_root_defers(void **state)
{
	(void)state;
	boot_board("orphan-leaf", orphan_leaf_board);
	assert_null(dev_at("/iommu@fe910000")->driver);
	assert_true(swiommu_log_contains("fe910000.iommu: deferred probe pending"));
}

/* The root after its leaf in the tree (as on R-Car H3): at shutdown the root is unbound first, and the leaf's
 * default domain still gives its context back to it. Found by the board fuzzer (tests/fuzz). */
static const char root_after_leaf_board[] = HEAD
	"\tleaf: iommu@fe910000 { compatible = \"renesas,ipmmu-r8a7795\"; reg = <0x0 0xfe910000 0x0 0x1000>;\n"
	"\t\t#iommu-cells = <1>; renesas,ipmmu-main = <&root 0>; };\n"
	"\troot: iommu@fe900000 { compatible = \"renesas,ipmmu-r8a7795\"; reg = <0x0 0xfe900000 0x0 0x1000>;\n"
	"\t\t#iommu-cells = <1>; };\n"
	"\tmaster@10000000 { compatible = \"swiommu,test-master\"; reg = <0x0 0x10000000 0x0 0x1000>;\n"
	"\t\tiommus = <&leaf 3>; };\n"
	"};\n";

static void a_root_unbound_before_its_leaf(void **state)
{
	(void)state;
	boot_board("root-after-leaf", root_after_leaf_board);
	assert_non_null(dev_at("/master@10000000")->iommu_group);
	assert_string_equal(dev_driver_string(dev_at("/iommu@fe900000")), "ipmmu-vmsa");
	swiommu_log_reset();
	swiommu_exit();
	assert_false(swiommu_is_up());
	assert_false(swiommu_log_contains("leaked"));
}

/* iommu_attach_device() takes any domain of the same driver, another group's default domain too. When that
 * group goes (here at shutdown, the storage before the NIC), its default domain goes with it: the NIC goes
 * back to its own first, with a WARN (found by the API fuzzer: a use after free in the model's detach). */
static void another_groups_default_domain_attached_at_shutdown(void **state)
{
	(void)state;
	struct device *storage = dev_at("/soc/storage@fe610000");
	struct device *nic = dev_at("/pcie@40000000/nic@0,0");
	struct iommu_domain *d = iommu_get_dma_domain(storage);

	assert_int_equal(iommu_attach_device(d, nic), 0);
	assert_ptr_equal(iommu_get_domain_for_dev(nic), d);
	swiommu_log_reset();
	swiommu_exit();
	assert_true(swiommu_log_contains("is still attached: group"));
	assert_false(swiommu_log_contains("leaked"));
}

static void bad_mappings_on_model_domains(void **state)
{
	(void)state;
	struct device *codec = dev_at("/soc/codec-bus/codec@fe400000");
	struct device *gpu = dev_at("/soc/gpu@fe300000");
	struct device *eth = dev_at("/soc/ethernet@fe600000");
	struct page *pg = alloc_pages(GFP_DMA32, 2);
	phys_addr_t pa = page_to_phys(pg);

	/* Exynos SysMMU tables hold 32-bit IOVAs. */
	assert_int_equal(iommu_map(iommu_get_dma_domain(codec), 1ULL << 33, pa, SZ_4K, IOMMU_READ, GFP_KERNEL), -ERANGE);
	/* The DART maps 16 KiB pages only: the core refuses a 4 KiB range with the kernel's message. */
	assert_int_equal(iommu_map(iommu_get_dma_domain(gpu), 0x10000, pa, SZ_4K, IOMMU_READ, GFP_KERNEL), -EINVAL);
	assert_true(swiommu_log_contains("unaligned: iova 0x10000 pa 0x"));
	/* Mapping an IOVA twice: io-pgtable's -EEXIST, with its WARN. */
	struct iommu_domain *d = iommu_get_dma_domain(eth);
	unsigned long warns = swiommu_warn_count();

	assert_int_equal(iommu_map(d, 0x100000, pa, SZ_4K, IOMMU_READ, GFP_KERNEL), 0);
	assert_int_equal(iommu_map(d, 0x100000, pa, SZ_4K, IOMMU_READ, GFP_KERNEL), -EEXIST);
	assert_true(swiommu_warn_count() > warns);
	/* Unmapping twice: nothing there the second time. */
	assert_int_equal(iommu_unmap(d, 0x100000, SZ_4K), SZ_4K);
	assert_int_equal(iommu_unmap(d, 0x100000, SZ_4K), 0);
	/* A domain still attached is not freed. */
	warns = swiommu_warn_count();
	iommu_domain_free(d);
	assert_int_equal(swiommu_warn_count(), warns + 1);
	assert_ptr_equal(iommu_get_dma_domain(eth), d);
	__free_pages(pg, 2);
}

static void model_calls_reject_bad_arguments(void **state)
{
	(void)state;
	struct swiommu_iotlb_stats s;
	phys_addr_t pa;
	struct device *eth = dev_at("/soc/ethernet@fe600000");
	struct device *plain = dev_at("/soc/dma32@fe700000");

	assert_int_equal(swiommu_iommu_iotlb_stats(NULL, 0, &s), -EINVAL);
	assert_int_equal(swiommu_iommu_iotlb_stats(ERR_PTR(-ENODEV), 0, &s), -EINVAL);
	assert_int_equal(swiommu_iommu_iotlb_stats(eth, 0, NULL), -EINVAL);
	assert_int_equal(swiommu_iommu_iotlb_stats(eth, 1, &s), -EINVAL);
	assert_int_equal(swiommu_iommu_iotlb_stats(plain, 0, &s), -ENODEV);
	assert_int_equal(swiommu_iotlb_invalidations(NULL), 0);
	assert_int_equal(swiommu_iotlb_invalidations(plain), 0);
	assert_int_equal(swiommu_iommu_translate(NULL, 0, 0, false, &pa), -EINVAL);
	assert_int_equal(swiommu_iommu_translate(eth, 0, 0, false, NULL), -EINVAL);
	assert_int_equal(swiommu_iommu_translate(eth, 7, 0, false, &pa), -EINVAL);
	assert_int_equal(swiommu_iommu_translate(eth, 0, 0x7000, false, &pa), -EFAULT);
	assert_int_equal(swiommu_iommu_use_builtin_models(false), -EBUSY);
	assert_true(swiommu_log_contains("call it before swiommu_init()"));
	/* Nothing changed: the next boot still binds them. */
	swiommu_exit();
	assert_int_equal(swiommu_iommu_iotlb_stats(eth, 0, &s), -ENODEV);
	assert_int_equal(swiommu_iommu_translate(eth, 0, 0, false, &pa), -ENODEV);
	assert_int_equal(swiommu_iotlb_invalidations(eth), 0);
	assert_int_equal(swiommu_init(NULL), 0);
	assert_string_equal(dev_driver_string(dev_at("/soc/iommu@fd800000")), "arm-smmu");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(a_specifier_the_binding_does_not_allow, shut_down),
		cmocka_unit_test_teardown(context_banks_run_out_at_probe, shut_down),
		cmocka_unit_test_teardown(a_leaf_without_its_root_defers, shut_down),
		cmocka_unit_test_teardown(a_root_unbound_before_its_leaf, shut_down),
		cmocka_unit_test_setup_teardown(another_groups_default_domain_attached_at_shutdown, boot, shut_down),
		cmocka_unit_test_setup_teardown(bad_mappings_on_model_domains, boot, shut_down),
		cmocka_unit_test_setup_teardown(model_calls_reject_bad_arguments, boot, shut_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
