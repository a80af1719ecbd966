/* SPDX-License-Identifier: MIT */
/* Matching devices to drivers by device tree, mirroring the kernel's linux/of_device.h (Linux 6.17). */
#ifndef _LINUX_OF_DEVICE_H
#define _LINUX_OF_DEVICE_H

#include <linux/types.h>
#include <linux/of.h>
#include <linux/device.h>

/**
 * of_match_device() - the best entry of a match table for a device's node.
 * @matches: the table.
 * @dev: the device.
 *
 * Return: the entry, or NULL (also when the device has no node).
 */
const struct of_device_id *of_match_device(const struct of_device_id *matches, const struct device *dev);

/**
 * of_device_get_match_data() - the data of the entry the bound driver matched.
 * @dev: the device.
 *
 * Return: the entry's data, or NULL.
 */
const void *of_device_get_match_data(const struct device *dev);
#define device_get_match_data(dev) of_device_get_match_data(dev)

#endif /* _LINUX_OF_DEVICE_H */
