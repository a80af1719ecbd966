// SPDX-License-Identifier: MIT
// The error paths of the video codec prototype (examples/drivers/mfc.c): buffers and contexts that cannot
// be allocated or mapped, a probe whose common memory or firmware fails, ports that fault. Each comes back
// as an errno, logged as the driver logs it, with nothing left allocated or mapped.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <swiommu/swiommu.h>
#include "swiommu_test.h"
#include "examples_test.h"
#include "mfc.h"

#define CODEC	"/soc/codec-bus/codec@fe400000"

static struct mfc_dev *the_codec(void)
{
	struct mfc_dev *mfc = mfc_from_device(dev_at(CODEC));

	assert_non_null(mfc);
	return mfc;
}

struct buf_attempt {
	struct mfc_ctx *ctx;
	struct mfc_buf *buf;
};

static int try_buf(void *arg)
{
	struct buf_attempt *b = arg;

	b->buf = mfc_buf_alloc(b->ctx, SZ_64K, DMA_FROM_DEVICE);
	return IS_ERR(b->buf) ? (int)PTR_ERR(b->buf) : 0;
}

static void undo_buf(void *arg)
{
	struct buf_attempt *b = arg;

	mfc_buf_free(b->ctx, b->buf);
}

static void buffers_fail_cleanly_at_every_point(void **state)
{
	(void)state;
	static const char *const points[] = { "kmalloc", "alloc_pages", "iova", "iommu_map" };
	unsigned long debug = dma_debug_mark();
	struct buf_attempt b = { .ctx = mfc_open(the_codec()) };
	struct mfc_stats st;

	assert_false(IS_ERR(b.ctx));
	assert_int_equal(try_buf(&b), 0);
	undo_buf(&b);
	for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++)
		assert_true(sweep_fault_point(points[i], try_buf, undo_buf, &b) >= 1);
	mfc_get_stats(the_codec(), &st);
	assert_int_equal(st.buffers, 0);
	mfc_release(b.ctx);
	expect_dma_debug_clean(debug);
	assert_exit_leaks_nothing();
}

static void a_context_that_cannot_be_allocated(void **state)
{
	(void)state;
	struct mfc_stats st;

	swiommu_fail_nth("kmalloc", 1);
	assert_int_equal(PTR_ERR(mfc_open(the_codec())), -ENOMEM);
	mfc_get_stats(the_codec(), &st);
	assert_int_equal(st.contexts, 0);
}

static void the_probe_fails_cleanly_at_every_point(void **state)
{
	(void)state;
	static const char *const points[] = { "kmalloc", "alloc_pages", "iova", "iommu_map" };
	struct bind_attempt b = { .driver = &mfc_driver, .dev = dev_at(CODEC) };

	platform_driver_unregister(&mfc_driver);
	assert_int_equal(try_bind(&b), 0);
	undo_bind(&b);
	/* A failed block allocation falls back to 4 KiB pages, whose SysMMU tables stay with the domain. */
	for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++)
		assert_true(sweep_fault_point_tables_grow(points[i], try_bind, undo_bind, &b) >= 1);
	assert_true(swiommu_log_contains("swiommu-mfc fe400000.codec: failed to preallocate 8 MiB for the firmware "
					 "and context buffers"));
	assert_true(swiommu_log_contains("swiommu-mfc fe400000.codec: failed to configure DMA memory"));
	assert_int_equal(platform_driver_register(&mfc_driver), 0);
	assert_non_null(mfc_from_device(dev_at(CODEC)));
	assert_exit_leaks_nothing();
}

static void a_port_that_faults_fails_the_encode(void **state)
{
	(void)state;
	struct mfc_ctx *ctx = mfc_open(the_codec());
	struct mfc_buf *stream = mfc_buf_alloc(ctx, SZ_16K, DMA_FROM_DEVICE);
	struct page *pg = alloc_page(GFP_KERNEL);
	unsigned long warns = swiommu_warn_count();
	struct sg_table sgt;
	struct mfc_stats st;
	dma_addr_t stale;
	char want[96];

	assert_false(IS_ERR(stream));
	assert_int_equal(sg_alloc_table_from_pages(&sgt, &pg, 1, 0, PAGE_SIZE, GFP_KERNEL), 0);
	assert_int_equal(mfc_import_frame(ctx, &sgt, PAGE_SIZE, &stale), 0);
	mfc_release_frame(ctx, &sgt);
	/* Encoding a frame after its import was released: the left port's SysMMU has nothing there. */
	assert_int_equal(mfc_encode(ctx, stale, PAGE_SIZE, 1, stream), -EFAULT);
	snprintf(want, sizeof(want), "exynos-sysmmu fe410000.sysmmu: fe400000.codec: AR PAGE FAULT occurred at %#llx",
		 (unsigned long long)stale);
	assert_true(swiommu_log_contains(want));
	/* Upstream exynos-iommu BUG()s on an unrecovered fault; swiommu makes it a WARN record. */
	assert_int_equal(swiommu_warn_count(), warns + 1);
	mfc_get_stats(the_codec(), &st);
	assert_int_equal(st.errors, 1);
	assert_int_equal(st.encoded, 0);
	/* A stream buffer too small to encode into; a frame too small for a stream's payload. */
	struct mfc_buf *small = mfc_buf_alloc(ctx, 128, DMA_FROM_DEVICE);
	u8 payload[256] = { 1, 2, 3 };
	u32 seq;

	assert_false(IS_ERR(small));
	assert_int_equal(mfc_encode(ctx, stream->dma, 256, 1, small), -EINVAL);
	struct mfc_buf *in = mfc_buf_alloc(ctx, SZ_4K, DMA_TO_DEVICE);

	assert_false(IS_ERR(in));
	mfc_stream_fill(in, 3, payload, sizeof(payload));
	mfc_stream_prepare(ctx, in);
	assert_int_equal(mfc_decode(ctx, in, small, &seq), -EINVAL);
	mfc_buf_free(ctx, in);
	mfc_buf_free(ctx, small);
	mfc_buf_free(ctx, stream);
	sg_free_table(&sgt);
	__free_page(pg);
	mfc_release(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(buffers_fail_cleanly_at_every_point, boot, shut_down),
		cmocka_unit_test_setup_teardown(a_context_that_cannot_be_allocated, boot, shut_down),
		cmocka_unit_test_setup_teardown(the_probe_fails_cleanly_at_every_point, boot, shut_down),
		cmocka_unit_test_setup_teardown(a_port_that_faults_fails_the_encode, boot, shut_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
