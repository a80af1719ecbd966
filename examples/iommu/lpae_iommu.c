// SPDX-License-Identifier: MIT
/*
 * A small IOMMU driver written in C against swiommu, the way arm-smmu.c is written: iommu_ops for the
 * MMU-500 of the default board ("arm,mmu-500"), stream IDs with stream-match masks from "iommus"
 * (#iommu-cells = <2>), groups shared by masters whose stream-match entries overlap, and paging domains
 * over io-pgtable's ARM_64_LPAE_S1 format (map, unmap and iova_to_phys are pgtable_domain.c's, shared
 * with the other example IOMMU driver). It registers itself with module_platform_driver(), so linking
 * it into a test is enough: every swiommu_init() binds it to /soc/iommu@fd800000.
 */
#include <linux/err.h>
#include <linux/io-pgtable.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/of_iommu.h>
#include <linux/platform_device.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include "lpae_iommu.h"
#include "pgtable_domain.h"

#define LPAE_MAX_SMES	64

/* A stream-match entry: a stream ID and the bits ignored when matching (arm-smmu's SMR). */
struct lpae_sme {
	u16 id;
	u16 mask;
	struct iommu_group *group;
	bool valid;
};

struct lpae_iommu {
	struct iommu_device iommu;
	struct device *dev;
	struct lpae_sme smes[LPAE_MAX_SMES];
	struct lpae_iommu_stats stats;
};

struct lpae_domain {
	struct pgtable_domain pt;
	struct lpae_iommu *iommu;
};

/* arm-smmu packs the stream ID and mask into one fwspec ID. */
#define FWID_ID(f)	((u16)((f) & 0xffff))
#define FWID_MASK(f)	((u16)((f) >> 16))

static const struct iommu_ops lpae_iommu_ops;
static struct lpae_iommu *instances[4];

static struct lpae_domain *to_lpae_domain(struct iommu_domain *d)
{
	return container_of(d, struct lpae_domain, pt.domain);
}

static struct lpae_iommu *instance_of(struct device *dev)
{
	struct iommu_fwspec *fwspec = dev_iommu_fwspec_get(dev);

	for (unsigned int i = 0; fwspec && i < ARRAY_SIZE(instances); i++)
		if (instances[i] && instances[i]->iommu.fwnode == fwspec->iommu_fwnode)
			return instances[i];
	return NULL;
}

/* TLB maintenance through io-pgtable's callbacks: counted, nothing to do in a model without a TLB here. */
static void lpae_tlb_flush_all(void *cookie)
{
	struct lpae_domain *d = cookie;

	if (d->iommu)
		d->iommu->stats.tlb_flush_all++;
}

static void lpae_tlb_flush_walk(unsigned long iova, size_t size, size_t granule, void *cookie)
{
	struct lpae_domain *d = cookie;

	(void)iova; (void)size; (void)granule;
	if (d->iommu)
		d->iommu->stats.tlb_flush_walk++;
}

static void lpae_tlb_add_page(struct iommu_iotlb_gather *gather, unsigned long iova, size_t granule, void *cookie)
{
	struct lpae_domain *d = cookie;

	(void)gather; (void)iova; (void)granule;
	if (d->iommu)
		d->iommu->stats.tlb_add_page++;
}

static const struct iommu_flush_ops lpae_flush_ops = {
	.tlb_flush_all = lpae_tlb_flush_all,
	.tlb_flush_walk = lpae_tlb_flush_walk,
	.tlb_add_page = lpae_tlb_add_page,
};

static int lpae_of_xlate(struct device *dev, const struct of_phandle_args *args)
{
	u32 fwid = args->args[0] & 0xffff;

	if (args->args_count > 1)
		fwid |= (args->args[1] & 0xffff) << 16;
	return iommu_fwspec_add_ids(dev, &fwid, 1);
}

static struct iommu_device *lpae_probe_device(struct device *dev)
{
	struct lpae_iommu *iommu = instance_of(dev);

	if (!iommu)
		return ERR_PTR(-ENODEV);
	iommu->stats.probed++;
	return &iommu->iommu;
}

static void lpae_release_device(struct device *dev)
{
	struct lpae_iommu *iommu = instance_of(dev);

	if (iommu)
		iommu->stats.released++;
}

/* Masters whose stream-match entries overlap share a group (arm_smmu_device_group). */
static struct iommu_group *lpae_device_group(struct device *dev)
{
	struct lpae_iommu *iommu = instance_of(dev);
	struct iommu_fwspec *fwspec = dev_iommu_fwspec_get(dev);
	struct iommu_group *group = NULL;

	if (!iommu)
		return ERR_PTR(-ENODEV);
	for (unsigned int i = 0; i < fwspec->num_ids; i++) {
		u16 id = FWID_ID(fwspec->ids[i]), mask = FWID_MASK(fwspec->ids[i]);

		for (unsigned int s = 0; s < LPAE_MAX_SMES; s++) {
			struct lpae_sme *e = &iommu->smes[s];

			if (e->valid && !((e->id ^ id) & ~(e->mask | mask)))
				group = e->group;
		}
	}
	group = group ? iommu_group_ref_get(group) : generic_device_group(dev);
	if (IS_ERR(group))
		return group;
	for (unsigned int i = 0; i < fwspec->num_ids; i++) {
		for (unsigned int s = 0; s < LPAE_MAX_SMES; s++) {
			struct lpae_sme *e = &iommu->smes[s];

			if (!e->valid) {
				*e = (struct lpae_sme){ .id = FWID_ID(fwspec->ids[i]), .mask = FWID_MASK(fwspec->ids[i]),
						       .group = group, .valid = true };
				break;
			}
		}
	}
	return group;
}

/* As arm-smmu does through iommu_dma_get_resv_regions: the device tree's reserved regions. */
static void lpae_get_resv_regions(struct device *dev, struct list_head *head)
{
	of_iommu_get_resv_regions(dev, head);
}

static bool lpae_capable(struct device *dev, enum iommu_cap cap)
{
	(void)dev;
	return cap == IOMMU_CAP_CACHE_COHERENCY || cap == IOMMU_CAP_DEFERRED_FLUSH;
}

static const struct iommu_domain_ops lpae_domain_ops;

static struct iommu_domain *lpae_domain_alloc_paging(struct device *dev)
{
	struct lpae_domain *d = kzalloc(sizeof(*d), GFP_KERNEL);

	if (!d)
		return NULL;
	d->iommu = instance_of(dev);
	d->pt.cfg = (struct io_pgtable_cfg){
		.pgsize_bitmap = SZ_4K | SZ_2M | SZ_1G,
		.ias = 48,
		.oas = 48,
		.coherent_walk = true,
		.tlb = &lpae_flush_ops,
		.iommu_dev = d->iommu ? d->iommu->dev : NULL,
	};
	if (pgtable_domain_alloc_pgtable(&d->pt, ARM_64_LPAE_S1, d)) {
		kfree(d);
		return ERR_PTR(-ENOMEM);
	}
	d->pt.domain.geometry.aperture_start = 0;
	d->pt.domain.geometry.aperture_end = (1UL << d->pt.cfg.ias) - 1;
	d->pt.domain.geometry.force_aperture = true;
	d->pt.domain.ops = &lpae_domain_ops;
	return &d->pt.domain;
}

static int lpae_attach_dev(struct iommu_domain *domain, struct device *dev)
{
	struct lpae_iommu *iommu = instance_of(dev);

	if (!iommu)
		return -ENODEV;
	/* A domain's table lives on one SMMU: another instance cannot use it. */
	if (to_lpae_domain(domain)->iommu && to_lpae_domain(domain)->iommu != iommu)
		return -EINVAL;
	iommu->stats.attached++;
	return 0;
}

static void lpae_flush_iotlb_all(struct iommu_domain *domain)
{
	struct lpae_domain *d = to_lpae_domain(domain);

	if (d->iommu)
		d->iommu->stats.iotlb_sync++;
}

static void lpae_iotlb_sync(struct iommu_domain *domain, struct iommu_iotlb_gather *gather)
{
	(void)gather;
	lpae_flush_iotlb_all(domain);
}

static void lpae_domain_free(struct iommu_domain *domain)
{
	struct lpae_domain *d = to_lpae_domain(domain);

	pgtable_domain_free_pgtable(&d->pt);
	kfree(d);
}

static const struct iommu_domain_ops lpae_domain_ops = {
	.attach_dev = lpae_attach_dev,
	PGTABLE_DOMAIN_OPS,
	.flush_iotlb_all = lpae_flush_iotlb_all,
	.iotlb_sync = lpae_iotlb_sync,
	.free = lpae_domain_free,
};

static const struct iommu_ops lpae_iommu_ops = {
	.capable = lpae_capable,
	.domain_alloc_paging = lpae_domain_alloc_paging,
	.probe_device = lpae_probe_device,
	.release_device = lpae_release_device,
	.device_group = lpae_device_group,
	.of_xlate = lpae_of_xlate,
	.get_resv_regions = lpae_get_resv_regions,
	.default_domain_ops = &lpae_domain_ops,
	.owner = THIS_MODULE,
};

static int lpae_iommu_probe(struct platform_device *pdev)
{
	struct lpae_iommu *iommu = devm_kzalloc(&pdev->dev, sizeof(*iommu), GFP_KERNEL);
	unsigned int i;
	int ret;

	if (!iommu)
		return -ENOMEM;
	for (i = 0; i < ARRAY_SIZE(instances) && instances[i]; i++)
		;
	if (i == ARRAY_SIZE(instances))
		return -ENOSPC;
	iommu->dev = &pdev->dev;
	iommu->iommu.fwnode = pdev->dev.fwnode;
	instances[i] = iommu;
	ret = iommu_device_register(&iommu->iommu, &lpae_iommu_ops, &pdev->dev);
	if (ret) {
		instances[i] = NULL;
		return dev_err_probe(&pdev->dev, ret, "failed to register iommu\n");
	}
	platform_set_drvdata(pdev, iommu);
	dev_info(&pdev->dev, "registered as an IOMMU (ARM LPAE stage 1, 4K/2M/1G)\n");
	return 0;
}

static void lpae_iommu_remove(struct platform_device *pdev)
{
	struct lpae_iommu *iommu = platform_get_drvdata(pdev);

	iommu_device_unregister(&iommu->iommu);
	for (unsigned int i = 0; i < ARRAY_SIZE(instances); i++)
		if (instances[i] == iommu)
			instances[i] = NULL;
}

static const struct of_device_id lpae_iommu_of_match[] = {
	{ .compatible = "arm,mmu-500" },
	{ }
};

static struct platform_driver lpae_iommu_driver = {
	.probe = lpae_iommu_probe,
	.remove = lpae_iommu_remove,
	.driver = {
		.name = "lpae-iommu",
		.of_match_table = lpae_iommu_of_match,
	},
};
module_platform_driver(lpae_iommu_driver);

const struct lpae_iommu_stats *lpae_iommu_stats(struct device *iommu_dev)
{
	struct lpae_iommu *iommu = iommu_dev ? dev_get_drvdata(iommu_dev) : NULL;

	return iommu ? &iommu->stats : NULL;
}
