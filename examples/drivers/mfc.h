/* SPDX-License-Identifier: MIT */
/*
 * The example video codec driver (mfc.c): two memory ports behind two SysMMUs, a 256 MiB DMA window,
 * firmware and context buffers in preallocated common memory, cached stream and frame buffers.
 */
#ifndef SWIOMMU_EXAMPLE_MFC_H
#define SWIOMMU_EXAMPLE_MFC_H

#include <linux/types.h>
#include <linux/dma-direction.h>

struct device;
struct sg_table;
struct mfc_dev;
struct mfc_ctx;
struct platform_driver;

/* The driver, for tests that unbind and rebind it (what rmmod and insmod would do). */
extern struct platform_driver mfc_driver;

/* The memory ports: the DMA channels of the codec ("iommus" entries), one SysMMU each. */
#define MFC_PORT_L	0	/* reads streams and source frames */
#define MFC_PORT_R	1	/* writes decoded frames and encoded streams */

/* What the hardware expects at the start of a stream buffer. */
#define MFC_STREAM_MAGIC	0x2143464dU	/* "MFC!" */

/**
 * struct mfc_stream_header - the header of an elementary stream buffer.
 * @magic: MFC_STREAM_MAGIC.
 * @seq: the frame's sequence number.
 * @len: payload bytes after the header.
 * @csum: the payload's byte sum.
 */
struct mfc_stream_header {
	u32 magic;
	u32 seq;
	u32 len;
	u32 csum;
};

/**
 * struct mfc_buf - a cached (non-coherent) stream or frame buffer (dma_alloc_noncoherent()).
 * @virt: the CPU's view.
 * @dma: the codec's address (inside its DMA window).
 * @size: bytes.
 * @dir: DMA_TO_DEVICE (streams to decode) or DMA_FROM_DEVICE (frames, encoded streams).
 */
struct mfc_buf {
	void *virt;
	dma_addr_t dma;
	size_t size;
	enum dma_data_direction dir;
};

/**
 * struct mfc_stats - what the driver has done since it bound.
 * @fw_dma: the firmware's DMA address.
 * @fw_size: its size.
 * @mem_base: the common memory's DMA address (firmware and context buffers).
 * @mem_size: its size.
 * @contexts: contexts open now.
 * @buffers: stream and frame buffers live now.
 * @decoded: frames decoded.
 * @encoded: frames encoded.
 * @errors: decode or encode errors the hardware reported.
 */
struct mfc_stats {
	dma_addr_t fw_dma;
	size_t fw_size;
	dma_addr_t mem_base;
	size_t mem_size;
	unsigned int contexts;
	unsigned long buffers;
	unsigned long decoded;
	unsigned long encoded;
	unsigned long errors;
};

struct mfc_dev *mfc_from_device(struct device *dev);
struct mfc_ctx *mfc_open(struct mfc_dev *mfc);
void mfc_release(struct mfc_ctx *ctx);
dma_addr_t mfc_ctx_buffer(struct mfc_ctx *ctx);
struct mfc_buf *mfc_buf_alloc(struct mfc_ctx *ctx, size_t size, enum dma_data_direction dir);
void mfc_buf_free(struct mfc_ctx *ctx, struct mfc_buf *buf);
int mfc_alloc_dpb(struct mfc_ctx *ctx, unsigned int count, size_t size);
void mfc_free_dpb(struct mfc_ctx *ctx);
unsigned int mfc_dpb_count(struct mfc_ctx *ctx);
void mfc_stream_fill(struct mfc_buf *buf, u32 seq, const void *payload, size_t len);
void mfc_stream_prepare(struct mfc_ctx *ctx, struct mfc_buf *stream);
int mfc_decode(struct mfc_ctx *ctx, struct mfc_buf *stream, struct mfc_buf *frame, u32 *seq);
int mfc_import_frame(struct mfc_ctx *ctx, struct sg_table *sgt, size_t size, dma_addr_t *dma);
void mfc_release_frame(struct mfc_ctx *ctx, struct sg_table *sgt);
int mfc_encode(struct mfc_ctx *ctx, dma_addr_t src, size_t len, u32 seq, struct mfc_buf *stream);
void mfc_get_stats(struct mfc_dev *mfc, struct mfc_stats *stats);

#endif
