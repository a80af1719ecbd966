/* SPDX-License-Identifier: MIT */
/* Device drivers, mirroring the kernel's linux/device/driver.h (Linux 6.17) for swiommu. */
#ifndef _DEVICE_DRIVER_H_
#define _DEVICE_DRIVER_H_

#include <linux/types.h>

struct device;
struct module;
struct bus_type;
struct of_device_id;
struct dev_pm_ops;

enum probe_type {
	PROBE_DEFAULT_STRATEGY,
	PROBE_PREFER_ASYNCHRONOUS,
	PROBE_FORCE_SYNCHRONOUS,
};

/**
 * struct device_driver - the generic part of a driver.
 * @name: the driver's name (dev_driver_string() of a bound device).
 * @bus: the bus it serves.
 * @owner: THIS_MODULE (always NULL here).
 * @mod_name: unused.
 * @suppress_bind_attrs: unused.
 * @probe_type: unused: probing is synchronous.
 * @of_match_table: compatible strings it binds to; an empty entry ends the table.
 * @acpi_match_table: unused.
 * @probe: generic probe (platform drivers use struct platform_driver's).
 * @sync_state: unused.
 * @remove: generic remove.
 * @shutdown: unused.
 * @pm: unused.
 */
struct device_driver {
	const char *name;
	const struct bus_type *bus;
	struct module *owner;
	const char *mod_name;
	bool suppress_bind_attrs;
	enum probe_type probe_type;
	const struct of_device_id *of_match_table;
	const void *acpi_match_table;
	int (*probe)(struct device *dev);
	void (*sync_state)(struct device *dev);
	int (*remove)(struct device *dev);
	void (*shutdown)(struct device *dev);
	const struct dev_pm_ops *pm;
};

#endif /* _DEVICE_DRIVER_H_ */
