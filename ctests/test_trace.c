// SPDX-License-Identifier: MIT
// Tracing: the kernel's event names and TP_printk text, ftrace's line prefix, the file with ftrace's
// header, the callback, and nothing recorded while events are off. Bad names and paths: test_trace_fail.c.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <swiommu/swiommu.h>
#include "dma_test.h"

#define ETH "/soc/ethernet@fe600000"

static int trace_teardown(void **state)
{
	swiommu_trace_enable(NULL);
	swiommu_trace_set_callback(NULL, NULL);
	swiommu_trace_open(NULL);
	return shut_down(state);
}

static void iommu_events_carry_the_kernels_text(void **state)
{
	(void)state;
	struct device *eth = swiommu_find_device(ETH);
	struct iommu_domain *d = iommu_paging_domain_alloc(eth);
	struct page *pg = alloc_page(GFP_KERNEL);
	phys_addr_t pa = page_to_phys(pg);
	char expect[160];
	char b[4];

	swiommu_trace_reset();
	assert_int_equal(swiommu_trace_enable("iommu:*"), 0);
	assert_int_equal(iommu_attach_device(d, eth), 0);
	assert_true(swiommu_trace_contains("attach_device_to_domain: IOMMU: device=fe600000.ethernet"));
	assert_int_equal(iommu_map(d, 0x100000, pa, SZ_4K, IOMMU_READ, GFP_KERNEL), 0);
	snprintf(expect, sizeof(expect), "map: IOMMU: iova=0x0000000000100000 - 0x0000000000101000 paddr=0x%016llx size=4096",
		 (unsigned long long)pa);
	assert_true(swiommu_trace_contains(expect));
	assert_int_equal(swiommu_dma_read(eth, 0, 0x200010, b, 1), -EFAULT);
	assert_true(swiommu_trace_contains("io_page_fault: IOMMU:platform fe600000.ethernet iova=0x0000000000200010 flags=0x0000"));
	assert_int_equal(iommu_unmap(d, 0x100000, SZ_4K), SZ_4K);
	assert_true(swiommu_trace_contains("unmap: IOMMU: iova=0x0000000000100000 - 0x0000000000101000 size=4096 unmapped_size=4096"));
	/* ftrace's prefix: task-pid, [cpu], the irq-info flags, seconds.microseconds, the event. */
	regex_t re;

	assert_int_equal(regcomp(&re, "^ *[^ ]+-[0-9]+ +\\[[0-9]{3}\\] \\.\\.\\.\\.\\. +[0-9]+\\.[0-9]{6}: unmap: IOMMU: ",
				 REG_EXTENDED), 0);
	assert_int_equal(regexec(&re, swiommu_trace_last(), 0, NULL, 0), 0);
	regfree(&re);
	assert_int_equal(swiommu_trace_count(), 4);
	iommu_detach_device(d, eth);
	iommu_domain_free(d);
	__free_page(pg);
}

static void swiotlb_bounces_are_traced(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(DMA32_PATH);
	char *buf = kmalloc(256, GFP_KERNEL);	/* above 4 GiB: the 32-bit master bounces */

	assert_int_equal(swiommu_trace_enable("swiotlb:swiotlb_bounced"), 0);
	dma_addr_t a = dma_map_single(dev, buf, 256, DMA_TO_DEVICE);

	assert_false(dma_mapping_error(dev, a));
	char expect[160];

	snprintf(expect, sizeof(expect), "swiotlb_bounced: dev_name: fe700000.dma32 dma_mask=ffffffff dev_addr=%llx size=256 NORMAL",
		 (unsigned long long)virt_to_phys(buf));
	assert_true(swiommu_trace_contains(expect));
	dma_unmap_single(dev, a, 256, DMA_TO_DEVICE);
	kfree(buf);
}

static void dma_events_carry_the_kernels_text(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(NONCOH_PATH);
	struct page *pg = alloc_page(GFP_DMA32);
	char expect[200];
	dma_addr_t handle;

	assert_int_equal(swiommu_trace_enable("dma:*"), 0);
	dma_addr_t a = dma_map_page(dev, pg, 0, 4096, DMA_FROM_DEVICE);

	assert_false(dma_mapping_error(dev, a));
	snprintf(expect, sizeof(expect), "dma_map_page: fe710000.noncoherent dir=FROM_DEVICE dma_addr=%llx size=4096 phys_addr=%llx attrs=",
		 (unsigned long long)a, (unsigned long long)page_to_phys(pg));
	assert_true(swiommu_trace_contains(expect));
	dma_sync_single_for_cpu(dev, a, 64, DMA_FROM_DEVICE);
	snprintf(expect, sizeof(expect), "dma_sync_single_for_cpu: fe710000.noncoherent dir=FROM_DEVICE dma_addr=%llx size=64",
		 (unsigned long long)a);
	assert_true(swiommu_trace_contains(expect));
	dma_unmap_page_attrs(dev, a, 4096, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
	snprintf(expect, sizeof(expect), "dma_unmap_page: fe710000.noncoherent dir=FROM_DEVICE dma_addr=%llx size=4096 attrs=SKIP_CPU_SYNC",
		 (unsigned long long)a);
	assert_true(swiommu_trace_contains(expect));
	void *cpu = dma_alloc_coherent(dev, 8192, &handle, GFP_KERNEL);

	assert_non_null(cpu);
	snprintf(expect, sizeof(expect), "dma_alloc: fe710000.noncoherent dir=BIDIRECTIONAL dma_addr=%llx size=8192 virt_addr=%p",
		 (unsigned long long)handle, cpu);
	assert_true(swiommu_trace_contains(expect));
	dma_free_coherent(dev, 8192, cpu, handle);
	assert_true(swiommu_trace_contains("dma_free: fe710000.noncoherent dir=BIDIRECTIONAL"));
	__free_page(pg);
}

static int seen;
static char seen_system[16], seen_event[32];

static void callback(const char *system, const char *event, const char *line, void *data)
{
	assert_ptr_equal(data, &seen);
	assert_non_null(strstr(line, event));
	seen++;
	snprintf(seen_system, sizeof(seen_system), "%s", system);
	snprintf(seen_event, sizeof(seen_event), "%s", event);
}

static void the_file_and_the_callback_get_every_event(void **state)
{
	(void)state;
	char path[64], text[4096] = { 0 };
	struct device *eth = swiommu_find_device(ETH);
	struct iommu_domain *d = iommu_get_dma_domain(eth);
	struct page *pg = alloc_page(GFP_KERNEL);

	snprintf(path, sizeof(path), "/tmp/swiommu-trace-%d.txt", (int)getpid());
	assert_int_equal(swiommu_trace_open(path), 0);
	swiommu_trace_set_callback(callback, &seen);
	assert_int_equal(swiommu_trace_enable("iommu:map, iommu:unmap"), 0);
	assert_int_equal(iommu_map(d, 0x300000, page_to_phys(pg), SZ_4K, IOMMU_READ, GFP_KERNEL), 0);
	assert_int_equal(iommu_unmap(d, 0x300000, SZ_4K), SZ_4K);
	assert_int_equal(seen, 2);
	assert_string_equal(seen_system, "iommu");
	assert_string_equal(seen_event, "unmap");
	assert_int_equal(swiommu_trace_open(NULL), 0);
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	size_t n = fread(text, 1, sizeof(text) - 1, f);

	text[n] = 0;
	fclose(f);
	remove(path);
	assert_true(strncmp(text, "# tracer: nop\n#\n", 16) == 0);
	assert_non_null(strstr(text, "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n"));
	assert_non_null(strstr(text, ": map: IOMMU: iova=0x0000000000300000"));
	assert_non_null(strstr(text, ": unmap: IOMMU: iova=0x0000000000300000"));
	/* Off: nothing is recorded. */
	swiommu_trace_reset();
	assert_int_equal(swiommu_trace_enable(""), 0);
	assert_int_equal(iommu_map(d, 0x300000, page_to_phys(pg), SZ_4K, IOMMU_READ, GFP_KERNEL), 0);
	assert_int_equal(iommu_unmap(d, 0x300000, SZ_4K), SZ_4K);
	assert_int_equal(swiommu_trace_count(), 0);
	assert_string_equal(swiommu_trace_last(), "");
	assert_int_equal(seen, 2);
	__free_page(pg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(iommu_events_carry_the_kernels_text, boot, trace_teardown),
		cmocka_unit_test_setup_teardown(swiotlb_bounces_are_traced, boot_and_bind, trace_teardown),
		cmocka_unit_test_setup_teardown(dma_events_carry_the_kernels_text, boot_and_bind, trace_teardown),
		cmocka_unit_test_setup_teardown(the_file_and_the_callback_get_every_event, boot, trace_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
