/* SPDX-License-Identifier: MIT */
/* Mirrors the Linux 6.17 <linux/bits.h> (with vdso/bits.h and asm-generic/bitsperlong.h) for swiommu: BIT(), GENMASK() and word-size constants. */

/*
 * Newer installed UAPI headers ship a <linux/bits.h> (__GENMASK and friends,
 * guard _LINUX_BITS_H) that other UAPI headers include; chain to it when it
 * exists.  Our guard is the kernel's own __LINUX_BITS_H, which does not clash.
 */
#if defined(__has_include_next)
# if __has_include_next(<linux/bits.h>)
#  include_next <linux/bits.h>
# endif
#endif

#ifndef __LINUX_BITS_H
#define __LINUX_BITS_H

#include <linux/const.h>
#include <linux/compiler.h>
#include <linux/types.h>

#ifndef BITS_PER_LONG
# if __SIZEOF_LONG__ == 8
#  define BITS_PER_LONG		64
# else
#  define BITS_PER_LONG		32
# endif
#endif
#ifndef BITS_PER_LONG_LONG
#define BITS_PER_LONG_LONG	64
#endif

#define BIT(nr)			(UL(1) << (nr))
#define BIT_ULL(nr)		(ULL(1) << (nr))
#define BIT_MASK(nr)		(UL(1) << ((nr) % BITS_PER_LONG))
#define BIT_WORD(nr)		((nr) / BITS_PER_LONG)
#define BIT_ULL_MASK(nr)	(ULL(1) << ((nr) % BITS_PER_LONG_LONG))
#define BIT_ULL_WORD(nr)	((nr) / BITS_PER_LONG_LONG)
#define BITS_PER_BYTE		8
#define BITS_PER_TYPE(type)	(sizeof(type) * BITS_PER_BYTE)

/*
 * GENMASK(h, l) - the contiguous mask with bits l..h (inclusive) set, e.g.
 * GENMASK(7, 4) == 0xf0 and GENMASK_ULL(39, 21) == 0x000000ffffe00000.
 * All ones minus the bits below l, intersected with all ones shifted down so
 * that the top set bit is h.  An integer constant expression when h and l
 * are; GENMASK(l, h) with swapped constant arguments fails to compile.
 */
#ifndef __GENMASK
#define __GENMASK(h, l) \
	(((~_UL(0)) - (_UL(1) << (l)) + 1) & \
	 (~_UL(0) >> (BITS_PER_LONG - 1 - (h))))
#endif
#ifndef __GENMASK_ULL
#define __GENMASK_ULL(h, l) \
	(((~_ULL(0)) - (_ULL(1) << (l)) + 1) & \
	 (~_ULL(0) >> (BITS_PER_LONG_LONG - 1 - (h))))
#endif

#define GENMASK_INPUT_CHECK(h, l) \
	BUILD_BUG_ON_ZERO(const_true((long long)(l) > (long long)(h)))

#define GENMASK(h, l)		(GENMASK_INPUT_CHECK(h, l) + __GENMASK(h, l))
#define GENMASK_ULL(h, l)	(GENMASK_INPUT_CHECK(h, l) + __GENMASK_ULL(h, l))

/* Fixed-width variants (unsigned types only). */
#define GENMASK_TYPE(t, h, l)						\
	((t)(GENMASK_INPUT_CHECK(h, l) +				\
	     ((t)~(t)0 << (l) & (t)~(t)0 >> (BITS_PER_TYPE(t) - 1 - (h)))))

#define GENMASK_U8(h, l)	GENMASK_TYPE(u8, h, l)
#define GENMASK_U16(h, l)	GENMASK_TYPE(u16, h, l)
#define GENMASK_U32(h, l)	GENMASK_TYPE(u32, h, l)
#define GENMASK_U64(h, l)	GENMASK_TYPE(u64, h, l)

#define BIT_INPUT_CHECK(type, nr) \
	BUILD_BUG_ON_ZERO(const_true((unsigned long long)(nr) >= BITS_PER_TYPE(type)))

#define BIT_TYPE(type, nr)	((type)(BIT_INPUT_CHECK(type, nr) + BIT_ULL(nr)))

#define BIT_U8(nr)		BIT_TYPE(u8, nr)
#define BIT_U16(nr)		BIT_TYPE(u16, nr)
#define BIT_U32(nr)		BIT_TYPE(u32, nr)
#define BIT_U64(nr)		BIT_TYPE(u64, nr)

#endif /* __LINUX_BITS_H */
