// SPDX-License-Identifier: MIT
/*
 * A display controller and a GPU that share one IOMMU address space, written as exynos_drm_dma.c does it
 * on arm64: the first sub-device to register becomes the DMA device ("using %s device for DMA mapping
 * operations"), the shared mapping is that device's default domain (iommu_get_domain_for_dev()), and
 * every other sub-device is attached to it with iommu_attach_device(), so one DMA address is valid for
 * all of them. Buffer objects are allocated on the DMA device only: dma_alloc_coherent() or
 * dma_alloc_noncontiguous() + dma_vmap_noncontiguous(), exported as a table the way
 * exynos_drm_gem_prime_get_sg_table() does (dma_get_sgtable()).
 *
 * On the default board both sit behind 16 KiB-page DARTs (Apple DART users: the display's DART is locked
 * by firmware, so the shared domain is the one that reuses the firmware's table, and the firmware
 * framebuffer stays mapped 1:1 through the handover). The two sub-drivers register from one module init,
 * as a DRM driver registers its components.
 */
#include <string.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include "drm.h"

#define SDRM_MAX_SUBDEVS	4

/* What the DRM device (the component master) holds. */
struct sdrm_private {
	struct device *dma_dev;
	struct iommu_domain *mapping;
	struct device *subdevs[SDRM_MAX_SUBDEVS];
	unsigned int nsubdevs;
	unsigned long objects;
	unsigned long bytes;
};

static struct sdrm_private sdrm;

static int sdrm_iommu_attach_device(struct device *subdrv_dev)
{
	int ret;

	if (subdrv_dev->dma_iommu != sdrm.dma_dev->dma_iommu) {
		dev_err(subdrv_dev, "Device %s lacks support for IOMMU\n", dev_name(subdrv_dev));
		return -EINVAL;
	}
	dma_set_max_seg_size(subdrv_dev, DMA_BIT_MASK(32));
	ret = iommu_attach_device(sdrm.mapping, subdrv_dev);
	if (ret)
		dev_err(subdrv_dev, "cannot join the DRM address space of %s: %d\n", dev_name(sdrm.dma_dev), ret);
	return ret;
}

/* exynos_drm_register_dma(): the first caller provides the DMA device and its domain. */
static int sdrm_register_dma(struct device *dev)
{
	int ret = 0;

	if (sdrm.nsubdevs == SDRM_MAX_SUBDEVS)
		return -ENOSPC;
	if (!sdrm.dma_dev) {
		sdrm.dma_dev = dev;
		dev_info(dev, "using %s device for DMA mapping operations\n", dev_name(dev));
	}
	if (!sdrm.mapping) {
		sdrm.mapping = iommu_get_domain_for_dev(sdrm.dma_dev);
		if (!sdrm.mapping)
			return -ENODEV;
	}
	if (dev != sdrm.dma_dev)
		ret = sdrm_iommu_attach_device(dev);
	if (ret)
		return ret;
	sdrm.subdevs[sdrm.nsubdevs++] = dev;
	return 0;
}

static void sdrm_forget(struct device *dev)
{
	for (unsigned int i = 0; i < sdrm.nsubdevs; i++) {
		if (sdrm.subdevs[i] != dev)
			continue;
		sdrm.subdevs[i] = sdrm.subdevs[--sdrm.nsubdevs];
		return;
	}
}

/*
 * exynos_drm_unregister_dma(): a sub-device leaves the shared domain. When the DMA device itself goes,
 * the others go back to their own default domains and the next one to register provides the mapping.
 */
static void sdrm_unregister_dma(struct device *dev)
{
	sdrm_forget(dev);
	if (dev != sdrm.dma_dev) {
		iommu_detach_device(sdrm.mapping, dev);
		return;
	}
	while (sdrm.nsubdevs) {
		struct device *other = sdrm.subdevs[0];

		iommu_detach_device(sdrm.mapping, other);
		sdrm_forget(other);
	}
	sdrm.dma_dev = NULL;
	sdrm.mapping = NULL;
}

/**
 * sdrm_dma_device() - the device every buffer object is allocated on.
 *
 * Return: the device, or NULL before a sub-device registered.
 */
struct device *sdrm_dma_device(void)
{
	return sdrm.dma_dev;
}

/**
 * sdrm_mapping() - the domain the sub-devices share.
 *
 * Return: the DMA device's default domain, or NULL before a sub-device registered.
 */
struct iommu_domain *sdrm_mapping(void)
{
	return sdrm.mapping;
}

/**
 * sdrm_gem_create() - allocate a buffer object on the DMA device.
 * @size: bytes.
 * @flags: SDRM_BO_CONTIG or SDRM_BO_NONCONTIG.
 *
 * Return: the object, or ERR_PTR(-ENODEV) before the DMA device registered, ERR_PTR(-EINVAL) for size 0
 * or unknown flags, ERR_PTR(-ENOMEM) when the allocation fails.
 */
struct sdrm_gem_object *sdrm_gem_create(size_t size, unsigned int flags)
{
	struct sdrm_gem_object *obj;

	if (!sdrm.dma_dev)
		return ERR_PTR(-ENODEV);
	if (!size || flags > SDRM_BO_NONCONTIG)
		return ERR_PTR(-EINVAL);
	obj = kzalloc(sizeof(*obj), GFP_KERNEL);
	if (!obj)
		return ERR_PTR(-ENOMEM);
	obj->size = PAGE_ALIGN(size);
	obj->flags = flags;
	if (flags == SDRM_BO_CONTIG) {
		obj->vaddr = dma_alloc_coherent(sdrm.dma_dev, obj->size, &obj->dma_addr, GFP_KERNEL);
		if (!obj->vaddr)
			goto err_free_obj;
	} else {
		obj->sgt = dma_alloc_noncontiguous(sdrm.dma_dev, obj->size, DMA_BIDIRECTIONAL, GFP_KERNEL, 0);
		if (!obj->sgt)
			goto err_free_obj;
		obj->vaddr = dma_vmap_noncontiguous(sdrm.dma_dev, obj->size, obj->sgt);
		if (!obj->vaddr)
			goto err_free_noncontig;
		obj->dma_addr = sg_dma_address(obj->sgt->sgl);
	}
	sdrm.objects++;
	sdrm.bytes += obj->size;
	return obj;

err_free_noncontig:
	dma_free_noncontiguous(sdrm.dma_dev, obj->size, obj->sgt, DMA_BIDIRECTIONAL);
err_free_obj:
	dev_err(sdrm.dma_dev, "failed to allocate %zu byte dma buffer\n", obj->size);
	kfree(obj);
	return ERR_PTR(-ENOMEM);
}

/**
 * sdrm_gem_free() - free a buffer object: its DMA range goes from the shared domain, so from every
 * DART the domain is programmed into.
 * @obj: the object.
 */
void sdrm_gem_free(struct sdrm_gem_object *obj)
{
	if (obj->flags == SDRM_BO_CONTIG) {
		dma_free_coherent(sdrm.dma_dev, obj->size, obj->vaddr, obj->dma_addr);
	} else {
		dma_vunmap_noncontiguous(sdrm.dma_dev, obj->vaddr);
		dma_free_noncontiguous(sdrm.dma_dev, obj->size, obj->sgt, DMA_BIDIRECTIONAL);
	}
	sdrm.objects--;
	sdrm.bytes -= obj->size;
	kfree(obj);
}

/**
 * sdrm_gem_begin_cpu_access() - before the CPU reads what a device wrote (dma-buf begin_cpu_access).
 * @obj: the object; a coherent allocation needs nothing.
 */
void sdrm_gem_begin_cpu_access(struct sdrm_gem_object *obj)
{
	if (obj->sgt)
		dma_sync_sgtable_for_cpu(sdrm.dma_dev, obj->sgt, DMA_BIDIRECTIONAL);
}

/**
 * sdrm_gem_end_cpu_access() - after the CPU wrote, before a device reads (dma-buf end_cpu_access).
 * @obj: the object; a coherent allocation needs nothing.
 */
void sdrm_gem_end_cpu_access(struct sdrm_gem_object *obj)
{
	if (obj->sgt)
		dma_sync_sgtable_for_device(sdrm.dma_dev, obj->sgt, DMA_BIDIRECTIONAL);
}

/* drm_prime_pages_to_sg() for a non-contiguous object: its pages, one entry each. */
static int sdrm_noncontig_get_sgtable(struct sdrm_gem_object *obj, struct sg_table *sgt)
{
	struct scatterlist *src, *dst;
	unsigned int i;
	int ret;

	ret = sg_alloc_table(sgt, obj->sgt->orig_nents, GFP_KERNEL);
	if (ret)
		return ret;
	dst = sgt->sgl;
	for_each_sgtable_sg(obj->sgt, src, i) {
		sg_set_page(dst, sg_page(src), src->length, src->offset);
		dst = sg_next(dst);
	}
	return 0;
}

/**
 * sdrm_gem_get_sg_table() - a buffer object's pages as a table another device can map (the
 * gem_prime_get_sg_table of a dma-buf export), built with dma_get_sgtable() as exynos does.
 * @obj: the object.
 *
 * Return: the table (give it back with sdrm_gem_put_sg_table()), or ERR_PTR(-ENOMEM) or dma_get_sgtable()'s
 * error.
 */
struct sg_table *sdrm_gem_get_sg_table(struct sdrm_gem_object *obj)
{
	struct sg_table *sgt;
	int ret;

	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	if (obj->sgt)
		ret = sdrm_noncontig_get_sgtable(obj, sgt);
	else
		ret = dma_get_sgtable(sdrm.dma_dev, sgt, obj->vaddr, obj->dma_addr, obj->size);
	if (ret) {
		dev_err(sdrm.dma_dev, "failed to get sgt, %d\n", ret);
		kfree(sgt);
		return ERR_PTR(ret);
	}
	return sgt;
}

/**
 * sdrm_gem_put_sg_table() - free a table from sdrm_gem_get_sg_table().
 * @sgt: the table.
 */
void sdrm_gem_put_sg_table(struct sg_table *sgt)
{
	sg_free_table(sgt);
	kfree(sgt);
}

/**
 * sdrm_get_stats() - read the driver's counters.
 * @stats: where to store them.
 */
void sdrm_get_stats(struct sdrm_stats *stats)
{
	stats->subdevs = sdrm.nsubdevs;
	stats->attached = sdrm.nsubdevs ? sdrm.nsubdevs - 1 : 0;
	stats->objects = sdrm.objects;
	stats->bytes = sdrm.bytes;
}

/* The firmware framebuffer (a RESV_DIRECT region) keeps scanning out through the handover. */
static void sdrm_check_firmware_fb(struct device *dev)
{
	struct iommu_resv_region *region;
	LIST_HEAD(regions);

	iommu_get_resv_regions(dev, &regions);
	list_for_each_entry(region, &regions, list) {
		if (region->type != IOMMU_RESV_DIRECT)
			continue;
		if (iommu_iova_to_phys(sdrm.mapping, region->start) == region->start)
			dev_info(dev, "firmware framebuffer %#llx+%#zx stays mapped 1:1\n",
				 (unsigned long long)region->start, region->length);
		else
			dev_warn(dev, "firmware framebuffer %#llx is not mapped: the screen goes blank\n",
				 (unsigned long long)region->start);
	}
	iommu_put_resv_regions(dev, &regions);
}

static int sdrm_subdev_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	int ret;

	if (!platform_get_resource(pdev, IORESOURCE_MEM, 0))
		return -ENODEV;
	ret = platform_get_irq(pdev, 0);
	if (ret < 0)
		return ret;
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32));
	if (ret)
		return ret;
	/* As drm_iommu_attach_device() does for every device, the DMA device included. */
	dma_set_max_seg_size(dev, DMA_BIT_MASK(32));
	ret = sdrm_register_dma(dev);
	if (ret)
		return dev_err_probe(dev, ret, "cannot register for DMA\n");
	if (of_device_is_compatible(dev->of_node, "swiommu,display"))
		sdrm_check_firmware_fb(dev);
	return 0;
}

static void sdrm_subdev_remove(struct platform_device *pdev)
{
	sdrm_unregister_dma(&pdev->dev);
}

static const struct of_device_id sdrm_display_of_match[] = {
	{ .compatible = "swiommu,display" },
	{ }
};

static const struct of_device_id sdrm_gpu_of_match[] = {
	{ .compatible = "swiommu,gpu" },
	{ }
};

struct platform_driver sdrm_display_driver = {
	.probe = sdrm_subdev_probe,
	.remove = sdrm_subdev_remove,
	.driver = {
		.name = "swiommu-drm-display",
		.of_match_table = sdrm_display_of_match,
	},
};

struct platform_driver sdrm_gpu_driver = {
	.probe = sdrm_subdev_probe,
	.remove = sdrm_subdev_remove,
	.driver = {
		.name = "swiommu-drm-gpu",
		.of_match_table = sdrm_gpu_of_match,
	},
};

static int __init sdrm_init(void)
{
	int ret;

	memset(&sdrm, 0, sizeof(sdrm));
	ret = platform_driver_register(&sdrm_display_driver);
	if (ret)
		return ret;
	ret = platform_driver_register(&sdrm_gpu_driver);
	if (ret)
		platform_driver_unregister(&sdrm_display_driver);
	return ret;
}

static void __exit sdrm_exit(void)
{
	platform_driver_unregister(&sdrm_gpu_driver);
	platform_driver_unregister(&sdrm_display_driver);
}

module_init(sdrm_init);
module_exit(sdrm_exit);
