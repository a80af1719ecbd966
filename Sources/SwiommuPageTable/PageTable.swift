// The page-table layer (issue 5). Kernel: drivers/iommu/io-pgtable*.c.
