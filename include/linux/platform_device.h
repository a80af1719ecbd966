/* SPDX-License-Identifier: MIT */
/* Platform devices and drivers, mirroring the kernel's linux/platform_device.h (Linux 6.17) for swiommu. */
#ifndef _PLATFORM_DEVICE_H_
#define _PLATFORM_DEVICE_H_

#include <linux/types.h>
#include <linux/device.h>
#include <linux/ioport.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>

#define PLATFORM_DEVID_NONE	(-1)
#define PLATFORM_DEVID_AUTO	(-2)

/**
 * struct platform_device - a device on the platform bus, made from a device tree node or by code.
 * @name: its base name.
 * @id: instance id, PLATFORM_DEVID_NONE for device-tree devices.
 * @id_auto: unused.
 * @dev: the generic device.
 * @platform_dma_mask: the storage @dev.dma_mask points at.
 * @dma_parms: the storage @dev.dma_parms points at.
 * @num_resources: entries in @resource.
 * @resource: its register windows (IORESOURCE_MEM) and interrupts (IORESOURCE_IRQ).
 * @id_entry: the id_table entry it matched.
 * @driver_override: unused.
 */
struct platform_device {
	const char *name;
	int id;
	bool id_auto;
	struct device dev;
	u64 platform_dma_mask;
	struct device_dma_parameters dma_parms;
	u32 num_resources;
	struct resource *resource;
	const struct platform_device_id *id_entry;
	const char *driver_override;
};

#define to_platform_device(x) container_of((x), struct platform_device, dev)

extern const struct bus_type platform_bus_type;
#define dev_is_platform(dev) ((dev)->bus == &platform_bus_type)

/**
 * struct platform_driver - a driver for platform devices.
 * @probe: binds to a matching device; return 0, -EPROBE_DEFER to be tried again when another driver
 *         binds, or another negative errno (logged as "probe with driver ... failed with error ...").
 * @remove: unbinds (devres is released after it).
 * @shutdown: unused.
 * @suspend: unused.
 * @resume: unused.
 * @driver: the generic driver (name, of_match_table).
 * @id_table: device names it binds to when no of_match_table entry matches.
 * @prevent_deferred_probe: -EPROBE_DEFER is treated as an error.
 * @driver_managed_dma: the driver does not use the kernel DMA API (VFIO and similar) and may claim DMA
 *         ownership of its group; the IOMMU core does not make it use the default domain.
 */
struct platform_driver {
	int (*probe)(struct platform_device *);
	void (*remove)(struct platform_device *);
	void (*shutdown)(struct platform_device *);
	int (*suspend)(struct platform_device *, int state);
	int (*resume)(struct platform_device *);
	struct device_driver driver;
	const struct platform_device_id *id_table;
	bool prevent_deferred_probe;
	bool driver_managed_dma;
};

#define to_platform_driver(drv) (container_of((drv), struct platform_driver, driver))

/**
 * __platform_driver_register() - register a platform driver and bind it to every matching device.
 * @drv: the driver; it must stay valid until platform_driver_unregister().
 * @owner: THIS_MODULE (unused).
 *
 * Probing follows the kernel: of_match_table by compatible (the device's most specific compatible
 * first), then id_table by name; the bus's dma_configure runs before probe; a probe that returns
 * -EPROBE_DEFER is retried whenever another driver binds.
 *
 * Return: 0, -EINVAL for a NULL driver or one without a name, -EBUSY when it is already registered, or
 * -ENODEV before swiommu_init().
 */
int __platform_driver_register(struct platform_driver *drv, struct module *owner);
#define platform_driver_register(drv) __platform_driver_register(drv, THIS_MODULE)

/**
 * platform_driver_unregister() - unbind a driver from its devices (remove, then devres) and forget it.
 * @drv: the driver; one that is not registered is reported with a WARN record.
 */
void platform_driver_unregister(struct platform_driver *drv);

#define module_platform_driver(__platform_driver) \
	module_driver(__platform_driver, platform_driver_register, platform_driver_unregister)
#define builtin_platform_driver(__platform_driver) \
	builtin_driver(__platform_driver, platform_driver_register)

static inline void *platform_get_drvdata(const struct platform_device *pdev)
{
	return dev_get_drvdata(&pdev->dev);
}

static inline void platform_set_drvdata(struct platform_device *pdev, void *data)
{
	dev_set_drvdata(&pdev->dev, data);
}

/**
 * platform_get_resource() - the @num'th resource of @type.
 * @dev: the device.
 * @type: IORESOURCE_MEM, IORESOURCE_IRQ ...
 * @num: index among resources of that type.
 *
 * Return: the resource, or NULL when there is none.
 */
struct resource *platform_get_resource(struct platform_device *dev, unsigned int type, unsigned int num);

/**
 * platform_get_irq_optional() - the @num'th interrupt, without an error message.
 * @dev: the device.
 * @num: index.
 *
 * Return: the interrupt number (> 0) or -ENXIO.
 */
int platform_get_irq_optional(struct platform_device *dev, unsigned int num);

/**
 * platform_get_irq() - the @num'th interrupt; a missing one is logged as "IRQ index %u not found".
 * @dev: the device.
 * @num: index.
 *
 * Return: the interrupt number (> 0) or -ENXIO.
 */
int platform_get_irq(struct platform_device *dev, unsigned int num);

/**
 * platform_irq_count() - how many interrupts the device has.
 * @dev: the device.
 *
 * Return: the count.
 */
int platform_irq_count(struct platform_device *dev);

/**
 * platform_device_alloc() - create a platform device that is not registered yet.
 * @name: base name.
 * @id: instance id, or PLATFORM_DEVID_NONE.
 *
 * Return: the device (free it with platform_device_put()), or NULL when memory runs out or before
 * swiommu_init().
 */
struct platform_device *platform_device_alloc(const char *name, int id);

/**
 * platform_device_add_resources() - copy resources into a device from platform_device_alloc().
 * @pdev: the device.
 * @res: the resources.
 * @num: how many.
 *
 * Return: 0 or -ENOMEM.
 */
int platform_device_add_resources(struct platform_device *pdev, const struct resource *res, unsigned int num);

/**
 * platform_device_add_data() - copy platform data into a device from platform_device_alloc().
 * @pdev: the device.
 * @data: the bytes.
 * @size: how many.
 *
 * Return: 0 or -ENOMEM.
 */
int platform_device_add_data(struct platform_device *pdev, const void *data, size_t size);

/**
 * platform_device_add() - register a device and bind a matching driver.
 * @pdev: the device.
 *
 * Return: 0, -EINVAL for NULL, or -EEXIST when a device of that name is registered already.
 */
int platform_device_add(struct platform_device *pdev);

/**
 * platform_device_del() - unbind and unregister a device, keeping the reference.
 * @pdev: the device (NULL is ignored).
 */
void platform_device_del(struct platform_device *pdev);

/**
 * platform_device_put() - drop a reference to a device from platform_device_alloc().
 * @pdev: the device (NULL is ignored).
 */
void platform_device_put(struct platform_device *pdev);

/**
 * platform_device_register() - platform_device_add() for a device set up by the caller.
 * @pdev: the device.
 *
 * Return: as platform_device_add().
 */
int platform_device_register(struct platform_device *pdev);

/**
 * platform_device_unregister() - platform_device_del() and platform_device_put().
 * @pdev: the device (NULL is ignored).
 */
void platform_device_unregister(struct platform_device *pdev);

/**
 * platform_device_register_simple() - allocate, fill and register a device in one call.
 * @name: base name.
 * @id: instance id.
 * @res: resources, or NULL.
 * @num: how many.
 *
 * Return: the device, or ERR_PTR(-ENOMEM / -EEXIST / -ENODEV).
 */
struct platform_device *platform_device_register_simple(const char *name, int id,
							 const struct resource *res, unsigned int num);

#endif /* _PLATFORM_DEVICE_H_ */
