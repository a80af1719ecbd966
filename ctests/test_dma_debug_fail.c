// SPDX-License-Identifier: MIT
// Error paths of dma-debug's own API and machinery: bad arguments, the abort switch (in a child process), the
// entry pool growing past its first size, what is found while the machine goes down, and the filter against
// a driver that is gone.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/dma-mapping.h>
#include <linux/dma-map-ops.h>
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/platform_device.h>
#include <swiommu/swiommu.h>
#include "dma_test.h"

#define MANY	7200

static void the_pool_grows_past_its_first_size(void **state)
{
	(void)state;
	/* First in the process: the pool still has its first 4096 entries. */
	struct device *dev = swiommu_find_device(DMA32_PATH);
	struct page *pg = alloc_page(GFP_DMA32);
	static dma_addr_t a[MANY];
	int i;

	assert_true(swiommu_log_contains("DMA-API: preallocated 4096 debug entries"));
	for (i = 0; i < MANY; i++) {
		a[i] = dma_map_page(dev, pg, (size_t)i % PAGE_SIZE, 1, DMA_TO_DEVICE);
		assert_int_equal(dma_mapping_error(dev, a[i]), 0);
	}
	assert_int_equal(swiommu_dma_debug_mappings(NULL), MANY);
	/* The kernel's message each time the pool passes a multiple of its first size. */
	assert_true(swiommu_log_contains("DMA-API: dma_debug_entry pool grown to 8192 (200%)"));
	for (i = 0; i < MANY; i++)
		dma_unmap_page(dev, a[i], 1, DMA_TO_DEVICE);
	assert_int_equal(swiommu_dma_debug_mappings(NULL), 0);
	assert_int_equal(swiommu_dma_debug_errors(), 0);
	__free_page(pg);
}

static void bad_arguments(void **state)
{
	(void)state;
	struct swiommu_dma_debug_record r;
	char name[SWIOMMU_DMA_DEBUG_NAME_MAX + 1];

	assert_int_equal(swiommu_dma_debug_record(0, NULL), -EINVAL);
	assert_int_equal(swiommu_dma_debug_record(0, &r), -ENOENT);	/* nothing found yet */
	dma_unmap_single(swiommu_find_device(DMA32_PATH), 0x1000, 64, DMA_TO_DEVICE);
	assert_int_equal(swiommu_dma_debug_record(0, &r), 0);
	assert_int_equal(swiommu_dma_debug_record(1, &r), -ENOENT);
	assert_int_equal(swiommu_dma_debug_record(~0UL, &r), -ENOENT);
	/* Names as long as the kernel's driver_filter takes (NAME_MAX_LEN - 1), no longer. */
	memset(name, 'a', sizeof(name) - 1);
	name[SWIOMMU_DMA_DEBUG_NAME_MAX] = '\0';
	assert_int_equal(swiommu_dma_debug_set_filter(name), -EINVAL);
	name[SWIOMMU_DMA_DEBUG_NAME_MAX - 1] = '\0';
	assert_int_equal(swiommu_dma_debug_set_filter(name), 0);
	assert_int_equal(swiommu_dma_debug_set_filter(""), 0);
	assert_string_equal(swiommu_dma_debug_kind_name((enum swiommu_dma_debug_kind)999), "UNKNOWN");
	assert_int_equal(swiommu_dma_debug_mappings(ERR_PTR(-EINVAL)), 0);
	debug_dma_dump_mappings(ERR_PTR(-EINVAL));	/* ignored */
	assert_int_equal(swiommu_dma_debug_errors(), 1);
}

static void abort_stops_at_the_first_error(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(DMA32_PATH);
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit none = { 0, 0 };

		setrlimit(RLIMIT_CORE, &none);
		swiommu_dma_debug_set_abort(true);
		dma_unmap_single(dev, 0x1000, 64, DMA_TO_DEVICE);
		_exit(0);	/* not reached */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
	/* Off by default: here the same mistake is only reported. */
	dma_unmap_single(dev, 0x1000, 64, DMA_TO_DEVICE);
	assert_int_equal(swiommu_dma_debug_errors(), 1);
}

static void what_shutdown_finds_stays_readable(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(DMA32_PATH);
	struct page *pg = alloc_page(GFP_DMA32);
	dma_addr_t a = dma_map_page(dev, pg, 0, 64, DMA_TO_DEVICE);
	char want[256];

	assert_int_equal(dma_mapping_error(dev, a), 0);
	__free_page(pg);
	snprintf(want, sizeof(want), "DMA-API: platform fe700000.dma32: device driver has pending DMA allocations while "
		 "released from device [count=1]\nOne of leaked entries details: [device address=0x%016llx] "
		 "[size=64 bytes] [mapped with DMA_TO_DEVICE] [mapped as single]", (unsigned long long)a);
	/* swiommu_exit() unbinds every driver: the leak check runs then. */
	swiommu_exit();
	assert_int_equal(swiommu_dma_debug_errors(), 1);
	assert_string_equal(swiommu_dma_debug_last(), want);
	assert_int_equal(swiommu_dma_debug_mappings(NULL), 0);
	/* The next boot starts afresh. */
	assert_int_equal(boot_and_bind(NULL), 0);
	assert_int_equal(swiommu_dma_debug_errors(), 0);
	assert_string_equal(swiommu_dma_debug_last(), "");
}

static void a_driver_filter_loses_the_driver_at_unbind(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(DMA32_PATH);
	struct page *pg = alloc_page(GFP_DMA32);
	dma_addr_t a = dma_map_page(dev, pg, 0, 64, DMA_TO_DEVICE);

	assert_int_equal(dma_mapping_error(dev, a), 0);
	/* As the kernel's driver_filter: the leak is reported once dev->driver is gone, so it does not match. */
	assert_int_equal(swiommu_dma_debug_set_filter("dma-test"), 0);
	platform_driver_unregister(&dma_test_driver);
	assert_int_equal(swiommu_dma_debug_errors(), 1);
	assert_int_equal(swiommu_dma_debug_record_count(), 0);
	/* A device-name filter still matches. */
	assert_int_equal(swiommu_dma_debug_set_filter("fe700000.dma32"), 0);
	assert_int_equal(platform_driver_register(&dma_test_driver), 0);
	platform_driver_unregister(&dma_test_driver);
	assert_int_equal(swiommu_dma_debug_errors(), 2);
	assert_int_equal(swiommu_dma_debug_record_count(), 1);
	assert_int_equal(swiommu_dma_debug_set_filter(NULL), 0);
	assert_int_equal(platform_driver_register(&dma_test_driver), 0);
	dma_unmap_page(dev, a, 64, DMA_TO_DEVICE);
	__free_page(pg);
}

/* The CPU trap's handlers pass on faults that are not theirs: a real bug still stops the program (in a child). */
static void the_cpu_trap_leaves_real_faults_fatal(void **state)
{
	(void)state;
	int status;

	assert_int_equal(swiommu_dma_debug_trap_cpu_access(true), 0);
	assert_int_equal(swiommu_dma_debug_trap_cpu_access(true), 0);	/* twice: no change */
	assert_int_equal(swiommu_dma_debug_trap_cpu_access(false), 0);
	fflush(NULL);
	pid_t pid = fork();

	if (pid == 0) {
		volatile uintptr_t bad = 16;	/* not a constant: the compiler cannot see the bug */

		/* The handler before the trap's is the default one (not cmocka's, which would carry on). */
		signal(SIGSEGV, SIG_DFL);
		if (swiommu_dma_debug_trap_cpu_access(true))
			_exit(3);
		*(volatile int *)bad = 1;
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSEGV);
}

/* With dma-debug off nothing is tracked, so nothing is closed: the trap needs it. */
static void the_cpu_trap_without_dma_debug_closes_nothing(void **state)
{
	(void)state;
	struct device *nc = swiommu_find_device(NONCOH_PATH);
	struct page *pg = alloc_page(GFP_DMA32 | __GFP_ZERO);
	volatile char *buf = page_address(pg);

	assert_int_equal(swiommu_dma_debug_trap_cpu_access(true), 0);
	assert_int_equal(swiommu_dma_debug_enable(false), 0);
	dma_addr_t a = dma_map_page(nc, pg, 0, 64, DMA_FROM_DEVICE);

	assert_false(dma_mapping_error(nc, a));
	assert_int_equal(buf[0], 0);
	dma_unmap_page(nc, a, 64, DMA_FROM_DEVICE);
	assert_int_equal(swiommu_dma_debug_errors(), 0);
	assert_int_equal(swiommu_dma_debug_trap_cpu_access(false), 0);
	__free_page(pg);
}

/* Shut down, then switch dma-debug back on for the next boot. */
static int shut_down_and_reenable(void **state)
{
	int ret = unbind_and_shut_down(state);

	assert_int_equal(swiommu_dma_debug_enable(true), 0);
	return ret;
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, boot_and_bind, unbind_and_shut_down)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(the_pool_grows_past_its_first_size),
		TEST(bad_arguments),
		TEST(abort_stops_at_the_first_error),
		TEST(what_shutdown_finds_stays_readable),
		TEST(a_driver_filter_loses_the_driver_at_unbind),
		TEST(the_cpu_trap_leaves_real_faults_fatal),
		cmocka_unit_test_setup_teardown(the_cpu_trap_without_dma_debug_closes_nothing, boot_and_bind, shut_down_and_reenable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
