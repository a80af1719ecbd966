// SPDX-License-Identifier: MIT
// The video codec prototype (examples/drivers/mfc.c): two memory ports behind two Exynos SysMMUs, a
// 256 MiB DMA window with its first MiB reserved for firmware, common memory for the firmware and the
// contexts, non-coherent stream and frame buffers with the driver's cache maintenance, a missing sync
// caught, a buffer set that does not fit the window. Error paths: test_codec_fail.c.
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
#include <linux/sizes.h>
#include <swiommu/swiommu.h>
#include "swiommu_test.h"
#include "examples_test.h"
#include "mfc.h"

#define CODEC	"/soc/codec-bus/codec@fe400000"
#define PAYLOAD	(40 * SZ_1K + 123)

static struct mfc_dev *the_codec(void)
{
	struct mfc_dev *mfc = mfc_from_device(dev_at(CODEC));

	assert_non_null(mfc);
	return mfc;
}

static struct mfc_ctx *open_ctx(void)
{
	struct mfc_ctx *ctx = mfc_open(the_codec());

	assert_false(IS_ERR(ctx));
	return ctx;
}

static struct mfc_buf *buf_alloc(struct mfc_ctx *ctx, size_t size, enum dma_data_direction dir)
{
	struct mfc_buf *buf = mfc_buf_alloc(ctx, size, dir);

	assert_false(IS_ERR(buf));
	return buf;
}

static void firmware_and_buffers_sit_inside_the_window(void **state)
{
	(void)state;
	struct device *dev = dev_at(CODEC);
	struct mfc_ctx *ctx = open_ctx();
	struct mfc_buf *buf = buf_alloc(ctx, SZ_64K, DMA_TO_DEVICE);
	struct mfc_stats st;

	/* The window is the bus's dma-ranges: 256 MiB; its first MiB belongs to the firmware. */
	assert_int_equal(dev->bus_dma_limit, SZ_256M - 1);
	assert_false(dev->dma_coherent);
	mfc_get_stats(the_codec(), &st);
	assert_int_equal(st.mem_size, SZ_8M);
	assert_true(st.mem_base >= SZ_1M && st.mem_base + st.mem_size <= SZ_256M);
	assert_int_equal(st.fw_dma, st.mem_base);
	assert_int_equal(st.fw_size, SZ_1M);
	assert_true(swiommu_log_contains("swiommu-mfc fe400000.codec: preallocated 8 MiB buffer for the firmware and "
					 "context buffers"));
	/* A context's buffer comes from the common memory, 64 KiB aligned, after the firmware. */
	assert_true(mfc_ctx_buffer(ctx) >= st.fw_dma + st.fw_size);
	assert_true(mfc_ctx_buffer(ctx) < st.mem_base + st.mem_size);
	assert_int_equal(mfc_ctx_buffer(ctx) % SZ_64K, 0);
	assert_true(buf->dma >= SZ_1M && buf->dma + SZ_64K <= SZ_256M);
	/* The IOVAs are translated: the pages are anywhere in RAM. */
	assert_int_equal(iommu_iova_to_phys(iommu_get_dma_domain(dev), buf->dma), virt_to_phys(buf->virt));
	mfc_buf_free(ctx, buf);
	mfc_release(ctx);
}

static void one_domain_translates_both_ports(void **state)
{
	(void)state;
	struct device *dev = dev_at(CODEC);
	struct swiommu_iotlb_stats l, r;
	struct mfc_stats st;
	char sig[24];

	assert_ptr_equal(swiommu_iommu_channel_domain(dev, MFC_PORT_L), swiommu_iommu_channel_domain(dev, MFC_PORT_R));
	assert_ptr_equal(swiommu_iommu_channel_domain(dev, MFC_PORT_L), iommu_get_dma_domain(dev));
	/* Two SysMMUs, two IOTLBs; at boot each port fetched the firmware's start. */
	assert_int_equal(swiommu_iommu_iotlb_stats(dev, MFC_PORT_L, &l), 0);
	assert_int_equal(swiommu_iommu_iotlb_stats(dev, MFC_PORT_R, &r), 0);
	assert_int_equal(l.capacity, 64);
	assert_true(l.misses >= 1 && r.misses >= 1);
	mfc_get_stats(the_codec(), &st);
	assert_int_equal(swiommu_dma_read(dev, MFC_PORT_R, st.fw_dma, sig, sizeof(sig)), 0);
	assert_string_equal(sig, "swiommu MFC v8 firmware");
}

static void decode_reads_one_port_and_writes_the_other(void **state)
{
	(void)state;
	unsigned long debug = dma_debug_mark();
	struct device *dev = dev_at(CODEC);
	struct mfc_ctx *ctx = open_ctx();
	struct mfc_buf *stream = buf_alloc(ctx, PAYLOAD + SZ_4K, DMA_TO_DEVICE);
	struct mfc_buf *frame = buf_alloc(ctx, PAYLOAD, DMA_FROM_DEVICE);
	static u8 payload[PAYLOAD];
	struct swiommu_iotlb_stats l0, r0, l1, r1;
	struct mfc_stats st;
	u32 seq = 0;

	fill_pattern(payload, sizeof(payload), 8);
	mfc_stream_fill(stream, 41, payload, sizeof(payload));
	mfc_stream_prepare(ctx, stream);
	swiommu_iommu_iotlb_stats(dev, MFC_PORT_L, &l0);
	swiommu_iommu_iotlb_stats(dev, MFC_PORT_R, &r0);
	assert_int_equal(mfc_decode(ctx, stream, frame, &seq), 0);
	assert_int_equal(seq, 41);
	assert_true(has_pattern(frame->virt, PAYLOAD, 8));
	/* The left port read the stream, the right port wrote the frame. */
	swiommu_iommu_iotlb_stats(dev, MFC_PORT_L, &l1);
	swiommu_iommu_iotlb_stats(dev, MFC_PORT_R, &r1);
	assert_true(l1.lookups - l0.lookups >= PAYLOAD / PAGE_SIZE);
	assert_true(r1.lookups - r0.lookups >= PAYLOAD / PAGE_SIZE);
	mfc_get_stats(the_codec(), &st);
	assert_int_equal(st.decoded, 1);
	assert_int_equal(st.errors, 0);
	mfc_buf_free(ctx, frame);
	mfc_buf_free(ctx, stream);
	mfc_release(ctx);
	expect_dma_debug_clean(debug);
}

static void a_missing_sync_is_caught(void **state)
{
	(void)state;
	unsigned long debug = dma_debug_mark();
	struct mfc_ctx *ctx = open_ctx();
	struct mfc_buf *stream = buf_alloc(ctx, PAYLOAD + SZ_4K, DMA_TO_DEVICE);
	struct mfc_buf *frame = buf_alloc(ctx, PAYLOAD, DMA_FROM_DEVICE);
	static u8 payload[PAYLOAD];
	struct mfc_stats st;
	u32 seq = 0;

	/* Written through the CPU's cache, never cleaned: the codec reads what memory held. */
	fill_pattern(payload, sizeof(payload), 1);
	mfc_stream_fill(stream, 1, payload, sizeof(payload));
	assert_int_equal(mfc_decode(ctx, stream, frame, &seq), -EIO);
	assert_true(swiommu_log_contains("swiommu-mfc fe400000.codec: decode error: no stream header at"));
	mfc_get_stats(the_codec(), &st);
	assert_int_equal(st.errors, 1);
	/* Synced, it decodes. */
	mfc_stream_prepare(ctx, stream);
	assert_int_equal(mfc_decode(ctx, stream, frame, &seq), 0);
	assert_true(has_pattern(frame->virt, PAYLOAD, 1));
	/* The next frame in the same buffer, synced only as far as its header (a driver that syncs the
	 * bytes it parsed): the codec reads the new header over the old payload, a checksum error. */
	fill_pattern(payload, sizeof(payload), 2);
	mfc_stream_fill(stream, 2, payload, sizeof(payload));
	dma_sync_single_range_for_device(dev_at(CODEC), stream->dma, 0, sizeof(struct mfc_stream_header),
					 DMA_TO_DEVICE);
	assert_int_equal(mfc_decode(ctx, stream, frame, &seq), -EIO);
	assert_true(swiommu_log_contains("decode error: frame 2 checksum"));
	mfc_buf_free(ctx, frame);
	mfc_buf_free(ctx, stream);
	mfc_release(ctx);
	/* dma-debug has no check for a missing sync (6.x dropped debug_dma_assert_idle): nothing to report. */
	expect_dma_debug_clean(debug);
}

static void the_cpu_sees_a_frame_only_after_the_sync(void **state)
{
	(void)state;
	struct device *dev = dev_at(CODEC);
	struct mfc_ctx *ctx = open_ctx();
	struct mfc_buf *frame = buf_alloc(ctx, SZ_4K, DMA_FROM_DEVICE);

	/* What the driver's dma_sync_single_for_cpu() in mfc_decode() is for: the device writes memory, the
	 * CPU's cache still holds the old lines. */
	memset(frame->virt, 0x11, SZ_4K);
	dma_sync_single_for_device(dev, frame->dma, SZ_4K, DMA_FROM_DEVICE);
	assert_int_equal(swiommu_dma_write(dev, MFC_PORT_R, frame->dma, "decoded", 8), 0);
	assert_int_equal(((u8 *)frame->virt)[0], 0x11);
	dma_sync_single_for_cpu(dev, frame->dma, SZ_4K, DMA_FROM_DEVICE);
	assert_string_equal((char *)frame->virt, "decoded");
	mfc_buf_free(ctx, frame);
	mfc_release(ctx);
}

static void a_buffer_set_beyond_the_window_fails_cleanly(void **state)
{
	(void)state;
	unsigned long warns = swiommu_warn_count();
	struct mfc_ctx *ctx = open_ctx();
	long live = swiommu_mem_check_leaks(false);

	/* 64 x 4 MiB: the window (255 MiB free, 8 of them the common memory's) cannot hold them all. */
	assert_int_equal(mfc_alloc_dpb(ctx, 64, SZ_4M), -ENOMEM);
	assert_int_equal(mfc_dpb_count(ctx), 0);
	assert_true(swiommu_log_contains("cannot allocate 64 DPB buffers of 4096 KiB"));
	assert_int_equal(swiommu_warn_count(), warns);
	assert_int_equal(swiommu_mem_check_leaks(false), live);
	/* What fits does. */
	assert_int_equal(mfc_alloc_dpb(ctx, 16, SZ_4M), 0);
	assert_int_equal(mfc_dpb_count(ctx), 16);
	assert_int_equal(mfc_alloc_dpb(ctx, 1, SZ_4K), -EBUSY);
	mfc_release(ctx);
	assert_exit_leaks_nothing();
}

static void contexts_come_from_the_common_memory(void **state)
{
	(void)state;
	struct mfc_ctx *ctx[17];
	struct mfc_stats st;

	for (int i = 0; i < 16; i++) {
		ctx[i] = open_ctx();
		for (int j = 0; j < i; j++)
			assert_int_not_equal(mfc_ctx_buffer(ctx[i]), mfc_ctx_buffer(ctx[j]));
	}
	assert_int_equal(PTR_ERR(mfc_open(the_codec())), -EBUSY);
	mfc_get_stats(the_codec(), &st);
	assert_int_equal(st.contexts, 16);
	/* A context's buffer is given back and handed out again. */
	dma_addr_t freed = mfc_ctx_buffer(ctx[5]);

	mfc_release(ctx[5]);
	ctx[5] = open_ctx();
	assert_int_equal(mfc_ctx_buffer(ctx[5]), freed);
	/* Unbinding releases what is still open. */
	platform_driver_unregister(&mfc_driver);
	assert_int_equal(platform_driver_register(&mfc_driver), 0);
	mfc_get_stats(the_codec(), &st);
	assert_int_equal(st.contexts, 0);
	assert_exit_leaks_nothing();
}

static void the_demo_scenario_runs_clean(void **state)
{
	(void)state;
	struct swiommu_example_report r;
	int ret = swiommu_example_codec_run(&r);

	assert_scenario_clean(&r, ret);
	assert_int_equal(r.transfers, 4);
	assert_int_equal(r.errors, 2);
	assert_true(r.iotlb_lookups == r.iotlb_hits + r.iotlb_misses);
	assert_int_equal(swiommu_example_codec_run(&r), 0);
	assert_exit_leaks_nothing();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(firmware_and_buffers_sit_inside_the_window, boot, shut_down),
		cmocka_unit_test_setup_teardown(one_domain_translates_both_ports, boot, shut_down),
		cmocka_unit_test_setup_teardown(decode_reads_one_port_and_writes_the_other, boot, shut_down),
		cmocka_unit_test_setup_teardown(a_missing_sync_is_caught, boot, shut_down),
		cmocka_unit_test_setup_teardown(the_cpu_sees_a_frame_only_after_the_sync, boot, shut_down),
		cmocka_unit_test_setup_teardown(a_buffer_set_beyond_the_window_fails_cleanly, boot, shut_down),
		cmocka_unit_test_setup_teardown(contexts_come_from_the_common_memory, boot, shut_down),
		cmocka_unit_test_setup_teardown(the_demo_scenario_runs_clean, boot, shut_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
