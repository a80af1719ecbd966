/* SPDX-License-Identifier: MIT */
/* DMA transfer directions, mirroring the kernel's linux/dma-direction.h (Linux 6.17) for swiommu. */
#ifndef _LINUX_DMA_DIRECTION_H
#define _LINUX_DMA_DIRECTION_H

#include <linux/types.h>

/**
 * enum dma_data_direction - which way the data of a streaming mapping moves.
 * @DMA_BIDIRECTIONAL: both ways (the device may read and write).
 * @DMA_TO_DEVICE: the device reads what the CPU wrote.
 * @DMA_FROM_DEVICE: the device writes what the CPU will read.
 * @DMA_NONE: no direction; invalid for every mapping call.
 */
enum dma_data_direction {
	DMA_BIDIRECTIONAL = 0,
	DMA_TO_DEVICE = 1,
	DMA_FROM_DEVICE = 2,
	DMA_NONE = 3,
};

static inline int valid_dma_direction(enum dma_data_direction dir)
{
	return dir == DMA_BIDIRECTIONAL || dir == DMA_TO_DEVICE || dir == DMA_FROM_DEVICE;
}

#endif /* _LINUX_DMA_DIRECTION_H */
