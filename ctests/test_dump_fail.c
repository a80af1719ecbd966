// SPDX-License-Identifier: MIT
// Dumps, error paths: NULL and ERR_PTR arguments, channels no built-in model serves, a machine that is down.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <linux/err.h>
#include <linux/iommu.h>
#include <swiommu/swiommu.h>
#include "swiommu_test.h"

static void bad_arguments(void **state)
{
	(void)state;
	char buf[64];
	struct swiommu_domain_counters c;
	struct iommu_domain *d = iommu_get_dma_domain(swiommu_find_device("/soc/ethernet@fe600000"));

	assert_int_equal(swiommu_dump_domain(NULL, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(swiommu_iommu_domain_counters(NULL, &c), -EINVAL);
	assert_int_equal(swiommu_iommu_domain_counters(ERR_PTR(-EINVAL), &c), -EINVAL);
	assert_int_equal(swiommu_iommu_domain_counters(d, NULL), -EINVAL);
	assert_true(swiommu_log_contains("swiommu_iommu_domain_counters: NULL or ERR_PTR domain, or NULL counters"));
	assert_int_equal(swiommu_dump_domain(ERR_PTR(-ENOMEM), buf, sizeof(buf)), -EINVAL);
	assert_int_equal(swiommu_dump_iotlb(NULL, 0, buf, sizeof(buf)), -EINVAL);
	/* A master on the direct path has no IOTLB. */
	assert_int_equal(swiommu_dump_iotlb(swiommu_find_device("/soc/dma32@fe700000"), 0, buf, sizeof(buf)), -ENODEV);
	assert_int_equal(swiommu_dump_iova(NULL, buf, sizeof(buf)), -EINVAL);
	swiommu_exit();
	assert_int_equal(swiommu_dump_swiotlb(buf, sizeof(buf)), -ENODEV);
	assert_int_equal(swiommu_dump_domain(NULL, buf, sizeof(buf)), -ENODEV);
	assert_int_equal(swiommu_iommu_domain_counters(NULL, &c), -ENODEV);
	assert_int_equal(swiommu_dump_iotlb(NULL, 0, buf, sizeof(buf)), -ENODEV);
	assert_int_equal(swiommu_init(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(bad_arguments, boot, shut_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
