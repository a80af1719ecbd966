/* SPDX-License-Identifier: MIT */
/* struct device, mirroring the kernel's linux/device.h (Linux 6.17) for swiommu. */
#ifndef _DEVICE_H_
#define _DEVICE_H_

#include <linux/types.h>
#include <linux/compiler.h>
#include <linux/container_of.h>
#include <linux/kernel.h>
#include <linux/gfp.h>
#include <linux/dev_printk.h>
#include <linux/device/bus.h>
#include <linux/device/driver.h>
#include <swiommu/alloc_tag.h>

struct device_node;
struct fwnode_handle;
struct dma_map_ops;
struct iommu_group;
struct dev_iommu;
struct device_type;
struct swiommu_device;
struct io_tlb_mem;
struct swiommu_dma_device;

/**
 * struct device_dma_parameters - a device's DMA segment limits (dma_set_max_seg_size() ...).
 * @max_segment_size: largest scatterlist segment the device takes.
 * @min_align_mask: low address bits swiotlb must preserve.
 * @segment_boundary_mask: a segment must not cross a boundary of this mask + 1.
 */
struct device_dma_parameters {
	unsigned int max_segment_size;
	unsigned int min_align_mask;
	unsigned long segment_boundary_mask;
};

/**
 * struct bus_dma_region - one range of dma-ranges (Linux 6.17 drops the 6.6 @offset field).
 * @cpu_start: physical start.
 * @dma_start: bus start.
 * @size: bytes; a zero size ends the array.
 */
struct bus_dma_region {
	phys_addr_t cpu_start;
	dma_addr_t dma_start;
	u64 size;
};

/**
 * struct kobject - the name and reference count of a device.
 * @name: the device name (dev_name()).
 * @parent: the parent's kobject.
 * @refcount: get_device()/put_device() count.
 */
struct kobject {
	const char *name;
	struct kobject *parent;
	int refcount;
};

/**
 * struct device - the fields of the kernel's struct device that DMA and IOMMU code touch.
 * @kobj: name and reference count.
 * @parent: the parent device (a bus controller, or NULL).
 * @init_name: name before registration.
 * @type: unused.
 * @bus: its bus (&platform_bus_type for platform devices).
 * @driver: the bound driver, or NULL.
 * @platform_data: board data.
 * @driver_data: dev_set_drvdata()'s pointer.
 * @dma_ops: DMA ops installed with set_dma_ops(), or NULL (dma-direct or IOMMU DMA).
 * @dma_mask: the streaming DMA mask: a pointer, as bus code points it at storage.
 * @coherent_dma_mask: the mask for coherent allocations.
 * @bus_dma_limit: the interconnect's limit from dma-ranges (0: none).
 * @dma_range_map: dma-ranges translations, ended by a zero-size entry, or NULL.
 * @dma_parms: segment limits.
 * @dma_pools: dma_pool list.
 * @dma_io_tlb_mem: its software IO TLB (the machine's default pool, set when the DMA layer configures it).
 * @of_node: its device tree node.
 * @fwnode: firmware node (&of_node->fwnode).
 * @numa_node: always -1 (NUMA_NO_NODE).
 * @id: instance id.
 * @iommu_group: its IOMMU group, or NULL.
 * @iommu: per-device IOMMU data (the fwspec), or NULL.
 * @release: called when the last reference goes.
 * @offline_disabled: unused.
 * @offline: unused.
 * @of_node_reused: unused.
 * @state_synced: unused.
 * @can_match: a driver matched it once.
 * @dma_coherent: DMA is cache-coherent (of_dma_is_coherent()); otherwise the CPU cache model applies.
 * @dma_ops_bypass: unused.
 * @dma_skip_sync: syncs are no-ops for this device.
 * @dma_iommu: DMA goes through the IOMMU DMA ops (Linux 6.12+).
 * @swiommu: swiommu's per-device state. Owned by the library.
 * @swiommu_dma: the DMA layer's per-device state (the routes of its channels). Owned by the library.
 */
struct device {
	struct kobject kobj;
	struct device *parent;
	const char *init_name;
	const struct device_type *type;
	const struct bus_type *bus;
	struct device_driver *driver;
	void *platform_data;
	void *driver_data;
	const struct dma_map_ops *dma_ops;
	u64 *dma_mask;
	u64 coherent_dma_mask;
	u64 bus_dma_limit;
	const struct bus_dma_region *dma_range_map;
	struct device_dma_parameters *dma_parms;
	struct list_head dma_pools;
	struct io_tlb_mem *dma_io_tlb_mem;
	struct device_node *of_node;
	struct fwnode_handle *fwnode;
	int numa_node;
	u32 id;
	struct iommu_group *iommu_group;
	struct dev_iommu *iommu;
	void (*release)(struct device *dev);
	bool offline_disabled:1;
	bool offline:1;
	bool of_node_reused:1;
	bool state_synced:1;
	bool can_match:1;
	bool dma_coherent:1;
	bool dma_ops_bypass:1;
	bool dma_skip_sync:1;
	bool dma_iommu:1;
	struct swiommu_device *swiommu;
	struct swiommu_dma_device *swiommu_dma;
};

static inline const char *dev_name(const struct device *dev)
{
	if (dev->init_name)
		return dev->init_name;
	return dev->kobj.name;
}

static inline void *dev_get_drvdata(const struct device *dev)
{
	return dev->driver_data;
}

static inline void dev_set_drvdata(struct device *dev, void *data)
{
	dev->driver_data = data;
}

static inline int dev_to_node(struct device *dev)
{
	(void)dev;
	return -1;
}

static inline struct device_node *dev_of_node(struct device *dev)
{
	return dev->of_node;
}

/**
 * dev_driver_string() - the driver name of a bound device, else its bus name, as the kernel prints it.
 * @dev: the device.
 *
 * Return: a string, "" when there is neither.
 */
const char *dev_driver_string(const struct device *dev);

/**
 * get_device() - take a reference.
 * @dev: the device, or NULL.
 *
 * Return: @dev.
 */
struct device *get_device(struct device *dev);

/**
 * put_device() - drop a reference; the last one calls @dev->release.
 * @dev: the device, or NULL.
 *
 * Dropping a reference that was never taken is reported with a WARN record.
 */
void put_device(struct device *dev);

/**
 * device_is_bound() - whether a driver is bound to @dev.
 * @dev: the device.
 *
 * Return: true or false.
 */
bool device_is_bound(struct device *dev);

/**
 * devm_kmalloc() - kmalloc() memory that is freed when the driver unbinds (or its probe fails).
 * @dev: the device.
 * @size: bytes.
 * @gfp: GFP flags.
 *
 * Return: the memory, or NULL (also for a NULL @dev, with a WARN record).
 */
void *devm_kmalloc(struct device *dev, size_t size, gfp_t gfp);

static inline void *devm_kzalloc(struct device *dev, size_t size, gfp_t gfp)
{
	return devm_kmalloc(dev, size, gfp | __GFP_ZERO);
}

static inline void *devm_kmalloc_array(struct device *dev, size_t n, size_t size, gfp_t flags)
{
	size_t bytes;

	if (__builtin_mul_overflow(n, size, &bytes))
		return NULL;
	return devm_kmalloc(dev, bytes, flags);
}

static inline void *devm_kcalloc(struct device *dev, size_t n, size_t size, gfp_t flags)
{
	return devm_kmalloc_array(dev, n, size, flags | __GFP_ZERO);
}

/**
 * devm_kfree() - free devm_kmalloc() memory before unbind.
 * @dev: the device.
 * @p: the memory.
 *
 * Memory that is not a managed allocation of @dev is reported with a WARN record and left alone.
 */
void devm_kfree(struct device *dev, const void *p);

/**
 * devm_add_action() - run @action(@data) when the driver unbinds, after remove, in reverse order.
 * @dev: the device.
 * @action: the function.
 * @data: its argument.
 *
 * Return: 0, -ENOMEM when the record cannot be allocated, or -EINVAL for a NULL @dev or @action.
 */
int devm_add_action(struct device *dev, void (*action)(void *), void *data);

/**
 * devm_add_action_or_reset() - devm_add_action(), running @action(@data) at once if it fails.
 * @dev: the device.
 * @action: the function.
 * @data: its argument.
 *
 * Return: 0 or devm_add_action()'s error.
 */
static inline int devm_add_action_or_reset(struct device *dev, void (*action)(void *), void *data)
{
	int ret = devm_add_action(dev, action, data);

	if (ret)
		action(data);
	return ret;
}

/**
 * devm_remove_action() - forget a registered action without running it.
 * @dev: the device.
 * @action: the function.
 * @data: its argument.
 *
 * An action that is not registered is reported with a WARN record, as the kernel does.
 */
void devm_remove_action(struct device *dev, void (*action)(void *), void *data);

#endif /* _DEVICE_H_ */
