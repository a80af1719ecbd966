/* SPDX-License-Identifier: MIT */
/* The device's own DMA: a test stands in for the hardware and moves bytes as the device would. */
#ifndef _SWIOMMU_DMA_H
#define _SWIOMMU_DMA_H

#include <linux/types.h>

struct device;

/**
 * swiommu_dma_write() - the device writes @len bytes at DMA address @addr on one of its channels.
 * @dev: the device.
 * @channel: the channel (its position in "iommus"; 0 for a device without).
 * @addr: the DMA address: an IOVA for a channel behind an IOMMU with a driver, else a bus address
 *        (translated to physical through dma-ranges).
 * @src: the bytes.
 * @len: how many.
 *
 * A translated channel goes through the group's current domain (an IOMMU driver written in C translates
 * with its domain's iova_to_phys; an identity domain passes addresses through; a blocked domain faults).
 * A non-coherent device writes memory's view: the CPU sees the bytes after it invalidates them.
 *
 * Return: 0; -EINVAL for a NULL or ERR_PTR device, a bad channel or NULL @src; -EFAULT after a fault was
 * reported (report_iommu_fault() to the domain's handler, or logged when nothing handles it) or for an
 * address that is not RAM; -ENODEV when the machine is down.
 */
int swiommu_dma_write(struct device *dev, unsigned int channel, dma_addr_t addr, const void *src, size_t len);

/**
 * swiommu_dma_read() - the device reads @len bytes at DMA address @addr on one of its channels.
 * @dev: the device.
 * @channel: the channel.
 * @addr: the DMA address, as for swiommu_dma_write().
 * @dst: where the bytes go.
 * @len: how many.
 *
 * A non-coherent device reads memory's view: only what the CPU cleaned, or a device wrote.
 *
 * Return: as swiommu_dma_write().
 */
int swiommu_dma_read(struct device *dev, unsigned int channel, dma_addr_t addr, void *dst, size_t len);

/**
 * swiommu_dma_faults() - faults a device's DMA has raised since boot.
 * @dev: the device.
 *
 * Return: the count, 0 for a bad device.
 */
unsigned long swiommu_dma_faults(struct device *dev);

#endif /* _SWIOMMU_DMA_H */
