/* SPDX-License-Identifier: MIT */
/*
 * A small IOMMU driver whose optional hooks each test chooses before it boots: def_domain_type, a legacy
 * static default_domain, release_domain. It records every attach and release, so a test can check what the
 * core called and in which order. Masters a (ID 1) and b (ID 2) share a group; c (ID 3) has its own.
 */
#ifndef SWIOMMU_CTESTS_DRIVER_HOOKS_H
#define SWIOMMU_CTESTS_DRIVER_HOOKS_H

#include <stdio.h>
#include <string.h>
#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/of_iommu.h>
#include <linux/platform_device.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <swiommu/swiommu.h>
#include "swiommu_test.h"

#define A	"/a@10000000"
#define B	"/b@10001000"
#define C	"/c@10002000"

static const char hooks_board[] =
	"/dts-v1/;\n"
	"/ {\n"
	"\tcompatible = \"swiommu,test-board\";\n"
	"\t#address-cells = <2>;\n"
	"\t#size-cells = <2>;\n"
	"\tmemory@80000000 { device_type = \"memory\"; reg = <0x0 0x80000000 0x0 0x10000000>; };\n"
	"\thooks: iommu@fd000000 { compatible = \"swiommu-test,hooks-iommu\"; reg = <0x0 0xfd000000 0x0 0x1000>;\n"
	"\t\t#iommu-cells = <1>; };\n"
	"\ta@10000000 { compatible = \"swiommu,test-master\"; reg = <0x0 0x10000000 0x0 0x1000>; iommus = <&hooks 1>; };\n"
	"\tb@10001000 { compatible = \"swiommu,test-master\"; reg = <0x0 0x10001000 0x0 0x1000>; iommus = <&hooks 2>; };\n"
	"\tc@10002000 { compatible = \"swiommu,test-master\"; reg = <0x0 0x10002000 0x0 0x1000>; iommus = <&hooks 3>; };\n"
	"};\n";

/* What the core called, in order: "attach <domain type> <device>;" and "release <device>;". */
static char hooks_events[4096];
/* def_domain_type's answer per master ID (index 1..3), when the test installs the hook. */
static int hooks_def_type[4];
static int hooks_domains_freed;

static void hooks_record(const char *what, unsigned int type, struct device *dev)
{
	size_t n = strlen(hooks_events);

	snprintf(hooks_events + n, sizeof(hooks_events) - n, "%s %u %s;", what, type, dev_name(dev));
}

static int hooks_attach(struct iommu_domain *domain, struct device *dev)
{
	hooks_record("attach", domain->type, dev);
	return 0;
}

static void hooks_domain_free(struct iommu_domain *domain)
{
	hooks_domains_freed++;
	kfree(domain);
}

static const struct iommu_domain_ops hooks_paging_ops = { .attach_dev = hooks_attach, .free = hooks_domain_free };
static const struct iommu_domain_ops hooks_static_ops = { .attach_dev = hooks_attach };

static struct iommu_domain hooks_identity = { .type = IOMMU_DOMAIN_IDENTITY, .ops = &hooks_static_ops };
static struct iommu_domain hooks_blocked = { .type = IOMMU_DOMAIN_BLOCKED, .ops = &hooks_static_ops };
static struct iommu_domain hooks_platform __attribute__((unused)) = { .type = IOMMU_DOMAIN_PLATFORM, .ops = &hooks_static_ops };

static struct iommu_device hooks_instance;
static struct iommu_group *hooks_shared_group;

static u32 hooks_id(struct device *dev)
{
	return dev_iommu_fwspec_get(dev)->ids[0];
}

static int hooks_of_xlate(struct device *dev, const struct of_phandle_args *args)
{
	u32 id = args->args[0];

	return iommu_fwspec_add_ids(dev, &id, 1);
}

static struct iommu_device *hooks_probe_device(struct device *dev)
{
	(void)dev;
	return &hooks_instance;
}

static void hooks_release_device(struct device *dev)
{
	hooks_record("release", 0, dev);
}

static struct iommu_group *hooks_device_group(struct device *dev)
{
	if (hooks_id(dev) == 3)
		return generic_device_group(dev);
	if (!hooks_shared_group) {
		hooks_shared_group = iommu_group_alloc();
		return hooks_shared_group;
	}
	return iommu_group_ref_get(hooks_shared_group);
}

static int hooks_def_domain_type(struct device *dev)
{
	return hooks_def_type[hooks_id(dev) & 3];
}

static struct iommu_domain *hooks_domain_alloc_paging(struct device *dev)
{
	struct iommu_domain *d = kzalloc(sizeof(*d), GFP_KERNEL);

	(void)dev;
	if (!d)
		return NULL;
	d->pgsize_bitmap = SZ_4K;
	d->geometry.aperture_end = 0xffffffffUL;
	d->geometry.force_aperture = true;
	d->ops = &hooks_paging_ops;
	return d;
}

/* Not const: each test picks the hooks before it boots. */
static struct iommu_ops hooks_ops = {
	.domain_alloc_paging = hooks_domain_alloc_paging,
	.probe_device = hooks_probe_device,
	.release_device = hooks_release_device,
	.device_group = hooks_device_group,
	.of_xlate = hooks_of_xlate,
	.identity_domain = &hooks_identity,
	.blocked_domain = &hooks_blocked,
	.owner = THIS_MODULE,
};

static int hooks_iommu_probe(struct platform_device *pdev)
{
	hooks_shared_group = NULL;
	memset(&hooks_instance, 0, sizeof(hooks_instance));
	hooks_instance.fwnode = pdev->dev.fwnode;
	return iommu_device_register(&hooks_instance, &hooks_ops, &pdev->dev);
}

static void hooks_iommu_remove(struct platform_device *pdev)
{
	(void)pdev;
	iommu_device_unregister(&hooks_instance);
}

static const struct of_device_id hooks_iommu_ids[] = { { .compatible = "swiommu-test,hooks-iommu" }, { } };

static struct platform_driver hooks_iommu_driver = {
	.probe = hooks_iommu_probe,
	.remove = hooks_iommu_remove,
	.driver = { .name = "hooks-iommu", .of_match_table = hooks_iommu_ids },
};
module_platform_driver(hooks_iommu_driver);

/* Boot the board with the hooks the test chose (def_domain_type when @def_types, the legacy default and
 * release domains when given). */
static void boot_hooks(const int *def_types, struct iommu_domain *legacy, struct iommu_domain *release)
{
	const char *path = swiommu_test_write_board("hooks", hooks_board);

	hooks_ops.def_domain_type = def_types ? hooks_def_domain_type : NULL;
	if (def_types)
		memcpy(hooks_def_type, def_types, sizeof(hooks_def_type));
	hooks_ops.default_domain = legacy;
	hooks_ops.release_domain = release;
	hooks_events[0] = '\0';
	hooks_domains_freed = 0;
	assert_non_null(path);
	swiommu_log_reset();
	swiommu_warn_reset();
	assert_int_equal(swiommu_init(path), 0);
	unlink(path);
}

static struct device *dev_at(const char *path)
{
	struct device *dev = swiommu_find_device(path);

	assert_non_null(dev);
	return dev;
}

#endif /* SWIOMMU_CTESTS_DRIVER_HOOKS_H */
