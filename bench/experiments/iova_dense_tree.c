// An experiment, not part of the library (README, "Allocating IOVAs", "Also tried and not kept"): the IOVA
// tree redesigned for the 64K churn of `make bench`, to measure how fast that design can be before building it.
// A 16-byte struct iova, a side array from each allocation to its leaf, 128-byte nodes that own their two cache
// lines (16 gap words in GapTree's format, then 16 allocation or child numbers; no keys), parent links instead
// of descents, SSE4.1 scans and summaries, a hint to the cached node's leaf. The kernel's top-down policy from
// the cached node (no retry, no 32-bit cached node, no reserve, no rcache: the churn needs none of them).
//
//   cc -O2 -msse4.1 -o /tmp/dense bench/experiments/iova_dense_tree.c -lpthread
//   /tmp/dense LIVE PAIRS ALIGNED REPS           best ns per free + alloc pair of REPS runs (LOCK=1: a mutex
//                                                around each call, as the domain's lock; NOOVF=1: full leaves
//                                                always split, none passes an entry to a sibling)
//   /tmp/dense LIVE STEPS ALIGNED 1 1            check every address against a sorted-array model of the
//                                                kernel's loop, and the tree after every 16 steps
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <immintrin.h>
#include <sys/mman.h>

/* Zeroed memory on 2 MiB boundaries (HP=1: transparent huge pages; they made no difference). */
static void *big(size_t n)
{
	size_t huge = (size_t)1 << 21, bytes = (n + huge - 1) & ~(huge - 1);
	void *p = aligned_alloc(huge, bytes);

	if (getenv("HP"))
		madvise(p, bytes, MADV_HUGEPAGE);
	memset(p, 0, bytes);
	return p;
}

#define CAP 16			/* entries of a leaf, children of an inner node */
#define SAT 0xfffffu		/* a gap word's gap bits (saturated there), as GapTree's */
#define PRESENT (1u << 20)	/* set in every entry's word */
#define LMIN 8			/* a leaf below this merges with a sibling when both fit in MERGE */
#define MERGE 14
#define IMIN 4			/* the same for inner nodes */

/* A node: a leaf's gap words and allocation numbers, or an inner node's summaries and child numbers, packed at
 * the front (unused: 0). */
typedef struct { uint64_t hi, lo; } iova_t;
typedef struct { uint32_t w[CAP]; uint32_t r[CAP]; } __attribute__((aligned(64))) node_t;

static iova_t *iv;			/* allocation i's range; free ones threaded through lo */
static uint32_t *leaf_of;		/* allocation i's leaf */
static uint32_t nh = 2, hfree, hlive;	/* next fresh allocation number (1: the anchor), free list, live */
static node_t *nd;
static uint32_t *parent;		/* node n's parent */
static uint8_t *cnt;			/* node n's entries or children */
static uint32_t nn = 1, nfree;
static uint32_t root;
static int levels = 1;
/* The kernel's cached node, and its leaf while no node has been split, merged or freed since (shape). */
static uint32_t cached = 1, cached_leaf;
static unsigned long shape, cached_shape = ~0ul;
static uint16_t fit_table[64 * 128];
static unsigned long long misaligned;	/* admitted gaps that held no aligned start */

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
	if (g >= 127) return (g >= SAT ? SAT : (uint32_t)g) | (0xfffu << 20);
	unsigned up = (unsigned)((0 - (lo - g)) & 63);
	return (uint32_t)g | (uint32_t)fit_table[up << 7 | g] << 20;
}

static inline unsigned mask4(__m128i a) { return (unsigned)_mm_movemask_ps(_mm_castsi128_ps(a)); }

static inline unsigned admit_mask(const uint32_t *w, uint32_t key, uint32_t val)
{
	__m128i k = _mm_set1_epi32((int)key), v = _mm_set1_epi32((int)((val ^ 0x80000000u) - 1)),
		x = _mm_set1_epi32((int)0x80000000u);
	unsigned m = 0;
	for (int i = 0; i < 4; i++) {
		__m128i a = _mm_load_si128((const __m128i *)(w + 4 * i));
		a = _mm_xor_si128(_mm_and_si128(a, k), x);
		m |= mask4(_mm_cmpgt_epi32(a, v)) << (4 * i);
	}
	return m;
}

static inline int pos_of(const uint32_t *r, uint32_t x)
{
	__m128i v = _mm_set1_epi32((int)x);
	unsigned m = 0;
	for (int i = 0; i < 4; i++)
		m |= mask4(_mm_cmpeq_epi32(_mm_load_si128((const __m128i *)(r + 4 * i)), v)) << (4 * i);
	return __builtin_ctz(m);
}

static inline uint32_t summary(uint32_t n)
{
	__m128i mx = _mm_setzero_si128(), orv = _mm_setzero_si128(), sat = _mm_set1_epi32((int)SAT);
	for (int i = 0; i < 4; i++) {
		__m128i a = _mm_load_si128((const __m128i *)(nd[n].w + 4 * i));
		mx = _mm_max_epi32(mx, _mm_and_si128(a, sat));
		orv = _mm_or_si128(orv, a);
	}
	mx = _mm_max_epi32(mx, _mm_shuffle_epi32(mx, 0x4e));
	mx = _mm_max_epi32(mx, _mm_shuffle_epi32(mx, 0xb1));
	orv = _mm_or_si128(orv, _mm_shuffle_epi32(orv, 0x4e));
	orv = _mm_or_si128(orv, _mm_shuffle_epi32(orv, 0xb1));
	return (uint32_t)_mm_cvtsi128_si32(mx) | ((uint32_t)_mm_cvtsi128_si32(orv) & ~SAT);
}

static uint32_t new_node(void)
{
	shape++;
	uint32_t n;
	if (nfree) { n = nfree; nfree = nd[n].r[0]; } else n = nn++;
	memset(&nd[n], 0, sizeof(node_t));
	return n;
}

static void free_node(uint32_t n) { shape++; nd[n].r[0] = nfree; nfree = n; }

static uint32_t new_handle(void)
{
	uint32_t h;
	if (hfree) { h = hfree; hfree = (uint32_t)iv[h].lo; } else h = nh++;
	hlive++;
	return h;
}

static void free_handle(uint32_t h) { iv[h].lo = hfree; hfree = h; hlive--; }

static inline void fix_up(uint32_t n)
{
	while (n != root) {
		uint32_t p = parent[n];
		int c = pos_of(nd[p].r, n);
		uint32_t s = summary(n);
		if (nd[p].w[c] == s) return;
		nd[p].w[c] = s;
		n = p;
	}
}

static void insert_sibling(uint32_t n, uint32_t m, int lvl);

// Split full node n (at level lvl, 0 for a leaf) in halves, the upper half into a new node placed after it, whose
// entries' back links (leaf_of for a leaf's allocations, parent for an inner node's children) follow. Returns it.
static uint32_t split(uint32_t n, int lvl)
{
	uint32_t q = new_node(), *back = lvl == 0 ? leaf_of : parent;
	int h = CAP / 2;

	memcpy(nd[q].r, nd[n].r + h, h * 4);
	memcpy(nd[q].w, nd[n].w + h, h * 4);
	memset(nd[n].r + h, 0, h * 4);
	memset(nd[n].w + h, 0, h * 4);
	cnt[n] = (uint8_t)h;
	cnt[q] = (uint8_t)h;
	for (int i = 0; i < h; i++)
		back[nd[q].r[i]] = q;
	insert_sibling(n, q, lvl);
	return q;
}

// Insert child m right after child n in n's parent (n's level is lvl); splits upward.
static void insert_sibling(uint32_t n, uint32_t m, int lvl)
{
	if (n == root) {
		uint32_t r = new_node();
		nd[r].r[0] = n; nd[r].w[0] = summary(n);
		nd[r].r[1] = m; nd[r].w[1] = summary(m);
		cnt[r] = 2;
		parent[n] = parent[m] = r;
		root = r;
		levels++;
		return;
	}
	uint32_t p = parent[n];
	int c = pos_of(nd[p].r, n);
	if (cnt[p] == CAP) {
		uint32_t q = split(p, lvl + 1);
		if (c >= CAP / 2) { p = q; c -= CAP / 2; }
	}
	memmove(nd[p].r + c + 2, nd[p].r + c + 1, (cnt[p] - c - 1) * 4);
	memmove(nd[p].w + c + 2, nd[p].w + c + 1, (cnt[p] - c - 1) * 4);
	nd[p].r[c + 1] = m;
	nd[p].w[c + 1] = summary(m);
	nd[p].w[c] = summary(n);
	cnt[p]++;
	parent[m] = p;
	fix_up(p);
}

static void remove_child(uint32_t p, int c, int lvl);

// Move child c + 1 of p (at level lvl) into child c, when both fit in MERGE; true when it did.
static bool merge_pair(uint32_t p, int c, int lvl)
{
	uint32_t a = nd[p].r[c], b = nd[p].r[c + 1], *back = lvl == 0 ? leaf_of : parent;

	if (cnt[a] + cnt[b] > MERGE)
		return false;
	memcpy(nd[a].r + cnt[a], nd[b].r, cnt[b] * 4);
	memcpy(nd[a].w + cnt[a], nd[b].w, cnt[b] * 4);
	for (int i = 0; i < cnt[b]; i++)
		back[nd[b].r[i]] = a;
	cnt[a] += cnt[b];
	nd[p].w[c] = summary(a);
	free_node(b);
	remove_child(p, c + 1, lvl + 1);
	return true;
}

// Node n (level lvl) is under its minimum: merge it with a sibling when both fit.
static void rebalance(uint32_t n, int lvl)
{
	if (n == root) {
		if (lvl > 0 && cnt[n] == 1) {
			root = nd[n].r[0];
			free_node(n);
			levels--;
		}
		return;
	}
	uint32_t p = parent[n];
	int c = pos_of(nd[p].r, n);

	if (c > 0 && merge_pair(p, c - 1, lvl))
		return;
	if (c + 1 < cnt[p] && merge_pair(p, c, lvl))
		return;
	if (cnt[n] == 0) {
		free_node(n);
		remove_child(p, c, lvl + 1);
	}
}

static void remove_child(uint32_t p, int c, int lvl)
{
	memmove(nd[p].r + c, nd[p].r + c + 1, (cnt[p] - c - 1) * 4);
	memmove(nd[p].w + c, nd[p].w + c + 1, (cnt[p] - c - 1) * 4);
	cnt[p]--;
	nd[p].r[cnt[p]] = 0; nd[p].w[cnt[p]] = 0;
	fix_up(p);
	if (cnt[p] < IMIN) rebalance(p, lvl);
}

// The leaf after L (nonzero unless L is the last).
static uint32_t next_leaf(uint32_t n)
{
	int up = 0;
	while (n != root) {
		uint32_t p = parent[n];
		int c = pos_of(nd[p].r, n);
		if (c + 1 < cnt[p]) {
			n = nd[p].r[c + 1];
			while (up--) n = nd[n].r[0];
			return n;
		}
		n = p;
		up++;
	}
	return 0;
}

static uint32_t prev_leaf(uint32_t n)
{
	int up = 0;
	while (n != root) {
		uint32_t p = parent[n];
		int c = pos_of(nd[p].r, n);
		if (c > 0) {
			n = nd[p].r[c - 1];
			while (up--) n = nd[n].r[cnt[n] - 1];
			return n;
		}
		n = p;
		up++;
	}
	return 0;
}

// First free pfn below entry (L, j).
static uint64_t bottom_of(uint32_t L, int j)
{
	uint32_t g = nd[L].w[j] & SAT;
	uint64_t lo = iv[nd[L].r[j]].lo;
	if (g < SAT) return lo - g;
	if (j > 0) return iv[nd[L].r[j - 1]].hi + 1;
	uint32_t P = prev_leaf(L);
	return P ? iv[nd[P].r[cnt[P] - 1]].hi + 1 : 0;
}

static inline void shift_up(uint32_t *a, int j, int n) { for (int i = n; i > j; i--) a[i] = a[i - 1]; }
static inline void shift_down(uint32_t *a, int j, int n) { for (int i = j; i < n - 1; i++) a[i] = a[i + 1]; }

static bool overflow = true;	/* NOOVF=1: split every full leaf, as before */

// A full leaf L about to take an entry at j: move its first entry to the left sibling or its last to the right
// one when that has room (the entry at j, whose gap the new one splits, stays in L). False: split it instead.
// With the merge bounds above, this brings the churn's leaves from about half full to about three quarters.
static bool make_room(uint32_t L, int *j)
{
	if (!overflow || L == root) return false;
	uint32_t P = parent[L];
	int c = pos_of(nd[P].r, L);
	if (c > 0 && *j >= 1) {
		uint32_t S = nd[P].r[c - 1];
		if (cnt[S] < CAP - 1) {
			nd[S].r[cnt[S]] = nd[L].r[0]; nd[S].w[cnt[S]] = nd[L].w[0];
			leaf_of[nd[L].r[0]] = S;
			cnt[S]++;
			shift_down(nd[L].r, 0, CAP); shift_down(nd[L].w, 0, CAP);
			cnt[L]--;
			nd[L].r[cnt[L]] = 0; nd[L].w[cnt[L]] = 0;
			(*j)--;
			shape++;
			fix_up(S);
			return true;
		}
	}
	if (c + 1 < cnt[P] && *j <= CAP - 2) {
		uint32_t S = nd[P].r[c + 1];
		if (cnt[S] < CAP - 1) {
			shift_up(nd[S].r, 0, cnt[S]); shift_up(nd[S].w, 0, cnt[S]);
			nd[S].r[0] = nd[L].r[CAP - 1]; nd[S].w[0] = nd[L].w[CAP - 1];
			leaf_of[nd[S].r[0]] = S;
			cnt[S]++;
			cnt[L]--;
			nd[L].r[cnt[L]] = 0; nd[L].w[cnt[L]] = 0;
			shape++;
			fix_up(S);
			return true;
		}
	}
	return false;
}

static inline int fls64(uint64_t x) { return x ? 64 - __builtin_clzll(x) : 0; }

uint32_t proto_alloc(uint64_t size, uint64_t limit, int aligned)
{
	uint64_t mask = ~0ull, high = limit + 1;
	int k = fls64(size - 1);
	if (aligned) mask <<= k;
	uint32_t need = size >= SAT ? SAT : (uint32_t)size, bit = PRESENT;
	if (aligned && k >= 1 && k <= 6)
		bit = (size == 1ull << k ? 1u << (5 + k) : 1u << (k - 1)) << 20;
	uint32_t key = bit | SAT, val = bit | need;

	uint32_t L = cached_shape == shape ? cached_leaf : leaf_of[cached];
	int p = pos_of(nd[L].r, cached);
	for (;;) {
		unsigned m = admit_mask(nd[L].w, key, val) & ((2u << p) - 1);
		while (m) {
			int j = 31 - __builtin_clz(m);
			uint32_t e = nd[L].r[j];
			uint64_t lo = iv[e].lo, top = lo < high ? lo : high;
			uint64_t bottom = bottom_of(L, j);
			uint64_t nw = (top - size) & mask;
			if (top >= size && nw >= bottom && nw >= 1) {
				uint32_t h = new_handle();
				iv[h].lo = nw; iv[h].hi = nw + size - 1;
				uint32_t wn = gap_word(nw, nw - bottom), we = gap_word(lo, lo - (nw + size));
				if (cnt[L] == CAP && !make_room(L, &j)) {
					uint32_t R = split(L, 0);
					if (j >= CAP / 2) { L = R; j -= CAP / 2; }
				}
				shift_up(nd[L].r, j, cnt[L]);
				shift_up(nd[L].w, j, cnt[L]);
				nd[L].r[j] = h; nd[L].w[j] = wn; nd[L].w[j + 1] = we;
				cnt[L]++;
				leaf_of[h] = L;
				fix_up(L);
				cached = h; cached_leaf = L; cached_shape = shape;
				return h;
			}
			misaligned++;
			m &= ~(1u << j);
		}
		// Up to the first ancestor with an admitting child to the left, then down the rightmost admitting path.
		uint32_t n = L;
		int lvl = 0;
		for (;;) {
			if (n == root) return 0;
			uint32_t P = parent[n];
			int c = pos_of(nd[P].r, n);
			m = admit_mask(nd[P].w, key, val) & ((1u << c) - 1);
			lvl++;
			if (m) { n = nd[P].r[31 - __builtin_clz(m)]; lvl--; break; }
			n = P;
		}
		while (lvl > 0) {
			m = admit_mask(nd[n].w, key, val);
			n = nd[n].r[31 - __builtin_clz(m)];
			lvl--;
		}
		L = n;
		p = cnt[L] - 1;
	}
}

void proto_free(uint32_t h)
{
	uint32_t L = leaf_of[h];
	int p = pos_of(nd[L].r, h);
	uint64_t bottom = bottom_of(L, p);
	uint32_t S = L;
	int q = p + 1;
	if (q == cnt[L]) { S = next_leaf(L); q = 0; }
	uint32_t s = nd[S].r[q];
	uint32_t gs = nd[S].w[q] & SAT;
	uint64_t slo;
	if (gs < SAT) { slo = iv[h].hi + 1 + gs; __builtin_prefetch(&iv[s]); } else slo = iv[s].lo;
	if (iv[h].lo >= iv[cached].lo) { cached = s; cached_leaf = S; cached_shape = shape; }
	nd[S].w[q] = gap_word(slo, slo - bottom);
	shift_down(nd[L].r, p, cnt[L]);
	shift_down(nd[L].w, p, cnt[L]);
	cnt[L]--;
	nd[L].r[cnt[L]] = 0; nd[L].w[cnt[L]] = 0;
	free_handle(h);
	if (S != L) fix_up(S);
	fix_up(L);
	if (cnt[L] < LMIN) rebalance(L, 0);
}

void proto_init(void)
{
	size_t cap = 1u << 22;
	iv = big(cap * sizeof(iova_t));
	leaf_of = big(cap * 4);
	nd = big(cap / 4 * sizeof(node_t));
	parent = calloc(cap / 4, 4);
	cnt = calloc(cap / 4, 1);
	for (int up = 0; up < 64; up++)
		for (int g = 0; g < 128; g++)
			fit_table[up << 7 | g] = (uint16_t)fit_bits((uint64_t)g - (uint64_t)up, (uint64_t)g);
	root = new_node();
	iv[1].lo = iv[1].hi = ~0ull;
	nd[root].r[0] = 1;
	nd[root].w[0] = gap_word(~0ull, ~0ull);
	cnt[root] = 1;
	leaf_of[1] = root;
	cached = 1;
}

size_t proto_bytes(void)
{
	return (size_t)nh * (16 + 4) + (size_t)nn * (128 + 4 + 1);
}

// ---------- checks ----------
static uint64_t chk_prev_hi;
static int chk_first;
static long chk_count;
static uint32_t check_node(uint32_t n, int lvl)
{
	if (lvl == 0) {
		if (n != root && cnt[n] == 0) { printf("empty leaf\n"); abort(); }
		for (int i = 0; i < CAP; i++) {
			if (i >= cnt[n]) { if (nd[n].r[i] || nd[n].w[i]) { printf("junk\n"); abort(); } continue; }
			uint32_t h = nd[n].r[i];
			if (leaf_of[h] != n) { printf("leaf_of\n"); abort(); }
			uint64_t lo = iv[h].lo;
			uint64_t g = chk_first ? lo : lo - chk_prev_hi - 1;
			if (!chk_first && lo <= chk_prev_hi) { printf("order\n"); abort(); }
			if (nd[n].w[i] != gap_word(lo, g)) { printf("gap word %u vs %u\n", nd[n].w[i], gap_word(lo, g)); abort(); }
			chk_first = 0;
			chk_prev_hi = iv[h].hi;
			chk_count++;
		}
		return summary(n);
	}
	for (int i = 0; i < cnt[n]; i++) {
		uint32_t c = nd[n].r[i];
		if (parent[c] != n) { printf("parent\n"); abort(); }
		uint32_t s = check_node(c, lvl - 1);
		if (s != nd[n].w[i]) { printf("summary\n"); abort(); }
	}
	for (int i = cnt[n]; i < CAP; i++) if (nd[n].r[i] || nd[n].w[i]) { printf("junk inner\n"); abort(); }
	return summary(n);
}

void proto_check(void)
{
	chk_first = 1; chk_count = 0;
	check_node(root, levels - 1);
	if (chk_count != hlive + 1) { printf("count %ld vs %u\n", chk_count, hlive + 1); abort(); }
}

// ---------- reference: sorted array, the kernel's loop ----------
typedef struct { uint64_t lo, hi; uint32_t id; } ref_t;
static ref_t *ref;
static long nref;
static long ref_cached; // index into ref (of the cached entry); anchor is last
static long ref_find(uint32_t id) { for (long i = 0; i < nref; i++) if (ref[i].id == id) return i; abort(); }
static uint64_t ref_alloc(uint64_t size, uint64_t limit, int aligned, uint32_t id)
{
	uint64_t mask = ~0ull, high = limit + 1;
	if (aligned) mask <<= fls64(size - 1);
	long c = ref_cached;
	uint64_t nw;
	for (;;) {
		if (ref[c].lo < high) high = ref[c].lo;
		nw = (high - size) & mask;
		long pc = c - 1;
		if (pc < 0 || !(nw <= ref[pc].hi && nw >= 1)) break;
		c = pc;
	}
	if (high < size || nw < 1) return 0;
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

static uint64_t s = 0x9e3779b97f4a7c15ULL;
static inline uint64_t rnd(void) { s ^= s >> 12; s ^= s << 25; s ^= s >> 27; return s * 2685821657736338717ULL; }
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }
#define LIMIT_48 ((1UL << 36) - 1)
static uint32_t *live;

#include <pthread.h>
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int use_lock;
__attribute__((noinline)) void measured(long n, long LIVE, int al)
{
	for (long i = 0; i < n; i++) {
		uint64_t x = rnd();
		unsigned k = x % LIVE;
		if (use_lock) pthread_mutex_lock(&mu);
		proto_free(live[k]);
		if (use_lock) { pthread_mutex_unlock(&mu); pthread_mutex_lock(&mu); }
		live[k] = proto_alloc(1 + (x >> 32) % 64, LIMIT_48, al);
		if (use_lock) pthread_mutex_unlock(&mu);
	}
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);	/* a failed check's message before its abort() */
	proto_init();
	use_lock = getenv("LOCK") != 0;
	overflow = getenv("NOOVF") == 0;
	long LIVE = atol(argv[1]), n = atol(argv[2]);
	int al = argc > 3 ? atoi(argv[3]) : 1, reps = argc > 4 ? atoi(argv[4]) : 5, verify = argc > 5 ? atoi(argv[5]) : 0;
	live = calloc(LIVE, 4);
	if (verify) {
		ref = calloc(LIVE + 10, sizeof(ref_t));
		ref[0].lo = ref[0].hi = ~0ull; ref[0].id = 1; nref = 1; ref_cached = 0;
		for (long i = 0; i < LIVE; i++) {
			uint64_t sz = 1 + rnd() % 64;
			live[i] = proto_alloc(sz, LIMIT_48, al);
			uint64_t r = ref_alloc(sz, LIMIT_48, al, live[i]);
			if (iv[live[i]].lo != r) { printf("mismatch alloc %ld\n", i); return 1; }
			proto_check();
		}
		for (long i = 0; i < n; i++) {
			uint64_t x = rnd();
			unsigned k = x % LIVE;
			ref_free(live[k]);
			proto_free(live[k]);
			uint64_t sz = 1 + (x >> 32) % 64, lim = (x >> 20) % 4 ? LIMIT_48 : ((1ul << 20) - 1);
			int a = (x >> 10) & 1;
			live[k] = proto_alloc(sz, lim, a);
			uint64_t r = ref_alloc(sz, lim, a, live[k]);
			uint64_t got = live[k] ? iv[live[k]].lo : 0;
			if (got != r) {
				printf("mismatch step %ld: %lx vs %lx\n", i, (unsigned long)got, (unsigned long)r);
				return 1;
			}
			if (!live[k]) { printf("fail\n"); return 1; }
			if (i % 16 == 0) proto_check();
		}
		proto_check();
		printf("verified %ld steps, levels %d\n", n, levels);
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
	printf("live %ld aligned %d: %.1f ns/pair, levels %d, bytes/live %.1f, misaligned %llu\n", LIVE, al, best, levels,
	       (double)proto_bytes() / hlive, misaligned);
	return 0;
}
