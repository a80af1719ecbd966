/* SPDX-License-Identifier: MIT */
/*
 * A reference IOVA domain for the fuzzer: Linux 6.17's drivers/iommu/iova.c over a sorted array, step for step
 * (a C port of Tests/SwiommuIOVATests/ReferenceIOVA.swift), with swiommu's answers to bad input (a WARN and no
 * change where the kernel does not check). Obviously correct and O(n) per call.
 */
#ifndef SWIOMMU_FUZZ_IOVA_REF_H
#define SWIOMMU_FUZZ_IOVA_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REF_SIZE_CLASSES	6
#define REF_MAG_SIZE		127
#define REF_CPUS		4
#define REF_ANCHOR_ID		0

enum ref_state { REF_ALLOCATED, REF_CACHED };

struct ref_node {
	uint64_t lo, hi;
	int id;
	enum ref_state state;
	bool fast_origin;	/* made by alloc_iova_fast or cached once: reservations keep off it */
};

struct ref_mag {
	uint64_t pfns[REF_MAG_SIZE];
	int count;
};

struct ref_cpu_cache {
	struct ref_mag loaded, prev;
};

struct ref_iova {
	uint64_t granule, start_pfn, dma32, max32;
	int shift;
	struct ref_node *nodes;		/* sorted by lo, the anchor last */
	int count, capacity;
	int next_id, cached_id, cached32_id;
	bool rcaches;
	bool cpu_used[REF_CPUS];
	struct ref_cpu_cache percpu[REF_CPUS][REF_SIZE_CLASSES];
	struct ref_mag *depot[REF_SIZE_CLASSES];
	int depot_count[REF_SIZE_CLASSES], depot_capacity[REF_SIZE_CLASSES];
	bool work_pending[REF_SIZE_CLASSES];
	uint64_t work_due[REF_SIZE_CLASSES];
	uint64_t now;
	int online_cpus;
	int cpu;
	unsigned long warnings;		/* the WARN records swiommu must have written */
};

void ref_init(struct ref_iova *r, uint64_t granule, uint64_t start_pfn, uint64_t now, int online_cpus);
void ref_destroy(struct ref_iova *r);
/* The index of the node holding @pfn (the anchor excluded), or -1. */
int ref_find(const struct ref_iova *r, uint64_t pfn);
int ref_index_of(const struct ref_iova *r, int id);
/* alloc_iova: the index of the new node, or -1. */
int ref_alloc_iova(struct ref_iova *r, uint64_t size, uint64_t limit, bool size_aligned);
/* reserve_iova: the index of the node holding the top of the range, or -1. */
int ref_reserve(struct ref_iova *r, uint64_t pfn_lo, uint64_t pfn_hi);
void ref_free_iova(struct ref_iova *r, uint64_t pfn);
/* __free_iova of a node the caller knows by id; a node that is gone or cached changes nothing (a WARN). */
void ref_free_node(struct ref_iova *r, int id);
uint64_t ref_alloc_fast(struct ref_iova *r, uint64_t size, uint64_t limit, bool flush);
void ref_free_fast(struct ref_iova *r, uint64_t pfn, uint64_t size);
void ref_flush_all(struct ref_iova *r);
void ref_advance(struct ref_iova *r, uint64_t ms);
/* Ranges held by the rcaches. */
unsigned long ref_cached_entries(const struct ref_iova *r);
/* Whether [lo, hi] overlaps a node made by alloc_iova_fast or sitting in an rcache. */
bool ref_overlaps_fast(const struct ref_iova *r, uint64_t lo, uint64_t hi);

#endif /* SWIOMMU_FUZZ_IOVA_REF_H */
