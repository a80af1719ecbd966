// SPDX-License-Identifier: MIT
// The memory API's error paths: SLUB's consistency checks on kfree, bad page states, oversized requests,
// wrong vfree/vunmap, conversions of addresses that are not in the linear map, fault injection, calls
// made while the machine is down, boot errors, and leaks reported at swiommu_exit().
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/errno.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <asm/io.h>
#include <swiommu/swiommu.h>
#include "swiommu_test.h"

#define SZ_4G		(1ULL << 32)
#define BANK0_START	0x80000000ULL
#define BANK1_START	0x880000000ULL
#define BANK_SIZE	0x80000000ULL

static void reset_records(void)
{
	swiommu_warn_reset();
	swiommu_log_reset();
}

/* For tests that start with the machine down. */
static int down(void **state)
{
	(void)state;
	swiommu_exit();
	reset_records();
	return 0;
}

static struct swiommu_mem_stats stats(void)
{
	struct swiommu_mem_stats s;

	memset(&s, 0xff, sizeof(s));
	assert_int_equal(swiommu_mem_get_stats(&s), 0);
	return s;
}

/* ------------------------------------------------------------------------------------------------ */
/* kfree and ksize */

static void double_kfree_reports_object_already_free(void **state)
{
	(void)state;
	char *p = kmalloc(64, GFP_KERNEL);

	assert_non_null(p);
	kfree(p);
	struct swiommu_mem_stats s0 = stats();

	reset_records();
	kfree(p);
	assert_int_equal(swiommu_warn_count(), 1);
	assert_true(swiommu_log_contains("Object already free"));
	assert_true(swiommu_log_contains("kmalloc-64"));
	/* Ignored: the counters do not go down twice. */
	struct swiommu_mem_stats s1 = stats();

	assert_int_equal(s1.kmalloc_objects, s0.kmalloc_objects);
	assert_int_equal(s1.kmalloc_bytes, s0.kmalloc_bytes);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
	/* The cache still works, and hands the object out once only. */
	char *a = kmalloc(64, GFP_KERNEL);
	char *b = kmalloc(64, GFP_KERNEL);

	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	kfree(a);
	kfree(b);
	assert_int_equal(swiommu_warn_count(), 1);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void kfree_inside_an_object_reports_invalid_object_pointer(void **state)
{
	(void)state;
	char *p = kmalloc(128, GFP_KERNEL);

	assert_non_null(p);
	strcpy(p, "still here");
	reset_records();
	kfree(p + 8);
	assert_int_equal(swiommu_warn_count(), 1);
	assert_true(swiommu_log_contains("Invalid object pointer"));
	/* The object was left alone. */
	assert_int_equal(swiommu_mem_check_leaks(false), 1);
	assert_string_equal(p, "still here");
	assert_int_equal(ksize(p), 128);
	kfree(p);
	assert_int_equal(swiommu_warn_count(), 1);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void kfree_of_host_memory_reports_invalid_pointer(void **state)
{
	int on_stack = 42;

	(void)state;
	reset_records();
	kfree(&on_stack);
	assert_int_equal(swiommu_warn_count(), 1);
	assert_true(swiommu_log_contains("Attempt to free invalid pointer"));
	assert_int_equal(on_stack, 42);

	char *heap = malloc(32);

	assert_non_null(heap);
	kfree(heap);
	assert_int_equal(swiommu_warn_count(), 2);
	free(heap);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void kfree_null_is_silent(void **state)
{
	(void)state;
	reset_records();
	kfree(NULL);
	kfree(ZERO_SIZE_PTR);
	kvfree(NULL);
	vfree(NULL);
	vunmap(NULL);
	free_pages(0, 0);
	__free_pages(NULL, 0);
	assert_int_equal(swiommu_warn_count(), 0);
	assert_int_equal(swiommu_log_count(), 0);
}

static void kfree_of_page_allocator_memory_is_refused(void **state)
{
	(void)state;
	struct page *pg = alloc_pages(GFP_KERNEL, 1);

	assert_non_null(pg);
	reset_records();
	kfree(page_address(pg));
	assert_int_equal(swiommu_warn_count(), 1);
	/* The block is still allocated, and frees normally. */
	assert_int_equal(swiommu_mem_check_leaks(false), 1);
	__free_pages(pg, 1);
	assert_int_equal(swiommu_warn_count(), 1);
	assert_false(swiommu_log_contains("Bad page state"));
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void ksize_and_krealloc_of_unknown_pointer(void **state)
{
	long on_stack = 7;

	(void)state;
	reset_records();
	assert_int_equal(ksize(&on_stack), 0);
	assert_int_equal(swiommu_warn_count(), 1);
	assert_null(krealloc(&on_stack, 100, GFP_KERNEL));
	assert_int_equal(swiommu_warn_count(), 2);
	assert_int_equal(on_stack, 7);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

/* ------------------------------------------------------------------------------------------------ */
/* The page allocator */

static void double_free_pages_reports_bad_page_state(void **state)
{
	(void)state;
	struct page *pg = alloc_page(GFP_KERNEL);

	assert_non_null(pg);
	__free_pages(pg, 0);
	struct swiommu_mem_stats s0 = stats();

	reset_records();
	__free_pages(pg, 0);
	assert_int_equal(swiommu_warn_count(), 1);
	assert_true(swiommu_log_contains("Bad page state"));
	struct swiommu_mem_stats s1 = stats();

	assert_int_equal(s1.page_blocks, s0.page_blocks);
	assert_int_equal(s1.page_bytes, s0.page_bytes);
	assert_int_equal(s1.free_bytes, s0.free_bytes);

	/* Same through free_pages(). */
	unsigned long a = __get_free_page(GFP_KERNEL);

	assert_int_not_equal(a, 0);
	free_page(a);
	reset_records();
	free_page(a);
	assert_int_equal(swiommu_warn_count(), 1);
	assert_true(swiommu_log_contains("Bad page state"));
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void free_pages_with_wrong_order_reports_bad_page_state(void **state)
{
	(void)state;
	struct page *pg = alloc_pages(GFP_KERNEL, 2);

	assert_non_null(pg);
	struct swiommu_mem_stats s0 = stats();

	reset_records();
	__free_pages(pg, 1);
	assert_int_equal(swiommu_warn_count(), 1);
	assert_true(swiommu_log_contains("Bad page state"));
	/* Nothing was freed. */
	assert_int_equal(swiommu_mem_check_leaks(false), 1);
	assert_int_equal(stats().free_bytes, s0.free_bytes);
	/* A page inside the block is not its head either. */
	__free_pages(nth_page(pg, 1), 0);
	assert_int_equal(swiommu_warn_count(), 2);
	assert_int_equal(swiommu_mem_check_leaks(false), 1);
	__free_pages(pg, 2);
	assert_int_equal(swiommu_warn_count(), 2);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void free_pages_of_a_slab_page_reports_bad_page_state(void **state)
{
	(void)state;
	char *obj = kmalloc(64, GFP_KERNEL);

	assert_non_null(obj);
	reset_records();
	__free_pages(virt_to_page(obj), 0);
	assert_int_equal(swiommu_warn_count(), 1);
	assert_true(swiommu_log_contains("Bad page state"));
	/* The object is intact and still a kmalloc object. */
	strcpy(obj, "slab");
	assert_int_equal(ksize(obj), 64);
	kfree(obj);
	assert_int_equal(swiommu_warn_count(), 1);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void free_pages_of_a_non_linear_address_warns(void **state)
{
	int on_stack = 0;

	(void)state;
	reset_records();
	free_pages((unsigned long)&on_stack, 0);
	assert_int_equal(swiommu_warn_count(), 1);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void alloc_pages_beyond_max_order_fails(void **state)
{
	(void)state;
	struct swiommu_mem_stats s0 = stats();

	reset_records();
	assert_null(alloc_pages(GFP_KERNEL, MAX_PAGE_ORDER + 1));
	assert_int_equal(swiommu_warn_count(), 1);
	assert_null(alloc_pages(GFP_KERNEL | __GFP_NOWARN, MAX_PAGE_ORDER + 1));
	assert_null(alloc_pages(GFP_KERNEL | __GFP_NOWARN, MAX_PAGE_ORDER + 5));
	assert_int_equal(swiommu_warn_count(), 1);
	assert_int_equal(__get_free_pages(GFP_KERNEL | __GFP_NOWARN, MAX_PAGE_ORDER + 1), 0);
	assert_int_equal(swiommu_warn_count(), 1);

	struct swiommu_mem_stats s1 = stats();

	assert_int_equal(s1.page_blocks, s0.page_blocks);
	assert_int_equal(s1.free_bytes, s0.free_bytes);
	/* MAX_PAGE_ORDER itself is fine. */
	struct page *pg = alloc_pages(GFP_KERNEL, MAX_PAGE_ORDER);

	assert_non_null(pg);
	__free_pages(pg, MAX_PAGE_ORDER);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

/* ------------------------------------------------------------------------------------------------ */
/* kmalloc */

static void kmalloc_beyond_kmalloc_max_size_fails(void **state)
{
	(void)state;
	reset_records();
	assert_null(kmalloc(KMALLOC_MAX_SIZE + 1, GFP_KERNEL));
	assert_int_equal(swiommu_warn_count(), 1);
	assert_null(kmalloc(KMALLOC_MAX_SIZE + 1, GFP_KERNEL | __GFP_NOWARN));
	assert_null(kzalloc(2 * KMALLOC_MAX_SIZE, GFP_KERNEL | __GFP_NOWARN));
	assert_int_equal(swiommu_warn_count(), 1);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);

	void *max = kmalloc(KMALLOC_MAX_SIZE, GFP_KERNEL);

	assert_non_null(max);
	kfree(max);
	assert_int_equal(swiommu_warn_count(), 1);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void kmalloc_with_gfp_dma32_is_fixed_up(void **state)
{
	(void)state;
	reset_records();
	/* slab cannot honour __GFP_DMA32: kmalloc_fix_flags() complains and drops it. */
	char *p = kmalloc(64, GFP_KERNEL | __GFP_DMA32);

	assert_non_null(p);
	assert_true(swiommu_log_contains("Unexpected gfp"));
	strcpy(p, "allocated anyway");
	assert_string_equal(phys_to_virt(virt_to_phys(p)), "allocated anyway");
	kfree(p);

	swiommu_log_reset();
	char *h = kmalloc(64, GFP_KERNEL | __GFP_HIGHMEM);

	assert_non_null(h);
	assert_true(swiommu_log_contains("Unexpected gfp"));
	kfree(h);

	swiommu_log_reset();
	char *large = kmalloc(5 * PAGE_SIZE, GFP_KERNEL | __GFP_DMA32);

	assert_non_null(large);
	assert_true(swiommu_log_contains("Unexpected gfp"));
	kfree(large);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

/* ------------------------------------------------------------------------------------------------ */
/* vmalloc and vmap */

static void vfree_of_a_non_vmalloc_address_warns(void **state)
{
	int on_stack = 0;

	(void)state;
	char *k = kmalloc(64, GFP_KERNEL);

	assert_non_null(k);
	reset_records();
	vfree(k);
	assert_int_equal(swiommu_warn_count(), 1);
	assert_true(swiommu_log_contains("Trying to vfree() nonexistent vm area"));
	/* The kmalloc object was not touched. */
	assert_int_equal(ksize(k), 64);
	kfree(k);
	vfree(&on_stack);
	assert_int_equal(swiommu_warn_count(), 2);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void double_vfree_warns(void **state)
{
	(void)state;
	char *v = vmalloc(2 * PAGE_SIZE);

	assert_non_null(v);
	/* An address inside the area is not the area. */
	reset_records();
	vfree(v + 16);
	assert_int_equal(swiommu_warn_count(), 1);
	assert_true(swiommu_log_contains("Trying to vfree() nonexistent vm area"));
	assert_int_equal(stats().vmalloc_areas, 1);
	v[2 * PAGE_SIZE - 1] = 1;

	vfree(v);
	assert_int_equal(swiommu_warn_count(), 1);
	assert_int_equal(stats().vmalloc_areas, 0);
	swiommu_log_reset();
	vfree(v);
	assert_int_equal(swiommu_warn_count(), 2);
	assert_true(swiommu_log_contains("Trying to vfree() nonexistent vm area"));
	assert_int_equal(stats().vmalloc_areas, 0);
	assert_int_equal(stats().vmalloc_bytes, 0);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void vunmap_of_an_unknown_address_warns(void **state)
{
	(void)state;
	char *k = kmalloc(64, GFP_KERNEL);
	struct page *pg = alloc_page(GFP_KERNEL);

	assert_non_null(k);
	assert_non_null(pg);
	reset_records();
	vunmap(k);
	assert_int_equal(swiommu_warn_count(), 1);
	assert_true(swiommu_log_contains("Trying to vunmap() nonexistent vm area"));

	void *m = vmap(&pg, 1, VM_MAP, PAGE_KERNEL);

	assert_non_null(m);
	vunmap(m);
	assert_int_equal(swiommu_warn_count(), 1);
	vunmap(m);
	assert_int_equal(swiommu_warn_count(), 2);
	assert_int_equal(stats().vmap_areas, 0);
	kfree(k);
	__free_page(pg);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void vmap_of_nothing_or_foreign_pages_fails(void **state)
{
	struct page fake;
	struct page *pages[2];

	(void)state;
	memset(&fake, 0, sizeof(fake));
	pages[0] = alloc_page(GFP_KERNEL);
	assert_non_null(pages[0]);
	pages[1] = &fake;
	assert_null(vmap(pages, 0, VM_MAP, PAGE_KERNEL));
	assert_null(vmap(pages, 2, VM_MAP, PAGE_KERNEL));
	assert_int_equal(stats().vmap_areas, 0);
	__free_page(pages[0]);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

/* The kernel: __vmalloc_node_range_noprof() does WARN_ON_ONCE(!size) and returns NULL. */
static void vmalloc_of_zero_bytes_warns(void **state)
{
	(void)state;
	reset_records();
	assert_null(vmalloc(0));
	assert_int_equal(swiommu_warn_count(), 1);
	assert_int_equal(stats().vmalloc_areas, 0);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

/* ------------------------------------------------------------------------------------------------ */
/* Addresses outside the linear map or outside RAM */

static void virt_to_phys_of_a_vmalloc_address_warns(void **state)
{
	(void)state;
	void *v = vmalloc(PAGE_SIZE);

	assert_non_null(v);
	reset_records();
	assert_int_equal(virt_to_phys(v), 0);
	assert_int_equal(swiommu_warn_count(), 1);
	assert_true(swiommu_log_contains("virt_to_phys used for non-linear address"));
	assert_null(virt_to_page(v));
	assert_int_equal(swiommu_warn_count(), 2);
	/* vmalloc_to_page() is the way. */
	assert_non_null(vmalloc_to_page(v));
	assert_int_equal(swiommu_warn_count(), 2);
	vfree(v);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void phys_to_virt_outside_ram_warns(void **state)
{
	static const phys_addr_t holes[] = {
		0x0, 0x1000, BANK0_START - 1, SZ_4G, 0x100000000ULL + 0x1000, BANK1_START - PAGE_SIZE,
		BANK1_START + BANK_SIZE, 0xffffffffffff0000ULL,
	};

	(void)state;
	reset_records();
	for (size_t i = 0; i < sizeof(holes) / sizeof(holes[0]); i++) {
		if (phys_to_virt(holes[i]) != NULL)
			fail_msg("phys_to_virt(%#llx) is not NULL", (unsigned long long)holes[i]);
		assert_int_equal(swiommu_warn_count(), i + 1);
	}
	/* The last byte of each bank is fine. */
	assert_non_null(phys_to_virt(BANK0_START + BANK_SIZE - 1));
	assert_non_null(phys_to_virt(BANK1_START + BANK_SIZE - 1));
	assert_int_equal(swiommu_warn_count(), sizeof(holes) / sizeof(holes[0]));
}

static void pfn_to_page_outside_ram_is_null(void **state)
{
	struct page fake;

	(void)state;
	memset(&fake, 0, sizeof(fake));
	assert_null(pfn_to_page(0));
	assert_null(pfn_to_page(1));
	assert_null(pfn_to_page(BANK0_START / PAGE_SIZE - 1));
	assert_null(pfn_to_page(SZ_4G / PAGE_SIZE));
	assert_null(pfn_to_page((BANK1_START + BANK_SIZE) / PAGE_SIZE));
	assert_non_null(pfn_to_page(BANK0_START / PAGE_SIZE));

	/* A struct page that is not ours. */
	reset_records();
	assert_int_equal(page_to_pfn(&fake), 0);
	assert_int_equal(page_to_phys(&fake), 0);
	assert_null(page_address(&fake));
	assert_int_equal(swiommu_warn_count(), 3);
}

static void cache_maintenance_outside_ram_faults(void **state)
{
	unsigned char buf[64] = { 0 };

	(void)state;
	assert_int_equal(swiommu_cache_clean(0x1000, 64), -EFAULT);
	assert_int_equal(swiommu_cache_invalidate(0x1000, 64), -EFAULT);
	assert_int_equal(swiommu_cache_flush(SZ_4G, 64), -EFAULT);
	assert_int_equal(swiommu_mem_read(0x1000, buf, sizeof(buf), false), -EFAULT);
	assert_int_equal(swiommu_mem_write(0x1000, buf, sizeof(buf), true), -EFAULT);
	/* A range running off the end of a bank. */
	assert_int_equal(swiommu_mem_read(BANK0_START + BANK_SIZE - 32, buf, 64, false), -EFAULT);
	assert_int_equal(swiommu_mem_write(BANK1_START + BANK_SIZE - 32, buf, 64, false), -EFAULT);
	assert_int_equal(swiommu_mem_read(BANK0_START + BANK_SIZE - 64, buf, 64, false), 0);
}

/* ------------------------------------------------------------------------------------------------ */
/* Fault injection */

static void fail_nth_kmalloc(void **state)
{
	void *p[4];

	(void)state;
	assert_int_equal(swiommu_fail_nth("kmalloc", 1), 0);
	assert_null(kmalloc(32, GFP_KERNEL));
	p[0] = kmalloc(32, GFP_KERNEL);
	assert_non_null(p[0]);
	kfree(p[0]);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);

	/* nth = 3: the first two succeed, the third fails, then it is disarmed. */
	assert_int_equal(swiommu_fail_nth("kmalloc", 3), 0);
	p[0] = kmalloc(32, GFP_KERNEL);
	p[1] = kzalloc(200, GFP_KERNEL);
	p[2] = kmalloc(32, GFP_KERNEL);
	p[3] = kmalloc(32, GFP_KERNEL);
	assert_non_null(p[0]);
	assert_non_null(p[1]);
	assert_null(p[2]);
	assert_non_null(p[3]);
	kfree(p[0]);
	kfree(p[1]);
	kfree(p[3]);

	/* Large kmalloc is kmalloc too. */
	assert_int_equal(swiommu_fail_nth("kmalloc", 1), 0);
	assert_null(kmalloc(100000, GFP_KERNEL));
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void fail_nth_alloc_pages(void **state)
{
	struct page *p[4];

	(void)state;
	assert_int_equal(swiommu_fail_nth("alloc_pages", 1), 0);
	assert_null(alloc_pages(GFP_KERNEL, 0));
	p[0] = alloc_pages(GFP_KERNEL, 0);
	assert_non_null(p[0]);
	__free_pages(p[0], 0);

	assert_int_equal(swiommu_fail_nth("alloc_pages", 3), 0);
	for (int i = 0; i < 4; i++)
		p[i] = alloc_pages(GFP_KERNEL, 2);
	assert_non_null(p[0]);
	assert_non_null(p[1]);
	assert_null(p[2]);
	assert_non_null(p[3]);
	__free_pages(p[0], 2);
	__free_pages(p[1], 2);
	__free_pages(p[3], 2);

	assert_int_equal(swiommu_fail_nth("alloc_pages", 1), 0);
	assert_int_equal(__get_free_page(GFP_KERNEL), 0);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void fail_nth_vmalloc(void **state)
{
	void *v[4];

	(void)state;
	assert_int_equal(swiommu_fail_nth("vmalloc", 1), 0);
	assert_null(vmalloc(PAGE_SIZE));
	v[0] = vmalloc(PAGE_SIZE);
	assert_non_null(v[0]);
	vfree(v[0]);

	assert_int_equal(swiommu_fail_nth("vmalloc", 3), 0);
	v[0] = vmalloc(PAGE_SIZE);
	v[1] = vzalloc(2 * PAGE_SIZE);
	v[2] = vmalloc(PAGE_SIZE);
	v[3] = vmalloc(PAGE_SIZE);
	assert_non_null(v[0]);
	assert_non_null(v[1]);
	assert_null(v[2]);
	assert_non_null(v[3]);
	vfree(v[0]);
	vfree(v[1]);
	vfree(v[3]);
	assert_int_equal(stats().vmalloc_areas, 0);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void fail_nth_zero_disarms(void **state)
{
	(void)state;
	assert_int_equal(swiommu_fail_nth("kmalloc", 2), 0);
	assert_int_equal(swiommu_fail_nth("kmalloc", 0), 0);
	for (int i = 0; i < 4; i++) {
		void *p = kmalloc(16, GFP_KERNEL);

		assert_non_null(p);
		kfree(p);
	}
	/* Points are independent. */
	assert_int_equal(swiommu_fail_nth("vmalloc", 1), 0);
	void *k = kmalloc(16, GFP_KERNEL);
	struct page *pg = alloc_page(GFP_KERNEL);

	assert_non_null(k);
	assert_non_null(pg);
	assert_null(vmalloc(PAGE_SIZE));
	kfree(k);
	__free_page(pg);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void fail_nth_of_an_unknown_point_is_einval(void **state)
{
	(void)state;
	reset_records();
	assert_int_equal(swiommu_fail_nth("bogus", 1), -EINVAL);
	assert_true(swiommu_log_contains("bogus"));
	assert_int_equal(swiommu_fail_nth(NULL, 1), -EINVAL);
	assert_int_equal(swiommu_fail_nth("", 1), -EINVAL);
	assert_int_equal(swiommu_fail_nth("KMALLOC", 1), -EINVAL);
	/* Nothing got armed. */
	void *p = kmalloc(8, GFP_KERNEL);

	assert_non_null(p);
	kfree(p);
}

static void failed_krealloc_and_kmemdup_leave_things_alone(void **state)
{
	(void)state;
	char *p = kmalloc(32, GFP_KERNEL);

	assert_non_null(p);
	strcpy(p, "keep me");
	assert_int_equal(swiommu_fail_nth("kmalloc", 1), 0);
	assert_null(krealloc(p, 1000, GFP_KERNEL));
	assert_string_equal(p, "keep me");
	assert_int_equal(ksize(p), 32);
	assert_int_equal(swiommu_mem_check_leaks(false), 1);

	assert_int_equal(swiommu_fail_nth("kmalloc", 1), 0);
	assert_null(kmemdup(p, 8, GFP_KERNEL));
	assert_int_equal(swiommu_fail_nth("kmalloc", 1), 0);
	assert_null(kstrdup(p, GFP_KERNEL));
	assert_int_equal(swiommu_fail_nth("kmalloc", 1), 0);
	assert_null(kcalloc(4, 8, GFP_KERNEL));
	assert_int_equal(swiommu_mem_check_leaks(false), 1);
	kfree(p);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

/* ------------------------------------------------------------------------------------------------ */
/* The machine down, booting twice, bad boot arguments */

static void calls_before_init_fail_without_crashing(void **state)
{
	struct swiommu_mem_stats s;
	phys_addr_t start;
	u64 size;

	(void)state;
	assert_false(swiommu_is_up());
	assert_int_equal(swiommu_page_shift(), 0);

	reset_records();
	assert_null(kmalloc(64, GFP_KERNEL));
	assert_int_equal(swiommu_warn_count(), 1);
	assert_null(kzalloc(64, GFP_KERNEL));
	assert_null(alloc_pages(GFP_KERNEL, 0));
	assert_int_equal(__get_free_page(GFP_KERNEL), 0);
	assert_null(vmalloc(PAGE_SIZE));
	assert_null(kvmalloc(PAGE_SIZE, GFP_KERNEL));
	assert_null(kstrdup("x", GFP_KERNEL));
	assert_true(swiommu_warn_count() >= 5);

	assert_int_equal(swiommu_mem_get_stats(&s), -ENODEV);
	assert_int_equal(swiommu_mem_check_leaks(false), -ENODEV);
	assert_int_equal(swiommu_ram_bank(0, &start, &size), -ENODEV);
	assert_null(swiommu_find_device("/soc/isp@fe0a0000"));
	assert_false(is_vmalloc_addr(&s));
	assert_false(virt_addr_valid(&s));
	kfree(NULL);
	swiommu_exit();
	assert_false(swiommu_is_up());
}

static void init_twice_is_ebusy(void **state)
{
	(void)state;
	char *p = kmalloc(16, GFP_KERNEL);

	assert_non_null(p);
	assert_int_equal(swiommu_init(NULL), -EBUSY);
	/* The machine that is up stays up, allocations and all. */
	assert_true(swiommu_is_up());
	assert_int_equal(swiommu_mem_check_leaks(false), 1);
	assert_int_equal(ksize(p), 16);
	kfree(p);
	assert_int_equal(swiommu_init("some.dtb"), -EBUSY);
	assert_true(swiommu_is_up());
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void init_from_a_missing_board_file_is_einval(void **state)
{
	(void)state;
	int ret = swiommu_init("some.dtb");

	/* The machine stays down and the message names the file. */
	assert_int_equal(ret, -EINVAL);
	assert_false(swiommu_is_up());
	assert_true(swiommu_log_contains("some.dtb: cannot open"));
	assert_int_equal(swiommu_init("boards/missing.dts"), -EINVAL);
	assert_false(swiommu_is_up());
	/* The built-in board still boots afterwards. */
	assert_int_equal(swiommu_init(NULL), 0);
	assert_true(swiommu_is_up());
}

static void init_with_an_unsupported_page_shift_is_einval(void **state)
{
	(void)state;
	assert_int_equal(swiommu_init_page_shift(NULL, 13), -EINVAL);
	assert_false(swiommu_is_up());
	assert_int_equal(swiommu_init_page_shift(NULL, 0), -EINVAL);
	assert_int_equal(swiommu_init_page_shift(NULL, 11), -EINVAL);
	assert_int_equal(swiommu_init_page_shift(NULL, 15), -EINVAL);
	assert_int_equal(swiommu_init_page_shift(NULL, 17), -EINVAL);
	assert_false(swiommu_is_up());
	assert_int_equal(swiommu_page_shift(), 0);
	assert_int_equal(swiommu_init_page_shift(NULL, 12), 0);
	assert_int_equal(swiommu_page_shift(), 12);
}

static void leaks_are_reported_at_exit_with_their_site(void **state)
{
	char needle[128];
	int kmalloc_line, pages_line, vmalloc_line;

	(void)state;
	void *k = kmalloc(77, GFP_KERNEL); kmalloc_line = __LINE__;
	struct page *pg = alloc_pages(GFP_KERNEL, 1); pages_line = __LINE__;
	void *v = vmalloc(3 * PAGE_SIZE); vmalloc_line = __LINE__;

	assert_non_null(k);
	assert_non_null(pg);
	assert_non_null(v);
	reset_records();
	swiommu_exit();
	assert_false(swiommu_is_up());
	assert_true(swiommu_log_contains("leak"));
	snprintf(needle, sizeof(needle), "test_mm_fail.c:%d", kmalloc_line);
	assert_true(swiommu_log_contains(needle));
	snprintf(needle, sizeof(needle), "test_mm_fail.c:%d", pages_line);
	assert_true(swiommu_log_contains(needle));
	snprintf(needle, sizeof(needle), "test_mm_fail.c:%d", vmalloc_line);
	assert_true(swiommu_log_contains(needle));
	assert_true(swiommu_log_contains("leaks_are_reported_at_exit_with_their_site"));

	/* The next boot starts clean. */
	assert_int_equal(swiommu_init(NULL), 0);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
	swiommu_log_reset();
	swiommu_exit();
	assert_false(swiommu_log_contains("leak"));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, boot, shut_down)
#define D(fn) cmocka_unit_test_setup_teardown(fn, down, shut_down)
	const struct CMUnitTest tests[] = {
		T(double_kfree_reports_object_already_free),
		T(kfree_inside_an_object_reports_invalid_object_pointer),
		T(kfree_of_host_memory_reports_invalid_pointer),
		T(kfree_null_is_silent),
		T(kfree_of_page_allocator_memory_is_refused),
		T(ksize_and_krealloc_of_unknown_pointer),
		T(double_free_pages_reports_bad_page_state),
		T(free_pages_with_wrong_order_reports_bad_page_state),
		T(free_pages_of_a_slab_page_reports_bad_page_state),
		T(free_pages_of_a_non_linear_address_warns),
		T(alloc_pages_beyond_max_order_fails),
		T(kmalloc_beyond_kmalloc_max_size_fails),
		T(kmalloc_with_gfp_dma32_is_fixed_up),
		T(vfree_of_a_non_vmalloc_address_warns),
		T(double_vfree_warns),
		T(vunmap_of_an_unknown_address_warns),
		T(vmap_of_nothing_or_foreign_pages_fails),
		T(vmalloc_of_zero_bytes_warns),
		T(virt_to_phys_of_a_vmalloc_address_warns),
		T(phys_to_virt_outside_ram_warns),
		T(pfn_to_page_outside_ram_is_null),
		T(cache_maintenance_outside_ram_faults),
		T(fail_nth_kmalloc),
		T(fail_nth_alloc_pages),
		T(fail_nth_vmalloc),
		T(fail_nth_zero_disarms),
		T(fail_nth_of_an_unknown_point_is_einval),
		T(failed_krealloc_and_kmemdup_leave_things_alone),
		D(calls_before_init_fail_without_crashing),
		T(init_twice_is_ebusy),
		D(init_from_a_missing_board_file_is_einval),
		D(init_with_an_unsupported_page_shift_is_einval),
		T(leaks_are_reported_at_exit_with_their_site),
	};
#undef T
#undef D

	return cmocka_run_group_tests(tests, NULL, NULL);
}
