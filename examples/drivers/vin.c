// SPDX-License-Identifier: MIT
/*
 * A video-input (capture) driver for the default board's six "swiommu,video-input" masters behind the
 * IPMMU, as small as rcar-vin's DMA set-up: a 32-bit DMA mask and the DMA API, through whatever IOMMU
 * driver serves them (the C driver of ipmmu.c where it is linked, the built-in model otherwise).
 */
#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/platform_device.h>

static int vin_probe(struct platform_device *pdev)
{
	int irq = platform_get_irq(pdev, 0);

	if (irq < 0)
		return irq;
	/* rvin_dma_register(): a 32-bit master, its buffers from vb2-dma-contig. */
	return dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(32));
}

static const struct of_device_id vin_of_match[] = {
	{ .compatible = "swiommu,video-input" },
	{ }
};

static struct platform_driver vin_driver = {
	.probe = vin_probe,
	.driver = {
		.name = "swiommu-vin",
		.of_match_table = vin_of_match,
	},
};
module_platform_driver(vin_driver);
