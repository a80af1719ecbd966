// SPDX-License-Identifier: MIT
// The reference IOVA domain (see iova_ref.h): Tests/SwiommuIOVATests/ReferenceIOVA.swift in C, plus the node
// states and WARNs of swiommu's answers to bad input.
#include <stdlib.h>
#include <string.h>
#include "iova_ref.h"

static int fls64(uint64_t x)
{
	return x ? 64 - __builtin_clzll(x) : 0;
}

static int order_base_2(uint64_t n)
{
	return n > 1 ? fls64(n - 1) : 0;
}

static void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size);
	if (!p)
		abort();
	return p;
}

void ref_init(struct ref_iova *r, uint64_t granule, uint64_t start_pfn, uint64_t now, int online_cpus)
{
	memset(r, 0, sizeof(*r));
	r->granule = granule;
	r->shift = __builtin_ctzll(granule);
	r->start_pfn = start_pfn;
	/* 1UL << (32 - shift), with x86's shift-count masking as swiommu computes it. */
	r->dma32 = 1ULL << ((uint64_t)(32 - r->shift) & 63);
	r->max32 = r->dma32;
	r->capacity = 64;
	r->nodes = xrealloc(NULL, sizeof(*r->nodes) * (size_t)r->capacity);
	r->nodes[0] = (struct ref_node){ .lo = ~0ULL, .hi = ~0ULL, .id = REF_ANCHOR_ID };
	r->count = 1;
	r->next_id = 1;
	r->cached_id = r->cached32_id = REF_ANCHOR_ID;
	r->now = now;
	r->online_cpus = online_cpus;
}

void ref_destroy(struct ref_iova *r)
{
	free(r->nodes);
	for (int c = 0; c < REF_SIZE_CLASSES; c++)
		free(r->depot[c]);
	memset(r, 0, sizeof(*r));
}

// MARK: The tree

int ref_index_of(const struct ref_iova *r, int id)
{
	for (int i = 0; i < r->count; i++)
		if (r->nodes[i].id == id)
			return i;
	return -1;
}

/* The kernel's private_find_iova (the anchor excluded: it is not an allocation). */
int ref_find(const struct ref_iova *r, uint64_t pfn)
{
	for (int i = 0; i < r->count; i++)
		if (r->nodes[i].id != REF_ANCHOR_ID && r->nodes[i].lo <= pfn && pfn <= r->nodes[i].hi)
			return i;
	return -1;
}

static int insert_sorted(struct ref_iova *r, struct ref_node n)
{
	int at = r->count;

	for (int i = 0; i < r->count; i++)
		if (r->nodes[i].lo > n.lo) {
			at = i;
			break;
		}
	if (r->count == r->capacity) {
		r->capacity *= 2;
		r->nodes = xrealloc(r->nodes, sizeof(*r->nodes) * (size_t)r->capacity);
	}
	memmove(&r->nodes[at + 1], &r->nodes[at], sizeof(*r->nodes) * (size_t)(r->count - at));
	r->nodes[at] = n;
	r->count++;
	return at;
}

/* iova_find_limit: the lowest node whose pfn_lo is at least the limit (the anchor at worst). */
static int find_limit(const struct ref_iova *r, uint64_t limit)
{
	if (limit > r->dma32)
		return r->count - 1;
	for (int i = 0; i < r->count; i++)
		if (r->nodes[i].lo >= limit)
			return i;
	return r->count - 1;
}

/* __alloc_and_insert_iova_range, with @limit exclusive. */
static int alloc_and_insert(struct ref_iova *r, uint64_t size, uint64_t limit, bool size_aligned, bool fast)
{
	uint64_t align_mask = ~0ULL, high = limit, low = r->start_pfn, new_pfn, retry_pfn;
	int curr;

	if (size_aligned)
		align_mask <<= (uint64_t)fls64(size - 1) & 63;
	if (limit <= r->dma32 && size >= r->max32)
		return -1;
	curr = ref_index_of(r, limit <= r->dma32 ? r->cached32_id : r->cached_id);
	retry_pfn = r->nodes[curr].hi;
	for (;;) {
		do {
			if (r->nodes[curr].lo < high)
				high = r->nodes[curr].lo;
			new_pfn = (high - size) & align_mask;
			curr--;
		} while (curr >= 0 && new_pfn <= r->nodes[curr].hi && new_pfn >= low);
		if (high < size || new_pfn < low) {
			if (low == r->start_pfn && retry_pfn < limit) {
				high = limit;
				low = retry_pfn + 1;
				curr = find_limit(r, limit);
				continue;
			}
			r->max32 = size;
			return -1;
		}
		break;
	}
	struct ref_node n = { .lo = new_pfn, .hi = new_pfn + size - 1, .id = r->next_id++,
			      .state = REF_ALLOCATED, .fast_origin = fast };
	int at = insert_sorted(r, n);

	if (n.hi < r->dma32)
		r->cached32_id = n.id;
	else
		r->cached_id = n.id;
	return at;
}

/* The argument checks the kernel lacks (a WARN each): size 0 is refused; a limit below start_pfn goes on to
 * the kernel's search, which fails there. */
static bool check_request(struct ref_iova *r, uint64_t size, uint64_t limit)
{
	if (size != 0 && limit >= r->start_pfn)
		return true;
	r->warnings++;
	return size != 0;
}

int ref_alloc_iova(struct ref_iova *r, uint64_t size, uint64_t limit, bool size_aligned)
{
	if (!check_request(r, size, limit))
		return -1;
	return alloc_and_insert(r, size, limit + 1, size_aligned, false);
}

/* remove_iova: __cached_rbnode_delete_update, then rb_erase. */
static void remove_at(struct ref_iova *r, int i)
{
	struct ref_node f = r->nodes[i];
	int next = r->nodes[i + 1].id;
	uint64_t c32_lo = r->nodes[ref_index_of(r, r->cached32_id)].lo;

	if (f.id == r->cached32_id || (f.hi < r->dma32 && f.lo >= c32_lo))
		r->cached32_id = next;
	if (f.lo < r->dma32)
		r->max32 = r->dma32;
	if (f.lo >= r->nodes[ref_index_of(r, r->cached_id)].lo)
		r->cached_id = next;
	memmove(&r->nodes[i], &r->nodes[i + 1], sizeof(*r->nodes) * (size_t)(r->count - i - 1));
	r->count--;
}

/* free_iova: an unknown pfn, or one held by an rcache, changes nothing (a WARN). */
void ref_free_iova(struct ref_iova *r, uint64_t pfn)
{
	int i = ref_find(r, pfn);

	if (i < 0 || r->nodes[i].state == REF_CACHED)
		r->warnings++;
	else
		remove_at(r, i);
}

void ref_free_node(struct ref_iova *r, int id)
{
	int i = ref_index_of(r, id);

	if (i < 0 || r->nodes[i].state == REF_CACHED)
		r->warnings++;
	else
		remove_at(r, i);
}

int ref_reserve(struct ref_iova *r, uint64_t pfn_lo, uint64_t pfn_hi)
{
	uint64_t lo = pfn_lo;
	bool overlap = false;

	if ((pfn_hi | pfn_lo) > (~0ULL >> r->shift) || pfn_lo > pfn_hi || pfn_hi == ~0ULL) {
		r->warnings++;
		return -1;
	}
	for (int i = 0; i < r->count; i++) {
		struct ref_node *n = &r->nodes[i];

		if (lo <= n->hi && pfn_hi >= n->lo) {
			uint64_t nhi = n->hi;

			if (lo < n->lo)
				n->lo = lo;
			if (pfn_hi > nhi)
				lo = nhi + 1;
			if (lo >= n->lo && pfn_hi <= n->hi)
				return i;
			overlap = true;
		} else if (overlap) {
			break;
		}
	}
	return insert_sorted(r, (struct ref_node){ .lo = lo, .hi = pfn_hi, .id = r->next_id++, .state = REF_ALLOCATED });
}

bool ref_overlaps_fast(const struct ref_iova *r, uint64_t lo, uint64_t hi)
{
	for (int i = 0; i < r->count; i++) {
		const struct ref_node *n = &r->nodes[i];

		if (n->id != REF_ANCHOR_ID && (n->fast_origin || n->state == REF_CACHED) && n->lo <= hi && lo <= n->hi)
			return true;
	}
	return false;
}

// MARK: rcaches

/* iova_magazine_pop: false when nothing is at or below @limit. */
static bool magazine_pop(struct ref_mag *m, uint64_t limit, uint64_t *pfn)
{
	int i = m->count - 1;

	while (m->pfns[i] > limit) {
		if (i == 0)
			return false;
		i--;
	}
	*pfn = m->pfns[i];
	m->pfns[i] = m->pfns[m->count - 1];
	m->count--;
	return true;
}

static void set_state(struct ref_iova *r, uint64_t pfn, enum ref_state state)
{
	int i = ref_find(r, pfn);

	if (i >= 0)
		r->nodes[i].state = state;
}

/* iova_rcache_get, with @limit the kernel's limit_pfn + 1. */
static uint64_t rcache_get(struct ref_iova *r, uint64_t size, uint64_t limit)
{
	int c = order_base_2(size);
	struct ref_cpu_cache *cc;
	bool has = false;
	uint64_t pfn = 0;

	if (c >= REF_SIZE_CLASSES)
		return 0;
	r->cpu_used[r->cpu] = true;
	cc = &r->percpu[r->cpu][c];
	if (cc->loaded.count) {
		has = true;
	} else if (cc->prev.count) {
		struct ref_mag t = cc->loaded;

		cc->loaded = cc->prev;
		cc->prev = t;
		has = true;
	} else if (r->depot_count[c]) {
		cc->loaded = r->depot[c][--r->depot_count[c]];
		has = true;
	}
	/* The kernel takes a cached pfn 0 for a miss; that range then stays allocated, as there. */
	if (has && cc->loaded.count && magazine_pop(&cc->loaded, limit - size, &pfn))
		set_state(r, pfn, REF_ALLOCATED);
	return pfn;
}

static void schedule_work(struct ref_iova *r, int c)
{
	if (!r->work_pending[c]) {
		r->work_pending[c] = true;
		r->work_due[c] = r->now + 100;
	}
}

static void depot_push(struct ref_iova *r, int c, const struct ref_mag *m)
{
	if (r->depot_count[c] == r->depot_capacity[c]) {
		r->depot_capacity[c] = r->depot_capacity[c] ? 2 * r->depot_capacity[c] : 8;
		r->depot[c] = xrealloc(r->depot[c], sizeof(struct ref_mag) * (size_t)r->depot_capacity[c]);
	}
	r->depot[c][r->depot_count[c]++] = *m;
}

/* iova_rcache_insert. */
static bool rcache_insert(struct ref_iova *r, uint64_t pfn, uint64_t size)
{
	int c = order_base_2(size);
	struct ref_cpu_cache *cc;

	if (c >= REF_SIZE_CLASSES)
		return false;
	r->cpu_used[r->cpu] = true;
	cc = &r->percpu[r->cpu][c];
	if (cc->loaded.count < REF_MAG_SIZE) {
	} else if (cc->prev.count < REF_MAG_SIZE) {
		struct ref_mag t = cc->loaded;

		cc->loaded = cc->prev;
		cc->prev = t;
	} else {
		depot_push(r, c, &cc->loaded);
		schedule_work(r, c);
		cc->loaded.count = 0;
	}
	cc->loaded.pfns[cc->loaded.count++] = pfn;
	return true;
}

/* iova_magazine_free_pfns. */
static void free_pfns(struct ref_iova *r, struct ref_mag *m)
{
	for (int k = 0; k < m->count; k++) {
		int i = ref_find(r, m->pfns[k]);

		if (i >= 0)
			remove_at(r, i);
		else
			r->warnings++;
	}
	m->count = 0;
}

uint64_t ref_alloc_fast(struct ref_iova *r, uint64_t size, uint64_t limit, bool flush)
{
	uint64_t pfn;

	if (!check_request(r, size, limit))
		return 0;
	if (!r->rcaches) {
		r->warnings++;
		return 0;
	}
	if (size < 32)
		size = size <= 1 ? 1 : 1ULL << fls64(size - 1);
	pfn = rcache_get(r, size, limit + 1);
	if (pfn)
		return pfn;
	for (;;) {
		int i = alloc_and_insert(r, size, limit + 1, true, true);

		if (i >= 0)
			return r->nodes[i].lo;
		if (!flush)
			return 0;
		flush = false;
		ref_flush_all(r);
	}
}

void ref_free_fast(struct ref_iova *r, uint64_t pfn, uint64_t size)
{
	int c, i;

	if (!r->rcaches || size == 0) {
		r->warnings++;
		ref_free_iova(r, pfn);
		return;
	}
	c = order_base_2(size);
	if (c >= REF_SIZE_CLASSES) {
		ref_free_iova(r, pfn);
		return;
	}
	i = ref_find(r, pfn);
	if (i < 0 || r->nodes[i].state == REF_CACHED) {
		r->warnings++;
		return;
	}
	if (r->nodes[i].lo != pfn || r->nodes[i].hi - r->nodes[i].lo + 1 != 1ULL << c) {
		/* Not the allocation it claims to be: freed to the tree instead of cached. */
		r->warnings++;
		remove_at(r, i);
		return;
	}
	r->nodes[i].state = REF_CACHED;
	r->nodes[i].fast_origin = true;
	rcache_insert(r, pfn, size);
}

/* free_cpu_cached_iovas for every CPU, then free_global_cached_iovas. */
void ref_flush_all(struct ref_iova *r)
{
	for (int cpu = 0; cpu < REF_CPUS; cpu++) {
		if (!r->cpu_used[cpu])
			continue;
		for (int c = 0; c < REF_SIZE_CLASSES; c++) {
			free_pfns(r, &r->percpu[cpu][c].loaded);
			free_pfns(r, &r->percpu[cpu][c].prev);
		}
	}
	for (int c = 0; c < REF_SIZE_CLASSES; c++)
		while (r->depot_count[c])
			free_pfns(r, &r->depot[c][--r->depot_count[c]]);
}

/* The virtual clock: iova_depot_work_func each time a work falls due. */
void ref_advance(struct ref_iova *r, uint64_t ms)
{
	uint64_t target = r->now + ms;

	for (;;) {
		int best = -1;

		for (int c = 0; c < REF_SIZE_CLASSES; c++)
			if (r->work_pending[c] && r->work_due[c] <= target && (best < 0 || r->work_due[c] < r->work_due[best]))
				best = c;
		if (best < 0)
			break;
		r->now = r->work_due[best];
		r->work_pending[best] = false;
		if (r->depot_count[best] > r->online_cpus) {
			free_pfns(r, &r->depot[best][--r->depot_count[best]]);
			r->work_pending[best] = true;
			r->work_due[best] = r->now + 100;
		}
	}
	r->now = target;
}

unsigned long ref_cached_entries(const struct ref_iova *r)
{
	unsigned long n = 0;

	for (int cpu = 0; cpu < REF_CPUS; cpu++)
		for (int c = 0; c < REF_SIZE_CLASSES; c++)
			n += (unsigned long)(r->percpu[cpu][c].loaded.count + r->percpu[cpu][c].prev.count);
	for (int c = 0; c < REF_SIZE_CLASSES; c++)
		for (int k = 0; k < r->depot_count[c]; k++)
			n += (unsigned long)r->depot[c][k].count;
	return n;
}
