/* SPDX-License-Identifier: MIT */
/* Mirrors the Linux 6.17 <linux/log2.h> for swiommu: integer base-2 logarithms and power-of-two rounding. */
#ifndef _LINUX_LOG2_H
#define _LINUX_LOG2_H

#include <linux/types.h>
#include <linux/bitops.h>

/*
 * Run-time helpers.  Like the kernel's, they need not handle n == 0
 * (__ilog2_u32(0) and __ilog2_u64(0) return -1).
 */
static __always_inline __attribute__((__const__)) int __ilog2_u32(u32 n)
{
	return fls(n) - 1;
}

static __always_inline __attribute__((__const__)) int __ilog2_u64(u64 n)
{
	return fls64(n) - 1;
}

/* is_power_of_2 - is @n a power of two?  0 is not. */
static __always_inline __attribute__((__const__)) bool is_power_of_2(unsigned long n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

/* Smallest power of two >= @n; undefined for 0 and for n > 2^(BITS_PER_LONG-1). */
static inline __attribute__((__const__)) unsigned long __roundup_pow_of_two(unsigned long n)
{
	return 1UL << fls_long(n - 1);
}

/* Largest power of two <= @n; undefined for 0. */
static inline __attribute__((__const__)) unsigned long __rounddown_pow_of_two(unsigned long n)
{
	return 1UL << (fls_long(n) - 1);
}

/*
 * ilog2(n) - floor(log2(n)) of a 32- or 64-bit unsigned value.
 * For a constant @n this folds at compile time (63 - count of leading zero
 * bits of the 64-bit value; 0 for n < 2), so it can size arrays and
 * initialise globals; otherwise it picks the 32- or 64-bit run-time helper
 * by the size of @n.  ilog2(0) is undefined, as in the kernel.
 */
#define ilog2(n)							\
(									\
	__builtin_constant_p(n) ?					\
	((n) < 2 ? 0 : 63 - __builtin_clzll(n)) :			\
	(sizeof(n) <= 4) ?						\
	__ilog2_u32(n) :						\
	__ilog2_u64(n)							\
)

/* const_ilog2(n) - ilog2() of a constant, or -1 if @n is not constant. */
#define const_ilog2(n)							\
(									\
	__builtin_constant_p(n) ?					\
	((n) < 2 ? 0 : 63 - __builtin_clzll(n)) :			\
	-1								\
)

/*
 * roundup_pow_of_two(n) - round @n up to a power of two (1 stays 1).
 * Undefined for 0.  Constant-foldable.
 */
#define roundup_pow_of_two(n)						\
(									\
	__builtin_constant_p(n) ? (					\
		((n) == 1) ? 1 :					\
		(1UL << (ilog2((n) - 1) + 1))				\
	) :								\
	__roundup_pow_of_two(n)						\
)

/*
 * rounddown_pow_of_two(n) - round @n down to a power of two.
 * Undefined for 0.  Constant-foldable.
 */
#define rounddown_pow_of_two(n)						\
(									\
	__builtin_constant_p(n) ? (					\
		(1UL << ilog2(n))					\
	) :								\
	__rounddown_pow_of_two(n)					\
)

static inline __attribute__((__const__)) int __order_base_2(unsigned long n)
{
	return n > 1 ? ilog2(n - 1) + 1 : 0;
}

/*
 * order_base_2(n) - ceil(log2(n)), with order_base_2(0) == order_base_2(1) == 0:
 * 2 -> 1, 3 -> 2, 4 -> 2, 5 -> 3, ...  Constant-foldable.
 */
#define order_base_2(n)							\
(									\
	__builtin_constant_p(n) ? (					\
		((n) == 0 || (n) == 1) ? 0 :				\
		ilog2((n) - 1) + 1					\
	) :								\
	__order_base_2(n)						\
)

static inline __attribute__((__const__)) int __bits_per(unsigned long n)
{
	if (n < 2)
		return 1;
	if (is_power_of_2(n))
		return order_base_2(n) + 1;
	return order_base_2(n);
}

/*
 * bits_per(n) - number of bits needed to represent @n:
 * 0 -> 1, 1 -> 1, 2 -> 2, 3 -> 2, 4 -> 3, ...  Constant-foldable.
 */
#define bits_per(n)							\
(									\
	__builtin_constant_p(n) ? (					\
		((n) == 0 || (n) == 1)					\
			? 1 : ilog2(n) + 1				\
	) :								\
	__bits_per(n)							\
)

/* max_pow_of_two_factor - largest power of two dividing @n (0 for 0). */
static inline __attribute__((__const__)) unsigned int max_pow_of_two_factor(unsigned int n)
{
	return n & -n;
}

#endif /* _LINUX_LOG2_H */
