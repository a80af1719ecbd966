/* SPDX-License-Identifier: MIT */
/*
 * A paging domain over an io-pgtable, shared by the example IOMMU drivers: the domain ops every such
 * driver writes the same way (map_pages, unmap_pages and iova_to_phys handed to the io-pgtable), as
 * drivers/iommu/generic_pt gives its drivers IOMMU_PT_DOMAIN_OPS. The driver embeds the struct, fills
 * @cfg (page sizes, ias, oas, quirks, its iommu_flush_ops) and calls pgtable_domain_alloc_pgtable().
 */
#ifndef SWIOMMU_EXAMPLE_PGTABLE_DOMAIN_H
#define SWIOMMU_EXAMPLE_PGTABLE_DOMAIN_H

#include <linux/io-pgtable.h>
#include <linux/iommu.h>

/**
 * struct pgtable_domain - an iommu_domain whose translations live in one io-pgtable.
 * @domain: the core's domain (its pgsize_bitmap and geometry are the driver's to set).
 * @cfg: the io-pgtable configuration, narrowed by pgtable_domain_alloc_pgtable().
 * @iop: the table's ops; NULL until the driver allocates it (ipmmu-vmsa does at the first attach).
 */
struct pgtable_domain {
	struct iommu_domain domain;
	struct io_pgtable_cfg cfg;
	struct io_pgtable_ops *iop;
};

static inline struct pgtable_domain *to_pgtable_domain(struct iommu_domain *domain)
{
	return container_of(domain, struct pgtable_domain, domain);
}

int pgtable_domain_alloc_pgtable(struct pgtable_domain *pd, enum io_pgtable_fmt fmt, void *cookie);
void pgtable_domain_free_pgtable(struct pgtable_domain *pd);
int pgtable_domain_map_pages(struct iommu_domain *domain, unsigned long iova, phys_addr_t paddr, size_t pgsize,
			     size_t pgcount, int prot, gfp_t gfp, size_t *mapped);
size_t pgtable_domain_unmap_pages(struct iommu_domain *domain, unsigned long iova, size_t pgsize, size_t pgcount,
				  struct iommu_iotlb_gather *gather);
phys_addr_t pgtable_domain_iova_to_phys(struct iommu_domain *domain, dma_addr_t iova);

/* The struct iommu_domain_ops members every io-pgtable domain shares. */
#define PGTABLE_DOMAIN_OPS					\
	.map_pages = pgtable_domain_map_pages,			\
	.unmap_pages = pgtable_domain_unmap_pages,		\
	.iova_to_phys = pgtable_domain_iova_to_phys

#endif
