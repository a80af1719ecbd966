/* SPDX-License-Identifier: MIT */
/* Mirrors the Linux 6.17 <linux/kernel.h> (with align.h, array_size.h, limits.h, math.h, math64.h, wordpart.h) for swiommu. */

/*
 * glibc's <sys/sysinfo.h> includes <linux/kernel.h> for struct sysinfo, so
 * chain to the installed UAPI header first.  It owns the _LINUX_KERNEL_H
 * guard, hence the different guard below.  KERN_* levels and printk() are
 * in <linux/printk.h>, which this header deliberately does not include.
 */
#include_next <linux/kernel.h>

#ifndef _SWIOMMU_LINUX_KERNEL_H
#define _SWIOMMU_LINUX_KERNEL_H

#include <stddef.h>
#include <limits.h>
/*
 * <stdlib.h> must be seen before the abs() macro below: its "int abs(int)"
 * declaration cannot be parsed once abs is a function-like macro (its include
 * guard then keeps later #include <stdlib.h> lines harmless).
 */
#include <stdlib.h>

#include <linux/types.h>
#include <linux/compiler.h>
#include <linux/const.h>
#include <linux/bits.h>
#include <linux/bitops.h>
#include <linux/log2.h>
#include <linux/err.h>
#include <linux/minmax.h>
#include <linux/container_of.h>

/* ------------------------------------------------------------------------
 * Limits (linux/limits.h, vdso/limits.h).  INT_MAX, ULONG_MAX, ... come
 * from <limits.h>; the fallbacks only matter for an unusual libc.
 * ------------------------------------------------------------------------ */
#ifndef USHRT_MAX
#define USHRT_MAX	((unsigned short)~0U)
#endif
#ifndef SHRT_MAX
#define SHRT_MAX	((short)(USHRT_MAX >> 1))
#endif
#ifndef SHRT_MIN
#define SHRT_MIN	((short)(-SHRT_MAX - 1))
#endif
#ifndef INT_MAX
#define INT_MAX		((int)(~0U >> 1))
#endif
#ifndef INT_MIN
#define INT_MIN		(-INT_MAX - 1)
#endif
#ifndef UINT_MAX
#define UINT_MAX	(~0U)
#endif
#ifndef LONG_MAX
#define LONG_MAX	((long)(~0UL >> 1))
#endif
#ifndef LONG_MIN
#define LONG_MIN	(-LONG_MAX - 1)
#endif
#ifndef ULONG_MAX
#define ULONG_MAX	(~0UL)
#endif
#ifndef LLONG_MAX
#define LLONG_MAX	((long long)(~0ULL >> 1))
#endif
#ifndef LLONG_MIN
#define LLONG_MIN	(-LLONG_MAX - 1)
#endif
#ifndef ULLONG_MAX
#define ULLONG_MAX	(~0ULL)
#endif
#ifndef SIZE_MAX
#define SIZE_MAX	(~(size_t)0)
#endif
#ifndef SSIZE_MAX
#define SSIZE_MAX	((long)(SIZE_MAX >> 1))
#endif

#define PHYS_ADDR_MAX		(~(phys_addr_t)0)
#define RESOURCE_SIZE_MAX	((resource_size_t)~0)

#define U8_MAX		((u8)~0U)
#define S8_MAX		((s8)(U8_MAX >> 1))
#define S8_MIN		((s8)(-S8_MAX - 1))
#define U16_MAX		((u16)~0U)
#define S16_MAX		((s16)(U16_MAX >> 1))
#define S16_MIN		((s16)(-S16_MAX - 1))
#define U32_MAX		((u32)~0U)
#define U32_MIN		((u32)0)
#define S32_MAX		((s32)(U32_MAX >> 1))
#define S32_MIN		((s32)(-S32_MAX - 1))
#define U64_MAX		((u64)~0ULL)
#define U64_MIN		((u64)0)
#define S64_MAX		((s64)(U64_MAX >> 1))
#define S64_MIN		((s64)(-S64_MAX - 1))

/* ------------------------------------------------------------------------
 * Arrays and struct members (array_size.h, stddef.h, typecheck.h).
 * ------------------------------------------------------------------------ */

/* ARRAY_SIZE - number of elements of a true array (a pointer fails to compile). */
#define ARRAY_SIZE(arr)	(sizeof(arr) / sizeof((arr)[0]) + __must_be_array(arr))

#ifndef sizeof_field
/* Size of member @MEMBER of struct type @TYPE. */
#define sizeof_field(TYPE, MEMBER)	sizeof((((TYPE *)0)->MEMBER))
#endif
#ifndef offsetofend
/* Offset of the first byte after member @MEMBER of @TYPE. */
#define offsetofend(TYPE, MEMBER) \
	(offsetof(TYPE, MEMBER) + sizeof_field(TYPE, MEMBER))
#endif

#ifndef typecheck
/* typecheck(type, x) - 1, with a compiler warning if @x is not of @type. */
#define typecheck(type, x) ({						\
	type __typecheck_dummy;						\
	__typeof__(x) __typecheck_dummy2;				\
	(void)(&__typecheck_dummy == &__typecheck_dummy2);		\
	1;								\
})
#endif

/* ------------------------------------------------------------------------
 * Alignment (align.h).  @a must be a power of two.
 * ------------------------------------------------------------------------ */
#define ALIGN(x, a)		__ALIGN_KERNEL((x), (a))
#define ALIGN_DOWN(x, a)	__ALIGN_KERNEL((x) - ((a) - 1), (a))
#define __ALIGN_MASK(x, mask)	__ALIGN_KERNEL_MASK((x), (mask))
#define PTR_ALIGN(p, a)		((__typeof__(p))ALIGN((unsigned long)(p), (a)))
#define PTR_ALIGN_DOWN(p, a)	((__typeof__(p))ALIGN_DOWN((unsigned long)(p), (a)))
#define PTR_IS_ALIGNED(x, a)	IS_ALIGNED((unsigned long)(x), (a))
#define IS_ALIGNED(x, a)	(((x) & ((__typeof__(x))(a) - 1)) == 0)

/* ------------------------------------------------------------------------
 * Rounding and division (math.h).
 * ------------------------------------------------------------------------ */

/* Mask for power-of-two rounding, in the type of @x so that ~ is wide enough. */
#define __round_mask(x, y)	((__typeof__(x))((y) - 1))

/* round_up/round_down - to a multiple of @y, which must be a power of two. */
#define round_up(x, y)		((((x) - 1) | __round_mask(x, y)) + 1)
#define round_down(x, y)	((x) & ~__round_mask(x, y))

/*
 * roundup/rounddown - to any multiple of @y (evaluated once).  <sys/param.h>
 * has its own roundup(); whichever header comes last wins, and both agree
 * for non-negative values.
 */
#undef roundup
#define __roundup_once(x, y, uy) ({					\
	__typeof__(y) uy = (y);						\
	(((x) + (uy - 1)) / uy) * uy; })
#define roundup(x, y)		__roundup_once(x, y, __UNIQUE_ID(y_))

#define __rounddown_once(x, y, ux) ({					\
	__typeof__(x) ux = (x);						\
	ux - (ux % (y)); })
#define rounddown(x, y)		__rounddown_once(x, y, __UNIQUE_ID(x_))

#define DIV_ROUND_UP(n, d)	__KERNEL_DIV_ROUND_UP(n, d)

/* Divide by a power of two, rounding up, without overflowing n + d - 1. */
#define DIV_ROUND_UP_POW2(n, d) \
	((n) / (d) + !!((n) & ((d) - 1)))

/*
 * DIV_ROUND_CLOSEST(x, divisor) - x / divisor rounded to the nearest integer
 * (halves away from zero).  Undefined for a negative divisor with an
 * unsigned dividend and for a negative dividend with an unsigned divisor.
 */
#define __div_round_closest_once(x, divisor, ux, ud) ({			\
	__typeof__(x) ux = (x);						\
	__typeof__(divisor) ud = (divisor);				\
	(((__typeof__(x))-1) > 0 ||					\
	 ((__typeof__(divisor))-1) > 0 ||				\
	 ((ux > 0) == (ud > 0))) ?					\
		((ux + (ud / 2)) / ud) :				\
		((ux - (ud / 2)) / ud);					\
})
#define DIV_ROUND_CLOSEST(x, divisor) \
	__div_round_closest_once(x, divisor, __UNIQUE_ID(x_), __UNIQUE_ID(d_))

/*
 * mult_frac(x, n, d) - x * n / d without overflowing x * n and without
 * losing the remainder of x / d.
 */
#define __mult_frac_once(x, n, d, ux, un, ud) ({			\
	__typeof__(x) ux = (x);						\
	__typeof__(n) un = (n);						\
	__typeof__(d) ud = (d);						\
	(ux / ud) * un + (ux % ud) * un / ud; })
#define mult_frac(x, n, d) \
	__mult_frac_once(x, n, d, __UNIQUE_ID(x_), __UNIQUE_ID(n_), __UNIQUE_ID(d_))

/* ------------------------------------------------------------------------
 * abs (math.h): type-generic; signed and unsigned integer types are
 * converted to the signed type of the same size first, the result keeps
 * that (promoted) signed type; plain char stays char.
 * ------------------------------------------------------------------------ */
#define __abs_choose_expr(x, type, other) __builtin_choose_expr(	\
	__builtin_types_compatible_p(__typeof__(x), signed type) ||	\
	__builtin_types_compatible_p(__typeof__(x), unsigned type),	\
	({ signed type __abs_x = (signed type)(x); __abs_x < 0 ? -__abs_x : __abs_x; }), \
	other)

#define abs(x)	__abs_choose_expr(x, long long,				\
		__abs_choose_expr(x, long,				\
		__abs_choose_expr(x, int,				\
		__abs_choose_expr(x, short,				\
		__abs_choose_expr(x, char,				\
		__builtin_choose_expr(					\
			__builtin_types_compatible_p(__typeof__(x), char), \
			(char)({ signed char __abs_x = (signed char)(x); \
				 __abs_x < 0 ? -__abs_x : __abs_x; }),	\
			((void)0)))))))

/* abs_diff - |a - b| for two values of the same type, without overflow. */
#define __abs_diff_once(a, b, ua, ub) ({				\
	__typeof__(a) ua = (a);						\
	__typeof__(b) ub = (b);						\
	(void)(&ua == &ub);						\
	ua > ub ? (ua - ub) : (ub - ua); })
#define abs_diff(a, b)	__abs_diff_once(a, b, __UNIQUE_ID(a_), __UNIQUE_ID(b_))

/* ------------------------------------------------------------------------
 * 64-bit division (asm-generic/div64.h, linux/math64.h).
 * ------------------------------------------------------------------------ */

/*
 * do_div(n, base) - divide the 64-bit unsigned lvalue @n in place by the
 * 32-bit @base and return the 32-bit remainder.
 */
#define __do_div_once(n, base, ub, urem) ({				\
	u32 ub = (base);						\
	u32 urem;							\
	BUILD_BUG_ON_MSG(sizeof(n) != 8, "do_div() needs a 64-bit dividend"); \
	urem = (u32)(((u64)(n)) % ub);					\
	(n) = ((u64)(n)) / ub;						\
	urem;								\
})
#define do_div(n, base)	__do_div_once(n, base, __UNIQUE_ID(base_), __UNIQUE_ID(rem_))

/* u64 / u32, remainder in *@remainder. */
static inline u64 div_u64_rem(u64 dividend, u32 divisor, u32 *remainder)
{
	*remainder = (u32)(dividend % divisor);
	return dividend / divisor;
}

/* s64 / s32, remainder (with the dividend's sign) in *@remainder. */
static inline s64 div_s64_rem(s64 dividend, s32 divisor, s32 *remainder)
{
	*remainder = (s32)(dividend % divisor);
	return dividend / divisor;
}

/* u64 / u64, remainder in *@remainder. */
static inline u64 div64_u64_rem(u64 dividend, u64 divisor, u64 *remainder)
{
	*remainder = dividend % divisor;
	return dividend / divisor;
}

/* u64 / u32. */
static inline u64 div_u64(u64 dividend, u32 divisor)
{
	return dividend / divisor;
}

/* s64 / s32. */
static inline s64 div_s64(s64 dividend, s32 divisor)
{
	return dividend / divisor;
}

/* u64 / u64. */
static inline u64 div64_u64(u64 dividend, u64 divisor)
{
	return dividend / divisor;
}

/* s64 / s64. */
static inline s64 div64_s64(s64 dividend, s64 divisor)
{
	return dividend / divisor;
}

/* unsigned long long / unsigned long, as div64_ul(). */
#define div64_ul(x, y)	div64_u64((x), (y))
#define div64_long(x, y) div64_s64((x), (y))

#define DIV64_U64_ROUND_UP(ll, d)	\
	({ u64 _tmp = (d); div64_u64((ll) + _tmp - 1, _tmp); })
#define DIV64_U64_ROUND_CLOSEST(dividend, divisor)	\
	({ u64 _tmp = (divisor); div64_u64((dividend) + _tmp / 2, _tmp); })

#define DIV_ROUND_DOWN_ULL(ll, d) \
	({ unsigned long long _tmp = (ll); do_div(_tmp, d); _tmp; })
#define DIV_ROUND_UP_ULL(ll, d) \
	DIV_ROUND_DOWN_ULL((unsigned long long)(ll) + (d) - 1, (d))
#define DIV_ROUND_CLOSEST_ULL(x, divisor) ({				\
	__typeof__(divisor) __d = (divisor);				\
	unsigned long long _tmp = (x) + (__d) / 2;			\
	do_div(_tmp, __d);						\
	_tmp;								\
})

/* ------------------------------------------------------------------------
 * Word parts (wordpart.h).
 * ------------------------------------------------------------------------ */

/* upper_32_bits - bits 32-63 of @n (two 16-bit shifts: fine for 32-bit @n too). */
#define upper_32_bits(n)	((u32)(((n) >> 16) >> 16))
/* lower_32_bits - bits 0-31 of @n. */
#define lower_32_bits(n)	((u32)((n) & 0xffffffff))
#define upper_16_bits(n)	((u16)((n) >> 16))
#define lower_16_bits(n)	((u16)((n) & 0xffff))

/* REPEAT_BYTE - @x (a byte) copied into every byte of an unsigned long. */
#define REPEAT_BYTE(x)		((~0ul / 0xff) * (x))
#define REPEAT_BYTE_U32(x)	lower_32_bits(REPEAT_BYTE(x))

/* ------------------------------------------------------------------------
 * Scheduling hints and call-site helpers.
 * ------------------------------------------------------------------------ */

/* might_sleep - debug annotation only; swiommu does not check atomic context. */
#define might_sleep()		do { } while (0)
#define might_sleep_if(cond)	do { if (cond) might_sleep(); } while (0)

/* cpu_relax - pause inside a busy-wait loop (also a compiler barrier). */
static __always_inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("pause" : : : "memory");
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" : : : "memory");
#else
	barrier();
#endif
}

/* Return address of the current function / address of the current point. */
#ifndef _RET_IP_
#define _RET_IP_	((unsigned long)__builtin_return_address(0))
#endif
#ifndef _THIS_IP_
#define _THIS_IP_	({ __label__ __here; __here: (unsigned long)&&__here; })
#endif

#endif /* _SWIOMMU_LINUX_KERNEL_H */
