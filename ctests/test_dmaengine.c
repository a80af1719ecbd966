// SPDX-License-Identifier: MIT
// The DMA engine prototype (examples/drivers/sdma.c): 8 channels on the default board, 0-3 behind one
// SMMUv3, 4-5 behind a second, 6-7 bypassing translation; memcpy and scatter-gather copies done by the
// engine's own DMA; channel-aware mappings (dma_map_page_attrs_multi); ports powering down when idle;
// channels as child devices (the HIDMA way). Error paths: test_dmaengine_fail.c.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <linux/bits.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <swiommu/swiommu.h>
#include "swiommu_test.h"
#include "examples_test.h"
#include "sdma.h"

#define DMAC	"/soc/dma-controller@fe100000"
#define LEN	(3 * SZ_1K + 40)

static struct sdma_device *the_engine(void)
{
	struct sdma_device *sdma = sdma_from_device(dev_at(DMAC));

	assert_non_null(sdma);
	return sdma;
}

/* Copy @len bytes of @seed's pattern on @chan, mapping both buffers for it; checks every byte. */
static void copy_on(struct sdma_chan *chan, size_t len, unsigned int seed)
{
	u8 *src = kmalloc(len, GFP_KERNEL), *dst = kzalloc(len, GFP_KERNEL);
	struct device *dev = sdma_chan_dma_device(chan);
	struct sdma_chan_stats before, after;
	dma_addr_t s, d;
	int cookie;

	assert_non_null(src);
	assert_non_null(dst);
	fill_pattern(src, len, seed);
	s = sdma_map_single(chan, src, len, DMA_TO_DEVICE);
	d = sdma_map_single(chan, dst, len, DMA_FROM_DEVICE);
	assert_false(dma_mapping_error(dev, s));
	assert_false(dma_mapping_error(dev, d));
	sdma_chan_get_stats(chan, &before);
	cookie = sdma_prep_memcpy(chan, d, s, len);
	assert_true(cookie >= 0);
	assert_int_equal(sdma_tx_status(chan, cookie), -EINPROGRESS);
	sdma_issue_pending(chan);
	assert_int_equal(sdma_tx_status(chan, cookie), 0);
	sdma_unmap_single(chan, d, len, DMA_FROM_DEVICE);
	sdma_unmap_single(chan, s, len, DMA_TO_DEVICE);
	assert_true(has_pattern(dst, len, seed));
	sdma_chan_get_stats(chan, &after);
	assert_int_equal(after.completed, before.completed + 1);
	assert_int_equal(after.bytes, before.bytes + len);
	kfree(src);
	kfree(dst);
}

static void the_engine_has_eight_channels(void **state)
{
	(void)state;
	struct sdma_device *sdma = the_engine();
	struct device *dev = dev_at(DMAC);

	assert_int_equal(sdma_num_channels(sdma), SDMA_MAX_CHANNELS);
	assert_null(sdma_request_chan(sdma, SDMA_MAX_CHANNELS));
	for (unsigned int ch = 0; ch < SDMA_MAX_CHANNELS; ch++)
		assert_ptr_equal(sdma_chan_dma_device(sdma_request_chan(sdma, ch)), dev);
	assert_true(swiommu_log_contains("swiommu-dma fe100000.dma-controller: 8 physical channels, irq 73"));
	/* The routes the board gives the channels. */
	assert_non_null(swiommu_iommu_channel_domain(dev, 0));
	assert_ptr_equal(swiommu_iommu_channel_domain(dev, 3), swiommu_iommu_channel_domain(dev, 0));
	assert_ptr_not_equal(swiommu_iommu_channel_domain(dev, 4), swiommu_iommu_channel_domain(dev, 0));
	assert_null(swiommu_iommu_channel_domain(dev, 6));
}

static void every_channel_copies_correctly(void **state)
{
	(void)state;
	unsigned long debug = dma_debug_mark();
	struct sdma_device *sdma = the_engine();

	for (unsigned int ch = 0; ch < SDMA_MAX_CHANNELS; ch++)
		copy_on(sdma_request_chan(sdma, ch), LEN, ch);
	expect_dma_debug_clean(debug);
}

static void one_mapping_per_route_serves_every_channel(void **state)
{
	(void)state;
	struct device *dev = dev_at(DMAC);
	struct page *pg = alloc_page(GFP_KERNEL);
	dma_addr_t addrs[SDMA_MAX_CHANNELS];
	phys_addr_t pa = page_to_phys(pg);
	struct swiommu_dma_counters before, after;

	swiommu_dma_counters_enable(true);
	assert_int_equal(swiommu_dma_get_counters(dev, &before), 0);
	dma_addr_t first = dma_map_page_attrs_multi(dev, pg, 0x80, 0x100, DMA_BIDIRECTIONAL, 0, GENMASK(7, 0), addrs);

	assert_int_equal(first, addrs[0]);
	/* Channels sharing a domain share the address; each domain translates its own to the page. */
	for (unsigned int ch = 1; ch < 4; ch++)
		assert_int_equal(addrs[ch], addrs[0]);
	assert_int_equal(addrs[5], addrs[4]);
	assert_int_equal(iommu_iova_to_phys(swiommu_iommu_channel_domain(dev, 0), addrs[0]), pa + 0x80);
	assert_int_equal(iommu_iova_to_phys(swiommu_iommu_channel_domain(dev, 4), addrs[4]), pa + 0x80);
	/* Bypass channels put the bus address out: the physical address (no dma-ranges here). */
	assert_int_equal(addrs[6], pa + 0x80);
	assert_int_equal(addrs[7], pa + 0x80);
	/* The device sees the same bytes through every channel. */
	strcpy((char *)page_address(pg) + 0x80, "one buffer");
	for (unsigned int ch = 0; ch < SDMA_MAX_CHANNELS; ch++) {
		char back[16] = { 0 };

		assert_int_equal(swiommu_dma_read(dev, ch, addrs[ch], back, 11), 0);
		assert_string_equal(back, "one buffer");
	}
	/* A bypass channel's address means nothing on a translated channel. */
	char byte;

	assert_int_equal(swiommu_dma_read(dev, 0, addrs[6], &byte, 1), -EFAULT);
	dma_unmap_page_attrs_multi(dev, addrs, 0x100, DMA_BIDIRECTIONAL, 0, GENMASK(7, 0));
	/* One call counts once each way, whatever the routes it mapped on. */
	assert_int_equal(swiommu_dma_get_counters(dev, &after), 0);
	swiommu_dma_counters_enable(false);
	assert_int_equal(after.maps - before.maps, 1);
	assert_int_equal(after.unmaps - before.unmaps, 1);
	assert_int_equal(after.mapped_bytes - before.mapped_bytes, 0x100);
	assert_int_equal(after.unmapped_bytes - before.unmapped_bytes, 0x100);
	__free_page(pg);
}

static void bypass_channels_use_bus_addresses(void **state)
{
	(void)state;
	struct sdma_device *sdma = the_engine();
	struct sdma_chan *ch6 = sdma_request_chan(sdma, 6), *ch0 = sdma_request_chan(sdma, 0);
	u8 *buf = kmalloc(SZ_1K, GFP_KERNEL);
	dma_addr_t bus = sdma_map_single(ch6, buf, SZ_1K, DMA_TO_DEVICE);
	dma_addr_t iova = sdma_map_single(ch0, buf, SZ_1K, DMA_TO_DEVICE);

	assert_int_equal(bus, virt_to_phys(buf));
	assert_int_not_equal(iova, virt_to_phys(buf));
	/* No IOMMU port behind a bypass channel. */
	assert_int_equal(swiommu_iommu_port_powered(dev_at(DMAC), 6), -ENODEV);
	sdma_unmap_single(ch6, bus, SZ_1K, DMA_TO_DEVICE);
	sdma_unmap_single(ch0, iova, SZ_1K, DMA_TO_DEVICE);
	kfree(buf);
}

static void ports_power_down_when_idle(void **state)
{
	(void)state;
	struct device *dev = dev_at(DMAC);
	struct sdma_device *sdma = the_engine();
	u8 *buf = kmalloc(SZ_1K, GFP_KERNEL);
	dma_addr_t a4;

	for (unsigned int ch = 0; ch < 6; ch++)
		assert_int_equal(swiommu_iommu_port_powered(dev, ch), 0);
	/* A mapping for channel 4 powers the second SMMU's port (4 and 5 share it), not the first's. */
	a4 = sdma_map_single(sdma_request_chan(sdma, 4), buf, SZ_1K, DMA_TO_DEVICE);
	assert_int_equal(swiommu_iommu_port_powered(dev, 4), 1);
	assert_int_equal(swiommu_iommu_port_powered(dev, 5), 1);
	assert_int_equal(swiommu_iommu_port_powered(dev, 0), 0);
	copy_on(sdma_request_chan(sdma, 1), 64, 3);
	assert_int_equal(swiommu_iommu_port_powered(dev, 1), 0);
	assert_int_equal(swiommu_iommu_port_powered(dev, 4), 1);
	sdma_unmap_single(sdma_request_chan(sdma, 4), a4, SZ_1K, DMA_TO_DEVICE);
	for (unsigned int ch = 0; ch < 6; ch++)
		assert_int_equal(swiommu_iommu_port_powered(dev, ch), 0);
	/* A powered-down port has nothing to reach. */
	assert_int_equal(swiommu_dma_read(dev, 4, a4, buf, 1), -EFAULT);
	kfree(buf);
}

static void a_scatter_gather_copy(void **state)
{
	(void)state;
	unsigned long debug = dma_debug_mark();
	struct sdma_chan *chan = sdma_request_chan(the_engine(), 5);
	struct page *src_pages[3], *dst_page = alloc_pages(GFP_KERNEL | __GFP_ZERO, 1);
	struct scatterlist src[3], dst[2];
	u8 expect[3 * 1000];
	int cookie;

	sg_init_table(src, 3);
	sg_init_table(dst, 2);
	for (int i = 0; i < 3; i++) {
		src_pages[i] = alloc_page(GFP_KERNEL);
		fill_pattern(page_address(src_pages[i]), PAGE_SIZE, 10 + i);
		sg_set_page(&src[i], src_pages[i], 1000, 100 * i);
		memcpy(expect + 1000 * i, (u8 *)page_address(src_pages[i]) + 100 * i, 1000);
	}
	/* 3000 bytes into 1500 + 1500, the second piece in the next page. */
	sg_set_page(&dst[0], dst_page, 1500, 0);
	sg_set_page(&dst[1], dst_page + 1, 1500, 16);
	assert_int_equal(sdma_map_sg(chan, src, 3, DMA_TO_DEVICE), 3);
	assert_int_equal(sdma_map_sg(chan, dst, 2, DMA_FROM_DEVICE), 2);
	cookie = sdma_prep_sg(chan, dst, 2, src, 3);
	assert_true(cookie >= 0);
	sdma_issue_pending(chan);
	assert_int_equal(sdma_tx_status(chan, cookie), 0);
	sdma_unmap_sg(chan, dst, 2, DMA_FROM_DEVICE);
	sdma_unmap_sg(chan, src, 3, DMA_TO_DEVICE);
	assert_memory_equal(page_address(dst_page), expect, 1500);
	assert_memory_equal((u8 *)page_address(dst_page + 1) + 16, expect + 1500, 1500);
	/* Four pieces: 1000 | 500 + 500 | 1000. */
	struct sdma_chan_stats st;

	sdma_chan_get_stats(chan, &st);
	assert_int_equal(st.completed, 4);
	assert_int_equal(st.bytes, 3000);
	for (int i = 0; i < 3; i++)
		__free_page(src_pages[i]);
	__free_pages(dst_page, 1);
	assert_int_equal(swiommu_iommu_port_powered(dev_at(DMAC), 5), 0);
	expect_dma_debug_clean(debug);
}

static void a_copy_to_an_unmapped_address_ends_in_error(void **state)
{
	(void)state;
	struct sdma_chan *chan = sdma_request_chan(the_engine(), 2);
	u8 *buf = kmalloc(SZ_1K, GFP_KERNEL);
	dma_addr_t s = sdma_map_single(chan, buf, SZ_1K, DMA_TO_DEVICE);
	struct sdma_chan_stats st;
	int cookie;

	cookie = sdma_prep_memcpy(chan, 0x7000, s, SZ_1K);
	sdma_issue_pending(chan);
	assert_int_equal(sdma_tx_status(chan, cookie), -EIO);
	sdma_chan_get_stats(chan, &st);
	assert_int_equal(st.errors, 1);
	assert_int_equal(st.completed, 0);
	assert_true(swiommu_log_contains("swiommu-dma fe100000.dma-controller: channel 2: transfer error"));
	/* The SMMU's event names the engine, channel 2's stream ID and the address. */
	assert_true(swiommu_log_contains("arm-smmu-v3 fd000000.iommu: event: F_TRANSLATION client: fe100000.dma-controller "
					 "sid: 0x102 ssid: 0x0 iova: 0x7000"));
	assert_int_equal(sdma_tx_status(chan, 63), -EINVAL);
	sdma_unmap_single(chan, s, SZ_1K, DMA_TO_DEVICE);
	kfree(buf);
}

static void channels_as_child_devices(void **state)
{
	(void)state;
	unsigned long debug = dma_debug_mark();
	struct device *engine = dev_at(DMAC);
	struct sdma_device *sdma = the_engine();
	struct device *chdev[SDMA_MAX_CHANNELS];

	assert_int_equal(sdma_populate_channel_devices(sdma), 0);
	for (unsigned int ch = 0; ch < SDMA_MAX_CHANNELS; ch++) {
		char name[16];

		chdev[ch] = sdma_chan_dma_device(sdma_request_chan(sdma, ch));
		snprintf(name, sizeof(name), "sdma-chan.%u", ch);
		assert_string_equal(dev_name(chdev[ch]), name);
		assert_ptr_equal(chdev[ch]->parent, engine);
		assert_string_equal(dev_driver_string(chdev[ch]), "sdma-chan");
		assert_true(chdev[ch]->dma_coherent);
	}
	/* Each translated channel device has IOMMU groups and default domains of its own. */
	for (unsigned int ch = 0; ch < 6; ch++) {
		struct iommu_domain *d = swiommu_iommu_channel_domain(chdev[ch], ch);

		assert_non_null(d);
		assert_ptr_not_equal(d, swiommu_iommu_channel_domain(engine, ch));
		for (unsigned int other = 0; other < ch; other++)
			assert_ptr_not_equal(d, swiommu_iommu_channel_domain(chdev[other], other));
	}
	assert_null(swiommu_iommu_channel_domain(chdev[7], 7));
	for (unsigned int ch = 0; ch < SDMA_MAX_CHANNELS; ch++)
		copy_on(sdma_request_chan(sdma, ch), LEN, 20 + ch);
	/* Populating again reuses the devices. */
	assert_int_equal(sdma_populate_channel_devices(sdma), 0);
	assert_ptr_equal(sdma_chan_dma_device(sdma_request_chan(sdma, 0)), chdev[0]);
	expect_dma_debug_clean(debug);
	assert_exit_leaks_nothing();
}

static void channel_devices_are_isolated(void **state)
{
	(void)state;
	struct sdma_device *sdma = the_engine();
	struct sdma_chan *c0, *c1;
	u8 *buf = kzalloc(SZ_1K, GFP_KERNEL);
	dma_addr_t a0;
	int cookie;

	assert_int_equal(sdma_populate_channel_devices(sdma), 0);
	c0 = sdma_request_chan(sdma, 0);
	c1 = sdma_request_chan(sdma, 1);
	a0 = sdma_map_single(c0, buf, SZ_1K, DMA_BIDIRECTIONAL);
	/* Channel 1 cannot use channel 0's buffer: its device's domain does not map it. */
	cookie = sdma_prep_memcpy(c1, a0, a0 + 512, 256);
	sdma_issue_pending(c1);
	assert_int_equal(sdma_tx_status(c1, cookie), -EIO);
	assert_true(swiommu_log_contains("arm-smmu-v3 fd000000.iommu: event: F_TRANSLATION client: sdma-chan.1 sid: 0x101"));
	/* Channel 0 can. */
	strcpy((char *)buf + 512, "mine");
	cookie = sdma_prep_memcpy(c0, a0, a0 + 512, 5);
	sdma_issue_pending(c0);
	assert_int_equal(sdma_tx_status(c0, cookie), 0);
	sdma_unmap_single(c0, a0, SZ_1K, DMA_BIDIRECTIONAL);
	assert_string_equal((char *)buf, "mine");
	kfree(buf);
}

static void the_demo_scenario_runs_clean(void **state)
{
	(void)state;
	struct swiommu_example_report r;
	int ret = swiommu_example_dmaengine_run(&r);

	assert_scenario_clean(&r, ret);
	assert_int_equal(r.transfers, 10);
	assert_int_equal(r.faults, 1);
	assert_int_equal(r.iova_ranges, 6);
	assert_true(r.iotlb_lookups == r.iotlb_hits + r.iotlb_misses);
	assert_true(r.iotlb_invalidations > 0);
	/* It leaves the channels on their own devices: populating is for the rest of the boot, as hidma's. */
	assert_ptr_not_equal(sdma_chan_dma_device(sdma_request_chan(the_engine(), 0)), dev_at(DMAC));
	assert_exit_leaks_nothing();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(the_engine_has_eight_channels, boot, shut_down),
		cmocka_unit_test_setup_teardown(every_channel_copies_correctly, boot, shut_down),
		cmocka_unit_test_setup_teardown(one_mapping_per_route_serves_every_channel, boot, shut_down),
		cmocka_unit_test_setup_teardown(bypass_channels_use_bus_addresses, boot, shut_down),
		cmocka_unit_test_setup_teardown(ports_power_down_when_idle, boot, shut_down),
		cmocka_unit_test_setup_teardown(a_scatter_gather_copy, boot, shut_down),
		cmocka_unit_test_setup_teardown(a_copy_to_an_unmapped_address_ends_in_error, boot, shut_down),
		cmocka_unit_test_setup_teardown(channels_as_child_devices, boot, shut_down),
		cmocka_unit_test_setup_teardown(channel_devices_are_isolated, boot, shut_down),
		cmocka_unit_test_setup_teardown(the_demo_scenario_runs_clean, boot, shut_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
