// SPDX-License-Identifier: MIT
/*
 * A userspace-I/O driver written as vfio-platform is: driver_managed_dma, so that binding it does not
 * make its group use the default domain. Opening the device (what VFIO does when userspace opens the
 * group) claims DMA ownership of the whole group with iommu_group_claim_dma_owner(), which moves the
 * group to a blocking domain and is refused (-EPERM) while any DMA-API driver is bound in it; the
 * "container" is then an UNMANAGED domain attached to the group with iommu_attach_group() (as
 * vfio_iommu_type1 does), into which userspace's pinned pages are mapped at the IOVAs it chooses
 * (VFIO_IOMMU_MAP_DMA). While the group is owned, a DMA-API driver's probe in it is refused (-EBUSY) by
 * the bus's dma_configure. On the default board the uio device shares its Rockchip IOMMU, hence its
 * group, with a DMA-API device (dma_client.c).
 */
#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include "uio.h"

struct uio_device {
	struct device *dev;
	struct iommu_group *group;
	struct iommu_domain *domain;
	struct uio_stats stats;
};

/**
 * uio_open() - open the device for userspace: own its group's DMA, attach a container domain.
 * @uio: the device.
 *
 * Return: 0; -EBUSY when it is open already; -EPERM while a DMA-API driver is bound in the group;
 * -ENOMEM, or the IOMMU core's error, when the container cannot be set up (ownership is given back).
 */
int uio_open(struct uio_device *uio)
{
	int ret;

	if (uio->domain)
		return -EBUSY;
	ret = iommu_group_claim_dma_owner(uio->group, uio);
	if (ret) {
		uio->stats.refused++;
		dev_warn(uio->dev, "group %d is in use by a kernel driver (%d)\n", iommu_group_id(uio->group), ret);
		return ret;
	}
	uio->domain = iommu_paging_domain_alloc(uio->dev);
	if (IS_ERR(uio->domain)) {
		ret = PTR_ERR(uio->domain);
		goto err_release_owner;
	}
	ret = iommu_attach_group(uio->domain, uio->group);
	if (ret)
		goto err_free_domain;
	uio->stats.opens++;
	return 0;

err_free_domain:
	iommu_domain_free(uio->domain);
err_release_owner:
	uio->domain = NULL;
	iommu_group_release_dma_owner(uio->group);
	return ret;
}

/**
 * uio_release() - close the device: tear the container down and give the group back.
 * @uio: the device (closing one that is not open does nothing).
 *
 * Mappings still in the container go with it, as VFIO unmaps a container's DMA when it is closed.
 */
void uio_release(struct uio_device *uio)
{
	if (!uio->domain)
		return;
	iommu_detach_group(uio->domain, uio->group);
	iommu_domain_free(uio->domain);
	uio->domain = NULL;
	uio->stats.mapped_bytes = 0;
	iommu_group_release_dma_owner(uio->group);
}

/**
 * uio_dma_map() - map pinned user pages at an IOVA userspace chose (VFIO_IOMMU_MAP_DMA).
 * @uio: the device, open.
 * @iova: where, page aligned.
 * @pages: the pages.
 * @npages: how many.
 * @prot: IOMMU_READ and/or IOMMU_WRITE.
 *
 * Return: 0; -EINVAL when the device is not open; or iommu_map()'s error (what was mapped is unmapped).
 */
int uio_dma_map(struct uio_device *uio, unsigned long iova, struct page **pages, unsigned int npages, int prot)
{
	unsigned int i;
	int ret = 0;

	if (!uio->domain)
		return -EINVAL;
	for (i = 0; i < npages; i++) {
		ret = iommu_map(uio->domain, iova + i * PAGE_SIZE, page_to_phys(pages[i]), PAGE_SIZE, prot,
				GFP_KERNEL);
		if (ret)
			break;
	}
	if (ret) {
		if (i)
			iommu_unmap(uio->domain, iova, i * PAGE_SIZE);
		return ret;
	}
	uio->stats.mapped_bytes += (unsigned long)npages * PAGE_SIZE;
	return 0;
}

/**
 * uio_dma_unmap() - unmap a range of the container (VFIO_IOMMU_UNMAP_DMA).
 * @uio: the device, open.
 * @iova: where.
 * @size: bytes.
 *
 * Return: the bytes unmapped (0 when the device is not open or nothing was mapped).
 */
size_t uio_dma_unmap(struct uio_device *uio, unsigned long iova, size_t size)
{
	size_t unmapped;

	if (!uio->domain)
		return 0;
	unmapped = iommu_unmap(uio->domain, iova, size);
	uio->stats.mapped_bytes -= unmapped;
	return unmapped;
}

/**
 * uio_from_device() - the driver's state of a device.
 * @dev: the device.
 *
 * Return: the state, or NULL when @dev is not bound to this driver.
 */
struct uio_device *uio_from_device(struct device *dev)
{
	if (!dev || dev->driver != &uio_driver.driver)
		return NULL;
	return dev_get_drvdata(dev);
}

/**
 * uio_get_stats() - read the driver's counters.
 * @uio: the device.
 * @stats: where to store them.
 */
void uio_get_stats(struct uio_device *uio, struct uio_stats *stats)
{
	*stats = uio->stats;
}

static void uio_put_group(void *group)
{
	iommu_group_put(group);
}

static int uio_probe(struct platform_device *pdev)
{
	struct uio_device *uio;
	int ret;

	uio = devm_kzalloc(&pdev->dev, sizeof(*uio), GFP_KERNEL);
	if (!uio)
		return -ENOMEM;
	uio->dev = &pdev->dev;
	/* As vfio_group_find_or_alloc(): no group, no isolation, no userspace DMA. */
	uio->group = iommu_group_get(&pdev->dev);
	if (!uio->group)
		return dev_err_probe(&pdev->dev, -EINVAL, "no IOMMU group\n");
	ret = devm_add_action_or_reset(&pdev->dev, uio_put_group, uio->group);
	if (ret)
		return ret;
	platform_set_drvdata(pdev, uio);
	dev_info(&pdev->dev, "userspace I/O device in IOMMU group %d\n", iommu_group_id(uio->group));
	return 0;
}

static void uio_remove(struct platform_device *pdev)
{
	uio_release(platform_get_drvdata(pdev));
}

static const struct of_device_id uio_of_match[] = {
	{ .compatible = "swiommu,uio" },
	{ }
};

struct platform_driver uio_driver = {
	.probe = uio_probe,
	.remove = uio_remove,
	.driver = {
		.name = "swiommu-uio",
		.of_match_table = uio_of_match,
	},
	.driver_managed_dma = true,
};
module_platform_driver(uio_driver);
