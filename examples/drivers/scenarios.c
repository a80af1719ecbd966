// SPDX-License-Identifier: MIT
/*
 * The five driver prototypes' scenarios, as `swiommu demo` runs them on the booted default board: each
 * plays the hardware (swiommu_dma_read/write) and the driver's user, checks every result as a test
 * would, undoes what it did, and fills a struct swiommu_example_report.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <swiommu/swiommu.h>
#include "swiommu_examples.h"
#include "drm.h"
#include "ipmmu.h"
#include "isp.h"
#include "mfc.h"
#include "sdma.h"
#include "uio.h"

#define ISP	"/soc/isp@fe0a0000"
#define UIO	"/soc/uio@fe500000"
#define CLIENT	"/soc/dma-client@fe510000"
#define DISPLAY	"/soc/display@fe200000"
#define GPU	"/soc/gpu@fe300000"
#define DMAC	"/soc/dma-controller@fe100000"
#define CODEC	"/soc/codec-bus/codec@fe400000"
#define IPMMU_ROOT	"/soc/iommu@fe900000"

/* A failed check: the scenario stops there (after its cleanup) and says which check it was. */
#define CHECK(r, cond)							\
	do {								\
		if (!(cond)) {						\
			scenario_failed((r), __LINE__, #cond);		\
			goto out;					\
		}							\
	} while (0)

__attribute__((format(printf, 2, 3)))
static void note(struct swiommu_example_report *r, const char *fmt, ...)
{
	unsigned int i = r->num_notes < SWIOMMU_EXAMPLE_MAX_NOTES ? r->num_notes++ : SWIOMMU_EXAMPLE_MAX_NOTES - 1;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->notes[i], SWIOMMU_EXAMPLE_NOTE_LEN, fmt, ap);
	va_end(ap);
}

static void scenario_failed(struct swiommu_example_report *r, int line, const char *what)
{
	if (!r->error)
		r->error = -EIO;
	note(r, "FAILED: %s (scenarios.c:%d)", what, line);
}

static void begin(struct swiommu_example_report *r, const char *title)
{
	memset(r, 0, sizeof(*r));
	r->title = title;
	r->iotlb_model = 1;
}

/* The IOTLB counters of the instances a scenario uses, before and after. */
struct iotlb_watch {
	const char *dev;
	unsigned int channel;
	struct swiommu_iotlb_stats before;
};

static void watch_start(struct iotlb_watch *w, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		swiommu_iommu_iotlb_stats(swiommu_find_device(w[i].dev), w[i].channel, &w[i].before);
}

static void watch_finish(struct swiommu_example_report *r, struct iotlb_watch *w, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		struct swiommu_iotlb_stats s;

		if (swiommu_iommu_iotlb_stats(swiommu_find_device(w[i].dev), w[i].channel, &s))
			continue;
		r->iotlb_lookups += s.lookups - w[i].before.lookups;
		r->iotlb_hits += s.hits - w[i].before.hits;
		r->iotlb_misses += s.misses - w[i].before.misses;
		r->iotlb_invalidations += (s.invalidate_all + s.invalidate_context + s.invalidate_range) -
					  (w[i].before.invalidate_all + w[i].before.invalidate_context +
					   w[i].before.invalidate_range);
	}
}

/**
 * swiommu_example_fill() - fill a buffer with @seed's pattern: a different byte at every offset.
 * @buf: the buffer.
 * @len: its bytes.
 * @seed: which pattern.
 */
void swiommu_example_fill(void *buf, size_t len, unsigned int seed)
{
	u8 *p = buf;

	for (size_t i = 0; i < len; i++)
		p[i] = (u8)(i * 31 + seed * 17 + (i >> 8));
}

/**
 * swiommu_example_check() - whether a buffer holds @seed's pattern.
 * @buf: the buffer.
 * @len: its bytes.
 * @seed: which pattern.
 *
 * Return: true when every byte matches.
 */
bool swiommu_example_check(const void *buf, size_t len, unsigned int seed)
{
	const u8 *p = buf;

	for (size_t i = 0; i < len; i++)
		if (p[i] != (u8)(i * 31 + seed * 17 + (i >> 8)))
			return false;
	return true;
}

/*
 * What the DMA-debug checks found (<swiommu/dma_debug.h>), read before and after each scenario: the drivers
 * are written to give none, and a scenario that commits a mistake on purpose checks for its finding and
 * starts counting again after it.
 */
static unsigned long dma_debug_findings(void)
{
	return swiommu_dma_debug_errors();
}

/* ------------------------------------------------------------------------------------------------ */

#define ISP_FRAMES	4
#define ISP_FRAME_SIZE	(64 * SZ_1K)

/* The ISP's own domain and the uio device's ownership of its group. */
static void uio_scenario(struct swiommu_example_report *r);

/**
 * swiommu_example_isp_run() - the camera ISP with its own domain, then the uio device's group ownership.
 * @r: the report to fill.
 *
 * Return: 0, or the report's error.
 */
int swiommu_example_isp_run(struct swiommu_example_report *r)
{
	struct iotlb_watch watch[] = { { .dev = ISP }, { .dev = UIO } };
	struct isp_buffer *bufs[ISP_FRAMES] = { NULL };
	unsigned long debug = dma_debug_findings();
	struct device *dev = swiommu_find_device(ISP);
	static u8 frame[ISP_FRAME_SIZE];
	struct isp_device *isp;
	unsigned long faults;
	dma_addr_t iova_top;
	struct isp_stats st;
	unsigned int n;

	begin(r, "Camera ISP with its own IOMMU domain (rockchip-drm / tegra style) + uio ownership");
	watch_start(watch, ARRAY_SIZE(watch));
	isp = isp_from_device(dev);
	CHECK(r, isp);
	CHECK(r, iommu_get_domain_for_dev(dev) == isp_domain(isp));
	CHECK(r, iommu_get_dma_domain(dev) != isp_domain(isp));
	note(r, "probe: UNMANAGED domain attached with iommu_attach_device(); the DMA API keeps the default one");

	for (n = 0; n < ISP_FRAMES; n++) {
		bufs[n] = isp_buffer_alloc(isp, ISP_FRAME_SIZE);
		CHECK(r, !IS_ERR(bufs[n]));
		r->mappings += 2;	/* iommu_map_sgtable() into its domain, dma_map_sgtable() for the caches */
		r->iova_ranges++;
		r->iova_bytes += ISP_FRAME_SIZE;
	}
	iova_top = bufs[0]->iova + ISP_FRAME_SIZE;
	note(r, "%u buffers of %u KiB mapped with iommu_map_sgtable() at IOVA %#llx..%#llx of its own space",
	     ISP_FRAMES, ISP_FRAME_SIZE / SZ_1K, (unsigned long long)bufs[ISP_FRAMES - 1]->iova,
	     (unsigned long long)iova_top - 1);

	for (n = 0; n < ISP_FRAMES; n++) {
		isp_buffer_queue(isp, bufs[n]);
		swiommu_example_fill(frame, sizeof(frame), n);
		CHECK(r, swiommu_dma_write(dev, 0, bufs[n]->iova, frame, sizeof(frame)) == 0);
		isp_frame_done(isp, bufs[n]);
		CHECK(r, swiommu_example_check(bufs[n]->vaddr, ISP_FRAME_SIZE, n));
		r->transfers++;
	}
	note(r, "%u frames captured by the ISP's DMA landed byte for byte in the CPU's view", ISP_FRAMES);

	/* The hardware overruns a buffer by one line: the guard granule after it is not mapped. */
	isp_get_stats(isp, &st);
	faults = st.faults;
	isp_buffer_queue(isp, bufs[1]);
	CHECK(r, swiommu_dma_write(dev, 0, bufs[1]->iova + ISP_FRAME_SIZE - 128, frame, 256) == -EFAULT);
	isp_get_stats(isp, &st);
	CHECK(r, st.faults == faults + 1 && st.last_fault_iova == bufs[1]->iova + ISP_FRAME_SIZE);
	CHECK(r, st.last_fault_flags == IOMMU_FAULT_WRITE);
	CHECK(r, !memcmp((u8 *)bufs[1]->vaddr + ISP_FRAME_SIZE - 128, frame, 128));
	r->faults++;
	note(r, "a write running past a buffer faulted at its guard page %#lx, into the ISP's handler",
	     st.last_fault_iova);

	for (n = 0; n < ISP_FRAMES; n++) {
		isp_buffer_free(isp, bufs[n]);
		bufs[n] = NULL;
	}
	isp_get_stats(isp, &st);
	CHECK(r, st.buffers == 0 && st.mapped_bytes == 0);
	CHECK(r, iommu_iova_to_phys(isp_domain(isp), iova_top - 1) == 0);
	note(r, "buffers freed: unmapped from its domain, IOVAs and pages returned");

	uio_scenario(r);
out:
	for (n = 0; n < ISP_FRAMES; n++)
		if (!IS_ERR_OR_NULL(bufs[n]))
			isp_buffer_free(isp, bufs[n]);
	watch_finish(r, watch, ARRAY_SIZE(watch));
	r->dma_debug = dma_debug_findings() - debug;
	return r->error;
}

static void uio_scenario(struct swiommu_example_report *r)
{
	struct device *udev = swiommu_find_device(UIO), *client = swiommu_find_device(CLIENT);
	struct uio_device *uio = uio_from_device(udev);
	struct page *pages[2] = { NULL, NULL };
	bool client_unbound = false, opened = false;
	char buf[32] = { 0 };

	CHECK(r, uio && device_is_bound(client));
	CHECK(r, udev->iommu_group == client->iommu_group);
	CHECK(r, uio_open(uio) == -EPERM);
	r->errors++;
	note(r, "uio: claiming DMA ownership of group %d refused (-EPERM) while a DMA-API driver is bound",
	     iommu_group_id(udev->iommu_group));

	platform_driver_unregister(&dma_client_driver);
	client_unbound = true;
	CHECK(r, uio_open(uio) == 0);
	opened = true;
	for (int i = 0; i < 2; i++) {
		pages[i] = alloc_page(GFP_KERNEL | GFP_DMA32 | __GFP_ZERO);
		CHECK(r, pages[i]);
	}
	CHECK(r, uio_dma_map(uio, 0x100000, pages, 2, IOMMU_READ | IOMMU_WRITE) == 0);
	r->mappings++;
	r->iova_ranges++;
	r->iova_bytes += 2 * PAGE_SIZE;
	CHECK(r, swiommu_dma_write(udev, 0, 0x100ff0, "userspace DMA", 14) == 0);
	CHECK(r, memcmp((char *)page_address(pages[0]) + 0xff0, "userspace DMA", 14) == 0);
	r->transfers++;

	/* A DMA-API driver cannot bind into an owned group: the bus refuses it before its probe runs. */
	platform_driver_register(&dma_client_driver);
	CHECK(r, !device_is_bound(client));
	CHECK(r, swiommu_log_contains("probe with driver swiommu-dma-client failed with error -16"));
	r->errors++;
	/* The group is one isolation unit: the other device reaches userspace's mapping too. */
	CHECK(r, swiommu_dma_read(client, 0, 0x100ff0, buf, 14) == 0 && !strcmp(buf, "userspace DMA"));
	r->transfers++;
	note(r, "uio: group owned, container domain attached; user pages at IOVA 0x100000 reached by DMA");
	note(r, "uio: the DMA-API driver's probe in the owned group was refused (-EBUSY)");
out:
	if (opened) {
		uio_dma_unmap(uio, 0x100000, 2 * PAGE_SIZE);
		uio_release(uio);
	}
	for (int i = 0; i < 2; i++)
		if (pages[i])
			__free_page(pages[i]);
	if (client_unbound) {
		platform_driver_unregister(&dma_client_driver);
		platform_driver_register(&dma_client_driver);
	}
}

/* ------------------------------------------------------------------------------------------------ */

#define DRM_BO_SIZE	(256 * SZ_1K)

/* Render on the GPU, scan out on the display: one DMA address, two DARTs. */
static bool gpu_renders_display_scans_out(struct swiommu_example_report *r, struct sdrm_gem_object *obj,
					  unsigned int seed)
{
	struct device *gpu = swiommu_find_device(GPU), *display = swiommu_find_device(DISPLAY);
	static u8 image[DRM_BO_SIZE], scanout[DRM_BO_SIZE];

	swiommu_example_fill(image, sizeof(image), seed);
	memset(scanout, 0, sizeof(scanout));
	if (swiommu_dma_write(gpu, 0, obj->dma_addr, image, sizeof(image)) ||
	    swiommu_dma_read(display, 0, obj->dma_addr, scanout, sizeof(scanout)))
		return false;
	sdrm_gem_begin_cpu_access(obj);
	r->transfers += 2;
	return !memcmp(image, scanout, sizeof(image)) && swiommu_example_check(obj->vaddr, obj->size, seed);
}

/**
 * swiommu_example_drm_run() - display + GPU in one domain across two DARTs, a buffer shared with the
 * codec.
 * @r: the report to fill.
 *
 * Return: 0, or the report's error.
 */
int swiommu_example_drm_run(struct swiommu_example_report *r)
{
	struct iotlb_watch watch[] = { { .dev = DISPLAY }, { .dev = GPU }, { .dev = CODEC },
				       { .dev = CODEC, .channel = MFC_PORT_R } };
	struct device *gpu = swiommu_find_device(GPU), *display = swiommu_find_device(DISPLAY);
	struct sdrm_gem_object *contig = NULL, *noncontig = NULL;
	unsigned long debug = dma_debug_findings();
	unsigned long gpu_inv, disp_inv;
	struct mfc_ctx *ctx = NULL;
	struct mfc_buf *stream = NULL;
	struct sg_table *sgt = NULL;
	bool imported = false;
	dma_addr_t frame_dma = 0, freed;
	u8 byte = 0;

	begin(r, "Display + GPU sharing one domain over two 16 KiB DARTs (exynos-drm / Apple DART style)");
	watch_start(watch, ARRAY_SIZE(watch));
	CHECK(r, sdrm_dma_device() == display);
	CHECK(r, iommu_get_domain_for_dev(gpu) == sdrm_mapping());
	CHECK(r, iommu_iova_to_phys(sdrm_mapping(), 0x9e000000) == 0x9e000000);
	note(r, "the display is the DMA device; the GPU joined its domain (the locked DART's firmware table)");
	note(r, "the firmware framebuffer at 0x9e000000 stays mapped 1:1 through the handover");

	contig = sdrm_gem_create(DRM_BO_SIZE, SDRM_BO_CONTIG);
	CHECK(r, !IS_ERR(contig));
	noncontig = sdrm_gem_create(DRM_BO_SIZE, SDRM_BO_NONCONTIG);
	CHECK(r, !IS_ERR(noncontig));
	r->mappings += 2;
	r->iova_ranges += 2;
	r->iova_bytes += 2 * DRM_BO_SIZE;
	CHECK(r, gpu_renders_display_scans_out(r, contig, 1));
	CHECK(r, gpu_renders_display_scans_out(r, noncontig, 2));
	note(r, "dma_alloc_coherent() BO at %#llx, dma_alloc_noncontiguous() BO at %#llx (%u KiB each)",
	     (unsigned long long)contig->dma_addr, (unsigned long long)noncontig->dma_addr, DRM_BO_SIZE / SZ_1K);
	note(r, "the GPU rendered, the display scanned out the same DMA addresses: every byte matched");

	/* dma-buf export to the codec: dma_get_sgtable() here, dma_map_sgtable() there. */
	sgt = sdrm_gem_get_sg_table(noncontig);
	CHECK(r, !IS_ERR(sgt));
	ctx = mfc_open(mfc_from_device(swiommu_find_device(CODEC)));
	CHECK(r, !IS_ERR(ctx));
	CHECK(r, mfc_import_frame(ctx, sgt, DRM_BO_SIZE, &frame_dma) == 0);
	imported = true;
	r->mappings++;
	stream = mfc_buf_alloc(ctx, DRM_BO_SIZE + SZ_4K, DMA_FROM_DEVICE);
	CHECK(r, !IS_ERR(stream));
	r->mappings++;
	CHECK(r, mfc_encode(ctx, frame_dma, DRM_BO_SIZE, 7, stream) == 0);
	CHECK(r, swiommu_example_check((u8 *)stream->virt + sizeof(struct mfc_stream_header), DRM_BO_SIZE, 2));
	r->transfers += 2;
	note(r, "shared with the codec (dma_get_sgtable + dma_map_sgtable at %#llx): it encoded the same bytes",
	     (unsigned long long)frame_dma);

	/* Freeing a BO unmaps it from the shared domain: both DARTs invalidate, both devices fault. */
	gpu_inv = swiommu_iotlb_invalidations(gpu);
	disp_inv = swiommu_iotlb_invalidations(display);
	freed = contig->dma_addr;
	sdrm_gem_free(contig);
	contig = NULL;
	CHECK(r, swiommu_iotlb_invalidations(gpu) > gpu_inv && swiommu_iotlb_invalidations(display) > disp_inv);
	CHECK(r, swiommu_dma_write(gpu, 0, freed, &byte, 1) == -EFAULT);
	CHECK(r, swiommu_dma_read(display, 0, freed, &byte, 1) == -EFAULT);
	r->faults += 2;
	note(r, "freeing a BO invalidated both DARTs' IOTLBs; GPU and display DMA there both fault");
out:
	if (stream && !IS_ERR(stream))
		mfc_buf_free(ctx, stream);
	if (imported)
		mfc_release_frame(ctx, sgt);
	if (ctx && !IS_ERR(ctx))
		mfc_release(ctx);
	if (sgt && !IS_ERR(sgt))
		sdrm_gem_put_sg_table(sgt);
	if (contig && !IS_ERR(contig))
		sdrm_gem_free(contig);
	if (noncontig && !IS_ERR(noncontig))
		sdrm_gem_free(noncontig);
	watch_finish(r, watch, ARRAY_SIZE(watch));
	r->dma_debug = dma_debug_findings() - debug;
	return r->error;
}

/* ------------------------------------------------------------------------------------------------ */

#define SDMA_COPY	SZ_4K

static bool sdma_copy_checked(struct sdma_chan *chan, dma_addr_t dst, dma_addr_t src)
{
	int cookie = sdma_prep_memcpy(chan, dst, src, SDMA_COPY);

	if (cookie < 0)
		return false;
	sdma_issue_pending(chan);
	return sdma_tx_status(chan, cookie) == 0;
}

/**
 * swiommu_example_dmaengine_run() - 8 channels over two SMMUs and a bypass: memcpy and scatter-gather by
 * device DMA, channel-aware mappings, ports powering down, then channels as devices of their own.
 * @r: the report to fill.
 *
 * Return: 0, or the report's error.
 */
int swiommu_example_dmaengine_run(struct swiommu_example_report *r)
{
	struct iotlb_watch watch[] = { { .dev = DMAC, .channel = 0 }, { .dev = DMAC, .channel = 4 } };
	struct device *dev = swiommu_find_device(DMAC);
	struct sdma_device *sdma = sdma_from_device(dev);
	unsigned long debug = dma_debug_findings();
	dma_addr_t src_addrs[SDMA_MAX_CHANNELS], dst[SDMA_MAX_CHANNELS] = { 0 };
	void *dst_buf[SDMA_MAX_CHANNELS] = { NULL };
	struct page *src = NULL;
	bool src_mapped = false;
	unsigned int ch, n = 0;

	begin(r, "DMA engine: 8 channels, two SMMUv3s and a bypass (dmaengine + HIDMA style)");
	watch_start(watch, ARRAY_SIZE(watch));
	CHECK(r, sdma && sdma_num_channels(sdma) == SDMA_MAX_CHANNELS);
	n = sdma_num_channels(sdma);

	src = alloc_page(GFP_KERNEL);
	CHECK(r, src);
	swiommu_example_fill(page_address(src), PAGE_SIZE, 9);
	/* One source for every channel at once: one mapping per route. */
	CHECK(r, !dma_mapping_error(dev, dma_map_page_attrs_multi(dev, src, 0, PAGE_SIZE, DMA_TO_DEVICE, 0,
								  GENMASK(n - 1, 0), src_addrs)));
	src_mapped = true;
	r->mappings += 3;
	/* Channels 0-3 share the first SMMU's domain, 4-5 the second's; 6-7 put bus addresses out. */
	CHECK(r, src_addrs[0] == src_addrs[3] && src_addrs[4] == src_addrs[5]);
	CHECK(r, swiommu_iommu_channel_domain(dev, 0) != swiommu_iommu_channel_domain(dev, 4));
	CHECK(r, iommu_iova_to_phys(swiommu_iommu_channel_domain(dev, 0), src_addrs[0]) == page_to_phys(src));
	CHECK(r, iommu_iova_to_phys(swiommu_iommu_channel_domain(dev, 4), src_addrs[4]) == page_to_phys(src));
	CHECK(r, src_addrs[6] == page_to_phys(src) && src_addrs[7] == page_to_phys(src));
	note(r, "dma_map_page_attrs_multi(0xff): IOVA %#llx in each SMMU's domain (ch0-3, ch4-5), bus %#llx on ch6-7",
	     (unsigned long long)src_addrs[0], (unsigned long long)src_addrs[6]);

	for (ch = 0; ch < n; ch++) {
		struct sdma_chan *chan = sdma_request_chan(sdma, ch);

		dst_buf[ch] = kzalloc(SDMA_COPY, GFP_KERNEL);
		CHECK(r, dst_buf[ch]);
		dst[ch] = sdma_map_single(chan, dst_buf[ch], SDMA_COPY, DMA_FROM_DEVICE);
		CHECK(r, !dma_mapping_error(dev, dst[ch]));
		r->mappings++;
		r->iova_ranges += ch < 6;
		r->iova_bytes += ch < 6 ? SDMA_COPY : 0;
		CHECK(r, sdma_copy_checked(chan, dst[ch], src_addrs[ch]));
	}
	for (ch = 0; ch < 6; ch++)
		CHECK(r, swiommu_iommu_port_powered(dev, ch) == 1);
	for (ch = 0; ch < n; ch++) {
		sdma_unmap_single(sdma_request_chan(sdma, ch), dst[ch], SDMA_COPY, DMA_FROM_DEVICE);
		dst[ch] = 0;
		CHECK(r, swiommu_example_check(dst_buf[ch], SDMA_COPY, 9));
		r->transfers++;
	}
	note(r, "memcpy on each of the 8 channels by the engine's own DMA: every destination byte checked");
	dma_unmap_page_attrs_multi(dev, src_addrs, PAGE_SIZE, DMA_TO_DEVICE, 0, GENMASK(n - 1, 0));
	src_mapped = false;
	for (ch = 0; ch < 6; ch++)
		CHECK(r, swiommu_iommu_port_powered(dev, ch) == 0);
	note(r, "with nothing mapped, the SMMU ports of ch0-5 powered down (ch6-7 have none)");

	/* Scatter-gather on channel 5 (second SMMU), channels as devices of their own. */
	{
		struct sdma_chan *chan = sdma_request_chan(sdma, 5);
		struct scatterlist ssg[3], dsg[2];
		int cookie;

		sg_init_table(ssg, 3);
		sg_init_table(dsg, 2);
		for (int i = 0; i < 3; i++)
			sg_set_buf(&ssg[i], (u8 *)page_address(src) + i * 1024, 1024);
		sg_set_buf(&dsg[0], dst_buf[0], 2048);
		sg_set_buf(&dsg[1], dst_buf[1], 1024);
		memset(dst_buf[0], 0, SDMA_COPY);
		memset(dst_buf[1], 0, SDMA_COPY);
		CHECK(r, sdma_map_sg(chan, ssg, 3, DMA_TO_DEVICE) == 3);
		CHECK(r, sdma_map_sg(chan, dsg, 2, DMA_FROM_DEVICE) == 2);
		r->mappings += 5;
		cookie = sdma_prep_sg(chan, dsg, 2, ssg, 3);
		CHECK(r, cookie >= 0);
		sdma_issue_pending(chan);
		CHECK(r, sdma_tx_status(chan, cookie) == 0);
		sdma_unmap_sg(chan, dsg, 2, DMA_FROM_DEVICE);
		sdma_unmap_sg(chan, ssg, 3, DMA_TO_DEVICE);
		CHECK(r, swiommu_example_check(dst_buf[0], 2048, 9));
		CHECK(r, !memcmp(dst_buf[1], (u8 *)page_address(src) + 2048, 1024));
		r->transfers++;
		note(r, "scatter-gather on ch5: 3 source entries into 2 destination entries, 3 KiB checked");
	}

	CHECK(r, sdma_populate_channel_devices(sdma) == 0);
	{
		struct sdma_chan *c2 = sdma_request_chan(sdma, 2), *c3 = sdma_request_chan(sdma, 3);
		struct device *d2 = sdma_chan_dma_device(c2), *d3 = sdma_chan_dma_device(c3);
		dma_addr_t s2, d2dst;

		CHECK(r, d2 != dev && d2->iommu_group != d3->iommu_group && d2->iommu_group != dev->iommu_group);
		s2 = sdma_map_single(c2, page_address(src), SDMA_COPY, DMA_TO_DEVICE);
		CHECK(r, !dma_mapping_error(d2, s2));
		d2dst = sdma_map_single(c2, dst_buf[2], SDMA_COPY, DMA_FROM_DEVICE);
		CHECK(r, !dma_mapping_error(d2, d2dst));
		r->mappings += 2;
		memset(dst_buf[2], 0, SDMA_COPY);
		CHECK(r, sdma_copy_checked(c2, d2dst, s2));
		/* Channel 3's device has its own domain: channel 2's IOVA means nothing there. */
		CHECK(r, !sdma_copy_checked(c3, d2dst, s2));
		r->faults++;
		sdma_unmap_single(c2, d2dst, SDMA_COPY, DMA_FROM_DEVICE);
		sdma_unmap_single(c2, s2, SDMA_COPY, DMA_TO_DEVICE);
		CHECK(r, swiommu_example_check(dst_buf[2], SDMA_COPY, 9));
		r->transfers++;
		note(r, "HIDMA way: %s etc., one device per channel, each in IOMMU group(s) of its own", dev_name(d2));
		note(r, "ch2's copy through its own device worked; ch3 using ch2's IOVA faulted (isolated)");
	}
out:
	if (src_mapped)
		dma_unmap_page_attrs_multi(dev, src_addrs, PAGE_SIZE, DMA_TO_DEVICE, 0, GENMASK(n - 1, 0));
	for (ch = 0; ch < SDMA_MAX_CHANNELS; ch++) {
		if (dst[ch])
			sdma_unmap_single(sdma_request_chan(sdma, ch), dst[ch], SDMA_COPY, DMA_FROM_DEVICE);
		kfree(dst_buf[ch]);
	}
	if (src)
		__free_page(src);
	watch_finish(r, watch, ARRAY_SIZE(watch));
	r->dma_debug = dma_debug_findings() - debug;
	return r->error;
}

/* ------------------------------------------------------------------------------------------------ */

#define MFC_PAYLOAD	(48 * SZ_1K)
#define MFC_DPB_SIZE	SZ_4M
#define MFC_DPB_COUNT	64	/* 256 MiB: more than the window holds */

/**
 * swiommu_example_codec_run() - the two-port codec in its 256 MiB window: firmware, decode through both
 * SysMMUs, a missing sync caught, a DPB that does not fit.
 * @r: the report to fill.
 *
 * Return: 0, or the report's error.
 */
int swiommu_example_codec_run(struct swiommu_example_report *r)
{
	struct iotlb_watch watch[] = { { .dev = CODEC, .channel = MFC_PORT_L }, { .dev = CODEC, .channel = MFC_PORT_R } };
	struct device *dev = swiommu_find_device(CODEC);
	struct mfc_dev *mfc = mfc_from_device(dev);
	struct mfc_buf *stream = NULL, *stale = NULL, *frame = NULL;
	unsigned long debug = dma_debug_findings();
	unsigned long warns = swiommu_warn_count();
	static u8 payload[MFC_PAYLOAD];
	struct mfc_ctx *ctx = NULL;
	struct mfc_stats st;
	u32 seq = 0;

	begin(r, "Video codec: two memory ports behind two SysMMUs, a 256 MiB DMA window (s5p-mfc style)");
	watch_start(watch, ARRAY_SIZE(watch));
	CHECK(r, mfc);
	mfc_get_stats(mfc, &st);
	CHECK(r, st.fw_dma >= SZ_1M && st.fw_dma + st.fw_size <= SZ_256M);
	note(r, "firmware (%zu KiB) at %#llx in the %zu MiB common memory, inside the window, above its reserved MiB",
	     st.fw_size / SZ_1K, (unsigned long long)st.fw_dma, st.mem_size / SZ_1M);
	note(r, "at boot the firmware was fetched through both ports: one attach programmed both SysMMUs");
	r->mappings++;
	r->iova_ranges++;
	r->iova_bytes += st.mem_size;

	ctx = mfc_open(mfc);
	CHECK(r, !IS_ERR(ctx));
	stream = mfc_buf_alloc(ctx, MFC_PAYLOAD + SZ_4K, DMA_TO_DEVICE);
	CHECK(r, !IS_ERR(stream));
	frame = mfc_buf_alloc(ctx, MFC_PAYLOAD, DMA_FROM_DEVICE);
	CHECK(r, !IS_ERR(frame));
	r->mappings += 2;
	r->iova_ranges += 2;
	r->iova_bytes += 2 * MFC_PAYLOAD + SZ_4K;
	CHECK(r, stream->dma < SZ_256M && frame->dma < SZ_256M);

	swiommu_example_fill(payload, sizeof(payload), 3);
	mfc_stream_fill(stream, 1, payload, sizeof(payload));
	mfc_stream_prepare(ctx, stream);
	CHECK(r, mfc_decode(ctx, stream, frame, &seq) == 0 && seq == 1);
	CHECK(r, swiommu_example_check(frame->virt, MFC_PAYLOAD, 3));
	r->transfers += 2;
	note(r, "decode: stream %#llx read by the left port, frame %#llx written by the right one, synced both ways",
	     (unsigned long long)stream->dma, (unsigned long long)frame->dma);

	/* A stream the CPU wrote into a fresh buffer and nobody synced: the codec reads memory's old bytes. */
	stale = mfc_buf_alloc(ctx, MFC_PAYLOAD + SZ_4K, DMA_TO_DEVICE);
	CHECK(r, !IS_ERR(stale));
	r->mappings++;
	mfc_stream_fill(stale, 2, payload, sizeof(payload));
	CHECK(r, mfc_decode(ctx, stale, frame, &seq) == -EIO);
	r->errors++;
	/* dma-debug saw it too: the device read memory the CPU changed after the mapping, unsynced. */
	CHECK(r, dma_debug_findings() == debug + 1 && strstr(swiommu_dma_debug_last(), "device read DMA memory the CPU changed"));
	note(r, "dma-debug caught the same mistake: \"%s\"", strstr(swiommu_dma_debug_last(), "swiommu:"));
	debug = dma_debug_findings();
	warns = swiommu_warn_count();
	mfc_stream_prepare(ctx, stale);
	CHECK(r, mfc_decode(ctx, stale, frame, &seq) == 0 && seq == 2);
	r->transfers += 2;
	note(r, "missing dma_sync_single_for_device(): the codec found no stream header (caught); synced: decoded");

	/* 64 decoded picture buffers of 4 MiB: more than the window holds. */
	CHECK(r, mfc_alloc_dpb(ctx, MFC_DPB_COUNT, MFC_DPB_SIZE) == -ENOMEM);
	CHECK(r, mfc_dpb_count(ctx) == 0 && swiommu_warn_count() == warns);
	r->errors++;
	note(r, "a DPB of %u x %u MiB does not fit the window: -ENOMEM, cleanly (no WARN, all freed)",
	     MFC_DPB_COUNT, MFC_DPB_SIZE / SZ_1M);
out:
	if (stale && !IS_ERR(stale))
		mfc_buf_free(ctx, stale);
	if (frame && !IS_ERR(frame))
		mfc_buf_free(ctx, frame);
	if (stream && !IS_ERR(stream))
		mfc_buf_free(ctx, stream);
	if (ctx && !IS_ERR(ctx))
		mfc_release(ctx);
	watch_finish(r, watch, ARRAY_SIZE(watch));
	r->dma_debug = dma_debug_findings() - debug;
	return r->error;
}

/* ------------------------------------------------------------------------------------------------ */

static const char *const vins[] = {
	"/soc/vin@fea00000", "/soc/vin@fea10000", "/soc/vin@fea20000",
	"/soc/vin@fea30000", "/soc/vin@fea40000", "/soc/vin@fea50000",
};

/**
 * swiommu_example_ipmmu_run() - the IPMMU driver written in C serving the six vin masters: 4 contexts,
 * one group per leaf, device DMA through its tables, a fault, context exhaustion.
 * @r: the report to fill.
 *
 * Return: 0, or the report's error.
 */
int swiommu_example_ipmmu_run(struct swiommu_example_report *r)
{
	struct device *root = swiommu_find_device(IPMMU_ROOT);
	struct device *leaf0 = swiommu_find_device("/soc/iommu@fe910000");
	unsigned long debug = dma_debug_findings();
	struct iommu_domain *extra = NULL;
	struct ipmmu_stats before, st;
	void *buf = NULL;
	char back[16];

	begin(r, "IOMMU driver written in C (ipmmu-vmsa style): 4 contexts shared by 6 masters");
	r->iotlb_model = 0;
	CHECK(r, ipmmu_get_stats(root, &before) == 0);
	CHECK(r, before.contexts == 4 && before.contexts_used == 4);
	CHECK(r, !strcmp(dev_driver_string(leaf0), "ipmmu-vmsa-c"));
	CHECK(r, ipmmu_utlb_context(leaf0, 0) == ipmmu_utlb_context(leaf0, 1));
	note(r, "ipmmu-vmsa-c took the root and 4 leaves before the built-in model; contexts in use: 4/4");
	note(r, "vin0 and vin1 share leaf fe910000's group, default domain and context %d",
	     ipmmu_utlb_context(leaf0, 0));

	buf = kmalloc(SZ_4K, GFP_KERNEL);
	CHECK(r, buf);
	for (unsigned int i = 0; i < ARRAY_SIZE(vins); i++) {
		struct device *vin = swiommu_find_device(vins[i]);
		dma_addr_t a = dma_map_single(vin, buf, SZ_4K, DMA_FROM_DEVICE);
		char line[16];

		CHECK(r, !dma_mapping_error(vin, a));
		r->mappings++;
		r->iova_ranges++;
		r->iova_bytes += SZ_4K;
		snprintf(line, sizeof(line), "vin%u line", i);
		CHECK(r, swiommu_dma_write(vin, 0, a + 64, line, sizeof(line)) == 0);
		dma_unmap_single(vin, a, SZ_4K, DMA_FROM_DEVICE);
		CHECK(r, !memcmp((char *)buf + 64, line, sizeof(line)));
		r->transfers++;
	}
	note(r, "each vin wrote through a dma_map_single() IOVA of its leaf's default domain (ARM_32_LPAE_S1)");

	CHECK(r, swiommu_dma_read(swiommu_find_device(vins[3]), 0, 0x1000, back, sizeof(back)) == -EFAULT);
	CHECK(r, swiommu_log_contains("Unhandled context fault: iova=0x1000, read"));
	r->faults++;
	note(r, "vin3 reading unmapped IOVA 0x1000 faulted (reported, unhandled)");

	extra = iommu_paging_domain_alloc(swiommu_find_device(vins[2]));
	CHECK(r, !IS_ERR(extra));
	CHECK(r, iommu_attach_device(extra, swiommu_find_device(vins[2])) == -EBUSY);
	CHECK(r, swiommu_log_contains("Unable to initialize IPMMU context"));
	r->errors++;
	note(r, "a fifth domain found no context: iommu_attach_device() gave -EBUSY, as ipmmu-vmsa does");
out:
	if (extra && !IS_ERR(extra))
		iommu_domain_free(extra);
	kfree(buf);
	if (ipmmu_get_stats(root, &st) == 0)
		r->iotlb_invalidations = st.tlb_flushes - before.tlb_flushes;
	r->dma_debug = dma_debug_findings() - debug;
	return r->error;
}

/**
 * swiommu_example_note() - one line of a report.
 * @r: the report.
 * @index: the line, from 0.
 *
 * Return: the text, or NULL past the last line.
 */
const char *swiommu_example_note(const struct swiommu_example_report *r, unsigned int index)
{
	return index < r->num_notes ? r->notes[index] : NULL;
}
