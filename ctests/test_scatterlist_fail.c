// SPDX-License-Identifier: MIT
// Error paths of the scatterlist library: empty tables, allocation failures (nothing leaks), segment limits
// below a page, appends with an offset, lists shorter than a length, NULL arguments.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <swiommu/swiommu.h>
#include "swiommu_test.h"

static void an_empty_table_is_einval(void **state)
{
	(void)state;
	struct sg_table sgt;

	assert_int_equal(sg_alloc_table(&sgt, 0, GFP_KERNEL), -EINVAL);
	assert_null(sgt.sgl);
	assert_int_equal(sg_alloc_table(NULL, 4, GFP_KERNEL), -EINVAL);
}

static void a_failed_allocation_frees_every_chunk(void **state)
{
	(void)state;
	struct sg_table sgt;

	/* The third chunk of a 300-entry table fails: the first two are freed again. */
	assert_int_equal(swiommu_fail_nth("kmalloc", 3), 0);
	assert_int_equal(sg_alloc_table(&sgt, 300, GFP_KERNEL), -ENOMEM);
	assert_null(sgt.sgl);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);

	struct page *block = alloc_pages(GFP_KERNEL, 1);
	struct page *pages[2] = { block, block + 1 };
	assert_int_equal(swiommu_fail_nth("kmalloc", 1), 0);
	assert_int_equal(sg_alloc_table_from_pages(&sgt, pages, 2, 0, 2 * PAGE_SIZE, GFP_KERNEL), -ENOMEM);
	__free_pages(block, 1);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void a_segment_below_a_page_is_refused(void **state)
{
	(void)state;
	struct page *pg = alloc_page(GFP_KERNEL);
	struct sg_table sgt;

	assert_int_equal(sg_alloc_table_from_pages_segment(&sgt, &pg, 1, 0, PAGE_SIZE, PAGE_SIZE - 1, GFP_KERNEL), -EINVAL);
	assert_int_equal(swiommu_warn_count(), 1);
	assert_non_null(strstr(swiommu_warn_last(), "is below PAGE_SIZE"));
	assert_int_equal(sg_alloc_table_from_pages(&sgt, NULL, 1, 0, PAGE_SIZE, GFP_KERNEL), -EINVAL);
	__free_page(pg);
}

static void an_append_with_an_offset_is_refused(void **state)
{
	(void)state;
	struct page *block = alloc_pages(GFP_KERNEL, 1);
	struct page *a = block, *b = block + 1;
	struct sg_append_table append;

	memset(&append, 0, sizeof(append));
	assert_int_equal(sg_alloc_append_table_from_pages(&append, &a, 1, 0, PAGE_SIZE, UINT_MAX, 1, GFP_KERNEL), 0);
	assert_int_equal(sg_alloc_append_table_from_pages(&append, &b, 1, 8, PAGE_SIZE, UINT_MAX, 0, GFP_KERNEL), -EINVAL);
	assert_non_null(strstr(swiommu_warn_last(), "an offset when appending"));
	sg_free_append_table(&append);
	__free_pages(block, 1);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void a_list_shorter_than_the_length_is_einval(void **state)
{
	(void)state;
	struct scatterlist sg[2];

	sg_init_table(sg, 2);
	sg[0].length = 10;
	sg[1].length = 10;
	assert_int_equal(sg_nents_for_len(sg, 21), -EINVAL);
	assert_int_equal(sg_nents(NULL), 0);
	assert_int_equal(sg_copy_from_buffer(NULL, 1, "x", 1), 0);
	assert_int_equal(sg_copy_to_buffer(sg, 2, NULL, 1), 0);
	/* Entries without a page of simulated RAM: the copy stops with a WARN. */
	char out[4];
	assert_int_equal(sg_copy_to_buffer(sg, 2, out, 4), 0);
	assert_non_null(strstr(swiommu_warn_last(), "not simulated RAM"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(an_empty_table_is_einval, clean_records),
		cmocka_unit_test_setup(a_failed_allocation_frees_every_chunk, clean_records),
		cmocka_unit_test_setup(a_segment_below_a_page_is_refused, clean_records),
		cmocka_unit_test_setup(an_append_with_an_offset_is_refused, clean_records),
		cmocka_unit_test_setup(a_list_shorter_than_the_length_is_einval, clean_records),
	};

	return cmocka_run_group_tests(tests, boot, shut_down);
}
