/* SPDX-License-Identifier: MIT */
/*
 * The example display + GPU driver (drm.c): two sub-devices behind two DART instances sharing one
 * IOMMU domain, as exynos-drm shares its DMA device's domain, with GEM-like buffer objects.
 */
#ifndef SWIOMMU_EXAMPLE_DRM_H
#define SWIOMMU_EXAMPLE_DRM_H

#include <linux/types.h>

struct device;
struct iommu_domain;
struct platform_driver;
struct sg_table;

/* The sub-drivers, for tests that unbind and rebind them (what rmmod and insmod would do). */
extern struct platform_driver sdrm_display_driver;
extern struct platform_driver sdrm_gpu_driver;

/* How a buffer object is allocated on the DMA device. */
#define SDRM_BO_CONTIG		0	/* dma_alloc_coherent(): one DMA range, uncached for a non-coherent device */
#define SDRM_BO_NONCONTIG	1	/* dma_alloc_noncontiguous(): scattered pages, one DMA range, cached */

/**
 * struct sdrm_gem_object - a buffer object.
 * @size: bytes.
 * @flags: SDRM_BO_*.
 * @dma_addr: its address for every sub-device (the shared domain's IOVA).
 * @vaddr: the CPU's mapping.
 * @sgt: the pages of a SDRM_BO_NONCONTIG object (dma_alloc_noncontiguous()'s table).
 */
struct sdrm_gem_object {
	size_t size;
	unsigned int flags;
	dma_addr_t dma_addr;
	void *vaddr;
	struct sg_table *sgt;
};

/**
 * struct sdrm_stats - what the driver holds.
 * @subdevs: sub-devices registered for DMA.
 * @attached: sub-devices attached to the DMA device's domain (the DMA device itself not counted).
 * @objects: buffer objects live.
 * @bytes: their bytes.
 */
struct sdrm_stats {
	unsigned int subdevs;
	unsigned int attached;
	unsigned long objects;
	unsigned long bytes;
};

struct device *sdrm_dma_device(void);
struct iommu_domain *sdrm_mapping(void);
struct sdrm_gem_object *sdrm_gem_create(size_t size, unsigned int flags);
void sdrm_gem_free(struct sdrm_gem_object *obj);
void sdrm_gem_begin_cpu_access(struct sdrm_gem_object *obj);
void sdrm_gem_end_cpu_access(struct sdrm_gem_object *obj);
struct sg_table *sdrm_gem_get_sg_table(struct sdrm_gem_object *obj);
void sdrm_gem_put_sg_table(struct sg_table *sgt);
void sdrm_get_stats(struct sdrm_stats *stats);

#endif
