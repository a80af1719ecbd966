/* SPDX-License-Identifier: MIT */
/* Mirrors the Linux 6.17 <linux/minmax.h> for swiommu: min/max/clamp that evaluate each argument once, plus swap(). */
#ifndef _LINUX_MINMAX_H
#define _LINUX_MINMAX_H

#include <linux/compiler.h>
#include <linux/const.h>
#include <linux/types.h>

/*
 * Differences from the kernel: there is no compile-time signedness check.
 * Each argument is evaluated exactly once into a temporary, and the
 * comparison is made after converting the temporaries explicitly to their
 * common type (the type C's usual arithmetic conversions would pick), so
 * min(size, 4096) or min(u32, u64) compile cleanly under -Wall -Wextra
 * (no -Wsign-compare noise).  As in C, mixing a negative signed value with
 * an unsigned one compares them as unsigned: use min_t() for that.
 */

#define __cmp_op_min	<
#define __cmp_op_max	>

/* Raw comparison; evaluates its arguments more than once. */
#define __cmp(op, x, y)	((x) __cmp_op_##op (y) ? (x) : (y))

/* The common (promoted) type of two / three arithmetic values. */
#define __minmax_ctype(a, b)		__typeof__((a) + (b))
#define __minmax_ctype3(a, b, c)	__typeof__((a) + (b) + (c))

#define __cmp_once_unique(op, type, x, y, ux, uy) \
	({ type ux = (x); type uy = (y); __cmp(op, ux, uy); })

#define __cmp_once(op, type, x, y) \
	__cmp_once_unique(op, type, x, y, __UNIQUE_ID(x_), __UNIQUE_ID(y_))

#define __careful_cmp_once(op, x, y, ux, uy) ({				\
	__auto_type ux = (x); __auto_type uy = (y);			\
	__cmp(op, (__minmax_ctype(ux, uy))ux, (__minmax_ctype(ux, uy))uy); })

#define __careful_cmp(op, x, y) \
	__careful_cmp_once(op, x, y, __UNIQUE_ID(x_), __UNIQUE_ID(y_))

/* min/max - smaller/larger of two values (in their common type). */
#define min(x, y)	__careful_cmp(min, x, y)
#define max(x, y)	__careful_cmp(max, x, y)

/*
 * umin/umax - for values known to be non-negative: both are converted to
 * (at least) unsigned long long first, so signed and unsigned mix freely.
 */
#define umin(x, y)	\
	__careful_cmp(min, (x) + 0u + 0ul + 0ull, (y) + 0u + 0ul + 0ull)
#define umax(x, y)	\
	__careful_cmp(max, (x) + 0u + 0ul + 0ull, (y) + 0u + 0ul + 0ull)

#define __careful_op3(op, x, y, z, ux, uy, uz) ({			\
	__auto_type ux = (x); __auto_type uy = (y); __auto_type uz = (z); \
	__cmp(op, (__minmax_ctype3(ux, uy, uz))ux,			\
	      __cmp(op, (__minmax_ctype3(ux, uy, uz))uy,		\
		    (__minmax_ctype3(ux, uy, uz))uz)); })

/* min3/max3 - smallest/largest of three values. */
#define min3(x, y, z) \
	__careful_op3(min, x, y, z, __UNIQUE_ID(x_), __UNIQUE_ID(y_), __UNIQUE_ID(z_))
#define max3(x, y, z) \
	__careful_op3(max, x, y, z, __UNIQUE_ID(x_), __UNIQUE_ID(y_), __UNIQUE_ID(z_))

/* min_t/max_t - compare after converting both values to @type. */
#define min_t(type, x, y)	__cmp_once(min, type, x, y)
#define max_t(type, x, y)	__cmp_once(max, type, x, y)

#define __min_not_zero_once(x, y, ux, uy) ({				\
	__auto_type ux = (x); __auto_type uy = (y);			\
	ux == 0 ? (__minmax_ctype(ux, uy))uy :				\
	(uy == 0 ? (__minmax_ctype(ux, uy))ux : min(ux, uy)); })

/* min_not_zero - the smaller of two values ignoring zeros (0 if both are 0). */
#define min_not_zero(x, y) \
	__min_not_zero_once(x, y, __UNIQUE_ID(x_), __UNIQUE_ID(y_))

/* Raw clamp; evaluates its arguments more than once. */
#define __clamp(val, lo, hi)	\
	((val) >= (hi) ? (hi) : ((val) <= (lo) ? (lo) : (val)))

#define __clamp_once(type, val, lo, hi, uval, ulo, uhi) ({		\
	type uval = (val);						\
	type ulo = (lo);						\
	type uhi = (hi);						\
	BUILD_BUG_ON_MSG(const_true((__minmax_ctype(lo, hi))(lo) >	\
				    (__minmax_ctype(lo, hi))(hi)),	\
		"clamp() low limit " #lo " greater than high limit " #hi); \
	__clamp((__minmax_ctype3(uval, ulo, uhi))uval,			\
		(__minmax_ctype3(uval, ulo, uhi))ulo,			\
		(__minmax_ctype3(uval, ulo, uhi))uhi); })

#define __careful_clamp(type, val, lo, hi) \
	__clamp_once(type, val, lo, hi, __UNIQUE_ID(v_), __UNIQUE_ID(l_), __UNIQUE_ID(h_))

/*
 * clamp(val, lo, hi) - @val limited to the range [@lo, @hi].  Constant limits
 * in the wrong order fail to compile.
 */
#define clamp(val, lo, hi)		__careful_clamp(__auto_type, val, lo, hi)

/* clamp_t - clamp() after converting all three values to @type. */
#define clamp_t(type, val, lo, hi)	__careful_clamp(type, val, lo, hi)

/* clamp_val - clamp() in the type of @val (handy with literal limits). */
#define clamp_val(val, lo, hi)		__careful_clamp(__typeof__(val), val, lo, hi)

#define __minmax_array(op, array, len) ({				\
	__typeof__(&(array)[0]) __array = (array);			\
	__typeof__(len) __len = (len);					\
	__auto_type __element = __array[--__len];			\
	while (__len--)							\
		__element = op(__element, __array[__len]);		\
	__element; })

/* min_array/max_array - extreme element of @array[0..@len); @len must not be 0. */
#define min_array(array, len)	__minmax_array(min, array, len)
#define max_array(array, len)	__minmax_array(max, array, len)

static inline bool in_range64(u64 val, u64 start, u64 len)
{
	return (val - start) < len;
}

static inline bool in_range32(u32 val, u32 start, u32 len)
{
	return (val - start) < len;
}

/*
 * in_range(val, start, len) - is start <= val < start + len?  Computed as
 * (val - start) < len in 32 or 64 bits, which differs from the naive test
 * when start + len wraps around.
 */
#define in_range(val, start, len)					\
	((sizeof(start) | sizeof(len) | sizeof(val)) <= sizeof(u32) ?	\
		in_range32(val, start, len) : in_range64(val, start, len))

#define __swap_once(a, b, tmp) \
	do { __typeof__(a) tmp = (a); (a) = (b); (b) = tmp; } while (0)

/* swap - exchange the values of the lvalues @a and @b. */
#define swap(a, b)	__swap_once(a, b, __UNIQUE_ID(swap_tmp_))

/*
 * MIN/MAX/MIN_T/MAX_T - no single evaluation, usable in constant
 * expressions.  <sys/param.h> has the same MIN/MAX; either definition does.
 */
#ifndef MIN
#define MIN(a, b)		__cmp(min, a, b)
#endif
#ifndef MAX
#define MAX(a, b)		__cmp(max, a, b)
#endif
#define MIN_T(type, a, b)	__cmp(min, (type)(a), (type)(b))
#define MAX_T(type, a, b)	__cmp(max, (type)(a), (type)(b))

#endif /* _LINUX_MINMAX_H */
