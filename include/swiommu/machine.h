/* SPDX-License-Identifier: MIT */
/* Booting and tearing down the simulated machine. */
#ifndef _SWIOMMU_MACHINE_H
#define _SWIOMMU_MACHINE_H

#include <linux/types.h>
#include <asm/page.h>

struct device;

/**
 * swiommu_init() - boot the simulated machine.
 * @board: a .dtb or .dts path, or NULL for the built-in default board.
 *
 * Creates RAM, the devices of the board, and runs the registered initcalls (module_init(),
 * module_platform_driver()), which bind drivers. In C this name is a macro that passes the caller's
 * PAGE_SHIFT to swiommu_init_page_shift(); the plain function assumes 4 KiB pages.
 *
 * A board is checked whole before anything is built: a missing or unreadable file, a .dts that dtc
 * rejects, a bad magic number, a truncated or malformed blob, a dangling phandle, an "iommus" entry with
 * the wrong number of cells for its #iommu-cells, RAM that is missing, not page aligned, past the top of the
 * address space or more than 256 GiB in all, or a /chosen option out of range is logged with the file, node
 * path and property, and nothing is left half-built.
 *
 * Return: 0; -EBUSY when the machine is already up; -EINVAL for a board that cannot be loaded (see
 * above) or that asserts another page size (/chosen "swiommu,page-shift"); -ENOMEM when RAM cannot be
 * mapped.
 */
int swiommu_init(const char *board);

/**
 * swiommu_init_page_shift() - swiommu_init() with the caller's CPU page size.
 * @board: as for swiommu_init().
 * @page_shift: 12, 14 or 16 (4, 16 or 64 KiB pages).
 *
 * Return: as swiommu_init(), and -EINVAL for another @page_shift.
 */
int swiommu_init_page_shift(const char *board, unsigned int page_shift);
#define swiommu_init(board) swiommu_init_page_shift((board), PAGE_SHIFT)

/**
 * swiommu_exit() - tear the machine down: run the exit calls, unbind every driver, report leaks (with
 * their allocation sites) and free everything. swiommu_init() may follow. Does nothing when the
 * machine is down.
 */
void swiommu_exit(void);

/**
 * swiommu_is_up() - whether swiommu_init() has booted the machine.
 *
 * Return: true or false.
 */
bool swiommu_is_up(void);

/**
 * swiommu_page_shift() - the page shift the machine runs with.
 *
 * Return: 12, 14 or 16, or 0 when the machine is down.
 */
unsigned int swiommu_page_shift(void);

/**
 * swiommu_find_device() - look a device up by device tree full path ("/soc/isp@fe0a0000"), node name
 * with or without unit address ("isp@fe0a0000", "isp"), or device name ("fe0a0000.isp").
 * @name: the name.
 *
 * Return: the device, or NULL when there is none (or the machine is down).
 */
struct device *swiommu_find_device(const char *name);

/**
 * swiommu_version() - the library version.
 *
 * Return: a string such as "0.1.0".
 */
const char *swiommu_version(void);

#endif /* _SWIOMMU_MACHINE_H */
