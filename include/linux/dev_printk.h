/* SPDX-License-Identifier: MIT */
/* dev_err() and friends, mirroring the kernel's linux/dev_printk.h (Linux 6.17) for swiommu. */
#ifndef _DEVICE_PRINTK_H_
#define _DEVICE_PRINTK_H_

#include <linux/types.h>
#include <linux/printk.h>

struct device;

#ifndef dev_fmt
#define dev_fmt(fmt) fmt
#endif

/**
 * _dev_printk() - log a message about a device, prefixed "<driver> <device>: " as the kernel does.
 * @level: KERN_<LEVEL>.
 * @dev: the device (NULL prints "(NULL device *): ").
 * @fmt: printf format.
 */
__attribute__((format(printf, 3, 4)))
void _dev_printk(const char *level, const struct device *dev, const char *fmt, ...);
__attribute__((format(printf, 2, 3))) void _dev_emerg(const struct device *dev, const char *fmt, ...);
__attribute__((format(printf, 2, 3))) void _dev_alert(const struct device *dev, const char *fmt, ...);
__attribute__((format(printf, 2, 3))) void _dev_crit(const struct device *dev, const char *fmt, ...);
__attribute__((format(printf, 2, 3))) void _dev_err(const struct device *dev, const char *fmt, ...);
__attribute__((format(printf, 2, 3))) void _dev_warn(const struct device *dev, const char *fmt, ...);
__attribute__((format(printf, 2, 3))) void _dev_notice(const struct device *dev, const char *fmt, ...);
__attribute__((format(printf, 2, 3))) void _dev_info(const struct device *dev, const char *fmt, ...);

/**
 * dev_err_probe() - log a probe error and return it: -EPROBE_DEFER at debug level, others as dev_err().
 * @dev: the device.
 * @err: the negative errno.
 * @fmt: printf format.
 *
 * Return: @err.
 */
__attribute__((format(printf, 3, 4)))
int dev_err_probe(const struct device *dev, int err, const char *fmt, ...);

#define dev_printk(level, dev, fmt, ...) _dev_printk(level, dev, dev_fmt(fmt), ##__VA_ARGS__)
#define dev_emerg(dev, fmt, ...)	_dev_emerg(dev, dev_fmt(fmt), ##__VA_ARGS__)
#define dev_alert(dev, fmt, ...)	_dev_alert(dev, dev_fmt(fmt), ##__VA_ARGS__)
#define dev_crit(dev, fmt, ...)		_dev_crit(dev, dev_fmt(fmt), ##__VA_ARGS__)
#define dev_err(dev, fmt, ...)		_dev_err(dev, dev_fmt(fmt), ##__VA_ARGS__)
#define dev_warn(dev, fmt, ...)		_dev_warn(dev, dev_fmt(fmt), ##__VA_ARGS__)
#define dev_notice(dev, fmt, ...)	_dev_notice(dev, dev_fmt(fmt), ##__VA_ARGS__)
#define dev_info(dev, fmt, ...)		_dev_info(dev, dev_fmt(fmt), ##__VA_ARGS__)
/* Dynamic debug is "on": debug messages reach the log (and the console at level 8). */
#define dev_dbg(dev, fmt, ...)		_dev_printk(KERN_DEBUG, dev, dev_fmt(fmt), ##__VA_ARGS__)
#define dev_vdbg(dev, fmt, ...)		({ if (0) _dev_printk(KERN_DEBUG, dev, fmt, ##__VA_ARGS__); })

#define dev_level_once(dev_level, dev, fmt, ...) do {			\
	static bool __print_once;					\
	if (!__print_once) {						\
		__print_once = true;					\
		dev_level(dev, fmt, ##__VA_ARGS__);			\
	}								\
} while (0)
#define dev_err_once(dev, fmt, ...)	dev_level_once(dev_err, dev, fmt, ##__VA_ARGS__)
#define dev_warn_once(dev, fmt, ...)	dev_level_once(dev_warn, dev, fmt, ##__VA_ARGS__)
#define dev_info_once(dev, fmt, ...)	dev_level_once(dev_info, dev, fmt, ##__VA_ARGS__)
#define dev_err_ratelimited		dev_err
#define dev_warn_ratelimited		dev_warn
#define dev_info_ratelimited		dev_info
#define dev_dbg_ratelimited		dev_dbg

#endif /* _DEVICE_PRINTK_H_ */
