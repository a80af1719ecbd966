// SPDX-License-Identifier: MIT
/*
 * A plain DMA-API driver for the default board's "swiommu,dma-client" device, which sits in the uio
 * device's IOMMU group (uio.c). Not being driver_managed_dma, it makes the bus claim the group's default
 * domain before its probe runs, which is refused (-EBUSY, the probe never runs) while userspace owns
 * the group. Its buffers are streaming mappings of memory below 4 GiB (__GFP_DMA): the RK3399 IOMMU's v1
 * tables hold 32-bit physical addresses, and the default board has RAM above 4 GiB, where
 * dma_alloc_coherent() takes its pages (so a coherent ring here fails with -ENOMEM: see the report).
 */
#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/platform_device.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include "uio.h"

#define DMA_CLIENT_BUF_SIZE	SZ_4K

struct dma_client {
	struct device *dev;
	void *buf;
	dma_addr_t buf_dma;
};

/**
 * dma_client_buffer() - the streaming buffer of a device bound to the DMA-API client driver, mapped
 * DMA_BIDIRECTIONAL while the driver is bound.
 * @dev: the device.
 * @dma: where to store its DMA address.
 *
 * Return: the CPU address, or NULL when @dev is not bound to this driver.
 */
void *dma_client_buffer(struct device *dev, dma_addr_t *dma)
{
	struct dma_client *client;

	if (!dev || dev->driver != &dma_client_driver.driver)
		return NULL;
	client = dev_get_drvdata(dev);
	*dma = client->buf_dma;
	return client->buf;
}

static void dma_client_unmap(void *data)
{
	struct dma_client *client = data;

	dma_unmap_single(client->dev, client->buf_dma, DMA_CLIENT_BUF_SIZE, DMA_BIDIRECTIONAL);
}

static int dma_client_probe(struct platform_device *pdev)
{
	struct dma_client *client;
	int ret;

	client = devm_kzalloc(&pdev->dev, sizeof(*client), GFP_KERNEL);
	if (!client)
		return -ENOMEM;
	client->dev = &pdev->dev;
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(32));
	if (ret)
		return ret;
	client->buf = devm_kzalloc(&pdev->dev, DMA_CLIENT_BUF_SIZE, GFP_KERNEL | __GFP_DMA);
	if (!client->buf)
		return -ENOMEM;
	client->buf_dma = dma_map_single(&pdev->dev, client->buf, DMA_CLIENT_BUF_SIZE, DMA_BIDIRECTIONAL);
	if (dma_mapping_error(&pdev->dev, client->buf_dma))
		return -ENOMEM;
	ret = devm_add_action_or_reset(&pdev->dev, dma_client_unmap, client);
	if (ret)
		return ret;
	platform_set_drvdata(pdev, client);
	dev_info(&pdev->dev, "buffer mapped at %#llx\n", (unsigned long long)client->buf_dma);
	return 0;
}

static const struct of_device_id dma_client_of_match[] = {
	{ .compatible = "swiommu,dma-client" },
	{ }
};

struct platform_driver dma_client_driver = {
	.probe = dma_client_probe,
	.driver = {
		.name = "swiommu-dma-client",
		.of_match_table = dma_client_of_match,
	},
};
module_platform_driver(dma_client_driver);
