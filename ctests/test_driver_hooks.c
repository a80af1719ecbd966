// SPDX-License-Identifier: MIT
// The IOMMU driver hooks the core calls as 6.17 does: def_domain_type combined over a whole group before its
// default domain is chosen, a legacy driver's static default_domain, release_domain attached before
// release_device, and iommu_group_remove_device()'s teardown of a probed device.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "driver_hooks.h"

static void the_default_domain_type_is_the_whole_groups(void **state)
{
	(void)state;
	/* Only b, the second master of the group, asks for IDENTITY: the group's domain is chosen once both
	 * have joined (bus_iommu_probe), so a gets it too. c asks nothing: the global default (DMA). */
	static const int types[4] = { 0, 0, IOMMU_DOMAIN_IDENTITY, 0 };

	boot_hooks(types, NULL, NULL);
	struct device *a = dev_at(A), *b = dev_at(B), *c = dev_at(C);

	assert_ptr_equal(a->iommu_group, b->iommu_group);
	assert_ptr_equal(iommu_get_domain_for_dev(a), &hooks_identity);
	assert_ptr_equal(iommu_get_domain_for_dev(b), &hooks_identity);
	assert_int_equal(iommu_get_domain_for_dev(c)->type, IOMMU_DOMAIN_DMA);
	/* Each device attached once, the group's two after both joined. */
	assert_string_equal(hooks_events, "attach 4 10000000.a;attach 4 10001000.b;attach 3 10002000.c;");
	assert_int_equal(swiommu_warn_count(), 0);
}

static void a_legacy_default_domain_serves_every_group(void **state)
{
	(void)state;
	boot_hooks(NULL, &hooks_platform, NULL);

	assert_ptr_equal(iommu_get_domain_for_dev(dev_at(A)), &hooks_platform);
	assert_ptr_equal(iommu_get_dma_domain(dev_at(C)), &hooks_platform);
	assert_string_equal(hooks_events, "attach 32 10000000.a;attach 32 10001000.b;attach 32 10002000.c;");
	/* A static domain is the driver's: the core never frees it. */
	swiommu_exit();
	assert_int_equal(hooks_domains_freed, 0);
}

static void release_domain_goes_on_before_release_device(void **state)
{
	(void)state;
	boot_hooks(NULL, NULL, &hooks_blocked);
	struct device *c = dev_at(C);
	int group = iommu_group_id(c->iommu_group);
	char line[64];

	hooks_events[0] = '\0';
	/* 6.17's iommu_group_remove_device() tears a probed device down (iommu_deinit_device). */
	iommu_group_remove_device(c);
	snprintf(line, sizeof(line), "Removing from iommu group %d", group);
	assert_true(swiommu_log_contains(line));
	assert_string_equal(hooks_events, "attach 0 10002000.c;release 0 10002000.c;");
	assert_false(device_iommu_mapped(c));
	assert_null(dev_iommu_fwspec_get(c));
	/* c's group went with its last device, and its DMA domain with it. */
	assert_int_equal(hooks_domains_freed, 1);
	/* A second call finds no group: nothing happens. */
	iommu_group_remove_device(c);
	assert_string_equal(hooks_events, "attach 0 10002000.c;release 0 10002000.c;");
	/* At shutdown the others go the same way. */
	hooks_events[0] = '\0';
	swiommu_exit();
	assert_non_null(strstr(hooks_events, "attach 0 10000000.a;release 0 10000000.a;"));
	assert_non_null(strstr(hooks_events, "attach 0 10001000.b;release 0 10001000.b;"));
}

static void without_release_domain_only_release_device_runs(void **state)
{
	(void)state;
	boot_hooks(NULL, NULL, NULL);
	struct device *a = dev_at(A), *b = dev_at(B);

	hooks_events[0] = '\0';
	iommu_group_remove_device(a);
	assert_string_equal(hooks_events, "release 0 10000000.a;");
	/* b keeps the group and its domain. */
	assert_true(device_iommu_mapped(b));
	assert_int_equal(iommu_get_domain_for_dev(b)->type, IOMMU_DOMAIN_DMA);
	assert_int_equal(hooks_domains_freed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(the_default_domain_type_is_the_whole_groups, shut_down),
		cmocka_unit_test(a_legacy_default_domain_serves_every_group),
		cmocka_unit_test(release_domain_goes_on_before_release_device),
		cmocka_unit_test_teardown(without_release_domain_only_release_device_runs, shut_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
