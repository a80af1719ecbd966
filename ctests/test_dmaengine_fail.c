// SPDX-License-Identifier: MIT
// The error paths of the DMA engine prototype (examples/drivers/sdma.c): channel mappings that fail on
// one route, scatterlists that fail half-way, descriptors the queue refuses, channel devices that cannot
// be made or bound, and an engine probe that fails. Each comes back as an errno or DMA_MAPPING_ERROR,
// with nothing left mapped (the ports stay powered down) or allocated.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <linux/bits.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
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

static struct sdma_device *the_engine(void)
{
	struct sdma_device *sdma = sdma_from_device(dev_at(DMAC));

	assert_non_null(sdma);
	return sdma;
}

static void assert_all_ports_down(void)
{
	for (unsigned int ch = 0; ch < 6; ch++)
		assert_int_equal(swiommu_iommu_port_powered(dev_at(DMAC), ch), 0);
}

struct map_attempt {
	struct sdma_chan *chan;
	void *buf;
	dma_addr_t addr;
};

static int try_map(void *arg)
{
	struct map_attempt *m = arg;

	m->addr = sdma_map_single(m->chan, m->buf, SZ_1K, DMA_TO_DEVICE);
	return dma_mapping_error(sdma_chan_dma_device(m->chan), m->addr);
}

static void undo_map(void *arg)
{
	struct map_attempt *m = arg;

	sdma_unmap_single(m->chan, m->addr, SZ_1K, DMA_TO_DEVICE);
}

static void channel_mappings_fail_cleanly(void **state)
{
	(void)state;
	unsigned long debug = dma_debug_mark();
	struct map_attempt m = { .buf = kmalloc(SZ_1K, GFP_KERNEL) };

	for (unsigned int ch = 0; ch < 6; ch += 4) {
		m.chan = sdma_request_chan(the_engine(), ch);
		assert_int_equal(try_map(&m), 0);
		undo_map(&m);
		assert_true(sweep_fault_point("iova", try_map, undo_map, &m) >= 1);
		assert_true(sweep_fault_point("iommu_map", try_map, undo_map, &m) >= 1);
		assert_all_ports_down();
	}
	kfree(m.buf);
	expect_dma_debug_clean(debug);
}

static void a_multi_mapping_failing_on_one_route_maps_nothing(void **state)
{
	(void)state;
	struct device *dev = dev_at(DMAC);
	struct page *pg = alloc_page(GFP_KERNEL);
	dma_addr_t addrs[SDMA_MAX_CHANNELS];

	/* The first route (ch0-3) maps, the second (ch4-5) does not get an IOVA: the first is undone. */
	swiommu_fail_nth("iova", 2);
	assert_true(dma_mapping_error(dev, dma_map_page_attrs_multi(dev, pg, 0, PAGE_SIZE, DMA_TO_DEVICE, 0,
								    GENMASK(7, 0), addrs)));
	for (unsigned int ch = 0; ch < SDMA_MAX_CHANNELS; ch++)
		assert_int_equal(addrs[ch], DMA_MAPPING_ERROR);
	assert_all_ports_down();
	/* A channel the engine does not have. */
	assert_true(dma_mapping_error(dev, dma_map_page_attrs_multi(dev, pg, 0, PAGE_SIZE, DMA_TO_DEVICE, 0,
								    BIT(9), addrs)));
	__free_page(pg);
}

static void a_scatterlist_failing_half_way_is_unmapped(void **state)
{
	(void)state;
	struct sdma_chan *chan = sdma_request_chan(the_engine(), 1);
	struct page *pages[3];
	struct scatterlist sg[3];

	sg_init_table(sg, 3);
	for (int i = 0; i < 3; i++) {
		pages[i] = alloc_page(GFP_KERNEL);
		sg_set_page(&sg[i], pages[i], 512, 0);
	}
	/* The third entry gets no IOVA: the first two go again. */
	swiommu_fail_nth("iova", 3);
	assert_int_equal(sdma_map_sg(chan, sg, 3, DMA_TO_DEVICE), 0);
	assert_all_ports_down();
	assert_int_equal(sdma_map_sg(chan, sg, 3, DMA_TO_DEVICE), 3);
	assert_int_equal(swiommu_iommu_port_powered(dev_at(DMAC), 1), 1);
	sdma_unmap_sg(chan, sg, 3, DMA_TO_DEVICE);
	assert_all_ports_down();
	for (int i = 0; i < 3; i++)
		__free_page(pages[i]);
}

static void the_queue_refuses_bad_descriptors(void **state)
{
	(void)state;
	struct sdma_chan *chan = sdma_request_chan(the_engine(), 6);
	struct scatterlist a[1], b[2];
	struct sdma_chan_stats st;
	int cookie;

	assert_int_equal(sdma_prep_memcpy(chan, 0x1000, 0x2000, 0), -EINVAL);
	/* Source and destination lists of different lengths. */
	sg_init_table(a, 1);
	sg_init_table(b, 2);
	sg_dma_address(&a[0]) = 0x1000;
	sg_dma_len(&a[0]) = 100;
	sg_dma_address(&b[0]) = 0x2000;
	sg_dma_len(&b[0]) = 60;
	sg_dma_address(&b[1]) = 0x3000;
	sg_dma_len(&b[1]) = 60;
	assert_int_equal(sdma_prep_sg(chan, b, 2, a, 1), -EINVAL);
	/* The queue holds 64 descriptors until they are issued. */
	for (int i = 0; i < 63; i++)
		assert_true(sdma_prep_memcpy(chan, 0x1000, 0x2000, 8) >= 0);
	/* A two-piece transaction does not fit in the one slot left: nothing of it stays queued. */
	sg_dma_len(&a[0]) = 120;
	assert_int_equal(sdma_prep_sg(chan, b, 2, a, 1), -ENOSPC);
	sdma_chan_get_stats(chan, &st);
	assert_int_equal(st.submitted, 63);
	cookie = sdma_prep_memcpy(chan, 0x1000, 0x2000, 8);
	assert_true(cookie >= 0);
	assert_int_equal(sdma_prep_memcpy(chan, 0x1000, 0x2000, 8), -ENOSPC);
	assert_int_equal(sdma_tx_status(chan, cookie), -EINPROGRESS);
	assert_int_equal(sdma_tx_status(chan, -1), -EINVAL);
}

static void channel_devices_that_cannot_be_made(void **state)
{
	(void)state;
	struct sdma_device *sdma = the_engine();
	struct device *engine = dev_at(DMAC);

	/* The third channel device's probe is deferred: channels 0-1 have their devices, the others keep the
	 * engine until it binds. */
	swiommu_fail_nth("probe", 3);
	assert_int_equal(sdma_populate_channel_devices(sdma), -EPROBE_DEFER);
	assert_true(swiommu_log_contains("swiommu-dma fe100000.dma-controller: channel 2: its device is not bound yet"));
	assert_ptr_not_equal(sdma_chan_dma_device(sdma_request_chan(sdma, 1)), engine);
	assert_ptr_equal(sdma_chan_dma_device(sdma_request_chan(sdma, 2)), engine);
	assert_ptr_equal(sdma_chan_dma_device(sdma_request_chan(sdma, 7)), engine);
	assert_int_equal(sdma_populate_channel_devices(sdma), -EPROBE_DEFER);
	/* Another driver binding retries it; then every channel has its device. */
	platform_driver_unregister(&sdma_driver);
	assert_int_equal(platform_driver_register(&sdma_driver), 0);
	sdma = the_engine();
	assert_int_equal(sdma_populate_channel_devices(sdma), 0);
	for (unsigned int ch = 0; ch < SDMA_MAX_CHANNELS; ch++)
		assert_ptr_not_equal(sdma_chan_dma_device(sdma_request_chan(sdma, ch)), engine);
	assert_exit_leaks_nothing();
}

static void the_engine_probe_fails_cleanly(void **state)
{
	(void)state;
	struct bind_attempt b = { .driver = &sdma_driver, .dev = dev_at(DMAC) };

	platform_driver_unregister(&sdma_driver);
	assert_int_equal(try_bind(&b), 0);
	undo_bind(&b);
	assert_true(sweep_fault_point("kmalloc", try_bind, undo_bind, &b) >= 1);
	assert_true(swiommu_log_contains("probe with driver swiommu-dma failed with error -12"));
	assert_int_equal(platform_driver_register(&sdma_driver), 0);
	assert_non_null(sdma_from_device(dev_at(DMAC)));
	assert_exit_leaks_nothing();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(channel_mappings_fail_cleanly, boot, shut_down),
		cmocka_unit_test_setup_teardown(a_multi_mapping_failing_on_one_route_maps_nothing, boot, shut_down),
		cmocka_unit_test_setup_teardown(a_scatterlist_failing_half_way_is_unmapped, boot, shut_down),
		cmocka_unit_test_setup_teardown(the_queue_refuses_bad_descriptors, boot, shut_down),
		cmocka_unit_test_setup_teardown(channel_devices_that_cannot_be_made, boot, shut_down),
		cmocka_unit_test_setup_teardown(the_engine_probe_fails_cleanly, boot, shut_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
