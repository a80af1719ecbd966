/* SPDX-License-Identifier: MIT */
/* What the suites of the driver prototypes (examples/drivers) share: devices, patterns, leak checks. */
#ifndef SWIOMMU_CTESTS_EXAMPLES_TEST_H
#define SWIOMMU_CTESTS_EXAMPLES_TEST_H

#include <string.h>
#include <linux/types.h>
#include <linux/platform_device.h>
#include <swiommu/swiommu.h>
#include "swiommu_examples.h"

/*
 * dma-debug (issue 8) is not in this tree yet. TODO(dma-debug): once <swiommu/dma_debug.h> lands, build
 * the suites with SWIOMMU_EXAMPLES_DMA_DEBUG defined (or drop the #if) so that these expectations run:
 * expect_dma_debug_clean() after every driver path, expect_dma_debug_error() where a test makes a
 * driver misuse the DMA API on purpose.
 */
#ifdef SWIOMMU_EXAMPLES_DMA_DEBUG
#include <swiommu/dma_debug.h>
#define dma_debug_mark()			swiommu_dma_debug_errors()
#define expect_dma_debug_clean(mark)		assert_int_equal(swiommu_dma_debug_errors(), (mark))
#define expect_dma_debug_error(mark, message)						\
	do {										\
		assert_int_equal(swiommu_dma_debug_errors(), (mark) + 1);		\
		assert_non_null(strstr(swiommu_dma_debug_last(), (message)));		\
	} while (0)
#else
#define dma_debug_mark()			0UL
#define expect_dma_debug_clean(mark)		((void)(mark))
#define expect_dma_debug_error(mark, message)	((void)(mark), (void)(message))
#endif

/* A device of the default board, which must exist. */
static inline struct device *dev_at(const char *path)
{
	struct device *dev = swiommu_find_device(path);

	assert_non_null(dev);
	return dev;
}

/* The scenarios' frames: a different byte at every offset, per seed. */
#define fill_pattern(buf, len, seed)	swiommu_example_fill(buf, len, seed)
#define has_pattern(buf, len, seed)	swiommu_example_check(buf, len, seed)

/* Binding a driver (what insmod would do), as an attempt for sweep_fault_point(): the driver is left
 * registered only when it bound the device. */
struct bind_attempt {
	struct platform_driver *driver;
	struct device *dev;
};

static inline int try_bind(void *arg)
{
	struct bind_attempt *b = arg;

	assert_int_equal(platform_driver_register(b->driver), 0);
	if (device_is_bound(b->dev))
		return 0;
	platform_driver_unregister(b->driver);
	return -ENODEV;
}

static inline void undo_bind(void *arg)
{
	struct bind_attempt *b = arg;

	platform_driver_unregister(b->driver);
}

/* Take the machine down; nothing the drivers or the test allocated may be left (the exit leak report). */
static inline void assert_exit_leaks_nothing(void)
{
	swiommu_log_reset();
	swiommu_exit();
	assert_false(swiommu_log_contains("leak:"));
	assert_false(swiommu_log_contains("allocation(s) leaked"));
}

/*
 * Fault injection over one point: make the 1st call at @point fail while @attempt runs, then the 2nd, and
 * so on, until @attempt runs without reaching the nth call. Every failed attempt must return a negative
 * errno and leave nothing allocated (what it allocated since boot is what it was before); a successful one
 * is undone with @undo. Call it after one warm-up round, so that tables and caches a first call fills for
 * good are there already. Return: how many failures were injected.
 */
static inline unsigned int __sweep_fault_point(const char *point, int (*attempt)(void *), void (*undo)(void *),
					       void *arg, bool tables_may_grow)
{
	unsigned int injected = 0;

	for (unsigned long nth = 1; nth < 10000; nth++) {
		long live = swiommu_mem_check_leaks(false);
		unsigned long before = swiommu_fault_injected(point);
		int ret;

		assert_int_equal(swiommu_fail_nth(point, nth), 0);
		ret = attempt(arg);
		assert_int_equal(swiommu_fail_nth(point, 0), 0);
		if (swiommu_fault_injected(point) == before) {
			/* Not reached: the path completed. */
			assert_int_equal(ret, 0);
			undo(arg);
			return injected;
		}
		injected++;
		if (ret == 0) {
			/* The path survived this failure (a fallback): it must still work and undo cleanly. */
			undo(arg);
		} else {
			assert_true(ret < 0);
		}
		if (tables_may_grow)
			continue;
		if (swiommu_mem_check_leaks(false) != live) {
			print_message("%s: failing call %lu left allocations behind:\n", point, nth);
			swiommu_log_set_console_level(4);
			swiommu_mem_check_leaks(true);
		}
		assert_int_equal(swiommu_mem_check_leaks(false), live);
	}
	fail_msg("%s: the path never completed", point);
	return injected;
}

#define sweep_fault_point(point, attempt, undo, arg) __sweep_fault_point(point, attempt, undo, arg, false)

/*
 * The same where a failure may take a fallback that maps with smaller pages, so the device's default
 * domain keeps more table pages (an IOMMU keeps its lower-level tables until the domain goes, as
 * exynos-iommu and rockchip-iommu do): the allocations are then checked at swiommu_exit(), with every
 * domain gone (assert_exit_leaks_nothing()).
 */
#define sweep_fault_point_tables_grow(point, attempt, undo, arg) __sweep_fault_point(point, attempt, undo, arg, true)

/* A scenario of the demo ran clean, with no dma-debug finding. */
static inline void assert_scenario_clean(const struct swiommu_example_report *r, int ret)
{
	if (ret)
		for (unsigned int i = 0; i < r->num_notes; i++)
			print_message("%s\n", r->notes[i]);
	assert_int_equal(ret, 0);
	assert_int_equal(r->error, 0);
	assert_int_equal(r->dma_debug, 0);
	assert_true(r->num_notes > 0);
}

#endif /* SWIOMMU_CTESTS_EXAMPLES_TEST_H */
