// SPDX-License-Identifier: MIT
// dma-debug: each check of the kernel's kernel/dma/debug.c, and each of swiommu's own, by a driver that makes
// the mistake; the test asserts the exact message (as logged and as the last WARN) and the record's fields.
// Correct use reports nothing. Masters of the default board: the 32-bit-only coherent one (dma32), the
// non-coherent one, and the DMA engine (channels 0-3 behind an SMMUv3, 6-7 bypassing it).
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/dma-mapping.h>
#include <linux/dma-map-ops.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <swiommu/swiommu.h>
#include "dma_test.h"

#define DMA32	"DMA-API: dma-test fe700000.dma32: "
#define NONCOH	"DMA-API: dma-test fe710000.noncoherent: "
#define ENGINE	"DMA-API: dma-test fe100000.dma-controller: "

static char want[1024];

/* The expected message, printf-style. */
static const char *msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	return want;
}

/* Record @back counted from the newest (0: the newest) has these fields, and the message was logged. */
static void assert_record(unsigned long back, enum swiommu_dma_debug_kind kind, struct device *dev, const char *driver,
			  u64 address, u64 size, const char *text)
{
	struct swiommu_dma_debug_record r;
	unsigned long n = swiommu_dma_debug_record_count();

	assert_true(n > back);
	assert_int_equal(swiommu_dma_debug_record(n - 1 - back, &r), 0);
	assert_string_equal(swiommu_dma_debug_kind_name(r.kind), swiommu_dma_debug_kind_name(kind));
	assert_ptr_equal(r.dev, dev);
	assert_string_equal(r.device, dev_name(dev));
	assert_string_equal(r.driver, driver);
	assert_int_equal(r.address, address);
	assert_int_equal(r.size, size);
	assert_string_equal(r.message, text);
	assert_true(swiommu_log_contains(text));
}

/* The newest record, which is also the last message and the last WARN; @errors found since boot. */
static void assert_last(unsigned long errors, enum swiommu_dma_debug_kind kind, struct device *dev, u64 address,
			u64 size, const char *text)
{
	assert_int_equal(swiommu_dma_debug_errors(), errors);
	assert_record(0, kind, dev, "dma-test", address, size, text);
	assert_string_equal(swiommu_dma_debug_last(), text);
	assert_non_null(strstr(swiommu_warn_last(), text));
}

static struct device *dev, *nc;	/* the coherent 32-bit master, the non-coherent one */
static struct page *pg;			/* two pages below 4 GiB, zeroed */

/* After a boot: the masters and the pages of this machine. */
static int find_masters(void)
{
	dev = swiommu_find_device(DMA32_PATH);
	nc = swiommu_find_device(NONCOH_PATH);
	pg = alloc_pages(GFP_DMA32 | __GFP_ZERO, 1);
	return pg ? 0 : -ENOMEM;
}

/* assert_last() of the 32-bit master: "DMA-API: dma-test fe700000.dma32: <what>[device address=<address>]<rest>". */
static void assert_dma32(unsigned long errors, enum swiommu_dma_debug_kind kind, u64 address, u64 size, const char *what,
			 const char *rest)
{
	assert_last(errors, kind, dev, address, size, msg(DMA32 "%s[device address=0x%016llx]%s", what,
							  (unsigned long long)address, rest));
}

static int setup(void **state)
{
	int ret = boot_and_bind(state);

	return ret ? ret : find_masters();
}

static int teardown(void **state)
{
	__free_pages(pg, 1);
	return unbind_and_shut_down(state);
}

/* A mapping that has been checked, as a careful driver does. */
static dma_addr_t map(struct device *dev, struct page *pg, size_t offset, size_t size, enum dma_data_direction dir)
{
	dma_addr_t a = dma_map_page(dev, pg, offset, size, dir);

	assert_int_equal(dma_mapping_error(dev, a), 0);
	return a;
}

/* Map the fixture's two pages as a list of two 256-byte entries (dma-direct maps them entry for entry). */
static void map_two(struct scatterlist *sg, enum dma_data_direction dir)
{
	sg_init_table(sg, 2);
	sg_set_page(&sg[0], pg, 256, 0);
	sg_set_page(&sg[1], pg + 1, 256, 0);
	assert_int_equal(dma_map_sg(dev, sg, 2, dir), 2);
}

// MARK: Correct use

static void correct_use_reports_nothing(void **state)
{
	(void)state;
	char *buf = page_address(pg), got[8];
	struct scatterlist sg[2];
	dma_addr_t h;

	assert_true(swiommu_dma_debug_enabled());
	/* Streaming, with the hand-overs a device needs: fill, map, device reads; sync, CPU reads, back. */
	strcpy(buf, "cpu");
	dma_addr_t a = map(nc, pg, 0, 64, DMA_BIDIRECTIONAL);
	assert_int_equal(swiommu_dma_debug_mappings(nc), 1);
	assert_int_equal(swiommu_dma_read(nc, 0, a, got, 4), 0);
	assert_int_equal(swiommu_dma_write(nc, 0, a, "dev", 4), 0);
	dma_sync_single_for_cpu(nc, a, 64, DMA_BIDIRECTIONAL);
	assert_string_equal(buf, "dev");
	strcpy(buf, "two");
	dma_sync_single_for_device(nc, a, 64, DMA_BIDIRECTIONAL);
	assert_int_equal(swiommu_dma_read(nc, 0, a, got, 4), 0);
	assert_string_equal(got, "two");
	dma_unmap_page(nc, a, 64, DMA_BIDIRECTIONAL);
	assert_int_equal(swiommu_dma_debug_mappings(nc), 0);
	/* Scatterlists, coherent and non-coherent allocations, resources. */
	map_two(sg, DMA_FROM_DEVICE);
	assert_int_equal(swiommu_dma_write(dev, 0, sg_dma_address(&sg[1]), "sg", 3), 0);
	dma_sync_sg_for_cpu(dev, sg, 2, DMA_FROM_DEVICE);
	dma_sync_sg_for_device(dev, sg, 2, DMA_FROM_DEVICE);
	dma_unmap_sg(dev, sg, 2, DMA_FROM_DEVICE);
	void *cpu = dma_alloc_coherent(dev, PAGE_SIZE, &h, GFP_KERNEL);
	assert_int_equal(swiommu_dma_write(dev, 0, h, "any time", 9), 0);
	dma_free_coherent(dev, PAGE_SIZE, cpu, h);
	struct page *blk = dma_alloc_pages(nc, PAGE_SIZE, &h, DMA_TO_DEVICE, GFP_KERNEL);
	strcpy(page_address(blk), "block");
	dma_sync_single_for_device(nc, h, PAGE_SIZE, DMA_TO_DEVICE);
	assert_int_equal(swiommu_dma_read(nc, 0, h, got, 6), 0);
	assert_string_equal(got, "block");
	dma_free_pages(nc, PAGE_SIZE, blk, h, DMA_TO_DEVICE);
	a = dma_map_resource(dev, 0x40001000, 4, DMA_BIDIRECTIONAL, 0);
	assert_int_equal(dma_mapping_error(dev, a), 0);
	dma_unmap_resource(dev, a, 4, DMA_BIDIRECTIONAL, 0);

	assert_int_equal(swiommu_dma_debug_mappings(NULL), 0);
	assert_int_equal(swiommu_dma_debug_errors(), 0);
	assert_int_equal(swiommu_dma_debug_record_count(), 0);
	assert_string_equal(swiommu_dma_debug_last(), "");
	assert_int_equal(swiommu_warn_count(), 0);
}

static void each_channel_route_of_a_multi_map_is_tracked(void **state)
{
	(void)state;
	/* Channels 0-1 share the SMMUv3 domain, 6-7 bypass it: two mappings, one address checked. */
	struct device *eng = swiommu_find_device(ENGINE_PATH);
	dma_addr_t addrs[8];

	dma_addr_t first = dma_map_page_attrs_multi(eng, pg, 0, PAGE_SIZE, DMA_FROM_DEVICE, 0, 0xc3, addrs);
	assert_int_equal(dma_mapping_error(eng, first), 0);
	assert_int_equal(swiommu_dma_debug_mappings(eng), 2);
	assert_int_equal(swiommu_dma_write(eng, 1, addrs[1], "iova", 5), 0);
	assert_int_equal(swiommu_dma_write(eng, 7, addrs[7], "bus", 4), 0);
	dma_unmap_page_attrs_multi(eng, addrs, PAGE_SIZE, DMA_FROM_DEVICE, 0, 0xc3);
	assert_int_equal(swiommu_dma_debug_mappings(eng), 0);
	assert_int_equal(swiommu_dma_debug_errors(), 0);
	assert_int_equal(swiommu_warn_count(), 0);
}

// MARK: Unmaps and frees (check_unmap)

static void freeing_memory_never_mapped_or_with_another_size(void **state)
{
	(void)state;
	/* DMA_MAPPING_ERROR has words of its own. */
	dma_unmap_single(dev, DMA_MAPPING_ERROR, 64, DMA_TO_DEVICE);
	assert_last(1, SWIOMMU_DMA_DEBUG_FREE_INVALID, dev, DMA_MAPPING_ERROR, 64,
		    DMA32 "device driver tries to free an invalid DMA memory address");
	dma_unmap_page(dev, page_to_phys(pg), 64, DMA_TO_DEVICE);
	assert_dma32(2, SWIOMMU_DMA_DEBUG_FREE_NOT_ALLOCATED, page_to_phys(pg), 64,
		     "device driver tries to free DMA memory it has not allocated ", " [size=64 bytes]");
	/* Mapped, but freed with another size: reported, and gone all the same. */
	dma_addr_t a = map(dev, pg, 0, 256, DMA_TO_DEVICE);
	dma_unmap_page(dev, a, 128, DMA_TO_DEVICE);
	assert_dma32(3, SWIOMMU_DMA_DEBUG_FREE_SIZE, a, 128, "device driver frees DMA memory with different size ",
		     " [map size=256 bytes] [unmap size=128 bytes]");
	assert_int_equal(swiommu_dma_debug_mappings(dev), 0);
}


static void freeing_with_the_wrong_function(void **state)
{
	(void)state;
	struct scatterlist sg;

	sg_init_table(&sg, 1);
	sg_set_page(&sg, pg, 256, 0);
	assert_int_equal(dma_map_sg(dev, &sg, 1, DMA_TO_DEVICE), 1);
	dma_unmap_page(dev, sg_dma_address(&sg), 256, DMA_TO_DEVICE);
	assert_last(1, SWIOMMU_DMA_DEBUG_FREE_FUNCTION, dev, sg_dma_address(&sg), 256,
		    msg(DMA32 "device driver frees DMA memory with wrong function [device address=0x%016llx] "
			"[size=256 bytes] [mapped as scatter-gather] [unmapped as single]",
			(unsigned long long)sg_dma_address(&sg)));
	/* A page mapping freed as a resource. */
	dma_addr_t a = map(dev, pg, 0, 64, DMA_TO_DEVICE);
	dma_unmap_resource(dev, a, 64, DMA_TO_DEVICE, 0);
	assert_dma32(2, SWIOMMU_DMA_DEBUG_FREE_FUNCTION, a, 64, "device driver frees DMA memory with wrong function ",
		     " [size=64 bytes] [mapped as single] [unmapped as resource]");
}

static void freeing_coherent_memory_with_another_cpu_address(void **state)
{
	(void)state;
	dma_addr_t h;
	char *cpu = dma_alloc_coherent(dev, PAGE_SIZE, &h, GFP_KERNEL);

	assert_non_null(cpu);
	dma_free_coherent(dev, PAGE_SIZE, cpu + 64, h);
	/* The kernel's format: "0x%pa", and %pa prints 0x itself. */
	assert_last(1, SWIOMMU_DMA_DEBUG_FREE_CPU_ADDRESS, dev, h, PAGE_SIZE,
		    msg(DMA32 "device driver frees DMA memory with different CPU address [device address=0x%016llx] "
			"[size=4096 bytes] [cpu alloc address=0x0x%016llx] [cpu free address=0x0x%016llx]",
			(unsigned long long)h, (unsigned long long)virt_to_phys(cpu),
			(unsigned long long)virt_to_phys(cpu) + 64));
}

static void freeing_a_noncoherent_block_with_another_page(void **state)
{
	(void)state;
	dma_addr_t h;
	struct page *blk = dma_alloc_pages(nc, 2 * PAGE_SIZE, &h, DMA_FROM_DEVICE, GFP_KERNEL);

	assert_non_null(blk);
	/* dma_free_noncoherent() of the second page's address ("noncoherent" entries compare pages). The page
	 * allocator then refuses the bad free, as the kernel's reports a bad page state. */
	dma_free_noncoherent(nc, 2 * PAGE_SIZE, page_address(blk + 1), h, DMA_FROM_DEVICE);
	assert_int_equal(swiommu_dma_debug_errors(), 1);
	assert_record(0, SWIOMMU_DMA_DEBUG_FREE_CPU_ADDRESS, nc, "dma-test", h, 2 * PAGE_SIZE,
		      msg(NONCOH "device driver frees DMA memory with different CPU address [device address=0x%016llx] "
			  "[size=8192 bytes] [cpu alloc address=0x0x%016llx] [cpu free address=0x0x%016llx]",
			  (unsigned long long)h, (unsigned long long)page_to_phys(blk),
			  (unsigned long long)page_to_phys(blk + 1)));
	assert_string_equal(swiommu_dma_debug_last(), want);
	assert_true(swiommu_log_contains("BUG: Bad page state"));
	/* The entry went with the bad free: the right one is unknown to dma-debug now. */
	dma_free_pages(nc, 2 * PAGE_SIZE, blk, h, DMA_FROM_DEVICE);
	assert_last(2, SWIOMMU_DMA_DEBUG_FREE_NOT_ALLOCATED, nc, h, 2 * PAGE_SIZE,
		    msg(NONCOH "device driver tries to free DMA memory it has not allocated [device address=0x%016llx] "
			"[size=8192 bytes]", (unsigned long long)h));
}

static void a_list_synced_or_unmapped_with_another_count(void **state)
{
	(void)state;
	struct scatterlist sg[2];

	map_two(sg, DMA_FROM_DEVICE);
	dma_sync_sg_for_cpu(dev, sg, 1, DMA_FROM_DEVICE);
	assert_last(1, SWIOMMU_DMA_DEBUG_SYNC_SG_COUNT, dev, sg_dma_address(&sg[0]), 256,
		    DMA32 "device driver syncs DMA sg list with different entry count [map count=2] [sync count=1]");
	dma_unmap_sg(dev, sg, 1, DMA_FROM_DEVICE);
	assert_last(2, SWIOMMU_DMA_DEBUG_FREE_SG_COUNT, dev, sg_dma_address(&sg[0]), 256,
		    DMA32 "device driver frees DMA sg list with different entry count [map count=2] [unmap count=1]");
	dma_unmap_sg(dev, &sg[1], 1, DMA_FROM_DEVICE);	/* the rest, with the same mistake */
	assert_int_equal(swiommu_dma_debug_errors(), 3);
	assert_int_equal(swiommu_dma_debug_mappings(dev), 0);
}

static void unmapping_without_checking_the_map_error(void **state)
{
	(void)state;
	dma_addr_t a = dma_map_page(dev, pg, 16, 64, DMA_TO_DEVICE);

	dma_unmap_page(dev, a, 64, DMA_TO_DEVICE);
	/* The kernel's text has no space before the first '['. */
	assert_dma32(1, SWIOMMU_DMA_DEBUG_MAP_ERROR_NOT_CHECKED, a, 64, "device driver failed to check map error",
		     " [size=64 bytes] [mapped as single]");
	/* Resources too. */
	a = dma_map_resource(dev, 0x40001000, 4, DMA_TO_DEVICE, 0);
	dma_unmap_resource(dev, a, 4, DMA_TO_DEVICE, 0);
	assert_dma32(2, SWIOMMU_DMA_DEBUG_MAP_ERROR_NOT_CHECKED, a, 4, "device driver failed to check map error",
		     " [size=4 bytes] [mapped as resource]");
}

// MARK: Syncs (check_sync)

static void syncing_memory_never_mapped_or_past_the_mapping(void **state)
{
	(void)state;
	phys_addr_t pa = page_to_phys(pg);

	dma_sync_single_for_cpu(dev, pa, 64, DMA_FROM_DEVICE);
	assert_dma32(1, SWIOMMU_DMA_DEBUG_SYNC_NOT_ALLOCATED, pa, 64,
		     "device driver tries to sync DMA memory it has not allocated ",
		     " [size=64 bytes]");
	/* Past the end of a mapping: no mapping contains the range (6.17 finds mappings by containment). */
	dma_addr_t a = map(dev, pg, 0, 128, DMA_FROM_DEVICE);
	dma_sync_single_range_for_cpu(dev, a, 64, 128, DMA_FROM_DEVICE);
	assert_dma32(2, SWIOMMU_DMA_DEBUG_SYNC_NOT_ALLOCATED, a + 64, 128,
		     "device driver tries to sync DMA memory it has not allocated ",
		     " [size=128 bytes]");
	/* Inside it: fine. */
	dma_sync_single_range_for_cpu(dev, a, 64, 64, DMA_FROM_DEVICE);
	dma_unmap_page(dev, a, 128, DMA_FROM_DEVICE);
	assert_int_equal(swiommu_dma_debug_errors(), 2);
}

static void syncing_and_freeing_with_another_direction(void **state)
{
	(void)state;
	dma_addr_t a = map(dev, pg, 0, 64, DMA_TO_DEVICE);

	dma_sync_single_for_device(dev, a, 64, DMA_FROM_DEVICE);
	assert_dma32(1, SWIOMMU_DMA_DEBUG_SYNC_DIRECTION, a, 64,
		     "device driver syncs DMA memory with different direction ",
		     " [size=64 bytes] [mapped with DMA_TO_DEVICE] [synced with DMA_FROM_DEVICE]");
	/* A bidirectional mapping may be synced either way. */
	dma_addr_t b = map(dev, pg, 128, 64, DMA_BIDIRECTIONAL);
	dma_sync_single_for_cpu(dev, b, 64, DMA_FROM_DEVICE);
	dma_sync_single_for_device(dev, b, 64, DMA_TO_DEVICE);
	dma_unmap_page(dev, b, 64, DMA_BIDIRECTIONAL);
	assert_int_equal(swiommu_dma_debug_errors(), 1);
	dma_unmap_page(dev, a, 64, DMA_FROM_DEVICE);
	assert_dma32(2, SWIOMMU_DMA_DEBUG_FREE_DIRECTION, a, 64,
		     "device driver frees DMA memory with different direction ",
		     " [size=64 bytes] [mapped with DMA_TO_DEVICE] [unmapped with DMA_FROM_DEVICE]");
}

/* A mapping made @mapped and synced with @synced, for the CPU or the device: the kernel reports the other
 * direction, then the check @kind says @what. */
static void assert_wrong_way(enum dma_data_direction mapped, enum dma_data_direction synced, bool for_cpu,
			     enum swiommu_dma_debug_kind kind, const char *what)
{
	static const char *const names[] = { "DMA_BIDIRECTIONAL", "DMA_TO_DEVICE", "DMA_FROM_DEVICE" };
	char tail[128];
	dma_addr_t a = map(dev, pg, 0, 64, mapped);

	if (for_cpu)
		dma_sync_single_for_cpu(dev, a, 64, synced);
	else
		dma_sync_single_for_device(dev, a, 64, synced);
	snprintf(tail, sizeof(tail), "[size=64 bytes] [mapped with %s] [synced with %s]", names[mapped], names[synced]);
	assert_record(1, SWIOMMU_DMA_DEBUG_SYNC_DIRECTION, dev, "dma-test", a, 64,
		      msg(DMA32 "device driver syncs DMA memory with different direction [device address=0x%016llx] %s",
			  (unsigned long long)a, tail));
	assert_last(2, kind, dev, a, 64, msg(DMA32 "%s [device address=0x%016llx] %s", what, (unsigned long long)a, tail));
	dma_unmap_page(dev, a, 64, mapped);
}

static void syncing_device_read_only_memory_for_the_cpu(void **state)
{
	(void)state;
	/* With DMA_TO_DEVICE it is allowed (the kernel checks the sync's direction, not the mapping's). */
	dma_addr_t a = map(dev, pg, 256, 64, DMA_TO_DEVICE);
	dma_sync_single_for_cpu(dev, a, 64, DMA_TO_DEVICE);
	dma_unmap_page(dev, a, 64, DMA_TO_DEVICE);
	assert_int_equal(swiommu_dma_debug_errors(), 0);
	assert_wrong_way(DMA_TO_DEVICE, DMA_FROM_DEVICE, true, SWIOMMU_DMA_DEBUG_SYNC_READ_ONLY,
			 "device driver syncs device read-only DMA memory for cpu");
}

static void syncing_device_write_only_memory_to_the_device(void **state)
{
	(void)state;
	assert_wrong_way(DMA_FROM_DEVICE, DMA_BIDIRECTIONAL, false, SWIOMMU_DMA_DEBUG_SYNC_WRITE_ONLY,
			 "device driver syncs device write-only DMA memory to device");
}

// MARK: What is mapped (debug_dma_map_single, check_for_stack, check_for_illegal_area)

static const char rodata_text[] = "read-only data of the program";

static void mapping_memory_from_the_stack(void **state)
{
	(void)state;
	char on_stack[64];
	char where[32];

	snprintf(where, sizeof(where), "%p", (void *)on_stack);
	/* Not simulated RAM either: the map fails after the report. */
	assert_int_equal(dma_map_single(dev, on_stack, sizeof(on_stack), DMA_TO_DEVICE), DMA_MAPPING_ERROR);
	assert_int_equal(swiommu_dma_debug_errors(), 1);
	assert_record(0, SWIOMMU_DMA_DEBUG_MAP_STACK, dev, "dma-test", (u64)(uintptr_t)on_stack, 64,
		      msg(DMA32 "device driver maps memory from stack [addr=%s]", where));
	assert_string_equal(swiommu_dma_debug_last(), want);
}

static void mapping_program_text_or_rodata(void **state)
{
	(void)state;
	char where[32];

	snprintf(where, sizeof(where), "%p", (const void *)rodata_text);
	assert_int_equal(dma_map_single(dev, (void *)rodata_text, sizeof(rodata_text), DMA_TO_DEVICE), DMA_MAPPING_ERROR);
	assert_record(0, SWIOMMU_DMA_DEBUG_MAP_TEXT, dev, "dma-test", (u64)(uintptr_t)rodata_text, sizeof(rodata_text),
		      msg(DMA32 "device driver maps memory from kernel text or rodata [addr=%s] [len=%zu]", where,
			  sizeof(rodata_text)));
	/* Code. */
	void *code = (void *)(uintptr_t)&mapping_program_text_or_rodata;
	snprintf(where, sizeof(where), "%p", code);
	assert_int_equal(dma_map_single(dev, code, 16, DMA_TO_DEVICE), DMA_MAPPING_ERROR);
	assert_record(0, SWIOMMU_DMA_DEBUG_MAP_TEXT, dev, "dma-test", (u64)(uintptr_t)code, 16,
		      msg(DMA32 "device driver maps memory from kernel text or rodata [addr=%s] [len=16]", where));
	assert_int_equal(swiommu_dma_debug_errors(), 2);
}

static void mapping_memory_that_is_not_the_linear_map(void **state)
{
	(void)state;
	char *host = malloc(64);
	char where[32];

	snprintf(where, sizeof(where), "%p", (void *)host);
	assert_int_equal(dma_map_single(dev, host, 64, DMA_TO_DEVICE), DMA_MAPPING_ERROR);
	assert_record(0, SWIOMMU_DMA_DEBUG_MAP_INVALID, dev, "dma-test", (u64)(uintptr_t)host, 64,
		      msg(DMA32 "device driver maps memory from invalid area [addr=%s] [len=64]", where));
	free(host);
}

static void vmalloc_memory_never_reaches_dma_debug(void **state)
{
	(void)state;
	void *v = vmalloc(PAGE_SIZE);
	char where[32];

	/* dma_map_single() refuses it first, with its own WARN. */
	assert_int_equal(dma_map_single(dev, v, 64, DMA_TO_DEVICE), DMA_MAPPING_ERROR);
	assert_non_null(strstr(swiommu_warn_last(), "dma-test fe700000.dma32: rejecting DMA map of vmalloc memory"));
	assert_int_equal(swiommu_dma_debug_errors(), 0);
	/* debug_dma_map_single() called directly sees both of its checks fire, as the kernel's would. */
	snprintf(where, sizeof(where), "%p", v);
	debug_dma_map_single(dev, v, 64);
	assert_record(1, SWIOMMU_DMA_DEBUG_MAP_INVALID, dev, "dma-test", (u64)(uintptr_t)v, 64,
		      msg(DMA32 "device driver maps memory from invalid area [addr=%s] [len=64]", where));
	assert_last(2, SWIOMMU_DMA_DEBUG_MAP_VMALLOC, dev, (u64)(uintptr_t)v, 64,
		    msg(DMA32 "device driver maps memory from vmalloc area [addr=%s] [len=64]", where));
	vfree(v);
}

// MARK: Scatterlist segments (check_sg_segment)

static void a_segment_longer_than_the_device_supports(void **state)
{
	(void)state;
	struct scatterlist sg;

	dma_set_max_seg_size(dev, PAGE_SIZE);
	sg_init_table(&sg, 1);
	sg_set_page(&sg, pg, 2 * PAGE_SIZE, 0);
	assert_int_equal(dma_map_sg(dev, &sg, 1, DMA_TO_DEVICE), 1);
	assert_last(1, SWIOMMU_DMA_DEBUG_SG_SEGMENT_LENGTH, dev, sg_dma_address(&sg), 2 * PAGE_SIZE,
		    DMA32 "mapping sg segment longer than device claims to support [len=8192] [max=4096]");
	dma_unmap_sg(dev, &sg, 1, DMA_TO_DEVICE);
}

static void a_segment_across_the_boundary(void **state)
{
	(void)state;
	struct scatterlist sg;

	dma_set_seg_boundary(dev, PAGE_SIZE - 1);
	sg_init_table(&sg, 1);
	sg_set_page(&sg, pg, 256, PAGE_SIZE - 128);
	assert_int_equal(dma_map_sg(dev, &sg, 1, DMA_TO_DEVICE), 1);
	dma_addr_t s = sg_dma_address(&sg);
	assert_last(1, SWIOMMU_DMA_DEBUG_SG_SEGMENT_BOUNDARY, dev, s, 256,
		    msg(DMA32 "mapping sg segment across boundary [start=0x%016llx] [end=0x%016llx] "
			"[boundary=0x0000000000000fff]", (unsigned long long)s, (unsigned long long)s + 255));
	dma_unmap_sg(dev, &sg, 1, DMA_TO_DEVICE);
}

// MARK: Overlapping mappings (the active-cacheline table)

static void two_live_mappings_of_one_cache_line(void **state)
{
	(void)state;
	dma_addr_t a = map(dev, pg, 0, 32, DMA_FROM_DEVICE);

	/* The device reads only: no concern. With DMA_ATTR_SKIP_CPU_SYNC: the driver says it knows. */
	dma_addr_t t = map(dev, pg, 32, 32, DMA_TO_DEVICE);
	dma_addr_t s = dma_map_page_attrs(dev, pg, 32, 32, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
	assert_int_equal(dma_mapping_error(dev, s), 0);
	assert_int_equal(swiommu_dma_debug_errors(), 0);
	dma_addr_t b = map(dev, pg, 32, 32, DMA_BIDIRECTIONAL);
	assert_last(1, SWIOMMU_DMA_DEBUG_OVERLAP, dev, b, 32,
		    DMA32 "cacheline tracking EEXIST, overlapping mappings aren't supported");
	dma_unmap_page(dev, b, 32, DMA_BIDIRECTIONAL);
	dma_unmap_page_attrs(dev, s, 32, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
	dma_unmap_page(dev, t, 32, DMA_TO_DEVICE);
	dma_unmap_page(dev, a, 32, DMA_FROM_DEVICE);
	/* The line is free again. */
	a = map(dev, pg, 32, 32, DMA_FROM_DEVICE);
	dma_unmap_page(dev, a, 32, DMA_FROM_DEVICE);
	assert_int_equal(swiommu_dma_debug_errors(), 1);
}

static void more_than_seven_overlaps_of_one_cache_line(void **state)
{
	(void)state;
	dma_addr_t a[10];
	int i;

	for (i = 0; i < 9; i++) {
		a[i] = dma_map_page_attrs(dev, pg, 0, 64, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
		assert_int_equal(dma_mapping_error(dev, a[i]), 0);
	}
	/* The ninth: the kernel's WARN_ONCE, without the driver and device. */
	assert_int_equal(swiommu_dma_debug_errors(), 1);
	assert_record(0, SWIOMMU_DMA_DEBUG_OVERLAP_LIMIT, dev, "dma-test", page_to_phys(pg) >> 6, 0,
		      msg("DMA-API: exceeded 7 overlapping mappings of cacheline 0x%016llx",
			  (unsigned long long)page_to_phys(pg) >> 6));
	assert_string_equal(swiommu_dma_debug_last(), want);
	/* Once per boot. */
	a[9] = dma_map_page_attrs(dev, pg, 0, 64, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
	assert_int_equal(dma_mapping_error(dev, a[9]), 0);
	assert_int_equal(swiommu_dma_debug_errors(), 1);
	for (i = 0; i < 10; i++)
		dma_unmap_page_attrs(dev, a[i], 64, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
}

// MARK: Leaks at unbind

static void pending_mappings_when_the_driver_goes(void **state)
{
	(void)state;
	dma_addr_t a = map(dev, pg, 0, 64, DMA_TO_DEVICE);
	dma_addr_t b = map(dev, pg, 256, 128, DMA_FROM_DEVICE);

	platform_driver_unregister(&dma_test_driver);
	/* The driver is gone by then: the message names the bus. The last of the device's entries in the hash
	 * (both sit in one bucket, in mapping order) is the one shown. */
	const char *text = msg("DMA-API: platform fe700000.dma32: device driver has pending DMA allocations while "
			       "released from device [count=2]\nOne of leaked entries details: [device address=0x%016llx] "
			       "[size=128 bytes] [mapped with DMA_FROM_DEVICE] [mapped as single]", (unsigned long long)b);
	assert_int_equal(swiommu_dma_debug_errors(), 1);
	assert_record(0, SWIOMMU_DMA_DEBUG_PENDING_AT_UNBIND, dev, "platform", b, 128, text);
	assert_string_equal(swiommu_dma_debug_last(), text);
	/* The entries stay: the device can still unmap them. */
	assert_int_equal(swiommu_dma_debug_mappings(dev), 2);
	assert_int_equal(platform_driver_register(&dma_test_driver), 0);
	dma_unmap_page(dev, a, 64, DMA_TO_DEVICE);
	dma_unmap_page(dev, b, 128, DMA_FROM_DEVICE);
	assert_int_equal(swiommu_dma_debug_errors(), 1);
}

// MARK: Dumps (debug_dma_dump_mappings)

static void dumping_the_mappings(void **state)
{
	(void)state;
	dma_addr_t a = map(dev, pg, 0x40, 0x80, DMA_TO_DEVICE);
	phys_addr_t pa = page_to_phys(pg) + 0x40;

	swiommu_log_reset();
	debug_dma_dump_mappings(dev);
	assert_int_equal(swiommu_log_count(), 1);
	assert_string_equal(swiommu_log_last(),
			    msg("dma-test fe700000.dma32: single idx %llu P=0x%016llx D=%llx L=80 cln=0x%016llx "
				"DMA_TO_DEVICE dma map error checked", (unsigned long long)((a >> 13) & 16383),
				(unsigned long long)pa, (unsigned long long)a, (unsigned long long)pa >> 6));
	debug_dma_dump_mappings(nc);
	assert_int_equal(swiommu_log_count(), 1);
	dma_unmap_page(dev, a, 0x80, DMA_TO_DEVICE);
}

// MARK: Switches: the filter, off, the records

static void the_filter_hides_other_devices(void **state)
{
	(void)state;

	assert_int_equal(swiommu_dma_debug_set_filter("fe710000.noncoherent"), 0);
	assert_true(swiommu_log_contains("DMA-API: enable driver filter for driver [fe710000.noncoherent]"));
	dma_unmap_single(dev, 0x1000, 64, DMA_TO_DEVICE);
	/* Counted, not reported. */
	assert_int_equal(swiommu_dma_debug_errors(), 1);
	assert_int_equal(swiommu_dma_debug_record_count(), 0);
	assert_int_equal(swiommu_warn_count(), 0);
	dma_unmap_single(nc, 0x1000, 64, DMA_TO_DEVICE);
	assert_int_equal(swiommu_dma_debug_errors(), 2);
	assert_record(0, SWIOMMU_DMA_DEBUG_FREE_NOT_ALLOCATED, nc, "dma-test", 0x1000, 64,
		      NONCOH "device driver tries to free DMA memory it has not allocated [device address=0x0000000000001000] "
		      "[size=64 bytes]");
	/* A driver name: the kernel's driver_filter. */
	assert_int_equal(swiommu_dma_debug_set_filter("dma-test"), 0);
	dma_unmap_single(dev, 0x1000, 64, DMA_TO_DEVICE);
	assert_int_equal(swiommu_dma_debug_record_count(), 2);
	assert_int_equal(swiommu_dma_debug_set_filter(NULL), 0);
	assert_true(swiommu_log_contains("DMA-API: switching off dma-debug driver filter"));
}

static void switched_off_it_tracks_nothing(void **state)
{
	(void)state;

	dma_addr_t a = map(dev, pg, 0, 64, DMA_TO_DEVICE);
	assert_int_equal(swiommu_dma_debug_enable(false), 0);
	assert_false(swiommu_dma_debug_enabled());
	assert_int_equal(swiommu_dma_debug_mappings(NULL), 0);
	dma_unmap_page(dev, a, 128, DMA_FROM_DEVICE);
	dma_unmap_single(dev, 0x1000, 64, DMA_TO_DEVICE);
	assert_int_equal(swiommu_dma_debug_errors(), 0);
	/* Back on only at the next boot: it cannot know what was mapped meanwhile. */
	assert_int_equal(swiommu_dma_debug_enable(true), -EBUSY);
	assert_false(swiommu_dma_debug_enabled());
	teardown(NULL);
	assert_int_equal(swiommu_dma_debug_enable(true), 0);
	assert_true(swiommu_dma_debug_enabled());
	assert_int_equal(setup(NULL), 0);
	dma_unmap_single(dev, 0x1000, 64, DMA_TO_DEVICE);
	assert_int_equal(swiommu_dma_debug_errors(), 1);
}

static void records_are_kept_newest_last(void **state)
{
	(void)state;
	struct swiommu_dma_debug_record r;
	unsigned long i, n = 0;

	for (i = 0; i < 300; i++)
		dma_unmap_single(dev, 0x1000 * (i + 1), 64, DMA_TO_DEVICE);
	assert_int_equal(swiommu_dma_debug_errors(), 300);
	assert_int_equal(swiommu_dma_debug_record_count(), SWIOMMU_DMA_DEBUG_RECORDS);
	swiommu_dma_debug_for_each_record(i, &r) {
		/* The oldest kept is the 45th error. */
		assert_int_equal(r.address, 0x1000 * (i + 300 - SWIOMMU_DMA_DEBUG_RECORDS + 1));
		assert_int_equal(r.kind, SWIOMMU_DMA_DEBUG_FREE_NOT_ALLOCATED);
		n++;
	}
	assert_int_equal(n, SWIOMMU_DMA_DEBUG_RECORDS);
	assert_string_equal(swiommu_dma_debug_kind_name(SWIOMMU_DMA_DEBUG_FREE_NOT_ALLOCATED), "FREE_NOT_ALLOCATED");
	assert_string_equal(swiommu_dma_debug_kind_name(SWIOMMU_DMA_DEBUG_CPU_READ_UNSYNCED), "CPU_READ_UNSYNCED");
	swiommu_dma_debug_reset();
	assert_int_equal(swiommu_dma_debug_errors(), 0);
	assert_int_equal(swiommu_dma_debug_record_count(), 0);
	assert_string_equal(swiommu_dma_debug_last(), "");
}

// MARK: swiommu's checks: what the device's own DMA shows

static void the_device_reads_what_the_cpu_wrote_after_the_map(void **state)
{
	(void)state;
	char *buf = page_address(pg), got[4];

	strcpy(buf, "one");
	dma_addr_t a = map(nc, pg, 0, 64, DMA_TO_DEVICE);
	strcpy(buf, "two");	/* no dma_sync_single_for_device() */
	assert_int_equal(swiommu_dma_read(nc, 0, a, got, 4), 0);
	assert_string_equal(got, "one");	/* stale: the line never reached memory */
	assert_last(1, SWIOMMU_DMA_DEBUG_CPU_WRITE_UNSYNCED, nc, a, 64,
		    msg(NONCOH "swiommu: device read DMA memory the CPU changed after it was mapped or synced for the "
			"device [device address=0x%016llx] [size=64 bytes] [mapped with DMA_TO_DEVICE]", (unsigned long long)a));
	/* Once per change; after a sync, nothing. */
	assert_int_equal(swiommu_dma_read(nc, 0, a, got, 4), 0);
	strcpy(buf, "six");
	dma_sync_single_for_device(nc, a, 64, DMA_TO_DEVICE);
	assert_int_equal(swiommu_dma_read(nc, 0, a, got, 4), 0);
	assert_string_equal(got, "six");
	assert_int_equal(swiommu_dma_debug_errors(), 1);
	dma_unmap_page(nc, a, 64, DMA_TO_DEVICE);
}

static void the_device_writes_memory_it_does_not_own(void **state)
{
	(void)state;

	/* Mapped for the device to read: on the direct path no IOMMU stops the write. */
	dma_addr_t a = map(dev, pg, 0, 64, DMA_TO_DEVICE);
	assert_int_equal(swiommu_dma_write(dev, 0, a + 8, "x", 1), 0);
	assert_dma32(1, SWIOMMU_DMA_DEBUG_DEVICE_WRITE_CPU_OWNED, a, 64,
		     "swiommu: device wrote device read-only DMA memory ",
		     " [size=64 bytes] [mapped with DMA_TO_DEVICE]");
	dma_unmap_page(dev, a, 64, DMA_TO_DEVICE);
	/* Synced for the CPU and not yet handed back. */
	dma_addr_t b = map(dev, pg, 128, 64, DMA_FROM_DEVICE);
	assert_int_equal(swiommu_dma_write(dev, 0, b, "ok", 3), 0);
	dma_sync_single_for_cpu(dev, b, 64, DMA_FROM_DEVICE);
	assert_int_equal(swiommu_dma_write(dev, 0, b, "no", 3), 0);
	assert_dma32(2, SWIOMMU_DMA_DEBUG_DEVICE_WRITE_CPU_OWNED, b, 64,
		     "swiommu: device wrote DMA memory the cpu owns (synced for cpu, not yet for device) ",
		     " [size=64 bytes] [mapped with DMA_FROM_DEVICE]");
	dma_sync_single_for_device(dev, b, 64, DMA_FROM_DEVICE);
	assert_int_equal(swiommu_dma_write(dev, 0, b, "ok", 3), 0);
	assert_int_equal(swiommu_dma_debug_errors(), 2);
	dma_unmap_page(dev, b, 64, DMA_FROM_DEVICE);
	/* Not mapped at all (any more). */
	assert_int_equal(swiommu_dma_write(dev, 0, b + 4, "late", 4), 0);
	assert_dma32(3, SWIOMMU_DMA_DEBUG_DEVICE_WRITE_CPU_OWNED, b + 4, 4,
		     "swiommu: device wrote memory that is not mapped for it ",
		     " [size=4 bytes]");
}

static void the_device_reaches_an_unmapped_iova_through_a_stale_iotlb_entry(void **state)
{
	(void)state;
	/* Lazy invalidation: the flush queue leaves the IOTLB entry until its timer runs. */
	__free_pages(pg, 1);
	assert_int_equal(reboot_with_bootargs("iommu.strict=0", true), 0);
	assert_int_equal(find_masters(), 0);
	struct device *eng = swiommu_find_device(ENGINE_PATH);
	char got[16];

	assert_int_equal(iommu_get_domain_for_dev(eng)->type, IOMMU_DOMAIN_DMA_FQ);
	dma_addr_t a = map(eng, pg, 0, PAGE_SIZE, DMA_TO_DEVICE);
	assert_int_equal(swiommu_dma_read(eng, 0, a, got, 16), 0);	/* the IOTLB caches it */
	dma_unmap_page(eng, a, PAGE_SIZE, DMA_TO_DEVICE);
	assert_int_equal(swiommu_dma_debug_errors(), 0);
	assert_int_equal(swiommu_dma_read(eng, 0, a, got, 16), 0);	/* the hardware lets it through */
	assert_last(1, SWIOMMU_DMA_DEBUG_STALE_IOTLB, eng, a, 16,
		    msg(ENGINE "swiommu: device DMA reached an unmapped address through a stale IOTLB entry "
			"[device address=0x%016llx] [size=16 bytes]", (unsigned long long)a));
	/* After the flush the IOMMU faults it itself. */
	swiommu_iova_clock_advance(10);
	assert_int_equal(swiommu_dma_read(eng, 0, a, got, 16), -EFAULT);
	assert_int_equal(swiommu_dma_debug_errors(), 1);
}

static void the_cpu_takes_back_what_a_noncoherent_device_wrote_without_a_sync(void **state)
{
	(void)state;
	char *buf = page_address(pg);
	dma_addr_t a = map(nc, pg, 0, 64, DMA_FROM_DEVICE);

	assert_int_equal(swiommu_dma_write(nc, 0, a, "rx", 3), 0);
	assert_string_equal(buf, "");	/* what the CPU reads without dma_sync_single_for_cpu() */
	dma_sync_single_for_device(nc, a, 64, DMA_FROM_DEVICE);	/* handed back to the device */
	assert_last(1, SWIOMMU_DMA_DEBUG_CPU_READ_UNSYNCED, nc, a, 64,
		    msg(NONCOH "swiommu: device driver syncs DMA memory for the device again without syncing it for cpu "
			"after the device wrote it [device address=0x%016llx] [size=64 bytes] [mapped with DMA_FROM_DEVICE]",
			(unsigned long long)a));
	/* The right way: nothing. */
	assert_int_equal(swiommu_dma_write(nc, 0, a, "rx", 3), 0);
	dma_sync_single_for_cpu(nc, a, 64, DMA_FROM_DEVICE);
	assert_string_equal(buf, "rx");
	dma_sync_single_for_device(nc, a, 64, DMA_FROM_DEVICE);
	dma_unmap_page(nc, a, 64, DMA_FROM_DEVICE);
	assert_int_equal(swiommu_dma_debug_errors(), 1);
	/* A coherent device sees no stale lines: nothing to report. */
	a = map(dev, pg, 0, 64, DMA_FROM_DEVICE);
	assert_int_equal(swiommu_dma_write(dev, 0, a, "rx", 3), 0);
	dma_sync_single_for_device(dev, a, 64, DMA_FROM_DEVICE);
	dma_unmap_page(dev, a, 64, DMA_FROM_DEVICE);
	assert_int_equal(swiommu_dma_debug_errors(), 1);
}

/* The newest record is a CPU trap report of this access (its ip varies with the build). */
static void assert_trapped(unsigned long errors, const char *access, dma_addr_t a, unsigned int size, const char *dir,
			   unsigned int offset)
{
	struct swiommu_dma_debug_record r;

	assert_int_equal(swiommu_dma_debug_errors(), errors);
	assert_int_equal(swiommu_dma_debug_record(swiommu_dma_debug_record_count() - 1, &r), 0);
	assert_int_equal(r.kind, SWIOMMU_DMA_DEBUG_CPU_ACCESS_DEVICE_OWNED);
	assert_string_equal(swiommu_dma_debug_kind_name(r.kind), "CPU_ACCESS_DEVICE_OWNED");
	assert_ptr_equal(r.dev, nc);
	assert_int_equal(r.address, a);
	assert_int_equal(r.size, size);
	assert_non_null(strstr(r.message, msg(NONCOH "swiommu: CPU %s DMA memory the device owns [device address=0x%016llx] "
					      "[size=%u bytes] [mapped with %s] [offset=%u] [ip=0x", access,
					      (unsigned long long)a, size, dir, offset)));
	assert_non_null(strstr(r.message, "]: no dma_sync_*_for_cpu() or dma_unmap_*() first"));
}

static void the_cpu_trap_catches_the_access_itself(void **state)
{
	(void)state;
	volatile char *buf = page_address(pg);
	char back[4];

	assert_int_equal(swiommu_dma_debug_trap_cpu_access(true), 0);
	dma_addr_t a = map(nc, pg, 0, 64, DMA_FROM_DEVICE);

	assert_int_equal(swiommu_dma_write(nc, 0, a, "rx", 3), 0);
	/* The mistake: a read before dma_sync_single_for_cpu(). It reads what the hardware would: stale lines. */
	assert_int_equal(buf[1], 0);
	assert_trapped(1, "read of", a, 64, "DMA_FROM_DEVICE", 1);
	/* Another object in the same host page is the CPU's: usable, not reported. */
	buf[2048] = 'n';
	assert_int_equal(buf[2048], 'n');
	assert_int_equal(swiommu_dma_debug_errors(), 1);
	/* The right way: the buffer is the CPU's after the sync, and the device's again after the next one. */
	dma_sync_single_for_cpu(nc, a, 64, DMA_FROM_DEVICE);
	memcpy(back, (const char *)buf, 3);
	assert_string_equal(back, "rx");
	dma_sync_single_for_device(nc, a, 64, DMA_FROM_DEVICE);
	assert_int_equal(swiommu_dma_debug_errors(), 1);
	/* A write while the device owns it: its dirty line could land over the device's data. */
	buf[8] = 'w';
	dma_unmap_page(nc, a, 64, DMA_FROM_DEVICE);
	assert_trapped(2, "write to", a, 64, "DMA_FROM_DEVICE", 8);
	/* After the unmap the memory is the CPU's again. */
	buf[8] = 0;
	assert_int_equal(swiommu_dma_debug_errors(), 2);
	assert_int_equal(swiommu_dma_debug_trap_cpu_access(false), 0);
}

static void the_cpu_trap_watches_lists_and_only_what_the_device_may_write(void **state)
{
	(void)state;
	struct scatterlist sg[2];
	volatile char *second = page_address(pg + 1);

	assert_int_equal(swiommu_dma_debug_trap_cpu_access(true), 0);
	/* A list: every entry closed, released by the list. */
	sg_init_table(sg, 2);
	sg_set_page(&sg[0], pg, 256, 0);
	sg_set_page(&sg[1], pg + 1, 256, 0);
	assert_int_equal(dma_map_sg(nc, sg, 2, DMA_BIDIRECTIONAL), 2);
	assert_int_equal(second[255], 0);
	assert_trapped(1, "read of", sg_dma_address(&sg[1]), 256, "DMA_BIDIRECTIONAL", 255);
	dma_sync_sg_for_cpu(nc, sg, 2, DMA_BIDIRECTIONAL);
	second[0] = 's';
	/* The device reads the CPU's data after the sync for the device (its checksum is not a CPU access). */
	dma_sync_sg_for_device(nc, sg, 2, DMA_BIDIRECTIONAL);
	char back[2];

	assert_int_equal(swiommu_dma_read(nc, 0, sg_dma_address(&sg[1]), back, 1), 0);
	assert_int_equal(back[0], 's');
	dma_unmap_sg(nc, sg, 2, DMA_BIDIRECTIONAL);
	assert_int_equal(swiommu_dma_debug_errors(), 1);
	/* DMA_TO_DEVICE: the device only reads, the CPU may read along. A coherent device: nothing to trap. */
	dma_addr_t a = map(nc, pg + 1, 0, 64, DMA_TO_DEVICE);

	assert_int_equal(second[0], 's');
	dma_unmap_page(nc, a, 64, DMA_TO_DEVICE);
	a = map(dev, pg + 1, 0, 64, DMA_FROM_DEVICE);
	assert_int_equal(second[0], 's');
	dma_unmap_page(dev, a, 64, DMA_FROM_DEVICE);
	assert_int_equal(swiommu_dma_debug_errors(), 1);
	/* Off: nothing is closed any more. */
	a = map(nc, pg + 1, 0, 64, DMA_FROM_DEVICE);
	assert_int_equal(swiommu_dma_debug_trap_cpu_access(false), 0);
	assert_int_equal(second[0], 's');
	dma_unmap_page(nc, a, 64, DMA_FROM_DEVICE);
	assert_int_equal(swiommu_dma_debug_errors(), 1);
	second[0] = 0;
}

/* What the trace callback of the unmap below did: it maps the address that unmap just freed, again. */
static struct {
	struct device *dev;
	dma_addr_t again;
	int write;
	bool done;
} reuse;

static void map_again_in_the_unmap(const char *system, const char *event, const char *line, void *data)
{
	(void)system; (void)line; (void)data;
	if (strcmp(event, "dma_unmap_page") != 0 || reuse.done)
		return;
	reuse.done = true;
	reuse.again = dma_map_page(reuse.dev, pg, 64, 64, DMA_FROM_DEVICE);
	if (dma_mapping_error(reuse.dev, reuse.again))
		return;
	reuse.write = swiommu_dma_write(reuse.dev, 0, reuse.again, "rx", 3);
	dma_unmap_page(reuse.dev, reuse.again, 64, DMA_FROM_DEVICE);
}

/*
 * Once an unmap has freed its IOVA, another thread may map it again at once (the IOVA rcache hands the last
 * freed range out first). dma-debug forgets the old mapping before the backend frees the address, so the
 * device's access to the new mapping never meets the old entry (here: "device wrote device read-only DMA
 * memory" of the old DMA_TO_DEVICE mapping). The trace event of dma_unmap_page, emitted after the backend,
 * stands in for the other thread.
 */
static void an_iova_mapped_again_while_its_unmap_returns(void **state)
{
	(void)state;
	struct device *eng = swiommu_find_device(ENGINE_PATH);

	memset(&reuse, 0, sizeof(reuse));
	reuse.dev = eng;
	dma_addr_t a = map(eng, pg, 0, 64, DMA_TO_DEVICE);

	assert_int_equal(swiommu_trace_enable("dma:dma_unmap_page"), 0);
	swiommu_trace_set_callback(map_again_in_the_unmap, NULL);
	dma_unmap_page(eng, a, 64, DMA_TO_DEVICE);
	swiommu_trace_set_callback(NULL, NULL);
	swiommu_trace_enable(NULL);
	assert_true(reuse.done);
	assert_int_equal(reuse.again, a + 64);	/* the IOVA page the unmap freed */
	assert_int_equal(reuse.write, 0);
	if (swiommu_dma_debug_errors())
		fail_msg("%s", swiommu_dma_debug_last());
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(correct_use_reports_nothing),
		TEST(each_channel_route_of_a_multi_map_is_tracked),
		TEST(freeing_memory_never_mapped_or_with_another_size),
		TEST(freeing_with_the_wrong_function),
		TEST(freeing_coherent_memory_with_another_cpu_address),
		TEST(freeing_a_noncoherent_block_with_another_page),
		TEST(a_list_synced_or_unmapped_with_another_count),
		TEST(unmapping_without_checking_the_map_error),
		TEST(syncing_memory_never_mapped_or_past_the_mapping),
		TEST(syncing_and_freeing_with_another_direction),
		TEST(syncing_device_read_only_memory_for_the_cpu),
		TEST(syncing_device_write_only_memory_to_the_device),
		TEST(mapping_memory_from_the_stack),
		TEST(mapping_program_text_or_rodata),
		TEST(mapping_memory_that_is_not_the_linear_map),
		TEST(vmalloc_memory_never_reaches_dma_debug),
		TEST(a_segment_longer_than_the_device_supports),
		TEST(a_segment_across_the_boundary),
		TEST(two_live_mappings_of_one_cache_line),
		TEST(more_than_seven_overlaps_of_one_cache_line),
		TEST(pending_mappings_when_the_driver_goes),
		TEST(dumping_the_mappings),
		TEST(the_filter_hides_other_devices),
		TEST(switched_off_it_tracks_nothing),
		TEST(records_are_kept_newest_last),
		TEST(the_device_reads_what_the_cpu_wrote_after_the_map),
		TEST(the_device_writes_memory_it_does_not_own),
		TEST(the_device_reaches_an_unmapped_iova_through_a_stale_iotlb_entry),
		TEST(the_cpu_takes_back_what_a_noncoherent_device_wrote_without_a_sync),
		TEST(the_cpu_trap_catches_the_access_itself),
		TEST(the_cpu_trap_watches_lists_and_only_what_the_device_may_write),
		TEST(an_iova_mapped_again_while_its_unmap_returns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
