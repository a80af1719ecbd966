/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The 16-word scans of SwiommuIOVA.GapArray, in SSE2 (every x86-64 has it) with a portable fallback: which of 16
 * gap words admit a request, and the summary of 16 words. Static inline so that the Swift code that calls them
 * inlines them.
 *
 * A gap word: bits 0-19 a gap (saturated), bits 20-31 fit bits; 0 for an empty position. A word w admits
 * (key, value) when (w & key) >= value, value >= 1 (see GapArray.Request).
 */
#ifndef _SWIOMMU_IOVA_SCAN_H
#define _SWIOMMU_IOVA_SCAN_H

#include <stdint.h>

#if defined(__SSE2__)
#include <emmintrin.h>

/* Bit i set when word i of the 16 at w (64-byte aligned) admits (key, value). */
static inline uint32_t swiommu_iova_admit16(const uint32_t *w, uint32_t key, uint32_t value)
{
	const __m128i k = _mm_set1_epi32((int)key), x = _mm_set1_epi32((int)0x80000000u);
	const __m128i v = _mm_set1_epi32((int)((value ^ 0x80000000u) - 1));
	__m128i a = _mm_cmpgt_epi32(_mm_xor_si128(_mm_and_si128(_mm_load_si128((const __m128i *)w), k), x), v);
	__m128i b = _mm_cmpgt_epi32(_mm_xor_si128(_mm_and_si128(_mm_load_si128((const __m128i *)(w + 4)), k), x), v);
	__m128i c = _mm_cmpgt_epi32(_mm_xor_si128(_mm_and_si128(_mm_load_si128((const __m128i *)(w + 8)), k), x), v);
	__m128i d = _mm_cmpgt_epi32(_mm_xor_si128(_mm_and_si128(_mm_load_si128((const __m128i *)(w + 12)), k), x), v);

	/* 0 or -1 in each lane: signed saturation packs them to bytes in order. */
	return (uint32_t)_mm_movemask_epi8(_mm_packs_epi16(_mm_packs_epi32(a, b), _mm_packs_epi32(c, d)));
}

/*
 * The summary of the 16 words at w (64-byte aligned): the largest gap, and the OR of the fit bits. Gaps are below
 * 2^24, so as floats they convert and order exactly: SSE's float maximum is one instruction where SSE2's 32-bit
 * maximum takes four.
 */
static inline uint32_t swiommu_iova_combine16(const uint32_t *w, uint32_t gap_mask)
{
	const __m128i g = _mm_set1_epi32((int)gap_mask);
	__m128i a = _mm_load_si128((const __m128i *)w), b = _mm_load_si128((const __m128i *)(w + 4));
	__m128i c = _mm_load_si128((const __m128i *)(w + 8)), d = _mm_load_si128((const __m128i *)(w + 12));
	__m128i o = _mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d));
	__m128 m = _mm_max_ps(_mm_max_ps(_mm_cvtepi32_ps(_mm_and_si128(a, g)), _mm_cvtepi32_ps(_mm_and_si128(b, g))),
			      _mm_max_ps(_mm_cvtepi32_ps(_mm_and_si128(c, g)), _mm_cvtepi32_ps(_mm_and_si128(d, g))));

	m = _mm_max_ps(m, _mm_movehl_ps(m, m));
	m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 0x55));
	o = _mm_or_si128(o, _mm_shuffle_epi32(o, 0x4e));
	o = _mm_or_si128(o, _mm_shuffle_epi32(o, 0x55));
	return (uint32_t)_mm_cvttss_si32(m) | ((uint32_t)_mm_cvtsi128_si32(o) & ~gap_mask);
}

#else

static inline uint32_t swiommu_iova_admit16(const uint32_t *w, uint32_t key, uint32_t value)
{
	uint32_t m = 0;

	for (int i = 0; i < 16; i++)
		m |= (uint32_t)((w[i] & key) >= value) << i;
	return m;
}

static inline uint32_t swiommu_iova_combine16(const uint32_t *w, uint32_t gap_mask)
{
	uint32_t g = 0, o = 0;

	for (int i = 0; i < 16; i++) {
		uint32_t x = w[i] & gap_mask;

		g = x > g ? x : g;
		o |= w[i];
	}
	return g | (o & ~gap_mask);
}

#endif

/* Start loading the cache line at p (no fault if p is not mapped). */
static inline void swiommu_iova_prefetch(const void *p)
{
	__builtin_prefetch(p);
}

/* The largest of the 16 values at p. */
static inline uint64_t swiommu_iova_max16(const uint64_t *p)
{
	uint64_t m = p[0];

	for (int i = 1; i < 16; i++)
		m = p[i] > m ? p[i] : m;
	return m;
}

/* Bit i set when value i of the 16 at p is at least x. */
static inline uint32_t swiommu_iova_at_least_mask16(const uint64_t *p, uint64_t x)
{
	uint32_t m = 0;

	for (int i = 0; i < 16; i++)
		m |= (uint32_t)(p[i] >= x) << i;
	return m;
}

#endif /* _SWIOMMU_IOVA_SCAN_H */
