// SPDX-License-Identifier: MIT
// io-pgtable's error paths through the C API: configurations refused by alloc_io_pgtable_ops(), every
// bad map and unmap (errno or 0 bytes, a WARN where Linux WARNs, the table unchanged), freeing twice,
// allocation failures, and the swiommu calls' own errors (walker, dump, statistics).
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <linux/errno.h>
#include <linux/gfp.h>
#include <linux/sizes.h>
#include <linux/io-pgtable.h>
#include <swiommu/swiommu.h>
#include "swiommu_test.h"

static struct io_pgtable_cfg lpae_cfg(void)
{
	return (struct io_pgtable_cfg){
		.pgsize_bitmap = SZ_4K | SZ_2M | SZ_1G,
		.ias = 32,
		.oas = 36,
		.coherent_walk = true,
	};
}

/* @body must record exactly @n WARNs. */
#define expect_warns(n, body) do {					\
	unsigned long __before = swiommu_warn_count();			\
	body;								\
	assert_int_equal(swiommu_warn_count() - __before, (n));		\
} while (0)

static void refused_configurations(void **state)
{
	struct io_pgtable_cfg cfg;

	(void)state;
	/* Unknown format, formats swiommu does not model. */
	cfg = lpae_cfg();
	assert_null(alloc_io_pgtable_ops(IO_PGTABLE_NUM_FMTS, &cfg, NULL));
	assert_null(alloc_io_pgtable_ops(AMD_IOMMU_V1, &cfg, NULL));
	/* Quirks the format does not know, before any work. */
	cfg = lpae_cfg();
	cfg.quirks = IO_PGTABLE_QUIRK_NO_PERMS;
	assert_null(alloc_io_pgtable_ops(ARM_64_LPAE_S1, &cfg, NULL));
	cfg = lpae_cfg();
	cfg.quirks = IO_PGTABLE_QUIRK_ARM_NS;
	assert_null(alloc_io_pgtable_ops(ARM_64_LPAE_S2, &cfg, NULL));
	cfg = lpae_cfg();
	cfg.quirks = IO_PGTABLE_QUIRK_ARM_TTBR1;
	assert_null(alloc_io_pgtable_ops(ARM_V7S, &cfg, NULL));
	cfg = lpae_cfg();
	cfg.quirks = IO_PGTABLE_QUIRK_ARM_OUTER_WBWA;	/* with a coherent walk */
	assert_null(alloc_io_pgtable_ops(ARM_64_LPAE_S1, &cfg, NULL));
	/* Sizes the format cannot provide. */
	cfg = lpae_cfg();
	cfg.oas = 41;
	assert_null(alloc_io_pgtable_ops(ARM_64_LPAE_S1, &cfg, NULL));
	cfg = lpae_cfg();
	cfg.ias = 33;
	assert_null(alloc_io_pgtable_ops(ARM_32_LPAE_S1, &cfg, NULL));
	cfg = lpae_cfg();
	cfg.pgsize_bitmap = SZ_8K;
	assert_null(alloc_io_pgtable_ops(ARM_64_LPAE_S1, &cfg, NULL));
	cfg = (struct io_pgtable_cfg){ .pgsize_bitmap = SZ_16K, .ias = 32, .oas = 36 };
	assert_null(alloc_io_pgtable_ops(APPLE_DART, &cfg, NULL));	/* DART walks must be coherent */
	cfg.coherent_walk = true;
	cfg.oas = 40;
	assert_null(alloc_io_pgtable_ops(APPLE_DART, &cfg, NULL));
	cfg = (struct io_pgtable_cfg){ .pgsize_bitmap = SZ_4K, .ias = 32, .oas = 42, .coherent_walk = true };
	assert_null(alloc_io_pgtable_ops(APPLE_DART2, &cfg, NULL));	/* DART2 describes 16K pages only */
	/* NULL cfg: a WARN, no crash. */
	expect_warns(1, assert_null(alloc_io_pgtable_ops(ARM_64_LPAE_S1, NULL, NULL)));
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void bad_maps(void **state)
{
	struct io_pgtable_cfg cfg = lpae_cfg();
	struct io_pgtable_ops *ops = alloc_io_pgtable_ops(ARM_64_LPAE_S1, &cfg, &cfg);
	char before[1024], after[1024];
	size_t mapped = 0;

	(void)state;
	assert_non_null(ops);
	assert_int_equal(ops->map_pages(ops, 0x1000, 0x5000, SZ_4K, 1, IOMMU_READ, GFP_KERNEL, &mapped), 0);
	swiommu_io_pgtable_dump(ops, before, sizeof(before));
	mapped = 0;
	/* Unsupported page sizes. */
	expect_warns(1, assert_int_equal(ops->map_pages(ops, 0, 0, SZ_8K, 1, IOMMU_READ, GFP_KERNEL, &mapped), -EINVAL));
	expect_warns(1, assert_int_equal(ops->map_pages(ops, 0, 0, SZ_4K | SZ_2M, 1, IOMMU_READ, GFP_KERNEL, &mapped),
					 -EINVAL));
	/* Unaligned iova or paddr. */
	expect_warns(1, assert_int_equal(ops->map_pages(ops, 0x800, 0, SZ_4K, 1, IOMMU_READ, GFP_KERNEL, &mapped), -EINVAL));
	expect_warns(1, assert_int_equal(ops->map_pages(ops, 0, 0x800, SZ_4K, 1, IOMMU_READ, GFP_KERNEL, &mapped), -EINVAL));
	/* Out of range. */
	expect_warns(1, assert_int_equal(ops->map_pages(ops, SZ_4G, 0, SZ_4K, 1, IOMMU_READ, GFP_KERNEL, &mapped), -ERANGE));
	expect_warns(1, assert_int_equal(ops->map_pages(ops, 0, 1ULL << 36, SZ_4K, 1, IOMMU_READ, GFP_KERNEL, &mapped),
					 -ERANGE));
	/* No permission: -EINVAL, no WARN (Linux 6.11+). */
	expect_warns(0, assert_int_equal(ops->map_pages(ops, 0, 0, SZ_4K, 1, IOMMU_CACHE, GFP_KERNEL, &mapped), -EINVAL));
	/* Over a live mapping. */
	expect_warns(1, assert_int_equal(ops->map_pages(ops, 0x1000, 0x6000, SZ_4K, 1, IOMMU_READ, GFP_KERNEL, &mapped),
					 -EEXIST));
	/* Into a 2M block: -EEXIST from the level above. */
	assert_int_equal(ops->map_pages(ops, SZ_2M, SZ_2M, SZ_2M, 1, IOMMU_READ, GFP_KERNEL, &mapped), 0);
	expect_warns(1, assert_int_equal(ops->map_pages(ops, SZ_2M + SZ_4K, 0, SZ_4K, 1, IOMMU_READ, GFP_KERNEL, &mapped),
					 -EEXIST));
	assert_int_equal(ops->unmap_pages(ops, SZ_2M, SZ_2M, 1, NULL), SZ_2M);
	/* None of it changed the table. */
	swiommu_io_pgtable_dump(ops, after, sizeof(after));
	assert_string_equal(before, after);
	assert_int_equal(mapped, SZ_2M);
	free_io_pgtable_ops(ops);
}

static void bad_unmaps(void **state)
{
	struct io_pgtable_cfg cfg = lpae_cfg();
	struct io_pgtable_ops *ops = alloc_io_pgtable_ops(ARM_64_LPAE_S1, &cfg, &cfg);
	size_t mapped = 0;

	(void)state;
	assert_non_null(ops);
	assert_int_equal(ops->map_pages(ops, SZ_2M, SZ_2M, SZ_2M, 1, IOMMU_READ, GFP_KERNEL, &mapped), 0);
	/* Nothing there: 0 bytes and a WARN (Linux 6.17 returns -ENOENT through its size_t). */
	expect_warns(1, assert_int_equal(ops->unmap_pages(ops, SZ_1G, SZ_4K, 1, NULL), 0));
	/* Bad size, zero count, out of range, unaligned. */
	expect_warns(1, assert_int_equal(ops->unmap_pages(ops, SZ_2M, SZ_8K, 1, NULL), 0));
	expect_warns(1, assert_int_equal(ops->unmap_pages(ops, SZ_2M, SZ_2M, 0, NULL), 0));
	expect_warns(1, assert_int_equal(ops->unmap_pages(ops, SZ_4G, SZ_4K, 1, NULL), 0));
	expect_warns(1, assert_int_equal(ops->unmap_pages(ops, SZ_2M + 0x800, SZ_4K, 1, NULL), 0));
	/* Part of a block: refused with a WARN_ONCE ("Unmap of a partial large IOPTE is not allowed"). */
	assert_int_equal(ops->unmap_pages(ops, SZ_2M + SZ_4K, SZ_4K, 1, NULL), 0);
	assert_int_equal(ops->iova_to_phys(ops, SZ_2M + SZ_4K), SZ_2M + SZ_4K);
	/* A NULL ops pointer to the ops functions: refused, no crash. */
	assert_int_equal(swiommu_arm_lpae_unmap_pages(NULL, 0, SZ_4K, 1, NULL), 0);
	assert_int_equal(swiommu_arm_lpae_map_pages(NULL, 0, 0, SZ_4K, 1, IOMMU_READ, GFP_KERNEL, &mapped), -EINVAL);
	assert_int_equal(swiommu_arm_lpae_iova_to_phys(NULL, 0), 0);
	free_io_pgtable_ops(ops);
}

static void other_formats_bad_input(void **state)
{
	struct io_pgtable_cfg v7s = {
		.pgsize_bitmap = SZ_4K | SZ_64K | SZ_1M | SZ_16M, .ias = 32, .oas = 32, .coherent_walk = true,
	};
	struct io_pgtable_cfg dart = { .pgsize_bitmap = SZ_16K, .ias = 32, .oas = 36, .coherent_walk = true };
	struct io_pgtable_ops *ops;
	size_t mapped = 0;

	(void)state;
	ops = alloc_io_pgtable_ops(ARM_V7S, &v7s, NULL);
	assert_non_null(ops);
	expect_warns(1, assert_int_equal(ops->map_pages(ops, 0, 0, SZ_8K, 1, IOMMU_READ, GFP_KERNEL, &mapped), -EINVAL));
	expect_warns(1, assert_int_equal(ops->map_pages(ops, 0, 1ULL << 32, SZ_4K, 1, IOMMU_READ, GFP_KERNEL, &mapped),
					 -ERANGE));
	/* Pages past the 32-bit space would wrap to IOVA 0 in Linux: refused. */
	expect_warns(1, assert_int_equal(ops->map_pages(ops, 0xfffff000, 0, SZ_4K, 2, IOMMU_READ, GFP_KERNEL, &mapped),
					 -ERANGE));
	assert_int_equal(ops->map_pages(ops, 0, 0, SZ_4K, 0, IOMMU_READ, GFP_KERNEL, &mapped), -EINVAL);
	assert_int_equal(ops->map_pages(ops, SZ_1M, SZ_1M, SZ_1M, 1, IOMMU_READ, GFP_KERNEL, &mapped), 0);
	expect_warns(1, assert_int_equal(ops->map_pages(ops, SZ_1M, 0, SZ_4K, 1, IOMMU_READ, GFP_KERNEL, &mapped),
					 -EEXIST));
	expect_warns(1, assert_int_equal(ops->unmap_pages(ops, 0, SZ_4K, 1, NULL), 0));
	free_io_pgtable_ops(ops);

	ops = alloc_io_pgtable_ops(APPLE_DART, &dart, NULL);
	assert_non_null(ops);
	expect_warns(1, assert_int_equal(ops->map_pages(ops, 0, 0, SZ_4K, 1, IOMMU_READ, GFP_KERNEL, &mapped), -EINVAL));
	expect_warns(1, assert_int_equal(ops->map_pages(ops, SZ_4G, 0, SZ_16K, 1, IOMMU_READ, GFP_KERNEL, &mapped),
					 -ERANGE));
	expect_warns(1, assert_int_equal(ops->unmap_pages(ops, 0, SZ_16K, 1, NULL), 0));
	assert_int_equal(ops->map_pages(ops, 0, 0, SZ_16K, 1, IOMMU_WRITE, GFP_KERNEL, &mapped), 0);
	expect_warns(1, assert_int_equal(ops->map_pages(ops, 0, 0, SZ_16K, 1, IOMMU_READ, GFP_KERNEL, &mapped), -EEXIST));
	free_io_pgtable_ops(ops);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

/* RAM above what a DART PTE holds (36 address bits): a level-2 table there would be written truncated, so the
 * map fails with -ENOMEM and the table goes back. Found by the board fuzzer (tests/fuzz): a leaked table. */
static void dart_tables_beyond_its_address_bits(void **state)
{
	struct io_pgtable_cfg dart = { .pgsize_bitmap = SZ_16K, .ias = 32, .oas = 36, .coherent_walk = true };
	const char *board = swiommu_test_write_board("high-ram",
		"/dts-v1/;\n/ {\n\t#address-cells = <2>;\n\t#size-cells = <2>;\n"
		"\tmemory@1000000000 { device_type = \"memory\"; reg = <0x10 0x0 0x0 0x4000000>; };\n};\n");
	struct io_pgtable_ops *ops;
	size_t mapped = 0;

	(void)state;
	assert_non_null(board);
	swiommu_exit();
	assert_int_equal(swiommu_init(board), 0);
	ops = alloc_io_pgtable_ops(APPLE_DART, &dart, NULL);
	assert_non_null(ops);
	expect_warns(1, assert_int_equal(ops->map_pages(ops, 0, 0, SZ_16K, 1, IOMMU_READ, GFP_KERNEL, &mapped),
					 -ENOMEM));
	assert_non_null(strstr(swiommu_warn_last(), "beyond the DART's address bits"));
	free_io_pgtable_ops(ops);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
	swiommu_exit();
	assert_int_equal(swiommu_init(NULL), 0);
}

static void double_free_and_allocation_failures(void **state)
{
	struct io_pgtable_cfg cfg = lpae_cfg();
	struct io_pgtable_ops *ops = alloc_io_pgtable_ops(ARM_64_LPAE_S1, &cfg, NULL);
	struct io_pgtable_ops stray;
	size_t mapped = 0;

	(void)state;
	assert_non_null(ops);
	free_io_pgtable_ops(ops);
	expect_warns(1, free_io_pgtable_ops(ops));
	assert_non_null(strstr(swiommu_warn_last(), "not a live io_pgtable_ops"));
	memset(&stray, 0, sizeof(stray));
	expect_warns(1, free_io_pgtable_ops(&stray));
	expect_warns(0, free_io_pgtable_ops(NULL));

	/* A table page that cannot be allocated: -ENOMEM, nothing installed. */
	ops = alloc_io_pgtable_ops(ARM_64_LPAE_S1, &cfg, NULL);
	assert_non_null(ops);
	assert_int_equal(swiommu_fail_nth("alloc_pages", 1), 0);
	assert_int_equal(ops->map_pages(ops, 0x1000, 0x1000, SZ_4K, 1, IOMMU_READ, GFP_KERNEL, &mapped), -ENOMEM);
	assert_int_equal(ops->iova_to_phys(ops, 0x1000), 0);
	assert_int_equal(ops->map_pages(ops, 0x1000, 0x1000, SZ_4K, 1, IOMMU_READ, GFP_KERNEL, &mapped), 0);
	free_io_pgtable_ops(ops);
	/* The pgd cannot be allocated: NULL, nothing leaked. */
	assert_int_equal(swiommu_fail_nth("alloc_pages", 1), 0);
	assert_null(alloc_io_pgtable_ops(ARM_64_LPAE_S1, &cfg, NULL));
	assert_int_equal(swiommu_fail_nth("kmalloc", 1), 0);
	assert_null(alloc_io_pgtable_ops(ARM_64_LPAE_S1, &cfg, NULL));
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void swiommu_calls_errors(void **state)
{
	struct io_pgtable_cfg cfg = lpae_cfg();
	struct io_pgtable_ops *ops = alloc_io_pgtable_ops(ARM_64_LPAE_S1, &cfg, NULL);
	struct swiommu_pgtable_translation t;
	struct swiommu_pgtable_walker walker;
	struct swiommu_io_pgtable_stats stats;
	struct io_pgtable_cfg bad;

	(void)state;
	assert_non_null(ops);
	assert_int_equal(swiommu_io_pgtable_translate(ARM_64_LPAE_S1, NULL, 0, 0, &t), -EINVAL);
	assert_int_equal(swiommu_io_pgtable_translate(ARM_64_LPAE_S1, &cfg, 0, 0, NULL), -EINVAL);
	assert_int_equal(swiommu_io_pgtable_translate(AMD_IOMMU_V2, &cfg, 0, 0, &t), -EINVAL);
	bad = cfg;
	bad.arm_lpae_s1_cfg.tcr.ips = 7;
	assert_int_equal(swiommu_io_pgtable_translate(ARM_64_LPAE_S1, &bad, 0, 0, &t), -EINVAL);
	/* An address beyond ias: a translation fault at level 0. */
	assert_int_equal(swiommu_io_pgtable_translate(ARM_64_LPAE_S1, &cfg, SZ_4G, 0, &t), -EFAULT);
	assert_int_equal(t.fault.type, SWIOMMU_PGTABLE_FAULT_TRANSLATION);
	assert_int_equal(t.fault.level, 0);
	/* Latched walkers: never initialised, or registers that describe no table. */
	memset(&walker, 0, sizeof(walker));
	assert_int_equal(swiommu_io_pgtable_walker_translate(&walker, 0, 0, &t), -EINVAL);
	assert_int_equal(swiommu_io_pgtable_walker_init(&walker, ARM_64_LPAE_S1, &bad), -EINVAL);
	assert_int_equal(swiommu_io_pgtable_walker_translate(&walker, 0, 0, &t), -EINVAL);
	assert_int_equal(swiommu_io_pgtable_walker_init(NULL, ARM_64_LPAE_S1, &cfg), -EINVAL);
	assert_int_equal(swiommu_io_pgtable_walker_init(&walker, ARM_64_LPAE_S1, &cfg), 0);
	/* Dump, statistics and the split option on ops that are not live. */
	assert_int_equal(swiommu_io_pgtable_get_stats(ops, NULL), -EINVAL);
	free_io_pgtable_ops(ops);
	assert_int_equal(swiommu_io_pgtable_dump(ops, NULL, 0), -EINVAL);
	assert_int_equal(swiommu_io_pgtable_get_stats(ops, &stats), -EINVAL);
	assert_int_equal(swiommu_io_pgtable_split_blocks(ops, true), -EINVAL);
	/* A walker latched before a restart of the machine is stale. */
	swiommu_exit();
	assert_int_equal(swiommu_init(NULL), 0);
	assert_int_equal(swiommu_io_pgtable_walker_translate(&walker, 0, 0, &t), -ENODEV);
}

static void calls_while_the_machine_is_down(void **state)
{
	struct io_pgtable_cfg cfg = lpae_cfg();
	struct swiommu_pgtable_translation t;

	(void)state;
	swiommu_exit();
	expect_warns(1, assert_null(alloc_io_pgtable_ops(ARM_64_LPAE_S1, &cfg, NULL)));
	expect_warns(1, assert_int_equal(swiommu_io_pgtable_translate(ARM_64_LPAE_S1, &cfg, 0, 0, &t), -ENODEV));
	assert_int_equal(swiommu_init(NULL), 0);
}

static void leaked_tables_are_reported(void **state)
{
	struct io_pgtable_cfg cfg = lpae_cfg();
	struct io_pgtable_ops *ops = alloc_io_pgtable_ops(ARM_64_LPAE_S1, &cfg, NULL);
	size_t mapped = 0;

	(void)state;
	assert_non_null(ops);
	assert_int_equal(ops->map_pages(ops, 0x1000, 0x1000, SZ_4K, 1, IOMMU_READ, GFP_KERNEL, &mapped), 0);
	/* The state and the three table pages (levels 1-3 for a 32-bit IAS), each with the function that allocated it. */
	assert_int_equal(swiommu_mem_check_leaks(true), 4);
	assert_true(swiommu_log_contains("__arm_lpae_alloc_pages"));
	assert_true(swiommu_log_contains("alloc_io_pgtable_ops"));
	/* Still usable, and freed after the machine went down: the tables keep their memory alive. */
	swiommu_exit();
	assert_int_equal(ops->iova_to_phys(ops, 0x1000), 0x1000);
	free_io_pgtable_ops(ops);
	assert_int_equal(swiommu_init(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(refused_configurations, clean_records),
		cmocka_unit_test_setup(bad_maps, clean_records),
		cmocka_unit_test_setup(bad_unmaps, clean_records),
		cmocka_unit_test_setup(other_formats_bad_input, clean_records),
		cmocka_unit_test_setup(dart_tables_beyond_its_address_bits, clean_records),
		cmocka_unit_test_setup(double_free_and_allocation_failures, clean_records),
		cmocka_unit_test_setup(swiommu_calls_errors, clean_records),
		cmocka_unit_test_setup(calls_while_the_machine_is_down, clean_records),
		cmocka_unit_test_setup(leaked_tables_are_reported, clean_records),
	};

	return cmocka_run_group_tests(tests, boot, shut_down);
}
