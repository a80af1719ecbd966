// SPDX-License-Identifier: MIT
// Fault injection, error paths: unknown points, out-of-range attributes, bad environment values, and a
// sweep of an unmodified binary through tools/fail-sweep.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/err.h>
#include <linux/slab.h>
#include <swiommu/swiommu.h>
#include "swiommu_test.h"

static void unknown_points_and_bad_attributes(void **state)
{
	(void)state;
	struct swiommu_fault_attr too_much = { .probability = 101, .interval = 1, .times = -1 };

	assert_int_equal(swiommu_fail_nth("kmallock", 1), -EINVAL);
	assert_true(swiommu_log_contains("unknown fault-injection point 'kmallock' (known: kmalloc, alloc_pages, "
					 "vmalloc, iova, swiotlb, iommu_map, attach, probe)"));
	assert_int_equal(swiommu_fail_nth(NULL, 1), -EINVAL);
	assert_int_equal(swiommu_fault_set("nowhere", &too_much), -EINVAL);
	assert_int_equal(swiommu_fault_set("kmalloc", &too_much), -EINVAL);
	assert_true(swiommu_log_contains("probability 101 is above 100"));
	assert_int_equal(swiommu_fault_injected("nowhere"), 0);
	assert_int_equal(swiommu_fault_injected(NULL), 0);
	/* Disarming what is not armed is fine. */
	assert_int_equal(swiommu_fail_nth("kmalloc", 0), 0);
	assert_int_equal(swiommu_fault_set("kmalloc", NULL), 0);
	void *p = kmalloc(8, GFP_KERNEL);

	assert_non_null(p);
	kfree(p);
}

static void bad_environment_values_are_reported(void **state)
{
	(void)state;
	swiommu_exit();
	setenv("SWIOMMU_FAIL_NTH", "kmalloc:zero,nowhere:3", 1);
	setenv("SWIOMMU_FAULT", "kmalloc:probability=ten;iova:colour=blue", 1);
	swiommu_log_reset();
	assert_int_equal(swiommu_init(NULL), 0);
	unsetenv("SWIOMMU_FAIL_NTH");
	unsetenv("SWIOMMU_FAULT");
	assert_true(swiommu_log_contains("SWIOMMU_FAIL_NTH: 'kmalloc:zero' is not point:n"));
	assert_true(swiommu_log_contains("SWIOMMU_FAIL_NTH: 'nowhere:3' is not point:n"));
	assert_true(swiommu_log_contains("SWIOMMU_FAULT: 'kmalloc:probability=ten': expected key=value"));
	assert_true(swiommu_log_contains("SWIOMMU_FAULT: 'iova:colour=blue': expected key=value"));
	/* Nothing was armed. */
	void *p = kmalloc(8, GFP_KERNEL);

	assert_non_null(p);
	kfree(p);
}

/* The sweep tool against the hello example: kmalloc 1 fails the test (its assertion), kmalloc 2 is not
 * reached; no run leaks or crashes. */
static void a_sweep_of_an_unmodified_binary(void **state)
{
	(void)state;
	char cmd[512];
	char out[4096] = { 0 };

	snprintf(cmd, sizeof(cmd), "%s/tools/fail-sweep kmalloc %s/hello 2>&1", SWIOMMU_SOURCE_DIR, SWIOMMU_BINARY_DIR);
	FILE *f = popen(cmd, "r");

	assert_non_null(f);
	size_t n = fread(out, 1, sizeof(out) - 1, f);

	out[n] = 0;
	assert_int_equal(pclose(f), 0);
	assert_non_null(strstr(out, "kmalloc:1: exit 1, 1 boot(s) failed it, 0 WARN(s): ok"));
	assert_non_null(strstr(out, "kmalloc:2: not reached: the path completed after 1 injected failure(s)"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(unknown_points_and_bad_attributes, boot, shut_down),
		cmocka_unit_test_setup_teardown(bad_environment_values_are_reported, boot, shut_down),
		cmocka_unit_test(a_sweep_of_an_unmodified_binary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
