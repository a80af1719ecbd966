// Domain types and GFP bits as numbers (C's macros built from other macros do not all reach Swift);
// ctests/test_iommu.c checks them against the header.

public let IOMMU_DOMAIN_BLOCKED_VALUE: UInt32 = 0
public let IOMMU_DOMAIN_IDENTITY_VALUE: UInt32 = 1 << 2
public let IOMMU_DOMAIN_UNMANAGED_VALUE: UInt32 = 1 << 0
public let IOMMU_DOMAIN_DMA_VALUE: UInt32 = 1 << 0 | 1 << 1
public let IOMMU_DOMAIN_DMA_FQ_VALUE: UInt32 = 1 << 0 | 1 << 1 | 1 << 3
public let IOMMU_DOMAIN_PLATFORM_VALUE: UInt32 = 1 << 5
let domainPagingBit: UInt32 = 1 << 0
/// __IOMMU_DOMAIN_DMA_API: a domain the DMA API maps through (DMA, DMA_FQ).
let domainDMABit: UInt32 = 1 << 1

/// GFP flags iommu_map refuses: __GFP_COMP, __GFP_DMA, __GFP_DMA32, __GFP_HIGHMEM.
let iommuMapBadGFP: UInt32 = 0x40000 | 0x01 | 0x04 | 0x02
