/* SPDX-License-Identifier: MIT */
/* Platform devices made from the device tree, mirroring the kernel's linux/of_platform.h (Linux 6.17). */
#ifndef _LINUX_OF_PLATFORM_H
#define _LINUX_OF_PLATFORM_H

#include <linux/of_device.h>
#include <linux/platform_device.h>

/**
 * of_find_device_by_node() - the platform device made from a node, with a reference taken.
 * @np: the node.
 *
 * Return: the device (drop the reference with put_device()), or NULL.
 */
struct platform_device *of_find_device_by_node(struct device_node *np);

#endif /* _LINUX_OF_PLATFORM_H */
