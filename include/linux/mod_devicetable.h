/* SPDX-License-Identifier: MIT */
/* Device ID tables, mirroring the kernel's linux/mod_devicetable.h (Linux 6.17) for swiommu. */
#ifndef LINUX_MOD_DEVICETABLE_H
#define LINUX_MOD_DEVICETABLE_H

#include <linux/types.h>

typedef unsigned long kernel_ulong_t;

/**
 * struct of_device_id - one entry of a driver's of_match_table; an empty entry ends the table.
 * @name: node name to match (empty: any).
 * @type: device_type to match (empty: any).
 * @compatible: compatible string to match.
 * @data: driver data, returned by of_device_get_match_data().
 */
struct of_device_id {
	char name[32];
	char type[32];
	char compatible[128];
	const void *data;
};

#define PLATFORM_NAME_SIZE	20
#define PLATFORM_MODULE_PREFIX	"platform:"

/**
 * struct platform_device_id - one entry of a platform driver's id_table, matched by device name.
 * @name: the device name.
 * @driver_data: driver data.
 */
struct platform_device_id {
	char name[PLATFORM_NAME_SIZE];
	kernel_ulong_t driver_data;
};

#endif /* LINUX_MOD_DEVICETABLE_H */
