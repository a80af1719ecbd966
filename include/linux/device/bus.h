/* SPDX-License-Identifier: MIT */
/* Buses, mirroring the kernel's linux/device/bus.h (Linux 6.17) for swiommu. */
#ifndef _DEVICE_BUS_H_
#define _DEVICE_BUS_H_

#include <linux/types.h>

struct device;
struct device_driver;

/**
 * struct bus_type - a bus: the platform bus is the one swiommu's boards populate.
 * @name: "platform", ...
 * @match: whether a driver matches a device.
 * @probe: bus-level probe.
 * @remove: bus-level remove.
 * @dma_configure: called before a driver probes (of_dma_configure for the platform bus).
 * @dma_cleanup: called after a driver is removed.
 */
struct bus_type {
	const char *name;
	int (*match)(struct device *dev, const struct device_driver *drv);
	int (*probe)(struct device *dev);
	void (*remove)(struct device *dev);
	int (*dma_configure)(struct device *dev);
	void (*dma_cleanup)(struct device *dev);
};

#endif /* _DEVICE_BUS_H_ */
