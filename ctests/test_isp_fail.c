// SPDX-License-Identifier: MIT
// The error paths of the ISP and uio prototypes (examples/drivers/isp.c, uio.c), driven by fault
// injection: every allocation, IOVA, IOMMU map and attach they make fails in turn, and each failure must
// come back as an errno with nothing left allocated, mapped or owned.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
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

struct alloc_attempt {
	struct isp_device *isp;
	struct isp_buffer *buf;
};

static int try_buffer_alloc(void *arg)
{
	struct alloc_attempt *a = arg;

	a->buf = isp_buffer_alloc(a->isp, FRAME);
	return IS_ERR(a->buf) ? (int)PTR_ERR(a->buf) : 0;
}

static void undo_buffer_alloc(void *arg)
{
	struct alloc_attempt *a = arg;

	isp_buffer_free(a->isp, a->buf);
}

static void buffer_alloc_fails_cleanly_at_every_point(void **state)
{
	(void)state;
	unsigned long debug = dma_debug_mark();
	struct alloc_attempt a = { .isp = isp_from_device(dev_at(ISP)) };
	static const char *const points[] = { "kmalloc", "alloc_pages", "iova", "iommu_map" };
	struct isp_stats st;

	assert_non_null(a.isp);
	/* Warm-up: the tables and caches the first buffer fills stay. */
	assert_int_equal(try_buffer_alloc(&a), 0);
	undo_buffer_alloc(&a);
	for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++)
		assert_true(sweep_fault_point(points[i], try_buffer_alloc, undo_buffer_alloc, &a) >= 1);
	isp_get_stats(a.isp, &st);
	assert_int_equal(st.buffers, 0);
	assert_int_equal(st.mapped_bytes, 0);
	expect_dma_debug_clean(debug);
}

static void each_failure_says_what_failed(void **state)
{
	(void)state;
	struct isp_device *isp = isp_from_device(dev_at(ISP));

	/* The first IOVA and map are the DMA API's (dma_map_sgtable); the second ones are the ISP's own. */
	swiommu_fail_nth("iova", 2);
	assert_int_equal(PTR_ERR(isp_buffer_alloc(isp, FRAME)), -ENOMEM);
	assert_true(swiommu_log_contains("swiommu-isp fe0a0000.isp: out of I/O virtual memory"));
	/* iommu_map_sgtable() must map the whole buffer: its error is the size it reports. */
	swiommu_fail_nth("iommu_map", 2);
	assert_int_equal(PTR_ERR(isp_buffer_alloc(isp, FRAME)), -ENOMEM);
	assert_true(swiommu_log_contains("failed to map buffer: size=-12 request_size=65536"));
	swiommu_fail_nth("iova", 0);
	swiommu_fail_nth("iommu_map", 0);
	assert_exit_leaks_nothing();
}

static void probe_fails_cleanly_at_every_point(void **state)
{
	(void)state;
	struct bind_attempt p = { .driver = &isp_driver, .dev = dev_at(ISP) };
	static const char *const points[] = { "kmalloc", "alloc_pages", "attach" };

	platform_driver_unregister(&isp_driver);
	assert_int_equal(try_bind(&p), 0);
	undo_bind(&p);
	for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
		assert_true(sweep_fault_point(points[i], try_bind, undo_bind, &p) >= 1);
		/* A failed probe left the device on its default domain. */
		assert_ptr_equal(iommu_get_domain_for_dev(p.dev), iommu_get_dma_domain(p.dev));
	}
	assert_true(swiommu_log_contains("swiommu-isp fe0a0000.isp: Failed to attach iommu device"));
	assert_true(swiommu_log_contains("probe with driver swiommu-isp failed with error -28"));
	assert_int_equal(platform_driver_register(&isp_driver), 0);
	assert_exit_leaks_nothing();
}

static void a_deferred_probe_binds_later(void **state)
{
	(void)state;
	struct device *dev = dev_at(ISP);

	platform_driver_unregister(&isp_driver);
	swiommu_fail_nth("probe", 1);
	assert_int_equal(platform_driver_register(&isp_driver), 0);
	assert_false(device_is_bound(dev));
	assert_true(swiommu_log_contains("Driver swiommu-isp requests probe deferral"));
	/* Another driver binding retries deferred probes, as driver_deferred_probe_trigger() does. */
	platform_driver_unregister(&dma_client_driver);
	assert_int_equal(platform_driver_register(&dma_client_driver), 0);
	assert_true(device_is_bound(dev));
	assert_non_null(isp_from_device(dev));
}

static void uio_open_gives_the_group_back_when_it_fails(void **state)
{
	(void)state;
	struct device *udev = dev_at(UIO);
	struct uio_device *uio = uio_from_device(udev);
	struct iommu_domain *def = iommu_get_dma_domain(udev);

	platform_driver_unregister(&dma_client_driver);
	/* The container's attach fails: ownership goes back, the domain is freed. */
	swiommu_fail_nth("attach", 1);
	assert_int_equal(uio_open(uio), -ENOSPC);
	assert_false(iommu_group_dma_owner_claimed(udev->iommu_group));
	assert_ptr_equal(iommu_get_domain_for_dev(udev), def);
	/* The container's table cannot be allocated. */
	swiommu_fail_nth("alloc_pages", 1);
	assert_true(uio_open(uio) < 0);
	assert_false(iommu_group_dma_owner_claimed(udev->iommu_group));
	assert_int_equal(uio_open(uio), 0);
	uio_release(uio);
	assert_int_equal(platform_driver_register(&dma_client_driver), 0);
	assert_exit_leaks_nothing();
}

static void uio_map_rolls_back_a_partial_map(void **state)
{
	(void)state;
	struct device *udev = dev_at(UIO);
	struct uio_device *uio = uio_from_device(udev);
	struct page *pages[4];
	struct uio_stats st;
	char byte;

	platform_driver_unregister(&dma_client_driver);
	assert_int_equal(uio_open(uio), 0);
	for (int i = 0; i < 4; i++)
		pages[i] = alloc_page(GFP_KERNEL | GFP_DMA32);
	/* The third page's map fails: the two before it go again. */
	swiommu_fail_nth("iommu_map", 3);
	assert_int_equal(uio_dma_map(uio, 0x400000, pages, 4, IOMMU_READ), -ENOMEM);
	assert_int_equal(iommu_iova_to_phys(iommu_get_domain_for_dev(udev), 0x400000), 0);
	assert_int_equal(iommu_iova_to_phys(iommu_get_domain_for_dev(udev), 0x401000), 0);
	assert_int_equal(swiommu_dma_read(udev, 0, 0x400000, &byte, 1), -EFAULT);
	uio_get_stats(uio, &st);
	assert_int_equal(st.mapped_bytes, 0);
	/* Nothing mapped there, nothing to unmap; a closed device maps nothing. */
	assert_int_equal(uio_dma_unmap(uio, 0x400000, PAGE_SIZE), 0);
	uio_release(uio);
	assert_int_equal(uio_dma_unmap(uio, 0x400000, PAGE_SIZE), 0);
	for (int i = 0; i < 4; i++)
		__free_page(pages[i]);
	assert_int_equal(platform_driver_register(&dma_client_driver), 0);
	assert_exit_leaks_nothing();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(buffer_alloc_fails_cleanly_at_every_point, boot, shut_down),
		cmocka_unit_test_setup_teardown(each_failure_says_what_failed, boot, shut_down),
		cmocka_unit_test_setup_teardown(probe_fails_cleanly_at_every_point, boot, shut_down),
		cmocka_unit_test_setup_teardown(a_deferred_probe_binds_later, boot, shut_down),
		cmocka_unit_test_setup_teardown(uio_open_gives_the_group_back_when_it_fails, boot, shut_down),
		cmocka_unit_test_setup_teardown(uio_map_rolls_back_a_partial_map, boot, shut_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
