/* SPDX-License-Identifier: MIT */
/* Fixtures the cmocka suites share: a fresh default board per test, with clean log and WARN records. */
#ifndef SWIOMMU_CTESTS_SWIOMMU_TEST_H
#define SWIOMMU_CTESTS_SWIOMMU_TEST_H

#include <swiommu/swiommu.h>

/* Setup: forget earlier log and WARN records, boot the default board. */
static inline int boot(void **state)
{
	(void)state;
	swiommu_warn_reset();
	swiommu_log_reset();
	return swiommu_init(NULL);
}

/* Teardown: take the machine down (its leak report goes to the log). */
static inline int shut_down(void **state)
{
	(void)state;
	swiommu_exit();
	return 0;
}

/* Per-test setup for suites that boot once per group: forget earlier log and WARN records. */
static inline int clean_records(void **state)
{
	(void)state;
	swiommu_warn_reset();
	swiommu_log_reset();
	return 0;
}

#endif /* SWIOMMU_CTESTS_SWIOMMU_TEST_H */
