/* SPDX-License-Identifier: MIT */
/* Mirrors the Linux 6.17 <linux/bitops.h> (with the asm-generic/bitops headers, linux/find.h and the basic linux/bitmap.h helpers) for swiommu. */
#ifndef _LINUX_BITOPS_H
#define _LINUX_BITOPS_H

#include <linux/types.h>
#include <linux/const.h>
#include <linux/compiler.h>
#include <linux/bits.h>
/*
 * ffs() is glibc's (declared in <strings.h>, same contract as the kernel's:
 * 1-based index of the least significant set bit, 0 for 0).  Defining our own
 * would clash with that declaration.
 */
#include <strings.h>

#define BITS_TO_LONGS(nr)	__KERNEL_DIV_ROUND_UP(nr, BITS_PER_TYPE(long))
#define BITS_TO_U64(nr)		__KERNEL_DIV_ROUND_UP(nr, BITS_PER_TYPE(u64))
#define BITS_TO_U32(nr)		__KERNEL_DIV_ROUND_UP(nr, BITS_PER_TYPE(u32))
#define BITS_TO_BYTES(nr)	__KERNEL_DIV_ROUND_UP(nr, BITS_PER_TYPE(char))

/* An array of unsigned longs big enough for @bits bits. */
#define DECLARE_BITMAP(name, bits)	unsigned long name[BITS_TO_LONGS(bits)]

/* ------------------------------------------------------------------------
 * Atomic bit operations (asm-generic/bitops/atomic.h semantics):
 * set/clear/change are atomic but unordered; test_and_* are atomic and fully
 * ordered; the _lock/_unlock variants have acquire/release semantics.
 * Bit @nr counts from bit 0 of addr[0] upwards, BITS_PER_LONG bits a word.
 * ------------------------------------------------------------------------ */

static __always_inline void set_bit(long nr, volatile unsigned long *addr)
{
	(void)__atomic_fetch_or(&addr[BIT_WORD(nr)], BIT_MASK(nr), __ATOMIC_RELAXED);
}

static __always_inline void clear_bit(long nr, volatile unsigned long *addr)
{
	(void)__atomic_fetch_and(&addr[BIT_WORD(nr)], ~BIT_MASK(nr), __ATOMIC_RELAXED);
}

static __always_inline void change_bit(long nr, volatile unsigned long *addr)
{
	(void)__atomic_fetch_xor(&addr[BIT_WORD(nr)], BIT_MASK(nr), __ATOMIC_RELAXED);
}

static __always_inline bool test_and_set_bit(long nr, volatile unsigned long *addr)
{
	unsigned long mask = BIT_MASK(nr);

	return (__atomic_fetch_or(&addr[BIT_WORD(nr)], mask, __ATOMIC_SEQ_CST) & mask) != 0;
}

static __always_inline bool test_and_clear_bit(long nr, volatile unsigned long *addr)
{
	unsigned long mask = BIT_MASK(nr);

	return (__atomic_fetch_and(&addr[BIT_WORD(nr)], ~mask, __ATOMIC_SEQ_CST) & mask) != 0;
}

static __always_inline bool test_and_change_bit(long nr, volatile unsigned long *addr)
{
	unsigned long mask = BIT_MASK(nr);

	return (__atomic_fetch_xor(&addr[BIT_WORD(nr)], mask, __ATOMIC_SEQ_CST) & mask) != 0;
}

static __always_inline bool test_and_set_bit_lock(long nr, volatile unsigned long *addr)
{
	unsigned long mask = BIT_MASK(nr);

	return (__atomic_fetch_or(&addr[BIT_WORD(nr)], mask, __ATOMIC_ACQUIRE) & mask) != 0;
}

static __always_inline void clear_bit_unlock(long nr, volatile unsigned long *addr)
{
	(void)__atomic_fetch_and(&addr[BIT_WORD(nr)], ~BIT_MASK(nr), __ATOMIC_RELEASE);
}

/* ------------------------------------------------------------------------
 * Non-atomic bit operations (asm-generic/bitops/non-atomic.h): plain
 * read-modify-write; the caller provides the exclusion.
 * ------------------------------------------------------------------------ */

static __always_inline void __set_bit(unsigned long nr, volatile unsigned long *addr)
{
	addr[BIT_WORD(nr)] |= BIT_MASK(nr);
}

static __always_inline void __clear_bit(unsigned long nr, volatile unsigned long *addr)
{
	addr[BIT_WORD(nr)] &= ~BIT_MASK(nr);
}

static __always_inline void __change_bit(unsigned long nr, volatile unsigned long *addr)
{
	addr[BIT_WORD(nr)] ^= BIT_MASK(nr);
}

static __always_inline bool __test_and_set_bit(unsigned long nr, volatile unsigned long *addr)
{
	unsigned long mask = BIT_MASK(nr);
	unsigned long old = addr[BIT_WORD(nr)];

	addr[BIT_WORD(nr)] = old | mask;
	return (old & mask) != 0;
}

static __always_inline bool __test_and_clear_bit(unsigned long nr, volatile unsigned long *addr)
{
	unsigned long mask = BIT_MASK(nr);
	unsigned long old = addr[BIT_WORD(nr)];

	addr[BIT_WORD(nr)] = old & ~mask;
	return (old & mask) != 0;
}

static __always_inline bool __test_and_change_bit(unsigned long nr, volatile unsigned long *addr)
{
	unsigned long mask = BIT_MASK(nr);
	unsigned long old = addr[BIT_WORD(nr)];

	addr[BIT_WORD(nr)] = old ^ mask;
	return (old & mask) != 0;
}

/* Is bit @nr set?  A single plain read of the containing word. */
static __always_inline bool test_bit(unsigned long nr, const volatile unsigned long *addr)
{
	return 1UL & (addr[BIT_WORD(nr)] >> (nr & (BITS_PER_LONG - 1)));
}

/* test_bit() with acquire ordering. */
static __always_inline bool test_bit_acquire(unsigned long nr, const volatile unsigned long *addr)
{
	unsigned long word = __atomic_load_n(&addr[BIT_WORD(nr)], __ATOMIC_ACQUIRE);

	return 1UL & (word >> (nr & (BITS_PER_LONG - 1)));
}

/* assign_bit(nr, addr, value): set bit @nr if @value, else clear it. */
#define assign_bit(nr, addr, value)					\
	((value) ? set_bit((nr), (addr)) : clear_bit((nr), (addr)))
#define __assign_bit(nr, addr, value)					\
	((value) ? __set_bit((nr), (addr)) : __clear_bit((nr), (addr)))

/* ------------------------------------------------------------------------
 * Finding bits in a word.
 * ------------------------------------------------------------------------ */

/* __ffs - 0-based index of the lowest set bit; undefined for 0. */
static __always_inline unsigned long __ffs(unsigned long word)
{
	return (unsigned long)__builtin_ctzl(word);
}

/* __fls - 0-based index of the highest set bit; undefined for 0. */
static __always_inline unsigned long __fls(unsigned long word)
{
	return (BITS_PER_LONG - 1) - (unsigned long)__builtin_clzl(word);
}

/* fls - 1-based index of the highest set bit, 0 for 0: fls(1) == 1, fls(0x80000000) == 32. */
static __always_inline int fls(unsigned int x)
{
	return x ? (int)BITS_PER_TYPE(x) - __builtin_clz(x) : 0;
}

/* fls64 - as fls() for 64-bit values: fls64(1ULL << 63) == 64. */
static __always_inline int fls64(u64 x)
{
	return x ? 64 - __builtin_clzll(x) : 0;
}

/* __ffs64 - 0-based index of the lowest set bit of a u64; undefined for 0. */
static __always_inline unsigned long __ffs64(u64 word)
{
	return (unsigned long)__builtin_ctzll(word);
}

/* fls_long - fls() of an unsigned long. */
static __always_inline unsigned int fls_long(unsigned long l)
{
	return l ? (unsigned int)(BITS_PER_LONG - __builtin_clzl(l)) : 0;
}

/* ffz - 0-based index of the lowest clear bit; undefined if there is none. */
#define ffz(x)	__ffs(~(x))

/* get_count_order - ceil(log2(count)); -1 for 0. */
static inline int get_count_order(unsigned int count)
{
	if (count == 0)
		return -1;
	return fls(--count);
}

static inline int get_count_order_long(unsigned long l)
{
	if (l == 0UL)
		return -1;
	return (int)fls_long(--l);
}

/* ------------------------------------------------------------------------
 * Population count ("Hamming weight").  Macros like the kernel's, so they
 * fold to constants in static initializers.
 * ------------------------------------------------------------------------ */
#define hweight8(w)	((unsigned int)__builtin_popcount((unsigned int)(u8)(w)))
#define hweight16(w)	((unsigned int)__builtin_popcount((unsigned int)(u16)(w)))
#define hweight32(w)	((unsigned int)__builtin_popcount((unsigned int)(w)))
#define hweight64(w)	((unsigned int)__builtin_popcountll((unsigned long long)(w)))

static __always_inline unsigned long hweight_long(unsigned long w)
{
	return (unsigned long)__builtin_popcountl(w);
}

/* ------------------------------------------------------------------------
 * Rotates and sign extension.
 * ------------------------------------------------------------------------ */
static inline u64 rol64(u64 word, unsigned int shift)
{
	return (word << (shift & 63)) | (word >> ((-shift) & 63));
}

static inline u64 ror64(u64 word, unsigned int shift)
{
	return (word >> (shift & 63)) | (word << ((-shift) & 63));
}

static inline u32 rol32(u32 word, unsigned int shift)
{
	return (word << (shift & 31)) | (word >> ((-shift) & 31));
}

static inline u32 ror32(u32 word, unsigned int shift)
{
	return (word >> (shift & 31)) | (word << ((-shift) & 31));
}

/* sign_extend32/64 - treat bit @index of @value as the sign bit. */
static inline s32 sign_extend32(u32 value, int index)
{
	u8 shift = (u8)(31 - index);

	return (s32)(value << shift) >> shift;
}

static inline s64 sign_extend64(u64 value, int index)
{
	u8 shift = (u8)(63 - index);

	return (s64)(value << shift) >> shift;
}

/* ------------------------------------------------------------------------
 * Bitmaps: arrays of unsigned long (linux/bitmap.h, linux/find.h).
 * ------------------------------------------------------------------------ */

/* Mask of the bits at and above @start within its word. */
#define BITMAP_FIRST_WORD_MASK(start)	(~0UL << ((start) & (BITS_PER_LONG - 1)))
/* Mask of the valid bits in the last word of an @nbits-bit bitmap. */
#define BITMAP_LAST_WORD_MASK(nbits)	(~0UL >> (-(nbits) & (BITS_PER_LONG - 1)))
/* Bytes occupied by an @nbits-bit bitmap (whole words). */
#define bitmap_size(nbits)	(__ALIGN_KERNEL((unsigned long)(nbits), BITS_PER_LONG) / BITS_PER_BYTE)

/*
 * Index of the first bit at or after @start that is set in (@addr ^ @invert),
 * or @nbits if there is none.  @invert is 0 to look for set bits and ~0UL to
 * look for clear ones.
 */
static inline unsigned long __swiommu_find_next_bit(const unsigned long *addr,
						    unsigned long nbits,
						    unsigned long start,
						    unsigned long invert)
{
	unsigned long idx, word;

	if (unlikely(start >= nbits))
		return nbits;

	idx = start / BITS_PER_LONG;
	word = (addr[idx] ^ invert) & BITMAP_FIRST_WORD_MASK(start);
	while (!word) {
		idx++;
		if (idx * BITS_PER_LONG >= nbits)
			return nbits;
		word = addr[idx] ^ invert;
	}
	idx = idx * BITS_PER_LONG + __ffs(word);
	return idx < nbits ? idx : nbits;
}

/* find_next_bit - index of the next set bit at or after @offset, or @size. */
static inline unsigned long find_next_bit(const unsigned long *addr,
					  unsigned long size,
					  unsigned long offset)
{
	return __swiommu_find_next_bit(addr, size, offset, 0UL);
}

/* find_next_zero_bit - index of the next clear bit at or after @offset, or @size. */
static inline unsigned long find_next_zero_bit(const unsigned long *addr,
					       unsigned long size,
					       unsigned long offset)
{
	return __swiommu_find_next_bit(addr, size, offset, ~0UL);
}

/* find_first_bit - index of the first set bit, or @size if none is set. */
static inline unsigned long find_first_bit(const unsigned long *addr, unsigned long size)
{
	return __swiommu_find_next_bit(addr, size, 0, 0UL);
}

/* find_first_zero_bit - index of the first clear bit, or @size if all are set. */
static inline unsigned long find_first_zero_bit(const unsigned long *addr, unsigned long size)
{
	return __swiommu_find_next_bit(addr, size, 0, ~0UL);
}

/* find_last_bit - index of the last set bit, or @size if none is set. */
static inline unsigned long find_last_bit(const unsigned long *addr, unsigned long size)
{
	unsigned long idx, word;

	if (!size)
		return size;

	idx = (size - 1) / BITS_PER_LONG;
	word = addr[idx] & BITMAP_LAST_WORD_MASK(size);
	for (;;) {
		if (word)
			return idx * BITS_PER_LONG + __fls(word);
		if (idx == 0)
			return size;
		word = addr[--idx];
	}
}

#define for_each_set_bit(bit, addr, size)				\
	for ((bit) = 0;							\
	     (bit) = find_next_bit((addr), (size), (bit)), (bit) < (size); \
	     (bit)++)

/* Same as for_each_set_bit(), but starting at the current value of @bit. */
#define for_each_set_bit_from(bit, addr, size)				\
	for (; (bit) = find_next_bit((addr), (size), (bit)), (bit) < (size); (bit)++)

#define for_each_clear_bit(bit, addr, size)				\
	for ((bit) = 0;							\
	     (bit) = find_next_zero_bit((addr), (size), (bit)), (bit) < (size); \
	     (bit)++)

#define for_each_clear_bit_from(bit, addr, size)			\
	for (; (bit) = find_next_zero_bit((addr), (size), (bit)), (bit) < (size); (bit)++)

/* bitmap_zero - clear all @nbits bits (whole words). */
static inline void bitmap_zero(unsigned long *dst, unsigned int nbits)
{
	__builtin_memset(dst, 0, bitmap_size(nbits));
}

/* bitmap_fill - set all @nbits bits; like the kernel, whole words are filled. */
static inline void bitmap_fill(unsigned long *dst, unsigned int nbits)
{
	__builtin_memset(dst, 0xff, bitmap_size(nbits));
}

/* bitmap_copy - copy @nbits bits (whole words). */
static inline void bitmap_copy(unsigned long *dst, const unsigned long *src, unsigned int nbits)
{
	__builtin_memcpy(dst, src, bitmap_size(nbits));
}

/* bitmap_empty - is none of the first @nbits bits set? */
static inline bool bitmap_empty(const unsigned long *src, unsigned int nbits)
{
	return find_first_bit(src, nbits) == nbits;
}

/* bitmap_full - are all of the first @nbits bits set? */
static inline bool bitmap_full(const unsigned long *src, unsigned int nbits)
{
	return find_first_zero_bit(src, nbits) == nbits;
}

/* bitmap_equal - do the first @nbits bits of both bitmaps agree? */
static inline bool bitmap_equal(const unsigned long *src1, const unsigned long *src2,
				unsigned int nbits)
{
	unsigned int k, lim = nbits / BITS_PER_LONG;

	for (k = 0; k < lim; k++)
		if (src1[k] != src2[k])
			return false;
	if (nbits % BITS_PER_LONG)
		if ((src1[k] ^ src2[k]) & BITMAP_LAST_WORD_MASK(nbits))
			return false;
	return true;
}

/* bitmap_weight - number of set bits among the first @nbits. */
static inline unsigned int bitmap_weight(const unsigned long *src, unsigned int nbits)
{
	unsigned int k, lim = nbits / BITS_PER_LONG, w = 0;

	for (k = 0; k < lim; k++)
		w += (unsigned int)hweight_long(src[k]);
	if (nbits % BITS_PER_LONG)
		w += (unsigned int)hweight_long(src[k] & BITMAP_LAST_WORD_MASK(nbits));
	return w;
}

/*
 * Set (@set true) or clear the bits [@start, @start + @nbits), one word-sized
 * span at a time.
 */
static inline void __swiommu_bitmap_span(unsigned long *map, unsigned int start,
					 unsigned int nbits, bool set)
{
	unsigned long pos = start, end = (unsigned long)start + nbits;

	while (pos < end) {
		unsigned long lo = pos % BITS_PER_LONG;
		unsigned long n = BITS_PER_LONG - lo;
		unsigned long mask;

		if (n > end - pos)
			n = end - pos;
		mask = (n == BITS_PER_LONG) ? ~0UL : ((1UL << n) - 1) << lo;
		if (set)
			map[pos / BITS_PER_LONG] |= mask;
		else
			map[pos / BITS_PER_LONG] &= ~mask;
		pos += n;
	}
}

/* bitmap_set - set bits [@start, @start + @nbits). */
static inline void bitmap_set(unsigned long *map, unsigned int start, unsigned int nbits)
{
	__swiommu_bitmap_span(map, start, nbits, true);
}

/* bitmap_clear - clear bits [@start, @start + @nbits). */
static inline void bitmap_clear(unsigned long *map, unsigned int start, unsigned int nbits)
{
	__swiommu_bitmap_span(map, start, nbits, false);
}

/* Kernel layout: log2 helpers live in <linux/log2.h>, which needs fls() above. */
#include <linux/log2.h>

#endif /* _LINUX_BITOPS_H */
