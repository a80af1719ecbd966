// SPDX-License-Identifier: MIT
// The scatterlist library (lib/scatterlist.c): entries, end marks and chains, tables in chained chunks,
// tables built from page arrays with merging and segment limits, appends, copies and page iterators.
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

static void init_table_zeroes_and_marks_the_end(void **state)
{
	(void)state;
	struct scatterlist sg[4];
	char *buf = kmalloc(100, GFP_KERNEL);

	memset(sg, 0xff, sizeof(sg));
	sg_init_table(sg, 4);
	assert_int_equal(sg[0].page_link, 0);
	assert_int_equal(sg[0].dma_length, 0);
	assert_true(sg_is_last(&sg[3]));
	assert_false(sg_is_last(&sg[2]));
	assert_int_equal(sg_nents(sg), 4);
	sg_set_buf(&sg[1], buf + 10, 50);
	assert_ptr_equal(sg_virt(&sg[1]), buf + 10);
	assert_int_equal(sg_phys(&sg[1]), virt_to_phys(buf + 10));
	assert_int_equal(sg[1].length, 50);
	assert_true(sg_is_last(&sg[3]));
	sg_init_one(&sg[0], buf, 100);
	assert_true(sg_is_last(&sg[0]));
	assert_ptr_equal(sg_page(&sg[0]), virt_to_page(buf));
	assert_int_equal(sg[0].offset, offset_in_page(buf));
	assert_int_equal(sg_nents(sg), 1);
	kfree(buf);
}

static void chains_link_arrays(void **state)
{
	(void)state;
	struct scatterlist a[3], b[2], *sg;
	unsigned int i, n = 0;

	sg_init_table(a, 3);
	sg_init_table(b, 2);
	for (i = 0; i < 2; i++)
		a[i].length = i + 1;
	b[0].length = 3;
	b[1].length = 4;
	sg_chain(a, 3, b);	/* a[2] becomes the link */
	assert_true(sg_is_chain(&a[2]));
	assert_ptr_equal(sg_next(&a[1]), &b[0]);
	assert_int_equal(sg_nents(a), 4);
	for_each_sg(a, sg, 4, i)
		n += sg->length;
	assert_int_equal(n, 10);
	assert_ptr_equal(sg_last(a, 4), &b[1]);
	assert_int_equal(sg_nents_for_len(a, 3), 2);
	assert_int_equal(sg_nents_for_len(a, 10), 4);
	assert_int_equal(sg_nents_for_len(a, 0), 0);
	sg_mark_end(&b[0]);
	assert_int_equal(sg_nents(a), 3);
	sg_unmark_end(&b[0]);
	assert_int_equal(sg_nents(a), 4);
}

static void sg_alloc_table_chains_chunks_of_a_page(void **state)
{
	(void)state;
	struct sg_table sgt;
	struct scatterlist *sg;
	unsigned int i, count = 0;

	assert_int_equal(SG_MAX_SINGLE_ALLOC, PAGE_SIZE / 32);
	assert_int_equal(sg_alloc_table(&sgt, 300, GFP_KERNEL), 0);
	assert_int_equal(sgt.nents, 300);
	assert_int_equal(sgt.orig_nents, 300);
	/* 128-entry chunks: the last entry of each full chunk is a link. */
	assert_true(sg_is_chain(&sgt.sgl[SG_MAX_SINGLE_ALLOC - 1]));
	assert_int_equal(sg_nents(sgt.sgl), 300);
	for_each_sgtable_sg(&sgt, sg, i) {
		assert_false(sg_is_chain(sg));
		count++;
	}
	assert_int_equal(count, 300);
	assert_true(sg_is_last(sg_last(sgt.sgl, 300)));
	sg_free_table(&sgt);
	assert_null(sgt.sgl);
	sg_free_table(&sgt);	/* twice is harmless */
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void tables_from_pages_merge_contiguous_pages(void **state)
{
	(void)state;
	struct page *block = alloc_pages(GFP_KERNEL, 2);	/* four contiguous pages */
	struct page *other_block = alloc_pages(GFP_KERNEL, 2);
	struct page *other = other_block + 2;	/* never next to a page of block */
	struct page *pages[6] = { block, block + 1, block + 2, other, block + 3, other };
	struct sg_table sgt;

	assert_int_equal(sg_alloc_table_from_pages(&sgt, pages, 6, 100, 6 * PAGE_SIZE - 200, GFP_KERNEL), 0);
	/* Runs: block+0..2, other, block+3, other. */
	assert_int_equal(sgt.orig_nents, 4);
	assert_int_equal(sgt.nents, 4);
	assert_ptr_equal(sg_page(&sgt.sgl[0]), block);
	assert_int_equal(sgt.sgl[0].offset, 100);
	assert_int_equal(sgt.sgl[0].length, 3 * PAGE_SIZE - 100);
	assert_int_equal(sgt.sgl[1].length, PAGE_SIZE);
	assert_ptr_equal(sg_page(&sgt.sgl[2]), block + 3);
	assert_int_equal(sgt.sgl[3].length, PAGE_SIZE - 100);	/* the size ends 100 bytes early */
	assert_true(sg_is_last(&sgt.sgl[3]));
	sg_free_table(&sgt);

	/* A segment limit of two pages splits the first run. */
	assert_int_equal(sg_alloc_table_from_pages_segment(&sgt, pages, 3, 0, 3 * PAGE_SIZE, 2 * PAGE_SIZE + 5,
							   GFP_KERNEL), 0);
	assert_int_equal(sgt.orig_nents, 2);
	assert_int_equal(sgt.sgl[0].length, 2 * PAGE_SIZE);
	assert_int_equal(sgt.sgl[1].length, PAGE_SIZE);
	sg_free_table(&sgt);
	__free_pages(block, 2);
	__free_pages(other_block, 2);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void appends_merge_into_the_last_entry(void **state)
{
	(void)state;
	struct page *block = alloc_pages(GFP_KERNEL, 2);
	struct page *first[2] = { block, block + 1 }, *second[2] = { block + 2, block + 3 };
	struct sg_append_table append;

	memset(&append, 0, sizeof(append));
	assert_int_equal(sg_alloc_append_table_from_pages(&append, first, 2, 0, 2 * PAGE_SIZE, UINT_MAX, 2, GFP_KERNEL), 0);
	assert_int_equal(append.sgt.nents, 1);
	assert_int_equal(sg_alloc_append_table_from_pages(&append, second, 2, 0, 2 * PAGE_SIZE, UINT_MAX, 0, GFP_KERNEL), 0);
	assert_int_equal(append.sgt.nents, 1);
	assert_int_equal(append.sgt.sgl[0].length, 4 * PAGE_SIZE);
	assert_true(sg_is_last(append.prv));
	sg_free_append_table(&append);
	__free_pages(block, 2);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void copies_cross_entries_and_skip(void **state)
{
	(void)state;
	struct scatterlist sg[3];
	char *a = kzalloc(8, GFP_KERNEL), *b = kzalloc(8, GFP_KERNEL), *c = kzalloc(8, GFP_KERNEL);
	char out[32] = { 0 };

	sg_init_table(sg, 3);
	sg_set_buf(&sg[0], a, 4);
	sg_set_buf(&sg[1], b, 4);
	sg_set_buf(&sg[2], c, 4);
	assert_int_equal(sg_copy_from_buffer(sg, 3, "abcdefghijklmnop", 16), 12);
	assert_memory_equal(a, "abcd", 4);
	assert_memory_equal(b, "efgh", 4);
	assert_memory_equal(c, "ijkl", 4);
	assert_int_equal(sg_copy_to_buffer(sg, 3, out, 6), 6);
	assert_memory_equal(out, "abcdef", 6);
	assert_int_equal(sg_pcopy_to_buffer(sg, 3, out, 32, 5), 7);
	assert_memory_equal(out, "fghijkl", 7);
	assert_int_equal(sg_pcopy_from_buffer(sg, 3, "XY", 2, 3), 2);
	assert_memory_equal(a, "abcX", 4);
	assert_memory_equal(b, "Yfgh", 4);
	assert_int_equal(sg_zero_buffer(sg, 3, 2, 7), 2);
	assert_memory_equal(b, "Yfg", 3);
	assert_int_equal(b[3], 0);
	assert_int_equal(c[0], 0);
	assert_int_equal(sg_copy_buffer(sg, 2, out, 32, 0, true), 8);	/* only two entries */
	kfree(a);
	kfree(b);
	kfree(c);
}

static void page_iterators_walk_pages(void **state)
{
	(void)state;
	struct page *block = alloc_pages(GFP_KERNEL, 2);
	struct scatterlist sg[2];
	struct sg_page_iter piter;
	struct sg_dma_page_iter diter;
	struct page *seen[8];
	int n = 0;

	sg_init_table(sg, 2);
	sg_set_page(&sg[0], block, 2 * PAGE_SIZE, 0);
	sg_set_page(&sg[1], block + 2, PAGE_SIZE + 1, 0);	/* spills into a second page */
	for_each_sg_page(sg, &piter, 2, 0)
		seen[n++] = sg_page_iter_page(&piter);
	assert_int_equal(n, 4);
	assert_ptr_equal(seen[0], block);
	assert_ptr_equal(seen[3], block + 3);
	n = 0;
	for_each_sg_page(sg, &piter, 2, 3)	/* from the fourth page on */
		seen[n++] = sg_page_iter_page(&piter);
	assert_int_equal(n, 1);
	assert_ptr_equal(seen[0], block + 3);

	sg[0].dma_address = 0x10000;
	sg[0].dma_length = 2 * PAGE_SIZE;
	n = 0;
	for_each_sg_dma_page(sg, &diter, 1, 0)
		assert_int_equal(sg_page_iter_dma_address(&diter), 0x10000 + (dma_addr_t)(n++) * PAGE_SIZE);
	assert_int_equal(n, 2);
	__free_pages(block, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(init_table_zeroes_and_marks_the_end, clean_records),
		cmocka_unit_test_setup(chains_link_arrays, clean_records),
		cmocka_unit_test_setup(sg_alloc_table_chains_chunks_of_a_page, clean_records),
		cmocka_unit_test_setup(tables_from_pages_merge_contiguous_pages, clean_records),
		cmocka_unit_test_setup(appends_merge_into_the_last_entry, clean_records),
		cmocka_unit_test_setup(copies_cross_entries_and_skip, clean_records),
		cmocka_unit_test_setup(page_iterators_walk_pages, clean_records),
	};

	return cmocka_run_group_tests(tests, boot, shut_down);
}
