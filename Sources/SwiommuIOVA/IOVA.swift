// The IOVA allocator layer (issue 4). Kernel: drivers/iommu/iova.c.
