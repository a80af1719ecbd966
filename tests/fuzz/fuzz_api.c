// SPDX-License-Identifier: MIT
// Fuzz target: the C API driven by a byte stream. Each input boots the default board (or a variant: without the
// built-in IOMMU models, lazy flush queues, swiotlb forced), binds a driver to its masters, and plays a sequence
// of the calls a driver and its hardware make, with arbitrary arguments: buffers (kmalloc, alloc_pages, vmalloc,
// host memory), dma_map_page/single/resource/sg/sgtable and the per-channel map, their unmaps and syncs,
// dma_alloc_coherent/pages/noncontiguous, device reads and writes, IOMMU domains (alloc, attach, detach, map,
// unmap, free), masks and segment limits, the flush-queue clock, and fault injection. Bad input must give an
// errno or DMA_MAPPING_ERROR, never a crash. The input then cleans up after itself as a driver would, and the
// machine goes down: nothing may leak.
//
// Checked on the way: what a device reads right after a TO_DEVICE map is the buffer; what it writes into a
// FROM_DEVICE mapping is in the buffer after the unmap; iommu_map()ed ranges translate, unmapped ones do not.
#define _GNU_SOURCE
#include <stdbool.h>
#include <unistd.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/gfp.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <swiommu/swiommu.h>
#include "fuzz_common.h"

#define MAX_OPS		400
#define NBUFS		12
#define NMAPS		48
#define NDOMAINS	6
#define NIOMMU_MAPS	24
#define MAX_BUF		(64 * 1024)

/* ------------------------------------------------------------------------------------------------------------ */
/* The board's masters, bound to this harness's driver. */

static const char *const device_names[] = {
	"dma-controller@fe100000", "display@fe200000", "gpu@fe300000", "isp@fe0a0000", "uio@fe500000",
	"dma-client@fe510000", "codec@fe400000", "vin@fea00000", "vin@fea10000", "vin@fea50000",
	"ethernet@fe600000", "storage@fe610000", "usb@fe620000", "usb@fe630000", "dma32@fe700000",
	"noncoherent@fe710000", "nic@0,0", "nvme@1,0",
	"iommu@fd800000",			/* an IOMMU itself, bound to its built-in driver */
	"interrupt-controller@f9010000",	/* no driver at all */
};
#define NDEVS	(sizeof(device_names) / sizeof(device_names[0]))

static const struct of_device_id fuzz_ids[] = {
	{ .compatible = "swiommu,dma-engine" }, { .compatible = "swiommu,display" }, { .compatible = "swiommu,gpu" },
	{ .compatible = "swiommu,camera-isp" }, { .compatible = "swiommu,uio" }, { .compatible = "swiommu,dma-client" },
	{ .compatible = "swiommu,video-codec" }, { .compatible = "swiommu,video-input" },
	{ .compatible = "swiommu,ethernet" }, { .compatible = "swiommu,storage" }, { .compatible = "swiommu,usb" },
	{ .compatible = "swiommu,dma32-device" }, { .compatible = "swiommu,noncoherent-device" },
	{ .compatible = "swiommu,pci-nic" }, { .compatible = "swiommu,pci-nvme" }, { }
};

static int fuzz_probe(struct platform_device *pdev)
{
	(void)pdev;
	return 0;
}

static struct platform_driver fuzz_driver = {
	.probe = fuzz_probe,
	.driver = { .name = "fuzz-dma", .of_match_table = fuzz_ids },
};

static const char *const fault_points[] = { "kmalloc", "alloc_pages", "vmalloc", "iova", "swiotlb", "iommu_map",
					    "attach", "probe" };
#define NPOINTS	(sizeof(fault_points) / sizeof(fault_points[0]))

/* ------------------------------------------------------------------------------------------------------------ */
/* What an input has made, so that it can clean up as a driver would. */

enum buf_kind { BUF_KMALLOC, BUF_PAGES, BUF_VMALLOC, BUF_HOST };

struct buf {
	bool used;
	enum buf_kind kind;
	void *virt;
	struct page *page;
	unsigned int order;
	size_t size;
};

enum map_kind { MAP_PAGE, MAP_RESOURCE, MAP_SG, MAP_COHERENT, MAP_MULTI, MAP_PAGES, MAP_NONCONTIG };

struct mapping {
	bool used;
	enum map_kind kind;
	int dev;
	unsigned int bufs_mapped;	/* the buffers it maps (bit i: bufs[i]) */
	dma_addr_t addr;
	size_t size;
	enum dma_data_direction dir;
	unsigned long attrs;
	struct sg_table sgt;		/* MAP_SG */
	struct sg_table *nc;		/* MAP_NONCONTIG */
	int nents;
	void *cpu;			/* MAP_COHERENT */
	struct page *pages;		/* MAP_PAGES */
	unsigned long channels;		/* MAP_MULTI */
	dma_addr_t addrs[8];
};

struct domain {
	struct iommu_domain *d;
	int dev;			/* the device it was allocated for */
};

struct iommu_mapping {
	bool used;
	int domain;
	unsigned long iova;
	size_t size;
};

static struct device *devs[NDEVS];
static struct buf bufs[NBUFS];
static struct mapping maps[NMAPS];
static struct domain domains[NDOMAINS];
static struct iommu_mapping imaps[NIOMMU_MAPS];
static bool misused_coherent;	/* a coherent free with wrong arguments: what it leaves is the driver's leak */
static bool tracing;		/* FUZZ_TRACE=1: print each call, to read what a finding did */

#define TRACE(...)							\
	do {								\
		if (tracing)						\
			fprintf(stderr, "fuzz_api: " __VA_ARGS__);	\
	} while (0)
static uint8_t pattern[MAX_BUF], scratch[MAX_BUF];
static char lazy_board[128];

/* ------------------------------------------------------------------------------------------------------------ */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dts[128], cmd[512];
	FILE *f;

	(void)argc;
	(void)argv;
	tracing = getenv("FUZZ_TRACE") != NULL;
	/* Quiet unless SWIOMMU_LOGLEVEL asks otherwise (to see what a finding logged). */
	if (!getenv("SWIOMMU_LOGLEVEL"))
		swiommu_log_set_console_level(0);
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 7 + 3);
	/* The lazy variant: the default board with flush queues (compiled once; each boot reads the blob). */
	snprintf(dts, sizeof(dts), "/tmp/swiommu-fuzz-api-%d.dts", (int)getpid());
	snprintf(lazy_board, sizeof(lazy_board), "/tmp/swiommu-fuzz-api-%d.dtb", (int)getpid());
	f = fopen(dts, "w");
	if (f) {
		fprintf(f, "/include/ \"%s/examples/boards/default.dts\"\n"
			   "/ { chosen { swiommu,iommu-strict = <0>; }; };\n", SWIOMMU_SOURCE_DIR);
		fclose(f);
		snprintf(cmd, sizeof(cmd), "dtc -q -I dts -O dtb -o %s %s", lazy_board, dts);
		if (system(cmd) != 0)
			lazy_board[0] = '\0';
		unlink(dts);
	} else {
		lazy_board[0] = '\0';
	}
	return 0;
}

__attribute__((destructor)) static void remove_lazy_board(void)
{
	if (lazy_board[0])
		unlink(lazy_board);
}

static struct device *pick_dev(struct fuzz_stream *s, int *index)
{
	uint8_t b = fuzz_u8(s);

	*index = -1;
	if (b == 0xff)
		return NULL;
	if (b == 0xfe)
		return ERR_PTR(-ENODEV);
	*index = b % NDEVS;
	return devs[*index];
}

static enum dma_data_direction pick_dir(struct fuzz_stream *s)
{
	uint8_t b = fuzz_u8(s);

	return b < 250 ? (enum dma_data_direction)(b % 3) : (b == 250 ? DMA_NONE : (enum dma_data_direction)b);
}

static unsigned long pick_attrs(struct fuzz_stream *s)
{
	uint8_t b = fuzz_u8(s);

	return b < 192 ? 0 : (unsigned long)(b & 0x3f) << 4;
}

static size_t pick_size(struct fuzz_stream *s, size_t max)
{
	uint8_t b = fuzz_u8(s);

	switch (b >> 6) {
	case 0:
		return 1 + (b & 63);
	case 1:
		return (size_t)(1 + (b & 15)) * 256;
	case 2:
		return 1 + fuzz_u16(s) % max;
	default:
		return b & 1 ? fuzz_u32(s) : (size_t)fuzz_u64(s);
	}
}

static int pick_index(struct fuzz_stream *s, int n)
{
	return fuzz_u8(s) % n;
}

static int free_slot_map(void)
{
	for (int i = 0; i < NMAPS; i++)
		if (!maps[i].used)
			return i;
	return -1;
}

/* Whether device DMA on channel 0 goes through the domain the DMA API maps into. */
static bool dma_api_domain_live(struct device *dev)
{
	if (IS_ERR_OR_NULL(dev) || !dev->iommu_group)
		return true;
	return iommu_get_domain_for_dev(dev) == iommu_get_dma_domain(dev);
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Buffers */

static void op_buf_alloc(struct fuzz_stream *s)
{
	int i = pick_index(s, NBUFS);
	uint8_t how = fuzz_u8(s);
	struct buf *b = &bufs[i];
	gfp_t gfp = how & 0x10 ? GFP_DMA32 : (how & 0x20 ? GFP_DMA : GFP_KERNEL);

	if (b->used)
		return;
	memset(b, 0, sizeof(*b));
	switch (how & 3) {
	case BUF_KMALLOC:
		b->size = 1 + fuzz_u16(s) % (16 * 1024);
		b->virt = kmalloc(b->size, gfp & ~__GFP_DMA32);
		break;
	case BUF_PAGES:
		b->order = fuzz_u8(s) % 5;
		b->page = alloc_pages(gfp, b->order);
		b->virt = b->page ? page_address(b->page) : NULL;
		b->size = PAGE_SIZE << b->order;
		break;
	case BUF_VMALLOC:
		b->size = 1 + fuzz_u16(s) % MAX_BUF;
		b->virt = vmalloc(b->size);
		break;
	default:
		b->size = 1 + fuzz_u16(s) % 8192;
		b->virt = malloc(b->size);
		break;
	}
	if (!b->virt)
		return;
	b->kind = (enum buf_kind)(how & 3);
	b->used = true;
	TRACE("buf %d: kind %d, %zu bytes at %p\n", i, b->kind, b->size, b->virt);
	memcpy(b->virt, pattern + (how >> 2), b->size < MAX_BUF - 64 ? b->size : MAX_BUF - 64);
}

static void unmap(struct mapping *m, size_t size, enum dma_data_direction dir);

/* Free a buffer as a driver must: after unmapping what maps it (an unmap of a buffer freed and reused would
 * write into its new owner, as in the kernel). */
static void free_buf(struct buf *b)
{
	for (int m = 0; m < NMAPS; m++)
		if (maps[m].used && (maps[m].bufs_mapped & 1U << (b - bufs)))
			unmap(&maps[m], maps[m].size, maps[m].dir);
	switch (b->kind) {
	case BUF_KMALLOC: kfree(b->virt); break;
	case BUF_PAGES: __free_pages(b->page, b->order); break;
	case BUF_VMALLOC: vfree(b->virt); break;
	default: free(b->virt); break;
	}
	b->used = false;
}

static void op_buf_free(struct fuzz_stream *s)
{
	struct buf *b = &bufs[pick_index(s, NBUFS)];

	if (b->used) {
		TRACE("buf %d freed\n", (int)(b - bufs));
		free_buf(b);
	}
}

/* A page and offset of a buffer (vmalloc and host memory have no page: virt_to_page's answer, or a bad one). */
static struct page *buf_page(struct buf *b, size_t *offset)
{
	if (b->kind == BUF_PAGES)
		return b->page;
	*offset += offset_in_page(b->virt);
	if (b->kind == BUF_KMALLOC)
		return virt_to_page(b->virt);
	return NULL;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Streaming mappings */

static void check_device_reads_buffer(struct device *dev, struct mapping *m, const void *cpu, size_t len)
{
	int ret;

	if (len > MAX_BUF || IS_ERR_OR_NULL(dev) || !dma_api_domain_live(dev))
		return;
	ret = swiommu_dma_read(dev, 0, m->addr, scratch, len);
	FUZZ_CHECK(ret == 0, "%s: the device cannot read the %zu bytes it just had mapped TO_DEVICE at %#llx: %d",
		   dev_name(dev), len, (unsigned long long)m->addr, ret);
	FUZZ_CHECK(memcmp(scratch, cpu, len) == 0, "%s: the device reads something else than the buffer mapped at %#llx",
		   dev_name(dev), (unsigned long long)m->addr);
}

static void op_map_page(struct fuzz_stream *s)
{
	int di, slot = free_slot_map();
	struct device *dev = pick_dev(s, &di);
	int bi = pick_index(s, NBUFS);
	struct buf *b = &bufs[bi];
	size_t offset = fuzz_u8(s) & 1 ? fuzz_u16(s) % 8192 : 0, size = pick_size(s, MAX_BUF), inner = offset;
	enum dma_data_direction dir = pick_dir(s);
	unsigned long attrs = pick_attrs(s);
	bool single = fuzz_bool(s);
	struct page *page;
	dma_addr_t addr;

	if (slot < 0)
		return;
	if (!b->used) {
		/* A NULL page, or a struct page that is not one of the machine's. */
		static struct page foreign;

		page = fuzz_bool(s) ? NULL : &foreign;
		addr = dma_map_page_attrs(dev, page, offset, size, dir, attrs);
		FUZZ_CHECK(addr == DMA_MAPPING_ERROR, "dma_map_page_attrs of a %s page returned %#llx",
			   page ? "foreign" : "NULL", (unsigned long long)addr);
		return;
	}
	if (b->kind == BUF_KMALLOC || b->kind == BUF_PAGES) {
		/* Past the buffer, the device (and swiotlb's copies) would write over whatever follows it: the kernel's
		 * memory corruption as much as ours. Keep mappings of RAM inside their buffers. */
		offset %= b->size;
		if (size > b->size - offset)
			size = b->size - offset;
		inner = offset;
	}
	if (single) {
		addr = dma_map_single_attrs(dev, (char *)b->virt + offset, size, dir, attrs);
	} else {
		page = buf_page(b, &inner);
		if (!page && b->kind != BUF_PAGES)
			return;
		addr = dma_map_page_attrs(dev, page, inner, size, dir, attrs);
	}
	TRACE("map %d: dev %d buf %d%s offset %#zx size %#zx dir %d attrs %#lx: %#llx\n", slot, di, bi,
	      single ? " single" : "", offset, size, (int)dir, attrs, (unsigned long long)addr);
	if (dma_mapping_error(dev, addr))
		return;
	FUZZ_CHECK(dir == DMA_TO_DEVICE || dir == DMA_FROM_DEVICE || dir == DMA_BIDIRECTIONAL,
		   "a map with direction %d succeeded", (int)dir);
	maps[slot] = (struct mapping){ .used = true, .kind = MAP_PAGE, .dev = di, .bufs_mapped = 1U << bi, .addr = addr,
				       .size = size, .dir = dir, .attrs = attrs };
	/* Without the CPU sync a non-coherent device reads what memory held before; a DMA_ATTR_PRIVILEGED mapping
	 * (IOMMU_PRIV) is out of reach of the device's unprivileged reads, as on the hardware. */
	if ((dir == DMA_TO_DEVICE || dir == DMA_BIDIRECTIONAL) && (b->kind == BUF_KMALLOC || b->kind == BUF_PAGES) &&
	    !(attrs & (DMA_ATTR_SKIP_CPU_SYNC | DMA_ATTR_PRIVILEGED)))
		check_device_reads_buffer(dev, &maps[slot], (char *)b->virt + offset, size);
}

static void unmap(struct mapping *m, size_t size, enum dma_data_direction dir)
{
	struct device *dev = m->dev >= 0 ? devs[m->dev] : NULL;

	TRACE("unmap %d (kind %d, dev %d, %#llx, size %#zx, dir %d)\n", (int)(m - maps), m->kind, m->dev,
	      (unsigned long long)m->addr, size, (int)dir);
	switch (m->kind) {
	case MAP_PAGE:
		dma_unmap_page_attrs(dev, m->addr, size, dir, m->attrs);
		break;
	case MAP_RESOURCE:
		dma_unmap_resource(dev, m->addr, size, dir, m->attrs);
		break;
	case MAP_SG:
		dma_unmap_sg_attrs(dev, m->sgt.sgl, m->nents, dir, m->attrs);
		sg_free_table(&m->sgt);
		break;
	case MAP_COHERENT:
		dma_free_attrs(dev, size, m->cpu, m->addr, m->attrs);
		break;
	case MAP_MULTI:
		dma_unmap_page_attrs_multi(dev, m->addrs, size, dir, m->attrs, m->channels);
		break;
	case MAP_PAGES:
		dma_free_pages(dev, size, m->pages, m->addr, dir);
		break;
	case MAP_NONCONTIG:
		dma_free_noncontiguous(dev, size, m->nc, dir);
		break;
	}
	m->used = false;
}

static void op_unmap(struct fuzz_stream *s)
{
	struct mapping *m = &maps[pick_index(s, NMAPS)];
	uint8_t how = fuzz_u8(s);

	if (!m->used)
		return;
	if (how < 224) {
		unmap(m, m->size, m->dir);
		return;
	}
	/* With the wrong size or direction: dma-debug's to report, never a crash; the mapping stays the driver's
	 * to undo properly (a kernel would have unmapped part of it: undoing it again must be harmless). */
	struct device *dev = m->dev >= 0 ? devs[m->dev] : NULL;
	size_t size = how & 1 ? m->size + 1 + fuzz_u16(s) : m->size / 2;
	enum dma_data_direction dir = how & 2 ? (enum dma_data_direction)((m->dir + 1) % 3) : m->dir;

	TRACE("bad unmap %d (kind %d): size %#zx dir %d\n", (int)(m - maps), m->kind, size, (int)dir);
	switch (m->kind) {
	case MAP_PAGE:
		dma_unmap_page_attrs(dev, m->addr, size, dir, m->attrs);
		break;
	case MAP_RESOURCE:
		dma_unmap_resource(dev, m->addr, size, dir, m->attrs);
		break;
	case MAP_COHERENT:
		/* Freeing with another size or address is a driver bug whose leftovers are the driver's leak. */
		misused_coherent = true;
		dma_free_attrs(dev, size, how & 4 ? m->cpu : (char *)m->cpu + 64, m->addr, m->attrs);
		break;
	default:
		return;
	}
}

/* An unmap of an address nothing mapped. */
static void op_unmap_unknown(struct fuzz_stream *s)
{
	int di;
	struct device *dev = pick_dev(s, &di);
	dma_addr_t addr = fuzz_u8(s) & 1 ? fuzz_u64(s) : (dma_addr_t)0xfffff000 - fuzz_u16(s) * 4096ULL;
	size_t size = pick_size(s, MAX_BUF);
	enum dma_data_direction dir = pick_dir(s);

	/* Sizes of 2^63 and more are refused whole; below that, the cache model would give each page of a
	 * gigabyte-sized range memory's view of its own (see op_sync). */
	if (size < (size_t)1 << 63)
		size %= SZ_1M;
	TRACE("unmap/sync of unknown %#llx size %#zx dev %d\n", (unsigned long long)addr, size, di);
	if (fuzz_bool(s))
		dma_unmap_page_attrs(dev, addr, size, dir, 0);
	else
		dma_sync_single_for_cpu(dev, addr, size, dir);
}

static void op_sync(struct fuzz_stream *s)
{
	struct mapping *m = &maps[pick_index(s, NMAPS)];
	uint8_t how = fuzz_u8(s);
	struct device *dev;
	size_t off = fuzz_u16(s), size = pick_size(s, MAX_BUF);
	enum dma_data_direction dir;

	if (!m->used)
		return;
	dev = m->dev >= 0 ? devs[m->dev] : NULL;
	dir = how & 4 ? pick_dir(s) : m->dir;
	if (how < 128) {
		off %= m->size;
		size = 1 + size % (m->size - off);
	} else {
		/* Past the mapping (dma-debug's to report). Not gigabytes: on a non-coherent master each page a sync
		 * cleans gets memory's view of its own, as the cache model keeps it. */
		size %= 2 * m->size + SZ_64K;
	}
	TRACE("sync %d (kind %d) how %#x off %#zx size %#zx dir %d\n", (int)(m - maps), m->kind, how, off, size,
	      (int)dir);
	switch (m->kind) {
	case MAP_PAGE:
	case MAP_RESOURCE:
	case MAP_PAGES:
		if (how & 1)
			dma_sync_single_for_cpu(dev, m->addr + off, size, dir);
		else
			dma_sync_single_for_device(dev, m->addr + off, size, dir);
		break;
	case MAP_SG:
		if (how & 1)
			dma_sync_sg_for_cpu(dev, m->sgt.sgl, how & 8 ? m->nents : (int)m->sgt.nents, dir);
		else
			dma_sync_sg_for_device(dev, m->sgt.sgl, m->nents, dir);
		break;
	case MAP_NONCONTIG:
		if (how & 1)
			dma_sync_sgtable_for_cpu(dev, m->nc, dir);
		else
			dma_sync_sgtable_for_device(dev, m->nc, dir);
		break;
	default:
		break;
	}
}

/* Map FROM_DEVICE, let the device write, unmap: the CPU then reads what the device wrote. */
static void op_device_write_roundtrip(struct fuzz_stream *s)
{
	int di;
	struct device *dev = pick_dev(s, &di);
	struct buf *b = &bufs[pick_index(s, NBUFS)];
	size_t offset = fuzz_u16(s), size = 1 + fuzz_u16(s) % MAX_BUF;
	enum dma_data_direction dir = fuzz_bool(s) ? DMA_FROM_DEVICE : DMA_BIDIRECTIONAL;
	unsigned int shift = fuzz_u8(s);
	dma_addr_t addr;
	int ret;

	if (!b->used || (b->kind != BUF_KMALLOC && b->kind != BUF_PAGES) || IS_ERR_OR_NULL(dev))
		return;
	offset %= b->size;
	if (size > b->size - offset)
		size = b->size - offset;
	addr = dma_map_single(dev, (char *)b->virt + offset, size, dir);
	TRACE("roundtrip dev %d buf %d offset %#zx size %#zx dir %d: %#llx\n", di, (int)(b - bufs), offset, size,
	      (int)dir, (unsigned long long)addr);
	if (dma_mapping_error(dev, addr))
		return;
	ret = swiommu_dma_write(dev, 0, addr, pattern + (shift % 64), size);
	dma_unmap_single(dev, addr, size, dir);
	if (ret || !dma_api_domain_live(dev))
		return;
	FUZZ_CHECK(memcmp((char *)b->virt + offset, pattern + (shift % 64), size) == 0,
		   "%s: after a device write into %zu bytes at %#llx and the unmap, the CPU reads something else",
		   dev_name(dev), size, (unsigned long long)addr);
}

static void op_map_resource(struct fuzz_stream *s)
{
	int di, slot = free_slot_map();
	struct device *dev = pick_dev(s, &di);
	phys_addr_t phys = fuzz_u8(s) & 1 ? fuzz_u64(s) : 0xfe000000 + fuzz_u16(s) * 16ULL;
	size_t size = pick_size(s, MAX_BUF);
	enum dma_data_direction dir = pick_dir(s);
	dma_addr_t addr;

	if (slot < 0)
		return;
	addr = dma_map_resource(dev, phys, size, dir, 0);
	TRACE("map %d: resource dev %d phys %#llx size %#zx dir %d: %#llx\n", slot, di, (unsigned long long)phys, size,
	      (int)dir, (unsigned long long)addr);
	if (dma_mapping_error(dev, addr))
		return;
	maps[slot] = (struct mapping){ .used = true, .kind = MAP_RESOURCE, .dev = di, .addr = addr,
				       .size = size, .dir = dir };
}

static void op_map_sg(struct fuzz_stream *s)
{
	int di, slot = free_slot_map();
	struct device *dev = pick_dev(s, &di);
	int n = 1 + fuzz_u8(s) % 8, mapped;
	enum dma_data_direction dir = pick_dir(s);
	unsigned long attrs = pick_attrs(s);
	bool table = fuzz_bool(s);
	struct mapping *m;
	struct scatterlist *sg;
	int i;

	if (slot < 0)
		return;
	m = &maps[slot];
	memset(m, 0, sizeof(*m));
	if (sg_alloc_table(&m->sgt, (unsigned int)n, GFP_KERNEL))
		return;
	for_each_sg(m->sgt.sgl, sg, n, i) {
		int bi = pick_index(s, NBUFS);
		struct buf *b = &bufs[bi];
		size_t off = fuzz_u16(s), len = 1 + fuzz_u16(s);

		if (!b->used || b->kind == BUF_HOST) {
			/* A page of its own, so that every entry has one. */
			sg_set_page(sg, NULL, 0, 0);
			continue;
		}
		off %= b->size;
		if (b->kind != BUF_VMALLOC && len > b->size - off)
			len = b->size - off;
		if (b->kind == BUF_VMALLOC)
			sg_set_page(sg, NULL, (unsigned int)len, 0);	/* no page behind it */
		else
			sg_set_buf(sg, (char *)b->virt + off, (unsigned int)len);
		m->bufs_mapped |= 1U << bi;
	}
	/* Entries without a page are bad input too; keep most lists well formed. */
	if (fuzz_u8(s) < 200)
		for_each_sg(m->sgt.sgl, sg, n, i)
			if (!sg_page(sg)) {
				sg_free_table(&m->sgt);
				return;
			}
	if (table) {
		int ret = dma_map_sgtable(dev, &m->sgt, dir, attrs);

		mapped = ret ? 0 : (int)m->sgt.nents;
		FUZZ_CHECK(ret <= 0, "dma_map_sgtable returned %d", ret);
	} else {
		mapped = (int)dma_map_sg_attrs(dev, m->sgt.sgl, n, dir, attrs);
		FUZZ_CHECK(mapped >= 0 && mapped <= n, "dma_map_sg_attrs of %d entries returned %d", n, mapped);
		m->sgt.nents = (unsigned int)mapped;
	}
	TRACE("map %d: sg dev %d, %d entries%s dir %d attrs %#lx: %d mapped\n", slot, di, n, table ? " (sgtable)" : "",
	      (int)dir, attrs, mapped);
	if (mapped <= 0) {
		sg_free_table(&m->sgt);
		return;
	}
	m->used = true;
	m->kind = MAP_SG;
	m->dev = di;
	m->nents = n;
	m->dir = dir;
	m->attrs = attrs;
	m->size = 1;
}

static void op_alloc(struct fuzz_stream *s)
{
	int di, slot = free_slot_map();
	struct device *dev = pick_dev(s, &di);
	uint8_t how = fuzz_u8(s);
	size_t size = pick_size(s, 256 * 1024);
	gfp_t gfp = how & 8 ? GFP_ATOMIC : (how & 16 ? GFP_KERNEL | __GFP_DMA32 : GFP_KERNEL);
	unsigned long attrs = pick_attrs(s);
	enum dma_data_direction dir = pick_dir(s);
	struct mapping *m;

	if (slot < 0)
		return;
	/* Sizes of 2^63 and more are refused whole; up to 16 MiB below that (a gigabyte is legal but slow). */
	if (size < (size_t)1 << 63)
		size %= 16 * SZ_1M;
	m = &maps[slot];
	memset(m, 0, sizeof(*m));
	m->dev = di;
	m->size = size;
	m->dir = dir;
	m->attrs = attrs;
	TRACE("map %d: alloc kind %d dev %d size %#zx gfp %#x attrs %#lx dir %d\n", slot, how % 3, di, size,
	      (unsigned int)gfp, attrs, (int)dir);
	switch (how % 3) {
	case 0:
		m->cpu = dma_alloc_attrs(dev, size, &m->addr, gfp, attrs);
		if (!m->cpu)
			return;
		m->kind = MAP_COHERENT;
		/* With DMA_ATTR_NO_KERNEL_MAPPING dma-direct returns an opaque cookie (the struct page), as the
		 * kernel's dma_direct_alloc_no_mapping() does: not memory to write. */
		if (!(attrs & DMA_ATTR_NO_KERNEL_MAPPING))
			memset(m->cpu, 0x5a, size < MAX_BUF ? size : MAX_BUF);
		break;
	case 1:
		m->pages = dma_alloc_pages(dev, size, &m->addr, dir, gfp);
		if (!m->pages)
			return;
		m->kind = MAP_PAGES;
		break;
	default:
		m->nc = dma_alloc_noncontiguous(dev, size, dir, gfp, attrs);
		if (!m->nc)
			return;
		m->kind = MAP_NONCONTIG;
		if (fuzz_bool(s)) {
			void *v = dma_vmap_noncontiguous(dev, size, m->nc);

			if (v) {
				memset(v, 0xa5, size < MAX_BUF ? size : MAX_BUF);
				dma_vunmap_noncontiguous(dev, v);
			}
		}
		break;
	}
	m->used = true;
}

static void op_map_multi(struct fuzz_stream *s)
{
	int slot = free_slot_map(), di = 0, bi = pick_index(s, NBUFS);
	struct device *dev = devs[0];	/* the 8-channel DMA engine */
	struct buf *b = &bufs[bi];
	unsigned long channels = fuzz_u8(s) | (fuzz_u8(s) == 0xff ? 0x100 : 0);
	size_t size = pick_size(s, MAX_BUF), offset = 0;
	enum dma_data_direction dir = pick_dir(s);
	struct page *page;
	dma_addr_t addr, addrs[8] = { 0 };

	if (slot < 0 || !b->used)
		return;
	if (b->kind == BUF_KMALLOC || b->kind == BUF_PAGES) {
		offset = fuzz_u16(s) % b->size;
		if (size > b->size - offset)
			size = b->size - offset;
	}
	page = buf_page(b, &offset);
	addr = dma_map_page_attrs_multi(dev, page, offset, size, dir, 0, channels, addrs);
	TRACE("map %d: multi channels %#lx size %#zx dir %d: %#llx\n", slot, channels, size, (int)dir,
	      (unsigned long long)addr);
	if (addr == DMA_MAPPING_ERROR)
		return;
	maps[slot] = (struct mapping){ .used = true, .kind = MAP_MULTI, .dev = di, .bufs_mapped = 1U << bi, .addr = addr,
				       .size = size, .dir = dir, .channels = channels };
	memcpy(maps[slot].addrs, addrs, sizeof(addrs));
}

/* ------------------------------------------------------------------------------------------------------------ */
/* The device's own DMA */

static void op_device_access(struct fuzz_stream *s)
{
	int di;
	struct device *dev = pick_dev(s, &di);
	unsigned int channel = fuzz_u8(s) % 10;
	struct mapping *m = &maps[pick_index(s, NMAPS)];
	dma_addr_t addr = m->used && fuzz_u8(s) < 200 ? m->addr + fuzz_u16(s) % (m->size + 1) : fuzz_u64(s);
	size_t len = fuzz_u16(s) % (16 * 1024);
	bool write = fuzz_bool(s);
	int ret;

	/* A write lands where the device's translation says: outside a buffer mapped for it, that is whatever
	 * memory follows (tables, other buffers), which hardware would corrupt as well. Writes stay inside a
	 * mapping of this device made through the domain it uses now; reads go anywhere. */
	if (write) {
		if (!m->used || m->dev != di || channel != 0 || !dma_api_domain_live(dev) ||
		    (m->kind != MAP_PAGE && m->kind != MAP_COHERENT && m->kind != MAP_PAGES))
			return;
		addr = m->addr + fuzz_u16(s) % m->size;
		if (len > m->size - (addr - m->addr))
			len = m->size - (addr - m->addr);
		ret = swiommu_dma_write(dev, channel, addr, pattern, len);
	} else {
		ret = swiommu_dma_read(dev, channel, addr, scratch, len);
	}
	TRACE("device %s dev %d channel %u addr %#llx len %#zx: %d\n", write ? "write" : "read", di, channel,
	      (unsigned long long)addr, len, ret);
	FUZZ_CHECK(ret == 0 || ret == -EFAULT || ret == -EINVAL || ret == -ENODEV,
		   "device DMA returned %d", ret);
}

/* ------------------------------------------------------------------------------------------------------------ */
/* IOMMU domains */

static bool domain_attached(struct iommu_domain *d)
{
	for (size_t i = 0; i < NDEVS; i++)
		if (devs[i] && iommu_get_domain_for_dev(devs[i]) == d)
			return true;
	return false;
}

static void op_domain_alloc(struct fuzz_stream *s)
{
	int di, slot = pick_index(s, NDOMAINS);
	struct device *dev = pick_dev(s, &di);
	struct iommu_domain *d;

	if (domains[slot].d)
		return;
	d = iommu_paging_domain_alloc(dev);
	if (IS_ERR_OR_NULL(d))
		return;
	domains[slot] = (struct domain){ .d = d, .dev = di };
	TRACE("domain %d allocated for dev %d\n", slot, di);
}

static struct iommu_domain *pick_domain(struct fuzz_stream *s)
{
	uint8_t b = fuzz_u8(s);

	if (b < 200)
		return domains[b % NDOMAINS].d;
	if (b < 240) {
		/* The DMA API's own default domain (a driver mixing iommu_map() with the DMA API). */
		struct device *dev = devs[b % NDEVS];

		return dev ? iommu_get_dma_domain(dev) : NULL;
	}
	return b & 1 ? NULL : ERR_PTR(-EINVAL);
}

static void op_attach(struct fuzz_stream *s)
{
	struct iommu_domain *d = pick_domain(s);
	int di;
	struct device *dev = pick_dev(s, &di);
	int ret;

	if (fuzz_bool(s)) {
		TRACE("detach %p from dev %d\n", (void *)d, di);
		iommu_detach_device(d, dev);
		return;
	}
	ret = iommu_attach_device(d, dev);
	TRACE("attach %p to dev %d: %d\n", (void *)d, di, ret);
	FUZZ_CHECK(ret <= 0, "iommu_attach_device returned %d", ret);
}

static void op_domain_free(struct fuzz_stream *s)
{
	int slot = pick_index(s, NDOMAINS);
	struct iommu_domain *d = domains[slot].d;

	if (!d)
		return;
	TRACE("free domain %d (%s)\n", slot, domain_attached(d) ? "attached" : "detached");
	/* Freeing an attached domain is refused (a WARN); the domain stays ours. */
	if (!domain_attached(d)) {
		for (int i = 0; i < NIOMMU_MAPS; i++)
			if (imaps[i].used && imaps[i].domain == slot)
				imaps[i].used = false;
		domains[slot].d = NULL;
	}
	iommu_domain_free(d);
}

static void op_iommu_map(struct fuzz_stream *s)
{
	int slot = pick_index(s, NDOMAINS), k;
	struct iommu_domain *d = domains[slot].d;
	struct buf *b = &bufs[pick_index(s, NBUFS)];
	uint8_t how = fuzz_u8(s);
	unsigned long iova = how & 1 ? (unsigned long)fuzz_u64(s) : (unsigned long)fuzz_u16(s) << 12;
	size_t size = how & 2 ? pick_size(s, 4 * 1024 * 1024) : (size_t)(1 + fuzz_u8(s) % 16) << 12;
	phys_addr_t paddr;
	int prot = fuzz_u8(s) & 0x3f, ret;

	if (how & 4 && b->used && b->kind != BUF_VMALLOC && b->kind != BUF_HOST)
		paddr = virt_to_phys(b->virt) & ~(phys_addr_t)0xfff;
	else
		paddr = how & 8 ? fuzz_u64(s) : 0x880000000ULL + ((phys_addr_t)fuzz_u16(s) << 12);
	if (how & 16)
		d = pick_domain(s);
	ret = iommu_map(d, iova, paddr, size, prot, GFP_KERNEL);
	TRACE("iommu_map %p (slot %d) iova %#lx paddr %#llx size %#zx prot %#x: %d\n", (void *)d, slot, iova,
	      (unsigned long long)paddr, size, prot, ret);
	FUZZ_CHECK(ret <= 0, "iommu_map returned %d", ret);
	if (ret || d != domains[slot].d || !d)
		return;
	if (prot & (IOMMU_READ | IOMMU_WRITE)) {
		phys_addr_t got = iommu_iova_to_phys(d, iova);

		FUZZ_CHECK(got == paddr, "iommu_map(%#lx -> %#llx, %#zx) succeeded; iova_to_phys says %#llx", iova,
			   (unsigned long long)paddr, size, (unsigned long long)got);
		got = iommu_iova_to_phys(d, iova + size - 1);
		FUZZ_CHECK(got == paddr + size - 1, "iommu_map(%#lx -> %#llx, %#zx) succeeded; its last byte is at %#llx",
			   iova, (unsigned long long)paddr, size, (unsigned long long)got);
	}
	for (k = 0; k < NIOMMU_MAPS && imaps[k].used; k++)
		;
	if (k < NIOMMU_MAPS)
		imaps[k] = (struct iommu_mapping){ .used = true, .domain = slot, .iova = iova, .size = size };
}

static void op_iommu_unmap(struct fuzz_stream *s)
{
	struct iommu_mapping *im = &imaps[pick_index(s, NIOMMU_MAPS)];
	uint8_t how = fuzz_u8(s);
	struct iommu_domain *d;
	size_t done;

	if (!im->used || how >= 200) {
		d = pick_domain(s);
		iommu_unmap(d, (unsigned long)fuzz_u64(s), pick_size(s, 4 * 1024 * 1024));
		return;
	}
	d = domains[im->domain].d;
	done = iommu_unmap(d, im->iova, im->size);
	TRACE("iommu_unmap slot %d iova %#lx size %#zx: %#zx\n", im->domain, im->iova, im->size, done);
	FUZZ_CHECK(done <= im->size, "iommu_unmap of %#zx bytes unmapped %#zx", im->size, done);
	if (done == im->size)
		FUZZ_CHECK(iommu_iova_to_phys(d, im->iova) == 0, "iommu_unmap(%#lx, %#zx) done; it still translates",
			   im->iova, im->size);
	im->used = false;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Settings */

static void op_settings(struct fuzz_stream *s)
{
	int di;
	struct device *dev = pick_dev(s, &di);
	uint8_t how = fuzz_u8(s);
	unsigned int bits = 24 + fuzz_u8(s) % 41;
	u64 mask = how & 0x80 ? fuzz_u64(s) : DMA_BIT_MASK(bits);

	TRACE("setting %d dev %d mask %#llx\n", how & 7, di, (unsigned long long)mask);
	switch (how & 7) {
	case 0:
		(void)dma_set_mask(dev, mask);
		break;
	case 1:
		(void)dma_set_coherent_mask(dev, mask);
		break;
	case 2:
		if (!IS_ERR_OR_NULL(dev) && dev->dma_parms)
			dma_set_max_seg_size(dev, (unsigned int)(how & 0x40 ? mask : (u64)SZ_4K << (mask & 7)));
		break;
	case 3:
		if (!IS_ERR_OR_NULL(dev) && dev->dma_parms)
			dma_set_seg_boundary(dev, how & 0x40 ? (unsigned long)mask : ((unsigned long)SZ_64K << (mask & 7)) - 1);
		break;
	case 4:
		if (!IS_ERR_OR_NULL(dev) && dev->dma_parms)
			dma_set_min_align_mask(dev, (unsigned int)(mask & 0xfff));
		break;
	case 5:
		swiommu_iova_clock_advance(fuzz_u8(s));
		break;
	case 6: {
		const char *point = fault_points[fuzz_u8(s) % NPOINTS];

		unsigned long nth = 1 + fuzz_u8(s) % 8;

		TRACE("fail_nth %s %lu\n", point, nth);
		(void)swiommu_fail_nth(point, nth);
		break;
	}
	default:
		(void)dma_max_mapping_size(dev);
		(void)dma_opt_mapping_size(dev);
		(void)dma_get_merge_boundary(dev);
		(void)dma_get_required_mask(dev);
		(void)dma_addressing_limited(dev);
		(void)dma_need_unmap(dev);
		break;
	}
}

/* ------------------------------------------------------------------------------------------------------------ */

static int boot(uint8_t cfg)
{
	int ret;

	swiommu_warn_reset();
	swiommu_log_reset();
	switch (cfg & 3) {
	case 2:
		swiommu_iommu_use_builtin_models(false);	/* until the end of this input */
		ret = swiommu_init(NULL);
		break;
	case 3:
		ret = swiommu_init(lazy_board[0] ? lazy_board : NULL);
		break;
	default:
		ret = swiommu_init(NULL);
		break;
	}
	FUZZ_CHECK(ret == 0, "the default board does not boot: %d", ret);
	TRACE("boot: variant %d, force bounce %d, counters %d\n", cfg & 3, !!(cfg & 4), !!(cfg & 8));
	if (cfg & 4)
		swiommu_swiotlb_set_force_bounce(true);
	if (cfg & 8)
		swiommu_dma_counters_enable(true);
	ret = platform_driver_register(&fuzz_driver);
	FUZZ_CHECK(ret == 0, "platform_driver_register: %d", ret);
	for (size_t i = 0; i < NDEVS; i++)
		devs[i] = swiommu_find_device(device_names[i]);
	FUZZ_CHECK(devs[0] != NULL, "no DMA engine on the default board");
	return 0;
}

static void clean_up(void)
{
	TRACE("clean up\n");
	for (size_t p = 0; p < NPOINTS; p++)
		swiommu_fail_nth(fault_points[p], 0);
	for (int i = 0; i < NMAPS; i++)
		if (maps[i].used)
			unmap(&maps[i], maps[i].size, maps[i].dir);
	for (int i = 0; i < NDOMAINS; i++) {
		struct iommu_domain *d = domains[i].d;

		if (!d)
			continue;
		for (size_t k = 0; k < NDEVS; k++)
			if (devs[k] && iommu_get_domain_for_dev(devs[k]) == d)
				iommu_detach_device(d, devs[k]);
		FUZZ_CHECK(!domain_attached(d), "a domain is still attached after detaching it from every device");
		iommu_domain_free(d);
		domains[i].d = NULL;
	}
	memset(imaps, 0, sizeof(imaps));
	for (int i = 0; i < NBUFS; i++)
		if (bufs[i].used)
			free_buf(&bufs[i]);
	swiommu_swiotlb_set_force_bounce(false);
	swiommu_dma_counters_enable(false);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_stream s = { data, size, 0 };
	uint8_t cfg = fuzz_u8(&s);

	memset(bufs, 0, sizeof(bufs));
	memset(maps, 0, sizeof(maps));
	memset(domains, 0, sizeof(domains));
	memset(imaps, 0, sizeof(imaps));
	misused_coherent = false;
	boot(cfg);

	for (int step = 0; fuzz_more(&s) && step < MAX_OPS; step++) {
		TRACE("@%zu\n", s.pos);
		switch (fuzz_u8(&s) % 20) {
		case 0: case 1: op_buf_alloc(&s); break;
		case 2: op_buf_free(&s); break;
		case 3: case 4: op_map_page(&s); break;
		case 5: op_unmap(&s); break;
		case 6: op_unmap_unknown(&s); break;
		case 7: op_sync(&s); break;
		case 8: op_device_write_roundtrip(&s); break;
		case 9: op_map_resource(&s); break;
		case 10: op_map_sg(&s); break;
		case 11: op_alloc(&s); break;
		case 12: op_map_multi(&s); break;
		case 13: case 14: op_device_access(&s); break;
		case 15: op_domain_alloc(&s); break;
		case 16: op_attach(&s); break;
		case 17: op_domain_free(&s); break;
		case 18: fuzz_bool(&s) ? op_iommu_map(&s) : op_iommu_unmap(&s); break;
		default: op_settings(&s); break;
		}
	}

	clean_up();
	swiommu_log_reset();
	platform_driver_unregister(&fuzz_driver);
	swiommu_exit();
	swiommu_iommu_use_builtin_models(true);
	FUZZ_CHECK(!swiommu_is_up(), "swiommu_exit() left the machine up");
	FUZZ_CHECK(misused_coherent || !swiommu_log_contains("allocation(s) leaked"), "leaks at swiommu_exit(): %s",
		   swiommu_log_last());
	return 0;
}
