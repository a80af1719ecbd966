// SPDX-License-Identifier: MIT
// make bench: io-pgtable (issue 5). ARM_64_LPAE_S1, 4K granule, 48-bit, coherent walk, no-op flush ops, called
// through the ops table as an IOMMU driver calls it; an IOTLB gather is passed as the iommu core passes one.
#include <linux/io-pgtable.h>
#include <linux/sizes.h>
#include <linux/gfp.h>
#include <swiommu/swiommu.h>
#include <stdio.h>
#include "bench.h"

#define PROT		(IOMMU_READ | IOMMU_WRITE | IOMMU_CACHE)
#define SPAN		SZ_1G		/* IOVA span the sequential loops cycle through */
#define MAPPED_BASE	(4ULL << 30)	/* where the 1 GiB of 4K pages is mapped */
#define PHYS_BASE	0x100000000ULL

static void noop_flush_all(void *cookie) { (void)cookie; }
static void noop_flush_walk(unsigned long iova, size_t size, size_t granule, void *cookie)
{
	(void)iova; (void)size; (void)granule; (void)cookie;
}
static void noop_add_page(struct iommu_iotlb_gather *gather, unsigned long iova, size_t granule, void *cookie)
{
	(void)gather; (void)iova; (void)granule; (void)cookie;
}

static const struct iommu_flush_ops noop_flush_ops = {
	.tlb_flush_all	= noop_flush_all,
	.tlb_flush_walk	= noop_flush_walk,
	.tlb_add_page	= noop_add_page,
};

static struct io_pgtable_cfg cfg;
static struct io_pgtable_ops *ops;
static struct iommu_iotlb_gather gather;
static unsigned long next_iova;
static u64 rng = 0x9e3779b97f4a7c15ULL;
static long failures;

static inline u64 xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void map_unmap_4k(long n)
{
	for (long i = 0; i < n; i++) {
		size_t mapped = 0;
		unsigned long iova = next_iova;

		next_iova = (next_iova + SZ_4K) & (SPAN - 1);
		if (ops->map_pages(ops, iova, PHYS_BASE + iova, SZ_4K, 1, PROT, GFP_ATOMIC, &mapped))
			failures++;
		if (ops->unmap_pages(ops, iova, SZ_4K, 1, &gather) != SZ_4K)
			failures++;
	}
}

static void map_unmap_512x4k(long n)
{
	for (long i = 0; i < n; i++) {
		size_t mapped = 0;
		unsigned long iova = next_iova;

		next_iova = (next_iova + SZ_2M) & (SPAN - 1);
		if (ops->map_pages(ops, iova, PHYS_BASE + iova, SZ_4K, 512, PROT, GFP_ATOMIC, &mapped) || mapped != SZ_2M)
			failures++;
		if (ops->unmap_pages(ops, iova, SZ_4K, 512, &gather) != SZ_2M)
			failures++;
	}
}

static void map_unmap_2m(long n)
{
	for (long i = 0; i < n; i++) {
		size_t mapped = 0;
		unsigned long iova = SPAN + next_iova;

		next_iova = (next_iova + SZ_2M) & (SPAN - 1);
		if (ops->map_pages(ops, iova, PHYS_BASE + iova, SZ_2M, 1, PROT, GFP_ATOMIC, &mapped))
			failures++;
		if (ops->unmap_pages(ops, iova, SZ_2M, 1, &gather) != SZ_2M)
			failures++;
	}
}

static void iova_to_phys_random(long n)
{
	u64 sum = 0;

	for (long i = 0; i < n; i++) {
		unsigned long iova = MAPPED_BASE + (xorshift() & (SZ_1G - 1));

		sum += ops->iova_to_phys(ops, iova);
	}
	bench_sink = (void *)(uintptr_t)sum;
}

static struct swiommu_pgtable_walker walker;

static void walker_translate_random(long n)
{
	struct swiommu_pgtable_translation t;
	u64 sum = 0;

	for (long i = 0; i < n; i++) {
		unsigned long iova = MAPPED_BASE + (xorshift() & (SZ_1G - 1));

		if (swiommu_io_pgtable_walker_translate(&walker, iova, SWIOMMU_PGTABLE_ACCESS_READ, &t))
			failures++;
		sum += t.phys;
	}
	bench_sink = (void *)(uintptr_t)sum;
}

static void translate_random(long n)
{
	struct swiommu_pgtable_translation t;
	u64 sum = 0;

	for (long i = 0; i < n; i++) {
		unsigned long iova = MAPPED_BASE + (xorshift() & (SZ_1G - 1));

		if (swiommu_io_pgtable_translate(ARM_64_LPAE_S1, &cfg, iova, SWIOMMU_PGTABLE_ACCESS_READ, &t))
			failures++;
		sum += t.phys;
	}
	bench_sink = (void *)(uintptr_t)sum;
}

static void run(void)
{
	struct swiommu_mem_stats before, after;
	struct swiommu_io_pgtable_stats stats;
	u64 format_bytes, tables;

	cfg = (struct io_pgtable_cfg){
		.pgsize_bitmap	= SZ_4K | SZ_2M | SZ_1G,
		.ias		= 48,
		.oas		= 48,
		.coherent_walk	= true,
		.tlb		= &noop_flush_ops,
	};
	iommu_iotlb_gather_init(&gather);
	swiommu_mem_get_stats(&before);
	ops = alloc_io_pgtable_ops(ARM_64_LPAE_S1, &cfg, &cfg);
	if (!ops) {
		fprintf(stderr, "bench_io_pgtable: alloc_io_pgtable_ops failed\n");
		return;
	}

	next_iova = 0;
	bench_report("map_pages + unmap_pages, 4 KiB (LPAE S1, sequential)",
		     bench_median_ns(map_unmap_4k, 2000000), "ns/pair", 40, false);
	next_iova = 0;
	bench_report("map_pages 512 x 4 KiB in one call + unmap_pages",
		     bench_median_ns(map_unmap_512x4k, 20000), "ns/pair", 1500, false);
	next_iova = 0;
	bench_report("map_pages + unmap_pages, one 2 MiB block",
		     bench_median_ns(map_unmap_2m, 2000000), "ns/pair", 35, false);

	/* 1 GiB of 4K pages, then random lookups over it. */
	for (unsigned long off = 0; off < SZ_1G; off += SZ_2M) {
		size_t mapped = 0;

		if (ops->map_pages(ops, MAPPED_BASE + off, PHYS_BASE + off, SZ_4K, 512, PROT, GFP_KERNEL, &mapped))
			failures++;
	}
	bench_report("iova_to_phys, random over 1 GiB of 4 KiB pages",
		     bench_median_ns(iova_to_phys_random, 5000000), "ns", 25, false);
	bench_report("walker translate, random over 1 GiB of 4 KiB pages",
		     bench_median_ns(translate_random, 5000000), "ns", 25, false);
	/* The walker as an IOMMU model holds it: registers latched once, as hardware latches its context. */
	if (swiommu_io_pgtable_walker_init(&walker, ARM_64_LPAE_S1, &cfg))
		failures++;
	bench_report("walker translate, latched registers (same pages)",
		     bench_median_ns(walker_translate_random, 5000000), "ns", 25, false);

	/* Table memory: the format's own pages (one granule per table) against everything held. */
	swiommu_io_pgtable_get_stats(ops, &stats);
	swiommu_mem_get_stats(&after);
	tables = stats.tables;
	format_bytes = tables * SZ_4K;
	bench_report("table memory beyond the format's pages (1 GiB of 4K)",
		     100.0 * (double)(after.page_bytes + after.kmalloc_bytes - before.page_bytes - before.kmalloc_bytes -
				      format_bytes) / (double)format_bytes, "%", 1, false);
	bench_report("  of which: state beside the tables", (double)stats.side_bytes, "bytes", 0, false);
	bench_report("  the format's own pages", (double)format_bytes, "bytes", 0, false);

	free_io_pgtable_ops(ops);
	if (failures)
		fprintf(stderr, "bench_io_pgtable: %ld operations failed\n", failures);
}
BENCH_SUITE(pgtable, run)
