/* SPDX-License-Identifier: MIT */
/* What the board says about a device's DMA: its channels, their IOMMUs and IDs, reserved regions. */
#ifndef _SWIOMMU_TOPOLOGY_H
#define _SWIOMMU_TOPOLOGY_H

#include <linux/types.h>

struct device;
struct device_node;

#define SWIOMMU_MAX_IOMMU_IDS	8

/**
 * struct swiommu_channel - one DMA channel (bus-master port) of a device.
 * @iommu: the IOMMU instance's node, or NULL when the channel bypasses translation (a null "iommus"
 *         entry: swiommu's channel extension) or the device has no IOMMU.
 * @num_ids: how many specifier cells follow the phandle (the IOMMU's #iommu-cells).
 * @ids: the cells: stream IDs, stream-match masks, micro-TLB IDs ...
 */
struct swiommu_channel {
	struct device_node *iommu;
	unsigned int num_ids;
	u32 ids[SWIOMMU_MAX_IOMMU_IDS];
};

/* How a master stands with its IOMMU after of_iommu_configure ran at its last bind. */
enum swiommu_iommu_link {
	SWIOMMU_IOMMU_NONE,		/* no "iommus" and no iommu-map entry */
	SWIOMMU_IOMMU_DEFERRED,		/* waiting for an IOMMU driver (-EPROBE_DEFER during boot) */
	SWIOMMU_IOMMU_DISABLED,		/* an IOMMU node is disabled: DMA goes around it */
	SWIOMMU_IOMMU_NO_DRIVER,	/* no IOMMU driver by the end of boot: DMA goes around it */
	SWIOMMU_IOMMU_ATTACHED,		/* an IOMMU driver serves it */
};

/* Kernel: enum iommu_resv_type, the two kinds a device tree describes. */
#define SWIOMMU_RESV_DIRECT	0
#define SWIOMMU_RESV_RESERVED	1

/**
 * struct swiommu_resv_region - a reserved IOVA region from "memory-region" + "iommu-addresses".
 * @start: first IOVA.
 * @length: bytes.
 * @prot: IOMMU_READ | IOMMU_WRITE (1 | 2), plus IOMMU_CACHE (4) for a coherent master.
 * @type: SWIOMMU_RESV_DIRECT (mapped 1:1) or SWIOMMU_RESV_RESERVED (never mapped).
 */
struct swiommu_resv_region {
	u64 start;
	u64 length;
	int prot;
	int type;
};

/**
 * swiommu_device_channel_count() - how many DMA channels a device has: its "iommus" entries, one for
 * a PCI-like device under an iommu-map, else one (channel 0, direct).
 * @dev: the device.
 *
 * Channels are known once the device has been bound (of_dma_configure runs at bind); before that a
 * device with "iommus" reports what the board says.
 *
 * Return: the count, or -EINVAL for a NULL or ERR_PTR device.
 */
int swiommu_device_channel_count(struct device *dev);

/**
 * swiommu_device_channel() - one channel of a device.
 * @dev: the device.
 * @channel: its number (the position in "iommus").
 * @out: where to store it.
 *
 * Return: 0, -EINVAL for a bad device or NULL @out, or -ENOENT past the last channel.
 */
int swiommu_device_channel(struct device *dev, unsigned int channel, struct swiommu_channel *out);

/**
 * swiommu_device_iommu_link() - what of_iommu_configure concluded at the device's last bind.
 * @dev: the device.
 *
 * Return: an enum swiommu_iommu_link value, or -EINVAL for a bad device.
 */
int swiommu_device_iommu_link(struct device *dev);

/**
 * swiommu_device_resv_region() - one reserved IOVA region of a device (known once it was bound).
 * @dev: the device.
 * @index: 0, 1, ...
 * @out: where to store it.
 *
 * Return: 0, -EINVAL for a bad device or NULL @out, or -ENOENT past the last region.
 */
int swiommu_device_resv_region(struct device *dev, unsigned int index, struct swiommu_resv_region *out);

/**
 * swiommu_device_requester_id() - the requester ID (bus << 8 | devfn) of a PCI-like device.
 * @dev: the device.
 *
 * Return: the ID, -ENODEV for a device that is not PCI-like, or -EINVAL for a bad device.
 */
int swiommu_device_requester_id(struct device *dev);

#endif /* _SWIOMMU_TOPOLOGY_H */
