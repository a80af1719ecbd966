// The design of SwiommuIOVA.GapArray, measured outside the library (README, "Allocating IOVAs"): the allocations
// in one sorted array with empty slots (a packed memory array), highest address first, under implicit 16-ary
// summary levels (no pointers: a block's summary sits at index >> 4 of the level above), each allocation knowing
// its slot. The kernel's top-down policy from the cached node (no retry, no 32-bit cached node: the churn needs
// none); no lock, no entry points. Its parameters (KEEP, SWEEPAT, NEAR, FULLNUM, AKEEP: -D to change them)
// are what the library's were tuned from.
//
//   cc -O2 -o /tmp/gapped bench/experiments/iova_gapped_array.c
//   /tmp/gapped LIVE PAIRS ALIGNED REPS        best ns per free + alloc pair of REPS runs
//   /tmp/gapped LIVE STEPS ALIGNED 1 1         check every address against a sorted-array model
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SAT 0xfffffu
#define PRESENT (1u << 20)
#define LEVELS 6		/* level 0: slots; level k: summaries of 16^k slots */
#define NSLOTS (1u << 22)
#ifndef SPREAD
#define SPREAD 2		/* an entry appended at the low end leaves SPREAD - 1 empty slots before it */
#endif

typedef struct { uint64_t hi, lo; } iova_t;

static iova_t *iv;
static uint32_t *slot_of;
static uint32_t nh = 2, hfree, hlive;
static uint32_t *word[LEVELS];	/* word[0][s]: slot s's gap word (0: empty); word[k]: summaries */
static uint32_t *ids;		/* slot s's allocation */
static uint64_t *occ;		/* occupancy bits of the slots */
static uint32_t end = 1;	/* slots in use: [0, end) */
static uint32_t cached = 1;	/* 1: the anchor, in slot 0 */
static const uint64_t start_pfn = 1;
static uint16_t fit_table[64 * 128];
static unsigned long long misaligned, moved, climbs, sweeps;
static uint64_t *minlo[LEVELS];	/* minlo[k][b]: the lowest pfn_lo in block b of 16^k slots (~0: none) */
static bool sweeping;
static uint32_t sw_w, sw_r, sw_kept;	/* the sweep: [sw_w, sw_r) empty, slots below sw_w compacted */
static uint32_t appended;
#ifndef KEEP
#define KEEP 4			/* the sweep leaves an empty slot after every KEEP entries */
#endif

static uint32_t fit_bits(uint64_t b, uint64_t g)
{
	if (g >= 127) return 0xfff;
	if (g < 2) return 1;
	uint64_t up = 0 - (b - g), bits = 1;
	for (uint64_t k = 1; k <= 6; k++) {
		uint64_t r = up & ((1ull << k) - 1);
		bits |= (uint64_t)(g > r + (1ull << (k - 1))) << (k - 1);
		bits |= (uint64_t)(g >= r + (1ull << k)) << (k + 5);
	}
	return (uint32_t)bits;
}

static inline uint32_t gap_word(uint64_t lo, uint64_t g)
{
	if (g >= 127) return (g >= SAT ? SAT : (uint32_t)g) | PRESENT | (0xfffu << 20);
	unsigned up = (unsigned)((0 - (lo - g)) & 63);
	return (uint32_t)g | PRESENT | (uint32_t)fit_table[up << 7 | g] << 20;
}

/* The library's scans (SSE2, or portable C). */
#include "../../Sources/CSwiommuGlue/include/iova_scan.h"

static inline unsigned admit16(const uint32_t *w, uint32_t key, uint32_t val) { return swiommu_iova_admit16(w, key, val); }
static inline uint32_t combine16(const uint32_t *w) { return swiommu_iova_combine16(w, SAT); }

static inline uint32_t merge_words(uint32_t a, uint32_t b)
{
	uint32_t ga = a & SAT, gb = b & SAT;
	return (ga > gb ? ga : gb) | ((a | b) & ~SAT);
}

/* Slot s's word changed: recompute the summaries above it while they change. */
static inline void fix_up(uint32_t s)
{
	for (int k = 1; k < LEVELS; k++) {
		uint32_t b = s >> (4 * k);
		uint32_t nw = combine16(word[k - 1] + (b << 4));
		if (word[k][b] == nw) return;
		word[k][b] = nw;
	}
}

/* The lowest pfn_lo of block b (level 1) changed possibly: recompute it and the levels above while they change. */
static inline void fix_min(uint32_t s)
{
	uint32_t b = s >> 4;
	uint16_t o = (uint16_t)(occ[b >> 2] >> ((b & 3) * 16));
	uint64_t m = o ? iv[ids[(b << 4) + 31 - __builtin_clz(o)]].lo : ~0ull;
	if (minlo[1][b] == m) return;
	minlo[1][b] = m;
	for (int k = 2; k < LEVELS; k++) {
		uint32_t c = s >> (4 * k);
		uint64_t mm = ~0ull;
		for (int j = 0; j < 16; j++) if (minlo[k - 1][(c << 4) + j] < mm) mm = minlo[k - 1][(c << 4) + j];
		if (minlo[k][c] == mm) return;
		minlo[k][c] = mm;
	}
}

/* Is slot s the last occupied slot of its block? */
static inline bool last_in_block(uint32_t s)
{
	uint32_t b = s >> 4;
	uint16_t o = (uint16_t)(occ[b >> 2] >> ((b & 3) * 16));
	return (o >> (s & 15)) <= 1;
}

/* Slot s's word grew (a superset of what it was): merge it into the summaries above. */
static inline void grow_up(uint32_t s, uint32_t w)
{
	for (int k = 1; k < LEVELS; k++) {
		uint32_t b = s >> (4 * k), o = word[k][b], nw = merge_words(o, w);
		if (o == nw) return;
		word[k][b] = nw;
	}
}

static inline bool occupied(uint32_t s) { return occ[s >> 6] >> (s & 63) & 1; }
static inline void set_occ(uint32_t s) { occ[s >> 6] |= 1ull << (s & 63); }
static inline void clear_occ(uint32_t s) { occ[s >> 6] &= ~(1ull << (s & 63)); }

/* The nearest occupied slot above s (a lower index, a higher address); s > 0 (slot 0: the anchor). */
static inline uint32_t prev_occ(uint32_t s)
{
	uint32_t i = (s - 1) >> 6;
	uint64_t m = occ[i] & (~0ull >> (63 - ((s - 1) & 63)));
	while (!m) m = occ[--i];
	return i * 64 + 63 - __builtin_clzll(m);
}

/* The nearest occupied slot below s (a higher index), or end if none. */
static inline uint32_t next_occ(uint32_t s)
{
	uint32_t i = (s + 1) >> 6;
	if (s + 1 >= end) return end;
	uint64_t m = occ[i] & (~0ull << ((s + 1) & 63));
	while (!m) { if (++i * 64 >= end) return end; m = occ[i]; }
	uint32_t r = i * 64 + __builtin_ctzll(m);
	return r < end ? r : end;
}

/* The nearest empty slot below s (a higher index). */
static inline uint32_t next_empty(uint32_t s)
{
	uint32_t i = (s + 1) >> 6;
	uint64_t m = ~occ[i] & (~0ull << ((s + 1) & 63));
	while (!m) m = ~occ[++i];
	return i * 64 + __builtin_ctzll(m);
}

static inline uint64_t bottom_of(uint32_t s)	/* the predecessor's hi + 1, or start_pfn */
{
	uint32_t w = word[0][s];
	if ((w & SAT) < SAT) return iv[ids[s]].lo - (w & SAT);
	uint32_t p = next_occ(s);
	return p == end ? start_pfn : iv[ids[p]].hi + 1;
}

static uint32_t new_handle(void)
{
	uint32_t h;
	if (hfree) { h = hfree; hfree = (uint32_t)iv[h].lo; } else h = nh++;
	hlive++;
	return h;
}

/* The lowest slot >= x whose word admits (key, val), or end: up the levels to the first block with an admitting
 * entry at or after the path, then down its lowest admitting children. */
static inline uint32_t find_from(uint32_t x, uint32_t key, uint32_t val)
{
restart:;
	int k = 0;
	uint32_t i = x;
	for (;;) {
		uint32_t b = i & ~15u;
		unsigned m = admit16(word[k] + b, key, val) & (0xffffu << (i & 15));
		if (m) { i = b + __builtin_ctz(m); break; }
		if (++k == LEVELS) return end;
		i = (i >> 4) + 1;
		climbs++;
	}
	while (k > 0) {
		k--;
		i <<= 4;
		unsigned m = admit16(word[k] + i, key, val);
		if (!m) {
			/* a summary's largest gap and fit bit from different entries: none of them admits */
			misaligned++;
			x = (i + 16) << (4 * k);
			if (x >= end) return end;
			goto restart;
		}
		i += __builtin_ctz(m);
	}
	return i < end ? i : end;
}

/* The allocation containing pfn, or 0: the first block at each level whose lowest pfn_lo is <= pfn. */
static uint32_t proto_find(uint64_t pfn)
{
	int k = LEVELS - 1;
	uint32_t i = 0;
	for (;;) {
		uint32_t j = 0;
		while (j < 16 && minlo[k][i + j] > pfn) j++;
		if (j == 16) return 0;
		i += j;
		if (k == 1) break;
		k--;
		i <<= 4;
	}
	uint32_t b = i << 4;
	uint16_t o = (uint16_t)(occ[b >> 6] >> ((b & 63)));
	while (o) {
		uint32_t t = b + __builtin_ctz(o);
		if (iv[ids[t]].lo <= pfn) return iv[ids[t]].hi >= pfn ? ids[t] : 0;
		o &= o - 1;
	}
	return 0;
}

/* The nearest empty slot above s (a lower index), or 0 if none (slot 0 is the anchor's). */
static inline uint32_t prev_empty(uint32_t s)
{
	if (s <= 1) return 0;
	uint32_t i = (s - 1) >> 6;
	uint64_t m = ~occ[i] & (~0ull >> (63 - ((s - 1) & 63)));
	while (!m) { if (i == 0) return 0; m = ~occ[--i]; }
	return i * 64 + 63 - __builtin_clzll(m);
}

/* Move the entry in slot f to the empty slot t (neighbours in order: nothing occupied between them). */
static inline void move_entry(uint32_t f, uint32_t t)
{
	word[0][t] = word[0][f]; ids[t] = ids[f]; slot_of[ids[t]] = t; set_occ(t);
	word[0][f] = 0; ids[f] = 0; clear_occ(f);
	moved++;
}

/* Summaries of the slots [lo, hi] after moves. */
static void fix_range(uint32_t lo, uint32_t hi)
{
	for (uint32_t t = lo & ~15u; t <= hi; t += 16) { fix_up(t); fix_min(t); }
}

/* Slot s was just occupied: keep the sweep's run [sw_w, sw_r) empty (an entry inside it is read again). */
static inline void occupy(uint32_t s)
{
	if (!sweeping || s < sw_w || s >= sw_r) return;
	if (s == sw_w) sw_w++; else sw_r = s;
}

/* Place allocation h (word w) between slots a (its successor) and p (its predecessor, or end): returns its slot. */
#ifndef FULLNUM
#define FULLNUM 8		/* a window is spread out when at most 1 - 1/FULLNUM full */
#endif
#ifndef SWEEPAT
#define SWEEPAT 3		/* the sweep starts when the slots exceed the live allocations by 1/SWEEPAT */
#endif
#ifndef AKEEP
#define AKEEP 5
#endif
#ifndef MINW
#define MINW 64
#endif
#ifndef NEAR
#define NEAR 64			/* a shift of more entries than this spreads out the window around instead */
#endif
static uint32_t tmp_w[1u << 22], tmp_id[1u << 22];
static unsigned long long rebalances, rebalanced;

/* Spread the entries of the smallest aligned window around slot a (64 slots, doubling) that is at most 3/4
 * full evenly over it. False while sweeping (the sweep's empty run must stay where it is) or if none is. */
static bool rebalance(uint32_t a)
{
	if (sweeping) return false;
	for (uint32_t size = MINW; size <= (1u << 20); size <<= 1) {
		uint32_t lo = a & ~(size - 1), hi = lo + size;
		if (lo == 0) lo = 1;			/* the anchor stays */
		if (hi > end + size / 8) hi = end + size / 8;	/* the array grows by an eighth of the window at most */
		uint32_t n = 0;
		for (uint32_t i = lo >> 6; i < (hi + 63) >> 6; i++) n += (uint32_t)__builtin_popcountll(occ[i]);
		if (lo == 1) n -= 1;
		if (n * FULLNUM > (hi - lo) * (FULLNUM - 1)) continue;
		uint32_t k = 0;
		for (uint32_t t = lo; t < hi && t < end; t++)
			if (occupied(t)) { tmp_w[k] = word[0][t]; tmp_id[k] = ids[t]; k++; word[0][t] = 0; ids[t] = 0; clear_occ(t); }
		for (uint32_t i = 0; i < k; i++) {
			uint32_t t = lo + (uint32_t)((uint64_t)i * (hi - lo) / k) + (uint32_t)((hi - lo) / k / 2);
			word[0][t] = tmp_w[i]; ids[t] = tmp_id[i]; slot_of[tmp_id[i]] = t; set_occ(t);
			if (t + 1 > end) end = t + 1;
		}
		rebalances++; rebalanced += k;
		uint32_t last = prev_occ(end) ;
		if (!occupied(end - 1)) end = last + 1;
		fix_range(lo, hi - 1);
		return true;
	}
	return false;
}

static uint32_t place(uint32_t a, uint32_t p, uint32_t h, uint32_t w)
{
	uint32_t s, ids_a = ids[a];
	if (p > a + 1) {
		s = a + 1 + (p - a - 1) / 2;
		if (sweeping && s >= sw_w && a + 1 <= sw_w) s = sw_w;	/* not inside the sweep's empty run */
	} else {
		uint32_t e = next_empty(a), f = prev_empty(a);
		if (e - p > NEAR && (!f || a - f > NEAR) && rebalance(a)) {
			/* spread out: a and p moved apart, or an empty slot is near now */
			a = slot_of[ids_a]; p = next_occ(a);
			if (p > a + 1) { s = a + 1 + (p - a - 1) / 2; goto put; }
			e = next_empty(a); f = prev_empty(a);
		}
		if (f && a - f < e - p) {
			/* shift f+1 .. a up by one: the new entry takes slot a */
			for (uint32_t t = f; t < a; t++) move_entry(t + 1, t);
			occupy(f);
			fix_range(f, a);
			s = a;
		} else {
			for (uint32_t t = e; t > p; t--) move_entry(t - 1, t);
			if (e >= end) end = e + 1;
			occupy(e);
			fix_range(p, e);
			s = p;
		}
	}
put:
	word[0][s] = w; ids[s] = h; slot_of[h] = s; set_occ(s);
	occupy(s);
	return s;
}

/* One step of the sweep that packs the slots (keeping an empty slot after every KEEP entries) and shortens the
 * array: moves the entries of up to 32 slots from sw_r to sw_w. */
static void sweep_step(void)
{
	uint32_t lo = sw_w, stop = sw_r + 32;
	while (sw_r < stop && sw_r < end) {
		if (occupied(sw_r)) {
			if (sw_kept >= KEEP && sw_w < sw_r) { sw_kept = 0; sw_w++; }
			if (sw_w < sw_r) move_entry(sw_r, sw_w);
			sw_w++; sw_kept++;
		}
		sw_r++;
	}
	fix_range(lo, sw_r - 1);
	if (sw_r >= end) {
		uint32_t last = prev_occ(end);
		uint32_t old = end;
		end = last + 1;
		fix_range(end, old - 1);
		sweeping = false;
	}
}

static uint32_t proto_alloc(uint64_t size, uint64_t limit, int aligned)
{
	uint64_t mask = ~0ull, high = limit + 1;
	int k = size > 1 ? 64 - __builtin_clzll(size - 1) : 0;
	if (aligned) mask <<= k;
	uint32_t need = size >= SAT ? SAT : (uint32_t)size, bit = PRESENT;
	if (aligned && k >= 1 && k <= 6)
		bit = (size == 1ull << k ? 1u << (5 + k) : 1u << (k - 1)) << 20;
	uint32_t key = bit | SAT, val = bit | need;
	if (sweeping) sweep_step();
	uint32_t j = slot_of[cached];
	for (;;) {
		j = find_from(j, key, val);
		if (j >= end) return 0;
		uint32_t e = ids[j];
		uint64_t lo = iv[e].lo, top = lo < high ? lo : high;
		uint64_t bottom = bottom_of(j);
		uint64_t nw = (top - size) & mask;
		if (top >= size && nw >= bottom && nw >= start_pfn) {
			uint32_t h = new_handle();
			iv[h].lo = nw; iv[h].hi = nw + size - 1;
			uint32_t p = next_occ(j);
			uint32_t wn = gap_word(nw, nw - bottom);
			word[0][j] = gap_word(lo, lo - (nw + size));
			uint32_t s;
			if (p == end) {
				/* below the lowest allocation: an empty slot after every KEEP appended */
				s = j + 1 + (++appended % AKEEP == 0);
				word[0][s] = wn; ids[s] = h; slot_of[h] = s; set_occ(s);
				if (s + 1 > end) end = s + 1;
				occupy(s);
			} else
				s = place(j, p, h, wn);
			fix_up(j);
			fix_up(s);
			if (last_in_block(s)) fix_min(s);
			cached = h;
			return h;
		}
		misaligned++;
		j++;
	}
}

static void proto_free(uint32_t h)
{
	uint32_t s = slot_of[h];
	uint64_t bottom = bottom_of(s);
	uint32_t a = prev_occ(s), sa = ids[a];	/* the successor (slot 0: the anchor) */
	if (iv[h].lo >= iv[cached].lo) cached = sa;
	uint32_t w = gap_word(iv[sa].lo, iv[sa].lo - bottom);
	word[0][a] = w;
	bool last = last_in_block(s);
	word[0][s] = 0; ids[s] = 0; clear_occ(s);
	if (s == end - 1) end = a + 1;
	grow_up(a, w);
	fix_up(s);
	if (last) fix_min(s);
	iv[h].lo = hfree; hfree = h; hlive--;
	if (sweeping) sweep_step();
	else if (end > hlive + hlive / SWEEPAT + 256) {
		sweeping = true; sweeps++;
		sw_w = sw_r = 1; sw_kept = 0;
	}
}

/* A sorted-array model of the kernel's loop. */
typedef struct { uint64_t lo, hi; uint32_t id; } ref_t;
static ref_t *ref;
static long nref, ref_cached;
static long ref_find(uint32_t id) { for (long i = 0; i < nref; i++) if (ref[i].id == id) return i; abort(); }
static uint64_t ref_alloc(uint64_t size, uint64_t limit, int aligned, uint32_t id)
{
	uint64_t mask = ~0ull, high = limit + 1;
	if (aligned && size > 1) mask <<= 64 - __builtin_clzll(size - 1);
	long c = ref_cached;
	uint64_t nw;
	for (;;) {
		if (ref[c].lo < high) high = ref[c].lo;
		nw = (high - size) & mask;
		long pc = c - 1;
		if (pc < 0 || !(nw <= ref[pc].hi && nw >= start_pfn)) break;
		c = pc;
	}
	if (high < size || nw < start_pfn) return 0;
	memmove(ref + c + 1, ref + c, (nref - c) * sizeof(ref_t));
	ref[c].lo = nw; ref[c].hi = nw + size - 1; ref[c].id = id;
	nref++;
	ref_cached = c;
	return nw;
}
static void ref_free(uint32_t id)
{
	long i = ref_find(id);
	if (ref[i].lo >= ref[ref_cached].lo) ref_cached = i + 1;
	memmove(ref + i, ref + i + 1, (nref - i - 1) * sizeof(ref_t));
	nref--;
	if (ref_cached > i) ref_cached--;
}

static void proto_check(void)
{
	uint64_t above_lo = ~0ull;
	uint32_t n = 0, last = 0;
	for (uint32_t s = 0; s < end; s++) {
		if (!occupied(s)) { if (word[0][s]) { printf("word in empty slot %u\n", s); abort(); } continue; }
		uint32_t h = ids[s];
		if (slot_of[h] != s) { printf("slot_of %u\n", s); abort(); }
		if (s > 0 && iv[h].hi >= above_lo) { printf("order %u\n", s); abort(); }
		above_lo = iv[h].lo;
		n++; last = s;
	}
	for (uint32_t s = 0; s < end; s++) {
		if (!occupied(s)) continue;
		uint32_t p = next_occ(s);
		uint64_t bottom = p == end ? start_pfn : iv[ids[p]].hi + 1;
		if (word[0][s] != gap_word(iv[ids[s]].lo, iv[ids[s]].lo - bottom)) { printf("word %u\n", s); abort(); }
	}
	for (int k = 1; k < LEVELS; k++)
		for (uint32_t b = 0; b <= (end >> (4 * k)); b++)
			if (word[k][b] != combine16(word[k - 1] + (b << 4))) { printf("summary %d/%u\n", k, b); abort(); }
	for (uint32_t s = 0; s < end; s++)
		if (occupied(s) && ids[s] != 1 && proto_find(iv[ids[s]].hi) != ids[s]) { printf("find %u\n", s); abort(); }
	for (int k = 1; k < LEVELS; k++)
		for (uint32_t b = 0; b <= (end >> (4 * k)) + 1; b++) {
			uint64_t m = ~0ull;
			for (uint32_t t = b << (4 * k); t < (b + 1) << (4 * k) && t < end + 64; t++)
				if (occupied(t) && iv[ids[t]].lo < m) m = iv[ids[t]].lo;
			if (minlo[k][b] != m) { printf("minlo %d/%u\n", k, b); abort(); }
		}
	if (sweeping) for (uint32_t t = sw_w; t < sw_r; t++) if (occupied(t)) { printf("sweep run %u\n", t); abort(); }
	if (n != hlive + 1 || last != end - 1) { printf("count %u %u end %u last %u\n", n, hlive, end, last); abort(); }
}

static uint64_t rs = 0x9e3779b97f4a7c15ULL;
static inline uint64_t rnd(void) { rs ^= rs >> 12; rs ^= rs << 25; rs ^= rs >> 27; return rs * 2685821657736338717ULL; }
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }
#define LIMIT_48 ((1UL << 36) - 1)
static uint32_t *live;

__attribute__((noinline)) void measured(long n, long LIVE, int al)
{
	for (long i = 0; i < n; i++) {
		uint64_t x = rnd();
		unsigned k = x % LIVE;
		proto_free(live[k]);
		live[k] = proto_alloc(1 + (x >> 32) % 64, LIMIT_48, al);
	}
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	long LIVE = atol(argv[1]), n = atol(argv[2]);
	int al = argc > 3 ? atoi(argv[3]) : 1, reps = argc > 4 ? atoi(argv[4]) : 5, verify = argc > 5 ? atoi(argv[5]) : 0;
	size_t maxid = LIVE * 2 + 16;
	iv = aligned_alloc(64, maxid * sizeof(iova_t));
	slot_of = calloc(maxid, 4);
	for (int k = 0; k < LEVELS; k++) word[k] = aligned_alloc(64, ((NSLOTS >> (4 * k)) + 64) * 4), memset(word[k], 0, ((NSLOTS >> (4 * k)) + 64) * 4);
	ids = calloc(NSLOTS + 64, 4);
	for (int k = 1; k < LEVELS; k++) { size_t nb = (NSLOTS >> (4 * k)) + 64; minlo[k] = malloc(nb * 8); memset(minlo[k], 0xff, nb * 8); }
	occ = calloc(NSLOTS / 64 + 2, 8);
	for (int up = 0; up < 64; up++)
		for (int g = 0; g < 128; g++)
			fit_table[up << 7 | g] = (uint16_t)fit_bits((uint64_t)g - (uint64_t)up, (uint64_t)g);
	iv[1].lo = iv[1].hi = ~0ull;
	ids[0] = 1; slot_of[1] = 0; set_occ(0);
	word[0][0] = gap_word(~0ull, ~0ull - start_pfn);
	fix_up(0);
	fix_min(0);
	live = calloc(LIVE, 4);
	if (verify) {
		ref = calloc(LIVE + 10, sizeof(ref_t));
		ref[0].lo = ref[0].hi = ~0ull; ref[0].id = 1; nref = 1; ref_cached = 0;
		for (long i = 0; i < LIVE; i++) {
			uint64_t sz = 1 + rnd() % 64;
			live[i] = proto_alloc(sz, LIMIT_48, al);
			uint64_t r = ref_alloc(sz, LIMIT_48, al, live[i]);
			if (iv[live[i]].lo != r) { printf("mismatch alloc %ld\n", i); return 1; }
			if (i % 64 == 0 || getenv("ALL")) proto_check();
		}
		for (long i = 0; i < n; i++) {
			uint64_t x = rnd();
			unsigned k = x % LIVE;
			ref_free(live[k]);
			proto_free(live[k]);
			uint64_t sz = 1 + (x >> 32) % 64;
			int a = (x >> 10) & 1;
			live[k] = proto_alloc(sz, LIMIT_48, a);
			uint64_t r = ref_alloc(sz, LIMIT_48, a, live[k]);
			uint64_t got = live[k] ? iv[live[k]].lo : 0;
			if (got != r) { printf("mismatch step %ld: %lx vs %lx\n", i, (unsigned long)got, (unsigned long)r); return 1; }
			if (i % 64 == 0 || getenv("ALL")) proto_check();
		}
		proto_check();
		printf("verified %ld steps, slots %u, sweeps %llu\n", n, end, sweeps);
		return 0;
	}
	for (long i = 0; i < LIVE; i++) live[i] = proto_alloc(1 + rnd() % 64, LIMIT_48, al);
	measured(LIVE * 4, LIVE, al);
	double best = 1e18;
	for (int r = 0; r < reps; r++) {
		double t0 = now();
		measured(n, LIVE, al);
		double t = (now() - t0) / n;
		if (t < best) best = t;
	}
	long pairs = LIVE * 4 + n * reps;
	printf("live %ld aligned %d: %.1f ns/pair, slots %u (%.2f per live), moved %.2f, climbs %.2f, misaligned %.3f per pair, sweeps %llu, rebalances %llu (%llu entries)\n",
	       LIVE, al, best, end, (double)end / LIVE, (double)moved / pairs, (double)climbs / pairs,
	       (double)misaligned / pairs, sweeps, rebalances, rebalanced);
	return 0;
}
