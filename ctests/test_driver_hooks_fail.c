// SPDX-License-Identifier: MIT
// Error paths of the driver hooks: masters of one group whose def_domain_type answers disagree get the
// kernel's error line and IDENTITY; iommu_group_remove_device() on NULL or a device with no group.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "driver_hooks.h"

static void conflicting_def_domain_types_give_identity(void **state)
{
	(void)state;
	static const int types[4] = { 0, IOMMU_DOMAIN_DMA, IOMMU_DOMAIN_IDENTITY, 0 };

	boot_hooks(types, NULL, NULL);
	assert_true(swiommu_log_contains("10001000.b: IOMMU driver error, requesting conflicting def_domain_type, "
					 "Translated and Passthrough, for devices in group"));
	assert_ptr_equal(iommu_get_domain_for_dev(dev_at(A)), &hooks_identity);
	assert_ptr_equal(iommu_get_domain_for_dev(dev_at(B)), &hooks_identity);
}

static void identity_asked_first_stays(void **state)
{
	(void)state;
	static const int types[4] = { 0, IOMMU_DOMAIN_IDENTITY, IOMMU_DOMAIN_DMA, 0 };

	boot_hooks(types, NULL, NULL);
	assert_true(swiommu_log_contains("10001000.b: IOMMU driver error, requesting conflicting def_domain_type, "
					 "Passthrough and Translated, for devices in group"));
	assert_ptr_equal(iommu_get_domain_for_dev(dev_at(B)), &hooks_identity);
}

static void removing_nothing_from_a_group(void **state)
{
	(void)state;
	boot_hooks(NULL, NULL, NULL);
	struct device *c = dev_at(C);

	iommu_group_remove_device(NULL);
	assert_true(swiommu_warn_count() >= 1);
	iommu_group_remove_device(c);
	hooks_events[0] = '\0';
	iommu_group_remove_device(c);
	assert_string_equal(hooks_events, "");
	assert_null(iommu_get_domain_for_dev(c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(conflicting_def_domain_types_give_identity, shut_down),
		cmocka_unit_test_teardown(identity_asked_first_stays, shut_down),
		cmocka_unit_test_teardown(removing_nothing_from_a_group, shut_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
