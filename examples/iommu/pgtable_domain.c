// SPDX-License-Identifier: MIT
/* The io-pgtable domain ops the example IOMMU drivers share (see pgtable_domain.h). */
#include <linux/bug.h>
#include <linux/errno.h>
#include "pgtable_domain.h"

/**
 * pgtable_domain_alloc_pgtable() - allocate the domain's table from its @cfg.
 * @pd: the domain, with @pd->cfg filled in.
 * @fmt: the io-pgtable format.
 * @cookie: passed back to the cfg's iommu_flush_ops.
 *
 * The page sizes io-pgtable narrowed @pd->cfg to become the domain's.
 *
 * Return: 0, or -ENOMEM when io-pgtable refuses the configuration or runs out of memory.
 */
int pgtable_domain_alloc_pgtable(struct pgtable_domain *pd, enum io_pgtable_fmt fmt, void *cookie)
{
	pd->iop = alloc_io_pgtable_ops(fmt, &pd->cfg, cookie);
	if (!pd->iop)
		return -ENOMEM;
	pd->domain.pgsize_bitmap = pd->cfg.pgsize_bitmap;
	return 0;
}

/**
 * pgtable_domain_free_pgtable() - free the domain's table, if it has one.
 * @pd: the domain.
 */
void pgtable_domain_free_pgtable(struct pgtable_domain *pd)
{
	if (pd->iop)
		free_io_pgtable_ops(pd->iop);
	pd->iop = NULL;
}

/**
 * pgtable_domain_map_pages() - iommu_domain_ops.map_pages through the domain's io-pgtable.
 * @domain: the domain.
 * @iova: where.
 * @paddr: what.
 * @pgsize: one of the table's page sizes.
 * @pgcount: how many pages.
 * @prot: IOMMU_READ, IOMMU_WRITE ...
 * @gfp: allocation flags for table pages.
 * @mapped: incremented by the bytes mapped.
 *
 * Return: 0, -ENODEV (with a WARN) for a domain that has no table yet, or io-pgtable's error.
 */
int pgtable_domain_map_pages(struct iommu_domain *domain, unsigned long iova, phys_addr_t paddr, size_t pgsize,
			     size_t pgcount, int prot, gfp_t gfp, size_t *mapped)
{
	struct io_pgtable_ops *iop = to_pgtable_domain(domain)->iop;

	if (WARN_ON(!iop))
		return -ENODEV;
	return iop->map_pages(iop, iova, paddr, pgsize, pgcount, prot, gfp, mapped);
}

/**
 * pgtable_domain_unmap_pages() - iommu_domain_ops.unmap_pages through the domain's io-pgtable.
 * @domain: the domain.
 * @iova: where.
 * @pgsize: the page size.
 * @pgcount: how many pages.
 * @gather: where io-pgtable gathers the invalidation.
 *
 * Return: the bytes unmapped; 0 when nothing was mapped or the domain has no table.
 */
size_t pgtable_domain_unmap_pages(struct iommu_domain *domain, unsigned long iova, size_t pgsize, size_t pgcount,
				  struct iommu_iotlb_gather *gather)
{
	struct io_pgtable_ops *iop = to_pgtable_domain(domain)->iop;

	return iop ? iop->unmap_pages(iop, iova, pgsize, pgcount, gather) : 0;
}

/**
 * pgtable_domain_iova_to_phys() - iommu_domain_ops.iova_to_phys: io-pgtable's software walk.
 * @domain: the domain.
 * @iova: the address.
 *
 * Return: the physical address, or 0 when nothing is mapped there or the domain has no table.
 */
phys_addr_t pgtable_domain_iova_to_phys(struct iommu_domain *domain, dma_addr_t iova)
{
	struct io_pgtable_ops *iop = to_pgtable_domain(domain)->iop;

	return iop ? iop->iova_to_phys(iop, iova) : 0;
}
