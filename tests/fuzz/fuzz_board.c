// SPDX-License-Identifier: MIT
// Fuzz target: the board loader fed arbitrary bytes as a .dtb. swiommu_init() must either boot (and then leak
// nothing and shut down cleanly) or refuse with -EINVAL (-ENOMEM when RAM cannot be mapped), a message naming
// the file, and no machine left up.
#define _GNU_SOURCE
#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/errno.h>
#include <swiommu/swiommu.h>
#include "fuzz_common.h"

static int board_fd = -1;
static char board_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Quiet unless SWIOMMU_LOGLEVEL asks otherwise (to see what a finding logged). */
	if (!getenv("SWIOMMU_LOGLEVEL"))
		swiommu_log_set_console_level(0);
	/* The input lives in a memory file; /proc/self/fd/N names it (a path without .dts: read as a .dtb). */
	board_fd = memfd_create("swiommu-fuzz-board.dtb", 0);
	if (board_fd < 0) {
		perror("memfd_create");
		abort();
	}
	snprintf(board_path, sizeof(board_path), "/proc/self/fd/%d", board_fd);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int ret;

	if (board_fd < 0)
		LLVMFuzzerInitialize(NULL, NULL);
	if (ftruncate(board_fd, 0) != 0 || (size && pwrite(board_fd, data, size, 0) != (ssize_t)size)) {
		perror("writing the board");
		abort();
	}
	swiommu_warn_reset();
	swiommu_log_reset();
	ret = swiommu_init(board_path);
	if (ret != 0) {
		FUZZ_CHECK(ret == -EINVAL || ret == -ENOMEM, "swiommu_init() returned %d", ret);
		FUZZ_CHECK(!swiommu_is_up(), "swiommu_init() failed with %d and left the machine up", ret);
		FUZZ_CHECK(swiommu_log_contains(board_path), "swiommu_init() failed with %d without naming the board: %s",
			   ret, swiommu_log_last());
		return 0;
	}
	FUZZ_CHECK(swiommu_is_up(), "swiommu_init() returned 0 and the machine is down");
	FUZZ_CHECK(swiommu_mem_check_leaks(false) == 0, "a fresh boot has live allocations of its own");
	/* The devices the board made are there by name. */
	(void)swiommu_find_device("/");
	swiommu_log_reset();
	swiommu_exit();
	FUZZ_CHECK(!swiommu_is_up(), "swiommu_exit() left the machine up");
	FUZZ_CHECK(!swiommu_log_contains("leaked"), "swiommu_exit() reported leaks after booting the board: %s",
		   swiommu_log_last());
	return 0;
}
