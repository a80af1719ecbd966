/* SPDX-License-Identifier: MIT */
/*
 * The example DMA engine driver (sdma.c): 8 channels, each the engine's DMA channel of the same number
 * (its "iommus" entry), driven either by the engine device (dmaengine style, channel-aware mappings) or,
 * once populated, by a child platform device per channel (the HIDMA way).
 */
#ifndef SWIOMMU_EXAMPLE_SDMA_H
#define SWIOMMU_EXAMPLE_SDMA_H

#include <linux/types.h>
#include <linux/dma-direction.h>

struct device;
struct scatterlist;
struct sdma_chan;
struct sdma_device;
struct platform_driver;

/* The engine's driver, for tests that unbind and rebind it (what rmmod and insmod would do). */
extern struct platform_driver sdma_driver;

#define SDMA_MAX_CHANNELS	8

/**
 * struct sdma_chan_stats - one channel's counters.
 * @submitted: descriptors prepared.
 * @completed: descriptors the hardware completed.
 * @errors: descriptors that ended in a transfer error.
 * @bytes: bytes copied.
 */
struct sdma_chan_stats {
	unsigned long submitted;
	unsigned long completed;
	unsigned long errors;
	unsigned long bytes;
};

struct sdma_device *sdma_from_device(struct device *dev);
unsigned int sdma_num_channels(struct sdma_device *sdma);
struct sdma_chan *sdma_request_chan(struct sdma_device *sdma, unsigned int id);
struct device *sdma_chan_dma_device(struct sdma_chan *chan);
dma_addr_t sdma_map_single(struct sdma_chan *chan, void *buf, size_t len, enum dma_data_direction dir);
void sdma_unmap_single(struct sdma_chan *chan, dma_addr_t addr, size_t len, enum dma_data_direction dir);
int sdma_map_sg(struct sdma_chan *chan, struct scatterlist *sgl, unsigned int nents, enum dma_data_direction dir);
void sdma_unmap_sg(struct sdma_chan *chan, struct scatterlist *sgl, unsigned int nents, enum dma_data_direction dir);
int sdma_prep_memcpy(struct sdma_chan *chan, dma_addr_t dst, dma_addr_t src, size_t len);
int sdma_prep_sg(struct sdma_chan *chan, struct scatterlist *dst_sg, unsigned int dst_nents,
		 struct scatterlist *src_sg, unsigned int src_nents);
void sdma_issue_pending(struct sdma_chan *chan);
int sdma_tx_status(struct sdma_chan *chan, int cookie);
void sdma_chan_get_stats(struct sdma_chan *chan, struct sdma_chan_stats *stats);
int sdma_populate_channel_devices(struct sdma_device *sdma);

#endif
