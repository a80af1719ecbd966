/* SPDX-License-Identifier: MIT */
/* The device's own DMA: a test stands in for the hardware and moves bytes as the device would. */
#ifndef _SWIOMMU_DMA_H
#define _SWIOMMU_DMA_H

#include <linux/types.h>
#include <linux/dma-direction.h>

struct device;
struct page;
struct vm_area_struct;

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

/**
 * dma_map_page_attrs_multi() - map a buffer for a set of the device's DMA channels at once (swiommu's
 * channel extension: each channel goes straight to the bus or through its own IOMMU domain).
 * @dev: the device.
 * @page: the first page.
 * @offset: offset in @page.
 * @size: bytes.
 * @dir: the direction.
 * @attrs: DMA_ATTR_*.
 * @channels: a bit mask of channels (bit i: channel i).
 * @addrs: receives one address per channel, indexed by channel number (entries of channels outside the
 *         mask are left alone). Channels that share an IOMMU domain get the same address; direct channels
 *         share the bus address.
 *
 * The buffer is mapped once per distinct route (the direct path, or one IOMMU domain). If any route fails,
 * what was mapped is unmapped again and every requested entry of @addrs is DMA_MAPPING_ERROR.
 *
 * Return: the address of the lowest channel in @channels, or DMA_MAPPING_ERROR: an empty mask or a channel
 * the device does not have (a WARN record), a NULL @addrs, a route the IOMMU core cannot serve, or any reason
 * dma_map_page_attrs() gives.
 */
dma_addr_t dma_map_page_attrs_multi(struct device *dev, struct page *page, size_t offset, size_t size,
				    enum dma_data_direction dir, unsigned long attrs, unsigned long channels,
				    dma_addr_t *addrs);

/**
 * dma_unmap_page_attrs_multi() - unmap what dma_map_page_attrs_multi() mapped.
 * @dev: the device.
 * @addrs: the addresses it returned, indexed by channel.
 * @size: the mapped size.
 * @dir: the mapped direction.
 * @attrs: DMA_ATTR_*.
 * @channels: the same channel mask.
 *
 * Each distinct route is unmapped once. A bad channel is a WARN record and that route is skipped.
 */
void dma_unmap_page_attrs_multi(struct device *dev, const dma_addr_t *addrs, size_t size,
				enum dma_data_direction dir, unsigned long attrs, unsigned long channels);

/**
 * swiommu_vma_alloc() - a host address range that stands for a user mapping (a VMA) of @size bytes, for
 * dma_mmap_attrs() and friends. Until something is mapped there, touching it faults.
 * @size: bytes (rounded up to pages).
 *
 * Return: the vma (vm_start, vm_end set; vm_pgoff 0; vm_page_prot PAGE_KERNEL), or NULL for size 0 or when
 * no address space is left.
 */
struct vm_area_struct *swiommu_vma_alloc(size_t size);

/**
 * swiommu_vma_free() - unmap and release a swiommu_vma_alloc() range (the pages mapped there stay with
 * their owner, as at munmap()).
 * @vma: the vma (NULL is ignored; anything else is a WARN record).
 */
void swiommu_vma_free(struct vm_area_struct *vma);

/**
 * swiommu_swiotlb_set_force_bounce() - bounce every dma-direct mapping through swiotlb from now on, as the
 * kernel's "swiotlb=force" does (also read from the board's bootargs).
 * @force: on or off.
 *
 * Return: 0, or -ENODEV when the machine is down.
 */
int swiommu_swiotlb_set_force_bounce(bool force);

/**
 * swiommu_swiotlb_used() - bounce slots in use (the kernel's debugfs io_tlb_used).
 *
 * Return: the count, 0 when the machine is down.
 */
unsigned long swiommu_swiotlb_used(void);

#endif /* _SWIOMMU_DMA_H */
