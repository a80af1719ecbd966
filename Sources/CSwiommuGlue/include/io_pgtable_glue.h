/* SPDX-License-Identifier: MIT */
/* What the page-table layer needs from C: the kernel's READ_ONCE/WRITE_ONCE and cmpxchg on descriptors. */
#ifndef _SWIOMMU_IO_PGTABLE_GLUE_H
#define _SWIOMMU_IO_PGTABLE_GLUE_H

#include <stdbool.h>
#include <stdint.h>
#include <malloc.h>

/*
 * Installing a table: the kernel's dma_wmb() then cmpxchg64_relaxed(), and walks that READ_ONCE() a table
 * descriptor and follow it, ordered by the address dependency. Here the install is a release (and, for the
 * loser, which follows the winner's table, an acquire) and those reads are acquires: on x86 the same
 * instructions, and edges ThreadSanitizer sees, where it ignores fences and dependencies (the new table's
 * zeroed entries would otherwise race with the walks of other threads).
 */

/* cmpxchg64: the value found at @p; @new was stored if it equals @old. */
static inline uint64_t swiommu_pgt_cmpxchg64(uint64_t *p, uint64_t old, uint64_t new_value)
{
	__atomic_compare_exchange_n(p, &old, new_value, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	return old;
}

/* cmpxchg on a 32-bit descriptor (ARMv7 short descriptors). */
static inline uint32_t swiommu_pgt_cmpxchg32(uint32_t *p, uint32_t old, uint32_t new_value)
{
	__atomic_compare_exchange_n(p, &old, new_value, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	return old;
}

/* READ_ONCE() of a descriptor a walk may follow into a table another thread installed. */
static inline uint64_t swiommu_pgt_load64_acquire(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline uint32_t swiommu_pgt_load32_acquire(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* A counter bumped from several threads at once (relaxed: statistics only). */
static inline void swiommu_pgt_count(uint64_t *p, int64_t delta)
{
	__atomic_fetch_add(p, (uint64_t)delta, __ATOMIC_RELAXED);
}

/* READ_ONCE()/WRITE_ONCE() of a word several CPUs share and follow (the walk cache, a table descriptor
 * rewritten after its install): acquire and release, for the reason above. */
static inline uint64_t swiommu_pgt_load64(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void swiommu_pgt_store64(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* The bytes a host heap block really holds (the side memory of a table's private data). */
static inline size_t swiommu_pgt_heap_size(const void *p)
{
	return malloc_usable_size((void *)p);
}

/* This thread's memo of the last registers the one-shot walker decoded: 16 key words, then the walker. */
#define SWIOMMU_PGT_WALKER_MEMO_WORDS 64
uint64_t *swiommu_pgt_walker_memo(void);

/* wmb()/dma_wmb(): descriptors are visible before what follows. */
static inline void swiommu_pgt_wmb(void)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

/* The boot generation (linux/bug.h), for WARN_ONCE sites in Swift: once per swiommu_init(). */
extern unsigned long swiommu_boot_generation;

static inline unsigned long swiommu_pgt_boot_generation(void)
{
	return __atomic_load_n(&swiommu_boot_generation, __ATOMIC_RELAXED);
}

#endif /* _SWIOMMU_IO_PGTABLE_GLUE_H */
