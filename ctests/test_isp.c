// SPDX-License-Identifier: MIT
// The camera ISP prototype (examples/drivers/isp.c), a driver with its own IOMMU domain, and the uio
// prototype (uio.c, dma_client.c), which owns its group's DMA: on the default board, behind the built-in
// Rockchip IOMMU model. The hardware is the test: it writes frames with swiommu_dma_write(). Error paths:
// test_isp_fail.c.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/platform_device.h>
#include <linux/sizes.h>
#include <swiommu/swiommu.h>
#include "swiommu_test.h"
#include "examples_test.h"
#include "isp.h"
#include "uio.h"

#define ISP	"/soc/isp@fe0a0000"
#define UIO	"/soc/uio@fe500000"
#define CLIENT	"/soc/dma-client@fe510000"
#define FRAME	(64 * SZ_1K)

static struct isp_device *the_isp(void)
{
	struct isp_device *isp = isp_from_device(dev_at(ISP));

	assert_non_null(isp);
	return isp;
}

static void probe_attaches_its_own_domain(void **state)
{
	(void)state;
	struct device *dev = dev_at(ISP);
	struct isp_device *isp = the_isp();
	struct iommu_domain *own = isp_domain(isp);

	assert_string_equal(dev_driver_string(dev), "swiommu-isp");
	assert_int_equal(own->type, IOMMU_DOMAIN_UNMANAGED);
	assert_ptr_equal(iommu_get_domain_for_dev(dev), own);
	/* The DMA API still has the group's default domain. */
	assert_ptr_not_equal(iommu_get_dma_domain(dev), own);
	assert_int_equal(iommu_get_dma_domain(dev)->type, IOMMU_DOMAIN_DMA);
	assert_true(dev->dma_iommu);
	assert_true(swiommu_log_contains("swiommu-isp fe0a0000.isp: own IOMMU domain attached, IOVA 0x1000-0xffffffff"));
	assert_null(isp_from_device(dev_at(UIO)));
}

static void buffers_map_into_its_own_iova_space(void **state)
{
	(void)state;
	struct isp_device *isp = the_isp();
	struct iommu_domain *own = isp_domain(isp);
	struct isp_buffer *a = isp_buffer_alloc(isp, FRAME), *b = isp_buffer_alloc(isp, FRAME - 100);
	struct isp_stats st;

	assert_false(IS_ERR(a));
	assert_false(IS_ERR(b));
	assert_int_equal(b->size, FRAME);	/* rounded up to pages */
	/* Below 4 GiB, apart, each followed by an unmapped guard granule. */
	assert_true(a->iova + FRAME < SZ_4G && b->iova + FRAME < SZ_4G);
	assert_true(b->iova + FRAME < a->iova || a->iova + FRAME < b->iova);
	for (size_t off = 0; off < FRAME; off += PAGE_SIZE)
		assert_int_equal(iommu_iova_to_phys(own, a->iova + off + 0x10),
				 page_to_phys(a->pages[off / PAGE_SIZE]) + 0x10);
	assert_int_equal(iommu_iova_to_phys(own, a->iova + FRAME), 0);
	/* The pages are below 4 GiB: the Rockchip IOMMU's v1 tables hold 32-bit addresses. */
	assert_true(page_to_phys(a->pages[0]) < SZ_4G);
	/* The DMA API mapped the table too (for cache maintenance), in the default domain. */
	assert_int_equal(a->sgt.nents, 1);
	assert_int_equal(iommu_iova_to_phys(iommu_get_dma_domain(dev_at(ISP)), sg_dma_address(a->sgt.sgl)),
			 page_to_phys(a->pages[0]));
	isp_get_stats(isp, &st);
	assert_int_equal(st.buffers, 2);
	assert_int_equal(st.mapped_bytes, 2 * FRAME);

	dma_addr_t gone = a->iova;

	isp_buffer_free(isp, a);
	assert_int_equal(iommu_iova_to_phys(own, gone), 0);
	isp_buffer_free(isp, b);
	isp_get_stats(isp, &st);
	assert_int_equal(st.buffers, 0);
	assert_int_equal(st.mapped_bytes, 0);
	assert_int_equal(PTR_ERR(isp_buffer_alloc(isp, 0)), -EINVAL);
}

static void captured_frames_land_in_the_buffer(void **state)
{
	(void)state;
	unsigned long debug = dma_debug_mark();
	struct device *dev = dev_at(ISP);
	struct isp_device *isp = the_isp();
	static u8 frame[FRAME];
	struct isp_stats st;

	for (unsigned int n = 0; n < 3; n++) {
		struct isp_buffer *buf = isp_buffer_alloc(isp, FRAME);

		assert_false(IS_ERR(buf));
		isp_buffer_queue(isp, buf);
		fill_pattern(frame, sizeof(frame), n);
		assert_int_equal(swiommu_dma_write(dev, 0, buf->iova, frame, sizeof(frame)), 0);
		isp_frame_done(isp, buf);
		assert_true(has_pattern(buf->vaddr, FRAME, n));
		assert_memory_equal(page_address(buf->pages[15]), frame + 15 * PAGE_SIZE, PAGE_SIZE);
		isp_buffer_free(isp, buf);
	}
	isp_get_stats(isp, &st);
	assert_int_equal(st.frames, 3);
	assert_int_equal(st.faults, 0);
	assert_int_equal(swiommu_dma_faults(dev), 0);
	expect_dma_debug_clean(debug);
}

static void a_write_past_the_buffer_faults_into_the_handler(void **state)
{
	(void)state;
	struct device *dev = dev_at(ISP);
	struct isp_device *isp = the_isp();
	struct isp_buffer *buf = isp_buffer_alloc(isp, FRAME);
	u8 line[256];
	struct isp_stats st;

	assert_false(IS_ERR(buf));
	fill_pattern(line, sizeof(line), 5);
	isp_buffer_queue(isp, buf);
	/* The line starts inside the buffer and runs 128 bytes past its end. */
	assert_int_equal(swiommu_dma_write(dev, 0, buf->iova + FRAME - 128, line, sizeof(line)), -EFAULT);
	isp_get_stats(isp, &st);
	assert_int_equal(st.faults, 1);
	assert_int_equal(st.last_fault_iova, buf->iova + FRAME);
	assert_int_equal(st.last_fault_flags, IOMMU_FAULT_WRITE);
	assert_memory_equal((u8 *)buf->vaddr + FRAME - 128, line, 128);
	char want[96];

	snprintf(want, sizeof(want), "IOMMU fault at iova %#llx (write): frame dropped",
		 (unsigned long long)(buf->iova + FRAME));
	assert_true(swiommu_log_contains(want));
	/* rk_iommu logs the page fault before it reports it, as upstream does. */
	assert_true(swiommu_log_contains("rk_iommu fe0b0000.iommu: Page fault at"));
	/* A read of an address the ISP never mapped faults too, as a read. */
	assert_int_equal(swiommu_dma_read(dev, 0, 0x1000, line, 4), -EFAULT);
	isp_get_stats(isp, &st);
	assert_int_equal(st.faults, 2);
	assert_int_equal(st.last_fault_iova, 0x1000);
	assert_int_equal(st.last_fault_flags, IOMMU_FAULT_READ);
	assert_int_equal(swiommu_dma_faults(dev), 2);
	isp_buffer_free(isp, buf);
}

static void teardown_leaks_nothing(void **state)
{
	(void)state;
	struct device *dev = dev_at(ISP);
	struct isp_device *isp = the_isp();
	static u8 frame[FRAME];

	/* Two buffers still queued at unbind: remove frees them before the domain goes. */
	for (unsigned int n = 0; n < 2; n++) {
		struct isp_buffer *buf = isp_buffer_alloc(isp, FRAME);

		assert_false(IS_ERR(buf));
		fill_pattern(frame, sizeof(frame), n);
		assert_int_equal(swiommu_dma_write(dev, 0, buf->iova, frame, sizeof(frame)), 0);
	}
	platform_driver_unregister(&isp_driver);
	assert_false(device_is_bound(dev));
	/* Back on its default domain, with the DMA API's. */
	assert_ptr_equal(iommu_get_domain_for_dev(dev), iommu_get_dma_domain(dev));
	assert_int_equal(platform_driver_register(&isp_driver), 0);
	assert_true(device_is_bound(dev));
	assert_ptr_not_equal(iommu_get_domain_for_dev(dev), iommu_get_dma_domain(dev));
	assert_exit_leaks_nothing();
}

static void uio_claim_is_refused_while_a_dma_api_driver_is_bound(void **state)
{
	(void)state;
	struct device *udev = dev_at(UIO), *client = dev_at(CLIENT);
	struct uio_device *uio = uio_from_device(udev);
	struct uio_stats st;
	dma_addr_t buf_dma;

	assert_non_null(uio);
	/* One Rockchip IOMMU, one group: the uio device and the DMA-API client cannot be isolated. */
	assert_ptr_equal(udev->iommu_group, client->iommu_group);
	assert_non_null(dma_client_buffer(client, &buf_dma));
	assert_int_equal(uio_open(uio), -EPERM);
	assert_false(iommu_group_dma_owner_claimed(udev->iommu_group));
	uio_get_stats(uio, &st);
	assert_int_equal(st.refused, 1);
	assert_int_equal(st.opens, 0);
	assert_true(swiommu_log_contains("is in use by a kernel driver (-1)"));
	/* Binding the uio driver itself made no claim on the default domain (driver_managed_dma). */
	assert_ptr_equal(iommu_get_domain_for_dev(udev), iommu_get_dma_domain(udev));
}

static void uio_owns_the_group_once_the_dma_api_driver_is_gone(void **state)
{
	(void)state;
	struct device *udev = dev_at(UIO), *client = dev_at(CLIENT);
	struct uio_device *uio = uio_from_device(udev);
	struct iommu_domain *def = iommu_get_dma_domain(udev);
	struct page *pages[3];
	char back[16] = { 0 };
	struct uio_stats st;

	platform_driver_unregister(&dma_client_driver);
	assert_false(device_is_bound(client));
	assert_int_equal(uio_open(uio), 0);
	assert_int_equal(uio_open(uio), -EBUSY);
	assert_true(iommu_group_dma_owner_claimed(udev->iommu_group));
	struct iommu_domain *container = iommu_get_domain_for_dev(udev);

	assert_ptr_not_equal(container, def);
	assert_int_equal(container->type, IOMMU_DOMAIN_UNMANAGED);
	assert_ptr_equal(iommu_get_domain_for_dev(client), container);

	for (int i = 0; i < 3; i++) {
		pages[i] = alloc_page(GFP_KERNEL | GFP_DMA32 | __GFP_ZERO);
		assert_non_null(pages[i]);
	}
	/* Userspace chooses the IOVAs; a read-only page is refused to the device's writes. */
	assert_int_equal(uio_dma_map(uio, 0x200000, pages, 2, IOMMU_READ | IOMMU_WRITE), 0);
	assert_int_equal(uio_dma_map(uio, 0x300000, &pages[2], 1, IOMMU_READ), 0);
	assert_int_equal(uio_dma_map(uio, 0x201000, &pages[2], 1, IOMMU_READ), -EADDRINUSE);
	assert_int_equal(swiommu_dma_write(udev, 0, 0x201ff0, "userspace", 10), 0);
	assert_string_equal((char *)page_address(pages[1]) + 0xff0, "userspace");
	assert_int_equal(swiommu_dma_write(udev, 0, 0x300000, "ro", 3), -EFAULT);
	/* The group is the unit of isolation: its other device reaches the container too. */
	assert_int_equal(swiommu_dma_read(client, 0, 0x201ff0, back, 10), 0);
	assert_string_equal(back, "userspace");
	uio_get_stats(uio, &st);
	assert_int_equal(st.mapped_bytes, 3 * PAGE_SIZE);
	assert_int_equal(uio_dma_unmap(uio, 0x300000, PAGE_SIZE), PAGE_SIZE);
	uio_get_stats(uio, &st);
	assert_int_equal(st.mapped_bytes, 2 * PAGE_SIZE);

	uio_release(uio);
	assert_false(iommu_group_dma_owner_claimed(udev->iommu_group));
	assert_ptr_equal(iommu_get_domain_for_dev(udev), def);
	assert_int_equal(swiommu_dma_read(udev, 0, 0x201ff0, back, 10), -EFAULT);
	assert_int_equal(uio_dma_map(uio, 0x200000, pages, 1, IOMMU_READ), -EINVAL);
	for (int i = 0; i < 3; i++)
		__free_page(pages[i]);
	assert_int_equal(platform_driver_register(&dma_client_driver), 0);
	assert_true(device_is_bound(client));
}

static void a_dma_api_driver_is_refused_in_an_owned_group(void **state)
{
	(void)state;
	struct device *udev = dev_at(UIO), *client = dev_at(CLIENT);
	struct uio_device *uio = uio_from_device(udev);

	platform_driver_unregister(&dma_client_driver);
	assert_int_equal(uio_open(uio), 0);
	swiommu_log_reset();
	/* The bus's dma_configure refuses the default domain (-EBUSY) before the probe runs. */
	assert_int_equal(platform_driver_register(&dma_client_driver), 0);
	assert_false(device_is_bound(client));
	assert_true(swiommu_log_contains("swiommu-dma-client fe510000.dma-client: probe with driver swiommu-dma-client "
					 "failed with error -16"));
	assert_false(swiommu_log_contains("buffer mapped at"));
	/* Closing gives the group back; the driver binds when it is tried again. */
	uio_release(uio);
	platform_driver_unregister(&dma_client_driver);
	assert_int_equal(platform_driver_register(&dma_client_driver), 0);
	assert_true(device_is_bound(client));
	assert_int_equal(uio_open(uio), -EPERM);
	/* The uio driver's own unbind closes it. */
	platform_driver_unregister(&dma_client_driver);
	assert_int_equal(uio_open(uio), 0);
	platform_driver_unregister(&uio_driver);
	assert_false(iommu_group_dma_owner_claimed(udev->iommu_group));
	assert_int_equal(platform_driver_register(&uio_driver), 0);
	assert_int_equal(platform_driver_register(&dma_client_driver), 0);
	assert_true(device_is_bound(client) && device_is_bound(udev));
	assert_exit_leaks_nothing();
}

static void the_demo_scenario_runs_clean(void **state)
{
	(void)state;
	struct swiommu_example_report r;
	int ret = swiommu_example_isp_run(&r);

	assert_scenario_clean(&r, ret);
	assert_int_equal(r.transfers, 6);
	assert_int_equal(r.faults, 1);
	assert_int_equal(r.errors, 2);
	assert_int_equal(r.iova_ranges, 5);
	assert_true(r.iotlb_model);
	assert_true(r.iotlb_misses > 0 && r.iotlb_invalidations > 0);
	assert_true(r.iotlb_lookups == r.iotlb_hits + r.iotlb_misses);
	/* It leaves the machine as it found it: the client bound, the group unowned; it runs again. */
	assert_true(device_is_bound(dev_at(CLIENT)));
	assert_false(iommu_group_dma_owner_claimed(dev_at(UIO)->iommu_group));
	assert_int_equal(swiommu_example_isp_run(&r), 0);
	assert_exit_leaks_nothing();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(probe_attaches_its_own_domain, boot, shut_down),
		cmocka_unit_test_setup_teardown(buffers_map_into_its_own_iova_space, boot, shut_down),
		cmocka_unit_test_setup_teardown(captured_frames_land_in_the_buffer, boot, shut_down),
		cmocka_unit_test_setup_teardown(a_write_past_the_buffer_faults_into_the_handler, boot, shut_down),
		cmocka_unit_test_setup_teardown(teardown_leaks_nothing, boot, shut_down),
		cmocka_unit_test_setup_teardown(uio_claim_is_refused_while_a_dma_api_driver_is_bound, boot, shut_down),
		cmocka_unit_test_setup_teardown(uio_owns_the_group_once_the_dma_api_driver_is_gone, boot, shut_down),
		cmocka_unit_test_setup_teardown(a_dma_api_driver_is_refused_in_an_owned_group, boot, shut_down),
		cmocka_unit_test_setup_teardown(the_demo_scenario_runs_clean, boot, shut_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
