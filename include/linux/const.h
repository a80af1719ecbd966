/* SPDX-License-Identifier: MIT */
/* Mirrors the Linux 6.17 <linux/const.h> (with vdso/const.h) for swiommu: _AC/UL/ULL and constant-expression helpers. */

/*
 * The installed UAPI <linux/const.h> (which uses the guard _LINUX_CONST_H and
 * is included by other system headers such as <linux/kernel.h>) provides
 * _AC, _AT, _UL, _ULL, _BITUL, _BITULL, __ALIGN_KERNEL, __ALIGN_KERNEL_MASK
 * and __KERNEL_DIV_ROUND_UP.  Chain to it first so system headers that
 * include <linux/const.h> and find this file still get everything they need;
 * hence also our own guard cannot be _LINUX_CONST_H.
 */
#if defined(__has_include_next)
# if __has_include_next(<linux/const.h>)
#  include_next <linux/const.h>
# endif
#endif

#ifndef _SWIOMMU_LINUX_CONST_H
#define _SWIOMMU_LINUX_CONST_H

/* Fallbacks, identical to the UAPI ones, for a libc without kernel headers. */
#ifndef _AC
# ifdef __ASSEMBLY__
#  define _AC(X, Y)	X
# else
#  define __AC(X, Y)	(X##Y)
#  define _AC(X, Y)	__AC(X, Y)
# endif
#endif
#ifndef _AT
# ifdef __ASSEMBLY__
#  define _AT(T, X)	X
# else
#  define _AT(T, X)	((T)(X))
# endif
#endif
#ifndef _UL
#define _UL(x)		(_AC(x, UL))
#endif
#ifndef _ULL
#define _ULL(x)		(_AC(x, ULL))
#endif
#ifndef _BITUL
#define _BITUL(x)	(_UL(1) << (x))
#endif
#ifndef _BITULL
#define _BITULL(x)	(_ULL(1) << (x))
#endif
#ifndef __ALIGN_KERNEL
#define __ALIGN_KERNEL(x, a)		__ALIGN_KERNEL_MASK(x, (__typeof__(x))(a) - 1)
#endif
#ifndef __ALIGN_KERNEL_MASK
#define __ALIGN_KERNEL_MASK(x, mask)	(((x) + (mask)) & ~(mask))
#endif
#ifndef __KERNEL_DIV_ROUND_UP
#define __KERNEL_DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
#endif

/* vdso/const.h */
#define UL(x)		(_UL(x))
#define ULL(x)		(_ULL(x))

#ifndef __ASSEMBLY__
/*
 * __is_constexpr(x) - an integer constant expression that is 1 when @x is an
 * integer constant expression and 0 otherwise, without evaluating @x.
 * If @x is constant, (void *)(@x * 0) is a null pointer constant and the ?:
 * takes the type of its other arm, int *; otherwise the type is void *.  The
 * kernel tells the two apart with sizeof(*...); _Generic does the same job
 * without applying sizeof to void (which -Wpointer-arith reports).
 */
#define __is_constexpr(x) \
	_Generic((8 ? ((void *)((long)(x) * 0l)) : (int *)8), int *: 1, default: 0)

/*
 * const_true(x) - like statically_true() but always a constant expression:
 * the value of @x if it is an integer constant expression, else false (0).
 */
#define const_true(x)	__builtin_choose_expr(__is_constexpr(x), x, 0)
#endif /* !__ASSEMBLY__ */

#endif /* _SWIOMMU_LINUX_CONST_H */
