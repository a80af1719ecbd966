/* SPDX-License-Identifier: MIT */
/* Mirrors the Linux 6.17 <linux/poison.h> for swiommu: poison pointers and byte patterns for freed/uninitialised objects. */
#ifndef _LINUX_POISON_H
#define _LINUX_POISON_H

/*
 * Offset added to every poison pointer.  The kernel may move them into a
 * non-canonical region (CONFIG_ILLEGAL_POINTER_VALUE); swiommu keeps them in
 * the never-mapped first page, so a stray dereference faults immediately.
 */
#ifndef POISON_POINTER_DELTA
#define POISON_POINTER_DELTA	0
#endif

/* Written into list_head/hlist_node links by list_del()/hlist_del(). */
#define LIST_POISON1		((void *)(0x100 + POISON_POINTER_DELTA))
#define LIST_POISON2		((void *)(0x122 + POISON_POINTER_DELTA))

/* Static timer entries. */
#define TIMER_ENTRY_STATIC	((void *)(0x300 + POISON_POINTER_DELTA))

/* Page allocator. */
#define PAGE_POISON		0xaa
#define TAIL_MAPPING		((void *)(0x400 + POISON_POINTER_DELTA))

/* Slab red zones: the word before and after an object. */
#define SLUB_RED_INACTIVE	0xbb	/* object is free */
#define SLUB_RED_ACTIVE		0xcc	/* object is allocated */

/* Slab object poisoning. */
#define POISON_INUSE		0x5a	/* allocated but not yet initialised */
#define POISON_FREE		0x6b	/* freed: catches use after free */
#define POISON_END		0xa5	/* last byte of a poisoned object */

/* Freed init memory. */
#define POISON_FREE_INITMEM	0xcc

/* Journalling. */
#define JBD_POISON_FREE		0x5b
#define JBD2_POISON_FREE	0x5c

/* dmapool (drivers/base/dmapool.c). */
#define POOL_POISON_FREED	0xa7	/* block is free */
#define POOL_POISON_ALLOCATED	0xa9	/* block allocated, not yet written */

/* ATM drivers. */
#define ATM_POISON_FREE		0x12
#define ATM_POISON		0xdeadbeef

/* Mutex debugging. */
#define MUTEX_DEBUG_INIT	0x11
#define MUTEX_DEBUG_FREE	0x22
#define MUTEX_POISON_WW_CTX	((void *)(0x500 + POISON_POINTER_DELTA))

/* Keys. */
#define KEY_DESTROY		0xbd

/* Networking and other subsystems. */
#define PP_SIGNATURE		(0x40 + POISON_POINTER_DELTA)
#define SKB_LIST_POISON_NEXT	((void *)(0x800 + POISON_POINTER_DELTA))
#define NET_PTR_POISON		((void *)(0x801 + POISON_POINTER_DELTA))
#define BPF_PTR_POISON		((void *)(0xeB9FUL + POISON_POINTER_DELTA))
#define VFS_PTR_POISON		((void *)(0xF5 + POISON_POINTER_DELTA))
#define STACK_DEPOT_POISON	((void *)(0xD390 + POISON_POINTER_DELTA))

#endif /* _LINUX_POISON_H */
