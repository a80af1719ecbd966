// SPDX-License-Identifier: MIT
// Per-thread storage for the page-table layer: the registers swiommu_io_pgtable_translate() decoded last.
#include <stdint.h>
#include "io_pgtable_glue.h"

/* 16 words of key, then the latched walker; one per thread, as every CPU has its own. */
static __thread uint64_t walker_memo[SWIOMMU_PGT_WALKER_MEMO_WORDS] __attribute__((aligned(16)));

uint64_t *swiommu_pgt_walker_memo(void)
{
	return walker_memo;
}
