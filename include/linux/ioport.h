/* SPDX-License-Identifier: MIT */
/* Resources, mirroring the kernel's linux/ioport.h (Linux 6.17) for swiommu. */
#ifndef _LINUX_IOPORT_H
#define _LINUX_IOPORT_H

#include <linux/types.h>

/**
 * struct resource - a window of an address space or an interrupt, as platform_get_resource() returns it.
 * @start: first address (or IRQ number).
 * @end: last address, inclusive.
 * @name: owner's name.
 * @flags: IORESOURCE_* type bits.
 * @desc: descriptor (unused here).
 * @parent: tree links (unused here).
 * @sibling: tree links (unused here).
 * @child: tree links (unused here).
 */
struct resource {
	resource_size_t start;
	resource_size_t end;
	const char *name;
	unsigned long flags;
	unsigned long desc;
	struct resource *parent, *sibling, *child;
};

#define IORESOURCE_BITS		0x000000ff
#define IORESOURCE_TYPE_BITS	0x00001f00
#define IORESOURCE_IO		0x00000100
#define IORESOURCE_MEM		0x00000200
#define IORESOURCE_REG		0x00000300
#define IORESOURCE_IRQ		0x00000400
#define IORESOURCE_DMA		0x00000800
#define IORESOURCE_BUS		0x00001000
#define IORESOURCE_MEM_64	0x00100000
#define IORESOURCE_DISABLED	0x10000000
#define IORESOURCE_UNSET	0x20000000

#define DEFINE_RES_NAMED(_start, _size, _name, _flags)			\
	((struct resource) { .start = (_start), .end = (_start) + (_size) - 1, \
			     .name = (_name), .flags = (_flags) })
#define DEFINE_RES_MEM(_start, _size)	DEFINE_RES_NAMED((_start), (_size), NULL, IORESOURCE_MEM)
#define DEFINE_RES_IRQ(_irq)		DEFINE_RES_NAMED((_irq), 1, NULL, IORESOURCE_IRQ)

static inline resource_size_t resource_size(const struct resource *res)
{
	return res->end - res->start + 1;
}

static inline unsigned long resource_type(const struct resource *res)
{
	return res->flags & IORESOURCE_TYPE_BITS;
}

#endif /* _LINUX_IOPORT_H */
