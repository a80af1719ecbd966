/* SPDX-License-Identifier: MIT */
/*
 * Mirrors the Linux 6.17 <linux/iommu.h> for swiommu: the types IOMMU drivers and their users share
 * (domains, iommu_ops, iommu_domain_ops, iommu_device, fwspec, groups, reserved regions, the IOTLB gather)
 * and the core's API.
 */
#ifndef __LINUX_IOMMU_H
#define __LINUX_IOMMU_H

#include <sys/types.h>
#include <linux/types.h>
#include <linux/list.h>
#include <linux/device.h>
#include <linux/errno.h>
#include <linux/err.h>
#include <linux/of.h>
#include <linux/printk.h>
#include <linux/gfp_types.h>
#include <linux/scatterlist.h>

/* Protection flags of a mapping (iommu_map(), io_pgtable_ops->map_pages()). */
#define IOMMU_READ	(1 << 0)
#define IOMMU_WRITE	(1 << 1)
#define IOMMU_CACHE	(1 << 2) /* DMA cache coherency */
#define IOMMU_NOEXEC	(1 << 3)
#define IOMMU_MMIO	(1 << 4) /* e.g. things like MSI doorbells */
/*
 * IOMMU_PRIV: the other permission flags apply to privileged (supervisor) transactions only; unprivileged
 * transactions get as little access as the format allows.
 */
#define IOMMU_PRIV	(1 << 5)

struct iommu_ops;
struct iommu_group;
struct iommu_domain;
struct iommu_domain_ops;
struct iommu_dirty_ops;
struct iova_bitmap;
struct scatterlist;
struct iommu_dma_cookie;
struct iommu_user_data;
struct iommu_user_data_array;
struct mm_struct;

/* Fault flags passed to a domain's fault handler. */
#define IOMMU_FAULT_READ	0x0
#define IOMMU_FAULT_WRITE	0x1

typedef int (*iommu_fault_handler_t)(struct iommu_domain *, struct device *, unsigned long, int, void *);

/**
 * struct iommu_domain_geometry - the IOVA range a domain can map.
 * @aperture_start: first address that can be mapped.
 * @aperture_end: last address that can be mapped.
 * @force_aperture: DMA is only possible inside the aperture.
 */
struct iommu_domain_geometry {
	dma_addr_t aperture_start;
	dma_addr_t aperture_end;
	bool force_aperture;
};

enum iommu_domain_cookie_type {
	IOMMU_COOKIE_NONE,
	IOMMU_COOKIE_DMA_IOVA,
	IOMMU_COOKIE_DMA_MSI,
	IOMMU_COOKIE_FAULT_HANDLER,
	IOMMU_COOKIE_SVA,
	IOMMU_COOKIE_IOMMUFD,
};

/* Domain feature flags */
#define __IOMMU_DOMAIN_PAGING	(1U << 0)  /* Support for iommu_map/unmap */
#define __IOMMU_DOMAIN_DMA_API	(1U << 1)  /* Domain for use in DMA-API implementation */
#define __IOMMU_DOMAIN_PT	(1U << 2)  /* Domain is identity mapped */
#define __IOMMU_DOMAIN_DMA_FQ	(1U << 3)  /* DMA-API uses flush queue */
#define __IOMMU_DOMAIN_SVA	(1U << 4)  /* Shared process address space */
#define __IOMMU_DOMAIN_PLATFORM	(1U << 5)
#define __IOMMU_DOMAIN_NESTED	(1U << 6)  /* User-managed address space nested on a stage-2 translation */

#define IOMMU_DOMAIN_ALLOC_FLAGS ~__IOMMU_DOMAIN_DMA_FQ
#define IOMMU_DOMAIN_BLOCKED	(0U)
#define IOMMU_DOMAIN_IDENTITY	(__IOMMU_DOMAIN_PT)
#define IOMMU_DOMAIN_UNMANAGED	(__IOMMU_DOMAIN_PAGING)
#define IOMMU_DOMAIN_DMA	(__IOMMU_DOMAIN_PAGING | __IOMMU_DOMAIN_DMA_API)
#define IOMMU_DOMAIN_DMA_FQ	(__IOMMU_DOMAIN_PAGING | __IOMMU_DOMAIN_DMA_API | __IOMMU_DOMAIN_DMA_FQ)
#define IOMMU_DOMAIN_SVA	(__IOMMU_DOMAIN_SVA)
#define IOMMU_DOMAIN_PLATFORM	(__IOMMU_DOMAIN_PLATFORM)
#define IOMMU_DOMAIN_NESTED	(__IOMMU_DOMAIN_NESTED)

/**
 * struct iommu_domain - a translation context: what a group of devices sees.
 * @type: IOMMU_DOMAIN_*.
 * @cookie_type: which member of the cookie union is in use.
 * @ops: the domain's operations (the driver's).
 * @dirty_ops: dirty tracking (unused here).
 * @owner: the iommu_ops it was allocated from.
 * @pgsize_bitmap: the page sizes it maps with.
 * @geometry: the IOVA range it can map.
 * @iopf_handler: recoverable faults (unused here).
 * @iova_cookie: dma-iommu's cookie.
 * @handler: the fault handler set by iommu_set_fault_handler().
 * @handler_token: its argument.
 * @swiommu: swiommu's per-domain state. Owned by the library: set when the core first sees the domain.
 */
struct iommu_domain {
	unsigned type;
	enum iommu_domain_cookie_type cookie_type;
	const struct iommu_domain_ops *ops;
	const struct iommu_dirty_ops *dirty_ops;
	const struct iommu_ops *owner;
	unsigned long pgsize_bitmap;
	struct iommu_domain_geometry geometry;
	int (*iopf_handler)(void *group);
	union {
		struct iommu_dma_cookie *iova_cookie;
		struct {
			iommu_fault_handler_t handler;
			void *handler_token;
		};
	};
	void *swiommu;
};

static inline bool iommu_is_dma_domain(struct iommu_domain *domain)
{
	return domain->type & __IOMMU_DOMAIN_DMA_API;
}

enum iommu_cap {
	IOMMU_CAP_CACHE_COHERENCY,	/* IOMMU_CACHE is supported */
	IOMMU_CAP_NOEXEC,		/* IOMMU_NOEXEC flag */
	IOMMU_CAP_PRE_BOOT_PROTECTION,	/* Firmware used the IOMMU for DMA protection and we should too */
	IOMMU_CAP_ENFORCE_CACHE_COHERENCY,
	IOMMU_CAP_DEFERRED_FLUSH,	/* No TLB maintenance in unmap: a flush queue is useful */
	IOMMU_CAP_DIRTY_TRACKING,
};

enum iommu_resv_type {
	IOMMU_RESV_DIRECT,		/* must be mapped 1:1 at all times */
	IOMMU_RESV_DIRECT_RELAXABLE,	/* advertised 1:1, relaxable for device assignment */
	IOMMU_RESV_RESERVED,		/* never map it or give it to a device */
	IOMMU_RESV_MSI,			/* hardware MSI region (untranslated) */
	IOMMU_RESV_SW_MSI,		/* software-managed MSI translation window */
};

/**
 * struct iommu_resv_region - a reserved region of a device's IOVA space.
 * @list: list node.
 * @start: first address.
 * @length: bytes.
 * @prot: IOMMU_READ/WRITE/... for direct regions.
 * @type: enum iommu_resv_type.
 * @free: frees associated memory, or NULL.
 */
struct iommu_resv_region {
	struct list_head list;
	phys_addr_t start;
	size_t length;
	int prot;
	enum iommu_resv_type type;
	void (*free)(struct device *dev, struct iommu_resv_region *region);
};

/**
 * struct iommu_group - devices the IOMMU cannot isolate from each other. Opaque: use the iommu_group_*
 * calls.
 * @swiommu: the core's group object. Owned by the library.
 */
struct iommu_group {
	void *swiommu;
};

typedef unsigned int ioasid_t;
#define IOMMU_NO_PASID		(0U)
#define IOMMU_PASID_INVALID	(-1U)

/* Read but do not clear any dirty bits. */
#define IOMMU_DIRTY_NO_CLEAR (1 << 0)

/**
 * struct iommu_pages_list - page-table pages waiting to be freed after an IOTLB sync.
 * @pages: list of the pages (linked through their lru field).
 */
struct iommu_pages_list {
	struct list_head pages;
};

#define IOMMU_PAGES_LIST_INIT(name) \
	((struct iommu_pages_list){ .pages = LIST_HEAD_INIT(name.pages) })

/**
 * struct iommu_iotlb_gather - Range information for a pending IOTLB flush
 * @start: IOVA representing the start of the range to be flushed
 * @end: IOVA representing the end of the range to be flushed (inclusive)
 * @pgsize: The interval at which to perform the flush
 * @freelist: Removed pages to free after sync
 * @queued: Indicates that the flush will be queued
 *
 * Updated by successive unmap calls, then passed to ->iotlb_sync(). @queued says that ->iotlb_flush_all()
 * will be called later instead (the flush queue), so io-pgtable skips its per-page tlb_add_page calls.
 */
struct iommu_iotlb_gather {
	unsigned long		start;
	unsigned long		end;
	size_t			pgsize;
	struct iommu_pages_list	freelist;
	bool			queued;
};

/**
 * struct iommu_dirty_bitmap - Dirty IOVA bitmap state
 * @bitmap: IOVA bitmap
 * @gather: Range information for a pending IOTLB flush
 */
struct iommu_dirty_bitmap {
	struct iova_bitmap *bitmap;
	struct iommu_iotlb_gather *gather;
};

/**
 * iommu_iotlb_gather_init - Initialize IOMMU iotlb gather structure
 * @gather: Pointer to iotlb gather structure to initialize
 */
static inline void iommu_iotlb_gather_init(struct iommu_iotlb_gather *gather)
{
	*gather = (struct iommu_iotlb_gather) {
		.start	= ~0UL,
		.freelist = IOMMU_PAGES_LIST_INIT(gather->freelist),
	};
}

/* Whether the unmap's TLB invalidation is deferred to a flush queue (no per-page invalidation needed). */
static inline bool iommu_iotlb_gather_queued(struct iommu_iotlb_gather *gather)
{
	return gather && gather->queued;
}

/**
 * struct iommu_ops - an IOMMU driver's operations (Linux 6.17's members; the iommufd, SVA and nesting
 * ones are kept for layout and never called).
 */
struct iommu_ops {
	bool (*capable)(struct device *dev, enum iommu_cap);
	void *(*hw_info)(struct device *dev, u32 *length, u32 *type);
	struct iommu_domain *(*domain_alloc_identity)(struct device *dev);
	struct iommu_domain *(*domain_alloc_paging_flags)(struct device *dev, u32 flags,
							  const struct iommu_user_data *user_data);
	struct iommu_domain *(*domain_alloc_paging)(struct device *dev);
	struct iommu_domain *(*domain_alloc_sva)(struct device *dev, struct mm_struct *mm);
	struct iommu_domain *(*domain_alloc_nested)(struct device *dev, struct iommu_domain *parent, u32 flags,
						    const struct iommu_user_data *user_data);
	struct iommu_device *(*probe_device)(struct device *dev);
	void (*release_device)(struct device *dev);
	void (*probe_finalize)(struct device *dev);
	struct iommu_group *(*device_group)(struct device *dev);
	void (*get_resv_regions)(struct device *dev, struct list_head *list);
	int (*of_xlate)(struct device *dev, const struct of_phandle_args *args);
	bool (*is_attach_deferred)(struct device *dev);
	void (*page_response)(struct device *dev, void *evt, void *msg);
	int (*def_domain_type)(struct device *dev);
	size_t (*get_viommu_size)(struct device *dev, int viommu_type);
	int (*viommu_init)(void *viommu, struct iommu_domain *parent_domain, const struct iommu_user_data *user_data);
	const struct iommu_domain_ops *default_domain_ops;
	struct module *owner;
	struct iommu_domain *identity_domain;
	struct iommu_domain *blocked_domain;
	struct iommu_domain *release_domain;
	struct iommu_domain *default_domain;
	u8 user_pasid_table:1;
};

/**
 * struct iommu_domain_ops - a domain's operations.
 */
struct iommu_domain_ops {
	int (*attach_dev)(struct iommu_domain *domain, struct device *dev);
	int (*set_dev_pasid)(struct iommu_domain *domain, struct device *dev, ioasid_t pasid,
			     struct iommu_domain *old);
	int (*map_pages)(struct iommu_domain *domain, unsigned long iova, phys_addr_t paddr, size_t pgsize,
			 size_t pgcount, int prot, gfp_t gfp, size_t *mapped);
	size_t (*unmap_pages)(struct iommu_domain *domain, unsigned long iova, size_t pgsize, size_t pgcount,
			      struct iommu_iotlb_gather *iotlb_gather);
	void (*flush_iotlb_all)(struct iommu_domain *domain);
	int (*iotlb_sync_map)(struct iommu_domain *domain, unsigned long iova, size_t size);
	void (*iotlb_sync)(struct iommu_domain *domain, struct iommu_iotlb_gather *iotlb_gather);
	int (*cache_invalidate_user)(struct iommu_domain *domain, struct iommu_user_data_array *array);
	phys_addr_t (*iova_to_phys)(struct iommu_domain *domain, dma_addr_t iova);
	bool (*enforce_cache_coherency)(struct iommu_domain *domain);
	int (*set_pgtable_quirks)(struct iommu_domain *domain, unsigned long quirks);
	void (*free)(struct iommu_domain *domain);
};

/**
 * struct iommu_device - one IOMMU hardware instance, registered by its driver.
 * @list: the core's list of instances.
 * @ops: the driver's operations.
 * @fwnode: the instance's firmware node (its device tree node).
 * @dev: the instance's struct device.
 * @singleton_group: the group of generic_single_device_group().
 * @max_pasids: PASIDs supported.
 * @ready: registration completed.
 */
struct iommu_device {
	struct list_head list;
	const struct iommu_ops *ops;
	struct fwnode_handle *fwnode;
	struct device *dev;
	struct iommu_group *singleton_group;
	u32 max_pasids;
	bool ready;
};

#define SWIOMMU_FWSPEC_MAX_IDS	16

/**
 * struct iommu_fwspec - the firmware's description of a master's IOMMU: the instance and the IDs.
 * @iommu_fwnode: the IOMMU instance's firmware node.
 * @flags: IOMMU_FWSPEC_*.
 * @num_ids: how many IDs.
 * @ids: the IDs (a fixed array here; the kernel's is flexible).
 */
struct iommu_fwspec {
	struct fwnode_handle *iommu_fwnode;
	u32 flags;
	unsigned int num_ids;
	u32 ids[SWIOMMU_FWSPEC_MAX_IDS];
};

#define IOMMU_FWSPEC_PCI_RC_ATS		(1 << 0)

/**
 * struct dev_iommu - a master's IOMMU data (dev->iommu).
 * @lock: unused (the core serialises).
 * @fault_param: unused.
 * @fwspec: its fwspec.
 * @iommu_dev: the instance that serves it.
 * @priv: the driver's private data (dev_iommu_priv_get/set).
 * @max_pasids: PASIDs it may use.
 * @attach_deferred: attach at first DMA.
 * @pci_32bit_workaround: try 32-bit IOVAs first.
 * @require_direct: it has IOMMU_RESV_DIRECT regions.
 * @shadow_on_flush: unused.
 */
struct dev_iommu {
	void *lock;
	void *fault_param;
	struct iommu_fwspec *fwspec;
	struct iommu_device *iommu_dev;
	void *priv;
	u32 max_pasids;
	u32 attach_deferred:1;
	u32 pci_32bit_workaround:1;
	u32 require_direct:1;
	u32 shadow_on_flush:1;
};

static inline struct iommu_fwspec *dev_iommu_fwspec_get(struct device *dev)
{
	return dev->iommu ? dev->iommu->fwspec : (struct iommu_fwspec *)0;
}

static inline void *dev_iommu_priv_get(struct device *dev)
{
	return dev->iommu ? dev->iommu->priv : (void *)0;
}

static inline void dev_iommu_priv_set(struct device *dev, void *priv)
{
	if (dev->iommu)
		dev->iommu->priv = priv;
}

static inline struct iommu_device *__iommu_get_iommu_dev(struct device *dev)
{
	return dev->iommu->iommu_dev;
}

#define iommu_get_iommu_dev(dev, type, member) container_of(__iommu_get_iommu_dev(dev), type, member)

/* ------------------------------------------------------------------------------------------------ */
/* The core's API. Errors follow the kernel's; NULL or ERR_PTR arguments give -EINVAL (or NULL/0) with a
 * WARN record instead of a crash. */

/**
 * iommu_device_register() - register an IOMMU instance and its driver's ops.
 * @iommu: the instance (its @fwnode, or @hwdev's, names the device tree node masters refer to).
 * @ops: the driver's iommu_ops.
 * @hwdev: the instance's device.
 *
 * Masters deferred while the instance had no driver are probed again once the driver's probe returns.
 *
 * Return: 0, -EINVAL for NULL arguments, or -EEXIST when @iommu is registered already.
 */
int iommu_device_register(struct iommu_device *iommu, const struct iommu_ops *ops, struct device *hwdev);

/**
 * iommu_device_unregister() - remove an instance; its masters leave their groups.
 * @iommu: the instance (an unregistered one is reported with a WARN).
 */
void iommu_device_unregister(struct iommu_device *iommu);

/**
 * iommu_fwspec_init() - start a master's fwspec for an IOMMU instance (of_xlate's caller does this).
 * @dev: the master.
 * @iommu_fwnode: the instance's firmware node.
 *
 * Return: 0 (also when the fwspec exists for the same driver), -EINVAL for another driver's instance,
 * -EPROBE_DEFER when no driver has registered the instance yet, -ENOMEM.
 */
int iommu_fwspec_init(struct device *dev, struct fwnode_handle *iommu_fwnode);

/**
 * iommu_fwspec_add_ids() - add IDs (stream IDs ...) to a master's fwspec, from of_xlate.
 * @dev: the master.
 * @ids: the IDs.
 * @num_ids: how many.
 *
 * Return: 0, -EINVAL without a fwspec, -ENOMEM beyond SWIOMMU_FWSPEC_MAX_IDS.
 */
int iommu_fwspec_add_ids(struct device *dev, const u32 *ids, int num_ids);

/**
 * iommu_fwspec_free() - drop a master's fwspec.
 * @dev: the master.
 */
void iommu_fwspec_free(struct device *dev);

/**
 * iommu_paging_domain_alloc_flags() - an UNMANAGED domain from the device's IOMMU driver.
 * @dev: a device behind an IOMMU.
 * @flags: IOMMU_HWPT_ALLOC_* flags (0).
 *
 * Return: the domain, or ERR_PTR(-ENODEV) for a device without an IOMMU, ERR_PTR(-EOPNOTSUPP) when the
 * driver has no paging allocator, ERR_PTR(-ENOMEM), or the driver's ERR_PTR. Never NULL.
 */
struct iommu_domain *iommu_paging_domain_alloc_flags(struct device *dev, unsigned int flags);

static inline struct iommu_domain *iommu_paging_domain_alloc(struct device *dev)
{
	return iommu_paging_domain_alloc_flags(dev, 0);
}

/**
 * iommu_domain_alloc() - the pre-6.13 allocator, kept for older driver code: an UNMANAGED domain from the
 * IOMMU of the first device on @bus that has one.
 * @bus: the bus (&platform_bus_type).
 *
 * Return: the domain, or NULL.
 */
struct iommu_domain *iommu_domain_alloc(const struct bus_type *bus);

/**
 * iommu_domain_free() - free a domain (through its driver's free op).
 * @domain: the domain; one still attached to a group is refused with a WARN.
 */
void iommu_domain_free(struct iommu_domain *domain);

/**
 * iommu_attach_device() - attach a single-device group to a domain.
 * @domain: the domain.
 * @dev: the device.
 *
 * Return: 0, -ENODEV for a device without a group, -EINVAL for a group of several devices or another
 * driver's domain, -EBUSY when the group is off its default domain, or the driver's attach_dev error.
 */
int iommu_attach_device(struct iommu_domain *domain, struct device *dev);

/**
 * iommu_detach_device() - return a single-device group to its default (or blocking) domain.
 * @domain: the domain it is attached to (anything else is a WARN).
 * @dev: the device.
 */
void iommu_detach_device(struct iommu_domain *domain, struct device *dev);

/**
 * iommu_attach_group() - attach a whole group to a domain.
 * @domain: the domain.
 * @group: the group.
 *
 * Return: as iommu_attach_device(), without the single-device rule.
 */
int iommu_attach_group(struct iommu_domain *domain, struct iommu_group *group);

/**
 * iommu_detach_group() - return a group to its default (or blocking) domain.
 * @domain: the domain it is attached to.
 * @group: the group.
 */
void iommu_detach_group(struct iommu_domain *domain, struct iommu_group *group);

/**
 * iommu_get_domain_for_dev() - the domain a device's group is attached to now.
 * @dev: the device.
 *
 * Return: the domain, or NULL.
 */
struct iommu_domain *iommu_get_domain_for_dev(struct device *dev);

/**
 * iommu_get_dma_domain() - a device's default domain (the one the DMA API uses).
 * @dev: the device.
 *
 * Return: the domain, or NULL.
 */
struct iommu_domain *iommu_get_dma_domain(struct device *dev);

/**
 * iommu_map() - map [@iova, @iova + @size) to @paddr, split into the domain's page sizes.
 * @domain: a paging domain.
 * @iova: start (aligned to the smallest page size).
 * @paddr: physical start (aligned likewise).
 * @size: bytes (aligned likewise).
 * @prot: IOMMU_READ | IOMMU_WRITE | ...
 * @gfp: GFP_KERNEL or GFP_ATOMIC.
 *
 * Return: 0; -EINVAL for a non-paging domain, a zone gfp flag, or an unaligned range ("unaligned: iova ..."
 * is logged); -ENODEV for a domain without map_pages; or the driver's error, after unmapping what was mapped.
 */
int iommu_map(struct iommu_domain *domain, unsigned long iova, phys_addr_t paddr, size_t size, int prot, gfp_t gfp);

/**
 * iommu_map_nosync() - iommu_map() without the driver's iotlb_sync_map: batch several, then iommu_sync_map().
 * @domain: a paging domain.
 * @iova: start (aligned to the smallest page size).
 * @paddr: physical start (aligned likewise).
 * @size: bytes (aligned likewise).
 * @prot: IOMMU_READ | IOMMU_WRITE | ...
 * @gfp: GFP_KERNEL or GFP_ATOMIC.
 *
 * Return: as iommu_map(), without the errors of iotlb_sync_map.
 */
int iommu_map_nosync(struct iommu_domain *domain, unsigned long iova, phys_addr_t paddr, size_t size, int prot,
		     gfp_t gfp);

/**
 * iommu_sync_map() - the driver's iotlb_sync_map for a range mapped with iommu_map_nosync().
 * @domain: the domain.
 * @iova: start.
 * @size: bytes.
 *
 * Return: 0 (also when the driver has no iotlb_sync_map), or the driver's error; the range stays mapped
 * (iommu_map() unmaps it, this does not).
 */
int iommu_sync_map(struct iommu_domain *domain, unsigned long iova, size_t size);

/**
 * iommu_unmap() - unmap a range and flush the IOTLB.
 * @domain: the domain.
 * @iova: start.
 * @size: bytes.
 *
 * Return: bytes unmapped (more than @size when a larger block went; 0 for nothing mapped or an unaligned
 * range).
 */
size_t iommu_unmap(struct iommu_domain *domain, unsigned long iova, size_t size);

/**
 * iommu_unmap_fast() - unmap without flushing: the caller syncs @iotlb_gather later.
 * @domain: the domain.
 * @iova: start.
 * @size: bytes.
 * @iotlb_gather: where the pending invalidation is gathered.
 *
 * Return: bytes unmapped, as iommu_unmap().
 */
size_t iommu_unmap_fast(struct iommu_domain *domain, unsigned long iova, size_t size,
			struct iommu_iotlb_gather *iotlb_gather);

/**
 * iommu_map_sg() - map a scatterlist at consecutive IOVAs: physically contiguous entries merge into one
 * iommu_map(), entries marked as bus addresses (sg_dma_is_bus_address) are skipped, then one
 * iotlb_sync_map for the whole range. A failure unmaps what was mapped.
 * @domain: a paging domain.
 * @iova: where the first entry goes.
 * @sg: the first entry.
 * @nents: entries to map.
 * @prot: IOMMU_READ, IOMMU_WRITE ...
 * @gfp: allocation flags for table pages.
 *
 * Return: the bytes mapped, or -EINVAL (NULL or ERR_PTR arguments, a zone or compound gfp, an unaligned
 * entry), or the driver's error.
 */
ssize_t iommu_map_sg(struct iommu_domain *domain, unsigned long iova, struct scatterlist *sg, unsigned int nents,
		     int prot, gfp_t gfp);

/**
 * iommu_map_sgtable() - iommu_map_sg() of a table's original entries, with GFP_KERNEL.
 * @domain: a paging domain.
 * @iova: where the first entry goes.
 * @sgt: the table.
 * @prot: IOMMU_READ, IOMMU_WRITE ...
 *
 * Return: as iommu_map_sg().
 */
static inline ssize_t iommu_map_sgtable(struct iommu_domain *domain, unsigned long iova, struct sg_table *sgt,
					int prot)
{
	return iommu_map_sg(domain, iova, sgt->sgl, sgt->orig_nents, prot, GFP_KERNEL);
}

/**
 * iommu_set_pgtable_quirks() - ask the driver for io-pgtable quirks on an unmanaged domain before its first
 * attach.
 * @domain: the domain.
 * @quirks: IO_PGTABLE_QUIRK_* bits.
 *
 * Return: 0, or -EINVAL for another domain type, a driver without set_pgtable_quirks (the built-in models
 * have none), or NULL/ERR_PTR; else the driver's error.
 */
int iommu_set_pgtable_quirks(struct iommu_domain *domain, unsigned long quirks);

/**
 * iommu_iova_to_phys() - the physical address an IOVA maps to (the driver's software walk).
 * @domain: the domain.
 * @iova: the address.
 *
 * Return: the physical address, or 0 when nothing is mapped there.
 */
phys_addr_t iommu_iova_to_phys(struct iommu_domain *domain, dma_addr_t iova);

/**
 * iommu_set_fault_handler() - install the function report_iommu_fault() calls for this domain.
 * @domain: a domain of the caller's own (iommu_paging_domain_alloc()).
 * @handler: the handler.
 * @token: its last argument.
 *
 * As in 6.17, the handler shares the domain's cookie: a DMA-API domain (dma-iommu's cookie) or a domain that
 * has a handler already gets a WARN and keeps what it has, so the first handler stays for the domain's life.
 */
void iommu_set_fault_handler(struct iommu_domain *domain, iommu_fault_handler_t handler, void *token);

/**
 * report_iommu_fault() - an IOMMU driver reports a fault on a domain.
 * @domain: the domain.
 * @dev: the faulting master.
 * @iova: the address.
 * @flags: IOMMU_FAULT_READ or IOMMU_FAULT_WRITE.
 *
 * Return: the handler's return value (0: handled), or -ENOSYS when the domain has no handler; the driver
 * then logs the fault its own way.
 */
int report_iommu_fault(struct iommu_domain *domain, struct device *dev, unsigned long iova, int flags);

/**
 * device_iommu_capable() - whether a device's IOMMU driver has a capability.
 * @dev: the device.
 * @cap: the capability.
 *
 * Return: true or false (false for a device without an IOMMU).
 */
bool device_iommu_capable(struct device *dev, enum iommu_cap cap);

/**
 * iommu_group_alloc() - a new empty group, with one reference for the caller.
 *
 * Return: the group, or ERR_PTR(-ENODEV) before swiommu_init().
 */
struct iommu_group *iommu_group_alloc(void);

/**
 * iommu_group_get() - a device's group, with a reference taken.
 * @dev: the device.
 *
 * Return: the group, or NULL.
 */
struct iommu_group *iommu_group_get(struct device *dev);

/**
 * iommu_group_ref_get() - take another reference.
 * @group: the group.
 *
 * Return: @group.
 */
struct iommu_group *iommu_group_ref_get(struct iommu_group *group);

/**
 * iommu_group_put() - drop a reference; an empty group goes with its last one.
 * @group: the group (NULL is ignored).
 */
void iommu_group_put(struct iommu_group *group);

/**
 * iommu_group_add_device() - put a device in a group (device_group callers do it for the core).
 * @group: the group.
 * @dev: the device.
 *
 * Return: 0, -EINVAL for bad arguments, -EBUSY when the device is in a group already.
 */
int iommu_group_add_device(struct iommu_group *group, struct device *dev);

/**
 * iommu_group_remove_device() - take a device out of its group.
 * @dev: the device.
 */
void iommu_group_remove_device(struct device *dev);

/**
 * iommu_group_for_each_dev() - call @fn for each device of a group, stopping at a non-zero return.
 * @group: the group.
 * @data: @fn's second argument.
 * @fn: the function.
 *
 * Return: the first non-zero return of @fn, or 0; -EINVAL for a bad group.
 */
int iommu_group_for_each_dev(struct iommu_group *group, void *data, int (*fn)(struct device *, void *));

/**
 * iommu_get_group_resv_regions() - the reserved regions of every device in a group, merged.
 * @group: the group.
 * @head: an initialised list head; the regions (kmalloc'd copies) are added to it sorted by start address,
 *        regions of one type merged where they overlap or touch. Free them with kfree() each, or with
 *        iommu_put_resv_regions().
 *
 * As in 6.17, the walk stops at the first device without an IOMMU driver.
 *
 * Return: 0, -ENOMEM when a copy cannot be allocated, -EINVAL for a bad group or list.
 */
int iommu_get_group_resv_regions(struct iommu_group *group, struct list_head *head);

/**
 * iommu_group_has_isolated_msi() - whether every device of a group has isolated MSIs.
 * @group: the group.
 *
 * swiommu models no MSI domains and arm64 has no architectural MSI isolation, so, as 6.17 answers for such
 * devices, only a group with no device has them.
 *
 * Return: true for an empty group, false otherwise (and for a bad group).
 */
bool iommu_group_has_isolated_msi(struct iommu_group *group);

/**
 * device_iommu_mapped() - whether a device sits behind an IOMMU (is in a group).
 * @dev: the device.
 *
 * Return: true or false.
 */
static inline bool device_iommu_mapped(struct device *dev)
{
	return dev->iommu_group != NULL;
}

/**
 * iommu_group_id() - a group's number.
 * @group: the group.
 *
 * Return: the number, or -EINVAL for a bad group.
 */
int iommu_group_id(struct iommu_group *group);

/**
 * iommu_group_set_name() - name a group.
 * @group: the group.
 * @name: the name (copied).
 *
 * Return: 0, or -EINVAL for a bad group.
 */
int iommu_group_set_name(struct iommu_group *group, const char *name);

/**
 * iommu_group_get_iommudata() - the driver's data on a group.
 * @group: the group.
 *
 * Return: the data, or NULL.
 */
void *iommu_group_get_iommudata(struct iommu_group *group);

/**
 * iommu_group_set_iommudata() - attach driver data to a group, with its release function.
 * @group: the group.
 * @iommu_data: the data.
 * @release: called when the group goes (may be NULL).
 */
void iommu_group_set_iommudata(struct iommu_group *group, void *iommu_data, void (*release)(void *iommu_data));

/**
 * iommu_group_default_domain() - a group's default domain.
 * @group: the group.
 *
 * Return: the domain, or NULL.
 */
struct iommu_domain *iommu_group_default_domain(struct iommu_group *group);

/**
 * generic_device_group() - device_group helper: a new group for every device.
 * @dev: the device.
 *
 * Return: the group (with a reference), or ERR_PTR.
 */
struct iommu_group *generic_device_group(struct device *dev);

/**
 * generic_single_device_group() - device_group helper: one group for all masters of an instance.
 * @dev: the device.
 *
 * Return: the instance's group (with a reference), or ERR_PTR(-EINVAL) when the device has no instance.
 */
struct iommu_group *generic_single_device_group(struct device *dev);

/**
 * iommu_group_claim_dma_owner() - take exclusive DMA ownership of a group (the group moves to a blocking
 * domain).
 * @group: the group.
 * @owner: the owner's cookie.
 *
 * Return: 0, -EINVAL for bad arguments, -EPERM while a DMA-API driver or another owner uses the group.
 */
int iommu_group_claim_dma_owner(struct iommu_group *group, void *owner);

/**
 * iommu_group_release_dma_owner() - give ownership back: the group returns to its default domain.
 * @group: the group.
 */
void iommu_group_release_dma_owner(struct iommu_group *group);

/**
 * iommu_device_claim_dma_owner() - claim a device's group, shared between claims with the same @owner.
 * @dev: the device.
 * @owner: the cookie.
 *
 * Return: 0, -ENODEV without a group, -EINVAL for a NULL @owner, -EPERM when someone else uses the group.
 */
int iommu_device_claim_dma_owner(struct device *dev, void *owner);

/**
 * iommu_device_release_dma_owner() - drop one claim of a device's group.
 * @dev: the device.
 */
void iommu_device_release_dma_owner(struct device *dev);

/**
 * iommu_group_dma_owner_claimed() - whether someone owns a group's DMA.
 * @group: the group.
 *
 * Return: true or false.
 */
bool iommu_group_dma_owner_claimed(struct iommu_group *group);

/**
 * iommu_set_dma_strict() - make default domains strict (no flush queue) from now on.
 */
void iommu_set_dma_strict(void);

/**
 * iommu_set_default_passthrough() - identity default domains from now on.
 * @cmd_line: unused.
 */
void iommu_set_default_passthrough(bool cmd_line);

/**
 * iommu_set_default_translated() - translated default domains from now on.
 * @cmd_line: unused.
 */
void iommu_set_default_translated(bool cmd_line);

/**
 * iommu_default_passthrough() - whether default domains are identity domains.
 *
 * Return: true or false.
 */
bool iommu_default_passthrough(void);

/**
 * iommu_alloc_resv_region() - allocate a reserved-region descriptor (kmalloc'd; iommu_put_resv_regions()
 * frees it).
 * @start: first address.
 * @length: bytes.
 * @prot: IOMMU_READ | IOMMU_WRITE ... for direct regions.
 * @type: the region's type.
 * @gfp: allocation flags.
 *
 * Return: the region, or NULL when memory runs out.
 */
struct iommu_resv_region *iommu_alloc_resv_region(phys_addr_t start, size_t length, int prot,
						  enum iommu_resv_type type, gfp_t gfp);

/**
 * iommu_get_resv_regions() - a device's reserved regions, as its IOMMU driver's get_resv_regions reports them.
 * @dev: the device.
 * @list: an initialised list head; the regions are appended.
 */
void iommu_get_resv_regions(struct device *dev, struct list_head *list);

/**
 * iommu_put_resv_regions() - free the regions iommu_get_resv_regions() returned.
 * @dev: the device.
 * @list: the list; it is empty afterwards.
 */
void iommu_put_resv_regions(struct device *dev, struct list_head *list);

static inline void iommu_flush_iotlb_all(struct iommu_domain *domain)
{
	if (domain->ops->flush_iotlb_all)
		domain->ops->flush_iotlb_all(domain);
}

static inline void iommu_iotlb_sync(struct iommu_domain *domain, struct iommu_iotlb_gather *iotlb_gather)
{
	if (domain->ops->iotlb_sync)
		domain->ops->iotlb_sync(domain, iotlb_gather);
	iommu_iotlb_gather_init(iotlb_gather);
}

static inline bool iommu_iotlb_gather_is_disjoint(struct iommu_iotlb_gather *gather, unsigned long iova, size_t size)
{
	unsigned long start = iova, end = start + size - 1;

	return gather->end != 0 && (end + 1 < gather->start || start > gather->end + 1);
}

static inline void iommu_iotlb_gather_add_range(struct iommu_iotlb_gather *gather, unsigned long iova, size_t size)
{
	unsigned long end = iova + size - 1;

	if (gather->start > iova)
		gather->start = iova;
	if (gather->end < end)
		gather->end = end;
}

static inline void iommu_iotlb_gather_add_page(struct iommu_domain *domain, struct iommu_iotlb_gather *gather,
					       unsigned long iova, size_t size)
{
	/* A different granule, or a range that does not touch the gathered one: sync first. */
	if ((gather->pgsize && gather->pgsize != size) || iommu_iotlb_gather_is_disjoint(gather, iova, size))
		iommu_iotlb_sync(domain, gather);
	gather->pgsize = size;
	iommu_iotlb_gather_add_range(gather, iova, size);
}

#endif /* __LINUX_IOMMU_H */
