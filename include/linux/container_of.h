/* SPDX-License-Identifier: MIT */
/* Mirrors the Linux 6.17 <linux/container_of.h> for swiommu: from a pointer to a member back to its enclosing struct. */
#ifndef _LINUX_CONTAINER_OF_H
#define _LINUX_CONTAINER_OF_H

#include <stddef.h>
#include <linux/compiler.h>

/* The type of member @m of struct type @T. */
#define typeof_member(T, m)	__typeof__(((T *)0)->m)

/*
 * container_of(ptr, type, member) - given @ptr, the address of the field
 * @member inside some struct @type, return the address of that struct.
 * @ptr must have the field's type (or be a void pointer); anything else
 * fails to compile.  As in the kernel, the result is not const even if @ptr is.
 * The subtraction is done on the address as an integer: list iterators form
 * "entries" around a list head that is not embedded in any entry, and gcc
 * (-Warray-bounds at -O2, UBSan object-size) flags that when done with
 * pointer arithmetic on a known object.
 */
#define container_of(ptr, type, member) ({					\
	unsigned long __mptr = (unsigned long)(ptr);				\
	_Static_assert(__same_type(*(ptr), ((type *)0)->member) ||		\
		       __same_type(*(ptr), void),				\
		       "pointer type mismatch in container_of()");		\
	((type *)(__mptr - offsetof(type, member))); })

#endif /* _LINUX_CONTAINER_OF_H */
