/* SPDX-License-Identifier: MIT */
/* Mirrors the Linux 6.17 <linux/types.h> for swiommu: kernel integer, address, gfp and list types. */

/*
 * glibc and other system headers (e.g. <sys/mount.h> via <linux/mount.h>)
 * include <linux/types.h>; with this directory on the include path they land
 * here, so chain to the installed UAPI header first (it provides __u8..__u64,
 * __le16/__be32, __aligned_u64, __bitwise, ...).  That header owns the
 * _LINUX_TYPES_H guard, hence the different guard below.
 */
#include_next <linux/types.h>

#ifndef _SWIOMMU_LINUX_TYPES_H
#define _SWIOMMU_LINUX_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The kernel's fixed-width names.  As in the kernel (asm-generic/int-ll64.h)
 * they are the UAPI __uN/__sN types, which have the same width and
 * signedness as uintN_t/intN_t; for 64 bits that means u64 is
 * unsigned long long (printk("%llx", (u64)x)), whereas glibc's uint64_t is
 * unsigned long.  Both are UInt64/Int64 in Swift.
 */
typedef __u8	u8;
typedef __s8	s8;
typedef __u16	u16;
typedef __s16	s16;
typedef __u32	u32;
typedef __s32	s32;
typedef __u64	u64;
typedef __s64	s64;

_Static_assert(sizeof(u8) == sizeof(uint8_t) && sizeof(u16) == sizeof(uint16_t) &&
	       sizeof(u32) == sizeof(uint32_t) && sizeof(u64) == sizeof(uint64_t),
	       "kernel fixed-width types must match <stdint.h>");

/* DMA (bus) addresses and CPU physical addresses are 64-bit here
 * (CONFIG_ARCH_DMA_ADDR_T_64BIT, CONFIG_PHYS_ADDR_T_64BIT). */
typedef u64 dma_addr_t;
typedef u64 phys_addr_t;
typedef phys_addr_t resource_size_t;

/* Allocation flags (__GFP_*; see <linux/gfp_types.h>). */
typedef unsigned int __bitwise gfp_t;

/* Page-cache index. */
typedef unsigned long pgoff_t;

/* Atomic counters; operate on them only through <linux/atomic.h>-style helpers. */
typedef struct {
	int counter;
} atomic_t;

typedef struct {
	s64 counter;
} atomic64_t;

/* Intrusive doubly linked list node/head (see <linux/list.h>). */
struct list_head {
	struct list_head *next, *prev;
};

/* Hash-table list: a single-pointer head and nodes with a back-pointer to the
 * previous node's next field (see <linux/list.h>). */
struct hlist_head {
	struct hlist_node *first;
};

struct hlist_node {
	struct hlist_node *next, **pprev;
};

#endif /* _SWIOMMU_LINUX_TYPES_H */
