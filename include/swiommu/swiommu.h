/* SPDX-License-Identifier: MIT */
/* swiommu: everything the kernel does not have, in one include. */
#ifndef _SWIOMMU_SWIOMMU_H
#define _SWIOMMU_SWIOMMU_H

#include <swiommu/machine.h>
#include <swiommu/log.h>
#include <swiommu/memory.h>
#include <swiommu/fault_inject.h>
#include <swiommu/alloc_tag.h>
#include <swiommu/layout.h>
#include <swiommu/io_pgtable.h>
#include <swiommu/topology.h>
#include <swiommu/iova.h>
#include <swiommu/iommu.h>
#include <swiommu/dma.h>
#include <swiommu/trace.h>
#include <swiommu/dump.h>
#include <swiommu/dma_debug.h>

#endif /* _SWIOMMU_SWIOMMU_H */
