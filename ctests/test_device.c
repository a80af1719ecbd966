// SPDX-License-Identifier: MIT
// The driver model on its success paths: platform drivers binding to device-tree devices and to devices
// made by code, probe/remove, devres, deferred probe, module_platform_driver(), the OF helpers,
// swiommu_find_device(), and the log: dev_printk, printk levels, WARN_ON and WARN_ON_ONCE.
// Every test boots its own machine. Callbacks only record what they see; the tests assert.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <linux/bug.h>
/* to_platform_device() needs container_of(), which <linux/platform_device.h> does not pull in here. */
#include <linux/container_of.h>
#include <linux/device.h>
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/ioport.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/of_device.h>
#include <linux/of_platform.h>
#include <linux/platform_device.h>
#include <linux/printk.h>
#include <linux/slab.h>
#include <swiommu/swiommu.h>
#include "swiommu_test.h"

#define ISP_PATH	"/soc/isp@fe0a0000"
#define ISP_NAME	"fe0a0000.isp"

static struct platform_device *isp_pdev(void)
{
	struct device *dev = swiommu_find_device(ISP_PATH);

	assert_non_null(dev);
	return to_platform_device(dev);
}

/* ------------------------------------------------------------------------------------------------ */
/* A module driver for the DMA engine, registered by swiommu_init() and unregistered by swiommu_exit(). */

static int mod_probes, mod_removes;
static struct platform_device *mod_pdev;

static int mod_probe(struct platform_device *pdev)
{
	mod_probes++;
	mod_pdev = pdev;
	return 0;
}

static void mod_remove(struct platform_device *pdev)
{
	(void)pdev;
	mod_removes++;
}

static const struct of_device_id mod_of_match[] = {
	{ .compatible = "swiommu,dma-engine" },
	{ }
};

static struct platform_driver swiommu_test_dma_driver = {
	.probe = mod_probe,
	.remove = mod_remove,
	.driver = {
		.name = "swiommu-test-dma",
		.of_match_table = mod_of_match,
	},
};
module_platform_driver(swiommu_test_dma_driver);

/* ------------------------------------------------------------------------------------------------ */
/* A driver for the camera ISP. */

struct isp_match_data {
	int version;
};

static const struct isp_match_data other_isp_data = { 1 };
static const struct isp_match_data camera_isp_data = { 2 };

static const struct of_device_id isp_of_match[] = {
	{ .compatible = "swiommu,other-isp", .data = &other_isp_data },
	{ .compatible = "swiommu,camera-isp", .data = &camera_isp_data },
	{ }
};

static struct {
	int probes, removes;
	struct platform_device *pdev;
	char name[32];
	bool have_mem;
	resource_size_t mem_start, mem_end;
	unsigned long mem_type;
	int irq, irq_count;
	const void *match_data;
	struct device_node *of_node;
	struct device_driver *driver;
	char driver_string[32];
	bool bound_in_remove;
	void *drvdata_in_remove;
} isp;

static int isp_probe(struct platform_device *pdev)
{
	struct resource *r = platform_get_resource(pdev, IORESOURCE_MEM, 0);

	isp.probes++;
	isp.pdev = pdev;
	snprintf(isp.name, sizeof(isp.name), "%s", dev_name(&pdev->dev));
	isp.have_mem = r != NULL;
	if (r) {
		isp.mem_start = r->start;
		isp.mem_end = r->end;
		isp.mem_type = resource_type(r);
	}
	isp.irq = platform_get_irq(pdev, 0);
	isp.irq_count = platform_irq_count(pdev);
	isp.match_data = of_device_get_match_data(&pdev->dev);
	isp.of_node = pdev->dev.of_node;
	isp.driver = pdev->dev.driver;
	snprintf(isp.driver_string, sizeof(isp.driver_string), "%s", dev_driver_string(&pdev->dev));
	platform_set_drvdata(pdev, &isp);
	return 0;
}

static void isp_remove(struct platform_device *pdev)
{
	isp.removes++;
	isp.bound_in_remove = device_is_bound(&pdev->dev);
	isp.drvdata_in_remove = platform_get_drvdata(pdev);
}

static struct platform_driver isp_driver = {
	.probe = isp_probe,
	.remove = isp_remove,
	.driver = {
		.name = "swiommu-test-isp",
		.of_match_table = isp_of_match,
	},
};

static void isp_driver_probes_once_with_its_resources(void **state)
{
	(void)state;
	memset(&isp, 0, sizeof(isp));
	struct platform_device *pdev = isp_pdev();

	assert_false(device_is_bound(&pdev->dev));
	assert_int_equal(platform_driver_register(&isp_driver), 0);
	assert_int_equal(isp.probes, 1);
	assert_ptr_equal(isp.pdev, pdev);
	assert_string_equal(isp.name, ISP_NAME);
	assert_true(isp.have_mem);
	assert_int_equal(isp.mem_start, 0xfe0a0000);
	assert_int_equal(isp.mem_end, 0xfe0affff);
	assert_int_equal(isp.mem_type, IORESOURCE_MEM);
	assert_int_equal(isp.irq, 72);		/* GIC_SPI 40 */
	assert_int_equal(isp.irq_count, 1);
	assert_ptr_equal(isp.match_data, &camera_isp_data);
	assert_non_null(isp.of_node);
	assert_string_equal(isp.of_node->full_name, "isp@fe0a0000");
	assert_string_equal(isp.of_node->name, "isp");
	assert_ptr_equal(isp.of_node, of_find_node_by_path(ISP_PATH));
	assert_ptr_equal(isp.driver, &isp_driver.driver);
	assert_string_equal(isp.driver_string, "swiommu-test-isp");

	/* What probe left behind. */
	assert_true(device_is_bound(&pdev->dev));
	assert_ptr_equal(pdev->dev.driver, &isp_driver.driver);
	assert_ptr_equal(dev_get_drvdata(&pdev->dev), &isp);
	assert_ptr_equal(of_device_get_match_data(&pdev->dev), &camera_isp_data);
	assert_ptr_equal(of_match_device(isp_of_match, &pdev->dev), &isp_of_match[1]);
	assert_string_equal(dev_driver_string(&pdev->dev), "swiommu-test-isp");
	assert_int_equal(resource_type(platform_get_resource(pdev, IORESOURCE_MEM, 0)), IORESOURCE_MEM);
	assert_int_equal(resource_size(platform_get_resource(pdev, IORESOURCE_MEM, 0)), 0x10000);

	/* Only the ISP matched. */
	assert_false(device_is_bound(swiommu_find_device("/soc/display@fe200000")));
	platform_driver_unregister(&isp_driver);
	assert_int_equal(isp.probes, 1);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
	assert_int_equal(swiommu_warn_count(), 0);
}

static void remove_runs_at_unregister_and_unbinds(void **state)
{
	(void)state;
	memset(&isp, 0, sizeof(isp));
	struct platform_device *pdev = isp_pdev();

	assert_int_equal(platform_driver_register(&isp_driver), 0);
	assert_int_equal(isp.removes, 0);
	platform_driver_unregister(&isp_driver);
	assert_int_equal(isp.removes, 1);
	/* remove() runs on a bound device with its driver data. */
	assert_true(isp.bound_in_remove);
	assert_ptr_equal(isp.drvdata_in_remove, &isp);
	/* Afterwards: unbound, driver data cleared (device_unbind_cleanup). */
	assert_false(device_is_bound(&pdev->dev));
	assert_null(pdev->dev.driver);
	assert_null(dev_get_drvdata(&pdev->dev));
	assert_string_equal(dev_driver_string(&pdev->dev), "platform");

	/* The driver can come back and binds again. */
	assert_int_equal(platform_driver_register(&isp_driver), 0);
	assert_int_equal(isp.probes, 2);
	assert_true(device_is_bound(&pdev->dev));
	platform_driver_unregister(&isp_driver);
	assert_int_equal(isp.removes, 2);
	assert_int_equal(swiommu_warn_count(), 0);
}

/* Linux 6.17's of_device_alloc() only fills in the reg windows: interrupts come from platform_get_irq(). */
static void dt_device_has_no_static_irq_resource(void **state)
{
	(void)state;
	struct platform_device *pdev = isp_pdev();

	assert_int_equal(pdev->num_resources, 1);
	assert_non_null(platform_get_resource(pdev, IORESOURCE_MEM, 0));
	assert_null(platform_get_resource(pdev, IORESOURCE_IRQ, 0));
	assert_int_equal(platform_get_irq(pdev, 0), 72);
	assert_int_equal(platform_get_irq_optional(pdev, 0), 72);
	assert_int_equal(platform_irq_count(pdev), 1);
}

/* ------------------------------------------------------------------------------------------------ */
/* devres */

static char devres_order[16];
static size_t devres_len;
static char tag_a = 'A', tag_b = 'B', tag_c = 'C', tag_d = 'D';

static struct {
	unsigned char *zeroed;
	void *mem;
	int ret_a, ret_b, ret_c;
	long leaks_in_probe;
} devres;

static void record_action(void *data)
{
	if (devres_len < sizeof(devres_order) - 1)
		devres_order[devres_len++] = *(char *)data;
}

static int devres_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;

	devres.zeroed = devm_kzalloc(dev, 100, GFP_KERNEL);
	devres.ret_a = devm_add_action_or_reset(dev, record_action, &tag_a);
	devres.mem = devm_kmalloc(dev, 2000, GFP_KERNEL);
	devres.ret_b = devm_add_action_or_reset(dev, record_action, &tag_b);
	devres.ret_c = devm_add_action(dev, record_action, &tag_c);
	/* Released early: must not run or be freed again at unbind. */
	void *tmp = devm_kmalloc(dev, 50, GFP_KERNEL);

	devm_kfree(dev, tmp);
	devm_add_action(dev, record_action, &tag_d);
	devm_remove_action(dev, record_action, &tag_d);
	devres.leaks_in_probe = swiommu_mem_check_leaks(false);
	return 0;
}

static void devres_remove(struct platform_device *pdev)
{
	(void)pdev;
	record_action(&(char){ 'R' });
}

static struct platform_driver devres_driver = {
	.probe = devres_probe,
	.remove = devres_remove,
	.driver = {
		.name = "swiommu-test-devres",
		.of_match_table = isp_of_match,
	},
};

static void devres_released_in_reverse_order_at_unbind(void **state)
{
	(void)state;
	memset(&devres, 0, sizeof(devres));
	memset(devres_order, 0, sizeof(devres_order));
	devres_len = 0;

	assert_int_equal(platform_driver_register(&devres_driver), 0);
	assert_int_equal(devres.ret_a, 0);
	assert_int_equal(devres.ret_b, 0);
	assert_int_equal(devres.ret_c, 0);
	assert_non_null(devres.zeroed);
	assert_non_null(devres.mem);
	for (int i = 0; i < 100; i++)
		assert_int_equal(devres.zeroed[i], 0);
	assert_int_equal(ksize(devres.mem), 2048);
	/* Two managed allocations live; the one released by devm_kfree() is gone. */
	assert_int_equal(devres.leaks_in_probe, 2);
	assert_int_equal(swiommu_mem_check_leaks(false), 2);
	assert_string_equal(devres_order, "");

	platform_driver_unregister(&devres_driver);
	/* remove() first, then the actions newest first; 'D' was removed. */
	assert_string_equal(devres_order, "RCBA");
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
	assert_int_equal(swiommu_warn_count(), 0);
}

/* ------------------------------------------------------------------------------------------------ */
/* Deferred probe */

static bool defer_ready;
static int defer_probes;

static int defer_probe(struct platform_device *pdev)
{
	(void)pdev;
	defer_probes++;
	return defer_ready ? 0 : -EPROBE_DEFER;
}

static struct platform_driver defer_driver = {
	.probe = defer_probe,
	.driver = {
		.name = "swiommu-test-defer",
		.of_match_table = isp_of_match,
	},
};

static int helper_probes;

static int helper_probe(struct platform_device *pdev)
{
	(void)pdev;
	helper_probes++;
	return 0;
}

static const struct of_device_id display_of_match[] = {
	{ .compatible = "swiommu,display" },
	{ }
};

static struct platform_driver helper_driver = {
	.probe = helper_probe,
	.driver = {
		.name = "swiommu-test-display",
		.of_match_table = display_of_match,
	},
};

static void deferred_probe_retried_when_another_driver_binds(void **state)
{
	(void)state;
	struct platform_device *pdev = isp_pdev();

	defer_ready = false;
	defer_probes = 0;
	helper_probes = 0;
	swiommu_log_reset();
	assert_int_equal(platform_driver_register(&defer_driver), 0);
	assert_int_equal(defer_probes, 1);
	assert_false(device_is_bound(&pdev->dev));
	assert_null(pdev->dev.driver);
	/* Deferral is not an error. */
	assert_false(swiommu_log_contains("failed with error"));

	/* The resource appears, but nothing retries until some driver binds. */
	defer_ready = true;
	assert_int_equal(defer_probes, 1);
	assert_int_equal(platform_driver_register(&helper_driver), 0);
	assert_int_equal(helper_probes, 1);
	assert_int_equal(defer_probes, 2);
	assert_true(device_is_bound(&pdev->dev));
	assert_ptr_equal(pdev->dev.driver, &defer_driver.driver);

	platform_driver_unregister(&helper_driver);
	platform_driver_unregister(&defer_driver);
	assert_false(device_is_bound(&pdev->dev));
	assert_int_equal(swiommu_warn_count(), 0);
}

/* ------------------------------------------------------------------------------------------------ */
/* Devices made by code */

struct widget_pdata {
	int lanes;
	char label[12];
};

static struct {
	int probes, removes;
	struct platform_device *pdev;
	kernel_ulong_t driver_data;
	struct widget_pdata pdata;
	bool have_pdata;
	resource_size_t mem_start;
	int irq;
	const char *driver_string;
} widget;

static int widget_probe(struct platform_device *pdev)
{
	struct resource *r = platform_get_resource(pdev, IORESOURCE_MEM, 0);

	widget.probes++;
	widget.pdev = pdev;
	widget.driver_data = pdev->id_entry ? pdev->id_entry->driver_data : 0;
	widget.have_pdata = pdev->dev.platform_data != NULL;
	if (widget.have_pdata)
		memcpy(&widget.pdata, pdev->dev.platform_data, sizeof(widget.pdata));
	widget.mem_start = r ? r->start : 0;
	widget.irq = platform_get_irq(pdev, 0);
	widget.driver_string = dev_driver_string(&pdev->dev);
	return 0;
}

static void widget_remove(struct platform_device *pdev)
{
	(void)pdev;
	widget.removes++;
}

static const struct platform_device_id widget_ids[] = {
	{ "swiommu-other", 8 },
	{ "swiommu-widget", 7 },
	{ }
};

static struct platform_driver widget_driver = {
	.probe = widget_probe,
	.remove = widget_remove,
	.driver = {
		.name = "swiommu-widget-drv",
	},
	.id_table = widget_ids,
};

static void platform_device_alloc_binds_by_id_table(void **state)
{
	struct resource res[2];
	struct widget_pdata pdata = { .lanes = 4, .label = "four lanes" };

	(void)state;
	memset(&widget, 0, sizeof(widget));
	assert_int_equal(platform_driver_register(&widget_driver), 0);
	/* No device-tree device is called that. */
	assert_int_equal(widget.probes, 0);

	struct platform_device *pdev = platform_device_alloc("swiommu-widget", 3);

	assert_non_null(pdev);
	assert_string_equal(dev_name(&pdev->dev), "swiommu-widget.3");
	assert_string_equal(pdev->name, "swiommu-widget");
	assert_int_equal(pdev->id, 3);
	res[0] = DEFINE_RES_MEM(0x10000000, 0x1000);
	res[1] = DEFINE_RES_IRQ(99);
	assert_int_equal(platform_device_add_resources(pdev, res, 2), 0);
	assert_int_equal(platform_device_add_data(pdev, &pdata, sizeof(pdata)), 0);
	/* Both were copied. */
	res[0].start = 0xdead0000;
	pdata.lanes = 1;
	assert_ptr_not_equal(pdev->dev.platform_data, &pdata);
	assert_int_equal(pdev->num_resources, 2);
	assert_int_equal(widget.probes, 0);
	assert_null(swiommu_find_device("swiommu-widget.3"));

	assert_int_equal(platform_device_add(pdev), 0);
	assert_int_equal(widget.probes, 1);
	assert_ptr_equal(widget.pdev, pdev);
	assert_int_equal(widget.driver_data, 7);
	assert_ptr_equal(pdev->id_entry, &widget_ids[1]);
	assert_true(widget.have_pdata);
	assert_int_equal(widget.pdata.lanes, 4);
	assert_string_equal(widget.pdata.label, "four lanes");
	assert_int_equal(widget.mem_start, 0x10000000);
	assert_int_equal(widget.irq, 99);
	assert_string_equal(widget.driver_string, "swiommu-widget-drv");
	assert_true(device_is_bound(&pdev->dev));
	assert_ptr_equal(swiommu_find_device("swiommu-widget.3"), &pdev->dev);
	assert_int_equal(platform_get_resource(pdev, IORESOURCE_MEM, 0)->end, 0x10000fff);
	assert_int_equal(platform_irq_count(pdev), 1);

	platform_device_unregister(pdev);
	assert_int_equal(widget.removes, 1);
	assert_null(swiommu_find_device("swiommu-widget.3"));
	platform_driver_unregister(&widget_driver);
	assert_int_equal(widget.removes, 1);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
	assert_int_equal(swiommu_warn_count(), 0);
}

static void driver_registered_after_the_device_binds_it(void **state)
{
	(void)state;
	memset(&widget, 0, sizeof(widget));
	struct platform_device *pdev = platform_device_alloc("swiommu-other", PLATFORM_DEVID_NONE);

	assert_non_null(pdev);
	assert_string_equal(dev_name(&pdev->dev), "swiommu-other");
	assert_int_equal(platform_device_add(pdev), 0);
	assert_false(device_is_bound(&pdev->dev));
	assert_int_equal(platform_driver_register(&widget_driver), 0);
	assert_int_equal(widget.probes, 1);
	assert_int_equal(widget.driver_data, 8);
	assert_false(widget.have_pdata);
	assert_int_equal(widget.irq, -ENXIO);
	/* Unregistering the driver unbinds; the device stays registered. */
	platform_driver_unregister(&widget_driver);
	assert_int_equal(widget.removes, 1);
	assert_false(device_is_bound(&pdev->dev));
	assert_ptr_equal(swiommu_find_device("swiommu-other"), &pdev->dev);
	platform_device_unregister(pdev);
	assert_null(swiommu_find_device("swiommu-other"));
}

static int gadget_probes, gadget_removes;
static struct platform_device *gadget_pdev;

static int gadget_probe(struct platform_device *pdev)
{
	gadget_probes++;
	gadget_pdev = pdev;
	return 0;
}

static void gadget_remove(struct platform_device *pdev)
{
	(void)pdev;
	gadget_removes++;
}

/* No of_match_table, no id_table: the driver name is matched against the device name. */
static struct platform_driver gadget_driver = {
	.probe = gadget_probe,
	.remove = gadget_remove,
	.driver = {
		.name = "swiommu-gadget",
	},
};

static void platform_device_register_simple_binds_by_driver_name(void **state)
{
	const struct resource res = DEFINE_RES_MEM(0x20000000, 0x2000);

	(void)state;
	gadget_probes = gadget_removes = 0;
	gadget_pdev = NULL;
	assert_int_equal(platform_driver_register(&gadget_driver), 0);
	assert_int_equal(gadget_probes, 0);

	struct platform_device *pdev = platform_device_register_simple("swiommu-gadget", PLATFORM_DEVID_NONE,
								       &res, 1);

	assert_false(IS_ERR_OR_NULL(pdev));
	assert_string_equal(dev_name(&pdev->dev), "swiommu-gadget");
	assert_int_equal(gadget_probes, 1);
	assert_ptr_equal(gadget_pdev, pdev);
	assert_true(device_is_bound(&pdev->dev));
	assert_ptr_equal(pdev->dev.driver, &gadget_driver.driver);
	assert_int_equal(platform_get_resource(pdev, IORESOURCE_MEM, 0)->start, 0x20000000);
	assert_int_equal(resource_size(platform_get_resource(pdev, IORESOURCE_MEM, 0)), 0x2000);
	platform_device_unregister(pdev);
	assert_int_equal(gadget_removes, 1);
	platform_driver_unregister(&gadget_driver);
	assert_int_equal(gadget_removes, 1);
	assert_int_equal(swiommu_warn_count(), 0);
}

static void platform_device_register_simple_without_a_driver(void **state)
{
	const struct resource res[2] = { DEFINE_RES_MEM(0x30000000, 0x100), DEFINE_RES_IRQ(33) };

	(void)state;
	struct platform_device *pdev = platform_device_register_simple("swiommu-simple", 1, res, 2);

	assert_false(IS_ERR_OR_NULL(pdev));
	assert_string_equal(dev_name(&pdev->dev), "swiommu-simple.1");
	assert_int_equal(pdev->id, 1);
	assert_int_equal(pdev->num_resources, 2);
	assert_ptr_not_equal(pdev->resource, res);
	assert_int_equal(platform_get_irq(pdev, 0), 33);
	assert_false(device_is_bound(&pdev->dev));
	assert_ptr_equal(swiommu_find_device("swiommu-simple.1"), &pdev->dev);
	assert_ptr_equal(pdev->dev.bus, &platform_bus_type);

	/* Without resources too. */
	struct platform_device *bare = platform_device_register_simple("swiommu-bare", PLATFORM_DEVID_NONE,
								       NULL, 0);

	assert_false(IS_ERR_OR_NULL(bare));
	assert_string_equal(dev_name(&bare->dev), "swiommu-bare");
	assert_int_equal(bare->num_resources, 0);
	assert_null(platform_get_resource(bare, IORESOURCE_MEM, 0));
	platform_device_unregister(bare);
	platform_device_unregister(pdev);
	assert_null(swiommu_find_device("swiommu-simple.1"));
	assert_null(swiommu_find_device("swiommu-bare"));
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
	assert_int_equal(swiommu_warn_count(), 0);
}

static void get_device_and_put_device_count_references(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(ISP_NAME);

	assert_non_null(dev);
	int refs = dev->kobj.refcount;

	assert_true(refs >= 1);
	assert_ptr_equal(get_device(dev), dev);
	assert_int_equal(dev->kobj.refcount, refs + 1);
	assert_ptr_equal(get_device(dev), dev);
	assert_int_equal(dev->kobj.refcount, refs + 2);
	put_device(dev);
	put_device(dev);
	assert_int_equal(dev->kobj.refcount, refs);
	assert_null(get_device(NULL));
	put_device(NULL);

	/* A device made by code: the reference platform_device_alloc() hands out. */
	struct platform_device *pdev = platform_device_alloc("swiommu-refs", PLATFORM_DEVID_NONE);

	assert_non_null(pdev);
	assert_int_equal(pdev->dev.kobj.refcount, 1);
	get_device(&pdev->dev);
	assert_int_equal(pdev->dev.kobj.refcount, 2);
	put_device(&pdev->dev);
	assert_int_equal(pdev->dev.kobj.refcount, 1);
	platform_device_put(pdev);
	assert_int_equal(swiommu_warn_count(), 0);
}

/* ------------------------------------------------------------------------------------------------ */
/* The device tree */

static void of_tree_lookup_by_path_and_children(void **state)
{
	static const char *const masters[] = {
		"isp@fe0a0000", "dma-controller@fe100000", "display@fe200000", "gpu@fe300000",
	};
	bool seen[4] = { false };
	struct device_node *child, *expect;
	int n = 0;

	(void)state;
	struct device_node *root = of_find_node_by_path("/");
	struct device_node *soc = of_find_node_by_path("/soc");
	struct device_node *np = of_find_node_by_path(ISP_PATH);

	assert_non_null(root);
	assert_non_null(soc);
	assert_non_null(np);
	assert_string_equal(root->full_name, "/");
	assert_null(root->parent);
	assert_null(of_get_parent(root));
	assert_string_equal(soc->full_name, "soc");
	assert_string_equal(soc->name, "soc");
	assert_ptr_equal(soc->parent, root);
	assert_ptr_equal(of_get_parent(soc), root);
	assert_ptr_equal(of_get_parent(np), soc);
	assert_string_equal(np->name, "isp");
	assert_string_equal(np->full_name, "isp@fe0a0000");
	assert_string_equal(of_node_full_name(np), "isp@fe0a0000");
	assert_string_equal(of_node_full_name(NULL), "<no-node>");
	assert_true(of_node_name_eq(np, "isp"));
	assert_false(of_node_name_eq(np, "isp@fe0a0000"));
	assert_ptr_equal(of_node_get(np), np);
	of_node_put(np);

	/* Paths name every level with its unit address. */
	assert_null(of_find_node_by_path("/soc/isp"));
	assert_null(of_find_node_by_path("/soc/nothing@0"));
	assert_null(of_find_node_by_path("/isp@fe0a0000"));
	assert_null(of_find_node_by_path("soc"));
	struct device_node *gpu = of_find_node_by_path("/soc/gpu@fe300000");

	assert_non_null(gpu);
	assert_string_equal(gpu->full_name, "gpu@fe300000");
	assert_non_null(of_find_node_by_path("/soc/dma-controller@fe100000"));
	assert_non_null(of_find_node_by_path("/chosen"));
	assert_non_null(of_find_node_by_path("/memory@80000000"));
	assert_non_null(of_find_node_by_path("/memory@880000000"));
	assert_non_null(of_find_node_by_path("/interrupt-controller@f9010000"));

	/* of_get_next_child() walks the children in order: first child, then siblings. */
	expect = soc->child;
	for (child = of_get_next_child(soc, NULL); child; child = of_get_next_child(soc, child)) {
		assert_ptr_equal(child, expect);
		assert_ptr_equal(child->parent, soc);
		for (int i = 0; i < 4; i++)
			if (!strcmp(child->full_name, masters[i]))
				seen[i] = true;
		expect = child->sibling;
		n++;
	}
	assert_null(expect);
	for (int i = 0; i < 4; i++)
		if (!seen[i])
			fail_msg("%s is not a child of /soc", masters[i]);
	int m = 0;

	for_each_child_of_node(soc, child)
		m++;
	assert_int_equal(m, n);
	assert_true(n >= 4);
	m = 0;
	for_each_child_of_node(np, child)
		m++;
	assert_int_equal(m, 0);
	assert_true(of_device_is_available(np));
}

static void of_property_readers(void **state)
{
	u32 cells[4] = { 0 }, v = 0;
	u64 v64 = 0;
	const char *s = NULL;
	int len = -1;

	(void)state;
	struct device_node *np = of_find_node_by_path(ISP_PATH);
	struct device_node *soc = of_find_node_by_path("/soc");
	struct device_node *root = of_find_node_by_path("/");

	assert_non_null(np);
	assert_non_null(soc);

	/* Raw values are big-endian cells. */
	const unsigned char *reg = of_get_property(np, "reg", &len);

	assert_non_null(reg);
	assert_int_equal(len, 16);
	assert_int_equal(reg[4], 0xfe);
	assert_int_equal(reg[5], 0x0a);
	assert_int_equal(reg[13], 0x01);
	struct property *prop = of_find_property(np, "interrupts", &len);

	assert_non_null(prop);
	assert_string_equal(prop->name, "interrupts");
	assert_int_equal(len, 12);
	assert_int_equal(prop->length, 12);

	assert_int_equal(of_property_read_u32_array(np, "reg", cells, 4), 0);
	assert_int_equal(cells[0], 0);
	assert_int_equal(cells[1], 0xfe0a0000);
	assert_int_equal(cells[2], 0);
	assert_int_equal(cells[3], 0x10000);
	assert_int_equal(of_property_read_u32_index(np, "reg", 3, &v), 0);
	assert_int_equal(v, 0x10000);
	assert_int_equal(of_property_read_u64(np, "reg", &v64), 0);
	assert_int_equal(v64, 0xfe0a0000);
	assert_int_equal(of_property_read_u32(np, "interrupts", &v), 0);
	assert_int_equal(v, 0);			/* GIC_SPI */
	assert_int_equal(of_property_read_u32_index(np, "interrupts", 1, &v), 0);
	assert_int_equal(v, 40);
	assert_int_equal(of_property_read_u32_index(np, "interrupts", 2, &v), 0);
	assert_int_equal(v, 4);			/* IRQ_TYPE_LEVEL_HIGH */
	assert_int_equal(of_property_read_u32(soc, "#address-cells", &v), 0);
	assert_int_equal(v, 2);

	assert_int_equal(of_property_read_string(np, "compatible", &s), 0);
	assert_string_equal(s, "swiommu,camera-isp");
	assert_int_equal(of_property_read_string(root, "model", &s), 0);
	assert_true(strlen(s) > 0);
	assert_int_equal(of_property_read_string(soc, "compatible", &s), 0);
	assert_string_equal(s, "simple-bus");

	assert_true(of_property_read_bool(np, "compatible"));
	assert_true(of_property_present(np, "interrupts"));
	assert_true(of_property_read_bool(soc, "ranges"));
	assert_false(of_property_read_bool(np, "swiommu,no-such-property"));
	assert_false(of_property_present(np, "reg-names-nonexistent"));
	assert_null(of_get_property(np, "nonexistent", NULL));
}

static void of_compatible_and_match_helpers(void **state)
{
	static const struct of_device_id table[] = {
		{ .name = "isp" },
		{ .compatible = "swiommu,camera-isp" },
		{ .compatible = "swiommu,gpu" },
		{ }
	};
	static const struct of_device_id table2[] = {
		{ .compatible = "swiommu,camera-isp" },
		{ .name = "isp", .compatible = "swiommu,camera-isp" },
		{ }
	};

	(void)state;
	struct device_node *np = of_find_node_by_path(ISP_PATH);
	struct device_node *gpu = of_find_node_by_path("/soc/gpu@fe300000");
	struct device_node *soc = of_find_node_by_path("/soc");

	assert_non_null(np);
	assert_non_null(gpu);
	assert_true(of_device_is_compatible(np, "swiommu,camera-isp") > 0);
	/* of_compat_cmp() ignores case. */
	assert_true(of_device_is_compatible(np, "SWIOMMU,Camera-ISP") > 0);
	assert_int_equal(of_device_is_compatible(np, "swiommu,camera"), 0);
	assert_int_equal(of_device_is_compatible(np, "swiommu,gpu"), 0);
	assert_true(of_device_is_compatible(soc, "simple-bus") > 0);

	assert_ptr_equal(of_find_compatible_node(NULL, NULL, "swiommu,camera-isp"), np);
	assert_null(of_find_compatible_node(np, NULL, "swiommu,camera-isp"));
	assert_ptr_equal(of_find_compatible_node(NULL, NULL, "simple-bus"), soc);
	assert_ptr_equal(of_find_compatible_node(NULL, NULL, "swiommu,gpu"), gpu);
	/* The search starts after @from, in tree order (the root comes first). */
	assert_ptr_equal(of_find_compatible_node(of_find_node_by_path("/"), NULL, "swiommu,gpu"), gpu);
	assert_ptr_equal(of_find_compatible_node(soc, NULL, "swiommu,gpu"), gpu);
	assert_null(of_find_compatible_node(gpu, NULL, "swiommu,gpu"));
	assert_null(of_find_compatible_node(NULL, NULL, "swiommu,no-such-thing"));
	struct device_node *gic = of_find_compatible_node(NULL, NULL, "arm,gic-400");

	assert_non_null(gic);
	assert_string_equal(gic->full_name, "interrupt-controller@f9010000");

	/* A compatible match outscores a name match; compatible and name outscore compatible alone. */
	assert_ptr_equal(of_match_node(table, np), &table[1]);
	assert_ptr_equal(of_match_node(table, gpu), &table[2]);
	assert_null(of_match_node(table, soc));
	assert_ptr_equal(of_match_node(table2, np), &table2[1]);
	assert_ptr_equal(of_match_device(table, swiommu_find_device("gpu")), &table[2]);
}

static void of_find_device_by_node_takes_a_reference(void **state)
{
	(void)state;
	struct device_node *np = of_find_node_by_path(ISP_PATH);

	assert_non_null(np);
	struct device *dev = swiommu_find_device(ISP_PATH);
	int refs = dev->kobj.refcount;
	struct platform_device *pdev = of_find_device_by_node(np);

	assert_non_null(pdev);
	assert_ptr_equal(&pdev->dev, dev);
	assert_ptr_equal(pdev->dev.of_node, np);
	assert_string_equal(dev_name(&pdev->dev), ISP_NAME);
	assert_int_equal(dev->kobj.refcount, refs + 1);
	put_device(&pdev->dev);
	assert_int_equal(dev->kobj.refcount, refs);

	/* Nodes without a compatible get no device. */
	assert_null(of_find_device_by_node(of_find_node_by_path("/chosen")));
	assert_null(of_find_device_by_node(of_find_node_by_path("/memory@80000000")));
	assert_null(of_find_device_by_node(NULL));
	assert_int_equal(swiommu_warn_count(), 0);
}

static void swiommu_find_device_by_every_name(void **state)
{
	(void)state;
	struct device *dev = swiommu_find_device(ISP_PATH);

	assert_non_null(dev);
	assert_ptr_equal(swiommu_find_device("isp@fe0a0000"), dev);
	assert_ptr_equal(swiommu_find_device("isp"), dev);
	assert_ptr_equal(swiommu_find_device(ISP_NAME), dev);
	assert_string_equal(dev_name(dev), ISP_NAME);
	assert_ptr_equal(dev->of_node, of_find_node_by_path(ISP_PATH));
	assert_ptr_equal(dev->bus, &platform_bus_type);
	assert_true(dev_is_platform(dev));

	struct device *dma = swiommu_find_device("/soc/dma-controller@fe100000");

	assert_non_null(dma);
	assert_ptr_not_equal(dma, dev);
	assert_ptr_equal(swiommu_find_device("fe100000.dma-controller"), dma);
	assert_ptr_equal(swiommu_find_device("dma-controller"), dma);
	assert_non_null(swiommu_find_device("fe200000.display"));
	assert_non_null(swiommu_find_device("fe300000.gpu"));
	assert_non_null(swiommu_find_device("fe400000.codec"));

	/* The simple-bus is a device too, and the parent of its children. */
	struct device *soc = swiommu_find_device("/soc");

	assert_non_null(soc);
	assert_ptr_equal(dev->parent, soc);
	assert_ptr_equal(dma->parent, soc);

	assert_null(swiommu_find_device("nonexistent"));
	assert_null(swiommu_find_device("/soc/isp"));
	assert_null(swiommu_find_device("fe0a0000"));
	assert_null(swiommu_find_device(NULL));
}

/* ------------------------------------------------------------------------------------------------ */
/* module_platform_driver() */

static void module_platform_driver_binds_at_init_and_goes_at_exit(void **state)
{
	(void)state;
	struct device *dma = swiommu_find_device("fe100000.dma-controller");

	assert_non_null(dma);
	/* Every boot so far probed it once, and every exit removed it. */
	assert_true(mod_probes >= 1);
	assert_int_equal(mod_probes, mod_removes + 1);
	assert_true(device_is_bound(dma));
	assert_ptr_equal(dma->driver, &swiommu_test_dma_driver.driver);
	assert_ptr_equal(&mod_pdev->dev, dma);
	assert_string_equal(dev_driver_string(dma), "swiommu-test-dma");

	int probes = mod_probes;

	swiommu_exit();
	assert_int_equal(mod_removes, probes);
	assert_int_equal(mod_probes, probes);
	assert_int_equal(swiommu_init(NULL), 0);
	assert_int_equal(mod_probes, probes + 1);
	dma = swiommu_find_device("fe100000.dma-controller");
	assert_true(device_is_bound(dma));
	/* It is registered: the same driver cannot register again. */
	assert_int_equal(platform_driver_register(&swiommu_test_dma_driver), -EBUSY);
	assert_int_equal(mod_probes, probes + 1);
}

/* ------------------------------------------------------------------------------------------------ */
/* The log */

static void dev_printk_messages_carry_driver_and_device(void **state)
{
	(void)state;
	struct platform_device *pdev = isp_pdev();
	struct device *dev = &pdev->dev;

	swiommu_log_reset();
	dev_err(dev, "unbound error %d\n", 1);
	assert_string_equal(swiommu_log_last(), "platform " ISP_NAME ": unbound error 1");
	assert_int_equal(swiommu_log_count(), 1);

	memset(&isp, 0, sizeof(isp));
	assert_int_equal(platform_driver_register(&isp_driver), 0);
	swiommu_log_reset();
	dev_info(dev, "bound %s\n", "info");
	assert_string_equal(swiommu_log_last(), "swiommu-test-isp " ISP_NAME ": bound info");
	dev_warn(dev, "w%d", 2);
	assert_string_equal(swiommu_log_last(), "swiommu-test-isp " ISP_NAME ": w2");
	dev_notice(dev, "n\n");
	dev_crit(dev, "c\n");
	dev_alert(dev, "a\n");
	dev_emerg(dev, "e\n");
	dev_dbg(dev, "debug %x\n", 0xab);
	assert_string_equal(swiommu_log_last(), "swiommu-test-isp " ISP_NAME ": debug ab");
	dev_printk(KERN_ERR, dev, "via dev_printk\n");
	assert_string_equal(swiommu_log_last(), "swiommu-test-isp " ISP_NAME ": via dev_printk");
	assert_int_equal(swiommu_log_count(), 8);
	assert_true(swiommu_log_contains("swiommu-test-isp " ISP_NAME ": c"));

	assert_int_equal(dev_err_probe(dev, -EINVAL, "cannot get %s\n", "clock"), -EINVAL);
	assert_true(swiommu_log_contains(ISP_NAME ": "));
	assert_true(swiommu_log_contains("cannot get clock"));
	assert_int_equal(dev_err_probe(dev, -EPROBE_DEFER, "later\n"), -EPROBE_DEFER);

	dev_err(NULL, "no device\n");
	assert_string_equal(swiommu_log_last(), "(NULL device *): no device");
	platform_driver_unregister(&isp_driver);
}

static void printk_levels_and_continuations(void **state)
{
	(void)state;
	swiommu_log_reset();
	assert_int_equal(swiommu_log_count(), 0);
	assert_string_equal(swiommu_log_last(), "");
	assert_false(swiommu_log_contains("anything"));
	assert_false(swiommu_log_contains(NULL));

	assert_true(printk(KERN_ERR "error %d\n", 3) > 0);
	assert_string_equal(swiommu_log_last(), "error 3");
	pr_info("info %s\n", "message");
	assert_string_equal(swiommu_log_last(), "info message");
	printk("no level\n");
	assert_string_equal(swiommu_log_last(), "no level");
	pr_warn("warn\n");
	pr_notice("notice\n");
	pr_crit("crit\n");
	pr_alert("alert\n");
	pr_emerg("emerg\n");
	pr_debug("debug is on\n");
	assert_string_equal(swiommu_log_last(), "debug is on");
	assert_int_equal(swiommu_log_count(), 9);

	/* KERN_CONT continues the previous record. */
	pr_info("part one");
	pr_cont(", part two\n");
	assert_string_equal(swiommu_log_last(), "part one, part two");
	assert_int_equal(swiommu_log_count(), 10);
	assert_true(swiommu_log_contains("error 3"));

	/* printk_once prints once. */
	for (int i = 0; i < 3; i++)
		pr_info_once("only once\n");
	assert_int_equal(swiommu_log_count(), 11);

	/* The console level is separate from what is logged. */
	int old = swiommu_log_set_console_level(0);

	assert_true(old >= 0 && old <= 8);
	assert_int_equal(swiommu_log_set_console_level(9), -EINVAL);
	assert_int_equal(swiommu_log_set_console_level(-1), -EINVAL);
	pr_err("quiet on the console\n");
	assert_string_equal(swiommu_log_last(), "quiet on the console");
	assert_int_equal(swiommu_log_set_console_level(old), 0);

	swiommu_log_reset();
	assert_int_equal(swiommu_log_count(), 0);
	assert_false(swiommu_log_contains("error 3"));
}

/* The console shows what is more severe than its level, as the kernel's console_loglevel does. */
static void console_shows_messages_more_severe_than_its_level(void **state)
{
	char path[] = "/tmp/swiommu-test-console-XXXXXX";
	char out[4096];
	ssize_t n;

	(void)state;
	struct device *dev = &isp_pdev()->dev;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	fflush(stderr);
	int saved = dup(STDERR_FILENO);

	assert_true(saved >= 0);
	dup2(fd, STDERR_FILENO);
	int old = swiommu_log_set_console_level(LOGLEVEL_WARNING);

	pr_err("LVL-ERR\n");
	pr_crit("LVL-CRIT\n");
	pr_warn("LVL-WARN\n");
	printk("LVL-DEFAULT\n");	/* the default message level is KERN_WARNING */
	pr_notice("LVL-NOTICE\n");
	pr_info("LVL-INFO\n");
	pr_debug("LVL-DEBUG\n");
	dev_err(dev, "DEV-ERR\n");
	dev_warn(dev, "DEV-WARN\n");
	dev_info(dev, "DEV-INFO\n");
	swiommu_log_set_console_level(8);
	pr_debug("LVL-DEBUG-AT-8\n");
	swiommu_log_set_console_level(0);
	pr_emerg("LVL-EMERG-AT-0\n");
	swiommu_log_set_console_level(old < 0 ? 0 : old);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, out, sizeof(out) - 1);
	close(fd);
	assert_true(n > 0);
	out[n] = '\0';

	assert_non_null(strstr(out, "LVL-ERR"));
	assert_non_null(strstr(out, "LVL-CRIT"));
	assert_non_null(strstr(out, "platform " ISP_NAME ": DEV-ERR"));
	assert_non_null(strstr(out, "LVL-DEBUG-AT-8"));
	assert_null(strstr(out, "LVL-WARN"));
	assert_null(strstr(out, "LVL-DEFAULT"));
	assert_null(strstr(out, "LVL-NOTICE"));
	assert_null(strstr(out, "LVL-INFO"));
	assert_null(strstr(out, "LVL-DEBUG\n"));
	assert_null(strstr(out, "DEV-WARN"));
	assert_null(strstr(out, "DEV-INFO"));
	assert_null(strstr(out, "LVL-EMERG-AT-0"));
	/* Everything is in the log whatever the console shows. */
	assert_true(swiommu_log_contains("LVL-INFO"));
	assert_true(swiommu_log_contains("LVL-DEBUG"));
	assert_true(swiommu_log_contains("platform " ISP_NAME ": DEV-INFO"));
	assert_true(swiommu_log_contains("LVL-EMERG-AT-0"));
}

static void warn_on_returns_condition_and_counts(void **state)
{
	volatile int x = 1;

	(void)state;
	swiommu_warn_reset();
	assert_int_equal(swiommu_warn_count(), 0);
	assert_string_equal(swiommu_warn_last(), "");

	assert_true(WARN_ON(x == 1));
	assert_int_equal(swiommu_warn_count(), 1);
	assert_non_null(strstr(swiommu_warn_last(), "test_device.c:"));
	assert_non_null(strstr(swiommu_warn_last(), "warn_on_returns_condition_and_counts"));

	assert_false(WARN_ON(x == 2));
	assert_int_equal(swiommu_warn_count(), 1);

	assert_true(WARN(x > 0, "x is %d", x));
	assert_int_equal(swiommu_warn_count(), 2);
	assert_non_null(strstr(swiommu_warn_last(), "x is 1"));
	assert_false(WARN(x < 0, "never"));
	assert_int_equal(swiommu_warn_count(), 2);

	/* if (WARN_ON(...)) is how drivers use it. */
	int taken = 0;

	if (WARN_ON(!x))
		taken = 1;
	assert_int_equal(taken, 0);
	if (WARN_ON(x))
		taken = 2;
	assert_int_equal(taken, 2);
	assert_int_equal(swiommu_warn_count(), 3);

	swiommu_warn_reset();
	assert_int_equal(swiommu_warn_count(), 0);
}

static bool warn_once_site(int v)
{
	return WARN_ON_ONCE(v != 0);
}

static bool warn_once_fmt_site(int v)
{
	return WARN_ONCE(v != 0, "once with %d", v);
}

static void warn_on_once_fires_once_per_boot(void **state)
{
	(void)state;
	swiommu_warn_reset();
	assert_false(warn_once_site(0));
	assert_int_equal(swiommu_warn_count(), 0);
	for (int i = 0; i < 3; i++)
		assert_true(warn_once_site(1));	/* returns the condition every time */
	assert_int_equal(swiommu_warn_count(), 1);
	assert_true(warn_once_fmt_site(5));
	assert_true(warn_once_fmt_site(6));
	assert_int_equal(swiommu_warn_count(), 2);
	assert_non_null(strstr(swiommu_warn_last(), "once with 5"));

	/* A new boot: once more. */
	swiommu_exit();
	assert_int_equal(swiommu_init(NULL), 0);
	assert_true(warn_once_site(1));
	assert_true(warn_once_site(1));
	assert_int_equal(swiommu_warn_count(), 3);
	assert_true(warn_once_fmt_site(7));
	assert_int_equal(swiommu_warn_count(), 4);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, boot, shut_down)
	const struct CMUnitTest tests[] = {
		T(isp_driver_probes_once_with_its_resources),
		T(remove_runs_at_unregister_and_unbinds),
		T(dt_device_has_no_static_irq_resource),
		T(devres_released_in_reverse_order_at_unbind),
		T(deferred_probe_retried_when_another_driver_binds),
		T(platform_device_alloc_binds_by_id_table),
		T(driver_registered_after_the_device_binds_it),
		T(platform_device_register_simple_binds_by_driver_name),
		T(platform_device_register_simple_without_a_driver),
		T(get_device_and_put_device_count_references),
		T(of_tree_lookup_by_path_and_children),
		T(of_property_readers),
		T(of_compatible_and_match_helpers),
		T(of_find_device_by_node_takes_a_reference),
		T(swiommu_find_device_by_every_name),
		T(module_platform_driver_binds_at_init_and_goes_at_exit),
		T(dev_printk_messages_carry_driver_and_device),
		T(printk_levels_and_continuations),
		T(console_shows_messages_more_severe_than_its_level),
		T(warn_on_returns_condition_and_counts),
		T(warn_on_once_fires_once_per_boot),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
