/* SPDX-License-Identifier: MIT */
/* Fixtures the cmocka suites share: a fresh default board per test, with clean log and WARN records. */
#ifndef SWIOMMU_CTESTS_SWIOMMU_TEST_H
#define SWIOMMU_CTESTS_SWIOMMU_TEST_H

#include <stdio.h>
#include <unistd.h>
#include <swiommu/swiommu.h>

/* Setup: forget earlier log and WARN records, boot the default board. */
static inline int boot(void **state)
{
	(void)state;
	swiommu_warn_reset();
	swiommu_log_reset();
	return swiommu_init(NULL);
}

/* Setup: boot the default board as a kernel without IOMMU drivers runs it (no built-in models): the
 * masters of its IOMMUs carry on without them, on the direct path. */
static bool swiommu_test_restore_models;

static inline int boot_without_iommu_drivers(void **state)
{
	/* Until shut_down(): the setting cannot change while the machine is up. */
	swiommu_iommu_use_builtin_models(false);
	swiommu_test_restore_models = true;
	return boot(state);
}

/* Teardown: take the machine down (its leak report goes to the log). */
static inline int shut_down(void **state)
{
	(void)state;
	swiommu_exit();
	if (swiommu_test_restore_models) {
		swiommu_iommu_use_builtin_models(true);	/* the next boot gets them again */
		swiommu_test_restore_models = false;
	}
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

/* Write a board (device tree source) to /tmp and return its path; one board at a time per process. */
static inline const char *swiommu_test_write_board(const char *tag, const char *text)
{
	static char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/swiommu-test-%d-%s.dts", (int)getpid(), tag);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		return NULL;
	return path;
}

#endif /* SWIOMMU_CTESTS_SWIOMMU_TEST_H */
