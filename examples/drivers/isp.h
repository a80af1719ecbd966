/* SPDX-License-Identifier: MIT */
/*
 * The example camera ISP driver (isp.c): a driver that manages its own IOMMU domain, as rockchip-drm
 * and tegra-drm do. Its buffer calls are what a V4L2 vb2 queue would call.
 */
#ifndef SWIOMMU_EXAMPLE_ISP_H
#define SWIOMMU_EXAMPLE_ISP_H

#include <linux/types.h>
#include <linux/list.h>
#include <linux/scatterlist.h>

struct device;
struct iommu_domain;
struct page;

/**
 * struct isp_buffer - a capture buffer in the ISP's own IOVA space.
 * @size: bytes (a whole number of pages).
 * @num_pages: pages in @pages.
 * @pages: the buffer's pages.
 * @block: the block they come from (see isp_buffer_alloc()).
 * @order: its order.
 * @sgt: the pages as a table; mapped with the DMA API for cache maintenance only.
 * @iova: where the ISP sees the buffer, in its own domain.
 * @vaddr: the CPU's contiguous view (vmap).
 * @list: on the driver's list of live buffers.
 */
struct isp_buffer {
	size_t size;
	unsigned int num_pages;
	struct page **pages;
	struct page *block;
	unsigned int order;
	struct sg_table sgt;
	dma_addr_t iova;
	void *vaddr;
	struct list_head list;
};

/**
 * struct isp_stats - what the driver has done since it bound.
 * @buffers: buffers live now.
 * @mapped_bytes: bytes live in the ISP's own domain.
 * @frames: frames completed (isp_frame_done()).
 * @faults: IOMMU faults its handler took.
 * @last_fault_iova: the address of the last one.
 * @last_fault_flags: its IOMMU_FAULT_READ/WRITE flags.
 */
struct isp_stats {
	unsigned long buffers;
	unsigned long mapped_bytes;
	unsigned long frames;
	unsigned long faults;
	unsigned long last_fault_iova;
	int last_fault_flags;
};

struct isp_device;
struct platform_driver;

/* The driver, for tests that unbind and rebind it (what rmmod and insmod would do). */
extern struct platform_driver isp_driver;

struct isp_device *isp_from_device(struct device *dev);
struct iommu_domain *isp_domain(struct isp_device *isp);
struct isp_buffer *isp_buffer_alloc(struct isp_device *isp, size_t size);
void isp_buffer_free(struct isp_device *isp, struct isp_buffer *buf);
void isp_buffer_queue(struct isp_device *isp, struct isp_buffer *buf);
void isp_frame_done(struct isp_device *isp, struct isp_buffer *buf);
void isp_get_stats(struct isp_device *isp, struct isp_stats *stats);

#endif
