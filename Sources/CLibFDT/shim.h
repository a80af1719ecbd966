/* SPDX-License-Identifier: MIT */
/* libfdt for Swift: the header, plus the function-like macros Swift cannot import, as functions. */
#ifndef SWIOMMU_CLIBFDT_SHIM_H
#define SWIOMMU_CLIBFDT_SHIM_H

#include <libfdt.h>

static inline uint32_t swiommu_fdt_totalsize(const void *fdt) { return fdt_totalsize(fdt); }
static inline uint32_t swiommu_fdt_magic(const void *fdt) { return fdt_magic(fdt); }

#endif
