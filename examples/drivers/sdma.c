// SPDX-License-Identifier: MIT
/*
 * A memory-to-memory DMA engine driver, written as a dmaengine provider is (channels, prep_dma_memcpy
 * and scatter-gather preps returning cookies, issue_pending, tx_status), for the default board's
 * 8-channel engine: channels 0-3 behind one SMMUv3, 4-5 behind a second, 6-7 bypassing translation.
 *
 * Its clients map buffers for the channel they use: a channel is one of the engine's DMA channels
 * (swiommu's channel extension of "iommus"), so the mapping is made with dma_map_page_attrs_multi() for
 * that channel alone, and carries an IOVA of its SMMU's domain, or the bus address on a bypass channel.
 *
 * The HIDMA way (drivers/dma/qcom/hidma_mgmt.c before 6.x): sdma_populate_channel_devices() creates a
 * child platform device per channel (reusing the engine's node, as device_set_of_node_from_dev() does),
 * bound by the "sdma-chan" driver; the bus's dma_configure then gives each channel device groups and
 * default domains of its own, so the channels are isolated from each other. As hidma_mgmt's children,
 * they stay until the machine goes down. The engine itself is simulated at the end of this file.
 */
#include <string.h>
#include <linux/bitops.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <swiommu/dma.h>
#include "sdma.h"

#define SDMA_QUEUE_LEN		64

enum sdma_status {
	SDMA_FREE,
	SDMA_PREPARED,
	SDMA_ISSUED,
	SDMA_COMPLETE,
	SDMA_ERROR,
};

struct sdma_desc {
	dma_addr_t dst;
	dma_addr_t src;
	size_t len;
	enum sdma_status status;
};

struct sdma_chan {
	struct sdma_device *sdma;
	unsigned int id;
	struct device *dev;
	struct sdma_desc queue[SDMA_QUEUE_LEN];
	unsigned int next;
	struct sdma_chan_stats stats;
};

struct sdma_device {
	struct device *dev;
	int irq;
	unsigned int num_channels;
	struct sdma_chan chan[SDMA_MAX_CHANNELS];
};

/* The channel devices: created once per boot, as hidma_mgmt's were, and never removed. */
static struct platform_device *sdma_chan_pdevs[SDMA_MAX_CHANNELS];

static void sdma_hw_run(struct sdma_chan *chan);

/**
 * sdma_from_device() - the engine driver's state of a device.
 * @dev: the engine's device.
 *
 * Return: the state, or NULL when @dev is not bound to this driver.
 */
struct sdma_device *sdma_from_device(struct device *dev)
{
	if (!dev || dev->driver != &sdma_driver.driver)
		return NULL;
	return dev_get_drvdata(dev);
}

/**
 * sdma_num_channels() - the engine's channel count ("dma-channels").
 * @sdma: the engine.
 *
 * Return: the count.
 */
unsigned int sdma_num_channels(struct sdma_device *sdma)
{
	return sdma->num_channels;
}

/**
 * sdma_request_chan() - a channel of the engine (dma_request_chan()).
 * @sdma: the engine.
 * @id: the channel number.
 *
 * Return: the channel, or NULL for a number the engine does not have.
 */
struct sdma_chan *sdma_request_chan(struct sdma_device *sdma, unsigned int id)
{
	return id < sdma->num_channels ? &sdma->chan[id] : NULL;
}

/**
 * sdma_chan_dma_device() - the device a channel's buffers are mapped for (dmaengine_get_dma_device()):
 * the engine, or the channel's own device once populated.
 * @chan: the channel.
 *
 * Return: the device.
 */
struct device *sdma_chan_dma_device(struct sdma_chan *chan)
{
	return chan->dev;
}

/**
 * sdma_map_single() - map a buffer for one channel: its IOMMU domain, or the bus on a bypass channel.
 * @chan: the channel.
 * @buf: linear-map memory.
 * @len: bytes.
 * @dir: the direction.
 *
 * Return: the channel's address of @buf, or DMA_MAPPING_ERROR.
 */
dma_addr_t sdma_map_single(struct sdma_chan *chan, void *buf, size_t len, enum dma_data_direction dir)
{
	dma_addr_t addrs[SDMA_MAX_CHANNELS];

	return dma_map_page_attrs_multi(chan->dev, virt_to_page(buf), offset_in_page(buf), len, dir, 0,
					BIT(chan->id), addrs);
}

/**
 * sdma_unmap_single() - unmap what sdma_map_single() mapped.
 * @chan: the channel.
 * @addr: the address it returned.
 * @len: bytes.
 * @dir: the direction.
 */
void sdma_unmap_single(struct sdma_chan *chan, dma_addr_t addr, size_t len, enum dma_data_direction dir)
{
	dma_addr_t addrs[SDMA_MAX_CHANNELS];

	addrs[chan->id] = addr;
	dma_unmap_page_attrs_multi(chan->dev, addrs, len, dir, 0, BIT(chan->id));
}

/**
 * sdma_map_sg() - map a scatterlist for one channel, entry by entry (swiommu has no channel-aware
 * dma_map_sg(), so entries are not merged).
 * @chan: the channel.
 * @sgl: the list.
 * @nents: its entries.
 * @dir: the direction.
 *
 * Return: @nents, with every entry's sg_dma_address/len set, or 0 when an entry fails (the others are
 * unmapped again).
 */
int sdma_map_sg(struct sdma_chan *chan, struct scatterlist *sgl, unsigned int nents, enum dma_data_direction dir)
{
	dma_addr_t addrs[SDMA_MAX_CHANNELS];
	struct scatterlist *sg;
	unsigned int i;

	for_each_sg(sgl, sg, nents, i) {
		if (dma_mapping_error(chan->dev, dma_map_page_attrs_multi(chan->dev, sg_page(sg), sg->offset, sg->length,
									  dir, 0, BIT(chan->id), addrs))) {
			sdma_unmap_sg(chan, sgl, i, dir);
			return 0;
		}
		sg_dma_address(sg) = addrs[chan->id];
		sg_dma_len(sg) = sg->length;
	}
	return nents;
}

/**
 * sdma_unmap_sg() - unmap what sdma_map_sg() mapped.
 * @chan: the channel.
 * @sgl: the list.
 * @nents: the entries it mapped.
 * @dir: the direction.
 */
void sdma_unmap_sg(struct sdma_chan *chan, struct scatterlist *sgl, unsigned int nents, enum dma_data_direction dir)
{
	struct scatterlist *sg;
	unsigned int i;

	for_each_sg(sgl, sg, nents, i)
		sdma_unmap_single(chan, sg_dma_address(sg), sg_dma_len(sg), dir);
}

static int sdma_queue(struct sdma_chan *chan, dma_addr_t dst, dma_addr_t src, size_t len)
{
	struct sdma_desc *desc = &chan->queue[chan->next];

	if (desc->status == SDMA_PREPARED || desc->status == SDMA_ISSUED)
		return -ENOSPC;
	*desc = (struct sdma_desc){ .dst = dst, .src = src, .len = len, .status = SDMA_PREPARED };
	chan->stats.submitted++;
	chan->next = (chan->next + 1) % SDMA_QUEUE_LEN;
	return desc - chan->queue;
}

/**
 * sdma_prep_memcpy() - prepare a copy (device_prep_dma_memcpy()).
 * @chan: the channel.
 * @dst: destination, the channel's address.
 * @src: source, the channel's address.
 * @len: bytes (not 0).
 *
 * Return: the descriptor's cookie (>= 0), -EINVAL for a zero length, -ENOSPC when the queue is full.
 */
int sdma_prep_memcpy(struct sdma_chan *chan, dma_addr_t dst, dma_addr_t src, size_t len)
{
	if (!len)
		return -EINVAL;
	return sdma_queue(chan, dst, src, len);
}

/**
 * sdma_prep_sg() - prepare a scatter-gather copy: the source entries, in order, into the destination
 * entries, in order, one descriptor per piece, as one transaction.
 * @chan: the channel.
 * @dst_sg: the destination list, mapped for the channel.
 * @dst_nents: its entries.
 * @src_sg: the source list, mapped for the channel.
 * @src_nents: its entries.
 *
 * Return: the cookie of the transaction's last descriptor (>= 0), -EINVAL when the lists are empty or
 * of different lengths, -ENOSPC when the queue is full (nothing is queued).
 */
int sdma_prep_sg(struct sdma_chan *chan, struct scatterlist *dst_sg, unsigned int dst_nents,
		 struct scatterlist *src_sg, unsigned int src_nents)
{
	size_t dst_off = 0, src_off = 0, dst_total = 0, src_total = 0;
	unsigned int first = chan->next, pieces = 0;
	int cookie = -EINVAL;
	struct scatterlist *sg;
	unsigned int i;

	for_each_sg(dst_sg, sg, dst_nents, i)
		dst_total += sg_dma_len(sg);
	for_each_sg(src_sg, sg, src_nents, i)
		src_total += sg_dma_len(sg);
	if (!dst_total || dst_total != src_total)
		return -EINVAL;

	while (dst_sg && src_sg && dst_nents && src_nents) {
		size_t len = min_t(size_t, sg_dma_len(dst_sg) - dst_off, sg_dma_len(src_sg) - src_off);

		cookie = sdma_queue(chan, sg_dma_address(dst_sg) + dst_off, sg_dma_address(src_sg) + src_off, len);
		if (cookie < 0)
			goto err_unqueue;
		pieces++;
		dst_off += len;
		src_off += len;
		if (dst_off == sg_dma_len(dst_sg)) {
			dst_sg = sg_next(dst_sg);
			dst_nents--;
			dst_off = 0;
		}
		if (src_off == sg_dma_len(src_sg)) {
			src_sg = sg_next(src_sg);
			src_nents--;
			src_off = 0;
		}
	}
	return cookie;

err_unqueue:
	for (i = 0; i < pieces; i++)
		chan->queue[(first + i) % SDMA_QUEUE_LEN].status = SDMA_FREE;
	chan->next = first;
	chan->stats.submitted -= pieces;
	return cookie;
}

/**
 * sdma_issue_pending() - start the prepared descriptors (device_issue_pending()); the simulated
 * engine completes them at once.
 * @chan: the channel.
 */
void sdma_issue_pending(struct sdma_chan *chan)
{
	for (unsigned int i = 0; i < SDMA_QUEUE_LEN; i++)
		if (chan->queue[i].status == SDMA_PREPARED)
			chan->queue[i].status = SDMA_ISSUED;
	sdma_hw_run(chan);
}

/**
 * sdma_tx_status() - how a descriptor ended (device_tx_status()).
 * @chan: the channel.
 * @cookie: from a prep call.
 *
 * Return: 0 when it completed, -EINPROGRESS while it is prepared or issued, -EIO after a transfer
 * error, -EINVAL for a cookie that names no descriptor.
 */
int sdma_tx_status(struct sdma_chan *chan, int cookie)
{
	if (cookie < 0 || cookie >= SDMA_QUEUE_LEN)
		return -EINVAL;
	switch (chan->queue[cookie].status) {
	case SDMA_COMPLETE:
		return 0;
	case SDMA_PREPARED:
	case SDMA_ISSUED:
		return -EINPROGRESS;
	case SDMA_ERROR:
		return -EIO;
	default:
		return -EINVAL;
	}
}

/**
 * sdma_chan_get_stats() - read a channel's counters.
 * @chan: the channel.
 * @stats: where to store them.
 */
void sdma_chan_get_stats(struct sdma_chan *chan, struct sdma_chan_stats *stats)
{
	*stats = chan->stats;
}

/*
 * The channel device's driver: a channel device does its own channel's DMA (its id is the channel). The
 * engine looks its channel devices up itself, so that they outlive a rebind of the engine.
 */
static int sdma_chan_probe(struct platform_device *pdev)
{
	struct sdma_device *sdma = dev_get_drvdata(pdev->dev.parent);

	if (!sdma || pdev->id < 0 || (unsigned int)pdev->id >= sdma->num_channels)
		return -ENODEV;
	return dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
}

static const struct platform_device_id sdma_chan_ids[] = {
	{ .name = "sdma-chan" },
	{ }
};

static struct platform_driver sdma_chan_driver = {
	.probe = sdma_chan_probe,
	.driver = {
		.name = "sdma-chan",
	},
	.id_table = sdma_chan_ids,
};

static int sdma_add_channel_device(struct sdma_device *sdma, unsigned int id)
{
	struct platform_device *pdev;
	int ret;

	pdev = platform_device_alloc("sdma-chan", id);
	if (!pdev)
		return -ENOMEM;
	pdev->dev.parent = sdma->dev;
	/* device_set_of_node_from_dev(): the channel inherits the engine's DMA configuration. */
	pdev->dev.of_node = sdma->dev->of_node;
	pdev->dev.fwnode = sdma->dev->fwnode;
	pdev->dev.of_node_reused = true;
	ret = platform_device_add(pdev);
	if (ret) {
		platform_device_put(pdev);
		return ret;
	}
	sdma_chan_pdevs[id] = pdev;
	return 0;
}

/**
 * sdma_populate_channel_devices() - give every channel a device of its own (the HIDMA way): from then
 * on a channel's buffers are mapped for its device, in its own groups and default domains.
 * @sdma: the engine.
 *
 * Calling it again (or after the engine rebinds) reuses the devices made the first time.
 *
 * Return: 0; -EPROBE_DEFER when a channel device is not bound (yet); or the error of the first channel
 * device that could not be made. The channels before it have their devices; the others keep the engine.
 */
int sdma_populate_channel_devices(struct sdma_device *sdma)
{
	int ret;

	for (unsigned int id = 0; id < sdma->num_channels; id++) {
		if (!sdma_chan_pdevs[id]) {
			ret = sdma_add_channel_device(sdma, id);
			if (ret)
				return ret;
		}
		/* A channel device whose probe was deferred is retried when another driver binds. */
		if (!device_is_bound(&sdma_chan_pdevs[id]->dev)) {
			dev_warn(sdma->dev, "channel %u: its device is not bound yet\n", id);
			return -EPROBE_DEFER;
		}
		sdma->chan[id].dev = &sdma_chan_pdevs[id]->dev;
	}
	dev_info(sdma->dev, "%u channel devices\n", sdma->num_channels);
	return 0;
}

static int sdma_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct sdma_device *sdma;
	u32 channels;
	int ret;

	/* A channel device shares the engine's node: it is not an engine. */
	if (dev->of_node_reused)
		return -ENODEV;
	sdma = devm_kzalloc(dev, sizeof(*sdma), GFP_KERNEL);
	if (!sdma)
		return -ENOMEM;
	sdma->dev = dev;
	if (!platform_get_resource(pdev, IORESOURCE_MEM, 0))
		return -ENODEV;
	sdma->irq = platform_get_irq(pdev, 0);
	if (sdma->irq < 0)
		return sdma->irq;
	ret = of_property_read_u32(dev->of_node, "dma-channels", &channels);
	if (ret)
		return dev_err_probe(dev, ret, "number of channels missing\n");
	if (channels > SDMA_MAX_CHANNELS)
		return dev_err_probe(dev, -EINVAL, "%u channels: at most %u\n", channels, SDMA_MAX_CHANNELS);
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	sdma->num_channels = channels;
	for (unsigned int id = 0; id < channels; id++) {
		sdma->chan[id].sdma = sdma;
		sdma->chan[id].id = id;
		sdma->chan[id].dev = dev;
	}
	platform_set_drvdata(pdev, sdma);
	dev_info(dev, "%u physical channels, irq %d\n", channels, sdma->irq);
	return 0;
}

static const struct of_device_id sdma_of_match[] = {
	{ .compatible = "swiommu,dma-engine" },
	{ }
};

struct platform_driver sdma_driver = {
	.probe = sdma_probe,
	.driver = {
		.name = "swiommu-dma",
		.of_match_table = sdma_of_match,
	},
};

static int __init sdma_init(void)
{
	int ret;

	memset(sdma_chan_pdevs, 0, sizeof(sdma_chan_pdevs));
	/* The channel driver first, so that channel devices bind to it rather than to the engine's. */
	ret = platform_driver_register(&sdma_chan_driver);
	if (ret)
		return ret;
	ret = platform_driver_register(&sdma_driver);
	if (ret)
		platform_driver_unregister(&sdma_chan_driver);
	return ret;
}

static void __exit sdma_exit(void)
{
	platform_driver_unregister(&sdma_driver);
	platform_driver_unregister(&sdma_chan_driver);
	memset(sdma_chan_pdevs, 0, sizeof(sdma_chan_pdevs));
}

module_init(sdma_init);
module_exit(sdma_exit);

/* -----------------------------------------------------------------------------
 * The engine (simulated): each issued descriptor is read from its source and written to its
 * destination through the channel's own DMA port, a FIFO's worth at a time.
 */

#define SDMA_HW_FIFO	256

static int sdma_hw_copy(struct sdma_chan *chan, struct sdma_desc *desc)
{
	u8 fifo[SDMA_HW_FIFO];
	int ret;

	for (size_t done = 0; done < desc->len; done += SDMA_HW_FIFO) {
		size_t chunk = min_t(size_t, SDMA_HW_FIFO, desc->len - done);

		ret = swiommu_dma_read(chan->dev, chan->id, desc->src + done, fifo, chunk);
		if (!ret)
			ret = swiommu_dma_write(chan->dev, chan->id, desc->dst + done, fifo, chunk);
		if (ret)
			return ret;
	}
	return 0;
}

static void sdma_hw_run(struct sdma_chan *chan)
{
	for (unsigned int i = 0; i < SDMA_QUEUE_LEN; i++) {
		struct sdma_desc *desc = &chan->queue[(chan->next + i) % SDMA_QUEUE_LEN];

		if (desc->status != SDMA_ISSUED)
			continue;
		if (sdma_hw_copy(chan, desc)) {
			desc->status = SDMA_ERROR;
			chan->stats.errors++;
			dev_err(chan->sdma->dev, "channel %u: transfer error (%#llx -> %#llx, %zu bytes)\n", chan->id,
				(unsigned long long)desc->src, (unsigned long long)desc->dst, desc->len);
			continue;
		}
		desc->status = SDMA_COMPLETE;
		chan->stats.completed++;
		chan->stats.bytes += desc->len;
	}
}
