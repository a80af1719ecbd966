// SPDX-License-Identifier: MIT
// Concurrency stress: 2 to 8 threads map, unmap, sync and do device DMA for a bounded time, on domains they
// share (the ethernet's and the DMA engine's default domains, one UNMANAGED domain attached to the storage
// controller, the swiotlb pool, the CPU cache model) and on domains of their own (a video input's default
// domain, a private UNMANAGED domain each thread frees and allocates again). Every thread checks that the data
// it wrote arrives where it should, through the device and through the CPU. Afterwards the invariants: every
// mapping a thread left behind translates to what it recorded and the tables hold nothing else, the IOVA
// spaces hold exactly those mappings (none leaked), the per-device DMA counters add up (maps - unmaps == live,
// the deliberate faults counted), and once everything is unmapped and unbound, no memory leaked, no WARN and
// no dma-debug finding. Built with ASan (test_stress_asan) and with ThreadSanitizer over a TSan build of the
// library (test_stress_tsan). SWIOMMU_STRESS_SECONDS (default 1.5) sets the total run time, split between the
// cases; SWIOMMU_STRESS_THREADS runs every case with that many threads instead of its own count.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <swiommu/swiommu.h>
#include "swiommu_test.h"

#define MAX_THREADS	8
#define LIVE_MAX	6		/* DMA API mappings a thread keeps at once */
#define SLOTS		16		/* pages of a thread's window in the shared UNMANAGED domain */
#define WINDOW		0x1000000ULL	/* 16 MiB of IOVA space per thread in it */
#define OWN_BASE	0x40000000ULL	/* where a thread maps in its own UNMANAGED domain */
#define NDOMAINS	8		/* DMA domains checked afterwards */

#define ETH	"/soc/ethernet@fe600000"
#define STORAGE	"/soc/storage@fe610000"
#define ENGINE	"/soc/dma-controller@fe100000"
#define GPU	"/soc/gpu@fe300000"
#define DMA32	"/soc/dma32@fe700000"
#define NONCOH	"/soc/noncoherent@fe710000"
#define LAZY	"/ { chosen { swiommu,iommu-strict = <0>; }; };"

static const char *const vin_paths[] = {
	"/soc/vin@fea00000", "/soc/vin@fea10000", "/soc/vin@fea20000",
	"/soc/vin@fea30000", "/soc/vin@fea40000", "/soc/vin@fea50000",
};
#define NVIN	(sizeof(vin_paths) / sizeof(vin_paths[0]))

static const struct of_device_id stress_ids[] = {
	{ .compatible = "swiommu,ethernet" }, { .compatible = "swiommu,storage" },
	{ .compatible = "swiommu,dma-engine" }, { .compatible = "swiommu,video-input" },
	{ .compatible = "swiommu,gpu" }, { .compatible = "swiommu,dma32-device" },
	{ .compatible = "swiommu,noncoherent-device" }, { }
};
static struct platform_driver stress_driver = {
	.driver = { .name = "stress", .of_match_table = stress_ids },
};

/* The devices, and the UNMANAGED domain every thread maps into (each in its own window). */
static struct {
	struct device *eth, *storage, *engine, *gpu, *dma32, *noncoh, *vin[NVIN];
	struct iommu_domain *shared;
	bool lazy;
	unsigned long faults_handled;	/* by the shared domain's fault handler (atomic) */
} rig;

/* One DMA API mapping a thread keeps across operations. */
struct live_map {
	struct device *dev;
	struct page *page;
	dma_addr_t addr;
	size_t len;
	unsigned char seed;	/* what the buffer holds */
};

/* One page a thread mapped in the shared UNMANAGED domain. */
struct slot {
	struct page *page;	/* NULL: not mapped */
	unsigned char seed;
};

struct worker {
	int id;
	pthread_t thread;
	uint64_t rng;
	struct timespec deadline;
	struct live_map live[LIVE_MAX];
	struct slot slots[SLOTS];
	struct iommu_domain *own;
	unsigned long ops, own_domains, faults;	/* operations done; private domains used; faults provoked */
	char failure[256];			/* the first check that failed, if any */
};

static struct worker workers[MAX_THREADS];

// MARK: Helpers

static uint64_t next(struct worker *w)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return w->rng;
}

/* Record the first failure of a thread (cmocka's asserts belong to the main thread). */
#define CHECK(w, cond, ...)							\
	do {									\
		if (!(cond)) {							\
			if (!(w)->failure[0]) {					\
				int n_ = snprintf((w)->failure, sizeof((w)->failure), "line %d: %s: ", __LINE__, #cond); \
				snprintf((w)->failure + n_, sizeof((w)->failure) - n_, __VA_ARGS__); \
			}							\
			return;							\
		}								\
	} while (0)

static void fill(void *p, size_t len, unsigned char seed)
{
	for (size_t i = 0; i < len; i++)
		((unsigned char *)p)[i] = (unsigned char)(seed + i * 13);
}

static bool holds(const void *p, size_t len, unsigned char seed)
{
	for (size_t i = 0; i < len; i++)
		if (((const unsigned char *)p)[i] != (unsigned char)(seed + i * 13))
			return false;
	return true;
}

static bool past(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline->tv_sec || (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

static unsigned char new_seed(struct worker *w)
{
	return (unsigned char)(w->id * 31 + next(w));
}

/* The device the DMA API operations of a thread use this time: shared ones, or the thread's video input. */
static struct device *pick_device(struct worker *w)
{
	switch (next(w) % 6) {
	case 0: case 1: return rig.eth;
	case 2: return rig.vin[w->id % NVIN];
	case 3: return rig.gpu;
	case 4: return rig.dma32;
	default: return rig.noncoh;
	}
}

// MARK: DMA API operations

/*
 * A buffer through the DMA API: the CPU fills it, maps it; the device reads it (and sees the CPU's data),
 * writes it; after a sync for the CPU the CPU sees the device's data; the CPU writes again, syncs for the
 * device, which reads that. A translated mapping translates to the buffer. Then the mapping is kept (up to
 * LIVE_MAX) or unmapped.
 */
static void map_page_op(struct worker *w, struct device *dev)
{
	struct page *pg = alloc_page(GFP_KERNEL);
	unsigned char seed = new_seed(w), buf[512];
	size_t off = (next(w) % 8) * 64, len = 64 + next(w) % (sizeof(buf) - 64);

	CHECK(w, pg != NULL, "alloc_page");
	void *cpu = (char *)page_address(pg) + off;

	fill(cpu, len, seed);
	dma_addr_t addr = dma_map_page(dev, pg, off, len, DMA_BIDIRECTIONAL);
	CHECK(w, !dma_mapping_error(dev, addr), "%s", dev_name(dev));
	CHECK(w, swiommu_dma_read(dev, 0, addr, buf, len) == 0, "%s %#llx", dev_name(dev), (unsigned long long)addr);
	CHECK(w, holds(buf, len, seed), "%s read %#llx", dev_name(dev), (unsigned long long)addr);
	struct iommu_domain *d = iommu_get_dma_domain(dev);
	if (d && dev != rig.gpu && dev != rig.dma32)	/* the DART maps swiotlb's bounce slot for a 4 KiB page */
		CHECK(w, iommu_iova_to_phys(d, addr) == page_to_phys(pg) + off, "%s %#llx", dev_name(dev),
		      (unsigned long long)addr);
	seed = new_seed(w);
	fill(buf, len, seed);
	CHECK(w, swiommu_dma_write(dev, 0, addr, buf, len) == 0, "%s", dev_name(dev));
	dma_sync_single_for_cpu(dev, addr, len, DMA_BIDIRECTIONAL);
	CHECK(w, holds(cpu, len, seed), "%s write %#llx", dev_name(dev), (unsigned long long)addr);
	seed = new_seed(w);
	fill(cpu, len, seed);
	dma_sync_single_for_device(dev, addr, len, DMA_BIDIRECTIONAL);
	CHECK(w, swiommu_dma_read(dev, 0, addr, buf, len) == 0, "%s", dev_name(dev));
	CHECK(w, holds(buf, len, seed), "%s reread %#llx", dev_name(dev), (unsigned long long)addr);

	for (int i = 0; i < LIVE_MAX; i++) {
		if (!w->live[i].dev && next(w) % 2) {
			w->live[i] = (struct live_map){ dev, pg, addr, len, seed };
			return;
		}
	}
	dma_unmap_page(dev, addr, len, DMA_BIDIRECTIONAL);
	__free_page(pg);
}

/* Unmap one kept mapping, after checking the device still reads what it held. */
static void unmap_live_op(struct worker *w)
{
	struct live_map *m = &w->live[next(w) % LIVE_MAX];
	unsigned char buf[512];

	if (!m->dev)
		return;
	CHECK(w, swiommu_dma_read(m->dev, 0, m->addr, buf, m->len) == 0, "%s", dev_name(m->dev));
	CHECK(w, holds(buf, m->len, m->seed), "%s kept %#llx", dev_name(m->dev), (unsigned long long)m->addr);
	dma_unmap_page(m->dev, m->addr, m->len, DMA_BIDIRECTIONAL);
	__free_page(m->page);
	*m = (struct live_map){ 0 };
}

/* A three-page scatterlist (the last one partial): one IOVA range through an IOMMU, checked segment by
 * segment through the device, written by it and synced back. */
static void map_sg_op(struct worker *w, struct device *dev)
{
	struct scatterlist sgl[3], *sg;
	struct page *pages[3];
	unsigned char seed = new_seed(w), *stream, *back;
	size_t lens[3] = { PAGE_SIZE, PAGE_SIZE, 256 + next(w) % 1024 }, total = lens[0] + lens[1] + lens[2], pos;
	int i, n;

	stream = malloc(total);
	back = malloc(total);
	CHECK(w, stream && back, "malloc");
	sg_init_table(sgl, 3);
	for (i = 0; i < 3; i++) {
		pages[i] = alloc_page(GFP_KERNEL);
		CHECK(w, pages[i] != NULL, "alloc_page");
		sg_set_page(&sgl[i], pages[i], lens[i], 0);
	}
	fill(stream, total, seed);
	for (i = 0, pos = 0; i < 3; pos += lens[i], i++)
		memcpy(page_address(pages[i]), stream + pos, lens[i]);
	n = dma_map_sg(dev, sgl, 3, DMA_BIDIRECTIONAL);
	CHECK(w, n > 0, "%s", dev_name(dev));
	pos = 0;
	for_each_sg(sgl, sg, n, i) {
		CHECK(w, pos + sg_dma_len(sg) <= total, "%s segment %d", dev_name(dev), i);
		CHECK(w, swiommu_dma_read(dev, 0, sg_dma_address(sg), back + pos, sg_dma_len(sg)) == 0, "%s", dev_name(dev));
		pos += sg_dma_len(sg);
	}
	CHECK(w, pos == total && memcmp(back, stream, total) == 0, "%s sg read (%zu of %zu)", dev_name(dev), pos, total);
	seed = new_seed(w);
	fill(stream, total, seed);
	pos = 0;
	for_each_sg(sgl, sg, n, i) {
		CHECK(w, swiommu_dma_write(dev, 0, sg_dma_address(sg), stream + pos, sg_dma_len(sg)) == 0, "%s", dev_name(dev));
		pos += sg_dma_len(sg);
	}
	dma_sync_sg_for_cpu(dev, sgl, 3, DMA_BIDIRECTIONAL);
	for (i = 0, pos = 0; i < 3; pos += lens[i], i++)
		CHECK(w, memcmp(page_address(pages[i]), stream + pos, lens[i]) == 0, "%s sg write, page %d", dev_name(dev), i);
	/* The CPU writes the first page again and hands the list back to the device. */
	seed = new_seed(w);
	fill(page_address(pages[0]), lens[0], seed);
	dma_sync_sg_for_device(dev, sgl, 3, DMA_BIDIRECTIONAL);
	CHECK(w, swiommu_dma_read(dev, 0, sg_dma_address(sgl), back, lens[0]) == 0, "%s", dev_name(dev));
	CHECK(w, holds(back, lens[0], seed), "%s sg reread", dev_name(dev));
	dma_unmap_sg(dev, sgl, 3, DMA_BIDIRECTIONAL);
	for (i = 0; i < 3; i++)
		__free_page(pages[i]);
	free(stream);
	free(back);
}

/*
 * The DMA engine's channels: 0-3 through one SMMUv3, 4-5 through another, 6-7 direct (a swiotlb slot for a
 * page above 4 GiB, the engine having a 32-bit mask). Mapped for all eight, every channel reads the buffer at
 * its own address. Then one channel writes a buffer mapped for its side only (a bounced route copies back at
 * unmap, which would overwrite what a translated channel wrote), and after the unmap the CPU sees it.
 */
static void engine_op(struct worker *w)
{
	struct page *pg = alloc_page(GFP_KERNEL);
	dma_addr_t addrs[8];
	unsigned char seed = new_seed(w), buf[256];
	size_t len = 32 + next(w) % (sizeof(buf) - 32);
	unsigned int c;

	CHECK(w, pg != NULL, "alloc_page");
	fill(page_address(pg), len, seed);
	dma_addr_t a = dma_map_page_attrs_multi(rig.engine, pg, 0, len, DMA_TO_DEVICE, 0, 0xff, addrs);
	CHECK(w, !dma_mapping_error(rig.engine, a), "engine");
	for (c = 0; c < 8; c++) {
		CHECK(w, swiommu_dma_read(rig.engine, c, addrs[c], buf, len) == 0, "channel %u", c);
		CHECK(w, holds(buf, len, seed), "channel %u at %#llx", c, (unsigned long long)addrs[c]);
	}
	/* Channels of one route share an address. */
	CHECK(w, addrs[0] == addrs[3] && addrs[4] == addrs[5] && addrs[6] == addrs[7], "addresses");
	dma_unmap_page_attrs_multi(rig.engine, addrs, len, DMA_TO_DEVICE, 0, 0xff);

	c = (unsigned int)(next(w) % 8);
	unsigned long mask = c < 6 ? 0x3f : 0xc0;
	a = dma_map_page_attrs_multi(rig.engine, pg, 0, len, DMA_BIDIRECTIONAL, 0, mask, addrs);
	CHECK(w, !dma_mapping_error(rig.engine, a), "engine");
	seed = new_seed(w);
	fill(buf, len, seed);
	CHECK(w, swiommu_dma_write(rig.engine, c, addrs[c], buf, len) == 0, "channel %u", c);
	dma_unmap_page_attrs_multi(rig.engine, addrs, len, DMA_BIDIRECTIONAL, 0, mask);
	CHECK(w, holds(page_address(pg), len, seed), "channel %u write", c);
	__free_page(pg);
}

/* A coherent allocation: the device writes it at its handle, the CPU reads it with no sync. */
static void coherent_op(struct worker *w, struct device *dev)
{
	size_t size = PAGE_SIZE << (next(w) % 3);
	unsigned char seed = new_seed(w), buf[256];
	dma_addr_t handle;
	void *cpu = dma_alloc_coherent(dev, size, &handle, GFP_KERNEL);

	CHECK(w, cpu != NULL, "%s: %zu bytes", dev_name(dev), size);
	fill(buf, sizeof(buf), seed);
	CHECK(w, swiommu_dma_write(dev, 0, handle + size - sizeof(buf), buf, sizeof(buf)) == 0, "%s", dev_name(dev));
	CHECK(w, holds((char *)cpu + size - sizeof(buf), sizeof(buf), seed), "%s coherent %#llx", dev_name(dev),
	      (unsigned long long)handle);
	dma_free_coherent(dev, size, cpu, handle);
}

// MARK: UNMANAGED domains

static unsigned long slot_iova(struct worker *w, int k)
{
	return (unsigned long)(WINDOW * (w->id + 1) + (unsigned long)k * 0x10000);
}

static int count_fault(struct iommu_domain *d, struct device *dev, unsigned long iova, int flags, void *token)
{
	(void)d; (void)dev; (void)iova; (void)flags; (void)token;
	__atomic_add_fetch(&rig.faults_handled, 1, __ATOMIC_RELAXED);
	return 0;	/* handled: no log line */
}

/*
 * A page of the thread's window in the shared domain: an empty slot gets a page, which the storage controller
 * writes through the domain; a mapped one is read back through the device and iommu_iova_to_phys, unmapped,
 * and the device's next access there faults (strict invalidation: the IOTLB forgot it).
 */
static void shared_domain_op(struct worker *w)
{
	int k = (int)(next(w) % SLOTS);
	struct slot *s = &w->slots[k];
	unsigned long iova = slot_iova(w, k);
	unsigned char buf[128];

	if (!s->page) {
		struct page *pg = alloc_page(GFP_KERNEL);

		CHECK(w, pg != NULL, "alloc_page");
		CHECK(w, iommu_map(rig.shared, iova, page_to_phys(pg), PAGE_SIZE, IOMMU_READ | IOMMU_WRITE,
				   GFP_KERNEL) == 0, "iova %#lx", iova);
		s->page = pg;
		s->seed = new_seed(w);
		fill(buf, sizeof(buf), s->seed);
		CHECK(w, swiommu_dma_write(rig.storage, 0, iova + 64, buf, sizeof(buf)) == 0, "iova %#lx", iova);
		CHECK(w, holds((char *)page_address(pg) + 64, sizeof(buf), s->seed), "iova %#lx", iova);
		return;
	}
	CHECK(w, iommu_iova_to_phys(rig.shared, iova + 100) == page_to_phys(s->page) + 100, "iova %#lx", iova);
	CHECK(w, swiommu_dma_read(rig.storage, 0, iova + 64, buf, sizeof(buf)) == 0, "iova %#lx", iova);
	CHECK(w, holds(buf, sizeof(buf), s->seed), "iova %#lx", iova);
	CHECK(w, iommu_unmap(rig.shared, iova, PAGE_SIZE) == PAGE_SIZE, "iova %#lx", iova);
	CHECK(w, iommu_iova_to_phys(rig.shared, iova) == 0, "iova %#lx", iova);
	__free_page(s->page);
	s->page = NULL;
	if (next(w) % 4 == 0) {
		CHECK(w, swiommu_dma_read(rig.storage, 0, iova, buf, 8) == -EFAULT, "iova %#lx after unmap", iova);
		w->faults++;
	}
}

/* The thread's own UNMANAGED domain (allocated both ways the API offers, not attached): maps of 4 KiB pages
 * and a 2 MiB block, iommu_iova_to_phys at both ends, unmaps; now and then it is freed and made again (the
 * route generation moves under every thread's device DMA). */
static void own_domain_op(struct worker *w)
{
	if (!w->own || next(w) % 16 == 0) {
		if (w->own)
			iommu_domain_free(w->own);
		w->own = (w->own_domains++ % 2) ? iommu_paging_domain_alloc(rig.storage)
						 : iommu_domain_alloc(&platform_bus_type);
		CHECK(w, !IS_ERR_OR_NULL(w->own), "domain alloc");
	}
	bool block = next(w) % 8 == 0;
	unsigned int order = block ? 9 : (unsigned int)(next(w) % 3);
	size_t size = PAGE_SIZE << order;
	struct page *pg = alloc_pages(GFP_KERNEL, order);
	unsigned long iova = OWN_BASE + (block ? 0 : (next(w) % 256) * SZ_64K);

	CHECK(w, pg != NULL, "alloc_pages(%u)", order);
	phys_addr_t pa = page_to_phys(pg);
	CHECK(w, iommu_map(w->own, iova, pa, size, IOMMU_READ | IOMMU_WRITE, GFP_KERNEL) == 0, "iova %#lx", iova);
	CHECK(w, iommu_iova_to_phys(w->own, iova) == pa, "iova %#lx", iova);
	CHECK(w, iommu_iova_to_phys(w->own, iova + size - 1) == pa + size - 1, "iova %#lx", iova);
	CHECK(w, iommu_unmap(w->own, iova, size) == size, "iova %#lx", iova);
	CHECK(w, iommu_iova_to_phys(w->own, iova) == 0, "iova %#lx", iova);
	__free_pages(pg, order);
}

/* What a monitoring thread reads while the others run: dumps, counters, IOTLB and IOVA statistics. */
static void monitor_op(struct worker *w)
{
	static __thread char text[1 << 16];
	struct swiommu_dma_counters c;
	struct swiommu_iotlb_stats t;
	struct swiommu_iova_stats s;

	CHECK(w, swiommu_dump_domain(rig.shared, text, sizeof(text)) > 0, "dump");
	CHECK(w, swiommu_dump_domain(iommu_get_dma_domain(rig.eth), text, sizeof(text)) > 0, "dump");
	CHECK(w, swiommu_dump_iotlb(rig.storage, 0, text, sizeof(text)) > 0, "iotlb dump");
	CHECK(w, swiommu_dma_get_counters(rig.eth, &c) == 0, "counters");
	CHECK(w, swiommu_iommu_iotlb_stats(rig.engine, 4, &t) == 0, "iotlb stats");
	CHECK(w, swiommu_iommu_dma_get_iova_stats(iommu_get_dma_domain(rig.eth), &s) == 0, "iova stats");
	if (rig.lazy)
		swiommu_iova_clock_advance(1 + next(w) % 10);	/* flush-queue timers fire on this thread */
}

static void *work(void *arg)
{
	struct worker *w = arg;

	while (!past(&w->deadline) && !w->failure[0]) {
		switch (next(w) % 16) {
		case 0: case 1: case 2: case 3: map_page_op(w, pick_device(w)); break;
		case 4: case 5: unmap_live_op(w); break;
		case 6: case 7: map_sg_op(w, next(w) % 2 ? rig.eth : rig.vin[w->id % NVIN]); break;
		case 8: case 9: engine_op(w); break;
		case 10: case 11: case 12: shared_domain_op(w); break;
		case 13: case 14: own_domain_op(w); break;
		case 15: if (w->id == 0) monitor_op(w); else coherent_op(w, pick_device(w)); break;
		}
		w->ops++;
	}
	return NULL;
}

// MARK: Invariants

/* The leaf entries of a domain's LPAE table dump ("... 0xSTART-0xEND 0xPTE page -> 0xOUT ..."), checked
 * against @want(iova) (the physical address expected, 0 for none): returns how many leaves it saw; any
 * mismatch fails the test. */
static int check_table(struct iommu_domain *d, phys_addr_t (*want)(unsigned long iova, void *ctx), void *ctx)
{
	static char text[1 << 20];
	int leaves = 0;

	assert_true(swiommu_dump_domain(d, text, sizeof(text)) < (ssize_t)sizeof(text));
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned long long start, end, pte, out;
		char kind[16];
		char *p = strchr(line, ']');

		if (!p || sscanf(p + 1, " 0x%llx-0x%llx 0x%llx %15s -> 0x%llx", &start, &end, &pte, kind, &out) != 5 ||
		    strcmp(kind, "table") == 0)
			continue;
		for (unsigned long long va = start; va < end; va += PAGE_SIZE) {
			phys_addr_t expect = want((unsigned long)va, ctx);

			if (expect != out + (va - start))
				fail_msg("%s: iova %#llx maps %#llx, expected %#llx", line, va, out + (va - start),
					 (unsigned long long)expect);
		}
		leaves++;
	}
	return leaves;
}

/* The shared domain maps exactly the slots the threads left mapped. */
static phys_addr_t shared_want(unsigned long iova, void *ctx)
{
	int nthreads = *(int *)ctx;

	for (int t = 0; t < nthreads; t++)
		for (int k = 0; k < SLOTS; k++)
			if (workers[t].slots[k].page && iova == slot_iova(&workers[t], k))
				return page_to_phys(workers[t].slots[k].page);
	return 0;
}

/* A DMA domain maps exactly the pages of the kept mappings of devices that use it. */
struct dma_want {
	struct iommu_domain *domain;
	int nthreads;
};

static phys_addr_t dma_want(unsigned long iova, void *ctx)
{
	struct dma_want *dw = ctx;

	for (int t = 0; t < dw->nthreads; t++)
		for (int i = 0; i < LIVE_MAX; i++) {
			struct live_map *m = &workers[t].live[i];

			if (m->dev && iommu_get_dma_domain(m->dev) == dw->domain &&
			    iova == (m->addr & PAGE_MASK))
				return page_to_phys(m->page);
		}
	return 0;
}

/* Mappings and IOVAs of a DMA domain, from the threads' records. */
static unsigned long kept_on(struct iommu_domain *d, int nthreads)
{
	unsigned long n = 0;

	for (int t = 0; t < nthreads; t++)
		for (int i = 0; i < LIVE_MAX; i++)
			if (workers[t].live[i].dev && iommu_get_dma_domain(workers[t].live[i].dev) == d)
				n++;
	return n;
}

static unsigned long kept_by(struct device *dev, int nthreads)
{
	unsigned long n = 0;

	for (int t = 0; t < nthreads; t++)
		for (int i = 0; i < LIVE_MAX; i++)
			n += workers[t].live[i].dev == dev;
	return n;
}

static unsigned long iova_in_use(struct iommu_domain *d)
{
	struct swiommu_iova_stats s;

	assert_int_equal(swiommu_iommu_dma_get_iova_stats(d, &s), 0);
	return s.allocations - s.cached;
}

static void check_counters(struct device *dev, unsigned long live)
{
	struct swiommu_dma_counters c;

	assert_int_equal(swiommu_dma_get_counters(dev, &c), 0);
	if (c.maps - c.unmaps != live)
		fail_msg("%s: %llu maps - %llu unmaps != %lu live", dev_name(dev), (unsigned long long)c.maps,
			 (unsigned long long)c.unmaps, live);
}

static double stress_seconds(void)
{
	const char *s = getenv("SWIOMMU_STRESS_SECONDS");
	double v = s ? atof(s) : 1.5;

	return v > 0 ? v : 1.5;
}

static void run(int nthreads, double share)
{
	const char *env = getenv("SWIOMMU_STRESS_THREADS");
	/* The DMA domains the threads map in (a table dump to check for all but the DART's). */
	struct iommu_domain *dma_domains[NDOMAINS] = {
		iommu_get_dma_domain(rig.eth), iommu_get_dma_domain(rig.engine), swiommu_iommu_channel_domain(rig.engine, 4),
		iommu_get_dma_domain(rig.vin[0]), iommu_get_dma_domain(rig.vin[2]), iommu_get_dma_domain(rig.vin[3]),
		iommu_get_dma_domain(rig.vin[4]), iommu_get_dma_domain(rig.gpu),
	};
	unsigned long baseline[NDOMAINS], ops = 0, faults = 0;
	struct device *counted[] = { rig.eth, rig.engine, rig.gpu, rig.dma32, rig.noncoh, rig.vin[0], rig.vin[1],
				     rig.vin[2], rig.vin[3], rig.vin[4], rig.vin[5] };
	struct timespec deadline;
	double secs = stress_seconds() * share;
	int t;

	if (env && atoi(env) >= 1 && atoi(env) <= MAX_THREADS)
		nthreads = atoi(env);
	for (unsigned int i = 0; i < NDOMAINS; i++)
		baseline[i] = iova_in_use(dma_domains[i]);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += (time_t)secs;
	deadline.tv_nsec += (long)((secs - (double)(time_t)secs) * 1e9);
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	memset(workers, 0, sizeof(workers));
	for (t = 0; t < nthreads; t++) {
		workers[t].id = t;
		workers[t].rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(t + 1) ^ (uint64_t)nthreads;
		workers[t].deadline = deadline;
		assert_int_equal(pthread_create(&workers[t].thread, NULL, work, &workers[t]), 0);
	}
	for (t = 0; t < nthreads; t++)
		assert_int_equal(pthread_join(workers[t].thread, NULL), 0);
	for (t = 0; t < nthreads; t++) {
		if (workers[t].failure[0])
			fail_msg("thread %d: %s", t, workers[t].failure);
		ops += workers[t].ops;
		faults += workers[t].faults;
	}
	print_message("stress: %d threads, %.2f s, %lu operations, %lu faults provoked\n", nthreads, secs, ops, faults);
	assert_true(ops > 0);

	/* Lazy domains: the flush queues' timers give the queued IOVAs back. */
	if (rig.lazy)
		swiommu_iova_clock_advance(1000);

	/* The tables hold exactly what the threads recorded (one 4 KiB leaf per mapped slot and per kept
	 * mapping, which fits in one page); every kept mapping translates to its buffer. */
	int slots_mapped = 0;

	for (t = 0; t < nthreads; t++)
		for (int k = 0; k < SLOTS; k++)
			slots_mapped += workers[t].slots[k].page != NULL;
	assert_int_equal(check_table(rig.shared, shared_want, &nthreads), slots_mapped);
	/* The shared domain's counters, kept per thread on its lockless map path, add up to what it maps. */
	struct swiommu_domain_counters dc;

	assert_int_equal(swiommu_iommu_domain_counters(rig.shared, &dc), 0);
	assert_int_equal(dc.by_model, 1);
	assert_true(dc.maps >= (u64)slots_mapped);
	assert_int_equal(dc.mapped_bytes - dc.unmapped_bytes, (u64)slots_mapped * PAGE_SIZE);
	assert_int_equal(dc.maps - dc.unmaps, (u64)slots_mapped);
	for (unsigned int i = 0; i < NDOMAINS - 1; i++) {
		struct dma_want dw = { dma_domains[i], nthreads };

		assert_int_equal(check_table(dma_domains[i], dma_want, &dw), kept_on(dma_domains[i], nthreads));
	}
	for (t = 0; t < nthreads; t++) {
		for (int i = 0; i < LIVE_MAX; i++) {
			struct live_map *m = &workers[t].live[i];
			unsigned char buf[512];
			struct iommu_domain *d;

			if (!m->dev)
				continue;
			d = iommu_get_dma_domain(m->dev);
			if (d && m->dev != rig.gpu && m->dev != rig.dma32)
				assert_int_equal(iommu_iova_to_phys(d, m->addr), page_to_phys(m->page) + (m->addr & ~PAGE_MASK));
			assert_int_equal(swiommu_dma_read(m->dev, 0, m->addr, buf, m->len), 0);
			assert_true(holds(buf, m->len, m->seed));
		}
		for (int k = 0; k < SLOTS; k++)
			if (workers[t].slots[k].page)
				assert_int_equal(iommu_iova_to_phys(rig.shared, slot_iova(&workers[t], k)),
						 page_to_phys(workers[t].slots[k].page));
	}
	/* No IOVA leaked: each DMA domain holds its reserved ranges and one range per kept mapping. */
	for (unsigned int i = 0; i < NDOMAINS; i++)
		if (iova_in_use(dma_domains[i]) != baseline[i] + kept_on(dma_domains[i], nthreads))
			fail_msg("domain %u: %lu IOVA ranges in use, expected %lu + %lu kept", i,
				 iova_in_use(dma_domains[i]), baseline[i], kept_on(dma_domains[i], nthreads));
	/* The counters add up. */
	for (unsigned int i = 0; i < sizeof(counted) / sizeof(counted[0]); i++)
		check_counters(counted[i], kept_by(counted[i], nthreads));
	assert_int_equal(__atomic_load_n(&rig.faults_handled, __ATOMIC_RELAXED), faults);
	struct swiommu_dma_counters sc;
	assert_int_equal(swiommu_dma_get_counters(rig.storage, &sc), 0);
	assert_int_equal(sc.faults, faults);

	/* Everything goes: the DMA API mappings, the shared domain's pages, the threads' own domains. */
	for (t = 0; t < nthreads; t++) {
		for (int i = 0; i < LIVE_MAX; i++) {
			struct live_map *m = &workers[t].live[i];

			if (!m->dev)
				continue;
			dma_unmap_page(m->dev, m->addr, m->len, DMA_BIDIRECTIONAL);
			__free_page(m->page);
			m->dev = NULL;
		}
		for (int k = 0; k < SLOTS; k++) {
			struct slot *s = &workers[t].slots[k];

			if (!s->page)
				continue;
			assert_int_equal(iommu_unmap(rig.shared, slot_iova(&workers[t], k), PAGE_SIZE), PAGE_SIZE);
			__free_page(s->page);
			s->page = NULL;
		}
		if (workers[t].own)
			iommu_domain_free(workers[t].own);
		workers[t].own = NULL;
	}
	if (rig.lazy)
		swiommu_iova_clock_advance(1000);
	assert_int_equal(check_table(rig.shared, shared_want, &nthreads), 0);
	assert_int_equal(swiommu_iommu_domain_counters(rig.shared, &dc), 0);
	assert_int_equal(dc.mapped_bytes, dc.unmapped_bytes);
	assert_int_equal(dc.maps, dc.unmaps);
	for (unsigned int i = 0; i < NDOMAINS; i++) {
		struct dma_want dw = { dma_domains[i], nthreads };

		if (i < NDOMAINS - 1)
			assert_int_equal(check_table(dma_domains[i], dma_want, &dw), 0);
		assert_int_equal(iova_in_use(dma_domains[i]), baseline[i]);
	}
	for (unsigned int i = 0; i < sizeof(counted) / sizeof(counted[0]); i++)
		check_counters(counted[i], 0);
	if (swiommu_dma_debug_errors())
		fail_msg("%lu dma-debug findings, the last: %s", swiommu_dma_debug_errors(), swiommu_dma_debug_last());
	if (swiommu_warn_count())
		fail_msg("%lu WARNs, the last: %s", swiommu_warn_count(), swiommu_warn_last());
}

// MARK: Fixtures

static int set_up(bool lazy)
{
	int ret;

	swiommu_warn_reset();
	swiommu_log_reset();
	if (lazy) {
		char path[] = "/tmp/swiommu-stress-XXXXXX.dts";
		int fd = mkstemps(path, 4);

		if (fd < 0)
			return -1;
		dprintf(fd, "/include/ \"%s/examples/boards/default.dts\"\n%s\n", SWIOMMU_SOURCE_DIR, LAZY);
		close(fd);
		ret = swiommu_init(path);
		unlink(path);
	} else {
		ret = swiommu_init(NULL);
	}
	if (ret)
		return ret;
	swiommu_dma_debug_enable(true);
	swiommu_dma_counters_enable(true);
	ret = platform_driver_register(&stress_driver);
	if (ret)
		return ret;
	memset(&rig, 0, sizeof(rig));
	rig.lazy = lazy;
	rig.eth = swiommu_find_device(ETH);
	rig.storage = swiommu_find_device(STORAGE);
	rig.engine = swiommu_find_device(ENGINE);
	rig.gpu = swiommu_find_device(GPU);
	rig.dma32 = swiommu_find_device(DMA32);
	rig.noncoh = swiommu_find_device(NONCOH);
	for (unsigned int i = 0; i < NVIN; i++)
		rig.vin[i] = swiommu_find_device(vin_paths[i]);
	rig.shared = iommu_paging_domain_alloc(rig.storage);
	if (IS_ERR_OR_NULL(rig.shared))
		return -1;
	iommu_set_fault_handler(rig.shared, count_fault, NULL);
	ret = iommu_attach_device(rig.shared, rig.storage);
	if (ret)
		return ret;
	/* The GPU's 16 KiB DART under a 4 KiB kernel bounces 4 KiB buffers with an alignment above PAGE_SIZE:
	 * swiotlb's dev_warn_once fires at the first one. Take it now; the threads must raise none. */
	struct page *pg = alloc_page(GFP_KERNEL);
	dma_addr_t a = dma_map_page(rig.gpu, pg, 0, 64, DMA_TO_DEVICE);

	if (dma_mapping_error(rig.gpu, a) || !strstr(swiommu_warn_last(), "Alloc alignment may prevent"))
		return -1;
	dma_unmap_page(rig.gpu, a, 64, DMA_TO_DEVICE);
	__free_page(pg);
	swiommu_warn_reset();
	return 0;
}

static int strict_setup(void **state) { (void)state; return set_up(false); }
static int lazy_setup(void **state) { (void)state; return set_up(true); }

static int tear_down(void **state)
{
	(void)state;
	iommu_detach_device(rig.shared, rig.storage);
	iommu_domain_free(rig.shared);
	platform_driver_unregister(&stress_driver);
	swiommu_dma_counters_enable(false);
	swiommu_dma_debug_enable(false);
	/* The default domains keep the tables they grew until the machine goes: its leak check (the one
	 * swiommu_mem_check_leaks() runs) comes after they are freed, and must find nothing. */
	swiommu_log_reset();
	swiommu_exit();
	if (swiommu_log_contains("leak") || swiommu_warn_count()) {
		print_error("at exit: %s\n", swiommu_log_last());
		return -1;
	}
	return 0;
}

static void two_threads_strict(void **state) { (void)state; run(2, 0.25); }
static void five_threads_lazy(void **state) { (void)state; run(5, 0.35); }
static void eight_threads_strict(void **state) { (void)state; run(8, 0.4); }

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(two_threads_strict, strict_setup, tear_down),
		cmocka_unit_test_setup_teardown(five_threads_lazy, lazy_setup, tear_down),
		cmocka_unit_test_setup_teardown(eight_threads_strict, strict_setup, tear_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
