// SPDX-License-Identifier: MIT
// The error paths of the display + GPU prototype (examples/drivers/drm.c) and of the export to the
// codec, driven by fault injection: each failure comes back as an errno, nothing stays allocated or
// mapped in the shared domain, and the sub-devices keep working.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <swiommu/swiommu.h>
#include "swiommu_test.h"
#include "examples_test.h"
#include "drm.h"
#include "mfc.h"

#define DISPLAY	"/soc/display@fe200000"
#define GPU	"/soc/gpu@fe300000"
#define CODEC	"/soc/codec-bus/codec@fe400000"
#define BO	(128 * SZ_1K)

struct bo_attempt {
	unsigned int flags;
	struct sdrm_gem_object *obj;
};

static int try_create(void *arg)
{
	struct bo_attempt *a = arg;

	a->obj = sdrm_gem_create(BO, a->flags);
	return IS_ERR(a->obj) ? (int)PTR_ERR(a->obj) : 0;
}

static void undo_create(void *arg)
{
	struct bo_attempt *a = arg;

	sdrm_gem_free(a->obj);
}

static void bo_creation_fails_cleanly_at_every_point(void **state)
{
	(void)state;
	static const char *const points[] = { "kmalloc", "alloc_pages", "iova", "iommu_map" };
	unsigned long debug = dma_debug_mark();
	struct sdrm_stats st;

	for (unsigned int flags = SDRM_BO_CONTIG; flags <= SDRM_BO_NONCONTIG; flags++) {
		struct bo_attempt a = { .flags = flags };

		assert_int_equal(try_create(&a), 0);
		undo_create(&a);
		for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++)
			assert_true(sweep_fault_point(points[i], try_create, undo_create, &a) >= 1);
	}
	assert_true(swiommu_log_contains("swiommu-drm-display fe200000.display: failed to allocate 131072 byte dma buffer"));
	sdrm_get_stats(&st);
	assert_int_equal(st.objects, 0);
	assert_int_equal(st.bytes, 0);
	expect_dma_debug_clean(debug);
	/* The shared domain still serves both devices. */
	struct bo_attempt ok = { .flags = SDRM_BO_CONTIG };

	assert_int_equal(try_create(&ok), 0);
	assert_int_equal(swiommu_dma_write(dev_at(GPU), 0, ok.obj->dma_addr, "ok", 3), 0);
	assert_string_equal((char *)ok.obj->vaddr, "ok");
	undo_create(&ok);
	assert_exit_leaks_nothing();
}

static void bad_requests_are_refused(void **state)
{
	(void)state;
	assert_int_equal(PTR_ERR(sdrm_gem_create(0, SDRM_BO_CONTIG)), -EINVAL);
	assert_int_equal(PTR_ERR(sdrm_gem_create(BO, 7)), -EINVAL);
}

struct export_attempt {
	struct sdrm_gem_object *obj;
	struct sg_table *sgt;
};

static int try_export(void *arg)
{
	struct export_attempt *e = arg;

	e->sgt = sdrm_gem_get_sg_table(e->obj);
	return IS_ERR(e->sgt) ? (int)PTR_ERR(e->sgt) : 0;
}

static void undo_export(void *arg)
{
	struct export_attempt *e = arg;

	sdrm_gem_put_sg_table(e->sgt);
}

struct import_attempt {
	struct mfc_ctx *ctx;
	struct sg_table *sgt;
	dma_addr_t dma;
};

static int try_import(void *arg)
{
	struct import_attempt *i = arg;

	return mfc_import_frame(i->ctx, i->sgt, BO, &i->dma);
}

static void undo_import(void *arg)
{
	struct import_attempt *i = arg;

	mfc_release_frame(i->ctx, i->sgt);
}

static void export_and_import_fail_cleanly(void **state)
{
	(void)state;
	static const char *const points[] = { "kmalloc", "iova", "iommu_map" };
	struct export_attempt e = { .obj = sdrm_gem_create(BO, SDRM_BO_NONCONTIG) };
	struct import_attempt imp = { .ctx = mfc_open(mfc_from_device(dev_at(CODEC))) };

	assert_false(IS_ERR(e.obj));
	assert_false(IS_ERR(imp.ctx));
	assert_int_equal(try_export(&e), 0);
	undo_export(&e);
	assert_true(sweep_fault_point("kmalloc", try_export, undo_export, &e) >= 1);

	assert_int_equal(try_export(&e), 0);
	imp.sgt = e.sgt;
	assert_int_equal(try_import(&imp), 0);
	undo_import(&imp);
	for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++)
		sweep_fault_point(points[i], try_import, undo_import, &imp);
	assert_true(swiommu_fault_injected("iova") >= 1);
	assert_true(swiommu_log_contains("swiommu-mfc fe400000.codec: failed to map scatterlist: -12"));
	/* After every failure the codec has no mapping of the frame left. */
	assert_int_equal(try_import(&imp), 0);
	assert_int_equal(iommu_iova_to_phys(iommu_get_dma_domain(dev_at(CODEC)), imp.dma),
			 page_to_phys(sg_page(e.sgt->sgl)));
	undo_import(&imp);
	undo_export(&e);
	mfc_release(imp.ctx);
	sdrm_gem_free(e.obj);
	assert_exit_leaks_nothing();
}

static void sub_devices_leave_and_rejoin_the_domain(void **state)
{
	(void)state;
	struct device *display = dev_at(DISPLAY), *gpu = dev_at(GPU);
	struct iommu_domain *mapping = sdrm_mapping();
	struct sdrm_stats st;

	/* The GPU goes: it is detached, back on its own default domain. */
	platform_driver_unregister(&sdrm_gpu_driver);
	assert_ptr_equal(iommu_get_domain_for_dev(gpu), iommu_get_dma_domain(gpu));
	sdrm_get_stats(&st);
	assert_int_equal(st.subdevs, 1);
	/* Its attach to the shared domain fails: the probe fails, nothing stays half-attached. */
	swiommu_fail_nth("attach", 1);
	assert_int_equal(platform_driver_register(&sdrm_gpu_driver), 0);
	assert_false(device_is_bound(gpu));
	assert_true(swiommu_log_contains("swiommu-drm-gpu fe300000.gpu: cannot join the DRM address space of "
					 "fe200000.display: -28"));
	assert_true(swiommu_log_contains("probe with driver swiommu-drm-gpu failed with error -28"));
	assert_ptr_equal(iommu_get_domain_for_dev(gpu), iommu_get_dma_domain(gpu));
	sdrm_get_stats(&st);
	assert_int_equal(st.subdevs, 1);
	platform_driver_unregister(&sdrm_gpu_driver);
	assert_int_equal(platform_driver_register(&sdrm_gpu_driver), 0);
	assert_ptr_equal(iommu_get_domain_for_dev(gpu), mapping);

	/* The DMA device goes: the GPU leaves the shared domain, no buffer can be made. */
	platform_driver_unregister(&sdrm_display_driver);
	assert_null(sdrm_dma_device());
	assert_ptr_equal(iommu_get_domain_for_dev(gpu), iommu_get_dma_domain(gpu));
	assert_int_equal(PTR_ERR(sdrm_gem_create(BO, SDRM_BO_CONTIG)), -ENODEV);
	/* It comes back as the DMA device; the GPU joins when it binds again. */
	assert_int_equal(platform_driver_register(&sdrm_display_driver), 0);
	assert_ptr_equal(sdrm_dma_device(), display);
	platform_driver_unregister(&sdrm_gpu_driver);
	assert_int_equal(platform_driver_register(&sdrm_gpu_driver), 0);
	assert_ptr_equal(iommu_get_domain_for_dev(gpu), mapping);
	assert_exit_leaks_nothing();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(bo_creation_fails_cleanly_at_every_point, boot, shut_down),
		cmocka_unit_test_setup_teardown(bad_requests_are_refused, boot, shut_down),
		cmocka_unit_test_setup_teardown(export_and_import_fail_cleanly, boot, shut_down),
		cmocka_unit_test_setup_teardown(sub_devices_leave_and_rejoin_the_domain, boot, shut_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
