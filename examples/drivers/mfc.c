// SPDX-License-Identifier: MIT
/*
 * A video codec driver written as drivers/media/platform/samsung/s5p-mfc is: two memory ports (bus
 * masters), each behind its own SysMMU, which the IOMMU core programs with one domain. With an IOMMU the
 * driver takes s5p_mfc_configure_common_memory()'s path: one coherent preallocation for the firmware and
 * the context buffers, carved with a bitmap (s5p_mfc_alloc_priv_buf), whose DMA base must not be 0. The
 * codec sits in a 256 MiB DMA window (its bus's dma-ranges), which bounds every address it is given.
 *
 * The codec is not DMA-coherent: stream and frame buffers are cached (dma_alloc_noncoherent(), as
 * vb2-dma-contig's non-coherent buffers) and synced by the driver as vb2's buf_prepare and buf_finish do;
 * a stream the CPU wrote but nobody synced reaches the hardware as whatever memory held before. Buffers
 * exported by another driver are imported with dma_map_sgtable() (vb2_dc_map_dmabuf). The hardware is
 * simulated at the end of this file: it reads and writes through its ports with swiommu_dma_read/write.
 */
#include <string.h>
#include <linux/bitops.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/of_device.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <swiommu/dma.h>
#include "mfc.h"

#define MFC_NUM_CONTEXTS	16
#define MFC_BASE_ALIGN_ORDER	17
#define MFC_MEM_SIZE		SZ_8M
#define MFC_FW_SIGNATURE	"swiommu MFC v8 firmware"

struct mfc_variant {
	unsigned int port_num;
	size_t fw_size;
	size_t ctx_size;
};

/* A buffer in the common memory (firmware, contexts). */
struct mfc_priv_buf {
	void *virt;
	dma_addr_t dma;
	size_t size;
};

struct mfc_dev {
	struct device *dev;
	const struct mfc_variant *variant;
	int irq;
	void *mem_virt;
	dma_addr_t mem_base;
	size_t mem_size;
	DECLARE_BITMAP(mem_bitmap, MFC_MEM_SIZE >> PAGE_SHIFT);
	dma_addr_t dma_base[2];
	struct mfc_priv_buf fw_buf;
	struct mfc_ctx *ctx[MFC_NUM_CONTEXTS];
	struct mfc_stats stats;
};

struct mfc_ctx {
	struct mfc_dev *dev;
	unsigned int num;
	struct mfc_priv_buf ctx;
	struct mfc_buf **dpb;
	unsigned int dpb_count;
};

static int mfc_hw_boot(struct mfc_dev *mfc);
static int mfc_hw_decode(struct mfc_ctx *ctx, struct mfc_buf *stream, struct mfc_buf *frame, u32 *seq);
static int mfc_hw_encode(struct mfc_ctx *ctx, dma_addr_t src, size_t len, u32 seq, struct mfc_buf *stream);

/* bitmap_find_next_zero_area(): the first run of @nr clear bits starting at a multiple of @align + 1. */
static unsigned long mfc_find_zero_area(const unsigned long *map, unsigned long size, unsigned long nr,
					unsigned long align)
{
	unsigned long start = 0, end, busy;

	for (;;) {
		start = find_next_zero_bit(map, size, start);
		start = (start + align) & ~align;
		end = start + nr;
		if (end > size)
			return size;
		busy = find_next_bit(map, end, start);
		if (busy >= end)
			return start;
		start = busy + 1;
	}
}

/* s5p_mfc_alloc_priv_buf() with common memory: a 64 KiB-aligned piece of the preallocation. */
static int mfc_alloc_priv_buf(struct mfc_dev *mfc, struct mfc_priv_buf *b)
{
	unsigned long bits = mfc->mem_size >> PAGE_SHIFT;
	unsigned long count = DIV_ROUND_UP(b->size, PAGE_SIZE);
	unsigned long align = (SZ_64K >> PAGE_SHIFT) - 1;
	unsigned long start = mfc_find_zero_area(mfc->mem_bitmap, bits, count, align);

	if (start >= bits) {
		dev_err(mfc->dev, "no space left in the common memory for %zu bytes\n", b->size);
		return -ENOMEM;
	}
	bitmap_set(mfc->mem_bitmap, start, count);
	b->virt = mfc->mem_virt + (start << PAGE_SHIFT);
	b->dma = mfc->mem_base + (start << PAGE_SHIFT);
	return 0;
}

static void mfc_release_priv_buf(struct mfc_dev *mfc, struct mfc_priv_buf *b)
{
	bitmap_clear(mfc->mem_bitmap, (b->dma - mfc->mem_base) >> PAGE_SHIFT, DIV_ROUND_UP(b->size, PAGE_SIZE));
	b->virt = NULL;
	b->dma = 0;
}

static void mfc_unconfigure_common_memory(void *data)
{
	struct mfc_dev *mfc = data;

	dma_free_coherent(mfc->dev, mfc->mem_size, mfc->mem_virt, mfc->mem_base);
}

static int mfc_configure_common_memory(struct mfc_dev *mfc)
{
	struct device *dev = mfc->dev;
	int ret;

	mfc->mem_size = MFC_MEM_SIZE;
	mfc->mem_virt = dma_alloc_coherent(dev, mfc->mem_size, &mfc->mem_base, GFP_KERNEL);
	if (!mfc->mem_virt) {
		dev_err(dev, "failed to preallocate %zu MiB for the firmware and context buffers\n",
			mfc->mem_size / SZ_1M);
		return -ENOMEM;
	}
	ret = devm_add_action_or_reset(dev, mfc_unconfigure_common_memory, mfc);
	if (ret)
		return ret;
	bitmap_zero(mfc->mem_bitmap, MFC_MEM_SIZE >> PAGE_SHIFT);
	mfc->dma_base[MFC_PORT_L] = mfc->mem_base;
	mfc->dma_base[MFC_PORT_R] = mfc->mem_base;

	/* MFC hardware cannot handle 0 as a base address: mark the first 128K used. */
	if (mfc->mem_base == (dma_addr_t)0) {
		unsigned int offset = 1 << MFC_BASE_ALIGN_ORDER;

		bitmap_set(mfc->mem_bitmap, 0, offset >> PAGE_SHIFT);
		mfc->dma_base[MFC_PORT_L] += offset;
		mfc->dma_base[MFC_PORT_R] += offset;
	}
	mfc->fw_buf.size = mfc->variant->fw_size;
	ret = mfc_alloc_priv_buf(mfc, &mfc->fw_buf);
	if (ret)
		return ret;
	dma_set_max_seg_size(dev, DMA_BIT_MASK(32));
	dev_info(dev, "preallocated %zu MiB buffer for the firmware and context buffers\n", mfc->mem_size / SZ_1M);
	return 0;
}

/* s5p_mfc_load_firmware(): request_firmware() has nothing to read here, so the image is made up. */
static void mfc_load_firmware(struct mfc_dev *mfc)
{
	u8 *fw = mfc->fw_buf.virt;

	memcpy(fw, MFC_FW_SIGNATURE, sizeof(MFC_FW_SIGNATURE));
	for (size_t i = sizeof(MFC_FW_SIGNATURE); i < mfc->fw_buf.size; i++)
		fw[i] = (u8)(i * 7);
}

/**
 * mfc_from_device() - the codec driver's state of a device.
 * @dev: the device.
 *
 * Return: the state, or NULL when @dev is not bound to this driver.
 */
struct mfc_dev *mfc_from_device(struct device *dev)
{
	if (!dev || dev->driver != &mfc_driver.driver)
		return NULL;
	return dev_get_drvdata(dev);
}

/**
 * mfc_open() - open a codec instance (a V4L2 file): its context buffer comes from the common memory.
 * @mfc: the codec.
 *
 * Return: the context, or ERR_PTR(-EBUSY) when every instance is taken, ERR_PTR(-ENOMEM).
 */
struct mfc_ctx *mfc_open(struct mfc_dev *mfc)
{
	struct mfc_ctx *ctx;
	unsigned int num;
	int ret;

	for (num = 0; num < MFC_NUM_CONTEXTS && mfc->ctx[num]; num++)
		;
	if (num == MFC_NUM_CONTEXTS)
		return ERR_PTR(-EBUSY);
	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return ERR_PTR(-ENOMEM);
	ctx->dev = mfc;
	ctx->num = num;
	ctx->ctx.size = mfc->variant->ctx_size;
	ret = mfc_alloc_priv_buf(mfc, &ctx->ctx);
	if (ret) {
		kfree(ctx);
		return ERR_PTR(ret);
	}
	memset(ctx->ctx.virt, 0, ctx->ctx.size);
	mfc->ctx[num] = ctx;
	mfc->stats.contexts++;
	return ctx;
}

/**
 * mfc_release() - close an instance: its decoded picture buffers and context buffer go.
 * @ctx: the context.
 */
void mfc_release(struct mfc_ctx *ctx)
{
	struct mfc_dev *mfc = ctx->dev;

	mfc_free_dpb(ctx);
	mfc_release_priv_buf(mfc, &ctx->ctx);
	mfc->ctx[ctx->num] = NULL;
	mfc->stats.contexts--;
	kfree(ctx);
}

/**
 * mfc_ctx_buffer() - where the hardware finds an instance's context.
 * @ctx: the context.
 *
 * Return: its DMA address in the common memory.
 */
dma_addr_t mfc_ctx_buffer(struct mfc_ctx *ctx)
{
	return ctx->ctx.dma;
}

/**
 * mfc_buf_alloc() - a cached stream or frame buffer for the codec.
 * @ctx: the context.
 * @size: bytes.
 * @dir: DMA_TO_DEVICE for a stream to decode, DMA_FROM_DEVICE for a frame or an encoded stream.
 *
 * Return: the buffer, or ERR_PTR(-ENOMEM) when the memory or the DMA window runs out.
 */
struct mfc_buf *mfc_buf_alloc(struct mfc_ctx *ctx, size_t size, enum dma_data_direction dir)
{
	struct mfc_dev *mfc = ctx->dev;
	struct mfc_buf *buf;

	buf = kzalloc(sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	buf->size = size;
	buf->dir = dir;
	buf->virt = dma_alloc_noncoherent(mfc->dev, size, &buf->dma, dir, GFP_KERNEL);
	if (!buf->virt) {
		kfree(buf);
		return ERR_PTR(-ENOMEM);
	}
	mfc->stats.buffers++;
	return buf;
}

/**
 * mfc_buf_free() - free a buffer from mfc_buf_alloc().
 * @ctx: the context.
 * @buf: the buffer.
 */
void mfc_buf_free(struct mfc_ctx *ctx, struct mfc_buf *buf)
{
	dma_free_noncoherent(ctx->dev->dev, buf->size, buf->virt, buf->dma, buf->dir);
	ctx->dev->stats.buffers--;
	kfree(buf);
}

/**
 * mfc_alloc_dpb() - allocate the decoded picture buffers a stream needs (all or none).
 * @ctx: the context (one without DPB buffers).
 * @count: how many.
 * @size: bytes each.
 *
 * Return: 0; -EBUSY when the context has them already; -ENOMEM when they do not all fit in memory or in
 * the codec's DMA window (what was allocated is freed again).
 */
int mfc_alloc_dpb(struct mfc_ctx *ctx, unsigned int count, size_t size)
{
	unsigned int i;

	if (ctx->dpb)
		return -EBUSY;
	ctx->dpb = kcalloc(count, sizeof(*ctx->dpb), GFP_KERNEL);
	if (!ctx->dpb)
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		ctx->dpb[i] = mfc_buf_alloc(ctx, size, DMA_FROM_DEVICE);
		if (IS_ERR(ctx->dpb[i]))
			break;
	}
	ctx->dpb_count = i;
	if (i < count) {
		dev_err(ctx->dev->dev, "cannot allocate %u DPB buffers of %zu KiB: %u fit in the DMA window\n",
			count, size / SZ_1K, i);
		mfc_free_dpb(ctx);
		return -ENOMEM;
	}
	return 0;
}

/**
 * mfc_free_dpb() - free a context's decoded picture buffers.
 * @ctx: the context.
 */
void mfc_free_dpb(struct mfc_ctx *ctx)
{
	for (unsigned int i = 0; i < ctx->dpb_count; i++)
		mfc_buf_free(ctx, ctx->dpb[i]);
	kfree(ctx->dpb);
	ctx->dpb = NULL;
	ctx->dpb_count = 0;
}

/**
 * mfc_dpb_count() - how many decoded picture buffers a context holds.
 * @ctx: the context.
 *
 * Return: the count.
 */
unsigned int mfc_dpb_count(struct mfc_ctx *ctx)
{
	return ctx->dpb_count;
}

/**
 * mfc_stream_fill() - what userspace does: write one frame's stream into a buffer, through the CPU cache.
 * @buf: a DMA_TO_DEVICE buffer.
 * @seq: the frame's sequence number.
 * @payload: the bytes.
 * @len: how many (the header must fit too).
 */
void mfc_stream_fill(struct mfc_buf *buf, u32 seq, const void *payload, size_t len)
{
	struct mfc_stream_header hdr = { .magic = MFC_STREAM_MAGIC, .seq = seq, .len = (u32)len };
	const u8 *p = payload;

	for (size_t i = 0; i < len; i++)
		hdr.csum += p[i];
	memcpy(buf->virt, &hdr, sizeof(hdr));
	memcpy((u8 *)buf->virt + sizeof(hdr), payload, len);
}

/**
 * mfc_stream_prepare() - vb2's buf_prepare for a stream: write the CPU's cache lines back so the
 * codec reads what was written.
 * @ctx: the context.
 * @stream: the buffer.
 */
void mfc_stream_prepare(struct mfc_ctx *ctx, struct mfc_buf *stream)
{
	dma_sync_single_for_device(ctx->dev->dev, stream->dma, stream->size, DMA_TO_DEVICE);
}

/* vb2's buf_prepare for a buffer the hardware writes: no dirty line of it may be written back over it. */
static void mfc_out_prepare(struct mfc_ctx *ctx, struct mfc_buf *out)
{
	dma_sync_single_for_device(ctx->dev->dev, out->dma, out->size, DMA_FROM_DEVICE);
}

/* vb2's buf_finish after the hardware ran: the CPU reads what it wrote; the run is counted. */
static int mfc_out_finish(struct mfc_ctx *ctx, struct mfc_buf *out, int ret, unsigned long *done)
{
	dma_sync_single_for_cpu(ctx->dev->dev, out->dma, out->size, DMA_FROM_DEVICE);
	if (ret) {
		ctx->dev->stats.errors++;
		return ret;
	}
	(*done)++;
	return 0;
}

/**
 * mfc_decode() - decode one frame: the left port reads the stream, the right port writes the frame.
 * @ctx: the context.
 * @stream: a stream buffer, prepared with mfc_stream_prepare() since the CPU last wrote it.
 * @frame: a DMA_FROM_DEVICE buffer at least as large as the payload.
 * @seq: where to store the decoded frame's sequence number.
 *
 * The frame is synced for the device before the hardware runs and for the CPU after (vb2's
 * buf_prepare and buf_finish), so the CPU reads what the codec wrote.
 *
 * Return: 0; -EIO when the hardware finds no valid stream (no header, a bad checksum: what an unsynced
 * stream looks like), -EINVAL when the frame is too small, -EFAULT when a port faulted.
 */
int mfc_decode(struct mfc_ctx *ctx, struct mfc_buf *stream, struct mfc_buf *frame, u32 *seq)
{
	mfc_out_prepare(ctx, frame);
	return mfc_out_finish(ctx, frame, mfc_hw_decode(ctx, stream, frame, seq), &ctx->dev->stats.decoded);
}

/* vb2_dc_get_contiguous_size(): how much of a mapped table the device sees as one range. */
static size_t mfc_contiguous_size(struct sg_table *sgt)
{
	dma_addr_t expected = sg_dma_address(sgt->sgl);
	struct scatterlist *s;
	size_t size = 0;
	unsigned int i;

	for_each_sgtable_dma_sg(sgt, s, i) {
		if (sg_dma_address(s) != expected)
			break;
		expected += sg_dma_len(s);
		size += sg_dma_len(s);
	}
	return size;
}

/**
 * mfc_import_frame() - map a frame another driver exported (a dma-buf's table) for the codec to read,
 * as vb2_dc_map_dmabuf() does: the codec needs it as one DMA range.
 * @ctx: the context.
 * @sgt: the exporter's table.
 * @size: the bytes the codec needs.
 * @dma: where to store the codec's address of the frame.
 *
 * Return: 0; dma_map_sgtable()'s error; -EFAULT when the mapping is not one range of @size (unmapped).
 */
int mfc_import_frame(struct mfc_ctx *ctx, struct sg_table *sgt, size_t size, dma_addr_t *dma)
{
	struct device *dev = ctx->dev->dev;
	size_t contig;
	int ret;

	ret = dma_map_sgtable(dev, sgt, DMA_TO_DEVICE, 0);
	if (ret) {
		dev_err(dev, "failed to map scatterlist: %d\n", ret);
		return ret;
	}
	contig = mfc_contiguous_size(sgt);
	if (contig < size) {
		dev_err(dev, "contiguous chunk is too small %zu/%zu\n", contig, size);
		dma_unmap_sgtable(dev, sgt, DMA_TO_DEVICE, 0);
		return -EFAULT;
	}
	*dma = sg_dma_address(sgt->sgl);
	return 0;
}

/**
 * mfc_release_frame() - unmap a frame mfc_import_frame() mapped.
 * @ctx: the context.
 * @sgt: the table.
 */
void mfc_release_frame(struct mfc_ctx *ctx, struct sg_table *sgt)
{
	dma_unmap_sgtable(ctx->dev->dev, sgt, DMA_TO_DEVICE, 0);
}

/**
 * mfc_encode() - encode one frame: the left port reads it, the right port writes the stream.
 * @ctx: the context.
 * @src: the frame's DMA address (from mfc_import_frame()).
 * @len: its bytes.
 * @seq: the sequence number to give it.
 * @stream: a DMA_FROM_DEVICE buffer for the stream (header and payload).
 *
 * Return: 0; -EINVAL when the stream buffer is too small; -EFAULT when a port faulted.
 */
int mfc_encode(struct mfc_ctx *ctx, dma_addr_t src, size_t len, u32 seq, struct mfc_buf *stream)
{
	if (len + sizeof(struct mfc_stream_header) > stream->size)
		return -EINVAL;
	mfc_out_prepare(ctx, stream);
	return mfc_out_finish(ctx, stream, mfc_hw_encode(ctx, src, len, seq, stream), &ctx->dev->stats.encoded);
}

/**
 * mfc_get_stats() - read the driver's counters and memory layout.
 * @mfc: the codec.
 * @stats: where to store them.
 */
void mfc_get_stats(struct mfc_dev *mfc, struct mfc_stats *stats)
{
	*stats = mfc->stats;
	stats->fw_dma = mfc->fw_buf.dma;
	stats->fw_size = mfc->fw_buf.size;
	stats->mem_base = mfc->mem_base;
	stats->mem_size = mfc->mem_size;
}

static int mfc_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct mfc_dev *mfc;
	int ret;

	mfc = devm_kzalloc(dev, sizeof(*mfc), GFP_KERNEL);
	if (!mfc)
		return -ENOMEM;
	mfc->dev = dev;
	mfc->variant = of_device_get_match_data(dev);
	if (!mfc->variant) {
		dev_err(dev, "Failed to get device MFC hardware variant information\n");
		return -ENOENT;
	}
	if (!platform_get_resource(pdev, IORESOURCE_MEM, 0))
		return -ENODEV;
	mfc->irq = platform_get_irq(pdev, 0);
	if (mfc->irq < 0)
		return mfc->irq;
	/* One port per IOMMU; both must be translated, or the 2-port memory banks would be needed. */
	if (!dev->iommu_group)
		return dev_err_probe(dev, -ENODEV, "no IOMMU: 2-port memory banks are not supported\n");

	ret = mfc_configure_common_memory(mfc);
	if (ret < 0) {
		dev_err(dev, "failed to configure DMA memory\n");
		return ret;
	}
	mfc_load_firmware(mfc);
	ret = mfc_hw_boot(mfc);
	if (ret)
		return dev_err_probe(dev, ret, "firmware did not boot\n");
	platform_set_drvdata(pdev, mfc);
	return 0;
}

static void mfc_remove(struct platform_device *pdev)
{
	struct mfc_dev *mfc = platform_get_drvdata(pdev);

	for (unsigned int i = 0; i < MFC_NUM_CONTEXTS; i++)
		if (mfc->ctx[i])
			mfc_release(mfc->ctx[i]);
}

static const struct mfc_variant mfc_drvdata_v8 = {
	.port_num = 2,
	.fw_size = SZ_1M,
	.ctx_size = SZ_64K,
};

static const struct of_device_id mfc_of_match[] = {
	{ .compatible = "swiommu,video-codec", .data = &mfc_drvdata_v8 },
	{ }
};

struct platform_driver mfc_driver = {
	.probe = mfc_probe,
	.remove = mfc_remove,
	.driver = {
		.name = "swiommu-mfc",
		.of_match_table = mfc_of_match,
	},
};
module_platform_driver(mfc_driver);

/* -----------------------------------------------------------------------------
 * The hardware (simulated): what the codec does through its two ports.
 */

#define MFC_HW_FIFO	SZ_4K

/* At reset the firmware's first bytes are fetched through both ports: both SysMMUs must translate. */
static int mfc_hw_boot(struct mfc_dev *mfc)
{
	char sig[sizeof(MFC_FW_SIGNATURE)];
	int ret;

	for (unsigned int port = 0; port < mfc->variant->port_num; port++) {
		memset(sig, 0, sizeof(sig));
		ret = swiommu_dma_read(mfc->dev, port, mfc->fw_buf.dma, sig, sizeof(sig));
		if (ret)
			return ret;
		if (memcmp(sig, MFC_FW_SIGNATURE, sizeof(sig)))
			return -EIO;
	}
	return 0;
}

static int mfc_hw_decode(struct mfc_ctx *ctx, struct mfc_buf *stream, struct mfc_buf *frame, u32 *seq)
{
	struct device *dev = ctx->dev->dev;
	struct mfc_stream_header hdr;
	static u8 fifo[MFC_HW_FIFO];
	u32 csum = 0;
	int ret;

	ret = swiommu_dma_read(dev, MFC_PORT_L, stream->dma, &hdr, sizeof(hdr));
	if (ret)
		return ret;
	if (hdr.magic != MFC_STREAM_MAGIC) {
		dev_err(dev, "decode error: no stream header at %#llx (found %#010x)\n",
			(unsigned long long)stream->dma, hdr.magic);
		return -EIO;
	}
	if (hdr.len > stream->size - sizeof(hdr) || hdr.len > frame->size)
		return -EINVAL;
	for (u32 done = 0; done < hdr.len; done += MFC_HW_FIFO) {
		u32 chunk = min_t(u32, MFC_HW_FIFO, hdr.len - done);

		ret = swiommu_dma_read(dev, MFC_PORT_L, stream->dma + sizeof(hdr) + done, fifo, chunk);
		if (!ret)
			ret = swiommu_dma_write(dev, MFC_PORT_R, frame->dma + done, fifo, chunk);
		if (ret)
			return ret;
		for (u32 i = 0; i < chunk; i++)
			csum += fifo[i];
	}
	if (csum != hdr.csum) {
		dev_err(dev, "decode error: frame %u checksum %#x, expected %#x\n", hdr.seq, csum, hdr.csum);
		return -EIO;
	}
	*seq = hdr.seq;
	return 0;
}

static int mfc_hw_encode(struct mfc_ctx *ctx, dma_addr_t src, size_t len, u32 seq, struct mfc_buf *stream)
{
	struct device *dev = ctx->dev->dev;
	struct mfc_stream_header hdr = { .magic = MFC_STREAM_MAGIC, .seq = seq, .len = (u32)len };
	static u8 fifo[MFC_HW_FIFO];
	int ret;

	for (size_t done = 0; done < len; done += MFC_HW_FIFO) {
		size_t chunk = min_t(size_t, MFC_HW_FIFO, len - done);

		ret = swiommu_dma_read(dev, MFC_PORT_L, src + done, fifo, chunk);
		if (!ret)
			ret = swiommu_dma_write(dev, MFC_PORT_R, stream->dma + sizeof(hdr) + done, fifo, chunk);
		if (ret)
			return ret;
		for (size_t i = 0; i < chunk; i++)
			hdr.csum += fifo[i];
	}
	return swiommu_dma_write(dev, MFC_PORT_R, stream->dma, &hdr, sizeof(hdr));
}
