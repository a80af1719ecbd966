// SPDX-License-Identifier: MIT
// make bench: the library's hot paths timed through its C ABI, as users call it. Each figure is the median
// of several runs; targets come from the issues. `--json` prints the table as JSON.
#define _GNU_SOURCE
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/vmalloc.h>
#include <swiommu/swiommu.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUNS 7

struct figure {
	const char *name;
	double value;
	const char *unit;
	double target;	/* 0: no target yet */
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median over RUNS runs of fn(iterations), in ns per iteration. */
static double median_ns(void (*fn)(long), long iterations)
{
	double t[RUNS];

	fn(iterations / 10);	/* warm up */
	for (int r = 0; r < RUNS; r++) {
		double start = now_ns();

		fn(iterations);
		t[r] = (now_ns() - start) / (double)iterations;
	}
	qsort(t, RUNS, sizeof(t[0]), cmp_double);
	return t[RUNS / 2];
}

static void *volatile sink;

static void kmalloc_kfree_64(long n)
{
	for (long i = 0; i < n; i++) {
		void *p = kmalloc(64, GFP_KERNEL);

		sink = p;
		kfree(p);
	}
}

static void kmalloc_kfree_4k(long n)
{
	for (long i = 0; i < n; i++) {
		void *p = kmalloc(4096, GFP_KERNEL);

		sink = p;
		kfree(p);
	}
}

static void alloc_free_page(long n)
{
	for (long i = 0; i < n; i++) {
		struct page *p = alloc_pages(GFP_KERNEL, 0);

		sink = p;
		__free_pages(p, 0);
	}
}

static void alloc_free_order4(long n)
{
	for (long i = 0; i < n; i++) {
		struct page *p = alloc_pages(GFP_KERNEL, 4);

		sink = p;
		__free_pages(p, 4);
	}
}

static void virt_phys_round_trip(long n)
{
	void *p = kmalloc(64, GFP_KERNEL);

	for (long i = 0; i < n; i++)
		sink = phys_to_virt(virt_to_phys(p));
	kfree(p);
}

static void vmalloc_vfree_64k(long n)
{
	for (long i = 0; i < n; i++) {
		void *p = vmalloc(64 * 1024);

		sink = p;
		vfree(p);
	}
}

int main(int argc, char **argv)
{
	int json = argc > 1 && strcmp(argv[1], "--json") == 0;

	if (swiommu_init(NULL)) {
		fprintf(stderr, "swiommu_init failed\n");
		return 1;
	}
	struct figure figures[] = {
		{ "kmalloc(64) + kfree", median_ns(kmalloc_kfree_64, 2000000), "ns/pair", 0 },
		{ "kmalloc(4096) + kfree", median_ns(kmalloc_kfree_4k, 2000000), "ns/pair", 0 },
		{ "alloc_pages(order 0) + __free_pages", median_ns(alloc_free_page, 2000000), "ns/pair", 0 },
		{ "alloc_pages(order 4) + __free_pages", median_ns(alloc_free_order4, 1000000), "ns/pair", 0 },
		{ "virt_to_phys + phys_to_virt", median_ns(virt_phys_round_trip, 5000000), "ns/pair", 0 },
		{ "vmalloc(64 KiB) + vfree", median_ns(vmalloc_vfree_64k, 20000), "ns/pair", 0 },
	};
	size_t n = sizeof(figures) / sizeof(figures[0]);

	long leaks = swiommu_mem_check_leaks(true);

	swiommu_exit();
	if (leaks) {
		fprintf(stderr, "the benchmark leaked %ld allocations\n", leaks);
		return 1;
	}
	if (json) {
		printf("[\n");
		for (size_t i = 0; i < n; i++)
		{
			char target[32] = "null";

			if (figures[i].target > 0)
				snprintf(target, sizeof(target), "%.1f", figures[i].target);
			printf("  {\"figure\": \"%s\", \"median\": %.1f, \"unit\": \"%s\", \"target\": %s}%s\n",
			       figures[i].name, figures[i].value, figures[i].unit, target, i + 1 < n ? "," : "");
		}
		printf("]\n");
	} else {
		printf("%-42s %12s  %-8s %s\n", "figure", "median", "unit", "target");
		for (size_t i = 0; i < n; i++) {
			char target[32] = "-";

			if (figures[i].target > 0)
				snprintf(target, sizeof(target), "<= %.0f", figures[i].target);
			printf("%-42s %12.1f  %-8s %s\n", figures[i].name, figures[i].value, figures[i].unit, target);
		}
	}
	return 0;
}
