// SPDX-License-Identifier: MIT
// The C compiler and the Swift core agree on the size and member offsets of every exported struct.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <linux/errno.h>
#include <linux/mm.h>
#include <linux/device.h>
#include <linux/platform_device.h>
#include <linux/of.h>
#include <swiommu/swiommu.h>

#define CHECK_SIZE(type, name) \
	assert_int_equal(swiommu_layout_sizeof(name), (long)sizeof(type))
#define CHECK_MEMBER(type, name, member) \
	assert_int_equal(swiommu_layout_offsetof(name, #member), (long)offsetof(type, member))

static void memory_structs(void **state)
{
	(void)state;
	CHECK_SIZE(struct list_head, "list_head");
	CHECK_MEMBER(struct list_head, "list_head", next);
	CHECK_MEMBER(struct list_head, "list_head", prev);
	CHECK_SIZE(struct swiommu_alloc_site, "swiommu_alloc_site");
	CHECK_MEMBER(struct swiommu_alloc_site, "swiommu_alloc_site", file);
	CHECK_MEMBER(struct swiommu_alloc_site, "swiommu_alloc_site", func);
	CHECK_MEMBER(struct swiommu_alloc_site, "swiommu_alloc_site", line);
	CHECK_SIZE(struct swiommu_page_meta, "swiommu_page_meta");
	CHECK_MEMBER(struct swiommu_page_meta, "swiommu_page_meta", node);
	CHECK_MEMBER(struct swiommu_page_meta, "swiommu_page_meta", site);
	CHECK_MEMBER(struct swiommu_page_meta, "swiommu_page_meta", slab);
	CHECK_MEMBER(struct swiommu_page_meta, "swiommu_page_meta", memview);
	CHECK_MEMBER(struct swiommu_page_meta, "swiommu_page_meta", order);
	CHECK_MEMBER(struct swiommu_page_meta, "swiommu_page_meta", state);
	CHECK_SIZE(struct page, "page");
	CHECK_MEMBER(struct page, "page", flags);
	CHECK_MEMBER(struct page, "page", lru);
	CHECK_MEMBER(struct page, "page", mapping);
	CHECK_MEMBER(struct page, "page", index);
	CHECK_MEMBER(struct page, "page", private);
	CHECK_MEMBER(struct page, "page", _mapcount);
	CHECK_MEMBER(struct page, "page", _refcount);
	CHECK_MEMBER(struct page, "page", swiommu);
	CHECK_SIZE(pgprot_t, "pgprot_t");
	CHECK_MEMBER(pgprot_t, "pgprot_t", pgprot);
	CHECK_SIZE(struct swiommu_mem_stats, "swiommu_mem_stats");
	CHECK_MEMBER(struct swiommu_mem_stats, "swiommu_mem_stats", ram_bytes);
	CHECK_MEMBER(struct swiommu_mem_stats, "swiommu_mem_stats", free_bytes);
	CHECK_MEMBER(struct swiommu_mem_stats, "swiommu_mem_stats", page_blocks);
	CHECK_MEMBER(struct swiommu_mem_stats, "swiommu_mem_stats", page_bytes);
	CHECK_MEMBER(struct swiommu_mem_stats, "swiommu_mem_stats", kmalloc_objects);
	CHECK_MEMBER(struct swiommu_mem_stats, "swiommu_mem_stats", kmalloc_bytes);
	CHECK_MEMBER(struct swiommu_mem_stats, "swiommu_mem_stats", vmalloc_areas);
	CHECK_MEMBER(struct swiommu_mem_stats, "swiommu_mem_stats", vmalloc_bytes);
	CHECK_MEMBER(struct swiommu_mem_stats, "swiommu_mem_stats", vmap_areas);
}

static void device_structs(void **state)
{
	(void)state;
	CHECK_SIZE(struct kobject, "kobject");
	CHECK_MEMBER(struct kobject, "kobject", name);
	CHECK_MEMBER(struct kobject, "kobject", parent);
	CHECK_MEMBER(struct kobject, "kobject", refcount);
	CHECK_SIZE(struct device_dma_parameters, "device_dma_parameters");
	CHECK_MEMBER(struct device_dma_parameters, "device_dma_parameters", max_segment_size);
	CHECK_MEMBER(struct device_dma_parameters, "device_dma_parameters", min_align_mask);
	CHECK_MEMBER(struct device_dma_parameters, "device_dma_parameters", segment_boundary_mask);
	CHECK_SIZE(struct bus_dma_region, "bus_dma_region");
	CHECK_MEMBER(struct bus_dma_region, "bus_dma_region", cpu_start);
	CHECK_MEMBER(struct bus_dma_region, "bus_dma_region", dma_start);
	CHECK_MEMBER(struct bus_dma_region, "bus_dma_region", size);
	CHECK_SIZE(struct bus_type, "bus_type");
	CHECK_MEMBER(struct bus_type, "bus_type", name);
	CHECK_MEMBER(struct bus_type, "bus_type", match);
	CHECK_MEMBER(struct bus_type, "bus_type", probe);
	CHECK_MEMBER(struct bus_type, "bus_type", remove);
	CHECK_MEMBER(struct bus_type, "bus_type", dma_configure);
	CHECK_MEMBER(struct bus_type, "bus_type", dma_cleanup);
	CHECK_SIZE(struct device_driver, "device_driver");
	CHECK_MEMBER(struct device_driver, "device_driver", name);
	CHECK_MEMBER(struct device_driver, "device_driver", bus);
	CHECK_MEMBER(struct device_driver, "device_driver", owner);
	CHECK_MEMBER(struct device_driver, "device_driver", mod_name);
	CHECK_MEMBER(struct device_driver, "device_driver", suppress_bind_attrs);
	CHECK_MEMBER(struct device_driver, "device_driver", probe_type);
	CHECK_MEMBER(struct device_driver, "device_driver", of_match_table);
	CHECK_MEMBER(struct device_driver, "device_driver", acpi_match_table);
	CHECK_MEMBER(struct device_driver, "device_driver", probe);
	CHECK_MEMBER(struct device_driver, "device_driver", sync_state);
	CHECK_MEMBER(struct device_driver, "device_driver", remove);
	CHECK_MEMBER(struct device_driver, "device_driver", shutdown);
	CHECK_MEMBER(struct device_driver, "device_driver", pm);
	CHECK_SIZE(struct device, "device");
	CHECK_MEMBER(struct device, "device", kobj);
	CHECK_MEMBER(struct device, "device", parent);
	CHECK_MEMBER(struct device, "device", init_name);
	CHECK_MEMBER(struct device, "device", type);
	CHECK_MEMBER(struct device, "device", bus);
	CHECK_MEMBER(struct device, "device", driver);
	CHECK_MEMBER(struct device, "device", platform_data);
	CHECK_MEMBER(struct device, "device", driver_data);
	CHECK_MEMBER(struct device, "device", dma_ops);
	CHECK_MEMBER(struct device, "device", dma_mask);
	CHECK_MEMBER(struct device, "device", coherent_dma_mask);
	CHECK_MEMBER(struct device, "device", bus_dma_limit);
	CHECK_MEMBER(struct device, "device", dma_range_map);
	CHECK_MEMBER(struct device, "device", dma_parms);
	CHECK_MEMBER(struct device, "device", dma_pools);
	CHECK_MEMBER(struct device, "device", of_node);
	CHECK_MEMBER(struct device, "device", fwnode);
	CHECK_MEMBER(struct device, "device", numa_node);
	CHECK_MEMBER(struct device, "device", id);
	CHECK_MEMBER(struct device, "device", iommu_group);
	CHECK_MEMBER(struct device, "device", iommu);
	CHECK_MEMBER(struct device, "device", release);
	CHECK_MEMBER(struct device, "device", swiommu);
	CHECK_SIZE(struct module, "module");
	CHECK_MEMBER(struct module, "module", name);
}

static void platform_and_of_structs(void **state)
{
	(void)state;
	CHECK_SIZE(struct resource, "resource");
	CHECK_MEMBER(struct resource, "resource", start);
	CHECK_MEMBER(struct resource, "resource", end);
	CHECK_MEMBER(struct resource, "resource", name);
	CHECK_MEMBER(struct resource, "resource", flags);
	CHECK_MEMBER(struct resource, "resource", desc);
	CHECK_MEMBER(struct resource, "resource", parent);
	CHECK_MEMBER(struct resource, "resource", sibling);
	CHECK_MEMBER(struct resource, "resource", child);
	CHECK_SIZE(struct of_device_id, "of_device_id");
	CHECK_MEMBER(struct of_device_id, "of_device_id", name);
	CHECK_MEMBER(struct of_device_id, "of_device_id", type);
	CHECK_MEMBER(struct of_device_id, "of_device_id", compatible);
	CHECK_MEMBER(struct of_device_id, "of_device_id", data);
	CHECK_SIZE(struct platform_device_id, "platform_device_id");
	CHECK_MEMBER(struct platform_device_id, "platform_device_id", name);
	CHECK_MEMBER(struct platform_device_id, "platform_device_id", driver_data);
	CHECK_SIZE(struct platform_device, "platform_device");
	CHECK_MEMBER(struct platform_device, "platform_device", name);
	CHECK_MEMBER(struct platform_device, "platform_device", id);
	CHECK_MEMBER(struct platform_device, "platform_device", id_auto);
	CHECK_MEMBER(struct platform_device, "platform_device", dev);
	CHECK_MEMBER(struct platform_device, "platform_device", platform_dma_mask);
	CHECK_MEMBER(struct platform_device, "platform_device", dma_parms);
	CHECK_MEMBER(struct platform_device, "platform_device", num_resources);
	CHECK_MEMBER(struct platform_device, "platform_device", resource);
	CHECK_MEMBER(struct platform_device, "platform_device", id_entry);
	CHECK_MEMBER(struct platform_device, "platform_device", driver_override);
	CHECK_SIZE(struct platform_driver, "platform_driver");
	CHECK_MEMBER(struct platform_driver, "platform_driver", probe);
	CHECK_MEMBER(struct platform_driver, "platform_driver", remove);
	CHECK_MEMBER(struct platform_driver, "platform_driver", shutdown);
	CHECK_MEMBER(struct platform_driver, "platform_driver", suspend);
	CHECK_MEMBER(struct platform_driver, "platform_driver", resume);
	CHECK_MEMBER(struct platform_driver, "platform_driver", driver);
	CHECK_MEMBER(struct platform_driver, "platform_driver", id_table);
	CHECK_MEMBER(struct platform_driver, "platform_driver", prevent_deferred_probe);
	CHECK_MEMBER(struct platform_driver, "platform_driver", driver_managed_dma);
	CHECK_SIZE(struct fwnode_handle, "fwnode_handle");
	CHECK_MEMBER(struct fwnode_handle, "fwnode_handle", secondary);
	CHECK_MEMBER(struct fwnode_handle, "fwnode_handle", ops);
	CHECK_MEMBER(struct fwnode_handle, "fwnode_handle", dev);
	CHECK_SIZE(struct property, "property");
	CHECK_MEMBER(struct property, "property", name);
	CHECK_MEMBER(struct property, "property", length);
	CHECK_MEMBER(struct property, "property", value);
	CHECK_MEMBER(struct property, "property", next);
	CHECK_SIZE(struct device_node, "device_node");
	CHECK_MEMBER(struct device_node, "device_node", name);
	CHECK_MEMBER(struct device_node, "device_node", phandle);
	CHECK_MEMBER(struct device_node, "device_node", full_name);
	CHECK_MEMBER(struct device_node, "device_node", fwnode);
	CHECK_MEMBER(struct device_node, "device_node", properties);
	CHECK_MEMBER(struct device_node, "device_node", deadprops);
	CHECK_MEMBER(struct device_node, "device_node", parent);
	CHECK_MEMBER(struct device_node, "device_node", child);
	CHECK_MEMBER(struct device_node, "device_node", sibling);
	CHECK_MEMBER(struct device_node, "device_node", _flags);
	CHECK_MEMBER(struct device_node, "device_node", data);
}

static void dma_debug_structs(void **state)
{
	(void)state;
	CHECK_SIZE(struct swiommu_dma_debug_record, "swiommu_dma_debug_record");
	CHECK_MEMBER(struct swiommu_dma_debug_record, "swiommu_dma_debug_record", dev);
	CHECK_MEMBER(struct swiommu_dma_debug_record, "swiommu_dma_debug_record", device);
	CHECK_MEMBER(struct swiommu_dma_debug_record, "swiommu_dma_debug_record", driver);
	CHECK_MEMBER(struct swiommu_dma_debug_record, "swiommu_dma_debug_record", kind);
	CHECK_MEMBER(struct swiommu_dma_debug_record, "swiommu_dma_debug_record", address);
	CHECK_MEMBER(struct swiommu_dma_debug_record, "swiommu_dma_debug_record", size);
	CHECK_MEMBER(struct swiommu_dma_debug_record, "swiommu_dma_debug_record", message);
}

static void gfp_values_match_the_core(void **state)
{
	(void)state;
	/* Sources/SwiommuMemory/GFP.swift spells these out; they must be the header's. */
	assert_int_equal(__GFP_DMA, 0x01);
	assert_int_equal(__GFP_HIGHMEM, 0x02);
	assert_int_equal(__GFP_DMA32, 0x04);
	assert_int_equal(__GFP_ZERO, 0x100);
	assert_int_equal(__GFP_NOWARN, 0x2000);
	assert_int_equal(GFP_KERNEL, 0x400 | 0x800 | 0x40 | 0x80);
}

static void unknown_names_are_reported(void **state)
{
	(void)state;
	assert_int_equal(swiommu_layout_sizeof("no_such_struct"), -ENOENT);
	assert_int_equal(swiommu_layout_offsetof("page", "no_such_member"), -ENOENT);
	assert_int_equal(swiommu_layout_sizeof(NULL), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(memory_structs),
		cmocka_unit_test(device_structs),
		cmocka_unit_test(platform_and_of_structs),
		cmocka_unit_test(dma_debug_structs),
		cmocka_unit_test(gfp_values_match_the_core),
		cmocka_unit_test(unknown_names_are_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
