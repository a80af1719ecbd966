// SPDX-License-Identifier: MIT
// make bench: the memory API (issue 2 figures; no targets were set for them).
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/vmalloc.h>
#include "bench.h"

static void kmalloc_kfree_64(long n)
{
	for (long i = 0; i < n; i++) {
		void *p = kmalloc(64, GFP_KERNEL);

		bench_sink = p;
		kfree(p);
	}
}

static void kmalloc_kfree_4k(long n)
{
	for (long i = 0; i < n; i++) {
		void *p = kmalloc(4096, GFP_KERNEL);

		bench_sink = p;
		kfree(p);
	}
}

static void alloc_free_page(long n)
{
	for (long i = 0; i < n; i++) {
		struct page *p = alloc_pages(GFP_KERNEL, 0);

		bench_sink = p;
		__free_pages(p, 0);
	}
}

static void alloc_free_order4(long n)
{
	for (long i = 0; i < n; i++) {
		struct page *p = alloc_pages(GFP_KERNEL, 4);

		bench_sink = p;
		__free_pages(p, 4);
	}
}

static void virt_phys_round_trip(long n)
{
	void *p = kmalloc(64, GFP_KERNEL);

	for (long i = 0; i < n; i++)
		bench_sink = phys_to_virt(virt_to_phys(p));
	kfree(p);
}

static void vmalloc_vfree_64k(long n)
{
	for (long i = 0; i < n; i++) {
		void *p = vmalloc(64 * 1024);

		bench_sink = p;
		vfree(p);
	}
}

static void run(void)
{
	bench_report("kmalloc(64) + kfree", bench_median_ns(kmalloc_kfree_64, 2000000), "ns/pair", 0, false);
	bench_report("kmalloc(4096) + kfree", bench_median_ns(kmalloc_kfree_4k, 2000000), "ns/pair", 0, false);
	bench_report("alloc_pages(order 0) + __free_pages", bench_median_ns(alloc_free_page, 2000000), "ns/pair", 0, false);
	bench_report("alloc_pages(order 4) + __free_pages", bench_median_ns(alloc_free_order4, 1000000), "ns/pair", 0, false);
	bench_report("virt_to_phys + phys_to_virt", bench_median_ns(virt_phys_round_trip, 5000000), "ns/pair", 0, false);
	bench_report("vmalloc(64 KiB) + vfree", bench_median_ns(vmalloc_vfree_64k, 20000), "ns/pair", 0, false);
}
BENCH_SUITE(mm, run)
