// SPDX-License-Identifier: MIT
/*
 * A camera ISP driver that manages its own IOMMU domain, the way rockchip-drm (rockchip_drm_init_iommu,
 * rockchip_gem_iommu_map) and tegra-drm (tegra_bo_iommu_map) do: at probe it allocates an UNMANAGED
 * domain with iommu_paging_domain_alloc(), installs a fault handler and attaches it with
 * iommu_attach_device(); it hands out IOVAs from an IOVA space of its own (<linux/iova.h> over the
 * domain's aperture, where the DRM drivers use drm_mm) and maps each capture buffer's pages with
 * iommu_map_sgtable(). The DMA API is still used, for cache maintenance only: each buffer's table is
 * mapped with dma_map_sgtable() as tegra_bo_get_pages() does, and synced around every frame. The
 * "hardware" (a test, or the demo) writes frames with swiommu_dma_write() at the buffer's IOVA.
 */
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/iova.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include "isp.h"

struct isp_device {
	struct device *dev;
	int irq;
	struct iommu_domain *domain;
	struct iova_domain iovad;
	unsigned long iova_limit_pfn;
	struct list_head buffers;
	struct isp_stats stats;
};

/* The frame-done interrupt would complete the buffer; a translation fault drops the frame instead. */
static int isp_iommu_fault(struct iommu_domain *domain, struct device *dev, unsigned long iova, int flags,
			   void *token)
{
	struct isp_device *isp = token;

	(void)domain; (void)dev;
	isp->stats.faults++;
	isp->stats.last_fault_iova = iova;
	isp->stats.last_fault_flags = flags;
	dev_err(isp->dev, "IOMMU fault at iova %#lx (%s): frame dropped\n", iova,
		flags & IOMMU_FAULT_WRITE ? "write" : "read");
	return 0;
}

static int isp_init_iommu(struct isp_device *isp)
{
	struct iommu_domain_geometry *geometry;
	unsigned long granule;
	int ret;

	isp->domain = iommu_paging_domain_alloc(isp->dev);
	if (IS_ERR(isp->domain)) {
		ret = PTR_ERR(isp->domain);
		isp->domain = NULL;
		return ret;
	}
	geometry = &isp->domain->geometry;
	granule = 1UL << __ffs(isp->domain->pgsize_bitmap);

	ret = iova_cache_get();
	if (ret)
		goto err_free_domain;
	/* IOVA 0 is never handed out, so that a NULL address faults. */
	init_iova_domain(&isp->iovad, granule, max(1UL, (unsigned long)(geometry->aperture_start / granule)));
	isp->iova_limit_pfn = geometry->aperture_end / granule;

	iommu_set_fault_handler(isp->domain, isp_iommu_fault, isp);
	ret = iommu_attach_device(isp->domain, isp->dev);
	if (ret) {
		dev_err(isp->dev, "Failed to attach iommu device\n");
		goto err_put_iova;
	}
	dev_dbg(isp->dev, "IOMMU context initialized (aperture: %#llx-%#llx)\n",
		(unsigned long long)geometry->aperture_start, (unsigned long long)geometry->aperture_end);
	return 0;

err_put_iova:
	put_iova_domain(&isp->iovad);
	iova_cache_put();
err_free_domain:
	iommu_domain_free(isp->domain);
	isp->domain = NULL;
	return ret;
}

static void isp_iommu_cleanup(void *data)
{
	struct isp_device *isp = data;

	iommu_detach_device(isp->domain, isp->dev);
	iommu_domain_free(isp->domain);
	put_iova_domain(&isp->iovad);
	iova_cache_put();
}

static void isp_free_pages(struct isp_buffer *buf)
{
	if (buf->block)
		__free_pages(buf->block, buf->order);
	kfree(buf->pages);
}

/**
 * isp_buffer_alloc() - allocate a capture buffer and map it into the ISP's own domain.
 * @isp: the ISP.
 * @size: bytes, rounded up to pages.
 *
 * The pages come from below 4 GiB (the Rockchip IOMMU's v1 tables hold 32-bit physical addresses), are
 * mapped with the DMA API for cache maintenance, given an IOVA range of the ISP's own (with an unmapped
 * guard granule after it) and mapped there with iommu_map_sgtable(), which must map the whole buffer.
 *
 * Return: the buffer, or ERR_PTR(-EINVAL) for size 0, ERR_PTR(-ENOMEM) when memory, the DMA API, the IOVA
 * space or the IOMMU mapping fails (each undone).
 */
struct isp_buffer *isp_buffer_alloc(struct isp_device *isp, size_t size)
{
	struct isp_buffer *buf;
	struct iova *iova;
	ssize_t mapped;
	int ret;

	size = PAGE_ALIGN(size);
	if (!size)
		return ERR_PTR(-EINVAL);
	buf = kzalloc(sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	buf->size = size;
	buf->num_pages = size >> PAGE_SHIFT;
	buf->pages = kcalloc(buf->num_pages, sizeof(*buf->pages), GFP_KERNEL);
	if (!buf->pages) {
		ret = -ENOMEM;
		goto err_free_buf;
	}
	/*
	 * Upstream drivers take scattered shmem pages here (drm_gem_get_pages()). swiommu's Rockchip model
	 * refuses a batch of 4 KiB pages whose IOVA is more aligned than its physical address (reported on
	 * the drivers branch), which pages that happen to be contiguous give, so the pages come from one
	 * block aligned as the buffer's IOVA will be. TODO: alloc_page() per page once the model is fixed.
	 */
	buf->order = get_order(size);
	buf->block = alloc_pages(GFP_KERNEL | GFP_DMA32 | __GFP_ZERO, buf->order);
	if (!buf->block) {
		ret = -ENOMEM;
		goto err_free_pages;
	}
	for (unsigned int i = 0; i < buf->num_pages; i++)
		buf->pages[i] = nth_page(buf->block, i);
	ret = sg_alloc_table_from_pages(&buf->sgt, buf->pages, buf->num_pages, 0, size, GFP_KERNEL);
	if (ret)
		goto err_free_pages;
	/* As tegra_bo_get_pages(): mapped through the DMA API for its cache maintenance, not its IOVAs. */
	ret = dma_map_sgtable(isp->dev, &buf->sgt, DMA_FROM_DEVICE, 0);
	if (ret)
		goto err_free_table;

	/* One more granule, left unmapped: a DMA overrun faults instead of writing the next buffer. */
	iova = alloc_iova(&isp->iovad, (size >> iova_shift(&isp->iovad)) + 1, isp->iova_limit_pfn, true);
	if (!iova) {
		dev_err(isp->dev, "out of I/O virtual memory\n");
		ret = -ENOMEM;
		goto err_unmap_dma;
	}
	buf->iova = iova_dma_addr(&isp->iovad, iova);
	mapped = iommu_map_sgtable(isp->domain, buf->iova, &buf->sgt, IOMMU_READ | IOMMU_WRITE);
	if (mapped < (ssize_t)size) {
		dev_err(isp->dev, "failed to map buffer: size=%zd request_size=%zu\n", mapped, size);
		ret = -ENOMEM;
		goto err_free_iova;
	}
	buf->vaddr = vmap(buf->pages, buf->num_pages, VM_MAP, PAGE_KERNEL);
	if (!buf->vaddr) {
		ret = -ENOMEM;
		goto err_unmap_iommu;
	}
	list_add_tail(&buf->list, &isp->buffers);
	isp->stats.buffers++;
	isp->stats.mapped_bytes += size;
	return buf;

err_unmap_iommu:
	iommu_unmap(isp->domain, buf->iova, size);
err_free_iova:
	__free_iova(&isp->iovad, iova);
err_unmap_dma:
	dma_unmap_sgtable(isp->dev, &buf->sgt, DMA_FROM_DEVICE, 0);
err_free_table:
	sg_free_table(&buf->sgt);
err_free_pages:
	isp_free_pages(buf);
err_free_buf:
	kfree(buf);
	return ERR_PTR(ret);
}

/**
 * isp_buffer_free() - unmap a buffer from the ISP's domain and free it.
 * @isp: the ISP.
 * @buf: a buffer from isp_buffer_alloc().
 */
void isp_buffer_free(struct isp_device *isp, struct isp_buffer *buf)
{
	list_del(&buf->list);
	vunmap(buf->vaddr);
	WARN_ON(iommu_unmap(isp->domain, buf->iova, buf->size) != buf->size);
	free_iova(&isp->iovad, iova_pfn(&isp->iovad, buf->iova));
	dma_unmap_sgtable(isp->dev, &buf->sgt, DMA_FROM_DEVICE, 0);
	sg_free_table(&buf->sgt);
	isp_free_pages(buf);
	isp->stats.buffers--;
	isp->stats.mapped_bytes -= buf->size;
	kfree(buf);
}

/**
 * isp_buffer_queue() - hand a buffer to the hardware: its CPU cache lines go before the ISP writes.
 * @isp: the ISP.
 * @buf: the buffer.
 */
void isp_buffer_queue(struct isp_device *isp, struct isp_buffer *buf)
{
	dma_sync_sgtable_for_device(isp->dev, &buf->sgt, DMA_FROM_DEVICE);
}

/**
 * isp_frame_done() - the frame-done interrupt: give the buffer back to the CPU.
 * @isp: the ISP.
 * @buf: the buffer the hardware filled.
 */
void isp_frame_done(struct isp_device *isp, struct isp_buffer *buf)
{
	dma_sync_sgtable_for_cpu(isp->dev, &buf->sgt, DMA_FROM_DEVICE);
	isp->stats.frames++;
}

/**
 * isp_from_device() - the ISP driver's state of a device.
 * @dev: the device.
 *
 * Return: the state, or NULL when @dev is not bound to this driver.
 */
struct isp_device *isp_from_device(struct device *dev)
{
	if (!dev || dev->driver != &isp_driver.driver)
		return NULL;
	return dev_get_drvdata(dev);
}

/**
 * isp_domain() - the ISP's own domain.
 * @isp: the ISP.
 *
 * Return: the UNMANAGED domain the ISP attached at probe.
 */
struct iommu_domain *isp_domain(struct isp_device *isp)
{
	return isp->domain;
}

/**
 * isp_get_stats() - read the driver's counters.
 * @isp: the ISP.
 * @stats: where to store them.
 */
void isp_get_stats(struct isp_device *isp, struct isp_stats *stats)
{
	*stats = isp->stats;
}

static int isp_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct isp_device *isp;
	int ret;

	isp = devm_kzalloc(dev, sizeof(*isp), GFP_KERNEL);
	if (!isp)
		return -ENOMEM;
	isp->dev = dev;
	INIT_LIST_HEAD(&isp->buffers);
	if (!platform_get_resource(pdev, IORESOURCE_MEM, 0))
		return dev_err_probe(dev, -ENODEV, "no register window\n");
	isp->irq = platform_get_irq(pdev, 0);
	if (isp->irq < 0)
		return isp->irq;
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32));
	if (ret)
		return ret;
	if (!dev->iommu_group)
		return dev_err_probe(dev, -ENODEV, "no IOMMU: the ISP needs its own domain\n");

	ret = isp_init_iommu(isp);
	if (ret)
		return dev_err_probe(dev, ret, "cannot set up its IOMMU domain\n");
	ret = devm_add_action_or_reset(dev, isp_iommu_cleanup, isp);
	if (ret)
		return ret;
	platform_set_drvdata(pdev, isp);
	dev_info(dev, "own IOMMU domain attached, IOVA %#lx-%#lx, irq %d\n",
		 isp->iovad.start_pfn << iova_shift(&isp->iovad),
		 ((isp->iova_limit_pfn + 1) << iova_shift(&isp->iovad)) - 1, isp->irq);
	return 0;
}

/* As vb2_queue_release() would: buffers still queued go before the domain does (devres, after this). */
static void isp_remove(struct platform_device *pdev)
{
	struct isp_device *isp = platform_get_drvdata(pdev);
	struct isp_buffer *buf, *next;

	list_for_each_entry_safe(buf, next, &isp->buffers, list)
		isp_buffer_free(isp, buf);
}

static const struct of_device_id isp_of_match[] = {
	{ .compatible = "swiommu,camera-isp" },
	{ }
};

struct platform_driver isp_driver = {
	.probe = isp_probe,
	.remove = isp_remove,
	.driver = {
		.name = "swiommu-isp",
		.of_match_table = isp_of_match,
	},
};
module_platform_driver(isp_driver);
