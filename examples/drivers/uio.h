/* SPDX-License-Identifier: MIT */
/*
 * The example userspace-I/O driver (uio.c, vfio-platform style) and the DMA-API driver that shares its
 * IOMMU group on the default board (dma_client.c).
 */
#ifndef SWIOMMU_EXAMPLE_UIO_H
#define SWIOMMU_EXAMPLE_UIO_H

#include <linux/types.h>

struct device;
struct page;
struct platform_driver;
struct uio_device;

/**
 * struct uio_stats - what the driver has done since it bound.
 * @opens: successful uio_open() calls.
 * @refused: uio_open() calls refused because the group was in use.
 * @mapped_bytes: bytes mapped in the container now.
 */
struct uio_stats {
	unsigned long opens;
	unsigned long refused;
	unsigned long mapped_bytes;
};

struct uio_device *uio_from_device(struct device *dev);
int uio_open(struct uio_device *uio);
void uio_release(struct uio_device *uio);
int uio_dma_map(struct uio_device *uio, unsigned long iova, struct page **pages, unsigned int npages, int prot);
size_t uio_dma_unmap(struct uio_device *uio, unsigned long iova, size_t size);
void uio_get_stats(struct uio_device *uio, struct uio_stats *stats);

/* The drivers, for tests that unbind and rebind them (what rmmod and insmod would do). */
extern struct platform_driver uio_driver;
extern struct platform_driver dma_client_driver;

/* The DMA-API client's streaming buffer, while it is bound. */
void *dma_client_buffer(struct device *dev, dma_addr_t *dma);

#endif
