// SPDX-License-Identifier: MIT
// io-pgtable through its C API, as an IOMMU driver uses it: the kernel's own selftest sequences
// (arm_lpae_do_selftests over its page-size x IAS x OAS matrix, arm_v7s_do_selftests), descriptors read
// back from simulated RAM, the hardware walker (one-shot and latched), pgtable_walk, the dump, the
// statistics, the Linux 6.6 split option and the IOMMU core's page-size choice.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <linux/errno.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <linux/bug.h>
#include <linux/printk.h>
#include <linux/io-pgtable.h>
#include <swiommu/swiommu.h>
#include "swiommu_test.h"

/* ---------------------------------------------------------------------------------------------------
 * The selftests' dummy TLB ops (io-pgtable-arm.c): WARN if the cookie is not the cfg or a size is not
 * one of its page sizes.
 */
static struct io_pgtable_cfg *cfg_cookie;
static unsigned long flush_all_calls, flush_walk_calls, add_page_calls;

static void dummy_tlb_flush_all(void *cookie)
{
	WARN_ON(cookie != cfg_cookie);
	flush_all_calls++;
}

static void dummy_tlb_flush(unsigned long iova, size_t size, size_t granule, void *cookie)
{
	(void)iova;
	(void)granule;
	WARN_ON(cookie != cfg_cookie);
	WARN_ON(!(size & cfg_cookie->pgsize_bitmap));
	flush_walk_calls++;
}

static void dummy_tlb_add_page(struct iommu_iotlb_gather *gather, unsigned long iova, size_t granule, void *cookie)
{
	(void)gather;
	dummy_tlb_flush(iova, granule, granule, cookie);
	flush_walk_calls--;
	add_page_calls++;
}

static const struct iommu_flush_ops dummy_tlb_ops = {
	.tlb_flush_all	= dummy_tlb_flush_all,
	.tlb_flush_walk	= dummy_tlb_flush,
	.tlb_add_page	= dummy_tlb_add_page,
};

/* Walker and driver agree on @iova (the selftests' iova_to_phys checks, seen from both sides). */
static void assert_walk(enum io_pgtable_fmt fmt, struct io_pgtable_cfg *cfg, struct io_pgtable_ops *ops,
			unsigned long iova)
{
	struct swiommu_pgtable_translation t;
	phys_addr_t pa = ops->iova_to_phys(ops, iova);
	int ret = swiommu_io_pgtable_translate(fmt, cfg, iova, 0, &t);

	if (pa) {
		assert_int_equal(ret, 0);
		assert_int_equal(t.phys, pa);
	} else {
		assert_int_equal(ret, -EFAULT);
		assert_int_equal(t.fault.type, SWIOMMU_PGTABLE_FAULT_TRANSLATION);
		assert_int_equal(t.fault.iova, iova);
	}
}

/* Kernel: arm_lpae_run_tests() (Linux 6.17). 0 when it passes. */
static int arm_lpae_run_tests(struct io_pgtable_cfg *cfg)
{
	static const enum io_pgtable_fmt fmts[] = { ARM_64_LPAE_S1, ARM_64_LPAE_S2 };
	unsigned long iova;
	size_t size, mapped;
	struct io_pgtable_ops *ops;
	unsigned int j;

	for (unsigned int i = 0; i < sizeof(fmts) / sizeof(fmts[0]); ++i) {
		/* The walker needs the tables inside the output size (they are above 4 GiB). */
		bool walkable = cfg->oas >= 36;

		cfg_cookie = cfg;
		ops = alloc_io_pgtable_ops(fmts[i], cfg, cfg);
		if (!ops)
			return -ENOMEM;

		/* Empty page tables shouldn't provide any translations. */
		if (ops->iova_to_phys(ops, 42) || ops->iova_to_phys(ops, SZ_1G + 42) ||
		    ops->iova_to_phys(ops, SZ_2G + 42))
			return -EFAULT;

		/* Distinct mappings of different granule sizes. */
		iova = 0;
		for (j = 0; j < BITS_PER_LONG; j++) {
			if (!(cfg->pgsize_bitmap & (1UL << j)))
				continue;
			size = 1UL << j;
			if (ops->map_pages(ops, iova, iova, size, 1, IOMMU_READ | IOMMU_WRITE | IOMMU_NOEXEC | IOMMU_CACHE,
					   GFP_KERNEL, &mapped))
				return -EFAULT;
			/* Overlapping mappings */
			if (!ops->map_pages(ops, iova, iova + size, size, 1, IOMMU_READ | IOMMU_NOEXEC, GFP_KERNEL, &mapped))
				return -EFAULT;
			if (ops->iova_to_phys(ops, iova + 42) != (iova + 42))
				return -EFAULT;
			if (walkable)
				assert_walk(fmts[i], cfg, ops, iova + 42);
			iova += SZ_1G;
		}

		/* Full unmap */
		iova = 0;
		for (j = 0; j < BITS_PER_LONG; j++) {
			if (!(cfg->pgsize_bitmap & (1UL << j)))
				continue;
			size = 1UL << j;
			if (ops->unmap_pages(ops, iova, size, 1, NULL) != size)
				return -EFAULT;
			if (ops->iova_to_phys(ops, iova + 42))
				return -EFAULT;
			if (walkable)
				assert_walk(fmts[i], cfg, ops, iova + 42);
			/* Remap full block */
			if (ops->map_pages(ops, iova, iova, size, 1, IOMMU_WRITE, GFP_KERNEL, &mapped))
				return -EFAULT;
			if (ops->iova_to_phys(ops, iova + 42) != (iova + 42))
				return -EFAULT;
			iova += SZ_1G;
		}

		/* Map/unmap the last largest supported page of the IAS. */
		mapped = 0;
		size = 1UL << (BITS_PER_LONG - 1 - __builtin_clzl(cfg->pgsize_bitmap));
		iova = (1UL << cfg->ias) - size;
		if (ops->map_pages(ops, iova, iova, size, 1, IOMMU_READ | IOMMU_WRITE | IOMMU_NOEXEC | IOMMU_CACHE,
				   GFP_KERNEL, &mapped))
			return -EFAULT;
		if (mapped != size)
			return -EFAULT;
		if (ops->unmap_pages(ops, iova, size, 1, NULL) != size)
			return -EFAULT;

		free_io_pgtable_ops(ops);
	}
	return 0;
}

/* Kernel: arm_lpae_do_selftests(). */
static void lpae_selftests(void **state)
{
	static const unsigned long pgsize[] = { SZ_4K | SZ_2M | SZ_1G, SZ_16K | SZ_32M, SZ_64K | SZ_512M };
	static const unsigned int address_size[] = { 32, 36, 40, 42, 44, 48 };
	int pass = 0, fail = 0;
	struct io_pgtable_cfg cfg = {
		.tlb = &dummy_tlb_ops,
		.coherent_walk = true,
		.quirks = IO_PGTABLE_QUIRK_NO_WARN,
	};

	(void)state;
	for (unsigned int i = 0; i < 3; ++i) {
		for (unsigned int j = 0; j < 6; ++j) {
			/* Don't use ias > oas as it is not valid for stage-2. */
			for (unsigned int k = 0; k <= j; ++k) {
				cfg.pgsize_bitmap = pgsize[i];
				cfg.ias = address_size[k];
				cfg.oas = address_size[j];
				pr_info("selftest: pgsize_bitmap 0x%08lx, IAS %u OAS %u\n", pgsize[i], cfg.ias, cfg.oas);
				if (arm_lpae_run_tests(&cfg))
					fail++;
				else
					pass++;
			}
		}
	}
	pr_info("selftest: completed with %d PASS %d FAIL\n", pass, fail);
	assert_int_equal(fail, 0);
	assert_int_equal(pass, 63);
	assert_int_equal(swiommu_warn_count(), 0);
	assert_true(swiommu_log_contains("selftest: completed with 63 PASS 0 FAIL"));
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

/* Kernel: arm_v7s_do_selftests(). */
static void v7s_selftest(void **state)
{
	struct io_pgtable_ops *ops;
	struct io_pgtable_cfg cfg = {
		.tlb = &dummy_tlb_ops,
		.oas = 32,
		.ias = 32,
		.coherent_walk = true,
		.quirks = IO_PGTABLE_QUIRK_ARM_NS,
		.pgsize_bitmap = SZ_4K | SZ_64K | SZ_1M | SZ_16M,
	};
	unsigned int iova, size, i;
	size_t mapped;

	(void)state;
	cfg_cookie = &cfg;
	ops = alloc_io_pgtable_ops(ARM_V7S, &cfg, &cfg);
	assert_non_null(ops);
	assert_int_equal(ops->iova_to_phys(ops, 42), 0);
	assert_int_equal(ops->iova_to_phys(ops, SZ_1G + 42), 0);
	assert_int_equal(ops->iova_to_phys(ops, SZ_2G + 42), 0);

	iova = 0;
	for (i = 0; i < BITS_PER_LONG; i++) {
		if (!(cfg.pgsize_bitmap & (1UL << i)))
			continue;
		size = 1UL << i;
		assert_int_equal(ops->map_pages(ops, iova, iova, size, 1,
						IOMMU_READ | IOMMU_WRITE | IOMMU_NOEXEC | IOMMU_CACHE, GFP_KERNEL, &mapped), 0);
		/* Overlapping mappings (Linux WARNs unless its selftest runs; swiommu always does). */
		assert_int_equal(ops->map_pages(ops, iova, iova + size, size, 1, IOMMU_READ | IOMMU_NOEXEC, GFP_KERNEL,
						&mapped), -EEXIST);
		assert_int_equal(ops->iova_to_phys(ops, iova + 42), iova + 42);
		assert_walk(ARM_V7S, &cfg, ops, iova + 42);
		iova += SZ_16M;
	}

	iova = 0;
	for (i = 0; i < BITS_PER_LONG; i++) {
		if (!(cfg.pgsize_bitmap & (1UL << i)))
			continue;
		size = 1UL << i;
		assert_int_equal(ops->unmap_pages(ops, iova, size, 1, NULL), size);
		assert_int_equal(ops->iova_to_phys(ops, iova + 42), 0);
		assert_walk(ARM_V7S, &cfg, ops, iova + 42);
		assert_int_equal(ops->map_pages(ops, iova, iova, size, 1, IOMMU_WRITE, GFP_KERNEL, &mapped), 0);
		assert_int_equal(ops->iova_to_phys(ops, iova + 42), iova + 42);
		iova += SZ_16M;
	}
	flush_all_calls = 0;
	free_io_pgtable_ops(ops);
	assert_int_equal(flush_all_calls, 1);
	/* Four overlapping maps WARNed, nothing else (the dummy ops saw the right cookie and sizes). */
	assert_int_equal(swiommu_warn_count(), 4);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

/* ---------------------------------------------------------------------------------------------------
 * Descriptors as Linux writes them, read back through the linear map.
 */
static u64 entry64(phys_addr_t table, unsigned int index)
{
	return ((u64 *)phys_to_virt(table))[index];
}

static phys_addr_t next_table(phys_addr_t table, unsigned int index)
{
	u64 pte = entry64(table, index);

	assert_int_equal(pte & 3, 3);
	return pte & 0x0000fffffffff000ULL;
}

static void lpae_descriptors(void **state)
{
	struct io_pgtable_cfg cfg = {
		.pgsize_bitmap = SZ_4K | SZ_2M | SZ_1G,
		.ias = 48,
		.oas = 48,
		.coherent_walk = true,
	};
	struct io_pgtable_ops *ops = alloc_io_pgtable_ops(ARM_64_LPAE_S1, &cfg, &cfg);
	struct io_pgtable *iop;
	phys_addr_t l3;
	size_t mapped = 0;

	(void)state;
	assert_non_null(ops);
	/* io_pgtable_ops_to_pgtable reaches the kernel's struct io_pgtable: format, cookie, narrowed cfg. */
	iop = io_pgtable_ops_to_pgtable(ops);
	assert_int_equal(iop->fmt, ARM_64_LPAE_S1);
	assert_ptr_equal(iop->cookie, &cfg);
	assert_int_equal(iop->cfg.arm_lpae_s1_cfg.ttbr, cfg.arm_lpae_s1_cfg.ttbr);
	assert_int_equal(cfg.arm_lpae_s1_cfg.mair, 0xf404ff44);
	assert_int_equal(cfg.arm_lpae_s1_cfg.tcr.tsz, 16);
	assert_int_equal(cfg.arm_lpae_s1_cfg.tcr.ips, 5);

	/* XN | nG | AF | SH inner | AP[1] | AttrIndx 1 | page. */
	assert_int_equal(ops->map_pages(ops, 0x40201000, 0x40000000, SZ_4K, 1,
					IOMMU_READ | IOMMU_WRITE | IOMMU_CACHE | IOMMU_NOEXEC, GFP_KERNEL, &mapped), 0);
	assert_int_equal(mapped, SZ_4K);
	l3 = next_table(next_table(next_table(cfg.arm_lpae_s1_cfg.ttbr, 0), 1), 1);
	assert_int_equal(entry64(l3, 1), 0x0060000040000f47ULL);

	/* A batch of 512 pages fills a level-3 table in one call. */
	mapped = 0;
	assert_int_equal(ops->map_pages(ops, 0x80000000, 0x100000000ULL, SZ_4K, 512, IOMMU_READ, GFP_KERNEL,
					&mapped), 0);
	assert_int_equal(mapped, SZ_2M);
	assert_int_equal(ops->iova_to_phys(ops, 0x801ff123), 0x1001ff123ULL);
	/* ... and no further: a batch stops at the end of the table (the caller loops). */
	mapped = 0;
	assert_int_equal(ops->map_pages(ops, 0x803ff000, 0x200000000ULL, SZ_4K, 4, IOMMU_READ, GFP_KERNEL,
					&mapped), 0);
	assert_int_equal(mapped, SZ_4K);
	assert_int_equal(ops->unmap_pages(ops, 0x80000000, SZ_4K, 512, NULL), SZ_2M);
	free_io_pgtable_ops(ops);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void v7s_and_dart_descriptors(void **state)
{
	struct io_pgtable_cfg v7s = {
		.pgsize_bitmap = SZ_4K | SZ_64K | SZ_1M | SZ_16M,
		.ias = 32,
		.oas = 32,
		.coherent_walk = true,
	};
	struct io_pgtable_cfg dart = {
		.pgsize_bitmap = SZ_16K,
		.ias = 32,
		.oas = 36,
		.coherent_walk = true,
	};
	struct io_pgtable_ops *ops;
	size_t mapped = 0;
	u32 *l1, *l2;
	u64 *d1, *d2;

	(void)state;
	ops = alloc_io_pgtable_ops(ARM_V7S, &v7s, NULL);
	assert_non_null(ops);
	/* TTBR: the level-1 table | S | NOS | IRGN and ORGN write-back write-allocate; the TEX remap registers. */
	assert_int_equal(v7s.arm_v7s_cfg.ttbr & 0x3fff, 0x6a);
	assert_int_equal(v7s.arm_v7s_cfg.prrr, 0x800b8204);
	assert_int_equal(v7s.arm_v7s_cfg.nmrr, 0x40004000);
	assert_int_equal(ops->map_pages(ops, 0x1000, 0x20000000, SZ_4K, 1,
					IOMMU_READ | IOMMU_WRITE | IOMMU_CACHE | IOMMU_NOEXEC, GFP_KERNEL, &mapped), 0);
	assert_int_equal(ops->map_pages(ops, 0x100000, 0x30000000, SZ_1M, 1, IOMMU_READ, GFP_KERNEL, &mapped), 0);
	l1 = phys_to_virt(v7s.arm_v7s_cfg.ttbr & ~0x3fffu);
	l2 = phys_to_virt(l1[0] & ~0x3ffu);
	assert_int_equal(l2[1], 0x20000c7f);
	assert_int_equal(l1[1], 0x30039c02);
	free_io_pgtable_ops(ops);

	ops = alloc_io_pgtable_ops(APPLE_DART, &dart, NULL);
	assert_non_null(ops);
	assert_int_equal(dart.apple_dart_cfg.n_ttbrs, 1);
	assert_int_equal(ops->map_pages(ops, 0x4000, 0x800004000ULL, SZ_16K, 1, IOMMU_READ | IOMMU_WRITE, GFP_KERNEL,
					&mapped), 0);
	d1 = phys_to_virt(dart.apple_dart_cfg.ttbr[0]);
	d2 = phys_to_virt(d1[0] & 0xffffff000ULL);
	/* SUBPAGE_END 0xfff | PA | SP_DIS | VALID. */
	assert_int_equal(d2[1], 0x000fff0800004003ULL);
	free_io_pgtable_ops(ops);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

/* ---------------------------------------------------------------------------------------------------
 * The walker, pgtable_walk, the dump, statistics, splitting, the page-size choice.
 */
static void walker_one_shot_and_latched(void **state)
{
	struct io_pgtable_cfg cfg = {
		.pgsize_bitmap = SZ_4K | SZ_2M,
		.ias = 39,
		.oas = 40,
		.coherent_walk = true,
	};
	struct io_pgtable_ops *ops = alloc_io_pgtable_ops(ARM_64_LPAE_S1, &cfg, NULL);
	struct swiommu_pgtable_walker walker;
	struct swiommu_pgtable_translation t;
	size_t mapped = 0;

	(void)state;
	assert_non_null(ops);
	assert_int_equal(ops->map_pages(ops, 0x200000, 0x90000000, SZ_2M, 1, IOMMU_READ | IOMMU_CACHE, GFP_KERNEL,
					&mapped), 0);
	assert_int_equal(swiommu_io_pgtable_translate(ARM_64_LPAE_S1, &cfg, 0x212345, SWIOMMU_PGTABLE_ACCESS_READ, &t), 0);
	assert_int_equal(t.phys, 0x90012345);
	assert_int_equal(t.size, SZ_2M);
	assert_int_equal(t.level, 2);
	assert_int_equal(t.prot, IOMMU_READ | IOMMU_CACHE);
	assert_int_equal(t.fault.type, SWIOMMU_PGTABLE_FAULT_NONE);
	/* Writing a read-only block: a permission fault at level 2, reported with the access. */
	assert_int_equal(swiommu_io_pgtable_translate(ARM_64_LPAE_S1, &cfg, 0x212345, SWIOMMU_PGTABLE_ACCESS_WRITE, &t),
			 -EFAULT);
	assert_int_equal(t.fault.type, SWIOMMU_PGTABLE_FAULT_PERMISSION);
	assert_int_equal(t.fault.level, 2);
	assert_int_equal(t.fault.iova, 0x212345);
	assert_int_equal(t.fault.access, SWIOMMU_PGTABLE_ACCESS_WRITE);

	/* Each call reads the registers as they are now: another table base in the same cfg is another walk. */
	{
		struct io_pgtable_cfg other_cfg = cfg;
		struct io_pgtable_ops *other = alloc_io_pgtable_ops(ARM_64_LPAE_S1, &other_cfg, NULL);
		struct io_pgtable_cfg moved = cfg;

		assert_non_null(other);
		assert_int_equal(other->map_pages(other, 0x200000, 0xa0000000, SZ_2M, 1, IOMMU_WRITE, GFP_KERNEL, &mapped), 0);
		moved.arm_lpae_s1_cfg.ttbr = other_cfg.arm_lpae_s1_cfg.ttbr;
		assert_int_equal(swiommu_io_pgtable_translate(ARM_64_LPAE_S1, &moved, 0x212345, 0, &t), 0);
		assert_int_equal(t.phys, 0xa0012345);
		assert_int_equal(swiommu_io_pgtable_translate(ARM_64_LPAE_S1, &cfg, 0x212345, 0, &t), 0);
		assert_int_equal(t.phys, 0x90012345);
		free_io_pgtable_ops(other);
	}

	/* The latched walker gives the same answers. */
	assert_int_equal(swiommu_io_pgtable_walker_init(&walker, ARM_64_LPAE_S1, &cfg), 0);
	assert_int_equal(swiommu_io_pgtable_walker_translate(&walker, 0x212345, SWIOMMU_PGTABLE_ACCESS_READ, &t), 0);
	assert_int_equal(t.phys, 0x90012345);
	assert_int_equal(swiommu_io_pgtable_walker_translate(&walker, 0x412345, SWIOMMU_PGTABLE_ACCESS_READ, &t), -EFAULT);
	assert_int_equal(t.fault.type, SWIOMMU_PGTABLE_FAULT_TRANSLATION);
	assert_int_equal(t.fault.level, 2);
	free_io_pgtable_ops(ops);
}

static void pgtable_walk_dump_and_stats(void **state)
{
	struct io_pgtable_cfg cfg = {
		.pgsize_bitmap = SZ_4K | SZ_2M | SZ_1G,
		.ias = 48,
		.oas = 48,
		.coherent_walk = false,
	};
	struct io_pgtable_ops *ops = alloc_io_pgtable_ops(ARM_64_LPAE_S1, &cfg, NULL);
	struct arm_lpae_io_pgtable_walk_data wd;
	struct swiommu_io_pgtable_stats stats;
	char small[16], text[4096];
	long len;
	size_t mapped = 0;

	(void)state;
	assert_non_null(ops);
	assert_int_equal(ops->map_pages(ops, 0x1000, 0x5000, SZ_4K, 1, IOMMU_READ | IOMMU_WRITE, GFP_KERNEL, &mapped), 0);
	memset(&wd, 0, sizeof(wd));
	assert_int_equal(ops->pgtable_walk(ops, 0x1000, &wd), 0);
	assert_int_equal(wd.ptes[0] & 3, 3);
	assert_int_equal(wd.ptes[3], 0x5000 | 0xe43);
	assert_int_equal(ops->pgtable_walk(ops, 0x200000, &wd), -EINVAL);
	assert_null(ops->read_and_clear_dirty);

	/* snprintf semantics: the whole length, a truncated NUL-terminated copy. */
	len = swiommu_io_pgtable_dump(ops, NULL, 0);
	assert_true(len > 100);
	assert_int_equal(swiommu_io_pgtable_dump(ops, small, sizeof(small)), len);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(swiommu_io_pgtable_dump(ops, text, sizeof(text)), len);
	assert_non_null(strstr(text, "ARM_64_LPAE_S1: ias 48, oas 48, granule 4K, levels 0-3"));
	assert_non_null(strstr(text, "non-coherent walk"));
	assert_non_null(strstr(text, "L3[001] 0x0000000000001000-0x0000000000001fff 0x0000000000005e43 page -> 0x5000"));

	/* Four tables of one page; every write was cleaned for the non-coherent walker. */
	assert_int_equal(swiommu_io_pgtable_get_stats(ops, &stats), 0);
	assert_int_equal(stats.tables, 4);
	assert_int_equal(stats.table_bytes, 4 * PAGE_SIZE);
	assert_true(stats.side_bytes > 0 && stats.side_bytes < 2048);
	assert_true(stats.syncs >= 7);
	free_io_pgtable_ops(ops);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void split_option(void **state)
{
	struct io_pgtable_cfg cfg = {
		.pgsize_bitmap = SZ_4K | SZ_2M,
		.ias = 32,
		.oas = 40,
		.coherent_walk = true,
	};
	struct io_pgtable_ops *ops = alloc_io_pgtable_ops(ARM_64_LPAE_S1, &cfg, NULL);
	size_t mapped = 0;

	(void)state;
	assert_non_null(ops);
	assert_int_equal(ops->map_pages(ops, 0x200000, 0x200000, SZ_2M, 1, IOMMU_READ, GFP_KERNEL, &mapped), 0);
	/* Linux 6.17: refused (with a WARN_ONCE). */
	assert_int_equal(ops->unmap_pages(ops, 0x201000, SZ_4K, 1, NULL), 0);
	assert_true(swiommu_warn_count() <= 1);
	/* Linux 6.6-6.12: split. */
	assert_int_equal(swiommu_io_pgtable_split_blocks(ops, true), 0);
	assert_int_equal(ops->unmap_pages(ops, 0x201000, SZ_4K, 1, NULL), SZ_4K);
	assert_int_equal(ops->iova_to_phys(ops, 0x201000), 0);
	assert_int_equal(ops->iova_to_phys(ops, 0x202000), 0x202000);
	free_io_pgtable_ops(ops);
	/* The default for new tables. */
	assert_int_equal(swiommu_io_pgtable_split_blocks(NULL, true), 0);
	ops = alloc_io_pgtable_ops(ARM_64_LPAE_S1, &cfg, NULL);
	assert_int_equal(ops->map_pages(ops, 0x200000, 0x200000, SZ_2M, 1, IOMMU_READ, GFP_KERNEL, &mapped), 0);
	assert_int_equal(ops->unmap_pages(ops, 0x3ff000, SZ_4K, 1, NULL), SZ_4K);
	free_io_pgtable_ops(ops);
	assert_int_equal(swiommu_io_pgtable_split_blocks(NULL, false), 0);
}

static void page_size_choice(void **state)
{
	size_t count = 0;

	(void)state;
	assert_int_equal(swiommu_io_pgtable_pgsize(SZ_4K | SZ_2M | SZ_1G, 0x200000, 0x40200000, SZ_4M, &count), SZ_2M);
	assert_int_equal(count, 2);
	assert_int_equal(swiommu_io_pgtable_pgsize(SZ_4K | SZ_2M, 0x1ff000, 0x3ff000, 0x201000, &count), SZ_4K);
	assert_int_equal(count, 1);
	assert_int_equal(swiommu_io_pgtable_pgsize(SZ_16K, 0x1000, 0, SZ_16K, &count), 0);
}

/* The machine is booted once for the group (as examples/hello.c does); each test starts with clean records. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(lpae_selftests, clean_records),
		cmocka_unit_test_setup(v7s_selftest, clean_records),
		cmocka_unit_test_setup(lpae_descriptors, clean_records),
		cmocka_unit_test_setup(v7s_and_dart_descriptors, clean_records),
		cmocka_unit_test_setup(walker_one_shot_and_latched, clean_records),
		cmocka_unit_test_setup(pgtable_walk_dump_and_stats, clean_records),
		cmocka_unit_test_setup(split_option, clean_records),
		cmocka_unit_test_setup(page_size_choice, clean_records),
	};

	return cmocka_run_group_tests(tests, boot, shut_down);
}
