/* SPDX-License-Identifier: MIT */
/* I/O helpers, mirroring the kernel's linux/io.h (Linux 6.17) for swiommu. */
#ifndef _LINUX_IO_H
#define _LINUX_IO_H

#include <linux/types.h>
#include <asm/page.h>
#include <asm/io.h>

#endif /* _LINUX_IO_H */
