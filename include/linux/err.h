/* SPDX-License-Identifier: MIT */
/* Mirrors the Linux 6.17 <linux/err.h> for swiommu: encoding a -errno in a pointer (ERR_PTR and friends). */
#ifndef _LINUX_ERR_H
#define _LINUX_ERR_H

#include <linux/compiler.h>
#include <linux/types.h>
#include <linux/errno.h>

/*
 * Kernel pointers never point into the last page of the address space, so
 * the values -MAX_ERRNO..-1 cast to a pointer can carry an error code in a
 * pointer-returning function.
 */
#define MAX_ERRNO	4095

#ifndef __ASSEMBLY__

/* Is @x (an unsigned long-sized value) in the error range? */
#define IS_ERR_VALUE(x) unlikely((unsigned long)(void *)(x) >= (unsigned long)-MAX_ERRNO)

/* ERR_PTR - encode the negative errno @error as a pointer. */
static inline void *ERR_PTR(long error)
{
	return (void *)error;
}

/* PTR_ERR - the errno encoded in @ptr (only meaningful if IS_ERR(ptr)). */
static inline long PTR_ERR(const void *ptr)
{
	return (long)ptr;
}

/* IS_ERR - does @ptr encode an errno? */
static inline bool IS_ERR(const void *ptr)
{
	return IS_ERR_VALUE((unsigned long)ptr);
}

/* IS_ERR_OR_NULL - is @ptr NULL or an encoded errno? */
static inline bool IS_ERR_OR_NULL(const void *ptr)
{
	return unlikely(!ptr) || IS_ERR_VALUE((unsigned long)ptr);
}

/* ERR_CAST - pass an error pointer on as another pointer type. */
static inline void *ERR_CAST(const void *ptr)
{
	/* drops the const, via an integer so that -Wcast-qual stays quiet */
	return (void *)(unsigned long)ptr;
}

/* PTR_ERR_OR_ZERO - the errno in @ptr if it is an error pointer, else 0. */
static inline int PTR_ERR_OR_ZERO(const void *ptr)
{
	if (IS_ERR(ptr))
		return (int)PTR_ERR(ptr);
	else
		return 0;
}

#endif /* !__ASSEMBLY__ */

#endif /* _LINUX_ERR_H */
