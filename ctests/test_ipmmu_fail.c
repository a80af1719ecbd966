// SPDX-License-Identifier: MIT
// The error paths of the IOMMU driver written in C (examples/drivers/ipmmu.c): a domain that cannot be
// allocated, a first attach whose table cannot be allocated (the context goes back), an attach the core
// refuses, a map that fails half-way, a DMA-API mapping that fails behind it. On a board with a free
// context, so that a fresh domain can take one.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <swiommu/swiommu.h>
#include "swiommu_test.h"
#include "examples_test.h"
#include "ipmmu.h"

#define ROOT	"/soc/iommu@fe900000"
#define VIN(n)	"/soc/vin@fea" #n "0000"

/* The default board with a root of 8 contexts: 4 default domains leave 4 free. */
static const char *eight_context_board(void)
{
	static char text[16384];
	char path[256];
	FILE *f;
	size_t n;
	char *at;

	snprintf(path, sizeof(path), "%s/examples/boards/default.dts", SWIOMMU_SOURCE_DIR);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = 0;
	at = strstr(text, "swiommu,num-contexts = <4>;");
	assert_non_null(at);
	at[24] = '8';
	return swiommu_test_write_board("ipmmu-8ctx", text);
}

static int boot_eight_contexts(void **state)
{
	(void)state;
	swiommu_warn_reset();
	swiommu_log_reset();
	return swiommu_init(eight_context_board());
}

static unsigned int contexts_used(void)
{
	struct ipmmu_stats st;

	assert_int_equal(ipmmu_get_stats(dev_at(ROOT), &st), 0);
	return st.contexts_used;
}

static void a_domain_that_cannot_be_allocated(void **state)
{
	(void)state;
	swiommu_fail_nth("kmalloc", 1);
	assert_int_equal(PTR_ERR(iommu_paging_domain_alloc(dev_at(VIN(2)))), -ENOMEM);
	assert_int_equal(contexts_used(), 4);
}

struct attach_attempt {
	struct device *dev;
	struct iommu_domain *domain;
};

static int try_attach(void *arg)
{
	struct attach_attempt *a = arg;
	int ret;

	a->domain = iommu_paging_domain_alloc(a->dev);
	if (IS_ERR(a->domain))
		return (int)PTR_ERR(a->domain);
	ret = iommu_attach_device(a->domain, a->dev);
	if (ret)
		iommu_domain_free(a->domain);
	return ret;
}

static void undo_attach(void *arg)
{
	struct attach_attempt *a = arg;

	iommu_detach_device(a->domain, a->dev);
	iommu_domain_free(a->domain);
}

static void a_first_attach_that_fails_gives_the_context_back(void **state)
{
	(void)state;
	static const char *const points[] = { "kmalloc", "alloc_pages", "attach" };
	struct attach_attempt a = { .dev = dev_at(VIN(2)) };

	assert_int_equal(contexts_used(), 4);
	assert_int_equal(try_attach(&a), 0);
	assert_int_equal(contexts_used(), 5);
	undo_attach(&a);
	assert_int_equal(contexts_used(), 4);
	for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
		assert_true(sweep_fault_point(points[i], try_attach, undo_attach, &a) >= 1);
		assert_int_equal(contexts_used(), 4);
		assert_ptr_equal(iommu_get_domain_for_dev(a.dev), iommu_get_dma_domain(a.dev));
	}
	/* The table could not be allocated: the context was taken and given back. */
	assert_true(swiommu_log_contains("swiommu-vin fea20000.vin: Unable to initialize IPMMU context"));
	assert_exit_leaks_nothing();
}

static void a_map_that_fails_half_way_is_rolled_back(void **state)
{
	(void)state;
	struct device *vin = dev_at(VIN(2));
	struct iommu_domain *d = iommu_paging_domain_alloc(vin);
	struct page *pg = alloc_pages(GFP_KERNEL, 2);
	char byte;

	assert_false(IS_ERR(d));
	assert_int_equal(iommu_attach_device(d, vin), 0);
	/* 16 KiB at 0x7000, one batch of 4 KiB pages, which fails: nothing of it stays mapped. */
	swiommu_fail_nth("iommu_map", 1);
	assert_int_equal(iommu_map(d, 0x7000, page_to_phys(pg), SZ_16K, IOMMU_READ, GFP_KERNEL), -ENOMEM);
	assert_int_equal(iommu_iova_to_phys(d, 0x7000), 0);
	assert_int_equal(iommu_iova_to_phys(d, 0x9000), 0);
	assert_int_equal(swiommu_dma_read(vin, 0, 0x7000, &byte, 1), -EFAULT);
	/* Nothing there, nothing to unmap; a map beyond the 32-bit aperture is refused. */
	assert_int_equal(iommu_unmap(d, 0x7000, SZ_16K), 0);
	assert_true(iommu_map(d, SZ_4G, page_to_phys(pg), SZ_4K, IOMMU_READ, GFP_KERNEL) < 0);
	iommu_detach_device(d, vin);
	iommu_domain_free(d);
	__free_pages(pg, 2);
	assert_exit_leaks_nothing();
}

struct dma_attempt {
	struct device *dev;
	void *buf;
	dma_addr_t addr;
};

static int try_dma_map(void *arg)
{
	struct dma_attempt *m = arg;

	m->addr = dma_map_single(m->dev, m->buf, SZ_16K, DMA_TO_DEVICE);
	return dma_mapping_error(m->dev, m->addr);
}

static void undo_dma_map(void *arg)
{
	struct dma_attempt *m = arg;

	dma_unmap_single(m->dev, m->addr, SZ_16K, DMA_TO_DEVICE);
}

static void dma_api_mappings_behind_it_fail_cleanly(void **state)
{
	(void)state;
	unsigned long debug = dma_debug_mark();
	struct dma_attempt m = { .dev = dev_at(VIN(5)), .buf = kmalloc(SZ_16K, GFP_KERNEL) };

	assert_int_equal(try_dma_map(&m), 0);
	undo_dma_map(&m);
	assert_true(sweep_fault_point("iova", try_dma_map, undo_dma_map, &m) >= 1);
	assert_true(sweep_fault_point("iommu_map", try_dma_map, undo_dma_map, &m) >= 1);
	kfree(m.buf);
	expect_dma_debug_clean(debug);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_domain_that_cannot_be_allocated, boot, shut_down),
		cmocka_unit_test_setup_teardown(a_first_attach_that_fails_gives_the_context_back, boot_eight_contexts,
						shut_down),
		cmocka_unit_test_setup_teardown(a_map_that_fails_half_way_is_rolled_back, boot_eight_contexts, shut_down),
		cmocka_unit_test_setup_teardown(dma_api_mappings_behind_it_fail_cleanly, boot, shut_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
