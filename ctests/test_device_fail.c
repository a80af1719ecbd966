// SPDX-License-Identifier: MIT
// The driver model's error paths: failing probes and what they leave behind, deferral that never ends,
// driver registration mistakes, missing resources and IRQs, duplicate devices, devres misuse, device
// tree properties that are missing or too short, NULL and ERR_PTR arguments, and calls made while the
// machine is down. Callbacks only record what they see; the tests assert.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
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
#include <linux/slab.h>
#include <swiommu/swiommu.h>
#include "swiommu_test.h"

#define ISP_PATH	"/soc/isp@fe0a0000"
#define ISP_NAME	"fe0a0000.isp"
#define CODEC_NAME	"fe400000.codec"

static int down(void **state)
{
	(void)state;
	swiommu_exit();
	swiommu_warn_reset();
	swiommu_log_reset();
	return 0;
}

static struct platform_device *isp_pdev(void)
{
	struct device *dev = swiommu_find_device(ISP_PATH);

	assert_non_null(dev);
	return to_platform_device(dev);
}

static const struct of_device_id isp_of_match[] = {
	{ .compatible = "swiommu,camera-isp" },
	{ }
};

static const struct of_device_id display_of_match[] = {
	{ .compatible = "swiommu,display" },
	{ }
};

/* ------------------------------------------------------------------------------------------------ */
/* A module driver whose probe defers forever: the video codec waits for a supplier that never comes. */

static int codec_probes;

static int codec_probe(struct platform_device *pdev)
{
	(void)pdev;
	codec_probes++;
	return -EPROBE_DEFER;
}

static const struct of_device_id codec_of_match[] = {
	{ .compatible = "swiommu,video-codec" },
	{ }
};

static struct platform_driver swiommu_test_codec_driver = {
	.probe = codec_probe,
	.driver = {
		.name = "swiommu-test-codec",
		.of_match_table = codec_of_match,
	},
};
module_platform_driver(swiommu_test_codec_driver);

/* ------------------------------------------------------------------------------------------------ */
/* Drivers that bind and do nothing else. */

static int plain_probes, plain_removes;

static int plain_probe(struct platform_device *pdev)
{
	(void)pdev;
	plain_probes++;
	return 0;
}

static void plain_remove(struct platform_device *pdev)
{
	(void)pdev;
	plain_removes++;
}

static struct platform_driver plain_isp_driver = {
	.probe = plain_probe,
	.remove = plain_remove,
	.driver = {
		.name = "swiommu-test-isp",
		.of_match_table = isp_of_match,
	},
};

static struct platform_driver plain_display_driver = {
	.probe = plain_probe,
	.remove = plain_remove,
	.driver = {
		.name = "swiommu-test-display",
		.of_match_table = display_of_match,
	},
};

static void reset_plain(void)
{
	plain_probes = plain_removes = 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* A probe that fails after taking managed resources. */

static int fail_ret;
static int fail_probes, fail_removes;
static bool fail_action_ran;
static void *fail_mem;

static void fail_action(void *data)
{
	*(bool *)data = true;
}

static int fail_probe(struct platform_device *pdev)
{
	fail_probes++;
	fail_mem = devm_kzalloc(&pdev->dev, 256, GFP_KERNEL);
	if (!fail_mem)
		return -ENOMEM;
	if (devm_add_action(&pdev->dev, fail_action, &fail_action_ran))
		return -ENOMEM;
	platform_set_drvdata(pdev, fail_mem);
	return fail_ret;
}

static void fail_remove(struct platform_device *pdev)
{
	(void)pdev;
	fail_removes++;
}

static struct platform_driver failing_driver = {
	.probe = fail_probe,
	.remove = fail_remove,
	.driver = {
		.name = "swiommu-test-failing",
		.of_match_table = isp_of_match,
	},
};

static void reset_failing(int ret)
{
	fail_ret = ret;
	fail_probes = fail_removes = 0;
	fail_action_ran = false;
	fail_mem = NULL;
}

static void failed_probe_is_logged_and_leaves_the_device_unbound(void **state)
{
	(void)state;
	struct platform_device *pdev = isp_pdev();

	reset_failing(-EINVAL);
	swiommu_log_reset();
	/* A probe error is no registration error. */
	assert_int_equal(platform_driver_register(&failing_driver), 0);
	assert_int_equal(fail_probes, 1);
	assert_non_null(fail_mem);
	assert_true(swiommu_log_contains(ISP_NAME ": probe with driver swiommu-test-failing failed with error -22"));
	assert_false(device_is_bound(&pdev->dev));
	assert_null(pdev->dev.driver);
	assert_null(dev_get_drvdata(&pdev->dev));
	/* devres went with the failed probe. */
	assert_true(fail_action_ran);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
	assert_int_equal(swiommu_warn_count(), 0);

	/* Never bound, so never removed. */
	platform_driver_unregister(&failing_driver);
	assert_int_equal(fail_removes, 0);
	assert_int_equal(swiommu_warn_count(), 0);

	/* Another driver can have the device. */
	reset_plain();
	assert_int_equal(platform_driver_register(&plain_isp_driver), 0);
	assert_int_equal(plain_probes, 1);
	assert_true(device_is_bound(&pdev->dev));
	platform_driver_unregister(&plain_isp_driver);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

/* really_probe() sets dev->driver before calling probe, so dev_err() names the driver. */
static void failed_probe_message_has_the_driver_prefix(void **state)
{
	(void)state;
	reset_failing(-EINVAL);
	swiommu_log_reset();
	assert_int_equal(platform_driver_register(&failing_driver), 0);
	assert_true(swiommu_log_contains("swiommu-test-failing " ISP_NAME
					 ": probe with driver swiommu-test-failing failed with error -22"));
	platform_driver_unregister(&failing_driver);
}

static void probe_out_of_memory_in_devm_kzalloc(void **state)
{
	(void)state;
	struct platform_device *pdev = isp_pdev();

	reset_failing(0);
	swiommu_log_reset();
	assert_int_equal(swiommu_fail_nth("kmalloc", 1), 0);
	assert_int_equal(platform_driver_register(&failing_driver), 0);
	assert_int_equal(fail_probes, 1);
	assert_null(fail_mem);
	assert_true(swiommu_log_contains("probe with driver swiommu-test-failing failed with error -12"));
	assert_false(device_is_bound(&pdev->dev));
	assert_false(fail_action_ran);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
	platform_driver_unregister(&failing_driver);
	assert_int_equal(fail_removes, 0);
}

static void probe_returning_enodev_is_a_quiet_mismatch(void **state)
{
	(void)state;
	struct platform_device *pdev = isp_pdev();

	reset_failing(-ENODEV);
	swiommu_log_reset();
	assert_int_equal(platform_driver_register(&failing_driver), 0);
	assert_int_equal(fail_probes, 1);
	assert_false(device_is_bound(&pdev->dev));
	assert_false(swiommu_log_contains("failed with error"));
	assert_true(fail_action_ran);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
	/* Not deferred: another driver binding does not retry it. */
	reset_plain();
	assert_int_equal(platform_driver_register(&plain_display_driver), 0);
	assert_int_equal(plain_probes, 1);
	assert_int_equal(fail_probes, 1);
	platform_driver_unregister(&plain_display_driver);
	platform_driver_unregister(&failing_driver);
}

/* platform_probe(): with prevent_deferred_probe, -EPROBE_DEFER becomes -ENXIO with a warning. */
static int nodefer_probes;

static int nodefer_probe(struct platform_device *pdev)
{
	(void)pdev;
	nodefer_probes++;
	return -EPROBE_DEFER;
}

static struct platform_driver nodefer_driver = {
	.probe = nodefer_probe,
	.driver = {
		.name = "swiommu-test-nodefer",
		.of_match_table = isp_of_match,
	},
	.prevent_deferred_probe = true,
};

static void prevent_deferred_probe_refuses_deferral(void **state)
{
	(void)state;
	nodefer_probes = 0;
	swiommu_log_reset();
	assert_int_equal(platform_driver_register(&nodefer_driver), 0);
	assert_int_equal(nodefer_probes, 1);
	assert_false(device_is_bound(&isp_pdev()->dev));
	/* Not on the deferred list: a later bind does not retry it. */
	reset_plain();
	assert_int_equal(platform_driver_register(&plain_display_driver), 0);
	assert_int_equal(plain_probes, 1);
	assert_int_equal(nodefer_probes, 1);
	assert_true(swiommu_log_contains(ISP_NAME ": probe deferral not supported"));
	platform_driver_unregister(&plain_display_driver);
	platform_driver_unregister(&nodefer_driver);
}

static void deferred_forever_is_reported_at_the_end_of_init(void **state)
{
	(void)state;
	struct device *codec = swiommu_find_device(CODEC_NAME);

	assert_non_null(codec);
	assert_true(codec_probes >= 1);
	assert_false(device_is_bound(codec));
	assert_null(codec->driver);
	assert_true(swiommu_log_contains(CODEC_NAME ": deferred probe pending"));
	/* Deferral is not a failure. */
	assert_false(swiommu_log_contains(CODEC_NAME ": probe with driver"));

	/* Every successful bind retries it; it keeps deferring. */
	int before = codec_probes;

	reset_plain();
	assert_int_equal(platform_driver_register(&plain_isp_driver), 0);
	assert_int_equal(plain_probes, 1);
	assert_int_equal(codec_probes, before + 1);
	assert_false(device_is_bound(codec));
	platform_driver_unregister(&plain_isp_driver);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

/* ------------------------------------------------------------------------------------------------ */
/* Registration mistakes */

static void registering_a_driver_twice_is_ebusy(void **state)
{
	(void)state;
	reset_plain();
	assert_int_equal(platform_driver_register(&plain_isp_driver), 0);
	assert_int_equal(plain_probes, 1);
	swiommu_log_reset();
	assert_int_equal(platform_driver_register(&plain_isp_driver), -EBUSY);
	assert_true(swiommu_log_contains("Error: Driver 'swiommu-test-isp' is already registered, aborting..."));
	assert_int_equal(plain_probes, 1);
	assert_true(device_is_bound(&isp_pdev()->dev));
	/* One unregister undoes the one registration. */
	platform_driver_unregister(&plain_isp_driver);
	assert_int_equal(plain_removes, 1);
	assert_int_equal(swiommu_warn_count(), 0);
}

/* driver_register() looks the name up on the bus: another struct with a taken name is refused too. */
static void registering_a_second_driver_with_the_same_name_is_ebusy(void **state)
{
	static struct platform_driver same_name = {
		.probe = plain_probe,
		.remove = plain_remove,
		.driver = {
			.name = "swiommu-test-isp",
			.of_match_table = display_of_match,
		},
	};

	(void)state;
	reset_plain();
	assert_int_equal(platform_driver_register(&plain_isp_driver), 0);
	assert_int_equal(plain_probes, 1);
	swiommu_log_reset();
	int ret = platform_driver_register(&same_name);

	if (ret == 0)
		platform_driver_unregister(&same_name);
	assert_int_equal(ret, -EBUSY);
	assert_true(swiommu_log_contains("Error: Driver 'swiommu-test-isp' is already registered, aborting..."));
	assert_int_equal(plain_probes, 1);
	assert_false(device_is_bound(swiommu_find_device("fe200000.display")));
	platform_driver_unregister(&plain_isp_driver);
}

static void unregistering_an_unregistered_driver_warns(void **state)
{
	(void)state;
	swiommu_warn_reset();
	platform_driver_unregister(&plain_display_driver);
	assert_int_equal(swiommu_warn_count(), 1);

	reset_plain();
	assert_int_equal(platform_driver_register(&plain_display_driver), 0);
	platform_driver_unregister(&plain_display_driver);
	assert_int_equal(swiommu_warn_count(), 1);
	assert_int_equal(plain_removes, 1);
	platform_driver_unregister(&plain_display_driver);
	assert_int_equal(swiommu_warn_count(), 2);
	assert_int_equal(plain_removes, 1);
}

static void registering_a_null_or_nameless_driver_is_einval(void **state)
{
	static struct platform_driver nameless = {
		.probe = plain_probe,
		.driver = {
			.of_match_table = isp_of_match,
		},
	};

	(void)state;
	reset_plain();
	assert_int_equal(platform_driver_register(NULL), -EINVAL);
	assert_int_equal(platform_driver_register(&nameless), -EINVAL);
	assert_int_equal(plain_probes, 0);
	assert_false(device_is_bound(&isp_pdev()->dev));
}

/* ------------------------------------------------------------------------------------------------ */
/* Resources and IRQs */

static void platform_get_irq_of_a_missing_index_is_enxio(void **state)
{
	(void)state;
	struct platform_device *pdev = isp_pdev();

	swiommu_log_reset();
	assert_int_equal(platform_get_irq(pdev, 5), -ENXIO);
	assert_true(swiommu_log_contains("IRQ index 5 not found"));
	assert_true(swiommu_log_contains(ISP_NAME ": "));
	assert_int_equal(platform_get_irq_optional(pdev, 1), -ENXIO);
	assert_int_equal(platform_get_irq(pdev, 0), 72);

	/* A device made by code without interrupts. */
	struct platform_device *bare = platform_device_register_simple("swiommu-noirq", PLATFORM_DEVID_NONE,
								       NULL, 0);

	assert_false(IS_ERR_OR_NULL(bare));
	swiommu_log_reset();
	assert_int_equal(platform_get_irq(bare, 0), -ENXIO);
	assert_true(swiommu_log_contains("IRQ index 0 not found"));
	assert_int_equal(platform_irq_count(bare), 0);
	platform_device_unregister(bare);
}

/* Interrupt specifiers near 2^32: the GIC's hwirq arithmetic is u32 (gic_irq_domain_translate wraps), and a
 * number that is no int is -EINVAL. Found by the board fuzzer (tests/fuzz): an overflow trap at boot. */
static void interrupt_numbers_near_the_top_of_u32(void **state)
{
	(void)state;
	const char *board = swiommu_test_write_board("irq-wrap",
		"/dts-v1/;\n/ {\n\t#address-cells = <2>;\n\t#size-cells = <2>;\n"
		"\tmemory@80000000 { device_type = \"memory\"; reg = <0x0 0x80000000 0x0 0x10000000>; };\n"
		"\tgic: interrupt-controller@f9010000 { compatible = \"arm,gic-400\"; #interrupt-cells = <3>;\n"
		"\t\tinterrupt-controller; reg = <0x0 0xf9010000 0x0 0x1000>; };\n"
		"\tintc: interrupt-controller@f9020000 { compatible = \"swiommu,test-intc\"; #interrupt-cells = <1>;\n"
		"\t\tinterrupt-controller; reg = <0x0 0xf9020000 0x0 0x1000>; };\n"
		"\ta@10000000 { compatible = \"swiommu,test-master\"; reg = <0x0 0x10000000 0x0 0x1000>;\n"
		"\t\tinterrupt-parent = <&gic>; interrupts = <0 0xffffffff 4>, <0 0x7fffffe0 4>, <1 5 4>; };\n"
		"\tb@10001000 { compatible = \"swiommu,test-master\"; reg = <0x0 0x10001000 0x0 0x1000>;\n"
		"\t\tinterrupt-parent = <&intc>; interrupts = <0xffffffff>; };\n"
		"};\n");

	assert_non_null(board);
	swiommu_exit();
	assert_int_equal(swiommu_init(board), 0);
	struct platform_device *a = to_platform_device(swiommu_find_device("/a@10000000"));
	struct platform_device *b = to_platform_device(swiommu_find_device("/b@10001000"));

	assert_int_equal(platform_get_irq(a, 0), 31);		/* 32 + 0xffffffff, in u32 */
	assert_int_equal(platform_get_irq(a, 1), -EINVAL);	/* 32 + 0x7fffffe0 is no int */
	assert_int_equal(platform_get_irq(a, 2), 16 + 5);	/* a PPI */
	assert_int_equal(platform_get_irq(b, 0), -EINVAL);
}

static void platform_get_resource_that_is_not_there_is_null(void **state)
{
	(void)state;
	struct platform_device *pdev = isp_pdev();

	assert_null(platform_get_resource(pdev, IORESOURCE_MEM, 1));
	assert_null(platform_get_resource(pdev, IORESOURCE_MEM, 100));
	assert_null(platform_get_resource(pdev, IORESOURCE_DMA, 0));
	assert_null(platform_get_resource(pdev, IORESOURCE_IO, 0));
	assert_null(platform_get_resource(pdev, IORESOURCE_BUS, 0));
	assert_non_null(platform_get_resource(pdev, IORESOURCE_MEM, 0));

	struct platform_device *bare = platform_device_alloc("swiommu-nores", PLATFORM_DEVID_NONE);

	assert_non_null(bare);
	assert_null(platform_get_resource(bare, IORESOURCE_MEM, 0));
	platform_device_put(bare);
}

static void adding_a_device_with_a_taken_name_is_eexist(void **state)
{
	(void)state;
	/* The name a device-tree device already has. */
	struct platform_device *clash = platform_device_alloc(ISP_NAME, PLATFORM_DEVID_NONE);

	assert_non_null(clash);
	assert_int_equal(platform_device_add(clash), -EEXIST);
	assert_ptr_equal(swiommu_find_device(ISP_NAME), &isp_pdev()->dev);
	platform_device_put(clash);

	/* Two devices made by code with the same name and id. */
	struct platform_device *a = platform_device_alloc("swiommu-dup", 0);
	struct platform_device *b = platform_device_alloc("swiommu-dup", 0);

	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(platform_device_add(a), 0);
	assert_int_equal(platform_device_add(b), -EEXIST);
	assert_ptr_equal(swiommu_find_device("swiommu-dup.0"), &a->dev);
	platform_device_put(b);
	struct platform_device *s = platform_device_register_simple("swiommu-dup", 0, NULL, 0);

	assert_true(IS_ERR(s));
	assert_int_equal(PTR_ERR(s), -EEXIST);
	platform_device_unregister(a);
	assert_null(swiommu_find_device("swiommu-dup.0"));
	assert_int_equal(platform_device_add(NULL), -EINVAL);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

/* ------------------------------------------------------------------------------------------------ */
/* devres misuse */

static int counter_action_runs;

static void counter_action(void *data)
{
	(void)data;
	counter_action_runs++;
}

static void devm_kfree_of_unmanaged_memory_warns(void **state)
{
	(void)state;
	struct device *dev = &isp_pdev()->dev;

	reset_plain();
	assert_int_equal(platform_driver_register(&plain_isp_driver), 0);
	swiommu_warn_reset();

	void *p = kmalloc(64, GFP_KERNEL);

	assert_non_null(p);
	devm_kfree(dev, p);
	assert_int_equal(swiommu_warn_count(), 1);
	/* Left alone: still allocated, still ours to free. */
	assert_int_equal(swiommu_mem_check_leaks(false), 1);
	assert_int_equal(ksize(p), 64);
	kfree(p);
	assert_int_equal(swiommu_warn_count(), 1);

	/* Managed memory freed twice. */
	void *q = devm_kmalloc(dev, 32, GFP_KERNEL);

	assert_non_null(q);
	devm_kfree(dev, q);
	assert_int_equal(swiommu_warn_count(), 1);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
	devm_kfree(dev, q);
	assert_int_equal(swiommu_warn_count(), 2);

	/* Managed by another device. */
	struct device *display = swiommu_find_device("fe200000.display");
	void *r = devm_kmalloc(dev, 16, GFP_KERNEL);

	assert_non_null(r);
	devm_kfree(display, r);
	assert_int_equal(swiommu_warn_count(), 3);
	assert_int_equal(swiommu_mem_check_leaks(false), 1);
	platform_driver_unregister(&plain_isp_driver);
	/* Released with its own device. */
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void devm_remove_action_of_an_unknown_action_warns(void **state)
{
	static int data_a, data_b;

	(void)state;
	struct device *dev = &isp_pdev()->dev;

	reset_plain();
	assert_int_equal(platform_driver_register(&plain_isp_driver), 0);
	counter_action_runs = 0;
	swiommu_warn_reset();
	devm_remove_action(dev, counter_action, &data_a);
	assert_int_equal(swiommu_warn_count(), 1);

	/* Registered with other data: not the same action. */
	assert_int_equal(devm_add_action(dev, counter_action, &data_a), 0);
	devm_remove_action(dev, counter_action, &data_b);
	assert_int_equal(swiommu_warn_count(), 2);
	/* Removing it for real, then once more. */
	devm_remove_action(dev, counter_action, &data_a);
	assert_int_equal(swiommu_warn_count(), 2);
	devm_remove_action(dev, counter_action, &data_a);
	assert_int_equal(swiommu_warn_count(), 3);

	assert_int_equal(devm_add_action(dev, counter_action, &data_b), 0);
	platform_driver_unregister(&plain_isp_driver);
	assert_int_equal(counter_action_runs, 1);
}

static void devm_calls_without_a_device_are_refused(void **state)
{
	bool ran = false;

	(void)state;
	struct device *dev = &isp_pdev()->dev;

	counter_action_runs = 0;
	assert_int_equal(devm_add_action(NULL, counter_action, NULL), -EINVAL);
	assert_int_equal(devm_add_action(dev, NULL, NULL), -EINVAL);
	assert_int_equal(counter_action_runs, 0);
	/* _or_reset runs the action when it cannot be registered. */
	assert_int_equal(devm_add_action_or_reset(NULL, fail_action, &ran), -EINVAL);
	assert_true(ran);

	swiommu_warn_reset();
	assert_null(devm_kmalloc(NULL, 16, GFP_KERNEL));
	assert_null(devm_kzalloc(NULL, 16, GFP_KERNEL));
	assert_int_equal(swiommu_warn_count(), 2);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

/* ------------------------------------------------------------------------------------------------ */
/* Device tree properties */

static void of_property_reads_of_missing_or_short_properties(void **state)
{
	u32 v = 0xdeadbeef, cells[4] = { 1, 2, 3, 4 };
	u64 v64 = 0x1122334455667788ULL;
	const char *s = "untouched";

	(void)state;
	struct device_node *np = of_find_node_by_path(ISP_PATH);
	struct device_node *soc = of_find_node_by_path("/soc");
	struct device_node *gic = of_find_node_by_path("/interrupt-controller@f9010000");

	assert_non_null(np);
	assert_non_null(soc);
	assert_non_null(gic);

	/* Missing: -EINVAL, outputs untouched. */
	assert_int_equal(of_property_read_u32(np, "clock-frequency", &v), -EINVAL);
	assert_int_equal(of_property_read_u32_array(np, "clock-frequency", cells, 2), -EINVAL);
	assert_int_equal(of_property_read_u32_index(np, "clock-frequency", 0, &v), -EINVAL);
	assert_int_equal(of_property_read_u64(np, "clock-frequency", &v64), -EINVAL);
	assert_int_equal(of_property_read_string(np, "clock-names", &s), -EINVAL);
	assert_int_equal(of_property_read_u32(NULL, "reg", &v), -EINVAL);
	assert_null(of_get_property(NULL, "reg", NULL));

	/* Too short: -EOVERFLOW. "interrupts" has 3 cells, "#interrupt-cells" one. */
	assert_int_equal(of_property_read_u32_array(np, "interrupts", cells, 4), -EOVERFLOW);
	assert_int_equal(of_property_read_u32_index(np, "interrupts", 3, &v), -EOVERFLOW);
	assert_int_equal(of_property_read_u32_index(np, "reg", 4, &v), -EOVERFLOW);
	assert_int_equal(of_property_read_u64(gic, "#interrupt-cells", &v64), -EOVERFLOW);

	assert_int_equal(v, 0xdeadbeef);
	assert_int_equal(cells[0], 1);
	assert_int_equal(cells[3], 4);
	assert_int_equal(v64, 0x1122334455667788ULL);
	assert_string_equal(s, "untouched");

	/* An empty property has no string in it. */
	assert_int_equal(of_property_read_string(soc, "ranges", &s), -ENODATA);
	assert_string_equal(s, "untouched");
}

/*
 * An empty property ("ranges;") read as a number: of_find_property_value_of_size() returns -ENODATA only
 * for a NULL value; an empty property from a blob has a value of length 0, which is too short.
 */
static void of_property_read_u32_of_an_empty_property_is_eoverflow(void **state)
{
	u32 v = 0xdeadbeef;
	u64 v64 = 7;

	(void)state;
	struct device_node *soc = of_find_node_by_path("/soc");

	assert_non_null(soc);
	assert_int_equal(of_property_read_u32(soc, "ranges", &v), -EOVERFLOW);
	assert_int_equal(of_property_read_u64(soc, "ranges", &v64), -EOVERFLOW);
	assert_int_equal(v, 0xdeadbeef);
	assert_int_equal(v64, 7);
}

/* ------------------------------------------------------------------------------------------------ */
/* NULL and ERR_PTR arguments */

static void null_and_err_ptr_arguments_do_not_crash(void **state)
{
	(void)state;
	swiommu_warn_reset();
	put_device(NULL);
	assert_null(get_device(NULL));
	assert_false(device_is_bound(NULL));
	assert_null(platform_get_resource(NULL, IORESOURCE_MEM, 0));
	platform_device_unregister(NULL);
	platform_device_put(NULL);
	platform_device_del(NULL);
	assert_null(of_find_node_by_path(NULL));
	assert_null(of_get_parent(NULL));
	assert_null(of_get_next_child(NULL, NULL));
	assert_int_equal(of_device_is_compatible(NULL, "swiommu,camera-isp"), 0);
	assert_null(of_match_node(isp_of_match, NULL));
	assert_null(of_find_device_by_node(NULL));
	assert_null(swiommu_find_device(NULL));
	assert_int_equal(swiommu_warn_count(), 0);

	struct device *err_dev = ERR_PTR(-ENODEV);

	put_device(err_dev);
	assert_false(device_is_bound(err_dev));
	assert_null(platform_get_resource(ERR_PTR(-ENOMEM), IORESOURCE_MEM, 0));
	platform_device_unregister(ERR_PTR(-EEXIST));
	platform_device_put(ERR_PTR(-EEXIST));
	/* The machine is unharmed. */
	assert_true(device_is_bound(swiommu_find_device("fe400000.codec")) == false);
	assert_non_null(platform_get_resource(isp_pdev(), IORESOURCE_MEM, 0));
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

/* ------------------------------------------------------------------------------------------------ */
/* The machine down */

static void driver_model_calls_before_init_fail(void **state)
{
	(void)state;
	assert_false(swiommu_is_up());
	struct platform_device *pdev = platform_device_register_simple("swiommu-early", PLATFORM_DEVID_NONE,
								       NULL, 0);

	assert_true(IS_ERR(pdev));
	assert_int_equal(PTR_ERR(pdev), -ENODEV);
	assert_null(platform_device_alloc("swiommu-early", PLATFORM_DEVID_NONE));
	reset_plain();
	assert_int_equal(platform_driver_register(&plain_isp_driver), -ENODEV);
	assert_int_equal(plain_probes, 0);
	platform_driver_unregister(&plain_isp_driver);
	assert_null(swiommu_find_device(ISP_PATH));
	assert_null(of_find_node_by_path("/"));
	assert_null(devm_kmalloc(NULL, 8, GFP_KERNEL));
	assert_false(swiommu_is_up());

	/* And the machine boots fine afterwards, with the module driver deferring again. */
	int before = codec_probes;

	assert_int_equal(swiommu_init(NULL), 0);
	assert_true(codec_probes > before);
	assert_false(device_is_bound(swiommu_find_device(CODEC_NAME)));
	assert_int_equal(platform_driver_register(&plain_isp_driver), 0);
	assert_int_equal(plain_probes, 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, boot, shut_down)
#define D(fn) cmocka_unit_test_setup_teardown(fn, down, shut_down)
	const struct CMUnitTest tests[] = {
		T(failed_probe_is_logged_and_leaves_the_device_unbound),
		T(failed_probe_message_has_the_driver_prefix),
		T(probe_out_of_memory_in_devm_kzalloc),
		T(probe_returning_enodev_is_a_quiet_mismatch),
		T(prevent_deferred_probe_refuses_deferral),
		T(deferred_forever_is_reported_at_the_end_of_init),
		T(registering_a_driver_twice_is_ebusy),
		T(registering_a_second_driver_with_the_same_name_is_ebusy),
		T(unregistering_an_unregistered_driver_warns),
		T(registering_a_null_or_nameless_driver_is_einval),
		T(platform_get_irq_of_a_missing_index_is_enxio),
		T(interrupt_numbers_near_the_top_of_u32),
		T(platform_get_resource_that_is_not_there_is_null),
		T(adding_a_device_with_a_taken_name_is_eexist),
		T(devm_kfree_of_unmanaged_memory_warns),
		T(devm_remove_action_of_an_unknown_action_warns),
		T(devm_calls_without_a_device_are_refused),
		T(of_property_reads_of_missing_or_short_properties),
		T(of_property_read_u32_of_an_empty_property_is_eoverflow),
		T(null_and_err_ptr_arguments_do_not_crash),
		D(driver_model_calls_before_init_fail),
	};
#undef T
#undef D

	return cmocka_run_group_tests(tests, NULL, NULL);
}
