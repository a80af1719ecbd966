// SPDX-License-Identifier: MIT
// make bench: the built-in IOMMU models. iommu_map + iommu_unmap on the SMMU-v3 model in strict mode (the
// unmap's range invalidation included), device-side translation with a warm IOTLB and with a table walk,
// and two threads mapping into two domains on two instances (the display's and the GPU's DARTs, whose
// walks are coherent: no cache maintenance serialises them).
#include <pthread.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <swiommu/swiommu.h>
#include "bench.h"

#define DMAC	"/soc/dma-controller@fe100000"
#define RW	(IOMMU_READ | IOMMU_WRITE)
#define WALK_PAGES	65536UL	/* 256 MiB of 4 KiB pages: 64 times the IOTLB */

static struct iommu_domain *domain;
static struct device *dmac;
static phys_addr_t pa, pa16k;

static void map_unmap_4k(long n)
{
	for (long i = 0; i < n; i++) {
		unsigned long iova = 0x40000000UL + ((unsigned long)(i & 1023) << 12);

		iommu_map(domain, iova, pa, SZ_4K, RW, GFP_KERNEL);
		iommu_unmap(domain, iova, SZ_4K);
	}
}

static void translate_warm(long n)
{
	phys_addr_t out = 0;

	for (long i = 0; i < n; i++)
		swiommu_iommu_translate(dmac, 0, 0x80000000UL + ((unsigned long)(i & 7) << 12), false, &out);
	bench_sink = (void *)(uintptr_t)out;
}

static void translate_walk(long n)
{
	phys_addr_t out = 0;

	/* A stride through 64 times the IOTLB's reach: nearly every lookup misses and walks. */
	for (long i = 0; i < n; i++)
		swiommu_iommu_translate(dmac, 0, 0x80000000UL + (((unsigned long)i * 7919 % WALK_PAGES) << 12), false, &out);
	bench_sink = (void *)(uintptr_t)out;
}

/* Two threads, two domains, two instances. */
struct worker {
	struct iommu_domain *domain;
	long iterations;
	pthread_t thread;
};

static void *map_unmap_worker(void *arg)
{
	struct worker *w = arg;

	for (long i = 0; i < w->iterations; i++) {
		unsigned long iova = 0x10000000UL + ((unsigned long)(i & 1023) << 14);

		iommu_map(w->domain, iova, pa16k, SZ_16K, RW, GFP_KERNEL);
		iommu_unmap(w->domain, iova, SZ_16K);
	}
	return NULL;
}

static double pairs_per_second(struct worker *workers, int threads)
{
	double best = 0;

	for (int run = 0; run < 5; run++) {
		double t0 = bench_now_ns();

		for (int i = 0; i < threads; i++)
			pthread_create(&workers[i].thread, NULL, map_unmap_worker, &workers[i]);
		for (int i = 0; i < threads; i++)
			pthread_join(workers[i].thread, NULL);
		double rate = threads * (double)workers[0].iterations / ((bench_now_ns() - t0) * 1e-9);

		if (rate > best)
			best = rate;
	}
	return best;
}

static void run(void)
{
	struct page *pg = alloc_page(GFP_KERNEL);

	dmac = swiommu_find_device(DMAC);
	domain = dmac ? iommu_get_dma_domain(dmac) : NULL;
	if (!pg || !domain)
		return;
	pa = page_to_phys(pg);
	double off = bench_median_ns(map_unmap_4k, 1000000);

	bench_report("iommu_map + iommu_unmap 4 KiB, smmu-v3 model, strict", off, "ns/pair", 90, false);
	/* The same with iommu:map and iommu:unmap traced to the ring (tracing off costs one load per event). */
	swiommu_trace_enable("iommu:map,iommu:unmap");
	double on = bench_median_ns(map_unmap_4k, 200000);

	swiommu_trace_enable(NULL);
	bench_report("  for scale: the same with iommu:map/unmap traced", on, "ns/pair", 0, false);

	/* 256 MiB mapped with 4 KiB pages (all pointing at one page) for the translations. */
	for (unsigned long i = 0; i < WALK_PAGES; i++)
		iommu_map(domain, 0x80000000UL + (i << 12), pa, SZ_4K, IOMMU_READ, GFP_KERNEL);
	bench_report("device translation, warm IOTLB (1024 entries)", bench_median_ns(translate_warm, 2000000), "ns", 15,
		     false);
	bench_report("device translation, IOTLB miss + table walk", bench_median_ns(translate_walk, 1000000), "ns", 60,
		     false);
	iommu_unmap(domain, 0x80000000UL, WALK_PAGES << 12);

	struct page *pg16k = alloc_pages(GFP_KERNEL, 2);
	struct worker workers[2] = {
		{ .domain = iommu_get_dma_domain(swiommu_find_device("/soc/display@fe200000")), .iterations = 400000 },
		{ .domain = iommu_get_dma_domain(swiommu_find_device("/soc/gpu@fe300000")), .iterations = 400000 },
	};

	if (pg16k && workers[0].domain && workers[1].domain) {
		pa16k = page_to_phys(pg16k);
		double one = pairs_per_second(workers, 1);
		double two = pairs_per_second(workers, 2);

		bench_report("2 threads, 2 domains on 2 instances: map+unmap throughput vs 1", two / one, "x", 1.7, true);
		__free_pages(pg16k, 2);
	}
	__free_page(pg);
}
BENCH_SUITE(models, run)
