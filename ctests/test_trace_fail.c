// SPDX-License-Identifier: MIT
// Tracing, error paths: names that are no event, a file that cannot be opened, NULL arguments.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <linux/errno.h>
#include <swiommu/swiommu.h>
#include "swiommu_test.h"

static void bad_names_and_paths(void **state)
{
	(void)state;
	assert_int_equal(swiommu_trace_enable("iommu:map"), 0);
	assert_int_equal(swiommu_trace_enable("iommu:mapp"), -EINVAL);
	assert_true(swiommu_log_contains("swiommu_trace_enable: no event 'iommu:mapp' (known: iommu:add_device_to_group"));
	assert_int_equal(swiommu_trace_enable("nothing:*"), -EINVAL);
	assert_int_equal(swiommu_trace_enable("dma:dma_map_page,bogus"), -EINVAL);
	/* A bad list changes nothing: iommu:map is still on, dma:* still off. */
	assert_int_equal(swiommu_trace_enable("*"), 0);
	assert_int_equal(swiommu_trace_enable(NULL), 0);
	assert_int_equal(swiommu_trace_open("/nonexistent-dir/trace.txt"), -ENOENT);
	assert_int_equal(swiommu_trace_open(NULL), 0);
	assert_false(swiommu_trace_contains(NULL));
	swiommu_trace_set_callback(NULL, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(bad_names_and_paths, boot, shut_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
