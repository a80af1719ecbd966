// SPDX-License-Identifier: MIT
/*
 * An IOMMU driver written in C, the way drivers/iommu/ipmmu-vmsa.c is: a root IPMMU (IPMMU-MM) owns the
 * translation contexts, leaf "cache" IPMMUs own the micro-TLBs their masters sit behind (iommus = <&leaf
 * utlb>) and reach the root through "renesas,ipmmu-main". Only leaves register with the IOMMU core (as
 * R-Car Gen3 does); every master of a leaf shares one group (generic_single_device_group's way), so one
 * default domain and one context per leaf. A domain takes a context from the root's bitmap at its first
 * attach and -EBUSY when none is left; tables are io-pgtable's ARM_32_LPAE_S1 with the ARM_NS quirk and a
 * non-coherent walk; TLB maintenance is whole-context flushes.
 *
 * It binds the default board's "renesas,ipmmu-vmsa" family before the built-in ipmmu-vmsa model (C
 * drivers register at initcall time, the models after), so in a binary that links it this driver
 * serves the six vin masters. The registers are a small array per context and per micro-TLB: the
 * simulated hardware translates a C driver's domains through iova_to_phys.
 */
#include <string.h>
#include <linux/bitops.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/io-pgtable.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/of_device.h>
#include <linux/of_platform.h>
#include <linux/platform_device.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include "ipmmu.h"
#include "pgtable_domain.h"

#define IPMMU_CTX_MAX		16U
#define IPMMU_CTX_INVALID	-1
#define IPMMU_UTLB_MAX		64U
#define IPMMU_DEVICES_MAX	8

/* Context registers the driver programs (IMCTR bits as on R-Car Gen2/3). */
#define IMCTR_INTEN		BIT(2)
#define IMCTR_FLUSH		BIT(1)
#define IMCTR_MMUEN		BIT(0)
#define IMTTBCR_EAE		BIT(31)
#define IMTTBCR_SL0_TWOBIT_LVL_1	(2 << 6)
#define IMUCTR_TTSEL_MMU(n)	((n) << 4)
#define IMUCTR_FLUSH		BIT(1)
#define IMUCTR_MMUEN		BIT(0)

struct ipmmu_features {
	bool has_cache_leaf_nodes;
	unsigned int number_of_contexts;
	unsigned int num_utlbs;
	bool reserved_context;
};

/* One context's registers (IMCTR, IMTTBCR, IMTTLBR0/IMTTUBR0, IMMAIR0). */
struct ipmmu_ctx_regs {
	u32 imctr;
	u32 imttbcr;
	u64 ttbr;
	u32 mair0;
};

struct ipmmu_vmsa_device {
	struct device *dev;
	struct iommu_device iommu;
	struct ipmmu_vmsa_device *root;
	const struct ipmmu_features *features;
	unsigned int num_ctx;
	DECLARE_BITMAP(ctx, IPMMU_CTX_MAX);
	struct ipmmu_vmsa_domain *domains[IPMMU_CTX_MAX];
	s8 utlb_ctx[IPMMU_UTLB_MAX];
	u32 imuctr[IPMMU_UTLB_MAX];
	struct ipmmu_ctx_regs regs[IPMMU_CTX_MAX];
	struct iommu_group *group;
	struct ipmmu_stats stats;
};

struct ipmmu_vmsa_domain {
	struct ipmmu_vmsa_device *mmu;
	struct pgtable_domain pt;
	unsigned int context_id;
};

/* driver_for_each_device() is not in swiommu: the driver keeps the instances it bound. */
static struct ipmmu_vmsa_device *ipmmu_devices[IPMMU_DEVICES_MAX];

static struct ipmmu_vmsa_domain *to_vmsa_domain(struct iommu_domain *dom)
{
	return container_of(dom, struct ipmmu_vmsa_domain, pt.domain);
}

static struct ipmmu_vmsa_device *to_ipmmu(struct device *dev)
{
	return dev_iommu_priv_get(dev);
}

static bool ipmmu_is_root(struct ipmmu_vmsa_device *mmu)
{
	return mmu->root == mmu;
}

static struct ipmmu_vmsa_device *ipmmu_find_root(void)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(ipmmu_devices); i++)
		if (ipmmu_devices[i] && ipmmu_is_root(ipmmu_devices[i]))
			return ipmmu_devices[i];
	return NULL;
}

/* -----------------------------------------------------------------------------
 * TLB and microTLB management
 */

static void ipmmu_tlb_invalidate(struct ipmmu_vmsa_domain *domain)
{
	struct ipmmu_vmsa_device *root = domain->mmu->root;

	/* IMCTR.FLUSH on the leaf's and the root's copy of the context; the hardware clears it. */
	root->regs[domain->context_id].imctr |= IMCTR_FLUSH;
	root->stats.tlb_flushes++;
	if (domain->mmu != root)
		domain->mmu->stats.tlb_flushes++;
	root->regs[domain->context_id].imctr &= ~IMCTR_FLUSH;
}

static void ipmmu_utlb_enable(struct ipmmu_vmsa_domain *domain, unsigned int utlb)
{
	struct ipmmu_vmsa_device *mmu = domain->mmu;

	mmu->imuctr[utlb] = IMUCTR_TTSEL_MMU(domain->context_id) | IMUCTR_FLUSH | IMUCTR_MMUEN;
	mmu->utlb_ctx[utlb] = domain->context_id;
}

static void ipmmu_utlb_disable(struct ipmmu_vmsa_device *mmu, unsigned int utlb)
{
	mmu->imuctr[utlb] = 0;
	mmu->utlb_ctx[utlb] = IPMMU_CTX_INVALID;
}

static void ipmmu_tlb_flush_all(void *cookie)
{
	ipmmu_tlb_invalidate(cookie);
}

static void ipmmu_tlb_flush(unsigned long iova, size_t size, size_t granule, void *cookie)
{
	(void)iova; (void)size; (void)granule;
	ipmmu_tlb_flush_all(cookie);
}

static const struct iommu_flush_ops ipmmu_flush_ops = {
	.tlb_flush_all = ipmmu_tlb_flush_all,
	.tlb_flush_walk = ipmmu_tlb_flush,
};

/* -----------------------------------------------------------------------------
 * Domain/context management
 */

static int ipmmu_domain_allocate_context(struct ipmmu_vmsa_device *mmu, struct ipmmu_vmsa_domain *domain)
{
	unsigned int ret = find_first_zero_bit(mmu->ctx, mmu->num_ctx);

	if (ret == mmu->num_ctx)
		return -EBUSY;
	mmu->domains[ret] = domain;
	set_bit(ret, mmu->ctx);
	return ret;
}

static void ipmmu_domain_free_context(struct ipmmu_vmsa_device *mmu, unsigned int context_id)
{
	clear_bit(context_id, mmu->ctx);
	mmu->domains[context_id] = NULL;
}

static void ipmmu_domain_setup_context(struct ipmmu_vmsa_domain *domain)
{
	struct ipmmu_ctx_regs *regs = &domain->mmu->root->regs[domain->context_id];

	/* The whole 32-bit VA space goes to TTBR0, long descriptors. */
	regs->ttbr = domain->pt.cfg.arm_lpae_s1_cfg.ttbr;
	regs->imttbcr = IMTTBCR_EAE | IMTTBCR_SL0_TWOBIT_LVL_1;
	regs->mair0 = (u32)domain->pt.cfg.arm_lpae_s1_cfg.mair;
	regs->imctr = IMCTR_INTEN | IMCTR_MMUEN;
	ipmmu_tlb_invalidate(domain);
}

static int ipmmu_domain_init_context(struct ipmmu_vmsa_domain *domain)
{
	int ret;

	/*
	 * The IPMMU generates a secure access page fault if any of the NStable and NS bits isn't set when
	 * running in non-secure mode, hence IO_PGTABLE_QUIRK_ARM_NS.
	 */
	domain->pt.cfg.quirks = IO_PGTABLE_QUIRK_ARM_NS;
	domain->pt.cfg.pgsize_bitmap = domain->pt.domain.pgsize_bitmap;
	domain->pt.cfg.ias = 32;
	domain->pt.cfg.oas = 40;
	domain->pt.cfg.tlb = &ipmmu_flush_ops;
	domain->pt.domain.geometry.aperture_end = DMA_BIT_MASK(32);
	domain->pt.domain.geometry.force_aperture = true;
	/* No coherent walk through the CCI: io-pgtable cleans every table write. */
	domain->pt.cfg.coherent_walk = false;
	domain->pt.cfg.iommu_dev = domain->mmu->root->dev;

	ret = ipmmu_domain_allocate_context(domain->mmu->root, domain);
	if (ret < 0)
		return ret;
	domain->context_id = ret;

	ret = pgtable_domain_alloc_pgtable(&domain->pt, ARM_32_LPAE_S1, domain);
	if (ret) {
		ipmmu_domain_free_context(domain->mmu->root, domain->context_id);
		return -EINVAL;
	}
	ipmmu_domain_setup_context(domain);
	return 0;
}

static void ipmmu_domain_destroy_context(struct ipmmu_vmsa_domain *domain)
{
	if (!domain->mmu)
		return;
	domain->mmu->root->regs[domain->context_id].imctr = IMCTR_FLUSH;
	ipmmu_domain_free_context(domain->mmu->root, domain->context_id);
}

/* -----------------------------------------------------------------------------
 * IOMMU operations
 */

static const struct iommu_domain_ops ipmmu_domain_ops;

static struct iommu_domain *ipmmu_domain_alloc_paging(struct device *dev)
{
	struct ipmmu_vmsa_domain *domain;

	(void)dev;
	domain = kzalloc(sizeof(*domain), GFP_KERNEL);
	if (!domain)
		return NULL;
	domain->pt.domain.pgsize_bitmap = SZ_1G | SZ_2M | SZ_4K;
	domain->pt.domain.geometry.aperture_end = DMA_BIT_MASK(32);
	domain->pt.domain.geometry.force_aperture = true;
	domain->pt.domain.ops = &ipmmu_domain_ops;
	return &domain->pt.domain;
}

static void ipmmu_domain_free(struct iommu_domain *io_domain)
{
	struct ipmmu_vmsa_domain *domain = to_vmsa_domain(io_domain);

	/* Every device has been detached already. */
	ipmmu_domain_destroy_context(domain);
	pgtable_domain_free_pgtable(&domain->pt);
	kfree(domain);
}

static int ipmmu_attach_device(struct iommu_domain *io_domain, struct device *dev)
{
	struct iommu_fwspec *fwspec = dev_iommu_fwspec_get(dev);
	struct ipmmu_vmsa_device *mmu = to_ipmmu(dev);
	struct ipmmu_vmsa_domain *domain = to_vmsa_domain(io_domain);
	int ret = 0;

	if (!mmu) {
		dev_err(dev, "Cannot attach to IPMMU\n");
		return -ENXIO;
	}

	if (!domain->mmu) {
		/* The domain hasn't been used yet, initialize it. */
		domain->mmu = mmu;
		ret = ipmmu_domain_init_context(domain);
		if (ret < 0) {
			dev_err(dev, "Unable to initialize IPMMU context\n");
			domain->mmu = NULL;
		} else {
			dev_info(dev, "Using IPMMU context %u\n", domain->context_id);
		}
	} else if (domain->mmu != mmu) {
		/* Two devices behind different IPMMUs cannot share a domain. */
		dev_err(dev, "Can't attach IPMMU %s to domain on IPMMU %s\n", dev_name(mmu->dev),
			dev_name(domain->mmu->dev));
		ret = -EINVAL;
	} else {
		dev_info(dev, "Reusing IPMMU context %u\n", domain->context_id);
	}
	if (ret < 0)
		return ret;

	for (unsigned int i = 0; i < fwspec->num_ids; ++i)
		ipmmu_utlb_enable(domain, fwspec->ids[i]);
	mmu->stats.attached++;
	return 0;
}

static int ipmmu_iommu_identity_attach(struct iommu_domain *identity_domain, struct device *dev)
{
	struct iommu_domain *io_domain = iommu_get_domain_for_dev(dev);
	struct iommu_fwspec *fwspec = dev_iommu_fwspec_get(dev);

	if (io_domain == identity_domain || !io_domain)
		return 0;
	for (unsigned int i = 0; i < fwspec->num_ids; ++i)
		ipmmu_utlb_disable(to_ipmmu(dev), fwspec->ids[i]);
	return 0;
}

static const struct iommu_domain_ops ipmmu_iommu_identity_ops = {
	.attach_dev = ipmmu_iommu_identity_attach,
};

static struct iommu_domain ipmmu_iommu_identity_domain = {
	.type = IOMMU_DOMAIN_IDENTITY,
	.ops = &ipmmu_iommu_identity_ops,
};

static void ipmmu_flush_iotlb_all(struct iommu_domain *io_domain)
{
	struct ipmmu_vmsa_domain *domain = to_vmsa_domain(io_domain);

	if (domain->mmu)
		ipmmu_tlb_flush_all(domain);
}

static void ipmmu_iotlb_sync(struct iommu_domain *io_domain, struct iommu_iotlb_gather *gather)
{
	(void)gather;
	ipmmu_flush_iotlb_all(io_domain);
}

static int ipmmu_init_platform_device(struct device *dev, const struct of_phandle_args *args)
{
	struct platform_device *ipmmu_pdev = of_find_device_by_node(args->np);

	if (!ipmmu_pdev)
		return -ENODEV;
	dev_iommu_priv_set(dev, platform_get_drvdata(ipmmu_pdev));
	put_device(&ipmmu_pdev->dev);
	return 0;
}

static int ipmmu_of_xlate(struct device *dev, const struct of_phandle_args *spec)
{
	if (spec->args_count != 1 || spec->args[0] >= IPMMU_UTLB_MAX)
		return -EINVAL;
	iommu_fwspec_add_ids(dev, spec->args, 1);

	/* Initialize once - xlate() will call multiple times */
	if (to_ipmmu(dev))
		return 0;
	return ipmmu_init_platform_device(dev, spec);
}

static struct iommu_device *ipmmu_probe_device(struct device *dev)
{
	struct ipmmu_vmsa_device *mmu = to_ipmmu(dev);

	/* Only let through devices that have been verified in xlate(). */
	if (!mmu)
		return ERR_PTR(-ENODEV);
	mmu->stats.masters++;
	return &mmu->iommu;
}

static void ipmmu_release_device(struct device *dev)
{
	struct iommu_fwspec *fwspec = dev_iommu_fwspec_get(dev);
	struct ipmmu_vmsa_device *mmu = to_ipmmu(dev);

	for (unsigned int i = 0; i < fwspec->num_ids; ++i)
		ipmmu_utlb_disable(mmu, fwspec->ids[i]);
	mmu->stats.masters--;
}

/*
 * One group per leaf IPMMU, so that its masters share a context: generic_single_device_group(), which
 * upstream uses, written out because swiommu's core never drops the group reference that helper keeps in
 * the iommu_device, so the group's default domain outlived the instance (reported on the drivers branch).
 * TODO: back to generic_single_device_group once the core releases iommu->singleton_group at unregister.
 */
static struct iommu_group *ipmmu_device_group(struct device *dev)
{
	struct ipmmu_vmsa_device *mmu = to_ipmmu(dev);

	if (!mmu->group) {
		struct iommu_group *group = iommu_group_alloc();

		if (IS_ERR(group))
			return group;
		mmu->group = group;
	}
	return iommu_group_ref_get(mmu->group);
}

static const struct iommu_domain_ops ipmmu_domain_ops = {
	.attach_dev = ipmmu_attach_device,
	PGTABLE_DOMAIN_OPS,
	.flush_iotlb_all = ipmmu_flush_iotlb_all,
	.iotlb_sync = ipmmu_iotlb_sync,
	.free = ipmmu_domain_free,
};

static const struct iommu_ops ipmmu_ops = {
	.identity_domain = &ipmmu_iommu_identity_domain,
	.domain_alloc_paging = ipmmu_domain_alloc_paging,
	.probe_device = ipmmu_probe_device,
	.release_device = ipmmu_release_device,
	.device_group = ipmmu_device_group,
	.of_xlate = ipmmu_of_xlate,
	.default_domain_ops = &ipmmu_domain_ops,
	.owner = THIS_MODULE,
};

/* -----------------------------------------------------------------------------
 * Probe/remove and init
 */

static void ipmmu_device_reset(struct ipmmu_vmsa_device *mmu)
{
	/* Disable all contexts. */
	for (unsigned int i = 0; i < mmu->num_ctx; ++i)
		mmu->regs[i].imctr = 0;
}

/* R-Car Gen3's layout with the default board's context count ("swiommu,num-contexts" overrides it). */
static const struct ipmmu_features ipmmu_features_swiommu = {
	.has_cache_leaf_nodes = true,
	.number_of_contexts = 8,
	.num_utlbs = 48,
	.reserved_context = false,
};

static const struct ipmmu_features ipmmu_features_default = {
	.has_cache_leaf_nodes = false,
	.number_of_contexts = 1, /* software only tested with one context */
	.num_utlbs = 32,
	.reserved_context = false,
};

static const struct of_device_id ipmmu_of_ids[] = {
	{ .compatible = "swiommu,ipmmu-4ctx", .data = &ipmmu_features_swiommu },
	{ .compatible = "renesas,ipmmu-vmsa", .data = &ipmmu_features_default },
	{ /* Terminator */ },
};

static int ipmmu_probe(struct platform_device *pdev)
{
	struct ipmmu_vmsa_device *mmu;
	unsigned int slot;
	u32 contexts;
	int irq;
	int ret;

	mmu = devm_kzalloc(&pdev->dev, sizeof(*mmu), GFP_KERNEL);
	if (!mmu) {
		dev_err(&pdev->dev, "cannot allocate device data\n");
		return -ENOMEM;
	}
	for (slot = 0; slot < ARRAY_SIZE(ipmmu_devices) && ipmmu_devices[slot]; slot++)
		;
	if (slot == ARRAY_SIZE(ipmmu_devices))
		return -ENOSPC;

	mmu->dev = &pdev->dev;
	mmu->features = of_device_get_match_data(&pdev->dev);
	memset(mmu->utlb_ctx, IPMMU_CTX_INVALID, mmu->features->num_utlbs);
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(40));
	if (ret)
		return ret;
	if (!platform_get_resource(pdev, IORESOURCE_MEM, 0))
		return -ENODEV;

	contexts = mmu->features->number_of_contexts;
	of_property_read_u32(pdev->dev.of_node, "swiommu,num-contexts", &contexts);
	mmu->num_ctx = min(IPMMU_CTX_MAX, contexts);

	/*
	 * Determine if this IPMMU instance is a root device by checking for the lack of
	 * has_cache_leaf_nodes flag or renesas,ipmmu-main property.
	 */
	if (!mmu->features->has_cache_leaf_nodes ||
	    !of_property_present(pdev->dev.of_node, "renesas,ipmmu-main"))
		mmu->root = mmu;
	else
		mmu->root = ipmmu_find_root();

	/* Wait until the root device has been registered for sure. */
	if (!mmu->root)
		return -EPROBE_DEFER;

	/* Root devices have mandatory IRQs */
	if (ipmmu_is_root(mmu)) {
		irq = platform_get_irq(pdev, 0);
		if (irq < 0)
			return irq;
		ipmmu_device_reset(mmu);
		if (mmu->features->reserved_context) {
			dev_info(&pdev->dev, "IPMMU context 0 is reserved\n");
			set_bit(0, mmu->ctx);
		}
	}

	platform_set_drvdata(pdev, mmu);
	ipmmu_devices[slot] = mmu;
	/*
	 * Register the IPMMU to the IOMMU subsystem in the following cases:
	 * - R-Car Gen2 IPMMU (all devices registered)
	 * - R-Car Gen3 IPMMU (leaf devices only - skip root IPMMU-MM device)
	 */
	if (mmu->features->has_cache_leaf_nodes && ipmmu_is_root(mmu)) {
		dev_info(&pdev->dev, "root IPMMU with %u contexts\n", mmu->num_ctx);
		return 0;
	}

	ret = iommu_device_register(&mmu->iommu, &ipmmu_ops, &pdev->dev);
	if (ret) {
		ipmmu_devices[slot] = NULL;
		return dev_err_probe(&pdev->dev, ret, "failed to register IOMMU\n");
	}
	dev_info(&pdev->dev, "leaf IPMMU registered, contexts on %s\n", dev_name(mmu->root->dev));
	return 0;
}

static void ipmmu_remove(struct platform_device *pdev)
{
	struct ipmmu_vmsa_device *mmu = platform_get_drvdata(pdev);

	if (!ipmmu_is_root(mmu) || !mmu->features->has_cache_leaf_nodes)
		iommu_device_unregister(&mmu->iommu);
	if (mmu->group)
		iommu_group_put(mmu->group);
	ipmmu_device_reset(mmu);
	for (unsigned int i = 0; i < ARRAY_SIZE(ipmmu_devices); i++)
		if (ipmmu_devices[i] == mmu)
			ipmmu_devices[i] = NULL;
}

static struct platform_driver ipmmu_driver = {
	.driver = {
		.name = "ipmmu-vmsa-c",
		.of_match_table = ipmmu_of_ids,
	},
	.probe = ipmmu_probe,
	.remove = ipmmu_remove,
};
module_platform_driver(ipmmu_driver);

/**
 * ipmmu_get_stats() - what an IPMMU instance bound to this driver has done.
 * @iommu_dev: the IPMMU's device (a root or a leaf).
 * @stats: where to store the counters.
 *
 * Return: 0, or -ENODEV when @iommu_dev is not bound to this driver.
 */
int ipmmu_get_stats(struct device *iommu_dev, struct ipmmu_stats *stats)
{
	struct ipmmu_vmsa_device *mmu;

	if (!iommu_dev || iommu_dev->driver != &ipmmu_driver.driver)
		return -ENODEV;
	mmu = dev_get_drvdata(iommu_dev);
	*stats = mmu->stats;
	stats->contexts = mmu->root->num_ctx;
	stats->contexts_used = bitmap_weight(mmu->root->ctx, mmu->root->num_ctx);
	return 0;
}

/**
 * ipmmu_utlb_context() - the context a micro-TLB of a leaf translates through (its IMUCTR.TTSEL).
 * @iommu_dev: the leaf IPMMU's device.
 * @utlb: the micro-TLB (the master's "iommus" cell).
 *
 * Return: the context number, -1 when the micro-TLB is disabled, or -ENODEV when @iommu_dev is not
 * bound to this driver or @utlb is out of range.
 */
int ipmmu_utlb_context(struct device *iommu_dev, unsigned int utlb)
{
	struct ipmmu_vmsa_device *mmu;

	if (!iommu_dev || iommu_dev->driver != &ipmmu_driver.driver || utlb >= IPMMU_UTLB_MAX)
		return -ENODEV;
	mmu = dev_get_drvdata(iommu_dev);
	return mmu->imuctr[utlb] & IMUCTR_MMUEN ? mmu->utlb_ctx[utlb] : IPMMU_CTX_INVALID;
}

/**
 * ipmmu_context_ttbr() - the table base a context of the root is programmed with (IMTTLBR0/IMTTUBR0).
 * @iommu_dev: a root or leaf IPMMU's device.
 * @context: the context number.
 *
 * Return: the table's physical address, 0 for a context that is off, out of range, or not on an
 * instance of this driver.
 */
u64 ipmmu_context_ttbr(struct device *iommu_dev, unsigned int context)
{
	struct ipmmu_vmsa_device *mmu;

	if (!iommu_dev || iommu_dev->driver != &ipmmu_driver.driver)
		return 0;
	mmu = dev_get_drvdata(iommu_dev);
	if (context >= mmu->root->num_ctx || !(mmu->root->regs[context].imctr & IMCTR_MMUEN))
		return 0;
	return mmu->root->regs[context].ttbr;
}
