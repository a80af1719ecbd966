// SPDX-License-Identifier: MIT
// Fuzz target: the IOVA allocator (<linux/iova.h>) against the reference model of iova_ref.c. The input picks a
// domain (granule, start pfn, rcaches, online CPUs), then a sequence of alloc_iova, alloc_iova_fast, free_iova,
// __free_iova, free_iova_fast (right and wrong sizes), reserve_iova, find_iova, clock ticks and CPU switches with
// arbitrary arguments. Every returned address, the WARN records, the cached nodes, max32_alloc_size, the counts
// and (often) the whole tree must match the model, and swiommu_iova_check() must find nothing.
#include <stdbool.h>
#include <linux/errno.h>
#include <linux/iova.h>
#include <swiommu/swiommu.h>
#include "fuzz_common.h"
#include "iova_ref.h"

#define MAX_OPS		600
#define MAX_LIVE	2048

enum live_kind { LIVE_SLOW, LIVE_FAST };

struct live {
	enum live_kind kind;
	struct iova *iova;	/* slow and reserved */
	uint64_t pfn, size;	/* fast: what was returned and asked for */
	int id;			/* the model's node */
};

static struct iova_domain dom;
static struct ref_iova ref;
static struct live live[MAX_LIVE];
static int nlive;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Quiet unless SWIOMMU_LOGLEVEL asks otherwise (to see what a finding logged). */
	if (!getenv("SWIOMMU_LOGLEVEL"))
		swiommu_log_set_console_level(0);
	return 0;
}

static const char *op_name;

static void check_warnings(void)
{
	FUZZ_CHECK(swiommu_warn_count() == ref.warnings, "%s: %lu WARN records, the model expects %lu (last: %s)",
		   op_name, swiommu_warn_count(), ref.warnings, swiommu_warn_last());
}

/* The whole tree: every model node is found with its bounds, and the counts agree. */
static void check_tree(void)
{
	for (int i = 0; i < ref.count - 1; i++) {
		struct iova *a = find_iova(&dom, ref.nodes[i].lo);
		struct iova *b = find_iova(&dom, ref.nodes[i].hi);

		FUZZ_CHECK(a && a == b && a->pfn_lo == ref.nodes[i].lo && a->pfn_hi == ref.nodes[i].hi,
			   "%s: node [%#llx, %#llx] of the model is not in the tree", op_name,
			   (unsigned long long)ref.nodes[i].lo, (unsigned long long)ref.nodes[i].hi);
	}
	for (int k = 0; k < nlive; k++)
		if (live[k].kind == LIVE_SLOW) {
			int i = ref_index_of(&ref, live[k].id);

			FUZZ_CHECK(live[k].iova->pfn_lo == ref.nodes[i].lo && live[k].iova->pfn_hi == ref.nodes[i].hi,
				   "%s: struct iova [%#lx, %#lx] should be [%#llx, %#llx]", op_name, live[k].iova->pfn_lo,
				   live[k].iova->pfn_hi, (unsigned long long)ref.nodes[i].lo,
				   (unsigned long long)ref.nodes[i].hi);
		}
}

/* The allocator's own invariants (O(n): not after every call of a long sequence). */
static void check_invariants(void)
{
	unsigned long warns = swiommu_warn_count();
	int problems = swiommu_iova_check(&dom);

	FUZZ_CHECK(problems == 0, "%s: swiommu_iova_check() found %d problems: %s", op_name, problems,
		   swiommu_warn_last());
	FUZZ_CHECK(swiommu_warn_count() == warns, "%s: swiommu_iova_check() warned", op_name);
}

static void check_state(int step)
{
	struct swiommu_iova_stats st;

	if (ref.count <= 64 || step % 8 == 0)
		check_invariants();
	FUZZ_CHECK(swiommu_iova_get_stats(&dom, &st) == 0, "%s: swiommu_iova_get_stats failed", op_name);
	FUZZ_CHECK(st.allocations == (unsigned long)(ref.count - 1), "%s: %lu allocations, the model has %d", op_name,
		   st.allocations, ref.count - 1);
	FUZZ_CHECK(st.cached == ref_cached_entries(&ref), "%s: %lu cached ranges, the model has %lu", op_name,
		   st.cached, ref_cached_entries(&ref));
	FUZZ_CHECK(st.cached_pfn_lo == ref.nodes[ref_index_of(&ref, ref.cached_id)].lo &&
		   st.cached32_pfn_lo == ref.nodes[ref_index_of(&ref, ref.cached32_id)].lo,
		   "%s: cached nodes %#lx/%#lx, the model's %#llx/%#llx", op_name, st.cached_pfn_lo, st.cached32_pfn_lo,
		   (unsigned long long)ref.nodes[ref_index_of(&ref, ref.cached_id)].lo,
		   (unsigned long long)ref.nodes[ref_index_of(&ref, ref.cached32_id)].lo);
	FUZZ_CHECK(st.max32_alloc_size == ref.max32 && dom.max32_alloc_size == ref.max32,
		   "%s: max32_alloc_size %#lx (struct: %#lx), the model's %#llx", op_name, st.max32_alloc_size,
		   dom.max32_alloc_size, (unsigned long long)ref.max32);
	if (ref.count <= 16 || step % 32 == 0)
		check_tree();
}

/* Forget live entries whose node the model no longer has (freed through another handle or pfn). */
static void prune(void)
{
	for (int k = 0; k < nlive;) {
		int i = ref_index_of(&ref, live[k].id);

		if (i < 0 || (live[k].kind == LIVE_SLOW && ref.nodes[i].state == REF_CACHED))
			live[k] = live[--nlive];
		else
			k++;
	}
}

static void add_live(struct live e)
{
	if (nlive < MAX_LIVE)
		live[nlive++] = e;
}

/* Sizes: mostly small, sometimes large, now and then anything (0 included). */
static uint64_t pick_size(struct fuzz_stream *s)
{
	uint8_t b = fuzz_u8(s);

	switch (b >> 5) {
	case 0: case 1: case 2: case 3:
		return 1 + (b & 7);
	case 4:
		return 9 + (b & 31) * 2;
	case 5:
		return 1 + fuzz_u16(s) % 4096;
	case 6:
		return 1ULL << (fuzz_u8(s) % 64);
	default:
		return b & 1 ? fuzz_u64(s) : 0;
	}
}

/* Limits: the 32-bit and 48-bit tops, windows just above start_pfn or around 4 GiB, ~0, anything. */
static uint64_t pick_limit(struct fuzz_stream *s)
{
	uint8_t b = fuzz_u8(s);

	switch (b & 7) {
	case 0:
		return ref.dma32 - 1;
	case 1:
		return (1ULL << (48 - ref.shift)) - 1;
	case 2: case 3:
		return ref.start_pfn + fuzz_u8(s) * 4 + (b >> 3);
	case 4: {
		uint64_t below = fuzz_u16(s) % 512;

		return ref.dma32 - 1 - below + fuzz_u16(s) % 512;
	}
	case 5:
		return ~0ULL;
	case 6:
		return ref.start_pfn - 1 - (b >> 3);	/* below start_pfn unless it wraps */
	default:
		return fuzz_u64(s);
	}
}

/* A pfn somewhere interesting: in a live range, at its edges, or anywhere. */
static uint64_t pick_pfn(struct fuzz_stream *s)
{
	uint8_t b = fuzz_u8(s);

	if (ref.count > 1 && b < 192) {
		const struct ref_node *n = &ref.nodes[fuzz_u16(s) % (ref.count - 1)];

		switch (b & 3) {
		case 0: return n->lo;
		case 1: return n->hi;
		case 2: return n->lo - 1;
		default: return n->hi + 1;
		}
	}
	return b & 1 ? fuzz_u64(s) : ref.start_pfn + fuzz_u16(s);
}

static void op_alloc(struct fuzz_stream *s)
{
	uint64_t size = pick_size(s), limit = pick_limit(s);
	bool aligned = fuzz_bool(s);
	struct iova *a = alloc_iova(&dom, size, limit, aligned);
	int i = ref_alloc_iova(&ref, size, limit, aligned);

	op_name = "alloc_iova";
	FUZZ_CHECK((a != NULL) == (i >= 0), "alloc_iova(%#llx, %#llx, %d): %s, the model %s", (unsigned long long)size,
		   (unsigned long long)limit, aligned, a ? "an iova" : "NULL", i >= 0 ? "an iova" : "NULL");
	if (!a)
		return;
	FUZZ_CHECK(a->pfn_lo == ref.nodes[i].lo && a->pfn_hi == ref.nodes[i].hi,
		   "alloc_iova(%#llx, %#llx, %d): [%#lx, %#lx], the model [%#llx, %#llx]", (unsigned long long)size,
		   (unsigned long long)limit, aligned, a->pfn_lo, a->pfn_hi, (unsigned long long)ref.nodes[i].lo,
		   (unsigned long long)ref.nodes[i].hi);
	add_live((struct live){ .kind = LIVE_SLOW, .iova = a, .id = ref.nodes[i].id });
}

static void op_alloc_fast(struct fuzz_stream *s)
{
	uint64_t size = pick_size(s) % 80, limit = pick_limit(s);
	bool flush = fuzz_bool(s);
	unsigned long a = alloc_iova_fast(&dom, size, limit, flush);
	uint64_t b = ref_alloc_fast(&ref, size, limit, flush);

	op_name = "alloc_iova_fast";
	FUZZ_CHECK(a == b, "alloc_iova_fast(%#llx, %#llx, %d): %#lx, the model %#llx", (unsigned long long)size,
		   (unsigned long long)limit, flush, a, (unsigned long long)b);
	if (a) {
		int i = ref_find(&ref, a);

		FUZZ_CHECK(i >= 0, "alloc_iova_fast: the model lost pfn %#lx", a);
		add_live((struct live){ .kind = LIVE_FAST, .pfn = a, .size = size, .id = ref.nodes[i].id });
	}
}

/* Free a live entry the right way (or, for slow ones, by a pfn inside it). */
static void op_free_live(struct fuzz_stream *s)
{
	uint8_t how = fuzz_u8(s);
	int k;
	struct live e;

	if (!nlive)
		return;
	k = fuzz_u16(s) % nlive;
	e = live[k];
	live[k] = live[--nlive];
	if (e.kind == LIVE_FAST) {
		op_name = "free_iova_fast";
		free_iova_fast(&dom, e.pfn, e.size);
		ref_free_fast(&ref, e.pfn, e.size);
	} else if (how & 1) {
		op_name = "__free_iova";
		__free_iova(&dom, e.iova);
		ref_free_node(&ref, e.id);
		if (how & 2) {
			/* Again at once: the slot is still free, so this is a double free (a WARN, no change). */
			op_name = "__free_iova twice";
			__free_iova(&dom, e.iova);
			ref.warnings++;
		}
	} else {
		uint64_t pfn = e.iova->pfn_lo + fuzz_u16(s) % (e.iova->pfn_hi - e.iova->pfn_lo + 1);

		op_name = "free_iova";
		free_iova(&dom, pfn);
		ref_free_iova(&ref, pfn);
	}
}

static void op_free_fast_any(struct fuzz_stream *s)
{
	uint64_t pfn = pick_pfn(s), size = pick_size(s) % 80;

	op_name = "free_iova_fast (any)";
	free_iova_fast(&dom, pfn, size);
	ref_free_fast(&ref, pfn, size);
}

static void op_free_any(struct fuzz_stream *s)
{
	uint64_t pfn = pick_pfn(s);

	op_name = "free_iova (any)";
	free_iova(&dom, pfn);
	ref_free_iova(&ref, pfn);
}

static void op_reserve(struct fuzz_stream *s)
{
	uint8_t b = fuzz_u8(s);
	uint64_t lo = pick_pfn(s), hi;
	struct iova *a;
	int i;

	switch (b & 3) {
	case 0: hi = lo + (b >> 2); break;
	case 1: hi = lo + fuzz_u16(s); break;
	case 2: hi = lo - 1 - (b >> 2); break;	/* inverted, unless it wraps */
	default: hi = fuzz_u64(s); break;
	}
	/* Over what alloc_iova_fast handed out or an rcache holds, the kernel's own behaviour is undefined
	 * (the rcache would later hand out part of a reservation): dma-iommu reserves before allocating. */
	if (lo <= hi && ref_overlaps_fast(&ref, lo, hi))
		return;
	op_name = "reserve_iova";
	a = reserve_iova(&dom, lo, hi);
	i = ref_reserve(&ref, lo, hi);
	FUZZ_CHECK((a != NULL) == (i >= 0), "reserve_iova(%#llx, %#llx): %s, the model %s", (unsigned long long)lo,
		   (unsigned long long)hi, a ? "an iova" : "NULL", i >= 0 ? "an iova" : "NULL");
	if (!a)
		return;
	FUZZ_CHECK(a->pfn_lo == ref.nodes[i].lo && a->pfn_hi == ref.nodes[i].hi,
		   "reserve_iova(%#llx, %#llx): [%#lx, %#lx], the model [%#llx, %#llx]", (unsigned long long)lo,
		   (unsigned long long)hi, a->pfn_lo, a->pfn_hi, (unsigned long long)ref.nodes[i].lo,
		   (unsigned long long)ref.nodes[i].hi);
	for (int k = 0; k < nlive; k++)
		if (live[k].kind == LIVE_SLOW && live[k].id == ref.nodes[i].id) {
			FUZZ_CHECK(live[k].iova == a, "reserve_iova returned another struct iova for a live node");
			return;
		}
	add_live((struct live){ .kind = LIVE_SLOW, .iova = a, .id = ref.nodes[i].id });
}

static void op_find(struct fuzz_stream *s)
{
	uint64_t pfn = pick_pfn(s);
	struct iova *a = find_iova(&dom, pfn);
	int i = ref_find(&ref, pfn);

	op_name = "find_iova";
	FUZZ_CHECK((a != NULL) == (i >= 0), "find_iova(%#llx): %s, the model %s", (unsigned long long)pfn,
		   a ? "an iova" : "NULL", i >= 0 ? "an iova" : "NULL");
	FUZZ_CHECK(!a || (a->pfn_lo == ref.nodes[i].lo && a->pfn_hi == ref.nodes[i].hi),
		   "find_iova(%#llx): [%#lx, %#lx], the model [%#llx, %#llx]", (unsigned long long)pfn, a->pfn_lo,
		   a->pfn_hi, (unsigned long long)ref.nodes[i].lo, (unsigned long long)ref.nodes[i].hi);
}

/* A domain init_iova_domain() refused: every call WARNs and does nothing. */
static void refused_domain(struct fuzz_stream *s, unsigned long granule)
{
	unsigned long w;

	op_name = "init_iova_domain (refused)";
	init_iova_domain(&dom, granule, 1);
	FUZZ_CHECK(swiommu_warn_count() == 1, "init_iova_domain(granule %#lx) did not WARN", granule);
	FUZZ_CHECK(iova_domain_init_rcaches(&dom) == -EINVAL, "iova_domain_init_rcaches on a refused domain");
	FUZZ_CHECK(alloc_iova(&dom, 1 + fuzz_u8(s), ~0UL, true) == NULL, "alloc_iova on a refused domain");
	FUZZ_CHECK(alloc_iova_fast(&dom, 1, ~0UL, true) == 0, "alloc_iova_fast on a refused domain");
	FUZZ_CHECK(reserve_iova(&dom, 1, 2) == NULL, "reserve_iova on a refused domain");
	FUZZ_CHECK(find_iova(&dom, 1) == NULL, "find_iova on a refused domain");
	free_iova(&dom, 1);
	free_iova_fast(&dom, 1, 1);
	FUZZ_CHECK(swiommu_iova_check(&dom) == -EINVAL, "swiommu_iova_check on a refused domain");
	w = swiommu_warn_count();
	put_iova_domain(&dom);
	FUZZ_CHECK(swiommu_warn_count() == w + 1 && w >= 8, "a refused domain's calls did not all WARN (%lu)", w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_stream s = { data, size, 0 };
	uint8_t cfg = fuzz_u8(&s), start_mode = fuzz_u8(&s);
	unsigned int shift = cfg % 17;
	uint64_t start_pfn;
	int online = 1 + (fuzz_u8(&s) & 3);
	bool rcaches = !(cfg & 0x80);
	int old_online;

	swiommu_warn_reset();
	swiommu_log_reset();
	memset(&dom, 0, sizeof(dom));
	if ((cfg & 0x60) == 0x60 && (start_mode & 0x80)) {
		refused_domain(&s, start_mode & 1 ? 0 : 3 << shift);
		return 0;
	}
	switch (start_mode & 3) {
	case 0: start_pfn = 1; break;
	case 1: start_pfn = start_mode >> 2; break;
	case 2: start_pfn = (1ULL << ((32 - shift) & 63)) - 64 * (start_mode >> 2); break;
	default: start_pfn = fuzz_u32(&s); break;
	}
	swiommu_iova_allow_large_granule(shift > 12);
	old_online = swiommu_iova_set_online_cpus((unsigned int)online);
	FUZZ_CHECK(swiommu_iova_set_cpu(0) == 0, "swiommu_iova_set_cpu(0) failed");
	init_iova_domain(&dom, 1UL << shift, start_pfn);
	ref_init(&ref, 1ULL << shift, start_pfn, swiommu_iova_clock_now(), online);
	if (rcaches) {
		FUZZ_CHECK(iova_domain_init_rcaches(&dom) == 0, "iova_domain_init_rcaches failed");
		ref.rcaches = true;
	}
	op_name = "init_iova_domain";
	check_warnings();
	nlive = 0;

	for (int step = 0; fuzz_more(&s) && step < MAX_OPS; step++) {
		uint8_t op = fuzz_u8(&s);

		switch (op % 16) {
		case 0: case 1: case 2:
			op_alloc(&s);
			break;
		case 3: case 4: case 5:
			op_alloc_fast(&s);
			break;
		case 6: case 7: case 8:
			op_free_live(&s);
			break;
		case 9:
			op_free_fast_any(&s);
			break;
		case 10:
			op_free_any(&s);
			break;
		case 11:
			op_reserve(&s);
			break;
		case 12:
			op_find(&s);
			break;
		case 13: {
			unsigned long ms = fuzz_u16(&s) % 400;

			op_name = "swiommu_iova_clock_advance";
			swiommu_iova_clock_advance(ms);
			ref_advance(&ref, ms);
			break;
		}
		case 14: {
			int cpu = fuzz_u8(&s) % 3;

			op_name = "swiommu_iova_set_cpu";
			FUZZ_CHECK(swiommu_iova_set_cpu(cpu) == 0, "swiommu_iova_set_cpu(%d) failed", cpu);
			ref.cpu = cpu;
			break;
		}
		default: {
			/* A burst of fast allocations of one size: fills magazines and the depot. */
			uint64_t sz = 1 + fuzz_u8(&s) % 32, limit = pick_limit(&s);
			int n = 1 + fuzz_u8(&s);

			op_name = "alloc_iova_fast burst";
			for (int j = 0; j < n; j++) {
				unsigned long a = alloc_iova_fast(&dom, sz, limit, false);
				uint64_t b = ref_alloc_fast(&ref, sz, limit, false);

				FUZZ_CHECK(a == b, "alloc_iova_fast(%#llx, %#llx) #%d of a burst: %#lx, the model %#llx",
					   (unsigned long long)sz, (unsigned long long)limit, j, a, (unsigned long long)b);
				if (!a)
					break;
				add_live((struct live){ .kind = LIVE_FAST, .pfn = a, .size = sz,
							.id = ref.nodes[ref_find(&ref, a)].id });
			}
			if (fuzz_bool(&s))
				for (int k = nlive - 1; k >= 0 && n > 0; k--, n--)
					if (live[k].kind == LIVE_FAST) {
						free_iova_fast(&dom, live[k].pfn, live[k].size);
						ref_free_fast(&ref, live[k].pfn, live[k].size);
						live[k] = live[--nlive];
					}
			break;
		}
		}
		check_warnings();
		prune();
		check_state(step);
	}
	op_name = "the end";
	check_invariants();
	check_tree();
	put_iova_domain(&dom);
	FUZZ_CHECK(swiommu_iova_get_stats(&dom, &(struct swiommu_iova_stats){ 0 }) == -EINVAL,
		   "a domain after put_iova_domain still answers");
	ref_destroy(&ref);
	swiommu_iova_set_online_cpus((unsigned int)old_online);
	swiommu_iova_allow_large_granule(false);
	swiommu_warn_reset();
	return 0;
}
