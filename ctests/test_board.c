// SPDX-License-Identifier: MIT
// Board loading on its success paths: the default board and real upstream device trees (tests/boards:
// RK3399, R-Car H3, Exynos 5433, Apple M1) boot, make the devices their nodes describe (and none for
// disabled nodes), give each master the DMA channels of its "iommus" (or its host bridge's iommu-map),
// and of_dma_configure gives a bound master what the kernel would: coherence, masks, dma-ranges,
// reserved regions and the IOMMU link. Also /chosen options and swiommu,page-shift.
// Every test boots its own machine; the teardown shuts it down. Callbacks only record; tests assert.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/container_of.h>
#include <linux/device.h>
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/iommu.h>
#include <linux/ioport.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/of_device.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <swiommu/swiommu.h>

#define UPSTREAM(name)	SWIOMMU_SOURCE_DIR "/tests/boards/" name ".dts"
#define RK3399		UPSTREAM("rk3399")
#define R8A7795		UPSTREAM("r8a7795")
#define EXYNOS5433	UPSTREAM("exynos5433")
#define T8103		UPSTREAM("t8103")

#define MASK32		0xffffffffULL

/* ------------------------------------------------------------------------------------------------ */
/* Helpers */

static int shut_down(void **state)
{
	(void)state;
	swiommu_exit();
	return 0;
}

static void boot(const char *board)
{
	swiommu_log_reset();
	swiommu_warn_reset();
	int ret = swiommu_init(board);

	if (ret)
		print_error("swiommu_init(%s) = %d, last message: %s\n", board ? board : "NULL", ret,
			    swiommu_log_last());
	assert_int_equal(ret, 0);
	assert_true(swiommu_is_up());
}

static struct device *dev_at(const char *name)
{
	struct device *dev = swiommu_find_device(name);

	if (!dev)
		print_error("no device %s\n", name);
	assert_non_null(dev);
	return dev;
}

/* Channel @ch of @dev goes to the IOMMU at @iommu_path (NULL: bypass) with @num_ids specifier cells. */
static void expect_channel(struct device *dev, unsigned int ch, const char *iommu_path, unsigned int num_ids,
			   const u32 *ids)
{
	struct swiommu_channel c;

	memset(&c, 0xa5, sizeof(c));
	assert_int_equal(swiommu_device_channel(dev, ch, &c), 0);
	if (!iommu_path) {
		assert_null(c.iommu);
		assert_int_equal(c.num_ids, 0);
		return;
	}
	if (!c.iommu)
		print_error("%s channel %u: no IOMMU, expected %s\n", dev_name(dev), ch, iommu_path);
	assert_non_null(c.iommu);
	assert_ptr_equal(c.iommu, of_find_node_by_path(iommu_path));
	assert_string_equal(c.iommu->full_name, strrchr(iommu_path, '/') + 1);
	assert_int_equal(c.num_ids, num_ids);
	for (unsigned int i = 0; i < num_ids; i++)
		assert_int_equal(c.ids[i], ids[i]);
}

static void expect_channel_id(struct device *dev, unsigned int ch, const char *iommu_path, u32 id)
{
	expect_channel(dev, ch, iommu_path, 1, &id);
}

/* A master with one channel behind a one-master IOMMU (#iommu-cells = <0>). */
static void expect_only_channel(struct device *dev, const char *iommu_path)
{
	assert_int_equal(swiommu_device_channel_count(dev), 1);
	expect_channel(dev, 0, iommu_path, 0, NULL);
}

/* The channels of a master whose "iommus" entries all name one IOMMU, with IDs first, first + 1 ... */
static void expect_id_run(struct device *dev, const char *iommu_path, unsigned int count, u32 first)
{
	assert_int_equal(swiommu_device_channel_count(dev), (int)count);
	for (unsigned int i = 0; i < count; i++)
		expect_channel_id(dev, i, iommu_path, first + i);
	struct swiommu_channel c;

	assert_int_equal(swiommu_device_channel(dev, count, &c), -ENOENT);
}

static void expect_no_device(const char *path)
{
	/* The node is there, but disabled: no device. */
	assert_non_null(of_find_node_by_path(path));
	assert_false(of_device_is_available(of_find_node_by_path(path)));
	assert_null(swiommu_find_device(path));
}

static void expect_32bit_masks(struct device *dev)
{
	assert_non_null(dev->dma_mask);
	assert_int_equal(*dev->dma_mask, MASK32);
	assert_int_equal(dev->coherent_dma_mask, MASK32);
	assert_int_equal(dev->bus_dma_limit, 0);
	assert_null(dev->dma_range_map);
}

static char tmp_board[128];

/* Write a board to /tmp (one at a time) and return its path. */
static const char *write_board(const char *tag, const char *text)
{
	snprintf(tmp_board, sizeof(tmp_board), "/tmp/swiommu-test-board-%d-%s.dts", (int)getpid(), tag);
	FILE *f = fopen(tmp_board, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	return tmp_board;
}

#define BOARD_HEAD							\
	"/dts-v1/;\n"							\
	"/ {\n"								\
	"\tcompatible = \"swiommu,test-board\";\n"			\
	"\t#address-cells = <2>;\n"					\
	"\t#size-cells = <2>;\n"					\
	"\tmemory@80000000 {\n"						\
	"\t\tdevice_type = \"memory\";\n"				\
	"\t\treg = <0x0 0x80000000 0x0 0x10000000>;\n"		\
	"\t};\n"

/* ------------------------------------------------------------------------------------------------ */
/* A recording driver for masters: what of_dma_configure had set when probe ran. */

#define MAX_RECORDS 16

static struct record {
	struct device *dev;
	int probes;
	bool coherent;
	int link;
	int channels;
	u64 bus_dma_limit;
	bool have_map;
} records[MAX_RECORDS];

static struct record *record_of(struct device *dev)
{
	for (int i = 0; i < MAX_RECORDS; i++)
		if (records[i].dev == dev)
			return &records[i];
	return NULL;
}

static int recorder_probe(struct platform_device *pdev)
{
	struct record *r = record_of(&pdev->dev);

	for (int i = 0; !r && i < MAX_RECORDS; i++)
		if (!records[i].dev)
			r = &records[i];
	if (!r)
		return -ENOMEM;
	r->dev = &pdev->dev;
	r->probes++;
	r->coherent = pdev->dev.dma_coherent;
	r->link = swiommu_device_iommu_link(&pdev->dev);
	r->channels = swiommu_device_channel_count(&pdev->dev);
	r->bus_dma_limit = pdev->dev.bus_dma_limit;
	r->have_map = pdev->dev.dma_range_map != NULL;
	return 0;
}

static const struct of_device_id recorder_of_match[] = {
	/* default board */
	{ .compatible = "swiommu,display" },
	{ .compatible = "swiommu,video-codec" },
	{ .compatible = "swiommu,noncoherent-device" },
	{ .compatible = "swiommu,dma32-device" },
	{ .compatible = "swiommu,pci-nic" },
	/* the coherence board written by a test */
	{ .compatible = "swiommu,test-master" },
	/* upstream boards */
	{ .compatible = "rockchip,rk3399-vpu" },
	{ .compatible = "rockchip,rk3399-vop-big" },
	{ .compatible = "renesas,dmac-r8a7795" },
	{ .compatible = "renesas,fcpv" },
	{ .compatible = "samsung,exynos5433-mfc" },
	{ .compatible = "samsung,exynos5433-decon" },
	{ .compatible = "apple,t8103-display-pipe" },
	{ .compatible = "apple,t8103-admac" },
	{ .compatible = "pci14e4,4425" },
	{ }
};

static struct platform_driver recorder_driver = {
	.probe = recorder_probe,
	.driver = {
		.name = "swiommu-test-recorder",
		.of_match_table = recorder_of_match,
	},
};

static void register_recorder(void)
{
	memset(records, 0, sizeof(records));
	assert_int_equal(platform_driver_register(&recorder_driver), 0);
}

/* The master was probed once, after of_dma_configure; returns its record. */
static struct record *probed(struct device *dev)
{
	struct record *r = record_of(dev);

	if (!r)
		print_error("%s was not probed\n", dev_name(dev));
	assert_non_null(r);
	assert_int_equal(r->probes, 1);
	assert_true(device_is_bound(dev));
	assert_ptr_equal(dev->driver, &recorder_driver.driver);
	return r;
}

/* ------------------------------------------------------------------------------------------------ */
/* A master driver registered by swiommu_init() (module_platform_driver) for the default board's GPU,
 * whose DART has no driver: during the initcall of_iommu_configure defers the probe; at the end of
 * boot the deferred probe runs once without the IOMMU. */

static int gpu_probes;
static int gpu_link_at_probe = -1;
static bool gpu_log_at_probe;

static int gpu_probe(struct platform_device *pdev)
{
	gpu_probes++;
	gpu_link_at_probe = swiommu_device_iommu_link(&pdev->dev);
	gpu_log_at_probe = swiommu_log_contains("ignoring dependency for device, assuming no driver");
	return 0;
}

static const struct of_device_id gpu_of_match[] = {
	{ .compatible = "swiommu,gpu" },
	{ }
};

static struct platform_driver swiommu_test_gpu_driver = {
	.probe = gpu_probe,
	.driver = {
		.name = "swiommu-test-gpu",
		.of_match_table = gpu_of_match,
	},
};
module_platform_driver(swiommu_test_gpu_driver);

/* A module driver for a master whose IOMMU node is disabled (a board written by a test). */
static int behind_disabled_probes;
static int behind_disabled_link = -1;

static int behind_disabled_probe(struct platform_device *pdev)
{
	behind_disabled_probes++;
	behind_disabled_link = swiommu_device_iommu_link(&pdev->dev);
	return 0;
}

static const struct of_device_id behind_disabled_of_match[] = {
	{ .compatible = "swiommu,test-behind-disabled" },
	{ }
};

static struct platform_driver swiommu_test_behind_disabled_driver = {
	.probe = behind_disabled_probe,
	.driver = {
		.name = "swiommu-test-behind-disabled",
		.of_match_table = behind_disabled_of_match,
	},
};
module_platform_driver(swiommu_test_behind_disabled_driver);

/* ------------------------------------------------------------------------------------------------ */
/* The default board */

static void default_board_boots_with_its_devices(void **state)
{
	(void)state;
	boot(NULL);
	assert_int_equal(swiommu_page_shift(), 12);

	struct device *isp = dev_at("/soc/isp@fe0a0000");

	/* By full path, node name with and without unit address, device name. */
	assert_ptr_equal(swiommu_find_device("isp@fe0a0000"), isp);
	assert_ptr_equal(swiommu_find_device("isp"), isp);
	assert_ptr_equal(swiommu_find_device("fe0a0000.isp"), isp);
	assert_string_equal(dev_name(isp), "fe0a0000.isp");
	assert_ptr_equal(isp->of_node, of_find_node_by_path("/soc/isp@fe0a0000"));
	assert_true(dev_is_platform(isp));
	assert_false(dev_is_pci(isp));

	/* Nested bus: the codec sits on codec-bus; IOMMU instances are devices too. */
	assert_string_equal(dev_name(dev_at("/soc/codec-bus/codec@fe400000")), "fe400000.codec");
	dev_at("/soc/codec-bus/sysmmu@fe410000");
	dev_at("/soc/iommu@fd000000");
	dev_at("/soc/iommu@fe900000");
	dev_at("/pcie@40000000");

	/* Nodes without a device: no compatible, not a node, or not a child of a bus. */
	assert_null(swiommu_find_device("/chosen"));
	assert_null(swiommu_find_device("/memory@80000000"));
	assert_null(swiommu_find_device("/reserved-memory/framebuffer@9e000000"));
	assert_null(swiommu_find_device("/soc/isp@fe0a1000"));
	assert_null(swiommu_find_device("no-such-device"));
	assert_null(swiommu_find_device(NULL));
	assert_int_equal(swiommu_warn_count(), 0);

	swiommu_exit();
	assert_false(swiommu_is_up());
	assert_int_equal(swiommu_page_shift(), 0);
	assert_null(swiommu_find_device("/soc/isp@fe0a0000"));
}

static void default_board_channels(void **state)
{
	(void)state;
	boot(NULL);

	/* DMA engine: 0-3 behind dmac_smmu0, 4-5 behind dmac_smmu1, 6-7 bypass (null entries). */
	struct device *dmac = dev_at("/soc/dma-controller@fe100000");

	assert_int_equal(swiommu_device_channel_count(dmac), 8);
	for (unsigned int i = 0; i < 4; i++)
		expect_channel_id(dmac, i, "/soc/iommu@fd000000", 0x100 + i);
	expect_channel_id(dmac, 4, "/soc/iommu@fd100000", 0x200);
	expect_channel_id(dmac, 5, "/soc/iommu@fd100000", 0x201);
	expect_channel(dmac, 6, NULL, 0, NULL);
	expect_channel(dmac, 7, NULL, 0, NULL);
	struct swiommu_channel c;

	assert_int_equal(swiommu_device_channel(dmac, 8, &c), -ENOENT);

	/* One channel each, with the IOMMU's #iommu-cells. */
	expect_channel_id(dev_at("/soc/display@fe200000"), 0, "/soc/iommu@fe800000", 0);
	expect_channel_id(dev_at("/soc/gpu@fe300000"), 0, "/soc/iommu@fe810000", 0);
	expect_only_channel(dev_at("/soc/isp@fe0a0000"), "/soc/iommu@fe0b0000");
	expect_only_channel(dev_at("/soc/uio@fe500000"), "/soc/iommu@fe5b0000");
	expect_only_channel(dev_at("/soc/dma-client@fe510000"), "/soc/iommu@fe5b0000");
	expect_channel_id(dev_at("/soc/vin@fea20000"), 0, "/soc/iommu@fe920000", 2);
	expect_channel_id(dev_at("/soc/vin@fea50000"), 0, "/soc/iommu@fe940000", 5);

	/* #iommu-cells = <2>: stream ID and mask. */
	const u32 usb0[] = { 0x820, 0x1 }, usb1[] = { 0x821, 0x0 };

	expect_channel(dev_at("/soc/usb@fe620000"), 0, "/soc/iommu@fd800000", 2, usb0);
	expect_channel(dev_at("/soc/usb@fe630000"), 0, "/soc/iommu@fd800000", 2, usb1);

	/* Two memory ports, two System MMUs. */
	struct device *codec = dev_at("/soc/codec-bus/codec@fe400000");

	assert_int_equal(swiommu_device_channel_count(codec), 2);
	expect_channel(codec, 0, "/soc/codec-bus/sysmmu@fe410000", 0, NULL);
	expect_channel(codec, 1, "/soc/codec-bus/sysmmu@fe420000", 0, NULL);

	/* No "iommus": one direct channel. */
	struct device *dma32 = dev_at("/soc/dma32@fe700000");

	assert_int_equal(swiommu_device_channel_count(dma32), 1);
	expect_channel(dma32, 0, NULL, 0, NULL);
	assert_int_equal(swiommu_device_channel(dma32, 1, &c), -ENOENT);
}

static void default_board_pci_devices(void **state)
{
	(void)state;
	boot(NULL);

	struct device *bridge = dev_at("/pcie@40000000");
	struct device *nic = dev_at("/pcie@40000000/nic@0,0");
	struct device *nvme = dev_at("/pcie@40000000/nvme@1,0");

	assert_string_equal(dev_name(bridge), "40000000.pcie");
	assert_string_equal(dev_name(nic), "0000:00:00.0");
	assert_string_equal(dev_name(nvme), "0000:00:01.0");
	assert_ptr_equal(swiommu_find_device("0000:00:00.0"), nic);
	assert_ptr_equal(swiommu_find_device("0000:00:01.0"), nvme);
	assert_true(dev_is_pci(nic));
	assert_true(dev_is_pci(nvme));
	assert_false(dev_is_platform(nic));
	assert_false(dev_is_pci(bridge));
	assert_ptr_equal(nic->parent, bridge);
	assert_string_equal(nic->of_node->full_name, "nic@0,0");

	/* Requester ID = bus << 8 | devfn; iommu-map: RID n is stream ID 0x1000 + n on the MMU-500. */
	assert_int_equal(swiommu_device_requester_id(nic), 0);
	assert_int_equal(swiommu_device_requester_id(nvme), 8);
	assert_int_equal(swiommu_device_requester_id(bridge), -ENODEV);
	assert_int_equal(swiommu_device_channel_count(nic), 1);
	expect_channel_id(nic, 0, "/soc/iommu@fd800000", 0x1000);
	assert_int_equal(swiommu_device_channel_count(nvme), 1);
	expect_channel_id(nvme, 0, "/soc/iommu@fd800000", 0x1008);

	/* Bound: of_dma_configure on the host bridge's node (dma-coherent, no dma-ranges). */
	register_recorder();
	struct record *r = probed(nic);

	assert_true(r->coherent);
	assert_int_equal(r->link, SWIOMMU_IOMMU_NO_DRIVER);
	assert_int_equal(r->channels, 1);
	assert_true(nic->dma_coherent);
	expect_32bit_masks(nic);
	expect_channel_id(nic, 0, "/soc/iommu@fd800000", 0x1000);
	assert_int_equal(swiommu_device_iommu_link(nic), SWIOMMU_IOMMU_NO_DRIVER);
	platform_driver_unregister(&recorder_driver);
	assert_false(device_is_bound(nic));
}

static void topology_calls_reject_bad_arguments(void **state)
{
	(void)state;
	boot(NULL);

	struct device *isp = dev_at("/soc/isp@fe0a0000");
	struct device *bad = ERR_PTR(-ENOMEM);
	struct swiommu_channel c;
	struct swiommu_resv_region rr;

	assert_int_equal(swiommu_device_channel_count(NULL), -EINVAL);
	assert_int_equal(swiommu_device_channel_count(bad), -EINVAL);
	assert_int_equal(swiommu_device_channel(NULL, 0, &c), -EINVAL);
	assert_int_equal(swiommu_device_channel(bad, 0, &c), -EINVAL);
	assert_int_equal(swiommu_device_channel(isp, 0, NULL), -EINVAL);
	assert_int_equal(swiommu_device_channel(isp, 1, &c), -ENOENT);
	assert_int_equal(swiommu_device_iommu_link(NULL), -EINVAL);
	assert_int_equal(swiommu_device_iommu_link(bad), -EINVAL);
	assert_int_equal(swiommu_device_resv_region(NULL, 0, &rr), -EINVAL);
	assert_int_equal(swiommu_device_resv_region(isp, 0, NULL), -EINVAL);
	assert_int_equal(swiommu_device_resv_region(isp, 0, &rr), -ENOENT);
	assert_int_equal(swiommu_device_requester_id(NULL), -EINVAL);
	assert_int_equal(swiommu_device_requester_id(bad), -EINVAL);
}

static void default_board_dma_configuration_after_probe(void **state)
{
	(void)state;
	boot(NULL);

	struct device *codec = dev_at("/soc/codec-bus/codec@fe400000");
	struct device *display = dev_at("/soc/display@fe200000");
	struct device *noncoh = dev_at("/soc/noncoherent@fe710000");
	struct device *dma32 = dev_at("/soc/dma32@fe700000");
	struct swiommu_resv_region rr;

	/* Before binding: platform device defaults, 32-bit masks, nothing configured yet. */
	expect_32bit_masks(codec);

	swiommu_log_reset();
	register_recorder();

	/*
	 * The codec: not coherent (no dma-coherent on it or its buses); codec-bus's dma-ranges maps bus
	 * 0 .. 256 MiB to CPU 0x80000000: bus_dma_limit and both masks become 28 bits, one range then the
	 * zero-size terminator. Its firmware window is a RESERVED region (R|W: not coherent).
	 */
	struct record *r = probed(codec);

	assert_false(r->coherent);
	assert_true(r->have_map);
	assert_int_equal(r->bus_dma_limit, 0x0fffffff);
	assert_int_equal(r->link, SWIOMMU_IOMMU_NO_DRIVER);
	assert_int_equal(r->channels, 2);
	assert_false(codec->dma_coherent);
	assert_int_equal(codec->bus_dma_limit, 0x0fffffff);
	assert_int_equal(codec->coherent_dma_mask, 0x0fffffff);
	assert_non_null(codec->dma_mask);
	assert_int_equal(*codec->dma_mask, 0x0fffffff);
	assert_non_null(codec->dma_range_map);
	assert_int_equal(codec->dma_range_map[0].cpu_start, 0x80000000);
	assert_int_equal(codec->dma_range_map[0].dma_start, 0);
	assert_int_equal(codec->dma_range_map[0].size, 0x10000000);
	assert_int_equal(codec->dma_range_map[1].size, 0);
	assert_int_equal(swiommu_device_resv_region(codec, 0, &rr), 0);
	assert_int_equal(rr.type, SWIOMMU_RESV_RESERVED);
	assert_int_equal(rr.start, 0);
	assert_int_equal(rr.length, 0x100000);
	assert_int_equal(rr.prot, IOMMU_READ | IOMMU_WRITE);
	assert_int_equal(swiommu_device_resv_region(codec, 1, &rr), -ENOENT);
	assert_int_equal(swiommu_device_iommu_link(codec), SWIOMMU_IOMMU_NO_DRIVER);

	/* The display: dma-coherent; its framebuffer is mapped 1:1 (DIRECT, R|W|CACHE). */
	r = probed(display);
	assert_true(r->coherent);
	assert_false(r->have_map);
	assert_int_equal(r->link, SWIOMMU_IOMMU_NO_DRIVER);
	assert_true(display->dma_coherent);
	expect_32bit_masks(display);
	assert_int_equal(swiommu_device_resv_region(display, 0, &rr), 0);
	assert_int_equal(rr.type, SWIOMMU_RESV_DIRECT);
	assert_int_equal(rr.start, 0x9e000000);
	assert_int_equal(rr.length, 0x800000);
	assert_int_equal(rr.prot, IOMMU_READ | IOMMU_WRITE | IOMMU_CACHE);
	assert_int_equal(swiommu_device_resv_region(display, 1, &rr), -ENOENT);

	/* No IOMMU at all: link NONE, one direct channel. */
	r = probed(noncoh);
	assert_false(r->coherent);
	assert_int_equal(r->link, SWIOMMU_IOMMU_NONE);
	assert_false(noncoh->dma_coherent);
	expect_32bit_masks(noncoh);
	assert_int_equal(swiommu_device_channel_count(noncoh), 1);
	expect_channel(noncoh, 0, NULL, 0, NULL);
	assert_int_equal(swiommu_device_resv_region(noncoh, 0, &rr), -ENOENT);

	r = probed(dma32);
	assert_true(r->coherent);
	assert_int_equal(r->link, SWIOMMU_IOMMU_NONE);
	expect_32bit_masks(dma32);

	/* Bound after boot, behind IOMMUs without drivers: the kernel's warning. */
	assert_true(swiommu_log_contains("ignoring dependency for device, assuming no driver"));

	platform_driver_unregister(&recorder_driver);
	assert_false(device_is_bound(codec));
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

/* Unbinding frees the dma_range_map (device_unbind_cleanup); binding again rebuilds it. */
static void unbinding_frees_the_dma_range_map(void **state)
{
	(void)state;
	boot(NULL);

	struct device *codec = dev_at("/soc/codec-bus/codec@fe400000");

	for (int round = 0; round < 2; round++) {
		register_recorder();
		probed(codec);
		assert_non_null(codec->dma_range_map);
		assert_int_equal(codec->dma_range_map[0].cpu_start, 0x80000000);
		assert_int_equal(codec->dma_range_map[0].dma_start, 0);
		assert_int_equal(codec->dma_range_map[0].size, 0x10000000);
		assert_int_equal(codec->dma_range_map[1].size, 0);
		assert_int_equal(codec->bus_dma_limit, 0x0fffffff);
		platform_driver_unregister(&recorder_driver);
		assert_false(device_is_bound(codec));
		assert_null(codec->dma_range_map);
	}
}

/*
 * A device tree platform device keeps its streaming mask in pdev->platform_dma_mask: of_device_alloc()
 * uses platform_device_alloc(), whose setup_pdev_dma_masks() points dev->dma_mask there, so
 * of_platform_device_create_pdata() leaves it alone. The two masks are separate: setting one (as
 * dma_set_mask() does) leaves the other.
 */
static void dt_device_streaming_mask_is_its_own(void **state)
{
	(void)state;
	boot(NULL);

	struct device *codec = dev_at("/soc/codec-bus/codec@fe400000");
	struct platform_device *pdev = to_platform_device(codec);

	assert_int_equal(pdev->platform_dma_mask, MASK32);
	assert_ptr_equal(codec->dma_mask, &pdev->platform_dma_mask);
	assert_ptr_not_equal(codec->dma_mask, &codec->coherent_dma_mask);
	*codec->dma_mask = ~0ULL;		/* dma_set_mask(dev, DMA_BIT_MASK(64)) */
	assert_int_equal(codec->coherent_dma_mask, MASK32);
}

/* of_dma_is_coherent: dma-coherent on the node or a parent; dma-noncoherent stops the walk. */
static const char coherence_board[] = BOARD_HEAD
	"\tplain@10000000 {\n"
	"\t\tcompatible = \"swiommu,test-master\";\n"
	"\t\treg = <0x0 0x10000000 0x0 0x1000>;\n"
	"\t};\n"
	"\tsoc {\n"
	"\t\tcompatible = \"simple-bus\";\n"
	"\t\t#address-cells = <2>;\n"
	"\t\t#size-cells = <2>;\n"
	"\t\tranges;\n"
	"\t\tdma-coherent;\n"
	"\t\tinherits@20000000 {\n"
	"\t\t\tcompatible = \"swiommu,test-master\";\n"
	"\t\t\treg = <0x0 0x20000000 0x0 0x1000>;\n"
	"\t\t};\n"
	"\t\topts-out@20001000 {\n"
	"\t\t\tcompatible = \"swiommu,test-master\";\n"
	"\t\t\treg = <0x0 0x20001000 0x0 0x1000>;\n"
	"\t\t\tdma-noncoherent;\n"
	"\t\t};\n"
	"\t\tnoncoherent-bus {\n"
	"\t\t\tcompatible = \"simple-bus\";\n"
	"\t\t\t#address-cells = <2>;\n"
	"\t\t\t#size-cells = <2>;\n"
	"\t\t\tranges;\n"
	"\t\t\tdma-noncoherent;\n"
	"\t\t\tbelow-noncoherent@20002000 {\n"
	"\t\t\t\tcompatible = \"swiommu,test-master\";\n"
	"\t\t\t\treg = <0x0 0x20002000 0x0 0x1000>;\n"
	"\t\t\t};\n"
	"\t\t\topts-in@20003000 {\n"
	"\t\t\t\tcompatible = \"swiommu,test-master\";\n"
	"\t\t\t\treg = <0x0 0x20003000 0x0 0x1000>;\n"
	"\t\t\t\tdma-coherent;\n"
	"\t\t\t};\n"
	"\t\t};\n"
	"\t};\n"
	"};\n";

static void coherence_follows_the_dma_parent_walk(void **state)
{
	(void)state;
	boot(write_board("coherence", coherence_board));
	unlink(tmp_board);
	register_recorder();

	assert_false(probed(dev_at("/plain@10000000"))->coherent);	/* arm64: not coherent by default */
	assert_true(probed(dev_at("/soc/inherits@20000000"))->coherent);
	assert_false(probed(dev_at("/soc/opts-out@20001000"))->coherent);
	assert_false(probed(dev_at("/soc/noncoherent-bus/below-noncoherent@20002000"))->coherent);
	assert_true(probed(dev_at("/soc/noncoherent-bus/opts-in@20003000"))->coherent);
	assert_true(dev_at("/soc/inherits@20000000")->dma_coherent);
	assert_false(dev_at("/soc/noncoherent-bus/below-noncoherent@20002000")->dma_coherent);
	platform_driver_unregister(&recorder_driver);
}

static void module_driver_defers_then_probes_without_its_iommu(void **state)
{
	(void)state;
	gpu_probes = 0;
	gpu_link_at_probe = -1;
	gpu_log_at_probe = false;
	boot(NULL);

	struct device *gpu = dev_at("/soc/gpu@fe300000");

	/*
	 * Registered by its initcall, the driver found the GPU behind a DART without a driver: probe
	 * deferred. At the end of boot the deferred probe ran once, without the IOMMU.
	 */
	assert_int_equal(gpu_probes, 1);
	assert_int_equal(gpu_link_at_probe, SWIOMMU_IOMMU_NO_DRIVER);
	assert_true(gpu_log_at_probe);
	assert_true(device_is_bound(gpu));
	assert_ptr_equal(gpu->driver, &swiommu_test_gpu_driver.driver);
	assert_int_equal(swiommu_device_iommu_link(gpu), SWIOMMU_IOMMU_NO_DRIVER);
	assert_true(gpu->dma_coherent);
	expect_channel_id(gpu, 0, "/soc/iommu@fe810000", 0);
	assert_true(swiommu_log_contains("ignoring dependency for device, assuming no driver"));
	assert_false(swiommu_log_contains("deferred probe pending"));
}

static int uio_probes, client_probes;
static int uio_link = -1;

static int uio_probe(struct platform_device *pdev)
{
	uio_probes++;
	uio_link = swiommu_device_iommu_link(&pdev->dev);
	return 0;
}

static int client_probe(struct platform_device *pdev)
{
	(void)pdev;
	client_probes++;
	return 0;
}

static const struct of_device_id uio_of_match[] = {
	{ .compatible = "swiommu,uio" },
	{ }
};

static const struct of_device_id client_of_match[] = {
	{ .compatible = "swiommu,dma-client" },
	{ }
};

static struct platform_driver uio_driver = {
	.probe = uio_probe,
	.driver = {
		.name = "swiommu-test-uio",
		.of_match_table = uio_of_match,
	},
	.driver_managed_dma = true,
};

static struct platform_driver client_driver = {
	.probe = client_probe,
	.driver = {
		.name = "swiommu-test-dma-client",
		.of_match_table = client_of_match,
	},
};

static void driver_managed_dma_driver_binds(void **state)
{
	(void)state;
	boot(NULL);
	uio_probes = client_probes = 0;
	uio_link = -1;

	struct device *uio = dev_at("/soc/uio@fe500000");
	struct device *client = dev_at("/soc/dma-client@fe510000");

	assert_int_equal(platform_driver_register(&uio_driver), 0);
	assert_int_equal(uio_probes, 1);
	assert_int_equal(uio_link, SWIOMMU_IOMMU_NO_DRIVER);
	assert_true(device_is_bound(uio));
	assert_true(uio->dma_coherent);
	/* A DMA-API driver on the other device behind the same IOMMU binds too. */
	assert_int_equal(platform_driver_register(&client_driver), 0);
	assert_int_equal(client_probes, 1);
	assert_true(device_is_bound(client));
	platform_driver_unregister(&client_driver);
	platform_driver_unregister(&uio_driver);
	assert_false(device_is_bound(uio));
	assert_int_equal(swiommu_warn_count(), 0);
}

/*
 * of_iommu_xlate: an IOMMU node that is not available gives -ENODEV, and the master carries on without
 * it, without deferring. A PCI host bridge's dma-ranges (3-cell PCI addresses: the flags cell is not
 * part of the address) limit its devices as a bus's dma-ranges limit platform devices.
 */
static const char disabled_iommu_board[] = BOARD_HEAD
	"\tsoc {\n"
	"\t\tcompatible = \"simple-bus\";\n"
	"\t\t#address-cells = <2>;\n"
	"\t\t#size-cells = <2>;\n"
	"\t\tranges;\n"
	"\t\tmmu: iommu@fe0b0000 {\n"
	"\t\t\tcompatible = \"rockchip,iommu\";\n"
	"\t\t\treg = <0x0 0xfe0b0000 0x0 0x100>;\n"
	"\t\t\t#iommu-cells = <0>;\n"
	"\t\t\tstatus = \"disabled\";\n"
	"\t\t};\n"
	"\t\tmaster@fe0a0000 {\n"
	"\t\t\tcompatible = \"swiommu,test-behind-disabled\";\n"
	"\t\t\treg = <0x0 0xfe0a0000 0x0 0x1000>;\n"
	"\t\t\tiommus = <&mmu>;\n"
	"\t\t};\n"
	"\t\tdisabled-bus {\n"
	"\t\t\tcompatible = \"simple-bus\";\n"
	"\t\t\t#address-cells = <2>;\n"
	"\t\t\t#size-cells = <2>;\n"
	"\t\t\tranges;\n"
	"\t\t\tstatus = \"disabled\";\n"
	"\t\t\torphan@fe0c0000 {\n"
	"\t\t\t\tcompatible = \"swiommu,test-master\";\n"
	"\t\t\t\treg = <0x0 0xfe0c0000 0x0 0x1000>;\n"
	"\t\t\t};\n"
	"\t\t};\n"
	"\t};\n"
	"\tpcie@40000000 {\n"
	"\t\tcompatible = \"pci-host-ecam-generic\";\n"
	"\t\tdevice_type = \"pci\";\n"
	"\t\treg = <0x0 0x40000000 0x0 0x1000000>;\n"
	"\t\t#address-cells = <3>;\n"
	"\t\t#size-cells = <2>;\n"
	"\t\tranges = <0x02000000 0x0 0x50000000 0x0 0x50000000 0x0 0x10000000>;\n"
	"\t\tdma-ranges = <0x42000000 0x0 0x0 0x0 0x80000000 0x0 0x10000000>;\n"
	"\t\tnic@0,0 {\n"
	"\t\t\tcompatible = \"swiommu,test-master\";\n"
	"\t\t\treg = <0x0 0x0 0x0 0x0 0x0>;\n"
	"\t\t};\n"
	"\t};\n"
	"};\n";

static void disabled_iommu_and_pci_dma_ranges(void **state)
{
	(void)state;
	behind_disabled_probes = 0;
	behind_disabled_link = -1;
	boot(write_board("disabled-iommu", disabled_iommu_board));
	unlink(tmp_board);

	struct device *master = dev_at("/soc/master@fe0a0000");

	/* Nothing is made for a disabled node, nor below a disabled bus. */
	assert_null(swiommu_find_device("/soc/iommu@fe0b0000"));
	assert_null(swiommu_find_device("/soc/disabled-bus"));
	assert_null(swiommu_find_device("/soc/disabled-bus/orphan@fe0c0000"));

	/* Probed by its initcall: a disabled IOMMU is no reason to wait. */
	assert_int_equal(behind_disabled_probes, 1);
	assert_int_equal(behind_disabled_link, SWIOMMU_IOMMU_DISABLED);
	assert_true(device_is_bound(master));
	assert_int_equal(swiommu_device_iommu_link(master), SWIOMMU_IOMMU_DISABLED);
	assert_false(swiommu_log_contains("ignoring dependency"));
	expect_only_channel(master, "/soc/iommu@fe0b0000");

	struct device *nic = dev_at("/pcie@40000000/nic@0,0");

	register_recorder();
	struct record *r = probed(nic);

	assert_int_equal(r->link, SWIOMMU_IOMMU_NONE);
	assert_int_equal(nic->bus_dma_limit, 0x0fffffff);
	assert_int_equal(nic->coherent_dma_mask, 0x0fffffff);
	assert_int_equal(*nic->dma_mask, 0x0fffffff);
	assert_non_null(nic->dma_range_map);
	assert_int_equal(nic->dma_range_map[0].cpu_start, 0x80000000);
	assert_int_equal(nic->dma_range_map[0].dma_start, 0);
	assert_int_equal(nic->dma_range_map[0].size, 0x10000000);
	assert_int_equal(nic->dma_range_map[1].size, 0);
	platform_driver_unregister(&recorder_driver);
}

/* ------------------------------------------------------------------------------------------------ */
/* /chosen options and swiommu,page-shift */

static void chosen_options_are_accepted(void **state)
{
	(void)state;
	static const char *const chosen[] = {
		"\tchosen {\n\t\tbootargs = \"console=ttyAMA0 iommu.strict=0\";\n\t};\n",
		"\tchosen {\n\t\tbootargs = \"iommu.strict=1 iommu.passthrough=1 swiotlb=16384\";\n\t};\n",
		"\tchosen {\n\t\tbootargs = \"iommu.passthrough=0 quiet\";\n"
		"\t\tswiommu,iommu-policy = \"per-instance\";\n\t};\n",
		"\tchosen {\n\t\tswiommu,iommu-policy = \"global\";\n"
		"\t\tswiommu,iommu-strict = <0>;\n\t\tswiommu,iommu-passthrough = <1>;\n\t};\n",
		"\tchosen {\n\t\tswiommu,iommu-policy = \"per-group\";\n"
		"\t\tswiommu,swiotlb-size = <0x100000>;\n\t};\n",
		"\tchosen {\n\t\tswiommu,swiotlb-size = <0x0 0x2000000>;\n\t};\n",
		"\tchosen {\n\t\tswiommu,page-shift = <12>;\n\t};\n",
		"\tchosen {\n\t};\n",
	};
	char text[1024];

	for (size_t i = 0; i < sizeof(chosen) / sizeof(chosen[0]); i++) {
		snprintf(text, sizeof(text), "%s%s};\n", BOARD_HEAD, chosen[i]);
		boot(write_board("chosen", text));
		unlink(tmp_board);
		assert_int_equal(swiommu_page_shift(), 12);
		swiommu_exit();
	}
}

static const char page_shift_14_board[] = BOARD_HEAD
	"\tchosen {\n"
	"\t\tswiommu,page-shift = <14>;\n"
	"\t};\n"
	"};\n";

static void page_shift_board_boots_only_with_its_page_size(void **state)
{
	(void)state;
	char path[sizeof(tmp_board)];

	strcpy(path, write_board("page-shift-14", page_shift_14_board));

	/* A 4K caller: refused, with a message naming the file, /chosen and the property. */
	swiommu_log_reset();
	assert_int_equal(swiommu_init(path), -EINVAL);
	assert_false(swiommu_is_up());
	assert_non_null(strstr(swiommu_log_last(), path));
	assert_non_null(strstr(swiommu_log_last(), "/chosen"));
	assert_non_null(strstr(swiommu_log_last(), "swiommu,page-shift"));
	assert_int_equal(swiommu_init_page_shift(path, 16), -EINVAL);
	assert_false(swiommu_is_up());

	/* A 16K caller boots it. */
	assert_int_equal(swiommu_init_page_shift(path, 14), 0);
	assert_true(swiommu_is_up());
	assert_int_equal(swiommu_page_shift(), 14);
	void *p = kmalloc(100, GFP_KERNEL);

	assert_non_null(p);
	kfree(p);
	swiommu_exit();
	unlink(path);
	assert_false(swiommu_is_up());
}

/* ------------------------------------------------------------------------------------------------ */
/* Upstream boards */

static phys_addr_t kmalloc_phys(void)
{
	void *p = kmalloc(64, GFP_KERNEL);

	assert_non_null(p);
	phys_addr_t phys = virt_to_phys(p);

	kfree(p);
	return phys;
}

static void rk3399_board(void **state)
{
	(void)state;
	boot(RK3399);
	assert_true(of_device_is_compatible(of_find_node_by_path("/"), "rockchip,rk3399") > 0);

	/* No soc bus on RK3399: the masters and their IOMMUs sit at the root. */
	struct device *vpu = dev_at("/video-codec@ff650000");
	struct device *vopb = dev_at("/vop@ff900000");

	assert_string_equal(dev_name(vpu), "ff650000.video-codec");
	expect_only_channel(vpu, "/iommu@ff650800");
	expect_only_channel(dev_at("/video-codec@ff660000"), "/iommu@ff660480");
	expect_only_channel(dev_at("/vop@ff8f0000"), "/iommu@ff8f3f00");
	expect_only_channel(vopb, "/iommu@ff903f00");
	dev_at("/iommu@ff650800");
	dev_at("/iommu@ff914000");	/* enabled, its master is not */
	dev_at("/iommu@ff924000");

	/* Disabled upstream: the ISPs and the IEP's IOMMU. */
	expect_no_device("/isp0@ff910000");
	expect_no_device("/isp1@ff920000");
	expect_no_device("/iommu@ff670800");
	assert_null(swiommu_find_device("isp0"));

	/* A 4-cell GIC-v3 specifier: GIC_SPI 114 is interrupt 146. */
	struct platform_device *pvpu = to_platform_device(vpu);

	assert_int_equal(platform_irq_count(pvpu), 2);
	assert_int_equal(platform_get_irq(pvpu, 0), 32 + 114);
	assert_int_equal(platform_get_irq(pvpu, 1), 32 + 113);
	assert_int_equal(platform_get_resource(pvpu, IORESOURCE_MEM, 0)->start, 0xff650000);
	assert_int_equal(platform_get_resource(pvpu, IORESOURCE_MEM, 0)->end, 0xff6507ff);

	/* RAM starts at physical 0. */
	assert_true(kmalloc_phys() < 0x80000000);

	register_recorder();
	struct record *r = probed(vpu);

	assert_false(r->coherent);
	assert_int_equal(r->link, SWIOMMU_IOMMU_NO_DRIVER);
	expect_32bit_masks(vpu);
	expect_only_channel(vpu, "/iommu@ff650800");
	r = probed(vopb);
	assert_int_equal(r->link, SWIOMMU_IOMMU_NO_DRIVER);
	platform_driver_unregister(&recorder_driver);
}

static void r8a7795_board(void **state)
{
	(void)state;
	boot(R8A7795);
	assert_true(of_device_is_compatible(of_find_node_by_path("/"), "renesas,r8a7795") > 0);

	/* SYS-DMACs and the audio DMAC: one micro-TLB per channel. */
	struct device *dmac0 = dev_at("/soc/dma-controller@e6700000");
	struct device *dmac1 = dev_at("/soc/dma-controller@e7300000");

	expect_id_run(dmac0, "/soc/iommu@e6740000", 16, 0);
	expect_id_run(dmac1, "/soc/iommu@e7740000", 16, 0);
	expect_id_run(dev_at("/soc/dma-controller@ec700000"), "/soc/iommu@ec670000", 16, 0);
	expect_id_run(dev_at("/soc/ethernet@e6800000"), "/soc/iommu@e6740000", 1, 16);
	expect_id_run(dev_at("/soc/mmc@ee100000"), "/soc/iommu@e7740000", 1, 32);
	expect_id_run(dev_at("/soc/fcp@fea27000"), "/soc/iommu@febd0000", 1, 8);
	expect_id_run(dev_at("/soc/fcp@fea2f000"), "/soc/iommu@febd0000", 1, 9);
	expect_id_run(dev_at("/soc/fcp@fea37000"), "/soc/iommu@febe0000", 1, 10);
	expect_no_device("/soc/mmc@ee120000");
	expect_no_device("/soc/sata@ee300000");

	/* The main IPMMU and its cache IPMMUs, which name it with renesas,ipmmu-main. */
	struct device_node *mm = of_find_node_by_path("/soc/iommu@e67b0000");
	u32 main_ph = 0, index = 99;

	dev_at("/soc/iommu@e67b0000");
	dev_at("/soc/iommu@e6570000");
	assert_non_null(mm);
	assert_int_not_equal(mm->phandle, 0);
	assert_int_equal(of_property_read_u32_index(of_find_node_by_path("/soc/iommu@e7740000"),
						    "renesas,ipmmu-main", 0, &main_ph), 0);
	assert_int_equal(of_property_read_u32_index(of_find_node_by_path("/soc/iommu@e7740000"),
						    "renesas,ipmmu-main", 1, &index), 0);
	assert_int_equal(main_ph, mm->phandle);
	assert_int_equal(index, 1);

	/* 25 interrupts on EtherAVB, GIC_SPI 39 first. */
	struct platform_device *avb = to_platform_device(dev_at("/soc/ethernet@e6800000"));

	assert_int_equal(platform_irq_count(avb), 25);
	assert_int_equal(platform_get_irq(avb, 0), 32 + 39);

	/* The root port under pciec0: iommu-map-mask = <0> sends every RID to ipmmu_hc micro-TLB 0. */
	struct device *port = dev_at("/soc/pcie@fe000000/pci@0,0");

	assert_string_equal(dev_name(port), "0000:00:00.0");
	assert_true(dev_is_pci(port));
	assert_ptr_equal(port->parent, dev_at("/soc/pcie@fe000000"));
	assert_int_equal(swiommu_device_requester_id(port), 0);
	expect_id_run(port, "/soc/iommu@e6570000", 1, 0);
	dev_at("/soc/pcie@ee800000");

	/* RAM: four banks, the first at 0x48000000. */
	assert_true(kmalloc_phys() >= 0x48000000);

	register_recorder();
	struct record *r = probed(dmac0);

	assert_false(r->coherent);
	assert_int_equal(r->link, SWIOMMU_IOMMU_NO_DRIVER);
	assert_int_equal(r->channels, 16);
	expect_32bit_masks(dmac0);
	expect_id_run(dmac0, "/soc/iommu@e6740000", 16, 0);
	probed(dmac1);
	assert_int_equal(probed(dev_at("/soc/fcp@fea37000"))->link, SWIOMMU_IOMMU_NO_DRIVER);
	platform_driver_unregister(&recorder_driver);
}

static void exynos5433_board(void **state)
{
	(void)state;
	boot(EXYNOS5433);
	assert_true(of_device_is_compatible(of_find_node_by_path("/"), "samsung,exynos5433") > 0);

	struct device *decon = dev_at("/soc@0/decon@13800000");
	struct device *mfc = dev_at("/soc@0/codec@152e0000");

	/* Two ports, two System MMUs: DECON's m0/m1, MFC's left/right. */
	assert_int_equal(swiommu_device_channel_count(decon), 2);
	expect_channel(decon, 0, "/soc@0/sysmmu@13a00000", 0, NULL);
	expect_channel(decon, 1, "/soc@0/sysmmu@13a10000", 0, NULL);
	assert_int_equal(swiommu_device_channel_count(mfc), 2);
	expect_channel(mfc, 0, "/soc@0/sysmmu@15200000", 0, NULL);
	expect_channel(mfc, 1, "/soc@0/sysmmu@15210000", 0, NULL);
	expect_only_channel(dev_at("/soc@0/video-scaler@13c00000"), "/soc@0/sysmmu@13c80000");
	expect_only_channel(dev_at("/soc@0/video-scaler@13c10000"), "/soc@0/sysmmu@13c90000");
	expect_only_channel(dev_at("/soc@0/codec@15020000"), "/soc@0/sysmmu@15060000");

	/* DECON-TV is disabled; its System MMUs are not. */
	expect_no_device("/soc@0/decon@13880000");
	dev_at("/soc@0/sysmmu@13a20000");
	dev_at("/soc@0/sysmmu@13a30000");

	/* 1-cell addresses on soc@0, translated through its ranges. */
	struct platform_device *pmfc = to_platform_device(mfc);

	assert_string_equal(dev_name(mfc), "152e0000.codec");
	assert_int_equal(platform_get_resource(pmfc, IORESOURCE_MEM, 0)->start, 0x152e0000);
	assert_int_equal(platform_get_resource(pmfc, IORESOURCE_MEM, 0)->end, 0x152effff);
	assert_int_equal(platform_get_irq(pmfc, 0), 32 + 358);

	assert_true(kmalloc_phys() >= 0x20000000);

	register_recorder();
	struct record *r = probed(mfc);

	assert_false(r->coherent);
	assert_int_equal(r->link, SWIOMMU_IOMMU_NO_DRIVER);
	assert_int_equal(r->channels, 2);
	expect_32bit_masks(mfc);
	assert_int_equal(probed(decon)->channels, 2);
	platform_driver_unregister(&recorder_driver);
}

static void t8103_board(void **state)
{
	(void)state;
	boot(T8103);
	assert_true(of_device_is_compatible(of_find_node_by_path("/"), "apple,t8103") > 0);

	struct device *dfr = dev_at("/soc/display-pipe@228200000");
	struct device *admac = dev_at("/soc/dma-controller@238200000");

	assert_string_equal(dev_name(dfr), "228200000.display-pipe");
	expect_id_run(dfr, "/soc/iommu@228304000", 1, 0);
	expect_id_run(admac, "/soc/iommu@235004000", 1, 2);
	dev_at("/soc/iommu@681008000");
	expect_no_device("/soc/iommu@682008000");
	expect_no_device("/soc/iommu@683008000");

	/* Interrupts come from the AIC each node names (no root interrupt-parent). */
	assert_int_equal(platform_irq_count(to_platform_device(dfr)), 2);

	/* Root port 0 is RID 0: the iommu-map (masked with 0xff00) has no entry for bus 0. */
	struct device *port00 = dev_at("/soc/pcie@690000000/pci@0,0");

	assert_string_equal(dev_name(port00), "0000:00:00.0");
	assert_true(dev_is_pci(port00));
	assert_int_equal(swiommu_device_requester_id(port00), 0);
	assert_int_equal(swiommu_device_channel_count(port00), 1);
	expect_channel(port00, 0, NULL, 0, NULL);
	expect_no_device("/soc/pcie@690000000/pci@1,0");
	assert_null(swiommu_find_device("0000:00:01.0"));

	/* RAM at 0x8_0000_0000. */
	assert_true(kmalloc_phys() >= 0x800000000ULL);

	register_recorder();
	struct record *r = probed(dfr);

	assert_false(r->coherent);
	assert_int_equal(r->link, SWIOMMU_IOMMU_NO_DRIVER);
	expect_32bit_masks(dfr);
	assert_int_equal(probed(admac)->link, SWIOMMU_IOMMU_NO_DRIVER);
	platform_driver_unregister(&recorder_driver);
}

/*
 * The M1's on-board wifi and bluetooth sit on bus 1 behind root port 0 (t8103-jxxx.dtsi): RIDs 0x100
 * and 0x101, which the iommu-map sends to pcie0_dart_0 stream 1. In Linux they are the PCI devices
 * 0000:01:00.0 and 0000:01:00.1 with these nodes as of_node, behind the DART.
 */
static void t8103_pci_devices_behind_the_root_port(void **state)
{
	(void)state;
	boot(T8103);

	struct device *wifi = dev_at("/soc/pcie@690000000/pci@0,0/wifi@0,0");
	struct device *bt = dev_at("/soc/pcie@690000000/pci@0,0/bluetooth@0,1");

	assert_string_equal(dev_name(wifi), "0000:01:00.0");
	assert_string_equal(dev_name(bt), "0000:01:00.1");
	assert_true(dev_is_pci(wifi));
	assert_int_equal(swiommu_device_requester_id(wifi), 0x100);
	assert_int_equal(swiommu_device_requester_id(bt), 0x101);
	expect_id_run(wifi, "/soc/iommu@681008000", 1, 1);
	expect_id_run(bt, "/soc/iommu@681008000", 1, 1);

	register_recorder();
	assert_int_equal(probed(wifi)->link, SWIOMMU_IOMMU_NO_DRIVER);
	platform_driver_unregister(&recorder_driver);
}

static void boards_boot_one_after_another(void **state)
{
	(void)state;
	static const char *const boards[] = { RK3399, R8A7795, EXYNOS5433, T8103, NULL };
	char dtb[128], cmd[512];

	for (int round = 0; round < 2; round++)
		for (size_t i = 0; i < sizeof(boards) / sizeof(boards[0]); i++) {
			boot(boards[i]);
			assert_int_equal(swiommu_warn_count(), 0);
			swiommu_exit();
		}

	/* The same board as a .dtb. */
	snprintf(dtb, sizeof(dtb), "/tmp/swiommu-test-board-%d-rk3399.dtb", (int)getpid());
	snprintf(cmd, sizeof(cmd), "dtc -q -I dts -O dtb -o %s %s", dtb, RK3399);
	assert_int_equal(system(cmd), 0);
	boot(dtb);
	unlink(dtb);
	expect_only_channel(dev_at("/vop@ff900000"), "/iommu@ff903f00");
	expect_no_device("/isp0@ff910000");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(default_board_boots_with_its_devices, shut_down),
		cmocka_unit_test_teardown(default_board_channels, shut_down),
		cmocka_unit_test_teardown(default_board_pci_devices, shut_down),
		cmocka_unit_test_teardown(topology_calls_reject_bad_arguments, shut_down),
		cmocka_unit_test_teardown(default_board_dma_configuration_after_probe, shut_down),
		cmocka_unit_test_teardown(unbinding_frees_the_dma_range_map, shut_down),
		cmocka_unit_test_teardown(dt_device_streaming_mask_is_its_own, shut_down),
		cmocka_unit_test_teardown(coherence_follows_the_dma_parent_walk, shut_down),
		cmocka_unit_test_teardown(module_driver_defers_then_probes_without_its_iommu, shut_down),
		cmocka_unit_test_teardown(driver_managed_dma_driver_binds, shut_down),
		cmocka_unit_test_teardown(disabled_iommu_and_pci_dma_ranges, shut_down),
		cmocka_unit_test_teardown(chosen_options_are_accepted, shut_down),
		cmocka_unit_test_teardown(page_shift_board_boots_only_with_its_page_size, shut_down),
		cmocka_unit_test_teardown(rk3399_board, shut_down),
		cmocka_unit_test_teardown(r8a7795_board, shut_down),
		cmocka_unit_test_teardown(exynos5433_board, shut_down),
		cmocka_unit_test_teardown(t8103_board, shut_down),
		cmocka_unit_test_teardown(t8103_pci_devices_behind_the_root_port, shut_down),
		cmocka_unit_test_teardown(boards_boot_one_after_another, shut_down),
	};

	/*
	 * This suite checks boards and of_dma_configure on a kernel without IOMMU drivers: the masters of
	 * an IOMMU nobody drives defer, then carry on without it. test_iommu_models covers the built-in drivers.
	 */
	swiommu_iommu_use_builtin_models(false);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
